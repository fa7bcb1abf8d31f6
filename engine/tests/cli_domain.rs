//! The brokerage domain through the real `bridges` binary, as a broker
//! would use it, on a temporary data folder and a small configuration: a
//! session from two schools to a recorded visit (`show` with times and
//! actors, `list --open|--unmet|--late`, `match`); each rejection exits 2
//! with one line naming the field and leaves the log's count unchanged;
//! `submit` with good, duplicate and malformed lines; erasure, then `show`
//! and `sar` without the name; `--help` with an example at every level.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const NAME: &str = "Ada Quillfeather";
const NOTE: &str = "Met the maths lead about Year 4 books";

/// A temporary data folder and configuration, and the binary run on them.
struct Desk {
    dir: tempfile::TempDir,
    data: PathBuf,
    config: PathBuf,
}

impl Desk {
    fn new() -> Desk {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let config = dir.path().join("small.toml");
        let text = bridges_engine::config::DEFAULT_TOML
            .replace("time_limit_seconds = 60.0", "time_limit_seconds = 10.0");
        std::fs::write(&config, text).expect("write config");
        Desk { dir, data, config }
    }

    fn command(&self, at: &str, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_bridges"));
        c.arg("--data").arg(&self.data).arg("--config").arg(&self.config);
        c.args(["--at", at]).args(args);
        for v in ["BRIDGES_USER", "BRIDGES_DATA_DIR", "BRIDGES_CONFIG", "RUST_LOG"] {
            c.env_remove(v);
        }
        c
    }

    /// Runs as `broker-1` unless `args` says `--as`.
    fn run(&self, at: &str, args: &[&str]) -> Output {
        let mut c = self.command(at, args);
        if !args.contains(&"--as") {
            c.args(["--as", "broker-1"]);
        }
        c.output().expect("run bridges")
    }

