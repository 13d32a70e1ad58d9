//! The server's configuration: typed, with defaults, read from an optional TOML file and then
//! from `FOLLICLE__SECTION__KEY` environment variables (`FOLLICLE__SERVER__LISTEN=0.0.0.0:80`,
//! `FOLLICLE__DATABASE__URL=postgres://…`), later sources winning.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"
//! secure_cookies = true          # cookies only over HTTPS (and http://localhost)
//! trusted_proxies = []           # proxies whose X-Forwarded-For is believed ("10.0.0.0/8", "127.0.0.1");
//!                                # the client is the right-most entry that is not one of them
//! max_json_bytes = 1048576
//! request_timeout_seconds = 60
//! settings_cache_seconds = 5     # how soon a settings change reaches the other app servers
//! shutdown_grace_seconds = 20
//! pattern_cache_entries = 16     # generated patterns kept for identical requests
//! pattern_cache_bytes = 33554432 # …and at most this many bytes of them with their encoded answers
//! measure_cache_entries = 256    # designs drawn and measured for a plan, kept for identical client files
//! session_cache_seconds = 5      # SQLite: a valid session is reused this long without a lookup
//!                                # (PostgreSQL, shared by app servers: looked up every request)
//! worker_threads = 0             # async worker threads; 0 for one per core
//! blocking_threads = 0           # threads for patterns, previews, password checks; 0 for one per core
//! max_connections = 8192         # open connections at most; more wait in the kernel's queue
//! header_read_timeout_seconds = 10  # a request's headers must arrive within this (slow-header attacks)
//! body_read_timeout_seconds = 30 # …and its body within this
//! hsts_seconds = 0               # behind TLS: Strict-Transport-Security max-age (0: not sent)
//!
//! [limits]                       # expensive work: at once, waiting, per user (more: 503/429 + Retry-After)
//! password_checks_at_once = 2    # argon2 checks (~19 MiB, ~50 ms each)
//! password_checks_waiting = 32
//! signins_at_once = 64           # sign-ins being handled (database counters + check)
//! signins_waiting = 256
//! heavy_at_once = 2              # pattern generations, previews, renders (up to ~50 MiB each)
//! heavy_waiting = 8
//! heavy_per_user = 2             # one user's heavy requests running or waiting
//! account_free_attempts = 5      # sign-ins to one account without delay, then 1 s doubling…
//! account_max_delay_seconds = 300  # …up to this
//! address_free_attempts = 20     # sign-ins from one address (any account), then 1 s doubling…
//! address_max_delay_seconds = 60 # …up to this
//! signins_per_minute = 600       # from everyone together (browsers with a device cookie aside)
//! signin_alert_every_hours = 24  # an account's owner is mailed when its password is being guessed,
//!                                # at most this often (needs [mail]; 0: never)
//!
//! [database]
//! url = "sqlite://follicle-data/follicle.db"   # or postgres://user:password@host/db
//! max_connections = 8
//! audit_flush_ms = 250           # reads' audit rows are written in batches this often…
//! audit_batch_rows = 512         # …or, behind the read, when this many wait (a graceful stop writes them all)
//! audit_filing_rows = 10000      # SQLite: audit rows filed by client once this many are written (a client's
//!                                # audit view reads at most this many unfiled rows)
//! retention_every_hours = 24     # the retention job (anonymise past retention_years); 0: CLI only
//!
//! [storage]
//! data_dir = "follicle-data"     # the SQLite file and, with photos = "local", the photos
//! photos = "local"               # or "s3" (build with the s3 feature; AWS_* variables)
//! s3_bucket = ""
//!
//! [mail]                         # password-reset links, warnings of guessed passwords
//! smtp_host = ""                 # empty: no mail is sent (reset requests are answered alike)
//! smtp_port = 587
//! tls = "starttls"               # "starttls" (required), "tls" (from the first byte, port 465),
//!                                # or "none" (a relay on this host or a trusted network only)
//! ca_file = ""                   # a PEM file of extra certificates to trust (a private CA);
//!                                # the system's certificates are always trusted
//! from = "Follicle <no-reply@localhost>"
//! public_url = "http://localhost:8080"   # the links in mails start with this
//! username = ""                  # SMTP AUTH, when the relay asks for it
//! password = ""
//! timeout_seconds = 10
//!
//! [sms]                          # text messages to clients through Twilio's Messages API (issue 14)
//! account_sid = ""               # empty: no text messages (the planner queues none)
//! auth_token = ""                # the account's auth token (never logged): FOLLICLE__SMS__AUTH_TOKEN
//! from = ""                      # the sending number, E.164 (+447700900000)
//! base_url = "https://api.twilio.com"   # the API's address (a test points it at a local server)
//! timeout_seconds = 10           # a send's whole exchange with the provider
//! inbound_per_minute = 120       # replies (STOP, START) taken per clinic a minute; more are 429
//!
//! [jobs]                         # the job queue in the database: messages to clients (issue 14)
//! run = true                     # this server works the queue and plans the messages due
//! poll_seconds = 5               # how often it looks for due jobs when the last look found none
//! plan_every_seconds = 60        # how often it looks for messages that have come due
//! lease_seconds = 120            # a job taken is this server's this long; a dead server's jobs
//!                                # are taken up again after it (must exceed mail.timeout_seconds)
//! batch = 20                     # jobs taken at once
//! sends_at_once = 4              # messages handed to the relay at once
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
    /// Outgoing mail (password-reset links, messages to clients).
    pub mail: MailConfig,
    /// Text messages to clients, through the SMS provider.
    pub sms: SmsConfig,
    /// The job queue's worker and planner.
    pub jobs: JobsConfig,
    /// Logging.
    pub log: LogConfig,
    /// Limits on expensive work and sign-in attempts.
    pub limits: LimitsConfig,
}

