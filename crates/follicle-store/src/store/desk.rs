//! Keeping the clients right (issue 14, item 6): the likely duplicates of a client about to be
//! created or changed, and the merge of two records of one person into one.
//!
//! A likely duplicate is a client of the same clinic with the same email, the same phone
//! number (compared by its digits: "+44 20 7946-0000" and "+44 (20) 79460000" are one number)
//! or the same name (ignoring case) and date of birth. The front desk is warned and may still
//! create the client: two people can share a family phone.
//!
//! A merge moves every record of the second client to the first in one transaction —
//! consultations and designs (numbered after the first client's own versions), appointments,
//! session logs, consents and signed consents (with their withdrawals), photos, messages sent
//! and to send — fills the first client's empty contact fields from the second, keeps an
//! opt-out of either, deletes the second client and writes what moved to both clients' audit
//! trails. The second client's calendar feed, portal links and portal sessions go (they named a
//! client who no longer exists). Only the owner merges: a merge removes a
//! client's record, as a deletion does, and moves health records the front desk may not see.
//! A client of another clinic is not found, as everywhere.

use time::Date;
use uuid::Uuid;

use super::records::{ClientRow, client_from_row, for_role};
use super::{Store, audit_insert, on_db};
use crate::auth::Actor;
use crate::error::{StoreError, StoreResult};
use crate::model::{AuditAction, Client, NewClient};
use crate::role::Action;
use crate::validate;

/// A client who may be the same person as one being created or changed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LikelyDuplicate {
    /// The other client's record.
    pub client: Client,
    /// What they share: `email`, `phone`, `name and date of birth`.
    pub same: Vec<&'static str>,
}

/// What a merge moved from the merged client to the one kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeReport {
    /// The client kept, after the merge.
    pub kept: Option<Client>,
    /// Rows moved, by table, in a fixed order (tables with none are left out).
    pub moved: Vec<(&'static str, u64)>,
}

