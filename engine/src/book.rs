//! The brokerage book: the read model of schools, practitioners, their
//! availability and conflicts, support requests and assignments, folded from
//! the log. It is what a matching run's planning snapshot (`problem`
//! document) is cut from. It holds no rules: `apply` only records.

use std::collections::{BTreeMap, BTreeSet};

use bridges_schemas::brokerage::{self, BrokeragePolicy, BrokerageProblem};
use bridges_schemas::events::{
    AssignmentProposed, AvailabilityDeclared, DomainEvent, MatchingRunCompleted,
    PractitionerRegistered, SchoolRegistered, SupportRequested,
};
use bridges_schemas::{Period, PractitionerId, RequestId, Urn};
use serde_json::{Value, json};

use crate::log::EventRef;
use crate::projection::Projection;

/// What the log says about brokerage, as of some position.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Book {
    pub schools: BTreeMap<Urn, SchoolRegistered>,
    pub practitioners: BTreeMap<PractitionerId, PractitionerRegistered>,
    pub availability: BTreeMap<PractitionerId, AvailabilityDeclared>,
    pub conflicts: BTreeSet<(PractitionerId, Urn)>,
    pub requests: BTreeMap<RequestId, SupportRequested>,
    /// Assignment id -> proposal.
    pub proposals: BTreeMap<String, AssignmentProposed>,
    pub accepted: BTreeSet<String>,
    pub declined: BTreeSet<String>,
    /// Days delivered per assignment.
    pub delivered: BTreeMap<String, u32>,
    pub runs: Vec<MatchingRunCompleted>,
    /// Events of types this model does not read, or could not decode.
    pub skipped: u64,
}

impl Projection for Book {
    const NAME: &'static str = "brokerage-book";

    fn apply(&mut self, event: &EventRef<'_>) {
        let Ok(event) = event.domain_event() else {
            self.skipped += 1;
            return;
        };
        match event {
            DomainEvent::SchoolRegistered(e) => {
                self.schools.insert(e.urn, e);
            }
            DomainEvent::PractitionerRegistered(e) => {
                self.practitioners.insert(e.practitioner.clone(), e);
            }
            DomainEvent::AvailabilityDeclared(e) => {
                self.availability.insert(e.practitioner.clone(), e);
            }
            DomainEvent::ConflictDeclared(e) => {
                self.conflicts.insert((e.practitioner, e.urn));
            }
            DomainEvent::SupportRequested(e) => {
                self.requests.insert(e.request.clone(), e);
            }
            DomainEvent::MatchingRunCompleted(e) => self.runs.push(e),
            DomainEvent::AssignmentProposed(e) => {
                self.proposals.insert(e.assignment.clone(), e);
            }
            DomainEvent::AssignmentAccepted(e) => {
                self.accepted.insert(e.assignment);
            }
            DomainEvent::AssignmentDeclined(e) => {
                self.declined.insert(e.assignment);
            }
            DomainEvent::DaysDelivered(e) => {
                *self.delivered.entry(e.assignment).or_default() += e.days
            }
        }
    }

    fn encode_state(&self) -> Vec<u8> {
        let state = json!({
            "schools": self.schools.values().collect::<Vec<_>>(),
            "practitioners": self.practitioners.values().collect::<Vec<_>>(),
            "availability": self.availability.values().collect::<Vec<_>>(),
            "conflicts": self.conflicts.iter().collect::<Vec<_>>(),
            "requests": self.requests.values().collect::<Vec<_>>(),
            "proposals": self.proposals.values().collect::<Vec<_>>(),
            "accepted": self.accepted,
            "declined": self.declined,
            "delivered": self.delivered,
            "runs": self.runs,
            "skipped": self.skipped,
        });
        serde_json::to_vec(&state).expect("the book's state is plain JSON")
    }

