//! What a broker reads after a matching run, rendered from what the engine
//! recorded (the run's events in the state, not the solver's plan), so a run
//! shown again reads the same: the proposals by school, the unmet requests
//! with their reasons and what would meet them, and coverage by tier against
//! the greedy broker-by-hand baseline; and `request recommend`'s table of
//! who could take one request. Pure text; no I/O.

use std::fmt::Write as _;

use bridges_schemas::brokerage::Recommendation;
use bridges_schemas::vocab::{AssignmentId, RunId};

use crate::domain::State;
use crate::domain::state::Assignment;
use crate::planning::tier_of;

/// The report of run `run`, or a line saying there is no such run.
pub fn run_report(state: &State, run: &RunId) -> String {
    let mut out = String::new();
    let Some(r) = state.runs.get(run) else {
        return format!("no run {run} is recorded\n");
    };
    let Some(done) = &r.completed else {
        return format!(
            "run {run} was started but not completed{}\n",
            if r.discarded { " (discarded)" } else { "" }
        );
    };
    let _ = writeln!(
        out,
        "Run {run}: status {}, {}, {}, solved in {:.2} s",
        done.status,
        counted(done.proposals, "proposal", "proposals"),
        counted(done.unmet, "unmet request", "unmet requests"),
        done.seconds
    );
    if !done.tiers.is_empty() {
        let _ = writeln!(out, "\nCoverage by tier (days)      tier 1   tier 2   tier 3   tier 4");
        let row = |name: &str, f: &dyn Fn(usize) -> String| {
            let cells: Vec<String> = (0..4).map(|t| format!("{:>8}", f(t))).collect();
            format!("  {name:<26} {}\n", cells.join(" "))
        };
        out.push_str(&row("requested", &|t| done.tiers[t].requested.to_string()));
        out.push_str(&row("covered by this plan", &|t| done.tiers[t].covered.to_string()));
        out.push_str(&row("greedy broker by hand", &|t| done.tiers[t].greedy.to_string()));
        out.push_str(&row("best bound", &|t| format!("{:.0}", done.tiers[t].bound)));
        out.push_str(&row("gap", &|t| format!("{:.1}%", done.tiers[t].gap * 100.0)));
    }
    let proposals = run_proposals(state, run);
    let mut rows: Vec<(String, String)> = proposals
        .iter()
        .filter_map(|a| {
            let req = state.requests.get(&a.request)?;
            let school = state.schools.get(&req.urn)?;
            let p = state.practitioners.get(&a.practitioner)?;
            let days: u32 = a.days.values().sum();
            let by: Vec<String> = a.days.iter().map(|(k, d)| format!("{k}:{d}")).collect();
            let line = format!(
                "{:<8} {:<32} {:<18} {:<12} {:>4} {:<12} {:>4} {:>8}  {}",
                school.urn,
                truncate(&school.name, 32),
                a.request,
                req.need,
                tier_of(state, req.tier, req.urn),
                a.practitioner,
                days,
                money(u64::from(days) * u64::from(p.day_rate) * 100),
                by.join(" ")
            );
            Some((format!("{}{}", school.urn, a.request), line))
        })
        .collect();
    rows.sort();
    let total_cost: u64 = proposals
        .iter()
        .filter_map(|a| {
            let p = state.practitioners.get(&a.practitioner)?;
            Some(u64::from(a.days.values().sum::<u32>()) * u64::from(p.day_rate) * 100)
        })
        .sum();
    let _ = writeln!(out, "\nProposals by school");
    let _ = writeln!(
        out,
        "{:<8} {:<32} {:<18} {:<12} {:>4} {:<12} {:>4} {:>8}  days by half-term",
        "urn", "school", "request", "need", "tier", "practitioner", "days", "cost"
    );
    for (_, line) in rows {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "total cost of the proposals: {}", money(total_cost));
    let _ = writeln!(out, "\nUnmet requests");
    for u in &r.unmet {
        let days: Vec<String> = u.days.iter().map(|(k, d)| format!("{k}:{d}")).collect();
        let _ = writeln!(
            out,
            "{:<18} {:<24} [{}] {}",
            u.request,
            crate::views::word(&u.reason),
            days.join(" "),
            u.detail
        );
        if let Some(c) = &u.counterfactual {
            let _ = writeln!(out, "{:<18} would help: {c}", "");
        }
    }
    if !done.dropped.is_empty() {
        let _ = writeln!(out, "\nDropped when recorded (no longer held)");
        for d in &done.dropped {
            let _ = writeln!(out, "{:<18} {:<12} {}", d.request, d.practitioner, d.reason);
        }
    }
    out
}

