//! The `bridges` binary's log subcommands end to end: `verify` (ok, then the
//! first broken position after tampering), `export` / `import` round trip
//! (and a second import refused), and a bad import line reported in one line
//! by line and field, exit 2, nothing created.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use bridges_engine::log::ExpectedVersion;

fn bridges(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bridges"))
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .expect("run bridges")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_export_import_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a");
    let log = common::open(&a);
    for i in 1..=6 {
        common::append(&log, &format!("s{}", i % 2), ExpectedVersion::Any, &[i]).await;
    }
    let good = log.raw_for_test(4).expect("raw").expect("present");
    log.close().await.expect("close");

    let out = bridges(&a, &["log", "verify"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("ok: 6 events verified"), "{}", text(&out.stdout));

    let file = dir.path().join("log.ndjson");
    let out = bridges(&a, &["log", "export", "--out", file.to_str().expect("utf8 path")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let b = dir.path().join("b");
    let out = bridges(&b, &["log", "import", file.to_str().expect("utf8 path")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A second import into the folder it filled: refused, exit 2, unchanged.
    let again = bridges(&b, &["log", "import", file.to_str().expect("utf8 path")]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again.stderr));
    assert!(text(&again.stderr).contains("absent or empty"), "{}", text(&again.stderr));
    let out_a = bridges(&a, &["log", "verify"]);
    let out_b = bridges(&b, &["log", "verify"]);
    assert_eq!(text(&out_a.stdout), text(&out_b.stdout), "same count and head hash");

    // Tamper with position 4: verify names it and fails.
    let log = common::open(&a);
    let mut bad = good.clone();
    let at = bad.len() - 40;
    bad[at] ^= 0x20;
    log.corrupt_for_test(4, &bad).expect("tamper");
    log.close().await.expect("close");
    let out = bridges(&a, &["log", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).starts_with("broken at position 4"), "{}", text(&out.stdout));

    // A truncated last record stops the log from opening; verify still names it.
    let log = common::open(&b);
    let last = log.raw_for_test(6).expect("raw").expect("present");
    log.corrupt_for_test(6, &last[..last.len() / 2]).expect("tamper");
    log.close().await.expect("close");
    let out = bridges(&b, &["log", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).starts_with("broken at position 6"), "{}", text(&out.stdout));

    // A bad line: named by line and field, exit non-zero, nothing imported.
    let lines = std::fs::read_to_string(&file).expect("read");
    let broken = lines.replacen("\"type_version\":1", "\"type_version\":\"one\"", 2);
    let second = broken.lines().nth(1).expect("line 2").to_owned();
    let edited: Vec<&str> = lines.lines().take(1).chain([second.as_str()]).collect();
    let bad_file = dir.path().join("bad.ndjson");
    std::fs::write(&bad_file, edited.join("\n")).expect("write");
    let c = dir.path().join("c");
    let out = bridges(&c, &["log", "import", bad_file.to_str().expect("utf8 path")]);
    assert_eq!(out.status.code(), Some(2), "bad input");
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("line 2") && err.contains("type_version"), "{err}");
    assert!(!c.exists(), "a refused import creates nothing");
}

#[test]
fn bench_log_runs_at_a_small_scale_and_prints_every_figure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = bridges(dir.path(), &["bench", "log", "--events", "2000", "--latency-samples", "50"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    for figure in [
        "durable append, 16 writers",
        "raw sled apply_batch+flush+sync_all",
        "ratio log/raw",
        "p50",
        "p99",
        "peak resident memory (VmHWM)",
        "bytes/event",
        "into TypeCounts",
        "ratio replay/raw",
    ] {
        assert!(report.contains(figure), "missing {figure:?} in:\n{report}");
    }
    assert!(!dir.path().join("bench-log").exists(), "the bench folder is removed");
}
