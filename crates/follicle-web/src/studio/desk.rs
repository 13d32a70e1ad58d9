//! Keeping the clients right (issue 14, item 6): the front desk changes a client's contact
//! details; the owner merges a duplicate record into the one kept.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use follicle_store::{Action, Client, StoreError};
use serde::Deserialize;
use uuid::Uuid;

use super::clients::{ClientForm, DuplicateShown, shown};
use super::{FieldErrors, Nav, Page, PageError, PageResult, render, render_status};
use crate::extract::Id;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "client_edit.html")]
struct EditClientPage {
    nav: Nav,
    client: Client,
    form: ClientForm,
    errors: FieldErrors,
    clinical: bool,
    /// Other records the changed details match (shown, saved only when confirmed).
    duplicates: Vec<DuplicateShown>,
}

/// The form to change a client's contact details.
pub(super) async fn edit_form(State(state): State<AppState>, page: Page, Id(id): Id) -> PageResult {
    if !page.may(Action::EditClients) {
        return Err(forbidden("change clients' details"));
    }
    let client = state.store().client(&page.actor, id).await?;
    render(&EditClientPage {
        nav: Nav::new(&page, "clients"),
        form: ClientForm::of(&client),
        client,
        errors: FieldErrors::default(),
        clinical: page.may(Action::ViewClinicalRecords),
        duplicates: Vec::new(),
    })
}

/// Saves a client's changed details; mistakes are shown beside their fields (422). Details
/// that now match another client (same email, phone, or name and date of birth) are shown
/// again with links to the others and saved only when the desk confirms (409 until then).
pub(super) async fn edit_submit(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    axum::Form(form): axum::Form<ClientForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let mut errors = FieldErrors::default();
    let changed = form.to_client(&mut errors);
    let mut duplicates = Vec::new();
    if errors.is_empty() {
        let found = super::clients::duplicates_of(&state, &page, &changed, Some(id), &mut errors).await?;
        if errors.is_empty() && (found.is_empty() || form.confirm_duplicate == "yes") {
            match state.store().update_client(&page.actor, id, &changed).await {
                Ok(c) => return Ok(Redirect::to(&format!("/clients/{}", c.id)).into_response()),
                Err(StoreError::Invalid { field, message }) => errors.add(field, message),
                Err(e) => return Err(e.into()),
            }
        }
        duplicates = shown(found);
    }
    let status = if errors.is_empty() {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let client = state.store().client(&page.actor, id).await?;
    render_status(
        status,
        &EditClientPage {
            nav: Nav::new(&page, "clients"),
            client,
            form,
            errors,
            clinical: page.may(Action::ViewClinicalRecords),
            duplicates,
        },
    )
}

#[derive(Template)]
#[template(path = "client_merge.html")]
struct MergePage {
    nav: Nav,
    client: Client,
    duplicates: Vec<DuplicateShown>,
    merge_id: String,
    error: String,
    done: String,
}

fn forbidden(what: &str) -> PageError {
    PageError {
        status: StatusCode::FORBIDDEN,
        message: format!("Your role does not allow this: only the owner may {what}."),
    }
}

async fn merge_page(
    state: &AppState,
    page: &Page,
    id: Uuid,
    merge_id: String,
    error: String,
    done: String,
) -> Result<MergePage, PageError> {
    let store = state.store();
    let client = store.client(&page.actor, id).await?;
    let details = follicle_store::NewClient {
        name: client.name.clone(),
        date_of_birth: client.date_of_birth,
        age_years: client.age_years,
        phone: client.phone.clone(),
        email: client.email.clone(),
        notes: String::new(),
    };
    // A record stored before phone numbers were checked may not read as a new client would:
    // it then has no likely duplicates to offer, and the other record's id can still be typed.
    let duplicates = store
        .likely_duplicates(&page.actor, &details, Some(id))
        .await
        .unwrap_or_default();
    Ok(MergePage {
        nav: Nav::new(page, "clients"),
        client,
        duplicates: shown(duplicates),
        merge_id,
        error,
        done,
    })
}

/// The merge page of a client (owner): its likely duplicates, each to merge into it.
pub(super) async fn merge_form(State(state): State<AppState>, page: Page, Id(id): Id) -> PageResult {
    if !page.may(Action::DeleteClients) {
        return Err(forbidden("merge clients"));
    }
    render(&merge_page(&state, &page, id, String::new(), String::new(), String::new()).await?)
}

/// The merge form.
#[derive(Debug, Deserialize)]
pub(super) struct MergeForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    merge_id: String,
}

/// Merges the chosen client into this one; the page says what moved, or why not.
pub(super) async fn merge_submit(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    axum::Form(form): axum::Form<MergeForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    if !page.may(Action::DeleteClients) {
        return Err(forbidden("merge clients"));
    }
    let typed = form.merge_id.trim().to_owned();
    let (status, error, done) = match Uuid::parse_str(&typed) {
        Err(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "merge_id: expected the other client's id (like 67e55044-10b1-426f-9247-bb680e5fe0c8, the end of its address), got {typed:?}"
            ),
            String::new(),
        ),
        Ok(other) => match state.store().merge_clients(&page.actor, id, other).await {
            Ok(report) => (
                StatusCode::OK,
                String::new(),
                format!(
                    "Merged: {} moved to this record; the other record is gone.",
                    report.summary()
                ),
            ),
            Err(
                e @ (StoreError::Invalid { .. } | StoreError::Conflict { .. } | StoreError::NotFound { .. }),
            ) => {
                let shown = PageError::from(e);
                (shown.status, shown.message, String::new())
            }
            Err(e) => return Err(e.into()),
        },
    };
    let merge_id = if done.is_empty() { typed } else { String::new() };
    render_status(
        status,
        &merge_page(&state, &page, id, merge_id, error, done).await?,
    )
}
