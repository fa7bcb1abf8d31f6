//! The relay: the log is the outbox. A relay tails the log from where its
//! JetStream stream ends and publishes what it maps each event to, in log
//! order, with many publishes in flight. Each publish states what it
//! expects the stream's last message to be (`Nats-Expected-Last-Msg-Id` =
//! the previous message's id; the first after a (re)start states the last
//! sequence it read, which the server keeps across its own restarts), so a
//! publish that failed cannot be overtaken by the ones behind it: they are
//! refused too, and the relay starts again from the stream's last message.
//! That message, not the broker's duplicate window, is the durable
//! checkpoint: every message carries the log position it was made at
//! (`Bridges-Position`) and the position to re-read from to make it again
//! (`Bridges-Resume`), so an engine down for an hour still puts every
//! message on the stream exactly once.
//!
//! Two mappings: [`EventsOutbox`] (every event on `<la>.events.<stream>`,
//! msg id = event id) and [`AssignmentsOutbox`] (one message per proposal
//! on `<la>.assignments.<practitioner>`, msg id = assignment id, once its
//! run is complete: a run's proposals count only with its completion).

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{
    self, context::PublishAckFuture, message::PublishMessage, publish::PublishAck,
};
use bridges_schemas::events::{DomainEvent, EventEnvelope};
use bridges_schemas::vocab::RunId;
use futures::StreamExt;
use futures::stream::FuturesOrdered;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::log::{EventLog, Position, RecordedEvent};

/// Header: the log position a message was made at.
pub const POSITION_HEADER: &str = "Bridges-Position";
/// Header: the log position to re-read from to make this message again.
pub const RESUME_HEADER: &str = "Bridges-Resume";

/// One message to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub subject: String,
    pub msg_id: String,
    pub payload: Vec<u8>,
    /// The position of the event that made it.
    pub position: u64,
    /// Where to re-read from to make it again (at most `position`).
    pub resume: u64,
}

/// What a relay publishes for each event, in order.
pub trait Outbox: Send {
    /// The messages `event` makes (none, one or several).
    fn feed(&mut self, event: &RecordedEvent) -> Result<Vec<Outgoing>, String>;
}

/// The event as it travels: the export's `EventEnvelope`.
pub fn envelope(e: &RecordedEvent) -> Result<EventEnvelope, String> {
    Ok(EventEnvelope {
        position: e.position.0,
        stream: e.stream.clone(),
        version: e.version.0,
        event_id: e.event_id,
        type_name: e.type_name.clone(),
        type_version: e.type_version,
        recorded_at: e.recorded_at,
        command_id: e.command_id.clone(),
        payload: serde_json::from_slice(&e.payload)
            .map_err(|err| format!("position {}: payload is not JSON: {err}", e.position.0))?,
        hash: hex::encode(e.hash),
    })
}

/// A log stream's name as one subject token (anything but letters, digits,
/// `-` and `_` becomes `_`).
pub fn subject_token(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
}

/// Every event, on `<base>.events.<stream>`.
#[derive(Debug)]
pub struct EventsOutbox {
    pub base: String,
}

impl Outbox for EventsOutbox {
    fn feed(&mut self, e: &RecordedEvent) -> Result<Vec<Outgoing>, String> {
        let payload = serde_json::to_vec(&envelope(e)?).map_err(|err| err.to_string())?;
        Ok(vec![Outgoing {
            subject: format!("{}.events.{}", self.base, subject_token(&e.stream)),
            msg_id: e.event_id.to_string(),
            payload,
            position: e.position.0,
            resume: e.position.0,
        }])
    }
}

/// Each recorded proposal, on `<base>.assignments.<practitioner>`: one by
/// hand at once, a run's when the run completes (a discarded run's never).
#[derive(Debug, Default)]
pub struct AssignmentsOutbox {
    pub base: String,
    /// Runs started and not yet complete: where each started, and its
    /// proposals so far.
    pending: BTreeMap<RunId, PendingRun>,
}

/// A run started and not yet complete: where it started, and its proposals
/// so far (their positions are set when the run completes).
#[derive(Debug, Default)]
struct PendingRun {
    start: u64,
    proposals: Vec<Outgoing>,
}

impl AssignmentsOutbox {
    pub fn new(base: String) -> AssignmentsOutbox {
        AssignmentsOutbox { base, pending: BTreeMap::new() }
    }

    /// The earliest position a pending run started at, or `position`.
    fn resume(&self, position: u64) -> u64 {
        self.pending.values().map(|r| r.start).min().unwrap_or(position).min(position)
    }
}

