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
use bridges_schemas::vocab::{UserId, is_subject_token};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

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
        #[command(flatten)]
        common: Common,
    },
    /// Inspection outcomes, one row per school in its framework
    /// (overall, sub_judgements, report_card).
    ///
    /// Example: bridges import inspections inspections.csv --as broker-1
    #[command(after_help = EXIT_CODES)]
    Inspections {
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Practitioners under the LA's own id: designated or changed, their
    /// days per half-term and conflicts. Names and contacts are never printed.
    ///
    /// Example: bridges import practitioners practitioners.csv --at 2026-09-07
    #[command(after_help = EXIT_CODES)]
    Practitioners {
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Support requests under the LA's own id: raised, or amended where the
    /// row differs.
    ///
    /// Example: bridges import requests requests.csv --as broker-1
    #[command(after_help = EXIT_CODES)]
    Requests {
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

/// Flags every import takes.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// When the import happens: RFC 3339 (2026-09-07T09:00:00Z) or a date
    /// (09:00 UTC that day). Default: now.
    #[arg(long)]
    at: Option<String>,
    /// The member of staff importing, as a user id (default: $USER, else `cli`).
    #[arg(long = "as")]
    actor: Option<String>,
}

/// Runs one import on `log` (which it closes).
pub async fn run(
    what: ImportCommand,
    config: &Config,
    data: &Path,
    log: EventLog,
) -> anyhow::Result<ExitCode> {
    let (kind, file, la, common) = match what {
        ImportCommand::Gias { file, la, common } => (Kind::Gias, file, la, common),
        ImportCommand::Inspections { file, common } => (Kind::Inspections, file, None, common),
        ImportCommand::Practitioners { file, common } => (Kind::Practitioners, file, None, common),
        ImportCommand::Requests { file, common } => (Kind::Requests, file, None, common),
    };
    let options = match options(&common) {
        Ok(o) => o,
        Err(line) => {
            eprintln!("{line}");
            return Ok(ExitCode::from(2));
        }
    };
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

/// The import's time and actor from the flags, or the one line that refuses them.
fn options(common: &Common) -> Result<ImportOptions, String> {
    let at = match &common.at {
        None => Utc::now(),
        Some(text) => parse_at(text).ok_or_else(|| {
            format!("--at = {text:?}: not a time (2026-09-07T09:00:00Z or 2026-09-07)")
        })?,
    };
    let actor = match &common.actor {
        Some(a) => a.clone(),
        None => std::env::var("USER")
            .ok()
            .filter(|u| is_subject_token(u))
            .unwrap_or_else(|| "cli".into()),
    };
    if !is_subject_token(&actor) {
        return Err(format!(
            "--as = {actor:?}: a user id is 1 to 64 ASCII letters, digits, - or _"
        ));
    }
    Ok(ImportOptions { at, actor: UserId(actor) })
}

fn parse_at(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let d = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Utc.from_local_datetime(&d.and_hms_opt(9, 0, 0)?).single()
}
