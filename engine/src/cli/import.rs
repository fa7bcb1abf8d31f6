//! `bridges import gias|inspections|practitioners|requests FILE`: the
//! imports' shell. Parses the flags, opens the engine, hands the file to
//! `crate::imports` and prints the report (one line per skipped or
//! rejected row). Exit 0 when every row went in, was unchanged or was
//! skipped; 2 when a row was rejected (after the good rows went in) or the
//! file itself is refused (a required column missing); 1 on an environment
//! error (the file cannot be read, the log cannot be opened).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use bridges_schemas::vocab::is_subject_token;
use chrono::Utc;

use crate::config::Config;
use crate::handle::Engine;
use crate::imports::{self, ImportOptions, Kind};
use crate::keys::KeyStore;
use crate::log::EventLog;

const EXIT_CODES: &str = "Exit status: 0 when every row went in (or was unchanged or skipped); \
2 when a row was rejected (the good rows are imported all the same) or the file is refused \
(a required column missing); 1 when the file or the log cannot be read. Columns are found by \
their header names; README lists them.";

/// Which file to import.
#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Schools from a GIAS extract, by column names (other columns are
    /// ignored): the LA's rows register new URNs, record what changed on
    /// known ones, close closed ones, and record `OfstedRating (name)`.
    ///
    /// Example: bridges import gias edubasealldata20250422.csv --la 312
    #[command(after_help = EXIT_CODES)]
    Gias {
        file: PathBuf,
        /// The LA whose rows to take (default: the configured LA; it must be it).
        #[arg(long)]
        la: Option<u16>,
    },
    /// Inspection outcomes, one row per school in its framework
    /// (overall, sub_judgements, report_card).
    ///
    /// Example: bridges import inspections inspections.csv --as broker-1
    #[command(after_help = EXIT_CODES)]
    Inspections { file: PathBuf },
    /// Practitioners under the LA's own id: designated or changed, their
    /// days per half-term and conflicts. Names and contacts are never printed.
    ///
    /// Example: bridges import practitioners practitioners.csv --at 2026-09-07
    #[command(after_help = EXIT_CODES)]
    Practitioners { file: PathBuf },
    /// Support requests under the LA's own id: raised, or amended where the
    /// row differs.
    ///
    /// Example: bridges import requests requests.csv --as broker-1
    #[command(after_help = EXIT_CODES)]
    Requests { file: PathBuf },
}

/// Runs one import on `log` (which it closes).
pub async fn run(
    what: ImportCommand,
    config: &Config,
    data: &Path,
    log: EventLog,
    acting: &super::session::Acting,
) -> anyhow::Result<ExitCode> {
    let (kind, file, la) = match what {
        ImportCommand::Gias { file, la } => (Kind::Gias, file, la),
        ImportCommand::Inspections { file } => (Kind::Inspections, file, None),
        ImportCommand::Practitioners { file } => (Kind::Practitioners, file, None),
        ImportCommand::Requests { file } => (Kind::Requests, file, None),
    };
    let actor = acting.actor();
    if !is_subject_token(actor.as_str()) {
        eprintln!(
            "--as = {:?}: a user id is 1 to 64 ASCII letters, digits, - or _",
            actor.as_str()
        );
        return Ok(ExitCode::from(2));
    }
    let options = ImportOptions { at: acting.at.unwrap_or_else(Utc::now), actor };
    let keys = KeyStore::open(super::weekly::keys_dir(data))
        .with_context(|| format!("opening the key store beside {}", data.display()))?;
    let engine = Engine::open(log, crate::rules::rules(config), keys).await?;
    let result = imports::import_file(&engine, kind, &file, la, &options).await;
    engine.close().await?;
    match result {
        Ok(report) => {
            print!("{}", report.render());
            Ok(ExitCode::from(if report.rejected.is_empty() { 0 } else { 2 }))
        }
        Err(e) if e.is_bad_input() => {
            eprintln!("{}: {e}", file.display());
            Ok(ExitCode::from(2))
        }
        Err(e) => Err(e).with_context(|| format!("importing {}", file.display())),
    }
}
