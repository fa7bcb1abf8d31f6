//! `bridges match`: a matching run now (or at `--at`), on the embedded
//! default: `matching::run` records the expiry of overdue proposals, cuts
//! the planning snapshot, solves it in process and records the plan through
//! the engine; this prints the run as recorded (`render::run_report`).

use std::process::ExitCode;

use bridges_schemas::vocab::{RunId, RunTrigger};
use bridges_worker::common::SolveOptions;

use super::session::{Session, refuse};
use crate::config::Config;
use crate::handle::Outcome;
use crate::matching::{self, MatchRequest};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  bridges match\n  bridges match --at 2026-09-14T09:00:00Z --as broker-1"
)]
pub struct MatchArgs {
    /// The run's id (default: its time and the problem's hash); a run id
    /// recorded before is not solved again.
    #[arg(long)]
    run: Option<String>,
    /// Seconds the solver may take (default: solver.time_limit_seconds).
    #[arg(long)]
    time_limit: Option<f64>,
}

/// Runs one matching run and prints its report.
pub async fn run(args: MatchArgs, config: &Config, session: &Session) -> anyhow::Result<ExitCode> {
    let at = session.at();
    let request = MatchRequest {
        run: args.run.map(RunId),
        label: at.format("%Y-%m-%dT%H%M").to_string(),
        at,
        actor: session.actor(),
        trigger: RunTrigger::OnDemand,
        options: SolveOptions {
            time_limit: Some(args.time_limit.unwrap_or(config.solver.time_limit_seconds)),
            mip_gap: Some(config.solver.mip_gap).filter(|g| *g > 0.0),
        },
    };
    let engine = session.engine();
    let run = match matching::run(engine, &request).await? {
        None => {
            let run = request.run.clone().unwrap_or_else(|| RunId(request.label.clone()));
            println!("run {run} is recorded already; nothing solved");
            run
        }
        Some(outcome) => {
            match &outcome.recorded {
                Outcome::Rejected(r) => return Ok(refuse(r)),
                Outcome::Duplicate { .. } => {
                    println!(
                        "run {} is recorded already (the same problem); nothing new written",
                        outcome.run
                    )
                }
                Outcome::Applied { first, last, .. } => println!(
                    "run {} recorded at positions {first}..{last} (snapshot as of position {}; {} overdue proposals expired first)",
                    outcome.run, outcome.as_of, outcome.expired
                ),
                Outcome::Unchanged => println!("run {}: nothing to record", outcome.run),
            }
            outcome.run
        }
    };
    print!("{}", engine.read(|s| crate::render::run_report(s, &run)).await?);
    Ok(ExitCode::SUCCESS)
}
