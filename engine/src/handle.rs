//! `handle`: the one way a command becomes events. Every shell (the CLI,
//! imports, `submit`, the weekly run, NATS, the web page) builds a
//! `CommandEnvelope` and calls `Engine::handle`, which
//! 1. answers a command id seen before with its first outcome (idempotency);
//! 2. records the expiry of any overdue proposal the command looks at
//!    (`domain::overdue_touched`: a proposal past its answer window expires
//!    by itself; the next command that looks records it, as the system);
//! 3. decides the command against the current state (pure `domain::decide`,
//!    with the command's time, its actor and the key store as the sealer; a
//!    subject's key is created only for a command that is accepted);
//! 4. appends the events atomically across their streams, each with
//!    `ExpectedVersion::Exact` (or `NoStream`), and the streams the rules
//!    read as conditions; on a conflict it catches up and decides again
//!    (commands that count days held across assignment streams decide and
//!    append one at a time, `domain::counts_held_days`);
//! 5. folds the new events into the state.
//!
//! A rejection writes nothing of its own.
//!
//! The engine holds the domain state in memory behind a lock (decisions read
//! it concurrently; appends group-commit in the log) and checkpoints it now
//! and then.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use bridges_schemas::RequestId;
use bridges_schemas::commands::{
    Command, CommandEnvelope, DiscardRun, ExpireAssignment, Rejection, RejectionCode,
};
use bridges_schemas::events::{DomainEvent, EventMeta};
use bridges_schemas::vocab::{AssignmentId, SYSTEM_USER, UserId, is_subject_token};
use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;
use uuid::Uuid;

use crate::domain::{self, Context, Rules, State};
use crate::keys::KeyStore;
use crate::log::{
    EventLog, ExpectedVersion, LogError, MAX_EVENTS_PER_APPEND, MultiAppendOutcome,
    MultiAppendRequest, NewEvent, Position, StreamAppend, Version,
};
use crate::planning::{self, Snapshot};
use crate::projection::{Projection, Projector};
use crate::recommend::{RecommendError, Recommended};

/// Namespace of event ids: UUID v5 of the command id and the event's index,
/// so a command's events have the same ids however often it is retried.
const EVENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6272_6964_6765_7300_0000_0000_0000_0002);

/// Events folded in between two checkpoints of the state.
const CHECKPOINT_EVERY: u64 = 5_000;

/// Decisions tried at most when concurrent commands keep changing what one reads.
const MAX_ATTEMPTS: usize = 8;

/// What became of a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Its events were appended at `first..=last`.
    Applied {
        first: Position,
        last: Position,
        events: Vec<Applied>,
    },
    /// It was valid and changed nothing (a re-import of an unchanged row).
    Unchanged,
    /// The command id was seen before: its first outcome.
    Duplicate {
        first: Position,
        last: Position,
    },
    Rejected(Rejection),
}

/// One appended event, as a shell reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub position: Position,
    pub stream: String,
    pub type_name: &'static str,
}

/// What stops a command being handled at all (not a rejection).
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("key store: {0}")]
    Keys(#[from] std::io::Error),
    #[error("command {0}: the streams it reads kept changing; try again")]
    Contended(String),
}

/// The engine of one LA: its log, rules, key store and domain state.
pub struct Engine {
    log: EventLog,
    rules: Arc<Rules>,
    keys: Arc<KeyStore>,
    inner: RwLock<Inner>,
    /// Held from deciding to appending by commands whose rules count days
    /// held across assignment streams (`domain::counts_held_days`): their
    /// appends touch different new streams, so expected versions alone
    /// would let two of them decide on the same state.
    held_days: tokio::sync::Mutex<()>,
    /// The planning snapshot last cut, with the position and London day it
    /// was cut at (a snapshot depends on nothing else): `recommend` asks
    /// for it once per request, and a broker asks many times between two
    /// events.
    snapshot: std::sync::Mutex<Option<(Position, NaiveDate, Arc<Snapshot>)>>,
}

struct Inner {
    state: State,
    position: Position,
    since_checkpoint: u64,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("log", &self.log).finish()
    }
}

