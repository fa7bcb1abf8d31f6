//! The brokerage MILP, built as pure data with good_lp: variables, one
//! function per constraint family (its formula in the doc comment) and the
//! objectives of the lexicographic stages. Nothing here calls a solver
//! (`solver.rs` runs HiGHS) or reads a solution (`extract.rs`).
//!
//! Notation: `x[i,t]` whole days of pair `i = (r, p)` in period `t`; `d[r,t]`
//! requested days; `c[p,t]` capacity; `y[i]` "p is the practitioner of r".

use good_lp::{Constraint, Expression, ProblemVariables, Variable, variable};

use super::candidates::Prepared;

/// How rule 8 (`single_practitioner`) is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formulation {
    /// One binary column per request x candidate, each day variable bounded
    /// by its own column: `x[i,t] <= u[i,t] * y[i]` (the default).
    Columns,
    /// The plain model: one aggregated big-M link per pair,
    /// `sum_t x[i,t] <= M_r * y[i]` with `M_r` the request's total days.
    BigM,
    /// Rule 8 dropped: the transportation core, whose optimum bounds both.
    Transport,
}

/// One day variable.
#[derive(Debug, Clone, Copy)]
pub struct DayVar {
    pub pair: usize,
    pub t: usize,
    pub var: Variable,
    /// Column index in the solver (the order variables were added).
    pub col: usize,
    pub upper: u32,
    pub lower: u32,
}

/// The built model.
pub struct Model {
    pub vars: ProblemVariables,
    /// Every variable in column order.
    pub columns: Vec<Variable>,
    pub x: Vec<DayVar>,
    /// `x` indices of pair `i`.
    pub x_of_pair: Vec<std::ops::Range<usize>>,
    /// `(variable, column)` of `y[i]`, where rule 8 needs one.
    pub y: Vec<Option<(Variable, usize)>>,
    /// Fair-load excess variables per practitioner `(e1, e2)`, with thresholds.
    pub load: Vec<Option<LoadVars>>,
    pub constraints: Vec<Constraint>,
    /// Days covered per tier: `sum_{r in tier k} x[i,t]`.
    pub tier_days: [Expression; 4],
    /// The tie-breaking cost of the last stage.
    pub secondary: Expression,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("columns", &self.columns.len())
            .field("x", &self.x.len())
            .field("rows", &self.constraints.len())
            .finish()
    }
}

/// Fair-load variables of one practitioner.
#[derive(Debug, Clone, Copy)]
pub struct LoadVars {
    pub e1: Variable,
    pub e1_col: usize,
    pub e2: Variable,
    pub e2_col: usize,
    pub t1: f64,
    pub t2: f64,
}

/// Secondary cost per day: pounds of day rate count `RATE_WEIGHT` each.
pub const RATE_WEIGHT: f64 = 0.01;
/// Secondary cost per day and km of travel from the home school.
pub const KM_WEIGHT: f64 = 0.2;
/// Secondary bonus per day with the request's previous practitioner.
pub const CONTINUITY_BONUS: f64 = 4.0;
/// Secondary bonus per day with a practitioner pinned on the same request.
pub const PIN_BONUS: f64 = 4.0;
/// Secondary cost per day of load above half of a practitioner's availability.
pub const LOAD_WEIGHT_1: f64 = 1.0;
/// Extra cost per day of load above 80% of a practitioner's availability.
pub const LOAD_WEIGHT_2: f64 = 3.0;

/// Which variables are integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Integrality {
    /// Day variables and choice columns integer: the model as stated.
    Full,
    /// Only the choice columns `y` integer. With `y` fixed and no budget row,
    /// what is left is a network (capacity rows per period nested in the
    /// `max_days` row of the same practitioner), so its vertices carry whole
    /// days; HiGHS branches only on `y`. Its bound holds for the full model
    /// either way; a solution with whole days is a solution of it (checked by
    /// the caller, see [`whole_days`]).
    Choices,
    /// Every variable continuous (the LP relaxation).
    Relaxed,
}

