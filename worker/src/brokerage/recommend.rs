//! Who could take one request now (`bridges request recommend ID`, the
//! broker's phone call "find an SLE within 48 hours"): every practitioner of
//! the problem is either a candidate, with the days they would take, their
//! days free per half-term, cost and distance, or not, with the first hard
//! rule in the way. Candidates are ranked as the solver would choose between
//! them for this request alone: the most days first (the primary goal), then
//! the tie-break's secondary cost of giving them those days (day rate,
//! travel, continuity and pin bonuses, fair load; `model.rs`), then distance
//! and the order given.
//!
//! The problem is the engine's snapshot: every practitioner with their full
//! capacity, and the accepted assignments as pins, counted against
//! capacity, `max_days` and the budget (rule 7). It solves no MILP and
//! plans nothing: the days it names are what one practitioner could take
//! with nothing else changed. A pair listed in `exclusions` (rule 9, a
//! decline) is reason `excluded`, after `distance`.
//!
//! Measured (`bench brokerage`): 2,000 schools, 500 practitioners and
//! 5,000 requests, p50 4.7 ms and p99 5.9 ms a request, of which validating
//! the whole problem is 3.8 ms.

use std::collections::BTreeMap;

use bridges_schemas::SameTrust;
use bridges_schemas::brokerage::{
    BrokerageProblem, Candidate, NotCandidate, NotCandidateReason, PlanDays, Recommendation,
};
use bridges_schemas::common::RequestId;

use super::candidates::{Prepared, Screen, prepare, screen};
use super::model::{LOAD_WEIGHT_1, LOAD_WEIGHT_2, day_cost, load_thresholds};
use super::validate;
use crate::common::InvalidProblem;

/// The recommendation for `request` in `problem` (validated first).
pub fn recommend(
    problem: &BrokerageProblem,
    request: &RequestId,
) -> Result<Recommendation, InvalidProblem> {
    validate::validate(problem)?;
    let r =
        problem.requests.iter().position(|x| &x.id == request).ok_or_else(|| {
            InvalidProblem::new("request", request, "no such request in the problem")
        })?;
    let usage = Usage::of(problem, request);
    // The request alone, with its own pins; the other pins are `usage`.
    let alone = BrokerageProblem {
        periods: problem.periods.clone(),
        schools: problem.schools.clone(),
        practitioners: problem.practitioners.clone(),
        requests: vec![problem.requests[r].clone()],
        conflicts: problem
            .conflicts
            .iter()
            .filter(|c| c.urn == problem.requests[r].urn)
            .cloned()
            .collect(),
        exclusions: problem.exclusions.iter().filter(|e| &e.request == request).cloned().collect(),
        pinned: problem.pinned.iter().filter(|p| &p.request == request).cloned().collect(),
        policy: problem.policy.clone(),
    };
    let prep = prepare(&alone);
    Ok(rank(&prep, &usage))
}

/// The days already assigned (pins) per practitioner and period, over
/// every request, and what they cost.
struct Usage {
    /// `[p][t]`.
    used: Vec<Vec<u32>>,
    /// Pinned days of practitioner `p` on the request itself, per period.
    own: Vec<Vec<u32>>,
    spent: f64,
}

impl Usage {
    fn of(problem: &BrokerageProblem, request: &RequestId) -> Usage {
        let t_count = problem.periods.len();
        let period: BTreeMap<&str, usize> =
            problem.periods.iter().enumerate().map(|(t, x)| (x.as_str(), t)).collect();
        let practitioner: BTreeMap<&str, usize> =
            problem.practitioners.iter().enumerate().map(|(p, x)| (x.id.as_str(), p)).collect();
        let mut used = vec![vec![0u32; t_count]; problem.practitioners.len()];
        let mut own = used.clone();
        let mut spent = 0.0;
        for pin in &problem.pinned {
            let Some(&p) = practitioner.get(pin.practitioner.as_str()) else { continue };
            for (label, &days) in &pin.days {
                let Some(&t) = period.get(label.as_str()) else { continue };
                // Validated: whole and non-negative.
                let days = days as u32;
                used[p][t] += days;
                if &pin.request == request {
                    own[p][t] += days;
                }
                spent += f64::from(days) * problem.practitioners[p].day_rate;
            }
        }
        Usage { used, own, spent }
    }
}

