//! What every request handler shares: the store, the configuration and a short-lived cache of
//! each clinic's parsed settings.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use follicle_core::Settings;
use follicle_store::{Actor, Store};
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
    settings: Mutex<HashMap<Uuid, (Instant, Arc<Settings>)>>,
}

impl AppState {
    /// A state over an opened store.
    pub fn new(store: Store, config: ServerConfig) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                store,
                config,
                settings: Mutex::new(HashMap::new()),
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

    /// The acting user's clinic settings: the defaults with the clinic's file over them.
    ///
    /// Parsing and merging the settings file costs far more than a plan, so the result is
    /// kept for `settings_cache_seconds`; a change made through this server clears it at
    /// once, other app servers see it within that time.
    pub async fn clinic_settings(&self, actor: &Actor) -> ApiResult<Arc<Settings>> {
        let ttl = Duration::from_secs(self.inner.config.server.settings_cache_seconds);
        let clinic_id = actor.clinic_id();
        if let Some((at, settings)) = self.cache().get(&clinic_id)
            && at.elapsed() < ttl
        {
            return Ok(settings.clone());
        }
        let clinic = self.store().clinic(actor).await?;
        let settings = Arc::new(parse_settings(&clinic.settings_toml).map_err(|e| {
            // A stored settings file was checked when it was saved; failing now means the
            // defaults changed under it.
            ApiError::internal(format!(
                "clinic {clinic_id}: stored settings no longer valid: {e}"
            ))
        })?);
        self.cache().insert(clinic_id, (Instant::now(), settings.clone()));
        Ok(settings)
    }

    /// Forgets a clinic's cached settings (after a change).
    pub fn forget_settings(&self, clinic_id: Uuid) {
        self.cache().remove(&clinic_id);
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (Instant, Arc<Settings>)>> {
        // A panic while holding the lock leaves a map that is still consistent.
        self.inner.settings.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A clinic's settings file over the defaults; an empty file is the defaults.
pub fn parse_settings(toml: &str) -> Result<Settings, follicle_core::InputError> {
    if toml.trim().is_empty() {
        Ok(Settings::default())
    } else {
        Settings::with_overrides(toml)
    }
}
