//! The clinic's public estimator (`/estimate/{clinic}`, issue 15): before they book, a person
//! picks their hair loss from drawings, their skin, hair colour and aim, and may add a front
//! photo; they see the likely number of sessions, the time in the chair, the clinic's price
//! range and the healed look on a head (and on their photo); and they may send a booking
//! request, which waits in the studio's inbox (`crate::studio::requests`) until the clinic
//! makes them a client with one click. No account or client record is made before that.
//!
//! The estimate is the planner's own: the answers become a client file, assessed and planned
//! with the clinic's settings exactly as at a consultation ([`ClientInput::plan`]), for the
//! stage picked and `estimator.range_stages` either side (people misjudge their own stage), so
//! the range is the clinic's own prices. The preview is the renderer's healed look of the
//! planned pattern; on a photo, the landmarks are found by `follicle-vision` and the pattern
//! warped onto it, as in the studio.
//!
//! Public, so it assumes an attacker:
//! - every answer is checked against a closed list (an unknown value is a clear error naming
//!   the field, the value and what is allowed);
//! - a photo is at most 8 MB, decoded within the pixel limits, stripped of metadata and
//!   reduced to 1024 px before anything else reads it; it is kept only when the person ticks
//!   the box to send it;
//! - floods: estimates and requests are counted per address an hour and requests per clinic a
//!   day, in the database (every server shares the counts); heavy work runs under the
//!   process's heavy-work limit; a honeypot field and a signed time stamp (a form sent back
//!   within `estimator.min_fill_seconds` of being shown is refused) keep simple bots out
//!   without any third-party service; the first request refused in a clinic's day mails its
//!   owners;
//! - the page may be framed only by the clinic's own website and `estimator.embed_origins`
//!   (Content-Security-Policy `frame-ancestors`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use follicle_core::Settings;
use follicle_core::profile::{Fitzpatrick, HairColour};
use follicle_pattern::Pattern;
use follicle_render::{Look, View};
use follicle_store::{NewBookingRequest, RequestLimits, RequestOutcome};
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

use crate::compute::{ClientInput, Planned, PreviewArgs, preview_png, today};
use crate::documents::clinic_name;
use crate::error::ApiError;
use crate::extract::PeerAddr;
use crate::photo_view::{self, PhotoJob};
use crate::state::AppState;
use crate::studio::{FieldErrors, PageError, render_status};

/// The largest photo the estimator reads, bytes.
const MAX_PHOTO_BYTES: usize = 8 << 20;
/// A photo is reduced to this many pixels on its long side before it is used or kept.
const PHOTO_SIDE_PX: u32 = 1024;
/// The JPEG quality of the reduced photo.
const PHOTO_JPEG_QUALITY: u8 = 85;
/// The side of the previews, pixels.
const PREVIEW_PX: u32 = 360;
/// The side of the drawings of hair loss, pixels.
const DRAWING_PX: u32 = 200;
/// The age a drawing's head is drawn for.
const DRAWING_AGE: u32 = 40;
/// The hair a drawing shows, mm long: hair kept short rather than the buzz cut the previews
/// draw (`render.stubble_length_mm`), so that at thumbnail size the bare zones stand out from
/// the hair around them (presentation only; the previews and the healed looks keep the
/// clinic's setting).
const DRAWING_HAIR_MM: f32 = 6.0;

/// The estimator's routes (public: no sign-in).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/estimate/{clinic}", get(form_page).post(estimate_submit))
        .route("/estimate/{clinic}/request", post(request_submit))
        .route("/estimate/{clinic}/drawings/{choice}", get(drawing))
        .layer(DefaultBodyLimit::max(MAX_PHOTO_BYTES + 64 * 1024))
}

// ----- what a person can pick -----

/// A kind of hair loss a person can pick, with the client file it stands for.
#[derive(Debug)]
pub struct Choice {
    /// Its id in the form.
    pub id: &'static str,
    /// Stages of one scale are a range (the price range covers the neighbours).
    group: &'static str,
    /// What the person reads.
    pub label: &'static str,
    /// The sex a drawing of it shows (and the client file says), when it is one scale's.
    sex: Option<&'static str>,
    /// The client file's `[hair_loss]` table, and any scars.
    file: &'static str,
    /// The aim it implies, when there is no choice (a scar to hide).
    aim: Option<&'static str>,
}

