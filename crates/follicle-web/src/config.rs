//! The server's configuration: typed, with defaults, read from an optional TOML file and then
//! from `FOLLICLE__SECTION__KEY` environment variables (`FOLLICLE__SERVER__LISTEN=0.0.0.0:80`,
//! `FOLLICLE__DATABASE__URL=postgres://…`), later sources winning.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"
//! secure_cookies = true          # cookies only over HTTPS (and http://localhost)
//! trust_forwarded_for = false    # behind a load balancer: take the client's address from X-Forwarded-For
//! max_json_bytes = 1048576
//! request_timeout_seconds = 60
//! settings_cache_seconds = 5     # how soon a settings change reaches the other app servers
//! shutdown_grace_seconds = 20
//! pattern_cache_entries = 16     # generated patterns kept for identical requests
//! pattern_cache_bytes = 67108864 # …and at most this many bytes of them with their encoded answers
//! session_cache_seconds = 5      # a valid session is reused this long without a database lookup
//!                                # (sign-out on another app server takes effect here within it)
//! worker_threads = 0             # async worker threads; 0 for one per core
//! blocking_threads = 4           # threads for patterns, previews, password checks; more wait
//!
//! [database]
//! url = "sqlite://follicle-data/follicle.db"   # or postgres://user:password@host/db
//! max_connections = 8
//! audit_flush_ms = 250           # reads' audit rows are written in batches this often…
//! audit_batch_rows = 512         # …or when this many wait (a graceful stop writes them all)
//! retention_every_hours = 24     # the retention job (anonymise past retention_years); 0: CLI only
//!
//! [storage]
//! data_dir = "follicle-data"     # the SQLite file and, with photos = "local", the photos
//! photos = "local"               # or "s3" (build with the s3 feature; AWS_* variables)
//! s3_bucket = ""
//!
//! [mail]                         # password-reset links
//! smtp_host = ""                 # empty: no mail is sent (reset requests are answered alike)
//! smtp_port = 25
//! from = "Follicle <no-reply@localhost>"
//! public_url = "http://localhost:8080"   # the links in mails start with this
//! username = ""                  # SMTP AUTH, when the relay asks for it
//! password = ""
//! timeout_seconds = 10
//!
//! [log]
//! format = "text"                # or "json": one JSON object a line
//! level = "info"                 # a tracing filter: "warn", "follicle_web=debug,info", …
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Everything `follicle serve` reads.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// HTTP.
    pub server: HttpConfig,
    /// The database.
    pub database: DatabaseConfig,
    /// Where files go.
    pub storage: StorageConfig,
    /// Outgoing mail (password-reset links).
    pub mail: MailConfig,
    /// Logging.
    pub log: LogConfig,
}

/// The `[server]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Address and port to listen on.
    pub listen: String,
    /// Mark cookies `Secure` (sent over HTTPS and to `localhost` only). Turn off only for a
    /// plain-HTTP test host that is not `localhost`.
    pub secure_cookies: bool,
    /// Take the client's address (for the sign-in rate limit) from the first
    /// `X-Forwarded-For` entry: only behind a proxy that sets it.
    pub trust_forwarded_for: bool,
    /// Largest JSON body, bytes.
    pub max_json_bytes: usize,
    /// Requests taking longer are answered 408.
    pub request_timeout_seconds: u64,
    /// How long a clinic's parsed settings are reused before they are read again.
    pub settings_cache_seconds: u64,
    /// How long open requests may finish after a shutdown signal.
    pub shutdown_grace_seconds: u64,
    /// Generated patterns kept for identical requests (a full scalp is about 3 MB); 0 for none.
    pub pattern_cache_entries: usize,
    /// Bytes the kept patterns may hold with their encoded answers (a full scalp's JSON
    /// answer is about 6 MB, its binary one 0.45 MB); the oldest go first. 0 for none.
    pub pattern_cache_bytes: usize,
    /// How long a session found valid is reused without asking the database; 0 for never.
    /// A sign-out, a revoked session or a changed user through this server takes effect at
    /// once; through another server on the same database, within this time.
    pub session_cache_seconds: u64,
    /// Threads running async tasks; 0 for one per core.
    pub worker_threads: usize,
    /// Threads for blocking work (pattern generation and encoding, previews, password
    /// hashing); more such requests wait for one. Each holds its work's memory.
    pub blocking_threads: usize,
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            listen: "127.0.0.1:8080".into(),
            secure_cookies: true,
            trust_forwarded_for: false,
            max_json_bytes: 1 << 20,
            request_timeout_seconds: 60,
            settings_cache_seconds: 5,
            shutdown_grace_seconds: 20,
            pattern_cache_entries: 16,
            pattern_cache_bytes: 64 << 20,
            session_cache_seconds: 5,
            worker_threads: 0,
            blocking_threads: 4,
        }
    }
}

