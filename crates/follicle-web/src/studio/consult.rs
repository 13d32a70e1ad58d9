//! The consultation wizard: the client's profile and medical questions step by step, then the
//! assessment (verdict and reasons), the plan with dates, the quote and a preview — all
//! editable before saving; and the printable plan and quote.
//!
//! The form becomes a client file (the same TOML `follicle plan` reads), so the studio, the
//! command line and the API assess a client identically. A practitioner can also edit that
//! file directly (the "client file" step), for anything the form does not ask.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use follicle_core::profile::{
    Aim, Fitzpatrick, HAIR_LOSS_SCALES, HairColour, HairlineStyle, SCAR_KINDS, ScarSite, Sex, SkinType,
    SunExposure,
};
use follicle_core::{Plan, Settings};
use follicle_render::Look;
use follicle_store::{Action, Client, PlanRecord};

use super::consult_form::{ConsultForm, next_bookable_day};
use super::today::day;
use super::{FieldErrors, Nav, Page, PageError, PageResult, render, render_status};
use crate::compute::{ClientInput, PreviewArgs};
use crate::extract::Id;
use crate::state::AppState;

/// The choices the form offers, from the core's vocabularies and the clinic's settings.
#[derive(Debug)]
pub struct Choices {
    fitzpatrick: Vec<String>,
    skin_types: Vec<String>,
    hair_colours: Vec<String>,
    scales: Vec<String>,
    scar_kinds: Vec<String>,
    scar_sites: Vec<String>,
    sun: Vec<String>,
    styles: Vec<String>,
    sexes: Vec<String>,
    aims: Vec<String>,
    conditions: Vec<String>,
    medications: Vec<String>,
    events: Vec<String>,
    locations: Vec<String>,
    /// The yes/no questions of the skin step: (field, question).
    answers: Vec<(String, String)>,
    yes_no: Vec<String>,
}

impl Choices {
    fn new(settings: &Settings) -> Choices {
        Choices {
            fitzpatrick: Fitzpatrick::ALL.iter().map(|f| f.to_string()).collect(),
            skin_types: SkinType::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
            hair_colours: HairColour::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
            scales: HAIR_LOSS_SCALES.iter().map(|s| (*s).to_owned()).collect(),
            scar_kinds: SCAR_KINDS.iter().map(|s| (*s).to_owned()).collect(),
            scar_sites: ScarSite::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
            sun: SunExposure::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
            styles: HairlineStyle::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
            sexes: Sex::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
            aims: Aim::ALL.iter().map(|s| s.as_str().to_owned()).collect(),
            conditions: settings.eligibility.known_conditions.clone(),
            medications: settings.eligibility.known_medications.clone(),
            events: settings.eligibility.known_events.clone(),
            answers: follicle_core::profile::ANSWERS
                .iter()
                .map(|a| (a.id.to_owned(), a.question.to_owned()))
                .collect(),
            yes_no: vec!["yes".to_owned(), "no".to_owned()],
            locations: settings
                .pricing
                .locations
                .iter()
                .filter(|l| !l.disabled)
                .map(|l| l.id.clone())
                .collect(),
        }
    }
}

/// The plan as the result panel shows it.
#[derive(Debug)]
pub struct PlanView {
    verdict: String,
    verdict_class: &'static str,
    reasons: Vec<(String, String, String)>,
    approach: String,
    zones: Vec<(String, String, String)>,
    sessions: Vec<(String, String, String, String)>,
    quote: Vec<(String, String)>,
    quote_heading: String,
    total: String,
    touch_up: String,
    notes: Vec<String>,
    preview: String,
}

