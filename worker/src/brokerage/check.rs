//! An independent feasibility checker for brokerage plans: rules 1 to 9 of
//! CONTRACTS.md, and the plan's own bookkeeping (coverage, cost, unmet days).
//! It shares no code with the model on purpose (its own lookups, distance and
//! eligibility), so a bug in one is caught by the other. It reads only the
//! problem and plan documents; it does not judge optimality.

use std::collections::{HashMap, HashSet};

use bridges_schemas::SameTrust;
use bridges_schemas::brokerage::{BrokeragePlan, BrokerageProblem, School};
use bridges_schemas::common::SolveStatus;

/// A broken rule: `rule` is the contract's number (0 for bookkeeping).
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub rule: u8,
    pub detail: String,
}

/// Every violation of `plan` against `problem` (empty when feasible).
pub fn check(problem: &BrokerageProblem, plan: &BrokeragePlan) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut bad = |rule: u8, detail: String| out.push(Violation { rule, detail });
    let schools: HashMap<u32, &School> = problem.schools.iter().map(|s| (s.urn.0, s)).collect();
    let pracs: HashMap<&str, _> =
        problem.practitioners.iter().map(|p| (p.id.0.as_str(), p)).collect();
    let reqs: HashMap<&str, _> = problem.requests.iter().map(|r| (r.id.0.as_str(), r)).collect();
    let asked = |days: &std::collections::BTreeMap<_, f64>, period: &str| -> f64 {
        days.iter().filter(|(k, _)| k_str(k) == period).map(|(_, v)| *v).sum()
    };

    // Pinned days per (request, practitioner, period).
    let mut pinned: HashMap<(&str, &str, &str), f64> = HashMap::new();
    for pin in &problem.pinned {
        for (period, d) in &pin.days {
            *pinned
                .entry((pin.request.as_str(), pin.practitioner.as_str(), period.as_str()))
                .or_default() += *d;
        }
    }

    if plan.status == SolveStatus::Infeasible {
        if !plan.assignments.is_empty() {
            bad(0, "an infeasible plan carries assignments".into());
        }
        if !pins_break_a_rule(problem, &pinned) {
            bad(0, "status infeasible, but the pins alone break no hard rule".into());
        }
        return out;
    }

    let excluded: HashSet<(&str, &str)> = problem
        .exclusions
        .iter()
        .map(|x| (x.request.0.as_str(), x.practitioner.0.as_str()))
        .collect();
    let mut per_req: HashMap<(&str, &str), f64> = HashMap::new();
    let mut per_prac: HashMap<(&str, &str), f64> = HashMap::new();
    let mut per_prac_total: HashMap<&str, f64> = HashMap::new();
    let mut practitioners_of: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut seen_pairs = HashSet::new();
    let mut cost = 0.0;
    let mut coverage = [0u64; 4];
    let mut got: HashMap<(&str, &str, &str), f64> = HashMap::new();

    for a in &plan.assignments {
        let (rid, pid) = (a.request.as_str(), a.practitioner.as_str());
        if !seen_pairs.insert((rid, pid)) {
            bad(0, format!("{rid} x {pid} appears twice"));
        }
        let (Some(req), Some(prac)) = (reqs.get(rid), pracs.get(pid)) else {
            bad(0, format!("unknown request or practitioner in {rid} x {pid}"));
            continue;
        };
        let (Some(school), Some(home)) = (schools.get(&req.urn.0), schools.get(&prac.home_urn.0))
        else {
            bad(0, format!("unknown school in {rid} x {pid}"));
            continue;
        };
        let days: f64 = a.days.values().map(|&d| f64::from(d)).sum();
        if days > 0.0 {
            practitioners_of.entry(rid).or_default().insert(pid);
        }
        // Rule 9: an excluded pair carries no days, pinned or not.
        if days > 0.0 && excluded.contains(&(rid, pid)) {
            bad(9, format!("{pid} is excluded from {rid} but has {days} days"));
        }
        let pin_days: f64 = a
            .days
            .keys()
            .map(|t| pinned.get(&(rid, pid, t.as_str())).copied().unwrap_or(0.0))
            .sum();
        let beyond_pins = days > pin_days;
        if beyond_pins {
            // Rule 3: eligibility.
            if !prac.specialisms.iter().any(|s| s.0 == req.need.0)
                || !prac.phases.contains(&school.phase)
                || !req.designations.contains(&prac.designation)
            {
                bad(3, format!("{pid} is not eligible for {rid}"));
            }
            // Rule 4: conflicts.
            if home.urn.0 == school.urn.0 {
                bad(4, format!("{pid} is sent to its own school for {rid}"));
            }
            if problem.conflicts.iter().any(|c| c.practitioner.0 == pid && c.urn.0 == req.urn.0) {
                bad(4, format!("{pid} has a listed conflict with the school of {rid}"));
            }
            if problem.policy.same_trust == SameTrust::Forbid
                && let (Some(t1), Some(t2)) = (&home.trust, &school.trust)
                && t1 == t2
            {
                bad(4, format!("{pid} and the school of {rid} share trust {t1}"));
            }
            // Rule 5: distance.
            let de = home.easting - school.easting;
            let dn = home.northing - school.northing;
            let km = (de * de + dn * dn).sqrt() / 1000.0;
            if let Some(limit) = problem.policy.max_distance_km
                && km > limit + 1e-9
            {
                bad(5, format!("{pid} is {km:.2} km from the school of {rid} (limit {limit})"));
            }
        }
        for (period, &d) in &a.days {
            let t = period.as_str();
            if !problem.periods.iter().any(|p| p.0 == t) {
                bad(0, format!("{rid} x {pid}: period {t} not listed"));
            }
            let d = f64::from(d);
            *per_req.entry((rid, t)).or_default() += d;
            *per_prac.entry((pid, t)).or_default() += d;
            *per_prac_total.entry(pid).or_default() += d;
            *got.entry((rid, pid, t)).or_default() += d;
        }
        cost += days * prac.day_rate;
        let tier = (req.priority - 1).clamp(0, 3) as usize;
        coverage[tier] += days as u64;
    }

    // Rule 1.
    for ((rid, t), d) in &per_req {
        let want = reqs.get(rid).map_or(0.0, |r| asked(&r.days, t));
        if *d > want + 1e-9 {
            bad(1, format!("{rid} gets {d} days in {t}, asked {want}"));
        }
    }
    // Rule 2.
    for ((pid, t), d) in &per_prac {
        let cap = pracs.get(pid).map_or(0.0, |p| asked(&p.capacity, t));
        if *d > cap + 1e-9 {
            bad(2, format!("{pid} works {d} days in {t}, capacity {cap}"));
        }
    }
    for (pid, d) in &per_prac_total {
        if let Some(max) = pracs.get(pid).and_then(|p| p.max_days)
            && *d > max + 1e-9
        {
            bad(2, format!("{pid} works {d} days, max_days {max}"));
        }
    }
    // Rule 6.
    if let Some(budget) = problem.policy.budget
        && cost > budget + 1e-6
    {
        bad(6, format!("cost {cost} exceeds budget {budget}"));
    }
    // Rule 7.
    for (&(rid, pid, t), &d) in &pinned {
        let have = got.get(&(rid, pid, t)).copied().unwrap_or(0.0);
        if have + 1e-9 < d {
            bad(7, format!("pin {rid} x {pid} in {t}: {d} days pinned, {have} planned"));
        }
    }
    // Rule 8.
    if problem.policy.single_practitioner {
        for (rid, ps) in &practitioners_of {
            if ps.len() > 1 {
                bad(8, format!("{rid} has {} practitioners", ps.len()));
            }
        }
    }

    // Bookkeeping.
    let claimed: Vec<u64> = plan.coverage.iter().map(|&c| u64::from(c)).collect();
    if claimed != coverage {
        bad(0, format!("coverage {:?} claimed, {coverage:?} counted", plan.coverage));
    }
    if (plan.cost - cost).abs() > 1e-6 * cost.max(1.0) {
        bad(0, format!("cost {} claimed, {cost} counted", plan.cost));
    }
    let mut unmet_listed: HashMap<&str, HashMap<&str, u32>> = HashMap::new();
    for u in &plan.unmet {
        let entry = unmet_listed.entry(u.request.as_str()).or_default();
        for (t, d) in &u.days {
            entry.insert(t.as_str(), *d);
        }
    }
    for req in &problem.requests {
        for (t, want) in &req.days {
            let have = per_req.get(&(req.id.as_str(), t.as_str())).copied().unwrap_or(0.0);
            let left = (want - have).max(0.0) as u32;
            let listed = unmet_listed
                .get(req.id.as_str())
                .and_then(|m| m.get(t.as_str()))
                .copied()
                .unwrap_or(0);
            if left != listed {
                bad(0, format!("{} in {t}: {left} days unmet, plan lists {listed}", req.id));
            }
        }
    }
    out
}

