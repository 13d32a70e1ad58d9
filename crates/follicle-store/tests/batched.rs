//! The store's memory: read-audit rows written in batches (after a flush, at a full batch, by
//! the background task, and at a graceful close, with nothing lost), and the session cache
//! (forgotten at once on sign-out, revocation, deactivation and role change; on PostgreSQL,
//! which several app servers share, not kept at all).

use std::time::Duration;

use follicle_store::testing::{
    TestStore, audit_filings, audit_log_references, options, purge_old_audit_in, refuse_audit_rows,
    wait_for_audit_written_behind,
};
use follicle_store::*;
use time::OffsetDateTime;

use crate::support::{PASSWORD, clinic};

fn viewed(log: &[AuditEntry], user: &Actor) -> usize {
    log.iter()
        .filter(|e| e.action == AuditAction::Viewed && e.user_id == user.user_id())
        .count()
}

/// Options whose timer never writes during a test: only a flush, a full batch or a close do.
fn no_timer(batch_rows: usize) -> StoreOptions {
    StoreOptions {
        audit_flush_interval: Duration::from_secs(3600),
        audit_batch_rows: batch_rows,
        ..options()
    }
}

async fn client(store: &Store, owner: &Actor) -> Client {
    store
        .create_client(
            owner,
            &NewClient {
                name: "Rae Audit".into(),
                ..NewClient::default()
            },
        )
        .await
        .unwrap()
}

async fn reads_are_written_after_a_flush_and_at_close(test: TestStore) {
    let store = &test.store;
    let c = clinic(store, "Batched").await;
    let rae = client(store, &c.owner).await;
    for _ in 0..5 {
        store.client(&c.practitioner, rae.id).await.unwrap();
    }
    store.designs(&c.practitioner, rae.id).await.unwrap();
    assert_eq!(store.pending_audit_rows(), 6);
    assert_eq!(store.flush_audit().await.unwrap(), 6);
    assert_eq!(store.pending_audit_rows(), 0);
    let log = store.audit_log(&c.owner, rae.id).await.unwrap();
    assert_eq!(viewed(&log, &c.practitioner), 6, "{log:?}");

    // A write after buffered reads comes after them in the trail.
    store.client(&c.front_desk, rae.id).await.unwrap();
    store
        .update_client(
            &c.owner,
            rae.id,
            &NewClient {
                name: "Rae Audited".into(),
                ..NewClient::default()
            },
        )
        .await
        .unwrap();
    let log = store.audit_log(&c.owner, rae.id).await.unwrap();
    let last_two: Vec<_> = log[log.len() - 2..]
        .iter()
        .map(|e| (e.user_id, e.action))
        .collect();
    assert_eq!(
        last_two,
        [
            (c.front_desk.user_id(), AuditAction::Viewed),
            (c.owner.user_id(), AuditAction::Changed)
        ]
    );
    assert!(log.windows(2).all(|w| w[0].id < w[1].id && w[0].at <= w[1].at));

    // A graceful close writes what waits; the reopened database has every read.
    for _ in 0..7 {
        store.client(&c.practitioner, rae.id).await.unwrap();
    }
    assert_eq!(store.pending_audit_rows(), 7);
    store.close().await;
    let again = test.reopen(no_timer(1000)).await;
    let log = again.audit_log(&c.owner, rae.id).await.unwrap();
    assert_eq!(viewed(&log, &c.practitioner), 13, "{log:?}");
    again.close().await;
}

async fn a_full_batch_is_written_behind_the_read_that_fills_it(test: TestStore) {
    let store = &test.store;
    let c = clinic(store, "Full batch").await;
    let rae = client(store, &c.owner).await;
    store.client(&c.practitioner, rae.id).await.unwrap();
    store.client(&c.practitioner, rae.id).await.unwrap();
    assert_eq!(store.pending_audit_rows(), 2);
    // The third fills the batch of three: a task writes it (the timer never runs here), and
    // the read does not wait for that commit.
    store.client(&c.practitioner, rae.id).await.unwrap();
    wait_until_written(store).await;
    store.client(&c.practitioner, rae.id).await.unwrap();
    assert_eq!(store.pending_audit_rows(), 1);
    let log = store.audit_log(&c.owner, rae.id).await.unwrap();
    assert_eq!(viewed(&log, &c.practitioner), 4, "{log:?}");
}

/// Waits until no read-audit row waits (the deadline is only there so that a broken writer
/// fails the test instead of hanging it).
async fn wait_until_written(store: &Store) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while store.pending_audit_rows() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the waiting rows were never written"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn the_timer_writes_the_batch(test: TestStore) {
    let store = &test.store;
    let c = clinic(store, "Timer").await;
    let rae = client(store, &c.owner).await;
    store.client(&c.practitioner, rae.id).await.unwrap();
    // No flush is called: the background task writes the row (within 20 ms).
    wait_until_written(store).await;
    let log = store.audit_log(&c.owner, rae.id).await.unwrap();
    assert_eq!(viewed(&log, &c.practitioner), 1);
}

