//! The read side of `show`, `list` and `sar`: pure functions of the domain
//! state, the events of the streams asked about and a `Sealer` (to open
//! personal data and notes on purpose) to text, or to JSON for the
//! subject-access export. Also the service-level clock ([`clock`],
//! [`match_clock`]): one pure function over the calendar that reports reuse.
//!
//! It is not a projection (nothing here is stored), not a report (no money
//! owed, no CSV) and does no I/O: the shell reads the streams from the log
//! and writes what these functions return. Personal data is opened only in
//! `practitioner_show`, `practitioner_list` (the name alone) and `sar`;
//! notes only in the `show` of the entity they are about and in `sar`;
//! "(erased)" wherever a key is gone.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use bridges_schemas::events::{DaysPerPeriod, DomainEvent, EventMeta, META_KEY};
use bridges_schemas::inspection::{InspectionOutcome, Standing, standing};
use bridges_schemas::vocab::{
    AcademicYearId, AssignmentId, ConflictTarget, PersonalDetails, SYSTEM_USER, Sealed,
};
use bridges_schemas::{PractitionerId, RequestId, Urn};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::domain::calendar::london_date;
use crate::domain::state::{
    Assignment, AssignmentStatus, Practitioner, Request, RequestStatus, VisitStatus,
};
use crate::domain::{Calendar, Rules, Sealer, State};
use crate::log::RecordedEvent;
use crate::planning::tier_of;
use crate::render::money;

/// What a shown sealed value reads as once its key is gone.
pub const ERASED: &str = "(erased)";

// --- service-level clocks ----------------------------------------------------

/// Where a service-level clock stands (DESIGN.md section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockStatus {
    /// Done on or before its due day.
    Met,
    /// Done after its due day, or not done and the due day has passed.
    Late,
    /// Not done yet, and not yet due.
    Open,
}

impl ClockStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockStatus::Met => "met",
            ClockStatus::Late => "late",
            ClockStatus::Open => "open",
        }
    }
}

/// A service-level clock: started on a day, due `within` working days later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub started: NaiveDate,
    /// The last working day on which it is met.
    pub due: NaiveDate,
    pub done: Option<NaiveDate>,
    pub status: ClockStatus,
}

/// The clock started on `started`, due `within` working days later (by the
/// calendar: Monday to Friday less bank holidays; a start on a day off
/// counts from the next working day), done on `done` if it is, as it
/// stands on `today`.
pub fn clock(
    calendar: &Calendar,
    started: NaiveDate,
    within: u32,
    done: Option<NaiveDate>,
    today: NaiveDate,
) -> Clock {
    let due = calendar.add_working_days(started, within);
    let status = match done {
        Some(d) if d <= due => ClockStatus::Met,
        Some(_) => ClockStatus::Late,
        None if today > due => ClockStatus::Late,
        None => ClockStatus::Open,
    };
    Clock { started, due, done, status }
}

/// A request's match clock: from the day it was raised to its first
/// proposal (by a run or by hand), due within `rules.service.match_within`
/// working days. None for an unknown request.
pub fn match_clock(
    state: &State,
    rules: &Rules,
    request: &RequestId,
    today: NaiveDate,
) -> Option<Clock> {
    let r = state.requests.get(request)?;
    let matched = state.assignments_of(request).map(|a| london_date(a.proposed_at)).min();
    Some(clock(
        &rules.calendar,
        london_date(r.raised_at),
        rules.service.match_within,
        matched,
        today,
    ))
}

impl std::fmt::Display for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.status, self.done) {
            (ClockStatus::Met, Some(d)) => write!(f, "met ({d}, due {})", self.due),
            (ClockStatus::Late, Some(d)) => write!(f, "late ({d}, due {})", self.due),
            (ClockStatus::Late, None) => write!(f, "late (not yet, due {})", self.due),
            _ => write!(f, "open (due {})", self.due),
        }
    }
}

// --- requests ------------------------------------------------------------------

/// Which requests `request list` shows; every flag set must hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestFilter {
    /// Neither withdrawn nor closed.
    pub open: bool,
    /// Open, asking for days in the planning half-terms, and no days held
    /// there by any proposal awaiting its answer or accepted assignment.
    pub unmet: bool,
    /// Open, with its match clock late.
    pub late: bool,
}

/// One row of `request list`.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRow {
    pub id: RequestId,
    pub urn: Urn,
    pub school: String,
    pub need: String,
    /// The tier now (a request that follows its school's risk takes it).
    pub tier: u8,
    pub follows: bool,
    pub status: String,
    /// Days asked for in the planning half-terms.
    pub planned: u32,
    /// Of those, days held by proposals awaiting an answer and accepted assignments.
    pub held: u32,
    pub clock: Clock,
}

impl RequestRow {
    fn is_open(&self) -> bool {
        self.status == "open"
    }
}

