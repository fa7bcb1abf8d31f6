//! Given / when / then rows for the peer-review round commands (open, enrol,
//! withdraw, form, swap, move, confirm, record a review, share a report,
//! close): each happy path with its events and each rejection by code and
//! field; a swap or move that would break a hard rule is refused naming
//! the rule (the field) and the schools (the value).

mod common;

use bridges_engine::domain::run::PART_BYTES;
use bridges_schemas::commands::*;
use bridges_schemas::common::{SolveStatus, SolverInfo};
use bridges_schemas::events::*;
use bridges_schemas::inspection::{InspectionOutcome, Ofsted};
use bridges_schemas::triads::{TriadsPlan, Unplaced, UnplacedReason};
use bridges_schemas::{Phase, Standing, Urn};
use common::domain::*;

const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const R1: &str = "r1";

fn rid_(s: &str) -> RoundId {
    RoundId(s.to_owned())
}

fn inspected(urn: u32, grade: Ofsted) -> DomainEvent {
    DomainEvent::InspectionRecorded(InspectionRecorded {
        urn: Urn(urn),
        outcome: InspectionOutcome::Overall { published: None, overall: grade },
        source: "manual".into(),
    })
}

/// A school `km` east of the others.
fn far(urn: u32, km: f64) -> DomainEvent {
    let mut e = school(urn, Phase::Primary);
    if let DomainEvent::SchoolRegistered(s) = &mut e {
        s.easting += km * 1000.0;
    }
    e
}

/// The round LA: primaries 200001 (outstanding, HLT), 200002 (good, HLT),
/// 200003 (requires improvement), 200004 (good), 200005 (no outcome),
/// 200006 (good), 200009 (inadequate), 200010 (good), all within a
/// kilometre; 200007 a good secondary; 200008 a good primary 30 km away;
/// 200011 a closed primary; 300001 a primary of another LA.
fn schools() -> Vec<DomainEvent> {
    use Ofsted::*;
    let mut v = vec![
        school_in(200001, Phase::Primary, Some(HLT)),
        inspected(200001, Outstanding),
        school_in(200002, Phase::Primary, Some(HLT)),
        inspected(200002, Good),
        school(200003, Phase::Primary),
        inspected(200003, RequiresImprovement),
        school(200004, Phase::Primary),
        inspected(200004, Good),
        school(200005, Phase::Primary),
        school(200006, Phase::Primary),
        inspected(200006, Good),
        school(200007, Phase::Secondary),
        inspected(200007, Good),
        far(200008, 30.0),
        inspected(200008, Good),
        school(200009, Phase::Primary),
        inspected(200009, Inadequate),
        school(200010, Phase::Primary),
        inspected(200010, Good),
        school(200011, Phase::Primary),
        closed(200011),
    ];
    let mut other = school(300001, Phase::Primary);
    if let DomainEvent::SchoolRegistered(s) = &mut other {
        s.la_code = 307;
    }
    v.push(other);
    v
}

fn opened(round: &str, year: &str) -> DomainEvent {
    let rules = rules();
    let id = bridges_schemas::vocab::AcademicYearId(year.into());
    let periods: Vec<_> = rules.calendar.year(&id).map(|h| h.label.clone()).collect();
    DomainEvent::RoundOpened(RoundOpened {
        round: rid_(round),
        year: id,
        periods,
        policy: rules.rounds.policy.clone(),
        history_years: rules.rounds.history_years,
        terms: rules.rounds.terms,
    })
}

fn enrolled(round: &str, urns: &[u32]) -> DomainEvent {
    DomainEvent::SchoolsEnrolled(SchoolsEnrolled {
        round: rid_(round),
        urns: urns.iter().map(|u| Urn(*u)).collect(),
    })
}

const ENROLLED: [u32; 9] = [200001, 200002, 200003, 200004, 200005, 200006, 200008, 200009, 200010];

/// `schools()` with r1 open for 2026-27 (six half-terms) and the nine
/// primaries of LA 312 enrolled (all but the closed one).
fn la_round() -> Vec<DomainEvent> {
    let mut v = schools();
    v.push(opened(R1, Y1));
    v.push(enrolled(R1, &ENROLLED));
    v
}

fn urns(list: &[u32]) -> Vec<Urn> {
    list.iter().map(|u| Urn(*u)).collect()
}

