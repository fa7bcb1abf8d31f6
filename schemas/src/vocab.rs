//! The brokerage domain's small vocabulary: ids of the entities the engine
//! holds, funding sources, tiers, ratings and reasons, and the sealed form of
//! personal data. Types only; the rules that use them live in the engine's
//! `domain`.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::string_id;

string_id!(
    /// An assignment id, for example `2026-W48-1a2b3c-a3` (a run's proposal)
    /// or `req-9-h1` (proposed by hand).
    AssignmentId
);
string_id!(
    /// A matching run id, for example `2026-W48-1a2b3c4d5e6f`.
    RunId
);
string_id!(
    /// A member of staff who acts (a broker, a coordinator, an administrator),
    /// or `system` for what Bridges does by itself (expiries).
    UserId
);
string_id!(
    /// A visit's id within its assignment, for example `v1`.
    VisitId
);
string_id!(
    /// A declared conflict's id within its practitioner, for example
    /// `school-102400` or `trust-heathrow-learning-trust`.
    ConflictId
);
string_id!(
    /// An academic year label, for example `2026-27` (September 2026 to July 2027).
    AcademicYearId
);

/// The actor of what Bridges records by itself (expiries, discarded runs).
pub const SYSTEM_USER: &str = "system";

/// Who pays for a request's days (DESIGN.md section 6, "Money").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FundingSource {
    /// The LA's core school-improvement budget.
    LaCore,
    /// The receiving school pays.
    SchoolPaid,
    /// A RISE grant (DfE Regional Improvement for Standards and Excellence).
    Rise,
    /// The school's trust pays.
    Trust,
}

impl FundingSource {
    pub const ALL: [FundingSource; 4] = [
        FundingSource::LaCore,
        FundingSource::SchoolPaid,
        FundingSource::Rise,
        FundingSource::Trust,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FundingSource::LaCore => "la_core",
            FundingSource::SchoolPaid => "school_paid",
            FundingSource::Rise => "rise",
            FundingSource::Trust => "trust",
        }
    }

    /// Reads the snake_case word (CSV cells, CLI flags).
    pub fn parse(s: &str) -> Option<FundingSource> {
        FundingSource::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

impl fmt::Display for FundingSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A request's priority tier: fixed (1 most urgent .. 4), or the school's
/// risk tier, whatever it is at each run ("follow"; tier 4 while the school
/// has none).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum TierChoice {
    #[serde(rename = "1")]
    Tier1,
    #[serde(rename = "2")]
    Tier2,
    #[serde(rename = "3")]
    Tier3,
    #[serde(rename = "4")]
    Tier4,
    #[serde(rename = "follow")]
    Follow,
}

impl TierChoice {
    /// The fixed tier, or `None` for "follow the school's risk".
    pub fn fixed(self) -> Option<u8> {
        match self {
            TierChoice::Tier1 => Some(1),
            TierChoice::Tier2 => Some(2),
            TierChoice::Tier3 => Some(3),
            TierChoice::Tier4 => Some(4),
            TierChoice::Follow => None,
        }
    }

    /// A fixed tier 1..=4.
    pub fn of(tier: u8) -> Option<TierChoice> {
        match tier {
            1 => Some(TierChoice::Tier1),
            2 => Some(TierChoice::Tier2),
            3 => Some(TierChoice::Tier3),
            4 => Some(TierChoice::Tier4),
            _ => None,
        }
    }

    /// Reads `1`..`4` or `follow`.
    pub fn parse(s: &str) -> Option<TierChoice> {
        match s {
            "follow" => Some(TierChoice::Follow),
            _ => s.parse::<u8>().ok().and_then(TierChoice::of),
        }
    }
}

impl fmt::Display for TierChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.fixed() {
            Some(t) => f.pad(&t.to_string()),
            None => f.pad("follow"),
        }
    }
}

/// Where a school's risk tier came from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskSource {
    /// The configured rule over the school's latest inspection outcome.
    InspectionRule,
    /// The LA's own assessment (a falling trend, a new head).
    La,
    /// A RISE referral of a "stuck" school.
    Rise,
}

/// The receiving school's rating of a closed request's impact.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ImpactRating {
    Significant,
    Moderate,
    Limited,
    None,
}

impl ImpactRating {
    pub const ALL: [ImpactRating; 4] = [
        ImpactRating::Significant,
        ImpactRating::Moderate,
        ImpactRating::Limited,
        ImpactRating::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImpactRating::Significant => "significant",
            ImpactRating::Moderate => "moderate",
            ImpactRating::Limited => "limited",
            ImpactRating::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<ImpactRating> {
        ImpactRating::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Why a practitioner declined a proposal.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    /// Their school cannot release them for these days.
    NoRelease,
    /// A conflict of interest not declared before.
    Conflict,
    /// The need is not one they can support well.
    NotMyArea,
    /// Travel or timing does not work.
    Logistics,
    Other,
}

impl DeclineReason {
    pub const ALL: [DeclineReason; 5] = [
        DeclineReason::NoRelease,
        DeclineReason::Conflict,
        DeclineReason::NotMyArea,
        DeclineReason::Logistics,
        DeclineReason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeclineReason::NoRelease => "no_release",
            DeclineReason::Conflict => "conflict",
            DeclineReason::NotMyArea => "not_my_area",
            DeclineReason::Logistics => "logistics",
            DeclineReason::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<DeclineReason> {
        DeclineReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What a conflict of interest is with.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ConflictTarget {
    /// One school.
    School { urn: crate::common::Urn },
    /// Every school of a trust (expanded when a problem is cut).
    Trust { name: String },
}

/// The kind of a conflict of interest.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    Governor,
    FormerEmployer,
    Family,
    Other,
}

impl ConflictKind {
    pub const ALL: [ConflictKind; 4] = [
        ConflictKind::Governor,
        ConflictKind::FormerEmployer,
        ConflictKind::Family,
        ConflictKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::Governor => "governor",
            ConflictKind::FormerEmployer => "former_employer",
            ConflictKind::Family => "family",
            ConflictKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<ConflictKind> {
        ConflictKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// How a matching run was asked for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RunTrigger {
    /// The weekly (or daily) schedule.
    Scheduled,
    /// A broker asked for it.
    OnDemand,
}

/// Personal data or a free-text note sealed under its subject's key
/// (DESIGN.md section 9): XChaCha20-Poly1305, the subject id as associated
/// data. The key lives outside the log; once it is destroyed the text is gone
/// and every view shows it as erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sealed {
    /// The subject whose key sealed it (a practitioner id, or `request-<id>`).
    pub key: String,
    /// The 24-byte nonce, base64.
    pub nonce: String,
    /// Ciphertext and tag, base64.
    pub data: String,
}

/// A practitioner's personal details, as sealed in `PractitionerDesignated`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonalDetails {
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// The character set of ids that stand in NATS subjects and stream names
/// (CONTRACTS.md): 1 to 64 ASCII letters, digits, `-` and `_`.
pub fn is_subject_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
