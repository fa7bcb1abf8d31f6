//! `request recommend` on a real log: its first choice is the solver's pick
//! for a problem holding only that request (before and after that
//! practitioner declines), a decliner and everyone else who cannot take it
//! are listed with the plan's reason; through the real binary it prints the
//! table and the `Recommendation` document, and an unknown, withdrawn or
//! closed request is refused with exit 2, one line naming the request, and
//! nothing written.

mod common;

use std::path::PathBuf;
use std::process::{Command as Process, Output};

use bridges_engine::handle::{Engine, Outcome};
use bridges_engine::planning::snapshot;
use bridges_engine::recommend::{RecommendError, recommend};
use bridges_schemas::Phase::{self, *};
use bridges_schemas::Urn;
use bridges_schemas::brokerage::{BrokerageProblem, NotCandidateReason, Recommendation};
use bridges_schemas::commands::*;
use bridges_schemas::vocab::{DeclineReason, FundingSource, TierChoice};
use bridges_worker::common::SolveOptions;
use common::domain::*;

/// A Monday in 2026-AU2.
const AT: &str = "2026-11-09T09:00:00Z";

fn register(urn: u32, phase: Phase, easting: f64) -> Command {
    Command::RegisterSchool(RegisterSchool {
        urn: Urn(urn),
        name: format!("School {urn}"),
        la_code: LA,
        phase,
        trust: None,
        easting,
        northing: 182_000.0,
        pupils: Some(300),
        postcode: None,
    })
}

fn designate(id: &str, title_: &str, home: u32, phases: &[Phase], rate: Option<u32>) -> Command {
    Command::DesignatePractitioner(DesignatePractitioner {
        practitioner: pid(id),
        title: title(title_),
        home_urn: Urn(home),
        specialisms: vec![need("maths")],
        phases: phases.to_vec(),
        day_rate: rate,
        name: format!("Person {id}"),
        email: None,
        phone: None,
    })
}

fn availability(id: &str) -> Command {
    Command::DeclareAvailability(DeclareAvailability {
        practitioner: pid(id),
        capacity: days(&[("2026-AU2", 3), ("2027-SP1", 3)]),
        max_days: None,
    })
}

fn raise(id: &str, urn: u32) -> Command {
    Command::RaiseRequest(RaiseRequest {
        request: rid(id),
        urn: Urn(urn),
        need: need("maths"),
        designations: vec![title("SLE")],
        tier: TierChoice::Tier2,
        days: days(&[("2026-AU2", 2), ("2027-SP1", 1)]),
        funding: FundingSource::LaCore,
        purchase_order: None,
    })
}

/// Receiving primaries 100001 and 100009; SLEs 1 km (sle-1), 4 km (sle-2,
/// cheaper) and 7 km (sle-3) away; an LLE and a secondary-only SLE who
/// cannot take a primary's SLE request; req-1 and req-2.
fn partnership() -> Vec<Command> {
    vec![
        register(100001, Primary, 507_000.0),
        register(100009, Primary, 507_500.0),
        register(100002, Primary, 508_000.0),
        register(100003, Primary, 511_000.0),
        register(100004, Primary, 514_000.0),
        register(100005, Secondary, 509_000.0),
        designate("sle-1", "SLE", 100002, &[Primary], None),
        designate("sle-2", "SLE", 100003, &[Primary], Some(300)),
        designate("sle-3", "SLE", 100004, &[Primary], None),
        designate("lle-1", "LLE", 100002, &[Primary], None),
        designate("sle-4", "SLE", 100005, &[Secondary], None),
        availability("sle-1"),
        availability("sle-2"),
        availability("sle-3"),
        availability("lle-1"),
        availability("sle-4"),
        raise("req-1", 100001),
        raise("req-2", 100009),
    ]
}

async fn handle(engine: &Engine, id: &str, command: Command) {
    let outcome = engine.handle(&envelope(id, AT, command)).await.expect("handle");
    assert!(matches!(outcome, Outcome::Applied { .. }), "{id}: {outcome:?}");
}

