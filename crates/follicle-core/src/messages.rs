//! Messages to clients: their kinds, the `{variables}` of their templates, which days after a
//! session get an aftercare message and what it says, and when a message may go (the clinic's
//! time zone and quiet hours, and the wait before a failed one is tried again).
//!
//! Pure: the server's planner and sender (follicle-web) call these with the clinic's settings
//! (`[clinic]`, `[messages]`) and the client's plan.

use std::collections::BTreeMap;

use time::{Date, OffsetDateTime, UtcOffset};

use crate::settings::Settings;

/// A kind of message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageKind {
    /// A visit was booked.
    BookingConfirmation,
    /// A visit is coming (`messages.reminder_hours_before`).
    Reminder,
    /// A day after a session when the aftercare changes.
    Aftercare,
    /// The client missed a visit.
    NoShow,
    /// A sign-in link to the client's own pages, which they asked for.
    PortalLink,
    /// The copy of a consent the client signed (its PDF attached).
    SignedConsent,
    /// A receipt for a payment taken at the desk (its PDF attached).
    Receipt,
}

impl MessageKind {
    /// Every kind.
    pub const ALL: [MessageKind; 7] = [
        MessageKind::BookingConfirmation,
        MessageKind::Reminder,
        MessageKind::Aftercare,
        MessageKind::NoShow,
        MessageKind::PortalLink,
        MessageKind::SignedConsent,
        MessageKind::Receipt,
    ];

    /// The kinds the clinic chooses to send (`messages.send`) and a client can stop; the others
    /// are asked for by the client or owed to them, and always go.
    pub const OPTIONAL: [MessageKind; 4] = [
        MessageKind::BookingConfirmation,
        MessageKind::Reminder,
        MessageKind::Aftercare,
        MessageKind::NoShow,
    ];

    /// Whether the client asked for it or is owed it (it goes even to a client who stopped the
    /// clinic's other messages).
    pub fn always_sent(self) -> bool {
        !MessageKind::OPTIONAL.contains(&self)
    }

    /// The name in settings and records.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::BookingConfirmation => "booking_confirmation",
            MessageKind::Reminder => "reminder",
            MessageKind::Aftercare => "aftercare",
            MessageKind::NoShow => "no_show",
            MessageKind::PortalLink => "portal_link",
            MessageKind::SignedConsent => "signed_consent",
            MessageKind::Receipt => "receipt",
        }
    }

    /// The kind of a name.
    pub fn parse(text: &str) -> Option<MessageKind> {
        MessageKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The variables its templates may use.
    pub fn variables(self) -> &'static [&'static str] {
        const COMMON: [&str; 3] = ["client_name", "clinic_name", "unsubscribe_link"];
        match self {
            MessageKind::BookingConfirmation | MessageKind::Reminder | MessageKind::NoShow => &[
                COMMON[0],
                COMMON[1],
                COMMON[2],
                "visit_date",
                "visit_time",
                "visit_length",
            ],
            MessageKind::Aftercare => &[COMMON[0], COMMON[1], COMMON[2], "day", "aftercare"],
            MessageKind::PortalLink => &[COMMON[0], COMMON[1], "link", "expires"],
            MessageKind::SignedConsent => &[COMMON[0], COMMON[1], "title", "signed_at"],
            MessageKind::Receipt => &[COMMON[0], COMMON[1], "receipt_number", "amount", "paid_on"],
        }
    }

    /// In words, for the clinic's screens.
    pub fn label(self) -> &'static str {
        match self {
            MessageKind::BookingConfirmation => "Booking confirmation",
            MessageKind::Reminder => "Visit reminder",
            MessageKind::Aftercare => "Aftercare",
            MessageKind::NoShow => "Missed visit",
            MessageKind::PortalLink => "Sign-in link",
            MessageKind::SignedConsent => "Signed consent copy",
            MessageKind::Receipt => "Receipt",
        }
    }
}

