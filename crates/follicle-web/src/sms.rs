//! Text messages (SMS) to clients through a provider's HTTP API, and the provider's webhook
//! that brings their replies (STOP, START).
//!
//! The adapter speaks Twilio's Messages API (`POST {base_url}/2010-04-01/Accounts/{account}/
//! Messages.json`, a form with `To`, `From` and `Body`, HTTP basic authentication with the
//! account and its auth token), which other providers offer too. Each send is one HTTP/1.1
//! exchange on a connection of its own, bounded as a whole by `sms.timeout_seconds`, with at
//! most [`MAX_ANSWER_BYTES`] of the answer read. Whether a failure is worth another try is the
//! provider's answer: a 4xx that no retry can change (an invalid or unreachable number, a
//! client who replied STOP to the provider) is permanent and the message goes to the failed
//! ones with the provider's own words; 5xx, 429, 408, a refused sign-in (credentials can be
//! put right) and timeouts are tried again by the job queue's backoff.
//!
//! Built on hyper's client and the rustls (ring) and system certificates that the SMTP relay's
//! connection already builds, rather than on reqwest: reqwest is in the lock file only through
//! `object_store`'s S3 backend, and its rustls feature would add aws-lc-rs (a C build) to every
//! build of the server (see ARCHITECTURE.md, "Text messages over hyper's client").
//!
//! The webhook (`POST /sms/inbound/{clinic}`) takes the provider's form of a reply. It checks
//! Twilio's signature (`X-Twilio-Signature`: base64 of HMAC-SHA1 under the auth token of the
//! URL the provider called followed by every parameter's name and value, sorted by name), so
//! a forged reply changes nothing (403); it takes at most `sms.inbound_per_minute` replies per
//! clinic a minute (429 past it, counted in the database so every app server shares the
//! count). A reply of one of [`follicle_core::messages::STOP_WORDS`] stops text messages to
//! every client of the clinic with that number, START starts them again; the reply goes on
//! each client's message log.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, Request, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use sha1::Sha1;
use tokio::io::{AsyncRead, AsyncWrite};
use uuid::Uuid;

use crate::config::SmsConfig;
use crate::error::ApiError;
use crate::state::AppState;

/// The most of a provider's answer that is read: its JSON is about 1 KiB; an error page from
/// a proxy in between may be more, and is not worth holding.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The largest reply form the webhook reads (Twilio's has some 20 short fields; a text
/// message is at most 1,600 characters).
pub const MAX_INBOUND_BYTES: usize = 16 * 1024;

/// Why a text message did not go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsError {
    /// What happened, for the clinic and the log.
    pub message: String,
    /// True when trying again cannot help (the provider refused the number or the message for
    /// good); false for what may pass (a timeout, a busy or failing provider).
    pub permanent: bool,
}

impl SmsError {
    fn again(message: String) -> SmsError {
        SmsError {
            message,
            permanent: false,
        }
    }
}

/// Where the API is: scheme, host, port and path prefix of `sms.base_url`.
#[derive(Debug, Clone)]
struct Endpoint {
    https: bool,
    host: String,
    port: u16,
    authority: String,
    prefix: String,
}

fn endpoint(base_url: &str) -> Result<Endpoint, String> {
    let bad = || {
        format!(
            "sms.base_url: expected https://host[:port][/path] (or http:// for a local test server), got {base_url:?}"
        )
    };
    let uri: Uri = base_url.parse().map_err(|_| bad())?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(bad()),
    };
    let host = uri.host().ok_or_else(bad)?.trim_matches(['[', ']']).to_owned();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let authority = uri.authority().map(|a| a.as_str().to_owned()).ok_or_else(bad)?;
    Ok(Endpoint {
        https,
        host,
        port,
        authority,
        prefix: uri.path().trim_end_matches('/').to_owned(),
    })
}

