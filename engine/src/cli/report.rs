//! `bridges report` and `bridges problem export`: the shells over
//! `crate::reports` and `planning::snapshot`. Each opens the log, resolves
//! `--as-of` (a position or a date) to a cut, replays the domain state to
//! it (`projection::state_at`), and writes files; neither records anything.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use chrono::{DateTime, Utc};

use super::CliError;
use super::weekly::Output;
use crate::config::Config;
use crate::domain::State;
use crate::log::{EventLog, Position};
use crate::reports::{self, AsOf, Cut};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  bridges report --out report\n  bridges report --out report-feb --as-of 2027-02-12\n  bridges report --out report-1200 --as-of 1200"
)]
pub struct ReportArgs {
    /// The folder to write the CSV files, report.html and the recharge
    /// statements into (created when missing).
    #[arg(long)]
    out: PathBuf,
    /// Cut the report at a log position (1200) or at the end of a day in
    /// London (2027-02-12): what was known then. Default: the whole log.
    #[arg(long, value_name = "POSITION|DATE")]
    as_of: Option<String>,
}

#[derive(Debug, clap::Subcommand)]
pub enum ProblemCommand {
    /// Write the problem document a matching run would have solved at a
    /// cut of the log (the planning snapshot; nothing is recorded).
    #[command(
        after_help = "Examples:\n  bridges problem export --out problem.json\n  bridges --at 2026-11-02T09:00:00Z problem export --as-of 1830 --out problem.json"
    )]
    Export {
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
        /// A log position or a date (YYYY-MM-DD, its end in London).
        /// Default: the whole log.
        #[arg(long, value_name = "POSITION|DATE")]
        as_of: Option<String>,
    },
}

fn as_of(text: Option<&str>) -> Result<AsOf, CliError> {
    match text {
        None => Ok(AsOf::Head),
        Some(t) => {
            AsOf::parse(t).map_err(|why| CliError::bad_input(format!("--as-of = {t}: {why}")))
        }
    }
}

/// The cut and the domain state as of it.
fn state_at(log: &EventLog, as_of: AsOf) -> anyhow::Result<(Cut, State)> {
    let cut = reports::cut_of(log, as_of).map_err(|e| match e.is_bad_input() {
        true => anyhow::Error::new(CliError::bad_input(e.to_string())),
        false => anyhow::Error::new(e),
    })?;
    let state: State = crate::projection::state_at(log, Position(cut.position))
        .context("replaying the domain state")?;
    Ok((cut, state))
}

/// Cuts `log` at `as_of`, replays the state and writes its report into `out`.
pub(super) fn write_report(
    config: &Config,
    log: &EventLog,
    as_of: AsOf,
    out: &std::path::Path,
) -> anyhow::Result<(reports::Report, reports::Written)> {
    let (cut, state) = state_at(log, as_of)?;
    let report = reports::build(&state, &crate::rules::rules(config), cut);
    let written = reports::write(&report, out)?;
    Ok((report, written))
}

/// Writes the report and prints where it is.
pub async fn run_report(
    args: ReportArgs,
    config: &Config,
    log: EventLog,
) -> anyhow::Result<ExitCode> {
    let as_of = as_of(args.as_of.as_deref())?;
    let result = write_report(config, &log, as_of, &args.out);
    log.close().await?;
    let (report, written) = result?;
    println!(
        "report as of position {} ({}): {} CSV files and {} recharge statements in {}",
        report.cut.position,
        crate::views::time(report.cut.at),
        written.csv.len(),
        written.statements.len(),
        args.out.display()
    );
    println!("page: {}", written.page.display());
    Ok(ExitCode::SUCCESS)
}

/// `problem export`: the snapshot a run at the cut would have solved.
pub async fn run_problem(
    command: ProblemCommand,
    config: &Config,
    log: EventLog,
    at: Option<DateTime<Utc>>,
) -> anyhow::Result<ExitCode> {
    let ProblemCommand::Export { out, as_of: text } = command;
    let as_of = as_of(text.as_deref())?;
    let output = Output::prepare("--out", out)?;
    let result = state_at(&log, as_of);
    log.close().await?;
    let (cut, state) = result?;
    let at = at.unwrap_or(cut.at);
    let snapshot = crate::planning::snapshot(&state, &crate::rules::rules(config), at);
    let problem = bridges_schemas::Problem::Brokerage(snapshot.problem);
    output.write(&problem)?;
    println!("problem as of position {} for a run at {}", cut.position, crate::views::time(at));
    Ok(ExitCode::SUCCESS)
}
