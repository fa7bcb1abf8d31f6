//! The single writer: a dedicated thread that owns every write to the log.
//! It takes queued inputs (a closed enum), checks expected versions and command
//! ids, assigns gapless positions, chains hashes and applies each group in one
//! atomic sled batch, then makes it durable (flush + `sync_all`), publishes
//! the new durable head and only then replies: no append is acknowledged, and
//! no reader sees it, before it is on disk.
//!
//! A plain thread rather than a tokio task: it blocks on fsync for most of
//! its life and must not hold a runtime worker. Callers talk to the writer
//! over a tokio channel with oneshot replies. After a failed write or sync the
//! writer stops (the state of a half-flushed sled is not trusted); the log
//! must be reopened.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, watch};

use super::store::{Store, WriteBatch};
use super::{
    AppendOutcome, AppendRequest, EventRef, ExpectedVersion, LogError, MAX_EVENTS_PER_APPEND,
    MAX_PAYLOAD_BYTES, Position, Version, chain, keys, record,
};

pub(crate) type Reply<T> = oneshot::Sender<Result<T, LogError>>;

/// What the writer can be asked to do.
pub(crate) enum Input {
    Append(PreparedAppend, Reply<AppendOutcome>),
    /// Records from an import, already validated, in position order.
    Import(Vec<PreparedRecord>, Reply<()>),
    Checkpoint {
        name: String,
        value: Vec<u8>,
        reply: Reply<()>,
    },
    Shutdown(oneshot::Sender<()>),
}

impl Input {
    /// Events this input writes at most (for sizing a group).
    fn events(&self) -> usize {
        match self {
            Input::Append(a, _) => a.events.len(),
            Input::Import(r, _) => r.len(),
            Input::Checkpoint { .. } | Input::Shutdown(_) => 1,
        }
    }
}

/// An append whose input has been validated and serialized by the caller's task.
pub(crate) struct PreparedAppend {
    stream: String,
    expected: ExpectedVersion,
    events: Vec<PreparedEvent>,
    command_id: Option<String>,
    recorded_at_micros: i64,
}

struct PreparedEvent {
    event_id: [u8; 16],
    type_name: String,
    type_version: u32,
    payload: Vec<u8>,
}

/// One imported record: every hashed field, plus the hash it must produce.
pub(crate) struct PreparedRecord {
    pub(crate) position: u64,
    pub(crate) stream: String,
    pub(crate) version: u64,
    pub(crate) event_id: [u8; 16],
    pub(crate) type_name: String,
    pub(crate) type_version: u32,
    pub(crate) recorded_at_micros: i64,
    pub(crate) command_id: Option<String>,
    pub(crate) payload: Vec<u8>,
    pub(crate) hash: [u8; 32],
}

impl PreparedRecord {
    /// The record as an `EventRef` whose `hash` field is `prev` (encoding
    /// ignores it; it is what the link is computed from).
    pub(crate) fn as_ref<'a>(&'a self, prev: &'a [u8; 32]) -> EventRef<'a> {
        EventRef {
            position: Position(self.position),
            stream: &self.stream,
            version: Version(self.version),
            event_id: self.event_id,
            type_name: &self.type_name,
            type_version: self.type_version,
            recorded_at_micros: self.recorded_at_micros,
            command_id: self.command_id.as_deref(),
            payload: &self.payload,
            hash: prev,
        }
    }
}

