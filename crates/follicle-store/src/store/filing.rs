//! SQLite's audit rows filed by client (issue 16; migration 0024).
//!
//! Every read of a client's record writes an audit row, and the audit view finds one client's
//! rows. With an index on `(clinic_id, client_id)` each row lands on its client's page of that
//! index: a read that lists 900 clients (the recall of a long-used lot) dirtied some 900 pages,
//! and on SQLite each dirty page is 4 KiB of write-ahead log and, at the checkpoint, a page
//! written into the file. Writing a batch of 512 such rows took about ten times as long as with
//! the clinic's index alone (46 ms against 5 ms for the median batch over 2 million rows,
//! `docs/benchmarks/scale.md`), so the reads that wrote the batches were the slow ones.
//!
//! On SQLite the rows are filed instead: [`file`] takes the rows written since the last filing
//! (once there are [`StoreOptions::audit_filing_rows`](crate::StoreOptions::audit_filing_rows)
//! of them) and lists those naming a client in `audit_filed` under the filing's own key, sorted
//! by client, so a filing appends a few dozen pages however many clients its rows name. One
//! client's rows are then a lookup in each filing (a few hundred for ten years of a busy clinic)
//! plus the rows written since the last filing, read in id order (`client_audit_ids!`). A row
//! is in exactly one of the two (a filing and its mark commit together, and SQLite's one writer
//! gives ids in commit order), so no row is missed or read twice whether or not a filing has
//! run; filing only makes the second part shorter. A deleted row leaves its filing by a trigger.
//!
//! PostgreSQL keeps its index by client, although it costs there too (about as much as the rest
//! of a row's insert, `docs/benchmarks/scale.md`): there ids are not given in commit order, and
//! a filing's mark could pass a row whose transaction had not committed yet.

use super::Db;
use crate::error::StoreResult;

/// The audit view of one client's rows (`AUDIT_TRAIL_OF_CLIENT`'s parameters) on this
/// backend: through the filings on SQLite, `audit_log_client` on PostgreSQL.
pub(crate) fn audit_trail_of_client(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => super::accounts::AUDIT_TRAIL_OF_CLIENT_SQLITE,
        Db::Postgres(_) => super::accounts::AUDIT_TRAIL_OF_CLIENT,
    }
}

/// One client's whole audit trail (`$1` clinic, `$2` client), oldest first, on this backend.
pub(crate) fn client_trail(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => super::CLIENT_TRAIL_SQLITE,
        Db::Postgres(_) => super::CLIENT_TRAIL,
    }
}

#[cfg(feature = "testing")]
impl super::Store {
    /// For tests: SQLite's filings and the rows filed in them; `(0, 0)` on PostgreSQL.
    pub(crate) async fn audit_filings(&self) -> StoreResult<(i64, i64)> {
        let Db::Sqlite(pool) = &self.db else {
            return Ok((0, 0));
        };
        Ok(
            sqlx::query_as("SELECT (SELECT count(*) FROM audit_filings), (SELECT count(*) FROM audit_filed)")
                .fetch_one(pool)
                .await?,
        )
    }
}

/// The ids of one client's audit rows on SQLite (the client bound as `$client`): those filed,
/// a lookup in each filing, then those written since the last filing. For `WHERE id IN (…)`.
/// `CROSS JOIN` keeps the filings the outer loop: with few filings SQLite's statistics would
/// have it read the whole of `audit_filed` instead.
macro_rules! client_audit_ids {
    ($client:literal) => {
        concat!(
            "SELECT audit_id FROM audit_filings CROSS JOIN audit_filed ON filing = upto AND client_id = ",
            $client,
            " UNION ALL SELECT id FROM audit_log WHERE id > (SELECT coalesce(max(upto), 0) FROM audit_filings) \
             AND client_id = ",
            $client
        )
    };
}
pub(crate) use client_audit_ids;

/// Files the audit rows written since the last filing if there are at least `at_least` of
/// them; gives how many rows naming a client were filed (0 when fewer were waiting, and
/// always on PostgreSQL). One transaction, begun `IMMEDIATE` so that it holds SQLite's write
/// lock from its first read of the mark.
pub(crate) async fn file(db: &Db, at_least: u64) -> StoreResult<u64> {
    const MARKS: &str = "SELECT coalesce((SELECT max(upto) FROM audit_filings), 0), coalesce((SELECT max(id) FROM audit_log), 0)";
    let Db::Sqlite(pool) = db else {
        return Ok(0);
    };
    // Asked first without the write lock: most calls find too few rows and write nothing.
    let (last, newest): (i64, i64) = sqlx::query_as(MARKS).fetch_one(pool).await?;
    if u64::try_from(newest - last).unwrap_or(0) < at_least.max(1) {
        return Ok(0);
    }
    let mut tx = super::begin_write(pool).await?;
    let (last, newest): (i64, i64) = sqlx::query_as(MARKS).fetch_one(&mut *tx).await?;
    if newest <= last {
        // Another filing took them meanwhile.
        return Ok(0);
    }
    let filed = sqlx::query(
        "INSERT INTO audit_filed (filing, client_id, audit_id) \
         SELECT $1, client_id, id FROM audit_log WHERE id > $2 AND id <= $1 AND client_id IS NOT NULL \
         ORDER BY client_id, id",
    )
    .bind(newest)
    .bind(last)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query("INSERT INTO audit_filings (upto) VALUES ($1)")
        .bind(newest)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(filed)
}

/// Forgets the filings whose rows have all been deleted (by the retention purge), but the
/// newest, which marks where the rows not yet filed begin. SQLite only; 0 on PostgreSQL.
pub(crate) async fn forget_empty_filings(db: &Db) -> StoreResult<u64> {
    let Db::Sqlite(pool) = db else {
        return Ok(0);
    };
    let done = sqlx::query(
        "DELETE FROM audit_filings WHERE upto < (SELECT max(upto) FROM audit_filings) \
         AND upto < coalesce((SELECT min(id) FROM audit_log), (SELECT max(upto) FROM audit_filings))",
    )
    .execute(pool)
    .await?
    .rows_affected();
    Ok(done)
}
