//! A client's portal and consents, at the clinic: send the client a sign-in link to their own
//! pages, see what they signed (with the signed PDF and a check of both fingerprints), record a
//! withdrawal the client asked for by phone or in person.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use follicle_store::{Action, Client, SignedConsent};
use serde::Deserialize;
use uuid::Uuid;

use super::{Nav, Page, PageError, PageResult, render};
use crate::documents::when;
use crate::extract::Id;
use crate::state::AppState;

/// A signed consent as the clinic's page lists it.
struct Row {
    id: Uuid,
    title: String,
    version: String,
    signed: String,
    place: String,
    state: String,
    check: String,
}

#[derive(Template)]
#[template(path = "client_consents.html")]
struct ConsentsPage {
    nav: Nav,
    client: Client,
    rows: Vec<Row>,
    notice: String,
    may_edit: bool,
}

#[derive(Debug, Deserialize)]
pub(super) struct NoticeQuery {
    #[serde(default)]
    done: String,
}

pub(super) async fn page(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    axum::extract::Query(q): axum::extract::Query<NoticeQuery>,
) -> PageResult {
    let store = state.store();
    let client = store.client(&page.actor, id).await?;
    let settings = state.clinic_settings(&page.actor).await?;
    let consents = store.signed_consents(&page.actor, id).await?;
    let mut rows = Vec::new();
    for c in consents {
        let check = store.check_consent(&page.actor, c.id).await?;
        rows.push(row(&settings, c, check));
    }
    render(&ConsentsPage {
        nav: Nav::new(&page, "clients"),
        may_edit: page.may(Action::EditClinicalRecords),
        client,
        rows,
        notice: match q.done.as_str() {
            "link" => "A sign-in link is on its way to the client's email (see Messages).".to_owned(),
            "withdrawn" => "The withdrawal is recorded.".to_owned(),
            "signed" => "Signed at the chair. A copy is on its way to the client's email.".to_owned(),
            _ => String::new(),
        },
    })
}