/// Validates and serializes an append on the caller's side, so bad input never
/// reaches the writer and JSON encoding runs in parallel with commits.
pub(crate) fn prepare(req: AppendRequest) -> Result<PreparedAppend, LogError> {
    check_name("stream", &req.stream, 200)?;
    if let Some(c) = &req.command_id {
        check_name("command_id", c, 200)?;
    }
    if req.events.is_empty() || req.events.len() > MAX_EVENTS_PER_APPEND {
        return Err(invalid(
            "events",
            req.events.len(),
            &format!("an append has 1 to {MAX_EVENTS_PER_APPEND} events"),
        ));
    }
    if let ExpectedVersion::Exact(Version(0)) = req.expected {
        return Err(invalid("expected", "Exact(0)", "use NoStream for a stream with no events"));
    }
    let mut events = Vec::with_capacity(req.events.len());
    for (i, e) in req.events.into_iter().enumerate() {
        // The field name is only formatted for an error: this loop runs
        // for every event of every append.
        if !valid_type_name(&e.type_name) {
            check_type_name(&format!("events[{i}].type_name"), &e.type_name)?;
        }
        if e.type_version == 0 {
            return Err(invalid(&format!("events[{i}].type_version"), 0, "versions start at 1"));
        }
        // serde_json's default map is sorted, so this is the canonical form
        // that export writes and import re-creates byte for byte.
        let payload = serde_json::to_vec(&e.payload)
            .map_err(|err| invalid(&format!("events[{i}].payload"), "…", &err.to_string()))?;
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(invalid(
                &format!("events[{i}].payload"),
                format!("{} bytes", payload.len()),
                &format!("at most {MAX_PAYLOAD_BYTES} bytes"),
            ));
        }
        events.push(PreparedEvent {
            event_id: *e.event_id.as_bytes(),
            type_name: e.type_name,
            type_version: e.type_version,
            payload,
        });
    }
    Ok(PreparedAppend {
        stream: req.stream,
        expected: req.expected,
        events,
        command_id: req.command_id,
        recorded_at_micros: req.recorded_at.timestamp_micros(),
    })
}

/// A stream id or command id: 1 to `max` bytes, no control characters.
pub(crate) fn check_name(field: &str, s: &str, max: usize) -> Result<(), LogError> {
    if s.is_empty() || s.len() > max {
        return Err(invalid(field, format!("{s:?}"), &format!("must be 1 to {max} bytes")));
    }
    if s.chars().any(char::is_control) {
        return Err(invalid(field, format!("{s:?}"), "must not contain control characters"));
    }
    Ok(())
}

/// An event type name: 1 to 100 ASCII letters, digits or `_`.
pub(crate) fn check_type_name(field: &str, s: &str) -> Result<(), LogError> {
    if !valid_type_name(s) {
        return Err(invalid(field, format!("{s:?}"), "1 to 100 ASCII letters, digits or _"));
    }
    Ok(())
}

fn valid_type_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 100 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Starts the writer thread; returns the durable-head watch.
pub(crate) fn spawn(
    store: Store,
    rx: mpsc::Receiver<Input>,
    limits: Limits,
    stats: Arc<Stats>,
) -> Result<watch::Receiver<Position>, LogError> {
    let (next, last_hash) = recover_tail(&store)?;
    let index = recover_index(&store, next)?;
    let files = store.data_files()?;
    stats.indexed_through.store(index.through, Ordering::Release);
    let (head_tx, head_rx) = watch::channel(Position(next - 1));
    let syncer = Syncer { store: store.clone(), files, head: head_tx, stats };
    let w =
        Writer { store, next, last_hash, limits, heads: HashMap::new(), index, write_index: false };
    std::thread::Builder::new()
        .name("bridges-log-writer".into())
        .spawn(move || w.run(rx, syncer))?;
    Ok(head_rx)
}

struct Writer {
    store: Store,
    /// Position the next event gets.
    next: u64,
    last_hash: [u8; 32],
    limits: Limits,
    /// Stream versions known to the writer (it is their only writer, so the
    /// cache is exact). Cleared when it grows past `HEAD_CACHE` to bound memory.
    heads: HashMap<String, u64>,
    /// Stream-index runs not yet written.
    index: PendingIndex,
    /// Write the pending index with the next group whatever its size (after an import).
    write_index: bool,
}

/// The writer's limits (see `LogConfig`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) max_group_events: usize,
    pub(crate) index_lag: usize,
}

/// Events whose stream-index runs the writer holds by default before writing
/// them (measured with 16 writers of one event per append: writing each
/// append's run with its events took the sled batch from about 100 to about
/// 200 us). Readers scan at most this many events, plus one group, past the
/// written index.
pub const DEFAULT_INDEX_LAG: usize = 1024;

/// The stream index not yet written: runs per stream after `through`, the
/// position through which the written index is complete.
struct PendingIndex {
    runs: BTreeMap<String, Vec<keys::Run>>,
    events: usize,
    through: u64,
}

