//! The brokerage matching model: validates a problem, screens candidate
//! pairs, bounds it with the transportation relaxation (a lexicographic
//! max-flow), builds the MILP (good_lp) and solves it on HiGHS, then extracts
//! and explains the plan. Also the greedy baseline and the independent
//! checker. (The instance generator, the benchmark and the readable report
//! are callers of this module and live in `crate::tools`.)
//!
//! The pipeline (measured, see `tools/brokerage_bench.rs`):
//! 1. max-flow relaxation (rule 8, budget and pin lower bounds dropped): the
//!    bound on primary coverage, and a guide for a best-fit greedy plan;
//! 2. up to [`FULL_MODEL_PAIRS`] candidate pairs: the exact column model over
//!    every pair, started from the better greedy plan. Its primary goal is
//!    solved first with only the choice columns integer (the rest is then a
//!    network, so its days come out whole; its bound holds either way): per
//!    connected component, and only in the components whose start falls
//!    short of their own flow bound even after the local search
//!    (`local.rs`) has moved requests between practitioners; HiGHS then
//!    starts from that plan, tuned for the proof. The tie-breaking stage
//!    then runs per component with each request's days per period held:
//!    under rule 8 as an assignment model (who serves each request), beside
//!    the proof on the local search's plan; else over the day variables.
//!    The components share out the machine's cores. With a budget, all
//!    this runs without the budget row first, kept when its plan fits the
//!    budget (else the full model with the row, on the whole problem);
//! 3. above it: the best-fit plan when it is already within the gap asked
//!    for, else the cheap search over every pair for a share of the time
//!    limit (the local search under rule 8, else the flow over the pins,
//!    which is then exact for the primary goal), then the column model
//!    over the pairs the relaxation uses;
//! 4. whenever a limit (or the guided model's narrower choice) leaves the
//!    primary goal short of its bound, the same cheap search raises the
//!    tiers below the stage that stopped, the higher tiers held, within the
//!    time limit's margin (the solve ends within 10% plus one second of it);
//! 5. each tier's bound with the higher tiers held at the plan's coverage
//!    ([`tier_bounds`]): the plan's `gap` is taken on a weighted sum in
//!    which tier 1 dominates, and would hide a short lower tier.
//!
//! [`recommend`] ranks who could take one request now, as the solver
//! would choose between them for that request alone.
//!
//! It does not read files or speak NATS: `cli.rs` and the engine do.

pub mod candidates;
pub mod check;
pub mod explain;
pub mod extract;
pub mod flow;
pub mod greedy;
pub mod local;
pub mod model;
pub mod recommend;
pub mod solver;
pub mod validate;

use std::time::Instant;

use bridges_schemas::brokerage::{
    BrokeragePlan, BrokerageProblem, PlanDays, TierBound, Unmet, UnmetReason,
};
use bridges_schemas::common::{SolveStatus, SolverInfo};

use crate::common::{InvalidProblem, SolveError, SolveOptions, highs_info, relative_gap};
use candidates::{Prepared, prepare, score};
pub use model::Formulation;
use model::{Integrality, Model};
pub use recommend::recommend;
pub use solver::StageLog;
use solver::Tuning;

/// Validates, builds, solves and explains. `problem_sha256` is the hash of the
/// document's bytes as read.
pub fn solve(
    problem: &BrokerageProblem,
    problem_sha256: &str,
    options: &SolveOptions,
) -> Result<BrokeragePlan, SolveError> {
    solve_with(problem, problem_sha256, options, Formulation::Columns).map(|s| s.plan)
}

/// A solve with its model size and stage log (for benchmarks).
#[derive(Debug, Clone)]
pub struct Solved {
    pub plan: BrokeragePlan,
    pub stages: Vec<StageLog>,
    pub columns: usize,
    pub rows: usize,
}

