//! Identifiers and small vocabulary types shared by problems, plans and events.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A school's six-digit Unique Reference Number (DfE, GIAS).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct Urn(pub u32);

impl fmt::Display for Urn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
        )]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // `pad`, not `write_str`, so tables can set width and alignment.
                f.pad(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}
pub(crate) use string_id;

string_id!(
    /// A practitioner (system leader) id, for example `sle-17`.
    PractitionerId
);
string_id!(
    /// A support request id, for example `req-9`.
    RequestId
);
string_id!(
    /// A planning period label, a half-term such as `2026-AU1` (Autumn 1 of 2026/27).
    Period
);
string_id!(
    /// A need area / specialism from the configured list, for example `maths`.
    NeedArea
);

/// Phase of education (GIAS `PhaseOfEducation (name)`, plus special from the type).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Phase {
    #[serde(rename = "nursery")]
    Nursery,
    #[serde(rename = "primary")]
    Primary,
    #[serde(rename = "middle")]
    Middle,
    #[serde(rename = "secondary")]
    Secondary,
    #[serde(rename = "all-through")]
    AllThrough,
    #[serde(rename = "16-plus")]
    SixteenPlus,
    #[serde(rename = "special")]
    Special,
}

impl Phase {
    pub const ALL: [Phase; 7] = [
        Phase::Nursery,
        Phase::Primary,
        Phase::Middle,
        Phase::Secondary,
        Phase::AllThrough,
        Phase::SixteenPlus,
        Phase::Special,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Nursery => "nursery",
            Phase::Primary => "primary",
            Phase::Middle => "middle",
            Phase::Secondary => "secondary",
            Phase::AllThrough => "all-through",
            Phase::SixteenPlus => "16-plus",
            Phase::Special => "special",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A system leader's designation.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Designation {
    #[serde(rename = "NLE")]
    Nle,
    #[serde(rename = "LLE")]
    Lle,
    #[serde(rename = "SLE")]
    Sle,
}

impl fmt::Display for Designation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Designation::Nle => "NLE",
            Designation::Lle => "LLE",
            Designation::Sle => "SLE",
        })
    }
}

/// Whether schools of the same trust may be paired (conflict of interest).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SameTrust {
    /// Never pair a school with another of its own trust.
    Forbid,
    /// Same-trust pairs are allowed.
    Allow,
}

/// Solve status of a plan.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SolveStatus {
    /// Proven optimal (within the solver's default tolerances).
    Optimal,
    /// A limit stopped the search; `gap` says how far it may be from optimal.
    Feasible,
    /// Pins alone break a hard rule.
    Infeasible,
}

impl fmt::Display for SolveStatus {
    /// As the plan document writes it: `optimal`, `feasible`, `infeasible`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            SolveStatus::Optimal => "optimal",
            SolveStatus::Feasible => "feasible",
            SolveStatus::Infeasible => "infeasible",
        })
    }
}

/// What solved a plan, and with which options (reproducibility record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SolverInfo {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub options: std::collections::BTreeMap<String, serde_json::Value>,
}

/// Straight-line kilometres between two British National Grid points (CONTRACTS.md).
pub fn distance_km(e1: f64, n1: f64, e2: f64, n2: f64) -> f64 {
    ((e1 - e2).powi(2) + (n1 - n2).powi(2)).sqrt() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_honour_width_and_alignment_in_tables() {
        assert_eq!(format!("[{:<8}]", RequestId::from("req-9")), "[req-9   ]");
        assert_eq!(format!("[{:>8}]", Urn(102400)), "[  102400]");
        assert_eq!(format!("[{:<5}]", Designation::Sle), "[SLE  ]");
        assert_eq!(format!("[{:<9}]", Phase::Primary), "[primary  ]");
        assert_eq!(SolveStatus::Feasible.to_string(), "feasible");
    }
}