/// The rows of `request list` at `at`, by request id.
pub fn request_rows(
    state: &State,
    rules: &Rules,
    at: DateTime<Utc>,
    filter: RequestFilter,
) -> Vec<RequestRow> {
    let today = london_date(at);
    let planning: Vec<_> =
        rules.calendar.planning_half_terms(today).into_iter().map(|h| h.label.clone()).collect();
    state
        .requests
        .values()
        .filter_map(|r| {
            let planned: u32 = planning.iter().map(|p| r.days.get(p).copied().unwrap_or(0)).sum();
            let held: u32 = state
                .assignments_of(&r.id)
                .filter(|a| holds_now(a, today))
                .map(|a| planning.iter().map(|p| a.days.get(p).copied().unwrap_or(0)).sum::<u32>())
                .sum();
            let row = RequestRow {
                id: r.id.clone(),
                urn: r.urn,
                school: state.schools.get(&r.urn).map(|s| s.name.clone()).unwrap_or_default(),
                need: r.need.to_string(),
                tier: tier_of(state, r.tier, r.urn),
                follows: r.tier.fixed().is_none(),
                status: request_status(r),
                planned,
                held,
                clock: match_clock(state, rules, &r.id, today)?,
            };
            let keep = (!filter.open || row.is_open())
                && (!filter.unmet || row.is_open() && row.planned > 0 && row.held == 0)
                && (!filter.late || row.is_open() && row.clock.status == ClockStatus::Late);
            keep.then_some(row)
        })
        .collect()
}

/// `request list` as text.
pub fn request_list(rows: &[RequestRow]) -> String {
    let mut out = format!(
        "{:<20} {:<7} {:<28} {:<12} {:<8} {:<22} {:>7} {:>5}  {}\n",
        "request", "urn", "school", "need", "tier", "status", "planned", "held", "match clock"
    );
    for r in rows {
        let tier = if r.follows { format!("{} (f)", r.tier) } else { r.tier.to_string() };
        let _ = writeln!(
            out,
            "{:<20} {:<7} {:<28} {:<12} {:<8} {:<22} {:>7} {:>5}  {}",
            r.id,
            r.urn,
            cut(&r.school, 28),
            r.need,
            tier,
            r.status,
            r.planned,
            r.held,
            r.clock
        );
    }
    let _ = writeln!(out, "{}; tier (f) follows the school's risk", count(rows.len(), "request"));
    out
}

/// `request show`: its terms, where it stands, its assignments, and the
/// history of the request and its assignments (`history`, in log order).
pub fn request_show(
    state: &State,
    rules: &Rules,
    id: &RequestId,
    sealer: &dyn Sealer,
    at: DateTime<Utc>,
    history: &[HistoryEntry],
) -> Option<String> {
    let r = state.requests.get(id)?;
    let mut out = String::new();
    let school = state
        .schools
        .get(&r.urn)
        .map(|s| format!("{} {} ({})", s.urn, s.name, s.phase))
        .unwrap_or_else(|| r.urn.to_string());
    let tier = match r.tier.fixed() {
        Some(t) => format!("{t}"),
        None => format!("follows the school's risk (now {})", tier_of(state, r.tier, r.urn)),
    };
    let _ = writeln!(out, "Request {}", r.id);
    field(&mut out, "school", &school);
    field(&mut out, "need", r.need.as_str());
    field(&mut out, "tier", &tier);
    field(&mut out, "titles", &join(r.designations.iter()));
    field(&mut out, "days", &days(&r.days));
    field(&mut out, "funding", r.funding.as_str());
    if let Some(po) = &r.purchase_order {
        field(&mut out, "purchase order", po);
    }
    field(&mut out, "status", &request_status(r));
    field(&mut out, "raised", &format!("{} by {}", time(r.raised_at), r.raised_by));
    if let Some(c) = match_clock(state, rules, id, london_date(at)) {
        field(&mut out, "match clock", &c.to_string());
    }
    if let Some(note) = &r.note {
        field(&mut out, "note", &open_text(sealer, note));
    }
    let _ = writeln!(out, "\nAssignments");
    let mut any = false;
    for a in state.assignments_of(id) {
        any = true;
        let _ = writeln!(out, "  {}", assignment_line(a));
    }
    if !any {
        let _ = writeln!(out, "  (none)");
    }
    render_history(&mut out, &format!("request-{id} and its assignments"), history);
    Some(out)
}

// --- schools -------------------------------------------------------------------

/// `school list` as text.
pub fn school_list(state: &State) -> String {
    let mut out = format!(
        "{:<7} {:<36} {:<12} {:<30} {:<7} {:<9} {}\n",
        "urn", "school", "phase", "trust", "status", "standing", "risk"
    );
    for s in state.schools.values() {
        let _ = writeln!(
            out,
            "{:<7} {:<36} {:<12} {:<30} {:<7} {:<9} {}",
            s.urn,
            cut(&s.name, 36),
            s.phase,
            cut(s.trust.as_deref().unwrap_or("-"), 30),
            if s.closed { "closed" } else { "open" },
            s.inspection.as_ref().map(|i| standing_word(standing(i))).unwrap_or("-"),
            risk_word(s.risk.as_ref().and_then(|r| r.tier)),
        );
    }
    let _ = writeln!(out, "{}", count(state.schools.len(), "school"));
    out
}

