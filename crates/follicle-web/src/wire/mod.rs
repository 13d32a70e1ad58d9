//! The API's JSON: every answer (and every body a program sends) is a type of this module,
//! built from the store's row or turned into the store's input by a `From` impl
//! (crates.io's `Encodable*` views). A change to a table is not a change to the API and the
//! reverse: a new column reaches the API only when it is added here, and the rows are
//! destructured where that matters so the compiler points at the place.
//!
//! The plan inside a consultation or design is the stored record ([`PlanRecord`]): a
//! versioned document that keeps its shape by design, answered as it was issued. The
//! planner's and pattern engine's own answers (`POST /assess`, `/plan`, `/pattern`) are
//! `follicle_core`'s and `follicle_pattern`'s types, described by their `openapi` feature.

/// A wire enum mirroring a store enum variant for variant (the same snake_case names), with
/// `From` both ways: answers are built from rows, bodies become the store's inputs.
macro_rules! mirror_enum {
    ($(#[$meta:meta])* $name:ident = $store:path { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl From<$store> for $name {
            fn from(v: $store) -> $name {
                match v { $(<$store>::$variant => $name::$variant),+ }
            }
        }

        impl From<$name> for $store {
            fn from(v: $name) -> $store {
                match v { $($name::$variant => <$store>::$variant),+ }
            }
        }
    };
}

mod clinic;
mod diary;
mod landmarks;
mod plan;
mod rights;

pub use clinic::{
    AuditAction, AuditEntryAnswer, ClientAnswer, ClientExportAnswer, ClinicAnswer, ConsentAnswer,
    ConsentKind, NewClient, NewUser, PaymentAnswer, PaymentKind, PaymentMethod, PhotoAngle, PhotoAnswer,
    Role, UserAnswer,
};
pub use diary::{
    AppointmentAnswer, AppointmentChangeAnswer, AppointmentKind, AppointmentMove, AppointmentStatus,
    LoggedSessionAnswer, NewAppointment, NewPigmentBatch, NewPigmentProduct, NewSessionLog,
    PigmentBatchAnswer, PigmentProductAnswer, PlanBooking, RecallEntryAnswer, SessionLogAnswer, Warning,
};
pub use landmarks::{
    DetectedLandmarksAnswer, Landmark, LandmarkOrigin, LandmarkPoint, LandmarksAnswer, LandmarksInput,
};
pub use plan::{
    AftercareRecord, Difference, PatchTestRecord, PlanRecord, PrecareRecord, PriceLine, QuoteRecord,
    ReasonRecord, SessionRecord, TouchUpRecord, ZoneRecord,
};
pub use rights::{
    ErasureAnswer, ErasureRequest, ImportAnswer, ImportErrorAnswer, ImportRequest, RetentionEntryAnswer,
    RetentionReportAnswer,
};

use follicle_pattern::{HairlineSpec, PatternRequest, ZonesSpec};
use follicle_store::{Consultation, Design};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// An amount of money as every page and document for clients writes it: the currency's sign
/// before whole units with thousands separated (`£2,450`, `$300`, `€1,200`), or the code
/// before them for a currency without a common sign (`CHF 2,450`).
pub fn money(currency: &str, amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if amount < 0 { "-" } else { "" };
    match currency {
        "GBP" => format!("{sign}£{grouped}"),
        "EUR" => format!("{sign}€{grouped}"),
        "USD" | "AUD" | "CAD" | "NZD" => format!("{sign}${grouped}"),
        other => format!("{sign}{other} {grouped}"),
    }
}

/// A quote number as the clinic prints it: `Q-` and the clinic's running number.
pub fn quote_label(number: i64) -> String {
    format!("Q-{number:05}")
}

/// One version of a client's consultation, as issued.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ConsultationAnswer {
    /// Its id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// 1, 2, … per client.
    pub version: i64,
    /// The stored record's schema version (0: recorded before records were versioned).
    pub schema_version: i64,
    /// The client file as written (TOML), if kept.
    pub profile_toml: Option<String>,
    /// The clinic's settings file it was planned with (`null` for schema version 0).
    pub settings_toml: Option<String>,
    /// The quote number (`Q-00017`), unique in the clinic, when there is a quote.
    pub quote_number: Option<String>,
    /// The consultation this one re-planned with newer settings, if any.
    pub replanned_from: Option<Uuid>,
    /// The plan and quote, as issued.
    pub plan: PlanRecord,
    /// When it was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Who recorded it.
    pub created_by: Uuid,
}

