//! What every request handler shares: the store, the configuration, a short-lived cache of
//! each clinic's parsed settings, the cache of recent patterns with their encoded answers, and
//! the cache of designs measured for plans.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use follicle_core::assess::Measured;
use follicle_core::{Assessment, Settings};
use follicle_pattern::{Pattern, PatternRequest, PatternSettings};
use follicle_store::{Actor, Store};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::compute::{ClientInput, Planned};
use crate::config::ServerConfig;
use crate::error::{ApiError, ApiResult};

/// The router's state. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    config: ServerConfig,
    settings: Mutex<HashMap<Uuid, (Instant, Arc<ClinicSettings>)>>,
    /// Recently generated patterns, newest last: (hash of the request, pattern and answers).
    patterns: Mutex<Vec<([u8; 32], Arc<CachedPattern>)>>,
    /// Designs drawn and measured for plans, newest last: (hash of the design's request, what
    /// was measured).
    measured: Mutex<Vec<([u8; 32], Measured)>>,
    /// The digests of the pattern settings seen last, newest last (see [`AppState::request_key`]).
    settings_digests: Mutex<Vec<(PatternSettings, [u8; 32])>>,
    /// The designer's edit sessions.
    designer: crate::designer::DesignerSessions,
    /// The health check's latest database ping.
    health: crate::health::DatabaseHealth,
}

/// A generated pattern with its answers, each encoded once when first asked for.
#[derive(Debug)]
pub struct CachedPattern {
    /// The pattern.
    pub pattern: Arc<Pattern>,
    binary: OnceLock<Bytes>,
    json: OnceLock<Bytes>,
}

/// How a pattern is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatternEncoding {
    /// `application/vnd.follicle.pattern` ([`crate::binary`]).
    Binary,
    /// `application/json`.
    Json,
}

impl PatternEncoding {
    /// Binary when `Accept` names `application/vnd.follicle.pattern`, JSON otherwise.
    pub fn from_accept(headers: &HeaderMap) -> PatternEncoding {
        let binary = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains(crate::binary::MEDIA_TYPE));
        if binary {
            PatternEncoding::Binary
        } else {
            PatternEncoding::Json
        }
    }

    /// The answer's media type.
    pub fn content_type(self) -> &'static str {
        match self {
            PatternEncoding::Binary => crate::binary::MEDIA_TYPE,
            PatternEncoding::Json => "application/json",
        }
    }
}

impl CachedPattern {
    fn new(pattern: Arc<Pattern>) -> CachedPattern {
        CachedPattern {
            pattern,
            binary: OnceLock::new(),
            json: OnceLock::new(),
        }
    }

    fn slot(&self, encoding: PatternEncoding) -> &OnceLock<Bytes> {
        match encoding {
            PatternEncoding::Binary => &self.binary,
            PatternEncoding::Json => &self.json,
        }
    }

    /// The answer in this encoding if it was made already.
    pub fn encoded(&self, encoding: PatternEncoding) -> Option<Bytes> {
        self.slot(encoding).get().cloned()
    }

    /// The answer in this encoding, made now if needed (CPU work: call it off the async
    /// threads). Two callers at once make it once.
    pub fn encode(&self, encoding: PatternEncoding) -> ApiResult<Bytes> {
        let slot = self.slot(encoding);
        if let Some(b) = slot.get() {
            return Ok(b.clone());
        }
        let bytes = encode_pattern(&self.pattern, encoding)?;
        Ok(slot.get_or_init(|| bytes).clone())
    }

    /// What this entry holds in memory, roughly: the dots and outlines, and the answers made.
    pub fn bytes(&self) -> usize {
        let p = &*self.pattern;
        let points = |v: &[[f64; 2]]| std::mem::size_of_val(v);
        std::mem::size_of::<Pattern>()
            + p.dots.capacity() * std::mem::size_of::<follicle_pattern::Dot>()
            + points(&p.outline)
            + p.zones.iter().map(|z| points(&z.polygon)).sum::<usize>()
            + p.exclusions.iter().map(|e| points(e)).sum::<usize>()
            + self.binary.get().map_or(0, Bytes::len)
            + self.json.get().map_or(0, Bytes::len)
    }
}

