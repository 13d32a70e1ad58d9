//! The OpenAPI document: served as built, unchanged unless on purpose (snapshot), and true to
//! the router — every route in it, nothing else, and sign-in required where the router
//! requires it.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::{Method, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use follicle_store::testing::totp_code;
use serde_json::json;
use time::OffsetDateTime;

use crate::support::{App, Auth, Backend, Demo, Payload, TestStore, id_of};

/// Every operation the API's router serves, as (method, path under `/api/v1`).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/health"),
    ("post", "/auth/login"),
    ("post", "/auth/logout"),
    ("get", "/me"),
    ("post", "/auth/second-factor"),
    ("post", "/auth/password-reset"),
    ("post", "/auth/password-reset/complete"),
    ("put", "/me/password"),
    ("post", "/me/two-factor"),
    ("post", "/me/two-factor/confirm"),
    ("post", "/me/two-factor/disable"),
    ("post", "/me/recovery-codes"),
    ("get", "/me/sessions"),
    ("delete", "/me/sessions"),
    ("delete", "/me/sessions/{session}"),
    ("post", "/users/{id}/reset"),
    ("get", "/clinic/account-rules"),
    ("put", "/clinic/account-rules"),
    ("get", "/audit"),
    ("get", "/clinic"),
    ("put", "/clinic/settings"),
    ("get", "/settings/defaults"),
    ("get", "/users"),
    ("post", "/users"),
    ("put", "/users/{id}"),
    ("get", "/clients/{id}/audit"),
    ("get", "/clients/{id}/export"),
    ("get", "/clients/{id}/archive"),
    ("post", "/clients/{id}/erasure"),
    ("get", "/clinic/export"),
    ("post", "/clinic/import"),
    ("get", "/clinic/retention-reports"),
    ("get", "/clients"),
    ("post", "/clients"),
    ("get", "/clients/{id}"),
    ("put", "/clients/{id}"),
    ("delete", "/clients/{id}"),
    ("post", "/clients/{id}/merge"),
    ("post", "/clients/duplicates"),
    ("get", "/clients/{id}/consultations"),
    ("post", "/clients/{id}/consultations"),
    ("get", "/consultations/{id}"),
    ("post", "/consultations/{id}/replan"),
    ("post", "/clients/{id}/replan"),
    ("post", "/consultations/{id}/design-plan"),
    ("post", "/designer-sessions"),
    ("post", "/designer-sessions/{id}/edits"),
    ("delete", "/designer-sessions/{id}"),
    ("get", "/clients/{id}/designs"),
    ("post", "/clients/{id}/designs"),
    ("get", "/designs/{id}"),
    ("get", "/designs/{id}/pattern"),
    ("get", "/designs/{id}/preview"),
    ("get", "/designs/{id}/stencil"),
    ("get", "/designs/{id}/client-sheet"),
    ("get", "/clients/{id}/consents"),
    ("post", "/clients/{id}/consents"),
    ("get", "/clients/{id}/photos"),
    ("post", "/clients/{id}/photos"),
    ("get", "/photos/{id}"),
    ("post", "/photos/{id}/warp"),
    ("post", "/photos/{id}/overlay"),
    ("post", "/photos/{id}/landmarks/detect"),
    ("get", "/photos/{id}/landmarks"),
    ("put", "/photos/{id}/landmarks"),
    ("get", "/appointments"),
    ("post", "/appointments"),
    ("put", "/appointments/{id}/status"),
    ("get", "/appointments/{id}"),
    ("put", "/appointments/{id}/time"),
    ("post", "/consultations/{id}/bookings"),
    ("put", "/pigments/batches/{id}/recall"),
    ("get", "/clients/{id}/appointments"),
    ("post", "/sessions"),
    ("get", "/clients/{id}/sessions"),
    ("get", "/sessions/{id}"),
    ("get", "/pigments/products"),
    ("post", "/pigments/products"),
    ("get", "/pigments/batches"),
    ("post", "/pigments/batches"),
    ("get", "/pigments/batches/{id}"),
    ("post", "/pigments/batches/{id}/stock"),
    ("get", "/pigments/batches/{id}/recall"),
    ("get", "/clients/{id}/calendar-feed"),
    ("post", "/clients/{id}/calendar-feed"),
    ("delete", "/clients/{id}/calendar-feed"),
    ("get", "/users/{id}/calendar-feed"),
    ("post", "/users/{id}/calendar-feed"),
    ("delete", "/users/{id}/calendar-feed"),
    ("get", "/clients/{id}/payments"),
    ("post", "/clients/{id}/payments"),
    ("post", "/payments/{id}/settle"),
    ("post", "/payments/{id}/cancel"),
    ("get", "/payments/{id}/receipt"),
    ("post", "/assess"),
    ("post", "/plan"),
    ("post", "/pattern"),
    ("post", "/preview"),
];