/// A template in pieces: text, or a variable's name.
enum Piece<'a> {
    Text(&'a str),
    Variable(&'a str),
}

/// Splits a template; `{{` and `}}` are literal braces.
fn pieces(template: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        let Some(at) = rest.find(['{', '}']) else {
            out.push(Piece::Text(rest));
            break;
        };
        out.push(Piece::Text(&rest[..at]));
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push(Piece::Text("{"));
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push(Piece::Text("}"));
            rest = after;
        } else if tail.starts_with('}') {
            return Err("a lone } (write }} for a brace)".to_owned());
        } else {
            let Some(end) = tail.find('}') else {
                return Err(format!(
                    "{:?} is not closed with }}",
                    tail.chars().take(20).collect::<String>()
                ));
            };
            out.push(Piece::Variable(tail[1..end].trim()));
            rest = &tail[end + 1..];
        }
    }
    Ok(out)
}

/// Checks a template of a kind: every `{variable}` must be one the kind has. The error names
/// the unknown one and lists the allowed.
pub fn check_template(template: &str, kind: MessageKind) -> Result<(), String> {
    check_variables(
        template,
        kind.variables(),
        &format!("a {} message", kind.as_str()),
    )
}

/// Checks that every `{variable}` of a template is one of `allowed`; the error names the unknown
/// one and what `what` (`a reminder message`, `a consent text`) may use.
pub fn check_variables(template: &str, allowed: &[&str], what: &str) -> Result<(), String> {
    for piece in pieces(template)? {
        if let Piece::Variable(name) = piece
            && !allowed.contains(&name)
        {
            return Err(format!(
                "unknown variable {{{name}}}; {what} may use {}",
                allowed
                    .iter()
                    .map(|v| format!("{{{v}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(())
}

/// Fills a template's variables (a variable without a value is left empty; templates are
/// checked when the settings are read, so none is unknown).
pub fn render(template: &str, values: &BTreeMap<&str, String>) -> String {
    match pieces(template) {
        Ok(pieces) => pieces
            .into_iter()
            .map(|p| match p {
                Piece::Text(t) => t,
                Piece::Variable(name) => values.get(name).map_or("", String::as_str),
            })
            .collect(),
        Err(_) => template.to_owned(),
    }
}

/// One aftercare instruction as a plan gives it: from which day to which (inclusive), and what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AftercareLine<'a> {
    /// First day (0 = the session day).
    pub from_day: u32,
    /// Last day, inclusive.
    pub to_day: u32,
    /// The instruction.
    pub text: &'a str,
}

/// The day after an instruction of several days ends (a one-day instruction ending is no news).
fn ends(line: &AftercareLine<'_>) -> Option<u32> {
    (line.to_day > line.from_day).then(|| line.to_day.saturating_add(1))
}

/// The days after a session (1 to `last_day`) on which the aftercare changes — something starts
/// or something of several days ends — and so get a message. Day 0 is the session itself, when the client leaves
/// with the printed aftercare.
pub fn aftercare_days(lines: &[AftercareLine<'_>], last_day: u32) -> Vec<u32> {
    let mut days: Vec<u32> = lines
        .iter()
        .flat_map(|l| [Some(l.from_day), ends(l)])
        .flatten()
        .filter(|&d| (1..=last_day).contains(&d))
        .collect();
    days.sort_unstable();
    days.dedup();
    days
}

/// What an aftercare message says on `day`: what starts today, what still holds, and what the
/// client may do again from today, as lines of text.
pub fn aftercare_text(lines: &[AftercareLine<'_>], day: u32) -> String {
    let starts: Vec<&str> = lines
        .iter()
        .filter(|l| l.from_day == day)
        .map(|l| l.text)
        .collect();
    let holds: Vec<&str> = lines
        .iter()
        .filter(|l| l.from_day < day && day <= l.to_day)
        .map(|l| l.text)
        .collect();
    let ended: Vec<&str> = lines
        .iter()
        .filter(|l| ends(l) == Some(day))
        .map(|l| l.text)
        .collect();
    let mut out = String::new();
    let mut section = |title: &str, items: &[&str]| {
        if items.is_empty() {
            return;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(title);
        out.push('\n');
        for item in items {
            out.push_str("- ");
            out.push_str(item);
            out.push('\n');
        }
    };
    section("From today:", &starts);
    section("Still for now:", &holds);
    section("Over from today (no longer needed):", &ended);
    out
}

/// The clinic's UTC offset at an instant (UTC when the zone does not read; settings validation
/// refuses such a zone).
fn offset_at(settings: &Settings, at: OffsetDateTime) -> UtcOffset {
    let Ok(zone) = jiff::tz::TimeZone::get(&settings.clinic.time_zone) else {
        return UtcOffset::UTC;
    };
    let Ok(stamp) = jiff::Timestamp::from_second(at.unix_timestamp()) else {
        return UtcOffset::UTC;
    };
    UtcOffset::from_whole_seconds(zone.to_offset(stamp).seconds()).unwrap_or(UtcOffset::UTC)
}

/// An instant in the clinic's local time (for the words of a message).
pub fn local(settings: &Settings, at: OffsetDateTime) -> OffsetDateTime {
    at.to_offset(offset_at(settings, at))
}

/// The instant of a diary time. The diary keeps the clinic's wall clock (10:00 at the clinic is
/// stored as 10:00 UTC, like the plan's calendar times); this is the real instant of that wall
/// clock time in the clinic's time zone (10:00 in New York is 15:00 UTC in winter).
pub fn wall_clock(settings: &Settings, stored: OffsetDateTime) -> OffsetDateTime {
    let offset = offset_at(settings, stored);
    let guess = stored.replace_offset(offset).to_offset(UtcOffset::UTC);
    // Read the offset again at the instant found (a time near a clock change).
    stored
        .replace_offset(offset_at(settings, guess))
        .to_offset(UtcOffset::UTC)
}

/// The instant of a local day and hour in the clinic's time zone (a day of a clock change is
/// read with the offset in force at noon).
pub fn local_time(settings: &Settings, day: Date, hour: u32) -> OffsetDateTime {
    let hour = u8::try_from(hour.min(23)).unwrap_or(0);
    let noon = day.with_hms(12, 0, 0).unwrap_or(day.midnight()).assume_utc();
    let offset = offset_at(settings, noon);
    day.with_hms(hour, 0, 0)
        .unwrap_or(day.midnight())
        .assume_offset(offset)
        .to_offset(UtcOffset::UTC)
}

/// Whether a local hour is within the quiet hours (`quiet_from_hour` up to, not including,
/// `quiet_to_hour`, across midnight when from > to; none when they are equal).
fn quiet(settings: &Settings, hour: u32) -> bool {
    let (from, to) = (settings.messages.quiet_from_hour, settings.messages.quiet_to_hour);
    if from <= to {
        from <= hour && hour < to
    } else {
        hour >= from || hour < to
    }
}

/// `at`, or the end of the quiet hours when `at` falls within them.
pub fn outside_quiet_hours(settings: &Settings, at: OffsetDateTime) -> OffsetDateTime {
    let local_at = local(settings, at);
    if !quiet(settings, u32::from(local_at.hour())) {
        return at;
    }
    let quiet_to = settings.messages.quiet_to_hour;
    let day = if u32::from(local_at.hour()) >= quiet_to {
        local_at.date().next_day().unwrap_or(local_at.date())
    } else {
        local_at.date()
    };
    local_time(settings, day, quiet_to)
}

/// The wait before try `attempt + 1` after `attempt` failed ones: `retry_first_minutes`, doubled
/// after each, at most `retry_max_minutes`.
pub fn retry_delay(settings: &Settings, attempts: u32) -> time::Duration {
    let m = &settings.messages;
    let doubled = u64::from(m.retry_first_minutes).saturating_mul(1u64 << attempts.saturating_sub(1).min(20));
    let minutes = doubled.min(u64::from(m.retry_max_minutes));
    time::Duration::minutes(i64::try_from(minutes).unwrap_or(i64::MAX))
}
