//! The planning snapshot cut from a given state, against CONTRACTS.md rules
//! 7 and 9 and DESIGN.md section 6: only half-terms not ended are planned;
//! pins are counted against the full figures (nothing subtracted twice);
//! decliners are excluded; conflicts count when their window overlaps a
//! planned half-term, and trust conflicts are expanded; and the worker's
//! solver accepts the problem and its plan passes the independent checker.

mod common;

use bridges_engine::planning::snapshot;
use bridges_schemas::Phase::*;
use bridges_schemas::brokerage::{BrokeragePlan, BrokerageProblem, Conflict, Exclusion, Pin};
use bridges_schemas::events::*;
use bridges_schemas::vocab::{
    ConflictId, ConflictKind, ConflictTarget, FundingSource, RiskSource, TierChoice,
};
use bridges_schemas::{Period, Urn};
use bridges_worker::common::SolveOptions;
use common::domain::*;

fn periods(p: &BrokerageProblem) -> Vec<&str> {
    p.periods.iter().map(Period::as_str).collect()
}

fn capacity(p: &BrokerageProblem, id: &str, period: &str) -> Option<f64> {
    let x = p.practitioners.iter().find(|x| x.id.as_str() == id)?;
    x.capacity.get(&Period::from(period)).copied()
}

fn request_days(p: &BrokerageProblem, id: &str, period: &str) -> Option<f64> {
    let r = p.requests.iter().find(|r| r.id.as_str() == id)?;
    r.days.get(&Period::from(period)).copied()
}

/// Solves the problem with the worker and checks the plan independently.
fn solve_and_check(problem: &BrokerageProblem) -> BrokeragePlan {
    let plan = bridges_worker::brokerage::solve(
        problem,
        "0000000000000000000000000000000000000000000000000000000000000000",
        &SolveOptions { time_limit: Some(20.0), mip_gap: None },
    )
    .unwrap_or_else(|e| panic!("the worker refused the snapshot: {e}"));
    let violations = bridges_worker::brokerage::check::check(problem, &plan);
    assert!(violations.is_empty(), "{violations:?}");
    plan
}

fn sle2() -> Vec<DomainEvent> {
    vec![
        designated("sle-2", "SLE", 100005, &["maths"], &[Primary]),
        available("sle-2", &[("2026-AU1", 3), ("2026-AU2", 3)], None),
    ]
}

fn conflict(id: &str, target: ConflictTarget, from: &str, to: &str) -> DomainEvent {
    DomainEvent::ConflictDeclared(ConflictDeclared {
        practitioner: pid("sle-1"),
        conflict: ConflictId(id.into()),
        target,
        kind: ConflictKind::Governor,
        valid_from: Some(d(from)),
        valid_to: Some(d(to)),
    })
}

#[test]
fn a_snapshot_plans_only_the_half_terms_not_ended() {
    let s = given(la()).state;
    let p = snapshot(&s, &rules(), t("2026-11-02T09:00:00Z")).problem;
    assert_eq!(periods(&p), ["2026-AU2", "2027-SP1", "2027-SP2", "2027-SU1", "2027-SU2"]);
    // req-2 wanted days in 2026-AU1 only: nothing left to plan.
    assert!(p.requests.iter().all(|r| r.id.as_str() != "req-2"));
    assert_eq!(request_days(&p, "req-1", "2026-AU1"), None);
    assert_eq!(request_days(&p, "req-1", "2026-AU2"), Some(1.0));
    assert_eq!(capacity(&p, "sle-1", "2026-AU1"), None);
    assert!(p.practitioners.iter().all(|x| !x.capacity.keys().any(|k| k.as_str() == "2026-AU1")));
    // On the half-term's last day it is still planned.
    let p = snapshot(&s, &rules(), t("2026-10-23T15:00:00Z")).problem;
    assert_eq!(periods(&p)[0], "2026-AU1");
    // After the year's last half-term, the next year is planned.
    let p = snapshot(&s, &rules(), t("2027-08-01T09:00:00Z")).problem;
    assert_eq!(periods(&p)[0], "2027-AU1");
    solve_and_check(&p);
}

