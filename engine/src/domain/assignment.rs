//! Deciding commands about assignments: a broker's proposal by hand (under
//! the contract's hard rules: eligibility, conflicts, exclusions, capacity,
//! one practitioner per request), answers (accept, decline, expiry past the
//! answer window), withdrawal, first contact, visits in half days on working
//! days of the assigned half-terms and never beyond the assigned days,
//! corrections, voids, cancellations and no-shows, the receiving school's
//! confirmation, completion.

use bridges_schemas::commands::{
    AcceptAssignment, CancelVisit, CompleteAssignment, ConfirmVisit, CorrectVisit,
    DeclineAssignment, ExpireAssignment, ProposeAssignment, RecordFirstContact, RecordVisit,
    Rejection, RejectionCode, VoidVisit, WithdrawAssignment,
};
use bridges_schemas::events::{
    AssignmentAccepted, AssignmentCompleted, AssignmentDeclined, AssignmentExpired,
    AssignmentProposed, AssignmentWithdrawn, DaysPerPeriod, DomainEvent, FirstContactRecorded,
    VisitCancelled, VisitConfirmed, VisitCorrected, VisitRecorded, VisitVoided,
};
use bridges_schemas::vocab::{AssignmentId, ConflictTarget, VisitId};
use bridges_schemas::{PractitionerId, SameTrust};
use chrono::NaiveDate;

use super::state::{Assignment, AssignmentStatus, Practitioner, Request, VisitStatus};
use super::{Context, State, check_days, check_id, check_text, reject, seal_note};

/// Propose a practitioner's days on a request by hand.
pub fn propose(
    state: &State,
    c: &ProposeAssignment,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    let r = super::request::open(state, &c.request)?;
    if state.schools.get(&r.urn).is_some_and(|s| s.closed) {
        return Err(reject(
            RejectionCode::SchoolClosed,
            "request",
            &r.id,
            format!("its school {} has closed", r.urn),
        ));
    }
    let p = super::practitioner::active(state, &c.practitioner)?;
    check_days(ctx.rules, "days", &c.days, ctx.today(), false)?;
    for (period, d) in &c.days {
        let asked = r.days.get(period).copied().unwrap_or(0);
        let held: u32 = state
            .assignments_of(&r.id)
            .filter(|a| a.holds_days())
            .map(|a| a.days.get(period).copied().unwrap_or(0))
            .sum();
        if held + d > asked {
            return Err(reject(
                RejectionCode::BeyondAssigned,
                &format!("days.{period}"),
                d,
                format!(
                    "the request asks for {asked} days in {period} and {held} are already proposed or accepted"
                ),
            ));
        }
    }
    if let Some(why) = ineligible(state, r, p, &c.days, ctx) {
        return Err(reject(RejectionCode::Ineligible, "practitioner", &c.practitioner, why));
    }
    if state.declined_by(&r.id).contains(&p.id) {
        return Err(reject(
            RejectionCode::Excluded,
            "practitioner",
            &c.practitioner,
            "this practitioner declined this request before (rule 9)",
        ));
    }
    if ctx.rules.policy.single_practitioner
        && let Some(other) =
            state.assignments_of(&r.id).find(|a| a.holds_days() && a.practitioner != p.id)
    {
        return Err(reject(
            RejectionCode::Ineligible,
            "practitioner",
            &c.practitioner,
            format!(
                "one practitioner per request, and {} already holds days on it",
                other.practitioner
            ),
        ));
    }
    check_capacity(state, p, &c.days, ctx, true)?;
    let id = match &c.assignment {
        Some(id) => {
            check_id("assignment", id.as_str(), 64)?;
            if is_taken(state, id) {
                return Err(reject(
                    RejectionCode::Duplicate,
                    "assignment",
                    id,
                    "this assignment id is taken",
                ));
            }
            id.clone()
        }
        None => {
            let n = (1..).find(|n| !is_taken(state, &AssignmentId(format!("{}-h{n}", r.id))));
            AssignmentId(format!("{}-h{}", r.id, n.unwrap_or(1)))
        }
    };
    Ok(vec![DomainEvent::AssignmentProposed(AssignmentProposed {
        assignment: id,
        request: r.id.clone(),
        practitioner: p.id.clone(),
        days: c.days.clone(),
        run: None,
        answer_by: Some(answer_by(ctx)),
    })])
}

