//! Deciding a peer-review round (DESIGN.md section 7): open it for an
//! academic year with its periods (policy, history years and review terms
//! from the configuration), enrol schools (listed, or a whole LA by phase)
//! and withdraw them, record the solver's plan (every group checked
//! again), swap or move schools (each changed group checked against every
//! hard rule of the contract: the rejection names the rule and the
//! schools; `check_swap` and `check_move` show a coordinator every rule
//! for the groups a change would make before it is sent), confirm, record a review held, mark the host's report shared,
//! close.
//!
//! The hard rules (CONTRACTS.md "Triads plan") are read here from the
//! state, independently of the solver: group size (3, or 4 where the policy
//! and the periods allow), one phase with `phase_pools`, no shared trust
//! with `same_trust: forbid`, no pair of the history, every pair within
//! `max_distance_km`, and a school whose standing is strong or secure with
//! `require_good_or_better`. The history of a round is every group of the
//! confirmed rounds of its own academic year and of the `history_years`
//! before it. Each group carries why it is a good group (`GroupClaim`s,
//! true of it when recorded); the engine's `rounds::words` words them.

use std::collections::{BTreeMap, BTreeSet};

use bridges_schemas::commands::{
    CloseRound, ConfirmRound, EnrolSchools, FormRound, MoveSchool, OpenRound, RecordReview,
    Rejection, RejectionCode, ShareReport, SwapSchools, WithdrawFromRound,
};
use bridges_schemas::common::distance_km;
use bridges_schemas::events::{
    DomainEvent, FormedGroup, GroupClaim, HostSlot, ReportShared, ReviewRecorded, ReviewTerms,
    RoundClosed, RoundConfirmed, RoundFormed, RoundGroupsChanged, RoundGroupsRecorded, RoundId,
    RoundOpened, RoundSchoolWithdrawn, RoundUnplaced, RoundUnplacedRecorded, SchoolsEnrolled,
};
use bridges_schemas::triads::{TriadsPolicy, UnplacedReason};
use bridges_schemas::vocab::AcademicYearId;
use bridges_schemas::{Period, Phase, SameTrust, Standing, Urn};

use super::run::{PART_BYTES, parts_by_size};
use super::state::{Round, School};
use super::{Context, State, check_id, check_text, reject};

/// The rules of rounds, from the configuration (`[policy.triads]`).
#[derive(Debug, Clone, PartialEq)]
pub struct RoundRules {
    pub policy: TriadsPolicy,
    pub history_years: u32,
    pub terms: ReviewTerms,
}

/// Longest round id.
pub const MAX_ROUND_ID: usize = 40;

/// Fewest periods a round has: a triad's three hosts review in distinct ones.
pub const MIN_PERIODS: usize = 3;

/// Open a round.
pub fn open(
    state: &State,
    c: &OpenRound,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    check_id("round", c.round.as_str(), MAX_ROUND_ID)?;
    if state.rounds.contains_key(&c.round) {
        return Err(reject(
            RejectionCode::Duplicate,
            "round",
            &c.round,
            "this round is open already",
        ));
    }
    let calendar = &ctx.rules.calendar;
    let year: Vec<&Period> = calendar.year(&c.year).map(|h| &h.label).collect();
    if year.is_empty() {
        return Err(reject(
            RejectionCode::NotConfigured,
            "year",
            &c.year,
            "not an academic year of the configured calendar",
        ));
    }
    let today = ctx.today();
    let periods: Vec<Period> = match &c.periods {
        None => year.into_iter().filter(|p| !calendar.has_ended(p, today)).cloned().collect(),
        Some(given) => {
            let mut seen = BTreeSet::new();
            for p in given {
                if !year.contains(&p) {
                    return Err(reject(
                        RejectionCode::NotConfigured,
                        "periods",
                        p,
                        format!("not a half-term of {}", c.year),
                    ));
                }
                if calendar.has_ended(p, today) {
                    return Err(reject(
                        RejectionCode::PeriodEnded,
                        "periods",
                        p,
                        format!("that half-term ended before {today}"),
                    ));
                }
                if !seen.insert(p) {
                    return Err(reject(RejectionCode::Invalid, "periods", p, "listed twice"));
                }
            }
            // In calendar order.
            year.into_iter().filter(|p| seen.contains(p)).cloned().collect()
        }
    };
    if periods.len() < MIN_PERIODS {
        return Err(reject(
            RejectionCode::Invalid,
            "periods",
            periods.iter().map(Period::as_str).collect::<Vec<_>>().join(","),
            format!("a round needs at least {MIN_PERIODS} half-terms not yet ended"),
        ));
    }
    let r = &ctx.rules.rounds;
    Ok(vec![DomainEvent::RoundOpened(RoundOpened {
        round: c.round.clone(),
        year: c.year.clone(),
        periods,
        policy: r.policy.clone(),
        history_years: r.history_years,
        terms: r.terms,
    })])
}