fn plan(groups: &[&[u32]], unplaced: &[u32]) -> TriadsPlan {
    TriadsPlan {
        groups: groups.iter().map(|g| urns(g)).collect(),
        unplaced: unplaced
            .iter()
            .map(|u| Unplaced {
                urn: Urn(*u),
                reason: UnplacedReason::Distance,
                detail: "0 other primaries within 15 km; a group needs two partners".into(),
            })
            .collect(),
        rota: Vec::new(),
        status: SolveStatus::Optimal,
        objective: 6.0,
        bound: 6.0,
        gap: 0.0,
        secondary: 0.0,
        problem_sha256: SHA.into(),
        solver: SolverInfo {
            name: "highs".into(),
            version: "1.16.0".into(),
            options: Default::default(),
        },
        seconds: 0.1,
    }
}

fn form(groups: &[&[u32]], unplaced: &[u32]) -> Command {
    Command::FormRound(Box::new(FormRound {
        round: rid_(R1),
        as_of_position: 40,
        problem_sha256: SHA.into(),
        plan: plan(groups, unplaced),
    }))
}

/// Group 1: 200001 (strong), 200003 (concern), 200009 (serious); group 2:
/// 200002 (secure), 200005 (none), 200006 (secure); group 3: 200004,
/// 200010 and ... no: 200004 and 200010 with 200008 unplaced (far).
const G1: &[u32] = &[200001, 200003, 200009];
const G2: &[u32] = &[200002, 200005, 200006];
const LEFT: &[u32] = &[200004, 200008, 200010];

/// The events of r1 formed as `G1`, `G2`, with `LEFT` unplaced.
fn formed_events() -> Vec<DomainEvent> {
    given(la_round()).when(form(&[G1, G2], LEFT)).then_ok()
}

fn la_formed() -> Vec<DomainEvent> {
    let mut v = la_round();
    v.extend(formed_events());
    v
}

fn la_confirmed() -> Vec<DomainEvent> {
    let mut v = la_formed();
    v.push(DomainEvent::RoundConfirmed(RoundConfirmed { round: rid_(R1) }));
    v
}

fn swap(a: u32, b: u32) -> Command {
    Command::SwapSchools(SwapSchools { round: rid_(R1), a: Urn(a), b: Urn(b) })
}

fn move_to(urn: u32, to: Option<u32>) -> Command {
    Command::MoveSchool(MoveSchool { round: rid_(R1), urn: Urn(urn), to })
}

fn review(host: u32, on: &str, reviewers: &[u32], days: Option<f64>) -> Command {
    Command::RecordReview(RecordReview {
        round: rid_(R1),
        host: Urn(host),
        on: d(on),
        reviewers: urns(reviewers),
        days,
    })
}

// --- open -----------------------------------------------------------------

#[test]
fn a_round_opens_for_a_year_with_its_half_terms_not_ended_and_the_configured_policy() {
    let open = |periods: Option<Vec<&str>>| {
        Command::OpenRound(OpenRound {
            round: rid_(R1),
            year: year(Y1),
            periods: periods.map(|p| p.into_iter().map(period).collect()),
        })
    };
    // Given the LA, when a round opens for 2026-27 in September with no periods
    given(schools()).when(open(None)).then_events(vec![opened(R1, Y1)]);
    // Given periods out of order, then they are kept in calendar order
    let events = given(schools())
        .when(open(Some(vec!["2027-SP2", "2026-AU2", "2027-SP1", "2027-SU1"])))
        .then_ok();
    let DomainEvent::RoundOpened(e) = &events[0] else { panic!("{events:?}") };
    assert_eq!(
        e.periods,
        vec![period("2026-AU2"), period("2027-SP1"), period("2027-SP2"), period("2027-SU1")]
    );
    // In November the ended Autumn 1 is left out
    let events = given(schools()).at("2026-11-10T09:00:00Z").when(open(None)).then_ok();
    let DomainEvent::RoundOpened(e) = &events[0] else { panic!("{events:?}") };
    assert_eq!(e.periods.len(), 5);
    assert_eq!(e.terms.secondary_cost_pence, 160_000);
}

