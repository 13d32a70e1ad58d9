//! What the store keeps in memory between database calls: a short cache of authenticated
//! sessions, and the buffer of read-audit rows written in batches.
//!
//! **Sessions.** Every API request presents a session token; looking it up costs a query (a
//! round trip to PostgreSQL, a hand-off to SQLite's worker thread) that is most of a cheap
//! request's time. A session found valid is remembered for
//! [`StoreOptions::session_cache_ttl`](crate::StoreOptions::session_cache_ttl) (keyed by the
//! token's SHA-256, like the database): signing out, revoking a user's sessions and changing a
//! user's role or active flag through this store forget it at once. Only a SQLite store
//! caches: a SQLite file is served by one process. A PostgreSQL database may serve several app
//! servers, each with its own memory, and a session cached in one would be honoured there
//! after its sign-out, revocation or deactivation through another, for up to the TTL; for
//! health records that is not acceptable, so on PostgreSQL every request asks the database
//! (one indexed lookup). The cache holds at most
//! [`StoreOptions::session_cache_entries`](crate::StoreOptions::session_cache_entries) sessions
//! (about 100 bytes each); when full, entries past their TTL are dropped, and if that frees
//! nothing the cache starts again empty.
//!
//! **Read audit rows.** A read of a client's health data writes an audit row; one insert (and
//! commit) per read would make every read a write. Reads' rows ([`AuditAction::Viewed`]) go to
//! an in-memory buffer instead, written in one transaction by a background task every
//! [`StoreOptions::audit_flush_interval`](crate::StoreOptions::audit_flush_interval), or by a
//! task started by the read that brings
//! [`StoreOptions::audit_batch_rows`](crate::StoreOptions::audit_batch_rows) rows waiting (the
//! read does not wait for that commit). A read that finds twice that many waiting, because the
//! writes fall behind or fail, writes them itself first (so the buffer is bounded, and a read
//! is refused rather than left unaudited when the database cannot take the rows). The buffer
//! is also written before every audited write (so the trail keeps its order), before the audit
//! trail is read, and by [`Store::close`] (a graceful shutdown loses nothing). Only a crash
//! loses rows: at most one interval's worth.
//!
//! [`AuditAction::Viewed`]: crate::AuditAction::Viewed
//! [`Store::close`]: crate::Store::close

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use uuid::Uuid;

use super::Db;
use crate::auth::Actor;
use crate::error::StoreResult;
use crate::model::AuditAction;

/// A panic while holding one of these locks leaves data that is still consistent.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sessions found valid lately, by the SHA-256 of their token.
#[derive(Debug)]
pub(crate) struct SessionCache {
    ttl: Duration,
    max_entries: usize,
    map: Mutex<HashMap<[u8; 32], CachedSession>>,
}

#[derive(Debug, Clone, Copy)]
struct CachedSession {
    actor: Actor,
    expires_at: OffsetDateTime,
    cached_at: Instant,
}

