//! The single writer: a dedicated thread that owns every write to the log.
//! It takes queued inputs (a closed enum), checks expected versions (of every
//! stream of a multi-stream append) and command ids, assigns gapless
//! positions, chains hashes and applies each group in one atomic sled batch
//! (with the `mhead` mark of its head), then makes it durable (flush +
//! `sync_all`), publishes the new durable head and only then replies: no
//! append is acknowledged, and no reader sees it, before it is on disk.
//!
//! A plain thread rather than a tokio task: it blocks on fsync for most of
//! its life and must not hold a runtime worker. Callers talk to the writer
//! over a tokio channel with oneshot replies. After a failed write or sync the
//! writer stops at once (the state of a half-flushed sled is not trusted): the
//! failed group's callers get the storage error, and dropping the channel
//! fails every queued and later input with `WriterStopped`; the store is
//! marked failed so that no handle's drop waits on sled (see `store`). The
//! log must be reopened, by a new process.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, watch};

use super::store::{Store, WriteBatch};
use super::{
    AppendRequest, EventRef, ExpectedVersion, LogError, MAX_EVENTS_PER_APPEND, MAX_NAME_BYTES,
    MAX_PAYLOAD_BYTES, MultiAppendOutcome, MultiAppendRequest, NewEvent, Position, StreamAppend,
    Version, chain, checkpoint, keys, record,
};

pub(crate) type Reply<T> = oneshot::Sender<Result<T, LogError>>;

/// What the writer can be asked to do.
pub(crate) enum Input {
    Append(PreparedAppend, Reply<MultiAppendOutcome>),
    /// Records from an import, already validated, in position order.
    Import(Vec<PreparedRecord>, Reply<()>),
    Checkpoint {
        name: String,
        position: Position,
        state: Vec<u8>,
        reply: Reply<()>,
    },
    Shutdown(oneshot::Sender<()>),
}

impl Input {
    /// Events this input writes at most (for sizing a group).
    fn events(&self) -> usize {
        match self {
            Input::Append(a, _) => a.events,
            Input::Import(r, _) => r.len(),
            Input::Checkpoint { .. } | Input::Shutdown(_) => 1,
        }
    }
}

/// An append whose input has been validated and serialized by the caller's
/// task: one part per stream (one for a single-stream append).
pub(crate) struct PreparedAppend {
    parts: Vec<PreparedPart>,
    /// Events over all parts.
    events: usize,
    command_id: Option<String>,
    recorded_at_micros: i64,
}

