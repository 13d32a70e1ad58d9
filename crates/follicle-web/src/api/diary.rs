//! The diary (appointments) and the treatment session log.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Id, JsonBody, QueryArgs, SignedIn};
use crate::state::AppState;
use crate::wire::{
    AppointmentAnswer, AppointmentMove, AppointmentStatus, LoggedSessionAnswer, NewAppointment,
    NewSessionLog, PlanBooking, SessionLogAnswer,
};
use follicle_store::DiaryRules;

/// A stretch of the diary.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DiaryQuery {
    /// From (RFC 3339).
    pub from: String,
    /// To (RFC 3339), at most 366 days after `from`.
    pub to: String,
}

fn moment(field: &str, text: &str) -> ApiResult<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).map_err(|e| {
        ApiError::invalid(
            field,
            format!("expected an RFC 3339 time such as 2026-11-21T09:00:00Z, got {text:?}: {e}"),
        )
    })
}

/// Appointments between two times, earliest first.
#[utoipa::path(get, path = "/appointments", tag = "appointments", params(DiaryQuery),
    responses((status = 200, body = Vec<AppointmentAnswer>), (status = 422, body = ErrorBody)))]
pub async fn between(
    State(state): State<AppState>,
    me: SignedIn,
    QueryArgs(q): QueryArgs<DiaryQuery>,
) -> ApiResult<Json<Vec<AppointmentAnswer>>> {
    let (from, to) = (moment("from", &q.from)?, moment("to", &q.to)?);
    if to < from || (to - from).whole_days() > 366 {
        return Err(ApiError::invalid(
            "to",
            "expected a time after from and at most 366 days later",
        ));
    }
    let found = state.store().appointments_between(&me.actor, from, to).await?;
    Ok(Json(found.into_iter().map(Into::into).collect()))
}

/// The clinic's booking rules now.
pub(crate) async fn rules(state: &AppState, actor: &follicle_store::Actor) -> ApiResult<DiaryRules> {
    let settings = state.clinic_settings(actor).await?;
    Ok(DiaryRules::from_settings(&settings, OffsetDateTime::now_utc()))
}

/// Books an appointment with the diary's rules: in the future, inside the opening hours of an
/// open day (`diary`, `intervals.working_days`), a session or touch-up at least
/// `intervals.minimum_days` from the client's others and within
/// `intervals.max_sessions_per_12_months`. A practitioner or a room (`diary.rooms`) already
/// booked then is a 409 naming the appointment, unless `override_reason` is given (kept in the
/// history and audit log); a room not of the clinic is a 422 naming its rooms.
#[utoipa::path(post, path = "/appointments", tag = "appointments", request_body = NewAppointment,
    responses((status = 201, body = AppointmentAnswer), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn book(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(body): JsonBody<NewAppointment>,
) -> ApiResult<(StatusCode, Json<AppointmentAnswer>)> {
    let rules = rules(&state, &me.actor).await?;
    let booked = state.store().book(&me.actor, &body.into(), &rules).await?;
    Ok((StatusCode::CREATED, Json(booked.into())))
}

/// One appointment, with its history.
#[utoipa::path(get, path = "/appointments/{id}", tag = "appointments",
    params(("id" = Uuid, Path, description = "The appointment")),
    responses((status = 200, body = AppointmentAnswer), (status = 404, body = ErrorBody)))]
