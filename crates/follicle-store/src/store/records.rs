//! Client records: clients, consultations, designs, appointments, pigments, session logs,
//! recalls, consents, photos, export. Every method takes the acting user, checks their role
//! ([`Role::may`](crate::Role::may)), scopes every query by their clinic, and writes the
//! audit log for every read or write of a client's record.

use serde_json::Value;
use sqlx::types::Json;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use follicle_core::ZoneKind;
use object_store::ObjectStoreExt;

use super::{Store, audit_insert, now, on_db};
use crate::auth::Actor;
use crate::error::{StoreError, StoreResult};
use crate::model::*;
use crate::photo::strip_metadata_with;
use crate::record::{PLAN_SCHEMA_VERSION, read_plan};
use crate::role::Action;
use crate::validate;

/// The parts of a client's record their portal shows ([`Store::record_of`]).
pub(crate) struct OwnRecordParts {
    pub(crate) client: Client,
    pub(crate) consultations: Vec<Consultation>,
    pub(crate) designs: Vec<Design>,
    pub(crate) appointments: Vec<Appointment>,
    pub(crate) sessions: Vec<SessionLog>,
    pub(crate) photos: Vec<Photo>,
}

/// At most this many rows from a list or search.
pub const MAX_LIST: i64 = 500;

/// A recall's row: client id, name, phone, email; session id, day, practitioner.
type RecallRow = (Uuid, String, String, String, Uuid, Date, Uuid);

/// The sessions that used a batch ($2) with their clients: index `session_logs_batch`
/// (clinic, batch, client).
macro_rules! recall_select {
    () => {
        "SELECT c.id, c.name, c.phone, c.email, s.id, s.performed_on, s.practitioner_id \
         FROM session_logs s JOIN clients c ON c.clinic_id = s.clinic_id AND c.id = s.client_id \
         WHERE s.clinic_id = $1 AND s.batch_id = $2"
    };
}

/// A recall's order, which its pages' cursors follow: client name, client, day, session.
macro_rules! recall_order {
    () => {
        "c.name, c.id, s.performed_on, s.id"
    };
}

/// A recall, whole.
const RECALL_ALL: &str = concat!(recall_select!(), " ORDER BY ", recall_order!());

/// A recall's first page.
pub(crate) const RECALL_FIRST: &str = concat!(recall_select!(), " ORDER BY ", recall_order!(), " LIMIT $3");

/// A recall's later page, after the (name, client, day, session) of the page before.
pub(crate) const RECALL_AFTER: &str = concat!(
    recall_select!(),
    " AND (",
    recall_order!(),
    ") > ($3, $4, $5, $6) ORDER BY ",
    recall_order!(),
    " LIMIT $7"
);

/// A recall's totals: sessions and clients.
pub(crate) const RECALL_COUNTS: &str = "SELECT COUNT(*), COUNT(DISTINCT client_id) FROM session_logs \
     WHERE clinic_id = $1 AND batch_id = $2";

/// Where a recall's page ends: its last session, by client name, client, day and session.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RecallCursor {
    name: String,
    client_id: Uuid,
    performed_on: Date,
    session_id: Uuid,
}

impl RecallCursor {
    /// `<session id, 32 hex digits><client id, 32><day, YYYYMMDD><name in UTF-8, as hex>`.
    fn encode(&self) -> String {
        let d = self.performed_on;
        let mut out = format!(
            "{}{}{:04}{:02}{:02}",
            self.session_id.simple(),
            self.client_id.simple(),
            d.year(),
            u8::from(d.month()),
            d.day()
        );
        super::search::push_hex(&mut out, &self.name);
        out
    }

    fn parse(text: &str) -> StoreResult<RecallCursor> {
        let refuse = || super::search::cursor_refused(text);
        if text.len() < 72 || !text.is_ascii() {
            return Err(refuse());
        }
        let id = |range: std::ops::Range<usize>| Uuid::try_parse(&text[range]).map_err(|_| refuse());
        let number = |range: std::ops::Range<usize>| text[range].parse::<u16>().map_err(|_| refuse());
        let month = time::Month::try_from(number(68..70)? as u8).map_err(|_| refuse())?;
        let performed_on = Date::from_calendar_date(i32::from(number(64..68)?), month, number(70..72)? as u8)
            .map_err(|_| refuse())?;
        Ok(RecallCursor {
            session_id: id(0..32)?,
            client_id: id(32..64)?,
            performed_on,
            name: super::search::from_hex(&text[72..]).ok_or_else(refuse)?,
        })
    }
}

macro_rules! client_cols {
    () => {
        "id, name, date_of_birth, age_years, phone, email, notes, created_at, updated_at"
    };
}
pub(super) type ClientRow = (
    Uuid,
    String,
    Option<Date>,
    Option<i64>,
    String,
    String,
    String,
    OffsetDateTime,
    OffsetDateTime,
);
/// A client as the acting user may see it: the free-text notes (which can hold health
/// details) only for those who may read clinical records; the front desk gets them empty.
pub(super) fn for_role(actor: &Actor, mut client: Client) -> Client {
    if !actor.role.may(Action::ViewClinicalRecords) {
        client.notes = String::new();
    }
    client
}

pub(super) fn client_from_row(r: ClientRow) -> Client {
    Client {
        id: r.0,
        name: r.1,
        date_of_birth: r.2,
        age_years: r.3,
        phone: r.4,
        email: r.5,
        notes: r.6,
        created_at: r.7,
        updated_at: r.8,
    }
}

macro_rules! consultation_cols {
    () => {
        "id, client_id, version, profile_toml, plan, created_at, created_by, schema_version, settings_toml, \
         quote_number, replanned_from"
    };
}
type ConsultationRow = (
    Uuid,
    Uuid,
    i64,
    Option<String>,
    Json<Value>,
    OffsetDateTime,
    Uuid,
    i64,
    Option<String>,
    Option<i64>,
    Option<Uuid>,
);
fn consultation_from_row(r: ConsultationRow) -> StoreResult<Consultation> {
    Ok(Consultation {
        id: r.0,
        client_id: r.1,
        version: r.2,
        schema_version: r.7,
        profile_toml: r.3,
        settings_toml: r.8,
        plan: read_plan(r.7, r.4.0)?,
        quote_number: r.9,
        replanned_from: r.10,
        created_at: r.5,
        created_by: r.6,
    })
}

macro_rules! design_cols {
    () => {
        "id, client_id, version, consultation_id, hairline, zones, seed, settings, notes, created_at, created_by, \
         schema_version, plan, quote_number"
    };
}
type DesignRow = (
    Uuid,
    Uuid,
    i64,
    Option<Uuid>,
    Json<Value>,
    Json<Value>,
    i64,
    Json<Value>,
    String,
    OffsetDateTime,
    Uuid,
    i64,
    Option<Json<Value>>,
    Option<i64>,
);
fn design_from_row(r: DesignRow) -> StoreResult<Design> {
    let plan = match (r.11, r.12) {
        // Designs saved before designs kept a plan.
        (0, _) | (_, None) => None,
        (version, Some(plan)) => Some(read_plan(version, plan.0)?),
    };
    Ok(Design {
        id: r.0,
        client_id: r.1,
        version: r.2,
        consultation_id: r.3,
        hairline: r.4.0,
        zones: r.5.0,
        // Seeds are u64; the databases have signed 64-bit integers. The bits are kept.
        seed: u64::from_ne_bytes(r.6.to_ne_bytes()),
        settings: r.7.0,
        notes: r.8,
        schema_version: r.11,
        plan,
        quote_number: r.13,
        created_at: r.9,
        created_by: r.10,
    })
}

/// The clinic's next quote number, inside the caller's transaction (the row lock on the
/// clinic's counter serialises concurrent writers).
macro_rules! next_quote_number {
    ($tx:expr, $clinic:expr) => {{
        let (n,): (i64,) = sqlx::query_as(
            "INSERT INTO quote_numbers (clinic_id, last_number) VALUES ($1, 1) \
             ON CONFLICT (clinic_id) DO UPDATE SET last_number = quote_numbers.last_number + 1 \
             RETURNING last_number",
        )
        .bind($clinic)
        .fetch_one(&mut *$tx)
        .await?;
        n
    }};
}

/// Inserts a design as the client's next version inside the caller's transaction; gives
/// `(version, quote number)`.
macro_rules! insert_design {
    ($tx:expr, $actor:expr, $id:expr, $d:expr, $consultation:expr, $notes:expr, $plan:expr, $at:expr) => {{
        let quote_number: Option<i64> = match $plan {
            Some(p) if p.quote.is_some() => Some(next_quote_number!($tx, $actor.clinic_id)),
            _ => None,
        };
        let schema_version: i64 = if $plan.is_some() { PLAN_SCHEMA_VERSION } else { 0 };
        let (version,): (i64,) = sqlx::query_as(
            "INSERT INTO designs (id, clinic_id, client_id, version, consultation_id, hairline, zones, seed, settings, notes, created_at, created_by, schema_version, plan, quote_number) \
             VALUES ($1, $2, $3, (SELECT COALESCE(MAX(version), 0) + 1 FROM designs WHERE client_id = $3), $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             RETURNING version",
        )
        .bind($id).bind($actor.clinic_id).bind($d.client_id).bind($consultation).bind(Json(&$d.hairline))
        .bind(Json(&$d.zones)).bind(i64::from_ne_bytes($d.seed.to_ne_bytes())).bind(Json(&$d.settings)).bind($notes)
        .bind($at).bind($actor.user_id).bind(schema_version).bind($plan.map(Json)).bind(quote_number)
        .fetch_one(&mut *$tx).await?;
        audit_insert!($actor, Some($d.client_id), AuditAction::Created, format!("design v{version}"))
            .execute(&mut *$tx).await?;
        (version, quote_number)
    }};
}