/// Whether every day variable of `values` is a whole number (to HiGHS's
/// integrality tolerance), so the values solve the full model.
pub fn whole_days(model: &Model, values: &[f64]) -> bool {
    values.len() == model.columns.len()
        && model.x.iter().all(|x| (values[x.col] - values[x.col].round()).abs() <= 1e-6)
}

/// Builds the model of `prep` with rule 8 written as `formulation`, with the
/// variables `integrality` says integer.
pub fn build(prep: &Prepared<'_>, formulation: Formulation, integrality: Integrality) -> Model {
    let single = prep.problem.policy.single_practitioner && formulation != Formulation::Transport;
    let mut m = Model {
        vars: ProblemVariables::new(),
        columns: Vec::new(),
        x: Vec::new(),
        x_of_pair: Vec::new(),
        y: Vec::new(),
        load: Vec::new(),
        constraints: Vec::new(),
        tier_days: Default::default(),
        secondary: Expression::default(),
    };
    day_variables(prep, &mut m, integrality != Integrality::Full);
    if single {
        choice_variables(prep, &mut m, integrality == Integrality::Relaxed);
    } else {
        m.y = vec![None; prep.pairs.len()];
    }
    load_variables(prep, &mut m);

    if !(single && formulation == Formulation::Columns) {
        demand_rows(prep, &mut m);
    }
    capacity_rows(prep, &mut m);
    max_days_rows(prep, &mut m);
    budget_row(prep, &mut m);
    if single {
        one_practitioner_rows(prep, &mut m);
        match formulation {
            Formulation::Columns => column_links(prep, &mut m),
            Formulation::BigM => big_m_links(prep, &mut m),
            Formulation::Transport => {}
        }
    }
    load_rows(prep, &mut m);
    objectives(prep, &mut m);
    m
}

fn add(m: &mut Model, def: good_lp::VariableDefinition) -> (Variable, usize) {
    let col = m.vars.len();
    let v = m.vars.add(def);
    m.columns.push(v);
    (v, col)
}

/// `x[i,t]` integer in `[pin[i,t], min(d[r,t], c[p,t])]` (just `pin[i,t]` for a
/// pinned pair that fails rules 3 to 5) for each pair and each
/// period the request asks for and the practitioner has days in (or is pinned).
fn day_variables(prep: &Prepared<'_>, m: &mut Model, relax: bool) {
    for (i, pair) in prep.pairs.iter().enumerate() {
        let start = m.x.len();
        for t in 0..prep.periods() {
            let upper = prep.upper(i, t);
            if upper == 0 {
                continue;
            }
            let lower = pair.pinned[t];
            let mut def = variable().min(lower).max(upper);
            if !relax {
                def = def.integer();
            }
            let (var, col) = add(m, def);
            m.x.push(DayVar { pair: i, t, var, col, upper, lower });
        }
        m.x_of_pair.push(start..m.x.len());
    }
}

/// `y[i]` binary for each pair of a request with two or more pairs; `y[i] = 1`
/// when the pair is pinned.
fn choice_variables(prep: &Prepared<'_>, m: &mut Model, relax: bool) {
    m.y = vec![None; prep.pairs.len()];
    for r in 0..prep.demand.len() {
        let range = prep.pairs_of_request[r].clone();
        if range.len() < 2 {
            continue;
        }
        for i in range {
            if m.x_of_pair[i].is_empty() {
                continue;
            }
            let pinned = prep.pairs[i].pinned.iter().any(|&d| d > 0);
            let mut def = variable().min(if pinned { 1 } else { 0 }).max(1);
            if !relax {
                def = def.integer();
            }
            m.y[i] = Some(add(m, def));
        }
    }
}

