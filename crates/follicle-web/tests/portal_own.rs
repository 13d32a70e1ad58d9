//! The client's own door, continued (issue 15): asking to move a visit, signing by typing
//! one's name, photos taken by the client with the capture guide, and the clinic's logo on
//! documents — each through the real routes, the portal's and the studio's.

use axum::http::{Method, StatusCode};
use follicle_store::{Actor, NewAppointment, NewClient, Store};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::mail_catcher::{as_client, cookie, csrf, post_form, text};
use crate::support::{App, Auth, Backend, Demo, TestStore};

both_stores!(
    a_client_asks_to_move_a_visit_and_the_clinic_answers,
    a_consent_is_signed_by_typing_the_name_on_record,
    a_client_sends_photos_by_angle_with_the_guide,
    the_clinic_logo_is_on_every_document,
);

/// A client of the demo clinic signed in to their portal: (client id, portal cookie).
async fn portal_client(store: &Store, desk: &Actor, name: &str, email: &str) -> (Uuid, String) {
    let client = store
        .create_client(
            desk,
            &NewClient {
                name: name.into(),
                date_of_birth: None,
                age_years: Some(40),
                phone: String::new(),
                email: email.into(),
                notes: String::new(),
            },
        )
        .await
        .unwrap();
    let (token, _) = store
        .issue_portal_link(desk.clinic_id(), client.id, Duration::minutes(30), 5)
        .await
        .unwrap()
        .unwrap();
    let session = store
        .redeem_portal_link(token.as_str(), Duration::days(1), "PortalTest/1.0")
        .await
        .unwrap()
        .unwrap();
    (client.id, session.token.as_str().to_owned())
}

/// The portal's CSRF token for a portal cookie.
fn portal_csrf(cookie: &str) -> String {
    follicle_web::extract::csrf_token(cookie)
}

/// A weekday (Tuesday to Friday) at least `days` ahead at `hour`:00 (the diary's clock).
fn weekday_ahead(days: i64, hour: u8) -> OffsetDateTime {
    let mut d = OffsetDateTime::now_utc().date() + Duration::days(days);
    while !matches!(
        d.weekday(),
        time::Weekday::Tuesday | time::Weekday::Wednesday | time::Weekday::Thursday | time::Weekday::Friday
    ) {
        d = d.next_day().unwrap();
    }
    d.with_hms(hour, 0, 0).unwrap().assume_utc()
}

async fn visit(store: &Store, desk: &Actor, client_id: Uuid, practitioner: Uuid, at: OffsetDateTime) -> Uuid {
    store
        .book_appointment(
            desk,
            &NewAppointment {
                client_id,
                practitioner_id: Some(practitioner),
                starts_at: at,
                duration_minutes: 60,
                notes: String::new(),
            },
        )
        .await
        .unwrap()
        .id
}

