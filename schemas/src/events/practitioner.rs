//! Events of a practitioner's stream, `practitioner-<id>`: designated,
//! changed, availability declared, leave, conflicts declared and withdrawn,
//! withdrawn, personal data erased. Names and contact details are only ever
//! here sealed (`Sealed`), never in clear.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Designation, NeedArea, Phase, PractitionerId, Urn};
use crate::events::DaysPerPeriod;
use crate::vocab::{AcademicYearId, ConflictId, ConflictKind, ConflictTarget, Sealed};

/// A system leader was designated with a configured title (NLE, LLE, SLE or
/// a local title), working from a home school.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PractitionerDesignated {
    pub practitioner: PractitionerId,
    pub title: Designation,
    pub home_urn: Urn,
    pub specialisms: Vec<NeedArea>,
    pub phases: Vec<Phase>,
    /// Pounds per day.
    pub day_rate: u32,
    /// Name and contact details, sealed (`PersonalDetails`); none for
    /// practitioners recorded before personal data was held.
    #[serde(default)]
    pub personal: Option<Sealed>,
}

/// The practitioner's record changed (a re-import, a correction): the whole
/// record after the change and the names of the fields that changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PractitionerChanged {
    pub practitioner: PractitionerId,
    pub title: Designation,
    pub home_urn: Urn,
    pub specialisms: Vec<NeedArea>,
    pub phases: Vec<Phase>,
    pub day_rate: u32,
    #[serde(default)]
    pub personal: Option<Sealed>,
    pub changed: Vec<String>,
}

/// Version 2 of the old `PractitionerRegistered` (before titles and personal
/// data): read from old logs and upcast to `PractitionerDesignated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PractitionerRegistered {
    pub practitioner: PractitionerId,
    pub designation: Designation,
    pub home_urn: Urn,
    pub specialisms: Vec<NeedArea>,
    pub phases: Vec<Phase>,
    /// Pounds per day.
    pub day_rate: u32,
}

/// Version 1 of `PractitionerRegistered`, before phases and day rates were
/// recorded. Kept only to read old logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PractitionerRegisteredV1 {
    pub practitioner: PractitionerId,
    pub designation: Designation,
    pub home_urn: Urn,
    pub specialisms: Vec<NeedArea>,
}

/// The days a practitioner can be released per half-term of one academic
/// year, and at most in that year. Replaces the year's earlier declaration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AvailabilityDeclared {
    pub practitioner: PractitionerId,
    pub capacity: DaysPerPeriod,
    #[serde(default)]
    pub max_days: Option<u32>,
    /// The academic year the half-terms belong to (none in old logs).
    #[serde(default)]
    pub year: Option<AcademicYearId>,
}

/// The practitioner is on leave from `from` to `to` inclusive: no days are
/// proposed on those working days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LeaveRecorded {
    pub practitioner: PractitionerId,
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[serde(default)]
    pub note: Option<Sealed>,
}

/// A conflict of interest with a school or a trust, valid over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConflictDeclared {
    pub practitioner: PractitionerId,
    pub conflict: ConflictId,
    pub target: ConflictTarget,
    pub kind: ConflictKind,
    #[serde(default)]
    pub valid_from: Option<NaiveDate>,
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
}

/// Version 1 of `ConflictDeclared`: a school, with a free-text reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConflictDeclaredV1 {
    pub practitioner: PractitionerId,
    pub urn: Urn,
    pub reason: String,
}

/// A declared conflict no longer holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConflictWithdrawn {
    pub practitioner: PractitionerId,
    pub conflict: ConflictId,
}

/// The practitioner no longer takes work; proposals and pins stand as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PractitionerWithdrawn {
    pub practitioner: PractitionerId,
    pub reason: String,
}

/// The practitioner's key was destroyed: their sealed name, contacts and
/// notes can no longer be read by anyone (UK GDPR erasure).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PersonalDataErased {
    pub practitioner: PractitionerId,
}
