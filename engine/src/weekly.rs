//! The weekly matching run, on the embedded default (solver in process, no
//! NATS): take the week's intake into the log, cut the planning snapshot from
//! the log, solve it, record the run and its proposals as events, and render
//! what a broker reads.
//!
//! Everything that can be checked is checked before the first append: the
//! week against the calendar, the intake (GIAS read, every event valid), and
//! the problem the run will solve (the log's book with the intake applied in
//! memory, validated by the worker's `validate`). A refusal leaves the log's
//! head where it was. Every write carries a command id derived from what it
//! records, so running the same week twice appends nothing the second time
//! and gives the same plan.
//!
//! A run plans only half-terms that have not ended at its time (the
//! calendar's `open_half_terms`), within one academic year: the year of the
//! run's date, or the next configured year when that one has none left (the
//! summer holiday). Generated needs are kept only where they are configured
//! and fit the school's phase.
//! This module does not decide what a good match is (the worker does) and does
//! not publish (the NATS relay will).

use std::collections::BTreeMap;
use std::path::PathBuf;

use bridges_schemas::Problem;
use bridges_schemas::brokerage::{BrokeragePlan, BrokerageProblem};
use bridges_schemas::events::{
    AssignmentProposed, AvailabilityDeclared, ConflictDeclared, DomainEvent, MatchingRunCompleted,
    PractitionerRegistered, SchoolRegistered, SupportRequested,
};
use bridges_schemas::{Period, RequestId};
use bridges_worker::common::{SolveOptions, sha256_hex};
use bridges_worker::tools::brokerage_generate::{PERIODS as GENERATED_PERIODS, Spec};
use chrono::{DateTime, Utc};
use futures::future::try_join_all;
use uuid::Uuid;

use crate::book::Book;
use crate::config::calendar::london_date;
use crate::config::{AcademicYear, Calendar, Config, HalfTerm, IsoWeek};
use crate::log::{
    AppendOutcome, AppendRequest, EventLog, EventRef, ExpectedVersion, LogError, NewEvent,
    Position, Version,
};
use crate::projection::{Projection, Projector, RebuildCheck, check_rebuild};

/// Namespace of the deterministic event ids (UUID v5 of the command id).
const EVENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6272_6964_6765_7300_0000_0000_0000_0001);

/// What a weekly run is asked to do.
#[derive(Debug, Clone)]
pub struct WeeklyRequest {
    /// The ISO week; seeds the generated intake and names the run.
    pub week: IsoWeek,
    /// A GIAS-format CSV to take the LA's real schools from.
    pub gias: Option<PathBuf>,
    /// When the run happens (the domain never reads a clock).
    pub now: DateTime<Utc>,
}

/// What a weekly run did.
#[derive(Debug, Clone)]
pub struct WeeklyOutcome {
    pub week: String,
    pub run: String,
    /// The academic year planned, `2026/27`.
    pub year: String,
    pub problem: BrokerageProblem,
    pub plan: BrokeragePlan,
    pub greedy: BrokeragePlan,
    /// Generated requests left out: need not configured or not fitting the
    /// school's phase, or every day in a half-term that has ended.
    pub left_out: usize,
    /// Events this run appended (0 when the week was already recorded).
    pub appended: u64,
    pub head: Position,
    pub as_of: Position,
    pub rebuild_equal: bool,
}

