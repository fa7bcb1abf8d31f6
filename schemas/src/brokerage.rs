//! The brokerage problem and plan documents (CONTRACTS.md, "Brokerage problem"
//! and "Brokerage plan").
//!
//! Numbers that a user types (days, rates, distances) are kept as `f64` here so
//! that the worker's validation can name a negative or fractional value and its
//! field, rather than failing inside the JSON parser.
//!
//! The problem is read strictly (CONTRACTS.md, "Command line"): a field no
//! type here defines is refused at any level (`deny_unknown_fields`), and a
//! field that carries a hard rule is required even where `null` is allowed
//! (every field of the policy; a school's `trust`; a practitioner's
//! `max_days`), so a missing rule is never read as "no rule". Lists that may
//! be empty (`conflicts`, `exclusions`, `pinned`) may be absent.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{
    Designation, NeedArea, Period, Phase, PractitionerId, RequestId, RequiredNullable, SameTrust,
    SolveStatus, SolverInfo, Urn, required_nullable,
};

/// Days per period, for example `{"2026-AU1": 1, "2026-AU2": 2}`.
pub type DaysByPeriod = BTreeMap<Period, f64>;

/// Whole days per period in a plan.
pub type PlanDays = BTreeMap<Period, u32>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrokerageProblem {
    /// The half-terms of the planning horizon, in order.
    pub periods: Vec<Period>,
    pub schools: Vec<School>,
    pub practitioners: Vec<Practitioner>,
    pub requests: Vec<SupportRequest>,
    #[serde(default)]
    pub conflicts: Vec<Conflict>,
    /// Pairs never to assign (rule 9), for example a practitioner who
    /// declined the request before. May be absent (none).
    #[serde(default)]
    pub exclusions: Vec<Exclusion>,
    #[serde(default)]
    pub pinned: Vec<Pin>,
    pub policy: BrokeragePolicy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct School {
    pub urn: Urn,
    pub phase: Phase,
    /// Required; `null` when the school is in no trust.
    #[serde(deserialize_with = "required_nullable")]
    #[schemars(with = "RequiredNullable<String>")]
    pub trust: Option<String>,
    pub easting: f64,
    pub northing: f64,
    /// School name, for people reading a plan; not used by the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Practitioner {
    pub id: PractitionerId,
    pub designation: Designation,
    pub home_urn: Urn,
    pub specialisms: Vec<NeedArea>,
    pub phases: Vec<Phase>,
    pub day_rate: f64,
    /// Days available per period; a period not listed has no capacity.
    pub capacity: DaysByPeriod,
    /// Required; `null` for no yearly limit.
    #[serde(deserialize_with = "required_nullable")]
    #[schemars(with = "RequiredNullable<f64>")]
    pub max_days: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SupportRequest {
    pub id: RequestId,
    pub urn: Urn,
    pub need: NeedArea,
    /// The titles the request accepts.
    pub designations: Vec<Designation>,
    /// 1 (most urgent) to 4. Kept wide so validation can name a bad value.
    pub priority: i64,
    pub days: DaysByPeriod,
    #[serde(default)]
    pub previous_practitioner: Option<PractitionerId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Conflict {
    pub practitioner: PractitionerId,
    pub urn: Urn,
}

/// A request-level exclusion (rule 9): `practitioner` is never assigned to
/// `request` (for example because they declined it); other requests of the
/// same school are not affected. A pin on an excluded pair is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Exclusion {
    pub request: RequestId,
    pub practitioner: PractitionerId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    pub request: RequestId,
    pub practitioner: PractitionerId,
    pub days: DaysByPeriod,
}

/// The hard rules of a run. Every field is required: `null` is how a
/// document says "no limit" (`max_distance_km`, `budget`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrokeragePolicy {
    #[serde(deserialize_with = "required_nullable")]
    #[schemars(with = "RequiredNullable<f64>")]
    pub max_distance_km: Option<f64>,
    pub same_trust: SameTrust,
    #[serde(deserialize_with = "required_nullable")]
    #[schemars(with = "RequiredNullable<f64>")]
    pub budget: Option<f64>,
    pub single_practitioner: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BrokeragePlan {
    pub assignments: Vec<Assignment>,
    pub unmet: Vec<Unmet>,
    /// Days covered per priority tier 1..4.
    pub coverage: [u32; 4],
    pub status: SolveStatus,
    /// The primary goal as one number: days covered per tier weighted so that
    /// one tier-k day outweighs every day of the tiers after it
    /// (`w4 = 1`, `wk = w(k+1) * (requested days of tier k+1 + 1)`).
    pub objective: f64,
    /// An upper bound on `objective` that no feasible plan exceeds.
    pub bound: f64,
    /// `(bound - objective) / bound`; 0 when proven optimal.
    pub gap: f64,
    pub problem_sha256: String,
    pub solver: SolverInfo,
    pub seconds: f64,
    /// Total cost of the assignments (days x day rate).
    #[serde(default)]
    pub cost: f64,
    /// With `status: "infeasible"`: which pins break which hard rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infeasibility: Option<String>,
    /// Per priority tier 1..4, in order: the days asked and covered, and
    /// the most days any feasible plan could cover in that tier while
    /// covering at least this plan's days in every higher tier. `gap` above
    /// is taken on the weighted score, in which tier 1 dominates; these say
    /// how far each lower tier may be.
    #[serde(default)]
    pub tiers: Vec<TierBound>,
}

/// One priority tier of a plan: its coverage against the best bound proven
/// for it with the higher tiers held at the plan's coverage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TierBound {
    /// 1 (most urgent) to 4.
    pub tier: u8,
    /// Days asked in this tier.
    pub requested: u32,
    /// Days the plan covers (as in `coverage`).
    pub coverage: u32,
    /// No feasible plan covering at least the plan's days in every higher
    /// tier covers more days of this one. `coverage <= bound <= requested`.
    pub bound: u32,
    /// `(bound - coverage) / bound`; 0 when the tier is proven (or `bound` is 0).
    pub gap: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Assignment {
    pub request: RequestId,
    pub practitioner: PractitionerId,
    pub days: PlanDays,
}

/// Why a request (or part of it) was left unmet. The list is fixed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum UnmetReason {
    /// No practitioner has the need, phase and designation asked for.
    NoEligiblePractitioner,
    /// Every eligible practitioner is conflicted (home school, listed, same trust).
    Conflict,
    /// Every eligible, unconflicted practitioner is too far away.
    Distance,
    /// Every eligible practitioner is excluded from this request
    /// (`exclusions`, rule 9: for example they declined it). Where some are
    /// excluded and the others conflicted, the reason is `conflict` and the
    /// detail names the excluded ones.
    Excluded,
    /// Candidates exist but their days in the period are used.
    Capacity,
    /// The budget ran out.
    Budget,
    /// Only a second practitioner could have covered the rest.
    SinglePractitioner,
    /// Candidates had days, but higher-priority requests were preferred.
    Priority,
    /// Pins alone break a hard rule, so nothing was planned (`status: "infeasible"`).
    Pins,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Unmet {
    pub request: RequestId,
    pub days: PlanDays,
    pub reason: UnmetReason,
    pub detail: String,
    /// A change that would meet it, where one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterfactual: Option<String>,
}

/// Who could take one request now, for a broker on the phone
/// (`bridges request recommend ID`): the candidates ranked as the solver
/// would choose between them for this request alone, and for every other
/// practitioner of the problem the reason they cannot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Recommendation {
    pub request: RequestId,
    /// Best first (`rank` 1).
    pub candidates: Vec<Candidate>,
    /// Sorted by practitioner id.
    pub unavailable: Vec<NotCandidate>,
}

/// A practitioner who could take days of the request now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Candidate {
    /// 1 for the solver's first choice.
    pub rank: u32,
    pub practitioner: PractitionerId,
    pub designation: Designation,
    /// The days they would take, per half-term (within what is free, the
    /// request's days not yet assigned, `max_days` and the budget left).
    pub days: PlanDays,
    /// Their days free per half-term of the horizon, after the days already
    /// assigned (pins).
    pub free: PlanDays,
    /// `days` times their day rate.
    pub cost: f64,
    /// From their home school to the request's school, in km.
    pub distance_km: f64,
    /// They are the request's `previous_practitioner`, or already assigned to it.
    pub continuity: bool,
}

/// A practitioner who cannot take the request, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NotCandidate {
    pub practitioner: PractitionerId,
    pub reason: NotCandidateReason,
    pub detail: String,
}

/// Why a practitioner cannot take a request: the hard rule in the way, in
/// the vocabulary of a plan's explanations. The first rule that fails, in
/// this order, is given.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NotCandidateReason {
    /// The request's need is not among their specialisms (rule 3).
    Need,
    /// The school's phase is not among their phases (rule 3).
    Phase,
    /// Their designation is not among those the request accepts (rule 3).
    Designation,
    /// Home school, a listed conflict, or the same trust (rule 4).
    Conflict,
    /// Further than `max_distance_km` (rule 5).
    Distance,
    /// The pair is listed in `exclusions`, for example a decline (rule 9).
    Excluded,
    /// The request's days are all assigned already (rule 1).
    Met,
    /// The request keeps the one practitioner it already has (rule 8).
    SinglePractitioner,
    /// No day free in a half-term the request still needs, or `max_days` reached (rule 2).
    Capacity,
    /// The budget left does not pay one of their days (rule 6).
    Budget,
}
