//! Domain events of the Bridges log and the envelope they are exported in.
//!
//! Each event is past tense, has a type name and a version (`DomainEvent::type_name`,
//! `DomainEvent::version`), and is stored as its JSON payload inside a generic
//! envelope. Older versions are upcast on read by `DomainEvent::from_stored`
//! (today: `PractitionerRegistered` v1 -> v2). This module holds types and pure
//! checks only: it does not store, order or hash events (the engine's log does).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::common::SolveStatus;
use crate::common::{Designation, NeedArea, Period, Phase, PractitionerId, RequestId, Urn};

/// Whole days per half-term.
pub type DaysPerPeriod = BTreeMap<Period, u32>;

/// A school joined the scheme (from GIAS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SchoolRegistered {
    pub urn: Urn,
    pub name: String,
    /// Three-digit local authority code, for example 312 (Hillingdon).
    pub la_code: u16,
    pub phase: Phase,
    #[serde(default)]
    pub trust: Option<String>,
    pub easting: f64,
    pub northing: f64,
}

/// A system leader was registered (version 2: with phases and day rate).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PractitionerRegistered {
    pub practitioner: PractitionerId,
    pub designation: Designation,
    pub home_urn: Urn,
    pub specialisms: Vec<NeedArea>,
    pub phases: Vec<Phase>,
    /// Pounds per day.
    pub day_rate: u32,
}

/// Version 1 of `PractitionerRegistered`, before phases and day rates were
/// recorded. Kept only to read old logs; new events are always version 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PractitionerRegisteredV1 {
    pub practitioner: PractitionerId,
    pub designation: Designation,
    pub home_urn: Urn,
    pub specialisms: Vec<NeedArea>,
}

/// A practitioner declared the days they can be released per half-term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AvailabilityDeclared {
    pub practitioner: PractitionerId,
    pub capacity: DaysPerPeriod,
    #[serde(default)]
    pub max_days: Option<u32>,
}

/// A conflict of interest between a practitioner and a school was declared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConflictDeclared {
    pub practitioner: PractitionerId,
    pub urn: Urn,
    pub reason: String,
}

/// A school asked for (or was offered) days of support in a need area.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SupportRequested {
    pub request: RequestId,
    pub urn: Urn,
    pub need: NeedArea,
    pub designations: Vec<Designation>,
    /// 1 (most urgent) to 4.
    pub priority: u8,
    pub days: DaysPerPeriod,
    #[serde(default)]
    pub previous_practitioner: Option<PractitionerId>,
}

/// A matching run solved a snapshot of the log and recorded how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MatchingRunCompleted {
    pub run: String,
    /// Log position the problem snapshot was taken at.
    pub as_of_position: u64,
    pub problem_sha256: String,
    pub status: SolveStatus,
    pub objective: f64,
    pub bound: f64,
    pub gap: f64,
    pub seconds: f64,
    pub assignments: u32,
    pub unmet: u32,
}

/// A run proposed days of a practitioner on a request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssignmentProposed {
    pub assignment: String,
    pub run: String,
    pub request: RequestId,
    pub practitioner: PractitionerId,
    pub days: DaysPerPeriod,
}

/// The practitioner (or their school) accepted a proposed assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssignmentAccepted {
    pub assignment: String,
}

/// A proposed assignment was declined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssignmentDeclined {
    pub assignment: String,
    pub reason: String,
}

/// Days of an accepted assignment were delivered in a half-term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DaysDelivered {
    pub assignment: String,
    pub period: Period,
    pub days: u32,
}

/// Every current event type. Stored as `(type_name, version, payload)` where the
/// payload is the variant's struct as JSON (no tag: the envelope names the type).
#[derive(Debug, Clone, PartialEq)]
pub enum DomainEvent {
    SchoolRegistered(SchoolRegistered),
    PractitionerRegistered(PractitionerRegistered),
    AvailabilityDeclared(AvailabilityDeclared),
    ConflictDeclared(ConflictDeclared),
    SupportRequested(SupportRequested),
    MatchingRunCompleted(MatchingRunCompleted),
    AssignmentProposed(AssignmentProposed),
    AssignmentAccepted(AssignmentAccepted),
    AssignmentDeclined(AssignmentDeclined),
    DaysDelivered(DaysDelivered),
}

