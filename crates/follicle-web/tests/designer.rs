//! The designer's edit sessions: drag updates as deltas that patch the first pattern into
//! exactly the full pattern of the last design, superseded edits, the plan in the answer, and
//! sessions that are their user's alone.

use axum::http::{Method, StatusCode};
use follicle_pattern::PatternRequest;
use follicle_web::binary::{self, Delta, RECORD_BYTES, TiledDots};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{App, Auth, Demo, Payload, id_of};

fn api(path: &str) -> String {
    format!("/api/v1{path}")
}

/// Opens an edit session (for a consultation, or none).
async fn open(app: &App, who: &Auth, consultation: Option<Uuid>) -> Uuid {
    let answer = app
        .post(
            &api("/designer-sessions"),
            who,
            json!({ "consultation_id": consultation }),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(answer["tile_mm"], 16);
    assert!(answer["idle_seconds"].as_u64().unwrap() > 0);
    id_of(&answer)
}

/// Sends an edit; returns the answer.
async fn send(app: &App, who: &Auth, session: Uuid, edit: Value) -> crate::support::Answer {
    app.send(
        Method::POST,
        &api(&format!("/designer-sessions/{session}/edits")),
        who,
        Payload::Json(edit),
        &[("accept", binary::MEDIA_TYPE)],
    )
    .await
}

/// Sends an edit that must be drawn; returns its delta.
async fn delta(app: &App, who: &Auth, session: Uuid, edit: Value) -> Delta {
    let answer = send(app, who, session, edit).await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&answer.body[..answer.body.len().min(2000)])
    );
    assert_eq!(answer.content_type(), binary::MEDIA_TYPE);
    // The server's time over the edit, for the page's drag report.
    // The whole first, then its parts: the dots drawn, the plan and the tiles (side by side)
    // and the delta encoded.
    let timing = answer.headers["server-timing"].to_str().unwrap();
    let entries: Vec<(&str, f64)> = timing
        .split(", ")
        .map(|entry| {
            entry
                .split_once(";dur=")
                .and_then(|(name, ms)| Some((name, ms.parse().ok()?)))
                .unwrap_or_else(|| panic!("Server-Timing {timing:?}"))
        })
        .collect();
    let names: Vec<&str> = entries.iter().map(|e| e.0).collect();
    assert_eq!(names, ["edit", "draw", "plan", "tiles", "encode"], "{timing}");
    let whole = entries[0].1;
    assert!((0.0..60_000.0).contains(&whole), "{timing}");
    let (draw, plan, tiles, encode) = (entries[1].1, entries[2].1, entries[3].1, entries[4].1);
    // Rounded to 0.1 ms each.
    assert!(draw + plan.max(tiles) + encode <= whole + 0.3, "{timing}");
    binary::decode_delta(&answer.body).unwrap()
}

/// The design a stored design describes, as the designer page gives it to its script.
fn request_of(design: &Value) -> Value {
    let mut request = design["settings"].clone();
    request["hairline"] = design["hairline"].clone();
    request["zones"] = design["zones"].clone();
    request["seed"] = design["seed"].clone();
    request
}

/// The request with hairline point `i` moved by (dx, dy) mm from `anchors`.
fn moved(request: &Value, anchors: &[[f64; 2]], i: usize, dx: f64, dy: f64) -> Value {
    let mut points = anchors.to_vec();
    points[i] = [points[i][0] + dx, points[i][1] + dy];
    let mut out = request.clone();
    out["hairline"]["shape"] = json!({"kind": "control_points", "points": points});
    out
}

fn full_pattern(request: &Value) -> TiledDots {
    let request: PatternRequest = serde_json::from_value(request.clone()).unwrap();
    TiledDots::of(&follicle_pattern::generate(&request).unwrap())
}

