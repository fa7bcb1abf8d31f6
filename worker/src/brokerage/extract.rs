//! Turns solved column values into a plan's assignments, coverage and cost,
//! rounding each day variable to whole days (`solver::round_days`). It does
//! not explain unmet days (`explain.rs`) or judge feasibility (`check.rs`).

use std::collections::BTreeMap;

use bridges_schemas::brokerage::{Assignment, PlanDays};

use super::candidates::Prepared;
use super::model::Model;
use super::solver::round_days;

/// Whole days per pair and period, `[pair][t]`.
pub fn pair_days(prep: &Prepared<'_>, model: &Model, values: &[f64]) -> Vec<Vec<u32>> {
    let mut days = vec![vec![0u32; prep.periods()]; prep.pairs.len()];
    for x in &model.x {
        days[x.pair][x.t] = round_days(values[x.col]);
    }
    days
}

/// The assignments of whole days per pair, sorted by request then practitioner id.
pub fn assignments(prep: &Prepared<'_>, days: &[Vec<u32>]) -> Vec<Assignment> {
    let problem = prep.problem;
    let mut out: BTreeMap<(String, String), PlanDays> = BTreeMap::new();
    for (i, pair) in prep.pairs.iter().enumerate() {
        for (t, &d) in days[i].iter().enumerate() {
            if d > 0 {
                let key = (
                    problem.requests[pair.r].id.0.clone(),
                    problem.practitioners[pair.p].id.0.clone(),
                );
                *out.entry(key).or_default().entry(problem.periods[t].clone()).or_default() += d;
            }
        }
    }
    out.into_iter()
        .map(|((request, practitioner), days)| Assignment {
            request: request.as_str().into(),
            practitioner: practitioner.as_str().into(),
            days,
        })
        .collect()
}

/// Whole days assigned per request and period, `[r][t]`, from assignments.
pub fn assigned_by_request(prep: &Prepared<'_>, assignments: &[Assignment]) -> Vec<Vec<u32>> {
    let index = Index::new(prep);
    let mut out = vec![vec![0u32; prep.periods()]; prep.demand.len()];
    for a in assignments {
        if let Some(r) = index.request(a.request.as_str()) {
            for (period, &d) in &a.days {
                if let Some(t) = index.period(period.as_str()) {
                    out[r][t] += d;
                }
            }
        }
    }
    out
}

/// Days per tier covered and total cost of a set of assignments.
pub fn coverage_and_cost(prep: &Prepared<'_>, assignments: &[Assignment]) -> ([u32; 4], f64) {
    let index = Index::new(prep);
    let mut coverage = [0u32; 4];
    let mut cost = 0.0;
    for a in assignments {
        let days: u32 = a.days.values().sum();
        if let Some(r) = index.request(a.request.as_str()) {
            coverage[prep.tier[r]] += days;
        }
        if let Some(p) = index.practitioner(a.practitioner.as_str()) {
            cost += f64::from(days) * prep.problem.practitioners[p].day_rate;
        }
    }
    (coverage, cost)
}

/// Lookups by id for plans read back from assignments.
#[derive(Debug)]
pub struct Index<'a> {
    requests: BTreeMap<&'a str, usize>,
    practitioners: BTreeMap<&'a str, usize>,
    periods: BTreeMap<&'a str, usize>,
}

impl<'a> Index<'a> {
    pub fn new(prep: &Prepared<'a>) -> Self {
        let p = prep.problem;
        Self {
            requests: p.requests.iter().enumerate().map(|(i, r)| (r.id.as_str(), i)).collect(),
            practitioners: p
                .practitioners
                .iter()
                .enumerate()
                .map(|(i, x)| (x.id.as_str(), i))
                .collect(),
            periods: p.periods.iter().enumerate().map(|(i, x)| (x.as_str(), i)).collect(),
        }
    }
    pub fn request(&self, id: &str) -> Option<usize> {
        self.requests.get(id).copied()
    }
    pub fn practitioner(&self, id: &str) -> Option<usize> {
        self.practitioners.get(id).copied()
    }
    pub fn period(&self, label: &str) -> Option<usize> {
        self.periods.get(label).copied()
    }
}