#[test]
fn opening_a_round_is_refused_naming_the_field() {
    let open = |round: &str, y: &str, periods: Option<Vec<&str>>| {
        Command::OpenRound(OpenRound {
            round: rid_(round),
            year: year(y),
            periods: periods.map(|p| p.into_iter().map(period).collect()),
        })
    };
    given(la_round())
        .when(open(R1, Y1, None))
        .then_rejected_on_log(RejectionCode::Duplicate, "round");
    given(schools())
        .when(open("r 1", Y1, None))
        .then_rejected_on_log(RejectionCode::Invalid, "round");
    given(schools())
        .when(open(R1, "2030-31", None))
        .then_rejected_on_log(RejectionCode::NotConfigured, "year");
    given(schools())
        .when(open(R1, Y1, Some(vec!["2026-AU2", "2027-SP1", "2027-AU1"])))
        .then_rejected_on_log(RejectionCode::NotConfigured, "periods");
    given(schools())
        .at("2026-11-10T09:00:00Z")
        .when(open(R1, Y1, Some(vec!["2026-AU1", "2026-AU2", "2027-SP1"])))
        .then_rejected_on_log(RejectionCode::PeriodEnded, "periods");
    given(schools())
        .when(open(R1, Y1, Some(vec!["2026-AU2", "2026-AU2", "2027-SP1"])))
        .then_rejected_on_log(RejectionCode::Invalid, "periods");
    // In May only two half-terms of the year are left: too few for a triad
    given(schools())
        .at("2027-05-03T09:00:00Z")
        .when(open(R1, Y1, None))
        .then_rejected_on_log(RejectionCode::Invalid, "periods");
}

// --- enrol and withdraw ---------------------------------------------------

#[test]
fn schools_enrol_one_by_one_or_as_the_las_whole_phase() {
    let mut given_open = schools();
    given_open.push(opened(R1, Y1));
    let enrol = |list: &[u32], phase: Option<Phase>| {
        Command::EnrolSchools(EnrolSchools { round: rid_(R1), urns: urns(list), phase })
    };
    // Listed schools (one twice, one enrolled already) enrol once each
    let mut with_one = given_open.clone();
    with_one.push(enrolled(R1, &[200003]));
    given(with_one.clone())
        .when(enrol(&[200004, 200003, 200001, 200004], None))
        .then_events(vec![enrolled(R1, &[200001, 200004])]);
    // Enrolled already: nothing to record
    given(with_one).when(enrol(&[200003], None)).then_unchanged();
    // The whole LA's primaries: open ones of LA 312 only
    given(given_open.clone())
        .when(enrol(&[], Some(Phase::Primary)))
        .then_events(vec![enrolled(R1, &ENROLLED)]);
    given(given_open.clone())
        .when(enrol(&[], Some(Phase::Secondary)))
        .then_events(vec![enrolled(R1, &[200007])]);
}

#[test]
fn a_whole_borough_enrols_in_parts_under_the_payload_limit() {
    let mut events: Vec<DomainEvent> =
        (0..1500).map(|i| school(400_000 + i, Phase::Primary)).collect();
    events.push(opened(R1, Y1));
    let decided = given(events)
        .when(Command::EnrolSchools(EnrolSchools {
            round: rid_(R1),
            urns: Vec::new(),
            phase: Some(Phase::Primary),
        }))
        .then_ok();
    assert!(decided.len() > 1, "{} parts", decided.len());
    let mut all = Vec::new();
    for e in &decided {
        let DomainEvent::SchoolsEnrolled(part) = e else { panic!("{e:?}") };
        assert!(serde_json::to_vec(&e.to_payload()).expect("json").len() <= PART_BYTES + 200);
        all.extend(part.urns.iter().copied());
    }
    assert_eq!(all.len(), 1500);
}

#[test]
fn enrolling_is_refused_naming_the_field() {
    let enrol = |round: &str, list: &[u32], phase: Option<Phase>| {
        Command::EnrolSchools(EnrolSchools { round: rid_(round), urns: urns(list), phase })
    };
    given(la_round())
        .when(enrol("r9", &[200001], None))
        .then_rejected_on_log(RejectionCode::UnknownRound, "round");
    given(la_round())
        .when(enrol(R1, &[999999], None))
        .then_rejected_on_log(RejectionCode::UnknownSchool, "urns");
    given(la_round())
        .when(enrol(R1, &[200011], None))
        .then_rejected_on_log(RejectionCode::SchoolClosed, "urns");
    given(la_round())
        .when(enrol(R1, &[], None))
        .then_rejected_on_log(RejectionCode::Invalid, "urns");
    given(la_round())
        .when(enrol(R1, &[200007], Some(Phase::Primary)))
        .then_rejected_on_log(RejectionCode::Invalid, "urns");
    given(la_confirmed())
        .when(enrol(R1, &[200007], None))
        .then_rejected_on_log(RejectionCode::WrongState, "round");
}

