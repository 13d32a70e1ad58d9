//! Clients: search, a new client, the client's record as a timeline, photos with a before/after
//! slider, and the session log form.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use follicle_core::ZoneKind;
use follicle_store::{
    Action, Appointment, Client, Consultation, Design, NewClient, NewSessionLog, Photo, PhotoAngle,
    PigmentBatch, SessionLog, StoreError, User,
};
use serde::Deserialize;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::today::{day, when};
use super::{FieldErrors, Nav, Page, PageResult, render, render_status};
use crate::extract::{Id, QueryArgs};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(super) struct Search {
    #[serde(default)]
    q: String,
    /// Without a query: the page of the list after this cursor.
    #[serde(default)]
    after: Option<String>,
}

#[derive(Template)]
#[template(path = "clients.html")]
struct ClientsPage {
    nav: Nav,
    q: String,
    clients: Vec<Client>,
    /// Without a query, the cursor of the list's next page.
    next: Option<String>,
}

/// Clients on a page of the list, or found by a search.
const CLIENTS_PER_PAGE: i64 = 100;

pub(super) async fn list(
    State(state): State<AppState>,
    page: Page,
    QueryArgs(s): QueryArgs<Search>,
) -> PageResult {
    let q = s.q.trim();
    let (clients, next) = if q.is_empty() {
        let listed = state
            .store()
            .list_clients(&page.actor, s.after.as_deref(), CLIENTS_PER_PAGE)
            .await?;
        (listed.clients, listed.next)
    } else {
        (
            state
                .store()
                .search_clients(&page.actor, q, CLIENTS_PER_PAGE)
                .await?,
            None,
        )
    };
    render(&ClientsPage {
        nav: Nav::new(&page, "clients"),
        q: s.q,
        clients,
        next,
    })
}

/// The new-client and edit-client form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ClientForm {
    #[serde(default)]
    pub(super) _csrf: String,
    #[serde(default)]
    pub(super) name: String,
    #[serde(default)]
    pub(super) age: String,
    #[serde(default)]
    pub(super) date_of_birth: String,
    #[serde(default)]
    pub(super) phone: String,
    #[serde(default)]
    pub(super) email: String,
    #[serde(default)]
    pub(super) notes: String,
    /// `yes` when the front desk was shown the likely duplicates and creates the client anyway.
    #[serde(default)]
    pub(super) confirm_duplicate: String,
}

impl ClientForm {
    /// The form's values as a client to store; the fields that do not read go into `errors`.
    pub(super) fn to_client(&self, errors: &mut FieldErrors) -> NewClient {
        let age_years = match self.age.trim() {
            "" => None,
            t => match t.parse::<i64>() {
                Ok(a) => Some(a),
                Err(_) => {
                    errors.add("age", format!("expected whole years (0–130), got {t:?}"));
                    None
                }
            },
        };
        let date_of_birth = match self.date_of_birth.trim() {
            "" => None,
            t => match follicle_core::profile::parse_date(t) {
                Ok(d) => Some(d),
                Err(e) => {
                    errors.add("date_of_birth", e);
                    None
                }
            },
        };
        NewClient {
            name: self.name.clone(),
            date_of_birth,
            age_years,
            phone: self.phone.clone(),
            email: self.email.clone(),
            notes: self.notes.clone(),
        }
    }

    /// The form filled with a client's details.
    pub(super) fn of(client: &Client) -> ClientForm {
        ClientForm {
            name: client.name.clone(),
            age: client.age_years.map(|a| a.to_string()).unwrap_or_default(),
            date_of_birth: client.date_of_birth.map(|d| d.to_string()).unwrap_or_default(),
            phone: client.phone.clone(),
            email: client.email.clone(),
            notes: client.notes.clone(),
            ..ClientForm::default()
        }
    }
}

/// A likely duplicate as the new-client page lists it.
#[derive(Debug)]
pub(super) struct DuplicateShown {
    /// The other client.
    pub(super) client: Client,
    /// "same email and phone".
    pub(super) why: String,
}

