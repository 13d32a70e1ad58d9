//! Request extractors that answer bad input with an [`ApiError`] (JSON, naming the field)
//! instead of axum's plain-text rejections: [`JsonBody`], [`Id`], [`QueryArgs`], and the
//! signed-in user, [`SignedIn`], which also checks the CSRF token.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{Method, header};
use follicle_store::Actor;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "follicle_session";
/// The CSRF cookie's name (readable by the page's scripts; not a secret on its own).
pub const CSRF_COOKIE: &str = "follicle_csrf";
/// The device cookie's name: set at a sign-in, it lets this browser's next sign-ins to the
/// same account past a stranger's guessing (see `follicle_store::SigninLimits`).
pub const DEVICE_COOKIE: &str = "follicle_device";
/// The header a cookie-authenticated unsafe request carries the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A JSON body of at most `server.max_json_bytes`, deserialized with the path of any field
/// that does not fit (`422 {"field": "sessions[0].zones[1]"}`).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mime = content_type.split(';').next().unwrap_or("").trim();
        if !(mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")) {
            return Err(ApiError::unsupported_media_type(format!(
                "expected Content-Type application/json, got {:?}",
                content_type
            )));
        }
        let limit = state.config().server.max_json_bytes;
        let bytes = read_body(req, limit).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Reads a body of at most `limit` bytes (413 beyond it, without reading further).
pub async fn read_body(req: Request, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| ApiError::too_large(limit))
}

/// Deserializes JSON, naming the path of the field that does not fit.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner: ApiError = e.into_inner().into();
        if inner.detail.code == "invalid" && path != "." {
            let mut out = inner;
            out.detail.field = Some(path);
            out
        } else {
            inner
        }
    })?;
    de.end().map_err(ApiError::from)?;
    Ok(value)
}

/// A record id from the path. Anything that is not an id is "not found", like an id of
/// another clinic.
#[derive(Debug, Clone, Copy)]
pub struct Id(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(text) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("record"))?;
        Uuid::parse_str(&text)
            .map(Id)
            .map_err(|_| ApiError::not_found("record"))
    }
}

/// Query-string arguments; a value that does not fit is a 422 naming it.
#[derive(Debug)]
pub struct QueryArgs<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryArgs<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| QueryArgs(v))
            .map_err(|e| ApiError::invalid("query", e.body_text()))
    }
}

/// The caller's address, for the sign-in limits: the socket's peer; when that peer is one of
/// `server.trusted_proxies`, the right-most `X-Forwarded-For` entry that is not a trusted
/// proxy (entries to its left were written by the client or by proxies nobody vouches for).
#[derive(Debug, Clone)]
pub struct PeerAddr(pub String);

impl FromRequestParts<AppState> for PeerAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let Some(peer) = peer else {
            return Ok(PeerAddr("unknown".to_owned()));
        };
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        Ok(PeerAddr(
            client_address(peer, &forwarded, &state.config().server.trusted_proxies).to_string(),
        ))
    }
}

/// The client of a request that came from `peer` with these `X-Forwarded-For` entries (in
/// header order), believing only `trusted` proxies. An entry that is not an address ends the
/// walk: it is what the first untrusted hop wrote.
pub fn client_address(peer: IpAddr, forwarded: &[&str], trusted: &[String]) -> String {
    let blocks: Vec<IpBlock> = trusted.iter().filter_map(|t| IpBlock::parse(t)).collect();
    let is_trusted = |ip: &IpAddr| blocks.iter().any(|b| b.contains(ip));
    if !is_trusted(&peer) {
        return peer.to_string();
    }
    let mut client = peer.to_string();
    for entry in forwarded.iter().rev() {
        let entry = entry.trim();
        match entry.parse::<IpAddr>() {
            Ok(ip) if is_trusted(&ip) => client = ip.to_string(),
            Ok(ip) => return ip.to_string(),
            // Not an address: whatever wrote it is not trusted; count it as written.
            Err(_) => return entry.chars().take(64).collect(),
        }
    }
    client
}

/// An address or a CIDR block (`10.0.0.0/8`, `::1`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpBlock {
    network: IpAddr,
    prefix: u32,
}

