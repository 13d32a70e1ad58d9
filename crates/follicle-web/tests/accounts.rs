//! Accounts through the API and the studio: a password reset carried by a real SMTP
//! conversation (Debian's `python3-aiosmtpd` receives the mail into a folder), two-factor
//! enrolment and sign-in, sessions, the owner's staff and audit pages, and adding a user whose
//! email another clinic uses.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use follicle_store::testing::totp_code;
use serde_json::json;
use time::OffsetDateTime;

use crate::mail_catcher::{MailCatcher, cookie, csrf, form, text};
use crate::support::{App, Auth, Backend, Demo, TestStore};

fn api(path: &str) -> String {
    format!("/api/v1{path}")
}

both_stores!(
    a_reset_link_comes_by_mail_and_works_once,
    two_factor_enrolment_and_sign_in,
    sessions_rules_and_the_audit_log,
    owner_pages_and_users_of_other_clinics,
    the_owner_of_a_guessed_account_is_warned_by_mail,
);

/// The token of the reset link in a mail (the body may be quoted-printable).
fn token_in(mail: &str) -> String {
    let unfolded = mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let start = unfolded
        .find("/reset?token=")
        .unwrap_or_else(|| panic!("no link in {mail}"))
        + "/reset?token=".len();
    unfolded[start..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect()
}

async fn a_reset_link_comes_by_mail_and_works_once(test: &TestStore, backend: Backend) {
    let smtp = MailCatcher::start();
    let config = smtp.config();
    let app = App::with_config(&test.store, backend, config);
    let _demo = Demo::seed(&app).await;
    let owner = follicle_web::demo::DEMO_OWNER;

    // Known and unknown emails get the same answer.
    let known = app
        .post(&api("/auth/password-reset"), &Auth::None, json!({"email": owner}))
        .await;
    let unknown = app
        .post(
            &api("/auth/password-reset"),
            &Auth::None,
            json!({"email": "nobody@demo.follicle.test"}),
        )
        .await;
    assert_eq!(known.status, StatusCode::ACCEPTED);
    assert_eq!((unknown.status, &unknown.body), (known.status, &known.body));

    let mail = smtp.wait_for(1).await;
    assert!(mail.contains(&format!("To: {owner}")), "{mail}");
    assert!(
        mail.contains("https://studio.clinic.example/reset?token="),
        "{mail}"
    );
    let token = token_in(&mail);
    assert_eq!(token.len(), 64, "{mail}");

    // The link's page, a refused password beside its field, then the new password.
    let page = app.get(&format!("/reset?token={token}"), &Auth::None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(text(&page).contains("id=\"new_password\""));
    let refused = app
        .send(
            Method::POST,
            "/reset",
            &Auth::None,
            form(&[("token", &token), ("new_password", "aaaaaaaaaa")]),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&refused).contains("id=\"new_password-error\""),
        "{}",
        text(&refused)
    );
    app.post(
        &api("/auth/password-reset/complete"),
        &Auth::None,
        json!({"token": token, "new_password": "the clinic by the sea"}),
    )
    .await;
    app.login(owner, "the clinic by the sea")
        .await
        .expect(StatusCode::OK);
    app.login(owner, follicle_web::demo::DEMO_PASSWORD)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    // Twice: refused.
    let again = app
        .post(
            &api("/auth/password-reset/complete"),
            &Auth::None,
            json!({"token": token, "new_password": "yet another sea view"}),
        )
        .await;
    assert_eq!(
        again.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid")["field"],
        "token"
    );
    let page = app.get(&format!("/reset?token={token}"), &Auth::None).await;
    assert!(text(&page).contains("id=\"token-error\""));

    // After expiry: refused. (The link's hour is moved into the past in the database.)
    app.post(&api("/auth/password-reset"), &Auth::None, json!({"email": owner}))
        .await;
    let expiring = token_in(&smtp.wait_for(2).await);
    assert_ne!(expiring, token);
    let past = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap() - time::Duration::minutes(1);
    let sql = "UPDATE password_resets SET expires_at = $1 WHERE used_at IS NULL";
    match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&test.url).await.unwrap();
            sqlx::query(sql).bind(past).execute(&pool).await.unwrap();
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&test.url).await.unwrap();
            sqlx::query(sql).bind(past).execute(&pool).await.unwrap();
        }
    }
    let late = app
        .post(
            &api("/auth/password-reset/complete"),
            &Auth::None,
            json!({"token": expiring, "new_password": "a view of the harbour"}),
        )
        .await;
    assert_eq!(
        late.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid")["field"],
        "token"
    );
    // The unknown email never got a mail.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(smtp.messages().len(), 2);
}