struct PreparedPart {
    stream: String,
    expected: ExpectedVersion,
    events: Vec<PreparedEvent>,
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
    pub(crate) fn as_event<'a>(&'a self, prev: &'a [u8; 32]) -> EventRef<'a> {
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
    let part = StreamAppend { stream: req.stream, expected: req.expected, events: req.events };
    prepare_parts(vec![part], req.command_id, req.recorded_at.timestamp_micros(), false)
}

/// `prepare` for a multi-stream append; fields are named `parts[i].…`.
pub(crate) fn prepare_multi(req: MultiAppendRequest) -> Result<PreparedAppend, LogError> {
    if req.parts.is_empty() || req.parts.len() > MAX_EVENTS_PER_APPEND {
        return Err(invalid(
            "parts",
            req.parts.len(),
            &format!("a multi-stream append has 1 to {MAX_EVENTS_PER_APPEND} parts"),
        ));
    }
    let mut seen = HashMap::with_capacity(req.parts.len());
    for (i, p) in req.parts.iter().enumerate() {
        if let Some(j) = seen.insert(p.stream.as_str(), i) {
            return Err(invalid(
                &format!("parts[{i}].stream"),
                format!("{:?}", p.stream),
                &format!("the stream is in parts[{j}] too; a stream appears in one part at most"),
            ));
        }
    }
    prepare_parts(req.parts, req.command_id, req.recorded_at.timestamp_micros(), true)
}

fn prepare_parts(
    parts: Vec<StreamAppend>,
    command_id: Option<String>,
    recorded_at_micros: i64,
    multi: bool,
) -> Result<PreparedAppend, LogError> {
    if let Some(c) = &command_id {
        check_name("command_id", c, MAX_NAME_BYTES)?;
    }
    let events: usize = parts.iter().map(|p| p.events.len()).sum();
    if events == 0 || events > MAX_EVENTS_PER_APPEND {
        let reason = match multi {
            true => format!("a multi-stream append has 1 to {MAX_EVENTS_PER_APPEND} events in all"),
            false => format!("an append has 1 to {MAX_EVENTS_PER_APPEND} events"),
        };
        return Err(invalid("events", events, &reason));
    }
    // Field names are only formatted for an error: this runs for every
    // event of every append.
    let field = |i: usize, f: &str| match multi {
        true => format!("parts[{i}].{f}"),
        false => f.to_owned(),
    };
    let mut prepared = Vec::with_capacity(parts.len());
    for (i, part) in parts.into_iter().enumerate() {
        if name_problem(&part.stream, MAX_NAME_BYTES).is_some() {
            check_name(&field(i, "stream"), &part.stream, MAX_NAME_BYTES)?;
        }
        if let ExpectedVersion::Exact(Version(0)) = part.expected {
            return Err(invalid(
                &field(i, "expected"),
                "Exact(0)",
                "use NoStream for a stream with no events",
            ));
        }
        let events = part
            .events
            .into_iter()
            .enumerate()
            .map(|(k, e)| prepare_event(e, || field(i, &format!("events[{k}]"))))
            .collect::<Result<Vec<_>, _>>()?;
        prepared.push(PreparedPart { stream: part.stream, expected: part.expected, events });
    }
    Ok(PreparedAppend { parts: prepared, events, command_id, recorded_at_micros })
}

fn prepare_event(e: NewEvent, field: impl Fn() -> String) -> Result<PreparedEvent, LogError> {
    if !valid_type_name(&e.type_name) {
        check_type_name(&format!("{}.type_name", field()), &e.type_name)?;
    }
    if e.type_version == 0 {
        return Err(invalid(&format!("{}.type_version", field()), 0, "versions start at 1"));
    }
    // serde_json's default map is sorted, so this is the canonical form
    // that export writes and import re-creates byte for byte.
    let payload = serde_json::to_vec(&e.payload)
        .map_err(|err| invalid(&format!("{}.payload", field()), "…", &err.to_string()))?;
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(invalid(
            &format!("{}.payload", field()),
            format!("{} bytes", payload.len()),
            &format!("at most {MAX_PAYLOAD_BYTES} bytes"),
        ));
    }
    Ok(PreparedEvent {
        event_id: *e.event_id.as_bytes(),
        type_name: e.type_name,
        type_version: e.type_version,
        payload,
    })
}

/// A stream id, command id or checkpoint name: 1 to `max` bytes, no control characters.
pub(crate) fn check_name(field: &str, s: &str, max: usize) -> Result<(), LogError> {
    match name_problem(s, max) {
        Some(reason) => Err(invalid(field, format!("{s:?}"), &reason)),
        None => Ok(()),
    }
}

fn name_problem(s: &str, max: usize) -> Option<String> {
    if s.is_empty() || s.len() > max {
        return Some(format!("must be 1 to {max} bytes"));
    }
    if s.chars().any(char::is_control) {
        return Some("must not contain control characters".into());
    }
    None
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
    let mark = index_mark(&store)?;
    let (next, last_hash) = chain::check_tail(&store, mark)?;
    let index = recover_index(&store, next, mark)?;
    let files = store.data_files()?;
    stats.indexed_through.store(index.through, Ordering::Release);
    let (head_tx, head_rx) = watch::channel(Position(next - 1));
    let syncer = Syncer { store: store.clone(), files, head: head_tx, stats };
    let w = Writer {
        store,
        next,
        last_hash,
        limits,
        heads: HashMap::new(),
        index,
        write_index: false,
        failure: None,
    };
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
    /// The error of the write that stopped the writer.
    failure: Option<String>,
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

    /// The stream's version as of `position` from the pending runs, if one
    /// of them starts at or before it.
    fn version_at(&self, stream: &str, position: u64) -> Option<u64> {
        let runs = self.runs.get(stream)?;
        runs.iter().rev().find(|r| r.first_position <= position).map(|r| r.version_at(position))
    }

    /// Moves every pending run into `batch`, one key per stream (or per
    /// `MAX_RUNS_PER_KEY` runs, so no value grows towards sled's blob
    /// threshold), with the mark that the index is complete through `through`.
    fn write(&mut self, batch: &mut WriteBatch, through: u64) {
        for (stream, runs) in std::mem::take(&mut self.runs) {
            for chunk in runs.chunks(keys::MAX_RUNS_PER_KEY) {
                batch.insert(
                    &keys::stream_entry(&stream, chunk[0].first_version),
                    &keys::encode_runs(chunk),
                );
            }
        }
        batch.insert(keys::INDEXED_THROUGH, &through.to_be_bytes());
        self.events = 0;
        self.through = through;
    }
}

