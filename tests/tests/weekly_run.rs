//! The main job, end to end: `bridges weekly` records the week's intake as
//! events, solves the snapshot in process (no NATS), records the run and its
//! proposals, and prints the plan; a second run of the same week appends
//! nothing and prints the same plan; the log verifies and exports the
//! proposals that were printed. The run plans only half-terms not yet ended
//! and needs that fit their school's phase; everything it can check (the
//! week, the files asked for, the configuration, the GIAS file, the problem)
//! is checked before the first append, so a refusal leaves the head where it
//! was.

use std::path::Path;
use std::process::{Command, Output};

use bridges_engine::log::{EventLog, LogConfig};
use bridges_schemas::{Phase, Plan, Problem};
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
    let output = weekly_with(data, config, &["--week", "2026-W48", "--synthetic"]);
    assert!(output.status.success(), "weekly failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8")
}

fn weekly_with(data: &Path, config: &Path, args: &[&str]) -> Output {
    run(Command::new(binary("bridges"))
        .arg("--data")
        .arg(data)
        .arg("--config")
        .arg(config)
        .arg("weekly")
        .args(args))
}

/// The log's durable head, read through the log's own API.
fn head(data: &Path) -> u64 {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let log = EventLog::open(LogConfig::new(data)).expect("the log opens");
        let head = log.head().0;
        log.close().await.expect("close");
        head
    })
}

/// A small GIAS-format file of Hillingdon (312) schools, `extra` rows added.
fn gias(dir: &Path, name: &str, extra: &str) -> std::path::PathBuf {
    let mut text = String::from(
        "URN,EstablishmentName,LA (code),PhaseOfEducation (name),EstablishmentStatus (name),Easting,Northing\n",
    );
    for (i, phase) in
        ["Primary", "Primary", "Secondary", "Primary", "Secondary", "Nursery"].iter().enumerate()
    {
        text.push_str(&format!(
            "{},School {i},312,{phase},Open,{},{}\n",
            102_400 + i,
            507_000 + 900 * i,
            182_000 + 700 * i
        ));
    }
    text.push_str(extra);
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write gias");
    path
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

#[test]
fn a_weekly_run_plans_only_open_half_terms_and_needs_that_fit_the_phase() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config = small_config(dir.path());
    let problem_file = dir.path().join("problem.json");
    let plan_file = dir.path().join("plan.json");
    let out = weekly_with(
        &data,
        &config,
        &[
            "--week",
            "2026-W48",
            "--synthetic",
            "--save-problem",
            problem_file.to_str().expect("utf-8 path"),
            "--save-plan",
            plan_file.to_str().expect("utf-8 path"),
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        report.contains("plans the half-terms of 2026/27 not yet ended: 2026-AU2, 2027-SP1"),
        "{report}"
    );
    let Ok(Problem::Brokerage(problem)) =
        serde_json::from_slice(&std::fs::read(&problem_file).expect("problem written"))
    else {
        panic!("a brokerage problem");
    };
    let periods: Vec<&str> = problem.periods.iter().map(|p| p.as_str()).collect();
    // Monday 23 November 2026: Autumn 1 ended on 23 October.
    assert_eq!(periods, ["2026-AU2", "2027-SP1", "2027-SP2", "2027-SU1", "2027-SU2"]);
    assert!(!problem.requests.is_empty());
    for r in &problem.requests {
        assert!(r.days.keys().all(|p| periods.contains(&p.as_str())), "{}: {:?}", r.id, r.days);
        let phase = problem.schools.iter().find(|s| s.urn == r.urn).expect("school").phase;
        let misfit = match r.need.as_str() {
            "post-16" => {
                !matches!(phase, Phase::Secondary | Phase::AllThrough | Phase::SixteenPlus)
            }
            "early-years" => !matches!(
                phase,
                Phase::Nursery | Phase::Primary | Phase::AllThrough | Phase::Special
            ),
            _ => false,
        };
        assert!(!misfit, "{} asks {} of a {phase} school", r.id, r.need);
    }
    let Ok(Plan::Brokerage(plan)) =
        serde_json::from_slice(&std::fs::read(&plan_file).expect("plan written"))
    else {
        panic!("a brokerage plan");
    };
    assert!(!plan.assignments.is_empty());
    for a in &plan.assignments {
        assert!(a.days.keys().all(|p| periods.contains(&p.as_str())), "{a:?}");
    }
}

#[test]
fn a_refused_weekly_run_leaves_the_head_where_it_was() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config = small_config(dir.path());
    weekly(&data, &config);
    let before = head(&data);
    assert!(before > 0);

    let text = std::fs::read_to_string(&config).expect("config");
    let duplicate = dir.path().join("duplicate.toml");
    std::fs::write(&duplicate, text.replace("label = \"2027-SP1\"", "label = \"2026-AU2\""))
        .expect("write");
    let missing_folder = dir.path().join("no-such-folder/problem.json");
    let missing_gias = dir.path().join("no-such.csv");
    let bad_gias = dir.path().join("bad.csv");
    std::fs::write(&bad_gias, "Name,Phase\nA school,Primary\n").expect("write");
    let twice =
        gias(dir.path(), "twice.csv", "102401,School 1 again,312,Primary,Open,507900,182700\n");
    let folder = dir.path().to_str().expect("utf-8 path").to_owned();
    let path = |p: &Path| p.to_str().expect("utf-8 path").to_owned();

    // (what, config, arguments, what the one line names). Each case asks
    // for a new week, so a missing check would append its intake.
    let cases: Vec<(&str, &Path, Vec<String>, &str)> = vec![
        (
            "a week that is not an ISO week",
            &config,
            vec!["--week".into(), "garbage".into()],
            "\"garbage\"",
        ),
        ("week 99", &config, vec!["--week".into(), "2026-W99".into()], "2026-W99"),
        (
            "a week outside the calendar",
            &config,
            vec!["--week".into(), "2030-W10".into()],
            "2030-W10",
        ),
        ("duplicate half-terms in the config", &duplicate, vec![], "\"2026-AU2\""),
        (
            "a problem file in a missing folder",
            &config,
            vec!["--save-problem".into(), path(&missing_folder)],
            "--save-problem",
        ),
        (
            "a plan file that is a folder",
            &config,
            vec!["--save-plan".into(), folder],
            "is a folder",
        ),
        (
            "a GIAS file that is missing",
            &config,
            vec!["--gias".into(), path(&missing_gias)],
            "no-such.csv",
        ),
        ("a GIAS file without URNs", &config, vec!["--gias".into(), path(&bad_gias)], "URN"),
        ("a problem with a school twice", &config, vec!["--gias".into(), path(&twice)], "102401"),
    ];
    for (what, config, args, names) in cases {
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        if !args.contains(&"--week") {
            args.extend(["--week", "2026-W49"]);
        }
        if !args.contains(&"--gias") {
            args.push("--synthetic");
        }
        let out = weekly_with(&data, config, &args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{what}: exit 2 for bad input; stderr: {err}");
        assert_eq!(err.lines().count(), 1, "{what}: one line: {err}");
        assert!(err.contains(names), "{what}: the line names {names}: {err}");
        assert_eq!(head(&data), before, "{what}: nothing appended");
    }
    assert!(!missing_folder.exists());
}
