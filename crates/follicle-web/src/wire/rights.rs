//! The data-rights answers: an erasure, an import, the retention job's reports.

use std::collections::BTreeMap;

use follicle_store as store;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

/// An erasure request, confirmed.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// The client's name exactly as recorded: erasure cannot be undone.
    pub confirm_name: String,
}

/// What an erasure did: what is gone, what the law keeps, until when, and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErasureAnswer {
    /// The client.
    pub client_id: Uuid,
    /// True when nothing is held by law: no record of the client is left.
    pub erased_completely: bool,
    /// Records removed, by kind.
    pub removed: BTreeMap<String, u64>,
    /// Records kept under the clinic's legal hold (settings `[records]`), by kind.
    pub kept: BTreeMap<String, u64>,
    /// The day the hold ends, when something is kept.
    pub kept_until: Option<Date>,
    /// In words: what was erased, what is kept, why and until when.
    pub explanation: String,
}

impl From<store::ErasureReport> for ErasureAnswer {
    fn from(r: store::ErasureReport) -> ErasureAnswer {
        let store::ErasureReport {
            client_id,
            erased_completely,
            removed,
            kept,
            kept_until,
            explanation,
        } = r;
        ErasureAnswer {
            client_id,
            erased_completely,
            removed,
            kept,
            kept_until,
            explanation,
        }
    }
}

/// Clients and appointments to import, as CSV text.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    /// `clients.csv`: a header line with `name` and any of `ref`, `date_of_birth`
    /// (YYYY-MM-DD), `age_years`, `phone`, `email`, `notes`; empty for none.
    #[serde(default)]
    pub clients_csv: String,
    /// `appointments.csv`: `client_ref` (a `ref` of clients.csv) or `client_email` (a client
    /// already in the clinic), `starts_at` (RFC 3339), `duration_minutes`, and optionally
    /// `status`, `notes`; empty for none.
    #[serde(default)]
    pub appointments_csv: String,
    /// Check only: report every mistake, save nothing.
    pub dry_run: bool,
}

/// One mistake of an import, by file, line and column.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportErrorAnswer {
    /// `clients.csv` or `appointments.csv`.
    pub file: String,
    /// The line (the header is line 1).
    pub line: u64,
    /// The column.
    pub column: String,
    /// The value found.
    pub value: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

/// What an import did, or would do.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportAnswer {
    /// Nothing was to be saved.
    pub dry_run: bool,
    /// The rows were saved (never on a dry run or with any mistake).
    pub saved: bool,
    /// Clients read without a mistake.
    pub clients: u64,
    /// Appointments read without a mistake.
    pub appointments: u64,
    /// Every mistake.
    pub errors: Vec<ImportErrorAnswer>,
}

impl From<store::ImportReport> for ImportAnswer {
    fn from(r: store::ImportReport) -> ImportAnswer {
        let store::ImportReport {
            dry_run,
            saved,
            clients,
            appointments,
            errors,
        } = r;
        ImportAnswer {
            dry_run,
            saved,
            clients,
            appointments,
            errors: errors
                .into_iter()
                .map(|e| ImportErrorAnswer {
                    file: e.file,
                    line: e.line,
                    column: e.column,
                    value: e.value,
                    message: e.message,
                })
                .collect(),
        }
    }
}

/// One client in a retention report.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionEntryAnswer {
    /// On a dry run, the client's id and name; after a real run nobody is named.
    pub client_id: Option<Uuid>,
    /// On a dry run, the client's name.
    pub client_name: Option<String>,
    /// The year of their last activity.
    pub last_activity_year: i32,
    /// Photos deleted (or to delete).
    pub photos: u64,
    /// `retention` or `erasure`.
    pub reason: String,
    /// For a client held back by the legal hold: the day it ends.
    pub kept_until: Option<Date>,
}

/// One run of the retention job in the clinic.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionReportAnswer {
    /// Its id.
    pub id: Uuid,
    /// When it ran.
    #[serde(with = "time::serde::rfc3339")]
    pub run_at: OffsetDateTime,
    /// A dry run changed nothing.
    pub dry_run: bool,
    /// The clinic's retention period then, years.
    pub retention_years: i64,
    /// Clients anonymised (or to anonymise).
    pub anonymised: Vec<RetentionEntryAnswer>,
    /// Clients past the period whose records the legal hold still keeps.
    pub held: Vec<RetentionEntryAnswer>,
}

impl From<store::RetentionEntry> for RetentionEntryAnswer {
    fn from(e: store::RetentionEntry) -> RetentionEntryAnswer {
        let (client_id, client_name) = match e.client {
            Some((id, name)) => (Some(id), Some(name)),
            None => (None, None),
        };
        RetentionEntryAnswer {
            client_id,
            client_name,
            last_activity_year: e.last_activity_year,
            photos: e.photos,
            reason: e.reason,
            kept_until: e.kept_until,
        }
    }
}

impl From<store::RetentionReport> for RetentionReportAnswer {
    fn from(r: store::RetentionReport) -> RetentionReportAnswer {
        RetentionReportAnswer {
            id: r.id,
            run_at: r.run_at,
            dry_run: r.dry_run,
            retention_years: r.retention_years,
            anonymised: r.anonymised.into_iter().map(Into::into).collect(),
            held: r.held.into_iter().map(Into::into).collect(),
        }
    }
}
