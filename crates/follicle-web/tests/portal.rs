//! The client's own door, through a real SMTP conversation: the clinic sends a sign-in link,
//! the client opens it from the mail, reads their plan and quote, signs the treatment consent
//! with a drawn signature and receives the signed PDF (read back with `pdftotext`); a used, an
//! expired and a made-up link are refused with a page; a second client's portal finds none of
//! the first client's records; a consent changed behind Follicle's back shows at the clinic.

use axum::http::{Method, StatusCode};
use follicle_store::testing::forge_consent;
use serde_json::Value;
use time::Duration;

use crate::mail_catcher::{
    MailCatcher, as_client, attached_pdf, cookie, csrf, drain, form, mails_to, post_form, text, unfolded,
};
use crate::support::{Answer, App, Auth, Backend, Demo, NORWOOD_3, TestStore, id_of};

both_stores!(
    the_client_signs_in_by_mail_reads_their_plan_and_signs_their_consent,
    no_session_without_the_treatment_consent_for_the_design,
);

/// The portal cookie a sign-in answer set.
fn portal_cookie(answer: &Answer) -> String {
    answer
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("follicle_portal="))
        .and_then(|c| c.split(';').next())
        .expect("a portal cookie")
        .to_owned()
}

/// The path of the sign-in link in the latest mail to `email`.
fn link_in_mail(smtp: &MailCatcher, email: &str) -> String {
    let mails: Vec<String> = mails_to(smtp, email)
        .into_iter()
        .filter(|m| m.contains("Your link to sign in"))
        .collect();
    let mail = unfolded(mails.last().expect("a sign-in mail to the client"));
    let at = mail.find("/portal/enter?t=").expect("a sign-in link in the mail");
    mail[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/?=&_-".contains(*c))
        .collect()
}

/// Signs a client in: the clinic sends a link, the client posts its page's button.
async fn sign_in(
    app: &App,
    demo: &Demo,
    smtp: &MailCatcher,
    store: &follicle_store::Store,
    config: &follicle_web::ServerConfig,
    client: &Value,
) -> String {
    let staff = cookie(&demo.owner);
    let sent = app
        .send(
            Method::POST,
            &format!("/clients/{}/portal-link", client["id"].as_str().unwrap()),
            &staff,
            form(&[("_csrf", &csrf(&staff))]),
            &[],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", text(&sent));
    drain(store, config).await;
    let link = link_in_mail(smtp, client["email"].as_str().unwrap());
    let page = app.get(&link, &Auth::None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", text(&page));
    assert!(text(&page).contains("Sign in"), "{}", text(&page));
    let token = link.split("t=").nth(1).unwrap();
    let entered = post_form(app, "/portal/enter", &Auth::None, &[("t", token)]).await;
    assert_eq!(entered.status, StatusCode::SEE_OTHER, "{}", text(&entered));
    // Used once: the link's second use is refused with a page that says so.
    let again = post_form(app, "/portal/enter", &Auth::None, &[("t", token)]).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(text(&again).contains("used already"), "{}", text(&again));
    portal_cookie(&entered)
}

pub(crate) fn pdftotext(pdf: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("follicle-consent-{}.pdf", uuid::Uuid::new_v4()));
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils; scripts/test installs it)");
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

async fn the_client_signs_in_by_mail_reads_their_plan_and_signs_their_consent(
    test: &TestStore,
    backend: Backend,
) {
    let smtp = MailCatcher::start();
    let config = smtp.config();
    let app = App::with_config(&test.store, backend, config.clone());
    let demo = Demo::seed(&app).await;
    let owner = test.store.actor(demo.owner_id).await.unwrap();
    // Two clients with a design and an email.
    let with_design = demo.consented_clients().await;
    assert!(with_design.len() >= 2, "the demo has clients with designs");
    let (sam, kim) = (&with_design[0], &with_design[1]);

    // Not signed in: the sign-in page, which answers the same for a known and an unknown address.
    let none = app.get("/portal", &Auth::None).await;
    assert_eq!(none.status, StatusCode::SEE_OTHER);
    for email in ["nobody@example.com", sam["email"].as_str().unwrap()] {
        let asked = post_form(
            &app,
            "/portal/sign-in",
            &Auth::None,
            &[("email", email), ("website", "")],
        )
        .await;
        assert_eq!(asked.status, StatusCode::OK);
        assert!(
            text(&asked).contains("a sign-in link is on its way"),
            "{}",
            text(&asked)
        );
    }
    let bad = post_form(
        &app,
        "/portal/sign-in",
        &Auth::None,
        &[("email", "not an address")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&bad).contains("is not an email address"), "{}", text(&bad));

    let sam_cookie = sign_in(&app, &demo, &smtp, &test.store, &config, sam).await;
    // The sign-in mail's link is not kept in the message log.
    let logged = test.store.client_messages(&owner, id_of(sam)).await.unwrap();
    assert!(logged.iter().any(|m| m.kind == "portal_link"
        && m.body.contains("not kept")
        && !m.body.contains("/portal/enter?t=")));

    let home = as_client(&app, Method::GET, "/portal", &sam_cookie, &[]).await;
    assert_eq!(home.status, StatusCode::OK);
    let page = text(&home);
    assert!(page.contains(sam["name"].as_str().unwrap()), "{page}");
    assert!(
        page.contains("Your plan and quote") && page.contains("Q-"),
        "{page}"
    );
    assert!(
        !page.contains("FullCoverage") && !page.contains("mid_scalp"),
        "no internal words: {page}"
    );

    // The intake: an answer outside the clinic's questions is refused by name; the answers sent
    // prefill the consultation's medical questions at the clinic.
    let token = follicle_web::extract::csrf_token(&sam_cookie);
    let page = as_client(&app, Method::GET, "/portal/intake", &sam_cookie, &[]).await;
    assert!(text(&page).contains("Heart condition"), "{}", text(&page));
    let odd = as_client(
        &app,
        Method::POST,
        "/portal/intake",
        &sam_cookie,
        &[("_csrf", &token), ("conditions", "made_up_illness")],
    )
    .await;
    assert_eq!(odd.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&odd).contains("made_up_illness") && text(&odd).contains("is not one of the clinic"),
        "{}",
        text(&odd)
    );
    let sent = as_client(
        &app,
        Method::POST,
        "/portal/intake",
        &sam_cookie,
        &[
            ("_csrf", &token),
            ("conditions", "heart_condition"),
            ("medications", "minoxidil"),
            ("allergies", "nickel"),
            ("notes", ""),
        ],
    )
    .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", text(&sent));
    let staff_view = cookie(&demo.practitioner);
    let consult = text(
        &app.get(&format!("/clients/{}/consult", id_of(sam)), &staff_view)
            .await,
    );
    assert!(
        consult.contains("Medical answers filled from the client") && consult.contains("allergies: nickel"),
        "{consult}"
    );
    assert!(
        consult.contains(r#"value="heart_condition" checked"#),
        "heart_condition ticked"
    );

    // Sign the treatment consent: a blank pad is refused in words, a drawn signature is kept.
    let consent = as_client(&app, Method::GET, "/portal/consents/procedure", &sam_cookie, &[]).await;
    assert_eq!(consent.status, StatusCode::OK);
    assert!(
        text(&consent).contains("Removing SMP is difficult"),
        "{}",
        text(&consent)
    );
    let token = follicle_web::extract::csrf_token(&sam_cookie);
    let name = sam["name"].as_str().unwrap();
    let blank = as_client(
        &app,
        Method::POST,
        "/portal/consents/procedure",
        &sam_cookie,
        &[
            ("_csrf", &token),
            ("name", name),
            ("signature", ""),
            ("agree", "yes"),
        ],
    )
    .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&blank).contains("sign in the box"), "{}", text(&blank));
    let signed = as_client(
        &app,
        Method::POST,
        "/portal/consents/procedure",
        &sam_cookie,
        &[
            ("_csrf", &token),
            ("name", name),
            ("signature", "20,150 60,40 100,160 140,60;200,100 260,90 300,120"),
            ("agree", "yes"),
        ],
    )
    .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", text(&signed));
    drain(&test.store, &config).await;
    let copies: Vec<String> = mails_to(&smtp, sam["email"].as_str().unwrap())
        .into_iter()
        .filter(|m| m.contains("Your signed copy"))
        .collect();
    assert_eq!(copies.len(), 1, "one signed copy");
    let pdf = attached_pdf(&copies[0]);
    let words = pdftotext(&pdf);
    for expected in [
        "Consent to scalp micropigmentation",
        "Removing SMP is difficult",
        name,
        "Fingerprint",
        "PortalTest/1.0",
    ] {
        assert!(words.contains(expected), "{expected:?} not in the PDF:\n{words}");
    }
    // The demo client signed at the chair when seeded; this one is the portal's.
    let mine: Vec<_> = test
        .store
        .signed_consents(&owner, id_of(sam))
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.signed.signed_in == follicle_store::SignedIn::Portal)
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].signed.user_agent, "PortalTest/1.0");
    let consent_id = mine[0].id;
    // The copy mailed is the copy kept, byte for byte.
    assert_eq!(
        test.store
            .consent_of_pdf(&owner, &pdf)
            .await
            .unwrap()
            .map(|c| c.id),
        Some(consent_id)
    );

    // A visit ahead: confirmed by the client; cancelled in their pages while outside the
    // clinic's cancellation window; the change is in its history, by the client.
    let visits = test.store.client_appointments(&owner, id_of(sam)).await.unwrap();
    let ahead = visits
        .iter()
        .find(|a| {
            a.status == follicle_store::AppointmentStatus::Booked
                && a.starts_at > time::OffsetDateTime::now_utc() + Duration::days(3)
        })
        .expect("the demo books visits ahead");
    let confirmed = as_client(
        &app,
        Method::POST,
        &format!("/portal/visits/{}", ahead.id),
        &sam_cookie,
        &[("_csrf", &token), ("to", "confirmed")],
    )
    .await;
    assert_eq!(confirmed.status, StatusCode::SEE_OTHER, "{}", text(&confirmed));
    let after = test.store.appointment(&owner, ahead.id).await.unwrap();
    assert_eq!(after.status, follicle_store::AppointmentStatus::Confirmed);
    assert!(
        after
            .history
            .iter()
            .any(|h| h.what == "confirmed by the client in their pages" && h.by == id_of(sam))
    );
    let odd = as_client(
        &app,
        Method::POST,
        &format!("/portal/visits/{}", ahead.id),
        &sam_cookie,
        &[("_csrf", &token), ("to", "completed")],
    )
    .await;
    assert_eq!(odd.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A second client sees only their own: none of Sam's pages or documents.
    let kim_cookie = sign_in(&app, &demo, &smtp, &test.store, &config, kim).await;
    let kim_home = text(&as_client(&app, Method::GET, "/portal", &kim_cookie, &[]).await);
    assert!(kim_home.contains(kim["name"].as_str().unwrap()));
    assert!(!kim_home.contains(name), "{kim_home}");
    for path in [
        format!("/portal/signed/{consent_id}/pdf"),
        format!("/portal/signed/{consent_id}/withdraw"),
        format!("/portal/visits/{}", ahead.id),
    ] {
        let method = if path.ends_with("pdf") {
            Method::GET
        } else {
            Method::POST
        };
        let kim_token = follicle_web::extract::csrf_token(&kim_cookie);
        let tried = as_client(
            &app,
            method,
            &path,
            &kim_cookie,
            &[("_csrf", &kim_token), ("to", "cancelled")],
        )
        .await;
        assert_eq!(tried.status, StatusCode::NOT_FOUND, "{path}: {}", text(&tried));
        assert!(text(&tried).contains("<html"), "a page, not JSON");
    }
    let own = as_client(
        &app,
        Method::GET,
        &format!("/portal/signed/{consent_id}/pdf"),
        &sam_cookie,
        &[],
    )
    .await;
    assert_eq!(own.status, StatusCode::OK);
    assert_eq!(own.body, pdf);

    // A link that ran out, and one that never was: a page that says so.
    let clinic = owner.clinic_id();
    let (old, _) = test
        .store
        .issue_portal_link(clinic, id_of(sam), Duration::seconds(-1), 50)
        .await
        .unwrap()
        .unwrap();
    let expired = app
        .get(&format!("/portal/enter?t={}", old.as_str()), &Auth::None)
        .await;
    assert_eq!(expired.status, StatusCode::GONE);
    assert!(text(&expired).contains("run out"), "{}", text(&expired));
    let unknown = app.get("/portal/enter?t=made-up", &Auth::None).await;
    assert_eq!(unknown.status, StatusCode::GONE);
    assert!(text(&unknown).contains("not valid"));

    // At the clinic: the consent stands and is unchanged; changed behind Follicle's back, it shows.
    let staff = cookie(&demo.owner);
    let page = text(
        &app.get(&format!("/clients/{}/consents", id_of(sam)), &staff)
            .await,
    );
    assert!(
        page.contains("unchanged since signing") && page.contains("stands"),
        "{page}"
    );
    assert!(!page.contains("CHANGED after signing"), "{page}");
    forge_consent(&test.store, consent_id).await;
    let page = text(
        &app.get(&format!("/clients/{}/consents", id_of(sam)), &staff)
            .await,
    );
    assert_eq!(page.matches("CHANGED after signing").count(), 1, "{page}");

    // Signed out: the cookie no longer opens the pages.
    let out = as_client(
        &app,
        Method::POST,
        "/portal/sign-out",
        &sam_cookie,
        &[("_csrf", &token)],
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let after = as_client(&app, Method::GET, "/portal", &sam_cookie, &[]).await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
}

/// The gate: a session for a client whose latest design has no standing treatment consent is
/// refused, naming what to do; signed at the chair it goes; withdrawn, it is refused again; a
/// clinic that turned the gate off logs it.
async fn no_session_without_the_treatment_consent_for_the_design(test: &TestStore, backend: Backend) {
    // Settings read afresh on every request: the clinic turns the gate off below.
    let mut config = follicle_web::ServerConfig::default();
    config.server.settings_cache_seconds = 0;
    let app = App::with_config(&test.store, backend, config);
    let demo = Demo::seed(&app).await;
    let client = app
        .post(
            "/api/v1/clients",
            &demo.front_desk,
            serde_json::json!({"name": "Gate Keeper", "date_of_birth": null, "age_years": 41,
                "phone": "+44 20 7946 0000", "email": "gate.keeper@example.org", "notes": ""}),
        )
        .await
        .expect(StatusCode::CREATED);
    let cid = client["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/api/v1/clients/{cid}/consultations"),
        &demo.practitioner,
        serde_json::json!({"client_toml": NORWOOD_3}),
    )
    .await
    .expect(StatusCode::CREATED);
    let (fresh, _) = demo.batches().await;
    let session = serde_json::json!({"client_id": cid, "appointment_id": null,
        "performed_on": time::OffsetDateTime::now_utc().date().to_string(),
        "practitioner_id": demo.practitioner_id, "zones": ["hairline"], "batch_id": fresh["id"],
        "dilution": 0.6, "needle": "0603RL", "needle_lot": "RL3-24-1187", "depth_mm": 0.8,
        "machine_settings": "7.5 V", "duration_minutes": 180, "anaesthetic": "", "notes": "Foundation."});
    let refused = app
        .post("/api/v1/sessions", &demo.practitioner, session.clone())
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", text(&refused));
    assert!(
        text(&refused).contains("Gate Keeper has not signed the treatment consent for design version 1"),
        "{}",
        text(&refused)
    );

    // Signed at the chair, on the studio's page, with the practitioner present.
    let staff = cookie(&demo.practitioner);
    let form_page = app
        .get(&format!("/clients/{cid}/consents/procedure/sign"), &staff)
        .await;
    assert_eq!(form_page.status, StatusCode::OK);
    assert!(text(&form_page).contains("Consent to scalp micropigmentation"));
    let signed = post_form(
        &app,
        &format!("/clients/{cid}/consents/procedure/sign"),
        &staff,
        &[
            ("_csrf", &csrf(&staff)),
            ("name", "Gate Keeper"),
            ("signature", "10,10 50,80 90,20 130,90 170,30"),
            ("agree", "yes"),
        ],
    )
    .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", text(&signed));
    app.post("/api/v1/sessions", &demo.practitioner, session.clone())
        .await
        .expect(StatusCode::CREATED);

    // Withdrawn (the client phoned): refused again.
    let owner = test.store.actor(demo.owner_id).await.unwrap();
    let consent = test
        .store
        .signed_consents(&owner, cid.parse().unwrap())
        .await
        .unwrap()[0]
        .clone();
    assert!(consent.witnessed_by.is_some());
    let withdrawn = app
        .send(
            Method::POST,
            &format!("/consents/{}/withdraw", consent.id),
            &staff,
            form(&[("_csrf", &csrf(&staff)), ("reason", "asked by phone")]),
            &[],
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::SEE_OTHER, "{}", text(&withdrawn));
    let again = app
        .post("/api/v1/sessions", &demo.practitioner, session.clone())
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    // A clinic that turns the gate off.
    test.store
        .update_clinic_settings(&owner, "[consent]\nrequired_for_session = false\n", 8)
        .await
        .unwrap();
    app.post("/api/v1/sessions", &demo.practitioner, session)
        .await
        .expect(StatusCode::CREATED);
}