/// Fair load: `e1[p] >= 0`, `e2[p] >= 0`, continuous, for practitioners with
/// any day variable.
fn load_variables(prep: &Prepared<'_>, m: &mut Model) {
    let mut has = vec![false; prep.capacity.len()];
    for x in &m.x {
        has[prep.pairs[x.pair].p] = true;
    }
    m.load = (0..prep.capacity.len())
        .map(|p| {
            if !has[p] {
                return None;
            }
            let (t1, t2) = load_thresholds(prep, p);
            let (e1, e1_col) = add(m, variable().min(0));
            let (e2, e2_col) = add(m, variable().min(0));
            Some(LoadVars { e1, e1_col, e2, e2_col, t1, t2 })
        })
        .collect();
}

/// Loads above which practitioner `p`'s fair-load costs start: half and
/// 80% of the days it has available.
pub fn load_thresholds(prep: &Prepared<'_>, p: usize) -> (f64, f64) {
    let total: u32 = prep.capacity[p].iter().sum();
    let avail = f64::from(prep.max_days[p].map_or(total, |md| md.min(total)));
    (0.5 * avail, 0.8 * avail)
}

/// Rule 1: `sum_p x[r,p,t] <= d[r,t]` for each request and period with two
/// or more variables (one variable is already bounded by `d`).
fn demand_rows(prep: &Prepared<'_>, m: &mut Model) {
    let t_count = prep.periods();
    for r in 0..prep.demand.len() {
        let mut rows: Vec<Vec<Variable>> = vec![Vec::new(); t_count];
        for i in prep.pairs_of_request[r].clone() {
            for x in &m.x[m.x_of_pair[i].clone()] {
                rows[x.t].push(x.var);
            }
        }
        for (t, vars) in rows.into_iter().enumerate() {
            if vars.len() > 1 {
                let sum: Expression = vars.into_iter().sum();
                m.constraints.push(sum.leq(f64::from(prep.demand[r][t])));
            }
        }
    }
}

/// Rule 2 (per period): `sum_r x[r,p,t] <= c[p,t]`.
fn capacity_rows(prep: &Prepared<'_>, m: &mut Model) {
    let t_count = prep.periods();
    let mut rows: Vec<Vec<Variable>> = vec![Vec::new(); prep.capacity.len() * t_count];
    for x in &m.x {
        rows[prep.pairs[x.pair].p * t_count + x.t].push(x.var);
    }
    for (k, vars) in rows.into_iter().enumerate() {
        if vars.len() > 1 {
            let (p, t) = (k / t_count, k % t_count);
            let sum: Expression = vars.into_iter().sum();
            m.constraints.push(sum.leq(f64::from(prep.capacity[p][t])));
        }
    }
}

/// Rule 2 (over the horizon): `sum_{r,t} x[r,p,t] <= max_days[p]`, where it
/// can bind.
fn max_days_rows(prep: &Prepared<'_>, m: &mut Model) {
    let mut rows: Vec<(Vec<Variable>, u32)> = vec![(Vec::new(), 0); prep.capacity.len()];
    for x in &m.x {
        let row = &mut rows[prep.pairs[x.pair].p];
        row.0.push(x.var);
        row.1 += x.upper;
    }
    for (p, (vars, reach)) in rows.into_iter().enumerate() {
        if let Some(max) = prep.max_days[p]
            && reach > max
        {
            let sum: Expression = vars.into_iter().sum();
            m.constraints.push(sum.leq(f64::from(max)));
        }
    }
}

/// Rule 6: `sum rate[p] * x[r,p,t] <= budget`, where it can bind.
fn budget_row(prep: &Prepared<'_>, m: &mut Model) {
    let Some(budget) = prep.problem.policy.budget else { return };
    let rate = |x: &DayVar| prep.problem.practitioners[prep.pairs[x.pair].p].day_rate;
    let reach: f64 = m.x.iter().map(|x| rate(x) * f64::from(x.upper)).sum();
    if reach > budget {
        let mut e = Expression::with_capacity(m.x.len());
        for x in &m.x {
            e.add_mul(rate(x), x.var);
        }
        m.constraints.push(e.leq(budget));
    }
}

