//! The domain through `Engine::handle` on a real log in a temporary folder:
//! every kind of rejection leaves the log head and the key store as they
//! were; a command id seen before is a duplicate, also after a restart; an
//! overdue proposal's expiry is recorded by the system when a command looks
//! at it; a run too large for one append counts only once complete, and one
//! left incomplete is discarded at the next start; erasure destroys the key;
//! the state rebuilt from the log equals the live one after a story.

mod common;

use std::collections::BTreeMap;

use bridges_engine::domain::Sealer as _;
use bridges_engine::domain::state::AssignmentStatus;
use bridges_engine::domain::{self, Context};
use bridges_engine::handle::Outcome;
use bridges_engine::log::{
    ExpectedVersion, MAX_EVENTS_PER_APPEND, MultiAppendOutcome, MultiAppendRequest, NewEvent,
    Position, StreamAppend,
};
use bridges_schemas::Phase::{self, *};
use bridges_schemas::Urn;
use bridges_schemas::brokerage::{Assignment as PlanAssignment, BrokeragePlan};
use bridges_schemas::commands::*;
use bridges_schemas::common::{SolveStatus, SolverInfo};
use bridges_schemas::events::{DomainEvent, EventMeta};
use bridges_schemas::vocab::{
    ConflictId, ConflictKind, DeclineReason, FundingSource, ImpactRating, RunId, RunTrigger,
    SYSTEM_USER, TierChoice,
};
use common::domain::*;
use uuid::Uuid;

const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn register(urn: u32, phase: Phase, trust: Option<&str>) -> Command {
    Command::RegisterSchool(RegisterSchool {
        urn: Urn(urn),
        name: format!("School {urn}"),
        la_code: LA,
        phase,
        trust: trust.map(str::to_owned),
        easting: 507_000.0 + f64::from(urn % 100) * 50.0,
        northing: 182_000.0,
        pupils: Some(300),
        postcode: None,
    })
}

fn designate(id: &str, home: u32, name: &str) -> Command {
    Command::DesignatePractitioner(DesignatePractitioner {
        practitioner: pid(id),
        title: title("SLE"),
        home_urn: Urn(home),
        specialisms: vec![need("maths"), need("english")],
        phases: vec![Primary, Secondary],
        day_rate: None,
        name: name.to_owned(),
        email: Some(format!("{id}@example.org")),
        phone: None,
    })
}

fn availability(id: &str, capacity: &[(&str, u32)]) -> Command {
    Command::DeclareAvailability(DeclareAvailability {
        practitioner: pid(id),
        capacity: days(capacity),
        max_days: None,
    })
}

fn raise(id: &str, urn: u32, d: &[(&str, u32)]) -> Command {
    Command::RaiseRequest(RaiseRequest {
        request: rid(id),
        urn: Urn(urn),
        need: need("maths"),
        designations: vec![title("SLE")],
        tier: TierChoice::Tier2,
        days: days(d),
        funding: FundingSource::LaCore,
        purchase_order: None,
    })
}

fn propose(a: &str, r: &str, p: &str, d: &[(&str, u32)]) -> Command {
    Command::ProposeAssignment(ProposeAssignment {
        assignment: Some(aid(a)),
        request: rid(r),
        practitioner: pid(p),
        days: days(d),
    })
}

fn accept(a: &str) -> Command {
    Command::AcceptAssignment(AcceptAssignment { assignment: aid(a) })
}

fn record_visit(a: &str, on: &str, half_days: u32) -> Command {
    Command::RecordVisit(RecordVisit {
        assignment: aid(a),
        visit: None,
        on: d(on),
        half_days,
        note: Some("co-planning".into()),
    })
}

fn plan(assignments: Vec<PlanAssignment>) -> BrokeragePlan {
    BrokeragePlan {
        coverage: [0, assignments.len() as u32, 0, 0],
        tiers: Vec::new(),
        assignments,
        unmet: vec![],
        status: SolveStatus::Optimal,
        objective: 0.0,
        bound: 0.0,
        gap: 0.0,
        problem_sha256: SHA.into(),
        solver: SolverInfo {
            name: "highs".into(),
            version: "1".into(),
            options: Default::default(),
        },
        seconds: 0.1,
        cost: 0.0,
        infeasibility: None,
    }
}

fn record_run(run: &str, plan: BrokeragePlan) -> Command {
    Command::RecordRun(Box::new(RecordRun {
        run: RunId(run.into()),
        as_of_position: 1,
        problem_sha256: SHA.into(),
        periods: vec![period("2026-AU1")],
        trigger: RunTrigger::OnDemand,
        plan,
        greedy_coverage: [0; 4],
        requested: [0; 4],
    }))
}

