//! The client's own door: sign-in links (once, expiring, a few a day), portal sessions, the
//! client's own record, and consents signed with their evidence, refused when changed.

use follicle_core::settings::ConsentKind;
use follicle_store::testing::{forge_consent, forge_consent_pdf, try_to_change_consent};
use follicle_store::{LinkState, NewSignedConsent, PortalClient, SignedIn, Store, StoreError};
use time::{Duration, OffsetDateTime};

use crate::contract::{consultation, new_design, new_sam};
use crate::support::clinic;

both!(
    super;
    a_link_signs_in_once_and_runs_out,
    links_per_day_are_capped_and_sessions_end,
    the_portal_reads_only_its_own_client,
    a_signed_consent_keeps_its_evidence_and_a_changed_byte_shows,
    a_client_asks_to_move_a_visit_until_the_clinic_moves_it,
    a_typed_signature_is_the_name_on_record_and_holds_like_a_drawn_one,
    a_client_sends_photos_only_with_the_photographs_consent,
);

pub async fn a_link_signs_in_once_and_runs_out(store: &Store) {
    let c = clinic(store, "Links").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let (token, expires) = store
        .issue_portal_link(c.owner.clinic_id(), sam.id, Duration::minutes(30), 5)
        .await
        .unwrap()
        .expect("a first link");
    assert!(expires > OffsetDateTime::now_utc() + Duration::minutes(29));
    let LinkState::Valid(who) = store.portal_link(token.as_str()).await.unwrap() else {
        panic!("a fresh link works");
    };
    assert_eq!(who.client_id, sam.id);
    let session = store
        .redeem_portal_link(token.as_str(), Duration::days(30), "Test browser")
        .await
        .unwrap()
        .expect("the link signs in");
    assert_eq!(session.client.client_id, sam.id);
    assert_eq!(
        store.portal_client(session.token.as_str()).await.unwrap(),
        Some(session.client.clone())
    );
    // Used once: the second try is refused, and says why.
    assert_eq!(
        store
            .redeem_portal_link(token.as_str(), Duration::days(30), "Test browser")
            .await
            .unwrap()
            .err(),
        Some(LinkState::Used)
    );
    assert_eq!(
        store.portal_link("not-a-token").await.unwrap(),
        LinkState::Unknown
    );
    // A link that ran out.
    let (old, _) = store
        .issue_portal_link(c.owner.clinic_id(), sam.id, Duration::seconds(-1), 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.portal_link(old.as_str()).await.unwrap(), LinkState::Expired);
    assert_eq!(
        store
            .redeem_portal_link(old.as_str(), Duration::days(30), "x")
            .await
            .unwrap()
            .err(),
        Some(LinkState::Expired)
    );
}

pub async fn links_per_day_are_capped_and_sessions_end(store: &Store) {
    let c = clinic(store, "Capped").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    for _ in 0..3 {
        assert!(
            store
                .issue_portal_link(c.owner.clinic_id(), sam.id, Duration::minutes(30), 3)
                .await
                .unwrap()
                .is_some()
        );
    }
    assert!(
        store
            .issue_portal_link(c.owner.clinic_id(), sam.id, Duration::minutes(30), 3)
            .await
            .unwrap()
            .is_none(),
        "the fourth link of the day is not made"
    );
    let found = store.clients_with_email(&sam.email.to_uppercase()).await.unwrap();
    assert_eq!(found, vec![(c.owner.clinic_id(), sam.id)]);
}