pub async fn appointment(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<AppointmentAnswer>> {
    Ok(Json(state.store().appointment(&me.actor, id).await?.into()))
}

/// Moves a booked or confirmed appointment, with the same rules as a booking.
#[utoipa::path(put, path = "/appointments/{id}/time", tag = "appointments", request_body = AppointmentMove,
    params(("id" = Uuid, Path, description = "The appointment")),
    responses((status = 200, body = AppointmentAnswer), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn move_appointment(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(body): JsonBody<AppointmentMove>,
) -> ApiResult<Json<AppointmentAnswer>> {
    let rules = rules(&state, &me.actor).await?;
    let moved = state
        .store()
        .move_appointment(&me.actor, id, &body.into(), &rules)
        .await?;
    Ok(Json(moved.into()))
}

/// Books every session of a consultation's plan (and its patch test) in one step, at the
/// plan's intervals from session 1: all of them, or none with the error naming the session.
#[utoipa::path(post, path = "/consultations/{id}/bookings", tag = "appointments", request_body = PlanBooking,
    params(("id" = Uuid, Path, description = "The consultation")),
    responses((status = 201, body = Vec<AppointmentAnswer>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn book_plan(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(body): JsonBody<PlanBooking>,
) -> ApiResult<(StatusCode, Json<Vec<AppointmentAnswer>>)> {
    let rules = rules(&state, &me.actor).await?;
    let booking = follicle_store::PlanBooking {
        consultation_id: id,
        practitioner_id: body.practitioner_id,
        room: body.room,
        first_starts_at: body.starts_at,
        override_reason: body.override_reason,
    };
    let booked = state.store().book_plan(&me.actor, &booking, &rules).await?;
    Ok((
        StatusCode::CREATED,
        Json(booked.into_iter().map(Into::into).collect()),
    ))
}

/// An appointment's new status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    /// `booked`, `confirmed`, `arrived`, `completed`, `cancelled` or `no_show`: forward along
    /// booked → confirmed → arrived → completed, or to cancelled while open, or to no-show
    /// before arrival.
    pub status: AppointmentStatus,
}

/// Changes an appointment's status.
#[utoipa::path(put, path = "/appointments/{id}/status", tag = "appointments", request_body = StatusInput,
    params(("id" = Uuid, Path, description = "The appointment")),
    responses((status = 200, body = AppointmentAnswer), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_status(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(body): JsonBody<StatusInput>,
) -> ApiResult<Json<AppointmentAnswer>> {
    Ok(Json(
        state
            .store()
            .set_appointment_status(&me.actor, id, body.status.into())
            .await?
            .into(),
    ))
}

/// A client's appointments.
#[utoipa::path(get, path = "/clients/{id}/appointments", tag = "appointments",
    params(("id" = Uuid, Path, description = "The client")),
    responses((status = 200, body = Vec<AppointmentAnswer>), (status = 404, body = ErrorBody)))]
pub async fn client_appointments(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<Vec<AppointmentAnswer>>> {
    let found = state.store().client_appointments(&me.actor, id).await?;
    Ok(Json(found.into_iter().map(Into::into).collect()))
}

/// Logs a treatment session. A pigment batch past its expiry or under recall is refused
/// unless `batch_override` gives the reason (then logged with a warning). The pigment units
/// used come off the batch's stock; the appointment named becomes `completed`.
#[utoipa::path(post, path = "/sessions", tag = "sessions", request_body = NewSessionLog,
    responses((status = 201, body = LoggedSessionAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn log_session(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(body): JsonBody<NewSessionLog>,
) -> ApiResult<(StatusCode, Json<LoggedSessionAnswer>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            crate::usecase::log_session(&state, &me.actor, &body.into())
                .await?
                .into(),
        ),
    ))
}

/// A client's logged sessions.
#[utoipa::path(get, path = "/clients/{id}/sessions", tag = "sessions",
    params(("id" = Uuid, Path, description = "The client")),
    responses((status = 200, body = Vec<SessionLogAnswer>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn client_sessions(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<Vec<SessionLogAnswer>>> {
    let found = state.store().session_logs(&me.actor, id).await?;
    Ok(Json(found.into_iter().map(Into::into).collect()))
}

/// One logged session.
#[utoipa::path(get, path = "/sessions/{id}", tag = "sessions",
    params(("id" = Uuid, Path, description = "The session")),
    responses((status = 200, body = SessionLogAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn session(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<SessionLogAnswer>> {
    Ok(Json(state.store().session_log(&me.actor, id).await?.into()))
}

/// A pigment batch put under recall.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecallNotice {
    /// From which day the batch is recalled.
    pub recalled_on: time::Date,
    /// Why: the maker's or the authority's notice.
    #[schema(min_length = 1, max_length = 200)]
    pub reason: String,
}

/// Puts a pigment batch under recall: from `recalled_on` on, a session logged with it is
/// refused at the chair unless `batch_override` gives the reason.
#[utoipa::path(put, path = "/pigments/batches/{id}/recall", tag = "pigments", request_body = RecallNotice,
    params(("id" = Uuid, Path, description = "The batch")),
    responses((status = 200, body = crate::wire::PigmentBatchAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn recall_batch(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(body): JsonBody<RecallNotice>,
) -> ApiResult<Json<crate::wire::PigmentBatchAnswer>> {
    let batch = state
        .store()
        .recall_batch(&me.actor, id, body.recalled_on, &body.reason)
        .await?;
    Ok(Json(batch.into()))
}
