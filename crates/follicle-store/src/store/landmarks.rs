//! Landmarks kept with a photo: one row a photo, replaced on each save, audited.

use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Store, audit_insert, now, on_db};
use crate::auth::Actor;
use crate::error::{StoreError, StoreResult};
use crate::landmarks::{
    LandmarkSource, NewPhotoLandmarks, PhotoLandmarks, PlacedLandmark, upright_size, validate,
};
use crate::model::AuditAction;
use crate::role::Action;

type LandmarksRow = (
    Uuid,
    Json<Vec<PlacedLandmark>>,
    Json<Vec<[f64; 2]>>,
    String,
    OffsetDateTime,
    Uuid,
);

impl Store {
    /// The photo's client, upright width and height, or not found (a foreign photo too).
    async fn photo_upright(&self, actor: &Actor, photo_id: Uuid) -> StoreResult<(Uuid, (i64, i64))> {
        let row: Option<(Uuid, i64, i64, Option<i64>)> = on_db!(self, pool => {
            sqlx::query_as("SELECT client_id, width, height, orientation FROM photos WHERE clinic_id = $1 AND id = $2")
                .bind(actor.clinic_id).bind(photo_id).fetch_optional(pool).await?
        });
        let (client_id, w, h, o) = row.ok_or_else(|| StoreError::not_found("photo"))?;
        Ok((client_id, upright_size(w, h, o)))
    }

    /// Keeps the landmarks with a photo, replacing what was kept before. Every point must lie
    /// inside the upright photo; names are given once.
    pub async fn save_photo_landmarks(
        &self,
        actor: &Actor,
        new: &NewPhotoLandmarks,
    ) -> StoreResult<PhotoLandmarks> {
        actor.require(Action::EditClinicalRecords)?;
        let (client_id, size) = self.photo_upright(actor, new.photo_id).await?;
        validate(new, size)?;
        let saved = PhotoLandmarks {
            photo_id: new.photo_id,
            client_id,
            points: new.points.clone(),
            outline: new.outline.clone(),
            source: new.source,
            saved_at: now(),
            saved_by: actor.user_id,
        };
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            sqlx::query("DELETE FROM photo_landmarks WHERE clinic_id = $1 AND photo_id = $2")
                .bind(actor.clinic_id).bind(saved.photo_id).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO photo_landmarks (photo_id, clinic_id, points, outline, source, saved_at, saved_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(saved.photo_id).bind(actor.clinic_id).bind(Json(&saved.points)).bind(Json(&saved.outline))
            .bind(saved.source.as_str()).bind(saved.saved_at).bind(saved.saved_by)
            .execute(&mut *tx).await?;
            audit_insert!(actor, Some(client_id), AuditAction::Changed, format!("landmarks of photo {}", saved.photo_id))
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(saved)
    }

    /// The landmarks kept with a photo, if any were saved.
    pub async fn photo_landmarks(
        &self,
        actor: &Actor,
        photo_id: Uuid,
    ) -> StoreResult<Option<PhotoLandmarks>> {
        actor.require(Action::ViewClinicalRecords)?;
        let (client_id, _) = self.photo_upright(actor, photo_id).await?;
        let row: Option<LandmarksRow> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT photo_id, points, outline, source, saved_at, saved_by FROM photo_landmarks \
                 WHERE clinic_id = $1 AND photo_id = $2",
            )
            .bind(actor.clinic_id).bind(photo_id).fetch_optional(pool).await?
        });
        self.audit(
            actor,
            Some(client_id),
            AuditAction::Viewed,
            &format!("landmarks of photo {photo_id}"),
        )
        .await?;
        row.map(|r| from_row(r, client_id)).transpose()
    }

    /// The landmarks kept with every photo of a client (its export), oldest photo first. Not
    /// audited here: the export that asks is.
    pub(crate) async fn client_landmarks(
        &self,
        actor: &Actor,
        client_id: Uuid,
    ) -> StoreResult<Vec<PhotoLandmarks>> {
        actor.require(Action::ViewClinicalRecords)?;
        let rows: Vec<LandmarksRow> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT l.photo_id, l.points, l.outline, l.source, l.saved_at, l.saved_by \
                 FROM photo_landmarks l JOIN photos p ON p.clinic_id = l.clinic_id AND p.id = l.photo_id \
                 WHERE l.clinic_id = $1 AND p.client_id = $2 ORDER BY p.taken_at, p.id",
            )
            .bind(actor.clinic_id).bind(client_id).fetch_all(pool).await?
        });
        rows.into_iter().map(|r| from_row(r, client_id)).collect()
    }
}

/// A stored row, with the client its photo belongs to.
fn from_row(r: LandmarksRow, client_id: Uuid) -> StoreResult<PhotoLandmarks> {
    Ok(PhotoLandmarks {
        photo_id: r.0,
        client_id,
        points: r.1.0,
        outline: r.2.0,
        source: LandmarkSource::parse(&r.3)?,
        saved_at: r.4,
        saved_by: r.5,
    })
}
