//! The `bridges` command line, noun then verb: `school|practitioner|request|
//! assignment|partnership|round <verb>` (one file each), the whole LA's `match`
//! and `submit FILE|-`, `import gias|inspections|practitioners|requests`, `weekly` (the main
//! job), `report` and `problem export` (in `report.rs`), `log verify|export|import` (in `log.rs`), `bench log|engine`. Each arm opens the log in `--data DIR` and
//! calls the library; a domain command goes through a `session::Session`
//! (the engine, `--as`, `--at`, `--id`). A rejection exits 2, an
//! environment error 1; errors become `anyhow` only here, and leave as one
//! [`CliError`]: one line, and a kind that gives the exit code (2 for bad
//! input: configuration, arguments, files given, import rows, rejections;
//! 1 for the environment: disk, lock, I/O).
//!
//! To add a command family, add a file with its clap `Subcommand` enum and its
//! `run`, a variant to `Command`, and an arm to `run_async`.

mod assignment;
mod import;
pub mod local;
mod log;
mod matching;
pub(crate) mod parse;
mod partnership;
mod practitioner;
pub mod remote;
mod report;
mod request;
mod round;
mod school;
pub mod serve;
pub mod session;
pub mod submit;
mod web;
mod weekly;
mod year;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bridges_worker::common::{InvalidProblem, SolveOptions};
use clap::{Parser, Subcommand};

use crate::bench;
use crate::config::{Config, ConfigError};
use crate::log::{EventLog, LogConfig, LogError};
use crate::weekly::WeeklyError;
use session::Session;
pub use weekly::{beside, keys_dir};

/// Bridges: event-sourced brokerage of school-to-school support.
#[derive(Debug, Parser)]
#[command(
    name = "bridges",
    version,
    about,
    after_help = "Examples:
  bridges school register 102400 --name \"Cherry Lane Primary\" --phase primary --easting 507000 --northing 182000
  bridges request raise req-9 --urn 102400 --need maths --designations SLE --tier 2 --days 2026-AU1=2
  bridges --as broker-1 assignment accept req-9-h1
  bridges request list --open
  bridges match
  bridges submit commands.ndjson"
)]
pub struct Args {
    /// Folder of the event log (default: `data_dir` of the configuration).
    #[arg(long, global = true, env = "BRIDGES_DATA_DIR")]
    pub data: Option<PathBuf>,
    /// A configuration file (default: the built-in `config/default.toml`).
    #[arg(long, global = true, env = "BRIDGES_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub acting: session::Acting,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Schools: register, change, close, inspect, assess-risk, show, list.
    #[command(after_help = "Example: bridges school show 102400")]
    School {
        #[command(subcommand)]
        what: school::SchoolCommand,
    },
    /// Practitioners: designate, change, availability, leave, conflict,
    /// withdraw-conflict, withdraw, erase, sar, show, list.
    #[command(
        after_help = "Example: bridges practitioner availability sle-17 --days 2026-AU1=3,2026-AU2=2"
    )]
    Practitioner {
        #[command(subcommand)]
        what: practitioner::PractitionerCommand,
    },
    /// Support requests: raise, amend, withdraw, close, show, list, recommend.
    #[command(after_help = "Example: bridges request list --unmet")]
    Request {
        #[command(subcommand)]
        what: request::RequestCommand,
    },
    /// Assignments: propose, accept, decline, withdraw, contact, visit,
    /// correct-visit, void-visit, cancel-visit, confirm-visit, complete, show, list.
    #[command(
        after_help = "Example: bridges assignment visit req-9-h1 --on 2026-09-15 --half-days 2"
    )]
    Assignment {
        #[command(subcommand)]
        what: assignment::AssignmentCommand,
    },
    /// The partnership's year: budget per funding source, brokerage fee, show.
    #[command(after_help = "Example: bridges partnership show 2026-27")]
    Partnership {
        #[command(subcommand)]
        what: partnership::PartnershipCommand,
    },
    /// Peer-review rounds: open, enrol, withdraw, form, swap, move, confirm,
    /// review, share, close, show, export.
    #[command(after_help = "Example: bridges round show 2026-27-primary")]
    Round {
        #[command(subcommand)]
        what: round::RoundCommand,
    },
    /// A matching run now: expire overdue proposals, snapshot, solve, record, print.
    Match(matching::MatchArgs),
    /// Commands as JSON, one per line in; one result per line out.
    Submit(submit::SubmitArgs),
    /// The engine as a NATS service until SIGTERM: the relay of the log to
    /// JetStream, commands and queries over request/reply, runs through workers.
    Serve(serve::ServeArgs),
    /// The broker's desk: the web page on the data folder until SIGTERM.
    Web(web::WebArgs),
    /// The web page's accounts: add, disable, enable, reset, list.
    #[command(
        after_help = "Example: echo 'a long pass phrase' | bridges user add broker-1 --role broker"
    )]
    User {
        #[command(subcommand)]
        what: web::UserCommand,
    },
    /// The main job: a weekly matching run on the embedded default (no NATS):
    /// record the week's intake, snapshot the log, solve, record the proposals,
    /// print the plan.
    ///
    /// Example: bridges weekly --week 2026-W48
    Weekly(weekly::WeeklyArgs),
    /// README's main job: a year of the partnership (39 weekly runs with
    /// simulated answers, visits, closures and an erasure), then the report.
    ///
    /// Example: bridges year --seed 7
    Year(year::YearArgs),
    /// The LA's reports: CSV files for Excel, one self-contained HTML page
    /// with charts, and a recharge statement per receiving school per
    /// quarter, as of the whole log, a position or a date.
    Report(report::ReportArgs),
    /// Problem documents: export the one a run would have solved at a cut.
    Problem {
        #[command(subcommand)]
        what: report::ProblemCommand,
    },
    /// Import the LA's files: a GIAS extract, inspection outcomes,
    /// practitioners, requests (CSV, by header names; exit 2 if a row was
    /// rejected, after the good rows went in).
    ///
    /// Example: bridges import gias edubasealldata20250422.csv --la 312
    Import {
        #[command(subcommand)]
        what: import::ImportCommand,
    },
    /// The event log itself: verify, export, import.
    Log {
        #[command(subcommand)]
        what: log::LogCommand,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
}

