//! The domain's state: every school, practitioner, request, assignment, run
//! and partnership year of one LA, folded from the log by `apply`. It is what
//! `decide` reads and what planning snapshots, queries and reports are cut
//! from. `apply` is infallible and holds no rules: it records what the events
//! say (a rule belongs in `decide`, before the event exists).
//!
//! The state derives serde only for its checkpoint, which is a cache: it is
//! rebuilt from the log whenever it does not read (the log is the record).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bridges_schemas::events::{
    ConflictDeclared, DaysPerPeriod, DomainEvent, EventMeta, FormedGroup, MatchingRunCompleted,
    MatchingRunStarted, ReviewTerms, RoundFormed, RoundId, RoundUnplaced, UnmetRecord,
};
use bridges_schemas::inspection::InspectionOutcome;
use bridges_schemas::triads::TriadsPolicy;
use bridges_schemas::vocab::{
    AcademicYearId, AssignmentId, ConflictId, DeclineReason, FundingSource, ImpactRating,
    RiskSource, RunId, Sealed, TierChoice, UserId, VisitId,
};
use bridges_schemas::{Designation, NeedArea, Period, Phase, PractitionerId, RequestId, Urn};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::log::EventRef;
use crate::projection::Projection;

/// What the log says about one LA's brokerage, as of `position`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Every stream's version (what the next append to it must expect).
    pub versions: HashMap<String, u64>,
    pub schools: BTreeMap<Urn, School>,
    pub practitioners: BTreeMap<PractitionerId, Practitioner>,
    pub requests: BTreeMap<RequestId, Request>,
    pub assignments: BTreeMap<AssignmentId, Assignment>,
    pub runs: BTreeMap<RunId, Run>,
    pub partnerships: BTreeMap<AcademicYearId, Partnership>,
    /// Peer-review rounds (a checkpoint written before rounds reads as none).
    #[serde(default)]
    pub rounds: BTreeMap<RoundId, Round>,
    /// Events this state could not read (unknown type or version, test events).
    pub skipped: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct School {
    pub urn: Urn,
    pub name: String,
    pub la_code: u16,
    pub phase: Phase,
    pub trust: Option<String>,
    pub easting: f64,
    pub northing: f64,
    pub pupils: Option<u32>,
    /// GIAS `Postcode`, normalised (`UB8 1PH`).
    pub postcode: Option<String>,
    pub closed: bool,
    pub inspection: Option<InspectionOutcome>,
    pub risk: Option<Risk>,
}