pub async fn the_portal_reads_only_its_own_client(store: &Store) {
    let c = clinic(store, "Own").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let mut other = new_sam();
    other.name = "Alex Other".into();
    other.email = "alex.other@example.com".into();
    let alex = store.create_client(&c.front_desk, &other).await.unwrap();
    store
        .add_consultation(
            &c.practitioner,
            &consultation(sam.id, "V"),
            Some(&new_design(sam.id, None, 3)),
        )
        .await
        .unwrap();
    store
        .add_consultation(&c.practitioner, &consultation(alex.id, "VI"), None)
        .await
        .unwrap();
    let me = signed_in(store, c.owner.clinic_id(), sam.id).await;
    let own = store.own_record(&me).await.unwrap();
    assert_eq!(own.client.id, sam.id);
    assert!(own.client.notes.is_empty());
    assert_eq!(own.consultations.len(), 1);
    assert!(own.consultations.iter().all(|x| x.client_id == sam.id));
    assert_eq!(own.designs.len(), 1);
    // A consent of another client is not found through this client's portal.
    let mut forged = me.clone();
    forged.client_id = alex.id;
    assert!(store.own_consents(&me).await.unwrap().is_empty());
    assert!(matches!(
        store.own_consent(&me, uuid::Uuid::new_v4()).await,
        Err(StoreError::NotFound { .. })
    ));
}

/// The client signed in to their portal, through a link as the mail carries it.
pub(crate) async fn signed_in(store: &Store, clinic_id: uuid::Uuid, client_id: uuid::Uuid) -> PortalClient {
    let (token, _) = store
        .issue_portal_link(clinic_id, client_id, Duration::minutes(30), 5)
        .await
        .unwrap()
        .expect("a link");
    store
        .redeem_portal_link(token.as_str(), Duration::days(1), "b")
        .await
        .unwrap()
        .expect("the link signs in")
        .client
}

fn signed(client_id: uuid::Uuid, design: Option<(uuid::Uuid, i64)>) -> NewSignedConsent {
    NewSignedConsent {
        client_id,
        kind: ConsentKind::Procedure,
        template_version: "2026-12-1".into(),
        title: "Consent to scalp micropigmentation".into(),
        text: "SMP is a tattoo.\n\nRemoving SMP is difficult.".into(),
        design_id: design.map(|d| d.0),
        design_version: design.map(|d| d.1),
        quote_number: "Q-000002".into(),
        signer_name: "Sam Ólafsson".into(),
        signature: "10,10 20,30 40,35 60,20;100,50 120,60".into(),
        signed_at: OffsetDateTime::now_utc().replace_nanosecond(0).unwrap(),
        signed_in: SignedIn::Portal,
        address: "203.0.113.9".into(),
        user_agent: "Test browser".into(),
    }
}

