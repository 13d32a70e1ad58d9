//! The diary's rules (issue 14) on both backends: when a booking is refused and what the
//! refusal says, double bookings refused or overridden, a plan booked in one step or not at
//! all, moves, statuses with who and when, and the session log connected to its appointment
//! and the batch's stock.

use follicle_core::Settings;
use follicle_store::*;
use time::OffsetDateTime;
use time::macros::{date, datetime};
use uuid::Uuid;

use crate::contract::{consultation, new_sam, pigments, session};
use crate::support::clinic;

both!(
    super;
    refusals_name_the_field_the_value_and_what_is_allowed,
    a_double_booking_is_refused_naming_the_appointment_or_overridden,
    a_plan_is_booked_in_one_step_or_not_at_all,
    a_move_keeps_the_rules_and_is_in_the_history,
    statuses_move_forward_with_who_and_when,
    the_session_logged_from_its_appointment_completes_it_and_takes_the_stock,
    an_expired_or_recalled_batch_is_refused_at_the_chair_unless_overridden,
    a_room_is_booked_once_at_a_time_unless_overridden,
    a_room_not_of_the_clinic_is_refused_naming_its_rooms,
    two_bookings_of_one_room_at_once_cannot_both_pass,
);

/// Tuesday 1 December 2026, 08:00: the clinic (default settings: Monday–Saturday,
/// 09:00–18:00, 10 days between sessions, at most 4 a year) with 25 December closed.
fn rules() -> DiaryRules {
    let settings = Settings::with_overrides("[diary]\nclosed_dates = [\"2026-12-25\"]\n").unwrap();
    DiaryRules::from_settings(&settings, datetime!(2026-12-01 08:00 UTC))
}

/// [`rules`] in a clinic with two rooms.
fn rules_with_rooms() -> DiaryRules {
    let settings = Settings::with_overrides(
        "[diary]\nclosed_dates = [\"2026-12-25\"]\nrooms = [\"Room 1\", \"Room 2\"]\n",
    )
    .unwrap();
    DiaryRules::from_settings(&settings, datetime!(2026-12-01 08:00 UTC))
}

/// A client of the clinic with this name.
async fn client_named(store: &Store, c: &crate::support::Clinic, name: &str) -> Client {
    store
        .create_client(
            &c.front_desk,
            &NewClient {
                name: name.into(),
                ..NewClient::default()
            },
        )
        .await
        .unwrap()
}

/// A visit in a room.
fn in_room(booking: NewBooking, room: &str) -> NewBooking {
    NewBooking {
        room: Some(room.into()),
        ..booking
    }
}

fn visit(client: Uuid, practitioner: &Actor, starts_at: OffsetDateTime, minutes: i64) -> NewBooking {
    NewBooking {
        appointment: NewAppointment {
            client_id: client,
            practitioner_id: Some(practitioner.user_id()),
            starts_at,
            duration_minutes: minutes,
            notes: String::new(),
        },
        kind: AppointmentKind::Session,
        room: None,
        override_reason: String::new(),
    }
}