/// A small story: schools, two practitioners, two requests, `a-1` proposed
/// and accepted with a visit, `a-2` proposed and declined.
async fn story(e: &TestEngine) {
    let cmds = vec![
        register(100001, Primary, Some(HLT)),
        register(100002, Primary, Some(HLT)),
        register(100003, Secondary, None),
        register(100004, Primary, None),
        designate("sle-1", 100003, "Grace Hopper"),
        availability("sle-1", &[("2026-AU1", 3), ("2026-AU2", 3)]),
        designate("sle-2", 100004, "Alan Turing"),
        availability("sle-2", &[("2026-AU1", 2)]),
        raise("req-1", 100001, &[("2026-AU1", 2), ("2026-AU2", 1)]),
        raise("req-2", 100004, &[("2026-AU1", 1)]),
        propose("a-1", "req-1", "sle-1", &[("2026-AU1", 2)]),
        accept("a-1"),
        propose("a-2", "req-2", "sle-1", &[("2026-AU1", 1)]),
        Command::DeclineAssignment(DeclineAssignment {
            assignment: aid("a-2"),
            reason: DeclineReason::NoRelease,
            note: Some("head says no".into()),
        }),
    ];
    for (i, c) in cmds.into_iter().enumerate() {
        e.apply(&format!("s-{i}"), T0, c).await;
    }
    e.apply("s-visit", "2026-09-10T16:00:00Z", record_visit("a-1", "2026-09-10", 2)).await;
}

/// What `rejections` expects besides the story: a closed school, a
/// request withdrawn, one wanting 3 days, a withdrawn and an erased
/// practitioner, an expired proposal.
async fn more_story(e: &TestEngine) {
    let cmds = vec![
        register(100009, Primary, None),
        Command::CloseSchool(CloseSchool { urn: Urn(100009), closed_on: None, reason: "x".into() }),
        raise("req-3", 100002, &[("2026-AU1", 3)]),
        raise("req-4", 100002, &[("2026-AU1", 1)]),
        Command::WithdrawRequest(WithdrawRequest { request: rid("req-4"), reason: "x".into() }),
        designate("sle-3", 100003, "Mary Somerville"),
        Command::WithdrawPractitioner(WithdrawPractitioner {
            practitioner: pid("sle-3"),
            reason: "x".into(),
        }),
        designate("sle-4", 100003, "Emmy Noether"),
        Command::ErasePractitioner(ErasePractitioner { practitioner: pid("sle-4") }),
        propose("a-5", "req-1", "sle-1", &[("2026-AU2", 1)]),
    ];
    for (i, c) in cmds.into_iter().enumerate() {
        e.apply(&format!("ms-{i}"), T0, c).await;
    }
    e.apply(
        "ms-expire",
        "2026-09-15T09:00:00Z",
        Command::ExpireAssignment(ExpireAssignment { assignment: aid("a-5") }),
    )
    .await;
}

/// When the rows of `rejections` are decided (unless a row says).
const LATER: &str = "2026-09-25T09:00:00Z";