#[test]
fn a_school_withdraws_and_leaves_its_group() {
    let withdraw = |urn: u32, reason: &str| {
        Command::WithdrawFromRound(WithdrawFromRound {
            round: rid_(R1),
            urn: Urn(urn),
            reason: reason.into(),
        })
    };
    let state = given(la_formed()).when(withdraw(200005, "new head")).then_events(vec![
        DomainEvent::RoundSchoolWithdrawn(RoundSchoolWithdrawn {
            round: rid_(R1),
            urn: Urn(200005),
            reason: "new head".into(),
        }),
    ]);
    let round = &state.rounds[&rid_(R1)];
    assert_eq!(round.groups[&2].members, urns(&[200002, 200006]));
    assert!(!round.enrolled.contains(&Urn(200005)));
    given(la_formed())
        .when(withdraw(200007, "x"))
        .then_rejected_on_log(RejectionCode::NotEnrolled, "urn");
    given(la_formed())
        .when(withdraw(200005, " "))
        .then_rejected_on_log(RejectionCode::Invalid, "reason");
    let mut closed_round = la_formed();
    closed_round.push(DomainEvent::RoundClosed(RoundClosed { round: rid_(R1) }));
    given(closed_round)
        .when(withdraw(200005, "new head"))
        .then_rejected_on_log(RejectionCode::WrongState, "round");
}

// --- form -----------------------------------------------------------------

#[test]
fn forming_records_numbered_groups_with_their_rota_and_claims_then_the_unplaced() {
    let events = formed_events();
    let DomainEvent::RoundFormed(header) = &events[0] else { panic!("{events:?}") };
    assert_eq!((header.groups, header.unplaced, header.history.len()), (2, 3, 0));
    let DomainEvent::RoundGroupsRecorded(part) = &events[1] else { panic!("{events:?}") };
    let g1 = &part.groups[0];
    assert_eq!((g1.group, g1.members.clone()), (1, urns(G1)));
    // Member k of group n hosts in period (n - 1 + k) mod 6
    let hosts: Vec<(u32, &str)> = g1.hosts.iter().map(|h| (h.host.0, h.period.as_str())).collect();
    assert_eq!(hosts, vec![(200001, "2026-AU1"), (200003, "2026-AU2"), (200009, "2027-SP1")]);
    let g2 = &part.groups[1];
    assert_eq!(g2.hosts[0].period, period("2026-AU2"));
    assert!(g1.claims.contains(&GroupClaim::Standings {
        bands: vec![Standing::Strong, Standing::Concern, Standing::Serious],
        no_outcome: false
    }));
    assert!(
        g2.claims
            .contains(&GroupClaim::Standings { bands: vec![Standing::Secure], no_outcome: true })
    );
    assert!(g1.claims.contains(&GroupClaim::NewPartners { rounds: 0 }));
    assert!(g1.claims.contains(&GroupClaim::Sizes { smallest: 300, largest: 300 }));
    let DomainEvent::RoundUnplacedRecorded(left) = &events[2] else { panic!("{events:?}") };
    assert_eq!(left.unplaced.len(), 3);
    // Folded in: the round holds them
    let mut state = given(la_round()).state;
    let meta = EventMeta { actor: user("coordinator-1"), at: t(T0) };
    for e in &events {
        apply(&mut state, e, &meta);
    }
    let round = &state.rounds[&rid_(R1)];
    assert_eq!((round.groups.len(), round.unplaced.len()), (2, 3));
    assert_eq!(round.group_of(Urn(200006)), Some(2));
}

