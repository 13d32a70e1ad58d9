//! The demo clinic `follicle serve --demo` creates: three users (one per role), the eight
//! example clients with consultations, designs and booked sessions, pigment stock with an
//! expired batch, two clients already treated once, and front photos of three real heads with
//! their landmarks. The diary looks like a real week: each client's consultation is a visit on
//! the day of the assessment, before the sessions; clients start on different days; and each
//! visit takes the first free half hour from the plan's start time (or opening), inside opening
//! hours, so the practitioner is never booked twice at once while a day has room. The clinic
//! has two rooms ([`DEMO_ROOMS`]): consultations are in Room 2, and each client's sessions in
//! one of the two, so the diary's view by room has both columns filled.
//!
//! Sign in as `owner@demo.follicle.test`, `practitioner@demo.follicle.test` or
//! `frontdesk@demo.follicle.test`, each with the password [`DEMO_PASSWORD`]. Run twice, it
//! finds the clinic there and leaves it alone.

use follicle_core::plan::parse_clock;
use follicle_core::{ClientProfile, Settings};
use follicle_store::{
    Action, Actor, AppointmentKind, AppointmentStatus, ConsentKind, LandmarkSource, NewAppointment,
    NewClient, NewConsent, NewConsultation, NewDesign, NewPhoto, NewPhotoLandmarks, NewPigmentBatch,
    NewPigmentProduct, NewSessionLog, NewUser, PhotoAngle, PlacedLandmark, PlanRecord, Role, Store,
    StoreError,
};
use time::{Date, Duration};

use crate::compute::split_request;

/// The demo users' password.
pub const DEMO_PASSWORD: &str = "follicle-demo";
/// The demo owner's email.
pub const DEMO_OWNER: &str = "owner@demo.follicle.test";
/// The demo practitioner's email.
pub const DEMO_PRACTITIONER: &str = "practitioner@demo.follicle.test";
/// The demo front desk's email.
pub const DEMO_FRONT_DESK: &str = "frontdesk@demo.follicle.test";

/// The example clients, with whether they were treated once already (assessed 30 days ago,
/// first session 10 days ago, the next ones still to come).
const CLIENTS: [(&str, &str, bool); 8] = [
    (
        "norwood-7-full-coverage",
        include_str!("../../../examples/clients/norwood-7-full-coverage.toml"),
        true,
    ),
    (
        "norwood-3-hairline",
        include_str!("../../../examples/clients/norwood-3-hairline.toml"),
        false,
    ),
    (
        "ludwig-2-diffuse",
        include_str!("../../../examples/clients/ludwig-2-diffuse.toml"),
        false,
    ),
    (
        "fut-strip-scar",
        include_str!("../../../examples/clients/fut-strip-scar.toml"),
        true,
    ),
    (
        "alopecia-areata",
        include_str!("../../../examples/clients/alopecia-areata.toml"),
        false,
    ),
    (
        "deferred-isotretinoin",
        include_str!("../../../examples/clients/deferred-isotretinoin.toml"),
        false,
    ),
    (
        "blood-thinners",
        include_str!("../../../examples/clients/blood-thinners.toml"),
        false,
    ),
    (
        "keloid-not-suitable",
        include_str!("../../../examples/clients/keloid-not-suitable.toml"),
        false,
    ),
];

/// Front photos of real heads for three of the clients (`assets/photos`, public domain or
/// CC BY-SA 3.0 as recorded in its ORIGIN.md), by client, with the landmarks placed on them by hand
/// (`assets/photos/warp-landmarks.json`), so the designer shows each design on a real head.
const PHOTOS: [(&str, &str, &[u8]); 3] = [
    (
        "norwood-7-full-coverage",
        "654px-Aksel_Andersson.jpg",
        include_bytes!("../../../assets/photos/654px-Aksel_Andersson.jpg"),
    ),
    (
        "norwood-3-hairline",
        "Filippo_Giunchedi.jpg",
        include_bytes!("../../../assets/photos/Filippo_Giunchedi.jpg"),
    ),
    (
        "blood-thinners",
        "E_W_Dahlgren.jpg",
        include_bytes!("../../../assets/photos/E_W_Dahlgren.jpg"),
    ),
];
const PHOTO_LANDMARKS: &str = include_str!("../../../assets/photos/warp-landmarks.json");

/// What seeding did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seeded {
    /// Created the demo clinic with this many clients.
    Created {
        /// Clients added.
        clients: usize,
    },
    /// The demo clinic was there already.
    AlreadyThere,
}

