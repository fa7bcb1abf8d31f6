//! The weekly matching run, on the embedded default (solver in process, no
//! NATS): take the week's intake through the command handler, run the
//! matching (`matching::run`: expiries, snapshot, solve, record through
//! `handle`), and render what a broker reads.
//!
//! Every command carries an id derived from what it records, so running the
//! same week twice appends nothing the second time and gives the same plan.
//! (INTERIM: the intake comes from the worker's generator; the demo's CSVs
//! and the imports replace it.)

use std::path::PathBuf;

use bridges_schemas::RequestId;
use bridges_schemas::brokerage::{BrokeragePlan, BrokerageProblem};
use bridges_schemas::commands::{
    Command, CommandEnvelope, DeclareAvailability, DeclareConflict, DesignatePractitioner,
    RaiseRequest, RegisterSchool,
};
use bridges_schemas::vocab::{ConflictKind, FundingSource, RunId, RunTrigger, TierChoice, UserId};
use bridges_worker::common::SolveOptions;
use bridges_worker::tools::brokerage_generate::Spec;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};

use crate::config::Config;
use crate::handle::{Engine, HandleError, Outcome};
use crate::log::Position;
use crate::matching::{self, MatchError, MatchRequest};

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
    /// Intake commands refused (a generated need that does not fit, say).
    pub refused: Vec<String>,
}

/// Why a weekly run stopped.
#[derive(Debug, thiserror::Error)]
pub enum WeeklyError {
    #[error(transparent)]
    Handle(#[from] HandleError),
    #[error(transparent)]
    Match(#[from] MatchError),
    #[error("generating the week's intake: {0}")]
    Intake(String),
}

/// Runs one week: intake, then a matching run.
pub async fn run(
    engine: &Engine,
    config: &Config,
    request: &WeeklyRequest,
) -> Result<WeeklyOutcome, WeeklyError> {
    let head_before = engine.log().head();
    let mut refused = Vec::new();
    for envelope in intake(config, request)? {
        if let Outcome::Rejected(r) = engine.handle(&envelope).await? {
            refused.push(format!("{}: {r}", envelope.id));
        }
    }
    let outcome = matching::run(
        engine,
        &MatchRequest {
            run: Some(RunId(request.week.clone())),
            label: request.week.clone(),
            at: request.now,
            actor: UserId("weekly".into()),
            trigger: RunTrigger::Scheduled,
            options: SolveOptions {
                time_limit: Some(config.solver_time_limit_seconds),
                mip_gap: Some(config.solver_mip_gap).filter(|g| *g > 0.0),
            },
        },
    )
    .await?;
    let head = engine.log().head();
    let run = RunId(request.week.clone());
    let report = engine.read(|s| crate::render::run_report(s, &run)).await?;
    let as_of = engine
        .read(|s| s.runs.get(&run).and_then(|r| r.started.as_ref()).map(|st| st.as_of_position))
        .await?
        .unwrap_or(0);
    let rebuild_equal = engine.rebuild_equals_live().await?;
    Ok(WeeklyOutcome {
        rebuild_equal,
        week: request.week.clone(),
        run,
        solved: outcome.map(|o| (o.problem, o.plan)),
        report,
        appended: head.0 - head_before.0,
        head,
        as_of: Position(as_of),
        refused,
    })
}

/// The ISO week label of a moment, `2026-W48`.
pub fn week_of(now: DateTime<Utc>) -> String {
    let week = now.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

/// Monday 09:00 UTC of an ISO week label, if it is one.
pub fn monday_of(week: &str) -> Option<DateTime<Utc>> {
    let (y, w) = week.split_once("-W")?;
    let date = NaiveDate::from_isoywd_opt(y.parse().ok()?, w.parse().ok()?, chrono::Weekday::Mon)?;
    Utc.from_local_datetime(&date.and_hms_opt(9, 0, 0)?).single()
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
    text.push_str(&outcome.report);
    text.push_str(&format!(
        "\ndomain state rebuilt from zero {} the live one\n",
        if outcome.rebuild_equal { "equals" } else { "DIFFERS FROM" }
    ));
    text
}

/// The week's intake as commands: the LA's schools (real ones from GIAS when
/// given), its practitioners, their availability and conflicts, and the
/// week's requests (ids prefixed with the week).
fn intake(config: &Config, request: &WeeklyRequest) -> Result<Vec<CommandEnvelope>, WeeklyError> {
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
    let problem = bridges_worker::tools::brokerage_generate::generate(&spec)
        .map_err(|e| WeeklyError::Intake(format!("{e:#}")))?;
    let actor = UserId("weekly".into());
    let at = request.now;
    // Generated days in half-terms that have ended at the run are dropped
    // (a user's spreadsheet would not ask for them).
    let cal = crate::rules::rules(config).calendar;
    let live = |days: &std::collections::BTreeMap<bridges_schemas::Period, f64>| {
        days.iter()
            .filter(|(k, _)| !cal.has_ended(k, at.date_naive()))
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
        out.push(envelope(
            format!("{}-availability-{}", request.week, p.id),
            Command::DeclareAvailability(DeclareAvailability {
                practitioner: p.id.clone(),
                capacity: live(&p.capacity),
                max_days: p.max_days.map(|d| d.round() as u32),
            }),
        ));
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
        let days = live(&r.days);
        if days.is_empty() {
            continue;
        }
        let id = RequestId(format!("{}-{}", request.week, r.id));
        out.push(envelope(
            format!("raise-{id}"),
            Command::RaiseRequest(RaiseRequest {
                request: id,
                urn: r.urn,
                need: r.need.clone(),
                designations: r.designations.clone(),
                tier: TierChoice::of(r.priority.clamp(1, 4) as u8).unwrap_or(TierChoice::Tier4),
                days,
                funding: FundingSource::LaCore,
                purchase_order: None,
            }),
        ));
    }
    Ok(out)
}

fn demo_name(i: usize) -> String {
    const FIRST: [&str; 8] = ["Amara", "Ben", "Chloe", "Dev", "Ella", "Farid", "Grace", "Harpreet"];
    const LAST: [&str; 8] =
        ["Okafor", "Hughes", "Patel", "Nowak", "Singh", "Walsh", "Ahmed", "Clarke"];
    format!("{} {}", FIRST[i % 8], LAST[(i / 8) % 8])
}
