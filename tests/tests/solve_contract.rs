//! The `bridges-worker solve` contract (../shared/CONTRACTS.md), checked from
//! outside as a user's script would: real processes, JSON read untyped, field
//! names exactly as the contract writes them.

use std::process::Command;

use bridges_tests::{binary, run};
use serde_json::Value;

fn generate(kind: &str, extra: &[&str], out: &std::path::Path) {
    let mut cmd = Command::new(binary("bridges-worker"));
    cmd.args(["generate", "--kind", kind, "--seed", "11", "--out"]).arg(out).args(extra);
    let output = run(&mut cmd);
    assert!(
        output.status.success(),
        "generate failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn solve(problem: &std::path::Path) -> (Value, String) {
    let output =
        run(Command::new(binary("bridges-worker")).args(["solve", "--problem"]).arg(problem));
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf-8 plan");
    (serde_json::from_str(&text).expect("the plan is JSON"), text)
}

fn assert_record_fields(plan: &Value, problem_bytes: &[u8]) {
    for field in ["status", "objective", "bound", "gap", "problem_sha256", "solver", "seconds"] {
        assert!(plan.get(field).is_some(), "plan lacks `{field}`: {plan}");
    }
    let status = plan["status"].as_str().expect("status is a string");
    assert!(["optimal", "feasible", "infeasible"].contains(&status), "status {status}");
    assert_eq!(
        plan["problem_sha256"].as_str(),
        Some(bridges_worker::common::sha256_hex(problem_bytes).as_str())
    );
    assert_eq!(plan["solver"]["name"], "highs");
    assert!(plan["solver"]["version"].as_str().is_some_and(|v| !v.is_empty()));
    assert!(plan["solver"]["options"].is_object());
    for number in ["objective", "bound", "gap", "seconds"] {
        assert!(plan[number].is_number(), "`{number}` is not a number");
    }
}

fn without_seconds(mut plan: Value) -> Value {
    plan.as_object_mut().expect("plan is an object").remove("seconds");
    plan
}

#[test]
fn brokerage_plan_has_the_contract_fields_and_respects_the_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let problem_path = dir.path().join("problem.json");
    generate(
        "brokerage",
        &["--schools", "60", "--practitioners", "25", "--requests", "40", "--single-practitioner"],
        &problem_path,
    );
    let bytes = std::fs::read(&problem_path).expect("problem written");
    let problem: Value = serde_json::from_slice(&bytes).expect("problem is JSON");
    assert_eq!(problem["kind"], "brokerage");

    let (plan, _) = solve(&problem_path);
    assert_eq!(plan["kind"], "brokerage");
    assert_record_fields(&plan, &bytes);

    // Days covered per tier equal the assigned days of that tier's requests.
    let priority = |id: &str| {
        problem["requests"]
            .as_array()
            .and_then(|rs| rs.iter().find(|r| r["id"] == id))
            .and_then(|r| r["priority"].as_u64())
            .expect("assignment names a request of the problem")
    };
    let mut covered = [0u64; 4];
    for a in plan["assignments"].as_array().expect("assignments") {
        let practitioner = a["practitioner"].as_str().expect("practitioner id");
        assert!(
            problem["practitioners"]
                .as_array()
                .expect("practitioners")
                .iter()
                .any(|p| p["id"] == practitioner),
            "unknown practitioner {practitioner}"
        );
        let days: u64 = a["days"]
            .as_object()
            .expect("days")
            .values()
            .map(|d| d.as_u64().expect("whole days"))
            .sum();
        covered[priority(a["request"].as_str().expect("request id")) as usize - 1] += days;
    }
    let coverage: Vec<u64> = plan["coverage"]
        .as_array()
        .expect("coverage")
        .iter()
        .map(|c| c.as_u64().expect("days"))
        .collect();
    assert_eq!(coverage, covered.to_vec());
    for u in plan["unmet"].as_array().expect("unmet") {
        for field in ["request", "days", "reason", "detail"] {
            assert!(u.get(field).is_some(), "unmet entry lacks `{field}`: {u}");
        }
        assert!(!u["detail"].as_str().unwrap_or("").is_empty());
    }

    // Reproducible: the same problem gives the same plan apart from `seconds`,
    // and `--out` writes what stdout prints.
    let (again, _) = solve(&problem_path);
    assert_eq!(without_seconds(plan.clone()), without_seconds(again));
    let out = dir.path().join("plan.json");
    let output = run(Command::new(binary("bridges-worker"))
        .args(["solve", "--problem"])
        .arg(&problem_path)
        .arg("--out")
        .arg(&out));
    assert!(output.status.success());
    let written: Value =
        serde_json::from_slice(&std::fs::read(&out).expect("plan written")).expect("JSON");
    assert_eq!(without_seconds(written), without_seconds(plan));
}

