//! The weekly matching run, on the embedded default (solver in process, no
//! NATS): take the week's intake through the command handler, run the
//! matching (`matching::run`: expiries, snapshot, solve, record through
//! `handle`), and render what a broker reads.
//!
//! Everything that can be checked is checked before the first append: the
//! week against the calendar (the shell), the intake's commands and the
//! problem they would lead to (a dry run of the intake on a copy of the
//! state, cut and validated as the run will cut it). Every command carries
//! an id derived from what it records, and the run's id is the week, so
//! running the same week twice appends nothing the second time.
//! (INTERIM: the intake comes from the worker's generator; the demo's CSVs
//! and the imports replace it.)

use std::collections::BTreeMap;
use std::path::PathBuf;

use bridges_schemas::brokerage::{BrokeragePlan, BrokerageProblem};
use bridges_schemas::commands::{
    Command, CommandEnvelope, DeclareAvailability, DeclareConflict, DesignatePractitioner,
    RaiseRequest, RegisterSchool,
};
use bridges_schemas::vocab::{ConflictKind, FundingSource, RunId, RunTrigger, TierChoice, UserId};
use bridges_schemas::{Period, RequestId};
use bridges_worker::common::SolveOptions;
use bridges_worker::tools::brokerage_generate::{PERIODS as GENERATED_PERIODS, Spec};
use chrono::{DateTime, Utc};

use crate::config::calendar::london_date;
use crate::config::{AcademicYear, Calendar, Config, HalfTerm, IsoWeek};
use crate::handle::{Engine, HandleError, Outcome};
use crate::log::Position;
use crate::matching::{self, MatchError, MatchRequest};

/// What a weekly run is asked to do.
#[derive(Debug, Clone)]
pub struct WeeklyRequest {
    /// The ISO week; it names the run and seeds the generated intake.
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
    pub run: RunId,
    /// The problem and plan solved now; none when the week was recorded before.
    pub solved: Option<(BrokerageProblem, BrokeragePlan)>,
    /// The report of the recorded run.
    pub report: String,
    /// Events this run appended (0 when the week was already recorded).
    pub appended: u64,
    pub head: Position,
    pub as_of: Position,
    pub rebuild_equal: bool,
    /// The academic year planned (`2026/27`) and its half-terms not yet ended.
    pub year: String,
    pub periods: Vec<Period>,
    /// Generated requests left out (a need that does not fit the school's
    /// phase, or days only in half-terms that have ended).
    pub left_out: usize,
    /// Intake commands refused.
    pub refused: Vec<String>,
}

/// Why a weekly run stopped.
#[derive(Debug, thiserror::Error)]
pub enum WeeklyError {
    #[error(transparent)]
    Handle(#[from] HandleError),
    #[error(transparent)]
    Match(#[from] MatchError),
    /// The intake cannot be made: the GIAS file, the generator.
    #[error("generating the week's intake: {0}")]
    Intake(String),
    /// The problem the run would solve is refused by the worker's `validate`.
    #[error("the planning snapshot is not a valid problem: {0}")]
    Snapshot(String),
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
            WeeklyError::Intake(_) | WeeklyError::Snapshot(_) | WeeklyError::Calendar { .. } => {
                Some(true)
            }
        }
    }
}

