//! Outgoing mail, over SMTP (`lettre`) to the relay in `[mail]`: password-reset links, and the
//! warning to an account's owner that someone is guessing its password.
//!
//! A reset is answered before its mail is sent (the mail goes from a background task), so
//! the answer and its timing are the same whether or not the email has an account. The
//! warning goes when an account reaches its sign-in delays, at most once per
//! `limits.signin_alert_every_hours` per account and app server (see [`SigninAlerts`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::client::Certificate;

use follicle_store::{ResetMail, SigninAlert};
use uuid::Uuid;

use crate::config::MailConfig;
use crate::relay::{HandOver, Relay};

/// The reset link of a token.
pub fn reset_link(config: &MailConfig, token: &str) -> String {
    format!("{}/reset?token={token}", config.public_url.trim_end_matches('/'))
}

/// The mail of a reset link, as text.
pub fn reset_text(config: &MailConfig, mail: &ResetMail) -> String {
    format!(
        "Hello {name},\n\n\
         Someone (we hope you) asked to set a new password for your Follicle account at {clinic}.\n\
         Open this link to choose one; it works once, until {expires} UTC:\n\n\
         {link}\n\n\
         If you did not ask, ignore this mail: your password stays as it is.\n",
        name = mail.name,
        clinic = mail.clinic_name,
        expires = mail
            .expires_at
            .format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]"
            ))
            .unwrap_or_default(),
        link = reset_link(config, &mail.token),
    )
}

/// Sends a reset link. The error is for the log (it never reaches whoever asked).
pub async fn send_reset(config: &MailConfig, mail: &ResetMail) -> Result<(), String> {
    send(
        config,
        &mail.to,
        format!("Your Follicle password at {}", mail.clinic_name),
        reset_text(config, mail),
    )
    .await
}

/// The warning to an account's owner that its password is being guessed, as text.
pub fn alert_text(config: &MailConfig, alert: &SigninAlert) -> String {
    format!(
        "Hello,\n\n\
         Someone has tried to sign in to your Follicle account ({email}) with a wrong password\n\
         {attempts} times; the latest try came from the address {address} at {at} UTC.\n\n\
         Nobody got in. Sign-ins to your account are now slowed down, except from a browser\n\
         where you have signed in before, so you can still sign in as usual.\n\n\
         If this was you, there is nothing to do. If it was not, choose a stronger password and\n\
         turn on two-factor sign-in under Account at {url}.\n",
        email = alert.email,
        attempts = alert.attempts,
        address = alert.address,
        at = alert
            .at
            .format(&time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]"
            ))
            .unwrap_or_default(),
        url = config.public_url.trim_end_matches('/'),
    )
}

/// Sends the warning of a [`SigninAlert`] to the account's owner.
pub async fn send_alert(config: &MailConfig, alert: &SigninAlert) -> Result<(), String> {
    send(
        config,
        &alert.email,
        "Someone is trying to sign in to your Follicle account".to_owned(),
        alert_text(config, alert),
    )
    .await
}

/// Tells a clinic's owner that its public estimator refused booking requests today because
/// the day's `estimator.requests_per_day` were reached (sent once a day: the first refusal).
pub async fn send_request_flood(
    config: &MailConfig,
    to: &str,
    clinic: &str,
    per_day: u32,
) -> Result<(), String> {
    send(
        config,
        to,
        format!("{clinic}: booking requests refused today"),
        format!(
            "Hello,\n\n\
             Your estimator page has received {per_day} booking requests in the last 24 hours, the\n\
             most your settings allow (estimator.requests_per_day), and has begun refusing more.\n\
             People who are refused are asked to try again tomorrow or to contact you directly.\n\n\
             This many requests in a day may be a program flooding the page. Look at the requests\n\
             under Requests at {url}; if they are real, raise the limit in Settings.\n",
            url = config.public_url.trim_end_matches('/'),
        ),
    )
    .await
}

/// Which accounts were warned when, so that an owner under a long guessing attack gets one
/// mail per `every`, not one per delay reached (per app server: a chain of servers may send
/// one each).
#[derive(Debug)]
pub struct SigninAlerts {
    every: Duration,
    sent: Mutex<HashMap<Uuid, Instant>>,
}