/// `school show`: its record, inspection, risk, requests and history.
pub fn school_show(state: &State, urn: Urn, history: &[HistoryEntry]) -> Option<String> {
    let s = state.schools.get(&urn)?;
    let mut out = String::new();
    let _ = writeln!(out, "School {} {}", s.urn, s.name);
    field(&mut out, "LA", &s.la_code.to_string());
    field(&mut out, "phase", s.phase.as_str());
    field(&mut out, "trust", s.trust.as_deref().unwrap_or("-"));
    field(&mut out, "location", &format!("{:.0} E, {:.0} N", s.easting, s.northing));
    field(&mut out, "pupils", &s.pupils.map(|p| p.to_string()).unwrap_or_else(|| "-".into()));
    field(&mut out, "postcode", s.postcode.as_deref().unwrap_or("-"));
    field(&mut out, "status", if s.closed { "closed" } else { "open" });
    let inspection = match &s.inspection {
        Some(i) => format!("{} (standing {})", framework(i), standing_word(standing(i))),
        None => "-".into(),
    };
    field(&mut out, "inspection", &inspection);
    let risk = match &s.risk {
        Some(r) => format!(
            "{} ({}, {}): {}",
            risk_word(r.tier),
            word(&r.source),
            london_date(r.at),
            r.reason
        ),
        None => "-".into(),
    };
    field(&mut out, "risk", &risk);
    let _ = writeln!(out, "\nRequests");
    let mut any = false;
    for r in state.requests.values().filter(|r| r.urn == urn) {
        any = true;
        let _ = writeln!(
            out,
            "  {:<20} {:<12} {:<22} {}",
            r.id,
            r.need,
            request_status(r),
            days(&r.days)
        );
    }
    if !any {
        let _ = writeln!(out, "  (none)");
    }
    render_history(&mut out, &format!("school-{urn}"), history);
    Some(out)
}

// --- practitioners -----------------------------------------------------------

/// A practitioner's personal details as a view may show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Personal {
    Held(PersonalDetails),
    /// Erased, or its key is gone (a log restored without its keys).
    Erased,
    /// Recorded before personal data was held.
    NotRecorded,
}

/// Opens a practitioner's sealed details.
pub fn personal(p: &Practitioner, sealer: &dyn Sealer) -> Personal {
    if p.erased {
        return Personal::Erased;
    }
    let Some(sealed) = &p.personal else { return Personal::NotRecorded };
    match sealer.unseal(sealed).and_then(|b| serde_json::from_slice(&b).ok()) {
        Some(d) => Personal::Held(d),
        None => Personal::Erased,
    }
}

impl Personal {
    /// The name, "(erased)" or "-".
    pub fn name(&self) -> &str {
        match self {
            Personal::Held(d) => &d.name,
            Personal::Erased => ERASED,
            Personal::NotRecorded => "-",
        }
    }
}

/// `practitioner list`: ids, names (the only personal data a list shows),
/// titles and where each stands.
pub fn practitioner_list(state: &State, sealer: &dyn Sealer) -> String {
    let mut out = format!(
        "{:<16} {:<28} {:<20} {:<7} {:<28} {}\n",
        "practitioner", "name", "title", "home", "specialisms", "status"
    );
    for p in state.practitioners.values() {
        let _ = writeln!(
            out,
            "{:<16} {:<28} {:<20} {:<7} {:<28} {}",
            p.id,
            cut(personal(p, sealer).name(), 28),
            cut(p.title.as_str(), 20),
            p.home_urn,
            cut(&join(p.specialisms.iter()), 28),
            practitioner_status(p)
        );
    }
    let _ = writeln!(out, "{}", count(state.practitioners.len(), "practitioner"));
    out
}

/// `practitioner show`: personal details (opened on purpose), designation,
/// availability against days held, leave, conflicts, assignments, history.
pub fn practitioner_show(
    state: &State,
    id: &PractitionerId,
    sealer: &dyn Sealer,
    history: &[HistoryEntry],
) -> Option<String> {
    let p = state.practitioners.get(id)?;
    let mut out = String::new();
    let _ = writeln!(out, "Practitioner {}", p.id);
    match personal(p, sealer) {
        Personal::Held(d) => {
            field(&mut out, "name", &d.name);
            field(&mut out, "email", d.email.as_deref().unwrap_or("-"));
            field(&mut out, "phone", d.phone.as_deref().unwrap_or("-"));
        }
        Personal::Erased => field(&mut out, "personal data", "erased (name, contacts and notes)"),
        Personal::NotRecorded => field(&mut out, "personal data", "none recorded"),
    }
    field(&mut out, "title", &format!("{}, {}/day", p.title, money(u64::from(p.day_rate) * 100)));
    let home = state
        .schools
        .get(&p.home_urn)
        .map(|s| format!("{} {}", s.urn, s.name))
        .unwrap_or_else(|| p.home_urn.to_string());
    field(&mut out, "home school", &home);
    field(&mut out, "specialisms", &join(p.specialisms.iter()));
    field(&mut out, "phases", &join(p.phases.iter()));
    field(&mut out, "status", practitioner_status(p));
    field(&mut out, "designated", &time(p.designated_at));
    let capacity: Vec<String> = p
        .capacity
        .iter()
        .map(|(period, d)| {
            format!(
                "{period}:{d} (held {}, accepted {})",
                state.held_days(&p.id, period),
                state.accepted_days(&p.id, period)
            )
        })
        .collect();
    field(&mut out, "capacity", &or_dash(capacity.join(", ")));
    let max: Vec<String> = p.max_days.iter().map(|(y, d)| format!("{y}: {d}")).collect();
    field(&mut out, "max days", &or_dash(max.join(", ")));
    let leave: Vec<String> = p.leave.iter().map(|(a, b)| format!("{a} to {b}")).collect();
    field(&mut out, "leave", &or_dash(leave.join(", ")));
    let conflicts: Vec<String> = p
        .conflicts
        .values()
        .map(|c| format!("{} ({}{})", c.conflict, word(&c.kind), window(c.valid_from, c.valid_to)))
        .collect();
    field(&mut out, "conflicts", &or_dash(conflicts.join(", ")));
    let _ = writeln!(out, "\nAssignments");
    let mine: Vec<&Assignment> =
        state.assignments.values().filter(|a| a.practitioner == p.id && !a.pending_run).collect();
    if mine.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for a in mine {
        let _ = writeln!(out, "  {}", assignment_line(a));
    }
    render_history(&mut out, &format!("practitioner-{id}"), history);
    Some(out)
}

