//! Settings: the clinic's settings over the defaults (prices, intervals, densities,
//! contraindication rules — every figure with its source) and the clinic's users.
//!
//! The figures are a form generated from the defaults file ([`super::settings_form`]); the
//! clinic's whole file can still be exported (copied from its box) and imported (pasted and
//! saved). Both paths check everything and save nothing while any mistake remains.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use follicle_store::{Action, NewUser, Role, StoreError, User};
use serde::Deserialize;

use super::settings_form::{self, Section};
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
    sections: Vec<Section>,
    /// The figures as shown: the clinic's values, or what was typed.
    values: Vec<(String, String)>,
    /// The figures the clinic has changed from the defaults.
    changed: Vec<String>,
    form: SettingsForm,
    user_form: UserForm,
    users: Vec<User>,
    errors: FieldErrors,
    saved: bool,
    defaults: &'static str,
    /// The clinic's logo on documents, in words ("300 × 100 px, image/png"); empty: none.
    logo: String,
}

impl SettingsPage {
    /// A figure's value as shown.
    fn value(&self, path: &str) -> &str {
        self.values
            .iter()
            .find(|(k, _)| k == path)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Whether the clinic has its own value for a figure.
    fn is_changed(&self, path: &str) -> bool {
        self.changed.iter().any(|c| c == path)
    }

    /// Whether a section holds a changed figure or a mistake (it opens then).
    fn section_open(&self, section: &Section) -> bool {
        section
            .figures
            .iter()
            .any(|f| self.is_changed(&f.path) || !self.errors.get(&f.path).is_empty())
    }
}

pub(super) async fn show(
    state: &AppState,
    page: &Page,
    form: Option<SettingsForm>,
    typed: Option<Vec<(String, String)>>,
    user_form: UserForm,
    errors: FieldErrors,
    saved: bool,
) -> PageResult {
    page.actor.require(Action::EditSettings)?;
    let clinic = state.store().clinic(&page.actor).await?;
    let form = form.unwrap_or_else(|| SettingsForm {
        _csrf: String::new(),
        settings_toml: clinic.settings_toml.clone(),
        retention_years: clinic.retention_years.to_string(),
    });
    let sections = settings_form::sections();
    let saved_values = settings_form::clinic_values(&sections, &clinic.settings_toml);
    let changed = sections
        .iter()
        .flat_map(|s| &s.figures)
        .zip(&saved_values)
        .filter(|(f, (_, v))| *v != f.default)
        .map(|(f, _)| f.path.clone())
        .collect();
    let values = typed.unwrap_or(saved_values);
    let users = state.store().list_users(&page.actor).await?;
    let logo = state
        .store()
        .clinic_logo(&page.actor)
        .await?
        .map(|l| format!("{} × {} px, {}", l.width, l.height, l.content_type))
        .unwrap_or_default();
    let status = errors.status();
    render_status(
        status,
        &SettingsPage {
            nav: Nav::new(page, "settings"),
            sections,
            values,
            changed,
            form,
            user_form,
            users,
            errors,
            saved,
            defaults: follicle_core::settings::DEFAULT_SETTINGS_TOML,
            logo,
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
    raw: axum::extract::RawForm,
) -> PageResult {
    let pairs = super::clients::url_pairs(&raw.0);
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    page.check_csrf(&field("_csrf"))?;
    page.actor.require(Action::EditSettings)?;
    let mut errors = FieldErrors::default();
    let retention = field("retention_years");
    let years = match retention.trim().parse::<i64>() {
        Ok(y) => Some(y),
        Err(_) => {
            errors.add(
                "retention_years",
                format!("expected whole years, 1–100, got {retention:?}"),
            );
            None
        }
    };
    let figures = field("form") == "figures";
    let mut current = String::new();
    let (settings_toml, typed) = if figures {
        // The generated form: the typed figures over the clinic's current file.
        let clinic = state.store().clinic(&page.actor).await?;
        let typed: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k.contains('.')).cloned().collect();
        let checked = settings_form::check(&settings_form::sections(), &clinic.settings_toml, &typed);
        current = clinic.settings_toml;
        errors.0.extend(checked.errors.0);
        (checked.clinic_toml, Some(typed))
    } else {
        // The whole file, imported.
        let text = field("settings_toml");
        if let Err(e) = parse_settings(&text) {
            let at = e
                .location
                .map(|l| format!(" (line {}, column {})", l.line, l.column))
                .unwrap_or_default();
            errors.add("settings_toml", format!("{}{at}: {}", e.field, e.message));
        }
        (text, None)
    };
    if let (true, Some(years)) = (errors.is_empty(), years) {
        match state
            .store()
            .update_clinic_settings(&page.actor, &settings_toml, years)
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
    let form = SettingsForm {
        _csrf: String::new(),
        // After a mistake in the figures, the file box shows the file as saved.
        settings_toml: if figures { current } else { settings_toml },
        retention_years: retention,
    };
    show(
        &state,
        &page,
        Some(form),
        typed,
        UserForm::default(),
        errors,
        false,
    )
    .await
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
                    errors.add("user.email", "someone in your clinic already uses this email")
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
    let form = UserForm {
        password: String::new(),
        ..form
    };
    show(&state, &page, None, None, form, errors, false).await
}
