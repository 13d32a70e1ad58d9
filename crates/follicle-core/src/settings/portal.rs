//! `[portal]` (the client's own pages: sign-in links and how long a device stays signed in) and
//! `[consent]` (what a client signs: versioned texts, and whether a session needs one).

use serde::{Deserialize, Serialize};

use super::within_limit;
use crate::error::{InputError, InputResult};
use crate::messages::check_variables;

/// The client's own pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortalSettings {
    /// Minutes a sign-in link works (once).
    pub link_minutes: u32,
    /// Days a signed-in device stays signed in without being used.
    pub remember_days: u32,
    /// Sign-in links sent to one client a day, at most.
    pub links_per_day: u32,
}

impl PortalSettings {
    pub(crate) fn validate(&self) -> InputResult<()> {
        within_limit("portal.link_minutes", f64::from(self.link_minutes))?;
        within_limit("portal.remember_days", f64::from(self.remember_days))?;
        within_limit("portal.links_per_day", f64::from(self.links_per_day))
    }
}

/// What a client signs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentSettings {
    /// Whether a session can be logged only under a signed, standing procedure consent for its
    /// design.
    pub required_for_session: bool,
    /// The texts, one per kind ([`ConsentKind`]).
    pub templates: Vec<ConsentTemplate>,
}

/// One consent text, versioned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentTemplate {
    /// What it covers: `procedure`, `photos`, `marketing_email`, `marketing_sms`.
    pub id: String,
    /// Its version; a signed consent keeps it.
    pub version: String,
    /// Its title.
    pub title: String,
    /// Its text, paragraphs separated by blank lines, with `{variables}`
    /// ([`ConsentKind::variables`]).
    pub text: String,
}

/// What a consent covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentKind {
    /// The treatment itself, for one design and quote.
    Procedure,
    /// Photographs kept with the record.
    Photos,
    /// News and offers by email.
    MarketingEmail,
    /// News and offers by text message.
    MarketingSms,
}

impl ConsentKind {
    /// Every kind.
    pub const ALL: [ConsentKind; 4] = [
        ConsentKind::Procedure,
        ConsentKind::Photos,
        ConsentKind::MarketingEmail,
        ConsentKind::MarketingSms,
    ];

    /// The name in settings and records.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentKind::Procedure => "procedure",
            ConsentKind::Photos => "photos",
            ConsentKind::MarketingEmail => "marketing_email",
            ConsentKind::MarketingSms => "marketing_sms",
        }
    }

    /// The kind of a name.
    pub fn parse(text: &str) -> Option<ConsentKind> {
        ConsentKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// In words, for clients and the clinic.
    pub fn label(self) -> &'static str {
        match self {
            ConsentKind::Procedure => "Treatment",
            ConsentKind::Photos => "Photographs",
            ConsentKind::MarketingEmail => "News and offers by email",
            ConsentKind::MarketingSms => "News and offers by text message",
        }
    }

    /// The variables its text may use: the client's and clinic's names, and for the procedure
    /// the design and quote it is given for.
    pub fn variables(self) -> &'static [&'static str] {
        match self {
            ConsentKind::Procedure => &["client_name", "clinic_name", "design", "quote"],
            _ => &["client_name", "clinic_name"],
        }
    }
}

impl ConsentSettings {
    /// The text of a kind (validation keeps one for every kind).
    pub fn template(&self, kind: ConsentKind) -> Option<&ConsentTemplate> {
        self.templates.iter().find(|t| t.id == kind.as_str())
    }

    pub(crate) fn validate(&self) -> InputResult<()> {
        let e = |field: String, message: String| Err(InputError::field(&field, message));
        let ids = ConsentKind::ALL.map(ConsentKind::as_str).join(", ");
        for (i, t) in self.templates.iter().enumerate() {
            let Some(kind) = ConsentKind::parse(&t.id) else {
                return e(
                    format!("consent.templates[{i}].id"),
                    format!("expected one of {ids}, got {:?}", t.id),
                );
            };
            for (key, text) in [("version", &t.version), ("title", &t.title), ("text", &t.text)] {
                if text.trim().is_empty() {
                    return e(
                        format!("consent.templates[{i}].{key}"),
                        "expected some text, got none".to_owned(),
                    );
                }
            }
            let what = format!("a {} consent", kind.as_str());
            for (key, text) in [("title", &t.title), ("text", &t.text)] {
                if let Err(message) = check_variables(text, kind.variables(), &what) {
                    return e(format!("consent.templates[{i}].{key}"), message);
                }
            }
        }
        for kind in ConsentKind::ALL {
            if self.template(kind).is_none() {
                return e(
                    "consent.templates".to_owned(),
                    format!("expected a template with id {:?}, found none", kind.as_str()),
                );
            }
        }
        Ok(())
    }
}
