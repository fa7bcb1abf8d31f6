//! The weekly matching run, the main job, on the embedded default (solver
//! in process, no NATS), on the real domain: import the LA's schools from
//! GIAS (the real file, or a generated borough written as one), write the
//! demo's CSVs (inspections, practitioners, a term's requests) and import
//! them with the same importers a user runs, set the partnership's budget,
//! run the week's matching (`matching::run`: expiries, snapshot, solve,
//! record through `handle`), and render what a broker reads: the run's
//! report, each open request's service-level clock and the spend against
//! budget per funding source.
//!
//! Everything that can be checked is checked before the first append: the
//! week against the calendar and the files given (the shell, with
//! `check_gias`). Every command has an id derived from what it records, so
//! running the same week twice appends nothing the second time and prints
//! the same plan. It holds no rule: imports, budget and run all go through `handle`;
//! the clocks and the spend are pure reads of the state.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use bridges_schemas::brokerage::{BrokeragePlan, BrokerageProblem};
use bridges_schemas::commands::{Command, CommandEnvelope};
use bridges_schemas::vocab::{FundingSource, RunId, RunTrigger, UserId};
use bridges_worker::common::SolveOptions;
use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use crate::config::calendar::london_date;
use crate::config::{AcademicYear, Calendar, Config, HalfTerm, IsoWeek};
use crate::demo::{self, DemoSpec};
use crate::domain::state::{AssignmentStatus, RequestStatus, VisitStatus};
use crate::domain::{Rules, State};
use crate::handle::{Engine, HandleError, Outcome};
use crate::imports::{self, ImportError, ImportOptions, ImportReport, Kind};
use crate::log::Position;
use crate::matching::{self, MatchError, MatchRequest};
use crate::render::money;

/// The actor the weekly job records its commands as.
pub const WEEKLY_USER: &str = "weekly";

/// What a weekly run is asked to do.
#[derive(Debug, Clone)]
pub struct WeeklyRequest {
    /// The ISO week, for example `2026-W48`: the run's id.
    pub week: IsoWeek,
    /// A GIAS-format CSV to take the LA's real schools from; none: a
    /// generated borough (written as `gias.csv` into `demo_dir`).
    pub gias: Option<PathBuf>,
    /// When the run happens (the domain never reads a clock).
    pub now: DateTime<Utc>,
    /// Where the demo's CSVs are written (and read back from).
    pub demo_dir: PathBuf,
}

/// What a weekly run did.
#[derive(Debug, Clone)]
pub struct WeeklyOutcome {
    pub week: String,
    pub run: RunId,
    /// The problem and plan solved now; none when the week was recorded before.
    pub solved: Option<(BrokerageProblem, BrokeragePlan)>,
    /// The greedy broker-by-hand plan of the same problem, when solved now.
    pub greedy: Option<BrokeragePlan>,
    /// The report of the recorded run, the service-level clocks and the spend.
    pub report: String,
    /// Events this run appended (0 when the week was already recorded).
    pub appended: u64,
    pub head: Position,
    pub as_of: Position,
    pub rebuild_equal: bool,
    /// The academic year planned (`2026/27`) and its half-terms not yet ended.
    pub year: String,
    pub periods: Vec<bridges_schemas::Period>,
    /// Each file imported, and what its import did.
    pub imports: Vec<(PathBuf, ImportReport)>,
    pub demo_dir: PathBuf,
    /// Budget commands refused (none unless the calendar lacks the year).
    pub refused: Vec<String>,
}