    /// Succeeds; its stdout.
    fn ok(&self, at: &str, args: &[&str]) -> String {
        let out = self.run(at, args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// Exits 2 with one line on stderr, writing nothing of its own; the line.
    fn rejected(&self, at: &str, args: &[&str]) -> String {
        let before = self.count();
        let out = self.run(at, args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}{err}", text(&out.stdout));
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.starts_with("rejected: "), "{err}");
        assert_eq!(self.count(), before, "{args:?} wrote nothing");
        err
    }

    /// Events in the log, as `log verify` counts them.
    fn count(&self) -> u64 {
        let out = self.ok("2026-09-01T00:00:00Z", &["log", "verify"]);
        out.strip_prefix("ok: ")
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a verify line: {out}"))
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The line of `out` that holds every one of `parts`.
fn line_with<'a>(out: &'a str, parts: &[&str]) -> &'a str {
    out.lines()
        .find(|l| parts.iter().all(|p| l.contains(p)))
        .unwrap_or_else(|| panic!("no line with {parts:?} in:\n{out}"))
}

const MON: &str = "2026-09-07T09:00:00Z";

#[test]
fn a_broker_s_session_from_schools_to_a_recorded_visit() {
    let desk = Desk::new();
    let school = |urn: &str, name: &str, e: &str| {
        let out = desk.ok(
            MON,
            &[
                "school",
                "register",
                urn,
                "--name",
                name,
                "--phase",
                "primary",
                "--easting",
                e,
                "--northing",
                "182000",
            ],
        );
        assert!(out.contains("SchoolRegistered"), "{out}");
    };
    school("102400", "Cherry Lane Primary", "507000");
    school("102401", "Dawley Park Academy", "508000");
    desk.ok(
        MON,
        &[
            "practitioner",
            "designate",
            "sle-1",
            "--title",
            "SLE",
            "--home",
            "102401",
            "--specialisms",
            "maths",
            "--phases",
            "primary",
            "--name",
            NAME,
            "--email",
            "ada@school.example.org",
        ],
    );
    desk.ok(MON, &["practitioner", "availability", "sle-1", "--days", "2026-AU1=5,2026-AU2=3"]);
    let out = desk.ok(
        MON,
        &["practitioner", "conflict", "sle-1", "--trust", "Some Trust", "--kind", "governor"],
    );
    assert!(out.contains("ConflictDeclared"), "{out}");
    let shown = desk.ok(MON, &["practitioner", "show", "sle-1"]);
    line_with(&shown, &["conflicts", "trust-some-trust (governor)"]);
    desk.ok(MON, &["practitioner", "withdraw-conflict", "sle-1", "--conflict", "trust-some-trust"]);
    let err = desk.rejected(
        MON,
        &[
            "practitioner",
            "conflict",
            "sle-1",
            "--urn",
            "102400",
            "--kind",
            "family",
            "--from",
            "2026-10-01",
            "--to",
            "2026-09-01",
        ],
    );
    assert!(err.contains("valid_to = 2026-09-01") && err.contains("[window]"), "{err}");
    let out = desk.run(MON, &["practitioner", "conflict", "sle-1", "--kind", "family"]);
    assert_eq!(out.status.code(), Some(2), "a school or a trust is required");
    for (id, days) in [("req-1", "2026-AU1=2"), ("req-3", "2026-AU1=1")] {
        let out = desk.ok(
            MON,
            &[
                "request",
                "raise",
                id,
                "--urn",
                "102400",
                "--need",
                "maths",
                "--designations",
                "SLE",
                "--tier",
                "2",
                "--days",
                days,
            ],
        );
        assert!(line_with(&out, &["SupportRequested"]).contains(&format!("request-{id}")));
    }
    // Without --as the actor is cli-<login name>, cut to a user id's characters.
    let out = desk
        .command(MON, &["request", "raise", "req-2", "--urn", "102400", "--need", "maths"])
        .args(["--designations", "SLE", "--tier", "follow", "--days", "2026-AU1=1"])
        .env("USER", "test.er")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = desk.ok(
        "2026-09-07T10:00:00Z",
        &[
            "assignment",
            "propose",
            "--request",
            "req-1",
            "--practitioner",
            "sle-1",
            "--days",
            "2026-AU1=2",
        ],
    );
    assert!(out.contains("AssignmentProposed") && out.contains("assignment-req-1-h1"), "{out}");
    desk.ok(
        "2026-09-07T11:00:00Z",
        &[
            "assignment",
            "propose",
            "--request",
            "req-3",
            "--practitioner",
            "sle-1",
            "--days",
            "2026-AU1=1",
        ],
    );
    let out =
        desk.ok("2026-09-08T09:00:00Z", &["--as", "broker-2", "assignment", "accept", "req-1-h1"]);
    assert!(out.contains("AssignmentAccepted"), "{out}");

    // Thursday 10 September: req-2 is the only one unmatched, and its
    // two-working-day clock (due Wednesday 9th) is late.
    let thu = "2026-09-10T09:00:00Z";
    let open = desk.ok(thu, &["request", "list", "--open"]);
    for id in ["req-1", "req-2", "req-3"] {
        assert!(open.contains(id), "{open}");
    }
    let unmet = desk.ok(thu, &["request", "list", "--unmet"]);
    assert!(
        unmet.contains("req-2") && !unmet.contains("req-1") && !unmet.contains("req-3"),
        "{unmet}"
    );
    let late = desk.ok(thu, &["request", "list", "--late"]);
    assert!(line_with(&late, &["req-2"]).contains("late (not yet, due 2026-09-09)"), "{late}");
    assert!(!late.contains("req-1") && !late.contains("req-3"), "{late}");
    let early = desk.ok("2026-09-09T09:00:00Z", &["request", "list", "--late"]);
    assert!(!early.contains("req-2"), "not late on its due day:\n{early}");

    desk.ok(
        "2026-09-15T16:00:00Z",
        &[
            "assignment",
            "visit",
            "req-1-h1",
            "--on",
            "2026-09-15",
            "--half-days",
            "2",
            "--note",
            NOTE,
        ],
    );

    // Rejections: each names its field and value, exits 2, writes nothing.
    let wed = "2026-09-16T09:00:00Z";
    let err = desk.rejected(wed, &["assignment", "visit", "req-1-h1", "--on", "2026-09-18"]);
    assert!(err.contains("on = 2026-09-18") && err.contains("[in_future]"), "{err}");
    let raise = |urn: &'static str, need: &'static str, days: &'static str| {
        [
            "request",
            "raise",
            "req-x",
            "--urn",
            urn,
            "--need",
            need,
            "--designations",
            "SLE",
            "--tier",
            "1",
            "--days",
            days,
        ]
    };
    let err = desk.rejected(wed, &raise("999999", "maths", "2026-AU2=1"));
    assert!(err.contains("urn = 999999") && err.contains("[unknown_school]"), "{err}");
    let err = desk.rejected(wed, &raise("102400", "knitting", "2026-AU2=1"));
    assert!(err.contains("need = knitting") && err.contains("[not_configured]"), "{err}");
    let err = desk.rejected("2026-11-09T09:00:00Z", &raise("102400", "maths", "2026-AU1=1"));
    assert!(err.contains("days.2026-AU1 = 2026-AU1") && err.contains("[period_ended]"), "{err}");
    let err =
        desk.rejected(wed, &["--as", "a broker", "request", "withdraw", "req-1", "--reason", "x"]);
    assert!(err.contains("actor = \"a broker\""), "{err}");
    // Accepting req-3-h1 after its answer window (to Monday 14th): the system
    // records the expiry it finds, and the accept itself writes nothing.
    let before = desk.count();
    let out = desk.run(wed, &["assignment", "accept", "req-3-h1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("assignment = req-3-h1") && err.contains("[expired]"), "{err}");
    assert_eq!(desk.count(), before + 1, "only the expiry is recorded");
    let shown = desk.ok(wed, &["assignment", "show", "req-3-h1"]);
    assert!(
        line_with(&shown, &["AssignmentExpired", "system", wed]).contains("2026-09-14"),
        "{shown}"
    );
    let err = desk.rejected(wed, &["assignment", "accept", "req-3-h1"]);
    assert!(err.contains("[expired]"), "{err}");

    // A matching run now proposes req-2 (and req-3 again: an expiry is not a decline).
    let out = desk.ok("2026-09-16T10:00:00Z", &["match"]);
    assert!(out.contains("status optimal"), "{out}");
    assert!(line_with(&out, &["102400", "req-2"]).contains("sle-1"), "{out}");

    // The request's state and whole history, with times and actors.
    let shown = desk.ok("2026-09-17T09:00:00Z", &["request", "show", "req-1"]);
    line_with(&shown, &["status", "open"]);
    line_with(&shown, &["match clock", "met (2026-09-07, due 2026-09-09)"]);
    line_with(&shown, &["req-1-h1", "sle-1", "accepted", "2026-AU1:2"]);
    line_with(&shown, &["SupportRequested", "broker-1", MON]);
    line_with(&shown, &["AssignmentProposed", "broker-1", "2026-09-07T10:00:00Z"]);
    line_with(&shown, &["AssignmentAccepted", "broker-2", "2026-09-08T09:00:00Z"]);
    line_with(&shown, &["VisitRecorded", "2026-09-15T16:00:00Z", "2 half days"]);
    let shown = desk.ok("2026-09-17T09:00:00Z", &["request", "show", "req-2"]);
    line_with(&shown, &["SupportRequested", "cli-test-er"]);
    let err = desk.rejected("2026-09-17T09:00:00Z", &["request", "show", "req-404"]);
    assert!(err.contains("request = req-404"), "{err}");

    // The practitioner's own view opens their details; the school's does not.
    let shown = desk.ok("2026-09-17T09:00:00Z", &["practitioner", "show", "sle-1"]);
    line_with(&shown, &["name", NAME]);
    line_with(&shown, &["AvailabilityDeclared", "broker-1", "2026-AU1:5"]);
    let school = desk.ok("2026-09-17T09:00:00Z", &["school", "show", "102400"]);
    assert!(!school.contains(NAME) && school.contains("req-1"), "{school}");
    let list = desk.ok("2026-09-17T09:00:00Z", &["assignment", "list", "--request", "req-1"]);
    assert!(!list.contains(NAME) && !list.contains(NOTE), "{list}");

    // Before erasure the subject-access export holds the name and the notes.
    let sar = desk.dir.path().join("sar.json");
    let sar_arg = sar.to_str().expect("utf-8 path");
    desk.ok("2026-11-10T09:00:00Z", &["practitioner", "sar", "sle-1", "--out", sar_arg]);
    let export: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sar).expect("read")).expect("JSON");
    assert_eq!(export["personal"]["name"], NAME);
    assert_eq!(export["personal_data"], "held");
    let assignments = export["assignments"].as_array().expect("assignments");
    let req_1 = assignments.iter().find(|a| a["assignment"] == "req-1-h1").expect("req-1-h1");
    let visit = &req_1["visits"]["v1"];
    assert_eq!(visit["note"], NOTE);
    let types: Vec<&str> = export["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert!(
        types.contains(&"PractitionerDesignated") && types.contains(&"VisitRecorded"),
        "{types:?}"
    );