/// Enrol schools, listed or a whole LA by phase.
pub fn enrol(
    state: &State,
    c: &EnrolSchools,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    let round = changeable(state, &c.round)?;
    let new: Vec<Urn> = match (c.urns.is_empty(), c.phase) {
        (false, None) => {
            let mut new = BTreeSet::new();
            for urn in &c.urns {
                let school = state.schools.get(urn).ok_or_else(|| {
                    reject(RejectionCode::UnknownSchool, "urns", urn, "no such school")
                })?;
                if school.closed {
                    return Err(reject(
                        RejectionCode::SchoolClosed,
                        "urns",
                        urn,
                        "the school has closed",
                    ));
                }
                if !round.enrolled.contains(urn) {
                    new.insert(*urn);
                }
            }
            new.into_iter().collect()
        }
        (true, Some(phase)) => state
            .schools
            .values()
            .filter(|s| s.is_open() && s.la_code == ctx.rules.la_code && s.phase == phase)
            .map(|s| s.urn)
            .filter(|u| !round.enrolled.contains(u))
            .collect(),
        _ => {
            return Err(reject(
                RejectionCode::Invalid,
                "urns",
                format!("{} schools and phase {:?}", c.urns.len(), c.phase.map(Phase::as_str)),
                "give either schools or a phase (the whole LA's schools of that phase)",
            ));
        }
    };
    Ok(parts_by_size(&new, PART_BYTES)
        .into_iter()
        .map(|urns| DomainEvent::SchoolsEnrolled(SchoolsEnrolled { round: c.round.clone(), urns }))
        .collect())
}

/// A school leaves the round (and its group).
pub fn withdraw(state: &State, c: &WithdrawFromRound) -> Result<Vec<DomainEvent>, Rejection> {
    let round = of(state, &c.round)?;
    if round.closed {
        return Err(closed(&c.round));
    }
    if !round.enrolled.contains(&c.urn) {
        return Err(reject(RejectionCode::NotEnrolled, "urn", c.urn, "not enrolled in this round"));
    }
    check_text("reason", &c.reason, 500)?;
    Ok(vec![DomainEvent::RoundSchoolWithdrawn(RoundSchoolWithdrawn {
        round: c.round.clone(),
        urn: c.urn,
        reason: c.reason.clone(),
    })])
}

