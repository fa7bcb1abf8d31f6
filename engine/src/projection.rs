//! Projections: read models folded from the log by replay. `apply` is
//! infallible and holds no rules, so replay cannot fail on a valid log. A
//! `Projector` keeps one projection current, writing a checkpoint (position +
//! encoded state) after every replayed batch; `state_at` gives the state as of
//! any position (time travel); `check_rebuild` proves a projection rebuilt
//! from zero equals the live one.
//!
//! Projection states are engine-internal and encode themselves (no serde
//! derives outside `schemas`); the log stores them in chunks (see
//! `log::Checkpoint`). A checkpoint that cannot be read, does not check (a
//! chunk missing or garbled) or does not decode is never an error: it is
//! logged as a warning and the projection is rebuilt from zero.

use std::collections::BTreeMap;
use std::fmt;

use bridges_schemas::events::DomainEvent;
use serde_json::{Value, json};

use crate::log::{EventLog, EventRef, LogError, Position};

/// Events replayed between two checkpoints.
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 10_000;

/// A read model folded from the log.
pub trait Projection: Default + PartialEq + fmt::Debug {
    /// Name of its checkpoint.
    const NAME: &'static str;
    /// Folds one event in. Infallible: an event it cannot read is counted, not fatal.
    fn apply(&mut self, event: &EventRef<'_>);
    fn encode_state(&self) -> Vec<u8>;
    fn decode_state(bytes: &[u8]) -> Option<Self>;
}

/// A projection kept current with the log, checkpointed per batch.
#[derive(Debug)]
pub struct Projector<P> {
    state: P,
    position: Position,
}

/// Result of `check_rebuild`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RebuildCheck {
    /// Rebuilt-from-zero and live states are equal at this position.
    Equal(Position),
    /// They differ; both states rendered with `Debug`.
    Differs { position: Position, live: String, rebuilt: String },
}

impl<P: Projection> Projector<P> {
    /// Starts from the last checkpoint, or from zero if there is none, or it
    /// cannot be read, does not check, does not decode, or is ahead of the
    /// durable head (each of those a warning, never an error: the log is the
    /// truth and a rebuild from it is always possible).
    pub fn load(log: &EventLog) -> Result<Projector<P>, LogError> {
        let zero = Projector { state: P::default(), position: Position(0) };
        let checkpoint = match log.checkpoint(P::NAME) {
            Ok(None) => return Ok(zero),
            Ok(Some(c)) => c,
            Err(e) => {
                tracing::warn!(projection = P::NAME, error = %e, "rebuilding from zero");
                return Ok(zero);
            }
        };
        if checkpoint.position > log.head() {
            let at = checkpoint.position.0;
            tracing::warn!(
                projection = P::NAME,
                at,
                "checkpoint past the head; rebuilding from zero"
            );
            return Ok(zero);
        }
        match P::decode_state(&checkpoint.state) {
            Some(state) => Ok(Projector { state, position: checkpoint.position }),
            None => {
                tracing::warn!(
                    projection = P::NAME,
                    "checkpoint does not decode; rebuilding from zero"
                );
                Ok(zero)
            }
        }
    }

    /// Replays every durable event after `position`, `every` events per batch,
    /// writing a checkpoint after each batch. Returns the events applied.
    pub async fn catch_up(&mut self, log: &EventLog, every: u64) -> Result<u64, LogError> {
        let mut applied = 0;
        loop {
            let head = log.head();
            if self.position >= head {
                return Ok(applied);
            }
            let to = Position(head.0.min(self.position.0 + every.max(1)));
            let n = log.scan(Position(self.position.0 + 1), to, |e| self.state.apply(e))?;
            self.position = to;
            applied += n;
            log.put_checkpoint(P::NAME, self.position, self.state.encode_state()).await?;
        }
    }

    pub fn state(&self) -> &P {
        &self.state
    }

    /// The state and the last position folded in, to keep current by hand
    /// (the command handler applies events as it appends them).
    pub fn into_parts(self) -> (P, Position) {
        (self.state, self.position)
    }

    /// Writes a checkpoint of `state` as of `position` (through the writer).
    pub async fn save(log: &EventLog, state: &P, position: Position) -> Result<(), LogError> {
        log.put_checkpoint(P::NAME, position, state.encode_state()).await
    }

    /// The last position folded in.
    pub fn position(&self) -> Position {
        self.position
    }
}

/// The state of `P` as of `position` (inclusive), replayed from zero.
pub fn state_at<P: Projection>(log: &EventLog, position: Position) -> Result<P, LogError> {
    let mut p = P::default();
    log.scan(Position(1), position, |e| p.apply(e))?;
    Ok(p)
}

