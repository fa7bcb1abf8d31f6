//! Imports: the files an LA keeps (the GIAS extract, inspection outcomes,
//! its practitioners' and requests' spreadsheets), each read as a stream of
//! commands with a row number attached to each rejection (STYLE.md). One
//! file per kind (`gias`, `inspections`, `practitioners`, `requests`) turns
//! a row into the commands it means, against the current state (a new id
//! registers, a known one changes, only what differs is sent); this module
//! hands each command to `Engine::handle` and collects the report: rows
//! read, applied, unchanged, skipped (with why) and rejected (row, column,
//! value, reason). A malformed cell is a row error without calling
//! `handle`; a rejection from the domain is mapped back to its column. Good
//! rows go in whatever the bad ones do.
//!
//! Command ids derive from what a row's command says and the version of the
//! entity's stream it was planned against, so importing the same file again
//! appends nothing (the domain finds nothing changed, or the id was seen),
//! and a value changed back (A, then B, then A again) is still recorded.
//!
//! Names and contacts are personal data: a report never carries them (their
//! cells show as "(not shown)"). No rule lives here: what a row may say is
//! the domain's to decide; an importer only reads cells and picks commands.

pub mod gias;
pub mod inspections;
pub mod practitioners;
pub mod requests;
mod table;

use std::collections::HashMap;
use std::fmt::{self, Write as _};

use bridges_schemas::commands::{Command, CommandEnvelope};
use bridges_schemas::events::DaysPerPeriod;
use bridges_schemas::vocab::{UserId, is_subject_token};
use bridges_schemas::{Period, Phase};
use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use crate::domain::{Rules, State};
use crate::handle::{Engine, HandleError, Outcome};

pub use table::{Row, Table};

/// When and by whom an import's commands are made.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub at: DateTime<Utc>,
    pub actor: UserId,
}

/// The kinds of file Bridges imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gias,
    Inspections,
    Practitioners,
    Requests,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Gias => "gias",
            Kind::Inspections => "inspections",
            Kind::Practitioners => "practitioners",
            Kind::Requests => "requests",
        }
    }

    /// The start of its command ids.
    fn prefix(self) -> &'static str {
        match self {
            Kind::Gias => "gias",
            Kind::Inspections => "insp",
            Kind::Practitioners => "prac",
            Kind::Requests => "req",
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportReport {
    pub kind: Kind,
    /// Data rows read (blank rows aside).
    pub rows: usize,
    /// GIAS rows of other LAs, left alone and not listed.
    pub other_la: usize,
    /// Rows whose commands appended events.
    pub applied: usize,
    /// Rows that asked for nothing new.
    pub unchanged: usize,
    pub skipped: Vec<Skipped>,
    pub rejected: Vec<RowError>,
    /// Events appended.
    pub events: u64,
}

/// A row left out on purpose, and why (an independent school in GIAS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub row: usize,
    /// What the row is about (`URN 102400`).
    pub key: String,
    pub reason: String,
}

/// A row refused: its row number, the column at fault, the value found
/// there ("(not shown)" for personal data) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub column: String,
    pub value: String,
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}, column {} = {:?}: {}", self.row, self.column, self.value, self.reason)
    }
}

/// What stops an import as a whole (not one row).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("row {row}: not a CSV file: {reason}")]
    Csv { row: usize, reason: String },
    #[error(
        "column {column:?} = (missing): the file has no such header (columns are found by their header names)"
    )]
    MissingColumn { column: String },
    #[error("column {column:?} = (twice): two columns have that header; which is meant?")]
    DuplicateColumn { column: String },
    #[error("--la = {given}: this engine serves LA {serves}")]
    WrongLa { given: u16, serves: u16 },
    #[error(transparent)]
    Handle(#[from] HandleError),
}

impl ImportError {
    /// Bad input (exit 2), as against an environment error (exit 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, ImportError::Io { .. } | ImportError::Handle(_))
    }
}