impl MergeReport {
    /// "2 consultations, 3 appointments" (or "no records").
    pub fn summary(&self) -> String {
        if self.moved.is_empty() {
            return "no records".to_owned();
        }
        self.moved
            .iter()
            .map(|(table, n)| format!("{n} {}", table.replace('_', " ")))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The tables whose rows belong to a client and move with a merge, children after parents is
/// not needed (a move keeps every link), in the order the report lists them.
const MOVED: [&str; 13] = [
    "consultations",
    "designs",
    "appointments",
    "session_logs",
    "consents",
    "signed_consents",
    "intakes",
    "move_requests",
    "photos",
    "messages",
    "jobs",
    "booking_requests",
    "payments",
];

/// The digits of a stored phone number, in SQL (both backends): the separators
/// [`validate::phone`] allows, removed.
macro_rules! phone_digits_sql {
    () => {
        "REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(phone, ' ', ''), '-', ''), '.', ''), '/', ''), '(', ''), ')', ''), '+', '')"
    };
}
pub(super) use phone_digits_sql;

/// A clinic's likely duplicates of a client's details (not the client `$2` itself): the same
/// email or phone digits, or the same date of birth (the name is compared afterwards, in Rust:
/// SQLite's `LOWER` knows only ASCII, and "Ólafsson" is "ólafsson").
const LIKELY_DUPLICATES: &str = concat!(
    "SELECT id, name, date_of_birth, age_years, phone, email, notes, created_at, updated_at FROM clients ",
    "WHERE clinic_id = $1 AND id <> $2 AND (",
    "($3 <> '' AND email = $3) OR ($4 <> '' AND ",
    phone_digits_sql!(),
    " = $4) OR date_of_birth = $5",
    ") ORDER BY name, id LIMIT 200"
);

/// At most this many likely duplicates are named.
const MAX_DUPLICATES: usize = 20;

impl Store {
    /// The clients of the actor's clinic who may be the person described by `client` (checked
    /// as a new client is): same email, same phone number's digits, or same name and date of
    /// birth. `except` leaves out the client being changed. At most 20, by name.
    pub async fn likely_duplicates(
        &self,
        actor: &Actor,
        client: &NewClient,
        except: Option<Uuid>,
    ) -> StoreResult<Vec<LikelyDuplicate>> {
        actor.require(Action::ViewClients)?;
        let c = super::records::check_client(client)?;
        let digits = validate::phone_digits(&c.phone);
        let rows: Vec<ClientRow> = on_db!(self, pool => {
            sqlx::query_as(LIKELY_DUPLICATES)
                .bind(actor.clinic_id).bind(except.unwrap_or(Uuid::nil())).bind(&c.email).bind(&digits)
                .bind(c.date_of_birth)
                .fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|row| {
                let other = for_role(actor, client_from_row(row));
                let mut same = Vec::new();
                if !c.email.is_empty() && other.email == c.email {
                    same.push("email");
                }
                if !digits.is_empty() && validate::phone_digits(&other.phone) == digits {
                    same.push("phone");
                }
                if c.date_of_birth.is_some()
                    && other.date_of_birth == c.date_of_birth
                    && other.name.to_lowercase() == c.name.to_lowercase()
                {
                    same.push("name and date of birth");
                }
                LikelyDuplicate { client: other, same }
            })
            .filter(|d| !d.same.is_empty())
            .take(MAX_DUPLICATES)
            .collect())
    }

    /// Merges client `merged` into client `kept` (see the module): every record of `merged`
    /// moves to `kept` in one transaction, `merged` is deleted, both trails say what moved.
    /// The owner's; a client of another clinic is not found; a client merged into itself, or
    /// one whose erasure was asked for, is refused.
    pub async fn merge_clients(&self, actor: &Actor, kept: Uuid, merged: Uuid) -> StoreResult<MergeReport> {
        actor.require(Action::DeleteClients)?;
        if kept == merged {
            return Err(StoreError::invalid(
                "merge_id",
                format!("a client cannot be merged into itself (both are {kept}); choose the other record"),
            ));
        }
        type Facts = (
            Uuid,
            String,
            Option<Date>,
            Option<i64>,
            String,
            String,
            String,
            bool,
        );
        let read = concat!(
            "SELECT id, name, date_of_birth, age_years, phone, email, notes, erasure_requested_at IS NOT NULL ",
            "FROM clients WHERE clinic_id = $1 AND id = $2"
        );
        let mut moved = Vec::new();
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            // A write to the kept client first: a row lock on PostgreSQL, the write lock on
            // SQLite, so two merges into one client run one after the other.
            sqlx::query("UPDATE clients SET updated_at = updated_at WHERE clinic_id = $1 AND id = $2")
                .bind(actor.clinic_id).bind(kept).execute(&mut *tx).await?;
            let keep: Option<Facts> = sqlx::query_as(read)
                .bind(actor.clinic_id).bind(kept).fetch_optional(&mut *tx).await?;
            let gone: Option<Facts> = sqlx::query_as(read)
                .bind(actor.clinic_id).bind(merged).fetch_optional(&mut *tx).await?;
            let (Some(keep), Some(gone)) = (keep, gone) else {
                tx.rollback().await?;
                return Err(StoreError::not_found("client"));
            };
            if keep.7 || gone.7 {
                tx.rollback().await?;
                return Err(StoreError::Conflict {
                    message: format!(
                        "the erasure of {} was asked for: what the law holds of that record stays as it is and is not merged",
                        if keep.7 { &keep.1 } else { &gone.1 }
                    ),
                });
            }
            // Versions of the merged client's consultations and designs follow the kept one's.
            for table in ["consultations", "designs"] {
                let (after,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT COALESCE(MAX(version), 0) FROM {table} WHERE clinic_id = $1 AND client_id = $2"
                )))
                .bind(actor.clinic_id).bind(kept).fetch_one(&mut *tx).await?;
                let n = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE {table} SET client_id = $1, version = version + $2 WHERE clinic_id = $3 AND client_id = $4"
                )))
                .bind(kept).bind(after).bind(actor.clinic_id).bind(merged)
                .execute(&mut *tx).await?.rows_affected();
                moved.push((table, n));
            }
            for table in &MOVED[2..] {
                let n = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE {table} SET client_id = $1 WHERE clinic_id = $2 AND client_id = $3"
                )))
                .bind(kept).bind(actor.clinic_id).bind(merged)
                .execute(&mut *tx).await?.rows_affected();
                moved.push((*table, n));
            }
            // The merged client's secret ways in (calendar feed, portal links and sessions) end
            // with the record they named.
            for table in ["calendar_feeds", "portal_links", "portal_sessions"] {
                sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE clinic_id = $1 AND client_id = $2")))
                    .bind(actor.clinic_id).bind(merged).execute(&mut *tx).await?;
            }
            // The kept record's empty contact fields from the merged one; notes together; an
            // opt-out of either stays.
            let pick = |mine: &str, theirs: &str| if mine.is_empty() { theirs.to_owned() } else { mine.to_owned() };
            let phone = pick(&keep.4, &gone.4);
            let email = pick(&keep.5, &gone.5);
            let notes = match (keep.6.trim().is_empty(), gone.6.trim().is_empty()) {
                (_, true) => keep.6.clone(),
                (true, false) => gone.6.clone(),
                (false, false) => format!("{}\n\n(From the merged record of {}:)\n{}", keep.6, gone.1, gone.6),
            };
            let search_text = validate::client_search_text(&keep.1, &phone, &email);
            sqlx::query(
                "UPDATE clients SET phone = $1, email = $2, date_of_birth = COALESCE(date_of_birth, $3), \
                 age_years = COALESCE(age_years, $4), notes = $5, search_text = $6, updated_at = $7, \
                 email_opt_out_at = COALESCE(email_opt_out_at, (SELECT m.email_opt_out_at FROM clients m WHERE m.clinic_id = $8 AND m.id = $10)), \
                 sms_opt_out_at = COALESCE(sms_opt_out_at, (SELECT m.sms_opt_out_at FROM clients m WHERE m.clinic_id = $8 AND m.id = $10)) \
                 WHERE clinic_id = $8 AND id = $9",
            )
            .bind(&phone).bind(&email).bind(gone.2).bind(gone.3).bind(&notes).bind(&search_text).bind(super::now())
            .bind(actor.clinic_id).bind(kept).bind(merged)
            .execute(&mut *tx).await?;
            sqlx::query("DELETE FROM clients WHERE clinic_id = $1 AND id = $2")
                .bind(actor.clinic_id).bind(merged).execute(&mut *tx).await?;
            moved.retain(|(_, n)| *n > 0);
            let report = MergeReport { kept: None, moved: moved.clone() };
            let summary = report.summary();
            audit_insert!(actor, Some(kept), AuditAction::Changed,
                format!("merged client {merged} ({}) into this record: {summary} moved", gone.1))
                .execute(&mut *tx).await?;
            audit_insert!(actor, Some(merged), AuditAction::Deleted,
                format!("merged into client {kept} ({}): {summary} moved", keep.1))
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        let kept = self.fetch_client(actor, kept).await?;
        Ok(MergeReport {
            kept: Some(kept),
            moved,
        })
    }
}