/// Accept a proposal within its answer window.
pub fn accept(
    state: &State,
    c: &AcceptAssignment,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    let a = awaiting_answer(state, &c.assignment, ctx)?;
    super::request::open(state, &a.request)?;
    let p = super::practitioner::active(state, &a.practitioner)?;
    check_capacity(state, p, &a.days, ctx, false)?;
    Ok(vec![DomainEvent::AssignmentAccepted(AssignmentAccepted { assignment: a.id.clone() })])
}

/// Decline a proposal within its answer window.
pub fn decline(
    state: &State,
    c: &DeclineAssignment,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    let a = awaiting_answer(state, &c.assignment, ctx)?;
    let note = seal_note(ctx, "note", a.practitioner.as_str(), &c.note)?;
    Ok(vec![DomainEvent::AssignmentDeclined(AssignmentDeclined {
        assignment: a.id.clone(),
        reason: c.reason,
        note,
    })])
}

/// Record the expiry of a proposal whose answer window has passed.
pub fn expire(
    state: &State,
    c: &ExpireAssignment,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    let a = known(state, &c.assignment)?;
    match (a.status, a.answer_by) {
        (AssignmentStatus::Proposed, Some(by)) if by < ctx.today() => {
            Ok(vec![DomainEvent::AssignmentExpired(AssignmentExpired {
                assignment: a.id.clone(),
                answer_by: by,
            })])
        }
        (AssignmentStatus::Proposed, by) => Err(reject(
            RejectionCode::WrongState,
            "assignment",
            &a.id,
            match by {
                Some(by) => format!("its answer window runs to {by}"),
                None => "it has no answer window".to_owned(),
            },
        )),
        (status, _) => Err(not_awaiting(a, status)),
    }
}

/// Withdraw a proposal or an accepted assignment.
pub fn withdraw(state: &State, c: &WithdrawAssignment) -> Result<Vec<DomainEvent>, Rejection> {
    let a = known(state, &c.assignment)?;
    if !matches!(a.status, AssignmentStatus::Proposed | AssignmentStatus::Accepted) {
        return Err(not_awaiting(a, a.status));
    }
    check_text("reason", &c.reason, 500)?;
    Ok(vec![DomainEvent::AssignmentWithdrawn(AssignmentWithdrawn {
        assignment: a.id.clone(),
        reason: c.reason.clone(),
    })])
}

/// Record first contact with the receiving school, once, after acceptance.
pub fn first_contact(
    state: &State,
    c: &RecordFirstContact,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    let a = accepted(state, &c.assignment)?;
    if let Some(on) = a.first_contact {
        return Err(reject(
            RejectionCode::WrongState,
            "assignment",
            &a.id,
            format!("first contact was recorded on {on}"),
        ));
    }
    not_in_future("on", c.on, ctx)?;
    if let Some(at) = a.accepted_at
        && c.on < super::calendar::london_date(at)
    {
        return Err(reject(
            RejectionCode::Invalid,
            "on",
            c.on,
            format!("before the assignment was accepted ({})", super::calendar::london_date(at)),
        ));
    }
    let note = seal_note(ctx, "note", a.practitioner.as_str(), &c.note)?;
    Ok(vec![DomainEvent::FirstContactRecorded(FirstContactRecorded {
        assignment: a.id.clone(),
        on: c.on,
        note,
    })])
}

/// Record a visit of an accepted assignment.
pub fn record_visit(
    state: &State,
    c: &RecordVisit,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    let a = accepted(state, &c.assignment)?;
    let visit = new_visit_id(a, &c.visit)?;
    check_visit(a, None, c.on, c.half_days, true, true, ctx)?;
    let note = seal_note(ctx, "note", a.practitioner.as_str(), &c.note)?;
    Ok(vec![DomainEvent::VisitRecorded(VisitRecorded {
        assignment: a.id.clone(),
        visit,
        on: c.on,
        half_days: c.half_days,
        note,
    })])
}

/// Correct a recorded visit.
pub fn correct_visit(
    state: &State,
    c: &CorrectVisit,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    let a = known(state, &c.assignment)?;
    recorded_visit(a, &c.visit)?;
    check_visit(a, Some(&c.visit), c.on, c.half_days, true, true, ctx)?;
    let note = seal_note(ctx, "note", a.practitioner.as_str(), &c.note)?;
    Ok(vec![DomainEvent::VisitCorrected(VisitCorrected {
        assignment: a.id.clone(),
        visit: c.visit.clone(),
        on: c.on,
        half_days: c.half_days,
        note,
    })])
}

