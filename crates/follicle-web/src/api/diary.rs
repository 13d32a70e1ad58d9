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
    AppointmentAnswer, AppointmentStatus, LoggedSessionAnswer, NewAppointment, NewSessionLog,
    SessionLogAnswer,
};

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

/// Books an appointment.
#[utoipa::path(post, path = "/appointments", tag = "appointments", request_body = NewAppointment,
    responses((status = 201, body = AppointmentAnswer), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn book(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(body): JsonBody<NewAppointment>,
) -> ApiResult<(StatusCode, Json<AppointmentAnswer>)> {
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .store()
                .book_appointment(&me.actor, &body.into())
                .await?
                .into(),
        ),
    ))
}

/// An appointment's new status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusInput {
    /// `booked`, `confirmed`, `completed`, `cancelled` or `no_show`.
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

/// Logs a treatment session. An expired pigment batch is logged (what was used must be on
/// record) with a warning in the answer.
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
