//! Running the server: open the store, optionally seed the demo clinic, listen, log, and shut
//! down gracefully on Ctrl-C or SIGTERM (open requests finish, then the pools close).
//!
//! Connections are accepted on a front-door thread of their own, which answers health checks
//! itself and hands every other connection to the main runtime: a flood
//! that keeps the main runtime busy does not delay a load balancer's probe.

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
        audit_filing_rows: config.database.audit_filing_rows,
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
    // A first ping, so that health checks answer from the start without waiting for one.
    state.health().answers(state.store()).await;
    let purge = tokio::spawn(purge_expired_sessions(store.clone()));
    let retention = tokio::spawn(run_retention_every(store.clone(), retention_every));
    // The job queue: messages to clients (and, later, every other scheduled job).
    let jobs = state.config().jobs.run.then(|| {
        tokio::spawn(crate::jobs::run(
            store.clone(),
            std::sync::Arc::new(state.config().clone()),
        ))
    });
    tracing::info!(url = %format!("http://{local}/"), "listening");
    let (stopping_tx, stopping) = tokio::sync::watch::channel(false);
    let server = front_door(
        listener,
        crate::router(state.clone()),
        state.config().server.clone(),
        stopping,
    )?;
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
    if let Some(jobs) = jobs {
        jobs.abort();
    }
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

/// How long the front door waits for a new connection's first bytes to see whether it asks
/// for the health check; a connection that says nothing by then is served like any other.
const FIRST_BYTES_WAIT: Duration = Duration::from_millis(50);

/// The request line's start that the front door answers itself: the health check.
const HEALTH_REQUEST: &[u8] = b"GET /api/v1/health";

/// Starts the front door: a thread of its own, with a single-threaded runtime, that accepts
/// connections until `stopping` (see [`accept_loop`]). The future ends when it has stopped
/// and every connection is closed.
///
/// Why a thread of its own: under a flood the main runtime's workers have thousands of
/// requests queued, and a connection accepted there waits its turn twice (to be accepted, then
/// to be read). The front door only accepts, looks at each connection's first bytes, answers
/// a health check itself and hands everything else to the main runtime, so a load balancer's
/// probe is answered within milliseconds whatever the main runtime is busy with.
fn front_door(
    listener: TcpListener,
    app: axum::Router,
    server: crate::config::HttpConfig,
    stopping: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<impl std::future::Future<Output = ()>> {
    let listener = listener.into_std()?;
    let main = tokio::runtime::Handle::current();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("follicle-front-door".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "front door: no runtime");
                    return;
                }
            };
            runtime.block_on(async move {
                match TcpListener::from_std(listener) {
                    Ok(listener) => accept_loop(listener, main, app, server, stopping).await,
                    Err(e) => tracing::error!(error = %e, "front door: cannot listen"),
                }
            });
            let _ = done_tx.send(());
        })?;
    Ok(async move {
        let _ = done_rx.await;
    })
}

/// Accepts connections until `stopping`, at most `server.max_connections` open at once (the
/// rest wait in the kernel's queue), each served by hyper's HTTP/1 with
/// `header_read_timeout_seconds` for every request's headers (a slow-header client is
/// disconnected). A connection whose first request is the health check gets that one answer
/// here, on the front door's thread, and is closed; every other connection is served on
/// `main`. On `stopping` it stops accepting, lets each connection finish its request and
/// returns when all are closed.
async fn accept_loop(
    listener: TcpListener,
    main: tokio::runtime::Handle,
    app: axum::Router,
    server: crate::config::HttpConfig,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
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
        let (app, main, stop, open) = (app.clone(), main.clone(), stopping.clone(), open_tx.clone());
        tokio::spawn(async move {
            let connection = Connection {
                app,
                peer,
                header_timeout,
                stop,
                _slot: slot,
                _open: open,
            };
            if asks_for_health(&socket).await {
                connection.serve(socket, false).await;
                return;
            }
            // To the main runtime: the socket leaves this thread's reactor for the main one's.
            match socket.into_std() {
                Ok(socket) => {
                    main.spawn(async move {
                        match tokio::net::TcpStream::from_std(socket) {
                            Ok(socket) => connection.serve(socket, true).await,
                            Err(e) => tracing::warn!(error = %e, "could not hand a connection over"),
                        }
                    });
                }
                Err(e) => tracing::warn!(error = %e, "could not hand a connection over"),
            }
        });
    }
    drop(open_tx);
    // Every connection task holds a sender: recv gives None once all have ended.
    let _ = open_rx.recv().await;
}

