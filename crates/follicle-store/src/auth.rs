//! Passwords (argon2id, hashed off the async threads) and session tokens (256 random bits;
//! only their SHA-256 is stored, so a copy of the database opens no sessions).

use std::sync::OnceLock;

use rand::TryRngCore;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};
use crate::limit::Limiter;
use crate::role::Role;

/// The signed-in user a store call acts for: their id, clinic and role.
///
/// There is no public constructor: an `Actor` comes from [`Store::authenticate`],
/// [`Store::login`], [`Store::create_clinic_with_owner`] or [`Store::actor`], so holding
/// one means the store has checked who it is.
///
/// [`Store::authenticate`]: crate::Store::authenticate
/// [`Store::login`]: crate::Store::login
/// [`Store::create_clinic_with_owner`]: crate::Store::create_clinic_with_owner
/// [`Store::actor`]: crate::Store::actor
///
/// Two actors are equal when they are the same user of the same clinic in the same role,
/// whichever session or address they act from.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub(crate) user_id: Uuid,
    pub(crate) clinic_id: Uuid,
    pub(crate) role: Role,
    /// The session it came from: the first 8 bytes of its token's SHA-256 (what the audit log
    /// and the sessions list show); `None` for the CLI.
    pub(crate) session: Option<[u8; 8]>,
    /// The address the request came from, as the web layer read it (audit rows record it).
    pub(crate) ip: Option<std::net::IpAddr>,
    /// The clinic requires two-factor sign-in and this user has not set it up: every action
    /// is refused until they do ([`StoreError::EnrolmentRequired`]).
    pub(crate) enrolment_required: bool,
}

impl PartialEq for Actor {
    fn eq(&self, other: &Actor) -> bool {
        (self.user_id, self.clinic_id, self.role) == (other.user_id, other.clinic_id, other.role)
    }
}

impl Eq for Actor {}

impl Actor {
    pub(crate) fn new(user_id: Uuid, clinic_id: Uuid, role: Role) -> Actor {
        Actor {
            user_id,
            clinic_id,
            role,
            session: None,
            ip: None,
            enrolment_required: false,
        }
    }

    /// The same user acting from this address (the web layer's reading of the request: the
    /// peer, or a trusted proxy's forwarded address). Text that is not an address is kept as
    /// none.
    pub fn at_address(mut self, ip: &str) -> Actor {
        self.ip = ip.trim().parse().ok();
        self
    }

    /// The session's id as the audit log and the sessions list show it: 16 hex digits (the
    /// start of the token's SHA-256; it opens nothing). Empty without a session.
    pub fn session_id(&self) -> String {
        self.session.map(|s| hex(&s)).unwrap_or_default()
    }

    /// Whether the clinic requires two-factor sign-in and this user must set it up first.
    pub fn enrolment_required(&self) -> bool {
        self.enrolment_required
    }

    pub(crate) fn ip_text(&self) -> String {
        self.ip.map(|ip| ip.to_string()).unwrap_or_default()
    }
    /// The user.
    pub fn user_id(&self) -> Uuid {
        self.user_id
    }

    /// Their clinic.
    pub fn clinic_id(&self) -> Uuid {
        self.clinic_id
    }

    /// Their role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// `Ok` when the role allows `action`, else [`StoreError::Forbidden`].
    pub fn require(&self, action: crate::Action) -> StoreResult<()> {
        if self.enrolment_required {
            Err(StoreError::EnrolmentRequired)
        } else if self.role.may(action) {
            Ok(())
        } else {
            Err(StoreError::Forbidden {
                role: self.role,
                action,
            })
        }
    }
}

/// A session token: 64 hex digits (256 random bits). Give it to the browser in a cookie;
/// it is shown once and cannot be recovered from the database.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// The token's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn generate() -> StoreResult<SessionToken> {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|e| StoreError::Internal(format!("no randomness for a session token: {e}")))?;
        Ok(SessionToken(bytes.iter().map(|b| format!("{b:02x}")).collect()))
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken([redacted])")
    }
}