async fn a_read_is_refused_when_the_database_refuses_two_batches(test: TestStore) {
    let store = &test.store;
    let c = clinic(store, "Refused").await;
    let rae = client(store, &c.owner).await;
    refuse_audit_rows(store, true).await;
    // Batches of three. The third read fills one: its write, behind the read, is refused and
    // the rows wait. Reads go on while fewer than two batches wait…
    for read in 1..=6 {
        store
            .client(&c.practitioner, rae.id)
            .await
            .unwrap_or_else(|e| panic!("read {read}: {e}"));
    }
    wait_for_audit_written_behind(store).await;
    assert_eq!(store.pending_audit_rows(), 6);
    // …and the read that finds two batches waiting writes them itself first: refused, it gives
    // no record, and the rows already waiting are kept (its own is not added).
    let refused = store.client(&c.practitioner, rae.id).await;
    assert!(matches!(refused, Err(StoreError::Database(_))), "{refused:?}");
    assert_eq!(store.pending_audit_rows(), 6);
    assert!(store.flush_audit().await.is_err());
    assert_eq!(store.pending_audit_rows(), 6);

    // The database takes rows again: the next read writes the six, then waits with its own.
    refuse_audit_rows(store, false).await;
    store.client(&c.practitioner, rae.id).await.unwrap();
    assert_eq!(store.pending_audit_rows(), 1);
    let log = store.audit_log(&c.owner, rae.id).await.unwrap();
    assert_eq!(viewed(&log, &c.practitioner), 7, "{log:?}");
}

