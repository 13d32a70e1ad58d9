//! Data rights and backups (issue 11): erasure under the legal hold, the retention job, the
//! client and clinic archives, the CSV import, and backups that restore identically, photos
//! included, into private files.

use std::io::Read;

use follicle_store::*;
use time::macros::{date, datetime};
use uuid::Uuid;

use crate::contract::{consultation, new_design, new_sam, pigments, session};
use crate::support::{TestStore, clinic, temp_dir};

macro_rules! assert_err {
    ($result:expr, $pattern:pat) => {
        match $result {
            Err($pattern) => {}
            other => panic!("expected {}, got {:?}", stringify!($pattern), other.map(|_| ())),
        }
    };
}

/// A client with a record of every kind: consultation, design, appointment, session log,
/// consent and photo. Gives the client and the photo.
pub(crate) async fn full_record(
    store: &Store,
    c: &crate::support::Clinic,
    performed_on: time::Date,
) -> (Client, Photo) {
    let p = pigments(store, &c.owner).await;
    let client = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let consultation = store
        .add_consultation(&c.practitioner, &consultation(client.id, "V"), None)
        .await
        .unwrap();
    let _ = consultation;
    let design = store
        .add_design(&c.practitioner, &new_design(client.id, None, 7))
        .await
        .unwrap();
    // Signed at the chair, then withdrawn: both in the archive and gone with an erasure.
    let signed = store
        .sign_consent_at_chair(
            &c.practitioner,
            &follicle_store::NewSignedConsent {
                client_id: client.id,
                kind: follicle_core::settings::ConsentKind::Photos,
                template_version: "2026-12-1".into(),
                title: "Consent to photographs".into(),
                text: "I agree that the clinic takes photographs.".into(),
                design_id: Some(design.id),
                design_version: Some(design.version),
                quote_number: String::new(),
                signer_name: "Sam Ólafsson".into(),
                signature: "10,10 20,20 30,25 40,20 50,10".into(),
                signed_at: datetime!(2027-01-05 08:50 UTC),
                signed_in: follicle_store::SignedIn::Chair,
                address: "192.0.2.1".into(),
                user_agent: "Clinic tablet".into(),
            },
            b"%PDF-1.7 copy",
        )
        .await
        .unwrap();
    store
        .record_consent_withdrawal(&c.practitioner, signed.id, "asked by phone")
        .await
        .unwrap();
    // The intake the client sent from their pages.
    let me = crate::portal::signed_in(store, c.owner.clinic_id(), client.id).await;
    store
        .submit_own_intake(
            &me,
            &follicle_store::IntakeAnswers {
                conditions: vec!["psoriasis".into()],
                medications: Vec::new(),
                allergies: "none known".into(),
                notes: String::new(),
            },
            &["psoriasis".to_owned()],
            &[],
        )
        .await
        .unwrap();
    let visit = store
        .book_appointment(
            &c.front_desk,
            &NewAppointment {
                client_id: client.id,
                practitioner_id: None,
                starts_at: datetime!(2027-01-05 09:00 UTC),
                duration_minutes: 180,
                notes: "bring a hat".into(),
            },
        )
        .await
        .unwrap();
    // The client asked to move it from their pages: in the archive, gone with an erasure.
    store
        .ask_to_move_own_visit(
            &me,
            visit.id,
            "afternoons",
            &[date!(2027 - 01 - 04)],
            datetime!(2026-12-01 08:00 UTC),
        )
        .await
        .unwrap();
    // A deposit taken at the desk for the visit, with its receipt: in the archive, and held
    // with an erasure (the clinic's accounts).
    store
        .take_payment(
            &c.front_desk,
            &NewPayment {
                client_id: client.id,
                appointment_id: Some(visit.id),
                kind: PaymentKind::Deposit,
                amount: 30_000,
                currency: "GBP".into(),
                quote: None,
                note: String::new(),
                paid: Some(PaymentMethod::Card),
            },
            &ReceiptIssuer {
                clinic: "Northside SMP".into(),
                lines: vec![],
            },
            |r| Ok(format!("%PDF-receipt {}", r.number).into_bytes()),
        )
        .await
        .unwrap();
    store
        .log_session(
            &c.practitioner,
            &session(client.id, &c.practitioner, p.fresh.id, performed_on),
        )
        .await
        .unwrap();
    store
        .record_consent(
            &c.practitioner,
            &NewConsent {
                client_id: client.id,
                kind: ConsentKind::Procedure,
                template_version: "2026-1".into(),
                text: "I agree to the procedure".into(),
                signed_by: "Sam Ólafsson".into(),
                signed_at: datetime!(2027-01-05 08:55 UTC),
            },
        )
        .await
        .unwrap();
    let photo = store
        .upload_photo(
            &c.practitioner,
            &NewPhoto {
                client_id: client.id,
                angle: PhotoAngle::Front,
                taken_at: datetime!(2027-01-05 10:00 UTC),
                session_id: None,
                consent_id: None,
                consultation_id: None,
                consented: true,
            },
            &testing::jpeg_with_gps(),
        )
        .await
        .unwrap();
    store
        .save_photo_landmarks(
            &c.practitioner,
            &NewPhotoLandmarks {
                photo_id: photo.id,
                points: vec![PlacedLandmark {
                    name: "glabella".into(),
                    x_px: 12.0,
                    y_px: 10.5,
                }],
                outline: vec![[2.0, 3.0], [22.0, 3.0], [12.0, 31.0]],
                source: LandmarkSource::Adjusted,
            },
        )
        .await
        .unwrap();
    (client, photo)
}

