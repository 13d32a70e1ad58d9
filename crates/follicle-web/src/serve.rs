//! Running the server: open the store, optionally seed the demo clinic, listen, log, and shut
//! down gracefully on Ctrl-C or SIGTERM (open requests finish, then the pools close).

use std::time::Duration;

use follicle_store::{Blobs, Store, StoreOptions};
use tokio::net::TcpListener;

use crate::config::{LogConfig, LogFormat, PhotoStorage, ServerConfig, redact_url};
use crate::state::AppState;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The store (opening the database, migrations, the demo data).
    #[error("store: {0}")]
    Store(#[from] follicle_store::StoreError),
    /// Listening.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// Serving.
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}

/// Sets up logging as the configuration says: text for a terminal or JSON lines. `RUST_LOG`,
/// when set, wins over `log.level`.
pub fn init_logging(log: &LogConfig) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = match log.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// The photo store the configuration names: `<data_dir>/photos` (private) or S3.
pub fn open_blobs(config: &ServerConfig) -> Result<Blobs, ServeError> {
    Ok(match config.storage.photos {
        PhotoStorage::Local => Blobs::local(config.storage.data_dir.join("photos"))?,
        #[cfg(feature = "s3")]
        PhotoStorage::S3 => Blobs::s3_from_env(&config.storage.s3_bucket)?,
        #[cfg(not(feature = "s3"))]
        PhotoStorage::S3 => {
            return Err(ServeError::Config(crate::config::ConfigError::new(
                "storage.photos: \"s3\" needs a build with the s3 feature (cargo build --features s3)",
            )));
        }
    })
}

/// Opens the store the configuration names.
pub async fn open_store(config: &ServerConfig) -> Result<Store, ServeError> {
    let blobs = open_blobs(config)?;
    let mut options = StoreOptions {
        session_cache_ttl: Duration::from_secs(config.server.session_cache_seconds),
        audit_flush_interval: Duration::from_millis(config.database.audit_flush_ms),
        audit_batch_rows: config.database.audit_batch_rows,
        signin: config.limits.signin(),
        password_checks_at_once: config.limits.password_checks_at_once,
        password_checks_waiting: config.limits.password_checks_waiting,
        ..StoreOptions::default()
    };
    if config.database.max_connections > 0 {
        options.max_connections = config.database.max_connections;
    }
    Ok(Store::open_with(&config.database_url(), blobs, options).await?)
}

/// Serves until a shutdown signal. With `demo`, first creates the demo clinic if missing.
pub async fn serve(config: ServerConfig, demo: bool) -> Result<(), ServeError> {
    let store = open_store(&config).await?;
    tracing::info!(database = %redact_url(&config.database_url()), backend = store.backend().as_str(), "store open");
    if demo {
        match crate::demo::seed(&store, time::OffsetDateTime::now_utc().date()).await? {
            crate::demo::Seeded::Created { clients } => tracing::info!(
                clients,
                owner = crate::demo::DEMO_OWNER,
                practitioner = crate::demo::DEMO_PRACTITIONER,
                front_desk = crate::demo::DEMO_FRONT_DESK,
                password = crate::demo::DEMO_PASSWORD,
                "demo clinic created"
            ),
            crate::demo::Seeded::AlreadyThere => tracing::info!(
                owner = crate::demo::DEMO_OWNER,
                password = crate::demo::DEMO_PASSWORD,
                "demo clinic already there"
            ),
        }
    }
    let addr = config.server.listen.clone();
    let listener = TcpListener::bind(&addr)
        .await
        .map_err(|source| ServeError::Listen {
            addr: addr.clone(),
            source,
        })?;
    let local = listener.local_addr()?;
    let grace = Duration::from_secs(config.server.shutdown_grace_seconds);
    let retention_every = Duration::from_secs(config.database.retention_every_hours.saturating_mul(3600));
    let state = AppState::new(store.clone(), config);
    let purge = tokio::spawn(purge_expired_sessions(store.clone()));
    let retention = tokio::spawn(run_retention_every(store.clone(), retention_every));
    tracing::info!(url = %format!("http://{local}/"), "listening");
    let (stopping_tx, stopping) = tokio::sync::watch::channel(false);
    let server = accept_loop(
        listener,
        crate::router(state.clone()),
        state.config().server.clone(),
        stopping,
    );
    // Open requests get the grace period after the signal; then the server stops regardless.
    let outcome: std::io::Result<()> = tokio::select! {
        () = server => Ok(()),
        () = async {
            shutdown_signal().await;
            tracing::info!(
                grace_seconds = grace.as_secs(),
                "shutting down: finishing open requests"
            );
            let _ = stopping_tx.send(true);
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!("grace period over: closing the remaining connections");
            Ok(())
        }
    };
    purge.abort();
    retention.abort();
    store.close().await;
    tracing::info!("stopped");
    outcome.map_err(ServeError::Io)
}

/// The retention job (see `Store::run_retention`), every `every` (never when zero), the
/// first time one interval after start-up; each run's report is stored for the clinic's owner.
async fn run_retention_every(store: Store, every: Duration) {
    if every.is_zero() {
        return;
    }
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        ticks.tick().await;
        match store
            .run_retention(time::OffsetDateTime::now_utc().date(), false)
            .await
        {
            Ok(reports) => {
                let anonymised: usize = reports.iter().map(|r| r.anonymised.len()).sum();
                tracing::info!(clinics = reports.len(), anonymised, "retention job ran");
            }
            Err(e) => tracing::error!(error = %e, "retention job failed"),
        }
    }
}

/// Accepts connections until `stopping`, at most `server.max_connections` open at once (the
/// rest wait in the kernel's queue), each served by hyper's HTTP/1 with
/// `header_read_timeout_seconds` for every request's headers (a slow-header client is
/// disconnected). On `stopping` it stops accepting, lets each connection finish its request
/// and returns when all are closed.
async fn accept_loop(
    listener: TcpListener,
    app: axum::Router,
    server: crate::config::HttpConfig,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt;

    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(server.max_connections.max(1)));
    let header_timeout = Duration::from_secs(server.header_read_timeout_seconds.max(1));
    let (open_tx, mut open_rx) = tokio::sync::mpsc::channel::<()>(1);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            _ = stopping.wait_for(|s| *s) => break,
        };
        let (socket, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopping.wait_for(|s| *s) => break,
        };
        let _ = socket.set_nodelay(true);
        let service =
            app.clone()
                .map_request(move |mut request: axum::http::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                    request.map(axum::body::Body::new)
                });
        let service = TowerToHyperService::new(service);
        let mut stop = stopping.clone();
        let open = open_tx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let _open = open;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true);
            let conn = builder.serve_connection(TokioIo::new(socket), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stop.wait_for(|s| *s) => {}
            }
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        });
    }
    drop(open_tx);
    // Every connection task holds a sender: recv gives None once all have ended.
    let _ = open_rx.recv().await;
}

async fn purge_expired_sessions(store: Store) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        match store.purge_expired(time::OffsetDateTime::now_utc()).await {
            Ok(n) if n > 0 => tracing::info!(removed = n, "expired sessions and login counters removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not purge expired sessions"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
