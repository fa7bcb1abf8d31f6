//! Checkpoints and sled's blob threshold: a projection state the size of a
//! few weeks' brokerage book (over 200 KiB) is stored in chunks, never in a
//! sled blob file; a chunk deleted or garbled makes the projection rebuild
//! from the log (not fail), and `verify` names the checkpoint; and no value
//! the log writes (records with the largest payload, stream-index runs,
//! checkpoints) ever makes sled write a blob file, which it never syncs.

mod common;

use std::path::Path;
use std::process::Command;

use bridges_engine::log::{
    EventLog, EventRef, ExpectedVersion, LogConfig, MAX_PAYLOAD_BYTES, NewEvent, Position,
};
use bridges_engine::projection::{Projection, Projector, RebuildCheck, check_rebuild};
use common::*;
use serde_json::json;
use uuid::Uuid;

/// A projection that keeps every payload it sees: its state grows with the
/// log like the brokerage book does.
#[derive(Debug, Default, PartialEq)]
struct Keeper {
    payloads: Vec<Vec<u8>>,
}

impl Projection for Keeper {
    const NAME: &'static str = "keeper";

    fn apply(&mut self, e: &EventRef<'_>) {
        self.payloads.push(e.payload.to_vec());
    }

    fn encode_state(&self) -> Vec<u8> {
        serde_json::to_vec(&self.payloads).expect("plain JSON")
    }

    fn decode_state(bytes: &[u8]) -> Option<Keeper> {
        Some(Keeper { payloads: serde_json::from_slice(bytes).ok()? })
    }
}

fn big_event(n: u64, bytes: usize) -> NewEvent {
    NewEvent {
        event_id: Uuid::from_u64_pair(n, 3),
        type_name: "Big".into(),
        type_version: 1,
        payload: json!({"n": n, "text": "y".repeat(bytes)}),
    }
}

async fn fill(log: &EventLog, events: u64, bytes: usize) {
    for n in 0..events {
        let mut req = request(&format!("s{}", n % 7), ExpectedVersion::Any, &[]);
        req.events = vec![big_event(n, bytes)];
        log.append(req).await.expect("append");
    }
}

fn verify_cli(dir: &Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_bridges"))
        .args(["log", "verify", "--data"])
        .arg(dir)
        .output()
        .expect("verify");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_checkpoint_is_chunked_and_a_broken_chunk_means_a_rebuild() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    fill(&log, 120, 2_000).await;
    let mut keeper: Projector<Keeper> = Projector::load(&log).expect("load");
    keeper.catch_up(&log, 1_000).await.expect("catch up");
    let state = keeper.state().encode_state();
    assert!(state.len() > 200 * 1024, "a book-sized state: {} bytes", state.len());
    let stored = log.checkpoint("keeper").expect("read").expect("stored");
    assert_eq!((stored.position, stored.state.len()), (log.head(), state.len()));
    assert_eq!(log.blob_files_for_test().expect("blobs"), 0, "no chunk went to a blob file");
    let report = log.verify().expect("verify");
    assert_eq!((report.checkpoints, report.bad_checkpoints.len()), (1, 0));
    log.close().await.expect("close");
    assert!(verify_cli(dir.path()).1.contains(", 1 checkpoints check"));

    for (what, damage) in [("garbled", Some(&b"not the chunk"[..])), ("missing", None)] {
        let log = open(dir.path());
        // Written anew (the previous round's rebuild rewrote it whole).
        let mut live: Projector<Keeper> = Projector::load(&log).expect("load");
        live.catch_up(&log, 1_000).await.expect("catch up");
        assert_eq!(live.position(), log.head(), "{what}: resumed from a good checkpoint");
        log.corrupt_checkpoint_for_test("keeper", 17, damage).expect("damage");
        let err = log.checkpoint("keeper").expect_err("does not check");
        assert!(err.to_string().contains("keeper"), "{what}: {err}");
        // Loading rebuilds from zero instead of failing, and ends equal.
        let mut rebuilt: Projector<Keeper> = Projector::load(&log).expect("load never fails");
        assert_eq!(rebuilt.position(), Position(0), "{what}");
        log.close().await.expect("close");
        let (code, said) = verify_cli(dir.path());
        assert_eq!(code, Some(1), "{what}: {said}");
        assert!(said.starts_with("broken checkpoint keeper: "), "{what}: {said}");
        assert!(said.contains("rebuilt from the log"), "{what}: {said}");

        let log = open(dir.path());
        rebuilt.catch_up(&log, 1_000).await.expect("catch up");
        assert_eq!(check_rebuild(&log, &rebuilt).expect("check"), RebuildCheck::Equal(log.head()));
        assert_eq!(log.verify().expect("verify").bad_checkpoints, [], "{what}: written anew");
        log.close().await.expect("close");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_checkpoint_that_shrinks_leaves_no_stale_chunk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    log.put_checkpoint("c", Position(0), vec![7; 50_000]).await.expect("big");
    log.put_checkpoint("c", Position(0), vec![8; 5_000]).await.expect("small");
    let c = log.checkpoint("c").expect("read").expect("stored");
    assert_eq!(c.state, vec![8; 5_000]);
    assert_eq!(log.verify().expect("verify").bad_checkpoints, []);
    // The big one's later chunks went with it: one written back is caught.
    log.corrupt_checkpoint_for_test("c", 5, Some(&[7; 4096])).expect("stale chunk");
    assert!(log.checkpoint("c").is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn no_value_the_log_writes_reaches_a_sled_blob_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A small index lag: stream-index runs are written often, some streams
    // with many runs per write.
    let log =
        EventLog::open(LogConfig { index_lag: 600, ..LogConfig::new(dir.path()) }).expect("open");
    let overhead = serde_json::to_vec(&big_event(0, 0).payload).expect("json").len() + 20;
    let largest = MAX_PAYLOAD_BYTES - overhead;
    let long_stream = "s".repeat(200);
    let long_command = "c".repeat(196);
    for n in 0..400u64 {
        // Interleaved streams (in random-ish key order), some long ids.
        let stream = match n % 5 {
            0 => long_stream.clone(),
            k => format!("stream-{}", (n * 7919 + k) % 13),
        };
        let mut req = request(&stream, ExpectedVersion::Any, &[]);
        req.events = vec![big_event(n, largest)];
        req.command_id = Some(format!("{long_command}{n:04}"));
        log.append(req).await.expect("append");
        if n % 50 == 0 {
            log.put_checkpoint("big", Position(n), vec![n as u8; 300_000]).await.expect("cp");
        }
    }
    log.close().await.expect("close");
    let log = open(dir.path());
    assert_eq!(log.blob_files_for_test().expect("blobs"), 0, "sled wrote a blob file");
    assert_eq!(log.verify().expect("verify").first_broken, None);
}