pub async fn erasure_keeps_what_the_law_holds(store: &Store) {
    let c = clinic(store, "Erasure").await;
    let (client, photo) = full_record(store, &c, date!(2027 - 01 - 05)).await;

    // Only the owner erases.
    for actor in [&c.practitioner, &c.front_desk] {
        assert_err!(
            store.erase_client(actor, client.id, date!(2028 - 01 - 01)).await,
            StoreError::Forbidden {
                action: Action::DeleteClients,
                ..
            }
        );
    }
    let report = store
        .erase_client(&c.owner, client.id, date!(2028 - 01 - 01))
        .await
        .unwrap();
    assert!(!report.erased_completely);
    // Default hold: consents, session logs and payments, 8 years after the last session.
    assert_eq!(report.kept_until, Some(date!(2035 - 01 - 05)));
    assert_eq!(report.kept.get("consents"), Some(&1));
    assert_eq!(report.kept.get("session_logs"), Some(&1));
    assert_eq!(report.kept.get("payments"), Some(&1));
    assert_eq!(report.removed.get("photos"), Some(&1));
    assert_eq!(report.removed.get("consultations"), Some(&1));
    assert_eq!(report.removed.get("designs"), Some(&1));
    // The visit the kept deposit was taken for stays with it.
    assert_eq!(report.removed.get("appointments"), Some(&0));
    assert_eq!(report.kept.get("appointments"), Some(&1));
    assert!(
        report.explanation.contains("2035-01-05"),
        "{}",
        report.explanation
    );
    assert!(
        report.explanation.contains("GDPR Art. 17(3)"),
        "{}",
        report.explanation
    );

    // What is kept is kept; the rest is gone, the photo's bytes too.
    let kept = store.client(&c.owner, client.id).await.unwrap();
    assert_eq!(
        (kept.name.as_str(), kept.notes.as_str(), kept.date_of_birth),
        ("Sam Ólafsson", "", None)
    );
    assert_eq!(store.consents(&c.owner, client.id).await.unwrap().len(), 1);
    assert_eq!(store.session_logs(&c.owner, client.id).await.unwrap().len(), 1);
    assert_eq!(
        store.client_payments(&c.owner, client.id).await.unwrap().len(),
        1,
        "the clinic's accounts are held"
    );
    assert!(store.consultations(&c.owner, client.id).await.unwrap().is_empty());
    assert!(store.designs(&c.owner, client.id).await.unwrap().is_empty());
    assert!(store.photos(&c.owner, client.id).await.unwrap().is_empty());
    assert!(
        store
            .client_move_requests(&c.owner, client.id)
            .await
            .unwrap()
            .is_empty(),
        "a request to move a visit goes with an erasure, held or not"
    );
    assert_err!(store.photo(&c.owner, photo.id).await, StoreError::NotFound { .. });
    let trail = store.audit_log(&c.owner, client.id).await.unwrap();
    let erased = trail
        .iter()
        .find(|e| e.detail.starts_with("erasure on request"))
        .expect("audited");
    assert_eq!(
        (erased.action, erased.user_id),
        (AuditAction::Deleted, c.owner.user_id())
    );

    // The retention job anonymises the rest when the hold ends, not before.
    store.run_retention(date!(2035 - 01 - 04), false).await.unwrap();
    assert!(store.client(&c.owner, client.id).await.is_ok());
    let reports = store.run_retention(date!(2035 - 01 - 05), false).await.unwrap();
    let mine = reports
        .iter()
        .find(|r| r.clinic_id == c.owner.clinic_id())
        .unwrap();
    assert_eq!(mine.anonymised.len(), 1);
    assert_eq!(mine.anonymised[0].reason, "erasure");
    assert_eq!(mine.anonymised[0].client, None, "a real run names no one");
    assert_err!(
        store.client(&c.owner, client.id).await,
        StoreError::NotFound { .. }
    );
    // Its statistics were kept at the request, once.
    let statistics = store.anonymous_statistics(&c.owner).await.unwrap();
    assert_eq!(statistics, vec![("norwood".to_owned(), "V".to_owned(), 1)]);

    // A client with nothing held is erased at once, completely.
    let other = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let report = store
        .erase_client(&c.owner, other.id, date!(2028 - 01 - 01))
        .await
        .unwrap();
    assert!(report.erased_completely, "{report:?}");
    assert!(report.kept.is_empty());
    assert_err!(
        store.client(&c.owner, other.id).await,
        StoreError::NotFound { .. }
    );
    let statistics = store.anonymous_statistics(&c.owner).await.unwrap();
    assert_eq!(statistics.iter().map(|s| s.2).sum::<i64>(), 2);

    // Another clinic's owner cannot erase this clinic's client.
    let d = clinic(store, "Elsewhere").await;
    let (theirs, _) = full_record(store, &d, date!(2027 - 01 - 05)).await;
    assert_err!(
        store
            .erase_client(&c.owner, theirs.id, date!(2028 - 01 - 01))
            .await,
        StoreError::NotFound { .. }
    );
}

