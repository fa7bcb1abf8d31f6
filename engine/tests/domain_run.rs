//! Given / when / then rows for the matching-run commands (record a plan,
//! keeping what still holds; discard a run left incomplete) and the
//! partnership's (budget per funding source, brokerage fee); each happy path
//! with its exact events and each rejection by code and field.

mod common;

use bridges_schemas::brokerage::{Assignment as PlanAssignment, BrokeragePlan, Unmet, UnmetReason};
use bridges_schemas::commands::*;
use bridges_schemas::common::{SolveStatus, SolverInfo};
use bridges_schemas::events::*;
use bridges_schemas::vocab::{FundingSource, RunId, RunTrigger};
use common::domain::*;
use sha2::{Digest, Sha256};

const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

type Planned<'a> = (&'a str, &'a str, &'a [(&'a str, u32)]);

fn plan(assignments: &[Planned<'_>], unmet: &[&str]) -> BrokeragePlan {
    BrokeragePlan {
        assignments: assignments
            .iter()
            .map(|(r, p, d)| PlanAssignment {
                request: rid(r),
                practitioner: pid(p),
                days: days(d),
            })
            .collect(),
        unmet: unmet
            .iter()
            .map(|r| Unmet {
                request: rid(r),
                days: days(&[("2026-AU1", 1)]),
                reason: UnmetReason::Capacity,
                detail: "every eligible practitioner is booked".into(),
                counterfactual: None,
            })
            .collect(),
        coverage: [0, 3, 0, 0],
        tiers: Vec::new(),
        status: SolveStatus::Optimal,
        objective: 3.0,
        bound: 3.0,
        gap: 0.0,
        problem_sha256: SHA.into(),
        solver: SolverInfo {
            name: "highs".into(),
            version: "1.16".into(),
            options: Default::default(),
        },
        seconds: 0.05,
        cost: 1050.0,
        infeasibility: None,
    }
}

fn record(run: &str, plan: BrokeragePlan) -> Command {
    Command::RecordRun(Box::new(RecordRun {
        run: RunId(run.into()),
        as_of_position: 14,
        problem_sha256: SHA.into(),
        periods: vec![period("2026-AU1"), period("2026-AU2")],
        trigger: RunTrigger::Scheduled,
        plan,
        greedy_coverage: [0, 2, 0, 0],
        requested: [0, 4, 0, 0],
    }))
}

fn proposals(events: &[DomainEvent]) -> Vec<&AssignmentProposed> {
    events
        .iter()
        .filter_map(|e| match e {
            DomainEvent::AssignmentProposed(p) => Some(p),
            _ => None,
        })
        .collect()
}

fn completion(events: &[DomainEvent]) -> &MatchingRunCompleted {
    match events.last() {
        Some(DomainEvent::MatchingRunCompleted(c)) => c,
        other => panic!("the last event is not the completion: {other:?}"),
    }
}

fn sle2() -> Vec<DomainEvent> {
    vec![
        designated(
            "sle-2",
            "SLE",
            100005,
            &["maths", "english"],
            &[bridges_schemas::Phase::Primary],
        ),
        available("sle-2", &[("2026-AU1", 3), ("2026-AU2", 3)], Some(4)),
    ]
}

// --- record --------------------------------------------------------------------

#[test]
fn record_run_writes_its_start_unmet_proposals_and_completion() {
    let p = plan(&[("req-1", "sle-1", &[("2026-AU1", 2), ("2026-AU2", 1)])], &["req-2"]);
    let plan_sha = hex::encode(Sha256::digest(serde_json::to_vec(&p).expect("json")));
    let run = RunId("2026-W37".into());
    let state = given(la()).when(record("2026-W37", p)).then_events(vec![
        DomainEvent::MatchingRunStarted(MatchingRunStarted {
            run: run.clone(),
            as_of_position: 14,
            problem_sha256: SHA.into(),
            periods: vec![period("2026-AU1"), period("2026-AU2")],
            trigger: RunTrigger::Scheduled,
        }),
        DomainEvent::UnmetRecorded(UnmetRecorded {
            run: run.clone(),
            unmet: vec![UnmetRecord {
                request: rid("req-2"),
                days: days(&[("2026-AU1", 1)]),
                reason: UnmetReason::Capacity,
                detail: "every eligible practitioner is booked".into(),
                counterfactual: None,
            }],
        }),
        DomainEvent::AssignmentProposed(AssignmentProposed {
            assignment: aid("2026-W37-a1"),
            request: rid("req-1"),
            practitioner: pid("sle-1"),
            days: days(&[("2026-AU1", 2), ("2026-AU2", 1)]),
            run: Some(run.clone()),
            answer_by: Some(d("2026-09-14")),
        }),
        DomainEvent::MatchingRunCompleted(MatchingRunCompleted {
            run: run.clone(),
            status: SolveStatus::Optimal,
            objective: 3.0,
            bound: 3.0,
            gap: 0.0,
            seconds: 0.05,
            tiers: vec![
                TierFigures { requested: 0, covered: 0, bound: 0.0, gap: 0.0, greedy: 0 },
                TierFigures { requested: 4, covered: 3, bound: 3.0, gap: 0.0, greedy: 2 },
                TierFigures { requested: 0, covered: 0, bound: 0.0, gap: 0.0, greedy: 0 },
                TierFigures { requested: 0, covered: 0, bound: 0.0, gap: 0.0, greedy: 0 },
            ],
            plan_sha256: plan_sha,
            proposals: 1,
            unmet: 1,
            dropped: vec![],
        }),
    ]);
    assert!(state.runs[&run].is_complete());
    assert!(!state.assignments[&aid("2026-W37-a1")].pending_run);
    assert_eq!(state.held_days(&pid("sle-1"), &period("2026-AU1")), 2);
}

#[test]
fn record_run_writes_its_unmet_requests_in_parts_each_within_the_payload_limit() {
    let many: Vec<String> = (0..85).map(|i| format!("req-u{i}")).collect();
    let names: Vec<&str> = many.iter().map(String::as_str).collect();
    let mut p = plan(&[], &names);
    // Long explanations, as the solver writes for a request with many
    // near misses.
    for (i, u) in p.unmet.iter_mut().enumerate() {
        u.detail = format!("{i}: {}", "every eligible practitioner is booked; ".repeat(6));
        u.counterfactual = Some("one more day from sle-1 in 2026-AU2 would meet it".repeat(2));
    }
    let events = given(la()).when(record("2026-W37", p)).then_ok();
    let parts: Vec<&UnmetRecorded> = events
        .iter()
        .filter_map(|e| match e {
            DomainEvent::UnmetRecorded(u) => Some(u),
            _ => None,
        })
        .collect();
    assert!(parts.len() > 2, "{} parts", parts.len());
    let limit = bridges_engine::log::MAX_PAYLOAD_BYTES;
    for e in &events {
        let bytes = serde_json::to_vec(&e.to_payload()).expect("json").len();
        // The meta (actor, time) adds well under 1 KiB.
        assert!(bytes + 1024 <= limit, "an event of {bytes} bytes");
    }
    let recorded: Vec<&str> =
        parts.iter().flat_map(|u| u.unmet.iter().map(|r| r.request.as_str())).collect();
    assert_eq!(recorded, names, "every unmet request once, in order");
    assert_eq!(completion(&events).unmet, 85);
}

#[test]
fn record_run_refuses_a_run_recorded_before_and_bad_ids() {
    let done = DomainEvent::MatchingRunStarted(MatchingRunStarted {
        run: RunId("2026-W37".into()),
        as_of_position: 1,
        problem_sha256: SHA.into(),
        periods: vec![],
        trigger: RunTrigger::Scheduled,
    });
    given(la())
        .and_at(T0, [done])
        .when(record("2026-W37", plan(&[], &[])))
        .then_rejected(RejectionCode::Duplicate, "run");
    given(la())
        .when(record(&"w".repeat(41), plan(&[], &[])))
        .then_rejected(RejectionCode::Invalid, "run");
    given(la()).when(record("w 1", plan(&[], &[]))).then_rejected(RejectionCode::Invalid, "run");
    let mut c = record("2026-W37", plan(&[], &[]));
    if let Command::RecordRun(r) = &mut c {
        r.problem_sha256 = "abc".into();
    }
    given(la()).when(c).then_rejected(RejectionCode::Invalid, "problem_sha256");
}

#[test]
fn record_run_keeps_only_what_still_holds_and_says_why_the_rest_was_dropped() {
    let withdrawn_req = DomainEvent::RequestWithdrawn(RequestWithdrawn {
        request: rid("req-2"),
        reason: "x".into(),
    });
    let p = plan(
        &[
            ("req-2", "sle-1", &[("2026-AU1", 1)]), // the request was withdrawn since
            ("req-1", "lle-1", &[("2026-AU1", 1)]), // ineligible (same trust)
            ("req-9", "sle-1", &[("2026-AU1", 1)]), // no such request
            ("req-1", "nobody", &[("2026-AU1", 1)]), // no such practitioner
            ("req-1", "sle-1", &[("2026-AU1", 2)]), // kept
        ],
        &[],
    );
    let events = given(la()).and_at(T0, [withdrawn_req]).when(record("2026-W37", p)).then_ok();
    let kept = proposals(&events);
    assert_eq!(kept.len(), 1);
    assert_eq!((kept[0].request.as_str(), kept[0].practitioner.as_str()), ("req-1", "sle-1"));
    let dropped: Vec<(&str, &str)> = completion(&events)
        .dropped
        .iter()
        .map(|x| (x.request.as_str(), x.practitioner.as_str()))
        .collect();
    assert_eq!(
        dropped,
        vec![("req-2", "sle-1"), ("req-1", "lle-1"), ("req-9", "sle-1"), ("req-1", "nobody")]
    );
}

#[test]
fn record_run_drops_a_decliner_a_second_practitioner_and_days_taken_since() {
    let base = || given(la_proposed()).and_at(T0, sle2());
    // sle-1 declined req-1 since the plan was solved.
    let events = base()
        .and_at(T0, [declined("a-1")])
        .when(record("r1", plan(&[("req-1", "sle-1", &[("2026-AU1", 2)])], &[])))
        .then_ok();
    assert!(proposals(&events).is_empty());
    assert_eq!(completion(&events).dropped.len(), 1);
    // sle-1 holds days on req-1: a second practitioner is dropped (rule 8).
    let events =
        base().when(record("r1", plan(&[("req-1", "sle-2", &[("2026-AU2", 1)])], &[]))).then_ok();
    assert!(proposals(&events).is_empty());
    // The plan's own proposals count against the capacity later ones see:
    // sle-2 has 3 days in 2026-AU1, and the second proposal would make 4.
    let more = [
        raised("req-3", 100004, "maths", &[("2026-AU1", 2)]),
        raised("req-4", 100001, "maths", &[("2026-AU1", 2)]),
    ];
    let events = base()
        .and_at(T0, more)
        .when(record(
            "r1",
            plan(
                &[("req-3", "sle-2", &[("2026-AU1", 2)]), ("req-4", "sle-2", &[("2026-AU1", 2)])],
                &[],
            ),
        ))
        .then_ok();
    assert_eq!(proposals(&events).len(), 1);
    assert_eq!(completion(&events).dropped.len(), 1);
}

#[test]
fn record_run_proposes_only_days_beyond_the_pins_and_none_in_ended_half_terms() {
    // a-1 (accepted) holds 2 days of req-1 in 2026-AU1; the plan repeats
    // the pin and adds the day of 2026-AU2.
    let events = given(la_accepted())
        .when(record("r1", plan(&[("req-1", "sle-1", &[("2026-AU1", 2), ("2026-AU2", 1)])], &[])))
        .then_ok();
    let kept = proposals(&events);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].days, days(&[("2026-AU2", 1)]));
    // A plan that only repeats pins proposes nothing and drops nothing.
    let events = given(la_accepted())
        .when(record("r1", plan(&[("req-1", "sle-1", &[("2026-AU1", 2)])], &[])))
        .then_ok();
    assert!(proposals(&events).is_empty() && completion(&events).dropped.is_empty());
    // Days in a half-term that ended before the record are left out.
    let events = given(la())
        .at("2026-10-24T09:00:00Z")
        .when(record("r1", plan(&[("req-1", "sle-1", &[("2026-AU1", 2), ("2026-AU2", 1)])], &[])))
        .then_ok();
    assert_eq!(proposals(&events)[0].days, days(&[("2026-AU2", 1)]));
}

/// Found in review: a run's proposal ids `<run>-a<n>` were not checked
/// against assignments already recorded, so a broker's hand proposal named
/// `r1-a1` was overwritten by run `r1`'s first proposal.
#[test]
fn record_run_does_not_reuse_an_assignment_id_taken_by_hand() {
    let by_hand = proposed("r1-a1", "req-2", "sle-1", &[("2026-AU1", 1)], "2026-09-14");
    let events = given(la())
        .and_at(T0, [by_hand])
        .when(record("r1", plan(&[("req-1", "sle-1", &[("2026-AU1", 2)])], &[])))
        .then_ok();
    let kept = proposals(&events);
    assert_eq!(kept.len(), 1);
    assert_ne!(kept[0].assignment, aid("r1-a1"));
}

/// Found in review: a run's record checked each half-term's capacity but not
/// the practitioner's yearly maximum (a hand proposal checks both).
#[test]
fn record_run_drops_days_beyond_the_yearly_maximum() {
    // sle-2: at most 4 days in 2026-27; a-2 and a-3 hold 3 of them.
    let held = proposed("a-2", "req-2", "sle-2", &[("2026-AU1", 1)], "2026-09-14");
    let req3 = raised("req-3", 100004, "maths", &[("2026-AU2", 3)]);
    let held_more = proposed("a-3", "req-3", "sle-2", &[("2026-AU2", 2)], "2026-09-14");
    let req4 = raised("req-4", 100001, "maths", &[("2026-AU2", 2)]);
    let req5 = raised("req-5", 100001, "english", &[("2026-AU1", 1)]);
    let p = plan(
        &[("req-4", "sle-2", &[("2026-AU2", 1)]), ("req-5", "sle-2", &[("2026-AU1", 1)])],
        &[],
    );
    let events = given(la())
        .and_at(T0, sle2())
        .and_at(T0, [held, req3, held_more, req4, req5])
        .when(record("r1", p))
        .then_ok();
    let kept = proposals(&events);
    assert_eq!(kept.len(), 1, "{events:?}");
    assert_eq!(kept[0].request, rid("req-4"));
    assert_eq!(completion(&events).dropped.len(), 1);
}

/// Found in review: a record counted its own earlier proposals against the
/// practitioners' capacity but not against the requests (a plan given
/// through `submit` could put two practitioners, or too many days, on one
/// request).
#[test]
fn record_run_counts_its_own_proposals_against_each_request() {
    let two = plan(
        &[("req-1", "sle-1", &[("2026-AU1", 2)]), ("req-1", "sle-2", &[("2026-AU2", 1)])],
        &[],
    );
    let events = given(la()).and_at(T0, sle2()).when(record("r1", two)).then_ok();
    assert_eq!(proposals(&events).len(), 1, "{events:?}");
    assert_eq!(completion(&events).dropped.len(), 1);
    let twice = plan(
        &[("req-1", "sle-1", &[("2026-AU1", 2)]), ("req-1", "sle-1", &[("2026-AU1", 1)])],
        &[],
    );
    let events = given(la()).when(record("r1", twice)).then_ok();
    assert_eq!(proposals(&events).len(), 1, "{events:?}");
    assert_eq!(completion(&events).dropped.len(), 1);
}

/// Found in review (with the hand proposal's row): a plan solved before a
/// school closed was recorded as proposals on its requests.
#[test]
fn record_run_drops_a_request_whose_school_closed_since() {
    let events = given(la())
        .and_at(T0, [closed(100004)])
        .when(record("r1", plan(&[("req-2", "sle-1", &[("2026-AU1", 1)])], &[])))
        .then_ok();
    assert!(proposals(&events).is_empty());
    assert_eq!(completion(&events).dropped.len(), 1);
}

#[test]
fn the_proposals_of_a_run_not_yet_completed_do_not_count() {
    let started = DomainEvent::MatchingRunStarted(MatchingRunStarted {
        run: RunId("r1".into()),
        as_of_position: 1,
        problem_sha256: SHA.into(),
        periods: vec![period("2026-AU1")],
        trigger: RunTrigger::Scheduled,
    });
    let mut part = match proposed("r1-a1", "req-1", "sle-1", &[("2026-AU1", 2)], "2026-09-14") {
        DomainEvent::AssignmentProposed(p) => p,
        _ => unreachable!(),
    };
    part.run = Some(RunId("r1".into()));
    let g =
        || given(la()).and_at(T0, [started.clone(), DomainEvent::AssignmentProposed(part.clone())]);
    assert_eq!(g().state.held_days(&pid("sle-1"), &period("2026-AU1")), 0);
    g().when(Command::AcceptAssignment(AcceptAssignment { assignment: aid("r1-a1") }))
        .then_rejected(RejectionCode::UnknownAssignment, "assignment");
    // ... so another proposal may take those days meanwhile.
    g().when(Command::ProposeAssignment(ProposeAssignment {
        assignment: None,
        request: rid("req-1"),
        practitioner: pid("sle-1"),
        days: days(&[("2026-AU1", 2)]),
    }))
    .then_ok();
    // Discarding the run removes them.
    let state = g()
        .when(Command::DiscardRun(DiscardRun { run: RunId("r1".into()), reason: "crash".into() }))
        .then_events(vec![DomainEvent::MatchingRunDiscarded(MatchingRunDiscarded {
            run: RunId("r1".into()),
            reason: "crash".into(),
        })]);
    assert!(state.assignments.is_empty());
    assert!(state.requests[&rid("req-1")].assignments.is_empty());
    assert!(state.runs[&RunId("r1".into())].discarded);
}

#[test]
fn discard_run_refuses_an_unknown_complete_or_discarded_run() {
    let c = || Command::DiscardRun(DiscardRun { run: RunId("r1".into()), reason: "crash".into() });
    given(la()).when(c()).then_rejected(RejectionCode::UnknownRun, "run");
    let recorded = given(la()).when(record("r1", plan(&[], &[]))).then_ok();
    given(la()).and_at(T0, recorded).when(c()).then_rejected(RejectionCode::WrongState, "run");
}

// --- partnership -------------------------------------------------------------------

#[test]
fn set_budget_for_a_funding_source_of_a_configured_year() {
    let c = |y: &str, amount: u64| {
        Command::SetBudget(SetBudget {
            year: year(y),
            funding: FundingSource::Rise,
            amount_pence: amount,
        })
    };
    let state =
        given([]).when(c(Y1, 5_000_000)).then_events(vec![DomainEvent::BudgetSet(BudgetSet {
            year: year(Y1),
            funding: FundingSource::Rise,
            amount_pence: 5_000_000,
        })]);
    assert_eq!(state.partnerships[&year(Y1)].budgets[&FundingSource::Rise], 5_000_000);
    given([]).when(c("2029-30", 1)).then_rejected(RejectionCode::NotConfigured, "year");
    given([]).when(c(Y2, 10_000_000_001)).then_rejected(RejectionCode::Invalid, "amount_pence");
}

#[test]
fn set_brokerage_fee_in_basis_points() {
    let c = |y: &str, bp: u32| {
        Command::SetBrokerageFee(SetBrokerageFee { year: year(y), basis_points: bp })
    };
    given([]).when(c(Y2, 1_000)).then_events(vec![DomainEvent::BrokerageFeeSet(BrokerageFeeSet {
        year: year(Y2),
        basis_points: 1_000,
    })]);
    given([]).when(c("2030-31", 1)).then_rejected(RejectionCode::NotConfigured, "year");
    given([]).when(c(Y1, 5_001)).then_rejected(RejectionCode::Invalid, "basis_points");
}
