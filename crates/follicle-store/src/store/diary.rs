//! The diary (issue 14): booking with the clinic's rules, a plan's sessions in one step,
//! moving an appointment, its statuses with who and when, the practitioners' columns, the
//! rooms, and a pigment batch put under recall.
//!
//! The rules ([`DiaryRules`], from the clinic's settings): an appointment starts in the future,
//! inside the opening hours (`diary.opens`–`diary.closes`) of a working day
//! (`intervals.working_days`) that is not a closed date (`diary.closed_dates`); a treatment
//! visit (a session or a touch-up) is at least `intervals.minimum_days` from the client's
//! other treatment visits and logged sessions, and makes no more than
//! `intervals.max_sessions_per_12_months` in any 365 days; a practitioner is not booked twice
//! at once, nor is a room (`diary.rooms`), unless the booking gives a reason to (the override
//! is kept in the appointment's history and the audit log). A refusal names the field, the
//! value and what is allowed.
//!
//! Times are the clinic's wall clock, stored as UTC without an offset (like the plan's
//! calendar times, "floating"): 10:00 in the diary is 10:00 at the clinic.
//!
//! Rooms (or chairs): the clinic lists them by name in `diary.rooms` (empty: one room, none
//! named). An appointment keeps its room's name (`appointments.room`, text, NULL for none): a
//! room is not a row of its own, so a room renamed in the settings leaves the appointments
//! booked in it under the old name, and a move that keeps the room keeps that name. A room a
//! booking or a move names must be one of `diary.rooms` (matched without case, stored as the
//! settings spell it); a booking may name no room. A room is booked once at a time, exactly as
//! a practitioner is: two appointments in one room overlap unless one is cancelled or a no-show,
//! and the clash is refused naming the other appointment unless the booking gives a reason
//! (`override_reason`, one reason for both clashes). Each clash overridden is a line of its
//! own in the appointment's history and the audit log (`override: Room 1 double-booked over
//! appointment …`, after the practitioner's `override: double-booked over appointment …`).
//!
//! The checks of a booking run inside its transaction, after a write to the practitioner's
//! row (`UPDATE users SET active = active`): on PostgreSQL that row lock serialises two
//! bookings of one practitioner, on SQLite the write takes the database's write lock first.
//! A booking with a room writes to the clinic's row first (`UPDATE clinics SET
//! retention_years = retention_years`, the transaction's first statement, before the
//! practitioner's row: always in that order, so two bookings cannot wait on each other): on
//! PostgreSQL that serialises the clinic's bookings with a room (a room has no row to lock; a
//! clinic books few at once), on SQLite it is the write that takes the lock, as the
//! transaction must start with one. Two bookings at once cannot both pass the double-booking
//! check, of a practitioner or of a room.

use follicle_core::Settings;
use sqlx::types::Json;
use time::{Date, Duration, OffsetDateTime, Time, Weekday};
use uuid::Uuid;

use super::{Store, audit_insert, now, on_db};
use crate::auth::Actor;
use crate::error::{StoreError, StoreResult};
use crate::model::*;
use crate::record::PlanRecord;
use crate::role::Action;
use crate::validate;

/// The clinic's booking rules, read from its settings, and the time now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiaryRules {
    /// Opening time (`diary.opens`).
    pub opens: Time,
    /// Closing time (`diary.closes`).
    pub closes: Time,
    /// The working days (`intervals.working_days`).
    pub working_days: Vec<Weekday>,
    /// Closed dates (`diary.closed_dates`).
    pub closed_dates: Vec<Date>,
    /// The clinic's rooms (`diary.rooms`; empty: one room, none named).
    pub rooms: Vec<String>,
    /// Least days between two treatment visits (`intervals.minimum_days`).
    pub minimum_days: i64,
    /// Most treatment visits in any 365 days (`intervals.max_sessions_per_12_months`).
    pub max_per_year: usize,
    /// Now, on the clinic's wall clock: nothing is booked before it.
    pub now: OffsetDateTime,
}

/// Days in the yearly cap's window (the plan's "any 365 days").
const YEAR_DAYS: i64 = 365;

impl DiaryRules {
    /// The rules of a clinic's settings, at `now`.
    pub fn from_settings(settings: &Settings, now: OffsetDateTime) -> DiaryRules {
        DiaryRules {
            opens: settings.diary.opens_at(),
            closes: settings.diary.closes_at(),
            working_days: settings
                .intervals
                .working_days
                .iter()
                .filter_map(|d| follicle_core::plan::parse_weekday(d).ok())
                .collect(),
            closed_dates: settings.diary.closed_days(),
            rooms: settings.diary.rooms.clone(),
            minimum_days: i64::from(settings.intervals.minimum_days),
            max_per_year: settings.intervals.max_sessions_per_12_months as usize,
            now,
        }
    }

    /// Whether the clinic is open on `day`.
    pub fn is_open_on(&self, day: Date) -> bool {
        self.working_days.contains(&day.weekday()) && !self.closed_dates.contains(&day)
    }

