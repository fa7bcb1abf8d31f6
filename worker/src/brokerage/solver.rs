//! Runs the lexicographic stages of a built [`Model`] on HiGHS: one MIP per
//! priority tier (maximise that tier's days with the earlier tiers held at
//! what they reached), then one for the secondary cost with every tier held.
//! Each stage starts from the previous stage's plan (the first from a
//! feasible start such as the greedy plan), so a time limit always leaves a
//! plan at least as good as the start.
//!
//! It does not build the model (`model.rs`) or turn values into a plan
//! (`extract.rs`).

use std::collections::HashMap;
use std::time::Instant;

use bridges_schemas::common::SolveStatus;

use good_lp::{Constraint, Expression, SolverModel, Variable};
use highs::HighsModelStatus;

use super::candidates::{Prepared, score};
use super::model::Model;
use crate::common::{SolveError, SolveOptions, relative_gap, time_left};

/// What the stages reached.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Value of every column, in column order.
    pub values: Vec<f64>,
    pub coverage: [u32; 4],
    pub status: SolveStatus,
    pub objective: f64,
    pub bound: f64,
    pub gap: f64,
    pub stages: Vec<StageLog>,
    /// The secondary stage was cut short by the time limit (or never ran).
    pub secondary_cut: bool,
}

/// One stage, for benchmarks and logs.
#[derive(Debug, Clone)]
pub struct StageLog {
    pub name: String,
    pub seconds: f64,
    pub proven: bool,
    pub value: f64,
    pub bound: f64,
}

impl StageLog {
    /// The record of a tie-breaking stage that did not run.
    pub fn secondary_not_run() -> StageLog {
        StageLog {
            name: "secondary".to_owned(),
            seconds: 0.0,
            proven: false,
            value: 0.0,
            bound: 0.0,
        }
    }
}

/// Seconds left below which no HiGHS stage is started: loading a large
/// model alone takes longer, and HiGHS then overruns what is left.
pub const LEAST_STAGE_SECONDS: f64 = 0.05;

/// Whether `left` seconds (none: no limit) are too few to start a stage.
fn too_late(left: Option<f64>) -> bool {
    left.is_some_and(|t| t < LEAST_STAGE_SECONDS)
}

/// Days of the tier objective below which a stage counts as proven: the
/// objective is a whole number of days, so a gap under one day is closed.
const WHOLE_DAY: f64 = 1.0 - 1e-6;

/// Absolute gap at which HiGHS may stop the weighted primary stage: the
/// score is a whole number, so a bound less than one above it proves it.
/// (Measured: at 0.5, HiGHS went on branching for another second on LA-scale
/// instances whose bound was already 0.68 above the optimum.) Kept clear of 1
/// so a bound a rounding error short of the next whole number still counts.
const PROOF_GAP: f64 = 0.9;

/// Relative gap at which the secondary (tie-breaking) stage may stop: it
/// orders plans of equal coverage, and proving its last 1% costs more than
/// the whole primary goal.
pub const SECONDARY_GAP: f64 = 0.01;

