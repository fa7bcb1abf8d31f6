//! The prepared problem: dense indices, whole days as integers, and the
//! eligibility screen (rules 3 to 5, and the exclusions of rule 9) that
//! decides which request x practitioner pairs become model columns. An
//! excluded pair is never a column (validation refuses a pin on one).
//! Assumes the problem passed validation.
//!
//! It is not the feasibility checker (`check.rs` has its own rules) and it
//! builds no model.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use bridges_schemas::SameTrust;
use bridges_schemas::brokerage::{BrokerageProblem, DaysByPeriod};
use bridges_schemas::common::distance_km;

/// The problem with dense indices (`r` requests, `p` practitioners, `t` periods).
#[derive(Debug)]
pub struct Prepared<'a> {
    pub problem: &'a BrokerageProblem,
    /// Days requested, `[r][t]`.
    pub demand: Vec<Vec<u32>>,
    /// Days available, `[p][t]`.
    pub capacity: Vec<Vec<u32>>,
    pub max_days: Vec<Option<u32>>,
    /// Priority tier index 0..4 (priority 1 is tier 0).
    pub tier: Vec<usize>,
    /// The school of request `r` (index into `problem.schools`).
    pub school_of_request: Vec<usize>,
    /// The home school of practitioner `p`.
    pub home_of: Vec<usize>,
    /// `previous_practitioner` of request `r`.
    pub previous: Vec<Option<usize>>,
    /// Pinned days per (request, practitioner), summed over duplicate pins.
    pub pins: BTreeMap<(usize, usize), Vec<u32>>,
    /// Model columns: candidate or pinned pairs, sorted by (r, p).
    pub pairs: Vec<Pair>,
    /// The pairs of request `r`: `pairs[pairs_of_request[r].clone()]`.
    pub pairs_of_request: Vec<Range<usize>>,
    /// Lexicographic weights of the tiers (see [`tier_weights`]).
    pub weights: [f64; 4],
    /// Listed conflicts by (practitioner, URN) and exclusions by (request,
    /// practitioner), indexed once: `screen` is called for every request
    /// and practitioner when unmet requests are explained.
    pub conflicts: BTreeMap<(usize, u32), ()>,
    pub excluded: BTreeSet<(usize, usize)>,
}

/// A request x practitioner pair that may carry days.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub r: usize,
    pub p: usize,
    pub km: f64,
    /// Pinned days per period (all zero when not pinned).
    pub pinned: Vec<u32>,
    /// Passes rules 3 to 5 (a pin may not).
    pub candidate: bool,
}

/// Where a practitioner stands for a request under rules 3 to 5.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Screen {
    /// Need, phase or designation does not match (rule 3).
    Ineligible,
    /// The pair is listed in `exclusions` (rule 9).
    Excluded,
    /// The request is at the practitioner's home school (rule 4).
    HomeSchool,
    /// A listed conflict (rule 4).
    Listed,
    /// Same trust as the home school, with `same_trust: "forbid"` (rule 4).
    SameTrust,
    /// Further than `max_distance_km` (rule 5), with the distance.
    TooFar(f64),
    /// Passes rules 3 to 5, with the distance in km.
    Candidate(f64),
}

impl<'a> Prepared<'a> {
    pub fn periods(&self) -> usize {
        self.problem.periods.len()
    }

    pub fn pairs_of(&self, r: usize) -> &[Pair] {
        &self.pairs[self.pairs_of_request[r].clone()]
    }

    /// The most days pair `i` may carry in period `t`: the smaller of the
    /// days asked and the practitioner's days, or more where pinned. Days
    /// beyond a pin must pass rules 3 to 5, so a pair that does not carries
    /// exactly its pinned days.
    pub fn upper(&self, i: usize, t: usize) -> u32 {
        let pair = &self.pairs[i];
        if pair.candidate {
            self.demand[pair.r][t].min(self.capacity[pair.p][t]).max(pair.pinned[t])
        } else {
            pair.pinned[t]
        }
    }