/// Runs a command of the domain's families through `s`; any other comes back.
pub async fn run_domain(
    command: Command,
    config: &Config,
    s: &Session,
) -> Result<anyhow::Result<ExitCode>, Command> {
    Ok(match command {
        Command::School { what } => school::run(what, s).await,
        Command::Practitioner { what } => practitioner::run(what, s).await,
        Command::Request { what } => request::run(what, s).await,
        Command::Assignment { what } => assignment::run(what, s).await,
        Command::Partnership { what } => partnership::run(what, s).await,
        Command::Round { what } => round::run(what, config, s).await,
        Command::Match(a) => matching::run(a, config, s).await,
        Command::Submit(a) => submit::run(a, s).await,
        other => return Err(other),
    })
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Durable append throughput and latency, replay speed, memory and disk use.
    Log(bench::LogBenchOptions),
    /// Commands through the handler against raw appends, request recommend
    /// latency and a matching run, on a generated partnership.
    #[command(
        after_help = "Examples:\n  bridges bench engine\n  bridges bench engine --schools 200 --practitioners 50 --requests 500 --at 2026-09-14"
    )]
    Engine(bench::engine::EngineBenchOptions),
    /// Peer-review rounds formed one after another, each with the groups of
    /// those before as history: the real primaries of both boroughs and a
    /// generated pool of 1,500.
    #[command(
        after_help = "Examples:\n  bridges bench rounds\n  bridges bench rounds --generated 0"
    )]
    Rounds(bench::rounds::RoundsBenchOptions),
    /// A year of a large partnership (2,000 schools, 500 practitioners,
    /// 5,000 requests, 39 weekly runs under a 10 s limit): total time, per
    /// run, events per second, rebuild, report and peak memory.
    #[command(
        after_help = "Examples:\n  bridges bench year\n  bridges bench year --schools 200 --practitioners 50 --requests 500 --weeks 6"
    )]
    Year(bench::year::YearBenchOptions),
    /// The broker's desk on a large partnership: render time p50 and p99 of
    /// the dashboard, a request's page and the requests list, and the
    /// dashboard's pages per second with 32 clients, against /health.
    #[command(
        after_help = "Example: bridges bench web --schools 200 --practitioners 50 --requests 500"
    )]
    Web(bench::web::WebBenchOptions),
}

/// What is at fault when a command fails, which gives its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Configuration, arguments, files given, import rows: exit 2.
    BadInput,
    /// Disk, lock, I/O, a failed solver: exit 1.
    Environment,
}

impl ErrorKind {
    pub fn exit_code(self) -> ExitCode {
        match self {
            ErrorKind::BadInput => ExitCode::from(2),
            ErrorKind::Environment => ExitCode::from(1),
        }
    }
}

/// A failed command as `main` reports it: one line and its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    pub kind: ErrorKind,
    pub message: String,
}

impl CliError {
    pub fn bad_input(message: impl Into<String>) -> CliError {
        CliError { kind: ErrorKind::BadInput, message: message.into() }
    }

    pub fn environment(message: impl Into<String>) -> CliError {
        CliError { kind: ErrorKind::Environment, message: message.into() }
    }

    /// Classifies `error` by the first cause of a known type (outermost
    /// first; unknown causes are the environment's) and writes its chain on
    /// one line.
    pub fn classify(error: &anyhow::Error) -> CliError {
        let kind = error.chain().find_map(kind_of).unwrap_or(ErrorKind::Environment);
        let message = crate::weekly::one_line(error.chain());
        CliError { kind, message }
    }

    pub fn exit_code(&self) -> ExitCode {
        self.kind.exit_code()
    }
}

