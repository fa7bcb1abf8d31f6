//! Deciding a matching run's record: a plan solved at one log position is
//! recorded later, so only what still holds then becomes a proposal (the
//! request still open and asking, the practitioner still active, free and
//! not declined since); the rest is listed as dropped, with why. A run's
//! events are its start, its unmet requests in parts, one proposal per
//! assignment (each in its own stream) and its completion, which is what
//! makes its proposals count. A run left without it is discarded.

use bridges_schemas::commands::{DiscardRun, RecordRun, Rejection, RejectionCode};
use bridges_schemas::common::SolveStatus;
use bridges_schemas::events::{
    AssignmentProposed, DaysPerPeriod, DomainEvent, DroppedProposal, MatchingRunCompleted,
    MatchingRunDiscarded, MatchingRunStarted, TierFigures, UnmetRecord, UnmetRecorded,
};
use bridges_schemas::vocab::AssignmentId;
use bridges_schemas::{Period, PractitionerId, RequestId};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use super::assignment::{answer_by, capacity_left, ineligible, is_taken, same_pair};
use super::state::RequestStatus;
use super::{Context, State, check_id, reject};

/// Bytes of records (as JSON) per `UnmetRecorded` part, and of dropped
/// proposals kept in a run's completion: the log refuses a payload over
/// 6 KiB (`log::MAX_PAYLOAD_BYTES`, below sled's blob threshold), and an
/// event's envelope and meta add a few hundred bytes.
pub const PART_BYTES: usize = 4_000;