pub async fn a_signed_consent_keeps_its_evidence_and_a_changed_byte_shows(store: &Store) {
    let c = clinic(store, "Consents").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let (_, design) = store
        .add_consultation(
            &c.practitioner,
            &consultation(sam.id, "V"),
            Some(&new_design(sam.id, None, 3)),
        )
        .await
        .unwrap();
    let design = design.unwrap();
    let me = signed_in(store, c.owner.clinic_id(), sam.id).await;

    // Refused: no signature, a design of nobody's, a treatment consent without a design.
    let mut blank = signed(sam.id, Some((design.id, design.version)));
    blank.signature = "5,5".into();
    let err = store
        .sign_own_consent(&me, &blank, b"%PDF-1.7")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("sign in the box"), "{err}");
    let no_design = signed(sam.id, None);
    let err = store
        .sign_own_consent(&me, &no_design, b"%PDF-1.7")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("design"), "{err}");

    let new = signed(sam.id, Some((design.id, design.version)));
    let pdf = b"%PDF-1.7 a signed copy".to_vec();
    let kept = store.sign_own_consent(&me, &new, &pdf).await.unwrap();
    assert_eq!(kept.signed, new);
    assert_eq!(
        kept.document_sha256,
        follicle_store::consent_digest(c.owner.clinic_id(), &new)
    );
    assert!(
        store
            .has_procedure_consent(c.owner.clinic_id(), sam.id, design.id)
            .await
            .unwrap()
    );
    let check = store.check_consent(&c.practitioner, kept.id).await.unwrap();
    assert!(check.document_intact && check.pdf_intact);
    assert_eq!(
        store
            .consent_of_pdf(&c.practitioner, &pdf)
            .await
            .unwrap()
            .map(|k| k.id),
        Some(kept.id)
    );
    assert_eq!(
        store
            .consent_of_pdf(&c.practitioner, b"%PDF-1.7 another")
            .await
            .unwrap(),
        None
    );

    // The database refuses a change.
    let refused = try_to_change_consent(store, kept.id).await;
    assert!(
        refused.as_deref().is_some_and(|e| e.contains("never changed")),
        "{refused:?}"
    );
    assert!(
        store
            .check_consent(&c.practitioner, kept.id)
            .await
            .unwrap()
            .document_intact
    );

    // Withdrawn: recorded beside it, the consent itself unchanged; not twice.
    store
        .withdraw_own_consent(&me, kept.id, "changed my mind")
        .await
        .unwrap();
    assert!(
        !store
            .has_procedure_consent(c.owner.clinic_id(), sam.id, design.id)
            .await
            .unwrap()
    );
    let after = store.own_consents(&me).await.unwrap();
    assert!(after[0].withdrawal.as_ref().is_some_and(|w| w.by_client));
    assert_eq!(after[0].document_sha256, kept.document_sha256);
    assert!(store.withdraw_own_consent(&me, kept.id, "again").await.is_err());

    // Someone with full access drops the guard and changes a byte: the check shows it.
    forge_consent(store, kept.id).await;
    let check = store.check_consent(&c.practitioner, kept.id).await.unwrap();
    assert!(!check.document_intact && check.pdf_intact, "{check:?}");
    forge_consent_pdf(store, kept.id).await;
    assert!(
        !store
            .check_consent(&c.practitioner, kept.id)
            .await
            .unwrap()
            .pdf_intact
    );
    // The copy the client was sent still proves itself against the record; a copy with one
    // byte changed does not.
    assert!(
        store
            .consent_of_pdf(&c.practitioner, &pdf)
            .await
            .unwrap()
            .is_some()
    );
    let mut changed = pdf.clone();
    changed[3] ^= 1;
    assert_eq!(
        store.consent_of_pdf(&c.practitioner, &changed).await.unwrap(),
        None
    );
}

/// A weekday (Tuesday to Friday) at least `days` ahead, at `hour`:00 on the diary's clock.
fn weekday_ahead(days: i64, hour: u8) -> OffsetDateTime {
    let mut d = OffsetDateTime::now_utc().date() + Duration::days(days);
    while !matches!(
        d.weekday(),
        time::Weekday::Tuesday | time::Weekday::Wednesday | time::Weekday::Thursday | time::Weekday::Friday
    ) {
        d = d.next_day().unwrap();
    }
    d.with_hms(hour, 0, 0).unwrap().assume_utc()
}

