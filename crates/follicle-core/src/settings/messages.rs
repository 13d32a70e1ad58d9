//! `[clinic]` (the clinic's own facts: its time zone and the profile its documents carry) and
//! `[messages]` (what the clinic sends its clients, when, and in which words).

use serde::{Deserialize, Serialize};

use super::within_limit;
use crate::error::{InputError, InputResult};
use crate::messages::{MessageKind, check_template};

/// The clinic's own facts: its time zone and the profile printed on what its clients receive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClinicSettings {
    /// The clinic's time zone, an IANA name (`Europe/London`): the local time of its messages.
    pub time_zone: String,
    /// The name on documents and pages for clients; empty: the name the clinic was created with.
    pub display_name: String,
    /// The postal address, lines separated by newlines.
    pub address: String,
    /// The telephone number clients call.
    pub phone: String,
    /// The email address clients write to.
    pub email: String,
    /// The website.
    pub website: String,
    /// A registration or licence number (a council's tattoo licence, a company number), if any.
    pub registration: String,
    /// The country calling code of clients' phone numbers written without one (`44`): a
    /// national number's leading 0 gives way to it for text messages (E.164).
    pub calling_code: u32,
}

/// The longest a profile field may be (characters).
const PROFILE_FIELD_MAX: usize = 300;

impl ClinicSettings {
    pub(crate) fn validate(&self) -> InputResult<()> {
        for (path, value) in [
            ("clinic.display_name", &self.display_name),
            ("clinic.address", &self.address),
            ("clinic.phone", &self.phone),
            ("clinic.email", &self.email),
            ("clinic.website", &self.website),
            ("clinic.registration", &self.registration),
        ] {
            let n = value.chars().count();
            if n > PROFILE_FIELD_MAX {
                return Err(InputError::field(
                    path,
                    format!("expected at most {PROFILE_FIELD_MAX} characters, got {n}"),
                ));
            }
            let multi_line = path == "clinic.address";
            if value
                .chars()
                .any(|c| c.is_control() && !(multi_line && c == '\n'))
            {
                return Err(InputError::field(
                    path,
                    format!("expected printable text, got {value:?}"),
                ));
            }
        }
        let email = self.email.trim();
        let looks_right = email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !email.contains(char::is_whitespace)
        });
        if !email.is_empty() && !looks_right {
            return Err(InputError::field(
                "clinic.email",
                format!("expected an email address such as hello@clinic.example, got {email:?}"),
            ));
        }
        within_limit("clinic.calling_code", f64::from(self.calling_code))?;
        if jiff::tz::TimeZone::get(&self.time_zone).is_err() {
            return Err(InputError::field(
                "clinic.time_zone",
                format!(
                    "expected a time zone name such as Europe/London, America/New_York or UTC, got {:?}",
                    self.time_zone
                ),
            ));
        }
        Ok(())
    }
}

/// The messages a clinic sends: quiet hours, when each kind goes, how often a failed one is
/// tried, and the templates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageSettings {
    /// No message goes out from this local hour…
    pub quiet_from_hour: u32,
    /// …to this one (a message due then waits until it ends).
    pub quiet_to_hour: u32,
    /// The local hour at which a day's aftercare message goes.
    pub aftercare_hour: u32,
    /// The last day after a session that gets an aftercare message.
    pub aftercare_last_day: u32,
    /// Hours before a visit that its reminder goes.
    pub reminder_hours_before: u32,
    /// Hours after a missed visit that the follow-up goes.
    pub no_show_follow_up_hours: u32,
    /// Tries before a message is given up and shown among the failed ones.
    pub max_attempts: u32,
    /// Minutes before the first retry; doubled after each failed try…
    pub retry_first_minutes: u32,
    /// …up to this many.
    pub retry_max_minutes: u32,
    /// The kinds the clinic sends (any of [`MessageKind::OPTIONAL`]; the others always go).
    pub send: Vec<String>,
    /// The kinds of `send` that also go by text message (SMS), to a client with a phone number
    /// who has not stopped them, when the server has an SMS provider (`[sms]`).
    pub sms_send: Vec<String>,
    /// The most parts a text message may take (a part is 160 GSM characters, 153 when there
    /// are several); a longer one is shortened.
    pub sms_max_parts: u32,
    /// Days before a client's touch-up falls due that the recall goes.
    pub touch_up_recall_days_before: u32,
    /// The local hour at which a recall goes.
    pub touch_up_recall_hour: u32,
    /// The words of each kind.
    pub templates: Vec<MessageTemplate>,
}