/// Solves `model` stage by stage from `start` (column values of a feasible
/// plan); with `primary_only`, without the tie-breaking stage (`secondary_cut`).
/// A start whose score meets `known_bound` (a bound on the weighted score
/// known beforehand) skips the tier stages.
// `k` indexes several tables (the tiers' rows, reach and days reached).
#[allow(clippy::needless_range_loop)]
pub fn run(
    prep: &Prepared<'_>,
    model: &Model,
    options: &SolveOptions,
    start: Vec<f64>,
    known_bound: f64,
    primary_only: bool,
) -> Result<Outcome, SolveError> {
    let began = Instant::now();
    let remaining = || options.since(began).time_limit;
    let demand = prep.tier_demand();
    let mut values = start;
    let mut reached = [0u32; 4];
    let mut first_open: Option<(usize, f64)> = None;
    let mut held: Vec<Constraint> = Vec::new();
    let mut stages = Vec::new();
    let mut time_cut = false;
    // Within the gap asked for, or the start is known optimal: the tiers
    // left are held where they are.
    let start_coverage = [0, 1, 2, 3].map(|k| tier_value(model, prep, &values, k));
    let mut gap_met = score(&prep.weights, &start_coverage) >= (known_bound + 1e-6).floor();
    let known = gap_met;
    // A bound on the weighted score: the tiers before `open` at their days
    // in `coverage`, tier `open` at its bound, the later tiers at their demand.
    let bound_of = |coverage: &[u32; 4], (open, bound): (usize, f64)| -> f64 {
        (0..4)
            .map(|j| {
                prep.weights[j]
                    * match j.cmp(&open) {
                        std::cmp::Ordering::Less => f64::from(coverage[j]),
                        std::cmp::Ordering::Equal => (bound + 1e-6).floor(),
                        std::cmp::Ordering::Greater => demand[j] as f64,
                    }
            })
            .sum()
    };

    for k in 0..4 {
        let current = tier_value(model, prep, &values, k);
        let reach = tier_reach(prep, model, k);
        if current >= reach || time_cut || gap_met || too_late(remaining()) {
            time_cut |= too_late(remaining());
            if current < reach && first_open.is_none() && !known {
                first_open = Some((k, reach as f64));
            }
            reached[k] = current;
            held.push(model.tier_days[k].clone().geq(f64::from(current)));
            continue;
        }
        // Maximise tier k alone: its days are whole, so HiGHS may stop once
        // its bound is less than a day above them. (Measured on a
        // 200-request, 80-practitioner problem: with the later tiers riding
        // along at weights summing to under a day, tier 3 was still unproven
        // after 39 s, as HiGHS had to close their fractions too; alone it was
        // proven in 6.3 s, and tier 2 in 0.35 s instead of 1.05 s.)
        let objective: Expression = Expression::default() - model.tier_days[k].clone();
        let t0 = Instant::now();
        let stage = run_stage(
            model,
            objective,
            &held,
            &values,
            remaining(),
            Gap { rel: options.mip_gap, abs: PROOF_GAP },
            Tuning::Default,
        )?;
        if let Some(v) = stage.values {
            values = v;
        }
        let value = tier_value(model, prep, &values, k);
        // Tier k's days are whole: at most the floor of the stage's bound.
        let bound = (-stage.dual_bound + 1e-6).floor().min(reach as f64).max(f64::from(value));
        let proven = stage.optimal && bound - f64::from(value) < WHOLE_DAY;
        stages.push(StageLog {
            name: format!("tier {}", k + 1),
            seconds: t0.elapsed().as_secs_f64(),
            proven,
            value: f64::from(value),
            bound,
        });
        tracing::debug!(
            stage = k + 1,
            seconds = t0.elapsed().as_secs_f64(),
            value,
            bound,
            proven,
            "tier stage"
        );
        if !proven && first_open.is_none() {
            first_open = Some((k, bound));
        }
        time_cut |= stage.time_limited;
        reached[k] = value;
        held.push(model.tier_days[k].clone().geq(f64::from(value)));
        if let Some(gap) = options.mip_gap
            && k < 3
        {
            // The later tiers may stay as they are once the plan is within
            // the gap of what they could add at most.
            let coverage = [0, 1, 2, 3].map(|j| tier_value(model, prep, &values, j));
            let open = first_open.unwrap_or((k + 1, demand[k + 1] as f64));
            gap_met =
                relative_gap(score(&prep.weights, &coverage), bound_of(&coverage, open)) <= gap;
        }
    }

    let mut secondary_cut = time_cut || primary_only;
    if !secondary_cut && remaining().is_none_or(|r| r > 0.0) {
        let stage = run_secondary(model, &held, &values, remaining(), options, &mut stages)?;
        secondary_cut = stage.time_limited;
        if let Some(v) = stage.values {
            values = v;
        }
    }

    let coverage = [0, 1, 2, 3].map(|k| tier_value(model, prep, &values, k));
    let objective = score(&prep.weights, &coverage);
    let bound = first_open.map_or(objective, |open| bound_of(&coverage, open).max(objective));
    let status = if first_open.is_none() && !secondary_cut {
        SolveStatus::Optimal
    } else {
        SolveStatus::Feasible
    };
    Ok(Outcome {
        values,
        coverage,
        status,
        objective,
        bound,
        gap: relative_gap(objective, bound),
        stages,
        secondary_cut,
    })
}