/// The assignments a run proposed (those it recorded, and any whose
/// stream names it), by id.
pub fn run_proposals<'s>(state: &'s State, run: &RunId) -> Vec<&'s Assignment> {
    let recorded = state.runs.get(run).map(|r| r.proposals.as_slice()).unwrap_or_default();
    let mut ids: Vec<&AssignmentId> = recorded
        .iter()
        .chain(state.assignments.values().filter(|a| a.run.as_ref() == Some(run)).map(|a| &a.id))
        .collect();
    ids.sort();
    ids.dedup();
    ids.into_iter().filter_map(|id| state.assignments.get(id)).collect()
}

/// Pounds and pence from pence: `£1,234.50`.
pub fn money(pence: u64) -> String {
    let pounds = pence / 100;
    let digits = pounds.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("£{grouped}.{:02}", pence % 100)
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// `request recommend`: the request, its candidates best first (days they
/// would take and days free per half-term, cost, distance, continuity),
/// then everyone who cannot take it with the reason.
pub fn recommendation(state: &State, rec: &Recommendation) -> String {
    let mut out = String::new();
    let about = state.requests.get(&rec.request).map(|r| {
        let school = state.schools.get(&r.urn).map_or(String::new(), |s| format!(" {}", s.name));
        format!(" ({} at {}{school})", r.need, r.urn)
    });
    let _ = writeln!(
        out,
        "Request {}{}: {} could take it, {} cannot",
        rec.request,
        about.unwrap_or_default(),
        rec.candidates.len(),
        rec.unavailable.len()
    );
    let _ = writeln!(
        out,
        "\n{:>4}  {:<14} {:<20} {:>4} {:>10} {:>7}  {:<10} {:<28} free by half-term",
        "rank", "practitioner", "title", "days", "cost", "km", "continuity", "days by half-term"
    );
    let by = |days: &bridges_schemas::brokerage::PlanDays| {
        days.iter().map(|(k, d)| format!("{k}:{d}")).collect::<Vec<_>>().join(" ")
    };
    for c in &rec.candidates {
        let days: u32 = c.days.values().sum();
        let _ = writeln!(
            out,
            "{:>4}  {:<14} {:<20} {:>4} {:>10} {:>7.1}  {:<10} {:<28} {}",
            c.rank,
            c.practitioner,
            truncate(c.designation.as_str(), 20),
            days,
            money((c.cost * 100.0).round() as u64),
            c.distance_km,
            if c.continuity { "yes" } else { "" },
            by(&c.days),
            by(&c.free)
        );
    }
    if rec.candidates.is_empty() {
        let _ = writeln!(out, "  (nobody can take it now)");
    }
    let _ = writeln!(out, "\nCannot take it");
    let _ = writeln!(out, "{:<14} {:<20} why", "practitioner", "reason");
    for u in &rec.unavailable {
        let reason = match serde_json::to_value(u.reason) {
            Ok(serde_json::Value::String(s)) => s,
            _ => format!("{:?}", u.reason),
        };
        let _ = writeln!(out, "{:<14} {:<20} {}", u.practitioner, reason, u.detail);
    }
    out
}

/// `1 proposal`, `3 proposals`.
fn counted(n: u32, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