impl ImportReport {
    fn new(kind: Kind) -> ImportReport {
        ImportReport {
            kind,
            rows: 0,
            other_la: 0,
            applied: 0,
            unchanged: 0,
            skipped: Vec::new(),
            rejected: Vec::new(),
            events: 0,
        }
    }

    /// One line of counts.
    pub fn summary(&self) -> String {
        let other = if self.other_la > 0 {
            format!(" ({} of other LAs left alone)", self.other_la)
        } else {
            String::new()
        };
        format!(
            "import {}: {} rows{other}: {} applied, {} unchanged, {} skipped, {} rejected; {} events appended",
            self.kind.as_str(),
            self.rows,
            self.applied,
            self.unchanged,
            self.skipped.len(),
            self.rejected.len(),
            self.events
        )
    }

    /// The summary, then one line per skipped and per rejected row.
    pub fn render(&self) -> String {
        let mut out = self.summary();
        out.push('\n');
        for s in &self.skipped {
            let _ = writeln!(out, "  skipped row {} ({}): {}", s.row, s.key, s.reason);
        }
        for r in &self.rejected {
            let _ = writeln!(out, "  rejected {r}");
        }
        out
    }
}

/// Imports the file at `path` as `kind` (`la`: the GIAS rows to take,
/// the engine's LA when none).
pub async fn import_file(
    engine: &Engine,
    kind: Kind,
    path: &std::path::Path,
    la: Option<u16>,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let bytes = std::fs::read(path)
        .map_err(|source| ImportError::Io { path: path.display().to_string(), source })?;
    match kind {
        Kind::Gias => {
            gias::import(engine, &bytes, la.unwrap_or(engine.rules().la_code), options).await
        }
        Kind::Inspections => inspections::import(engine, &bytes, options).await,
        Kind::Practitioners => practitioners::import(engine, &bytes, options).await,
        Kind::Requests => requests::import(engine, &bytes, options).await,
    }
}

/// One command a row asks for.
pub(crate) struct Planned {
    /// A word for its command id (`register`, `availability`).
    pub tag: &'static str,
    pub command: Command,
    /// The column a rejection's field names (`days.2026-AU1` -> `2026-AU1`).
    pub column: fn(&str) -> String,
}

/// What a row comes to, against the current state.
pub(crate) enum RowPlan {
    /// Commands, in order, about the entity `key` whose stream is at `version`.
    Commands {
        key: String,
        version: u64,
        commands: Vec<Planned>,
    },
    Skip {
        key: String,
        reason: String,
    },
    /// A GIAS row of another LA.
    OtherLa,
    Error(RowError),
}

/// How an importer reads its file: the kind, the column of its key (for
/// "also in row N"), the columns that hold personal data, and the plan of
/// a row against the state.
pub(crate) struct Importer<'a> {
    pub kind: Kind,
    pub key_column: &'a str,
    pub personal: &'a [&'a str],
}

