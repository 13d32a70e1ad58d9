//! A client's data rights and a clinic's data: the complete record as a zip, erasure on
//! request under the clinic's legal hold, the clinic-wide export, the CSV import with a dry
//! run, and the retention job's reports.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::Response;
use follicle_store::{Action, StoreError};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Id, JsonBody, SignedIn};
use crate::state::AppState;
use crate::wire::{ErasureAnswer, ErasureRequest, ImportAnswer, ImportRequest, RetentionReportAnswer};

/// A zip archive as a download that no cache keeps.
fn zip(bytes: Vec<u8>, name: &str) -> Response {
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/zip"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-store"),
    );
    if let Ok(v) = format!("attachment; filename=\"{name}\"").parse() {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

/// A client's complete record as one zip: every record in JSON and CSV, the photos' bytes and
/// the audit trail (owner, practitioner; audited as exported).
#[utoipa::path(get, path = "/clients/{id}/archive", tag = "clinic",
    params(("id" = uuid::Uuid, Path, description = "The client")),
    responses((status = 200, description = "A zip: README.txt, record.json, csv/*.csv, photos/*", content_type = "application/zip", body = crate::wire::Binary),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn client_archive(State(state): State<AppState>, me: SignedIn, Id(id): Id) -> ApiResult<Response> {
    let bytes = state.store().export_client_archive(&me.actor, id).await?;
    Ok(zip(bytes, &format!("client-{id}.zip")))
}

/// Erases a client on their request (owner), after confirming with their name. What the
/// clinic's legal hold (settings `[records]`) makes it keep is kept, and the answer says what,
/// why and until when; the rest — photos included — is gone at once. Audited.
#[utoipa::path(post, path = "/clients/{id}/erasure", tag = "clinic", request_body = ErasureRequest,
    params(("id" = uuid::Uuid, Path, description = "The client")),
    responses((status = 200, body = ErasureAnswer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn erase(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(body): JsonBody<ErasureRequest>,
) -> ApiResult<Json<ErasureAnswer>> {
    me.actor.require(Action::DeleteClients)?;
    let client = state.store().client(&me.actor, id).await?;
    if body.confirm_name.trim() != client.name {
        return Err(StoreError::invalid(
            "confirm_name",
            format!(
                "expected the client's name exactly as recorded, {:?}, to confirm the erasure; got {:?}",
                client.name, body.confirm_name
            ),
        )
        .into());
    }
    let report = state
        .store()
        .erase_client(&me.actor, id, time::OffsetDateTime::now_utc().date())
        .await?;
    Ok(Json(report.into()))
}

/// The whole clinic as one zip: clinic, settings, users, pigments, every client's record
/// with photos, and the audit log, in JSON and CSV (owner; audited).
#[utoipa::path(get, path = "/clinic/export", tag = "clinic",
    responses((status = 200, description = "A zip: README.txt, record.json, csv/*.csv, photos/*", content_type = "application/zip", body = crate::wire::Binary),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn clinic_export(State(state): State<AppState>, me: SignedIn) -> ApiResult<Response> {
    let bytes = state.store().export_clinic_archive(&me.actor).await?;
    let day = time::OffsetDateTime::now_utc().date();
    Ok(zip(bytes, &format!("clinic-{day}.zip")))
}

/// Imports clients and appointments from CSV (owner). Every mistake is answered by file,
/// line and column; nothing is saved on a dry run or when there is any mistake.
#[utoipa::path(post, path = "/clinic/import", tag = "clinic", request_body = ImportRequest,
    responses((status = 200, body = ImportAnswer), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(body): JsonBody<ImportRequest>,
) -> ApiResult<Json<ImportAnswer>> {
    let report = state
        .store()
        .import_csv(&me.actor, &body.clients_csv, &body.appointments_csv, body.dry_run)
        .await?;
    Ok(Json(report.into()))
}

/// The retention job's reports for the clinic, newest first (owner).
#[utoipa::path(get, path = "/clinic/retention-reports", tag = "clinic",
    responses((status = 200, body = Vec<RetentionReportAnswer>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn retention_reports(
    State(state): State<AppState>,
    me: SignedIn,
) -> ApiResult<Json<Vec<RetentionReportAnswer>>> {
    let reports = state.store().retention_reports(&me.actor).await?;
    Ok(Json(reports.into_iter().map(Into::into).collect()))
}