#[test]
fn triads_plan_has_the_contract_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let problem_path = dir.path().join("triads.json");
    generate("triads", &["--schools", "40"], &problem_path);
    let bytes = std::fs::read(&problem_path).expect("problem written");
    let (plan, _) = solve(&problem_path);
    assert_eq!(plan["kind"], "triads");
    assert_record_fields(&plan, &bytes);
    let groups = plan["groups"].as_array().expect("groups");
    let placed: usize = groups.iter().map(|g| g.as_array().expect("a group is a list").len()).sum();
    let unplaced = plan["unplaced"].as_array().expect("unplaced");
    let problem: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(placed + unplaced.len(), problem["schools"].as_array().expect("schools").len());
    // Each placed school hosts exactly once.
    assert_eq!(plan["rota"].as_array().expect("rota").len(), placed);
    for visit in plan["rota"].as_array().expect("rota") {
        for field in ["host", "reviewers", "period"] {
            assert!(visit.get(field).is_some(), "rota entry lacks `{field}`");
        }
    }
}

/// Each case: a change to a valid problem, and what the one error line must name.
type Breakage = (fn(&mut Value, &str), &'static str, &'static str);

#[test]
fn a_malformed_problem_exits_2_with_one_line_naming_field_and_value_and_writes_no_plan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let problem_path = dir.path().join("problem.json");
    generate(
        "brokerage",
        &["--schools", "20", "--practitioners", "8", "--requests", "10"],
        &problem_path,
    );
    let valid: Value =
        serde_json::from_slice(&std::fs::read(&problem_path).expect("read")).expect("JSON");
    let period = valid["periods"][0].as_str().expect("a period").to_owned();
    let cases: [Breakage; 5] = [
        (
            |p, period| p["requests"][0]["days"] = serde_json::json!({ period: -3 }),
            "requests[0].days",
            "-3",
        ),
        (|p, _| p["schools"][1]["phase"] = "college".into(), "schools[1].phase", "college"),
        (|p, _| p["requests"][2]["priority"] = 7.into(), "requests[2].priority", "7"),
        (
            |p, _| p["requests"][0]["previous_practitioner"] = "sle-999".into(),
            "requests[0].previous_practitioner",
            "sle-999",
        ),
        (
            |p, _| {
                p["practitioners"][0]["id"] = "sle-twin".into();
                p["practitioners"][1]["id"] = "sle-twin".into();
            },
            "practitioners[1].id",
            "sle-twin",
        ),
    ];
    for (i, (break_it, field, value)) in cases.into_iter().enumerate() {
        let mut problem = valid.clone();
        break_it(&mut problem, &period);
        let bad_path = dir.path().join(format!("bad-{i}.json"));
        std::fs::write(&bad_path, serde_json::to_vec(&problem).expect("json")).expect("write");
        let out = dir.path().join(format!("plan-{i}.json"));
        let output = run(Command::new(binary("bridges-worker"))
            .args(["solve", "--problem"])
            .arg(&bad_path)
            .arg("--out")
            .arg(&out));
        assert_eq!(output.status.code(), Some(2), "case {field}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "stderr: {stderr}");
        assert!(lines[0].contains(field), "names the field {field}: {}", lines[0]);
        assert!(lines[0].contains(value), "names the value {value}: {}", lines[0]);
        assert!(!out.exists(), "no plan is written");
        assert!(output.stdout.is_empty(), "no plan on stdout");
    }
}

