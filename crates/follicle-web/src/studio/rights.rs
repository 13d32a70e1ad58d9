//! Data rights in the studio: a client's complete record as a zip, erasure on request (owner,
//! confirmed by typing the client's name, with the legal hold explained before and after), and
//! the owner's data page — the clinic-wide export, the CSV import with a dry run, and the
//! retention job's reports.

use askama::Template;
use axum::extract::State;
use follicle_store::{Action, Client, ErasureReport, ImportReport, LegalHold, RetentionReport};
use serde::Deserialize;

use super::{FieldErrors, Nav, Page, PageResult, render, render_status};
use crate::extract::Id;
use crate::state::AppState;

/// The legal hold, in words, for the confirmation page.
fn hold_words(hold: &LegalHold) -> String {
    let kinds: Vec<String> = hold.held.iter().map(|k| k.replace('_', " ")).collect();
    if kinds.is_empty() {
        "Nothing is held by law under this clinic's settings: everything is erased at once.".to_owned()
    } else {
        format!(
            "The law makes the clinic keep {} for {} years after the client's last session ({}). \
             Those are kept, with the client's name and contact details so that the clinic can reach \
             them in a pigment recall or answer a claim, and are anonymised when the hold ends. \
             Everything else — photos, designs, the rest of the record, notes and date of birth — is \
             erased now. Change what is held under Settings, section records.",
            kinds.join(" and "),
            hold.hold_years,
            hold.source
        )
    }
}

#[derive(Template)]
#[template(path = "erase.html")]
struct ErasePage {
    nav: Nav,
    client: Client,
    hold: String,
    confirm_name: String,
    errors: FieldErrors,
    done: Option<ErasureReport>,
}

/// The confirmation page.
pub(super) async fn erase_form(State(state): State<AppState>, page: Page, Id(id): Id) -> PageResult {
    page.actor.require(Action::DeleteClients)?;
    let client = state.store().client(&page.actor, id).await?;
    let clinic = state.store().clinic(&page.actor).await?;
    render(&ErasePage {
        nav: Nav::new(&page, "clients"),
        client,
        hold: hold_words(&LegalHold::of_clinic(&clinic.settings_toml)),
        confirm_name: String::new(),
        errors: FieldErrors::default(),
        done: None,
    })
}

#[derive(Debug, Deserialize)]
pub(super) struct EraseForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    confirm_name: String,
}

/// Erases, or shows the form again when the name does not match.
pub(super) async fn erase_submit(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    axum::Form(form): axum::Form<EraseForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    page.actor.require(Action::DeleteClients)?;
    let client = state.store().client(&page.actor, id).await?;
    let clinic = state.store().clinic(&page.actor).await?;
    let hold = hold_words(&LegalHold::of_clinic(&clinic.settings_toml));
    let mut errors = FieldErrors::default();
    if form.confirm_name.trim() != client.name {
        errors.add(
            "confirm_name",
            format!(
                "type the client's name exactly as recorded, {:?}, to confirm; got {:?}",
                client.name, form.confirm_name
            ),
        );
        return render_status(
            errors.status(),
            &ErasePage {
                nav: Nav::new(&page, "clients"),
                client,
                hold,
                confirm_name: form.confirm_name,
                errors,
                done: None,
            },
        );
    }
    let report = state
        .store()
        .erase_client(&page.actor, id, time::OffsetDateTime::now_utc().date())
        .await?;
    render(&ErasePage {
        nav: Nav::new(&page, "clients"),
        client,
        hold,
        confirm_name: String::new(),
        errors,
        done: Some(report),
    })
}

#[derive(Template)]
#[template(path = "data.html")]
struct DataPage {
    nav: Nav,
    clients_csv: String,
    appointments_csv: String,
    import: Option<ImportReport>,
    reports: Vec<RetentionReport>,
}

async fn data_page(state: &AppState, page: &Page, form: Option<(ImportForm, ImportReport)>) -> PageResult {
    let reports = state.store().retention_reports(&page.actor).await?;
    let (clients_csv, appointments_csv, import) = match form {
        Some((f, report)) => (f.clients_csv, f.appointments_csv, Some(report)),
        None => (String::new(), String::new(), None),
    };
    let status = match &import {
        Some(r) if !r.errors.is_empty() => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        _ => axum::http::StatusCode::OK,
    };
    render_status(
        status,
        &DataPage {
            nav: Nav::new(page, "data"),
            clients_csv,
            appointments_csv,
            import,
            reports,
        },
    )
}

/// The owner's data page.
pub(super) async fn data(State(state): State<AppState>, page: Page) -> PageResult {
    page.actor.require(Action::Backup)?;
    data_page(&state, &page, None).await
}

#[derive(Debug, Deserialize)]
pub(super) struct ImportForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    clients_csv: String,
    #[serde(default)]
    appointments_csv: String,
    /// "check" for a dry run, "import" to save.
    #[serde(default)]
    action: String,
}

/// Checks or imports the CSV pasted in the form; the page shows every mistake by line.
pub(super) async fn import(
    State(state): State<AppState>,
    page: Page,
    axum::Form(form): axum::Form<ImportForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let dry_run = form.action != "import";
    let report = state
        .store()
        .import_csv(&page.actor, &form.clients_csv, &form.appointments_csv, dry_run)
        .await?;
    data_page(&state, &page, Some((form, report))).await
}
