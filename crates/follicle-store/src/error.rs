//! The one error type of the store, [`StoreError`], and where each variant comes from.
//!
//! A web layer maps them to statuses: `NotFound` → 404, `Conflict` → 409, `Invalid` → 422
//! (show `field` and `message` to the user), `Forbidden` → 403, `Unauthenticated` → 401,
//! `RateLimited` → 429 with `retry_after_seconds`, `Busy` → 503 with it, `SecondFactorRequired` → ask
//! for the code, `EnrolmentRequired` → 403, `Photo` → 422, and `Database`, `Blob`,
//! `Internal` → 500 (log the cause, show a generic message).

use crate::photo::PhotoError;

/// A `Result` whose error is a [`StoreError`].
pub type StoreResult<T> = Result<T, StoreError>;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No such record in the acting user's clinic. A record of another clinic is not found
    /// either: the store never tells a foreign id from an unknown one.
    #[error("{what} not found")]
    NotFound {
        /// The kind of record: `client`, `consultation`, `batch`, …
        what: &'static str,
    },
    /// The write clashes with what is stored (a taken email, a lot already recorded for a
    /// product, a client that still has records).
    #[error("conflict: {message}")]
    Conflict {
        /// What clashed, in words for the user.
        message: String,
    },
    /// Input that cannot be stored: the field and what is allowed.
    #[error("{field}: {message}")]
    Invalid {
        /// The field, as named in the input type (`email`, `session.depth_mm`, …).
        field: &'static str,
        /// What was wrong and what is allowed.
        message: String,
    },
    /// The acting user's role does not allow this action.
    #[error("forbidden: a {role} may not {action}")]
    Forbidden {
        /// The acting user's role.
        role: crate::Role,
        /// The action refused.
        action: crate::Action,
    },
    /// Wrong email or password, or an unknown, expired or revoked session token.
    #[error("not signed in: wrong email or password, or the session has ended")]
    Unauthenticated,
    /// Too many sign-in attempts for this account, from this address, or in all: the next
    /// one is checked after `retry_after_seconds` (a growing delay, see [`crate::SigninLimits`]).
    #[error("too many login attempts; try again in {retry_after_seconds} s")]
    RateLimited {
        /// Seconds until the next attempt is checked.
        retry_after_seconds: i64,
    },
    /// Too much of one kind of work is running and waiting (password checks, or sign-ins
    /// from everywhere together): try again soon. A web layer answers 503 with `Retry-After`.
    #[error("the server is busy; try again in {retry_after_seconds} s")]
    Busy {
        /// A hint for `Retry-After`.
        retry_after_seconds: i64,
    },
    /// The password was right and the account has two-factor sign-in: send a code from the
    /// authenticator app (or a recovery code) with this challenge to
    /// [`Store::complete_sign_in`](crate::Store::complete_sign_in). No session is open yet.
    #[error("second factor required")]
    SecondFactorRequired {
        /// The challenge (secret, single use, valid a few minutes).
        challenge: String,
    },
    /// The clinic requires two-factor sign-in and this user has not set it up yet: only their
    /// own account (enrolment, password, sessions) is open to them.
    #[error("your clinic requires two-factor sign-in: set it up on your account page first")]
    EnrolmentRequired,
    /// A photo that cannot be accepted (format, size, pixels, damaged file).
    #[error(transparent)]
    Photo(#[from] PhotoError),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// Running the migrations failed.
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The photo blob store failed.
    #[error("blob store error: {0}")]
    Blob(#[from] object_store::Error),
    /// Something that should not happen (a worker thread died, a stored value is corrupt).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<crate::limit::Busy> for StoreError {
    fn from(busy: crate::limit::Busy) -> StoreError {
        StoreError::Busy {
            retry_after_seconds: busy.retry_after_seconds,
        }
    }
}

impl StoreError {
    /// Shorthand for [`StoreError::Invalid`].
    pub fn invalid(field: &'static str, message: impl Into<String>) -> StoreError {
        StoreError::Invalid {
            field,
            message: message.into(),
        }
    }

    pub(crate) fn not_found(what: &'static str) -> StoreError {
        StoreError::NotFound { what }
    }
}

impl From<sqlx::Error> for StoreError {
    /// Unique-key violations become [`StoreError::Conflict`], foreign-key violations
    /// [`StoreError::NotFound`] (a reference to a record that is not there, or not in this
    /// clinic), a missing row `NotFound`; everything else stays a database error.
    fn from(error: sqlx::Error) -> StoreError {
        match &error {
            sqlx::Error::RowNotFound => StoreError::not_found("record"),
            sqlx::Error::Database(db) => match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => StoreError::Conflict {
                    message: unique_violation_message(db.as_ref()),
                },
                sqlx::error::ErrorKind::ForeignKeyViolation => StoreError::not_found("referenced record"),
                _ => StoreError::Database(error),
            },
            _ => StoreError::Database(error),
        }
    }
}