/// Record the solver's plan: every enrolled school in a group or unplaced,
/// each group checked against the hard rules; groups numbered from 1 in
/// the plan's order, each with its hosting slots and its claims.
pub fn form(state: &State, c: &FormRound) -> Result<Vec<DomainEvent>, Rejection> {
    let round = changeable(state, &c.round)?;
    if c.problem_sha256.len() != 64 || !c.problem_sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(reject(
            RejectionCode::Invalid,
            "problem_sha256",
            &c.problem_sha256,
            "64 hex digits",
        ));
    }
    let plan = &c.plan;
    let mut covered: BTreeMap<Urn, usize> = BTreeMap::new();
    for u in plan.groups.iter().flatten().chain(plan.unplaced.iter().map(|u| &u.urn)) {
        *covered.entry(*u).or_default() += 1;
    }
    if let Some((urn, n)) = covered.iter().find(|(_, n)| **n != 1) {
        return Err(reject(
            RejectionCode::Invalid,
            "plan",
            urn,
            format!("the school is {n} times among the plan's groups and unplaced schools"),
        ));
    }
    let planned: BTreeSet<Urn> = covered.keys().copied().collect();
    if planned != round.enrolled {
        let differs = planned.symmetric_difference(&round.enrolled).next().copied();
        return Err(reject(
            RejectionCode::WrongState,
            "plan",
            differs.map_or(String::new(), |u| u.to_string()),
            "the round's enrolment changed since the plan was solved; form it again",
        ));
    }
    let history = history(state, round);
    let mut groups = Vec::with_capacity(plan.groups.len());
    for (i, members) in plan.groups.iter().enumerate() {
        let mut members = members.clone();
        members.sort();
        check_group(state, round, &members, &history)?;
        groups.push(group(state, round, i as u32 + 1, members, &history));
    }
    let unplaced: Vec<RoundUnplaced> = plan
        .unplaced
        .iter()
        .map(|u| RoundUnplaced { urn: u.urn, reason: u.reason, detail: u.detail.clone() })
        .collect();
    let mut events = vec![DomainEvent::RoundFormed(RoundFormed {
        round: c.round.clone(),
        as_of_position: c.as_of_position,
        problem_sha256: c.problem_sha256.clone(),
        status: plan.status,
        objective: plan.objective,
        bound: plan.bound,
        gap: plan.gap,
        seconds: plan.seconds,
        groups: groups.len() as u32,
        unplaced: unplaced.len() as u32,
        history: history.rounds.clone(),
    })];
    for part in parts_by_size(&groups, PART_BYTES) {
        events.push(DomainEvent::RoundGroupsRecorded(RoundGroupsRecorded {
            round: c.round.clone(),
            groups: part,
        }));
    }
    for part in parts_by_size(&unplaced, PART_BYTES) {
        events.push(DomainEvent::RoundUnplacedRecorded(RoundUnplacedRecorded {
            round: c.round.clone(),
            unplaced: part,
        }));
    }
    Ok(events)
}

/// Exchange two schools' places (one may be unplaced).
pub fn swap(state: &State, c: &SwapSchools) -> Result<Vec<DomainEvent>, Rejection> {
    let (round, changes) = swap_changes(state, c)?;
    let history = history(state, round);
    let mut changed = Vec::new();
    for (n, members) in changes {
        check_group(state, round, &members, &history)?;
        changed.push(group(state, round, n, members, &history));
    }
    let (ga, gb) = (round.group_of(c.a), round.group_of(c.b));
    let mut unplaced = Vec::new();
    let mut placed = Vec::new();
    if ga.is_none() || gb.is_none() {
        let (out, into) = if ga.is_none() { (c.b, c.a) } else { (c.a, c.b) };
        unplaced.push(left_out(out, &format!("swapped out for {into} by the coordinator")));
        placed.push(into);
    }
    Ok(vec![DomainEvent::RoundGroupsChanged(RoundGroupsChanged {
        round: c.round.clone(),
        change: format!("swap {} {}", c.a, c.b),
        groups: changed,
        unplaced,
        placed,
    })])
}

/// Move a school into a group, or out of its own.
pub fn move_school(state: &State, c: &MoveSchool) -> Result<Vec<DomainEvent>, Rejection> {
    let (round, changes) = move_changes(state, c)?;
    let history = history(state, round);
    let mut changed = Vec::new();
    for (n, members) in changes {
        check_group(state, round, &members, &history)?;
        changed.push(group(state, round, n, members, &history));
    }
    let (unplaced, placed, change) = match c.to {
        Some(n) => (Vec::new(), vec![c.urn], format!("move {} to {n}", c.urn)),
        None => (
            vec![left_out(c.urn, "moved out of its group by the coordinator")],
            Vec::new(),
            format!("move {} out", c.urn),
        ),
    };
    let placed = if round.group_of(c.urn).is_some() { Vec::new() } else { placed };
    Ok(vec![DomainEvent::RoundGroupsChanged(RoundGroupsChanged {
        round: c.round.clone(),
        change,
        groups: changed,
        unplaced,
        placed,
    })])
}

/// One hard rule of a round for one proposed group: the rule (the field a
/// rejection names) and its breach, if the group breaks it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleCheck {
    pub rule: &'static str,
    pub broken: Option<Rejection>,
}

/// A group a swap or a move would change: its number, its members after
/// the change, and every hard rule of the round checked for them.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupCheck {
    pub group: u32,
    pub members: Vec<Urn>,
    pub rules: Vec<RuleCheck>,
}

/// What a swap would make of each group it changes, every hard rule
/// checked, for a coordinator to see before sending it; the rejection
/// `swap` would give when the swap cannot be made at all (a school not
/// enrolled, both in the same place, the round not changeable).
pub fn check_swap(state: &State, c: &SwapSchools) -> Result<Vec<GroupCheck>, Rejection> {
    let (round, changes) = swap_changes(state, c)?;
    Ok(group_checks(state, round, changes))
}