macro_rules! appointment_cols {
    () => {
        "id, client_id, practitioner_id, starts_at, duration_minutes, status, notes, created_at, kind, \
         consultation_id, session_index, history, room"
    };
}
type AppointmentRow = (
    Uuid,
    Uuid,
    Option<Uuid>,
    OffsetDateTime,
    i64,
    String,
    String,
    OffsetDateTime,
    String,
    Option<Uuid>,
    Option<i64>,
    Json<Vec<AppointmentChange>>,
    Option<String>,
);
fn appointment_from_row(r: AppointmentRow) -> StoreResult<Appointment> {
    Ok(Appointment {
        id: r.0,
        client_id: r.1,
        practitioner_id: r.2,
        room: r.12,
        starts_at: r.3,
        duration_minutes: r.4,
        status: AppointmentStatus::parse(&r.5)?,
        notes: r.6,
        created_at: r.7,
        kind: AppointmentKind::parse(&r.8)?,
        consultation_id: r.9,
        session_index: r.10,
        history: r.11.0,
    })
}

macro_rules! session_cols {
    () => {
        "id, client_id, appointment_id, performed_on, practitioner_id, zones, batch_id, dilution, needle, \
         needle_lot, depth_mm, machine_settings, duration_minutes, anaesthetic, notes, created_at, pigment_units, \
         batch_override"
    };
}
type SessionRow = (
    Uuid,
    Uuid,
    Option<Uuid>,
    Date,
    Uuid,
    Json<Vec<String>>,
    Uuid,
    f64,
    String,
    String,
    f64,
    String,
    i64,
    String,
    String,
    OffsetDateTime,
    i64,
    String,
);
/// A session log's row, read column by column: a row of more than 16 columns has no `FromRow`
/// tuple in sqlx. Used inside `on_db!`, so it is checked against each backend's row.
macro_rules! session_row {
    ($r:expr) => {{
        use sqlx::Row;
        let r = $r;
        Ok::<SessionRow, sqlx::Error>((
            r.try_get(0)?,
            r.try_get(1)?,
            r.try_get(2)?,
            r.try_get(3)?,
            r.try_get(4)?,
            r.try_get(5)?,
            r.try_get(6)?,
            r.try_get(7)?,
            r.try_get(8)?,
            r.try_get(9)?,
            r.try_get(10)?,
            r.try_get(11)?,
            r.try_get(12)?,
            r.try_get(13)?,
            r.try_get(14)?,
            r.try_get(15)?,
            r.try_get(16)?,
            r.try_get(17)?,
        ))
    }};
}

fn session_from_row(r: SessionRow) -> StoreResult<SessionLog> {
    let zones =
        r.5.0
            .iter()
            .map(|z| ZoneKind::parse(z).map_err(|e| StoreError::Internal(format!("stored zone: {e}"))))
            .collect::<StoreResult<_>>()?;
    Ok(SessionLog {
        id: r.0,
        client_id: r.1,
        appointment_id: r.2,
        performed_on: r.3,
        practitioner_id: r.4,
        zones,
        batch_id: r.6,
        dilution: r.7,
        needle: r.8,
        needle_lot: r.9,
        depth_mm: r.10,
        machine_settings: r.11,
        duration_minutes: r.12,
        anaesthetic: r.13,
        notes: r.14,
        created_at: r.15,
        pigment_units: r.16,
        batch_override: r.17,
    })
}

macro_rules! batch_cols {
    () => {
        "id, product_id, lot, expires_on, quantity, created_at, recalled_on, recall_reason"
    };
}
type BatchRow = (
    Uuid,
    Uuid,
    String,
    Date,
    i64,
    OffsetDateTime,
    Option<Date>,
    String,
);
fn batch_from_row(r: BatchRow) -> PigmentBatch {
    PigmentBatch {
        id: r.0,
        product_id: r.1,
        lot: r.2,
        expires_on: r.3,
        quantity: r.4,
        created_at: r.5,
        recalled_on: r.6,
        recall_reason: r.7,
    }
}

macro_rules! consent_cols {
    () => {
        "id, client_id, kind, template_version, text, signed_by, signed_at, recorded_by"
    };
}
type ConsentRow = (Uuid, Uuid, String, String, String, String, OffsetDateTime, Uuid);
fn consent_from_row(r: ConsentRow) -> StoreResult<Consent> {
    Ok(Consent {
        id: r.0,
        client_id: r.1,
        kind: ConsentKind::parse(&r.2)?,
        template_version: r.3,
        text: r.4,
        signed_by: r.5,
        signed_at: r.6,
        recorded_by: r.7,
    })
}

macro_rules! photo_cols {
    () => {
        "id, client_id, session_id, consent_id, angle, taken_at, content_type, byte_size, width, height, \
         orientation, blob_key, created_at, created_by, consultation_id, consented"
    };
}
type PhotoRow = (
    Uuid,
    Uuid,
    Option<Uuid>,
    Option<Uuid>,
    String,
    OffsetDateTime,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    String,
    OffsetDateTime,
    Option<Uuid>,
    Option<Uuid>,
    bool,
);
fn photo_from_row(r: PhotoRow) -> StoreResult<Photo> {
    Ok(Photo {
        id: r.0,
        client_id: r.1,
        session_id: r.2,
        consent_id: r.3,
        angle: PhotoAngle::parse(&r.4)?,
        taken_at: r.5,
        content_type: r.6,
        byte_size: r.7,
        width: r.8,
        height: r.9,
        orientation: r.10,
        blob_key: r.11,
        created_at: r.12,
        created_by: r.13,
        consultation_id: r.14,
        consented: r.15,
    })
}

pub(crate) struct CheckedClient {
    pub(crate) name: String,
    pub(crate) date_of_birth: Option<Date>,
    pub(crate) age_years: Option<i64>,
    pub(crate) phone: String,
    pub(crate) email: String,
    pub(crate) notes: String,
    pub(crate) search_text: String,
}

pub(crate) fn check_client(client: &NewClient) -> StoreResult<CheckedClient> {
    let name = validate::line("name", &client.name, false)?;
    let phone = validate::phone("phone", &client.phone, true)?;
    let email = validate::email("email", &client.email, true)?;
    let notes = validate::text("notes", &client.notes)?;
    let date_of_birth = client
        .date_of_birth
        .map(|d| validate::date("date_of_birth", d))
        .transpose()?;
    let age_years = client
        .age_years
        .map(|a| validate::int_range("age_years", a, 0, 130))
        .transpose()?;
    let search_text = validate::client_search_text(&name, &phone, &email);
    Ok(CheckedClient {
        name,
        date_of_birth,
        age_years,
        phone,
        email,
        notes,
        search_text,
    })
}

// The hot queries (issue 16), named so that the query-plan tests read the very SQL run.

/// A client's consultations: `UNIQUE (client_id, version)`.
pub(crate) const CLIENT_CONSULTATIONS: &str = concat!(
    "SELECT ",
    consultation_cols!(),
    " FROM consultations WHERE clinic_id = $1 AND client_id = $2 ORDER BY version"
);

/// A client's designs: `UNIQUE (client_id, version)`.
pub(crate) const CLIENT_DESIGNS: &str = concat!(
    "SELECT ",
    design_cols!(),
    " FROM designs WHERE clinic_id = $1 AND client_id = $2 ORDER BY version"
);

/// A client's appointments: index `appointments_client`.
pub(crate) const CLIENT_APPOINTMENTS: &str = concat!(
    "SELECT ",
    appointment_cols!(),
    " FROM appointments WHERE clinic_id = $1 AND client_id = $2 ORDER BY starts_at, id"
);

/// A client's session logs: index `session_logs_client`.
pub(crate) const CLIENT_SESSIONS: &str = concat!(
    "SELECT ",
    session_cols!(),
    " FROM session_logs WHERE clinic_id = $1 AND client_id = $2 ORDER BY performed_on, created_at, id"
);

/// A client's photos: index `photos_client`.
pub(crate) const CLIENT_PHOTOS: &str = concat!(
    "SELECT ",
    photo_cols!(),
    " FROM photos WHERE clinic_id = $1 AND client_id = $2 ORDER BY taken_at, id"
);

/// The diary, appointments starting in a window: index `appointments_clinic_start`.
pub(crate) const DIARY: &str = concat!(
    "SELECT ",
    appointment_cols!(),
    " FROM appointments WHERE clinic_id = $1 AND starts_at >= $2 AND starts_at < $3 ",
    "ORDER BY starts_at, id LIMIT $4"
);

