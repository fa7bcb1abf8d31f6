//! Candidate groups (columns) for the set-partitioning model: feasible triples
//! and, where the round allows them, quads, each with its secondary cost.
//! Small components get every feasible group ("complete"); large ones keep
//! the best groups per school among its nearest partners (pruning). This file
//! also defines the secondary cost; it does not solve anything.

use std::collections::BTreeSet;

use bridges_schemas::Standing;
use bridges_schemas::triads::{TriadSchool, TriadsProblem};

use super::pool::{Pool, km};

/// Extra cost of a group of 4, larger than any triad's own cost, so a quad is
/// chosen only when it places more schools (the primary goal is solved first).
pub const QUAD_PENALTY: i64 = 5000;
/// Distance scale for the travel term when the policy sets no limit.
pub const DEFAULT_DISTANCE_REF_KM: f64 = 15.0;

/// Enumerate every feasible triple of a component up to this many; beyond, prune.
pub const FULL_TRIPLES: usize = 400_000;
/// Enumerate every feasible quad of a component up to this many; beyond, prune.
pub const FULL_QUADS: usize = 20_000;
/// Pruning: partners considered per school (its nearest compatible ones).
pub const NEAREST: usize = 30;
/// Pruning: triples kept per school (its cheapest).
pub const KEEP_TRIPLES: usize = 40;

/// One candidate group: local member indices of its pool (ascending) and cost.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Column {
    pub members: Vec<usize>,
    pub cost: i64,
}

/// The candidate groups of one component.
#[derive(Debug, Clone)]
pub struct Candidates {
    pub columns: Vec<Column>,
    /// Every feasible group of the component is among `columns`.
    pub complete: bool,
    /// Every feasible triple of the component is among `columns` (quads
    /// may not be).
    pub triples_complete: bool,
    /// Quads are allowed but too many to enumerate: none are columns, and
    /// leftovers are inserted into chosen triads after the solve instead.
    pub insert_quads: bool,
}

/// Secondary cost of a group (integer, lower is better), from its schools and
/// the number of its pairs that share a listed partnership:
///
/// - travel: 1000 x mean pairwise km / distance reference (capped at 1000);
/// - standing mix (CONTRACTS.md "Inspection outcomes"; a school with no
///   outcome is a band of its own): 1000 - 250 x (min(bands - 1, 2) +
///   min(span of the known bands, 2)), where `bands` counts the distinct
///   bands in the group and the span runs strong 0 .. serious 3; so a
///   group of one band costs 1000 and strong, secure and concern together 0;
/// - size mix: 500 x (1 - min((max - min) / max pupils / 0.5, 1)), 250 if under two known;
/// - disadvantage mix: 500 x (1 - min(span of shares / 0.2, 1)), 250 if under two known;
/// - obvious grouping: 1000 x (pairs in one locality + pairs in one partnership) / pairs;
/// - plus [`QUAD_PENALTY`] for a group of 4.
pub fn group_cost(members: &[&TriadSchool], partnered_pairs: usize, distance_ref_km: f64) -> i64 {
    let mut pairs = 0usize;
    let mut total_km = 0.0;
    let mut same_locality = 0usize;
    for (x, a) in members.iter().enumerate() {
        for b in &members[x + 1..] {
            pairs += 1;
            total_km += km(a, b);
            if a.locality.is_some() && a.locality == b.locality {
                same_locality += 1;
            }
        }
    }
    let pairs_f = pairs.max(1) as f64;
    let travel = (1000.0 * (total_km / pairs_f) / distance_ref_km.max(1e-9)).min(1000.0);

    let mix = standing_mix(members);

    let pupils: Vec<f64> = members.iter().filter_map(|s| s.pupils).collect();
    let size = if pupils.len() >= 2 {
        let (lo, hi) = min_max(&pupils);
        let ratio = if hi > 0.0 { (hi - lo) / hi } else { 0.0 };
        500.0 * (1.0 - (ratio / 0.5).min(1.0))
    } else {
        250.0
    };

    let shares: Vec<f64> = members.iter().filter_map(|s| s.disadvantaged).collect();
    let disadvantage = if shares.len() >= 2 {
        let (lo, hi) = min_max(&shares);
        500.0 * (1.0 - ((hi - lo) / 0.2).min(1.0))
    } else {
        250.0
    };

    let obvious = 1000.0 * (same_locality + partnered_pairs) as f64 / pairs_f;
    let quad = if members.len() >= 4 { QUAD_PENALTY } else { 0 };
    [travel, mix, size, disadvantage, obvious].iter().map(|t| t.round() as i64).sum::<i64>() + quad
}