impl School {
    /// The school's locality: its postcode district (`UB8`), where known.
    pub fn locality(&self) -> Option<&str> {
        self.postcode.as_deref().and_then(|p| p.split(' ').next())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Risk {
    pub tier: Option<u8>,
    pub reason: String,
    pub source: RiskSource,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Practitioner {
    pub id: PractitionerId,
    pub title: Designation,
    pub home_urn: Urn,
    pub specialisms: Vec<NeedArea>,
    pub phases: Vec<Phase>,
    pub day_rate: u32,
    /// Sealed name and contacts; never held in clear.
    pub personal: Option<Sealed>,
    /// Declared days per half-term.
    pub capacity: DaysPerPeriod,
    /// The most days in each academic year (none: no yearly limit).
    pub max_days: BTreeMap<AcademicYearId, u32>,
    pub leave: Vec<(NaiveDate, NaiveDate)>,
    pub conflicts: BTreeMap<ConflictId, ConflictDeclared>,
    pub withdrawn: bool,
    pub erased: bool,
    pub designated_at: DateTime<Utc>,
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestStatus {
    Open,
    Withdrawn,
    Closed(ImpactRating),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub id: RequestId,
    pub urn: Urn,
    pub need: NeedArea,
    pub designations: Vec<Designation>,
    pub tier: TierChoice,
    pub days: DaysPerPeriod,
    pub funding: FundingSource,
    pub purchase_order: Option<String>,
    pub status: RequestStatus,
    pub raised_at: DateTime<Utc>,
    pub raised_by: UserId,
    pub closed_at: Option<DateTime<Utc>>,
    pub note: Option<Sealed>,
    /// Its assignments, in the order they were proposed.
    pub assignments: Vec<AssignmentId>,
}

/// Where an assignment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssignmentStatus {
    Proposed,
    Accepted,
    Declined(DeclineReason),
    Expired,
    Withdrawn,
    Completed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub id: AssignmentId,
    pub request: RequestId,
    pub practitioner: PractitionerId,
    pub days: DaysPerPeriod,
    pub run: Option<RunId>,
    /// A run's proposal counts only once its run is completed.
    pub pending_run: bool,
    pub status: AssignmentStatus,
    pub proposed_at: DateTime<Utc>,
    pub answer_by: Option<NaiveDate>,
    pub answered_at: Option<DateTime<Utc>>,
    /// Set while accepted (and after completion).
    pub accepted_at: Option<DateTime<Utc>>,
    pub first_contact: Option<NaiveDate>,
    pub first_contact_at: Option<DateTime<Utc>>,
    pub visits: BTreeMap<VisitId, Visit>,
    pub notes: Vec<Sealed>,
}

/// What became of a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VisitStatus {
    Recorded,
    Voided,
    Cancelled { no_show: bool, charged: bool },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Visit {
    pub on: NaiveDate,
    pub half_days: u32,
    pub status: VisitStatus,
    pub confirmed: bool,
    pub recorded_at: DateTime<Utc>,
    pub note: Option<Sealed>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub started: Option<MatchingRunStarted>,
    pub started_at: DateTime<Utc>,
    pub unmet: Vec<UnmetRecord>,
    pub proposals: Vec<AssignmentId>,
    pub completed: Option<MatchingRunCompleted>,
    pub completed_at: Option<DateTime<Utc>>,
    pub discarded: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Partnership {
    pub budgets: BTreeMap<FundingSource, u64>,
    pub fee_basis_points: u32,
}

/// A peer-review round: its terms, enrolment, groups (by number) with
/// their rota, unplaced schools, and the reviews held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Round {
    pub id: RoundId,
    pub year: AcademicYearId,
    pub periods: Vec<Period>,
    pub policy: TriadsPolicy,
    pub history_years: u32,
    pub terms: ReviewTerms,
    pub opened_at: DateTime<Utc>,
    pub enrolled: BTreeSet<Urn>,
    pub withdrawn: BTreeMap<Urn, String>,
    /// The last forming's header.
    pub formed: Option<RoundFormed>,
    pub groups: BTreeMap<u32, FormedGroup>,
    pub unplaced: BTreeMap<Urn, RoundUnplaced>,
    /// Each change made by hand since forming (`swap 100001 100004`).
    pub changes: Vec<String>,
    pub confirmed: bool,
    pub closed: bool,
    /// By host.
    pub reviews: BTreeMap<Urn, Review>,
}

/// A review held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub on: NaiveDate,
    pub reviewers: Vec<Urn>,
    pub days: f64,
    /// The host's decision on sharing its report (none: not made yet).
    pub shared: Option<bool>,
}

impl Round {
    /// The number of the group `urn` is in.
    pub fn group_of(&self, urn: Urn) -> Option<u32> {
        self.groups.values().find(|g| g.members.contains(&urn)).map(|g| g.group)
    }
}

impl School {
    pub fn is_open(&self) -> bool {
        !self.closed
    }
}

impl Assignment {
    /// Whether it holds days now: a counted proposal awaiting its answer,
    /// accepted, or completed (its days were given; completing frees none).
    pub fn holds_days(&self) -> bool {
        !self.pending_run
            && matches!(
                self.status,
                AssignmentStatus::Proposed
                    | AssignmentStatus::Accepted
                    | AssignmentStatus::Completed
            )
    }

    /// Accepted (or completed after acceptance): its days are committed.
    pub fn is_committed(&self) -> bool {
        !self.pending_run
            && matches!(self.status, AssignmentStatus::Accepted | AssignmentStatus::Completed)
    }

    /// Half days of visits that count (recorded, or cancelled and charged).
    pub fn charged_half_days(&self) -> u32 {
        self.visits
            .values()
            .filter(|v| match v.status {
                VisitStatus::Recorded => true,
                VisitStatus::Cancelled { charged, .. } => charged,
                VisitStatus::Voided => false,
            })
            .map(|v| v.half_days)
            .sum()
    }
}

impl Run {
    fn new(at: DateTime<Utc>) -> Run {
        Run {
            started: None,
            started_at: at,
            unmet: Vec::new(),
            proposals: Vec::new(),
            completed: None,
            completed_at: None,
            discarded: false,
        }
    }

    /// Completed: its proposals count.
    pub fn is_complete(&self) -> bool {
        self.completed.is_some()
    }
}

impl State {
    /// The version of `stream` (0: no such stream).
    pub fn version(&self, stream: &str) -> u64 {
        self.versions.get(stream).copied().unwrap_or(0)
    }

    /// The assignments of a request, in the order proposed, that count.
    pub fn assignments_of<'a>(
        &'a self,
        request: &RequestId,
    ) -> impl Iterator<Item = &'a Assignment> {
        self.requests
            .get(request)
            .into_iter()
            .flat_map(|r| r.assignments.iter())
            .filter_map(|a| self.assignments.get(a))
            .filter(|a| !a.pending_run)
    }

