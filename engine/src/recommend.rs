//! `bridges request recommend ID`, the broker's phone call: for one open
//! request, now, who could take it, ranked as the solver would choose for
//! that request alone, and for everyone else the reason they cannot (the
//! plan's explanation codes). The problem is the one a matching run at the
//! same moment would solve (`planning::snapshot`: half-terms not ended,
//! accepted days and proposals awaiting an answer as pins, decliners
//! excluded), handed to the worker's `brokerage::recommend`. A pure read:
//! nothing is recorded, an overdue proposal simply holds no days (as in the
//! snapshot).
//!
//! A request that is unknown, withdrawn or closed, or one with nothing left
//! to plan (its school closed, its days all in half-terms that have ended),
//! is refused with a `Rejection` naming the request.

use std::time::{Duration, Instant};

use bridges_schemas::RequestId;
use bridges_schemas::brokerage::Recommendation;
use bridges_schemas::commands::{Rejection, RejectionCode};
use bridges_worker::common::InvalidProblem;
use chrono::{DateTime, Utc};

use crate::domain::{Rules, State};
use crate::planning::{self, Snapshot};

/// A recommendation and what it took: cutting the snapshot, then ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct Recommended {
    pub recommendation: Recommendation,
    pub snapshot: Duration,
    pub recommend: Duration,
}

/// Why there is no recommendation.
#[derive(Debug, thiserror::Error)]
pub enum RecommendError {
    /// The request cannot be recommended on (unknown, withdrawn, closed,
    /// nothing left to plan).
    #[error("{}", .0.reason)]
    Refused(Rejection),
    /// The snapshot is not a problem the worker accepts (a bug of the
    /// snapshot, never the user's input).
    #[error("the planning snapshot is not a valid problem: {0}")]
    Snapshot(#[from] InvalidProblem),
}

/// Who could take `request` at `at`, on the part of the snapshot cut for
/// it (`planning::snapshot_for`: the answer on the whole snapshot, for a
/// third of the time).
pub fn recommend(
    state: &State,
    rules: &Rules,
    request: &RequestId,
    at: DateTime<Utc>,
) -> Result<Recommended, RecommendError> {
    let started = Instant::now();
    let snapshot = planning::snapshot_for(state, rules, at, request);
    rank(state, &snapshot, request, started.elapsed())
}

/// Who could take `request` in `snapshot` (the state's planning snapshot,
/// whole or cut for the request, which `cut` took to get).
pub fn rank(
    state: &State,
    snapshot: &Snapshot,
    request: &RequestId,
    cut: Duration,
) -> Result<Recommended, RecommendError> {
    let r = crate::domain::request::open(state, request).map_err(RecommendError::Refused)?;
    let school_open = state.schools.get(&r.urn).is_some_and(|s| s.is_open());
    if !snapshot.problem.requests.iter().any(|x| &x.id == request) {
        let (code, reason) = match school_open {
            false => (RejectionCode::SchoolClosed, format!("its school {} is closed", r.urn)),
            true => (
                RejectionCode::PeriodEnded,
                "every half-term it asks days in has ended: nothing is left to plan".to_owned(),
            ),
        };
        return Err(RecommendError::Refused(Rejection::new(code, "request", request, reason)));
    }
    let started = Instant::now();
    let recommendation = bridges_worker::brokerage::recommend(&snapshot.problem, request)?;
    Ok(Recommended { recommendation, snapshot: cut, recommend: started.elapsed() })
}
