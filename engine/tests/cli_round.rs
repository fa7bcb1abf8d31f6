//! Peer-review rounds through the real `bridges` binary: schools registered
//! with `submit`, then `round open`, `enrol --phase`, `form`, `show`, a
//! swap refused naming the rule (exit 2, one line, nothing written),
//! `confirm`, `review`, `share`, `export` (CSV with a byte-order mark and
//! formula-escaped cells, the HTML page with its map) and `close`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const AT: &str = "2026-09-07T09:00:00Z";

struct Desk {
    _dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
    out: PathBuf,
}

impl Desk {
    fn new() -> Desk {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let config = dir.path().join("small.toml");
        let text = bridges_engine::config::DEFAULT_TOML
            .replace("time_limit_seconds = 60.0", "time_limit_seconds = 10.0");
        std::fs::write(&config, text).expect("write config");
        let out = dir.path().join("export");
        Desk { _dir: dir, data, config, out }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_bridges"));
        c.arg("--data").arg(&self.data).arg("--config").arg(&self.config);
        c.args(["--at", AT, "--as", "coordinator-1"]).args(args);
        for v in ["BRIDGES_USER", "BRIDGES_DATA_DIR", "BRIDGES_CONFIG", "RUST_LOG"] {
            c.env_remove(v);
        }
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run bridges")
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{args:?}: {text}{}", String::from_utf8_lossy(&out.stderr));
        text
    }

    fn submit(&self, lines: &str) {
        let mut child = self
            .command(&["submit", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn");
        child.stdin.take().expect("stdin").write_all(lines.as_bytes()).expect("write");
        let out = child.wait_with_output().expect("wait");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && !text.contains("rejected"), "{text}");
    }
}

#[test]
fn a_coordinator_runs_a_round_from_the_command_line() {
    let desk = Desk::new();
    // Six primaries of LA 312 within 3 km; one named like a formula; 100001
    // and 100002 share a trust
    let mut lines = String::new();
    let grades = ["outstanding", "good", "requires_improvement", "good", "good", "inadequate"];
    for (i, grade) in grades.iter().enumerate() {
        let urn = 100_001 + i;
        let name = if i == 0 { "=HYPERLINK(\"x\")".to_owned() } else { format!("Primary {i}") };
        let trust = if i < 2 { "\"Heathrow Learning Trust\"" } else { "null" };
        lines.push_str(&format!(
            "{{\"id\":\"reg-{i}\",\"actor\":\"coordinator-1\",\"at\":\"{AT}\",\"command\":{{\"type\":\"register_school\",\"urn\":{urn},\"name\":{},\"la_code\":312,\"phase\":\"primary\",\"trust\":{trust},\"easting\":{},\"northing\":182000,\"pupils\":{}}}}}\n",
            serde_json::to_string(&name).expect("json"),
            507_000 + 500 * i,
            200 + 50 * i
        ));
        lines.push_str(&format!(
            "{{\"id\":\"insp-{i}\",\"actor\":\"coordinator-1\",\"at\":\"{AT}\",\"command\":{{\"type\":\"record_inspection\",\"urn\":{urn},\"outcome\":{{\"framework\":\"overall\",\"published\":null,\"overall\":\"{grade}\"}},\"source\":\"manual\"}}}}\n"
        ));
    }
    desk.submit(&lines);
    desk.ok(&[
        "round",
        "open",
        "r1",
        "--year",
        "2026-27",
        "--periods",
        "2026-AU1,2026-AU2,2027-SP1",
    ]);
    let out = desk.ok(&["round", "enrol", "r1", "--phase", "primary"]);
    assert!(out.contains("SchoolsEnrolled"), "{out}");
    let out = desk.ok(&["round", "form", "r1"]);
    assert!(out.contains("6 of 6 schools placed in 2 groups"), "{out}");
    assert!(out.contains("km apart at most"), "{out}");
    let show = desk.ok(&["round", "show", "r1"]);
    assert!(
        show.contains("group 1:") && show.contains("group 2:") && show.contains("rota:"),
        "{show}"
    );
    // 100001 and 100002 are in different groups (same trust); swapping
    // 100002 with a partner of 100001 would put them together
    let group_of = |urn: &str| -> String {
        let mut current = String::new();
        for line in show.lines() {
            if let Some(rest) = line.strip_prefix("group ") {
                current = rest.split(':').next().unwrap_or_default().to_owned();
            } else if line.trim_start().starts_with(urn) && !current.is_empty() {
                return current.clone();
            }
        }
        panic!("{urn} in no group:\n{show}")
    };
    let g1 = group_of("100001");
    assert_ne!(g1, group_of("100002"));
    let partner = (100_003..=100_006)
        .map(|u| u.to_string())
        .find(|u| group_of(u) == g1)
        .expect("a partner of 100001");
    let out = desk.run(&["round", "swap", "r1", &partner, "100002"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.starts_with("rejected: same_trust = 100001, 100002:"), "{err}");
    desk.ok(&["round", "confirm", "r1"]);
    // 100001 hosts in the first period if it is its group's first member
    let show = desk.ok(&["round", "show", "r1"]);
    let line = show.lines().find(|l| l.contains("100001 hosts")).expect("100001's review");
    let reviewers: Vec<&str> = line
        .split("hosts ")
        .nth(1)
        .expect("reviewers")
        .split_whitespace()
        .take_while(|w| w.starts_with("100"))
        .collect();
    if line.trim_start().starts_with("2026-AU1") {
        desk.ok(&[
            "round",
            "review",
            "r1",
            "100001",
            "--on",
            "2026-09-07",
            "--reviewers",
            &reviewers.join(","),
        ]);
        desk.ok(&["round", "share", "r1", "100001", "--shared", "yes"]);
    }
    let out = desk.ok(&["round", "export", "r1", "--out", desk.out.to_str().expect("utf-8")]);
    assert_eq!(out.lines().count(), 4, "{out}");
    let groups = std::fs::read_to_string(desk.out.join("groups.csv")).expect("groups.csv");
    assert!(groups.starts_with("\u{feff}group,urn,school"), "{groups}");
    assert!(groups.contains("'=HYPERLINK"), "formula escaped: {groups}");
    let rota = std::fs::read_to_string(desk.out.join("rota.csv")).expect("rota.csv");
    assert!(rota.contains("6000.00"), "six primary reviews at £1,000: {rota}");
    let schools = std::fs::read_to_string(desk.out.join("schools.csv")).expect("schools.csv");
    assert_eq!(schools.lines().count(), 8, "header, six schools, total: {schools}");
    let page = std::fs::read_to_string(desk.out.join("round.html")).expect("round.html");
    assert!(page.contains("<svg") && page.matches("<polygon").count() == 2, "{page}");
    desk.ok(&["round", "close", "r1"]);
    let out = desk.run(&["round", "show", "r9"]);
    assert_eq!(out.status.code(), Some(2));
}