/// The `[database]` section.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path` or `postgres://…`; empty for `sqlite://<data_dir>/follicle.db`.
    pub url: String,
    /// Connections in the pool; 0 for the store's default.
    pub max_connections: u32,
    /// How often the audit rows of reads are written, in one batch, milliseconds.
    pub audit_flush_ms: u64,
    /// Read-audit rows waiting that make the next read write them (bounds the buffer).
    pub audit_batch_rows: usize,
    /// How often the server runs the retention job (each clinic's `retention_years`), hours;
    /// 0 to run it only with `follicle retention run`. With several app servers, set it on one.
    pub retention_every_hours: u64,
}

impl Default for DatabaseConfig {
    fn default() -> DatabaseConfig {
        DatabaseConfig {
            url: String::new(),
            max_connections: 0,
            audit_flush_ms: 250,
            audit_batch_rows: 512,
            retention_every_hours: 24,
        }
    }
}

impl std::fmt::Debug for DatabaseConfig {
    /// The URL without its password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("audit_flush_ms", &self.audit_flush_ms)
            .field("audit_batch_rows", &self.audit_batch_rows)
            .field("retention_every_hours", &self.retention_every_hours)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((auth, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Where photos are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoStorage {
    /// A folder under the data folder.
    #[default]
    Local,
    /// An S3 bucket (needs the `s3` feature).
    S3,
}

/// The `[storage]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// The data folder.
    pub data_dir: PathBuf,
    /// Where photos go.
    pub photos: PhotoStorage,
    /// The bucket, with `photos = "s3"`.
    pub s3_bucket: String,
}

impl Default for StorageConfig {
    fn default() -> StorageConfig {
        StorageConfig {
            data_dir: PathBuf::from("follicle-data"),
            photos: PhotoStorage::Local,
            s3_bucket: String::new(),
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// For a terminal.
    #[default]
    Text,
    /// One JSON object a line, for a log collector.
    Json,
}

/// The `[log]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Line format.
    pub format: LogFormat,
    /// A `tracing` filter.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

/// The `[mail]` section: the SMTP relay that carries password-reset links. Plain SMTP (a
/// relay on the same host or network, which then speaks TLS onwards); no TLS library is built
/// in.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// The relay's host; empty for no mail (reset requests are answered as usual and the
    /// server logs that it could not send).
    pub smtp_host: String,
    /// Its port.
    pub smtp_port: u16,
    /// The sender, `Name <address>`.
    pub from: String,
    /// Where the studio is reached from outside: links in mails start with it.
    pub public_url: String,
    /// SMTP user name, when the relay asks for one.
    pub username: String,
    /// SMTP password (never logged).
    pub password: String,
    /// How long a mail may take to hand over.
    pub timeout_seconds: u64,
}

impl Default for MailConfig {
    fn default() -> MailConfig {
        MailConfig {
            smtp_host: String::new(),
            smtp_port: 25,
            from: "Follicle <no-reply@localhost>".into(),
            public_url: "http://localhost:8080".into(),
            username: String::new(),
            password: String::new(),
            timeout_seconds: 10,
        }
    }
}

impl std::fmt::Debug for MailConfig {
    /// Without the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("from", &self.from)
            .field("public_url", &self.public_url)
            .field("username", &self.username)
            .field("password", &if self.password.is_empty() { "" } else { "***" })
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

/// A configuration that cannot be used: which key, what was given, what is allowed.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl ConfigError {
    pub(crate) fn new(message: impl Into<String>) -> ConfigError {
        ConfigError(message.into())
    }
}

impl ServerConfig {
    /// Defaults, then the file (if given), then `FOLLICLE__…` variables from `env`.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<ServerConfig, ConfigError> {
        let mut builder = config::Config::builder();
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError(format!("{}: no such file", path.display())));
            }
            builder = builder.add_source(config::File::from(path).format(config::FileFormat::Toml));
        }
        let vars: config::Map<String, String> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("FOLLICLE__"))
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix("FOLLICLE")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(vars)),
        );
        let config: ServerConfig = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| ConfigError(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.server.listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError(format!(
                "server.listen: expected an address and port such as 127.0.0.1:8080, got {:?}",
                self.server.listen
            )));
        }
        let url = &self.database.url;
        if !(url.is_empty()
            || url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError(format!(
                "database.url: expected sqlite://PATH or postgres://…, got {:?}",
                redact_url(url)
            )));
        }
        if !(1024..=64 << 20).contains(&self.server.max_json_bytes) {
            return Err(ConfigError(format!(
                "server.max_json_bytes: expected 1024 to 67108864, got {}",
                self.server.max_json_bytes
            )));
        }
        if !(1..=60_000).contains(&self.database.audit_flush_ms) {
            return Err(ConfigError(format!(
                "database.audit_flush_ms: expected 1 to 60000, got {}",
                self.database.audit_flush_ms
            )));
        }
        if !(1..=100_000).contains(&self.database.audit_batch_rows) {
            return Err(ConfigError(format!(
                "database.audit_batch_rows: expected 1 to 100000, got {}",
                self.database.audit_batch_rows
            )));
        }
        if self.mail.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError(format!(
                "mail.from: expected an address such as \"Follicle <no-reply@clinic.example>\", got {:?}",
                self.mail.from
            )));
        }
        if !(self.mail.public_url.starts_with("http://") || self.mail.public_url.starts_with("https://")) {
            return Err(ConfigError(format!(
                "mail.public_url: expected http://… or https://…, got {:?}",
                self.mail.public_url
            )));
        }
        if !(1..=1024).contains(&self.server.blocking_threads) {
            return Err(ConfigError(format!(
                "server.blocking_threads: expected 1 to 1024, got {}",
                self.server.blocking_threads
            )));
        }
        if self.storage.photos == PhotoStorage::S3 && self.storage.s3_bucket.trim().is_empty() {
            return Err(ConfigError(
                "storage.s3_bucket: required with storage.photos = \"s3\"".into(),
            ));
        }
        Ok(())
    }

    /// The database URL, with the default SQLite file in the data folder.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!("sqlite://{}", self.storage.data_dir.join("follicle.db").display())
        } else {
            self.database.url.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_then_file_then_environment() {
        let dir = std::env::temp_dir().join(format!("follicle-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("server.toml");
        std::fs::write(
            &file,
            "[server]\nlisten = \"0.0.0.0:9000\"\n[log]\nformat = \"json\"\n",
        )
        .unwrap();
        let c = ServerConfig::load(
            Some(&file),
            env(&[
                ("FOLLICLE__SERVER__LISTEN", "127.0.0.1:7000"),
                ("FOLLICLE__DATABASE__MAX_CONNECTIONS", "12"),
                ("OTHER", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:7000");
        assert_eq!(c.log.format, LogFormat::Json);
        assert_eq!(c.database.max_connections, 12);
        assert_eq!(c.database_url(), "sqlite://follicle-data/follicle.db");
        assert!(c.server.secure_cookies);
    }

    #[test]
    fn bad_values_name_the_key() {
        let e = ServerConfig::load(None, env(&[("FOLLICLE__SERVER__LISTEN", "everywhere")])).unwrap_err();
        assert!(e.to_string().contains("server.listen"), "{e}");
        let e = ServerConfig::load(None, env(&[("FOLLICLE__DATABASE__URL", "mysql://x")])).unwrap_err();
        assert!(e.to_string().contains("database.url"), "{e}");
        let e = ServerConfig::load(None, env(&[("FOLLICLE__SERVER__MAX_JSON_BYTES", "lots")])).unwrap_err();
        assert!(e.to_string().contains("max_json_bytes"), "{e}");
        let e = ServerConfig::load(None, env(&[("FOLLICLE__DATABASE__AUDIT_FLUSH_MS", "0")])).unwrap_err();
        assert!(e.to_string().contains("database.audit_flush_ms"), "{e}");
        let e = ServerConfig::load(None, env(&[("FOLLICLE__SERVER__BLOCKING_THREADS", "0")])).unwrap_err();
        assert!(e.to_string().contains("server.blocking_threads"), "{e}");
    }

    #[test]
    fn passwords_never_reach_the_log() {
        let c = DatabaseConfig {
            url: "postgres://clinic:hunter2@db.internal/follicle".into(),
            ..DatabaseConfig::default()
        };
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2") && shown.contains("clinic:***@db.internal"),
            "{shown}"
        );
    }
}