impl Outbox for AssignmentsOutbox {
    fn feed(&mut self, e: &RecordedEvent) -> Result<Vec<Outgoing>, String> {
        let relevant = matches!(
            e.type_name.as_str(),
            "AssignmentProposed"
                | "MatchingRunStarted"
                | "MatchingRunCompleted"
                | "MatchingRunDiscarded"
        );
        if !relevant {
            return Ok(Vec::new());
        }
        let event = e.domain_event().map_err(|err| err.to_string())?;
        let p = e.position.0;
        Ok(match event {
            DomainEvent::MatchingRunStarted(s) => {
                self.pending.insert(s.run, PendingRun { start: p, proposals: Vec::new() });
                Vec::new()
            }
            DomainEvent::AssignmentProposed(a) => {
                let payload = serde_json::to_vec(&envelope(e)?).map_err(|err| err.to_string())?;
                let subject =
                    format!("{}.assignments.{}", self.base, subject_token(a.practitioner.as_str()));
                let id = a.assignment.to_string();
                match a.run.as_ref().and_then(|r| self.pending.get_mut(r)) {
                    Some(run) => {
                        run.proposals.push(Outgoing {
                            subject,
                            msg_id: id,
                            payload,
                            position: p,
                            resume: p,
                        });
                        Vec::new()
                    }
                    None => {
                        let resume = self.resume(p);
                        vec![Outgoing { subject, msg_id: id, payload, position: p, resume }]
                    }
                }
            }
            DomainEvent::MatchingRunCompleted(c) => {
                let resume = self.resume(p);
                let Some(run) = self.pending.remove(&c.run) else {
                    return Ok(Vec::new());
                };
                run.proposals.into_iter().map(|o| Outgoing { position: p, resume, ..o }).collect()
            }
            DomainEvent::MatchingRunDiscarded(d) => {
                self.pending.remove(&d.run);
                Vec::new()
            }
            _ => Vec::new(),
        })
    }
}

/// The last message of a relay's stream, as the relay reads it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastPublished {
    pub sequence: u64,
    pub msg_id: String,
    pub position: u64,
    pub resume: u64,
}

/// Why a relay stopped for good (anything else it retries).
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("relay {stream}: {reason}")]
    Mismatch { stream: String, reason: String },
    #[error("relay {stream}: {reason}")]
    Log { stream: String, reason: String },
}

/// How a relay runs.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// The JetStream stream it publishes to.
    pub stream: String,
    /// Publishes awaiting their acknowledgement at most.
    pub in_flight: usize,
}

/// Reads the stream's last message: its sequence, id and positions.
pub async fn last_published(
    js: &jetstream::Context,
    stream: &str,
) -> Result<Option<LastPublished>, String> {
    let mut s = js.get_stream(stream).await.map_err(|e| e.to_string())?;
    let last = s.info().await.map_err(|e| e.to_string())?.state.last_sequence;
    if last == 0 {
        return Ok(None);
    }
    let message = s.get_raw_message(last).await.map_err(|e| e.to_string())?;
    let header = |name: &str| -> Result<String, String> {
        message
            .headers
            .get(name)
            .map(|v| v.as_str().to_owned())
            .ok_or_else(|| format!("message {last} of {stream} has no {name} header"))
    };
    let number = |name: &str| -> Result<u64, String> {
        header(name)?.parse().map_err(|e| format!("message {last} of {stream}: {name}: {e}"))
    };
    Ok(Some(LastPublished {
        sequence: last,
        msg_id: header("Nats-Msg-Id")?,
        position: number(POSITION_HEADER)?,
        resume: number(RESUME_HEADER)?,
    }))
}

/// Runs a relay until `shutdown` turns true; then it waits for the
/// acknowledgements of what it has in flight (nothing is half-published:
/// an unacknowledged message is published again, or found, at the next start).
pub async fn run<O: Outbox>(
    log: EventLog,
    js: jetstream::Context,
    options: RelayOptions,
    mut make_outbox: impl FnMut() -> O,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), RelayError> {
    let mut backoff = Duration::from_millis(100);
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        match relay_once(&log, &js, &options, make_outbox(), &mut shutdown).await {
            Ok(Pass::Stopped) => return Ok(()),
            Ok(Pass::Failed(reason)) => {
                warn!(stream = %options.stream, reason, "relay: starting again from the stream's last message");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => return Ok(()),
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Ok(Pass::Progressed(reason)) => {
                warn!(stream = %options.stream, reason, "relay: starting again from the stream's last message");
                backoff = Duration::from_millis(100);
            }
            Err(e) => {
                // Said at once: the service goes on serving commands, and
                // its exit at shutdown carries the error too.
                tracing::error!(stream = %options.stream, error = %e, "relay stopped");
                return Err(e);
            }
        }
    }
}

enum Pass {
    Stopped,
    /// Failed before anything was acknowledged.
    Failed(String),
    /// Failed after some messages were acknowledged.
    Progressed(String),
}