impl PendingIndex {
    fn note(&mut self, stream: &str, run: keys::Run) {
        self.events += run.count as usize;
        match self.runs.get_mut(stream) {
            Some(list) => match list.last_mut() {
                Some(last) if last.continued_by(&run) => last.count += run.count,
                _ => list.push(run),
            },
            None => {
                self.runs.insert(stream.to_owned(), vec![run]);
            }
        }
    }

    fn last_version(&self, stream: &str) -> Option<u64> {
        self.runs.get(stream).and_then(|l| l.last()).map(keys::Run::last_version)
    }

    /// Moves every pending run into `batch`, one key per stream, with the
    /// mark that the index is complete through `through`.
    fn write(&mut self, batch: &mut WriteBatch, through: u64) {
        for (stream, runs) in std::mem::take(&mut self.runs) {
            batch.insert(
                &keys::stream_entry(&stream, runs[0].first_version),
                &keys::encode_runs(&runs),
            );
        }
        batch.insert(keys::INDEXED_THROUGH, &through.to_be_bytes());
        self.events = 0;
        self.through = through;
    }
}

/// Stream versions cached by the writer at most.
const HEAD_CACHE: usize = 100_000;

/// A decided reply, sent only once the group it belongs to is durable.
enum Pending {
    Append(Reply<AppendOutcome>, Result<AppendOutcome, LogError>),
    Unit(Reply<()>, Result<(), LogError>),
}

/// One applied group: its replies, the head it reaches and the position
/// through which the stream index is then written.
struct SyncJob {
    pending: Vec<Pending>,
    head: u64,
    indexed_through: u64,
}

impl Pending {
    fn send(self, failure: Option<&str>) {
        // A caller that stopped waiting does not matter to the log.
        match (self, failure) {
            (Pending::Append(reply, r), None) => {
                let _ = reply.send(r);
            }
            (Pending::Unit(reply, r), None) => {
                let _ = reply.send(r);
            }
            (Pending::Append(reply, _), Some(msg)) => {
                let _ = reply.send(Err(LogError::Storage(msg.to_owned())));
            }
            (Pending::Unit(reply, _), Some(msg)) => {
                let _ = reply.send(Err(LogError::Storage(msg.to_owned())));
            }
        }
    }
}

impl Writer {
    /// The writer loop: gather a group, apply it in one batch, make it
    /// durable, reply. Callers queue up during each fsync, so groups grow
    /// with the load. (A separate sync thread overlapping the next group's
    /// apply with this group's fsync was tried: on this 2-core machine its
    /// extra thread hand-off cost more than the overlap saved.)
    fn run(mut self, mut rx: mpsc::Receiver<Input>, syncer: Syncer) {
        let mut inputs = Vec::new();
        let mut shutdown = None;
        // Callers waiting when the last commit started: that many are likely
        // to come back right after their replies.
        let mut expected = 0usize;
        while shutdown.is_none() {
            let Some(first) = rx.blocking_recv() else { break };
            let mut events = first.events();
            inputs.push(first);
            // One fsync for all callers costs far less than one per half of
            // them: give the ones just answered a moment to send again. Spin
            // (yield) rather than sleep: a sleep's wake-up alone costs more.
            let deadline = Instant::now() + GATHER_WAIT;
            while events < self.limits.max_group_events {
                match rx.try_recv() {
                    Ok(i) => {
                        events += i.events();
                        inputs.push(i);
                    }
                    Err(_) if inputs.len() < expected && Instant::now() < deadline => {
                        std::thread::yield_now();
                    }
                    Err(_) => break,
                }
            }
            expected = syncer.stats.in_flight.load(Ordering::Relaxed);
            let (job, stop) = self.apply_group(&mut inputs);
            shutdown = stop;
            let Some(job) = job else {
                tracing::error!("log writer stopped after a write error");
                break;
            };
            if !syncer.sync(job) {
                tracing::error!("log writer stopped after a failed sync");
                break;
            }
        }
        // Release the database before telling `close` it is done, so the
        // folder can be reopened as soon as `close` returns.
        drop(syncer);
        drop(self);
        drop(shutdown);
    }