    /// The first open day on or after `day` (within a year; `day` itself when none is).
    pub fn next_open_day(&self, day: Date) -> Date {
        (0..YEAR_DAYS)
            .map(|n| day + Duration::days(n))
            .find(|d| self.is_open_on(*d))
            .unwrap_or(day)
    }

    /// Checks when an appointment is: in the future, on an open day, inside the opening hours.
    fn check_time(
        &self,
        field: &'static str,
        label: &str,
        starts_at: OffsetDateTime,
        minutes: i64,
    ) -> StoreResult<()> {
        let ends_at = starts_at + Duration::minutes(minutes);
        if starts_at < self.now {
            return Err(StoreError::invalid(
                field,
                format!(
                    "{label}{} is in the past; book from now ({}) on",
                    moment_text(starts_at),
                    moment_text(self.now)
                ),
            ));
        }
        let day = starts_at.date();
        if !self.working_days.contains(&day.weekday()) {
            let days: Vec<String> = self
                .working_days
                .iter()
                .map(|d| weekday_text(*d).to_owned())
                .collect();
            return Err(StoreError::invalid(
                field,
                format!(
                    "{label}{} {day} is not a working day; the clinic works {} (intervals.working_days)",
                    day.weekday(),
                    days.join(", ")
                ),
            ));
        }
        if self.closed_dates.contains(&day) {
            return Err(StoreError::invalid(
                field,
                format!("{label}{day} is a closed date of the clinic (diary.closed_dates)"),
            ));
        }
        if starts_at.time() < self.opens || ends_at.date() != day || ends_at.time() > self.closes {
            return Err(StoreError::invalid(
                field,
                format!(
                    "{label}{}–{} is outside the opening hours {}–{} (diary.opens, diary.closes)",
                    clock(starts_at.time()),
                    clock(ends_at.time()),
                    clock(self.opens),
                    clock(self.closes)
                ),
            ));
        }
        Ok(())
    }