pub async fn retention_anonymises_past_the_period(store: &Store) {
    let c = clinic(store, "Retention").await;
    // Two years, shorter than the legal hold: a treated client is held back.
    store.update_clinic_settings(&c.owner, "", 2).await.unwrap();
    let (treated, treated_photo) = full_record(store, &c, date!(2027 - 01 - 05)).await;
    let old = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let recent = store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    store
        .book_appointment(
            &c.front_desk,
            &NewAppointment {
                client_id: recent.id,
                practitioner_id: None,
                starts_at: datetime!(2029-09-01 09:00 UTC),
                duration_minutes: 60,
                notes: String::new(),
            },
        )
        .await
        .unwrap();
    let today = date!(2030 - 06 - 01);

    // A dry run names who would go and changes nothing.
    let dry = store.run_retention(today, true).await.unwrap();
    let dry = dry.iter().find(|r| r.clinic_id == c.owner.clinic_id()).unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.anonymised.len(), 1);
    assert_eq!(dry.anonymised[0].client.as_ref().map(|c| c.0), Some(old.id));
    assert_eq!(dry.held.len(), 1);
    assert_eq!(dry.held[0].kept_until, Some(date!(2035 - 01 - 05)));
    assert!(store.client(&c.owner, old.id).await.is_ok());

    let real = store.run_retention(today, false).await.unwrap();
    let real = real.iter().find(|r| r.clinic_id == c.owner.clinic_id()).unwrap();
    assert_eq!(real.anonymised.len(), 1);
    assert!(real.anonymised.iter().all(|e| e.client.is_none()));
    assert_err!(store.client(&c.owner, old.id).await, StoreError::NotFound { .. });
    assert!(store.client(&c.owner, treated.id).await.is_ok(), "held by law");
    assert!(
        store.client(&c.owner, recent.id).await.is_ok(),
        "still within the period"
    );
    assert!(store.photo(&c.owner, treated_photo.id).await.is_ok());

    // The reports are stored for the owner, newest first; only the owner reads them.
    let reports = store.retention_reports(&c.owner).await.unwrap();
    let ids: Vec<Uuid> = reports.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&real.id) && ids.contains(&dry.id), "{ids:?}");
    assert_err!(
        store.retention_reports(&c.practitioner).await,
        StoreError::Forbidden { .. }
    );

    // After the hold, the treated client and their photo go too.
    store.run_retention(date!(2035 - 01 - 05), false).await.unwrap();
    assert_err!(
        store.client(&c.owner, treated.id).await,
        StoreError::NotFound { .. }
    );
    assert_err!(
        store.photo(&c.owner, treated_photo.id).await,
        StoreError::NotFound { .. }
    );
    // The trail outlives the client: its rows remain, the last one says why it ended.
    let trail = store.audit_log(&c.owner, old.id).await.unwrap();
    let last = trail.last().unwrap();
    assert_eq!(last.action, AuditAction::Deleted);
    assert!(
        last.detail.starts_with("anonymised (retention)"),
        "{}",
        last.detail
    );
}