impl SessionCache {
    pub(crate) fn new(ttl: Duration, max_entries: usize) -> SessionCache {
        SessionCache {
            ttl,
            max_entries,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn enabled(&self) -> bool {
        !self.ttl.is_zero() && self.max_entries > 0
    }

    /// The actor of a session seen valid less than the TTL ago and not expired at `now`.
    pub(crate) fn get(&self, digest: &[u8; 32], now: OffsetDateTime) -> Option<Actor> {
        if !self.enabled() {
            return None;
        }
        let map = lock(&self.map);
        let hit = map.get(digest)?;
        (hit.cached_at.elapsed() < self.ttl && now < hit.expires_at).then_some(hit.actor)
    }

    pub(crate) fn insert(&self, digest: [u8; 32], actor: Actor, expires_at: OffsetDateTime) {
        if !self.enabled() {
            return;
        }
        let mut map = lock(&self.map);
        if map.len() >= self.max_entries && !map.contains_key(&digest) {
            let ttl = self.ttl;
            map.retain(|_, s| s.cached_at.elapsed() < ttl);
            if map.len() >= self.max_entries {
                map.clear();
            }
        }
        map.insert(
            digest,
            CachedSession {
                actor,
                expires_at,
                cached_at: Instant::now(),
            },
        );
    }

    /// Forgets one session (signed out).
    pub(crate) fn forget(&self, digest: &[u8; 32]) {
        lock(&self.map).remove(digest);
    }

    /// Forgets every session of a user (revoked, deactivated, role changed).
    pub(crate) fn clear(&self) {
        lock(&self.map).clear();
    }

    pub(crate) fn forget_user(&self, user_id: Uuid) {
        lock(&self.map).retain(|_, s| s.actor.user_id != user_id);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.map).len()
    }
}

/// An audit row waiting to be written.
#[derive(Debug, Clone)]
pub(crate) struct PendingAudit {
    pub(crate) clinic_id: Uuid,
    pub(crate) user_id: Uuid,
    pub(crate) client_id: Option<Uuid>,
    pub(crate) action: AuditAction,
    pub(crate) detail: String,
    pub(crate) at: OffsetDateTime,
    pub(crate) ip: String,
    pub(crate) session: String,
}

/// Read-audit rows waiting to be written, with the lock that lets one flush run at a time.
#[derive(Debug)]
pub(crate) struct AuditBuffer {
    rows: Mutex<Vec<PendingAudit>>,
    /// Held while a batch is written, so batches go in order and one at a time.
    flushing: tokio::sync::Mutex<()>,
    /// Rows that make a read write the batch itself.
    pub(crate) batch_rows: usize,
    /// Set by [`crate::Store::close`]: rows are then written at once.
    closed: AtomicBool,
    /// A task started by [`flush_behind`] is writing (or about to write) the buffer.
    behind: AtomicBool,
}

/// Rows per INSERT statement (8 parameters each; far under both databases' limits).
const ROWS_PER_STATEMENT: usize = 256;

impl AuditBuffer {
    pub(crate) fn new(batch_rows: usize) -> AuditBuffer {
        AuditBuffer {
            rows: Mutex::new(Vec::new()),
            flushing: tokio::sync::Mutex::new(()),
            batch_rows: batch_rows.max(1),
            closed: AtomicBool::new(false),
            behind: AtomicBool::new(false),
        }
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.rows).len()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }

    /// Whether a task started by [`flush_behind`] is writing (or about to write) the buffer.
    #[cfg(feature = "testing")]
    pub(crate) fn is_writing_behind(&self) -> bool {
        self.behind.load(Ordering::Acquire)
    }

    /// Adds a row; `true` when the buffer has reached its batch size.
    pub(crate) fn push(&self, row: PendingAudit) -> bool {
        let mut rows = lock(&self.rows);
        rows.push(row);
        rows.len() >= self.batch_rows
    }

    /// Writes every waiting row in one transaction; on failure they wait for the next try.
    pub(crate) async fn flush(&self, db: &Db) -> StoreResult<usize> {
        let _one_at_a_time = self.flushing.lock().await;
        let rows = std::mem::take(&mut *lock(&self.rows));
        if rows.is_empty() {
            return Ok(0);
        }
        match write_rows(db, &rows).await {
            Ok(()) => Ok(rows.len()),
            Err(e) => {
                // Back in front of anything added meanwhile, in their order.
                let mut waiting = lock(&self.rows);
                let newer = std::mem::replace(&mut *waiting, rows);
                waiting.extend(newer);
                Err(e)
            }
        }
    }
}

async fn write_rows(db: &Db, rows: &[PendingAudit]) -> StoreResult<()> {
    macro_rules! write_on {
        ($pool:expr) => {{
            let mut tx = super::begin_write($pool).await?;
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO audit_log (clinic_id, user_id, client_id, action, detail, at, ip, session) ",
                );
                insert.push_values(chunk, |mut b, r| {
                    b.push_bind(r.clinic_id)
                        .push_bind(r.user_id)
                        .push_bind(r.client_id)
                        .push_bind(r.action.as_str())
                        .push_bind(r.detail.as_str())
                        .push_bind(r.at)
                        .push_bind(r.ip.as_str())
                        .push_bind(r.session.as_str());
                });
                insert.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }};
    }
    match db {
        Db::Sqlite(pool) => write_on!(pool),
        Db::Postgres(pool) => write_on!(pool),
    }
    Ok(())
}