/// The routes that need nobody signed in.
const PUBLIC: [&str; 6] = [
    "/health",
    "/auth/login",
    "/settings/defaults",
    "/auth/second-factor",
    "/auth/password-reset",
    "/auth/password-reset/complete",
];

async fn served(app: &App) -> Value {
    let answer = app.get("/api/v1/openapi.json", &Auth::None).await;
    assert_eq!(answer.content_type(), "application/json");
    answer.expect(StatusCode::OK)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_snapshot() {
    let test = TestStore::sqlite().await;
    let app = App::new(&test.store, Backend::Sqlite);
    let doc = served(&app).await;
    assert_eq!(doc, serde_json::to_value(follicle_web::api::openapi()).unwrap());
    assert_eq!(doc["info"]["title"], "Follicle clinic API");
    assert_eq!(doc["servers"][0]["url"], "/api/v1");
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_lists_every_route_as_the_router_serves_it() {
    let test = TestStore::sqlite().await;
    let app = App::new(&test.store, Backend::Sqlite);
    let doc = served(&app).await;

    // The document's operations are exactly the list…
    let mut in_doc = BTreeSet::new();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            in_doc.insert((method.clone(), path.clone()));
        }
    }
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(expected.len(), ROUTES.len(), "a route is listed twice");
    assert_eq!(
        in_doc.difference(&expected).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "in the document, not in the list"
    );
    assert_eq!(
        expected.difference(&in_doc).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "in the list, not in the document"
    );

    // …the list has as many operations as the router registers handlers…
    let source = include_str!("../src/api/mod.rs");
    let body = &source[source.find("pub fn routes()").unwrap()..];
    let handlers: usize = body
        .split("routes!(")
        .skip(1)
        .map(|call| call[..call.find(')').unwrap()].split(',').count())
        .sum();
    assert_eq!(
        handlers,
        ROUTES.len(),
        "api::routes() registers {handlers} handlers; the list here has {}",
        ROUTES.len()
    );

    // …and the router serves each, asking for a sign-in exactly where the document says so.
    let global_security = doc["security"].as_array().unwrap();
    assert!(!global_security.is_empty());
    for (method, path) in ROUTES {
        let uri = format!("/api/v1{}", path.replace("{id}", &Uuid::new_v4().to_string()));
        let answer = app
            .send(
                Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                &uri,
                &Auth::None,
                Payload::None,
                &[],
            )
            .await;
        assert_ne!(answer.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        if answer.content_type().starts_with("application/json") {
            assert_ne!(
                answer.json()["error"]["message"],
                "page not found",
                "{method} {path}"
            );
        } else {
            assert_eq!(answer.status, StatusCode::OK, "{method} {path}");
        }
        let operation = &doc["paths"][path][method];
        let needs_sign_in = match operation.get("security") {
            None => true,
            Some(Value::Array(requirements)) => !requirements
                .iter()
                .any(|r| r.as_object().is_some_and(|o| o.is_empty())),
            Some(other) => panic!("{method} {path}: security {other}"),
        };
        let public = PUBLIC.contains(path);
        assert_eq!(
            answer.status == StatusCode::UNAUTHORIZED,
            !public,
            "{method} {path}: {}",
            answer.status
        );
        assert_eq!(
            needs_sign_in,
            !public,
            "{method} {path}: the document says sign-in {}needed",
            if needs_sign_in { "" } else { "not " }
        );

        // Each operation has a tag, a summary, responses, and its path's id as a parameter.
        assert!(
            operation["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "{method} {path}"
        );
        assert!(
            operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path}"
        );
        assert!(
            operation["responses"]
                .as_object()
                .unwrap()
                .keys()
                .any(|s| s.starts_with('2')),
            "{method} {path}"
        );
        // Path parameters are exactly the path's `{…}`; the rest are in the query or headers.
        let in_path: BTreeSet<&str> = path
            .split('{')
            .skip(1)
            .filter_map(|part| part.split_once('}').map(|(name, _)| name))
            .collect();
        let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
        let documented: BTreeSet<&str> = parameters
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| {
                assert_eq!(p["required"], true, "{method} {path}: {p}");
                p["name"].as_str().unwrap()
            })
            .collect();
        assert_eq!(documented, in_path, "{method} {path}: path parameters");
    }

    // Every reference in the document points at a schema it defines.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 50, "{}", refs.len());
    for r in refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {r}"));
        assert!(schemas.contains_key(name), "{r}");
    }
    for scheme in ["session_cookie", "bearer"] {
        assert!(
            doc["components"]["securitySchemes"][scheme].is_object(),
            "{scheme}"
        );
    }
}