/// Largest score the weighted objective may reach: beyond it the cost range
/// is too wide for HiGHS's tolerances (measured: at 3e10 the root LP fails).
pub const EXACT_SCORE: f64 = 1e9;

/// Solves `model` with the primary goal as one objective (the tier weights
/// make it lexicographic), then the secondary cost with the primary score
/// held. Falls back to stage-by-stage tiers ([`run`]) when the weighted
/// score would outgrow f64's exact integers.
///
/// `known_bound` is a bound on the primary score known beforehand (infinite
/// when none): a start that meets it skips the primary stage. With
/// `primary_only`, it returns after the primary stage (`secondary_cut`).
/// `tuning` is HiGHS's for the primary stage.
#[allow(clippy::too_many_arguments)]
pub fn run_weighted(
    prep: &Prepared<'_>,
    model: &Model,
    options: &SolveOptions,
    start: Vec<f64>,
    known_bound: f64,
    primary_only: bool,
    tuning: Tuning,
) -> Result<Outcome, SolveError> {
    let demand = prep.tier_demand();
    let top: f64 = prep.weights.iter().zip(demand).map(|(w, d)| w * d as f64).sum();
    if top > EXACT_SCORE {
        return run(prep, model, options, start, known_bound, primary_only);
    }
    let known_bound = known_bound.min(top);
    let began = Instant::now();
    let remaining = || options.since(began).time_limit;
    let mut primary = Expression::default();
    for k in 0..4 {
        primary.add_mul(prep.weights[k], model.tier_days[k].clone());
    }
    let t0 = Instant::now();
    let start_coverage = [0, 1, 2, 3].map(|k| tier_value(model, prep, &start, k));
    let stage = if score(&prep.weights, &start_coverage) >= (known_bound + 1e-6).floor() {
        // The start meets a bound known beforehand: nothing left to prove.
        Stage {
            values: None,
            optimal: true,
            time_limited: false,
            objective: -known_bound,
            dual_bound: -known_bound,
        }
    } else {
        // The score is a whole number: an absolute gap under one proves it.
        run_stage(
            model,
            Expression::default() - primary.clone(),
            &[],
            &start,
            remaining(),
            Gap { rel: options.mip_gap, abs: PROOF_GAP },
            tuning,
        )?
    };
    let mut values = stage.values.unwrap_or(start);
    let coverage = [0, 1, 2, 3].map(|k| tier_value(model, prep, &values, k));
    let objective = score(&prep.weights, &coverage);
    let raw = (-stage.dual_bound).min(top).min(known_bound);
    let proven = stage.optimal && raw - objective < PROOF_GAP + 1e-6;
    let bound = if proven { objective } else { (raw + 1e-6).floor().max(objective) };
    let mut stages = vec![StageLog {
        name: "primary".to_owned(),
        seconds: t0.elapsed().as_secs_f64(),
        proven,
        value: objective,
        bound,
    }];
    tracing::debug!(
        seconds = t0.elapsed().as_secs_f64(),
        objective,
        bound,
        proven,
        "primary stage"
    );

    let mut secondary_cut = true;
    if !stage.time_limited && !primary_only && remaining().is_none_or(|r| r > 0.0) {
        // One weighted row (measured: rows per tier, or per tier and
        // component, made this stage two to three times slower).
        let held = [primary.geq(objective - 0.5)];
        let second = run_secondary(model, &held, &values, remaining(), options, &mut stages)?;
        if let Some(v) = second.values {
            let cov = [0, 1, 2, 3].map(|k| tier_value(model, prep, &v, k));
            // Never give back coverage to a rounding slip.
            if score(&prep.weights, &cov) >= objective {
                values = v;
            }
        }
        secondary_cut = second.time_limited;
    }
    let coverage = [0, 1, 2, 3].map(|k| tier_value(model, prep, &values, k));
    let objective = score(&prep.weights, &coverage);
    let bound = bound.max(objective);
    Ok(Outcome {
        values,
        coverage,
        status: if proven && !secondary_cut { SolveStatus::Optimal } else { SolveStatus::Feasible },
        objective,
        bound,
        gap: relative_gap(objective, bound),
        stages,
        secondary_cut,
    })
}

