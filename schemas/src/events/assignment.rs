//! Events of an assignment's stream, `assignment-<id>`: proposed (by a run or
//! by hand), answered (accepted, declined, expired), withdrawn, first
//! contact, visits (recorded, corrected, voided, cancelled or no-show,
//! confirmed by the receiving school), completed. Free-text notes are sealed
//! under the practitioner's key.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{PractitionerId, RequestId};
use crate::events::DaysPerPeriod;
use crate::vocab::{AssignmentId, DeclineReason, RunId, Sealed, VisitId};

/// Days of a practitioner proposed on a request, awaiting an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssignmentProposed {
    pub assignment: AssignmentId,
    pub request: RequestId,
    pub practitioner: PractitionerId,
    pub days: DaysPerPeriod,
    /// The run that proposed it; none when a broker proposed it by hand.
    #[serde(default)]
    pub run: Option<RunId>,
    /// The last working day to answer; after it the proposal expires.
    #[serde(default)]
    pub answer_by: Option<NaiveDate>,
}

/// Version 1 of `AssignmentProposed` (the weekly demo): always by a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssignmentProposedV1 {
    pub assignment: String,
    pub run: String,
    pub request: RequestId,
    pub practitioner: PractitionerId,
    pub days: DaysPerPeriod,
}

/// The practitioner (or a broker on their behalf) accepted the proposal; its
/// days are pinned in later runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssignmentAccepted {
    pub assignment: AssignmentId,
}

/// The proposal was declined; the practitioner is excluded from the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssignmentDeclined {
    pub assignment: AssignmentId,
    pub reason: DeclineReason,
    #[serde(default)]
    pub note: Option<Sealed>,
}

/// No answer came by `answer_by`: the days go back to the pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssignmentExpired {
    pub assignment: AssignmentId,
    pub answer_by: NaiveDate,
}

/// A broker withdrew the proposal or the accepted assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssignmentWithdrawn {
    pub assignment: AssignmentId,
    pub reason: String,
}

/// The practitioner made first contact with the receiving school.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FirstContactRecorded {
    pub assignment: AssignmentId,
    pub on: NaiveDate,
    #[serde(default)]
    pub note: Option<Sealed>,
}

/// A visit on a working day of an assigned half-term, in half days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VisitRecorded {
    pub assignment: AssignmentId,
    pub visit: VisitId,
    pub on: NaiveDate,
    pub half_days: u32,
    #[serde(default)]
    pub note: Option<Sealed>,
}

/// A recorded visit, corrected: its date, length and note as they should be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VisitCorrected {
    pub assignment: AssignmentId,
    pub visit: VisitId,
    pub on: NaiveDate,
    pub half_days: u32,
    #[serde(default)]
    pub note: Option<Sealed>,
}

/// A recorded visit was recorded in error and no longer counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VisitVoided {
    pub assignment: AssignmentId,
    pub visit: VisitId,
    pub reason: String,
}

/// A planned visit did not happen: cancelled, or the practitioner (or the
/// school) did not show. It is charged or not, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VisitCancelled {
    pub assignment: AssignmentId,
    pub visit: VisitId,
    pub on: NaiveDate,
    pub half_days: u32,
    pub no_show: bool,
    pub charged: bool,
}

/// The receiving school confirmed a recorded visit took place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VisitConfirmed {
    pub assignment: AssignmentId,
    pub visit: VisitId,
}

/// The assignment's work is done; no more visits are recorded against it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AssignmentCompleted {
    pub assignment: AssignmentId,
}