fn plan_view(plan: &PlanRecord, quote_number: Option<i64>, preview: String) -> PlanView {
    let verdict = plan.verdict.as_str();
    let zones = plan
        .zones
        .iter()
        .map(|z| {
            (
                z.zone.replace('_', " "),
                format!("{:.0} cm²", z.area_cm2),
                format!("{:.0} dots/cm²", z.density_per_cm2),
            )
        })
        .collect();
    let money = crate::wire::money;
    let (quote, total, touch_up, quote_heading) = match &plan.quote {
        Some(q) => (
            q.lines
                .iter()
                .map(|l| {
                    (
                        format!(
                            "Session {} · {}",
                            l.session,
                            l.date.map_or_else(|| "not dated".into(), day)
                        ),
                        money(&q.currency, l.amount),
                    )
                })
                .collect(),
            format!(
                "{} (deposit {}, balance {})",
                money(&q.currency, q.total),
                q.deposit.map_or_else(
                    || "none until the plan can be booked".into(),
                    |d| money(&q.currency, d)
                ),
                money(&q.currency, q.balance)
            ),
            format!(
                "Touch-up due about {} ({:.1} years after the last session), {}",
                q.touch_up
                    .due_on
                    .map_or_else(|| "after the last session".into(), day),
                q.touch_up.years_after_last_session,
                money(&q.currency, q.touch_up.price)
            ),
            format!(
                "{}issued {}, valid until {}",
                quote_number
                    .map(|n| format!("Quote {} · ", crate::wire::quote_label(n)))
                    .unwrap_or_default(),
                day(q.issued_on),
                day(q.valid_until)
            ),
        ),
        None => (Vec::new(), String::new(), String::new(), String::new()),
    };
    PlanView {
        verdict: verdict.replace('_', " "),
        verdict_class: match verdict {
            "proceed" => "ok",
            "not_suitable" => "bad",
            _ => "warn",
        },
        reasons: plan
            .reasons
            .iter()
            .map(|r| {
                (
                    r.rule.clone(),
                    r.message.clone(),
                    r.until.map(day).unwrap_or_default(),
                )
            })
            .collect(),
        approach: plan.approach.join(", ").replace('_', " "),
        zones,
        sessions: plan
            .sessions
            .iter()
            .map(|s| {
                (
                    format!(
                        "{} · {} {}",
                        s.index,
                        s.date.map_or_else(|| "not dated".into(), day),
                        s.start_time
                    ),
                    format!("{:.2} h", s.duration_hours),
                    s.purpose.clone(),
                    format!(
                        "{} · {}, {:.0}% water",
                        s.needle,
                        s.pigment_shade,
                        s.pigment_dilution * 100.0
                    ),
                )
            })
            .collect(),
        quote,
        quote_heading,
        total,
        touch_up,
        notes: plan.notes.clone(),
        preview,
    }
}

#[derive(Template)]
#[template(path = "consult.html")]
struct ConsultPage {
    nav: Nav,
    client: Client,
    form: ConsultForm,
    choices: Choices,
    errors: FieldErrors,
    client_toml: String,
    result: Option<PlanView>,
    /// Where the medical answers came from, when the client's intake filled them in.
    intake_note: String,
}

