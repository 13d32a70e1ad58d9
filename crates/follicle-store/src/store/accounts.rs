//! Accounts: two-factor sign-in (RFC 6238 codes and recovery codes), passwords (change, an
//! emailed single-use reset link, an owner's reset of a colleague), one's own sessions, the
//! clinic's account rules, and the clinic-wide audit log.
//!
//! **Nothing tells who has an account.** A reset asked for an unknown email answers exactly as
//! one for a known email (the store hands the caller links to mail, which the caller sends
//! after answering); an email is unique per clinic, so adding a user never meets another
//! clinic's account.
//!
//! **Secrets are kept as digests where they can be.** Reset tokens, sign-in challenges and
//! recovery codes are 80 to 256 random bits, and only their SHA-256 is stored. The TOTP secret
//! itself must be readable to check a code: it is stored as it is, like the password hashes'
//! salts (a copy of the database would let its holder make codes; keep backups as private as
//! the database).

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{AuditRow, Store, audit_from_row, audit_insert, now, on_db, rate_key};
use crate::auth::{self, Actor, LoginSession};
use crate::error::{StoreError, StoreResult};
use crate::model::{
    AccountRules, AuditAction, AuditFilter, AuditPage, ResetMail, SessionInfo, TotpEnrolment,
};
use crate::role::{Action, Role};
use crate::{totp, validate};

/// How long a sign-in waits for its second factor.
const CHALLENGE_TTL: Duration = Duration::minutes(5);
/// Codes tried against one challenge before it is spent (a fresh one needs the password
/// again): 5 tries of 3 accepted codes in a million.
const CHALLENGE_ATTEMPTS: i64 = 5;
/// How long an emailed reset link works: an hour (OWASP's Forgot Password Cheat Sheet asks
/// for a short life; an hour covers a slow mail).
pub(crate) const RESET_TTL: Duration = Duration::hours(1);
/// Unused links an account may have at once; more requests send nothing (quietly).
const RESETS_OUTSTANDING: i64 = 3;
/// Recovery codes made at a time.
pub(crate) const RECOVERY_CODES: usize = 10;
/// The most entries a page of the audit log holds.
const MAX_AUDIT_PAGE: i64 = 500;

/// A page of the clinic's audit log, newest first: index `audit_log_clinic` (or
/// `audit_log_client` for one client's rows). A hot query (issue 16).
pub(crate) const AUDIT_TRAIL: &str = "SELECT id, user_id, client_id, action, detail, at, ip, session FROM audit_log \
     WHERE clinic_id = $1 AND ($2 IS NULL OR user_id = $2) AND ($3 IS NULL OR client_id = $3) \
     AND ($4 IS NULL OR action = $4) AND ($5 IS NULL OR at >= $5) AND ($6 IS NULL OR at < $6) \
     AND ($7 IS NULL OR id < $7) ORDER BY id DESC LIMIT $8";

/// The same for one client's rows (`$3`): index `audit_log_client`. A query of its own, since
/// `($3 IS NULL OR client_id = $3)` would let no index serve the client.
pub(crate) const AUDIT_TRAIL_OF_CLIENT: &str = "SELECT id, user_id, client_id, action, detail, at, ip, session FROM audit_log \
     WHERE clinic_id = $1 AND ($2 IS NULL OR user_id = $2) AND client_id = $3 \
     AND ($4 IS NULL OR action = $4) AND ($5 IS NULL OR at >= $5) AND ($6 IS NULL OR at < $6) \
     AND ($7 IS NULL OR id < $7) ORDER BY id DESC LIMIT $8";

/// The same on SQLite, whose rows are filed by client (`store::filing`): the client's rows by
/// id (filed, then written since the last filing), the filters on each.
pub(crate) const AUDIT_TRAIL_OF_CLIENT_SQLITE: &str = concat!(
    "SELECT id, user_id, client_id, action, detail, at, ip, session FROM audit_log WHERE id IN (",
    super::filing::client_audit_ids!("$3"),
    ") AND clinic_id = $1 AND ($2 IS NULL OR user_id = $2) AND client_id = $3 \
     AND ($4 IS NULL OR action = $4) AND ($5 IS NULL OR at >= $5) AND ($6 IS NULL OR at < $6) \
     AND ($7 IS NULL OR id < $7) ORDER BY id DESC LIMIT $8"
);

