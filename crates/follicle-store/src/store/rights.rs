//! A client's data rights and the clinic's retention period: erasure on request under the
//! clinic's legal hold, and the retention job that anonymises clients whose last activity is
//! older than the clinic's `retention_years`.
//!
//! **Anonymising** a client removes every record that names or describes them — the client
//! row (name, contact, date of birth, notes), consultations (the client file), designs,
//! appointments, session logs, consents — and deletes their photos from the object store. What
//! is kept is one row of `anonymous_statistics`: the hair-loss scale and stage, the verdict,
//! sessions planned and performed, and the first and last year of care — no id, no name, no
//! date finer than a year. The audit trail keeps its rows (who did what, when, to a client id
//! that no longer resolves to anyone), with one more saying the client was anonymised.
//!
//! **The legal hold** (settings `[records]`: which kinds of record, how many years after the
//! last session) is what the law makes a clinic keep even when the client asks for erasure
//! (GDPR Art. 17(3)(b) and (e)). An erasure request erases everything else at once, keeps the
//! held records with the name and contact needed to reach the client (a pigment recall, a
//! claim), and marks the client; the retention job anonymises them when the hold ends.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::types::Json;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{Store, audit_insert, now, on_db};
use crate::auth::Actor;
use crate::error::{StoreError, StoreResult};
use crate::model::AuditAction;
use crate::role::{Action, Role};

/// What a clinic keeps by law when a client asks for erasure: the settings' `[records]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalHold {
    /// The kinds of record held: `consents`, `session_logs`, `consultations`, `appointments`.
    pub held: Vec<String>,
    /// How long, in years after the client's last session.
    pub hold_years: u32,
    /// Where the rule comes from.
    pub source: String,
}

impl LegalHold {
    /// The legal hold of a clinic's settings file (over the defaults). A file that no longer
    /// reads keeps the defaults' hold, the safer side.
    pub fn of_clinic(settings_toml: &str) -> LegalHold {
        let settings = follicle_core::Settings::with_overrides(settings_toml).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the clinic's settings do not read; the default legal hold applies");
            follicle_core::Settings::defaults().clone()
        });
        LegalHold {
            held: settings.records.held.clone(),
            hold_years: settings.records.hold_years,
            source: settings.records.source.clone(),
        }
    }

    fn holds(&self, kind: &str) -> bool {
        self.held.iter().any(|k| k == kind)
    }
}

/// The answer to an erasure request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureReport {
    /// The client.
    pub client_id: Uuid,
    /// True when nothing is held: the client is anonymised, no record of them is left.
    pub erased_completely: bool,
    /// Records removed, by kind (`photos`, `designs`, `consultations`, …).
    pub removed: BTreeMap<String, u64>,
    /// Records kept under the legal hold, by kind.
    pub kept: BTreeMap<String, u64>,
    /// The day the hold ends, when something is kept; the retention job anonymises the rest
    /// on its first run from that day.
    pub kept_until: Option<Date>,
    /// In words, for the client and the owner: what was erased, what is kept, why, until when.
    pub explanation: String,
}

/// One client the retention job anonymised (or would, on a dry run), or held back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionEntry {
    /// The client's id and name: on a dry run only (after a real run no one is named).
    pub client: Option<(Uuid, String)>,
    /// The year of their last activity (a visit, a record, a change).
    pub last_activity_year: i32,
    /// Photos deleted (or to delete).
    pub photos: u64,
    /// `retention` (older than the retention period) or `erasure` (asked for, hold ended).
    pub reason: String,
    /// For a client held back: the day the legal hold ends.
    pub kept_until: Option<Date>,
}

/// What one run of the retention job did in one clinic; stored, and listed for the owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionReport {
    /// Its id.
    pub id: Uuid,
    /// The clinic.
    pub clinic_id: Uuid,
    /// When the job ran.
    #[serde(with = "time::serde::rfc3339")]
    pub run_at: OffsetDateTime,
    /// A dry run changes nothing and names the clients it would anonymise.
    pub dry_run: bool,
    /// The clinic's retention period, years.
    pub retention_years: i64,
    /// Clients anonymised (or to anonymise).
    pub anonymised: Vec<RetentionEntry>,
    /// Clients past the retention period whose records the legal hold still keeps.
    pub held: Vec<RetentionEntry>,
}

