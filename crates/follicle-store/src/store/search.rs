//! Finding clients (issue 16): the search a receptionist types into, ranked, and the clients
//! list a page at a time. Both are served by indexes, so their cost follows the answer, not the
//! clinic's history.
//!
//! A query of [`INDEXED_QUERY_CHARS`] characters or more is looked up in a trigram index of the
//! clients' search text (SQLite: FTS5's `trigram` tokenizer, `clients_fts`, one index for the
//! file's clinics; PostgreSQL: the GIN index `clients_clinic_trigrams` of the clinic's own
//! `pg_trgm` trigrams of the text, keyed by [`clinic_trigram_keys`], or for a query without
//! three ASCII letters or digits in a row `clients_search_trgm` on the clinic and the
//! trigrams), then checked with the same `LIKE` as before, so
//! the clients found are exactly those whose name, phone (as typed or its digits) or email
//! contains the query. A shorter query cannot use a trigram index: it reads the clinic's clients
//! by name, at most [`SHORT_QUERY_SCAN`] of them.
//!
//! What is found is ranked as a receptionist expects, then by name:
//! 0. a word of the name is the query ("garcia" finds Ana Garcia);
//! 1. the name begins with it;
//! 2. a word of the name begins with it ("gar" finds Garcia before Edgar);
//! 3. the phone ends with the query's digits (the last digits of a number), or the email
//!    begins with the query;
//! 4. anything else that contains it.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::records::{ClientRow, MAX_LIST, client_from_row, for_role};
use super::{Db, Store, on_db};
use crate::auth::Actor;
use crate::error::{StoreError, StoreResult};
use crate::model::{AuditAction, Client};
use crate::role::Action;
use crate::validate;

/// The shortest query the trigram indexes serve (a trigram is three characters).
pub const INDEXED_QUERY_CHARS: usize = 3;

/// A shorter query reads at most this many of the clinic's clients (by name) to look for it.
pub const SHORT_QUERY_SCAN: i64 = 50_000;

/// A page of the clinic's clients, by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientPage {
    /// The clients, by name.
    pub clients: Vec<Client>,
    /// Pass as `after` for the next page; `None` on the last one.
    pub next: Option<String>,
}

/// Where a page of the clients list ends: the last client's name and id, so the next page
/// starts after it even when clients are added or removed meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ClientCursor {
    name: String,
    id: Uuid,
}

impl ClientCursor {
    /// `<id, 32 hex digits><name in UTF-8, as hex>`: opaque to callers, and safe in a URL.
    fn encode(&self) -> String {
        let mut out = self.id.simple().to_string();
        push_hex(&mut out, &self.name);
        out
    }

    fn parse(text: &str) -> StoreResult<ClientCursor> {
        let refuse = || cursor_refused(text);
        if text.len() < 32 || !text.is_ascii() {
            return Err(refuse());
        }
        let id = Uuid::try_parse(&text[..32]).map_err(|_| refuse())?;
        let name = from_hex(&text[32..]).ok_or_else(refuse)?;
        Ok(ClientCursor { name, id })
    }
}

/// Appends `text`'s UTF-8 bytes as hex digits (a cursor's name: opaque, and safe in a URL).
pub(crate) fn push_hex(out: &mut String, text: &str) {
    for byte in text.as_bytes() {
        out.push_str(&format!("{byte:02x}"));
    }
}

/// The text [`push_hex`] wrote, or `None` when `hex` is not such a text.
pub(crate) fn from_hex(hex: &str) -> Option<String> {
    if !hex.is_ascii() || !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// Cuts a page read with one row more than `limit` back to `limit`: the cursor of its last row
/// when the extra row showed that more follow, else `None`.
pub(crate) fn page_end<R>(
    rows: &mut Vec<R>,
    limit: i64,
    cursor: impl FnOnce(&R) -> String,
) -> Option<String> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    rows.last().filter(|_| more).map(cursor)
}

/// The error of a cursor that no page gave.
pub(crate) fn cursor_refused(text: &str) -> StoreError {
    StoreError::invalid(
        "cursor",
        format!(
            "expected the `next` value of a previous page, got {:?}",
            text.chars().take(80).collect::<String>()
        ),
    )
}