// --- assignments -------------------------------------------------------------

/// Which assignments `assignment list` shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssignmentFilter {
    pub request: Option<RequestId>,
    pub practitioner: Option<PractitionerId>,
}

/// `assignment list` as text (a run's proposals count once its run is complete).
pub fn assignment_list(state: &State, filter: &AssignmentFilter) -> String {
    let mut out = String::new();
    let mut n = 0;
    for a in state.assignments.values().filter(|a| !a.pending_run) {
        if filter.request.as_ref().is_some_and(|r| r != &a.request)
            || filter.practitioner.as_ref().is_some_and(|p| p != &a.practitioner)
        {
            continue;
        }
        n += 1;
        let _ = writeln!(out, "{}", assignment_line(a));
    }
    let _ = writeln!(out, "{}", count(n, "assignment"));
    out
}

/// `assignment show`: its terms, answer, visits, notes (opened) and history.
pub fn assignment_show(
    state: &State,
    id: &AssignmentId,
    sealer: &dyn Sealer,
    history: &[HistoryEntry],
) -> Option<String> {
    let a = state.assignments.get(id).filter(|a| !a.pending_run)?;
    let mut out = String::new();
    let _ = writeln!(out, "Assignment {}", a.id);
    let request = state
        .requests
        .get(&a.request)
        .map(|r| format!("{} ({}, {})", r.id, r.urn, r.need))
        .unwrap_or_else(|| a.request.to_string());
    field(&mut out, "request", &request);
    field(&mut out, "practitioner", a.practitioner.as_str());
    field(&mut out, "days", &days(&a.days));
    let by = match &a.run {
        Some(run) => format!("run {run}"),
        None => "hand".to_owned(),
    };
    field(&mut out, "proposed by", &by);
    field(&mut out, "status", &assignment_status(a.status));
    let answer_by = a.answer_by.map(|d| format!(", answer by {d}")).unwrap_or_default();
    field(&mut out, "proposed", &format!("{}{answer_by}", time(a.proposed_at)));
    if let Some(t) = a.answered_at {
        field(&mut out, "answered", &time(t));
    }
    if let Some(d) = a.first_contact {
        field(&mut out, "first contact", &d.to_string());
    }
    let _ = writeln!(out, "\nVisits");
    if a.visits.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for (v, visit) in &a.visits {
        let note = visit.note.as_ref().map(|n| format!("; note: {}", open_text(sealer, n)));
        let _ = writeln!(
            out,
            "  {v:<6} {} {} half days, {}{}{}",
            visit.on,
            visit.half_days,
            visit_status(visit.status),
            if visit.confirmed { ", confirmed" } else { "" },
            note.unwrap_or_default()
        );
    }
    if !a.notes.is_empty() {
        let _ = writeln!(out, "\nNotes");
        for n in &a.notes {
            let _ = writeln!(out, "  {}", open_text(sealer, n));
        }
    }
    render_history(&mut out, &format!("assignment-{id}"), history);
    Some(out)
}

// --- partnership ---------------------------------------------------------------

/// `partnership show`: the year's budgets per funding source, its fee and
/// its history.
pub fn partnership_show(state: &State, year: &AcademicYearId, history: &[HistoryEntry]) -> String {
    let mut out = format!("Partnership {year}\n");
    match state.partnerships.get(year) {
        None => field(&mut out, "budgets", "none set"),
        Some(p) => {
            for (funding, pence) in &p.budgets {
                field(&mut out, &format!("budget {funding}"), &money(*pence));
            }
            let total: u64 = p.budgets.values().sum();
            field(&mut out, "budget, all sources", &money(total));
            field(&mut out, "brokerage fee", &percent(p.fee_basis_points));
        }
    }
    render_history(&mut out, &format!("partnership-{year}"), history);
    out
}

// --- history -------------------------------------------------------------------

/// One event as a view shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub position: u64,
    pub stream: String,
    /// The command's time (`meta.at`), or the recorded time of events
    /// written before commands carried it.
    pub at: DateTime<Utc>,
    pub actor: String,
    pub type_name: String,
    pub summary: String,
    /// The payload without `meta`, each sealed value replaced by its text
    /// (or "(erased)"); for the subject-access export.
    pub data: Value,
}

/// The events of a stream as history entries, notes opened through `sealer`.
pub fn history(events: &[RecordedEvent], sealer: &dyn Sealer) -> Vec<HistoryEntry> {
    events
        .iter()
        .map(|e| {
            let payload: Value = serde_json::from_slice(&e.payload).unwrap_or(Value::Null);
            let meta = EventMeta::of_payload(&payload);
            let summary = match DomainEvent::from_stored(&e.type_name, e.type_version, &payload) {
                Ok(event) => summary(&event, sealer),
                Err(_) => "(an event this version does not read)".to_owned(),
            };
            let mut data = payload;
            if let Value::Object(map) = &mut data {
                map.remove(META_KEY);
            }
            open_sealed(&mut data, sealer);
            HistoryEntry {
                position: e.position.0,
                stream: e.stream.clone(),
                at: meta.as_ref().map(|m| m.at).unwrap_or(e.recorded_at),
                actor: meta.map(|m| m.actor.0).unwrap_or_else(|| SYSTEM_USER.to_owned()),
                type_name: e.type_name.clone(),
                summary,
                data,
            }
        })
        .collect()
}

