//! The event log's contract, one behaviour per test: positions and versions,
//! expected-version conflicts as values, bad input leaving the log unchanged,
//! idempotent command ids (also across a restart), multi-stream appends (all
//! or nothing, condition-only parts, their own bad input), concurrent writers
//! on one stream, reads by stream, upcasting of a stored v1 event, and
//! corruption detection by reads and by `verify`.

mod common;

use bridges_engine::log::{
    AppendOutcome, ExpectedVersion, LogError, MultiAppendOutcome, MultiAppendRequest, NewEvent,
    Position, StreamAppend, Version,
};
use bridges_schemas::events::{DomainEvent, PractitionerDesignated};
use bridges_schemas::{Designation, Phase};
use common::*;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread")]
async fn appends_get_gapless_positions_and_stream_versions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    assert_eq!(log.head(), Position(0));
    let a = append(&log, "a", ExpectedVersion::NoStream, &[1, 2]).await;
    let b = append(&log, "b", ExpectedVersion::Any, &[3]).await;
    let c = append(&log, "a", exact(2), &[4]).await;
    assert_eq!(
        a,
        AppendOutcome::Appended { first: Position(1), last: Position(2), version: Version(2) }
    );
    assert_eq!(
        b,
        AppendOutcome::Appended { first: Position(3), last: Position(3), version: Version(1) }
    );
    assert_eq!(
        c,
        AppendOutcome::Appended { first: Position(4), last: Position(4), version: Version(3) }
    );
    let events = all(&log);
    assert_eq!(events.iter().map(|e| e.position.0).collect::<Vec<_>>(), [1, 2, 3, 4]);
    let a_stream = log.read_stream("a", Version(2), 10).expect("read stream");
    assert_eq!(
        a_stream.iter().map(|e| (e.version.0, e.position.0)).collect::<Vec<_>>(),
        [(2, 2), (3, 4)]
    );
    assert_eq!(a_stream[1].payload, serde_json::to_vec(&event(4).payload).expect("json"));
    assert_eq!(log.stream_version("a").expect("version"), Version(3));
    assert_eq!(log.stream_version("nope").expect("version"), Version(0));
    assert_eq!(log.verify().expect("verify").first_broken, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_version_conflict_is_a_value_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    append(&log, "s", ExpectedVersion::NoStream, &[1]).await;
    let before = all(&log);
    let no_stream = append(&log, "s", ExpectedVersion::NoStream, &[2]).await;
    assert_eq!(
        no_stream,
        AppendOutcome::Conflict { expected: ExpectedVersion::NoStream, actual: Version(1) }
    );
    let stale = append(&log, "s", exact(5), &[3]).await;
    assert_eq!(stale, AppendOutcome::Conflict { expected: exact(5), actual: Version(1) });
    let missing = append(&log, "t", exact(1), &[4]).await;
    assert_eq!(missing, AppendOutcome::Conflict { expected: exact(1), actual: Version(0) });
    assert_eq!(all(&log), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_input_is_a_typed_error_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    append(&log, "s", ExpectedVersion::Any, &[1]).await;
    let before = all(&log);

    let mut bad_stream = request("bad\nstream", ExpectedVersion::Any, &[2]);
    let err = log.append(bad_stream.clone()).await.expect_err("control character");
    assert!(matches!(&err, LogError::Invalid { field, .. } if field == "stream"), "{err}");
    bad_stream.stream = String::new();
    assert!(matches!(log.append(bad_stream).await, Err(LogError::Invalid { .. })));

    let mut bad_type = request("s", ExpectedVersion::Any, &[2]);
    bad_type.events[0].type_name = "Has Space".into();
    let err = log.append(bad_type).await.expect_err("bad type name");
    assert!(matches!(&err, LogError::Invalid { field, .. } if field == "events[0].type_name"));

    let empty = request("s", ExpectedVersion::Any, &[]);
    assert!(
        matches!(log.append(empty).await, Err(LogError::Invalid { field, .. }) if field == "events")
    );

    let mut huge = request("s", ExpectedVersion::Any, &[2]);
    huge.events[0].payload = serde_json::json!({"blob": "x".repeat(20_000)});
    let err = log.append(huge).await.expect_err("payload too big");
    assert!(matches!(&err, LogError::Invalid { field, .. } if field == "events[0].payload"));

    // A domain event failing its own validation never becomes a NewEvent.
    let bad_practitioner = DomainEvent::PractitionerDesignated(PractitionerDesignated {
        practitioner: "sle-1".into(),
        title: Designation::SLE.into(),
        home_urn: bridges_schemas::Urn(12),
        specialisms: vec!["maths".into()],
        phases: vec![Phase::Primary],
        day_rate: 350,
        personal: None,
    });
    let err = NewEvent::from_domain(&bad_practitioner, Uuid::nil()).expect_err("bad urn");
    assert!(matches!(&err, LogError::InvalidEvent(e) if e.field == "home_urn" && e.value == "12"));

    assert_eq!(all(&log), before);
    assert_eq!(log.head(), Position(1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_seen_command_id_returns_the_first_outcome_also_after_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    let mut req = request("s", ExpectedVersion::NoStream, &[1, 2]);
    req.command_id = Some("cmd-1".into());
    let first = log.append(req.clone()).await.expect("append");
    // Same command again, even with an expected version that would now conflict.
    let again = log.append(req.clone()).await.expect("append");
    assert_eq!(again, first);
    assert_eq!(log.head(), Position(2));
    // Two copies of a new command in one group commit write once.
    let mut other = request("s", ExpectedVersion::Any, &[3]);
    other.command_id = Some("cmd-2".into());
    let (x, y) = tokio::join!(log.append(other.clone()), log.append(other.clone()));
    assert_eq!(x.expect("append"), y.expect("append"));
    assert_eq!(log.head(), Position(3));
    log.close().await.expect("close");

    let log = open(dir.path());
    assert_eq!(log.append(req).await.expect("append"), first);
    assert_eq!(log.append(other).await.expect("append"), x_outcome(3));
    assert_eq!(log.head(), Position(3));
    assert_eq!(all(&log).len(), 3);
}

fn x_outcome(p: u64) -> AppendOutcome {
    AppendOutcome::Appended { first: Position(p), last: Position(p), version: Version(3) }
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_writers_on_one_stream_exactly_one_wins_per_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    let writers = 16u64;
    let rounds = 20u64;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut wins = Vec::new();
            let mut seen = Version(0);
            for r in 0..rounds * 4 {
                let expected = if seen.0 == 0 { ExpectedVersion::NoStream } else { exact(seen.0) };
                let n = w * 10_000 + r;
                match log.append(request("contended", expected, &[n])).await.expect("append") {
                    AppendOutcome::Appended { version, .. } => {
                        wins.push((version.0, n));
                        seen = version;
                    }
                    AppendOutcome::Conflict { actual, .. } => seen = actual,
                }
                if seen.0 >= rounds {
                    break;
                }
            }
            wins
        }));
    }
    let mut wins = Vec::new();
    for t in tasks {
        wins.extend(t.await.expect("task"));
    }
    wins.sort_unstable();
    let versions: Vec<u64> = wins.iter().map(|w| w.0).collect();
    // Each version won exactly once, with no gaps.
    assert_eq!(versions, (1..=versions.len() as u64).collect::<Vec<_>>());
    assert!(versions.len() as u64 >= rounds);
    let stream = log.read_stream("contended", Version(1), usize::MAX).expect("read");
    let stored: Vec<(u64, u64)> = stream
        .iter()
        .map(|e| {
            let p: serde_json::Value = serde_json::from_slice(&e.payload).expect("json");
            (e.version.0, p["n"].as_u64().expect("n"))
        })
        .collect();
    assert_eq!(stored, wins, "the stream holds exactly the winning appends");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stored_v1_event_is_read_as_v2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    let v1_text = include_str!("fixtures/practitioner_registered_v1.json");
    let v1 = NewEvent {
        event_id: Uuid::from_u64_pair(1, 1),
        type_name: "PractitionerRegistered".into(),
        type_version: 1,
        payload: serde_json::from_str(v1_text).expect("fixture is JSON"),
    };
    let req = bridges_engine::log::AppendRequest {
        stream: "practitioner-lle-4".into(),
        expected: ExpectedVersion::NoStream,
        events: vec![v1],
        command_id: None,
        recorded_at: at(0),
    };
    log.append(req).await.expect("append v1");
    log.close().await.expect("close");

    let log = open(dir.path());
    let stored = log.get(Position(1)).expect("read").expect("present");
    assert_eq!((stored.type_name.as_str(), stored.type_version), ("PractitionerRegistered", 1));
    assert_eq!(stored.payload, v1_text.trim().as_bytes(), "stored v1 bytes are kept as written");
    let DomainEvent::PractitionerDesignated(p) = stored.domain_event().expect("upcast") else {
        panic!("not upcast to PractitionerDesignated");
    };
    assert_eq!(p.practitioner.as_str(), "lle-4");
    assert_eq!(p.title.as_str(), Designation::LLE);
    assert_eq!(p.day_rate, 450, "v1 LLEs get the typical LLE rate");
    assert_eq!(p.phases, Phase::ALL.to_vec(), "v1 practitioners were not limited by phase");
    assert_eq!(p.specialisms.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_record_is_detected_by_reads_and_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    for i in 1..=5 {
        append(&log, "s", ExpectedVersion::Any, &[i]).await;
    }
    let good = log.raw_for_test(3).expect("raw").expect("present");

    // A flipped payload byte still decodes: reads pass, the chain breaks at 3.
    let mut flipped = good.clone();
    let at = flipped.len() - 40;
    flipped[at] ^= 0x01;
    log.corrupt_for_test(3, &flipped).expect("tamper");
    let report = log.verify().expect("verify");
    assert_eq!(report.first_broken.as_ref().map(|b| b.0), Some(Position(3)), "{report:?}");
    assert_eq!(report.checked, 2);

    // A truncated record is a typed error on read, naming its position.
    log.corrupt_for_test(3, &good[..good.len() / 2]).expect("tamper");
    let err = log.read_all(Position(1), 10).expect_err("corrupt");
    assert!(matches!(err, LogError::Corrupt { position: 3, .. }), "{err}");
    assert!(matches!(log.get(Position(3)), Err(LogError::Corrupt { position: 3, .. })));
    assert_eq!(log.read_all(Position(1), 2).expect("before the damage").len(), 2);

    // Restored, everything verifies again.
    log.corrupt_for_test(3, &good).expect("restore");
    assert_eq!(log.verify().expect("verify").first_broken, None);
}