/// Every choice, in the order shown; a group's stages in order of severity.
pub const CHOICES: &[Choice] = &[
    Choice {
        id: "norwood-2",
        group: "norwood",
        label: "A slightly higher hairline",
        sex: Some("male"),
        file: "[hair_loss]\nscale = \"norwood\"\nstage = \"II\"\n",
        aim: None,
    },
    Choice {
        id: "norwood-3",
        group: "norwood",
        label: "Receding at the temples",
        sex: Some("male"),
        file: "[hair_loss]\nscale = \"norwood\"\nstage = \"III\"\n",
        aim: None,
    },
    Choice {
        id: "norwood-3-vertex",
        group: "norwood",
        label: "Receding, and thin at the crown",
        sex: Some("male"),
        file: "[hair_loss]\nscale = \"norwood\"\nstage = \"III-vertex\"\n",
        aim: None,
    },
    Choice {
        id: "norwood-4",
        group: "norwood",
        label: "Receding further, a thin crown",
        sex: Some("male"),
        file: "[hair_loss]\nscale = \"norwood\"\nstage = \"IV\"\n",
        aim: None,
    },
    Choice {
        id: "norwood-5",
        group: "norwood",
        label: "Front and crown nearly meet",
        sex: Some("male"),
        file: "[hair_loss]\nscale = \"norwood\"\nstage = \"V\"\n",
        aim: None,
    },
    Choice {
        id: "norwood-6",
        group: "norwood",
        label: "Bald on top, hair at the sides",
        sex: Some("male"),
        file: "[hair_loss]\nscale = \"norwood\"\nstage = \"VI\"\n",
        aim: None,
    },
    Choice {
        id: "norwood-7",
        group: "norwood",
        label: "Only a band at the sides and back",
        sex: Some("male"),
        file: "[hair_loss]\nscale = \"norwood\"\nstage = \"VII\"\n",
        aim: None,
    },
    Choice {
        id: "ludwig-1",
        group: "ludwig",
        label: "Thinning along the parting",
        sex: Some("female"),
        file: "[hair_loss]\nscale = \"ludwig\"\nstage = \"I\"\n",
        aim: None,
    },
    Choice {
        id: "ludwig-2",
        group: "ludwig",
        label: "A wider parting, thin on top",
        sex: Some("female"),
        file: "[hair_loss]\nscale = \"ludwig\"\nstage = \"II\"\n",
        aim: None,
    },
    Choice {
        id: "ludwig-3",
        group: "ludwig",
        label: "Thin all over the top",
        sex: Some("female"),
        file: "[hair_loss]\nscale = \"ludwig\"\nstage = \"III\"\n",
        aim: None,
    },
    Choice {
        id: "diffuse",
        group: "diffuse",
        label: "Thin all over the head",
        sex: None,
        file: "[hair_loss]\nscale = \"diffuse\"\n",
        aim: None,
    },
    Choice {
        id: "alopecia-areata",
        group: "alopecia-areata",
        label: "Patches of hair loss (alopecia areata)",
        sex: None,
        file: "[hair_loss]\nscale = \"alopecia_areata\"\naffected_percent = 30\nstable_since = {stable_since}\n",
        aim: None,
    },
    Choice {
        id: "alopecia-totalis",
        group: "alopecia-totalis",
        label: "No hair on the scalp (alopecia totalis)",
        sex: None,
        file: "[hair_loss]\nscale = \"alopecia_totalis\"\nstable_since = {stable_since}\n",
        aim: None,
    },
    Choice {
        id: "strip-scar",
        group: "strip-scar",
        label: "A scar from a strip hair transplant",
        sex: None,
        file: "[hair_loss]\nscale = \"none\"\n\n[[scars]]\nkind = \"fut_strip\"\nsite = \"occipital\"\nlength_mm = 200\nwidth_mm = 3\nage_months = 24\n",
        aim: Some("scar_camouflage"),
    },
];

/// The aims a person can pick (a scar choice has its own).
const AIMS: [(&str, &str); 2] = [
    (
        "full_coverage",
        "A shaved look, as if my hair were cut very short",
    ),
    ("density", "More density among the hair I have"),
];

/// Hair colours in words.
const HAIR: [(&str, &str); 8] = [
    ("black", "Black"),
    ("dark_brown", "Dark brown"),
    ("brown", "Brown"),
    ("light_brown", "Light brown"),
    ("blonde", "Blonde"),
    ("red", "Red"),
    ("grey", "Grey"),
    ("white", "White"),
];

/// Skin types in words (Fitzpatrick I–VI).
const SKIN: [(&str, &str); 6] = [
    ("I", "Very fair, always burns"),
    ("II", "Fair, burns easily"),
    ("III", "Medium, sometimes burns"),
    ("IV", "Olive, rarely burns"),
    ("V", "Brown, very rarely burns"),
    ("VI", "Dark brown or black, never burns"),
];

fn choice(id: &str) -> Option<&'static Choice> {
    CHOICES.iter().find(|c| c.id == id)
}

/// What a person answered.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Answers {
    /// A [`Choice`] id.
    pub pattern: String,
    /// `male` or `female` (a choice of one scale sets it).
    pub sex: String,
    /// Years.
    pub age: String,
    /// Fitzpatrick I–VI.
    pub skin: String,
    /// A hair colour.
    pub hair: String,
    /// `full_coverage` or `density`.
    pub aim: String,
}

/// Answers checked: each field's problem in the person's words.
struct Checked {
    choice: &'static Choice,
    sex: &'static str,
    age: u32,
    skin: Fitzpatrick,
    hair: &'static str,
    aim: &'static str,
}

