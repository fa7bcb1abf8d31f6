//! Commands of a peer-review round (DESIGN.md section 7): open, enrol,
//! withdraw, form (the solver's plan, recorded by the engine's own
//! `rounds::form`), swap, move, confirm, record a review, share a report,
//! close.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Period, Phase, Urn};
use crate::events::RoundId;
use crate::triads::TriadsPlan;
use crate::vocab::AcademicYearId;

/// Open a round for an academic year. The policy, the years of history and
/// the review terms come from the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRound {
    pub round: RoundId,
    pub year: AcademicYearId,
    /// The half-terms reviews are hosted in (at least 3, of that year, not
    /// ended); absent: every half-term of the year not yet ended.
    #[serde(default)]
    pub periods: Option<Vec<Period>>,
}

/// Enrol schools: the ones listed, or (with `phase`) every open school of
/// the LA in that phase not yet enrolled. Exactly one of the two.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolSchools {
    pub round: RoundId,
    #[serde(default)]
    pub urns: Vec<Urn>,
    #[serde(default)]
    pub phase: Option<Phase>,
}

/// A school leaves the round (and its group).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawFromRound {
    pub round: RoundId,
    pub urn: Urn,
    pub reason: String,
}

/// Record the solver's plan for the round's enrolled schools, solved on a
/// snapshot taken at `as_of_position` (the engine issues it: `bridges round
/// form`). Every group is checked against the hard rules again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FormRound {
    pub round: RoundId,
    pub as_of_position: u64,
    pub problem_sha256: String,
    pub plan: TriadsPlan,
}

/// Exchange two schools: each takes the other's place (one may be unplaced).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SwapSchools {
    pub round: RoundId,
    pub a: Urn,
    pub b: Urn,
}

/// Move a school into group `to` (its number), or out of its group (none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveSchool {
    pub round: RoundId,
    pub urn: Urn,
    #[serde(default)]
    pub to: Option<u32>,
}

/// Confirm the groups and publish the rota.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRound {
    pub round: RoundId,
}

/// Record that a host's review was held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordReview {
    pub round: RoundId,
    pub host: Urn,
    /// The day it was held: within the host's period, not in the future.
    pub on: NaiveDate,
    /// The reviewing schools present (of the host's group).
    pub reviewers: Vec<Urn>,
    /// Days of each reviewing school's time, in half-day steps; absent: the
    /// round's terms for the host's phase.
    #[serde(default)]
    pub days: Option<f64>,
}

/// The host decides whether its report is shared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareReport {
    pub round: RoundId,
    pub host: Urn,
    pub shared: bool,
}

/// Close the round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRound {
    pub round: RoundId,
}
