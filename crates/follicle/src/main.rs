//! The `follicle` command: assess a client, plan and price the treatment, write the calendar,
//! draw the dot pattern and render previews — from a client file and the clinic's settings.
//!
//! Exit codes: 0 done; 2 the input (a file, a flag) is wrong, with a message that names
//! the file, line, field, the value and what is allowed; 1 anything else (a file that
//! cannot be written, for example).

mod calendar;
mod pattern_cmd;
mod render_cmd;
mod report;
mod server_cmd;
mod stencil_cmd;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use follicle_core::{ClientProfile, InputError, Settings};
use follicle_pattern::treatment::{self, DEFAULT_SEED, Treatment};
use time::Date;

/// mimalloc (its 2.x line, without transparent huge pages) instead of glibc's malloc: the server
/// allocates and frees many small objects a request (the client file's TOML, the plan, its
/// JSON) on threads that hand them to each other. `scripts/bench-server`, POST /plan, five
/// alternated runs each: 13,865 → 15,953 requests/s (medians, 1.15×), p99 9.1 → 8.3 ms; the
/// whole load benchmark's peak memory 215 → 242 MiB (mimalloc 3 with huge pages: 277 MiB).
/// See docs/benchmarks/issue-13.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Scalp micropigmentation planning for clinics.
#[derive(Debug, Parser)]
#[command(name = "follicle", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Assess a client: verdict with the rules behind it, approach, zones and their areas.
    Assess(AssessArgs),
    /// Plan the treatment: sessions, dates, aftercare, touch-up forecast and quote.
    Plan(PlanArgs),
    /// The dots of a client's design (or a saved design, or a flat measurement patch).
    Pattern(pattern_cmd::PatternArgs),
    /// Previews of a client's design: views, moments, timeline, photo before/after, comparison.
    Render(render_cmd::RenderArgs),
    /// The design's stencil at 1:1 (PDF or SVG): hairline and zone outlines with a scale bar,
    /// and each session's dots.
    Stencil(stencil_cmd::StencilArgs),
    /// Print the default clinic settings (every figure with its source), or check a clinic file.
    Settings {
        /// Check this clinic settings file instead of printing the defaults.
        #[arg(long, value_name = "CLINIC.toml")]
        check: Option<PathBuf>,
    },
    /// Run the clinic server: the JSON API (and the studio) over SQLite or PostgreSQL.
    Serve(server_cmd::ServeArgs),
    /// Clinic administration.
    #[command(subcommand)]
    Clinic(ClinicCommand),
    /// Back up the SQLite database and every photo, while the server runs, into a new folder.
    Backup(server_cmd::BackupArgs),
    /// Restore a backup into a fresh data folder, checked against its manifest.
    Restore(server_cmd::RestoreArgs),
    /// The retention job: anonymise clients past each clinic's retention period.
    #[command(subcommand)]
    Retention(RetentionCommand),
}

#[derive(Debug, Subcommand)]
enum RetentionCommand {
    /// Run it once now (the server runs it every `database.retention_every_hours`).
    Run(server_cmd::RetentionArgs),
}