pub(super) async fn form(State(state): State<AppState>, page: Page, Id(id): Id) -> PageResult {
    page.actor.require(Action::EditClinicalRecords)?;
    let client = state.store().client(&page.actor, id).await?;
    let settings = state.clinic_settings(&page.actor).await?;
    let today = crate::compute::today();
    let mut form = ConsultForm::new_for(
        &client.name,
        client.age_years,
        next_bookable_day(&settings, today),
    );
    // A client who came through the estimator starts from their answers there: the drawing
    // they picked (scale and stage), skin, hair colour, aims.
    let mut estimate_note = String::new();
    if let Some(request) = state.store().request_of_client(&page.actor, id).await?
        && let Some(file) = crate::estimate::client_file_of_answers(&request.answers, today)
    {
        form.fill_from_client_file(&file, &["name", "start"]);
        estimate_note = format!(
            "Hair loss, skin, hair colour and aims filled from the estimator answers sent on {}. Check them with the client.",
            day(request.created_at.date())
        );
    }
    // The client's own answers from their pages prefill the medical questions.
    let intake = state.store().intakes(&page.actor, id).await?.into_iter().next();
    let intake_note = match &intake {
        Some(i) => {
            let conditions: Vec<&str> = i.answers.conditions.iter().map(String::as_str).collect();
            let medications: Vec<&str> = i.answers.medications.iter().map(String::as_str).collect();
            form.set_all("conditions", &conditions);
            form.set_all("medications", &medications);
            let extra = [("allergies", &i.answers.allergies), ("notes", &i.answers.notes)]
                .iter()
                .filter(|(_, t)| !t.trim().is_empty())
                .map(|(k, t)| format!("{k}: {}", t.trim()))
                .collect::<Vec<_>>()
                .join("; ");
            format!(
                "Medical answers filled from the client's intake of {}{}. Check them with the client.",
                day(i.submitted_at.date()),
                if extra.is_empty() {
                    String::new()
                } else {
                    format!(" ({extra})")
                }
            )
        }
        None => String::new(),
    };
    let intake_note = [estimate_note, intake_note]
        .into_iter()
        .filter(|n| !n.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    render(&ConsultPage {
        intake_note,
        nav: Nav::new(&page, "clients"),
        client_toml: form.client_file().0,
        client,
        form,
        choices: Choices::new(&settings),
        errors: FieldErrors::default(),
        result: None,
    })
}

async fn preview_data_url(
    state: &AppState,
    plan: &Plan,
    request: &follicle_pattern::PatternRequest,
    settings: &Settings,
) -> Result<String, PageError> {
    if plan.sessions.is_empty() {
        return Ok(String::new());
    }
    let pattern = state.pattern(request.clone()).await?;
    let look = Look::for_client(&plan.assessment.client, settings);
    let png = crate::compute::preview_png(
        pattern,
        look,
        &PreviewArgs {
            view: Some("front".into()),
            moment: None,
            size: Some(384),
        },
    )
    .await?;
    Ok(format!("data:image/png;base64,{}", base64(&png)))
}

/// Standard base64 (RFC 4648) for a data URL.
fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(super) async fn submit(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    raw: axum::extract::RawForm,
) -> PageResult {
    let form = ConsultForm::parse(&raw.0);
    page.check_csrf(&form.csrf)?;
    page.actor.require(Action::EditClinicalRecords)?;
    let client = state.store().client(&page.actor, id).await?;
    let settings = state.clinic_settings(&page.actor).await?;
    // The client-file step wins when it was edited by hand.
    let typed_toml = form.get("client_toml").to_owned();
    let edited = !typed_toml.is_empty() && form.get("use_client_toml") == "on";
    let checked = form.check(&settings, crate::compute::today());
    let (client_toml, mut errors) = if edited {
        (typed_toml, FieldErrors::default())
    } else {
        (checked.client_toml, checked.errors)
    };
    let input = ClientInput {
        client_toml: client_toml.clone(),
        date: None,
        start: Some(form.get("start").to_owned()).filter(|s| !s.is_empty()),
    };
    let planned = if errors.is_empty() {
        match state.plan(&input, &settings, None).await {
            Ok(p) => Some(p),
            Err(e) => {
                // Only a hand-edited client file gets here with a mistake: name its line.
                let field = e.detail.field.clone().unwrap_or_default();
                let at = e
                    .detail
                    .line
                    .map(|l| format!(" (client file line {l})"))
                    .unwrap_or_default();
                let target = if field == "start" { "start" } else { "client_toml" };
                errors.add(target, format!("{field}: {}{at}", e.detail.message));
                None
            }
        }
    } else {
        None
    };
    if let (Some(_), "save") = (&planned, form.action.as_str()) {
        // The same action as the API's: the consultation and its design in one transaction.
        crate::usecase::record_consultation(&state, &page.actor, id, &input).await?;
        return Ok(Redirect::to(&format!("/clients/{id}")).into_response());
    }
    let result = match &planned {
        Some(p) => Some(plan_view(
            &PlanRecord::from_core(&p.plan, crate::usecase::issue_today(&settings)),
            None,
            preview_data_url(&state, &p.plan, &p.request, &settings).await?,
        )),
        None => None,
    };
    let status = errors.status();
    render_status(
        status,
        &ConsultPage {
            intake_note: String::new(),
            nav: Nav::new(&page, "clients"),
            client,
            client_toml,
            form,
            choices: Choices::new(&settings),
            errors,
            result,
        },
    )
}

#[derive(Template)]
#[template(path = "print.html")]
struct PrintPage {
    nav: Nav,
    client: Client,
    consultation_id: String,
    version: i64,
    date: String,
    made_with: String,
    replanned_from: String,
    may_replan: bool,
    plan: PlanView,
    /// The client's document (plan and quote in their words), as HTML from follicle-docs.
    document: String,
}

/// The client's copy of a consultation's plan and quote, as a PDF in the client's words.
pub(super) async fn plan_pdf(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
) -> Result<axum::response::Response, super::PageError> {
    let c = state.store().consultation(&page.actor, id).await?;
    let client = state.store().client(&page.actor, c.client_id).await?;
    let settings = state.clinic_settings(&page.actor).await?;
    let registered = state.store().clinic(&page.actor).await?.name;
    let mut doc =
        crate::documents::plan_document(&settings, &registered, &client.name, &c.plan, c.quote_number);
    doc.letterhead.logo = crate::documents::logo_of(state.store(), page.actor.clinic_id()).await?;
    let pdf =
        follicle_docs::pdf(&doc).map_err(|e| super::PageError::from(crate::error::ApiError::internal(e)))?;
    Ok(crate::portal::pdf_answer("plan-and-quote.pdf", pdf))
}

/// The printed plan and quote: the stored record as it was issued, never re-planned, in the
/// client's words with the clinic's letterhead (the same document as the PDF), and below it, not
/// printed, the clinical detail and the preview of the design saved with it. The same record
/// prints the same bytes whatever the clinic's prices and rules are today.
pub(super) async fn print(State(state): State<AppState>, page: Page, Id(id): Id) -> PageResult {
    let c = state.store().consultation(&page.actor, id).await?;
    let client = state.store().client(&page.actor, c.client_id).await?;
    let preview = stored_preview(&state, &page, &c).await;
    let settings = state.clinic_settings(&page.actor).await?;
    let registered = state.store().clinic(&page.actor).await?.name;
    let mut document =
        crate::documents::plan_document(&settings, &registered, &client.name, &c.plan, c.quote_number);
    document.letterhead.logo = crate::documents::logo_of(state.store(), page.actor.clinic_id()).await?;
    let document = follicle_docs::html(&document);
    let replanned_from = match c.replanned_from {
        Some(from) => state
            .store()
            .consultation(&page.actor, from)
            .await
            .map(|f| format!("v{}", f.version))
            .unwrap_or_default(),
        None => String::new(),
    };
    render(&PrintPage {
        nav: Nav::new(&page, "clients"),
        client,
        consultation_id: c.id.to_string(),
        version: c.version,
        date: day(c.created_at.date()),
        made_with: match (&c.settings_toml, c.schema_version) {
            (_, 0) => "Recorded before plans were kept as issued (record schema 0).".into(),
            (Some(t), _) if t.trim().is_empty() => "Made with Follicle's default settings.".into(),
            _ => "Made with the clinic's settings of that day.".into(),
        },
        replanned_from,
        may_replan: page.may(Action::EditClinicalRecords),
        plan: plan_view(&c.plan, c.quote_number, preview),
        document,
    })
}

/// The preview of the design saved with a consultation, as a data URL; empty when it has
/// none or it no longer draws (a record outlives the pattern engine's formats).
async fn stored_preview(state: &AppState, page: &Page, c: &follicle_store::Consultation) -> String {
    let Ok(settings) = state.clinic_settings(&page.actor).await else {
        return String::new();
    };
    let Ok(Some(design)) = crate::usecase::design_of(state, &page.actor, c).await else {
        return String::new();
    };
    let Ok(request) = crate::api::records::design_request(&design) else {
        return String::new();
    };
    let (profile, made_with) = crate::usecase::stored_profile(c, &settings);
    let look = match profile {
        Some(p) => Look::for_client(&p, &made_with),
        None => Look::typical(Fitzpatrick::III, &made_with),
    };
    let Ok(pattern) = state.pattern(request).await else {
        return String::new();
    };
    let args = PreviewArgs {
        view: Some("front".into()),
        moment: None,
        size: Some(384),
    };
    match crate::compute::preview_png(pattern, look, &args).await {
        Ok(png) => format!("data:image/png;base64,{}", base64(&png)),
        Err(_) => String::new(),
    }
}

/// "Re-plan with today's settings" from the printed plan: a new version, then its printout
/// with what changed.
pub(super) async fn replan(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    raw: axum::extract::RawForm,
) -> PageResult {
    let form = super::clients::url_pairs(&raw.0);
    let csrf = form
        .iter()
        .find(|(k, _)| k == "_csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    page.check_csrf(csrf)?;
    let replanned = crate::usecase::replan(&state, &page.actor, id).await?;
    render(&ReplannedPage {
        nav: Nav::new(&page, "clients"),
        client_id: replanned.before.client_id.to_string(),
        before: replanned.before.version,
        after: replanned.after.consultation.version,
        after_id: replanned.after.consultation.id.to_string(),
        differences: replanned
            .differences
            .into_iter()
            .map(|d| (d.what, d.before, d.after))
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "replanned.html")]
struct ReplannedPage {
    nav: Nav,
    client_id: String,
    before: i64,
    after: i64,
    after_id: String,
    differences: Vec<(String, String, String)>,
}