/// TLS to `whom` (the SMS provider, the SMTP relay over implicit TLS): rustls with ring (as
/// lettre's STARTTLS) and the system's certificates, with those of `ca_file` (PEM) when set.
pub(crate) fn tls_connector(ca_file: &str, whom: &str) -> Result<tokio_rustls::TlsConnector, String> {
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_native_certs::load_native_certs().certs {
        // A certificate the system lists but rustls cannot read is left out.
        let _ = roots.add(certificate);
    }
    if !ca_file.is_empty() {
        let pem = std::fs::read(ca_file).map_err(|e| format!("cannot read {ca_file:?}: {e}"))?;
        for certificate in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
            let certificate =
                certificate.map_err(|e| format!("{ca_file:?} is not a PEM certificate file: {e}"))?;
            roots
                .add(certificate)
                .map_err(|e| format!("{ca_file:?}: a certificate rustls cannot use: {e}"))?;
        }
    }
    if roots.is_empty() {
        return Err(format!(
            "no trusted certificates found on this system for the TLS of {whom} (install ca-certificates)"
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS for {whom}: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// The text-message sender of a worker: the provider's address, account and TLS settings,
/// made once.
pub struct SmsSender {
    config: SmsConfig,
    endpoint: Endpoint,
    tls: Option<tokio_rustls::TlsConnector>,
}

impl std::fmt::Debug for SmsSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsSender")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What the provider answers to a message it took.
#[derive(Debug, serde::Deserialize)]
struct Accepted {
    #[serde(default)]
    sid: String,
}

/// What it answers to one it refused (Twilio's error object).
#[derive(Debug, serde::Deserialize)]
struct Refused {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: String,
}

/// Whether a refusal with this status may pass when tried again: a timeout, a conflict, too
/// many requests, a refused sign-in (the account's token can be put right; the failed
/// messages can then be sent again) and every 5xx. Any other 4xx is about this message and
/// stays so.
fn worth_another_try(status: StatusCode) -> bool {
    !status.is_client_error()
        || matches!(
            status,
            StatusCode::REQUEST_TIMEOUT
                | StatusCode::CONFLICT
                | StatusCode::TOO_MANY_REQUESTS
                | StatusCode::UNAUTHORIZED
                | StatusCode::FORBIDDEN
        )
}

/// The outcome of the provider's answer: its id of the message, or why not.
fn read_answer(status: StatusCode, body: &[u8]) -> Result<String, SmsError> {
    if status.is_success() {
        let accepted: Accepted = serde_json::from_slice(body).map_err(|e| SmsError {
            // It may have been sent: trying again could send it twice. A person looks.
            message: format!("SMS provider answered {status} with an answer that does not read ({e})"),
            permanent: true,
        })?;
        return Ok(accepted.sid);
    }
    let why = match serde_json::from_slice::<Refused>(body) {
        Ok(Refused {
            code: Some(code),
            message,
        }) => format!("{message} (provider's error {code})"),
        Ok(Refused { code: None, message }) if !message.is_empty() => message,
        _ => String::from_utf8_lossy(&body[..body.len().min(200)])
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    };
    Err(SmsError {
        message: format!("SMS provider answered {status}: {why}"),
        permanent: !worth_another_try(status),
    })
}

impl SmsSender {
    /// A sender for `[sms]`; an error (for every message's record) when text messages are not
    /// set up or cannot be.
    pub fn new(config: &SmsConfig) -> Result<SmsSender, SmsError> {
        if !config.enabled() {
            return Err(SmsError::again(
                "sms.account_sid is not set in the server's configuration: no text messages are sent"
                    .to_owned(),
            ));
        }
        let endpoint = endpoint(&config.base_url).map_err(SmsError::again)?;
        let tls = if endpoint.https {
            Some(tls_connector("", "the SMS provider").map_err(SmsError::again)?)
        } else {
            None
        };
        Ok(SmsSender {
            config: config.clone(),
            endpoint,
            tls,
        })
    }

    /// Sends `body` to `to` (E.164); answers the provider's id of the message.
    pub async fn send(&self, to: &str, body: &str) -> Result<String, SmsError> {
        let seconds = self.config.timeout_seconds.max(1);
        match tokio::time::timeout(Duration::from_secs(seconds), self.exchange(to, body)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(SmsError::again(format!(
                "SMS provider: no answer within {seconds} s (sms.timeout_seconds)"
            ))),
        }
    }

    async fn exchange(&self, to: &str, body: &str) -> Result<String, SmsError> {
        let e = &self.endpoint;
        let path = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            e.prefix, self.config.account_sid
        );
        let form =
            serde_urlencoded::to_string([("To", to), ("From", self.config.from.as_str()), ("Body", body)])
                .map_err(|err| SmsError {
                    message: format!("the message's form: {err}"),
                    permanent: true,
                })?;
        let credentials = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.config.account_sid, self.config.auth_token));
        let request = Request::post(path)
            .header(header::HOST, e.authority.as_str())
            .header(header::AUTHORIZATION, format!("Basic {credentials}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header(
                header::USER_AGENT,
                concat!("follicle/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(Bytes::from(form)))
            .map_err(|err| SmsError {
                message: format!("the request to the SMS provider: {err}"),
                permanent: true,
            })?;
        let tcp = tokio::net::TcpStream::connect((e.host.as_str(), e.port))
            .await
            .map_err(|err| {
                SmsError::again(format!("SMS provider: cannot connect to {}: {err}", e.authority))
            })?;
        let (status, answer) = match &self.tls {
            Some(tls) => {
                let name = rustls::pki_types::ServerName::try_from(e.host.as_str())
                    .map(|n| n.to_owned())
                    .map_err(|err| SmsError::again(format!("SMS provider host {:?}: {err}", e.host)))?;
                let stream = tls.connect(name, tcp).await.map_err(|err| {
                    SmsError::again(format!("SMS provider: TLS with {}: {err}", e.authority))
                })?;
                exchange_on(stream, request).await?
            }
            None => exchange_on(tcp, request).await?,
        };
        read_answer(status, &answer)
    }
}

/// One request and its answer (at most [`MAX_ANSWER_BYTES`] of it) on a fresh connection.
/// The connection is driven beside the exchange, not spawned: when a send times out, the
/// whole of it is dropped.
async fn exchange_on<S>(stream: S, request: Request<Full<Bytes>>) -> Result<(StatusCode, Bytes), SmsError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|err| SmsError::again(format!("SMS provider: HTTP: {err}")))?;
    let exchange = async move {
        let response = sender
            .send_request(request)
            .await
            .map_err(|err| SmsError::again(format!("SMS provider: HTTP: {err}")))?;
        let status = response.status();
        let answer = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|err| {
                // Longer than any answer of the API: not the provider, or not itself. Whether
                // the message went cannot be told; the status says how it ended.
                SmsError::again(format!(
                    "SMS provider answered {status} with more than {MAX_ANSWER_BYTES} bytes, or broke off ({err})"
                ))
            })?
            .to_bytes();
        drop(sender);
        Ok((status, answer))
    };
    let (outcome, _) = tokio::join!(exchange, connection);
    outcome
}

