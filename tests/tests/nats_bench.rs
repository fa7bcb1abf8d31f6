//! Figures of the distributed path, printed (run with `--nocapture`), on a
//! nats-server of their own:
//! - the relay's throughput (events a second onto JetStream, acknowledged)
//!   against a raw async-nats JetStream publish loop with the same number
//!   in flight and the same messages, in the same run (20,000 events; 100,000
//!   with `BRIDGES_SLOW`);
//! - the command round trip over `<la>.cmd` to a served engine (durable:
//!   each reply after its append is synced), p50 and p99 of 300 commands;
//! - a run request to its recorded plan, end to end through a worker, for
//!   an LA-scale problem (100 schools, 40 practitioners, 80 requests),
//!   against the solve time the plan reports.
//!
//! They assert that what was measured is whole (every event on the stream,
//! every command applied), not a speed: the machine is shared.

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, message::PublishMessage, stream};
use bridges_engine::log::{AppendRequest, EventLog, ExpectedVersion, LogConfig, NewEvent};
use bridges_engine::nats::relay::{self, EventsOutbox, RelayOptions};
use bridges_tests::nats::NatsServer;
use bridges_tests::services::{AT, Lab, client, eventually, request, stream_count};
use futures::StreamExt;
use futures::stream::FuturesOrdered;
use serde_json::json;
use uuid::Uuid;

const IN_FLIGHT: usize = 256;

fn events(start: u64, n: u64) -> Vec<NewEvent> {
    (start..start + n)
        .map(|i| NewEvent {
            event_id: Uuid::from_u64_pair(i, 0xBE),
            type_name: "AvailabilityDeclared".into(),
            type_version: 1,
            payload: json!({"practitioner": format!("sle-{}", i % 500),
                            "days": {"2026-AU1": 2, "2026-AU2": 3, "2027-SP1": 1},
                            "meta": {"actor": "bench", "command": format!("c-{i}")}}),
        })
        .collect()
}

#[test]
fn relay_throughput_against_a_raw_publish_loop() {
    let n: u64 = if std::env::var_os("BRIDGES_SLOW").is_some() { 100_000 } else { 20_000 };
    let server = NatsServer::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let log = EventLog::open(LogConfig::new(dir.path().join("log"))).expect("log");
        let mut appended = 0;
        while appended < n {
            let batch = (n - appended).min(1_000);
            let request = AppendRequest {
                stream: format!("practitioner-{}", appended / 1_000),
                expected: ExpectedVersion::Any,
                events: events(appended, batch),
                command_id: None,
                recorded_at: chrono::Utc::now(),
            };
            log.append(request).await.expect("append");
            appended += batch;
        }
        let nats = client(&server.url()).await;
        let js = jetstream::new(nats.clone());
        for (name, subject) in [("RAW", "raw.>"), ("B_312_EVENTS", "b.312.events.>")] {
            js.get_or_create_stream(stream::Config {
                name: name.into(),
                subjects: vec![subject.into()],
                ..Default::default()
            })
            .await
            .expect("stream");
        }
        // The raw loop: the same messages (envelopes as the relay makes them),
        // msg ids, IN_FLIGHT awaiting acknowledgement.
        let recorded = log.read_all(bridges_engine::log::Position(1), usize::MAX).expect("read");
        let bodies: Vec<(String, Vec<u8>)> = recorded
            .iter()
            .map(|e| {
                let body = serde_json::to_vec(&relay::envelope(e).expect("envelope")).expect("json");
                (e.event_id.to_string(), body)
            })
            .collect();
        let started = Instant::now();
        let mut in_flight = FuturesOrdered::new();
        for (i, (id, body)) in bodies.iter().enumerate() {
            if in_flight.len() >= IN_FLIGHT {
                let ack: Result<_, _> = in_flight.next().await.expect("an ack");
                ack.expect("stored");
            }
            let publish = PublishMessage::build().payload(body.clone().into()).message_id(id);
            let ack = js.send_publish(format!("raw.{}", i % 16), publish).await.expect("publish");
            in_flight.push_back(ack.into_future());
        }
        while let Some(ack) = in_flight.next().await {
            ack.expect("stored");
        }
        let raw = started.elapsed();
        assert_eq!(stream_count(&js, "RAW").await, n);

        let (stop, stopped) = tokio::sync::watch::channel(false);
        let started = Instant::now();
        let task = tokio::spawn(relay::run(
            log.clone(),
            js.clone(),
            RelayOptions { stream: "B_312_EVENTS".into(), in_flight: IN_FLIGHT },
            || EventsOutbox { base: "b.312".into() },
            stopped,
        ));
        eventually(Duration::from_secs(120), "the relay publishes every event", || {
            let js = js.clone();
            async move { stream_count(&js, "B_312_EVENTS").await >= n }
        })
        .await;
        let relayed = started.elapsed();
        let _ = stop.send(true);
        task.await.expect("the relay task").expect("the relay");
        assert_eq!(stream_count(&js, "B_312_EVENTS").await, n, "exactly once");
        let rate = |d: Duration| n as f64 / d.as_secs_f64();
        eprintln!(
            "relay: {n} events in {:.2} s = {:.0}/s; raw JetStream loop {:.2} s = {:.0}/s; ratio {:.2} ({IN_FLIGHT} in flight)",
            relayed.as_secs_f64(),
            rate(relayed),
            raw.as_secs_f64(),
            rate(raw),
            rate(relayed) / rate(raw)
        );
        log.close().await.expect("close");
    });
}