/// At most this many audit rows are deleted in one statement by the retention purge.
const AUDIT_PURGE_BATCH: i64 = 10_000;

impl Store {
    pub(crate) async fn has_second_factor(&self, user_id: Uuid) -> StoreResult<bool> {
        let row: Option<(bool,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT totp_secret IS NOT NULL FROM users WHERE id = $1")
                .bind(user_id).fetch_optional(pool).await?
        });
        Ok(row.is_some_and(|r| r.0))
    }

    /// A sign-in whose password was right, waiting for its code: the challenge's secret.
    pub(crate) async fn open_challenge(
        &self,
        actor: &Actor,
        ip: &str,
        now: OffsetDateTime,
    ) -> StoreResult<String> {
        let token = auth::hex(&totp::random_bytes::<32>()?);
        let now = validate::moment("now", now)?;
        on_db!(self, pool => {
            sqlx::query("INSERT INTO login_challenges (token_sha256, user_id, ip, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&auth::token_sha256(&token)[..]).bind(actor.user_id).bind(rate_key(ip)).bind(now).bind(now + CHALLENGE_TTL)
                .execute(pool).await?;
        });
        Ok(token)
    }

    /// The second step of a sign-in with two factors: the challenge from
    /// [`StoreError::SecondFactorRequired`] and a code from the authenticator app (each code
    /// works once) or a recovery code (each works once). A wrong code is
    /// [`StoreError::Unauthenticated`] and audited; after five the challenge is spent and the
    /// password is asked again.
    pub async fn complete_sign_in(
        &self,
        challenge: &str,
        code: &str,
        ip: &str,
        user_agent: &str,
        now: OffsetDateTime,
    ) -> StoreResult<LoginSession> {
        if challenge.len() != 64 || code.len() > 64 {
            return Err(StoreError::Unauthenticated);
        }
        let now = validate::moment("now", now)?;
        let digest = auth::token_sha256(challenge);
        // The try is counted before the code is checked, so parallel guesses cannot pass the cap.
        let row: Option<(Uuid,)> = on_db!(self, pool => {
            sqlx::query_as(
                "UPDATE login_challenges SET attempts = attempts + 1 \
                 WHERE token_sha256 = $1 AND used_at IS NULL AND expires_at > $2 AND attempts < $3 RETURNING user_id",
            )
            .bind(&digest[..]).bind(now).bind(CHALLENGE_ATTEMPTS).fetch_optional(pool).await?
        });
        let Some((user_id,)) = row else {
            return Err(StoreError::Unauthenticated);
        };
        let user: Option<(Uuid, String, bool, Option<String>, i64)> = on_db!(self, pool => {
            sqlx::query_as("SELECT clinic_id, role, active, totp_secret, totp_last_step FROM users WHERE id = $1")
                .bind(user_id).fetch_optional(pool).await?
        });
        let Some((clinic_id, role, true, Some(secret), last_step)) = user else {
            return Err(StoreError::Unauthenticated);
        };
        let actor = Actor::new(user_id, clinic_id, Role::parse(&role)?).at_address(ip);
        let how = if let Some(step) = totp::verify(&secret, code, now.unix_timestamp(), last_step) {
            // Taken once: a second sign-in with the same code in the same half-minute fails.
            let taken = on_db!(self, pool => {
                sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1")
                    .bind(step).bind(user_id).execute(pool).await?.rows_affected()
            });
            (taken == 1).then_some("password and authenticator code")
        } else {
            let normalised = totp::normalise_recovery_code(code);
            let used = on_db!(self, pool => {
                sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_sha256 = $3 AND used_at IS NULL")
                    .bind(now).bind(user_id).bind(&auth::token_sha256(&normalised)[..]).execute(pool).await?.rows_affected()
            });
            (used == 1).then_some("password and recovery code")
        };
        let Some(how) = how else {
            self.audit(
                &actor,
                None,
                AuditAction::SignInFailed,
                "wrong second-factor code",
            )
            .await?;
            return Err(StoreError::Unauthenticated);
        };
        on_db!(self, pool => {
            sqlx::query("UPDATE login_challenges SET used_at = $1 WHERE token_sha256 = $2")
                .bind(now).bind(&digest[..]).execute(pool).await?;
        });
        let session = self.open_session_from(actor, now, ip, user_agent).await?;
        self.audit(&session.actor, None, AuditAction::SignedIn, how)
            .await?;
        Ok(session)
    }

    // ----- two-factor enrolment -----

    /// Starts setting up two-factor sign-in: a new secret for the user's authenticator app
    /// (show it and its QR code). Nothing changes until [`Store::confirm_totp`].
    pub async fn begin_totp(&self, actor: &Actor) -> StoreResult<TotpEnrolment> {
        let secret = totp::new_secret()?;
        let user = self.user(actor, actor.user_id).await?;
        let clinic = self.clinic(actor).await?;
        on_db!(self, pool => {
            sqlx::query("UPDATE users SET totp_pending_secret = $1 WHERE id = $2")
                .bind(&secret).bind(actor.user_id).execute(pool).await?;
        });
        let issuer = format!("Follicle ({})", clinic.name);
        Ok(TotpEnrolment {
            otpauth_url: totp::otpauth_url(&issuer, &user.email, &secret),
            secret,
        })
    }

    /// Turns two-factor sign-in on with the first code from the app, and gives the recovery
    /// codes (shown once; only their digests are kept).
    pub async fn confirm_totp(
        &self,
        actor: &Actor,
        code: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<String>> {
        let row: Option<(Option<String>,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT totp_pending_secret FROM users WHERE id = $1")
                .bind(actor.user_id).fetch_optional(pool).await?
        });
        let Some(secret) = row.and_then(|r| r.0) else {
            return Err(StoreError::invalid(
                "code",
                "start setting up two-factor sign-in first",
            ));
        };
        let Some(step) = totp::verify(&secret, code, now.unix_timestamp(), 0) else {
            return Err(StoreError::invalid(
                "code",
                "that is not the code the app shows now: type the 6 digits it shows (check the phone's clock)",
            ));
        };
        let codes = self.store_recovery_codes(actor, Some((&secret, step))).await?;
        Ok(codes)
    }

    /// New recovery codes, replacing the old ones (two-factor must be on).
    pub async fn regenerate_recovery_codes(&self, actor: &Actor) -> StoreResult<Vec<String>> {
        if !self.has_second_factor(actor.user_id).await? {
            return Err(StoreError::invalid(
                "two_factor",
                "turn on two-factor sign-in first",
            ));
        }
        self.store_recovery_codes(actor, None).await
    }

    async fn store_recovery_codes(
        &self,
        actor: &Actor,
        enable: Option<(&str, i64)>,
    ) -> StoreResult<Vec<String>> {
        let codes = (0..RECOVERY_CODES)
            .map(|_| totp::new_recovery_code())
            .collect::<StoreResult<Vec<_>>>()?;
        let detail = if enable.is_some() {
            "turned on"
        } else {
            "new recovery codes"
        };
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            if let Some((secret, step)) = enable {
                sqlx::query("UPDATE users SET totp_secret = $1, totp_pending_secret = NULL, totp_last_step = $2 WHERE id = $3")
                    .bind(secret).bind(step).bind(actor.user_id).execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(actor.user_id).execute(&mut *tx).await?;
            for code in &codes {
                sqlx::query("INSERT INTO recovery_codes (user_id, code_sha256) VALUES ($1, $2)")
                    .bind(actor.user_id).bind(&auth::token_sha256(&totp::normalise_recovery_code(code))[..])
                    .execute(&mut *tx).await?;
            }
            audit_insert!(actor, None::<Uuid>, AuditAction::SecondFactor, detail).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        self.sessions.forget_user(actor.user_id);
        Ok(codes)
    }

    /// Turns two-factor sign-in off (the password is asked again). Refused while the clinic
    /// requires it.
    pub async fn disable_totp(&self, actor: &Actor, password: &str) -> StoreResult<()> {
        self.check_own_password(actor, password, "password").await?;
        if self.account_rules(actor).await?.require_mfa {
            return Err(StoreError::Conflict {
                message: "your clinic requires two-factor sign-in, so it stays on".to_owned(),
            });
        }
        self.clear_second_factor(actor, actor.user_id, "turned off").await
    }

    async fn clear_second_factor(&self, actor: &Actor, user_id: Uuid, detail: &str) -> StoreResult<()> {
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            sqlx::query("UPDATE users SET totp_secret = NULL, totp_pending_secret = NULL WHERE clinic_id = $1 AND id = $2")
                .bind(actor.clinic_id).bind(user_id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            audit_insert!(actor, None::<Uuid>, AuditAction::SecondFactor, detail).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        self.sessions.forget_user(user_id);
        Ok(())
    }

    /// Recovery codes not yet used.
    pub async fn recovery_codes_left(&self, actor: &Actor) -> StoreResult<i64> {
        let row: (i64,) = on_db!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
                .bind(actor.user_id).fetch_one(pool).await?
        });
        Ok(row.0)
    }

    // ----- passwords -----

    async fn check_own_password(
        &self,
        actor: &Actor,
        password: &str,
        field: &'static str,
    ) -> StoreResult<()> {
        let row: Option<(String,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT password_hash FROM users WHERE clinic_id = $1 AND id = $2")
                .bind(actor.clinic_id).bind(actor.user_id).fetch_optional(pool).await?
        });
        let ok = password.len() <= crate::password::MAX_BYTES
            && auth::verify_password(password.to_owned(), row.map(|r| r.0)).await?;
        if ok {
            Ok(())
        } else {
            Err(StoreError::invalid(field, "this is not your current password"))
        }
    }

    /// Changes the acting user's password: the current one is checked, the new one must meet
    /// [`password::check`](crate::password::check). Every other session of theirs ends.
    pub async fn change_password(&self, actor: &Actor, current: &str, new: &str) -> StoreResult<()> {
        self.check_own_password(actor, current, "current_password")
            .await?;
        let user = self.user(actor, actor.user_id).await?;
        crate::password::check(new, &[&user.email, &user.name])
            .map_err(|e| rename_field(e, "new_password"))?;
        if current == new {
            return Err(StoreError::invalid(
                "new_password",
                "choose a password different from the current one",
            ));
        }
        let hash = auth::hash_password(new.to_owned()).await?;
        let keep = actor.session_id();
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
                .bind(&hash).bind(now()).bind(actor.user_id).execute(&mut *tx).await?;
            audit_insert!(actor, None::<Uuid>, AuditAction::PasswordChanged, "changed by the user").execute(&mut *tx).await?;
            tx.commit().await?;
        });
        self.end_sessions_except(actor.user_id, &keep).await
    }

    async fn end_sessions_except(&self, user_id: Uuid, keep: &str) -> StoreResult<()> {
        let open: Vec<(Vec<u8>,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT token_sha256 FROM login_sessions WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(user_id).fetch_all(pool).await?
        });
        for (digest,) in open {
            if auth::hex(&digest[..digest.len().min(8)]) == keep {
                continue;
            }
            on_db!(self, pool => {
                sqlx::query("UPDATE login_sessions SET revoked_at = $1 WHERE token_sha256 = $2")
                    .bind(now()).bind(&digest[..]).execute(pool).await?;
            });
        }
        self.sessions.forget_user(user_id);
        Ok(())
    }

    /// A forgotten password: reset links for every active account with this email (one per
    /// clinic), to be mailed by the caller. An unknown email gives none, and the caller
    /// answers the same either way. An account with three unused links gets
    /// no more until they expire.
    pub async fn request_password_reset(
        &self,
        email: &str,
        ip: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<ResetMail>> {
        let email = email.trim().to_lowercase();
        if email.len() > 320 || email.contains('\0') {
            return Ok(Vec::new());
        }
        let now = validate::moment("now", now)?;
        let accounts: Vec<(Uuid, Uuid, String, String, String)> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT u.id, u.clinic_id, u.role, u.name, c.name FROM users u JOIN clinics c ON c.id = u.clinic_id \
                 WHERE u.email = $1 AND u.active = $2 ORDER BY u.created_at, u.id LIMIT 4",
            )
            .bind(&email).bind(true).fetch_all(pool).await?
        });
        let mut mails = Vec::new();
        for (user_id, clinic_id, role, name, clinic_name) in accounts {
            let (outstanding,): (i64,) = on_db!(self, pool => {
                sqlx::query_as("SELECT COUNT(*) FROM password_resets WHERE user_id = $1 AND used_at IS NULL AND expires_at > $2")
                    .bind(user_id).bind(now).fetch_one(pool).await?
            });
            if outstanding >= RESETS_OUTSTANDING {
                continue;
            }
            let actor = Actor::new(user_id, clinic_id, Role::parse(&role)?).at_address(ip);
            let (token, expires_at) = self
                .issue_reset(&actor, user_id, now, "reset link requested")
                .await?;
            mails.push(ResetMail {
                to: email.clone(),
                name,
                clinic_name,
                token,
                expires_at,
            });
        }
        Ok(mails)
    }

    async fn issue_reset(
        &self,
        actor: &Actor,
        user_id: Uuid,
        now: OffsetDateTime,
        detail: &str,
    ) -> StoreResult<(String, OffsetDateTime)> {
        let token = auth::hex(&totp::random_bytes::<32>()?);
        let expires_at = now + RESET_TTL;
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            sqlx::query("INSERT INTO password_resets (token_sha256, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                .bind(&auth::token_sha256(&token)[..]).bind(user_id).bind(now).bind(expires_at).execute(&mut *tx).await?;
            audit_insert!(actor, None::<Uuid>, AuditAction::PasswordReset, detail).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok((token, expires_at))
    }

    /// Whether a reset link's token still works (to show the form, or say it has expired).
    pub async fn reset_token_valid(&self, token: &str, now: OffsetDateTime) -> StoreResult<bool> {
        Ok(self.reset_target(token, now).await?.is_some())
    }

    async fn reset_target(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<(Uuid, Uuid, String, String, String)>> {
        if token.len() != 64 {
            return Ok(None);
        }
        let now = validate::moment("now", now)?;
        Ok(on_db!(self, pool => {
            sqlx::query_as(
                "SELECT u.id, u.clinic_id, u.role, u.email, u.name FROM password_resets r JOIN users u ON u.id = r.user_id \
                 WHERE r.token_sha256 = $1 AND r.used_at IS NULL AND r.expires_at > $2 AND u.active = $3",
            )
            .bind(&auth::token_sha256(token)[..]).bind(now).bind(true).fetch_optional(pool).await?
        }))
    }

    /// Sets a new password with a reset link's token: once, before it expires. Every session
    /// of the account ends, and its other links stop working. A new password that fails the
    /// policy leaves the link usable.
    pub async fn reset_password(
        &self,
        token: &str,
        new: &str,
        ip: &str,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        let refused = || {
            StoreError::invalid(
                "token",
                "this reset link has been used or has expired: ask for a new one",
            )
        };
        let (user_id, clinic_id, role, email, name) =
            self.reset_target(token, now).await?.ok_or_else(refused)?;
        crate::password::check(new, &[&email, &name]).map_err(|e| rename_field(e, "new_password"))?;
        let hash = auth::hash_password(new.to_owned()).await?;
        let actor = Actor::new(user_id, clinic_id, Role::parse(&role)?).at_address(ip);
        let now = validate::moment("now", now)?;
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            // Taken atomically: of two uses at once, one wins.
            let taken = sqlx::query("UPDATE password_resets SET used_at = $1 WHERE token_sha256 = $2 AND used_at IS NULL AND expires_at > $1")
                .bind(now).bind(&auth::token_sha256(token)[..]).execute(&mut *tx).await?.rows_affected();
            if taken != 1 {
                return Err(refused());
            }
            sqlx::query("UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL")
                .bind(now).bind(user_id).execute(&mut *tx).await?;
            sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
                .bind(&hash).bind(now).bind(user_id).execute(&mut *tx).await?;
            sqlx::query("UPDATE login_sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                .bind(now).bind(user_id).execute(&mut *tx).await?;
            audit_insert!(actor, None::<Uuid>, AuditAction::PasswordChanged, "set with a reset link").execute(&mut *tx).await?;
            tx.commit().await?;
        });
        self.sessions.forget_user(user_id);
        Ok(())
    }

    /// An owner resets a colleague's password: the old one stops working, their sessions end,
    /// and a reset link is made for the caller to mail them; with `second_factor` their
    /// two-factor sign-in is removed too (a lost phone), to be set up again.
    pub async fn reset_user_password(
        &self,
        actor: &Actor,
        user_id: Uuid,
        second_factor: bool,
        now: OffsetDateTime,
    ) -> StoreResult<ResetMail> {
        actor.require(Action::ManageUsers)?;
        if user_id == actor.user_id {
            return Err(StoreError::invalid(
                "user",
                "change your own password on your account page",
            ));
        }
        let user = self.user(actor, user_id).await?;
        if !user.active {
            return Err(StoreError::invalid(
                "user",
                "this user is deactivated: reactivate them first",
            ));
        }
        let clinic = self.clinic(actor).await?;
        let now = validate::moment("now", now)?;
        // No argon2 hash parses as "!": no password opens the account until the link is used.
        on_db!(self, pool => {
            sqlx::query("UPDATE users SET password_hash = '!' WHERE clinic_id = $1 AND id = $2")
                .bind(actor.clinic_id).bind(user_id).execute(pool).await?;
            sqlx::query("UPDATE login_sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
                .bind(now).bind(user_id).execute(pool).await?;
        });
        self.sessions.forget_user(user_id);
        if second_factor {
            self.clear_second_factor(
                actor,
                user_id,
                &format!("removed from {} by the owner", user.email),
            )
            .await?;
        }
        let detail = format!("password of {} reset by the owner", user.email);
        let (token, expires_at) = self.issue_reset(actor, user_id, now, &detail).await?;
        Ok(ResetMail {
            to: user.email,
            name: user.name,
            clinic_name: clinic.name,
            token,
            expires_at,
        })
    }

    // ----- sessions -----

    /// The acting user's open sessions, the newest first.
    pub async fn list_sessions(&self, actor: &Actor, now: OffsetDateTime) -> StoreResult<Vec<SessionInfo>> {
        let now = validate::moment("now", now)?;
        let rows: Vec<OpenSessionRow> = on_db!(self, pool => {
            sqlx::query_as(
                "SELECT token_sha256, created_at, last_seen_at, expires_at, ip, user_agent FROM login_sessions \
                 WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC",
            )
            .bind(actor.user_id).bind(now).fetch_all(pool).await?
        });
        let current = actor.session_id();
        Ok(rows
            .into_iter()
            .map(|(digest, created_at, last_seen_at, expires_at, ip, user_agent)| {
                let id = auth::hex(&digest[..digest.len().min(8)]);
                SessionInfo {
                    current: id == current,
                    id,
                    created_at,
                    last_seen_at: last_seen_at.unwrap_or(created_at),
                    expires_at,
                    ip,
                    user_agent,
                }
            })
            .collect())
    }

    /// Ends one of the acting user's sessions by its id (from [`Store::list_sessions`]).
    pub async fn end_session(&self, actor: &Actor, session_id: &str) -> StoreResult<()> {
        let open: Vec<(Vec<u8>,)> = on_db!(self, pool => {
            sqlx::query_as("SELECT token_sha256 FROM login_sessions WHERE user_id = $1 AND revoked_at IS NULL")
                .bind(actor.user_id).fetch_all(pool).await?
        });
        let digest = open
            .into_iter()
            .map(|r| r.0)
            .find(|d| auth::hex(&d[..d.len().min(8)]) == session_id)
            .ok_or_else(|| StoreError::not_found("session"))?;
        on_db!(self, pool => {
            sqlx::query("UPDATE login_sessions SET revoked_at = $1 WHERE token_sha256 = $2")
                .bind(now()).bind(&digest[..]).execute(pool).await?;
        });
        self.sessions.forget_user(actor.user_id);
        self.audit(
            actor,
            None,
            AuditAction::SignedOut,
            &format!("ended session {session_id}"),
        )
        .await
    }

    /// Notes the browser or program a session was opened by (the sessions list shows it).
    pub async fn describe_session(&self, token: &str, user_agent: &str) -> StoreResult<()> {
        let user_agent: String = user_agent.chars().filter(|&c| c != '\0').take(200).collect();
        on_db!(self, pool => {
            sqlx::query("UPDATE login_sessions SET user_agent = $1 WHERE token_sha256 = $2")
                .bind(&user_agent).bind(&auth::token_sha256(token)[..]).execute(pool).await?;
        });
        Ok(())
    }

    /// Signs out: ends the session of `token` (the acting user's) and audits it.
    pub async fn sign_out(&self, actor: &Actor, token: &str) -> StoreResult<()> {
        self.revoke_session(token).await?;
        self.audit(actor, None, AuditAction::SignedOut, "signed out")
            .await
    }

    /// Ends every session of the acting user (sign out everywhere) and audits it.
    pub async fn sign_out_everywhere(&self, actor: &Actor) -> StoreResult<u64> {
        let ended = self.revoke_user_sessions(actor, actor.user_id).await?;
        self.audit(
            actor,
            None,
            AuditAction::SignedOut,
            &format!("signed out everywhere ({ended} sessions)"),
        )
        .await?;
        Ok(ended)
    }

    // ----- the clinic's account rules -----

    /// The clinic's account rules.
    pub async fn account_rules(&self, actor: &Actor) -> StoreResult<AccountRules> {
        let row: Option<(bool, i64, i64)> = on_db!(self, pool => {
            sqlx::query_as("SELECT require_mfa, idle_timeout_minutes, audit_retention_years FROM clinics WHERE id = $1")
                .bind(actor.clinic_id).fetch_optional(pool).await?
        });
        let (require_mfa, idle_timeout_minutes, audit_retention_years) =
            row.ok_or_else(|| StoreError::not_found("clinic"))?;
        Ok(AccountRules {
            require_mfa,
            idle_timeout_minutes,
            audit_retention_years,
        })
    }

    /// Changes the clinic's account rules. Owners only; an owner turning on two-factor for
    /// everyone must have it themselves first (or they would lock themselves out).
    pub async fn update_account_rules(
        &self,
        actor: &Actor,
        rules: AccountRules,
    ) -> StoreResult<AccountRules> {
        actor.require(Action::EditSettings)?;
        let idle = validate::int_range("idle_timeout_minutes", rules.idle_timeout_minutes, 5, 720)?;
        let years = validate::int_range("audit_retention_years", rules.audit_retention_years, 1, 100)?;
        if rules.require_mfa && !self.has_second_factor(actor.user_id).await? {
            return Err(StoreError::invalid(
                "require_mfa",
                "set up two-factor sign-in on your own account before requiring it of everyone",
            ));
        }
        let before = self.account_rules(actor).await?;
        let detail = format!(
            "account rules: require_mfa {} → {}, idle_timeout_minutes {} → {idle}, audit_retention_years {} → {years}",
            before.require_mfa, rules.require_mfa, before.idle_timeout_minutes, before.audit_retention_years
        );
        on_db!(self, pool => {
            let mut tx = self.begin_audited(pool).await?;
            sqlx::query("UPDATE clinics SET require_mfa = $1, idle_timeout_minutes = $2, audit_retention_years = $3 WHERE id = $4")
                .bind(rules.require_mfa).bind(idle).bind(years).bind(actor.clinic_id).execute(&mut *tx).await?;
            audit_insert!(actor, None::<Uuid>, AuditAction::SettingsChanged, &detail).execute(&mut *tx).await?;
            tx.commit().await?;
        });
        // Sessions carry the old rule (who must enrol): look them up again.
        self.sessions.clear();
        self.account_rules(actor).await
    }

    // ----- the clinic's audit log -----

    /// A page of the clinic's audit log, newest first, filtered. Owners only; the reading is
    /// itself audited (after the page is read, so it is not in it).
    pub async fn audit_trail(&self, actor: &Actor, filter: &AuditFilter) -> StoreResult<AuditPage> {
        actor.require(Action::ViewAuditLog)?;
        let limit = if filter.limit == 0 {
            50
        } else {
            validate::int_range("limit", filter.limit, 1, MAX_AUDIT_PAGE)?
        };
        let from = filter.from.map(|t| validate::moment("from", t)).transpose()?;
        let until = filter.until.map(|t| validate::moment("until", t)).transpose()?;
        self.flush_audit().await?;
        let action = filter.action.map(|a| a.as_str());
        let rows: Vec<AuditRow> = on_db!(self, pool => {
            sqlx::query_as(match filter.client_id {
                None => AUDIT_TRAIL,
                Some(_) => super::filing::audit_trail_of_client(&self.db),
            })
            .bind(actor.clinic_id).bind(filter.user_id).bind(filter.client_id).bind(action)
            .bind(from).bind(until).bind(filter.before).bind(limit + 1)
            .fetch_all(pool).await?
        });
        let more = rows.len() as i64 > limit;
        let entries = rows
            .into_iter()
            .take(limit as usize)
            .map(audit_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let next_before = if more { entries.last().map(|e| e.id) } else { None };
        self.audit(actor, None, AuditAction::AuditRead, "clinic audit log")
            .await?;
        Ok(AuditPage { entries, next_before })
    }

    /// Deletes audit rows older than each clinic's `audit_retention_years` (run daily with
    /// [`Store::purge_expired`]); gives how many.
    ///
    /// In statements of at most `AUDIT_PURGE_BATCH` (10,000) rows, oldest first, each its own
    /// transaction: a clinic whose retention was shortened (or the first run over years of
    /// history) deletes hundreds of thousands of rows, and one statement would hold them all in
    /// one transaction while every audited read of the clinic writes beside it (and, on
    /// SQLite, keep the database's one writer for the whole time).
    pub(crate) async fn purge_old_audit(&self, now: OffsetDateTime) -> StoreResult<u64> {
        self.purge_old_audit_in(now, AUDIT_PURGE_BATCH).await
    }

    /// [`Store::purge_old_audit`] in statements of at most `batch` rows.
    pub(crate) async fn purge_old_audit_in(&self, now: OffsetDateTime, batch: i64) -> StoreResult<u64> {
        let clinics: Vec<(Uuid, i64)> = on_db!(self, pool => {
            sqlx::query_as("SELECT id, audit_retention_years FROM clinics").fetch_all(pool).await?
        });
        let mut done = 0;
        for (clinic_id, years) in clinics {
            // Years of 365¼ days: a day either way at most, on a figure counted in years.
            let cutoff = validate::moment("now", now - Duration::days(years * 365 + years / 4))?;
            loop {
                let deleted = on_db!(self, pool => {
                    sqlx::query(
                        "DELETE FROM audit_log WHERE clinic_id = $1 AND id IN \
                         (SELECT id FROM audit_log WHERE clinic_id = $1 AND at < $2 ORDER BY id LIMIT $3)",
                    )
                    .bind(clinic_id).bind(cutoff).bind(batch).execute(pool).await?.rows_affected()
                });
                done += deleted;
                // A short batch was the last: the next would only read the rest of the log.
                if deleted < batch.max(1) as u64 {
                    break;
                }
            }
        }
        if done > 0 {
            super::filing::forget_empty_filings(&self.db).await?;
        }
        Ok(done)
    }
}

/// A session as listed: token digest, opened, last seen, ends, address, browser.
type OpenSessionRow = (
    Vec<u8>,
    OffsetDateTime,
    Option<OffsetDateTime>,
    OffsetDateTime,
    String,
    String,
);

/// The password policy's error under the name of the form's field.
fn rename_field(error: StoreError, field: &'static str) -> StoreError {
    match error {
        StoreError::Invalid { message, .. } => StoreError::Invalid { field, message },
        other => other,
    }
}