/// A new login session: the token for the browser, when it ends, and who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSession {
    /// The secret token.
    pub token: SessionToken,
    /// When the session ends.
    pub expires_at: OffsetDateTime,
    /// The signed-in user.
    pub actor: Actor,
}

/// SHA-256 of a token's text: what the database keeps.
pub(crate) fn token_sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The session id of a token digest (see [`Actor::session_id`]).
pub(crate) fn session_prefix(digest: &[u8; 32]) -> [u8; 8] {
    let mut prefix = [0u8; 8];
    prefix.copy_from_slice(&digest[..8]);
    prefix
}

/// The process's argon2 limiter: each check or hash holds ~19 MiB for tens of milliseconds, so
/// only a few run at once and a few more wait; the rest are [`StoreError::Busy`] at once. Set
/// by the first [`crate::Store::open_with`] from [`crate::StoreOptions::password_checks_at_once`]
/// and [`crate::StoreOptions::password_checks_waiting`] (one process, one CPU budget).
static HASHERS: OnceLock<Limiter> = OnceLock::new();

pub(crate) fn set_hasher_limits(at_once: usize, waiting: usize) {
    let _ = HASHERS.set(Limiter::new("password checks", at_once, waiting, 1));
}

fn hashers() -> &'static Limiter {
    HASHERS.get_or_init(|| Limiter::new("password checks", 2, 32, 1))
}

/// argon2's working memory, kept between checks: one buffer per check running at once (the
/// limiter above bounds them), so a flood of sign-ins reuses the same few ~19 MiB instead of
/// allocating and freeing them per check. (A freed buffer of that size stays in the
/// allocator's heap rather than going back to the system, and many threads' heaps each keep
/// their own: that, not the checks themselves, is what made memory grow with a flood.)
static MEMORY: std::sync::Mutex<Vec<Vec<argon2::Block>>> = std::sync::Mutex::new(Vec::new());

/// A buffer of argon2 working memory from [`MEMORY`] (or a new one), given back when dropped.
struct Memory(Vec<argon2::Block>);

impl Memory {
    fn take() -> Memory {
        let kept = MEMORY.lock().unwrap_or_else(|e| e.into_inner()).pop();
        Memory(kept.unwrap_or_default())
    }

    /// The first `blocks` blocks, grown to that size when needed.
    fn blocks(&mut self, blocks: usize) -> &mut [argon2::Block] {
        if self.0.len() < blocks {
            self.0.resize(blocks, argon2::Block::default());
        }
        &mut self.0[..blocks]
    }
}

impl Drop for Memory {
    fn drop(&mut self) {
        let blocks = std::mem::take(&mut self.0);
        if !blocks.is_empty() {
            MEMORY.lock().unwrap_or_else(|e| e.into_inner()).push(blocks);
        }
    }
}

/// The argon2id hash (PHC string, default parameters) of `password` with `salt`, computed in
/// `memory`.
fn hash_with(memory: &mut Memory, password: &[u8], salt: &[u8]) -> Result<String, String> {
    use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
    let params = argon2::Params::default();
    let argon = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params.clone(),
    );
    let mut out = [0u8; argon2::Params::DEFAULT_OUTPUT_LEN];
    argon
        .hash_password_into_with_memory(password, salt, &mut out, memory.blocks(params.block_count()))
        .map_err(|e| e.to_string())?;
    let hash = PasswordHash {
        algorithm: argon2::Algorithm::Argon2id.ident(),
        version: Some(argon2::Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
        salt: Some(Salt::new(salt).map_err(|e| e.to_string())?),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(hash.to_string())
}

/// Whether `password` gives the stored PHC string `hash` (argon2 of any variant, version and
/// parameters it names), computed in `memory`. A hash that cannot be read matches nothing.
fn verify_with(memory: &mut Memory, password: &[u8], hash: &str) -> bool {
    use argon2::password_hash::phc::{Output, PasswordHash};
    let Ok(hash) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(algorithm) = argon2::Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = hash
        .version
        .map_or(Ok(argon2::Version::default()), argon2::Version::try_from)
    else {
        return false;
    };
    let Ok(params) = argon2::Params::try_from(&hash) else {
        return false;
    };
    let mut out = [0u8; Output::MAX_LENGTH];
    let out = &mut out[..expected.len()];
    let blocks = params.block_count();
    argon2::Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, out, memory.blocks(blocks))
        .is_ok()
        // `Output`'s comparison takes as long whatever the bytes.
        && Output::new(out).is_ok_and(|out| out == *expected)
}