#[test]
fn pins_are_counted_against_the_full_figures() {
    let s = given(la_accepted()).state;
    let snap = snapshot(&s, &rules(), t(T0));
    let p = &snap.problem;
    assert_eq!(
        p.pinned,
        vec![Pin {
            request: rid("req-1"),
            practitioner: pid("sle-1"),
            days: [(period("2026-AU1"), 2.0)].into()
        }]
    );
    // The request asks its full days and sle-1 has its full capacity
    // (capped by the working days left): the pin counts against them once.
    assert_eq!(request_days(p, "req-1", "2026-AU1"), Some(2.0));
    assert_eq!(capacity(p, "sle-1", "2026-AU1"), Some(3.0));
    assert_eq!(
        p.practitioners.iter().find(|x| x.id == pid("sle-1")).and_then(|x| x.max_days),
        Some(6.0)
    );
    assert_eq!(snap.requested, [0, 4, 0, 0]);
    let plan = solve_and_check(p);
    assert_eq!(plan.coverage, [0, 4, 0, 0], "{plan:?}");
    // sle-1 has 1 day left in 2026-AU1; req-2 wants 1 from it.
    let on_req2: Vec<_> = plan.assignments.iter().filter(|a| a.request == rid("req-2")).collect();
    assert_eq!(on_req2.len(), 1);
}

#[test]
fn proposals_awaiting_an_answer_are_pinned_until_their_window_passes() {
    let s = given(la_proposed()).state;
    assert_eq!(snapshot(&s, &rules(), t(T0)).problem.pinned.len(), 1);
    // Past 14 September the proposal is overdue: its days go back.
    assert!(snapshot(&s, &rules(), t("2026-09-15T09:00:00Z")).problem.pinned.is_empty());
}

#[test]
fn a_completed_assignment_stays_pinned() {
    let s = given(la_accepted()).and_at(T0, [completed("a-1")]).state;
    let p = snapshot(&s, &rules(), t("2026-09-20T09:00:00Z")).problem;
    assert_eq!(p.pinned.len(), 1);
    solve_and_check(&p);
}

#[test]
fn a_decliner_is_excluded_from_that_request_not_from_the_school() {
    let s = given(la_proposed())
        .and_at(T0, [declined("a-1"), raised("req-3", 100001, "english", &[("2026-AU2", 1)])])
        .state;
    let p = snapshot(&s, &rules(), t(T0)).problem;
    assert_eq!(p.exclusions, vec![Exclusion { request: rid("req-1"), practitioner: pid("sle-1") }]);
    assert!(p.pinned.is_empty());
    let plan = solve_and_check(&p);
    assert!(
        plan.assignments
            .iter()
            .all(|a| !(a.request == rid("req-1") && a.practitioner == pid("sle-1")))
    );
    assert!(
        plan.assignments
            .iter()
            .any(|a| a.request == rid("req-3") && a.practitioner == pid("sle-1"))
    );
}

/// Found by these tests: a practitioner who accepted days on a request and
/// then declined more days on it was both pinned and excluded on that pair,
/// which the worker refuses (a pin on an excluded pair, rule 9), so the
/// whole matching run failed.
#[test]
fn a_pinned_practitioner_who_declined_more_days_is_not_excluded() {
    let s = given(la_accepted())
        .and_at(
            T0,
            [proposed("a-2", "req-1", "sle-1", &[("2026-AU2", 1)], "2026-09-14"), declined("a-2")],
        )
        .state;
    let p = snapshot(&s, &rules(), t(T0)).problem;
    assert_eq!(p.pinned.len(), 1);
    assert!(p.exclusions.is_empty(), "{:?}", p.exclusions);
    solve_and_check(&p);
}

