//! Data rights through the API and the studio: the client archive, erasure with its
//! confirmation and legal-hold answer, the clinic export, the CSV import with a dry run, the
//! retention reports; and photos that answer 200 after a backup is restored.

use std::io::Read;

use axum::http::{Method, StatusCode, header};
use follicle_store::{Blobs, Store};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{App, Auth, Backend, Demo, Payload, id_of};
use follicle_store::testing::temp_dir;

fn api(path: &str) -> String {
    format!("/api/v1{path}")
}

fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let name = file.name().unwrap().into_owned();
            let mut out = Vec::new();
            file.read_to_end(&mut out).unwrap();
            (name, out)
        })
        .collect()
}

/// The demo's client with a photo, and the photo's id.
async fn client_with_photo(demo: &Demo) -> (Value, Uuid) {
    for client in demo.clients().await {
        let photos = demo
            .app
            .get(&api(&format!("/clients/{}/photos", id_of(&client))), &demo.owner)
            .await
            .expect(StatusCode::OK);
        if let Some(photo) = photos.as_array().unwrap().first() {
            return (client.clone(), id_of(photo));
        }
    }
    panic!("the demo clinic has a photo");
}

pub async fn archive_erasure_export_import_reports(app: &App) {
    let demo = Demo::seed(app).await;
    let (client, photo) = client_with_photo(&demo).await;
    let cid = id_of(&client);

    // The complete record, as a zip, for the owner and practitioners.
    app.get(&api(&format!("/clients/{cid}/archive")), &demo.front_desk)
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    let answer = app
        .get(&api(&format!("/clients/{cid}/archive")), &demo.practitioner)
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.content_type(), "application/zip");
    assert_eq!(answer.headers[header::CACHE_CONTROL], "private, no-store");
    assert!(
        answer.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let files = unzip(&answer.body);
    let image = app.get(&api(&format!("/photos/{photo}")), &demo.owner).await;
    assert_eq!(image.status, StatusCode::OK);
    assert_eq!(files[&format!("photos/{photo}.jpg")], image.body);
    let record: Value = serde_json::from_slice(&files["record.json"]).unwrap();
    assert_eq!(record["client"]["id"], json!(cid));
    assert!(!record["audit_trail"].as_array().unwrap().is_empty());

    // Erasure: the owner's, confirmed by the name; the answer says what the law keeps.
    let name = client["name"].as_str().unwrap().to_owned();
    app.post(
        &api(&format!("/clients/{cid}/erasure")),
        &demo.practitioner,
        json!({"confirm_name": name}),
    )
    .await
    .expect_error(StatusCode::FORBIDDEN, "forbidden");
    let error = app
        .post(
            &api(&format!("/clients/{cid}/erasure")),
            &demo.owner,
            json!({"confirm_name": "someone else"}),
        )
        .await
        .expect_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(error["field"], "confirm_name", "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("someone else"),
        "{error}"
    );
    // DELETE still refuses a client with records, and points to erasure.
    let conflict = app
        .delete(&api(&format!("/clients/{cid}")), &demo.owner)
        .await
        .expect_error(StatusCode::CONFLICT, "conflict");
    assert!(
        conflict["message"].as_str().unwrap().contains("erasure"),
        "{conflict}"
    );
    let erased = app
        .post(
            &api(&format!("/clients/{cid}/erasure")),
            &demo.owner,
            json!({"confirm_name": name}),
        )
        .await
        .expect(StatusCode::OK);
    assert!(
        erased["explanation"].as_str().unwrap().contains("GDPR"),
        "{erased}"
    );
    assert_eq!(erased["removed"]["photos"], json!(1), "{erased}");
    app.get(&api(&format!("/photos/{photo}")), &demo.owner)
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    let trail = app
        .get(&api(&format!("/clients/{cid}/audit")), &demo.owner)
        .await
        .expect(StatusCode::OK);
    assert!(
        trail.as_array().unwrap().iter().any(|e| e["action"] == "deleted"),
        "{trail}"
    );

    // The clinic export: the owner's, one zip.
    app.get(&api("/clinic/export"), &demo.practitioner)
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    let export = app.get(&api("/clinic/export"), &demo.owner).await;
    assert_eq!(export.status, StatusCode::OK);
    let files = unzip(&export.body);
    let record: Value = serde_json::from_slice(&files["record.json"]).unwrap();
    let clients = demo.clients().await;
    assert_eq!(record["clients"].as_array().unwrap().len(), clients.len());
    assert!(files.contains_key("csv/clients.csv") && files.contains_key("csv/audit_trail.csv"));

    // The import: a dry run names every mistake; a good file is saved.
    let bad = json!({"clients_csv": "name,email\n,x@\n", "appointments_csv": "", "dry_run": true});
    let report = app
        .post(&api("/clinic/import"), &demo.owner, bad)
        .await
        .expect(StatusCode::OK);
    assert_eq!(report["saved"], json!(false));
    let errors: Vec<(u64, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["column"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![(2, "name".to_owned()), (2, "email".to_owned())],
        "{report}"
    );
    app.post(
        &api("/clinic/import"),
        &demo.practitioner,
        json!({"dry_run": true}),
    )
    .await
    .expect_error(StatusCode::FORBIDDEN, "forbidden");
    let good = json!({"clients_csv": "ref,name\nq,Quinn Imported\n",
                      "appointments_csv": "client_ref,starts_at,duration_minutes\nq,2027-05-01T09:00:00Z,45\n",
                      "dry_run": false});
    let report = app
        .post(&api("/clinic/import"), &demo.owner, good)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (report["saved"].clone(), report["clients"].clone()),
        (json!(true), json!(1)),
        "{report}"
    );
    demo.client_named("Quinn Imported").await;

    // The retention job's reports.
    let none = app
        .get(&api("/clinic/retention-reports"), &demo.owner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(none, json!([]));
    app.store
        .run_retention(crate::support::today(), true)
        .await
        .unwrap();
    let reports = app
        .get(&api("/clinic/retention-reports"), &demo.owner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(reports.as_array().unwrap().len(), 1);
    assert_eq!(reports[0]["dry_run"], json!(true));
    app.get(&api("/clinic/retention-reports"), &demo.practitioner)
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
}

async fn post_form(app: &App, path: &str, auth: &Auth, fields: &[(&str, &str)]) -> crate::support::Answer {
    let body = serde_urlencoded::to_string(fields).unwrap();
    app.send(
        Method::POST,
        path,
        auth,
        Payload::Raw(
            Some("application/x-www-form-urlencoded".into()),
            body.into_bytes(),
        ),
        &[],
    )
    .await
}

pub async fn studio_data_rights_pages(app: &App) {
    let demo = Demo::seed(app).await;
    let token = demo.owner_login["token"].as_str().unwrap().to_owned();
    let csrf = demo.owner_login["csrf_token"].as_str().unwrap().to_owned();
    let browser = Auth::Cookie { token, csrf: None };
    let (client, _) = client_with_photo(&demo).await;
    let cid = id_of(&client);
    let name = client["name"].as_str().unwrap().to_owned();

    let page = app.get(&format!("/clients/{cid}"), &browser).await;
    let html = String::from_utf8(page.body).unwrap();
    assert!(
        html.contains("id=\"client-archive\"") && html.contains("id=\"client-erase\""),
        "owner's buttons"
    );

    let page = app.get(&format!("/clients/{cid}/erase"), &browser).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8(page.body).unwrap();
    assert!(
        html.contains("id=\"legal-hold\"") && html.contains("8 years"),
        "the hold is explained before"
    );
    let wrong = post_form(
        app,
        &format!("/clients/{cid}/erase"),
        &browser,
        &[("_csrf", &csrf), ("confirm_name", "nobody")],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        String::from_utf8(wrong.body)
            .unwrap()
            .contains("confirm_name-error")
    );
    let done = post_form(
        app,
        &format!("/clients/{cid}/erase"),
        &browser,
        &[("_csrf", &csrf), ("confirm_name", &name)],
    )
    .await;
    assert_eq!(done.status, StatusCode::OK);
    let html = String::from_utf8(done.body).unwrap();
    assert!(html.contains("id=\"erasure-explanation\""), "{html}");

    let page = app.get("/data", &browser).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        String::from_utf8(page.body)
            .unwrap()
            .contains("id=\"clinic-export\"")
    );
    let checked = post_form(
        app,
        "/data/import",
        &browser,
        &[
            ("_csrf", &csrf),
            ("clients_csv", "name,date_of_birth\nAna,1980-13-01\n"),
            ("appointments_csv", ""),
            ("action", "check"),
        ],
    )
    .await;
    assert_eq!(checked.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = String::from_utf8(checked.body).unwrap();
    assert!(
        html.contains("id=\"import-errors\"") && html.contains("YYYY-MM-DD"),
        "{html}"
    );

    // The front desk sees neither the buttons nor the pages.
    let Auth::Bearer(desk_token) = demo.front_desk.clone() else {
        panic!("a bearer session")
    };
    let desk = Auth::Cookie {
        token: desk_token,
        csrf: None,
    };
    let html = String::from_utf8(app.get(&format!("/clients/{cid}"), &desk).await.body).unwrap();
    assert!(!html.contains("id=\"client-erase\"") && !html.contains("id=\"client-archive\""));
    assert_eq!(app.get("/data", &desk).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&format!("/clients/{cid}/erase"), &desk).await.status,
        StatusCode::FORBIDDEN
    );
}

/// A backup of a running clinic restored into a fresh folder: every photo answers 200 with the
/// same bytes through the server, and the clinic's answers are the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn photos_answer_after_a_restore() {
    let root = temp_dir();
    let open = |dir: std::path::PathBuf| async move {
        Store::open(
            &format!("sqlite://{}", dir.join("follicle.db").display()),
            Blobs::local(dir.join("photos")).unwrap(),
        )
        .await
        .unwrap()
    };
    let store = open(root.join("data")).await;
    let app = App::new(&store, Backend::Sqlite);
    let demo = Demo::seed(&app).await;
    let (client, photo) = client_with_photo(&demo).await;
    let before = app.get(&api(&format!("/photos/{photo}")), &demo.owner).await;
    assert_eq!(before.status, StatusCode::OK);
    let export_before = app
        .get(&api(&format!("/clients/{}/export", id_of(&client))), &demo.owner)
        .await
        .expect(StatusCode::OK);

    store.backup_all(root.join("backup")).await.unwrap();
    let fresh = root.join("fresh");
    Store::restore(
        root.join("backup"),
        fresh.join("follicle.db"),
        &Blobs::local(fresh.join("photos")).unwrap(),
    )
    .await
    .unwrap();
    let restored = open(fresh).await;
    let app = App::new(&restored, Backend::Sqlite);
    let owner = app
        .login(follicle_web::demo::DEMO_OWNER, follicle_web::demo::DEMO_PASSWORD)
        .await
        .expect(StatusCode::OK);
    let owner = Auth::Bearer(owner["token"].as_str().unwrap().to_owned());
    let after = app.get(&api(&format!("/photos/{photo}")), &owner).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(after.body, before.body);
    let export_after = app
        .get(&api(&format!("/clients/{}/export", id_of(&client))), &owner)
        .await
        .expect(StatusCode::OK);
    assert_eq!(export_after, export_before);
    restored.close().await;
    store.close().await;
    let _ = std::fs::remove_dir_all(root);
}