/// Whether a group meets `require_good_or_better` (trivially true without
/// it): a school whose standing is strong or secure.
pub fn has_good(members: &[&TriadSchool], required: bool) -> bool {
    !required || members.iter().any(|s| s.standing().is_some_and(Standing::good_or_better))
}

/// The standing-mix term of [`group_cost`].
fn standing_mix(members: &[&TriadSchool]) -> f64 {
    let bands: BTreeSet<Option<Standing>> = members.iter().map(|s| s.standing()).collect();
    let known: Vec<i64> = bands.iter().flatten().map(|&b| band_rank(b)).collect();
    let span = match (known.iter().min(), known.iter().max()) {
        (Some(lo), Some(hi)) => hi - lo,
        _ => 0,
    };
    let distinct = bands.len() as i64 - 1;
    1000.0 - 250.0 * (distinct.min(2) + span.min(2)) as f64
}

/// The distance reference of the travel term for this problem.
pub fn distance_ref(problem: &TriadsProblem) -> f64 {
    problem.policy.max_distance_km.filter(|d| *d > 0.0).unwrap_or(DEFAULT_DISTANCE_REF_KM)
}

/// Local indices of the pool's members that belong to at least one feasible triple.
pub fn placeable(problem: &TriadsProblem, pool: &Pool) -> Vec<bool> {
    let n = pool.len();
    let required = problem.policy.require_good_or_better;
    let nbrs = neighbours(pool, &(0..n).collect::<Vec<_>>());
    (0..n)
        .map(|a| {
            let list = &nbrs[a];
            list.iter().enumerate().any(|(x, &b)| {
                list[x + 1..].iter().any(|&c| {
                    pool.compatible(b, c) && has_good(&schools(problem, pool, &[a, b, c]), required)
                })
            })
        })
        .collect()
}

/// Components of the compatibility graph over `members` (local indices),
/// each sorted, ordered by their smallest member.
pub fn components(pool: &Pool, members: &[usize]) -> Vec<Vec<usize>> {
    let inside: BTreeSet<usize> = members.iter().copied().collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for &start in members {
        if !seen.insert(start) {
            continue;
        }
        let mut comp = vec![start];
        let mut stack = vec![start];
        while let Some(a) = stack.pop() {
            for &b in &inside {
                if pool.compatible(a, b) && seen.insert(b) {
                    comp.push(b);
                    stack.push(b);
                }
            }
        }
        comp.sort_unstable();
        out.push(comp);
    }
    out
}

/// Candidate groups of one component; `quads` says whether groups of 4 may be
/// formed; with more than `full_triples` feasible triples it prunes.
pub fn candidates(
    problem: &TriadsProblem,
    pool: &Pool,
    comp: &[usize],
    quads: bool,
    full_triples: usize,
) -> Candidates {
    let required = problem.policy.require_good_or_better;
    let dref = distance_ref(problem);
    let nbrs = neighbours(pool, comp);
    let mut triples = Vec::new();
    let mut complete = true;
    'full: for &a in comp {
        let later: Vec<usize> = nbrs[a].iter().copied().filter(|&b| b > a).collect();
        for (x, &b) in later.iter().enumerate() {
            for &c in &later[x + 1..] {
                if pool.compatible(b, c) && has_good(&schools(problem, pool, &[a, b, c]), required)
                {
                    if triples.len() >= full_triples {
                        complete = false;
                        break 'full;
                    }
                    triples.push(vec![a, b, c]);
                }
            }
        }
    }
    let mut columns: Vec<Column> = if complete {
        triples.into_iter().map(|m| column(problem, pool, m, dref)).collect()
    } else {
        pruned_triples(problem, pool, comp, &nbrs, dref)
    };
    let triples_complete = complete;
    let mut insert_quads = false;
    if quads {
        match all_quads(problem, pool, comp, &nbrs, complete, dref) {
            Some(quad_columns) => columns.extend(quad_columns),
            None => {
                complete = false;
                insert_quads = true;
            }
        }
    }
    columns.sort();
    columns.dedup_by(|a, b| a.members == b.members);
    Candidates { columns, complete, triples_complete, insert_quads }
}

fn column(problem: &TriadsProblem, pool: &Pool, members: Vec<usize>, dref: f64) -> Column {
    let mut partnered = 0;
    for (x, &a) in members.iter().enumerate() {
        for &b in &members[x + 1..] {
            partnered += usize::from(pool.partners(a, b));
        }
    }
    let cost = group_cost(&schools(problem, pool, &members), partnered, dref);
    Column { members, cost }
}