impl Engine {
    /// Loads the state (checkpoint, then the log after it), then recovers
    /// what a crash may have left: runs started and never completed are
    /// discarded, keys of erased practitioners destroyed.
    pub async fn open(log: EventLog, rules: Rules, keys: KeyStore) -> Result<Engine, HandleError> {
        let (state, position) = Projector::<State>::load(&log)?.into_parts();
        let engine = Engine {
            log,
            rules: Arc::new(rules),
            keys: Arc::new(keys),
            inner: RwLock::new(Inner { state, position, since_checkpoint: 0 }),
            held_days: tokio::sync::Mutex::new(()),
            snapshot: std::sync::Mutex::new(None),
        };
        engine.catch_up().await?;
        engine.recover().await?;
        Ok(engine)
    }

    pub fn log(&self) -> &EventLog {
        &self.log
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    /// Every event of `stream` as history (notes opened through the key store).
    pub fn history(&self, stream: &str) -> Result<Vec<crate::views::HistoryEntry>, HandleError> {
        let events = self.log.read_stream(stream, crate::log::Version(1), usize::MAX)?;
        Ok(crate::views::history(&events, self.keys()))
    }

    /// The history of request `id` and of its assignments, in log order
    /// (`request show`, a request's page).
    pub async fn request_history(
        &self,
        id: &RequestId,
    ) -> Result<Vec<crate::views::HistoryEntry>, HandleError> {
        let streams: Vec<String> = self
            .read(|s| s.assignments_of(id).map(|a| format!("assignment-{}", a.id)).collect())
            .await?;
        let mut history = self.history(&format!("request-{id}"))?;
        for stream in &streams {
            history.extend(self.history(stream)?);
        }
        history.sort_by_key(|e| e.position);
        Ok(history)
    }

    /// Reads the current state.
    pub async fn read<R>(&self, f: impl FnOnce(&State) -> R) -> Result<R, HandleError> {
        self.catch_up().await?;
        let inner = self.inner.read().await;
        Ok(f(&inner.state))
    }

    /// Reads the current state with the position it is folded to (under one
    /// lock, so the two agree).
    pub async fn read_at_position<R>(
        &self,
        f: impl FnOnce(&State) -> R,
    ) -> Result<(Position, R), HandleError> {
        self.catch_up().await?;
        let inner = self.inner.read().await;
        Ok((inner.position, f(&inner.state)))
    }

    /// Who could take `request` at `at` (`recommend::rank`), on the
    /// planning snapshot of the current state, cut again only when the log
    /// has moved or the London day has changed since the last one.
    pub async fn recommend(
        &self,
        request: &RequestId,
        at: DateTime<Utc>,
    ) -> Result<Result<Recommended, RecommendError>, HandleError> {
        self.catch_up().await?;
        let inner = self.inner.read().await;
        let today = crate::domain::calendar::london_date(at);
        let started = Instant::now();
        let snapshot = {
            let mut cache = self.snapshot.lock().expect("the snapshot cache is never poisoned");
            match &*cache {
                Some((position, day, s)) if *position == inner.position && *day == today => {
                    s.clone()
                }
                _ => {
                    let s = Arc::new(planning::snapshot(&inner.state, &self.rules, at));
                    *cache = Some((inner.position, today, s.clone()));
                    s
                }
            }
        };
        Ok(crate::recommend::rank(&inner.state, &snapshot, request, started.elapsed()))
    }

    /// Whether the state rebuilt from the log's first event equals the live one.
    pub async fn rebuild_equals_live(&self) -> Result<bool, HandleError> {
        self.catch_up().await?;
        let inner = self.inner.read().await;
        let rebuilt: State = crate::projection::state_at(&self.log, inner.position)?;
        Ok(rebuilt == inner.state)
    }

    /// The position the state is folded to.
    pub async fn position(&self) -> Position {
        self.inner.read().await.position
    }

    /// Handles one command (see the module doc).
    pub async fn handle(&self, envelope: &CommandEnvelope) -> Result<Outcome, HandleError> {
        if let Err(r) = check_envelope(envelope) {
            return Ok(Outcome::Rejected(r));
        }
        if let Some((first, last)) = self.log.command_outcome(&envelope.id)? {
            // A command recorded in parts: its first part holds its first position.
            let first = match self.log.command_outcome(&part_id(&envelope.id, 1))? {
                Some((f, _)) if f <= first => f,
                _ => first,
            };
            return Ok(Outcome::Duplicate { first, last });
        }
        self.expire_touched(envelope).await?;
        let _serial = match domain::counts_held_days(&envelope.command) {
            true => Some(self.held_days.lock().await),
            false => None,
        };
        for _ in 0..MAX_ATTEMPTS {
            self.catch_up().await?;
            let decided = {
                let inner = self.inner.read().await;
                let state = &inner.state;
                // A subject without a key yet gets one only once the
                // command is known to be accepted: decided first with a
                // stand-in seal, then again for real (a rejection writes
                // nothing, no key file either).
                let new_subject = domain::seal_subject(state, &envelope.command)
                    .filter(|s| !subject_erased(state, s) && !self.keys.has(s));
                let mut decision = match &new_subject {
                    Some(subject) => {
                        let preflight = Preflight { keys: &self.keys, subject };
                        domain::decide(
                            state,
                            &envelope.command,
                            &context(envelope, &self.rules, &preflight),
                        )
                    }
                    None => domain::decide(
                        state,
                        &envelope.command,
                        &context(envelope, &self.rules, self.keys.as_ref()),
                    ),
                };
                if let (Some(subject), Ok(events)) = (&new_subject, &decision)
                    && !events.is_empty()
                {
                    self.keys.ensure(subject)?;
                    decision = domain::decide(
                        state,
                        &envelope.command,
                        &context(envelope, &self.rules, self.keys.as_ref()),
                    );
                }
                match decision {
                    Err(r) => return Ok(Outcome::Rejected(r)),
                    Ok(events) if events.is_empty() => return Ok(Outcome::Unchanged),
                    Ok(events) => {
                        let reads = domain::reads(state, &envelope.command);
                        plan_appends(state, envelope, &events, &reads)?
                    }
                }
            };
            match self.append_all(decided).await? {
                None => continue,
                Some((first, last, events)) => {
                    self.catch_up().await?;
                    self.after(envelope).await?;
                    return Ok(Outcome::Applied { first, last, events });
                }
            }
        }
        Err(HandleError::Contended(envelope.id.clone()))
    }

    /// The state `commands` would leave, decided one after another on a copy
    /// of the current state as `handle` would, appending nothing, and the
    /// rejections they would get (a rejected one changes nothing; a command
    /// id seen before is skipped, as `handle` would answer it with its first
    /// outcome; sealing is simulated, no key is made). A shell checks what a
    /// batch would lead to before it writes any of it.
    pub async fn dry_run(
        &self,
        commands: &[CommandEnvelope],
    ) -> Result<(State, Vec<(String, Rejection)>), HandleError> {
        self.catch_up().await?;
        let mut state = self.inner.read().await.state.clone();
        let mut rejected = Vec::new();
        for envelope in commands {
            if let Err(r) = check_envelope(envelope) {
                rejected.push((envelope.id.clone(), r));
                continue;
            }
            if self.log.command_outcome(&envelope.id)?.is_some() {
                continue;
            }
            let ctx = Context {
                at: envelope.at,
                actor: &envelope.actor,
                rules: &self.rules,
                sealer: &DrySealer,
            };
            match domain::decide(&state, &envelope.command, &ctx) {
                Ok(events) => {
                    let meta = EventMeta { actor: envelope.actor.clone(), at: envelope.at };
                    for e in &events {
                        state.apply_event(e, &meta);
                    }
                }
                Err(r) => rejected.push((envelope.id.clone(), r)),
            }
        }
        Ok((state, rejected))
    }

    /// Writes a checkpoint of the state now (a shell calls it before
    /// closing), unless the last one is of this position: a read-only
    /// command (`show`, `recommend`) writes nothing.
    pub async fn checkpoint(&self) -> Result<(), HandleError> {
        self.catch_up().await?;
        let mut inner = self.inner.write().await;
        if inner.since_checkpoint == 0 {
            return Ok(());
        }
        Projector::<State>::save(&self.log, &inner.state, inner.position).await?;
        inner.since_checkpoint = 0;
        Ok(())
    }

    /// Checkpoints and closes the log.
    pub async fn close(self) -> Result<(), HandleError> {
        self.checkpoint().await?;
        self.log.close().await?;
        Ok(())
    }

    /// Records the expiry of every proposal overdue at `at` (a matching run
    /// calls this before it cuts its snapshot).
    pub async fn expire_overdue(&self, at: DateTime<Utc>) -> Result<u64, HandleError> {
        let overdue: Vec<AssignmentId> = self
            .read(|s| {
                s.assignments
                    .values()
                    .filter(|a| {
                        domain::assignment::is_overdue(a, domain::calendar::london_date(at))
                    })
                    .map(|a| a.id.clone())
                    .collect()
            })
            .await?;
        let mut n = 0;
        for a in overdue {
            if self.expire(a, at).await? {
                n += 1;
            }
        }
        Ok(n)
    }

    async fn expire(
        &self,
        assignment: AssignmentId,
        at: DateTime<Utc>,
    ) -> Result<bool, HandleError> {
        let envelope = CommandEnvelope {
            id: system_command_id("expire", assignment.as_str()),
            actor: UserId(SYSTEM_USER.to_owned()),
            at,
            command: Command::ExpireAssignment(ExpireAssignment { assignment }),
        };
        Ok(matches!(Box::pin(self.handle(&envelope)).await?, Outcome::Applied { .. }))
    }

    async fn expire_touched(&self, envelope: &CommandEnvelope) -> Result<(), HandleError> {
        let today = domain::calendar::london_date(envelope.at);
        let overdue = self.read(|s| domain::overdue_touched(s, &envelope.command, today)).await?;
        for a in overdue {
            self.expire(a, envelope.at).await?;
        }
        Ok(())
    }

    /// What a command does beyond its events, once they are durable.
    async fn after(&self, envelope: &CommandEnvelope) -> Result<(), HandleError> {
        if let Command::ErasePractitioner(c) = &envelope.command {
            self.keys.erase(c.practitioner.as_str())?;
        }
        Ok(())
    }

    async fn recover(&self) -> Result<(), HandleError> {
        let (unfinished, erased) = self
            .read(|s| {
                let runs: Vec<_> = s
                    .runs
                    .iter()
                    .filter(|(_, r)| r.started.is_some() && !r.is_complete() && !r.discarded)
                    .map(|(id, r)| (id.clone(), r.started_at))
                    .collect();
                let erased: Vec<_> =
                    s.practitioners.values().filter(|p| p.erased).map(|p| p.id.clone()).collect();
                (runs, erased)
            })
            .await?;
        for (run, at) in unfinished {
            let envelope = CommandEnvelope {
                id: system_command_id("discard", run.as_str()),
                actor: UserId(SYSTEM_USER.to_owned()),
                at,
                command: Command::DiscardRun(DiscardRun {
                    run: run.clone(),
                    reason: "the engine stopped before the run's record was complete".to_owned(),
                }),
            };
            tracing::warn!(run = %run, "discarding a run left without its closing event");
            self.handle(&envelope).await?;
        }
        for p in erased {
            if self.keys.erase(p.as_str())? {
                tracing::warn!(practitioner = %p, "destroyed the key of an erased practitioner");
            }
        }
        Ok(())
    }

    /// Folds every durable event after the state's position into it.
    async fn catch_up(&self) -> Result<(), HandleError> {
        if self.inner.read().await.position >= self.log.head() {
            return Ok(());
        }
        let mut inner = self.inner.write().await;
        let head = self.log.head();
        if inner.position >= head {
            return Ok(());
        }
        let from = Position(inner.position.0 + 1);
        let Inner { state, .. } = &mut *inner;
        let n = self.log.scan(from, head, |e| state.apply(e))?;
        inner.position = head;
        inner.since_checkpoint += n;
        if inner.since_checkpoint >= CHECKPOINT_EVERY {
            Projector::<State>::save(&self.log, &inner.state, inner.position).await?;
            inner.since_checkpoint = 0;
        }
        Ok(())
    }

    /// Appends the planned chunks in order. `None` on a version conflict in
    /// the first chunk (nothing written: decide again).
    async fn append_all(
        &self,
        chunks: Vec<MultiAppendRequest>,
    ) -> Result<Option<(Position, Position, Vec<Applied>)>, HandleError> {
        let mut first = None;
        let mut last = Position(0);
        let mut applied = Vec::new();
        let written_before = !chunks.is_empty();
        for (i, chunk) in chunks.into_iter().enumerate() {
            let names: Vec<(String, Vec<&'static str>)> = chunk
                .parts
                .iter()
                .map(|p| {
                    (
                        p.stream.clone(),
                        p.events.iter().map(|e| type_name_of(&e.type_name)).collect(),
                    )
                })
                .collect();
            match self.log.append_multi(chunk).await? {
                MultiAppendOutcome::Appended { first: f, last: l, .. } => {
                    first.get_or_insert(f);
                    last = l;
                    let mut pos = f.0;
                    for (stream, types) in names {
                        for t in types {
                            applied.push(Applied {
                                position: Position(pos),
                                stream: stream.clone(),
                                type_name: t,
                            });
                            pos += 1;
                        }
                    }
                }
                MultiAppendOutcome::Conflict { stream, .. } if i == 0 => {
                    tracing::debug!(%stream, "version conflict; deciding again");
                    return Ok(None);
                }
                MultiAppendOutcome::Conflict { stream, actual, .. } => {
                    return Err(HandleError::Log(LogError::Corrupt {
                        position: 0,
                        reason: format!(
                            "a multi-part record conflicted on {stream} at version {actual} after its first part (written_before={written_before})"
                        ),
                    }));
                }
            }
        }
        Ok(first.map(|f| (f, last, applied)))
    }
}

/// The sealer of a dry run: seals nothing, opens nothing.
struct DrySealer;

impl domain::Sealer for DrySealer {
    fn seal(&self, subject: &str, _plain: &[u8]) -> Option<bridges_schemas::vocab::Sealed> {
        Some(bridges_schemas::vocab::Sealed {
            key: subject.to_owned(),
            nonce: String::new(),
            data: String::new(),
        })
    }

    fn unseal(&self, _sealed: &bridges_schemas::vocab::Sealed) -> Option<Vec<u8>> {
        None
    }
}

/// Groups the decided events by stream (streams in order of first
/// appearance), adds the read streams as conditions, and splits into
/// chunks of at most `MAX_EVENTS_PER_APPEND` events. Every chunk but the
/// last carries a part command id; the last carries the command's own, so
/// the command counts as done only once all of it is written.
fn plan_appends(
    state: &State,
    envelope: &CommandEnvelope,
    events: &[DomainEvent],
    reads: &[String],
) -> Result<Vec<MultiAppendRequest>, HandleError> {
    let meta = EventMeta { actor: envelope.actor.clone(), at: envelope.at };
    let mut encoded = Vec::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        e.validate().map_err(LogError::from)?;
        let id = Uuid::new_v5(&EVENT_ID_NAMESPACE, format!("{}#{i}", envelope.id).as_bytes());
        encoded.push((
            e.stream(),
            NewEvent {
                event_id: id,
                type_name: e.type_name().to_owned(),
                type_version: e.version(),
                payload: e.to_payload_with(&meta),
            },
        ));
    }
    let mut versions: BTreeMap<String, u64> = BTreeMap::new();
    let mut chunks = Vec::new();
    let pieces: Vec<&[(String, NewEvent)]> = encoded.chunks(MAX_EVENTS_PER_APPEND).collect();
    let count = pieces.len();
    for (k, piece) in pieces.into_iter().enumerate() {
        let mut order: Vec<String> = Vec::new();
        let mut by_stream: BTreeMap<String, Vec<NewEvent>> = BTreeMap::new();
        for (stream, event) in piece {
            if !by_stream.contains_key(stream) {
                order.push(stream.clone());
            }
            by_stream.entry(stream.clone()).or_default().push(event.clone());
        }
        let expected = |versions: &BTreeMap<String, u64>, stream: &str| {
            let v = versions.get(stream).copied().unwrap_or_else(|| state.version(stream));
            if v == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exact(Version(v)) }
        };
        let mut parts = Vec::new();
        for stream in order {
            let events = by_stream.remove(&stream).unwrap_or_default();
            let exp = expected(&versions, &stream);
            let base = versions.get(&stream).copied().unwrap_or_else(|| state.version(&stream));
            versions.insert(stream.clone(), base + events.len() as u64);
            parts.push(StreamAppend { stream, expected: exp, events });
        }
        if k == 0 {
            for r in reads {
                if parts.iter().all(|p| &p.stream != r) {
                    parts.push(StreamAppend {
                        stream: r.clone(),
                        expected: expected(&versions, r),
                        events: Vec::new(),
                    });
                }
            }
        }
        let command_id =
            if k + 1 == count { envelope.id.clone() } else { part_id(&envelope.id, k + 1) };
        chunks.push(MultiAppendRequest {
            parts,
            command_id: Some(command_id),
            recorded_at: Utc::now(),
        });
    }
    Ok(chunks)
}

