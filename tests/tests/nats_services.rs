//! The distributed path end to end, each test on its own nats-server: a
//! seeded LA's engine serving (`bridges serve`) and a worker
//! (`bridges-worker serve`), as separate processes.
//! - A command in over `<la>.cmd`, a run started over `<la>.runs.start`
//!   solved by the worker, its plan recorded by the engine once, the
//!   proposals out on `<la>.assignments.<practitioner>`; every event of the
//!   log on the events stream exactly once and in log order; every message
//!   valid against schemas/json; the service conventions answering; a
//!   Python client (scripts/outside_consumer.py, nats-py) reading the
//!   streams as an outside consumer, every message valid, exactly as many
//!   as the log says.
//! - Bad input over NATS: each gets a structured rejection, nothing is
//!   written, and a good command afterwards succeeds.

use std::time::Duration;

use async_nats::jetstream;
use bridges_engine::log::RecordedEvent;
use bridges_tests::services::{
    AT, LA, Lab, client, eventually, outside_consumer, request, stream_count, stream_messages,
    validate,
};
use serde_json::{Value, json};

const EVENTS: &str = "BRIDGES_312_EVENTS";
const ASSIGNMENTS: &str = "BRIDGES_312_ASSIGNMENTS";
const PLANS: &str = "BRIDGES_312_PLANS";

fn command(id: &str, command: Value) -> Vec<u8> {
    json!({"id": id, "actor": "broker-1", "at": "2026-11-23T10:00:00Z", "command": command})
        .to_string()
        .into_bytes()
}

fn register() -> Value {
    json!({"type": "register_school", "urn": 199999, "name": "New Road Primary", "la_code": LA,
           "phase": "primary", "easting": 507500, "northing": 182500})
}

/// What the log holds, and the proposals of its completed runs in log order.
fn proposals_of_completed_runs(events: &[RecordedEvent]) -> Vec<String> {
    let completed: std::collections::BTreeSet<String> = events
        .iter()
        .filter(|e| e.type_name == "MatchingRunCompleted")
        .filter_map(|e| payload(e)["run"].as_str().map(str::to_owned))
        .collect();
    events
        .iter()
        .filter(|e| e.type_name == "AssignmentProposed")
        .filter(|e| payload(e)["run"].as_str().is_none_or(|r| completed.contains(r)))
        .filter_map(|e| payload(e)["assignment"].as_str().map(str::to_owned))
        .collect()
}

fn payload(e: &RecordedEvent) -> Value {
    serde_json::from_slice(&e.payload).expect("payloads are JSON")
}

/// The events stream equals the log: one message per event, in log order,
/// msg id = event id, the subject naming the event's stream.
async fn assert_stream_is_the_log(js: &jetstream::Context, events: &[RecordedEvent]) {
    let stored = stream_messages(js, EVENTS).await;
    assert_eq!(stored.len(), events.len(), "one message per event");
    for (m, e) in stored.iter().zip(events) {
        assert_eq!(
            m.msg_id,
            e.event_id.to_string(),
            "message {} is position {}",
            m.sequence,
            e.position.0
        );
        assert_eq!(m.payload["position"], json!(e.position.0));
        assert!(m.subject.starts_with("bridges.312.events."), "{}", m.subject);
    }
}