/// Creates the demo clinic unless it is there, dated around `today`.
pub async fn seed(store: &Store, today: Date) -> Result<Seeded, StoreError> {
    let owner = NewUser {
        email: DEMO_OWNER.into(),
        name: "Ana Okafor".into(),
        role: Role::Owner,
        password: DEMO_PASSWORD.into(),
    };
    let (_, owner) = match store
        .create_clinic_with_owner("Follicle Demo Clinic", owner)
        .await
    {
        Ok(created) => created,
        Err(StoreError::Conflict { .. }) => return Ok(Seeded::AlreadyThere),
        Err(e) => return Err(e),
    };
    let practitioner = store
        .add_user(
            &owner,
            NewUser {
                email: DEMO_PRACTITIONER.into(),
                name: "Sam Rivera".into(),
                role: Role::Practitioner,
                password: DEMO_PASSWORD.into(),
            },
        )
        .await?;
    store
        .add_user(
            &owner,
            NewUser {
                email: DEMO_FRONT_DESK.into(),
                name: "Jo Lindqvist".into(),
                role: Role::FrontDesk,
                password: DEMO_PASSWORD.into(),
            },
        )
        .await?;
    let pro = store.actor(practitioner.id).await?;
    debug_assert!(pro.role().may(Action::EditClinicalRecords));
    // Two treatment rooms: the diary's view by room has a column each.
    let retention_years = store.clinic(&owner).await?.retention_years;
    store
        .update_clinic_settings(&owner, DEMO_ROOMS_TOML, retention_years)
        .await?;

    let product = store
        .add_pigment_product(
            &pro,
            &NewPigmentProduct {
                name: "Scalp Black No. 1".into(),
                maker: "Demo Pigments Ltd".into(),
                ingredients: "Carbon black (CI 77266), aqua, glycerin, hamamelis virginiana water".into(),
            },
        )
        .await?;
    let batch = store
        .add_pigment_batch(
            &pro,
            &NewPigmentBatch {
                product_id: product.id,
                lot: "SB1-2026-031".into(),
                expires_on: today + Duration::days(400),
                quantity: 12,
            },
        )
        .await?;
    store
        .add_pigment_batch(
            &pro,
            &NewPigmentBatch {
                product_id: product.id,
                lot: "SB1-2025-007".into(),
                expires_on: today - Duration::days(10),
                quantity: 2,
            },
        )
        .await?;

    let settings = Settings::default();
    let mut week = Week::new(&settings);
    for (i, (slug, toml, treated)) in CLIENTS.iter().enumerate() {
        let assessed = if *treated {
            today - Duration::days(40)
        } else {
            today
        };
        let profile = ClientProfile::from_toml(toml, &settings, assessed)
            .map_err(|e| StoreError::Internal(format!("demo client {slug}: {e}")))?;
        let client = store
            .create_client(
                &pro,
                &NewClient {
                    name: profile.name.clone().unwrap_or_else(|| slug.replace('-', " ")),
                    date_of_birth: None,
                    age_years: Some(i64::from(profile.age)),
                    phone: format!("+1 555 010{i}"),
                    email: format!("{slug}@example.com"),
                    notes: format!("Demo client from examples/clients/{slug}.toml"),
                },
            )
            .await?;
        // The clients still to be treated start on different days of the coming weeks.
        let start = if *treated {
            today - Duration::days(10)
        } else {
            assessed + Duration::days(3 + i as i64)
        };
        let seed = i as u64 + 1;
        let treatment = follicle_pattern::treatment::plan_client(&profile, &settings, assessed, start, seed)
            .map_err(|e| StoreError::Internal(format!("demo plan: {e}")))?;
        let (plan, request) = (treatment.plan, treatment.request);
        // Recorded the way the studio and the API record one (the use-case layer's shape):
        // the consultation and its design in one transaction.
        let issue = follicle_store::record::Issue {
            on: assessed,
            valid_days: settings.pricing.quote_valid_days,
        };
        let record = PlanRecord::from_core(&plan, issue);
        let design = if plan.sessions.is_empty() {
            None
        } else {
            let (hairline, zones, rest) = split_request(&request)
                .map_err(|e| StoreError::Internal(format!("demo design: {}", e.detail.message)))?;
            Some(NewDesign {
                client_id: client.id,
                consultation_id: None,
                hairline,
                zones,
                seed: request.seed,
                settings: rest,
                notes: "Drawn from the consultation's plan".into(),
                plan: Some(record.clone()),
            })
        };
        // The consultation was a visit of its own, on the day of the assessment, before the
        // sessions.
        let consult_at = week.place(assessed, CONSULTATION_MINUTES, None);
        store
            .record_appointment(
                &pro,
                &NewAppointment {
                    client_id: client.id,
                    practitioner_id: Some(practitioner.id),
                    starts_at: consult_at,
                    duration_minutes: CONSULTATION_MINUTES,
                    notes: "Consultation".into(),
                },
                AppointmentKind::Consultation,
                None,
                Some(DEMO_ROOMS[1]),
            )
            .await?;
        let (consultation, drawn) = store
            .add_consultation(
                &pro,
                &NewConsultation {
                    client_id: client.id,
                    profile_toml: (*toml).to_owned(),
                    settings_toml: String::new(),
                    plan: record,
                    replanned_from: None,
                },
                design.as_ref(),
            )
            .await?;
        if let Some(drawn) = &drawn {
            sign_treatment_consent(store, &pro, &client, drawn, &practitioner.name).await?;
        }
        if let Some((_, file, bytes)) = PHOTOS.iter().find(|(s, _, _)| s == slug) {
            add_front_photo(store, &pro, &client, assessed, file, bytes).await?;
        }
        if plan.sessions.is_empty() {
            continue;
        }
        for (n, session) in plan.sessions.iter().enumerate() {
            // A plan that cannot be booked yet has undated sessions: nothing to put in the diary.
            let Some(date) = session.date else { continue };
            let time = parse_clock(&session.start_time).unwrap_or(time::macros::time!(10:00));
            let minutes = (session.duration_hours * 60.0).round() as i64;
            let starts_at = week.place(date, minutes, Some(time));
            let appointment = store
                .record_appointment(
                    &pro,
                    &NewAppointment {
                        client_id: client.id,
                        practitioner_id: Some(practitioner.id),
                        starts_at,
                        duration_minutes: minutes,
                        notes: format!("Session {}: {}", session.index, session.purpose_text),
                    },
                    AppointmentKind::Session,
                    Some((consultation.id, session.index as i64)),
                    // Each client's sessions in one room, the clients shared between the two.
                    Some(DEMO_ROOMS[i % DEMO_ROOMS.len()]),
                )
                .await?;
            if *treated && n == 0 && date < today {
                log_first_session(
                    store,
                    &pro,
                    &practitioner.id,
                    &appointment.id,
                    &client.id,
                    &batch.id,
                    session,
                )
                .await?;
                store
                    .set_appointment_status(&pro, appointment.id, AppointmentStatus::Completed)
                    .await?;
            }
        }
    }
    Ok(Seeded::Created {
        clients: CLIENTS.len(),
    })
}

