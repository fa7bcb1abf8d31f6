//! Commands about assignments and runs: propose by hand, answer, expire,
//! withdraw, first contact, visits, complete; record or discard a matching
//! run's plan.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::brokerage::BrokeragePlan;
use crate::common::{Period, PractitionerId, RequestId};
use crate::events::DaysPerPeriod;
use crate::vocab::{AssignmentId, DeclineReason, RunId, RunTrigger, VisitId};

/// A broker proposes a practitioner's days on a request by hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeAssignment {
    /// Given, or `<request>-h<n>`.
    #[serde(default)]
    pub assignment: Option<AssignmentId>,
    pub request: RequestId,
    pub practitioner: PractitionerId,
    pub days: DaysPerPeriod,
}

/// The practitioner accepts a proposal (or a broker on their behalf).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptAssignment {
    pub assignment: AssignmentId,
}

/// The practitioner declines a proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineAssignment {
    pub assignment: AssignmentId,
    pub reason: DeclineReason,
    #[serde(default)]
    pub note: Option<String>,
}

/// Record that a proposal's answer window has passed (the engine sends this
/// itself when a command or run looks at an overdue proposal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpireAssignment {
    pub assignment: AssignmentId,
}

/// A broker withdraws a proposal or an accepted assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawAssignment {
    pub assignment: AssignmentId,
    pub reason: String,
}

/// The practitioner made first contact with the receiving school.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordFirstContact {
    pub assignment: AssignmentId,
    pub on: NaiveDate,
    #[serde(default)]
    pub note: Option<String>,
}

/// Record a visit (in half days) against an accepted assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordVisit {
    pub assignment: AssignmentId,
    /// Given, or `v<n>`.
    #[serde(default)]
    pub visit: Option<VisitId>,
    pub on: NaiveDate,
    pub half_days: u32,
    #[serde(default)]
    pub note: Option<String>,
}

/// Correct a recorded visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectVisit {
    pub assignment: AssignmentId,
    pub visit: VisitId,
    pub on: NaiveDate,
    pub half_days: u32,
    #[serde(default)]
    pub note: Option<String>,
}

/// Void a visit recorded in error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VoidVisit {
    pub assignment: AssignmentId,
    pub visit: VisitId,
    pub reason: String,
}

/// Record a planned visit that was cancelled or a no-show, charged or not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelVisit {
    pub assignment: AssignmentId,
    #[serde(default)]
    pub visit: Option<VisitId>,
    pub on: NaiveDate,
    pub half_days: u32,
    pub no_show: bool,
    pub charged: bool,
}

/// The receiving school confirms a recorded visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmVisit {
    pub assignment: AssignmentId,
    pub visit: VisitId,
}

/// Mark an accepted assignment's work as done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteAssignment {
    pub assignment: AssignmentId,
}

/// Record a matching run's plan: the engine keeps of it what still holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordRun {
    pub run: RunId,
    pub as_of_position: u64,
    pub problem_sha256: String,
    pub periods: Vec<Period>,
    pub trigger: RunTrigger,
    pub plan: BrokeragePlan,
    /// Days per tier the greedy broker-by-hand baseline covers on the same problem.
    pub greedy_coverage: [u32; 4],
    /// Days requested per tier in the problem (the full figures).
    pub requested: [u32; 4],
}

/// Discard a run left without its closing event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscardRun {
    pub run: RunId,
    pub reason: String,
}