    /// The room a booking names, as the settings name it (`None` for none given); a room that
    /// is not one of `diary.rooms` is refused naming the value and the rooms there are.
    pub fn check_room(&self, room: Option<&str>) -> StoreResult<Option<String>> {
        let Some(given) = room.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(None);
        };
        if let Some(found) = self
            .rooms
            .iter()
            .find(|r| r.to_lowercase() == given.to_lowercase())
        {
            return Ok(Some(found.clone()));
        }
        Err(StoreError::invalid(
            "room",
            if self.rooms.is_empty() {
                format!(
                    "{given:?} is not a room of the clinic: it lists no rooms (diary.rooms); book without one"
                )
            } else {
                format!(
                    "{given:?} is not a room of the clinic; choose one of {} (diary.rooms)",
                    self.rooms.join(", ")
                )
            },
        ))
    }

    /// Checks a treatment visit on `day` against the client's other treatment days: the
    /// healing interval and the yearly cap.
    fn check_treatment(
        &self,
        field: &'static str,
        label: &str,
        day: Date,
        others: &[Date],
    ) -> StoreResult<()> {
        for other in others {
            let gap = (day - *other).whole_days();
            if gap.abs() < self.minimum_days {
                let (earliest, side) = if gap >= 0 {
                    (*other + Duration::days(self.minimum_days), "after")
                } else {
                    (*other - Duration::days(self.minimum_days), "before")
                };
                let allowed = if gap >= 0 {
                    format!("on or after {earliest}")
                } else {
                    format!("on or before {earliest}")
                };
                return Err(StoreError::invalid(
                    field,
                    format!(
                        "{label}{day} is {} days {side} the client's session on {other}; sessions are at least {} days \
                         apart to heal (intervals.minimum_days): book it {allowed}",
                        gap.abs(),
                        self.minimum_days
                    ),
                ));
            }
        }
        // Every 365-day window that holds `day`: it starts on one of the days up to a year
        // before, or on `day` itself.
        let mut all: Vec<Date> = others.to_vec();
        all.push(day);
        all.sort_unstable();
        for start in all
            .iter()
            .filter(|d| **d <= day && (day - **d).whole_days() < YEAR_DAYS)
        {
            let end = *start + Duration::days(YEAR_DAYS - 1);
            let count = all.iter().filter(|d| **d >= *start && **d <= end).count();
            if count > self.max_per_year {
                return Err(StoreError::invalid(
                    field,
                    format!(
                        "{label}{day} would make {count} sessions in the 365 days from {start} to {end}; at most {} \
                         (intervals.max_sessions_per_12_months)",
                        self.max_per_year
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn clock(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn moment_text(t: OffsetDateTime) -> String {
    format!("{} {}", t.date(), clock(t.time()))
}

fn weekday_text(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

/// An appointment to book at the clinic, with the diary's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBooking {
    /// When, who, for whom, how long.
    pub appointment: NewAppointment,
    /// What for.
    pub kind: AppointmentKind,
    /// The room (one of `diary.rooms`), if any.
    pub room: Option<String>,
    /// A reason to book the practitioner or the room although they are booked then (empty:
    /// refuse).
    pub override_reason: String,
}

/// A plan's sessions to book in one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanBooking {
    /// The consultation whose plan is booked.
    pub consultation_id: Uuid,
    /// The practitioner of every session.
    pub practitioner_id: Option<Uuid>,
    /// The room of every session (one of `diary.rooms`), if any.
    pub room: Option<String>,
    /// When session 1 starts; the others follow at the plan's intervals, each at the plan's
    /// start time, moved forward to the next open day.
    pub first_starts_at: OffsetDateTime,
    /// A reason to book over the practitioner's or the room's other appointments (empty:
    /// refuse).
    pub override_reason: String,
}

/// A move of an appointment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentMove {
    /// The new start.
    pub starts_at: OffsetDateTime,
    /// The new practitioner (`None`: the same one).
    pub practitioner_id: Option<Uuid>,
    /// The new room, one of `diary.rooms` (`None`: the same one; an empty name: no room).
    pub room: Option<String>,
    /// A reason to book the practitioner or the room although they are booked then (empty:
    /// refuse).
    pub override_reason: String,
}

/// A practitioner, a column of the diary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Practitioner {
    /// Their user id.
    pub id: Uuid,
    /// Their name.
    pub name: String,
}

/// An appointment's fields, checked.
pub(super) fn checked_appointment(a: &NewAppointment) -> StoreResult<NewAppointment> {
    Ok(NewAppointment {
        client_id: a.client_id,
        practitioner_id: a.practitioner_id,
        starts_at: validate::moment("starts_at", a.starts_at)?,
        duration_minutes: validate::int_range("duration_minutes", a.duration_minutes, 1, 1440)?,
        notes: validate::text("notes", &a.notes)?,
    })
}

/// The appointment a checked booking makes.
pub(super) fn new_appointment(
    actor: &Actor,
    a: &NewAppointment,
    kind: AppointmentKind,
    consultation_id: Option<Uuid>,
    session_index: Option<i64>,
) -> Appointment {
    let at = now();
    Appointment {
        id: Uuid::new_v4(),
        client_id: a.client_id,
        practitioner_id: a.practitioner_id,
        room: None,
        starts_at: a.starts_at,
        duration_minutes: a.duration_minutes,
        status: AppointmentStatus::Booked,
        notes: a.notes.clone(),
        created_at: at,
        kind,
        consultation_id,
        session_index,
        history: vec![AppointmentChange {
            what: "booked".into(),
            at,
            by: actor.user_id,
        }],
    }
}

/// Inserts an appointment and its audit row inside the caller's transaction.
macro_rules! insert_appointment {
    ($tx:expr, $actor:expr, $a:expr) => {{
        sqlx::query(
            "INSERT INTO appointments (id, clinic_id, client_id, practitioner_id, starts_at, duration_minutes, status, notes, \
             created_at, kind, consultation_id, session_index, history, room) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind($a.id).bind($actor.clinic_id).bind($a.client_id).bind($a.practitioner_id).bind($a.starts_at)
        .bind($a.duration_minutes).bind($a.status.as_str()).bind(&$a.notes).bind($a.created_at)
        .bind($a.kind.as_str()).bind($a.consultation_id).bind($a.session_index).bind(Json(&$a.history))
        .bind(&$a.room)
        .execute(&mut *$tx).await?;
        crate::store::audit_insert!(
            $actor,
            Some($a.client_id),
            AuditAction::Created,
            format!("appointment ({}) {}", $a.kind, $a.starts_at.date())
        )
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(super) use insert_appointment;

/// Another appointment of the practitioner (or in the room): id, start, minutes, kind,
/// client's name.
type ClashRow = (Uuid, OffsetDateTime, i64, String, String);

/// Reads, inside a transaction and as its first statement, the other appointments in a room
/// around the time (none without a room). Locks the clinic's row first (see the module's
/// documentation).
macro_rules! read_room_clashes {
    ($tx:expr, $actor:expr, $room:expr, $from:expr, $to:expr, $except:expr) => {{
        let mut clashes: Vec<ClashRow> = Vec::new();
        if let Some(room) = $room {
            sqlx::query("UPDATE clinics SET retention_years = retention_years WHERE id = $1")
                .bind($actor.clinic_id)
                .execute(&mut *$tx)
                .await?;
            clashes = sqlx::query_as(
                "SELECT a.id, a.starts_at, a.duration_minutes, a.kind, c.name FROM appointments a \
                 JOIN clients c ON c.clinic_id = a.clinic_id AND c.id = a.client_id \
                 WHERE a.clinic_id = $1 AND a.room = $2 AND a.starts_at >= $3 AND a.starts_at < $4 \
                 AND a.status NOT IN ('cancelled', 'no_show') AND a.id <> $5 ORDER BY a.starts_at, a.id",
            )
            .bind($actor.clinic_id)
            .bind(room)
            .bind($from)
            .bind($to)
            .bind($except)
            .fetch_all(&mut *$tx)
            .await?;
        }
        clashes
    }};
}

/// Reads, inside a transaction, what a booking is checked against: the practitioner's other
/// appointments around the time and the client's treatment days. Locks the practitioner's row
/// first (see the module's documentation).
macro_rules! read_context {
    ($tx:expr, $actor:expr, $client:expr, $practitioner:expr, $from:expr, $to:expr, $except:expr) => {{
        let mut clashes: Vec<ClashRow> = Vec::new();
        if let Some(p) = $practitioner {
            sqlx::query("UPDATE users SET active = active WHERE clinic_id = $1 AND id = $2")
                .bind($actor.clinic_id).bind(p).execute(&mut *$tx).await?;
            clashes = sqlx::query_as(
                "SELECT a.id, a.starts_at, a.duration_minutes, a.kind, c.name FROM appointments a \
                 JOIN clients c ON c.clinic_id = a.clinic_id AND c.id = a.client_id \
                 WHERE a.clinic_id = $1 AND a.practitioner_id = $2 AND a.starts_at >= $3 AND a.starts_at < $4 \
                 AND a.status NOT IN ('cancelled', 'no_show') AND a.id <> $5 ORDER BY a.starts_at, a.id",
            )
            .bind($actor.clinic_id).bind(p).bind($from).bind($to).bind($except)
            .fetch_all(&mut *$tx).await?;
        }
        let visits: Vec<(Uuid, OffsetDateTime)> = sqlx::query_as(
            "SELECT id, starts_at FROM appointments WHERE clinic_id = $1 AND client_id = $2 \
             AND kind IN ('session', 'touch_up') AND status NOT IN ('cancelled', 'no_show') AND id <> $3",
        )
        .bind($actor.clinic_id).bind($client).bind($except)
        .fetch_all(&mut *$tx).await?;
        let logged: Vec<(Date, Option<Uuid>)> = sqlx::query_as(
            "SELECT performed_on, appointment_id FROM session_logs WHERE clinic_id = $1 AND client_id = $2",
        )
        .bind($actor.clinic_id).bind($client)
        .fetch_all(&mut *$tx).await?;
        let mut days: Vec<Date> = visits.iter().map(|(_, at)| at.date()).collect();
        // A logged session of a visit listed is that visit.
        days.extend(
            logged
                .iter()
                .filter(|(_, appointment)| !appointment.is_some_and(|a| visits.iter().any(|(id, _)| *id == a)))
                .map(|(day, _)| *day),
        );
        (clashes, days)
    }};
}

/// The clash of `[starts_at, starts_at + minutes)` with the other appointments of a
/// practitioner or a room (`who`; `instead`: what else to choose), as a refusal naming the
/// appointment; `None` when there is none.
fn clash(
    who: &str,
    instead: &str,
    label: &str,
    starts_at: OffsetDateTime,
    minutes: i64,
    others: &[ClashRow],
) -> Option<(Uuid, String)> {
    let ends_at = starts_at + Duration::minutes(minutes);
    others
        .iter()
        .find(|(_, at, m, _, _)| *at < ends_at && *at + Duration::minutes(*m) > starts_at)
        .map(|(id, at, m, kind, client)| {
            (
                *id,
                format!(
                    "{label}{who} is already booked then: {client}'s {} on {} {}–{} (appointment {id}). \
                     Choose another time or {instead}, or book anyway with a reason (override_reason)",
                    kind.replace('_', " "),
                    at.date(),
                    clock(at.time()),
                    clock((*at + Duration::minutes(*m)).time()),
                ),
            )
        })
}

/// What the checks of one booking need to know beyond the rules.
struct Proposed<'a> {
    label: String,
    starts_at: OffsetDateTime,
    minutes: i64,
    kind: AppointmentKind,
    practitioner: &'a str,
    room: Option<&'a str>,
}

/// The words a room's double-booking refusal ends with (a form shows it beside the room).
pub const ROOM_CLASH: &str = "Choose another time or room";

/// Checks one booking against the rules and what is booked (`clashes`: the practitioner's
/// other appointments, `room_clashes`: the room's); gives the override notes, one for each
/// clash the booking overrides (the practitioner's first, then the room's).
fn check_booking(
    rules: &DiaryRules,
    p: &Proposed<'_>,
    clashes: &[ClashRow],
    room_clashes: &[ClashRow],
    treatment_days: &[Date],
    override_reason: &str,
) -> StoreResult<Vec<String>> {
    rules.check_time("starts_at", &p.label, p.starts_at, p.minutes)?;
    if p.kind.is_treatment() {
        rules.check_treatment("starts_at", &p.label, p.starts_at.date(), treatment_days)?;
    }
    // (who, what else to choose, their other appointments, how the override note names them)
    let practitioner = (p.practitioner, "practitioner", clashes, String::new());
    let room = p
        .room
        .map(|room| (room, "room", room_clashes, format!("{room} ")));
    let mut notes = Vec::new();
    for (who, instead, rows, named) in std::iter::once(practitioner).chain(room) {
        if let Some((id, message)) = clash(who, instead, &p.label, p.starts_at, p.minutes, rows) {
            if override_reason.is_empty() {
                return Err(StoreError::Conflict { message });
            }
            notes.push(format!(
                "override: {named}double-booked over appointment {id} ({override_reason})"
            ));
        }
    }
    Ok(notes)
}

/// The latest plan of a client, as the front desk books it: its sessions and patch test,
/// without the clinical parts (reasons, zones, notes).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanToBook {
    /// The consultation.
    pub consultation_id: Uuid,
    /// Its version.
    pub version: i64,
    /// The planned sessions: number, day (if dated), start time, hours, purpose.
    pub sessions: Vec<(u32, Option<Date>, String, f64, String)>,
    /// Days from the patch test to session 1, when the plan has one.
    pub patch_test_days_before: Option<u32>,
}

impl Store {
    /// The client's latest consultation's plan, to book (`None` without one).
    pub async fn plan_to_book(&self, actor: &Actor, client_id: Uuid) -> StoreResult<Option<PlanToBook>> {
        actor.require(Action::ManageAppointments)?;
        self.ensure_client(actor, client_id).await?;
        let row: Option<(Uuid, i64)> = on_db!(self, pool => {
            sqlx::query_as("SELECT id, version FROM consultations WHERE clinic_id = $1 AND client_id = $2 ORDER BY version DESC LIMIT 1")
                .bind(actor.clinic_id).bind(client_id).fetch_optional(pool).await?
        });
        let Some((id, version)) = row else { return Ok(None) };
        let plan = self.consultation_plan(actor, id).await?;
        Ok(Some(PlanToBook {
            consultation_id: id,
            version,
            sessions: plan
                .sessions
                .iter()
                .map(|s| {
                    (
                        s.index,
                        s.date,
                        s.start_time.clone(),
                        s.duration_hours,
                        s.purpose.clone(),
                    )
                })
                .collect(),
            patch_test_days_before: plan.patch_test.as_ref().map(|p| p.days_before_first_session),
        }))
    }

    /// A consultation's client and stored plan, for booking and for the session log (the
    /// caller checks the role).
    pub(crate) async fn consultation_plan(
        &self,
        actor: &Actor,
        consultation_id: Uuid,
    ) -> StoreResult<PlanRecord> {
        Ok(self.consultation_for_booking(actor, consultation_id).await?.1)
    }

    async fn consultation_for_booking(
        &self,
        actor: &Actor,
        consultation_id: Uuid,
    ) -> StoreResult<(Uuid, PlanRecord)> {
        let row: Option<(Uuid, i64, Json<serde_json::Value>)> = on_db!(self, pool => {
            sqlx::query_as("SELECT client_id, schema_version, plan FROM consultations WHERE clinic_id = $1 AND id = $2")
                .bind(actor.clinic_id).bind(consultation_id).fetch_optional(pool).await?
        });
        let (client_id, version, plan) = row.ok_or_else(|| StoreError::not_found("consultation"))?;
        Ok((client_id, crate::record::read_plan(version, plan.0)?))
    }

    /// The planned session an appointment was booked for, with its plan's zones: what the
    /// session log is prefilled with (`None` for an appointment not booked from a plan).
    pub async fn planned_session(
        &self,
        actor: &Actor,
        appointment: &Appointment,
    ) -> StoreResult<Option<(crate::record::SessionRecord, Vec<String>)>> {
        actor.require(Action::ViewClinicalRecords)?;
        let (Some(consultation), Some(index)) = (appointment.consultation_id, appointment.session_index)
        else {
            return Ok(None);
        };
        let plan = match self.consultation_plan(actor, consultation).await {
            Ok(plan) => plan,
            // Erased since (the appointment was held, the consultation not).
            Err(StoreError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let zones = plan.zones.iter().map(|z| z.zone.clone()).collect();
        Ok(plan
            .sessions
            .into_iter()
            .find(|s| i64::from(s.index) == index)
            .map(|s| (s, zones)))
    }

    /// The practitioners (owners and practitioners, active), by name: the diary's columns.
    pub async fn practitioners(&self, actor: &Actor) -> StoreResult<Vec<Practitioner>> {
        actor.require(Action::ManageAppointments)?;
        let rows: Vec<(Uuid, String)> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT id, name FROM users WHERE clinic_id = $1 AND active = $2 AND role IN ('owner', 'practitioner') \
                 ORDER BY name, id",
            )
            .bind(actor.clinic_id).bind(true).fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, name)| Practitioner { id, name })
            .collect())
    }

    async fn practitioner_name(&self, actor: &Actor, id: Option<Uuid>) -> StoreResult<String> {
        match id {
            None => Ok(String::new()),
            Some(id) => {
                let row: Option<(String,)> = on_db!(self, pool => {
                    sqlx::query_as("SELECT name FROM users WHERE clinic_id = $1 AND id = $2")
                        .bind(actor.clinic_id).bind(id).fetch_optional(pool).await?
                });
                // Another clinic's user is not found, like any foreign id.
                row.map(|r| r.0).ok_or_else(|| StoreError::not_found("user"))
            }
        }
    }

    /// One appointment (audited as viewed).
    pub async fn appointment(&self, actor: &Actor, appointment_id: Uuid) -> StoreResult<Appointment> {
        actor.require(Action::ManageAppointments)?;
        let a = self.fetch_appointment(actor, appointment_id).await?;
        self.audit(actor, Some(a.client_id), AuditAction::Viewed, "appointment")
            .await?;
        Ok(a)
    }

    /// Books an appointment with the diary's rules (see the module's documentation).
    pub async fn book(
        &self,
        actor: &Actor,
        booking: &NewBooking,
        rules: &DiaryRules,
    ) -> StoreResult<Appointment> {
        actor.require(Action::ManageAppointments)?;
        let a = checked_appointment(&booking.appointment)?;
        let override_reason = validate::line("override_reason", &booking.override_reason, true)?;
        let room = rules.check_room(booking.room.as_deref())?;
        self.ensure_client(actor, a.client_id).await?;
        let practitioner = self.practitioner_name(actor, a.practitioner_id).await?;
        let mut created = new_appointment(actor, &a, booking.kind, None, None);
        created.room = room.clone();
        let proposed = Proposed {
            label: String::new(),
            starts_at: a.starts_at,
            minutes: a.duration_minutes,
            kind: booking.kind,
            practitioner: &practitioner,
            room: room.as_deref(),
        };
        let (from, to) = window(a.starts_at, a.starts_at + Duration::minutes(a.duration_minutes));
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            let room_clashes = read_room_clashes!(tx, actor, &room, from, to, Uuid::nil());
            let (clashes, days) = read_context!(tx, actor, a.client_id, a.practitioner_id, from, to, Uuid::nil());
            let notes = check_booking(rules, &proposed, &clashes, &room_clashes, &days, &override_reason)?;
            for note in notes {
                created.history.push(AppointmentChange { what: note.clone(), at: created.created_at, by: actor.user_id });
                audit_insert!(actor, Some(a.client_id), AuditAction::Created, format!("appointment {note}"))
                    .execute(&mut *tx).await?;
            }
            insert_appointment!(tx, actor, created);
            tx.commit().await?;
        });
        Ok(created)
    }

    /// Books every session of a consultation's plan (and its patch test, when the plan has
    /// one) in one step: all of them or, when one breaks a rule, none, with the error naming
    /// the session.
    pub async fn book_plan(
        &self,
        actor: &Actor,
        booking: &PlanBooking,
        rules: &DiaryRules,
    ) -> StoreResult<Vec<Appointment>> {
        actor.require(Action::ManageAppointments)?;
        let first = validate::moment("starts_at", booking.first_starts_at)?;
        let override_reason = validate::line("override_reason", &booking.override_reason, true)?;
        let room = rules.check_room(booking.room.as_deref())?;
        let (client_id, plan) = self
            .consultation_for_booking(actor, booking.consultation_id)
            .await?;
        let practitioner = self.practitioner_name(actor, booking.practitioner_id).await?;
        let planned = plan_visits(&plan, first, rules)?;
        let mut created: Vec<Appointment> = planned
            .iter()
            .map(|v| {
                let mut a = new_appointment(
                    actor,
                    &NewAppointment {
                        client_id,
                        practitioner_id: booking.practitioner_id,
                        starts_at: v.starts_at,
                        duration_minutes: v.minutes,
                        notes: v.notes.clone(),
                    },
                    v.kind,
                    Some(booking.consultation_id),
                    v.index,
                );
                a.room = room.clone();
                a
            })
            .collect();
        let from = created.iter().map(|a| a.starts_at).min().unwrap_or(first);
        let to = created
            .iter()
            .map(|a| a.starts_at + Duration::minutes(a.duration_minutes))
            .max()
            .unwrap_or(first);
        let (from, to) = window(from, to);
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            let mut room_clashes = read_room_clashes!(tx, actor, &room, from, to, Uuid::nil());
            let (mut clashes, mut days) =
                read_context!(tx, actor, client_id, booking.practitioner_id, from, to, Uuid::nil());
            for (a, v) in created.iter_mut().zip(&planned) {
                let proposed = Proposed {
                    label: format!("{} ({}): ", v.label, moment_text(a.starts_at)),
                    starts_at: a.starts_at,
                    minutes: a.duration_minutes,
                    kind: a.kind,
                    practitioner: &practitioner,
                    room: room.as_deref(),
                };
                for note in check_booking(rules, &proposed, &clashes, &room_clashes, &days, &override_reason)? {
                    a.history.push(AppointmentChange { what: note.clone(), at: a.created_at, by: actor.user_id });
                    audit_insert!(actor, Some(client_id), AuditAction::Created, format!("appointment {note}"))
                        .execute(&mut *tx).await?;
                }
                if a.kind.is_treatment() {
                    days.push(a.starts_at.date());
                }
                let this = (a.id, a.starts_at, a.duration_minutes, a.kind.as_str().to_owned(), String::from("this client"));
                room_clashes.push(this.clone());
                clashes.push(this);
                insert_appointment!(tx, actor, a);
            }
            tx.commit().await?;
        });
        Ok(created)
    }

    /// Moves a booked or confirmed appointment to another time (and practitioner), with the
    /// diary's rules; the move is kept in its history.
    pub async fn move_appointment(
        &self,
        actor: &Actor,
        appointment_id: Uuid,
        to: &AppointmentMove,
        rules: &DiaryRules,
    ) -> StoreResult<Appointment> {
        actor.require(Action::ManageAppointments)?;
        let starts_at = validate::moment("starts_at", to.starts_at)?;
        let override_reason = validate::line("override_reason", &to.override_reason, true)?;
        let mut a = self.fetch_appointment(actor, appointment_id).await?;
        if !matches!(a.status, AppointmentStatus::Booked | AppointmentStatus::Confirmed) {
            return Err(StoreError::invalid(
                "status",
                format!(
                    "the appointment is {}; only a booked or confirmed one can be moved",
                    a.status
                ),
            ));
        }
        let practitioner_id = to.practitioner_id.or(a.practitioner_id);
        let practitioner = self.practitioner_name(actor, practitioner_id).await?;
        // A room given is one of the clinic's (an empty one: none); the room kept may be one
        // renamed since.
        let room = match to.room.as_deref() {
            None => a.room.clone(),
            given => rules.check_room(given)?,
        };
        let proposed = Proposed {
            label: String::new(),
            starts_at,
            minutes: a.duration_minutes,
            kind: a.kind,
            practitioner: &practitioner,
            room: room.as_deref(),
        };
        let (from, until) = window(starts_at, starts_at + Duration::minutes(a.duration_minutes));
        let at = now();
        let mut moved = format!(
            "moved from {} to {}",
            moment_text(a.starts_at),
            moment_text(starts_at)
        );
        if room != a.room {
            moved.push_str(&format!(
                ", from {} to {}",
                a.room.as_deref().unwrap_or("no room"),
                room.as_deref().unwrap_or("no room")
            ));
        }
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            let room_clashes = read_room_clashes!(tx, actor, &room, from, until, a.id);
            let (clashes, days) = read_context!(tx, actor, a.client_id, practitioner_id, from, until, a.id);
            let notes = check_booking(rules, &proposed, &clashes, &room_clashes, &days, &override_reason)?;
            a.history.push(AppointmentChange { what: moved.clone(), at, by: actor.user_id });
            for note in &notes {
                a.history.push(AppointmentChange { what: note.clone(), at, by: actor.user_id });
            }
            sqlx::query(
                "UPDATE appointments SET starts_at = $1, practitioner_id = $2, room = $3, history = $4 \
                 WHERE clinic_id = $5 AND id = $6",
            )
            .bind(starts_at).bind(practitioner_id).bind(&room).bind(Json(&a.history)).bind(actor.clinic_id).bind(a.id)
            .execute(&mut *tx).await?;
            // The client's requests to move this visit are answered by the move.
            sqlx::query(super::visit_moves::CLOSE_ON_MOVE)
                .bind(at).bind(actor.user_id).bind(actor.clinic_id).bind(a.id)
                .execute(&mut *tx).await?;
            let detail = if notes.is_empty() {
                format!("appointment {moved}")
            } else {
                format!("appointment {moved}; {}", notes.join("; "))
            };
            audit_insert!(actor, Some(a.client_id), AuditAction::Changed, detail).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        a.starts_at = starts_at;
        a.practitioner_id = practitioner_id;
        a.room = room;
        Ok(a)
    }

    /// Changes an appointment's status, forward along booked → confirmed → arrived →
    /// completed (steps may be skipped), or to cancelled (while open) or no-show (before
    /// arrival). The change is kept in its history with who and when; setting the status it
    /// has changes nothing.
    pub async fn set_appointment_status(
        &self,
        actor: &Actor,
        appointment_id: Uuid,
        status: AppointmentStatus,
    ) -> StoreResult<Appointment> {
        actor.require(Action::ManageAppointments)?;
        let mut a = self.fetch_appointment(actor, appointment_id).await?;
        if a.status == status {
            return Ok(a);
        }
        check_transition(a.status, status)?;
        a.history.push(AppointmentChange {
            what: status.as_str().to_owned(),
            at: now(),
            by: actor.user_id,
        });
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            sqlx::query("UPDATE appointments SET status = $1, history = $2 WHERE clinic_id = $3 AND id = $4")
                .bind(status.as_str()).bind(Json(&a.history)).bind(actor.clinic_id).bind(appointment_id)
                .execute(&mut *tx).await?;
            audit_insert!(actor, Some(a.client_id), AuditAction::Changed, format!("appointment {status}"))
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        a.status = status;
        Ok(a)
    }

    /// Puts a pigment batch under recall from `on` (the maker's notice in `reason`): from then
    /// on it is refused at the chair unless overridden with a reason.
    pub async fn recall_batch(
        &self,
        actor: &Actor,
        batch_id: Uuid,
        on: Date,
        reason: &str,
    ) -> StoreResult<PigmentBatch> {
        actor.require(Action::ManagePigments)?;
        let on = validate::date("recalled_on", on)?;
        let reason = validate::line("recall_reason", reason, false)?;
        let batch = self.pigment_batch(actor, batch_id).await?;
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            sqlx::query("UPDATE pigment_batches SET recalled_on = $1, recall_reason = $2 WHERE clinic_id = $3 AND id = $4")
                .bind(on).bind(&reason).bind(actor.clinic_id).bind(batch_id).execute(&mut *tx).await?;
            audit_insert!(actor, None::<Uuid>, AuditAction::Changed, format!("batch {} recalled: {reason}", batch.lot))
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(PigmentBatch {
            recalled_on: Some(on),
            recall_reason: reason,
            ..batch
        })
    }
}