/// A readable line of what an event says (notes opened through `sealer`;
/// never a practitioner's name or contacts).
pub fn summary(event: &DomainEvent, sealer: &dyn Sealer) -> String {
    let note = |n: &Option<Sealed>| match n {
        Some(s) => format!("; note: {}", open_text(sealer, s)),
        None => String::new(),
    };
    match event {
        DomainEvent::SchoolRegistered(e) => format!(
            "registered {} ({}, trust {}), LA {}, at {:.0} E {:.0} N{}",
            e.name,
            e.phase,
            e.trust.as_deref().unwrap_or("none"),
            e.la_code,
            e.easting,
            e.northing,
            e.pupils.map(|p| format!(", {p} pupils")).unwrap_or_default()
        ),
        DomainEvent::SchoolChanged(e) => format!(
            "changed {}: now {} ({}, trust {})",
            e.changed.join(", "),
            e.name,
            e.phase,
            e.trust.as_deref().unwrap_or("none")
        ),
        DomainEvent::SchoolClosed(e) => format!(
            "closed{}: {}",
            e.closed_on.map(|d| format!(" on {d}")).unwrap_or_default(),
            e.reason
        ),
        DomainEvent::InspectionRecorded(e) => format!(
            "inspection recorded from {}: {}, standing {}",
            e.source,
            framework(&e.outcome),
            standing_word(standing(&e.outcome))
        ),
        DomainEvent::RiskAssessed(e) => {
            format!("risk {} ({}): {}", risk_word(e.tier), word(&e.source), e.reason)
        }
        DomainEvent::PractitionerDesignated(e) => format!(
            "designated {} at {}, specialisms {}, phases {}, {}/day",
            e.title,
            e.home_urn,
            join(e.specialisms.iter()),
            join(e.phases.iter()),
            money(u64::from(e.day_rate) * 100)
        ),
        DomainEvent::PractitionerChanged(e) => format!(
            "changed {}: {} at {}, specialisms {}, phases {}, {}/day",
            e.changed.join(", "),
            e.title,
            e.home_urn,
            join(e.specialisms.iter()),
            join(e.phases.iter()),
            money(u64::from(e.day_rate) * 100)
        ),
        DomainEvent::AvailabilityDeclared(e) => format!(
            "availability{}: {}{}",
            e.year.as_ref().map(|y| format!(" {y}")).unwrap_or_default(),
            days(&e.capacity),
            e.max_days.map(|m| format!(", at most {m} days in the year")).unwrap_or_default()
        ),
        DomainEvent::LeaveRecorded(e) => format!("leave {} to {}{}", e.from, e.to, note(&e.note)),
        DomainEvent::ConflictDeclared(e) => format!(
            "conflict {} ({}) with {}{}",
            e.conflict,
            word(&e.kind),
            target(&e.target),
            window(e.valid_from, e.valid_to)
        ),
        DomainEvent::ConflictWithdrawn(e) => format!("conflict {} withdrawn", e.conflict),
        DomainEvent::PractitionerWithdrawn(e) => format!("withdrawn: {}", e.reason),
        DomainEvent::PersonalDataErased(_) => {
            "personal data erased (the key is destroyed)".to_owned()
        }
        DomainEvent::SupportRequested(e) => format!(
            "raised for {}: {}, tier {}, titles {}, days {}, funding {}{}",
            e.urn,
            e.need,
            e.tier,
            join(e.designations.iter()),
            days(&e.days),
            e.funding,
            e.purchase_order.as_ref().map(|p| format!(", purchase order {p}")).unwrap_or_default()
        ),
        DomainEvent::RequestAmended(e) => format!(
            "amended {}: {}, tier {}, titles {}, days {}, funding {}",
            e.changed.join(", "),
            e.need,
            e.tier,
            join(e.designations.iter()),
            days(&e.days),
            e.funding
        ),
        DomainEvent::RequestWithdrawn(e) => format!("withdrawn: {}", e.reason),
        DomainEvent::RequestClosed(e) => {
            format!("closed, impact {}{}", e.impact.as_str(), note(&e.note))
        }
        DomainEvent::MatchingRunStarted(e) => format!(
            "run started on the log as of position {}, planning {} ({})",
            e.as_of_position,
            join(e.periods.iter()),
            word(&e.trigger)
        ),
        DomainEvent::UnmetRecorded(e) => format!("{} unmet requests recorded", e.unmet.len()),
        DomainEvent::MatchingRunCompleted(e) => format!(
            "run completed: {}, {} proposals, {} unmet, {} dropped",
            e.status,
            e.proposals,
            e.unmet,
            e.dropped.len()
        ),
        DomainEvent::MatchingRunDiscarded(e) => format!("run discarded: {}", e.reason),
        DomainEvent::AssignmentProposed(e) => format!(
            "proposed {} on {}: {} by {}{}",
            e.practitioner,
            e.request,
            days(&e.days),
            e.run.as_ref().map(|r| format!("run {r}")).unwrap_or_else(|| "hand".to_owned()),
            e.answer_by.map(|d| format!(", answer by {d}")).unwrap_or_default()
        ),
        DomainEvent::AssignmentAccepted(_) => "accepted".to_owned(),
        DomainEvent::AssignmentDeclined(e) => {
            format!("declined ({}){}", e.reason.as_str(), note(&e.note))
        }
        DomainEvent::AssignmentExpired(e) => format!("expired: no answer by {}", e.answer_by),
        DomainEvent::AssignmentWithdrawn(e) => format!("withdrawn: {}", e.reason),
        DomainEvent::FirstContactRecorded(e) => {
            format!("first contact on {}{}", e.on, note(&e.note))
        }
        DomainEvent::VisitRecorded(e) => {
            format!("visit {} on {}, {} half days{}", e.visit, e.on, e.half_days, note(&e.note))
        }
        DomainEvent::VisitCorrected(e) => format!(
            "visit {} corrected: on {}, {} half days{}",
            e.visit,
            e.on,
            e.half_days,
            note(&e.note)
        ),
        DomainEvent::VisitVoided(e) => format!("visit {} voided: {}", e.visit, e.reason),
        DomainEvent::VisitCancelled(e) => format!(
            "visit {} on {} {}, {} half days, {}",
            e.visit,
            e.on,
            if e.no_show { "a no-show" } else { "cancelled" },
            e.half_days,
            if e.charged { "charged" } else { "not charged" }
        ),
        DomainEvent::VisitConfirmed(e) => format!("visit {} confirmed by the school", e.visit),
        DomainEvent::AssignmentCompleted(_) => "completed".to_owned(),
        DomainEvent::BudgetSet(e) => format!("budget {}: {}", e.funding, money(e.amount_pence)),
        DomainEvent::BrokerageFeeSet(e) => format!("brokerage fee {}", percent(e.basis_points)),
        e => crate::rounds::show::summary(e),
    }
}