/// Rule 8: `sum_p y[r,p] <= 1` for each request with two or more pairs.
fn one_practitioner_rows(prep: &Prepared<'_>, m: &mut Model) {
    for r in 0..prep.demand.len() {
        let ys: Vec<Variable> =
            prep.pairs_of_request[r].clone().filter_map(|i| m.y[i].map(|(v, _)| v)).collect();
        if ys.len() > 1 {
            let sum: Expression = ys.into_iter().sum();
            m.constraints.push(sum.leq(1.0));
        }
    }
}

/// Rule 8, column form: `x[i,t] <= u[i,t] * y[i]` with `u` the variable's own
/// upper bound, so the LP relaxation is as tight as a per-pair link can be.
fn column_links(prep: &Prepared<'_>, m: &mut Model) {
    let _ = prep;
    let mut rows = Vec::new();
    for (i, y) in m.y.iter().enumerate() {
        let Some((y, _)) = *y else { continue };
        for x in &m.x[m.x_of_pair[i].clone()] {
            rows.push((Expression::from(x.var) - f64::from(x.upper) * y).leq(0.0));
        }
    }
    m.constraints.extend(rows);
}

/// Rule 8, plain big-M form: `sum_t x[i,t] <= M_r * y[i]`, `M_r = sum_t d[r,t]`.
fn big_m_links(prep: &Prepared<'_>, m: &mut Model) {
    let mut rows = Vec::new();
    for (i, y) in m.y.iter().enumerate() {
        let Some((y, _)) = *y else { continue };
        let big_m: u32 = prep.demand[prep.pairs[i].r].iter().sum();
        let sum: Expression = m.x[m.x_of_pair[i].clone()].iter().map(|x| x.var).sum();
        rows.push((sum - f64::from(big_m) * y).leq(0.0));
    }
    m.constraints.extend(rows);
}

/// Fair load: `e1[p] >= L[p] - 0.5 A[p]` and `e2[p] >= L[p] - 0.8 A[p]`,
/// `L[p] = sum x[.,p,.]`, `A[p]` the practitioner's available days; a convex
/// piecewise cost on how full a practitioner is.
fn load_rows(prep: &Prepared<'_>, m: &mut Model) {
    let mut loads: Vec<Expression> = vec![Expression::default(); prep.capacity.len()];
    for x in &m.x {
        loads[prep.pairs[x.pair].p] += x.var;
    }
    for (p, load) in loads.into_iter().enumerate() {
        let Some(l) = m.load[p] else { continue };
        m.constraints.push((load.clone() - l.e1).leq(l.t1));
        m.constraints.push((load - l.e2).leq(l.t2));
    }
}

/// Stage objectives: days per tier, and the secondary cost
/// `sum (rate/100 + 0.2 km - 4 [previous] - 4 [pinned pair]) x + e1 + 3 e2`.
fn objectives(prep: &Prepared<'_>, m: &mut Model) {
    for x in &m.x {
        let pair = &prep.pairs[x.pair];
        m.tier_days[prep.tier[pair.r]] += x.var;
        m.secondary.add_mul(day_cost(prep, x.pair), x.var);
    }
    for l in m.load.iter().flatten() {
        m.secondary.add_mul(LOAD_WEIGHT_1, l.e1);
        m.secondary.add_mul(LOAD_WEIGHT_2, l.e2);
    }
}

/// Secondary cost of one day of pair `i` (lower is better).
pub fn day_cost(prep: &Prepared<'_>, i: usize) -> f64 {
    let pair = &prep.pairs[i];
    let rate = prep.problem.practitioners[pair.p].day_rate;
    let mut cost = RATE_WEIGHT * rate + KM_WEIGHT * pair.km;
    if prep.previous[pair.r] == Some(pair.p) {
        cost -= CONTINUITY_BONUS;
    }
    if pair.pinned.iter().any(|&d| d > 0) {
        cost -= PIN_BONUS;
    }
    cost
}

