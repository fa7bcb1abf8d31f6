//! The planning snapshot: the brokerage `problem` document a matching run
//! solves, cut from the domain state at a moment (CONTRACTS.md). Only the
//! half-terms of the run's academic year that have not ended are planned;
//! requests carry their full days there, practitioners their declared
//! capacity (cut to the working days left, less leave), accepted
//! assignments and proposals awaiting an answer are pins counted against
//! those full figures (rule 7; a practitioner who withdrew since is in the
//! problem for their pins only), every practitioner who declined a request
//! is excluded from it (rule 9) unless they hold a pin on it, continuity
//! comes from history, conflicts count when their window overlaps a planned
//! half-term and trust conflicts are expanded to the trust's schools. The
//! budget is the year's less what is committed outside the problem. Pure.

use std::collections::{BTreeMap, BTreeSet};

use bridges_schemas::brokerage::{
    BrokerageProblem, Conflict, DaysByPeriod, Exclusion, Pin, Practitioner as ProblemPractitioner,
    School, SupportRequest,
};
use bridges_schemas::vocab::{ConflictTarget, TierChoice};
use bridges_schemas::{NeedArea, Period, PractitionerId, RequestId, Urn};
use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::state::{Practitioner, RequestStatus};
use crate::domain::{Calendar, HalfTerm, Rules, State};

/// A cut problem and what a run records beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub problem: BrokerageProblem,
    /// Days requested per tier 1..4 (full figures, pins included).
    pub requested: [u32; 4],
    /// The academic year planned, if the calendar has one at that moment.
    pub year: Option<String>,
}

/// The problem a matching run at `at` solves.
pub fn snapshot(state: &State, rules: &Rules, at: DateTime<Utc>) -> Snapshot {
    cut(state, rules, at, None)
}

/// The part of [`snapshot`] that `request recommend` reads for `request`:
/// every practitioner and every pin as in the whole snapshot (the days
/// others hold are what is left of each practitioner), but of the requests
/// only `request` and those holding pins (a pin names its request), of the
/// conflicts and exclusions only those on `request`, and of the schools
/// only those it names (and continuity only for `request`: the others are
/// there for their pins). The worker's `recommend` on it gives the answer it
/// gives on the whole snapshot; cutting it skips most of the requests and
/// the expansion of every trust conflict. `requested` counts the requests
/// in it.
pub fn snapshot_for(
    state: &State,
    rules: &Rules,
    at: DateTime<Utc>,
    request: &RequestId,
) -> Snapshot {
    cut(state, rules, at, Some(request))
}

