//! The plans of the hot queries (issue 16), for the tests that fail when one of them turns
//! into a full scan of a big table: the very SQL texts the store runs, with values bound as
//! the store binds them, explained by the database (`EXPLAIN QUERY PLAN` on SQLite; `EXPLAIN`
//! on PostgreSQL with sequential scans priced out, so that a plan shows the index the query
//! can use even on a test's few rows, and a sequential scan only where no index serves).

use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use super::accounts::AUDIT_TRAIL;
use super::payments::{CLIENT_PAYMENTS, DUE_PAYMENTS};
use super::records::{
    CLIENT_APPOINTMENTS, CLIENT_CONSULTATIONS, CLIENT_DESIGNS, CLIENT_PHOTOS, CLIENT_SESSIONS, DIARY,
    RECALL_AFTER, RECALL_COUNTS, RECALL_FIRST,
};
use super::search::{
    CLIENTS_AFTER, CLIENTS_FIRST_PAGE, SCOPED_LOOKUP_POSTGRES, SEARCH_INDEXED_POSTGRES,
    SEARCH_INDEXED_SQLITE, SEARCH_SCOPED_POSTGRES, clinic_trigram_keys, fts_phrase,
};
use super::today::{LAST_COMPLETED, RECENT_CLIENTS};
use super::{Db, Store};
use crate::auth::Actor;
use crate::error::{StoreError, StoreResult};

/// The tables that grow with a clinic's history: none of them may be read whole.
pub const BIG_TABLES: &[&str] = &[
    "clients",
    "appointments",
    "session_logs",
    "photos",
    "audit_log",
    "audit_filed",
    "consultations",
    "designs",
    "payments",
];

/// One hot query's plan.
#[derive(Debug, Clone)]
pub struct QueryPlan {
    /// What the query serves ("client search", "clients list, a later page", …).
    pub name: &'static str,
    /// The indexes that may serve it: the plan must name one of them.
    pub indexes: &'static [&'static str],
    /// The database's plan, one line per step.
    pub plan: Vec<String>,
}

impl QueryPlan {
    /// The big tables the plan reads without an index condition, that is whole (or, walking
    /// an index in order, as far as it takes): SQLite's `SCAN <table>` (with or without a
    /// covering index), PostgreSQL's `Seq Scan on <table>` and any index or bitmap scan of a
    /// big table with no `Index Cond` or `Recheck Cond` (a walk filtered row by row).
    pub fn full_scans(&self) -> Vec<&'static str> {
        let mut found = Vec::new();
        for (i, line) in self.plan.iter().enumerate() {
            let step = line.trim_start_matches([' ', '-', '>']);
            let table = if let Some(rest) = step.strip_prefix("SCAN ") {
                rest.split_whitespace().next()
            } else if let Some(rest) = step.strip_prefix("Seq Scan on ") {
                rest.split_whitespace().next()
            } else if step.contains("Scan") && !step.starts_with("Bitmap Index Scan") {
                // "Index Scan using i on t", "Index Only Scan Backward using i on t",
                // "Bitmap Heap Scan on t": bounded only by a condition in its own lines.
                let table = step
                    .split_once(" on ")
                    .and_then(|(_, rest)| rest.split_whitespace().next());
                let own_lines = self.plan[i + 1..]
                    .iter()
                    .take_while(|l| !l.trim_start().starts_with("->"));
                let bounded = own_lines
                    .map(|l| l.trim_start())
                    .any(|l| l.starts_with("Index Cond:") || l.starts_with("Recheck Cond:"));
                table.filter(|_| !bounded)
            } else {
                None
            };
            if let Some(big) = table.and_then(|t| BIG_TABLES.iter().copied().find(|b| *b == t))
                && !found.contains(&big)
            {
                found.push(big);
            }
        }
        found
    }

    /// Whether the plan names one of the indexes meant to serve the query. SQLite's choice
    /// is fixed by the query's shape and is checked; PostgreSQL picks among the indexes by
    /// its statistics (on a test's few thousand rows it may prefer the clinic's index to the
    /// trigram one, which it takes on a real clinic's: see `scripts/bench-scale`), so there
    /// only [`QueryPlan::full_scans`] is checked.
    pub fn uses_an_expected_index(&self) -> bool {
        self.indexes
            .iter()
            .any(|index| self.plan.iter().any(|line| line.contains(index)))
    }
}

