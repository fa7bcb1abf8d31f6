//! Property test: random command sequences over a small LA (a few schools,
//! practitioners and requests; every command variant, with valid and
//! invalid arguments; time moving forward; restarts) run through
//! `Engine::handle` on a real log and, beside it, through a naive model of
//! the domain written here on its own (plain maps, its own reading of the
//! rules of DESIGN.md section 6 and CONTRACTS.md). After every command the
//! outcomes agree (applied, unchanged, or rejected with the same code and
//! field) and so do the views (schools, practitioners, request and
//! assignment statuses and days, held days per practitioner and half-term,
//! visits); after every sequence the state rebuilt from the log equals the
//! live one.
//!
//! Cases: 16 by default and under `CI`; 256 with `BRIDGES_SLOW` set (or the
//! number it holds, when above 16).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use bridges_engine::domain::state::{AssignmentStatus, RequestStatus, State, VisitStatus};
use bridges_engine::handle::Outcome;
use bridges_schemas::Phase::{self, *};
use bridges_schemas::brokerage::{Assignment as PlanAssignment, BrokeragePlan};
use bridges_schemas::commands::*;
use bridges_schemas::common::{SolveStatus, SolverInfo};
use bridges_schemas::inspection::Ofsted;
use bridges_schemas::vocab::{
    ConflictId, ConflictKind, DeclineReason, FundingSource, ImpactRating, RiskSource, RunId,
    RunTrigger, TierChoice,
};
use bridges_schemas::{InspectionOutcome, Urn};
use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, Utc, Weekday};
use common::domain::*;
use proptest::prelude::*;

// --- the pools the ops draw from ----------------------------------------------

const URNS: [u32; 7] = [100001, 100002, 100003, 100004, 100005, 100006, 99];
const PRACTITIONERS: [&str; 6] = ["p-0", "p-1", "p-2", "p-3", "p-4", "p 5"];
const REQUESTS: [&str; 7] = ["req-0", "req-1", "req-2", "req-3", "req-4", "req-5", "req 6"];
const PERIODS: [&str; 5] = ["2026-AU1", "2026-AU2", "2027-SP1", "2027-AU1", "2031-AU1"];
const TITLES: [&str; 4] = ["SLE", "LLE", "NLE", "Guru"];
const NEEDS: [&str; 4] = ["maths", "english", "post-16", "cooking"];
const CONFLICTS: [&str; 4] =
    ["school-100001", "school-100004", "trust-heathrow-learning-trust", "school-100003"];
const YEARS: [&str; 3] = ["2026-27", "2027-28", "2030-31"];
const TRUST_SLUG: &str = "trust-heathrow-learning-trust";

/// A school of the pool as GIAS has it: phase and trust.
fn school_of(urn: u32) -> (Phase, Option<&'static str>) {
    match urn {
        100001 | 100002 | 100006 => (Primary, Some(HLT)),
        100003 | 100005 => (Secondary, None),
        _ => (Primary, None),
    }
}

/// A practitioner of the pool: specialisms and phases.
fn practitioner_of(id: &str) -> (Vec<&'static str>, Vec<Phase>) {
    match id {
        "p-1" => (vec!["maths"], vec![Primary]),
        "p-2" => (vec!["english", "post-16"], vec![Secondary]),
        "p-4" => (vec!["post-16"], vec![Secondary]),
        _ => (vec!["maths", "english"], vec![Primary, Secondary]),
    }
}

type DayList = Vec<(u8, u8)>;

#[derive(Debug, Clone)]
enum Op {
    Advance(u16),
    Jump(u8),
    Reopen(bool),
    Register(u8),
    ChangeSchool(u8, u8),
    CloseSchool(u8),
    Inspection(u8, u8),
    AssessRisk(u8, u8, bool),
    Designate(u8, u8, u8),
    ChangePractitioner(u8, u8, u8),
    Availability(u8, DayList, Option<u8>),
    Leave(u8, u8, i8),
    Conflict(u8, u8, i8, i16),
    WithdrawConflict(u8, u8),
    WithdrawPractitioner(u8),
    Erase(u8),
    Raise(u8, u8, u8, u8, DayList, u8),
    Amend(u8, Option<DayList>, Option<u8>, Option<u8>),
    WithdrawRequest(u8),
    CloseRequest(u8, bool),
    Propose(u8, u8, DayList, u8),
    Accept(u8),
    Decline(u8, bool),
    Expire(u8),
    WithdrawAssignment(u8),
    FirstContact(u8, i8),
    RecordVisit(u8, i8, u8),
    CorrectVisit(u8, u8, i8, u8),
    VoidVisit(u8, u8),
    CancelVisit(u8, i8, u8, bool, bool),
    ConfirmVisit(u8, u8),
    Complete(u8),
    RecordRun(Vec<(u8, u8, DayList)>, bool),
    DiscardRun(u8),
    SetBudget(u8, bool),
    SetFee(u8, u16),
}

fn day_list(min: usize) -> impl Strategy<Value = DayList> {
    let days = prop_oneof![1 => Just(0u8), 6 => 1u8..3, 1 => 3u8..6];
    proptest::collection::vec((any::<u8>(), days), min..3)
}

fn op() -> impl Strategy<Value = Op> {
    let s = any::<u8>;
    let p = any::<u8>;
    let r = any::<u8>;
    let a = || 0u8..8;
    let half = || prop_oneof![1 => Just(0u8), 6 => 1u8..3, 1 => Just(3u8)];
    prop_oneof![
        6 => (1u16..=72).prop_map(Op::Advance),
        // What ends an entity's life, rarer so that lives run their course.
        2 => prop_oneof![
            s().prop_map(Op::CloseSchool),
            p().prop_map(Op::WithdrawPractitioner),
            p().prop_map(Op::Erase),
            r().prop_map(Op::WithdrawRequest),
            (r(), any::<bool>()).prop_map(|(r, n)| Op::CloseRequest(r, n)),
        ],
        1 => (5u8..=40).prop_map(Op::Jump),
        1 => any::<bool>().prop_map(Op::Reopen),
        1 => (0u8..7).prop_map(Op::Register),
        1 => (s(), 0u8..5).prop_map(|(s, v)| Op::ChangeSchool(s, v)),
        1 => (s(), 0u8..4).prop_map(|(s, g)| Op::Inspection(s, g)),
        1 => (s(), 0u8..6, any::<bool>()).prop_map(|(s, t, b)| Op::AssessRisk(s, t, b)),
        1 => (0u8..6, s(), 0u8..4).prop_map(|(p, h, t)| Op::Designate(p, h, t)),
        1 => (p(), 0u8..5, s()).prop_map(|(p, v, h)| Op::ChangePractitioner(p, v, h)),
        2 => (p(), day_list(0), proptest::option::of(0u8..12))
            .prop_map(|(p, d, m)| Op::Availability(p, d, m)),
        1 => (p(), 0u8..30, -2i8..12).prop_map(|(p, f, l)| Op::Leave(p, f, l)),
        1 => (p(), any::<u8>(), -10i8..60, -10i16..150).prop_map(|(p, t, f, l)| Op::Conflict(p, t, f, l)),
        1 => (p(), 0u8..4).prop_map(|(p, c)| Op::WithdrawConflict(p, c)),
        3 => (0u8..7, s(), 0u8..8, 0u8..6, day_list(0), 0u8..5)
            .prop_map(|(r, s, n, d, days, t)| Op::Raise(r, s, n, d, days, t)),
        2 => (r(), proptest::option::of(day_list(0)), proptest::option::of(0u8..5),
              proptest::option::weighted(0.3, 0u8..4))
            .prop_map(|(r, d, t, n)| Op::Amend(r, d, t, n)),
        6 => (r(), p(), proptest::collection::vec((any::<u8>(), prop_oneof![6 => Just(1u8), 1 => 0u8..4]), 1..3), 0u8..8)
            .prop_map(|(r, p, d, i)| Op::Propose(r, p, d, i)),
        5 => a().prop_map(Op::Accept),
        2 => (a(), any::<bool>()).prop_map(|(a, n)| Op::Decline(a, n)),
        2 => a().prop_map(Op::Expire),
        1 => a().prop_map(Op::WithdrawAssignment),
        2 => (a(), -1i8..6).prop_map(|(a, b)| Op::FirstContact(a, b)),
        4 => (a(), -1i8..12, half()).prop_map(|(a, b, h)| Op::RecordVisit(a, b, h)),
        1 => (a(), 0u8..4, -1i8..12, half()).prop_map(|(a, v, b, h)| Op::CorrectVisit(a, v, b, h)),
        1 => (a(), 0u8..4).prop_map(|(a, v)| Op::VoidVisit(a, v)),
        1 => (a(), -10i8..10, half(), any::<bool>(), any::<bool>())
            .prop_map(|(a, o, h, n, c)| Op::CancelVisit(a, o, h, n, c)),
        1 => (a(), 0u8..4).prop_map(|(a, v)| Op::ConfirmVisit(a, v)),
        1 => a().prop_map(Op::Complete),
        2 => (proptest::collection::vec((r(), p(), day_list(1)), 0..4), proptest::bool::weighted(0.15))
            .prop_map(|(e, dup)| Op::RecordRun(e, dup)),
        1 => (0u8..3).prop_map(Op::DiscardRun),
        1 => (0u8..3, proptest::bool::weighted(0.2)).prop_map(|(y, b)| Op::SetBudget(y, b)),
        1 => (0u8..3, 0u16..6_000).prop_map(|(y, bp)| Op::SetFee(y, bp)),
    ]
}

// --- the naive model ------------------------------------------------------------

/// What the model expects of a command.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Applied,
    Unchanged,
    Rejected(RejectionCode, String),
}

