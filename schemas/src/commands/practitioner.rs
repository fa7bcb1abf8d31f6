//! Commands about practitioners: designate, change, declare availability,
//! record leave, declare or withdraw a conflict, withdraw, erase. Names,
//! contacts and notes come in clear; the engine seals them.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Designation, NeedArea, Phase, PractitionerId, Urn};
use crate::events::DaysPerPeriod;
use crate::vocab::{ConflictId, ConflictKind};

/// Designate a system leader with a configured title.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignatePractitioner {
    /// The LA's own id (also used to match re-imported spreadsheets).
    pub practitioner: PractitionerId,
    pub title: Designation,
    pub home_urn: Urn,
    pub specialisms: Vec<NeedArea>,
    pub phases: Vec<Phase>,
    /// Pounds per day; the title's typical rate when absent.
    #[serde(default)]
    pub day_rate: Option<u32>,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// Change a designated practitioner's record (its whole record as it should be).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePractitioner {
    pub practitioner: PractitionerId,
    pub title: Designation,
    pub home_urn: Urn,
    pub specialisms: Vec<NeedArea>,
    pub phases: Vec<Phase>,
    #[serde(default)]
    pub day_rate: Option<u32>,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// Declare the days a practitioner can be released per half-term of one
/// academic year, and at most in the year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareAvailability {
    pub practitioner: PractitionerId,
    pub capacity: DaysPerPeriod,
    #[serde(default)]
    pub max_days: Option<u32>,
}

/// Record a practitioner's leave, `from` to `to` inclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordLeave {
    pub practitioner: PractitionerId,
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[serde(default)]
    pub note: Option<String>,
}

/// Declare a conflict of interest with one school (`urn`) or every school of
/// a trust (`trust`), valid over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareConflict {
    pub practitioner: PractitionerId,
    #[serde(default)]
    pub urn: Option<Urn>,
    #[serde(default)]
    pub trust: Option<String>,
    pub kind: ConflictKind,
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
}

/// Withdraw a declared conflict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawConflict {
    pub practitioner: PractitionerId,
    pub conflict: ConflictId,
}

/// The practitioner takes no more work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawPractitioner {
    pub practitioner: PractitionerId,
    pub reason: String,
}

/// Erase a practitioner's personal data: destroy their key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasePractitioner {
    pub practitioner: PractitionerId,
}
