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
        /// Took place.
        Completed,
        /// Called off.
        Cancelled,
        /// The client did not come.
        NoShow,
    }
);

/// An appointment in the diary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AppointmentAnswer {
    /// Its id.
    pub id: Uuid,
    /// The client.
    pub client_id: Uuid,
    /// The practitioner booked, if any yet.
    pub practitioner_id: Option<Uuid>,
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
}

impl From<store::Appointment> for AppointmentAnswer {
    fn from(a: store::Appointment) -> AppointmentAnswer {
        let store::Appointment {
            id,
            client_id,
            practitioner_id,
            starts_at,
            duration_minutes,
            status,
            notes,
            created_at,
        } = a;
        AppointmentAnswer {
            id,
            client_id,
            practitioner_id,
            starts_at,
            duration_minutes,
            status: status.into(),
            notes,
            created_at,
        }
    }
}

/// An appointment to book (status `booked`).
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
}

impl From<NewAppointment> for store::NewAppointment {
    fn from(a: NewAppointment) -> store::NewAppointment {
        store::NewAppointment {
            client_id: a.client_id,
            practitioner_id: a.practitioner_id,
            starts_at: a.starts_at,
            duration_minutes: a.duration_minutes,
            notes: a.notes,
        }
    }
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
        } = b;
        PigmentBatchAnswer {
            id,
            product_id,
            lot,
            expires_on,
            quantity,
            created_at,
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
