//! Sign-in failures and the rate limit, the CSRF check on cookie sessions, and roles.

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{App, Auth, Demo, NORWOOD_3, Payload, id_of, jpeg_with_gps, today};

fn api(path: &str) -> String {
    format!("/api/v1{path}")
}

pub async fn wrong_password_then_rate_limited_then_logout_revokes(app: &App) {
    let demo = Demo::seed(app).await;
    let desk = follicle_web::demo::DEMO_FRONT_DESK;
    let right = follicle_web::demo::DEMO_PASSWORD;

    // A wrong password and an unknown email answer alike, without a cookie.
    let wrong = app.login(desk, "not the password").await;
    let error = wrong.expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(wrong.headers.get(header::SET_COOKIE).is_none());
    let unknown = app.login("nobody@demo.follicle.test", "not the password").await;
    assert_eq!(
        unknown.expect_error(StatusCode::UNAUTHORIZED, "unauthenticated"),
        error
    );
    // Bad sign-in bodies are refused before any password check.
    app.post(&api("/auth/login"), &Auth::None, json!({"email": desk}))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    app.post(
        &api("/auth/login"),
        &Auth::None,
        json!({"email": desk, "password": right, "remember": true}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");

    // Four more failures make five; the sixth attempt is refused even with the right password.
    for n in 2..=5 {
        app.login(desk, &format!("guess number {n}"))
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    let limited = app.login(desk, right).await;
    let error = limited.expect_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let retry: i64 = limited.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&retry), "{retry}");
    let in_body = error["retry_after_seconds"].as_i64().unwrap();
    assert!((in_body - retry).abs() <= 1, "{in_body} vs {retry}");
    assert!(limited.headers.get(header::SET_COOKIE).is_none());
    assert!(!limited.body.windows(5).any(|w| w == b"token"));
    // Other users are not limited by it; the limited user's open sessions still work.
    let practitioner = app
        .login(follicle_web::demo::DEMO_PRACTITIONER, right)
        .await
        .expect(StatusCode::OK);
    app.get(&api("/me"), &demo.front_desk)
        .await
        .expect(StatusCode::OK);

    // Signing out revokes the token.
    let token = Auth::Bearer(practitioner["token"].as_str().unwrap().to_owned());
    app.get(&api("/clients"), &token).await.expect(StatusCode::OK);
    let out = app
        .send(Method::POST, &api("/auth/logout"), &token, Payload::None, &[])
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    for path in ["/me", "/clients", "/clinic"] {
        app.get(&api(path), &token)
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    // The cookie of that session is as dead as the bearer token.
    app.get(
        &api("/me"),
        &Auth::Cookie {
            token: practitioner["token"].as_str().unwrap().to_owned(),
            csrf: None,
        },
    )
    .await
    .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

fn sam() -> Value {
    json!({"name": "Sam Cookie", "date_of_birth": null, "age_years": 30, "phone": "", "email": "", "notes": ""})
}

pub async fn csrf_on_cookie_sessions(app: &App) {
    let demo = Demo::seed(app).await;
    let token = demo.owner_login["token"].as_str().unwrap().to_owned();
    let csrf = demo.owner_login["csrf_token"].as_str().unwrap().to_owned();
    let cookie = |csrf: Option<&str>| Auth::Cookie {
        token: token.clone(),
        csrf: csrf.map(str::to_owned),
    };
    let before = demo.clients().await;
    let daniel = demo.client_named("Daniel Reyes").await;
    let daniel_path = api(&format!("/clients/{}", id_of(&daniel)));

    // Changes by cookie without the header, or with a wrong one: 403 csrf, nothing done.
    let wrong = "0".repeat(64);
    let other_session = match app.session_for(demo.owner_id).await {
        Auth::Bearer(t) => follicle_web::extract::csrf_token(&t),
        _ => unreachable!(),
    };
    for header in [
        None,
        Some(""),
        Some(wrong.as_str()),
        Some(token.as_str()),
        Some(other_session.as_str()),
    ] {
        let error = app
            .post(&api("/clients"), &cookie(header), sam())
            .await
            .expect_error(StatusCode::FORBIDDEN, "csrf");
        assert!(
            error["message"].as_str().unwrap().contains("x-csrf-token"),
            "{error}"
        );
        app.put(&daniel_path, &cookie(header), sam())
            .await
            .expect_error(StatusCode::FORBIDDEN, "csrf");
        app.delete(&daniel_path, &cookie(header))
            .await
            .expect_error(StatusCode::FORBIDDEN, "csrf");
        app.send(
            Method::POST,
            &api("/auth/logout"),
            &cookie(header),
            Payload::None,
            &[],
        )
        .await
        .expect_error(StatusCode::FORBIDDEN, "csrf");
    }
    assert_eq!(demo.clients().await, before, "nothing was created or changed");
    assert_eq!(demo.client_named("Daniel Reyes").await, daniel);
    // The session survived the refused sign-out.
    app.get(&api("/me"), &demo.owner).await.expect(StatusCode::OK);

    // Reading by cookie needs no header.
    let listed = app
        .get(&api("/clients?limit=200"), &cookie(None))
        .await
        .expect(StatusCode::OK);
    assert_eq!(listed.as_array().unwrap(), &before);
    let head = app
        .send(Method::HEAD, &daniel_path, &cookie(None), Payload::None, &[])
        .await;
    assert_eq!(head.status, StatusCode::OK);

    // With the session's token (from sign-in, /me or the cookie) it works.
    let me = app.get(&api("/me"), &cookie(None)).await.expect(StatusCode::OK);
    assert_eq!(me["csrf_token"], csrf);
    let created = app
        .post(&api("/clients"), &cookie(Some(&csrf)), sam())
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(created["name"], "Sam Cookie");
    assert_eq!(demo.clients().await.len(), before.len() + 1);

    // A bearer token needs no CSRF header: no browser sends it on its own.
    let created = app
        .post(&api("/clients"), &demo.front_desk, sam())
        .await
        .expect(StatusCode::CREATED);
    let deleted = app
        .delete(&api(&format!("/clients/{}", id_of(&created))), &demo.owner)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(demo.clients().await.len(), before.len() + 1);

    // Signing out by cookie with the token works.
    let out = app
        .send(
            Method::POST,
            &api("/auth/logout"),
            &cookie(Some(&csrf)),
            Payload::None,
            &[],
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    app.get(&api("/me"), &cookie(None))
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

/// What a front-desk user may not do: clinical records, pigments, recalls; and what only the
/// owner may do. Each is a 403 `forbidden`, and nothing is created.
pub async fn roles_are_enforced(app: &App) {
    let demo = Demo::seed(app).await;
    let martin = demo.client_named("Martin Kowalski").await;
    let mid = martin["id"].as_str().unwrap().to_owned();
    let export = app
        .get(&api(&format!("/clients/{mid}/export")), &demo.owner)
        .await
        .expect(StatusCode::OK);
    let consultation = export["consultations"][0]["id"].as_str().unwrap().to_owned();
    let design = export["designs"][0]["id"].as_str().unwrap().to_owned();
    let session = export["sessions"][0]["id"].as_str().unwrap().to_owned();
    let photo = export["photos"][0]["id"].as_str().unwrap().to_owned();
    let (fresh, _) = demo.batches().await;
    let batch = fresh["id"].as_str().unwrap().to_owned();
    let product = fresh["product_id"].as_str().unwrap().to_owned();
    let session_body = json!({"client_id": mid, "appointment_id": null, "performed_on": today().to_string(),
        "practitioner_id": demo.practitioner_id, "zones": ["crown"], "batch_id": batch, "dilution": 0.5,
        "needle": "0603RL", "needle_lot": "L1", "depth_mm": 0.8, "machine_settings": "", "duration_minutes": 60,
        "anaesthetic": "", "notes": ""});

    let json_body = |v: Value| Payload::Json(v);
    let practitioner_only: Vec<(Method, String, Payload)> = vec![
        (
            Method::POST,
            format!("/clients/{mid}/consultations"),
            json_body(json!({"client_toml": NORWOOD_3})),
        ),
        (
            Method::POST,
            format!("/clients/{mid}/designs"),
            json_body(json!({"consultation_id": consultation})),
        ),
        (
            Method::POST,
            format!("/clients/{mid}/designs"),
            json_body(json!({"request": {"zones": {"kind": "stage", "stage": "norwood_1"}}})),
        ),
        (
            Method::POST,
            format!("/clients/{mid}/consents"),
            json_body(json!({"kind": "procedure", "template_version": "1", "text": "Yes", "signed_by": "M"})),
        ),
        (Method::POST, "/sessions".into(), json_body(session_body.clone())),
        (
            Method::POST,
            format!("/clients/{mid}/photos?angle=front"),
            Payload::Raw(Some("image/jpeg".into()), jpeg_with_gps()),
        ),
        (Method::GET, format!("/photos/{photo}"), Payload::None),
        (
            Method::POST,
            "/pigments/products".into(),
            json_body(json!({"name": "Ink", "maker": "M", "ingredients": "Carbon"})),
        ),
        (
            Method::POST,
            "/pigments/batches".into(),
            json_body(
                json!({"product_id": product, "lot": "NEW-1", "expires_on": "2030-01-01", "quantity": 1}),
            ),
        ),
        (
            Method::POST,
            format!("/pigments/batches/{batch}/stock"),
            json_body(json!({"delta": -1})),
        ),
        (
            Method::GET,
            format!("/pigments/batches/{batch}/recall"),
            Payload::None,
        ),
        (Method::GET, "/pigments/batches".into(), Payload::None),
        (Method::GET, "/pigments/products".into(), Payload::None),
        (Method::GET, format!("/pigments/batches/{batch}"), Payload::None),
        (
            Method::GET,
            format!("/clients/{mid}/consultations"),
            Payload::None,
        ),
        (
            Method::GET,
            format!("/consultations/{consultation}"),
            Payload::None,
        ),
        (Method::GET, format!("/clients/{mid}/designs"), Payload::None),
        (Method::GET, format!("/designs/{design}"), Payload::None),
        (Method::GET, format!("/designs/{design}/pattern"), Payload::None),
        (
            Method::GET,
            format!("/designs/{design}/preview?size=32"),
            Payload::None,
        ),
        (Method::GET, format!("/designs/{design}/stencil"), Payload::None),
        (Method::GET, format!("/clients/{mid}/sessions"), Payload::None),
        (Method::GET, format!("/sessions/{session}"), Payload::None),
        (Method::GET, format!("/clients/{mid}/photos"), Payload::None),
        (Method::GET, format!("/clients/{mid}/consents"), Payload::None),
        (Method::GET, format!("/clients/{mid}/export"), Payload::None),
    ];
    let owner_only: Vec<(Method, String, Payload)> = vec![
        (
            Method::POST,
            "/users".into(),
            json_body(
                json!({"email": "new.user@demo.follicle.test", "name": "New", "role": "owner",
                             "password": "a long enough password"}),
            ),
        ),
        (
            Method::PUT,
            format!("/users/{}", demo.practitioner_id),
            json_body(json!({"role": "owner", "active": true})),
        ),
        (
            Method::PUT,
            format!("/users/{}", demo.owner_id),
            json_body(json!({"role": "owner", "active": false})),
        ),
        (
            Method::PUT,
            "/clinic/settings".into(),
            json_body(json!({"settings_toml": "[pricing]\ndeposit = 1\n", "retention_years": 1})),
        ),
        (Method::GET, format!("/clients/{mid}/audit"), Payload::None),
        (Method::DELETE, format!("/clients/{mid}"), Payload::None),
    ];

    let snapshot = |app: &App| {
        let app = app.clone();
        let owner = demo.owner.clone();
        let mid = mid.clone();
        async move {
            let get = |path: String| {
                let app = app.clone();
                let owner = owner.clone();
                async move { app.get(&api(&path), &owner).await.expect(StatusCode::OK) }
            };
            let mut export = get(format!("/clients/{mid}/export")).await;
            export["photos"] = Value::Null; // compared below by count of photos only
            json!({
                "export": export,
                "photos": get(format!("/clients/{mid}/photos")).await.as_array().unwrap().len(),
                "users": get("/users".into()).await,
                "clinic": get("/clinic".into()).await,
                "products": get("/pigments/products".into()).await,
                "batches": get("/pigments/batches".into()).await,
                "clients": get("/clients?limit=200".into()).await,
            })
        }
    };
    let before = snapshot(app).await;

    let check = |role: &'static str, auth: Auth, list: &Vec<(Method, String, Payload)>| {
        let app = app.clone();
        let list: Vec<(Method, String, Payload)> = list.clone();
        async move {
            for (method, path, payload) in list {
                let answer = app.send(method.clone(), &api(&path), &auth, payload, &[]).await;
                let error = answer.expect_error(StatusCode::FORBIDDEN, "forbidden");
                assert!(
                    error["message"]
                        .as_str()
                        .unwrap()
                        .starts_with(&format!("forbidden: a {role} may not ")),
                    "{role} {method} {path}: {error}"
                );
            }
        }
    };
    check("front_desk", demo.front_desk.clone(), &practitioner_only).await;
    check("front_desk", demo.front_desk.clone(), &owner_only).await;
    check("practitioner", demo.practitioner.clone(), &owner_only).await;
    assert_eq!(snapshot(app).await, before, "refused requests changed nothing");

    // The front desk books and greets: it finds clients, adds them, books and confirms.
    let found = app
        .get(&api("/clients?q=kowalski"), &demo.front_desk)
        .await
        .expect(StatusCode::OK);
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&api(&format!("/clients/{mid}")), &demo.front_desk)
            .await
            .expect(StatusCode::OK)["name"],
        "Martin Kowalski"
    );
    let booked = app
        .post(
            &api("/appointments"),
            &demo.front_desk,
            json!({"client_id": mid, "practitioner_id": demo.practitioner_id, "starts_at": "2031-02-03T10:00:00Z",
                   "duration_minutes": 60, "notes": "Touch-up"}),
        )
        .await
        .expect(StatusCode::CREATED);
    app.put(
        &api(&format!("/appointments/{}/status", id_of(&booked))),
        &demo.front_desk,
        json!({"status": "cancelled"}),
    )
    .await
    .expect(StatusCode::OK);
    let theirs = app
        .get(&api(&format!("/clients/{mid}/appointments")), &demo.front_desk)
        .await
        .expect(StatusCode::OK);
    assert!(
        theirs
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == booked["id"] && a["status"] == "cancelled")
    );
    // It uses the calculators too (no record is read).
    app.post(&api("/plan"), &demo.front_desk, json!({"client_toml": NORWOOD_3}))
        .await
        .expect(StatusCode::OK);
    // The practitioner does the clinical work the front desk may not.
    app.get(
        &api(&format!("/pigments/batches/{batch}/recall")),
        &demo.practitioner,
    )
    .await
    .expect(StatusCode::OK);
    let image = app
        .get(&api(&format!("/photos/{photo}")), &demo.practitioner)
        .await;
    assert_eq!(image.status, StatusCode::OK);
    assert_eq!(image.content_type(), "image/jpeg");
    // The role is checked before the record is looked up: a front desk learns nothing about
    // which ids exist.
    app.get(&api(&format!("/sessions/{}", Uuid::new_v4())), &demo.front_desk)
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
}