/// The tie-breaking stage alone, from a `start` at the primary optimum:
/// each request keeps the days per period the start gives it (the sum over
/// practitioners of `x[r,p,t]` held at the start's), and the secondary cost
/// chooses who serves them. Which requests get scarce days is the primary
/// goal's choice; who serves them, the tie-break's. (Measured on the LA
/// bench's largest component: 0.07 to 0.10 s, against 0.4 to 0.5 s when only
/// the weighted primary score was held, whose freer optimum was 0.09% lower.)
pub fn run_tie_break(
    prep: &Prepared<'_>,
    model: &Model,
    start: Vec<f64>,
    options: &SolveOptions,
) -> Result<Outcome, SolveError> {
    let t_count = prep.periods();
    let mut rows: Vec<(Expression, u32)> =
        vec![(Expression::default(), 0); prep.demand.len() * t_count];
    for x in &model.x {
        let row = &mut rows[prep.pairs[x.pair].r * t_count + x.t];
        row.0 += x.var;
        row.1 += round_days(start[x.col]);
    }
    let held: Vec<Constraint> = rows
        .into_iter()
        .filter(|(_, days)| *days > 0)
        .map(|(sum, days)| sum.geq(f64::from(days)))
        .collect();
    let mut stages = Vec::new();
    let stage = run_secondary(model, &held, &start, options.time_limit, options, &mut stages)?;
    let mut values = start;
    if let Some(v) = stage.values {
        values = v;
    }
    let coverage = [0, 1, 2, 3].map(|k| tier_value(model, prep, &values, k));
    let objective = score(&prep.weights, &coverage);
    Ok(Outcome {
        values,
        coverage,
        status: if stage.time_limited { SolveStatus::Feasible } else { SolveStatus::Optimal },
        objective,
        bound: objective,
        gap: 0.0,
        stages,
        secondary_cut: stage.time_limited,
    })
}

/// The tie-breaking stage under rule 8 on the assignment model (see
/// [`super::model::build_assignment`]): each request keeps the days per
/// period `start_days` gives it, and the secondary cost chooses the one
/// practitioner who serves them; the start's days stand when HiGHS finds
/// nothing better in time. (Measured on the LA bench's largest
/// component: 0.07 to 0.10 s with day variables held per request and period,
/// 0.4 to 0.5 s with only the weighted primary score held.)
pub fn run_assignment(
    prep: &Prepared<'_>,
    start_days: &[Vec<u32>],
    options: &SolveOptions,
) -> Result<TieBreak, SolveError> {
    let t_count = prep.periods();
    let mut covered = vec![vec![0u32; t_count]; prep.demand.len()];
    for (pair, days) in prep.pairs.iter().zip(start_days) {
        for (c, d) in covered[pair.r].iter_mut().zip(days) {
            *c += d;
        }
    }
    let (model, z) = super::model::build_assignment(prep, &covered);
    let mut start = vec![0.0; model.columns.len()];
    let mut load = vec![0.0f64; prep.capacity.len()];
    for &(i, col) in &z {
        let days: u32 = start_days[i].iter().sum();
        if days > 0 {
            start[col] = 1.0;
            load[prep.pairs[i].p] += f64::from(days);
        }
    }
    for (p, l) in model.load.iter().enumerate() {
        if let Some(l) = l {
            start[l.e1_col] = (load[p] - l.t1).max(0.0);
            start[l.e2_col] = (load[p] - l.t2).max(0.0);
        }
    }
    let mut stages = Vec::new();
    let stage = run_secondary(&model, &[], &start, options.time_limit, options, &mut stages)?;
    let mut days = start_days.to_vec();
    if let Some(values) = &stage.values {
        for &(i, col) in &z {
            let r = prep.pairs[i].r;
            days[i] = if values[col] > 0.5 { covered[r].clone() } else { vec![0; t_count] };
        }
    }
    let record = stages.pop().unwrap_or_else(StageLog::secondary_not_run);
    Ok(TieBreak {
        days,
        stage: record,
        cut: stage.time_limited,
        columns: model.columns.len(),
        rows: model.constraints.len(),
    })
}