/// A value bound to a query, as the store binds it.
#[derive(Debug, Clone)]
enum Arg {
    Id(Uuid),
    NoId,
    Text(String),
    Texts(Vec<String>),
    NoText,
    Int(i64),
    NoInt,
    Time(OffsetDateTime),
    NoTime,
    Date(Date),
}

struct Hot {
    name: &'static str,
    sql: &'static str,
    args: Vec<Arg>,
    indexes: &'static [&'static str],
}

fn hot_queries(db: &Db, actor: &Actor, client_id: Uuid) -> Vec<Hot> {
    let clinic = Arg::Id(actor.clinic_id);
    let now = super::now();
    let text = |s: &str| Arg::Text(s.to_owned());
    // No batch has this id: a plan depends on the query's shape and the statistics.
    let batch = Arg::Id(Uuid::from_u128(0x5eed));
    let mut search_args = vec![
        clinic.clone(),
        text("%gar%"),
        text("% gar %"),
        text("gar%"),
        text("% gar%"),
        Arg::NoText,
        Arg::Int(50),
    ];
    // PostgreSQL: a query with no three ASCII letters or digits in a row uses the chain's
    // trigram index, the rest the clinic's own (`store::search`).
    let mut searches = Vec::new();
    match db {
        Db::Sqlite(_) => {
            search_args.push(Arg::Text(fts_phrase("gar")));
            searches.push(Hot {
                name: "client search (three characters or more)",
                sql: SEARCH_INDEXED_SQLITE,
                args: search_args,
                indexes: &["clients_fts"],
            });
        }
        Db::Postgres(_) => {
            let keys = Arg::Texts(clinic_trigram_keys(actor.clinic_id, "gar"));
            let mut scoped = search_args.clone();
            scoped.push(keys.clone());
            searches.push(Hot {
                name: "client search (three ASCII letters or digits in a row)",
                sql: SEARCH_SCOPED_POSTGRES,
                args: scoped,
                indexes: &["clients_clinic_trigrams"],
            });
            // What the function that search calls runs, planned as it plans it (generically).
            searches.push(Hot {
                name: "client search: the clinic's trigram keys looked up (clinic_clients_matching)",
                sql: SCOPED_LOOKUP_POSTGRES,
                args: vec![clinic.clone(), keys, text("%gar%")],
                indexes: &["clients_clinic_trigrams"],
            });
            let other_script = ["%çéà%", "% çéà %", "çéà%", "% çéà%"];
            let mut chain = search_args;
            for (arg, pattern) in chain[1..5].iter_mut().zip(other_script) {
                *arg = text(pattern);
            }
            searches.push(Hot {
                name: "client search (three characters, none of them in a run of three ASCII)",
                sql: SEARCH_INDEXED_POSTGRES,
                args: chain,
                indexes: &["clients_search_trgm"],
            });
        }
    }
    let of_client = |name, sql, indexes| Hot {
        name,
        sql,
        args: vec![clinic.clone(), Arg::Id(client_id)],
        indexes,
    };
    // SQLite finds a client's audit rows through their filings (`store::filing`): a lookup of
    // the client in each, then the rows not yet filed by their ids (a range of the row ids).
    let client_trail_indexes: &'static [&'static str] = match db {
        Db::Sqlite(_) => &["audit_filed USING PRIMARY KEY (filing=? AND client_id=?)"],
        Db::Postgres(_) => &["audit_log_client"],
    };
    let audit = |name, sql, client: Arg, indexes| Hot {
        name,
        sql,
        args: vec![
            clinic.clone(),
            Arg::NoId,
            client,
            Arg::NoText,
            Arg::NoTime,
            Arg::NoTime,
            Arg::NoInt,
            Arg::Int(51),
        ],
        indexes,
    };
    searches.extend([
        Hot {
            name: "clients list, first page",
            sql: CLIENTS_FIRST_PAGE,
            args: vec![clinic.clone(), Arg::Int(51)],
            indexes: &["clients_clinic_name"],
        },
        Hot {
            name: "clients list, a later page",
            sql: CLIENTS_AFTER,
            args: vec![clinic.clone(), text("Kim Park"), Arg::Id(client_id), Arg::Int(51)],
            indexes: &["clients_clinic_name"],
        },
        of_client(
            "client record: consultations",
            CLIENT_CONSULTATIONS,
            &[
                "sqlite_autoindex_consultations_2",
                "consultations_client_id_version_key",
            ],
        ),
        of_client(
            "client record: designs",
            CLIENT_DESIGNS,
            &["sqlite_autoindex_designs_2", "designs_client_id_version_key"],
        ),
        of_client(
            "client record: appointments",
            CLIENT_APPOINTMENTS,
            &["appointments_client"],
        ),
        of_client(
            "client record: session logs",
            CLIENT_SESSIONS,
            &["session_logs_client"],
        ),
        of_client(
            "client record: photos",
            CLIENT_PHOTOS,
            &["photos_client", "photos_client_angle"],
        ),
        Hot {
            name: "diary window (Today, the week)",
            sql: DIARY,
            args: vec![
                clinic.clone(),
                Arg::Time(now - Duration::days(1)),
                Arg::Time(now + Duration::days(7)),
                Arg::Int(500),
            ],
            indexes: &["appointments_clinic_start"],
        },
        Hot {
            name: "Today: touch-ups, last completed sessions in a window",
            sql: LAST_COMPLETED,
            args: vec![
                clinic.clone(),
                Arg::Time(now - Duration::days(1200)),
                Arg::Time(now - Duration::days(1000)),
                Arg::Int(500),
            ],
            indexes: &["appointments_clinic_start"],
        },
        of_client("client payments", CLIENT_PAYMENTS, &["payments_client"]),
        Hot {
            name: "Today: payments due",
            sql: DUE_PAYMENTS,
            args: vec![clinic.clone(), Arg::Int(10_000)],
            indexes: &["payments_due"],
        },
        Hot {
            name: "Today: clients seen most recently",
            sql: RECENT_CLIENTS,
            args: vec![clinic.clone(), Arg::Int(8)],
            indexes: &["clients_clinic_updated"],
        },
        Hot {
            name: "recall view of a batch: totals",
            sql: RECALL_COUNTS,
            args: vec![clinic.clone(), batch.clone()],
            indexes: &["session_logs_batch"],
        },
        Hot {
            name: "recall view of a batch: first page",
            sql: RECALL_FIRST,
            args: vec![clinic.clone(), batch.clone(), Arg::Int(101)],
            indexes: &["session_logs_batch"],
        },
        Hot {
            name: "recall view of a batch: a later page",
            sql: RECALL_AFTER,
            args: vec![
                clinic.clone(),
                batch,
                text("Kim Park"),
                Arg::Id(client_id),
                Arg::Date(now.date()),
                Arg::Id(Uuid::nil()),
                Arg::Int(101),
            ],
            indexes: &["session_logs_batch"],
        },
        audit(
            "audit view, first page",
            AUDIT_TRAIL,
            Arg::NoId,
            &["audit_log_clinic"],
        ),
        audit(
            "audit view, one client's rows",
            super::filing::audit_trail_of_client(db),
            Arg::Id(client_id),
            client_trail_indexes,
        ),
        of_client(
            "a client's whole audit trail (their audit log, their record's archive)",
            super::filing::client_trail(db),
            client_trail_indexes,
        ),
    ]);
    searches
}