/// [`solve`] with rule 8 written as `formulation` (the benchmark compares them).
pub fn solve_with(
    problem: &BrokerageProblem,
    problem_sha256: &str,
    options: &SolveOptions,
    formulation: Formulation,
) -> Result<Solved, SolveError> {
    let began = Instant::now();
    validate::validate(problem)?;
    if let Some(gap) = options.mip_gap
        && !(gap.is_finite() && gap >= 0.0)
    {
        return Err(InvalidProblem::new("--gap", gap, "must be a number >= 0").into());
    }
    if let Some(limit) = options.time_limit
        && !(limit.is_finite() && limit >= 0.0)
    {
        return Err(InvalidProblem::new("--time-limit", limit, "must be a number >= 0").into());
    }
    let prep = prepare(problem);
    if let Some(why) = pins_break_a_rule(&prep) {
        let mut plan = infeasible_plan(&prep, &why, options);
        plan.tiers = tier_bounds(&prep, &plan);
        plan.problem_sha256 = problem_sha256.to_owned();
        plan.seconds = began.elapsed().as_secs_f64();
        return Ok(Solved { plan, stages: Vec::new(), columns: 0, rows: 0 });
    }
    let limited = |o: &SolveOptions| o.since(began);

    // The transportation relaxation (a max-flow): the bound, and a guide
    // for a best-fit greedy plan. The better of it and the broker's greedy
    // plan starts the MILP.
    let (bounds, flow) = flow::lexicographic_max_flow(&prep);
    let flow_bound = score(&prep.weights, &bounds);
    let pins: Vec<Vec<u32>> = prep.pairs.iter().map(|p| p.pinned.clone()).collect();
    let guided_days = greedy::complete_guided(&prep, pins, Some(&flow));
    let greedy_days = greedy::pair_days(&prep);
    let score_of = |days: &[Vec<u32>]| primary_value(&prep, days);
    // The plain big-M model is the baseline as a modeller writes it: it
    // starts from the broker's greedy plan, with no relaxation guidance.
    let plain_start = (formulation == Formulation::BigM).then(|| greedy_days.clone());
    let start_days =
        if score_of(&guided_days) >= score_of(&greedy_days) { guided_days } else { greedy_days };
    let start_score = score_of(&start_days);
    tracing::debug!(
        ?bounds,
        start_score,
        flow_bound,
        seconds = began.elapsed().as_secs_f64(),
        "relaxation and start"
    );

    // The shortcut below returns the start as it stands: within the gap.
    let mut polish = true;
    let (days, outcome, columns, rows) = match formulation {
        Formulation::Columns
            if prep.pairs.len() > FULL_MODEL_PAIRS
                && relative_gap(start_score, flow_bound) <= options.mip_gap.unwrap_or(0.0) =>
        {
            // Large, and the start is already within the gap asked for.
            polish = false;
            let coverage =
                extract::coverage_and_cost(&prep, &extract::assignments(&prep, &start_days)).0;
            let outcome = solver::Outcome {
                values: Vec::new(),
                coverage,
                status: SolveStatus::Feasible,
                objective: start_score,
                bound: flow_bound,
                gap: relative_gap(start_score, flow_bound),
                stages: vec![StageLog {
                    name: "flow-guided best fit".to_owned(),
                    seconds: began.elapsed().as_secs_f64(),
                    proven: start_score >= flow_bound,
                    value: start_score,
                    bound: flow_bound,
                }],
                secondary_cut: true,
            };
            (start_days, outcome, 0, 0)
        }
        Formulation::Columns if prep.pairs.len() > FULL_MODEL_PAIRS => {
            // Large: first the cheap search over every pair (the local
            // search under rule 8, else the flow over the pins) for a share
            // of the time; measured on a 2,000-request problem with 6,248
            // pairs under rule 8, it reached tier 2 = 2,403 in 0.6 s where
            // the guided model proved 2,387 over its pairs after 2 s. Then
            // the column model decides over the pairs the relaxation uses
            // (and the start's), not all of them.
            let share = options.time_limit.map(|t| began + secs(SEARCH_SHARE * t));
            let Raised { days: start_days, proven, .. } =
                raise_primary(&prep, start_days, flow_bound, share);
            let start_score = score_of(&start_days);
            // Proven (the flow over the pins fits the budget): HiGHS only breaks the ties.
            let known_bound = if proven { start_score } else { f64::INFINITY };
            let mut keep = guided_pairs(&prep, &flow);
            for (k, d) in keep.iter_mut().zip(&start_days) {
                *k |= d.iter().any(|&x| x > 0);
            }
            let small = prep.restrict(&keep);
            let model = model::build(&small, Formulation::Columns, Integrality::Full);
            let start = start_values(&small, &model, &small.map_days(&prep, &start_days));
            tracing::debug!(
                pairs = small.pairs.len(),
                of = prep.pairs.len(),
                columns = model.columns.len(),
                rows = model.constraints.len(),
                "guided model built"
            );
            let mut outcome = solver::run_weighted(
                &small,
                &model,
                &limited(options),
                start,
                known_bound,
                false,
                Tuning::Default,
            )?;
            // The guided model's own bound is not global; the relaxation's
            // is, and the flow over the pins' where it proved the start.
            outcome.bound = flow_bound.min(known_bound).max(outcome.objective);
            let mut days =
                prep.map_days(&small, &extract::pair_days(&small, &model, &outcome.values));
            if start_score > outcome.objective {
                days = start_days;
                outcome.objective = start_score;
            }
            (days, outcome, model.columns.len(), model.constraints.len())
        }
        _ => {
            // The exact model over every candidate pair, from the start.
            // Its primary goal is first solved with only the choices integer
            // (measured: the Hillingdon week's primary stage in 0.4 s instead
            // of 3.5 s). That bound holds for the full model; its days,
            // rounded down (whole already unless the budget row bites) and
            // completed, start the full model, which skips its own primary
            // stage when they meet the bound and then breaks the ties.
            let start_days = plain_start.unwrap_or(start_days);
            match prep.problem.policy.budget {
                Some(budget) if formulation == Formulation::Columns => {
                    // Without the budget row the model is a network once the
                    // choices are made, and its components are independent:
                    // solved so, a plan within the budget solves the problem
                    // with it too (dropping a row only widens the choice).
                    let mut free = problem.clone();
                    free.policy.budget = None;
                    let free_prep = prepare(&free);
                    let found = exact(
                        &free_prep,
                        formulation,
                        start_days.clone(),
                        flow_bound,
                        &limited(options),
                    )?;
                    let cost =
                        extract::coverage_and_cost(&prep, &extract::assignments(&prep, &found.0)).1;
                    tracing::debug!(cost, budget, "solved without the budget row");
                    if cost <= budget + 1e-6 {
                        found
                    } else {
                        exact(&prep, formulation, start_days, flow_bound, &limited(options))?
                    }
                }
                _ => exact(&prep, formulation, start_days, flow_bound, &limited(options))?,
            }
        }
    };
    // A limit (or the guided model's narrower choice) may leave the primary
    // goal short of its bound: the tiers below the stage that stopped are
    // raised by the cheap search, with the higher tiers held (its score is
    // lexicographic, so it never gives up a day of a higher tier for a
    // lower one), and within the time limit's margin.
    let mut outcome = outcome;
    let short = primary_value(&prep, &days) < (outcome.bound + 1e-6).floor();
    let days = if polish && formulation == Formulation::Columns && short {
        let deadline =
            options.time_limit.map(|t| began + secs(t + POLISH_SHARE * t + POLISH_SECONDS));
        let raised = raise_primary(&prep, days, outcome.bound, deadline);
        if raised.proven {
            outcome.bound = primary_value(&prep, &raised.days);
        }
        // New days have not had their ties broken.
        outcome.secondary_cut |= raised.changed;
        raised.days
    } else {
        days
    };
    // A limit may leave free days on the table: hand them out greedily.
    let days = greedy::complete(&prep, days);
    let mut plan = finish(&prep, &days, highs_info(options));
    outcome.objective = outcome.objective.max(plan.objective);
    plan.bound = outcome.bound.max(outcome.objective);
    plan.gap = relative_gap(plan.objective, plan.bound);
    // Optimal means the primary goal meets a global bound (a guided model's
    // own optimum is not global) and the tie-breaking stage finished.
    plan.status = if plan.objective >= plan.bound && !outcome.secondary_cut {
        SolveStatus::Optimal
    } else {
        SolveStatus::Feasible
    };
    if plan.status == SolveStatus::Optimal {
        plan.bound = plan.objective;
        plan.gap = 0.0;
    }
    plan.tiers = tier_bounds(&prep, &plan);
    plan.problem_sha256 = problem_sha256.to_owned();
    plan.seconds = began.elapsed().as_secs_f64();
    Ok(Solved { plan, stages: outcome.stages, columns, rows })
}

