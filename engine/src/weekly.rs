//! The weekly matching run, on the embedded default (solver in process, no
//! NATS): take the week's intake into the log, cut the planning snapshot from
//! the log, solve it, record the run and its proposals as events, and render
//! what a broker reads.
//!
//! Every write carries a command id derived from what it records, so running
//! the same week twice appends nothing the second time and gives the same plan.
//! This module does not decide what a good match is (the worker does) and does
//! not publish (the NATS relay will).

use std::path::PathBuf;

use bridges_schemas::Problem;
use bridges_schemas::brokerage::{BrokeragePlan, BrokerageProblem};
use bridges_schemas::events::{
    AssignmentProposed, AvailabilityDeclared, ConflictDeclared, DomainEvent, MatchingRunCompleted,
    PractitionerRegistered, SchoolRegistered, SupportRequested,
};
use bridges_schemas::{Period, RequestId};
use bridges_worker::common::{SolveOptions, sha256_hex};
use bridges_worker::tools::brokerage_generate::Spec;
use chrono::{DateTime, Utc};
use futures::future::try_join_all;
use uuid::Uuid;

use crate::book::Book;
use crate::config::Config;
use crate::log::{
    AppendOutcome, AppendRequest, EventLog, ExpectedVersion, LogError, NewEvent, Position,
};
use crate::projection::{Projector, RebuildCheck, check_rebuild};

/// Namespace of the deterministic event ids (UUID v5 of the command id).
const EVENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6272_6964_6765_7300_0000_0000_0000_0001);

/// What a weekly run is asked to do.
#[derive(Debug, Clone)]
pub struct WeeklyRequest {
    /// ISO week label, for example `2026-W48`; seeds the generated intake.
    pub week: String,
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
    pub problem: BrokerageProblem,
    pub plan: BrokeragePlan,
    pub greedy: BrokeragePlan,
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
    #[error("generating the week's intake: {0}")]
    Intake(String),
    #[error("the planning snapshot is not a valid problem: {0}")]
    Snapshot(String),
    #[error("solving: {0}")]
    Solve(String),
    #[error("stream {stream} is at version {actual}, not where this run expected")]
    Conflict { stream: String, actual: u64 },
}

/// Runs one week: intake, snapshot, solve, record.
pub async fn run(
    log: &EventLog,
    config: &Config,
    request: &WeeklyRequest,
) -> Result<WeeklyOutcome, WeeklyError> {
    let head_before = log.head();
    let intake = generate_intake(config, request)?;
    record_intake(log, config.la_code, &intake, &request.week, request.now).await?;

    let mut book = Projector::<Book>::load(log)?;
    book.catch_up(log, crate::projection::DEFAULT_CHECKPOINT_EVERY).await?;
    let as_of = book.position();
    let problem = book.state().snapshot(&config.periods, &config.brokerage_policy);
    let document = serde_json::to_vec(&Problem::Brokerage(problem.clone()))
        .map_err(|e| WeeklyError::Snapshot(e.to_string()))?;
    let sha = sha256_hex(&document);
    let options = SolveOptions {
        time_limit: Some(config.solver_time_limit_seconds),
        mip_gap: Some(config.solver_mip_gap).filter(|g| *g > 0.0),
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
    record_run(log, &run, as_of, &plan, request.now).await?;
    book.catch_up(log, crate::projection::DEFAULT_CHECKPOINT_EVERY).await?;
    let rebuild_equal = matches!(check_rebuild(log, &book)?, RebuildCheck::Equal(_));
    let head = log.head();
    Ok(WeeklyOutcome {
        week: request.week.clone(),
        run,
        problem,
        plan,
        greedy,
        appended: head.0 - head_before.0,
        head,
        as_of,
        rebuild_equal,
    })
}

/// The ISO week label of a moment, `2026-W48`.
pub fn week_of(now: DateTime<Utc>) -> String {
    use chrono::Datelike;
    let week = now.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

/// Renders the outcome for a broker: the plan's table and how the log stands.
pub fn render(outcome: &WeeklyOutcome, data_dir: &std::path::Path) -> String {
    let mut text = format!(
        "Bridges weekly matching run {} (week {})\n\
         log: {} events in {}; snapshot as of position {}; this run appended {} events{}\n\n",
        outcome.run,
        outcome.week,
        outcome.head.0,
        data_dir.display(),
        outcome.as_of.0,
        outcome.appended,
        if outcome.appended == 0 { " (week already recorded: same plan)" } else { "" },
    );
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

/// The week's intake as the generator makes it: the LA's schools (real ones
/// from GIAS when given), its practitioners and their availability, conflicts,
/// and the week's support requests (ids prefixed with the week).
fn generate_intake(
    config: &Config,
    request: &WeeklyRequest,
) -> Result<BrokerageProblem, WeeklyError> {
    let seed = request
        .week
        .bytes()
        .fold(u64::from(config.la_code), |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let spec = Spec {
        schools: config.weekly.schools,
        practitioners: config.weekly.practitioners,
        requests: config.weekly.requests,
        seed,
        gias: request.gias.clone(),
        la: request.gias.as_ref().map(|_| config.la_code),
        single_practitioner: config.brokerage_policy.single_practitioner,
    };
    let mut problem = bridges_worker::tools::brokerage_generate::generate(&spec)
        .map_err(|e| WeeklyError::Intake(format!("{e:#}")))?;
    for r in &mut problem.requests {
        r.id = RequestId(format!("{}-{}", request.week, r.id));
    }
    Ok(problem)
}

/// Records the intake, one idempotent append per entity, concurrently (the
/// log's group commit makes them one durable write or a few).
async fn record_intake(
    log: &EventLog,
    la_code: u16,
    intake: &BrokerageProblem,
    week: &str,
    now: DateTime<Utc>,
) -> Result<(), WeeklyError> {
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
                    designation: p.designation.clone(),
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
    let writes =
        appends.into_iter().map(|(command_id, events)| append_once(log, command_id, events, now));
    try_join_all(writes).await?;
    Ok(())
}

/// Records the run and its proposals in the run's own stream, once.
async fn record_run(
    log: &EventLog,
    run: &str,
    as_of: Position,
    plan: &BrokeragePlan,
    now: DateTime<Utc>,
) -> Result<(), WeeklyError> {
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
    append_once(log, format!("run/{run}"), events, now).await
}

/// Appends `events` to the first event's conventional stream under
/// `command_id`; a command seen before appends nothing.
async fn append_once(
    log: &EventLog,
    command_id: String,
    events: Vec<DomainEvent>,
    now: DateTime<Utc>,
) -> Result<(), WeeklyError> {
    let stream = events.first().map(DomainEvent::stream).unwrap_or_default();
    let events = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let id = Uuid::new_v5(&EVENT_ID_NAMESPACE, format!("{command_id}#{i}").as_bytes());
            NewEvent::from_domain(e, id)
        })
        .collect::<Result<Vec<_>, _>>()?;
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
