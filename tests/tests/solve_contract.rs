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
