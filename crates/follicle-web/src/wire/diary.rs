//! The diary (appointments), the treatment session log, pigments and recalls.

use follicle_core::ZoneKind;
use follicle_store as store;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

mirror_enum!(
    /// Where an appointment stands.
    AppointmentStatus = store::AppointmentStatus {
        /// Booked, not yet confirmed.
        Booked,
        /// Confirmed by the client.
        Confirmed,
        /// The client is in the clinic.
        Arrived,
        /// Took place.
        Completed,
        /// Called off.
        Cancelled,
        /// The client did not come.
        NoShow,
    }
);

mirror_enum!(
    /// What an appointment is for.
    AppointmentKind = store::AppointmentKind {
        /// A treatment session of a plan.
        Session,
        /// A patch test: a few dots of the chosen ink, read at session 1.
        PatchTest,
        /// A touch-up recall.
        TouchUp,
        /// A consultation.
        Consultation,
    }
);

/// One change of an appointment: booked, a status, a move, an override.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AppointmentChangeAnswer {
    /// What changed (`booked`, `confirmed`, `moved from … to …`, `override: …`).
    pub what: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Who (a user of the clinic).
    pub by: Uuid,
}

/// An appointment in the diary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AppointmentAnswer {
    /// Its id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The practitioner booked, if any yet.
    pub practitioner_id: Option<Uuid>,
    /// The room (or chair) booked, by its name in the clinic's `diary.rooms`, if any.
    pub room: Option<String>,
    /// When it starts (UTC, to the second).
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// How long, in minutes.
    pub duration_minutes: i64,
    /// Where it stands.
    pub status: AppointmentStatus,
    /// Notes.
    pub notes: String,
    /// When it was booked.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// What it is for.
    pub kind: AppointmentKind,
    /// The consultation whose plan it was booked from, if any.
    pub consultation_id: Option<Uuid>,
    /// The plan's session number, if booked from a plan.
    pub session_index: Option<i64>,
    /// Every change, oldest first, with who and when.
    pub history: Vec<AppointmentChangeAnswer>,
}

impl From<store::Appointment> for AppointmentAnswer {
    fn from(a: store::Appointment) -> AppointmentAnswer {
        let store::Appointment {
            id,
            client_id,
            practitioner_id,
            room,
            starts_at,
            duration_minutes,
            status,
            notes,
            created_at,
            kind,
            consultation_id,
            session_index,
            history,
        } = a;
        AppointmentAnswer {
            id,
            client_id,
            practitioner_id,
            room,
            starts_at,
            duration_minutes,
            status: status.into(),
            notes,
            created_at,
            kind: kind.into(),
            consultation_id,
            session_index,
            history: history
                .into_iter()
                .map(|c| AppointmentChangeAnswer {
                    what: c.what,
                    at: c.at,
                    by: c.by,
                })
                .collect(),
        }
    }
}

/// An appointment to book (status `booked`), with the diary's rules: in the future, inside
/// the opening hours of an open day, the healing interval and yearly cap kept for a session or
/// touch-up, the practitioner and the room free then (or `override_reason` given).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
pub struct NewAppointment {
    /// The client.
    pub client_id: Uuid,
    /// The practitioner, if known (a user of the clinic).
    pub practitioner_id: Option<Uuid>,
    /// When it starts.
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// How long, 1–1,440 minutes.
    #[schema(minimum = 1, maximum = 1440)]
    pub duration_minutes: i64,
    /// Notes.
    #[schema(max_length = 100000)]
    pub notes: String,
    /// What it is for (default `session`).
    #[serde(default)]
    pub kind: Option<AppointmentKind>,
    /// The room (or chair): one of the clinic's `diary.rooms` (any other is a 422 naming
    /// them); absent: none.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub room: Option<String>,
    /// A reason to book the practitioner or the room although they are booked then (kept in
    /// the appointment's history and the audit log); without one a clash is refused (409).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub override_reason: String,
}