/// The demo clinic's rooms (its `diary.rooms`): consultations in the second.
pub const DEMO_ROOMS: [&str; 2] = ["Room 1", "Room 2"];
const DEMO_ROOMS_TOML: &str = "[diary]\nrooms = [\"Room 1\", \"Room 2\"]\n";

/// How long a consultation visit takes in the demo's diary.
const CONSULTATION_MINUTES: i64 = 60;

/// The demo practitioner's days as they fill: each visit goes at the first half hour of its
/// day, from the time asked for (or opening), where it fits inside opening hours without
/// overlapping another; a day too full takes it at the time asked for.
struct Week {
    opens: time::Time,
    closes: time::Time,
    booked: std::collections::BTreeMap<Date, Vec<(time::Time, time::Time)>>,
}

impl Week {
    fn new(settings: &Settings) -> Week {
        Week {
            opens: settings.diary.opens_at(),
            closes: settings.diary.closes_at(),
            booked: std::collections::BTreeMap::new(),
        }
    }

    fn place(&mut self, day: Date, minutes: i64, wanted: Option<time::Time>) -> time::OffsetDateTime {
        let length = Duration::minutes(minutes);
        let step = Duration::minutes(30);
        let taken = self.booked.entry(day).or_default();
        let fits = |start: time::Time| {
            let end = start + length;
            end > start && end <= self.closes && taken.iter().all(|(s, e)| end <= *s || start >= *e)
        };
        let first = wanted.unwrap_or(self.opens).max(self.opens);
        let mut start = first;
        let mut found = None;
        // Later in the day first, then from opening: at most a day of half hours each way.
        for candidate in (0..48)
            .map(|n| first + step * n)
            .chain((0..48).map(|n| self.opens + step * n))
        {
            if candidate < self.opens || candidate >= self.closes {
                continue;
            }
            if fits(candidate) {
                found = Some(candidate);
                break;
            }
        }
        if let Some(f) = found {
            start = f;
        }
        taken.push((start, start + length));
        day.with_time(start).assume_utc()
    }
}

