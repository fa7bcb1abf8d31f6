//! Property test: random sequences of appends (expected versions any / no
//! stream / exact, right or wrong; repeated command ids; restarts) against a
//! naive in-memory model of the log. Outcomes, positions, stream contents and
//! the hash chain must agree after every sequence, whether the stream index
//! is written at once or held back by the writer.

mod common;

use std::collections::{BTreeMap, HashMap};

use bridges_engine::log::{AppendOutcome, AppendRequest, ExpectedVersion, Position, Version};
use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Append { stream: u8, expected: Expected, events: u8, command: Option<u8> },
    Restart,
}

#[derive(Debug, Clone, Copy)]
enum Expected {
    Any,
    NoStream,
    /// The model's current version plus this offset (0 is right, others conflict).
    Exact(i8),
}

fn op() -> impl Strategy<Value = Op> {
    let expected = prop_oneof![
        Just(Expected::Any),
        Just(Expected::NoStream),
        (-2i8..=2).prop_map(Expected::Exact),
        Just(Expected::Exact(0)),
    ];
    prop_oneof![
        10 => (0u8..4, expected, 1u8..4, proptest::option::weighted(0.3, 0u8..5)).prop_map(
            |(stream, expected, events, command)| Op::Append { stream, expected, events, command }
        ),
        1 => Just(Op::Restart),
    ]
}

/// The naive model: a vector of (stream, version) and a map of commands.
#[derive(Default)]
struct Model {
    events: Vec<(String, u64)>,
    versions: BTreeMap<String, u64>,
    commands: HashMap<String, AppendOutcome>,
}

impl Model {
    fn append(
        &mut self,
        stream: &str,
        expected: ExpectedVersion,
        n: u64,
        cmd: Option<&str>,
    ) -> AppendOutcome {
        if let Some(o) = cmd.and_then(|c| self.commands.get(c)) {
            return *o;
        }
        let current = self.versions.get(stream).copied().unwrap_or(0);
        let ok = match expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current == 0,
            ExpectedVersion::Exact(v) => v.0 == current,
        };
        if !ok {
            return AppendOutcome::Conflict { expected, actual: Version(current) };
        }
        let first = self.events.len() as u64 + 1;
        for i in 1..=n {
            self.events.push((stream.to_owned(), current + i));
        }
        self.versions.insert(stream.to_owned(), current + n);
        let o = AppendOutcome::Appended {
            first: Position(first),
            last: Position(self.events.len() as u64),
            version: Version(current + n),
        };
        if let Some(c) = cmd {
            self.commands.insert(c.to_owned(), o);
        }
        o
    }
}

fn run(ops: Vec<Op>, index_lag: usize) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    rt.block_on(async move {
        let dir = tempfile::tempdir()?;
        let mut log = open_with_lag(dir.path(), index_lag);
        let mut model = Model::default();
        let mut counter = 0u64;
        for op in ops {
            match op {
                Op::Restart => {
                    log.close().await?;
                    log = open_with_lag(dir.path(), index_lag);
                }
                Op::Append { stream, expected, events, command } => {
                    let stream = format!("s{stream}");
                    let current = model.versions.get(&stream).copied().unwrap_or(0);
                    let expected = match expected {
                        Expected::Any => ExpectedVersion::Any,
                        Expected::NoStream => ExpectedVersion::NoStream,
                        Expected::Exact(d) => {
                            let v = (current as i64 + i64::from(d)).max(1) as u64;
                            ExpectedVersion::Exact(Version(v))
                        }
                    };
                    let cmd = command.map(|c| format!("cmd-{c}"));
                    let ns: Vec<u64> = (0..u64::from(events)).map(|i| counter + i).collect();
                    counter += u64::from(events);
                    let req = AppendRequest {
                        command_id: cmd.clone(),
                        ..request(&stream, expected, &ns)
                    };
                    let got = log.append(req).await?;
                    let want = model.append(&stream, expected, u64::from(events), cmd.as_deref());
                    prop_assert_eq!(got, want);
                    prop_assert_eq!(log.head(), Position(model.events.len() as u64));
                }
            }
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
        prop_assert_eq!(log.verify()?.first_broken, None);
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if std::env::var_os("BRIDGES_SLOW").is_some() || std::env::var_os("CI").is_some() { 256 } else { 48 },
        ..ProptestConfig::default()
    })]

    #[test]
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