/// A valid problem of `kind` from the generator, as untyped JSON.
fn generated(kind: &str, extra: &[&str]) -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("problem.json");
    generate(kind, extra, &path);
    serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("JSON")
}

fn small_brokerage() -> Value {
    generated("brokerage", &["--schools", "20", "--practitioners", "8", "--requests", "10"])
}

fn small_triads() -> Value {
    generated("triads", &["--schools", "12"])
}

/// Runs `solve` on `problem` with `--out` (plus `args`) and insists on the
/// refusal of the contract: exit 2, one line on stderr naming `field` and
/// `value`, no plan on stdout or at `--out`. Returns the line.
fn refused(problem: &Value, args: &[&str], field: &str, value: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("problem.json");
    std::fs::write(&input, serde_json::to_vec(problem).expect("json")).expect("write");
    let out = match args.iter().position(|a| *a == "--out") {
        Some(i) => std::path::PathBuf::from(args[i + 1]),
        None => dir.path().join("plan.json"),
    };
    let mut cmd = Command::new(binary("bridges-worker"));
    cmd.args(["solve", "--problem"]).arg(&input).args(args);
    if !args.contains(&"--out") {
        cmd.arg("--out").arg(&out);
    }
    let output = run(&mut cmd);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{field}: stderr {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{field}: one line, got {stderr}");
    assert!(lines[0].contains(field), "names the field {field}: {}", lines[0]);
    assert!(lines[0].contains(value), "names the value {value}: {}", lines[0]);
    assert!(!out.exists(), "{field}: no plan is written");
    assert!(output.stdout.is_empty(), "{field}: no plan on stdout");
    lines[0].to_owned()
}

fn remove(v: &mut Value, key: &str) {
    v.as_object_mut().expect("an object").remove(key);
}

/// Issue 11, item 9: a missing policy field is refused, not read as "no
/// rule" (a brokerage problem without `max_distance_km` gave 13 assignments
/// where the limit gave 8; triads `"policy": {}` grouped schools 80 km apart).
#[test]
fn every_policy_field_is_required() {
    let brokerage = small_brokerage();
    for key in ["max_distance_km", "same_trust", "budget", "single_practitioner"] {
        let mut p = brokerage.clone();
        remove(&mut p["policy"], key);
        refused(&p, &[], &format!("policy.{key}"), "(missing)");
    }
    let triads = small_triads();
    let mut p = triads.clone();
    p["policy"] = serde_json::json!({});
    refused(&p, &[], "policy.max_distance_km", "(missing)");
    for key in [
        "max_distance_km",
        "same_trust",
        "phase_pools",
        "require_good_or_better",
        "allow_groups_of_4",
    ] {
        let mut p = triads.clone();
        remove(&mut p["policy"], key);
        refused(&p, &[], &format!("policy.{key}"), "(missing)");
    }
    // `null` is how a document says "no limit".
    let mut p = brokerage.clone();
    p["policy"]["max_distance_km"] = Value::Null;
    p["policy"]["budget"] = Value::Null;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.json");
    std::fs::write(&path, serde_json::to_vec(&p).expect("json")).expect("write");
    solve(&path);
}

/// Issue 11, item 9: a field the kind does not define is refused at any level.
#[test]
fn unknown_fields_are_refused_at_any_level() {
    let brokerage = small_brokerage();
    type Edit = fn(&mut Value);
    let cases: [(Edit, &str); 6] = [
        (|p| p["pinnned"] = serde_json::json!([]), "pinnned"),
        (|p| p["policy"]["max_distance"] = 20.into(), "policy.max_distance"),
        (|p| p["requests"][0]["dayz"] = serde_json::json!({}), "requests[0].dayz"),
        (|p| p["practitioners"][1]["rate"] = 350.into(), "practitioners[1].rate"),
        (|p| p["schools"][2]["ofsted"] = "good".into(), "schools[2].ofsted"),
        (
            |p| {
                p["conflicts"] =
                    serde_json::json!([{"practitioner": "x", "urn": 1, "why": "governor"}])
            },
            "conflicts[0].why",
        ),
    ];
    for (edit, field) in cases {
        let mut p = brokerage.clone();
        edit(&mut p);
        refused(&p, &[], field, "");
    }
    let mut t = small_triads();
    t["schools"][0]["ofstead"] = "good".into();
    refused(&t, &[], "schools[0].ofstead", "");
}

/// Issue 11, item 9: a brokerage document whose `kind` says triads was read
/// as a triads problem, its practitioners and requests ignored, and solved.
#[test]
fn a_brokerage_document_of_kind_triads_is_refused_naming_a_field_triads_lacks() {
    let mut p = small_brokerage();
    p["kind"] = "triads".into();
    let line = refused(&p, &[], "", "");
    assert!(
        ["conflicts", "pinned", "practitioners", "requests"].iter().any(|f| line.contains(f)),
        "names a field triads does not define: {line}"
    );
    let mut t = small_triads();
    t["kind"] = "brokerage".into();
    refused(&t, &[], "", "");
}

/// Issue 11, item 9: ids are 1 to 64 of ASCII letters, digits, `-` and `_`.
#[test]
fn ids_outside_the_contract_character_set_are_refused() {
    let brokerage = small_brokerage();
    let long = "r".repeat(65);
    let cases: [(&str, Value, &str); 5] = [
        ("practitioners[0].id", "sle 17".into(), "sle 17"),
        ("requests[0].id", "req.9".into(), "req.9"),
        ("requests[1].id", long.clone().into(), "rrrr"),
        ("requests[2].id", "".into(), "\"\""),
        ("requests[3].id", "réq-4".into(), "réq-4"),
    ];
    for (field, id, shown) in cases {
        let mut p = brokerage.clone();
        let (list, i) = field.split_once('[').expect("a list field");
        let i: usize = i[..1].parse().expect("index");
        p[list][i]["id"] = id;
        refused(&p, &[], field, shown);
    }
    // Period names too, wherever they are listed first.
    let mut t = small_triads();
    t["periods"][1] = "2027 SP1".into();
    refused(&t, &[], "periods[1]", "2027 SP1");
}

/// Issue 11, item 10: the plan never overwrites the problem.
#[test]
fn out_onto_the_problem_is_refused_and_the_problem_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.json");
    generate("brokerage", &["--schools", "20", "--practitioners", "8", "--requests", "10"], &path);
    let before = std::fs::read(&path).expect("read");
    let spelled_otherwise = dir.path().join(".").join("p.json");
    for out in [&path, &spelled_otherwise] {
        let output = run(Command::new(binary("bridges-worker"))
            .args(["solve", "--problem"])
            .arg(&path)
            .arg("--out")
            .arg(out));
        assert_eq!(output.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("--out"), "{stderr}");
        assert_eq!(std::fs::read(&path).expect("read"), before, "the problem is unchanged");
        assert!(output.stdout.is_empty());
    }
}

