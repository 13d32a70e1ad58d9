//! Time-based one-time passwords (RFC 6238, the codes of authenticator apps) and recovery codes.
//!
//! Written here on the `hmac` and `sha1` crates rather than taken from `totp-rs`: the
//! algorithm is HOTP (RFC 4226 §5.3) over the 30-second step, a dozen lines checked against
//! the RFC's own test vectors below, and `totp-rs` 5 pins the previous generation of the
//! digest crates (`hmac` 0.12, `sha2` 0.10), which would build a second digest stack beside
//! the `sha2` 0.11 this crate and sqlx already use. The parameters are the ones every
//! authenticator app reads from an `otpauth://` link: SHA-1, 6 digits, 30 seconds.

use hmac::{Hmac, KeyInit, Mac};
use rand::TryRngCore;
use sha1::Sha1;

use crate::error::{StoreError, StoreResult};

/// Seconds per step (RFC 6238 §4.1's X; what authenticator apps assume).
pub(crate) const STEP_SECONDS: i64 = 30;
/// Digits in a code.
const DIGITS: u32 = 6;
/// Steps before and after now that are accepted (RFC 6238 §5.2: at most one step of drift).
const DRIFT_STEPS: i64 = 1;
/// Secret length: 160 bits (RFC 4226 §4 recommends the HMAC-SHA-1 output length).
const SECRET_BYTES: usize = 20;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding (as `otpauth://` secrets are written).
pub(crate) fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Decodes base32 (case, spaces and padding ignored); `None` for any other character.
pub(crate) fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !matches!(c, b' ' | b'=' | b'-')) {
        let value = BASE32.iter().position(|&a| a == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// Random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> StoreResult<[u8; N]> {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| StoreError::Internal(format!("no randomness: {e}")))?;
    Ok(bytes)
}

/// A new secret, base32.
pub(crate) fn new_secret() -> StoreResult<String> {
    Ok(base32_encode(&random_bytes::<SECRET_BYTES>()?))
}

/// HOTP (RFC 4226 §5.3): the 6-digit code of `counter`.
fn hotp(key: &[u8], counter: u64) -> u32 {
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key) else {
        return u32::MAX;
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    binary % 10u32.pow(DIGITS)
}

/// The step of a time (unix seconds).
pub(crate) fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// The code of a step, as typed (zero-padded).
pub(crate) fn code_at(secret_base32: &str, step: i64) -> Option<String> {
    let key = base32_decode(secret_base32)?;
    let counter = u64::try_from(step).ok()?;
    Some(format!(
        "{:0width$}",
        hotp(&key, counter),
        width = DIGITS as usize
    ))
}

/// The step whose code `code` is, within one step of `now`'s and later than `last_step`
/// (a code is accepted once); `None` when it matches none.
pub(crate) fn verify(secret_base32: &str, code: &str, unix_seconds: i64, last_step: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_seconds);
    (now - DRIFT_STEPS..=now + DRIFT_STEPS)
        .filter(|&step| step > last_step)
        .find(|&step| {
            code_at(secret_base32, step).is_some_and(|c| constant_time_eq(c.as_bytes(), code.as_bytes()))
        })
}

/// The `otpauth://` link an authenticator app reads (Key Uri Format).
pub(crate) fn otpauth_url(issuer: &str, account: &str, secret_base32: &str) -> String {
    let label = format!("{}:{}", percent(issuer), percent(account));
    format!(
        "otpauth://totp/{label}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        percent(issuer)
    )
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'@' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A recovery code: 80 random bits as 16 base32 letters in groups of four
/// (`ABCD-EFGH-IJKL-MNOP`). 80 bits make a plain SHA-256 of it safe to keep: a copy of the
/// database gives nobody a usable code.
pub(crate) fn new_recovery_code() -> StoreResult<String> {
    let text = base32_encode(&random_bytes::<10>()?);
    Ok(text
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-"))
}

/// A typed recovery code in the form it is hashed in (upper case, no dashes or spaces).
pub(crate) fn normalise_recovery_code(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows (the 8-digit codes' last 6 digits; the key is the
    /// ASCII "12345678901234567890").
    #[test]
    fn rfc_6238_test_vectors() {
        let secret = base32_encode(b"12345678901234567890");
        assert_eq!(secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(code_at(&secret, step_of(time)).unwrap(), code, "t = {time}");
            assert_eq!(verify(&secret, code, time, 0), Some(step_of(time)));
        }
    }

    #[test]
    fn a_code_is_accepted_once_and_within_one_step() {
        let secret = base32_encode(b"12345678901234567890");
        let step = step_of(1_111_111_109);
        assert_eq!(
            verify(&secret, "081804", 1_111_111_109, step),
            None,
            "used already"
        );
        assert_eq!(
            verify(&secret, "081804", 1_111_111_109 + 30, 0),
            Some(step),
            "one step late"
        );
        assert_eq!(
            verify(&secret, "081804", 1_111_111_109 + 90, 0),
            None,
            "three steps late"
        );
        assert_eq!(verify(&secret, "08180", 1_111_111_109, 0), None);
        assert_eq!(verify(&secret, "abcdef", 1_111_111_109, 0), None);
        assert_eq!(verify(&secret, "081 804", 1_111_111_109, 0), Some(step));
    }

    #[test]
    fn base32_round_trips() {
        for bytes in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar"] {
            assert_eq!(base32_decode(&base32_encode(bytes)).unwrap(), bytes);
        }
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("mzxw 6ytb-oi==").unwrap(), b"foobar");
        assert_eq!(base32_decode("MZ1"), None);
    }

    #[test]
    fn recovery_codes_look_right() {
        let code = new_recovery_code().unwrap();
        assert_eq!(code.len(), 19, "{code}");
        assert_eq!(normalise_recovery_code(&code.to_lowercase()).len(), 16);
        assert!(otpauth_url("Follicle (Northside)", "ana@x.example", "ABC").starts_with(
            "otpauth://totp/Follicle%20%28Northside%29:ana@x.example?secret=ABC&issuer=Follicle%20%28Northside%29"
        ));
    }
}