/// Every kind of rejection, each against the state of `story` and `more_story`.
fn rejections() -> Vec<(&'static str, Command, RejectionCode, &'static str)> {
    use RejectionCode::*;
    let rows = vec![
        (register(12, Primary, None), Invalid, "urn"),
        (register(100001, Primary, None), Duplicate, "urn"),
        (
            Command::CloseSchool(CloseSchool {
                urn: Urn(100777),
                closed_on: None,
                reason: "x".into(),
            }),
            UnknownSchool,
            "urn",
        ),
        (
            Command::DesignatePractitioner(DesignatePractitioner {
                title: title("Guru"),
                ..match designate("sp-9", 100004, "Ada Lovelace") {
                    Command::DesignatePractitioner(c) => c,
                    _ => unreachable!(),
                }
            }),
            NotConfigured,
            "title",
        ),
        (designate("sp-9", 100777, "Ada Lovelace"), UnknownSchool, "home_urn"),
        (availability("sle-9", &[("2026-AU1", 1)]), UnknownPractitioner, "practitioner"),
        (availability("sle-1", &[("2026-AU1", 1)]), BelowAccepted, "capacity.2026-AU1"),
        (
            Command::DeclareConflict(DeclareConflict {
                practitioner: pid("sle-1"),
                urn: Some(Urn(100004)),
                trust: None,
                kind: ConflictKind::Family,
                valid_from: Some(d("2026-10-01")),
                valid_to: Some(d("2026-09-01")),
            }),
            Window,
            "valid_to",
        ),
        (
            Command::WithdrawConflict(WithdrawConflict {
                practitioner: pid("sle-1"),
                conflict: ConflictId("school-1".into()),
            }),
            UnknownConflict,
            "conflict",
        ),
        (
            Command::RaiseRequest(RaiseRequest {
                need: need("cooking"),
                ..match raise("req-9", 100004, &[("2026-AU1", 1)]) {
                    Command::RaiseRequest(c) => c,
                    _ => unreachable!(),
                }
            }),
            NotConfigured,
            "need",
        ),
        (
            Command::RaiseRequest(RaiseRequest {
                need: need("post-16"),
                ..match raise("req-9", 100004, &[("2026-AU1", 1)]) {
                    Command::RaiseRequest(c) => c,
                    _ => unreachable!(),
                }
            }),
            PhaseMismatch,
            "need",
        ),
        (raise("req-9", 100004, &[("2026-AU1", 0)]), Invalid, "days.2026-AU1"),
        (
            Command::AmendRequest(AmendRequest {
                request: rid("req-9"),
                need: None,
                designations: None,
                tier: Some(TierChoice::Tier1),
                days: None,
                funding: None,
                purchase_order: None,
            }),
            UnknownRequest,
            "request",
        ),
        (propose("a-3", "req-1", "sle-1", &[("2026-AU1", 1)]), BeyondAssigned, "days.2026-AU1"),
        (propose("a-3", "req-1", "sle-2", &[("2026-AU2", 1)]), Ineligible, "practitioner"),
        (propose("a-3", "req-2", "sle-1", &[("2026-AU1", 1)]), Excluded, "practitioner"),
        (propose("a-3", "req-2", "sle-2", &[("2026-AU1", 3)]), BeyondAssigned, "days.2026-AU1"),
        (propose("a-1", "req-1", "sle-1", &[("2026-AU2", 1)]), Duplicate, "assignment"),
        (accept("a-9"), UnknownAssignment, "assignment"),
        (accept("a-1"), WrongState, "assignment"),
        (record_visit("a-1", "2026-09-12", 1), NotWorkingDay, "on"),
        (record_visit("a-1", "2026-09-30", 1), InFuture, "on"),
        (record_visit("a-1", "2026-09-01", 1), OutsideHalfTerm, "on"),
        (record_visit("a-1", "2026-09-11", 3), Invalid, "half_days"),
        (
            Command::CorrectVisit(CorrectVisit {
                assignment: aid("a-1"),
                visit: vid("v9"),
                on: d("2026-09-10"),
                half_days: 1,
                note: None,
            }),
            UnknownVisit,
            "visit",
        ),
        (
            Command::DiscardRun(DiscardRun { run: RunId("r-9".into()), reason: "x".into() }),
            UnknownRun,
            "run",
        ),
        (
            Command::SetBudget(SetBudget {
                year: year("2031-32"),
                funding: FundingSource::Trust,
                amount_pence: 1,
            }),
            NotConfigured,
            "year",
        ),
        (
            Command::CloseRequest(CloseRequest {
                request: rid("req-9"),
                impact: ImpactRating::Moderate,
                note: Some("a note about nobody".into()),
            }),
            UnknownRequest,
            "request",
        ),
        (raise("req-9", 100009, &[("2026-AU1", 1)]), SchoolClosed, "urn"),
        (
            Command::AmendRequest(AmendRequest {
                request: rid("req-4"),
                need: None,
                designations: None,
                tier: Some(TierChoice::Tier1),
                days: None,
                funding: None,
                purchase_order: None,
            }),
            Withdrawn,
            "request",
        ),
        (propose("a-6", "req-3", "sle-2", &[("2026-AU1", 3)]), OverCapacity, "days.2026-AU1"),
        (availability("sle-3", &[("2026-AU1", 1)]), PractitionerWithdrawn, "practitioner"),
        (availability("sle-4", &[("2026-AU1", 1)]), PersonalDataErased, "practitioner"),
        (accept("a-5"), Expired, "assignment"),
    ];
    let mut out: Vec<_> = rows.into_iter().map(|(c, code, f)| (LATER, c, code, f)).collect();
    out.push((
        "2026-11-02T09:00:00Z",
        raise("req-9", 100004, &[("2026-AU1", 1)]),
        PeriodEnded,
        "days.2026-AU1",
    ));
    out
}