#[test]
fn a_command_a_run_through_a_worker_and_everything_published_once() {
    let lab = Lab::new("", 30, 12, 20);
    let mut engine = lab.engine("engine", &["--duplicate-window", "5", "--ack-wait", "5"]);
    let mut worker = lab.worker("worker-1", &["--ack-wait", "5"]);
    engine.wait_for_log("engine serving", Duration::from_secs(30));
    worker.wait_for_log("worker serving", Duration::from_secs(30));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let url = lab.nats.url();
    let (plan_message, replies) = rt.block_on(async {
        let nats = client(&url).await;
        let js = jetstream::new(nats.clone());
        let mut replies = Vec::new();
        // A command in: applied, and the same id again is a duplicate.
        let applied = request(&nats, "bridges.312.cmd", command("nats-c1", register())).await;
        assert_eq!(applied["outcome"], "applied", "{applied}");
        let again = request(&nats, "bridges.312.cmd", command("nats-c1", register())).await;
        assert_eq!(again["outcome"], "duplicate", "{again}");
        replies.push(("command-result", applied));
        replies.push(("command-result", again));
        // The planning snapshot, as of the engine's position.
        let snapshot = request(
            &nats,
            "bridges.312.query.problem",
            br#"{"at":"2026-11-23T09:00:00Z"}"#.to_vec(),
        )
        .await;
        assert!(snapshot["as_of_position"].as_u64().is_some_and(|p| p > 50), "{snapshot}");
        assert!(
            snapshot["problem"]["inline"]["requests"].as_array().is_some_and(|r| !r.is_empty())
        );
        replies.push(("problem-snapshot", snapshot));
        // A run now; asked twice, it is requested once.
        let start = json!({"run": "nats-run-1", "actor": "broker-1", "at": AT}).to_string();
        let started = request(&nats, "bridges.312.runs.start", start.clone().into_bytes()).await;
        assert_eq!(started["requested"], true, "{started}");
        replies.push(("run-started", started));
        eventually(
            Duration::from_secs(60),
            "the plan is recorded and its proposals published",
            || {
                let js = js.clone();
                async move {
                    stream_count(&js, PLANS).await == 1 && stream_count(&js, ASSIGNMENTS).await > 0
                }
            },
        )
        .await;
        let again = request(&nats, "bridges.312.runs.start", start.into_bytes()).await;
        assert_eq!(again["requested"], false, "{again}");
        replies.push(("run-started", again));
        // $SRV: both services answer PING and STATS.
        let ping = request(&nats, "$SRV.PING.bridges-engine-312", Vec::new()).await;
        assert_eq!(ping["name"], "bridges-engine-312", "{ping}");
        let stats = request(&nats, "$SRV.STATS.bridges-worker", Vec::new()).await;
        assert_eq!(stats["name"], "bridges-worker", "{stats}");
        let plans = stream_messages(&js, PLANS).await;
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0].msg_id, "nats-run-1");
        assert_eq!(plans[0].subject, "bridges.312.plans.nats-run-1");
        (plans[0].payload.clone(), replies)
    });
    assert!(worker.terminate(Duration::from_secs(30)), "the worker stops cleanly");
    assert!(
        engine.terminate(Duration::from_secs(30)),
        "the engine stops cleanly:\n{}",
        engine.log()
    );

    let events = lab.log_events();
    let recorded: Vec<&RecordedEvent> =
        events.iter().filter(|e| e.type_name == "MatchingRunCompleted").collect();
    assert_eq!(recorded.len(), 1, "the run is recorded once");
    let proposals = proposals_of_completed_runs(&events);
    assert!(!proposals.is_empty(), "the run proposed something");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut nats_server = lab.nats;
    let counts = rt.block_on(async {
        let nats = client(&nats_server.url()).await;
        let js = jetstream::new(nats.clone());
        assert_stream_is_the_log(&js, &events).await;
        let assignments = stream_messages(&js, ASSIGNMENTS).await;
        let ids: Vec<String> = assignments.iter().map(|m| m.msg_id.clone()).collect();
        assert_eq!(ids, proposals, "one message per recorded proposal, in log order");
        for m in &assignments {
            let practitioner = m.payload["payload"]["practitioner"].as_str().expect("practitioner");
            assert_eq!(m.subject, format!("bridges.312.assignments.{practitioner}"));
        }
        let mut all: Vec<(&str, Value)> = replies;
        all.push(("run-plan", plan_message));
        for m in stream_messages(&js, EVENTS).await {
            all.push(("event-envelope", m.payload));
        }
        for m in assignments {
            all.push(("event-envelope", m.payload));
        }
        validate(&all)
    });
    assert_eq!(counts["event-envelope"], json!(events.len() + proposals.len()), "{counts}");
    assert_eq!(counts["run-plan"], json!(1));
    // An outside consumer in Python (nats-py) reads the streams through
    // consumers of its own: exactly what the log says went out.
    let outside = outside_consumer(&nats_server.url(), LA);
    assert_eq!(outside["events"], json!(events.len()), "{outside}");
    assert_eq!(outside["assignments"], json!(proposals.len()), "{outside}");
    assert_eq!(outside["plans"], json!(recorded.len()), "{outside}");
    nats_server.kill();
}

