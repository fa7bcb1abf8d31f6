//! The set-partitioning model over candidate groups, built with good_lp for
//! HiGHS. Building is pure (`build_placement`, `build_quality`: one function
//! per constraint family); `run` hands a built model to HiGHS with the limits
//! and reads status, objective, best bound and column values. Candidate
//! generation is enumerate.rs; turning values into groups is extract.rs.
//!
//! Lexicographic goals are solved in two stages: stage 1 maximises schools
//! placed; stage 2 keeps at least that many placed and minimises the
//! secondary cost.

use good_lp::solvers::highs::{HighsProblem, highs};
use good_lp::{Constraint, Expression, ProblemVariables, SolverModel, Variable, variable};
use highs::HighsModelStatus;

use super::enumerate::Column;

/// A built model: the HiGHS problem and one binary variable per column, in column order.
pub struct Built {
    pub problem: HighsProblem,
    pub vars: Vec<Variable>,
}

impl std::fmt::Debug for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Built {{ columns: {} }}", self.vars.len())
    }
}

/// How HiGHS ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// HiGHS proved the incumbent optimal (within `mip_rel_gap`).
    pub optimal: bool,
    pub objective: f64,
    /// Best bound (the MIP dual bound).
    pub bound: f64,
    /// Column values of the incumbent.
    pub values: Vec<f64>,
}

/// Limits for one HiGHS run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub time_limit: Option<f64>,
    pub mip_rel_gap: Option<f64>,
    /// Run HiGHS's presolve. It probes every binary against the packing rows:
    /// on a complete enumeration (cliques of thousands of columns) that took
    /// 8 to 12 s on the 67 Hillingdon primaries for no reduction, against
    /// 0.4 s without; on pruned columns it pays for itself (3 s against 22 s
    /// on a generated pool of 237 primaries).
    pub presolve: bool,
}

/// Stage 1: maximise `sum_c |c| x_c` (schools placed) subject to
/// [`school_at_most_once`] and [`placed_at_most`]`(cap)`, where `cap` is an
/// upper bound known from pool arithmetic: it lets HiGHS stop as soon as an
/// incumbent reaches it instead of proving parity by branching.
pub fn build_placement(columns: &[Column], schools: usize, cap: usize) -> Built {
    let (pv, vars) = variables(columns.len());
    let objective = placed(columns, &vars);
    let mut problem = pv.maximise(objective).using(highs);
    for c in school_at_most_once(columns, &vars, schools) {
        problem = problem.with(c);
    }
    problem = problem.with(placed_at_most(columns, &vars, cap));
    Built { problem, vars }
}

/// Stage 2: minimise `sum_c cost_c x_c` subject to [`school_at_most_once`],
/// [`placed_at_least`]`(target)` and [`placed_at_most`]`(cap)`. With
/// `relaxed`, `0 <= x_c <= 1` instead of binary (its reduced costs drive the
/// exact column reduction in mod.rs).
pub fn build_quality(
    columns: &[Column],
    schools: usize,
    target: usize,
    cap: usize,
    relaxed: bool,
) -> Built {
    let mut pv = ProblemVariables::new();
    let vars: Vec<Variable> = (0..columns.len())
        .map(|_| pv.add(if relaxed { variable().min(0.0).max(1.0) } else { variable().binary() }))
        .collect();
    let objective: Expression = columns.iter().zip(&vars).map(|(c, &x)| (c.cost as f64) * x).sum();
    let mut problem = pv.minimise(objective).using(highs);
    for c in school_at_most_once(columns, &vars, schools) {
        problem = problem.with(c);
    }
    problem = problem.with(placed_at_least(columns, &vars, target));
    problem = problem.with(placed_at_most(columns, &vars, cap));
    Built { problem, vars }
}

/// Each school is in at most one chosen group: for every school `s`,
/// `sum_{c : s in c} x_c <= 1`.
pub fn school_at_most_once(
    columns: &[Column],
    vars: &[Variable],
    schools: usize,
) -> Vec<Constraint> {
    let mut rows: Vec<(Expression, usize)> = vec![(Expression::from(0.0), 0); schools];
    for (c, &x) in columns.iter().zip(vars) {
        for &s in &c.members {
            rows[s].0 += x;
            rows[s].1 += 1;
        }
    }
    rows.into_iter().filter(|(_, terms)| *terms > 0).map(|(e, _)| e.leq(1.0)).collect()
}

/// Keeps the stage-1 placement: `sum_c |c| x_c >= target`.
pub fn placed_at_least(columns: &[Column], vars: &[Variable], target: usize) -> Constraint {
    placed(columns, vars).geq(target as f64)
}