    /// Days a practitioner's counted assignments hold in a half-term
    /// (proposals awaiting an answer, accepted and completed ones).
    pub fn held_days(&self, practitioner: &PractitionerId, period: &Period) -> u32 {
        self.assignments
            .values()
            .filter(|a| &a.practitioner == practitioner && a.holds_days())
            .map(|a| a.days.get(period).copied().unwrap_or(0))
            .sum()
    }

    /// Days a practitioner has accepted in a half-term.
    pub fn accepted_days(&self, practitioner: &PractitionerId, period: &Period) -> u32 {
        self.assignments
            .values()
            .filter(|a| &a.practitioner == practitioner && a.is_committed())
            .map(|a| a.days.get(period).copied().unwrap_or(0))
            .sum()
    }

    /// Folds one decoded event in, with its stream position facts and meta.
    pub fn apply_event(&mut self, event: &DomainEvent, meta: &EventMeta) {
        let at = meta.at;
        match event {
            DomainEvent::SchoolRegistered(e) => {
                self.schools.insert(
                    e.urn,
                    School {
                        urn: e.urn,
                        name: e.name.clone(),
                        la_code: e.la_code,
                        phase: e.phase,
                        trust: e.trust.clone(),
                        easting: e.easting,
                        northing: e.northing,
                        pupils: e.pupils,
                        postcode: e.postcode.clone(),
                        closed: false,
                        inspection: None,
                        risk: None,
                    },
                );
            }
            DomainEvent::SchoolChanged(e) => {
                if let Some(s) = self.schools.get_mut(&e.urn) {
                    s.name = e.name.clone();
                    s.phase = e.phase;
                    s.trust = e.trust.clone();
                    s.easting = e.easting;
                    s.northing = e.northing;
                    s.pupils = e.pupils;
                    s.postcode = e.postcode.clone();
                }
            }
            DomainEvent::SchoolClosed(e) => {
                if let Some(s) = self.schools.get_mut(&e.urn) {
                    s.closed = true;
                }
            }
            DomainEvent::InspectionRecorded(e) => {
                if let Some(s) = self.schools.get_mut(&e.urn) {
                    s.inspection = Some(e.outcome);
                }
            }
            DomainEvent::RiskAssessed(e) => {
                if let Some(s) = self.schools.get_mut(&e.urn) {
                    s.risk =
                        Some(Risk { tier: e.tier, reason: e.reason.clone(), source: e.source, at });
                }
            }
            DomainEvent::PractitionerDesignated(e) => {
                // A re-designation (an old log's re-registration) keeps what
                // was declared since.
                let p = self.practitioners.entry(e.practitioner.clone()).or_insert_with(|| {
                    Practitioner {
                        id: e.practitioner.clone(),
                        title: e.title.clone(),
                        home_urn: e.home_urn,
                        specialisms: Vec::new(),
                        phases: Vec::new(),
                        day_rate: e.day_rate,
                        personal: None,
                        capacity: DaysPerPeriod::new(),
                        max_days: BTreeMap::new(),
                        leave: Vec::new(),
                        conflicts: BTreeMap::new(),
                        withdrawn: false,
                        erased: false,
                        designated_at: at,
                    }
                });
                p.title = e.title.clone();
                p.home_urn = e.home_urn;
                p.specialisms = e.specialisms.clone();
                p.phases = e.phases.clone();
                p.day_rate = e.day_rate;
                p.personal = e.personal.clone();
            }
            DomainEvent::PractitionerChanged(e) => {
                if let Some(p) = self.practitioners.get_mut(&e.practitioner) {
                    p.title = e.title.clone();
                    p.home_urn = e.home_urn;
                    p.specialisms = e.specialisms.clone();
                    p.phases = e.phases.clone();
                    p.day_rate = e.day_rate;
                    p.personal = e.personal.clone();
                }
            }
            DomainEvent::AvailabilityDeclared(e) => {
                if let Some(p) = self.practitioners.get_mut(&e.practitioner) {
                    for (period, days) in &e.capacity {
                        p.capacity.insert(period.clone(), *days);
                    }
                    if let Some(year) = &e.year {
                        match e.max_days {
                            Some(m) => {
                                p.max_days.insert(year.clone(), m);
                            }
                            None => {
                                p.max_days.remove(year);
                            }
                        }
                    }
                }
            }
            DomainEvent::LeaveRecorded(e) => {
                if let Some(p) = self.practitioners.get_mut(&e.practitioner) {
                    p.leave.push((e.from, e.to));
                }
            }
            DomainEvent::ConflictDeclared(e) => {
                if let Some(p) = self.practitioners.get_mut(&e.practitioner) {
                    p.conflicts.insert(e.conflict.clone(), e.clone());
                }
            }
            DomainEvent::ConflictWithdrawn(e) => {
                if let Some(p) = self.practitioners.get_mut(&e.practitioner) {
                    p.conflicts.remove(&e.conflict);
                }
            }
            DomainEvent::PractitionerWithdrawn(e) => {
                if let Some(p) = self.practitioners.get_mut(&e.practitioner) {
                    p.withdrawn = true;
                }
            }
            DomainEvent::PersonalDataErased(e) => {
                if let Some(p) = self.practitioners.get_mut(&e.practitioner) {
                    p.erased = true;
                }
            }
            DomainEvent::SupportRequested(e) => {
                self.requests.insert(
                    e.request.clone(),
                    Request {
                        id: e.request.clone(),
                        urn: e.urn,
                        need: e.need.clone(),
                        designations: e.designations.clone(),
                        tier: e.tier,
                        days: e.days.clone(),
                        funding: e.funding,
                        purchase_order: e.purchase_order.clone(),
                        status: RequestStatus::Open,
                        raised_at: at,
                        raised_by: meta.actor.clone(),
                        closed_at: None,
                        note: None,
                        assignments: Vec::new(),
                    },
                );
            }
            DomainEvent::RequestAmended(e) => {
                if let Some(r) = self.requests.get_mut(&e.request) {
                    r.need = e.need.clone();
                    r.designations = e.designations.clone();
                    r.tier = e.tier;
                    r.days = e.days.clone();
                    r.funding = e.funding;
                    r.purchase_order = e.purchase_order.clone();
                }
            }
            DomainEvent::RequestWithdrawn(e) => {
                if let Some(r) = self.requests.get_mut(&e.request) {
                    r.status = RequestStatus::Withdrawn;
                    r.closed_at = Some(at);
                }
            }
            DomainEvent::RequestClosed(e) => {
                if let Some(r) = self.requests.get_mut(&e.request) {
                    r.status = RequestStatus::Closed(e.impact);
                    r.closed_at = Some(at);
                    r.note = e.note.clone();
                }
            }
            DomainEvent::MatchingRunStarted(e) => {
                let run = self.runs.entry(e.run.clone()).or_insert_with(|| Run::new(at));
                run.started = Some(e.clone());
                run.started_at = at;
            }
            DomainEvent::UnmetRecorded(e) => {
                let run = self.runs.entry(e.run.clone()).or_insert_with(|| Run::new(at));
                run.unmet.extend(e.unmet.iter().cloned());
            }
            DomainEvent::MatchingRunCompleted(e) => {
                let run = self.runs.entry(e.run.clone()).or_insert_with(|| Run::new(at));
                run.completed = Some(e.clone());
                run.completed_at = Some(at);
                for a in &run.proposals {
                    if let Some(a) = self.assignments.get_mut(a) {
                        a.pending_run = false;
                    }
                }
            }
            DomainEvent::MatchingRunDiscarded(e) => {
                if let Some(run) = self.runs.get_mut(&e.run) {
                    run.discarded = true;
                    for a in std::mem::take(&mut run.proposals) {
                        if let Some(a) = self.assignments.remove(&a)
                            && let Some(r) = self.requests.get_mut(&a.request)
                        {
                            r.assignments.retain(|x| x != &a.id);
                        }
                    }
                }
            }
            DomainEvent::AssignmentProposed(e) => {
                // A run's proposal waits for its run's closing event; one of
                // a run this state never saw start (an old log) counts at once.
                let pending_run = match &e.run {
                    Some(run) => match self.runs.get_mut(run) {
                        Some(r) if !r.is_complete() => {
                            r.proposals.push(e.assignment.clone());
                            true
                        }
                        _ => false,
                    },
                    None => false,
                };
                self.assignments.insert(
                    e.assignment.clone(),
                    Assignment {
                        id: e.assignment.clone(),
                        request: e.request.clone(),
                        practitioner: e.practitioner.clone(),
                        days: e.days.clone(),
                        run: e.run.clone(),
                        pending_run,
                        status: AssignmentStatus::Proposed,
                        proposed_at: at,
                        answer_by: e.answer_by,
                        answered_at: None,
                        accepted_at: None,
                        first_contact: None,
                        first_contact_at: None,
                        visits: BTreeMap::new(),
                        notes: Vec::new(),
                    },
                );
                if let Some(r) = self.requests.get_mut(&e.request) {
                    r.assignments.push(e.assignment.clone());
                }
            }
            DomainEvent::AssignmentAccepted(e) => {
                if let Some(a) = self.assignments.get_mut(&e.assignment) {
                    a.status = AssignmentStatus::Accepted;
                    a.answered_at = Some(at);
                    a.accepted_at = Some(at);
                }
            }
            DomainEvent::AssignmentDeclined(e) => {
                if let Some(a) = self.assignments.get_mut(&e.assignment) {
                    a.status = AssignmentStatus::Declined(e.reason);
                    a.answered_at = Some(at);
                    a.notes.extend(e.note.iter().cloned());
                }
            }
            DomainEvent::AssignmentExpired(e) => {
                if let Some(a) = self.assignments.get_mut(&e.assignment) {
                    a.status = AssignmentStatus::Expired;
                    a.answered_at = Some(at);
                }
            }
            DomainEvent::AssignmentWithdrawn(e) => {
                if let Some(a) = self.assignments.get_mut(&e.assignment) {
                    a.status = AssignmentStatus::Withdrawn;
                }
            }
            DomainEvent::FirstContactRecorded(e) => {
                if let Some(a) = self.assignments.get_mut(&e.assignment) {
                    a.first_contact = Some(e.on);
                    a.first_contact_at = Some(at);
                    a.notes.extend(e.note.iter().cloned());
                }
            }
            DomainEvent::VisitRecorded(e) => {
                if let Some(a) = self.assignments.get_mut(&e.assignment) {
                    a.visits.insert(
                        e.visit.clone(),
                        Visit {
                            on: e.on,
                            half_days: e.half_days,
                            status: VisitStatus::Recorded,
                            confirmed: false,
                            recorded_at: at,
                            note: e.note.clone(),
                        },
                    );
                }
            }
            DomainEvent::VisitCorrected(e) => {
                if let Some(v) =
                    self.assignments.get_mut(&e.assignment).and_then(|a| a.visits.get_mut(&e.visit))
                {
                    v.on = e.on;
                    v.half_days = e.half_days;
                    v.note = e.note.clone();
                }
            }
            DomainEvent::VisitVoided(e) => {
                if let Some(v) =
                    self.assignments.get_mut(&e.assignment).and_then(|a| a.visits.get_mut(&e.visit))
                {
                    v.status = VisitStatus::Voided;
                }
            }
            DomainEvent::VisitCancelled(e) => {
                if let Some(a) = self.assignments.get_mut(&e.assignment) {
                    a.visits.insert(
                        e.visit.clone(),
                        Visit {
                            on: e.on,
                            half_days: e.half_days,
                            status: VisitStatus::Cancelled {
                                no_show: e.no_show,
                                charged: e.charged,
                            },
                            confirmed: false,
                            recorded_at: at,
                            note: None,
                        },
                    );
                }
            }
            DomainEvent::VisitConfirmed(e) => {
                if let Some(v) =
                    self.assignments.get_mut(&e.assignment).and_then(|a| a.visits.get_mut(&e.visit))
                {
                    v.confirmed = true;
                }
            }
            DomainEvent::AssignmentCompleted(e) => {
                if let Some(a) = self.assignments.get_mut(&e.assignment) {
                    a.status = AssignmentStatus::Completed;
                }
            }
            DomainEvent::BudgetSet(e) => {
                self.partnerships
                    .entry(e.year.clone())
                    .or_default()
                    .budgets
                    .insert(e.funding, e.amount_pence);
            }
            DomainEvent::BrokerageFeeSet(e) => {
                self.partnerships.entry(e.year.clone()).or_default().fee_basis_points =
                    e.basis_points;
            }
            e => self.apply_round(e, at),
        }
    }

