//! The peer-review triads solver: validation, phase pools, candidate groups,
//! a two-stage set-partitioning model on HiGHS (schools placed, then the
//! secondary cost), explanations, the rota. It holds no state and does no
//! I/O (the generator and the benchmark live in `crate::tools`).
//!
//! Decomposition: pools (phases) and, inside a pool, connected components of
//! the compatibility graph are independent, so each component is its own
//! model. Components of at most [`DIRECT_MAX`] schools are solved whole, with
//! every feasible triple when there are at most [`enumerate::FULL_TRIPLES`]
//! (exact), else each school's cheapest triples among its nearest partners.
//! Larger components are cut into geographic clusters of at most
//! [`CLUSTER_MAX`] (sizes multiples of 3), then the schools they left out get
//! one more pass. Models above [`REDUCE_ABOVE`] columns get an exact
//! reduced-cost reduction before the stage-2 MIP: an LP bound, a heuristic
//! incumbent, and only the columns that could still improve on it.
//!
//! Groups of 4 need 4 periods (rota.rs). They are columns when every quad of
//! the component can be enumerated (at most [`enumerate::FULL_QUADS`]);
//! otherwise the schools left out after the triad solve are inserted into
//! chosen triads (greedy, so the plan is then `feasible`, not `optimal`).
//!
//! The bound on schools placed is, per component, the most of its placeable
//! schools that groups of 3 (and 4) can hold ([`fits`]), tightened by HiGHS's
//! own bound where the enumeration was complete. `objective` is schools
//! placed; `secondary` the cost of enumerate.rs's [`enumerate::group_cost`];
//! `status` is `optimal` only when both goals are proven over a complete
//! enumeration; `gap` is the gap on schools placed.

pub mod check;
pub mod enumerate;
pub mod explain;
pub mod extract;
pub mod model;
pub mod pool;
pub mod rota;
pub mod validate;

use std::time::Instant;

use bridges_schemas::Urn;
use bridges_schemas::common::SolveStatus;
use bridges_schemas::triads::{TriadsPlan, TriadsProblem, Unplaced};

use crate::common::{SolveError, SolveOptions, highs_info, relative_gap};

/// Relative MIP gap of stage 2 when the caller sets none: small enough that an
/// integer secondary cost is solved exactly on the pools the round sees.
pub const DEFAULT_QUALITY_GAP: f64 = 1e-6;

