//! The schedule on `bridges serve` (`[schedule]`, Mondays at 07:00 in
//! London), with the engine's clock set by the hidden `--now` (tests only):
//! a run whose moment passed while the engine was down is caught up once at
//! start and recorded once, however often the engine starts again; a
//! moment that comes while it serves starts its run then; each run's id is
//! its moment's and its trigger `scheduled`.

use std::time::Duration;

use async_nats::jetstream;
use bridges_tests::services::{Lab, client, eventually, schedule_on, stream_messages};
use serde_json::Value;

const PLANS: &str = "BRIDGES_312_PLANS";

fn payload(e: &bridges_engine::log::RecordedEvent) -> Value {
    serde_json::from_slice(&e.payload).expect("payloads are JSON")
}

/// The run ids on the plans stream, in order.
fn plans(url: &str) -> Vec<String> {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let js = jetstream::new(client(url).await);
        stream_messages(&js, PLANS).await.into_iter().map(|m| m.msg_id).collect()
    })
}

fn wait_for_plans(url: &str, n: usize) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let js = jetstream::new(client(url).await);
        eventually(Duration::from_secs(60), &format!("{n} plans on the plans stream"), || {
            let js = js.clone();
            async move { bridges_tests::services::stream_count(&js, PLANS).await == n as u64 }
        })
        .await;
    });
}

#[test]
fn a_missed_run_is_caught_up_once_and_a_due_one_starts_on_time() {
    let lab = Lab::new("", 30, 12, 20);
    schedule_on(&lab.config, "[\"Mon\"]", "07:00");
    let url = lab.nats.url();
    let mut worker = lab.worker("worker-1", &[]);
    worker.wait_for_log("worker serving", Duration::from_secs(30));
    let serve = |name: &str, now: &str| {
        let mut engine = lab.engine(name, &["--now", now]);
        engine.wait_for_log("engine serving", Duration::from_secs(30));
        engine
    };

    // Tuesday: Monday 23 November's 07:00 (GMT) was missed; it is caught up.
    let mut engine = serve("engine-1", "2026-11-24T10:00:00Z");
    engine.wait_for_log("schedule: catching up a missed run", Duration::from_secs(30));
    wait_for_plans(&url, 1);
    engine.wait_for_log("plan recorded", Duration::from_secs(30));
    assert!(engine.terminate(Duration::from_secs(30)), "{}", engine.log());

    // Wednesday, and again Wednesday: recorded already, nothing to catch up.
    for (name, now) in [("engine-2", "2026-11-25T10:00:00Z"), ("engine-3", "2026-11-25T10:05:00Z")]
    {
        let mut engine = serve(name, now);
        engine.wait_for_log("schedule: nothing to catch up", Duration::from_secs(30));
        engine.wait_for_log("schedule: next run", Duration::from_secs(30));
        assert!(engine.log().contains("scheduled-20261130T0700Z"), "{}", engine.log());
        assert!(engine.terminate(Duration::from_secs(30)), "{}", engine.log());
    }
    assert_eq!(plans(&url), ["scheduled-20261123T0700Z"]);

    // Five seconds before Monday 30 November's 07:00: it starts on time.
    let mut engine = serve("engine-4", "2026-11-30T06:59:55Z");
    engine.wait_for_log("schedule: nothing to catch up", Duration::from_secs(30));
    wait_for_plans(&url, 2);
    engine.wait_for_log("plan recorded", Duration::from_secs(30));
    assert!(engine.terminate(Duration::from_secs(30)), "{}", engine.log());
    assert!(worker.terminate(Duration::from_secs(30)));
    assert_eq!(plans(&url), ["scheduled-20261123T0700Z", "scheduled-20261130T0700Z"]);

    let events = lab.log_events();
    let runs_of = |kind: &str| -> Vec<(String, Value)> {
        events
            .iter()
            .filter(|e| e.type_name == kind)
            .map(|e| {
                let p = payload(e);
                (p["run"].as_str().unwrap_or_default().to_owned(), p)
            })
            .collect()
    };
    let started = runs_of("MatchingRunStarted");
    let completed = runs_of("MatchingRunCompleted");
    let ids = |runs: &[(String, Value)]| runs.iter().map(|(r, _)| r.clone()).collect::<Vec<_>>();
    let expected = ["scheduled-20261123T0700Z", "scheduled-20261130T0700Z"];
    assert_eq!(ids(&started), expected, "each run started once in the log");
    assert_eq!(ids(&completed), expected, "each run recorded once");
    for (run, p) in &started {
        assert_eq!(p["trigger"], "scheduled", "{run}: {p}");
    }
}
