//! `bridges log verify|export|import`: the event log as a whole, with no
//! domain rules, and the hidden `append-loop` the crash test drives.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;
use clap::Subcommand;
use serde_json::json;
use uuid::Uuid;

use crate::log::{
    AppendOutcome, AppendRequest, EventLog, ExpectedVersion, LogConfig, LogError, NewEvent,
};

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Check the hash chain and indexes; report the first broken position.
    ///
    /// Example: bridges --data bridges-data log verify
    Verify,
    /// Write the log as NDJSON (stdout without --out).
    ///
    /// Example: bridges log export --out log.ndjson
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Load an NDJSON export into an empty log; checks every line first.
    ///
    /// Example: bridges --data restored log import log.ndjson
    Import {
        /// The NDJSON file.
        file: PathBuf,
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

/// Runs one `bridges log` command on the log configured by `config`.
pub async fn run(command: LogCommand, config: &LogConfig) -> anyhow::Result<ExitCode> {
    let data = config.dir.clone();
    let open = || {
        EventLog::open(config.clone())
            .with_context(|| format!("opening the log in {}", data.display()))
    };
    match command {
        LogCommand::Verify => {
            // A corrupt last record stops the log from opening (the writer
            // cannot extend a chain it cannot read): report it like verify would.
            let log = match EventLog::open(config.clone()) {
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
        LogCommand::Export { out } => {
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
        LogCommand::Import { file } => {
            let log = open()?;
            let n = log.import_ndjson(&file).await;
            log.close().await?;
            let n = n.with_context(|| format!("importing {}", file.display()))?;
            println!("imported {n} events");
            Ok(ExitCode::SUCCESS)
        }
        LogCommand::AppendLoop { tasks, events_per_append } => {
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