/// The command id of part `k` (from 1) of a command recorded in parts.
fn part_id(id: &str, k: usize) -> String {
    format!("{id}-part{k}")
}

fn check_envelope(envelope: &CommandEnvelope) -> Result<(), Rejection> {
    if !is_subject_token(&envelope.id) {
        return Err(Rejection::new(
            RejectionCode::Invalid,
            "id",
            format!("{:?}", envelope.id),
            "a command id is 1 to 64 ASCII letters, digits, - or _",
        ));
    }
    if !is_subject_token(envelope.actor.as_str()) {
        return Err(Rejection::new(
            RejectionCode::Invalid,
            "actor",
            format!("{:?}", envelope.actor.as_str()),
            "a user id is 1 to 64 ASCII letters, digits, - or _",
        ));
    }
    Ok(())
}

fn context<'a>(
    envelope: &'a CommandEnvelope,
    rules: &'a Rules,
    sealer: &'a dyn domain::Sealer,
) -> Context<'a> {
    Context { at: envelope.at, actor: &envelope.actor, rules, sealer }
}

/// The id of a command Bridges sends itself about `id` (`expire-<id>`,
/// `discard-<id>`), within the 64 characters of a command id: a long id is
/// replaced by the start of its SHA-256.
fn system_command_id(prefix: &str, id: &str) -> String {
    let plain = format!("{prefix}-{id}");
    if is_subject_token(&plain) {
        return plain;
    }
    let hash = hex::encode(Sha256::digest(id.as_bytes()));
    let room = 64usize.saturating_sub(prefix.len() + 1).min(hash.len());
    format!("{prefix}-{}", &hash[..room])
}