/// The patterns of a query's ranks, each a `LIKE` pattern with `\`, `%` and `_` escaped.
#[derive(Debug)]
struct Ranks {
    /// Contains the query: what is found.
    any: String,
    /// A word of the name is the query: `% q %` over `' ' || name || ' '`.
    word: String,
    /// Begins with the query: `q%`.
    prefix: String,
    /// A word begins with the query: `% q%` over `' ' || name`.
    word_prefix: String,
    /// The phone ends with the query's digits: `%digits\n%` (the phone lines end with `\n`);
    /// `None` unless the query is a phone number's part.
    phone_end: Option<String>,
}

impl Ranks {
    fn new(query: &str) -> Ranks {
        let q = validate::like_escape(&query.to_lowercase());
        let digits: String = query.chars().filter(char::is_ascii_digit).collect();
        let phone_like = !digits.is_empty()
            && query
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '.'));
        Ranks {
            any: validate::like_pattern(query),
            word: format!("% {q} %"),
            prefix: format!("{q}%"),
            word_prefix: format!("% {q}%"),
            phone_end: phone_like.then(|| format!("%{digits}\n%")),
        }
    }
}

/// The rank of a found client (columns of `clients` and `n`, the lower-cased name), then
/// name and id: see the module's doc. `$3`–`$6` are [`Ranks`]' patterns.
macro_rules! rank_order {
    () => {
        "CASE \
           WHEN ' ' || replace(n, '-', ' ') || ' ' LIKE $3 ESCAPE '\\' THEN 0 \
           WHEN n LIKE $4 ESCAPE '\\' THEN 1 \
           WHEN ' ' || replace(n, '-', ' ') LIKE $5 ESCAPE '\\' THEN 2 \
           WHEN search_text LIKE $6 ESCAPE '\\' OR email LIKE $4 ESCAPE '\\' THEN 3 \
           ELSE 4 END, name, id"
    };
}

macro_rules! client_cols {
    () => {
        "id, name, date_of_birth, age_years, phone, email, notes, created_at, updated_at"
    };
}

/// SQLite, three characters or more: the trigram index (`clients_fts`, read first: `CROSS
/// JOIN` keeps SQLite from starting at the clinic's clients instead), each candidate by its id,
/// then the `LIKE` that keeps exactly the clients containing the query. `$8` is the FTS5 phrase.
pub(crate) const SEARCH_INDEXED_SQLITE: &str = concat!(
    "SELECT ",
    client_cols!(),
    " FROM (",
    "SELECT clients.*, substr(clients.search_text, 1, instr(clients.search_text, char(10)) - 1) AS n ",
    "FROM clients_fts CROSS JOIN clients ON clients.id = clients_fts.client_id ",
    "WHERE clients_fts MATCH $8 AND clients.clinic_id = $1 AND clients.search_text LIKE $2 ESCAPE '\\') found ",
    "ORDER BY ",
    rank_order!(),
    " LIMIT $7"
);

/// PostgreSQL, three characters or more: the `LIKE` is served by the trigram index
/// (`clients_search_trgm`). `\` is PostgreSQL's default `LIKE` escape.
pub(crate) const SEARCH_INDEXED_POSTGRES: &str = concat!(
    "SELECT ",
    client_cols!(),
    " FROM (",
    "SELECT *, split_part(search_text, chr(10), 1) AS n FROM clients ",
    "WHERE clinic_id = $1 AND search_text LIKE $2) found ",
    "ORDER BY ",
    rank_order!(),
    " LIMIT $7"
);

