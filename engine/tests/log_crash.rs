//! Crash test: a child `bridges log append-loop` appends from several tasks,
//! each to two streams at once (one multi-stream append), stores a checkpoint
//! after task 0's appends, and prints every acknowledgement; it is killed with
//! SIGKILL at random moments, many times (`BRIDGES_CRASH_ROUNDS`, else 40 with
//! `CI` or `BRIDGES_SLOW`, else 8). After every kill the log is reopened and
//! must hold every acknowledged event, in order, with a verifying hash chain,
//! a checkpoint that checks, and no half-written append: never one stream's
//! part of a multi-stream append without the other's.
//!
//! SIGKILL loses the process, not the machine: this proves atomic batches and
//! recovery, not the fsync (which only a power cut would exercise).

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use bridges_engine::log::{Position, Version};

const PER_APPEND: u64 = 3;
/// Streams each append writes to (`crash-T` and `crash-T-1`).
const STREAMS: u64 = 2;
/// The child's `log.index_lag`: small, so index writes are frequent.
const INDEX_LAG: usize = 5;
/// Bytes of the child's checkpoint: several chunks, rewritten per append.
const CHECKPOINT_BYTES: usize = 20_000;

#[derive(Debug, Clone, Copy)]
struct Ack {
    first: u64,
    last: u64,
    task: u64,
    seq: u64,
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledged_appends_survive_sigkill_complete_and_in_order() {
    let rounds = common::crash_rounds();
    let seed = std::env::var("BRIDGES_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::process::id() as u64 ^ 0x9E37_79B9_7F4A_7C15);
    eprintln!("crash test seed {seed} (set BRIDGES_CRASH_SEED to repeat)");
    let mut rng = seed;
    let dir = tempfile::tempdir().expect("tempdir");
    // The child writes the stream index every INDEX_LAG events, so kills land
    // before, during and after index writes.
    let config = dir.path().join("bridges.toml");
    let default = std::fs::read_to_string("../config/default.toml").expect("default config");
    assert!(default.contains("index_lag = 1024"), "the default config sets index_lag");
    let text = default.replace("index_lag = 1024", &format!("index_lag = {INDEX_LAG}"));
    std::fs::write(&config, text).expect("write config");
    let data = dir.path().join("log");
    let mut acks: Vec<Ack> = Vec::new();
    for round in 0..rounds {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bridges"))
            .args(["log", "append-loop", "--tasks", "4", "--events-per-append", "3"])
            .args(["--streams-per-append", "2", "--checkpoint-bytes"])
            .arg(CHECKPOINT_BYTES.to_string())
            .arg("--data")
            .arg(&data)
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start child");
        let stdout = child.stdout.take().expect("piped");
        let reader = std::thread::spawn(move || {
            // A line cut by the kill does not parse and is not an ack.
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| parse(&l))
                .collect::<Vec<_>>()
        });
        let wait_ms = 30 + next(&mut rng) % 400;
        std::thread::sleep(Duration::from_millis(wait_ms));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        let got = reader.join().expect("reader");
        eprintln!("round {round}: killed after {wait_ms} ms, {} acks", got.len());
        acks.extend(got);
        check(&data, &acks, round).await;
    }
    assert!(acks.len() as u64 > rounds, "the child acknowledged almost nothing: {}", acks.len());
}

async fn check(dir: &std::path::Path, acks: &[Ack], round: u64) {
    let log = common::open_with_lag(dir, INDEX_LAG);
    let report = log.verify().expect("verify");
    assert_eq!(report.first_broken, None, "round {round}: chain broken");
    assert_eq!(report.bad_checkpoints, [], "round {round}: a checkpoint does not check");
    if let Some(c) = log.checkpoint("append-loop").expect("checkpoint") {
        assert_eq!(c.state.len(), CHECKPOINT_BYTES, "round {round}");
        assert!(c.position <= log.head(), "round {round}");
    }
    let events = common::all(&log);
    assert_eq!(events.len() as u64, log.head().0);
    // Every acknowledged append is there, whole, with the payload it was
    // given: both streams' parts, contiguous, in order.
    for a in acks {
        assert!(a.last <= log.head().0, "round {round}: ack {a:?} beyond head {}", log.head());
        assert_eq!(a.last + 1 - a.first, PER_APPEND * STREAMS, "round {round}: {a:?}");
        for (i, p) in (a.first..=a.last).enumerate() {
            let (j, i) = (i as u64 / PER_APPEND, i as u64 % PER_APPEND);
            let e = &events[p as usize - 1];
            let v: serde_json::Value = serde_json::from_slice(&e.payload).expect("json");
            let stream =
                if j == 0 { format!("crash-{}", a.task) } else { format!("crash-{}-{j}", a.task) };
            assert_eq!(e.stream, stream, "round {round}, position {p}");
            assert_eq!(
                (v["task"].as_u64(), v["seq"].as_u64(), v["stream"].as_u64(), v["part"].as_u64()),
                (Some(a.task), Some(a.seq), Some(j), Some(i))
            );
        }
    }
    // Nothing half-written: each stream is whole appends of PER_APPEND
    // events, in sequence, with no gap or duplicate, acknowledged or not;
    // and each multi-stream append is there in all its streams or in none,
    // its parts side by side.
    let mut by_stream: BTreeMap<&str, Vec<(u64, u64, u64)>> = BTreeMap::new();
    let mut by_append: BTreeMap<(u64, u64), Vec<u64>> = BTreeMap::new();
    for e in &events {
        let v: serde_json::Value = serde_json::from_slice(&e.payload).expect("json");
        let seq = v["seq"].as_u64().expect("seq");
        let part = v["part"].as_u64().expect("part");
        by_stream.entry(&e.stream).or_default().push((e.version.0, seq, part));
        by_append.entry((v["task"].as_u64().expect("task"), seq)).or_default().push(e.position.0);
    }
    for ((task, seq), positions) in &by_append {
        let whole = (positions[0]..positions[0] + PER_APPEND * STREAMS).collect::<Vec<_>>();
        assert_eq!(positions, &whole, "round {round}: append {seq} of task {task} is not whole");
    }
    for (stream, evs) in by_stream {
        let n = evs.len() as u64;
        assert_eq!(n % PER_APPEND, 0, "round {round}: {stream} has a partial append");
        for (i, (version, seq, part)) in evs.into_iter().enumerate() {
            let i = i as u64;
            assert_eq!(
                (version, seq, part),
                (i + 1, i / PER_APPEND, i % PER_APPEND),
                "round {round}: {stream}"
            );
        }
        // The stream index, written or rebuilt from the events, agrees.
        assert_eq!(log.stream_version(stream).expect("version").0, n);
        let read: Vec<u64> = log
            .read_stream(stream, Version(1), usize::MAX)
            .expect("read stream")
            .iter()
            .map(|e| e.version.0)
            .collect();
        assert_eq!(read, (1..=n).collect::<Vec<_>>(), "round {round}: {stream}");
    }
    assert!(log.get(Position(log.head().0 + 1)).expect("read").is_none());
    log.close().await.expect("close");
}

fn parse(line: &str) -> Option<Ack> {
    let mut it = line.strip_prefix("ack ")?.split(' ').map(|x| x.parse::<u64>().ok());
    Some(Ack { first: it.next()??, last: it.next()??, task: it.next()??, seq: it.next()?? })
}

/// xorshift64: deterministic from the printed seed.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}
