//! Ten LAs on one NATS with a pool of two workers: ten `bridges serve`
//! engines (LAs 301 to 310, each its own folder and generated partnership)
//! and two `bridges-worker serve`, a week of runs each (Monday's by the
//! schedule, caught up at start; Wednesday's and Friday's on demand).
//! - Each run is solved once (one `solving` and one `plan published` in
//!   the workers' logs together), its plan once on its LA's plans stream,
//!   and its start and completion once in its LA's log.
//! - Each LA's messages are only in its own subjects: every message seen on
//!   `bridges.>` names, in its subject, the LA of its payload (a ticket's
//!   LA, or the log its event came from, by the event's chained hash).
//! - Each LA's events stream holds its log, one message per event.
//!
//! How the two workers shared the runs is printed, not asserted (it is
//! luck, not a rule).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_nats::jetstream;
use bridges_tests::nats::{NatsServer, Service};
use bridges_tests::services::{
    Partnership, client, eventually, request, schedule_on, stream_count, stream_messages,
};
use futures::StreamExt;
use serde_json::{Value, json};

/// The LAs (London boroughs' codes, Barking and Dagenham to Hammersmith).
const LAS: std::ops::RangeInclusive<u16> = 301..=310;
/// Monday's run, scheduled at 07:00 and caught up on Tuesday.
const SCHEDULED: &str = "scheduled-20261123T0700Z";
/// The runs asked for on demand, and when.
const ON_DEMAND: [(&str, &str); 2] =
    [("demand-wed", "2026-11-25T09:00:00Z"), ("demand-fri", "2026-11-27T09:00:00Z")];

fn plans_stream(la: u16) -> String {
    format!("BRIDGES_{la}_PLANS")
}

