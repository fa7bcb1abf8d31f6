//! `bridges log verify|export|import`: the event log as a whole, with no
//! domain rules, and the hidden `append-loop` the crash and full-disk tests
//! drive. Each command ends with one line on stderr when it fails, and exits
//! 2 for a wrong argument or bad input (a missing data folder, a bad import
//! file), 1 for the environment or damaged data (the disk, the lock, a broken
//! chain).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::Utc;
use clap::Subcommand;
use serde_json::json;
use uuid::Uuid;

use crate::config::Config;
use crate::log::{
    EventLog, ExpectedVersion, LogConfig, LogError, MultiAppendOutcome, MultiAppendRequest,
    NewEvent, Position, StreamAppend,
};

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Check the hash chain, indexes and checkpoints; report the first broken position.
    ///
    /// Example: bridges --data bridges-data log verify
    Verify,
    /// Write the log as NDJSON (stdout without --out), ending with a trailer
    /// line holding the count and the last hash.
    ///
    /// Example: bridges log export --out log.ndjson --through 1200
    Export {
        #[arg(long)]
        out: Option<PathBuf>,
        /// Export positions 1 to POSITION only (a proper prefix, with its own trailer).
        #[arg(long, value_name = "POSITION")]
        through: Option<u64>,
    },
    /// Load an NDJSON export into a new log; the data folder must be absent
    /// or empty. Checks every line and the trailer first; the folder ends up
    /// with the whole log or nothing, even if the import is killed.
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
        /// Streams each append writes to at once (a multi-stream append when > 1).
        #[arg(long, default_value_t = 1)]
        streams_per_append: usize,
        /// Task 0 also stores a checkpoint of this many bytes after every append.
        #[arg(long, default_value_t = 0)]
        checkpoint_bytes: usize,
    },
}

/// The checkpoint the append loop stores.
pub const APPEND_LOOP_CHECKPOINT: &str = "append-loop";

impl LogCommand {
    fn name(&self) -> &'static str {
        match self {
            LogCommand::Verify => "verify",
            LogCommand::Export { .. } => "export",
            LogCommand::Import { .. } => "import",
            LogCommand::AppendLoop { .. } => "append-loop",
        }
    }
}

/// Runs one `bridges log` command on the log configured by `config` (in
/// the data folder `data`, `settings` for a serving engine's NATS). Its
/// failures are reported here (one line) and become the exit code.
pub async fn run(
    command: LogCommand,
    config: &LogConfig,
    settings: &Config,
    data: &Path,
) -> anyhow::Result<ExitCode> {
    let name = command.name();
    match run_command(command, config, settings, data).await {
        Ok(code) => Ok(code),
        Err(e) => {
            let e = super::CliError::classify(&e);
            eprintln!("bridges log {name}: {e}");
            Ok(e.exit_code())
        }
    }
}

