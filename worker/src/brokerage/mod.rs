//! The brokerage matching model: validates a problem, screens candidate
//! pairs, bounds it with the transportation relaxation (a lexicographic
//! max-flow), builds the MILP (good_lp) and solves it on HiGHS, then extracts
//! and explains the plan. Also the greedy baseline, the independent checker,
//! the instance generator, the benchmark and the readable report.
//!
//! The pipeline (measured, see `bench.rs`):
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
//!    under rule 8 as an assignment model (who serves each request), else
//!    over the day variables. With a budget, all this runs without the
//!    budget row first, kept when its plan fits the budget (else the full
//!    model with the row, on the whole problem);
//! 3. above it: the best-fit plan when it is already within the gap asked
//!    for, else the column model over the pairs the relaxation uses.
//!
//! It does not read files or speak NATS: `cli.rs` and the engine do.

pub mod bench;
pub mod candidates;
pub mod check;
pub mod explain;
pub mod extract;
pub mod flow;
pub mod generate;
pub mod greedy;
pub mod local;
pub mod model;
pub mod report;
pub mod solver;
pub mod validate;

use std::time::Instant;

use bridges_schemas::brokerage::{BrokeragePlan, BrokerageProblem, PlanDays, Unmet, UnmetReason};
use bridges_schemas::common::{SolveStatus, SolverInfo};

use crate::common::{InvalidProblem, SolveError, SolveOptions, highs_info, relative_gap};
use candidates::{Prepared, prepare, score};
pub use model::Formulation;
use model::{Integrality, Model};
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
        plan.problem_sha256 = problem_sha256.to_owned();
        plan.seconds = began.elapsed().as_secs_f64();
        return Ok(Solved { plan, stages: Vec::new(), columns: 0, rows: 0 });
    }
    let deadline = options.time_limit.map(|t| began + std::time::Duration::from_secs_f64(t));
    let left = || deadline.map(|d| d.saturating_duration_since(Instant::now()).as_secs_f64());
    let limited = |o: &SolveOptions| SolveOptions { time_limit: left(), ..*o };

    // The transportation relaxation (a max-flow): the bound, and a guide
    // for a best-fit greedy plan. The better of it and the broker's greedy
    // plan starts the MILP.
    let (bounds, flow) = flow::lexicographic_max_flow(&prep);
    let flow_bound = score(&prep.weights, &bounds);
    let pins: Vec<Vec<u32>> = prep.pairs.iter().map(|p| p.pinned.clone()).collect();
    let guided_days = greedy::complete_guided(&prep, pins, Some(&flow));
    let greedy_days = greedy::pair_days(&prep);
    let score_of = |days: &[Vec<u32>]| {
        score(
            &prep.weights,
            &extract::coverage_and_cost(&prep, &extract::assignments(&prep, days)).0,
        )
    };
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

    let (days, outcome, columns, rows) = match formulation {
        Formulation::Columns
            if prep.pairs.len() > FULL_MODEL_PAIRS
                && relative_gap(start_score, flow_bound) <= options.mip_gap.unwrap_or(0.0) =>
        {
            // Large, and the start is already within the gap asked for.
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
            // Large: the column model decides over the pairs the relaxation
            // uses (and the start's), not all of them.
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
                f64::INFINITY,
                false,
                Tuning::Default,
            )?;
            // The guided model's own bound is not global; the relaxation's is.
            outcome.bound = flow_bound.max(outcome.objective);
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
    // A limit may leave free days on the table: hand them out greedily.
    let days = greedy::complete(&prep, days);
    let mut plan = finish(&prep, &days, highs_info(options));
    let mut outcome = outcome;
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
        return Ok(plan);
    }
    let days = greedy::pair_days(&prep);
    let mut plan = finish(&prep, &days, info);
    let demand = prep.tier_demand();
    plan.bound = prep.weights.iter().zip(demand).map(|(w, d)| w * d as f64).sum();
    plan.gap = relative_gap(plan.objective, plan.bound);
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