fn part(stream: &str, expected: ExpectedVersion, ns: &[u64]) -> StreamAppend {
    StreamAppend { stream: stream.into(), expected, events: ns.iter().map(|&n| event(n)).collect() }
}

fn multi(parts: Vec<StreamAppend>, command: Option<&str>) -> MultiAppendRequest {
    MultiAppendRequest { parts, command_id: command.map(str::to_owned), recorded_at: at(5) }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_multi_stream_append_writes_all_its_parts_or_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    append(&log, "a", ExpectedVersion::NoStream, &[1]).await;
    let mut sub = log.subscribe(Position(1));
    assert_eq!(sub.next().await.expect("open").expect("read").position, Position(1));

    // Three parts: a (exact), b (new), and c only checked (no events).
    let req = multi(
        vec![
            part("a", exact(1), &[2, 3]),
            part("b", ExpectedVersion::NoStream, &[4]),
            part("c", ExpectedVersion::NoStream, &[]),
        ],
        Some("move-1"),
    );
    let outcome = log.append_multi(req.clone()).await.expect("append");
    let want = MultiAppendOutcome::Appended {
        first: Position(2),
        last: Position(4),
        versions: vec![Version(3), Version(1), Version(0)],
    };
    assert_eq!(outcome, want);
    let stored: Vec<(String, u64)> =
        all(&log).into_iter().map(|e| (e.stream, e.version.0)).collect();
    assert_eq!(stored, [("a".into(), 1), ("a".into(), 2), ("a".into(), 3), ("b".into(), 1)]);
    // Its events arrive together, in order, contiguous.
    for p in 2..=4 {
        assert_eq!(sub.next().await.expect("open").expect("read").position, Position(p));
    }
    // The same command again returns the first outcome and writes nothing,
    // also after a restart.
    assert_eq!(log.append_multi(req.clone()).await.expect("again"), want);
    drop(sub);
    log.close().await.expect("close");
    let log = open(dir.path());
    assert_eq!(log.append_multi(req).await.expect("again"), want);
    assert_eq!(log.head(), Position(4));

    // One stale part, even a condition only: nothing is written at all.
    let before = all(&log);
    let stale = multi(
        vec![
            part("b", exact(1), &[5]),
            part("a", exact(2), &[]),
            part("d", ExpectedVersion::Any, &[6]),
        ],
        Some("move-2"),
    );
    let outcome = log.append_multi(stale.clone()).await.expect("append");
    assert_eq!(
        outcome,
        MultiAppendOutcome::Conflict { stream: "a".into(), expected: exact(2), actual: Version(3) }
    );
    assert_eq!(all(&log), before);
    // A conflict is not remembered: the command can be retried.
    let mut retry = stale;
    retry.parts[1].expected = exact(3);
    let outcome = log.append_multi(retry).await.expect("append");
    assert!(
        matches!(outcome, MultiAppendOutcome::Appended { first: Position(5), .. }),
        "{outcome:?}"
    );
    assert_eq!(log.verify().expect("verify").first_broken, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_multi_stream_append_is_a_typed_error_naming_the_part() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    append(&log, "a", ExpectedVersion::Any, &[1]).await;
    let field_of = |r: Result<MultiAppendOutcome, LogError>| match r {
        Err(LogError::Invalid { field, .. }) => field,
        other => panic!("not invalid: {other:?}"),
    };
    let twice = multi(
        vec![part("x", ExpectedVersion::Any, &[1]), part("x", ExpectedVersion::Any, &[2])],
        None,
    );
    assert_eq!(field_of(log.append_multi(twice).await), "parts[1].stream");
    let zero = multi(vec![part("x", ExpectedVersion::Any, &[1]), part("y", exact(0), &[2])], None);
    assert_eq!(field_of(log.append_multi(zero).await), "parts[1].expected");
    let nothing = multi(
        vec![part("x", ExpectedVersion::Any, &[]), part("y", ExpectedVersion::Any, &[])],
        None,
    );
    assert_eq!(field_of(log.append_multi(nothing).await), "events");
    assert_eq!(field_of(log.append_multi(multi(vec![], None)).await), "parts");
    let mut bad_type = multi(
        vec![part("x", ExpectedVersion::Any, &[1]), part("y", ExpectedVersion::Any, &[2, 3])],
        None,
    );
    bad_type.parts[1].events[1].type_name = "no spaces".into();
    assert_eq!(field_of(log.append_multi(bad_type).await), "parts[1].events[1].type_name");
    let too_many: Vec<u64> = (0..600).collect();
    let big = multi(
        vec![
            part("x", ExpectedVersion::Any, &too_many),
            part("y", ExpectedVersion::Any, &too_many),
        ],
        None,
    );
    assert_eq!(field_of(log.append_multi(big).await), "events");
    assert_eq!(log.head(), Position(1));
}
