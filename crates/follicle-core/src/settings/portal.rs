//! `[portal]` (the client's own pages: sign-in links and how long a device stays signed in) and
//! `[consent]` (what a client signs: versioned texts, and whether a session needs one) and
//! `[estimator]` (the public estimator and the booking requests it sends).

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

/// The clinic's public estimator (`/estimate/{clinic}`) and the booking requests it sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstimatorSettings {
    /// Whether the clinic's estimator answers at all.
    pub enabled: bool,
    /// Stages either side of the one a person picks that the price range covers.
    pub range_stages: u32,
    /// Estimates (with their previews) one address may ask for in an hour.
    pub estimates_per_address_per_hour: u32,
    /// Booking requests one address may send in an hour.
    pub requests_per_address_per_hour: u32,
    /// Booking requests the clinic takes in a day; beyond, they are refused and the clinic is
    /// told once that day.
    pub requests_per_day: u32,
    /// A form sent sooner than this many seconds after it was shown is a program's.
    pub min_fill_seconds: u32,
    /// Days a request that did not become a client is kept.
    pub keep_days: u32,
    /// Other web sites that may show the estimator in a frame (the clinic's `website` may).
    pub embed_origins: Vec<String>,
    /// What the page says about the data a person sends.
    pub privacy_notice: String,
}

impl EstimatorSettings {
    pub(crate) fn validate(&self) -> InputResult<()> {
        within_limit("estimator.range_stages", f64::from(self.range_stages))?;
        within_limit(
            "estimator.estimates_per_address_per_hour",
            f64::from(self.estimates_per_address_per_hour),
        )?;
        within_limit(
            "estimator.requests_per_address_per_hour",
            f64::from(self.requests_per_address_per_hour),
        )?;
        within_limit("estimator.requests_per_day", f64::from(self.requests_per_day))?;
        within_limit("estimator.min_fill_seconds", f64::from(self.min_fill_seconds))?;
        within_limit("estimator.keep_days", f64::from(self.keep_days))?;
        for (i, origin) in self.embed_origins.iter().enumerate() {
            if !is_origin(origin) {
                return Err(InputError::field(
                    format!("estimator.embed_origins[{i}]"),
                    format!(
                        "expected a web site's origin like https://www.example.com (no path), got {origin:?}"
                    ),
                ));
            }
        }
        if self.privacy_notice.trim().is_empty() {
            return Err(InputError::field(
                "estimator.privacy_notice",
                "expected the words shown beside the booking form, got none",
            ));
        }
        Ok(())
    }
}

/// `https://host[:port]` or `http://host[:port]`: what a Content-Security-Policy
/// `frame-ancestors` source may name, with nothing that could break out of the header.
pub fn is_origin(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest.len() <= 253
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        && !rest.starts_with(['.', '-', ':'])
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