/// Validates, builds, solves and explains. `problem_sha256` is the hash of the
/// document's bytes as read.
pub fn solve(
    problem: &TriadsProblem,
    problem_sha256: &str,
    options: &SolveOptions,
) -> Result<TriadsPlan, SolveError> {
    let started = Instant::now();
    validate::validate(problem)?;
    let quads = problem.policy.allow_groups_of_4 && problem.periods.len() >= 4;
    let ctx =
        explain::Context { quads, quads_need_periods: problem.policy.allow_groups_of_4 && !quads };
    let pools = pool::pools(problem);

    // Components of placeable schools, per pool, in a fixed order.
    let mut work = Vec::new();
    for (p, pool) in pools.iter().enumerate() {
        let placeable = enumerate::placeable(problem, pool);
        let members: Vec<usize> = (0..pool.len()).filter(|&a| placeable[a]).collect();
        for comp in enumerate::components(pool, &members) {
            work.push((p, comp));
        }
    }
    let total: usize = work.iter().map(|(_, c)| c.len()).sum();

    let mut groups: Vec<Vec<Urn>> = Vec::new();
    let mut placed_local: Vec<Vec<bool>> = pools.iter().map(|p| vec![false; p.len()]).collect();
    let mut at: Vec<Vec<explain::Placement>> =
        pools.iter().map(|p| vec![explain::Placement::default(); p.len()]).collect();
    let mut bound = 0usize;
    let mut secondary = 0i64;
    let mut optimal = true;
    let mut remaining = total;
    for (p, comp) in &work {
        let pool = &pools[*p];
        let share = options.time_limit.map(|t| {
            let left = (t - started.elapsed().as_secs_f64()).max(0.0);
            left * comp.len() as f64 / remaining.max(1) as f64
        });
        remaining -= comp.len();
        let result = solve_piece(problem, pool, comp, quads, share, options)?;
        bound += result.bound;
        secondary += result.cost;
        optimal &= result.optimal;
        let placement = explain::Placement {
            component: comp.len(),
            fits: fits(comp.len(), quads),
            placed: result.chosen.iter().map(|c| c.members.len()).sum(),
            bound: result.bound,
        };
        for &a in comp {
            at[*p][a] = placement;
        }
        for col in &result.chosen {
            for &a in &col.members {
                placed_local[*p][a] = true;
            }
            groups.push(extract::group_urns(problem, pool, col));
        }
    }
    groups.sort();

    let mut unplaced: Vec<Unplaced> = Vec::new();
    for (p, pool) in pools.iter().enumerate() {
        let placeable = enumerate::placeable(problem, pool);
        for a in 0..pool.len() {
            if !placed_local[p][a] {
                unplaced.push(explain::explain(problem, pool, a, placeable[a], at[p][a], ctx));
            }
        }
    }
    unplaced.sort_by_key(|u| u.urn);

    let placed: usize = groups.iter().map(Vec::len).sum();
    let rota = rota::rota(problem, &groups);
    let objective = placed as f64;
    let bound = bound.max(placed) as f64;
    let gap = relative_gap(objective, bound);
    let status = if optimal && gap == 0.0 { SolveStatus::Optimal } else { SolveStatus::Feasible };
    Ok(TriadsPlan {
        groups,
        unplaced,
        rota,
        status,
        objective,
        bound,
        gap,
        secondary: secondary as f64,
        problem_sha256: problem_sha256.to_owned(),
        solver: highs_info(options),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The most schools of a component of `n` placeable schools that groups of 3
/// (and 4 when `quads`) can hold: the largest `3a + 4b <= n`.
pub fn fits(n: usize, quads: bool) -> usize {
    if quads {
        // Every n >= 6 is 3a + 4b; 3 and 4 are groups; 5 holds 4 at most.
        match n {
            0..=2 => 0,
            5 => 4,
            _ => n,
        }
    } else {
        n - n % 3
    }
}

/// What one component's solve returned.
#[derive(Debug)]
struct ComponentResult {
    chosen: Vec<enumerate::Column>,
    bound: usize,
    cost: i64,
    optimal: bool,
}

/// Solves one component: whole when it has at most [`DIRECT_MAX`] schools,
/// else as geographic clusters of at most [`CLUSTER_MAX`] plus a pass over
/// the schools the clusters left out. The bound is the component's.
fn solve_piece(
    problem: &TriadsProblem,
    pool: &pool::Pool,
    comp: &[usize],
    quads: bool,
    time_share: Option<f64>,
    options: &SolveOptions,
) -> Result<ComponentResult, SolveError> {
    let cap = fits(comp.len(), quads);
    if comp.len() <= DIRECT_MAX {
        return solve_component(
            problem,
            pool,
            comp,
            quads,
            cap,
            enumerate::FULL_TRIPLES,
            time_share,
            options,
        );
    }
    let started = Instant::now();
    let clusters = clusters(problem, pool, comp.to_vec());
    // Clusters and the leftover pass solve their parts alike (pruned triples).
    let solve_part = |part: &[usize], share: Option<f64>| {
        solve_component(problem, pool, part, quads, fits(part.len(), quads), 0, share, options)
    };
    let mut chosen = Vec::new();
    let mut cost = 0;
    let mut placed = vec![false; pool.len()];
    let mut remaining = comp.len();
    for cluster in &clusters {
        let share = time_share.map(|t| {
            // Keep a tenth for the leftover pass.
            let left = (0.9 * t - started.elapsed().as_secs_f64()).max(0.0);
            left * cluster.len() as f64 / remaining.max(1) as f64
        });
        remaining -= cluster.len();
        let parts = enumerate::components(pool, cluster);
        for part in parts.iter().filter(|p| p.len() >= 3) {
            let r = solve_part(part, share)?;
            cost += r.cost;
            for c in r.chosen {
                for &a in &c.members {
                    placed[a] = true;
                }
                chosen.push(c);
            }
        }
    }
    let left: Vec<usize> = comp.iter().copied().filter(|&a| !placed[a]).collect();
    for part in enumerate::components(pool, &left).iter().filter(|p| p.len() >= 3) {
        let share = time_share.map(|t| (t - started.elapsed().as_secs_f64()).max(0.05));
        let r = solve_part(part, share)?;
        cost += r.cost;
        chosen.extend(r.chosen);
    }
    let placed_count: usize = chosen.iter().map(|c| c.members.len()).sum();
    Ok(ComponentResult { chosen, bound: cap.max(placed_count), cost, optimal: false })
}

/// HiGHS presolve runs only on models with at most this many columns per
/// school (see [`model::Limits::presolve`]).
const PRESOLVE_MAX_DENSITY: usize = 100;
/// Components with more schools than this are split into clusters.
pub const DIRECT_MAX: usize = 150;
/// Largest cluster of a split component.
pub const CLUSTER_MAX: usize = 75;
/// Models with more columns than this get the exact
/// reduced-cost column reduction before the stage-2 MIP.
pub const REDUCE_ABOVE: usize = 5_000;
/// Columns per school (smallest reduced cost) in the stage-2 heuristic model.
const HEURISTIC_PER_SCHOOL: usize = 60;

/// Recursive coordinate bisection: halves along the wider axis, cut at a
/// multiple of 3 so that each cluster can place all its schools.
fn clusters(
    problem: &TriadsProblem,
    pool: &pool::Pool,
    mut members: Vec<usize>,
) -> Vec<Vec<usize>> {
    if members.len() <= CLUSTER_MAX {
        members.sort_unstable();
        return vec![members];
    }
    let at = |a: usize| &problem.schools[pool.members[a]];
    let spread = |f: &dyn Fn(usize) -> f64| {
        let (lo, hi) = members
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &a| (lo.min(f(a)), hi.max(f(a))));
        hi - lo
    };
    let by_east = spread(&|a| at(a).easting) >= spread(&|a| at(a).northing);
    members.sort_by(|&a, &b| {
        let (x, y) =
            if by_east { (at(a).easting, at(b).easting) } else { (at(a).northing, at(b).northing) };
        x.total_cmp(&y).then(a.cmp(&b))
    });
    let half = ((members.len() / 2).div_ceil(3) * 3).min(members.len());
    let right = members.split_off(half);
    let mut out = clusters(problem, pool, members);
    out.extend(clusters(problem, pool, right));
    out
}

#[allow(clippy::too_many_arguments)]
fn solve_component(
    problem: &TriadsProblem,
    pool: &pool::Pool,
    comp: &[usize],
    quads: bool,
    fits: usize,
    full_triples: usize,
    time_share: Option<f64>,
    options: &SolveOptions,
) -> Result<ComponentResult, SolveError> {
    let started = Instant::now();
    let cand = enumerate::candidates(problem, pool, comp, quads, full_triples);
    if cand.columns.is_empty() {
        // No group of these schools meets the rules (a cluster cut or the
        // leftovers of a pass can hold schools that are compatible in pairs
        // but in no feasible triple). HiGHS refuses a model with no columns
        // (`ModelEmpty`); nothing is placed, and when the enumeration looked
        // at every triple, that is proven.
        tracing::debug!(schools = comp.len(), complete = cand.complete, "no candidate group");
        let bound = if cand.complete { 0 } else { fits };
        return Ok(ComponentResult { chosen: Vec::new(), bound, cost: 0, optimal: cand.complete });
    }
    // Rows are the component's members, 0..comp.len().
    let row_of = |a: usize| comp.binary_search(&a).expect("column members are in the component");
    let columns: Vec<enumerate::Column> = cand
        .columns
        .iter()
        .map(|c| enumerate::Column {
            members: c.members.iter().map(|&a| row_of(a)).collect(),
            cost: c.cost,
        })
        .collect();
    let stage1_limits = model::Limits {
        time_limit: time_share.map(|t| t * 0.5),
        mip_rel_gap: options.mip_gap,
        presolve: columns.len() <= PRESOLVE_MAX_DENSITY * comp.len(),
    };
    // Without quad columns the model itself holds groups of 3 only.
    let model_cap = if cand.insert_quads { self::fits(comp.len(), false) } else { fits };
    let built = model::build_placement(&columns, comp.len(), model_cap);
    // No incumbent within the time limit: placing nobody is feasible, and the
    // plan says so through its gap rather than failing.
    let first = model::run(built, stage1_limits, None).map_err(SolveError::Solver)?.unwrap_or(
        model::Outcome {
            optimal: false,
            objective: 0.0,
            bound: fits as f64,
            values: vec![0.0; columns.len()],
        },
    );
    let placed = first.objective.round().max(0.0) as usize;
    let mut bound = fits;
    if cand.complete {
        // HiGHS's bound is valid for the whole problem only if every group was a column.
        bound = bound.min((first.bound + 1e-6).floor().max(0.0) as usize);
    }
    let cap = bound.min(model_cap).max(placed);
    tracing::debug!(
        columns = columns.len(),
        complete = cand.complete,
        placed,
        bound,
        seconds = started.elapsed().as_secs_f64(),
        "stage 1 (schools placed) done"
    );
    // Quads left to insertion can still be priced out (below) when every
    // triple is a column and the triads place every school that fits.
    let may_price_quads = cand.insert_quads && cand.triples_complete && placed >= fits;
    let exact = cand.complete || may_price_quads;
    let gap = options.mip_gap.unwrap_or(if exact { DEFAULT_QUALITY_GAP } else { 1e-3 });
    let limits = |presolve: bool| model::Limits {
        time_limit: time_share.map(|t| (t - started.elapsed().as_secs_f64()).max(0.01)),
        mip_rel_gap: Some(gap),
        presolve,
    };
    // Exact reduction: columns whose LP reduced cost exceeds the gap between
    // a heuristic incumbent and the LP bound cannot be in a better solution.
    let mut keep: Vec<usize> = (0..columns.len()).collect();
    let mut start = first.values.clone();
    let relax = |columns: &[enumerate::Column]| {
        let lp = model::build_quality(columns, comp.len(), placed, cap, true);
        model::run_lp(lp, time_share.map(|t| (t - started.elapsed().as_secs_f64()).max(0.01)))
            .map_err(SolveError::Solver)
    };
    let mut relaxation = None;
    if columns.len() > REDUCE_ABOVE {
        relaxation = relax(&columns)?;
        if let Some(model::Relaxation { objective: z_lp, reduced, .. }) = &relaxation {
            let (z_lp, reduced) = (*z_lp, reduced);
            let incumbent = heuristic(
                &columns,
                comp.len(),
                placed,
                cap,
                reduced,
                &first.values,
                limits(false),
            )?;
            let ub =
                incumbent.iter().zip(&columns).map(|(v, c)| v.round() * c.cost as f64).sum::<f64>();
            keep = (0..columns.len())
                .filter(|&j| {
                    incumbent[j] > extract::ROUND_TOL
                        || z_lp + reduced[j] <= ub + 1e-6 * ub.abs().max(1.0)
                })
                .collect();
            start = keep.iter().map(|&j| incumbent[j]).collect();
            tracing::debug!(z_lp, ub, kept = keep.len(), "stage 2 reduced-cost reduction");
        }
    }
    let reduced_cols: Vec<enumerate::Column> = keep.iter().map(|&j| columns[j].clone()).collect();
    let presolve = reduced_cols.len() <= PRESOLVE_MAX_DENSITY * comp.len();
    let second =
        model::run_quality(&reduced_cols, comp.len(), placed, cap, limits(presolve), Some(&start))
            .map_err(SolveError::Solver)?;
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        optimal = second.as_ref().is_some_and(|o| o.optimal),
        "stage 2 (secondary cost) done"
    );
    let (picked, quality_optimal): (Vec<usize>, bool) = match &second {
        Some(o) => (extract::chosen(&o.values).into_iter().map(|i| keep[i]).collect(), o.optimal),
        None => (extract::chosen(&first.values), false),
    };
    let mut chosen: Vec<enumerate::Column> =
        picked.into_iter().map(|i| cand.columns[i].clone()).collect();
    if cand.insert_quads {
        insert_leftovers(problem, pool, comp, &mut chosen);
    }
    let placed = chosen.iter().map(|c| c.members.len()).sum::<usize>();
    let cost: i64 = chosen.iter().map(|c| c.cost).sum();
    // Stage 1 is proven when HiGHS says so or the pool arithmetic bound is met.
    let placed_proven = first.optimal || placed >= fits;
    let quads_priced_out = may_price_quads
        && quality_optimal
        && placed >= fits
        && chosen.iter().all(|c| c.members.len() == 3)
        && {
            if relaxation.is_none() {
                relaxation = relax(&columns)?;
            }
            let with_quad = relaxation
                .as_ref()
                .and_then(|lp| model::quad_plan_bound(&columns, comp.len(), placed, cap, lp));
            tracing::debug!(?with_quad, cost, "groups of 4 priced out");
            // Costs are integers: a plan with a quad costs at least
            // ceil(bound), so none is cheaper when that is at least `cost`.
            with_quad.is_some_and(|b| b > cost as f64 - 1.0 + 1e-6 * (cost as f64).abs().max(1.0))
        };
    let optimal =
        (cand.complete || quads_priced_out) && placed_proven && quality_optimal && placed >= bound;
    Ok(ComponentResult { chosen, bound: bound.max(placed), cost, optimal })
}

/// Groups of 4 without enumerating quads: each school left out joins a chosen
/// triad it is compatible with, cheapest added cost first (ties by school and
/// triad order), each triad taking at most one. Greedy, so not proven optimal.
fn insert_leftovers(
    problem: &TriadsProblem,
    pool: &pool::Pool,
    comp: &[usize],
    chosen: &mut [enumerate::Column],
) {
    let mut placed = std::collections::BTreeSet::new();
    for c in chosen.iter() {
        placed.extend(c.members.iter().copied());
    }
    let mut options = Vec::new();
    for &s in comp.iter().filter(|a| !placed.contains(*a)) {
        for (t, triple) in chosen.iter().enumerate() {
            if let Some(quad) = enumerate::insertion(problem, pool, triple, s) {
                options.push((quad.cost - triple.cost, s, t, quad));
            }
        }
    }
    options.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut used_school = std::collections::BTreeSet::new();
    let mut used_triad = std::collections::BTreeSet::new();
    for (_, s, t, quad) in options {
        if used_school.contains(&s) || used_triad.contains(&t) {
            continue;
        }
        used_school.insert(s);
        used_triad.insert(t);
        chosen[t] = quad;
    }
}

/// A good stage-2 incumbent quickly: the MIP over each school's columns of
/// smallest reduced cost (and the stage-1 solution, which keeps it feasible).
/// Returns values over all columns.
fn heuristic(
    columns: &[enumerate::Column],
    schools: usize,
    placed: usize,
    cap: usize,
    reduced: &[f64],
    stage1: &[f64],
    limits: model::Limits,
) -> Result<Vec<f64>, SolveError> {
    let mut per_school: Vec<Vec<usize>> = vec![Vec::new(); schools];
    for (j, c) in columns.iter().enumerate() {
        for &s in &c.members {
            per_school[s].push(j);
        }
    }
    let mut subset = std::collections::BTreeSet::new();
    for mut list in per_school {
        list.sort_by(|&a, &b| reduced[a].total_cmp(&reduced[b]).then(a.cmp(&b)));
        subset.extend(list.into_iter().take(HEURISTIC_PER_SCHOOL));
    }
    subset.extend(extract::chosen(stage1));
    let subset: Vec<usize> = subset.into_iter().collect();
    let cols: Vec<enumerate::Column> = subset.iter().map(|&j| columns[j].clone()).collect();
    let start: Vec<f64> = subset.iter().map(|&j| stage1[j]).collect();
    let mut values = vec![0.0; columns.len()];
    match model::run_quality(&cols, schools, placed, cap, limits, Some(&start))
        .map_err(SolveError::Solver)?
    {
        Some(o) => {
            for (k, &j) in subset.iter().enumerate() {
                values[j] = o.values[k];
            }
        }
        None => values.copy_from_slice(stage1),
    }
    Ok(values)
}
