//! The `bridges` command line, noun then verb: `weekly` (the main job),
//! `log verify|export|import` (in `log.rs`), `bench log`. Each arm opens the
//! log in `--data DIR` and calls the library; errors become `anyhow` only here,
//! and leave as one [`CliError`]: one line, and a kind that gives the exit
//! code (2 for bad input: configuration, arguments, files given, import rows;
//! 1 for the environment: disk, lock, I/O).
//!
//! To add a command family, add a file with its clap `Subcommand` enum and its
//! `run`, a variant to `Command`, and an arm to `run_async`.

mod log;
mod weekly;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use bridges_worker::common::InvalidProblem;
use clap::{Parser, Subcommand};

use crate::bench;
use crate::config::{Config, ConfigError};
use crate::log::{EventLog, LogConfig, LogError};
use crate::weekly::WeeklyError;

/// Bridges: event-sourced brokerage of school-to-school support.
#[derive(Debug, Parser)]
#[command(name = "bridges", version, about)]
pub struct Args {
    /// Folder of the event log (default: `data_dir` of the configuration).
    #[arg(long, global = true, env = "BRIDGES_DATA_DIR")]
    pub data: Option<PathBuf>,
    /// A configuration file (default: the built-in `config/default.toml`).
    #[arg(long, global = true, env = "BRIDGES_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The main job: a weekly matching run on the embedded default (no NATS):
    /// record the week's intake, snapshot the log, solve, record the proposals,
    /// print the plan.
    ///
    /// Example: bridges weekly --week 2026-W48
    Weekly(weekly::WeeklyArgs),
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

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Durable append throughput and latency, replay speed, memory and disk use.
    Log(bench::LogBenchOptions),
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
/// corruption, I/O, a stopped writer) is the environment. (To be replaced by
/// the log's own classification when it has one.)
fn log_error_kind(error: &LogError) -> ErrorKind {
    match error {
        LogError::Invalid { .. } | LogError::Import { .. } | LogError::NotEmpty { .. } => {
            ErrorKind::BadInput
        }
        _ => ErrorKind::Environment,
    }
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
    let config = Config::load(args.config.as_deref())?;
    let data = args.data.clone().unwrap_or_else(|| config.data_dir.clone());
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
    match args.command {
        Command::Weekly(a) => weekly::run(a, &config, &data, open).await,
        Command::Log { what } => log::run(what, &log_config()).await,
        Command::Bench { what: BenchCommand::Log(opts) } => {
            bench::run_log_bench(&data, &opts).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