impl Answers {
    fn check(&self) -> Result<Checked, FieldErrors> {
        let mut errors = Vec::new();
        let mut bad = |field: &str, message: String| errors.push((field.to_owned(), message));
        let choice = choice(&self.pattern);
        if choice.is_none() {
            bad(
                "pattern",
                if self.pattern.is_empty() {
                    "Pick the drawing closest to your hair loss.".to_owned()
                } else {
                    format!("{:?} is not one of the drawings; pick one of them.", self.pattern)
                },
            );
        }
        let sex = match (choice.and_then(|c| c.sex), self.sex.as_str()) {
            (Some(s), _) => s,
            (None, "male") => "male",
            (None, "female") => "female",
            (None, other) => {
                bad(
                    "sex",
                    format!("Choose man or woman (the head is drawn to match); got {other:?}."),
                );
                "male"
            }
        };
        let age = match self.age.trim().parse::<u32>() {
            Ok(a) if (18..=100).contains(&a) => a,
            _ => {
                bad(
                    "age",
                    format!(
                        "Your age in years, 18 to 100 (SMP is for adults); got {:?}.",
                        self.age
                    ),
                );
                DRAWING_AGE
            }
        };
        let skin = match Fitzpatrick::parse_str(&self.skin) {
            Ok(f) => f,
            Err(_) => {
                bad(
                    "skin",
                    format!(
                        "Pick the skin type closest to yours (I to VI); got {:?}.",
                        self.skin
                    ),
                );
                Fitzpatrick::III
            }
        };
        let hair = match HAIR.iter().find(|(id, _)| *id == self.hair) {
            Some((id, _)) => *id,
            None => {
                bad(
                    "hair",
                    format!(
                        "Pick your natural hair colour: {}; got {:?}.",
                        HAIR.map(|h| h.1.to_lowercase()).join(", "),
                        self.hair
                    ),
                );
                "brown"
            }
        };
        let aim = match (choice.and_then(|c| c.aim), self.aim.as_str()) {
            (Some(a), _) => a,
            (None, a) => match AIMS.iter().find(|(id, _)| *id == a) {
                Some((id, _)) => *id,
                None => {
                    bad(
                        "aim",
                        format!("Choose the look you want: a shaved look or more density; got {a:?}."),
                    );
                    "full_coverage"
                }
            },
        };
        match choice {
            Some(choice) if errors.is_empty() => Ok(Checked {
                choice,
                sex,
                age,
                skin,
                hair,
                aim,
            }),
            _ => Err(FieldErrors(errors)),
        }
    }
}

/// The client file the answers describe, with another choice of the same group when asked.
fn client_file(a: &Checked, choice: &Choice, today: Date) -> String {
    // Alopecia: the estimate assumes the patches have been stable for a year (the clinic asks).
    let stable = today.replace_year(today.year() - 1).unwrap_or(today).to_string();
    format!(
        "[client]\nname = \"Estimate\"\nage = {age}\nsex = \"{sex}\"\n\n[skin]\nfitzpatrick = \"{skin}\"\n\n\
         [hair]\ncolour = \"{hair}\"\n\n{loss}\n[goal]\naims = [\"{aim}\"]\n",
        age = a.age,
        sex = a.sex,
        skin = a.skin.roman(),
        hair = a.hair,
        loss = choice.file.replace("{stable_since}", &stable),
        aim = a.aim,
    )
}

/// The client file a booking request's answers describe (as the estimate planned them), for
/// the consultation of the client it became to start from; `None` when the stored answers no
/// longer read as a valid estimate.
pub fn client_file_of_answers(answers: &serde_json::Value, today: Date) -> Option<String> {
    let answers: Answers = serde_json::from_value(answers.clone()).ok()?;
    let checked = answers.check().ok()?;
    Some(client_file(&checked, checked.choice, today))
}

// ----- the estimate -----

/// What the estimator tells a person, and what a booking request keeps of it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Estimate {
    /// Whether SMP looks possible from these answers.
    pub suitable: bool,
    /// Sessions for the stage picked.
    pub sessions: usize,
    /// Fewest and most sessions over the range.
    pub sessions_range: [usize; 2],
    /// Hours in the chair over all sessions, for the stage picked.
    pub hours: f64,
    /// Days between sessions, for the stage picked.
    pub days_apart: Option<i64>,
    /// Lowest and highest total price over the range, whole currency units.
    pub price_range: Option<[i64; 2]>,
    /// The deposit to book, for the stage picked.
    pub deposit: Option<i64>,
    /// ISO 4217.
    pub currency: String,
    /// Years until a first touch-up.
    pub touch_up_years: Option<f64>,
    /// What the clinic will want to know or check, in words for the person.
    pub notes: Vec<String>,
}

