//! Property test: random sequences of appends, to one stream or atomically to
//! several (expected versions any / no stream / exact, right or wrong;
//! condition-only parts; repeated command ids across both kinds; restarts;
//! export then import into a new folder, after which the log carries on)
//! against a naive in-memory model of the log. Outcomes, positions, stream
//! contents and the hash chain must agree after every sequence, whether the
//! stream index is written at once or held back by the writer.

mod common;

use std::collections::{BTreeMap, HashMap};

use bridges_engine::log::{
    AppendOutcome, AppendRequest, EventLog, ExpectedVersion, LogConfig, LogError,
    MultiAppendOutcome, MultiAppendRequest, Position, StreamAppend, Version,
};
use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Append {
        stream: u8,
        expected: Expected,
        events: u8,
        command: Option<u8>,
    },
    /// Parts over distinct streams (`events` may be 0: a condition only).
    Multi {
        parts: Vec<(u8, Expected, u8)>,
        command: Option<u8>,
    },
    Restart,
    /// Export, import into a fresh folder, and carry on there.
    ExportImport,
}

#[derive(Debug, Clone, Copy)]
enum Expected {
    Any,
    NoStream,
    /// The model's current version plus this offset (0 is right, others conflict).
    Exact(i8),
}

fn expected() -> impl Strategy<Value = Expected> {
    prop_oneof![
        Just(Expected::Any),
        Just(Expected::NoStream),
        (-2i8..=2).prop_map(Expected::Exact),
        Just(Expected::Exact(0)),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let command = || proptest::option::weighted(0.3, 0u8..5);
    let parts = proptest::sample::subsequence((0u8..5).collect::<Vec<_>>(), 1..=4)
        .prop_shuffle()
        .prop_flat_map(|streams| {
            let n = streams.len();
            (Just(streams), proptest::collection::vec((expected(), 0u8..3), n))
        })
        .prop_map(|(streams, rest)| {
            streams.into_iter().zip(rest).map(|(s, (e, n))| (s, e, n)).collect::<Vec<_>>()
        });
    prop_oneof![
        8 => (0u8..4, expected(), 1u8..4, command()).prop_map(
            |(stream, expected, events, command)| Op::Append { stream, expected, events, command }
        ),
        5 => (parts, command()).prop_map(|(parts, command)| Op::Multi { parts, command }),
        1 => Just(Op::Restart),
        1 => Just(Op::ExportImport),
    ]
}

/// The naive model: a vector of (stream, version) and the positions each
/// command wrote.
#[derive(Default)]
struct Model {
    events: Vec<(String, u64)>,
    versions: BTreeMap<String, u64>,
    commands: HashMap<String, (u64, u64)>,
}

impl Model {
    fn version(&self, stream: &str) -> u64 {
        self.versions.get(stream).copied().unwrap_or(0)
    }

    /// A stream's version as of `position` (inclusive).
    fn version_at(&self, stream: &str, position: u64) -> u64 {
        self.events[..position as usize].iter().filter(|(s, _)| s == stream).count() as u64
    }

    fn multi(
        &mut self,
        parts: &[(String, ExpectedVersion, u64)],
        cmd: Option<&str>,
    ) -> MultiAppendOutcome {
        if let Some(&(first, last)) = cmd.and_then(|c| self.commands.get(c)) {
            // The first outcome: its positions, each stream as of its end.
            let versions =
                parts.iter().map(|(s, _, _)| Version(self.version_at(s, last))).collect();
            return MultiAppendOutcome::Appended {
                first: Position(first),
                last: Position(last),
                versions,
            };
        }
        for (stream, expected, _) in parts {
            let current = self.version(stream);
            let ok = match expected {
                ExpectedVersion::Any => true,
                ExpectedVersion::NoStream => current == 0,
                ExpectedVersion::Exact(v) => v.0 == current,
            };
            if !ok {
                return MultiAppendOutcome::Conflict {
                    stream: stream.clone(),
                    expected: *expected,
                    actual: Version(current),
                };
            }
        }
        let first = self.events.len() as u64 + 1;
        let mut versions = Vec::new();
        for (stream, _, n) in parts {
            let current = self.version(stream);
            for i in 1..=*n {
                self.events.push((stream.clone(), current + i));
            }
            self.versions.insert(stream.clone(), current + n);
            versions.push(Version(current + n));
        }
        let last = self.events.len() as u64;
        if let Some(c) = cmd {
            self.commands.insert(c.to_owned(), (first, last));
        }
        MultiAppendOutcome::Appended { first: Position(first), last: Position(last), versions }
    }
}

fn expected_version(e: Expected, current: u64) -> ExpectedVersion {
    match e {
        Expected::Any => ExpectedVersion::Any,
        Expected::NoStream => ExpectedVersion::NoStream,
        Expected::Exact(d) => {
            ExpectedVersion::Exact(Version((current as i64 + i64::from(d)).max(1) as u64))
        }
    }
}

fn run(ops: Vec<Op>, index_lag: usize) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        let dir = tempfile::tempdir()?;
        let mut folder = dir.path().join("log-0");
        let mut log = open_with_lag(&folder, index_lag);
        let mut model = Model::default();
        let mut counter = 0u64;
        let mut imports = 0;
        for op in ops {
            match op {
                Op::Restart => {
                    log.close().await?;
                    log = open_with_lag(&folder, index_lag);
                }
                Op::ExportImport => {
                    let mut out = Vec::new();
                    let exported = log.export_ndjson(&mut out, None)?;
                    prop_assert_eq!(exported.events, model.events.len() as u64);
                    log.close().await?;
                    let file = dir.path().join("export.ndjson");
                    std::fs::write(&file, &out)?;
                    imports += 1;
                    folder = dir.path().join(format!("log-{imports}"));
                    let config = LogConfig { index_lag, ..LogConfig::new(&folder) };
                    prop_assert_eq!(EventLog::import(&config, &file).await?, exported);
                    log = open_with_lag(&folder, index_lag);
                }
                Op::Append { stream, expected, events, command } => {
                    let stream = format!("s{stream}");
                    let expected = expected_version(expected, model.version(&stream));
                    let cmd = command.map(|c| format!("cmd-{c}"));
                    let ns: Vec<u64> = (0..u64::from(events)).map(|i| counter + i).collect();
                    counter += u64::from(events);
                    let req = AppendRequest {
                        command_id: cmd.clone(),
                        ..request(&stream, expected, &ns)
                    };
                    let got = log.append(req).await?;
                    let part = [(stream, expected, u64::from(events))];
                    let want = match model.multi(&part, cmd.as_deref()) {
                        MultiAppendOutcome::Appended { first, last, versions } => {
                            AppendOutcome::Appended { first, last, version: versions[0] }
                        }
                        MultiAppendOutcome::Conflict { expected, actual, .. } => {
                            AppendOutcome::Conflict { expected, actual }
                        }
                    };
                    prop_assert_eq!(got, want);
                }
                Op::Multi { parts, command } => {
                    let cmd = command.map(|c| format!("cmd-{c}"));
                    let mut model_parts = Vec::new();
                    let mut req_parts = Vec::new();
                    for (stream, expected, events) in parts {
                        let stream = format!("s{stream}");
                        let expected = expected_version(expected, model.version(&stream));
                        let ns: Vec<u64> = (0..u64::from(events)).map(|i| counter + i).collect();
                        counter += u64::from(events);
                        model_parts.push((stream.clone(), expected, u64::from(events)));
                        req_parts.push(StreamAppend {
                            stream,
                            expected,
                            events: ns.iter().map(|&n| event(n)).collect(),
                        });
                    }
                    let req =
                        MultiAppendRequest { parts: req_parts, command_id: cmd.clone(), recorded_at: at(1) };
                    let got = log.append_multi(req).await;
                    if model_parts.iter().all(|p| p.2 == 0) {
                        // Nothing to write at all: refused, whatever the command.
                        let invalid = matches!(&got, Err(LogError::Invalid { field, .. }) if field == "events");
                        prop_assert!(invalid, "{:?}", got);
                        continue;
                    }
                    let want = model.multi(&model_parts, cmd.as_deref());
                    prop_assert_eq!(got?, want);
                }
            }
            prop_assert_eq!(log.head(), Position(model.events.len() as u64));
        }
        let stored: Vec<(String, u64)> =
            all(&log).into_iter().map(|e| (e.stream, e.version.0)).collect();
        prop_assert_eq!(&stored, &model.events);
        for (stream, v) in &model.versions {
            prop_assert_eq!(log.stream_version(stream)?, Version(*v));
            let versions: Vec<u64> = log
                .read_stream(stream, Version(1), usize::MAX)?
                .iter()
                .map(|e| e.version.0)
                .collect();
            prop_assert_eq!(versions, (1..=*v).collect::<Vec<_>>());
            // From the middle of an append's run, with a limit.
            let mid = v / 2 + 1;
            let versions: Vec<u64> =
                log.read_stream(stream, Version(mid), 2)?.iter().map(|e| e.version.0).collect();
            prop_assert_eq!(versions, (mid..=*v).take(2).collect::<Vec<_>>());
        }
        // A subscription from the start sees exactly the stored order.
        let mut sub = log.subscribe(Position(1));
        for (stream, version) in &model.events {
            let e = sub.next().await.expect("open")?;
            prop_assert_eq!((&e.stream, e.version.0), (stream, *version));
        }
        prop_assert_eq!(log.verify()?.first_broken, None);
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if std::env::var_os("BRIDGES_SLOW").is_some() || std::env::var_os("CI").is_some() { 256 } else { 48 },
        ..ProptestConfig::default()
    })]

    /// With the stream index written after every event, every few, or
    /// (within 40 appends) only at an import's end.
    #[test]
    fn the_log_matches_a_naive_model(
        ops in proptest::collection::vec(op(), 1..40),
        index_lag in prop_oneof![Just(1usize), Just(3), Just(1024)],
    ) {
        run(ops, index_lag)?;
    }
}

