//! A local search over who serves each request under rule 8, without a
//! budget row: the primary MILP's start. With one practitioner per request,
//! a plan is a choice of practitioner per request, and the best days for a
//! choice split by practitioner: each practitioner's days are a laminar
//! matroid (a slot per request and period inside a period's capacity inside
//! `max_days`, once the pinned days are taken out), so taking the most
//! valuable slots first fills it optimally. The search moves one request to
//! another practitioner, or swaps two requests between their practitioners,
//! while the score rises; then kicks a few requests at random (a fixed seed,
//! so the same problem gives the same plan) and climbs again, keeping a kick
//! that does not lose. (Measured at LA scale over seeds 1 to 16: of the 23
//! components left for HiGHS, it had already found the proven optimum of
//! 21; 7 more components it solved outright, reaching their flow bound or
//! having no choice to make.)
//!
//! A move is priced only when it could gain: what a request is worth to its
//! practitioner is worked out once per change of that practitioner's
//! members, and a pair can add no more than its weight times its days, so
//! most moves are turned down without a fill. The moves made are the same
//! as when every move is priced. (Measured: the largest component of each
//! LA seed searched in 0.006 to 0.024 s instead of 0.016 to 0.041 s.)
//!
//! It only ever returns a plan at least as good as its start; HiGHS proves
//! or improves it. A deadline stops it between climbing passes and kicks
//! (measured on a 2,000-request problem with 39,000 pairs: 150 kicks take
//! 15 s, so a time-limited solve needs one).

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::candidates::Prepared;

/// Rounds of kicks after the first climb.
pub const KICKS: usize = 150;

/// Requests moved at random by one kick.
const KICK_SIZE: usize = 3;

/// The search's state: who serves each request and each practitioner's best
/// value for the requests it serves.
struct Search<'p, 'a> {
    prep: &'p Prepared<'a>,
    /// Pairs request `r` may take: its pinned pair if it has one, else
    /// every pair that can carry a day.
    choices: Vec<Vec<usize>>,
    /// Pair serving request `r`, if any.
    serving: Vec<Option<usize>>,
    /// Pairs practitioner `p` serves.
    members: Vec<Vec<usize>>,
    /// Score of practitioner `p`'s best days.
    value: Vec<f64>,
    /// When practitioner `p`'s members last changed (a tick of `clock`).
    changed_at: Vec<u64>,
    clock: u64,
    /// What request `r`'s practitioner would score less without it, with
    /// the tick it was worked out at (valid while the practitioner's
    /// members have not changed since).
    loss: Vec<Option<(u64, f64)>>,
    table: Table,
}

/// What a fill needs of each pair, worked out once.
struct Table {
    /// Tier of the pair's request.
    tier: Vec<usize>,
    /// Weight of one of its days.
    weight: Vec<f64>,
    /// Pinned days per period.
    pinned: Vec<Vec<u32>>,
    /// Days it may carry beyond its pin, per period: `(t, days)` where above zero.
    room: Vec<Vec<(usize, u32)>>,
    /// The most its days could add to a practitioner's score (its weight
    /// times every day it may carry): joining a practitioner's members
    /// raises the score by no more, as the fill is greedy by weight.
    most: Vec<f64>,
    /// Days per period and `max_days` of each practitioner.
    capacity: Vec<Vec<u32>>,
    max_days: Vec<u32>,
}

impl Table {
    fn new(prep: &Prepared<'_>) -> Self {
        let t_count = prep.periods();
        let tier: Vec<usize> = prep.pairs.iter().map(|pair| prep.tier[pair.r]).collect();
        let most = (0..prep.pairs.len())
            .map(|i| {
                let days: u32 = (0..t_count).map(|t| prep.upper(i, t)).sum();
                prep.weights[tier[i]] * f64::from(days)
            })
            .collect();
        Table {
            most,
            weight: tier.iter().map(|&k| prep.weights[k]).collect(),
            tier,
            pinned: prep.pairs.iter().map(|pair| pair.pinned.clone()).collect(),
            room: (0..prep.pairs.len())
                .map(|i| {
                    (0..t_count)
                        .map(|t| (t, prep.upper(i, t) - prep.pairs[i].pinned[t]))
                        .filter(|&(_, d)| d > 0)
                        .collect()
                })
                .collect(),
            capacity: prep.capacity.clone(),
            max_days: prep.max_days.iter().map(|m| m.unwrap_or(u32::MAX)).collect(),
        }
    }

