//! Export and import of the log as NDJSON: one `EventEnvelope` per line, in
//! position order, then a trailer line `{"trailer":{"events":N,"head_hash":H}}`
//! (the count and the last record's hash; 64 zeros for an empty log). The
//! line carries every hashed field and the hash, so an import rebuilds
//! byte-identical records: same hashes. A file cut at a line boundary lacks
//! its trailer (or has one that does not match), so it is never imported as if
//! it were whole. `export --through P` writes the prefix 1..=P with its own
//! trailer.
//!
//! Import validates the whole file before writing anything (first pass), then
//! writes it into a staging folder beside the target (second pass, through a
//! writer), closes it, and renames it into place: the target, which must be
//! absent or an empty folder, holds either the whole log or nothing, whatever
//! moment the import is killed at. A bad line is reported with its line number
//! and field, and nothing is created.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use bridges_schemas::events::EventEnvelope;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::store::{self, Store};
use super::writer::{self, PreparedRecord};
use super::{
    EventLog, LogConfig, LogError, MAX_PAYLOAD_BYTES, Position, chain, micros_to_time, record,
};

/// Records sent to the writer per import commit.
const IMPORT_CHUNK: usize = 500;

/// What an export wrote (and its trailer says), or an import loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    pub events: u64,
    /// Hash of the last record, hex (64 zeros when there is none).
    pub head_hash: String,
}

impl EventLog {
    /// Writes every durable event through `through` (the head when None) as
    /// one NDJSON line each, then the trailer. A position past the head is
    /// refused (`Invalid`, field `through`) before anything is written, and so
    /// is one inside an append it can tell (records sharing a command id; an
    /// append without one cannot be told from two).
    pub fn export_ndjson(
        &self,
        out: &mut dyn Write,
        through: Option<Position>,
    ) -> Result<ExportReport, LogError> {
        let head = self.head();
        let through = through.unwrap_or(head);
        if through > head {
            return Err(LogError::Invalid {
                field: "through".into(),
                value: through.to_string(),
                reason: format!("the log's head is position {head}"),
            });
        }
        if through < head
            && let (Some(last), Some(after)) =
                (self.get(through)?, self.get(Position(through.0 + 1))?)
            && let (Some(c), Some(d)) = (&last.command_id, &after.command_id)
            && c == d
        {
            return Err(LogError::Invalid {
                field: "through".into(),
                value: through.to_string(),
                reason: format!(
                    "it splits the append of command {c:?}, which goes on at position {}",
                    through.0 + 1
                ),
            });
        }
        let mut failed = None;
        let mut last_hash = chain::GENESIS;
        let n = self.scan(Position(1), through, |e| {
            if failed.is_some() {
                return;
            }
            let line = (|| -> Result<(), LogError> {
                let payload: Value =
                    serde_json::from_slice(e.payload).map_err(|err| LogError::Corrupt {
                        position: e.position.0,
                        reason: format!("payload is not JSON: {err}"),
                    })?;
                let env = EventEnvelope {
                    position: e.position.0,
                    stream: e.stream.to_owned(),
                    version: e.version.0,
                    event_id: uuid::Uuid::from_bytes(e.event_id),
                    type_name: e.type_name.to_owned(),
                    type_version: e.type_version,
                    recorded_at: micros_to_time(e.recorded_at_micros),
                    command_id: e.command_id.map(str::to_owned),
                    payload,
                    hash: hex::encode(e.hash),
                };
                serde_json::to_writer(&mut *out, &env).map_err(std::io::Error::from)?;
                out.write_all(b"\n")?;
                Ok(())
            })();
            last_hash = *e.hash;
            if let Err(err) = line {
                failed = Some(err);
            }
        })?;
        if let Some(err) = failed {
            return Err(err);
        }
        let report = ExportReport { events: n, head_hash: hex::encode(last_hash) };
        let trailer = json!({"trailer": {"events": report.events, "head_hash": report.head_hash}});
        writeln!(out, "{trailer}")?;
        out.flush()?;
        Ok(report)
    }

