//! `bridges-worker bench triads`: solves the real primary schools of
//! Hillingdon and of both boroughs, and a generated pool, and prints a table
//! (schools, groups, placed, bound, gap, status, time). Timings depend on the
//! machine and its load; the table is a record, not a test.

use std::time::Instant;

use anyhow::Context as _;
use bridges_schemas::Phase;
use bridges_schemas::triads::TriadsProblem;

use crate::common::SolveOptions;
use crate::gias;

use super::triads_generate as generate;

/// Schools of the generated pool in the full benchmark.
pub const LARGE_POOL: usize = 1_500;
/// Schools of the generated pool with `--quick`.
pub const QUICK_POOL: usize = 300;
/// Time limit given to the generated pool (the target is 30 s).
pub const LARGE_TIME_LIMIT: f64 = 30.0;

/// Runs the benchmark and prints its table.
pub fn run(quick: bool) -> anyhow::Result<()> {
    let csv = gias::shared_boroughs_csv();
    let mut cases: Vec<(String, TriadsProblem, SolveOptions)> = Vec::new();
    if csv.exists() {
        let hillingdon = generate::from_gias(&csv, Some(312), Some(Phase::Primary))?;
        let mut four_periods = hillingdon.clone();
        four_periods.periods.push(bridges_schemas::Period::from("2027-SU1"));
        cases.push((
            "Hillingdon primaries (real, LA 312)".to_owned(),
            hillingdon,
            SolveOptions::default(),
        ));
        // With a fourth period groups of 4 can have a rota (see rota.rs).
        cases.push((
            "Hillingdon primaries, 4 periods".to_owned(),
            four_periods,
            SolveOptions::default(),
        ));
        if !quick {
            let both = generate::from_gias(&csv, None, Some(Phase::Primary))?;
            cases.push((
                "Hillingdon + Ealing primaries (real)".to_owned(),
                both,
                SolveOptions::default(),
            ));
        }
    } else {
        println!("(skipping real schools: {} not found)", csv.display());
    }
    let n = if quick { QUICK_POOL } else { LARGE_POOL };
    cases.push((
        format!("generated pool, seed 1 ({n} schools)"),
        generate::synthetic(n, 1),
        SolveOptions { time_limit: Some(LARGE_TIME_LIMIT), mip_gap: None },
    ));

    println!(
        "{:<40} {:>7} {:>6} {:>6} {:>6} {:>8} {:>8} {:>12} {:>9}",
        "instance", "schools", "groups", "placed", "bound", "gap", "status", "secondary", "seconds"
    );
    for (name, problem, options) in cases {
        let bytes = serde_json::to_vec(&problem).context("serialising the problem")?;
        let sha = crate::common::sha256_hex(&bytes);
        let started = Instant::now();
        let plan =
            crate::triads::solve(&problem, &sha, &options).map_err(|e| anyhow::anyhow!("{e}"))?;
        let seconds = started.elapsed().as_secs_f64();
        let violations = crate::triads::check::check(&problem, &plan);
        anyhow::ensure!(violations.is_empty(), "{name}: plan breaks rules: {violations:?}");
        println!(
            "{:<40} {:>7} {:>6} {:>6} {:>6} {:>7.3}% {:>8} {:>12} {:>9.2}",
            name,
            problem.schools.len(),
            plan.groups.len(),
            plan.objective,
            plan.bound,
            plan.gap * 100.0,
            format!("{:?}", plan.status).to_lowercase(),
            plan.secondary,
            seconds
        );
    }
    Ok(())
}