/// As [`check_swap`], for a move.
pub fn check_move(state: &State, c: &MoveSchool) -> Result<Vec<GroupCheck>, Rejection> {
    let (round, changes) = move_changes(state, c)?;
    Ok(group_checks(state, round, changes))
}

/// The groups a change by hand rewrites: each one's number and its
/// members after the change.
type Changes = Vec<(u32, Vec<Urn>)>;

/// The groups a swap changes, with their members after it (each checked
/// by `swap` in this order).
fn swap_changes<'s>(state: &'s State, c: &SwapSchools) -> Result<(&'s Round, Changes), Rejection> {
    let round = formed(state, &c.round)?;
    for (field, urn) in [("a", c.a), ("b", c.b)] {
        if !round.enrolled.contains(&urn) {
            return Err(reject(
                RejectionCode::NotEnrolled,
                field,
                urn,
                "not enrolled in this round",
            ));
        }
    }
    let (ga, gb) = (round.group_of(c.a), round.group_of(c.b));
    if ga == gb {
        return Err(reject(
            RejectionCode::Invalid,
            "b",
            c.b,
            format!("{} and {} are already in the same place", c.a, c.b),
        ));
    }
    let mut changes = Vec::new();
    for (from, out, into) in [(ga, c.a, c.b), (gb, c.b, c.a)] {
        if let Some(n) = from {
            changes.push((n, replaced(&round.groups[&n].members, out, Some(into))));
        }
    }
    Ok((round, changes))
}

/// The groups a move changes (the one it leaves, then the one it joins),
/// with their members after it.
fn move_changes<'s>(state: &'s State, c: &MoveSchool) -> Result<(&'s Round, Changes), Rejection> {
    let round = formed(state, &c.round)?;
    if !round.enrolled.contains(&c.urn) {
        return Err(reject(RejectionCode::NotEnrolled, "urn", c.urn, "not enrolled in this round"));
    }
    let from = round.group_of(c.urn);
    if let Some(n) = c.to {
        if !round.groups.contains_key(&n) {
            return Err(reject(
                RejectionCode::Invalid,
                "to",
                n,
                "no group of this number in the round",
            ));
        }
        if from == Some(n) {
            return Err(reject(
                RejectionCode::Invalid,
                "to",
                n,
                format!("{} is in that group", c.urn),
            ));
        }
    } else if from.is_none() {
        return Err(reject(
            RejectionCode::Invalid,
            "to",
            "out",
            format!("{} is in no group", c.urn),
        ));
    }
    let mut changes = Vec::new();
    if let Some(n) = from {
        changes.push((n, replaced(&round.groups[&n].members, c.urn, None)));
    }
    if let Some(n) = c.to {
        let mut members = round.groups[&n].members.clone();
        members.push(c.urn);
        members.sort();
        changes.push((n, members));
    }
    Ok((round, changes))
}

fn group_checks(state: &State, round: &Round, changes: Changes) -> Vec<GroupCheck> {
    let history = history(state, round);
    changes
        .into_iter()
        .map(|(group, members)| {
            let rules = check_rules(state, round, &members, &history);
            GroupCheck { group, members, rules }
        })
        .collect()
}

/// Confirm the groups (each checked again: a withdrawal may have left one
/// short, a round confirmed since may have grouped a pair) and the rota.
pub fn confirm(state: &State, c: &ConfirmRound) -> Result<Vec<DomainEvent>, Rejection> {
    let round = formed(state, &c.round)?;
    if round.groups.is_empty() {
        return Err(reject(
            RejectionCode::WrongState,
            "round",
            &c.round,
            "the round has no groups",
        ));
    }
    let history = history(state, round);
    for g in round.groups.values() {
        check_group(state, round, &g.members, &history)?;
    }
    Ok(vec![DomainEvent::RoundConfirmed(RoundConfirmed { round: c.round.clone() })])
}