    /// Imports an NDJSON export into a new log in `config.dir`, which must
    /// be absent or an empty folder (`TargetNotEmpty` otherwise). Every line
    /// and the trailer are checked first (fields, positions from 1, stream
    /// versions, hashes, count); nothing is created unless all of them pass.
    /// The log is built in a staging folder beside the target and renamed
    /// into place (see the module docs). Returns what the trailer said.
    pub async fn import(config: &LogConfig, file: &Path) -> Result<ExportReport, LogError> {
        let target = config.dir.clone();
        if !is_absent_or_empty(&target)? {
            return Err(LogError::TargetNotEmpty { dir: target });
        }
        let report = validate_file(file)?;
        let staging = staging_dir(&target)?;
        if let Some(parent) = staging.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| store::io_error(&format!("creating {}", parent.display()), &e))?;
        }
        clear_stale(&staging, config.cache_capacity)?;
        let log = EventLog::open(LogConfig { dir: staging.clone(), ..config.clone() })?;
        let loaded = log.load_records(file).await;
        let closed = log.close().await;
        loaded?;
        closed?;
        // Everything is durable (each import commit was synced); the folder's
        // entries must be too before the rename makes them the target.
        store::sync_dir(&staging)?;
        std::fs::rename(&staging, &target).map_err(|e| {
            store::io_error(&format!("renaming {} to {}", staging.display(), target.display()), &e)
        })?;
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            store::sync_dir(parent)?;
        }
        Ok(report)
    }

    /// Second pass: sends the validated records to the writer in chunks.
    async fn load_records(&self, path: &Path) -> Result<(), LogError> {
        let mut chunk: Vec<PreparedRecord> = Vec::with_capacity(IMPORT_CHUNK);
        for (i, line) in BufReader::new(open(path)?).lines().enumerate() {
            let line = line.map_err(|e| read_error(path, &e))?;
            let Line::Event(_, rec) = parse_line(i as u64 + 1, &line)? else { break };
            // Never split one command's events over two commits.
            let same_command = chunk
                .last()
                .is_some_and(|l| l.command_id.is_some() && l.command_id == rec.command_id);
            if chunk.len() >= IMPORT_CHUNK && !same_command {
                self.send_import(std::mem::take(&mut chunk)).await?;
            }
            chunk.push(*rec);
        }
        if !chunk.is_empty() {
            self.send_import(chunk).await?;
        }
        Ok(())
    }

    async fn send_import(&self, records: Vec<PreparedRecord>) -> Result<(), LogError> {
        let (reply, rx) = oneshot::channel();
        self.send(writer::Input::Import(records, reply)).await?;
        rx.await.map_err(|_| self.stopped())?
    }
}

/// The staging folder of an import into `target`: `.NAME.importing` beside it.
fn staging_dir(target: &Path) -> Result<PathBuf, LogError> {
    let name = target.file_name().ok_or_else(|| LogError::Invalid {
        field: "data folder".into(),
        value: target.display().to_string(),
        reason: "needs a folder name to import into".into(),
    })?;
    let mut staging = std::ffi::OsString::from(".");
    staging.push(name);
    staging.push(".importing");
    Ok(target.with_file_name(staging))
}

/// Removes the staging folder a killed import left, unless an import still
/// running holds its lock.
fn clear_stale(staging: &Path, cache_capacity: u64) -> Result<(), LogError> {
    if !staging.exists() {
        return Ok(());
    }
    // A half-written staging log may not even open: it is removed all the
    // same, unless it is locked.
    if store::holds_database(staging)
        && let Err(e @ LogError::Locked { .. }) =
            Store::open(staging, cache_capacity.min(1 << 20), false)
    {
        return Err(e);
    }
    std::fs::remove_dir_all(staging)
        .map_err(|e| store::io_error(&format!("removing {}", staging.display()), &e))
}

fn is_absent_or_empty(dir: &Path) -> Result<bool, LogError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Ok(false),
        Err(e) => Err(store::io_error(&format!("reading {}", dir.display()), &e)),
    }
}

fn open(path: &Path) -> Result<File, LogError> {
    File::open(path).map_err(|e| LogError::Import {
        line: 0,
        field: "(file)".into(),
        reason: format!("cannot open {}: {e}", path.display()),
    })
}

fn read_error(path: &Path, e: &std::io::Error) -> LogError {
    store::io_error(&format!("reading {}", path.display()), e)
}

/// One line of an export.
enum Line {
    Event(Box<EventEnvelope>, Box<PreparedRecord>),
    Trailer { events: u64, head_hash: String },
}

