//! `bridges round show ID`: a round as text — its terms and state, each
//! group with its schools, its rota and why it is a good group, each
//! unplaced school with its reason, the reviews held, and the reviewer
//! time and cost. A pure function of the state.

use std::fmt::Write as _;

use bridges_schemas::Urn;
use bridges_schemas::events::DomainEvent;

use super::export::{days, ledger, pounds};
use super::words;
use crate::domain::State;
use crate::domain::round::standing;
use crate::domain::state::Round;

/// The round as text.
pub fn show(state: &State, round: &Round) -> String {
    let mut s = String::new();
    let status = if round.closed {
        "closed"
    } else if round.confirmed {
        "confirmed"
    } else if round.formed.is_some() {
        "formed, not confirmed"
    } else {
        "open"
    };
    let _ = writeln!(s, "round {} ({}): {status}", round.id, round.year);
    let periods: Vec<&str> = round.periods.iter().map(|p| p.as_str()).collect();
    let p = &round.policy;
    let _ = writeln!(
        s,
        "  periods {}; within {} km; same trust {}; phase pools {}; good or better {}; groups of 4 {}; history {} years",
        periods.join(", "),
        p.max_distance_km.map_or("any".to_owned(), |d| d.to_string()),
        if p.same_trust == bridges_schemas::SameTrust::Forbid { "forbidden" } else { "allowed" },
        yes(p.phase_pools),
        yes(p.require_good_or_better),
        yes(p.allow_groups_of_4),
        round.history_years
    );
    let _ = writeln!(
        s,
        "  {} schools enrolled, {} withdrawn",
        round.enrolled.len(),
        round.withdrawn.len()
    );
    if let Some(f) = &round.formed {
        let _ = writeln!(
            s,
            "  formed: {} groups, {} unplaced; {} of at most {} schools placed ({}, gap {:.2}%, {:.2} s); history: {}",
            round.groups.len(),
            round.unplaced.len(),
            f.objective,
            f.bound,
            f.status,
            100.0 * f.gap,
            f.seconds,
            if f.history.is_empty() {
                "no earlier rounds".to_owned()
            } else {
                f.history.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")
            }
        );
        for c in &round.changes {
            let _ = writeln!(s, "  changed by hand: {c}");
        }
    }
    let ledger = ledger(state, round);
    for g in round.groups.values() {
        let _ = writeln!(s, "\ngroup {}: {}", g.group, words::reasons(g));
        for u in &g.members {
            let host = g.hosts.iter().find(|h| h.host == *u);
            let _ = writeln!(
                s,
                "  {:<58} hosts in {}",
                school(state, *u),
                host.map_or("-".to_owned(), |h| h.period.to_string())
            );
        }
    }
    if !round.unplaced.is_empty() {
        let _ = writeln!(s, "\nunplaced:");
        for u in round.unplaced.values() {
            let _ = writeln!(s, "  {}: {}", school(state, u.urn), u.detail);
        }
    }
    if !ledger.reviews.is_empty() {
        let _ = writeln!(s, "\nrota:");
        for r in &ledger.reviews {
            let reviewers: Vec<String> = r.reviewers.iter().map(Urn::to_string).collect();
            let held = match (r.held, r.shared) {
                (Some(d), Some(true)) => format!("held {d}, report shared"),
                (Some(d), Some(false)) => format!("held {d}, report not shared"),
                (Some(d), None) => format!("held {d}"),
                (None, _) => "planned".to_owned(),
            };
            let _ = writeln!(
                s,
                "  {:<9} group {:>3}  {} hosts {}  {} day(s) each, £{}  {held}",
                r.period,
                r.group,
                r.host,
                reviewers.join(" "),
                days(r.days_each),
                pounds(r.cost_pence)
            );
        }
    }
    let _ = writeln!(
        s,
        "\n{} reviews ({} held), {} reviewer days, £{}",
        ledger.reviews.len(),
        ledger.held,
        days(ledger.reviewer_days),
        pounds(ledger.cost_pence)
    );
    s
}

/// A readable line of what a round's event says (for a stream's history).
pub fn summary(event: &DomainEvent) -> String {
    let list = |urns: &[Urn]| urns.iter().map(Urn::to_string).collect::<Vec<_>>().join(", ");
    match event {
        DomainEvent::RoundOpened(e) => format!(
            "round opened for {} over {} half-terms, history {} years",
            e.year,
            e.periods.len(),
            e.history_years
        ),
        DomainEvent::SchoolsEnrolled(e) => format!("enrolled {} schools", e.urns.len()),
        DomainEvent::RoundSchoolWithdrawn(e) => format!("{} withdrew: {}", e.urn, e.reason),
        DomainEvent::RoundFormed(e) => format!(
            "formed: {} groups, {} unplaced, {} schools placed of at most {} ({})",
            e.groups, e.unplaced, e.objective, e.bound, e.status
        ),
        DomainEvent::RoundGroupsRecorded(e) => format!("{} groups recorded", e.groups.len()),
        DomainEvent::RoundUnplacedRecorded(e) => {
            format!("{} unplaced schools recorded", e.unplaced.len())
        }
        DomainEvent::RoundGroupsChanged(e) => format!("changed by hand: {}", e.change),
        DomainEvent::RoundConfirmed(_) => "confirmed: the rota is published".to_owned(),
        DomainEvent::ReviewRecorded(e) => format!(
            "review of {} held on {} by {} ({} days each)",
            e.host,
            e.on,
            list(&e.reviewers),
            days(e.days)
        ),
        DomainEvent::ReportShared(e) => {
            format!("{}'s report {}", e.host, if e.shared { "shared" } else { "not shared" })
        }
        DomainEvent::RoundClosed(_) => "closed".to_owned(),
        other => other.type_name().to_owned(),
    }
}

fn school(state: &State, urn: Urn) -> String {
    match state.schools.get(&urn) {
        Some(x) => {
            format!("{} {} ({})", urn, x.name, standing(x).map_or("no outcome", words::standing))
        }
        None => urn.to_string(),
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