impl From<NewAppointment> for store::NewBooking {
    fn from(a: NewAppointment) -> store::NewBooking {
        store::NewBooking {
            appointment: store::NewAppointment {
                client_id: a.client_id,
                practitioner_id: a.practitioner_id,
                starts_at: a.starts_at,
                duration_minutes: a.duration_minutes,
                notes: a.notes,
            },
            kind: a.kind.map_or(store::AppointmentKind::Session, Into::into),
            room: a.room,
            override_reason: a.override_reason,
        }
    }
}

/// A move of an appointment to another time (and practitioner, and room).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointmentMove {
    /// The new start.
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// The new practitioner; absent: the same one.
    #[serde(default)]
    pub practitioner_id: Option<Uuid>,
    /// The new room, one of the clinic's `diary.rooms`; empty: no room; absent: the same one.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub room: Option<String>,
    /// A reason to book the practitioner or the room although they are booked then.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub override_reason: String,
}

impl From<AppointmentMove> for store::AppointmentMove {
    fn from(m: AppointmentMove) -> store::AppointmentMove {
        store::AppointmentMove {
            starts_at: m.starts_at,
            practitioner_id: m.practitioner_id,
            room: m.room,
            override_reason: m.override_reason,
        }
    }
}

/// A plan's sessions to book in one step.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanBooking {
    /// The practitioner of every session.
    #[serde(default)]
    pub practitioner_id: Option<Uuid>,
    /// The room of every session, one of the clinic's `diary.rooms`; absent: none.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub room: Option<String>,
    /// When session 1 starts; the others follow at the plan's intervals and start times.
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    /// A reason to book over the practitioner's or the room's other appointments.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub override_reason: String,
}

/// What was done in one treatment session.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SessionLogAnswer {
    /// Its id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The appointment it took place in, if recorded.
    pub appointment_id: Option<Uuid>,
    /// The day of the session.
    pub performed_on: Date,
    /// Who treated.
    pub practitioner_id: Uuid,
    /// The zones worked on.
    pub zones: Vec<ZoneKind>,
    /// The pigment batch used.
    pub batch_id: Uuid,
    /// Pigment share of the mix, 0–1 (1 = undiluted).
    pub dilution: f64,
    /// Needle (cartridge) type, e.g. "1RL 0.25 mm".
    pub needle: String,
    /// The needle cartridge's lot.
    pub needle_lot: String,
    /// Needle depth in millimetres.
    pub depth_mm: f64,
    /// Machine settings (voltage, stroke, speed) as the practitioner writes them.
    pub machine_settings: String,
    /// How long the session took, in minutes.
    pub duration_minutes: i64,
    /// Anaesthetic used, if any (empty for none).
    pub anaesthetic: String,
    /// Notes (reactions, client feedback).
    pub notes: String,
    /// When it was logged.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Pigment units taken off the batch's stock.
    pub pigment_units: i64,
    /// Why an expired or recalled batch was used all the same (empty: it was not).
    pub batch_override: String,
}

impl From<store::SessionLog> for SessionLogAnswer {
    fn from(s: store::SessionLog) -> SessionLogAnswer {
        let store::SessionLog {
            id,
            client_id,
            appointment_id,
            performed_on,
            practitioner_id,
            zones,
            batch_id,
            dilution,
            needle,
            needle_lot,
            depth_mm,
            machine_settings,
            duration_minutes,
            anaesthetic,
            notes,
            created_at,
            pigment_units,
            batch_override,
        } = s;
        SessionLogAnswer {
            id,
            client_id,
            appointment_id,
            performed_on,
            practitioner_id,
            zones,
            batch_id,
            dilution,
            needle,
            needle_lot,
            depth_mm,
            machine_settings,
            duration_minutes,
            anaesthetic,
            notes,
            created_at,
            pigment_units,
            batch_override,
        }
    }
}

