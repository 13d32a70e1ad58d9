//! The clinic, its settings and its users; a client's audit log and export.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Id, JsonBody, SignedIn};
use crate::state::{AppState, parse_settings};
use crate::wire::{AuditEntryAnswer, ClientExportAnswer, ClinicAnswer, NewUser, Role, UserAnswer};

/// New clinic settings.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClinicSettingsInput {
    /// The clinic's settings file (TOML over the defaults that `follicle settings` prints);
    /// empty for the defaults.
    #[schema(max_length = 100000)]
    pub settings_toml: String,
    /// Years records are kept after the last visit, 1–100.
    #[schema(minimum = 1, maximum = 100)]
    pub retention_years: i64,
}

/// A user's new role and whether they may sign in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    /// The role.
    pub role: Role,
    /// Whether they may sign in (off also ends their sessions).
    pub active: bool,
}

/// The caller's clinic.
#[utoipa::path(get, path = "/clinic", tag = "clinic",
    responses((status = 200, body = ClinicAnswer), (status = 401, body = ErrorBody)))]
pub async fn clinic(State(state): State<AppState>, me: SignedIn) -> ApiResult<Json<ClinicAnswer>> {
    Ok(Json(state.store().clinic(&me.actor).await?.into()))
}

/// Changes the clinic's settings (owner). The file is checked first: a mistake answers 422
/// with the field and line, and the old settings stay.
#[utoipa::path(put, path = "/clinic/settings", tag = "clinic", request_body = ClinicSettingsInput,
    responses((status = 200, body = ClinicAnswer), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_settings(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(body): JsonBody<ClinicSettingsInput>,
) -> ApiResult<Json<ClinicAnswer>> {
    me.actor.require(follicle_store::Action::EditSettings)?;
    parse_settings(&body.settings_toml).map_err(|e| {
        // A mistake that is not in one field (TOML syntax) is in the file as a whole.
        let field = match e.field.as_str() {
            "" => "settings_toml".to_owned(),
            f => format!("settings_toml: {f}"),
        };
        let mut e = ApiError::from(e);
        e.detail.field = Some(field);
        e
    })?;
    let clinic = state
        .store()
        .update_clinic_settings(&me.actor, &body.settings_toml, body.retention_years)
        .await?;
    state.forget_settings(clinic.id);
    Ok(Json(clinic.into()))
}

/// The clinic's default settings file, with every figure's source.
#[utoipa::path(get, path = "/settings/defaults", tag = "clinic", security(()),
    responses((status = 200, description = "TOML", content_type = "application/toml", body = String)))]
pub async fn default_settings() -> ([(axum::http::HeaderName, &'static str); 1], &'static str) {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/toml; charset=utf-8",
        )],
        follicle_core::settings::DEFAULT_SETTINGS_TOML,
    )
}

/// The clinic's users.
#[utoipa::path(get, path = "/users", tag = "clinic",
    responses((status = 200, body = Vec<UserAnswer>), (status = 403, body = ErrorBody)))]
pub async fn users(State(state): State<AppState>, me: SignedIn) -> ApiResult<Json<Vec<UserAnswer>>> {
    let users = state.store().list_users(&me.actor).await?;
    Ok(Json(users.into_iter().map(Into::into).collect()))
}

/// Adds a user (owner).
#[utoipa::path(post, path = "/users", tag = "clinic", request_body = NewUser,
    responses((status = 201, body = UserAnswer), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_user(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(body): JsonBody<NewUser>,
) -> ApiResult<(StatusCode, Json<UserAnswer>)> {
    Ok((
        StatusCode::CREATED,
        Json(state.store().add_user(&me.actor, body.into()).await?.into()),
    ))
}

/// Changes a user's role or turns them off (owner).
#[utoipa::path(put, path = "/users/{id}", tag = "clinic", request_body = UserUpdate,
    params(("id" = uuid::Uuid, Path, description = "The user")),
    responses((status = 200, body = UserAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The change would leave the clinic without an active owner", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_user(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(body): JsonBody<UserUpdate>,
) -> ApiResult<Json<UserAnswer>> {
    let user = state
        .store()
        .update_user(&me.actor, id, body.role.into(), body.active)
        .await?;
    if !user.active {
        state.store().revoke_user_sessions(&me.actor, id).await?;
    }
    Ok(Json(user.into()))
}

/// Who viewed, changed or exported a client's record (owner).
#[utoipa::path(get, path = "/clients/{id}/audit", tag = "clinic",
    params(("id" = uuid::Uuid, Path, description = "The client")),
    responses((status = 200, body = Vec<AuditEntryAnswer>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<Vec<AuditEntryAnswer>>> {
    me.actor.require(follicle_store::Action::ViewAuditLog)?;
    // The store answers 404 for another clinic's client; looking the client up here as well
    // would log a view of their details that nobody made.
    let entries = state.store().audit_log(&me.actor, id).await?;
    Ok(Json(entries.into_iter().map(Into::into).collect()))
}

/// A client's whole record, for a subject access or portability request (owner; audited).
#[utoipa::path(get, path = "/clients/{id}/export", tag = "clinic",
    params(("id" = uuid::Uuid, Path, description = "The client")),
    responses((status = 200, body = ClientExportAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<ClientExportAnswer>> {
    Ok(Json(
        state.store().export_client(&me.actor, id).await?.try_into()?,
    ))
}
