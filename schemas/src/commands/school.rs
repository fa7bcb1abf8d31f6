//! Commands about schools: register (from GIAS), change, close, record an
//! inspection outcome, assess risk.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Phase, Urn};
use crate::inspection::InspectionOutcome;
use crate::vocab::RiskSource;

/// Register a school of the LA (a GIAS row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterSchool {
    pub urn: Urn,
    pub name: String,
    pub la_code: u16,
    pub phase: Phase,
    #[serde(default)]
    pub trust: Option<String>,
    pub easting: f64,
    pub northing: f64,
    #[serde(default)]
    pub pupils: Option<u32>,
    /// GIAS `Postcode`, for example `UB8 1PH`; its district (`UB8`) is the
    /// school's locality.
    #[serde(default)]
    pub postcode: Option<String>,
}

/// Record what GIAS now says about a registered school (its whole record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeSchool {
    pub urn: Urn,
    pub name: String,
    pub phase: Phase,
    #[serde(default)]
    pub trust: Option<String>,
    pub easting: f64,
    pub northing: f64,
    #[serde(default)]
    pub pupils: Option<u32>,
    /// GIAS `Postcode`, for example `UB8 1PH`; its district (`UB8`) is the
    /// school's locality.
    #[serde(default)]
    pub postcode: Option<String>,
}

/// Record that a school has closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseSchool {
    pub urn: Urn,
    #[serde(default)]
    pub closed_on: Option<NaiveDate>,
    pub reason: String,
}

/// Record a school's latest inspection outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordInspection {
    pub urn: Urn,
    pub outcome: InspectionOutcome,
    /// `csv`, `gias` or `manual`.
    pub source: String,
}

/// Set (or clear, with no tier) a school's risk tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessRisk {
    pub urn: Urn,
    #[serde(default)]
    pub tier: Option<u8>,
    pub reason: String,
    pub source: RiskSource,
}
