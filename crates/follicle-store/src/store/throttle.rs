//! Sign-in throttling (issue 11): every attempt is counted in the database *before* its
//! password is checked, per account (across addresses), per address (across accounts) and
//! for everyone together, and an account that is being guessed slows down instead of
//! locking.
//!
//! # Why delays and known devices, not a lock
//!
//! A lock after N failures lets anyone who knows an email lock its owner out. Here each
//! subject (an account, an address, a known device) has a [`Backoff`]: a few attempts
//! without waiting, then each attempt must wait a delay that doubles up to a ceiling. A
//! stranger guessing an account from any number of addresses gets the account's schedule
//! (5 free, then 1 s, 2 s, 4 s … up to 5 minutes: about 15 checked guesses in the first
//! 15 minutes and 12 an hour after that). The owner's browser carries a device cookie from
//! its last sign-in ([`Store::remember_device`]); a sign-in that shows the device cookie of
//! the account it names is counted against that device alone, not against the account,
//! the address or the global budget, so the stranger's guessing does not slow the owner
//! down. Without the cookie (a new browser, a program) the owner waits at most the account's
//! current delay.
//!
//! # Why the counters are in the database
//!
//! Several app servers on one database share them, so spreading guesses over servers gains
//! nothing. A claim is a compare-and-set on the row (`attempts`, `last_at`): of concurrent
//! attempts on one subject at most one takes each slot, and the losers are refused without
//! a password check (100 concurrent guesses check at most the free attempts).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Store, now as now_second, on_db, rate_key};
use crate::auth::{self, Actor, LoginSession, SessionToken};
use crate::error::{StoreError, StoreResult};
use crate::model::AuditAction;
use crate::role::Role;

/// How a throttled subject slows down: `free_attempts` without waiting, then a delay of
/// `first_delay_ms` before the next, doubling with each attempt up to `max_delay_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts allowed one right after the other.
    pub free_attempts: i64,
    /// The first delay, milliseconds.
    pub first_delay_ms: i64,
    /// The longest delay, milliseconds.
    pub max_delay_ms: i64,
}

impl Backoff {
    /// Milliseconds the next attempt must wait after attempt number `attempts`.
    pub fn delay_after(&self, attempts: i64) -> i64 {
        if attempts < self.free_attempts {
            return 0;
        }
        let doublings = (attempts - self.free_attempts).clamp(0, 40) as u32;
        self.first_delay_ms
            .saturating_mul(1_i64 << doublings)
            .min(self.max_delay_ms)
            .max(0)
    }
}

/// The sign-in limits. Defaults: an account 5 free attempts then 1 s doubling to 5 min; an
/// address 20 then 1 s doubling to 1 min; a known device 5 then 1 s doubling to 1 min; a
/// subject quiet for 15 minutes starts over; 600 attempts a minute from everyone together
/// (about a third of what two cores can check), beyond which sign-ins without a known
/// device are answered busy until the minute ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigninLimits {
    /// Per account, whatever the address.
    pub account: Backoff,
    /// Per address, whatever the account.
    pub address: Backoff,
    /// Per known device (a browser that signed in to the account before).
    pub device: Backoff,
    /// A subject with no attempt for this long starts again from zero.
    pub quiet_reset: time::Duration,
    /// Attempts a minute from everyone together (known devices aside); 0 for no limit.
    pub everyone_per_minute: i64,
}

impl Default for SigninLimits {
    fn default() -> SigninLimits {
        SigninLimits {
            account: Backoff {
                free_attempts: 5,
                first_delay_ms: 1_000,
                max_delay_ms: 300_000,
            },
            address: Backoff {
                free_attempts: 20,
                first_delay_ms: 1_000,
                max_delay_ms: 60_000,
            },
            device: Backoff {
                free_attempts: 5,
                first_delay_ms: 1_000,
                max_delay_ms: 60_000,
            },
            quiet_reset: time::Duration::minutes(15),
            everyone_per_minute: 600,
        }
    }
}