/// Record a host's review as held.
pub fn record_review(
    state: &State,
    c: &RecordReview,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    let round = of(state, &c.round)?;
    if round.closed {
        return Err(closed(&c.round));
    }
    if !round.confirmed {
        return Err(reject(
            RejectionCode::WrongState,
            "round",
            &c.round,
            "the round is not confirmed yet",
        ));
    }
    let Some(n) = round.group_of(c.host) else {
        return Err(reject(
            RejectionCode::NotEnrolled,
            "host",
            c.host,
            "in no group of this round",
        ));
    };
    if round.reviews.contains_key(&c.host) {
        return Err(reject(
            RejectionCode::Duplicate,
            "host",
            c.host,
            "its review is recorded already",
        ));
    }
    let g = &round.groups[&n];
    let Some(slot) = g.hosts.iter().find(|h| h.host == c.host) else {
        return Err(reject(RejectionCode::WrongState, "host", c.host, "has no hosting period"));
    };
    let calendar = &ctx.rules.calendar;
    if let Some(h) = calendar.half_term(&slot.period)
        && !(h.first <= c.on && c.on <= h.last)
    {
        return Err(reject(
            RejectionCode::OutsideHalfTerm,
            "on",
            c.on,
            format!("{} hosts in {} ({} to {})", c.host, slot.period, h.first, h.last),
        ));
    }
    if c.on > ctx.today() {
        return Err(reject(RejectionCode::InFuture, "on", c.on, format!("after {}", ctx.today())));
    }
    if !calendar.is_working_day(c.on) {
        return Err(reject(RejectionCode::NotWorkingDay, "on", c.on, "a weekend or bank holiday"));
    }
    if c.reviewers.is_empty() {
        return Err(reject(
            RejectionCode::Invalid,
            "reviewers",
            "[]",
            "at least one reviewing school",
        ));
    }
    let mut seen = BTreeSet::new();
    for r in &c.reviewers {
        if *r == c.host || !g.members.contains(r) {
            return Err(reject(
                RejectionCode::NotEnrolled,
                "reviewers",
                r,
                format!("not a reviewer of {} (its group: {})", c.host, urns(&g.members)),
            ));
        }
        if !seen.insert(*r) {
            return Err(reject(RejectionCode::Invalid, "reviewers", r, "listed twice"));
        }
    }
    let days = match c.days {
        Some(d) => {
            if !(d.is_finite() && d > 0.0 && d <= 5.0 && (d * 2.0).fract() == 0.0) {
                return Err(reject(
                    RejectionCode::Invalid,
                    "days",
                    d,
                    "0.5 to 5 days, in half days",
                ));
            }
            d
        }
        None => review_days(&round.terms, state.schools.get(&c.host).map(|s| s.phase)),
    };
    Ok(vec![DomainEvent::ReviewRecorded(ReviewRecorded {
        round: c.round.clone(),
        host: c.host,
        on: c.on,
        reviewers: seen.into_iter().collect(),
        days,
    })])
}

/// Mark a host's report shared or not.
pub fn share(state: &State, c: &ShareReport) -> Result<Vec<DomainEvent>, Rejection> {
    let round = of(state, &c.round)?;
    if round.closed {
        return Err(closed(&c.round));
    }
    let Some(review) = round.reviews.get(&c.host) else {
        return Err(reject(
            RejectionCode::WrongState,
            "host",
            c.host,
            "its review is not recorded yet",
        ));
    };
    if review.shared == Some(c.shared) {
        return Ok(Vec::new());
    }
    Ok(vec![DomainEvent::ReportShared(ReportShared {
        round: c.round.clone(),
        host: c.host,
        shared: c.shared,
    })])
}

/// Close the round.
pub fn close(state: &State, c: &CloseRound) -> Result<Vec<DomainEvent>, Rejection> {
    let round = of(state, &c.round)?;
    if round.closed {
        return Err(closed(&c.round));
    }
    Ok(vec![DomainEvent::RoundClosed(RoundClosed { round: c.round.clone() })])
}

/// The history of a round: the earlier confirmed rounds it covers and
/// every pair their groups held.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub rounds: Vec<RoundId>,
    pub groups: Vec<Vec<Urn>>,
    pairs: BTreeSet<(Urn, Urn)>,
}

impl History {
    /// Whether `a` and `b` were grouped in the history.
    pub fn grouped(&self, a: Urn, b: Urn) -> bool {
        self.pairs.contains(&(a.min(b), a.max(b)))
    }
}

