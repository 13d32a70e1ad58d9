//! Every endpoint of the API through the router, on the demo clinic: status and content.

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::mail_catcher::{cookie, text};
use crate::support::{
    App, Auth, Demo, KELOID, NORWOOD_3, Payload, exif_of, has_gps, id_of, jpeg_with_gps, today,
};

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// An API path.
fn api(path: &str) -> String {
    format!("/api/v1{path}")
}

fn ids(list: &Value) -> Vec<Uuid> {
    list.as_array().unwrap().iter().map(id_of).collect()
}

fn moment(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(value.as_str().unwrap(), &Rfc3339).unwrap()
}

/// A new client of the demo clinic, made through the API.
async fn new_client(demo: &Demo, name: &str) -> Value {
    demo.app
        .post(
            &api("/clients"),
            &demo.front_desk,
            json!({"name": name, "date_of_birth": null, "age_years": 41, "phone": "+44 20 7946 0000",
                   "email": format!("{}@example.org", name.to_lowercase().replace(' ', ".")), "notes": ""}),
        )
        .await
        .expect(StatusCode::CREATED)
}

pub async fn health_defaults_and_unknown_routes(app: &App) {
    let health = app.get(&api("/health"), &Auth::None).await;
    let body = health.expect(StatusCode::OK);
    assert_eq!(
        body,
        json!({"status": "ok", "database": app.store.backend().as_str()})
    );
    assert_eq!(
        body["database"],
        match app.backend {
            crate::support::Backend::Sqlite => "sqlite",
            crate::support::Backend::Postgres => "postgres",
        }
    );
    // Security headers on every answer.
    assert_eq!(health.headers["x-content-type-options"], "nosniff");
    assert_eq!(health.headers["x-frame-options"], "DENY");
    assert_eq!(health.headers["referrer-policy"], "same-origin");

    // The default settings need nobody signed in, and are the core's file byte for byte.
    let defaults = app.get(&api("/settings/defaults"), &Auth::None).await;
    assert_eq!(defaults.status, StatusCode::OK);
    assert_eq!(defaults.content_type(), "application/toml; charset=utf-8");
    assert_eq!(
        defaults.body,
        follicle_core::settings::DEFAULT_SETTINGS_TOML.as_bytes()
    );
    assert!(String::from_utf8(defaults.body).unwrap().contains("[pricing]"));

    // Unknown pages are JSON 404s; signed-in routes without a sign-in are JSON 401s.
    let error = app
        .get(&api("/no-such-thing"), &Auth::None)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(error["message"], "page not found");
    for auth in [
        Auth::None,
        Auth::Bearer("0".repeat(64)),
        Auth::Bearer("short".into()),
        Auth::Cookie {
            token: "f".repeat(64),
            csrf: None,
        },
    ] {
        app.get(&api("/me"), &auth)
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
        app.get(&api("/clients"), &auth)
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
}

pub async fn sign_in_me_and_sign_out(app: &App) {
    let demo = Demo::seed(app).await;
    let login = &demo.owner_login;
    let token = login["token"].as_str().unwrap();
    let csrf = login["csrf_token"].as_str().unwrap();
    for t in [token, csrf] {
        assert_eq!(t.len(), 64, "{t}");
        assert!(t.bytes().all(|b| b.is_ascii_hexdigit()), "{t}");
    }
    assert_ne!(token, csrf);
    assert_eq!(login["user"]["email"], follicle_web::demo::DEMO_OWNER);
    assert_eq!(login["user"]["role"], "owner");
    assert_eq!(login["user"]["name"], "Ana Okafor");
    assert_eq!(login["user"]["active"], true);
    assert!(login["user"].get("password").is_none() && login["user"].get("password_hash").is_none());
    let ttl = moment(&login["expires_at"]) - OffsetDateTime::now_utc();
    assert!(ttl > Duration::hours(11) && ttl <= Duration::hours(12), "{ttl}");

    // The cookies a browser gets: the session (HttpOnly, Secure by default) and the CSRF
    // token (readable by scripts)…
    let answer = app
        .login(
            &follicle_web::demo::DEMO_PRACTITIONER.to_uppercase(),
            follicle_web::demo::DEMO_PASSWORD,
        )
        .await;
    let body = answer.expect(StatusCode::OK);
    assert_eq!(body["user"]["role"], "practitioner");
    let cookies: Vec<&str> = answer
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    // (and the device cookie of issue 11's sign-in throttling, HttpOnly, checked in `limits`)
    assert_eq!(cookies.len(), 3, "{cookies:?}");
    assert!(cookies[2].starts_with("follicle_device=") && cookies[2].contains("HttpOnly"));
    let session_cookie = format!("follicle_session={}; ", body["token"].as_str().unwrap());
    let csrf_cookie = format!("follicle_csrf={}; ", body["csrf_token"].as_str().unwrap());
    assert!(cookies[0].starts_with(&session_cookie), "{cookies:?}");
    for part in ["Path=/", "HttpOnly", "SameSite=Lax", "Secure", "Max-Age=43"] {
        assert!(cookies[0].contains(part), "{part} in {}", cookies[0]);
    }
    assert!(cookies[1].starts_with(&csrf_cookie), "{cookies:?}");
    assert!(cookies[1].contains("Secure") && !cookies[1].contains("HttpOnly"));

    // Who is signed in: by bearer and by cookie alike.
    let me = app.get(&api("/me"), &demo.owner).await.expect(StatusCode::OK);
    assert_eq!(id_of(&me["user"]), demo.owner_id);
    assert_eq!(me["clinic"]["name"], "Follicle Demo Clinic");
    assert_eq!(me["clinic"]["id"], me["user"]["clinic_id"]);
    assert_eq!(me["csrf_token"], csrf);
    let by_cookie = app
        .get(
            &api("/me"),
            &Auth::Cookie {
                token: token.to_owned(),
                csrf: None,
            },
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(by_cookie, me);

    // Signing out ends the session and clears both cookies.
    let out = app
        .send(
            Method::POST,
            &api("/auth/logout"),
            &demo.owner,
            Payload::None,
            &[],
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.body.is_empty());
    let cleared: Vec<&str> = out
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(cleared.len(), 2);
    assert!(cleared[0].starts_with("follicle_session=; ") && cleared[0].contains("Max-Age=0"));
    assert!(cleared[1].starts_with("follicle_csrf=; ") && cleared[1].contains("Max-Age=0"));
    app.get(&api("/me"), &demo.owner)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    app.send(
        Method::POST,
        &api("/auth/logout"),
        &demo.owner,
        Payload::None,
        &[],
    )
    .await
    .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    // The other sessions are untouched.
    app.get(&api("/me"), &demo.practitioner)
        .await
        .expect(StatusCode::OK);

    // With secure_cookies off (a plain-HTTP test host) the cookies are not marked Secure.
    let mut config = follicle_web::ServerConfig::default();
    config.server.secure_cookies = false;
    let plain = App::with_config(&app.store, app.backend, config);
    let answer = plain
        .login(
            follicle_web::demo::DEMO_FRONT_DESK,
            follicle_web::demo::DEMO_PASSWORD,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    for cookie in answer.headers.get_all(header::SET_COOKIE) {
        assert!(!cookie.to_str().unwrap().contains("Secure"), "{cookie:?}");
    }
}

pub async fn clinic_and_settings(app: &App) {
    let demo = Demo::seed(app).await;
    let clinic = app
        .get(&api("/clinic"), &demo.front_desk)
        .await
        .expect(StatusCode::OK);
    assert_eq!(clinic["name"], "Follicle Demo Clinic");
    assert_eq!(clinic["retention_years"], 8);
    // The demo clinic's one change from the defaults: its two rooms.
    assert_eq!(
        clinic["settings_toml"],
        "[diary]\nrooms = [\"Room 1\", \"Room 2\"]\n"
    );

    let plan = |auth: Auth| async move {
        app.post(
            &api("/plan"),
            &auth,
            json!({"client_toml": NORWOOD_3, "date": "2026-03-02"}),
        )
        .await
        .expect(StatusCode::OK)
    };
    // us-midwest: the default deposit of 100 × 0.85, rounded to 10 without exceeding 85.
    assert_eq!(plan(demo.practitioner.clone()).await["quote"]["deposit"], 80);

    let settings = "# Our prices\n[pricing]\ndeposit = 200\n";
    let updated = app
        .put(
            &api("/clinic/settings"),
            &demo.owner,
            json!({"settings_toml": settings, "retention_years": 10}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(updated["settings_toml"], settings);
    assert_eq!(updated["retention_years"], 10);
    assert_eq!(updated["id"], clinic["id"]);
    // The plan uses the new settings at once.
    assert_eq!(plan(demo.practitioner.clone()).await["quote"]["deposit"], 170);

    // Mistakes answer 422 with the field and line, and the old settings stay.
    let cases = [
        (
            "[pricing]\ndeposit = \"lots\"\n",
            "settings_toml: pricing.deposit",
            2,
        ),
        ("\n\n[pricing]\nnope = 3\n", "settings_toml: pricing.nope", 4),
        ("[pricing\ndeposit = 1\n", "settings_toml", 1),
        ("[pricing]\ndeposit = 1\ndeposit = 2\n", "settings_toml", 3),
    ];
    for (toml, field, line) in cases {
        let error = app
            .put(
                &api("/clinic/settings"),
                &demo.owner,
                json!({"settings_toml": toml, "retention_years": 10}),
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(error["field"], field, "{toml:?}: {error}");
        assert_eq!(error["line"], line, "{toml:?}: {error}");
        assert!(error["column"].as_u64().is_some(), "{error}");
    }
    let error = app
        .put(
            &api("/clinic/settings"),
            &demo.owner,
            json!({"settings_toml": "", "retention_years": 0}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "retention_years");
    let error = app
        .put(
            &api("/clinic/settings"),
            &demo.owner,
            json!({"settings_toml": ""}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert!(
        error["message"].as_str().unwrap().contains("retention_years"),
        "{error}"
    );
    let kept = app.get(&api("/clinic"), &demo.owner).await.expect(StatusCode::OK);
    assert_eq!(kept, updated);
    assert_eq!(plan(demo.practitioner.clone()).await["quote"]["deposit"], 170);

    // Empty settings are the defaults again.
    let reset = app
        .put(
            &api("/clinic/settings"),
            &demo.owner,
            json!({"settings_toml": "", "retention_years": 8}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(reset["settings_toml"], "");
    assert_eq!(plan(demo.owner.clone()).await["quote"]["deposit"], 80);
}

pub async fn users_list_add_update(app: &App) {
    let demo = Demo::seed(app).await;
    // The front desk does not see who works at the clinic (issue 11).
    app.get(&api("/users"), &demo.front_desk)
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    let users = app
        .get(&api("/users"), &demo.practitioner)
        .await
        .expect(StatusCode::OK);
    let listed: Vec<(&str, &str)> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["name"].as_str().unwrap(), u["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        listed,
        [
            ("Ana Okafor", "owner"),
            ("Jo Lindqvist", "front_desk"),
            ("Sam Rivera", "practitioner")
        ]
    );
    assert!(users.to_string().find("password").is_none());

    let added = app
        .post(
            &api("/users"),
            &demo.owner,
            json!({"email": "  Lee.Chen@Demo.Follicle.TEST ", "name": "Lee Chen", "role": "practitioner",
                   "password": "a long enough password"}),
        )
        .await;
    let added = added.expect(StatusCode::CREATED);
    assert_eq!(added["email"], "lee.chen@demo.follicle.test");
    assert_eq!(added["role"], "practitioner");
    assert_eq!(added["active"], true);
    assert_eq!(added["clinic_id"], demo.owner_login["user"]["clinic_id"]);
    assert!(added.get("password").is_none());
    let lee = id_of(&added);
    let users = app.get(&api("/users"), &demo.owner).await.expect(StatusCode::OK);
    assert_eq!(users.as_array().unwrap().len(), 4);
    assert!(ids(&users).contains(&lee));

    // The same email again, a short password, an unknown role.
    app.post(
        &api("/users"),
        &demo.owner,
        json!({"email": "lee.chen@demo.follicle.test", "name": "Lee Again", "role": "front_desk",
               "password": "another long password"}),
    )
    .await
    .expect_error(StatusCode::CONFLICT, "conflict");
    let error = app
        .post(
            &api("/users"),
            &demo.owner,
            json!({"email": "kim@demo.follicle.test", "name": "Kim", "role": "front_desk", "password": "short"}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "password");
    let error = app
        .post(
            &api("/users"),
            &demo.owner,
            json!({"email": "kim@demo.follicle.test", "name": "Kim", "role": "admin",
                   "password": "a long enough password"}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "role", "{error}");

    // Changing the role and turning the user off ends their sessions.
    let lee_session = app.session_for(lee).await;
    app.get(&api("/me"), &lee_session).await.expect(StatusCode::OK);
    let changed = app
        .put(
            &api(&format!("/users/{lee}")),
            &demo.owner,
            json!({"role": "front_desk", "active": false}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(changed["role"], "front_desk");
    assert_eq!(changed["active"], false);
    assert_eq!(changed["email"], "lee.chen@demo.follicle.test");
    app.get(&api("/me"), &lee_session)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    let listed = app.get(&api("/users"), &demo.owner).await.expect(StatusCode::OK);
    let lee_listed = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|u| id_of(u) == lee)
        .unwrap();
    assert_eq!(lee_listed["active"], false);
    assert_eq!(lee_listed["role"], "front_desk");

    // A clinic keeps an active owner.
    app.put(
        &api(&format!("/users/{}", demo.owner_id)),
        &demo.owner,
        json!({"role": "practitioner", "active": true}),
    )
    .await
    .expect_error(StatusCode::CONFLICT, "conflict");
    app.put(
        &api(&format!("/users/{}", Uuid::new_v4())),
        &demo.owner,
        json!({"role": "practitioner", "active": true}),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    let me = app.get(&api("/me"), &demo.owner).await.expect(StatusCode::OK);
    assert_eq!(me["user"]["role"], "owner");
}

pub async fn clients_search_create_get_update_delete(app: &App) {
    let demo = Demo::seed(app).await;
    let all = demo.clients().await;
    assert_eq!(all.len(), 8);
    let names: Vec<&str> = all.iter().map(|c| c["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "clients are listed by name");

    // By part of the name (any case), the phone's digits, or the email.
    for q in [
        "dAnIeL",
        "reyes",
        "5550101",
        "norwood-3-hairline@example",
        "+1%20555%200101",
    ] {
        let found = app
            .get(&api(&format!("/clients?q={q}")), &demo.front_desk)
            .await
            .expect(StatusCode::OK);
        let names: Vec<&str> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Daniel Reyes"], "q={q}");
    }
    let none = app
        .get(&api("/clients?q=nobody-at-all"), &demo.front_desk)
        .await
        .expect(StatusCode::OK);
    assert_eq!(none, json!([]));
    let two = app
        .get(&api("/clients?limit=2"), &demo.front_desk)
        .await
        .expect(StatusCode::OK);
    assert_eq!(two.as_array().unwrap().len(), 2);
    // The list a page at a time: each page's Link header names the next; the pages together
    // are the whole list by name, once each.
    let mut paged: Vec<String> = Vec::new();
    let mut uri = api("/clients?limit=3");
    for _ in 0..10 {
        let page = app.get(&uri, &demo.front_desk).await;
        let body = page.expect(StatusCode::OK);
        assert!(body.as_array().unwrap().len() <= 3);
        paged.extend(
            body.as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_owned()),
        );
        let Some(link) = page.headers.get("link") else {
            break;
        };
        let link = link.to_str().unwrap();
        assert!(link.ends_with(">; rel=\"next\""), "{link}");
        uri = link[1..link.find('>').unwrap()].to_owned();
    }
    assert_eq!(paged, names, "the pages are the list");
    let error = app
        .get(&api("/clients?q=reyes&cursor=00"), &demo.front_desk)
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "cursor");
    let error = app
        .get(&api("/clients?cursor=not-a-cursor"), &demo.front_desk)
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "cursor");

    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=abc", "query"),
        ("colour=red", "query"),
    ] {
        let error = app
            .get(&api(&format!("/clients?{query}")), &demo.front_desk)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(error["field"], field, "{query}");
    }

    // Create, read, change, delete.
    let created = app
        .post(
            &api("/clients"),
            &demo.front_desk,
            json!({"name": "  Sam Ólafsson ", "date_of_birth": "1988-07-14", "age_years": null,
                   "phone": "+354 555 1234", "email": "Sam@Example.IS", "notes": "Prefers mornings.\nCoffee, no sugar."}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(created["name"], "Sam Ólafsson");
    assert_eq!(created["date_of_birth"], "1988-07-14");
    assert_eq!(created["email"], "sam@example.is");
    // The front desk may write a note but never reads one back (issue 11: notes can hold
    // health details); the practitioner reads it, and a front-desk edit keeps it.
    assert_eq!(created["notes"], "");
    assert_eq!(created["created_at"], created["updated_at"]);
    let id = id_of(&created);
    let fetched = app
        .get(&api(&format!("/clients/{id}")), &demo.front_desk)
        .await
        .expect(StatusCode::OK);
    assert_eq!(fetched, created);
    let edited = app
        .put(
            &api(&format!("/clients/{id}")),
            &demo.front_desk,
            json!({"name": "Sam Ólafsson", "date_of_birth": "1988-07-14", "age_years": null,
                   "phone": "+354 555 1234", "email": "sam@example.is", "notes": ""}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(edited["notes"], "");
    let clinical = app
        .get(&api(&format!("/clients/{id}")), &demo.practitioner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(clinical["notes"], "Prefers mornings.\nCoffee, no sugar.");
    let created = edited;
    let found = app
        .get(&api("/clients?q=%C3%B3lafs"), &demo.front_desk)
        .await
        .expect(StatusCode::OK);
    assert_eq!(ids(&found), [id]);

    let changed = app
        .put(
            &api(&format!("/clients/{id}")),
            &demo.practitioner,
            json!({"name": "Sam Olafsson", "date_of_birth": null, "age_years": 38,
                   "phone": "+354 555 9999", "email": "", "notes": ""}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(changed["name"], "Sam Olafsson");
    assert_eq!(changed["date_of_birth"], Value::Null);
    assert_eq!(changed["age_years"], 38);
    assert_eq!(changed["phone"], "+354 555 9999");
    assert_eq!(changed["created_at"], created["created_at"]);
    assert!(moment(&changed["updated_at"]) >= moment(&created["updated_at"]));
    assert_eq!(
        app.get(&api(&format!("/clients/{id}")), &demo.owner)
            .await
            .expect(StatusCode::OK),
        changed
    );

    // Bad input names the field.
    for (body, field) in [
        (
            json!({"name": " ", "date_of_birth": null, "age_years": null, "phone": "", "email": "", "notes": ""}),
            "name",
        ),
        (
            json!({"name": "A", "date_of_birth": null, "age_years": 131, "phone": "", "email": "", "notes": ""}),
            "age_years",
        ),
        (
            json!({"name": "A", "date_of_birth": null, "age_years": null, "phone": "", "email": "not an email", "notes": ""}),
            "email",
        ),
        (
            json!({"name": "A", "date_of_birth": "1800-01-01", "age_years": null, "phone": "", "email": "", "notes": ""}),
            "date_of_birth",
        ),
    ] {
        let error = app
            .post(&api("/clients"), &demo.front_desk, body.clone())
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(error["field"], field, "{body}");
        let error = app
            .put(&api(&format!("/clients/{id}")), &demo.front_desk, body.clone())
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(error["field"], field, "{body}");
    }
    let error = app
        .post(&api("/clients"), &demo.front_desk, json!({"name": "No phone"}))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert!(error["message"].as_str().unwrap().contains("phone"), "{error}");
    let error = app
        .post(
            &api("/clients"),
            &demo.front_desk,
            json!({"name": "Born", "date_of_birth": "14/07/1988", "age_years": null, "phone": "", "email": "", "notes": ""}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "date_of_birth", "{error}");
    assert_eq!(
        app.get(&api(&format!("/clients/{id}")), &demo.owner)
            .await
            .expect(StatusCode::OK),
        changed
    );

    // Deleting: a client with records stays (409), one without goes.
    let daniel = demo.client_named("Daniel Reyes").await;
    app.delete(&api(&format!("/clients/{}", id_of(&daniel))), &demo.owner)
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");
    assert_eq!(demo.client_named("Daniel Reyes").await, daniel);
    let deleted = app.delete(&api(&format!("/clients/{id}")), &demo.owner).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(deleted.body.is_empty());
    app.get(&api(&format!("/clients/{id}")), &demo.owner)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.delete(&api(&format!("/clients/{id}")), &demo.owner)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.put(
        &api(&format!("/clients/{id}")),
        &demo.owner,
        json!({"name": "Ghost", "date_of_birth": null, "age_years": null, "phone": "", "email": "", "notes": ""}),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(demo.clients().await, all);
}

pub async fn consultations_add_list_get(app: &App) {
    let demo = Demo::seed(app).await;
    let client = new_client(&demo, "Dan Consult").await;
    let cid = id_of(&client);
    let path = api(&format!("/clients/{cid}/consultations"));
    assert_eq!(
        app.get(&path, &demo.practitioner).await.expect(StatusCode::OK),
        json!([])
    );

    let first = app
        .post(
            &path,
            &demo.practitioner,
            json!({"client_toml": NORWOOD_3, "date": "2026-03-02", "start": "2026-03-09"}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(first["version"], 1);
    assert_eq!(first["client_id"], json!(cid));
    assert_eq!(first["created_by"], json!(demo.practitioner_id));
    assert_eq!(first["profile_toml"], NORWOOD_3);
    assert_eq!(first["schema_version"], 1);
    assert_eq!(first["plan"]["verdict"], "proceed");
    assert_eq!(first["plan"]["assessed_on"], "2026-03-02");
    let sessions = first["plan"]["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    assert!(sessions[0]["date"].as_str().unwrap() >= "2026-03-09");
    // The quote as issued: numbered in the clinic, dated today, valid for the clinic's
    // pricing.quote_valid_days (30 by default), with the settings file it was made with.
    let quote = &first["plan"]["quote"];
    assert_eq!(quote["issued_on"], today().to_string());
    assert_eq!(quote["valid_until"], (today() + Duration::days(30)).to_string());
    assert!(
        first["quote_number"].as_str().unwrap().starts_with("Q-"),
        "{}",
        first["quote_number"]
    );
    assert!(first["settings_toml"].is_string());
    assert_eq!(first["replanned_from"], Value::Null);
    // The design drawn from the plan was saved with it, in the same write.
    let designs = app
        .get(&api(&format!("/clients/{cid}/designs")), &demo.practitioner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(designs.as_array().unwrap().len(), 1);
    assert_eq!(designs[0]["consultation_id"], first["id"]);
    assert_eq!(designs[0]["plan"], first["plan"]);

    let second = app
        .post(&path, &demo.owner, json!({"client_toml": KELOID}))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(second["version"], 2);
    assert_eq!(second["plan"]["verdict"], "not_suitable");
    assert_eq!(second["plan"]["sessions"], json!([]));
    assert_eq!(second["plan"]["quote"], Value::Null);
    assert_eq!(second["quote_number"], Value::Null);
    assert_eq!(
        second["plan"]["assessed_on"],
        today().to_string(),
        "the date defaults to today"
    );

    let listed = app.get(&path, &demo.practitioner).await.expect(StatusCode::OK);
    assert_eq!(listed, json!([first, second]));
    let one = app
        .get(&api(&format!("/consultations/{}", id_of(&first))), &demo.owner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(one, first);

    // A mistake in the client file: the field and its line in the file.
    let bad = NORWOOD_3.replace("fitzpatrick = \"III\"", "fitzpatrick = \"IX\"");
    let line = bad.lines().position(|l| l.contains("\"IX\"")).unwrap() + 1;
    let error = app
        .post(&path, &demo.practitioner, json!({"client_toml": bad}))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "skin.fitzpatrick");
    assert_eq!(error["line"], line);
    assert!(error["message"].as_str().unwrap().contains("IX"));
    let error = app
        .post(
            &path,
            &demo.practitioner,
            json!({"client_toml": "[client\nname = 1"}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "client_toml");
    assert_eq!(error["line"], 1);
    let error = app
        .post(
            &path,
            &demo.practitioner,
            json!({"client_toml": NORWOOD_3, "date": "2 March 2026"}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "date");
    app.post(
        &path,
        &demo.practitioner,
        json!({"client_toml": NORWOOD_3, "colour": "blue"}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    app.post(
        &api(&format!("/clients/{}/consultations", Uuid::new_v4())),
        &demo.practitioner,
        json!({"client_toml": NORWOOD_3}),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.get(
        &api(&format!("/consultations/{}", Uuid::new_v4())),
        &demo.practitioner,
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        app.get(&path, &demo.practitioner).await.expect(StatusCode::OK),
        listed
    );
}

pub async fn designs_add_list_get_pattern_preview(app: &App) {
    let demo = Demo::seed(app).await;
    let client = new_client(&demo, "Dee Design").await;
    let cid = id_of(&client);
    let consultation = app
        .post(
            &api(&format!("/clients/{cid}/consultations")),
            &demo.practitioner,
            json!({"client_toml": NORWOOD_3, "date": "2026-03-02"}),
        )
        .await
        .expect(StatusCode::CREATED);
    let keloid = app
        .post(
            &api(&format!("/clients/{cid}/consultations")),
            &demo.practitioner,
            json!({"client_toml": KELOID, "date": "2026-03-02"}),
        )
        .await
        .expect(StatusCode::CREATED);
    let path = api(&format!("/clients/{cid}/designs"));

    // From the consultation's plan.
    let planned = app
        .post(
            &path,
            &demo.practitioner,
            json!({"consultation_id": consultation["id"], "seed": 3, "notes": "From the plan"}),
        )
        .await
        .expect(StatusCode::CREATED);
    // Version 1 was saved with the consultation.
    assert_eq!(planned["version"], 2);
    assert_eq!(planned["client_id"], json!(cid));
    // With the plan and quote that go with it, numbered after the consultation's.
    assert_eq!(planned["plan"]["verdict"], "proceed");
    assert!(planned["plan"]["quote"]["total"].as_i64().unwrap() > 0);
    assert_ne!(planned["quote_number"], consultation["quote_number"]);
    assert_eq!(planned["consultation_id"], consultation["id"]);
    assert_eq!(planned["seed"], 3);
    assert_eq!(planned["notes"], "From the plan");
    assert_eq!(planned["created_by"], json!(demo.practitioner_id));
    assert!(planned["hairline"].is_object(), "{}", planned["hairline"]);
    assert!(planned["zones"].is_object(), "{}", planned["zones"]);
    assert!(planned["settings"]["session_fractions"].is_array());
    assert!(planned["settings"].get("seed").is_none());

    // From an explicit pattern request.
    let request = json!({"zones": {"kind": "stage", "stage": "norwood_2"}, "session_fractions": [0.5, 1.0]});
    let explicit = app
        .post(&path, &demo.owner, json!({"request": request, "seed": 9}))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(explicit["version"], 3);
    assert_eq!(explicit["consultation_id"], Value::Null);
    assert_eq!(explicit["plan"], Value::Null, "no consultation, no plan");
    assert_eq!(explicit["seed"], 9);
    // An older design name is read and kept in the one stage vocabulary (the client file's form).
    assert_eq!(
        explicit["zones"],
        json!({"kind": "stage", "stage": {"scale": "norwood", "stage": "II"}})
    );
    assert_eq!(explicit["settings"]["session_fractions"], json!([0.5, 1.0]));

    // What cannot be designed.
    let error = app
        .post(&path, &demo.practitioner, json!({"notes": "nothing"}))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "request");
    let error = app
        .post(
            &path,
            &demo.practitioner,
            json!({"request": {"zones": {"kind": "stage", "stage": "norwood_99"}}}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "request.zones");
    let error = app
        .post(
            &path,
            &demo.practitioner,
            json!({"request": {"session_fractions": [0.8, 0.4]}}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "design");
    assert!(
        error["message"].as_str().unwrap().contains("session_fractions"),
        "{error}"
    );
    let error = app
        .post(
            &path,
            &demo.practitioner,
            json!({"consultation_id": keloid["id"]}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "consultation_id");
    // Another client's consultation is not this client's.
    let daniel = demo.client_named("Daniel Reyes").await;
    let daniels = app
        .get(
            &api(&format!("/clients/{}/consultations", id_of(&daniel))),
            &demo.practitioner,
        )
        .await
        .expect(StatusCode::OK);
    for body in [
        json!({"consultation_id": daniels[0]["id"]}),
        json!({"consultation_id": daniels[0]["id"], "request": {"zones": {"kind": "stage", "stage": "norwood_1"}}}),
    ] {
        app.post(&path, &demo.practitioner, body)
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }

    let listed = app.get(&path, &demo.practitioner).await.expect(StatusCode::OK);
    assert_eq!(listed[0]["consultation_id"], consultation["id"]);
    assert_eq!(
        listed.as_array().unwrap()[1..],
        [planned.clone(), explicit.clone()]
    );
    for design in [&planned, &explicit] {
        let got = app
            .get(&api(&format!("/designs/{}", id_of(design))), &demo.owner)
            .await
            .expect(StatusCode::OK);
        assert_eq!(&got, design);
    }

    // The dots: JSON, the same as POST /pattern with the same request and seed.
    let pattern_path = api(&format!("/designs/{}/pattern", id_of(&explicit)));
    let as_json = app.get(&pattern_path, &demo.practitioner).await;
    assert_eq!(as_json.status, StatusCode::OK);
    assert_eq!(as_json.content_type(), "application/json");
    let pattern = as_json.json();
    let dots = pattern["dots"].as_array().unwrap();
    assert!(dots.len() > 100, "{}", dots.len());
    assert_eq!(pattern["sessions"], 2);
    let mut same_request = request.clone();
    same_request["seed"] = json!(9);
    let computed = app
        .post(&api("/pattern"), &demo.practitioner, same_request)
        .await
        .expect(StatusCode::OK);
    assert_eq!(computed, pattern);

    // …and binary, with as many dots.
    let binary = app
        .send(
            Method::GET,
            &pattern_path,
            &demo.practitioner,
            Payload::None,
            &[("accept", "application/vnd.follicle.pattern")],
        )
        .await;
    assert_eq!(binary.status, StatusCode::OK);
    assert_eq!(binary.content_type(), follicle_web::binary::MEDIA_TYPE);
    assert_eq!(&binary.body[..4], b"FPAT");
    let (header, records) = follicle_web::binary::decode(&binary.body).unwrap();
    assert_eq!(records.len(), dots.len());
    assert_eq!(header["dot_count"], dots.len());
    assert_eq!(header["sessions"], 2);
    for (dot, record) in dots.iter().zip(&records).step_by(97) {
        assert!((dot["x_mm"].as_f64().unwrap() - record.x_mm).abs() <= 0.0051);
        assert!((dot["y_mm"].as_f64().unwrap() - record.y_mm).abs() <= 0.0051);
        assert_eq!(dot["session"], record.session);
    }

    // The design from the plan draws too (its own dots, seed 3).
    let planned_pattern = app
        .get(
            &api(&format!("/designs/{}/pattern", id_of(&planned))),
            &demo.owner,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(planned_pattern["sessions"], 3);
    assert_ne!(planned_pattern["dots"], pattern["dots"]);

    // Previews: PNG of the asked size.
    let preview_path = api(&format!("/designs/{}/preview", id_of(&planned)));
    for (query, size) in [
        ("", 512),
        ("?size=64&view=top&moment=fresh:1", 64),
        ("?view=chart&moment=years:3&size=80", 80),
    ] {
        let png = app
            .get(&format!("{preview_path}{query}"), &demo.practitioner)
            .await;
        assert_eq!(png.status, StatusCode::OK, "{query}");
        assert_eq!(png.content_type(), "image/png");
        assert!(png.body.starts_with(PNG_MAGIC));
        let image = image::load_from_memory(&png.body).unwrap();
        assert_eq!((image.width(), image.height()), (size, size), "{query}");
    }
    for (query, field) in [
        ("?size=8", "size"),
        ("?view=sideways", "view"),
        ("?moment=healed:9", "moment"),
        ("?moment=soon", "moment"),
        ("?zoom=2", "query"),
    ] {
        let error = app
            .get(&format!("{preview_path}{query}"), &demo.practitioner)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(error["field"], field, "{query}");
    }
    // The stencil: a PDF of the outline page and one page per session, or one page as SVG in mm.
    let stencil_path = api(&format!("/designs/{}/stencil", id_of(&planned)));
    let pdf = app.get(&stencil_path, &demo.practitioner).await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert_eq!(pdf.content_type(), "application/pdf");
    assert!(pdf.body.starts_with(b"%PDF-"));
    // Every page has its media box: the outline page and one per session.
    assert_eq!(
        pdf.body
            .windows(b"/MediaBox".len())
            .filter(|w| *w == b"/MediaBox")
            .count(),
        1 + 3
    );
    let svg = app
        .get(&format!("{stencil_path}?format=svg&page=2"), &demo.practitioner)
        .await;
    assert_eq!(svg.status, StatusCode::OK);
    assert_eq!(svg.content_type(), "image/svg+xml");
    assert!(String::from_utf8_lossy(&svg.body).contains(r#"width="297mm" height="210mm""#));
    for (query, field) in [
        ("?format=png", "format"),
        ("?format=svg&page=9", "page"),
        ("?format=svg&page=0", "page"),
        ("?page=2", "page"),
        ("?size=2", "query"),
    ] {
        let error = app
            .get(&format!("{stencil_path}{query}"), &demo.practitioner)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(error["field"], field, "{query}");
    }
    for missing in [
        format!("/designs/{}", Uuid::new_v4()),
        format!("/designs/{}/pattern", Uuid::new_v4()),
        format!("/designs/{}/preview", Uuid::new_v4()),
        format!("/designs/{}/stencil", Uuid::new_v4()),
    ] {
        app.get(&api(&missing), &demo.practitioner)
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }
    assert_eq!(
        app.get(&path, &demo.practitioner).await.expect(StatusCode::OK),
        listed
    );
}

pub async fn consents_add_list(app: &App) {
    let demo = Demo::seed(app).await;
    let client = new_client(&demo, "Connie Sent").await;
    let path = api(&format!("/clients/{}/consents", id_of(&client)));
    let signed = app
        .post(
            &path,
            &demo.practitioner,
            json!({"kind": "procedure", "template_version": "2026-01", "text": "I agree to the treatment.",
                   "signed_by": "Connie Sent", "signed_at": "2026-03-02T10:00:00Z"}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(signed["kind"], "procedure");
    assert_eq!(signed["template_version"], "2026-01");
    assert_eq!(signed["text"], "I agree to the treatment.");
    assert_eq!(signed["signed_by"], "Connie Sent");
    assert_eq!(signed["signed_at"], "2026-03-02T10:00:00Z");
    assert_eq!(signed["recorded_by"], json!(demo.practitioner_id));
    assert_eq!(signed["client_id"], client["id"]);

    let before = OffsetDateTime::now_utc() - Duration::seconds(2);
    let now_signed = app
        .post(
            &path,
            &demo.owner,
            json!({"kind": "photos", "template_version": "2026-01", "text": "Photos may be taken.",
                   "signed_by": "C. Sent"}),
        )
        .await
        .expect(StatusCode::CREATED);
    let at = moment(&now_signed["signed_at"]);
    assert!(
        at >= before && at <= OffsetDateTime::now_utc() + Duration::seconds(2),
        "{at}"
    );

    for (body, what) in [
        (
            json!({"kind": "tattoo", "template_version": "1", "text": "x", "signed_by": "x"}),
            "kind",
        ),
        (
            json!({"kind": "photos", "template_version": "1", "text": "x", "signed_by": "x", "signed_at": "yesterday"}),
            "signed_at",
        ),
        (
            json!({"kind": "photos", "template_version": "1", "text": "x", "signed_by": ""}),
            "signed_by",
        ),
    ] {
        let error = app
            .post(&path, &demo.practitioner, body)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert!(error.to_string().contains(what), "{what}: {error}");
    }
    let listed = app.get(&path, &demo.practitioner).await.expect(StatusCode::OK);
    assert_eq!(listed, json!([signed, now_signed]));
}

pub async fn photos_upload_list_download_without_exif(app: &App) {
    let demo = Demo::seed(app).await;
    let client = new_client(&demo, "Phoebe Foto").await;
    let cid = id_of(&client);
    let consent = app
        .post(
            &api(&format!("/clients/{cid}/consents")),
            &demo.practitioner,
            json!({"kind": "photos", "template_version": "2026-01", "text": "Photos may be taken.",
                   "signed_by": "Phoebe Foto"}),
        )
        .await
        .expect(StatusCode::CREATED);
    let original = jpeg_with_gps();
    assert!(has_gps(&original), "the test photo carries GPS");
    let uploaded = app
        .send(
            Method::POST,
            &api(&format!(
                "/clients/{cid}/photos?angle=front&taken_at=2026-03-02T10:30:00Z&consent_id={}",
                consent["id"].as_str().unwrap()
            )),
            &demo.practitioner,
            Payload::Raw(Some("image/jpeg".into()), original.clone()),
            &[],
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(uploaded["client_id"], json!(cid));
    assert_eq!(uploaded["consent_id"], consent["id"]);
    assert_eq!(uploaded["session_id"], Value::Null);
    assert_eq!(uploaded["angle"], "front");
    assert_eq!(uploaded["taken_at"], "2026-03-02T10:30:00Z");
    assert_eq!(uploaded["content_type"], "image/jpeg");
    assert_eq!(
        (uploaded["width"].as_i64(), uploaded["height"].as_i64()),
        (Some(32), Some(24))
    );
    assert_eq!(uploaded["orientation"], 6, "the orientation is kept as a field");
    assert!(uploaded["byte_size"].as_u64().unwrap() < original.len() as u64);
    assert_eq!(uploaded["created_by"], json!(demo.practitioner_id));

    let png = {
        let image = image::RgbImage::from_fn(20, 10, |x, y| image::Rgb([x as u8 * 12, y as u8 * 20, 200]));
        let mut bytes = Vec::new();
        image
            .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
            .unwrap();
        bytes
    };
    let uploaded_png = app
        .send(
            Method::POST,
            &api(&format!(
                "/clients/{cid}/photos?angle=top&taken_at=2026-03-02T10:31:00Z"
            )),
            &demo.owner,
            Payload::Raw(Some("image/png".into()), png.clone()),
            &[],
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(uploaded_png["content_type"], "image/png");
    assert_eq!(uploaded_png["angle"], "top");
    assert_eq!(uploaded_png["orientation"], Value::Null);

    let listed = app
        .get(&api(&format!("/clients/{cid}/photos")), &demo.practitioner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(listed, json!([uploaded, uploaded_png]));

    // The download carries no EXIF (no GPS), and the same pixels.
    let download = app
        .get(&api(&format!("/photos/{}", id_of(&uploaded))), &demo.practitioner)
        .await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.content_type(), "image/jpeg");
    assert_eq!(download.headers[header::CACHE_CONTROL], "private, no-store");
    assert_eq!(download.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(
        download.body.len() as u64,
        uploaded["byte_size"].as_u64().unwrap()
    );
    assert!(download.body.starts_with(&[0xFF, 0xD8]) && download.body.ends_with(&[0xFF, 0xD9]));
    assert!(exif_of(&download.body).is_none(), "EXIF left in the download");
    assert!(!has_gps(&download.body));
    assert!(!download.body.windows(6).any(|w| w == b"Exif\0\0"));
    assert_eq!(
        image::load_from_memory(&download.body).unwrap().to_rgb8(),
        image::load_from_memory(&original).unwrap().to_rgb8()
    );
    let download_png = app
        .get(&api(&format!("/photos/{}", id_of(&uploaded_png))), &demo.owner)
        .await;
    assert_eq!(download_png.status, StatusCode::OK);
    assert_eq!(download_png.content_type(), "image/png");
    assert_eq!(download_png.body, png);

    // The demo's photo too.
    let martin = demo.client_named("Martin Kowalski").await;
    let demo_photos = app
        .get(
            &api(&format!("/clients/{}/photos", id_of(&martin))),
            &demo.practitioner,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(demo_photos.as_array().unwrap().len(), 1);
    let demo_photo = app
        .get(
            &api(&format!("/photos/{}", id_of(&demo_photos[0]))),
            &demo.practitioner,
        )
        .await;
    assert_eq!(demo_photo.status, StatusCode::OK);
    assert!(exif_of(&demo_photo.body).is_none());
    assert_eq!(
        demo_photo.body.len() as u64,
        demo_photos[0]["byte_size"].as_u64().unwrap()
    );

    // Bad details, and ids of other clients' records.
    for (query, field) in [
        ("angle=sideways", "angle"),
        ("angle=front&taken_at=noon", "taken_at"),
        ("taken_at=2026-03-02T10:30:00Z", "query"),
        ("angle=front&session_id=nope", "query"),
    ] {
        let error = app
            .send(
                Method::POST,
                &api(&format!("/clients/{cid}/photos?{query}")),
                &demo.practitioner,
                Payload::Raw(Some("image/jpeg".into()), original.clone()),
                &[],
            )
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(error["field"], field, "{query}");
    }
    let martins_consents = app
        .get(
            &api(&format!("/clients/{}/consents", id_of(&martin))),
            &demo.practitioner,
        )
        .await
        .expect(StatusCode::OK);
    let error = app
        .send(
            Method::POST,
            &api(&format!(
                "/clients/{cid}/photos?angle=front&consent_id={}",
                martins_consents[0]["id"].as_str().unwrap()
            )),
            &demo.practitioner,
            Payload::Raw(Some("image/jpeg".into()), original.clone()),
            &[],
        )
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    assert!(error["message"].as_str().unwrap().contains("consent"));
    app.get(&api(&format!("/photos/{}", Uuid::new_v4())), &demo.practitioner)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        app.get(&api(&format!("/clients/{cid}/photos")), &demo.practitioner)
            .await
            .expect(StatusCode::OK),
        listed
    );
}

/// The studio's clients list shows 100 clients a page, each page linking to the next.
pub async fn clients_page_pages_the_list(app: &App) {
    let demo = Demo::seed(app).await;
    let owner = app.store.actor(demo.owner_id).await.unwrap();
    for i in 0..100 {
        let client = follicle_store::NewClient {
            name: format!("Zed Paged {i:03}"),
            ..follicle_store::NewClient::default()
        };
        app.store.create_client(&owner, &client).await.unwrap();
    }
    let cookie = Auth::Cookie {
        token: demo.owner_login["token"].as_str().unwrap().to_owned(),
        csrf: None,
    };
    let rows = |html: &str| html.matches("<tr><td><a href=\"/clients/").count();
    let first = app.get("/clients", &cookie).await;
    assert_eq!(first.status, StatusCode::OK);
    let html = String::from_utf8_lossy(&first.body).into_owned();
    assert_eq!(rows(&html), 100);
    let at = html
        .find("href=\"/clients?after=")
        .expect("a link to the next page");
    let link = &html[at + 6..];
    let link = &link[..link.find('"').unwrap()];
    let second = app.get(link, &cookie).await;
    assert_eq!(second.status, StatusCode::OK);
    let html = String::from_utf8_lossy(&second.body).into_owned();
    // The demo's 8 and the 100 added: 8 on the second page, the last of them Zed Paged 099.
    assert_eq!(rows(&html), 8);
    assert!(html.contains("Zed Paged 099"));
    assert!(!html.contains("/clients?after="), "no page after the last");
    // A search shows its matches, with no pages.
    let found = app.get("/clients?q=paged%20099", &cookie).await;
    let html = String::from_utf8_lossy(&found.body).into_owned();
    assert_eq!(rows(&html), 1);
    // A cursor that is not one is a clear error, not a 500.
    let bad = app.get("/clients?after=zz", &cookie).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// The Today page lists today's sessions however long the clinic's history: it reads the week,
/// not years of diary (which, capped at 500 rows, once left out the week; issue 16).
pub async fn today_shows_the_week_whatever_the_history(app: &App) {
    let demo = Demo::seed(app).await;
    let owner = app.store.actor(demo.owner_id).await.unwrap();
    let client_id = id_of(&demo.clients().await[0]);
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let book = |starts_at: OffsetDateTime, notes: &str| {
        let appointment = follicle_store::NewAppointment {
            client_id,
            practitioner_id: None,
            starts_at,
            duration_minutes: 60,
            notes: notes.to_owned(),
        };
        let store = app.store.clone();
        async move { store.book_appointment(&owner, &appointment).await.unwrap() }
    };
    // Five years of a busy diary: more than the 500 rows a diary read answers.
    for i in 0..520 {
        book(now - Duration::days(30 + 3 * i), "").await;
    }
    let late_today = now.date().with_hms(23, 0, 0).unwrap().assume_utc();
    book(late_today, "booked for today").await;
    book(late_today + Duration::days(3), "booked for this week").await;
    let cookie = Auth::Cookie {
        token: demo.owner_login["token"].as_str().unwrap().to_owned(),
        csrf: None,
    };
    let page = app.get("/", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8_lossy(&page.body);
    let today = &html[html.find("id=\"today-list\"").unwrap()..html.find("id=\"h-week\"").unwrap()];
    assert!(today.contains("booked for today"), "{today}");
    assert!(html.contains("booked for this week"));
}

pub async fn appointments_between_book_status_client(app: &App) {
    let demo = Demo::seed(app).await;
    let day = today();
    let from = (day - Duration::days(60)).midnight().assume_utc();
    let to = from + Duration::days(366);
    let range = |from: OffsetDateTime, to: OffsetDateTime| {
        api(&format!(
            "/appointments?from={}&to={}",
            from.format(&Rfc3339).unwrap(),
            to.format(&Rfc3339).unwrap()
        ))
    };
    let diary = app
        .get(&range(from, to), &demo.front_desk)
        .await
        .expect(StatusCode::OK);
    let diary = diary.as_array().unwrap().clone();
    assert!(diary.len() >= 10, "{}", diary.len());
    let starts: Vec<OffsetDateTime> = diary.iter().map(|a| moment(&a["starts_at"])).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "earliest first");
    assert!(starts.iter().all(|s| *s >= from && *s <= to));
    let completed = diary.iter().filter(|a| a["status"] == "completed").count();
    assert_eq!(completed, 2, "the two treated demo clients' first sessions");
    assert!(
        diary
            .iter()
            .all(|a| a["practitioner_id"] == json!(demo.practitioner_id))
    );

    // Each client's own list holds their part of the diary.
    let mut from_clients = 0;
    for client in demo.clients().await {
        let theirs = app
            .get(
                &api(&format!("/clients/{}/appointments", id_of(&client))),
                &demo.front_desk,
            )
            .await
            .expect(StatusCode::OK);
        for a in theirs.as_array().unwrap() {
            assert_eq!(a["client_id"], client["id"]);
            assert!(diary.contains(a), "{a}");
            from_clients += 1;
        }
    }
    assert_eq!(from_clients, diary.len());

    // Booking (front desk) and changing the status.
    let client = demo.client_named("Amara Okafor").await;
    let booked = app
        .post(
            &api("/appointments"),
            &demo.front_desk,
            json!({"client_id": client["id"], "practitioner_id": demo.practitioner_id,
                   "starts_at": "2031-01-06T10:30:00+01:00", "duration_minutes": 150, "notes": "Consultation follow-up"}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(booked["status"], "booked");
    assert_eq!(booked["starts_at"], "2031-01-06T09:30:00Z", "stored in UTC");
    assert_eq!(booked["kind"], "session");
    assert_eq!(booked["history"][0]["what"], "booked");
    assert_eq!(booked["history"][0]["by"], json!(demo.front_desk_id));
    // The practitioner is busy then: refused, naming the appointment; with a reason, booked.
    let other = demo.client_named("Daniel Reyes").await;
    let clash = json!({"client_id": other["id"], "practitioner_id": demo.practitioner_id,
        "starts_at": "2031-01-06T11:00:00Z", "duration_minutes": 30, "notes": "", "kind": "consultation"});
    let error = app
        .post(&api("/appointments"), &demo.front_desk, clash.clone())
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains(booked["id"].as_str().unwrap()),
        "{error}"
    );
    let mut allowed = clash;
    allowed["override_reason"] = json!("ten minutes to sign the consent");
    let overridden = app
        .post(&api("/appointments"), &demo.front_desk, allowed)
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(overridden["kind"], "consultation");
    assert!(
        overridden["history"][1]["what"]
            .as_str()
            .unwrap()
            .contains("ten minutes to sign the consent")
    );
    // Outside the opening hours: the field, the value and what is allowed.
    let error = app
        .post(
            &api("/appointments"),
            &demo.front_desk,
            json!({"client_id": other["id"], "practitioner_id": null,
                   "starts_at": "2031-01-07T07:30:00Z", "duration_minutes": 30, "notes": "", "kind": "consultation"}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "starts_at");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("07:30–08:00 is outside the opening hours 09:00–18:00"),
        "{error}"
    );
    assert_eq!(booked["duration_minutes"], 150);
    assert_eq!(booked["client_id"], client["id"]);
    let id = id_of(&booked);
    let confirmed = app
        .put(
            &api(&format!("/appointments/{id}/status")),
            &demo.front_desk,
            json!({"status": "confirmed"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(confirmed["starts_at"], booked["starts_at"]);
    let error = app
        .put(
            &api(&format!("/appointments/{id}/status")),
            &demo.front_desk,
            json!({"status": "done"}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert!(error["message"].as_str().unwrap().contains("no_show"), "{error}");
    app.put(
        &api(&format!("/appointments/{}/status", Uuid::new_v4())),
        &demo.front_desk,
        json!({"status": "cancelled"}),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    let theirs = app
        .get(
            &api(&format!(
                "/clients/{}/appointments",
                client["id"].as_str().unwrap()
            )),
            &demo.front_desk,
        )
        .await
        .expect(StatusCode::OK);
    assert!(theirs.as_array().unwrap().contains(&confirmed));
    let that_day = app
        .get(
            &range(
                time::macros::datetime!(2031-01-06 00:00 UTC),
                time::macros::datetime!(2031-01-07 00:00 UTC),
            ),
            &demo.practitioner,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(that_day, json!([confirmed, overridden]));

    // Bad bookings and ranges.
    for (body, field) in [
        (
            json!({"client_id": client["id"], "practitioner_id": null, "starts_at": "2031-01-06T09:30:00Z", "duration_minutes": 0, "notes": ""}),
            "duration_minutes",
        ),
        (
            json!({"client_id": client["id"], "practitioner_id": null, "starts_at": "3031-01-06T09:30:00Z", "duration_minutes": 30, "notes": ""}),
            "starts_at",
        ),
    ] {
        let error = app
            .post(&api("/appointments"), &demo.front_desk, body)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(error["field"], field);
    }
    app.post(
        &api("/appointments"),
        &demo.front_desk,
        json!({"client_id": Uuid::new_v4(), "practitioner_id": null, "starts_at": "2031-01-06T09:30:00Z", "duration_minutes": 30, "notes": ""}),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    for (query, field) in [
        ("from=2031-01-07T00:00:00Z&to=2031-01-06T00:00:00Z", "to"),
        ("from=2031-01-01T00:00:00Z&to=2032-01-03T00:00:00Z", "to"),
        ("from=monday&to=2031-01-06T00:00:00Z", "from"),
        ("from=2031-01-01T00:00:00Z", "query"),
    ] {
        let error = app
            .get(&api(&format!("/appointments?{query}")), &demo.front_desk)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(error["field"], field, "{query}");
    }
}

pub async fn sessions_log_list_get_with_expired_batch_warning(app: &App) {
    let demo = Demo::seed(app).await;
    let (fresh, expired) = demo.batches().await;
    let client = demo.client_named("Daniel Reyes").await;
    let cid = id_of(&client);
    let appointments = app
        .get(&api(&format!("/clients/{cid}/appointments")), &demo.practitioner)
        .await
        .expect(StatusCode::OK);
    let session = |batch: &Value, appointment: Value| {
        json!({"client_id": cid, "appointment_id": appointment, "performed_on": today().to_string(),
               "practitioner_id": demo.practitioner_id, "zones": ["hairline", "temples"], "batch_id": batch["id"],
               "dilution": 0.6, "needle": "0603RL", "needle_lot": "RL3-24-1187", "depth_mm": 0.8,
               "machine_settings": "7.5 V", "duration_minutes": 180, "anaesthetic": "", "notes": "Foundation."})
    };

    // The expired batch is refused at the chair…
    let refused = app
        .post(
            &api("/sessions"),
            &demo.practitioner,
            session(&expired, appointments[0]["id"].clone()),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(refused["field"], "batch_id");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("lot SB1-2025-007 expired on"),
        "{refused}"
    );
    // …unless the reason is given; the units used come off its stock and the appointment is
    // completed.
    let mut overridden = session(&expired, appointments[0]["id"].clone());
    overridden["batch_override"] = json!("the last of the lot, agreed with the client");
    overridden["pigment_units"] = json!(1);
    let logged = app
        .post(&api("/sessions"), &demo.practitioner, overridden)
        .await
        .expect(StatusCode::CREATED);
    let batch = app
        .get(
            &api(&format!("/pigments/batches/{}", expired["id"].as_str().unwrap())),
            &demo.practitioner,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(batch["quantity"], expired["quantity"].as_i64().unwrap() - 1);
    let appointment = app
        .get(
            &api(&format!(
                "/appointments/{}",
                appointments[0]["id"].as_str().unwrap()
            )),
            &demo.front_desk,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(appointment["status"], "completed");
    assert_eq!(
        logged["warnings"],
        json!([{"kind": "batch_expired", "batch_id": expired["id"], "lot": "SB1-2025-007",
                "expired_on": expired["expires_on"]}])
    );
    let with_expired = id_of(&logged);
    let logged_fresh = app
        .post(&api("/sessions"), &demo.owner, session(&fresh, Value::Null))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(logged_fresh["warnings"], json!([]));

    let listed = app
        .get(&api(&format!("/clients/{cid}/sessions")), &demo.practitioner)
        .await
        .expect(StatusCode::OK);
    let listed_ids = ids(&listed);
    assert_eq!(listed_ids.len(), 2);
    assert!(listed_ids.contains(&with_expired) && listed_ids.contains(&id_of(&logged_fresh)));
    let one = app
        .get(&api(&format!("/sessions/{with_expired}")), &demo.practitioner)
        .await
        .expect(StatusCode::OK);
    assert!(listed.as_array().unwrap().contains(&one));
    assert_eq!(one["client_id"], json!(cid));
    assert_eq!(one["appointment_id"], appointments[0]["id"]);
    assert_eq!(one["batch_id"], expired["id"]);
    assert_eq!(one["zones"], json!(["hairline", "temples"]));
    assert_eq!(one["performed_on"], today().to_string());
    assert_eq!(one["dilution"], 0.6);
    assert_eq!(one["depth_mm"], 0.8);
    assert_eq!(one["needle"], "0603RL");
    assert_eq!(one["duration_minutes"], 180);
    assert_eq!(one["practitioner_id"], json!(demo.practitioner_id));

    // The recall of the expired batch finds this client.
    let recall = app
        .get(
            &api(&format!(
                "/pigments/batches/{}/recall",
                expired["id"].as_str().unwrap()
            )),
            &demo.practitioner,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        recall,
        json!([{"client_id": cid, "client_name": "Daniel Reyes", "phone": client["phone"], "email": client["email"],
                "session_id": with_expired, "performed_on": today().to_string(), "practitioner_id": demo.practitioner_id}])
    );
    // A page at a time (the store's tests walk the pages): one session is one page, no next.
    let recall_uri = api(&format!(
        "/pigments/batches/{}/recall",
        expired["id"].as_str().unwrap()
    ));
    let one_page = app
        .get(&format!("{recall_uri}?limit=1"), &demo.practitioner)
        .await;
    assert!(one_page.headers.get("link").is_none());
    assert_eq!(one_page.expect(StatusCode::OK), recall);
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("cursor=zz", "cursor"),
    ] {
        let error = app
            .get(&format!("{recall_uri}?{query}"), &demo.practitioner)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(error["field"], field, "{query}");
    }
    // The studio's batch page: the totals, the page, and the whole list as CSV.
    let browser = cookie(&demo.practitioner);
    let batch_page = format!("/pigments/batches/{}", expired["id"].as_str().unwrap());
    let html = text(&app.get(&batch_page, &browser).await);
    assert!(html.contains("1 client, 1 session"), "{html}");
    assert!(
        html.contains("Daniel Reyes") && !html.contains("rel=\"next\""),
        "{html}"
    );
    let csv = app.get(&format!("{batch_page}/recall.csv"), &browser).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.content_type(), "text/csv; charset=utf-8");
    let csv = text(&csv);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "client,session,phone,email");
    assert!(
        lines[1].starts_with(&format!("Daniel Reyes,{},", today()))
            && lines[1].ends_with(client["email"].as_str().unwrap()),
        "{csv}"
    );
    assert_eq!(lines.len(), 2, "{csv}");
    let refused = app.get(&format!("{batch_page}?after=zz"), &browser).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        text(&refused)
    );

    // Bad logs name the field and log nothing.
    let mut cases = Vec::new();
    for (field, value) in [
        ("zones", json!([])),
        ("zones", json!(["hairline", "hairline"])),
        ("depth_mm", json!(9.0)),
        ("dilution", json!(0.0)),
        ("duration_minutes", json!(0)),
        ("needle", json!("")),
        ("performed_on", json!("1850-01-01")),
    ] {
        let mut body = session(&fresh, Value::Null);
        body[field] = value;
        cases.push((body, field));
    }
    for (body, field) in cases {
        let error = app
            .post(&api("/sessions"), &demo.practitioner, body)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(error["field"], field, "{error}");
    }
    let mut unknown_zone = session(&fresh, Value::Null);
    unknown_zone["zones"] = json!(["eyebrows"]);
    app.post(&api("/sessions"), &demo.practitioner, unknown_zone)
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    // Another client's appointment, an unknown batch.
    let amara = demo.client_named("Amara Okafor").await;
    let amaras = app
        .get(
            &api(&format!(
                "/clients/{}/appointments",
                amara["id"].as_str().unwrap()
            )),
            &demo.practitioner,
        )
        .await
        .expect(StatusCode::OK);
    app.post(
        &api("/sessions"),
        &demo.practitioner,
        session(&fresh, amaras[0]["id"].clone()),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.post(
        &api("/sessions"),
        &demo.practitioner,
        session(&json!({"id": Uuid::new_v4()}), Value::Null),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.get(&api(&format!("/sessions/{}", Uuid::new_v4())), &demo.practitioner)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        app.get(&api(&format!("/clients/{cid}/sessions")), &demo.practitioner)
            .await
            .expect(StatusCode::OK),
        listed
    );
    // A batch put under recall is refused at the chair from that day on.
    let recalled = app
        .put(
            &api(&format!(
                "/pigments/batches/{}/recall",
                fresh["id"].as_str().unwrap()
            )),
            &demo.practitioner,
            json!({"recalled_on": today().to_string(), "reason": "maker's notice 2026-17"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(recalled["recall_reason"], "maker's notice 2026-17");
    let refused = app
        .post(&api("/sessions"), &demo.owner, session(&fresh, Value::Null))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("is under recall since"),
        "{refused}"
    );
    app.put(
        &api(&format!(
            "/pigments/batches/{}/recall",
            fresh["id"].as_str().unwrap()
        )),
        &demo.owner,
        json!({"recalled_on": "3026-01-01", "reason": "x"}),
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
}

pub async fn pigments_products_batches_stock_recall(app: &App) {
    let demo = Demo::seed(app).await;
    let products = app
        .get(&api("/pigments/products"), &demo.practitioner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(products.as_array().unwrap().len(), 1);
    assert_eq!(products[0]["name"], "Scalp Black No. 1");
    assert_eq!(products[0]["maker"], "Demo Pigments Ltd");
    assert!(products[0]["ingredients"].as_str().unwrap().contains("CI 77266"));
    let demo_product = products[0].clone();

    let product = app
        .post(
            &api("/pigments/products"),
            &demo.practitioner,
            json!({"name": "Grey Wash", "maker": "Inks & Co", "ingredients": "Carbon black, aqua"}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(product["name"], "Grey Wash");
    let products = app
        .get(&api("/pigments/products"), &demo.owner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(products.as_array().unwrap().len(), 2);
    assert!(products.as_array().unwrap().contains(&product));
    let error = app
        .post(
            &api("/pigments/products"),
            &demo.practitioner,
            json!({"name": "", "maker": "x", "ingredients": "x"}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "name");

    let (fresh, expired) = demo.batches().await;
    assert_eq!(fresh["quantity"], 12);
    assert_eq!(fresh["product_id"], demo_product["id"]);
    assert_eq!(expired["quantity"], 2);
    assert!(expired["expires_on"].as_str().unwrap() < today().to_string().as_str());
    assert!(fresh["expires_on"].as_str().unwrap() > today().to_string().as_str());

    let batch = app
        .post(
            &api("/pigments/batches"),
            &demo.practitioner,
            json!({"product_id": product["id"], "lot": "GW-2026-001", "expires_on": "2028-01-31", "quantity": 5}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(batch["lot"], "GW-2026-001");
    assert_eq!(batch["expires_on"], "2028-01-31");
    assert_eq!(batch["quantity"], 5);
    let bid = id_of(&batch);
    app.post(
        &api("/pigments/batches"),
        &demo.practitioner,
        json!({"product_id": product["id"], "lot": "GW-2026-001", "expires_on": "2028-01-31", "quantity": 1}),
    )
    .await
    .expect_error(StatusCode::CONFLICT, "conflict");
    app.post(
        &api("/pigments/batches"),
        &demo.practitioner,
        json!({"product_id": Uuid::new_v4(), "lot": "X-1", "expires_on": "2028-01-31", "quantity": 1}),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    let error = app
        .post(
            &api("/pigments/batches"),
            &demo.practitioner,
            json!({"product_id": product["id"], "lot": "X-2", "expires_on": "2028-01-31", "quantity": -1}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "quantity");
    let batches = app
        .get(&api("/pigments/batches"), &demo.owner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(batches.as_array().unwrap().len(), 3);
    let got = app
        .get(&api(&format!("/pigments/batches/{bid}")), &demo.practitioner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(got, batch);

    // Stock: up, down, never below zero, no overflow.
    let stock = api(&format!("/pigments/batches/{bid}/stock"));
    let up = app
        .post(&stock, &demo.practitioner, json!({"delta": 3}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(up["quantity"], 8);
    let down = app
        .post(&stock, &demo.practitioner, json!({"delta": -8}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(down["quantity"], 0);
    for delta in [-1, i64::MAX, i64::MIN, 1_000_001] {
        let error = app
            .post(&stock, &demo.practitioner, json!({"delta": delta}))
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(error["field"], "quantity", "{delta}");
    }
    let error = app
        .post(&stock, &demo.practitioner, json!({"delta": 1.5}))
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "delta", "{error}");
    let after = app
        .get(&api(&format!("/pigments/batches/{bid}")), &demo.practitioner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(after["quantity"], 0);

    // The recall lists every client who received the batch, by name.
    let recall = app
        .get(
            &api(&format!(
                "/pigments/batches/{}/recall",
                fresh["id"].as_str().unwrap()
            )),
            &demo.practitioner,
        )
        .await
        .expect(StatusCode::OK);
    let names: Vec<&str> = recall
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["client_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["James Whitfield", "Martin Kowalski"]);
    for entry in recall.as_array().unwrap() {
        let client = demo.client_named(entry["client_name"].as_str().unwrap()).await;
        assert_eq!(entry["client_id"], client["id"]);
        assert_eq!(entry["phone"], client["phone"]);
        assert_eq!(entry["email"], client["email"]);
        let sessions = app
            .get(
                &api(&format!("/clients/{}/sessions", client["id"].as_str().unwrap())),
                &demo.practitioner,
            )
            .await
            .expect(StatusCode::OK);
        assert_eq!(sessions.as_array().unwrap().len(), 1);
        assert_eq!(entry["session_id"], sessions[0]["id"]);
        assert_eq!(sessions[0]["batch_id"], fresh["id"]);
        assert_eq!(entry["performed_on"], sessions[0]["performed_on"]);
    }
    assert_eq!(
        app.get(&api(&format!("/pigments/batches/{bid}/recall")), &demo.owner)
            .await
            .expect(StatusCode::OK),
        json!([])
    );
    for path in [
        format!("/pigments/batches/{}", Uuid::new_v4()),
        format!("/pigments/batches/{}/recall", Uuid::new_v4()),
    ] {
        app.get(&api(&path), &demo.practitioner)
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }
}

pub async fn audit_and_export(app: &App) {
    let demo = Demo::seed(app).await;
    let martin = demo.client_named("Martin Kowalski").await;
    let mid = id_of(&martin);
    app.get(&api(&format!("/clients/{mid}")), &demo.practitioner)
        .await
        .expect(StatusCode::OK);

    let export = app
        .get(&api(&format!("/clients/{mid}/export")), &demo.owner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(export["client"], martin);
    let count = |key: &str| export[key].as_array().unwrap().len();
    assert_eq!(count("consultations"), 1);
    assert_eq!(count("designs"), 1);
    assert_eq!(count("sessions"), 1);
    assert_eq!(count("consents"), 1);
    assert_eq!(count("photos"), 1);
    let plan_sessions = export["consultations"][0]["plan"]["sessions"]
        .as_array()
        .unwrap()
        .len();
    // The plan's sessions and the consultation visit before them (the demo's week).
    assert_eq!(count("appointments"), plan_sessions + 1);
    assert!(
        export["consultations"][0]["profile_toml"]
            .as_str()
            .unwrap()
            .contains("Martin Kowalski")
    );
    assert_eq!(export["consultations"][0]["schema_version"], 1);
    assert_eq!(
        export["designs"][0]["consultation_id"],
        export["consultations"][0]["id"]
    );
    assert_eq!(export["photos"][0]["consent_id"], export["consents"][0]["id"]);

    let audit = app
        .get(&api(&format!("/clients/{mid}/audit")), &demo.owner)
        .await
        .expect(StatusCode::OK);
    let entries = audit.as_array().unwrap();
    let numbers: Vec<i64> = entries.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "oldest first");
    assert!(entries.iter().all(|e| e["client_id"] == json!(mid)));
    let has = |user: Uuid, action: &str, detail: &str| {
        entries
            .iter()
            .any(|e| e["user_id"] == json!(user) && e["action"] == action && e["detail"] == detail)
    };
    assert!(has(demo.practitioner_id, "created", "client"));
    assert!(has(demo.practitioner_id, "created", "consultation v1"));
    assert!(has(demo.practitioner_id, "created", "design v1"));
    assert!(has(demo.practitioner_id, "viewed", "client"));
    assert!(has(demo.owner_id, "exported", "whole record"), "{audit}");
    // Reading the log is not a view of the client's details, but it is itself logged: read
    // again, it has the same entries and one `audit_read` more.
    let again = app
        .get(&api(&format!("/clients/{mid}/audit")), &demo.owner)
        .await
        .expect(StatusCode::OK);
    let again = again.as_array().unwrap();
    assert_eq!(again.len(), entries.len() + 1);
    assert_eq!(&again[..entries.len()], &entries[..]);
    assert_eq!(again[entries.len()]["action"], "audit_read");
    // The audit log of a new client has its creation only.
    let fresh = new_client(&demo, "Audrey Audit").await;
    let audit = app
        .get(&api(&format!("/clients/{}/audit", id_of(&fresh))), &demo.owner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(audit[0]["action"], "created");
    assert_eq!(audit[0]["user_id"], json!(demo.front_desk_id));
    assert_eq!(audit[0]["detail"], "client");
    let export = app
        .get(&api(&format!("/clients/{}/export", id_of(&fresh))), &demo.owner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        export,
        json!({"client": fresh, "consultations": [], "designs": [], "appointments": [], "sessions": [],
               "consents": [], "signed_consents": [], "intakes": [], "move_requests": [], "payments": [], "photos": [], "landmarks": [], "messages": []})
    );
    for path in ["audit", "export"] {
        app.get(&api(&format!("/clients/{}/{path}", Uuid::new_v4())), &demo.owner)
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }
}

pub async fn compute_assess_plan_pattern_preview(app: &App) {
    let demo = Demo::seed(app).await;
    let who = &demo.front_desk;

    let assessed = app
        .post(
            &api("/assess"),
            who,
            json!({"client_toml": NORWOOD_3, "date": "2026-03-02"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(assessed["assessed_on"], "2026-03-02");
    assert_eq!(assessed["eligibility"]["verdict"], "proceed");
    assert_eq!(assessed["client"]["name"], "Daniel Reyes");
    let zones: Vec<&str> = assessed["zones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["zone"].as_str().unwrap())
        .collect();
    assert!(
        zones.contains(&"hairline") && zones.contains(&"temples"),
        "{zones:?}"
    );
    assert!(assessed["treated_area_cm2"].as_f64().unwrap() > 0.0);
    assert!(assessed.get("sessions").is_none());
    let keloid = app
        .post(&api("/assess"), who, json!({"client_toml": KELOID}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(keloid["eligibility"]["verdict"], "not_suitable");
    assert!(!keloid["eligibility"]["reasons"].as_array().unwrap().is_empty());

    let plan = app
        .post(
            &api("/plan"),
            who,
            json!({"client_toml": NORWOOD_3, "date": "2026-03-02", "start": "2026-03-09"}),
        )
        .await
        .expect(StatusCode::OK);
    let sessions = plan["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    assert!(sessions[0]["date"].as_str().unwrap() >= "2026-03-09");
    let quote = &plan["quote"];
    let per_session: i64 = quote["per_session"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(per_session, quote["total"].as_i64().unwrap());
    assert_eq!(quote["location"], "us-midwest");
    assert!(!plan["aftercare"]["items"].as_array().unwrap().is_empty());
    for (body, field) in [
        (json!({"client_toml": NORWOOD_3, "start": "soon"}), "start"),
        (json!({"client_toml": "[client]\nage = \"old\"\n"}), "client.age"),
    ] {
        let error = app
            .post(&api("/plan"), who, body)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(error["field"], field, "{error}");
    }

    // Pattern: JSON and binary agree; the same seed gives the same dots, another seed others.
    let request = json!({"zones": {"kind": "stage", "stage": "norwood_1"}, "seed": 4});
    let pattern = app
        .post(&api("/pattern"), who, request.clone())
        .await
        .expect(StatusCode::OK);
    let dots = pattern["dots"].as_array().unwrap();
    assert!(dots.len() > 100);
    assert!(dots.iter().all(|d| d["zone"] == "hairline"));
    assert_eq!(
        app.post(&api("/pattern"), who, request.clone())
            .await
            .expect(StatusCode::OK),
        pattern
    );
    let other_seed = app
        .post(
            &api("/pattern"),
            who,
            json!({"zones": {"kind": "stage", "stage": "norwood_1"}, "seed": 5}),
        )
        .await
        .expect(StatusCode::OK);
    assert_ne!(other_seed["dots"], pattern["dots"]);
    let binary = app
        .send(
            Method::POST,
            &api("/pattern"),
            who,
            Payload::Json(request.clone()),
            &[(
                "accept",
                "application/json;q=0.5, application/vnd.follicle.pattern",
            )],
        )
        .await;
    assert_eq!(binary.status, StatusCode::OK);
    assert_eq!(binary.content_type(), "application/vnd.follicle.pattern");
    let (header, records) = follicle_web::binary::decode(&binary.body).unwrap();
    assert_eq!(records.len(), dots.len());
    assert_eq!(header["dot_count"], dots.len());
    assert_eq!(header["stats"], pattern["stats"]);
    let error = app
        .post(
            &api("/pattern"),
            who,
            json!({"zones": {"kind": "stage", "stage": "norwood_99"}}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "body.zones");
    let error = app
        .post(
            &api("/pattern"),
            who,
            json!({"density_per_cm2": {"hairline": 4000.0}}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "design");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("density_per_cm2.hairline")
    );

    // Preview: a PNG of the asked size; skins differ.
    let preview = |body: Value| async move { app.post(&api("/preview"), who, body).await };
    let dark = preview(json!({"design": request, "fitzpatrick": "VI", "view": "chart", "size": 96})).await;
    assert_eq!(dark.status, StatusCode::OK);
    assert_eq!(dark.content_type(), "image/png");
    assert!(dark.body.starts_with(PNG_MAGIC));
    let dark_image = image::load_from_memory(&dark.body).unwrap().to_rgb8();
    assert_eq!(dark_image.dimensions(), (96, 96));
    let light = preview(json!({"design": request, "fitzpatrick": "I", "view": "chart", "size": 96})).await;
    let light_image = image::load_from_memory(&light.body).unwrap().to_rgb8();
    let brightness = |i: &image::RgbImage| i.pixels().map(|p| u64::from(p[0]) + u64::from(p[1])).sum::<u64>();
    assert!(brightness(&light_image) > brightness(&dark_image));
    let default = preview(json!({"design": {}})).await;
    assert_eq!(default.status, StatusCode::OK);
    assert_eq!(image::load_from_memory(&default.body).unwrap().width(), 512);
    for (body, field) in [
        (json!({"design": request, "fitzpatrick": "IX"}), "fitzpatrick"),
        (json!({"design": request, "size": 4096}), "size"),
        (json!({"design": request, "view": "inside"}), "view"),
        (json!({"design": request, "moment": "healed:4"}), "moment"),
        (json!({"design": request, "moment": "years:99"}), "moment"),
        (json!({"design": {"zones": 3}}), "design.zones"),
    ] {
        let error = preview(body.clone())
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(error["field"], field, "{body}: {error}");
    }
    // Odd moments are refused or drawn, never a server error.
    for moment in [
        "years:5@NaN",
        "years:5@inf",
        "years:5@-3",
        "years:NaN",
        "fresh:0",
        "healed:255",
        "years:1e308",
        "years:2@1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1+1",
    ] {
        let answer = preview(json!({"design": request, "moment": moment, "size": 32})).await;
        assert!(
            answer.status == StatusCode::OK || answer.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{moment}: {} {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        );
        if answer.status == StatusCode::OK {
            assert!(answer.body.starts_with(PNG_MAGIC));
        } else {
            answer.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        }
    }
}