#[test]
fn conflicts_count_while_their_window_overlaps_a_planned_half_term() {
    let s = given(la())
        .and_at(
            T0,
            [
                conflict(
                    "school-100004",
                    ConflictTarget::School { urn: Urn(100004) },
                    "2026-09-01",
                    "2027-08-31",
                ),
                // Ended before the planned half-terms.
                conflict(
                    "school-100005",
                    ConflictTarget::School { urn: Urn(100005) },
                    "2025-09-01",
                    "2026-08-31",
                ),
                conflict(
                    "trust-hlt",
                    ConflictTarget::Trust { name: HLT.into() },
                    "2027-01-04",
                    "2027-01-20",
                ),
            ],
        )
        .state;
    let p = snapshot(&s, &rules(), t(T0)).problem;
    let pairs: Vec<(&str, u32)> =
        p.conflicts.iter().map(|c| (c.practitioner.as_str(), c.urn.0)).collect();
    // The trust conflict is expanded to the trust's two schools.
    assert_eq!(pairs, vec![("sle-1", 100001), ("sle-1", 100002), ("sle-1", 100004)]);
    let plan = solve_and_check(&p);
    assert!(plan.assignments.iter().all(|a| a.practitioner != pid("sle-1")), "{plan:?}");
}

/// Found by these tests: a conflict counted when its window overlapped the
/// span from the first planned half-term to the last, so one lying wholly
/// in a holiday between two half-terms excluded the pair.
#[test]
fn a_conflict_in_a_holiday_overlaps_no_half_term() {
    let s = given(la())
        .and_at(
            T0,
            [conflict(
                "school-100001",
                ConflictTarget::School { urn: Urn(100001) },
                "2026-12-19",
                "2027-01-03",
            )],
        )
        .state;
    let p = snapshot(&s, &rules(), t(T0)).problem;
    assert_eq!(p.conflicts, Vec::<Conflict>::new());
}

/// Found by these tests: the accepted days of a practitioner who withdrew
/// (or was erased) since were left out of the problem, pins and all, so a
/// run offered the same days of the request to someone else and counted
/// the budget without them; "proposals and pins stand as they are".
#[test]
fn a_withdrawn_practitioners_accepted_days_stay_pinned() {
    let withdrawn = DomainEvent::PractitionerWithdrawn(PractitionerWithdrawn {
        practitioner: pid("sle-1"),
        reason: "moved away".into(),
    });
    let s = given(la_accepted()).and_at(T0, sle2()).and_at(T0, [withdrawn]).state;
    let p = snapshot(&s, &rules(), t(T0)).problem;
    assert_eq!(p.pinned.len(), 1, "{:?}", p.pinned);
    // They take no more days: capacity is their pins only.
    assert_eq!(capacity(&p, "sle-1", "2026-AU1"), Some(2.0));
    assert_eq!(capacity(&p, "sle-1", "2026-AU2"), None);
    let plan = solve_and_check(&p);
    assert!(
        plan.assignments.iter().all(|a| !(a.request == rid("req-1")
            && a.practitioner == pid("sle-2")
            && a.days.contains_key(&period("2026-AU1")))),
        "{plan:?}"
    );
    assert!(p.requests.iter().all(|r| r.previous_practitioner.is_none()));
}

/// Found by these tests: the budget a run sees left out days committed on
/// requests no longer in the problem (withdrawn since, or their school
/// closed) in the half-terms being planned; those days are still owed.
#[test]
fn the_budget_counts_days_committed_outside_the_problem() {
    let budget = DomainEvent::BudgetSet(BudgetSet {
        year: year(Y1),
        funding: FundingSource::LaCore,
        amount_pence: 200_000,
    });
    let withdrawn = DomainEvent::RequestWithdrawn(RequestWithdrawn {
        request: rid("req-1"),
        reason: "x".into(),
    });
    let s = given(la_accepted()).and_at(T0, [budget.clone()]).state;
    // £2,000; a-1's 2 days at £350 are pinned: the solver counts them.
    assert_eq!(snapshot(&s, &rules(), t(T0)).problem.policy.budget, Some(2_000.0));
    let s = given(la_accepted()).and_at(T0, [budget, withdrawn]).state;
    let p = snapshot(&s, &rules(), t(T0)).problem;
    assert!(p.pinned.is_empty());
    assert_eq!(p.policy.budget, Some(1_300.0));
    // ... and sle-1's two days are still taken.
    assert_eq!(capacity(&p, "sle-1", "2026-AU1"), Some(1.0));
    solve_and_check(&p);
}

