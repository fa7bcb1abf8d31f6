//! Commands about support requests: raise, amend, withdraw, close with impact.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Designation, NeedArea, RequestId, Urn};
use crate::events::DaysPerPeriod;
use crate::vocab::{FundingSource, ImpactRating, TierChoice};

/// Raise a school's request for days of support.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RaiseRequest {
    pub request: RequestId,
    pub urn: Urn,
    pub need: NeedArea,
    pub designations: Vec<Designation>,
    pub tier: TierChoice,
    pub days: DaysPerPeriod,
    pub funding: FundingSource,
    #[serde(default)]
    pub purchase_order: Option<String>,
}

/// Amend an open request; fields left out stay as they are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendRequest {
    pub request: RequestId,
    #[serde(default)]
    pub need: Option<NeedArea>,
    #[serde(default)]
    pub designations: Option<Vec<Designation>>,
    #[serde(default)]
    pub tier: Option<TierChoice>,
    #[serde(default)]
    pub days: Option<DaysPerPeriod>,
    #[serde(default)]
    pub funding: Option<FundingSource>,
    #[serde(default)]
    pub purchase_order: Option<String>,
}

/// Withdraw an open request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawRequest {
    pub request: RequestId,
    pub reason: String,
}

/// Close a request with the receiving school's impact rating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    pub request: RequestId,
    pub impact: ImpactRating,
    #[serde(default)]
    pub note: Option<String>,
}