/// Stream versions cached by the writer at most.
const HEAD_CACHE: usize = 100_000;

/// The checkpoint of one name a group writes (its last one) and the replies
/// of every checkpoint of that name in the group.
type GroupCheckpoint = (Position, Vec<u8>, Vec<Reply<()>>);

/// A decided reply, sent only once the group it belongs to is durable.
enum Pending {
    Append(Reply<MultiAppendOutcome>, Result<MultiAppendOutcome, LogError>),
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
                // Its callers have the error; later ones get WriterStopped
                // with it.
                let failure = self.failure.take().unwrap_or_else(|| "a write failed".into());
                tracing::warn!("log writer stopped after a write error: {failure}");
                let _ = syncer.stats.stopped.set(failure);
                break;
            };
            if !syncer.sync(job) {
                tracing::warn!("log writer stopped after a failed sync");
                break;
            }
        }
        // Fail every input still queued, at once (dropping them drops their
        // reply senders), then release the database before telling `close`
        // it is done, so the folder can be reopened as soon as `close`
        // returns.
        drop(rx);
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
        let mut commands: HashMap<String, (u64, u64)> = HashMap::new();
        // The last checkpoint of each name in the group (it supersedes earlier ones).
        let mut checkpoints: BTreeMap<String, GroupCheckpoint> = BTreeMap::new();
        let mut shutdown = None;
        let mut buf = Vec::with_capacity(256);
        let group_first = self.next;
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
                Input::Checkpoint { name, position, state, reply } => {
                    let entry = checkpoints.entry(name).or_default();
                    (entry.0, entry.1) = (position, state);
                    entry.2.push(reply);
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
        if self.next > group_first {
            batch.insert(keys::HEAD, &encode_head(self.next - 1, &self.last_hash, group_first));
        }
        // A checkpoint whose batch cannot be built (its old chunks unreadable)
        // fails alone; only a failed write stops the writer.
        let mut checkpoint_batches = Vec::with_capacity(checkpoints.len());
        for (name, (position, state, replies)) in checkpoints {
            let result = match checkpoint::batch(&self.store, &name, position, &state) {
                Ok(b) => {
                    checkpoint_batches.push(b);
                    Ok(())
                }
                Err(e) => Err(storage_text(&e)),
            };
            for reply in replies {
                let r = result.clone().map_err(LogError::Storage);
                pending.push(Pending::Unit(reply, r));
            }
        }
        let written = (|| {
            if !batch.is_empty() {
                self.store.apply(batch)?;
            }
            for b in checkpoint_batches {
                self.store.apply_checkpoints(b)?;
            }
            Ok::<(), LogError>(())
        })();
        if let Err(e) = written {
            // Nothing of this group is acknowledged; the state of a half-applied
            // sled is not trusted, so the writer stops.
            let msg = storage_text(&e);
            for p in pending {
                p.send(Some(&msg));
            }
            self.failure = Some(msg);
            return (None, shutdown);
        }
        let job = SyncJob { pending, head: self.next - 1, indexed_through: self.index.through };
        (Some(job), shutdown)
    }

    /// Checks one append (every part's expected version) against the state
    /// including earlier appends of the same group, and adds its writes to
    /// the batch: all of them or none.
    fn decide(
        &mut self,
        a: &PreparedAppend,
        batch: &mut WriteBatch,
        heads: &mut HashMap<String, u64>,
        commands: &mut HashMap<String, (u64, u64)>,
        buf: &mut Vec<u8>,
    ) -> Result<MultiAppendOutcome, LogError> {
        if let Some(cid) = &a.command_id {
            let seen = match commands.get(cid) {
                Some(&fl) => Some(fl),
                None => match self.store.get(&keys::command(cid))? {
                    Some(v) => Some(decode_outcome(&v).ok_or_else(|| LogError::Corrupt {
                        position: 0,
                        reason: format!("outcome of command {cid:?} is malformed"),
                    })?),
                    None => None,
                },
            };
            if let Some((first, last)) = seen {
                // The first outcome's versions, derived from the log: each
                // part's stream as of the first outcome's last position.
                let versions = a
                    .parts
                    .iter()
                    .map(|p| self.version_at(&p.stream, last).map(Version))
                    .collect::<Result<Vec<_>, _>>()?;
                return Ok(MultiAppendOutcome::Appended {
                    first: Position(first),
                    last: Position(last),
                    versions,
                });
            }
        }
        // Every condition first: nothing is written unless all hold. The
        // versions looked up are cached (the writer is their only writer).
        for p in &a.parts {
            let current = match heads.get(&p.stream) {
                Some(v) => *v,
                None => {
                    let v = self.stored_version(&p.stream)?;
                    heads.insert(p.stream.clone(), v);
                    v
                }
            };
            let ok = match p.expected {
                ExpectedVersion::Any => true,
                ExpectedVersion::NoStream => current == 0,
                ExpectedVersion::Exact(v) => current == v.0,
            };
            if !ok {
                return Ok(MultiAppendOutcome::Conflict {
                    stream: p.stream.clone(),
                    expected: p.expected,
                    actual: Version(current),
                });
            }
        }
        let first = self.next;
        let mut versions = Vec::with_capacity(a.parts.len());
        for p in &a.parts {
            let head = heads.get_mut(&p.stream).expect("every part's stream was cached above");
            let current = *head;
            let part_first = self.next;
            for (i, e) in (1..).zip(&p.events) {
                let prev = self.last_hash;
                let r = EventRef {
                    position: Position(self.next),
                    stream: &p.stream,
                    version: Version(current + i),
                    event_id: e.event_id,
                    type_name: &e.type_name,
                    type_version: e.type_version,
                    recorded_at_micros: a.recorded_at_micros,
                    command_id: a.command_id.as_deref(),
                    payload: &e.payload,
                    hash: &prev,
                };
                push_record(&mut self.next, &mut self.last_hash, &r, batch, buf);
            }
            let count = p.events.len() as u64;
            *head = current + count;
            versions.push(Version(current + count));
            if count > 0 {
                let run =
                    keys::Run { first_version: current + 1, first_position: part_first, count };
                self.index.note(&p.stream, run);
            }
        }
        let last = self.next - 1;
        if let Some(cid) = &a.command_id {
            batch.insert(&keys::command(cid), &encode_outcome(first, last));
            commands.insert(cid.clone(), (first, last));
        }
        Ok(MultiAppendOutcome::Appended { first: Position(first), last: Position(last), versions })
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
            let r = rec.as_event(&prev);
            let fail = |reason: String| LogError::Corrupt { position: rec.position, reason };
            if rec.position != self.next {
                let (n, s) = (self.next, rec.position);
                (self.next, self.last_hash) = (start_next, start_hash);
                return Err(fail(format!("import expected position {n}, got {s}")));
            }
            push_record(&mut self.next, &mut self.last_hash, &r, &mut staged, buf);
            if self.last_hash != rec.hash {
                (self.next, self.last_hash) = (start_next, start_hash);
                return Err(fail("imported hash does not match the rebuilt chain".into()));
            }
            // An append's events (over all its streams) are contiguous and
            // share its command id, which no other append has; the command's
            // outcome spans them (the caller never splits one). Its versions
            // are derived from the log when the command is seen again.
            if let Some(cid) = &rec.command_id {
                let first = match command_start {
                    Some((c, f)) if c == cid => f,
                    _ => rec.position,
                };
                command_start = Some((cid, first));
                staged.insert(&keys::command(cid), &encode_outcome(first, rec.position));
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

    /// The version of `stream` as of `position` (inclusive): from the
    /// pending runs, else the written ones (walked back from the newest).
    fn version_at(&self, stream: &str, position: u64) -> Result<u64, LogError> {
        if let Some(v) = self.index.version_at(stream, position) {
            return Ok(v);
        }
        for kv in self.store.range(keys::stream_entries(stream, 1, u64::MAX)).rev() {
            let (k, v) = kv?;
            let runs = keys::decode_runs(&k, &v).ok_or_else(|| LogError::Corrupt {
                position: 0,
                reason: format!("index of stream {stream:?} is malformed"),
            })?;
            if let Some(r) = runs.iter().rev().find(|r| r.first_position <= position) {
                return Ok(r.version_at(position));
            }
        }
        Ok(0)
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

/// Encodes `r` (whose `hash` is the previous link), chains it, adds the
/// record to the batch at position `*next` (the caller adds the stream index
/// run) and moves `next` and `last_hash` on.
fn push_record(
    next: &mut u64,
    last_hash: &mut [u8; 32],
    r: &EventRef<'_>,
    batch: &mut WriteBatch,
    buf: &mut Vec<u8>,
) {
    buf.clear();
    record::encode(r, buf);
    let h = chain::link(last_hash, buf);
    buf.extend_from_slice(&h);
    batch.insert(&keys::event(*next), buf);
    *last_hash = h;
    *next += 1;
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
    /// The write or sync error that stopped the writer, for every later
    /// caller's `WriterStopped`.
    pub(crate) stopped: std::sync::OnceLock<String>,
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
        let failure = durable.as_ref().err().map(storage_text);
        if let Some(f) = &failure {
            let _ = self.stats.stopped.set(f.clone());
        }
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

/// The position through which the stream index is written, if the mark is
/// there (a log without it predates the lazy index).
fn index_mark(store: &Store) -> Result<Option<u64>, LogError> {
    match store.get(keys::INDEXED_THROUGH)? {
        None => Ok(None),
        Some(v) => keys::u64_value(&v).map(Some).ok_or_else(|| LogError::Corrupt {
            position: 0,
            reason: "the stream index mark is malformed".into(),
        }),
    }
}

/// The stream index not yet written when the log was last closed (or
/// crashed): the runs of every event after the written mark, rebuilt from the
/// events. A log with events and no mark predates the lazy index and has
/// every run written; a new log gets its mark at once.
fn recover_index(store: &Store, next: u64, mark: Option<u64>) -> Result<PendingIndex, LogError> {
    let mut index = PendingIndex { runs: BTreeMap::new(), events: 0, through: 0 };
    match mark {
        Some(through) => index.through = through,
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

/// A command's stored outcome: the positions it wrote.
fn encode_outcome(first: u64, last: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&first.to_be_bytes());
    b[8..].copy_from_slice(&last.to_be_bytes());
    b
}

/// (first, last) of a stored outcome: 16 bytes, or the 24 of older logs
/// (which add the single stream's version; it is derived again instead).
pub(crate) fn decode_outcome(b: &[u8]) -> Option<(u64, u64)> {
    if b.len() != 16 && b.len() != 24 {
        return None;
    }
    Some((keys::u64_value(&b[..8])?, keys::u64_value(&b[8..16])?))
}

/// The `mhead` mark: the group's head position and hash, and its first position.
fn encode_head(head: u64, hash: &[u8; 32], group_first: u64) -> [u8; 48] {
    let mut b = [0u8; 48];
    b[..8].copy_from_slice(&head.to_be_bytes());
    b[8..40].copy_from_slice(hash);
    b[40..].copy_from_slice(&group_first.to_be_bytes());
    b
}

/// (head, hash, group first) of the `mhead` mark.
pub(crate) fn decode_head(b: &[u8]) -> Option<(u64, [u8; 32], u64)> {
    if b.len() != 48 {
        return None;
    }
    Some((keys::u64_value(&b[..8])?, b[8..40].try_into().ok()?, keys::u64_value(&b[40..])?))
}

/// The text of a `Storage` error (without its "storage error:" prefix,
/// which the reply adds back), or the whole message of another error.
fn storage_text(e: &LogError) -> String {
    match e {
        LogError::Storage(s) => s.clone(),
        other => other.to_string(),
    }
}

fn invalid(field: &str, value: impl std::fmt::Display, reason: &str) -> LogError {
    LogError::Invalid {
        field: field.to_owned(),
        value: value.to_string(),
        reason: reason.to_owned(),
    }
}
