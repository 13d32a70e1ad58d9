//! What every request handler shares: the store, the configuration and a short-lived cache of
//! each clinic's parsed settings.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use follicle_core::Settings;
use follicle_pattern::{Pattern, PatternRequest};
use follicle_store::{Actor, Store};
use sha2::{Digest, Sha256};
use uuid::Uuid;

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
    /// Recently generated patterns, newest last: (hash of the request, pattern).
    patterns: Mutex<Vec<([u8; 32], Arc<Pattern>)>>,
    /// The designer's edit sessions.
    designer: crate::designer::DesignerSessions,
}

impl AppState {
    /// A state over an opened store.
    pub fn new(store: Store, config: ServerConfig) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                store,
                config,
                settings: Mutex::new(HashMap::new()),
                patterns: Mutex::new(Vec::new()),
                designer: crate::designer::DesignerSessions::default(),
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

    /// Forgets a clinic's cached settings (after a change).
    pub fn forget_settings(&self, clinic_id: Uuid) {
        self.cache().remove(&clinic_id);
    }

    /// The pattern of a request, generated off the async threads or reused.
    ///
    /// The same request and seed always give the same pattern, so the last
    /// `pattern_cache_entries` patterns are kept and a repeated request (a stored design
    /// opened again, its preview after its dots) is answered without generating again. The
    /// key is the SHA-256 of the whole request as JSON: only an identical request hits.
    pub async fn pattern(&self, request: PatternRequest) -> ApiResult<Arc<Pattern>> {
        let capacity = self.inner.config.server.pattern_cache_entries;
        let key: [u8; 32] = Sha256::digest(serde_json::to_vec(&request).map_err(ApiError::internal)?).into();
        {
            let mut cache = lock(&self.inner.patterns);
            if let Some(i) = cache.iter().position(|(k, _)| *k == key) {
                let hit = cache.remove(i);
                let pattern = hit.1.clone();
                cache.push(hit);
                return Ok(pattern);
            }
        }
        let pattern = Arc::new(crate::compute::pattern(request).await?);
        if capacity > 0 {
            let mut cache = lock(&self.inner.patterns);
            cache.retain(|(k, _)| *k != key);
            cache.push((key, pattern.clone()));
            let excess = cache.len().saturating_sub(capacity);
            cache.drain(..excess);
        }
        Ok(pattern)
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