async fn a_client_asks_to_move_a_visit_and_the_clinic_answers(test: &TestStore, backend: Backend) {
    let app = App::new(&test.store, backend);
    let demo = Demo::seed(&app).await;
    let store = &test.store;
    let desk = store.actor(demo.front_desk_id).await.unwrap();
    let (noor, noor_cookie) = portal_client(store, &desk, "Noor Haddad", "noor.haddad@example.org").await;
    let (_, kai_cookie) = portal_client(store, &desk, "Kai Berg", "kai.berg@example.org").await;
    let starts = weekday_ahead(21, 10);
    let visit_id = visit(store, &desk, noor, demo.practitioner_id, starts).await;
    let past = visit(store, &desk, noor, demo.practitioner_id, weekday_ahead(-30, 10)).await;

    // The visit offers "Ask to move"; its page has the form.
    let home = as_client(&app, Method::GET, "/portal", &noor_cookie, &[]).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        text(&home).contains(&format!("/portal/visits/{visit_id}/move")),
        "{}",
        text(&home)
    );
    let page = as_client(
        &app,
        Method::GET,
        &format!("/portal/visits/{visit_id}/move"),
        &noor_cookie,
        &[],
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(text(&page).contains("When suits you?"));
    let path = format!("/portal/visits/{visit_id}/move");
    let csrf_noor = portal_csrf(&noor_cookie);

    // Too long, or a day that is not a day: the form again, naming the problem; nothing kept.
    let long = "a".repeat(301);
    let refused = as_client(
        &app,
        Method::POST,
        &path,
        &noor_cookie,
        &[("_csrf", &csrf_noor), ("suits", &long)],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&refused).contains("When suits you: at most 300 characters, got 301"),
        "{}",
        text(&refused)
    );
    let refused = as_client(
        &app,
        Method::POST,
        &path,
        &noor_cookie,
        &[("_csrf", &csrf_noor), ("suits", ""), ("day1", "next week")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&refused).contains("Choice 1: &#34;next week&#34; is not a day"),
        "{}",
        text(&refused)
    );
    assert!(store.open_move_requests(&desk).await.unwrap().is_empty());

    // Asked: the visit says so in the portal, the clinic sees it on the visit and on Today.
    let day1 = (starts.date() + Duration::days(7)).to_string();
    let asked = as_client(
        &app,
        Method::POST,
        &path,
        &noor_cookie,
        &[
            ("_csrf", &csrf_noor),
            ("suits", "Mornings before 11"),
            ("day1", &day1),
        ],
    )
    .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", text(&asked));
    let home = text(&as_client(&app, Method::GET, "/portal?done=move", &noor_cookie, &[]).await);
    assert!(home.contains("You asked to move it on"), "{home}");
    assert!(home.contains("Mornings before 11"), "{home}");
    let staff = cookie(&demo.front_desk);
    let appointment = text(&app.get(&format!("/appointments/{visit_id}"), &staff).await);
    assert!(
        appointment.contains("The client asked to move it"),
        "{appointment}"
    );
    assert!(appointment.contains("Mornings before 11"), "{appointment}");
    let today = text(&app.get("/", &staff).await);
    assert!(today.contains("Clients asking to move a visit"), "{today}");
    assert!(today.contains(&format!("/appointments/{visit_id}")), "{today}");

    // Another client's visit is not found from their pages; a past visit is refused.
    let foreign = as_client(
        &app,
        Method::POST,
        &path,
        &kai_cookie,
        &[("_csrf", &portal_csrf(&kai_cookie)), ("suits", "later")],
    )
    .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert!(text(&foreign).contains("There is no such visit among yours."));
    let gone = as_client(
        &app,
        Method::POST,
        &format!("/portal/visits/{past}/move"),
        &noor_cookie,
        &[("_csrf", &csrf_noor), ("suits", "later")],
    )
    .await;
    assert_eq!(gone.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&gone).contains("has begun or passed"), "{}", text(&gone));

    // The front desk moves the visit with its form: the request is answered.
    let to = weekday_ahead(28, 14);
    let moved = post_form(
        &app,
        &format!("/appointments/{visit_id}/move"),
        &staff,
        &[
            ("_csrf", &csrf(&staff)),
            ("date", &to.date().to_string()),
            ("time", "14:00"),
            ("practitioner_id", &demo.practitioner_id.to_string()),
            ("override_reason", ""),
        ],
    )
    .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", text(&moved));
    assert!(store.open_move_requests(&desk).await.unwrap().is_empty());
    let home = text(&as_client(&app, Method::GET, "/portal", &noor_cookie, &[]).await);
    assert!(!home.contains("You asked to move it on"), "{home}");
    let appointment = text(&app.get(&format!("/appointments/{visit_id}"), &staff).await);
    assert!(appointment.contains("moved "), "{appointment}");

    // Asked again, and dismissed by the front desk: closed, gone from Today.
    let again = as_client(
        &app,
        Method::POST,
        &path,
        &noor_cookie,
        &[("_csrf", &csrf_noor), ("suits", "Evenings")],
    )
    .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", text(&again));
    let open = store.open_move_requests(&desk).await.unwrap();
    assert_eq!(open.len(), 1);
    let dismissed = post_form(
        &app,
        &format!("/move-requests/{}/dismiss", open[0].0.id),
        &staff,
        &[("_csrf", &csrf(&staff))],
    )
    .await;
    assert_eq!(dismissed.status, StatusCode::SEE_OTHER, "{}", text(&dismissed));
    assert!(store.open_move_requests(&desk).await.unwrap().is_empty());
    let today = text(&app.get("/", &staff).await);
    assert!(!today.contains("Clients asking to move a visit"), "{today}");
}

fn pdftotext(pdf: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("follicle-own-{}.pdf", Uuid::new_v4()));
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils; scripts/test installs it)");
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