/// A session to log.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
pub struct NewSessionLog {
    /// The client.
    pub client_id: Uuid,
    /// The appointment, if any (of the same client).
    pub appointment_id: Option<Uuid>,
    /// The day of the session.
    pub performed_on: Date,
    /// Who treated (a user of the clinic).
    pub practitioner_id: Uuid,
    /// Zones worked on (at least one, no repeats).
    #[schema(min_items = 1)]
    pub zones: Vec<ZoneKind>,
    /// The pigment batch used (of the clinic).
    pub batch_id: Uuid,
    /// Pigment share of the mix, above 0 and at most 1.
    #[schema(exclusive_minimum = 0.0, maximum = 1.0)]
    pub dilution: f64,
    /// Needle type.
    #[schema(min_length = 1, max_length = 200)]
    pub needle: String,
    /// Needle lot.
    #[schema(min_length = 1, max_length = 200)]
    pub needle_lot: String,
    /// Needle depth, above 0 and at most 5 mm (SMP works in the upper dermis, about 0.5–1.5).
    #[schema(exclusive_minimum = 0.0, maximum = 5.0)]
    pub depth_mm: f64,
    /// Machine settings.
    #[schema(max_length = 100000)]
    pub machine_settings: String,
    /// 1–1,440 minutes.
    #[schema(minimum = 1, maximum = 1440)]
    pub duration_minutes: i64,
    /// Anaesthetic, empty for none.
    #[schema(max_length = 200)]
    pub anaesthetic: String,
    /// Notes.
    #[schema(max_length = 100000)]
    pub notes: String,
    /// Pigment units taken off the batch's stock, 0–1,000 (default 0).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1000)]
    pub pigment_units: i64,
    /// Why a batch past its expiry or under recall is used all the same; without a reason such
    /// a batch is refused (422 naming `batch_id`).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub batch_override: String,
}

impl From<NewSessionLog> for store::NewSessionLog {
    fn from(s: NewSessionLog) -> store::NewSessionLog {
        store::NewSessionLog {
            client_id: s.client_id,
            appointment_id: s.appointment_id,
            performed_on: s.performed_on,
            practitioner_id: s.practitioner_id,
            zones: s.zones,
            batch_id: s.batch_id,
            dilution: s.dilution,
            needle: s.needle,
            needle_lot: s.needle_lot,
            depth_mm: s.depth_mm,
            machine_settings: s.machine_settings,
            duration_minutes: s.duration_minutes,
            anaesthetic: s.anaesthetic,
            notes: s.notes,
            chair: store::AtTheChair {
                pigment_units: s.pigment_units,
                batch_override: s.batch_override,
            },
        }
    }
}

/// Something to look at after a write that succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Warning {
    /// The pigment batch had expired on the session date.
    BatchExpired {
        /// The batch.
        batch_id: Uuid,
        /// Its lot number.
        lot: String,
        /// Its expiry date.
        expired_on: Date,
    },
    /// A warning this version of the API does not describe yet, in words.
    Other {
        /// What it says.
        message: String,
    },
}

impl From<store::Warning> for Warning {
    fn from(w: store::Warning) -> Warning {
        match w {
            store::Warning::BatchExpired {
                batch_id,
                lot,
                expired_on,
            } => Warning::BatchExpired {
                batch_id,
                lot,
                expired_on,
            },
            other => Warning::Other {
                message: format!("{other:?}"),
            },
        }
    }
}

/// A logged session's id and any warnings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LoggedSessionAnswer {
    /// The new session log's id.
    pub id: Uuid,
    /// Warnings (an expired batch); the session is logged all the same.
    pub warnings: Vec<Warning>,
}

impl From<store::LoggedSession> for LoggedSessionAnswer {
    fn from(l: store::LoggedSession) -> LoggedSessionAnswer {
        LoggedSessionAnswer {
            id: l.id,
            warnings: l.warnings.into_iter().map(Into::into).collect(),
        }
    }
}