/// Whether a new connection's first bytes, within [`FIRST_BYTES_WAIT`], ask for the health
/// check (`GET /api/v1/health` then a space or a query). Reads nothing: the bytes stay for
/// whoever serves the connection.
async fn asks_for_health(socket: &tokio::net::TcpStream) -> bool {
    let mut first = [0u8; HEALTH_REQUEST.len() + 1];
    let deadline = tokio::time::Instant::now() + FIRST_BYTES_WAIT;
    loop {
        let n = match tokio::time::timeout_at(deadline, socket.peek(&mut first)).await {
            Ok(Ok(n)) => n,
            Ok(Err(_)) | Err(_) => return false,
        };
        if n == 0 || !HEALTH_REQUEST.starts_with(&first[..n.min(HEALTH_REQUEST.len())]) {
            return false;
        }
        if n == first.len() {
            return matches!(first[HEALTH_REQUEST.len()], b' ' | b'?');
        }
        // Part of the request line so far (peeking again at once would find the same bytes).
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// One accepted connection and what serving it needs.
struct Connection {
    app: axum::Router,
    peer: std::net::SocketAddr,
    header_timeout: Duration,
    stop: tokio::sync::watch::Receiver<bool>,
    /// Its place under `server.max_connections`.
    _slot: tokio::sync::OwnedSemaphorePermit,
    /// Tells the accept loop's shutdown that it is still open.
    _open: tokio::sync::mpsc::Sender<()>,
}

impl Connection {
    /// Serves its requests (with `keep_alive`, one after another until the client closes;
    /// without, one) until it closes, or until `stop`: then the request in progress is
    /// finished and the connection closed.
    async fn serve(mut self, socket: tokio::net::TcpStream, keep_alive: bool) {
        use hyper_util::rt::{TokioIo, TokioTimer};
        use hyper_util::service::TowerToHyperService;
        use tower::ServiceExt;

        let peer = self.peer;
        let service =
            self.app
                .clone()
                .map_request(move |mut request: axum::http::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                    request.map(axum::body::Body::new)
                });
        let service = TowerToHyperService::new(service);
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_timeout)
            .keep_alive(keep_alive);
        let conn = builder.serve_connection(TokioIo::new(socket), service);
        let mut conn = std::pin::pin!(conn);
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = self.stop.wait_for(|s| *s) => {}
        }
        conn.as_mut().graceful_shutdown();
        let _ = conn.await;
    }
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

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use axum::routing::get;

    use super::*;

    /// The thread that answered, as the body.
    async fn thread_name() -> String {
        std::thread::current().name().unwrap_or("").to_owned()
    }

    /// Sends `request` on a new connection and reads the answer until the server closes.
    fn exchange(addr: std::net::SocketAddr, request: &str) -> String {
        let mut socket = std::net::TcpStream::connect(addr).unwrap();
        socket.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        socket.read_to_string(&mut answer).unwrap();
        answer
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_front_door_answers_the_health_check_and_hands_the_rest_on() {
        let app = axum::Router::new()
            .route("/api/v1/health", get(thread_name))
            .route("/api/v1/healthz", get(thread_name))
            .route("/api/v1/clients", get(thread_name));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopping) = tokio::sync::watch::channel(false);
        let door = front_door(listener, app, crate::config::HttpConfig::default(), stopping).unwrap();
        let answers = tokio::task::spawn_blocking(move || {
            [
                "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /api/v1/health?full=1 HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /api/v1/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                "GET /api/v1/clients HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            ]
            .map(|request| exchange(addr, request))
        })
        .await
        .unwrap();
        for answer in &answers[..2] {
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
            assert!(answer.ends_with("follicle-front-door"), "{answer}");
            assert!(
                answer.to_ascii_lowercase().contains("connection: close"),
                "{answer}"
            );
        }
        for answer in &answers[2..] {
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
            assert!(!answer.ends_with("follicle-front-door"), "{answer}");
        }
        stop.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(10), door).await.unwrap();
    }
}