async fn a_consent_is_signed_by_typing_the_name_on_record(test: &TestStore, backend: Backend) {
    let app = App::new(&test.store, backend);
    let demo = Demo::seed(&app).await;
    let store = &test.store;
    let desk = store.actor(demo.front_desk_id).await.unwrap();
    let (zoe, zoe_cookie) = portal_client(store, &desk, "Zoë Ångström-Lee", "zoe.al@example.org").await;
    let me = store.portal_client(&zoe_cookie).await.unwrap().unwrap();

    // The consent page offers the keyboard's way to sign.
    let page = as_client(&app, Method::GET, "/portal/consents/photos", &zoe_cookie, &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        text(&page).contains("Type your name to sign instead"),
        "{}",
        text(&page)
    );
    let csrf_zoe = portal_csrf(&zoe_cookie);

    // A name that is not the one on record (accents left out): refused, saying which is.
    let refused = as_client(
        &app,
        Method::POST,
        "/portal/consents/photos",
        &zoe_cookie,
        &[
            ("_csrf", &csrf_zoe),
            ("name", "Zoe Angstrom-Lee"),
            ("method", "typed"),
            ("signature", ""),
            ("agree", "yes"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&refused).contains("is not your name as the clinic has it (“Zoë Ångström-Lee”)"),
        "{}",
        text(&refused)
    );
    assert!(store.own_consents(&me).await.unwrap().is_empty(), "nothing kept");

    // The name as on record, other capitals and spaces: signed, by typing, and the PDF says so.
    let signed = as_client(
        &app,
        Method::POST,
        "/portal/consents/photos",
        &zoe_cookie,
        &[
            ("_csrf", &csrf_zoe),
            ("name", "zoë  ångström-lee"),
            ("method", "typed"),
            ("signature", ""),
            ("agree", "yes"),
        ],
    )
    .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", text(&signed));
    let consents = store.own_consents(&me).await.unwrap();
    assert_eq!(consents.len(), 1);
    assert_eq!(
        consents[0].signed.method(),
        follicle_store::SignatureMethod::Typed
    );
    assert_eq!(consents[0].signed.signature, "typed:zoë  ångström-lee");
    let pdf = as_client(
        &app,
        Method::GET,
        &format!("/portal/signed/{}/pdf", consents[0].id),
        &zoe_cookie,
        &[],
    )
    .await;
    assert_eq!(pdf.status, StatusCode::OK);
    let words = pdftotext(&pdf.body);
    assert!(words.contains("signed by typing their name"), "{words}");
    assert!(words.contains("their full name, typed"), "{words}");
    assert!(words.contains("zoë ångström-lee"), "{words}");
    let owner = store.actor(demo.owner_id).await.unwrap();
    let check = store.check_consent(&owner, consents[0].id).await.unwrap();
    assert!(check.document_intact && check.pdf_intact);

    // At the chair: the same choice, the same rule, worded for the staff member.
    let staff = cookie(&demo.practitioner);
    let chair = format!("/clients/{zoe}/consents/marketing_email/sign");
    let form_page = app.get(&chair, &staff).await;
    assert_eq!(form_page.status, StatusCode::OK);
    assert!(text(&form_page).contains("Type your name to sign instead"));
    let refused = post_form(
        &app,
        &chair,
        &staff,
        &[
            ("_csrf", &csrf(&staff)),
            ("name", "Zoe"),
            ("method", "typed"),
            ("agree", "yes"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&refused).contains("is not the client&#39;s name on their record"),
        "{}",
        text(&refused)
    );
    let signed = post_form(
        &app,
        &chair,
        &staff,
        &[
            ("_csrf", &csrf(&staff)),
            ("name", "ZOË ÅNGSTRÖM-LEE"),
            ("method", "typed"),
            ("agree", "yes"),
        ],
    )
    .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", text(&signed));
    let listed = text(&app.get(&format!("/clients/{zoe}/consents"), &staff).await);
    assert!(listed.contains("(signed by typing their name)"), "{listed}");
    // Drawing still works as before, the method recorded as drawn.
    let drawn = as_client(
        &app,
        Method::POST,
        "/portal/consents/marketing_sms",
        &zoe_cookie,
        &[
            ("_csrf", &csrf_zoe),
            ("name", "Zoë Ångström-Lee"),
            ("method", "drawn"),
            ("signature", "10,10 50,80 90,20 130,90 170,30"),
            ("agree", "yes"),
        ],
    )
    .await;
    assert_eq!(drawn.status, StatusCode::SEE_OTHER, "{}", text(&drawn));
    let all = store.own_consents(&me).await.unwrap();
    assert!(
        all.iter()
            .any(|c| c.signed.method() == follicle_store::SignatureMethod::Drawn)
    );
}

/// A real studio portrait (assets/photos/ORIGIN.md), 703 × 622.
const PHOTO: &[u8] = include_bytes!("../../../assets/photos/E_W_Dahlgren.jpg");

/// A multipart form: text fields, and a file in the field `file.0`.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &str, &[u8])>) -> crate::support::Payload {
    let boundary = "folliclePortalBoundary3";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    if let Some((field, filename, content_type, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    crate::support::Payload::Raw(Some(format!("multipart/form-data; boundary={boundary}")), body)
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 5) as u8, (y * 7) as u8, 120]));
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