/// A drag on the demo's Norwood VII design: each update's delta applied to the dots held so
/// far gives the drag's preview (the same as a `PatternCache` led through the same edits);
/// after the release the dots are byte for byte the full pattern of the last design, the
/// same dots `POST /pattern` gives, and the plan's figures are the design-plan endpoint's.
pub async fn drag_deltas_patch_to_the_full_pattern(app: &App) {
    let demo = Demo::seed(app).await;
    let who = &demo.practitioner;
    let client = demo.client_named("Kowalski").await;
    let designs = app
        .get(&api(&format!("/clients/{}/designs", id_of(&client))), who)
        .await
        .expect(StatusCode::OK);
    let design = &designs[0];
    let consultation = Uuid::parse_str(design["consultation_id"].as_str().unwrap()).unwrap();
    let request = request_of(design);
    let session = open(app, who, Some(consultation)).await;

    // The page opens: every tile, by a full generation.
    let first = delta(
        app,
        who,
        session,
        json!({"seq": 1, "base": null, "release": true, "request": request}),
    )
    .await;
    assert_eq!(first.base, None);
    let mut held = TiledDots::default();
    held.apply(&first);
    assert_eq!(held, full_pattern(&request));
    assert_eq!(first.header["dot_count"], held.dot_count());
    assert!(
        held.dot_count() > 20_000,
        "a Norwood VII scalp: {}",
        held.dot_count()
    );
    let anchors: Vec<[f64; 2]> = serde_json::from_value(first.header["hairline"]["anchors"].clone()).unwrap();
    let i = anchors.len() / 2;

    // The drag: a point moved back in steps; each delta from the version held. The server
    // previews each move; the same previews, drawn here, are what the deltas must give.
    let mut previews = follicle_pattern::PatternCache::with_threads(1);
    previews
        .generate(&serde_json::from_value(request.clone()).unwrap())
        .unwrap();
    let mut version = first.version;
    let mut last = request.clone();
    for (seq, step) in (2..).zip(1..=4) {
        last = moved(
            &request,
            &anchors,
            i,
            0.5 * f64::from(step),
            -1.5 * f64::from(step),
        );
        let d = delta(
            app,
            who,
            session,
            json!({"seq": seq, "base": version, "release": false, "request": last}),
        )
        .await;
        assert_eq!(d.base, Some(version));
        assert!(d.version > version);
        held.apply(&d);
        assert_eq!(d.header["dot_count"], held.dot_count());
        let design: PatternRequest = serde_json::from_value(last.clone()).unwrap();
        let preview = previews.preview_until(&design, &|| false).unwrap().unwrap();
        assert_eq!(held, TiledDots::of(&preview), "after update {seq}");
        let full = full_pattern(&last).dot_count() as f64;
        assert!(
            (held.dot_count() as f64 / full - 1.0).abs() < 0.01,
            "the preview's {} dots, the full pattern's {full}",
            held.dot_count()
        );
        version = d.version;
        let plan = &d.header["plan"];
        assert!(plan["sessions"].as_u64().unwrap() >= 1, "{plan}");
    }

    // Let go: the same design once more, drawn exactly: the full pattern's dots.
    let release = delta(
        app,
        who,
        session,
        json!({"seq": 9, "base": version, "release": true, "request": last}),
    )
    .await;
    held.apply(&release);
    assert_eq!(held.records(), full_pattern(&last).records(), "byte for byte");

    // The same dots as POST /pattern (version 1, the pattern's order).
    let whole = app
        .send(
            Method::POST,
            &api("/pattern"),
            who,
            Payload::Json(last.clone()),
            &[("accept", binary::MEDIA_TYPE)],
        )
        .await;
    assert_eq!(whole.status, StatusCode::OK);
    let (header, _) = binary::decode(&whole.body).unwrap();
    let start = whole.body.len() - held.dot_count() * RECORD_BYTES;
    let mut expected: Vec<&[u8]> = whole.body[start..].chunks_exact(RECORD_BYTES).collect();
    let records = held.records();
    let mut got: Vec<&[u8]> = records.chunks_exact(RECORD_BYTES).collect();
    expected.sort_unstable();
    got.sort_unstable();
    assert_eq!(got, expected);
    assert_eq!(header["stats"], release.header["stats"]);

    // The quote in the answer is the design-plan endpoint's for the same design.
    let planned = app
        .post(
            &api(&format!("/consultations/{consultation}/design-plan")),
            who,
            last,
        )
        .await
        .expect(StatusCode::OK);
    let plan = &release.header["plan"];
    for key in ["sessions", "total_hours", "total_dots", "total", "currency"] {
        assert_eq!(plan[key], planned[key], "{key}: {plan} vs {planned}");
    }
}