impl Importer<'_> {
    /// Plans each row against the state as it stands, hands its commands to
    /// `handle` in order (a row stops at its first rejection), and reports.
    pub async fn run<F>(
        &self,
        engine: &Engine,
        table: &Table,
        options: &ImportOptions,
        plan: F,
    ) -> Result<ImportReport, ImportError>
    where
        F: Fn(&State, &Rules, &Row) -> RowPlan,
    {
        let mut report = ImportReport::new(self.kind);
        let mut seen: HashMap<String, usize> = HashMap::new();
        for row in table.rows() {
            report.rows += 1;
            let row = match row {
                Ok(row) => row,
                Err(e) => {
                    report.rejected.push(e.clone());
                    continue;
                }
            };
            let planned = engine.read(|s| plan(s, engine.rules(), row)).await?;
            let (key, version, commands) = match planned {
                RowPlan::OtherLa => {
                    report.rows -= 1;
                    report.other_la += 1;
                    continue;
                }
                RowPlan::Error(e) => {
                    report.rejected.push(self.masked(e));
                    continue;
                }
                RowPlan::Skip { key, reason } => {
                    if let Some(e) = self.again(&mut seen, &key, row) {
                        report.rejected.push(e);
                    } else {
                        report.skipped.push(Skipped { row: row.number, key, reason });
                    }
                    continue;
                }
                RowPlan::Commands { key, version, commands } => (key, version, commands),
            };
            if let Some(e) = self.again(&mut seen, &key, row) {
                report.rejected.push(e);
                continue;
            }
            let mut appended = 0;
            let mut refused = None;
            for p in commands {
                let envelope = CommandEnvelope {
                    id: command_id(self.kind, &key, p.tag, version, &p.command),
                    actor: options.actor.clone(),
                    at: options.at,
                    command: p.command,
                };
                match engine.handle(&envelope).await? {
                    Outcome::Applied { events, .. } => appended += events.len() as u64,
                    Outcome::Unchanged | Outcome::Duplicate { .. } => {}
                    Outcome::Rejected(r) => {
                        refused = Some(self.masked(RowError {
                            row: row.number,
                            column: (p.column)(&r.field),
                            value: r.value,
                            reason: r.reason,
                        }));
                        break;
                    }
                }
            }
            report.events += appended;
            match refused {
                Some(e) => report.rejected.push(e),
                None if appended > 0 => report.applied += 1,
                None => report.unchanged += 1,
            }
        }
        Ok(report)
    }

    /// A key met before in the same file.
    fn again(&self, seen: &mut HashMap<String, usize>, key: &str, row: &Row) -> Option<RowError> {
        match seen.get(key) {
            Some(first) => Some(RowError {
                row: row.number,
                column: self.key_column.to_owned(),
                value: key.split_once(' ').map_or(key, |(_, id)| id).to_owned(),
                reason: format!("also in row {first}; one row per {}", self.key_column),
            }),
            None => {
                seen.insert(key.to_owned(), row.number);
                None
            }
        }
    }

    fn masked(&self, mut e: RowError) -> RowError {
        if self.personal.iter().any(|p| p.eq_ignore_ascii_case(&e.column)) {
            e.value = "(not shown)".into();
        }
        e
    }
}

/// A command's id: the kind, the entity, the command's word and a hash of
/// the command and the entity's stream version (so the same row against
/// the same state has the same id, and one planned after a change does not).
fn command_id(kind: Kind, key: &str, tag: &str, version: u64, command: &Command) -> String {
    let mut h = Sha256::new();
    h.update(key.as_bytes());
    h.update([0]);
    h.update(tag.as_bytes());
    h.update(version.to_be_bytes());
    h.update(serde_json::to_vec(command).expect("commands serialize"));
    let hash = hex::encode(&h.finalize()[..8]);
    let short: String = key.split_once(' ').map_or(key, |(_, id)| id).to_owned();
    let id = format!("{}-{short}-{tag}-{hash}", kind.prefix());
    if is_subject_token(&id) { id } else { format!("{}-{tag}-{hash}", kind.prefix()) }
}

// --- cells shared by the importers ------------------------------------------

