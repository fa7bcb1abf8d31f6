//! The greedy baseline, as a broker works by hand: pins first, then requests
//! from the highest priority down (ties by order given), each given the
//! nearest eligible practitioner with days left (with `single_practitioner`,
//! one practitioner; otherwise further ones fill what is left). It respects
//! every hard rule; it is the benchmark's baseline and the MILP's start.

use super::candidates::Prepared;

/// Whole days per pair and period, `[pair][t]`, of the greedy plan.
pub fn pair_days(prep: &Prepared<'_>) -> Vec<Vec<u32>> {
    let pins: Vec<Vec<u32>> = prep.pairs.iter().map(|p| p.pinned.clone()).collect();
    complete(prep, pins)
}

/// Completes a feasible plan the greedy way: days left free are handed out
/// by priority and distance. With `single_practitioner`, a request that has a
/// practitioner keeps it. Used to polish a plan a limit cut short.
pub fn complete(prep: &Prepared<'_>, days: Vec<Vec<u32>>) -> Vec<Vec<u32>> {
    complete_guided(prep, days, None)
}

/// [`complete`], trying first the practitioners a relaxation gives the most
/// days (`guide[pair][t]`), then the nearest.
pub fn complete_guided(
    prep: &Prepared<'_>,
    mut days: Vec<Vec<u32>>,
    guide: Option<&[Vec<u32>]>,
) -> Vec<Vec<u32>> {
    let weight = |i: usize| guide.map_or(0, |g| g[i].iter().sum::<u32>());
    let t_count = prep.periods();
    let problem = prep.problem;
    let mut used = vec![vec![0u32; t_count]; prep.capacity.len()];
    let mut used_total = vec![0u32; prep.capacity.len()];
    let mut assigned = vec![vec![0u32; t_count]; prep.demand.len()];
    let mut spent = 0.0f64;
    let budget = problem.policy.budget.unwrap_or(f64::INFINITY);

    for (i, pair) in prep.pairs.iter().enumerate() {
        for t in 0..t_count {
            let d = days[i][t];
            used[pair.p][t] += d;
            used_total[pair.p] += d;
            assigned[pair.r][t] += d;
            spent += f64::from(d) * problem.practitioners[pair.p].day_rate;
        }
    }

    let mut order: Vec<usize> = (0..prep.demand.len()).collect();
    order.sort_by_key(|&r| (prep.tier[r], r));
    for r in order {
        let mut candidates: Vec<usize> =
            prep.pairs_of_request[r].clone().filter(|&i| prep.pairs[i].candidate).collect();
        // Guided, the practitioner who can give the most days now comes
        // first (best fit); by hand, the nearest.
        let can = |i: usize| -> u32 {
            if guide.is_none() {
                return 0;
            }
            let p = prep.pairs[i].p;
            let total_free = prep.max_days[p].map_or(u32::MAX, |m| m.saturating_sub(used_total[p]));
            let d: u32 = (0..t_count)
                .map(|t| {
                    prep.demand[r][t]
                        .saturating_sub(assigned[r][t])
                        .min(prep.capacity[p][t].saturating_sub(used[p][t]))
                })
                .sum();
            d.min(total_free)
        };
        let fit: Vec<(usize, u32, u32)> =
            candidates.iter().map(|&i| (i, can(i), weight(i))).collect();
        let mut fit = fit;
        fit.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then(b.2.cmp(&a.2))
                .then(prep.pairs[a.0].km.total_cmp(&prep.pairs[b.0].km))
                .then(prep.pairs[a.0].p.cmp(&prep.pairs[b.0].p))
        });
        candidates = fit.into_iter().map(|x| x.0).collect();
        // The request's practitioner so far: pinned, or given days already.
        let pinned: Vec<usize> =
            prep.pairs_of_request[r].clone().filter(|&i| days[i].iter().any(|&d| d > 0)).collect();
        let pinned_candidates: Vec<usize> =
            pinned.iter().copied().filter(|&i| prep.pairs[i].candidate).collect();
        if prep.problem.policy.single_practitioner && !pinned.is_empty() {
            // The practitioner it has is its one practitioner.
            // Days beyond a pin must pass rules 3 to 5 like any other.
            candidates = pinned_candidates;
        }
        for i in candidates {
            let p = prep.pairs[i].p;
            let rate = problem.practitioners[p].day_rate;
            let mut took = false;
            for t in 0..t_count {
                let want = prep.demand[r][t].saturating_sub(assigned[r][t]);
                let free = prep.capacity[p][t].saturating_sub(used[p][t]);
                let total_free =
                    prep.max_days[p].map_or(u32::MAX, |m| m.saturating_sub(used_total[p]));
                let affordable = if rate > 0.0 {
                    ((budget - spent) / rate + 1e-9).floor().max(0.0).min(f64::from(u32::MAX))
                        as u32
                } else {
                    u32::MAX
                };
                let d = want.min(free).min(total_free).min(affordable);
                if d > 0 {
                    days[i][t] += d;
                    used[p][t] += d;
                    used_total[p] += d;
                    assigned[r][t] += d;
                    spent += f64::from(d) * rate;
                    took = true;
                }
            }
            let done = (0..t_count).all(|t| assigned[r][t] >= prep.demand[r][t]);
            if done || (took && prep.problem.policy.single_practitioner) {
                break;
            }
        }
    }
    days
}
