//! Export and import of the log as NDJSON, one `EventEnvelope` per line, in
//! position order. The line carries every hashed field and the hash, so an
//! import into an empty log rebuilds byte-identical records: same hashes.
//!
//! Import validates the whole file before writing anything (first pass), then
//! writes it through the writer (second pass). A bad line is reported with its
//! line number and field, and the log is left unchanged.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use bridges_schemas::events::EventEnvelope;
use tokio::sync::oneshot;

use super::writer::{self, PreparedRecord};
use super::{EventLog, LogError, MAX_PAYLOAD_BYTES, Position, chain, micros_to_time, record};

/// Records sent to the writer per import commit.
const IMPORT_CHUNK: usize = 500;

impl EventLog {
    /// Writes every durable event as one NDJSON line. Returns the count.
    pub fn export_ndjson(&self, out: &mut dyn Write) -> Result<u64, LogError> {
        let mut failed = None;
        let n = self.scan(Position(1), self.head(), |e| {
            if failed.is_some() {
                return;
            }
            let line = (|| -> Result<(), LogError> {
                let payload: serde_json::Value =
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
            if let Err(err) = line {
                failed = Some(err);
            }
        })?;
        if let Some(err) = failed {
            return Err(err);
        }
        out.flush()?;
        Ok(n)
    }

    /// Imports an NDJSON export into this log, which must be empty. Every line
    /// is checked first (fields, positions from 1, stream versions, hashes);
    /// nothing is written unless all of them pass. Returns the count.
    pub async fn import_ndjson(&self, path: &Path) -> Result<u64, LogError> {
        let head = self.head().0;
        if head != 0 {
            return Err(LogError::NotEmpty { head });
        }
        let count = validate_file(path)?;
        let mut chunk: Vec<PreparedRecord> = Vec::with_capacity(IMPORT_CHUNK);
        for (i, line) in BufReader::new(File::open(path)?).lines().enumerate() {
            let (_, rec) = parse_line(i as u64 + 1, &line?)?;
            // Never split one command's events over two commits.
            let same_command = chunk
                .last()
                .is_some_and(|l| l.command_id.is_some() && l.command_id == rec.command_id);
            if chunk.len() >= IMPORT_CHUNK && !same_command {
                self.send_import(std::mem::take(&mut chunk)).await?;
            }
            chunk.push(rec);
        }
        if !chunk.is_empty() {
            self.send_import(chunk).await?;
        }
        Ok(count)
    }

    async fn send_import(&self, records: Vec<PreparedRecord>) -> Result<(), LogError> {
        let (reply, rx) = oneshot::channel();
        self.send(writer::Input::Import(records, reply)).await?;
        rx.await.map_err(|_| LogError::WriterStopped)?
    }
}

/// First pass: checks every line and the chain they form. Returns the count.
fn validate_file(path: &Path) -> Result<u64, LogError> {
    let mut prev = chain::GENESIS;
    let mut versions: HashMap<String, u64> = HashMap::new();
    let mut n = 0u64;
    let mut buf = Vec::new();
    for (i, line) in BufReader::new(File::open(path)?).lines().enumerate() {
        let line_no = i as u64 + 1;
        let (env, rec) = parse_line(line_no, &line?)?;
        let bad = |field: &str, reason: String| LogError::Import {
            line: line_no,
            field: field.to_owned(),
            reason,
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
        record::encode(&rec.as_ref(&prev), &mut buf);
        let h = chain::link(&prev, &buf);
        if h != rec.hash {
            let reason = format!("is {}, but the chain gives {}", env.hash, hex::encode(h));
            return Err(bad("hash", reason));
        }
        prev = h;
        n += 1;
    }
    Ok(n)
}

/// Parses and checks one line's fields (not its place in the chain).
fn parse_line(line_no: u64, line: &str) -> Result<(EventEnvelope, PreparedRecord), LogError> {
    let bad = |field: &str, reason: String| LogError::Import {
        line: line_no,
        field: field.to_owned(),
        reason,
    };
    let de = &mut serde_json::Deserializer::from_str(line);
    let env: EventEnvelope = serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        bad(if field == "." { "(line)" } else { &field }, e.into_inner().to_string())
    })?;
    let as_field = |field: &'static str| {
        move |e: LogError| match e {
            LogError::Invalid { value, reason, .. } => bad(field, format!("{value}: {reason}")),
            other => other,
        }
    };
    writer::check_name("stream", &env.stream, 200).map_err(as_field("stream"))?;
    writer::check_type_name("type", &env.type_name).map_err(as_field("type"))?;
    if let Some(c) = &env.command_id {
        writer::check_name("command_id", c, 200).map_err(as_field("command_id"))?;
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
    Ok((env, rec))
}