fn invalid<T: std::fmt::Debug>(result: StoreResult<T>) -> (&'static str, String) {
    match result {
        Err(StoreError::Invalid { field, message }) => (field, message),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

pub async fn refusals_name_the_field_the_value_and_what_is_allowed(store: &Store) {
    let c = clinic(store, "Rules").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let rules = rules();
    let rules = &rules;
    let book = |at, minutes| {
        let b = visit(sam.id, &c.practitioner, at, minutes);
        let desk = &c.front_desk;
        async move { store.book(desk, &b, rules).await }
    };
    let cases = [
        (
            datetime!(2026-11-30 10:00 UTC),
            60,
            "2026-11-30 10:00 is in the past; book from now (2026-12-01 08:00) on",
        ),
        (
            datetime!(2026-12-06 10:00 UTC),
            60,
            "Sunday 2026-12-06 is not a working day; the clinic works mon, tue, wed, thu, fri, sat",
        ),
        (
            datetime!(2026-12-25 10:00 UTC),
            60,
            "2026-12-25 is a closed date of the clinic (diary.closed_dates)",
        ),
        (
            datetime!(2026-12-02 08:00 UTC),
            60,
            "08:00–09:00 is outside the opening hours 09:00–18:00 (diary.opens, diary.closes)",
        ),
        (
            datetime!(2026-12-02 16:00 UTC),
            180,
            "16:00–19:00 is outside the opening hours 09:00–18:00",
        ),
    ];
    for (at, minutes, words) in cases {
        let (field, message) = invalid(book(at, minutes).await);
        assert_eq!(field, "starts_at");
        assert!(message.contains(words), "{at}: {message}");
    }
    // The healing interval, on both sides of a session booked.
    book(datetime!(2026-12-10 10:00 UTC), 120).await.unwrap();
    let (field, message) = invalid(book(datetime!(2026-12-17 10:00 UTC), 120).await);
    assert_eq!(field, "starts_at");
    assert!(
        message.contains("2026-12-17 is 7 days after the client's session on 2026-12-10; sessions are at least 10 days apart")
            && message.contains("book it on or after 2026-12-20"),
        "{message}"
    );
    let (_, message) = invalid(book(datetime!(2026-12-03 10:00 UTC), 120).await);
    assert!(
        message.contains("7 days before") && message.contains("on or before 2026-11-30"),
        "{message}"
    );
    // A patch test is not a treatment: no interval.
    let mut patch = visit(sam.id, &c.practitioner, datetime!(2026-12-11 10:00 UTC), 30);
    patch.kind = AppointmentKind::PatchTest;
    assert_eq!(
        store.book(&c.front_desk, &patch, rules).await.unwrap().kind,
        AppointmentKind::PatchTest
    );
    // The yearly cap: 4 sessions in 365 days, the fifth refused.
    for at in [
        datetime!(2026-12-21 10:00 UTC),
        datetime!(2027-01-04 10:00 UTC),
        datetime!(2027-01-15 10:00 UTC),
    ] {
        book(at, 120).await.unwrap();
    }
    let (field, message) = invalid(book(datetime!(2027-02-01 10:00 UTC), 120).await);
    assert_eq!(field, "starts_at");
    assert!(
        message.contains(
            "2027-02-01 would make 5 sessions in the 365 days from 2026-12-10 to 2027-12-09; at most 4"
        ),
        "{message}"
    );
    // A session logged without an appointment counts too (the day it was done).
    let p = pigments(store, &c.practitioner).await;
    let kim = store
        .create_client(
            &c.front_desk,
            &NewClient {
                name: "Kim".into(),
                ..NewClient::default()
            },
        )
        .await
        .unwrap();
    store
        .log_session(
            &c.practitioner,
            &session(kim.id, &c.practitioner, p.fresh.id, date!(2026 - 11 - 28)),
        )
        .await
        .unwrap();
    let b = visit(kim.id, &c.practitioner, datetime!(2026-12-02 10:00 UTC), 60);
    let (_, message) = invalid(store.book(&c.front_desk, &b, rules).await);
    assert!(
        message.contains("4 days after the client's session on 2026-11-28"),
        "{message}"
    );
}

pub async fn a_double_booking_is_refused_naming_the_appointment_or_overridden(store: &Store) {
    let c = clinic(store, "Clashes").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let kim = store
        .create_client(
            &c.front_desk,
            &NewClient {
                name: "Kim Park".into(),
                ..NewClient::default()
            },
        )
        .await
        .unwrap();
    let rules = rules();
    let first = store
        .book(
            &c.front_desk,
            &visit(sam.id, &c.practitioner, datetime!(2026-12-07 10:00 UTC), 150),
            &rules,
        )
        .await
        .unwrap();
    let clashing = visit(kim.id, &c.practitioner, datetime!(2026-12-07 12:00 UTC), 60);
    match store.book(&c.front_desk, &clashing, &rules).await {
        Err(StoreError::Conflict { message }) => {
            assert!(
                message.contains("practitioner of Clashes is already booked then"),
                "{message}"
            );
            assert!(
                message.contains(&format!(
                    "Sam Ólafsson's session on 2026-12-07 10:00–12:30 (appointment {})",
                    first.id
                )),
                "{message}"
            );
            assert!(message.contains("override_reason"), "{message}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // Back to back is no clash; another practitioner is free.
    store
        .book(
            &c.front_desk,
            &visit(kim.id, &c.practitioner, datetime!(2026-12-07 12:30 UTC), 60),
            &rules,
        )
        .await
        .unwrap();
    let lee = store
        .create_client(
            &c.front_desk,
            &NewClient {
                name: "Lee".into(),
                ..NewClient::default()
            },
        )
        .await
        .unwrap();
    store
        .book(
            &c.front_desk,
            &visit(lee.id, &c.owner, datetime!(2026-12-07 11:00 UTC), 60),
            &rules,
        )
        .await
        .unwrap();
    // Overridden with a reason: booked, and the reason is in its history and the audit log.
    let noor = store
        .create_client(
            &c.front_desk,
            &NewClient {
                name: "Noor".into(),
                ..NewClient::default()
            },
        )
        .await
        .unwrap();
    let overridden = store
        .book(
            &c.front_desk,
            &NewBooking {
                override_reason: "a ten-minute check of the hairline drawing".into(),
                ..visit(noor.id, &c.practitioner, datetime!(2026-12-07 11:00 UTC), 30)
            },
            &rules,
        )
        .await
        .unwrap();
    let note = format!(
        "override: double-booked over appointment {} (a ten-minute check of the hairline drawing)",
        first.id
    );
    assert_eq!(overridden.history.len(), 2);
    assert_eq!(overridden.history[0].what, "booked");
    assert_eq!(overridden.history[1].what, note);
    assert_eq!(overridden.history[1].by, c.front_desk.user_id());
    let audit = store.audit_log(&c.owner, noor.id).await.unwrap();
    assert!(
        audit.iter().any(|e| e.detail == format!("appointment {note}")),
        "{audit:?}"
    );
    // A cancelled appointment holds no time.
    store
        .set_appointment_status(&c.front_desk, first.id, AppointmentStatus::Cancelled)
        .await
        .unwrap();
    let ravi = store
        .create_client(
            &c.front_desk,
            &NewClient {
                name: "Ravi".into(),
                ..NewClient::default()
            },
        )
        .await
        .unwrap();
    store
        .book(
            &c.front_desk,
            &visit(ravi.id, &c.practitioner, datetime!(2026-12-07 10:30 UTC), 30),
            &rules,
        )
        .await
        .unwrap();
}

pub async fn a_plan_is_booked_in_one_step_or_not_at_all(store: &Store) {
    let c = clinic(store, "Plans").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let (consult, _) = store
        .add_consultation(&c.practitioner, &consultation(sam.id, "V"), None)
        .await
        .unwrap();
    let planned = consult.plan.sessions.clone();
    assert!(planned.len() >= 3, "{} sessions", planned.len());
    let rules = rules();
    // The front desk sees what to book without the clinical record.
    let to_book = store.plan_to_book(&c.front_desk, sam.id).await.unwrap().unwrap();
    assert_eq!(to_book.consultation_id, consult.id);
    assert_eq!(to_book.sessions.len(), planned.len());
    let booking = PlanBooking {
        consultation_id: consult.id,
        practitioner_id: Some(c.practitioner.user_id()),
        first_starts_at: datetime!(2026-12-07 10:00 UTC),
        room: None,
        override_reason: String::new(),
    };
    let booked = store.book_plan(&c.front_desk, &booking, &rules).await.unwrap();
    assert_eq!(booked.len(), planned.len());
    assert_eq!(booked[0].starts_at, datetime!(2026-12-07 10:00 UTC));
    for (n, (a, p)) in booked.iter().zip(&planned).enumerate() {
        assert_eq!(a.session_index, Some(i64::from(p.index)));
        assert_eq!(a.consultation_id, Some(consult.id));
        assert_eq!(a.kind, AppointmentKind::Session);
        assert_eq!(a.duration_minutes, (p.duration_hours * 60.0).round() as i64);
        assert!(rules.is_open_on(a.starts_at.date()));
        if n > 0 {
            let gap = (a.starts_at.date() - booked[n - 1].starts_at.date()).whole_days();
            let planned_gap = (p.date.unwrap() - planned[n - 1].date.unwrap()).whole_days();
            assert!(
                gap >= planned_gap && gap >= 10,
                "session {}: {gap} days (plan {planned_gap})",
                p.index
            );
        }
    }
    assert_eq!(
        store
            .client_appointments(&c.front_desk, sam.id)
            .await
            .unwrap()
            .len(),
        planned.len()
    );
    // Again for another client at the same times with the same practitioner: the first clash
    // refuses the whole plan, naming the session, and nothing is booked.
    let kim = store
        .create_client(
            &c.front_desk,
            &NewClient {
                name: "Kim".into(),
                ..NewClient::default()
            },
        )
        .await
        .unwrap();
    let (kim_consult, _) = store
        .add_consultation(&c.practitioner, &consultation(kim.id, "V"), None)
        .await
        .unwrap();
    let again = PlanBooking {
        consultation_id: kim_consult.id,
        ..booking.clone()
    };
    match store.book_plan(&c.front_desk, &again, &rules).await {
        Err(StoreError::Conflict { message }) => {
            assert!(message.starts_with("session 1 (2026-12-07 10:00): "), "{message}");
            assert!(message.contains(&booked[0].id.to_string()), "{message}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(
        store
            .client_appointments(&c.front_desk, kim.id)
            .await
            .unwrap()
            .is_empty()
    );
    // A first session on a Sunday is refused naming it.
    let (field, message) = invalid(
        store
            .book_plan(
                &c.front_desk,
                &PlanBooking {
                    first_starts_at: datetime!(2026-12-06 10:00 UTC),
                    practitioner_id: Some(c.owner.user_id()),
                    ..again.clone()
                },
                &rules,
            )
            .await,
    );
    assert_eq!(field, "starts_at");
    assert!(
        message.starts_with("session 1 (2026-12-06 10:00): Sunday"),
        "{message}"
    );
    // With the owner from the next Monday: booked.
    let kim_booked = store
        .book_plan(
            &c.front_desk,
            &PlanBooking {
                practitioner_id: Some(c.owner.user_id()),
                ..again
            },
            &rules,
        )
        .await
        .unwrap();
    assert_eq!(kim_booked.len(), planned.len());
}

pub async fn a_move_keeps_the_rules_and_is_in_the_history(store: &Store) {
    let c = clinic(store, "Moves").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let rules = rules();
    let first = store
        .book(
            &c.front_desk,
            &visit(sam.id, &c.practitioner, datetime!(2026-12-07 10:00 UTC), 120),
            &rules,
        )
        .await
        .unwrap();
    let second = store
        .book(
            &c.front_desk,
            &visit(sam.id, &c.practitioner, datetime!(2026-12-21 10:00 UTC), 120),
            &rules,
        )
        .await
        .unwrap();
    let to = |at| AppointmentMove {
        starts_at: at,
        practitioner_id: None,
        room: None,
        override_reason: String::new(),
    };
    // Too soon after session 1.
    let (field, message) = invalid(
        store
            .move_appointment(
                &c.front_desk,
                second.id,
                &to(datetime!(2026-12-14 10:00 UTC)),
                &rules,
            )
            .await,
    );
    assert_eq!(field, "starts_at");
    assert!(
        message.contains("7 days after the client's session on 2026-12-07"),
        "{message}"
    );
    // Its own old time does not count against it.
    let moved = store
        .move_appointment(
            &c.front_desk,
            second.id,
            &to(datetime!(2026-12-22 14:00 UTC)),
            &rules,
        )
        .await
        .unwrap();
    assert_eq!(moved.starts_at, datetime!(2026-12-22 14:00 UTC));
    assert_eq!(
        moved.history.last().unwrap().what,
        "moved from 2026-12-21 10:00 to 2026-12-22 14:00"
    );
    let stored = store.appointment(&c.front_desk, second.id).await.unwrap();
    assert_eq!(stored, moved);
    // To another practitioner's column.
    let to_owner = store
        .move_appointment(
            &c.front_desk,
            first.id,
            &AppointmentMove {
                practitioner_id: Some(c.owner.user_id()),
                ..to(datetime!(2026-12-07 11:00 UTC))
            },
            &rules,
        )
        .await
        .unwrap();
    assert_eq!(to_owner.practitioner_id, Some(c.owner.user_id()));
    // A completed appointment stays where it was.
    store
        .set_appointment_status(&c.front_desk, first.id, AppointmentStatus::Completed)
        .await
        .unwrap();
    let (field, _) = invalid(
        store
            .move_appointment(
                &c.front_desk,
                first.id,
                &to(datetime!(2026-12-08 11:00 UTC)),
                &rules,
            )
            .await,
    );
    assert_eq!(field, "status");
}

pub async fn statuses_move_forward_with_who_and_when(store: &Store) {
    let c = clinic(store, "Statuses").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let rules = rules();
    let a = store
        .book(
            &c.front_desk,
            &visit(sam.id, &c.practitioner, datetime!(2026-12-07 10:00 UTC), 60),
            &rules,
        )
        .await
        .unwrap();
    use AppointmentStatus::*;
    let confirmed = store
        .set_appointment_status(&c.front_desk, a.id, Confirmed)
        .await
        .unwrap();
    let arrived = store
        .set_appointment_status(&c.front_desk, a.id, Arrived)
        .await
        .unwrap();
    // The same status again changes nothing.
    assert_eq!(
        store
            .set_appointment_status(&c.front_desk, a.id, Arrived)
            .await
            .unwrap(),
        arrived
    );
    let (field, message) = invalid(store.set_appointment_status(&c.front_desk, a.id, NoShow).await);
    assert_eq!(field, "status");
    assert_eq!(
        message,
        "the appointment is arrived: it can become completed, cancelled, not no_show"
    );
    let completed = store
        .set_appointment_status(&c.practitioner, a.id, Completed)
        .await
        .unwrap();
    let (_, message) = invalid(store.set_appointment_status(&c.front_desk, a.id, Cancelled).await);
    assert_eq!(
        message,
        "the appointment is completed, which is final; book a new one"
    );
    let whats: Vec<&str> = completed.history.iter().map(|h| h.what.as_str()).collect();
    assert_eq!(whats, ["booked", "confirmed", "arrived", "completed"]);
    let whos: Vec<Uuid> = completed.history.iter().map(|h| h.by).collect();
    assert_eq!(
        whos,
        [
            c.front_desk.user_id(),
            c.front_desk.user_id(),
            c.front_desk.user_id(),
            c.practitioner.user_id()
        ]
    );
    assert!(completed.history.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(confirmed.history.len(), 2);
    assert_eq!(store.appointment(&c.owner, a.id).await.unwrap(), completed);
    assert!(may_become(Booked, Completed) && may_become(Booked, NoShow) && !may_become(Confirmed, Booked));
}

pub async fn the_session_logged_from_its_appointment_completes_it_and_takes_the_stock(store: &Store) {
    let c = clinic(store, "Chair").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let (consult, _) = store
        .add_consultation(&c.practitioner, &consultation(sam.id, "V"), None)
        .await
        .unwrap();
    let rules = rules();
    let booked = store
        .book_plan(
            &c.front_desk,
            &PlanBooking {
                consultation_id: consult.id,
                practitioner_id: Some(c.practitioner.user_id()),
                first_starts_at: datetime!(2026-12-07 10:00 UTC),
                room: None,
                override_reason: String::new(),
            },
            &rules,
        )
        .await
        .unwrap();
    // The planned session behind the appointment, for the form.
    let (planned, zones) = store
        .planned_session(&c.practitioner, &booked[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(planned.index, 1);
    assert_eq!(planned, consult.plan.sessions[0]);
    assert_eq!(
        zones,
        consult
            .plan
            .zones
            .iter()
            .map(|z| z.zone.clone())
            .collect::<Vec<_>>()
    );
    let p = pigments(store, &c.practitioner).await;
    let log = |units| NewSessionLog {
        appointment_id: Some(booked[0].id),
        dilution: 1.0 - planned.pigment_dilution,
        chair: AtTheChair {
            pigment_units: units,
            batch_override: String::new(),
        },
        ..session(sam.id, &c.practitioner, p.fresh.id, date!(2026 - 12 - 07))
    };
    // More than the stock: refused, nothing changed.
    let (field, message) = invalid(store.log_session(&c.practitioner, &log(5)).await);
    assert_eq!(field, "pigment_units");
    assert_eq!(
        message,
        "lot SB2-2611 has 3 in stock, fewer than the 5 used: record the stock first (Pigments)"
    );
    assert!(
        store
            .session_logs(&c.practitioner, sam.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .appointment(&c.front_desk, booked[0].id)
            .await
            .unwrap()
            .status,
        AppointmentStatus::Booked
    );
    let logged = store.log_session(&c.practitioner, &log(2)).await.unwrap();
    assert!(logged.warnings.is_empty());
    assert_eq!(
        store.pigment_batch(&c.owner, p.fresh.id).await.unwrap().quantity,
        1
    );
    let done = store.appointment(&c.front_desk, booked[0].id).await.unwrap();
    assert_eq!(done.status, AppointmentStatus::Completed);
    let last = done.history.last().unwrap();
    assert_eq!(
        (last.what.as_str(), last.by),
        ("completed (session logged)", c.practitioner.user_id())
    );
    let kept = store.session_log(&c.practitioner, logged.id).await.unwrap();
    assert_eq!((kept.pigment_units, kept.appointment_id), (2, Some(booked[0].id)));
    // Its appointment is done: a second log of it is refused, naming it.
    let (field, message) = invalid(store.log_session(&c.practitioner, &log(0)).await);
    assert_eq!(field, "appointment_id");
    assert_eq!(
        message,
        "the appointment is completed, which is final; book a new one"
    );
}

pub async fn an_expired_or_recalled_batch_is_refused_at_the_chair_unless_overridden(store: &Store) {
    let c = clinic(store, "Recall").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let p = pigments(store, &c.practitioner).await;
    let recalled = store
        .recall_batch(
            &c.owner,
            p.fresh.id,
            date!(2026 - 12 - 01),
            "maker's notice 2026-17: microbial contamination",
        )
        .await
        .unwrap();
    assert_eq!(recalled.recalled_on, Some(date!(2026 - 12 - 01)));
    assert_err_forbidden(
        store
            .recall_batch(&c.front_desk, p.fresh.id, date!(2026 - 12 - 01), "x")
            .await,
    );
    // Before the recall the batch was fine.
    store
        .log_session(
            &c.practitioner,
            &session(sam.id, &c.practitioner, p.fresh.id, date!(2026 - 11 - 20)),
        )
        .await
        .unwrap();
    let on_the_day = session(sam.id, &c.practitioner, p.fresh.id, date!(2026 - 12 - 02));
    let (field, message) = invalid(store.log_session(&c.practitioner, &on_the_day).await);
    assert_eq!(field, "batch_id");
    assert_eq!(
        message,
        "lot SB2-2611 is under recall since 2026-12-01 (maker's notice 2026-17: microbial contamination): such a batch \
         is refused at the chair; choose another batch, or give the reason to use it all the same (batch_override)"
    );
    let overridden = NewSessionLog {
        chair: AtTheChair {
            pigment_units: 1,
            batch_override: "the client's own sealed bottle, lot checked with the maker".into(),
        },
        ..on_the_day
    };
    let logged = store.log_session(&c.practitioner, &overridden).await.unwrap();
    assert!(logged.warnings.is_empty(), "a recall is not an expiry");
    assert_eq!(
        store
            .session_log(&c.practitioner, logged.id)
            .await
            .unwrap()
            .batch_override,
        "the client's own sealed bottle, lot checked with the maker"
    );
    let audit = store.audit_log(&c.owner, sam.id).await.unwrap();
    assert!(
        audit.iter().any(|e| e.detail
            == "session 2026-12-02: batch override (lot SB2-2611 is under recall since 2026-12-01 (maker's notice \
                2026-17: microbial contamination)): the client's own sealed bottle, lot checked with the maker"),
        "{audit:?}"
    );
}

fn assert_err_forbidden<T: std::fmt::Debug>(result: StoreResult<T>) {
    assert!(matches!(result, Err(StoreError::Forbidden { .. })), "{result:?}");
}

pub async fn a_room_is_booked_once_at_a_time_unless_overridden(store: &Store) {
    let c = clinic(store, "Rooms").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let kim = client_named(store, &c, "Kim Park").await;
    let rules = rules_with_rooms();
    let first = store
        .book(
            &c.front_desk,
            &in_room(
                visit(sam.id, &c.practitioner, datetime!(2026-12-07 10:00 UTC), 150),
                "Room 1",
            ),
            &rules,
        )
        .await
        .unwrap();
    assert_eq!(first.room.as_deref(), Some("Room 1"));
    // Another practitioner, free then, in the same room: refused naming the appointment there.
    let clashing = in_room(
        visit(kim.id, &c.owner, datetime!(2026-12-07 12:00 UTC), 60),
        "Room 1",
    );
    match store.book(&c.front_desk, &clashing, &rules).await {
        Err(StoreError::Conflict { message }) => {
            assert_eq!(
                message,
                format!(
                    "Room 1 is already booked then: Sam Ólafsson's session on 2026-12-07 10:00–12:30 (appointment {}). \
                     Choose another time or room, or book anyway with a reason (override_reason)",
                    first.id
                )
            );
            assert!(message.contains(ROOM_CLASH), "{message}");
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // The other room is free (named without case, kept as the settings spell it); back to back
    // is no clash.
    let other_room = store
        .book(&c.front_desk, &in_room(clashing.clone(), "room 2"), &rules)
        .await
        .unwrap();
    assert_eq!(other_room.room.as_deref(), Some("Room 2"));
    assert_eq!(
        store.appointment(&c.front_desk, other_room.id).await.unwrap(),
        other_room
    );
    let lee = client_named(store, &c, "Lee").await;
    store
        .book(
            &c.front_desk,
            &in_room(
                visit(lee.id, &c.practitioner, datetime!(2026-12-07 12:30 UTC), 30),
                "Room 1",
            ),
            &rules,
        )
        .await
        .unwrap();
    // No room: no clash with a room.
    let noor = client_named(store, &c, "Noor").await;
    let roomless = store
        .book(
            &c.front_desk,
            &visit(noor.id, &c.owner, datetime!(2026-12-08 11:00 UTC), 30),
            &rules,
        )
        .await
        .unwrap();
    assert_eq!(roomless.room, None);
    // Overridden with a reason: booked, the reason in its history and the audit log.
    let ravi = client_named(store, &c, "Ravi").await;
    let overridden = store
        .book(
            &c.front_desk,
            &NewBooking {
                override_reason: "a quick look at the healed hairline".into(),
                ..in_room(
                    visit(ravi.id, &c.owner, datetime!(2026-12-07 11:00 UTC), 30),
                    "Room 1",
                )
            },
            &rules,
        )
        .await
        .unwrap();
    let note = format!(
        "override: Room 1 double-booked over appointment {} (a quick look at the healed hairline)",
        first.id
    );
    assert_eq!(overridden.history.len(), 2);
    assert_eq!(overridden.history[1].what, note);
    assert_eq!(overridden.history[1].by, c.front_desk.user_id());
    assert_eq!(
        store
            .appointment(&c.front_desk, overridden.id)
            .await
            .unwrap()
            .history,
        overridden.history
    );
    let audit = store.audit_log(&c.owner, ravi.id).await.unwrap();
    assert!(
        audit.iter().any(|e| e.detail == format!("appointment {note}")),
        "{audit:?}"
    );
    // Moving into a busy room is refused; into a free one, it is in the history.
    let to_room_1 = AppointmentMove {
        starts_at: datetime!(2026-12-07 11:30 UTC),
        practitioner_id: None,
        room: Some("Room 1".into()),
        override_reason: String::new(),
    };
    match store
        .move_appointment(&c.front_desk, other_room.id, &to_room_1, &rules)
        .await
    {
        Err(StoreError::Conflict { message }) => {
            assert!(
                message.starts_with("Room 1 is already booked then: Sam Ólafsson's session"),
                "{message}"
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    let moved = store
        .move_appointment(
            &c.front_desk,
            other_room.id,
            &AppointmentMove {
                starts_at: datetime!(2026-12-07 14:00 UTC),
                ..to_room_1.clone()
            },
            &rules,
        )
        .await
        .unwrap();
    assert_eq!(moved.room.as_deref(), Some("Room 1"));
    assert_eq!(
        moved.history.last().unwrap().what,
        "moved from 2026-12-07 12:00 to 2026-12-07 14:00, from Room 2 to Room 1"
    );
    assert_eq!(store.appointment(&c.front_desk, moved.id).await.unwrap(), moved);
    // A move that names no room keeps it, and is checked against it.
    match store
        .move_appointment(
            &c.front_desk,
            moved.id,
            &AppointmentMove {
                starts_at: datetime!(2026-12-07 10:00 UTC),
                room: None,
                ..to_room_1.clone()
            },
            &rules,
        )
        .await
    {
        Err(StoreError::Conflict { message }) => {
            assert!(message.starts_with("Room 1 is already booked"), "{message}")
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // A cancelled appointment holds no room.
    store
        .set_appointment_status(&c.front_desk, first.id, AppointmentStatus::Cancelled)
        .await
        .unwrap();
    store
        .move_appointment(
            &c.front_desk,
            moved.id,
            &AppointmentMove {
                starts_at: datetime!(2026-12-07 10:00 UTC),
                room: None,
                ..to_room_1
            },
            &rules,
        )
        .await
        .unwrap();
    // A plan's sessions in a room, all of them; over a busy room, none.
    let (consult, _) = store
        .add_consultation(&c.practitioner, &consultation(sam.id, "V"), None)
        .await
        .unwrap();
    let plan = PlanBooking {
        consultation_id: consult.id,
        practitioner_id: Some(c.practitioner.user_id()),
        room: Some("Room 2".into()),
        first_starts_at: datetime!(2026-12-09 10:00 UTC),
        override_reason: String::new(),
    };
    let booked = store.book_plan(&c.front_desk, &plan, &rules).await.unwrap();
    assert!(booked.len() > 1);
    assert!(
        booked.iter().all(|a| a.room.as_deref() == Some("Room 2")),
        "{booked:?}"
    );
    let ada = client_named(store, &c, "Ada").await;
    let (ada_consult, _) = store
        .add_consultation(&c.practitioner, &consultation(ada.id, "V"), None)
        .await
        .unwrap();
    match store
        .book_plan(
            &c.front_desk,
            &PlanBooking {
                consultation_id: ada_consult.id,
                practitioner_id: Some(c.owner.user_id()),
                ..plan
            },
            &rules,
        )
        .await
    {
        Err(StoreError::Conflict { message }) => {
            assert!(
                message.starts_with("session 1 (2026-12-09 10:00): Room 2 is already booked then"),
                "{message}"
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert!(
        store
            .client_appointments(&c.front_desk, ada.id)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn a_room_not_of_the_clinic_is_refused_naming_its_rooms(store: &Store) {
    let c = clinic(store, "Unknown rooms").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let booking = in_room(
        visit(sam.id, &c.practitioner, datetime!(2026-12-07 10:00 UTC), 60),
        "Room 9",
    );
    let (field, message) = invalid(store.book(&c.front_desk, &booking, &rules_with_rooms()).await);
    assert_eq!(field, "room");
    assert_eq!(
        message,
        "\"Room 9\" is not a room of the clinic; choose one of Room 1, Room 2 (diary.rooms)"
    );
    // A clinic with one room lists none.
    let (field, message) = invalid(store.book(&c.front_desk, &booking, &rules()).await);
    assert_eq!(field, "room");
    assert!(message.contains("it lists no rooms (diary.rooms)"), "{message}");
    // A move names a room of the clinic too; nothing was booked or moved.
    let booked = store
        .book(&c.front_desk, &in_room(booking, "Room 1"), &rules_with_rooms())
        .await
        .unwrap();
    let (field, message) = invalid(
        store
            .move_appointment(
                &c.front_desk,
                booked.id,
                &AppointmentMove {
                    starts_at: datetime!(2026-12-08 10:00 UTC),
                    practitioner_id: None,
                    room: Some("Cellar".into()),
                    override_reason: String::new(),
                },
                &rules_with_rooms(),
            )
            .await,
    );
    assert_eq!(field, "room");
    assert!(
        message.starts_with("\"Cellar\" is not a room of the clinic"),
        "{message}"
    );
    assert_eq!(store.appointment(&c.front_desk, booked.id).await.unwrap(), booked);
}

/// Eight bookings of one room at one time, sent at once from two desks (no practitioner, so
/// only the room's lock orders them): exactly one is booked, the others refused.
pub async fn two_bookings_of_one_room_at_once_cannot_both_pass(store: &Store) {
    let c = clinic(store, "Busy room").await;
    let rules = rules_with_rooms();
    // The clients first: only the bookings run at once.
    let mut clients = Vec::new();
    for i in 0..8 {
        clients.push(client_named(store, &c, &format!("Client {i}")).await);
    }
    let mut tasks = Vec::new();
    for (i, client) in (0..).zip(clients) {
        let actor = if i % 2 == 0 { c.front_desk } else { c.owner };
        let store = store.clone();
        let rules = rules.clone();
        let booking = NewBooking {
            appointment: NewAppointment {
                client_id: client.id,
                practitioner_id: None,
                starts_at: datetime!(2026-12-07 10:00 UTC) + time::Duration::minutes(5 * i),
                duration_minutes: 60,
                notes: String::new(),
            },
            kind: AppointmentKind::Consultation,
            room: Some("Room 1".into()),
            override_reason: String::new(),
        };
        tasks.push(tokio::spawn(
            async move { store.book(&actor, &booking, &rules).await },
        ));
    }
    let (mut booked, mut refused) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => booked += 1,
            Err(StoreError::Conflict { message }) => {
                assert!(message.starts_with("Room 1 is already booked then"), "{message}");
                refused += 1;
            }
            Err(other) => panic!("expected a booking or a conflict, got {other:?}"),
        }
    }
    assert_eq!((booked, refused), (1, 7));
}