// ----- the webhook of replies -----

/// The HMAC-SHA1, under the auth token, of the URL the provider called followed by each form
/// parameter's name and value, sorted by name (and value, for a name given twice).
fn signed(auth_token: &str, url: &str, params: &[(String, String)]) -> Option<Hmac<Sha1>> {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).ok()?;
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    Some(mac)
}

/// Twilio's signature of a request (`X-Twilio-Signature`): base64 of the HMAC-SHA1, under the
/// auth token, of the URL the provider called followed by each form parameter's name and value,
/// sorted by name. [`signature_holds`] checks one.
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    signed(auth_token, url, params)
        .map(|mac| base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
        .unwrap_or_default()
}

/// Whether `signature` is Twilio's signature of this request (compared in constant time);
/// never with an empty token.
pub fn signature_holds(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    !auth_token.is_empty()
        && signed(auth_token, url, params).is_some_and(|mac| mac.verify_slice(&given).is_ok())
}

/// The routes of the provider's webhook (public: the signature is the proof).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sms/inbound/{clinic}", post(inbound))
        .layer(DefaultBodyLimit::max(MAX_INBOUND_BYTES))
}

/// The answer the provider expects: TwiML with nothing to send back (the provider answers
/// STOP and START itself, as carriers require).
fn twiml_ok() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
    )
        .into_response()
}

/// The address the provider called, as it signed it: the public address of this server
/// (`mail.public_url`, as the provider is told to call it), the path, and the query if any.
fn called_url(state: &AppState, clinic: &str, query: Option<&str>) -> String {
    let public = state.config().mail.public_url.trim_end_matches('/');
    match query {
        Some(q) if !q.is_empty() => format!("{public}/sms/inbound/{clinic}?{q}"),
        _ => format!("{public}/sms/inbound/{clinic}"),
    }
}