/// An edit older than one already received answers 409 `superseded` and leaves the session's
/// last pattern as it was; unknown bases get every tile; sessions are their user's alone and
/// end when closed; a bad design names the field.
pub async fn superseded_edits_and_sessions(app: &App) {
    let demo = Demo::seed(app).await;
    let who = &demo.practitioner;
    let session = open(app, who, None).await;
    let a = json!({"zones": {"kind": "stage", "stage": "norwood_3"}, "seed": 2});
    let b = json!({"zones": {"kind": "stage", "stage": "norwood_4"}, "seed": 2});

    let first = delta(app, who, session, json!({"seq": 5, "request": a})).await;
    assert_eq!((first.version, first.base), (1, None));
    assert!(first.header.get("plan").is_none(), "no consultation, no plan");

    let late = send(app, who, session, json!({"seq": 3, "base": 1, "request": b})).await;
    let error = late.expect_error(StatusCode::CONFLICT, "superseded");
    assert_eq!(error["field"], "seq");
    assert!(error["message"].as_str().unwrap().contains("edit 5"), "{error}");

    // The superseded edit took no version and replaced nothing: version 1 is still the last.
    let same = delta(app, who, session, json!({"seq": 6, "base": 1, "request": a})).await;
    assert_eq!((same.version, same.base), (2, Some(1)));
    assert!(same.tiles.is_empty());
    // Another design, drawn exactly (a release): only what changed.
    let other = delta(
        app,
        who,
        session,
        json!({"seq": 7, "base": 2, "release": true, "request": b}),
    )
    .await;
    let mut held = TiledDots::default();
    held.apply(&first);
    held.apply(&same);
    held.apply(&other);
    assert_eq!(held, full_pattern(&b));
    // A base the server does not hold: every tile.
    let unknown = delta(app, who, session, json!({"seq": 8, "base": 999, "request": b})).await;
    assert_eq!(unknown.base, None);
    assert_eq!(unknown.tiles.len(), held.tile_count());

    // A bad design names its field; the session goes on.
    let bad = send(
        app,
        who,
        session,
        json!({"seq": 9, "request": {"density_per_cm2": {"crown": -3}}}),
    )
    .await;
    let error = bad.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert!(
        error["field"].as_str().unwrap().starts_with("request."),
        "{error}"
    );
    let bad = send(
        app,
        who,
        session,
        json!({"seq": 10, "request": a, "colour": "red"}),
    )
    .await;
    bad.expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");

    // Someone else (even of the same clinic) does not find it; nor does anyone an unknown id.
    let path = api(&format!("/designer-sessions/{session}"));
    send(app, &demo.owner, session, json!({"seq": 11, "request": a}))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.delete(&path, &demo.owner)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    send(app, who, Uuid::new_v4(), json!({"seq": 1, "request": a}))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    // A consultation of another clinic is not found either.
    let (stranger, _) = app.other_clinic("Elsewhere").await;
    let consultations = app
        .get(
            &api(&format!(
                "/clients/{}/consultations",
                id_of(&demo.client_named("Kowalski").await)
            )),
            who,
        )
        .await
        .expect(StatusCode::OK);
    app.post(
        &api("/designer-sessions"),
        &stranger,
        json!({"consultation_id": id_of(&consultations[0])}),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");

    // Closed, it is gone.
    let closed = app.delete(&path, who).await;
    assert_eq!(closed.status, StatusCode::NO_CONTENT);
    send(app, who, session, json!({"seq": 12, "request": a}))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}