fn row(settings: &follicle_core::Settings, c: SignedConsent, check: follicle_store::ConsentCheck) -> Row {
    Row {
        id: c.id,
        title: c.signed.title.clone(),
        version: c.signed.template_version.clone(),
        signed: format!(
            "{} by {}{}",
            when(settings, c.signed.signed_at),
            c.signed.signer_name,
            match c.signed.method() {
                follicle_store::SignatureMethod::Typed => " (signed by typing their name)",
                follicle_store::SignatureMethod::Drawn => "",
            }
        ),
        place: match c.signed.signed_in {
            follicle_store::SignedIn::Portal => "in the client's pages".to_owned(),
            follicle_store::SignedIn::Chair => "at the clinic".to_owned(),
        },
        state: match &c.withdrawal {
            Some(w) => format!(
                "withdrawn {}{}{}",
                when(settings, w.at),
                if w.by_client { " by the client" } else { "" },
                if w.reason.is_empty() {
                    String::new()
                } else {
                    format!(": {}", w.reason)
                }
            ),
            None => "stands".to_owned(),
        },
        check: match (check.document_intact, check.pdf_intact) {
            (true, true) => "unchanged since signing".to_owned(),
            (false, _) => "CHANGED after signing: the record does not match its fingerprint".to_owned(),
            (true, false) => "the stored PDF does not match its fingerprint".to_owned(),
        },
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    reason: String,
}

/// Sends the client a sign-in link to their pages (through the job queue).
pub(super) async fn send_link(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    page.check_csrf(&form._csrf)?;
    let client = state.store().client(&page.actor, id).await?;
    if client.email.trim().is_empty() {
        return Err(PageError {
            status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            message: format!(
                "{} has no email address: add one before sending a link.",
                client.name
            ),
        });
    }
    crate::portal::queue_link(&state, page.actor.clinic_id(), id).await?;
    Ok(Redirect::to(&format!("/clients/{id}/consents?done=link")).into_response())
}

/// The signed PDF of a consent.
pub(super) async fn pdf(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
) -> Result<Response, PageError> {
    let (consent, pdf) = state.store().signed_consent(&page.actor, id).await?;
    Ok(crate::portal::pdf_answer(
        &format!("consent-{}.pdf", consent.signed.kind.as_str()),
        pdf,
    ))
}

/// Records a withdrawal the client asked for.
pub(super) async fn withdraw(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    page.check_csrf(&form._csrf)?;
    let (consent, _) = state.store().signed_consent(&page.actor, id).await?;
    state
        .store()
        .record_consent_withdrawal(&page.actor, id, &form.reason)
        .await?;
    Ok(Redirect::to(&format!(
        "/clients/{}/consents?done=withdrawn",
        consent.signed.client_id
    ))
    .into_response())
}

/// The consent's words for a client at the chair, or a page saying why not.
async fn chair_words(
    state: &AppState,
    page: &Page,
    client: &Client,
    kind: &str,
) -> Result<
    (
        crate::documents::ConsentWords,
        String,
        std::sync::Arc<follicle_core::Settings>,
    ),
    PageError,
> {
    let kind = follicle_core::settings::ConsentKind::parse(kind).ok_or_else(|| PageError {
        status: axum::http::StatusCode::NOT_FOUND,
        message: "There is no such consent.".into(),
    })?;
    let settings = state.clinic_settings(&page.actor).await?;
    let registered = state.store().clinic(&page.actor).await?.name;
    let shown = crate::documents::clinic_name(&settings, &registered);
    let designs = state.store().designs(&page.actor, client.id).await?;
    let words = crate::documents::consent_for(&settings, &shown, &client.name, kind, designs.last())
        .map_err(|message| PageError {
            status: axum::http::StatusCode::CONFLICT,
            message,
        })?;
    Ok((words, registered, settings))
}

fn chair_page(
    page: &Page,
    client: &Client,
    words: &crate::documents::ConsentWords,
    name: String,
    typed: bool,
    error: String,
) -> crate::portal::ConsentPage {
    crate::portal::ConsentPage {
        clinic: String::new(),
        csrf: page_csrf(page),
        action: format!("/clients/{}/consents/{}/sign", client.id, words.kind.as_str()),
        back: format!("/clients/{}/consents", client.id),
        back_words: format!("{}'s pages and consents", client.name),
        title: words.title.clone(),
        paragraphs: crate::portal::paragraphs(&words.text),
        version: words.version.clone(),
        name,
        typed,
        error,
    }
}

fn page_csrf(page: &Page) -> String {
    Nav::new(page, "clients").csrf
}

#[derive(Debug, Deserialize)]
pub(super) struct ChairPath {
    id: String,
    kind: String,
}

fn client_id(path: &ChairPath) -> Result<Uuid, PageError> {
    path.id.parse().map_err(|_| PageError {
        status: axum::http::StatusCode::NOT_FOUND,
        message: "There is no such record in your clinic.".into(),
    })
}

/// A consent to sign at the chair, on the clinic's device (handed to the client).
pub(super) async fn chair_form(
    State(state): State<AppState>,
    page: Page,
    axum::extract::Path(path): axum::extract::Path<ChairPath>,
) -> PageResult {
    let client = state.store().client(&page.actor, client_id(&path)?).await?;
    let (words, _, _) = chair_words(&state, &page, &client, &path.kind).await?;
    render(&chair_page(
        &page,
        &client,
        &words,
        client.name.clone(),
        false,
        String::new(),
    ))
}

/// Signs a consent at the chair: kept with the staff member present as witness, the PDF mailed
/// to the client.
pub(super) async fn chair_submit(
    State(state): State<AppState>,
    page: Page,
    axum::extract::Path(path): axum::extract::Path<ChairPath>,
    crate::extract::PeerAddr(peer): crate::extract::PeerAddr,
    headers: axum::http::HeaderMap,
    Form(form): Form<crate::portal::SignForm>,
) -> Result<Response, PageError> {
    page.check_csrf(&form._csrf)?;
    let client = state.store().client(&page.actor, client_id(&path)?).await?;
    let (words, registered, settings) = chair_words(&state, &page, &client, &path.kind).await?;
    let again = |error: String| {
        super::render_status(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            &chair_page(
                &page,
                &client,
                &words,
                form.name().to_owned(),
                form.is_typed(),
                error,
            ),
        )
    };
    let signing = crate::portal::Signing {
        signer: crate::portal::Signer::AtChair,
        clinic_id: page.actor.clinic_id(),
        client_id: client.id,
        client_name: &client.name,
        settings: &settings,
        registered: &registered,
        peer: &peer,
        headers: &headers,
        witness: Some(&page.user.name),
        logo: crate::documents::logo_of(state.store(), page.actor.clinic_id()).await?,
    };
    let (signed, pdf) = match crate::portal::signed_from_form(&words, &form, &signing)? {
        Ok(signed) => signed,
        Err(refusal) => return again(refusal),
    };
    let kept = match state
        .store()
        .sign_consent_at_chair(&page.actor, &signed, &pdf)
        .await
    {
        Ok(kept) => kept,
        Err(follicle_store::StoreError::Invalid { message, .. }) => return again(message),
        Err(e) => return Err(e.into()),
    };
    if !client.email.trim().is_empty() {
        crate::portal::queue_copy(&state, page.actor.clinic_id(), client.id, kept.id, &settings).await?;
    }
    Ok(Redirect::to(&format!("/clients/{}/consents?done=signed", client.id)).into_response())
}