/// A reply forwarded by the provider: STOP or START changes the clients with that number.
async fn inbound(
    State(state): State<AppState>,
    Path(clinic): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let config = &state.config().sms;
    if !config.enabled() {
        return Err(ApiError::not_found("text messages on this server"));
    }
    let clinic_id: Uuid = clinic.parse().map_err(|_| ApiError::not_found("clinic"))?;
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).map_err(|e| {
        ApiError::invalid(
            "body",
            format!("expected the provider's form (application/x-www-form-urlencoded), got one that does not read: {e}"),
        )
    })?;
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let url = called_url(&state, &clinic, query.as_deref());
    if !signature_holds(&config.auth_token, &url, &params, signature) {
        tracing::warn!(clinic = %clinic_id, "an SMS reply with a missing or wrong signature was refused");
        let mut refused = ApiError::bad_request(format!(
            "X-Twilio-Signature: missing or not the provider's signature of this request to {url} \
             (signed with sms.auth_token; the provider must call mail.public_url)"
        ));
        refused.status = StatusCode::FORBIDDEN;
        refused.detail.code = "forbidden";
        return Err(refused);
    }
    let hits = state
        .store()
        .count_public_hit(&format!("sms-inbound:{clinic_id}"), 60)
        .await?;
    if hits > config.inbound_per_minute {
        return Err(ApiError::rate_limited(
            format!(
                "more than {} replies to this clinic this minute (sms.inbound_per_minute); try again in a minute",
                config.inbound_per_minute
            ),
            60,
        ));
    }
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let Some(stop) = follicle_core::messages::sms_keyword(param("Body")) else {
        // A message for the clinic, not a keyword: nothing to change (the provider's console
        // keeps it).
        return Ok(twiml_ok());
    };
    let (_, settings) = state.clinic_for_clients(clinic_id).await?;
    let calling_code = settings.clinic.calling_code;
    let Ok(from) = follicle_core::messages::e164(param("From"), calling_code) else {
        return Err(ApiError::invalid(
            "From",
            format!(
                "expected the sender's number in E.164 form, got {:?}",
                param("From")
            ),
        ));
    };
    let replied = state
        .store()
        .sms_reply(
            clinic_id,
            &from,
            calling_code,
            stop,
            param("Body"),
            param("MessageSid"),
        )
        .await?;
    match replied {
        Some(r) => tracing::info!(
            clinic = %clinic_id,
            clients = r.clients.len(),
            repeated = r.repeated,
            stop,
            "an SMS reply changed the clients' text messages"
        ),
        None => return Err(ApiError::not_found("clinic")),
    }
    Ok(twiml_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_s_own_example_signature() {
        // Twilio's documented example ("Validating signatures from Twilio").
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let token = "12345";
        let signature = twilio_signature(token, url, &params);
        assert_eq!(signature, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(signature_holds(token, url, &params, &signature));
        assert!(!signature_holds("other", url, &params, &signature));
        assert!(!signature_holds(token, url, &params[1..], &signature));
        assert!(!signature_holds(token, url, &params, "not base64!"));
    }

    #[test]
    fn a_refusal_says_whether_to_try_again() {
        let invalid = read_answer(
            StatusCode::BAD_REQUEST,
            br#"{"code": 21211, "message": "Invalid 'To' Phone Number: +4411", "status": 400}"#,
        )
        .unwrap_err();
        assert!(invalid.permanent);
        assert!(
            invalid.message.contains("Invalid 'To' Phone Number") && invalid.message.contains("21211"),
            "{}",
            invalid.message
        );
        for status in [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::UNAUTHORIZED,
        ] {
            assert!(
                !read_answer(status, b"<html>busy</html>").unwrap_err().permanent,
                "{status}"
            );
        }
        assert_eq!(
            read_answer(StatusCode::CREATED, br#"{"sid": "SM123", "status": "queued"}"#),
            Ok("SM123".to_owned())
        );
    }

    #[test]
    fn the_endpoint_of_a_base_url() {
        let e = endpoint("http://127.0.0.1:7600/twilio/").unwrap();
        assert_eq!(
            (e.https, e.host.as_str(), e.port, e.prefix.as_str()),
            (false, "127.0.0.1", 7600, "/twilio")
        );
        let e = endpoint("https://api.twilio.com").unwrap();
        assert_eq!(
            (e.https, e.port, e.authority.as_str()),
            (true, 443, "api.twilio.com")
        );
        assert!(endpoint("ftp://x").unwrap_err().contains("sms.base_url"));
    }
}