// --- the subject-access export ----------------------------------------------

/// The subject-access export of practitioner `id` (UK GDPR article 15):
/// everything held about them, personal data and notes opened, and every
/// event of their streams (`streams`: the practitioner's own and each of
/// their assignments') with its time and actor. Once erased it says so and
/// lists what remains: ids, dates and numbers. None for an unknown id.
pub fn sar(
    state: &State,
    id: &PractitionerId,
    sealer: &dyn Sealer,
    streams: &[Vec<HistoryEntry>],
    at: DateTime<Utc>,
) -> Option<Value> {
    let p = state.practitioners.get(id)?;
    let details = personal(p, sealer);
    let events: Vec<&HistoryEntry> = {
        let mut all: Vec<&HistoryEntry> = streams.iter().flatten().collect();
        all.sort_by_key(|e| e.position);
        all
    };
    let erasure = events.iter().find(|e| e.type_name == "PersonalDataErased");
    let (status, statement, personal_json) = match &details {
        Personal::Held(d) => (
            "held",
            format!(
                "Everything Bridges holds about practitioner {id}, as of {}: personal details, \
                 designation, availability, leave, conflicts of interest, assignments with their \
                 visits and notes, and every recorded event with its time and the user who acted.",
                time(at)
            ),
            json!({"name": d.name, "email": d.email, "phone": d.phone}),
        ),
        Personal::Erased => (
            "erased",
            match erasure {
                Some(e) => format!(
                    "The personal data of practitioner {id} (name, contact details and free-text \
                     notes) was erased on {} by {}: its key was destroyed and it can no longer be \
                     read by anyone. What remains is listed below: ids, dates and numbers.",
                    time(e.at),
                    e.actor
                ),
                None => format!(
                    "The personal data of practitioner {id} cannot be read: its key is not in \
                     this key store (erased, or a log restored without its keys). What remains \
                     is listed below: ids, dates and numbers."
                ),
            },
            Value::Null,
        ),
        Personal::NotRecorded => (
            "not_recorded",
            format!(
                "No personal details of practitioner {id} were recorded. What is held is listed \
                 below."
            ),
            Value::Null,
        ),
    };
    let leave: Vec<Value> = events
        .iter()
        .filter(|e| e.type_name == "LeaveRecorded")
        .map(|e| json!({"from": e.data["from"], "to": e.data["to"], "note": e.data.get("note")}))
        .collect();
    let conflicts: Vec<Value> = p
        .conflicts
        .values()
        .map(|c| {
            json!({
                "conflict": c.conflict,
                "with": target(&c.target),
                "kind": c.kind,
                "valid_from": c.valid_from,
                "valid_to": c.valid_to,
            })
        })
        .collect();
    let assignments: Vec<Value> = state
        .assignments
        .values()
        .filter(|a| a.practitioner == p.id)
        .map(|a| assignment_json(state, a, sealer))
        .collect();
    let events: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "position": e.position,
                "stream": e.stream,
                "type": e.type_name,
                "at": time(e.at),
                "actor": e.actor,
                "summary": e.summary,
                "data": e.data,
            })
        })
        .collect();
    Some(json!({
        "kind": "subject_access_export",
        "practitioner": p.id,
        "generated_at": time(at),
        "personal_data": status,
        "statement": statement,
        "personal": personal_json,
        "designation": {
            "title": p.title,
            "home_urn": p.home_urn,
            "specialisms": p.specialisms,
            "phases": p.phases,
            "day_rate_pounds": p.day_rate,
            "designated_at": time(p.designated_at),
            "withdrawn": p.withdrawn,
        },
        "availability": {"capacity": p.capacity, "max_days": p.max_days},
        "leave": leave,
        "conflicts": conflicts,
        "assignments": assignments,
        "events": events,
    }))
}