/// The recommendation through `Engine::recommend` (its snapshot cached per
/// log position and day), checked against one on a snapshot cut for it.
async fn recommended(engine: &Engine, request: &str) -> Recommendation {
    let rules = engine.rules();
    let fresh = engine
        .read(|s| recommend(s, rules, &rid(request), t(AT)))
        .await
        .expect("read")
        .unwrap_or_else(|e| panic!("{request}: {e}"))
        .recommendation;
    for _ in 0..2 {
        let cached = engine
            .recommend(&rid(request), t(AT))
            .await
            .expect("read")
            .unwrap_or_else(|e| panic!("{request}: {e}"))
            .recommendation;
        assert_eq!(cached, fresh, "the engine's snapshot is the state's now");
    }
    fresh
}

/// Who the solver gives `request` in the snapshot at `AT` cut down to that
/// request alone (its own pins and exclusions kept).
async fn solvers_pick(engine: &Engine, request: &str) -> (String, u32) {
    let id = rid(request);
    let full = engine.read(|s| snapshot(s, engine.rules(), t(AT)).problem).await.expect("read");
    let alone = BrokerageProblem {
        requests: full.requests.iter().filter(|r| r.id == id).cloned().collect(),
        pinned: full.pinned.iter().filter(|p| p.request == id).cloned().collect(),
        exclusions: full.exclusions.iter().filter(|e| e.request == id).cloned().collect(),
        ..full
    };
    assert_eq!(alone.requests.len(), 1);
    let plan = bridges_worker::brokerage::solve(
        &alone,
        "0000000000000000000000000000000000000000000000000000000000000000",
        &SolveOptions { time_limit: Some(20.0), mip_gap: None },
    )
    .expect("solve");
    let mine: Vec<_> = plan.assignments.iter().filter(|a| a.request == id).collect();
    assert_eq!(mine.len(), 1, "one practitioner per request: {mine:?}");
    (mine[0].practitioner.to_string(), mine[0].days.values().sum())
}

fn reason_of(rec: &Recommendation, practitioner: &str) -> Option<NotCandidateReason> {
    rec.unavailable.iter().find(|u| u.practitioner.as_str() == practitioner).map(|u| u.reason)
}

#[tokio::test]
async fn the_first_choice_is_the_solvers_pick_and_a_decliner_is_listed_as_excluded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = open_engine(dir.path()).await;
    for (i, c) in partnership().into_iter().enumerate() {
        handle(&engine, &format!("setup-{i}"), c).await;
    }

    let rec = recommended(&engine, "req-1").await;
    let ranked: Vec<&str> = rec.candidates.iter().map(|c| c.practitioner.as_str()).collect();
    assert_eq!(ranked.len(), 3, "the three primary SLEs: {ranked:?}");
    let (pick, planned) = solvers_pick(&engine, "req-1").await;
    assert_eq!(ranked[0], pick, "{rec:#?}");
    assert_eq!(rec.candidates[0].days.values().sum::<u32>(), planned);
    assert_eq!(reason_of(&rec, "lle-1"), Some(NotCandidateReason::Designation));
    assert_eq!(reason_of(&rec, "sle-4"), Some(NotCandidateReason::Phase));
    let first = &rec.candidates[0];
    assert_eq!(first.rank, 1);
    assert_eq!(first.free.get(&period("2026-AU2")), Some(&3));
    assert!(first.cost > 0.0 && first.distance_km > 0.0, "{first:?}");

    // The first choice is proposed by hand and declines: rule 9.
    handle(
        &engine,
        "propose",
        Command::ProposeAssignment(ProposeAssignment {
            assignment: Some(aid("req-1-h1")),
            request: rid("req-1"),
            practitioner: pid(&pick),
            days: days(&[("2026-AU2", 2), ("2027-SP1", 1)]),
        }),
    )
    .await;
    handle(
        &engine,
        "decline",
        Command::DeclineAssignment(DeclineAssignment {
            assignment: aid("req-1-h1"),
            reason: DeclineReason::NoRelease,
            note: None,
        }),
    )
    .await;
    let after = recommended(&engine, "req-1").await;
    assert_eq!(reason_of(&after, &pick), Some(NotCandidateReason::Excluded), "{after:#?}");
    assert_eq!(after.candidates.len(), 2);
    let (next, _) = solvers_pick(&engine, "req-1").await;
    assert_ne!(next, pick);
    assert_eq!(after.candidates[0].practitioner.as_str(), next);
    // Not from the school's other request.
    let other = recommended(&engine, "req-2").await;
    assert!(other.candidates.iter().any(|c| c.practitioner.as_str() == pick), "{other:#?}");

    // Withdrawn and unknown requests are refused, naming the request.
    handle(
        &engine,
        "withdraw",
        Command::WithdrawRequest(WithdrawRequest {
            request: rid("req-2"),
            reason: "found support".into(),
        }),
    )
    .await;
    let head = engine.log().head();
    for (request, code) in
        [("req-2", RejectionCode::Withdrawn), ("req-404", RejectionCode::UnknownRequest)]
    {
        let refused = engine
            .read(|s| recommend(s, engine.rules(), &rid(request), t(AT)))
            .await
            .expect("read");
        match refused {
            Err(RecommendError::Refused(r)) => {
                assert_eq!((r.code, r.field.as_str(), r.value.as_str()), (code, "request", request))
            }
            other => panic!("{request}: {other:?}"),
        }
    }
    assert_eq!(engine.log().head(), head);
}

