//! The event log: an append-only, hash-chained log of domain events on sled,
//! with one writer thread doing group commit, reads by stream and by position,
//! catch-up subscriptions, NDJSON export/import and verification.
//!
//! Callers hold an `EventLog`, a cheap clonable handle. Appends (to one
//! stream, or atomically to several: `append_multi`) go over a bounded
//! channel to the single writer (`writer`), which owns all writes; reads go
//! straight to the store but never past the durable head, so nothing that
//! could still be lost in a crash is ever visible. Opening checks the last
//! group commit against the hash chain (`chain::check_tail`); `verify` walks
//! all of it. The log does not know what events mean: typed events live in
//! `bridges_schemas::events`, rules in the command handlers.

mod chain;
mod checkpoint;
mod keys;
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

pub use chain::{CheckpointProblem, VerifyReport};
pub use checkpoint::Checkpoint;
pub use keys::MAX_ENTRY_BYTES;
pub use ndjson::ExportReport;
pub(crate) use store::RawBaseline;
pub use subscribe::{CHUNK as SUBSCRIBE_CHUNK, Subscription};
pub use writer::DEFAULT_INDEX_LAG;

/// Largest JSON payload of one event. With the longest stream id, type name
/// and command id a record stays under `MAX_ENTRY_BYTES`, so no leaf of sled
/// ever reaches its blob threshold (blob files are never synced; see `keys`).
/// (It was 16 KiB, which let a leaf of large events go to a blob file.)
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024;
/// Largest number of events in one append (over all its streams), and of
/// streams in one multi-stream append.
pub const MAX_EVENTS_PER_APPEND: usize = 1_000;
/// Longest stream id and command id, in bytes.
pub const MAX_NAME_BYTES: usize = 200;
const _: () = assert!(
    MAX_PAYLOAD_BYTES + record::MAX_OVERHEAD + 9 <= keys::MAX_ENTRY_BYTES,
    "a record with the largest payload must stay under sled's blob threshold"
);
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

/// One stream's part of a multi-stream append. A part with no events is a
/// condition only: its expected version is checked, nothing is written to it.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamAppend {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

/// An append to several streams, written atomically or not at all: every
/// part's expected version holds, and then all parts' events are written in
/// one batch, contiguously, parts in order. A stream appears in one part at
/// most; 1 to `MAX_EVENTS_PER_APPEND` events in all (a request with no events
/// at all is refused as invalid: it would write nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct MultiAppendRequest {
    pub parts: Vec<StreamAppend>,
    /// A command seen before returns its first outcome and writes nothing.
    pub command_id: Option<String>,
    /// Recorded time of every event of the append (stored to the microsecond).
    pub recorded_at: DateTime<Utc>,
}

/// The result of a multi-stream append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiAppendOutcome {
    /// Written and durable: positions `first..=last`; `versions` has one
    /// entry per part, in order: the stream's version after the append (a
    /// condition-only part's is the version it was checked at).
    Appended { first: Position, last: Position, versions: Vec<Version> },
    /// Nothing written: the first part (in order) whose stream was not at
    /// the expected version.
    Conflict { stream: String, expected: ExpectedVersion, actual: Version },
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

/// Errors of the log boundary. Version conflicts are not errors (see
/// `AppendOutcome`). Every message is one line and complete in itself (no
/// error here has a `source`, so `anyhow` prints no "Caused by" after it);
/// `is_bad_input` tells a wrong argument or input (exit 2) from a failing
/// environment or damaged data (exit 1).
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("invalid {field} = {value}: {reason}")]
    Invalid { field: String, value: String, reason: String },
    #[error("invalid event: {0}")]
    InvalidEvent(InvalidEvent),
    #[error("corrupt record at position {position}: {reason}")]
    Corrupt { position: u64, reason: String },
    #[error("cannot read event at position {position} as a domain event: {error}")]
    Decode { position: u64, error: EventDecodeError },
    #[error("import line {line}, field {field}: {reason}")]
    Import { line: u64, field: String, reason: String },
    #[error("import needs an absent or empty data folder; {} holds files", dir.display())]
    TargetNotEmpty { dir: PathBuf },
    #[error("no event log in {}: the folder does not exist or holds no log", dir.display())]
    NoLog { dir: PathBuf },
    #[error("another bridges process is using the data folder {}", dir.display())]
    Locked { dir: PathBuf },
    #[error("checkpoint {name:?} is unusable: {reason}")]
    BadCheckpoint { name: String, reason: String },
    #[error("storage error: {0}")]
    Storage(String),
    #[error(
        "the log writer has stopped after an earlier write error ({cause}); nothing more is written until the log is reopened"
    )]
    WriterStopped { cause: String },
}

