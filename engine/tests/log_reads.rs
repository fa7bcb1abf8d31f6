//! Reading the log back: catch-up subscriptions that turn live, projections
//! (checkpoints, state as of a position, rebuild-equals-live), and NDJSON
//! export/import (byte-identical round trip, bad lines rejected with nothing written).

mod common;

use std::time::Duration;

use bridges_engine::log::SUBSCRIBE_CHUNK as CHUNK;
use bridges_engine::log::{
    AppendRequest, EventLog, ExpectedVersion, LogConfig, LogError, NewEvent, Position,
};
use bridges_engine::projection::{
    Overview, Projector, RebuildCheck, TypeCounts, check_rebuild, state_at,
};
use bridges_schemas::events::{
    AssignmentAccepted, AssignmentProposed, DomainEvent, SchoolRegistered, VisitRecorded,
};
use bridges_schemas::{Phase, Urn};
use common::*;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread")]
async fn a_subscription_catches_up_then_turns_live_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    for i in 1..=600 {
        append(&log, &format!("s{}", i % 3), ExpectedVersion::Any, &[i]).await;
    }
    // Start in the middle of the history, while writers keep appending.
    let mut sub = log.subscribe(Position(250));
    let writer = {
        let log = log.clone();
        tokio::spawn(async move {
            for i in 601..=1_200u64 {
                append(&log, "live", ExpectedVersion::Any, &[i]).await;
                if i % 100 == 0 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        })
    };
    let mut got = Vec::new();
    while got.len() < 951 {
        let e = tokio::time::timeout(Duration::from_secs(20), sub.next())
            .await
            .expect("no stall")
            .expect("open")
            .expect("readable");
        got.push(e.position.0);
    }
    writer.await.expect("writer");
    assert_eq!(got, (250..=1_200).collect::<Vec<_>>());
    // Live again: the next event arrives once written, not before.
    let pending = tokio::time::timeout(Duration::from_millis(100), sub.next()).await;
    assert!(pending.is_err(), "nothing to deliver yet");
    append(&log, "live", ExpectedVersion::Any, &[1_201]).await;
    let e = sub.next().await.expect("open").expect("readable");
    assert_eq!(e.position, Position(1_201));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_subscriber_reads_in_bounded_chunks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    for chunk in 0..20u64 {
        let ns: Vec<u64> = (chunk * 100..chunk * 100 + 100).collect();
        append(&log, "bulk", ExpectedVersion::Any, &ns).await;
    }
    let mut sub = log.subscribe(Position(0));
    let first = sub.next().await.expect("open").expect("readable");
    assert_eq!(first.position, Position(1));
    // However far behind the reader is, at most one chunk is held in memory.
    let mut max_buffered = sub.buffered();
    for expected in 2..=2_000u64 {
        let e = sub.next().await.expect("open").expect("readable");
        assert_eq!(e.position, Position(expected));
        max_buffered = max_buffered.max(sub.buffered());
    }
    assert!(max_buffered < CHUNK, "buffered up to {max_buffered}");
    assert_eq!(sub.next_position(), Position(2_001));
}

fn domain(log_events: &[DomainEvent]) -> Vec<NewEvent> {
    log_events
        .iter()
        .enumerate()
        .map(|(i, e)| NewEvent::from_domain(e, Uuid::from_u64_pair(i as u64, 9)).expect("valid"))
        .collect()
}

