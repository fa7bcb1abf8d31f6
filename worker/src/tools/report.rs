//! A readable text report of a brokerage plan: proposals by school and
//! practitioner, unmet requests with their reasons, cost, and how far the
//! plan beats the greedy baseline, and each tier against its bound with the
//! higher tiers held. For people; the plan JSON is the record.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use bridges_schemas::brokerage::{BrokeragePlan, BrokerageProblem};

/// The report of `plan` for `problem`, compared with `greedy_plan`.
pub fn table(
    problem: &BrokerageProblem,
    plan: &BrokeragePlan,
    greedy_plan: &BrokeragePlan,
) -> String {
    let mut s = String::new();
    let school_name = |urn: u32| {
        problem
            .schools
            .iter()
            .find(|x| x.urn.0 == urn)
            .and_then(|x| x.name.clone())
            .unwrap_or_default()
    };
    let requests: BTreeMap<&str, _> = problem.requests.iter().map(|r| (r.id.as_str(), r)).collect();
    let practitioners: BTreeMap<&str, _> =
        problem.practitioners.iter().map(|p| (p.id.as_str(), p)).collect();

    let _ = writeln!(
        s,
        "Brokerage plan: status {}, gap {:.2}% (by tier {}), {} assignments, {} unmet requests, solved in {:.2} s",
        plan.status,
        plan.gap * 100.0,
        tier_gaps(plan),
        plan.assignments.len(),
        plan.unmet.len(),
        plan.seconds
    );
    if let Some(why) = &plan.infeasibility {
        let _ = writeln!(s, "INFEASIBLE: {why}");
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "Proposals by school");
    // The request column fits the longest id (the weekly run prefixes the week).
    let rw = problem.requests.iter().map(|r| r.id.as_str().len()).max().unwrap_or(0).max(10);
    let _ = writeln!(
        s,
        "{:<8} {:<32} {:<rw$} {:<12} {:<4} {:<12} {:>5} {:>8}  days by half-term",
        "urn", "school", "request", "need", "prio", "practitioner", "days", "cost"
    );
    let mut by_school: Vec<_> = plan
        .assignments
        .iter()
        .filter_map(|a| {
            let r = requests.get(a.request.as_str())?;
            Some((r.urn.0, a, r))
        })
        .collect();
    by_school.sort_by(|a, b| {
        (a.0, &a.1.request, &a.1.practitioner).cmp(&(b.0, &b.1.request, &b.1.practitioner))
    });
    for (urn, a, r) in &by_school {
        let days: u32 = a.days.values().sum();
        let rate = practitioners.get(a.practitioner.as_str()).map_or(0.0, |p| p.day_rate);
        let spread: Vec<String> = a.days.iter().map(|(t, d)| format!("{t}:{d}")).collect();
        let mut name = school_name(*urn);
        name.truncate(32);
        let _ = writeln!(
            s,
            "{:<8} {:<32} {:<rw$} {:<12} {:<4} {:<12} {:>5} {:>8.0}  {}",
            urn,
            name,
            a.request,
            r.need,
            r.priority,
            a.practitioner,
            days,
            f64::from(days) * rate,
            spread.join(" ")
        );
    }

    let _ = writeln!(s);
    let _ = writeln!(s, "Load by practitioner");
    let _ = writeln!(
        s,
        "{:<12} {:<5} {:>5} {:>9} {:>8}  requests",
        "practitioner", "desig", "days", "available", "cost"
    );
    let mut load: BTreeMap<&str, (u32, Vec<&str>)> = BTreeMap::new();
    for a in &plan.assignments {
        let e = load.entry(a.practitioner.as_str()).or_default();
        e.0 += a.days.values().sum::<u32>();
        e.1.push(a.request.as_str());
    }
    for (id, (days, reqs)) in &load {
        let Some(p) = practitioners.get(id) else { continue };
        let cap: f64 = p.capacity.values().sum();
        let avail = p.max_days.map_or(cap, |m| m.min(cap));
        let _ = writeln!(
            s,
            "{:<12} {:<5} {:>5} {:>9} {:>8.0}  {}",
            id,
            p.designation.to_string(),
            days,
            avail,
            f64::from(*days) * p.day_rate,
            reqs.join(" ")
        );
    }

    let _ = writeln!(s);
    let _ = writeln!(s, "Unmet requests");
    for u in &plan.unmet {
        let days: Vec<String> = u.days.iter().map(|(t, d)| format!("{t}:{d}")).collect();
        let prio = requests.get(u.request.as_str()).map_or(0, |r| r.priority);
        let reason = serde_json::to_value(u.reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "{:<rw$} p{} {:<24} [{}] {}",
            u.request,
            prio,
            reason,
            days.join(" "),
            u.detail
        );
        if let Some(cf) = &u.counterfactual {
            let _ = writeln!(s, "{:<w$} would help: {cf}", "", w = rw + 4);
        }
    }

    let total = |p: &BrokeragePlan| p.coverage.iter().sum::<u32>();
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<22} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10}",
        "", "tier 1", "tier 2", "tier 3", "tier 4", "total", "cost"
    );
    let mut demand = [0u32; 4];
    for r in &problem.requests {
        let k = (r.priority.clamp(1, 4) - 1) as usize;
        demand[k] += r.days.values().sum::<f64>() as u32;
    }
    let row = |s: &mut String, name: &str, c: [u32; 4], cost: Option<f64>| {
        let _ = writeln!(
            s,
            "{:<22} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10}",
            name,
            c[0],
            c[1],
            c[2],
            c[3],
            c.iter().sum::<u32>(),
            cost.map_or(String::new(), |c| format!("£{c:.0}"))
        );
    };
    row(&mut s, "requested days", demand, None);
    row(&mut s, "plan (MILP)", plan.coverage, Some(plan.cost));
    if let [t1, t2, t3, t4] = plan.tiers.as_slice() {
        // The bound of each tier holds with the tiers above it at the plan's days.
        let bounds = [t1, t2, t3, t4].map(|t| t.bound);
        row(&mut s, "bound, higher held", bounds, None);
        let _ = writeln!(
            s,
            "{:<22} {:>7.2}% {:>7.2}% {:>7.2}% {:>7.2}%",
            "tier gap",
            t1.gap * 100.0,
            t2.gap * 100.0,
            t3.gap * 100.0,
            t4.gap * 100.0
        );
    }
    row(&mut s, "greedy (by hand)", greedy_plan.coverage, Some(greedy_plan.cost));
    let gained: [i64; 4] =
        [0, 1, 2, 3].map(|k| i64::from(plan.coverage[k]) - i64::from(greedy_plan.coverage[k]));
    let _ = writeln!(
        s,
        "{:<22} {:>+8} {:>+8} {:>+8} {:>+8} {:>+8}",
        "plan - greedy",
        gained[0],
        gained[1],
        gained[2],
        gained[3],
        i64::from(total(plan)) - i64::from(total(greedy_plan))
    );
    s
}

/// Each tier's gap to its bound with the higher tiers held, for example
/// `0.00/3.56/11.02/24.01%` (`-` for a plan without tiers).
pub fn tier_gaps(plan: &BrokeragePlan) -> String {
    if plan.tiers.is_empty() {
        return "-".to_owned();
    }
    let gaps: Vec<String> = plan.tiers.iter().map(|t| format!("{:.2}", t.gap * 100.0)).collect();
    format!("{}%", gaps.join("/"))
}
