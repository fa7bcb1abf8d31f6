//! Domain events of the Bridges log and the envelope they are exported in.
//!
//! Each event is past tense, has a type name and a version
//! (`DomainEvent::type_name`, `DomainEvent::version`), lives in the stream of
//! the entity it is about (`DomainEvent::stream`), and is stored as its JSON
//! payload with the command's `meta` (who acted, and when the command says it
//! happened) beside its fields. Older versions are upcast on read by
//! `DomainEvent::from_stored`. This module holds types and pure checks only:
//! it does not store, order or hash events (the engine's log does) and holds
//! no business rules (the engine's `domain` does).

mod assignment;
mod partnership;
mod practitioner;
mod request;
mod round;
mod run;
mod school;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use assignment::*;
pub use partnership::*;
pub use practitioner::*;
pub use request::*;
pub use round::*;
pub use run::*;
pub use school::*;

use crate::common::{Designation, Period, Phase, Urn};
use crate::vocab::{AssignmentId, FundingSource};
use crate::vocab::{ConflictId, ConflictKind, ConflictTarget, RunId, TierChoice, UserId};

/// Whole days per half-term.
pub type DaysPerPeriod = BTreeMap<Period, u32>;

/// Who acted and when the command says it happened (the domain's time, not
/// the wall clock the log records). Stored under `meta` in every payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventMeta {
    pub actor: UserId,
    #[schemars(with = "String")]
    pub at: DateTime<Utc>,
}

/// The payload key of an event's `EventMeta`.
pub const META_KEY: &str = "meta";

macro_rules! domain_events {
    ($($(#[$doc:meta])* $variant:ident = $version:literal, $e:ident => $stream:expr;)*) => {
        /// Every current event type. Stored as `(type_name, version, payload)`
        /// where the payload is the variant's struct as JSON (no tag: the
        /// envelope names the type) plus `meta`.
        #[derive(Debug, Clone, PartialEq)]
        pub enum DomainEvent {
            $($(#[$doc])* $variant($variant),)*
        }

        impl DomainEvent {
            /// Every current (type name, version), for listings and tests.
            pub const CURRENT: &'static [(&'static str, u32)] =
                &[$((stringify!($variant), $version),)*];

            /// The stored type name.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $(DomainEvent::$variant(_) => stringify!($variant),)*
                }
            }

            /// The version new events of this type are written with.
            pub fn version(&self) -> u32 {
                match self {
                    $(DomainEvent::$variant(_) => $version,)*
                }
            }

            /// The stream of the entity the event is about.
            pub fn stream(&self) -> String {
                match self {
                    $(DomainEvent::$variant($e) => $stream,)*
                }
            }

            /// The payload as JSON (the variant's struct, untagged), without meta.
            pub fn to_payload(&self) -> serde_json::Value {
                let v = match self {
                    $(DomainEvent::$variant(e) => serde_json::to_value(e),)*
                };
                // Plain structs with string keys always serialize; non-finite
                // floats become null rather than failing, and `validate`
                // rejects them first.
                v.expect("event structs have string keys and serialize to JSON")
            }

            fn decode_current(
                type_name: &str,
                version: u32,
                payload: &serde_json::Value,
            ) -> Option<Result<DomainEvent, EventDecodeError>> {
                match (type_name, version) {
                    $((stringify!($variant), $version) => {
                        Some(de(type_name, version, payload).map(DomainEvent::$variant))
                    })*
                    _ => None,
                }
            }
        }
    };
}

