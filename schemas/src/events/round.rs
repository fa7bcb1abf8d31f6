//! Events of a peer-review round's stream, `round-<id>` (DESIGN.md section
//! 7): opened for an academic year with its periods, policy and review
//! terms; schools enrolled (in parts: a whole LA does not fit one event) and
//! withdrawn; formed by the triads solver (the header, then its groups and
//! unplaced schools in parts); groups changed by a swap or a move; confirmed
//! (the rota published); reviews recorded as held; a host's report shared
//! or not; closed. Reviewers are schools (their leaders), never named people.

use std::fmt;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Period, SolveStatus, Urn, string_id};
use crate::inspection::Standing;
use crate::triads::{TriadsPolicy, UnplacedReason};
use crate::vocab::AcademicYearId;

string_id!(
    /// A review round's id, for example `2026-27-primary`.
    RoundId
);

/// `round-<id>`.
pub fn round_stream(id: &RoundId) -> String {
    format!("round-{id}")
}

/// What a round's reviews take and cost, fixed when it opens (from config):
/// each reviewing school's days per review, and the cost of one hosted
/// review, by the host's phase (secondary: secondary, all-through, 16-plus).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReviewTerms {
    pub primary_days: f64,
    pub secondary_days: f64,
    /// Pence.
    pub primary_cost_pence: u64,
    /// Pence.
    pub secondary_cost_pence: u64,
}

/// A round was opened for an academic year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoundOpened {
    pub round: RoundId,
    pub year: AcademicYearId,
    /// The half-terms in which reviews are hosted.
    pub periods: Vec<Period>,
    pub policy: TriadsPolicy,
    /// Groups of confirmed rounds of this many academic years before this
    /// one (and of this one) are the history no pair may repeat.
    pub history_years: u32,
    pub terms: ReviewTerms,
}

/// Schools joined the round (one part of an enrolment).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SchoolsEnrolled {
    pub round: RoundId,
    pub urns: Vec<Urn>,
}

/// A school left the round (and its group, if it had one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoundSchoolWithdrawn {
    pub round: RoundId,
    pub urn: Urn,
    pub reason: String,
}

/// One school hosts its review in one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HostSlot {
    pub host: Urn,
    pub period: Period,
}

/// A fact about a group that makes it a good one, true when it was
/// recorded; the engine words it for a coordinator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "claim", rename_all = "snake_case")]
pub enum GroupClaim {
    /// The members' standings, distinct, highest first; `no_outcome` when
    /// some member has no inspection outcome.
    Standings { bands: Vec<Standing>, no_outcome: bool },
    /// The furthest two members are this far apart (km, one decimal, rounded up).
    WithinKm { km: f64 },
    /// No two members were grouped in the `rounds` earlier confirmed rounds
    /// the history covers.
    NewPartners { rounds: u32 },
    /// No two members share a trust (said when a member has one).
    NoSharedTrust,
    /// Pupils on roll from the smallest school to the largest.
    Sizes { smallest: u32, largest: u32 },
    /// No member's nearest enrolled school of its pool is in the group: not
    /// the obvious local grouping.
    NotNearest,
    /// Every member has a known locality (its postcode district) and no two
    /// share one: the districts, ascending.
    NotSameLocality { localities: Vec<String> },
}

/// A group of the round, its hosting slots (the rota) and why it is good.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FormedGroup {
    /// Its number in the round, from 1.
    pub group: u32,
    /// Ascending.
    pub members: Vec<Urn>,
    pub hosts: Vec<HostSlot>,
    pub claims: Vec<GroupClaim>,
}

/// A school left without a group, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoundUnplaced {
    pub urn: Urn,
    pub reason: UnplacedReason,
    pub detail: String,
}

/// The round was formed: how the solver did. Its groups and unplaced
/// schools follow in parts (`RoundGroupsRecorded`, `RoundUnplacedRecorded`);
/// forming again replaces them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoundFormed {
    pub round: RoundId,
    pub as_of_position: u64,
    pub problem_sha256: String,
    pub status: SolveStatus,
    /// Schools placed.
    pub objective: f64,
    pub bound: f64,
    pub gap: f64,
    pub seconds: f64,
    pub groups: u32,
    pub unplaced: u32,
    /// The earlier confirmed rounds whose groups were the history.
    pub history: Vec<RoundId>,
}

/// A part of a formed round's groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoundGroupsRecorded {
    pub round: RoundId,
    pub groups: Vec<FormedGroup>,
}

/// A part of a formed round's unplaced schools.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoundUnplacedRecorded {
    pub round: RoundId,
    pub unplaced: Vec<RoundUnplaced>,
}

/// The coordinator swapped or moved schools: the groups as they now are
/// (each replaces the group of its number; one with no members is gone),
/// the schools now left out and those now placed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoundGroupsChanged {
    pub round: RoundId,
    /// `swap 100001 100004`, `move 100001 to 3`, `move 100001 out`.
    pub change: String,
    pub groups: Vec<FormedGroup>,
    #[serde(default)]
    pub unplaced: Vec<RoundUnplaced>,
    #[serde(default)]
    pub placed: Vec<Urn>,
}

/// The groups and rota stand; reviews can be recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoundConfirmed {
    pub round: RoundId,
}

/// A host's review was held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReviewRecorded {
    pub round: RoundId,
    pub host: Urn,
    pub on: NaiveDate,
    /// The reviewing schools present.
    pub reviewers: Vec<Urn>,
    /// Days of each reviewing school's time.
    pub days: f64,
}

/// The host decided whether its review's report is shared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReportShared {
    pub round: RoundId,
    pub host: Urn,
    pub shared: bool,
}

/// The round is over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoundClosed {
    pub round: RoundId,
}