    /// Decides and applies one group (not yet durable). Returns the job for
    /// the syncer (None after a write error, having failed every reply) and a
    /// shutdown request if the group had one.
    fn apply_group(
        &mut self,
        inputs: &mut Vec<Input>,
    ) -> (Option<SyncJob>, Option<oneshot::Sender<()>>) {
        let mut batch = WriteBatch::default();
        let mut pending = Vec::with_capacity(inputs.len());
        if self.heads.len() > HEAD_CACHE {
            self.heads.clear();
        }
        let mut heads = std::mem::take(&mut self.heads);
        let mut commands: HashMap<String, AppendOutcome> = HashMap::new();
        let mut checkpoints = Vec::new();
        let mut shutdown = None;
        let mut buf = Vec::with_capacity(256);
        for input in inputs.drain(..) {
            match input {
                Input::Append(a, reply) => {
                    let r = self.decide(&a, &mut batch, &mut heads, &mut commands, &mut buf);
                    pending.push(Pending::Append(reply, r));
                }
                Input::Import(records, reply) => {
                    let r = self.import(&records, &mut batch, &mut heads, &mut buf);
                    pending.push(Pending::Unit(reply, r));
                }
                Input::Checkpoint { name, value, reply } => {
                    checkpoints.push((name, value));
                    pending.push(Pending::Unit(reply, Ok(())));
                }
                Input::Shutdown(s) => shutdown = Some(s),
            }
        }
        self.heads = heads;
        if self.index.events >= self.limits.index_lag
            || (self.write_index && !self.index.runs.is_empty())
        {
            self.index.write(&mut batch, self.next - 1);
            self.write_index = false;
        }
        let written = (|| {
            if !batch.is_empty() {
                self.store.apply(batch)?;
            }
            for (name, value) in &checkpoints {
                self.store.put_checkpoint(name, value)?;
            }
            Ok::<(), LogError>(())
        })();
        if let Err(e) = written {
            // Nothing of this group is acknowledged; the state of a half-applied
            // sled is not trusted, so the writer stops.
            let msg = e.to_string();
            for p in pending {
                p.send(Some(&msg));
            }
            return (None, shutdown);
        }
        let job = SyncJob { pending, head: self.next - 1, indexed_through: self.index.through };
        (Some(job), shutdown)
    }

