//! The JSON API under `/api/v1`, and its OpenAPI document at `/api/v1/openapi.json`.
//!
//! Every route but sign-in, the health check, the default settings and the document itself
//! needs a signed-in user (the session cookie, or `Authorization: Bearer <token>`), and every
//! record it touches is looked up in that user's clinic: another clinic's id is a 404 like an
//! unknown one. What each role may do is `follicle_store::role`'s table; a refused action is
//! a 403.

pub mod account;
pub mod auth;
pub mod client_sheet;
pub mod clients;
pub mod clinic;
pub mod compute;
pub mod diary;
pub mod feeds;
pub mod landmarks;
pub mod payments;
pub mod photos;
pub mod pigments;
pub mod records;
pub mod rights;
pub mod stencil;

use axum::Json;
use axum::extract::State;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The API's prefix.
pub const PREFIX: &str = "/api/v1";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Follicle clinic API",
        description = "Clients, consultations, designs, sessions, pigments and photos of a scalp micropigmentation clinic, and the planner, pattern engine and renderer behind them. Errors are `{\"error\": {\"code\", \"field\", \"message\"}}`.",
        license(name = "AGPL-3.0-or-later"),
    ),
    servers((url = "/api/v1")),
    modifiers(&Security),
    security(("session_cookie" = []), ("bearer" = [])),
    tags(
        (name = "auth", description = "Signing in and out"),
        (name = "clinic", description = "The clinic, its settings, users, audit log and exports"),
        (name = "clients", description = "Clients and their contact details"),
        (name = "consultations", description = "Consultations: profile, assessment and plan, versioned"),
        (name = "designs", description = "Designs: hairline, zones and seed, versioned; their dots and previews"),
        (name = "consents", description = "Signed consents"),
        (name = "photos", description = "Photos, stripped of their metadata"),
        (name = "appointments", description = "The diary"),
        (name = "sessions", description = "Treatment session logs"),
        (name = "pigments", description = "Pigment products, batches, stock and recalls"),
        (name = "payments", description = "Payments taken at the desk, or due, and their receipts"),
        (name = "compute", description = "Assess, plan, pattern and preview without storing anything"),
        (name = "meta", description = "Health and this document"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::extract::SESSION_COOKIE,
                "Set by POST /auth/login; changes also need the X-CSRF-Token header",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The server is up and its database answers.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Health {
    /// Always `ok` (a server whose database does not answer answers 500 instead; the
    /// database is pinged at most once a second).
    #[schema(example = "ok")]
    pub status: &'static str,
    /// The database it keeps records in: `sqlite` or `postgres`.
    #[schema(example = "sqlite")]
    pub database: &'static str,
}

/// Whether the server is up and its database answers.
#[utoipa::path(get, path = "/health", tag = "meta", security(()),
    responses((status = 200, description = "Up", body = Health), (status = 500, description = "The database does not answer")))]
async fn health(State(state): State<AppState>) -> crate::error::ApiResult<Json<Health>> {
    if !state.health().answers(state.store()).await {
        return Err(crate::ApiError::internal(
            "health check: the database does not answer",
        ));
    }
    Ok(Json(Health {
        status: "ok",
        database: state.store().backend().as_str(),
    }))
}