#[test]
fn a_request_that_follows_its_school_takes_the_schools_risk_tier() {
    let follow = DomainEvent::SupportRequested(SupportRequested {
        tier: TierChoice::Follow,
        ..match raised("req-3", 100004, "maths", &[("2026-AU2", 1)]) {
            DomainEvent::SupportRequested(r) => r,
            _ => unreachable!(),
        }
    });
    let s = given(la()).and_at(T0, [follow.clone()]).state;
    let tier = |s: &bridges_engine::domain::State| {
        snapshot(s, &rules(), t(T0))
            .problem
            .requests
            .iter()
            .find(|r| r.id == rid("req-3"))
            .map(|r| r.priority)
    };
    assert_eq!(tier(&s), Some(4), "no risk: tier 4");
    let risk = DomainEvent::RiskAssessed(RiskAssessed {
        urn: Urn(100004),
        tier: Some(1),
        reason: "RISE".into(),
        source: RiskSource::Rise,
    });
    let s = given(la()).and_at(T0, [follow, risk]).state;
    assert_eq!(tier(&s), Some(1));
}

#[test]
fn continuity_comes_from_the_schools_history_in_the_same_need() {
    let s = given(la_accepted())
        .and_at(
            T0,
            [
                raised("req-3", 100001, "maths", &[("2026-AU2", 1)]),
                raised("req-4", 100001, "english", &[("2026-AU2", 1)]),
            ],
        )
        .state;
    let p = snapshot(&s, &rules(), t(T0)).problem;
    let prev = |id: &str| {
        p.requests.iter().find(|r| r.id == rid(id)).and_then(|r| r.previous_practitioner.clone())
    };
    assert_eq!(prev("req-1"), Some(pid("sle-1")));
    assert_eq!(prev("req-3"), Some(pid("sle-1")));
    assert_eq!(prev("req-4"), None);
}

#[test]
fn a_closed_schools_requests_and_withdrawn_practitioners_are_not_planned() {
    let s = given(la())
        .and_at(
            T0,
            [
                closed(100004),
                DomainEvent::PractitionerWithdrawn(PractitionerWithdrawn {
                    practitioner: pid("lle-1"),
                    reason: "x".into(),
                }),
            ],
        )
        .state;
    let p = snapshot(&s, &rules(), t(T0)).problem;
    assert!(p.requests.iter().all(|r| r.id != rid("req-2")));
    assert!(p.practitioners.iter().all(|x| x.id != pid("lle-1")));
    solve_and_check(&p);
}

#[test]
fn a_busier_snapshot_solves_and_its_plan_passes_the_checker() {
    let mut events = la_accepted();
    events.extend(sle2());
    events.push(designated(
        "sle-3",
        "SLE",
        100004,
        &["maths", "english", "send"],
        &[Primary, Secondary],
    ));
    events.push(available("sle-3", &[("2026-AU1", 2), ("2026-AU2", 4), ("2027-SP1", 4)], Some(8)));
    for (i, urn) in [100001, 100002, 100003, 100004, 100005].into_iter().enumerate() {
        events.push(raised(
            &format!("req-m{i}"),
            urn,
            "maths",
            &[("2026-AU2", 2), ("2027-SP1", 1)],
        ));
        events.push(raised(
            &format!("req-e{i}"),
            urn,
            "english",
            &[("2026-AU1", 1), ("2027-SP1", 2)],
        ));
    }
    events.push(proposed("a-2", "req-m4", "sle-2", &[("2026-AU2", 2)], "2026-09-14"));
    events.push(declined("a-2"));
    events.push(conflict(
        "trust-hlt",
        ConflictTarget::Trust { name: HLT.into() },
        "2026-09-01",
        "2026-12-31",
    ));
    let s = given(events).state;
    let snap = snapshot(&s, &rules(), t("2026-09-10T09:00:00Z"));
    let plan = solve_and_check(&snap.problem);
    assert_eq!(
        plan.coverage.iter().sum::<u32>(),
        plan.assignments.iter().flat_map(|a| a.days.values()).sum::<u32>()
    );
    assert!(
        snap.problem
            .exclusions
            .contains(&Exclusion { request: rid("req-m4"), practitioner: pid("sle-2") })
    );
}