/// Void a visit recorded in error.
pub fn void_visit(state: &State, c: &VoidVisit) -> Result<Vec<DomainEvent>, Rejection> {
    let a = known(state, &c.assignment)?;
    recorded_visit(a, &c.visit)?;
    check_text("reason", &c.reason, 500)?;
    Ok(vec![DomainEvent::VisitVoided(VisitVoided {
        assignment: a.id.clone(),
        visit: c.visit.clone(),
        reason: c.reason.clone(),
    })])
}

/// Record a planned visit that was cancelled, or a no-show, charged or not.
pub fn cancel_visit(
    state: &State,
    c: &CancelVisit,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    let a = accepted(state, &c.assignment)?;
    let visit = new_visit_id(a, &c.visit)?;
    // A cancellation may be recorded ahead; a no-show only after the day.
    check_visit(a, None, c.on, c.half_days, c.no_show, c.charged, ctx)?;
    Ok(vec![DomainEvent::VisitCancelled(VisitCancelled {
        assignment: a.id.clone(),
        visit,
        on: c.on,
        half_days: c.half_days,
        no_show: c.no_show,
        charged: c.charged,
    })])
}

/// The receiving school confirms a recorded visit, once.
pub fn confirm_visit(state: &State, c: &ConfirmVisit) -> Result<Vec<DomainEvent>, Rejection> {
    let a = known(state, &c.assignment)?;
    let v = recorded_visit(a, &c.visit)?;
    if v.confirmed {
        return Err(reject(
            RejectionCode::WrongState,
            "visit",
            &c.visit,
            "this visit is already confirmed",
        ));
    }
    Ok(vec![DomainEvent::VisitConfirmed(VisitConfirmed {
        assignment: a.id.clone(),
        visit: c.visit.clone(),
    })])
}

/// Mark an accepted assignment's work as done.
pub fn complete(state: &State, c: &CompleteAssignment) -> Result<Vec<DomainEvent>, Rejection> {
    let a = accepted(state, &c.assignment)?;
    Ok(vec![DomainEvent::AssignmentCompleted(AssignmentCompleted { assignment: a.id.clone() })])
}

/// Whether an assignment is a proposal past its answer window on `today`.
pub fn is_overdue(a: &Assignment, today: NaiveDate) -> bool {
    a.status == AssignmentStatus::Proposed
        && !a.pending_run
        && a.answer_by.is_some_and(|by| by < today)
}

/// The last working day to answer a proposal made now.
pub(crate) fn answer_by(ctx: &Context<'_>) -> NaiveDate {
    ctx.rules.calendar.add_working_days(ctx.today(), ctx.rules.service.answer_within)
}

/// Why `p` may not serve `r` on `days` (CONTRACTS.md rules 3 and 4; a broker
/// by hand may go beyond the distance limit), or `None`.
pub(crate) fn ineligible(
    state: &State,
    r: &Request,
    p: &Practitioner,
    days: &DaysPerPeriod,
    ctx: &Context<'_>,
) -> Option<String> {
    let school = state.schools.get(&r.urn)?;
    if !p.specialisms.contains(&r.need) {
        return Some(format!("{} does not support {}", p.id, r.need));
    }
    if !p.phases.contains(&school.phase) {
        return Some(format!("{} does not work with {} schools", p.id, school.phase));
    }
    if !r.designations.contains(&p.title) {
        return Some(format!("the request does not accept the title {}", p.title));
    }
    if p.home_urn == r.urn {
        return Some("it is the practitioner's home school".to_owned());
    }
    let home_trust = state.schools.get(&p.home_urn).and_then(|h| h.trust.as_ref());
    if ctx.rules.policy.same_trust == SameTrust::Forbid
        && home_trust.is_some()
        && home_trust == school.trust.as_ref()
    {
        return Some(format!(
            "the school is in the practitioner's own trust ({})",
            school.trust.as_deref().unwrap_or("")
        ));
    }
    let windows: Vec<(NaiveDate, NaiveDate)> = days
        .keys()
        .filter_map(|period| ctx.rules.calendar.half_term(period))
        .map(|h| (h.first, h.last))
        .collect();
    for conflict in p.conflicts.values() {
        let applies = match &conflict.target {
            ConflictTarget::School { urn } => *urn == r.urn,
            ConflictTarget::Trust { name } => school.trust.as_deref() == Some(name.as_str()),
        };
        let overlaps = windows.iter().any(|(first, last)| {
            conflict.valid_from.is_none_or(|f| f <= *last)
                && conflict.valid_to.is_none_or(|t| t >= *first)
        });
        if applies && overlaps {
            return Some(format!("a declared conflict of interest ({})", conflict.kind.as_str()));
        }
    }
    None
}