/// The API's routes (without the prefix) and its OpenAPI document.
pub fn routes() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::me))
        .routes(routes!(account::second_factor))
        .routes(routes!(account::request_reset))
        .routes(routes!(account::complete_reset))
        .routes(routes!(account::change_password))
        .routes(routes!(account::begin_two_factor))
        .routes(routes!(account::confirm_two_factor))
        .routes(routes!(account::disable_two_factor))
        .routes(routes!(account::new_recovery_codes))
        .routes(routes!(account::sessions, account::end_all_sessions))
        .routes(routes!(account::end_session))
        .routes(routes!(account::reset_user))
        .routes(routes!(account::account_rules, account::update_account_rules))
        .routes(routes!(account::audit_log))
        .routes(routes!(clinic::clinic))
        .routes(routes!(clinic::update_settings))
        .routes(routes!(clinic::default_settings))
        .routes(routes!(clinic::users, clinic::add_user))
        .routes(routes!(clinic::update_user))
        .routes(routes!(clinic::audit))
        .routes(routes!(clinic::export))
        .routes(routes!(rights::client_archive))
        .routes(routes!(rights::erase))
        .routes(routes!(rights::clinic_export))
        .routes(routes!(rights::import))
        .routes(routes!(rights::retention_reports))
        .routes(routes!(clients::search, clients::create))
        .routes(routes!(clients::get, clients::update, clients::delete))
        .routes(routes!(clients::merge))
        .routes(routes!(clients::duplicates))
        .routes(routes!(records::consultations, records::add_consultation))
        .routes(routes!(records::consultation))
        .routes(routes!(records::replan))
        .routes(routes!(records::replan_client))
        .routes(routes!(records::design_plan))
        .routes(routes!(crate::designer::open_session))
        .routes(routes!(crate::designer::edit))
        .routes(routes!(crate::designer::close_session))
        .routes(routes!(records::designs, records::add_design))
        .routes(routes!(records::design))
        .routes(routes!(records::design_pattern))
        .routes(routes!(records::design_preview))
        .routes(routes!(stencil::design_stencil))
        .routes(routes!(client_sheet::client_sheet))
        .routes(routes!(records::consents, records::add_consent))
        .routes(routes!(records::photos, records::upload_photo))
        .routes(routes!(records::photo))
        .routes(routes!(photos::warp))
        .routes(routes!(photos::overlay))
        .routes(routes!(landmarks::detect))
        .routes(routes!(landmarks::landmarks, landmarks::save))
        .routes(routes!(diary::between, diary::book))
        .routes(routes!(diary::appointment))
        .routes(routes!(diary::move_appointment))
        .routes(routes!(diary::book_plan))
        .routes(routes!(diary::set_status))
        .routes(routes!(diary::client_appointments))
        .routes(routes!(diary::log_session))
        .routes(routes!(diary::client_sessions))
        .routes(routes!(diary::session))
        .routes(routes!(pigments::products, pigments::add_product))
        .routes(routes!(pigments::batches, pigments::add_batch))
        .routes(routes!(pigments::batch))
        .routes(routes!(pigments::adjust_stock))
        .routes(routes!(pigments::recall, diary::recall_batch))
        .routes(routes!(
            feeds::client_feed,
            feeds::make_client_feed,
            feeds::revoke_client_feed
        ))
        .routes(routes!(
            feeds::user_feed,
            feeds::make_user_feed,
            feeds::revoke_user_feed
        ))
        .routes(routes!(payments::payments, payments::take))
        .routes(routes!(payments::settle))
        .routes(routes!(payments::cancel))
        .routes(routes!(payments::receipt))
        .routes(routes!(compute::assess))
        .routes(routes!(compute::plan))
        .routes(routes!(compute::pattern))
        .routes(routes!(compute::preview))
        .split_for_parts();
    let mut doc = doc;
    crate::limits::document_statuses(&mut doc);
    (router, doc)
}

/// The OpenAPI document, as served.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().1
}

/// The headers of a page of a list: `Link: <{path}?limit={limit}&cursor={next}>; rel="next"`
/// when another page follows. The store's cursors are hex digits only: safe in a URL and a
/// header as they are.
pub(crate) fn next_page_link(path: &str, limit: i64, next: Option<&str>) -> axum::http::HeaderMap {
    let mut headers = axum::http::HeaderMap::new();
    if let Some(next) = next {
        let link = format!("<{path}?limit={limit}&cursor={next}>; rel=\"next\"");
        if let Ok(value) = axum::http::HeaderValue::from_str(&link) {
            headers.insert(axum::http::header::LINK, value);
        }
    }
    headers
}
