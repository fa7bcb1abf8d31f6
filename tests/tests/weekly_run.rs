//! The main job, end to end: `bridges weekly` records the week's intake as
//! events, solves the snapshot in process (no NATS), records the run and its
//! proposals, and prints the plan; a second run of the same week appends
//! nothing and prints the same plan; the log verifies and exports the
//! proposals that were printed.

use std::process::Command;

use bridges_tests::{binary, run, workspace_root};

fn small_config(dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(workspace_root().join("config/default.toml"))
        .expect("default config");
    let text = text
        .replace("schools = 100", "schools = 40")
        .replace("practitioners = 40", "practitioners = 16")
        .replace("requests = 80", "requests = 24");
    let path = dir.join("small.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

fn weekly(data: &std::path::Path, config: &std::path::Path) -> String {
    let output = run(Command::new(binary("bridges"))
        .arg("--data")
        .arg(data)
        .arg("--config")
        .arg(config)
        .args(["weekly", "--week", "2026-W48", "--synthetic"]));
    assert!(output.status.success(), "weekly failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8")
}

fn appended(report: &str) -> u64 {
    let line = report
        .lines()
        .find(|l| l.contains("this run appended"))
        .expect("the report says what it appended");
    let after = line.split("this run appended ").nth(1).expect("count follows");
    after.split_whitespace().next().and_then(|n| n.parse().ok()).expect("a number")
}

fn without_timings(report: &str) -> Vec<&str> {
    report.lines().filter(|l| !l.contains("solved in") && !l.contains("log:")).collect()
}

#[test]
fn a_weekly_run_records_solves_and_is_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config = small_config(dir.path());

    let first = weekly(&data, &config);
    assert!(appended(&first) > 24, "intake and run are recorded:\n{first}");
    assert!(first.contains("Proposals by school"), "{first}");
    assert!(first.contains("domain state rebuilt from zero equals the live one"), "{first}");

    let second = weekly(&data, &config);
    assert_eq!(appended(&second), 0, "the same week appends nothing:\n{second}");
    assert_eq!(without_timings(&first), without_timings(&second));

    let verify =
        run(Command::new(binary("bridges")).arg("--data").arg(&data).args(["log", "verify"]));
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));

    // The proposals in the log are the ones the report printed.
    let export =
        run(Command::new(binary("bridges")).arg("--data").arg(&data).args(["log", "export"]));
    assert!(export.status.success());
    let lines = String::from_utf8(export.stdout).expect("utf-8");
    let proposed: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("NDJSON"))
        .filter(|e| e["type"] == "AssignmentProposed")
        .collect();
    assert!(!proposed.is_empty());
    for p in &proposed {
        let request = p["payload"]["request"].as_str().expect("request");
        let practitioner = p["payload"]["practitioner"].as_str().expect("practitioner");
        assert!(
            first.lines().any(|l| l.contains(request) && l.contains(practitioner)),
            "proposal {request} -> {practitioner} is in the report"
        );
    }
}