/// A temporary data folder and the real binary on it.
struct Desk {
    _dir: tempfile::TempDir,
    data: PathBuf,
}

impl Desk {
    fn run(&self, args: &[&str]) -> Output {
        let mut c = Process::new(env!("CARGO_BIN_EXE_bridges"));
        c.arg("--data").arg(&self.data).args(["--at", AT, "--as", "broker-1"]).args(args);
        for v in ["BRIDGES_USER", "BRIDGES_DATA_DIR", "BRIDGES_CONFIG", "RUST_LOG"] {
            c.env_remove(v);
        }
        c.output().expect("run bridges")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}{}", text(&out.stdout), text(&out.stderr));
        text(&out.stdout)
    }

    /// Events in the log, as `log verify` counts them.
    fn count(&self) -> u64 {
        let out = self.ok(&["log", "verify"]);
        out.strip_prefix("ok: ")
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a verify line: {out}"))
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn the_binary_prints_the_table_and_the_document_and_refuses_what_is_not_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let desk = Desk { data: dir.path().join("data"), _dir: dir };
    let lines: Vec<String> = partnership()
        .into_iter()
        .enumerate()
        .map(|(i, command)| {
            serde_json::to_string(&envelope(&format!("setup-{i}"), AT, command)).expect("json")
        })
        .collect();
    let file = desk._dir.path().join("setup.ndjson");
    std::fs::write(&file, lines.join("\n") + "\n").expect("write");
    desk.ok(&["submit", file.to_str().expect("utf-8")]);
    desk.ok(&["request", "close", "req-2", "--impact", "none"]);

    let before = desk.count();
    let table = desk.ok(&["request", "recommend", "req-1"]);
    assert!(table.starts_with("Request req-1 (maths at 100001 School 100001): 3 could take it"));
    let doc: Recommendation =
        serde_json::from_str(&desk.ok(&["request", "recommend", "req-1", "--json"]))
            .expect("a Recommendation document");
    let first = &doc.candidates[0];
    let row = table
        .lines()
        .find(|l| l.trim_start().starts_with("1 "))
        .unwrap_or_else(|| panic!("no rank 1 row:\n{table}"));
    assert!(row.contains(first.practitioner.as_str()) && row.contains("2026-AU2:2"), "{row}");
    let lle = table.lines().find(|l| l.starts_with("lle-1")).expect("lle-1 listed");
    assert!(lle.contains("designation") && lle.contains("does not accept"), "{lle}");

    for (request, code) in [("req-404", "[unknown_request]"), ("req-2", "[wrong_state]")] {
        let out = desk.run(&["request", "recommend", request]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{request}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with(&format!("rejected: request = {request}: ")), "{err}");
        assert!(err.trim_end().ends_with(code), "{err}");
        assert!(out.stdout.is_empty());
    }
    assert_eq!(desk.count(), before, "a recommendation records nothing");
}
