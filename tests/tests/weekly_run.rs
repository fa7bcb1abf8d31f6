//! The main job, end to end: `bridges weekly` imports the LA's schools from
//! GIAS (a generated borough here; the real Hillingdon file in the second
//! test), writes the demo's CSVs and imports them like a user, solves the
//! week's snapshot in process (no NATS), records the run and its proposals,
//! and prints the plan, each request's service-level clock and the spend
//! against budget; a second run of the same week appends nothing and prints
//! the same; the log verifies and exports the proposals that were printed.
//! The run plans only half-terms not yet ended and needs that fit their
//! school's phase; everything it can check (the week, the files asked for,
//! the configuration, the GIAS file) is checked before the first append, so
//! a refusal leaves the head where it was.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Instant;

use bridges_engine::log::{EventLog, LogConfig};
use bridges_schemas::{Phase, Plan, Problem};
use bridges_tests::{binary, run, shared_data, workspace_root};

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

fn weekly(data: &std::path::Path, config: Option<&std::path::Path>, args: &[&str]) -> String {
    let mut cmd = Command::new(binary("bridges"));
    cmd.arg("--data").arg(data);
    if let Some(c) = config {
        cmd.arg("--config").arg(c);
    }
    let output = run(cmd.arg("weekly").args(args));
    assert!(output.status.success(), "weekly failed: {}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("rejected") && !stderr.contains("refused"), "{stderr}");
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
    report
        .lines()
        .filter(|l| !l.contains("solved in") && !l.contains("log:") && !l.starts_with("import "))
        .collect()
}

/// The line of an import's counts.
fn import_line<'a>(report: &'a str, kind: &str) -> &'a str {
    let start = format!("import {kind}: ");
    report
        .lines()
        .find(|l| l.starts_with(&start))
        .unwrap_or_else(|| panic!("no {kind} import in\n{report}"))
}

#[test]
fn a_weekly_run_imports_solves_and_is_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config = small_config(dir.path());
    let args = ["--week", "2026-W48", "--synthetic"];

    let first = weekly(&data, Some(&config), &args);
    assert!(appended(&first) > 24, "intake and run are recorded:\n{first}");
    // The demo's files went through the imports, every row of them.
    for (kind, rows) in [("gias", 40), ("practitioners", 16), ("requests", 24)] {
        let line = import_line(&first, kind);
        assert!(line.contains(&format!("{rows} rows")) && line.contains(" 0 rejected"), "{line}");
    }
    assert!(import_line(&first, "inspections").contains(" 0 rejected"));
    for name in ["gias.csv", "inspections.csv", "practitioners.csv", "requests.csv"] {
        assert!(dir.path().join("data-demo").join(name).exists(), "{name} is written");
    }
    assert!(first.contains("Proposals by school"), "{first}");
    // The service-level clocks and the spend against budget.
    let clocks = first
        .lines()
        .find(|l| l.starts_with("matched within 2 working days: "))
        .expect("the clocks' counts");
    let counts: Vec<u32> = clocks
        .split(": ")
        .nth(1)
        .expect("counts")
        .split(", ")
        .map(|c| c.split(' ').next().and_then(|n| n.parse().ok()).expect("a count"))
        .collect();
    assert_eq!(counts.iter().sum::<u32>(), 24, "one clock per open request: {clocks}");
    assert!(counts[0] > 0, "the run's proposals meet their clocks: {clocks}");
    assert!(
        first.contains("Spend against budget, 2026-27 (the 5.00% brokerage fee included)"),
        "{first}"
    );
    let total: Vec<&str> = first
        .lines()
        .find(|l| l.starts_with("total ") && !l.starts_with("total cost"))
        .expect("a total line")
        .split_whitespace()
        .collect();
    assert_eq!(total.len(), 6, "total, budget, proposed, committed, spent, remaining: {total:?}");
    assert!(
        total[1] != "£0.00" && total[2] != "£0.00",
        "a budget, and proposals that cost: {total:?}"
    );
    assert_eq!((total[3], total[4]), ("£0.00", "£0.00"), "nothing accepted or visited yet");
    assert_eq!(total[5], total[1], "remaining is the budget less what is committed");
    assert!(first.contains("domain state rebuilt from zero equals the live one"), "{first}");

    let second = weekly(&data, Some(&config), &args);
    assert_eq!(appended(&second), 0, "the same week appends nothing:\n{second}");
    assert_eq!(without_timings(&first), without_timings(&second));
    assert!(import_line(&second, "requests").contains("0 applied, 24 unchanged"), "{second}");

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
    // Personal data never reaches the log or the report in clear.
    let people =
        std::fs::read_to_string(dir.path().join("data-demo/practitioners.csv")).expect("csv");
    let name = people.lines().nth(1).and_then(|l| l.split(',').nth(1)).expect("a name");
    assert!(!lines.contains(name) && !first.contains(name), "{name} is sealed");
}

#[test]
fn the_main_job_on_the_real_hillingdon_schools() {
    let gias = shared_data().join("hillingdon_ealing_schools.csv");
    if !gias.exists() {
        assert!(std::env::var_os("CI").is_none(), "{} is missing and CI is set", gias.display());
        eprintln!("note: {} is absent; skipping the real-data weekly run", gias.display());
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let (problem, plan) = (dir.path().join("problem.json"), dir.path().join("plan.json"));
    let gias = gias.to_string_lossy().into_owned();
    let started = Instant::now();
    let report = weekly(
        &data,
        None,
        &[
            "--week",
            "2026-W48",
            "--gias",
            &gias,
            "--save-problem",
            &problem.to_string_lossy(),
            "--save-plan",
            &plan.to_string_lossy(),
        ],
    );
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("the main job on Hillingdon took {seconds:.2} s");
    assert!(seconds < 20.0, "the main job is quick ({seconds:.1} s)");
    let line = import_line(&report, "gias");
    assert!(
        line.contains("113 rows (117 of other LAs left alone): 100 applied, 0 unchanged, 13 skipped, 0 rejected"),
        "{line}"
    );
    assert!(import_line(&report, "practitioners").contains("40 rows: 40 applied"), "{report}");
    assert!(import_line(&report, "requests").contains("80 rows: 80 applied"), "{report}");
    // The run plans only the half-terms not ended on Monday 23 November 2026.
    let problem: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&problem).expect("problem saved")).expect("json");
    let periods = problem["periods"].as_array().expect("periods");
    assert_eq!(periods.first().and_then(|p| p.as_str()), Some("2026-AU2"), "{periods:?}");
    assert_eq!(problem["schools"].as_array().map(Vec::len), Some(100));
    assert_eq!(problem["requests"].as_array().map(Vec::len), Some(80));
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&plan).expect("plan saved")).expect("json");
    for a in plan["assignments"].as_array().expect("assignments") {
        assert!(a["days"].get("2026-AU1").is_none(), "no proposal in an ended half-term: {a}");
    }
    assert!(!report.contains(" 2026-AU1:"), "{report}");
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
    weekly(&data, Some(&config), &["--week", "2026-W48", "--synthetic"]);
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