/// The stages priced: the one picked and `range` either side in its group.
fn range_of(picked: &'static Choice, range: u32) -> Vec<&'static Choice> {
    let group: Vec<&Choice> = CHOICES.iter().filter(|c| c.group == picked.group).collect();
    let at = group.iter().position(|c| c.id == picked.id).unwrap_or_default();
    let r = range as usize;
    group[at.saturating_sub(r)..(at + r + 1).min(group.len())].to_vec()
}

/// Plans the answers (and the range) with the clinic's settings: the estimate and the plan of
/// the stage picked.
fn estimate_of(a: &Checked, settings: &Settings, day: Date) -> Result<(Estimate, Planned), ApiError> {
    let plan = |choice: &Choice| {
        ClientInput {
            client_toml: client_file(a, choice, day),
            date: Some(day.to_string()),
            start: Some(day.to_string()),
        }
        .plan(settings)
    };
    let picked = plan(a.choice)?;
    let mut sessions = [picked.plan.sessions.len(); 2];
    let mut prices: Vec<i64> = picked.plan.quote.iter().map(|q| q.total).collect();
    for other in range_of(a.choice, settings.estimator.range_stages) {
        if other.id == a.choice.id {
            continue;
        }
        let p = plan(other)?;
        if p.plan.sessions.is_empty() {
            continue;
        }
        sessions[0] = sessions[0].min(p.plan.sessions.len());
        sessions[1] = sessions[1].max(p.plan.sessions.len());
        prices.extend(p.plan.quote.iter().map(|q| q.total));
    }
    let plan = &picked.plan;
    let dates: Vec<Date> = plan.sessions.iter().filter_map(|s| s.date).collect();
    let mut notes = Vec::new();
    let verdict = plan.assessment.eligibility.verdict;
    let suitable = !plan.sessions.is_empty();
    if !suitable {
        notes.push(
            "From these answers SMP may not be right for you now. A consultation can tell you why and what could help."
                .to_owned(),
        );
    } else if verdict != follicle_core::assess::Verdict::Proceed {
        notes.push(
            "The clinic will ask you a few health questions at the consultation before confirming."
                .to_owned(),
        );
    }
    if a.choice.group.starts_with("alopecia") {
        notes.push(
            "This assumes your hair loss has not changed for a year; the clinic will check.".to_owned(),
        );
    }
    if sessions[0] != sessions[1] || prices.len() > 1 {
        notes.push(
            "The range covers the drawings either side of the one you picked: it is easy to misjudge your own."
                .to_owned(),
        );
    }
    let estimate = Estimate {
        suitable,
        sessions: plan.sessions.len(),
        sessions_range: sessions,
        hours: plan.total_hours,
        days_apart: (dates.len() > 1).then(|| (dates[1] - dates[0]).whole_days()),
        price_range: (!prices.is_empty()).then(|| {
            [
                *prices.iter().min().unwrap_or(&0),
                *prices.iter().max().unwrap_or(&0),
            ]
        }),
        deposit: plan.quote.as_ref().and_then(|q| q.deposit),
        currency: plan
            .quote
            .as_ref()
            .map(|q| q.currency.clone())
            .unwrap_or_default(),
        touch_up_years: plan.fading.as_ref().map(|f| f.years_to_touch_up),
        notes,
    };
    Ok((estimate, picked))
}

/// The estimate in sentences.
fn estimate_lines(e: &Estimate) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    if !e.suitable {
        return lines;
    }
    let sessions = if e.sessions_range[0] == e.sessions_range[1] {
        format!("{} sessions", e.sessions)
    } else {
        format!("{}–{} sessions", e.sessions_range[0], e.sessions_range[1])
    };
    let apart = e
        .days_apart
        .map(|d| format!(", about {d} days apart"))
        .unwrap_or_default();
    lines.push(("Sessions".to_owned(), format!("{sessions}{apart}")));
    lines.push((
        "Time in the chair".to_owned(),
        format!("about {} hours in all", (e.hours * 2.0).round() / 2.0),
    ));
    if let Some([low, high]) = e.price_range {
        let price = if low == high {
            crate::wire::money(&e.currency, low)
        } else {
            format!(
                "{} to {}",
                crate::wire::money(&e.currency, low),
                crate::wire::money(&e.currency, high)
            )
        };
        lines.push(("Price".to_owned(), price));
    }
    if let Some(d) = e.deposit {
        lines.push(("Deposit to book".to_owned(), crate::wire::money(&e.currency, d)));
    }
    if let Some(y) = e.touch_up_years {
        lines.push((
            "First touch-up".to_owned(),
            format!("after about {} years", y.round()),
        ));
    }
    lines
}

// ----- pages -----

/// The clinic of an estimator address, with its settings; an unknown clinic or a closed
/// estimator is a 404 page.
async fn clinic_of(state: &AppState, clinic: &str) -> Result<(Uuid, String, Arc<Settings>), PageError> {
    let missing = || PageError {
        status: StatusCode::NOT_FOUND,
        message: "There is no estimator at this address. Check the link the clinic gave you.".into(),
    };
    let id = Uuid::parse_str(clinic).map_err(|_| missing())?;
    let (registered, settings) = state.clinic_for_clients(id).await.map_err(|e| {
        if e.status == StatusCode::NOT_FOUND {
            missing()
        } else {
            PageError::from(e)
        }
    })?;
    if !settings.estimator.enabled {
        return Err(missing());
    }
    Ok((id, clinic_name(&settings, &registered), settings))
}

/// The headers that let the clinic's own site (and `estimator.embed_origins`) show the page in
/// a frame, and nobody else.
fn frame_headers(settings: &Settings) -> HeaderMap {
    let mut ancestors = vec!["'self'".to_owned()];
    let site = settings.clinic.website.trim().trim_end_matches('/');
    let site_origin = site
        .find("://")
        .map(|i| match site[i + 3..].find('/') {
            Some(j) => &site[..i + 3 + j],
            None => site,
        })
        .unwrap_or("");
    if follicle_core::settings::is_origin(site_origin) {
        ancestors.push(site_origin.to_owned());
    }
    ancestors.extend(
        settings
            .estimator
            .embed_origins
            .iter()
            .filter(|o| follicle_core::settings::is_origin(o))
            .cloned(),
    );
    let csp = crate::CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'",
        &format!("frame-ancestors {}", ancestors.join(" ")),
    );
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    headers
}