/// Binds `$args` to `$query`; `$texts` is the macro that binds an [`Arg::Texts`] (a text
/// array: PostgreSQL's only; no SQLite query takes one, and SQLite has no such type).
macro_rules! bind_texts {
    ($query:expr, $texts:expr) => {
        $query.bind($texts.clone())
    };
}

macro_rules! no_texts {
    ($query:expr, $texts:expr) => {
        return Err(StoreError::Internal(format!(
            "a SQLite query takes no text array, got {:?}",
            $texts
        )))
    };
}

macro_rules! bind_all {
    ($query:expr, $args:expr, $texts:ident) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Id(v) => query.bind(*v),
                Arg::NoId => query.bind(None::<Uuid>),
                Arg::Text(v) => query.bind(v.clone()),
                Arg::Texts(v) => $texts!(query, v),
                Arg::NoText => query.bind(None::<String>),
                Arg::Int(v) => query.bind(*v),
                Arg::NoInt => query.bind(None::<i64>),
                Arg::Time(v) => query.bind(*v),
                Arg::NoTime => query.bind(None::<OffsetDateTime>),
                Arg::Date(v) => query.bind(*v),
            };
        }
        query
    }};
}

impl Store {
    /// Gathers the planner's statistics (`ANALYZE`), as a live database has them.
    pub(crate) async fn analyze(&self) -> StoreResult<()> {
        super::on_db!(self, pool => {
            sqlx::query("ANALYZE").execute(pool).await?;
        });
        Ok(())
    }