async fn a_client_sends_photos_by_angle_with_the_guide(test: &TestStore, backend: Backend) {
    let app = App::new(&test.store, backend);
    let demo = Demo::seed(&app).await;
    let store = &test.store;
    let desk = store.actor(demo.front_desk_id).await.unwrap();
    let owner = store.actor(demo.owner_id).await.unwrap();
    let (ines, ines_cookie) = portal_client(store, &desk, "Inês Duarte", "ines.duarte@example.org").await;
    let (_, kai_cookie) = portal_client(store, &desk, "Kai Berg", "kai.berg@example.org").await;
    let csrf_ines = portal_csrf(&ines_cookie);
    let send = |cookie: String, angle: &'static str, file: (&'static str, &'static str, Vec<u8>)| {
        let app = &app;
        async move {
            let csrf = portal_csrf(&cookie);
            let header = format!("follicle_portal={cookie}");
            app.send(
                Method::POST,
                &format!("/portal/photos/{angle}"),
                &Auth::None,
                multipart(&[("_csrf", &csrf)], Some(("photo", file.0, file.1, &file.2))),
                &[("cookie", &header)],
            )
            .await
        }
    };

    // Without the photographs consent: the page says to sign it first, with the link.
    let home = text(&as_client(&app, Method::GET, "/portal", &ines_cookie, &[]).await);
    assert!(
        home.contains("Your photos") && home.contains("/portal/photos/front"),
        "{home}"
    );
    assert!(home.contains("Top of the head"), "{home}");
    let page = as_client(&app, Method::GET, "/portal/photos/front", &ines_cookie, &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        text(&page).contains("first sign the consent to photographs"),
        "{}",
        text(&page)
    );
    assert!(text(&page).contains("href=\"/portal/consents/photos\""));
    let refused = send(
        ines_cookie.clone(),
        "front",
        ("me.jpg", "image/jpeg", PHOTO.to_vec()),
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(text(&refused).contains("first sign the consent to photographs"));
    assert!(store.photos(&owner, ines).await.unwrap().is_empty());

    // Signed: the guide, with the framing marks.
    let signed = as_client(
        &app,
        Method::POST,
        "/portal/consents/photos",
        &ines_cookie,
        &[
            ("_csrf", &csrf_ines),
            ("name", "Inês Duarte"),
            ("method", "drawn"),
            ("signature", "10,10 50,80 90,20 130,90 170,30"),
            ("agree", "yes"),
        ],
    )
    .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", text(&signed));
    let page = text(&as_client(&app, Method::GET, "/portal/photos/front", &ines_cookie, &[]).await);
    assert!(page.contains("class=\"framing\""), "{page}");
    assert!(page.contains("id=\"no-ghost\""), "{page}");

    // Not an image, too small, too large: a page naming the problem, nothing saved.
    let answer = send(
        ines_cookie.clone(),
        "front",
        ("notes.txt", "text/plain", b"not a photo".to_vec()),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&answer).contains("This file is not a photo: send a JPEG or PNG picture"),
        "{}",
        text(&answer)
    );
    assert!(text(&answer).contains("Nothing was saved."));
    let answer = send(
        ines_cookie.clone(),
        "front",
        ("small.png", "image/png", png(120, 90)),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&answer).contains("This photo is 120 × 90 pixels, too small to compare"),
        "{}",
        text(&answer)
    );
    assert!(
        !text(&answer).contains("min_side_px"),
        "no setting's name for a client"
    );
    assert!(text(&answer).contains("Nothing was saved."));
    let limit = follicle_store::PhotoLimits::default().max_bytes;
    let mut huge = PHOTO.to_vec();
    huge.resize(limit + 1, 0);
    let answer = send(ines_cookie.clone(), "front", ("huge.jpg", "image/jpeg", huge)).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        text(&answer).contains("The photo is too large"),
        "{}",
        text(&answer)
    );
    assert!(
        store.photos(&owner, ines).await.unwrap().is_empty(),
        "nothing saved"
    );

    // A real photo: kept, shown to her, and the next time it is the ghost.
    let kept = send(
        ines_cookie.clone(),
        "front",
        ("me.jpg", "image/jpeg", PHOTO.to_vec()),
    )
    .await;
    assert_eq!(kept.status, StatusCode::OK, "{}", text(&kept));
    assert!(text(&kept).contains("your photo is with the clinic"));
    let at_clinic = store.photos(&owner, ines).await.unwrap();
    assert_eq!(at_clinic.len(), 1);
    assert!(at_clinic[0].taken_by_client());
    let id = at_clinic[0].id;
    let page = text(&as_client(&app, Method::GET, "/portal/photos/front", &ines_cookie, &[]).await);
    assert!(
        page.contains(&format!("src=\"/portal/photos/{id}/image\"")),
        "{page}"
    );
    assert!(page.contains("id=\"ghost\""), "{page}");
    let image = as_client(
        &app,
        Method::GET,
        &format!("/portal/photos/{id}/image"),
        &ines_cookie,
        &[],
    )
    .await;
    assert_eq!(image.status, StatusCode::OK);
    assert_eq!(image.headers["content-type"], "image/jpeg");
    // Another client cannot fetch it; without a cookie, to the sign-in page.
    let foreign = as_client(
        &app,
        Method::GET,
        &format!("/portal/photos/{id}/image"),
        &kai_cookie,
        &[],
    )
    .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert!(!foreign.body.starts_with(&[0xFF, 0xD8]));
    let nobody = app.get(&format!("/portal/photos/{id}/image"), &Auth::None).await;
    assert_eq!(nobody.status, StatusCode::SEE_OTHER);

    // The studio shows it like any other, marked as taken by the client.
    let staff = cookie(&demo.practitioner);
    let record = text(&app.get(&format!("/clients/{ines}"), &staff).await);
    assert!(record.contains("taken by the client"), "{record}");
    let api = app.get(&format!("/api/v1/photos/{id}"), &demo.practitioner).await;
    assert_eq!(api.status, StatusCode::OK);
}