/// Generates a realistic problem (see `bridges-worker generate --help`).
pub fn generate(args: &crate::cli::GenerateArgs) -> anyhow::Result<BrokerageProblem> {
    generate::generate(&generate::Spec::from_args(args))
}

/// Runs the brokerage benchmark and prints its table.
pub fn bench(quick: bool) -> anyhow::Result<()> {
    bench::run(quick)
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
    let score_of = |days: &[Vec<u32>]| {
        score(&prep.weights, &extract::coverage_and_cost(prep, &extract::assignments(prep, days)).0)
    };
    let mut known_bound = f64::INFINITY;
    if formulation == Formulation::Columns {
        known_bound = flow_bound;
    }
    let single = formulation == Formulation::Columns && prep.problem.policy.single_practitioner;
    let per_component = single && prep.problem.policy.budget.is_none();
    if per_component {
        // No budget row: the components do not interact.
        let (days, bound) = primary_by_component(prep, &start_days, &limited(options))?;
        known_bound = known_bound.min(bound);
        if score_of(&days) > score_of(&start_days) {
            start_days = days;
        }
    } else if let Some(model) = single
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
    let bound = (known_bound + 1e-6).floor();
    if formulation == Formulation::Columns
        && prep.problem.policy.budget.is_none()
        && (per_component || score_of(&start_days) >= bound)
    {
        // The primary goal is met, or each component stopped at the gap or
        // time limit asked for (the full model could only try again with
        // less time). Without a budget row the components do not interact:
        // each breaks its ties alone.
        let mut decided = secondary_by_component(prep, &start_days, &limited(options))?;
        let outcome = &mut decided.1;
        if bound > outcome.objective {
            outcome.bound = bound;
            outcome.gap = relative_gap(outcome.objective, bound);
            outcome.status = SolveStatus::Feasible;
        }
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

/// The primary goal per connected component (rule 8, no budget row, so the
/// components do not interact): a component whose start meets its own flow
/// bound is done; any other gets the choices-only MILP on HiGHS, alone.
/// Returns the best days found (at least `start_days`) and the sum of the
/// components' bounds. (Measured on the LA bench instance: one of 27
/// components needed the MILP, 0.17 s instead of 0.21 to 0.27 s for the
/// whole problem's.)
fn primary_by_component(
    prep: &Prepared<'_>,
    start_days: &[Vec<u32>],
    options: &SolveOptions,
) -> Result<(Vec<Vec<u32>>, f64), SolveError> {
    let began = Instant::now();
    let (mut bound, mut milps) = (0.0, 0);
    let (days, count) = by_component(prep, start_days, options, |small, start, limited| {
        let (found, found_bound, solved) = choices_primary(small, start, limited)?;
        milps += usize::from(solved);
        bound += found_bound;
        Ok(found)
    })?;
    tracing::debug!(
        seconds = began.elapsed().as_secs_f64(),
        count,
        milps,
        bound,
        "primary by component"
    );
    Ok((days, bound))
}

/// Runs `solve` on each connected component alone (the problem with only its
/// pairs, the start's days on them, and the time left) and puts together the
/// days it returns. Returns them and the number of components.
fn by_component(
    prep: &Prepared<'_>,
    start_days: &[Vec<u32>],
    options: &SolveOptions,
    mut solve: impl FnMut(
        &Prepared<'_>,
        Vec<Vec<u32>>,
        &SolveOptions,
    ) -> Result<Vec<Vec<u32>>, SolveError>,
) -> Result<(Vec<Vec<u32>>, usize), SolveError> {
    let began = Instant::now();
    let component = candidates::components(prep);
    let count = component.iter().max().map_or(0, |c| c + 1);
    let mut days = start_days.to_vec();
    for c in 0..count {
        let keep: Vec<bool> = prep.pairs.iter().map(|pair| component[pair.r] == c).collect();
        if !keep.contains(&true) {
            continue;
        }
        let small = prep.only(&keep);
        let start = small.map_days(prep, start_days);
        let found = solve(&small, start, &options.since(began))?;
        for (i, d) in prep.map_days(&small, &found).into_iter().enumerate() {
            if keep[i] {
                days[i] = d;
            }
        }
    }
    Ok((days, count))
}

/// The primary goal of one component from `start`: the best days found (at
/// least the start's), a bound on its score, and whether HiGHS ran (not when
/// the start, or the local search's plan, meets the component's flow bound,
/// nor when no request has a choice of practitioner left).
fn choices_primary(
    prep: &Prepared<'_>,
    start: Vec<Vec<u32>>,
    options: &SolveOptions,
) -> Result<(Vec<Vec<u32>>, f64, bool), SolveError> {
    let began = Instant::now();
    let value = |days: &[Vec<u32>]| {
        score(&prep.weights, &extract::coverage_and_cost(prep, &extract::assignments(prep, days)).0)
    };
    let (tiers, _) = flow::lexicographic_max_flow(prep);
    let flow_bound = score(&prep.weights, &tiers);
    if value(&start) >= flow_bound {
        return Ok((start, flow_bound, false));
    }
    // The local search's plan is usually optimal already (and is when no
    // request has a choice left), so HiGHS is tuned for the proof.
    let (start, exact) = local::improve(prep, &start, flow_bound);
    let reached = value(&start);
    tracing::debug!(reached, flow_bound, exact, "local search");
    let gap = options.mip_gap.unwrap_or(0.0);
    if exact || reached >= flow_bound || (gap > 0.0 && relative_gap(reached, flow_bound) <= gap) {
        return Ok((start, if exact { reached } else { flow_bound }, false));
    }
    let model = model::build(prep, Formulation::Columns, Integrality::Choices);
    let values = start_values(prep, &model, &start);
    let outcome = solver::run_weighted(
        prep,
        &model,
        &options.since(began),
        values,
        flow_bound,
        true,
        Tuning::Proof,
    )?;
    let floor = greedy::complete(prep, floor_days(prep, &model, &outcome.values));
    let days = if value(&floor) > value(&start) { floor } else { start };
    Ok((days, outcome.bound.min(flow_bound), true))
}

/// The secondary stage per connected component (no budget row, and
/// `start_days` at the primary optimum), each request's days per period held
/// at the start's: the assignment model under rule 8, else the day model.
/// Returns the days, the merged outcome and the summed model size.
fn secondary_by_component(
    prep: &Prepared<'_>,
    start_days: &[Vec<u32>],
    options: &SolveOptions,
) -> Result<Decided, SolveError> {
    let began = Instant::now();
    let (mut columns, mut rows) = (0, 0);
    let (mut proven, mut cut) = (true, false);
    let (mut value, mut bound) = (0.0, 0.0);
    let (days, count) = by_component(prep, start_days, options, |small, small_days, limited| {
        let (found, stage, stage_cut) = if prep.problem.policy.single_practitioner {
            let t = solver::run_assignment(small, &small_days, limited)?;
            columns += t.columns;
            rows += t.rows;
            (t.days, t.stage, t.cut)
        } else {
            let model = model::build(small, Formulation::Columns, Integrality::Full);
            let start = start_values(small, &model, &small_days);
            let outcome = solver::run_tie_break(small, &model, start, limited)?;
            columns += model.columns.len();
            rows += model.constraints.len();
            let stage = outcome.stages.last().cloned().unwrap_or_else(StageLog::secondary_not_run);
            (extract::pair_days(small, &model, &outcome.values), stage, outcome.secondary_cut)
        };
        proven &= stage.proven;
        value += stage.value;
        bound += stage.bound;
        cut |= stage_cut;
        Ok(found)
    })?;
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
            name: format!("secondary ({count} components)"),
            seconds: began.elapsed().as_secs_f64(),
            proven,
            value,
            bound,
        }],
        secondary_cut: cut,
    };
    tracing::debug!(seconds = began.elapsed().as_secs_f64(), count, "secondary by component");
    Ok((days, outcome, columns, rows))
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
