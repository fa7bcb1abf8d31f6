//! A three-node NATS cluster with every stream and the documents bucket at
//! three replicas (`--replicas 3`), the services given every node's URL.
//! Each round sends commands (the relay busy), starts a matching run, and
//! kills the node that leads the events stream while the run is in flight;
//! more commands and the run go on against the two nodes left, then the
//! node comes back. 1 round by default and under CI, 4 with `BRIDGES_SLOW`.
//! At the end every event of the log is on the events stream exactly once
//! and in log order, and every run has its plan on the plans stream (a
//! second copy is possible: the 2 s duplicate window is shorter than a
//! redelivery after the node's death) and exactly one record in the log.

use std::process::Command;
use std::time::Duration;

use async_nats::jetstream;
use bridges_tests::nats::{NatsCluster, Service};
use bridges_tests::services::{
    Partnership, assert_exactly_once, last_command_relayed, register_school, request_retrying,
    rounds, stream_count,
};
use bridges_tests::{binary, run};
use serde_json::json;

const EVENTS: &str = "BRIDGES_312_EVENTS";
const PLANS: &str = "BRIDGES_312_PLANS";

/// A client that knows every node, so it reconnects to one still up.
async fn cluster_client(cluster: &NatsCluster) -> async_nats::Client {
    let urls: Vec<String> = cluster.nodes.iter().map(|n| n.url()).collect();
    async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(urls)
        .await
        .expect("the test connects to the cluster")
}

/// The server name of the events stream's leader.
async fn events_leader(js: &jetstream::Context) -> String {
    let mut stream = js.get_stream(EVENTS).await.expect("the events stream");
    let info = stream.info().await.expect("stream info");
    let cluster = info.cluster.clone().expect("a clustered stream");
    assert_eq!(info.config.num_replicas, 3, "the events stream has three replicas");
    cluster.leader.expect("the events stream has a leader")
}

/// Whether the events stream holds the run's completion among its last
/// 500 messages; false while the stream cannot be read (a leader election).
async fn run_completed_on_stream(js: &jetstream::Context, run: &str) -> bool {
    let Ok(mut stream) = js.get_stream(EVENTS).await else { return false };
    let Ok(info) = stream.info().await else { return false };
    let (first, last) = (info.state.first_sequence.max(1), info.state.last_sequence);
    for seq in (first.max(last.saturating_sub(500))..=last).rev() {
        let Ok(m) = stream.get_raw_message(seq).await else { return false };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&m.payload) else { continue };
        if v["type"] == "MatchingRunCompleted" && v["payload"]["run"] == run {
            return true;
        }
    }
    false
}

#[test]
fn a_node_killed_mid_run_in_a_three_node_cluster_loses_and_repeats_nothing() {
    let mut cluster = NatsCluster::start(3);
    let la = Partnership::new(312, 100, 40, 80);
    let urls = cluster.urls();
    let mut engine = la.engine(
        &urls,
        &["--replicas", "3", "--duplicate-window", "2", "--ack-wait", "2", "--in-flight", "8"],
    );
    engine.wait_for_log("engine serving", Duration::from_secs(60));
    let mut worker = {
        let mut cmd = Command::new(binary("bridges-worker"));
        cmd.args(["serve", "--nats-url", &urls, "--replicas", "3", "--ack-wait", "2"]);
        cmd.args(["--name", "worker-1"]);
        Service::spawn("worker-1", cmd, la.dir.path().join("worker-1.log"))
    };
    worker.wait_for_log("worker serving", Duration::from_secs(60));

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let rounds = rounds(1, 4);
    for round in 0..rounds {
        let run_id = format!("cluster-{round}");
        let leader = rt.block_on(async {
            let nats = cluster_client(&cluster).await;
            let js = jetstream::new(nats.clone());
            for i in 0..30u32 {
                let id = format!("cluster-{round}-{i}");
                let _ = nats
                    .publish(
                        "bridges.312.cmd",
                        register_school(&id, 400_000 + round as u32 * 100 + i).into(),
                    )
                    .await;
            }
            let _ = nats.flush().await;
            let at = format!("2026-11-2{}T09:00:00Z", 3 + round);
            let started = request_retrying(
                &nats,
                "bridges.312.runs.start",
                json!({"run": run_id, "actor": "broker-1", "at": at}).to_string().into_bytes(),
            )
            .await;
            assert_eq!(started["requested"], true, "the run is requested: {started}");
            events_leader(&js).await
        });
        // The leader goes down with the run in flight and the relay busy.
        cluster.node(&leader).kill();
        rt.block_on(async {
            let nats = cluster_client(&cluster).await;
            let js = jetstream::new(nats.clone());
            for i in 30..40u32 {
                let id = format!("cluster-{round}-{i}");
                let reply = request_retrying(
                    &nats,
                    "bridges.312.cmd",
                    register_school(&id, 400_000 + round as u32 * 100 + i),
                )
                .await;
                assert_eq!(reply["outcome"], "applied", "{reply}");
            }
            let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
            while !run_completed_on_stream(&js, &run_id).await {
                if tokio::time::Instant::now() > deadline {
                    let tail = |t: String| t[t.len().saturating_sub(4000)..].to_owned();
                    panic!(
                        "run {run_id} not on the events stream within 120 s (node {leader} down)\nengine:\n{}\nworker:\n{}",
                        tail(engine.log()),
                        tail(worker.log())
                    );
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        cluster.node(&leader).restart();
        cluster.wait_for_jetstream();
    }

    // Everything the log holds reaches the stream, then the services stop.
    rt.block_on(async {
        let nats = cluster_client(&cluster).await;
        let js = jetstream::new(nats.clone());
        last_command_relayed(&nats, &js, EVENTS, "cluster-last", 499_999).await;
    });
    assert!(worker.terminate(Duration::from_secs(30)), "the worker stops:\n{}", worker.log());
    assert!(engine.terminate(Duration::from_secs(30)), "the engine stops:\n{}", engine.log());

    let events = la.log_events();
    rt.block_on(async {
        let js = jetstream::new(cluster_client(&cluster).await);
        assert_exactly_once(&js, EVENTS, &events).await;
        // Every run's plan reached the stream. With the test's 2 s duplicate
        // window, a run request redelivered after the node's death (its ack
        // lost with the node) may be solved again and its plan stored twice:
        // the engine records it once all the same, which is checked below.
        let plans = stream_count(&js, PLANS).await;
        assert!(plans >= rounds as u64, "{plans} plans on the stream for {rounds} runs");
    });
    for round in 0..rounds {
        let run_id = format!("\"cluster-{round}\"");
        let recorded = events
            .iter()
            .filter(|e| e.type_name == "MatchingRunCompleted")
            .filter(|e| String::from_utf8_lossy(&e.payload).contains(&run_id))
            .count();
        assert_eq!(recorded, 1, "run {run_id} is recorded exactly once");
    }
    let out =
        run(Command::new(binary("bridges")).arg("--data").arg(&la.data).args(["log", "verify"]));
    assert!(out.status.success(), "the log verifies: {}", String::from_utf8_lossy(&out.stderr));
}