/// No more than a known upper bound is placed: `sum_c |c| x_c <= cap`.
/// Valid for every integer solution; it tightens the LP relaxation.
pub fn placed_at_most(columns: &[Column], vars: &[Variable], cap: usize) -> Constraint {
    placed(columns, vars).leq(cap as f64)
}

/// Solves a built model with HiGHS under `limits`; `start` (column values) is
/// passed as a starting incumbent. `None` when HiGHS found no solution.
pub fn run(built: Built, limits: Limits, start: Option<&[f64]>) -> Result<Option<Outcome>, String> {
    let columns = built.vars.len();
    if columns == 0 {
        // HiGHS refuses a model with no columns (`ModelEmpty`); a stage 2
        // whose column reduction kept none (a stage 1 cut short by the time
        // limit placed nobody) has no solution to give.
        return Ok(None);
    }
    let mut model = built.problem.try_into_inner().map_err(|e| e.to_string())?;
    model.make_quiet();
    if !limits.presolve {
        model.set_option("presolve", "off");
    }
    // One thread: plans must not depend on thread timing.
    model.set_option("threads", 1);
    // The start before the time limit: HiGHS checks a start as it takes it,
    // under the limit then set, and a short limit on a loaded machine made
    // that check end in `Error`. A start it refuses is only a start lost.
    if let Some(values) = start.filter(|v| v.len() == columns)
        && let Err(e) = model.try_set_solution(Some(values), None, None, None)
    {
        tracing::debug!("HiGHS did not take the start ({e:?}); solving without it");
    }
    if let Some(t) = limits.time_limit {
        model.set_option("time_limit", t.max(0.01));
    }
    if let Some(g) = limits.mip_rel_gap {
        model.set_option("mip_rel_gap", g.max(0.0));
    }
    let solved = model.try_solve().map_err(|e| format!("HiGHS: {e:?}"))?;
    let status = solved.status();
    let has_solution = solved
        .int_info_value(c"primal_solution_status")
        .is_ok_and(|s| s == 2 /* kSolutionStatusFeasible */);
    if !has_solution {
        return match status {
            HighsModelStatus::Infeasible | HighsModelStatus::ReachedTimeLimit => Ok(None),
            other => Err(format!("HiGHS ended with {other:?} and no solution")),
        };
    }
    let objective = solved.objective_value();
    let bound = solved.double_info_value(c"mip_dual_bound").unwrap_or(objective);
    let optimal = matches!(status, HighsModelStatus::Optimal);
    let values = solved.get_solution().columns().to_vec();
    Ok(Some(Outcome { optimal, objective, bound, values }))
}

/// Most a stage-2 objective may differ from the cost of its own column
/// values (costs are integers) before HiGHS is taken to have misread it.
pub const MISREAD_TOL: f64 = 0.25;

/// Stage 2 ([`build_quality`] with binary columns) solved by [`run`] and
/// checked against the cost of the values it returns: HiGHS 1.16 can take a
/// MIP start into its presolved space wrongly and call the start "optimal"
/// with an objective it does not have (0 for a start worth 3,165 on a pool
/// of 8 schools, whose optimum is 2,362). Then it is solved again from the
/// start without presolve, and failing that without the start (a result
/// still misread keeps its values at their own worth, not proven).
pub fn run_quality(
    columns: &[Column],
    schools: usize,
    target: usize,
    cap: usize,
    limits: Limits,
    start: Option<&[f64]>,
) -> Result<Option<Outcome>, String> {
    let worth = |o: &Outcome| -> f64 {
        o.values.iter().zip(columns).map(|(v, c)| v.round() * c.cost as f64).sum()
    };
    let misread = |o: &Option<Outcome>| {
        o.as_ref().is_some_and(|o| (worth(o) - o.objective).abs() > MISREAD_TOL)
    };
    let build = || build_quality(columns, schools, target, cap, false);
    let mut outcome = run(build(), limits, start)?;
    if misread(&outcome) && limits.presolve {
        tracing::debug!("stage 2: HiGHS misread the start; again without presolve");
        outcome = run(build(), Limits { presolve: false, ..limits }, start)?;
    }
    if misread(&outcome) {
        tracing::debug!("stage 2: HiGHS misread the start; again without it");
        outcome = run(build(), Limits { presolve: false, ..limits }, None)?;
    }
    if misread(&outcome) {
        // Still misread: keep the values, at their own worth, unproven.
        tracing::warn!("stage 2: HiGHS reported an objective its values do not have");
        outcome = outcome.map(|o| Outcome { optimal: false, objective: worth(&o), ..o });
    }
    Ok(outcome)
}