pub(crate) fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
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

pub async fn client_archive_has_records_photos_and_trail(store: &Store) {
    let c = clinic(store, "Archive").await;
    let (client, photo) = full_record(store, &c, date!(2027 - 01 - 05)).await;
    assert_err!(
        store.export_client_archive(&c.front_desk, client.id).await,
        StoreError::Forbidden { .. }
    );
    let files = unzip(
        &store
            .export_client_archive(&c.practitioner, client.id)
            .await
            .unwrap(),
    );
    let (_, bytes) = store.photo(&c.owner, photo.id).await.unwrap();
    assert_eq!(
        files[&format!("photos/{}.jpg", photo.id)],
        bytes,
        "the photo's bytes"
    );
    let record: serde_json::Value = serde_json::from_slice(&files["record.json"]).unwrap();
    assert_eq!(record["client"]["name"], "Sam Ólafsson");
    for key in [
        "consultations",
        "designs",
        "appointments",
        "sessions",
        "consents",
        "photos",
        "landmarks",
    ] {
        assert_eq!(record[key].as_array().map(Vec::len), Some(1), "{key}");
    }
    let trail = record["audit_trail"].as_array().unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e["action"] == "created" && e["detail"] == "client"),
        "{trail:?}"
    );
    for table in [
        "clients",
        "consultations",
        "designs",
        "appointments",
        "session_logs",
        "consents",
        "photos",
        "photo_landmarks",
        "audit_trail",
    ] {
        let text = String::from_utf8(files[&format!("csv/{table}.csv")].clone()).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let rows = reader.records().count();
        assert!(rows >= 1, "{table}: {text}");
    }
    // The export is in the trail.
    let after = store.audit_log(&c.owner, client.id).await.unwrap();
    assert!(
        after
            .iter()
            .any(|e| e.action == AuditAction::Exported && e.user_id == c.practitioner.user_id())
    );
}