/// An account started to be slowed down: its owner may want to know (the hook for an email,
/// see [`Store::on_signin_throttled`]). Sent once each time an account reaches its delays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigninAlert {
    /// The account's user.
    pub user_id: Uuid,
    /// The email tried.
    pub email: String,
    /// The address of the attempt that reached the delays.
    pub address: String,
    /// Attempts counted so far.
    pub attempts: i64,
    /// When.
    pub at: OffsetDateTime,
}

type AlertFn = Arc<dyn Fn(SigninAlert) + Send + Sync>;

/// Who hears [`SigninAlert`]s, and how many passwords this store has checked.
#[derive(Default)]
pub(crate) struct SigninState {
    hook: Mutex<Option<AlertFn>>,
    checks: AtomicU64,
}

impl std::fmt::Debug for SigninState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigninState")
            .field("checks", &self.checks)
            .finish_non_exhaustive()
    }
}

enum Claim {
    Granted(i64),
    Refused { retry_after_ms: i64 },
}

fn unix_ms(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

fn seconds_from_ms(ms: i64) -> i64 {
    (ms.max(1) + 999) / 1000
}

fn device_bucket(digest: &[u8; 32]) -> String {
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("device:{hex}")
}

impl Store {
    /// Signs in with the address the request came from and, when the browser sent one, its
    /// device cookie (see the `throttle` module's documentation for the limits). A wrong email or
    /// password is [`StoreError::Unauthenticated`]; an attempt over a limit is
    /// [`StoreError::RateLimited`] (this account or address: wait `retry_after_seconds`) or
    /// [`StoreError::Busy`] (everyone together, or too many password checks waiting), in
    /// both cases without checking the password. A success starts the account over.
    pub async fn login_from(
        &self,
        email: &str,
        password: &str,
        ip: &str,
        device: Option<&str>,
        now: OffsetDateTime,
    ) -> StoreResult<LoginSession> {
        let email = email.trim().to_lowercase();
        let limits = self.options.signin;
        let now_ms = unix_ms(now);
        // Text no user can have (NUL, absurd lengths) is looked up as nobody, not sent to
        // the database, and still costs an argon2 check.
        let plausible = password.len() <= 1024 && email.len() <= 320 && !email.contains('\0');
        // An email is unique per clinic: the same person may hold accounts in a few clinics,
        // and the password picks the account (the oldest first when two share it).
        let accounts: Vec<(Uuid, Uuid, String, String, bool)> = if !plausible {
            Vec::new()
        } else {
            on_db!(self, pool => {
                sqlx::query_as("SELECT id, clinic_id, role, password_hash, active FROM users WHERE email = $1 AND active = $2 ORDER BY created_at, id LIMIT 4")
                    .bind(&email).bind(true).fetch_all(pool).await?
            })
        };
        let mut known_device = None;
        if let Some(token) = device.filter(|t| t.len() == 64) {
            let digest = auth::token_sha256(token);
            for account in &accounts {
                let found: Option<(Uuid,)> = on_db!(self, pool => {
                    sqlx::query_as("SELECT user_id FROM signin_devices WHERE token_sha256 = $1 AND user_id = $2")
                        .bind(&digest[..]).bind(account.0).fetch_optional(pool).await?
                });
                if found.is_some() {
                    known_device = Some(digest);
                    break;
                }
            }
        }
        let account_bucket = format!("account:{}", rate_key(&email));
        if let Some(digest) = &known_device {
            if let Claim::Refused { retry_after_ms } =
                self.claim(&device_bucket(digest), limits.device, now_ms).await?
            {
                return Err(StoreError::RateLimited {
                    retry_after_seconds: seconds_from_ms(retry_after_ms),
                });
            }
        } else {
            let address = format!("address:{}", rate_key(ip));
            if let Claim::Refused { retry_after_ms } = self.claim(&address, limits.address, now_ms).await? {
                return Err(StoreError::RateLimited {
                    retry_after_seconds: seconds_from_ms(retry_after_ms),
                });
            }
            if limits.everyone_per_minute > 0 {
                let window = now.unix_timestamp().div_euclid(60) * 60;
                let everyone = on_db!(self, pool => {
                    sqlx::query_as::<_, (i64,)>(
                        "INSERT INTO signin_global (window_start, attempts) VALUES ($1, 1) \
                         ON CONFLICT (window_start) DO UPDATE SET attempts = signin_global.attempts + 1 \
                         RETURNING attempts",
                    )
                    .bind(window).fetch_one(pool).await?.0
                });
                if everyone > limits.everyone_per_minute {
                    return Err(StoreError::Busy {
                        retry_after_seconds: (window + 60 - now.unix_timestamp()).max(1),
                    });
                }
            }
            match self.claim(&account_bucket, limits.account, now_ms).await? {
                Claim::Refused { retry_after_ms } => {
                    return Err(StoreError::RateLimited {
                        retry_after_seconds: seconds_from_ms(retry_after_ms),
                    });
                }
                Claim::Granted(attempts) if attempts == limits.account.free_attempts => {
                    for user in &accounts {
                        self.alert(SigninAlert {
                            user_id: user.0,
                            email: email.clone(),
                            address: rate_key(ip),
                            attempts,
                            at: now,
                        });
                    }
                }
                Claim::Granted(_) => {}
            }
        }
        let mut signed_in = None;
        if accounts.is_empty() {
            // Nobody has this email: the same argon2 cost, so timing tells nothing.
            self.signin.checks.fetch_add(1, Ordering::Relaxed);
            auth::verify_password(password.to_owned(), None).await?;
        }
        for account in &accounts {
            self.signin.checks.fetch_add(1, Ordering::Relaxed);
            if auth::verify_password(password.to_owned(), Some(account.3.clone())).await? {
                signed_in = Some(account.clone());
                break;
            }
        }
        let Some((user_id, clinic_id, role, _, _)) = signed_in else {
            for (user_id, clinic_id, role, _, _) in &accounts {
                let actor = Actor::new(*user_id, *clinic_id, Role::parse(role)?).at_address(ip);
                self.audit(&actor, None, AuditAction::SignInFailed, "wrong password")
                    .await?;
            }
            return Err(StoreError::Unauthenticated);
        };
        // The right password: the account (and this device) start over. The address gives
        // back this attempt only (a clinic's staff behind one address sign in all day), so
        // signing in to one's own account buys no guesses at others.
        on_db!(self, pool => {
            sqlx::query("DELETE FROM signin_throttle WHERE bucket = $1")
                .bind(&account_bucket).execute(pool).await?;
            if let Some(digest) = &known_device {
                sqlx::query("DELETE FROM signin_throttle WHERE bucket = $1")
                    .bind(device_bucket(digest)).execute(pool).await?;
            } else {
                sqlx::query("UPDATE signin_throttle SET attempts = attempts - 1 WHERE bucket = $1 AND attempts > 0")
                    .bind(format!("address:{}", rate_key(ip))).execute(pool).await?;
            }
        });
        let actor = Actor::new(user_id, clinic_id, Role::parse(&role)?).at_address(ip);
        if self.has_second_factor(user_id).await? {
            // The password was right; the session opens with the code (see `accounts`).
            let challenge = self.open_challenge(&actor, ip, now).await?;
            return Err(StoreError::SecondFactorRequired { challenge });
        }
        let session = self.open_session_from(actor, now, ip, "").await?;
        self.audit(&session.actor, None, AuditAction::SignedIn, "password")
            .await?;
        Ok(session)
    }

    /// A device cookie for the browser the actor just signed in with: `current` when it is
    /// already one of theirs (its use is noted), else a new one (64 hex digits; only its
    /// SHA-256 is kept). Keep it in a long-lived `HttpOnly` cookie.
    pub async fn remember_device(&self, actor: &Actor, current: Option<&str>) -> StoreResult<String> {
        let at = now_second();
        if let Some(token) = current.filter(|t| t.len() == 64) {
            let digest = auth::token_sha256(token);
            let touched = on_db!(self, pool => {
                sqlx::query("UPDATE signin_devices SET last_used_at = $1 WHERE token_sha256 = $2 AND user_id = $3")
                    .bind(at).bind(&digest[..]).bind(actor.user_id).execute(pool).await?.rows_affected()
            });
            if touched == 1 {
                return Ok(token.to_owned());
            }
        }
        let token = SessionToken::generate()?;
        on_db!(self, pool => {
            sqlx::query("INSERT INTO signin_devices (token_sha256, user_id, created_at, last_used_at) VALUES ($1, $2, $3, $4)")
                .bind(&auth::token_sha256(token.as_str())[..]).bind(actor.user_id).bind(at).bind(at)
                .execute(pool).await?;
        });
        Ok(token.as_str().to_owned())
    }

    /// Calls `hook` whenever an account reaches its sign-in delays (someone is guessing its
    /// password): the place to send its owner an email. One hook per store; a later call
    /// replaces it. The hook runs on the sign-in's task: keep it quick (spawn the sending).
    pub fn on_signin_throttled(&self, hook: impl Fn(SigninAlert) + Send + Sync + 'static) {
        *self.signin.hook.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(hook));
    }

    fn alert(&self, alert: SigninAlert) {
        tracing::warn!(user = %alert.user_id, address = %alert.address, attempts = alert.attempts,
            "sign-ins to this account are being slowed down");
        let hook = self.signin.hook.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(hook) = hook {
            hook(alert);
        }
    }

    /// Passwords this store has checked at sign-in (each an argon2 verification): what the
    /// throttling bounds, for tests and measurements.
    pub fn signin_password_checks(&self) -> u64 {
        self.signin.checks.load(Ordering::Relaxed)
    }

    /// Takes the next attempt of a subject if its delay has passed (compare-and-set, so
    /// concurrent attempts cannot share a slot).
    async fn claim(&self, bucket: &str, backoff: Backoff, now_ms: i64) -> StoreResult<Claim> {
        let quiet_ms = self.options.signin.quiet_reset.whole_milliseconds() as i64;
        for _ in 0..4 {
            let (attempts, last_at, next_at): (i64, i64, i64) = on_db!(self, pool => {
                sqlx::query("INSERT INTO signin_throttle (bucket, attempts, last_at, next_at) VALUES ($1, 0, 0, 0) ON CONFLICT (bucket) DO NOTHING")
                    .bind(bucket).execute(pool).await?;
                sqlx::query_as("SELECT attempts, last_at, next_at FROM signin_throttle WHERE bucket = $1")
                    .bind(bucket).fetch_one(pool).await?
            });
            let quiet = now_ms - last_at >= quiet_ms;
            if !quiet && next_at > now_ms {
                return Ok(Claim::Refused {
                    retry_after_ms: next_at - now_ms,
                });
            }
            let taken = if quiet { 1 } else { attempts + 1 };
            let next = now_ms + backoff.delay_after(taken);
            let won = on_db!(self, pool => {
                sqlx::query("UPDATE signin_throttle SET attempts = $1, last_at = $2, next_at = $3 WHERE bucket = $4 AND attempts = $5 AND last_at = $6")
                    .bind(taken).bind(now_ms).bind(next).bind(bucket).bind(attempts).bind(last_at)
                    .execute(pool).await?.rows_affected()
            });
            if won == 1 {
                return Ok(Claim::Granted(taken));
            }
        }
        // Lost every race: others are trying this subject right now.
        Ok(Claim::Refused {
            retry_after_ms: backoff.first_delay_ms.max(1),
        })
    }

    /// Deletes throttling rows that no longer slow anything down.
    pub(crate) async fn purge_throttle(&self, now: OffsetDateTime) -> StoreResult<u64> {
        let now_ms = unix_ms(now);
        let quiet_ms = self.options.signin.quiet_reset.whole_milliseconds() as i64;
        let minute = now.unix_timestamp().div_euclid(60) * 60;
        let done = on_db!(self, pool => {
            let subjects = sqlx::query("DELETE FROM signin_throttle WHERE last_at < $1 AND next_at < $2")
                .bind(now_ms - quiet_ms).bind(now_ms).execute(pool).await?.rows_affected();
            let everyone = sqlx::query("DELETE FROM signin_global WHERE window_start < $1")
                .bind(minute).execute(pool).await?.rows_affected();
            subjects + everyone
        });
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_ceiling() {
        let b = SigninLimits::default().account;
        let delays: Vec<i64> = (1..=12).map(|n| b.delay_after(n)).collect();
        assert_eq!(
            delays,
            [
                0, 0, 0, 0, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000
            ]
        );
        assert_eq!(b.delay_after(1_000), 300_000);
    }
}