fn assignment_json(state: &State, a: &Assignment, sealer: &dyn Sealer) -> Value {
    let request: Option<&Request> = state.requests.get(&a.request);
    let visits: BTreeMap<String, Value> = a
        .visits
        .iter()
        .map(|(id, v)| {
            (
                id.to_string(),
                json!({
                    "on": v.on,
                    "half_days": v.half_days,
                    "status": visit_status(v.status),
                    "confirmed": v.confirmed,
                    "recorded_at": time(v.recorded_at),
                    "note": v.note.as_ref().map(|n| open_text(sealer, n)),
                }),
            )
        })
        .collect();
    json!({
        "assignment": a.id,
        "request": a.request,
        "urn": request.map(|r| r.urn),
        "need": request.map(|r| r.need.clone()),
        "days": a.days,
        "run": a.run,
        "status": assignment_status(a.status),
        "counted": !a.pending_run,
        "proposed_at": time(a.proposed_at),
        "answer_by": a.answer_by,
        "answered_at": a.answered_at.map(time),
        "accepted_at": a.accepted_at.map(time),
        "first_contact": a.first_contact,
        "visits": visits,
        "notes": a.notes.iter().map(|n| open_text(sealer, n)).collect::<Vec<_>>(),
    })
}

// --- helpers -------------------------------------------------------------------

/// A sealed text opened, or "(erased)" when its key is gone.
pub fn open_text(sealer: &dyn Sealer, sealed: &Sealed) -> String {
    sealer.unseal(sealed).and_then(|b| String::from_utf8(b).ok()).unwrap_or_else(|| ERASED.into())
}

/// Replaces every sealed value inside `v` by its opened text (personal
/// details as their fields), or "(erased)".
fn open_sealed(v: &mut Value, sealer: &dyn Sealer) {
    match v {
        Value::Object(map) => {
            if map.len() == 3
                && let Ok(sealed) = serde_json::from_value::<Sealed>(Value::Object(map.clone()))
            {
                let text = open_text(sealer, &sealed);
                *v = match serde_json::from_str::<PersonalDetails>(&text) {
                    Ok(d) => json!({"name": d.name, "email": d.email, "phone": d.phone}),
                    Err(_) => Value::String(text),
                };
                return;
            }
            for x in map.values_mut() {
                open_sealed(x, sealer);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| open_sealed(x, sealer)),
        _ => {}
    }
}

fn render_history(out: &mut String, stream: &str, history: &[HistoryEntry]) {
    let _ = writeln!(out, "\nHistory of {stream}");
    let _ =
        writeln!(out, "{:>8}  {:<20}  {:<16}  {:<22}  what", "position", "at", "actor", "event");
    for e in history {
        let _ = writeln!(
            out,
            "{:>8}  {:<20}  {:<16}  {:<22}  {}",
            e.position,
            time(e.at),
            e.actor,
            e.type_name,
            e.summary
        );
    }
}

fn assignment_line(a: &Assignment) -> String {
    let half_days: u32 =
        a.visits.values().filter(|v| v.status == VisitStatus::Recorded).map(|v| v.half_days).sum();
    format!(
        "{:<24} {:<20} {:<16} {:<22} {:<28} visits: {} half days",
        a.id,
        a.request,
        a.practitioner,
        assignment_status(a.status),
        days(&a.days),
        half_days
    )
}

/// Whether an assignment holds days on `today`: a counted proposal still in
/// its answer window, or accepted (and completed) work.
fn holds_now(a: &Assignment, today: NaiveDate) -> bool {
    a.holds_days() && !crate::domain::assignment::is_overdue(a, today) || a.is_committed()
}

fn request_status(r: &Request) -> String {
    match r.status {
        RequestStatus::Open => "open".to_owned(),
        RequestStatus::Withdrawn => "withdrawn".to_owned(),
        RequestStatus::Closed(impact) => format!("closed (impact {})", impact.as_str()),
    }
}

pub fn practitioner_status(p: &Practitioner) -> &'static str {
    match (p.erased, p.withdrawn) {
        (true, _) => "erased",
        (false, true) => "withdrawn",
        (false, false) => "active",
    }
}

pub fn assignment_status(s: AssignmentStatus) -> String {
    match s {
        AssignmentStatus::Proposed => "proposed".to_owned(),
        AssignmentStatus::Accepted => "accepted".to_owned(),
        AssignmentStatus::Declined(r) => format!("declined ({})", r.as_str()),
        AssignmentStatus::Expired => "expired".to_owned(),
        AssignmentStatus::Withdrawn => "withdrawn".to_owned(),
        AssignmentStatus::Completed => "completed".to_owned(),
    }
}

pub fn visit_status(s: VisitStatus) -> String {
    match s {
        VisitStatus::Recorded => "recorded".to_owned(),
        VisitStatus::Voided => "voided".to_owned(),
        VisitStatus::Cancelled { no_show, charged } => format!(
            "{}, {}",
            if no_show { "a no-show" } else { "cancelled" },
            if charged { "charged" } else { "not charged" }
        ),
    }
}

fn framework(i: &InspectionOutcome) -> String {
    match i {
        InspectionOutcome::Overall { published, overall } => {
            format!("overall {}{}", word(overall), published_on(published))
        }
        InspectionOutcome::SubJudgements { published, .. } => {
            format!("sub-judgements{}", published_on(published))
        }
        InspectionOutcome::ReportCard { published, .. } => {
            format!("report card{}", published_on(published))
        }
    }
}