domain_events! {
    SchoolRegistered = 2, e => format!("school-{}", e.urn);
    SchoolChanged = 2, e => format!("school-{}", e.urn);
    SchoolClosed = 1, e => format!("school-{}", e.urn);
    InspectionRecorded = 1, e => format!("school-{}", e.urn);
    RiskAssessed = 1, e => format!("school-{}", e.urn);
    PractitionerDesignated = 1, e => practitioner_stream(&e.practitioner);
    PractitionerChanged = 1, e => practitioner_stream(&e.practitioner);
    AvailabilityDeclared = 1, e => practitioner_stream(&e.practitioner);
    LeaveRecorded = 1, e => practitioner_stream(&e.practitioner);
    ConflictDeclared = 2, e => practitioner_stream(&e.practitioner);
    ConflictWithdrawn = 1, e => practitioner_stream(&e.practitioner);
    PractitionerWithdrawn = 1, e => practitioner_stream(&e.practitioner);
    PersonalDataErased = 1, e => practitioner_stream(&e.practitioner);
    SupportRequested = 2, e => format!("request-{}", e.request);
    RequestAmended = 1, e => format!("request-{}", e.request);
    RequestWithdrawn = 1, e => format!("request-{}", e.request);
    RequestClosed = 1, e => format!("request-{}", e.request);
    MatchingRunStarted = 1, e => run_stream(&e.run);
    UnmetRecorded = 1, e => run_stream(&e.run);
    MatchingRunCompleted = 2, e => run_stream(&e.run);
    MatchingRunDiscarded = 1, e => run_stream(&e.run);
    AssignmentProposed = 2, e => assignment_stream(&e.assignment);
    AssignmentAccepted = 1, e => assignment_stream(&e.assignment);
    AssignmentDeclined = 1, e => assignment_stream(&e.assignment);
    AssignmentExpired = 1, e => assignment_stream(&e.assignment);
    AssignmentWithdrawn = 1, e => assignment_stream(&e.assignment);
    FirstContactRecorded = 1, e => assignment_stream(&e.assignment);
    VisitRecorded = 1, e => assignment_stream(&e.assignment);
    VisitCorrected = 1, e => assignment_stream(&e.assignment);
    VisitVoided = 1, e => assignment_stream(&e.assignment);
    VisitCancelled = 1, e => assignment_stream(&e.assignment);
    VisitConfirmed = 1, e => assignment_stream(&e.assignment);
    AssignmentCompleted = 1, e => assignment_stream(&e.assignment);
    BudgetSet = 1, e => format!("partnership-{}", e.year);
    BrokerageFeeSet = 1, e => format!("partnership-{}", e.year);
    RoundOpened = 1, e => round_stream(&e.round);
    SchoolsEnrolled = 1, e => round_stream(&e.round);
    RoundSchoolWithdrawn = 1, e => round_stream(&e.round);
    RoundFormed = 1, e => round_stream(&e.round);
    RoundGroupsRecorded = 1, e => round_stream(&e.round);
    RoundUnplacedRecorded = 1, e => round_stream(&e.round);
    RoundGroupsChanged = 1, e => round_stream(&e.round);
    RoundConfirmed = 1, e => round_stream(&e.round);
    ReviewRecorded = 1, e => round_stream(&e.round);
    ReportShared = 1, e => round_stream(&e.round);
    RoundClosed = 1, e => round_stream(&e.round);
}

/// `practitioner-<id>`.
pub fn practitioner_stream(id: &crate::common::PractitionerId) -> String {
    format!("practitioner-{id}")
}

/// `run-<id>`.
pub fn run_stream(id: &RunId) -> String {
    format!("run-{id}")
}

/// `assignment-<id>`.
pub fn assignment_stream(id: &AssignmentId) -> String {
    format!("assignment-{id}")
}

/// An event that breaks a structural rule: which event, field and value, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{event}.{field} = {value}: {reason}")]
pub struct InvalidEvent {
    pub event: &'static str,
    pub field: String,
    pub value: String,
    pub reason: String,
}

/// A stored event that cannot be read as a current `DomainEvent`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventDecodeError {
    #[error("unknown event type {type_name:?} version {version}")]
    UnknownType { type_name: String, version: u32 },
    #[error("event {type_name} v{version}: bad payload: {reason}")]
    BadPayload { type_name: String, version: u32, reason: String },
}

/// One event as exported: a line of the NDJSON export of the log. The fields
/// are exactly what the log hashes, plus the hash itself, so an import can
/// rebuild byte-identical records and check the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventEnvelope {
    /// Global log position, gapless from 1.
    pub position: u64,
    pub stream: String,
    /// Version of the stream after this event, from 1.
    pub version: u64,
    #[schemars(with = "String")]
    pub event_id: Uuid,
    #[serde(rename = "type")]
    pub type_name: String,
    pub type_version: u32,
    /// When the writer recorded it (given by the caller, microsecond precision).
    #[schemars(with = "String")]
    pub recorded_at: DateTime<Utc>,
    #[serde(default)]
    pub command_id: Option<String>,
    pub payload: serde_json::Value,
    /// Hex SHA-256 over the previous record's hash and this record's bytes.
    pub hash: String,
}

