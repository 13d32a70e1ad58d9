//! The clinic's logo (issue 15): one PNG or JPEG a clinic, shown on the letterhead of every
//! document it hands its clients. Kept in the database (`clinic_logos`, migration 0016) rather
//! than the photo blob store: it is small (at most [`LOGO_MAX_BYTES`]), read with every
//! document, and goes with a database backup.
//!
//! The caller decodes the image before it comes here (the web layer, with the `image` crate
//! and its limits) and passes the decoded size; the store checks the bytes' kind, their size
//! and the pixel count again, so nothing larger than the bounds is ever kept.

use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Store, audit_insert, now, on_db};
use crate::auth::{Actor, hex};
use crate::error::{StoreError, StoreResult};
use crate::model::AuditAction;
use crate::role::Action;

/// The largest logo file kept: 512 KiB (a logo for a letterhead is a few tens of KiB).
pub const LOGO_MAX_BYTES: usize = 512 * 1024;
/// The most pixels a logo may have: 4 megapixels (2000 × 2000), decoded about 16 MiB at most.
pub const LOGO_MAX_PIXELS: u64 = 4_000_000;

/// A clinic's logo as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClinicLogo {
    /// `image/png` or `image/jpeg`.
    pub content_type: String,
    /// The file as uploaded.
    #[serde(skip)]
    pub bytes: Vec<u8>,
    /// Width in pixels, as decoded.
    pub width: u32,
    /// Height in pixels, as decoded.
    pub height: u32,
    /// SHA-256 of the bytes (hex).
    pub sha256: String,
    /// When it was uploaded.
    #[serde(with = "time::serde::rfc3339")]
    pub uploaded_at: OffsetDateTime,
}

/// The content type of a PNG or JPEG file by its first bytes, or `None`.
pub fn logo_content_type(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        _ => None,
    }
}

/// The bounds, checked: a PNG or JPEG, at most [`LOGO_MAX_BYTES`], its decoded size within
/// [`LOGO_MAX_PIXELS`]. Errors name the field `logo`, the value and what is allowed.
pub fn check_logo(bytes: &[u8], width: u32, height: u32) -> StoreResult<&'static str> {
    if bytes.is_empty() {
        return Err(StoreError::invalid("logo", "choose a PNG or JPEG file"));
    }
    if bytes.len() > LOGO_MAX_BYTES {
        return Err(StoreError::invalid(
            "logo",
            format!(
                "the file is {} bytes; a logo may be at most {LOGO_MAX_BYTES} bytes (512 KiB)",
                bytes.len()
            ),
        ));
    }
    let Some(kind) = logo_content_type(bytes) else {
        return Err(StoreError::invalid("logo", "the file is not a PNG or JPEG image"));
    };
    if width == 0 || height == 0 || u64::from(width) * u64::from(height) > LOGO_MAX_PIXELS {
        return Err(StoreError::invalid(
            "logo",
            format!(
                "the image is {width} × {height} pixels; a logo may have at most {LOGO_MAX_PIXELS} pixels (2000 × 2000)"
            ),
        ));
    }
    Ok(kind)
}

type LogoRow = (String, Vec<u8>, i64, i64, String, OffsetDateTime);

fn logo_from_row((content_type, bytes, width, height, sha256, uploaded_at): LogoRow) -> ClinicLogo {
    ClinicLogo {
        content_type,
        bytes,
        width: u32::try_from(width).unwrap_or(0),
        height: u32::try_from(height).unwrap_or(0),
        sha256,
        uploaded_at,
    }
}

impl Store {
    /// Sets the clinic's logo (owners: the clinic's settings), replacing any other. `width`
    /// and `height` are the image's as decoded by the caller. Audited.
    pub async fn set_clinic_logo(
        &self,
        actor: &Actor,
        bytes: &[u8],
        width: u32,
        height: u32,
    ) -> StoreResult<ClinicLogo> {
        actor.require(Action::EditSettings)?;
        let content_type = check_logo(bytes, width, height)?;
        let logo = ClinicLogo {
            content_type: content_type.to_owned(),
            bytes: bytes.to_vec(),
            width,
            height,
            sha256: hex(&Sha256::digest(bytes)),
            uploaded_at: now(),
        };
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            sqlx::query("DELETE FROM clinic_logos WHERE clinic_id = $1")
                .bind(actor.clinic_id).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO clinic_logos (clinic_id, content_type, bytes, width, height, sha256, uploaded_at, uploaded_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(actor.clinic_id).bind(&logo.content_type).bind(&logo.bytes).bind(i64::from(width)).bind(i64::from(height))
            .bind(&logo.sha256).bind(logo.uploaded_at).bind(actor.user_id)
            .execute(&mut *tx).await?;
            let detail = format!("logo set ({}, {width} × {height} px, sha256 {})", logo.content_type, logo.sha256);
            audit_insert!(actor, None::<Uuid>, AuditAction::SettingsChanged, detail).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(logo)
    }

    /// Removes the clinic's logo (owners); whether there was one. Audited.
    pub async fn remove_clinic_logo(&self, actor: &Actor) -> StoreResult<bool> {
        actor.require(Action::EditSettings)?;
        let removed = on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            let n = sqlx::query("DELETE FROM clinic_logos WHERE clinic_id = $1")
                .bind(actor.clinic_id).execute(&mut *tx).await?.rows_affected();
            if n > 0 {
                audit_insert!(actor, None::<Uuid>, AuditAction::SettingsChanged, "logo removed").execute(&mut *tx).await?;
            }
            tx.commit().await?;
            n > 0
        });
        Ok(removed)
    }

    /// The logo of the actor's clinic, if it has one (any staff member: it is on every
    /// document they print).
    pub async fn clinic_logo(&self, actor: &Actor) -> StoreResult<Option<ClinicLogo>> {
        self.clinic_logo_of(actor.clinic_id).await
    }

    /// A clinic's logo, for the documents its clients read (no staff member acts: the portal).
    pub async fn clinic_logo_of(&self, clinic_id: Uuid) -> StoreResult<Option<ClinicLogo>> {
        let row: Option<LogoRow> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT content_type, bytes, width, height, sha256, uploaded_at FROM clinic_logos WHERE clinic_id = $1",
            )
            .bind(clinic_id).fetch_optional(pool).await?
        });
        Ok(row.map(logo_from_row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounds_are_checked_by_name() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];
        assert_eq!(check_logo(&png, 200, 80).unwrap(), "image/png");
        assert_eq!(
            check_logo(&[0xFF, 0xD8, 0xFF, 0xE0], 10, 10).unwrap(),
            "image/jpeg"
        );
        let message = |r: StoreResult<&'static str>| match r {
            Err(StoreError::Invalid { field, message }) => {
                assert_eq!(field, "logo");
                message
            }
            other => panic!("{other:?}"),
        };
        assert!(message(check_logo(b"GIF89a", 10, 10)).contains("not a PNG or JPEG"));
        assert!(message(check_logo(&png, 2001, 2000)).contains("2001 × 2000 pixels"));
        let big = [&png[..], &vec![0; LOGO_MAX_BYTES][..]].concat();
        assert!(message(check_logo(&big, 10, 10)).contains("at most 524288 bytes"));
        assert!(message(check_logo(&[], 10, 10)).contains("choose a PNG or JPEG"));
    }
}