/// `pdfimages -list`: one line a picture in a PDF (poppler-utils).
fn pictures(pdf: &[u8]) -> Vec<String> {
    let path = std::env::temp_dir().join(format!("follicle-logo-{}.pdf", Uuid::new_v4()));
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdfimages")
        .arg("-list")
        .arg(&path)
        .output()
        .expect("pdfimages (poppler-utils)");
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .skip(2)
        .map(str::to_owned)
        .collect()
}

async fn the_clinic_logo_is_on_every_document(test: &TestStore, backend: Backend) {
    let app = App::new(&test.store, backend);
    let demo = Demo::seed(&app).await;
    let store = &test.store;
    let owner_actor = store.actor(demo.owner_id).await.unwrap();
    let desk = store.actor(demo.front_desk_id).await.unwrap();
    let (_, cookie_pat) = portal_client(store, &desk, "Pat Quinn", "pat.quinn@example.org").await;
    let owner = cookie(&demo.owner);
    let upload = |auth: Auth, file: (&'static str, &'static str, Vec<u8>)| {
        let app = &app;
        async move {
            let token = csrf(&auth);
            let body = multipart(&[("_csrf", &token)], Some(("logo", file.0, file.1, &file.2)));
            app.send(Method::POST, "/settings/logo", &auth, body, &[]).await
        }
    };

    // Not an image, too large: the settings page again, the error beside the field; nothing kept.
    let answer = upload(owner.clone(), ("logo.txt", "text/plain", b"our logo".to_vec())).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&answer).contains("id=\"logo-error\">logo: the file is not a PNG or JPEG image"),
        "{}",
        text(&answer)
    );
    let mut big = png(300, 100);
    big.resize(follicle_store::LOGO_MAX_BYTES + 1, 0);
    let answer = upload(owner.clone(), ("big.png", "image/png", big)).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&answer).contains("a logo may be at most 524288 bytes"),
        "{}",
        text(&answer)
    );
    let mut broken = png(300, 100);
    broken.truncate(60);
    let answer = upload(owner.clone(), ("broken.png", "image/png", broken)).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&answer).contains("logo: the image could not be"),
        "{}",
        text(&answer)
    );
    assert!(store.clinic_logo(&owner_actor).await.unwrap().is_none());
    // Only the owner sets it.
    let answer = upload(
        cookie(&demo.practitioner),
        ("logo.png", "image/png", png(300, 100)),
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);

    // A PNG: kept, shown on the settings page, on the client's pages and on every PDF page.
    let answer = upload(owner.clone(), ("logo.png", "image/png", png(300, 100))).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", text(&answer));
    let kept = store.clinic_logo(&owner_actor).await.unwrap().unwrap();
    assert_eq!(
        (kept.width, kept.height, kept.content_type.as_str()),
        (300, 100, "image/png")
    );
    let settings = text(&app.get("/settings", &owner).await);
    assert!(settings.contains("id=\"current-logo\""), "{settings}");
    let home = text(&as_client(&app, Method::GET, "/portal", &cookie_pat, &[]).await);
    assert!(home.contains("src=\"/portal/logo\""), "{home}");
    let logo = as_client(&app, Method::GET, "/portal/logo", &cookie_pat, &[]).await;
    assert_eq!(logo.status, StatusCode::OK);
    assert_eq!(logo.headers["content-type"], "image/png");
    let passport = as_client(&app, Method::GET, "/portal/passport.pdf", &cookie_pat, &[]).await;
    assert_eq!(passport.status, StatusCode::OK);
    let listed = pictures(&passport.body);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(
        listed[0].contains(" 300 ") && listed[0].contains(" 100 "),
        "{listed:?}"
    );
    // The printed plan (HTML) carries it on its letterhead, inline.
    let martin = crate::support::id_of(&demo.client_named("Martin Kowalski").await);
    let consultations = app
        .get(&format!("/api/v1/clients/{martin}/consultations"), &demo.owner)
        .await
        .expect(StatusCode::OK);
    let consultation = crate::support::id_of(&consultations[0]);
    let print = text(
        &app.get(&format!("/consultations/{consultation}/print"), &owner)
            .await,
    );
    assert!(
        print.contains("<img class=\"logo\" src=\"data:image/png;base64,"),
        "{print}"
    );
    let plan = app
        .get(&format!("/consultations/{consultation}/plan.pdf"), &owner)
        .await;
    assert_eq!(plan.status, StatusCode::OK);
    assert_eq!(pictures(&plan.body).len(), 1, "the studio's PDF of the plan too");
    // A consent signed now carries it too.
    let signed = as_client(
        &app,
        Method::POST,
        "/portal/consents/photos",
        &cookie_pat,
        &[
            ("_csrf", &portal_csrf(&cookie_pat)),
            ("name", "Pat Quinn"),
            ("method", "typed"),
            ("agree", "yes"),
        ],
    )
    .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", text(&signed));
    let me = store.portal_client(&cookie_pat).await.unwrap().unwrap();
    let consent = store.own_consents(&me).await.unwrap().remove(0);
    let pdf = as_client(
        &app,
        Method::GET,
        &format!("/portal/signed/{}/pdf", consent.id),
        &cookie_pat,
        &[],
    )
    .await;
    assert!(!pictures(&pdf.body).is_empty());

    // Removed: the documents show the name alone again.
    let removed = post_form(&app, "/settings/logo/remove", &owner, &[("_csrf", &csrf(&owner))]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    assert!(store.clinic_logo(&owner_actor).await.unwrap().is_none());
    let passport = as_client(&app, Method::GET, "/portal/passport.pdf", &cookie_pat, &[]).await;
    assert!(pictures(&passport.body).is_empty());
    let home = text(&as_client(&app, Method::GET, "/portal", &cookie_pat, &[]).await);
    assert!(!home.contains("/portal/logo"), "{home}");
    let gone = as_client(&app, Method::GET, "/portal/logo", &cookie_pat, &[]).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}
