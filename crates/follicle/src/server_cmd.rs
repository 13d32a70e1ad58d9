//! `follicle serve`, `follicle clinic create`, `follicle backup`, `follicle restore` and
//! `follicle retention run`: the clinic server and its administration from the command line.

use std::io::BufRead;
use std::path::PathBuf;

use follicle_store::{NewUser, Role};
use follicle_web::ServerConfig;

use crate::UserError;

/// Where the server's settings come from; the flags win over the file and the environment.
#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// The server's configuration file (TOML; see `follicle_web::config`). Environment
    /// variables `FOLLICLE__SECTION__KEY` override it.
    #[arg(long, value_name = "SERVER.toml")]
    config: Option<PathBuf>,
    /// The database: sqlite://PATH or postgres://… [default: `sqlite://DATA_DIR/follicle.db`].
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// The data folder: the SQLite file and photos [default: follicle-data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

/// Arguments of `follicle serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<String>,
    /// Create the demo clinic (three users, eight clients with plans, designs and sessions)
    /// if it is not there yet.
    #[arg(long)]
    demo: bool,
}

/// Arguments of `follicle clinic create`.
#[derive(Debug, clap::Args)]
pub struct CreateClinicArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The clinic's name.
    #[arg(long)]
    name: String,
    /// The owner's email (their login).
    #[arg(long)]
    owner_email: String,
    /// The owner's name.
    #[arg(long)]
    owner_name: String,
}

/// Arguments of `follicle backup`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The folder to write the backup to (must not exist): the database, every photo and a
    /// manifest of both, made private (0700/0600).
    #[arg(long, value_name = "DIR")]
    to: PathBuf,
}

/// Arguments of `follicle restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The backup folder `follicle backup` wrote.
    #[arg(long, value_name = "DIR")]
    from: PathBuf,
}

/// Arguments of `follicle retention run`.
#[derive(Debug, clap::Args)]
pub struct RetentionArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// Change nothing: list the clients who would be anonymised (the report is stored).
    #[arg(long)]
    dry_run: bool,
    /// The day to run as, YYYY-MM-DD [default: today].
    #[arg(long, value_name = "DATE", value_parser = crate::parse_date_arg)]
    date: Option<time::Date>,
}

fn config(args: &ServerArgs) -> anyhow::Result<ServerConfig> {
    let mut config =
        ServerConfig::load(args.config.as_deref(), std::env::vars()).map_err(|e| UserError(e.to_string()))?;
    if let Some(url) = &args.database {
        config.database.url = url.clone();
    }
    if let Some(dir) = &args.data_dir {
        config.storage.data_dir = dir.clone();
    }
    Ok(config)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

/// The server's runtime: `server.worker_threads` async threads (one per core by default) and
/// at most `server.blocking_threads` for blocking work (one per core by default), so that a
/// burst of pattern or preview requests queues instead of starting a thread (and its share of
/// memory) each.
fn server_runtime(config: &ServerConfig) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if config.server.worker_threads > 0 {
        builder.worker_threads(config.server.worker_threads);
    }
    Ok(builder
        .max_blocking_threads(config.server.blocking_threads())
        .enable_all()
        .build()?)
}

/// Runs the server until Ctrl-C or SIGTERM.
pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = config(&args.server)?;
    if let Some(listen) = args.listen {
        if listen.parse::<std::net::SocketAddr>().is_err() {
            return Err(UserError(format!(
                "--listen: expected an address and port such as 127.0.0.1:8080, got {listen:?}"
            ))
            .into());
        }
        config.server.listen = listen;
    }
    follicle_web::init_logging(&config.log);
    server_runtime(&config)?.block_on(follicle_web::serve(config, args.demo))?;
    Ok(())
}