#[derive(Debug, Subcommand)]
enum ClinicCommand {
    /// Create a clinic and its first owner account.
    Create(server_cmd::CreateClinicArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct Common {
    /// The client file (TOML; see examples/clients).
    #[arg(value_name = "CLIENT.toml")]
    pub(crate) client: PathBuf,
    /// The clinic's settings, merged over the defaults (`follicle settings` prints them).
    #[arg(long, value_name = "CLINIC.toml")]
    pub(crate) settings: Option<PathBuf>,
    /// The assessment date, YYYY-MM-DD [default: today].
    #[arg(long, value_name = "DATE", value_parser = parse_date_arg)]
    pub(crate) date: Option<Date>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

#[derive(Debug, clap::Args)]
struct AssessArgs {
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, clap::Args)]
struct PlanArgs {
    #[command(flatten)]
    common: Common,
    /// The earliest day for the first session, YYYY-MM-DD [default: the assessment date].
    #[arg(long, value_name = "DATE", value_parser = parse_date_arg)]
    start: Option<Date>,
    /// Also write the sessions and aftercare/touch-up reminders as an iCalendar file.
    #[arg(long, value_name = "FILE")]
    ics: Option<PathBuf>,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people, in a terminal.
    Text,
    /// For programs (documented in docs/plan-json.md).
    Json,
    /// For printing or pasting into a message.
    Markdown,
}

pub(crate) fn parse_date_arg(text: &str) -> Result<Date, String> {
    follicle_core::profile::parse_date(text)
}

/// An error the user can fix: printed as it is, exit code 2.
#[derive(Debug)]
pub(crate) struct UserError(pub(crate) String);

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

/// Client and settings files are small; anything bigger is a mistake (a photo, a database).
const MAX_INPUT_BYTES: u64 = 1 << 20;

pub(crate) fn read_input(path: &Path, what: &str) -> anyhow::Result<String> {
    let shown = path.display();
    let meta =
        std::fs::metadata(path).map_err(|e| UserError(format!("{shown}: cannot read the {what}: {e}")))?;
    if meta.len() > MAX_INPUT_BYTES {
        return Err(UserError(format!(
            "{shown}: the {what} is {} bytes; at most {MAX_INPUT_BYTES} are allowed",
            meta.len()
        ))
        .into());
    }
    let bytes =
        std::fs::read(path).map_err(|e| UserError(format!("{shown}: cannot read the {what}: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        UserError(format!(
            "{shown}: the {what} is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
        .into()
    })
}

fn user_error(err: InputError, file: &Path) -> anyhow::Error {
    UserError(err.in_file(file.display().to_string()).to_string()).into()
}

pub(crate) fn load_settings(path: Option<&Path>) -> anyhow::Result<Settings> {
    match path {
        None => Ok(Settings::default()),
        Some(p) => {
            let text = read_input(p, "settings file")?;
            Settings::with_overrides(&text).map_err(|e| user_error(e, p))
        }
    }
}

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

fn profile(common: &Common) -> anyhow::Result<(ClientProfile, Settings, Date)> {
    let settings = load_settings(common.settings.as_deref())?;
    let text = read_input(&common.client, "client file")?;
    let date = common.date.unwrap_or_else(today);
    let profile =
        ClientProfile::from_toml(&text, &settings, date).map_err(|e| user_error(e, &common.client))?;
    Ok((profile, settings, date))
}

/// A pattern error on a valid client file: the head measurements or the rules cannot be drawn.
fn drawing_error(e: follicle_pattern::PatternError, client: &Path) -> anyhow::Error {
    UserError(format!(
        "{}: the zones cannot be drawn on this head: {e}",
        client.display()
    ))
    .into()
}

/// Assesses a client file: the zones to treat drawn on the client's head and measured there.
fn assessment(common: &Common) -> anyhow::Result<(follicle_core::Assessment, Settings)> {
    let (profile, settings, date) = profile(common)?;
    let (assessment, _) = treatment::assess_client(&profile, &settings, date, DEFAULT_SEED)
        .map_err(|e| drawing_error(e, &common.client))?;
    Ok((assessment, settings))
}

/// Assesses and plans a client file, priced from the zones drawn with `seed`.
pub(crate) fn load_plan(
    common: &Common,
    start: Option<Date>,
    seed: u64,
) -> anyhow::Result<(Treatment, Settings)> {
    let (profile, settings, date) = profile(common)?;
    let start = start.unwrap_or(date);
    let treatment = treatment::plan_client(&profile, &settings, date, start, seed)
        .map_err(|e| drawing_error(e, &common.client))?;
    Ok((treatment, settings))
}

/// Plans a client file for drawing or rendering: a client with no sessions (not suitable, nothing
/// to treat) is an input error, since there is no design to show.
pub(crate) fn load_plannable(
    client: &Path,
    settings: Option<&PathBuf>,
    date: Option<Date>,
    seed: u64,
) -> anyhow::Result<(Treatment, Settings)> {
    let common = Common {
        client: client.to_path_buf(),
        settings: settings.cloned(),
        date,
        format: Format::Json,
    };
    let (treatment, settings) = load_plan(&common, None, seed)?;
    if treatment.plan.sessions.is_empty() {
        return Err(UserError(format!(
            "{}: no sessions are planned (verdict {}): there is no design to show",
            client.display(),
            treatment.plan.assessment.eligibility.verdict.as_str()
        ))
        .into());
    }
    Ok((treatment, settings))
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Pattern(args) => pattern_cmd::run(args)?,
        Command::Serve(args) => server_cmd::serve(args)?,
        Command::Clinic(ClinicCommand::Create(args)) => server_cmd::create_clinic(args)?,
        Command::Backup(args) => server_cmd::backup(args)?,
        Command::Restore(args) => server_cmd::restore(args)?,
        Command::Retention(RetentionCommand::Run(args)) => server_cmd::retention(args)?,
        Command::Render(args) => render_cmd::run(args)?,
        Command::Stencil(args) => stencil_cmd::run(args)?,
        Command::Assess(args) => {
            let (assessment, _) = assessment(&args.common)?;
            print!("{}", report::assessment(&assessment, args.common.format)?);
        }
        Command::Plan(args) => {
            let (Treatment { plan, .. }, settings) = load_plan(&args.common, args.start, DEFAULT_SEED)?;
            if let Some(path) = &args.ics {
                let ics = calendar::ics(&plan, &settings);
                std::fs::write(path, ics)
                    .with_context(|| format!("cannot write the calendar to {}", path.display()))?;
            }
            print!("{}", report::plan(&plan, args.common.format)?);
        }
        Command::Settings { check: None } => print!("{}", follicle_core::settings::DEFAULT_SETTINGS_TOML),
        Command::Settings { check: Some(path) } => {
            load_settings(Some(&path))?;
            println!("{}: valid", path.display());
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if let Some(user) = err.downcast_ref::<UserError>() {
                eprintln!("error: {user}");
                ExitCode::from(2)
            } else {
                eprintln!("error: {err:#}");
                ExitCode::FAILURE
            }
        }
    }
}