/// The window of other appointments that may overlap `[from, to)`: an appointment lasts at
/// most a day, so one starting a day before may still run.
fn window(from: OffsetDateTime, to: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    (from - Duration::days(1), to)
}

/// Whether an appointment may go from `from` to `to`.
pub fn may_become(from: AppointmentStatus, to: AppointmentStatus) -> bool {
    use AppointmentStatus::*;
    let rank = |s: AppointmentStatus| match s {
        Booked => 0,
        Confirmed => 1,
        Arrived => 2,
        Completed | Cancelled | NoShow => 3,
    };
    !from.is_final()
        && match to {
            Booked => false,
            Confirmed | Arrived | Completed => rank(to) > rank(from),
            Cancelled => true,
            NoShow => matches!(from, Booked | Confirmed),
        }
}

/// `Ok` when `from → to` is a step an appointment may take; otherwise the steps it may take.
pub(super) fn check_transition(from: AppointmentStatus, to: AppointmentStatus) -> StoreResult<()> {
    if may_become(from, to) {
        return Ok(());
    }
    let next: Vec<&str> = AppointmentStatus::ALL
        .iter()
        .filter(|s| may_become(from, **s))
        .map(|s| s.as_str())
        .collect();
    Err(StoreError::invalid(
        "status",
        if next.is_empty() {
            format!("the appointment is {from}, which is final; book a new one")
        } else {
            format!(
                "the appointment is {from}: it can become {}, not {to}",
                next.join(", ")
            )
        },
    ))
}