/// Every group of the confirmed rounds (other than `round`) of its
/// academic year and of the `history_years` before it.
pub fn history(state: &State, round: &Round) -> History {
    let Some(start) = year_start(&round.year) else { return History::default() };
    let years = i64::from(round.history_years);
    let mut h = History::default();
    for (id, r) in &state.rounds {
        let covered = year_start(&r.year).is_some_and(|y| y <= start && y >= start - years);
        if id == &round.id || !r.confirmed || !covered {
            continue;
        }
        h.rounds.push(id.clone());
        for g in r.groups.values() {
            for (i, &a) in g.members.iter().enumerate() {
                for &b in &g.members[i + 1..] {
                    h.pairs.insert((a.min(b), a.max(b)));
                }
            }
            h.groups.push(g.members.clone());
        }
    }
    h
}

/// The first hard rule `members` would break as a group of `round`, as a
/// rejection naming the rule (its field) and the schools (its value):
/// the size, then each pair in turn against the pair rules, then the
/// group's standing.
pub fn check_group(
    state: &State,
    round: &Round,
    members: &[Urn],
    history: &History,
) -> Result<(), Rejection> {
    check_size(round, members)?;
    let schools = schools_of(state, members)?;
    for (i, a) in schools.iter().enumerate() {
        for b in &schools[i + 1..] {
            for rule in PairRule::ALL {
                rule.check(&round.policy, history, a, b)?;
            }
        }
    }
    check_standing(&round.policy, members, &schools)
}

/// Every hard rule in force in `round` for `members` as a group, each with
/// its first breach ([`check_group`] stops at the first rule broken; a
/// coordinator checking a change is shown them all).
pub fn check_rules(
    state: &State,
    round: &Round,
    members: &[Urn],
    history: &History,
) -> Vec<RuleCheck> {
    let policy = &round.policy;
    let mut out = vec![RuleCheck { rule: "group_size", broken: check_size(round, members).err() }];
    let schools = match schools_of(state, members) {
        Ok(s) => s,
        Err(r) => {
            out.push(RuleCheck { rule: "urn", broken: Some(r) });
            return out;
        }
    };
    for rule in PairRule::ALL.into_iter().filter(|r| r.in_force(policy)) {
        let broken = schools.iter().enumerate().find_map(|(i, a)| {
            schools[i + 1..].iter().find_map(|b| rule.check(policy, history, a, b).err())
        });
        out.push(RuleCheck { rule: rule.name(), broken });
    }
    if policy.require_good_or_better {
        let broken = check_standing(policy, members, &schools).err();
        out.push(RuleCheck { rule: "require_good_or_better", broken });
    }
    out
}

/// The rules a group's every pair must keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PairRule {
    PhasePools,
    SameTrust,
    History,
    MaxDistance,
}

impl PairRule {
    /// In the order `check_group` tries them on each pair.
    const ALL: [PairRule; 4] =
        [PairRule::PhasePools, PairRule::SameTrust, PairRule::History, PairRule::MaxDistance];

