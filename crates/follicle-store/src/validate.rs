//! Checks on text and numbers before they reach the database, so that bad input is an
//! [`StoreError::Invalid`] naming the field, never a database error.
//!
//! PostgreSQL refuses NUL characters in text and JSON, so they are refused here for both
//! backends; one-line fields (names, phone numbers, lots) refuse every control character.

use serde_json::Value;
use time::{Date, OffsetDateTime};

use crate::error::{StoreError, StoreResult};

/// At most this many characters in a one-line field.
pub const MAX_LINE_CHARS: usize = 200;
/// At most this many characters in free text (notes, client files, consent texts).
pub const MAX_TEXT_CHARS: usize = 100_000;

/// A one-line field: trimmed, no control characters, 1 to [`MAX_LINE_CHARS`] characters
/// (or empty when `may_be_empty`).
pub(crate) fn line(field: &'static str, text: &str, may_be_empty: bool) -> StoreResult<String> {
    let text = text.trim();
    if text.is_empty() && !may_be_empty {
        return Err(StoreError::invalid(field, "must not be empty"));
    }
    if text.chars().count() > MAX_LINE_CHARS {
        return Err(StoreError::invalid(
            field,
            format!(
                "at most {MAX_LINE_CHARS} characters, got {}",
                text.chars().count()
            ),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(StoreError::invalid(field, "must not contain control characters"));
    }
    Ok(text.to_owned())
}

/// Free text: tabs and line breaks allowed, no NUL or other control characters, at most
/// [`MAX_TEXT_CHARS`] characters.
pub(crate) fn text(field: &'static str, text: &str) -> StoreResult<String> {
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(StoreError::invalid(
            field,
            format!(
                "at most {MAX_TEXT_CHARS} characters, got {}",
                text.chars().count()
            ),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(StoreError::invalid(
            field,
            "must not contain control characters other than tab and line breaks",
        ));
    }
    Ok(text.to_owned())
}

/// An email address: one line, lower-cased, with one `@` between two non-empty parts.
pub(crate) fn email(field: &'static str, email: &str, may_be_empty: bool) -> StoreResult<String> {
    let email = line(field, email, may_be_empty)?.to_lowercase();
    if email.is_empty() {
        return Ok(email);
    }
    // What mail relays accept in practice (RFC 5321 without its quoted forms): a local part
    // without spaces, quotes or brackets, and a domain name of dot-separated labels of letters,
    // digits and hyphens, with at least one dot.
    let local_ok = |user: &str| {
        !user.is_empty()
            && user.len() <= 64
            && !user.starts_with('.')
            && !user.ends_with('.')
            && !user.contains("..")
            && user.chars().all(|c| {
                !c.is_whitespace()
                    && !matches!(
                        c,
                        '"' | '(' | ')' | ',' | ':' | ';' | '<' | '>' | '[' | ']' | '\\' | '@'
                    )
            })
    };
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    match email.split_once('@') {
        Some((user, domain))
            if email.len() <= 254
                && local_ok(user)
                && domain.contains('.')
                && domain.split('.').all(label_ok) =>
        {
            Ok(email)
        }
        _ => Err(StoreError::invalid(
            field,
            format!(
                "expected an address like name@example.com (a name, @, and a domain with a dot, \
                 without spaces), got {email:?}"
            ),
        )),
    }
}

/// Digits a phone number holds at least (a subscriber number with its area code) and at most
/// (ITU-T E.164: a country code and number, 15 digits).
pub const PHONE_DIGITS: (usize, usize) = (7, 15);

/// A phone number as typed: one line of digits, optionally starting with `+`, grouped with
/// spaces, dashes, dots, slashes or brackets, holding [`PHONE_DIGITS`] digits (or empty when
/// `may_be_empty`). Kept as typed; [`phone_digits`] is what two numbers are compared by.
pub(crate) fn phone(field: &'static str, phone: &str, may_be_empty: bool) -> StoreResult<String> {
    let phone = line(field, phone, may_be_empty)?;
    if phone.is_empty() {
        return Ok(phone);
    }
    let (min, max) = PHONE_DIGITS;
    let allowed = |(i, c): (usize, char)| {
        c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '/' | '(' | ')') || (c == '+' && i == 0)
    };
    let digits = phone_digits(&phone).len();
    if !phone.chars().enumerate().all(allowed) || !(min..=max).contains(&digits) {
        return Err(StoreError::invalid(
            field,
            format!(
                "expected a phone number of {min}–{max} digits, optionally starting with + and grouped with \
                 spaces, dashes, dots or brackets (like +44 20 7946 0000), got {phone:?}"
            ),
        ));
    }
    Ok(phone)
}

/// The digits of a phone number, what two numbers are compared by ("+44 20 7946-0000" →
/// "442079460000").
pub fn phone_digits(phone: &str) -> String {
    phone.chars().filter(char::is_ascii_digit).collect()
}

/// JSON without NUL characters in any string (PostgreSQL's JSONB refuses them) and at most
/// [`MAX_TEXT_CHARS`] × 10 characters when written out.
pub(crate) fn json(field: &'static str, value: &Value) -> StoreResult<()> {
    fn has_nul(value: &Value) -> bool {
        match value {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().any(has_nul),
            Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
            _ => false,
        }
    }
    if has_nul(value) {
        return Err(StoreError::invalid(field, "must not contain NUL characters"));
    }
    let size = value.to_string().len();
    if size > MAX_TEXT_CHARS * 10 {
        return Err(StoreError::invalid(
            field,
            format!("at most {} bytes of JSON, got {size}", MAX_TEXT_CHARS * 10),
        ));
    }
    Ok(())
}

/// A number within a closed range.
pub(crate) fn range(field: &'static str, value: f64, min: f64, max: f64, unit: &str) -> StoreResult<f64> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(StoreError::invalid(
            field,
            format!("expected {min}–{max}{unit}, got {value}"),
        ))
    }
}