fn no(code: RejectionCode, field: impl Into<String>) -> Expect {
    Expect::Rejected(code, field.into())
}

/// Early return of a rejection.
macro_rules! check {
    ($e:expr) => {
        if let Err(x) = $e {
            return x;
        }
    };
}

type R = Result<(), Expect>;

fn fail(code: RejectionCode, field: impl Into<String>) -> R {
    Err(no(code, field))
}

#[derive(Debug, Clone)]
struct HalfTerm {
    label: String,
    year: String,
    first: NaiveDate,
    last: NaiveDate,
}

/// The calendar, from the test LA's dates, read with the model's own code.
#[derive(Debug, Clone)]
struct Cal {
    half_terms: Vec<HalfTerm>,
    holidays: BTreeSet<NaiveDate>,
}

impl Cal {
    fn new() -> Cal {
        let r = rules();
        Cal {
            half_terms: r
                .calendar
                .half_terms
                .iter()
                .map(|h| HalfTerm {
                    label: h.label.to_string(),
                    year: h.year.to_string(),
                    first: h.first,
                    last: h.last,
                })
                .collect(),
            holidays: r.calendar.bank_holidays.clone(),
        }
    }
    fn get(&self, label: &str) -> Option<&HalfTerm> {
        self.half_terms.iter().find(|h| h.label == label)
    }
    fn ended(&self, label: &str, today: NaiveDate) -> bool {
        self.get(label).is_none_or(|h| h.last < today)
    }
    fn of(&self, date: NaiveDate) -> Option<&HalfTerm> {
        self.half_terms.iter().find(|h| h.first <= date && date <= h.last)
    }
    fn working(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&date)
    }
    /// The `n`th working day after `date` (from the first working day on or after it).
    fn answer_by(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut d = date;
        while !self.working(d) {
            d = d + Days::new(1);
        }
        let mut left = n;
        while left > 0 {
            d = d + Days::new(1);
            if self.working(d) {
                left -= 1;
            }
        }
        d
    }
    fn year_labels(&self, year: &str) -> Vec<String> {
        self.half_terms.iter().filter(|h| h.year == year).map(|h| h.label.clone()).collect()
    }
}

#[derive(Debug, Clone)]
struct MSchool {
    phase: Phase,
    trust: Option<String>,
    name: String,
    closed: bool,
    inspection: Option<u8>,
    /// (tier, set by hand).
    risk: Option<(Option<u8>, bool)>,
}

#[derive(Debug, Clone)]
enum Target {
    School(u32),
    Trust(String),
}

