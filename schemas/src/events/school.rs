//! Events of a school's stream, `school-<urn>`: registered from GIAS,
//! changed, closed, an inspection outcome recorded, its risk assessed.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Phase, Urn};
use crate::inspection::InspectionOutcome;
use crate::vocab::RiskSource;

/// A school joined the LA's picture (from GIAS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SchoolRegistered {
    pub urn: Urn,
    pub name: String,
    /// Three-digit local authority code, for example 312 (Hillingdon).
    pub la_code: u16,
    pub phase: Phase,
    #[serde(default)]
    pub trust: Option<String>,
    pub easting: f64,
    pub northing: f64,
    /// GIAS `NumberOfPupils`, where given.
    #[serde(default)]
    pub pupils: Option<u32>,
    /// GIAS `Postcode` (added in v2; none in v1 events).
    #[serde(default)]
    pub postcode: Option<String>,
}

/// What GIAS now says about a registered school: its whole record after the
/// change, and the names of the fields that changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SchoolChanged {
    pub urn: Urn,
    pub name: String,
    pub phase: Phase,
    #[serde(default)]
    pub trust: Option<String>,
    pub easting: f64,
    pub northing: f64,
    #[serde(default)]
    pub pupils: Option<u32>,
    /// GIAS `Postcode` (added in v2; none in v1 events).
    #[serde(default)]
    pub postcode: Option<String>,
    /// `name`, `phase`, `trust`, `location`, `pupils`, `postcode`.
    pub changed: Vec<String>,
}

/// The school closed (GIAS status "Closed"); it takes no new requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SchoolClosed {
    pub urn: Urn,
    #[serde(default)]
    pub closed_on: Option<NaiveDate>,
    pub reason: String,
}

/// The school's latest inspection outcome, in the framework it was given in
/// (CONTRACTS.md "Inspection outcomes").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct InspectionRecorded {
    pub urn: Urn,
    pub outcome: InspectionOutcome,
    /// Where it came from: `csv` (an inspections import), `gias`, or `manual`
    /// (a broker read it from the report).
    pub source: String,
}

/// The school's risk tier: 1 (most at risk) to 4, or none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RiskAssessed {
    pub urn: Urn,
    #[serde(default)]
    pub tier: Option<u8>,
    pub reason: String,
    pub source: RiskSource,
}