/// Each school's cheapest triples among its nearest compatible partners.
fn pruned_triples(
    problem: &TriadsProblem,
    pool: &Pool,
    comp: &[usize],
    nbrs: &[Vec<usize>],
    dref: f64,
) -> Vec<Column> {
    let required = problem.policy.require_good_or_better;
    let mut kept = BTreeSet::new();
    for &a in comp {
        let near = nearest(problem, pool, a, &nbrs[a], NEAREST);
        let mut mine = Vec::new();
        for (x, &b) in near.iter().enumerate() {
            for &c in &near[x + 1..] {
                if pool.compatible(b, c) && has_good(&schools(problem, pool, &[a, b, c]), required)
                {
                    let mut m = vec![a, b, c];
                    m.sort_unstable();
                    mine.push(column(problem, pool, m, dref));
                }
            }
        }
        if mine.is_empty() {
            // Its nearest partners are not compatible with each other: look further.
            let all = &nbrs[a];
            'search: for (x, &b) in all.iter().enumerate() {
                for &c in &all[x + 1..] {
                    if pool.compatible(b, c)
                        && has_good(&schools(problem, pool, &[a, b, c]), required)
                    {
                        let mut m = vec![a, b, c];
                        m.sort_unstable();
                        mine.push(column(problem, pool, m, dref));
                        if mine.len() >= KEEP_TRIPLES {
                            break 'search;
                        }
                    }
                }
            }
        }
        mine.sort_by(|p, q| p.cost.cmp(&q.cost).then_with(|| p.members.cmp(&q.members)));
        kept.extend(mine.into_iter().take(KEEP_TRIPLES));
    }
    kept.into_iter().collect()
}

/// Every feasible quad of the component, when the triples were complete and
/// the quads number at most [`FULL_QUADS`]; else `None`. (Pruned quads were
/// tried and dropped: an exact cover that needs two specific quads is hard for
/// HiGHS to find among a few per school, and harder to disprove.)
fn all_quads(
    problem: &TriadsProblem,
    pool: &Pool,
    comp: &[usize],
    nbrs: &[Vec<usize>],
    triples_complete: bool,
    dref: f64,
) -> Option<Vec<Column>> {
    if !triples_complete {
        return None;
    }
    let mut all = Vec::new();
    for &a in comp {
        let later: Vec<usize> = nbrs[a].iter().copied().filter(|&b| b > a).collect();
        for (x, &b) in later.iter().enumerate() {
            for (y, &c) in later.iter().enumerate().skip(x + 1) {
                if !pool.compatible(b, c) {
                    continue;
                }
                for &d in &later[y + 1..] {
                    if pool.compatible(b, d) && pool.compatible(c, d) {
                        if all.len() >= FULL_QUADS {
                            return None;
                        }
                        all.push(vec![a, b, c, d]);
                    }
                }
            }
        }
    }
    let required = problem.policy.require_good_or_better;
    Some(
        all.into_iter()
            .filter(|m| has_good(&schools(problem, pool, m), required))
            .map(|m| column(problem, pool, m, dref))
            .collect(),
    )
}

/// The quad formed by adding local member `s` to `triple`, when `s` is
/// compatible with all three (the triple already has a good school).
pub fn insertion(
    problem: &TriadsProblem,
    pool: &Pool,
    triple: &Column,
    s: usize,
) -> Option<Column> {
    if triple.members.len() != 3 || !triple.members.iter().all(|&m| pool.compatible(m, s)) {
        return None;
    }
    let mut m = triple.members.clone();
    m.push(s);
    m.sort_unstable();
    Some(column(problem, pool, m, distance_ref(problem)))
}

/// Compatible partners of each member of `comp` (indexed by local index; ascending).
fn neighbours(pool: &Pool, comp: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); pool.len()];
    for &a in comp {
        out[a] = comp.iter().copied().filter(|&b| pool.compatible(a, b)).collect();
    }
    out
}

/// The `k` partners of `a` nearest to it, ties broken by index (ascending index order kept out).
fn nearest(problem: &TriadsProblem, pool: &Pool, a: usize, list: &[usize], k: usize) -> Vec<usize> {
    let here = &problem.schools[pool.members[a]];
    let mut by_distance: Vec<(f64, usize)> =
        list.iter().map(|&b| (km(here, &problem.schools[pool.members[b]]), b)).collect();
    by_distance.sort_by(|p, q| p.0.total_cmp(&q.0).then(p.1.cmp(&q.1)));
    let mut near: Vec<usize> = by_distance.into_iter().take(k).map(|(_, b)| b).collect();
    near.sort_unstable();
    near
}

/// The schools of local members.
pub fn schools<'a>(
    problem: &'a TriadsProblem,
    pool: &Pool,
    local: &[usize],
) -> Vec<&'a TriadSchool> {
    local.iter().map(|&a| &problem.schools[pool.members[a]]).collect()
}

fn band_rank(b: Standing) -> i64 {
    match b {
        Standing::Strong => 0,
        Standing::Secure => 1,
        Standing::Concern => 2,
        Standing::Serious => 3,
    }
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}