/// A client's audit rows are the same whether SQLite has filed them by client
/// (`store::filing`) or not: through two filings and the rows after them, a page at a time,
/// with a filter, and after the retention purge (which takes the filed rows with it).
async fn a_clients_rows_are_found_filed_or_not(test: TestStore) {
    let store = &test.store;
    let sqlite = store.backend() == Backend::Sqlite;
    let c = clinic(store, "Filed").await;
    let rae = client(store, &c.owner).await;
    let other = client(store, &c.owner).await;
    for stretch in 0..3 {
        for _ in 0..4 {
            store.client(&c.practitioner, rae.id).await.unwrap();
            store.client(&c.front_desk, rae.id).await.unwrap();
            store.client(&c.practitioner, other.id).await.unwrap();
        }
        if stretch < 2 {
            let filed = store.file_audit_rows().await.unwrap();
            // Each filing takes the twelve reads since the last (and, first, the writes that
            // made the clients); PostgreSQL has nothing to file.
            assert_eq!(filed >= 12, sqlite, "stretch {stretch}: {filed} rows filed");
        }
    }
    assert_eq!(audit_filings(store).await.0, if sqlite { 2 } else { 0 });
    store.flush_audit().await.unwrap();

    // A page of five at a time, newest first, against the whole trail, oldest first.
    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let filter = AuditFilter {
            client_id: Some(rae.id),
            before,
            limit: 5,
            ..AuditFilter::default()
        };
        let page = store.audit_trail(&c.owner, &filter).await.unwrap();
        pages.extend(page.entries.iter().map(|e| e.id));
        match page.next_before {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    let trail = store.audit_log(&c.owner, rae.id).await.unwrap();
    assert!(trail.iter().all(|e| e.client_id == Some(rae.id)), "{trail:?}");
    assert_eq!(viewed(&trail, &c.practitioner), 12, "{trail:?}");
    assert_eq!(viewed(&trail, &c.front_desk), 12, "{trail:?}");
    let ids: Vec<i64> = trail.iter().map(|e| e.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first: {ids:?}");
    assert_eq!(pages.iter().rev().copied().collect::<Vec<_>>(), ids);
    let mine = AuditFilter {
        user_id: Some(c.front_desk.user_id()),
        client_id: Some(rae.id),
        limit: 100,
        ..AuditFilter::default()
    };
    let page = store.audit_trail(&c.owner, &mine).await.unwrap();
    assert_eq!(page.entries.len(), 12, "{page:?}");

    // Everything past its retention: the filed rows go with their audit rows, and of the
    // filings only the newest stays, marking where the rows not yet filed begin.
    let years_on = OffsetDateTime::now_utc() + time::Duration::days(365 * 100);
    assert!(purge_old_audit_in(store, years_on, 7).await > 24);
    assert_eq!(audit_filings(store).await, if sqlite { (1, 0) } else { (0, 0) });
    store.client(&c.practitioner, rae.id).await.unwrap();
    store.file_audit_rows().await.unwrap();
    store.client(&c.practitioner, rae.id).await.unwrap();
    store.flush_audit().await.unwrap();
    let trail = store.audit_log(&c.owner, rae.id).await.unwrap();
    assert_eq!(viewed(&trail, &c.practitioner), 2, "{trail:?}");
}

/// PostgreSQL writes audit rows without a foreign-key check each (two triggers with a row lock
/// each, as much as the rest of the insert: migration 0024); SQLite keeps its in-process checks.
async fn postgres_checks_no_audit_row_against_its_clinic_and_user(test: TestStore) {
    let store = &test.store;
    let expected: &[&str] = match store.backend() {
        Backend::Sqlite => &["clinics", "users"],
        Backend::Postgres => &[],
    };
    assert_eq!(audit_log_references(store).await, expected);
}

async fn cached_sessions_end_at_once(test: TestStore) {
    let store = &test.store;
    let c = clinic(store, "Cached sessions").await;
    let now = OffsetDateTime::now_utc();
    let practitioner = store.user(&c.owner, c.practitioner.user_id()).await.unwrap();
    let login = |email: String| async move { store.login(&email, PASSWORD, "192.0.2.7", now).await.unwrap() };

    // Signed out: the cached session is gone.
    let s = login(c.owner_email.clone()).await;
    assert_eq!(store.authenticate(s.token.as_str(), now).await.unwrap(), c.owner);
    store.revoke_session(s.token.as_str()).await.unwrap();
    assert!(store.authenticate(s.token.as_str(), now).await.is_err());

    // A role change is seen at once.
    let s = login(practitioner.email.clone()).await;
    assert_eq!(
        store.authenticate(s.token.as_str(), now).await.unwrap().role(),
        Role::Practitioner
    );
    store
        .update_user(&c.owner, practitioner.id, Role::FrontDesk, true)
        .await
        .unwrap();
    assert_eq!(
        store.authenticate(s.token.as_str(), now).await.unwrap().role(),
        Role::FrontDesk
    );

    // Deactivated: every session ends.
    store
        .update_user(&c.owner, practitioner.id, Role::FrontDesk, false)
        .await
        .unwrap();
    assert!(store.authenticate(s.token.as_str(), now).await.is_err());

    // Sign out everywhere.
    let a = login(c.owner_email.clone()).await;
    let b = login(c.owner_email.clone()).await;
    store.authenticate(a.token.as_str(), now).await.unwrap();
    store.authenticate(b.token.as_str(), now).await.unwrap();
    store
        .revoke_user_sessions(&c.owner, c.owner.user_id())
        .await
        .unwrap();
    assert!(store.authenticate(a.token.as_str(), now).await.is_err());
    assert!(store.authenticate(b.token.as_str(), now).await.is_err());
}

/// Two app servers on one PostgreSQL database (two stores on one schema), each with the
/// session cache configured: a sign-out, "sign out everywhere" or deactivation through one is
/// refused by the other on its very next lookup, although that one had just found the session
/// valid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sign_out_on_one_server_ends_the_session_on_the_other() {
    let cached = StoreOptions {
        session_cache_ttl: Duration::from_secs(3600),
        ..options()
    };
    let test = TestStore::postgres_with(cached.clone()).await;
    let (a, b) = (&test.store, &test.reopen(cached).await);
    let c = clinic(a, "Two servers").await;
    let now = OffsetDateTime::now_utc();
    let login = |email: String| async move { a.login(&email, PASSWORD, "192.0.2.7", now).await.unwrap() };

    let s = login(c.owner_email.clone()).await;
    for store in [a, b, a, b] {
        assert_eq!(store.authenticate(s.token.as_str(), now).await.unwrap(), c.owner);
    }
    b.revoke_session(s.token.as_str()).await.unwrap();
    assert!(a.authenticate(s.token.as_str(), now).await.is_err());

    let s = login(c.owner_email.clone()).await;
    a.authenticate(s.token.as_str(), now).await.unwrap();
    b.revoke_user_sessions(&c.owner, c.owner.user_id()).await.unwrap();
    assert!(a.authenticate(s.token.as_str(), now).await.is_err());

    let practitioner = a.user(&c.owner, c.practitioner.user_id()).await.unwrap();
    let s = login(practitioner.email.clone()).await;
    assert_eq!(
        a.authenticate(s.token.as_str(), now).await.unwrap().role(),
        Role::Practitioner
    );
    b.update_user(&c.owner, practitioner.id, Role::FrontDesk, true)
        .await
        .unwrap();
    assert_eq!(
        a.authenticate(s.token.as_str(), now).await.unwrap().role(),
        Role::FrontDesk
    );
    b.update_user(&c.owner, practitioner.id, Role::FrontDesk, false)
        .await
        .unwrap();
    assert!(a.authenticate(s.token.as_str(), now).await.is_err());
    b.close().await;
}

macro_rules! on_both {
    ($($name:ident: $options:expr),* $(,)?) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(TestStore::sqlite_with($options).await).await;
                }
            )*
        }
        mod postgres {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(TestStore::postgres_with($options).await).await;
                }
            )*
        }
    };
}

on_both!(
    reads_are_written_after_a_flush_and_at_close: no_timer(1000),
    a_full_batch_is_written_behind_the_read_that_fills_it: no_timer(3),
    a_read_is_refused_when_the_database_refuses_two_batches: no_timer(3),
    the_timer_writes_the_batch: StoreOptions {
        audit_flush_interval: Duration::from_millis(20),
        ..options()
    },
    a_clients_rows_are_found_filed_or_not: no_timer(1000),
    postgres_checks_no_audit_row_against_its_clinic_and_user: options(),
    cached_sessions_end_at_once: StoreOptions {
        session_cache_ttl: Duration::from_secs(3600),
        ..options()
    },
);
