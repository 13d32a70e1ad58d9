//! Outgoing mail: password-reset links, over SMTP (`lettre`) to the relay in `[mail]`.
//!
//! A reset is answered before its mail is sent (the mail goes from a background task), so
//! the answer and its timing are the same whether or not the email has an account.

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use follicle_store::ResetMail;

use crate::config::MailConfig;

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
    if config.smtp_host.is_empty() {
        return Err("mail.smtp_host is not set: no mail is sent".to_owned());
    }
    let from: Mailbox = config.from.parse().map_err(|e| format!("mail.from: {e}"))?;
    let to: Mailbox = mail.to.parse().map_err(|e| format!("recipient: {e}"))?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(format!("Your Follicle password at {}", mail.clinic_name))
        .header(ContentType::TEXT_PLAIN)
        .body(reset_text(config, mail))
        .map_err(|e| format!("building the mail: {e}"))?;
    let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.smtp_host)
        .port(config.smtp_port)
        .timeout(Some(std::time::Duration::from_secs(
            config.timeout_seconds.max(1),
        )));
    if !config.username.is_empty() {
        transport = transport.credentials(Credentials::new(config.username.clone(), config.password.clone()));
    }
    transport
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("SMTP: {e}"))
}
