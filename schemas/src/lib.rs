//! The Bridges schemas: every type that is persisted in the log or travels
//! over NATS, with serde and generated JSON Schemas.
//!
//! This crate knows nothing of tokio, sled, NATS or good_lp (CI checks it with
//! `cargo tree`). It is the only crate that derives `Serialize`/`Deserialize`
//! for domain types.

pub mod brokerage;
pub mod commands;
pub mod common;
pub mod events;
pub mod inspection;
pub mod json_schema;
pub mod triads;
pub mod vocab;

pub use common::{Designation, NeedArea, Period, Phase, PractitionerId, RequestId, SameTrust, Urn};

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