/// Why a weekly run stopped.
#[derive(Debug, thiserror::Error)]
pub enum WeeklyError {
    #[error(transparent)]
    Handle(#[from] HandleError),
    #[error(transparent)]
    Match(#[from] MatchError),
    #[error("importing {path}: {source}")]
    Import { path: String, source: ImportError },
    #[error("writing the demo's files into {path}: {source}")]
    Demo { path: String, source: std::io::Error },
    /// A file given that cannot be used (checked before anything is written).
    #[error("{0}")]
    Input(String),
    /// Nothing to plan at the run's time in the configured calendar.
    #[error("week {week} ({date}): {reason}")]
    Calendar { week: String, date: chrono::NaiveDate, reason: String },
}

impl WeeklyError {
    /// Whether the input (configuration, arguments, files given) is at
    /// fault, rather than the environment; `None` when a lower layer decides.
    pub fn is_bad_input(&self) -> Option<bool> {
        match self {
            WeeklyError::Handle(_) | WeeklyError::Match(_) => None,
            WeeklyError::Import { source, .. } => Some(source.is_bad_input()),
            WeeklyError::Demo { .. } => Some(false),
            WeeklyError::Input(_) | WeeklyError::Calendar { .. } => Some(true),
        }
    }
}

/// Reads and checks a GIAS file before anything is written: it must be
/// readable, have the columns the importer needs, no malformed row of LA
/// `la`, and no school twice.
pub fn check_gias(path: &Path, la: u16) -> Result<(), WeeklyError> {
    let named = |why: String| WeeklyError::Input(format!("--gias = {}: {why}", path.display()));
    let bytes = std::fs::read(path).map_err(|e| named(e.to_string()))?;
    let table = imports::Table::read(&bytes).map_err(|e| named(e.to_string()))?;
    let rows = imports::gias::read(&table, la).map_err(|e| named(e.to_string()))?;
    let mut seen = std::collections::BTreeMap::new();
    for (row, r) in &rows {
        match r {
            imports::gias::GiasRow::Error(e) => return Err(named(e.to_string())),
            imports::gias::GiasRow::School(s) => {
                if let Some(first) = seen.insert(s.urn, *row) {
                    return Err(named(format!("URN {} is in rows {first} and {row}", s.urn)));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Runs one week: schools, the demo's files through the imports, budget,
/// then a matching run.
pub async fn run(
    engine: &Engine,
    config: &Config,
    request: &WeeklyRequest,
) -> Result<WeeklyOutcome, WeeklyError> {
    let head_before = engine.log().head();
    let (year, open) = planned_half_terms(&config.calendar, request.week, request.now)?;
    let (year, periods) = (year.label(), open.iter().map(|h| h.label.clone()).collect());
    let week = request.week.to_string();
    let rules = engine.rules();
    let la = rules.la_code;
    let seed = demo::seed_of(la);
    let dir = &request.demo_dir;
    let demo_error =
        |source: std::io::Error| WeeklyError::Demo { path: dir.display().to_string(), source };
    let options = ImportOptions { at: request.now, actor: UserId(WEEKLY_USER.to_owned()) };

    let gias_path = match &request.gias {
        Some(path) => path.clone(),
        None => demo::write(dir, "gias.csv", &demo::borough(seed, config.weekly.schools, la))
            .map_err(demo_error)?,
    };
    let mut imported = Vec::new();
    imported.push((gias_path.clone(), import(engine, Kind::Gias, &gias_path, &options).await?));

    let gias_bytes = std::fs::read(&gias_path).map_err(|source| WeeklyError::Import {
        path: gias_path.display().to_string(),
        source: ImportError::Io { path: gias_path.display().to_string(), source },
    })?;
    let schools = imports::gias::open_schools(&gias_bytes, la)
        .map_err(|source| WeeklyError::Import { path: gias_path.display().to_string(), source })?;
    let spec = DemoSpec {
        seed,
        practitioners: config.weekly.practitioners,
        requests: config.weekly.requests,
        weekly_arrivals: true,
    };
    let files = demo::generate(&schools, rules, request.now, &spec);
    for (kind, name, text) in [
        (Kind::Inspections, "inspections.csv", &files.inspections),
        (Kind::Practitioners, "practitioners.csv", &files.practitioners),
        (Kind::Requests, "requests.csv", &files.requests),
    ] {
        let path = demo::write(dir, name, text).map_err(demo_error)?;
        imported.push((path.clone(), import(engine, kind, &path, &options).await?));
    }

    let mut refused = Vec::new();
    for command in demo::budget(rules, request.now, schools.len()) {
        let envelope = CommandEnvelope {
            id: content_id("demo-budget", &command),
            actor: options.actor.clone(),
            at: request.now,
            command,
        };
        if let Outcome::Rejected(r) = engine.handle(&envelope).await? {
            refused.push(format!("{}: {r}", envelope.command.name()));
        }
    }

    let outcome = matching::run(
        engine,
        &MatchRequest {
            run: Some(RunId(week.clone())),
            label: week.clone(),
            at: request.now,
            actor: options.actor.clone(),
            trigger: RunTrigger::Scheduled,
            options: SolveOptions {
                time_limit: Some(config.solver.time_limit_seconds),
                mip_gap: Some(config.solver.mip_gap).filter(|g| *g > 0.0),
            },
        },
    )
    .await?;
    let head = engine.log().head();
    let run = RunId(week.clone());
    let at = request.now;
    let report = engine
        .read(|s| {
            let mut text = crate::render::run_report(s, &run);
            text.push('\n');
            text.push_str(&service_clocks(s, rules, at));
            text.push('\n');
            text.push_str(&spend(s, rules, at));
            text
        })
        .await?;
    let as_of = engine
        .read(|s| s.runs.get(&run).and_then(|r| r.started.as_ref()).map(|st| st.as_of_position))
        .await?
        .unwrap_or(0);
    let rebuild_equal = engine.rebuild_equals_live().await?;
    let (solved, greedy) = match outcome {
        Some(o) => (Some((o.problem, o.plan)), Some(o.greedy)),
        None => (None, None),
    };
    Ok(WeeklyOutcome {
        greedy,
        rebuild_equal,
        year,
        periods,
        week: week.clone(),
        run,
        solved,
        report,
        appended: head.0 - head_before.0,
        head,
        as_of: Position(as_of),
        imports: imported,
        demo_dir: dir.clone(),
        refused,
    })
}

async fn import(
    engine: &Engine,
    kind: Kind,
    path: &Path,
    options: &ImportOptions,
) -> Result<ImportReport, WeeklyError> {
    imports::import_file(engine, kind, path, None, options)
        .await
        .map_err(|source| WeeklyError::Import { path: path.display().to_string(), source })
}

/// An id from a command's content: the same command, the same id.
fn content_id(prefix: &str, command: &Command) -> String {
    let json = serde_json::to_vec(command).expect("commands serialize");
    let hash = Sha256::digest(&json);
    format!("{prefix}-{}-{}", command.name(), hex::encode(&hash[..8]))
}

/// The half-terms a run at `now` plans, and their academic year: those not
/// ended at `now` in the year holding its date in London, or, when that year
/// has none left, every half-term of the next configured year. Refused when
/// the date is in no configured year or nothing is left to plan.
pub fn planned_half_terms(
    calendar: &Calendar,
    week: IsoWeek,
    now: DateTime<Utc>,
) -> Result<(&AcademicYear, &[HalfTerm]), WeeklyError> {
    let date = london_date(now);
    let span = match (calendar.years().first(), calendar.years().last()) {
        (Some(a), Some(b)) => format!("{} to {}", a.label(), b.label()),
        _ => "none".to_owned(),
    };
    let refuse = |reason: String| WeeklyError::Calendar { week: week.to_string(), date, reason };
    let Some(year) = calendar.academic_year_of(date) else {
        return Err(refuse(format!(
            "outside every configured academic year ({span}): no proposals; add the year to [calendar] to roll over"
        )));
    };
    let open = calendar.open_half_terms(now);
    let in_year = open.iter().take_while(|h| year.half_terms.contains(h)).count();
    if in_year > 0 {
        return Ok((year, &open[..in_year]));
    }
    let next = calendar.years().iter().find(|y| y.starts > year.starts);
    match next {
        Some(next) => Ok((next, &open[..next.half_terms.len().min(open.len())])),
        None => Err(refuse(format!(
            "every half-term of {} has ended and no later year is configured ({span}): no proposals; add the next year to [calendar]",
            year.label()
        ))),
    }
}

/// An error and its causes on one line, `outer: cause: cause`, leaving out a
/// cause whose text the line already holds (many errors print their source).
pub fn one_line<'a>(causes: impl Iterator<Item = &'a (dyn std::error::Error + 'static)>) -> String {
    let mut line = String::new();
    for cause in causes {
        let text = cause.to_string().lines().map(str::trim).collect::<Vec<_>>().join(" ");
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// The ISO week of a moment, by its date in London.
pub fn week_of(now: DateTime<Utc>) -> IsoWeek {
    IsoWeek::of(london_date(now))
}

/// Renders the outcome for a broker: what was imported, the plan's table,
/// the clocks and the spend, and how the log stands.
pub fn render(outcome: &WeeklyOutcome, data_dir: &Path) -> String {
    let mut text = format!(
        "Bridges weekly matching run {} (week {})\n\
         log: {} events in {}; snapshot as of position {}; this run appended {} events{}\n",
        outcome.run,
        outcome.week,
        outcome.head.0,
        data_dir.display(),
        outcome.as_of.0,
        outcome.appended,
        if outcome.appended == 0 { " (week already recorded: same plan)" } else { "" },
    );
    let labels: Vec<&str> = outcome.periods.iter().map(|p| p.as_str()).collect();
    let _ = writeln!(
        text,
        "the run plans the half-terms of {} not yet ended: {}",
        outcome.year,
        labels.join(", ")
    );
    let _ = writeln!(text, "the demo's CSVs are in {}\n", outcome.demo_dir.display());
    for (path, report) in &outcome.imports {
        let _ = writeln!(text, "{} ({})", report.summary(), path.display());
    }
    text.push('\n');
    text.push_str(&outcome.report);
    text.push_str(&format!(
        "\ndomain state rebuilt from zero {} the live one\n",
        if outcome.rebuild_equal { "equals" } else { "DIFFERS FROM" }
    ));
    text
}

/// What a request's "matched within" clock says (the views' clock status).
pub use crate::views::ClockStatus as Clock;

/// One open request's match clock: raised, due (raised plus the service
/// level's working days), first proposed, and what the clock says at `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchClock {
    pub request: bridges_schemas::RequestId,
    pub urn: bridges_schemas::Urn,
    pub raised: NaiveDate,
    pub due: NaiveDate,
    pub matched: Option<NaiveDate>,
    pub clock: Clock,
}

/// The match clock of every open request at `at`, in request order.
pub fn match_clocks(state: &State, rules: &Rules, at: DateTime<Utc>) -> Vec<MatchClock> {
    let today = london_date(at);
    state
        .requests
        .values()
        .filter(|r| r.status == RequestStatus::Open)
        .filter_map(|r| {
            let c = crate::views::match_clock(state, rules, &r.id, today)?;
            Some(MatchClock {
                request: r.id.clone(),
                urn: r.urn,
                raised: c.started,
                due: c.due,
                matched: c.done,
                clock: c.status,
            })
        })
        .collect()
}

/// The service-level table: each open request's match clock, then the counts.
pub fn service_clocks(state: &State, rules: &Rules, at: DateTime<Utc>) -> String {
    let clocks = match_clocks(state, rules, at);
    let within = rules.service.match_within;
    let mut out =
        format!("Service levels: each open request matched within {within} working days\n");
    let _ = writeln!(
        out,
        "{:<18} {:<8} {:<10} {:<10} {:<10} clock",
        "request", "urn", "raised", "due", "matched"
    );
    for c in &clocks {
        let _ = writeln!(
            out,
            "{:<18} {:<8} {:<10} {:<10} {:<10} {}",
            c.request,
            c.urn,
            c.raised,
            c.due,
            c.matched.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
            c.clock.as_str()
        );
    }
    let count = |k: Clock| clocks.iter().filter(|c| c.clock == k).count();
    let _ = writeln!(
        out,
        "matched within {within} working days: {} met, {} late, {} open",
        count(Clock::Met),
        count(Clock::Late),
        count(Clock::Open)
    );
    out
}

/// Money of one funding source in one academic year, in pence, the
/// brokerage fee included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spend {
    pub budget: u64,
    /// Proposed days awaiting an answer.
    pub proposed: u64,
    /// Accepted days (completed ones too).
    pub committed: u64,
    /// Recorded visits, and cancelled ones that are charged.
    pub spent: u64,
}

/// The money of one academic year, per funding source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearSpend {
    pub year: String,
    pub fee_basis_points: u32,
    pub sources: Vec<(FundingSource, Spend)>,
}

/// Budget, proposed, committed and spent per funding source in the
/// academic year planned at `at`.
pub fn spend_by_source(state: &State, rules: &Rules, at: DateTime<Utc>) -> Option<YearSpend> {
    let year = rules.calendar.planning_year(london_date(at))?.clone();
    let partnership = state.partnerships.get(&year).cloned().unwrap_or_default();
    let bp = u64::from(partnership.fee_basis_points);
    let with_fee = |pence: u64| pence + pence * bp / 10_000;
    let in_year = |period: &bridges_schemas::Period| {
        rules.calendar.half_term(period).is_some_and(|h| h.year == year)
    };
    let mut rows: Vec<(FundingSource, Spend)> = FundingSource::ALL
        .into_iter()
        .map(|f| {
            (
                f,
                Spend {
                    budget: partnership.budgets.get(&f).copied().unwrap_or(0),
                    ..Spend::default()
                },
            )
        })
        .collect();
    for a in state.assignments.values().filter(|a| !a.pending_run) {
        let (Some(r), Some(p)) =
            (state.requests.get(&a.request), state.practitioners.get(&a.practitioner))
        else {
            continue;
        };
        let rate = u64::from(p.day_rate) * 100;
        let days: u64 = a.days.iter().filter(|(k, _)| in_year(k)).map(|(_, d)| u64::from(*d)).sum();
        let half_days: u64 = a
            .visits
            .values()
            .filter(|v| rules.calendar.half_term_of(v.on).is_some_and(|h| h.year == year))
            .filter(|v| match v.status {
                VisitStatus::Recorded => true,
                VisitStatus::Cancelled { charged, .. } => charged,
                VisitStatus::Voided => false,
            })
            .map(|v| u64::from(v.half_days))
            .sum();
        let Some((_, s)) = rows.iter_mut().find(|(f, _)| *f == r.funding) else { continue };
        if a.status == AssignmentStatus::Proposed {
            s.proposed += with_fee(days * rate);
        }
        if a.is_committed() {
            s.committed += with_fee(days * rate);
        }
        s.spent += with_fee(half_days * rate / 2);
    }
    Some(YearSpend { year: year.0, fee_basis_points: partnership.fee_basis_points, sources: rows })
}

/// The spend table: budget, proposed, committed, spent and remaining
/// (budget less committed) per funding source, in pounds and pence.
pub fn spend(state: &State, rules: &Rules, at: DateTime<Utc>) -> String {
    let Some(YearSpend { year, fee_basis_points: bp, sources: rows }) =
        spend_by_source(state, rules, at)
    else {
        return "Spend against budget: the calendar has no academic year at this date\n".into();
    };
    let mut out = format!(
        "Spend against budget, {year} (the {}.{:02}% brokerage fee included)\n",
        bp / 100,
        bp % 100
    );
    let _ = writeln!(
        out,
        "{:<12} {:>14} {:>14} {:>14} {:>14} {:>14}",
        "funding", "budget", "proposed", "committed", "spent", "remaining"
    );
    let mut total = Spend::default();
    let line = |name: &str, s: &Spend| {
        let remaining = if s.committed > s.budget {
            format!("-{}", money(s.committed - s.budget))
        } else {
            money(s.budget - s.committed)
        };
        format!(
            "{:<12} {:>14} {:>14} {:>14} {:>14} {:>14}\n",
            name,
            money(s.budget),
            money(s.proposed),
            money(s.committed),
            money(s.spent),
            remaining
        )
    };
    for (f, s) in &rows {
        out.push_str(&line(f.as_str(), s));
        total.budget += s.budget;
        total.proposed += s.proposed;
        total.committed += s.committed;
        total.spent += s.spent;
    }
    out.push_str(&line("total", &total));
    out
}