/// An event that breaks a rule: which event, field and value, and why.
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
    /// Every current (type name, version), for listings and tests.
    pub const CURRENT: [(&'static str, u32); 10] = [
        ("SchoolRegistered", 1),
        ("PractitionerRegistered", 2),
        ("AvailabilityDeclared", 1),
        ("ConflictDeclared", 1),
        ("SupportRequested", 1),
        ("MatchingRunCompleted", 1),
        ("AssignmentProposed", 1),
        ("AssignmentAccepted", 1),
        ("AssignmentDeclined", 1),
        ("DaysDelivered", 1),
    ];

    /// The stored type name.
    pub fn type_name(&self) -> &'static str {
        match self {
            DomainEvent::SchoolRegistered(_) => "SchoolRegistered",
            DomainEvent::PractitionerRegistered(_) => "PractitionerRegistered",
            DomainEvent::AvailabilityDeclared(_) => "AvailabilityDeclared",
            DomainEvent::ConflictDeclared(_) => "ConflictDeclared",
            DomainEvent::SupportRequested(_) => "SupportRequested",
            DomainEvent::MatchingRunCompleted(_) => "MatchingRunCompleted",
            DomainEvent::AssignmentProposed(_) => "AssignmentProposed",
            DomainEvent::AssignmentAccepted(_) => "AssignmentAccepted",
            DomainEvent::AssignmentDeclined(_) => "AssignmentDeclined",
            DomainEvent::DaysDelivered(_) => "DaysDelivered",
        }
    }

    /// The version new events of this type are written with.
    pub fn version(&self) -> u32 {
        match self {
            DomainEvent::PractitionerRegistered(_) => 2,
            _ => 1,
        }
    }

    /// The conventional stream of the event: the entity it is about
    /// (`school-<urn>`, `practitioner-<id>`, `request-<id>`, `run-<id>`,
    /// `assignment-<id>`). Callers may choose other streams.
    pub fn stream(&self) -> String {
        match self {
            DomainEvent::SchoolRegistered(e) => format!("school-{}", e.urn),
            DomainEvent::PractitionerRegistered(e) => format!("practitioner-{}", e.practitioner),
            DomainEvent::AvailabilityDeclared(e) => format!("practitioner-{}", e.practitioner),
            DomainEvent::ConflictDeclared(e) => format!("practitioner-{}", e.practitioner),
            DomainEvent::SupportRequested(e) => format!("request-{}", e.request),
            DomainEvent::MatchingRunCompleted(e) => format!("run-{}", e.run),
            DomainEvent::AssignmentProposed(e) => format!("assignment-{}", e.assignment),
            DomainEvent::AssignmentAccepted(e) => format!("assignment-{}", e.assignment),
            DomainEvent::AssignmentDeclined(e) => format!("assignment-{}", e.assignment),
            DomainEvent::DaysDelivered(e) => format!("assignment-{}", e.assignment),
        }
    }

    /// The payload as JSON (the variant's struct, untagged).
    pub fn to_payload(&self) -> serde_json::Value {
        let v = match self {
            DomainEvent::SchoolRegistered(e) => serde_json::to_value(e),
            DomainEvent::PractitionerRegistered(e) => serde_json::to_value(e),
            DomainEvent::AvailabilityDeclared(e) => serde_json::to_value(e),
            DomainEvent::ConflictDeclared(e) => serde_json::to_value(e),
            DomainEvent::SupportRequested(e) => serde_json::to_value(e),
            DomainEvent::MatchingRunCompleted(e) => serde_json::to_value(e),
            DomainEvent::AssignmentProposed(e) => serde_json::to_value(e),
            DomainEvent::AssignmentAccepted(e) => serde_json::to_value(e),
            DomainEvent::AssignmentDeclined(e) => serde_json::to_value(e),
            DomainEvent::DaysDelivered(e) => serde_json::to_value(e),
        };
        // Plain structs with string keys always serialize; non-finite floats
        // become null rather than failing, and `validate` rejects them first.
        v.expect("event structs have string keys and serialize to JSON")
    }

    /// Reads a stored event, upcasting older versions to the current one.
    pub fn from_stored(
        type_name: &str,
        version: u32,
        payload: &serde_json::Value,
    ) -> Result<DomainEvent, EventDecodeError> {
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
        let (t, v, p) = (type_name, version, payload);
        Ok(match (t, v) {
            ("SchoolRegistered", 1) => DomainEvent::SchoolRegistered(de(t, v, p)?),
            ("PractitionerRegistered", 1) => {
                DomainEvent::PractitionerRegistered(upcast_practitioner_v1(de(t, v, p)?))
            }
            ("PractitionerRegistered", 2) => DomainEvent::PractitionerRegistered(de(t, v, p)?),
            ("AvailabilityDeclared", 1) => DomainEvent::AvailabilityDeclared(de(t, v, p)?),
            ("ConflictDeclared", 1) => DomainEvent::ConflictDeclared(de(t, v, p)?),
            ("SupportRequested", 1) => DomainEvent::SupportRequested(de(t, v, p)?),
            ("MatchingRunCompleted", 1) => DomainEvent::MatchingRunCompleted(de(t, v, p)?),
            ("AssignmentProposed", 1) => DomainEvent::AssignmentProposed(de(t, v, p)?),
            ("AssignmentAccepted", 1) => DomainEvent::AssignmentAccepted(de(t, v, p)?),
            ("AssignmentDeclined", 1) => DomainEvent::AssignmentDeclined(de(t, v, p)?),
            ("DaysDelivered", 1) => DomainEvent::DaysDelivered(de(t, v, p)?),
            _ => {
                return Err(EventDecodeError::UnknownType { type_name: t.to_owned(), version: v });
            }
        })
    }

    /// Checks the rules every event of this type must meet before it is written.
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
        let non_empty = |field: &str, s: &str| {
            if s.trim().is_empty() {
                Err(bad(field, &format!("{s:?}"), "must not be empty"))
            } else {
                Ok(())
            }
        };
        let days_map = |field: &str, days: &DaysPerPeriod| {
            for (p, d) in days {
                check_period(p).map_err(|r| bad(&format!("{field}.{p}"), p, r))?;
                if *d == 0 {
                    return Err(bad(&format!("{field}.{p}"), d, "days must be at least 1"));
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
                for (f, x) in [("easting", e.easting), ("northing", e.northing)] {
                    if !x.is_finite() || x < 0.0 {
                        return Err(bad(f, &x, "must be a finite, non-negative grid coordinate"));
                    }
                }
            }
            DomainEvent::PractitionerRegistered(e) => {
                non_empty("practitioner", e.practitioner.as_str())?;
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
            DomainEvent::AvailabilityDeclared(e) => {
                non_empty("practitioner", e.practitioner.as_str())?;
                for p in e.capacity.keys() {
                    check_period(p).map_err(|r| bad(&format!("capacity.{p}"), p, r))?;
                }
            }
            DomainEvent::ConflictDeclared(e) => {
                non_empty("practitioner", e.practitioner.as_str())?;
                urn("urn", e.urn)?;
            }
            DomainEvent::SupportRequested(e) => {
                non_empty("request", e.request.as_str())?;
                urn("urn", e.urn)?;
                non_empty("need", e.need.as_str())?;
                if !(1..=4).contains(&e.priority) {
                    return Err(bad("priority", &e.priority, "priority is 1 (most urgent) to 4"));
                }
                if e.designations.is_empty() {
                    return Err(bad("designations", &"[]", "at least one designation"));
                }
                if e.days.is_empty() {
                    return Err(bad("days", &"{}", "at least one half-term"));
                }
                days_map("days", &e.days)?;
            }
            DomainEvent::MatchingRunCompleted(e) => {
                non_empty("run", &e.run)?;
                if e.problem_sha256.len() != 64
                    || !e.problem_sha256.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    return Err(bad("problem_sha256", &e.problem_sha256, "64 hex digits"));
                }
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
                non_empty("assignment", &e.assignment)?;
                non_empty("run", &e.run)?;
                non_empty("request", e.request.as_str())?;
                non_empty("practitioner", e.practitioner.as_str())?;
                if e.days.is_empty() {
                    return Err(bad("days", &"{}", "at least one half-term"));
                }
                days_map("days", &e.days)?;
            }
            DomainEvent::AssignmentAccepted(e) => non_empty("assignment", &e.assignment)?,
            DomainEvent::AssignmentDeclined(e) => non_empty("assignment", &e.assignment)?,
            DomainEvent::DaysDelivered(e) => {
                non_empty("assignment", &e.assignment)?;
                check_period(&e.period).map_err(|r| bad("period", &e.period, r))?;
                if e.days == 0 {
                    return Err(bad("days", &e.days, "days must be at least 1"));
                }
            }
        }
        Ok(())
    }
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