    /// Checks one append against the state including earlier appends of the
    /// same group, and adds its writes to the batch.
    fn decide(
        &mut self,
        a: &PreparedAppend,
        batch: &mut WriteBatch,
        heads: &mut HashMap<String, u64>,
        commands: &mut HashMap<String, AppendOutcome>,
        buf: &mut Vec<u8>,
    ) -> Result<AppendOutcome, LogError> {
        if let Some(cid) = &a.command_id {
            if let Some(o) = commands.get(cid) {
                return Ok(*o);
            }
            if let Some(v) = self.store.get(&keys::command(cid))? {
                return decode_outcome(&v).ok_or_else(|| LogError::Corrupt {
                    position: 0,
                    reason: format!("outcome of command {cid:?} is malformed"),
                });
            }
        }
        let current = match heads.get(&a.stream) {
            Some(v) => *v,
            None => self.stored_version(&a.stream)?,
        };
        let ok = match a.expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current == 0,
            ExpectedVersion::Exact(v) => current == v.0,
        };
        if !ok {
            return Ok(AppendOutcome::Conflict { expected: a.expected, actual: Version(current) });
        }
        let first = self.next;
        let mut version = current;
        for e in &a.events {
            version += 1;
            let prev = self.last_hash;
            let r = EventRef {
                position: Position(self.next),
                stream: &a.stream,
                version: Version(version),
                event_id: e.event_id,
                type_name: &e.type_name,
                type_version: e.type_version,
                recorded_at_micros: a.recorded_at_micros,
                command_id: a.command_id.as_deref(),
                payload: &e.payload,
                hash: &prev,
            };
            self.push_record(&r, batch, buf);
        }
        let run = keys::Run {
            first_version: current + 1,
            first_position: first,
            count: a.events.len() as u64,
        };
        self.index.note(&a.stream, run);
        // Most appends go to a stream already cached: update it in place
        // rather than allocate a key per append.
        match heads.get_mut(&a.stream) {
            Some(v) => *v = version,
            None => {
                heads.insert(a.stream.clone(), version);
            }
        }
        let outcome = AppendOutcome::Appended {
            first: Position(first),
            last: Position(self.next - 1),
            version: Version(version),
        };
        if let Some(cid) = &a.command_id {
            batch.insert(&keys::command(cid), &encode_outcome(&outcome));
            commands.insert(cid.clone(), outcome);
        }
        Ok(outcome)
    }

    /// Writes imported records as they are, after checking that each one is
    /// the next position and rebuilds its own hash from this log's chain.
    fn import(
        &mut self,
        records: &[PreparedRecord],
        batch: &mut WriteBatch,
        heads: &mut HashMap<String, u64>,
        buf: &mut Vec<u8>,
    ) -> Result<(), LogError> {
        let (start_next, start_hash) = (self.next, self.last_hash);
        let mut staged = WriteBatch::default();
        let mut command_start: Option<(&str, u64)> = None;
        for rec in records {
            let prev = self.last_hash;
            let r = rec.as_ref(&prev);
            let fail = |reason: String| LogError::Corrupt { position: rec.position, reason };
            if rec.position != self.next {
                let (n, s) = (self.next, rec.position);
                (self.next, self.last_hash) = (start_next, start_hash);
                return Err(fail(format!("import expected position {n}, got {s}")));
            }
            self.push_record(&r, &mut staged, buf);
            if self.last_hash != rec.hash {
                (self.next, self.last_hash) = (start_next, start_hash);
                return Err(fail("imported hash does not match the rebuilt chain".into()));
            }
            // An append's events are contiguous and share its command id; the
            // command's outcome spans them (the caller never splits one).
            if let Some(cid) = &rec.command_id {
                let first = match command_start {
                    Some((c, f)) if c == cid => f,
                    _ => rec.position,
                };
                command_start = Some((cid, first));
                let o = AppendOutcome::Appended {
                    first: Position(first),
                    last: Position(rec.position),
                    version: Version(rec.version),
                };
                staged.insert(&keys::command(cid), &encode_outcome(&o));
            } else {
                command_start = None;
            }
        }
        batch.extend(staged);
        for rec in records {
            heads.insert(rec.stream.clone(), rec.version);
            let run =
                keys::Run { first_version: rec.version, first_position: rec.position, count: 1 };
            self.index.note(&rec.stream, run);
        }
        // An import ends with its index written, as a bulk load should.
        self.write_index = true;
        Ok(())
    }

    /// Encodes `r` (whose `hash` is the previous link), chains it, and adds
    /// the record to the batch (the caller adds the stream index run).
    fn push_record(&mut self, r: &EventRef<'_>, batch: &mut WriteBatch, buf: &mut Vec<u8>) {
        buf.clear();
        record::encode(r, buf);
        let h = chain::link(&self.last_hash, buf);
        buf.extend_from_slice(&h);
        batch.insert(&keys::event(self.next), buf);
        self.last_hash = h;
        self.next += 1;
    }

    /// A stream's version from its last index run, pending or written (on a
    /// cache miss).
    fn stored_version(&self, stream: &str) -> Result<u64, LogError> {
        if let Some(v) = self.index.last_version(stream) {
            return Ok(v);
        }
        match self.store.last_in(keys::stream_entries(stream, 1, u64::MAX))? {
            None => Ok(0),
            Some((k, v)) => keys::decode_runs(&k, &v)
                .and_then(|runs| runs.last().map(keys::Run::last_version))
                .ok_or_else(|| LogError::Corrupt {
                    position: 0,
                    reason: format!("index of stream {stream:?} is malformed"),
                }),
        }
    }
}

/// The durable half of a commit: makes applied groups durable, then replies.
struct Syncer {
    store: Store,
    files: Vec<File>,
    head: watch::Sender<Position>,
    stats: Arc<Stats>,
}

/// Counters shared by the handle and the sync thread.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Durable flush + `sync_all` rounds so far (for the benchmark).
    pub(crate) commits: AtomicU64,
    /// Appends whose callers are waiting for a reply.
    in_flight: AtomicUsize,
    /// Durable position through which the stream index is written; readers
    /// scan the events after it.
    pub(crate) indexed_through: AtomicU64,
}