/// PostgreSQL, a query with a run of three ASCII letters or digits: the clinic's own trigrams
/// (`clients_clinic_trigrams`, migration 0022; `$8` is [`clinic_trigram_keys`]), then the same
/// `LIKE`, so exactly the clients containing the query, read from the clinic's part of the index
/// only, however many clinics share the database. The lookup is the function
/// `clinic_clients_matching` (migration 0023), planned once per connection for any values:
/// as a prepared statement of its own, PostgreSQL planned it anew for every search in a chain
/// (about 0.1 ms, twice the lookup, at fifty clinics) and kept one plan for a single clinic.
/// Inside it the keys are looked up apart from the `LIKE` (see the migration).
pub(crate) const SEARCH_SCOPED_POSTGRES: &str = concat!(
    "SELECT ",
    client_cols!(),
    " FROM (",
    "SELECT *, split_part(search_text, chr(10), 1) AS n ",
    "FROM clinic_clients_matching($1, $8, $2)) found ",
    "ORDER BY ",
    rank_order!(),
    " LIMIT $7"
);

/// The lookup inside `clinic_clients_matching` (migration 0023), with its arguments as `$1`
/// (clinic), `$2` (keys) and `$3` (pattern): for the query-plan tests, which check that it stays
/// the function's own (`the_scoped_lookup_is_the_functions`).
#[cfg(any(test, feature = "testing"))]
pub(crate) const SCOPED_LOOKUP_POSTGRES: &str = "SELECT found.* FROM ( SELECT * FROM clients \
     WHERE clinic_trigrams(clinic_id, search_text) @> $2 OFFSET 0 ) found \
     WHERE found.clinic_id = $1 AND found.search_text LIKE $3";

/// At most this many of a query's trigrams are looked up (the rest are checked by the `LIKE`).
pub(crate) const MAX_QUERY_TRIGRAMS: usize = 32;