    /// Folds a round's event in.
    fn apply_round(&mut self, event: &DomainEvent, at: DateTime<Utc>) {
        if let DomainEvent::RoundOpened(e) = event {
            self.rounds.insert(
                e.round.clone(),
                Round {
                    id: e.round.clone(),
                    year: e.year.clone(),
                    periods: e.periods.clone(),
                    policy: e.policy.clone(),
                    history_years: e.history_years,
                    terms: e.terms,
                    opened_at: at,
                    enrolled: BTreeSet::new(),
                    withdrawn: BTreeMap::new(),
                    formed: None,
                    groups: BTreeMap::new(),
                    unplaced: BTreeMap::new(),
                    changes: Vec::new(),
                    confirmed: false,
                    closed: false,
                    reviews: BTreeMap::new(),
                },
            );
            return;
        }
        let id = match event {
            DomainEvent::SchoolsEnrolled(e) => &e.round,
            DomainEvent::RoundSchoolWithdrawn(e) => &e.round,
            DomainEvent::RoundFormed(e) => &e.round,
            DomainEvent::RoundGroupsRecorded(e) => &e.round,
            DomainEvent::RoundUnplacedRecorded(e) => &e.round,
            DomainEvent::RoundGroupsChanged(e) => &e.round,
            DomainEvent::RoundConfirmed(e) => &e.round,
            DomainEvent::ReviewRecorded(e) => &e.round,
            DomainEvent::ReportShared(e) => &e.round,
            DomainEvent::RoundClosed(e) => &e.round,
            _ => return,
        };
        let Some(round) = self.rounds.get_mut(id) else { return };
        match event {
            DomainEvent::SchoolsEnrolled(e) => {
                for u in &e.urns {
                    round.enrolled.insert(*u);
                    round.withdrawn.remove(u);
                }
            }
            DomainEvent::RoundSchoolWithdrawn(e) => {
                round.enrolled.remove(&e.urn);
                round.withdrawn.insert(e.urn, e.reason.clone());
                round.unplaced.remove(&e.urn);
                for g in round.groups.values_mut() {
                    g.members.retain(|u| *u != e.urn);
                    g.hosts.retain(|h| h.host != e.urn);
                }
            }
            DomainEvent::RoundFormed(e) => {
                round.formed = Some(e.clone());
                round.groups.clear();
                round.unplaced.clear();
                round.changes.clear();
            }
            DomainEvent::RoundGroupsRecorded(e) => {
                for g in &e.groups {
                    round.groups.insert(g.group, g.clone());
                }
            }
            DomainEvent::RoundUnplacedRecorded(e) => {
                for u in &e.unplaced {
                    round.unplaced.insert(u.urn, u.clone());
                }
            }
            DomainEvent::RoundGroupsChanged(e) => {
                for g in &e.groups {
                    if g.members.is_empty() {
                        round.groups.remove(&g.group);
                    } else {
                        round.groups.insert(g.group, g.clone());
                    }
                }
                for u in &e.placed {
                    round.unplaced.remove(u);
                }
                for u in &e.unplaced {
                    round.unplaced.insert(u.urn, u.clone());
                }
                round.changes.push(e.change.clone());
            }
            DomainEvent::RoundConfirmed(_) => round.confirmed = true,
            DomainEvent::ReviewRecorded(e) => {
                round.reviews.insert(
                    e.host,
                    Review { on: e.on, reviewers: e.reviewers.clone(), days: e.days, shared: None },
                );
            }
            DomainEvent::ReportShared(e) => {
                if let Some(r) = round.reviews.get_mut(&e.host) {
                    r.shared = Some(e.shared);
                }
            }
            DomainEvent::RoundClosed(_) => round.closed = true,
            _ => {}
        }
    }