/// The `[limits]` section: how much expensive work runs at once, how much may wait, and how
/// sign-in attempts slow down. Beyond them a request is answered at once, 503 (the server
/// is busy) or 429 (this user, account or address), with `Retry-After`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// argon2 password checks and hashes at once in this process (each ~19 MiB).
    pub password_checks_at_once: usize,
    /// argon2 work waiting for one of those.
    pub password_checks_waiting: usize,
    /// Sign-in requests being handled at once (their database counters, then the check).
    pub signins_at_once: usize,
    /// Sign-in requests waiting for one of those.
    pub signins_waiting: usize,
    /// Pattern generations, previews and renders at once (a 2048-px preview holds ~50 MiB).
    pub heavy_at_once: usize,
    /// …and waiting.
    pub heavy_waiting: usize,
    /// One user's heavy requests running or waiting at once; more are 429.
    pub heavy_per_user: usize,
    /// Sign-ins to one account (from any address) without a delay; then 1 s, doubling.
    pub account_free_attempts: i64,
    /// The longest delay between attempts on one account, seconds.
    pub account_max_delay_seconds: i64,
    /// Sign-ins from one address (to any account) without a delay; then 1 s, doubling.
    pub address_free_attempts: i64,
    /// The longest delay between attempts from one address, seconds.
    pub address_max_delay_seconds: i64,
    /// Sign-in attempts a minute from everyone together (a browser showing the device
    /// cookie of the account it signs in to is not counted); 0 for no limit.
    pub signins_per_minute: i64,
    /// An account's owner is mailed when the account reaches its sign-in delays (someone is
    /// guessing its password), at most once in this many hours per app server; 0 for never.
    pub signin_alert_every_hours: u64,
}

impl Default for LimitsConfig {
    fn default() -> LimitsConfig {
        LimitsConfig {
            password_checks_at_once: 2,
            password_checks_waiting: 32,
            signins_at_once: 64,
            signins_waiting: 256,
            heavy_at_once: 2,
            heavy_waiting: 8,
            heavy_per_user: 2,
            account_free_attempts: 5,
            account_max_delay_seconds: 300,
            address_free_attempts: 20,
            address_max_delay_seconds: 60,
            signins_per_minute: 600,
            signin_alert_every_hours: 24,
        }
    }
}