/// What [`run_assignment`] decided.
#[derive(Debug, Clone)]
pub struct TieBreak {
    /// Days per pair and period.
    pub days: Vec<Vec<u32>>,
    pub stage: StageLog,
    /// A time limit stopped it.
    pub cut: bool,
    pub columns: usize,
    pub rows: usize,
}

/// Days of tier `k` in a vector of column values (rounded per variable).
pub fn tier_value(model: &Model, prep: &Prepared<'_>, values: &[f64], k: usize) -> u32 {
    model
        .x
        .iter()
        .filter(|x| prep.tier[prep.pairs[x.pair].r] == k)
        .map(|x| round_days(values[x.col]))
        .sum()
}

/// Rounds a day variable's value to whole days.
pub fn round_days(v: f64) -> u32 {
    if v <= 0.0 { 0 } else { (v + 0.5).floor() as u32 }
}

/// The most days tier `k` could have: per request and period, the smaller of
/// the days asked and the days its variables could carry.
fn tier_reach(prep: &Prepared<'_>, model: &Model, k: usize) -> u32 {
    let t_count = prep.periods();
    let mut reach = 0;
    for r in (0..prep.demand.len()).filter(|&r| prep.tier[r] == k) {
        let mut carry = vec![0u32; t_count];
        for i in prep.pairs_of_request[r].clone() {
            for x in &model.x[model.x_of_pair[i].clone()] {
                carry[x.t] += x.upper;
            }
        }
        reach += carry.iter().zip(&prep.demand[r]).map(|(c, d)| *c.min(d)).sum::<u32>();
    }
    reach
}

/// Where a stage may stop: a relative gap, and an absolute one (0 for none).
#[derive(Debug, Clone, Copy)]
struct Gap {
    rel: Option<f64>,
    abs: f64,
}

impl Gap {
    fn rel(rel: Option<f64>) -> Self {
        Gap { rel, abs: 0.0 }
    }
}

/// The tie-breaking stage: the secondary costs, with `held` keeping the
/// primary goal, stopped at `SECONDARY_GAP` (or the caller's larger gap).
/// Its record goes to `stages` and to the debug log.
fn run_secondary(
    model: &Model,
    held: &[Constraint],
    start: &[f64],
    time_limit: Option<f64>,
    options: &SolveOptions,
    stages: &mut Vec<StageLog>,
) -> Result<Stage, SolveError> {
    let started = Instant::now();
    let gap = Some(options.mip_gap.unwrap_or(0.0).max(SECONDARY_GAP));
    let stage = run_stage(
        model,
        model.secondary.clone(),
        held,
        start,
        time_limit,
        Gap::rel(gap),
        Tuning::Secondary,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    tracing::debug!(seconds, optimal = stage.optimal, "secondary stage");
    stages.push(StageLog {
        name: "secondary".to_owned(),
        seconds,
        proven: stage.optimal,
        value: stage.objective,
        bound: stage.dual_bound,
    });
    Ok(stage)
}

/// How HiGHS is tuned for a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tuning {
    /// HiGHS's defaults.
    Default,
    /// The start is already strong (the local search's, usually optimal):
    /// HiGHS's work is the proof. Its sub-MIP heuristics, restart and
    /// other primal heuristics cost more than they find. (Measured on the
    /// LA bench's seeds 1 to 16: the sum of solve times 6.4 to 7.7 s, against
    /// 9.4 to 10.5 s with HiGHS's defaults from the same starts; feasibility
    /// jump, which `mip_heuristic_effort` does not switch off, took 6% of
    /// the CPU time of the bench instance's solve, and without it the sum
    /// fell by 3% with plans byte-identical.)
    Proof,
    /// The tie-breaking stage (measured on the Hillingdon week: 4.3 s with
    /// HiGHS's defaults, 1.0 s so): its sub-MIP heuristics and restart cost
    /// more than they find, and pseudo-costs trusted at once save the
    /// strong branching on a stage that stops at 1%.
    Secondary,
}

struct Stage {
    values: Option<Vec<f64>>,
    optimal: bool,
    time_limited: bool,
    objective: f64,
    dual_bound: f64,
}

