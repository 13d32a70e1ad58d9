//! Malformed input never makes a server error: random bytes, cut-off bodies, wrong types, huge
//! numbers and deep nesting at every endpoint that takes JSON, and broken uploads at the photo
//! upload, answer 4xx with a JSON error, and the saved records stay as they were.

use std::cell::RefCell;
use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

use crate::support::{
    Answer, App, Auth, Demo, NORWOOD_3, Payload, id_of, jpeg_with_gps, png_claiming, today,
};

const CASES: u32 = 200;

fn api(path: &str) -> String {
    format!("/api/v1{path}")
}

/// A JSON endpoint and a body it accepts.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) base: Value,
}

/// Every POST and PUT endpoint that reads a JSON body, each with a valid body.
pub(crate) async fn targets(demo: &Demo) -> Vec<Target> {
    let app = &demo.app;
    let daniel = demo.client_named("Daniel Reyes").await;
    let cid = id_of(&daniel);
    let export = app
        .get(&api(&format!("/clients/{cid}/export")), &demo.owner)
        .await
        .expect(StatusCode::OK);
    let consultation = export["consultations"][0]["id"].clone();
    let appointment = export["appointments"][0]["id"].clone();
    let (fresh, _) = demo.batches().await;
    let client = json!({"name": "Fuzzy", "date_of_birth": null, "age_years": 40, "phone": "+1 555 0000",
                        "email": "fuzzy@example.com", "notes": "n"});
    let request =
        json!({"zones": {"kind": "stage", "stage": "norwood_1"}, "session_fractions": [0.5, 1.0], "seed": 2});
    let t = |method: Method, path: String, base: Value| Target { method, path, base };
    vec![
        t(
            Method::POST,
            "/auth/login".into(),
            json!({"email": follicle_web::demo::DEMO_OWNER, "password": "not the password"}),
        ),
        t(
            Method::PUT,
            "/clinic/settings".into(),
            json!({"settings_toml": "[pricing]\ndeposit = 120\n", "retention_years": 9}),
        ),
        t(
            Method::POST,
            "/users".into(),
            json!({"email": "fuzz@demo.follicle.test", "name": "Fuzz", "role": "front_desk",
                   "password": "a long enough password"}),
        ),
        t(
            Method::PUT,
            format!("/users/{}", demo.practitioner_id),
            json!({"role": "front_desk", "active": false}),
        ),
        t(Method::POST, "/clients".into(), client.clone()),
        t(Method::PUT, format!("/clients/{cid}"), client),
        t(
            Method::POST,
            format!("/clients/{cid}/consultations"),
            json!({"client_toml": NORWOOD_3, "date": "2026-03-02", "start": "2026-03-09"}),
        ),
        t(
            Method::POST,
            format!("/clients/{cid}/designs"),
            json!({"consultation_id": consultation, "request": request, "seed": 3, "notes": "n"}),
        ),
        t(
            Method::POST,
            format!("/clients/{cid}/consents"),
            json!({"kind": "procedure", "template_version": "1", "text": "Yes", "signed_by": "Daniel Reyes",
                   "signed_at": "2026-03-02T10:00:00Z"}),
        ),
        t(
            Method::POST,
            "/appointments".into(),
            json!({"client_id": cid, "practitioner_id": demo.practitioner_id, "starts_at": "2031-01-06T09:30:00Z",
                   "duration_minutes": 90, "notes": "n"}),
        ),
        t(
            Method::PUT,
            format!("/appointments/{}/status", appointment.as_str().unwrap()),
            json!({"status": "cancelled"}),
        ),
        t(
            Method::POST,
            "/sessions".into(),
            json!({"client_id": cid, "appointment_id": appointment, "performed_on": today().to_string(),
                   "practitioner_id": demo.practitioner_id, "zones": ["hairline", "temples"], "batch_id": fresh["id"],
                   "dilution": 0.6, "needle": "0603RL", "needle_lot": "L1", "depth_mm": 0.8, "machine_settings": "7 V",
                   "duration_minutes": 120, "anaesthetic": "", "notes": ""}),
        ),
        t(
            Method::POST,
            "/pigments/products".into(),
            json!({"name": "Fuzz Ink", "maker": "M", "ingredients": "Carbon"}),
        ),
        t(
            Method::POST,
            "/pigments/batches".into(),
            json!({"product_id": fresh["product_id"], "lot": "FUZZ-1", "expires_on": "2030-01-01", "quantity": 4}),
        ),
        t(
            Method::POST,
            format!("/pigments/batches/{}/stock", fresh["id"].as_str().unwrap()),
            json!({"delta": -1}),
        ),
        t(
            Method::POST,
            "/assess".into(),
            json!({"client_toml": NORWOOD_3, "date": "2026-03-02"}),
        ),
        t(
            Method::POST,
            "/plan".into(),
            json!({"client_toml": NORWOOD_3, "date": "2026-03-02", "start": "2026-03-09"}),
        ),
        t(Method::POST, "/pattern".into(), request.clone()),
        t(
            Method::POST,
            "/preview".into(),
            json!({"design": request, "fitzpatrick": "IV", "view": "chart", "moment": "healed:2", "size": 32}),
        ),
    ]
}

