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
    /// The client's touch-up is coming due (the forecast of their plan).
    TouchUpRecall,
}

impl MessageKind {
    /// Every kind.
    pub const ALL: [MessageKind; 8] = [
        MessageKind::BookingConfirmation,
        MessageKind::Reminder,
        MessageKind::Aftercare,
        MessageKind::NoShow,
        MessageKind::PortalLink,
        MessageKind::SignedConsent,
        MessageKind::Receipt,
        MessageKind::TouchUpRecall,
    ];

    /// The kinds the clinic chooses to send (`messages.send`) and a client can stop; the others
    /// are asked for by the client or owed to them, and always go.
    pub const OPTIONAL: [MessageKind; 5] = [
        MessageKind::BookingConfirmation,
        MessageKind::Reminder,
        MessageKind::Aftercare,
        MessageKind::NoShow,
        MessageKind::TouchUpRecall,
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
            MessageKind::TouchUpRecall => "touch_up_recall",
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
            MessageKind::TouchUpRecall => &[COMMON[0], COMMON[1], COMMON[2], "due_date"],
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
            MessageKind::TouchUpRecall => "Touch-up recall",
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

/// What starts on `day`, what still holds, and what is over from `day`.
fn aftercare_groups<'a>(lines: &[AftercareLine<'a>], day: u32) -> [Vec<&'a str>; 3] {
    let pick = |keep: &dyn Fn(&AftercareLine<'a>) -> bool| -> Vec<&'a str> {
        lines.iter().filter(|l| keep(l)).map(|l| l.text).collect()
    };
    [
        pick(&|l| l.from_day == day),
        pick(&|l| l.from_day < day && day <= l.to_day),
        pick(&|l| ends(l) == Some(day)),
    ]
}

/// What an aftercare message says on `day`: what starts today, what still holds, and what the
/// client may do again from today, as lines of text.
pub fn aftercare_text(lines: &[AftercareLine<'_>], day: u32) -> String {
    let [starts, holds, ended] = aftercare_groups(lines, day);
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

/// The same as [`aftercare_text`] on one line, for a text message: `From today: A; B. Still:
/// C. Over: D.`
pub fn aftercare_sms_text(lines: &[AftercareLine<'_>], day: u32) -> String {
    let [starts, holds, ended] = aftercare_groups(lines, day);
    [("From today", starts), ("Still", holds), ("Over", ended)]
        .into_iter()
        .filter(|(_, items)| !items.is_empty())
        .map(|(title, items)| {
            let items: Vec<&str> = items.iter().map(|i| i.trim().trim_end_matches('.')).collect();
            format!("{title}: {}.", items.join("; "))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

// ----- text messages (SMS) -----

/// The GSM 03.38 default alphabet (3GPP TS 23.038 §6.2.1): one 7-bit character each.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡\
    ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Its extension table (§6.2.1.1): an escape and a character, two each.
const GSM_EXTENDED: &str = "^{}\\[~]|€";

/// Characters a phone keyboard or a word processor puts in that the GSM alphabet lacks, and
/// the GSM characters that stand for them: one curly quote would otherwise make the whole
/// message UCS-2, 70 characters a part instead of 160.
const GSM_STAND_INS: [(char, &str); 13] = [
    ('\u{2018}', "'"),
    ('\u{2019}', "'"),
    ('\u{201a}', "'"),
    ('\u{2032}', "'"),
    ('\u{201c}', "\""),
    ('\u{201d}', "\""),
    ('\u{201e}', "\""),
    ('\u{2013}', "-"),
    ('\u{2014}', "-"),
    ('\u{2212}', "-"),
    ('\u{2026}', "..."),
    ('\u{2022}', "-"),
    ('\u{a0}', " "),
];

fn is_gsm(c: char) -> bool {
    GSM_BASIC.contains(c) || GSM_EXTENDED.contains(c)
}

/// How long a text message is on the air (3GPP TS 23.040 §9.2.3.24.1): in the GSM alphabet a
/// message of up to 160 characters is one part and a longer one goes in parts of 153 (the
/// rest of each part holds the header that joins them); a message with any other character
/// goes in UCS-2, 70 UTF-16 units alone or 67 a part. (A part boundary inside a two-unit
/// GSM character is not taken into account; it costs at most one unit a part.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsLength {
    /// Whether it goes in the GSM alphabet (else UCS-2).
    pub gsm: bool,
    /// Its length in the alphabet's units.
    pub units: usize,
    /// The parts it goes in (each billed by the provider as a message).
    pub parts: usize,
}

/// Units a text message of one part holds, and a part of a longer one, by alphabet.
fn part_units(gsm: bool) -> (usize, usize) {
    if gsm { (160, 153) } else { (70, 67) }
}

/// The length of a text message.
pub fn sms_length(text: &str) -> SmsLength {
    let gsm = text.chars().all(is_gsm);
    let units = if gsm {
        text.chars()
            .map(|c| if GSM_EXTENDED.contains(c) { 2 } else { 1 })
            .sum()
    } else {
        text.encode_utf16().count()
    };
    let (single, part) = part_units(gsm);
    let parts = if units <= single { 1 } else { units.div_ceil(part) };
    SmsLength { gsm, units, parts }
}

/// The units a text message of `parts` parts holds, in the GSM alphabet or UCS-2.
pub fn sms_capacity(gsm: bool, parts: usize) -> usize {
    let (single, part) = part_units(gsm);
    if parts <= 1 { single } else { part * parts }
}

/// Text for a text message: the GSM stand-ins put in, and spaces and tabs run together (line
/// breaks are kept).
fn sms_plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match GSM_STAND_INS.iter().find(|(from, _)| *from == c) {
            Some((_, to)) => out.push_str(to),
            None if c == '\t' => out.push(' '),
            None => out.push(c),
        }
    }
    let mut squeezed = String::with_capacity(out.len());
    for c in out.chars() {
        if c == ' ' && (squeezed.ends_with(' ') || squeezed.ends_with('\n')) {
            continue;
        }
        if c == '\n' && squeezed.ends_with(' ') {
            squeezed.pop();
        }
        squeezed.push(c);
    }
    squeezed.trim().to_owned()
}

/// `text` cut to at most `chars` characters at a word's end, with `...` after it when cut.
fn shorten(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_owned();
    }
    let keep = chars.saturating_sub("...".len());
    let cut: String = text.chars().take(keep).collect();
    let at_word = match cut.rfind([' ', '\n']) {
        Some(i) if i > 0 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}...", at_word.trim_end_matches([' ', ',', ';', ':', '.', '\n']))
}

/// A text message from a template: values on one line, typographic characters replaced by
/// their GSM stand-ins, and at most `max_parts` parts long. When the whole is longer, the
/// longest value is shortened first (at a word's end, with `...`), so the template's own words
/// — the clinic's name, "Reply STOP to opt out" — stay; only when the values are all short
/// is the end of the text cut.
pub fn sms_text(template: &str, values: &BTreeMap<&str, String>, max_parts: u32) -> String {
    let max_parts = usize::try_from(max_parts.max(1)).unwrap_or(1);
    let mut values: BTreeMap<&str, String> = values
        .iter()
        .map(|(k, v)| (*k, v.split_whitespace().collect::<Vec<_>>().join(" ")))
        .collect();
    let used: Vec<&str> = pieces(template)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| match p {
            Piece::Variable(name) => Some(name),
            Piece::Text(_) => None,
        })
        .collect();
    // Each round shortens one value by at least a character: at most as many rounds as there
    // are characters, but a few suffice (each cut is sized to the overflow).
    for _ in 0..=values.len() * 4 {
        let text = sms_plain(&render(template, &values));
        let length = sms_length(&text);
        let room = sms_capacity(length.gsm, max_parts);
        if length.units <= room {
            return text;
        }
        let over = length.units - room;
        let longest = values
            .iter()
            .filter(|(name, value)| used.contains(name) && value.chars().count() > "...".len())
            .max_by_key(|(_, value)| value.chars().count())
            .map(|(name, value)| (*name, value.chars().count()));
        let Some((name, chars)) = longest else {
            break;
        };
        let shorter = shorten(&values[name], chars.saturating_sub(over).max("...".len()));
        if shorter.chars().count() >= chars {
            break;
        }
        values.insert(name, shorter);
    }
    let text = sms_plain(&render(template, &values));
    let gsm = sms_length(&text).gsm;
    let mut chars = sms_capacity(gsm, max_parts);
    let mut out = shorten(&text, chars);
    while sms_length(&out).units > sms_capacity(gsm, max_parts) && chars > 0 {
        chars -= 1;
        out = shorten(&text, chars);
    }
    out
}

/// Words of a reply that stop a client's text messages (the carriers' and providers' standard
/// opt-out keywords: CTIA Messaging Principles and Best Practices §5.1; Twilio's defaults).
pub const STOP_WORDS: [&str; 6] = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"];
/// Words of a reply that start them again.
pub const START_WORDS: [&str; 2] = ["START", "UNSTOP"];

/// What a client's reply asks: `Some(true)` to stop text messages, `Some(false)` to start
/// them again, `None` for anything else. The whole reply is the keyword (trimmed, in any case):
/// "Stop the 10:00 one" is a message for the clinic, not an opt-out.
pub fn sms_keyword(reply: &str) -> Option<bool> {
    let word = reply.trim().to_uppercase();
    if STOP_WORDS.contains(&word.as_str()) {
        Some(true)
    } else if START_WORDS.contains(&word.as_str()) {
        Some(false)
    } else {
        None
    }
}

/// Digits an international phone number has at most with its country code (ITU-T E.164 §6.1),
/// and at least (the shortest in use have a 3-digit country code and a 4-digit number).
pub const E164_DIGITS: (usize, usize) = (7, 15);

/// A phone number as typed, in E.164 form (`+447700900123`), for a text message. A number
/// starting with `+` or `00` has its country code; any other is national, and gets
/// `calling_code` (the clinic's `clinic.calling_code`) in place of its leading trunk `0` (Italy,
/// +39, keeps its numbers' 0); a `(0)` after a country code is left out. The error says what is
/// wrong and what is allowed.
pub fn e164(phone: &str, calling_code: u32) -> Result<String, String> {
    let typed = phone.trim();
    if typed.is_empty() {
        return Err("no phone number".to_owned());
    }
    if let Some((at, bad)) = typed
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || " -./()".contains(c) || (c == '+' && i == 0)))
    {
        return Err(format!(
            "the phone number {typed:?} has {bad:?} at character {}; expected digits grouped with spaces, \
             dashes, dots, slashes or brackets, with + only first",
            at + 1
        ));
    }
    // "+44 (0)20 7946 0000": the bracketed trunk 0 is for callers inside the country.
    let written = if typed.starts_with('+') || typed.starts_with("00") {
        typed.replace("(0)", "")
    } else {
        typed.to_owned()
    };
    let digits: String = written.chars().filter(char::is_ascii_digit).collect();
    let international = if typed.starts_with('+') {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else {
        let national = if calling_code == 39 {
            digits.as_str()
        } else {
            digits.strip_prefix('0').unwrap_or(&digits)
        };
        format!("{calling_code}{national}")
    };
    let (min, max) = E164_DIGITS;
    if international.starts_with('0') || !(min..=max).contains(&international.len()) {
        return Err(format!(
            "the phone number {typed:?} is +{international} with its country code; expected a country code \
             (not starting with 0) and number of {min}–{max} digits in all (E.164)"
        ));
    }
    Ok(format!("+{international}"))
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