/// One HiGHS solve of `model` with `expression` (minimised) and the rows
/// `held`, from `start` when it has a value per column, HiGHS tuned so.
///
/// HiGHS 1.16 can map a MIP start into its presolved space wrongly and then
/// report an optimum whose solution is not (found by the property test:
/// "optimal" at -3989 with columns worth -3986). The values are checked
/// against the objective; on a mismatch the stage is solved again from the
/// start without presolve (measured on a 200-request instance: 1.6 to 2.4 s
/// instead of 7.5 s without the start), and on a second mismatch without the start.
fn run_stage(
    model: &Model,
    expression: Expression,
    held: &[Constraint],
    start: &[f64],
    time_limit: Option<f64>,
    gap: Gap,
    tuning: Tuning,
) -> Result<Stage, SolveError> {
    if too_late(time_limit) && !model.columns.is_empty() {
        // Too little time to load the model and search: the start stands.
        return Ok(Stage {
            values: None,
            optimal: false,
            time_limited: true,
            objective: 0.0,
            dual_bound: f64::NEG_INFINITY,
        });
    }
    let began = Instant::now();
    let mut tries = vec![(start, true)];
    if !start.is_empty() {
        tries.extend([(start, false), (&[][..], true)]);
    }
    for (start, presolve) in tries {
        let left = time_left(time_limit, began);
        if let Some(stage) =
            solve_once(model, &expression, held, start, left, gap, tuning, presolve)?
        {
            return Ok(stage);
        }
    }
    unreachable!("the last try has no start, so nothing to disagree with")
}

/// One try of [`run_stage`]: `None` when the solution disagrees with its
/// objective.
#[allow(clippy::too_many_arguments)]
fn solve_once(
    model: &Model,
    expression: &Expression,
    held: &[Constraint],
    start: &[f64],
    time_limit: Option<f64>,
    gap: Gap,
    tuning: Tuning,
    presolve: bool,
) -> Result<Option<Stage>, SolveError> {
    let Gap { rel: rel_gap, abs: abs_gap } = gap;
    if model.columns.is_empty() {
        // Nothing to decide (no candidate anywhere): HiGHS would call it empty.
        return Ok(Some(Stage {
            values: Some(Vec::new()),
            optimal: true,
            time_limited: false,
            objective: 0.0,
            dual_bound: 0.0,
        }));
    }
    let mut problem =
        good_lp::solvers::highs::highs(model.vars.clone().minimise(expression.clone()));
    for c in model.constraints.iter().chain(held) {
        problem.add_constraint(c.clone());
    }
    let mut inner =
        problem.try_into_inner().map_err(|e| SolveError::Solver(format!("building: {e}")))?;
    quiet(&mut inner)?;
    set(&mut inner, "random_seed", 0i32)?;
    if !presolve {
        set(&mut inner, "presolve", "off")?;
    }
    if tuning != Tuning::Default {
        set(&mut inner, "mip_heuristic_run_rins", false)?;
        set(&mut inner, "mip_heuristic_run_rens", false)?;
        set(&mut inner, "mip_allow_restart", false)?;
    }
    match tuning {
        Tuning::Proof => {
            set(&mut inner, "mip_heuristic_effort", 0.0)?;
            set(&mut inner, "mip_heuristic_run_feasibility_jump", false)?;
        }
        Tuning::Secondary => set(&mut inner, "mip_pscost_minreliable", 0i32)?,
        Tuning::Default => {}
    }
    if let Some(limit) = time_limit {
        set(&mut inner, "time_limit", limit.max(1e-3))?;
    }
    // Without a gap from the caller, prove optimality: a whole-number
    // objective closes at `abs_gap`, anything else at HiGHS's tolerance.
    match rel_gap {
        Some(gap) => set(&mut inner, "mip_rel_gap", gap)?,
        None if abs_gap > 0.0 => set(&mut inner, "mip_rel_gap", 0.0)?,
        None => {}
    }
    if abs_gap > 0.0 {
        set(&mut inner, "mip_abs_gap", abs_gap)?;
    }
    if start.len() == model.columns.len() {
        // A start HiGHS finds infeasible is ignored, not an error.
        let _ = inner.try_set_solution(Some(start), None, None, None);
    }
    tracing::debug!("HiGHS model loaded");
    let solved = inner.try_solve().map_err(|e| SolveError::Solver(format!("HiGHS: {e:?}")))?;
    let status = solved.status();
    if status == HighsModelStatus::ModelEmpty {
        return Ok(Some(Stage {
            values: Some(vec![0.0; model.columns.len()]),
            optimal: true,
            time_limited: false,
            objective: 0.0,
            dual_bound: 0.0,
        }));
    }
    let has_solution = solved.primal_solution_status() == highs::HighsSolutionStatus::Feasible;
    let optimal = status == HighsModelStatus::Optimal;
    let time_limited = matches!(
        status,
        HighsModelStatus::ReachedTimeLimit
            | HighsModelStatus::ReachedIterationLimit
            | HighsModelStatus::ReachedInterrupt
    );
    if !optimal && !time_limited {
        return Err(SolveError::Solver(format!("HiGHS stopped with status {status:?}")));
    }
    let reported = solved.objective_value();
    let dual_bound = solved.double_info_value(c"mip_dual_bound").unwrap_or(reported);
    let dual_bound = if dual_bound.is_finite() { dual_bound } else { f64::NEG_INFINITY };
    let values = has_solution.then(|| solved.get_solution().columns().to_vec());
    // The start may have been misread (see `run_stage`).
    if let Some(v) = &values
        && !start.is_empty()
    {
        let by_var: HashMap<Variable, f64> =
            model.columns.iter().copied().zip(v.iter().copied()).collect();
        let worth = expression.eval_with(&by_var);
        // At most a quarter of a unit: a weighted primary score is whole,
        // and a start misread by one day of tier 4 must not pass (found by
        // the medium proptest: 1,594,584 reported, 1,594,583 worth).
        if (worth - reported).abs() > (1e-6 * reported.abs().max(1.0)).min(0.25) {
            tracing::warn!(
                worth,
                reported,
                presolve,
                "HiGHS solution disagrees with its objective; solving again"
            );
            return Ok(None);
        }
    }
    Ok(Some(Stage { values, optimal, time_limited, objective: reported, dual_bound }))
}