fn invalid_field<T: std::fmt::Debug>(r: Result<T, StoreError>) -> (&'static str, String) {
    match r {
        Err(StoreError::Invalid { field, message }) => (field, message),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

pub async fn a_client_asks_to_move_a_visit_until_the_clinic_moves_it(store: &Store) {
    use follicle_store::{AppointmentMove, AppointmentStatus, DiaryRules, MoveClosed, NewAppointment};
    let c = clinic(store, "Moves").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let mut other = new_sam();
    other.name = "Alex Other".into();
    other.email = "alex.other@example.com".into();
    let alex = store.create_client(&c.front_desk, &other).await.unwrap();
    let book = |client_id, starts_at| {
        let desk = &c.front_desk;
        let practitioner = c.practitioner.user_id();
        async move {
            store
                .book_appointment(
                    desk,
                    &NewAppointment {
                        client_id,
                        practitioner_id: Some(practitioner),
                        starts_at,
                        duration_minutes: 120,
                        notes: String::new(),
                    },
                )
                .await
                .unwrap()
        }
    };
    let visit = book(sam.id, weekday_ahead(20, 10)).await;
    let past = book(sam.id, weekday_ahead(-40, 10)).await;
    let cancelled = book(sam.id, weekday_ahead(60, 10)).await;
    store
        .set_appointment_status(&c.front_desk, cancelled.id, AppointmentStatus::Cancelled)
        .await
        .unwrap();
    let alex_visit = book(alex.id, weekday_ahead(30, 11)).await;
    let me = signed_in(store, c.owner.clinic_id(), sam.id).await;
    let now = OffsetDateTime::now_utc();
    let today = now.date();

    // Refused, naming the field: nothing said, too long, too many days, a day gone by.
    let (field, _) = invalid_field(store.ask_to_move_own_visit(&me, visit.id, "  ", &[], now).await);
    assert_eq!(field, "suits");
    let long = "a".repeat(301);
    let (field, message) = invalid_field(store.ask_to_move_own_visit(&me, visit.id, &long, &[], now).await);
    assert_eq!(
        (field, message.as_str()),
        ("suits", "at most 300 characters, got 301; say it in fewer words")
    );
    let four: Vec<_> = (1..=4).map(|n| today + Duration::days(n)).collect();
    let (field, _) = invalid_field(store.ask_to_move_own_visit(&me, visit.id, "", &four, now).await);
    assert_eq!(field, "preferred_days");
    let (field, message) = invalid_field(
        store
            .ask_to_move_own_visit(&me, visit.id, "", &[today - Duration::days(1)], now)
            .await,
    );
    assert_eq!(field, "preferred_days");
    assert!(message.contains("has passed"), "{message}");
    // A visit gone by, a cancelled one, another client's: refused, the last one not found.
    let (field, message) = invalid_field(store.ask_to_move_own_visit(&me, past.id, "later", &[], now).await);
    assert_eq!(field, "visit");
    assert!(message.contains("has begun or passed"), "{message}");
    let (_, message) = invalid_field(
        store
            .ask_to_move_own_visit(&me, cancelled.id, "later", &[], now)
            .await,
    );
    assert!(message.contains("this visit is cancelled"), "{message}");
    assert!(matches!(
        store
            .ask_to_move_own_visit(&me, alex_visit.id, "later", &[], now)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(
        store.own_move_requests(&me).await.unwrap().is_empty(),
        "nothing kept from a refusal"
    );

    // Asked: open in the portal and on the clinic's lists; asked again, the first is replaced.
    let first = store
        .ask_to_move_own_visit(&me, visit.id, "any afternoon", &[today + Duration::days(25)], now)
        .await
        .unwrap();
    assert!(first.is_open());
    let second = store
        .ask_to_move_own_visit(&me, visit.id, " mornings, not Mondays ", &[], now)
        .await
        .unwrap();
    assert_eq!(second.suits, "mornings, not Mondays");
    let own = store.own_move_requests(&me).await.unwrap();
    assert_eq!(own.iter().map(|r| r.id).collect::<Vec<_>>(), vec![second.id]);
    let all = store.move_requests_of(&c.front_desk, visit.id).await.unwrap();
    assert_eq!(all.len(), 2);
    let replaced = all.iter().find(|r| r.id == first.id).unwrap();
    assert_eq!(replaced.closed_how, Some(MoveClosed::Replaced));
    assert_eq!(replaced.preferred_days, vec![today + Duration::days(25)]);
    let open = store.open_move_requests(&c.front_desk).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].0.id, open[0].1), (second.id, visit.starts_at));

    // Another clinic neither sees nor dismisses it.
    let elsewhere = clinic(store, "Elsewhere").await;
    assert!(
        store
            .open_move_requests(&elsewhere.front_desk)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store.dismiss_move_request(&elsewhere.front_desk, second.id).await,
        Err(StoreError::NotFound { .. })
    ));

    // Dismissed by the front desk: closed, with who; a second dismissal is refused.
    let dismissed = store
        .dismiss_move_request(&c.front_desk, second.id)
        .await
        .unwrap();
    assert_eq!(dismissed.closed_how, Some(MoveClosed::Dismissed));
    assert_eq!(dismissed.closed_by, Some(c.front_desk.user_id()));
    assert!(store.own_move_requests(&me).await.unwrap().is_empty());
    let (field, message) = invalid_field(store.dismiss_move_request(&c.front_desk, second.id).await);
    assert_eq!(
        (field, message.as_str()),
        ("move_request", "this request was closed already (dismissed)")
    );

    // Asked again, and the clinic moves the visit: the move closes the request.
    let third = store
        .ask_to_move_own_visit(&me, visit.id, "Friday", &[], now)
        .await
        .unwrap();
    let rules = DiaryRules::from_settings(&follicle_core::Settings::default(), now);
    let moved = store
        .move_appointment(
            &c.front_desk,
            visit.id,
            &AppointmentMove {
                starts_at: weekday_ahead(22, 14),
                practitioner_id: None,
                room: None,
                override_reason: String::new(),
            },
            &rules,
        )
        .await
        .unwrap();
    assert_ne!(moved.starts_at, visit.starts_at);
    let closed = store.move_requests_of(&c.front_desk, visit.id).await.unwrap();
    let third = closed.iter().find(|r| r.id == third.id).unwrap();
    assert_eq!(third.closed_how, Some(MoveClosed::Moved));
    assert_eq!(third.closed_by, Some(c.front_desk.user_id()));
    assert!(store.open_move_requests(&c.front_desk).await.unwrap().is_empty());
    assert!(store.own_move_requests(&me).await.unwrap().is_empty());
}