impl DomainEvent {
    /// The payload with `meta` beside the event's fields: what the log stores.
    pub fn to_payload_with(&self, meta: &EventMeta) -> serde_json::Value {
        let mut v = self.to_payload();
        if let serde_json::Value::Object(map) = &mut v {
            let meta = serde_json::to_value(meta).expect("meta serializes");
            map.insert(META_KEY.to_owned(), meta);
        }
        v
    }

    /// Reads a stored event, upcasting older versions to the current one.
    /// A payload's `meta` is ignored here (see `EventMeta::of_payload`).
    pub fn from_stored(
        type_name: &str,
        version: u32,
        payload: &serde_json::Value,
    ) -> Result<DomainEvent, EventDecodeError> {
        if let Some(r) = DomainEvent::decode_current(type_name, version, payload) {
            return r;
        }
        let (t, v, p) = (type_name, version, payload);
        Ok(match (t, v) {
            // v1 had no postcode: the same fields, and `postcode` reads as none.
            ("SchoolRegistered", 1) => DomainEvent::SchoolRegistered(de(t, v, p)?),
            ("SchoolChanged", 1) => DomainEvent::SchoolChanged(de(t, v, p)?),
            ("PractitionerRegistered", 1) => {
                DomainEvent::PractitionerDesignated(upcast_practitioner_v1(de(t, v, p)?))
            }
            ("PractitionerRegistered", 2) => {
                DomainEvent::PractitionerDesignated(upcast_practitioner_v2(de(t, v, p)?))
            }
            ("ConflictDeclared", 1) => {
                DomainEvent::ConflictDeclared(upcast_conflict_v1(de(t, v, p)?))
            }
            ("SupportRequested", 1) => {
                DomainEvent::SupportRequested(upcast_request_v1(de(t, v, p)?))
            }
            ("MatchingRunCompleted", 1) => {
                DomainEvent::MatchingRunCompleted(upcast_run_v1(de(t, v, p)?))
            }
            ("AssignmentProposed", 1) => {
                DomainEvent::AssignmentProposed(upcast_proposal_v1(de(t, v, p)?))
            }
            _ => {
                return Err(EventDecodeError::UnknownType { type_name: t.to_owned(), version: v });
            }
        })
    }