/// Why a weekly run stopped.
#[derive(Debug, thiserror::Error)]
pub enum WeeklyError {
    #[error(transparent)]
    Log(#[from] LogError),
    /// The intake cannot be made: the GIAS file, the generator.
    #[error("generating the week's intake: {0}")]
    Intake(String),
    /// The problem the run would solve is refused by the worker's `validate`.
    #[error("the planning snapshot is not a valid problem: {0}")]
    Snapshot(String),
    /// Nothing to plan at the run's time in the configured calendar.
    #[error("week {week} ({date}): {reason}")]
    Calendar { week: String, date: chrono::NaiveDate, reason: String },
    #[error("solving: {0}")]
    Solve(String),
    #[error("stream {stream} is at version {actual}, not where this run expected")]
    Conflict { stream: String, actual: u64 },
}

impl WeeklyError {
    /// Whether the input (configuration, arguments, files given) is at
    /// fault, rather than the environment; `None` for a log error, which the
    /// log classifies.
    pub fn is_bad_input(&self) -> Option<bool> {
        match self {
            WeeklyError::Log(_) => None,
            WeeklyError::Intake(_) | WeeklyError::Snapshot(_) | WeeklyError::Calendar { .. } => {
                Some(true)
            }
            WeeklyError::Solve(_) | WeeklyError::Conflict { .. } => Some(false),
        }
    }
}

/// Runs one week: check, intake, snapshot, solve, record.
pub async fn run(
    log: &EventLog,
    config: &Config,
    request: &WeeklyRequest,
) -> Result<WeeklyOutcome, WeeklyError> {
    let head_before = log.head();
    let (year, open) = planned_half_terms(&config.calendar, request.week, request.now)?;
    let periods: Vec<Period> = open.iter().map(|h| h.label.clone()).collect();
    let policy = config.brokerage_policy();
    let (intake, left_out) = generate_intake(config, request, year, &periods)?;
    bridges_worker::brokerage::validate::validate(&intake)
        .map_err(|e| WeeklyError::Intake(e.to_string()))?;
    let appends = intake_appends(config.la_code, &intake, &request.week.to_string())
        .into_iter()
        .map(|(command_id, events)| prepare(command_id, &events))
        .collect::<Result<Vec<_>, _>>()?;

    // The problem this run will solve, before anything is written: the book
    // as the log has it, with the intake applied in memory.
    let mut book = Projector::<Book>::load(log)?;
    book.catch_up(log, crate::projection::DEFAULT_CHECKPOINT_EVERY).await?;
    let mut preview = book.state().clone();
    for append in &appends {
        for event in &append.events {
            apply_unwritten(&mut preview, &append.stream, event)?;
        }
    }
    let previewed = cut(&preview, &periods, &policy);
    bridges_worker::brokerage::validate::validate(&previewed)
        .map_err(|e| WeeklyError::Snapshot(e.to_string()))?;

    try_join_all(appends.into_iter().map(|a| append_once(log, a, request.now))).await?;

    book.catch_up(log, crate::projection::DEFAULT_CHECKPOINT_EVERY).await?;
    let as_of = book.position();
    let problem = cut(book.state(), &periods, &policy);
    // Checked again: a writer beside this one may have appended meanwhile.
    bridges_worker::brokerage::validate::validate(&problem)
        .map_err(|e| WeeklyError::Snapshot(e.to_string()))?;
    let document = serde_json::to_vec(&Problem::Brokerage(problem.clone()))
        .map_err(|e| WeeklyError::Snapshot(e.to_string()))?;
    let sha = sha256_hex(&document);
    let options = SolveOptions {
        time_limit: Some(config.solver.time_limit_seconds),
        mip_gap: Some(config.solver.mip_gap).filter(|g| *g > 0.0),
    };
    let (plan, greedy) = {
        let problem = problem.clone();
        let sha = sha.clone();
        tokio::task::spawn_blocking(move || {
            let plan = bridges_worker::brokerage::solve(&problem, &sha, &options)
                .map_err(|e| e.to_string())?;
            let greedy = bridges_worker::brokerage::greedy(&problem).map_err(|e| e.to_string())?;
            Ok::<_, String>((plan, greedy))
        })
        .await
        .map_err(|e| WeeklyError::Solve(e.to_string()))?
        .map_err(WeeklyError::Solve)?
    };

    let run = format!("{}-{}", request.week, &sha[..12]);
    let record = prepare(format!("run/{run}"), &run_events(&run, as_of, &plan))?;
    append_once(log, record, request.now).await?;
    book.catch_up(log, crate::projection::DEFAULT_CHECKPOINT_EVERY).await?;
    let rebuild_equal = matches!(check_rebuild(log, &book)?, RebuildCheck::Equal(_));
    let head = log.head();
    Ok(WeeklyOutcome {
        week: request.week.to_string(),
        run,
        year: year.label(),
        problem,
        plan,
        greedy,
        left_out,
        appended: head.0 - head_before.0,
        head,
        as_of,
        rebuild_equal,
    })
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

/// Renders the outcome for a broker: the plan's table and how the log stands.
pub fn render(outcome: &WeeklyOutcome, data_dir: &std::path::Path) -> String {
    let periods: Vec<&str> = outcome.problem.periods.iter().map(Period::as_str).collect();
    let mut text = format!(
        "Bridges weekly matching run {} (week {})\n\
         log: {} events in {}; snapshot as of position {}; this run appended {} events{}\n\
         plans the half-terms of {} not yet ended: {}\n",
        outcome.run,
        outcome.week,
        outcome.head.0,
        data_dir.display(),
        outcome.as_of.0,
        outcome.appended,
        if outcome.appended == 0 { " (week already recorded: same plan)" } else { "" },
        outcome.year,
        periods.join(", "),
    );
    if outcome.left_out > 0 {
        text.push_str(&format!(
            "{} generated requests left out (need not fitting the school's phase, or no day in a half-term still open)\n",
            outcome.left_out
        ));
    }
    text.push('\n');
    text.push_str(&bridges_worker::tools::report::table(
        &outcome.problem,
        &outcome.plan,
        &outcome.greedy,
    ));
    text.push_str(&format!(
        "\nproblem sha256 {}; projection rebuilt from zero {} the live one\n",
        outcome.plan.problem_sha256,
        if outcome.rebuild_equal { "equals" } else { "DIFFERS FROM" },
    ));
    text
}

/// The planning snapshot over `periods`: the book's, less requests that ask
/// for no day in them (they can neither be met nor be unmet).
fn cut(
    book: &Book,
    periods: &[Period],
    policy: &bridges_schemas::brokerage::BrokeragePolicy,
) -> BrokerageProblem {
    let mut problem = book.snapshot(periods, policy);
    problem.requests.retain(|r| r.days.values().any(|d| *d > 0.0));
    problem
}

/// The week's intake as the generator makes it, fitted to the run: the LA's
/// schools (real ones from GIAS when given), its practitioners and their
/// availability, conflicts, and the week's support requests (ids prefixed
/// with the week). The generator's six half-terms become `year`'s, days in
/// half-terms that are not `open` are dropped, and a request whose need is
/// not configured or does not fit its school's phase is left out (the
/// generator draws needs without regard to phase). Returns the intake and
/// how many generated requests were left out.
fn generate_intake(
    config: &Config,
    request: &WeeklyRequest,
    year: &AcademicYear,
    open: &[Period],
) -> Result<(BrokerageProblem, usize), WeeklyError> {
    let week = request.week.to_string();
    let seed = week
        .bytes()
        .fold(u64::from(config.la_code), |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let spec = Spec {
        schools: config.weekly.schools,
        practitioners: config.weekly.practitioners,
        requests: config.weekly.requests,
        seed,
        gias: request.gias.clone(),
        la: request.gias.as_ref().map(|_| config.la_code),
        single_practitioner: config.policy.brokerage.single_practitioner,
    };
    let mut problem = bridges_worker::tools::brokerage_generate::generate(&spec)
        .map_err(|e| WeeklyError::Intake(one_line(e.chain())))?;
    // Generated half-term i is the run's year's half-term i, if still open.
    let relabel: BTreeMap<Period, Period> = GENERATED_PERIODS
        .iter()
        .zip(&year.half_terms)
        .filter(|(_, h)| open.contains(&h.label))
        .map(|(g, h)| (Period::from(*g), h.label.clone()))
        .collect();
    let refit = |days: &mut bridges_schemas::brokerage::DaysByPeriod| {
        *days = days.iter().filter_map(|(p, d)| Some((relabel.get(p)?.clone(), *d))).collect();
    };
    for p in &mut problem.practitioners {
        refit(&mut p.capacity);
        p.specialisms.retain(|s| config.need(s).is_some());
    }
    let phases: BTreeMap<_, _> = problem.schools.iter().map(|s| (s.urn, s.phase)).collect();
    let generated = problem.requests.len();
    problem.requests.retain_mut(|r| {
        refit(&mut r.days);
        let fits = phases.get(&r.urn).is_some_and(|phase| config.need_fits(&r.need, *phase));
        fits && r.days.values().any(|d| *d > 0.0)
    });
    let left_out = generated - problem.requests.len();
    for r in &mut problem.requests {
        r.id = RequestId(format!("{week}-{}", r.id));
    }
    // Pins are the broker's agreements, not intake: none is recorded.
    problem.pinned.clear();
    problem.periods = open.to_vec();
    problem.policy = config.brokerage_policy();
    Ok((problem, left_out))
}

/// The intake as appends, one per entity: (command id, events).
fn intake_appends(
    la_code: u16,
    intake: &BrokerageProblem,
    week: &str,
) -> Vec<(String, Vec<DomainEvent>)> {
    let mut appends: Vec<(String, Vec<DomainEvent>)> = Vec::new();
    for s in &intake.schools {
        appends.push((
            format!("intake/school-{}", s.urn),
            vec![DomainEvent::SchoolRegistered(SchoolRegistered {
                urn: s.urn,
                name: s.name.clone().unwrap_or_else(|| format!("School {}", s.urn)),
                la_code,
                phase: s.phase,
                trust: s.trust.clone(),
                easting: s.easting,
                northing: s.northing,
            })],
        ));
    }
    for p in &intake.practitioners {
        let capacity = whole_days(&p.capacity);
        appends.push((
            format!("intake/{week}/practitioner-{}", p.id),
            vec![
                DomainEvent::PractitionerRegistered(PractitionerRegistered {
                    practitioner: p.id.clone(),
                    designation: p.designation,
                    home_urn: p.home_urn,
                    specialisms: p.specialisms.clone(),
                    phases: p.phases.clone(),
                    day_rate: p.day_rate.round() as u32,
                }),
                DomainEvent::AvailabilityDeclared(AvailabilityDeclared {
                    practitioner: p.id.clone(),
                    capacity,
                    max_days: p.max_days.map(|d| d.round() as u32),
                }),
            ],
        ));
    }
    for c in &intake.conflicts {
        appends.push((
            format!("intake/conflict-{}-{}", c.practitioner, c.urn),
            vec![DomainEvent::ConflictDeclared(ConflictDeclared {
                practitioner: c.practitioner.clone(),
                urn: c.urn,
                reason: "declared by the practitioner".to_owned(),
            })],
        ));
    }
    for r in &intake.requests {
        appends.push((
            format!("intake/{}", r.id),
            vec![DomainEvent::SupportRequested(SupportRequested {
                request: r.id.clone(),
                urn: r.urn,
                need: r.need.clone(),
                designations: r.designations.clone(),
                priority: r.priority.clamp(1, 4) as u8,
                days: whole_days(&r.days),
                previous_practitioner: r.previous_practitioner.clone(),
            })],
        ));
    }
    appends
}

/// One append, its events built and validated, not yet written.
struct Prepared {
    command_id: String,
    stream: String,
    events: Vec<NewEvent>,
}

/// Builds and validates `events` for the first event's conventional stream
/// under `command_id` (ids derived from it).
fn prepare(command_id: String, events: &[DomainEvent]) -> Result<Prepared, WeeklyError> {
    let stream = events.first().map(DomainEvent::stream).unwrap_or_default();
    let events = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let id = Uuid::new_v5(&EVENT_ID_NAMESPACE, format!("{command_id}#{i}").as_bytes());
            NewEvent::from_domain(e, id)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Prepared { command_id, stream, events })
}

/// Folds an event not yet written into `book`, as replay would (position,
/// version and hash are placeholders: the book reads none of them).
fn apply_unwritten(book: &mut Book, stream: &str, event: &NewEvent) -> Result<(), WeeklyError> {
    let payload = serde_json::to_vec(&event.payload)
        .map_err(|e| WeeklyError::Snapshot(format!("event {}: {e}", event.type_name)))?;
    book.apply(&EventRef {
        position: Position(0),
        stream,
        version: Version(0),
        event_id: *event.event_id.as_bytes(),
        type_name: &event.type_name,
        type_version: event.type_version,
        recorded_at_micros: 0,
        command_id: None,
        payload: &payload,
        hash: &[0; 32],
    });
    Ok(())
}

/// The run and its proposals, recorded in the run's own stream.
fn run_events(run: &str, as_of: Position, plan: &BrokeragePlan) -> Vec<DomainEvent> {
    let mut events = vec![DomainEvent::MatchingRunCompleted(MatchingRunCompleted {
        run: run.to_owned(),
        as_of_position: as_of.0,
        problem_sha256: plan.problem_sha256.clone(),
        status: plan.status,
        objective: plan.objective,
        bound: plan.bound,
        gap: plan.gap,
        seconds: plan.seconds,
        assignments: plan.assignments.len() as u32,
        unmet: plan.unmet.len() as u32,
    })];
    for (i, a) in plan.assignments.iter().enumerate() {
        events.push(DomainEvent::AssignmentProposed(AssignmentProposed {
            assignment: format!("{run}-a{}", i + 1),
            run: run.to_owned(),
            request: a.request.clone(),
            practitioner: a.practitioner.clone(),
            days: a.days.clone(),
        }));
    }
    events
}

/// Appends a prepared append; a command seen before appends nothing.
async fn append_once(
    log: &EventLog,
    prepared: Prepared,
    now: DateTime<Utc>,
) -> Result<(), WeeklyError> {
    let Prepared { command_id, stream, events } = prepared;
    let outcome = log
        .append(AppendRequest {
            stream: stream.clone(),
            expected: ExpectedVersion::Any,
            events,
            command_id: Some(command_id),
            recorded_at: now,
        })
        .await?;
    match outcome {
        AppendOutcome::Appended { .. } => Ok(()),
        AppendOutcome::Conflict { actual, .. } => {
            Err(WeeklyError::Conflict { stream, actual: actual.0 })
        }
    }
}

fn whole_days(
    days: &std::collections::BTreeMap<Period, f64>,
) -> bridges_schemas::events::DaysPerPeriod {
    days.iter().map(|(p, d)| (p.clone(), d.max(0.0).round() as u32)).collect()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::config::calendar::monday_morning;

    fn config() -> Config {
        Config::built_in().expect("built-in config")
    }

    fn week(text: &str) -> IsoWeek {
        IsoWeek::parse(text).expect("test week")
    }

    fn planned(config: &Config, text: &str) -> Result<(String, Vec<String>), WeeklyError> {
        let w = week(text);
        let (year, open) = planned_half_terms(&config.calendar, w, monday_morning(w))?;
        Ok((year.label(), open.iter().map(|h| h.label.0.clone()).collect()))
    }

    #[test]
    fn given_a_week_in_term_then_the_run_plans_the_half_terms_of_its_year_not_yet_ended() {
        let c = config();
        let (year, open) = planned(&c, "2026-W48").expect("planned");
        assert_eq!(year, "2026/27");
        assert_eq!(open, ["2026-AU2", "2027-SP1", "2027-SP2", "2027-SU1", "2027-SU2"]);
        // The Monday after a half-term's last Friday: that half-term has ended.
        let (_, open) = planned(&c, "2027-W08").expect("planned");
        assert_eq!(open.first().map(String::as_str), Some("2027-SP2"));
        // The last week of the year's last half-term.
        let (_, open) = planned(&c, "2027-W28").expect("planned");
        assert_eq!(open, ["2027-SU2"]);
    }

    #[test]
    fn given_a_summer_holiday_week_then_the_run_plans_the_next_year_whole() {
        let (year, open) = planned(&config(), "2026-W33").expect("planned");
        assert_eq!(year, "2026/27");
        assert_eq!(open.len(), 6);
    }

    #[test]
    fn given_a_week_outside_the_calendar_then_nothing_is_planned() {
        let c = config();
        for text in ["2025-W30", "2030-W10", "2028-W31"] {
            let err = planned(&c, text).expect_err("refused");
            assert!(matches!(err, WeeklyError::Calendar { .. }), "{text}: {err}");
            assert_eq!(err.is_bad_input(), Some(true));
        }
    }

    #[test]
    fn given_a_generated_intake_then_needs_fit_phases_and_ended_half_terms_are_gone() {
        let c = config();
        let w = week("2027-W08");
        let now = monday_morning(w);
        let (year, open) = planned_half_terms(&c.calendar, w, now).expect("planned");
        let periods: Vec<Period> = open.iter().map(|h| h.label.clone()).collect();
        let request = WeeklyRequest { week: w, gias: None, now };
        let (intake, left_out) = generate_intake(&c, &request, year, &periods).expect("intake");
        assert!(left_out > 0, "some generated requests fall in ended half-terms");
        assert_eq!(intake.periods, periods);
        bridges_worker::brokerage::validate::validate(&intake).expect("a valid problem");
        let phase = |urn| intake.schools.iter().find(|s| s.urn == urn).map(|s| s.phase);
        for r in &intake.requests {
            let p = phase(r.urn).expect("school");
            assert!(c.need_fits(&r.need, p), "{} asks {} of a {} school", r.id, r.need, p);
            assert!(r.days.keys().all(|k| periods.contains(k)), "{}: {:?}", r.id, r.days);
            assert!(r.id.as_str().starts_with("2027-W08-"));
        }
        for p in &intake.practitioners {
            assert!(p.capacity.keys().all(|k| periods.contains(k)), "{}", p.id);
        }
        assert_eq!(london_date(now), NaiveDate::from_ymd_opt(2027, 2, 22).expect("date"));
    }
}
