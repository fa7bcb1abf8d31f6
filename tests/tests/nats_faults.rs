//! Faults on the distributed path, each on its own nats-server with the
//! duplicate window and ack wait set to seconds (so exactly-once is the
//! relay's doing, not a long window's). Each ends with every event of the
//! log on the events stream exactly once and in log order, and every run
//! with exactly one recorded plan.
//! - nats-server killed and restarted while the relay publishes;
//! - the engine SIGKILLed while publishing, at random moments, many times
//!   (3 rounds by default and under CI, 25 with `BRIDGES_SLOW`);
//! - the engine down longer than the duplicate window;
//! - a worker SIGKILLed mid-solve: the run goes to another worker after
//!   the ack wait, and is recorded once.

use std::time::Duration;

use async_nats::jetstream;
use bridges_tests::nats::Service;
use bridges_tests::services::{
    Lab, assert_exactly_once, client, eventually, last_command_relayed, register_school, request,
    rounds, stream_count,
};
use rand::Rng;
use serde_json::json;

const EVENTS: &str = "BRIDGES_312_EVENTS";
const PLANS: &str = "BRIDGES_312_PLANS";

fn engine_args() -> Vec<&'static str> {
    vec!["--duplicate-window", "2", "--ack-wait", "2", "--in-flight", "8"]
}

/// Stops the engine and checks the stream against its log.
fn stop_and_check(lab: &Lab, engine: &mut Service, rt: &tokio::runtime::Runtime) {
    assert!(engine.terminate(Duration::from_secs(30)), "the engine stops:\n{}", engine.log());
    let events = lab.log_events();
    rt.block_on(async {
        let nats = client(&lab.nats.url()).await;
        let js = jetstream::new(nats);
        assert_exactly_once(&js, EVENTS, &events).await;
    });
}

#[test]
fn nats_server_killed_and_restarted_mid_stream() {
    let mut lab = Lab::new("", 100, 40, 80);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut engine = lab.engine("engine", &engine_args());
    engine.wait_for_log("engine serving", Duration::from_secs(30));
    let url = lab.nats.url();
    for round in 0..rounds(2, 10) {
        // Commands keep the relay busy while the server goes down.
        rt.block_on(async {
            let nats = client(&url).await;
            for i in 0..20u32 {
                let id = format!("restart-{round}-{i}");
                let _ = nats
                    .publish(
                        "bridges.312.cmd",
                        register_school(&id, 200_000 + round as u32 * 100 + i).into(),
                    )
                    .await;
            }
            let _ = nats.flush().await;
        });
        lab.nats.kill();
        std::thread::sleep(Duration::from_millis(rand::rng().random_range(100..1500)));
        lab.nats.restart();
    }
    rt.block_on(async {
        let nats = client(&url).await;
        let js = jetstream::new(nats.clone());
        // A last command through, then wait for the relay to catch up.
        last_command_relayed(&nats, &js, EVENTS, "restart-last", 299_999).await;
    });
    stop_and_check(&lab, &mut engine, &rt);
}