/// Counts one waiting append for as long as it lives (also if the caller
/// gives up), so the syncer knows how many callers to expect.
pub(crate) struct InFlight<'a>(&'a Stats);

impl<'a> InFlight<'a> {
    pub(crate) fn new(stats: &'a Stats) -> InFlight<'a> {
        stats.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(stats)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Longest the writer waits for the callers of its previous group to come
/// back before committing a smaller group.
const GATHER_WAIT: Duration = Duration::from_micros(150);

impl Syncer {
    /// Makes everything applied so far durable (flush + `sync_all`), publishes
    /// the durable head, then sends the group's replies. False if it failed.
    fn sync(&self, job: SyncJob) -> bool {
        let durable = self.store.make_durable(&self.files);
        let failure = durable.as_ref().err().map(ToString::to_string);
        if failure.is_none() {
            self.stats.commits.fetch_add(1, Ordering::Relaxed);
            // The head first: a reader that sees the new index mark also
            // sees a head at least as far.
            self.head.send_replace(Position(job.head));
            self.stats.indexed_through.store(job.indexed_through, Ordering::Release);
        }
        for p in job.pending {
            p.send(failure.as_deref());
        }
        failure.is_none()
    }
}

/// Finds the next position and the last hash from the last stored record.
fn recover_tail(store: &Store) -> Result<(u64, [u8; 32]), LogError> {
    let Some((k, v)) = store.last_in(keys::events(0, u64::MAX))? else {
        return Ok((1, chain::GENESIS));
    };
    let pos = keys::position_of(&k).ok_or_else(|| LogError::Corrupt {
        position: 0,
        reason: "last event key is malformed".into(),
    })?;
    let (e, _) =
        record::decode(&v).map_err(|reason| LogError::Corrupt { position: pos, reason })?;
    Ok((pos + 1, *e.hash))
}

/// The stream index not yet written when the log was last closed (or
/// crashed): the runs of every event after the written mark, rebuilt from the
/// events. A log with events and no mark predates the lazy index and has
/// every run written; a new log gets its mark at once.
fn recover_index(store: &Store, next: u64) -> Result<PendingIndex, LogError> {
    let mut index = PendingIndex { runs: BTreeMap::new(), events: 0, through: 0 };
    match store.get(keys::INDEXED_THROUGH)? {
        Some(v) => {
            index.through = keys::u64_value(&v).ok_or_else(|| LogError::Corrupt {
                position: 0,
                reason: "the stream index mark is malformed".into(),
            })?;
        }
        None if next > 1 => index.through = next - 1,
        None => store.put_durable(keys::INDEXED_THROUGH, &0u64.to_be_bytes())?,
    }
    for kv in store.range(keys::events(index.through + 1, u64::MAX)) {
        let (k, v) = kv?;
        let pos = keys::position_of(&k).unwrap_or(0);
        let (e, _) =
            record::decode(&v).map_err(|reason| LogError::Corrupt { position: pos, reason })?;
        let run = keys::Run { first_version: e.version.0, first_position: pos, count: 1 };
        index.note(e.stream, run);
    }
    Ok(index)
}

fn encode_outcome(o: &AppendOutcome) -> [u8; 24] {
    let mut b = [0u8; 24];
    if let AppendOutcome::Appended { first, last, version } = o {
        b[..8].copy_from_slice(&first.0.to_be_bytes());
        b[8..16].copy_from_slice(&last.0.to_be_bytes());
        b[16..].copy_from_slice(&version.0.to_be_bytes());
    }
    b
}

fn decode_outcome(b: &[u8]) -> Option<AppendOutcome> {
    Some(AppendOutcome::Appended {
        first: Position(keys::u64_value(b.get(..8)?)?),
        last: Position(keys::u64_value(b.get(8..16)?)?),
        version: Version(keys::u64_value(b.get(16..24)?)?),
    })
}

fn invalid(field: &str, value: impl std::fmt::Display, reason: &str) -> LogError {
    LogError::Invalid {
        field: field.to_owned(),
        value: value.to_string(),
        reason: reason.to_owned(),
    }
}