    /// The same problem with only the pairs `keep` says (pins always kept).
    pub fn restrict(&self, keep: &[bool]) -> Prepared<'a> {
        let keep: Vec<bool> = keep
            .iter()
            .zip(&self.pairs)
            .map(|(&k, pair)| k || pair.pinned.iter().any(|&d| d > 0))
            .collect();
        self.only(&keep)
    }

    /// The same problem with exactly the pairs `keep` says (pins too).
    pub fn only(&self, keep: &[bool]) -> Prepared<'a> {
        let mut pairs = Vec::new();
        let mut ranges = Vec::with_capacity(self.pairs_of_request.len());
        for range in &self.pairs_of_request {
            let start = pairs.len();
            for i in range.clone() {
                if keep[i] {
                    pairs.push(self.pairs[i].clone());
                }
            }
            ranges.push(start..pairs.len());
        }
        Prepared {
            problem: self.problem,
            demand: self.demand.clone(),
            capacity: self.capacity.clone(),
            max_days: self.max_days.clone(),
            tier: self.tier.clone(),
            school_of_request: self.school_of_request.clone(),
            home_of: self.home_of.clone(),
            previous: self.previous.clone(),
            pins: self.pins.clone(),
            pairs,
            pairs_of_request: ranges,
            weights: self.weights,
            conflicts: self.conflicts.clone(),
            excluded: self.excluded.clone(),
        }
    }

    /// Whole days per pair of `other` (same problem) moved onto this one's
    /// pairs; days of pairs this one lacks are dropped.
    pub fn map_days(&self, other: &Prepared<'_>, days: &[Vec<u32>]) -> Vec<Vec<u32>> {
        let index: BTreeMap<(usize, usize), usize> =
            self.pairs.iter().enumerate().map(|(i, pr)| ((pr.r, pr.p), i)).collect();
        let mut out = vec![vec![0u32; self.periods()]; self.pairs.len()];
        for (j, pair) in other.pairs.iter().enumerate() {
            if let Some(&i) = index.get(&(pair.r, pair.p)) {
                out[i].clone_from(&days[j]);
            }
        }
        out
    }

    /// Whole days of a tier that were requested.
    pub fn tier_demand(&self) -> [u64; 4] {
        let mut d = [0u64; 4];
        for (r, days) in self.demand.iter().enumerate() {
            d[self.tier[r]] += days.iter().map(|&x| u64::from(x)).sum::<u64>();
        }
        d
    }
}

/// Builds the dense view and the candidate pairs of a validated problem.
pub fn prepare(problem: &BrokerageProblem) -> Prepared<'_> {
    let period_of: BTreeMap<&str, usize> =
        problem.periods.iter().enumerate().map(|(t, p)| (p.as_str(), t)).collect();
    let school_of: BTreeMap<u32, usize> =
        problem.schools.iter().enumerate().map(|(i, s)| (s.urn.0, i)).collect();
    let prac_of: BTreeMap<&str, usize> =
        problem.practitioners.iter().enumerate().map(|(i, p)| (p.id.as_str(), i)).collect();
    let req_of: BTreeMap<&str, usize> =
        problem.requests.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect();
    let t_count = problem.periods.len();
    let dense = |days: &DaysByPeriod| {
        let mut v = vec![0u32; t_count];
        for (period, &d) in days {
            if let Some(&t) = period_of.get(period.as_str()) {
                // Validated: whole, non-negative and small.
                v[t] += d as u32;
            }
        }
        v
    };

    let demand: Vec<Vec<u32>> = problem.requests.iter().map(|r| dense(&r.days)).collect();
    let capacity: Vec<Vec<u32>> =
        problem.practitioners.iter().map(|p| dense(&p.capacity)).collect();
    let max_days = problem.practitioners.iter().map(|p| p.max_days.map(|m| m as u32)).collect();
    let tier = problem.requests.iter().map(|r| (r.priority.clamp(1, 4) - 1) as usize).collect();
    let school_of_request =
        problem.requests.iter().map(|r| school_of.get(&r.urn.0).copied().unwrap_or(0)).collect();
    let home_of = problem
        .practitioners
        .iter()
        .map(|p| school_of.get(&p.home_urn.0).copied().unwrap_or(0))
        .collect();
    let previous = problem
        .requests
        .iter()
        .map(|r| r.previous_practitioner.as_ref().and_then(|id| prac_of.get(id.as_str()).copied()))
        .collect();
    let mut pins: BTreeMap<(usize, usize), Vec<u32>> = BTreeMap::new();
    for pin in &problem.pinned {
        if let (Some(&r), Some(&p)) =
            (req_of.get(pin.request.as_str()), prac_of.get(pin.practitioner.as_str()))
        {
            let days = dense(&pin.days);
            let entry = pins.entry((r, p)).or_insert_with(|| vec![0; t_count]);
            for (e, d) in entry.iter_mut().zip(days) {
                *e += d;
            }
        }
    }

    let conflicts: BTreeMap<(usize, u32), ()> = problem
        .conflicts
        .iter()
        .filter_map(|c| prac_of.get(c.practitioner.as_str()).map(|&p| ((p, c.urn.0), ())))
        .collect();
    let excluded: BTreeSet<(usize, usize)> = problem
        .exclusions
        .iter()
        .filter_map(|x| {
            Some((*req_of.get(x.request.as_str())?, *prac_of.get(x.practitioner.as_str())?))
        })
        .collect();
    let mut prep = Prepared {
        problem,
        demand,
        capacity,
        max_days,
        tier,
        school_of_request,
        home_of,
        previous,
        pins,
        pairs: Vec::new(),
        pairs_of_request: Vec::new(),
        weights: [1.0; 4],
        conflicts,
        excluded,
    };
    let mut pairs = Vec::new();
    let mut ranges = Vec::with_capacity(problem.requests.len());
    for r in 0..problem.requests.len() {
        let start = pairs.len();
        for p in 0..problem.practitioners.len() {
            let pinned = prep.pins.get(&(r, p)).cloned();
            let screen = screen(&prep, r, p);
            let useful = (0..t_count).any(|t| prep.demand[r][t] > 0 && prep.capacity[p][t] > 0);
            match (screen, pinned) {
                (_, Some(pinned)) => pairs.push(Pair {
                    r,
                    p,
                    km: pair_km(&prep, r, p),
                    pinned,
                    candidate: matches!(screen, Screen::Candidate(_)),
                }),
                (Screen::Candidate(km), None) if useful => {
                    pairs.push(Pair { r, p, km, pinned: vec![0; t_count], candidate: true })
                }
                _ => {}
            }
        }
        ranges.push(start..pairs.len());
    }
    prep.pairs = pairs;
    prep.pairs_of_request = ranges;
    prep.weights = tier_weights(prep.tier_demand());
    prep
}