/// Issue 11, item 10: `--out` into a missing folder names the path, before
/// any solving.
#[test]
fn out_into_a_missing_folder_names_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-folder").join("plan.json");
    let line =
        refused(&small_brokerage(), &["--out", missing.to_str().expect("utf-8")], "--out", "");
    assert!(line.contains("no-such-folder"), "names the path: {line}");
}

/// Issue 11, item 10: `--gap` outside [0, 1) and a negative or non-number
/// `--time-limit` are refused as the engine's config refuses them.
#[test]
fn a_gap_outside_zero_to_one_is_refused() {
    let p = small_brokerage();
    for gap in ["1", "1.5", "-0.1", "NaN", "inf"] {
        refused(&p, &["--gap", gap], "--gap", gap);
    }
    for limit in ["-1", "NaN"] {
        refused(&p, &["--time-limit", limit], "--time-limit", limit);
    }
}

/// Issue 11, item 10: an echoed value is cut to a readable length (a
/// duplicated 1 MB id was echoed whole).
#[test]
fn a_long_value_is_cut_in_the_error_line() {
    let mut p = small_brokerage();
    let huge = "x".repeat(1 << 20);
    p["practitioners"][0]["id"] = huge.clone().into();
    p["practitioners"][1]["id"] = huge.into();
    let line = refused(&p, &[], "practitioners[0].id", "bytes)");
    assert!(line.len() < 400, "{} bytes: {}", line.len(), &line[..400.min(line.len())]);
    // A long value inside a parse error (the reason) is cut as well.
    let mut p = small_brokerage();
    p["schools"][0]["phase"] = "y".repeat(1 << 20).into();
    let line = refused(&p, &[], "schools[0].phase", "bytes)");
    assert!(line.len() < 600, "{} bytes", line.len());
}