/// A candidate before ranking.
struct Offer {
    p: usize,
    days: Vec<u32>,
    total: u32,
    /// The tie-break's cost of these days.
    cost: f64,
    km: f64,
    continuity: bool,
}

/// Candidates ranked and the others with their reasons, for the one request
/// of `prep`.
fn rank(prep: &Prepared<'_>, usage: &Usage) -> Recommendation {
    let problem = prep.problem;
    let req = &problem.requests[0];
    let t_count = prep.periods();
    let label = |t: usize| problem.periods[t].clone();
    let pinned_on_request: Vec<u32> =
        (0..t_count).map(|t| usage.own.iter().map(|o| o[t]).sum()).collect();
    let want: Vec<u32> =
        (0..t_count).map(|t| prep.demand[0][t].saturating_sub(pinned_on_request[t])).collect();
    let holder = usage.own.iter().position(|o| o.iter().any(|&d| d > 0));
    let single = problem.policy.single_practitioner;
    let budget_left = problem.policy.budget.map(|b| b - usage.spent);
    let pair_of: BTreeMap<usize, usize> =
        prep.pairs_of(0).iter().enumerate().map(|(k, pair)| (pair.p, k)).collect();

    let mut offers = Vec::new();
    let mut unavailable = Vec::new();
    for (p, pr) in problem.practitioners.iter().enumerate() {
        let mut refuse = |reason, detail: String| {
            unavailable.push(NotCandidate { practitioner: pr.id.clone(), reason, detail })
        };
        let screened = screen(prep, 0, p);
        if let Some((reason, detail)) = screened_out(prep, p, screened) {
            refuse(reason, detail);
            continue;
        }
        if want.iter().all(|&w| w == 0) {
            refuse(NotCandidateReason::Met, format!("{} has every day it asks assigned", req.id));
            continue;
        }
        if single && let Some(q) = holder.filter(|&q| q != p) {
            refuse(
                NotCandidateReason::SinglePractitioner,
                format!(
                    "{} already has {} and keeps one practitioner",
                    req.id, problem.practitioners[q].id
                ),
            );
            continue;
        }
        let free: Vec<u32> =
            (0..t_count).map(|t| prep.capacity[p][t].saturating_sub(usage.used[p][t])).collect();
        let used_total: u32 = usage.used[p].iter().sum();
        let total_left = prep.max_days[p].map_or(u32::MAX, |m| m.saturating_sub(used_total));
        let by_capacity: u32 = (0..t_count).map(|t| want[t].min(free[t])).sum();
        if by_capacity == 0 || total_left == 0 {
            let detail = if total_left == 0 {
                format!("{} has used all {} of max_days", pr.id, used_total)
            } else {
                let asked: Vec<String> = (0..t_count)
                    .filter(|&t| want[t] > 0)
                    .map(|t| format!("{} {} free", label(t), free[t]))
                    .collect();
                format!("{} has no day free when {} needs one: {}", pr.id, req.id, asked.join(", "))
            };
            refuse(NotCandidateReason::Capacity, detail);
            continue;
        }
        let affordable = match budget_left {
            Some(left) if pr.day_rate > 0.0 => {
                ((left / pr.day_rate + 1e-9).floor().max(0.0)).min(f64::from(u32::MAX)) as u32
            }
            _ => u32::MAX,
        };
        if affordable == 0 {
            refuse(
                NotCandidateReason::Budget,
                format!(
                    "the budget has £{:.0} left and {} costs £{:.0} a day",
                    budget_left.unwrap_or(0.0).max(0.0),
                    pr.id,
                    pr.day_rate
                ),
            );
            continue;
        }
        // The earliest half-terms first: the request is wanted now.
        let mut left = total_left.min(affordable);
        let mut days = vec![0u32; t_count];
        for t in 0..t_count {
            days[t] = want[t].min(free[t]).min(left);
            left -= days[t];
        }
        let total: u32 = days.iter().sum();
        // Rules 3 to 5 pass and it has days free when the request asks.
        let k = *pair_of.get(&p).expect("prepare makes a pair of every such practitioner");
        let i = prep.pairs_of_request[0].start + k;
        let (t1, t2) = load_thresholds(prep, p);
        let load = f64::from(used_total);
        let excess =
            |from: f64, at: f64| (from + f64::from(total) - at).max(0.0) - (from - at).max(0.0);
        let cost = f64::from(total) * day_cost(prep, i)
            + LOAD_WEIGHT_1 * excess(load, t1)
            + LOAD_WEIGHT_2 * excess(load, t2);
        let continuity = prep.previous[0] == Some(p) || holder == Some(p);
        offers.push(Offer { p, days, total, cost, km: prep.pairs[i].km, continuity });
    }
    offers.sort_by(|a, b| {
        b.total
            .cmp(&a.total)
            .then(a.cost.total_cmp(&b.cost))
            .then(a.km.total_cmp(&b.km))
            .then(a.p.cmp(&b.p))
    });
    let candidates = offers
        .into_iter()
        .enumerate()
        .map(|(n, o)| {
            let pr = &problem.practitioners[o.p];
            let days: PlanDays =
                (0..t_count).filter(|&t| o.days[t] > 0).map(|t| (label(t), o.days[t])).collect();
            let free: PlanDays = (0..t_count)
                .map(|t| (label(t), prep.capacity[o.p][t].saturating_sub(usage.used[o.p][t])))
                .collect();
            Candidate {
                rank: n as u32 + 1,
                practitioner: pr.id.clone(),
                designation: pr.designation.to_owned(),
                days,
                free,
                cost: f64::from(o.total) * pr.day_rate,
                distance_km: o.km,
                continuity: o.continuity,
            }
        })
        .collect();
    unavailable.sort_by(|a, b| a.practitioner.cmp(&b.practitioner));
    Recommendation { request: req.id.clone(), candidates, unavailable }
}