/// Split records into parts of at most `budget` bytes of JSON each (a
/// record larger than that gets a part of its own).
pub fn parts_by_size<T: serde::Serialize + Clone>(items: &[T], budget: usize) -> Vec<Vec<T>> {
    let mut parts: Vec<Vec<T>> = Vec::new();
    let mut current: Vec<T> = Vec::new();
    let mut bytes = 0;
    for item in items {
        let size = serde_json::to_vec(item).map_or(budget, |v| v.len() + 1);
        if !current.is_empty() && bytes + size > budget {
            parts.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += size;
        current.push(item.clone());
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// Longest run id (assignment ids `<run>-a<n>` must stay within 64).
pub const MAX_RUN_ID: usize = 40;

/// Record a run's plan, keeping what still holds.
pub fn record(
    state: &State,
    c: &RecordRun,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    check_id("run", c.run.as_str(), MAX_RUN_ID)?;
    if state.runs.contains_key(&c.run) {
        return Err(reject(
            RejectionCode::Duplicate,
            "run",
            &c.run,
            "this run is already recorded",
        ));
    }
    if c.problem_sha256.len() != 64 || !c.problem_sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(reject(
            RejectionCode::Invalid,
            "problem_sha256",
            &c.problem_sha256,
            "64 hex digits",
        ));
    }
    let mut events = vec![DomainEvent::MatchingRunStarted(MatchingRunStarted {
        run: c.run.clone(),
        as_of_position: c.as_of_position,
        problem_sha256: c.problem_sha256.clone(),
        periods: c.periods.clone(),
        trigger: c.trigger,
    })];
    let unmet: Vec<UnmetRecord> = c
        .plan
        .unmet
        .iter()
        .map(|u| UnmetRecord {
            request: u.request.clone(),
            days: u.days.clone(),
            reason: u.reason,
            detail: u.detail.clone(),
            counterfactual: u.counterfactual.clone(),
        })
        .collect();
    for part in parts_by_size(&unmet, PART_BYTES) {
        events.push(DomainEvent::UnmetRecorded(UnmetRecorded { run: c.run.clone(), unmet: part }));
    }
    let mut dropped = Vec::new();
    let mut proposals = 0u32;
    let mut next_id = 0u32;
    // What this record proposes, so its later proposals see its earlier
    // ones: days per practitioner and half-term (capacity), days per
    // request and half-term (what the request asks), and who serves each
    // request (one practitioner per request).
    let mut taking: BTreeMap<(PractitionerId, Period), u32> = BTreeMap::new();
    let mut giving: BTreeMap<(RequestId, Period), u32> = BTreeMap::new();
    let mut serving: BTreeMap<RequestId, PractitionerId> = BTreeMap::new();
    for a in &c.plan.assignments {
        let drop = |reason: String| DroppedProposal {
            request: a.request.clone(),
            practitioner: a.practitioner.clone(),
            reason,
        };
        let held = |period: &Period| -> u32 {
            state
                .assignments_of(&a.request)
                .filter(|x| x.holds_days() && same_pair(x, &a.request, &a.practitioner))
                .map(|x| x.days.get(period).copied().unwrap_or(0))
                .sum()
        };
        let new: DaysPerPeriod = a
            .days
            .iter()
            .filter(|(p, _)| !ctx.rules.calendar.has_ended(p, ctx.today()))
            .map(|(p, d)| (p.clone(), d.saturating_sub(held(p))))
            .filter(|(_, d)| *d > 0)
            .collect();
        if new.is_empty() {
            continue; // Its days are pins already held (or have ended).
        }
        let Some(r) = state.requests.get(&a.request) else {
            dropped.push(drop("the request is unknown".into()));
            continue;
        };
        if r.status != RequestStatus::Open {
            dropped.push(drop("the request was withdrawn or closed since".into()));
            continue;
        }
        if state.schools.get(&r.urn).is_none_or(|s| s.closed) {
            dropped.push(drop(format!("the school {} has closed since", r.urn)));
            continue;
        }
        let Some(p) = state.practitioners.get(&a.practitioner) else {
            dropped.push(drop("the practitioner is unknown".into()));
            continue;
        };
        if p.withdrawn || p.erased {
            dropped.push(drop("the practitioner withdrew since".into()));
            continue;
        }
        if state.declined_by(&r.id).contains(&p.id) {
            dropped.push(drop("the practitioner declined this request".into()));
            continue;
        }
        if let Some(why) = ineligible(state, r, p, &new, ctx) {
            dropped.push(drop(why));
            continue;
        }
        if ctx.rules.policy.single_practitioner
            && (state.assignments_of(&r.id).any(|x| x.holds_days() && x.practitioner != p.id)
                || serving.get(&r.id).is_some_and(|q| q != &p.id))
        {
            dropped.push(drop("another practitioner holds days on the request".into()));
            continue;
        }
        let over_request = new.iter().find(|(period, d)| {
            let asked = r.days.get(*period).copied().unwrap_or(0);
            let held_all: u32 = state
                .assignments_of(&r.id)
                .filter(|x| x.holds_days())
                .map(|x| x.days.get(*period).copied().unwrap_or(0))
                .sum();
            let given = giving.get(&(r.id.clone(), (*period).clone())).copied().unwrap_or(0);
            held_all + given + **d > asked
        });
        if let Some((period, _)) = over_request {
            dropped.push(drop(format!("the request no longer asks for those days in {period}")));
            continue;
        }
        let already =
            |period: &Period| taking.get(&(p.id.clone(), period.clone())).copied().unwrap_or(0);
        if let Err(short) = capacity_left(state, p, &new, ctx, true, &already) {
            dropped
                .push(drop(format!("the practitioner's days were taken since: {}", short.reason)));
            continue;
        }
        for (period, d) in &new {
            *taking.entry((p.id.clone(), period.clone())).or_default() += d;
            *giving.entry((r.id.clone(), period.clone())).or_default() += d;
        }
        serving.insert(r.id.clone(), p.id.clone());
        proposals += 1;
        // `<run>-a<n>`, skipping ids taken (by hand, or a discarded run's).
        let id = loop {
            next_id += 1;
            let id = AssignmentId(format!("{}-a{next_id}", c.run));
            if !is_taken(state, &id) {
                break id;
            }
        };
        events.push(DomainEvent::AssignmentProposed(AssignmentProposed {
            assignment: id,
            request: r.id.clone(),
            practitioner: p.id.clone(),
            days: new,
            run: Some(c.run.clone()),
            answer_by: Some(answer_by(ctx)),
        }));
    }
    // The completion keeps the dropped proposals that fit in one event; the
    // rest are counted in a last line (they are proposals the run did not
    // make, and the next run sees the same state).
    if let Some(kept) = parts_by_size(&dropped, PART_BYTES / 2).into_iter().next()
        && kept.len() < dropped.len()
    {
        let more = dropped.len() - kept.len();
        let last = DroppedProposal {
            request: dropped[kept.len()].request.clone(),
            practitioner: dropped[kept.len()].practitioner.clone(),
            reason: format!("and {more} more proposals dropped as no longer holding"),
        };
        dropped = kept;
        dropped.push(last);
    }
    let plan_json = serde_json::to_vec(&c.plan).expect("a plan serializes");
    // The plan's per-tier bounds (each with the higher tiers held); the
    // problem's full figures for what was requested.
    let tiers = (0..4)
        .map(|t| {
            let requested = c.requested[t];
            let covered = c.plan.coverage[t];
            let (bound, gap) = match c.plan.tiers.get(t) {
                Some(b) => (f64::from(b.bound), b.gap),
                // A plan without per-tier bounds: proven optimal means each
                // tier is proven; otherwise the days asked are the bound.
                None if c.plan.status == SolveStatus::Optimal => (f64::from(covered), 0.0),
                None if requested > 0 => (
                    f64::from(requested),
                    f64::from(requested - covered.min(requested)) / f64::from(requested),
                ),
                None => (0.0, 0.0),
            };
            TierFigures { requested, covered, bound, gap, greedy: c.greedy_coverage[t] }
        })
        .collect();
    events.push(DomainEvent::MatchingRunCompleted(MatchingRunCompleted {
        run: c.run.clone(),
        status: c.plan.status,
        objective: c.plan.objective,
        bound: c.plan.bound,
        gap: c.plan.gap,
        seconds: c.plan.seconds,
        tiers,
        plan_sha256: hex::encode(Sha256::digest(&plan_json)),
        proposals,
        unmet: unmet.len() as u32,
        dropped,
    }));
    Ok(events)
}

/// Discard a run that was started but never completed.
pub fn discard(state: &State, c: &DiscardRun) -> Result<Vec<DomainEvent>, Rejection> {
    let Some(run) = state.runs.get(&c.run) else {
        return Err(reject(RejectionCode::UnknownRun, "run", &c.run, "no such run"));
    };
    if run.is_complete() || run.discarded {
        return Err(reject(
            RejectionCode::WrongState,
            "run",
            &c.run,
            "this run is complete or already discarded",
        ));
    }
    Ok(vec![DomainEvent::MatchingRunDiscarded(MatchingRunDiscarded {
        run: c.run.clone(),
        reason: c.reason.clone(),
    })])
}