impl IpBlock {
    /// `None` when the text is neither an address nor a block.
    pub fn parse(text: &str) -> Option<IpBlock> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u32>().ok()?)),
            None => (text.trim().parse::<IpAddr>().ok()?, None),
        };
        let bits = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(bits);
        (prefix <= bits).then_some(IpBlock {
            network: addr,
            prefix,
        })
    }

    /// Whether `ip` is in the block (an IPv4 address mapped into IPv6 counts as IPv4).
    pub fn contains(&self, ip: &IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(*ip, IpAddr::V4),
            v4 => *v4,
        };
        let (a, b, bits) = match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) => (u32::from(n) as u128, u32::from(i) as u128, 32),
            (IpAddr::V6(n), IpAddr::V6(i)) => (u128::from(n), u128::from(i), 128),
            _ => return false,
        };
        if self.prefix == 0 {
            return true;
        }
        let shift = bits - self.prefix;
        (a >> shift) == (b >> shift)
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// The session cookie (a browser): unsafe methods need the CSRF token.
    Cookie,
    /// `Authorization: Bearer <token>` (a program): no ambient credential, no CSRF check.
    Bearer,
}

/// The signed-in user of a request.
///
/// Read from `Authorization: Bearer <token>` or the session cookie and checked with the
/// store (unknown, expired or revoked: 401). A cookie-authenticated `POST`, `PUT`, `PATCH`
/// or `DELETE` must also carry the session's CSRF token in the `X-CSRF-Token` header
/// (403 `csrf` otherwise): a cookie is sent by the browser whoever made the page, a header
/// only by the studio's own scripts.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// Who.
    pub actor: Actor,
    /// How.
    pub credential: Credential,
    /// The session token.
    pub token: String,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (token, credential) = match bearer(parts) {
            Some(t) => (t, Credential::Bearer),
            None => match cookie(parts, SESSION_COOKIE) {
                Some(t) => (t, Credential::Cookie),
                None => {
                    return Err(ApiError::unauthenticated(
                        "not signed in: sign in at POST /api/v1/auth/login",
                    ));
                }
            },
        };
        let PeerAddr(peer) = PeerAddr::from_request_parts(parts, state).await?;
        let actor = state
            .store()
            .authenticate(&token, time::OffsetDateTime::now_utc())
            .await?
            .at_address(&peer);
        if credential == Credential::Cookie
            && !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS)
        {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !csrf_matches(&token, sent) {
                return Err(ApiError::csrf(format!(
                    "missing or wrong {CSRF_HEADER} header: send the csrf_token from sign-in (also in the {CSRF_COOKIE} cookie)"
                )));
            }
        }
        Ok(SignedIn {
            actor,
            credential,
            token,
        })
    }
}

pub(crate) fn bearer(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// The CSRF token of a session: derived from the session token (SHA-256 with a label), so
/// nothing more is stored, it changes with every session, and it reveals nothing of the
/// session token.
pub fn csrf_token(session_token: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"follicle csrf v1\0")
        .chain_update(session_token.as_bytes())
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `sent` is the CSRF token of this session, compared in constant time. The API's
/// `X-CSRF-Token` header and the studio's `_csrf` form field are both checked here.
pub fn csrf_matches(session_token: &str, sent: &str) -> bool {
    constant_time_eq(sent.as_bytes(), csrf_token(session_token).as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(peer: &str, forwarded: &[&str], trusted: &[&str], expected: &str) {
        let trusted: Vec<String> = trusted.iter().map(|t| t.to_string()).collect();
        assert_eq!(
            client_address(peer.parse().unwrap(), forwarded, &trusted),
            expected
        );
    }

    #[test]
    fn forwarded_for_is_believed_from_trusted_proxies_only() {
        // No trusted proxy: the header is ignored.
        check("203.0.113.5", &["1.2.3.4"], &[], "203.0.113.5");
        // A stranger sending the header is not a proxy.
        check("203.0.113.5", &["1.2.3.4"], &["10.0.0.0/8"], "203.0.113.5");
        // From the proxy: the right-most entry it did not add itself.
        check(
            "10.0.0.2",
            &["6.6.6.6", " 198.51.100.7"],
            &["10.0.0.0/8"],
            "198.51.100.7",
        );
        // Two trusted hops.
        check(
            "10.0.0.2",
            &["6.6.6.6", "198.51.100.7", "10.1.1.1"],
            &["10.0.0.0/8"],
            "198.51.100.7",
        );
        // Everything trusted: the left-most.
        check("::1", &["10.1.1.1"], &["::1", "10.0.0.0/8"], "10.1.1.1");
        // Junk written by the client beyond the proxy counts as its address.
        check("127.0.0.1", &["junk"], &["127.0.0.1"], "junk");
        check("::ffff:10.0.0.2", &["192.0.2.1"], &["10.0.0.0/8"], "192.0.2.1");
    }
}
