//! The event log: an append-only, hash-chained log of domain events on sled,
//! with one writer thread doing group commit, reads by stream and by position,
//! catch-up subscriptions, NDJSON export/import and verification.
//!
//! Callers hold an `EventLog`, a cheap clonable handle. Appends go over a
//! bounded channel to the single writer (`writer`), which owns all writes;
//! reads go straight to the store but never past the durable head, so nothing
//! that could still be lost in a crash is ever visible. The log does not know
//! what events mean: typed events live in `bridges_schemas::events`, rules in
//! the command handlers.

mod chain;
mod keys;
mod multi_shim;
mod ndjson;
mod read;
mod record;
mod store;
mod subscribe;
mod writer;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bridges_schemas::events::{DomainEvent, EventDecodeError, InvalidEvent};
use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot, watch};
use uuid::Uuid;

pub use chain::VerifyReport;
pub use multi_shim::{MultiAppendOutcome, MultiAppendRequest, StreamAppend};
pub(crate) use store::RawBaseline;
pub use subscribe::{CHUNK as SUBSCRIBE_CHUNK, Subscription};
pub use writer::DEFAULT_INDEX_LAG;

/// Largest JSON payload of one event. Keeps every value far below sled's blob
/// threshold (values there live in separate files that sled never syncs).
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024;
/// Largest number of events in one append.
pub const MAX_EVENTS_PER_APPEND: usize = 1_000;
/// Default sled page-cache size: bounds the engine's memory on a large log.
/// sled 0.34's resident memory is several times its nominal cache (measured
/// while appending 1M events: 16 MiB -> 137 MiB peak, 64 -> 300, 128 -> 520),
/// so this is kept small; a replay-heavy process may open with more.
pub const DEFAULT_CACHE_CAPACITY: u64 = 32 * 1024 * 1024;
/// Default number of events the writer gathers into one group commit. sled
/// keeps every intermediate page of a batch alive until the batch ends, so
/// very large groups cost memory (16,000-event groups peaked near 1.9 GiB)
/// while gaining little throughput once fsync is amortised.
pub const DEFAULT_MAX_GROUP_EVENTS: usize = 1024;
/// Default capacity of the writer's input queue (callers wait when it is full).
pub const DEFAULT_QUEUE: usize = 4096;

/// A global log position, gapless from 1; 0 means "before the first event".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position(pub u64);

/// A stream's version: the number of events in it; 0 means no stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Version(pub u64);

/// What the caller believes the stream's version is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append whatever the version is.
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last event must have exactly this version.
    Exact(Version),
}

/// An event to append: its id, type name, type version and JSON payload.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub type_name: String,
    pub type_version: u32,
    pub payload: serde_json::Value,
}

/// One append: events for one stream, written atomically or not at all.
#[derive(Debug, Clone, PartialEq)]
pub struct AppendRequest {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
    /// A command seen before returns its first outcome and writes nothing.
    pub command_id: Option<String>,
    /// Recorded time of every event of the append (stored to the microsecond).
    pub recorded_at: DateTime<Utc>,
}

/// The result of an append. A conflict is an expected outcome, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendOutcome {
    /// Written and durable: positions `first..=last`, stream now at `version`.
    Appended { first: Position, last: Position, version: Version },
    /// Nothing written: the stream was at `actual`.
    Conflict { expected: ExpectedVersion, actual: Version },
}

/// A stored event, borrowed from the store's bytes (no allocation): what
/// projections are fed during replay.
#[derive(Debug, Clone, Copy)]
pub struct EventRef<'a> {
    pub position: Position,
    pub stream: &'a str,
    pub version: Version,
    pub event_id: [u8; 16],
    pub type_name: &'a str,
    pub type_version: u32,
    pub recorded_at_micros: i64,
    pub command_id: Option<&'a str>,
    /// The JSON payload bytes, exactly as stored.
    pub payload: &'a [u8],
    pub hash: &'a [u8; 32],
}

/// A stored event, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    pub position: Position,
    pub stream: String,
    pub version: Version,
    pub event_id: Uuid,
    pub type_name: String,
    pub type_version: u32,
    pub recorded_at: DateTime<Utc>,
    pub command_id: Option<String>,
    pub payload: Vec<u8>,
    pub hash: [u8; 32],
}

/// Where and how to open a log.
#[derive(Debug, Clone)]
pub struct LogConfig {
    pub dir: PathBuf,
    pub cache_capacity: u64,
    /// Events gathered into one group commit at most (one append is never split).
    pub max_group_events: usize,
    pub queue: usize,
    /// Events whose stream-index runs the writer holds before writing them
    /// (see `writer::DEFAULT_INDEX_LAG`); readers scan at most this many past
    /// the written index.
    pub index_lag: usize,
}

