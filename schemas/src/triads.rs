//! The peer-review triads problem and plan documents (CONTRACTS.md, "Triads
//! problem" and "Triads plan").
//!
//! Read strictly, as the brokerage problem is (see `brokerage.rs`): unknown
//! fields are refused at any level, every policy field is required, and a
//! school's `trust` is required (`null` for none). A school's outcome is
//! either the older `ofsted` grade or an `inspection` in its framework
//! (`inspection.rs`), never both (the worker refuses a school with both).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{
    Period, Phase, RequiredNullable, SameTrust, SolveStatus, SolverInfo, Urn, required_nullable,
};
pub use crate::inspection::Ofsted;
use crate::inspection::{InspectionOutcome, Standing};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
pub struct TriadSchool {
    pub urn: Urn,
    pub phase: Phase,
    /// Required; `null` when the school is in no trust.
    #[serde(deserialize_with = "required_nullable")]
    #[schemars(with = "RequiredNullable<String>")]
    pub trust: Option<String>,
    pub easting: f64,
    pub northing: f64,
    /// The overall grade of an inspection before September 2024, or null.
    #[serde(default)]
    pub ofsted: Option<Ofsted>,
    /// The latest outcome in its framework (instead of `ofsted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspection: Option<InspectionOutcome>,
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

impl TriadSchool {
    /// The school's standing: of its `inspection`, else of its `ofsted`
    /// grade; `None` with no outcome (it then never satisfies
    /// `require_good_or_better` and is its own band in the mix).
    pub fn standing(&self) -> Option<Standing> {
        match (&self.inspection, self.ofsted) {
            (Some(outcome), _) => Some(outcome.standing()),
            (None, Some(grade)) => Some(grade.standing()),
            (None, None) => None,
        }
    }
}

/// The hard rules of a round. Every field is required: `null` is how a
/// document says "no limit" (`max_distance_km`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TriadsPolicy {
    #[serde(deserialize_with = "required_nullable")]
    #[schemars(with = "RequiredNullable<f64>")]
    pub max_distance_km: Option<f64>,
    pub same_trust: SameTrust,
    pub phase_pools: bool,
    /// Each group has a school whose standing is `strong` or `secure`.
    pub require_good_or_better: bool,
    pub allow_groups_of_4: bool,
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
    /// No group with it could include a school whose standing is strong or secure.
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
