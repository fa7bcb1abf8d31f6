//! The reciprocal review rota of a round: each school of a group hosts once,
//! reviewed by the other schools of its group. Hosts of one group get
//! distinct periods, so within a period every school reviews at most once
//! (it belongs to one group, and that group has at most one host per period).
//! This needs as many periods as the largest group: validation requires 3,
//! and groups of 4 are formed only with 4 periods or more.

use bridges_schemas::triads::{TriadsProblem, Visit};
use bridges_schemas::{Phase, Urn};

/// Days of each reviewer's time for a review of a primary (and any non-secondary) school.
pub const PRIMARY_REVIEW_DAYS: f64 = 1.0;
/// Days of each reviewer's time for a review of a secondary, all-through or 16-plus school.
pub const SECONDARY_REVIEW_DAYS: f64 = 1.5;

/// The rota for `groups` (each ascending, the list in order). Member `k` of
/// group `g` hosts in period `(g + k) mod periods`, which spreads hosts over
/// the periods evenly.
pub fn rota(problem: &TriadsProblem, groups: &[Vec<Urn>]) -> Vec<Visit> {
    let periods = problem.periods.len().max(1);
    let mut visits = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        debug_assert!(group.len() <= periods, "groups larger than the periods are never formed");
        for (k, &host) in group.iter().enumerate() {
            let reviewers = group.iter().copied().filter(|&u| u != host).collect();
            let phase = problem.schools.iter().find(|s| s.urn == host).map(|s| s.phase);
            visits.push(Visit {
                host,
                reviewers,
                period: problem.periods[(g + k) % periods].clone(),
                reviewer_days: review_days(phase),
            });
        }
    }
    visits
}

/// Reviewer days for a host of this phase.
pub fn review_days(phase: Option<Phase>) -> f64 {
    match phase {
        Some(Phase::Secondary | Phase::AllThrough | Phase::SixteenPlus) => SECONDARY_REVIEW_DAYS,
        _ => PRIMARY_REVIEW_DAYS,
    }
}