async fn relay_once<O: Outbox>(
    log: &EventLog,
    js: &jetstream::Context,
    options: &RelayOptions,
    mut outbox: O,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Pass, RelayError> {
    let stream = &options.stream;
    let last = match last_published(js, stream).await {
        Ok(l) => l,
        Err(e) => return Ok(Pass::Failed(format!("reading the last message: {e}"))),
    };
    if let Some(l) = &last {
        check_last(log, stream, l)?;
    }
    let from = last.as_ref().map_or(1, |l| l.resume);
    info!(stream, from, last = ?last.as_ref().map(|l| l.sequence), "relay: tailing the log");
    let mut subscription = log.subscribe(Position(from));
    // Messages made again from `from` up to and including the last one
    // published are skipped.
    let mut skipping = last.clone();
    let mut previous: Option<String> = None;
    let mut first_sequence = last.as_ref().map_or(0, |l| l.sequence);
    let mut in_flight: FuturesOrdered<Acked> = FuturesOrdered::new();
    let mut acknowledged = 0u64;
    let mut queue: std::collections::VecDeque<Outgoing> = std::collections::VecDeque::new();
    loop {
        // Publish what is queued while there is room.
        while in_flight.len() < options.in_flight {
            let Some(out) = queue.pop_front() else { break };
            // Headers first: `headers` replaces the map `message_id` writes into.
            let mut publish = PublishMessage::build()
                .headers(positions(out.position, out.resume))
                .payload(out.payload.into())
                .message_id(&out.msg_id);
            publish = match &previous {
                Some(id) => publish.expected_last_message_id(id),
                None => publish.expected_last_sequence(first_sequence),
            };
            match js.send_publish(out.subject.clone(), publish).await {
                Ok(ack) => in_flight.push_back(acked(ack, out.msg_id.clone())),
                Err(e) => return Ok(fail(acknowledged, format!("publishing {}: {e}", out.msg_id))),
            }
            previous = Some(out.msg_id);
            first_sequence = 0;
        }
        let room = in_flight.len() < options.in_flight && queue.is_empty();
        tokio::select! {
            biased;
            acked = in_flight.next(), if !in_flight.is_empty() => {
                match acked {
                    Some((_, Ok(ack))) if !ack.duplicate => acknowledged += 1,
                    Some((id, Ok(_))) => {
                        return Ok(fail(acknowledged, format!("{id} was a duplicate")));
                    }
                    Some((id, Err(e))) => return Ok(fail(acknowledged, format!("{id}: {e}"))),
                    None => {}
                }
            }
            _ = shutdown.changed() => {
                while let Some((id, acked)) = in_flight.next().await {
                    if let Err(e) = acked {
                        warn!(stream, msg_id = %id, error = %e, "relay: unacknowledged at shutdown; published again at the next start");
                        break;
                    }
                }
                return Ok(Pass::Stopped);
            }
            event = subscription.next(), if room => {
                let event = match event {
                    None => return Ok(Pass::Stopped),
                    Some(Err(e)) => return Err(RelayError::Log { stream: stream.clone(), reason: e.to_string() }),
                    Some(Ok(e)) => e,
                };
                let made = outbox.feed(&event).map_err(|reason| RelayError::Log { stream: stream.clone(), reason })?;
                for out in made {
                    if let Some(l) = &skipping {
                        if out.position < l.position {
                            continue;
                        }
                        if out.position == l.position {
                            if out.msg_id == l.msg_id {
                                skipping = None;
                            }
                            continue;
                        }
                        return Err(RelayError::Mismatch {
                            stream: stream.clone(),
                            reason: format!("the log made no message {} at position {}", l.msg_id, l.position),
                        });
                    }
                    queue.push_back(out);
                }
            }
        }
    }
}

fn fail(acknowledged: u64, reason: String) -> Pass {
    if acknowledged > 0 { Pass::Progressed(reason) } else { Pass::Failed(reason) }
}

/// The stream's last message must be one this log made (a stream fed by
/// another log, or a log restored behind its stream, is refused).
fn check_last(log: &EventLog, stream: &str, last: &LastPublished) -> Result<(), RelayError> {
    if last.position > log.head().0 || last.resume > last.position {
        return Err(RelayError::Mismatch {
            stream: stream.to_owned(),
            reason: format!(
                "its last message {} was made at position {}, past this log's head {}",
                last.msg_id,
                last.position,
                log.head().0
            ),
        });
    }
    Ok(())
}

fn positions(position: u64, resume: u64) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(POSITION_HEADER, position.to_string().as_str());
    headers.insert(RESUME_HEADER, resume.to_string().as_str());
    headers
}

/// A publish's acknowledgement with the id it is for.
type Acked = futures::future::BoxFuture<'static, (String, Result<PublishAck, String>)>;

fn acked(ack: PublishAckFuture, id: String) -> Acked {
    Box::pin(async move { (id, ack.await.map_err(|e| e.to_string())) })
}