/// A shrunk case of the model test, kept by name: a command id first used on
/// one stream and repeated on another returns the first append's positions
/// with the asked stream's version as of its end (0 here: that stream had no
/// events then).
#[test]
fn model_bug_01_a_command_repeated_on_another_stream() {
    let ops = vec![
        Op::Append { stream: 1, expected: Expected::Any, events: 1, command: Some(2) },
        Op::Append { stream: 0, expected: Expected::Any, events: 1, command: Some(2) },
    ];
    run(ops, 1).expect("model agrees");
}

/// A multi-stream command, exported and imported, then repeated: its outcome
/// (positions, and every part's version, the condition-only part's too) is
/// re-derived from the imported records.
#[test]
fn model_bug_02_a_multi_stream_command_repeated_after_import() {
    let parts = vec![(3, Expected::Any, 2), (0, Expected::Exact(0), 0), (1, Expected::NoStream, 1)];
    let ops = vec![
        Op::Append { stream: 0, expected: Expected::Any, events: 2, command: None },
        Op::Multi { parts: parts.clone(), command: Some(4) },
        Op::ExportImport,
        Op::Multi { parts, command: Some(4) },
        Op::Restart,
        Op::Append { stream: 3, expected: Expected::Exact(0), events: 1, command: Some(4) },
    ];
    run(ops, 3).expect("model agrees");
}