#[tokio::test]
async fn every_rejection_leaves_the_log_and_the_key_store_as_they_were() {
    let e = TestEngine::new().await;
    story(&e).await;
    more_story(&e).await;
    let keys_before = files_under(&e.keys_dir());
    let state_before = e.state().await;
    let mut seen = std::collections::BTreeSet::new();
    for (i, (at, command, code, field)) in rejections().into_iter().enumerate() {
        let head = e.engine().log().head();
        let name = command.name();
        match e.handle(&format!("bad-{i}"), at, command).await {
            Outcome::Rejected(r) => {
                assert_eq!((r.code, r.field.as_str()), (code, field), "row {i} ({name}): {r:?}")
            }
            other => panic!("row {i} ({name}) was not rejected: {other:?}"),
        }
        assert_eq!(e.engine().log().head(), head, "row {i} ({name}) wrote to the log");
        assert_eq!(files_under(&e.keys_dir()), keys_before, "row {i} ({name}) wrote a key");
        seen.insert(code);
    }
    assert_eq!(e.state().await, state_before);
    // A bad envelope is refused before anything is looked up.
    let mut bad = envelope("c 1", T0, register(100005, Primary, None));
    let o = e.engine().handle(&bad).await.expect("handled");
    assert!(matches!(o, Outcome::Rejected(ref r) if r.field == "id"), "{o:?}");
    bad.id = "c-1".into();
    bad.actor = user("");
    let o = e.engine().handle(&bad).await.expect("handled");
    assert!(matches!(o, Outcome::Rejected(ref r) if r.field == "actor"), "{o:?}");
    // Every rejection code is exercised here.
    assert_eq!(seen.len(), 27, "{seen:?}");
}

#[tokio::test]
async fn a_command_id_seen_before_is_a_duplicate_also_after_a_restart() {
    let mut e = TestEngine::new().await;
    let first = e.handle("c-1", T0, register(100001, Primary, None)).await;
    let Outcome::Applied { first: f, last: l, .. } = first else { panic!("{first:?}") };
    // The same id again, even with another command, returns its first outcome.
    let again = e.handle("c-1", T0, register(100002, Primary, None)).await;
    assert_eq!(again, Outcome::Duplicate { first: f, last: l });
    assert_eq!(e.engine().log().head(), l);
    e.reopen().await;
    let again = e.handle("c-1", T0, register(100001, Primary, None)).await;
    assert_eq!(again, Outcome::Duplicate { first: f, last: l });
    e.reopen_without_checkpoint().await;
    let again = e.handle("c-1", T0, register(100001, Primary, None)).await;
    assert_eq!(again, Outcome::Duplicate { first: f, last: l });
    assert_eq!(e.engine().log().head(), l);
    // A rejected command writes nothing, so its id is free afterwards.
    let r = e.handle("c-2", T0, register(100001, Primary, None)).await;
    assert_eq!(rejected(&r), Some(RejectionCode::Duplicate));
    assert!(matches!(
        e.handle("c-2", T0, register(100002, Primary, None)).await,
        Outcome::Applied { .. }
    ));
}

#[tokio::test]
async fn a_valid_command_that_changes_nothing_writes_nothing() {
    let e = TestEngine::new().await;
    e.apply("c-1", T0, register(100001, Primary, None)).await;
    let head = e.engine().log().head();
    let same = Command::ChangeSchool(ChangeSchool {
        urn: Urn(100001),
        name: "School 100001".into(),
        phase: Primary,
        trust: None,
        easting: 507_050.0,
        northing: 182_000.0,
        pupils: Some(300),
        postcode: None,
    });
    assert_eq!(e.handle("c-2", T0, same).await, Outcome::Unchanged);
    assert_eq!(e.engine().log().head(), head);
}

/// The last event of the log, decoded, with its meta.
async fn last_event(e: &TestEngine) -> (DomainEvent, EventMeta) {
    let head = e.engine().log().head();
    let rec = e.engine().log().read_all(head, 1).expect("read").remove(0);
    let payload: serde_json::Value = serde_json::from_slice(&rec.payload).expect("json");
    (rec.domain_event().expect("decodes"), EventMeta::of_payload(&payload).expect("meta"))
}

#[tokio::test]
async fn answering_an_overdue_proposal_records_its_expiry_by_the_system_then_is_refused() {
    let e = TestEngine::new().await;
    story(&e).await;
    e.apply("p-3", T0, propose("a-3", "req-1", "sle-1", &[("2026-AU2", 1)])).await;
    // a-3 was to be answered by Monday 14 September.
    let late = "2026-09-15T09:00:00Z";
    let head = e.engine().log().head();
    let o = e.handle("acc-3", late, accept("a-3")).await;
    assert_eq!(rejected(&o), Some(RejectionCode::Expired), "{o:?}");
    assert_eq!(e.engine().log().head(), Position(head.0 + 1), "the expiry, and nothing else");
    let (event, meta) = last_event(&e).await;
    assert!(
        matches!(event, DomainEvent::AssignmentExpired(ref x) if x.answer_by == d("2026-09-14"))
    );
    assert_eq!((meta.actor.as_str(), meta.at), (SYSTEM_USER, t(late)));
    assert_eq!(e.state().await.assignments[&aid("a-3")].status, AssignmentStatus::Expired);
    // Asked again: refused, and nothing more written.
    let o = e
        .handle(
            "dec-3",
            late,
            Command::DeclineAssignment(DeclineAssignment {
                assignment: aid("a-3"),
                reason: DeclineReason::Other,
                note: None,
            }),
        )
        .await;
    assert_eq!(rejected(&o), Some(RejectionCode::Expired));
    assert_eq!(e.engine().log().head(), Position(head.0 + 1));
    assert!(e.engine().rebuild_equals_live().await.expect("rebuild"));
}