    /// Checks the structural rules every event of this type must meet before
    /// it is written (business rules are the domain's `decide`).
    pub fn validate(&self) -> Result<(), InvalidEvent> {
        let ev = self.type_name();
        let bad = |field: &str, value: &dyn fmt::Display, reason: &str| InvalidEvent {
            event: ev,
            field: field.to_owned(),
            value: value.to_string(),
            reason: reason.to_owned(),
        };
        let urn = |field: &str, u: Urn| {
            if (100_000..=999_999).contains(&u.0) {
                Ok(())
            } else {
                Err(bad(field, &u, "a URN has six digits"))
            }
        };
        let token = |field: &str, s: &str| {
            if crate::vocab::is_subject_token(s) {
                Ok(())
            } else {
                Err(bad(field, &format!("{s:?}"), "1 to 64 ASCII letters, digits, - or _"))
            }
        };
        let non_empty = |field: &str, s: &str| {
            if s.trim().is_empty() {
                Err(bad(field, &format!("{s:?}"), "must not be empty"))
            } else {
                Ok(())
            }
        };
        let days_map = |field: &str, days: &DaysPerPeriod| {
            for (p, d) in days {
                token(&format!("{field}.{p}"), p.as_str())?;
                if *d == 0 {
                    return Err(bad(&format!("{field}.{p}"), d, "days must be at least 1"));
                }
            }
            Ok(())
        };
        let location = |e: f64, n: f64| {
            for (f, x) in [("easting", e), ("northing", n)] {
                if !x.is_finite() || x < 0.0 {
                    return Err(bad(f, &x, "must be a finite, non-negative grid coordinate"));
                }
            }
            Ok(())
        };
        match self {
            DomainEvent::SchoolRegistered(e) => {
                urn("urn", e.urn)?;
                non_empty("name", &e.name)?;
                if !(100..=999).contains(&e.la_code) {
                    return Err(bad("la_code", &e.la_code, "an LA code has three digits"));
                }
                location(e.easting, e.northing)?;
            }
            DomainEvent::SchoolChanged(e) => {
                urn("urn", e.urn)?;
                non_empty("name", &e.name)?;
                location(e.easting, e.northing)?;
            }
            DomainEvent::SchoolClosed(e) => urn("urn", e.urn)?,
            DomainEvent::InspectionRecorded(e) => urn("urn", e.urn)?,
            DomainEvent::RiskAssessed(e) => {
                urn("urn", e.urn)?;
                if let Some(t) = e.tier
                    && !(1..=4).contains(&t)
                {
                    return Err(bad("tier", &t, "a risk tier is 1 (most at risk) to 4"));
                }
            }
            DomainEvent::PractitionerDesignated(e) => {
                token("practitioner", e.practitioner.as_str())?;
                urn("home_urn", e.home_urn)?;
                if e.specialisms.is_empty() {
                    return Err(bad("specialisms", &"[]", "at least one specialism"));
                }
                if e.phases.is_empty() {
                    return Err(bad("phases", &"[]", "at least one phase"));
                }
                if e.day_rate == 0 {
                    return Err(bad("day_rate", &e.day_rate, "must be positive"));
                }
            }
            DomainEvent::PractitionerChanged(e) => {
                token("practitioner", e.practitioner.as_str())?;
                urn("home_urn", e.home_urn)?;
            }
            DomainEvent::AvailabilityDeclared(e) => {
                token("practitioner", e.practitioner.as_str())?;
                for p in e.capacity.keys() {
                    token(&format!("capacity.{p}"), p.as_str())?;
                }
            }
            DomainEvent::LeaveRecorded(e) if e.to < e.from => {
                return Err(bad("to", &e.to, "leave ends before it starts"));
            }
            DomainEvent::ConflictDeclared(e) => {
                token("conflict", e.conflict.as_str())?;
                if let (Some(a), Some(b)) = (e.valid_from, e.valid_to)
                    && b < a
                {
                    return Err(bad("valid_to", &b, "the window ends before it starts"));
                }
            }
            DomainEvent::SupportRequested(e) => {
                token("request", e.request.as_str())?;
                urn("urn", e.urn)?;
                non_empty("need", e.need.as_str())?;
                if e.designations.is_empty() {
                    return Err(bad("designations", &"[]", "at least one designation"));
                }
                if e.days.is_empty() {
                    return Err(bad("days", &"{}", "at least one half-term"));
                }
                days_map("days", &e.days)?;
            }
            DomainEvent::RequestAmended(e) => days_map("days", &e.days)?,
            DomainEvent::MatchingRunStarted(e) => {
                token("run", e.run.as_str())?;
                if e.problem_sha256.len() != 64
                    || !e.problem_sha256.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    return Err(bad("problem_sha256", &e.problem_sha256, "64 hex digits"));
                }
            }
            DomainEvent::MatchingRunCompleted(e) => {
                for (f, x) in [
                    ("objective", e.objective),
                    ("bound", e.bound),
                    ("gap", e.gap),
                    ("seconds", e.seconds),
                ] {
                    if !x.is_finite() {
                        return Err(bad(f, &x, "must be finite"));
                    }
                }
            }
            DomainEvent::AssignmentProposed(e) => {
                token("assignment", e.assignment.as_str())?;
                if e.days.is_empty() {
                    return Err(bad("days", &"{}", "at least one half-term"));
                }
                days_map("days", &e.days)?;
            }
            DomainEvent::RoundOpened(e) => {
                token("round", e.round.as_str())?;
                for p in &e.periods {
                    token("periods", p.as_str())?;
                }
                for (f, x) in [
                    ("terms.primary_days", e.terms.primary_days),
                    ("terms.secondary_days", e.terms.secondary_days),
                ] {
                    if !x.is_finite() || x <= 0.0 {
                        return Err(bad(f, &x, "must be a positive number of days"));
                    }
                }
            }
            DomainEvent::RoundFormed(e) => {
                for (f, x) in [
                    ("objective", e.objective),
                    ("bound", e.bound),
                    ("gap", e.gap),
                    ("seconds", e.seconds),
                ] {
                    if !x.is_finite() {
                        return Err(bad(f, &x, "must be finite"));
                    }
                }
            }
            DomainEvent::ReviewRecorded(e) if !e.days.is_finite() || e.days <= 0.0 => {
                return Err(bad("days", &e.days, "must be a positive number of days"));
            }
            DomainEvent::VisitRecorded(VisitRecorded { half_days, .. })
            | DomainEvent::VisitCorrected(VisitCorrected { half_days, .. })
            | DomainEvent::VisitCancelled(VisitCancelled { half_days, .. })
                if *half_days == 0 || *half_days > 10 =>
            {
                return Err(bad("half_days", half_days, "a visit is 1 to 10 half days"));
            }
            _ => {}
        }
        Ok(())
    }
}