/// Candidate pairs above which the exact column model gives way to the
/// relaxation-guided one (measured: the exact model proves LA-scale
/// instances in a fraction of a second; at 40,000 pairs its root LP alone
/// takes minutes).
pub const FULL_MODEL_PAIRS: usize = 6_000;

/// Near alternatives kept for a request the relaxation splits between practitioners.
pub const ALTERNATIVES: usize = 0;

/// The pairs of the guided model: those carrying days at the relaxation's
/// optimum, and for requests the relaxation splits between practitioners
/// (or leaves short), the nearest few candidates as well.
#[allow(clippy::needless_range_loop)]
fn guided_pairs(prep: &Prepared<'_>, flow: &[Vec<u32>]) -> Vec<bool> {
    let mut keep = vec![false; prep.pairs.len()];
    let mut carried = vec![0u32; prep.demand.len()];
    for (i, f) in flow.iter().enumerate() {
        let days: u32 = f.iter().sum();
        if days > 0 {
            keep[i] = true;
            carried[prep.pairs[i].r] += days;
        }
    }
    for r in 0..prep.demand.len() {
        let range = prep.pairs_of_request[r].clone();
        let used = range.clone().filter(|&i| keep[i]).count();
        let asked: u32 = prep.demand[r].iter().sum();
        if used > 1 || (used == 1 && carried[r] < asked) {
            let mut near: Vec<usize> = range.filter(|&i| prep.pairs[i].candidate).collect();
            near.sort_by(|&a, &b| prep.pairs[a].km.total_cmp(&prep.pairs[b].km).then(a.cmp(&b)));
            for i in near.into_iter().take(ALTERNATIVES) {
                keep[i] = true;
            }
        }
    }
    keep
}

/// The greedy baseline's plan (a broker by hand; see `greedy.rs`). Its
/// `bound` is the trivial one (every requested day covered).
pub fn greedy(problem: &BrokerageProblem) -> Result<BrokeragePlan, InvalidProblem> {
    validate::validate(problem)?;
    let prep = prepare(problem);
    let info = SolverInfo {
        name: "greedy".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        options: Default::default(),
    };
    if let Some(why) = pins_break_a_rule(&prep) {
        let mut plan = infeasible_plan(&prep, &why, &SolveOptions::default());
        plan.solver = info;
        plan.tiers = tier_bounds(&prep, &plan);
        return Ok(plan);
    }
    let days = greedy::pair_days(&prep);
    let mut plan = finish(&prep, &days, info);
    let demand = prep.tier_demand();
    plan.bound = prep.weights.iter().zip(demand).map(|(w, d)| w * d as f64).sum();
    plan.gap = relative_gap(plan.objective, plan.bound);
    plan.tiers = tier_bounds(&prep, &plan);
    Ok(plan)
}