/// First pass: checks every line, the chain they form and the trailer.
fn validate_file(path: &Path) -> Result<ExportReport, LogError> {
    let mut prev = chain::GENESIS;
    let mut versions: HashMap<String, u64> = HashMap::new();
    let mut n = 0u64;
    let mut buf = Vec::new();
    let mut trailer = None;
    for (i, line) in BufReader::new(open(path)?).lines().enumerate() {
        let line_no = i as u64 + 1;
        let line = line.map_err(|e| read_error(path, &e))?;
        let bad = |field: &str, reason: String| LogError::Import {
            line: line_no,
            field: field.to_owned(),
            reason,
        };
        if trailer.is_some() {
            return Err(bad("trailer", "the trailer must be the last line".into()));
        }
        let (env, rec) = match parse_line(line_no, &line)? {
            Line::Event(env, rec) => (env, rec),
            Line::Trailer { events, head_hash } => {
                if events != n {
                    let reason = format!("says {events} events, the file has {n}");
                    return Err(bad("trailer.events", reason));
                }
                if head_hash != hex::encode(prev) {
                    let reason =
                        format!("is {head_hash}, the last line's hash is {}", hex::encode(prev));
                    return Err(bad("trailer.head_hash", reason));
                }
                trailer = Some(ExportReport { events, head_hash });
                continue;
            }
        };
        if rec.position != line_no {
            return Err(bad("position", format!("is {}, expected {line_no}", rec.position)));
        }
        let v = versions.entry(rec.stream.clone()).or_insert(0);
        if rec.version != *v + 1 {
            let reason =
                format!("is {} for stream {:?}, expected {}", rec.version, rec.stream, *v + 1);
            return Err(bad("version", reason));
        }
        *v += 1;
        buf.clear();
        record::encode(&rec.as_event(&prev), &mut buf);
        let h = chain::link(&prev, &buf);
        if h != rec.hash {
            let reason = format!("is {}, but the chain gives {}", env.hash, hex::encode(h));
            return Err(bad("hash", reason));
        }
        prev = h;
        n += 1;
    }
    trailer.ok_or_else(|| LogError::Import {
        line: n + 1,
        field: "trailer".into(),
        reason: format!(
            "missing: the file ends after {n} events without the export's trailer, so it may have been cut short"
        ),
    })
}

/// Parses and checks one line's fields (not its place in the chain).
fn parse_line(line_no: u64, line: &str) -> Result<Line, LogError> {
    let bad = |field: &str, reason: String| LogError::Import {
        line: line_no,
        field: field.to_owned(),
        reason,
    };
    let de = &mut serde_json::Deserializer::from_str(line);
    let env: EventEnvelope = match serde_path_to_error::deserialize(de) {
        Ok(env) => env,
        Err(e) => {
            if let Some(t) = parse_trailer(line) {
                return t.map_err(|(field, reason)| bad(field, reason));
            }
            let field = e.path().to_string();
            return Err(bad(
                if field == "." { "(line)" } else { &field },
                e.into_inner().to_string(),
            ));
        }
    };
    let as_field = |field: &'static str| {
        move |e: LogError| match e {
            LogError::Invalid { value, reason, .. } => bad(field, format!("{value}: {reason}")),
            other => other,
        }
    };
    writer::check_name("stream", &env.stream, super::MAX_NAME_BYTES).map_err(as_field("stream"))?;
    writer::check_type_name("type", &env.type_name).map_err(as_field("type"))?;
    if let Some(c) = &env.command_id {
        writer::check_name("command_id", c, super::MAX_NAME_BYTES)
            .map_err(as_field("command_id"))?;
    }
    if env.type_version == 0 {
        return Err(bad("type_version", "is 0; versions start at 1".into()));
    }
    let micros = env.recorded_at.timestamp_micros();
    if micros_to_time(micros) != env.recorded_at {
        return Err(bad("recorded_at", format!("{} is finer than a microsecond", env.recorded_at)));
    }
    let payload = serde_json::to_vec(&env.payload).map_err(|e| bad("payload", e.to_string()))?;
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(bad(
            "payload",
            format!("{} bytes, at most {MAX_PAYLOAD_BYTES}", payload.len()),
        ));
    }
    let hash: [u8; 32] = hex::decode(&env.hash)
        .ok()
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| bad("hash", format!("{:?} is not 64 hex digits", env.hash)))?;
    let rec = PreparedRecord {
        position: env.position,
        stream: env.stream.clone(),
        version: env.version,
        event_id: *env.event_id.as_bytes(),
        type_name: env.type_name.clone(),
        type_version: env.type_version,
        recorded_at_micros: micros,
        command_id: env.command_id.clone(),
        payload,
        hash,
    };
    Ok(Line::Event(Box::new(env), Box::new(rec)))
}

/// The trailer, if `line` is an object with the one key `trailer`: Some(Ok)
/// when it is well formed, Some(Err((field, reason))) when not.
fn parse_trailer(line: &str) -> Option<Result<Line, (&'static str, String)>> {
    let v: Value = serde_json::from_str(line).ok()?;
    let obj = v.as_object().filter(|o| o.len() == 1)?;
    let t = obj.get("trailer")?;
    let parsed = (|| {
        let t = t.as_object().ok_or(("trailer", "is not an object".to_owned()))?;
        if let Some(k) = t.keys().find(|k| *k != "events" && *k != "head_hash") {
            return Err(("trailer", format!("has an unknown field {k:?}")));
        }
        let events = t
            .get("events")
            .and_then(Value::as_u64)
            .ok_or(("trailer.events", "is missing or not a count".to_owned()))?;
        let head_hash = t
            .get("head_hash")
            .and_then(Value::as_str)
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or(("trailer.head_hash", "is missing or not 64 hex digits".to_owned()))?;
        Ok(Line::Trailer { events, head_hash: head_hash.to_ascii_lowercase() })
    })();
    Some(parsed)
}
