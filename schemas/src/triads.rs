//! The peer-review triads problem and plan documents (CONTRACTS.md, "Triads
//! problem" and "Triads plan").

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Period, Phase, SameTrust, SolveStatus, SolverInfo, Urn};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TriadsProblem {
    /// The periods (half-terms) of the round in which reviews are hosted.
    pub periods: Vec<Period>,
    pub schools: Vec<TriadSchool>,
    /// Groups of earlier rounds: no two schools of one may be grouped again.
    #[serde(default)]
    pub history: Vec<Vec<Urn>>,
    /// Existing partnerships (clusters, federations): grouping within one is
    /// "the obvious grouping" and is discouraged, not forbidden.
    #[serde(default)]
    pub partnerships: Vec<Vec<Urn>>,
    pub policy: TriadsPolicy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TriadSchool {
    pub urn: Urn,
    pub phase: Phase,
    #[serde(default)]
    pub trust: Option<String>,
    pub easting: f64,
    pub northing: f64,
    #[serde(default)]
    pub ofsted: Option<Ofsted>,
    #[serde(default)]
    pub pupils: Option<f64>,
    /// Share of disadvantaged pupils (0..1), where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disadvantaged: Option<f64>,
    /// Locality or planning area, where known (for "not the obvious grouping").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Ofsted overall effectiveness grade.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Ofsted {
    Outstanding,
    Good,
    RequiresImprovement,
    Inadequate,
}

impl Ofsted {
    pub fn good_or_better(self) -> bool {
        matches!(self, Ofsted::Outstanding | Ofsted::Good)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TriadsPolicy {
    #[serde(default)]
    pub max_distance_km: Option<f64>,
    #[serde(default = "default_same_trust")]
    pub same_trust: SameTrust,
    #[serde(default)]
    pub phase_pools: bool,
    #[serde(default)]
    pub require_good_or_better: bool,
    #[serde(default)]
    pub allow_groups_of_4: bool,
}

fn default_same_trust() -> SameTrust {
    SameTrust::Forbid
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TriadsPlan {
    pub groups: Vec<Vec<Urn>>,
    pub unplaced: Vec<Unplaced>,
    pub rota: Vec<Visit>,
    pub status: SolveStatus,
    pub objective: f64,
    pub bound: f64,
    pub gap: f64,
    /// The secondary objective of the chosen groups (mix, travel, obvious
    /// groupings, groups of 4), lower is better; `objective` is schools placed.
    #[serde(default)]
    pub secondary: f64,
    pub problem_sha256: String,
    pub solver: SolverInfo,
    pub seconds: f64,
}

/// Why a school was left without a group. The list is fixed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum UnplacedReason {
    /// Too few schools in its phase pool to form a group.
    PoolTooSmall,
    /// No two eligible partners within the distance limit.
    Distance,
    /// Every nearby partner shares its trust.
    SameTrust,
    /// Every nearby partner was in a group with it before.
    History,
    /// No group with it could include a school rated good or better.
    NoGoodOrBetter,
    /// Feasible groups exist, but placing it would unplace others (pool arithmetic).
    Leftover,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Unplaced {
    pub urn: Urn,
    pub reason: UnplacedReason,
    pub detail: String,
}

/// One review: `host` is reviewed by `reviewers` in `period`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Visit {
    pub host: Urn,
    pub reviewers: Vec<Urn>,
    pub period: Period,
    /// Days of each reviewer's time: 1 for a primary host, 1.5 for a secondary.
    #[serde(default)]
    pub reviewer_days: f64,
}
