//! The OpenAPI document's shapes are the answers' shapes: real answers of the API (every
//! example client assessed and planned, a pattern, and the demo clinic's records through every
//! read route) are validated against the schema the document gives for that route, with an
//! independent JSON Schema validator (`jsonschema`, draft 2020-12, which OpenAPI 3.1 uses).
//! A field renamed, skipped or added on one side and not the other fails here.
//!
//! And the document has no untyped spot left: no object without properties, no value typed
//! only `null`, no empty schema.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{App, Auth, Demo, id_of};

fn api(path: &str) -> String {
    format!("/api/v1{path}")
}

/// The document as served.
fn document() -> Value {
    serde_json::to_value(follicle_web::api::openapi()).unwrap()
}

/// Checks `answer` against the schema the document gives for `method path` answering `status`.
#[track_caller]
fn check(doc: &Value, method: &str, path: &str, status: u16, answer: &Value) {
    let schema =
        &doc["paths"][path][method]["responses"][status.to_string()]["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} {status}: no JSON schema in the document"
    );
    // The route's schema, with the document's components beside it so `$ref`s resolve.
    let root = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [schema],
    });
    let validator = jsonschema::draft202012::new(&root)
        .unwrap_or_else(|e| panic!("{method} {path}: the document's schema does not compile: {e}"));
    let mistakes: Vec<String> = validator
        .iter_errors(answer)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        mistakes.is_empty(),
        "{method} {path} answers what its schema does not allow:\n{}",
        mistakes.join("\n")
    );
}

/// GETs `uri` (the document's `path` with ids filled in) and checks the answer.
async fn get_checked(app: &App, doc: &Value, auth: &Auth, path: &str, uri: &str) -> Value {
    let answer = app.get(&api(uri), auth).await.expect(StatusCode::OK);
    check(doc, "get", path, 200, &answer);
    answer
}

/// The planner's answers do not depend on the database: SQLite only.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn assess_and_plan_answers_fit_the_document() {
    let test = crate::support::TestStore::sqlite().await;
    let app = &App::new(&test.store, crate::support::Backend::Sqlite);
    let doc = document();
    let demo = Demo::seed(app).await;
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/clients");
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "{files:?}");
    let mut verdicts = std::collections::BTreeSet::new();
    for file in &files {
        let body = json!({
            "client_toml": std::fs::read_to_string(file).unwrap(),
            "date": "2026-11-21",
        });
        for route in ["/assess", "/plan"] {
            let answer = app
                .post(&api(route), &demo.practitioner, body.clone())
                .await
                .expect(StatusCode::OK);
            check(&doc, "post", route, 200, &answer);
            if route == "/plan" {
                verdicts.insert(answer["eligibility"]["verdict"].as_str().unwrap().to_owned());
            }
        }
    }
    // The examples reach every kind of answer: a plan to book, a deferral, a refusal.
    for verdict in ["proceed", "defer", "not_suitable"] {
        assert!(verdicts.contains(verdict), "{verdicts:?}");
    }
    let pattern = app
        .post(&api("/pattern"), &demo.practitioner, json!({"seed": 7}))
        .await
        .expect(StatusCode::OK);
    assert!(pattern["dots"].as_array().is_some_and(|d| !d.is_empty()));
    check(&doc, "post", "/pattern", 200, &pattern);
}