#[derive(Debug, Clone)]
struct MPractitioner {
    title: String,
    home: u32,
    specialisms: Vec<String>,
    phases: Vec<Phase>,
    name: String,
    capacity: BTreeMap<String, u32>,
    max_days: BTreeMap<String, u32>,
    conflicts: BTreeMap<String, (Target, Option<NaiveDate>, Option<NaiveDate>)>,
    withdrawn: bool,
    erased: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum RS {
    Open,
    Withdrawn,
    Closed,
}

#[derive(Debug, Clone)]
struct MRequest {
    urn: u32,
    need: String,
    designations: Vec<String>,
    tier: TierChoice,
    days: BTreeMap<String, u32>,
    status: RS,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum AS {
    Proposed,
    Accepted,
    Declined,
    Expired,
    Withdrawn,
    Completed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum VS {
    Recorded,
    Voided,
    Cancelled { no_show: bool, charged: bool },
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct MVisit {
    on: NaiveDate,
    half_days: u32,
    status: VS,
    confirmed: bool,
}

#[derive(Debug, Clone)]
struct MAssignment {
    request: String,
    practitioner: String,
    days: BTreeMap<String, u32>,
    status: AS,
    answer_by: NaiveDate,
    accepted_on: Option<NaiveDate>,
    first_contact: Option<NaiveDate>,
    visits: BTreeMap<String, MVisit>,
}

impl MAssignment {
    fn holds(&self) -> bool {
        matches!(self.status, AS::Proposed | AS::Accepted | AS::Completed)
    }
    fn committed(&self) -> bool {
        matches!(self.status, AS::Accepted | AS::Completed)
    }
}

#[derive(Debug, Clone)]
struct Model {
    cal: Cal,
    schools: BTreeMap<u32, MSchool>,
    practitioners: BTreeMap<String, MPractitioner>,
    requests: BTreeMap<String, MRequest>,
    assignments: BTreeMap<String, MAssignment>,
    runs: Vec<String>,
}

fn token(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn fits(need: &str, phase: Phase) -> bool {
    match need {
        "post-16" => matches!(phase, Secondary | AllThrough | SixteenPlus),
        _ => true,
    }
}

fn configured_need(need: &str) -> bool {
    matches!(need, "maths" | "english" | "send" | "post-16" | "early-years")
}

fn configured_title(t: &str) -> bool {
    matches!(t, "SLE" | "LLE" | "NLE" | "Senior Practitioner")
}

fn days_of(d: &bridges_schemas::events::DaysPerPeriod) -> BTreeMap<String, u32> {
    d.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

impl Model {
    fn new() -> Model {
        Model {
            cal: Cal::new(),
            schools: BTreeMap::new(),
            practitioners: BTreeMap::new(),
            requests: BTreeMap::new(),
            assignments: BTreeMap::new(),
            runs: Vec::new(),
        }
    }

    fn held_request(&self, r: &str, period: &str) -> u32 {
        self.assignments
            .values()
            .filter(|a| a.request == r && a.holds())
            .map(|a| a.days.get(period).copied().unwrap_or(0))
            .sum()
    }

    fn held(&self, p: &str, period: &str) -> u32 {
        self.assignments
            .values()
            .filter(|a| a.practitioner == p && a.holds())
            .map(|a| a.days.get(period).copied().unwrap_or(0))
            .sum()
    }

    fn accepted(&self, p: &str, period: &str) -> u32 {
        self.assignments
            .values()
            .filter(|a| a.practitioner == p && a.committed())
            .map(|a| a.days.get(period).copied().unwrap_or(0))
            .sum()
    }

    fn declined(&self, r: &str, p: &str) -> bool {
        self.assignments
            .values()
            .any(|a| a.request == r && a.practitioner == p && a.status == AS::Declined)
    }

    fn overdue(&self, a: &MAssignment, today: NaiveDate) -> bool {
        a.status == AS::Proposed && a.answer_by < today
    }

    /// Expiries the engine records before deciding `c`.
    fn expire_looked_at(&mut self, c: &Command, today: NaiveDate) {
        let ids: Vec<String> = self
            .assignments
            .iter()
            .filter(|(_, a)| self.overdue(a, today))
            .filter(|(id, a)| match c {
                Command::AcceptAssignment(x) => x.assignment.as_str() == id.as_str(),
                Command::DeclineAssignment(x) => x.assignment.as_str() == id.as_str(),
                Command::WithdrawAssignment(x) => x.assignment.as_str() == id.as_str(),
                Command::ProposeAssignment(x) => {
                    a.practitioner == x.practitioner.as_str() || a.request == x.request.as_str()
                }
                Command::AmendRequest(x) => a.request == x.request.as_str(),
                Command::RecordRun(_) => true,
                _ => false,
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in ids {
            if let Some(a) = self.assignments.get_mut(&id) {
                a.status = AS::Expired;
            }
        }
    }

    // -- shared checks, each returning the rejection the rules give --

    fn school_known(&self, field: &str, urn: u32) -> Result<&MSchool, Expect> {
        if !(100_000..=999_999).contains(&urn) {
            return Err(no(RejectionCode::Invalid, field));
        }
        self.schools.get(&urn).ok_or_else(|| no(RejectionCode::UnknownSchool, field))
    }

    fn school_open(&self, field: &str, urn: u32) -> Result<&MSchool, Expect> {
        let s = self.school_known(field, urn)?;
        if s.closed {
            return Err(no(RejectionCode::SchoolClosed, field));
        }
        Ok(s)
    }

    fn practitioner_known(&self, id: &str) -> Result<&MPractitioner, Expect> {
        self.practitioners
            .get(id)
            .ok_or_else(|| no(RejectionCode::UnknownPractitioner, "practitioner"))
    }

    fn practitioner_active(&self, id: &str) -> Result<&MPractitioner, Expect> {
        let p = self.practitioner_known(id)?;
        if p.erased {
            return Err(no(RejectionCode::PersonalDataErased, "practitioner"));
        }
        if p.withdrawn {
            return Err(no(RejectionCode::PractitionerWithdrawn, "practitioner"));
        }
        Ok(p)
    }

    fn request_open(&self, id: &str) -> Result<&MRequest, Expect> {
        let r =
            self.requests.get(id).ok_or_else(|| no(RejectionCode::UnknownRequest, "request"))?;
        match r.status {
            RS::Open => Ok(r),
            RS::Withdrawn => Err(no(RejectionCode::Withdrawn, "request")),
            RS::Closed => Err(no(RejectionCode::WrongState, "request")),
        }
    }

    fn check_days(
        &self,
        field: &str,
        days: &BTreeMap<String, u32>,
        today: NaiveDate,
        zero: bool,
    ) -> R {
        if days.is_empty() {
            return fail(RejectionCode::Invalid, field);
        }
        for (period, d) in days {
            let f = format!("{field}.{period}");
            if self.cal.get(period).is_none() {
                return fail(RejectionCode::NotConfigured, f);
            }
            if *d == 0 && !zero || *d > 60 {
                return fail(RejectionCode::Invalid, f);
            }
            if *d > 0 && self.cal.ended(period, today) {
                return fail(RejectionCode::PeriodEnded, f);
            }
        }
        Ok(())
    }

    fn ineligible(&self, r: &MRequest, p: &MPractitioner, days: &BTreeMap<String, u32>) -> bool {
        let Some(school) = self.schools.get(&r.urn) else { return false };
        if !p.specialisms.contains(&r.need)
            || !p.phases.contains(&school.phase)
            || !r.designations.contains(&p.title)
            || p.home == r.urn
        {
            return true;
        }
        let home_trust = self.schools.get(&p.home).and_then(|h| h.trust.clone());
        if home_trust.is_some() && home_trust == school.trust {
            return true;
        }
        let windows: Vec<(NaiveDate, NaiveDate)> =
            days.keys().filter_map(|k| self.cal.get(k)).map(|h| (h.first, h.last)).collect();
        p.conflicts.values().any(|(target, from, to)| {
            let applies = match target {
                Target::School(u) => *u == r.urn,
                Target::Trust(t) => school.trust.as_deref() == Some(t.as_str()),
            };
            applies
                && windows
                    .iter()
                    .any(|(f, l)| from.is_none_or(|x| x <= *l) && to.is_none_or(|x| x >= *f))
        })
    }

    /// `used(period)` is what the practitioner already has in a half-term.
    fn capacity(
        &self,
        p: &MPractitioner,
        days: &BTreeMap<String, u32>,
        used: &dyn Fn(&str) -> u32,
    ) -> R {
        for (period, d) in days {
            if used(period) + d > p.capacity.get(period).copied().unwrap_or(0) {
                return fail(RejectionCode::OverCapacity, format!("days.{period}"));
            }
        }
        let years: BTreeSet<String> =
            days.keys().filter_map(|k| self.cal.get(k)).map(|h| h.year.clone()).collect();
        for y in years {
            if let Some(max) = p.max_days.get(&y) {
                let labels = self.cal.year_labels(&y);
                let had: u32 = labels.iter().map(|l| used(l)).sum();
                let more: u32 =
                    days.iter().filter(|(k, _)| labels.contains(k)).map(|(_, d)| d).sum();
                if had + more > *max {
                    return fail(RejectionCode::OverCapacity, "days");
                }
            }
        }
        Ok(())
    }

    fn counted(&self, id: &str) -> Result<&MAssignment, Expect> {
        self.assignments.get(id).ok_or_else(|| no(RejectionCode::UnknownAssignment, "assignment"))
    }

    fn not_awaiting(status: AS) -> Expect {
        match status {
            AS::Expired => no(RejectionCode::Expired, "assignment"),
            AS::Withdrawn => no(RejectionCode::Withdrawn, "assignment"),
            _ => no(RejectionCode::WrongState, "assignment"),
        }
    }

    fn awaiting(&self, id: &str, today: NaiveDate) -> Result<&MAssignment, Expect> {
        let a = self.counted(id)?;
        if a.status != AS::Proposed {
            return Err(Self::not_awaiting(a.status));
        }
        if self.overdue(a, today) {
            return Err(no(RejectionCode::Expired, "assignment"));
        }
        Ok(a)
    }

    fn accepted_one(&self, id: &str) -> Result<&MAssignment, Expect> {
        let a = self.counted(id)?;
        if a.status != AS::Accepted {
            return Err(no(RejectionCode::WrongState, "assignment"));
        }
        Ok(a)
    }

    fn recorded_visit<'a>(&self, a: &'a MAssignment, v: &str) -> Result<&'a MVisit, Expect> {
        match a.visits.get(v) {
            None => Err(no(RejectionCode::UnknownVisit, "visit")),
            Some(x) if x.status != VS::Recorded => Err(no(RejectionCode::WrongState, "visit")),
            Some(x) => Ok(x),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_visit(
        &self,
        a: &MAssignment,
        except: Option<&str>,
        on: NaiveDate,
        half_days: u32,
        past: bool,
        charged: bool,
        today: NaiveDate,
    ) -> R {
        if !(1..=2).contains(&half_days) {
            return fail(RejectionCode::Invalid, "half_days");
        }
        if past && on > today {
            return fail(RejectionCode::InFuture, "on");
        }
        let Some(h) = self.cal.of(on).filter(|h| a.days.contains_key(&h.label)) else {
            return fail(RejectionCode::OutsideHalfTerm, "on");
        };
        if !self.cal.working(on) {
            return fail(RejectionCode::NotWorkingDay, "on");
        }
        if charged {
            let used: u32 = a
                .visits
                .iter()
                .filter(|(id, _)| Some(id.as_str()) != except)
                .filter(|(_, v)| self.cal.of(v.on).is_some_and(|x| x.label == h.label))
                .filter(|(_, v)| match v.status {
                    VS::Recorded => true,
                    VS::Cancelled { charged, .. } => charged,
                    VS::Voided => false,
                })
                .map(|(_, v)| v.half_days)
                .sum();
            if used + half_days > a.days[&h.label] * 2 {
                return fail(RejectionCode::BeyondAssigned, "half_days");
            }
        }
        Ok(())
    }

    fn next_visit(a: &MAssignment) -> String {
        (1..).map(|n| format!("v{n}")).find(|v| !a.visits.contains_key(v)).unwrap_or_default()
    }

    /// Decides and applies one command; what the engine should answer.
    fn step(&mut self, c: &Command, today: NaiveDate) -> Expect {
        self.expire_looked_at(c, today);
        match c {
            Command::RegisterSchool(x) => {
                if !(100_000..=999_999).contains(&x.urn.0) {
                    return no(RejectionCode::Invalid, "urn");
                }
                if self.schools.contains_key(&x.urn.0) {
                    return no(RejectionCode::Duplicate, "urn");
                }
                self.schools.insert(
                    x.urn.0,
                    MSchool {
                        phase: x.phase,
                        trust: x.trust.clone(),
                        name: x.name.clone(),
                        closed: false,
                        inspection: None,
                        risk: None,
                    },
                );
                Expect::Applied
            }
            Command::ChangeSchool(x) => {
                let s = match self.school_known("urn", x.urn.0) {
                    Ok(s) => s,
                    Err(e) => return e,
                };
                if x.trust.as_deref().is_some_and(|t| t.trim().is_empty()) {
                    return no(RejectionCode::Invalid, "trust");
                }
                if s.name == x.name && s.phase == x.phase && s.trust == x.trust {
                    return Expect::Unchanged;
                }
                let s = self.schools.get_mut(&x.urn.0).expect("known");
                s.name = x.name.clone();
                s.phase = x.phase;
                s.trust = x.trust.clone();
                Expect::Applied
            }
            Command::CloseSchool(x) => {
                match self.school_known("urn", x.urn.0) {
                    Ok(s) if s.closed => return no(RejectionCode::SchoolClosed, "urn"),
                    Ok(_) => {}
                    Err(e) => return e,
                }
                self.schools.get_mut(&x.urn.0).expect("known").closed = true;
                Expect::Applied
            }
            Command::RecordInspection(x) => {
                let s = match self.school_known("urn", x.urn.0) {
                    Ok(s) => s,
                    Err(e) => return e,
                };
                if x.source != "csv" && x.source != "gias" {
                    return no(RejectionCode::Invalid, "source");
                }
                let grade = match x.outcome {
                    InspectionOutcome::Overall { overall: Ofsted::Inadequate, .. } => 2,
                    InspectionOutcome::Overall { overall: Ofsted::RequiresImprovement, .. } => 1,
                    _ => 0,
                };
                if s.inspection == Some(grade) {
                    return Expect::Unchanged;
                }
                // The rule: serious -> 1, concern -> 2, better -> none;
                // an LA's or RISE's own assessment stands.
                let tier = match grade {
                    2 => Some(1),
                    1 => Some(2),
                    _ => None,
                };
                let by_hand = s.risk.is_some_and(|(_, h)| h);
                let current = s.risk.and_then(|(t, _)| t);
                let s = self.schools.get_mut(&x.urn.0).expect("known");
                s.inspection = Some(grade);
                if !by_hand && current != tier {
                    s.risk = Some((tier, false));
                }
                Expect::Applied
            }
            Command::AssessRisk(x) => {
                let s = match self.school_known("urn", x.urn.0) {
                    Ok(s) => s,
                    Err(e) => return e,
                };
                if x.tier.is_some_and(|t| !(1..=4).contains(&t)) {
                    return no(RejectionCode::Invalid, "tier");
                }
                if s.closed {
                    return no(RejectionCode::SchoolClosed, "urn");
                }
                let s = self.schools.get_mut(&x.urn.0).expect("known");
                s.risk = Some((x.tier, x.source != RiskSource::InspectionRule));
                Expect::Applied
            }
            Command::DesignatePractitioner(x) => {
                let id = x.practitioner.as_str();
                if !token(id, 48) {
                    return no(RejectionCode::Invalid, "practitioner");
                }
                if self.practitioners.contains_key(id) {
                    return no(RejectionCode::Duplicate, "practitioner");
                }
                check!(self.record_checks(x.title.as_str(), x.home_urn.0));
                self.practitioners.insert(
                    id.to_owned(),
                    MPractitioner {
                        title: x.title.to_string(),
                        home: x.home_urn.0,
                        specialisms: x.specialisms.iter().map(|s| s.to_string()).collect(),
                        phases: x.phases.clone(),
                        name: x.name.clone(),
                        capacity: BTreeMap::new(),
                        max_days: BTreeMap::new(),
                        conflicts: BTreeMap::new(),
                        withdrawn: false,
                        erased: false,
                    },
                );
                Expect::Applied
            }
            Command::ChangePractitioner(x) => {
                let p = match self.practitioner_active(x.practitioner.as_str()) {
                    Ok(p) => p,
                    Err(e) => return e,
                };
                check!(self.record_checks(x.title.as_str(), x.home_urn.0));
                let specialisms: Vec<String> =
                    x.specialisms.iter().map(|s| s.to_string()).collect();
                if p.title == x.title.as_str()
                    && p.home == x.home_urn.0
                    && p.specialisms == specialisms
                    && p.phases == x.phases
                    && p.name == x.name
                {
                    return Expect::Unchanged;
                }
                let p = self.practitioners.get_mut(x.practitioner.as_str()).expect("known");
                p.title = x.title.to_string();
                p.home = x.home_urn.0;
                p.specialisms = specialisms;
                p.phases = x.phases.clone();
                p.name = x.name.clone();
                Expect::Applied
            }
            Command::DeclareAvailability(x) => {
                let id = x.practitioner.as_str();
                if let Err(e) = self.practitioner_active(id) {
                    return e;
                }
                let capacity = days_of(&x.capacity);
                check!(self.check_days("capacity", &capacity, today, true));
                let years: Vec<String> = capacity
                    .keys()
                    .map(|k| self.cal.get(k).expect("configured").year.clone())
                    .collect();
                if let Some(i) = years.iter().position(|y| y != &years[0]) {
                    let period = capacity.keys().nth(i).expect("as many");
                    return no(RejectionCode::Invalid, format!("capacity.{period}"));
                }
                for (period, d) in &capacity {
                    if *d < self.accepted(id, period) {
                        return no(RejectionCode::BelowAccepted, format!("capacity.{period}"));
                    }
                }
                if let Some(max) = x.max_days {
                    let had: u32 =
                        self.cal.year_labels(&years[0]).iter().map(|l| self.accepted(id, l)).sum();
                    if max < had {
                        return no(RejectionCode::BelowAccepted, "max_days");
                    }
                    if max > 200 {
                        return no(RejectionCode::Invalid, "max_days");
                    }
                }
                let p = self.practitioners.get_mut(id).expect("known");
                p.capacity.extend(capacity);
                match x.max_days {
                    Some(m) => p.max_days.insert(years[0].clone(), m),
                    None => p.max_days.remove(&years[0]),
                };
                Expect::Applied
            }
            Command::RecordLeave(x) => {
                if let Err(e) = self.practitioner_active(x.practitioner.as_str()) {
                    return e;
                }
                if x.to < x.from {
                    return no(RejectionCode::Window, "to");
                }
                if (x.to - x.from).num_days() > 366 {
                    return no(RejectionCode::Invalid, "to");
                }
                Expect::Applied
            }
            Command::DeclareConflict(x) => {
                let id = x.practitioner.as_str();
                if let Err(e) = self.practitioner_active(id) {
                    return e;
                }
                let (cid, target) = match (&x.urn, &x.trust) {
                    (Some(u), None) => {
                        if !self.schools.contains_key(&u.0) {
                            return no(RejectionCode::UnknownSchool, "urn");
                        }
                        (format!("school-{}", u.0), Target::School(u.0))
                    }
                    (None, Some(t)) => (TRUST_SLUG.to_owned(), Target::Trust(t.clone())),
                    _ => return no(RejectionCode::Invalid, "urn"),
                };
                if let (Some(f), Some(t)) = (x.valid_from, x.valid_to)
                    && t < f
                {
                    return no(RejectionCode::Window, "valid_to");
                }
                let p = self.practitioners.get_mut(id).expect("known");
                p.conflicts.insert(cid, (target, x.valid_from, x.valid_to));
                Expect::Applied
            }
            Command::WithdrawConflict(x) => {
                let p = match self.practitioner_known(x.practitioner.as_str()) {
                    Ok(p) => p,
                    Err(e) => return e,
                };
                if !p.conflicts.contains_key(x.conflict.as_str()) {
                    return no(RejectionCode::UnknownConflict, "conflict");
                }
                let p = self.practitioners.get_mut(x.practitioner.as_str()).expect("known");
                p.conflicts.remove(x.conflict.as_str());
                Expect::Applied
            }
            Command::WithdrawPractitioner(x) => {
                if let Err(e) = self.practitioner_active(x.practitioner.as_str()) {
                    return e;
                }
                self.practitioners.get_mut(x.practitioner.as_str()).expect("known").withdrawn =
                    true;
                Expect::Applied
            }
            Command::ErasePractitioner(x) => {
                match self.practitioner_known(x.practitioner.as_str()) {
                    Ok(p) if p.erased => {
                        return no(RejectionCode::PersonalDataErased, "practitioner");
                    }
                    Ok(_) => {}
                    Err(e) => return e,
                }
                self.practitioners.get_mut(x.practitioner.as_str()).expect("known").erased = true;
                Expect::Applied
            }
            Command::RaiseRequest(x) => {
                let id = x.request.as_str();
                if !token(id, 48) {
                    return no(RejectionCode::Invalid, "request");
                }
                if self.requests.contains_key(id) {
                    return no(RejectionCode::Duplicate, "request");
                }
                let phase = match self.school_open("urn", x.urn.0) {
                    Ok(s) => s.phase,
                    Err(e) => return e,
                };
                check!(self.need_checks(x.need.as_str(), Some(phase)));
                if x.designations.is_empty() {
                    return no(RejectionCode::Invalid, "designations");
                }
                for (i, d) in x.designations.iter().enumerate() {
                    if !configured_title(d.as_str()) {
                        return no(RejectionCode::NotConfigured, format!("designations[{i}]"));
                    }
                }
                let days = days_of(&x.days);
                check!(self.check_days("days", &days, today, false));
                self.requests.insert(
                    id.to_owned(),
                    MRequest {
                        urn: x.urn.0,
                        need: x.need.to_string(),
                        designations: x.designations.iter().map(|d| d.to_string()).collect(),
                        tier: x.tier,
                        days,
                        status: RS::Open,
                    },
                );
                Expect::Applied
            }
            Command::AmendRequest(x) => {
                let id = x.request.as_str();
                let r = match self.request_open(id) {
                    Ok(r) => r.clone(),
                    Err(e) => return e,
                };
                let mut days = r.days.clone();
                if let Some(new) = &x.days {
                    let new = days_of(new);
                    let mut open = BTreeMap::new();
                    for (period, d) in &new {
                        let was = r.days.get(period).copied().unwrap_or(0);
                        if self.cal.get(period).is_some() && self.cal.ended(period, today) {
                            if *d != was {
                                return no(RejectionCode::PeriodEnded, format!("days.{period}"));
                            }
                        } else {
                            open.insert(period.clone(), *d);
                        }
                    }
                    if new.is_empty() || !open.is_empty() {
                        check!(self.check_days("days", &open, today, true));
                    }
                    for (period, d) in &open {
                        if *d < self.held_request(id, period) {
                            return no(RejectionCode::BelowAccepted, format!("days.{period}"));
                        }
                        if *d == 0 {
                            days.remove(period);
                        } else {
                            days.insert(period.clone(), *d);
                        }
                    }
                    if days.is_empty() {
                        return no(RejectionCode::Invalid, "days");
                    }
                }
                let need = x.need.as_ref().map_or(r.need.clone(), |n| n.to_string());
                if x.need.is_some() {
                    let phase = self.schools.get(&r.urn).map(|s| s.phase);
                    check!(self.need_checks(&need, phase));
                }
                let tier = x.tier.unwrap_or(r.tier);
                if need == r.need && tier == r.tier && days == r.days {
                    return Expect::Unchanged;
                }
                let r = self.requests.get_mut(id).expect("known");
                r.need = need;
                r.tier = tier;
                r.days = days;
                Expect::Applied
            }
            Command::WithdrawRequest(x) => {
                if let Err(e) = self.request_open(x.request.as_str()) {
                    return e;
                }
                self.requests.get_mut(x.request.as_str()).expect("known").status = RS::Withdrawn;
                Expect::Applied
            }
            Command::CloseRequest(x) => {
                if let Err(e) = self.request_open(x.request.as_str()) {
                    return e;
                }
                self.requests.get_mut(x.request.as_str()).expect("known").status = RS::Closed;
                Expect::Applied
            }
            Command::ProposeAssignment(x) => {
                let (rid, pid) = (x.request.as_str(), x.practitioner.as_str());
                let r = match self.request_open(rid) {
                    Ok(r) => r,
                    Err(e) => return e,
                };
                if self.schools.get(&r.urn).is_some_and(|s| s.closed) {
                    return no(RejectionCode::SchoolClosed, "request");
                }
                let p = match self.practitioner_active(pid) {
                    Ok(p) => p,
                    Err(e) => return e,
                };
                let days = days_of(&x.days);
                check!(self.check_days("days", &days, today, false));
                for (period, d) in &days {
                    if self.held_request(rid, period) + d > r.days.get(period).copied().unwrap_or(0)
                    {
                        return no(RejectionCode::BeyondAssigned, format!("days.{period}"));
                    }
                }
                if self.ineligible(r, p, &days) {
                    return no(RejectionCode::Ineligible, "practitioner");
                }
                if self.declined(rid, pid) {
                    return no(RejectionCode::Excluded, "practitioner");
                }
                if self
                    .assignments
                    .values()
                    .any(|a| a.request == rid && a.holds() && a.practitioner != pid)
                {
                    return no(RejectionCode::Ineligible, "practitioner");
                }
                check!(self.capacity(p, &days, &|period| self.held(pid, period)));
                let id = match &x.assignment {
                    Some(a) => {
                        if !token(a.as_str(), 64) {
                            return no(RejectionCode::Invalid, "assignment");
                        }
                        if self.assignments.contains_key(a.as_str()) {
                            return no(RejectionCode::Duplicate, "assignment");
                        }
                        a.to_string()
                    }
                    None => (1..)
                        .map(|n| format!("{rid}-h{n}"))
                        .find(|a| !self.assignments.contains_key(a))
                        .unwrap_or_default(),
                };
                let answer_by = self.cal.answer_by(today, 5);
                self.assignments.insert(
                    id,
                    MAssignment {
                        request: rid.to_owned(),
                        practitioner: pid.to_owned(),
                        days,
                        status: AS::Proposed,
                        answer_by,
                        accepted_on: None,
                        first_contact: None,
                        visits: BTreeMap::new(),
                    },
                );
                Expect::Applied
            }
            Command::AcceptAssignment(x) => {
                let a = match self.awaiting(x.assignment.as_str(), today) {
                    Ok(a) => a,
                    Err(e) => return e,
                };
                if let Err(e) = self.request_open(&a.request) {
                    return e;
                }
                let p = match self.practitioner_active(&a.practitioner) {
                    Ok(p) => p,
                    Err(e) => return e,
                };
                check!(self.capacity(p, &a.days, &|period| self.accepted(&a.practitioner, period)));
                let a = self.assignments.get_mut(x.assignment.as_str()).expect("known");
                a.status = AS::Accepted;
                a.accepted_on = Some(today);
                Expect::Applied
            }
            Command::DeclineAssignment(x) => {
                let a = match self.awaiting(x.assignment.as_str(), today) {
                    Ok(a) => a,
                    Err(e) => return e,
                };
                if x.note.is_some()
                    && self.practitioners.get(&a.practitioner).is_none_or(|p| p.erased)
                {
                    return no(RejectionCode::PersonalDataErased, "note");
                }
                self.assignments.get_mut(x.assignment.as_str()).expect("known").status =
                    AS::Declined;
                Expect::Applied
            }
            Command::ExpireAssignment(x) => {
                let a = match self.counted(x.assignment.as_str()) {
                    Ok(a) => a,
                    Err(e) => return e,
                };
                match a.status {
                    AS::Proposed if a.answer_by < today => {}
                    AS::Proposed => return no(RejectionCode::WrongState, "assignment"),
                    s => return Self::not_awaiting(s),
                }
                self.assignments.get_mut(x.assignment.as_str()).expect("known").status =
                    AS::Expired;
                Expect::Applied
            }
            Command::WithdrawAssignment(x) => {
                let a = match self.counted(x.assignment.as_str()) {
                    Ok(a) => a,
                    Err(e) => return e,
                };
                if !matches!(a.status, AS::Proposed | AS::Accepted) {
                    return Self::not_awaiting(a.status);
                }
                self.assignments.get_mut(x.assignment.as_str()).expect("known").status =
                    AS::Withdrawn;
                Expect::Applied
            }
            Command::RecordFirstContact(x) => {
                let a = match self.accepted_one(x.assignment.as_str()) {
                    Ok(a) => a,
                    Err(e) => return e,
                };
                if a.first_contact.is_some() {
                    return no(RejectionCode::WrongState, "assignment");
                }
                if x.on > today {
                    return no(RejectionCode::InFuture, "on");
                }
                if a.accepted_on.is_some_and(|d| x.on < d) {
                    return no(RejectionCode::Invalid, "on");
                }
                self.assignments.get_mut(x.assignment.as_str()).expect("known").first_contact =
                    Some(x.on);
                Expect::Applied
            }
            Command::RecordVisit(x) => {
                let a = match self.accepted_one(x.assignment.as_str()) {
                    Ok(a) => a,
                    Err(e) => return e,
                };
                let v = Self::next_visit(a);
                check!(self.check_visit(a, None, x.on, x.half_days, true, true, today));
                let a = self.assignments.get_mut(x.assignment.as_str()).expect("known");
                a.visits.insert(
                    v,
                    MVisit {
                        on: x.on,
                        half_days: x.half_days,
                        status: VS::Recorded,
                        confirmed: false,
                    },
                );
                Expect::Applied
            }
            Command::CorrectVisit(x) => {
                let a = match self.counted(x.assignment.as_str()) {
                    Ok(a) => a,
                    Err(e) => return e,
                };
                if let Err(e) = self.recorded_visit(a, x.visit.as_str()) {
                    return e;
                }
                check!(self.check_visit(
                    a,
                    Some(x.visit.as_str()),
                    x.on,
                    x.half_days,
                    true,
                    true,
                    today
                ));
                let v = self
                    .assignments
                    .get_mut(x.assignment.as_str())
                    .and_then(|a| a.visits.get_mut(x.visit.as_str()))
                    .expect("known");
                v.on = x.on;
                v.half_days = x.half_days;
                Expect::Applied
            }
            Command::VoidVisit(x) => {
                let a = match self.counted(x.assignment.as_str()) {
                    Ok(a) => a,
                    Err(e) => return e,
                };
                if let Err(e) = self.recorded_visit(a, x.visit.as_str()) {
                    return e;
                }
                self.assignments
                    .get_mut(x.assignment.as_str())
                    .and_then(|a| a.visits.get_mut(x.visit.as_str()))
                    .expect("known")
                    .status = VS::Voided;
                Expect::Applied
            }
            Command::CancelVisit(x) => {
                let a = match self.accepted_one(x.assignment.as_str()) {
                    Ok(a) => a,
                    Err(e) => return e,
                };
                let v = Self::next_visit(a);
                check!(self.check_visit(a, None, x.on, x.half_days, x.no_show, x.charged, today));
                let a = self.assignments.get_mut(x.assignment.as_str()).expect("known");
                a.visits.insert(
                    v,
                    MVisit {
                        on: x.on,
                        half_days: x.half_days,
                        status: VS::Cancelled { no_show: x.no_show, charged: x.charged },
                        confirmed: false,
                    },
                );
                Expect::Applied
            }
            Command::ConfirmVisit(x) => {
                let a = match self.counted(x.assignment.as_str()) {
                    Ok(a) => a,
                    Err(e) => return e,
                };
                match self.recorded_visit(a, x.visit.as_str()) {
                    Ok(v) if v.confirmed => return no(RejectionCode::WrongState, "visit"),
                    Ok(_) => {}
                    Err(e) => return e,
                }
                self.assignments
                    .get_mut(x.assignment.as_str())
                    .and_then(|a| a.visits.get_mut(x.visit.as_str()))
                    .expect("known")
                    .confirmed = true;
                Expect::Applied
            }
            Command::CompleteAssignment(x) => {
                if let Err(e) = self.accepted_one(x.assignment.as_str()) {
                    return e;
                }
                self.assignments.get_mut(x.assignment.as_str()).expect("known").status =
                    AS::Completed;
                Expect::Applied
            }
            Command::RecordRun(x) => {
                let run = x.run.as_str();
                if self.runs.iter().any(|r| r == run) {
                    return no(RejectionCode::Duplicate, "run");
                }
                self.record_run(run, &x.plan, today);
                self.runs.push(run.to_owned());
                Expect::Applied
            }
            Command::DiscardRun(x) => {
                if self.runs.iter().any(|r| r == x.run.as_str()) {
                    no(RejectionCode::WrongState, "run")
                } else {
                    no(RejectionCode::UnknownRun, "run")
                }
            }
            Command::SetBudget(x) => {
                if !YEARS[..2].contains(&x.year.as_str()) {
                    return no(RejectionCode::NotConfigured, "year");
                }
                if x.amount_pence > 10_000_000_000 {
                    return no(RejectionCode::Invalid, "amount_pence");
                }
                Expect::Applied
            }
            Command::SetBrokerageFee(x) => {
                if !YEARS[..2].contains(&x.year.as_str()) {
                    return no(RejectionCode::NotConfigured, "year");
                }
                if x.basis_points > 5_000 {
                    return no(RejectionCode::Invalid, "basis_points");
                }
                Expect::Applied
            }
            // Rounds are not part of this model (domain_round.rs and
            // rounds.rs test them); it never generates their commands.
            other => panic!("the model generates no {} command", other.name()),
        }
    }

    fn record_checks(&self, title: &str, home: u32) -> R {
        if !configured_title(title) {
            return fail(RejectionCode::NotConfigured, "title");
        }
        self.school_open("home_urn", home).map(|_| ())
    }

    fn need_checks(&self, need: &str, phase: Option<Phase>) -> R {
        if !configured_need(need) {
            return fail(RejectionCode::NotConfigured, "need");
        }
        if phase.is_some_and(|p| !fits(need, p)) {
            return fail(RejectionCode::PhaseMismatch, "need");
        }
        Ok(())
    }

    /// A run's record: each planned assignment becomes a proposal of the
    /// days it adds (in half-terms not ended), if it still holds then.
    fn record_run(&mut self, run: &str, plan: &BrokeragePlan, today: NaiveDate) {
        // Each proposal goes into the model at once, so the later ones of
        // the same record see it like any other held days; what a planned
        // pair already holds (its pins) is read from before the record.
        let before = self.assignments.clone();
        let mut n = 0;
        for planned in &plan.assignments {
            let (rid, pid) = (planned.request.to_string(), planned.practitioner.to_string());
            let held_pair = |period: &str| -> u32 {
                before
                    .values()
                    .filter(|a| a.request == rid && a.practitioner == pid && a.holds())
                    .map(|a| a.days.get(period).copied().unwrap_or(0))
                    .sum()
            };
            let new: BTreeMap<String, u32> = days_of(&planned.days)
                .into_iter()
                .filter(|(k, _)| !self.cal.ended(k, today))
                .map(|(k, d)| {
                    let h = held_pair(&k);
                    (k, d.saturating_sub(h))
                })
                .filter(|(_, d)| *d > 0)
                .collect();
            if new.is_empty() {
                continue;
            }
            let Some(r) = self.requests.get(&rid) else { continue };
            if r.status != RS::Open || self.schools.get(&r.urn).is_none_or(|s| s.closed) {
                continue;
            }
            let Some(p) = self.practitioners.get(&pid) else { continue };
            if p.withdrawn || p.erased || self.declined(&rid, &pid) || self.ineligible(r, p, &new) {
                continue;
            }
            let other = self
                .assignments
                .values()
                .any(|a| a.request == rid && a.holds() && a.practitioner != pid);
            if other {
                continue;
            }
            let over = new
                .iter()
                .any(|(k, d)| self.held_request(&rid, k) + d > r.days.get(k).copied().unwrap_or(0));
            if over {
                continue;
            }
            if self.capacity(p, &new, &|k| self.held(&pid, k)).is_err() {
                continue;
            }
            let id = loop {
                n += 1;
                let id = format!("{run}-a{n}");
                if !self.assignments.contains_key(&id) {
                    break id;
                }
            };
            let answer_by = self.cal.answer_by(today, 5);
            self.assignments.insert(
                id,
                MAssignment {
                    request: rid,
                    practitioner: pid,
                    days: new,
                    status: AS::Proposed,
                    answer_by,
                    accepted_on: None,
                    first_contact: None,
                    visits: BTreeMap::new(),
                },
            );
        }
    }
}

// --- commands from ops ----------------------------------------------------------

fn pick<'a>(pool: &[&'a str], i: u8) -> &'a str {
    pool[usize::from(i) % pool.len()]
}

fn day_map(list: &DayList) -> bridges_schemas::events::DaysPerPeriod {
    list.iter().map(|(p, d)| (period(pick(&PERIODS, *p)), u32::from(*d))).collect()
}

/// Mostly one the model knows (`i` below 200), else one of the pool (new,
/// unknown or malformed).
fn choose(known: Vec<String>, pool: &[&str], i: u8) -> String {
    if i < 200 && !known.is_empty() {
        known[usize::from(i) % known.len()].clone()
    } else {
        pick(pool, i).to_owned()
    }
}

fn school_sel(m: &Model, i: u8) -> u32 {
    let known: Vec<String> = m.schools.keys().map(|u| u.to_string()).collect();
    let pool: Vec<String> = URNS.iter().map(|u| u.to_string()).collect();
    let pool: Vec<&str> = pool.iter().map(String::as_str).collect();
    choose(known, &pool, i).parse().expect("a urn")
}

fn practitioner_sel(m: &Model, i: u8) -> String {
    choose(m.practitioners.keys().cloned().collect(), &PRACTITIONERS, i)
}

fn request_sel(m: &Model, i: u8) -> String {
    choose(m.requests.keys().cloned().collect(), &REQUESTS, i)
}

/// Days on request `r`: mostly in half-terms it asks for that have not ended.
fn days_for(
    m: &Model,
    r: &str,
    list: &DayList,
    today: NaiveDate,
) -> bridges_schemas::events::DaysPerPeriod {
    let asked: Vec<String> = m
        .requests
        .get(r)
        .map(|x| x.days.keys().filter(|k| !m.cal.ended(k, today)).cloned().collect())
        .unwrap_or_default();
    list.iter()
        .map(|(p, d)| {
            let label = if *p < 160 && !asked.is_empty() {
                asked[usize::from(*p) % asked.len()].clone()
            } else {
                pick(&PERIODS, *p).to_owned()
            };
            (period(&label), u32::from(*d))
        })
        .collect()
}

/// A practitioner for request `r`: mostly (`i` below 128) one the model
/// finds eligible, else as `practitioner_sel`.
fn practitioner_for(m: &Model, r: &str, i: u8) -> String {
    let eligible: Vec<String> = match m.requests.get(r) {
        Some(req) => m
            .practitioners
            .iter()
            .filter(|(_, p)| !p.withdrawn && !p.erased && !m.ineligible(req, p, &req.days))
            .map(|(id, _)| id.clone())
            .collect(),
        None => Vec::new(),
    };
    if i < 128 && !eligible.is_empty() {
        return eligible[usize::from(i) % eligible.len()].clone();
    }
    practitioner_sel(m, i)
}

/// Mostly (`i` below 6) one of the assignments in a state an op makes
/// sense in, else any assignment or an unknown id.
fn assignment_in(m: &Model, i: u8, fits: impl Fn(&MAssignment) -> bool) -> String {
    let ids: Vec<&String> =
        m.assignments.iter().filter(|(_, a)| fits(a)).map(|(id, _)| id).collect();
    if i < 6 && !ids.is_empty() {
        return ids[usize::from(i) % ids.len()].clone();
    }
    assignment_of(m, i)
}

fn proposed(m: &Model, i: u8) -> String {
    assignment_in(m, i, |a| a.status == AS::Proposed)
}

fn accepted(m: &Model, i: u8) -> String {
    assignment_in(m, i, |a| a.status == AS::Accepted)
}

fn visited(m: &Model, i: u8) -> String {
    assignment_in(m, i, |a| !a.visits.is_empty())
}

/// The `i`th assignment the model knows (in id order), or an unknown id.
fn assignment_of(m: &Model, i: u8) -> String {
    let ids: Vec<&String> = m.assignments.keys().collect();
    let k = usize::from(i) % (ids.len() + 1);
    ids.get(k).map_or_else(|| "a-none".to_owned(), |s| (*s).clone())
}

fn visit_of(m: &Model, a: &str, i: u8) -> String {
    let ids: Vec<String> =
        m.assignments.get(a).map(|x| x.visits.keys().cloned().collect()).unwrap_or_default();
    ids.get(usize::from(i)).cloned().unwrap_or_else(|| "v9".to_owned())
}

fn designate_cmd(id: &str, home: u32, t: &str) -> Command {
    let (specialisms, phases) = practitioner_of(id);
    Command::DesignatePractitioner(DesignatePractitioner {
        practitioner: pid(id),
        title: title(t),
        home_urn: Urn(home),
        specialisms: specialisms.into_iter().map(need).collect(),
        phases,
        day_rate: None,
        name: format!("Person {id}"),
        email: None,
        phone: None,
    })
}

fn register_cmd(urn: u32) -> Command {
    let (phase, trust) = school_of(urn);
    Command::RegisterSchool(RegisterSchool {
        urn: Urn(urn),
        name: format!("School {urn}"),
        la_code: LA,
        phase,
        trust: trust.map(str::to_owned),
        easting: 507_000.0 + f64::from(urn % 100) * 100.0,
        northing: 182_000.0,
        pupils: Some(300),
        postcode: None,
    })
}

fn raise_cmd(
    id: &str,
    urn: u32,
    n: &str,
    designations: &[&str],
    days: bridges_schemas::events::DaysPerPeriod,
) -> Command {
    Command::RaiseRequest(RaiseRequest {
        request: rid(id),
        urn: Urn(urn),
        need: need(n),
        designations: designations.iter().map(|d| title(d)).collect(),
        tier: TierChoice::Tier2,
        days,
        funding: FundingSource::LaCore,
        purchase_order: None,
    })
}

fn tier_of(t: u8) -> TierChoice {
    TierChoice::of(t).unwrap_or(TierChoice::Follow)
}

fn plan_of(m: &Model, entries: &[(u8, u8, DayList)], today: NaiveDate) -> BrokeragePlan {
    BrokeragePlan {
        assignments: entries
            .iter()
            .map(|(r, p, d)| {
                let r = request_sel(m, *r);
                PlanAssignment {
                    days: days_for(m, &r, d, today),
                    practitioner: pid(&practitioner_for(m, &r, *p)),
                    request: rid(&r),
                }
            })
            .collect(),
        unmet: vec![],
        coverage: [0; 4],
        tiers: Vec::new(),
        status: SolveStatus::Optimal,
        objective: 0.0,
        bound: 0.0,
        gap: 0.0,
        problem_sha256: "0".repeat(64),
        solver: SolverInfo {
            name: "highs".into(),
            version: "1".into(),
            options: Default::default(),
        },
        seconds: 0.0,
        cost: 0.0,
        infeasibility: None,
    }
}

/// The command an op stands for, given the model's state (for indices) and
/// the time; `None` for ops that are not commands.
fn command(op: &Op, m: &Model, today: NaiveDate, step: usize) -> Option<Command> {
    let urn = |i: u8| school_sel(m, i);
    let practitioner = |i: u8| practitioner_sel(m, i);
    let request = |i: u8| request_sel(m, i);
    let practitioner = &practitioner;
    let request = &request;
    Some(match op {
        Op::Advance(_) | Op::Jump(_) | Op::Reopen(_) => return None,
        Op::Register(s) => register_cmd(URNS[usize::from(*s) % URNS.len()]),
        Op::ChangeSchool(s, v) => {
            let u = urn(*s);
            let (phase0, trust0) = school_of(u);
            let (mut name, mut phase, mut trust) = m
                .schools
                .get(&u)
                .map(|x| (x.name.clone(), x.phase, x.trust.clone()))
                .unwrap_or((format!("School {u}"), phase0, trust0.map(str::to_owned)));
            match v {
                1 => name = format!("{name} Academy"),
                2 => trust = Some(String::new()),
                3 => trust = if trust.is_some() { None } else { Some(HLT.to_owned()) },
                4 => phase = if phase == Primary { Secondary } else { Primary },
                _ => {}
            }
            Command::ChangeSchool(ChangeSchool {
                urn: Urn(u),
                name,
                phase,
                trust,
                easting: 507_000.0 + f64::from(u % 100) * 100.0,
                northing: 182_000.0,
                pupils: Some(300),
                postcode: None,
            })
        }
        Op::CloseSchool(s) => Command::CloseSchool(CloseSchool {
            urn: Urn(urn(*s)),
            closed_on: None,
            reason: "closed".into(),
        }),
        Op::Inspection(s, g) => Command::RecordInspection(RecordInspection {
            urn: Urn(urn(*s)),
            outcome: InspectionOutcome::Overall {
                published: None,
                overall: [
                    Ofsted::Good,
                    Ofsted::RequiresImprovement,
                    Ofsted::Inadequate,
                    Ofsted::Good,
                ][usize::from(*g) % 4],
            },
            source: if *g == 3 { "xls".into() } else { "csv".into() },
        }),
        Op::AssessRisk(s, t, rule) => Command::AssessRisk(AssessRisk {
            urn: Urn(urn(*s)),
            tier: if *t == 0 { None } else { Some(*t) },
            reason: "assessed".into(),
            source: if *rule { RiskSource::InspectionRule } else { RiskSource::La },
        }),
        Op::Designate(p, h, t) => {
            designate_cmd(pick(&PRACTITIONERS, *p), urn(*h), pick(&TITLES, *t))
        }
        Op::ChangePractitioner(p, v, h) => {
            let id = practitioner(*p);
            let id = id.as_str();
            let (specialisms0, phases0) = practitioner_of(id);
            let known = m.practitioners.get(id);
            let mut t = known.map_or("SLE".to_owned(), |x| x.title.clone());
            let mut home = known.map_or(100003, |x| x.home);
            let mut specialisms: Vec<String> = known
                .map_or(specialisms0.iter().map(|s| s.to_string()).collect(), |x| {
                    x.specialisms.clone()
                });
            let phases = known.map_or(phases0, |x| x.phases.clone());
            let mut name = known.map_or(format!("Person {id}"), |x| x.name.clone());
            match v {
                1 => name = format!("{name} Jr"),
                2 => {
                    specialisms = if specialisms.len() > 1 {
                        specialisms[..1].to_vec()
                    } else {
                        practitioner_of(id).0.iter().map(|s| s.to_string()).collect()
                    }
                }
                3 => t = "Guru".into(),
                4 => home = urn(*h),
                _ => {}
            }
            Command::ChangePractitioner(ChangePractitioner {
                practitioner: pid(id),
                title: title(&t),
                home_urn: Urn(home),
                specialisms: specialisms.iter().map(|s| need(s)).collect(),
                phases,
                day_rate: None,
                name,
                email: None,
                phone: None,
            })
        }
        Op::Availability(p, d, max) => Command::DeclareAvailability(DeclareAvailability {
            practitioner: pid(&practitioner(*p)),
            capacity: day_map(d),
            max_days: max.map(u32::from),
        }),
        Op::Leave(p, from, len) => {
            let from = today + Days::new(u64::from(*from));
            let len = if *len == 11 { 400 } else { i64::from(*len) };
            Command::RecordLeave(RecordLeave {
                practitioner: pid(&practitioner(*p)),
                from,
                to: from + Duration::days(len),
                note: None,
            })
        }
        Op::Conflict(p, target, from, len) => {
            let from = today + Duration::days(i64::from(*from));
            let (u, trust) = match target % 10 {
                0..=6 => (Some(Urn(urn(*target))), None),
                7 => (None, Some(HLT.to_owned())),
                8 => (Some(Urn(100001)), Some(HLT.to_owned())),
                _ => (None, None),
            };
            Command::DeclareConflict(DeclareConflict {
                practitioner: pid(&practitioner(*p)),
                urn: u,
                trust,
                kind: ConflictKind::Governor,
                valid_from: Some(from),
                valid_to: if *len > 140 {
                    None
                } else {
                    Some(from + Duration::days(i64::from(*len)))
                },
            })
        }
        Op::WithdrawConflict(p, c) => Command::WithdrawConflict(WithdrawConflict {
            practitioner: pid(&practitioner(*p)),
            conflict: ConflictId(pick(&CONFLICTS, *c).to_owned()),
        }),
        Op::WithdrawPractitioner(p) => Command::WithdrawPractitioner(WithdrawPractitioner {
            practitioner: pid(&practitioner(*p)),
            reason: "moved on".into(),
        }),
        Op::Erase(p) => {
            Command::ErasePractitioner(ErasePractitioner { practitioner: pid(&practitioner(*p)) })
        }
        Op::Raise(r, s, n, des, d, t) => {
            let designations: &[&str] = match des {
                0..=2 => &["SLE", "LLE", "NLE"],
                3 => &["SLE"],
                4 => &["NLE"],
                _ => &["Guru"],
            };
            let mut c = raise_cmd(
                pick(&REQUESTS, *r),
                urn(*s),
                NEEDS[[0, 0, 0, 1, 1, 2, 3, 0][usize::from(*n) % 8]],
                designations,
                day_map(d),
            );
            if let Command::RaiseRequest(x) = &mut c {
                x.tier = tier_of(*t);
            }
            c
        }
        Op::Amend(r, d, t, n) => Command::AmendRequest(AmendRequest {
            request: rid(&request(*r)),
            need: n.map(|n| need(pick(&NEEDS, n))),
            designations: None,
            tier: t.map(tier_of),
            days: d.as_ref().map(day_map),
            funding: None,
            purchase_order: None,
        }),
        Op::WithdrawRequest(r) => Command::WithdrawRequest(WithdrawRequest {
            request: rid(&request(*r)),
            reason: "no longer needed".into(),
        }),
        Op::CloseRequest(r, note) => Command::CloseRequest(CloseRequest {
            request: rid(&request(*r)),
            impact: ImpactRating::Moderate,
            note: note.then(|| "better".to_owned()),
        }),
        Op::Propose(r, p, d, i) => {
            let r = request(*r);
            Command::ProposeAssignment(ProposeAssignment {
                assignment: match i {
                    5 => Some(aid("a-x0")),
                    6 => Some(aid("a-x1")),
                    7 => Some(aid("bad id")),
                    _ => None,
                },
                days: days_for(m, &r, d, today),
                practitioner: pid(&practitioner_for(m, &r, *p)),
                request: rid(&r),
            })
        }
        Op::Accept(a) => {
            Command::AcceptAssignment(AcceptAssignment { assignment: aid(&proposed(m, *a)) })
        }
        Op::Decline(a, note) => Command::DeclineAssignment(DeclineAssignment {
            assignment: aid(&proposed(m, *a)),
            reason: DeclineReason::Other,
            note: note.then(|| "busy".to_owned()),
        }),
        Op::Expire(a) => {
            Command::ExpireAssignment(ExpireAssignment { assignment: aid(&proposed(m, *a)) })
        }
        Op::WithdrawAssignment(a) => Command::WithdrawAssignment(WithdrawAssignment {
            assignment: aid(&assignment_of(m, *a)),
            reason: "not needed".into(),
        }),
        Op::FirstContact(a, back) => Command::RecordFirstContact(RecordFirstContact {
            assignment: aid(&accepted(m, *a)),
            on: today - Duration::days(i64::from(*back)),
            note: None,
        }),
        Op::RecordVisit(a, back, h) => Command::RecordVisit(RecordVisit {
            assignment: aid(&accepted(m, *a)),
            visit: None,
            on: today - Duration::days(i64::from(*back)),
            half_days: u32::from(*h),
            note: None,
        }),
        Op::CorrectVisit(a, v, back, h) => {
            let a = visited(m, *a);
            Command::CorrectVisit(CorrectVisit {
                visit: vid(&visit_of(m, &a, *v)),
                assignment: aid(&a),
                on: today - Duration::days(i64::from(*back)),
                half_days: u32::from(*h),
                note: None,
            })
        }
        Op::VoidVisit(a, v) => {
            let a = visited(m, *a);
            Command::VoidVisit(VoidVisit {
                visit: vid(&visit_of(m, &a, *v)),
                assignment: aid(&a),
                reason: "wrong".into(),
            })
        }
        Op::CancelVisit(a, off, h, no_show, charged) => Command::CancelVisit(CancelVisit {
            assignment: aid(&accepted(m, *a)),
            visit: None,
            on: today + Duration::days(i64::from(*off)),
            half_days: u32::from(*h),
            no_show: *no_show,
            charged: *charged,
        }),
        Op::ConfirmVisit(a, v) => {
            let a = visited(m, *a);
            Command::ConfirmVisit(ConfirmVisit {
                visit: vid(&visit_of(m, &a, *v)),
                assignment: aid(&a),
            })
        }
        Op::Complete(a) => {
            Command::CompleteAssignment(CompleteAssignment { assignment: aid(&accepted(m, *a)) })
        }
        Op::RecordRun(entries, dup) => {
            let run = match (dup, m.runs.last()) {
                (true, Some(r)) => r.clone(),
                _ => format!("run-{step}"),
            };
            Command::RecordRun(Box::new(RecordRun {
                run: RunId(run),
                as_of_position: 0,
                problem_sha256: "0".repeat(64),
                periods: vec![period("2026-AU1")],
                trigger: RunTrigger::Scheduled,
                plan: plan_of(m, entries, today),
                greedy_coverage: [0; 4],
                requested: [0; 4],
            }))
        }
        Op::DiscardRun(k) => Command::DiscardRun(DiscardRun {
            run: RunId(m.runs.get(usize::from(*k)).cloned().unwrap_or_else(|| "run-none".into())),
            reason: "crash".into(),
        }),
        Op::SetBudget(y, big) => Command::SetBudget(SetBudget {
            year: year(pick(&YEARS, *y)),
            funding: FundingSource::LaCore,
            amount_pence: if *big { 10_000_000_001 } else { 5_000_000 },
        }),
        Op::SetFee(y, bp) => Command::SetBrokerageFee(SetBrokerageFee {
            year: year(pick(&YEARS, *y)),
            basis_points: u32::from(*bp),
        }),
    })
}

/// The LA every sequence starts from.
fn preamble() -> Vec<Command> {
    let mut v: Vec<Command> =
        [100001, 100002, 100003, 100004].into_iter().map(register_cmd).collect();
    v.push(designate_cmd("p-0", 100003, "SLE"));
    v.push(designate_cmd("p-1", 100002, "LLE"));
    v.push(designate_cmd("p-2", 100004, "SLE"));
    let avail = |p: &str, d: &[(&str, u32)], max| {
        Command::DeclareAvailability(DeclareAvailability {
            practitioner: pid(p),
            capacity: days(d),
            max_days: max,
        })
    };
    v.push(avail("p-0", &[("2026-AU1", 3), ("2026-AU2", 3), ("2027-SP1", 2)], Some(6)));
    v.push(avail("p-1", &[("2026-AU1", 2), ("2026-AU2", 2)], None));
    v.push(avail("p-2", &[("2026-AU1", 2), ("2027-SP1", 2)], None));
    v.push(raise_cmd(
        "req-0",
        100001,
        "maths",
        &["SLE", "LLE", "NLE"],
        days(&[("2026-AU1", 2), ("2026-AU2", 1)]),
    ));
    v.push(raise_cmd(
        "req-1",
        100003,
        "english",
        &["SLE"],
        days(&[("2026-AU1", 1), ("2026-AU2", 1)]),
    ));
    v.push(raise_cmd(
        "req-2",
        100004,
        "maths",
        &["SLE", "LLE"],
        days(&[("2026-AU1", 2), ("2026-AU2", 2), ("2027-SP1", 1)]),
    ));
    v.push(raise_cmd("req-3", 100002, "english", &["SLE", "NLE"], days(&[("2026-AU2", 2)])));
    v
}

// --- the views compared ---------------------------------------------------------

/// Request, practitioner, days, status, answer-by date, first contact.
type AssignmentView =
    (String, String, BTreeMap<String, u32>, AS, Option<NaiveDate>, Option<NaiveDate>);

#[derive(Debug, PartialEq, Eq)]
struct View {
    schools: BTreeMap<u32, (bool, Option<u8>, Phase, Option<String>)>,
    practitioners: BTreeMap<String, (bool, bool, BTreeMap<String, u32>, usize)>,
    requests: BTreeMap<String, (RS, BTreeMap<String, u32>)>,
    assignments: BTreeMap<String, AssignmentView>,
    visits: BTreeMap<(String, String), MVisit>,
    held: BTreeMap<(String, String), u32>,
}

fn model_view(m: &Model) -> View {
    let mut held = BTreeMap::new();
    for p in m.practitioners.keys() {
        for period in PERIODS {
            let h = m.held(p, period);
            if h > 0 {
                held.insert((p.clone(), period.to_owned()), h);
            }
        }
    }
    View {
        schools: m
            .schools
            .iter()
            .map(|(u, s)| (*u, (s.closed, s.risk.and_then(|(t, _)| t), s.phase, s.trust.clone())))
            .collect(),
        practitioners: m
            .practitioners
            .iter()
            .map(|(id, p)| {
                (id.clone(), (p.withdrawn, p.erased, p.capacity.clone(), p.conflicts.len()))
            })
            .collect(),
        requests: m
            .requests
            .iter()
            .map(|(id, r)| (id.clone(), (r.status, r.days.clone())))
            .collect(),
        assignments: m
            .assignments
            .iter()
            .map(|(id, a)| {
                (
                    id.clone(),
                    (
                        a.request.clone(),
                        a.practitioner.clone(),
                        a.days.clone(),
                        a.status,
                        Some(a.answer_by),
                        a.first_contact,
                    ),
                )
            })
            .collect(),
        visits: m
            .assignments
            .iter()
            .flat_map(|(id, a)| {
                a.visits.iter().map(move |(v, x)| ((id.clone(), v.clone()), x.clone()))
            })
            .collect(),
        held,
    }
}

fn engine_view(s: &State) -> View {
    let mut held = BTreeMap::new();
    for p in s.practitioners.keys() {
        for period in PERIODS {
            let h = s.held_days(p, &bridges_schemas::Period::from(period));
            if h > 0 {
                held.insert((p.to_string(), period.to_owned()), h);
            }
        }
    }
    let status = |a: AssignmentStatus| match a {
        AssignmentStatus::Proposed => AS::Proposed,
        AssignmentStatus::Accepted => AS::Accepted,
        AssignmentStatus::Declined(_) => AS::Declined,
        AssignmentStatus::Expired => AS::Expired,
        AssignmentStatus::Withdrawn => AS::Withdrawn,
        AssignmentStatus::Completed => AS::Completed,
    };
    View {
        schools: s
            .schools
            .iter()
            .map(|(u, x)| {
                (u.0, (x.closed, x.risk.as_ref().and_then(|r| r.tier), x.phase, x.trust.clone()))
            })
            .collect(),
        practitioners: s
            .practitioners
            .iter()
            .map(|(id, p)| {
                let cap = p.capacity.iter().map(|(k, v)| (k.to_string(), *v)).collect();
                (id.to_string(), (p.withdrawn, p.erased, cap, p.conflicts.len()))
            })
            .collect(),
        requests: s
            .requests
            .iter()
            .map(|(id, r)| {
                let st = match r.status {
                    RequestStatus::Open => RS::Open,
                    RequestStatus::Withdrawn => RS::Withdrawn,
                    RequestStatus::Closed(_) => RS::Closed,
                };
                (id.to_string(), (st, r.days.iter().map(|(k, v)| (k.to_string(), *v)).collect()))
            })
            .collect(),
        assignments: s
            .assignments
            .iter()
            .map(|(id, a)| {
                (
                    id.to_string(),
                    (
                        a.request.to_string(),
                        a.practitioner.to_string(),
                        a.days.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                        status(a.status),
                        a.answer_by,
                        a.first_contact,
                    ),
                )
            })
            .collect(),
        visits: s
            .assignments
            .iter()
            .flat_map(|(id, a)| {
                a.visits.iter().map(move |(v, x)| {
                    let st = match x.status {
                        VisitStatus::Recorded => VS::Recorded,
                        VisitStatus::Voided => VS::Voided,
                        VisitStatus::Cancelled { no_show, charged } => {
                            VS::Cancelled { no_show, charged }
                        }
                    };
                    (
                        (id.to_string(), v.to_string()),
                        MVisit {
                            on: x.on,
                            half_days: x.half_days,
                            status: st,
                            confirmed: x.confirmed,
                        },
                    )
                })
            })
            .collect(),
        held,
    }
}

fn outcome_of(o: &Outcome) -> Expect {
    match o {
        Outcome::Applied { .. } => Expect::Applied,
        Outcome::Unchanged => Expect::Unchanged,
        Outcome::Rejected(r) => Expect::Rejected(r.code, r.field.clone()),
        Outcome::Duplicate { .. } => panic!("no command id repeats in a sequence: {o:?}"),
    }
}

async fn run_sequence(ops: Vec<Op>) {
    let mut e = TestEngine::new().await;
    let mut m = Model::new();
    let mut now: DateTime<Utc> = t(T0);
    for (i, c) in preamble().into_iter().enumerate() {
        assert_eq!(m.step(&c, now.date_naive()), Expect::Applied, "preamble {i}");
        e.apply(&format!("pre-{i}"), T0, c).await;
    }
    let mut trail: Vec<String> = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Advance(h) => now += Duration::hours(i64::from(*h)),
            Op::Jump(d) => now += Duration::days(i64::from(*d)),
            Op::Reopen(true) => e.reopen().await,
            Op::Reopen(false) => e.reopen_without_checkpoint().await,
            _ => {}
        }
        // The domain's day is London's (a UTC evening in summer is the next
        // day there).
        let today = now.with_timezone(&chrono_tz::Europe::London).date_naive();
        let Some(c) = command(op, &m, today, step) else {
            trail.push(format!("{step}: {op:?}"));
            continue;
        };
        let name = c.name();
        let env = bridges_schemas::commands::CommandEnvelope {
            id: format!("c-{step}"),
            actor: user("broker-1"),
            at: now,
            command: c.clone(),
        };
        let got = outcome_of(&e.engine().handle(&env).await.unwrap_or_else(|err| {
            panic!("step {step} ({name}) failed to be handled: {err}\n{}", trail.join("\n"))
        }));
        let expected = m.step(&c, today);
        trail.push(format!("{step} @ {today}: {op:?} -> {got:?}"));
        assert_eq!(got, expected, "step {step} ({name}, {today}): {c:?}\n{}", trail.join("\n"));
        let live = e.state().await;
        assert_eq!(
            engine_view(&live),
            model_view(&m),
            "after step {step} ({name})\n{}",
            trail.join("\n")
        );
    }
    assert!(e.engine().rebuild_equals_live().await.expect("rebuild"), "{}", trail.join("\n"));
    e.reopen_without_checkpoint().await;
    assert_eq!(engine_view(&e.state().await), model_view(&m), "after a restart");
}

fn cases() -> u32 {
    match std::env::var("BRIDGES_SLOW") {
        // A number above the default is a count; anything else means "many".
        Ok(v) => v.parse().ok().filter(|n| *n > 16).unwrap_or(256),
        Err(_) => 16,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn the_engine_agrees_with_a_naive_model_of_the_domain(ops in proptest::collection::vec(op(), 20..90)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(run_sequence(ops));
    }
}
