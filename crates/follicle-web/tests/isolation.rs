//! Another clinic finds nothing of the first: every id of the demo clinic, tried by a second
//! clinic's owner on every route that takes an id (in the path or in the body), is a 404 like
//! an unknown id, and the demo clinic's records are unchanged afterwards.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{App, Auth, Demo, NORWOOD_3, Payload, id_of, jpeg_with_gps, today};

fn api(path: &str) -> String {
    format!("/api/v1{path}")
}

/// Every record id of the demo clinic, with its kind.
async fn every_id(demo: &Demo) -> Vec<(&'static str, Uuid)> {
    let app = &demo.app;
    let mut ids = Vec::new();
    for client in demo.clients().await {
        let cid = id_of(&client);
        ids.push(("client", cid));
        let export = app
            .get(&api(&format!("/clients/{cid}/export")), &demo.owner)
            .await
            .expect(StatusCode::OK);
        for (key, kind) in [
            ("consultations", "consultation"),
            ("designs", "design"),
            ("appointments", "appointment"),
            ("sessions", "session"),
            ("consents", "consent"),
            ("photos", "photo"),
        ] {
            for record in export[key].as_array().unwrap() {
                ids.push((kind, id_of(record)));
            }
        }
    }
    let list = |path: &'static str| async move {
        app.get(&api(path), &demo.owner)
            .await
            .expect(StatusCode::OK)
            .as_array()
            .unwrap()
            .iter()
            .map(id_of)
            .collect::<Vec<_>>()
    };
    ids.extend(
        list("/pigments/batches")
            .await
            .into_iter()
            .map(|id| ("batch", id)),
    );
    ids.extend(
        list("/pigments/products")
            .await
            .into_iter()
            .map(|id| ("product", id)),
    );
    ids.extend(list("/users").await.into_iter().map(|id| ("user", id)));
    for kind in [
        "client",
        "consultation",
        "design",
        "appointment",
        "session",
        "consent",
        "photo",
        "batch",
        "product",
        "user",
    ] {
        assert!(
            ids.iter().any(|(k, _)| *k == kind),
            "the demo clinic has no {kind}"
        );
    }
    ids
}

/// Everything of the demo clinic a request could change, as its owner reads it.
async fn everything(demo: &Demo) -> Value {
    let app = &demo.app;
    let get = |path: String| async move { app.get(&api(&path), &demo.owner).await.expect(StatusCode::OK) };
    let mut exports = Vec::new();
    let mut photos = Vec::new();
    for client in demo.clients().await {
        let export = get(format!("/clients/{}/export", id_of(&client))).await;
        for photo in export["photos"].as_array().unwrap() {
            let bytes = app
                .get(&api(&format!("/photos/{}", id_of(photo))), &demo.owner)
                .await;
            assert_eq!(bytes.status, StatusCode::OK);
            photos.push(json!({"id": photo["id"], "bytes": bytes.body}));
        }
        exports.push(export);
    }
    json!({
        "clinic": get("/clinic".into()).await,
        "users": get("/users".into()).await,
        "products": get("/pigments/products".into()).await,
        "batches": get("/pigments/batches".into()).await,
        "exports": exports,
        "photos": photos,
    })
}

