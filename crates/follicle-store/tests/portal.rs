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