/// Whether an assignment id is taken: recorded, or its stream exists (the
/// proposals of a discarded run leave their streams behind).
pub(crate) fn is_taken(state: &State, id: &AssignmentId) -> bool {
    state.assignments.contains_key(id)
        || state.version(&bridges_schemas::events::assignment_stream(id)) > 0
}

/// The practitioner has `days` free: with `held`, counting proposals
/// awaiting an answer as well as accepted days (a new proposal); without,
/// accepted days only (an acceptance, whose own days are among the held).
fn check_capacity(
    state: &State,
    p: &Practitioner,
    days: &DaysPerPeriod,
    ctx: &Context<'_>,
    held: bool,
) -> Result<(), Rejection> {
    capacity_left(state, p, days, ctx, held, &|_| 0)
}

/// As `check_capacity`, with `extra` days per half-term already given to
/// the practitioner besides what the state holds (a run's record counts its
/// own earlier proposals so).
pub(crate) fn capacity_left(
    state: &State,
    p: &Practitioner,
    days: &DaysPerPeriod,
    ctx: &Context<'_>,
    held: bool,
    extra: &dyn Fn(&bridges_schemas::Period) -> u32,
) -> Result<(), Rejection> {
    let used = |period| {
        extra(period)
            + if held { state.held_days(&p.id, period) } else { state.accepted_days(&p.id, period) }
    };
    for (period, d) in days {
        let capacity = p.capacity.get(period).copied().unwrap_or(0);
        let used = used(period);
        if used + d > capacity {
            return Err(reject(
                RejectionCode::OverCapacity,
                &format!("days.{period}"),
                d,
                format!(
                    "{} has {} of {capacity} days free in {period}",
                    p.id,
                    capacity.saturating_sub(used)
                ),
            ));
        }
    }
    let mut years: Vec<_> = days
        .keys()
        .filter_map(|k| ctx.rules.calendar.half_term(k))
        .map(|h| h.year.clone())
        .collect();
    years.sort();
    years.dedup();
    for year in years {
        if let Some(max) = p.max_days.get(&year) {
            let used: u32 = ctx.rules.calendar.year(&year).map(|h| used(&h.label)).sum();
            let more: u32 = days
                .iter()
                .filter(|(k, _)| ctx.rules.calendar.half_term(k).is_some_and(|h| h.year == year))
                .map(|(_, d)| d)
                .sum();
            if used + more > *max {
                return Err(reject(
                    RejectionCode::OverCapacity,
                    "days",
                    more,
                    format!(
                        "{} has {} of {max} days left in {year}",
                        p.id,
                        max.saturating_sub(used)
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A counted assignment (a run's proposal counts once its run is completed).
pub(crate) fn known<'s>(state: &'s State, id: &AssignmentId) -> Result<&'s Assignment, Rejection> {
    match state.assignments.get(id) {
        Some(a) if !a.pending_run => Ok(a),
        _ => Err(reject(RejectionCode::UnknownAssignment, "assignment", id, "no such assignment")),
    }
}

fn awaiting_answer<'s>(
    state: &'s State,
    id: &AssignmentId,
    ctx: &Context<'_>,
) -> Result<&'s Assignment, Rejection> {
    let a = known(state, id)?;
    if a.status != AssignmentStatus::Proposed {
        return Err(not_awaiting(a, a.status));
    }
    if is_overdue(a, ctx.today()) {
        return Err(reject(
            RejectionCode::Expired,
            "assignment",
            id,
            format!(
                "the answer window closed on {}",
                a.answer_by.map(|d| d.to_string()).unwrap_or_default()
            ),
        ));
    }
    Ok(a)
}

fn accepted<'s>(state: &'s State, id: &AssignmentId) -> Result<&'s Assignment, Rejection> {
    let a = known(state, id)?;
    if a.status != AssignmentStatus::Accepted {
        return Err(reject(
            RejectionCode::WrongState,
            "assignment",
            id,
            format!("this assignment is {}, not accepted", status_word(a.status)),
        ));
    }
    Ok(a)
}

fn not_awaiting(a: &Assignment, status: AssignmentStatus) -> Rejection {
    let code = match status {
        AssignmentStatus::Expired => RejectionCode::Expired,
        AssignmentStatus::Withdrawn => RejectionCode::Withdrawn,
        _ => RejectionCode::WrongState,
    };
    reject(code, "assignment", &a.id, format!("this proposal is {}", status_word(status)))
}

fn status_word(s: AssignmentStatus) -> &'static str {
    match s {
        AssignmentStatus::Proposed => "awaiting an answer",
        AssignmentStatus::Accepted => "already accepted",
        AssignmentStatus::Declined(_) => "declined",
        AssignmentStatus::Expired => "expired",
        AssignmentStatus::Withdrawn => "withdrawn",
        AssignmentStatus::Completed => "completed",
    }
}

fn recorded_visit<'a>(
    a: &'a Assignment,
    visit: &VisitId,
) -> Result<&'a super::state::Visit, Rejection> {
    match a.visits.get(visit) {
        None => Err(reject(
            RejectionCode::UnknownVisit,
            "visit",
            visit,
            "no such visit on this assignment",
        )),
        Some(v) if v.status != VisitStatus::Recorded => Err(reject(
            RejectionCode::WrongState,
            "visit",
            visit,
            "this visit was voided or cancelled",
        )),
        Some(v) => Ok(v),
    }
}

