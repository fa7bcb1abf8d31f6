//! `bridges weekly`: the main job's shell. Parses its flags, hands the run to
//! `crate::weekly` (schools from GIAS, the demo's CSVs through the imports,
//! the week's run), writes the documents asked for and prints the report.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;

use crate::config::Config;
use crate::handle::Engine;
use crate::keys::KeyStore;
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
    /// Generate the borough's schools (written as gias.csv beside the demo's
    /// CSVs) instead of reading GIAS.
    #[arg(long)]
    synthetic: bool,
    /// Where the demo's CSVs are written (default: `<data>-demo` beside the
    /// data folder).
    #[arg(long)]
    demo_dir: Option<PathBuf>,
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
    let WeeklyArgs { week, gias, synthetic, demo_dir, save_problem, save_plan } = args;
    let now = Utc::now();
    let gias = if synthetic {
        None
    } else {
        gias.or_else(|| {
            let shared = PathBuf::from("../shared/data/hillingdon_ealing_schools.csv");
            shared.exists().then_some(shared)
        })
    };
    let week = week.unwrap_or_else(|| weekly::week_of(now));
    let at = weekly::monday_of(&week)
        .ok_or_else(|| anyhow::anyhow!("--week {week:?}: not an ISO week such as 2026-W48"))?;
    let demo_dir = demo_dir.unwrap_or_else(|| beside(data, "demo"));
    let request = weekly::WeeklyRequest { week, gias, now: at, demo_dir };
    let keys = KeyStore::open(keys_dir(data))
        .with_context(|| format!("opening the key store beside {}", data.display()))?;
    let engine = Engine::open(log, crate::rules::rules(config), keys).await?;
    let outcome = weekly::run(&engine, config, &request).await;
    engine.close().await?;
    let outcome = outcome?;
    if let Some((problem, plan)) = &outcome.solved {
        if let Some(path) = save_problem {
            let problem = bridges_schemas::Problem::Brokerage(problem.clone());
            std::fs::write(&path, serde_json::to_vec_pretty(&problem)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        if let Some(path) = save_plan {
            let plan = bridges_schemas::Plan::Brokerage(plan.clone());
            std::fs::write(&path, serde_json::to_vec_pretty(&plan)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    print!("{}", weekly::render(&outcome, data));
    for (path, report) in &outcome.imports {
        for r in &report.rejected {
            eprintln!("{}: rejected {r}", path.display());
        }
    }
    for r in &outcome.refused {
        eprintln!("refused: {r}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The key store of a data folder: beside it, never inside (DESIGN.md section 9).
pub fn keys_dir(data: &Path) -> PathBuf {
    beside(data, "keys")
}

/// `<data>-<what>`, beside the data folder.
fn beside(data: &Path, what: &str) -> PathBuf {
    let name = data
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bridges-data".into());
    data.with_file_name(format!("{name}-{what}"))
}
