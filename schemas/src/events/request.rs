//! Events of a support request's stream, `request-<id>`: raised, amended,
//! withdrawn, closed with the receiving school's impact rating.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Designation, NeedArea, PractitionerId, RequestId, Urn};
use crate::events::DaysPerPeriod;
use crate::vocab::{FundingSource, ImpactRating, Sealed, TierChoice};

/// A school asked for (or was offered) days of support in a need area
/// (version 2: a tier that may follow the school's risk, a funding source).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SupportRequested {
    pub request: RequestId,
    pub urn: Urn,
    pub need: NeedArea,
    /// The titles it accepts.
    pub designations: Vec<Designation>,
    pub tier: TierChoice,
    /// Whole days wanted per half-term.
    pub days: DaysPerPeriod,
    pub funding: FundingSource,
    /// The receiving school's purchase-order number, for its recharge statement.
    #[serde(default)]
    pub purchase_order: Option<String>,
}

/// Version 1 of `SupportRequested`: a fixed priority, no funding source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SupportRequestedV1 {
    pub request: RequestId,
    pub urn: Urn,
    pub need: NeedArea,
    pub designations: Vec<Designation>,
    /// 1 (most urgent) to 4.
    pub priority: u8,
    pub days: DaysPerPeriod,
    #[serde(default)]
    pub previous_practitioner: Option<PractitionerId>,
}

/// The request as amended: its whole terms after the change and the names
/// of the fields that changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequestAmended {
    pub request: RequestId,
    pub need: NeedArea,
    pub designations: Vec<Designation>,
    pub tier: TierChoice,
    pub days: DaysPerPeriod,
    pub funding: FundingSource,
    #[serde(default)]
    pub purchase_order: Option<String>,
    pub changed: Vec<String>,
}

/// The school no longer wants the support; nothing more is proposed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequestWithdrawn {
    pub request: RequestId,
    pub reason: String,
}

/// The support ended; the receiving school rated its impact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RequestClosed {
    pub request: RequestId,
    pub impact: ImpactRating,
    /// The school's note, sealed under the request's own key.
    #[serde(default)]
    pub note: Option<Sealed>,
}