/// Every route that takes an id in its path, with a body that would be accepted for an id
/// of one's own clinic (so only the id can make it fail).
fn id_routes(own_consultation: Uuid) -> Vec<(Method, &'static str, Payload)> {
    let client = json!({"name": "Taken Over", "date_of_birth": null, "age_years": null, "phone": "", "email": "", "notes": ""});
    let j = Payload::Json;
    vec![
        (Method::GET, "/clients/{id}", Payload::None),
        (Method::PUT, "/clients/{id}", j(client)),
        (Method::DELETE, "/clients/{id}", Payload::None),
        (Method::GET, "/clients/{id}/audit", Payload::None),
        (Method::GET, "/clients/{id}/export", Payload::None),
        (Method::GET, "/clients/{id}/consultations", Payload::None),
        (
            Method::POST,
            "/clients/{id}/consultations",
            j(json!({"client_toml": NORWOOD_3, "date": "2026-03-02"})),
        ),
        (Method::GET, "/consultations/{id}", Payload::None),
        (Method::POST, "/consultations/{id}/replan", Payload::None),
        (Method::POST, "/clients/{id}/replan", Payload::None),
        (
            Method::POST,
            "/consultations/{id}/design-plan",
            j(json!({"zones": {"kind": "stage", "stage": "norwood_2"}})),
        ),
        (Method::GET, "/clients/{id}/designs", Payload::None),
        (
            Method::POST,
            "/clients/{id}/designs",
            j(json!({"consultation_id": own_consultation})),
        ),
        (Method::GET, "/designs/{id}", Payload::None),
        (Method::GET, "/designs/{id}/pattern", Payload::None),
        (Method::GET, "/designs/{id}/preview?size=16", Payload::None),
        (Method::GET, "/designs/{id}/stencil", Payload::None),
        (Method::GET, "/designs/{id}/client-sheet", Payload::None),
        (Method::GET, "/clients/{id}/consents", Payload::None),
        (
            Method::POST,
            "/clients/{id}/consents",
            j(json!({"kind": "photos", "template_version": "1", "text": "Yes", "signed_by": "Someone"})),
        ),
        (Method::GET, "/clients/{id}/photos", Payload::None),
        (
            Method::POST,
            "/clients/{id}/photos?angle=front",
            Payload::Raw(Some("image/jpeg".into()), jpeg_with_gps()),
        ),
        (Method::GET, "/photos/{id}", Payload::None),
        (
            Method::POST,
            "/photos/{id}/warp",
            j(json!({"design": {}, "landmarks": []})),
        ),
        (
            Method::POST,
            "/photos/{id}/overlay",
            j(json!({"design": {}, "landmarks": []})),
        ),
        (
            Method::PUT,
            "/appointments/{id}/status",
            j(json!({"status": "cancelled"})),
        ),
        (Method::GET, "/appointments/{id}", Payload::None),
        (
            Method::PUT,
            "/appointments/{id}/time",
            j(json!({"starts_at": "2031-01-06T10:00:00Z"})),
        ),
        (
            Method::POST,
            "/consultations/{id}/bookings",
            j(json!({"starts_at": "2031-01-06T10:00:00Z"})),
        ),
        (Method::GET, "/clients/{id}/appointments", Payload::None),
        (Method::GET, "/clients/{id}/sessions", Payload::None),
        (Method::GET, "/sessions/{id}", Payload::None),
        (Method::GET, "/pigments/batches/{id}", Payload::None),
        (
            Method::POST,
            "/pigments/batches/{id}/stock",
            j(json!({"delta": 1})),
        ),
        (Method::GET, "/pigments/batches/{id}/recall", Payload::None),
        (
            Method::PUT,
            "/pigments/batches/{id}/recall",
            j(json!({"recalled_on": "2026-12-01", "reason": "maker's notice"})),
        ),
        (
            Method::PUT,
            "/users/{id}",
            j(json!({"role": "front_desk", "active": false})),
        ),
    ]
}