/// Found by these tests: the system's expiry command was named
/// `expire-<assignment>`, more than the 64 characters a command id may have
/// when the assignment id is long, so its expiry was refused and never
/// recorded.
#[tokio::test]
async fn the_expiry_of_a_proposal_with_a_long_id_is_recorded_too() {
    let e = TestEngine::new().await;
    story(&e).await;
    let long = "a".repeat(64);
    e.apply("p-3", T0, propose(&long, "req-1", "sle-1", &[("2026-AU2", 1)])).await;
    let head = e.engine().log().head();
    let o = e.handle("acc-3", "2026-09-15T09:00:00Z", accept(&long)).await;
    assert_eq!(rejected(&o), Some(RejectionCode::Expired), "{o:?}");
    assert_eq!(e.engine().log().head(), Position(head.0 + 1));
    assert_eq!(e.state().await.assignments[&aid(&long)].status, AssignmentStatus::Expired);
}

/// Found by these tests: an overdue proposal still held its days for a new
/// proposal or an amendment until something answered it, so a broker's
/// proposal was refused as over capacity (and an amendment below what is
/// held) because of a proposal that had expired by itself.
#[tokio::test]
async fn a_command_that_counts_held_days_records_the_expiries_it_looks_at() {
    let e = TestEngine::new().await;
    story(&e).await;
    // sle-1 has 3 days in 2026-AU1: 2 accepted (a-1), 1 held by a-3; sle-2
    // has 2, held by a-4; both proposals to be answered by 14 September.
    e.apply("r-3", T0, raise("req-3", 100001, &[("2026-AU1", 2)])).await;
    e.apply("r-4", T0, raise("req-4", 100002, &[("2026-AU1", 2)])).await;
    e.apply("p-3", T0, propose("a-3", "req-3", "sle-1", &[("2026-AU1", 1)])).await;
    e.apply("p-4", T0, propose("a-4", "req-4", "sle-2", &[("2026-AU1", 2)])).await;
    let late = "2026-09-16T09:00:00Z";
    // The new proposal fits once the overdue a-3 is recorded as expired.
    let o = e.handle("p-5", late, propose("a-5", "req-3", "sle-1", &[("2026-AU1", 1)])).await;
    assert!(matches!(o, Outcome::Applied { .. }), "{o:?}");
    let s = e.state().await;
    assert_eq!(s.assignments[&aid("a-3")].status, AssignmentStatus::Expired);
    // An amendment below the days of an overdue proposal: a-4 expires first.
    let amend = Command::AmendRequest(AmendRequest {
        request: rid("req-4"),
        need: None,
        designations: None,
        tier: None,
        days: Some(days(&[("2026-AU1", 1)])),
        funding: None,
        purchase_order: None,
    });
    let o = e.handle("am-4", late, amend).await;
    assert!(matches!(o, Outcome::Applied { .. }), "{o:?}");
    assert_eq!(e.state().await.assignments[&aid("a-4")].status, AssignmentStatus::Expired);
    assert!(e.engine().rebuild_equals_live().await.expect("rebuild"));
}

/// Found by these tests: a rejected command that would have sealed personal
/// data (a designation with a title not configured, a closing note on a
/// request refused) still created its subject's key file.
#[tokio::test]
async fn a_rejected_command_creates_no_key() {
    let e = TestEngine::new().await;
    story(&e).await;
    let before = files_under(&e.keys_dir());
    let c = Command::DesignatePractitioner(DesignatePractitioner {
        title: title("Guru"),
        ..match designate("sp-9", 100004, "Ada Lovelace") {
            Command::DesignatePractitioner(c) => c,
            _ => unreachable!(),
        }
    });
    assert_eq!(rejected(&e.handle("d-9", T0, c).await), Some(RejectionCode::NotConfigured));
    assert_eq!(files_under(&e.keys_dir()), before);
    assert!(!e.keys_dir().join("sp-9.key").exists());
    // An accepted one creates it.
    e.apply("d-10", T0, designate("sp-9", 100004, "Ada Lovelace")).await;
    assert!(e.keys_dir().join("sp-9.key").exists());
}