/// The sealer of a first decision about a subject with no key yet: seals
/// under that subject with a stand-in (the decision is made again, for
/// real, once the key exists); everything else goes to the key store.
struct Preflight<'a> {
    keys: &'a KeyStore,
    subject: &'a str,
}

impl domain::Sealer for Preflight<'_> {
    fn seal(&self, subject: &str, plain: &[u8]) -> Option<bridges_schemas::vocab::Sealed> {
        if subject == self.subject {
            return Some(bridges_schemas::vocab::Sealed {
                key: subject.to_owned(),
                nonce: String::new(),
                data: String::new(),
            });
        }
        self.keys.seal(subject, plain)
    }

    fn unseal(&self, sealed: &bridges_schemas::vocab::Sealed) -> Option<Vec<u8>> {
        self.keys.unseal(sealed)
    }
}

fn subject_erased(state: &State, subject: &str) -> bool {
    state
        .practitioners
        .get(&bridges_schemas::PractitionerId(subject.to_owned()))
        .is_some_and(|p| p.erased)
}

/// The static name of an event type (for reports of what was appended).
fn type_name_of(name: &str) -> &'static str {
    DomainEvent::CURRENT.iter().map(|(n, _)| *n).find(|n| *n == name).unwrap_or("Event")
}

/// The engine once every other holder has let go of it (a web
/// connection's task drops its share just after the server sees the
/// connection close), waiting up to `within`; the share back otherwise.
pub async fn unshare(
    mut shared: std::sync::Arc<Engine>,
    within: std::time::Duration,
) -> Result<Engine, std::sync::Arc<Engine>> {
    let deadline = std::time::Instant::now() + within;
    loop {
        match std::sync::Arc::try_unwrap(shared) {
            Ok(engine) => return Ok(engine),
            Err(still) if std::time::Instant::now() < deadline => {
                shared = still;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(still) => return Err(still),
        }
    }
}
