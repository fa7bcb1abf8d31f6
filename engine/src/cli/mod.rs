//! The `bridges` command line, noun then verb: `weekly` (the main job),
//! `import gias|inspections|practitioners|requests` (in `import.rs`),
//! `log verify|export|import` (in `log.rs`), `bench log`. Each arm opens the
//! log in `--data DIR` and calls the library; errors become `anyhow` only here.
//!
//! To add a command family, add a file with its clap `Subcommand` enum and its
//! `run`, a variant to `Command`, and an arm to `run_async`.

mod import;
mod log;
mod weekly;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::bench;
use crate::config::Config;
use crate::log::{EventLog, LogConfig};

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

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Durable append throughput and latency, replay speed, memory and disk use.
    Log(bench::LogBenchOptions),
}

/// Runs one subcommand to completion.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(run_async(args))
}

async fn run_async(args: Args) -> anyhow::Result<ExitCode> {
    let config = Config::load(args.config.as_deref())?;
    let data = args.data.clone().unwrap_or_else(|| config.data_dir.clone());
    let log_config = || {
        let mut c = LogConfig::new(&data);
        c.cache_capacity = config.cache_capacity_bytes;
        c.max_group_events = config.max_batch;
        c.index_lag = config.index_lag;
        c
    };
    let open = || {
        EventLog::open(log_config())
            .with_context(|| format!("opening the log in {}", data.display()))
    };
    match args.command {
        Command::Weekly(a) => weekly::run(a, &config, &data, open()?).await,
        Command::Import { what } => import::run(what, &config, &data, open()?).await,
        Command::Log { what } => log::run(what, &log_config()).await,
        Command::Bench { what: BenchCommand::Log(opts) } => {
            bench::run_log_bench(&data, &opts).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