    fn name(self) -> &'static str {
        match self {
            PairRule::PhasePools => "phase_pools",
            PairRule::SameTrust => "same_trust",
            PairRule::History => "history",
            PairRule::MaxDistance => "max_distance_km",
        }
    }

    fn in_force(self, policy: &TriadsPolicy) -> bool {
        match self {
            PairRule::PhasePools => policy.phase_pools,
            PairRule::SameTrust => policy.same_trust == SameTrust::Forbid,
            PairRule::History => true,
            PairRule::MaxDistance => policy.max_distance_km.is_some(),
        }
    }

    fn check(
        self,
        policy: &TriadsPolicy,
        history: &History,
        a: &School,
        b: &School,
    ) -> Result<(), Rejection> {
        let pair = || format!("{}, {}", a.urn, b.urn);
        let breach =
            |reason: String| Err(reject(RejectionCode::HardRule, self.name(), pair(), reason));
        match self {
            PairRule::PhasePools if policy.phase_pools && a.phase != b.phase => breach(format!(
                "{} is {} and {} is {}: a group has one phase",
                a.urn, a.phase, b.urn, b.phase
            )),
            PairRule::SameTrust
                if policy.same_trust == SameTrust::Forbid
                    && a.trust.is_some()
                    && a.trust == b.trust =>
            {
                let trust = a.trust.as_deref().unwrap_or_default();
                breach(format!("{} and {} share a trust ({trust})", a.urn, b.urn))
            }
            PairRule::History if history.grouped(a.urn, b.urn) => {
                breach(format!("{} and {} were grouped in an earlier round", a.urn, b.urn))
            }
            PairRule::MaxDistance => match policy.max_distance_km {
                Some(limit) if km(a, b) > limit => breach(format!(
                    "{} and {} are {:.1} km apart; the limit is {limit} km",
                    a.urn,
                    b.urn,
                    km(a, b)
                )),
                _ => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

/// 3 schools, or 4 where the policy and the periods allow.
fn check_size(round: &Round, members: &[Urn]) -> Result<(), Rejection> {
    let four = round.policy.allow_groups_of_4 && round.periods.len() >= 4;
    let n = members.len();
    if n == 3 || (n == 4 && four) {
        return Ok(());
    }
    let sizes = if four { "3 or 4" } else { "3" };
    Err(reject(
        RejectionCode::HardRule,
        "group_size",
        urns(members),
        format!("a group would have {n} schools; this round's groups have {sizes}"),
    ))
}

/// With `require_good_or_better`, a school of the group is strong or secure.
fn check_standing(
    policy: &TriadsPolicy,
    members: &[Urn],
    schools: &[&School],
) -> Result<(), Rejection> {
    if policy.require_good_or_better
        && !schools.iter().any(|s| standing(s).is_some_and(Standing::good_or_better))
    {
        return Err(reject(
            RejectionCode::HardRule,
            "require_good_or_better",
            urns(members),
            "no school of the group has a standing of strong or secure",
        ));
    }
    Ok(())
}

fn schools_of<'s>(state: &'s State, members: &[Urn]) -> Result<Vec<&'s School>, Rejection> {
    members
        .iter()
        .map(|urn| {
            state
                .schools
                .get(urn)
                .ok_or_else(|| reject(RejectionCode::UnknownSchool, "urn", urn, "no such school"))
        })
        .collect()
}

/// A group of the round: its hosting slots and its claims.
pub fn group(
    state: &State,
    round: &Round,
    number: u32,
    members: Vec<Urn>,
    history: &History,
) -> FormedGroup {
    let hosts = hosts(&round.periods, number, &members);
    let claims = claims(state, round, &members, history);
    FormedGroup { group: number, members, hosts, claims }
}

/// Member `k` of group `number` hosts in period `(number - 1 + k) mod
/// periods` (the solver's rota rule): a group's hosts take distinct
/// periods, so in a period every school reviews at most once.
pub fn hosts(periods: &[Period], number: u32, members: &[Urn]) -> Vec<HostSlot> {
    let n = periods.len().max(1);
    members
        .iter()
        .enumerate()
        .filter_map(|(k, &host)| {
            let period = periods.get((number as usize + n - 1 + k) % n)?.clone();
            Some(HostSlot { host, period })
        })
        .collect()
}

/// Why a group is good, each claim true of it now.
pub fn claims(state: &State, round: &Round, members: &[Urn], history: &History) -> Vec<GroupClaim> {
    let schools: Vec<&School> = members.iter().filter_map(|u| state.schools.get(u)).collect();
    let mut out = Vec::new();
    let bands: BTreeSet<Standing> = schools.iter().filter_map(|s| standing(s)).collect();
    let no_outcome = schools.iter().any(|s| s.inspection.is_none());
    out.push(GroupClaim::Standings { bands: bands.into_iter().rev().collect(), no_outcome });
    let mut furthest: f64 = 0.0;
    let mut new_to_each_other = true;
    for (i, a) in schools.iter().enumerate() {
        for b in &schools[i + 1..] {
            furthest = furthest.max(km(a, b));
            new_to_each_other &= !history.grouped(a.urn, b.urn);
        }
    }
    out.push(GroupClaim::WithinKm { km: (furthest * 10.0).ceil() / 10.0 });
    if new_to_each_other {
        out.push(GroupClaim::NewPartners { rounds: history.rounds.len() as u32 });
    }
    let trusts: Vec<&String> = schools.iter().filter_map(|s| s.trust.as_ref()).collect();
    if !trusts.is_empty() && trusts.iter().collect::<BTreeSet<_>>().len() == trusts.len() {
        out.push(GroupClaim::NoSharedTrust);
    }
    let pupils: Vec<u32> = schools.iter().filter_map(|s| s.pupils).collect();
    if pupils.len() == schools.len()
        && let (Some(&smallest), Some(&largest)) = (pupils.iter().min(), pupils.iter().max())
    {
        out.push(GroupClaim::Sizes { smallest, largest });
    }
    if schools.iter().all(|s| !nearest_in(state, round, s, members)) {
        out.push(GroupClaim::NotNearest);
    }
    let localities: BTreeSet<&str> = schools.iter().filter_map(|s| s.locality()).collect();
    if schools.len() > 1 && localities.len() == schools.len() {
        out.push(GroupClaim::NotSameLocality {
            localities: localities.into_iter().map(str::to_owned).collect(),
        });
    }
    out
}

/// Whether a school's nearest enrolled school of its pool (any at the
/// nearest distance) is among `members`.
pub fn nearest_in(state: &State, round: &Round, school: &School, members: &[Urn]) -> bool {
    let others: Vec<(f64, Urn)> = round
        .enrolled
        .iter()
        .filter(|u| **u != school.urn)
        .filter_map(|u| state.schools.get(u))
        .filter(|o| !round.policy.phase_pools || o.phase == school.phase)
        .map(|o| (km(school, o), o.urn))
        .collect();
    let Some(nearest) = others.iter().map(|(d, _)| *d).min_by(f64::total_cmp) else {
        return false;
    };
    others.iter().any(|(d, u)| *d <= nearest + 1e-9 && members.contains(u))
}

/// Each reviewing school's days for a review at a host of `phase`.
pub fn review_days(terms: &ReviewTerms, phase: Option<Phase>) -> f64 {
    if is_secondary(phase) { terms.secondary_days } else { terms.primary_days }
}

/// The cost of one review hosted by a school of `phase`, pence.
pub fn review_cost_pence(terms: &ReviewTerms, phase: Option<Phase>) -> u64 {
    if is_secondary(phase) { terms.secondary_cost_pence } else { terms.primary_cost_pence }
}

/// Secondary, all-through and 16-plus hosts take the secondary terms.
pub fn is_secondary(phase: Option<Phase>) -> bool {
    matches!(phase, Some(Phase::Secondary | Phase::AllThrough | Phase::SixteenPlus))
}

/// A school's standing, of its latest inspection outcome.
pub fn standing(school: &School) -> Option<Standing> {
    school.inspection.as_ref().map(|o| o.standing())
}

/// Straight-line kilometres between two schools.
pub fn km(a: &School, b: &School) -> f64 {
    distance_km(a.easting, a.northing, b.easting, b.northing)
}

/// The first year of an academic year id (`2026-27` -> 2026).
pub fn year_start(year: &AcademicYearId) -> Option<i64> {
    year.as_str().get(..4)?.parse().ok()
}

fn urns(members: &[Urn]) -> String {
    members.iter().map(Urn::to_string).collect::<Vec<_>>().join(", ")
}

fn replaced(members: &[Urn], out: Urn, into: Option<Urn>) -> Vec<Urn> {
    let mut v: Vec<Urn> = members.iter().copied().filter(|u| *u != out).collect();
    v.extend(into);
    v.sort();
    v
}

fn left_out(urn: Urn, detail: &str) -> RoundUnplaced {
    RoundUnplaced { urn, reason: UnplacedReason::Leftover, detail: detail.to_owned() }
}

fn of<'s>(state: &'s State, id: &RoundId) -> Result<&'s Round, Rejection> {
    state
        .rounds
        .get(id)
        .ok_or_else(|| reject(RejectionCode::UnknownRound, "round", id, "no such round"))
}

fn closed(id: &RoundId) -> Rejection {
    reject(RejectionCode::WrongState, "round", id, "the round is closed")
}

/// A round whose enrolment and groups may still change: open, not confirmed.
fn changeable<'s>(state: &'s State, id: &RoundId) -> Result<&'s Round, Rejection> {
    let round = of(state, id)?;
    if round.closed {
        return Err(closed(id));
    }
    if round.confirmed {
        return Err(reject(
            RejectionCode::WrongState,
            "round",
            id,
            "the round is confirmed; its groups stand",
        ));
    }
    Ok(round)
}

/// A changeable round that has been formed.
fn formed<'s>(state: &'s State, id: &RoundId) -> Result<&'s Round, Rejection> {
    let round = changeable(state, id)?;
    if round.formed.is_none() {
        return Err(reject(RejectionCode::WrongState, "round", id, "the round is not formed yet"));
    }
    Ok(round)
}
