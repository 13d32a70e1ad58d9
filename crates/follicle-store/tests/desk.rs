//! Keeping the clients right and the calendar feeds (issue 14, items 5 and 6) on both
//! backends: phone numbers and emails checked with the field, the value and the rule; likely
//! duplicates by email, phone digits, or name and date of birth; a merge that moves every
//! record in one transaction, audited, refused across clinics; feeds made, read by their
//! secret, renewed and revoked.

use follicle_store::*;
use time::macros::date;
use uuid::Uuid;

use crate::contract::{consultation, new_sam};
use crate::rights::{full_record, unzip};
use crate::support::clinic;

fn client(name: &str, phone: &str, email: &str) -> NewClient {
    NewClient {
        name: name.into(),
        phone: phone.into(),
        email: email.into(),
        ..NewClient::default()
    }
}

fn invalid<T: std::fmt::Debug>(result: StoreResult<T>) -> (&'static str, String) {
    match result {
        Err(StoreError::Invalid { field, message }) => (field, message),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

pub async fn phones_and_emails_are_checked(store: &Store) {
    let c = clinic(store, "Checks").await;
    for phone in [
        "+44 20 7946 0000",
        "(020) 7946-0000",
        "555.010.1234",
        "+1 555 0100 / 22",
    ] {
        store
            .create_client(&c.front_desk, &client("Fine", phone, ""))
            .await
            .unwrap_or_else(|e| panic!("{phone}: {e}"));
    }
    for phone in [
        "123",
        "call me",
        "+44 20 7946 0000 ext 2",
        "44+20 7946 0000",
        "1234567890123456",
    ] {
        let (field, message) = invalid(
            store
                .create_client(&c.front_desk, &client("Bad", phone, ""))
                .await,
        );
        assert_eq!(field, "phone");
        assert_eq!(
            message,
            format!(
                "expected a phone number of 7–15 digits, optionally starting with + and grouped with spaces, \
                 dashes, dots or brackets (like +44 20 7946 0000), got {phone:?}"
            )
        );
    }
    for email in [
        "sam@example",
        "sam @example.com",
        "sam@exa mple.com",
        "@example.com",
        "sam@.example.com",
        "sam@example..com",
        "sam@-example.com",
        "sam<x>@example.com",
        "sam@example.com.",
    ] {
        let (field, message) = invalid(
            store
                .create_client(&c.front_desk, &client("Bad", "", email))
                .await,
        );
        assert_eq!(field, "email");
        assert_eq!(
            message,
            format!(
                "expected an address like name@example.com (a name, @, and a domain with a dot, without spaces), \
                 got {:?}",
                email.to_lowercase()
            )
        );
    }
    for email in [
        "Sam.O+smp@Example.co.uk",
        "a@b.io",
        "anne-marie@xn--bcher-kva.example",
    ] {
        store
            .create_client(&c.front_desk, &client("Fine", "", email))
            .await
            .unwrap_or_else(|e| panic!("{email}: {e}"));
    }
    // Changing a client's details keeps the same rules.
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let (field, _) = invalid(
        store
            .update_client(
                &c.front_desk,
                sam.id,
                &NewClient {
                    phone: "12".into(),
                    ..new_sam()
                },
            )
            .await,
    );
    assert_eq!(field, "phone");
}

pub async fn likely_duplicates_by_email_phone_or_name_and_birth(store: &Store) {
    let c = clinic(store, "Duplicates").await;
    let other = clinic(store, "Elsewhere").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    store.create_client(&other.front_desk, &new_sam()).await.unwrap();
    let noone = store
        .likely_duplicates(
            &c.front_desk,
            &client("Ana Lopez", "+34 600 000 000", "ana@example.com"),
            None,
        )
        .await
        .unwrap();
    assert!(noone.is_empty(), "{noone:?}");
    let check = |new: NewClient, expected: Vec<&'static str>| {
        let desk = &c.front_desk;
        async move {
            let found = store.likely_duplicates(desk, &new, None).await.unwrap();
            assert_eq!(found.len(), 1, "{new:?}: {found:?}");
            assert_eq!(found[0].client.id, sam.id);
            assert_eq!(found[0].same, expected, "{new:?}");
        }
    };
    // The same address, in other capitals.
    check(
        client("S. Olafsson", "", "SAM.OLAFSSON@example.com"),
        vec!["email"],
    )
    .await;
    // The same digits, grouped otherwise.
    check(client("Samuel", "+44 0 7700-900.123", ""), vec!["phone"]).await;
    check(
        NewClient {
            name: "sam ólafsson".into(),
            date_of_birth: Some(date!(1984 - 03 - 02)),
            ..NewClient::default()
        },
        vec!["name and date of birth"],
    )
    .await;
    check(new_sam(), vec!["email", "phone", "name and date of birth"]).await;
    // The same name without a date of birth, or another birthday: not flagged.
    let same_name = store
        .likely_duplicates(
            &c.front_desk,
            &NewClient {
                name: "Sam Ólafsson".into(),
                date_of_birth: Some(date!(1990 - 01 - 01)),
                ..NewClient::default()
            },
            None,
        )
        .await
        .unwrap();
    assert!(same_name.is_empty(), "{same_name:?}");
    // A client is not their own duplicate when their details are changed.
    assert!(
        store
            .likely_duplicates(&c.front_desk, &new_sam(), Some(sam.id))
            .await
            .unwrap()
            .is_empty()
    );
    // Bad input is named, as at creation.
    let (field, _) = invalid(
        store
            .likely_duplicates(&c.front_desk, &client("X", "12", ""), None)
            .await,
    );
    assert_eq!(field, "phone");
}

pub async fn a_merge_moves_every_record_and_is_audited(store: &Store) {
    let c = clinic(store, "Merge").await;
    // The record kept has a consultation of its own; the duplicate has everything.
    let kept = store
        .create_client(
            &c.front_desk,
            &NewClient {
                email: String::new(),
                notes: String::new(),
                ..new_sam()
            },
        )
        .await
        .unwrap();
    store
        .add_consultation(&c.practitioner, &consultation(kept.id, "IV"), None)
        .await
        .unwrap();
    let (gone, photo) = full_record(store, &c, date!(2027 - 01 - 05)).await;
    store
        .add_consultation(&c.practitioner, &consultation(gone.id, "VI"), None)
        .await
        .unwrap();
    store
        .make_calendar_feed(&c.front_desk, FeedOwner::Client(gone.id))
        .await
        .unwrap();
    let before = store.export_client(&c.owner, gone.id).await.unwrap();

    // Only the owner merges; a client into itself or one of another clinic is refused.
    for actor in [&c.practitioner, &c.front_desk] {
        match store.merge_clients(actor, kept.id, gone.id).await {
            Err(StoreError::Forbidden {
                action: Action::DeleteClients,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }
    let (field, message) = invalid(store.merge_clients(&c.owner, kept.id, kept.id).await);
    assert_eq!(field, "merge_id");
    assert!(message.contains("cannot be merged into itself"), "{message}");
    let other = clinic(store, "Other").await;
    let foreign = store.create_client(&other.front_desk, &new_sam()).await.unwrap();
    for (a, b) in [
        (kept.id, foreign.id),
        (foreign.id, kept.id),
        (kept.id, Uuid::new_v4()),
    ] {
        match store.merge_clients(&c.owner, a, b).await {
            Err(StoreError::NotFound { what: "client" }) => {}
            other => panic!("{other:?}"),
        }
    }
    match store.merge_clients(&other.owner, foreign.id, gone.id).await {
        Err(StoreError::NotFound { what: "client" }) => {}
        other => panic!("{other:?}"),
    }

    let report = store.merge_clients(&c.owner, kept.id, gone.id).await.unwrap();
    assert_eq!(
        report.moved,
        vec![
            ("consultations", 2),
            ("designs", 1),
            ("appointments", 1),
            ("session_logs", 1),
            ("consents", 1),
            ("signed_consents", 1),
            ("intakes", 1),
            ("move_requests", 1),
            ("photos", 1),
            ("payments", 1)
        ]
    );
    assert_eq!(
        report.summary(),
        "2 consultations, 1 designs, 1 appointments, 1 session logs, 1 consents, 1 signed consents, 1 intakes, 1 move requests, 1 photos, 1 payments"
    );
    // The kept record's empty email and notes are filled from the other's.
    let merged = report.kept.clone().unwrap();
    assert_eq!(merged.email, "sam.olafsson@example.com");
    assert_eq!(merged.notes, new_sam().notes);
    assert_eq!(merged.phone, kept.phone);
    // The other record is gone, everything of it is the kept client's, numbered after its own.
    match store.client(&c.owner, gone.id).await {
        Err(StoreError::NotFound { what: "client" }) => {}
        other => panic!("{other:?}"),
    }
    let after = store.export_client(&c.owner, kept.id).await.unwrap();
    let versions: Vec<i64> = after.consultations.iter().map(|v| v.version).collect();
    assert_eq!(versions, vec![1, 2, 3]);
    assert_eq!(after.designs.len(), before.designs.len());
    assert_eq!(after.appointments.len(), before.appointments.len());
    assert_eq!(after.sessions.len(), before.sessions.len());
    assert_eq!(after.consents.len(), before.consents.len());
    assert_eq!(after.photos.len(), 1);
    assert_eq!(after.photos[0].id, photo.id);
    // The photo's bytes still answer.
    store.photo(&c.owner, photo.id).await.unwrap();
    // Nothing in the clinic names the merged client any more but the audit trail.
    let archive = unzip(&store.export_clinic_archive(&c.owner).await.unwrap());
    for (name, bytes) in &archive {
        if name == "csv/audit_trail.csv" {
            continue;
        }
        let mut text = String::from_utf8_lossy(bytes).into_owned();
        if name == "record.json" {
            // The clinic's audit log and each client's trail are the audit trail too.
            let mut record: serde_json::Value = serde_json::from_str(&text).unwrap();
            record.as_object_mut().unwrap().remove("audit_log");
            for client in record["clients"].as_array_mut().unwrap() {
                client.as_object_mut().unwrap().remove("audit_trail");
            }
            text = record.to_string();
        }
        assert!(
            !text.contains(&gone.id.to_string()),
            "{name} still names the merged client"
        );
    }
    // Both trails say what moved.
    let trail = store.audit_log(&c.owner, kept.id).await.unwrap();
    assert!(
        trail.iter().any(|e| e.action == AuditAction::Changed
            && e.detail.starts_with(&format!(
                "merged client {} (Sam Ólafsson) into this record: 2 consultations",
                gone.id
            ))),
        "{trail:?}"
    );
    let trail = store.audit_log(&c.owner, gone.id).await.unwrap();
    assert!(
        trail.iter().any(|e| e.action == AuditAction::Deleted
            && e.detail.starts_with(&format!("merged into client {}", kept.id))),
        "{trail:?}"
    );
}

pub async fn calendar_feeds_are_made_read_renewed_and_revoked(store: &Store) {
    let c = clinic(store, "Feeds").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let ben = store
        .create_client(&c.front_desk, &client("Ben Moss", "", ""))
        .await
        .unwrap();
    let book = |client_id, at, notes: &str| NewAppointment {
        client_id,
        practitioner_id: Some(c.practitioner.user_id()),
        starts_at: at,
        duration_minutes: 120,
        notes: notes.into(),
    };
    let far = time::OffsetDateTime::now_utc().date() + time::Duration::days(30);
    let at = |h| far.with_hms(h, 0, 0).unwrap().assume_utc();
    let first = store
        .book_appointment(&c.front_desk, &book(sam.id, at(10), "allergic to latex"))
        .await
        .unwrap();
    store
        .book_appointment(&c.front_desk, &book(ben.id, at(14), ""))
        .await
        .unwrap();
    let cancelled = store
        .book_appointment(&c.front_desk, &book(sam.id, at(16), ""))
        .await
        .unwrap();
    store
        .set_appointment_status(&c.front_desk, cancelled.id, AppointmentStatus::Cancelled)
        .await
        .unwrap();

    // None yet; the front desk makes the client's, the practitioner their own.
    assert_eq!(
        store
            .calendar_feed(&c.front_desk, FeedOwner::Client(sam.id))
            .await
            .unwrap(),
        None
    );
    let token = store
        .make_calendar_feed(&c.front_desk, FeedOwner::Client(sam.id))
        .await
        .unwrap();
    assert!(
        store
            .calendar_feed(&c.front_desk, FeedOwner::Client(sam.id))
            .await
            .unwrap()
            .is_some()
    );
    let feed = store
        .calendar_feed_by_token(token.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(feed.owner, FeedOwner::Client(sam.id));
    assert_eq!(feed.clinic_name, "Feeds");
    let ids: Vec<Uuid> = feed.events.iter().map(|e| e.id).collect();
    assert_eq!(ids, vec![first.id], "the client's visits, not the cancelled one");
    assert_eq!(
        feed.events[0].practitioner_name.as_deref(),
        Some("practitioner of Feeds")
    );

    let mine = store
        .make_calendar_feed(&c.practitioner, FeedOwner::User(c.practitioner.user_id()))
        .await
        .unwrap();
    let feed = store
        .calendar_feed_by_token(mine.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        feed.events.len(),
        2,
        "both clients' visits with this practitioner"
    );

    // A colleague's feed is the owner's to make; another clinic's client is not found.
    match store
        .make_calendar_feed(&c.front_desk, FeedOwner::User(c.practitioner.user_id()))
        .await
    {
        Err(StoreError::Forbidden {
            action: Action::ManageUsers,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    let other = clinic(store, "Other feeds").await;
    match store
        .make_calendar_feed(&other.front_desk, FeedOwner::Client(sam.id))
        .await
    {
        Err(StoreError::NotFound { what: "client" }) => {}
        other => panic!("{other:?}"),
    }
    match store
        .make_calendar_feed(&other.owner, FeedOwner::User(c.practitioner.user_id()))
        .await
    {
        Err(StoreError::NotFound { what: "user" }) => {}
        other => panic!("{other:?}"),
    }

    // Renewed: the old address stops at once, the new one answers.
    let renewed = store
        .make_calendar_feed(&c.owner, FeedOwner::Client(sam.id))
        .await
        .unwrap();
    assert_ne!(renewed.as_str(), token.as_str());
    assert!(
        store
            .calendar_feed_by_token(token.as_str())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .calendar_feed_by_token(renewed.as_str())
            .await
            .unwrap()
            .is_some()
    );
    // Revoked: nothing answers.
    assert!(
        store
            .revoke_calendar_feed(&c.front_desk, FeedOwner::Client(sam.id))
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_calendar_feed(&c.front_desk, FeedOwner::Client(sam.id))
            .await
            .unwrap()
    );
    assert!(
        store
            .calendar_feed_by_token(renewed.as_str())
            .await
            .unwrap()
            .is_none()
    );
    // Unknown and malformed secrets answer nothing.
    for bad in ["", "zz", &"0".repeat(64), &"a".repeat(500)] {
        assert!(
            store.calendar_feed_by_token(bad).await.unwrap().is_none(),
            "{bad}"
        );
    }
    // A deactivated practitioner's feed stops.
    store
        .update_user(&c.owner, c.practitioner.user_id(), Role::Practitioner, false)
        .await
        .unwrap();
    assert!(
        store
            .calendar_feed_by_token(mine.as_str())
            .await
            .unwrap()
            .is_none()
    );
    // The trail says who made and revoked the client's feed.
    let trail = store.audit_log(&c.owner, sam.id).await.unwrap();
    for detail in [
        "calendar feed made",
        "calendar feed renewed (the old address stopped)",
        "calendar feed revoked",
    ] {
        assert!(trail.iter().any(|e| e.detail == detail), "{detail}: {trail:?}");
    }
    // Erasure takes the feed with the client's contact details.
    let bens = store
        .make_calendar_feed(&c.front_desk, FeedOwner::Client(ben.id))
        .await
        .unwrap();
    store
        .erase_client(&c.owner, ben.id, date!(2027 - 01 - 01))
        .await
        .unwrap();
    assert!(
        store
            .calendar_feed_by_token(bens.as_str())
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn the_owners_report_counts_sessions_revenue_no_shows_deposits_and_batches(store: &Store) {
    use crate::contract::{pigments, session};
    let c = clinic(store, "Reports").await;
    let rules = DiaryRules::from_settings(
        &follicle_core::Settings::default(),
        time::macros::datetime!(2026-12-01 08:00 UTC),
    );
    // Sam: a plan booked from its consultation, session 1 logged from its appointment.
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let (consult, _) = store
        .add_consultation(&c.practitioner, &consultation(sam.id, "V"), None)
        .await
        .unwrap();
    let quote = consult.plan.quote.clone().unwrap();
    let booked = store
        .book_plan(
            &c.front_desk,
            &PlanBooking {
                consultation_id: consult.id,
                practitioner_id: Some(c.practitioner.user_id()),
                first_starts_at: time::macros::datetime!(2026-12-07 10:00 UTC),
                room: None,
                override_reason: String::new(),
            },
            &rules,
        )
        .await
        .unwrap();
    let p = pigments(store, &c.practitioner).await;
    store
        .log_session(
            &c.practitioner,
            &NewSessionLog {
                appointment_id: Some(booked[0].id),
                chair: AtTheChair {
                    pigment_units: 2,
                    batch_override: String::new(),
                },
                ..session(sam.id, &c.practitioner, p.fresh.id, date!(2026 - 12 - 07))
            },
        )
        .await
        .unwrap();
    // Ben: a consultation, one session logged without an appointment (priced by line 1 of his
    // latest quote), a visit missed and one completed in November.
    let ben = store
        .create_client(&c.front_desk, &client("Ben Moss", "", ""))
        .await
        .unwrap();
    let (ben_plan, _) = store
        .add_consultation(&c.practitioner, &consultation(ben.id, "IV"), None)
        .await
        .unwrap();
    store
        .log_session(
            &c.practitioner,
            &session(ben.id, &c.practitioner, p.fresh.id, date!(2026 - 11 - 20)),
        )
        .await
        .unwrap();
    for (at, status) in [
        (
            time::macros::datetime!(2026-11-10 10:00 UTC),
            AppointmentStatus::NoShow,
        ),
        (
            time::macros::datetime!(2026-11-20 10:00 UTC),
            AppointmentStatus::Completed,
        ),
    ] {
        let a = store
            .book_appointment(
                &c.front_desk,
                &NewAppointment {
                    client_id: ben.id,
                    practitioner_id: Some(c.practitioner.user_id()),
                    starts_at: at,
                    duration_minutes: 60,
                    notes: String::new(),
                },
            )
            .await
            .unwrap();
        store
            .set_appointment_status(&c.front_desk, a.id, status)
            .await
            .unwrap();
    }
    // Ana: quoted and booked ahead, no session yet: her deposit is outstanding.
    let ana = store
        .create_client(&c.front_desk, &client("Ana Lopez", "", "ana@example.com"))
        .await
        .unwrap();
    let (ana_plan, _) = store
        .add_consultation(&c.practitioner, &consultation(ana.id, "III"), None)
        .await
        .unwrap();
    store
        .book_appointment(
            &c.front_desk,
            &NewAppointment {
                client_id: ana.id,
                practitioner_id: Some(c.practitioner.user_id()),
                starts_at: time::macros::datetime!(2027-01-12 10:00 UTC),
                duration_minutes: 180,
                notes: String::new(),
            },
        )
        .await
        .unwrap();

    // Only the owner reads it.
    for actor in [&c.practitioner, &c.front_desk] {
        match store.owner_report(actor, date!(2026 - 12 - 31), 3).await {
            Err(StoreError::Forbidden {
                action: Action::ViewReports,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }
    let (field, _) = invalid(store.owner_report(&c.owner, date!(2026 - 12 - 31), 0).await);
    assert_eq!(field, "months");

    let report = store
        .owner_report(&c.owner, date!(2026 - 12 - 31), 3)
        .await
        .unwrap();
    assert_eq!(report.currency, quote.currency);
    let months: Vec<_> = report
        .months
        .iter()
        .map(|m| {
            (
                m.month,
                m.sessions,
                m.revenue,
                m.unpriced,
                m.completed,
                m.no_shows,
            )
        })
        .collect();
    let ben_line_1 = ben_plan.plan.quote.as_ref().unwrap().lines[0].amount;
    assert_eq!(
        months,
        vec![
            (date!(2026 - 10 - 01), 0, 0, 0, 0, 0),
            (date!(2026 - 11 - 01), 1, ben_line_1, 0, 1, 1),
            (date!(2026 - 12 - 01), 1, quote.lines[0].amount, 0, 1, 0),
        ]
    );
    assert_eq!(report.months[1].no_show_percent(), Some(50.0));
    assert_eq!(report.months[0].no_show_percent(), None);
    // Ana's deposit is outstanding; Sam's first session is done, so his is not.
    let deposits: Vec<_> = report
        .deposits
        .iter()
        .map(|d| (d.client_id, d.deposit, d.quote_number))
        .collect();
    assert_eq!(
        deposits,
        vec![(
            ana.id,
            ana_plan.plan.quote.as_ref().unwrap().deposit.unwrap(),
            ana_plan.quote_number
        )]
    );
    // Every batch, with what it was used for.
    let batches: Vec<_> = report
        .batches
        .iter()
        .map(|b| (b.lot.as_str(), b.sessions, b.units_used, b.in_stock, b.recalled))
        .collect();
    assert_eq!(
        batches,
        vec![("SB2-2501", 0, 0, 3, false), ("SB2-2611", 2, 2, 1, false)]
    );
    // Another clinic's report holds none of it.
    let other = clinic(store, "Other reports").await;
    let theirs = store
        .owner_report(&other.owner, date!(2026 - 12 - 31), 3)
        .await
        .unwrap();
    assert!(theirs.months.iter().all(|m| m.sessions == 0 && m.completed == 0));
    assert!(theirs.deposits.is_empty() && theirs.batches.is_empty());
}