#[derive(Template)]
#[template(path = "estimate.html")]
struct FormPage {
    clinic: String,
    action: String,
    drawings: String,
    stamp: String,
    answers: Answers,
    errors: FieldErrors,
    choices: Vec<(&'static str, &'static str, &'static str)>,
    skins: Vec<(&'static str, &'static str)>,
    hairs: Vec<(&'static str, &'static str)>,
    aims: Vec<(&'static str, &'static str)>,
    notice: String,
}

impl FormPage {
    async fn new(
        state: &AppState,
        id: Uuid,
        clinic: String,
        answers: Answers,
        errors: FieldErrors,
        notice: String,
    ) -> Result<FormPage, PageError> {
        Ok(FormPage {
            clinic,
            action: format!("/estimate/{id}"),
            drawings: format!("/estimate/{id}/drawings"),
            stamp: state.store().form_stamp("estimate", id).await?,
            answers,
            errors,
            choices: CHOICES.iter().map(|c| (c.id, c.label, c.group)).collect(),
            skins: SKIN.to_vec(),
            hairs: HAIR.to_vec(),
            aims: AIMS.to_vec(),
            notice,
        })
    }
}

fn page(headers: HeaderMap, status: StatusCode, t: &impl Template) -> Result<Response, PageError> {
    Ok((headers, render_status(status, t)?).into_response())
}

async fn form_page(State(state): State<AppState>, Path(clinic): Path<String>) -> Result<Response, PageError> {
    let (id, name, settings) = clinic_of(&state, &clinic).await?;
    let answers = Answers {
        age: String::new(),
        skin: "III".into(),
        hair: "brown".into(),
        aim: "full_coverage".into(),
        ..Answers::default()
    };
    let form = FormPage::new(&state, id, name, answers, FieldErrors::default(), String::new()).await?;
    page(frame_headers(&settings), StatusCode::OK, &form)
}

/// The estimate's form as sent: the answers, the stamp, the honeypot, a photo.
#[derive(Default)]
struct Sent {
    answers: Answers,
    stamp: String,
    website: String,
    photo: Vec<u8>,
}

async fn read_form(mut multipart: Multipart) -> Result<Sent, PageError> {
    let mut sent = Sent::default();
    let unreadable = |e: axum::extract::multipart::MultipartError| PageError {
        status: e.status(),
        message: format!(
            "The form could not be read ({}). A photo may be at most {} MB.",
            e.body_text(),
            MAX_PHOTO_BYTES >> 20
        ),
    };
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "photo" {
            sent.photo = field.bytes().await.map_err(unreadable)?.to_vec();
            continue;
        }
        let text = field.text().await.map_err(unreadable)?;
        let text: String = text.chars().take(200).collect();
        let a = &mut sent.answers;
        match name.as_str() {
            "pattern" => a.pattern = text,
            "sex" => a.sex = text,
            "age" => a.age = text,
            "skin" => a.skin = text,
            "hair" => a.hair = text,
            "aim" => a.aim = text,
            "stamp" => sent.stamp = text,
            "website" => sent.website = text,
            _ => {}
        }
    }
    Ok(sent)
}

/// Refuses a form that is not a person's: the honeypot filled, a stamp not ours, or sent back
/// sooner than `min_fill_seconds` after it was shown.
async fn person_check(
    state: &AppState,
    purpose: &str,
    clinic: Uuid,
    stamp: &str,
    honeypot: &str,
    settings: &Settings,
) -> Result<Result<(), String>, PageError> {
    if !honeypot.is_empty() {
        return Ok(Err(
            "The form was filled in by a program, not a person, so nothing was sent.".into(),
        ));
    }
    match state.store().form_age(purpose, clinic, stamp).await? {
        None => Ok(Err(
            "This form is out of date or was not shown by this page. It has been shown again: please send it once more."
                .into(),
        )),
        Some(age) if age < i64::from(settings.estimator.min_fill_seconds) => Ok(Err(
            "That was faster than a person fills the form, so nothing was sent. Check your answers and send it again."
                .into(),
        )),
        Some(_) => Ok(Ok(())),
    }
}

/// A photo the person added: stripped, upright, reduced to [`PHOTO_SIDE_PX`], as JPEG.
fn prepare_photo(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let limits = follicle_store::PhotoLimits {
        max_bytes: MAX_PHOTO_BYTES,
        ..follicle_store::PhotoLimits::default()
    };
    let stripped = follicle_store::strip_metadata_with(bytes, &limits).map_err(|e| {
        format!(
            "Your photo could not be used: {e}. Use a JPEG or PNG photo taken from the front, at most 8 MB."
        )
    })?;
    let upright = follicle_vision::decode_upright(&stripped.bytes, stripped.orientation)
        .map_err(|e| format!("Your photo could not be read: {e}."))?;
    let small = image::DynamicImage::ImageRgb8(upright).thumbnail(PHOTO_SIDE_PX, PHOTO_SIDE_PX);
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, PHOTO_JPEG_QUALITY);
    small
        .to_rgb8()
        .write_with_encoder(encoder)
        .map_err(|e| format!("Your photo could not be prepared: {e}."))?;
    Ok(out)
}

fn data_uri(png: &[u8], kind: &str) -> String {
    format!(
        "data:{kind};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    )
}

/// Runs `work` (the planner's) off the async threads under the heavy-work limit.
async fn heavy<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let permit = crate::limits::heavy().acquire().await?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
    .await
    .map_err(ApiError::internal)?
}

/// The head as it is now: the planned pattern without its dots.
fn without_dots(pattern: &Pattern) -> Arc<Pattern> {
    Arc::new(Pattern {
        dots: Vec::new(),
        ..pattern.clone()
    })
}

/// A preview of the planned pattern (or, with `before`, the head as it is now).
async fn preview(pattern: Arc<Pattern>, look: Look, view: &str, before: bool) -> Result<String, ApiError> {
    let pattern = if before { without_dots(&pattern) } else { pattern };
    let args = PreviewArgs {
        view: Some(view.to_owned()),
        moment: None,
        size: Some(PREVIEW_PX),
    };
    Ok(data_uri(&preview_png(pattern, look, &args).await?, "image/png"))
}