/// Appends `n` commands to the lab's log with `bridges submit` (no engine
/// may hold the folder), so the next engine has a backlog to publish.
fn backlog(lab: &Lab, round: usize, n: u32) {
    let mut text = String::new();
    for i in 0..n {
        let urn = 300_000 + round as u32 * 1_000 + i;
        text.push_str(
            std::str::from_utf8(&register_school(&format!("kill-{round}-{i}"), urn))
                .expect("utf-8"),
        );
        text.push('\n');
    }
    let file = lab.dir.path().join(format!("backlog-{round}.ndjson"));
    std::fs::write(&file, text).expect("write commands");
    let out = bridges_tests::run(
        std::process::Command::new(bridges_tests::binary("bridges"))
            .arg("--data")
            .arg(&lab.data)
            .arg("--config")
            .arg(&lab.config)
            .arg("submit")
            .arg(&file),
    );
    assert!(out.status.success(), "submit: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn the_engine_sigkilled_while_publishing_publishes_every_event_once() {
    let lab = Lab::new("", 30, 12, 20);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let url = lab.nats.url();
    let mut killed_midway = 0;
    let n = rounds(3, 25);
    for round in 0..n {
        backlog(&lab, round, 300);
        let head = lab.log_events().len() as u64;
        let mut engine = lab.engine(&format!("engine-{round}"), &engine_args());
        engine.wait_for_log("relay: tailing the log", Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(rand::rng().random_range(0..40)));
        engine.kill();
        let published = rt.block_on(async {
            let js = jetstream::new(client(&url).await);
            stream_count(&js, EVENTS).await
        });
        if published < head {
            killed_midway += 1;
        }
    }
    // A kill came while events were unpublished at least once, so the
    // resume was exercised; then one clean run catches up.
    assert!(killed_midway > 0, "no kill came while events were unpublished");
    let mut engine = lab.engine("engine-last", &engine_args());
    engine.wait_for_log("engine serving", Duration::from_secs(30));
    let head = lab_head_by_query(&rt, &url);
    rt.block_on(async {
        let js = jetstream::new(client(&url).await);
        eventually(Duration::from_secs(60), "the relay catches up", || {
            let js = js.clone();
            async move { stream_count(&js, EVENTS).await >= head }
        })
        .await;
    });
    stop_and_check(&lab, &mut engine, &rt);
    eprintln!("{n} rounds, {killed_midway} killed with events unpublished");
}

fn lab_head_by_query(rt: &tokio::runtime::Runtime, url: &str) -> u64 {
    rt.block_on(async {
        let nats = client(url).await;
        let s = request(&nats, "bridges.312.query.problem", Vec::new()).await;
        s["as_of_position"].as_u64().expect("a position")
    })
}

#[test]
fn an_engine_down_longer_than_the_duplicate_window_publishes_nothing_twice() {
    let lab = Lab::new("", 30, 12, 20);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let url = lab.nats.url();
    let mut engine = lab.engine("engine-1", &engine_args());
    engine.wait_for_log("engine serving", Duration::from_secs(30));
    let head = lab_head_by_query(&rt, &url);
    rt.block_on(async {
        let js = jetstream::new(client(&url).await);
        eventually(Duration::from_secs(60), "the first engine publishes the log", || {
            let js = js.clone();
            async move { stream_count(&js, EVENTS).await >= head }
        })
        .await;
    });
    engine.kill();
    // Down for twice the duplicate window: the broker forgets every msg id.
    std::thread::sleep(Duration::from_secs(5));
    let mut engine = lab.engine("engine-2", &engine_args());
    engine.wait_for_log("engine serving", Duration::from_secs(30));
    rt.block_on(async {
        let nats = client(&url).await;
        let reply =
            request(&nats, "bridges.312.cmd", register_school("after-window", 400_000)).await;
        assert_eq!(reply["outcome"], "applied", "{reply}");
        let js = jetstream::new(nats);
        eventually(Duration::from_secs(30), "the new event is published", || {
            let js = js.clone();
            async move { stream_count(&js, EVENTS).await > head }
        })
        .await;
    });
    stop_and_check(&lab, &mut engine, &rt);
}

#[test]
fn a_worker_killed_mid_solve_leaves_the_run_to_another() {
    let lab = Lab::new("", 30, 12, 20);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let url = lab.nats.url();
    let mut engine = lab.engine("engine", &engine_args());
    engine.wait_for_log("engine serving", Duration::from_secs(30));
    let mut first = lab.worker("worker-1", &["--ack-wait", "2"]);
    first.wait_for_log("worker serving", Duration::from_secs(30));
    // A hard problem the first worker is killed in the middle of: a
    // generated single-practitioner week, under this LA's ticket.
    let problem_file = lab.dir.path().join("hard.json");
    let out = bridges_tests::run(
        std::process::Command::new(bridges_tests::binary("bridges-worker"))
            .args(["generate", "--kind", "brokerage", "--schools", "120", "--practitioners", "80"])
            .args(["--requests", "200", "--single-practitioner", "--seed", "7", "--out"])
            .arg(&problem_file),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let problem: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&problem_file).expect("problem")).expect("JSON");
    let bytes = serde_json::to_vec(&problem).expect("bytes");
    let sha = bridges_worker::common::sha256_hex(&bytes);
    let position = lab_head_by_query(&rt, &url);
    let periods = problem["periods"].clone();
    let message = json!({
        "ticket": {"la": 312, "run": "hard-1", "as_of_position": position, "problem_sha256": sha,
                   "periods": periods, "trigger": "on_demand", "actor": "broker-1",
                   "at": "2026-11-23T09:00:00Z", "requested": [0, 0, 0, 0],
                   "greedy_coverage": [0, 0, 0, 0]},
        "time_limit_seconds": 6.0, "mip_gap": null, "problem": {"inline": problem},
    });
    rt.block_on(async {
        let js = jetstream::new(client(&url).await);
        let publish = jetstream::message::PublishMessage::build()
            .payload(serde_json::to_vec(&message).expect("bytes").into())
            .message_id("312-hard-1");
        js.send_publish("bridges.312.runs.requested", publish)
            .await
            .expect("publish")
            .await
            .expect("stored");
    });
    first.wait_for_log("solving", Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(500));
    first.kill();
    let mut second = lab.worker("worker-2", &["--ack-wait", "2"]);
    second.wait_for_log("plan published", Duration::from_secs(60));
    rt.block_on(async {
        let js = jetstream::new(client(&url).await);
        eventually(Duration::from_secs(30), "the plan is on the plans stream", || {
            let js = js.clone();
            async move { stream_count(&js, PLANS).await == 1 }
        })
        .await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    });
    assert!(second.terminate(Duration::from_secs(30)));
    assert!(!first.log().contains("plan published"), "the first worker died before publishing");
    stop_and_check(&lab, &mut engine, &rt);
    let events = lab.log_events();
    let completed = events
        .iter()
        .filter(|e| e.type_name == "MatchingRunCompleted")
        .filter(|e| String::from_utf8_lossy(&e.payload).contains("\"hard-1\""))
        .count();
    assert_eq!(completed, 1, "the run is recorded exactly once");
}
