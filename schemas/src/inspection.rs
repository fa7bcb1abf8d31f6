//! PLACEHOLDER until the strict-documents branch lands its inspection outcomes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Placeholder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct InspectionOutcome(pub serde_json::Value);

/// Placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Strong,
    Secure,
    Concern,
    Serious,
}

/// Placeholder.
pub fn standing(_outcome: &InspectionOutcome) -> Standing {
    Standing::Secure
}