impl EventMeta {
    /// The meta stored beside an event's fields, if any (old events have none).
    pub fn of_payload(payload: &serde_json::Value) -> Option<EventMeta> {
        serde_json::from_value(payload.get(META_KEY)?.clone()).ok()
    }
}

fn de<T: serde::de::DeserializeOwned>(
    type_name: &str,
    version: u32,
    payload: &serde_json::Value,
) -> Result<T, EventDecodeError> {
    T::deserialize(payload).map_err(|e| EventDecodeError::BadPayload {
        type_name: type_name.to_owned(),
        version,
        reason: e.to_string(),
    })
}

/// The typical day rate of a national designation (DESIGN.md): SLE £350,
/// LLE £450, NLE £550; `None` for a local title (its rate is configured).
/// Used to upcast v1 practitioners registered before rates were recorded.
pub fn typical_day_rate(designation: &Designation) -> Option<u32> {
    match designation.as_str() {
        Designation::SLE => Some(350),
        Designation::LLE => Some(450),
        Designation::NLE => Some(550),
        _ => None,
    }
}

/// The rate a v1 practitioner is upcast with when its title is not a
/// national one (v1 stored only NLE, LLE or SLE, so this is a guard): the
/// lowest typical rate.
const V1_FALLBACK_RATE: u32 = 350;

/// `PractitionerRegistered` v1 -> `PractitionerDesignated`: v1 practitioners
/// were not limited by phase (all phases) and were paid the typical rate of
/// their designation.
pub fn upcast_practitioner_v1(v1: PractitionerRegisteredV1) -> PractitionerDesignated {
    PractitionerDesignated {
        day_rate: typical_day_rate(&v1.designation).unwrap_or(V1_FALLBACK_RATE),
        practitioner: v1.practitioner,
        title: v1.designation,
        home_urn: v1.home_urn,
        specialisms: v1.specialisms,
        phases: Phase::ALL.to_vec(),
        personal: None,
    }
}

/// `PractitionerRegistered` v2 -> `PractitionerDesignated` (no personal data held then).
pub fn upcast_practitioner_v2(v2: PractitionerRegistered) -> PractitionerDesignated {
    PractitionerDesignated {
        practitioner: v2.practitioner,
        title: v2.designation,
        home_urn: v2.home_urn,
        specialisms: v2.specialisms,
        phases: v2.phases,
        day_rate: v2.day_rate,
        personal: None,
    }
}

/// `ConflictDeclared` v1 -> v2: a school conflict of kind "other", always valid.
pub fn upcast_conflict_v1(v1: ConflictDeclaredV1) -> ConflictDeclared {
    ConflictDeclared {
        practitioner: v1.practitioner,
        conflict: ConflictId(format!("school-{}", v1.urn)),
        target: ConflictTarget::School { urn: v1.urn },
        kind: ConflictKind::Other,
        valid_from: None,
        valid_to: None,
    }
}

/// `SupportRequested` v1 -> v2: its priority becomes a fixed tier, funded by
/// the LA's core budget.
pub fn upcast_request_v1(v1: SupportRequestedV1) -> SupportRequested {
    SupportRequested {
        request: v1.request,
        urn: v1.urn,
        need: v1.need,
        designations: v1.designations,
        tier: TierChoice::of(v1.priority).unwrap_or(TierChoice::Tier4),
        days: v1.days,
        funding: FundingSource::LaCore,
        purchase_order: None,
    }
}

/// `MatchingRunCompleted` v1 -> v2: per-tier figures were not recorded then.
pub fn upcast_run_v1(v1: MatchingRunCompletedV1) -> MatchingRunCompleted {
    MatchingRunCompleted {
        run: RunId(v1.run),
        status: v1.status,
        objective: v1.objective,
        bound: v1.bound,
        gap: v1.gap,
        seconds: v1.seconds,
        tiers: Vec::new(),
        plan_sha256: String::new(),
        proposals: v1.assignments,
        unmet: v1.unmet,
        dropped: Vec::new(),
    }
}

/// `AssignmentProposed` v1 -> v2: always by a run, no answer window recorded.
pub fn upcast_proposal_v1(v1: AssignmentProposedV1) -> AssignmentProposed {
    AssignmentProposed {
        assignment: AssignmentId(v1.assignment),
        request: v1.request,
        practitioner: v1.practitioner,
        days: v1.days,
        run: Some(RunId(v1.run)),
        answer_by: None,
    }
}