    /// Practitioner `p`'s best days for the pairs `members`: pins first,
    /// then slots by tier (ties by pair, then period). Returns the score
    /// and, when `days` is given, writes each member's days into it.
    fn fill(&self, p: usize, members: &[usize], days: Option<&mut [Vec<u32>]>) -> f64 {
        self.fill_changed(p, members, None, None, days)
    }

    /// [`Table::fill`] of `members` without pair `out` and with pair `put`.
    fn fill_changed(
        &self,
        p: usize,
        members: &[usize],
        out: Option<usize>,
        put: Option<usize>,
        mut days: Option<&mut [Vec<u32>]>,
    ) -> f64 {
        let mut order = [0usize; 32];
        let mut order_vec;
        let count = members.len() + 1;
        let order: &mut [usize] = if count <= order.len() {
            &mut order[..]
        } else {
            order_vec = vec![0; count];
            &mut order_vec
        };
        let mut n = 0;
        for &i in members.iter().filter(|&&i| Some(i) != out).chain(put.as_ref()) {
            order[n] = i;
            n += 1;
        }
        let order = &mut order[..n];
        order.sort_unstable_by_key(|&i| (self.tier[i], i));
        let capacity = &self.capacity[p];
        let mut used = [0u32; 16];
        let mut used_vec;
        let used: &mut [u32] = if capacity.len() <= used.len() {
            &mut used[..capacity.len()]
        } else {
            used_vec = vec![0u32; capacity.len()];
            &mut used_vec
        };
        let mut total = 0u32;
        let mut score = 0.0;
        for &i in order.iter() {
            for (t, &pin) in self.pinned[i].iter().enumerate() {
                used[t] += pin;
                total += pin;
                score += self.weight[i] * f64::from(pin);
            }
            if let Some(days) = days.as_deref_mut() {
                days[i].clone_from(&self.pinned[i]);
            }
        }
        let max = self.max_days[p];
        for &i in order.iter() {
            for &(t, room) in &self.room[i] {
                let give =
                    room.min(capacity[t].saturating_sub(used[t])).min(max.saturating_sub(total));
                if give > 0 {
                    used[t] += give;
                    total += give;
                    score += self.weight[i] * f64::from(give);
                    if let Some(days) = days.as_deref_mut() {
                        days[i][t] += give;
                    }
                }
            }
        }
        score
    }
}

impl<'p, 'a> Search<'p, 'a> {
    fn new(prep: &'p Prepared<'a>, start: &[Vec<u32>]) -> Self {
        let t_count = prep.periods();
        let choices: Vec<Vec<usize>> = prep
            .pairs_of_request
            .iter()
            .map(|range| {
                let pinned: Vec<usize> = range
                    .clone()
                    .filter(|&i| prep.pairs[i].pinned.iter().any(|&d| d > 0))
                    .collect();
                if pinned.is_empty() {
                    range.clone().filter(|&i| (0..t_count).any(|t| prep.upper(i, t) > 0)).collect()
                } else {
                    pinned
                }
            })
            .collect();
        let mut serving = vec![None; prep.demand.len()];
        for (r, range) in prep.pairs_of_request.iter().enumerate() {
            serving[r] = range.clone().find(|&i| start[i].iter().any(|&d| d > 0));
            if serving[r].is_none() {
                serving[r] = choices[r].first().copied();
            }
        }
        let mut members = vec![Vec::new(); prep.capacity.len()];
        for i in serving.iter().flatten() {
            members[prep.pairs[*i].p].push(*i);
        }
        let table = Table::new(prep);
        let value = (0..prep.capacity.len()).map(|p| table.fill(p, &members[p], None)).collect();
        let changed_at = vec![0; prep.capacity.len()];
        let loss = vec![None; prep.demand.len()];
        Search { prep, choices, serving, members, value, changed_at, clock: 0, loss, table }
    }

    /// Records that the members of practitioners `ps` changed.
    fn touch(&mut self, ps: &[usize]) {
        self.clock += 1;
        for &p in ps {
            self.changed_at[p] = self.clock;
        }
    }

    /// What request `r`'s practitioner would score less without it (0 when
    /// nobody serves it), worked out once per change of its members.
    fn loss(&mut self, r: usize) -> f64 {
        let Some(i) = self.serving[r] else { return 0.0 };
        let p = self.prep.pairs[i].p;
        if let Some((at, loss)) = self.loss[r]
            && at == self.changed_at[p]
        {
            return loss;
        }
        let loss =
            self.value[p] - self.table.fill_changed(p, &self.members[p], Some(i), None, None);
        self.loss[r] = Some((self.changed_at[p], loss));
        loss
    }

    fn score(&self) -> f64 {
        self.value.iter().sum()
    }