/// The tie-breaking stage under rule 8 with every request's days held: an
/// assignment model. `covered[r][t]` are the days request `r` keeps; a
/// binary `z[i]` per pair able to carry all of them says who does, so
/// `x[i,t] = covered[r,t] * z[i]` and no day variable is needed:
///
/// - `sum_{i of r} z[i] = 1` for each covered request (only its pinned pair
///   if it has one);
/// - `sum covered[r,t] z[i] <= c[p,t]`, and `max_days` and the budget as in
///   the full model;
/// - fair load `e1`, `e2` and the secondary cost as in the full model, so the
///   two stages' values compare.
///
/// Returns the model (its `x` and `y` empty, `load` filled, `secondary` its
/// objective) and the pair and column of each `z`.
pub fn build_assignment(prep: &Prepared<'_>, covered: &[Vec<u32>]) -> (Model, Vec<(usize, usize)>) {
    let mut m = Model {
        vars: ProblemVariables::new(),
        columns: Vec::new(),
        x: Vec::new(),
        x_of_pair: Vec::new(),
        y: vec![None; prep.pairs.len()],
        load: Vec::new(),
        constraints: Vec::new(),
        tier_days: Default::default(),
        secondary: Expression::default(),
    };
    let t_count = prep.periods();
    let mut z = Vec::new();
    let mut load: Vec<Expression> = vec![Expression::default(); prep.capacity.len()];
    let mut used: Vec<Vec<Expression>> =
        vec![vec![Expression::default(); t_count]; prep.capacity.len()];
    let mut cost = Expression::default();
    let rate = |p: usize| prep.problem.practitioners[p].day_rate;
    for (r, days) in covered.iter().enumerate() {
        let total: u32 = days.iter().sum();
        if total == 0 {
            continue;
        }
        let range = prep.pairs_of_request[r].clone();
        let pinned: Vec<usize> =
            range.clone().filter(|&i| prep.pairs[i].pinned.iter().any(|&d| d > 0)).collect();
        let mut choice = Expression::default();
        for i in range.filter(|i| pinned.is_empty() || pinned.contains(i)) {
            let pair = &prep.pairs[i];
            let carries = (0..t_count).all(|t| days[t] <= prep.upper(i, t));
            if !carries {
                continue;
            }
            let (var, col) = add(&mut m, variable().binary());
            z.push((i, col));
            choice += var;
            m.secondary.add_mul(f64::from(total) * day_cost(prep, i), var);
            load[pair.p].add_mul(f64::from(total), var);
            for t in 0..t_count {
                used[pair.p][t].add_mul(f64::from(days[t]), var);
            }
            cost.add_mul(f64::from(total) * rate(pair.p), var);
        }
        m.constraints.push(choice.eq(1.0));
    }
    let mut has = vec![false; prep.capacity.len()];
    for &(i, _) in &z {
        has[prep.pairs[i].p] = true;
    }
    m.load = vec![None; prep.capacity.len()];
    for (p, (per_period, l)) in used.into_iter().zip(load).enumerate() {
        if !has[p] {
            continue;
        }
        for (t, e) in per_period.into_iter().enumerate() {
            m.constraints.push(e.leq(f64::from(prep.capacity[p][t])));
        }
        if let Some(max) = prep.max_days[p] {
            m.constraints.push(l.clone().leq(f64::from(max)));
        }
        let (t1, t2) = load_thresholds(prep, p);
        let (e1, e1_col) = add(&mut m, variable().min(0));
        let (e2, e2_col) = add(&mut m, variable().min(0));
        m.constraints.push((l.clone() - e1).leq(t1));
        m.constraints.push((l - e2).leq(t2));
        m.secondary.add_mul(LOAD_WEIGHT_1, e1);
        m.secondary.add_mul(LOAD_WEIGHT_2, e2);
        m.load[p] = Some(LoadVars { e1, e1_col, e2, e2_col, t1, t2 });
    }
    if let Some(budget) = prep.problem.policy.budget {
        m.constraints.push(cost.leq(budget));
    }
    (m, z)
}