/// Errors of the log boundary. Version conflicts are not errors (see `AppendOutcome`).
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("invalid {field} = {value}: {reason}")]
    Invalid { field: String, value: String, reason: String },
    #[error("invalid event: {0}")]
    InvalidEvent(#[from] InvalidEvent),
    #[error("corrupt record at position {position}: {reason}")]
    Corrupt { position: u64, reason: String },
    #[error("cannot read event at position {position} as a domain event: {source}")]
    Decode { position: u64, source: EventDecodeError },
    #[error("import line {line}, field {field}: {reason}")]
    Import { line: u64, field: String, reason: String },
    #[error("import needs an empty log; this one has {head} events")]
    NotEmpty { head: u64 },
    #[error("storage error: {0}")]
    Storage(String),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error("the log writer has stopped after an earlier write error; reopen the log")]
    WriterStopped,
}

/// The handle to an open log. Clone it freely; the writer stops when the last
/// handle is dropped or `close` is called.
#[derive(Clone)]
pub struct EventLog {
    inner: Arc<Inner>,
}

struct Inner {
    store: store::Store,
    tx: mpsc::Sender<writer::Input>,
    head: watch::Receiver<Position>,
    stats: Arc<writer::Stats>,
}

impl fmt::Debug for EventLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventLog").field("dir", &self.inner.store.dir()).finish()
    }
}

impl LogConfig {
    /// Defaults for a log in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> LogConfig {
        LogConfig {
            dir: dir.into(),
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            max_group_events: DEFAULT_MAX_GROUP_EVENTS,
            queue: DEFAULT_QUEUE,
            index_lag: DEFAULT_INDEX_LAG,
        }
    }
}

impl NewEvent {
    /// A typed event, validated, with its current type name and version.
    pub fn from_domain(event: &DomainEvent, event_id: Uuid) -> Result<NewEvent, LogError> {
        event.validate()?;
        Ok(NewEvent {
            event_id,
            type_name: event.type_name().to_owned(),
            type_version: event.version(),
            payload: event.to_payload(),
        })
    }
}

impl EventRef<'_> {
    pub fn to_owned_event(&self) -> RecordedEvent {
        RecordedEvent {
            position: self.position,
            stream: self.stream.to_owned(),
            version: self.version,
            event_id: Uuid::from_bytes(self.event_id),
            type_name: self.type_name.to_owned(),
            type_version: self.type_version,
            recorded_at: micros_to_time(self.recorded_at_micros),
            command_id: self.command_id.map(str::to_owned),
            payload: self.payload.to_vec(),
            hash: *self.hash,
        }
    }

    /// The payload read as the current version of its domain event (upcast).
    pub fn domain_event(&self) -> Result<DomainEvent, LogError> {
        decode_domain(self.position, self.type_name, self.type_version, self.payload)
    }
}

impl RecordedEvent {
    /// The payload read as the current version of its domain event (upcast).
    pub fn domain_event(&self) -> Result<DomainEvent, LogError> {
        decode_domain(self.position, &self.type_name, self.type_version, &self.payload)
    }
}

impl EventLog {
    /// Opens (or creates) the log in `config.dir` and starts its writer thread.
    pub fn open(config: LogConfig) -> Result<EventLog, LogError> {
        let store = store::Store::open(&config.dir, config.cache_capacity)?;
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let stats = Arc::new(writer::Stats::default());
        let limits = writer::Limits {
            max_group_events: config.max_group_events.max(1),
            index_lag: config.index_lag.max(1),
        };
        let head = writer::spawn(store.clone(), rx, limits, stats.clone())?;
        Ok(EventLog { inner: Arc::new(Inner { store, tx, head, stats }) })
    }

    /// Appends events to one stream, atomically, if the stream is at the
    /// expected version. Returns once they are durable (flushed and fsynced).
    /// Invalid input is an error and writes nothing.
    pub async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, LogError> {
        let prepared = writer::prepare(request)?;
        let (reply, rx) = oneshot::channel();
        let _waiting = writer::InFlight::new(&self.inner.stats);
        self.send(writer::Input::Append(prepared, reply)).await?;
        rx.await.map_err(|_| LogError::WriterStopped)?
    }

    /// The durable head: the position of the last acknowledged event (0 when empty).
    pub fn head(&self) -> Position {
        *self.inner.head.borrow()
    }