/// Every JSON pointer into a value, but the root.
fn pointers(value: &Value, at: String, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{at}/{k}");
                out.push((p.clone(), v.clone()));
                pointers(v, p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push((p.clone(), v.clone()));
                pointers(v, p, out);
            }
        }
        _ => {}
    }
}

const HOLE: &str = "\u{1}hole\u{1}";

/// The body with the value at `pointer` replaced by raw JSON text (which may be no valid JSON
/// value at all, or a number serde_json could not write).
fn with_raw(base: &Value, pointer: &str, raw: &str) -> Vec<u8> {
    let mut body = base.clone();
    *body.pointer_mut(pointer).unwrap() = Value::String(HOLE.into());
    let text = serde_json::to_string(&body).unwrap();
    let hole = serde_json::to_string(HOLE).unwrap();
    assert_eq!(text.matches(&hole).count(), 1);
    text.replacen(&hole, raw, 1).into_bytes()
}

fn kind(value: &Value) -> u8 {
    match value {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// Values of a type that no field of this kind accepts, as raw JSON.
const WRONG: [&str; 7] = [
    "true",
    "[null, \"x\", {}]",
    "{\"unexpected\": [1]}",
    "-0.5",
    "\"🦀 \\u0000 ✂\"",
    "\"\\ud800\"",
    "12345678901234567890123",
];

/// Numbers beyond what any field takes (no field takes i64::MAX, an integer beyond u64, a
/// float beyond the largest finite double, or one near it).
const HUGE: [&str; 9] = [
    "1e400",
    "-1e400",
    "18446744073709551616",
    "-9223372036854775809",
    "9223372036854775807",
    "-9223372036854775808",
    "1.7976931348623157e308",
    "-1.7976931348623157e308",
    "123456789012345678901234567890.5e10",
];

/// Checks an answer to malformed input: a 4xx whose body is a JSON error.
fn refused(what: &str, answer: &Answer) -> Result<(), TestCaseError> {
    let text = String::from_utf8_lossy(&answer.body[..answer.body.len().min(500)]).into_owned();
    prop_assert!(
        answer.status.is_client_error(),
        "{what}: {} {text}",
        answer.status
    );
    let body: Value = serde_json::from_slice(&answer.body)
        .map_err(|e| TestCaseError::fail(format!("{what}: body is not JSON ({e}): {text}")))?;
    prop_assert!(
        body["error"]["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{what}: {text}"
    );
    prop_assert!(
        body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {text}"
    );
    prop_assert!(
        answer.content_type().starts_with("application/json"),
        "{what}: {}",
        answer.content_type()
    );
    Ok(())
}

/// Runs [`CASES`] cases of a strategy, each sending one request and checking that it is
/// refused; returns how many answers had each status.
fn run<S: Strategy>(
    name: &str,
    strategy: S,
    request: impl Fn(S::Value) -> (String, Answer),
) -> BTreeMap<u16, usize>
where
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let statuses = RefCell::new(BTreeMap::new());
    let result = runner.run(&strategy, |input| {
        let (what, answer) = request(input);
        *statuses.borrow_mut().entry(answer.status.as_u16()).or_insert(0) += 1;
        refused(&what, &answer)
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    let statuses = statuses.into_inner();
    assert!(
        statuses.values().sum::<usize>() >= CASES as usize,
        "{name}: {statuses:?}"
    );
    statuses
}

/// What a malformed request could have changed.
async fn saved(demo: &Demo) -> Value {
    let app = &demo.app;
    let daniel = demo.client_named("Daniel Reyes").await;
    let get = |path: String| async move { app.get(&api(&path), &demo.owner).await.expect(StatusCode::OK) };
    let day = today();
    json!({
        "clients": demo.clients().await,
        "daniel": get(format!("/clients/{}/export", id_of(&daniel))).await,
        "users": get("/users".into()).await,
        "clinic": get("/clinic".into()).await,
        "products": get("/pigments/products".into()).await,
        "batches": get("/pigments/batches".into()).await,
        "diary": get(format!("/appointments?from={}T00:00:00Z&to={}T00:00:00Z",
            day - time::Duration::days(100), day + time::Duration::days(265))).await,
        "diary_2031": get("/appointments?from=2031-01-01T00:00:00Z&to=2031-12-31T00:00:00Z".into()).await,
    })
}

pub async fn malformed_json_is_refused_and_changes_nothing(app: &App) {
    let demo = Demo::seed(app).await;
    let targets = targets(&demo).await;
    let before = saved(&demo).await;

    // The calculators take their base bodies as they are (the others would store them), so
    // the refusals below are the malformations' doing.
    for target in targets
        .iter()
        .filter(|t| ["/assess", "/plan", "/pattern", "/preview"].contains(&t.path.as_str()))
    {
        let answer = app
            .send(
                target.method.clone(),
                &api(&target.path),
                &demo.owner,
                Payload::Json(target.base.clone()),
                &[],
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", target.path);
    }

    let send = |target: &Target, body: Vec<u8>| {
        let handle = tokio::runtime::Handle::current();
        let answer = handle.block_on(app.send(
            target.method.clone(),
            &api(&target.path),
            &demo.owner,
            Payload::Raw(Some("application/json".into()), body.clone()),
            &[],
        ));
        (
            format!(
                "{} {} {:?}",
                target.method,
                target.path,
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ),
            answer,
        )
    };
    let n = targets.len();
    let [random_bytes, random_text, cut_short, wrong_types, huge, deep] = tokio::task::block_in_place(|| {
        let random_bytes = run(
            "random bytes",
            (0..n, proptest::collection::vec(any::<u8>(), 0..400)),
            |(i, bytes)| send(&targets[i], bytes),
        );
        let random_text = run(
            "random text",
            (0..n, "[ -~\\n\\t{}\\[\\]\":,]{0,200}"),
            |(i, text)| send(&targets[i], text.into_bytes()),
        );
        let cut_short = run("cut short", (0..n, 0.0..1.0f64), |(i, at)| {
            let full = serde_json::to_vec(&targets[i].base).unwrap();
            let cut = ((full.len() as f64) * at) as usize;
            send(&targets[i], full[..cut.min(full.len() - 1)].to_vec())
        });
        let wrong_types = run(
            "wrong types",
            (0..n, any::<prop::sample::Index>(), any::<prop::sample::Index>()),
            |(i, field, wrong)| {
                let target = &targets[i];
                let mut fields = Vec::new();
                pointers(&target.base, String::new(), &mut fields);
                let (pointer, original) = field.get(&fields);
                let candidates: Vec<&str> = WRONG
                    .iter()
                    .copied()
                    .filter(|raw| {
                        serde_json::from_str::<Value>(raw).map_or(true, |v| kind(&v) != kind(original))
                    })
                    .collect();
                let raw: &&str = wrong.get(&candidates);
                send(target, with_raw(&target.base, pointer, raw))
            },
        );
        let huge = run(
            "huge numbers",
            (0..n, any::<prop::sample::Index>(), any::<prop::sample::Index>()),
            |(i, field, huge)| {
                let target = &targets[i];
                let mut fields = Vec::new();
                pointers(&target.base, String::new(), &mut fields);
                // Numbers where there are numbers (not the seed: any u64 is a seed), else
                // anywhere.
                let numeric: Vec<&(String, Value)> = fields
                    .iter()
                    .filter(|(p, v)| v.is_number() && !p.ends_with("/seed"))
                    .collect();
                let (pointer, _) = if numeric.is_empty() {
                    field.get(&fields)
                } else {
                    *field.get(&numeric)
                };
                let raw: &&str = huge.get(&HUGE);
                send(target, with_raw(&target.base, pointer, raw))
            },
        );
        let deep = run(
            "deep nesting",
            (0..n, 1usize..3000, any::<bool>(), any::<prop::sample::Index>()),
            |(i, depth, inside, field)| {
                let target = &targets[i];
                // Arrays inside a field (no field is an array of arrays of arrays), objects
                // keyed "zones" at the top (no body is a nest of zones).
                if inside {
                    let mut fields = Vec::new();
                    pointers(&target.base, String::new(), &mut fields);
                    let (pointer, _) = field.get(&fields);
                    let nest = format!("{}{}", "[".repeat(depth.max(3)), "]".repeat(depth.max(3)));
                    send(target, with_raw(&target.base, pointer, &nest))
                } else {
                    let nest = format!("{}1{}", "{\"zones\": ".repeat(depth), "}".repeat(depth));
                    send(target, nest.into_bytes())
                }
            },
        );
        [random_bytes, random_text, cut_short, wrong_types, huge, deep]
    });
    // Text that is not JSON is a 400; JSON of the wrong shape a 422 naming the field: both
    // were met.
    assert!(random_bytes.contains_key(&400), "{random_bytes:?}");
    assert!(random_text.contains_key(&400), "{random_text:?}");
    assert_eq!(cut_short.keys().collect::<Vec<_>>(), [&400], "{cut_short:?}");
    assert!(
        wrong_types.contains_key(&422) && wrong_types.contains_key(&400),
        "{wrong_types:?}"
    );
    assert!(huge.contains_key(&422) && huge.contains_key(&400), "{huge:?}");
    assert!(deep.contains_key(&422) && deep.contains_key(&400), "{deep:?}");

    // Not JSON by its type, or no type at all: 415, whatever the body.
    for target in &targets {
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("json"),
        ] {
            let answer = app
                .send(
                    target.method.clone(),
                    &api(&target.path),
                    &demo.owner,
                    Payload::Raw(
                        content_type.map(str::to_owned),
                        serde_json::to_vec(&target.base).unwrap(),
                    ),
                    &[],
                )
                .await;
            answer.expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
        }
    }
    assert_eq!(
        saved(&demo).await,
        before,
        "malformed requests changed the records"
    );
}

pub async fn malformed_photos_are_refused_and_change_nothing(app: &App) {
    let demo = Demo::seed(app).await;
    let before = saved(&demo).await;
    let daniel = demo.client_named("Daniel Reyes").await;
    let path = api(&format!("/clients/{}/photos?angle=front", id_of(&daniel)));
    let list = api(&format!("/clients/{}/photos", id_of(&daniel)));
    // The demo's front photo of his receding hairline; no malformed upload may add to it.
    let photos_before = app.get(&list, &demo.practitioner).await.expect(StatusCode::OK);
    assert_eq!(photos_before.as_array().map(Vec::len), Some(1), "{photos_before}");
    let jpeg = jpeg_with_gps();
    let upload = |content_type: Option<&str>, bytes: Vec<u8>| {
        let handle = tokio::runtime::Handle::current();
        let answer = handle.block_on(app.send(
            Method::POST,
            &path,
            &demo.practitioner,
            Payload::Raw(content_type.map(str::to_owned), bytes.clone()),
            &[],
        ));
        (
            format!("{content_type:?} {:?}", &bytes[..bytes.len().min(40)]),
            answer,
        )
    };
    let [photo_random, photo_start, photo_cut, photo_png, photo_type] = tokio::task::block_in_place(|| {
        let photo_random = run(
            "random bytes as a photo",
            (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..2000)),
            |(png, bytes)| upload(Some(if png { "image/png" } else { "image/jpeg" }), bytes),
        );
        let photo_start = run(
            "a JPEG with a random start",
            (proptest::collection::vec(any::<u8>(), 0..64), 0usize..64),
            |(noise, keep)| {
                // The JPEG's first bytes, then noise: a header that promises and breaks.
                let mut bytes = jpeg[..keep.min(jpeg.len())].to_vec();
                bytes.extend(noise);
                upload(Some("image/jpeg"), bytes)
            },
        );
        let photo_cut = run("a cut-off JPEG", 0..jpeg.len() - 2, |cut| {
            upload(Some("image/jpeg"), jpeg[..cut].to_vec())
        });
        let photo_png = run(
            "a PNG claiming too many pixels",
            (0u32..=u32::MAX, 0u32..=u32::MAX).prop_filter("too many or none", |(w, h)| {
                u64::from(*w) * u64::from(*h) > 50_000_000 || *w == 0 || *h == 0
            }),
            |(w, h)| upload(Some("image/png"), png_claiming(w, h)),
        );
        let photo_type = run(
            "a photo under another type",
            prop::sample::select(vec![
                "",
                "image/gif",
                "image/webp",
                "image/svg+xml",
                "application/json",
                "application/octet-stream",
                "text/html",
                "multipart/form-data; boundary=x",
            ]),
            |content_type| upload(Some(content_type).filter(|c| !c.is_empty()), jpeg.clone()),
        );
        [photo_random, photo_start, photo_cut, photo_png, photo_type]
    });
    for statuses in [&photo_random, &photo_start, &photo_cut, &photo_png] {
        assert_eq!(statuses.keys().collect::<Vec<_>>(), [&422], "{statuses:?}");
    }
    assert_eq!(photo_type.keys().collect::<Vec<_>>(), [&415], "{photo_type:?}");

    // The named cases, once each, with the status they get.
    let huge = png_claiming(100_000, 100_000);
    let error = app
        .send(
            Method::POST,
            &path,
            &demo.practitioner,
            Payload::Raw(Some("image/png".into()), huge),
            &[],
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "photo");
    assert!(
        error["message"].as_str().unwrap().contains("100000×100000"),
        "{error}"
    );
    let error = app
        .send(
            Method::POST,
            &path,
            &demo.practitioner,
            Payload::Raw(Some("image/jpeg".into()), jpeg[..jpeg.len() / 2].to_vec()),
            &[],
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "photo");
    app.send(
        Method::POST,
        &path,
        &demo.practitioner,
        Payload::Raw(Some("image/gif".into()), b"GIF89a".to_vec()),
        &[],
    )
    .await
    .expect_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    app.send(
        Method::POST,
        &path,
        &demo.practitioner,
        Payload::Raw(Some("image/jpeg".into()), b"GIF89a".to_vec()),
        &[],
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    // Over 25 MiB: 413, also when the start is a real JPEG.
    let limit = follicle_store::PhotoLimits::default().max_bytes;
    for size in [limit + 1, limit + 5 * 1024 * 1024] {
        let mut big = jpeg.clone();
        big.resize(size, 0);
        let error = app
            .send(
                Method::POST,
                &path,
                &demo.practitioner,
                Payload::Raw(Some("image/jpeg".into()), big),
                &[],
            )
            .await
            .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
        assert!(
            error["message"].as_str().unwrap().contains(&limit.to_string()),
            "{error}"
        );
    }
    let photos = app.get(&list, &demo.practitioner).await.expect(StatusCode::OK);
    assert_eq!(photos, photos_before);
    assert_eq!(
        saved(&demo).await,
        before,
        "malformed uploads changed the records"
    );
    // The same upload, well-formed, is taken: the refusals were the malformations'.
    app.send(
        Method::POST,
        &path,
        &demo.practitioner,
        Payload::Raw(Some("image/jpeg".into()), jpeg),
        &[],
    )
    .await
    .expect(StatusCode::CREATED);
}

/// A JSON body over `server.max_json_bytes` is a 413 before it is parsed.
pub async fn bodies_over_the_json_limit(app: &App) {
    let demo = Demo::seed(app).await;
    let before = demo.clients().await;
    let limit = follicle_web::ServerConfig::default().server.max_json_bytes;
    let client = |notes_len: usize| {
        serde_json::to_vec(
            &json!({"name": "Big", "date_of_birth": null, "age_years": null, "phone": "",
                                   "email": "", "notes": "n".repeat(notes_len)}),
        )
        .unwrap()
    };
    let overhead = client(0).len();
    // Just over the limit, and far over it.
    for size in [limit + 1, limit * 4] {
        let body = client(size - overhead);
        assert_eq!(body.len(), size);
        let error = app
            .send(
                Method::POST,
                &api("/clients"),
                &demo.owner,
                Payload::Raw(Some("application/json".into()), body),
                &[],
            )
            .await
            .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
        assert!(error["message"].as_str().unwrap().contains(&limit.to_string()));
    }
    for path in ["/plan", "/pattern", "/auth/login"] {
        let body = format!("{{\"client_toml\": \"{}\"}}", "x".repeat(limit));
        app.send(
            Method::POST,
            &api(path),
            if path == "/auth/login" {
                &Auth::None
            } else {
                &demo.owner
            },
            Payload::Raw(Some("application/json".into()), body.into_bytes()),
            &[],
        )
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    }
    // A smaller limit is the limit.
    let mut config = follicle_web::ServerConfig::default();
    config.server.max_json_bytes = 300;
    let small = App::with_config(&app.store, app.backend, config);
    small
        .send(
            Method::POST,
            &api("/clients"),
            &demo.owner,
            Payload::Raw(Some("application/json".into()), client(301 - overhead)),
            &[],
        )
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(demo.clients().await, before);
    // At the limit it is read (and taken).
    let at_limit = small
        .send(
            Method::POST,
            &api("/clients"),
            &demo.owner,
            Payload::Raw(Some("application/json".into()), client(300 - overhead)),
            &[],
        )
        .await;
    assert_eq!(at_limit.expect(StatusCode::CREATED)["name"], "Big");
    assert_eq!(demo.clients().await.len(), before.len() + 1);
}

/// Percent-encodes every byte that is not unreserved.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Any text in a query string is answered (a list, or a 4xx naming it), never a 5xx.
pub async fn odd_query_strings_are_answered(app: &App) {
    let demo = Demo::seed(app).await;
    let before = saved(&demo).await;
    let design = app
        .get(
            &api(&format!(
                "/clients/{}/designs",
                demo.client_named("Daniel Reyes").await["id"].as_str().unwrap()
            )),
            &demo.practitioner,
        )
        .await
        .expect(StatusCode::OK)[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let queries = [
        "/clients?q={}",
        "/clients?limit={}",
        "/clients?q=a&{}=1",
        "/appointments?from={}&to=2031-01-01T00:00:00Z",
        "/appointments?from=2030-01-01T00:00:00Z&to={}",
        "/designs/DESIGN/preview?size=16&moment={}",
        "/designs/DESIGN/preview?size=16&view={}",
        "/designs/DESIGN/preview?size={}",
    ];
    let statuses = tokio::task::block_in_place(|| {
        let handle = tokio::runtime::Handle::current();
        let statuses = RefCell::new(BTreeMap::new());
        let mut runner = TestRunner::new(Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        });
        let texts = prop_oneof![
            any::<String>(),
            "[0-9:TZ+.-]{0,30}",
            Just("\u{0}".to_owned()),
            Just("99999999999999999999".to_owned()),
            Just("years:1e308@1e308".to_owned()),
        ];
        let result = runner.run(&(0..queries.len(), texts), |(i, text)| {
            let uri = api(&queries[i]
                .replace("DESIGN", &design)
                .replace("{}", &encode(&text)));
            let answer = handle.block_on(app.get(&uri, &demo.practitioner));
            *statuses.borrow_mut().entry(answer.status.as_u16()).or_insert(0) += 1;
            if answer.status.is_success() {
                Ok(())
            } else {
                refused(&uri, &answer)
            }
        });
        if let Err(e) = result {
            panic!("odd query strings: {e}");
        }
        statuses.into_inner()
    });
    assert!(statuses.contains_key(&422), "{statuses:?}");
    assert!(statuses.values().sum::<usize>() >= CASES as usize);
    assert_eq!(saved(&demo).await, before);
}
