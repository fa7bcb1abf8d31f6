//! `bridges weekly`: the main job's shell. Parses its flags, hands the run to
//! `crate::weekly`, writes the documents asked for and prints the report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;

use crate::config::Config;
use crate::log::EventLog;
use crate::weekly;

#[derive(Debug, clap::Args)]
pub struct WeeklyArgs {
    /// ISO week label such as 2026-W48 (default: this week).
    #[arg(long)]
    week: Option<String>,
    /// GIAS-format CSV of real schools (default: ../shared/data/hillingdon_ealing_schools.csv when present).
    #[arg(long)]
    gias: Option<PathBuf>,
    /// Generate the borough's schools instead of reading GIAS.
    #[arg(long)]
    synthetic: bool,
    /// Also write the problem document the run solved (for `bridges-worker solve`).
    #[arg(long)]
    save_problem: Option<PathBuf>,
    /// Also write the plan document.
    #[arg(long)]
    save_plan: Option<PathBuf>,
}

/// Runs the week on `log` (which it closes) and prints the report.
pub async fn run(
    args: WeeklyArgs,
    config: &Config,
    data: &Path,
    log: EventLog,
) -> anyhow::Result<ExitCode> {
    let WeeklyArgs { week, gias, synthetic, save_problem, save_plan } = args;
    let now = Utc::now();
    let gias = if synthetic {
        None
    } else {
        gias.or_else(|| {
            let shared = PathBuf::from("../shared/data/hillingdon_ealing_schools.csv");
            shared.exists().then_some(shared)
        })
    };
    let request =
        weekly::WeeklyRequest { week: week.unwrap_or_else(|| weekly::week_of(now)), gias, now };
    let outcome = weekly::run(&log, config, &request).await;
    log.close().await?;
    let outcome = outcome?;
    if let Some(path) = save_problem {
        let problem = bridges_schemas::Problem::Brokerage(outcome.problem.clone());
        std::fs::write(&path, serde_json::to_vec_pretty(&problem)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = save_plan {
        let plan = bridges_schemas::Plan::Brokerage(outcome.plan.clone());
        std::fs::write(&path, serde_json::to_vec_pretty(&plan)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    print!("{}", weekly::render(&outcome, data));
    Ok(ExitCode::SUCCESS)
}