/// The lexicographic optimum of the transportation relaxation (rule 8, the
/// budget and pin lower bounds dropped; a max-flow): days per tier no plan
/// can beat.
pub fn relaxation_bound(problem: &BrokerageProblem) -> Result<[f64; 4], SolveError> {
    validate::validate(problem)?;
    let prep = prepare(problem);
    Ok(flow::lexicographic_max_flow(&prep).0.map(f64::from))
}

/// Share of the time limit the cheap search over a large problem may take
/// before HiGHS (measured: a 2,000-request problem with 39,000 pairs takes
/// 0.3 s to climb and 19 s for all its kicks).
pub const SEARCH_SHARE: f64 = 0.25;

/// After the time limit, the cheap search that raises the tiers a stopped
/// stage left short may run for this share of the limit more, plus
/// [`POLISH_SECONDS`] (then the plan is explained and bounded: 0.6 s on
/// that problem). The whole solve ends within 10% plus one second of its
/// limit unless HiGHS overruns its own.
pub const POLISH_SHARE: f64 = 0.04;

/// See [`POLISH_SHARE`].
pub const POLISH_SECONDS: f64 = 0.3;

fn secs(s: f64) -> std::time::Duration {
    std::time::Duration::from_secs_f64(s.clamp(0.0, 1e9))
}

/// The primary goal of `days` raised by the cheap search over every pair,
/// with the budget left out and the result kept only when it fits it and
/// scores higher: under rule 8 the local search (`local.rs`) from `days`,
/// stopped at `deadline` after its first climb or once it reaches `bound`;
/// otherwise the flow over the pins ([`flow::best_over_pins`]), the exact
/// optimum of the primary goal without a budget.
fn raise_primary(
    prep: &Prepared<'_>,
    days: Vec<Vec<u32>>,
    bound: f64,
    deadline: Option<Instant>,
) -> Raised {
    let began = Instant::now();
    let mut free = prep.problem.clone();
    free.policy.budget = None;
    let free_prep = Prepared { problem: &free, ..prep.only(&vec![true; prep.pairs.len()]) };
    let single = free.policy.single_practitioner;
    let better = if single {
        local::improve(&free_prep, &days, bound, deadline).0
    } else {
        flow::best_over_pins(&free_prep)
    };
    let fits = prep.problem.policy.budget.is_none_or(|budget| {
        extract::coverage_and_cost(prep, &extract::assignments(prep, &better)).1 <= budget + 1e-6
    });
    let (was, now) = (primary_value(prep, &days), primary_value(prep, &better));
    tracing::debug!(was, now, fits, seconds = began.elapsed().as_secs_f64(), "primary raised");
    let proven = !single && fits;
    if fits && now > was + 0.5 {
        Raised { days: better, proven, changed: true }
    } else {
        Raised { days, proven: proven && now <= was + 0.5, changed: false }
    }
}

/// What [`raise_primary`] returns.
struct Raised {
    days: Vec<Vec<u32>>,
    /// The days are proven optimal for the primary goal (the flow's fit the budget).
    proven: bool,
    /// They are not the days it was given.
    changed: bool,
}

/// Each tier's coverage against the best bound proven for it with the
/// higher tiers held at the plan's coverage: the least of the days asked,
/// the relaxation's ([`flow::held_tier_bounds`]), and what the plan's bound
/// on the weighted score leaves for it once the higher tiers have their
/// days (`(bound - sum_{j<k} w_j c_j) / w_k`, as every plan covering at
/// least `c_j` scores at least `w_j c_j` in tier `j`); every tier's own
/// coverage when the plan is proven.
pub fn tier_bounds(prep: &Prepared<'_>, plan: &BrokeragePlan) -> Vec<TierBound> {
    let requested = prep.tier_demand().map(|d| u32::try_from(d).unwrap_or(u32::MAX));
    let coverage = plan.coverage;
    let mut bounds = if plan.status == SolveStatus::Infeasible {
        // No plan is feasible: nothing can be covered.
        coverage
    } else if plan.status == SolveStatus::Optimal || plan.objective >= plan.bound {
        coverage
    } else {
        flow::held_tier_bounds(prep, &coverage)
    };
    // Whole weights (each is a product of days asked plus one), exact in
    // i128; a bound past f64's whole numbers is not read this way.
    let weights = prep.weights.map(|w| w as i128);
    if plan.bound.is_finite() && plan.bound < 2f64.powi(52) && plan.bound >= plan.objective {
        let left = (plan.bound + 1e-6).floor() as i128;
        let mut held = 0i128;
        for k in 0..4 {
            let room = (left - held).max(0) / weights[k].max(1);
            bounds[k] = bounds[k].min(u32::try_from(room).unwrap_or(u32::MAX));
            held += weights[k] * i128::from(coverage[k]);
        }
    }
    (0..4)
        .map(|k| {
            let bound = bounds[k].min(requested[k]).max(coverage[k]);
            TierBound {
                tier: k as u8 + 1,
                requested: requested[k],
                coverage: coverage[k],
                bound,
                gap: if bound == 0 {
                    0.0
                } else {
                    f64::from(bound - coverage[k]) / f64::from(bound)
                },
            }
        })
        .collect()
}