/// Encodes a pattern for an answer: the binary format, or JSON written into a buffer sized
/// for it (a 33k-dot pattern is ~6 MB of JSON; growing a buffer by doubling would hold ~1.5×
/// that and copy it several times).
pub fn encode_pattern(pattern: &Pattern, encoding: PatternEncoding) -> ApiResult<Bytes> {
    match encoding {
        PatternEncoding::Binary => crate::binary::encode(pattern)
            .map(Bytes::from)
            .map_err(ApiError::internal),
        PatternEncoding::Json => {
            let mut out =
                Vec::with_capacity(JSON_BYTES_PER_DOT * pattern.dots.len() + JSON_BYTES_BESIDE_DOTS);
            serde_json::to_writer(&mut out, pattern).map_err(ApiError::internal)?;
            if out.capacity() - out.len() > out.len() / 16 {
                out.shrink_to_fit();
            }
            Ok(Bytes::from(out))
        }
    }
}

/// A dot is ~180 bytes of JSON (13 fields; measured on the demo's Norwood VII design): a little
/// more, so that the buffer is not grown.
const JSON_BYTES_PER_DOT: usize = 200;
/// The head, outline, zones and statistics.
const JSON_BYTES_BESIDE_DOTS: usize = 64 << 10;

/// Mails an account's owner when its password is being guessed (the store's sign-in alert),
/// once per `limits.signin_alert_every_hours`, from a background task (the sign-in is not
/// held up by the relay). Without a relay or with 0 hours, the store's log line is all.
fn warn_owners_of_guessed_accounts(store: &Store, config: &ServerConfig) {
    let hours = config.limits.signin_alert_every_hours;
    if hours == 0 || config.mail.smtp_host.is_empty() {
        return;
    }
    let alerts = Arc::new(crate::mail::SigninAlerts::new(Duration::from_secs(
        hours.saturating_mul(3600),
    )));
    let mail = config.mail.clone();
    store.on_signin_throttled(move |alert| {
        if !alerts.due(&alert) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no runtime to send the sign-in warning on");
            return;
        };
        let mail = mail.clone();
        runtime.spawn(async move {
            if let Err(e) = crate::mail::send_alert(&mail, &alert).await {
                tracing::warn!(user = %alert.user_id, "sign-in warning not sent: {e}");
            }
        });
    });
}

