//! `bridges weekly`: the main job's shell. Checks its flags (the week, the
//! files it is asked to write and read) before the log is opened, hands the
//! run to `crate::weekly` (schools from GIAS, the demo's CSVs through the
//! imports, the week's run), writes the documents asked for and prints the
//! report.
//! It decides nothing about the run itself.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::Utc;
use tempfile::NamedTempFile;

use super::CliError;
use crate::config::calendar::monday_morning;
use crate::config::{Config, IsoWeek};
use crate::handle::Engine;
use crate::keys::KeyStore;
use crate::log::EventLog;
use crate::weekly;

#[derive(Debug, clap::Args)]
pub struct WeeklyArgs {
    /// ISO week such as 2026-W48 (default: this week). The run then happens
    /// at 09:00 on that week's Monday in London: it plans the half-terms not
    /// ended by then, and a week's run gives the same plan whenever it is run.
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

/// Checks the arguments, opens the log with `open`, runs the week, closes
/// the log and prints the report.
pub async fn run(
    args: WeeklyArgs,
    config: &Config,
    data: &Path,
    open: impl FnOnce() -> anyhow::Result<EventLog>,
) -> anyhow::Result<ExitCode> {
    let WeeklyArgs { week, gias, synthetic, demo_dir, save_problem, save_plan } = args;
    let (week, now) = match week {
        Some(text) => {
            let week = IsoWeek::parse(&text)
                .map_err(|reason| CliError::bad_input(format!("--week = {text:?}: {reason}")))?;
            (week, monday_morning(week))
        }
        None => {
            let now = Utc::now();
            (weekly::week_of(now), now)
        }
    };
    // Nothing to plan at that time: refused before the log is opened.
    weekly::planned_half_terms(&config.calendar, week, now)?;
    let problem_out = save_problem.map(|p| Output::prepare("--save-problem", p)).transpose()?;
    let plan_out = save_plan.map(|p| Output::prepare("--save-plan", p)).transpose()?;
    let gias = if synthetic {
        None
    } else {
        gias.or_else(|| {
            let shared = PathBuf::from("../shared/data/hillingdon_ealing_schools.csv");
            shared.exists().then_some(shared)
        })
    };
    // The GIAS file is read and checked before anything is written.
    if let Some(path) = &gias {
        weekly::check_gias(path, config.la_code)?;
    }
    let demo_dir = demo_dir.unwrap_or_else(|| beside(data, "demo"));
    let keys = KeyStore::open(keys_dir(data)).map_err(|e| {
        CliError::environment(format!("opening the key store {}: {e}", keys_dir(data).display()))
    })?;
    let log = open()?;
    let engine = Engine::open(log, crate::rules::rules(config), keys).await?;
    let request = weekly::WeeklyRequest { week, gias, now, demo_dir };
    let outcome = weekly::run(&engine, config, &request).await;
    engine.close().await?;
    let outcome = outcome?;
    if let Some((problem, plan)) = &outcome.solved {
        if let Some(out) = problem_out {
            out.write(&bridges_schemas::Problem::Brokerage(problem.clone()))?;
        }
        if let Some(out) = plan_out {
            out.write(&bridges_schemas::Plan::Brokerage(plan.clone()))?;
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

/// A document to write at the end of the run, into a temporary file made in
/// its folder before the run starts (so a folder that is missing or not
/// writable is refused before anything is recorded), renamed into place once
/// written (so a failed run leaves the file that was there). `bridges match`
/// writes its documents the same way.
pub(super) struct Output {
    flag: &'static str,
    path: PathBuf,
    file: NamedTempFile,
}

impl Output {
    pub(super) fn prepare(flag: &'static str, path: PathBuf) -> Result<Output, CliError> {
        let refuse =
            |why: String| CliError::bad_input(format!("{flag} = {}: {why}", path.display()));
        if path.is_dir() {
            return Err(refuse("is a folder".to_owned()));
        }
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // Readable by others like a file `std::fs::write` makes (a temporary
        // file is private by default), before the umask.
        #[cfg(unix)]
        let permissions = std::os::unix::fs::PermissionsExt::from_mode(0o666);
        let mut builder = tempfile::Builder::new();
        builder.prefix(".bridges-").suffix(".part");
        #[cfg(unix)]
        builder.permissions(permissions);
        let file = builder
            .tempfile_in(&folder)
            .map_err(|e| refuse(format!("cannot write in {}: {e}", folder.display())))?;
        Ok(Output { flag, path, file })
    }

    pub(super) fn write(mut self, document: &impl serde::Serialize) -> Result<(), CliError> {
        let fail = |why: String| {
            CliError::environment(format!("{} = {}: {why}", self.flag, self.path.display()))
        };
        let bytes = serde_json::to_vec_pretty(document).map_err(|e| fail(e.to_string()))?;
        self.file.write_all(&bytes).map_err(|e| fail(e.to_string()))?;
        self.file.as_file().sync_all().map_err(|e| fail(e.to_string()))?;
        let (flag, path) = (self.flag, self.path.clone());
        self.file.persist(&path).map_err(|e| {
            CliError::environment(format!("{flag} = {}: {}", path.display(), e.error))
        })?;
        Ok(())
    }
}

/// The key store of a data folder: beside it, never inside (DESIGN.md section 9).
pub fn keys_dir(data: &Path) -> PathBuf {
    beside(data, "keys")
}

/// `<data>-<what>`, beside the data folder.
pub fn beside(data: &Path, what: &str) -> PathBuf {
    let name = data
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bridges-data".into());
    data.with_file_name(format!("{name}-{what}"))
}
