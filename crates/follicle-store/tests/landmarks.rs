//! Landmarks kept with a photo (migration 0007), on both backends: saved, replaced, read back;
//! points outside the upright photo, twice named or badly named are refused naming the point;
//! another clinic finds nothing; a front-desk user may not save them.

use follicle_store::*;
use time::macros::datetime;

use crate::contract::jpeg_with_gps;
use crate::support::clinic;

macro_rules! assert_err {
    ($result:expr, $pattern:pat) => {
        match $result {
            Err($pattern) => {}
            other => panic!("expected {}, got {other:?}", stringify!($pattern)),
        }
    };
}

fn new_client() -> NewClient {
    NewClient {
        name: "Lena Landmark".into(),
        date_of_birth: None,
        age_years: Some(52),
        phone: String::new(),
        email: String::new(),
        notes: String::new(),
    }
}

fn point(name: &str, x_px: f64, y_px: f64) -> PlacedLandmark {
    PlacedLandmark {
        name: name.into(),
        x_px,
        y_px,
    }
}

pub async fn photo_landmarks_are_kept(store: &Store) {
    let c = clinic(store, "Landmarks").await;
    let client = store.create_client(&c.front_desk, &new_client()).await.unwrap();
    // 32 × 24 stored, EXIF orientation 6: upright it is 24 wide and 32 high.
    let photo = store
        .upload_photo(
            &c.practitioner,
            &NewPhoto {
                client_id: client.id,
                angle: PhotoAngle::Front,
                taken_at: datetime!(2026-12-01 09:10 UTC),
                session_id: None,
                consent_id: None,
                consultation_id: None,
                consented: true,
            },
            &jpeg_with_gps(),
        )
        .await
        .unwrap();
    assert_eq!(
        store.photo_landmarks(&c.practitioner, photo.id).await.unwrap(),
        None
    );
    let mut new = NewPhotoLandmarks {
        photo_id: photo.id,
        points: vec![
            point("glabella", 12.0, 10.5),
            point("lateral_canthus_right", 6.0, 14.0),
        ],
        outline: vec![[2.0, 3.0], [22.0, 3.0], [12.0, 31.0]],
        source: LandmarkSource::Detected,
    };
    let saved = store.save_photo_landmarks(&c.practitioner, &new).await.unwrap();
    assert_eq!(
        (saved.client_id, saved.source),
        (client.id, LandmarkSource::Detected)
    );
    assert_eq!(
        store.photo_landmarks(&c.owner, photo.id).await.unwrap(),
        Some(saved.clone())
    );

    // Saved again: replaced, not added.
    new.points[0].x_px = 13.25;
    new.source = LandmarkSource::Adjusted;
    let again = store.save_photo_landmarks(&c.practitioner, &new).await.unwrap();
    let read = store
        .photo_landmarks(&c.practitioner, photo.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, again);
    assert_eq!(
        (read.points[0].x_px, read.source),
        (13.25, LandmarkSource::Adjusted)
    );

    // Outside the upright photo (x 30 fits the stored 32 width, not the upright 24).
    let outside = NewPhotoLandmarks {
        points: vec![point("glabella", 30.0, 5.0)],
        ..new.clone()
    };
    match store.save_photo_landmarks(&c.practitioner, &outside).await {
        Err(StoreError::Invalid {
            field: "points",
            message,
        }) => {
            assert!(
                message.contains("glabella") && message.contains("24 × 32"),
                "{message}"
            );
        }
        other => panic!("expected a refused point, got {other:?}"),
    }
    for bad in [
        vec![point("glabella", 1.0, 1.0), point("glabella", 2.0, 2.0)],
        vec![point("Glabella!", 1.0, 1.0)],
        vec![point("glabella", f64::NAN, 1.0)],
        vec![point("glabella", -0.5, 1.0)],
    ] {
        let refused = NewPhotoLandmarks {
            points: bad,
            ..new.clone()
        };
        assert_err!(
            store.save_photo_landmarks(&c.practitioner, &refused).await,
            StoreError::Invalid { field: "points", .. }
        );
    }
    let outline_outside = NewPhotoLandmarks {
        outline: vec![[25.0, 1.0]],
        ..new.clone()
    };
    assert_err!(
        store
            .save_photo_landmarks(&c.practitioner, &outline_outside)
            .await,
        StoreError::Invalid { field: "outline", .. }
    );
    // What was refused changed nothing.
    assert_eq!(
        store.photo_landmarks(&c.practitioner, photo.id).await.unwrap(),
        Some(again)
    );

    // Roles and clinics.
    assert_err!(
        store.save_photo_landmarks(&c.front_desk, &new).await,
        StoreError::Forbidden { .. }
    );
    let other = clinic(store, "Elsewhere").await;
    assert_err!(
        store.photo_landmarks(&other.owner, photo.id).await,
        StoreError::NotFound { what: "photo" }
    );
    assert_err!(
        store.save_photo_landmarks(&other.practitioner, &new).await,
        StoreError::NotFound { what: "photo" }
    );
    // The audit log says who saved them.
    let trail = store.audit_log(&c.owner, client.id).await.unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == AuditAction::Changed
                && e.detail == format!("landmarks of photo {}", photo.id)),
        "{trail:?}"
    );
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn photo_landmarks_are_kept() {
        let test = crate::support::TestStore::sqlite().await;
        super::photo_landmarks_are_kept(&test.store).await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn photo_landmarks_are_kept() {
        let test = crate::support::TestStore::postgres().await;
        super::photo_landmarks_are_kept(&test.store).await;
    }
}