impl LimitsConfig {
    /// The store's sign-in limits from these.
    pub fn signin(&self) -> follicle_store::SigninLimits {
        let mut s = follicle_store::SigninLimits::default();
        s.account.free_attempts = self.account_free_attempts;
        s.account.max_delay_ms = self.account_max_delay_seconds * 1000;
        s.address.free_attempts = self.address_free_attempts;
        s.address.max_delay_ms = self.address_max_delay_seconds * 1000;
        s.everyone_per_minute = self.signins_per_minute;
        s
    }
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
    /// Proxies (addresses or CIDR blocks) whose `X-Forwarded-For` is believed. The client's
    /// address (for sign-in limits) is then the right-most entry that is not a trusted proxy;
    /// a request from anywhere else is taken from its own connection, whatever it says.
    pub trusted_proxies: Vec<String>,
    /// Replaced by `trusted_proxies` (it trusted the first entry, which the client writes).
    pub trust_forwarded_for: Option<bool>,
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
    ///
    /// 32 MiB by default: nine full scalps with their binary answers, three with their JSON
    /// ones as well, for the few designs a clinic has open at once. At 64 MiB the server's
    /// peak in `scripts/bench-server` (every endpoint, eight connections generating full-scalp
    /// JSON) was 252–289 MiB (median 262 of six runs), over issue 13's 256 MiB; at 32 MiB
    /// 235–261 MiB (median 240 of four), with the cached answers as fast
    /// (docs/benchmarks/issue-13.md).
    pub pattern_cache_bytes: usize,
    /// Designs drawn and measured for a plan or an assessment, kept for the same design laid
    /// out again (a client file planned again, the studio's form sent again); a few hundred
    /// bytes each with a 32-byte key. 0 for none.
    pub measure_cache_entries: usize,
    /// With SQLite, how long a session found valid is reused without asking the database; 0
    /// for never. A sign-out, a revoked session or a changed user takes effect at once. With
    /// PostgreSQL (which several app servers may share) sessions are never cached, so a
    /// sign-out through any server ends the session on every server at once.
    pub session_cache_seconds: u64,
    /// Threads running async tasks; 0 for one per core.
    pub worker_threads: usize,
    /// Threads for blocking work (pattern generation and encoding, previews, password
    /// hashing); more such requests wait for one. 0 for one per core: the work is CPU-bound,
    /// so more threads than cores do not finish it sooner, and each keeps what its work
    /// freed (the allocator returns a thread's freed pages only when that thread next
    /// allocates). On 2 cores, 2 threads instead of 4 took the load benchmark's peak from
    /// 253–266 to 206–208 MiB with as many patterns answered (docs/benchmarks/issue-13.md).
    pub blocking_threads: usize,
    /// Open connections at most; further ones wait in the kernel's queue until one closes.
    pub max_connections: usize,
    /// A request's headers must arrive within this many seconds of the connection opening
    /// (or going idle); a slow-header client is disconnected.
    pub header_read_timeout_seconds: u64,
    /// A request's body must arrive within this many seconds; else 408.
    pub body_read_timeout_seconds: u64,
    /// `Strict-Transport-Security: max-age=…` when served over TLS (by this server's proxy);
    /// 0 sends none.
    pub hsts_seconds: u64,
}

