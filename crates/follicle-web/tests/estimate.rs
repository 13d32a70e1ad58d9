//! The public estimator and the booking-request inbox (issue 15): a person answers, sees the
//! planner's sessions and the clinic's price range with healed previews (on their own photo
//! too), and sends a request; the clinic makes them a client with one click and they get the
//! link to their pages at the SMTP server. Bots and floods are refused with a page, nothing
//! saved, the clinic's owners told once.

use axum::http::{Method, StatusCode};
use base64::Engine;
use serde_json::json;

use crate::mail_catcher::{MailCatcher, cookie, csrf, drain, form, mails_to, text};
use crate::support::{Answer, App, Auth, Backend, Demo, Payload, TestStore};

both_stores!(
    a_person_sees_their_estimate_and_becomes_a_client_with_one_click,
    bots_floods_and_bad_answers_get_a_page_and_change_nothing,
);

/// A real studio portrait, bald on top (assets/photos/ORIGIN.md).
const PHOTO: &[u8] = include_bytes!("../../../assets/photos/E_W_Dahlgren.jpg");

fn multipart(fields: &[(&str, &str)], photo: Option<(&str, &[u8])>) -> Payload {
    let boundary = "follicleEstimateBoundary3";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    if let Some((content_type, bytes)) = photo {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"me.jpg\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Payload::Raw(Some(format!("multipart/form-data; boundary={boundary}")), body)
}

/// The value of a form's hidden field on a page.
fn hidden(page: &str, name: &str) -> String {
    let key = format!("name=\"{name}\" value=\"");
    let at = page
        .find(&key)
        .unwrap_or_else(|| panic!("no field {name} in {page}"))
        + key.len();
    page[at..].split('"').next().unwrap().to_owned()
}

/// The estimate form's answers for a Norwood V man.
const NORWOOD_5: [(&str, &str); 6] = [
    ("pattern", "norwood-5"),
    ("sex", "male"),
    ("age", "46"),
    ("skin", "II"),
    ("hair", "dark_brown"),
    ("aim", "full_coverage"),
];

async fn set_settings(test: &TestStore, demo: &Demo, toml: &str) {
    let owner = test.store.actor(demo.owner_id).await.unwrap();
    test.store.update_clinic_settings(&owner, toml, 8).await.unwrap();
}

/// Shows the estimate form and sends it back with `fields` (and the form's own stamp).
async fn estimate(app: &App, clinic: &str, fields: &[(&str, &str)], photo: Option<(&str, &[u8])>) -> Answer {
    let shown = app.get(&format!("/estimate/{clinic}"), &Auth::None).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", text(&shown));
    let stamp = hidden(&text(&shown), "stamp");
    let mut all: Vec<(&str, &str)> = vec![("stamp", &stamp)];
    all.extend_from_slice(fields);
    app.send(
        Method::POST,
        &format!("/estimate/{clinic}"),
        &Auth::None,
        multipart(&all, photo),
        &[],
    )
    .await
}

/// Sends the request form of a result page with the contact fields given.
async fn request(app: &App, clinic: &str, result: &str, contact: &[(&str, &str)]) -> Answer {
    let mut fields: Vec<(String, String)> =
        ["stamp", "pattern", "sex", "age", "skin", "hair", "aim", "photo"]
            .iter()
            .map(|k| ((*k).to_owned(), hidden(result, k)))
            .collect();
    fields.extend(contact.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.send(
        Method::POST,
        &format!("/estimate/{clinic}/request"),
        &Auth::None,
        form(&pairs),
        &[],
    )
    .await
}

/// The total (and currency) of the plan the JSON API gives a client file.
async fn quoted_total(app: &App, demo: &Demo, stage: &str) -> (i64, String) {
    let file = format!(
        "[client]\nname = \"Check\"\nage = 46\nsex = \"male\"\n[skin]\nfitzpatrick = \"II\"\n[hair]\ncolour = \"dark_brown\"\n\
         [hair_loss]\nscale = \"norwood\"\nstage = \"{stage}\"\n[goal]\naims = [\"full_coverage\"]\n"
    );
    let plan = app
        .post("/api/v1/plan", &demo.owner, json!({ "client_toml": file }))
        .await
        .expect(StatusCode::OK);
    (
        plan["quote"]["total"].as_i64().expect("a quoted total"),
        plan["quote"]["currency"].as_str().unwrap().to_owned(),
    )
}

/// A data: URI image on a page, decoded.
fn image_at(page: &str, id: &str) -> image::RgbImage {
    let key = format!("id=\"{id}\" src=\"data:image/png;base64,");
    let at = page.find(&key).unwrap_or_else(|| panic!("no image {id}")) + key.len();
    let encoded = page[at..].split('"').next().unwrap();
    let png = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap();
    image::load_from_memory(&png).unwrap().to_rgb8()
}

fn differing_pixels(a: &image::RgbImage, b: &image::RgbImage) -> usize {
    a.pixels()
        .zip(b.pixels())
        .filter(|(p, q)| (0..3).map(|k| u32::from(p.0[k].abs_diff(q.0[k]))).sum::<u32>() > 30)
        .count()
}

async fn a_person_sees_their_estimate_and_becomes_a_client_with_one_click(
    test: &TestStore,
    backend: Backend,
) {
    let smtp = MailCatcher::start();
    let mut config = smtp.config();
    config.server.settings_cache_seconds = 0;
    let app = App::with_config(&test.store, backend, config.clone());
    let demo = Demo::seed(&app).await;
    let clinic = test
        .store
        .actor(demo.owner_id)
        .await
        .unwrap()
        .clinic_id()
        .to_string();
    set_settings(
        test,
        &demo,
        "[estimator]\nmin_fill_seconds = 0\n[clinic]\nwebsite = \"https://www.northside-smp.example/about\"\n",
    )
    .await;

    // The form: a page (not JSON), framed by the clinic's own site only.
    let shown = app.get(&format!("/estimate/{clinic}"), &Auth::None).await;
    assert_eq!(shown.status, StatusCode::OK);
    let csp = shown.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'self' https://www.northside-smp.example;"),
        "{csp}"
    );
    assert!(!shown.headers.contains_key("x-frame-options"));
    assert!(text(&shown).contains("Which drawing is closest to your hair loss?"));
    // The studio stays unframeable.
    let login = app.get("/login", &Auth::None).await;
    assert_eq!(login.headers["x-frame-options"], "DENY");

    // The drawings: the head from above, each kind of loss its own picture.
    let drawing = |id: &str| {
        let app = app.clone();
        let path = format!("/estimate/{clinic}/drawings/{id}.png");
        async move {
            let answer = app.get(&path, &Auth::None).await;
            assert_eq!(answer.status, StatusCode::OK, "{path}");
            image::load_from_memory(&answer.body).unwrap().to_rgb8()
        }
    };
    let (two, seven) = (drawing("norwood-2").await, drawing("norwood-7").await);
    assert_eq!(two.dimensions(), (200, 200));
    assert!(
        differing_pixels(&two, &seven) > 2000,
        "Norwood II and VII look different from above"
    );
    let unknown = app
        .get(&format!("/estimate/{clinic}/drawings/norwood-9.png"), &Auth::None)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // The estimate, with the person's own photo.
    let answer = estimate(&app, &clinic, &NORWOOD_5, Some(("image/jpeg", PHOTO))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", text(&answer));
    let page = text(&answer);
    assert!(page.contains("Your estimate") && page.contains("Front and crown nearly meet"));
    // The price range is the clinic's own quotes for the stage picked and its neighbours.
    let totals = [
        quoted_total(&app, &demo, "IV").await,
        quoted_total(&app, &demo, "V").await,
        quoted_total(&app, &demo, "VI").await,
    ];
    let currency = totals[0].1.clone();
    let (low, high) = (
        totals.iter().map(|t| t.0).min().unwrap(),
        totals.iter().map(|t| t.0).max().unwrap(),
    );
    assert!(low < high, "{totals:?}");
    let money = |n: i64| follicle_web::wire::money(&currency, n);
    assert!(
        page.contains(&format!("{} to {}", money(low), money(high))),
        "{} to {} in {page}",
        money(low),
        money(high)
    );
    assert!(
        page.contains("sessions") && page.contains("hours in all"),
        "{page}"
    );
    assert!(
        !page.contains("FullCoverage") && !page.contains("full_coverage<"),
        "{page}"
    );
    // Healed previews: from above, the treated crown is darker than the bare scalp of "now".
    let (before, after) = (image_at(&page, "before-top"), image_at(&page, "after-top"));
    let luma = |img: &image::RgbImage| {
        img.pixels()
            .map(|p| u64::from(p.0[0]) + u64::from(p.0[1]) + u64::from(p.0[2]))
            .sum::<u64>()
    };
    assert!(luma(&after) < luma(&before), "the dots darken the scalp");
    // On the photo: the landmarks were found and the design drawn on it.
    let on_photo = image_at(&page, "photo-after");
    assert!(on_photo.width() >= 300, "{:?}", on_photo.dimensions());
    assert!(!page.contains("id=\"photo-problem\""), "{page}");

    // A request without the privacy consent, or with a bad email: the page again, nothing saved.
    let owner = test.store.actor(demo.owner_id).await.unwrap();
    let contact = [
        ("name", "Dara Quinn"),
        ("email", "dara.quinn@example.org"),
        ("phone", ""),
        ("contact_by", "email"),
        ("message", "Evenings suit me."),
        ("send_photo", "yes"),
    ];
    let no_consent = request(&app, &clinic, &page, &contact).await;
    assert_eq!(no_consent.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&no_consent).contains("Tick the box"),
        "{}",
        text(&no_consent)
    );
    let mut bad_email = contact.to_vec();
    bad_email[1] = ("email", "dara at example");
    bad_email.push(("agree", "yes"));
    let refused = request(&app, &clinic, &page, &bad_email).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(&refused).contains("Your email address:"),
        "{}",
        text(&refused)
    );
    assert!(
        test.store
            .booking_requests(&owner, true)
            .await
            .unwrap()
            .is_empty()
    );

    let mut good = contact.to_vec();
    good.push(("agree", "yes"));
    let sent = request(&app, &clinic, &page, &good).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", text(&sent));
    assert!(text(&sent).contains("Your request has reached"));
    // Nothing in the records yet: no client until the clinic accepts.
    let clients_before = demo.clients().await.len();
    assert!(!demo.clients().await.iter().any(|c| c["name"] == "Dara Quinn"));

    // The inbox at the front desk: the answers and the estimate in words, the photo.
    let desk = cookie(&demo.front_desk);
    let inbox = app.get("/requests", &desk).await;
    assert_eq!(inbox.status, StatusCode::OK);
    let inbox_page = text(&inbox);
    assert!(inbox_page.contains("Dara Quinn") && inbox_page.contains("Evenings suit me."));
    assert!(
        inbox_page.contains(&format!("{} to {}", money(low), money(high))),
        "{inbox_page}"
    );
    assert!(inbox_page.contains("Front and crown nearly meet"));
    let requests = test.store.booking_requests(&owner, false).await.unwrap();
    assert_eq!(requests.len(), 1);
    let id = requests[0].id;
    assert!(requests[0].has_photo);
    let photo = app.get(&format!("/requests/{id}/photo"), &desk).await;
    assert_eq!(photo.status, StatusCode::OK);
    let kept = image::load_from_memory(&photo.body).unwrap();
    assert!(kept.width().max(kept.height()) <= 1024, "kept reduced");

    // One click (the owner, who may keep clinical photos): a client, their photo, their link.
    let staff = cookie(&demo.owner);
    let made = app
        .send(
            Method::POST,
            &format!("/requests/{id}/accept"),
            &staff,
            form(&[("_csrf", &csrf(&staff))]),
            &[],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", text(&made));
    let location = made.headers["location"].to_str().unwrap().to_owned();
    let client_id: uuid::Uuid = location.trim_start_matches("/clients/").parse().unwrap();
    let client = test.store.client(&owner, client_id).await.unwrap();
    assert_eq!(
        (client.name.as_str(), client.email.as_str()),
        ("Dara Quinn", "dara.quinn@example.org")
    );
    assert!(client.notes.contains("Evenings suit me."));
    assert_eq!(demo.clients().await.len(), clients_before + 1);
    let photos = test.store.photos(&owner, client_id).await.unwrap();
    assert_eq!(photos.len(), 1, "the photo sent is the client's front photo");
    assert!(!test.store.booking_requests(&owner, true).await.unwrap()[0].has_photo);
    drain(&test.store, &config).await;
    let mails = mails_to(&smtp, "dara.quinn@example.org");
    assert!(
        mails.iter().any(|m| m.contains("/portal/enter?t=")),
        "the sign-in link reached the new client: {mails:?}"
    );
    // A second click makes no second client.
    let again = app
        .send(
            Method::POST,
            &format!("/requests/{id}/accept"),
            &staff,
            form(&[("_csrf", &csrf(&staff))]),
            &[],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(text(&again).contains("made a client already"), "{}", text(&again));
    assert_eq!(demo.clients().await.len(), clients_before + 1);

    // The consultation starts from the estimator's answers (a Norwood V man of 46, type II,
    // dark brown hair, the shaved look), the name as the clinic has it.
    let consult = text(&app.get(&format!("/clients/{client_id}/consult"), &staff).await);
    assert!(consult.contains("filled from the estimator answers"), "{consult}");
    for line in [
        "name = &#34;Dara Quinn&#34;",
        "age = 46",
        "fitzpatrick = &#34;II&#34;",
        "colour = &#34;dark_brown&#34;",
        "scale = &#34;norwood&#34;",
        "stage = &#34;V&#34;",
        "aims = [&#34;full_coverage&#34;]",
    ] {
        assert!(
            consult.contains(line),
            "{line} not in the client file:\n{consult}"
        );
    }
}

async fn bots_floods_and_bad_answers_get_a_page_and_change_nothing(test: &TestStore, backend: Backend) {
    let smtp = MailCatcher::start();
    let mut config = smtp.config();
    config.server.settings_cache_seconds = 0;
    let app = App::with_config(&test.store, backend, config.clone());
    let demo = Demo::seed(&app).await;
    let owner = test.store.actor(demo.owner_id).await.unwrap();
    let clinic = owner.clinic_id().to_string();

    // An address that is no clinic's, or a closed estimator: a page, not JSON.
    for path in [
        "/estimate/not-a-clinic",
        &format!("/estimate/{}", uuid::Uuid::new_v4()),
    ] {
        let missing = app.get(path, &Auth::None).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(text(&missing).contains("There is no estimator at this address"));
        assert!(
            text(&missing).starts_with("<!doctype html>"),
            "{}",
            text(&missing)
        );
    }

    // Too fast for a person (the default wait), a filled honeypot, a forged stamp.
    let fast = estimate(&app, &clinic, &NORWOOD_5, None).await;
    assert_eq!(fast.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&fast).contains("faster than a person"), "{}", text(&fast));
    set_settings(test, &demo, "[estimator]\nmin_fill_seconds = 0\n").await;
    let mut trap = NORWOOD_5.to_vec();
    trap.push(("website", "http://spam.example"));
    let bot = estimate(&app, &clinic, &trap, None).await;
    assert_eq!(bot.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&bot).contains("by a program"));
    let mut forged = vec![("stamp", "1700000000.00ff")];
    forged.extend_from_slice(&NORWOOD_5);
    let forged = app
        .send(
            Method::POST,
            &format!("/estimate/{clinic}"),
            &Auth::None,
            multipart(&forged, None),
            &[],
        )
        .await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(&forged).contains("out of date"));

    // Impossible answers: each named, with what is allowed.
    let mut odd = NORWOOD_5.to_vec();
    odd[2] = ("age", "12");
    odd[3] = ("skin", "VII");
    odd[4] = ("hair", "purple");
    let odd = estimate(&app, &clinic, &odd, None).await;
    assert_eq!(odd.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = text(&odd);
    for words in [
        "18 to 100",
        "&#34;12&#34;",
        "I to VI",
        "&#34;VII&#34;",
        "&#34;purple&#34;",
    ] {
        assert!(page.contains(words), "{words} in {page}");
    }

    // A file that is not a photo: the estimate still, and a plain word about the photo.
    let not_photo = estimate(
        &app,
        &clinic,
        &NORWOOD_5,
        Some(("image/jpeg", b"GIF89a not a jpeg")),
    )
    .await;
    assert_eq!(not_photo.status, StatusCode::OK, "{}", text(&not_photo));
    assert!(text(&not_photo).contains("id=\"photo-problem\""));
    assert!(
        text(&not_photo).contains("could not be used"),
        "{}",
        text(&not_photo)
    );
    let result = text(&not_photo);

    // A flood from one address: refused after the hour's requests, nothing more saved.
    set_settings(
        test,
        &demo,
        "[estimator]\nmin_fill_seconds = 0\nrequests_per_address_per_hour = 2\nrequests_per_day = 3\n",
    )
    .await;
    let contact = |n: usize| {
        vec![
            ("name", format!("Person {n}")),
            ("email", format!("person{n}@example.org")),
            ("contact_by", "email".to_owned()),
            ("agree", "yes".to_owned()),
        ]
    };
    let send = |n: usize| {
        let (app, clinic, result) = (app.clone(), clinic.clone(), result.clone());
        async move {
            let c = contact(n);
            let pairs: Vec<(&str, &str)> = c.iter().map(|(k, v)| (*k, v.as_str())).collect();
            request(&app, &clinic, &result, &pairs).await
        }
    };
    assert_eq!(send(1).await.status, StatusCode::OK);
    assert_eq!(send(2).await.status, StatusCode::OK);
    let third = send(3).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(text(&third).contains("try again in an hour"));
    assert_eq!(test.store.booking_requests(&owner, true).await.unwrap().len(), 2);

    // A flood across addresses: the clinic's day fills, more are refused, the owner told once.
    set_settings(
        test,
        &demo,
        "[estimator]\nmin_fill_seconds = 0\nrequests_per_address_per_hour = 100\nrequests_per_day = 3\n",
    )
    .await;
    assert_eq!(send(4).await.status, StatusCode::OK);
    for n in 5..8 {
        let refused = send(n).await;
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(text(&refused).contains("try again tomorrow"));
    }
    assert_eq!(test.store.booking_requests(&owner, true).await.unwrap().len(), 3);
    assert_eq!(test.store.refused_requests_today(&owner).await.unwrap(), 3);
    let owner_email = follicle_web::demo::DEMO_OWNER;
    // The alert goes on its own task: wait for it (at most ten seconds), then a little more.
    for _ in 0..100 {
        if mails_to(&smtp, owner_email)
            .iter()
            .any(|m| m.contains("booking requests refused today"))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let alerts: Vec<String> = mails_to(&smtp, owner_email)
        .into_iter()
        .filter(|m| m.contains("booking requests refused today"))
        .collect();
    assert_eq!(alerts.len(), 1, "the owner is told once: {alerts:?}");
    // The inbox says so.
    let inbox = text(&app.get("/requests", &cookie(&demo.owner)).await);
    assert!(inbox.contains("3 booking requests were refused today"), "{inbox}");
}