pub(super) fn shown(found: Vec<follicle_store::LikelyDuplicate>) -> Vec<DuplicateShown> {
    found
        .into_iter()
        .map(|d| DuplicateShown {
            why: format!("same {}", d.same.join(" and ")),
            client: d.client,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "client_new.html")]
struct NewClientPage {
    nav: Nav,
    form: ClientForm,
    errors: FieldErrors,
    duplicates: Vec<DuplicateShown>,
}

pub(super) async fn new_form(page: Page) -> PageResult {
    render(&NewClientPage {
        nav: Nav::new(&page, "clients"),
        form: ClientForm::default(),
        errors: FieldErrors::default(),
        duplicates: Vec::new(),
    })
}

/// Creates a client; one that looks like a client already recorded (same email, phone, or
/// name and date of birth) is shown again with links to the others and created only when
/// the front desk confirms it is a different person (409 until then).
pub(super) async fn create(
    State(state): State<AppState>,
    page: Page,
    axum::Form(form): axum::Form<ClientForm>,
) -> PageResult {
    page.check_csrf(&form._csrf)?;
    let mut errors = FieldErrors::default();
    let new = form.to_client(&mut errors);
    let mut duplicates = Vec::new();
    if errors.is_empty() {
        let found = duplicates_of(&state, &page, &new, None, &mut errors).await?;
        if errors.is_empty() && (found.is_empty() || form.confirm_duplicate == "yes") {
            match state.store().create_client(&page.actor, &new).await {
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
    render_status(
        status,
        &NewClientPage {
            nav: Nav::new(&page, "clients"),
            form,
            errors,
            duplicates,
        },
    )
}

/// The likely duplicates of a client's details (other than `except`), for a create or an
/// edit; details the check refuses are put beside their field, with none found.
pub(super) async fn duplicates_of(
    state: &AppState,
    page: &Page,
    details: &follicle_store::NewClient,
    except: Option<Uuid>,
    errors: &mut FieldErrors,
) -> Result<Vec<follicle_store::LikelyDuplicate>, super::PageError> {
    match state
        .store()
        .likely_duplicates(&page.actor, details, except)
        .await
    {
        Ok(found) => Ok(found),
        Err(StoreError::Invalid { field, message }) => {
            errors.add(field, message);
            Ok(Vec::new())
        }
        Err(e) => Err(e.into()),
    }
}

/// One event of a client's timeline.
#[derive(Debug)]
pub struct Event {
    /// Sort key.
    at: OffsetDateTime,
    /// "23 Nov 2026".
    pub when: String,
    /// "Consultation v2", "Session", …
    pub title: String,
    /// One line of detail.
    pub detail: String,
    /// A link, if any.
    pub link: String,
    /// Its text.
    pub link_text: String,
}

/// Photos of one angle, oldest first, for the compare slider.
#[derive(Debug)]
pub struct AngleGroup {
    /// The angle.
    pub angle: &'static str,
    /// Photos.
    pub photos: Vec<Photo>,
}

#[derive(Template)]
#[template(path = "client.html")]
struct ClientPage {
    nav: Nav,
    client: Client,
    clinical: bool,
    events: Vec<Event>,
    appointments: Vec<(String, Appointment)>,
    angles: Vec<AngleGroup>,
    latest_design: Option<Uuid>,
    consultations: usize,
    angle_names: Vec<&'static str>,
    upload_error: String,
    warning: String,
    export: bool,
    erase: bool,
    booking: super::diary::Booking,
    booked: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct RecordQuery {
    #[serde(default)]
    warning: Option<String>,
    #[serde(default)]
    booked: Option<u32>,
}

pub(super) async fn record(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    QueryArgs(q): QueryArgs<RecordQuery>,
) -> PageResult {
    let warning = match q.warning.as_deref() {
        Some("expired-batch") => {
            "The session is logged, but its pigment batch had expired on the session date: check the client and consider a recall.".to_owned()
        }
        _ => String::new(),
    };
    let booked = match q.booked {
        Some(1) => "Booked.".to_owned(),
        Some(n) => format!("Booked: {n} appointments."),
        None => String::new(),
    };
    client_page_full(&state, &page, id, String::new(), warning, booked, None, None).await
}

pub(super) async fn client_page(
    state: &AppState,
    page: &Page,
    id: Uuid,
    upload_error: String,
    warning: String,
) -> PageResult {
    client_page_full(state, page, id, upload_error, warning, String::new(), None, None).await
}

/// The client's page with a booking form shown again with its errors.
pub(super) async fn client_page_with(
    state: &AppState,
    page: &Page,
    id: Uuid,
    plan_form: Option<(super::diary::BookForm, FieldErrors)>,
    visit_form: Option<(super::diary::BookForm, FieldErrors)>,
) -> PageResult {
    let failed = plan_form.iter().chain(&visit_form).any(|(_, e)| !e.is_empty());
    let shown = client_page_full(
        state,
        page,
        id,
        String::new(),
        String::new(),
        String::new(),
        plan_form,
        visit_form,
    )
    .await?;
    Ok(if failed {
        (StatusCode::UNPROCESSABLE_ENTITY, shown).into_response()
    } else {
        shown
    })
}

#[allow(clippy::too_many_arguments)] // the page's parts, each shown again as it was
async fn client_page_full(
    state: &AppState,
    page: &Page,
    id: Uuid,
    upload_error: String,
    warning: String,
    booked: String,
    plan_form: Option<(super::diary::BookForm, FieldErrors)>,
    visit_form: Option<(super::diary::BookForm, FieldErrors)>,
) -> PageResult {
    let booking = super::diary::booking(state, page, id, plan_form, visit_form).await?;
    let store = state.store();
    let client = store.client(&page.actor, id).await?;
    let clinical = page.may(Action::ViewClinicalRecords);
    let mut appointments = store.client_appointments(&page.actor, id).await?;
    appointments.sort_by_key(|a| a.starts_at);
    let mut events = Vec::new();
    let (mut consultations, mut designs, mut sessions, mut photos) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    if clinical {
        consultations = store.consultations(&page.actor, id).await?;
        designs = store.designs(&page.actor, id).await?;
        sessions = store.session_logs(&page.actor, id).await?;
        photos = store.photos(&page.actor, id).await?;
    }
    for c in &consultations {
        events.push(consultation_event(c));
    }
    for d in &designs {
        events.push(design_event(d));
    }
    for s in &sessions {
        events.push(session_event(s));
    }
    for p in &photos {
        events.push(Event {
            at: p.taken_at,
            when: day(p.taken_at.date()),
            title: format!("Photo ({})", p.angle),
            detail: format!("{} × {} px", p.width, p.height),
            link: format!("/api/v1/photos/{}", p.id),
            link_text: "Open".into(),
        });
    }
    // Payments taken, with their receipts (every role that takes them sees them).
    if page.may(Action::TakePayments) {
        for p in store.client_payments(&page.actor, id).await? {
            let (Some(at), Some(receipt)) = (p.paid_at, p.receipt.as_ref()) else {
                continue;
            };
            let label = follicle_store::receipt_label(receipt.number);
            events.push(Event {
                at,
                when: day(at.date()),
                title: format!("{} taken", crate::documents::payment_words(p.kind)),
                detail: format!(
                    "{}, {}",
                    crate::documents::money_minor(&p.currency, p.amount),
                    p.method.map(crate::documents::method_words).unwrap_or_default()
                ),
                link: format!("/payments/{}/receipt.pdf", p.id),
                link_text: format!("Receipt {label}"),
            });
        }
    }
    events.sort_by_key(|e| std::cmp::Reverse(e.at));
    let mut angles: Vec<AngleGroup> = Vec::new();
    for angle in PhotoAngle::ALL {
        let mut of_angle: Vec<Photo> = photos.iter().filter(|p| p.angle == *angle).cloned().collect();
        of_angle.sort_by_key(|p| p.taken_at);
        if !of_angle.is_empty() {
            angles.push(AngleGroup {
                angle: angle.as_str(),
                photos: of_angle,
            });
        }
    }
    render(&ClientPage {
        nav: Nav::new(page, "clients"),
        latest_design: designs.iter().max_by_key(|d| d.version).map(|d| d.id),
        consultations: consultations.len(),
        client,
        clinical,
        events,
        appointments: appointments
            .into_iter()
            .map(|a| {
                let what = match (a.kind, a.session_index) {
                    (follicle_store::AppointmentKind::Session, Some(n)) => format!("session {n}"),
                    (kind, _) => kind.as_str().replace('_', " "),
                };
                (format!("{} · {what}", when(a.starts_at)), a)
            })
            .collect(),
        angles,
        angle_names: PhotoAngle::ALL.iter().map(|a| a.as_str()).collect(),
        upload_error,
        warning,
        export: page.may(Action::ExportClient),
        erase: page.may(Action::DeleteClients),
        booking,
        booked,
    })
}

/// A consultation on the timeline, as it was issued (read from the stored record).
fn consultation_event(c: &Consultation) -> Event {
    let p = &c.plan;
    let total = p
        .quote
        .as_ref()
        .map(|q| {
            let number = c
                .quote_number
                .map(|n| format!(", quote {}", crate::wire::quote_label(n)))
                .unwrap_or_default();
            format!("· {}{number}", crate::wire::money(&q.currency, q.total))
        })
        .unwrap_or_default();
    Event {
        at: c.created_at,
        when: day(c.created_at.date()),
        title: if c.replanned_from.is_some() {
            format!("Consultation v{} (re-planned)", c.version)
        } else {
            format!("Consultation v{}", c.version)
        },
        detail: format!(
            "Verdict: {}; {} sessions planned, {:.1} h {total}",
            p.verdict.replace('_', " "),
            p.sessions.len(),
            p.total_hours,
        ),
        link: format!("/consultations/{}/print", c.id),
        link_text: "Plan and quote".into(),
    }
}

fn design_event(d: &Design) -> Event {
    Event {
        at: d.created_at,
        when: day(d.created_at.date()),
        title: format!("Design v{}", d.version),
        detail: format!(
            "seed {}{}",
            d.seed,
            if d.notes.is_empty() {
                String::new()
            } else {
                format!(" · {}", d.notes)
            }
        ),
        link: format!("/designs/{}", d.id),
        link_text: "Open in the designer".into(),
    }
}

fn session_event(s: &SessionLog) -> Event {
    let zones: Vec<&str> = s.zones.iter().map(|z| z.as_str()).collect();
    Event {
        at: s.performed_on.midnight().assume_utc(),
        when: day(s.performed_on),
        title: "Session".into(),
        detail: format!(
            "{} min · zones {} · needle {} (lot {}) · depth {} mm{}",
            s.duration_minutes,
            zones.join(", "),
            s.needle,
            s.needle_lot,
            s.depth_mm,
            if s.notes.is_empty() {
                String::new()
            } else {
                format!(" · {}", s.notes)
            }
        ),
        link: String::new(),
        link_text: String::new(),
    }
}

/// The session log form's fields, as typed.
#[derive(Debug, Default)]
pub(super) struct SessionForm {
    _csrf: String,
    performed_on: String,
    practitioner_id: String,
    batch_id: String,
    /// The ticked zone checkboxes (the one field sent once per value).
    zones: Vec<String>,
    /// The pigment mix in the plan's words: the water share, in per cent.
    water_percent: String,
    pigment_units: String,
    batch_override: String,
    needle: String,
    needle_lot: String,
    depth_mm: String,
    machine_settings: String,
    duration_minutes: String,
    anaesthetic: String,
    notes: String,
}

impl SessionForm {
    /// Reads the posted form; `zones` repeats once per ticked box, unknown names are ignored.
    fn parse(body: &[u8]) -> SessionForm {
        let mut f = SessionForm::default();
        for (name, value) in url_pairs(body) {
            let slot = match name.as_str() {
                "zones" => {
                    f.zones.push(value);
                    continue;
                }
                "_csrf" => &mut f._csrf,
                "performed_on" => &mut f.performed_on,
                "practitioner_id" => &mut f.practitioner_id,
                "batch_id" => &mut f.batch_id,
                "water_percent" => &mut f.water_percent,
                "pigment_units" => &mut f.pigment_units,
                "batch_override" => &mut f.batch_override,
                "needle" => &mut f.needle,
                "needle_lot" => &mut f.needle_lot,
                "depth_mm" => &mut f.depth_mm,
                "machine_settings" => &mut f.machine_settings,
                "duration_minutes" => &mut f.duration_minutes,
                "anaesthetic" => &mut f.anaesthetic,
                "notes" => &mut f.notes,
                _ => continue,
            };
            *slot = value;
        }
        f
    }

    /// Whether a zone is ticked.
    pub fn has_zone(&self, zone: &str) -> bool {
        self.zones.iter().any(|z| z == zone)
    }
}

/// A batch as the form offers it.
#[derive(Debug)]
pub struct BatchOption {
    /// Id.
    pub id: Uuid,
    /// "Scalp Black No. 1 · lot X · expires 1 Jan 2027".
    pub label: String,
    /// Expired on the day of the form.
    pub expired: bool,
    /// Under recall on the day of the form.
    pub recalled: bool,
}

#[derive(Template)]
#[template(path = "session_new.html")]
struct SessionPage {
    nav: Nav,
    client: Client,
    form: SessionForm,
    errors: FieldErrors,
    batches: Vec<BatchOption>,
    practitioners: Vec<User>,
    zone_names: Vec<&'static str>,
    /// Where the form posts.
    action: String,
    /// The planned session, in the plan's words (empty without one).
    planned: String,
}

/// The session form opened from an appointment: its action and the planned session's line.
#[derive(Debug, Default)]
struct FromAppointment {
    action: String,
    planned: String,
}

async fn session_page(
    state: &AppState,
    page: &Page,
    client: Client,
    form: SessionForm,
    errors: FieldErrors,
) -> PageResult {
    let action = format!("/clients/{}/sessions/new", client.id);
    session_page_from(
        state,
        page,
        client,
        form,
        errors,
        FromAppointment {
            action,
            planned: String::new(),
        },
    )
    .await
}

async fn session_page_from(
    state: &AppState,
    page: &Page,
    client: Client,
    form: SessionForm,
    errors: FieldErrors,
    from: FromAppointment,
) -> PageResult {
    let today = OffsetDateTime::now_utc().date();
    let products = state.store().pigment_products(&page.actor).await?;
    let batches: Vec<PigmentBatch> = state.store().pigment_batches(&page.actor).await?;
    let product = |id: Uuid| {
        products
            .iter()
            .find(|p| p.id == id)
            .map_or("?".into(), |p| p.name.clone())
    };
    let users = state.store().list_users(&page.actor).await.unwrap_or_default();
    let status = errors.status();
    render_status(
        status,
        &SessionPage {
            nav: Nav::new(page, "clients"),
            client,
            form,
            errors,
            batches: batches
                .iter()
                .map(|b| BatchOption {
                    id: b.id,
                    label: format!(
                        "{} · lot {} · expires {} · {} in stock",
                        product(b.product_id),
                        b.lot,
                        day(b.expires_on),
                        b.quantity
                    ),
                    expired: b.expires_on <= today,
                    recalled: b.recalled_on.is_some_and(|on| on <= today),
                })
                .collect(),
            action: from.action,
            planned: from.planned,
            practitioners: if users.is_empty() {
                vec![page.user.clone()]
            } else {
                users
            },
            zone_names: ZoneKind::ALL.iter().map(|z| z.as_str()).collect(),
        },
    )
}

pub(super) async fn session_form(State(state): State<AppState>, page: Page, Id(id): Id) -> PageResult {
    page.actor.require(Action::EditClinicalRecords)?;
    let client = state.store().client(&page.actor, id).await?;
    let settings = state.clinic_settings(&page.actor).await?;
    let form = SessionForm {
        performed_on: OffsetDateTime::now_utc().date().to_string(),
        practitioner_id: page.user.id.to_string(),
        water_percent: "0".into(),
        depth_mm: "0.8".into(),
        pigment_units: settings.diary.pigment_units_per_session.to_string(),
        ..SessionForm::default()
    };
    session_page(&state, &page, client, form, FieldErrors::default()).await
}

/// The session log opened from an appointment, prefilled from the planned session: zones,
/// needle, the pigment mix in the plan's words, duration; the expected dots shown.
pub(super) async fn appointment_session_form(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
) -> PageResult {
    page.actor.require(Action::EditClinicalRecords)?;
    let store = state.store();
    let a = store.appointment(&page.actor, id).await?;
    let client = store.client(&page.actor, a.client_id).await?;
    let settings = state.clinic_settings(&page.actor).await?;
    let planned = store.planned_session(&page.actor, &a).await?;
    let mut form = SessionForm {
        performed_on: a.starts_at.date().to_string(),
        practitioner_id: a.practitioner_id.unwrap_or(page.user.id).to_string(),
        water_percent: "0".into(),
        depth_mm: "0.8".into(),
        duration_minutes: a.duration_minutes.to_string(),
        pigment_units: settings.diary.pigment_units_per_session.to_string(),
        ..SessionForm::default()
    };
    let mut line = String::new();
    if let Some((s, zones)) = &planned {
        form.zones = zones.clone();
        form.needle = s.needle.clone();
        form.water_percent = format!("{:.0}", s.pigment_dilution * 100.0);
        form.duration_minutes = format!("{:.0}", s.duration_hours * 60.0);
        line = planned_line(s, zones);
    }
    let from = FromAppointment {
        action: format!("/appointments/{id}/session"),
        planned: line,
    };
    session_page_from(&state, &page, client, form, FieldErrors::default(), from).await
}

/// `Session 1 (Foundation layer): zones hairline, frontal · needle 1203RL · Scalp Black, 52 % water ·
/// about 4,210 dots · 2.5 h`.
fn planned_line(s: &follicle_store::record::SessionRecord, zones: &[String]) -> String {
    format!(
        "Session {} ({}): zones {} · needle {} · {}, {:.0} % water · about {} dots · {} h",
        s.index,
        s.purpose,
        zones.join(", "),
        s.needle,
        s.pigment_shade,
        s.pigment_dilution * 100.0,
        s.estimated_dots,
        s.duration_hours
    )
}

/// Logs the session of an appointment: the appointment becomes completed, the pigment comes
/// off the batch, and the next page asks for the five standard photos.
pub(super) async fn appointment_session_submit(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    raw: axum::extract::RawForm,
) -> PageResult {
    let form = SessionForm::parse(&raw.0);
    page.check_csrf(&form._csrf)?;
    let store = state.store();
    let a = store.appointment(&page.actor, id).await?;
    let client = store.client(&page.actor, a.client_id).await?;
    let planned = store.planned_session(&page.actor, &a).await?;
    let from = FromAppointment {
        action: format!("/appointments/{id}/session"),
        planned: planned
            .as_ref()
            .map(|(s, z)| planned_line(s, z))
            .unwrap_or_default(),
    };
    submit_session(&state, &page, client, Some(id), form, from).await
}

fn parse_number<T: std::str::FromStr>(
    errors: &mut FieldErrors,
    field: &str,
    text: &str,
    allowed: &str,
) -> Option<T> {
    match text.trim().parse::<T>() {
        Ok(v) => Some(v),
        Err(_) => {
            errors.add(field, format!("expected {allowed}, got {:?}", text.trim()));
            None
        }
    }
}

pub(super) async fn session_submit(
    State(state): State<AppState>,
    page: Page,
    Id(id): Id,
    raw: axum::extract::RawForm,
) -> PageResult {
    let form = SessionForm::parse(&raw.0);
    page.check_csrf(&form._csrf)?;
    let client = state.store().client(&page.actor, id).await?;
    let from = FromAppointment {
        action: format!("/clients/{id}/sessions/new"),
        planned: String::new(),
    };
    submit_session(&state, &page, client, None, form, from).await
}

async fn submit_session(
    state: &AppState,
    page: &Page,
    client: Client,
    appointment_id: Option<Uuid>,
    form: SessionForm,
    from: FromAppointment,
) -> PageResult {
    let id = client.id;
    let mut errors = FieldErrors::default();
    let performed_on: Option<Date> = follicle_core::profile::parse_date(form.performed_on.trim())
        .map_err(|e| errors.add("performed_on", e))
        .ok();
    let practitioner_id = Uuid::parse_str(&form.practitioner_id)
        .map_err(|_| errors.add("practitioner_id", "choose who treated"))
        .ok();
    let batch_id = Uuid::parse_str(&form.batch_id)
        .map_err(|_| errors.add("batch_id", "choose the pigment batch used"))
        .ok();
    let mut zones = Vec::new();
    for z in &form.zones {
        match ZoneKind::ALL.iter().find(|k| k.as_str() == z) {
            Some(k) => zones.push(*k),
            None => errors.add("zones", format!("unknown zone {z:?}")),
        }
    }
    let water = parse_number::<f64>(
        &mut errors,
        "water_percent",
        &form.water_percent,
        "the water share of the mix in per cent, 0 to under 100",
    );
    let dilution = match water {
        Some(w) if w.is_finite() && (0.0..100.0).contains(&w) => Some(1.0 - w / 100.0),
        Some(w) => {
            errors.add(
                "water_percent",
                format!("expected the water share of the mix in per cent, 0 to under 100, got {w}"),
            );
            None
        }
        None => None,
    };
    let depth = parse_number::<f64>(
        &mut errors,
        "depth_mm",
        &form.depth_mm,
        "millimetres, such as 0.8",
    );
    let minutes = parse_number::<i64>(
        &mut errors,
        "duration_minutes",
        &form.duration_minutes,
        "whole minutes, 1–1440",
    );
    let units = match form.pigment_units.trim() {
        "" => Some(0),
        _ => parse_number::<i64>(
            &mut errors,
            "pigment_units",
            &form.pigment_units,
            "whole units, 0–1000",
        ),
    };
    if let (
        true,
        Some(performed_on),
        Some(practitioner_id),
        Some(batch_id),
        Some(dilution),
        Some(depth_mm),
        Some(duration_minutes),
        Some(pigment_units),
    ) = (
        errors.is_empty(),
        performed_on,
        practitioner_id,
        batch_id,
        dilution,
        depth,
        minutes,
        units,
    ) {
        let new = NewSessionLog {
            client_id: id,
            appointment_id,
            performed_on,
            practitioner_id,
            zones,
            batch_id,
            dilution,
            needle: form.needle.clone(),
            needle_lot: form.needle_lot.clone(),
            depth_mm,
            machine_settings: form.machine_settings.clone(),
            duration_minutes,
            anaesthetic: form.anaesthetic.clone(),
            notes: form.notes.clone(),
            chair: follicle_store::AtTheChair {
                pigment_units,
                batch_override: form.batch_override.trim().to_owned(),
            },
        };
        match crate::usecase::log_session(state, &page.actor, &new).await {
            Ok(logged) => {
                let expired = logged
                    .warnings
                    .iter()
                    .any(|w| matches!(w, follicle_store::Warning::BatchExpired { .. }));
                let to = match (appointment_id, expired) {
                    (Some(_), true) => format!("/sessions/{}/logged?warning=expired-batch", logged.id),
                    (Some(_), false) => format!("/sessions/{}/logged", logged.id),
                    (None, true) => format!("/clients/{id}?warning=expired-batch"),
                    (None, false) => format!("/clients/{id}"),
                };
                return Ok(Redirect::to(&to).into_response());
            }
            Err(StoreError::Invalid { field, message }) => {
                let field = field.trim_start_matches("session.");
                let field = if field == "dilution" {
                    "water_percent"
                } else {
                    field
                };
                errors.add(field, message);
            }
            Err(StoreError::NotFound { what }) => {
                errors.add("batch_id", format!("{what} not found in this clinic"))
            }
            Err(e) => return Err(e.into()),
        }
    }
    session_page_from(state, page, client, form, errors, from).await
}

/// `application/x-www-form-urlencoded` pairs, in order, keys repeated as sent.
pub fn url_pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}