    /// Members of `p` without pair `out` and with pair `put`.
    fn changed(&self, p: usize, out: Option<usize>, put: Option<usize>) -> Vec<usize> {
        let mut m: Vec<usize> =
            self.members[p].iter().copied().filter(|&i| Some(i) != out).collect();
        m.extend(put);
        m
    }

    /// Serves request `r` by pair `j` when that raises the score (or always,
    /// with `force`). Returns whether it moved.
    fn relocate(&mut self, r: usize, j: usize, force: bool) -> bool {
        let prep = self.prep;
        let old = self.serving[r];
        if old == Some(j) {
            return false;
        }
        let q = prep.pairs[j].p;
        let from = old.map(|i| prep.pairs[i].p);
        if from == Some(q) {
            return false;
        }
        let from_value = -self.loss(r);
        if !force && from_value + self.table.most[j] <= 0.5 {
            // Cannot gain: `j` adds at most `most[j]`.
            return false;
        }
        let to_value = self.table.fill_changed(q, &self.members[q], None, Some(j), None);
        let gain = to_value - self.value[q] + from_value;
        if !(force || gain > 0.5) {
            return false;
        }
        if let Some(p) = from {
            self.value[p] += from_value;
            self.members[p] = self.changed(p, old, None);
            self.touch(&[p]);
        }
        self.value[q] = to_value;
        self.members[q].push(j);
        self.touch(&[q]);
        self.serving[r] = Some(j);
        true
    }

    /// Swaps the practitioners of requests `a` and `b` when that raises the
    /// score. Returns whether it did.
    fn swap(&mut self, a: usize, b: usize) -> bool {
        let prep = self.prep;
        let (Some(ia), Some(ib)) = (self.serving[a], self.serving[b]) else { return false };
        let (pa, pb) = (prep.pairs[ia].p, prep.pairs[ib].p);
        if pa == pb {
            return false;
        }
        let find =
            |r: usize, p: usize| self.choices[r].iter().copied().find(|&i| prep.pairs[i].p == p);
        let (Some(ja), Some(jb)) = (find(a, pb), find(b, pa)) else { return false };
        let most = self.table.most[ja] + self.table.most[jb];
        if most - self.loss(a) - self.loss(b) <= 0.5 {
            // Cannot gain: each side loses its request and adds at most `most`.
            return false;
        }
        let va = self.table.fill_changed(pa, &self.members[pa], Some(ia), Some(jb), None);
        let vb = self.table.fill_changed(pb, &self.members[pb], Some(ib), Some(ja), None);
        if va + vb - self.value[pa] - self.value[pb] <= 0.5 {
            return false;
        }
        let ma = self.changed(pa, Some(ia), Some(jb));
        let mb = self.changed(pb, Some(ib), Some(ja));
        self.value[pa] = va;
        self.value[pb] = vb;
        self.members[pa] = ma;
        self.members[pb] = mb;
        self.touch(&[pa, pb]);
        self.serving[a] = Some(ja);
        self.serving[b] = Some(jb);
        true
    }