/// Hashes a password with argon2id (default parameters, random salt) on a blocking thread.
pub(crate) async fn hash_password(password: String) -> StoreResult<String> {
    let permit = hashers().acquire().await?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let mut salt = [0u8; 16];
        rand::rngs::OsRng
            .try_fill_bytes(&mut salt)
            .map_err(|e| StoreError::Internal(format!("no randomness for a password salt: {e}")))?;
        hash_with(&mut Memory::take(), password.as_bytes(), &salt)
            .map_err(|e| StoreError::Internal(format!("password hashing failed: {e}")))
    })
    .await
    .map_err(|e| StoreError::Internal(format!("password hashing thread failed: {e}")))?
}

/// Verifies a password against a stored hash on a blocking thread. With no hash (an
/// unknown email) it verifies against a dummy hash, so both cases take as long.
pub(crate) async fn verify_password(password: String, hash: Option<String>) -> StoreResult<bool> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let permit = hashers().acquire().await?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let mut memory = Memory::take();
        let known = hash.is_some();
        let hash = match hash {
            Some(hash) => hash,
            None => DUMMY
                .get_or_init(|| {
                    hash_with(&mut memory, b"not anybody's password", b"follicle-dummy-salt")
                        .unwrap_or_default()
                })
                .clone(),
        };
        verify_with(&mut memory, password.as_bytes(), &hash) && known
    })
    .await
    .map_err(|e| StoreError::Internal(format!("password check thread failed: {e}")))
}

#[cfg(test)]
mod tests {
    use argon2::{PasswordHasher, PasswordVerifier};

    use super::*;

    #[test]
    fn hashes_read_both_ways_with_the_argon2_crate() {
        let mut memory = Memory::take();
        let ours = hash_with(&mut memory, b"correct horse", b"sixteen bytes!!!").unwrap();
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{ours}");
        assert!(
            argon2::Argon2::default()
                .verify_password(b"correct horse", ours.as_str())
                .is_ok()
        );
        let theirs = argon2::Argon2::default()
            .hash_password(b"battery staple")
            .unwrap()
            .to_string();
        assert!(verify_with(&mut memory, b"battery staple", &theirs));
        assert!(!verify_with(&mut memory, b"battery stapler", &theirs));
        assert!(!verify_with(&mut memory, b"correct horse", "not a hash"));
        assert!(!verify_with(
            &mut memory,
            b"correct horse",
            "$argon2id$v=19$m=19456,t=2,p=1"
        ));
    }

    #[test]
    fn other_parameters_grow_the_memory_and_still_verify() {
        let small = argon2::Argon2::new(
            argon2::Algorithm::Argon2i,
            argon2::Version::V0x10,
            argon2::Params::new(64, 1, 1, Some(24)).unwrap(),
        );
        let big = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(32 * 1024, 1, 2, None).unwrap(),
        );
        let mut memory = Memory(Vec::new());
        for argon in [small, big] {
            let hash = argon.hash_password(b"pw").unwrap().to_string();
            assert!(verify_with(&mut memory, b"pw", &hash), "{hash}");
            assert!(!verify_with(&mut memory, b"px", &hash), "{hash}");
        }
        assert_eq!(memory.0.len(), 32 * 1024, "kept at its largest");
    }
}