impl LogError {
    fn writer_stopped(stats: &writer::Stats) -> LogError {
        let cause = stats.stopped.get().cloned().unwrap_or_else(|| "the writer has closed".into());
        LogError::WriterStopped { cause }
    }

    /// Whether the error is the caller's input or arguments (exit 2), as
    /// opposed to the environment or damaged data (exit 1).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            LogError::Invalid { .. }
                | LogError::InvalidEvent(_)
                | LogError::Import { .. }
                | LogError::TargetNotEmpty { .. }
                | LogError::NoLog { .. }
        )
    }
}

impl From<InvalidEvent> for LogError {
    fn from(e: InvalidEvent) -> LogError {
        LogError::InvalidEvent(e)
    }
}

impl From<std::io::Error> for LogError {
    fn from(e: std::io::Error) -> LogError {
        store::io_error("I/O", &e)
    }
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
    /// Opens (or creates) the log in `config.dir` and starts its writer
    /// thread. The last group commit is checked against the hash chain
    /// first: a log whose head does not check is refused (`Corrupt`) before
    /// anything can be appended to it.
    pub fn open(config: LogConfig) -> Result<EventLog, LogError> {
        let store = store::Store::open(&config.dir, config.cache_capacity, true)?;
        EventLog::start(store, &config)
    }

    /// Opens the log in `config.dir`, which must hold one: a missing folder
    /// (or one with no log) is `NoLog`, and nothing is created.
    pub fn open_existing(config: LogConfig) -> Result<EventLog, LogError> {
        let store = store::Store::open(&config.dir, config.cache_capacity, false)?;
        EventLog::start(store, &config)
    }