impl SigninAlerts {
    /// Warn an account at most once per `every`.
    pub fn new(every: Duration) -> SigninAlerts {
        SigninAlerts {
            every,
            sent: Mutex::new(HashMap::new()),
        }
    }

    /// Whether this alert's account should be warned now (and, if so, it is counted as warned).
    pub fn due(&self, alert: &SigninAlert) -> bool {
        let now = Instant::now();
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.retain(|_, at| now.duration_since(*at) < self.every);
        if sent.contains_key(&alert.user_id) {
            return false;
        }
        sent.insert(alert.user_id, now);
        true
    }
}

/// The certificates of `mail.ca_file`, read and parsed (checked when the configuration is
/// loaded, so a wrong path stops the server at start rather than at the first mail).
pub fn extra_roots(config: &MailConfig) -> Result<Vec<Certificate>, String> {
    if config.ca_file.is_empty() {
        return Ok(Vec::new());
    }
    let pem = std::fs::read(&config.ca_file)
        .map_err(|e| format!("mail.ca_file: cannot read {:?}: {e}", config.ca_file))?;
    let refused = |why: String| {
        format!(
            "mail.ca_file: {:?} is not a PEM certificate file ({why}); expected \"-----BEGIN CERTIFICATE-----\" blocks",
            config.ca_file
        )
    };
    // An empty list parses too: a file with no certificate in it is a mistake worth naming.
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    if !pem.windows(BEGIN.len()).any(|w| w == BEGIN) {
        return Err(refused("no certificate in it".to_owned()));
    }
    let certificate = Certificate::from_pem(&pem).map_err(|e| refused(e.to_string()))?;
    Ok(vec![certificate])
}

/// Sends one text mail. The error is for the log.
async fn send(config: &MailConfig, to: &str, subject: String, body: String) -> Result<(), String> {
    let mail = Mail {
        to: to.to_owned(),
        subject,
        body,
        message_id: None,
        unsubscribe: None,
        attachments: Vec::new(),
    };
    send_mail(config, &mail).await.map(|_| ()).map_err(|e| e.message)
}

/// A mail to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The text.
    pub body: String,
    /// The Message-ID to give it (`<id@host>`), or `None` for one made by lettre.
    pub message_id: Option<String>,
    /// The unsubscribe link, sent as `List-Unsubscribe` with one-click unsubscribe
    /// (`List-Unsubscribe-Post`, RFC 8058), so mail programs offer the button themselves.
    pub unsubscribe: Option<String>,
    /// Files attached: (file name, content type, bytes).
    pub attachments: Vec<(String, String, Vec<u8>)>,
}

/// Why a mail did not go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailError {
    /// What happened, for the clinic and the log.
    pub message: String,
    /// True when trying again cannot help (the relay refused the recipient for good, or the
    /// address cannot be right); false for what may pass (a timeout, a busy relay).
    pub permanent: bool,
}

impl MailError {
    fn permanent(message: String) -> MailError {
        MailError {
            message,
            permanent: true,
        }
    }
}

#[derive(Clone)]
struct ListUnsubscribe(String);

impl lettre::message::header::Header for ListUnsubscribe {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_owned()))
    }
    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

#[derive(Clone)]
struct ListUnsubscribePost;

impl lettre::message::header::Header for ListUnsubscribePost {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// The connections to the relay, kept by the job queue's worker: messages go over open
/// connections (no connection set-up, and no QUIT round trip between the relay's acceptance of a
/// message and the worker recording it), each handed over once (see [`crate::relay`]).
#[derive(Debug)]
pub struct Mailer {
    config: MailConfig,
    relay: Relay,
}

impl Mailer {
    /// At most `connections` connections to the relay of `config`.
    pub fn new(config: &MailConfig, connections: u32) -> Result<Mailer, MailError> {
        let relay = Relay::new(config, connections).map_err(|message| MailError {
            permanent: !config.smtp_host.is_empty(),
            message,
        })?;
        Ok(Mailer {
            config: config.clone(),
            relay,
        })
    }

