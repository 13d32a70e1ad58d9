//! Photos taken to be compared, and the design on them: the studio's capture page refuses a
//! photo that is not an image or too small beside the field and keeps a real one with its
//! consultation and consent; the warp grids, the healed look on the photo and the client
//! sheet are drawn for landmarks placed by hand on a real portrait, and bad landmarks or
//! moments are refused naming the field.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{App, Auth, Backend, Demo, Payload, TestStore, id_of};

/// A real studio portrait, bald on top (assets/photos/ORIGIN.md), 703 × 622.
const PHOTO: &[u8] = include_bytes!("../../../assets/photos/E_W_Dahlgren.jpg");
/// Its landmarks, marked by hand (the same as e2e/tests/photo.test.mjs).
const MARKS: [(&str, f64, f64); 6] = [
    ("glabella", 394.0, 186.0),
    ("lateral_canthus_right", 333.0, 203.0),
    ("lateral_canthus_left", 462.0, 196.0),
    ("ear_right", 279.0, 226.0),
    ("ear_left", 486.0, 222.0),
    ("vertex", 382.0, 52.0),
];

fn marks() -> Value {
    Value::Array(
        MARKS
            .iter()
            .map(|(n, x, y)| json!({"name": n, "x_px": x, "y_px": y}))
            .collect(),
    )
}

/// Pixels that differ by more than a little between two images in a box.
fn changed(
    a: &image::RgbImage,
    b: &image::RgbImage,
    x: std::ops::Range<u32>,
    y: std::ops::Range<u32>,
) -> usize {
    y.flat_map(|y| x.clone().map(move |x| (x, y)))
        .filter(|&(x, y)| {
            let (p, q) = (a.get_pixel(x, y).0, b.get_pixel(x, y).0);
            (0..3).map(|k| p[k].abs_diff(q[k]) as u32).sum::<u32>() > 12
        })
        .count()
}

fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> Payload {
    let boundary = "follicleTestBoundary7";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    if let Some((filename, content_type, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Payload::Raw(Some(format!("multipart/form-data; boundary={boundary}")), body)
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 5) as u8, (y * 7) as u8, 120]));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_capture_page_checks_and_keeps_photos() {
    let test = TestStore::sqlite().await;
    let app = &App::new(&test.store, Backend::Sqlite);
    let demo = Demo::seed(app).await;
    let token = demo.owner_login["token"].as_str().unwrap().to_owned();
    let csrf = demo.owner_login["csrf_token"].as_str().unwrap().to_owned();
    let browser = Auth::Cookie { token, csrf: None };
    let cid = id_of(&demo.client_named("Martin Kowalski").await);

    let page = app
        .get(&format!("/clients/{cid}/photos/new?angle=front"), &browser)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8(page.body).unwrap();
    assert!(
        html.contains("id=\"ghost\""),
        "the demo's front photo is the ghost"
    );
    assert!(
        html.contains("Consultation v1"),
        "the photo can be tied to the consultation"
    );
    let consultation = html
        .split("value=\"consultation:")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();

    let upload = |file: (&'static str, &'static str, Vec<u8>), taken_for: String| {
        let csrf = csrf.clone();
        let browser = browser.clone();
        async move {
            let fields = [
                ("_csrf", csrf.as_str()),
                ("angle", "front"),
                ("from", "capture"),
                ("taken_for", taken_for.as_str()),
                ("consented", "yes"),
            ];
            app.send(
                Method::POST,
                &format!("/clients/{cid}/photos"),
                &browser,
                multipart(&fields, Some((file.0, file.1, &file.2))),
                &[],
            )
            .await
        }
    };
    // Not an image: refused beside the field, in plain words.
    let answer = upload(
        ("notes.txt", "text/plain", b"not a photo".to_vec()),
        String::new(),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = String::from_utf8(answer.body).unwrap();
    assert!(
        html.contains("id=\"photo-error\">photo: not a PNG or JPEG image</p>"),
        "{html}"
    );
    // Too small to compare.
    let answer = upload(("tiny.png", "image/png", png(40, 30)), String::new()).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = String::from_utf8(answer.body).unwrap();
    assert!(html.contains("40 × 30 pixels is too small to compare"), "{html}");
    // Flat grey: kept, with the warning that it looks blurred.
    let flat = {
        let img = image::RgbImage::from_pixel(640, 480, image::Rgb([120, 110, 100]));
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    };
    let answer = upload(("flat.png", "image/png", flat), String::new()).await;
    assert_eq!(answer.status, StatusCode::OK);
    let html = String::from_utf8(answer.body).unwrap();
    assert!(html.contains("id=\"photo-kept\""), "{html}");
    assert!(html.contains("looks blurred"), "{html}");
    // A real portrait, tied to the consultation: kept without a warning.
    let answer = upload(
        ("dahlgren.jpg", "image/jpeg", PHOTO.to_vec()),
        format!("consultation:{consultation}"),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    let html = String::from_utf8(answer.body).unwrap();
    assert!(
        html.contains("id=\"photo-kept\"") && !html.contains("photo-notice"),
        "{html}"
    );
    let photos = app
        .get(&format!("/api/v1/clients/{cid}/photos"), &demo.owner)
        .await
        .expect(StatusCode::OK);
    let kept = photos
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["width"] == 703)
        .expect("the portrait is kept");
    assert_eq!(kept["consultation_id"], json!(consultation));
    assert_eq!(kept["consented"], true);
    // A consultation of another client is not this one's.
    let other = app
        .get("/api/v1/clients?q=Kowalski", &demo.owner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(other.as_array().unwrap().len(), 1);
    let answer = upload(
        ("dahlgren.jpg", "image/jpeg", PHOTO.to_vec()),
        format!("consultation:{}", uuid::Uuid::new_v4()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        String::from_utf8(answer.body)
            .unwrap()
            .contains("taken for: no consultation of this client")
    );
    // The client page shows the front photos as a timeline.
    let page = app.get(&format!("/clients/{cid}"), &browser).await;
    let html = String::from_utf8(page.body).unwrap();
    assert!(
        html.contains("class=\"photo-timeline\" aria-label=\"front photos, oldest first\""),
        "{html}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_design_on_a_real_photo() {
    let test = TestStore::sqlite().await;
    let app = &App::new(&test.store, Backend::Sqlite);
    let demo = Demo::seed(app).await;
    let cid = id_of(&demo.client_named("Martin Kowalski").await);
    let uploaded = app
        .send(
            Method::POST,
            &format!("/api/v1/clients/{cid}/photos?angle=front&consented=true"),
            &demo.practitioner,
            Payload::Raw(Some("image/jpeg".into()), PHOTO.to_vec()),
            &[],
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(uploaded["consented"], true);
    let pid = id_of(&uploaded);
    let designs = app
        .get(&format!("/api/v1/clients/{cid}/designs"), &demo.practitioner)
        .await
        .expect(StatusCode::OK);
    let d = &designs[0];
    let mut design = d["settings"].clone();
    design["hairline"] = d["hairline"].clone();
    design["zones"] = d["zones"].clone();
    design["seed"] = d["seed"].clone();
    let body = json!({"design": design, "landmarks": marks()});

    let warp = app
        .post(
            &format!("/api/v1/photos/{pid}/warp"),
            &demo.practitioner,
            body.clone(),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (warp["width"].as_u64(), warp["height"].as_u64()),
        (Some(703), Some(622))
    );
    assert_eq!(warp["view"], "front");
    let on = |grid: &Value| {
        grid["points"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| !p.is_null())
            .count()
    };
    assert!(on(&warp["photo_to_chart"]) > 100, "the head is on the photo");
    assert!(
        on(&warp["chart_to_photo"]) > 100,
        "the chart's front half is on the photo"
    );

    let photo = image::load_from_memory(PHOTO).unwrap().to_rgb8();
    let decode = |bytes: &[u8]| image::load_from_memory(bytes).unwrap().to_rgb8();
    let overlay = app
        .send(
            Method::POST,
            &format!("/api/v1/photos/{pid}/overlay"),
            &demo.practitioner,
            Payload::Json(body.clone()),
            &[],
        )
        .await;
    assert_eq!(
        overlay.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&overlay.body)
    );
    assert_eq!(overlay.content_type(), "image/png");
    let after = decode(&overlay.body);
    assert_eq!(after.dimensions(), photo.dimensions());
    let scalp = changed(&photo, &after, 300..470, 60..150);
    let suit = changed(&photo, &after, 150..550, 450..620);
    assert!(scalp > 2000, "the scalp takes the design: {scalp} pixels changed");
    assert_eq!(suit, 0, "below the chin nothing changes");

    let mut years = body.clone();
    years["moment"] = json!("years:8");
    let later = app
        .send(
            Method::POST,
            &format!("/api/v1/photos/{pid}/overlay"),
            &demo.practitioner,
            Payload::Json(years),
            &[],
        )
        .await;
    assert_eq!(later.status, StatusCode::OK);
    assert_ne!(decode(&later.body), after, "eight years later looks different");

    // Bad input: the field and what is allowed.
    for (change, field, says) in [
        (
            json!({"landmarks": [{"name": "glabella", "x_px": 394, "y_px": 186}, {"name": "vertex", "x_px": 382, "y_px": 52}, {"name": "ear_left", "x_px": 9000, "y_px": 222}]}),
            "overlay.landmarks[2]",
            "outside the 703 × 622 photo",
        ),
        (
            json!({"landmarks": [{"name": "glabella", "x_px": 394, "y_px": 186}, {"name": "vertex", "x_px": 382, "y_px": 52}]}),
            "overlay.landmarks",
            "at least 3",
        ),
        (json!({"moment": "years:-1"}), "moment", ""),
        (json!({"view": "chart"}), "view", "front, top"),
    ] {
        let mut bad = body.clone();
        for (k, v) in change.as_object().unwrap() {
            bad[k] = v.clone();
        }
        let error = app
            .post(&format!("/api/v1/photos/{pid}/overlay"), &demo.practitioner, bad)
            .await
            .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(error["field"], field, "{error}");
        assert!(error["message"].as_str().unwrap().contains(says), "{error}");
    }
    let mut unknown = body.clone();
    unknown["landmarks"][0]["name"] = json!("nose");
    let answer = app
        .post(&format!("/api/v1/photos/{pid}/warp"), &demo.practitioner, unknown)
        .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The front desk sees no clinical photo.
    let answer = app
        .post(&format!("/api/v1/photos/{pid}/warp"), &demo.front_desk, body)
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

/// Text of a PDF, read back by poppler's `pdftotext` (from its standard input).
fn pdf_text(pdf: &[u8]) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("pdftotext")
        .args(["-", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pdftotext (poppler-utils) runs");
    child.stdin.take().unwrap().write_all(pdf).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_client_sheet_on_a_real_photo() {
    let test = TestStore::sqlite().await;
    let app = &App::new(&test.store, Backend::Sqlite);
    let seeded = Demo::seed(app).await;
    let demo = &seeded;
    let cid = id_of(&demo.client_named("Martin Kowalski").await);
    let upload = |angle: &'static str| async move {
        let answer = app
            .send(
                Method::POST,
                &format!("/api/v1/clients/{cid}/photos?angle={angle}&consented=true"),
                &demo.practitioner,
                Payload::Raw(Some("image/jpeg".into()), PHOTO.to_vec()),
                &[],
            )
            .await
            .expect(StatusCode::CREATED);
        id_of(&answer)
    };
    let pid = upload("front").await;
    let side = upload("left").await;
    let designs = app
        .get(&format!("/api/v1/clients/{cid}/designs"), &demo.practitioner)
        .await
        .expect(StatusCode::OK);
    let did = id_of(&designs[0]);
    let sheet = |query: String| format!("/api/v1/designs/{did}/client-sheet?{query}");
    let refused = |query: String, status: StatusCode, code: &'static str| async move {
        app.get(&sheet(query), &demo.practitioner)
            .await
            .expect_error(status, code)
    };

    // No landmarks kept yet on the photo given.
    let error = refused(
        format!("photo={pid}"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    assert_eq!(error["field"], "photo", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("landmarks"),
        "{error}"
    );
    // Without a photo named, the newest front photo with landmarks: the demo's portrait with
    // its hand-placed points, not the new upload that has none.
    let default = app.get(&sheet(String::new()), &demo.practitioner).await;
    assert_eq!(
        default.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&default.body)
    );
    assert_eq!(default.content_type(), "image/png");
    app.send(
        Method::PUT,
        &format!("/api/v1/photos/{pid}/landmarks"),
        &demo.practitioner,
        Payload::Json(json!({"points": marks(), "source": "manual"})),
        &[],
    )
    .await
    .expect(StatusCode::OK);

    // PNG: the sheet's width, and tall enough for the name, the pair, the timeline and the plan.
    let png = app
        .get(&sheet(format!("photo={pid}&format=png")), &demo.practitioner)
        .await;
    assert_eq!(
        png.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&png.body)
    );
    assert_eq!(png.content_type(), "image/png");
    let img = image::load_from_memory(&png.body).unwrap().to_rgb8();
    assert_eq!(img.width(), follicle_web::photo_view::SHEET_WIDTH_PX);
    assert!(
        (img.width() / 2..img.width() * 2).contains(&img.height()),
        "{:?}",
        img.dimensions()
    );

    // PDF, asked for by Accept (no photo: the newest front photo with landmarks).
    let pdf = app
        .send(
            Method::GET,
            &sheet(String::new()),
            &demo.practitioner,
            Payload::None,
            &[("accept", "application/pdf")],
        )
        .await;
    assert_eq!(
        pdf.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&pdf.body)
    );
    assert_eq!(pdf.content_type(), "application/pdf");
    assert!(pdf.body.starts_with(b"%PDF"));
    let text = pdf_text(&pdf.body);
    assert!(text.contains("Martin Kowalski"), "{text}");
    // On the clinic's letterhead, each session's note whole (lines wrap, nothing is cut).
    assert!(text.contains("Follicle Demo Clinic"), "{text}");
    assert!(!text.contains("..."), "{text}");
    let sessions = designs[0]["plan"]["sessions"].as_array().map_or(0, Vec::len);
    assert!(sessions > 0, "the demo design has a plan: {}", designs[0]);
    assert!(text.contains(&format!("After session {sessions}")), "{text}");
    for s in 1..=sessions {
        assert!(text.contains(&format!("Session {s}")), "{text}");
    }
    assert!(text.contains("Touch-up") && text.contains("year "), "{text}");
    // The query parameter wins over Accept.
    let png = app
        .send(
            Method::GET,
            &sheet("format=png".into()),
            &demo.practitioner,
            Payload::None,
            &[("accept", "application/pdf")],
        )
        .await;
    assert_eq!(png.content_type(), "image/png");

    // Bad input, naming the field.
    let error = refused(
        format!("photo={side}"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    assert_eq!(error["field"], "photo", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("left photo"),
        "{error}"
    );
    let error = refused("format=gif".into(), StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
    assert_eq!(error["field"], "format", "{error}");
    let error = refused(
        format!("photo={}", uuid::Uuid::new_v4()),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(error["field"], "photo", "{error}");
    // A photo of another clinic is not found, like an unknown one.
    let (other, _) = app.other_clinic("Elsewhere SMP").await;
    let own = app
        .post(
            "/api/v1/clients",
            &other,
            json!({"name": "Own Client", "date_of_birth": null, "age_years": null, "phone": "", "email": "", "notes": ""}),
        )
        .await
        .expect(StatusCode::CREATED);
    let theirs = app
        .send(
            Method::POST,
            &format!(
                "/api/v1/clients/{}/photos?angle=front&consented=true",
                id_of(&own)
            ),
            &other,
            Payload::Raw(Some("image/jpeg".into()), PHOTO.to_vec()),
            &[],
        )
        .await
        .expect(StatusCode::CREATED);
    let error = refused(
        format!("photo={}", id_of(&theirs)),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(error["field"], "photo", "{error}");
    // Nor can the other clinic draw this clinic's design.
    let answer = app.get(&sheet(String::new()), &other).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    // Landmarks that do not fit the head: named on the photo.
    app.send(
        Method::PUT,
        &format!("/api/v1/photos/{pid}/landmarks"),
        &demo.practitioner,
        Payload::Json(json!({"points": [
            {"name": "glabella", "x_px": 394, "y_px": 186},
            {"name": "vertex", "x_px": 382, "y_px": 52}
        ], "source": "manual"})),
        &[],
    )
    .await
    .expect(StatusCode::OK);
    let error = refused(String::new(), StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
    assert!(
        error["field"].as_str().unwrap().starts_with("photo.landmarks"),
        "{error}"
    );
    // The front desk sees no clinical photo.
    let answer = app.get(&sheet(String::new()), &demo.front_desk).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}
