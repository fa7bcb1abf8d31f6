//! Phase pools and the compatibility graph inside each pool: which pairs of
//! schools may share a group (distance, trust, history) and which pairs share
//! an existing partnership (a soft "obvious grouping" signal). It decides
//! nothing about groups; enumerate.rs builds groups from these pairs.

use std::collections::{BTreeMap, BTreeSet};

use bridges_schemas::common::distance_km;
use bridges_schemas::triads::{TriadSchool, TriadsProblem};
use bridges_schemas::{Phase, SameTrust};

/// The pair is further apart than `max_distance_km`.
pub const BLOCK_DISTANCE: u8 = 1;
/// Both schools belong to the same trust and the policy forbids it.
pub const BLOCK_TRUST: u8 = 2;
/// The two schools were in a group together in `history`.
pub const BLOCK_HISTORY: u8 = 4;

/// Schools that may be grouped together: one phase with `phase_pools`, else all.
#[derive(Debug, Clone)]
pub struct Pool {
    /// The shared phase, or `None` when phases are pooled together.
    pub phase: Option<Phase>,
    /// Indices into `problem.schools`, in URN order.
    pub members: Vec<usize>,
    /// `block[a * n + b]`: why local members `a` and `b` may not share a group (0 = they may).
    block: Vec<u8>,
    /// `partner[a * n + b]`: the two share a listed partnership.
    partner: Vec<bool>,
}

impl Pool {
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Why local members `a` and `b` may not share a group (0 = compatible).
    pub fn block(&self, a: usize, b: usize) -> u8 {
        self.block[a * self.members.len() + b]
    }

    pub fn compatible(&self, a: usize, b: usize) -> bool {
        a != b && self.block(a, b) == 0
    }

    pub fn partners(&self, a: usize, b: usize) -> bool {
        self.partner[a * self.members.len() + b]
    }

    /// Phase label for explanations ("primaries", "secondaries", "schools").
    pub fn noun(&self) -> String {
        match self.phase {
            Some(Phase::Primary) => "primaries".to_owned(),
            Some(Phase::Secondary) => "secondaries".to_owned(),
            Some(Phase::Special) => "special schools".to_owned(),
            Some(p) => format!("{p} schools"),
            None => "schools".to_owned(),
        }
    }
}

/// Splits the problem into pools and computes each pool's pair rules.
pub fn pools(problem: &TriadsProblem) -> Vec<Pool> {
    let mut order: Vec<usize> = (0..problem.schools.len()).collect();
    order.sort_by_key(|&i| problem.schools[i].urn);
    let mut by_phase: BTreeMap<Option<Phase>, Vec<usize>> = BTreeMap::new();
    for i in order {
        let key = problem.policy.phase_pools.then_some(problem.schools[i].phase);
        by_phase.entry(key).or_default().push(i);
    }
    let history = pair_set(problem, &problem.history);
    let partnerships = pair_set(problem, &problem.partnerships);
    by_phase
        .into_iter()
        .map(|(phase, members)| build_pool(problem, phase, members, &history, &partnerships))
        .collect()
}

/// Distance in km between two schools (CONTRACTS.md formula).
pub fn km(a: &TriadSchool, b: &TriadSchool) -> f64 {
    distance_km(a.easting, a.northing, b.easting, b.northing)
}

fn build_pool(
    problem: &TriadsProblem,
    phase: Option<Phase>,
    members: Vec<usize>,
    history: &BTreeSet<(usize, usize)>,
    partnerships: &BTreeSet<(usize, usize)>,
) -> Pool {
    let n = members.len();
    let mut block = vec![0u8; n * n];
    let mut partner = vec![false; n * n];
    let limit = problem.policy.max_distance_km;
    let forbid_trust = problem.policy.same_trust == SameTrust::Forbid;
    for a in 0..n {
        for b in (a + 1)..n {
            let (i, j) = (members[a], members[b]);
            let (si, sj) = (&problem.schools[i], &problem.schools[j]);
            let mut why = 0u8;
            if limit.is_some_and(|d| km(si, sj) > d) {
                why |= BLOCK_DISTANCE;
            }
            if forbid_trust && si.trust.is_some() && si.trust == sj.trust {
                why |= BLOCK_TRUST;
            }
            let key = (i.min(j), i.max(j));
            if history.contains(&key) {
                why |= BLOCK_HISTORY;
            }
            block[a * n + b] = why;
            block[b * n + a] = why;
            let p = partnerships.contains(&key);
            partner[a * n + b] = p;
            partner[b * n + a] = p;
        }
    }
    Pool { phase, members, block, partner }
}

/// Every unordered pair (as school indices, smaller first) that shares a listed group.
fn pair_set(
    problem: &TriadsProblem,
    groups: &[Vec<bridges_schemas::Urn>],
) -> BTreeSet<(usize, usize)> {
    let index: BTreeMap<u32, usize> =
        problem.schools.iter().enumerate().map(|(i, s)| (s.urn.0, i)).collect();
    let mut pairs = BTreeSet::new();
    for group in groups {
        let ids: Vec<usize> = group.iter().filter_map(|u| index.get(&u.0).copied()).collect();
        for (x, &i) in ids.iter().enumerate() {
            for &j in &ids[x + 1..] {
                pairs.insert((i.min(j), i.max(j)));
            }
        }
    }
    pairs
}