#[test]
fn forming_is_refused_when_the_plan_does_not_fit_the_round_or_breaks_a_rule() {
    // Enrolment changed since the snapshot: 200010 missing from the plan
    given(la_round())
        .when(form(&[G1, G2], &[200004, 200008]))
        .then_rejected_on_log(RejectionCode::WrongState, "plan");
    // A school twice
    given(la_round())
        .when(form(&[G1, &[200002, 200005, 200001]], LEFT))
        .then_rejected_on_log(RejectionCode::Invalid, "plan");
    // Two schools of one trust together
    let r = given(la_round())
        .when(form(
            &[&[200001, 200002, 200003], &[200004, 200005, 200006]],
            &[200008, 200009, 200010],
        ))
        .then_rejected_on_log(RejectionCode::HardRule, "same_trust");
    assert_eq!(r.value, "200001, 200002");
    let mut bad = form(&[G1, G2], LEFT);
    if let Command::FormRound(f) = &mut bad {
        f.problem_sha256 = "abc".into();
    }
    given(la_round()).when(bad).then_rejected_on_log(RejectionCode::Invalid, "problem_sha256");
    given(la_confirmed())
        .when(form(&[G1, G2], LEFT))
        .then_rejected_on_log(RejectionCode::WrongState, "round");
}

// --- swap and move --------------------------------------------------------

#[test]
fn a_swap_that_keeps_every_rule_rewrites_both_groups() {
    let events = given(la_formed()).when(swap(200003, 200006)).then_ok();
    let DomainEvent::RoundGroupsChanged(c) = &events[0] else { panic!("{events:?}") };
    assert_eq!(c.change, "swap 200003 200006");
    let members: Vec<Vec<Urn>> = c.groups.iter().map(|g| g.members.clone()).collect();
    assert_eq!(members, vec![urns(&[200001, 200006, 200009]), urns(&[200002, 200003, 200005])]);
    // Swapping a placed school for an unplaced one places it and leaves the other out
    let state = given(la_formed()).when(swap(200003, 200010)).then_events(vec![
        DomainEvent::RoundGroupsChanged(RoundGroupsChanged {
            round: rid_(R1),
            change: "swap 200003 200010".into(),
            groups: given(la_formed())
                .when(swap(200003, 200010))
                .then_ok()
                .into_iter()
                .find_map(|e| match e {
                    DomainEvent::RoundGroupsChanged(c) => Some(c.groups),
                    _ => None,
                })
                .expect("groups"),
            unplaced: vec![RoundUnplaced {
                urn: Urn(200003),
                reason: UnplacedReason::Leftover,
                detail: "swapped out for 200010 by the coordinator".into(),
            }],
            placed: urns(&[200010]),
        }),
    ]);
    let round = &state.rounds[&rid_(R1)];
    assert_eq!(round.group_of(Urn(200010)), Some(1));
    assert!(
        round.unplaced.contains_key(&Urn(200003)) && !round.unplaced.contains_key(&Urn(200010))
    );
    assert_eq!(round.changes, vec!["swap 200003 200010".to_owned()]);
}

#[test]
fn a_swap_or_move_that_breaks_a_hard_rule_is_refused_naming_the_rule_and_the_schools() {
    // Same trust: 200002 into group 1 beside 200001
    let r = given(la_formed())
        .when(swap(200003, 200002))
        .then_rejected_on_log(RejectionCode::HardRule, "same_trust");
    assert_eq!(r.value, "200001, 200002");
    // Good or better: group 1 without 200001 has concern, none, serious
    let r = given(la_formed())
        .when(swap(200001, 200005))
        .then_rejected_on_log(RejectionCode::HardRule, "require_good_or_better");
    assert_eq!(r.value, "200003, 200005, 200009");
    // Distance: the far school into group 2
    let r = given(la_formed())
        .when(swap(200005, 200008))
        .then_rejected_on_log(RejectionCode::HardRule, "max_distance_km");
    assert!(r.value.contains("200008"), "{r:?}");
    // Phase: a secondary enrolled late, swapped into a primary group
    let mut with_secondary = la_formed();
    with_secondary.push(enrolled(R1, &[200007]));
    let r = given(with_secondary)
        .when(swap(200005, 200007))
        .then_rejected_on_log(RejectionCode::HardRule, "phase_pools");
    assert!(r.value.contains("200007"), "{r:?}");
    // History: 200004 and 200006 were grouped in a confirmed round of 2025-26
    let mut with_history = schools();
    with_history.push(opened("r0", "2025-26"));
    with_history.push(enrolled("r0", &[200004, 200006, 200010]));
    with_history.extend(formed_in("r0", &[200004, 200006, 200010]));
    with_history.push(DomainEvent::RoundConfirmed(RoundConfirmed { round: rid_("r0") }));
    with_history.push(opened(R1, Y1));
    with_history.push(enrolled(R1, &ENROLLED));
    with_history.extend(formed_events());
    let r = given(with_history)
        .when(swap(200005, 200004))
        .then_rejected_on_log(RejectionCode::HardRule, "history");
    assert_eq!(r.value, "200004, 200006");
    // Group size: moving a school out of a triad leaves two
    let r = given(la_formed())
        .when(move_to(200003, None))
        .then_rejected_on_log(RejectionCode::HardRule, "group_size");
    assert_eq!(r.value, "200001, 200009");
}