/// What the store knows about one client's activity.
#[derive(Debug, Default)]
struct Facts {
    counts: BTreeMap<&'static str, i64>,
    last: BTreeMap<&'static str, Date>,
    erasure_requested: bool,
}

impl Facts {
    fn count(&self, kind: &str) -> i64 {
        self.counts.get(kind).copied().unwrap_or(0)
    }

    /// The last day anything happened to the client.
    fn last_activity(&self) -> Option<Date> {
        self.last.values().max().copied()
    }

    /// The day the legal hold ends, when the client has a held record: `hold_years` after
    /// the last session, or after the latest held record when that is later (a consent
    /// signed, no session yet).
    fn hold_until(&self, hold: &LegalHold) -> Option<Date> {
        let held: Vec<&str> = hold
            .held
            .iter()
            .map(String::as_str)
            .filter(|k| self.count(k) > 0)
            .collect();
        if held.is_empty() {
            return None;
        }
        let anchor = held
            .iter()
            .chain(["session_logs"].iter())
            .filter_map(|k| self.last.get(k))
            .max()?;
        Some(add_years(*anchor, i64::from(hold.hold_years)))
    }
}

/// `date` plus whole years; 29 February becomes 28 February in a common year.
pub(crate) fn add_years(date: Date, years: i64) -> Date {
    let year = i32::try_from(i64::from(date.year()) + years)
        .unwrap_or(9999)
        .min(9999);
    date.replace_year(year)
        .or_else(|_| date.replace_day(28).and_then(|d| d.replace_year(year)))
        .unwrap_or(Date::MAX)
}

/// Deletes the withdrawals of a client's signed consents (`$1` clinic, `$2` client).
const WITHDRAWALS_GONE: &str = "DELETE FROM consent_withdrawals WHERE clinic_id = $1 AND consent_id IN \
     (SELECT id FROM signed_consents WHERE clinic_id = $1 AND client_id = $2)";

/// The kinds of record counted, their table and the column that dates them.
const KINDS: [(&str, &str, &str); 8] = [
    ("photos", "photos", "taken_at"),
    ("designs", "designs", "created_at"),
    ("consultations", "consultations", "created_at"),
    ("session_logs", "session_logs", "performed_on"),
    ("consents", "consents", "signed_at"),
    ("appointments", "appointments", "starts_at"),
    ("payments", "payments", "recorded_at"),
    ("audit", "audit_log", "at"),
];

fn kind_words(kind: &str) -> &str {
    match kind {
        "session_logs" => "session logs",
        "photos" => "photos",
        "designs" => "designs",
        "consultations" => "consultations",
        "consents" => "consents",
        "appointments" => "appointments",
        "payments" => "payments and receipts",
        "notes" => "free-text notes and date of birth",
        other => other,
    }
}

fn list(counts: &BTreeMap<String, u64>) -> String {
    let parts: Vec<String> = counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{n} {}", kind_words(k)))
        .collect();
    if parts.is_empty() {
        "nothing".to_owned()
    } else {
        parts.join(", ")
    }
}

/// What [`Store::anonymise`] keeps of a client.
struct StatisticsRow {
    reason: String,
    scale: String,
    stage: String,
    verdict: String,
    planned: i64,
    performed: i64,
    first_year: Option<i64>,
    last_year: Option<i64>,
    year: i64,
}

