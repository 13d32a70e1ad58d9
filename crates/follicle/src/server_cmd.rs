//! `follicle serve`, `follicle clinic create` and `follicle backup`: the clinic server and its
//! administration from the command line.

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
    /// The file to write the copy to (must not exist).
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
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
/// at most `server.blocking_threads` for blocking work, so that a burst of pattern or preview
/// requests queues instead of starting a thread (and its share of memory) each.
fn server_runtime(config: &ServerConfig) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if config.server.worker_threads > 0 {
        builder.worker_threads(config.server.worker_threads);
    }
    Ok(builder
        .max_blocking_threads(config.server.blocking_threads.max(1))
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

/// Copies the SQLite database while the server runs.
pub fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let config = config(&args.server)?;
    runtime()?.block_on(async {
        let store = follicle_web::serve::open_store(&config).await?;
        let path = store.backup_to(&args.to).await.map_err(store_error)?;
        println!("backed up to {}", path.display());
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