/// The whole snapshot, or with `only` the part of it for that request.
fn cut(state: &State, rules: &Rules, at: DateTime<Utc>, only: Option<&RequestId>) -> Snapshot {
    let today = crate::domain::calendar::london_date(at);
    let cal = &rules.calendar;
    let half_terms: Vec<&HalfTerm> = cal.planning_half_terms(today);
    let periods: Vec<Period> = half_terms.iter().map(|h| h.label.clone()).collect();
    let planned: BTreeSet<&Period> = periods.iter().collect();
    let year = half_terms.first().map(|h| h.year.clone());

    let active: BTreeMap<&PractitionerId, &Practitioner> = state
        .practitioners
        .iter()
        .filter(|(_, p)| !p.withdrawn && !p.erased && state.schools.contains_key(&p.home_urn))
        .collect();
    // A request in the problem: open, its school open, days asked in a
    // planned half-term (asked of one request at a time: a cut for one
    // request looks up only those that hold days).
    let planned_request = |r: &crate::domain::state::Request| {
        r.status == RequestStatus::Open
            && state.schools.get(&r.urn).is_some_and(|s| s.is_open())
            && r.days.keys().any(|p| planned.contains(p))
    };
    let is_planned = |id: &RequestId| state.requests.get(id).is_some_and(&planned_request);

    // Pins: days held in planned half-terms, merged per pair, whoever holds
    // them (a practitioner who withdrew or was erased since keeps what they
    // hold: "proposals and pins stand as they are"). Days held on a request
    // no longer in the problem still take the practitioner's time, and
    // committed ones the budget.
    let mut pins: BTreeMap<(&RequestId, &PractitionerId), DaysByPeriod> = BTreeMap::new();
    let mut held_elsewhere: BTreeMap<(&PractitionerId, &Period), u32> = BTreeMap::new();
    let mut committed_elsewhere_pence: u64 = 0;
    for a in state.assignments.values() {
        let holds =
            a.holds_days() && !crate::domain::assignment::is_overdue(a, today) || a.is_committed();
        let Some(holder) = state.practitioners.get(&a.practitioner) else { continue };
        if !holds || !state.schools.contains_key(&holder.home_urn) {
            continue;
        }
        for (period, d) in &a.days {
            let Some(period) = planned.get(period).copied() else { continue };
            if is_planned(&a.request) {
                *pins
                    .entry((&a.request, &a.practitioner))
                    .or_default()
                    .entry(period.clone())
                    .or_default() += f64::from(*d);
            } else {
                *held_elsewhere.entry((&a.practitioner, period)).or_default() += d;
                if a.is_committed() {
                    committed_elsewhere_pence += u64::from(holder.day_rate) * 100 * u64::from(*d);
                }
            }
        }
    }
    // Summed once: a practitioner's pinned days are asked for per period.
    let mut pinned: BTreeMap<(&PractitionerId, &Period), f64> = BTreeMap::new();
    for ((_, p), days) in &pins {
        for (period, d) in days {
            *pinned.entry((*p, period)).or_default() += d;
        }
    }
    let pinned_of = |p: &PractitionerId, period: &Period| -> f64 {
        pinned.get(&(p, period)).copied().unwrap_or(0.0)
    };

    // Days accepted per practitioner and half-term (`State::accepted_days`
    // of every pair, in one pass over the assignments).
    let mut accepted: BTreeMap<(&PractitionerId, &Period), u32> = BTreeMap::new();
    for a in state.assignments.values().filter(|a| a.is_committed()) {
        for (period, d) in &a.days {
            *accepted.entry((&a.practitioner, period)).or_default() += d;
        }
    }

    // Those who no longer take work are in the problem only for their pins,
    // with exactly the pinned days as capacity.
    let pin_only: Vec<ProblemPractitioner> = pins
        .keys()
        .map(|(_, p)| *p)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|p| !active.contains_key(p))
        .filter_map(|p| state.practitioners.get(p))
        .map(|p| {
            let capacity: DaysByPeriod = periods
                .iter()
                .map(|period| (period.clone(), pinned_of(&p.id, period)))
                .filter(|(_, d)| *d > 0.0)
                .collect();
            ProblemPractitioner {
                id: p.id.clone(),
                designation: p.title.clone(),
                home_urn: p.home_urn,
                specialisms: p.specialisms.clone(),
                phases: p.phases.clone(),
                day_rate: f64::from(p.day_rate),
                max_days: Some(capacity.values().sum()),
                capacity,
            }
        })
        .collect();
    // Working days left in each half-term (less each one's leave below).
    let working: Vec<u32> =
        half_terms.iter().map(|h| cal.working_days(h.first.max(today), h.last)).collect();
    let mut practitioners: Vec<ProblemPractitioner> = active
        .values()
        .map(|p| {
            let mut capacity = DaysByPeriod::new();
            for (h, &all) in half_terms.iter().zip(&working) {
                let declared = p.capacity.get(&h.label).copied().unwrap_or(0);
                let free = all.saturating_sub(days_on_leave(cal, p, h, today));
                let elsewhere = held_elsewhere.get(&(&p.id, &h.label)).copied().unwrap_or(0);
                let cap = f64::from(declared.min(free).saturating_sub(elsewhere))
                    .max(pinned_of(&p.id, &h.label));
                if cap > 0.0 {
                    capacity.insert(h.label.clone(), cap);
                }
            }
            let max_days = year.as_ref().and_then(|y| p.max_days.get(y)).map(|max| {
                let ended: u32 = cal
                    .year(year.as_ref().expect("a yearly maximum has a year"))
                    .filter(|h| h.last < today)
                    .map(|h| accepted.get(&(&p.id, &h.label)).copied().unwrap_or(0))
                    .sum();
                let elsewhere: u32 =
                    held_elsewhere.iter().filter(|((q, _), _)| *q == &p.id).map(|(_, d)| d).sum();
                let pinned: f64 = periods.iter().map(|period| pinned_of(&p.id, period)).sum();
                f64::from(max.saturating_sub(ended).saturating_sub(elsewhere)).max(pinned)
            });
            ProblemPractitioner {
                id: p.id.clone(),
                designation: p.title.clone(),
                home_urn: p.home_urn,
                specialisms: p.specialisms.clone(),
                phases: p.phases.clone(),
                day_rate: f64::from(p.day_rate),
                capacity,
                max_days,
            }
        })
        .collect();
    practitioners.extend(pin_only);
    practitioners.sort_by(|a, b| a.id.cmp(&b.id));
    let in_problem: BTreeSet<&PractitionerId> = active.keys().copied().collect();

    // The requests in the problem; for one request, it and those holding
    // pins, and the siblings of those alone.
    let in_problem_requests: Vec<&crate::domain::state::Request> = match only {
        None => state.requests.values().filter(|r| planned_request(r)).collect(),
        Some(o) => {
            let ids: BTreeSet<&RequestId> =
                pins.keys().map(|(r, _)| *r).chain(std::iter::once(o)).collect();
            ids.into_iter()
                .filter_map(|id| state.requests.get(id))
                .filter(|r| planned_request(r))
                .collect()
        }
    };
    // For one request, its continuity alone: the others are there for
    // their pins.
    let siblings = match only.and_then(|o| state.requests.get(o)) {
        None => siblings(state),
        Some(o) => {
            let same = state.requests.values().filter(|r| r.urn == o.urn && r.need == o.need);
            Siblings::from([((o.urn, &o.need), same.map(|r| &r.id).collect())])
        }
    };
    let mut requested = [0u32; 4];
    let requests: Vec<SupportRequest> = in_problem_requests
        .iter()
        .map(|r| {
            let tier = tier_of(state, r.tier, r.urn);
            let days: DaysByPeriod = r
                .days
                .iter()
                .filter(|(p, _)| planned.contains(p))
                .map(|(p, d)| (p.clone(), f64::from(*d)))
                .collect();
            requested[usize::from(tier - 1)] += days.values().map(|d| *d as u32).sum::<u32>();
            SupportRequest {
                id: r.id.clone(),
                urn: r.urn,
                need: r.need.clone(),
                designations: r.designations.clone(),
                priority: i64::from(tier),
                days,
                previous_practitioner: only
                    .is_none_or(|o| o == &r.id)
                    .then(|| previous(state, &siblings, &r.id))
                    .flatten()
                    .filter(|p| in_problem.contains(p)),
            }
        })
        .collect();

    // With `only`, the conflicts on its school (a trust's: when the school
    // is the trust's).
    let only_school =
        only.and_then(|o| state.requests.get(o)).and_then(|r| state.schools.get(&r.urn));
    let mut conflicts = BTreeSet::new();
    for p in active.values() {
        for c in p.conflicts.values() {
            // Its window overlaps a planned half-term (not merely the span
            // from the first to the last: the holidays between do not count).
            let overlaps = half_terms.iter().any(|h| {
                c.valid_from.is_none_or(|from| from <= h.last)
                    && c.valid_to.is_none_or(|to| to >= h.first)
            });
            if !overlaps {
                continue;
            }
            match (&c.target, only_school) {
                (ConflictTarget::School { urn }, Some(school)) => {
                    if *urn == school.urn {
                        conflicts.insert((p.id.clone(), *urn));
                    }
                }
                (ConflictTarget::Trust { name }, Some(school)) => {
                    if school.trust.as_deref() == Some(name.as_str()) {
                        conflicts.insert((p.id.clone(), school.urn));
                    }
                }
                _ if only.is_some() => {}
                (ConflictTarget::School { urn }, None) if state.schools.contains_key(urn) => {
                    conflicts.insert((p.id.clone(), *urn));
                }
                (ConflictTarget::School { .. }, None) => {}
                (ConflictTarget::Trust { name }, None) => {
                    for s in
                        state.schools.values().filter(|s| s.trust.as_deref() == Some(name.as_str()))
                    {
                        conflicts.insert((p.id.clone(), s.urn));
                    }
                }
            }
        }
    }

    // A pair that holds a pin serves the request: a decline of more days
    // on it leaves its pin and is not an exclusion (a pin on an excluded
    // pair is refused by the contract); the run's record drops new days
    // for a decliner.
    let mut exclusions = Vec::new();
    for r in requests.iter().filter(|r| only.is_none_or(|o| o == &r.id)) {
        for p in state.declined_by(&r.id) {
            if in_problem.contains(&p) && !pins.contains_key(&(&r.id, &p)) {
                exclusions.push((r.id.clone(), p));
            }
        }
    }

    let budget = year.as_ref().and_then(|y| state.partnerships.get(y)).and_then(|p| {
        if p.budgets.is_empty() {
            return None;
        }
        // The budget pays the brokerage fee on top of each day's rate, so
        // the days it buys cost at most total / (1 + fee) in rates (a plan
        // to the full total overspent it by the fee).
        let total: u64 =
            p.budgets.values().sum::<u64>() * 10_000 / (10_000 + u64::from(p.fee_basis_points));
        let spent_before: u64 = state
            .assignments
            .values()
            .filter(|a| a.is_committed())
            .filter_map(|a| {
                let rate = u64::from(state.practitioners.get(&a.practitioner)?.day_rate) * 100;
                let ended: u32 = a
                    .days
                    .iter()
                    .filter(|(period, _)| {
                        cal.half_term(period)
                            .is_some_and(|h| Some(&h.year) == year.as_ref() && h.last < today)
                    })
                    .map(|(_, d)| d)
                    .sum();
                Some(rate * u64::from(ended))
            })
            .sum();
        Some(
            total.saturating_sub(spent_before).saturating_sub(committed_elsewhere_pence) as f64
                / 100.0,
        )
    });
    let mut policy = rules.policy.clone();
    policy.budget = budget.or(policy.budget);

    // With `only`, the schools the cut names.
    let named: BTreeSet<Urn> = match only {
        Some(_) => {
            requests.iter().map(|r| r.urn).chain(practitioners.iter().map(|p| p.home_urn)).collect()
        }
        None => BTreeSet::new(),
    };
    let problem = BrokerageProblem {
        periods,
        schools: state
            .schools
            .values()
            .filter(|s| only.is_none() || named.contains(&s.urn))
            .map(|s| School {
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
        conflicts: conflicts
            .into_iter()
            .map(|(practitioner, urn)| Conflict { practitioner, urn })
            .collect(),
        exclusions: exclusions
            .into_iter()
            .map(|(request, practitioner)| Exclusion { request, practitioner })
            .collect(),
        pinned: pins
            .into_iter()
            .map(|((r, p), days)| Pin { request: r.clone(), practitioner: p.clone(), days })
            .collect(),
        policy,
    };
    Snapshot { problem, requested, year: year.map(|y| y.0) }
}

/// A request's tier now: fixed, or its school's risk tier (4 while it has none).
pub fn tier_of(state: &State, tier: TierChoice, urn: Urn) -> u8 {
    tier.fixed().unwrap_or_else(|| {
        state.schools.get(&urn).and_then(|s| s.risk.as_ref()).and_then(|r| r.tier).unwrap_or(4)
    })
}

/// The requests of each school and need, for [`previous`].
pub type Siblings<'a> = BTreeMap<(Urn, &'a NeedArea), Vec<&'a RequestId>>;