/// The words of one kind of message, with `{variables}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageTemplate {
    /// The kind (`aftercare`, …), which also identifies the template.
    pub id: String,
    /// The email's subject.
    pub subject: String,
    /// The email's text.
    pub body: String,
    /// The text message's words (short: see `messages.sms_max_parts`); none for the kinds
    /// that go by email only (a sign-in link, a signed consent).
    #[serde(default)]
    pub sms: String,
}

impl MessageSettings {
    /// The template of a kind (the defaults have one for every kind; validation keeps it so).
    pub fn template(&self, kind: MessageKind) -> Option<&MessageTemplate> {
        self.templates.iter().find(|t| t.id == kind.as_str())
    }

    /// Whether the clinic sends this kind.
    pub fn sends(&self, kind: MessageKind) -> bool {
        kind.always_sent() || self.send.iter().any(|k| k == kind.as_str())
    }

    /// Whether the clinic sends this kind by text message too (only kinds it sends, and never
    /// the ones a client asks for or is owed: a sign-in link and a signed consent's PDF go by
    /// email).
    pub fn sends_sms(&self, kind: MessageKind) -> bool {
        !kind.always_sent() && self.sends(kind) && self.sms_send.iter().any(|k| k == kind.as_str())
    }

    pub(crate) fn validate(&self) -> InputResult<()> {
        let e = |field: &str, message: String| Err(InputError::field(field, message));
        for (path, value) in [
            ("messages.quiet_from_hour", self.quiet_from_hour),
            ("messages.quiet_to_hour", self.quiet_to_hour),
            ("messages.aftercare_hour", self.aftercare_hour),
            ("messages.aftercare_last_day", self.aftercare_last_day),
            ("messages.reminder_hours_before", self.reminder_hours_before),
            ("messages.no_show_follow_up_hours", self.no_show_follow_up_hours),
            ("messages.max_attempts", self.max_attempts),
            ("messages.retry_first_minutes", self.retry_first_minutes),
            ("messages.retry_max_minutes", self.retry_max_minutes),
            ("messages.sms_max_parts", self.sms_max_parts),
            (
                "messages.touch_up_recall_days_before",
                self.touch_up_recall_days_before,
            ),
            ("messages.touch_up_recall_hour", self.touch_up_recall_hour),
        ] {
            within_limit(path, f64::from(value))?;
        }
        if self.retry_max_minutes < self.retry_first_minutes {
            return e(
                "messages.retry_max_minutes",
                format!(
                    "expected at least messages.retry_first_minutes ({}), got {}",
                    self.retry_first_minutes, self.retry_max_minutes
                ),
            );
        }
        let optional = MessageKind::OPTIONAL.map(MessageKind::as_str).join(", ");
        for (list, kinds) in [("send", &self.send), ("sms_send", &self.sms_send)] {
            for (i, kind) in kinds.iter().enumerate() {
                if MessageKind::parse(kind).is_none_or(|k| k.always_sent()) {
                    return e(
                        &format!("messages.{list}[{i}]"),
                        format!("expected one of {optional}, got {kind:?}"),
                    );
                }
            }
        }
        let words = MessageKind::ALL.map(MessageKind::as_str).join(", ");
        for (i, t) in self.templates.iter().enumerate() {
            let Some(kind) = MessageKind::parse(&t.id) else {
                return e(
                    &format!("messages.templates[{i}].id"),
                    format!("expected one of {words}, got {:?}", t.id),
                );
            };
            for (key, text) in [("subject", &t.subject), ("body", &t.body), ("sms", &t.sms)] {
                let by_email_only = key == "sms" && kind.always_sent();
                if by_email_only && !text.trim().is_empty() {
                    return e(
                        &format!("messages.templates[{i}].{key}"),
                        format!(
                            "expected none: {} messages go by email only, got {text:?}",
                            kind.as_str()
                        ),
                    );
                }
                if by_email_only {
                    continue;
                }
                if text.trim().is_empty() {
                    return e(
                        &format!("messages.templates[{i}].{key}"),
                        "expected some text, got none".to_owned(),
                    );
                }
                if let Err(message) = check_template(text, kind) {
                    return e(&format!("messages.templates[{i}].{key}"), message);
                }
            }
        }
        for kind in MessageKind::ALL {
            if self.template(kind).is_none() {
                return e(
                    "messages.templates",
                    format!("expected a template with id {:?}, found none", kind.as_str()),
                );
            }
        }
        Ok(())
    }
}