/// One visit of a plan to book.
struct PlannedVisit {
    label: String,
    kind: AppointmentKind,
    index: Option<i64>,
    starts_at: OffsetDateTime,
    minutes: i64,
    notes: String,
}

/// A plan's visits from session 1 at `first`: each later session the plan's own number of days
/// after the one before (at least the plan's gap), at the plan's start time, moved forward
/// to the next open day; the patch test the plan's days before session 1.
fn plan_visits(
    plan: &PlanRecord,
    first: OffsetDateTime,
    rules: &DiaryRules,
) -> StoreResult<Vec<PlannedVisit>> {
    if plan.sessions.is_empty() {
        return Err(StoreError::invalid(
            "consultation_id",
            "the plan has no sessions to book (a deferral, a referral or not suitable)",
        ));
    }
    let minutes = |hours: f64| (hours * 60.0).round() as i64;
    let mut visits = Vec::new();
    let mut previous: Option<(Date, Date)> = None; // (planned day, booked day)
    for (n, s) in plan.sessions.iter().enumerate() {
        let starts_at = match (n, previous, s.date) {
            (0, _, _) => first,
            (_, Some((planned_before, booked_before)), Some(planned)) => {
                let gap = (planned - planned_before).whole_days().max(rules.minimum_days);
                let day = rules.next_open_day(booked_before + Duration::days(gap));
                let time = follicle_core::plan::parse_clock(&s.start_time).unwrap_or(first.time());
                day.with_time(time).assume_utc()
            }
            _ => {
                let day = rules.next_open_day(
                    previous.map_or(first.date(), |(_, b)| b) + Duration::days(rules.minimum_days),
                );
                day.with_time(first.time()).assume_utc()
            }
        };
        previous = Some((s.date.unwrap_or(starts_at.date()), starts_at.date()));
        visits.push(PlannedVisit {
            label: format!("session {}", s.index),
            kind: AppointmentKind::Session,
            index: Some(i64::from(s.index)),
            starts_at,
            minutes: minutes(s.duration_hours).max(1),
            notes: format!("Session {}: {}", s.index, s.purpose),
        });
    }
    if let Some(pt) = &plan.patch_test {
        let day = first.date() - Duration::days(i64::from(pt.days_before_first_session));
        let time = follicle_core::plan::parse_clock(&pt.start_time).unwrap_or(first.time());
        visits.insert(
            0,
            PlannedVisit {
                label: "patch test".into(),
                kind: AppointmentKind::PatchTest,
                index: None,
                starts_at: day.with_time(time).assume_utc(),
                minutes: minutes(pt.duration_hours).max(1),
                notes: pt.text.clone(),
            },
        );
    }
    Ok(visits)
}