/// A refusal is a status the document lists for the operation: whatever the front desk (whose
/// role may not do everything), a user who must set up two-factor sign-in first, and a change
/// signed in by cookie without the CSRF header are answered. Requests carry real ids of the
/// clinic and valid bodies (those of the fuzz tests), so they reach the refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_documented() {
    let test = TestStore::sqlite().await;
    let app = App::new(&test.store, Backend::Sqlite);
    let demo = Demo::seed(&app).await;
    let doc = served(&app).await;
    let api = |path: &str| format!("/api/v1{path}");

    // Real ids of each kind, for the paths' `{id}`: Daniel Reyes's (the fuzz tests' client),
    // else the first found in the clinic's clients.
    let cid = id_of(&demo.client_named("Daniel Reyes").await).to_string();
    let mut exports = vec![
        app.get(&api(&format!("/clients/{cid}/export")), &demo.owner)
            .await
            .expect(StatusCode::OK),
    ];
    for client in demo.clients().await {
        exports.push(
            app.get(&api(&format!("/clients/{}/export", id_of(&client))), &demo.owner)
                .await
                .expect(StatusCode::OK),
        );
    }
    let first = |kind: &str| -> String {
        exports
            .iter()
            .find_map(|e| e[kind][0]["id"].as_str())
            .unwrap_or_else(|| panic!("the demo clinic has no {kind}"))
            .to_owned()
    };
    let (fresh, _) = demo.batches().await;
    let id_for = |path: &str| -> String {
        let kind = path.trim_start_matches('/').split('/').next().unwrap();
        match kind {
            "clients" => cid.clone(),
            "consultations" | "designs" | "appointments" | "sessions" | "photos" => first(kind),
            "pigments" => fresh["id"].as_str().unwrap().to_owned(),
            "users" => demo.practitioner_id.to_string(),
            _ => Uuid::new_v4().to_string(),
        }
    };

    // Valid bodies for the operations that take one; the others are sent without.
    let bodies: BTreeMap<(String, String), Value> = crate::fuzz::targets(&demo)
        .await
        .into_iter()
        .map(|t| ((t.method.as_str().to_lowercase(), t.path), t.base))
        .collect();
    let mut requests = Vec::new();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            // Signing out would end the sessions the rest of the test uses.
            if matches!(
                (method.as_str(), path.as_str()),
                ("post", "/auth/logout") | ("delete", "/me/sessions")
            ) {
                continue;
            }
            let concrete = path
                .replace("{id}", &id_for(path))
                .replace("{session}", "0123456789abcdef");
            let payload = match (
                bodies.get(&(method.clone(), concrete.clone())),
                operation.get("requestBody"),
            ) {
                (Some(b), _) => Payload::Json(b.clone()),
                (None, Some(_)) => Payload::Json(json!({})),
                (None, None) => Payload::None,
            };
            requests.push((method.clone(), path.clone(), concrete, payload));
        }
    }
    let Auth::Bearer(owner_token) = &demo.owner else {
        panic!("the owner signs in by bearer")
    };
    let cookie_without_csrf = Auth::Cookie {
        token: owner_token.clone(),
        csrf: None,
    };
    let check = async |who: &str, auth: &Auth| -> usize {
        let mut refused = 0;
        for (method, path, concrete, payload) in &requests {
            let answer = app
                .send(
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    &api(concrete),
                    auth,
                    payload.clone(),
                    &[],
                )
                .await;
            let documented = doc["paths"][path][method]["responses"].as_object().unwrap();
            let status = answer.status.as_u16().to_string();
            assert!(
                documented.contains_key(&status),
                "{method} {path} as {who}: {status} is not documented ({:?}): {}",
                documented.keys().collect::<Vec<_>>(),
                String::from_utf8_lossy(&answer.body)
            );
            refused += usize::from(answer.status == StatusCode::FORBIDDEN);
        }
        refused
    };
    let by_role = check("the front desk", &demo.front_desk).await;
    let by_csrf = check("a cookie without the CSRF header", &cookie_without_csrf).await;

    // The owner sets up two-factor sign-in and requires it of everyone; the practitioner has
    // none, so everything but setting it up is refused to them.
    let secret = app
        .post(&api("/me/two-factor"), &demo.owner, json!(null))
        .await
        .expect(StatusCode::OK)["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &api("/me/two-factor/confirm"),
        &demo.owner,
        json!({"code": totp_code(&secret, OffsetDateTime::now_utc())}),
    )
    .await
    .expect(StatusCode::OK);
    app.put(
        &api("/clinic/account-rules"),
        &demo.owner,
        json!({"require_mfa": true, "idle_timeout_minutes": 30, "audit_retention_years": 6}),
    )
    .await
    .expect(StatusCode::OK);
    let by_enrolment = check("a user without the required second factor", &demo.practitioner).await;

    assert!(by_role >= 10, "the front desk was refused {by_role} times");
    assert!(by_csrf >= 30, "a cookie without CSRF was refused {by_csrf} times");
    assert!(
        by_enrolment >= 40,
        "the practitioner was refused {by_enrolment} times"
    );
}