    /// The mail as the relay gets it: its envelope, its text and its Message-ID.
    fn build(&self, mail: &Mail) -> Result<(lettre::address::Envelope, Vec<u8>, String), MailError> {
        let from: Mailbox = self
            .config
            .from
            .parse()
            .map_err(|e| MailError::permanent(format!("mail.from: {e}")))?;
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| MailError::permanent(format!("the address {:?} cannot be right: {e}", mail.to)))?;
        let mut builder = Message::builder()
            .from(from)
            .to(to)
            .subject(mail.subject.clone())
            .message_id(mail.message_id.clone());
        if let Some(link) = &mail.unsubscribe {
            builder = builder
                .header(ListUnsubscribe(link.clone()))
                .header(ListUnsubscribePost);
        }
        let built = if mail.attachments.is_empty() {
            builder.header(ContentType::TEXT_PLAIN).body(mail.body.clone())
        } else {
            let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(mail.body.clone()));
            for (name, content_type, bytes) in &mail.attachments {
                let content_type = ContentType::parse(content_type)
                    .map_err(|e| MailError::permanent(format!("attachment {name}: {e}")))?;
                parts = parts.singlepart(Attachment::new(name.clone()).body(bytes.clone(), content_type));
            }
            builder.multipart(parts)
        };
        let message = built.map_err(|e| MailError::permanent(format!("building the mail: {e}")))?;
        let id = message
            .headers()
            .get_raw("Message-ID")
            .unwrap_or_default()
            .to_owned();
        Ok((message.envelope().clone(), message.formatted(), id))
    }

    /// Hands a mail over with `commit` at the gate (given the Message-ID; answers whether the
    /// mail may go, recorded as sent): see [`crate::relay`]. `Err` when it never reached the
    /// gate (nothing recorded).
    pub async fn hand_over<C, F>(&self, mail: &Mail, commit: C) -> Result<HandOver, MailError>
    where
        C: FnOnce(String) -> F,
        F: std::future::Future<Output = bool>,
    {
        let (envelope, text, id) = self.build(mail)?;
        self.relay
            .hand_over(&envelope, &text, || commit(id))
            .await
            .map_err(|e| MailError {
                message: e.message,
                permanent: e.permanent,
            })
    }

    /// Sends a mail with nothing to record; answers its Message-ID.
    pub async fn send(&self, mail: &Mail) -> Result<String, MailError> {
        let mut sent = String::new();
        let handed = self
            .hand_over(mail, |id| {
                sent = id;
                std::future::ready(true)
            })
            .await?;
        match handed {
            HandOver::Accepted | HandOver::Unconfirmed(_) => Ok(sent),
            HandOver::Refused { message, permanent } => Err(MailError { message, permanent }),
            HandOver::NotOurs => Err(MailError::permanent("the mail was held back".to_owned())),
        }
    }
}

/// Sends one mail over a connection of its own; answers its Message-ID.
pub async fn send_mail(config: &MailConfig, mail: &Mail) -> Result<String, MailError> {
    Mailer::new(config, 1)?.send(mail).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(user_id: Uuid) -> SigninAlert {
        SigninAlert {
            user_id,
            email: "desk@clinic.example".into(),
            address: "192.0.2.7".into(),
            attempts: 5,
            at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn an_account_is_warned_once_per_period() {
        let alerts = SigninAlerts::new(Duration::from_secs(3600));
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert!(alerts.due(&alert(a)));
        assert!(!alerts.due(&alert(a)), "the same account again within the hour");
        assert!(alerts.due(&alert(b)), "another account");
        let soon = SigninAlerts::new(Duration::ZERO);
        assert!(soon.due(&alert(a)));
        assert!(soon.due(&alert(a)), "a period of zero forgets at once");
    }

    #[test]
    fn the_warning_names_the_account_the_address_and_the_way_out() {
        let text = alert_text(&MailConfig::default(), &alert(Uuid::from_u128(1)));
        for needle in [
            "desk@clinic.example",
            "5 times",
            "192.0.2.7",
            "1970-01-01 00:00",
            "two-factor",
        ] {
            assert!(text.contains(needle), "{needle} not in {text}");
        }
    }
}