/// Which pins alone break rule 1, 2, 6 or 8, if any.
// Indices address several parallel tables (demand, pins, capacity).
#[allow(clippy::needless_range_loop)]
fn pins_break_a_rule(prep: &Prepared<'_>) -> Option<String> {
    let problem = prep.problem;
    let t_count = prep.periods();
    let mut per_req = vec![vec![0u32; t_count]; prep.demand.len()];
    let mut per_prac = vec![vec![0u32; t_count]; prep.capacity.len()];
    let mut who = vec![0usize; prep.demand.len()];
    let mut cost = 0.0;
    for (&(r, p), days) in &prep.pins {
        if days.iter().any(|&d| d > 0) {
            who[r] += 1;
        }
        for t in 0..t_count {
            per_req[r][t] += days[t];
            per_prac[p][t] += days[t];
            cost += f64::from(days[t]) * problem.practitioners[p].day_rate;
        }
    }
    for r in 0..prep.demand.len() {
        for t in 0..t_count {
            if per_req[r][t] > prep.demand[r][t] {
                return Some(format!(
                    "pins give {} {} days in {}, it asks {} (rule 1)",
                    problem.requests[r].id, per_req[r][t], problem.periods[t], prep.demand[r][t]
                ));
            }
        }
        if problem.policy.single_practitioner && who[r] > 1 {
            return Some(format!(
                "pins give {} {} practitioners with single_practitioner (rule 8)",
                problem.requests[r].id, who[r]
            ));
        }
    }
    for p in 0..prep.capacity.len() {
        for t in 0..t_count {
            if per_prac[p][t] > prep.capacity[p][t] {
                return Some(format!(
                    "pins give {} {} days in {}, capacity {} (rule 2)",
                    problem.practitioners[p].id,
                    per_prac[p][t],
                    problem.periods[t],
                    prep.capacity[p][t]
                ));
            }
        }
        let total: u32 = per_prac[p].iter().sum();
        if let Some(max) = prep.max_days[p]
            && total > max
        {
            return Some(format!(
                "pins give {} {total} days, max_days {max} (rule 2)",
                problem.practitioners[p].id
            ));
        }
    }
    if let Some(budget) = problem.policy.budget
        && cost > budget + 1e-6
    {
        return Some(format!("pins cost £{cost:.0}, budget £{budget:.0} (rule 6)"));
    }
    None
}

/// The plan when pins alone break a hard rule: nothing planned, every request
/// unmet with reason `pins`.
fn infeasible_plan(prep: &Prepared<'_>, why: &str, options: &SolveOptions) -> BrokeragePlan {
    let problem = prep.problem;
    let mut unmet: Vec<Unmet> = problem
        .requests
        .iter()
        .enumerate()
        .filter_map(|(r, req)| {
            let days: PlanDays = (0..prep.periods())
                .filter(|&t| prep.demand[r][t] > 0)
                .map(|t| (problem.periods[t].clone(), prep.demand[r][t]))
                .collect();
            (!days.is_empty()).then(|| Unmet {
                request: req.id.clone(),
                days,
                reason: UnmetReason::Pins,
                detail: format!("nothing was planned: {why}"),
                counterfactual: None,
            })
        })
        .collect();
    unmet.sort_by(|a, b| a.request.cmp(&b.request));
    BrokeragePlan {
        assignments: Vec::new(),
        unmet,
        coverage: [0; 4],
        status: SolveStatus::Infeasible,
        objective: 0.0,
        bound: 0.0,
        gap: 0.0,
        problem_sha256: String::new(),
        solver: highs_info(options),
        seconds: 0.0,
        cost: 0.0,
        infeasibility: Some(why.to_owned()),
        tiers: Vec::new(),
    }
}

/// A plan from whole days per pair: assignments, explanations, coverage, cost.
fn finish(prep: &Prepared<'_>, days: &[Vec<u32>], solver: SolverInfo) -> BrokeragePlan {
    let assignments = extract::assignments(prep, days);
    let (coverage, cost) = extract::coverage_and_cost(prep, &assignments);
    let objective = score(&prep.weights, &coverage);
    BrokeragePlan {
        unmet: explain::explain(prep, days),
        assignments,
        coverage,
        status: SolveStatus::Feasible,
        objective,
        bound: objective,
        gap: 0.0,
        problem_sha256: String::new(),
        solver,
        seconds: 0.0,
        cost,
        infeasibility: None,
        tiers: Vec::new(),
    }
}

/// Days per pair, the outcome, and the model's columns and rows.
type Decided = (Vec<Vec<u32>>, solver::Outcome, usize, usize);