fn new_visit_id(a: &Assignment, given: &Option<VisitId>) -> Result<VisitId, Rejection> {
    match given {
        Some(v) => {
            check_id("visit", v.as_str(), 32)?;
            if a.visits.contains_key(v) {
                return Err(reject(
                    RejectionCode::Duplicate,
                    "visit",
                    v,
                    "this visit id is taken on this assignment",
                ));
            }
            Ok(v.clone())
        }
        None => {
            let n = (1..).find(|n| !a.visits.contains_key(&VisitId(format!("v{n}")))).unwrap_or(1);
            Ok(VisitId(format!("v{n}")))
        }
    }
}

/// A visit on `on` of `half_days`: a working day of one of the assignment's
/// half-terms, not in the future when `past` (it happened), and (when it is
/// charged) within the assigned days of that half-term, `except` the visit
/// being corrected.
fn check_visit(
    a: &Assignment,
    except: Option<&VisitId>,
    on: NaiveDate,
    half_days: u32,
    past: bool,
    charged: bool,
    ctx: &Context<'_>,
) -> Result<(), Rejection> {
    if !(1..=2).contains(&half_days) {
        return Err(reject(
            RejectionCode::Invalid,
            "half_days",
            half_days,
            "a visit on one day is 1 or 2 half days",
        ));
    }
    if past {
        not_in_future("on", on, ctx)?;
    }
    let cal = &ctx.rules.calendar;
    let Some(h) = cal.half_term_of(on).filter(|h| a.days.contains_key(&h.label)) else {
        let periods: Vec<&str> = a.days.keys().map(|p| p.as_str()).collect();
        return Err(reject(
            RejectionCode::OutsideHalfTerm,
            "on",
            on,
            format!("not within the assignment's half-terms ({})", periods.join(", ")),
        ));
    };
    if !cal.is_working_day(on) {
        return Err(reject(
            RejectionCode::NotWorkingDay,
            "on",
            on,
            "not a working day (a weekend or a bank holiday)",
        ));
    }
    if charged {
        let assigned = a.days.get(&h.label).copied().unwrap_or(0) * 2;
        let used: u32 = a
            .visits
            .iter()
            .filter(|(id, _)| Some(*id) != except)
            .filter(|(_, v)| cal.half_term_of(v.on).is_some_and(|x| x.label == h.label))
            .filter(|(_, v)| match v.status {
                VisitStatus::Recorded => true,
                VisitStatus::Cancelled { charged, .. } => charged,
                VisitStatus::Voided => false,
            })
            .map(|(_, v)| v.half_days)
            .sum();
        if used + half_days > assigned {
            return Err(reject(
                RejectionCode::BeyondAssigned,
                "half_days",
                half_days,
                format!(
                    "{} half days of {assigned} assigned in {} are already recorded",
                    used, h.label
                ),
            ));
        }
    }
    Ok(())
}

fn not_in_future(field: &str, on: NaiveDate, ctx: &Context<'_>) -> Result<(), Rejection> {
    if on > ctx.today() {
        return Err(reject(
            RejectionCode::InFuture,
            field,
            on,
            format!("after today ({})", ctx.today()),
        ));
    }
    Ok(())
}

/// Who a run's proposal on `request` would go to: used by the run's record.
pub(crate) fn same_pair(
    a: &Assignment,
    request: &bridges_schemas::RequestId,
    practitioner: &PractitionerId,
) -> bool {
    &a.request == request && &a.practitioner == practitioner
}