impl HttpConfig {
    /// The blocking threads to run: `blocking_threads`, or one per core when it is 0.
    pub fn blocking_threads(&self) -> usize {
        match self.blocking_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}

impl Default for HttpConfig {
    fn default() -> HttpConfig {
        HttpConfig {
            listen: "127.0.0.1:8080".into(),
            secure_cookies: true,
            trusted_proxies: Vec::new(),
            trust_forwarded_for: None,
            max_json_bytes: 1 << 20,
            request_timeout_seconds: 60,
            settings_cache_seconds: 5,
            shutdown_grace_seconds: 20,
            pattern_cache_entries: 16,
            pattern_cache_bytes: 32 << 20,
            measure_cache_entries: 256,
            session_cache_seconds: 5,
            worker_threads: 0,
            blocking_threads: 0,
            max_connections: 8192,
            header_read_timeout_seconds: 10,
            body_read_timeout_seconds: 30,
            hsts_seconds: 0,
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
    /// SQLite: audit rows written since the last filing by client that make the store file
    /// them (`follicle_store::StoreOptions::audit_filing_rows`).
    pub audit_filing_rows: u64,
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
            audit_filing_rows: 10_000,
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
            .field("audit_filing_rows", &self.audit_filing_rows)
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

/// How the connection to the SMTP relay is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum MailTls {
    /// Plain SMTP, upgraded with STARTTLS before anything is sent; a relay that does not offer
    /// it is refused (no silent fall-back to plain text).
    Starttls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// Plain SMTP: for a relay on this host or a trusted network only.
    None,
}

impl TryFrom<String> for MailTls {
    type Error = String;

    fn try_from(word: String) -> Result<MailTls, String> {
        match word.as_str() {
            "starttls" => Ok(MailTls::Starttls),
            "tls" => Ok(MailTls::Tls),
            "none" => Ok(MailTls::None),
            _ => Err(format!(
                "mail.tls: expected \"starttls\", \"tls\" or \"none\", got {word:?}"
            )),
        }
    }
}

/// The `[mail]` section: the SMTP relay that carries password-reset links and the warnings of
/// guessed passwords. The relay is reached over STARTTLS by default (rustls, the system's
/// certificates and `ca_file`); plain SMTP only when `tls = "none"` says so.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// The relay's host; empty for no mail (reset requests are answered as usual and the
    /// server logs that it could not send).
    pub smtp_host: String,
    /// Its port.
    pub smtp_port: u16,
    /// How the connection to the relay is secured.
    pub tls: MailTls,
    /// A PEM file of certificates to trust besides the system's (a clinic's own CA); empty
    /// for none.
    pub ca_file: String,
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
            smtp_port: 587,
            tls: MailTls::Starttls,
            ca_file: String::new(),
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
            .field("tls", &self.tls)
            .field("ca_file", &self.ca_file)
            .field("from", &self.from)
            .field("public_url", &self.public_url)
            .field("username", &self.username)
            .field("password", &if self.password.is_empty() { "" } else { "***" })
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

/// The `[sms]` section: the SMS provider that carries text messages to clients (Twilio's
/// Messages API, or any service that speaks it), and the limit on the replies it forwards.
/// The account and its token are the server's, like the SMTP relay's; which messages go by
/// text is each clinic's choice (`messages.sms_send`).
#[derive(Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsConfig {
    /// The account (Twilio's Account SID); empty for no text messages.
    pub account_sid: String,
    /// The account's auth token: the password of the API and the key of the signatures on the
    /// replies the provider forwards (never logged).
    pub auth_token: String,
    /// The number messages come from, in E.164 form (`+447700900000`).
    pub from: String,
    /// The API's address, without a trailing path (a test points it at a local server).
    pub base_url: String,
    /// How long a send's whole exchange with the provider may take (connect, TLS, request and
    /// answer); longer is a failure tried again later.
    pub timeout_seconds: u64,
    /// Replies (STOP, START) taken per clinic in a minute; more are answered 429.
    pub inbound_per_minute: i64,
}

impl Default for SmsConfig {
    fn default() -> SmsConfig {
        SmsConfig {
            account_sid: String::new(),
            auth_token: String::new(),
            from: String::new(),
            base_url: "https://api.twilio.com".into(),
            timeout_seconds: 10,
            inbound_per_minute: 120,
        }
    }
}

impl SmsConfig {
    /// Whether text messages are sent at all.
    pub fn enabled(&self) -> bool {
        !self.account_sid.is_empty()
    }
}

impl std::fmt::Debug for SmsConfig {
    /// Without the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsConfig")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &if self.auth_token.is_empty() { "" } else { "***" })
            .field("from", &self.from)
            .field("base_url", &self.base_url)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("inbound_per_minute", &self.inbound_per_minute)
            .finish()
    }
}

/// The `[jobs]` section: this server's part in the job queue (see `crate::jobs`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Whether this server works the queue and plans messages (every server may: the database
    /// keeps them from doing a job twice).
    pub run: bool,
    /// Seconds between looks for due jobs when the last look found none.
    pub poll_seconds: u64,
    /// Seconds between looks for messages that have come due.
    pub plan_every_seconds: u64,
    /// Seconds a taken job is this server's; after that a dead server's jobs are taken up again.
    pub lease_seconds: u64,
    /// Jobs taken at once.
    pub batch: usize,
    /// Messages handed to the relay at once.
    pub sends_at_once: usize,
}