fn set<V: highs::HighsOptionValue>(
    model: &mut highs::Model,
    key: &str,
    value: V,
) -> Result<(), SolveError> {
    model.try_set_option(key, value).map_err(|e| SolveError::Solver(format!("option {key}: {e:?}")))
}

/// HiGHS prints nothing unless `BRIDGES_HIGHS_LOG` is set (for tuning).
fn quiet(model: &mut highs::Model) -> Result<(), SolveError> {
    let log = std::env::var_os("BRIDGES_HIGHS_LOG").is_some();
    set(model, "output_flag", log)?;
    set(model, "log_to_console", log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brokerage::candidates::prepare;
    use crate::brokerage::model::{Formulation, Integrality, build};
    use crate::brokerage::{greedy, start_values};
    use crate::tools::brokerage_generate::{Spec, generate};

    #[test]
    fn tier_stages_stop_once_the_plan_is_within_the_gap() {
        // 200 requests and 80 practitioners under rule 8: its last tiers are
        // slow to prove (minutes), the first ones quick.
        let mut problem = generate(&Spec::synthetic(150, 80, 200, 1)).expect("generated");
        problem.policy.budget = None;
        let prep = prepare(&problem);
        let model = build(&prep, Formulation::Columns, Integrality::Choices);
        let start = start_values(&prep, &model, &greedy::pair_days(&prep));
        let options = SolveOptions { time_limit: Some(120.0), mip_gap: Some(0.01) };
        let outcome = run(&prep, &model, &options, start, f64::INFINITY, true).expect("solves");
        assert!(outcome.gap <= 0.01, "gap {}", outcome.gap);
        assert_eq!(outcome.status, SolveStatus::Feasible);
        // Once within the gap, the last tier was left as it stood, not
        // searched until the time limit.
        assert!(outcome.stages.iter().all(|s| s.name != "tier 4"), "{:?}", outcome.stages);
        assert!(outcome.stages.iter().any(|s| s.name == "tier 2"), "{:?}", outcome.stages);
    }
}