    /// The storage options of PostgreSQL's index `name` in this store's schema (`fastupdate=off`
    /// and the like); `None` on SQLite, whose indexes have none.
    pub(crate) async fn index_options(&self, name: &str) -> StoreResult<Option<Vec<String>>> {
        match &self.db {
            Db::Sqlite(_) => Ok(None),
            Db::Postgres(pool) => {
                let options: Option<Vec<String>> =
                    sqlx::query_scalar("SELECT reloptions FROM pg_class WHERE oid = to_regclass($1)")
                        .bind(name)
                        .fetch_optional(pool)
                        .await?
                        .flatten();
                Ok(Some(options.unwrap_or_default()))
            }
        }
    }

    /// The plan of each hot query for this actor's clinic and one of its clients.
    pub(crate) async fn hot_query_plans(
        &self,
        actor: &Actor,
        client_id: Uuid,
    ) -> StoreResult<Vec<QueryPlan>> {
        let mut plans = Vec::new();
        for hot in hot_queries(&self.db, actor, client_id) {
            let plan: Vec<String> = match &self.db {
                Db::Sqlite(pool) => {
                    let sql = format!("EXPLAIN QUERY PLAN {}", hot.sql);
                    let rows: Vec<(i64, i64, i64, String)> =
                        bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &hot.args, no_texts)
                            .fetch_all(pool)
                            .await?;
                    rows.into_iter().map(|r| r.3).collect()
                }
                Db::Postgres(pool) => {
                    let mut connection = pool.acquire().await?;
                    sqlx::query("SET enable_seqscan = off")
                        .execute(&mut *connection)
                        .await?;
                    // The function's lookup is planned without its values, as the function does.
                    if hot.sql == SCOPED_LOOKUP_POSTGRES {
                        sqlx::query("SET plan_cache_mode = force_generic_plan")
                            .execute(&mut *connection)
                            .await?;
                    }
                    let sql = format!("EXPLAIN {}", hot.sql);
                    let rows: Vec<(String,)> =
                        bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), &hot.args, bind_texts)
                            .fetch_all(&mut *connection)
                            .await?;
                    for reset in ["RESET enable_seqscan", "RESET plan_cache_mode"] {
                        sqlx::query(reset).execute(&mut *connection).await?;
                    }
                    rows.into_iter().map(|r| r.0).collect()
                }
            };
            plans.push(QueryPlan {
                name: hot.name,
                indexes: hot.indexes,
                plan,
            });
        }
        Ok(plans)
    }
}