#[test]
fn checking_a_swap_or_move_shows_every_rule_of_each_group_it_changes() {
    use bridges_engine::domain::round::{check_move, check_swap};
    let state = given(la_formed()).state;
    let broken = |checks: &[bridges_engine::domain::round::GroupCheck]| -> Vec<(u32, &str)> {
        checks
            .iter()
            .flat_map(|g| g.rules.iter().filter(|r| r.broken.is_some()).map(|r| (g.group, r.rule)))
            .collect()
    };
    let swap_of = |a: u32, b: u32| SwapSchools { round: rid_(R1), a: Urn(a), b: Urn(b) };
    // 200002 beside 200001 (same trust): group 1 breaks it, group 2 keeps every rule
    let checks = check_swap(&state, &swap_of(200003, 200002)).expect("a swap to check");
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[0].members, urns(&[200001, 200002, 200009]));
    let rules: Vec<&str> = checks[0].rules.iter().map(|r| r.rule).collect();
    assert_eq!(
        rules,
        [
            "group_size",
            "phase_pools",
            "same_trust",
            "history",
            "max_distance_km",
            "require_good_or_better"
        ]
    );
    assert_eq!(broken(&checks), [(1, "same_trust")]);
    let r = checks[0].rules[2].broken.as_ref().expect("same trust broken");
    assert_eq!((r.code, r.value.as_str()), (RejectionCode::HardRule, "200001, 200002"));
    // What the engine refuses it for is the rule the check shows broken
    let refused = given(la_formed())
        .when(swap(200003, 200002))
        .then_rejected(RejectionCode::HardRule, "same_trust");
    assert_eq!(&refused, r);
    // A swap that keeps every rule
    let checks = check_swap(&state, &swap_of(200003, 200006)).expect("a swap to check");
    assert!(broken(&checks).is_empty(), "{checks:?}");
    // Each group's breach is shown, not only the first the engine meets:
    // group 1 without 200001 has no good school, group 2 gets its trust twice
    let checks = check_swap(&state, &swap_of(200001, 200005)).expect("a swap to check");
    assert_eq!(broken(&checks), [(1, "require_good_or_better"), (2, "same_trust")]);
    // A move out of a triad leaves two
    let out = MoveSchool { round: rid_(R1), urn: Urn(200003), to: None };
    let checks = check_move(&state, &out).expect("a move to check");
    assert_eq!(broken(&checks), [(1, "group_size")]);
    // A swap that cannot be made at all is refused as the swap would be
    let r = check_swap(&state, &swap_of(200001, 200003)).expect_err("the same group");
    assert_eq!((r.code, r.field.as_str()), (RejectionCode::Invalid, "b"));
}

/// A round `round` formed with one group, by the events themselves.
fn formed_in(round: &str, members: &[u32]) -> Vec<DomainEvent> {
    vec![
        DomainEvent::RoundFormed(RoundFormed {
            round: rid_(round),
            as_of_position: 1,
            problem_sha256: SHA.into(),
            status: SolveStatus::Optimal,
            objective: 3.0,
            bound: 3.0,
            gap: 0.0,
            seconds: 0.1,
            groups: 1,
            unplaced: 0,
            history: Vec::new(),
        }),
        DomainEvent::RoundGroupsRecorded(RoundGroupsRecorded {
            round: rid_(round),
            groups: vec![FormedGroup {
                group: 1,
                members: urns(members),
                hosts: Vec::new(),
                claims: Vec::new(),
            }],
        }),
    ]
}