impl Default for JobsConfig {
    fn default() -> JobsConfig {
        JobsConfig {
            run: true,
            poll_seconds: 5,
            plan_every_seconds: 60,
            lease_seconds: 120,
            batch: 20,
            sends_at_once: 4,
        }
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
        let raw = vars.clone();
        builder = builder.add_source(
            config::Environment::with_prefix("FOLLICLE")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("server.trusted_proxies")
                .source(Some(vars)),
        );
        let mut config: ServerConfig = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| ConfigError(e.to_string()))?;
        // Texts the environment source would read as numbers ("+447700900000" as 447700900000,
        // a token of digits losing its leading zeros) are taken as written.
        for (key, field) in [
            ("FOLLICLE__SMS__FROM", &mut config.sms.from),
            ("FOLLICLE__SMS__AUTH_TOKEN", &mut config.sms.auth_token),
        ] {
            if let Some(text) = raw.get(key) {
                text.clone_into(field);
            }
        }
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
        if !(1..=1_000_000).contains(&self.database.audit_filing_rows) {
            return Err(ConfigError(format!(
                "database.audit_filing_rows: expected 1 to 1000000, got {}",
                self.database.audit_filing_rows
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
        if !self.mail.ca_file.is_empty() {
            crate::mail::extra_roots(&self.mail).map_err(ConfigError)?;
        }
        let jobs = &self.jobs;
        for (key, value, max) in [
            ("jobs.poll_seconds", jobs.poll_seconds, 3600),
            ("jobs.plan_every_seconds", jobs.plan_every_seconds, 86_400),
            ("jobs.lease_seconds", jobs.lease_seconds, 86_400),
            ("jobs.batch", jobs.batch as u64, 1000),
            ("jobs.sends_at_once", jobs.sends_at_once as u64, 64),
        ] {
            if !(1..=max).contains(&value) {
                return Err(ConfigError(format!("{key}: expected 1 to {max}, got {value}")));
            }
        }
        if jobs.lease_seconds <= self.mail.timeout_seconds.saturating_mul(2) {
            return Err(ConfigError(format!(
                "jobs.lease_seconds: expected more than twice mail.timeout_seconds ({} s), so that a slow \
                 relay never lets another server take a message being sent; got {}",
                self.mail.timeout_seconds, jobs.lease_seconds
            )));
        }
        self.check_sms()?;
        if self.server.blocking_threads > 1024 {
            return Err(ConfigError(format!(
                "server.blocking_threads: expected 0 (one per core) to 1024, got {}",
                self.server.blocking_threads
            )));
        }
        if self.server.trust_forwarded_for.is_some() {
            return Err(ConfigError(
                "server.trust_forwarded_for: replaced by server.trusted_proxies, the addresses of the proxies whose X-Forwarded-For to believe".into(),
            ));
        }
        for proxy in &self.server.trusted_proxies {
            if crate::extract::IpBlock::parse(proxy).is_none() {
                return Err(ConfigError(format!(
                    "server.trusted_proxies: expected addresses or CIDR blocks such as 10.0.0.0/8, got {proxy:?}"
                )));
            }
        }
        if !(1..=1_000_000).contains(&self.server.max_connections) {
            return Err(ConfigError(format!(
                "server.max_connections: expected 1 to 1000000, got {}",
                self.server.max_connections
            )));
        }
        for (key, value) in [
            (
                "server.header_read_timeout_seconds",
                self.server.header_read_timeout_seconds,
            ),
            (
                "server.body_read_timeout_seconds",
                self.server.body_read_timeout_seconds,
            ),
        ] {
            if !(1..=3600).contains(&value) {
                return Err(ConfigError(format!("{key}: expected 1 to 3600, got {value}")));
            }
        }
        let l = &self.limits;
        for (key, value) in [
            ("limits.password_checks_at_once", l.password_checks_at_once),
            ("limits.signins_at_once", l.signins_at_once),
            ("limits.heavy_at_once", l.heavy_at_once),
            ("limits.heavy_per_user", l.heavy_per_user),
        ] {
            if !(1..=4096).contains(&value) {
                return Err(ConfigError(format!("{key}: expected 1 to 4096, got {value}")));
            }
        }
        for (key, value) in [
            ("limits.account_free_attempts", l.account_free_attempts),
            ("limits.address_free_attempts", l.address_free_attempts),
            ("limits.account_max_delay_seconds", l.account_max_delay_seconds),
            ("limits.address_max_delay_seconds", l.address_max_delay_seconds),
        ] {
            if !(1..=86_400).contains(&value) {
                return Err(ConfigError(format!("{key}: expected 1 to 86400, got {value}")));
            }
        }
        if !(0..=1_000_000).contains(&l.signins_per_minute) {
            return Err(ConfigError(format!(
                "limits.signins_per_minute: expected 0 (no limit) to 1000000, got {}",
                l.signins_per_minute
            )));
        }
        if self.storage.photos == PhotoStorage::S3 && self.storage.s3_bucket.trim().is_empty() {
            return Err(ConfigError::new(
                "storage.s3_bucket: required with storage.photos = \"s3\"",
            ));
        }
        Ok(())
    }

    fn check_sms(&self) -> Result<(), ConfigError> {
        let sms = &self.sms;
        if !(sms.base_url.starts_with("https://") || sms.base_url.starts_with("http://"))
            || sms.base_url.parse::<axum::http::Uri>().is_err()
        {
            return Err(ConfigError(format!(
                "sms.base_url: expected https://… (or http://… for a local test server), got {:?}",
                sms.base_url
            )));
        }
        if !(1..=120).contains(&sms.timeout_seconds) {
            return Err(ConfigError(format!(
                "sms.timeout_seconds: expected 1 to 120, got {}",
                sms.timeout_seconds
            )));
        }
        if !(1..=100_000).contains(&sms.inbound_per_minute) {
            return Err(ConfigError(format!(
                "sms.inbound_per_minute: expected 1 to 100000, got {}",
                sms.inbound_per_minute
            )));
        }
        if !sms.enabled() {
            return Ok(());
        }
        // Only a server that sends texts needs its lease to outlast the provider's timeout.
        if self.jobs.lease_seconds <= sms.timeout_seconds.saturating_mul(2) {
            return Err(ConfigError(format!(
                "jobs.lease_seconds: expected more than twice sms.timeout_seconds ({} s), so that a slow \
                 provider never lets another server take a message being sent; got {}",
                sms.timeout_seconds, self.jobs.lease_seconds
            )));
        }
        if !sms.account_sid.chars().all(|c| c.is_ascii_alphanumeric()) || sms.account_sid.len() > 64 {
            return Err(ConfigError(format!(
                "sms.account_sid: expected letters and digits (Twilio's AC… id), got {:?}",
                sms.account_sid
            )));
        }
        if sms.auth_token.is_empty() {
            return Err(ConfigError::new(
                "sms.auth_token: required with sms.account_sid (set FOLLICLE__SMS__AUTH_TOKEN)",
            ));
        }
        match follicle_core::messages::e164(&sms.from, 1) {
            Ok(number) if sms.from.trim().starts_with('+') && number == sms.from.trim() => Ok(()),
            Ok(_) | Err(_) => Err(ConfigError(format!(
                "sms.from: expected the sending number in E.164 form, such as +447700900000, got {:?}",
                sms.from
            ))),
        }
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
        let e = ServerConfig::load(None, env(&[("FOLLICLE__DATABASE__AUDIT_FILING_ROWS", "0")])).unwrap_err();
        assert!(
            e.to_string()
                .contains("database.audit_filing_rows: expected 1 to 1000000, got 0"),
            "{e}"
        );
        let e = ServerConfig::load(
            None,
            env(&[("FOLLICLE__SERVER__TRUSTED_PROXIES", "10.0.0.1,everyone")]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("server.trusted_proxies"), "{e}");
        let c = ServerConfig::load(
            None,
            env(&[("FOLLICLE__SERVER__TRUSTED_PROXIES", "10.0.0.0/8,::1")]),
        )
        .unwrap();
        assert_eq!(c.server.trusted_proxies, ["10.0.0.0/8", "::1"]);
        let e =
            ServerConfig::load(None, env(&[("FOLLICLE__SERVER__TRUST_FORWARDED_FOR", "true")])).unwrap_err();
        assert!(e.to_string().contains("trusted_proxies"), "{e}");
        let e = ServerConfig::load(None, env(&[("FOLLICLE__LIMITS__HEAVY_AT_ONCE", "0")])).unwrap_err();
        assert!(e.to_string().contains("limits.heavy_at_once"), "{e}");
        let e = ServerConfig::load(None, env(&[("FOLLICLE__SERVER__BLOCKING_THREADS", "1025")])).unwrap_err();
        assert!(e.to_string().contains("server.blocking_threads"), "{e}");
        let c = ServerConfig::load(None, env(&[("FOLLICLE__SERVER__BLOCKING_THREADS", "3")])).unwrap();
        assert_eq!(c.server.blocking_threads(), 3);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(ServerConfig::default().server.blocking_threads(), cores);
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

#[cfg(test)]
mod mail_tests {
    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<ServerConfig, ConfigError> {
        ServerConfig::load(None, vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn mail_goes_over_starttls_unless_told_otherwise() {
        let config = load(&[]).unwrap();
        assert_eq!((config.mail.tls, config.mail.smtp_port), (MailTls::Starttls, 587));
        let plain = load(&[("FOLLICLE__MAIL__TLS", "none")]).unwrap();
        assert_eq!(plain.mail.tls, MailTls::None);
        let error = load(&[("FOLLICLE__MAIL__TLS", "ssl")]).unwrap_err().to_string();
        assert!(error.contains("ssl") && error.contains("starttls"), "{error}");
    }

    #[test]
    fn text_messages_need_an_account_a_token_and_a_number() {
        let off = load(&[]).unwrap();
        assert!(!off.sms.enabled(), "no text messages unless set up");
        let on = load(&[
            ("FOLLICLE__SMS__ACCOUNT_SID", "AC0123456789abcdef"),
            ("FOLLICLE__SMS__AUTH_TOKEN", "0123456789"),
            ("FOLLICLE__SMS__FROM", "+447700900000"),
        ])
        .unwrap();
        assert!(on.sms.enabled());
        // Taken as written, not as numbers.
        assert_eq!(
            (on.sms.from.as_str(), on.sms.auth_token.as_str()),
            ("+447700900000", "0123456789")
        );
        let shown = format!("{:?}", on.sms);
        assert!(
            !shown.contains("s3cret-token") && shown.contains("***"),
            "{shown}"
        );
        for (vars, needle) in [
            (
                &[
                    ("FOLLICLE__SMS__ACCOUNT_SID", "AC01"),
                    ("FOLLICLE__SMS__FROM", "+447700900000"),
                ][..],
                "sms.auth_token",
            ),
            (
                &[
                    ("FOLLICLE__SMS__ACCOUNT_SID", "AC01"),
                    ("FOLLICLE__SMS__AUTH_TOKEN", "t"),
                    ("FOLLICLE__SMS__FROM", "07700 900000"),
                ][..],
                "sms.from: expected the sending number in E.164 form",
            ),
            (
                &[("FOLLICLE__SMS__BASE_URL", "api.twilio.com")][..],
                "sms.base_url",
            ),
            (
                &[("FOLLICLE__SMS__TIMEOUT_SECONDS", "0")][..],
                "sms.timeout_seconds",
            ),
            (
                &[
                    ("FOLLICLE__SMS__ACCOUNT_SID", "AC01"),
                    ("FOLLICLE__SMS__AUTH_TOKEN", "t"),
                    ("FOLLICLE__SMS__FROM", "+447700900000"),
                    ("FOLLICLE__SMS__TIMEOUT_SECONDS", "90"),
                ][..],
                "jobs.lease_seconds",
            ),
            (
                &[("FOLLICLE__SMS__INBOUND_PER_MINUTE", "0")][..],
                "sms.inbound_per_minute",
            ),
        ] {
            let error = load(vars).unwrap_err().to_string();
            assert!(error.contains(needle), "{vars:?}: {error}");
        }
    }

    #[test]
    fn a_short_lease_is_fine_without_texts() {
        // The queue's two-server tests run with a short lease and no SMS provider.
        let config = load(&[
            ("FOLLICLE__JOBS__LEASE_SECONDS", "6"),
            ("FOLLICLE__MAIL__TIMEOUT_SECONDS", "2"),
        ])
        .unwrap();
        assert_eq!(config.jobs.lease_seconds, 6);
    }

    #[test]
    fn a_ca_file_that_cannot_be_used_stops_the_start() {
        let missing = load(&[("FOLLICLE__MAIL__CA_FILE", "/nonexistent/ca.pem")])
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("mail.ca_file") && missing.contains("/nonexistent/ca.pem"),
            "{missing}"
        );
        let dir = std::env::temp_dir().join(format!("follicle-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let not_pem = dir.join("ca.pem");
        std::fs::write(&not_pem, "not a certificate").unwrap();
        let error = load(&[("FOLLICLE__MAIL__CA_FILE", not_pem.to_str().unwrap())])
            .unwrap_err()
            .to_string();
        std::fs::remove_dir_all(&dir).ok();
        assert!(error.contains("BEGIN CERTIFICATE"), "{error}");
    }
}