fn published_on(d: &Option<NaiveDate>) -> String {
    d.map(|d| format!(", published {d}")).unwrap_or_default()
}

fn standing_word(s: Standing) -> &'static str {
    match s {
        Standing::Strong => "strong",
        Standing::Secure => "secure",
        Standing::Concern => "concern",
        Standing::Serious => "serious",
    }
}

fn risk_word(tier: Option<u8>) -> String {
    tier.map(|t| format!("tier {t}")).unwrap_or_else(|| "none".to_owned())
}

fn target(t: &ConflictTarget) -> String {
    match t {
        ConflictTarget::School { urn } => format!("school {urn}"),
        ConflictTarget::Trust { name } => format!("trust {name}"),
    }
}

pub(crate) fn window(from: Option<NaiveDate>, to: Option<NaiveDate>) -> String {
    match (from, to) {
        (None, None) => String::new(),
        (Some(a), None) => format!(", from {a}"),
        (None, Some(b)) => format!(", to {b}"),
        (Some(a), Some(b)) => format!(", {a} to {b}"),
    }
}

fn percent(basis_points: u32) -> String {
    format!("{}.{:02}%", basis_points / 100, basis_points % 100)
}

/// Half-terms and days: `2026-AU1:2 2026-AU2:1`.
pub fn days(d: &DaysPerPeriod) -> String {
    or_dash(d.iter().map(|(p, n)| format!("{p}:{n}")).collect::<Vec<_>>().join(" "))
}

/// A time as RFC 3339 to the second, `2026-09-07T09:00:00Z`.
pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A serde word (`la`, `former_employer`) for an enum that has no `as_str`.
pub(crate) fn word<T: serde::Serialize>(t: &T) -> String {
    match serde_json::to_value(t) {
        Ok(Value::String(s)) => s,
        _ => "?".to_owned(),
    }
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    or_dash(items.map(|i| i.to_string()).collect::<Vec<_>>().join(", "))
}

fn or_dash(s: String) -> String {
    if s.is_empty() { "-".to_owned() } else { s }
}

/// `1 request`, `2 requests`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

fn field(out: &mut String, name: &str, value: &str) {
    let _ = writeln!(out, "  {name:<16} {value}");
}

fn cut(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("a real date")
    }

    /// A calendar with one bank holiday, Monday 31 August 2026.
    fn calendar() -> Calendar {
        Calendar { half_terms: Vec::new(), bank_holidays: BTreeSet::from([d(2026, 8, 31)]) }
    }

    struct Row {
        started: NaiveDate,
        done: Option<NaiveDate>,
        today: NaiveDate,
        due: NaiveDate,
        status: ClockStatus,
    }

    /// Given a clock of two working days, when it starts, is done (or not)
    /// and is read on a day, then it is due on the day and stands as listed.
    #[test]
    fn a_clock_is_met_late_or_open_by_working_days() {
        use ClockStatus::*;
        let rows = [
            // Raised Monday 7 Sep: due Wednesday 9; a proposal on the 9th meets it.
            Row {
                started: d(2026, 9, 7),
                done: Some(d(2026, 9, 9)),
                today: d(2026, 9, 20),
                due: d(2026, 9, 9),
                status: Met,
            },
            // ... on Thursday 10th is late.
            Row {
                started: d(2026, 9, 7),
                done: Some(d(2026, 9, 10)),
                today: d(2026, 9, 20),
                due: d(2026, 9, 9),
                status: Late,
            },
            // Not matched, read on the due day: open; the day after: late.
            Row {
                started: d(2026, 9, 7),
                done: None,
                today: d(2026, 9, 9),
                due: d(2026, 9, 9),
                status: Open,
            },
            Row {
                started: d(2026, 9, 7),
                done: None,
                today: d(2026, 9, 10),
                due: d(2026, 9, 9),
                status: Late,
            },
            // Raised Thursday 10th: the weekend does not count, due Monday 14th.
            Row {
                started: d(2026, 9, 10),
                done: None,
                today: d(2026, 9, 14),
                due: d(2026, 9, 14),
                status: Open,
            },
            // Raised on Saturday 29 Aug: counts from Tuesday 1 Sep (Monday is a bank holiday).
            Row {
                started: d(2026, 8, 29),
                done: Some(d(2026, 9, 3)),
                today: d(2026, 9, 3),
                due: d(2026, 9, 3),
                status: Met,
            },
        ];
        for (i, r) in rows.iter().enumerate() {
            let c = clock(&calendar(), r.started, 2, r.done, r.today);
            assert_eq!((c.due, c.status), (r.due, r.status), "row {i}");
        }
    }

    struct NoKeys;
    impl Sealer for NoKeys {
        fn seal(&self, _: &str, _: &[u8]) -> Option<Sealed> {
            None
        }
        fn unseal(&self, _: &Sealed) -> Option<Vec<u8>> {
            None
        }
    }

    /// Given a payload holding a sealed note whose key is gone, when it is
    /// opened for a view, then the note reads "(erased)" and nothing sealed remains.
    #[test]
    fn sealed_values_open_to_erased_without_their_key() {
        let mut v =
            json!({"assignment": "a-1", "note": {"key": "sle-1", "nonce": "AAAA", "data": "BBBB"}});
        open_sealed(&mut v, &NoKeys);
        assert_eq!(v, json!({"assignment": "a-1", "note": ERASED}));
    }
}