/// The exact model over every candidate pair from `start_days` (see
/// [`solve_with`]): the days, the outcome and the model size.
fn exact(
    prep: &Prepared<'_>,
    formulation: Formulation,
    mut start_days: Vec<Vec<u32>>,
    flow_bound: f64,
    options: &SolveOptions,
) -> Result<Decided, SolveError> {
    let began = Instant::now();
    let limited = |o: &SolveOptions| o.since(began);
    let score_of = |days: &[Vec<u32>]| primary_value(prep, days);
    let mut known_bound = f64::INFINITY;
    if formulation == Formulation::Columns {
        known_bound = flow_bound;
    }
    let single = formulation == Formulation::Columns && prep.problem.policy.single_practitioner;
    if single && prep.problem.policy.budget.is_none() {
        // No budget row: the components do not interact. Each stops at the
        // gap or time limit asked for (the full model could only try again
        // with less time).
        let (mut decided, bound) = rule_8_by_component(prep, &start_days, &limited(options))?;
        held_bound(&mut decided.1, known_bound.min(bound));
        return Ok(decided);
    }
    if let Some(model) = single
        .then(|| model::build(prep, formulation, Integrality::Choices))
        // Without a choice column it is an LP, whose bound HiGHS does not
        // report as a MIP's: the full model decides alone.
        .filter(|model| model.y.iter().any(Option::is_some))
    {
        let start = start_values(prep, &model, &start_days);
        let outcome = solver::run_weighted(
            prep,
            &model,
            &limited(options),
            start,
            flow_bound,
            true,
            Tuning::Default,
        )?;
        if outcome.stages.first().is_some_and(|s| s.proven) {
            known_bound = known_bound.min(outcome.bound);
        }
        let floor = greedy::complete(prep, floor_days(prep, &model, &outcome.values));
        tracing::debug!(
            whole = model::whole_days(&model, &outcome.values),
            bound = outcome.bound,
            start = score_of(&floor),
            "choices-only primary"
        );
        if score_of(&floor) > score_of(&start_days) {
            start_days = floor;
        }
    }
    if formulation == Formulation::Columns
        && prep.problem.policy.budget.is_none()
        && score_of(&start_days) >= (known_bound + 1e-6).floor()
    {
        // The primary goal is met. Without a budget row the components do
        // not interact: each breaks its ties alone.
        let mut decided = secondary_by_component(prep, &start_days, &limited(options))?;
        held_bound(&mut decided.1, known_bound);
        Ok(decided)
    } else {
        let model = model::build(prep, formulation, Integrality::Full);
        let start = start_values(prep, &model, &start_days);
        let mut outcome = solver::run_weighted(
            prep,
            &model,
            &limited(options),
            start,
            known_bound,
            false,
            Tuning::Default,
        )?;
        if formulation == Formulation::Columns {
            outcome.bound = outcome.bound.min(flow_bound.max(outcome.objective));
        }
        let days = extract::pair_days(prep, &model, &outcome.values);
        Ok((days, outcome, model.columns.len(), model.constraints.len()))
    }
}

/// Records `known_bound` (a bound on the primary score) on a per-component
/// outcome, which is then only feasible if its score falls short of it.
fn held_bound(outcome: &mut solver::Outcome, known_bound: f64) {
    let bound = (known_bound + 1e-6).floor();
    if bound > outcome.objective {
        outcome.bound = bound;
        outcome.gap = relative_gap(outcome.objective, bound);
        outcome.status = SolveStatus::Feasible;
    }
}

/// Rule 8 without a budget row, per connected component (they do not
/// interact): the primary goal ([`primary_start`], then [`prove`] where the
/// local search's plan is short of the component's flow bound) and the
/// tie-break on the days found ([`solver::run_assignment`]). Returns the
/// days, the merged outcome with the summed model size, and the sum of the
/// components' primary bounds.
fn rule_8_by_component(
    prep: &Prepared<'_>,
    start_days: &[Vec<u32>],
    options: &SolveOptions,
) -> Result<(Decided, f64), SolveError> {
    let began = Instant::now();
    let (days, plans) =
        by_component(prep, start_days, options, component_plan, |plan| &plan.tie.days)?;
    let bound: f64 = plans.iter().map(|c| c.bound).sum();
    let milps = plans.iter().filter(|c| c.milp).count();
    let ties: Vec<solver::TieBreak> = plans.into_iter().map(|c| c.tie).collect();
    tracing::debug!(
        seconds = began.elapsed().as_secs_f64(),
        count = ties.len(),
        milps,
        bound,
        "rule 8 by component"
    );
    Ok((merge_ties(prep, days, &ties, began), bound))
}

/// What one component decided under rule 8 without a budget row.
struct ComponentPlan {
    /// A bound on the component's primary score.
    bound: f64,
    /// HiGHS ran for the primary goal.
    milp: bool,
    /// The tie-break on the primary goal's days: the component's plan.
    tie: solver::TieBreak,
}