/// Creates a clinic and its first owner. The password is read from the environment variable
/// `FOLLICLE_OWNER_PASSWORD`, or else from the first line of standard input.
pub fn create_clinic(args: CreateClinicArgs) -> anyhow::Result<()> {
    let config = config(&args.server)?;
    let password = match std::env::var("FOLLICLE_OWNER_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            eprintln!("owner's password (10 characters or more), then Enter:");
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let owner = NewUser {
        email: args.owner_email,
        name: args.owner_name,
        role: Role::Owner,
        password,
    };
    runtime()?.block_on(async {
        let store = follicle_web::serve::open_store(&config).await?;
        let (clinic, _) = store
            .create_clinic_with_owner(&args.name, owner)
            .await
            .map_err(store_error)?;
        println!(
            "created clinic {:?} ({}); its owner can now sign in",
            clinic.name, clinic.id
        );
        store.close().await;
        Ok(())
    })
}

/// Backs up the SQLite database and every photo while the server runs.
pub fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let config = config(&args.server)?;
    runtime()?.block_on(async {
        let store = follicle_web::serve::open_store(&config).await?;
        let manifest = store.backup_all(&args.to).await.map_err(store_error)?;
        let rows: u64 = manifest.tables.values().map(|t| t.count).sum();
        let bytes: u64 = manifest.photos.values().map(|p| p.count).sum();
        println!(
            "backed up to {}: {} tables, {rows} rows, {} photos ({bytes} bytes); manifest.json lists their checksums",
            args.to.display(),
            manifest.tables.len(),
            manifest.photos.len()
        );
        store.close().await;
        Ok(())
    })
}

/// Restores a backup into a fresh data folder (the database file must not exist) and checks
/// every table and photo against the backup's manifest.
pub fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let config = config(&args.server)?;
    let url = config.database_url();
    let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    else {
        return Err(UserError(
            "restore: the database must be sqlite://…; restore PostgreSQL with pg_restore (docs/operations.md)".into(),
        )
        .into());
    };
    let path = PathBuf::from(path.split('?').next().unwrap_or(path));
    runtime()?.block_on(async {
        let blobs = follicle_web::serve::open_blobs(&config)?;
        let manifest = follicle_store::Store::restore(&args.from, &path, &blobs)
            .await
            .map_err(store_error)?;
        // Open it once as the server will: migrations a newer build brings run now.
        let store = follicle_web::serve::open_store(&config).await?;
        store.close().await;
        println!(
            "restored {} into {}: {} tables and {} photos, each identical to the backup's manifest",
            args.from.display(),
            path.display(),
            manifest.tables.len(),
            manifest.photos.len()
        );
        Ok(())
    })
}

/// Runs the retention job once: anonymises each clinic's clients past its retention period
/// (unless the legal hold keeps them), or with `--dry-run` lists them.
pub fn retention(args: RetentionArgs) -> anyhow::Result<()> {
    let config = config(&args.server)?;
    let today = args
        .date
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
    runtime()?.block_on(async {
        let store = follicle_web::serve::open_store(&config).await?;
        let reports = store
            .run_retention(today, args.dry_run)
            .await
            .map_err(store_error)?;
        let verb = if args.dry_run {
            "would anonymise"
        } else {
            "anonymised"
        };
        for report in &reports {
            println!(
                "clinic {} (retention {} years): {verb} {} clients, {} photos; {} held by law",
                report.clinic_id,
                report.retention_years,
                report.anonymised.len(),
                report.anonymised.iter().map(|e| e.photos).sum::<u64>(),
                report.held.len()
            );
            for entry in &report.anonymised {
                if let Some((id, name)) = &entry.client {
                    println!("  {id} {name}: last activity {}", entry.last_activity_year);
                }
            }
            for entry in &report.held {
                if let Some(until) = entry.kept_until {
                    println!("  held until {until}: last activity {}", entry.last_activity_year);
                }
            }
        }
        store.close().await;
        Ok(())
    })
}

/// Input mistakes (a taken email, a short password, an existing backup file) are the user's
/// to fix: exit code 2.
fn store_error(e: follicle_store::StoreError) -> anyhow::Error {
    match e {
        e @ (follicle_store::StoreError::Invalid { .. } | follicle_store::StoreError::Conflict { .. }) => {
            UserError(e.to_string()).into()
        }
        e => e.into(),
    }
}
