//! `bridges match`: a matching run now (or at `--at`), on the embedded
//! default: `matching::run` records the expiry of overdue proposals, cuts
//! the planning snapshot, solves it in process and records the plan through
//! the engine; this prints the run as recorded (`render::run_report`) and,
//! when asked, writes the problem and plan documents it solved (for
//! `bridges-worker solve` and an independent check), as `bridges weekly` does.

use std::path::PathBuf;
use std::process::ExitCode;

use bridges_schemas::vocab::{RunId, RunTrigger};
use bridges_worker::common::SolveOptions;

use super::session::Session;
use super::weekly::Output;
use crate::config::Config;
use crate::handle::Outcome;
use crate::matching::{self, MatchRequest};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  bridges match\n  bridges match --at 2026-09-14T09:00:00Z --as broker-1\n  bridges match --run 2026-W38 --save-problem problem.json --save-plan plan.json"
)]
pub struct MatchArgs {
    /// The run's id (default: its time and the problem's hash); a run id
    /// recorded before is not solved again.
    #[arg(long)]
    run: Option<String>,
    /// Seconds the solver may take (default: solver.time_limit_seconds).
    #[arg(long)]
    time_limit: Option<f64>,
    /// Also write the problem document the run solved (not written when
    /// the run id is recorded already and nothing is solved).
    #[arg(long)]
    save_problem: Option<PathBuf>,
    /// Also write the plan document.
    #[arg(long)]
    save_plan: Option<PathBuf>,
}

/// Runs one matching run and prints its report.
pub async fn run(args: MatchArgs, config: &Config, session: &Session) -> anyhow::Result<ExitCode> {
    let engine = session.engine()?;
    for (flag, path) in [("--save-problem", &args.save_problem), ("--save-plan", &args.save_plan)] {
        if let Some(path) = path {
            session.may_write(flag, path)?;
        }
    }
    // A folder that is missing or not writable is refused before anything is recorded.
    let problem_out =
        args.save_problem.map(|p| Output::prepare("--save-problem", p)).transpose()?;
    let plan_out = args.save_plan.map(|p| Output::prepare("--save-plan", p)).transpose()?;
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
    let run = match matching::run(engine, &request).await? {
        None => {
            let run = request.run.clone().unwrap_or_else(|| RunId(request.label.clone()));
            session.print(&format!("run {run} is recorded already; nothing solved\n"));
            run
        }
        Some(outcome) => {
            match &outcome.recorded {
                Outcome::Rejected(r) => return Ok(session.refuse(r)),
                Outcome::Duplicate { .. } => {
                    session.print(&format!(
                        "run {} is recorded already (the same problem); nothing new written\n",
                        outcome.run
                    ))
                }
                Outcome::Applied { first, last, .. } => session.print(&format!(
                    "run {} recorded at positions {first}..{last} (snapshot as of position {}; {} overdue proposals expired first)\n",
                    outcome.run, outcome.as_of, outcome.expired
                )),
                Outcome::Unchanged => {
                    session.print(&format!("run {}: nothing to record\n", outcome.run))
                }
            }
            if let Some(out) = problem_out {
                out.write(&bridges_schemas::Problem::Brokerage(outcome.problem.clone()))?;
            }
            if let Some(out) = plan_out {
                out.write(&bridges_schemas::Plan::Brokerage(outcome.plan.clone()))?;
            }
            outcome.run
        }
    };
    session.print(&engine.read(|s| crate::render::run_report(s, &run)).await?);
    Ok(ExitCode::SUCCESS)
}