pub async fn clinic_archive_and_csv_import(store: &Store) {
    let c = clinic(store, "Moving").await;
    let clients_csv = "ref,name,date_of_birth,phone,email,notes\n\
                       a,Ana Silva,1980-02-30,+351 912 000 000,ana@example.com,\n\
                       b,,1990-01-01,,not-an-email,\n\
                       c,Chris Doe,,,chris@example.com,\"likes, commas\"\n";
    let appointments_csv = "client_ref,starts_at,duration_minutes,status\n\
                            c,2027-03-01T10:00:00Z,90,booked\n\
                            z,tomorrow,0,maybe\n";
    for actor in [&c.practitioner, &c.front_desk] {
        assert_err!(
            store.import_csv(actor, clients_csv, appointments_csv, true).await,
            StoreError::Forbidden { .. }
        );
    }
    let report = store
        .import_csv(&c.owner, clients_csv, appointments_csv, true)
        .await
        .unwrap();
    let placed: Vec<(&str, u64, &str)> = report
        .errors
        .iter()
        .map(|e| (e.file.as_str(), e.line, e.column.as_str()))
        .collect();
    assert_eq!(
        placed,
        vec![
            ("clients.csv", 2, "date_of_birth"),
            ("clients.csv", 3, "name"),
            ("clients.csv", 3, "email"),
            ("appointments.csv", 3, "client_ref"),
            ("appointments.csv", 3, "starts_at"),
            ("appointments.csv", 3, "duration_minutes"),
            ("appointments.csv", 3, "status"),
        ],
        "{:#?}",
        report.errors
    );
    assert!(
        report.errors[0].message.contains("YYYY-MM-DD"),
        "{:?}",
        report.errors[0]
    );
    assert_eq!(report.errors[6].value, "maybe");
    assert!(
        report.errors[6].message.contains("booked"),
        "{:?}",
        report.errors[6]
    );
    // With mistakes nothing is saved, dry run or not.
    let report = store
        .import_csv(&c.owner, clients_csv, appointments_csv, false)
        .await
        .unwrap();
    assert!(!report.saved);
    assert!(store.search_clients(&c.owner, "", 100).await.unwrap().is_empty());
    // An unknown column is named on line 1.
    let report = store
        .import_csv(&c.owner, "name,shoe_size\nAna,41\n", "", true)
        .await
        .unwrap();
    assert_eq!(
        (report.errors[0].line, report.errors[0].column.as_str()),
        (1, "shoe_size")
    );

    let clients_csv = "ref,name,date_of_birth,email\na,Ana Silva,1980-02-28,ana@example.com\nc,Chris Doe,,\n";
    let appointments_csv = "client_ref,starts_at,duration_minutes\nc,2027-03-01T10:00:00Z,90\n";
    let dry = store
        .import_csv(&c.owner, clients_csv, appointments_csv, true)
        .await
        .unwrap();
    assert_eq!(
        (dry.saved, dry.clients, dry.appointments, dry.errors.len()),
        (false, 2, 1, 0)
    );
    assert!(
        store.search_clients(&c.owner, "", 100).await.unwrap().is_empty(),
        "a dry run saves nothing"
    );
    let done = store
        .import_csv(&c.owner, clients_csv, appointments_csv, false)
        .await
        .unwrap();
    assert!(done.saved);
    let clients = store.search_clients(&c.owner, "", 100).await.unwrap();
    assert_eq!(clients.len(), 2);
    let chris = clients.iter().find(|c| c.name == "Chris Doe").unwrap();
    assert_eq!(
        store.client_appointments(&c.owner, chris.id).await.unwrap().len(),
        1
    );
    // An appointment may name a client already there by email.
    let more = store
        .import_csv(
            &c.owner,
            "",
            "client_email,starts_at,duration_minutes\nANA@example.com,2027-04-01T10:00:00+01:00,60\n",
            false,
        )
        .await
        .unwrap();
    assert!(more.saved, "{:?}", more.errors);

    // A message sent to Chris, for the archive's message log.
    let key = NewJob {
        kind: "message".into(),
        dedupe_key: "confirm:chris".into(),
        client_id: Some(chris.id),
        payload: serde_json::json!({}),
        run_at: datetime!(2026-01-01 00:00 UTC),
        max_attempts: 1,
    };
    store.enqueue_jobs(c.owner.clinic_id(), &[key]).await.unwrap();
    let job = store
        .claim_jobs("w", time::Duration::minutes(1), 1)
        .await
        .unwrap()
        .remove(0);
    let message = SentMessage {
        id: Uuid::new_v4(),
        client_id: chris.id,
        job_id: job.id,
        channel: "email".into(),
        kind: "booking_confirmation".into(),
        recipient: "chris@example.com".into(),
        subject: "Your visit".into(),
        body: "Booked.".into(),
        provider_id: "<1@clinic.example>".into(),
        sent_at: datetime!(2026-01-01 00:00:01 UTC),
    };
    assert!(
        store
            .finish_job(&job, "w", &JobOutcome::Done(Some(message)))
            .await
            .unwrap()
    );

    // The clinic archive: everything, one file; owners only.
    assert_err!(
        store.export_clinic_archive(&c.practitioner).await,
        StoreError::Forbidden { .. }
    );
    let (_, photo) = full_record(store, &c, date!(2027 - 01 - 05)).await;
    let files = unzip(&store.export_clinic_archive(&c.owner).await.unwrap());
    let record: serde_json::Value = serde_json::from_slice(&files["record.json"]).unwrap();
    assert_eq!(record["clients"].as_array().unwrap().len(), 3);
    assert_eq!(record["users"].as_array().unwrap().len(), 3);
    assert!(record["users"][0].get("password_hash").is_none());
    assert!(files.contains_key(&format!("photos/{}.jpg", photo.id)));
    let clients_table = files["csv/clients.csv"].clone();
    assert_eq!(csv::Reader::from_reader(&clients_table[..]).records().count(), 3);
    for table in [
        "users",
        "pigment_products",
        "pigment_batches",
        "appointments",
        "audit_trail",
    ] {
        assert!(files.contains_key(&format!("csv/{table}.csv")), "{table}");
    }
    // The diary's rows keep what a visit is for and where.
    let appointments = files["csv/appointments.csv"].clone();
    let mut reader = csv::Reader::from_reader(&appointments[..]);
    let headers = reader.headers().unwrap().clone();
    for column in ["starts_at", "practitioner_id", "status", "kind", "room"] {
        assert!(headers.iter().any(|h| h == column), "{column} in {headers:?}");
    }

    // Every table the database has is in the archive, or excused for a stated reason: a new
    // table must be exported or argued out of it here.
    for table in migration_tables() {
        if let Some((_, why)) = NOT_EXPORTED.iter().find(|(t, _)| *t == table) {
            assert!(!why.is_empty());
            continue;
        }
        let (_, place) = EXPORTED.iter().find(|(t, _)| *t == table).unwrap_or_else(|| {
            panic!("table {table}: neither in the clinic export nor excused (tests/rights.rs)")
        });
        let found = match place.strip_prefix("json:") {
            Some(key) => !record[key].is_null(),
            None => files.contains_key(*place),
        };
        assert!(found, "table {table} should be in the archive at {place}");
    }
}