/// One component's primary goal and tie-break. When HiGHS has to prove the
/// local search's plan, the tie-break of that plan runs beside the proof on
/// a second thread (HiGHS's MIP search is single-threaded), and runs again
/// only if the proof finds better days. (Measured on the LA bench's largest
/// component: proof 0.18 to 0.21 s, tie-break 0.04 s.)
fn component_plan(
    prep: &Prepared<'_>,
    start: Vec<Vec<u32>>,
    options: &SolveOptions,
) -> Result<ComponentPlan, SolveError> {
    let began = Instant::now();
    let tie_break = |days: &[Vec<u32>]| solver::run_assignment(prep, days, &options.since(began));
    match primary_start(prep, start, options) {
        Primary::Decided { days, bound } => {
            Ok(ComponentPlan { bound, milp: false, tie: tie_break(&days)? })
        }
        Primary::Prove { days: searched, flow_bound } => {
            let (proved, tie) = std::thread::scope(|scope| {
                let proof =
                    scope.spawn(|| prove(prep, &searched, flow_bound, &options.since(began)));
                let tie = tie_break(&searched);
                let proved = proof.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (proved, tie)
            });
            let (days, bound) = proved?;
            let tie = if days == searched { tie? } else { tie_break(&days)? };
            Ok(ComponentPlan { bound, milp: true, tie })
        }
    }
}

/// Where a component's primary goal stands before HiGHS.
enum Primary {
    /// Decided: the days and a bound on their score.
    Decided { days: Vec<Vec<u32>>, bound: f64 },
    /// The local search's days, short of the component's flow bound.
    Prove { days: Vec<Vec<u32>>, flow_bound: f64 },
}

/// The primary goal of one component from `start` without HiGHS: decided
/// when the start, or the local search's plan, meets the component's flow
/// bound or comes within the gap asked for, or when no request has a choice
/// of practitioner left.
fn primary_start(prep: &Prepared<'_>, start: Vec<Vec<u32>>, options: &SolveOptions) -> Primary {
    let (tiers, _) = flow::lexicographic_max_flow(prep);
    let flow_bound = score(&prep.weights, &tiers);
    if primary_value(prep, &start) >= flow_bound {
        return Primary::Decided { days: start, bound: flow_bound };
    }
    let searching = Instant::now();
    let deadline = options.time_limit.map(|t| searching + std::time::Duration::from_secs_f64(t));
    let (days, exact) = local::improve(prep, &start, flow_bound, deadline);
    let reached = primary_value(prep, &days);
    let seconds = searching.elapsed().as_secs_f64();
    tracing::debug!(reached, flow_bound, exact, seconds, "local search");
    let gap = options.mip_gap.unwrap_or(0.0);
    if exact || reached >= flow_bound || (gap > 0.0 && relative_gap(reached, flow_bound) <= gap) {
        let bound = if exact { reached } else { flow_bound };
        return Primary::Decided { days, bound };
    }
    Primary::Prove { days, flow_bound }
}

/// The choices-only MILP of one component from the local search's `days`:
/// the best days found (`days` unless HiGHS finds a higher score) and a
/// bound on their score. The start is usually optimal already, so HiGHS is
/// tuned for the proof.
fn prove(
    prep: &Prepared<'_>,
    days: &[Vec<u32>],
    flow_bound: f64,
    options: &SolveOptions,
) -> Result<(Vec<Vec<u32>>, f64), SolveError> {
    let model = model::build(prep, Formulation::Columns, Integrality::Choices);
    let values = start_values(prep, &model, days);
    let outcome =
        solver::run_weighted(prep, &model, options, values, flow_bound, true, Tuning::Proof)?;
    let floor = greedy::complete(prep, floor_days(prep, &model, &outcome.values));
    let best =
        if primary_value(prep, &floor) > primary_value(prep, days) { floor } else { days.to_vec() };
    Ok((best, outcome.bound.min(flow_bound)))
}

/// The weighted primary score of days per pair.
fn primary_value(prep: &Prepared<'_>, days: &[Vec<u32>]) -> f64 {
    score(&prep.weights, &extract::coverage_and_cost(prep, &extract::assignments(prep, days)).0)
}