async fn two_factor_enrolment_and_sign_in(test: &TestStore, backend: Backend) {
    let app = App::new(&test.store, backend);
    let demo = Demo::seed(&app).await;
    let owner = follicle_web::demo::DEMO_OWNER;
    let password = follicle_web::demo::DEMO_PASSWORD;

    let enrol = app
        .post(&api("/me/two-factor"), &demo.owner, json!(null))
        .await
        .expect(StatusCode::OK);
    let secret = enrol["secret"].as_str().unwrap().to_owned();
    assert!(
        enrol["otpauth_url"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    assert!(enrol["qr_svg"].as_str().unwrap().contains("<svg"), "{enrol}");
    let wrong = app
        .post(
            &api("/me/two-factor/confirm"),
            &demo.owner,
            json!({"code": "000000"}),
        )
        .await;
    assert_eq!(
        wrong.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid")["field"],
        "code"
    );
    let now = OffsetDateTime::now_utc();
    let codes = app
        .post(
            &api("/me/two-factor/confirm"),
            &demo.owner,
            json!({"code": totp_code(&secret, now)}),
        )
        .await
        .expect(StatusCode::OK);
    let recovery: Vec<String> = serde_json::from_value(codes["recovery_codes"].clone()).unwrap();
    assert_eq!(recovery.len(), 10);

    // The password now answers a challenge, not a session.
    let first = app.login(owner, password).await;
    let challenge = first.expect(StatusCode::ACCEPTED);
    assert_eq!(challenge["second_factor_required"], true);
    assert!(first.headers.get(axum::http::header::SET_COOKIE).is_none());
    assert!(challenge.get("token").is_none());
    let challenge = challenge["challenge"].as_str().unwrap().to_owned();
    app.post(
        &api("/auth/second-factor"),
        &Auth::None,
        json!({"challenge": challenge, "code": "123456"}),
    )
    .await
    .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    // The next half-minute's code (the current one was spent confirming).
    let code = totp_code(&secret, OffsetDateTime::now_utc() + time::Duration::seconds(30));
    let signed_in = app
        .post(
            &api("/auth/second-factor"),
            &Auth::None,
            json!({"challenge": challenge, "code": code}),
        )
        .await
        .expect(StatusCode::OK);
    let bearer = Auth::Bearer(signed_in["token"].as_str().unwrap().to_owned());
    app.get(&api("/me"), &bearer).await.expect(StatusCode::OK);

    // In the studio: the password, then the code page, then a recovery code signs in.
    let login = app
        .send(
            Method::POST,
            "/login",
            &Auth::None,
            form(&[("email", owner), ("password", password)]),
            &[],
        )
        .await;
    assert_eq!(login.status, StatusCode::OK);
    let page = text(&login);
    assert!(page.contains("action=\"/login/code\""), "{page}");
    let start = page.find("name=\"challenge\" value=\"").unwrap() + "name=\"challenge\" value=\"".len();
    let studio_challenge = &page[start..start + 64];
    let done = app
        .send(
            Method::POST,
            "/login/code",
            &Auth::None,
            form(&[("challenge", studio_challenge), ("code", &recovery[0])]),
            &[],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", text(&done));
    assert!(done.headers.get(axum::http::header::SET_COOKIE).is_some());

    // The account page shows it on, with the codes left.
    let account = app.get("/account", &cookie(&bearer)).await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(
        text(&account).contains("id=\"codes-left\">9<"),
        "{}",
        text(&account)
    );
}

/// The same session as a cookie (for the studio's pages).
async fn sessions_rules_and_the_audit_log(test: &TestStore, backend: Backend) {
    let app = App::new(&test.store, backend);
    let demo = Demo::seed(&app).await;
    // Two sessions of the owner: the demo's and a second sign-in.
    let second = app
        .login(follicle_web::demo::DEMO_OWNER, follicle_web::demo::DEMO_PASSWORD)
        .await
        .expect(StatusCode::OK);
    let second = Auth::Bearer(second["token"].as_str().unwrap().to_owned());
    let sessions = app
        .get(&api("/me/sessions"), &demo.owner)
        .await
        .expect(StatusCode::OK);
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    let other_id = other["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&api(&format!("/me/sessions/{other_id}")), &demo.owner)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    app.get(&api("/me"), &second)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    app.delete(&api("/me/sessions/not-a-session"), &demo.owner)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");

    // A password change: the new one must pass the policy, named beside its field.
    let refused = app
        .put(
            &api("/me/password"),
            &demo.practitioner,
            json!({"current_password": follicle_web::demo::DEMO_PASSWORD, "new_password": "aaaaaaaaaa"}),
        )
        .await;
    assert_eq!(
        refused.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid")["field"],
        "new_password"
    );

    // Account rules.
    let rules = app
        .get(&api("/clinic/account-rules"), &demo.owner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        rules,
        json!({"require_mfa": false, "idle_timeout_minutes": 30, "audit_retention_years": 6})
    );
    let bad = app
        .put(
            &api("/clinic/account-rules"),
            &demo.owner,
            json!({"require_mfa": false, "idle_timeout_minutes": 2, "audit_retention_years": 6}),
        )
        .await;
    assert_eq!(
        bad.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid")["field"],
        "idle_timeout_minutes"
    );
    app.put(
        &api("/clinic/account-rules"),
        &demo.front_desk,
        json!({"require_mfa": false, "idle_timeout_minutes": 60, "audit_retention_years": 6}),
    )
    .await
    .expect_error(StatusCode::FORBIDDEN, "forbidden");
    app.put(
        &api("/clinic/account-rules"),
        &demo.owner,
        json!({"require_mfa": false, "idle_timeout_minutes": 60, "audit_retention_years": 7}),
    )
    .await
    .expect(StatusCode::OK);

    // Searches and the diary are audited.
    app.get(&api("/clients?q=sam"), &demo.front_desk)
        .await
        .expect(StatusCode::OK);
    let audit = app
        .get(&api("/audit?action=searched"), &demo.owner)
        .await
        .expect(StatusCode::OK);
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["user_id"], json!(demo.front_desk_id));
    let settings = app
        .get(&api("/audit?action=settings_changed"), &demo.owner)
        .await
        .expect(StatusCode::OK);
    assert!(
        settings["entries"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("idle_timeout_minutes 30 → 60"),
        "{settings}"
    );
    let signed_in = app
        .get(&api("/audit?action=signed_in"), &demo.owner)
        .await
        .expect(StatusCode::OK);
    assert!(
        signed_in["entries"][0]["session"].as_str().unwrap().len() == 16,
        "{signed_in}"
    );

    // Pages of two, newest first, until the end.
    let mut before: Option<i64> = None;
    let mut ids = Vec::new();
    for _ in 0..200 {
        let uri = match before {
            Some(b) => api(&format!("/audit?limit=2&before={b}")),
            None => api("/audit?limit=2"),
        };
        let page = app.get(&uri, &demo.owner).await.expect(StatusCode::OK);
        ids.extend(
            page["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_i64().unwrap()),
        );
        match page["next_before"].as_i64() {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    assert!(ids.len() > 4);
    // Bad filters name the field; other roles may not read it.
    app.get(&api("/audit?action=flew"), &demo.owner)
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    app.get(&api("/audit?from=yesterday"), &demo.owner)
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    app.get(&api("/audit"), &demo.practitioner)
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");

    // Sign out everywhere ends this session too.
    assert_eq!(
        app.delete(&api("/me/sessions"), &demo.owner).await.status,
        StatusCode::NO_CONTENT
    );
    app.get(&api("/me"), &demo.owner)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

async fn owner_pages_and_users_of_other_clinics(test: &TestStore, backend: Backend) {
    let smtp = MailCatcher::start();
    let config = smtp.config();
    let app = App::with_config(&test.store, backend, config);
    let demo = Demo::seed(&app).await;

    // An email another clinic uses is added like any other: nothing is revealed.
    let (_, other_owner) = app.other_clinic("Across town").await;
    let other = app.store.actor(other_owner).await.unwrap();
    let other_email = app.store.user(&other, other_owner).await.unwrap().email;
    let added = app
        .post(
            &api("/users"),
            &demo.owner,
            json!({"email": other_email, "name": "Pat Moss", "role": "front_desk", "password": "pat's own long words"}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", text(&added));
    let refused = app
        .post(
            &api("/users"),
            &demo.owner,
            json!({"email": "pat.two@demo.follicle.test", "name": "Pat Two", "role": "front_desk", "password": "aaaaaaaaaa"}),
        )
        .await;
    assert_eq!(
        refused.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid")["field"],
        "password"
    );

    // The owner resets the practitioner: mailed a link, signed out.
    let reset = app
        .post(
            &api(&format!("/users/{}/reset", demo.practitioner_id)),
            &demo.owner,
            json!({}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(reset["mailed"], true, "{reset}");
    assert_eq!(reset["sent_to"], follicle_web::demo::DEMO_PRACTITIONER);
    let mail = smtp.wait_for(1).await;
    assert_eq!(token_in(&mail).len(), 64);
    app.get(&api("/me"), &demo.practitioner)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    app.post(
        &api(&format!("/users/{}/reset", demo.owner_id)),
        &demo.front_desk,
        json!({}),
    )
    .await
    .expect_error(StatusCode::FORBIDDEN, "forbidden");

    // The studio's owner pages, and what other roles see of them.
    let owner = cookie(&demo.owner);
    let staff = app.get("/staff", &owner).await;
    assert_eq!(staff.status, StatusCode::OK);
    assert!(text(&staff).contains(follicle_web::demo::DEMO_FRONT_DESK));
    let rules = app
        .send(
            Method::POST,
            "/staff/rules",
            &owner,
            form(&[
                ("_csrf", &csrf(&demo.owner)),
                ("idle_timeout_minutes", "abc"),
                ("audit_retention_years", "6"),
            ]),
            &[],
        )
        .await;
    assert_eq!(rules.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&rules).contains("id=\"idle_timeout_minutes-error\""),
        "{}",
        text(&rules)
    );
    let audit = app.get("/audit?action=password_reset", &owner).await;
    assert_eq!(audit.status, StatusCode::OK);
    assert!(text(&audit).contains("reset by the owner"), "{}", text(&audit));
    assert_eq!(
        app.get("/staff", &cookie(&demo.front_desk)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/audit", &cookie(&demo.front_desk)).await.status,
        StatusCode::FORBIDDEN
    );
    let account = app.get("/account", &cookie(&demo.front_desk)).await;
    assert_eq!(account.status, StatusCode::OK);
    let enrol = app
        .send(
            Method::POST,
            "/account/two-factor",
            &cookie(&demo.front_desk),
            form(&[("_csrf", &csrf(&demo.front_desk))]),
            &[],
        )
        .await;
    assert!(text(&enrol).contains("<svg"), "{}", text(&enrol));
    let wrong = app
        .send(
            Method::POST,
            "/account/password",
            &cookie(&demo.front_desk),
            form(&[
                ("_csrf", &csrf(&demo.front_desk)),
                ("current_password", "nope"),
                ("new_password", "long enough words"),
            ]),
            &[],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&wrong).contains("id=\"current_password-error\""));
}

/// Five wrong passwords bring an account to its delays: its owner gets one mail saying so,
/// with the address, and nobody else does (the guesser gets the usual answer).
async fn the_owner_of_a_guessed_account_is_warned_by_mail(test: &TestStore, backend: Backend) {
    let smtp = MailCatcher::start();
    let config = smtp.config();
    let app = App::with_config(&test.store, backend, config);
    let _demo = Demo::seed(&app).await;
    let desk = follicle_web::demo::DEMO_FRONT_DESK;

    for n in 1..=4 {
        app.login(desk, &format!("guess number {n}"))
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    // Four failures are an owner mistyping: no mail.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(smtp.messages().is_empty(), "{:?}", smtp.messages());
    app.login(desk, "guess number 5")
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    let mail = smtp.wait_for(1).await;
    assert!(mail.contains(&format!("To: {desk}")), "{mail}");
    assert!(mail.contains("Someone is trying to sign in"), "{mail}");
    let unfolded = mail.replace("=\r\n", "").replace("=\n", "");
    assert!(unfolded.contains("5 times"), "{mail}");
    assert!(unfolded.contains("https://studio.clinic.example"), "{mail}");
    // More guesses while the account is slowed down send no more mail.
    for n in 6..=8 {
        let answer = app.login(desk, &format!("guess number {n}")).await;
        assert!(
            [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(&answer.status),
            "{}",
            answer.status
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.messages().len(), 1, "{:?}", smtp.messages());
}
