//! What the Today page reads besides the diary's window (issue 16): the clients whose last
//! completed session fell in a window (the touch-ups falling due), the clients changed most
//! recently, and the names of the clients on the page. Each reads an index over its window or
//! its few ids, not the clinic's history.

use std::collections::HashMap;

use time::OffsetDateTime;
use uuid::Uuid;

use super::records::{ClientRow, MAX_LIST, client_from_row, for_role};
use super::{Store, on_db};
use crate::auth::Actor;
use crate::error::StoreResult;
use crate::model::{AuditAction, Client};
use crate::role::Action;
use crate::validate;

/// Clients whose last completed appointment started in `[$2, $3)`: the window by
/// `appointments_clinic_start`, "no later one" by `appointments_client`. (The later one is
/// looked for by client only: a client's appointments are all the clinic's, and a clinic
/// condition there once led PostgreSQL to intersect every row of the clinic for each client.)
pub(crate) const LAST_COMPLETED: &str = "SELECT a.client_id, a.starts_at FROM appointments a \
     WHERE a.clinic_id = $1 AND a.status = 'completed' AND a.starts_at >= $2 AND a.starts_at < $3 \
     AND NOT EXISTS (SELECT 1 FROM appointments later WHERE later.client_id = a.client_id \
       AND later.status = 'completed' AND later.starts_at > a.starts_at) \
     ORDER BY a.starts_at, a.client_id LIMIT $4";

/// The clients changed most recently: `clients_clinic_updated`.
pub(crate) const RECENT_CLIENTS: &str = "SELECT id, name, date_of_birth, age_years, phone, email, notes, created_at, updated_at \
     FROM clients WHERE clinic_id = $1 ORDER BY updated_at DESC, id DESC LIMIT $2";

impl Store {
    /// The clients whose last completed appointment started in `[from, to)`, with its start,
    /// oldest first, at most 500 (a client with a later completed one is not listed).
    pub async fn last_completed_between(
        &self,
        actor: &Actor,
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<(Uuid, OffsetDateTime)>> {
        actor.require(Action::ManageAppointments)?;
        let from = validate::moment("from", from)?;
        let to = validate::moment("to", to)?;
        let rows: Vec<(Uuid, OffsetDateTime)> = on_db!(self, pool => {
            sqlx::query_as(LAST_COMPLETED)
                .bind(actor.clinic_id).bind(from).bind(to).bind(MAX_LIST).fetch_all(pool).await?
        });
        let detail = format!(
            "last sessions {} to {}, {} clients",
            from.date(),
            to.date(),
            rows.len()
        );
        self.audit(actor, None, AuditAction::DiaryRead, &detail).await?;
        Ok(rows)
    }

    /// The `limit` (1–500) clients changed most recently, latest first.
    pub async fn recent_clients(&self, actor: &Actor, limit: i64) -> StoreResult<Vec<Client>> {
        actor.require(Action::ViewClients)?;
        let limit = validate::int_range("limit", limit, 1, MAX_LIST)?;
        let rows: Vec<ClientRow> = on_db!(self, pool => {
            sqlx::query_as(RECENT_CLIENTS).bind(actor.clinic_id).bind(limit).fetch_all(pool).await?
        });
        let detail = format!("recent clients, {} listed", rows.len());
        self.audit(actor, None, AuditAction::Searched, &detail).await?;
        Ok(rows
            .into_iter()
            .map(|r| for_role(actor, client_from_row(r)))
            .collect())
    }

    /// The names of these clients of the clinic (at most 500 ids; others are left out), each
    /// found by its id.
    pub async fn client_names(&self, actor: &Actor, ids: &[Uuid]) -> StoreResult<HashMap<Uuid, String>> {
        actor.require(Action::ViewClients)?;
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        ids.truncate(MAX_LIST as usize);
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        macro_rules! names_on {
            ($pool:expr) => {{
                let mut query = sqlx::QueryBuilder::new("SELECT id, name FROM clients WHERE clinic_id = ");
                query.push_bind(actor.clinic_id).push(" AND id IN (");
                let mut list = query.separated(", ");
                for id in &ids {
                    list.push_bind(*id);
                }
                query.push(")");
                let rows: Vec<(Uuid, String)> = query.build_query_as().fetch_all($pool).await?;
                rows
            }};
        }
        let rows = match &self.db {
            super::Db::Sqlite(pool) => names_on!(pool),
            super::Db::Postgres(pool) => names_on!(pool),
        };
        let detail = format!("names of {} clients", rows.len());
        self.audit(actor, None, AuditAction::Searched, &detail).await?;
        Ok(rows.into_iter().collect())
    }
}
