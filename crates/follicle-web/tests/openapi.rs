//! The OpenAPI document: served as built, unchanged unless on purpose (snapshot), and true to
//! the router — every route in it, nothing else, and sign-in required where the router
//! requires it.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use crate::support::{App, Auth, Backend, Payload, TestStore};

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
    ("get", "/clients/{id}/consents"),
    ("post", "/clients/{id}/consents"),
    ("get", "/clients/{id}/photos"),
    ("post", "/clients/{id}/photos"),
    ("get", "/photos/{id}"),
    ("post", "/photos/{id}/warp"),
    ("post", "/photos/{id}/overlay"),
    ("post", "/photos/{id}/sheet"),
    ("post", "/photos/{id}/landmarks/detect"),
    ("get", "/photos/{id}/landmarks"),
    ("put", "/photos/{id}/landmarks"),
    ("get", "/appointments"),
    ("post", "/appointments"),
    ("put", "/appointments/{id}/status"),
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
        if path.contains("{id}") {
            let parameters = operation["parameters"].as_array().unwrap();
            assert!(
                parameters
                    .iter()
                    .any(|p| p["name"] == "id" && p["in"] == "path" && p["required"] == true),
                "{method} {path}"
            );
        }
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