/// Where each exported table's rows are in a clinic archive (`json:` a key of record.json).
const EXPORTED: &[(&str, &str)] = &[
    ("clinics", "json:clinic"),
    ("users", "csv/users.csv"),
    ("clients", "csv/clients.csv"),
    ("consultations", "csv/consultations.csv"),
    ("designs", "csv/designs.csv"),
    ("appointments", "csv/appointments.csv"),
    ("session_logs", "csv/session_logs.csv"),
    ("consents", "csv/consents.csv"),
    ("signed_consents", "csv/signed_consents.csv"),
    ("consent_withdrawals", "csv/signed_consents.csv"),
    ("intakes", "csv/intakes.csv"),
    ("move_requests", "csv/move_requests.csv"),
    ("payments", "csv/payments.csv"),
    ("photos", "csv/photos.csv"),
    ("photo_landmarks", "csv/photo_landmarks.csv"),
    ("messages", "csv/messages.csv"),
    ("pigment_products", "csv/pigment_products.csv"),
    ("pigment_batches", "csv/pigment_batches.csv"),
    ("audit_log", "csv/audit_trail.csv"),
    ("retention_reports", "json:retention_reports"),
    ("anonymous_statistics", "json:anonymous_statistics"),
];

/// Tables left out of the clinic archive, and why.
const NOT_EXPORTED: &[(&str, &str)] = &[
    (
        "audit_filed",
        "SQLite's index of the audit rows by client (store::filing); the rows are the audit trail",
    ),
    (
        "audit_filings",
        "SQLite's marks of which audit rows audit_filed holds (store::filing)",
    ),
    (
        "booking_requests",
        "requests from people who are not clients yet, erased after estimator.keep_days; an accepted one's details are the client's record",
    ),
    (
        "form_keys",
        "the server's key that signs when a public form was shown",
    ),
    (
        "public_counters",
        "counts of public requests per address and clinic, two days long",
    ),
    (
        "quote_numbers",
        "a counter; each quote's number is in its consultation",
    ),
    (
        "receipt_numbers",
        "a counter; each receipt's number is in its payment",
    ),
    ("idempotency_keys", "retried requests' answers, kept 24 hours"),
    (
        "login_attempts",
        "dropped by migration 0004 (replaced by signin_throttle)",
    ),
    (
        "signin_throttle",
        "sign-in counters of the throttle, minutes long",
    ),
    ("signin_global", "sign-in counters of the throttle, minutes long"),
    (
        "login_sessions",
        "sign-in secrets (hashed tokens): useless elsewhere, a risk in an archive",
    ),
    ("login_challenges", "half-done two-factor sign-ins, minutes long"),
    (
        "client_search_keys",
        "SQLite's keys of the client search index: made again from the clients",
    ),
    ("password_resets", "single-use reset secrets, an hour long"),
    ("recovery_codes", "two-factor secrets (hashed)"),
    (
        "calendar_feeds",
        "the hashed secrets of calendar subscription addresses: useless elsewhere, a risk in an archive",
    ),
    (
        "signin_devices",
        "which browsers signed in before: secrets for the throttle",
    ),
    ("users_new", "SQLite migration step, renamed to users"),
    (
        "jobs",
        "the queue of work still to do: a message once sent is exported (messages); one not yet sent is planned again from the records",
    ),
    (
        "portal_links",
        "single-use sign-in secrets (hashed) of the client portal, minutes long",
    ),
    (
        "portal_sessions",
        "the client portal's sign-in secrets (hashed): useless elsewhere, a risk in an archive",
    ),
    (
        "appointments_new",
        "SQLite migration step (0010), renamed to appointments",
    ),
    ("photos_new", "SQLite migration step (0016), renamed to photos"),
    (
        "clinic_logos",
        "the clinic's own logo file, shown on its documents: not a record of anyone, and the owner has the file",
    ),
];