/// The keys of `clients_clinic_trigrams` that every client of `clinic` containing `query` has:
/// the clinic's id followed by each run of three ASCII letters or digits of the lower-cased
/// query. pg_trgm's `show_trgm` of a client's (lower-cased) search text holds every three
/// consecutive letters or digits of a word as they are, so a client containing the query has
/// them all; a trigram with a letter outside ASCII is hashed there, and the padded ones at a
/// word's ends depend on the text around the query, so neither is asked for. Empty when the
/// query has no such run (the search then uses `clients_search_trgm`).
pub(crate) fn clinic_trigram_keys(clinic: Uuid, query: &str) -> Vec<String> {
    let lower = query.to_lowercase();
    let chars: Vec<char> = lower.chars().collect();
    let mut keys: Vec<String> = Vec::new();
    for window in chars.windows(3) {
        if window.iter().all(char::is_ascii_alphanumeric) {
            let key = format!("{clinic}{}{}{}", window[0], window[1], window[2]);
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        if keys.len() == MAX_QUERY_TRIGRAMS {
            break;
        }
    }
    keys
}

/// SQLite, shorter queries: the clinic's first [`SHORT_QUERY_SCAN`] clients by name (`$8`).
pub(crate) const SEARCH_SHORT_SQLITE: &str = concat!(
    "SELECT ",
    client_cols!(),
    " FROM (",
    "SELECT *, substr(search_text, 1, instr(search_text, char(10)) - 1) AS n FROM (",
    "SELECT * FROM clients WHERE clinic_id = $1 ORDER BY name, id LIMIT $8) ",
    "WHERE search_text LIKE $2 ESCAPE '\\') found ",
    "ORDER BY ",
    rank_order!(),
    " LIMIT $7"
);

/// PostgreSQL, shorter queries: the same.
pub(crate) const SEARCH_SHORT_POSTGRES: &str = concat!(
    "SELECT ",
    client_cols!(),
    " FROM (",
    "SELECT *, split_part(search_text, chr(10), 1) AS n FROM (",
    "SELECT * FROM clients WHERE clinic_id = $1 ORDER BY name, id LIMIT $8) first_clients ",
    "WHERE search_text LIKE $2) found ",
    "ORDER BY ",
    rank_order!(),
    " LIMIT $7"
);

/// The first page of the clients list: index `clients_clinic_name`.
pub(crate) const CLIENTS_FIRST_PAGE: &str = concat!(
    "SELECT ",
    client_cols!(),
    " FROM clients WHERE clinic_id = $1 ORDER BY name, id LIMIT $2"
);

/// A later page, after the (name, id) of the previous page's last client.
pub(crate) const CLIENTS_AFTER: &str = concat!(
    "SELECT ",
    client_cols!(),
    " FROM clients WHERE clinic_id = $1 AND (name, id) > ($2, $3) ",
    "ORDER BY name, id LIMIT $4"
);

impl Store {
    /// Clients whose name, phone (as typed or its digits) or email contains `query`, ignoring
    /// case, ranked as a receptionist expects, then by name: a word of the name equal to the
    /// query; the name beginning with it; a word of the name beginning with it ("gar" finds
    /// Garcia before Edgar); the phone ending with its digits or the email beginning with it;
    /// anything else containing it. A query of [`INDEXED_QUERY_CHARS`] characters or more is
    /// looked up in a trigram index; a shorter one reads at most [`SHORT_QUERY_SCAN`] of the
    /// clinic's clients. An empty query is the first page of [`Store::list_clients`]. At most
    /// `limit` (1–500).
    pub async fn search_clients(&self, actor: &Actor, query: &str, limit: i64) -> StoreResult<Vec<Client>> {
        actor.require(Action::ViewClients)?;
        let query = validate::line("query", query, true)?;
        let limit = validate::int_range("limit", limit, 1, MAX_LIST)?;
        let rows = if query.is_empty() {
            self.client_rows_after(actor, None, limit).await?
        } else {
            self.ranked_client_rows(actor, &query, limit).await?
        };
        // A search is a read of many clients' contact details: batched like other reads.
        let detail = format!(
            "search {:?}, {} found",
            query.chars().take(80).collect::<String>(),
            rows.len()
        );
        self.audit(actor, None, AuditAction::Searched, &detail).await?;
        Ok(rows
            .into_iter()
            .map(|r| for_role(actor, client_from_row(r)))
            .collect())
    }

    /// A page of the clinic's clients by name (then id): the first with `after` `None`, then
    /// each after the `next` of the one before. `limit` 1–500. Audited as a search with an
    /// empty query.
    pub async fn list_clients(
        &self,
        actor: &Actor,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<ClientPage> {
        actor.require(Action::ViewClients)?;
        let limit = validate::int_range("limit", limit, 1, MAX_LIST)?;
        let after = after.map(ClientCursor::parse).transpose()?;
        let mut rows = self.client_rows_after(actor, after.as_ref(), limit + 1).await?;
        let next = page_end(&mut rows, limit, |r| {
            ClientCursor {
                name: r.1.clone(),
                id: r.0,
            }
            .encode()
        });
        let detail = format!(
            "clients list{}, {} listed",
            if after.is_some() { " (a later page)" } else { "" },
            rows.len()
        );
        self.audit(actor, None, AuditAction::Searched, &detail).await?;
        Ok(ClientPage {
            clients: rows
                .into_iter()
                .map(|r| for_role(actor, client_from_row(r)))
                .collect(),
            next,
        })
    }

    /// The clinic's clients by name after `after`, at most `limit`: index `clients_clinic_name`.
    async fn client_rows_after(
        &self,
        actor: &Actor,
        after: Option<&ClientCursor>,
        limit: i64,
    ) -> StoreResult<Vec<ClientRow>> {
        let rows: Vec<ClientRow> = match after {
            None => on_db!(self, pool => {
                sqlx::query_as(CLIENTS_FIRST_PAGE).bind(actor.clinic_id).bind(limit).fetch_all(pool).await?
            }),
            Some(cursor) => on_db!(self, pool => {
                sqlx::query_as(CLIENTS_AFTER)
                    .bind(actor.clinic_id).bind(&cursor.name).bind(cursor.id).bind(limit)
                    .fetch_all(pool).await?
            }),
        };
        Ok(rows)
    }

    /// The clients that contain `query`, ranked (see the module's doc).
    async fn ranked_client_rows(
        &self,
        actor: &Actor,
        query: &str,
        limit: i64,
    ) -> StoreResult<Vec<ClientRow>> {
        let ranks = Ranks::new(query);
        let indexed = query.chars().count() >= INDEXED_QUERY_CHARS;
        // The ranked search's binds; the short-query scans and SQLite's index add one more.
        macro_rules! ranked {
            ($sql:expr, $pool:expr $(, $last:expr)?) => {
                sqlx::query_as($sql)
                    .bind(actor.clinic_id)
                    .bind(&ranks.any)
                    .bind(&ranks.word)
                    .bind(&ranks.prefix)
                    .bind(&ranks.word_prefix)
                    .bind(&ranks.phone_end)
                    .bind(limit)
                    $(.bind($last))?
                    .fetch_all($pool)
                    .await?
            };
        }
        let rows: Vec<ClientRow> = match &self.db {
            Db::Sqlite(pool) if indexed => ranked!(SEARCH_INDEXED_SQLITE, pool, fts_phrase(query)),
            Db::Sqlite(pool) => ranked!(SEARCH_SHORT_SQLITE, pool, SHORT_QUERY_SCAN),
            Db::Postgres(pool) if indexed => {
                let keys = clinic_trigram_keys(actor.clinic_id, query);
                if keys.is_empty() {
                    ranked!(SEARCH_INDEXED_POSTGRES, pool)
                } else {
                    ranked!(SEARCH_SCOPED_POSTGRES, pool, keys)
                }
            }
            Db::Postgres(pool) => ranked!(SEARCH_SHORT_POSTGRES, pool, SHORT_QUERY_SCAN),
        };
        Ok(rows)
    }
}

/// The FTS5 query for a substring: one phrase, its `"` doubled (FTS5's own quoting).
pub(crate) fn fts_phrase(query: &str) -> String {
    format!("\"{}\"", query.to_lowercase().replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trigrams(query: &str) -> Vec<String> {
        let clinic = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        clinic_trigram_keys(clinic, query)
            .into_iter()
            .map(|key| {
                let prefix = "01234567-89ab-cdef-0123-456789abcdef";
                key.strip_prefix(prefix)
                    .expect("each key starts with the clinic")
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn a_querys_keys_are_its_runs_of_three_ascii_letters_or_digits() {
        assert_eq!(trigrams("Garcia"), ["gar", "arc", "rci", "cia"]);
        assert_eq!(trigrams("ana.gar1"), ["ana", "gar", "ar1"]);
        assert_eq!(trigrams("7700 900"), ["770", "700", "900"]);
        // A letter outside ASCII breaks a run (pg_trgm hashes such a trigram).
        assert_eq!(trigrams("josé"), ["jos"]);
        assert_eq!(trigrams("Núñez"), Vec::<String>::new());
        // Too short, or punctuation only: no keys, so the chain's index serves the query.
        assert_eq!(trigrams("e.c"), Vec::<String>::new());
        assert_eq!(trigrams("a g"), Vec::<String>::new());
        // Each trigram once.
        assert_eq!(trigrams("aaaaa"), ["aaa"]);
    }

    #[test]
    fn the_scoped_lookup_is_the_functions() {
        let migration = include_str!("../../migrations/postgres/0023_search_planned_once.sql");
        let body = migration
            .split("RETURN QUERY")
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .expect("the function returns a query");
        let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        let named = words(SCOPED_LOOKUP_POSTGRES)
            .replace("@> $2", "@> keys")
            .replace("= $1", "= clinic")
            .replace("LIKE $3", "LIKE pattern");
        assert_eq!(words(body), named);
    }

    #[test]
    fn a_long_query_asks_for_at_most_the_cap() {
        let query: String = (0..200u32)
            .map(|i| char::from(b'a' + ((i * i * i + 7 * i * i + 3 * i) / 3 % 26) as u8))
            .collect();
        let keys = trigrams(&query);
        assert_eq!(keys.len(), MAX_QUERY_TRIGRAMS);
        let windows: Vec<String> = query
            .as_bytes()
            .windows(3)
            .map(|w| String::from_utf8(w.to_vec()).unwrap())
            .collect();
        assert!(keys.iter().all(|k| windows.contains(k)), "{keys:?}");
    }
}
