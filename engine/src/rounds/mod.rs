//! Forming a peer-review round on the embedded default: the snapshot of its
//! enrolled schools as a `TriadsProblem` (each school's phase, trust,
//! location, pupils and latest inspection outcome, so the solver reads its
//! standing; the history of confirmed rounds, `domain::round::history`), the
//! triads solver in process (`bridges_worker::triads::solve` in
//! `spawn_blocking`), then the plan recorded through `handle` (`FormRound`:
//! every group checked again against the hard rules). `words` says why a
//! group is good in words a coordinator reads; `export` writes the CSV and
//! HTML files of a round; `show` prints it.

pub mod export;
pub mod show;
pub mod words;

use std::time::Instant;

use bridges_schemas::Problem;
use bridges_schemas::commands::{Command, CommandEnvelope, FormRound};
use bridges_schemas::events::RoundId;
use bridges_schemas::triads::{TriadSchool, TriadsPlan, TriadsProblem};
use bridges_schemas::vocab::UserId;
use bridges_worker::common::{SolveOptions, sha256_hex};
use chrono::{DateTime, Utc};

use crate::domain::State;
use crate::domain::round::history;
use crate::domain::state::Round;
use crate::handle::{Engine, HandleError, Outcome};

/// What forming a round did.
#[derive(Debug, Clone)]
pub struct Formed {
    pub problem: TriadsProblem,
    pub problem_sha256: String,
    pub plan: TriadsPlan,
    /// The plan's record (a rejection when the round cannot be formed now).
    pub recorded: Outcome,
    /// Seconds of the snapshot, the solve and the record.
    pub snapshot_seconds: f64,
    pub solve_seconds: f64,
    pub record_seconds: f64,
}

/// Why a round could not be formed at all (not a rejection).
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error(transparent)]
    Handle(#[from] HandleError),
    #[error("no round {0} is recorded")]
    UnknownRound(RoundId),
    #[error("the round's snapshot is not a valid triads problem: {0}")]
    Problem(String),
    #[error("solving: {0}")]
    Solve(String),
}

/// The triads problem of a round as the state holds it: its enrolled
/// schools, periods, policy and history.
pub fn problem(state: &State, round: &Round) -> TriadsProblem {
    let schools = round
        .enrolled
        .iter()
        .filter_map(|u| state.schools.get(u))
        .map(|s| TriadSchool {
            urn: s.urn,
            phase: s.phase,
            trust: s.trust.clone(),
            easting: s.easting,
            northing: s.northing,
            ofsted: None,
            inspection: s.inspection,
            pupils: s.pupils.map(f64::from),
            disadvantaged: None,
            locality: s.locality().map(str::to_owned),
            name: Some(s.name.clone()),
        })
        .collect();
    TriadsProblem {
        periods: round.periods.clone(),
        schools,
        history: history(state, round).groups,
        partnerships: Vec::new(),
        policy: round.policy.clone(),
    }
}

/// Forms `round` now: snapshot, solve in process, record.
pub async fn form(
    engine: &Engine,
    round: &RoundId,
    command_id: String,
    actor: UserId,
    at: DateTime<Utc>,
    options: &SolveOptions,
) -> Result<Formed, FormError> {
    let started = Instant::now();
    let as_of = engine.position().await;
    let problem = engine
        .read(|s| s.rounds.get(round).map(|r| problem(s, r)))
        .await?
        .ok_or_else(|| FormError::UnknownRound(round.clone()))?;
    let document = serde_json::to_vec(&Problem::Triads(problem.clone()))
        .map_err(|e| FormError::Problem(e.to_string()))?;
    let sha = sha256_hex(&document);
    let snapshot_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let plan = {
        let (problem, sha, options) = (problem.clone(), sha.clone(), *options);
        tokio::task::spawn_blocking(move || bridges_worker::triads::solve(&problem, &sha, &options))
            .await
            .map_err(|e| FormError::Solve(e.to_string()))?
            .map_err(|e| match e {
                bridges_worker::common::SolveError::Invalid(i) => FormError::Problem(i.to_string()),
                other => FormError::Solve(other.to_string()),
            })?
    };
    let solve_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let envelope = CommandEnvelope {
        id: command_id,
        actor,
        at,
        command: Command::FormRound(Box::new(FormRound {
            round: round.clone(),
            as_of_position: as_of.0,
            problem_sha256: sha.clone(),
            plan: plan.clone(),
        })),
    };
    let recorded = engine.handle(&envelope).await?;
    Ok(Formed {
        problem,
        problem_sha256: sha,
        plan,
        recorded,
        snapshot_seconds,
        solve_seconds,
        record_seconds: started.elapsed().as_secs_f64(),
    })
}