/// Writes the buffer on a task of its own, unless one is writing it already: the read that
/// fills a batch does not wait for the batch's commit (an fsync: ~40 ms on this project's test
/// machine for 512 rows on SQLite, which one read in every few hundred used to carry). A
/// failed write leaves the rows waiting (see [`AuditBuffer::flush`]).
pub(crate) fn flush_behind(buffer: &Arc<AuditBuffer>, db: &Db) {
    if buffer.behind.swap(true, Ordering::AcqRel) {
        return;
    }
    let (buffer, db) = (buffer.clone(), db.clone());
    tokio::spawn(async move {
        if let Err(e) = buffer.flush(&db).await {
            tracing::warn!(error = %e, waiting = buffer.len(), "could not write the read audit rows");
        }
        buffer.behind.store(false, Ordering::Release);
    });
}

/// Writes the buffer every `interval` until the store is closed or dropped. A failed write is
/// tried again at the next tick (the rows stay in the buffer, which reads keep bounded). On
/// SQLite it then files the rows by client once `filing_rows` are waiting (`store::filing`).
pub(crate) async fn flush_every(buffer: Weak<AuditBuffer>, db: Db, interval: Duration, filing_rows: u64) {
    let mut every = tokio::time::interval(interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(buffer) = buffer.upgrade() else {
            return;
        };
        if buffer.is_closed() {
            return;
        }
        if let Err(e) = buffer.flush(&db).await {
            tracing::warn!(error = %e, waiting = buffer.len(), "could not write the read audit rows; trying again");
        }
        if let Err(e) = super::filing::file(&db, filing_rows).await {
            tracing::warn!(error = %e, "could not file the audit rows by client; trying again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::role::Role;

    fn actor(user: u128) -> Actor {
        Actor::new(Uuid::from_u128(user), Uuid::from_u128(7), Role::Practitioner)
    }

    #[test]
    fn sessions_are_kept_bounded_and_forgotten() {
        let cache = SessionCache::new(Duration::from_secs(60), 3);
        let now = OffsetDateTime::now_utc();
        let later = now + time::Duration::hours(1);
        for i in 0..3u8 {
            cache.insert([i; 32], actor(u128::from(i)), later);
        }
        assert_eq!(cache.get(&[1; 32], now), Some(actor(1)));
        // Expired sessions are not answered from the cache.
        assert_eq!(cache.get(&[1; 32], later), None);
        // Full: nothing is past its TTL, so the cache starts again with the new one only.
        cache.insert([9; 32], actor(9), later);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.get(&[0; 32], now), None);
        cache.insert([8; 32], actor(9), later);
        cache.insert([7; 32], actor(7), later);
        cache.forget_user(Uuid::from_u128(9));
        assert_eq!((cache.get(&[9; 32], now), cache.get(&[8; 32], now)), (None, None));
        assert_eq!(cache.get(&[7; 32], now), Some(actor(7)));
        cache.forget(&[7; 32]);
        assert_eq!(cache.get(&[7; 32], now), None);
    }

    #[test]
    fn a_zero_ttl_caches_nothing() {
        let cache = SessionCache::new(Duration::ZERO, 100);
        let now = OffsetDateTime::now_utc();
        cache.insert([1; 32], actor(1), now + time::Duration::hours(1));
        assert_eq!(cache.get(&[1; 32], now), None);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn the_buffer_reports_a_full_batch() {
        let buffer = AuditBuffer::new(2);
        let row = || PendingAudit {
            clinic_id: Uuid::nil(),
            user_id: Uuid::nil(),
            client_id: None,
            action: AuditAction::Viewed,
            detail: "client".into(),
            at: OffsetDateTime::UNIX_EPOCH,
            ip: String::new(),
            session: String::new(),
        };
        assert!(!buffer.push(row()));
        assert!(buffer.push(row()));
        assert_eq!(buffer.len(), 2);
    }
}