fn plan_json(plan: &crate::record::PlanRecord) -> StoreResult<Value> {
    serde_json::to_value(plan).map_err(|e| StoreError::Internal(format!("plan: {e}")))
}

fn check_json_fields(fields: &[(&'static str, &Value)]) -> StoreResult<()> {
    fields
        .iter()
        .try_for_each(|(field, value)| validate::json(field, value))
}

/// What a consultation's insert numbered: its version and quote number, and its design's.
type Numbers = (i64, Option<i64>, Option<i64>, Option<i64>);

/// Retries a versioned insert a few times when two writers pick the same next version.
const VERSION_TRIES: usize = 5;

/// Runs `insert` (which picks the client's next version number inside its transaction) until it
/// does not collide with a concurrent writer, at most [`VERSION_TRIES`] times.
async fn insert_next_version<T, F, Fut>(mut insert: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = StoreResult<T>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match insert().await {
            Err(StoreError::Conflict { .. }) if tries < VERSION_TRIES => continue,
            other => return other,
        }
    }
}

impl Store {
    /// `NotFound("client")` unless the client is in the actor's clinic.
    pub(crate) async fn ensure_client(&self, actor: &Actor, client_id: Uuid) -> StoreResult<()> {
        let row: Option<(Uuid,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT id FROM clients WHERE clinic_id = $1 AND id = $2")
                .bind(actor.clinic_id).bind(client_id).fetch_optional(pool).await?
        });
        row.map(|_| ()).ok_or_else(|| StoreError::not_found("client"))
    }

    // ----- clients -----

    /// Adds a client.
    pub async fn create_client(&self, actor: &Actor, client: &NewClient) -> StoreResult<Client> {
        actor.require(Action::EditClients)?;
        let c = check_client(client)?;
        let id = Uuid::new_v4();
        let at = now();
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            sqlx::query(
                "INSERT INTO clients (id, clinic_id, name, date_of_birth, age_years, phone, email, notes, search_text, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
            )
            .bind(id).bind(actor.clinic_id).bind(&c.name).bind(c.date_of_birth).bind(c.age_years).bind(&c.phone)
            .bind(&c.email).bind(&c.notes).bind(&c.search_text).bind(at)
            .execute(&mut *tx).await?;
            audit_insert!(actor, Some(id), AuditAction::Created, "client").execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(for_role(
            actor,
            Client {
                id,
                name: c.name,
                date_of_birth: c.date_of_birth,
                age_years: c.age_years,
                phone: c.phone,
                email: c.email,
                notes: c.notes,
                created_at: at,
                updated_at: at,
            },
        ))
    }

    /// One client (audited as viewed).
    pub async fn client(&self, actor: &Actor, client_id: Uuid) -> StoreResult<Client> {
        actor.require(Action::ViewClients)?;
        let client = self.fetch_client(actor, client_id).await?;
        self.audit(actor, Some(client_id), AuditAction::Viewed, "client")
            .await?;
        Ok(client)
    }

    pub(crate) async fn fetch_client(&self, actor: &Actor, client_id: Uuid) -> StoreResult<Client> {
        let row: Option<ClientRow> = on_db!(self, pool => {
            sqlx::query_as(concat!("SELECT ", client_cols!(), " FROM clients WHERE clinic_id = $1 AND id = $2"))
                .bind(actor.clinic_id).bind(client_id).fetch_optional(pool).await?
        });
        row.map(|r| for_role(actor, client_from_row(r)))
            .ok_or_else(|| StoreError::not_found("client"))
    }

    /// Replaces a client's details.
    pub async fn update_client(
        &self,
        actor: &Actor,
        client_id: Uuid,
        client: &NewClient,
    ) -> StoreResult<Client> {
        actor.require(Action::EditClients)?;
        let mut c = check_client(client)?;
        if !actor.role.may(Action::ViewClinicalRecords) {
            // The front desk neither sees nor replaces the notes (it was shown them blank).
            let row: Option<(String,)> = on_db!(self, pool => {
                sqlx::query_as("SELECT notes FROM clients WHERE clinic_id = $1 AND id = $2")
                    .bind(actor.clinic_id).bind(client_id).fetch_optional(pool).await?
            });
            c.notes = row.map(|r| r.0).ok_or_else(|| StoreError::not_found("client"))?;
        }
        let done = on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            let done = sqlx::query(
                "UPDATE clients SET name = $1, date_of_birth = $2, age_years = $3, phone = $4, email = $5, notes = $6, \
                 search_text = $7, updated_at = $8 WHERE clinic_id = $9 AND id = $10",
            )
            .bind(&c.name).bind(c.date_of_birth).bind(c.age_years).bind(&c.phone).bind(&c.email).bind(&c.notes)
            .bind(&c.search_text).bind(now()).bind(actor.clinic_id).bind(client_id)
            .execute(&mut *tx).await?.rows_affected();
            if done == 1 {
                audit_insert!(actor, Some(client_id), AuditAction::Changed, "client").execute(&mut *tx).await?;
                tx.commit().await?;
            } else {
                tx.rollback().await?;
            }
            done
        });
        if done != 1 {
            return Err(StoreError::not_found("client"));
        }
        self.fetch_client(actor, client_id).await
    }

    /// Deletes a client who has no records yet (a typo, a duplicate). A client with
    /// consultations, sessions, photos or appointments is a [`StoreError::Conflict`]:
    /// records are anonymised after the retention period ([`Store::run_retention`]) or erased
    /// on request under the legal hold ([`Store::erase_client`]).
    pub async fn delete_client(&self, actor: &Actor, client_id: Uuid) -> StoreResult<()> {
        actor.require(Action::DeleteClients)?;
        self.ensure_client(actor, client_id).await?;
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            // The booking request the client was made from is not a record of theirs.
            sqlx::query("UPDATE booking_requests SET client_id = NULL WHERE clinic_id = $1 AND client_id = $2")
                .bind(actor.clinic_id).bind(client_id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM clients WHERE clinic_id = $1 AND id = $2")
                .bind(actor.clinic_id).bind(client_id).execute(&mut *tx).await
                .map_err(|e| match StoreError::from(e) {
                    StoreError::NotFound { .. } => StoreError::Conflict {
                        message: "the client has records: they are kept for the retention period; to erase them on the \
                                  client's request, use erasure (POST /clients/{id}/erasure), which keeps what the law holds"
                            .to_owned(),
                    },
                    other => other,
                })?;
            audit_insert!(actor, Some(client_id), AuditAction::Deleted, "client").execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    // ----- consultations -----

    /// Records a consultation as the client's next version (1, 2, …), and with it the design
    /// drawn from it, in one transaction: both are kept or neither. Earlier versions stay. A
    /// plan with a quote gets the clinic's next quote number.
    pub async fn add_consultation(
        &self,
        actor: &Actor,
        consultation: &NewConsultation,
        design: Option<&NewDesign>,
    ) -> StoreResult<(Consultation, Option<Design>)> {
        actor.require(Action::EditClinicalRecords)?;
        let c = consultation;
        let profile_toml = validate::text("profile_toml", &c.profile_toml)?;
        let settings_toml = validate::text("settings_toml", &c.settings_toml)?;
        let design_notes = design.map(|d| validate::text("notes", &d.notes)).transpose()?;
        if let Some(d) = design {
            if d.client_id != c.client_id {
                return Err(StoreError::invalid(
                    "design.client_id",
                    format!(
                        "expected the consultation's client {}, got {}",
                        c.client_id, d.client_id
                    ),
                ));
            }
            check_json_fields(&[
                ("hairline", &d.hairline),
                ("zones", &d.zones),
                ("settings", &d.settings),
            ])?;
        }
        self.ensure_client(actor, c.client_id).await?;
        if let Some(earlier) = c.replanned_from {
            self.ensure_consultation_of(actor, earlier, c.client_id).await?;
        }
        let id = Uuid::new_v4();
        let design_id = Uuid::new_v4();
        let at = now();
        let plan = plan_json(&c.plan)?;
        validate::json("plan", &plan)?;
        if let Some(p) = design.and_then(|d| d.plan.as_ref()) {
            validate::json("design.plan", &plan_json(p)?)?;
        }
        let numbers = insert_next_version(|| async {
            let inserted: StoreResult<Numbers> = on_db!(self, pool => async {
                let mut tx = self.begin_audited(pool).await?;
                let quote_number = match c.plan.quote {
                    Some(_) => Some(next_quote_number!(tx, actor.clinic_id)),
                    None => None,
                };
                let (version,): (i64,) = sqlx::query_as(
                    "INSERT INTO consultations (id, clinic_id, client_id, version, profile_toml, profile, assessment, plan, settings, created_at, created_by, schema_version, settings_toml, quote_number, replanned_from) \
                     VALUES ($1, $2, $3, (SELECT COALESCE(MAX(version), 0) + 1 FROM consultations WHERE client_id = $3), $4, NULL, $5, $6, $5, $7, $8, $9, $10, $11, $12) \
                     RETURNING version",
                )
                .bind(id).bind(actor.clinic_id).bind(c.client_id).bind(&profile_toml).bind(Json(Value::Null))
                .bind(Json(&plan)).bind(at).bind(actor.user_id).bind(PLAN_SCHEMA_VERSION).bind(&settings_toml)
                .bind(quote_number).bind(c.replanned_from)
                .fetch_one(&mut *tx).await?;
                audit_insert!(actor, Some(c.client_id), AuditAction::Created, format!("consultation v{version}"))
                    .execute(&mut *tx).await?;
                let (design_version, design_quote) = match design {
                    Some(d) => {
                        let (v, q) = insert_design!(tx, actor, design_id, d, Some(id), design_notes.as_deref().unwrap_or(""), d.plan.as_ref(), at);
                        (Some(v), q)
                    }
                    None => (None, None),
                };
                tx.commit().await?;
                Ok::<_, StoreError>((version, quote_number, design_version, design_quote))
            }.await);
            inserted
        })
        .await?;
        let (version, quote_number, design_version, design_quote) = numbers;
        let saved_design = design.zip(design_version).map(|(d, v)| Design {
            id: design_id,
            client_id: d.client_id,
            version: v,
            consultation_id: Some(id),
            hairline: d.hairline.clone(),
            zones: d.zones.clone(),
            seed: d.seed,
            settings: d.settings.clone(),
            notes: design_notes.clone().unwrap_or_default(),
            schema_version: if d.plan.is_some() { PLAN_SCHEMA_VERSION } else { 0 },
            plan: d.plan.clone(),
            quote_number: design_quote,
            created_at: at,
            created_by: actor.user_id,
        });
        Ok((
            Consultation {
                id,
                client_id: c.client_id,
                version,
                schema_version: PLAN_SCHEMA_VERSION,
                profile_toml: Some(profile_toml),
                settings_toml: Some(settings_toml),
                plan: c.plan.clone(),
                quote_number,
                replanned_from: c.replanned_from,
                created_at: at,
                created_by: actor.user_id,
            },
            saved_design,
        ))
    }

    /// `NotFound("consultation")` unless `consultation_id` is a consultation of `client_id`
    /// in the actor's clinic.
    async fn ensure_consultation_of(
        &self,
        actor: &Actor,
        consultation_id: Uuid,
        client_id: Uuid,
    ) -> StoreResult<()> {
        let row: Option<(Uuid,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT id FROM consultations WHERE clinic_id = $1 AND id = $2 AND client_id = $3")
                .bind(actor.clinic_id).bind(consultation_id).bind(client_id).fetch_optional(pool).await?
        });
        row.map(|_| ())
            .ok_or_else(|| StoreError::not_found("consultation"))
    }

    /// Every consultation version of a client, oldest first.
    pub async fn consultations(&self, actor: &Actor, client_id: Uuid) -> StoreResult<Vec<Consultation>> {
        actor.require(Action::ViewClinicalRecords)?;
        self.ensure_client(actor, client_id).await?;
        let rows: Vec<ConsultationRow> = on_db!(self, pool => {
            sqlx::query_as(CLIENT_CONSULTATIONS)
                .bind(actor.clinic_id).bind(client_id).fetch_all(pool).await?
        });
        self.audit(actor, Some(client_id), AuditAction::Viewed, "consultations")
            .await?;
        rows.into_iter().map(consultation_from_row).collect()
    }

    /// One consultation.
    pub async fn consultation(&self, actor: &Actor, consultation_id: Uuid) -> StoreResult<Consultation> {
        actor.require(Action::ViewClinicalRecords)?;
        let row: Option<ConsultationRow> = on_db!(self, pool => {
            sqlx::query_as(concat!("SELECT ", consultation_cols!(), " FROM consultations WHERE clinic_id = $1 AND id = $2"))
                .bind(actor.clinic_id).bind(consultation_id).fetch_optional(pool).await?
        });
        let consultation = consultation_from_row(row.ok_or_else(|| StoreError::not_found("consultation"))?)?;
        let detail = format!("consultation v{}", consultation.version);
        self.audit(actor, Some(consultation.client_id), AuditAction::Viewed, &detail)
            .await?;
        Ok(consultation)
    }

    // ----- designs -----

    /// Saves a design, with the plan and quote that go with it, as the client's next version;
    /// earlier versions stay.
    pub async fn add_design(&self, actor: &Actor, design: &NewDesign) -> StoreResult<Design> {
        actor.require(Action::EditClinicalRecords)?;
        let d = design;
        check_json_fields(&[
            ("hairline", &d.hairline),
            ("zones", &d.zones),
            ("settings", &d.settings),
        ])?;
        let notes = validate::text("notes", &d.notes)?;
        if let Some(p) = &d.plan {
            validate::json("plan", &plan_json(p)?)?;
        }
        self.ensure_client(actor, d.client_id).await?;
        if let Some(consultation_id) = d.consultation_id {
            self.ensure_consultation_of(actor, consultation_id, d.client_id)
                .await?;
        }
        let id = Uuid::new_v4();
        let at = now();
        let numbers = insert_next_version(|| async {
            let inserted: StoreResult<(i64, Option<i64>)> = on_db!(self, pool => async {
                let mut tx = self.begin_audited(pool).await?;
                let saved = insert_design!(tx, actor, id, d, d.consultation_id, &notes, d.plan.as_ref(), at);
                tx.commit().await?;
                Ok::<_, StoreError>(saved)
            }.await);
            inserted
        })
        .await?;
        Ok(Design {
            id,
            client_id: d.client_id,
            version: numbers.0,
            consultation_id: d.consultation_id,
            hairline: d.hairline.clone(),
            zones: d.zones.clone(),
            seed: d.seed,
            settings: d.settings.clone(),
            notes,
            schema_version: if d.plan.is_some() { PLAN_SCHEMA_VERSION } else { 0 },
            plan: d.plan.clone(),
            quote_number: numbers.1,
            created_at: at,
            created_by: actor.user_id,
        })
    }

    /// Every design version of a client, oldest first.
    pub async fn designs(&self, actor: &Actor, client_id: Uuid) -> StoreResult<Vec<Design>> {
        actor.require(Action::ViewClinicalRecords)?;
        self.ensure_client(actor, client_id).await?;
        let rows: Vec<DesignRow> = on_db!(self, pool => {
            sqlx::query_as(CLIENT_DESIGNS)
                .bind(actor.clinic_id).bind(client_id).fetch_all(pool).await?
        });
        self.audit(actor, Some(client_id), AuditAction::Viewed, "designs")
            .await?;
        rows.into_iter().map(design_from_row).collect()
    }

    /// One design.
    pub async fn design(&self, actor: &Actor, design_id: Uuid) -> StoreResult<Design> {
        actor.require(Action::ViewClinicalRecords)?;
        let row: Option<DesignRow> = on_db!(self, pool => {
            sqlx::query_as(concat!("SELECT ", design_cols!(), " FROM designs WHERE clinic_id = $1 AND id = $2"))
                .bind(actor.clinic_id).bind(design_id).fetch_optional(pool).await?
        });
        let design = design_from_row(row.ok_or_else(|| StoreError::not_found("design"))?)?;
        let detail = format!("design v{}", design.version);
        self.audit(actor, Some(design.client_id), AuditAction::Viewed, &detail)
            .await?;
        Ok(design)
    }

    // ----- appointments -----

    /// Records a treatment-session appointment (status `booked`) as given, without the diary's
    /// rules (opening hours, clashes, the healing interval, the yearly cap): for records made
    /// elsewhere and brought in, such as the demo clinic's past sessions. Bookings made at the
    /// clinic go through [`Store::book`], which keeps the rules.
    pub async fn book_appointment(
        &self,
        actor: &Actor,
        appointment: &NewAppointment,
    ) -> StoreResult<Appointment> {
        self.record_appointment(actor, appointment, AppointmentKind::Session, None, None)
            .await
    }

    /// Records an appointment of any kind as given, like [`Store::book_appointment`] (without
    /// the diary's rules), booked from session `plan_session.1` of the client's consultation
    /// `plan_session.0` when given, in `room` when given (not checked against the clinic's
    /// rooms): for records brought in, such as the demo clinic's week.
    pub async fn record_appointment(
        &self,
        actor: &Actor,
        appointment: &NewAppointment,
        kind: AppointmentKind,
        plan_session: Option<(Uuid, i64)>,
        room: Option<&str>,
    ) -> StoreResult<Appointment> {
        actor.require(Action::ManageAppointments)?;
        let a = super::diary::checked_appointment(appointment)?;
        self.ensure_client(actor, a.client_id).await?;
        if let Some(practitioner) = a.practitioner_id {
            self.user(actor, practitioner).await?;
        }
        if let Some((consultation_id, _)) = plan_session {
            let found: Option<(Uuid,)> = on_db!(self, pool => {
                sqlx::query_as("SELECT id FROM consultations WHERE clinic_id = $1 AND client_id = $2 AND id = $3")
                    .bind(actor.clinic_id).bind(a.client_id).bind(consultation_id).fetch_optional(pool).await?
            });
            found.ok_or_else(|| StoreError::not_found("consultation"))?;
        }
        let mut created = super::diary::new_appointment(
            actor,
            &a,
            kind,
            plan_session.map(|p| p.0),
            plan_session.map(|p| p.1),
        );
        created.room = room.map(|r| validate::line("room", r, false)).transpose()?;
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            super::diary::insert_appointment!(tx, actor, created);
            tx.commit().await?;
        });
        Ok(created)
    }

    pub(super) async fn fetch_appointment(
        &self,
        actor: &Actor,
        appointment_id: Uuid,
    ) -> StoreResult<Appointment> {
        let row: Option<AppointmentRow> = on_db!(self, pool => {
            sqlx::query_as(concat!("SELECT ", appointment_cols!(), " FROM appointments WHERE clinic_id = $1 AND id = $2"))
                .bind(actor.clinic_id).bind(appointment_id).fetch_optional(pool).await?
        });
        appointment_from_row(row.ok_or_else(|| StoreError::not_found("appointment"))?)
    }

    /// The diary: appointments starting in `[from, to)`, by start.
    pub async fn appointments_between(
        &self,
        actor: &Actor,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<Appointment>> {
        actor.require(Action::ManageAppointments)?;
        let from = validate::moment("from", from)?;
        let to = validate::moment("to", to)?;
        let rows: Vec<AppointmentRow> = on_db!(self, pool => {
            sqlx::query_as(DIARY)
            .bind(actor.clinic_id).bind(from).bind(to).bind(MAX_LIST).fetch_all(pool).await?
        });
        let detail = format!(
            "diary {} to {}, {} appointments",
            from.date(),
            to.date(),
            rows.len()
        );
        self.audit(actor, None, AuditAction::DiaryRead, &detail).await?;
        rows.into_iter().map(appointment_from_row).collect()
    }

    /// A client's appointments, by start.
    pub async fn client_appointments(&self, actor: &Actor, client_id: Uuid) -> StoreResult<Vec<Appointment>> {
        actor.require(Action::ManageAppointments)?;
        self.ensure_client(actor, client_id).await?;
        let rows: Vec<AppointmentRow> = on_db!(self, pool => {
            sqlx::query_as(CLIENT_APPOINTMENTS)
                .bind(actor.clinic_id).bind(client_id).fetch_all(pool).await?
        });
        self.audit(actor, Some(client_id), AuditAction::Viewed, "appointments")
            .await?;
        rows.into_iter().map(appointment_from_row).collect()
    }

    // ----- pigments -----

    /// Adds a pigment product.
    pub async fn add_pigment_product(
        &self,
        actor: &Actor,
        product: &NewPigmentProduct,
    ) -> StoreResult<PigmentProduct> {
        actor.require(Action::ManagePigments)?;
        let created = PigmentProduct {
            id: Uuid::new_v4(),
            name: validate::line("name", &product.name, false)?,
            maker: validate::line("maker", &product.maker, false)?,
            ingredients: validate::text("ingredients", &product.ingredients)?,
            created_at: now(),
        };
        on_db!(self, pool => {
            sqlx::query("INSERT INTO pigment_products (id, clinic_id, name, maker, ingredients, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(created.id).bind(actor.clinic_id).bind(&created.name).bind(&created.maker).bind(&created.ingredients).bind(created.created_at)
                .execute(pool).await?;
        });
        Ok(created)
    }

    /// The clinic's pigment products, by name.
    pub async fn pigment_products(&self, actor: &Actor) -> StoreResult<Vec<PigmentProduct>> {
        actor.require(Action::ViewClinicalRecords)?;
        let rows: Vec<(Uuid, String, String, String, OffsetDateTime)> = on_db!(self, pool => {
            sqlx::query_as("SELECT id, name, maker, ingredients, created_at FROM pigment_products WHERE clinic_id = $1 ORDER BY name, id")
                .bind(actor.clinic_id).fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, name, maker, ingredients, created_at)| PigmentProduct {
                id,
                name,
                maker,
                ingredients,
                created_at,
            })
            .collect())
    }

    /// Adds a batch of a product. A lot already recorded for the product is a conflict.
    pub async fn add_pigment_batch(
        &self,
        actor: &Actor,
        batch: &NewPigmentBatch,
    ) -> StoreResult<PigmentBatch> {
        actor.require(Action::ManagePigments)?;
        let created = PigmentBatch {
            id: Uuid::new_v4(),
            product_id: batch.product_id,
            lot: validate::line("lot", &batch.lot, false)?,
            expires_on: validate::date("expires_on", batch.expires_on)?,
            quantity: validate::int_range("quantity", batch.quantity, 0, 1_000_000)?,
            created_at: now(),
            recalled_on: None,
            recall_reason: String::new(),
        };
        let product: Option<(Uuid,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT id FROM pigment_products WHERE clinic_id = $1 AND id = $2")
                .bind(actor.clinic_id).bind(batch.product_id).fetch_optional(pool).await?
        });
        product.ok_or_else(|| StoreError::not_found("pigment product"))?;
        on_db!(self, pool => {
            sqlx::query("INSERT INTO pigment_batches (id, clinic_id, product_id, lot, expires_on, quantity, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(created.id).bind(actor.clinic_id).bind(created.product_id).bind(&created.lot).bind(created.expires_on)
                .bind(created.quantity).bind(created.created_at)
                .execute(pool).await
                .map_err(|e| match StoreError::from(e) {
                    StoreError::Conflict { .. } => StoreError::Conflict {
                        message: format!("lot: {} is already recorded for this product", created.lot),
                    },
                    other => other,
                })?;
        });
        Ok(created)
    }

    /// One batch.
    pub async fn pigment_batch(&self, actor: &Actor, batch_id: Uuid) -> StoreResult<PigmentBatch> {
        actor.require(Action::ViewClinicalRecords)?;
        let row: Option<BatchRow> = on_db!(self, pool => {
            sqlx::query_as(concat!("SELECT ", batch_cols!(), " FROM pigment_batches WHERE clinic_id = $1 AND id = $2"))
                .bind(actor.clinic_id).bind(batch_id).fetch_optional(pool).await?
        });
        row.map(batch_from_row)
            .ok_or_else(|| StoreError::not_found("pigment batch"))
    }

    /// Every batch of the clinic, soonest expiry first.
    pub async fn pigment_batches(&self, actor: &Actor) -> StoreResult<Vec<PigmentBatch>> {
        actor.require(Action::ViewClinicalRecords)?;
        let rows: Vec<BatchRow> = on_db!(self, pool => {
            sqlx::query_as(concat!("SELECT ", batch_cols!(), " FROM pigment_batches WHERE clinic_id = $1 ORDER BY expires_on, lot, id"))
                .bind(actor.clinic_id).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(batch_from_row).collect())
    }

    /// Changes a batch's stock by `delta` (negative to use up); stock never goes below zero.
    pub async fn adjust_batch_quantity(
        &self,
        actor: &Actor,
        batch_id: Uuid,
        delta: i64,
    ) -> StoreResult<PigmentBatch> {
        actor.require(Action::ManagePigments)?;
        let batch = self.pigment_batch(actor, batch_id).await?;
        let quantity = batch
            .quantity
            .checked_add(delta)
            .filter(|q| (0..=1_000_000).contains(q))
            .ok_or_else(|| {
                StoreError::invalid(
                    "quantity",
                    format!("stock {} plus {delta} must stay within 0–1000000", batch.quantity),
                )
            })?;
        let done = on_db!(self, pool => {
            sqlx::query("UPDATE pigment_batches SET quantity = quantity + $1 WHERE clinic_id = $2 AND id = $3 AND quantity + $1 >= 0")
                .bind(delta).bind(actor.clinic_id).bind(batch_id).execute(pool).await?.rows_affected()
        });
        if done != 1 {
            return Err(StoreError::invalid("quantity", "stock would go below zero"));
        }
        Ok(PigmentBatch { quantity, ..batch })
    }

    // ----- session logs -----

    /// Logs a treatment session. A batch expired on the session date (its expiry date is that
    /// day or earlier) or under recall is refused unless `chair.batch_override` gives the
    /// reason to use it all the same (then the session is logged with a
    /// [`Warning::BatchExpired`] for an expired batch, and the override is in the audit log).
    /// In the same transaction: the pigment units used come off the batch's stock (refused
    /// when the stock is short), and the appointment it took place in, if named, becomes
    /// `completed` with who and when in its history.
    pub async fn log_session(&self, actor: &Actor, session: &NewSessionLog) -> StoreResult<LoggedSession> {
        self.log_session_checked(actor, session, false).await
    }

    /// Logs a session only under the client's standing treatment consent for their latest
    /// design (the clinic's `consent.required_for_session`): checked after everything else, so
    /// a record of another clinic is still simply not found.
    pub async fn log_session_under_consent(
        &self,
        actor: &Actor,
        session: &NewSessionLog,
    ) -> StoreResult<LoggedSession> {
        self.log_session_checked(actor, session, true).await
    }

    async fn log_session_checked(
        &self,
        actor: &Actor,
        session: &NewSessionLog,
        consent_required: bool,
    ) -> StoreResult<LoggedSession> {
        actor.require(Action::EditClinicalRecords)?;
        let s = session;
        let performed_on = validate::date("performed_on", s.performed_on)?;
        if s.zones.is_empty() {
            return Err(StoreError::invalid(
                "zones",
                format!(
                    "name at least one of {}",
                    ZoneKind::ALL
                        .iter()
                        .map(|z| z.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let mut zones: Vec<&str> = Vec::with_capacity(s.zones.len());
        for zone in &s.zones {
            if zones.contains(&zone.as_str()) {
                return Err(StoreError::invalid("zones", format!("{zone:?} is listed twice")));
            }
            zones.push(zone.as_str());
        }
        let dilution = validate::range("dilution", s.dilution, f64::MIN_POSITIVE, 1.0, " (pigment share)")?;
        let depth_mm = validate::range("depth_mm", s.depth_mm, 0.01, 5.0, " mm")?;
        let needle = validate::line("needle", &s.needle, false)?;
        let needle_lot = validate::line("needle_lot", &s.needle_lot, false)?;
        let machine_settings = validate::text("machine_settings", &s.machine_settings)?;
        let duration_minutes = validate::int_range("duration_minutes", s.duration_minutes, 1, 1440)?;
        let anaesthetic = validate::line("anaesthetic", &s.anaesthetic, true)?;
        let notes = validate::text("notes", &s.notes)?;
        let pigment_units = validate::int_range("pigment_units", s.chair.pigment_units, 0, 1000)?;
        let batch_override = validate::line("batch_override", &s.chair.batch_override, true)?;
        self.ensure_client(actor, s.client_id).await?;
        self.user(actor, s.practitioner_id).await?;
        let mut appointment = None;
        if let Some(appointment_id) = s.appointment_id {
            let a = self.fetch_appointment(actor, appointment_id).await?;
            if a.client_id != s.client_id {
                return Err(StoreError::not_found("appointment"));
            }
            super::diary::check_transition(a.status, AppointmentStatus::Completed).map_err(|e| match e {
                StoreError::Invalid { message, .. } => StoreError::invalid("appointment_id", message),
                other => other,
            })?;
            appointment = Some(a);
        }
        let batch = self.pigment_batch(actor, s.batch_id).await?;
        let mut warnings = Vec::new();
        let mut refusals = Vec::new();
        if batch.expires_on <= performed_on {
            refusals.push(format!("lot {} expired on {}", batch.lot, batch.expires_on));
            warnings.push(Warning::BatchExpired {
                batch_id: batch.id,
                lot: batch.lot.clone(),
                expired_on: batch.expires_on,
            });
        }
        if let Some(on) = batch.recalled_on.filter(|on| *on <= performed_on) {
            refusals.push(format!(
                "lot {} is under recall since {on} ({})",
                batch.lot, batch.recall_reason
            ));
        }
        if !refusals.is_empty() && batch_override.is_empty() {
            return Err(StoreError::invalid(
                "batch_id",
                format!(
                    "{}: such a batch is refused at the chair; choose another batch, or give the reason to use it \
                     all the same (batch_override)",
                    refusals.join("; ")
                ),
            ));
        }
        if pigment_units > batch.quantity {
            return Err(StoreError::invalid(
                "pigment_units",
                format!(
                    "lot {} has {} in stock, fewer than the {pigment_units} used: record the stock first (Pigments)",
                    batch.lot, batch.quantity
                ),
            ));
        }
        if consent_required {
            self.consent_gate(actor, s.client_id).await?;
        }
        let id = Uuid::new_v4();
        let at = now();
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            sqlx::query(
                "INSERT INTO session_logs (id, clinic_id, client_id, appointment_id, performed_on, practitioner_id, zones, batch_id, dilution, \
                 needle, needle_lot, depth_mm, machine_settings, duration_minutes, anaesthetic, notes, created_at, pigment_units, batch_override) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
            )
            .bind(id).bind(actor.clinic_id).bind(s.client_id).bind(s.appointment_id).bind(performed_on).bind(s.practitioner_id)
            .bind(Json(&zones)).bind(s.batch_id).bind(dilution).bind(&needle).bind(&needle_lot).bind(depth_mm)
            .bind(&machine_settings).bind(duration_minutes).bind(&anaesthetic).bind(&notes).bind(at)
            .bind(pigment_units).bind(&batch_override)
            .execute(&mut *tx).await?;
            audit_insert!(actor, Some(s.client_id), AuditAction::Created, format!("session {performed_on}"))
                .execute(&mut *tx).await?;
            if !refusals.is_empty() {
                audit_insert!(
                    actor,
                    Some(s.client_id),
                    AuditAction::Created,
                    format!("session {performed_on}: batch override ({}): {batch_override}", refusals.join("; "))
                )
                .execute(&mut *tx).await?;
            }
            if pigment_units > 0 {
                let done = sqlx::query(
                    "UPDATE pigment_batches SET quantity = quantity - $1 WHERE clinic_id = $2 AND id = $3 AND quantity >= $1",
                )
                .bind(pigment_units).bind(actor.clinic_id).bind(s.batch_id).execute(&mut *tx).await?.rows_affected();
                if done != 1 {
                    tx.rollback().await?;
                    return Err(StoreError::invalid(
                        "pigment_units",
                        format!("lot {} has fewer than the {pigment_units} used in stock now", batch.lot),
                    ));
                }
            }
            if let Some(a) = &mut appointment {
                a.history.push(AppointmentChange { what: "completed (session logged)".into(), at, by: actor.user_id });
                sqlx::query("UPDATE appointments SET status = $1, history = $2 WHERE clinic_id = $3 AND id = $4")
                    .bind(AppointmentStatus::Completed.as_str()).bind(Json(&a.history)).bind(actor.clinic_id).bind(a.id)
                    .execute(&mut *tx).await?;
                audit_insert!(actor, Some(s.client_id), AuditAction::Changed, "appointment completed")
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(LoggedSession { id, warnings })
    }

    /// A client's session logs, oldest first.
    pub async fn session_logs(&self, actor: &Actor, client_id: Uuid) -> StoreResult<Vec<SessionLog>> {
        actor.require(Action::ViewClinicalRecords)?;
        self.ensure_client(actor, client_id).await?;
        let rows: Vec<SessionRow> = on_db!(self, pool => {
            sqlx::query(CLIENT_SESSIONS)
                .bind(actor.clinic_id).bind(client_id).fetch_all(pool).await?
                .iter().map(|r| session_row!(r)).collect::<Result<_, _>>()?
        });
        self.audit(actor, Some(client_id), AuditAction::Viewed, "session logs")
            .await?;
        rows.into_iter().map(session_from_row).collect()
    }

    /// One session log.
    pub async fn session_log(&self, actor: &Actor, session_id: Uuid) -> StoreResult<SessionLog> {
        actor.require(Action::ViewClinicalRecords)?;
        let row: Option<SessionRow> = on_db!(self, pool => {
            sqlx::query(concat!("SELECT ", session_cols!(), " FROM session_logs WHERE clinic_id = $1 AND id = $2"))
                .bind(actor.clinic_id).bind(session_id).fetch_optional(pool).await?
                .map(|r| session_row!(&r)).transpose()?
        });
        let session = session_from_row(row.ok_or_else(|| StoreError::not_found("session log"))?)?;
        let detail = format!("session {}", session.performed_on);
        self.audit(actor, Some(session.client_id), AuditAction::Viewed, &detail)
            .await?;
        Ok(session)
    }

    /// A recall: every client session that used the batch, by client name and date (for the
    /// recall's download; the view reads [`Store::recall_page`]). Each client listed gets an
    /// audit entry.
    pub async fn recall(&self, actor: &Actor, batch_id: Uuid) -> StoreResult<Vec<RecallEntry>> {
        actor.require(Action::RunRecall)?;
        let batch = self.pigment_batch(actor, batch_id).await?;
        let rows: Vec<RecallRow> = on_db!(self, pool => {
            sqlx::query_as(RECALL_ALL).bind(actor.clinic_id).bind(batch_id).fetch_all(pool).await?
        });
        self.recall_entries(actor, &batch, rows).await
    }

    /// A page of a recall, by client name and date: the first with `after` `None`, then each
    /// after the `next` of the one before; `limit` 1–500. The totals count every page. Each
    /// client listed on the page gets an audit entry. A long-used lot's recall reads one page
    /// (the batch's sessions sorted by the database, `LIMIT`ed), not all of them.
    pub async fn recall_page(
        &self,
        actor: &Actor,
        batch_id: Uuid,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<RecallPage> {
        actor.require(Action::RunRecall)?;
        let limit = validate::int_range("limit", limit, 1, MAX_LIST)?;
        let after = after.map(RecallCursor::parse).transpose()?;
        let batch = self.pigment_batch(actor, batch_id).await?;
        let (sessions, clients): (i64, i64) = on_db!(self, pool => {
            sqlx::query_as(RECALL_COUNTS).bind(actor.clinic_id).bind(batch_id).fetch_one(pool).await?
        });
        let mut rows: Vec<RecallRow> = match &after {
            None => on_db!(self, pool => {
                sqlx::query_as(RECALL_FIRST)
                    .bind(actor.clinic_id).bind(batch_id).bind(limit + 1).fetch_all(pool).await?
            }),
            Some(c) => on_db!(self, pool => {
                sqlx::query_as(RECALL_AFTER)
                    .bind(actor.clinic_id).bind(batch_id)
                    .bind(&c.name).bind(c.client_id).bind(c.performed_on).bind(c.session_id)
                    .bind(limit + 1).fetch_all(pool).await?
            }),
        };
        let next = super::search::page_end(&mut rows, limit, |r| {
            RecallCursor {
                name: r.1.clone(),
                client_id: r.0,
                performed_on: r.5,
                session_id: r.4,
            }
            .encode()
        });
        Ok(RecallPage {
            entries: self.recall_entries(actor, &batch, rows).await?,
            batch,
            next,
            sessions,
            clients,
        })
    }

    /// A recall's rows as entries, with an audit entry for each client among them.
    async fn recall_entries(
        &self,
        actor: &Actor,
        batch: &PigmentBatch,
        rows: Vec<RecallRow>,
    ) -> StoreResult<Vec<RecallEntry>> {
        let entries: Vec<RecallEntry> = rows
            .into_iter()
            .map(
                |(client_id, client_name, phone, email, session_id, performed_on, practitioner_id)| {
                    RecallEntry {
                        client_id,
                        client_name,
                        phone,
                        email,
                        session_id,
                        performed_on,
                        practitioner_id,
                    }
                },
            )
            .collect();
        let detail = format!("recall of batch {}", batch.lot);
        let mut audited = std::collections::HashSet::new();
        for entry in &entries {
            if audited.insert(entry.client_id) {
                self.audit(actor, Some(entry.client_id), AuditAction::Viewed, &detail)
                    .await?;
            }
        }
        Ok(entries)
    }

    // ----- consents -----

    /// Records a signed consent. Consents are never changed; a new version is a new consent.
    pub async fn record_consent(&self, actor: &Actor, consent: &NewConsent) -> StoreResult<Consent> {
        actor.require(Action::EditClinicalRecords)?;
        let created = Consent {
            id: Uuid::new_v4(),
            client_id: consent.client_id,
            kind: consent.kind,
            template_version: validate::line("template_version", &consent.template_version, false)?,
            text: validate::text("text", &consent.text)?,
            signed_by: validate::line("signed_by", &consent.signed_by, false)?,
            signed_at: validate::moment("signed_at", consent.signed_at)?,
            recorded_by: actor.user_id,
        };
        self.ensure_client(actor, consent.client_id).await?;
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            sqlx::query(
                "INSERT INTO consents (id, clinic_id, client_id, kind, template_version, text, signed_by, signed_at, recorded_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(created.id).bind(actor.clinic_id).bind(created.client_id).bind(created.kind.as_str()).bind(&created.template_version)
            .bind(&created.text).bind(&created.signed_by).bind(created.signed_at).bind(created.recorded_by)
            .execute(&mut *tx).await?;
            audit_insert!(actor, Some(created.client_id), AuditAction::Created, format!("consent {}", created.kind))
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(created)
    }

    /// A client's consents, oldest first.
    pub async fn consents(&self, actor: &Actor, client_id: Uuid) -> StoreResult<Vec<Consent>> {
        actor.require(Action::ViewClinicalRecords)?;
        self.ensure_client(actor, client_id).await?;
        let rows: Vec<ConsentRow> = on_db!(self, pool => {
            sqlx::query_as(concat!("SELECT ", consent_cols!(), " FROM consents WHERE clinic_id = $1 AND client_id = $2 ORDER BY signed_at, id"))
                .bind(actor.clinic_id).bind(client_id).fetch_all(pool).await?
        });
        self.audit(actor, Some(client_id), AuditAction::Viewed, "consents")
            .await?;
        rows.into_iter().map(consent_from_row).collect()
    }

    // ----- photos -----

    /// Uploads a photo: refuses anything but JPEG or PNG within the limits, strips its
    /// metadata ([`crate::strip_metadata`]), stores the bytes and the record.
    pub async fn upload_photo(&self, actor: &Actor, photo: &NewPhoto, bytes: &[u8]) -> StoreResult<Photo> {
        actor.require(Action::EditClinicalRecords)?;
        let taken_at = validate::moment("taken_at", photo.taken_at)?;
        let stripped = strip_metadata_with(bytes, &self.options.photo_limits)?;
        self.ensure_client(actor, photo.client_id).await?;
        if let Some(session_id) = photo.session_id {
            let row: Option<(Uuid,)> = on_db!(self, pool => {
                sqlx::query_as("SELECT id FROM session_logs WHERE clinic_id = $1 AND id = $2 AND client_id = $3")
                    .bind(actor.clinic_id).bind(session_id).bind(photo.client_id).fetch_optional(pool).await?
            });
            row.ok_or_else(|| StoreError::not_found("session log"))?;
        }
        if let Some(consent_id) = photo.consent_id {
            let row: Option<(Uuid,)> = on_db!(self, pool => {
                sqlx::query_as("SELECT id FROM consents WHERE clinic_id = $1 AND id = $2 AND client_id = $3")
                    .bind(actor.clinic_id).bind(consent_id).bind(photo.client_id).fetch_optional(pool).await?
            });
            row.ok_or_else(|| StoreError::not_found("consent"))?;
        }
        if let Some(consultation_id) = photo.consultation_id {
            let row: Option<(Uuid,)> = on_db!(self, pool => {
                sqlx::query_as("SELECT id FROM consultations WHERE clinic_id = $1 AND id = $2 AND client_id = $3")
                    .bind(actor.clinic_id).bind(consultation_id).bind(photo.client_id).fetch_optional(pool).await?
            });
            row.ok_or_else(|| StoreError::not_found("consultation"))?;
        }
        let id = Uuid::new_v4();
        let extension = match stripped.format {
            crate::ImageFormat::Jpeg => "jpg",
            crate::ImageFormat::Png => "png",
        };
        let blob_key = format!("clinics/{}/photos/{id}.{extension}", actor.clinic_id);
        let created = Photo {
            id,
            client_id: photo.client_id,
            session_id: photo.session_id,
            consent_id: photo.consent_id,
            consultation_id: photo.consultation_id,
            consented: photo.consented,
            angle: photo.angle,
            taken_at,
            content_type: stripped.format.content_type().to_owned(),
            byte_size: i64::try_from(stripped.bytes.len()).unwrap_or(i64::MAX),
            width: i64::from(stripped.width),
            height: i64::from(stripped.height),
            orientation: stripped.orientation.map(i64::from),
            blob_key,
            created_at: now(),
            created_by: Some(actor.user_id),
        };
        let path = object_store::path::Path::from(created.blob_key.as_str());
        self.blobs.put(&path, stripped.bytes).await?;
        let inserted: StoreResult<()> = on_db!(self, pool => async {
            let mut tx = self.begin_audited(pool).await?;
            sqlx::query(
                "INSERT INTO photos (id, clinic_id, client_id, session_id, consent_id, angle, taken_at, content_type, byte_size, width, height, \
                 orientation, blob_key, created_at, created_by, consultation_id, consented) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            )
            .bind(created.id).bind(actor.clinic_id).bind(created.client_id).bind(created.session_id).bind(created.consent_id)
            .bind(created.angle.as_str()).bind(created.taken_at).bind(&created.content_type).bind(created.byte_size)
            .bind(created.width).bind(created.height).bind(created.orientation).bind(&created.blob_key).bind(created.created_at)
            .bind(created.created_by).bind(created.consultation_id).bind(created.consented)
            .execute(&mut *tx).await?;
            audit_insert!(actor, Some(created.client_id), AuditAction::Created, format!("photo {}", created.id))
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        }.await);
        if let Err(error) = inserted {
            // No record, no bytes: a failed upload leaves nothing behind.
            let _ = self.blobs.0.delete(&path).await;
            return Err(error);
        }
        Ok(created)
    }

    /// The client uploads a photo of one angle in their own pages (issue 15). Only with a
    /// signed photographs consent that stands (not withdrawn): otherwise `Conflict`, saying to
    /// sign it first. The same checks and EXIF stripping as the clinic's uploads; the record
    /// has no staff member (`created_by` is `None`: taken by the client) and carries the
    /// client's consent. Nothing is audited: no staff member acts (the row says who and when).
    pub async fn upload_own_photo(
        &self,
        me: &super::PortalClient,
        angle: PhotoAngle,
        bytes: &[u8],
    ) -> StoreResult<Photo> {
        let consented: Option<(Uuid,)> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT c.id FROM signed_consents c LEFT JOIN consent_withdrawals w ON w.clinic_id = c.clinic_id AND w.consent_id = c.id \
                 WHERE c.clinic_id = $1 AND c.client_id = $2 AND c.kind = 'photos' AND w.consent_id IS NULL",
            )
            .bind(me.clinic_id).bind(me.client_id).fetch_optional(pool).await?
        });
        if consented.is_none() {
            return Err(StoreError::Conflict {
                message: "photos are kept only with the consent to photographs; sign it first".to_owned(),
            });
        }
        let stripped = strip_metadata_with(bytes, &self.options.photo_limits)?;
        let id = Uuid::new_v4();
        let extension = match stripped.format {
            crate::ImageFormat::Jpeg => "jpg",
            crate::ImageFormat::Png => "png",
        };
        let at = now();
        let created = Photo {
            id,
            client_id: me.client_id,
            session_id: None,
            consent_id: None,
            consultation_id: None,
            consented: true,
            angle,
            taken_at: at,
            content_type: stripped.format.content_type().to_owned(),
            byte_size: i64::try_from(stripped.bytes.len()).unwrap_or(i64::MAX),
            width: i64::from(stripped.width),
            height: i64::from(stripped.height),
            orientation: stripped.orientation.map(i64::from),
            blob_key: format!("clinics/{}/photos/{id}.{extension}", me.clinic_id),
            created_at: at,
            created_by: None,
        };
        let path = object_store::path::Path::from(created.blob_key.as_str());
        self.blobs.put(&path, stripped.bytes).await?;
        let inserted: StoreResult<()> = on_db!(self, pool => async {
            sqlx::query(
                "INSERT INTO photos (id, clinic_id, client_id, session_id, consent_id, angle, taken_at, content_type, byte_size, width, height, \
                 orientation, blob_key, created_at, created_by, consultation_id, consented) \
                 VALUES ($1, $2, $3, NULL, NULL, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, NULL, $13)",
            )
            .bind(created.id).bind(me.clinic_id).bind(created.client_id)
            .bind(created.angle.as_str()).bind(created.taken_at).bind(&created.content_type).bind(created.byte_size)
            .bind(created.width).bind(created.height).bind(created.orientation).bind(&created.blob_key).bind(created.created_at)
            .bind(created.consented)
            .execute(pool).await?;
            Ok::<(), StoreError>(())
        }.await);
        if let Err(error) = inserted {
            // No record, no bytes: a failed upload leaves nothing behind.
            let _ = self.blobs.0.delete(&path).await;
            return Err(error);
        }
        Ok(created)
    }

    /// One of the signed-in client's own photos and its bytes; another client's is not found.
    pub async fn own_photo(&self, me: &super::PortalClient, photo_id: Uuid) -> StoreResult<(Photo, Vec<u8>)> {
        let row: Option<PhotoRow> = on_db!(self, pool => {
            sqlx::query_as(concat!("SELECT ", photo_cols!(), " FROM photos WHERE clinic_id = $1 AND client_id = $2 AND id = $3"))
                .bind(me.clinic_id).bind(me.client_id).bind(photo_id).fetch_optional(pool).await?
        });
        let photo = photo_from_row(row.ok_or_else(|| StoreError::not_found("photo"))?)?;
        let path = object_store::path::Path::from(photo.blob_key.as_str());
        let bytes = self.blobs.0.get(&path).await?.bytes().await?.to_vec();
        Ok((photo, bytes))
    }

    /// A client's photo records, by time taken.
    pub async fn photos(&self, actor: &Actor, client_id: Uuid) -> StoreResult<Vec<Photo>> {
        actor.require(Action::ViewClinicalRecords)?;
        self.ensure_client(actor, client_id).await?;
        let rows: Vec<PhotoRow> = on_db!(self, pool => {
            sqlx::query_as(CLIENT_PHOTOS)
                .bind(actor.clinic_id).bind(client_id).fetch_all(pool).await?
        });
        self.audit(actor, Some(client_id), AuditAction::Viewed, "photos")
            .await?;
        rows.into_iter().map(photo_from_row).collect()
    }

    /// A photo's record and its (stripped) bytes.
    pub async fn photo(&self, actor: &Actor, photo_id: Uuid) -> StoreResult<(Photo, Vec<u8>)> {
        actor.require(Action::ViewClinicalRecords)?;
        let row: Option<PhotoRow> = on_db!(self, pool => {
            sqlx::query_as(concat!("SELECT ", photo_cols!(), " FROM photos WHERE clinic_id = $1 AND id = $2"))
                .bind(actor.clinic_id).bind(photo_id).fetch_optional(pool).await?
        });
        let photo = photo_from_row(row.ok_or_else(|| StoreError::not_found("photo"))?)?;
        let path = object_store::path::Path::from(photo.blob_key.as_str());
        let bytes = self.blobs.0.get(&path).await?.bytes().await?.to_vec();
        self.audit(
            actor,
            Some(photo.client_id),
            AuditAction::Viewed,
            &format!("photo {}", photo.id),
        )
        .await?;
        Ok((photo, bytes))
    }

    // ----- export -----

    /// A client's latest design, if any (no staff member acts: the portal and the session gate).
    pub(crate) async fn latest_design_of(
        &self,
        clinic_id: Uuid,
        client_id: Uuid,
    ) -> StoreResult<Option<Design>> {
        let row: Option<DesignRow> = on_db!(self, pool => {
            sqlx::query_as(concat!("SELECT ", design_cols!(), " FROM designs WHERE clinic_id = $1 AND client_id = $2 ORDER BY version DESC LIMIT 1"))
                .bind(clinic_id).bind(client_id).fetch_optional(pool).await?
        });
        row.map(design_from_row).transpose()
    }

    /// One of a client's appointments, if it is theirs (the portal).
    pub(crate) async fn appointment_of(
        &self,
        clinic_id: Uuid,
        client_id: Uuid,
        appointment_id: Uuid,
    ) -> StoreResult<Option<Appointment>> {
        let row: Option<AppointmentRow> = on_db!(self, pool => {
            sqlx::query_as(concat!("SELECT ", appointment_cols!(), " FROM appointments WHERE clinic_id = $1 AND client_id = $2 AND id = $3"))
                .bind(clinic_id).bind(client_id).bind(appointment_id).fetch_optional(pool).await?
        });
        row.map(appointment_from_row).transpose()
    }

    /// A client's record as the client may read it in their portal (no staff member acts, so
    /// nothing is audited; the caller proves who the client is): details, consultations and
    /// designs with their frozen plans and quotes, appointments, session logs and photo records.
    pub(crate) async fn record_of(&self, clinic_id: Uuid, client_id: Uuid) -> StoreResult<OwnRecordParts> {
        let client: Option<ClientRow> = on_db!(self, pool => {
            sqlx::query_as(concat!("SELECT ", client_cols!(), " FROM clients WHERE clinic_id = $1 AND id = $2"))
                .bind(clinic_id).bind(client_id).fetch_optional(pool).await?
        });
        let client = client_from_row(client.ok_or_else(|| StoreError::not_found("client"))?);
        type Rows = (
            Vec<ConsultationRow>,
            Vec<DesignRow>,
            Vec<AppointmentRow>,
            Vec<SessionRow>,
            Vec<PhotoRow>,
        );
        let (consultations, designs, appointments, sessions, photos): Rows = on_db!(self, pool => {(
            sqlx::query_as(CLIENT_CONSULTATIONS).bind(clinic_id).bind(client_id).fetch_all(pool).await?,
            sqlx::query_as(CLIENT_DESIGNS).bind(clinic_id).bind(client_id).fetch_all(pool).await?,
            sqlx::query_as(CLIENT_APPOINTMENTS).bind(clinic_id).bind(client_id).fetch_all(pool).await?,
            sqlx::query(CLIENT_SESSIONS).bind(clinic_id).bind(client_id).fetch_all(pool).await?
                .iter().map(|r| session_row!(r)).collect::<Result<_, _>>()?,
            sqlx::query_as(CLIENT_PHOTOS).bind(clinic_id).bind(client_id).fetch_all(pool).await?,
        )});
        Ok(OwnRecordParts {
            client,
            consultations: consultations
                .into_iter()
                .map(consultation_from_row)
                .collect::<StoreResult<_>>()?,
            designs: designs
                .into_iter()
                .map(design_from_row)
                .collect::<StoreResult<_>>()?,
            appointments: appointments
                .into_iter()
                .map(appointment_from_row)
                .collect::<StoreResult<_>>()?,
            sessions: sessions
                .into_iter()
                .map(session_from_row)
                .collect::<StoreResult<_>>()?,
            photos: photos
                .into_iter()
                .map(photo_from_row)
                .collect::<StoreResult<_>>()?,
        })
    }

    /// A client's whole record (owners only), audited as exported.
    pub async fn export_client(&self, actor: &Actor, client_id: Uuid) -> StoreResult<ClientExport> {
        actor.require(Action::ExportClient)?;
        let export = ClientExport {
            client: self.fetch_client(actor, client_id).await?,
            consultations: self.consultations(actor, client_id).await?,
            designs: self.designs(actor, client_id).await?,
            appointments: self.client_appointments(actor, client_id).await?,
            sessions: self.session_logs(actor, client_id).await?,
            consents: self.consents(actor, client_id).await?,
            signed_consents: self.signed_consents(actor, client_id).await?,
            intakes: self.intakes(actor, client_id).await?,
            move_requests: self.client_move_requests(actor, client_id).await?,
            payments: self.client_payments(actor, client_id).await?,
            photos: self.photos(actor, client_id).await?,
            landmarks: self.client_landmarks(actor, client_id).await?,
            messages: self.client_messages(actor, client_id).await?,
        };
        self.audit(actor, Some(client_id), AuditAction::Exported, "whole record")
            .await?;
        Ok(export)
    }
}
