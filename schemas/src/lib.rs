//! The Bridges schemas: every type that is persisted in the log or travels
//! over NATS, with serde and generated JSON Schemas.
//!
//! This crate knows nothing of tokio, sled, NATS or good_lp (CI checks it with
//! `cargo tree`). It is the only crate that derives `Serialize`/`Deserialize`
//! for domain types.

pub mod accounts;
pub mod brokerage;
pub mod commands;
pub mod common;
pub mod events;
pub mod inspection;
pub mod json_schema;
pub mod messages;
pub mod triads;
pub mod vocab;

pub use common::{Designation, NeedArea, Period, Phase, PractitionerId, RequestId, SameTrust, Urn};
pub use inspection::{InspectionOutcome, Standing};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A solver problem document, tagged by `kind` (CONTRACTS.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Problem {
    Brokerage(brokerage::BrokerageProblem),
    Triads(triads::TriadsProblem),
}

/// A solver plan document, tagged by `kind` (CONTRACTS.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Plan {
    Brokerage(brokerage::BrokeragePlan),
    Triads(triads::TriadsPlan),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tag `kind` is the enum's; the strict reading of each kind holds
    /// through the tagged enum too (the engine reads documents this way).
    #[test]
    fn problems_read_strictly_through_the_tagged_enum() {
        let doc = serde_json::json!({
            "kind": "triads", "periods": ["2026-AU2", "2027-SP1", "2027-SP2"], "schools": [],
            "policy": {"max_distance_km": null, "same_trust": "forbid", "phase_pools": true,
                       "require_good_or_better": true, "allow_groups_of_4": false}
        });
        let problem: Problem = serde_json::from_value(doc.clone()).expect("a triads problem");
        assert!(matches!(problem, Problem::Triads(_)));
        let mut unknown = doc.clone();
        unknown["practitioners"] = serde_json::json!([]);
        let err = serde_json::from_value::<Problem>(unknown).expect_err("unknown field");
        assert!(err.to_string().contains("practitioners"), "{err}");
        let mut missing = doc;
        missing["policy"].as_object_mut().expect("object").remove("max_distance_km");
        let err = serde_json::from_value::<Problem>(missing).expect_err("missing field");
        assert!(err.to_string().contains("max_distance_km"), "{err}");
    }
}