/// Rebuilds `P` from zero up to the live projector's position and compares.
pub fn check_rebuild<P: Projection>(
    log: &EventLog,
    live: &Projector<P>,
) -> Result<RebuildCheck, LogError> {
    let rebuilt: P = state_at(log, live.position)?;
    if &rebuilt == live.state() {
        Ok(RebuildCheck::Equal(live.position))
    } else {
        Ok(RebuildCheck::Differs {
            position: live.position,
            live: format!("{:?}", live.state()),
            rebuilt: format!("{rebuilt:?}"),
        })
    }
}

/// Events per type name and version, without reading payloads: the cheapest
/// honest projection, used by the replay benchmark.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TypeCounts {
    pub counts: BTreeMap<String, u64>,
    pub total: u64,
    pub payload_bytes: u64,
}

impl Projection for TypeCounts {
    const NAME: &'static str = "type_counts";

    fn apply(&mut self, e: &EventRef<'_>) {
        match self.counts.get_mut(e.type_name) {
            Some(c) => *c += 1,
            None => {
                self.counts.insert(e.type_name.to_owned(), 1);
            }
        }
        self.total += 1;
        self.payload_bytes += e.payload.len() as u64;
    }

    fn encode_state(&self) -> Vec<u8> {
        let v = json!({"counts": self.counts, "total": self.total, "payload_bytes": self.payload_bytes});
        v.to_string().into_bytes()
    }

    fn decode_state(bytes: &[u8]) -> Option<Self> {
        let v: Value = serde_json::from_slice(bytes).ok()?;
        let mut counts = BTreeMap::new();
        for (k, c) in v.get("counts")?.as_object()? {
            counts.insert(k.clone(), c.as_u64()?);
        }
        Some(TypeCounts {
            counts,
            total: v.get("total")?.as_u64()?,
            payload_bytes: v.get("payload_bytes")?.as_u64()?,
        })
    }
}

/// The brokerage picture: who is registered, what is asked for, and where
/// each assignment stands. Reads typed (upcast) events.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Overview {
    pub schools: u64,
    pub practitioners: BTreeMap<String, u32>,
    pub requested_days: u64,
    /// Assignment id -> status (`proposed`, `accepted`, `declined`).
    pub assignments: BTreeMap<String, String>,
    /// Half days of visits recorded (corrections and voids not netted).
    pub delivered_days: u64,
    /// Events that did not decode as a domain event (unknown type or version).
    pub unreadable: u64,
}

impl Projection for Overview {
    const NAME: &'static str = "overview";

    fn apply(&mut self, e: &EventRef<'_>) {
        let Ok(ev) = e.domain_event() else {
            self.unreadable += 1;
            return;
        };
        match ev {
            DomainEvent::SchoolRegistered(_) => self.schools += 1,
            DomainEvent::PractitionerDesignated(p) => {
                self.practitioners.insert(p.practitioner.0, p.day_rate);
            }
            DomainEvent::SupportRequested(r) => {
                self.requested_days += r.days.values().map(|&d| u64::from(d)).sum::<u64>();
            }
            DomainEvent::AssignmentProposed(a) => {
                self.assignments.insert(a.assignment.0, "proposed".into());
            }
            DomainEvent::AssignmentAccepted(a) => {
                self.assignments.insert(a.assignment.0, "accepted".into());
            }
            DomainEvent::AssignmentDeclined(a) => {
                self.assignments.insert(a.assignment.0, "declined".into());
            }
            DomainEvent::VisitRecorded(v) => self.delivered_days += u64::from(v.half_days),
            _ => {}
        }
    }

    fn encode_state(&self) -> Vec<u8> {
        json!({
            "schools": self.schools,
            "practitioners": self.practitioners,
            "requested_days": self.requested_days,
            "assignments": self.assignments,
            "delivered_days": self.delivered_days,
            "unreadable": self.unreadable,
        })
        .to_string()
        .into_bytes()
    }

    fn decode_state(bytes: &[u8]) -> Option<Self> {
        let v: Value = serde_json::from_slice(bytes).ok()?;
        let mut practitioners = BTreeMap::new();
        for (k, r) in v.get("practitioners")?.as_object()? {
            practitioners.insert(k.clone(), u32::try_from(r.as_u64()?).ok()?);
        }
        let mut assignments = BTreeMap::new();
        for (k, s) in v.get("assignments")?.as_object()? {
            assignments.insert(k.clone(), s.as_str()?.to_owned());
        }
        Some(Overview {
            schools: v.get("schools")?.as_u64()?,
            practitioners,
            requested_days: v.get("requested_days")?.as_u64()?,
            assignments,
            delivered_days: v.get("delivered_days")?.as_u64()?,
            unreadable: v.get("unreadable")?.as_u64()?,
        })
    }
}