/// Each schema name in the document belongs to one type: utoipa keys components by name, so
/// two `ToSchema` types of one name (in different modules) would leave one of them documented
/// with the other's shape. Scans the sources of every crate whose types the API shows.
#[test]
fn schema_names_are_unique() {
    let crates = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let mut names: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut files = Vec::new();
    for krate in [
        "follicle-core",
        "follicle-pattern",
        "follicle-render",
        "follicle-store",
        "follicle-web",
    ] {
        rust_files(&std::path::Path::new(crates).join(krate).join("src"), &mut files);
    }
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        let mut attributes = String::new();
        for line in source.lines().map(str::trim) {
            if line.starts_with("#[") || line.starts_with("//") {
                attributes.push_str(line);
                continue;
            }
            let item = line
                .strip_prefix("pub struct ")
                .or_else(|| line.strip_prefix("pub enum "));
            if let Some(item) = item
                && attributes.contains("ToSchema")
            {
                let name = match attributes.split_once("schema(as = ") {
                    Some((_, rest)) => rest.split(')').next().unwrap().to_owned(),
                    None => item
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .next()
                        .unwrap()
                        .to_owned(),
                };
                // `pub enum $name` in a macro: its uses are named where it is called.
                if !name.is_empty() {
                    names.entry(name).or_default().push(file.display().to_string());
                }
            }
            attributes.clear();
        }
    }
    assert!(names.len() > 100, "found only {} schema types", names.len());
    let twice: Vec<_> = names.iter().filter(|(_, files)| files.len() > 1).collect();
    assert!(twice.is_empty(), "schema names used twice: {twice:?}");
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.push(v.as_str().unwrap().to_owned());
                } else {
                    collect_refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
