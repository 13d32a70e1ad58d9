//! The consultation wizard: the client's profile and medical questions step by step, then the
//! assessment (verdict and reasons), the plan with dates, the quote and a preview — all
//! editable before saving; and the printable plan and quote.
//!
//! The form becomes a client file (the same TOML `follicle plan` reads), so the studio, the
//! command line and the API assess a client identically. A practitioner can also edit that
//! file directly (the "client file" step), for anything the form does not ask.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use follicle_core::profile::{
    Aim, Fitzpatrick, HAIR_LOSS_SCALES, HairColour, HairlineStyle, SCAR_KINDS, ScarSite, Sex, SkinType,
    SunExposure,
};
use follicle_core::{Plan, Settings};
use follicle_render::Look;
use follicle_store::{Action, Client, NewConsultation, NewDesign};

use super::consult_form::{ConsultForm, next_bookable_day};
use super::today::day;
use super::{FieldErrors, Nav, Page, PageError, PageResult, render, render_status};
use crate::compute::{ClientInput, PreviewArgs, split_request};
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
    total: String,
    touch_up: String,
    notes: Vec<String>,
    preview: String,
}

fn plan_view(plan: &Plan, preview: String) -> PlanView {
    let a = &plan.assessment;
    let verdict = a.eligibility.verdict.as_str();
    let mut zones = Vec::new();
    for z in &a.zones {
        zones.push((
            z.zone.as_str().replace('_', " "),
            format!("{:.0} cm²", z.area_cm2),
            format!("{:.0} dots/cm²", z.density_per_cm2),
        ));
    }
    let money = |currency: &str, v: i64| format!("{currency} {v}");
    let (quote, total, touch_up) = match &plan.quote {
        Some(q) => (
            q.per_session
                .iter()
                .map(|s| {
                    (
                        format!(
                            "Session {} · {}",
                            s.index,
                            s.date.map_or_else(|| "not dated".into(), day)
                        ),
                        money(&q.currency, s.amount),
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
                    .due_date
                    .map_or_else(|| "after the last session".into(), day),
                q.touch_up.years_after_last_session,
                money(&q.currency, q.touch_up.price)
            ),
        ),
        None => (Vec::new(), String::new(), String::new()),
    };
    PlanView {
        verdict: verdict.replace('_', " "),
        verdict_class: match verdict {
            "proceed" => "ok",
            "not_suitable" => "bad",
            _ => "warn",
        },
        reasons: a
            .eligibility
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
        approach: a
            .approach
            .approaches
            .iter()
            .map(|x| format!("{x:?}"))
            .collect::<Vec<_>>()
            .join(", "),
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
                    s.purpose_text.clone(),
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
}

pub(super) async fn form(State(state): State<AppState>, page: Page, Id(id): Id) -> PageResult {
    page.actor.require(Action::EditClinicalRecords)?;
    let client = state.store().client(&page.actor, id).await?;
    let settings = state.clinic_settings(&page.actor).await?;
    let today = crate::compute::today();
    let form = ConsultForm::new_for(
        &client.name,
        client.age_years,
        next_bookable_day(&settings, today),
    );
    render(&ConsultPage {
        nav: Nav::new(&page, "clients"),
        client_toml: form.client_file().0,
        client,
        form,
        choices: Choices::new(&settings),
        errors: FieldErrors::default(),
        result: None,
    })
}

async fn preview_data_url(state: &AppState, plan: &Plan, settings: &Settings) -> Result<String, PageError> {
    if plan.sessions.is_empty() {
        return Ok(String::new());
    }
    let request = follicle_pattern::from_plan::request(plan, settings, 1);
    let pattern = state.pattern(request).await?;
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
        match input.plan(&settings) {
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
    if let (Some(planned), "save") = (&planned, form.action.as_str()) {
        let new = NewConsultation::from_core(
            id,
            Some(client_toml.clone()),
            &planned.profile,
            &planned.plan.assessment,
            &planned.plan,
            &settings,
        )?;
        let consultation = state.store().add_consultation(&page.actor, &new).await?;
        if !planned.plan.sessions.is_empty() {
            let request = follicle_pattern::from_plan::request(&planned.plan, &settings, 1);
            let (hairline, zones, rest) = split_request(&request)?;
            state
                .store()
                .add_design(
                    &page.actor,
                    &NewDesign {
                        client_id: id,
                        consultation_id: Some(consultation.id),
                        hairline,
                        zones,
                        seed: request.seed,
                        settings: rest,
                        notes: format!("From consultation v{}", consultation.version),
                    },
                )
                .await?;
        }
        return Ok(Redirect::to(&format!("/clients/{id}")).into_response());
    }
    let result = match &planned {
        Some(p) => Some(plan_view(
            &p.plan,
            preview_data_url(&state, &p.plan, &settings).await?,
        )),
        None => None,
    };
    let status = errors.status();
    render_status(
        status,
        &ConsultPage {
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
    version: i64,
    date: String,
    plan: PlanView,
    aftercare: Vec<(String, String)>,
}

pub(super) async fn print(State(state): State<AppState>, page: Page, Id(id): Id) -> PageResult {
    let c = state.store().consultation(&page.actor, id).await?;
    let client = state.store().client(&page.actor, c.client_id).await?;
    let settings = state.clinic_settings(&page.actor).await?;
    let input = ClientInput::from_consultation(&c).ok_or_else(|| PageError {
        status: StatusCode::NOT_FOUND,
        message: "This consultation kept no client file to print a plan from.".into(),
    })?;
    let planned = input.plan(&settings)?;
    let preview = preview_data_url(&state, &planned.plan, &settings).await?;
    let aftercare = planned
        .plan
        .aftercare
        .items
        .iter()
        .map(|i| (format!("Day {}–{}", i.from_day, i.to_day), i.text.clone()))
        .collect();
    render(&PrintPage {
        nav: Nav::new(&page, "clients"),
        client,
        version: c.version,
        date: day(c.created_at.date()),
        plan: plan_view(&planned.plan, preview),
        aftercare,
    })
}
