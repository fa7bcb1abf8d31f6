//! A matching run on the embedded default: record the expiry of overdue
//! proposals, cut the planning snapshot, solve it in process (the worker's
//! solving API in `spawn_blocking`), solve the greedy broker-by-hand baseline
//! beside it, and record the plan through `handle` (which keeps what still
//! holds), timing each stage. The distributed path sends the same problem
//! over NATS instead.

use std::time::{Duration, Instant};

use bridges_schemas::Problem;
use bridges_schemas::brokerage::{BrokeragePlan, BrokerageProblem};
use bridges_schemas::commands::{Command, CommandEnvelope, RecordRun};
use bridges_schemas::vocab::{RunId, RunTrigger, UserId};
use bridges_worker::common::{SolveOptions, sha256_hex};
use chrono::{DateTime, Utc};

use crate::handle::{Engine, HandleError, Outcome};
use crate::log::Position;
use crate::planning;

/// What a run is asked to do.
#[derive(Debug, Clone)]
pub struct MatchRequest {
    /// The run's id (`2026-W48` for a scheduled week), or none for one
    /// named by the time and the problem's hash.
    pub run: Option<RunId>,
    /// A label a run without an id gets (`2026-12-01T0930`).
    pub label: String,
    pub at: DateTime<Utc>,
    pub actor: UserId,
    pub trigger: RunTrigger,
    pub options: SolveOptions,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct MatchOutcome {
    pub run: RunId,
    pub as_of: Position,
    pub problem: BrokerageProblem,
    pub problem_sha256: String,
    pub plan: BrokeragePlan,
    pub greedy: BrokeragePlan,
    pub requested: [u32; 4],
    /// How the record went (a rerun of the same problem is a duplicate).
    pub recorded: Outcome,
    /// Proposals expired before the snapshot.
    pub expired: u64,
    /// Where the run's time went.
    pub timings: MatchTimings,
}

/// Wall-clock time of a run's stages.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MatchTimings {
    /// Recording the expiry of overdue proposals.
    pub expire: Duration,
    /// Cutting the snapshot, and the problem's document and hash.
    pub snapshot: Duration,
    /// The solve, then the greedy baseline.
    pub solve: Duration,
    pub greedy: Duration,
    /// Recording the plan through `handle`.
    pub record: Duration,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error(transparent)]
    Handle(#[from] HandleError),
    #[error("the planning snapshot is not a valid problem: {0}")]
    Snapshot(String),
    #[error("solving: {0}")]
    Solve(String),
}

/// Runs one matching run now. A run whose id is already recorded is not
/// solved again (`recorded` is then `Duplicate`, and the plans are empty).
pub async fn run(
    engine: &Engine,
    request: &MatchRequest,
) -> Result<Option<MatchOutcome>, MatchError> {
    if let Some(id) = &request.run
        && engine.read(|s| s.runs.contains_key(id)).await?
    {
        return Ok(None);
    }
    let mut timings = MatchTimings::default();
    let started = Instant::now();
    let expired = engine.expire_overdue(request.at).await?;
    timings.expire = started.elapsed();
    let started = Instant::now();
    let as_of = engine.position().await;
    let snapshot = engine.read(|s| planning::snapshot(s, engine.rules(), request.at)).await?;
    let problem = snapshot.problem;
    let document = serde_json::to_vec(&Problem::Brokerage(problem.clone()))
        .map_err(|e| MatchError::Snapshot(e.to_string()))?;
    let sha = sha256_hex(&document);
    timings.snapshot = started.elapsed();
    let (plan, greedy, solve, greedy_time) = {
        let problem = problem.clone();
        let sha = sha.clone();
        let options = request.options;
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let plan = bridges_worker::brokerage::solve(&problem, &sha, &options)
                .map_err(|e| e.to_string())?;
            let solve = started.elapsed();
            let started = Instant::now();
            let greedy = bridges_worker::brokerage::greedy(&problem).map_err(|e| e.to_string())?;
            Ok::<_, String>((plan, greedy, solve, started.elapsed()))
        })
        .await
        .map_err(|e| MatchError::Solve(e.to_string()))?
        .map_err(MatchError::Solve)?
    };
    (timings.solve, timings.greedy) = (solve, greedy_time);
    let run =
        request.run.clone().unwrap_or_else(|| RunId(format!("{}-{}", request.label, &sha[..12])));
    let envelope = CommandEnvelope {
        id: format!("run-{run}"),
        actor: request.actor.clone(),
        at: request.at,
        command: Command::RecordRun(Box::new(RecordRun {
            run: run.clone(),
            as_of_position: as_of.0,
            problem_sha256: sha.clone(),
            periods: problem.periods.clone(),
            trigger: request.trigger,
            plan: plan.clone(),
            greedy_coverage: greedy.coverage,
            requested: snapshot.requested,
        })),
    };
    let started = Instant::now();
    let recorded = engine.handle(&envelope).await?;
    timings.record = started.elapsed();
    Ok(Some(MatchOutcome {
        run,
        as_of,
        problem,
        problem_sha256: sha,
        plan,
        greedy,
        requested: snapshot.requested,
        recorded,
        expired,
        timings,
    }))
}