/// A pigment product (an ink) the clinic uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PigmentProductAnswer {
    /// Its id.
    pub id: Uuid,
    /// Product name.
    pub name: String,
    /// Maker.
    pub maker: String,
    /// Ingredient list from the label (EU REACH Annex XVII entry 75 requires it).
    pub ingredients: String,
    /// When it was added.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<store::PigmentProduct> for PigmentProductAnswer {
    fn from(p: store::PigmentProduct) -> PigmentProductAnswer {
        let store::PigmentProduct {
            id,
            name,
            maker,
            ingredients,
            created_at,
        } = p;
        PigmentProductAnswer {
            id,
            name,
            maker,
            ingredients,
            created_at,
        }
    }
}

/// A pigment product to add.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
pub struct NewPigmentProduct {
    /// Product name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Maker.
    #[schema(min_length = 1, max_length = 200)]
    pub maker: String,
    /// Ingredient list.
    #[schema(max_length = 100000)]
    pub ingredients: String,
}

impl From<NewPigmentProduct> for store::NewPigmentProduct {
    fn from(p: NewPigmentProduct) -> store::NewPigmentProduct {
        store::NewPigmentProduct {
            name: p.name,
            maker: p.maker,
            ingredients: p.ingredients,
        }
    }
}

/// A batch (lot) of a pigment product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PigmentBatchAnswer {
    /// Its id.
    pub id: Uuid,
    /// The product.
    pub product_id: Uuid,
    /// The batch or lot number on the label.
    pub lot: String,
    /// The expiry date on the label: from this day on the batch counts as expired.
    pub expires_on: Date,
    /// Units in stock (bottles or cartridges, as the clinic counts).
    pub quantity: i64,
    /// When it was added.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The day it was put under recall, if it is (refused at the chair from then on).
    pub recalled_on: Option<Date>,
    /// Why, when recalled.
    pub recall_reason: String,
}

impl From<store::PigmentBatch> for PigmentBatchAnswer {
    fn from(b: store::PigmentBatch) -> PigmentBatchAnswer {
        let store::PigmentBatch {
            id,
            product_id,
            lot,
            expires_on,
            quantity,
            created_at,
            recalled_on,
            recall_reason,
        } = b;
        PigmentBatchAnswer {
            id,
            product_id,
            lot,
            expires_on,
            quantity,
            created_at,
            recalled_on,
            recall_reason,
        }
    }
}

/// A batch to add.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
pub struct NewPigmentBatch {
    /// The product (of this clinic).
    pub product_id: Uuid,
    /// The batch or lot number.
    #[schema(min_length = 1, max_length = 200)]
    pub lot: String,
    /// The expiry date.
    pub expires_on: Date,
    /// Units in stock, 0–1,000,000.
    #[schema(minimum = 0, maximum = 1000000)]
    pub quantity: i64,
}

impl From<NewPigmentBatch> for store::NewPigmentBatch {
    fn from(b: NewPigmentBatch) -> store::NewPigmentBatch {
        store::NewPigmentBatch {
            product_id: b.product_id,
            lot: b.lot,
            expires_on: b.expires_on,
            quantity: b.quantity,
        }
    }
}

/// One client session that used a recalled batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RecallEntryAnswer {
    /// The client.
    pub client_id: Uuid,
    /// Their name.
    pub client_name: String,
    /// Their phone.
    pub phone: String,
    /// Their email.
    pub email: String,
    /// The session.
    pub session_id: Uuid,
    /// Its day.
    pub performed_on: Date,
    /// Who treated.
    pub practitioner_id: Uuid,
}

impl From<store::RecallEntry> for RecallEntryAnswer {
    fn from(r: store::RecallEntry) -> RecallEntryAnswer {
        let store::RecallEntry {
            client_id,
            client_name,
            phone,
            email,
            session_id,
            performed_on,
            practitioner_id,
        } = r;
        RecallEntryAnswer {
            client_id,
            client_name,
            phone,
            email,
            session_id,
            performed_on,
            practitioner_id,
        }
    }
}