/// A row error at `column`.
pub(crate) fn cell_error(
    row: &Row,
    column: &str,
    value: &str,
    reason: impl Into<String>,
) -> RowError {
    RowError {
        row: row.number,
        column: column.to_owned(),
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// A whole number, or none when the cell is blank.
pub(crate) fn whole(row: &Row, column: &str, text: &str) -> Result<Option<u32>, RowError> {
    if text.is_empty() {
        return Ok(None);
    }
    let digits = text.replace(',', "");
    digits.parse::<u32>().map(Some).map_err(|_| cell_error(row, column, text, "not a whole number"))
}

/// A date: ISO (`2026-09-07`) or as a UK spreadsheet writes it
/// (`07/09/2026`, GIAS's `07-09-2026`); none when blank.
pub(crate) fn date(row: &Row, column: &str, text: &str) -> Result<Option<NaiveDate>, RowError> {
    if text.is_empty() {
        return Ok(None);
    }
    for format in ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(text, format) {
            return Ok(Some(d));
        }
    }
    Err(cell_error(row, column, text, "not a date (2026-09-07 or 07/09/2026)"))
}

/// A word as a spreadsheet may write it, compared as snake_case
/// (`Requires improvement` -> `requires_improvement`).
pub(crate) fn word(text: &str) -> String {
    let mut out = String::new();
    for c in text.trim().chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').to_owned()
}

/// A `;`-separated list (commas too), blanks left out.
pub(crate) fn list(text: &str) -> Vec<String> {
    text.split([';', ',']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// A phase of education as a spreadsheet writes it (`primary`,
/// `All-through`, `16 plus`, ...).
pub(crate) fn phase_word(text: &str) -> Option<Phase> {
    match word(text).as_str() {
        "nursery" => Some(Phase::Nursery),
        "primary" => Some(Phase::Primary),
        "middle" | "middle_deemed_primary" | "middle_deemed_secondary" => Some(Phase::Middle),
        "secondary" => Some(Phase::Secondary),
        "all_through" => Some(Phase::AllThrough),
        "16_plus" | "sixteen_plus" | "post_16" => Some(Phase::SixteenPlus),
        "special" => Some(Phase::Special),
        _ => None,
    }
}

/// The half-term columns of a file: every header that is a configured
/// half-term label, with its column index.
pub(crate) fn half_term_columns(
    table: &Table,
    rules: &Rules,
) -> Result<Vec<(Period, usize)>, ImportError> {
    let mut out = Vec::new();
    for h in &rules.calendar.half_terms {
        if let Some(i) = table.column(h.label.as_str())? {
            out.push((h.label.clone(), i));
        }
    }
    Ok(out)
}

/// Whole days per half-term from the half-term columns (blank: 0).
pub(crate) fn days_of(row: &Row, columns: &[(Period, usize)]) -> Result<DaysPerPeriod, RowError> {
    let mut days = DaysPerPeriod::new();
    for (period, i) in columns {
        let text = row.cell(*i);
        let d = whole(row, period.as_str(), text)?.unwrap_or(0);
        days.insert(period.clone(), d);
    }
    Ok(days)
}

/// The column of a days field (`days.2026-AU1`, `capacity.2026-AU1`), or `other`.
pub(crate) fn period_of_field(field: &str) -> Option<String> {
    field.split_once('.').map(|(_, p)| p.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_read_as_snake_case_and_lists_split_on_semicolons() {
        assert_eq!(word(" Requires improvement "), "requires_improvement");
        assert_eq!(word("Strong standard"), "strong_standard");
        assert_eq!(word("not-met"), "not_met");
        assert_eq!(list("maths; send;;  english "), ["maths", "send", "english"]);
        assert_eq!(phase_word("16 plus"), Some(Phase::SixteenPlus));
        assert_eq!(phase_word("All-through"), Some(Phase::AllThrough));
        assert_eq!(phase_word("sixth form college"), None);
    }

    #[test]
    fn a_command_id_is_a_subject_token_and_changes_with_the_version() {
        let c = Command::CloseSchool(bridges_schemas::commands::CloseSchool {
            urn: bridges_schemas::Urn(102400),
            closed_on: None,
            reason: "closed".into(),
        });
        let a = command_id(Kind::Gias, "URN 102400", "close", 3, &c);
        assert!(a.starts_with("gias-102400-close-"), "{a}");
        assert!(is_subject_token(&a));
        assert_eq!(a, command_id(Kind::Gias, "URN 102400", "close", 3, &c));
        assert_ne!(a, command_id(Kind::Gias, "URN 102400", "close", 4, &c));
        let long = command_id(Kind::Practitioners, &"p".repeat(60), "availability", 0, &c);
        assert!(is_subject_token(&long) && long.starts_with("prac-availability-"), "{long}");
    }
}
