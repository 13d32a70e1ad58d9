//! Backups that restore: the SQLite database copied online (`VACUUM INTO`) together with every
//! photo, and a manifest — rows and a checksum per table, bytes and a checksum per photo — that
//! a restore is checked against before it is used.
//!
//! A backup is a folder (`0700`, files `0600`):
//!
//! ```text
//! backup/
//!   follicle.db      the database, consistent as of one moment, made while the server runs
//!   photos/<key>     every photo blob, by its key in the object store
//!   manifest.json    what the two hold (BackupManifest)
//! ```
//!
//! PostgreSQL is backed up with `pg_dump` and the object store with its own tools (see
//! docs/operations.md); [`Store::digest`] gives the same manifest for a PostgreSQL clinic, so
//! a restore there can be checked the same way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use time::OffsetDateTime;

use super::{Blobs, Db, Store};
use crate::error::{StoreError, StoreResult};
use crate::private;

/// The manifest's file name in a backup folder.
pub const MANIFEST: &str = "manifest.json";
/// The database's file name in a backup folder.
pub const DATABASE: &str = "follicle.db";
/// The photos' folder in a backup folder.
pub const PHOTOS: &str = "photos";

/// What a backup holds, to check a restore against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupManifest {
    /// The manifest's format: 1.
    pub format: u32,
    /// When the backup was made (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub made_at: OffsetDateTime,
    /// Every table: its rows and their checksum.
    pub tables: BTreeMap<String, TableDigest>,
    /// Every photo blob by key: its bytes and their checksum.
    pub photos: BTreeMap<String, TableDigest>,
}

/// A count and a SHA-256 (hex) over the rows of a table (each row's values quoted, sorted) or
/// the bytes of a photo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDigest {
    /// Rows of a table; bytes of a photo.
    pub count: u64,
    /// SHA-256, lower-case hex.
    pub sha256: String,
}