/// Every request by its school and need (made once per snapshot: looking
/// through all requests for each one was 25 million comparisons, most of
/// a snapshot's time, at 5,000 requests).
pub fn siblings(state: &State) -> Siblings<'_> {
    let mut out: Siblings<'_> = BTreeMap::new();
    for r in state.requests.values() {
        out.entry((r.urn, &r.need)).or_default().push(&r.id);
    }
    out
}

/// Who should keep working with the request's school: the practitioner of
/// its latest accepted assignment, else of the latest accepted assignment on
/// an earlier request of the same school and need (`siblings` of the state).
pub fn previous(
    state: &State,
    siblings: &Siblings<'_>,
    request: &RequestId,
) -> Option<PractitionerId> {
    let r = state.requests.get(request)?;
    let latest = |it: &mut dyn Iterator<Item = &crate::domain::state::Assignment>| {
        it.filter(|a| a.is_committed())
            .max_by_key(|a| a.accepted_at)
            .map(|a| a.practitioner.clone())
    };
    latest(&mut state.assignments_of(request)).or_else(|| {
        let mut earlier = siblings
            .get(&(r.urn, &r.need))
            .into_iter()
            .flatten()
            .filter(|o| **o != &r.id)
            .flat_map(|o| state.assignments_of(o));
        latest(&mut earlier)
    })
}

/// The practitioner's working days on leave in a half-term from `today`
/// (or its start) to its end.
fn days_on_leave(cal: &Calendar, p: &Practitioner, h: &HalfTerm, today: NaiveDate) -> u32 {
    let from = h.first.max(today);
    p.leave
        .iter()
        .map(|(a, b)| {
            let (a, b) = ((*a).max(from), (*b).min(h.last));
            cal.working_days(a, b)
        })
        .sum()
}