fn k_str(k: &bridges_schemas::Period) -> &str {
    k.0.as_str()
}

/// Whether the pins alone break rule 1, 2, 6 or 8.
fn pins_break_a_rule(
    problem: &BrokerageProblem,
    pinned: &HashMap<(&str, &str, &str), f64>,
) -> bool {
    let mut per_req: HashMap<(&str, &str), f64> = HashMap::new();
    let mut per_prac: HashMap<(&str, &str), f64> = HashMap::new();
    let mut per_total: HashMap<&str, f64> = HashMap::new();
    let mut who: HashMap<&str, HashSet<&str>> = HashMap::new();
    let mut cost = 0.0;
    for (&(r, p, t), &d) in pinned {
        *per_req.entry((r, t)).or_default() += d;
        *per_prac.entry((p, t)).or_default() += d;
        *per_total.entry(p).or_default() += d;
        if d > 0.0 {
            who.entry(r).or_default().insert(p);
        }
        if let Some(prac) = problem.practitioners.iter().find(|x| x.id.0 == p) {
            cost += d * prac.day_rate;
        }
    }
    let req_over = per_req.iter().any(|((r, t), d)| {
        let want = problem
            .requests
            .iter()
            .find(|x| x.id.0 == *r)
            .map_or(0.0, |x| x.days.iter().filter(|(k, _)| k.0 == *t).map(|(_, v)| *v).sum());
        *d > want
    });
    let cap_over = per_prac.iter().any(|((p, t), d)| {
        let cap =
            problem.practitioners.iter().find(|x| x.id.0 == *p).map_or(0.0, |x| {
                x.capacity.iter().filter(|(k, _)| k.0 == *t).map(|(_, v)| *v).sum()
            });
        *d > cap
    });
    let max_over = per_total.iter().any(|(p, d)| {
        problem
            .practitioners
            .iter()
            .find(|x| x.id.0 == *p)
            .and_then(|x| x.max_days)
            .is_some_and(|m| *d > m)
    });
    let budget_over = problem.policy.budget.is_some_and(|b| cost > b + 1e-6);
    let single_over = problem.policy.single_practitioner && who.values().any(|s| s.len() > 1);
    req_over || cap_over || max_over || budget_over || single_over
}