async fn run_command(
    command: LogCommand,
    config: &LogConfig,
    settings: &Config,
    data: &Path,
) -> anyhow::Result<ExitCode> {
    match command {
        LogCommand::Verify => {
            // Without a writer: a log whose head does not check (which
            // opening refuses) is still walked and reported.
            let report = EventLog::verify_folder(config)?;
            if let Some((pos, why)) = report.first_broken {
                println!(
                    "broken at position {pos}: {why} ({} events before it verify)",
                    report.checked
                );
                return Ok(ExitCode::from(1));
            }
            for c in &report.bad_checkpoints {
                println!("broken checkpoint {}: {}", c.name, c.reason);
            }
            if !report.bad_checkpoints.is_empty() {
                println!(
                    "the log itself verifies ({} events, head hash {}); a broken checkpoint \
                     is rebuilt from the log at its projection's next load",
                    report.checked, report.head_hash
                );
                return Ok(ExitCode::from(1));
            }
            let checkpoints = match report.checkpoints {
                0 => String::new(),
                n => format!(", {n} checkpoints check"),
            };
            println!(
                "ok: {} events verified, head hash {}{checkpoints}",
                report.checked, report.head_hash
            );
            Ok(ExitCode::SUCCESS)
        }
        LogCommand::Export { out, through } => export(out, through, config, settings, data).await,
        LogCommand::Import { file } => {
            // The key store backed up beside the export goes beside the
            // new folder; one with keys already there is refused first.
            let backup = super::weekly::beside(&file, "keys");
            let keys = super::weekly::keys_dir(data);
            let has_keys = |d: &Path| std::fs::read_dir(d).is_ok_and(|mut e| e.next().is_some());
            if backup.is_dir() && has_keys(&keys) {
                return Err(LogError::Invalid {
                    field: "keys".into(),
                    value: keys.display().to_string(),
                    reason: format!(
                        "holds keys already; the backup {} would replace them",
                        backup.display()
                    ),
                }
                .into());
            }
            let report = EventLog::import(config, &file).await?;
            println!("imported {} events, head hash {}", report.events, report.head_hash);
            if backup.is_dir() {
                let n = crate::keys::copy_folder(&backup, &keys).map_err(|e| {
                    LogError::Storage(format!("restoring the keys to {}: {e}", keys.display()))
                })?;
                println!("restored {n} keys from {} to {}", backup.display(), keys.display());
            } else {
                println!(
                    "no key store backup at {}: practitioners' names and notes stay sealed",
                    backup.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        LogCommand::AppendLoop {
            tasks,
            events_per_append,
            streams_per_append,
            checkpoint_bytes,
        } => {
            let log = EventLog::open(config.clone())?;
            let shape = LoopShape {
                per_append: events_per_append.max(1),
                streams: streams_per_append.max(1),
                checkpoint_bytes,
            };
            append_loop(log, tasks, shape).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `bridges log export`: the log as NDJSON (to `out`, or stdout), and the
/// key store copied beside `out` (`<out>-keys`). When `bridges serve`
/// holds the folder, the serving engine cuts the export (an online backup,
/// `remote::Remote::export`) and the keys are copied after it, so that a
/// practitioner erased meanwhile stays erased in the backup.
async fn export(
    out: Option<PathBuf>,
    through: Option<u64>,
    config: &LogConfig,
    settings: &Config,
    data: &Path,
) -> anyhow::Result<ExitCode> {
    let (events, hash, online) = match EventLog::open_existing(config.clone()) {
        Ok(log) => {
            let report = match &out {
                Some(path) => write_whole(path, |w| log.export_ndjson(w, through.map(Position))),
                None => {
                    let stdout = std::io::stdout().lock();
                    log.export_ndjson(&mut std::io::BufWriter::new(stdout), through.map(Position))
                }
            };
            log.close().await?;
            let report = report?;
            (report.events, report.head_hash, None)
        }
        Err(e @ LogError::Locked { .. }) => {
            let Some(remote) = super::remote::Remote::find(settings, data).await? else {
                return Err(e.into());
            };
            let (events, last_hash, bytes) = remote.export(through).await?;
            match &out {
                Some(path) => write_whole(path, |w| w.write_all(&bytes).map_err(io_error))?,
                None => {
                    let mut stdout = std::io::stdout().lock();
                    stdout.write_all(&bytes)?;
                    stdout.flush()?;
                }
            }
            (events, last_hash, Some(remote.describe()))
        }
        Err(e) => return Err(e.into()),
    };
    let how = online.map(|who| format!(" online from {who}")).unwrap_or_default();
    eprintln!("exported {events} events{how}, head hash {hash}");
    match &out {
        Some(path) => {
            let keys = super::weekly::keys_dir(data);
            let backup = super::weekly::beside(path, "keys");
            let n = crate::keys::copy_folder(&keys, &backup).with_context(|| {
                format!("backing up the key store {} to {}", keys.display(), backup.display())
            })?;
            eprintln!("backed up {n} keys to {} (keep it apart from the export)", backup.display());
        }
        None => eprintln!("the key store is not backed up with the export to stdout; give --out"),
    }
    Ok(ExitCode::SUCCESS)
}

fn io_error(e: std::io::Error) -> LogError {
    LogError::Storage(e.to_string())
}

/// Writes `path` through `write` whole or not at all: a temporary file
/// beside it, synced, then renamed (a failed export leaves no file).
fn write_whole<T>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T, LogError>,
) -> Result<T, LogError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let f = std::fs::File::create(&tmp)
            .map_err(|e| LogError::Storage(format!("creating {}: {e}", tmp.display())))?;
        let mut w = std::io::BufWriter::new(f);
        let value = write(&mut w)?;
        let f = w.into_inner().map_err(|e| io_error(e.into_error()))?;
        f.sync_all().map_err(io_error)?;
        std::fs::rename(&tmp, path)
            .map_err(|e| LogError::Storage(format!("writing {}: {e}", path.display())))?;
        Ok(value)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[derive(Debug, Clone, Copy)]
struct LoopShape {
    per_append: usize,
    streams: usize,
    checkpoint_bytes: usize,
}

/// The streams task `task` appends to: `crash-T`, then `crash-T-1`, ...
pub fn append_loop_streams(task: usize, streams: usize) -> Vec<String> {
    (0..streams)
        .map(|j| if j == 0 { format!("crash-{task}") } else { format!("crash-{task}-{j}") })
        .collect()
}

/// Appends forever from `tasks` concurrent tasks, each to its own streams
/// with exact expected versions (all of them in one append when there are
/// several), printing every acknowledgement. It only ends when killed (which
/// is the point) or when the log fails.
async fn append_loop(log: EventLog, tasks: usize, shape: LoopShape) -> Result<(), LogError> {
    let mut handles = Vec::new();
    for task in 0..tasks {
        let log = log.clone();
        handles.push(tokio::spawn(async move {
            let streams = append_loop_streams(task, shape.streams);
            let mut versions = Vec::with_capacity(streams.len());
            for s in &streams {
                versions.push(log.stream_version(s)?);
            }
            // Continue the sequence of earlier (killed) runs from the stream.
            let mut seq = versions[0].0 / shape.per_append as u64;
            loop {
                let parts = streams
                    .iter()
                    .zip(&versions)
                    .enumerate()
                    .map(|(j, (stream, version))| StreamAppend {
                        stream: stream.clone(),
                        expected: match version.0 {
                            0 => ExpectedVersion::NoStream,
                            _ => ExpectedVersion::Exact(*version),
                        },
                        events: (0..shape.per_append)
                            .map(|i| NewEvent {
                                event_id: Uuid::new_v4(),
                                type_name: "CrashTestAppended".into(),
                                type_version: 1,
                                payload: json!({"task": task, "seq": seq, "stream": j, "part": i}),
                            })
                            .collect(),
                    })
                    .collect();
                let req = MultiAppendRequest {
                    parts,
                    command_id: Some(format!("crash-{task}-{}-{seq}", versions[0].0)),
                    recorded_at: Utc::now(),
                };
                match log.append_multi(req).await? {
                    MultiAppendOutcome::Appended { first, last, versions: v } => {
                        versions = v;
                        if task == 0 && shape.checkpoint_bytes > 0 {
                            let state = checkpoint_state(seq, shape.checkpoint_bytes);
                            log.put_checkpoint(APPEND_LOOP_CHECKPOINT, last, state).await?;
                        }
                        let mut out = std::io::stdout().lock();
                        writeln!(out, "ack {first} {last} {task} {seq}")?;
                        out.flush()?;
                    }
                    MultiAppendOutcome::Conflict { stream, actual, .. } => {
                        return Err(LogError::Storage(format!(
                            "task {task} owns stream {stream}, yet it was at {actual}"
                        )));
                    }
                }
                seq += 1;
            }
            #[allow(unreachable_code)]
            Ok::<(), LogError>(())
        }));
    }
    for h in handles {
        h.await.map_err(|e| LogError::Storage(format!("an append task failed: {e}")))??;
    }
    Ok(())
}

/// A checkpoint state that changes with every append (so every write replaces
/// all of its chunks).
fn checkpoint_state(seq: u64, bytes: usize) -> Vec<u8> {
    let mut state = format!("seq {seq};").into_bytes();
    state.resize(bytes.max(state.len()), b'a' + (seq % 26) as u8);
    state
}