pub async fn a_typed_signature_is_the_name_on_record_and_holds_like_a_drawn_one(store: &Store) {
    use follicle_store::{SignatureMethod, typed_signature};
    let c = clinic(store, "Typed").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let (_, design) = store
        .add_consultation(
            &c.practitioner,
            &consultation(sam.id, "V"),
            Some(&new_design(sam.id, None, 3)),
        )
        .await
        .unwrap();
    let design = design.unwrap();
    let me = signed_in(store, c.owner.clinic_id(), sam.id).await;

    // Not the name on the record (an accent missing), or not the name signed with: refused.
    for (typed, signer) in [("Sam Olafsson", "Sam Olafsson"), ("Sam Ólafsson", "Alex Other")] {
        let mut wrong = signed(sam.id, Some((design.id, design.version)));
        wrong.signature = typed_signature(typed);
        wrong.signer_name = signer.into();
        match store.sign_own_consent(&me, &wrong, b"%PDF-1.7").await {
            Err(StoreError::Invalid { field, message }) => {
                assert_eq!(field, "signature");
                assert!(
                    message.contains("not the name on the client's record"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
    let mut empty = signed(sam.id, Some((design.id, design.version)));
    empty.signature = typed_signature("  ");
    assert!(store.sign_own_consent(&me, &empty, b"%PDF-1.7").await.is_err());
    assert!(
        store.own_consents(&me).await.unwrap().is_empty(),
        "nothing kept from a refusal"
    );

    // Case and spacing do not matter; the method is part of what the fingerprint covers.
    let mut typed = signed(sam.id, Some((design.id, design.version)));
    typed.signature = typed_signature("  sam   ÓLAFSSON ");
    typed.signer_name = "sam   ÓLAFSSON".into();
    let kept = store
        .sign_own_consent(&me, &typed, b"%PDF-1.7 typed")
        .await
        .unwrap();
    assert_eq!(kept.signed.method(), SignatureMethod::Typed);
    assert_eq!(kept.signed.signature, "typed:sam   ÓLAFSSON");
    assert_eq!(
        kept.document_sha256,
        follicle_store::consent_digest(c.owner.clinic_id(), &kept.signed)
    );
    let mut as_drawn = kept.signed.clone();
    as_drawn.signature = "10,10 20,30 40,35 60,20;100,50 120,60".into();
    assert_ne!(
        follicle_store::consent_digest(c.owner.clinic_id(), &as_drawn),
        kept.document_sha256,
        "the method is in the fingerprint"
    );
    assert!(
        store
            .has_procedure_consent(c.owner.clinic_id(), sam.id, design.id)
            .await
            .unwrap()
    );
    // Kept unchanged like any signed consent: the database refuses a change, a forged byte shows.
    let refused = try_to_change_consent(store, kept.id).await;
    assert!(
        refused.as_deref().is_some_and(|e| e.contains("never changed")),
        "{refused:?}"
    );
    let check = store.check_consent(&c.practitioner, kept.id).await.unwrap();
    assert!(check.document_intact && check.pdf_intact);
    forge_consent(store, kept.id).await;
    assert!(
        !store
            .check_consent(&c.practitioner, kept.id)
            .await
            .unwrap()
            .document_intact
    );
    // A drawn signature keeps its method.
    assert_eq!(signed(sam.id, None).method(), SignatureMethod::Drawn);
}

pub async fn a_client_sends_photos_only_with_the_photographs_consent(store: &Store) {
    use follicle_store::{PhotoAngle, testing::jpeg_with_gps};
    let c = clinic(store, "Client photos").await;
    let sam = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let mut other = new_sam();
    other.name = "Alex Other".into();
    other.email = "alex.other@example.com".into();
    let alex = store.create_client(&c.front_desk, &other).await.unwrap();
    let me = signed_in(store, c.owner.clinic_id(), sam.id).await;
    let alex_me = signed_in(store, c.owner.clinic_id(), alex.id).await;

    // No photographs consent: refused, nothing kept.
    match store
        .upload_own_photo(&me, PhotoAngle::Front, &jpeg_with_gps())
        .await
    {
        Err(StoreError::Conflict { message }) => assert!(message.contains("sign it first"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(store.photos(&c.practitioner, sam.id).await.unwrap().is_empty());

    let mut photos_consent = signed(sam.id, None);
    photos_consent.kind = ConsentKind::Photos;
    let consent = store
        .sign_own_consent(&me, &photos_consent, b"%PDF-1.7")
        .await
        .unwrap();
    // Not an image: refused by the same checks as the clinic's uploads.
    assert!(matches!(
        store
            .upload_own_photo(&me, PhotoAngle::Front, b"not a photo")
            .await,
        Err(StoreError::Photo(_))
    ));
    let photo = store
        .upload_own_photo(&me, PhotoAngle::Top, &jpeg_with_gps())
        .await
        .unwrap();
    assert!(photo.taken_by_client());
    assert!(photo.consented);
    assert_eq!(photo.angle, PhotoAngle::Top);
    let (read, bytes) = store.own_photo(&me, photo.id).await.unwrap();
    assert_eq!(read, photo);
    assert!(!crate::contract::has_gps(&bytes), "EXIF and GPS stripped");
    // Another client cannot read it; the clinic shows it like any other, marked as the client's.
    assert!(matches!(
        store.own_photo(&alex_me, photo.id).await,
        Err(StoreError::NotFound { .. })
    ));
    let at_clinic = store.photos(&c.practitioner, sam.id).await.unwrap();
    assert_eq!(at_clinic.len(), 1);
    assert_eq!(at_clinic[0].created_by, None);
    let (_, same) = store.photo(&c.practitioner, photo.id).await.unwrap();
    assert_eq!(same, bytes);
    assert_eq!(store.own_record(&me).await.unwrap().photos.len(), 1);

    // Withdrawn: refused again.
    store.withdraw_own_consent(&me, consent.id, "").await.unwrap();
    assert!(matches!(
        store
            .upload_own_photo(&me, PhotoAngle::Front, &jpeg_with_gps())
            .await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(store.photos(&c.practitioner, sam.id).await.unwrap().len(), 1);
}