async fn brokerage_story(log: &bridges_engine::log::EventLog) {
    let school = |urn| {
        DomainEvent::SchoolRegistered(SchoolRegistered {
            urn: Urn(urn),
            name: format!("School {urn}"),
            la_code: 312,
            phase: Phase::Primary,
            trust: None,
            easting: 507_000.0,
            northing: 182_000.5,
            pupils: None,
            postcode: None,
        })
    };
    for urn in [102_400, 102_401, 102_402] {
        let req = AppendRequest {
            stream: format!("school-{urn}"),
            expected: ExpectedVersion::NoStream,
            events: domain(&[school(urn)]),
            command_id: Some(format!("register-{urn}")),
            recorded_at: at(urn as i64),
        };
        log.append(req).await.expect("append");
    }
    for k in 0..30u32 {
        let id = format!("asg-{k}");
        let mut evs = vec![DomainEvent::AssignmentProposed(AssignmentProposed {
            assignment: id.as_str().into(),
            run: None,
            request: format!("req-{k}").as_str().into(),
            practitioner: "sle-1".into(),
            days: [("2026-AU1".into(), 2)].into_iter().collect(),
            answer_by: None,
        })];
        if k % 2 == 0 {
            evs.push(DomainEvent::AssignmentAccepted(AssignmentAccepted {
                assignment: id.as_str().into(),
            }));
            evs.push(DomainEvent::VisitRecorded(VisitRecorded {
                assignment: id.as_str().into(),
                visit: "v1".into(),
                on: chrono::NaiveDate::from_ymd_opt(2026, 9, 14).expect("date"),
                half_days: 1,
                note: None,
            }));
        }
        let req = AppendRequest {
            stream: format!("assignment-{id}"),
            expected: ExpectedVersion::NoStream,
            events: domain(&evs),
            command_id: None,
            recorded_at: at(i64::from(k)),
        };
        log.append(req).await.expect("append");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn projections_checkpoint_travel_in_time_and_rebuild_equal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    brokerage_story(&log).await;
    let head = log.head();
    assert_eq!(head, Position(3 + 30 + 2 * 15));

    let mut live: Projector<Overview> = Projector::load(&log).expect("load");
    let applied = live.catch_up(&log, 7).await.expect("catch up");
    assert_eq!(applied, head.0);
    assert_eq!(live.state().schools, 3);
    assert_eq!(live.state().delivered_days, 15);
    assert_eq!(live.state().assignments.values().filter(|s| *s == "accepted").count(), 15);
    assert_eq!(check_rebuild(&log, &live).expect("check"), RebuildCheck::Equal(head));

    // Time travel: after the schools and the first assignment only.
    let early: Overview = state_at(&log, Position(4)).expect("as of 4");
    assert_eq!(early.schools, 3);
    assert_eq!(early.assignments.len(), 1);
    assert_eq!(early.delivered_days, 0);

    // The checkpoint survives a restart and resumes where it stopped.
    brokerage_more(&log).await;
    log.close().await.expect("close");
    drop(live);
    let log = open(dir.path());
    let mut resumed: Projector<Overview> = Projector::load(&log).expect("load");
    assert_eq!(resumed.position(), head, "resumes from the last checkpoint");
    let applied = resumed.catch_up(&log, 1_000).await.expect("catch up");
    assert_eq!(applied, log.head().0 - head.0);
    assert_eq!(check_rebuild(&log, &resumed).expect("check"), RebuildCheck::Equal(log.head()));

    // A projection that differs from its rebuild is reported, not hidden.
    let mut wrong: Projector<TypeCounts> = Projector::load(&log).expect("load");
    wrong.catch_up(&log, 1_000).await.expect("catch up");
    let tampered = TypeCounts { total: 1, ..TypeCounts::default() };
    log.put_checkpoint("type_counts", wrong.position(), tampered_state(&tampered))
        .await
        .expect("checkpoint");
    let reloaded: Projector<TypeCounts> = Projector::load(&log).expect("load");
    assert!(matches!(check_rebuild(&log, &reloaded).expect("check"), RebuildCheck::Differs { .. }));
}

fn tampered_state(t: &TypeCounts) -> Vec<u8> {
    use bridges_engine::projection::Projection;
    t.encode_state()
}

async fn brokerage_more(log: &bridges_engine::log::EventLog) {
    for i in 0..5 {
        append(log, "misc", ExpectedVersion::Any, &[10_000 + i]).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn export_then_import_reproduces_the_log_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(&dir.path().join("a"));
    brokerage_story(&log).await;
    for i in 0..50 {
        append(&log, &format!("t{}", i % 4), ExpectedVersion::Any, &[i, i + 1]).await;
    }
    let mut out = Vec::new();
    let exported = log.export_ndjson(&mut out, None).expect("export");
    let n = exported.events;
    assert_eq!(n, log.head().0);
    let file = dir.path().join("log.ndjson");
    std::fs::write(&file, &out).expect("write");

    let b = LogConfig::new(dir.path().join("b"));
    assert_eq!(EventLog::import(&b, &file).await.expect("import"), exported);
    let copy = open(&b.dir);
    for p in 1..=n {
        assert_eq!(
            copy.raw_for_test(p).expect("raw"),
            log.raw_for_test(p).expect("raw"),
            "record {p}"
        );
    }
    assert_eq!(copy.verify().expect("verify"), log.verify().expect("verify"));
    let mut again = Vec::new();
    copy.export_ndjson(&mut again, None).expect("export");
    assert_eq!(again, out, "export of the import is identical");
    // Commands and stream versions came along too.
    assert_eq!(copy.stream_version("t1").expect("v"), log.stream_version("t1").expect("v"));
    let seen = AppendRequest {
        stream: "school-102400".into(),
        expected: ExpectedVersion::NoStream,
        events: vec![event(1)],
        command_id: Some("register-102400".into()),
        recorded_at: at(0),
    };
    assert_eq!(copy.append(seen.clone()).await.expect("a"), log.append(seen).await.expect("a"));
    // Importing into a folder that holds a log is refused, and changes nothing.
    let err = EventLog::import(&b, &file).await.expect_err("not empty");
    assert!(matches!(err, LogError::TargetNotEmpty { .. }), "{err}");
    assert!(err.is_bad_input());
    assert_eq!(copy.head(), log.head());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_import_line_names_line_and_field_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(&dir.path().join("a"));
    for i in 0..20 {
        append(&log, "s", ExpectedVersion::Any, &[i]).await;
    }
    let mut out = Vec::new();
    log.export_ndjson(&mut out, None).expect("export");
    let lines: Vec<String> =
        String::from_utf8(out).expect("utf8").lines().map(str::to_owned).collect();

    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(usize, Edit, &str)> = vec![
        (12, Box::new(|v| v["payload"]["n"] = 99.into()), "hash"),
        (7, Box::new(|v| v["version"] = 3.into()), "version"),
        (15, Box::new(|v| v["position"] = 99.into()), "position"),
        (3, Box::new(|v| v["event_id"] = "not-a-uuid".into()), "event_id"),
        (9, Box::new(|v| v["stream"] = "".into()), "stream"),
        (18, Box::new(|v| v["hash"] = "abc".into()), "hash"),
        (5, Box::new(|v| v["extra"] = 1.into()), "extra"),
    ];
    for (line, edit, field) in cases {
        let mut edited = lines.clone();
        let mut v: serde_json::Value = serde_json::from_str(&edited[line - 1]).expect("json");
        edit(&mut v);
        edited[line - 1] = v.to_string();
        let file = dir.path().join("bad.ndjson");
        std::fs::write(&file, edited.join("\n") + "\n").expect("write");
        let target = dir.path().join(format!("b{line}"));
        let err = EventLog::import(&LogConfig::new(&target), &file).await.expect_err("bad line");
        match &err {
            LogError::Import { line: l, field: f, .. } => {
                assert_eq!((*l, f.as_str()), (line as u64, field), "{err}");
            }
            other => panic!("unexpected error {other}"),
        }
        assert!(err.is_bad_input());
        assert!(!target.exists(), "nothing created for {err}");
    }
}