    /// Verifies the hash chain and the stream index from position 1.
    pub fn verify(&self) -> Result<VerifyReport, LogError> {
        chain::verify(&self.inner.store)
    }

    /// Stores a projection checkpoint through the writer (durable with the next commit).
    pub async fn put_checkpoint(&self, name: &str, value: Vec<u8>) -> Result<(), LogError> {
        let (reply, rx) = oneshot::channel();
        self.send(writer::Input::Checkpoint { name: name.to_owned(), value, reply }).await?;
        rx.await.map_err(|_| LogError::WriterStopped)?
    }

    /// The last checkpoint stored under `name`.
    pub fn checkpoint(&self, name: &str) -> Result<Option<Vec<u8>>, LogError> {
        Ok(self.inner.store.get_checkpoint(name)?.map(|b| b.to_vec()))
    }

    /// Durable group commits since the log was opened.
    pub fn commits(&self) -> u64 {
        self.inner.stats.commits.load(Ordering::Relaxed)
    }

    /// Bytes the log's folder takes on disk.
    pub fn size_on_disk(&self) -> Result<u64, LogError> {
        self.inner.store.size_on_disk()
    }

    /// Stops the writer after it has committed everything queued before this
    /// call. Other clones of the handle get `WriterStopped` afterwards; the
    /// folder can be reopened once every clone (and subscription) is dropped.
    pub async fn close(self) -> Result<(), LogError> {
        let (reply, rx) = oneshot::channel();
        if self.inner.tx.send(writer::Input::Shutdown(reply)).await.is_ok() {
            // The writer drops the reply once it has stopped.
            let _ = rx.await;
        }
        Ok(())
    }

    /// Test support: overwrite the stored value at `position` with `value`,
    /// bypassing every rule, to check that corruption is detected. Not for
    /// production use.
    #[doc(hidden)]
    pub fn corrupt_for_test(&self, position: u64, value: &[u8]) -> Result<(), LogError> {
        self.inner.store.put_durable(&keys::event(position), value)
    }

    /// Test support: the raw stored value at `position`.
    #[doc(hidden)]
    pub fn raw_for_test(&self, position: u64) -> Result<Option<Vec<u8>>, LogError> {
        Ok(self.inner.store.get(&keys::event(position))?.map(|b| b.to_vec()))
    }

    async fn send(&self, input: writer::Input) -> Result<(), LogError> {
        self.inner.tx.send(input).await.map_err(|_| LogError::WriterStopped)
    }

    pub(crate) fn store(&self) -> &store::Store {
        &self.inner.store
    }

    /// The durable position through which the stream index is written.
    pub(crate) fn indexed_through(&self) -> u64 {
        self.inner.stats.indexed_through.load(Ordering::Acquire)
    }

    pub(crate) fn head_watch(&self) -> watch::Receiver<Position> {
        self.inner.head.clone()
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

pub(crate) fn micros_to_time(micros: i64) -> DateTime<Utc> {
    // Stored times come from `DateTime::timestamp_micros`, always in range.
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

fn decode_domain(
    position: Position,
    type_name: &str,
    type_version: u32,
    payload: &[u8],
) -> Result<DomainEvent, LogError> {
    let value: serde_json::Value = serde_json::from_slice(payload).map_err(|e| {
        LogError::Corrupt { position: position.0, reason: format!("payload is not JSON: {e}") }
    })?;
    DomainEvent::from_stored(type_name, type_version, &value)
        .map_err(|source| LogError::Decode { position: position.0, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips_through_its_bytes() {
        let hash = [7u8; 32];
        let e = EventRef {
            position: Position(42),
            stream: "school-102400",
            version: Version(3),
            event_id: [9; 16],
            type_name: "SchoolRegistered",
            type_version: 1,
            recorded_at_micros: 1_700_000_000_123_456,
            command_id: Some("cmd-1"),
            payload: br#"{"a":1}"#,
            hash: &hash,
        };
        let mut bytes = Vec::new();
        record::encode(&e, &mut bytes);
        let body_len = bytes.len();
        bytes.extend_from_slice(&hash);
        let (d, body) = record::decode(&bytes).expect("decodes");
        assert_eq!(body.len(), body_len);
        assert_eq!(d.to_owned_event(), e.to_owned_event());
        // Every truncation of the record bytes is detected, never misread.
        for cut in 0..body_len {
            let mut t = bytes[..cut].to_vec();
            t.extend_from_slice(&hash);
            assert!(record::decode(&t).is_err(), "cut at {cut} decoded");
        }
    }
}
