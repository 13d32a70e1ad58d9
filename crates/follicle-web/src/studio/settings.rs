//! Settings: the clinic's settings file over the defaults (prices, intervals, densities,
//! contraindication rules — every figure with its source) and the clinic's users.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use follicle_store::{Action, NewUser, Role, StoreError, User};
use serde::Deserialize;

use super::{FieldErrors, Nav, Page, PageResult, render_status};
use crate::state::{AppState, parse_settings};

#[derive(Debug, Default, Deserialize)]
pub(super) struct SettingsForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    settings_toml: String,
    #[serde(default)]
    retention_years: String,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct UserForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    nav: Nav,
    form: SettingsForm,
    user_form: UserForm,
    users: Vec<User>,
    errors: FieldErrors,
    saved: bool,
    defaults: &'static str,
}

async fn show(
    state: &AppState,
    page: &Page,
    form: Option<SettingsForm>,
    user_form: UserForm,
    errors: FieldErrors,
    saved: bool,
) -> PageResult {
    page.actor.require(Action::EditSettings)?;
    let form = match form {
        Some(f) => f,
        None => {
            let clinic = state.store().clinic(&page.actor).await?;
            SettingsForm {
                _csrf: String::new(),
                settings_toml: clinic.settings_toml,
                retention_years: clinic.retention_years.to_string(),
            }
        }
    };
    let users = state.store().list_users(&page.actor).await?;
    let status = errors.status();
    render_status(
        status,
        &SettingsPage {
            nav: Nav::new(page, "settings"),
            form,
            user_form,
            users,
            errors,
            saved,
            defaults: follicle_core::settings::DEFAULT_SETTINGS_TOML,
        },
    )
}

#[derive(Debug, Deserialize)]
pub(super) struct Saved {
    #[serde(default)]
    saved: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    page: Page,
    crate::extract::QueryArgs(q): crate::extract::QueryArgs<Saved>,
) -> PageResult {
    show(
        &state,
        &page,
        None,
        UserForm::default(),
        FieldErrors::default(),
        q.saved.is_some(),
    )
    .await
}

pub(super) async fn save(
    State(state): State<AppState>,
    page: Page,
    axum::Form(form): axum::Form<SettingsForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let mut errors = FieldErrors::default();
    if let Err(e) = parse_settings(&form.settings_toml) {
        let at = e
            .location
            .map(|l| format!(" (line {}, column {})", l.line, l.column))
            .unwrap_or_default();
        errors.add("settings_toml", format!("{}{at}: {}", e.field, e.message));
    }
    let retention = form.retention_years.trim().parse::<i64>().map_err(|_| {
        errors.add(
            "retention_years",
            format!("expected whole years, 1–100, got {:?}", form.retention_years),
        )
    });
    if let (true, Ok(years)) = (errors.is_empty(), retention) {
        match state
            .store()
            .update_clinic_settings(&page.actor, &form.settings_toml, years)
            .await
        {
            Ok(clinic) => {
                state.forget_settings(clinic.id);
                return Ok(Redirect::to("/settings?saved=1").into_response());
            }
            Err(StoreError::Invalid { field, message }) => errors.add(field, message),
            Err(e) => return Err(e.into()),
        }
    }
    show(&state, &page, Some(form), UserForm::default(), errors, false).await
}

pub(super) async fn add_user(
    State(state): State<AppState>,
    page: Page,
    axum::Form(form): axum::Form<UserForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let mut errors = FieldErrors::default();
    match Role::parse(&form.role) {
        Err(StoreError::Invalid { message, .. }) => errors.add("user.role", message),
        Err(e) => return Err(e.into()),
        Ok(role) => {
            let new = NewUser {
                email: form.email.clone(),
                name: form.name.clone(),
                role,
                password: form.password.clone(),
            };
            match state.store().add_user(&page.actor, new).await {
                Ok(_) => return Ok(Redirect::to("/settings").into_response()),
                Err(StoreError::Invalid { field, message }) => errors.add(format!("user.{field}"), message),
                Err(StoreError::Conflict { .. }) => {
                    errors.add("user.email", "this email already has an account")
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    let form = UserForm {
        password: String::new(),
        ..form
    };
    show(&state, &page, None, form, errors, false).await
}