/// A consented front photo taken at the consultation, with the landmarks placed on it by hand.
async fn add_front_photo(
    store: &Store,
    pro: &Actor,
    client: &follicle_store::Client,
    assessed: Date,
    file: &str,
    bytes: &[u8],
) -> Result<(), StoreError> {
    let taken_at = assessed.midnight().assume_utc() + Duration::hours(9);
    let consent = store
        .record_consent(
            pro,
            &NewConsent {
                client_id: client.id,
                kind: ConsentKind::Photos,
                template_version: "2026-01".into(),
                text: "I agree to photos of my scalp being taken and kept in my record.".into(),
                signed_by: client.name.clone(),
                signed_at: taken_at,
            },
        )
        .await?;
    let photo = store
        .upload_photo(
            pro,
            &NewPhoto {
                client_id: client.id,
                angle: PhotoAngle::Front,
                taken_at,
                session_id: None,
                consent_id: Some(consent.id),
                consultation_id: None,
                consented: true,
            },
            bytes,
        )
        .await?;
    let marks: std::collections::BTreeMap<String, serde_json::Value> = serde_json::from_str(PHOTO_LANDMARKS)
        .map_err(|e| StoreError::Internal(format!("demo landmarks: {e}")))?;
    let points: Vec<PlacedLandmark> = marks
        .get(file)
        .cloned()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| StoreError::Internal(format!("demo landmarks of {file}: {e}")))?
        .unwrap_or_default();
    store
        .save_photo_landmarks(
            pro,
            &NewPhotoLandmarks {
                photo_id: photo.id,
                points,
                outline: Vec::new(),
                source: LandmarkSource::Manual,
            },
        )
        .await?;
    Ok(())
}

async fn log_first_session(
    store: &Store,
    pro: &Actor,
    practitioner: &uuid::Uuid,
    appointment: &uuid::Uuid,
    client: &uuid::Uuid,
    batch: &uuid::Uuid,
    session: &follicle_core::plan::Session,
) -> Result<(), StoreError> {
    let mut zones: Vec<_> = session.zones.iter().map(|z| z.zone).collect();
    zones.dedup();
    store
        .log_session(
            pro,
            &NewSessionLog {
                client_id: *client,
                appointment_id: Some(*appointment),
                performed_on: session
                    .date
                    .ok_or_else(|| StoreError::Internal("demo: a logged session needs a date".into()))?,
                practitioner_id: *practitioner,
                zones,
                batch_id: *batch,
                dilution: (1.0 - session.pigment_dilution).clamp(0.05, 1.0),
                needle: session.needle.clone(),
                needle_lot: "RL3-24-1187".into(),
                depth_mm: 0.8,
                machine_settings: "7.5 V, 3.5 mm stroke".into(),
                duration_minutes: (session.duration_hours * 60.0).round() as i64,
                anaesthetic: String::new(),
                notes: "Foundation layer; light, even spread. No bleeding.".into(),
                chair: follicle_store::AtTheChair::default(),
            },
        )
        .await?;
    Ok(())
}

/// The demo client signs the treatment consent for their design at the chair (a few strokes of
/// a signature), as the clinic's default settings word it, so that sessions can be logged.
async fn sign_treatment_consent(
    store: &Store,
    pro: &Actor,
    client: &follicle_store::Client,
    design: &follicle_store::Design,
    witness: &str,
) -> Result<(), StoreError> {
    const CLINIC: &str = "Follicle Demo Clinic";
    let settings = follicle_core::Settings::default();
    let words = crate::documents::consent_for(
        &settings,
        CLINIC,
        &client.name,
        follicle_core::settings::ConsentKind::Procedure,
        Some(design),
    )
    .map_err(StoreError::Internal)?;
    let signed = words.signed(
        client.id,
        &client.name,
        "40,150 90,40 130,150 170,70 210,140;260,100 330,95 400,110 470,90",
        follicle_store::SignedIn::Chair,
        "127.0.0.1",
        "Follicle demo",
    );
    let pdf = crate::documents::consent_pdf(&settings, CLINIC, pro.clinic_id(), &signed, Some(witness), None)
        .map_err(|e| StoreError::Internal(format!("demo consent: {e}")))?;
    store.sign_consent_at_chair(pro, &signed, &pdf).await?;
    Ok(())
}