impl BackupManifest {
    /// What differs between two manifests (tables and photos; not the time), in words; empty
    /// when the two describe the same clinic.
    pub fn differences(&self, other: &BackupManifest) -> Vec<String> {
        let mut out = Vec::new();
        for (kind, a, b) in [
            ("table", &self.tables, &other.tables),
            ("photo", &self.photos, &other.photos),
        ] {
            for (name, digest) in a {
                match b.get(name) {
                    None => out.push(format!("{kind} {name}: missing")),
                    Some(d) if d != digest => out.push(format!(
                        "{kind} {name}: {} with sha256 {} expected, found {} with sha256 {}",
                        digest.count, digest.sha256, d.count, d.sha256
                    )),
                    Some(_) => {}
                }
            }
            for name in b.keys().filter(|n| !a.contains_key(*n)) {
                out.push(format!("{kind} {name}: not expected"));
            }
        }
        out
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn photo_digest(bytes: &[u8]) -> TableDigest {
    TableDigest {
        count: bytes.len() as u64,
        sha256: hex(&Sha256::digest(bytes)),
    }
}

fn io_error(what: &Path, e: std::io::Error) -> StoreError {
    if e.kind() == std::io::ErrorKind::AlreadyExists {
        StoreError::Conflict {
            message: format!("{} already exists", what.display()),
        }
    } else {
        StoreError::invalid("backup", format!("{}: {e}", what.display()))
    }
}

/// Rows and a checksum of every table of a SQLite database (the migrations' table included):
/// each row is its values as SQL literals (`quote()`), rows sorted, so two files hold the same
/// records exactly when their digests are equal, whatever the pages look like.
async fn sqlite_tables(pool: &SqlitePool) -> StoreResult<BTreeMap<String, TableDigest>> {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    let mut out = BTreeMap::new();
    for (table,) in tables {
        let columns: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_table_info($1) ORDER BY cid")
            .bind(&table)
            .fetch_all(pool)
            .await?;
        let row = columns
            .iter()
            .map(|(c,)| format!("quote(\"{}\")", c.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" || ',' || ");
        let sql = format!("SELECT {row} FROM \"{}\" ORDER BY 1", table.replace('"', "\"\""));
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?;
        out.insert(table, digest_rows(rows.into_iter().map(|r| r.0)));
    }
    Ok(out)
}

/// The same for PostgreSQL: the tables of the current schema, each row as PostgreSQL's text
/// of the row, sorted.
async fn postgres_tables(pool: &sqlx::PgPool) -> StoreResult<BTreeMap<String, TableDigest>> {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(pool)
    .await?;
    let mut out = BTreeMap::new();
    for (table,) in tables {
        let sql = format!(
            "SELECT t::text FROM \"{}\" t ORDER BY 1",
            table.replace('"', "\"\"")
        );
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?;
        out.insert(table, digest_rows(rows.into_iter().map(|r| r.0)));
    }
    Ok(out)
}

fn digest_rows(rows: impl Iterator<Item = String>) -> TableDigest {
    let mut hasher = Sha256::new();
    let mut count = 0;
    for row in rows {
        hasher.update(row.as_bytes());
        hasher.update(b"\n");
        count += 1;
    }
    TableDigest {
        count,
        sha256: hex(&hasher.finalize()),
    }
}

/// A pool on an existing SQLite file that runs no migrations and writes nothing.
async fn open_file(path: &Path) -> StoreResult<SqlitePool> {
    let text = path
        .to_str()
        .ok_or_else(|| StoreError::invalid("backup", "the path must be valid UTF-8"))?;
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{text}"))?.create_if_missing(false);
    Ok(SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?)
}

async fn blob_digests(blobs: &Blobs) -> StoreResult<BTreeMap<String, TableDigest>> {
    let mut out = BTreeMap::new();
    for key in blobs.keys().await? {
        let bytes = blobs.get(&key).await?;
        out.insert(key, photo_digest(&bytes));
    }
    Ok(out)
}

/// The file a blob key is kept in under `photos/`; a key that would leave the folder is refused.
fn photo_path(root: &Path, key: &str) -> StoreResult<PathBuf> {
    let mut path = root.to_path_buf();
    for part in key.split('/') {
        if part.is_empty() || part == "." || part == ".." || part.contains('\\') {
            return Err(StoreError::invalid(
                "backup",
                format!("photo key {key:?} is not a plain path"),
            ));
        }
        path.push(part);
    }
    Ok(path)
}

impl Store {
    /// What this clinic database and photo store hold now: rows and a checksum per table,
    /// bytes and a checksum per photo. Two stores with equal digests (on the same backend)
    /// hold the same records and photos.
    pub async fn digest(&self) -> StoreResult<BackupManifest> {
        self.flush_audit().await?;
        let tables = match &self.db {
            Db::Sqlite(pool) => sqlite_tables(pool).await?,
            Db::Postgres(pool) => postgres_tables(pool).await?,
        };
        Ok(BackupManifest {
            format: 1,
            made_at: super::now(),
            tables,
            photos: blob_digests(&self.blobs).await?,
        })
    }

    /// Backs up the clinic, online, into a new folder `dir`: the SQLite database (`VACUUM
    /// INTO`, consistent as of one moment while the server keeps running), every photo, and
    /// the manifest. The folder must not exist. Photos are listed after the database is
    /// copied, so every photo row in the copy has its bytes. PostgreSQL is an
    /// [`StoreError::Invalid`]: back it up with `pg_dump` (docs/operations.md).
    ///
    /// Takes no [`Actor`](crate::Actor), like [`Store::backup_to`]: it is the operator's.
    pub async fn backup_all(&self, dir: impl AsRef<Path>) -> StoreResult<BackupManifest> {
        let dir = dir.as_ref();
        if !matches!(self.db, Db::Sqlite(_)) {
            return Err(StoreError::invalid(
                "backup",
                "a backup folder holds a SQLite file; back up PostgreSQL with pg_dump (docs/operations.md)",
            ));
        }
        if dir.exists() {
            return Err(StoreError::Conflict {
                message: format!("{} already exists", dir.display()),
            });
        }
        private::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        self.flush_audit().await?;
        let database = self.backup_to(dir.join(DATABASE)).await?;
        let copy = open_file(&database).await?;
        let tables = sqlite_tables(&copy).await;
        copy.close().await;
        let photos_dir = dir.join(PHOTOS);
        private::create_dir_all(&photos_dir).map_err(|e| io_error(&photos_dir, e))?;
        let mut photos = BTreeMap::new();
        for key in self.blobs.keys().await? {
            let bytes = self.blobs.get(&key).await?;
            let path = photo_path(&photos_dir, &key)?;
            if let Some(parent) = path.parent() {
                private::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
            }
            private::write_new(&path, &bytes).map_err(|e| io_error(&path, e))?;
            photos.insert(key, photo_digest(&bytes));
        }
        let manifest = BackupManifest {
            format: 1,
            made_at: super::now(),
            tables: tables?,
            photos,
        };
        let text = serde_json::to_vec_pretty(&manifest).map_err(|e| StoreError::Internal(e.to_string()))?;
        let path = dir.join(MANIFEST);
        private::write_new(&path, &text).map_err(|e| io_error(&path, e))?;
        Ok(manifest)
    }

    /// Restores a backup folder made by [`Store::backup_all`] into a fresh place: the database
    /// to `database` (a SQLite file that must not exist; its folder is made `0700`), the photos
    /// into `blobs`. Every table and photo is checked against the manifest before this
    /// answers; any difference is an [`StoreError::Invalid`] naming it. Open the store on
    /// `database` afterwards as usual.
    pub async fn restore(
        backup: impl AsRef<Path>,
        database: impl AsRef<Path>,
        blobs: &Blobs,
    ) -> StoreResult<BackupManifest> {
        let backup = backup.as_ref();
        let database = database.as_ref();
        let manifest_path = backup.join(MANIFEST);
        let text = std::fs::read(&manifest_path).map_err(|e| {
            StoreError::invalid(
                "from",
                format!(
                    "{}: {e} (is this a folder made by follicle backup?)",
                    manifest_path.display()
                ),
            )
        })?;
        let manifest: BackupManifest = serde_json::from_slice(&text)
            .map_err(|e| StoreError::invalid("from", format!("{}: {e}", manifest_path.display())))?;
        if manifest.format != 1 {
            return Err(StoreError::invalid(
                "from",
                format!(
                    "manifest format {} is not known to this build (expected 1)",
                    manifest.format
                ),
            ));
        }
        if let Some(parent) = database.parent().filter(|p| !p.as_os_str().is_empty()) {
            private::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
        }
        {
            let mut from = std::fs::File::open(backup.join(DATABASE))
                .map_err(|e| io_error(&backup.join(DATABASE), e))?;
            let mut to = private::create_new_file(database).map_err(|e| io_error(database, e))?;
            std::io::copy(&mut from, &mut to).map_err(|e| io_error(database, e))?;
            to.sync_all().map_err(|e| io_error(database, e))?;
        }
        let check = async {
            let pool = open_file(database).await?;
            let tables = sqlite_tables(&pool).await;
            pool.close().await;
            let restored = BackupManifest {
                tables: tables?,
                photos: manifest.photos.clone(),
                ..manifest.clone()
            };
            let differences = manifest.differences(&restored);
            if !differences.is_empty() {
                return Err(StoreError::invalid(
                    "from",
                    format!(
                        "the database differs from its manifest: {}",
                        differences.join("; ")
                    ),
                ));
            }
            let photos_dir = backup.join(PHOTOS);
            for (key, expected) in &manifest.photos {
                let path = photo_path(&photos_dir, key)?;
                let bytes = std::fs::read(&path).map_err(|e| io_error(&path, e))?;
                if photo_digest(&bytes) != *expected {
                    return Err(StoreError::invalid(
                        "from",
                        format!("photo {key}: its bytes differ from the manifest"),
                    ));
                }
                blobs
                    .put(&object_store::path::Path::from(key.as_str()), bytes)
                    .await?;
            }
            Ok(())
        };
        if let Err(e) = check.await {
            // A refused restore leaves no database behind to be mistaken for a good one.
            let _ = std::fs::remove_file(database);
            return Err(e);
        }
        Ok(manifest)
    }
}