/// The connected component of each request: requests are joined through the
/// practitioners of their pairs (numbered by first request, so in order).
/// Without a budget row nothing else ties requests together.
pub fn components(prep: &Prepared<'_>) -> Vec<usize> {
    let n_req = prep.demand.len();
    let mut parent: Vec<usize> = (0..n_req + prep.capacity.len()).collect();
    fn root(parent: &mut [usize], mut v: usize) -> usize {
        while parent[v] != v {
            parent[v] = parent[parent[v]];
            v = parent[v];
        }
        v
    }
    for pair in &prep.pairs {
        let a = root(&mut parent, pair.r);
        let b = root(&mut parent, n_req + pair.p);
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut number = BTreeMap::new();
    (0..n_req)
        .map(|r| {
            let next = number.len();
            *number.entry(root(&mut parent, r)).or_insert(next)
        })
        .collect()
}

/// Lexicographic weights: `w4 = 1` and `wk = w(k+1) * (D(k+1) + 1)` where `Dk`
/// is the days requested in tier k, so one more day of a tier outweighs any
/// change in all the tiers after it.
pub fn tier_weights(demand: [u64; 4]) -> [f64; 4] {
    let mut w = [1.0; 4];
    for k in (0..3).rev() {
        w[k] = w[k + 1] * (demand[k + 1] as f64 + 1.0);
    }
    w
}

/// The lexicographic score of a coverage vector.
pub fn score(weights: &[f64; 4], coverage: &[u32; 4]) -> f64 {
    weights.iter().zip(coverage).map(|(w, &c)| w * f64::from(c)).sum()
}

fn pair_km(prep: &Prepared<'_>, r: usize, p: usize) -> f64 {
    let a = &prep.problem.schools[prep.school_of_request[r]];
    let b = &prep.problem.schools[prep.home_of[p]];
    distance_km(a.easting, a.northing, b.easting, b.northing)
}

/// Where practitioner `p` stands for request `r` under rules 3 to 5 and 9.
/// Eligibility comes first (an excluded practitioner who is
/// not eligible anyway is `Ineligible`), then the exclusion, then conflicts
/// and distance.
pub fn screen(prep: &Prepared<'_>, r: usize, p: usize) -> Screen {
    let problem = prep.problem;
    let req = &problem.requests[r];
    let pr = &problem.practitioners[p];
    let school = &problem.schools[prep.school_of_request[r]];
    let home = &problem.schools[prep.home_of[p]];
    if !pr.specialisms.contains(&req.need)
        || !pr.phases.contains(&school.phase)
        || !req.designations.contains(&pr.designation)
    {
        return Screen::Ineligible;
    }
    if prep.excluded.contains(&(r, p)) {
        return Screen::Excluded;
    }
    if home.urn == school.urn {
        return Screen::HomeSchool;
    }
    if prep.conflicts.contains_key(&(p, req.urn.0)) {
        return Screen::Listed;
    }
    if problem.policy.same_trust == SameTrust::Forbid
        && let (Some(a), Some(b)) = (&home.trust, &school.trust)
        && a == b
    {
        return Screen::SameTrust;
    }
    let km = pair_km(prep, r, p);
    match problem.policy.max_distance_km {
        Some(limit) if km > limit => Screen::TooFar(km),
        _ => Screen::Candidate(km),
    }
}
