//! The LA's reports (`bridges report`): CSV files that open cleanly in
//! Excel and one self-contained HTML page with charts, as of any log
//! position or date, plus a printable recharge statement per receiving
//! school per quarter. A report is a pure function of the domain state (the
//! `State` projection replayed to the cut) to tables (`rows`), then writers
//! (`table` for CSV, `html` and `charts` for the page); only [`write`] and
//! [`cut_of`] touch files or the log.
//!
//! It is not a view of one entity (`views`), and it opens no personal data:
//! practitioners appear by their opaque id.

pub mod charts;
pub mod html;
pub mod rows;
pub mod table;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};

pub use rows::Cut;
pub use table::Table;

use crate::domain::{Rules, State};
use crate::log::{EventLog, LogError, Position};

/// Where to cut a report: a log position, or the end of a day in London.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    Head,
    Position(u64),
    Date(NaiveDate),
}

impl AsOf {
    /// `1200` (a position) or `2027-02-12` (a date).
    pub fn parse(text: &str) -> Result<AsOf, String> {
        if let Ok(p) = text.parse::<u64>() {
            return if p == 0 {
                Err("a position counts from 1".to_owned())
            } else {
                Ok(AsOf::Position(p))
            };
        }
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(AsOf::Date)
            .map_err(|_| "neither a log position (1, 2, ...) nor a date (YYYY-MM-DD)".to_owned())
    }
}

/// What a report holds, ready to write.
#[derive(Debug, Clone)]
pub struct Report {
    pub la: u16,
    pub cut: Cut,
    pub tables: Vec<Table>,
}

/// Why a report could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error("--as-of = {value}: {reason}")]
    AsOf { value: String, reason: String },
    #[error("writing {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("writing {path}: {source}")]
    Csv { path: String, source: csv::Error },
    #[error(transparent)]
    Chart(#[from] charts::ChartError),
}

impl ReportError {
    pub fn is_bad_input(&self) -> bool {
        match self {
            ReportError::AsOf { .. } => true,
            ReportError::Log(e) => e.is_bad_input(),
            _ => false,
        }
    }
}

/// The time an event says it happened: its meta's, else when it was recorded.
fn event_time(e: &crate::log::EventRef<'_>) -> DateTime<Utc> {
    serde_json::from_slice::<serde_json::Value>(e.payload)
        .ok()
        .and_then(|p| bridges_schemas::events::EventMeta::of_payload(&p))
        .map(|m| m.at)
        .unwrap_or_else(|| crate::log::micros_to_time(e.recorded_at_micros))
}

/// Resolves `as_of` on `log`: a position (at most the head) and the time of
/// its event; or, for a date, the longest prefix of the log whose events
/// happened on or before that day in London, read as of that day's end.
pub fn cut_of(log: &EventLog, as_of: AsOf) -> Result<Cut, ReportError> {
    let head = log.head().0;
    let refuse = |value: String, reason: String| ReportError::AsOf { value, reason };
    match as_of {
        AsOf::Head | AsOf::Position(_) => {
            let position = match as_of {
                AsOf::Position(p) if p > head => {
                    return Err(refuse(p.to_string(), format!("past the log's head ({head})")));
                }
                AsOf::Position(p) => p,
                _ => head,
            };
            let mut at = None;
            log.scan(Position(position), Position(position), |e| {
                if e.position.0 == position {
                    at = Some(event_time(e));
                }
            })?;
            Ok(Cut { position, at: at.unwrap_or(DateTime::<Utc>::UNIX_EPOCH) })
        }
        AsOf::Date(date) => {
            let mut position = 0;
            let mut stopped = false;
            log.scan(Position(1), Position(head), |e| {
                if !stopped && crate::domain::calendar::london_date(event_time(e)) <= date {
                    position = e.position.0;
                } else {
                    stopped = true;
                }
            })?;
            if position == 0 {
                return Err(refuse(date.to_string(), "before the log's first event".to_owned()));
            }
            let end = date.and_hms_opt(23, 59, 59).expect("a valid time of day");
            let at = chrono_tz::Europe::London
                .from_local_datetime(&end)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_else(|| end.and_utc());
            Ok(Cut { position, at })
        }
    }
}

use chrono::TimeZone as _;

/// The report of `state` (the domain state as of `cut.position`).
pub fn build(state: &State, rules: &Rules, cut: Cut) -> Report {
    Report { la: rules.la_code, cut, tables: rows::tables(state, rules, &cut) }
}

/// The files a report wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub csv: Vec<PathBuf>,
    pub page: PathBuf,
    pub statements: Vec<PathBuf>,
}

/// The page's file name.
pub const PAGE: &str = "report.html";

/// Writes every CSV, the page and the recharge statements into `dir`
/// (created when missing).
pub fn write(report: &Report, dir: &Path) -> Result<Written, ReportError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| ReportError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut csv = Vec::new();
    for t in &report.tables {
        let path = dir.join(t.file_name());
        let bytes = t
            .to_csv()
            .map_err(|source| ReportError::Csv { path: path.display().to_string(), source })?;
        std::fs::write(&path, bytes).map_err(io(&path))?;
        csv.push(path);
    }
    let mut statements = Vec::new();
    let mut links = Vec::new();
    if let Some(recharges) = report.tables.iter().find(|t| t.name == "recharges") {
        for ((urn, school, quarter), lines) in statement_groups(recharges) {
            let name = format!("recharge-{urn}-{}.html", quarter.replace(' ', "-"));
            let path = dir.join(&name);
            std::fs::write(&path, html::statement(report.la, &urn, &school, &quarter, &lines))
                .map_err(io(&path))?;
            links.push((name, format!("{school} ({urn}), {quarter}")));
            statements.push(path);
        }
    }
    let charts = charts::charts(&report.tables)?;
    let page = dir.join(PAGE);
    std::fs::write(&page, html::page(report.la, &report.cut, &report.tables, &charts, &links))
        .map_err(io(&page))?;
    Ok(Written { csv, page, statements })
}

/// The recharge lines per receiving school and quarter.
fn statement_groups(t: &Table) -> BTreeMap<(String, String, String), Table> {
    let mut groups: BTreeMap<(String, String, String), Table> = BTreeMap::new();
    let col =
        |row: &[String], h: &str| t.column(h).and_then(|i| row.get(i)).cloned().unwrap_or_default();
    for row in &t.rows {
        let key = (col(row, "urn"), col(row, "school"), col(row, "quarter"));
        groups
            .entry(key)
            .or_insert_with(|| Table { rows: Vec::new(), ..t.clone() })
            .rows
            .push(row.clone());
    }
    groups
}
