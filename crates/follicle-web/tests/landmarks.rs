//! Landmarks on a stored photo: found by the face model on a real portrait (a shipped photo,
//! `assets/photos`), saved, read back; a photo without a face is a 422 on `photo` that sends
//! the practitioner to place the points by hand; points outside the photo are refused naming
//! the point; another clinic finds nothing; a front-desk user may not detect or save.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{App, Demo, Payload};

fn api(path: &str) -> String {
    format!("/api/v1{path}")
}

fn portrait() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/photos/E_W_Dahlgren.jpg"
    ))
    .unwrap()
}

/// A grey PNG with no face.
fn grey_png() -> Vec<u8> {
    let image = image::RgbImage::from_pixel(320, 240, image::Rgb([150, 150, 150]));
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

async fn upload(demo: &Demo, client: &str, content_type: &str, bytes: Vec<u8>) -> Value {
    demo.app
        .send(
            Method::POST,
            &api(&format!("/clients/{client}/photos?angle=front")),
            &demo.practitioner,
            Payload::Raw(Some(content_type.into()), bytes),
            &[],
        )
        .await
        .expect(StatusCode::CREATED)
}

pub async fn detect_save_and_read_back(app: &App) {
    let demo = Demo::seed(app).await;
    let client = demo.clients().await[0]["id"].as_str().unwrap().to_owned();
    let photo = upload(&demo, &client, "image/jpeg", portrait()).await;
    let pid = photo["id"].as_str().unwrap();

    app.get(&api(&format!("/photos/{pid}/landmarks")), &demo.practitioner)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    let found = app
        .post(
            &api(&format!("/photos/{pid}/landmarks/detect")),
            &demo.practitioner,
            json!(null),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (found["width"].as_u64(), found["height"].as_u64()),
        (Some(703), Some(622))
    );
    assert_eq!(found["outline"].as_array().unwrap().len(), 36);
    let points = found["points"].as_array().unwrap();
    let at = |name: &str| {
        let p = points
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {found}"));
        (p["x_px"].as_f64().unwrap(), p["y_px"].as_f64().unwrap())
    };
    // Hand-marked at (343.75, 198.25) in assets/photos/landmarks.json (the median of four marks).
    let (x, y) = at("lateral_canthus_right");
    assert!((x - 343.75).hypot(y - 198.25) < 10.0, "({x}, {y})");
    at("glabella");
    at("lateral_canthus_left");

    // The practitioner moves the glabella and saves.
    let mut kept: Vec<Value> = points.clone();
    for p in &mut kept {
        if p["name"] == "glabella" {
            p["x_px"] = json!(400.5);
            p["y_px"] = json!(180.25);
        }
    }
    let body = json!({"points": kept, "outline": found["outline"], "source": "adjusted"});
    let saved = app
        .put(
            &api(&format!("/photos/{pid}/landmarks")),
            &demo.practitioner,
            body.clone(),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(saved["source"], "adjusted");
    assert_eq!(saved["client_id"], json!(client));
    let read = app
        .get(&api(&format!("/photos/{pid}/landmarks")), &demo.owner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(read, saved);
    let glabella = read["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "glabella")
        .unwrap();
    assert_eq!(
        (glabella["x_px"].as_f64(), glabella["y_px"].as_f64()),
        (Some(400.5), Some(180.25))
    );

    // Refused: a point outside the photo (named), an unknown name, an unknown field.
    let outside = json!({"points": [{"name": "glabella", "x_px": 800.0, "y_px": 10.0}], "source": "manual"});
    let e = app
        .put(
            &api(&format!("/photos/{pid}/landmarks")),
            &demo.practitioner,
            outside,
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(e["field"], "points");
    assert!(e["message"].as_str().unwrap().contains("glabella"), "{e}");
    let unknown = json!({"points": [{"name": "nose", "x_px": 1.0, "y_px": 1.0}], "source": "manual"});
    app.put(
        &api(&format!("/photos/{pid}/landmarks")),
        &demo.practitioner,
        unknown,
    )
    .await
    .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    // Nothing refused changed what was kept.
    let still = app
        .get(&api(&format!("/photos/{pid}/landmarks")), &demo.practitioner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(still, saved);

    // Roles and clinics.
    app.post(
        &api(&format!("/photos/{pid}/landmarks/detect")),
        &demo.front_desk,
        json!(null),
    )
    .await
    .expect_error(StatusCode::FORBIDDEN, "forbidden");
    app.put(
        &api(&format!("/photos/{pid}/landmarks")),
        &demo.front_desk,
        body.clone(),
    )
    .await
    .expect_error(StatusCode::FORBIDDEN, "forbidden");
    let (other, _) = app.other_clinic("Elsewhere").await;
    for answer in [
        app.get(&api(&format!("/photos/{pid}/landmarks")), &other).await,
        app.post(
            &api(&format!("/photos/{pid}/landmarks/detect")),
            &other,
            json!(null),
        )
        .await,
        app.put(&api(&format!("/photos/{pid}/landmarks")), &other, body.clone())
            .await,
    ] {
        answer.expect_error(StatusCode::NOT_FOUND, "not_found");
    }
}

pub async fn no_face_is_a_clear_422(app: &App) {
    let demo = Demo::seed(app).await;
    let client = demo.clients().await[0]["id"].as_str().unwrap().to_owned();
    let photo = upload(&demo, &client, "image/png", grey_png()).await;
    let pid = photo["id"].as_str().unwrap();
    let e = app
        .post(
            &api(&format!("/photos/{pid}/landmarks/detect")),
            &demo.practitioner,
            json!(null),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(e["field"], "photo", "{e}");
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("no face") && message.contains("by hand"),
        "{message}"
    );
}