/// A whole number within a closed range.
pub(crate) fn int_range(field: &'static str, value: i64, min: i64, max: i64) -> StoreResult<i64> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(StoreError::invalid(
            field,
            format!("expected {min}–{max}, got {value}"),
        ))
    }
}

/// A date between the years 1900 and 2999, which both backends store and sort alike.
pub(crate) fn date(field: &'static str, date: Date) -> StoreResult<Date> {
    if (1900..=2999).contains(&date.year()) {
        Ok(date)
    } else {
        Err(StoreError::invalid(
            field,
            format!("expected a date in the years 1900–2999, got {date}"),
        ))
    }
}

/// A moment in UTC, to the second, in the years 1900–2999: stored the same in both backends
/// and read back equal.
pub(crate) fn moment(field: &'static str, at: OffsetDateTime) -> StoreResult<OffsetDateTime> {
    let at = at.to_offset(time::UtcOffset::UTC);
    date(field, at.date())?;
    Ok(at.replace_nanosecond(0).unwrap_or(at))
}

/// The search text of a client: lower-cased name, phone, phone digits and email, one per
/// line, so a case-insensitive substring search is a `LIKE` on one column in both backends.
pub(crate) fn client_search_text(name: &str, phone: &str, email: &str) -> String {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    format!(
        "{}\n{}\n{}\n{}",
        name.to_lowercase(),
        phone.to_lowercase(),
        digits,
        email.to_lowercase()
    )
}

/// A `LIKE` pattern for a case-insensitive substring, with `\`, `%` and `_` escaped.
pub(crate) fn like_pattern(query: &str) -> String {
    format!("%{}%", like_escape(&query.to_lowercase()))
}

/// `text` with `LIKE`'s `\`, `%` and `_` escaped by `\`, to be matched as typed.
pub(crate) fn like_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}