pub async fn record_answers_fit_the_document(app: &App) {
    let doc = document();
    let demo = Demo::seed(app).await;
    let owner = &demo.owner;
    get_checked(app, &doc, owner, "/me", "/me").await;
    get_checked(app, &doc, owner, "/clinic", "/clinic").await;
    get_checked(app, &doc, owner, "/users", "/users").await;
    let clients = get_checked(app, &doc, owner, "/clients", "/clients?limit=200").await;
    let mut designs_seen = 0;
    for client in clients.as_array().unwrap() {
        let id = id_of(client);
        get_checked(app, &doc, owner, "/clients/{id}", &format!("/clients/{id}")).await;
        let consultations = get_checked(
            app,
            &doc,
            owner,
            "/clients/{id}/consultations",
            &format!("/clients/{id}/consultations"),
        )
        .await;
        for c in consultations.as_array().unwrap() {
            let cid = id_of(c);
            get_checked(
                app,
                &doc,
                owner,
                "/consultations/{id}",
                &format!("/consultations/{cid}"),
            )
            .await;
        }
        let designs = get_checked(
            app,
            &doc,
            owner,
            "/clients/{id}/designs",
            &format!("/clients/{id}/designs"),
        )
        .await;
        designs_seen += designs.as_array().unwrap().len();
        for (path, uri) in [
            (
                "/clients/{id}/appointments",
                format!("/clients/{id}/appointments"),
            ),
            ("/clients/{id}/sessions", format!("/clients/{id}/sessions")),
            ("/clients/{id}/consents", format!("/clients/{id}/consents")),
            ("/clients/{id}/photos", format!("/clients/{id}/photos")),
            ("/clients/{id}/audit", format!("/clients/{id}/audit")),
            ("/clients/{id}/export", format!("/clients/{id}/export")),
        ] {
            get_checked(app, &doc, owner, path, &uri).await;
        }
    }
    assert!(designs_seen > 0, "the demo clinic has designs");
    get_checked(app, &doc, owner, "/pigments/products", "/pigments/products").await;
    let batches = get_checked(app, &doc, owner, "/pigments/batches", "/pigments/batches").await;
    for b in batches.as_array().unwrap() {
        let bid = id_of(b);
        get_checked(
            app,
            &doc,
            owner,
            "/pigments/batches/{id}/recall",
            &format!("/pigments/batches/{bid}/recall"),
        )
        .await;
    }
    get_checked(
        app,
        &doc,
        owner,
        "/appointments",
        "/appointments?from=2000-01-01T00:00:00Z&to=2000-12-31T00:00:00Z",
    )
    .await;
    // A re-plan answers the new version and its differences.
    let client = id_of(&clients.as_array().unwrap()[0]);
    let replan = app
        .post(&api(&format!("/clients/{client}/replan")), owner, json!({}))
        .await;
    if replan.status == StatusCode::CREATED {
        check(&doc, "post", "/clients/{id}/replan", 201, &replan.json());
    }
}

/// Every schema in the document says what it holds.
#[test]
fn no_untyped_spot_in_the_document() {
    fn walk(value: &Value, at: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                let types: Vec<&str> = match map.get("type") {
                    Some(Value::String(t)) => vec![t.as_str()],
                    Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                let composed = [
                    "properties",
                    "additionalProperties",
                    "oneOf",
                    "allOf",
                    "anyOf",
                    "$ref",
                ]
                .iter()
                .any(|k| map.contains_key(*k));
                if types.contains(&"object") && !composed {
                    out.push(format!("{at}: an object without properties"));
                }
                let in_choice = at
                    .rsplit('/')
                    .nth(1)
                    .is_some_and(|k| k == "oneOf" || k == "anyOf");
                if types == ["null"] && !in_choice {
                    out.push(format!("{at}: only null"));
                }
                if (at.ends_with("/schema") || at.ends_with("/items")) && map.is_empty() {
                    out.push(format!("{at}: an empty schema"));
                }
                for (k, v) in map {
                    walk(v, &format!("{at}/{k}"), out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let doc = document();
    let mut found = Vec::new();
    walk(&doc, "", &mut found);
    assert!(found.is_empty(), "untyped spots:\n{}", found.join("\n"));
    // The planner's answers are the real types, with their enumerations.
    let schemas = &doc["components"]["schemas"];
    for name in [
        "Assessment",
        "Plan",
        "Pattern",
        "PatternRequest",
        "Verdict",
        "ZoneKind",
        "Quote",
    ] {
        assert!(schemas[name].is_object(), "{name} is in the document");
    }
    // Core's and the pattern engine's types of the same name are told apart.
    assert!(
        schemas["Head"]["properties"]["circumference_cm"].is_object(),
        "{}",
        schemas["Head"]
    );
    assert!(schemas["PatternHead"].is_object());
    assert!(schemas["PatternSex"].is_object() && schemas["PatternHairlineStyle"].is_object());
    assert_eq!(
        schemas["Verdict"]["enum"],
        json!(["proceed", "proceed_with_conditions", "defer", "not_suitable"])
    );
}