/// The healed look on the person's photo (front), or why it could not be drawn.
async fn on_photo(photo: Vec<u8>, pattern: Arc<Pattern>, look: Look) -> Result<String, String> {
    let found = crate::landmarks::find(photo.clone(), None).await.map_err(|e| {
        format!(
            "We could not place the design on your photo ({}). A photo from the front, face and hairline in view, works best.",
            e.detail.message
        )
    })?;
    let permit = crate::limits::heavy()
        .acquire()
        .await
        .map_err(|_| "The server is busy: your photo preview was skipped.".to_owned())?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let decoded = follicle_vision::decode_upright(&photo, None).map_err(|e| e.to_string())?;
        let job = PhotoJob {
            pattern,
            look,
            photo: decoded,
            view: View::Front,
            landmarks: found.points,
            moment: None,
        };
        photo_view::overlay_png(&job).map_err(|e| e.detail.message)
    })
    .await
    .map_err(|e| e.to_string())?
    .map(|png| data_uri(&png, "image/png"))
    .map_err(|e| format!("The design could not be drawn on your photo: {e}."))
}

#[derive(Template)]
#[template(path = "estimate_result.html")]
struct ResultPage {
    clinic: String,
    action: String,
    again: String,
    stamp: String,
    answers: Answers,
    picked: String,
    lines: Vec<(String, String)>,
    notes: Vec<String>,
    suitable: bool,
    before_top: String,
    after_top: String,
    after_front: String,
    photo_after: String,
    photo_problem: String,
    photo: String,
    contact: Contact,
    errors: FieldErrors,
    privacy: String,
    keep_days: u32,
}

/// The contact part of the request form.
#[derive(Debug, Clone, Default)]
struct Contact {
    name: String,
    email: String,
    phone: String,
    contact_by: String,
    message: String,
    agree: bool,
    send_photo: bool,
}

async fn estimate_submit(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    PeerAddr(peer): PeerAddr,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let (id, name, settings) = clinic_of(&state, &clinic).await?;
    let headers = frame_headers(&settings);
    let sent = read_form(multipart).await?;
    let again = |state: &AppState, answers: Answers, errors: FieldErrors, notice: String| {
        let (state, name) = (state.clone(), name.clone());
        async move { FormPage::new(&state, id, name, answers, errors, notice).await }
    };
    if let Err(why) = person_check(&state, "estimate", id, &sent.stamp, &sent.website, &settings).await? {
        let form = again(&state, sent.answers, FieldErrors::default(), why).await?;
        return page(headers, StatusCode::UNPROCESSABLE_ENTITY, &form);
    }
    let checked = match sent.answers.check() {
        Ok(c) => c,
        Err(errors) => {
            let form = again(&state, sent.answers, errors, String::new()).await?;
            return page(headers, StatusCode::UNPROCESSABLE_ENTITY, &form);
        }
    };
    let hits = state
        .store()
        .count_public_hit(&format!("estimate:{id}:{peer}"), 3600)
        .await?;
    if hits > i64::from(settings.estimator.estimates_per_address_per_hour) {
        return Err(PageError {
            status: StatusCode::TOO_MANY_REQUESTS,
            message: "You have asked for many estimates in the last hour. Please try again in an hour, or contact the clinic."
                .into(),
        });
    }
    let s = settings.clone();
    let (estimate, planned, checked) =
        heavy(move || estimate_of(&checked, &s, today()).map(|(e, p)| (e, p, checked))).await?;
    let (mut before_top, mut after_top, mut after_front) = Default::default();
    let (mut photo_after, mut photo_problem, mut photo) = Default::default();
    if estimate.suitable {
        let look = Look::for_client(&planned.profile, &settings);
        let pattern = state.pattern(planned.request.clone()).await?;
        before_top = preview(pattern.clone(), look, "top", true).await?;
        after_top = preview(pattern.clone(), look, "top", false).await?;
        after_front = preview(pattern.clone(), look, "front", false).await?;
        if !sent.photo.is_empty() {
            let bytes = sent.photo;
            let prepared = tokio::task::spawn_blocking(move || prepare_photo(&bytes))
                .await
                .map_err(ApiError::internal)?;
            match prepared {
                Ok(small) => {
                    photo = base64::engine::general_purpose::STANDARD.encode(&small);
                    match on_photo(small, pattern, look).await {
                        Ok(uri) => photo_after = uri,
                        Err(why) => photo_problem = why,
                    }
                }
                Err(why) => photo_problem = why,
            }
        }
    }
    let result = ResultPage {
        clinic: name,
        action: format!("/estimate/{id}/request"),
        again: format!("/estimate/{id}"),
        stamp: state.store().form_stamp("request", id).await?,
        picked: checked.choice.label.to_owned(),
        lines: estimate_lines(&estimate),
        notes: estimate.notes.clone(),
        suitable: estimate.suitable,
        answers: sent.answers,
        before_top,
        after_top,
        after_front,
        photo_after,
        photo_problem,
        photo,
        contact: Contact {
            contact_by: "email".into(),
            ..Contact::default()
        },
        errors: FieldErrors::default(),
        privacy: settings.estimator.privacy_notice.trim().to_owned(),
        keep_days: settings.estimator.keep_days,
    };
    page(headers, StatusCode::OK, &result)
}

// ----- the booking request -----