    // Erasure: the key is destroyed; every view shows the practitioner as erased.
    let out = desk.ok("2026-11-10T09:00:00Z", &["practitioner", "erase", "sle-1"]);
    assert!(out.contains("PersonalDataErased"), "{out}");
    let shown = desk.ok("2026-11-10T10:00:00Z", &["practitioner", "show", "sle-1"]);
    assert!(!shown.contains(NAME), "{shown}");
    line_with(&shown, &["personal data", "erased"]);
    line_with(&shown, &["status", "erased"]);
    let list = desk.ok("2026-11-10T10:00:00Z", &["practitioner", "list"]);
    assert!(line_with(&list, &["sle-1"]).contains("(erased)"), "{list}");
    let shown = desk.ok("2026-11-10T10:00:00Z", &["assignment", "show", "req-1-h1"]);
    assert!(!shown.contains(NOTE) && line_with(&shown, &["v1"]).contains("(erased)"), "{shown}");
    desk.ok("2026-11-10T10:00:00Z", &["practitioner", "sar", "sle-1", "--out", sar_arg]);
    let written = std::fs::read_to_string(&sar).expect("read");
    assert!(!written.contains(NAME) && !written.contains(NOTE), "{written}");
    let export: serde_json::Value = serde_json::from_str(&written).expect("JSON");
    assert_eq!(export["personal_data"], "erased");
    assert_eq!(export["personal"], serde_json::Value::Null);
    assert!(export["statement"].as_str().expect("statement").contains("was erased on 2026-11-10"));
    assert_eq!(export["assignments"].as_array().map(Vec::len), Some(4), "ids and numbers remain");
    // Nothing under the data folder or the key store holds the name or the note.
    for dir in [desk.data.clone(), desk.dir.path().join("data-keys")] {
        for file in walk(&dir) {
            let bytes = std::fs::read(&file).expect("read");
            for secret in [NAME, NOTE] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{secret:?} in {}",
                    file.display()
                );
            }
        }
    }
    let err = desk.rejected("2026-11-10T10:00:00Z", &["practitioner", "erase", "sle-1"]);
    assert!(err.contains("[personal_data_erased]"), "{err}");
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn submit_answers_each_line_with_its_id_and_goes_on_after_a_bad_one() {
    let desk = Desk::new();
    let line = |id: &str, command: &str| {
        format!(
            r#"{{"id":"{id}","actor":"import-1","at":"2026-09-07T09:00:00Z","command":{command}}}"#
        )
    };
    let register = r#"{"type":"register_school","urn":102400,"name":"Cherry Lane Primary","la_code":312,"phase":"primary","easting":507000,"northing":182000}"#;
    let raise = r#"{"type":"raise_request","request":"req-9","urn":102400,"need":"maths","designations":["SLE"],"tier":"2","days":{"2026-AU1":2},"funding":"la_core"}"#;
    let input = [
        line("c-1", register),
        line("c-2", raise),
        line("c-2", raise),
        "{not json".to_owned(),
        line("c-4", &raise.replace("raise_request", "raise_everything")),
        line("c-5", r#"{"type":"withdraw_request","request":"req-9","reasn":"found support"}"#),
        String::new(),
        line("c-6", &raise.replace("102400", "999999").replace("req-9", "req-10")),
        line("c-7", r#"{"type":"withdraw_request","request":"req-9","reason":"found support"}"#),
        line("c-8", r#"{"type":"expire_assignment","assignment":"req-9-h1"}"#),
    ]
    .join("\n");
    let file = desk.dir.path().join("commands.ndjson");
    std::fs::write(&file, &input).expect("write");
    let submit = |path: &str| desk.run(MON, &["submit", path]);

    let out = submit(file.to_str().expect("utf-8 path"));
    assert_eq!(out.status.code(), Some(2), "some lines were rejected: {}", text(&out.stderr));
    let results: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let got: Vec<(u64, &str, &str)> = results
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().expect("line"),
                r["id"].as_str().unwrap_or("-"),
                r["outcome"].as_str().expect("outcome"),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (1, "c-1", "applied"),
            (2, "c-2", "applied"),
            (3, "c-2", "duplicate"),
            (4, "-", "rejected"),
            (5, "c-4", "rejected"),
            (6, "c-5", "rejected"),
            (8, "c-6", "rejected"),
            (9, "c-7", "applied"),
            (10, "c-8", "rejected"),
        ]
    );
    assert_eq!(
        (results[2]["first"].clone(), results[2]["last"].clone()),
        (results[1]["first"].clone(), results[1]["last"].clone())
    );
    assert_eq!(results[1]["events"][0]["type"], "SupportRequested");
    assert_eq!(results[1]["events"][0]["stream"], "request-req-9");
    let field = |i: usize| {
        (results[i]["rejection"]["code"].clone(), results[i]["rejection"]["field"].clone())
    };
    assert_eq!(field(3), ("invalid".into(), "(line)".into()));
    assert_eq!(field(4), ("invalid".into(), "command.type".into()));
    assert_eq!(field(5), ("invalid".into(), "command.reasn".into()));
    assert_eq!(field(6), ("unknown_school".into(), "urn".into()));
    assert_eq!(field(8), ("invalid".into(), "command.type".into()));

    // The same file again, from standard input: every good line is a
    // duplicate and nothing more is written.
    let before = desk.count();
    let mut child = desk
        .command(MON, &["submit", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(2));
    let outcomes: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON")["outcome"].to_string())
        .collect();
    assert_eq!(
        outcomes.iter().filter(|o| o.as_str() == "\"duplicate\"").count(),
        4,
        "{outcomes:?}"
    );
    assert_eq!(desk.count(), before);

    // Only good lines: exit 0.
    let good = desk.dir.path().join("good.ndjson");
    std::fs::write(&good, line("c-9", r#"{"type":"close_school","urn":102400,"reason":"merged"}"#))
        .expect("write");
    let out = submit(good.to_str().expect("utf-8 path"));
    assert!(out.status.success(), "{}", text(&out.stdout));
}

#[test]
fn help_shows_an_example_at_every_level() {
    let help = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_bridges"))
            .args(args)
            .arg("--help")
            .output()
            .expect("run bridges");
        assert!(out.status.success(), "{args:?}");
        text(&out.stdout)
    };
    let nouns: [(&str, &[&str]); 5] = [
        ("school", &["register", "change", "close", "inspect", "assess-risk", "show", "list"]),
        (
            "practitioner",
            &[
                "designate",
                "change",
                "availability",
                "leave",
                "conflict",
                "withdraw-conflict",
                "withdraw",
                "erase",
                "sar",
                "show",
                "list",
            ],
        ),
        ("request", &["raise", "amend", "withdraw", "close", "show", "list"]),
        (
            "assignment",
            &[
                "propose",
                "accept",
                "decline",
                "withdraw",
                "contact",
                "visit",
                "correct-visit",
                "void-visit",
                "cancel-visit",
                "confirm-visit",
                "complete",
                "show",
                "list",
            ],
        ),
        ("partnership", &["budget", "fee", "show"]),
    ];
    assert!(help(&[]).contains("Examples:"));
    for top in ["match", "submit"] {
        assert!(help(&[top]).contains("Example"), "{top}");
    }
    for (noun, verbs) in nouns {
        assert!(help(&[noun]).contains("Example: bridges"), "{noun}");
        for verb in verbs {
            let text = help(&[noun, verb]);
            assert!(text.contains(&format!("bridges {noun} {verb}")), "{noun} {verb}:\n{text}");
        }
    }
}