/// Found by this test: commands whose rules count days held across several
/// assignment streams (a proposal's request and practitioner) decided
/// concurrently on the same state and appended to different new streams, so
/// nothing conflicted: several practitioners were proposed on one request
/// (rule 8) and more days than it asks for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_proposals_on_one_request_keep_its_rules() {
    let e = TestEngine::new().await;
    let schools = vec![
        ("s-1".to_owned(), register(100001, Primary, None)),
        ("s-2".to_owned(), register(100002, Primary, None)),
    ];
    run_all(&e, schools).await;
    let mut cmds = Vec::new();
    for p in 0..8 {
        cmds.push((format!("d-{p}"), designate(&format!("p-{p}"), 100002, "X Y")));
    }
    run_all(&e, cmds).await;
    let mut cmds = vec![("r-1".to_owned(), raise("req-1", 100001, &[("2026-AU1", 2)]))];
    for p in 0..8 {
        cmds.push((format!("a-{p}"), availability(&format!("p-{p}"), &[("2026-AU1", 2)])));
    }
    run_all(&e, cmds).await;
    let envelopes: Vec<_> = (0..8)
        .map(|p| {
            envelope(
                &format!("prop-{p}"),
                T0,
                propose(&format!("x-{p}"), "req-1", &format!("p-{p}"), &[("2026-AU1", 2)]),
            )
        })
        .collect();
    let outcomes =
        futures::future::join_all(envelopes.iter().map(|env| e.engine().handle(env))).await;
    let applied = outcomes.iter().filter(|o| matches!(o, Ok(Outcome::Applied { .. }))).count();
    assert_eq!(applied, 1, "{outcomes:?}");
    let s = e.state().await;
    assert_eq!(s.assignments.len(), 1);
    assert!(e.engine().rebuild_equals_live().await.expect("rebuild"));
}

// --- a run in parts -------------------------------------------------------------

const PRACTITIONERS: usize = 56;
const REQUESTS: usize = 1_100;

/// Ten schools, 56 practitioners with 20 days each in 2026-AU1 (homes at
/// five schools, requests at the other five) and 1,100 one-day requests.
async fn big_la(e: &TestEngine) {
    let mut cmds = Vec::new();
    for s in 0..10u32 {
        cmds.push((format!("sch-{s}"), register(100100 + s, Primary, None)));
    }
    run_all(e, std::mem::take(&mut cmds)).await;
    for p in 0..PRACTITIONERS {
        cmds.push((
            format!("des-{p}"),
            designate(&format!("p-{p}"), 100100 + (p % 5) as u32, "X Y"),
        ));
    }
    run_all(e, std::mem::take(&mut cmds)).await;
    for p in 0..PRACTITIONERS {
        cmds.push((format!("av-{p}"), availability(&format!("p-{p}"), &[("2026-AU1", 20)])));
    }
    for r in 0..REQUESTS {
        cmds.push((
            format!("req-{r}"),
            raise(&format!("r-{r}"), 100105 + (r % 5) as u32, &[("2026-AU1", 1)]),
        ));
    }
    run_all(e, cmds).await;
}

/// Handles commands 16 at a time (they group-commit in the log).
async fn run_all(e: &TestEngine, cmds: Vec<(String, Command)>) {
    for chunk in cmds.chunks(16) {
        let envelopes: Vec<_> = chunk.iter().map(|(id, c)| envelope(id, T0, c.clone())).collect();
        let outcomes =
            futures::future::join_all(envelopes.iter().map(|env| e.engine().handle(env))).await;
        for ((id, _), o) in chunk.iter().zip(outcomes) {
            let o = o.expect("handled");
            assert!(matches!(o, Outcome::Applied { .. }), "{id}: {o:?}");
        }
    }
}

fn big_plan() -> BrokeragePlan {
    plan(
        (0..REQUESTS)
            .map(|r| PlanAssignment {
                request: rid(&format!("r-{r}")),
                practitioner: pid(&format!("p-{}", r % PRACTITIONERS)),
                days: days(&[("2026-AU1", 1)]),
            })
            .collect(),
    )
}