/// Runs `solve` on each connected component alone (the problem with only its
/// pairs, the start's days on them, and the time left), on as many threads
/// as the machine has cores, largest component first; puts together the
/// days `days_of` finds in what it returns, and returns them with what it
/// returned per component, in component order (so the result does not
/// depend on which thread finished first).
fn by_component<T: Send>(
    prep: &Prepared<'_>,
    start_days: &[Vec<u32>],
    options: &SolveOptions,
    solve: impl Fn(&Prepared<'_>, Vec<Vec<u32>>, &SolveOptions) -> Result<T, SolveError> + Sync,
    days_of: impl Fn(&T) -> &[Vec<u32>] + Sync,
) -> Result<(Vec<Vec<u32>>, Vec<T>), SolveError> {
    let began = Instant::now();
    let component = candidates::components(prep);
    let count = component.iter().max().map_or(0, |c| c + 1);
    let keeps: Vec<Vec<bool>> = (0..count)
        .map(|c| prep.pairs.iter().map(|pair| component[pair.r] == c).collect::<Vec<bool>>())
        .filter(|keep| keep.contains(&true))
        .collect();
    let mut order: Vec<usize> = (0..keeps.len()).collect();
    order.sort_by_key(|&c| std::cmp::Reverse(keeps[c].iter().filter(|&&k| k).count()));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(&c) = order.get(k) else { return done };
            let small = prep.only(&keeps[c]);
            let start = small.map_days(prep, start_days);
            let found = solve(&small, start, &options.since(began))
                .map(|extra| (prep.map_days(&small, days_of(&extra)), extra));
            done.push((c, found));
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(keeps.len());
    let mut results: Vec<_> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for helper in helpers {
            all.extend(helper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        all
    });
    results.sort_by_key(|(c, _)| *c);
    let mut days = start_days.to_vec();
    let mut extras = Vec::with_capacity(results.len());
    for (c, found) in results {
        let (found, extra) = found?;
        for (i, d) in found.into_iter().enumerate() {
            if keeps[c][i] {
                days[i] = d;
            }
        }
        extras.push(extra);
    }
    Ok((days, extras))
}

/// The secondary stage per connected component (no budget row, and
/// `start_days` at the primary optimum), each request's days per period held
/// at the start's, over the day model (rule 8 goes through
/// [`rule_8_by_component`]). Returns the days, the merged outcome and the
/// summed model size.
fn secondary_by_component(
    prep: &Prepared<'_>,
    start_days: &[Vec<u32>],
    options: &SolveOptions,
) -> Result<Decided, SolveError> {
    let began = Instant::now();
    let tie_break = |small: &Prepared<'_>, small_days: Vec<Vec<u32>>, limited: &SolveOptions| {
        let model = model::build(small, Formulation::Columns, Integrality::Full);
        let start = start_values(small, &model, &small_days);
        let outcome = solver::run_tie_break(small, &model, start, limited)?;
        Ok(solver::TieBreak {
            days: extract::pair_days(small, &model, &outcome.values),
            stage: outcome.stages.last().cloned().unwrap_or_else(StageLog::secondary_not_run),
            cut: outcome.secondary_cut,
            columns: model.columns.len(),
            rows: model.constraints.len(),
        })
    };
    let (days, ties) = by_component(prep, start_days, options, tie_break, |tie| &tie.days)?;
    Ok(merge_ties(prep, days, &ties, began))
}

/// The plan's outcome from the components' tie-breaks (`days` put together).
fn merge_ties(
    prep: &Prepared<'_>,
    days: Vec<Vec<u32>>,
    ties: &[solver::TieBreak],
    began: Instant,
) -> Decided {
    let proven = ties.iter().all(|t| t.stage.proven);
    let cut = ties.iter().any(|t| t.cut);
    let value = ties.iter().map(|t| t.stage.value).sum();
    let bound = ties.iter().map(|t| t.stage.bound).sum();
    let columns = ties.iter().map(|t| t.columns).sum();
    let rows = ties.iter().map(|t| t.rows).sum();
    let coverage = extract::coverage_and_cost(prep, &extract::assignments(prep, &days)).0;
    let objective = score(&prep.weights, &coverage);
    let outcome = solver::Outcome {
        values: Vec::new(),
        coverage,
        status: if cut { SolveStatus::Feasible } else { SolveStatus::Optimal },
        objective,
        bound: objective,
        gap: 0.0,
        stages: vec![StageLog {
            name: format!("secondary ({} components)", ties.len()),
            seconds: began.elapsed().as_secs_f64(),
            proven,
            value,
            bound,
        }],
        secondary_cut: cut,
    };
    tracing::debug!(
        seconds = began.elapsed().as_secs_f64(),
        count = ties.len(),
        "secondary by component"
    );
    (days, outcome, columns, rows)
}

/// Whole days per pair from column values, each day variable rounded down
/// (within HiGHS's tolerance of a whole number it is that number), so the
/// days break no upper limit the values kept.
fn floor_days(prep: &Prepared<'_>, model: &Model, values: &[f64]) -> Vec<Vec<u32>> {
    let mut days = vec![vec![0u32; prep.periods()]; prep.pairs.len()];
    for x in &model.x {
        days[x.pair][x.t] = ((values[x.col] + 1e-6).floor().max(0.0) as u32).max(x.lower);
    }
    days
}

/// Column values of a plan given as whole days per pair (a MIP start).
fn start_values(prep: &Prepared<'_>, model: &Model, days: &[Vec<u32>]) -> Vec<f64> {
    let mut values = vec![0.0; model.columns.len()];
    let mut load = vec![0.0f64; prep.capacity.len()];
    for x in &model.x {
        let d = days[x.pair][x.t].clamp(x.lower, x.upper);
        values[x.col] = f64::from(d);
        load[prep.pairs[x.pair].p] += f64::from(d);
        if d > 0
            && let Some((_, col)) = model.y[x.pair]
        {
            values[col] = 1.0;
        }
    }
    for (i, y) in model.y.iter().enumerate() {
        if let Some((_, col)) = *y
            && prep.pairs[i].pinned.iter().any(|&d| d > 0)
        {
            values[col] = 1.0;
        }
    }
    for (p, l) in model.load.iter().enumerate() {
        if let Some(l) = l {
            values[l.e1_col] = (load[p] - l.t1).max(0.0);
            values[l.e2_col] = (load[p] - l.t2).max(0.0);
        }
    }
    values
}
