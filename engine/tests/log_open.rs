//! Opening a log: the head record and the last group commit are checked
//! against the hash chain and the last commit's mark, so a log `verify`
//! rejects at its end is refused before anything is appended to it; a folder
//! with no log is refused by the read-only commands and nothing is created;
//! the folder lock and storage errors read as one line that names the folder,
//! position or key.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use bridges_engine::log::{EventLog, ExpectedVersion, LogConfig, LogError, Position};
use common::*;

fn bridges(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bridges"))
        .args(args)
        .arg("--data")
        .arg(data)
        .env("RUST_LOG", "off")
        .output()
        .expect("run bridges")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A log of 10 events in 4 group commits: 3 + 3 + 3 + 1 (the last group is
/// position 10 alone).
async fn four_commits(dir: &Path) {
    let log = open_with_lag(dir, 1024);
    append(&log, "a", ExpectedVersion::Any, &[1, 2, 3]).await;
    append(&log, "b", ExpectedVersion::Any, &[4, 5, 6]).await;
    append(&log, "a", ExpectedVersion::Any, &[7, 8, 9]).await;
    append(&log, "c", ExpectedVersion::Any, &[10]).await;
    log.close().await.expect("close");
}

fn flip_payload_byte(value: &[u8]) -> Vec<u8> {
    let mut bad = value.to_vec();
    let at = bad.len() - 40;
    bad[at] ^= 0x01;
    bad
}

#[tokio::test(flavor = "multi_thread")]
async fn a_head_record_that_does_not_chain_is_refused_at_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    four_commits(dir.path()).await;
    let log = open(dir.path());
    let head = log.raw_for_test(10).expect("raw").expect("present");
    // Still decodes, but its hash no longer follows from its bytes.
    log.corrupt_for_test(10, &flip_payload_byte(&head)).expect("tamper");
    log.close().await.expect("close");

    let err = EventLog::open(LogConfig::new(dir.path())).expect_err("refused");
    assert!(matches!(err, LogError::Corrupt { position: 10, .. }), "{err}");
    assert!(!err.is_bad_input());
    // verify names the same position; the log was not extended.
    let out = bridges(dir.path(), &["log", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).starts_with("broken at position 10"), "{}", text(&out.stdout));
    let out = bridges(dir.path(), &["log", "export"]);
    assert_eq!(out.status.code(), Some(1), "export refuses it too");
    assert_eq!(text(&out.stderr).lines().count(), 1, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("position 10"), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_of_the_last_group_that_does_not_chain_is_refused_at_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open_with_lag(dir.path(), 1024);
    append(&log, "a", ExpectedVersion::Any, &[1, 2, 3]).await;
    append(&log, "b", ExpectedVersion::Any, &[4, 5, 6, 7]).await;
    let mid = log.raw_for_test(5).expect("raw").expect("present");
    log.corrupt_for_test(5, &flip_payload_byte(&mid)).expect("tamper");
    log.close().await.expect("close");
    let err = EventLog::open(LogConfig::new(dir.path())).expect_err("refused");
    assert!(matches!(err, LogError::Corrupt { position: 5, .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_log_that_lost_its_last_records_is_refused_and_verify_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    four_commits(dir.path()).await;
    // The chain 1..=9 verifies on its own: only the last commit's mark
    // shows that position 10 was written.
    let log = open(dir.path());
    log.remove_for_test(10).expect("lose the tail");
    log.close().await.expect("close");
    let err = EventLog::open(LogConfig::new(dir.path())).expect_err("refused");
    assert!(matches!(err, LogError::Corrupt { position: 10, .. }), "{err}");
    let report = EventLog::verify_folder(&LogConfig::new(dir.path())).expect("verify");
    assert_eq!(report.first_broken.as_ref().map(|b| b.0), Some(Position(10)), "{report:?}");
    assert_eq!(report.checked, 9);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_intact_log_opens_and_carries_on_after_many_commits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open_with_lag(dir.path(), 4);
    for i in 0..50 {
        append(&log, &format!("s{}", i % 3), ExpectedVersion::Any, &[i, i + 100]).await;
    }
    log.close().await.expect("close");
    let log = open_with_lag(dir.path(), 4);
    assert_eq!(log.head(), Position(100));
    append(&log, "s0", ExpectedVersion::Any, &[1]).await;
    assert_eq!(log.verify().expect("verify").first_broken, None);
}

#[test]
fn verify_and_export_of_a_missing_folder_fail_and_create_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope");
    for args in [&["log", "verify"][..], &["log", "export"][..]] {
        let out = bridges(&missing, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: a wrong argument");
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("no event log in") && err.contains("nope"), "{err}");
        assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
        assert!(!missing.exists(), "{args:?} created the folder");
    }
    // An existing empty folder is no log either, and stays empty.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    let out = bridges(&empty, &["log", "verify"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_dir(&empty).expect("read").count(), 0);
    let err = EventLog::open_existing(LogConfig::new(&missing)).expect_err("no log");
    assert!(matches!(err, LogError::NoLog { .. }) && err.is_bad_input(), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_in_use_is_named_in_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = open(dir.path());
    append(&log, "s", ExpectedVersion::Any, &[1]).await;
    let out = bridges(dir.path(), &["log", "verify"]);
    assert_eq!(out.status.code(), Some(1), "the environment, not the input");
    let err = text(&out.stderr);
    let want = format!("another bridges process is using the data folder {}", dir.path().display());
    assert_eq!(err.trim_end(), format!("bridges log verify: {want}"));
    log.close().await.expect("close");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_record_is_named_by_its_position_in_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    four_commits(dir.path()).await;
    let log = open(dir.path());
    let rec = log.raw_for_test(4).expect("raw").expect("present");
    log.corrupt_for_test(4, &rec[..rec.len() / 2]).expect("tamper");
    let err = log.read_all(Position(1), 100).expect_err("corrupt");
    assert_eq!(err.to_string().lines().count(), 1);
    assert!(err.to_string().starts_with("corrupt record at position 4: "), "{err}");
    log.close().await.expect("close");
}
