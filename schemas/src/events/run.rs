//! Events of a matching run's stream, `run-<id>`: started (what it solved),
//! the unmet requests with their reasons (in parts: a large run's list does
//! not fit one event), completed (how it solved), or discarded (a crash left
//! it without its closing event). A run counts only once it is completed.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::brokerage::{PlanDays, UnmetReason};
use crate::common::{Period, PractitionerId, RequestId, SolveStatus};
use crate::vocab::{RunId, RunTrigger};

/// A matching run solved a snapshot of the log taken at `as_of_position`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MatchingRunStarted {
    pub run: RunId,
    pub as_of_position: u64,
    pub problem_sha256: String,
    /// The half-terms it planned (those not ended at the run's time).
    pub periods: Vec<Period>,
    pub trigger: RunTrigger,
}

/// One unmet request of a run, as the plan explains it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnmetRecord {
    pub request: RequestId,
    pub days: PlanDays,
    pub reason: UnmetReason,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterfactual: Option<String>,
}

/// A part of a run's unmet requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnmetRecorded {
    pub run: RunId,
    pub unmet: Vec<UnmetRecord>,
}

/// A proposal of the plan that no longer held when the engine recorded the
/// plan (the request was withdrawn or served, the practitioner withdrew...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DroppedProposal {
    pub request: RequestId,
    pub practitioner: PractitionerId,
    pub reason: String,
}

/// Per-tier figures of a run: days requested, covered (including pins), the
/// best bound proven with the higher tiers held, and that tier's gap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TierFigures {
    pub requested: u32,
    pub covered: u32,
    pub bound: f64,
    pub gap: f64,
    /// What the greedy broker-by-hand baseline covered of this tier.
    pub greedy: u32,
}

/// The run was recorded: how it solved, and how many proposals and unmet
/// requests it left. Its proposals count from here on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MatchingRunCompleted {
    pub run: RunId,
    pub status: SolveStatus,
    pub objective: f64,
    pub bound: f64,
    pub gap: f64,
    pub seconds: f64,
    /// Tiers 1 to 4.
    pub tiers: Vec<TierFigures>,
    pub plan_sha256: String,
    /// Proposals recorded (in their `assignment-<id>` streams).
    pub proposals: u32,
    /// Unmet requests recorded (in `UnmetRecorded` parts).
    pub unmet: u32,
    #[serde(default)]
    pub dropped: Vec<DroppedProposal>,
}

/// Version 1 of `MatchingRunCompleted` (the weekly demo before the domain):
/// kept to read old logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MatchingRunCompletedV1 {
    pub run: String,
    pub as_of_position: u64,
    pub problem_sha256: String,
    pub status: SolveStatus,
    pub objective: f64,
    pub bound: f64,
    pub gap: f64,
    pub seconds: f64,
    pub assignments: u32,
    pub unmet: u32,
}

/// A run left without its closing event (a crash mid-record) was discarded
/// at the next start; its proposals never counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MatchingRunDiscarded {
    pub run: RunId,
    pub reason: String,
}