    /// Climbs by moves and swaps until neither raises the score, or until
    /// `deadline` (checked between passes over the requests).
    fn climb(&mut self, deadline: Option<Instant>) {
        let requests = self.prep.demand.len();
        loop {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return;
            }
            let mut moved = false;
            for r in 0..requests {
                for k in 0..self.choices[r].len() {
                    moved |= self.relocate(r, self.choices[r][k], false);
                }
            }
            if moved {
                continue;
            }
            for a in 0..requests {
                let Some(ia) = self.serving[a] else { continue };
                let pa = self.prep.pairs[ia].p;
                for k in 0..self.choices[a].len() {
                    let pb = self.prep.pairs[self.choices[a][k]].p;
                    if pb == pa {
                        continue;
                    }
                    let others: Vec<usize> =
                        self.members[pb].iter().map(|&i| self.prep.pairs[i].r).collect();
                    for b in others {
                        if self.serving[a] == Some(ia) && self.swap(a, b) {
                            moved = true;
                        }
                    }
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// Days per pair of the current choice.
    fn days(&self) -> Vec<Vec<u32>> {
        let mut days = vec![vec![0u32; self.prep.periods()]; self.prep.pairs.len()];
        for (p, members) in self.members.iter().enumerate() {
            self.table.fill(p, members, Some(&mut days));
        }
        days
    }
}

/// A plan at least as good as `start` (whole days per pair, feasible, one
/// practitioner per request) for a problem under rule 8 without a budget:
/// the local search of this module, stopped after [`KICKS`] kicks, once its
/// score reaches `bound`, or at `deadline` (after the first climb). Also says whether the plan is
/// optimal because no request had a choice to make (each has one pair, or
/// is pinned), so the fill alone decided.
pub fn improve(
    prep: &Prepared<'_>,
    start: &[Vec<u32>],
    bound: f64,
    deadline: Option<Instant>,
) -> (Vec<Vec<u32>>, bool) {
    debug_assert!(prep.problem.policy.single_practitioner && prep.problem.policy.budget.is_none());
    let mut search = Search::new(prep, start);
    // The first climb runs to its end whatever the deadline: it is what
    // makes the plan a local optimum (no move or swap gains), and is quick.
    search.climb(None);
    let mut best = search.score();
    let mut kept = (search.serving.clone(), search.members.clone(), search.value.clone());
    let movable: Vec<usize> =
        (0..prep.demand.len()).filter(|&r| search.choices[r].len() > 1).collect();
    if movable.is_empty() {
        return (search.days(), true);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    for _ in 0..KICKS {
        if best >= bound - 0.5 || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        for _ in 0..KICK_SIZE {
            let r = movable[rng.random_range(0..movable.len())];
            let j = search.choices[r][rng.random_range(0..search.choices[r].len())];
            search.relocate(r, j, true);
        }
        search.climb(deadline);
        let score = search.score();
        if score >= best - 0.5 {
            // Not worse: kept, so the search walks across plateaus.
            best = best.max(score);
            kept = (search.serving.clone(), search.members.clone(), search.value.clone());
        } else {
            (search.serving, search.members, search.value) = kept.clone();
            // Every practitioner's members may have changed back.
            search.loss.fill(None);
        }
    }
    (search.serving, search.members, search.value) = kept;
    (search.days(), false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brokerage::candidates::prepare;
    use crate::tools::brokerage_generate::{Spec, generate};
    use bridges_schemas::brokerage::BrokerageProblem;

    /// A generated LA-scale week under rule 8, without its budget.
    fn week(seed: u64) -> BrokerageProblem {
        let mut problem = generate(&Spec::synthetic(100, 40, 80, seed)).expect("generated");
        problem.policy.budget = None;
        problem
    }

    /// Every practitioner's score with each pair it could take added, less
    /// its score now (the gain `relocate` and `swap` bound by `most`).
    fn gains(search: &Search<'_, '_>) -> Vec<(usize, f64)> {
        let prep = search.prep;
        (0..prep.pairs.len())
            .filter(|&j| !search.members[prep.pairs[j].p].contains(&j))
            .map(|j| {
                let q = prep.pairs[j].p;
                let to = search.table.fill_changed(q, &search.members[q], None, Some(j), None);
                (j, to - search.value[q])
            })
            .collect()
    }

    #[test]
    fn a_pair_adds_at_most_its_most_to_any_practitioner() {
        for seed in [2, 11, 14] {
            let problem = week(seed);
            let prep = prepare(&problem);
            let start = vec![vec![0; prep.periods()]; prep.pairs.len()];
            let mut search = Search::new(&prep, &start);
            let mut checked = 0;
            for round in 0..3 {
                if round > 0 {
                    search.climb(None);
                }
                for (j, gain) in gains(&search) {
                    assert!(gain >= 0.0 && gain <= search.table.most[j], "pair {j}: {gain}");
                    checked += 1;
                }
            }
            assert!(checked > 500, "seed {seed}: only {checked} pairs checked");
        }
    }

    #[test]
    fn cached_losses_match_a_fresh_fill_after_every_move() {
        let problem = week(11);
        let prep = prepare(&problem);
        let start = vec![vec![0; prep.periods()]; prep.pairs.len()];
        let mut search = Search::new(&prep, &start);
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let movable: Vec<usize> =
            (0..prep.demand.len()).filter(|&r| search.choices[r].len() > 1).collect();
        assert!(!movable.is_empty());
        for step in 0..40 {
            // Fill the cache, move, and check every request against a fresh fill.
            for r in 0..prep.demand.len() {
                search.loss(r);
            }
            let r = movable[rng.random_range(0..movable.len())];
            let j = search.choices[r][rng.random_range(0..search.choices[r].len())];
            search.relocate(r, j, true);
            if step % 4 == 0 {
                search.climb(None);
            }
            for r in 0..prep.demand.len() {
                let Some(i) = search.serving[r] else { continue };
                let p = prep.pairs[i].p;
                let fresh = search.value[p]
                    - search.table.fill_changed(p, &search.members[p], Some(i), None, None);
                assert_eq!(search.loss(r), fresh, "step {step}, request {r}");
                assert_eq!(search.value[p], search.table.fill(p, &search.members[p], None));
            }
        }
    }
}