/// A solved stage-2 relaxation ([`build_quality`] with `relaxed`).
#[derive(Debug, Clone, PartialEq)]
pub struct Relaxation {
    pub objective: f64,
    /// Each column's reduced cost.
    pub reduced: Vec<f64>,
    /// HiGHS's row duals in row order: the [`school_at_most_once`] rows
    /// (schools in any column, ascending), then [`placed_at_least`], then
    /// [`placed_at_most`].
    pub rows: Vec<f64>,
}

/// Solves a relaxed model to optimality: its objective, each column's
/// reduced cost and the row duals. `None` when the LP is infeasible or did
/// not finish.
pub fn run_lp(built: Built, time_limit: Option<f64>) -> Result<Option<Relaxation>, String> {
    let mut model = built.problem.try_into_inner().map_err(|e| e.to_string())?;
    model.make_quiet();
    model.set_option("threads", 1);
    if let Some(t) = time_limit {
        model.set_option("time_limit", t.max(0.01));
    }
    let solved = model.try_solve().map_err(|e| format!("HiGHS: {e:?}"))?;
    if solved.status() != HighsModelStatus::Optimal {
        return Ok(None);
    }
    let objective = solved.objective_value();
    let solution = solved.get_solution();
    Ok(Some(Relaxation {
        objective,
        reduced: solution.dual_columns().to_vec(),
        rows: solution.dual_rows().to_vec(),
    }))
}

/// Slack allowed on the sign of a row dual (HiGHS's dual feasibility
/// tolerance is 1e-7).
const DUAL_SIGN_TOL: f64 = 1e-7;

/// A lower bound on the stage-2 cost of every plan that uses at least one
/// group of 4, when no quad is a column (too many to enumerate), from the
/// duals of the triads' relaxation: `None` when the duals do not have the
/// signs the bound needs.
///
/// For row duals `y_s <= 0` (school rows), `y_t >= 0` (placed at least
/// `target`) and `y_k <= 0` (placed at most `cap`), every feasible 0/1 plan
/// `x` over any columns costs at least `D + sum_c r_c x_c`, where
/// `D = sum_s y_s + y_t target + y_k cap` and `r_c = cost_c - sum_{s in c}
/// w_s` with `w_s = y_s + y_t + y_k` (weak Lagrangian duality). A quad
/// costs at least [`super::enumerate::QUAD_PENALTY`], so its `r` is at least
/// `QUAD_PENALTY` less the four largest `w_s`; the triads' negative `r`
/// bound the rest. So a plan with a quad costs at least `D + sum_{triads}
/// min(r_c, 0) + QUAD_PENALTY - top4(w)` when that last term is not
/// negative (else `None`: the bound says nothing).
pub fn quad_plan_bound(
    columns: &[Column],
    schools: usize,
    target: usize,
    cap: usize,
    lp: &Relaxation,
) -> Option<f64> {
    let mut has_row = vec![false; schools];
    for c in columns {
        for &s in &c.members {
            has_row[s] = true;
        }
    }
    let rows: usize = has_row.iter().filter(|&&r| r).count();
    if lp.rows.len() != rows + 2 {
        return None;
    }
    let (y_t, y_k) = (lp.rows[rows], lp.rows[rows + 1]);
    if y_t < -DUAL_SIGN_TOL || y_k > DUAL_SIGN_TOL {
        return None;
    }
    let (y_t, y_k) = (y_t.max(0.0), y_k.min(0.0));
    let mut y = vec![0.0; schools];
    let mut next = 0;
    for (s, &row) in has_row.iter().enumerate() {
        if row {
            if lp.rows[next] > DUAL_SIGN_TOL {
                return None;
            }
            y[s] = lp.rows[next].min(0.0);
            next += 1;
        }
    }
    let w: Vec<f64> = y.iter().map(|y_s| y_s + y_t + y_k).collect();
    let d = y.iter().sum::<f64>() + y_t * target as f64 + y_k * cap as f64;
    let negative: f64 = columns
        .iter()
        .map(|c| (c.cost as f64 - c.members.iter().map(|&s| w[s]).sum::<f64>()).min(0.0))
        .sum();
    let mut largest = w.clone();
    largest.sort_by(|a, b| b.total_cmp(a));
    let top4: f64 = largest.iter().take(4).sum();
    let quad = super::enumerate::QUAD_PENALTY as f64 - top4;
    (schools >= 4 && quad >= 0.0).then_some(d + negative + quad)
}

fn variables(n: usize) -> (ProblemVariables, Vec<Variable>) {
    let mut pv = ProblemVariables::new();
    let vars = (0..n).map(|_| pv.add(variable().binary())).collect();
    (pv, vars)
}

fn placed(columns: &[Column], vars: &[Variable]) -> Expression {
    columns.iter().zip(vars).map(|(c, &x)| (c.members.len() as f64) * x).sum()
}