/// `PractitionerRegistered` v1 -> v2: v1 practitioners were not limited by
/// phase (all phases) and were paid the typical rate of their designation.
pub fn upcast_practitioner_v1(v1: PractitionerRegisteredV1) -> PractitionerRegistered {
    PractitionerRegistered {
        day_rate: typical_day_rate(&v1.designation).unwrap_or(V1_FALLBACK_RATE),
        practitioner: v1.practitioner,
        designation: v1.designation,
        home_urn: v1.home_urn,
        specialisms: v1.specialisms,
        phases: Phase::ALL.to_vec(),
    }
}

/// A half-term label is `YYYY-XXn`: a year, then AU1, AU2, SP1, SP2, SU1 or SU2.
fn check_period(p: &Period) -> Result<(), &'static str> {
    const TERMS: [&str; 6] = ["AU1", "AU2", "SP1", "SP2", "SU1", "SU2"];
    let s = p.as_str();
    let ok = s.len() == 8
        && s.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && s.as_bytes()[4] == b'-'
        && TERMS.contains(&&s[5..]);
    if ok { Ok(()) } else { Err("a half-term is YYYY-XXn, for example 2026-AU1") }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<DomainEvent> {
        let days: DaysPerPeriod = [(Period::from("2026-AU1"), 2)].into_iter().collect();
        vec![
            DomainEvent::SchoolRegistered(SchoolRegistered {
                urn: Urn(102_400),
                name: "Hillside Primary".into(),
                la_code: 312,
                phase: Phase::Primary,
                trust: Some("Heathrow Learning Trust".into()),
                easting: 507_000.0,
                northing: 182_000.0,
            }),
            DomainEvent::PractitionerRegistered(PractitionerRegistered {
                practitioner: "sle-17".into(),
                designation: Designation::SLE.into(),
                home_urn: Urn(102_401),
                specialisms: vec!["maths".into()],
                phases: vec![Phase::Primary],
                day_rate: 350,
            }),
            DomainEvent::AvailabilityDeclared(AvailabilityDeclared {
                practitioner: "sle-17".into(),
                capacity: days.clone(),
                max_days: Some(4),
            }),
            DomainEvent::ConflictDeclared(ConflictDeclared {
                practitioner: "sle-17".into(),
                urn: Urn(102_555),
                reason: "governor".into(),
            }),
            DomainEvent::SupportRequested(SupportRequested {
                request: "req-9".into(),
                urn: Urn(102_400),
                need: "maths".into(),
                designations: vec![Designation::SLE.into()],
                priority: 1,
                days: days.clone(),
                previous_practitioner: None,
            }),
            DomainEvent::MatchingRunCompleted(MatchingRunCompleted {
                run: "run-1".into(),
                as_of_position: 42,
                problem_sha256: "a".repeat(64),
                status: crate::common::SolveStatus::Optimal,
                objective: 0.1 + 0.2,
                bound: 0.3,
                gap: 0.0,
                seconds: 0.04,
                assignments: 1,
                unmet: 0,
            }),
            DomainEvent::AssignmentProposed(AssignmentProposed {
                assignment: "asg-1".into(),
                run: "run-1".into(),
                request: "req-9".into(),
                practitioner: "sle-17".into(),
                days,
            }),
            DomainEvent::AssignmentAccepted(AssignmentAccepted { assignment: "asg-1".into() }),
            DomainEvent::AssignmentDeclined(AssignmentDeclined {
                assignment: "asg-2".into(),
                reason: "no release".into(),
            }),
            DomainEvent::DaysDelivered(DaysDelivered {
                assignment: "asg-1".into(),
                period: "2026-AU1".into(),
                days: 1,
            }),
        ]
    }

    #[test]
    fn every_event_reads_back_as_itself_under_its_name_and_version() {
        let events = samples();
        let names: Vec<(&str, u32)> = events.iter().map(|e| (e.type_name(), e.version())).collect();
        assert_eq!(names, DomainEvent::CURRENT.to_vec());
        for e in events {
            e.validate().expect("sample is valid");
            // Through JSON text, as the log stores it.
            let text = serde_json::to_string(&e.to_payload()).expect("json");
            let value: serde_json::Value = serde_json::from_str(&text).expect("parse");
            let back = DomainEvent::from_stored(e.type_name(), e.version(), &value).expect("read");
            assert_eq!(back, e);
        }
    }

    #[test]
    fn validation_names_the_field_and_value() {
        let mut e = samples().remove(4);
        if let DomainEvent::SupportRequested(r) = &mut e {
            r.priority = 7;
        }
        let err = e.validate().expect_err("priority 7");
        assert_eq!((err.field.as_str(), err.value.as_str()), ("priority", "7"));
        let bad_period = DomainEvent::DaysDelivered(DaysDelivered {
            assignment: "asg-1".into(),
            period: "autumn".into(),
            days: 1,
        });
        assert_eq!(bad_period.validate().expect_err("period").field, "period");
    }

    /// `Designation` became a title: events stored with the closed enum
    /// (`"SLE"`, v1 and v2) read as before, and a local title is kept.
    #[test]
    fn stored_designations_read_as_titles() {
        let v2 = serde_json::json!({"practitioner": "sle-17", "designation": "SLE",
            "home_urn": 102401, "specialisms": ["maths"], "phases": ["primary"], "day_rate": 350});
        let DomainEvent::PractitionerRegistered(p) =
            DomainEvent::from_stored("PractitionerRegistered", 2, &v2).expect("v2")
        else {
            panic!("a practitioner event");
        };
        assert_eq!(p.designation.as_str(), "SLE");
        let v1 = serde_json::json!({"practitioner": "lle-3", "designation": "LLE",
            "home_urn": 102401, "specialisms": ["leadership"]});
        let DomainEvent::PractitionerRegistered(p) =
            DomainEvent::from_stored("PractitionerRegistered", 1, &v1).expect("v1")
        else {
            panic!("a practitioner event");
        };
        assert_eq!((p.designation.as_str(), p.day_rate), ("LLE", 450));
        let mut local = v2.clone();
        local["designation"] = "Senior Practitioner".into();
        let e = DomainEvent::from_stored("PractitionerRegistered", 2, &local).expect("local");
        assert_eq!(e.to_payload(), local);
        assert_eq!(typical_day_rate(&"Senior Practitioner".into()), None);
    }

    #[test]
    fn unknown_types_and_versions_are_errors_not_guesses() {
        let v = serde_json::json!({});
        assert!(matches!(
            DomainEvent::from_stored("PractitionerRegistered", 3, &v),
            Err(EventDecodeError::UnknownType { .. })
        ));
        assert!(matches!(
            DomainEvent::from_stored("SchoolRegistered", 1, &v),
            Err(EventDecodeError::BadPayload { .. })
        ));
    }
}