    /// Practitioners a request has been declined by (CONTRACTS.md rule 9).
    pub fn declined_by(&self, request: &RequestId) -> BTreeSet<PractitionerId> {
        self.assignments_of(request)
            .filter(|a| matches!(a.status, AssignmentStatus::Declined(_)))
            .map(|a| a.practitioner.clone())
            .collect()
    }
}

impl Projection for State {
    const NAME: &'static str = "domain-state";

    fn apply(&mut self, event: &EventRef<'_>) {
        // Every event counts towards its stream's version, read or not.
        match self.versions.get_mut(event.stream) {
            Some(v) => *v = event.version.0,
            None => {
                self.versions.insert(event.stream.to_owned(), event.version.0);
            }
        }
        let Ok(payload) = serde_json::from_slice::<serde_json::Value>(event.payload) else {
            self.skipped += 1;
            return;
        };
        let Ok(domain) = DomainEvent::from_stored(event.type_name, event.type_version, &payload)
        else {
            self.skipped += 1;
            return;
        };
        // Events written before commands carried meta were the weekly demo's:
        // recorded by the system at their recorded time.
        let meta = EventMeta::of_payload(&payload).unwrap_or_else(|| EventMeta {
            actor: UserId(bridges_schemas::vocab::SYSTEM_USER.to_owned()),
            at: crate::log::micros_to_time(event.recorded_at_micros),
        });
        self.apply_event(&domain, &meta);
    }

    fn encode_state(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("the domain state is plain data")
    }

    fn decode_state(bytes: &[u8]) -> Option<State> {
        serde_json::from_slice(bytes).ok()
    }
}