fn kind_of(cause: &(dyn std::error::Error + 'static)) -> Option<ErrorKind> {
    if let Some(e) = cause.downcast_ref::<CliError>() {
        return Some(e.kind);
    }
    if cause.is::<ConfigError>() || cause.is::<InvalidProblem>() {
        return Some(ErrorKind::BadInput);
    }
    if let Some(e) = cause.downcast_ref::<LogError>() {
        return Some(log_error_kind(e));
    }
    if let Some(e) = cause.downcast_ref::<crate::reports::ReportError>() {
        return match e {
            crate::reports::ReportError::Log(log) => Some(log_error_kind(log)),
            e if e.is_bad_input() => Some(ErrorKind::BadInput),
            _ => Some(ErrorKind::Environment),
        };
    }
    if let Some(e) = cause.downcast_ref::<WeeklyError>() {
        return match e.is_bad_input() {
            Some(true) => Some(ErrorKind::BadInput),
            Some(false) => Some(ErrorKind::Environment),
            // A lower layer's error: its own cause decides (the chain goes on).
            None => None,
        };
    }
    if let Some(e) = cause.downcast_ref::<crate::handle::HandleError>() {
        return match e {
            crate::handle::HandleError::Log(log) => Some(log_error_kind(log)),
            _ => Some(ErrorKind::Environment),
        };
    }
    if cause.is::<std::io::Error>() {
        return Some(ErrorKind::Environment);
    }
    None
}

/// A log error's kind: what was given (an invalid event or field, an import
/// line, a non-empty log to import into) is bad input; the rest (storage,
/// corruption, I/O, a stopped writer) is the environment, as the log
/// classifies it.
fn log_error_kind(error: &LogError) -> ErrorKind {
    if error.is_bad_input() { ErrorKind::BadInput } else { ErrorKind::Environment }
}

/// Runs one subcommand to completion; a failure comes back classified.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::environment(format!("starting the runtime: {e}")))?;
    rt.block_on(run_async(args)).map_err(|e| CliError::classify(&e))
}

async fn run_async(args: Args) -> anyhow::Result<ExitCode> {
    let Args { data, config, acting, command } = args;
    let config = Config::load(config.as_deref())?;
    let data = data.unwrap_or_else(|| config.data_dir.clone());
    let log_config = || {
        let mut c = LogConfig::new(&data);
        c.cache_capacity = config.log.cache_capacity_bytes;
        c.max_group_events = config.log.max_group_events;
        c.index_lag = config.log.index_lag;
        c
    };
    let open = || {
        EventLog::open(log_config())
            .with_context(|| format!("opening the log in {}", data.display()))
    };
    match command {
        Command::Log { what } => log::run(what, &log_config(), &config, &data).await,
        Command::Weekly(a) => weekly::run(a, &config, &data, open).await,
        Command::Serve(a) => serve::run(a, &config, &data, open()?).await,
        Command::Web(a) => web::run(a, &config, &data, open()?).await,
        Command::User { what } => web::run_user(what, &data),
        Command::Year(a) => year::run(a, &config, &data, open).await,
        Command::Report(a) => report::run_report(a, &config, open()?).await,
        Command::Problem { what } => report::run_problem(what, &config, open()?, acting.at).await,
        Command::Import { what } => import::run(what, &config, &data, open()?, &acting).await,
        Command::Bench { what: BenchCommand::Log(opts) } => {
            bench::run_log_bench(&data, &opts).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { what: BenchCommand::Year(opts) } => {
            bench::year::run_year_bench(&config, &opts).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { what: BenchCommand::Web(opts) } => {
            let options = SolveOptions {
                time_limit: Some(config.solver.time_limit_seconds),
                mip_gap: Some(config.solver.mip_gap).filter(|g| *g > 0.0),
            };
            let at = acting.at.unwrap_or_else(chrono::Utc::now);
            let rules = crate::rules::rules(&config);
            bench::web::run_web_bench(&data, &rules, options, at, &opts).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { what: BenchCommand::Rounds(opts) } => {
            tokio::task::spawn_blocking(move || bench::rounds::run_rounds_bench(&opts)).await??;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { what: BenchCommand::Engine(opts) } => {
            let options = SolveOptions {
                time_limit: Some(opts.time_limit.unwrap_or(config.solver.time_limit_seconds)),
                mip_gap: Some(config.solver.mip_gap).filter(|g| *g > 0.0),
            };
            let at = acting.at.unwrap_or_else(chrono::Utc::now);
            let rules = crate::rules::rules(&config);
            bench::engine::run_engine_bench(&data, &rules, options, at, &opts).await?;
            Ok(ExitCode::SUCCESS)
        }
        // The domain's families, through a session.
        domain => {
            let s = match open() {
                Ok(log) => Session::open(&config, &data, log, acting.clone()).await?,
                Err(e) if remote::is_locked(&e) => {
                    match remote::Remote::find(&config, &data).await? {
                        Some(r) => Session::remote(r, acting.clone()),
                        None => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            };
            let result = run_domain(domain, &config, &s)
                .await
                .map_err(|c| anyhow::anyhow!("{c:?} is not a command of the domain"))?;
            // A remote session asked for the state: the engine runs it all.
            if let (Err(e), Some(remote)) = (&result, s.remote_link())
                && e.chain().any(|c| c.is::<session::Forward>())
            {
                return remote.forward(&s).await;
            }
            s.finish(result).await
        }
    }
}
