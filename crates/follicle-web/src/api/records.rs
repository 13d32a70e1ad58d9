//! A client's clinical records: consultations (versioned), designs (versioned) with their
//! pattern and preview, consents and photos.

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use follicle_pattern::PatternRequest;
use follicle_render::Look;
use follicle_store::{Action, Design, NewConsent, NewPhoto, PhotoAngle};
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::compute::{self, ClientInput, PreviewArgs};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Id, JsonBody, QueryArgs, SignedIn, read_body};
use crate::state::AppState;
use crate::usecase;
use crate::wire::{
    ConsentAnswer, ConsentKind, ConsultationAnswer, DesignAnswer, DesignPlanAnswer, PhotoAnswer, ReplanAnswer,
};
use follicle_pattern::Pattern;

/// Records a consultation: the client file, assessed and planned with the clinic's settings,
/// stored as the client's next version (earlier versions are kept) with its quote (numbered,
/// dated, valid for `pricing.quote_valid_days`), the clinic's settings file, and the design
/// drawn from the plan, in one transaction.
#[utoipa::path(post, path = "/clients/{id}/consultations", tag = "consultations", request_body = ClientInput,
    params(("id" = Uuid, Path, description = "The client")),
    responses((status = 201, body = ConsultationAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_consultation(
    State(state): State<AppState>,
    me: SignedIn,
    Id(client_id): Id,
    JsonBody(input): JsonBody<ClientInput>,
) -> ApiResult<(StatusCode, Json<ConsultationAnswer>)> {
    let recorded = usecase::record_consultation(&state, &me.actor, client_id, &input).await?;
    Ok((StatusCode::CREATED, Json(recorded.consultation.into())))
}

/// A client's consultations, oldest first, as issued.
#[utoipa::path(get, path = "/clients/{id}/consultations", tag = "consultations",
    params(("id" = Uuid, Path, description = "The client")),
    responses((status = 200, body = Vec<ConsultationAnswer>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn consultations(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<Vec<ConsultationAnswer>>> {
    let all = state.store().consultations(&me.actor, id).await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// One consultation version, as issued (never re-planned).
#[utoipa::path(get, path = "/consultations/{id}", tag = "consultations",
    params(("id" = Uuid, Path, description = "The consultation")),
    responses((status = 200, body = ConsultationAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, description = "A record of a schema version this server does not read", body = ErrorBody)))]
pub async fn consultation(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<ConsultationAnswer>> {
    Ok(Json(state.store().consultation(&me.actor, id).await?.into()))
}

/// Re-plans a consultation with the clinic's settings as they are today: the same client
/// file, assessment day and first-session day, stored as the client's next version with a
/// new quote. The consultation re-planned stays as it was issued. The answer lists what
/// changed (sessions, dates, hours, price lines, totals).
#[utoipa::path(post, path = "/consultations/{id}/replan", tag = "consultations",
    params(("id" = Uuid, Path, description = "The consultation to re-plan")),
    responses((status = 201, body = ReplanAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replan(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<(StatusCode, Json<ReplanAnswer>)> {
    let replanned = usecase::replan(&state, &me.actor, id).await?;
    Ok((StatusCode::CREATED, Json(replanned.into())))
}

/// Re-plans a client's latest consultation with today's settings (as
/// `POST /consultations/{id}/replan`).
#[utoipa::path(post, path = "/clients/{id}/replan", tag = "consultations",
    params(("id" = Uuid, Path, description = "The client")),
    responses((status = 201, body = ReplanAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replan_client(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<(StatusCode, Json<ReplanAnswer>)> {
    let replanned = usecase::replan_latest(&state, &me.actor, id).await?;
    Ok((StatusCode::CREATED, Json(replanned.into())))
}

/// The hours, sessions and price that go with a design edit for a consultation, without
/// storing anything (the designer asks after every edit).
#[utoipa::path(post, path = "/consultations/{id}/design-plan", tag = "designs",
    request_body(content = PatternRequest, description = "The design as a pattern request (see `POST /pattern`)"),
    params(("id" = Uuid, Path, description = "The consultation the design is drawn for")),
    responses((status = 200, body = DesignPlanAnswer), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn design_plan(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    JsonBody(request): JsonBody<Value>,
) -> ApiResult<Json<DesignPlanAnswer>> {
    let request = pattern_request(request, "body")?;
    let plan = usecase::plan_design_edit(&state, &me.actor, id, &request).await?;
    Ok(Json(plan.into()))
}

/// A design to save.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignInput {
    /// The consultation it is drawn for (of the same client).
    #[serde(default)]
    pub consultation_id: Option<Uuid>,
    /// The design as a pattern request (hairline, zones, densities, sessions, …; see
    /// `POST /pattern`). Without it, the design the consultation's plan gives.
    #[serde(default)]
    #[schema(value_type = Option<PatternRequest>)]
    pub request: Option<Value>,
    /// The pattern seed (default 1).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Notes.
    #[serde(default)]
    #[schema(max_length = 100000)]
    pub notes: String,
}

pub use crate::usecase::pattern_request;

/// Saves a design as the client's next version, with the plan and quote that go with it
/// when it is drawn for a consultation.
#[utoipa::path(post, path = "/clients/{id}/designs", tag = "designs", request_body = DesignInput,
    params(("id" = Uuid, Path, description = "The client")),
    responses((status = 201, body = DesignAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_design(
    State(state): State<AppState>,
    me: SignedIn,
    Id(client_id): Id,
    JsonBody(input): JsonBody<DesignInput>,
) -> ApiResult<(StatusCode, Json<DesignAnswer>)> {
    let edit = usecase::DesignEdit {
        consultation_id: input.consultation_id,
        request: input.request.map(|v| pattern_request(v, "request")).transpose()?,
        seed: input.seed.unwrap_or(usecase::DEFAULT_SEED),
        notes: input.notes,
    };
    let saved = usecase::save_design_version(&state, &me.actor, client_id, edit).await?;
    Ok((StatusCode::CREATED, Json(saved.into())))
}

/// A client's designs, oldest first.
#[utoipa::path(get, path = "/clients/{id}/designs", tag = "designs",
    params(("id" = Uuid, Path, description = "The client")),
    responses((status = 200, body = Vec<DesignAnswer>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn designs(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<Vec<DesignAnswer>>> {
    let all = state.store().designs(&me.actor, id).await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// One design version.
#[utoipa::path(get, path = "/designs/{id}", tag = "designs",
    params(("id" = Uuid, Path, description = "The design")),
    responses((status = 200, body = DesignAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn design(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<DesignAnswer>> {
    Ok(Json(state.store().design(&me.actor, id).await?.into()))
}

/// The pattern request a stored design describes.
pub fn design_request(d: &Design) -> ApiResult<PatternRequest> {
    compute::join_request(&d.hairline, &d.zones, &d.settings, d.seed)
}

/// The dots of a stored design: JSON, or the compact binary form when the `Accept` header
/// asks for `application/vnd.follicle.pattern`.
#[utoipa::path(get, path = "/designs/{id}/pattern", tag = "designs",
    params(("id" = Uuid, Path, description = "The design")),
    responses(
        (status = 200, description = "The pattern (JSON, or binary: see the binary format in the crate docs)",
            content((Pattern = "application/json"), (crate::wire::Binary = "application/vnd.follicle.pattern"))),
        (status = 404, body = ErrorBody)))]
pub async fn design_pattern(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let d = state.store().design(&me.actor, id).await?;
    state.pattern_response(design_request(&d)?, &headers).await
}

/// How to draw a stored design.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DesignPreviewQuery {
    /// `chart`, `front`, `top`, `left`, `right`, `back` (default `front`).
    #[param(pattern = "^(chart|front|top|left|right|back)$")]
    pub view: Option<String>,
    /// `fresh:N`, `healed:N`, `years:Y`, `years:Y@T` (default healed after the last session).
    pub moment: Option<String>,
    /// Side in pixels, 16–2048 (default 512).
    #[param(minimum = 16, maximum = 2048)]
    pub size: Option<u32>,
}

/// A preview of a stored design as PNG, on the client's skin and hair when the design was
/// drawn for a consultation, on a typical type III skin otherwise.
#[utoipa::path(get, path = "/designs/{id}/preview", tag = "designs", params(("id" = Uuid, Path, description = "The design"), DesignPreviewQuery),
    responses((status = 200, description = "PNG", content_type = "image/png", body = crate::wire::Binary), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn design_preview(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
    QueryArgs(q): QueryArgs<DesignPreviewQuery>,
) -> ApiResult<Response> {
    let d = state.store().design(&me.actor, id).await?;
    let settings = state.clinic_settings(&me.actor).await?;
    let look = design_look(&state, &me, &d, &settings).await?;
    let pattern = state.pattern(design_request(&d)?).await?;
    let args = PreviewArgs {
        view: q.view,
        moment: q.moment,
        size: q.size,
    };
    Ok(png(compute::preview_png(pattern, look, &args).await?))
}

/// The look a stored design is drawn with: the client's skin and hair when the design was
/// drawn for a consultation, a typical type III skin otherwise.
pub(crate) async fn design_look(
    state: &AppState,
    me: &SignedIn,
    d: &Design,
    settings: &follicle_core::Settings,
) -> ApiResult<Look> {
    if let Some(cid) = d.consultation_id {
        let c = state.store().consultation(&me.actor, cid).await?;
        if let (Some(profile), made_with) = usecase::stored_profile(&c, settings) {
            return Ok(Look::for_client(&profile, &made_with));
        }
    }
    Ok(Look::typical(follicle_core::profile::Fitzpatrick::III, settings))
}

/// A PNG answer.
pub fn png(bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        bytes,
    )
        .into_response()
}

/// A consent to record for the client in the path.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    /// `procedure`, `photos` or `marketing`.
    pub kind: ConsentKind,
    /// The version of the clinic's consent template.
    #[schema(min_length = 1, max_length = 200)]
    pub template_version: String,
    /// The text the client signed.
    #[schema(max_length = 100000)]
    pub text: String,
    /// The name they signed with.
    #[schema(min_length = 1, max_length = 200)]
    pub signed_by: String,
    /// When they signed (RFC 3339; default now).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub signed_at: Option<OffsetDateTime>,
}

/// Records a signed consent (kept unchanged).
#[utoipa::path(post, path = "/clients/{id}/consents", tag = "consents", request_body = ConsentInput,
    params(("id" = Uuid, Path, description = "The client")),
    responses((status = 201, body = ConsentAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_consent(
    State(state): State<AppState>,
    me: SignedIn,
    Id(client_id): Id,
    JsonBody(input): JsonBody<ConsentInput>,
) -> ApiResult<(StatusCode, Json<ConsentAnswer>)> {
    let new = NewConsent {
        client_id,
        kind: input.kind.into(),
        template_version: input.template_version,
        text: input.text,
        signed_by: input.signed_by,
        signed_at: input.signed_at.unwrap_or_else(OffsetDateTime::now_utc),
    };
    Ok((
        StatusCode::CREATED,
        Json(state.store().record_consent(&me.actor, &new).await?.into()),
    ))
}

/// A client's consents.
#[utoipa::path(get, path = "/clients/{id}/consents", tag = "consents",
    params(("id" = Uuid, Path, description = "The client")),
    responses((status = 200, body = Vec<ConsentAnswer>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn consents(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<Vec<ConsentAnswer>>> {
    let found = state.store().consents(&me.actor, id).await?;
    Ok(Json(found.into_iter().map(Into::into).collect()))
}

/// A photo's details, in the query string; the body is the image.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PhotoQuery {
    /// `front`, `top`, `left`, `right`, `back` or `other`.
    #[param(pattern = "^(front|top|left|right|back|other)$")]
    pub angle: String,
    /// When it was taken (RFC 3339; default now).
    pub taken_at: Option<String>,
    /// The session it was taken at.
    pub session_id: Option<Uuid>,
    /// The photo consent it was taken under.
    pub consent_id: Option<Uuid>,
    /// The consultation it was taken at.
    pub consultation_id: Option<Uuid>,
    /// Whether the client agreed to this photo (default false).
    #[serde(default)]
    pub consented: bool,
}

/// Uploads a photo: the body is the JPEG or PNG itself (`Content-Type: image/jpeg` or
/// `image/png`). Its size is checked before it is read and its format and pixel count
/// before it is decoded; EXIF (with GPS), XMP, comments and other metadata are removed
/// before it is stored.
#[utoipa::path(post, path = "/clients/{id}/photos", tag = "photos", params(("id" = Uuid, Path, description = "The client"), PhotoQuery),
    request_body(content((crate::wire::Binary = "image/jpeg"), (crate::wire::Binary = "image/png")), description = "The photo (image/jpeg or image/png)"),
    responses((status = 201, body = PhotoAnswer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn upload_photo(
    State(state): State<AppState>,
    me: SignedIn,
    Id(client_id): Id,
    QueryArgs(q): QueryArgs<PhotoQuery>,
    req: Request,
) -> ApiResult<(StatusCode, Json<PhotoAnswer>)> {
    me.actor.require(Action::EditClinicalRecords)?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !matches!(content_type, "image/jpeg" | "image/png") {
        return Err(ApiError::unsupported_media_type(format!(
            "a photo is image/jpeg or image/png, got Content-Type {content_type:?}"
        )));
    }
    let angle = PhotoAngle::parse(&q.angle)?;
    let taken_at = match &q.taken_at {
        None => OffsetDateTime::now_utc(),
        Some(t) => OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).map_err(|e| {
            ApiError::invalid(
                "taken_at",
                format!("expected an RFC 3339 time such as 2026-11-21T10:30:00Z, got {t:?}: {e}"),
            )
        })?,
    };
    let limit = follicle_store::PhotoLimits::default().max_bytes;
    // Uploads are read under the heavy-work limit: a flood of uploads holds at most a few
    // photos' bytes in memory, the rest wait in its short queue or are answered 503.
    let _permit = crate::limits::heavy().acquire().await?;
    let bytes = read_body(req, limit).await?;
    let new = NewPhoto {
        client_id,
        angle,
        taken_at,
        session_id: q.session_id,
        consent_id: q.consent_id,
        consultation_id: q.consultation_id,
        consented: q.consented,
    };
    Ok((
        StatusCode::CREATED,
        Json(state.store().upload_photo(&me.actor, &new, &bytes).await?.into()),
    ))
}

/// A client's photos (records; the images one by one at `/photos/{id}`).
#[utoipa::path(get, path = "/clients/{id}/photos", tag = "photos",
    params(("id" = Uuid, Path, description = "The client")),
    responses((status = 200, body = Vec<PhotoAnswer>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn photos(
    State(state): State<AppState>,
    me: SignedIn,
    Id(id): Id,
) -> ApiResult<Json<Vec<PhotoAnswer>>> {
    let found = state.store().photos(&me.actor, id).await?;
    Ok(Json(found.into_iter().map(Into::into).collect()))
}

/// A photo's image, as stored (without its metadata).
#[utoipa::path(get, path = "/photos/{id}", tag = "photos",
    params(("id" = Uuid, Path, description = "The photo")),
    responses((status = 200, description = "The image, as uploaded: JPEG or PNG", content(
            (crate::wire::Binary = "image/jpeg"), (crate::wire::Binary = "image/png"))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn photo(State(state): State<AppState>, me: SignedIn, Id(id): Id) -> ApiResult<Response> {
    let (record, bytes) = state.store().photo(&me.actor, id).await?;
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    if let Ok(v) = record.content_type.parse() {
        headers.insert(header::CONTENT_TYPE, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}
