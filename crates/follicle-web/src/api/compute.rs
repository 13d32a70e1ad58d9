//! Stateless calculations with the clinic's settings: assess, plan, pattern and preview. Nothing
//! is stored; the studio calls them while a consultation or a design is being edited.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use follicle_core::{Assessment, Plan};
use follicle_pattern::{Pattern, PatternRequest};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::records::{pattern_request, png};
use crate::compute::{self, ClientInput, PreviewArgs};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{JsonBody, SignedIn};
use crate::state::AppState;

/// Assesses a client file: verdict with the rules behind it, approach, zones and areas.
/// The answer is `follicle assess --format json`'s (docs/plan-json.md).
#[utoipa::path(post, path = "/assess", tag = "compute", request_body = ClientInput,
    responses((status = 200, description = "The assessment", body = Assessment), (status = 422, body = ErrorBody)))]
pub async fn assess(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(input): JsonBody<ClientInput>,
) -> ApiResult<Response> {
    let settings = state.clinic_settings(&me.actor).await?;
    let assessed = state.assess(&input, &settings, Some(me.actor.user_id())).await?;
    json_answer(&assessed, ANSWER_BYTES)
}

/// Plans a client file: sessions, dates, aftercare, touch-up forecast and quote. The answer
/// is `follicle plan --format json`'s (docs/plan-json.md).
#[utoipa::path(post, path = "/plan", tag = "compute", request_body = ClientInput,
    responses((status = 200, description = "The plan", body = Plan), (status = 422, body = ErrorBody)))]
pub async fn plan(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(input): JsonBody<ClientInput>,
) -> ApiResult<Response> {
    let settings = state.clinic_settings(&me.actor).await?;
    let planned = state.plan(&input, &settings, Some(me.actor.user_id())).await?;
    json_answer(&planned.plan, ANSWER_BYTES)
}

/// Room for a plan's or an assessment's JSON (a full plan is ~11 KiB, with its aftercare).
const ANSWER_BYTES: usize = 16 * 1024;

/// `value` as a JSON answer, written into one buffer of `capacity` bytes: axum's `Json` grows
/// its buffer from 128 bytes by doubling through a writer, and for a plan's 11 KiB those copies
/// and calls were ~7 % of the request's CPU (`perf`, 64 connections).
fn json_answer(value: &impl serde::Serialize, capacity: usize) -> ApiResult<Response> {
    let mut out = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut out, value).map_err(crate::error::ApiError::internal)?;
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        out,
    )
        .into_response())
}

/// The dots of a design given as a pattern request (the `follicle pattern --design` file):
/// JSON, or the compact binary form when `Accept` names `application/vnd.follicle.pattern`.
#[utoipa::path(post, path = "/pattern", tag = "compute", request_body(content = PatternRequest, description = "A pattern request"),
    responses(
        (status = 200, description = "The pattern",
            content((Pattern = "application/json"), (crate::wire::Binary = "application/vnd.follicle.pattern"))),
        (status = 422, body = ErrorBody)))]
pub async fn pattern(
    State(state): State<AppState>,
    _me: SignedIn,
    headers: HeaderMap,
    JsonBody(request): JsonBody<Value>,
) -> ApiResult<Response> {
    let request = pattern_request(request, "body")?;
    state.pattern_response(request, &headers).await
}

/// A design to preview.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewInput {
    /// The design as a pattern request.
    #[schema(value_type = PatternRequest)]
    pub design: Value,
    /// The skin, I–VI (default III).
    #[serde(default)]
    pub fitzpatrick: Option<String>,
    /// `chart`, `front`, `top`, `left`, `right` or `back` (default `front`).
    #[serde(default)]
    pub view: Option<String>,
    /// `fresh:N`, `healed:N`, `years:Y` or `years:Y@T` (default healed after the last session).
    #[serde(default)]
    pub moment: Option<String>,
    /// Image side in pixels, 16–2048 (default 512).
    #[serde(default)]
    pub size: Option<u32>,
}

/// A preview of a design as PNG.
#[utoipa::path(post, path = "/preview", tag = "compute", request_body = PreviewInput,
    responses((status = 200, description = "PNG", content_type = "image/png", body = crate::wire::Binary), (status = 422, body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    me: SignedIn,
    JsonBody(input): JsonBody<PreviewInput>,
) -> ApiResult<Response> {
    let settings = state.clinic_settings(&me.actor).await?;
    let look = compute::typical_look(input.fitzpatrick.as_deref(), &settings)?;
    let pattern = state.pattern(pattern_request(input.design, "design")?).await?;
    let args = PreviewArgs {
        view: input.view,
        moment: input.moment,
        size: input.size,
    };
    Ok(png(compute::preview_png(pattern, look, &args).await?))
}