/// The reason rules 3 to 5 keep practitioner `p` from the request, if one
/// does (the finer of need, phase and designation for rule 3).
fn screened_out(
    prep: &Prepared<'_>,
    p: usize,
    screened: Screen,
) -> Option<(NotCandidateReason, String)> {
    let problem = prep.problem;
    let req = &problem.requests[0];
    let pr = &problem.practitioners[p];
    let school = &problem.schools[prep.school_of_request[0]];
    let home = &problem.schools[prep.home_of[p]];
    Some(match screened {
        Screen::Candidate(_) => return None,
        Screen::Ineligible if !pr.specialisms.contains(&req.need) => {
            (NotCandidateReason::Need, format!("{} does not offer {}", pr.id, req.need))
        }
        Screen::Ineligible if !pr.phases.contains(&school.phase) => (
            NotCandidateReason::Phase,
            format!("{} does not work with {} schools", pr.id, school.phase),
        ),
        Screen::Ineligible => (
            NotCandidateReason::Designation,
            format!("{} is {}, which {} does not accept", pr.id, pr.designation, req.id),
        ),
        Screen::HomeSchool => {
            (NotCandidateReason::Conflict, format!("{} is {}'s home school", school.urn, pr.id))
        }
        Screen::Listed => (
            NotCandidateReason::Conflict,
            format!("{} has a listed conflict with {}", pr.id, school.urn),
        ),
        Screen::SameTrust => (
            NotCandidateReason::Conflict,
            format!(
                "{}'s home school is in the same trust ({}) and same_trust is {}",
                pr.id,
                home.trust.as_deref().unwrap_or(""),
                match problem.policy.same_trust {
                    SameTrust::Forbid => "forbid",
                    SameTrust::Allow => "allow",
                }
            ),
        ),
        Screen::Excluded => (
            NotCandidateReason::Excluded,
            format!("{} is excluded from {} (they declined it before)", pr.id, req.id),
        ),
        Screen::TooFar(km) => (
            NotCandidateReason::Distance,
            format!(
                "{} is {km:.1} km away (limit {} km)",
                pr.id,
                problem.policy.max_distance_km.unwrap_or(f64::INFINITY)
            ),
        ),
    })
}