#[tokio::test]
async fn a_run_too_large_for_one_append_counts_only_once_complete() {
    let mut e = TestEngine::new().await;
    big_la(&e).await;

    // A crash after the first part: decide the record, append only its
    // first `MAX_EVENTS_PER_APPEND` events with the log API.
    let command = record_run("r1", big_plan());
    let events = e
        .engine()
        .read(|s| {
            let actor = user("broker-1");
            let ctx = Context {
                at: t(T0),
                actor: &actor,
                rules: e.engine().rules(),
                sealer: e.engine().keys(),
            };
            domain::decide(s, &command, &ctx)
        })
        .await
        .expect("read")
        .expect("decided");
    assert_eq!(events.len(), REQUESTS + 2, "start, 1,100 proposals, completion");
    assert!(events.len() > MAX_EVENTS_PER_APPEND);
    let meta = EventMeta { actor: user("broker-1"), at: t(T0) };
    let mut parts: Vec<StreamAppend> = Vec::new();
    for ev in &events[..MAX_EVENTS_PER_APPEND] {
        let stream = ev.stream();
        let new = NewEvent {
            event_id: Uuid::new_v4(),
            type_name: ev.type_name().to_owned(),
            type_version: ev.version(),
            payload: ev.to_payload_with(&meta),
        };
        match parts.iter_mut().find(|p| p.stream == stream) {
            Some(p) => p.events.push(new),
            None => parts.push(StreamAppend {
                stream,
                expected: ExpectedVersion::NoStream,
                events: vec![new],
            }),
        }
    }
    let first_part = MultiAppendRequest {
        parts,
        command_id: Some("run-r1-part1".into()),
        recorded_at: chrono::Utc::now(),
    };
    let o = e.engine().log().append_multi(first_part).await.expect("append");
    assert!(matches!(o, MultiAppendOutcome::Appended { .. }), "{o:?}");

    // Before a restart the engine sees the part, and none of it counts.
    let s = e.state().await;
    assert_eq!(s.assignments.len(), MAX_EVENTS_PER_APPEND - 1);
    assert!(s.assignments.values().all(|a| a.pending_run));
    assert_eq!(s.held_days(&pid("p-0"), &period("2026-AU1")), 0);
    assert_eq!(s.assignments_of(&rid("r-0")).count(), 0);
    let accept_early = e.handle("acc-early", T0, accept("r1-a1")).await;
    assert_eq!(rejected(&accept_early), Some(RejectionCode::UnknownAssignment));

    // At the next start it is discarded, by the system.
    e.reopen_without_checkpoint().await;
    let s = e.state().await;
    assert!(s.runs[&RunId("r1".into())].discarded);
    assert!(s.assignments.is_empty(), "{} left", s.assignments.len());
    let (event, meta) = last_event(&e).await;
    assert!(matches!(event, DomainEvent::MatchingRunDiscarded(_)), "{event:?}");
    assert_eq!(meta.actor.as_str(), SYSTEM_USER);
    assert!(e.engine().rebuild_equals_live().await.expect("rebuild"));
    // ... and only once.
    let head = e.engine().log().head();
    e.reopen().await;
    assert_eq!(e.engine().log().head(), head);

    // The same plan recorded whole, through handle: two appends, and all of
    // it counts once the completion is written.
    let o = e.handle("run-r2", T0, record_run("r2", big_plan())).await;
    let Outcome::Applied { first, last, events } = o else { panic!("{o:?}") };
    assert_eq!(last.0 - first.0 + 1, (REQUESTS + 2) as u64);
    assert_eq!(events.len(), REQUESTS + 2);
    let s = e.state().await;
    let counted: Vec<_> = s.assignments.values().filter(|a| !a.pending_run).collect();
    assert_eq!(counted.len(), REQUESTS);
    assert!(counted.iter().all(|a| a.run == Some(RunId("r2".into()))));
    assert_eq!(
        s.held_days(&pid("p-0"), &period("2026-AU1")),
        (REQUESTS / PRACTITIONERS + 1) as u32
    );
    assert_eq!(
        s.runs[&RunId("r2".into())].completed.as_ref().map(|c| c.proposals),
        Some(REQUESTS as u32)
    );
    // Its proposals are answered like any other.
    e.apply("acc-1", T0, accept("r2-a1")).await;
    // Recorded again: a duplicate command, ending where the record ended
    // (its first position is its first part's once the log records a part's
    // outcome whole; the interim multi-stream append records each stream's);
    // reopened: nothing discarded.
    let again = e.handle("run-r2", T0, record_run("r2", big_plan())).await;
    let Outcome::Duplicate { first: f2, last: l2 } = again else { panic!("{again:?}") };
    assert_eq!(l2, last);
    assert!(first <= f2 && f2 <= last);
    let head = e.engine().log().head();
    e.reopen_without_checkpoint().await;
    assert_eq!(e.engine().log().head(), head);
    assert!(e.engine().rebuild_equals_live().await.expect("rebuild"));
}

// --- erasure -------------------------------------------------------------------