#[test]
fn history_covers_the_configured_years_only() {
    // A confirmed round of 2022-23 is more than three years before 2026-27
    let mut old = schools();
    old.push(opened("r0", "2022-23"));
    old.extend(formed_in("r0", &[200004, 200006, 200010]));
    old.push(DomainEvent::RoundConfirmed(RoundConfirmed { round: rid_("r0") }));
    old.push(opened(R1, Y1));
    old.push(enrolled(R1, &ENROLLED));
    old.extend(formed_events());
    given(old).when(swap(200005, 200004)).then_ok();
    // An unconfirmed round of last year is not history either
    let mut draft = schools();
    draft.push(opened("r0", "2025-26"));
    draft.extend(formed_in("r0", &[200004, 200006, 200010]));
    draft.push(opened(R1, Y1));
    draft.push(enrolled(R1, &ENROLLED));
    draft.extend(formed_events());
    given(draft).when(swap(200005, 200004)).then_ok();
}

#[test]
fn a_school_moves_into_a_group_of_four_and_back_out() {
    // 200010 (unplaced) into group 2: a group of 4 (six periods allow it)
    let state = given(la_formed()).when(move_to(200010, Some(2))).then_ok();
    let DomainEvent::RoundGroupsChanged(c) = &state[0] else { panic!("{state:?}") };
    assert_eq!(c.groups[0].members, urns(&[200002, 200005, 200006, 200010]));
    assert_eq!(c.groups[0].hosts.len(), 4);
    assert_eq!(c.placed, urns(&[200010]));
    let mut moved = la_formed();
    moved.extend(state);
    // And out again: the triad is whole, 200010 unplaced
    let events = given(moved).when(move_to(200010, None)).then_ok();
    let DomainEvent::RoundGroupsChanged(c) = &events[0] else { panic!("{events:?}") };
    assert_eq!(c.groups[0].members, urns(G2));
    assert_eq!(c.unplaced[0].urn, Urn(200010));
    // Refusals
    given(la_formed())
        .when(move_to(200010, Some(9)))
        .then_rejected_on_log(RejectionCode::Invalid, "to");
    given(la_formed())
        .when(move_to(200003, Some(1)))
        .then_rejected_on_log(RejectionCode::Invalid, "to");
    given(la_formed())
        .when(move_to(200010, None))
        .then_rejected_on_log(RejectionCode::Invalid, "to");
    given(la_formed())
        .when(move_to(200007, Some(1)))
        .then_rejected_on_log(RejectionCode::NotEnrolled, "urn");
    given(la_round())
        .when(move_to(200010, Some(1)))
        .then_rejected_on_log(RejectionCode::WrongState, "round");
    given(la_formed()).when(swap(200001, 200003)).then_rejected_on_log(RejectionCode::Invalid, "b");
    given(la_formed())
        .when(swap(200007, 200003))
        .then_rejected_on_log(RejectionCode::NotEnrolled, "a");
    given(la_confirmed())
        .when(swap(200003, 200006))
        .then_rejected_on_log(RejectionCode::WrongState, "round");
}

// --- confirm, review, share, close -----------------------------------------

#[test]
fn a_formed_round_is_confirmed_once_and_only_with_whole_groups() {
    let confirm = || Command::ConfirmRound(ConfirmRound { round: rid_(R1) });
    let state = given(la_formed())
        .when(confirm())
        .then_events(vec![DomainEvent::RoundConfirmed(RoundConfirmed { round: rid_(R1) })]);
    assert!(state.rounds[&rid_(R1)].confirmed);
    given(la_round()).when(confirm()).then_rejected_on_log(RejectionCode::WrongState, "round");
    given(la_confirmed()).when(confirm()).then_rejected_on_log(RejectionCode::WrongState, "round");
    given(la_formed())
        .when(Command::ConfirmRound(ConfirmRound { round: rid_("r9") }))
        .then_rejected_on_log(RejectionCode::UnknownRound, "round");
    // A withdrawal left group 2 with two schools
    let mut short = la_formed();
    short.push(DomainEvent::RoundSchoolWithdrawn(RoundSchoolWithdrawn {
        round: rid_(R1),
        urn: Urn(200005),
        reason: "closing".into(),
    }));
    given(short).when(confirm()).then_rejected_on_log(RejectionCode::HardRule, "group_size");
}