    fn decode_state(bytes: &[u8]) -> Option<Book> {
        let v: Value = serde_json::from_slice(bytes).ok()?;
        let list = |key: &str| v.get(key).cloned().unwrap_or(Value::Array(Vec::new()));
        let schools: Vec<SchoolRegistered> = serde_json::from_value(list("schools")).ok()?;
        let practitioners: Vec<PractitionerRegistered> =
            serde_json::from_value(list("practitioners")).ok()?;
        let availability: Vec<AvailabilityDeclared> =
            serde_json::from_value(list("availability")).ok()?;
        let requests: Vec<SupportRequested> = serde_json::from_value(list("requests")).ok()?;
        let proposals: Vec<AssignmentProposed> = serde_json::from_value(list("proposals")).ok()?;
        Some(Book {
            schools: schools.into_iter().map(|s| (s.urn, s)).collect(),
            practitioners: practitioners.into_iter().map(|p| (p.practitioner.clone(), p)).collect(),
            availability: availability.into_iter().map(|a| (a.practitioner.clone(), a)).collect(),
            conflicts: serde_json::from_value(list("conflicts")).ok()?,
            requests: requests.into_iter().map(|r| (r.request.clone(), r)).collect(),
            proposals: proposals.into_iter().map(|p| (p.assignment.clone(), p)).collect(),
            accepted: serde_json::from_value(list("accepted")).ok()?,
            declined: serde_json::from_value(list("declined")).ok()?,
            delivered: serde_json::from_value(v.get("delivered").cloned().unwrap_or(json!({})))
                .ok()?,
            runs: serde_json::from_value(list("runs")).ok()?,
            skipped: v.get("skipped").and_then(Value::as_u64)?,
        })
    }
}

impl Book {
    /// The planning snapshot a matching run solves: every school; every
    /// practitioner with declared availability, less days already accepted;
    /// every request with no accepted assignment; the conflicts; `policy`.
    pub fn snapshot(&self, periods: &[Period], policy: &BrokeragePolicy) -> BrokerageProblem {
        let accepted: Vec<&AssignmentProposed> =
            self.accepted.iter().filter_map(|a| self.proposals.get(a)).collect();
        let served: BTreeSet<&RequestId> = accepted.iter().map(|p| &p.request).collect();
        let mut booked: BTreeMap<(&PractitionerId, &Period), u32> = BTreeMap::new();
        for p in &accepted {
            for (period, days) in &p.days {
                *booked.entry((&p.practitioner, period)).or_default() += days;
            }
        }
        let known = |p: &Period| periods.contains(p);
        let practitioners: Vec<brokerage::Practitioner> = self
            .practitioners
            .values()
            .filter(|p| self.schools.contains_key(&p.home_urn))
            .filter_map(|p| {
                let availability = self.availability.get(&p.practitioner)?;
                let capacity = availability
                    .capacity
                    .iter()
                    .filter(|(period, _)| known(period))
                    .map(|(period, days)| {
                        let used = booked.get(&(&p.practitioner, period)).copied().unwrap_or(0);
                        (period.clone(), f64::from(days.saturating_sub(used)))
                    })
                    .collect();
                Some(brokerage::Practitioner {
                    id: p.practitioner.clone(),
                    designation: p.designation.clone(),
                    home_urn: p.home_urn,
                    specialisms: p.specialisms.clone(),
                    phases: p.phases.clone(),
                    day_rate: f64::from(p.day_rate),
                    capacity,
                    max_days: availability.max_days.map(f64::from),
                })
            })
            .collect();
        let available: BTreeSet<&PractitionerId> = practitioners.iter().map(|p| &p.id).collect();
        let requests = self
            .requests
            .values()
            .filter(|r| !served.contains(&r.request) && self.schools.contains_key(&r.urn))
            .map(|r| brokerage::SupportRequest {
                id: r.request.clone(),
                urn: r.urn,
                need: r.need.clone(),
                designations: r.designations.clone(),
                priority: i64::from(r.priority),
                days: r
                    .days
                    .iter()
                    .filter(|(p, _)| known(p))
                    .map(|(p, d)| (p.clone(), f64::from(*d)))
                    .collect(),
                previous_practitioner: r
                    .previous_practitioner
                    .clone()
                    .filter(|p| available.contains(p)),
            })
            .collect();
        let conflicts = self
            .conflicts
            .iter()
            .filter(|(p, urn)| available.contains(p) && self.schools.contains_key(urn))
            .map(|(p, urn)| brokerage::Conflict { practitioner: p.clone(), urn: *urn })
            .collect();
        BrokerageProblem {
            periods: periods.to_vec(),
            schools: self
                .schools
                .values()
                .map(|s| brokerage::School {
                    urn: s.urn,
                    phase: s.phase,
                    trust: s.trust.clone(),
                    easting: s.easting,
                    northing: s.northing,
                    name: Some(s.name.clone()),
                })
                .collect(),
            practitioners,
            requests,
            conflicts,
            // Declines become exclusions (CONTRACTS.md rule 9) when the
            // engine records them per request; none yet.
            exclusions: Vec::new(),
            pinned: Vec::new(),
            policy: policy.clone(),
        }
    }
}