/// The request form as posted (urlencoded).
#[derive(Debug, Default, Deserialize)]
struct RequestForm {
    #[serde(default)]
    pattern: String,
    #[serde(default)]
    sex: String,
    #[serde(default)]
    age: String,
    #[serde(default)]
    skin: String,
    #[serde(default)]
    hair: String,
    #[serde(default)]
    aim: String,
    #[serde(default)]
    stamp: String,
    #[serde(default)]
    website: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    contact_by: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    agree: String,
    #[serde(default)]
    send_photo: String,
    /// The reduced photo, base64 JPEG, carried from the estimate.
    #[serde(default)]
    photo: String,
}

#[derive(Template)]
#[template(path = "estimate_sent.html")]
struct SentPage {
    clinic: String,
    name: String,
    contact_by: String,
    again: String,
}

async fn request_submit(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    PeerAddr(peer): PeerAddr,
    axum::Form(form): axum::Form<RequestForm>,
) -> Result<Response, PageError> {
    let (id, name, settings) = clinic_of(&state, &clinic).await?;
    let headers = frame_headers(&settings);
    let answers = Answers {
        pattern: form.pattern.clone(),
        sex: form.sex.clone(),
        age: form.age.clone(),
        skin: form.skin.clone(),
        hair: form.hair.clone(),
        aim: form.aim.clone(),
    };
    let checked = answers.check().map_err(|e| PageError {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        message: format!(
            "The answers of the estimate did not come back whole ({}). Start the estimate again.",
            e.0.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>().join(" ")
        ),
    })?;
    let photo = if form.send_photo.is_empty() || form.photo.is_empty() {
        None
    } else {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(form.photo.as_bytes())
            .ok()
            .filter(|b| b.len() <= follicle_store::MAX_REQUEST_PHOTO_BYTES);
        // What comes back is checked as any photo is: an image, within the limits.
        let checked_photo = match bytes {
            Some(b) => tokio::task::spawn_blocking(move || prepare_photo(&b))
                .await
                .map_err(ApiError::internal)?
                .ok(),
            None => None,
        };
        Some(checked_photo.ok_or_else(|| {
            PageError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message:
                    "The photo did not come back as a photo. Start the estimate again and add it once more."
                        .into(),
            }
        })?)
    };
    let contact = Contact {
        name: form.name.trim().to_owned(),
        email: form.email.trim().to_owned(),
        phone: form.phone.trim().to_owned(),
        contact_by: form.contact_by.clone(),
        message: form.message.clone(),
        agree: !form.agree.is_empty(),
        send_photo: photo.is_some(),
    };
    let picked = checked.choice.label;
    // Shown again (with the estimate) when something is wrong.
    let again = |errors: FieldErrors, stamp: String, estimate: &Estimate| ResultPage {
        clinic: name.clone(),
        action: format!("/estimate/{id}/request"),
        again: format!("/estimate/{id}"),
        stamp,
        answers: answers.clone(),
        picked: picked.to_owned(),
        lines: estimate_lines(estimate),
        notes: estimate.notes.clone(),
        suitable: estimate.suitable,
        before_top: String::new(),
        after_top: String::new(),
        after_front: String::new(),
        photo_after: String::new(),
        photo_problem: String::new(),
        photo: form.photo.clone(),
        contact: contact.clone(),
        errors,
        privacy: settings.estimator.privacy_notice.trim().to_owned(),
        keep_days: settings.estimator.keep_days,
    };
    // The estimate again, from the answers (what the clinic sees is the planner's, not what
    // came back in the form).
    let s = settings.clone();
    let (estimate, _) = heavy(move || estimate_of(&checked, &s, today())).await?;
    let mut errors = Vec::new();
    if let Err(why) = person_check(&state, "request", id, &form.stamp, &form.website, &settings).await? {
        errors.push(("form".to_owned(), why));
    }
    if !contact.agree {
        errors.push((
            "agree".to_owned(),
            format!("Tick the box to let {name} keep what you send; without it nothing can be sent."),
        ));
    }
    if errors.is_empty() {
        let request = NewBookingRequest {
            name: contact.name.clone(),
            email: contact.email.clone(),
            phone: contact.phone.clone(),
            contact_by: contact.contact_by.clone(),
            message: contact.message.clone(),
            answers: serde_json::to_value(&answers).map_err(ApiError::internal)?,
            estimate: serde_json::to_value(&estimate).map_err(ApiError::internal)?,
            photo,
            address: peer.clone(),
        };
        let limits = RequestLimits {
            per_address_per_hour: settings.estimator.requests_per_address_per_hour,
            per_day: settings.estimator.requests_per_day,
            keep_days: settings.estimator.keep_days,
        };
        match state.store().submit_booking_request(id, &request, limits).await {
            Ok(RequestOutcome::Saved(_)) => {
                let done = SentPage {
                    clinic: name.clone(),
                    name: contact.name.clone(),
                    contact_by: if contact.contact_by == "phone" {
                        format!("call you on {}", contact.phone)
                    } else {
                        format!("write to you at {}", contact.email)
                    },
                    again: format!("/estimate/{id}"),
                };
                return page(headers, StatusCode::OK, &done);
            }
            Ok(RequestOutcome::AddressLimit) => {
                return Err(PageError {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    message: format!(
                        "Several requests came from your connection in the last hour, so this one was not sent. Please try again in an hour, or contact {name} directly."
                    ),
                });
            }
            Ok(RequestOutcome::ClinicLimit { first_today }) => {
                if first_today {
                    alert_owners(&state, id, &name, settings.estimator.requests_per_day);
                }
                return Err(PageError {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    message: format!(
                        "{name} has had more booking requests today than it can take through this page, so yours was not sent. Please try again tomorrow, or contact the clinic directly."
                    ),
                });
            }
            Err(follicle_store::StoreError::Invalid { field, message }) => {
                errors.push((field.to_owned(), contact_words(field, &message)));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let stamp = state.store().form_stamp("request", id).await?;
    page(
        headers,
        StatusCode::UNPROCESSABLE_ENTITY,
        &again(FieldErrors(errors), stamp, &estimate),
    )
}

/// A contact field's problem in the person's words.
fn contact_words(field: &str, message: &str) -> String {
    let what = match field {
        "name" => "Your name",
        "email" => "Your email address",
        "phone" => "Your phone number",
        "contact_by" => "How we should contact you",
        "message" => "Your message",
        _ => "This",
    };
    format!("{what}: {message}.")
}

/// Mails the clinic's owners that today's booking requests reached the limit (once a day: the
/// first refusal of the day).
fn alert_owners(state: &AppState, clinic: Uuid, name: &str, per_day: u32) {
    let state = state.clone();
    let name = name.to_owned();
    tokio::spawn(async move {
        let owners = match state.store().owner_emails(clinic).await {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!(%clinic, "booking flood alert: owners not read: {e}");
                return;
            }
        };
        let mail = &state.config().mail;
        for to in owners {
            if let Err(e) = crate::mail::send_request_flood(mail, &to, &name, per_day).await {
                tracing::warn!(%clinic, "booking flood alert not sent: {e}");
            }
        }
    });
}

// ----- the drawings -----

/// The drawings by choice, PNG.
type Drawings = Mutex<HashMap<&'static str, Arc<Vec<u8>>>>;

/// The drawings, made once per process (they do not depend on the clinic).
fn drawings() -> &'static Drawings {
    static DRAWINGS: OnceLock<Drawings> = OnceLock::new();
    DRAWINGS.get_or_init(Default::default)
}