    fn start(store: store::Store, config: &LogConfig) -> Result<EventLog, LogError> {
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
    /// Invalid input is an error and writes nothing. (A one-part
    /// `append_multi`.)
    pub async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, LogError> {
        let prepared = writer::prepare(request)?;
        match self.submit(prepared).await? {
            MultiAppendOutcome::Appended { first, last, versions } => {
                let version = versions.first().copied().unwrap_or_default();
                Ok(AppendOutcome::Appended { first, last, version })
            }
            MultiAppendOutcome::Conflict { expected, actual, .. } => {
                Ok(AppendOutcome::Conflict { expected, actual })
            }
        }
    }

    /// The first outcome of a command id seen before: the first and last
    /// positions of what it appended (none for an id never seen). Only
    /// durable outcomes are ever stored.
    pub fn command_outcome(
        &self,
        command_id: &str,
    ) -> Result<Option<(Position, Position)>, LogError> {
        Ok(self
            .inner
            .store
            .get(&keys::command(command_id))?
            .and_then(|v| writer::decode_outcome(&v))
            .map(|(first, last)| (Position(first), Position(last))))
    }

    /// Appends to several streams at once, atomically: either every part's
    /// expected version holds and all events are written (contiguously,
    /// parts in order, in one commit), or nothing is. A command id seen
    /// before returns the first outcome: its positions, and each part's
    /// stream version as of the first outcome's last position (derived from
    /// the log, so it holds after an export and import too).
    pub async fn append_multi(
        &self,
        request: MultiAppendRequest,
    ) -> Result<MultiAppendOutcome, LogError> {
        let prepared = writer::prepare_multi(request)?;
        self.submit(prepared).await
    }

    async fn submit(
        &self,
        prepared: writer::PreparedAppend,
    ) -> Result<MultiAppendOutcome, LogError> {
        let (reply, rx) = oneshot::channel();
        let _waiting = writer::InFlight::new(&self.inner.stats);
        self.send(writer::Input::Append(prepared, reply)).await?;
        rx.await.map_err(|_| self.stopped())?
    }

    /// The durable head: the position of the last acknowledged event (0 when empty).
    pub fn head(&self) -> Position {
        *self.inner.head.borrow()
    }

    /// Verifies the hash chain and the stream index from position 1, the
    /// last commit's head mark, and every projection checkpoint.
    pub fn verify(&self) -> Result<VerifyReport, LogError> {
        chain::verify(&self.inner.store)
    }

    /// Verifies the log in `config.dir` without starting a writer (so a log
    /// whose head does not check, which `open` refuses, is still reported
    /// position by position). A folder with no log is `NoLog`; nothing is
    /// created.
    pub fn verify_folder(config: &LogConfig) -> Result<VerifyReport, LogError> {
        let store = store::Store::open(&config.dir, config.cache_capacity, false)?;
        chain::verify(&store)
    }

    /// Stores the state of projection `name` as of `position` through the
    /// writer (durable with the next commit), split into chunks that stay
    /// under sled's blob threshold, replacing the previous checkpoint
    /// atomically.
    pub async fn put_checkpoint(
        &self,
        name: &str,
        position: Position,
        state: Vec<u8>,
    ) -> Result<(), LogError> {
        writer::check_name("checkpoint name", name, checkpoint::MAX_NAME)?;
        let (reply, rx) = oneshot::channel();
        let input = writer::Input::Checkpoint { name: name.to_owned(), position, state, reply };
        self.send(input).await?;
        rx.await.map_err(|_| self.stopped())?
    }

    /// The last checkpoint stored under `name`; `BadCheckpoint` (naming
    /// what is wrong) when it does not check: a chunk missing or garbled,
    /// its hash or length wrong, or sled unable to read it.
    pub fn checkpoint(&self, name: &str) -> Result<Option<Checkpoint>, LogError> {
        checkpoint::read(&self.inner.store, name)
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

    /// Test support: delete the record at `position`, bypassing every rule
    /// (to lose the tail of a log, as a damaged disk could).
    #[doc(hidden)]
    pub fn remove_for_test(&self, position: u64) -> Result<(), LogError> {
        self.inner.store.remove_durable(&keys::event(position))
    }

    /// Test support: the raw stored value at `position`.
    #[doc(hidden)]
    pub fn raw_for_test(&self, position: u64) -> Result<Option<Vec<u8>>, LogError> {
        Ok(self.inner.store.get(&keys::event(position))?.map(|b| b.to_vec()))
    }

    /// Test support: overwrite (`Some`) or delete (`None`) chunk `index` of
    /// checkpoint `name`, bypassing every rule. Not for production use.
    #[doc(hidden)]
    pub fn corrupt_checkpoint_for_test(
        &self,
        name: &str,
        index: u32,
        value: Option<&[u8]>,
    ) -> Result<(), LogError> {
        let mut batch = store::WriteBatch::default();
        let key = keys::checkpoint_chunk(name, index);
        match value {
            Some(v) => batch.insert(&key, v),
            None => batch.remove(&key),
        }
        self.inner.store.apply_checkpoints(batch)?;
        let files = self.inner.store.data_files()?;
        self.inner.store.make_durable(&files)
    }

    /// Test support: files sled keeps under `blobs/` (the log writes none).
    #[doc(hidden)]
    pub fn blob_files_for_test(&self) -> Result<u64, LogError> {
        self.inner.store.blob_files()
    }

    async fn send(&self, input: writer::Input) -> Result<(), LogError> {
        self.inner.tx.send(input).await.map_err(|_| self.stopped())
    }

    /// `WriterStopped`, with the error that stopped the writer.
    pub(crate) fn stopped(&self) -> LogError {
        LogError::writer_stopped(&self.inner.stats)
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
        .map_err(|error| LogError::Decode { position: position.0, error })
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