/// Lines of a JSON log whose message is `message`: their `(la, run)`.
fn logged(log: &str, message: &str) -> Vec<(u64, String)> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["fields"]["message"] == message)
        .map(|v| {
            let f = &v["fields"];
            (f["la"].as_u64().unwrap_or(0), f["run"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

#[test]
fn ten_las_share_one_nats_and_two_workers_each_run_solved_once() {
    let partnerships: Vec<Partnership> = LAS.map(|la| Partnership::new(la, 20, 8, 12)).collect();
    for p in &partnerships {
        schedule_on(&p.config, "[\"Mon\"]", "07:00");
    }
    let server = NatsServer::start();
    let url = server.url();
    let rt = tokio::runtime::Runtime::new().expect("runtime");

    // Everything published under the prefix, as an outside subscriber sees it.
    let seen = rt.block_on(async {
        let nats = client(&url).await;
        let mut all = nats.subscribe("bridges.>").await.expect("subscribe");
        nats.flush().await.expect("flush");
        let (tx, rx) = std::sync::mpsc::channel::<(String, Vec<u8>)>();
        tokio::spawn(async move {
            while let Some(m) = all.next().await {
                if tx.send((m.subject.to_string(), m.payload.to_vec())).is_err() {
                    break;
                }
            }
        });
        (nats, rx)
    });

    let worker = |name: &str| {
        let mut cmd = std::process::Command::new(bridges_tests::binary("bridges-worker"));
        cmd.args(["serve", "--nats-url", &url, "--name", name, "--log-json"]);
        let dir = partnerships[0].dir.path();
        Service::spawn(name, cmd, dir.join(format!("{name}.log")))
    };
    let mut workers = [worker("worker-1"), worker("worker-2")];
    for w in &mut workers {
        w.wait_for_log("worker serving", Duration::from_secs(30));
    }
    // Tuesday: each engine catches up Monday's scheduled run at start.
    let mut engines: Vec<Service> =
        partnerships.iter().map(|p| p.engine(&url, &["--now", "2026-11-24T10:00:00Z"])).collect();
    for e in &mut engines {
        e.wait_for_log("engine serving", Duration::from_secs(60));
    }
    let mut replies = Vec::new();
    rt.block_on(async {
        let nats = client(&url).await;
        for (run, at) in ON_DEMAND {
            for la in LAS {
                let start = json!({"run": run, "actor": "broker-1", "at": at}).to_string();
                let subject = format!("bridges.{la}.runs.start");
                let started = request(&nats, &subject, start.into_bytes()).await;
                assert_eq!(started["requested"], true, "{la} {run}: {started}");
                replies.push(started);
            }
        }
        let js = jetstream::new(nats.clone());
        eventually(Duration::from_secs(180), "every LA's three plans are published", || {
            let js = js.clone();
            async move {
                for la in LAS {
                    if stream_count(&js, &plans_stream(la)).await < 3 {
                        return false;
                    }
                }
                true
            }
        })
        .await;
    });
    for e in &mut engines {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while e.log().matches("plan recorded").count() < 3 {
            assert!(std::time::Instant::now() < deadline, "{}: {}", e.name, e.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    for e in &mut engines {
        assert!(e.terminate(Duration::from_secs(30)), "{}", e.log());
    }
    for w in &mut workers {
        assert!(w.terminate(Duration::from_secs(30)), "{}", w.log());
    }

    // Each run solved once, by one worker or the other.
    let runs: BTreeSet<(u64, String)> = LAS
        .flat_map(|la| {
            [SCHEDULED, ON_DEMAND[0].0, ON_DEMAND[1].0].map(|r| (u64::from(la), r.to_owned()))
        })
        .collect();
    let logs: Vec<String> = workers.iter().map(Service::log).collect();
    for message in ["solving", "plan published"] {
        let mut all: Vec<(u64, String)> = logs.iter().flat_map(|l| logged(l, message)).collect();
        all.sort();
        let expected: Vec<(u64, String)> = runs.iter().cloned().collect();
        assert_eq!(all, expected, "each run's {message:?} once across the workers");
    }
    let shares: Vec<usize> = logs.iter().map(|l| logged(l, "plan published").len()).collect();
    eprintln!("runs solved per worker: worker-1 {}, worker-2 {}", shares[0], shares[1]);

    // Each LA's log: its three runs started and recorded once each.
    let mut event_la: BTreeMap<String, u16> = BTreeMap::new();
    let mut log_sizes = BTreeMap::new();
    for p in &partnerships {
        let events = p.log_events();
        let of = |kind: &str| -> Vec<String> {
            let mut r: Vec<String> = events
                .iter()
                .filter(|e| e.type_name == kind)
                .filter_map(|e| {
                    let v: Value = serde_json::from_slice(&e.payload).ok()?;
                    v["run"].as_str().map(str::to_owned)
                })
                .collect();
            r.sort();
            r
        };
        let expected = ["demand-fri", "demand-wed", SCHEDULED];
        assert_eq!(of("MatchingRunStarted"), expected, "LA {}", p.la);
        assert_eq!(of("MatchingRunCompleted"), expected, "LA {}", p.la);
        // An event id is a hash of its command id (the same in two LAs for
        // the same command, `run-demand-wed`); its chained hash is its log's.
        for e in &events {
            let before = event_la.insert(hex::encode(e.hash), p.la);
            assert!(before.is_none(), "event {} is in two logs", e.event_id);
        }
        log_sizes.insert(p.la, events.len() as u64);
    }

    let (nats, rx) = seen;
    rt.block_on(async {
        let js = jetstream::new(nats.clone());
        for la in LAS {
            assert_eq!(
                stream_count(&js, &format!("BRIDGES_{la}_EVENTS")).await,
                log_sizes[&la],
                "LA {la}: its events stream holds its log"
            );
            let plans = stream_messages(&js, &plans_stream(la)).await;
            let mut ids: Vec<String> = plans.iter().map(|m| m.msg_id.clone()).collect();
            ids.sort();
            assert_eq!(ids, ["demand-fri", "demand-wed", SCHEDULED], "LA {la}: one plan per run");
            for m in &plans {
                assert_eq!(m.payload["ticket"]["la"], json!(la), "{}", m.subject);
            }
        }
        nats.flush().await.expect("flush");
    });

    // Every message seen on bridges.> is in its own LA's subjects.
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut checked = 0;
    for (subject, payload) in rx.try_iter() {
        let parts: Vec<&str> = subject.split('.').collect();
        let la: u16 = parts.get(1).and_then(|t| t.parse().ok()).unwrap_or_else(|| {
            panic!("{subject}: the second token is an LA code");
        });
        assert!(LAS.contains(&la), "{subject}: not one of the LAs");
        let kind = parts.get(2).copied().unwrap_or_default();
        *kinds.entry(kind.to_owned()).or_default() += 1;
        let body: Value = match serde_json::from_slice(&payload) {
            Ok(v) => v,
            Err(_) => continue,
        };
        match kind {
            "events" | "assignments" => {
                let hash = body["hash"].as_str().expect("an event envelope");
                let id = &body["event_id"];
                assert_eq!(event_la.get(hash), Some(&la), "{subject}: event {id} is not LA {la}'s");
                checked += 1;
            }
            "plans" | "runs" if body.get("ticket").is_some() => {
                assert_eq!(body["ticket"]["la"], json!(la), "{subject}: {}", body["ticket"]);
                checked += 1;
            }
            _ => {}
        }
    }
    eprintln!("messages seen on bridges.> by kind: {kinds:?}; {checked} checked against their LA");
    assert!(kinds.get("events").is_some_and(|n| *n as u64 >= log_sizes.values().sum::<u64>()));
    assert!(kinds.get("plans").is_some_and(|n| *n >= 30), "{kinds:?}");
    drop(server);
}