/// The tables the migrations create (both dialects).
fn migration_tables() -> std::collections::BTreeSet<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut tables = std::collections::BTreeSet::new();
    for dialect in ["sqlite", "postgres"] {
        for entry in std::fs::read_dir(root.join(dialect)).unwrap() {
            let sql = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for part in sql.split("CREATE TABLE ").skip(1) {
                let name: String = part
                    .trim_start_matches("IF NOT EXISTS ")
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                tables.insert(name);
            }
        }
    }
    assert!(tables.len() > 20, "{tables:?}");
    tables
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every file and folder under `root` (itself included) is private.
#[cfg(unix)]
fn assert_private(root: &std::path::Path) {
    let mode_of = mode(root);
    let expected = if root.is_dir() { 0o700 } else { 0o600 };
    assert_eq!(mode_of, expected, "{} is {mode_of:o}", root.display());
    if root.is_dir() {
        for entry in std::fs::read_dir(root).unwrap() {
            assert_private(&entry.unwrap().path());
        }
    }
}

/// Backup → restore into a fresh data folder gives the same clinic: every table's rows and
/// checksum, every photo's bytes, and the photos answer after the restore. The backup is made
/// while the store is open and in use; every file made is private.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_restores_identically_with_photos() {
    let root = temp_dir();
    let data = root.join("data");
    let store = Store::open(
        &format!("sqlite://{}", data.join("follicle.db").display()),
        Blobs::local(data.join("photos")).unwrap(),
    )
    .await
    .unwrap();
    let c = clinic(&store, "Backed up").await;
    let (client, photo) = full_record(&store, &c, date!(2027 - 01 - 05)).await;
    let (second, _) = full_record(&store, &c, date!(2027 - 02 - 05)).await;
    let _ = second;

    let backup = root.join("backup-1");
    let made = store.backup_all(&backup).await.unwrap();
    let live = store.digest().await.unwrap();
    assert!(
        made.differences(&live).is_empty(),
        "{:?}",
        made.differences(&live)
    );
    assert_eq!(made.photos.len(), 2);
    assert!(made.tables["photos"].count == 2 && made.tables["clients"].count == 2);
    assert_err!(store.backup_all(&backup).await, StoreError::Conflict { .. });

    let fresh = root.join("fresh");
    let restored_db = fresh.join("follicle.db");
    let blobs = Blobs::local(fresh.join("photos")).unwrap();
    Store::restore(&backup, &restored_db, &blobs).await.unwrap();
    let restored = Store::open(&format!("sqlite://{}", restored_db.display()), blobs)
        .await
        .unwrap();
    let after = restored.digest().await.unwrap();
    assert!(
        made.differences(&after).is_empty(),
        "{:?}",
        made.differences(&after)
    );
    let owner = restored.actor(c.owner.user_id()).await.unwrap();
    let (_, bytes) = restored.photo(&owner, photo.id).await.unwrap();
    let (_, original) = store.photo(&c.owner, photo.id).await.unwrap();
    assert_eq!(bytes, original);
    assert_eq!(
        restored.client(&owner, client.id).await.unwrap().name,
        client.name
    );

    // Restoring over a database is refused; so is a backup whose photo was altered, and then
    // no database is left behind.
    assert_err!(
        Store::restore(&backup, &restored_db, &Blobs::in_memory()).await,
        StoreError::Conflict { .. }
    );
    let key = made.photos.keys().next().unwrap();
    let tampered = backup.join("photos").join(key);
    let mut bytes = std::fs::read(&tampered).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&tampered, bytes).unwrap();
    let elsewhere = root.join("elsewhere/follicle.db");
    match Store::restore(&backup, &elsewhere, &Blobs::in_memory()).await {
        Err(StoreError::Invalid { message, .. }) => assert!(message.contains(key.as_str()), "{message}"),
        other => panic!("expected a refused restore, got {:?}", other.map(|_| ())),
    }
    assert!(!elsewhere.exists());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The data folder, database, photos and backup, whatever the umask.
        let _ = std::fs::set_permissions(&tampered, std::fs::Permissions::from_mode(0o600));
        assert_private(&data);
        assert_private(&backup);
        assert_private(&fresh);
    }
    restored.close().await;
    store.close().await;
    let _ = std::fs::remove_dir_all(root);
}

/// The digest of a PostgreSQL clinic (to check a pg_dump/pg_restore against) counts every
/// table, and changes when a record does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_digest_counts_every_table() {
    let test = TestStore::postgres().await;
    let store = &test.store;
    let c = clinic(store, "Digest").await;
    let before = store.digest().await.unwrap();
    assert_eq!(before.tables["users"].count, 3);
    assert!(before.tables.contains_key("retention_reports"));
    store.create_client(&c.front_desk, &new_sam()).await.unwrap();
    let after = store.digest().await.unwrap();
    assert_eq!(after.tables["clients"].count, 1);
    assert!(!before.differences(&after).is_empty());
    assert_err!(
        store.backup_all(temp_dir().join("b")).await,
        StoreError::Invalid { field: "backup", .. }
    );
}