macro_rules! statistics_insert {
    ($actor:expr, $row:expr) => {
        sqlx::query(
            "INSERT INTO anonymous_statistics (clinic_id, reason, scale, stage, verdict, sessions_planned, sessions_performed, \
             first_year, last_year, anonymised_year) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind($actor.clinic_id)
        .bind(&$row.reason)
        .bind(&$row.scale)
        .bind(&$row.stage)
        .bind(&$row.verdict)
        .bind($row.planned)
        .bind($row.performed)
        .bind($row.first_year)
        .bind($row.last_year)
        .bind($row.year)
    };
}

impl Store {
    async fn statistics_row(
        &self,
        clinic_id: Uuid,
        client_id: Uuid,
        reason: &str,
        facts: &Facts,
        today: Date,
    ) -> StoreResult<StatisticsRow> {
        let (scale, stage, verdict, planned) = self.statistics(clinic_id, client_id).await?;
        Ok(StatisticsRow {
            reason: reason.to_owned(),
            scale,
            stage,
            verdict,
            planned,
            performed: facts.count("session_logs"),
            first_year: facts.last.values().min().map(|d| i64::from(d.year())),
            last_year: facts.last_activity().map(|d| i64::from(d.year())),
            year: i64::from(today.year()),
        })
    }

    async fn facts(&self, clinic_id: Uuid, client_id: Uuid) -> StoreResult<Facts> {
        let mut facts = Facts::default();
        let row: Option<(OffsetDateTime, Option<OffsetDateTime>)> = on_db!(self, pool => {
            sqlx::query_as("SELECT updated_at, erasure_requested_at FROM clients WHERE clinic_id = $1 AND id = $2")
                .bind(clinic_id).bind(client_id).fetch_optional(pool).await?
        });
        let (updated_at, erasure) = row.ok_or_else(|| StoreError::not_found("client"))?;
        facts.erasure_requested = erasure.is_some();
        facts.last.insert("client", updated_at.date());
        for (kind, table, column) in KINDS {
            // Table and column names are this module's constants, never input.
            let sql = format!(
                "SELECT COUNT(*), MAX({column}) FROM {table} WHERE clinic_id = $1 AND client_id = $2"
            );
            let (count, last): (i64, Option<Date>) = if column == "performed_on" {
                on_db!(self, pool => {
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(clinic_id).bind(client_id).fetch_one(pool).await?
                })
            } else {
                let (count, last): (i64, Option<OffsetDateTime>) = on_db!(self, pool => {
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(clinic_id).bind(client_id).fetch_one(pool).await?
                });
                (count, last.map(|t| t.date()))
            };
            facts.counts.insert(kind, count);
            // The audit trail counts reads; a read is not activity that renews the period.
            if let (Some(last), true) = (last, kind != "audit") {
                facts.last.insert(kind, last);
            }
        }
        Ok(facts)
    }

    /// The anonymous statistics of a client: scale and stage from the latest client file,
    /// verdict and sessions planned from its plan.
    async fn statistics(
        &self,
        clinic_id: Uuid,
        client_id: Uuid,
    ) -> StoreResult<(String, String, String, i64)> {
        let row: Option<(Option<String>, Json<Value>)> = on_db!(self, pool => {
            sqlx::query_as("SELECT profile_toml, plan FROM consultations WHERE clinic_id = $1 AND client_id = $2 ORDER BY version DESC LIMIT 1")
                .bind(clinic_id).bind(client_id).fetch_optional(pool).await?
        });
        let Some((profile, plan)) = row else {
            return Ok((String::new(), String::new(), String::new(), 0));
        };
        let loss = profile
            .and_then(|text| text.parse::<toml::Table>().ok())
            .and_then(|t| t.get("hair_loss").and_then(|h| h.as_table()).cloned())
            .unwrap_or_default();
        let word = |key: &str| match loss.get(key) {
            Some(toml::Value::String(s)) => s.chars().take(40).collect(),
            Some(toml::Value::Integer(i)) => i.to_string(),
            _ => String::new(),
        };
        let verdict = plan
            .0
            .get("verdict")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .chars()
            .take(40)
            .collect();
        let planned = plan
            .0
            .get("sessions")
            .and_then(Value::as_array)
            .map_or(0, |s| s.len() as i64);
        Ok((word("scale"), word("stage"), verdict, planned))
    }

    /// Anonymises a client (see the module): statistics kept, every record deleted in one
    /// transaction with its audit row, then the photo bytes. Gives the photos deleted.
    async fn anonymise(
        &self,
        actor: &Actor,
        client_id: Uuid,
        reason: &str,
        facts: &Facts,
        today: Date,
        statistics: bool,
    ) -> StoreResult<u64> {
        let row = self
            .statistics_row(actor.clinic_id, client_id, reason, facts, today)
            .await?;
        let keys: Vec<(String,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT blob_key FROM photos WHERE clinic_id = $1 AND client_id = $2")
                .bind(actor.clinic_id).bind(client_id).fetch_all(pool).await?
        });
        let detail = format!(
            "anonymised ({reason}): identity, records and {} photos removed; anonymous statistics kept",
            keys.len()
        );
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            if statistics {
                statistics_insert!(actor, row).execute(&mut *tx).await?;
            }
            // The client's requests to move a visit, before the visits they name.
            sqlx::query("DELETE FROM move_requests WHERE clinic_id = $1 AND client_id = $2")
                .bind(actor.clinic_id).bind(client_id).execute(&mut *tx).await?;
            // Children before parents: photos name sessions and consents, designs name
            // consultations, session logs name appointments.
            sqlx::query(WITHDRAWALS_GONE).bind(actor.clinic_id).bind(client_id).execute(&mut *tx).await?;
            for table in [
                "calendar_feeds", "messages", "jobs", "payments", "photos", "signed_consents", "portal_links", "portal_sessions", "intakes", "booking_requests",
                "designs",
                "session_logs", "consultations", "consents", "appointments",
            ] {
                let sql = format!("DELETE FROM {table} WHERE clinic_id = $1 AND client_id = $2");
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(actor.clinic_id).bind(client_id).execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM clients WHERE clinic_id = $1 AND id = $2")
                .bind(actor.clinic_id).bind(client_id).execute(&mut *tx).await?;
            audit_insert!(actor, Some(client_id), AuditAction::Deleted, &detail).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        let mut deleted = 0;
        for (key,) in &keys {
            match self.blobs.delete(key).await {
                Ok(()) => deleted += 1,
                Err(e) => {
                    tracing::error!(error = %e, key, "an anonymised client's photo could not be deleted")
                }
            }
        }
        Ok(deleted)
    }

    /// Erases a client on their request (owners only), keeping what the clinic's legal hold
    /// makes it keep ([`LegalHold`], from the clinic's settings) and saying so. With nothing
    /// held the client is anonymised at once. Audited either way.
    pub async fn erase_client(
        &self,
        actor: &Actor,
        client_id: Uuid,
        today: Date,
    ) -> StoreResult<ErasureReport> {
        actor.require(Action::DeleteClients)?;
        self.ensure_client(actor, client_id).await?;
        let clinic = self.clinic(actor).await?;
        let hold = LegalHold::of_clinic(&clinic.settings_toml);
        let facts = self.facts(actor.clinic_id, client_id).await?;
        let kept_until = facts.hold_until(&hold).filter(|until| *until > today);
        let counted = |kinds: &[&str]| -> BTreeMap<String, u64> {
            kinds
                .iter()
                .map(|k| ((*k).to_owned(), facts.count(k).max(0) as u64))
                .collect()
        };
        let Some(until) = kept_until else {
            let photos = self
                .anonymise(actor, client_id, "erasure", &facts, today, true)
                .await?;
            let mut removed = counted(&[
                "designs",
                "consultations",
                "session_logs",
                "consents",
                "appointments",
                "payments",
            ]);
            removed.insert("photos".to_owned(), photos);
            let explanation = format!(
                "Erased: {}, the client's name, contact details and notes. Nothing is held by law \
                 (records.held = [{}], {} years after the last session). Kept: anonymous statistics \
                 (hair-loss stage, sessions, years) and the audit trail, which names no one.",
                list(&removed),
                hold.held.join(", "),
                hold.hold_years
            );
            return Ok(ErasureReport {
                client_id,
                erased_completely: true,
                removed,
                kept: BTreeMap::new(),
                kept_until: None,
                explanation,
            });
        };
        let keys: Vec<(String,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT blob_key FROM photos WHERE clinic_id = $1 AND client_id = $2")
                .bind(actor.clinic_id).bind(client_id).fetch_all(pool).await?
        });
        let mut removed = BTreeMap::new();
        let mut kept = BTreeMap::new();
        for kind in [
            "designs",
            "consultations",
            "session_logs",
            "consents",
            "appointments",
            "payments",
        ] {
            let n = facts.count(kind).max(0) as u64;
            if hold.holds(kind) && kind != "designs" {
                kept.insert(kind.to_owned(), n);
            } else {
                removed.insert(kind.to_owned(), n);
            }
        }
        removed.insert("photos".to_owned(), keys.len() as u64);
        removed.insert("notes".to_owned(), 1);
        // The anonymous statistics are taken now, while the consultation is still there; the
        // retention job that ends the hold adds none.
        let row = self
            .statistics_row(actor.clinic_id, client_id, "erasure", &facts, today)
            .await?;
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            statistics_insert!(actor, row).execute(&mut *tx).await?;
            // The client's requests to move a visit go whatever is held: words about their diary,
            // not a clinical record (and before the visits they name).
            sqlx::query("DELETE FROM move_requests WHERE clinic_id = $1 AND client_id = $2")
                .bind(actor.clinic_id).bind(client_id).execute(&mut *tx).await?;

            let gone = |table: &str| format!("DELETE FROM {table} WHERE clinic_id = $1 AND client_id = $2");
            // The messages sent and still to send go with the contact details they were for, and
            // so does the calendar feed's address. So do the client's ways into their portal.
            for table in ["calendar_feeds", "messages", "jobs", "photos", "designs", "portal_links", "portal_sessions", "booking_requests"] {
                sqlx::query(sqlx::AssertSqlSafe(gone(table))).bind(actor.clinic_id).bind(client_id).execute(&mut *tx).await?;
            }
            // Signed consents (and their withdrawals) are consents: held with them, or gone.
            if !hold.holds("consents") {
                sqlx::query(WITHDRAWALS_GONE).bind(actor.clinic_id).bind(client_id).execute(&mut *tx).await?;
                sqlx::query(sqlx::AssertSqlSafe(gone("signed_consents"))).bind(actor.clinic_id).bind(client_id).execute(&mut *tx).await?;
            }
            // The intake is the consultation's medical questions: held with consultations.
            if !hold.holds("consultations") {
                sqlx::query(sqlx::AssertSqlSafe(gone("intakes"))).bind(actor.clinic_id).bind(client_id).execute(&mut *tx).await?;
            }
            // Payments and their receipts are the clinic's accounts: held when the clinic keeps
            // them (tax law asks for years), or gone.
            for table in ["payments", "session_logs", "consultations", "consents"] {
                if !hold.holds(table) {
                    sqlx::query(sqlx::AssertSqlSafe(gone(table))).bind(actor.clinic_id).bind(client_id).execute(&mut *tx).await?;
                }
            }
            if !hold.holds("appointments") {
                // Appointments a held session log or payment points to stay with it.
                let done = sqlx::query(
                    "DELETE FROM appointments WHERE clinic_id = $1 AND client_id = $2 AND id NOT IN \
                     (SELECT appointment_id FROM session_logs WHERE clinic_id = $1 AND client_id = $2 AND appointment_id IS NOT NULL) \
                     AND id NOT IN \
                     (SELECT appointment_id FROM payments WHERE clinic_id = $1 AND client_id = $2 AND appointment_id IS NOT NULL)",
                )
                .bind(actor.clinic_id).bind(client_id).execute(&mut *tx).await?.rows_affected();
                let all = facts.count("appointments").max(0) as u64;
                removed.insert("appointments".to_owned(), done);
                if all > done {
                    kept.insert("appointments".to_owned(), all - done);
                }
            }
            sqlx::query(
                "UPDATE clients SET notes = '', date_of_birth = NULL, age_years = NULL, erasure_requested_at = $1, updated_at = $1 \
                 WHERE clinic_id = $2 AND id = $3",
            )
            .bind(now()).bind(actor.clinic_id).bind(client_id).execute(&mut *tx).await?;
            let detail = format!("erasure on request: removed {}; kept under the legal hold until {until}: {}", list(&removed), list(&kept));
            audit_insert!(actor, Some(client_id), AuditAction::Deleted, &detail).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        for (key,) in &keys {
            if let Err(e) = self.blobs.delete(key).await {
                tracing::error!(error = %e, key, "an erased client's photo could not be deleted");
            }
        }
        let explanation = format!(
            "Erased now: {}. Kept until {until}, because the law makes the clinic keep them ({} years after \
             the last session; {}): {}, with the client's name and contact details so that the clinic can \
             reach them in a pigment recall or answer a claim. On that day the retention job anonymises \
             the rest.",
            list(&removed),
            hold.hold_years,
            hold.source,
            list(&kept)
        );
        Ok(ErasureReport {
            client_id,
            erased_completely: false,
            removed,
            kept,
            kept_until: Some(until),
            explanation,
        })
    }

    /// Runs the retention job over every clinic (the operator's: a scheduled task in the
    /// server, `follicle retention run`): anonymises each client whose last activity is more
    /// than the clinic's `retention_years` before `today` — or who asked for erasure and whose
    /// legal hold has ended — unless the legal hold still keeps their records. Stores and
    /// gives one report per clinic. A dry run changes nothing but the stored report.
    pub async fn run_retention(&self, today: Date, dry_run: bool) -> StoreResult<Vec<RetentionReport>> {
        let clinics: Vec<(Uuid, i64, String)> = on_db!(self, pool => {
            sqlx::query_as("SELECT id, retention_years, settings_toml FROM clinics ORDER BY created_at, id")
                .fetch_all(pool).await?
        });
        let mut reports = Vec::new();
        for (clinic_id, retention_years, settings_toml) in clinics {
            // The job acts as the clinic's first owner: the report is theirs, and the audit
            // trail names who is answerable.
            let owner: Option<(Uuid,)> = on_db!(self, pool => {
                sqlx::query_as("SELECT id FROM users WHERE clinic_id = $1 AND role = 'owner' ORDER BY active DESC, created_at, id LIMIT 1")
                    .bind(clinic_id).fetch_optional(pool).await?
            });
            let Some((owner,)) = owner else { continue };
            let actor = Actor::new(owner, clinic_id, Role::Owner);
            let hold = LegalHold::of_clinic(&settings_toml);
            let clients: Vec<(Uuid, String)> = on_db!(self, pool => {
                sqlx::query_as("SELECT id, name FROM clients WHERE clinic_id = $1 ORDER BY created_at, id")
                    .bind(clinic_id).fetch_all(pool).await?
            });
            let mut report = RetentionReport {
                id: Uuid::new_v4(),
                clinic_id,
                run_at: now(),
                dry_run,
                retention_years,
                anonymised: Vec::new(),
                held: Vec::new(),
            };
            for (client_id, name) in clients {
                let facts = self.facts(clinic_id, client_id).await?;
                let Some(last) = facts.last_activity() else {
                    continue;
                };
                let expired = add_years(last, retention_years) <= today;
                let until = facts.hold_until(&hold).filter(|d| *d > today);
                let reason = if facts.erasure_requested && until.is_none() {
                    "erasure"
                } else if expired {
                    "retention"
                } else {
                    continue;
                };
                let mut entry = RetentionEntry {
                    client: dry_run.then_some((client_id, name)),
                    last_activity_year: last.year(),
                    photos: facts.count("photos").max(0) as u64,
                    reason: reason.to_owned(),
                    kept_until: until,
                };
                if until.is_some() {
                    report.held.push(entry);
                    continue;
                }
                if !dry_run {
                    // An erasure's statistics were kept when it was asked for.
                    let statistics = !facts.erasure_requested;
                    entry.photos = self
                        .anonymise(&actor, client_id, reason, &facts, today, statistics)
                        .await?;
                }
                report.anonymised.push(entry);
            }
            let json = serde_json::to_string(&report).map_err(|e| StoreError::Internal(e.to_string()))?;
            let photos: i64 = report.anonymised.iter().map(|e| e.photos as i64).sum();
            on_db!(self, pool => {
                sqlx::query(
                    "INSERT INTO retention_reports (id, clinic_id, run_at, dry_run, anonymised, photos, report) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(report.id).bind(clinic_id).bind(report.run_at).bind(dry_run).bind(report.anonymised.len() as i64)
                .bind(photos).bind(&json).execute(pool).await?;
            });
            reports.push(report);
        }
        Ok(reports)
    }

    /// The retention job's reports for the acting owner's clinic, newest first (at most 100).
    pub async fn retention_reports(&self, actor: &Actor) -> StoreResult<Vec<RetentionReport>> {
        actor.require(Action::ViewAuditLog)?;
        let rows: Vec<(String,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT report FROM retention_reports WHERE clinic_id = $1 ORDER BY run_at DESC, id LIMIT 100")
                .bind(actor.clinic_id).fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|(json,)| {
                serde_json::from_str(&json)
                    .map_err(|e| StoreError::Internal(format!("retention report: {e}")))
            })
            .collect()
    }

    /// How many anonymous statistics rows the clinic keeps (what is left of anonymised
    /// clients), by hair-loss scale and stage.
    pub async fn anonymous_statistics(&self, actor: &Actor) -> StoreResult<Vec<(String, String, i64)>> {
        actor.require(Action::ViewAuditLog)?;
        let rows: Vec<(String, String, i64)> = on_db!(self, pool => {
            sqlx::query_as("SELECT scale, stage, COUNT(*) FROM anonymous_statistics WHERE clinic_id = $1 GROUP BY scale, stage ORDER BY scale, stage")
                .bind(actor.clinic_id).fetch_all(pool).await?
        });
        Ok(rows)
    }
}