/// Runs one week: intake, then a matching run.
pub async fn run(
    engine: &Engine,
    config: &Config,
    request: &WeeklyRequest,
) -> Result<WeeklyOutcome, WeeklyError> {
    let head_before = engine.log().head();
    let (year, open) = planned_half_terms(&config.calendar, request.week, request.now)?;
    let periods: Vec<Period> = open.iter().map(|h| h.label.clone()).collect();
    let (generated, left_out) = generate_intake(config, request, year, &periods)?;
    let intake = commands(config, request, &generated);
    // Everything checked before the first append: what the intake would
    // lead to, cut as the run will cut it.
    let (dry, rejected) = engine.dry_run(&intake).await?;
    if let Some((id, r)) = rejected.first() {
        return Err(WeeklyError::Intake(format!(
            "{} of the intake's commands would be refused, the first {id}: {r}",
            rejected.len()
        )));
    }
    let problem = crate::planning::snapshot(&dry, engine.rules(), request.now).problem;
    bridges_worker::brokerage::validate::validate(&problem)
        .map_err(|e| WeeklyError::Snapshot(e.to_string()))?;
    let mut refused = Vec::new();
    for envelope in &intake {
        if let Outcome::Rejected(r) = engine.handle(envelope).await? {
            refused.push(format!("{}: {r}", envelope.id));
        }
    }
    let run = RunId(request.week.to_string());
    let outcome = matching::run(
        engine,
        &MatchRequest {
            run: Some(run.clone()),
            label: request.week.to_string(),
            at: request.now,
            actor: UserId("weekly".into()),
            trigger: RunTrigger::Scheduled,
            options: SolveOptions {
                time_limit: Some(config.solver.time_limit_seconds),
                mip_gap: Some(config.solver.mip_gap).filter(|g| *g > 0.0),
            },
        },
    )
    .await?;
    let head = engine.log().head();
    let report = engine.read(|s| crate::render::run_report(s, &run)).await?;
    let as_of = engine
        .read(|s| s.runs.get(&run).and_then(|r| r.started.as_ref()).map(|st| st.as_of_position))
        .await?
        .unwrap_or(0);
    let rebuild_equal = engine.rebuild_equals_live().await?;
    Ok(WeeklyOutcome {
        week: request.week.to_string(),
        run,
        solved: outcome.map(|o| (o.problem, o.plan)),
        report,
        appended: head.0 - head_before.0,
        head,
        as_of: Position(as_of),
        rebuild_equal,
        year: year.label(),
        periods: periods.clone(),
        left_out,
        refused,
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

/// Renders the outcome for a broker: the recorded run's report and how the log stands.
pub fn render(outcome: &WeeklyOutcome, data_dir: &std::path::Path) -> String {
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
    text.push_str(&format!(
        "the run plans the half-terms of {} not yet ended: {}\n",
        outcome.year,
        labels.join(", ")
    ));
    if outcome.left_out > 0 {
        text.push_str(&format!(
            "{} generated requests left out (need not fitting the school's phase, or days only in ended half-terms)\n",
            outcome.left_out
        ));
    }
    text.push('\n');
    text.push_str(&outcome.report);
    text.push_str(&format!(
        "\ndomain state rebuilt from zero {} the live one\n",
        if outcome.rebuild_equal { "equals" } else { "DIFFERS FROM" }
    ));
    text
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

/// The generated intake as the commands a user's imports would send.
fn commands(
    config: &Config,
    request: &WeeklyRequest,
    problem: &BrokerageProblem,
) -> Vec<CommandEnvelope> {
    let week = request.week.to_string();
    let actor = UserId("weekly".into());
    let at = request.now;
    let whole = |days: &BTreeMap<Period, f64>| {
        days.iter()
            .map(|(k, d)| (k.clone(), d.max(0.0).round() as u32))
            .filter(|(_, d)| *d > 0)
            .collect::<bridges_schemas::events::DaysPerPeriod>()
    };
    let envelope =
        |id: String, command: Command| CommandEnvelope { id, actor: actor.clone(), at, command };
    let mut out = Vec::new();
    for s in &problem.schools {
        out.push(envelope(
            format!("school-{}", s.urn),
            Command::RegisterSchool(RegisterSchool {
                urn: s.urn,
                name: s.name.clone().unwrap_or_else(|| format!("School {}", s.urn)),
                la_code: config.la_code,
                phase: s.phase,
                trust: s.trust.clone(),
                easting: s.easting,
                northing: s.northing,
                pupils: None,
            }),
        ));
    }
    for (i, p) in problem.practitioners.iter().enumerate() {
        out.push(envelope(
            format!("designate-{}", p.id),
            Command::DesignatePractitioner(DesignatePractitioner {
                practitioner: p.id.clone(),
                title: p.designation.clone(),
                home_urn: p.home_urn,
                specialisms: p.specialisms.clone(),
                phases: p.phases.clone(),
                day_rate: Some(p.day_rate.round() as u32),
                name: demo_name(i),
                email: Some(format!("{}@schools.example.org", p.id)),
                phone: None,
            }),
        ));
        let capacity = whole(&p.capacity);
        if !capacity.is_empty() {
            out.push(envelope(
                format!("{week}-availability-{}", p.id),
                Command::DeclareAvailability(DeclareAvailability {
                    practitioner: p.id.clone(),
                    capacity,
                    max_days: p.max_days.map(|d| d.round() as u32),
                }),
            ));
        }
    }
    for c in &problem.conflicts {
        out.push(envelope(
            format!("conflict-{}-{}", c.practitioner, c.urn),
            Command::DeclareConflict(DeclareConflict {
                practitioner: c.practitioner.clone(),
                urn: Some(c.urn),
                trust: None,
                kind: ConflictKind::Other,
                valid_from: None,
                valid_to: None,
            }),
        ));
    }
    for r in &problem.requests {
        out.push(envelope(
            format!("raise-{}", r.id),
            Command::RaiseRequest(RaiseRequest {
                request: r.id.clone(),
                urn: r.urn,
                need: r.need.clone(),
                designations: r.designations.clone(),
                tier: TierChoice::of(r.priority.clamp(1, 4) as u8).unwrap_or(TierChoice::Tier4),
                days: whole(&r.days),
                funding: FundingSource::LaCore,
                purchase_order: None,
            }),
        ));
    }
    out
}

fn demo_name(i: usize) -> String {
    const FIRST: [&str; 8] = ["Amara", "Ben", "Chloe", "Dev", "Ella", "Farid", "Grace", "Harpreet"];
    const LAST: [&str; 8] =
        ["Okafor", "Hughes", "Patel", "Nowak", "Singh", "Walsh", "Ahmed", "Clarke"];
    format!("{} {}", FIRST[i % 8], LAST[(i / 8) % 8])
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