/// One school asking, one practitioner 5 km away who could serve it.
fn one_pair() -> Value {
    serde_json::json!({
        "kind": "brokerage",
        "periods": ["2026-AU1", "2026-AU2"],
        "schools": [
            {"urn": 100001, "phase": "primary", "trust": null, "easting": 500000, "northing": 180000},
            {"urn": 100002, "phase": "primary", "trust": null, "easting": 505000, "northing": 180000}
        ],
        "practitioners": [
            {"id": "sle-1", "designation": "SLE", "home_urn": 100002, "specialisms": ["maths"],
             "phases": ["primary"], "day_rate": 350, "capacity": {"2026-AU1": 2, "2026-AU2": 2},
             "max_days": null}
        ],
        "requests": [
            {"id": "req-1", "urn": 100001, "need": "maths", "designations": ["SLE"], "priority": 1,
             "days": {"2026-AU1": 1, "2026-AU2": 1}, "previous_practitioner": null}
        ],
        "policy": {"max_distance_km": 20, "same_trust": "forbid", "budget": null,
                   "single_practitioner": true}
    })
}

fn solve_value(problem: &Value) -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("p.json");
    std::fs::write(&path, serde_json::to_vec(problem).expect("json")).expect("write");
    solve(&path).0
}

/// Issue 11, item 13 (CONTRACTS.md rule 9): an excluded pair is never
/// assigned, the unmet request says why, and bad exclusions are refused.
#[test]
fn an_excluded_practitioner_is_not_assigned_and_bad_exclusions_are_refused() {
    let p = one_pair();
    assert_eq!(solve_value(&p)["assignments"].as_array().expect("list").len(), 1);

    let mut excluded = p.clone();
    excluded["exclusions"] = serde_json::json!([{"request": "req-1", "practitioner": "sle-1"}]);
    let plan = solve_value(&excluded);
    assert_eq!(plan["assignments"], serde_json::json!([]));
    assert_eq!(plan["unmet"][0]["request"], "req-1");
    assert_eq!(plan["unmet"][0]["reason"], "excluded");
    assert!(plan["unmet"][0]["detail"].as_str().expect("detail").contains("sle-1"));

    let mut bad = p.clone();
    bad["exclusions"] = serde_json::json!([{"request": "req-9", "practitioner": "sle-1"}]);
    refused(&bad, &[], "exclusions[0].request", "req-9");
    bad["exclusions"] = serde_json::json!([{"request": "req-1", "practitioner": "sle-9"}]);
    refused(&bad, &[], "exclusions[0].practitioner", "sle-9");
    let mut pinned = excluded.clone();
    pinned["pinned"] = serde_json::json!([
        {"request": "req-1", "practitioner": "sle-1", "days": {"2026-AU1": 1}}
    ]);
    refused(&pinned, &[], "pinned[0]", "sle-1");
}

