//! `bridges bench rounds`: forming peer-review rounds one after another,
//! each with every group of the rounds before it as history (as the
//! engine's rounds take the confirmed rounds of their history years), on
//! the real primary schools of both boroughs (../shared/data: 132, whose
//! two LAs no single engine holds, so this is a solver benchmark) and on a
//! generated pool (1,500 schools by default, which carries a previous
//! round of its own). Each round's plan is checked by the independent
//! checker and no pair may repeat; it prints placed, bound, gap, status and
//! time per round. Figures depend on the machine and its load: a record,
//! not a test (a tiny run is tested so that it cannot rot).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use bridges_schemas::common::SolveStatus;
use bridges_schemas::triads::TriadsProblem;
use bridges_schemas::{Period, Phase, Urn};
use bridges_worker::common::{SolveOptions, sha256_hex};
use bridges_worker::tools::triads_generate;

/// Options of `bridges bench rounds`.
#[derive(Debug, Clone, clap::Args)]
pub struct RoundsBenchOptions {
    /// The GIAS CSV of real schools (default: ../shared/data's two boroughs).
    #[arg(long)]
    pub gias: Option<PathBuf>,
    /// Rounds formed before the one timed with the most history.
    #[arg(long, default_value_t = 3)]
    pub history_rounds: usize,
    /// Schools of the generated pool (0: none).
    #[arg(long, default_value_t = 1_500)]
    pub generated: usize,
    /// Rounds of the generated pool formed before the timed one (it
    /// carries a previous round's groups already).
    #[arg(long, default_value_t = 1)]
    pub generated_history_rounds: usize,
    /// Seconds each solve may take.
    #[arg(long, default_value_t = 30.0)]
    pub time_limit: f64,
}

/// One round of a case as it solved.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundFigures {
    pub case: String,
    pub round: usize,
    pub schools: usize,
    pub history_groups: usize,
    pub groups: usize,
    pub placed: f64,
    pub bound: f64,
    pub gap: f64,
    pub status: SolveStatus,
    pub seconds: f64,
}

/// Runs the benchmark, printing a line per round; returns the figures.
pub fn run_rounds_bench(options: &RoundsBenchOptions) -> anyhow::Result<Vec<RoundFigures>> {
    let solve = SolveOptions { time_limit: Some(options.time_limit), mip_gap: None };
    let mut cases: Vec<(String, TriadsProblem, usize)> = Vec::new();
    let csv = options.gias.clone().unwrap_or_else(bridges_worker::gias::shared_boroughs_csv);
    if csv.exists() {
        let mut both = triads_generate::from_gias(&csv, None, Some(Phase::Primary))?;
        // A round's default periods: the six half-terms of 2026-27.
        both.periods = ["2026-AU1", "2026-AU2", "2027-SP1", "2027-SP2", "2027-SU1", "2027-SU2"]
            .into_iter()
            .map(Period::from)
            .collect();
        let name = format!("real primaries of both boroughs ({})", both.schools.len());
        cases.push((name, both, options.history_rounds));
    } else {
        println!("(skipping the real schools: {} not found)", csv.display());
    }
    if options.generated > 0 {
        let pool = triads_generate::synthetic(options.generated, 1);
        let name = format!("generated pool, seed 1 ({})", options.generated);
        cases.push((name, pool, options.generated_history_rounds));
    }
    println!(
        "{:<44} {:>5} {:>7} {:>7} {:>6} {:>7} {:>6} {:>8} {:>8} {:>8}",
        "case",
        "round",
        "schools",
        "history",
        "groups",
        "placed",
        "bound",
        "gap",
        "status",
        "seconds"
    );
    let mut out = Vec::new();
    for (case, mut problem, before) in cases {
        let mut seen: BTreeSet<(Urn, Urn)> = pairs(&problem.history);
        for round in 1..=before + 1 {
            let bytes = serde_json::to_vec(&problem).context("serialising the problem")?;
            let sha = sha256_hex(&bytes);
            let started = Instant::now();
            let plan = bridges_worker::triads::solve(&problem, &sha, &solve)
                .map_err(|e| anyhow::anyhow!("{case}, round {round}: {e}"))?;
            let seconds = started.elapsed().as_secs_f64();
            let broken = bridges_worker::triads::check::check(&problem, &plan);
            anyhow::ensure!(broken.is_empty(), "{case}, round {round}: {broken:?}");
            for pair in pairs(&plan.groups) {
                anyhow::ensure!(seen.insert(pair), "{case}, round {round}: {pair:?} repeats");
            }
            let figures = RoundFigures {
                case: case.clone(),
                round,
                schools: problem.schools.len(),
                history_groups: problem.history.len(),
                groups: plan.groups.len(),
                placed: plan.objective,
                bound: plan.bound,
                gap: plan.gap,
                status: plan.status,
                seconds,
            };
            println!(
                "{:<44} {:>5} {:>7} {:>7} {:>6} {:>7} {:>6} {:>7.3}% {:>8} {:>8.2}",
                figures.case,
                round,
                figures.schools,
                figures.history_groups,
                figures.groups,
                figures.placed,
                figures.bound,
                100.0 * figures.gap,
                figures.status,
                seconds
            );
            problem.history.extend(plan.groups.iter().cloned());
            out.push(figures);
        }
    }
    Ok(out)
}

/// Every pair of schools grouped together in `groups`.
fn pairs(groups: &[Vec<Urn>]) -> BTreeSet<(Urn, Urn)> {
    let mut out = BTreeSet::new();
    for g in groups {
        for (i, a) in g.iter().enumerate() {
            for b in &g[i + 1..] {
                out.insert(((*a).min(*b), (*a).max(*b)));
            }
        }
    }
    out
}