#[test]
fn bad_input_over_nats_is_answered_and_writes_nothing() {
    let lab = Lab::new("max_payload: 262144", 10, 4, 6);
    let mut engine = lab.engine("engine", &[]);
    engine.wait_for_log("engine serving", Duration::from_secs(30));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let nats = client(&lab.nats.url()).await;
        let js = jetstream::new(nats.clone());
        let position = async || {
            let s = request(&nats, "bridges.312.query.problem", Vec::new()).await;
            s["as_of_position"].as_u64().expect("a position")
        };
        let before = position().await;
        let mut oversized = command("big-1", register());
        oversized.extend(std::iter::repeat_n(b' ', 100_000));
        let other_la = {
            let mut r = register();
            r["la_code"] = json!(313);
            command("nats-bad-la", r)
        };
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("malformed JSON", b"{not json".to_vec(), "(line)"),
            (
                "unknown command",
                command("nats-bad-1", json!({"type": "raise_everything"})),
                "command.type",
            ),
            (
                "schema violation",
                command("nats-bad-2", json!({"type": "register_school", "urn": "many"})),
                "command.urn",
            ),
            ("oversized", oversized, "(message)"),
            ("another LA's school", other_la, "la_code"),
            ("an id that is not a subject token", command("bad id.*", register()), "id"),
        ];
        for (what, body, field) in cases {
            let reply = request(&nats, "bridges.312.cmd", body).await;
            assert_eq!(reply["outcome"], "rejected", "{what}: {reply}");
            let got = reply["rejection"]["field"].as_str().unwrap_or_default();
            assert!(got.starts_with(field), "{what}: the rejection names {got:?}: {reply}");
            validate(&[("command-result", reply)]);
        }
        let start = request(&nats, "bridges.312.runs.start", b"{\"run\": 7}".to_vec()).await;
        assert_eq!(start["field"], "(message)", "{start}");
        validate(&[("service-error", start)]);
        assert_eq!(position().await, before, "nothing was written");
        let good = request(&nats, "bridges.312.cmd", command("nats-good", register())).await;
        assert_eq!(good["outcome"], "applied", "the service goes on: {good}");
        assert_eq!(position().await, before + 1);
        let relayed = async || stream_count(&js, EVENTS).await == before + 1;
        for _ in 0..200 {
            if relayed().await {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let count = stream_count(&js, EVENTS).await;
        assert_eq!(count, before + 1, "the good command's event is relayed:\n{}", engine.log());
    });
    assert!(engine.terminate(Duration::from_secs(30)), "{}", engine.log());
}

#[test]
fn documents_over_max_payload_go_through_the_object_store() {
    // A 16 KiB max_payload: the LA's problem (100 schools, 40 practitioners,
    // 80 requests) is several times that.
    let lab = Lab::new("max_payload: 16384", 100, 40, 80);
    let mut engine = lab.engine("engine", &[]);
    let mut worker = lab.worker("worker-1", &[]);
    engine.wait_for_log("engine serving", Duration::from_secs(30));
    worker.wait_for_log("worker serving", Duration::from_secs(30));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let url = lab.nats.url();
    let (snapshot, plan) = rt.block_on(async {
        let nats = client(&url).await;
        let js = jetstream::new(nats.clone());
        let snapshot = request(&nats, "bridges.312.query.problem", Vec::new()).await;
        let reference = snapshot["problem"]["object"].clone();
        assert!(reference["bytes"].as_u64().is_some_and(|b| b > 16_384), "{snapshot}");
        let start = json!({"run": "big-1", "actor": "broker-1", "at": AT}).to_string();
        let started = request(&nats, "bridges.312.runs.start", start.into_bytes()).await;
        assert_eq!(started["requested"], true, "{started}");
        eventually(Duration::from_secs(90), "the plan is recorded", || {
            let js = js.clone();
            async move { stream_count(&js, PLANS).await == 1 }
        })
        .await;
        // The problem the worker solved is in the bucket, whole.
        let store = js.get_object_store("BRIDGES_312_DOCUMENTS").await.expect("the bucket");
        let mut object = store.get("problems/big-1.json").await.expect("the run's problem");
        let mut bytes = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut object, &mut bytes).await.expect("read");
        let problem: Value = serde_json::from_slice(&bytes).expect("JSON");
        assert_eq!(problem["kind"], "brokerage");
        assert!(bytes.len() > 16_384);
        let plans = stream_messages(&js, PLANS).await;
        (snapshot, plans[0].payload.clone())
    });
    assert!(worker.terminate(Duration::from_secs(30)));
    assert!(engine.terminate(Duration::from_secs(30)), "{}", engine.log());
    let events = lab.log_events();
    let completed = events.iter().filter(|e| e.type_name == "MatchingRunCompleted").count();
    assert_eq!(completed, 1, "the run is recorded once");
    validate(&[("problem-snapshot", snapshot), ("run-plan", plan)]);
}