/// Words for a unique-key violation that no explicit check of the store caught first: which
/// record and which of its values are taken ("a client already has this email"), read from
/// the database's own report (SQLite's message, PostgreSQL's detail), the clinic left out (every
/// key starts with it). The values themselves are not repeated.
fn unique_violation_message(db: &dyn sqlx::error::DatabaseError) -> String {
    let detail = db
        .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
        .and_then(|pg| pg.detail())
        .unwrap_or_else(|| db.message());
    describe_unique(db.table(), detail)
}

/// See [`unique_violation_message`]: `table` is the table when the database names it, `text`
/// SQLite's "UNIQUE constraint failed: t.a, t.b" or PostgreSQL's "Key (a, b)=(…) already exists.".
fn describe_unique(table: Option<&str>, text: &str) -> String {
    let mut table = table.map(str::to_owned);
    let mut columns: Vec<String> = Vec::new();
    if let Some(rest) = text.strip_prefix("UNIQUE constraint failed: ") {
        for qualified in rest.split(',').map(str::trim) {
            let (t, column) = qualified.split_once('.').unwrap_or(("", qualified));
            if table.is_none() && !t.is_empty() {
                table = Some(t.to_owned());
            }
            columns.push(column.to_owned());
        }
    } else if let Some((names, _)) = text.strip_prefix("Key (").and_then(|rest| rest.split_once(")=")) {
        columns = names.split(',').map(|c| c.trim().to_owned()).collect();
    }
    columns.retain(|c| c != "clinic_id" && !c.is_empty());
    let record = table
        .map(|t| record_name(&t))
        .unwrap_or_else(|| "record".to_owned());
    if columns.is_empty() {
        return format!("a {record} with these values already exists");
    }
    format!(
        "a {record} already has this {}",
        columns.join(" and ").replace('_', " ")
    )
}

/// A table's name as one record of it: `pigment_batches` → "pigment batch", `clients` → "client".
fn record_name(table: &str) -> String {
    let words = table.replace('_', " ");
    let singular = words
        .strip_suffix("es")
        .filter(|stem| stem.ends_with("ch") || stem.ends_with("sh"))
        .or_else(|| words.strip_suffix('s'))
        .unwrap_or(&words);
    singular.to_owned()
}

#[cfg(test)]
mod tests {
    use super::describe_unique;

    #[test]
    fn a_unique_violation_names_the_record_and_the_taken_value() {
        assert_eq!(
            describe_unique(None, "UNIQUE constraint failed: users.clinic_id, users.email"),
            "a user already has this email"
        );
        assert_eq!(
            describe_unique(
                Some("pigment_batches"),
                "Key (clinic_id, product_id, lot)=(0a1b…, 2c3d…, LOT-7) already exists."
            ),
            "a pigment batch already has this product id and lot"
        );
        assert_eq!(
            describe_unique(Some("clients"), "Key (id)=(5e…) already exists."),
            "a client already has this id"
        );
        // Nothing to read: still a sentence, naming the record when it is known.
        assert_eq!(
            describe_unique(Some("quote_numbers"), "duplicate key value"),
            "a quote number with these values already exists"
        );
        assert_eq!(
            describe_unique(None, ""),
            "a record with these values already exists"
        );
    }
}
