//! Idempotency keys (issue 11): a creating request sent with an `Idempotency-Key` header is
//! answered once; a retry with the same key and the same request gets the first answer back
//! instead of making a second record. Keys are per user and kept for
//! [`IDEMPOTENCY_WINDOW`]; a key reused with a different request, or while its first request is
//! still running, is refused.

use time::OffsetDateTime;

use super::{Store, now, on_db};
use crate::auth::Actor;
use crate::error::{StoreError, StoreResult};

/// A kept key: the request's hash, the answer's status, content type and body, when.
type KeyRow = (Vec<u8>, i64, String, Vec<u8>, OffsetDateTime);

/// How long a key's answer is kept: a day.
pub const IDEMPOTENCY_WINDOW: time::Duration = time::Duration::hours(24);

/// What to do with a request carrying an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotent {
    /// The key is new: run the request, then [`Store::idempotency_finish`] (or
    /// [`Store::idempotency_abandon`] when it failed).
    Run,
    /// The same request was answered before: send this answer again.
    Replay {
        /// The HTTP status.
        status: u16,
        /// Its `Content-Type`.
        content_type: String,
        /// Its body.
        body: Vec<u8>,
    },
}

impl Store {
    /// Claims `key` for this user and request (the SHA-256 of method, path and body): [`Idempotent::Run`]
    /// when new, [`Idempotent::Replay`] when answered before; [`StoreError::Conflict`] when
    /// the key was used for another request or its first request is still running.
    pub async fn idempotency_begin(
        &self,
        actor: &Actor,
        key: &str,
        request_sha256: &[u8; 32],
    ) -> StoreResult<Idempotent> {
        let at = now();
        let fresh_after = at - IDEMPOTENCY_WINDOW;
        let row: Option<KeyRow> = on_db!(self, pool => {
            sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2 AND created_at < $3")
                .bind(actor.user_id).bind(key).bind(fresh_after).execute(pool).await?;
            let inserted = sqlx::query(
                "INSERT INTO idempotency_keys (user_id, idem_key, request_sha256, status, content_type, body, created_at) \
                 VALUES ($1, $2, $3, 0, '', $4, $5) ON CONFLICT (user_id, idem_key) DO NOTHING",
            )
            .bind(actor.user_id).bind(key).bind(&request_sha256[..]).bind(Vec::<u8>::new()).bind(at)
            .execute(pool).await?.rows_affected();
            if inserted == 1 {
                None
            } else {
                sqlx::query_as("SELECT request_sha256, status, content_type, body, created_at FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2")
                    .bind(actor.user_id).bind(key).fetch_optional(pool).await?
            }
        });
        let Some((sha, status, content_type, body, _)) = row else {
            return Ok(Idempotent::Run);
        };
        if sha != request_sha256[..] {
            return Err(StoreError::Conflict {
                message: "Idempotency-Key: already used for a different request; use a new key".into(),
            });
        }
        if status == 0 {
            return Err(StoreError::Conflict {
                message: "Idempotency-Key: the first request with this key is still running; retry when it has answered".into(),
            });
        }
        Ok(Idempotent::Replay {
            status: u16::try_from(status).unwrap_or(200),
            content_type,
            body,
        })
    }

    /// Keeps the answer of a request run under `key`.
    pub async fn idempotency_finish(
        &self,
        actor: &Actor,
        key: &str,
        status: u16,
        content_type: &str,
        body: &[u8],
    ) -> StoreResult<()> {
        on_db!(self, pool => {
            sqlx::query("UPDATE idempotency_keys SET status = $1, content_type = $2, body = $3 WHERE user_id = $4 AND idem_key = $5")
                .bind(i64::from(status)).bind(content_type).bind(body).bind(actor.user_id).bind(key).execute(pool).await?;
        });
        Ok(())
    }

    /// Forgets `key` (its request failed: a retry may run it again).
    pub async fn idempotency_abandon(&self, actor: &Actor, key: &str) -> StoreResult<()> {
        on_db!(self, pool => {
            sqlx::query("DELETE FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2")
                .bind(actor.user_id).bind(key).execute(pool).await?;
        });
        Ok(())
    }

    /// Deletes keys older than the window.
    pub(crate) async fn purge_idempotency(&self, at: OffsetDateTime) -> StoreResult<u64> {
        let before = at - IDEMPOTENCY_WINDOW;
        let done = on_db!(self, pool => {
            sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                .bind(before).execute(pool).await?.rows_affected()
        });
        Ok(done)
    }
}