#[test]
fn a_review_is_recorded_in_its_hosts_period_with_the_groups_reviewers() {
    // 200001 hosts group 1's review in Autumn 1; on Monday 7 September
    let state = given(la_confirmed())
        .when(review(200001, "2026-09-07", &[200009, 200003], None))
        .then_events(vec![DomainEvent::ReviewRecorded(ReviewRecorded {
            round: rid_(R1),
            host: Urn(200001),
            on: d("2026-09-07"),
            reviewers: urns(&[200003, 200009]),
            days: 1.0,
        })]);
    assert_eq!(state.rounds[&rid_(R1)].reviews[&Urn(200001)].days, 1.0);
    given(la_confirmed()).when(review(200001, "2026-09-07", &[200003], Some(1.5))).then_ok();
    // Refusals
    given(la_formed())
        .when(review(200001, "2026-09-07", &[200003], None))
        .then_rejected_on_log(RejectionCode::WrongState, "round");
    given(la_confirmed())
        .when(review(200010, "2026-09-07", &[200003], None))
        .then_rejected_on_log(RejectionCode::NotEnrolled, "host");
    given(la_confirmed())
        .at("2026-11-10T09:00:00Z")
        .when(review(200001, "2026-11-03", &[200003], None))
        .then_rejected_on_log(RejectionCode::OutsideHalfTerm, "on");
    given(la_confirmed())
        .when(review(200001, "2026-09-10", &[200003], None))
        .then_rejected_on_log(RejectionCode::InFuture, "on");
    given(la_confirmed())
        .when(review(200001, "2026-09-05", &[200003], None))
        .then_rejected_on_log(RejectionCode::NotWorkingDay, "on");
    given(la_confirmed())
        .when(review(200001, "2026-09-07", &[200002], None))
        .then_rejected_on_log(RejectionCode::NotEnrolled, "reviewers");
    given(la_confirmed())
        .when(review(200001, "2026-09-07", &[200001], None))
        .then_rejected_on_log(RejectionCode::NotEnrolled, "reviewers");
    given(la_confirmed())
        .when(review(200001, "2026-09-07", &[], None))
        .then_rejected_on_log(RejectionCode::Invalid, "reviewers");
    given(la_confirmed())
        .when(review(200001, "2026-09-07", &[200003, 200003], None))
        .then_rejected_on_log(RejectionCode::Invalid, "reviewers");
    given(la_confirmed())
        .when(review(200001, "2026-09-07", &[200003], Some(0.3)))
        .then_rejected_on_log(RejectionCode::Invalid, "days");
    let mut held = la_confirmed();
    held.push(DomainEvent::ReviewRecorded(ReviewRecorded {
        round: rid_(R1),
        host: Urn(200001),
        on: d("2026-09-07"),
        reviewers: urns(&[200003]),
        days: 1.0,
    }));
    given(held.clone())
        .when(review(200001, "2026-09-07", &[200003], None))
        .then_rejected_on_log(RejectionCode::Duplicate, "host");
    // Sharing the report
    let share = |shared: bool| {
        Command::ShareReport(ShareReport { round: rid_(R1), host: Urn(200001), shared })
    };
    let state = given(held.clone()).when(share(true)).then_events(vec![DomainEvent::ReportShared(
        ReportShared { round: rid_(R1), host: Urn(200001), shared: true },
    )]);
    assert_eq!(state.rounds[&rid_(R1)].reviews[&Urn(200001)].shared, Some(true));
    let mut shared = held.clone();
    shared.push(DomainEvent::ReportShared(ReportShared {
        round: rid_(R1),
        host: Urn(200001),
        shared: true,
    }));
    given(shared.clone()).when(share(true)).then_unchanged();
    given(shared).when(share(false)).then_ok();
    given(la_confirmed()).when(share(true)).then_rejected_on_log(RejectionCode::WrongState, "host");
    // Closing
    let close = || Command::CloseRound(CloseRound { round: rid_(R1) });
    given(held.clone())
        .when(close())
        .then_events(vec![DomainEvent::RoundClosed(RoundClosed { round: rid_(R1) })]);
    let mut closed_round = held;
    closed_round.push(DomainEvent::RoundClosed(RoundClosed { round: rid_(R1) }));
    given(closed_round.clone())
        .when(close())
        .then_rejected_on_log(RejectionCode::WrongState, "round");
    given(closed_round.clone())
        .when(share(false))
        .then_rejected_on_log(RejectionCode::WrongState, "round");
    given(closed_round)
        .when(review(200003, "2026-09-07", &[200001], None))
        .then_rejected_on_log(RejectionCode::WrongState, "round");
}