/// A drawing of a kind of hair loss: the head from above as it is now (the zones the planner
/// would treat bare, hair elsewhere), PNG.
async fn drawing(
    State(state): State<AppState>,
    Path((clinic, file)): Path<(String, String)>,
) -> Result<Response, PageError> {
    // Only the addresses of an open estimator draw.
    clinic_of(&state, &clinic).await?;
    let id = file.strip_suffix(".png").unwrap_or(&file);
    let choice = choice(id).ok_or_else(|| PageError {
        status: StatusCode::NOT_FOUND,
        message: format!("There is no drawing {id:?}."),
    })?;
    let cached = drawings()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(choice.id)
        .cloned();
    let png = match cached {
        Some(png) => png,
        None => {
            let settings = Arc::new(Settings::default());
            let a = Checked {
                choice,
                sex: choice.sex.unwrap_or("male"),
                age: DRAWING_AGE,
                skin: Fitzpatrick::I,
                hair: HairColour::Black.as_str(),
                aim: choice.aim.unwrap_or("full_coverage"),
            };
            let s = settings.clone();
            let planned = heavy(move || {
                ClientInput {
                    client_toml: client_file(&a, a.choice, today()),
                    date: None,
                    start: None,
                }
                .plan(&s)
            })
            .await?;
            let mut look = Look::for_client(&planned.profile, &settings);
            look.render.stubble_length_mm = DRAWING_HAIR_MM;
            let pattern = state.pattern(planned.request).await?;
            let before = without_dots(&pattern);
            let args = PreviewArgs {
                view: Some("top".into()),
                moment: None,
                size: Some(DRAWING_PX),
            };
            let png = Arc::new(preview_png(before, look, &args).await?);
            drawings()
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(choice.id, png.clone());
            png
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        png.as_ref().clone(),
    )
        .into_response())
}

/// The estimate a request keeps, in lines for the studio.
pub fn request_lines(estimate: &serde_json::Value) -> Vec<(String, String)> {
    serde_json::from_value::<Estimate>(estimate.clone())
        .map(|e| estimate_lines(&e))
        .unwrap_or_default()
}

/// A request's answers, in words for the studio.
pub fn answer_lines(answers: &serde_json::Value) -> Vec<(String, String)> {
    let Ok(a) = serde_json::from_value::<Answers>(answers.clone()) else {
        return Vec::new();
    };
    let word = |list: &[(&str, &'static str)], id: &str| {
        list.iter()
            .find(|(k, _)| *k == id)
            .map_or_else(|| id.to_owned(), |(_, w)| (*w).to_owned())
    };
    let c = choice(&a.pattern);
    vec![
        (
            "Hair loss".to_owned(),
            c.map_or(a.pattern.clone(), |c| c.label.to_owned()),
        ),
        (
            "Sex, age".to_owned(),
            format!(
                "{}, {}",
                match c.and_then(|c| c.sex).unwrap_or(a.sex.as_str()) {
                    "female" => "woman",
                    _ => "man",
                },
                a.age
            ),
        ),
        (
            "Skin".to_owned(),
            format!("{} ({})", a.skin, word(&SKIN, &a.skin)),
        ),
        ("Hair colour".to_owned(), word(&HAIR, &a.hair)),
        (
            "Wants".to_owned(),
            c.and_then(|c| c.aim)
                .map(|_| "To hide a scar".to_owned())
                .unwrap_or_else(|| word(&AIMS, &a.aim)),
        ),
    ]
}