impl From<Consultation> for ConsultationAnswer {
    fn from(c: Consultation) -> ConsultationAnswer {
        ConsultationAnswer {
            id: c.id,
            client_id: c.client_id,
            version: c.version,
            schema_version: c.schema_version,
            profile_toml: c.profile_toml,
            settings_toml: c.settings_toml,
            quote_number: c.quote_number.map(quote_label),
            replanned_from: c.replanned_from,
            plan: c.plan.into(),
            created_at: c.created_at,
            created_by: c.created_by,
        }
    }
}

/// One version of a client's design.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DesignAnswer {
    /// Its id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// 1, 2, … per client.
    pub version: i64,
    /// The consultation it was drawn for, if any.
    pub consultation_id: Option<Uuid>,
    /// The hairline (the pattern request's `hairline`).
    #[schema(value_type = HairlineSpec)]
    pub hairline: Value,
    /// The zones (the pattern request's `zones`).
    #[schema(value_type = ZonesSpec)]
    pub zones: Value,
    /// The pattern seed.
    pub seed: u64,
    /// The rest of the pattern request (head, scars, exclusions, densities, session
    /// fractions, needles, dots per hour, `[pattern]` settings): a pattern request without
    /// `hairline`, `zones` and `seed`.
    #[schema(value_type = PatternRequest)]
    pub settings: Value,
    /// Notes.
    pub notes: String,
    /// The plan and quote that go with this design, as issued (`null` for designs saved
    /// before designs kept one, or not drawn for a consultation).
    pub plan: Option<PlanRecord>,
    /// The quote number, when the plan has a quote.
    pub quote_number: Option<String>,
    /// When it was saved.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Who saved it.
    pub created_by: Uuid,
}

impl From<Design> for DesignAnswer {
    fn from(d: Design) -> DesignAnswer {
        DesignAnswer {
            id: d.id,
            client_id: d.client_id,
            version: d.version,
            consultation_id: d.consultation_id,
            hairline: d.hairline,
            zones: d.zones,
            seed: d.seed,
            settings: d.settings,
            notes: d.notes,
            plan: d.plan.map(Into::into),
            quote_number: d.quote_number.map(quote_label),
            created_at: d.created_at,
            created_by: d.created_by,
        }
    }
}

/// A re-plan with today's settings: the new version and what changed.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReplanAnswer {
    /// The consultation re-planned (unchanged: what the client was given).
    pub replanned: Uuid,
    /// The new version.
    pub consultation: ConsultationAnswer,
    /// The design saved with it, if there is something to treat.
    pub design_id: Option<Uuid>,
    /// What changed: sessions, dates, hours, price lines, totals. Empty when nothing did.
    pub differences: Vec<Difference>,
}

impl From<crate::usecase::Replanned> for ReplanAnswer {
    fn from(r: crate::usecase::Replanned) -> ReplanAnswer {
        ReplanAnswer {
            replanned: r.before.id,
            design_id: r.after.design.as_ref().map(|d| d.id),
            consultation: r.after.consultation.into(),
            differences: r.differences.into_iter().map(Into::into).collect(),
        }
    }
}

/// The hours, sessions and price that go with a design edit (the designer's figures).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DesignPlanAnswer {
    /// Sessions planned.
    pub sessions: usize,
    /// Hours over all sessions.
    pub total_hours: f64,
    /// Impressions over all sessions.
    pub total_dots: u64,
    /// The quote's total, whole currency units (`null` without a quote).
    pub total: Option<i64>,
    /// Its currency.
    pub currency: Option<String>,
    /// The whole plan and quote.
    pub plan: PlanRecord,
}

impl From<follicle_store::PlanRecord> for DesignPlanAnswer {
    fn from(plan: follicle_store::PlanRecord) -> DesignPlanAnswer {
        DesignPlanAnswer {
            sessions: plan.sessions.len(),
            total_hours: plan.total_hours,
            total_dots: plan.total_dots,
            total: plan.quote.as_ref().map(|q| q.total),
            currency: plan.quote.as_ref().map(|q| q.currency.clone()),
            plan: plan.into(),
        }
    }
}

/// The bytes of a file sent or answered as such (an image, a PDF, a zip, the compact pattern
/// format), not JSON: documented as a binary string, never as an array of numbers.
#[derive(Debug, Clone, utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Binary(pub Vec<u8>);
