//! The health check's view of the database: whether it answered a ping, remembered for
//! [`FRESH`] so that a health check never queues behind a busy connection pool.
//!
//! Under a flood (thousands of sign-ins each counting an attempt in the database) every
//! connection of the pool is taken, and a health check that pinged the database itself would
//! wait behind them: a load balancer would take a server that is working as it should out of
//! service. So the check answers from the last ping while it is [`FRESH`]; once older it
//! starts one ping in the background and answers from the last one while that is younger
//! than [`STALE`]; only with no recent ping at all (start-up, or a database that stopped
//! answering) does it wait for a ping, at most [`PING_TIMEOUT`]. A database that stops
//! answering is thus reported within [`FRESH`] + [`PING_TIMEOUT`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use follicle_store::Store;

/// How long a ping's outcome is the answer without asking again.
pub const FRESH: Duration = Duration::from_secs(1);
/// How long a ping's outcome is still answered while a new ping runs in the background.
pub const STALE: Duration = Duration::from_secs(10);
/// How long a ping may take before the database counts as not answering.
pub const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// The outcome of the latest database ping, shared by the health checks. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct DatabaseHealth(Arc<Shared>);

#[derive(Debug, Default)]
struct Shared {
    /// The runtime the pings run on: the one the store's connections belong to (a health
    /// check may be answered on the server's front-door thread, see `serve`).
    runtime: Option<tokio::runtime::Handle>,
    /// When the latest ping ended and whether the database answered it.
    last: Mutex<Option<(Instant, bool)>>,
    /// A background ping is running.
    pinging: AtomicBool,
}

impl DatabaseHealth {
    /// Pings made on the runtime this is called in (when there is one).
    pub fn new() -> DatabaseHealth {
        DatabaseHealth(Arc::new(Shared {
            runtime: tokio::runtime::Handle::try_current().ok(),
            ..Shared::default()
        }))
    }

    /// Whether the database answers, as of a ping at most [`FRESH`] old (or, while a new one
    /// runs, [`STALE`]).
    pub async fn answers(&self, store: &Store) -> bool {
        let last = *self.0.last.lock().unwrap_or_else(|e| e.into_inner());
        match last {
            Some((at, ok)) if at.elapsed() < FRESH => ok,
            Some((at, ok)) if at.elapsed() < STALE => {
                self.ping_in_background(store);
                ok
            }
            _ => match &self.0.runtime {
                Some(runtime) => {
                    let (this, store) = (self.clone(), store.clone());
                    runtime
                        .spawn(async move { this.ping(&store).await })
                        .await
                        .unwrap_or(false)
                }
                None => self.ping(store).await,
            },
        }
    }

    fn ping_in_background(&self, store: &Store) {
        if self.0.pinging.swap(true, Ordering::AcqRel) {
            return;
        }
        let (this, store) = (self.clone(), store.clone());
        let ping = async move {
            this.ping(&store).await;
            this.0.pinging.store(false, Ordering::Release);
        };
        match &self.0.runtime {
            Some(runtime) => drop(runtime.spawn(ping)),
            None => drop(tokio::spawn(ping)),
        }
    }

    async fn ping(&self, store: &Store) -> bool {
        let ok = match tokio::time::timeout(PING_TIMEOUT, store.ping()).await {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "health check: the database does not answer");
                false
            }
            Err(_) => {
                tracing::warn!(
                    timeout_seconds = PING_TIMEOUT.as_secs(),
                    "health check: the database did not answer in time"
                );
                false
            }
        };
        *self.0.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), ok));
        ok
    }
}