impl AppState {
    /// A state over an opened store.
    pub fn new(store: Store, config: ServerConfig) -> AppState {
        crate::limits::configure(&config.limits);
        warn_owners_of_guessed_accounts(&store, &config);
        AppState {
            inner: Arc::new(Inner {
                store,
                config,
                settings: Mutex::new(HashMap::new()),
                patterns: Mutex::new(Vec::new()),
                measured: Mutex::new(Vec::new()),
                settings_digests: Mutex::new(Vec::new()),
                designer: crate::designer::DesignerSessions::default(),
                health: crate::health::DatabaseHealth::new(),
            }),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// The health check's latest database ping.
    pub fn health(&self) -> &crate::health::DatabaseHealth {
        &self.inner.health
    }

    /// The designer's edit sessions.
    pub fn designer(&self) -> &crate::designer::DesignerSessions {
        &self.inner.designer
    }

    /// The acting user's clinic settings: the defaults with the clinic's file over them.
    ///
    /// Parsing and merging the settings file costs far more than a plan, so the result is
    /// kept for `settings_cache_seconds`; a change made through this server clears it at
    /// once, other app servers see it within that time.
    pub async fn clinic_settings(&self, actor: &Actor) -> ApiResult<Arc<Settings>> {
        Ok(self.clinic_settings_file(actor).await?.settings.clone())
    }

    /// The acting user's clinic settings with the settings file they were read from (what a
    /// stored record keeps), cached like [`AppState::clinic_settings`].
    pub async fn clinic_settings_file(&self, actor: &Actor) -> ApiResult<Arc<ClinicSettings>> {
        let ttl = Duration::from_secs(self.inner.config.server.settings_cache_seconds);
        let clinic_id = actor.clinic_id();
        if let Some((at, settings)) = self.cache().get(&clinic_id)
            && at.elapsed() < ttl
        {
            return Ok(settings.clone());
        }
        let clinic = self.store().clinic(actor).await?;
        let parsed = parse_settings(&clinic.settings_toml).map_err(|e| {
            // A stored settings file was checked when it was saved; failing now means the
            // defaults changed under it.
            ApiError::internal(format!(
                "clinic {clinic_id}: stored settings no longer valid: {e}"
            ))
        })?;
        let settings = Arc::new(ClinicSettings {
            settings: Arc::new(parsed),
            toml: clinic.settings_toml,
        });
        self.cache().insert(clinic_id, (Instant::now(), settings.clone()));
        Ok(settings)
    }

    /// A clinic's name and settings for the pages its clients see (no staff member signed in),
    /// parsed once per settings text like [`AppState::clinic_settings`].
    pub async fn clinic_for_clients(&self, clinic_id: Uuid) -> ApiResult<(String, Arc<Settings>)> {
        let (name, toml) = self.store().clinic_for_clients(clinic_id).await?;
        if let Some((_, cached)) = self.cache().get(&clinic_id)
            && cached.toml == toml
        {
            return Ok((name, cached.settings.clone()));
        }
        let parsed = parse_settings(&toml).map_err(|e| {
            ApiError::internal(format!(
                "clinic {clinic_id}: stored settings no longer valid: {e}"
            ))
        })?;
        let settings = Arc::new(ClinicSettings {
            settings: Arc::new(parsed),
            toml,
        });
        self.cache().insert(clinic_id, (Instant::now(), settings.clone()));
        Ok((name, settings.settings.clone()))
    }

    /// Forgets a clinic's cached settings (after a change).
    pub fn forget_settings(&self, clinic_id: Uuid) {
        self.cache().remove(&clinic_id);
    }

    /// The pattern of a request, generated off the async threads or reused.
    ///
    /// The same request and seed always give the same pattern, so recent patterns are kept
    /// (at most `pattern_cache_entries` and `pattern_cache_bytes`, counting their encoded
    /// answers) and a repeated request (a stored design opened again, its preview after its
    /// dots) is answered without generating again. The key is the SHA-256 of the whole
    /// request as JSON: only an identical request hits.
    pub async fn pattern(&self, request: PatternRequest) -> ApiResult<Arc<Pattern>> {
        Ok(self.cached_pattern(request).await?.pattern.clone())
    }

    /// The pattern of a request answered as the caller's `Accept` asks: binary or JSON,
    /// encoded once per cached pattern and then sent from memory without a copy.
    pub async fn pattern_response(
        &self,
        request: PatternRequest,
        headers: &HeaderMap,
    ) -> ApiResult<Response> {
        let encoding = PatternEncoding::from_accept(headers);
        let entry = self.cached_pattern(request).await?;
        let bytes = match entry.encoded(encoding) {
            Some(bytes) => bytes,
            None => {
                // Under the heavy limiter, like the drawing (503 when it is full): a full
                // scalp's JSON is ~6 MB made in tens of milliseconds of CPU, and on the blocking
                // pool alone any number of requests could encode at once.
                let made = entry.clone();
                let bytes = crate::compute::off_thread(move || made.encode(encoding)).await?;
                // The entry grew: the cache may be over its size now.
                self.trim_patterns(&mut lock(&self.inner.patterns));
                bytes
            }
        };
        Ok(([(header::CONTENT_TYPE, encoding.content_type())], bytes).into_response())
    }

    /// The cache entry of a request: found, or generated and added.
    pub async fn cached_pattern(&self, request: PatternRequest) -> ApiResult<Arc<CachedPattern>> {
        let server = &self.inner.config.server;
        let keep = server.pattern_cache_entries > 0 && server.pattern_cache_bytes > 0;
        let key = self.request_key(&request)?;
        if let Some(entry) = newest_hit(&mut lock(&self.inner.patterns), &key) {
            return Ok(entry);
        }
        let entry = Arc::new(CachedPattern::new(Arc::new(
            crate::compute::pattern(request).await?,
        )));
        if keep {
            let mut cache = lock(&self.inner.patterns);
            cache.retain(|(k, _)| *k != key);
            cache.push((key, entry.clone()));
            self.trim_patterns(&mut cache);
        }
        Ok(entry)
    }

    /// What a design holds once drawn (per zone: area and dots), for a plan: drawn off the
    /// async threads under [`crate::limits::heavy`], or reused.
    ///
    /// A plan is priced from its design drawn (`treatment::measure_drawn`, tens of
    /// milliseconds for a full scalp); planning and quoting themselves take microseconds. The
    /// same request always draws the same dots, so the last `measure_cache_entries`
    /// measurements are kept under the SHA-256 of the whole request as JSON: a client file
    /// planned again with the same settings and day is not drawn again.
    ///
    /// `user`: whose heavy-request slot (`limits.heavy_per_user`) a drawing takes; `None` when
    /// the caller's route holds one already (see [`crate::limits::is_heavy`]).
    pub async fn measured(&self, request: &PatternRequest, user: Option<Uuid>) -> ApiResult<Measured> {
        let keep = self.inner.config.server.measure_cache_entries;
        let key = self.request_key(request)?;
        if let Some(measured) = newest_hit(&mut lock(&self.inner.measured), &key) {
            return Ok(measured);
        }
        let slot = match user {
            Some(user) => Some(crate::limits::user_slot(user).ok_or_else(crate::limits::user_busy)?),
            None => None,
        };
        let request = request.clone();
        let measured = crate::compute::off_thread(move || {
            let _slot = slot;
            follicle_pattern::treatment::measure_drawn(&request).map_err(crate::compute::drawing_error)
        })
        .await?;
        keep_newest(&mut lock(&self.inner.measured), key, measured.clone(), keep);
        Ok(measured)
    }

    /// Reads, assesses and plans a client file with the clinic's settings: the plan priced
    /// from its design drawn ([`AppState::measured`], `user` as there).
    pub async fn plan(
        &self,
        input: &ClientInput,
        settings: &Settings,
        user: Option<Uuid>,
    ) -> ApiResult<Planned> {
        let (designed, measured) = self.designed_and_measured(input, settings, user).await?;
        Ok(designed.plan(measured, settings))
    }

    /// Reads and assesses a client file: the zones to treat drawn on the client's head and
    /// measured there ([`AppState::measured`], `user` as there).
    pub async fn assess(
        &self,
        input: &ClientInput,
        settings: &Settings,
        user: Option<Uuid>,
    ) -> ApiResult<Assessment> {
        let (designed, measured) = self.designed_and_measured(input, settings, user).await?;
        Ok(designed.assessment.measured(&measured))
    }

    /// A client file read and assessed, its design laid out with the default seed, and what
    /// the drawn design holds ([`AppState::measured`], `user` as there).
    async fn designed_and_measured(
        &self,
        input: &ClientInput,
        settings: &Settings,
        user: Option<Uuid>,
    ) -> ApiResult<(crate::compute::Designed, Measured)> {
        let designed = input.design(settings, follicle_pattern::treatment::DEFAULT_SEED)?;
        let measured = self.measured(&designed.request, user).await?;
        Ok((designed, measured))
    }

    /// Drops the oldest patterns until the cache is within its entries and bytes (the newest
    /// stays even when it alone is larger; requests still answering an evicted one keep it
    /// until they finish).
    fn trim_patterns(&self, cache: &mut Vec<([u8; 32], Arc<CachedPattern>)>) {
        let server = &self.inner.config.server;
        let mut bytes: usize = cache.iter().map(|(_, e)| e.bytes()).sum();
        let mut drop = 0;
        while cache.len() - drop > 1
            && (cache.len() - drop > server.pattern_cache_entries || bytes > server.pattern_cache_bytes)
        {
            bytes -= cache[drop].1.bytes();
            drop += 1;
        }
        cache.drain(..drop);
    }

    /// Designs measured in the cache.
    pub fn measure_cache_len(&self) -> usize {
        lock(&self.inner.measured).len()
    }

    /// Patterns in the cache and the bytes they hold.
    pub fn pattern_cache_size(&self) -> (usize, usize) {
        let cache = lock(&self.inner.patterns);
        (cache.len(), cache.iter().map(|(_, e)| e.bytes()).sum())
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (Instant, Arc<ClinicSettings>)>> {
        lock(&self.inner.settings)
    }
}

/// A clinic's settings and the file they were read from.
#[derive(Debug)]
pub struct ClinicSettings {
    /// The defaults with the clinic's file over them.
    pub settings: Arc<Settings>,
    /// The clinic's file (TOML; empty for the defaults).
    pub toml: String,
}

/// Distinct pattern settings whose digests are kept: one a clinic's settings in use.
const SETTINGS_DIGESTS: usize = 32;

/// Serialises straight into a hash, with no buffer between.
struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The SHA-256 of `value` as JSON.
fn json_digest(value: &impl serde::Serialize) -> ApiResult<[u8; 32]> {
    let mut hasher = Sha256::new();
    serde_json::to_writer(HashWriter(&mut hasher), value).map_err(ApiError::internal)?;
    Ok(hasher.finalize().into())
}

impl AppState {
    /// The key of a request in the caches: the SHA-256 of the request as JSON, with its
    /// settings given by their own digest (the first member). A clinic's settings are the same from request to
    /// request, and writing their hundred-odd figures as JSON was two thirds of the key's cost
    /// (`perf`, POST /plan); their digest is kept for the last [`SETTINGS_DIGESTS`] distinct
    /// settings, found by comparing the settings themselves.
    fn request_key(&self, request: &PatternRequest) -> ApiResult<[u8; 32]> {
        // Every field by name: a field added to the request does not compile here until it
        // is part of the key.
        let PatternRequest {
            head,
            hairline,
            zones,
            scars,
            exclusions,
            density_per_cm2,
            session_fractions,
            needles,
            dots_per_hour,
            settings,
            seed,
        } = request;
        json_digest(&(
            self.settings_digest(settings)?,
            head,
            hairline,
            zones,
            scars,
            exclusions,
            density_per_cm2,
            session_fractions,
            needles,
            dots_per_hour,
            seed,
        ))
    }

    /// The digest of pattern settings as JSON, remembered.
    fn settings_digest(&self, settings: &PatternSettings) -> ApiResult<[u8; 32]> {
        if let Some(digest) = newest_hit(&mut lock(&self.inner.settings_digests), settings) {
            return Ok(digest);
        }
        let digest = json_digest(settings)?;
        keep_newest(
            &mut lock(&self.inner.settings_digests),
            settings.clone(),
            digest,
            SETTINGS_DIGESTS,
        );
        Ok(digest)
    }
}

/// The value kept under `key`, moved to the newest end of its cache (newest last).
fn newest_hit<K: PartialEq, V: Clone>(cache: &mut Vec<(K, V)>, key: &K) -> Option<V> {
    let i = cache.iter().position(|(k, _)| k == key)?;
    let hit = cache.remove(i);
    let value = hit.1.clone();
    cache.push(hit);
    Some(value)
}

/// Puts `value` under `key` at the newest end of its cache and drops the oldest beyond
/// `entries` (0: nothing is kept).
fn keep_newest<K: PartialEq, V>(cache: &mut Vec<(K, V)>, key: K, value: V, entries: usize) {
    cache.retain(|(k, _)| *k != key);
    cache.push((key, value));
    let over = cache.len().saturating_sub(entries);
    cache.drain(..over);
}

/// A panic while holding one of these locks leaves a map that is still consistent.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A clinic's settings file over the defaults; an empty file is the defaults.
pub fn parse_settings(toml: &str) -> Result<Settings, follicle_core::InputError> {
    if toml.trim().is_empty() {
        Ok(Settings::default())
    } else {
        Settings::with_overrides(toml)
    }
}