#[tokio::test]
async fn erasure_destroys_the_key_and_every_view_shows_the_practitioner_erased() {
    let mut e = TestEngine::new().await;
    story(&e).await;
    let name = "Zebedee Quuxworth";
    e.apply("d-x", T0, designate("sle-x", 100004, name)).await;
    e.apply(
        "l-x",
        T0,
        Command::RecordLeave(RecordLeave {
            practitioner: pid("sle-x"),
            from: d("2026-10-05"),
            to: d("2026-10-06"),
            note: Some(format!("{name}'s knee")),
        }),
    )
    .await;
    // Sealed from the start: the name is nowhere in the data folder.
    assert!(found_under(&e.data(), name.as_bytes()).is_empty());
    let personal = e.state().await.practitioners[&pid("sle-x")].personal.clone().expect("sealed");
    assert!(e.engine().keys().open_text(&personal).expect("opens").contains(name));
    assert!(e.keys_dir().join("sle-x.key").exists());

    e.apply(
        "e-x",
        T0,
        Command::ErasePractitioner(ErasePractitioner { practitioner: pid("sle-x") }),
    )
    .await;
    assert!(!e.keys_dir().join("sle-x.key").exists());
    assert_eq!(e.engine().keys().unseal(&personal), None);
    let s = e.state().await;
    assert!(s.practitioners[&pid("sle-x")].erased);
    // Nothing more is recorded about them, and no key comes back.
    let o = e.handle("c-x", T0, designate("sle-x", 100004, name)).await;
    assert_eq!(rejected(&o), Some(RejectionCode::Duplicate));
    let o = e.handle("c-y", T0, availability("sle-x", &[("2026-AU1", 1)])).await;
    assert_eq!(rejected(&o), Some(RejectionCode::PersonalDataErased));
    assert!(!e.keys_dir().join("sle-x.key").exists());
    // The others' data still opens; after a restart, the same.
    e.reopen().await;
    let s = e.state().await;
    assert!(s.practitioners[&pid("sle-x")].erased);
    let grace = s.practitioners[&pid("sle-1")].personal.clone().expect("sealed");
    assert!(e.engine().keys().open_text(&grace).expect("opens").contains("Grace Hopper"));
    assert_eq!(e.engine().keys().unseal(&personal), None);
    assert!(found_under(&e.data(), name.as_bytes()).is_empty());
    assert!(found_under(&e.keys_dir(), name.as_bytes()).is_empty());
    assert!(e.engine().log().verify().is_ok());
    assert!(e.engine().rebuild_equals_live().await.expect("rebuild"));
}

#[tokio::test]
async fn a_story_rebuilds_to_the_live_state_and_survives_a_checkpoint() {
    let mut e = TestEngine::new().await;
    story(&e).await;
    let later = "2026-09-25T09:00:00Z";
    let more = vec![
        Command::RecordFirstContact(RecordFirstContact {
            assignment: aid("a-1"),
            on: d("2026-09-08"),
            note: None,
        }),
        Command::ConfirmVisit(ConfirmVisit { assignment: aid("a-1"), visit: vid("v1") }),
        Command::CancelVisit(CancelVisit {
            assignment: aid("a-1"),
            visit: None,
            on: d("2026-09-24"),
            half_days: 1,
            no_show: true,
            charged: true,
        }),
        Command::SetBudget(SetBudget {
            year: year(Y1),
            funding: FundingSource::LaCore,
            amount_pence: 2_000_000,
        }),
        Command::SetBrokerageFee(SetBrokerageFee { year: year(Y1), basis_points: 500 }),
        Command::CompleteAssignment(CompleteAssignment { assignment: aid("a-1") }),
        Command::CloseRequest(CloseRequest {
            request: rid("req-1"),
            impact: ImpactRating::Significant,
            note: Some("better maths".into()),
        }),
        Command::WithdrawPractitioner(WithdrawPractitioner {
            practitioner: pid("sle-2"),
            reason: "promoted".into(),
        }),
    ];
    for (i, c) in more.into_iter().enumerate() {
        e.apply(&format!("m-{i}"), later, c).await;
    }
    assert!(e.engine().rebuild_equals_live().await.expect("rebuild"));
    let before = e.state().await;
    e.reopen().await;
    assert_eq!(e.state().await, before, "from the checkpoint");
    e.reopen_without_checkpoint().await;
    assert_eq!(e.state().await, before);
    let s = &before;
    assert_eq!(s.assignments[&aid("a-1")].status, AssignmentStatus::Completed);
    assert_eq!(s.assignments[&aid("a-1")].charged_half_days(), 3);
    let mut statuses = BTreeMap::new();
    for a in s.assignments.values() {
        statuses.insert(a.id.to_string(), a.status);
    }
    assert_eq!(statuses.len(), 2);
}