pub async fn another_clinic_finds_nothing(app: &App) {
    let demo = Demo::seed(app).await;
    let ids = every_id(&demo).await;
    let before = everything(&demo).await;

    // The second clinic, with a client, a consultation, a product and a batch of its own.
    let (other, other_owner) = app.other_clinic("Elsewhere SMP").await;
    let own_client = app
        .post(
            &api("/clients"),
            &other,
            json!({"name": "Own Client", "date_of_birth": null, "age_years": null, "phone": "", "email": "", "notes": ""}),
        )
        .await
        .expect(StatusCode::CREATED);
    let own_cid = id_of(&own_client);
    let own_consultation = app
        .post(
            &api(&format!("/clients/{own_cid}/consultations")),
            &other,
            json!({"client_toml": NORWOOD_3}),
        )
        .await
        .expect(StatusCode::CREATED);
    let own_product = app
        .post(
            &api("/pigments/products"),
            &other,
            json!({"name": "Own Ink", "maker": "M", "ingredients": "Carbon"}),
        )
        .await
        .expect(StatusCode::CREATED);
    let own_batch = app
        .post(
            &api("/pigments/batches"),
            &other,
            json!({"product_id": own_product["id"], "lot": "OWN-1", "expires_on": "2030-01-01", "quantity": 3}),
        )
        .await
        .expect(StatusCode::CREATED);

    // Each route answers for one's own records (so a 404 below is the id, not the route).
    let routes = id_routes(id_of(&own_consultation));
    let own_id = |template: &str| {
        if template.starts_with("/clients/") {
            Some(own_cid)
        } else if template.starts_with("/consultations/") {
            Some(id_of(&own_consultation))
        } else if template.starts_with("/pigments/batches/") {
            Some(id_of(&own_batch))
        } else {
            None
        }
    };
    for (method, template, payload) in &routes {
        let Some(id) = own_id(template) else { continue };
        if *method == Method::DELETE || template.ends_with("/photos?angle=front") {
            continue;
        }
        let answer = app
            .send(
                method.clone(),
                &api(&template.replace("{id}", &id.to_string())),
                &other,
                payload.clone(),
                &[],
            )
            .await;
        assert!(
            answer.status.is_success(),
            "{method} {template} with the clinic's own id: {} {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        );
    }
    let own_before = app
        .get(&api(&format!("/clients/{own_cid}/export")), &other)
        .await
        .expect(StatusCode::OK);

    // Every id of the demo clinic on every route: 404, as for an id that does not exist.
    let mut tried = 0;
    for (kind, id) in ids.iter().copied().chain([("unknown", Uuid::new_v4())]) {
        for (method, template, payload) in &routes {
            let path = api(&template.replace("{id}", &id.to_string()));
            let answer = app
                .send(method.clone(), &path, &other, payload.clone(), &[])
                .await;
            assert_eq!(
                answer.status,
                StatusCode::NOT_FOUND,
                "{kind} {id}: {method} {path}: {}",
                String::from_utf8_lossy(&answer.body)
            );
            answer.expect_error(StatusCode::NOT_FOUND, "not_found");
            tried += 1;
        }
    }
    assert!(tried > 40 * routes.len(), "{tried}");

    // Ids of the demo clinic inside bodies and query strings: 404 too.
    let of_kind = |kind: &str| -> Vec<Uuid> {
        ids.iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| *id)
            .collect()
    };
    let session = |client: Uuid, practitioner: Uuid, batch: Uuid, appointment: Option<Uuid>| {
        json!({"client_id": client, "appointment_id": appointment, "performed_on": today().to_string(),
               "practitioner_id": practitioner, "zones": ["crown"], "batch_id": batch, "dilution": 0.5,
               "needle": "0603RL", "needle_lot": "L1", "depth_mm": 0.8, "machine_settings": "",
               "duration_minutes": 60, "anaesthetic": "", "notes": ""})
    };
    let mut in_body: Vec<(String, Payload)> = Vec::new();
    let j = Payload::Json;
    for client in of_kind("client") {
        in_body.push((
            "/appointments".into(),
            j(
                json!({"client_id": client, "practitioner_id": null, "starts_at": "2031-01-01T10:00:00Z",
                     "duration_minutes": 30, "notes": ""}),
            ),
        ));
        in_body.push((
            "/sessions".into(),
            j(session(client, other_owner, id_of(&own_batch), None)),
        ));
    }
    for user in of_kind("user") {
        in_body.push((
            "/appointments".into(),
            j(
                json!({"client_id": own_cid, "practitioner_id": user, "starts_at": "2031-01-01T10:00:00Z",
                     "duration_minutes": 30, "notes": ""}),
            ),
        ));
        in_body.push((
            "/sessions".into(),
            j(session(own_cid, user, id_of(&own_batch), None)),
        ));
    }
    for batch in of_kind("batch") {
        in_body.push(("/sessions".into(), j(session(own_cid, other_owner, batch, None))));
    }
    for appointment in of_kind("appointment") {
        in_body.push((
            "/sessions".into(),
            j(session(
                own_cid,
                other_owner,
                id_of(&own_batch),
                Some(appointment),
            )),
        ));
    }
    for product in of_kind("product") {
        in_body.push((
            "/pigments/batches".into(),
            j(json!({"product_id": product, "lot": "STOLEN-1", "expires_on": "2030-01-01", "quantity": 1})),
        ));
    }
    for consultation in of_kind("consultation") {
        in_body.push((
            format!("/clients/{own_cid}/designs"),
            j(json!({"consultation_id": consultation})),
        ));
        in_body.push((
            format!("/clients/{own_cid}/designs"),
            j(json!({"consultation_id": consultation, "request": {"zones": {"kind": "stage", "stage": "norwood_1"}}})),
        ));
    }
    for consent in of_kind("consent") {
        in_body.push((
            format!("/clients/{own_cid}/photos?angle=front&consent_id={consent}"),
            Payload::Raw(Some("image/jpeg".into()), jpeg_with_gps()),
        ));
    }
    for session in of_kind("session") {
        in_body.push((
            format!("/clients/{own_cid}/photos?angle=front&session_id={session}"),
            Payload::Raw(Some("image/jpeg".into()), jpeg_with_gps()),
        ));
    }
    let in_bodies = in_body.len();
    for (path, payload) in in_body {
        let answer = app.send(Method::POST, &api(&path), &other, payload, &[]).await;
        answer.expect_error(StatusCode::NOT_FOUND, "not_found");
    }

    // Lists show only the clinic's own records.
    let listed = |path: &'static str| {
        let other = other.clone();
        async move {
            app.get(&api(path), &other)
                .await
                .expect(StatusCode::OK)
                .as_array()
                .unwrap()
                .iter()
                .map(id_of)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed("/clients?limit=200").await, [own_cid]);
    assert_eq!(listed("/users").await, [other_owner]);
    assert_eq!(listed("/pigments/products").await, [id_of(&own_product)]);
    assert_eq!(listed("/pigments/batches").await, [id_of(&own_batch)]);
    for q in ["daniel", "example.com", "555"] {
        assert_eq!(
            app.get(&api(&format!("/clients?q={q}")), &other)
                .await
                .expect(StatusCode::OK),
            json!([]),
            "{q}"
        );
    }
    let day = today();
    let diary = app
        .get(
            &api(&format!(
                "/appointments?from={}T00:00:00Z&to={}T00:00:00Z",
                day - time::Duration::days(100),
                day + time::Duration::days(265)
            )),
            &other,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(diary, json!([]));
    let clinic = app.get(&api("/clinic"), &other).await.expect(StatusCode::OK);
    assert_eq!(clinic["name"], "Elsewhere SMP");

    // The demo clinic is as it was, and its audit log never saw the other clinic's owner.
    assert_eq!(everything(&demo).await, before);
    for (kind, id) in &ids {
        if *kind == "client" {
            let log = app
                .get(&api(&format!("/clients/{id}/audit")), &demo.owner)
                .await
                .expect(StatusCode::OK);
            assert!(
                log.as_array()
                    .unwrap()
                    .iter()
                    .all(|e| e["user_id"] != json!(other_owner)),
                "{log}"
            );
        }
    }
    for user in app
        .get(&api("/users"), &demo.owner)
        .await
        .expect(StatusCode::OK)
        .as_array()
        .unwrap()
    {
        assert_eq!(user["active"], true);
    }
    // Nothing was attached to the other clinic's own client either.
    assert_eq!(
        app.get(&api(&format!("/clients/{own_cid}/export")), &other)
            .await
            .expect(StatusCode::OK),
        own_before
    );
    // The figure of issue 11's table (every attempt above was a 404 and nothing changed).
    println!(
        "cross-clinic attempts: {tried} ids on {} routes + {in_bodies} ids in bodies and queries = {}; leaks: 0",
        routes.len(),
        tried + in_bodies
    );
}

/// Anything in an id's place that is not an id is "not found", as JSON.
pub async fn malformed_ids_are_not_found(app: &App) {
    let demo = Demo::seed(app).await;
    let routes = id_routes(Uuid::new_v4());
    let error = app
        .get(&api("/clients/not-a-uuid"), &demo.owner)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(error["message"], "record not found");
    let some_id = Uuid::new_v4().to_string();
    let bad = [
        "not-a-uuid".to_owned(),
        "123".to_owned(),
        "%00".to_owned(),
        "%20".to_owned(),
        format!("{some_id}x"),
        some_id[..35].to_owned(),
        some_id.replace('-', "_"),
        "%E2%80%8B".to_owned(),
        "..%2Fclients".to_owned(),
        "0".repeat(300),
    ];
    for id in &bad {
        for (method, template, payload) in &routes {
            let path = api(&template.replace("{id}", id));
            let answer = app
                .send(method.clone(), &path, &demo.owner, payload.clone(), &[])
                .await;
            assert_eq!(
                answer.status,
                StatusCode::NOT_FOUND,
                "{method} {path}: {}",
                String::from_utf8_lossy(&answer.body)
            );
            answer.expect_error(StatusCode::NOT_FOUND, "not_found");
        }
    }
    // Nobody signed in learns nothing from an id: 401 whatever it is.
    for id in ["not-a-uuid", some_id.as_str()] {
        app.get(&api(&format!("/clients/{id}")), &Auth::None)
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    assert_eq!(demo.clients().await.len(), 8);
}
