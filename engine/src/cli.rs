//! The `bridges` subcommands: `verify`, `export`, `import`, `bench log`, and a
//! hidden `append-loop` used by the crash test. Each arm opens the log in
//! `--data DIR` and calls the library; errors become `anyhow` only here.
//!
//! To add a subcommand, add a variant to `Command` and an arm to `run`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;
use clap::{Parser, Subcommand};
use serde_json::json;
use uuid::Uuid;

use crate::bench;
use crate::config::Config;
use crate::log::{
    AppendOutcome, AppendRequest, EventLog, ExpectedVersion, LogConfig, LogError, NewEvent,
};
use crate::weekly;

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
    Weekly {
        /// ISO week label such as 2026-W48 (default: this week).
        #[arg(long)]
        week: Option<String>,
        /// GIAS-format CSV of real schools (default: ../shared/data/hillingdon_ealing_schools.csv when present).
        #[arg(long)]
        gias: Option<PathBuf>,
        /// Generate the borough's schools instead of reading GIAS.
        #[arg(long)]
        synthetic: bool,
        /// Also write the problem document the run solved (for `bridges-worker solve`).
        #[arg(long)]
        save_problem: Option<PathBuf>,
        /// Also write the plan document.
        #[arg(long)]
        save_plan: Option<PathBuf>,
    },
    /// Check the hash chain and indexes; report the first broken position.
    Verify,
    /// Write the log as NDJSON (stdout without --out).
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Load an NDJSON export into an empty log; checks every line first.
    Import {
        /// The NDJSON file.
        file: PathBuf,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
    /// Crash-test helper: appends in a loop and prints `ack FIRST LAST TASK SEQ`
    /// per acknowledged append.
    #[command(hide = true)]
    AppendLoop {
        #[arg(long, default_value_t = 4)]
        tasks: usize,
        #[arg(long, default_value_t = 3)]
        events_per_append: usize,
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
        Command::Weekly { week, gias, synthetic, save_problem, save_plan } => {
            let now = Utc::now();
            let gias = if synthetic {
                None
            } else {
                gias.or_else(|| {
                    let shared = PathBuf::from("../shared/data/hillingdon_ealing_schools.csv");
                    shared.exists().then_some(shared)
                })
            };
            let request = weekly::WeeklyRequest {
                week: week.unwrap_or_else(|| weekly::week_of(now)),
                gias,
                now,
            };
            let log = open()?;
            let outcome = weekly::run(&log, &config, &request).await;
            log.close().await?;
            let outcome = outcome?;
            if let Some(path) = save_problem {
                let problem = bridges_schemas::Problem::Brokerage(outcome.problem.clone());
                std::fs::write(&path, serde_json::to_vec_pretty(&problem)?)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            if let Some(path) = save_plan {
                let plan = bridges_schemas::Plan::Brokerage(outcome.plan.clone());
                std::fs::write(&path, serde_json::to_vec_pretty(&plan)?)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            print!("{}", weekly::render(&outcome, &data));
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify => {
            // A corrupt last record stops the log from opening (the writer
            // cannot extend a chain it cannot read): report it like verify would.
            let log = match EventLog::open(log_config()) {
                Err(LogError::Corrupt { position, reason }) => {
                    println!("broken at position {position}: {reason}");
                    return Ok(ExitCode::from(1));
                }
                other => other.with_context(|| format!("opening the log in {}", data.display()))?,
            };
            let report = log.verify()?;
            log.close().await?;
            match report.first_broken {
                None => {
                    println!(
                        "ok: {} events verified, head hash {}",
                        report.checked, report.head_hash
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Some((pos, why)) => {
                    println!(
                        "broken at position {pos}: {why} ({} events before it verify)",
                        report.checked
                    );
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Export { out } => {
            let log = open()?;
            let n = match out {
                Some(path) => {
                    let f = std::fs::File::create(&path)
                        .with_context(|| format!("creating {}", path.display()))?;
                    log.export_ndjson(&mut std::io::BufWriter::new(f))?
                }
                None => {
                    log.export_ndjson(&mut std::io::BufWriter::new(std::io::stdout().lock()))?
                }
            };
            log.close().await?;
            eprintln!("exported {n} events");
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { file } => {
            let log = open()?;
            let n = log.import_ndjson(&file).await;
            log.close().await?;
            let n = n.with_context(|| format!("importing {}", file.display()))?;
            println!("imported {n} events");
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { what: BenchCommand::Log(opts) } => {
            bench::run_log_bench(&data, &opts).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::AppendLoop { tasks, events_per_append } => {
            append_loop(open()?, tasks, events_per_append).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Appends forever from `tasks` concurrent tasks, each to its own stream with
/// exact expected versions, printing every acknowledgement. It only ends when
/// killed (which is the point).
async fn append_loop(log: EventLog, tasks: usize, per_append: usize) -> anyhow::Result<()> {
    let mut handles = Vec::new();
    for task in 0..tasks {
        let log = log.clone();
        handles.push(tokio::spawn(async move {
            let stream = format!("crash-{task}");
            let mut version = log.stream_version(&stream)?;
            // Continue the sequence of earlier (killed) runs from the stream.
            let mut seq = version.0 / per_append.max(1) as u64;
            loop {
                let events = (0..per_append)
                    .map(|i| NewEvent {
                        event_id: Uuid::new_v4(),
                        type_name: "CrashTestAppended".into(),
                        type_version: 1,
                        payload: json!({"task": task, "seq": seq, "part": i}),
                    })
                    .collect();
                let expected = if version.0 == 0 {
                    ExpectedVersion::NoStream
                } else {
                    ExpectedVersion::Exact(version)
                };
                let req = AppendRequest {
                    stream: stream.clone(),
                    expected,
                    events,
                    command_id: Some(format!("crash-{task}-{}-{seq}", version.0)),
                    recorded_at: Utc::now(),
                };
                match log.append(req).await? {
                    AppendOutcome::Appended { first, last, version: v } => {
                        version = v;
                        let mut out = std::io::stdout().lock();
                        writeln!(out, "ack {first} {last} {task} {seq}")?;
                        out.flush()?;
                    }
                    AppendOutcome::Conflict { actual, .. } => {
                        anyhow::bail!("task {task} owns its stream, yet it was at {actual}")
                    }
                }
                seq += 1;
            }
            #[allow(unreachable_code)]
            Ok::<(), anyhow::Error>(())
        }));
    }
    for h in handles {
        h.await??;
    }
    Ok(())
}