#[test]
fn command_round_trip_and_a_run_end_to_end() {
    let lab = Lab::new("", 100, 40, 80);
    let mut engine = lab.engine("engine", &[]);
    let mut worker = lab.worker("worker-1", &[]);
    engine.wait_for_log("engine serving", Duration::from_secs(30));
    worker.wait_for_log("worker serving", Duration::from_secs(30));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let nats = client(&lab.nats.url()).await;
        let js = jetstream::new(nats.clone());
        let mut times = Vec::new();
        for i in 0..300u32 {
            let body = json!({"id": format!("rt-{i}"), "actor": "broker-1", "at": "2026-11-23T10:00:00Z",
                "command": {"type": "register_school", "urn": 500_000 + i, "name": format!("School {i}"),
                            "la_code": 312, "phase": "primary", "easting": 507500, "northing": 182500}});
            let started = Instant::now();
            let sent = nats.request("bridges.312.cmd", body.to_string().into()).await;
            let reply: serde_json::Value = match sent {
                Ok(m) => serde_json::from_slice(&m.payload).expect("JSON"),
                Err(e) => panic!("command {i}: {e}\n{}", engine.log()),
            };
            times.push(started.elapsed());
            assert_eq!(reply["outcome"], "applied", "{reply}");
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        eprintln!(
            "command round trip over <la>.cmd (durable): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms of {}",
            ms(times[times.len() / 2]),
            ms(times[times.len() * 99 / 100]),
            ms(times[times.len() - 1]),
            times.len()
        );
        let started = Instant::now();
        let start = json!({"run": "bench-1", "actor": "broker-1", "at": AT}).to_string();
        let reply = request(&nats, "bridges.312.runs.start", start.into_bytes()).await;
        assert_eq!(reply["requested"], true, "{reply}");
        let requested = started.elapsed();
        eventually(Duration::from_secs(120), "the run's plan is recorded", || {
            let js = js.clone();
            async move { stream_count(&js, "BRIDGES_312_PLANS").await == 1 }
        })
        .await;
        // Recorded and announced: its proposals are on the assignments stream.
        eventually(Duration::from_secs(60), "the run's proposals are published", || {
            let js = js.clone();
            async move { stream_count(&js, "BRIDGES_312_ASSIGNMENTS").await > 0 }
        })
        .await;
        let recorded = started.elapsed();
        let plans = bridges_tests::services::stream_messages(&js, "BRIDGES_312_PLANS").await;
        let seconds = plans[0].payload["plan"]["inline"]["seconds"].as_f64().unwrap_or(f64::NAN);
        eprintln!(
            "run request to recorded plan and its proposals published: {:.0} ms (snapshot and request {:.0} ms); the solve itself {:.0} ms",
            recorded.as_secs_f64() * 1e3,
            requested.as_secs_f64() * 1e3,
            seconds * 1e3
        );
    });
    assert!(worker.terminate(Duration::from_secs(30)));
    assert!(engine.terminate(Duration::from_secs(30)));
}