/// Issue 12: a designation is a title, national or local.
#[test]
fn a_local_title_is_matched_like_a_national_one() {
    let mut p = one_pair();
    p["practitioners"][0]["designation"] = "Senior Practitioner".into();
    p["requests"][0]["designations"] = serde_json::json!(["SLE", "Senior Practitioner"]);
    let plan = solve_value(&p);
    assert_eq!(plan["assignments"][0]["practitioner"], "sle-1");
    // Compared exactly.
    p["requests"][0]["designations"] = serde_json::json!(["senior practitioner"]);
    let plan = solve_value(&p);
    assert_eq!(plan["unmet"][0]["reason"], "no_eligible_practitioner");
    for bad in ["", " SLE", "\u{7}bell", &"T".repeat(41)] {
        p["practitioners"][0]["designation"] = bad.into();
        refused(&p, &[], "practitioners[0].designation", "");
    }
}

/// Issue 12: inspection outcomes in the three frameworks are read strictly.
#[test]
fn inspection_outcomes_are_read_strictly() {
    let t = small_triads();
    let report_card = serde_json::json!({
        "framework": "report_card", "published": "2026-02-11",
        "grades": {"leadership_governance": "strong_standard", "curriculum_teaching": "expected_standard",
                   "achievement": "needs_attention", "attendance_behaviour": "expected_standard",
                   "personal_development_wellbeing": "expected_standard", "inclusion": "expected_standard"},
        "safeguarding": "met"
    });
    // Valid, without `ofsted`: solves.
    let mut ok = t.clone();
    remove(&mut ok["schools"][0], "ofsted");
    ok["schools"][0]["inspection"] = report_card.clone();
    ok["schools"][1]["ofsted"] = Value::Null;
    ok["schools"][1]["inspection"] = serde_json::json!(
        {"framework": "overall", "published": null, "overall": "good"});
    ok["schools"][2]["inspection"] = serde_json::json!({
        "framework": "sub_judgements", "published": "2025-03-04",
        "grades": {"quality_of_education": "good", "behaviour_attitudes": "good",
                   "personal_development": "outstanding", "leadership_management": "requires_improvement",
                   "early_years": "good"},
        "safeguarding": "met"});
    remove(&mut ok["schools"][2], "ofsted");
    assert_eq!(solve_value(&ok)["kind"], "triads");

    // Both an `ofsted` grade and an `inspection`.
    let mut both = t.clone();
    both["schools"][0]["ofsted"] = "good".into();
    both["schools"][0]["inspection"] = report_card.clone();
    refused(&both, &[], "schools[0].inspection", "");

    type Edit = fn(&mut Value);
    let cases: [(Edit, &str, &str); 6] = [
        (|o| o["framework"] = "section_5".into(), "schools[0].inspection", "section_5"),
        (|o| o["grades"]["wellbeing"] = "exceptional".into(), "schools[0].inspection", "wellbeing"),
        (|o| o["grades"]["inclusion"] = "good".into(), "schools[0].inspection", "good"),
        (|o| remove(&mut o["grades"], "inclusion"), "schools[0].inspection", "inclusion"),
        (|o| o["safeguarding"] = "partly".into(), "schools[0].inspection", "partly"),
        (|o| o["published"] = "11/02/2026".into(), "schools[0].inspection", "11/02/2026"),
    ];
    for (edit, field, value) in cases {
        let mut p = ok.clone();
        edit(&mut p["schools"][0]["inspection"]);
        refused(&p, &[], field, value);
    }
}
