//! An autumn term on the real Hillingdon schools (LA 312), driven through
//! the real `bridges` binary as an LA broker would, in a temporary data
//! folder: GIAS from ../shared/data, the schools' latest inspections (real
//! Ofsted grades of April 2024, with four schools inspected since under the
//! newer frameworks), the LA's practitioners and requests as CSV files;
//! then three matching runs (Mondays 14 and 21 September and 2 November
//! 2026) with acceptances, a decline re-matched to someone else, a proposal
//! left to expire (recorded by `system`), visits (one voided, one no-show),
//! a visit confirmed and its assignment completed, a request closed with
//! its impact. Every plan passes the worker's independent checker against
//! the problem the run solved, and no plan has days in a half-term that had
//! ended at the run's time (the configured calendar). Half-way, one
//! practitioner's personal data is erased: then the log verifies, exports,
//! imports into a new folder and verifies there; `show`, `list` and `sar`
//! show them as erased; and their name, email, phone and notes are found in
//! no file of the data folder, the key store, the export or the restored
//! folder, nor in anything any command printed. Every command that should
//! be refused exits 2 and leaves `log verify`'s count and head hash as they
//! were.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use bridges_engine::config::Config;
use bridges_schemas::brokerage::{BrokeragePlan, BrokerageProblem};
use bridges_schemas::{Plan, Problem};
use bridges_tests::{binary, run, shared_data};

/// The practitioner whose personal data is erased half-way, and everything
/// of theirs that must not survive it.
const ERASED_ID: &str = "p-09";
const ERASED_SECRETS: [&str; 5] = [
    "Quillfeather",
    "Nakamura",
    "t.quillfeather@moorcroft.example",
    "07700 900461",
    "sensory circuits with the Year 9 team",
];

/// The LA's spreadsheet of practitioners: real Hillingdon home schools,
/// invented people. `p-10` is a governor of Park Academy West London.
const PRACTITIONERS: &str = "\
Practitioner ID,Name,Email,Phone,Title,Home URN,Specialisms,Phases,Day rate,2026-AU1,2026-AU2,Max days,Conflicts
p-01,Amara Okafor,a.okafor@oakfarm.example,,SLE,102430,maths,primary,,4,4,12,
p-02,Ben Hughes,b.hughes@stswithun.example,,SLE,102421,english,primary,,3,3,10,
p-03,Chloe Adeyemi,c.adeyemi@johnlocke.example,,LLE,140387,leadership;assessment,primary,,3,4,20,
p-04,David Mensah,d.mensah@vyners.example,,NLE,137635,leadership,secondary,,2,3,15,
p-05,Esther Kowalski,e.kowalski@ruisliphigh.example,,SLE,140748,science;maths,secondary,,3,3,12,
p-06,Farid Rahman,f.rahman@newnham.example,,SLE,102393,english;maths,primary,,3,3,12,
p-07,Grace Lindqvist,g.lindqvist@fieldend.example,,SLE,102379,early-years,primary;nursery,,2,2,8,
p-09,Thaddeus Quillfeather-Nakamura,t.quillfeather@moorcroft.example,07700 900461,Senior Practitioner,138158,send,special;primary,,3,3,12,
p-10,Hannah Osei,h.osei@northwood.example,,SLE,137829,maths,secondary,,2,2,8,school:145121:governor
";

/// The term's requests, each need fitting its school's phase. r-09 asks for
/// post-16 support nobody offers; r-04's only other fit is conflicted.
const REQUESTS: &str = "\
Request ID,URN,Need,2026-AU1,2026-AU2,Tier,Titles accepted,Funding,Purchase order
r-01,139275,maths,2,1,follow,SLE;LLE,la_core,
r-02,102438,english,2,1,follow,SLE,school_paid,PO-4471
r-03,137078,leadership,1,2,follow,NLE;LLE,la_core,
r-04,145121,maths,,2,follow,SLE,la_core,
r-05,137407,science,2,,follow,SLE,trust,
r-06,141055,early-years,1,1,3,SLE,la_core,
r-07,102462,send,2,1,2,SLE;Senior Practitioner,la_core,
r-08,131638,maths,,2,3,SLE,school_paid,PO-5120
r-09,102451,post-16,,2,2,SLE;LLE,la_core,
r-10,102385,english,1,,4,SLE,la_core,
";

/// Raised late in Autumn 1 (21 October): its Autumn 1 day can no longer be
/// planned by the next run, on 2 November.
const LATE_REQUEST: &str = "\
Request ID,URN,Need,2026-AU1,2026-AU2,Tier,Titles accepted,Funding,Purchase order
r-11,102407,assessment,1,2,3,LLE,la_core,
";

/// Four schools inspected since April 2024, under the newer frameworks.
const NEWER_INSPECTIONS: [&str; 4] = [
    "139275,report_card,2026-03-10,,,,,,,,Needs attention,Needs attention,Expected standard,Expected standard,Expected standard,Needs attention,Met",
    "102438,sub_judgements,2025-01-22,,Requires improvement,Good,Good,Requires improvement,Good,,,,,,,,Met",
    "145121,report_card,2026-02-04,,,,,,,,Urgent improvement,Needs attention,Needs attention,Expected standard,Expected standard,Needs attention,Met",
    "137407,overall,2024-11-06,Requires improvement,,,,,,,,,,,,,",
];

const MON_14: &str = "2026-09-14T09:00:00Z";
const MON_21: &str = "2026-09-21T09:00:00Z";
const MON_2_NOV: &str = "2026-11-02T09:00:00Z";
const BROKER: &str = "broker-1";

/// A matching run: its report, the documents it solved and wrote, and the
/// (request, practitioner) pairs it proposed.
struct Run {
    report: String,
    problem: BrokerageProblem,
    plan: BrokeragePlan,
    proposed: BTreeSet<(String, String)>,
}

impl Run {
    /// Who this run proposed on `request`.
    fn to(&self, request: &str) -> Option<&str> {
        self.proposed.iter().find(|(r, _)| r == request).map(|(_, p)| p.as_str())
    }
}

/// The data folder, and everything every command printed.
struct Term {
    dir: tempfile::TempDir,
    data: PathBuf,
    transcript: Vec<u8>,
}

impl Term {
    fn new() -> Term {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        Term { dir, data, transcript: Vec::new() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `bridges --data DATA --at AT --as USER ARGS`, its output kept for the search.
    fn run_on(&mut self, data: &Path, at: &str, user: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new(binary("bridges"));
        cmd.arg("--data").arg(data).args(["--at", at, "--as", user]).args(args);
        for v in ["BRIDGES_USER", "BRIDGES_DATA_DIR", "BRIDGES_CONFIG"] {
            cmd.env_remove(v);
        }
        // The engine's own log output is searched too.
        cmd.env("RUST_LOG", "info,bridges_engine=debug,bridges_worker=debug");
        let out = run(&mut cmd);
        self.transcript.extend_from_slice(&out.stdout);
        self.transcript.extend_from_slice(&out.stderr);
        out
    }

    fn run(&mut self, at: &str, user: &str, args: &[&str]) -> Output {
        let data = self.data.clone();
        self.run_on(&data, at, user, args)
    }

    /// Succeeds; its stdout.
    fn ok(&mut self, at: &str, user: &str, args: &[&str]) -> String {
        let out = self.run(at, user, args);
        assert!(
            out.status.success(),
            "{args:?} failed ({:?}): {}{}",
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// As the broker.
    fn broker(&mut self, at: &str, args: &[&str]) -> String {
        self.ok(at, BROKER, args)
    }

    /// `log verify`'s count and head hash.
    fn head(&mut self) -> String {
        let data = self.data.clone();
        verified(&self.verify(&data))
    }

    fn verify(&mut self, data: &Path) -> String {
        let out = self.run_on(data, MON_14, BROKER, &["log", "verify"]);
        assert!(out.status.success(), "verify {}: {}", data.display(), text(&out.stderr));
        text(&out.stdout)
    }

    /// Exits 2 with one line on stderr and leaves the log as it was; the line.
    fn refused(&mut self, at: &str, user: &str, args: &[&str]) -> String {
        let before = self.head();
        let out = self.run(at, user, args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}{err}", text(&out.stdout));
        assert_eq!(self.head(), before, "{args:?} wrote nothing");
        err
    }

    /// `bridges import KIND FILE` at `at`.
    fn import(&mut self, at: &str, kind: &str, file: &Path, extra: &[&str]) -> Output {
        let file = file.to_str().expect("utf-8 path").to_owned();
        let mut args = vec!["import", kind, &file];
        args.extend_from_slice(extra);
        self.run(at, BROKER, &args)
    }

    /// A matching run with its documents saved, checked, and its report.
    fn match_run(&mut self, at: &str, run: &str) -> Run {
        let problem = self.path(&format!("{run}-problem.json"));
        let plan = self.path(&format!("{run}-plan.json"));
        let report = self.broker(
            at,
            &[
                "match",
                "--run",
                run,
                "--time-limit",
                "10",
                "--save-problem",
                problem.to_str().expect("utf-8"),
                "--save-plan",
                plan.to_str().expect("utf-8"),
            ],
        );
        let (problem, plan) = checked(&problem, &plan, at);
        assert!(report.contains(&format!("Run {run}: status optimal")), "{report}");
        let proposed = self.proposed_by(at, run);
        assert!(
            report.contains(&format!(
                "status optimal, {} proposal{}",
                proposed.len(),
                if proposed.len() == 1 { "" } else { "s" }
            )),
            "{report}"
        );
        Run { report, problem, plan, proposed }
    }

    /// The assignments of `request` as `assignment list` gives them:
    /// (id, practitioner, status).
    fn assignments(&mut self, at: &str, request: &str) -> Vec<(String, String, String)> {
        let list = self.broker(at, &["assignment", "list", "--request", request]);
        list.lines()
            .filter_map(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                (cols.len() > 3 && cols[1] == request)
                    .then(|| (cols[0].to_owned(), cols[2].to_owned(), cols[3].to_owned()))
            })
            .collect()
    }

    /// What run `run` proposed: (request, practitioner) of every assignment
    /// it recorded (their ids are `<run>-a<n>`).
    fn proposed_by(&mut self, at: &str, run: &str) -> BTreeSet<(String, String)> {
        let list = self.broker(at, &["assignment", "list"]);
        let prefix = format!("{run}-a");
        list.lines()
            .filter_map(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                (cols.len() > 3 && cols[0].starts_with(&prefix))
                    .then(|| (cols[1].to_owned(), cols[2].to_owned()))
            })
            .collect()
    }

    /// The one assignment of `request` in `status`.
    fn one(&mut self, at: &str, request: &str, status: &str) -> (String, String) {
        let all = self.assignments(at, request);
        let found: Vec<_> = all.iter().filter(|(_, _, s)| s == status).collect();
        assert_eq!(found.len(), 1, "one {status} assignment of {request}: {all:?}");
        (found[0].0.clone(), found[0].1.clone())
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// "N events verified, head hash H" of a `log verify` line.
fn verified(out: &str) -> String {
    let line = out.lines().next().unwrap_or_default();
    let cut = line.find(", head hash ").map(|i| i + ", head hash ".len() + 64);
    match (line.strip_prefix("ok: "), cut) {
        (Some(_), Some(end)) if line.len() >= end => line["ok: ".len()..end].to_owned(),
        _ => panic!("not a verify line: {out}"),
    }
}

/// The count of a `verified` string.
fn events(verified: &str) -> u64 {
    verified.split_whitespace().next().and_then(|n| n.parse().ok()).expect("a count")
}

/// The line of `out` that holds every one of `parts`.
fn line_with<'a>(out: &'a str, parts: &[&str]) -> &'a str {
    out.lines()
        .find(|l| parts.iter().all(|p| l.contains(p)))
        .unwrap_or_else(|| panic!("no line with {parts:?} in:\n{out}"))
}

/// Reads a run's documents, checks the plan against the problem with the
/// worker's independent checker, and checks no planned half-term had ended
/// at the run's time by the configured calendar.
fn checked(problem: &Path, plan: &Path, at: &str) -> (BrokerageProblem, BrokeragePlan) {
    let read = |p: &Path| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let Problem::Brokerage(problem) = serde_json::from_slice(&read(problem)).expect("a problem")
    else {
        panic!("not a brokerage problem")
    };
    let Plan::Brokerage(plan) = serde_json::from_slice(&read(plan)).expect("a plan") else {
        panic!("not a brokerage plan")
    };
    let violations = bridges_worker::brokerage::check::check(&problem, &plan);
    assert!(violations.is_empty(), "the plan breaks the contract: {violations:?}");
    let today = &at[..10];
    let config = Config::built_in().expect("the built-in configuration");
    let ended: BTreeSet<String> = config
        .calendar
        .half_terms()
        .iter()
        .filter(|h| h.last.to_string().as_str() < today)
        .map(|h| h.label.to_string())
        .collect();
    assert!(ended.contains("2026-SU2"), "the calendar knows the last year: {ended:?}");
    for period in &problem.periods {
        assert!(!ended.contains(period.as_str()), "{period} had ended on {today}");
    }
    for r in &problem.requests {
        for period in r.days.keys() {
            assert!(!ended.contains(period.as_str()), "{} asks {period} on {today}", r.id);
        }
    }
    for a in &plan.assignments {
        for period in a.days.keys() {
            assert!(!ended.contains(period.as_str()), "{} in {period} on {today}", a.request);
        }
    }
    (problem, plan)
}

/// Every file under `dir` (none when it is absent).
fn walk(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Whether `bytes` holds `secret`, ignoring ASCII case.
fn holds(bytes: &[u8], secret: &str) -> bool {
    let secret = secret.as_bytes();
    bytes.windows(secret.len()).any(|w| w.eq_ignore_ascii_case(secret))
}

/// The inspections file: each school's Ofsted grade of April 2024
/// (../shared/data/ofsted) as an `overall` outcome, for the schools the
/// engine holds (`schools`), and the four newer inspections in their own
/// frameworks.
fn inspections(schools: &BTreeSet<String>, ofsted: &Path) -> (String, usize) {
    let newer: BTreeSet<&str> =
        NEWER_INSPECTIONS.iter().map(|l| l.split(',').next().expect("urn")).collect();
    let mut out = String::from(
        "URN,Framework,Published,Overall,Quality of education,Behaviour and attitudes,Personal development,Leadership and management,Early years,Sixth form,Leadership and governance,Curriculum and teaching,Achievement,Attendance and behaviour,Personal development and wellbeing,Inclusion,Safeguarding\n",
    );
    let mut rows = 0;
    let ofsted = std::fs::read_to_string(ofsted).expect("read the Ofsted grades");
    let header: Vec<&str> = ofsted.lines().next().expect("a header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (urn, la, rating) = (col("unique_reference_number"), col("authority_code"), col("rating"));
    for line in ofsted.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        if cols[la] == "312"
            && schools.contains(cols[urn])
            && !newer.contains(cols[urn])
            && !cols[rating].is_empty()
        {
            out.push_str(&format!(
                "{},overall,2024-04-01,{},,,,,,,,,,,,,\n",
                cols[urn], cols[rating]
            ));
            rows += 1;
        }
    }
    for line in NEWER_INSPECTIONS {
        out.push_str(line);
        out.push('\n');
        rows += 1;
    }
    (out, rows)
}

#[test]
fn a_term_on_the_real_hillingdon_schools() {
    let gias = shared_data().join("hillingdon_ealing_schools.csv");
    let ofsted =
        shared_data().join("ofsted/wrm65_school_ofsted_rating_2024-04_hillingdon_ealing.csv");
    if !gias.exists() || !ofsted.exists() {
        assert!(std::env::var_os("CI").is_none(), "{} is missing and CI is set", gias.display());
        eprintln!("note: {} is absent; skipping the term on real data", gias.display());
        return;
    }
    let started = Instant::now();
    let mut term = Term::new();
    let import_at = "2026-09-14T08:00:00Z";

    // The imports, as the LA's files arrive on the first Monday.
    let out = term.import(import_at, "gias", &gias, &["--la", "312"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("100 applied, 0 unchanged, 13 skipped, 0 rejected"),
        "{}",
        text(&out.stdout)
    );
    let list = term.broker(import_at, &["school", "list"]);
    assert!(list.contains("\n100 schools"), "{list}");
    let schools: BTreeSet<String> = list
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|u| u.len() == 6 && u.parse::<u32>().is_ok())
        .map(str::to_owned)
        .collect();
    assert_eq!(schools.len(), 100);
    let (inspections_csv, rows) = inspections(&schools, &ofsted);
    let file = term.path("inspections.csv");
    std::fs::write(&file, inspections_csv).expect("write");
    let out = term.import(import_at, "inspections", &file, &[]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}{}", text(&out.stderr));
    assert!(
        report.contains(&format!("{rows} rows: ")) && report.contains(" 0 rejected"),
        "{report}"
    );
    let people = term.path("practitioners.csv");
    std::fs::write(&people, PRACTITIONERS).expect("write");
    let out = term.import(import_at, "practitioners", &people, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("9 rows: 9 applied"), "{}", text(&out.stdout));
    let requests = term.path("requests.csv");
    std::fs::write(&requests, REQUESTS).expect("write");
    let out = term.import(import_at, "requests", &requests, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("10 rows: 10 applied"), "{}", text(&out.stdout));
    // The search below can find what it looks for: the spreadsheet (kept
    // outside the data folder) holds every secret.
    for secret in ERASED_SECRETS.iter().take(4) {
        assert!(holds(PRACTITIONERS.as_bytes(), secret), "{secret}");
    }

    // Risk from the inspections: the report card with urgent improvement is
    // serious (tier 1), requires improvement a concern (tier 2), and the
    // requests that follow the school's risk take its tier.
    let shown = term.broker(import_at, &["school", "show", "145121"]);
    line_with(&shown, &["inspection", "report card, published 2026-02-04 (standing serious)"]);
    line_with(&shown, &["risk", "tier 1"]);
    let shown = term.broker(import_at, &["school", "show", "102438"]);
    line_with(&shown, &["inspection", "published 2025-01-22 (standing concern)"]);
    line_with(&shown, &["risk", "tier 2"]);
    let shown = term.broker(import_at, &["request", "show", "r-04"]);
    line_with(&shown, &["tier", "follows the school's risk (now 1)"]);

    // Run 1, Monday 14 September.
    let first = term.match_run(MON_14, "2026-W38");
    let report = &first.report;
    assert_eq!(first.problem.requests.len(), 10, "every request is open");
    assert_eq!(first.problem.periods.first().map(|p| p.as_str()), Some("2026-AU1"));
    assert_eq!(first.proposed.len(), 9, "one proposal per request but r-09:\n{report}");
    for r in ["r-01", "r-02", "r-03", "r-04", "r-05", "r-06", "r-07", "r-08", "r-10"] {
        assert!(first.to(r).is_some(), "{r} proposed in run 1:\n{report}");
    }
    assert_eq!(first.to("r-07"), Some(ERASED_ID), "only p-09 offers send");
    assert_eq!(first.to("r-04"), Some("p-05"), "p-10 governs 145121");
    assert!(
        first.plan.unmet.iter().any(|u| u.request.as_str() == "r-09"),
        "nobody offers post-16: {:?}",
        first.plan.unmet
    );
    line_with(report, &["r-07", ERASED_ID]);
    // The unmet reason reads as the contract's code.
    line_with(report, &["r-09", "no_eligible_practitioner", "post-16"]);

    // Tuesday: the practitioners answer; r-02's declines; r-08's says nothing.
    let tue = "2026-09-15T10:00:00Z";
    let mut accepted = Vec::new();
    for r in ["r-01", "r-03", "r-04", "r-05", "r-06", "r-07", "r-10"] {
        let (id, who) = term.one(tue, r, "proposed");
        let out = term.ok(tue, &who, &["assignment", "accept", &id]);
        assert!(out.contains("AssignmentAccepted"), "{out}");
        accepted.push((r, id, who));
    }
    let (declined, decliner) = term.one(tue, "r-02", "proposed");
    let out = term.ok(
        tue,
        &decliner,
        &["assignment", "decline", &declined, "--reason", "no_release", "--note", "Ofsted due"],
    );
    assert!(out.contains("AssignmentDeclined"), "{out}");
    let (unanswered, _) = term.one(tue, "r-08", "proposed");
    let id_of = |r: &str| accepted.iter().find(|a| a.0 == r).expect("accepted").1.clone();
    let (a01, a03, a07) = (id_of("r-01"), id_of("r-03"), id_of("r-07"));

    // Refused: the declined proposal cannot be accepted, nor the decliner
    // proposed on it again by hand (rule 9).
    let err = term.refused(tue, &decliner, &["assignment", "accept", &declined]);
    assert!(err.contains(&format!("assignment = {declined}")), "{err}");
    let err = term.refused(
        tue,
        BROKER,
        &[
            "assignment",
            "propose",
            "--request",
            "r-02",
            "--practitioner",
            &decliner,
            "--days",
            "2026-AU1=2",
        ],
    );
    assert!(err.contains("rule 9"), "{err}");

    // Visits on r-01: v1 recorded twice by mistake and voided, v2 stands.
    let thu = "2026-09-17T16:00:00Z";
    term.broker(thu, &["assignment", "visit", &a01, "--on", "2026-09-17", "--half-days", "2"]);
    term.broker(thu, &["assignment", "visit", &a01, "--on", "2026-09-17", "--half-days", "2"]);
    term.broker(
        thu,
        &["assignment", "void-visit", &a01, "--visit", "v1", "--reason", "recorded twice"],
    );
    let err = term.refused(
        thu,
        BROKER,
        &["assignment", "void-visit", &a01, "--visit", "v1", "--reason", "again"],
    );
    assert!(err.contains("v1"), "{err}");
    // p-09's first contact and visit at Meadow High, with notes under their key.
    term.broker(
        "2026-09-16T12:00:00Z",
        &[
            "assignment",
            "contact",
            &a07,
            "--on",
            "2026-09-16",
            "--note",
            "Called the SENCo; sensory circuits with the Year 9 team first",
        ],
    );
    term.broker(
        thu,
        &[
            "assignment",
            "visit",
            &a07,
            "--on",
            "2026-09-17",
            "--half-days",
            "2",
            "--note",
            "Observed sensory circuits with the Year 9 team",
        ],
    );
    let shown = term.broker(thu, &["assignment", "show", &a07]);
    assert!(holds(shown.as_bytes(), ERASED_SECRETS[4]), "the note opens before erasure:\n{shown}");

    // Run 2, Monday 21 September: r-02 goes to someone else; r-08's proposal
    // is still within its window (to the 21st) and is neither expired nor
    // proposed again.
    let run2 = term.match_run(MON_21, "2026-W39");
    let report = &run2.report;
    assert_eq!(run2.proposed.len(), 1, "only r-02 is proposed again:\n{report}");
    let second = run2.to("r-02").unwrap_or_else(|| panic!("r-02 re-matched:\n{report}"));
    assert_ne!(second, decliner, "never the decliner");
    assert!(
        run2.problem
            .exclusions
            .iter()
            .any(|e| e.request.as_str() == "r-02" && e.practitioner.as_str() == decliner),
        "the decline is an exclusion (rule 9)"
    );
    assert!(report.contains("0 overdue proposals expired first"), "{report}");
    let list = term.assignments(MON_21, "r-02");
    assert_eq!(list.len(), 2, "{list:?}");
    assert!(
        list.iter().any(|(id, who, s)| *id == declined && *who == decliner && s == "declined"),
        "{list:?}"
    );
    let (rematched, who) = term.one(MON_21, "r-02", "proposed");
    assert_eq!(who, second);
    let list = term.assignments(MON_21, "r-08");
    assert_eq!(list, [(unanswered.clone(), list[0].1.clone(), "proposed".to_owned())]);
    let wed = "2026-09-23T09:00:00Z";
    term.ok(wed, &who, &["assignment", "accept", &rematched]);
    for (r, id) in [("r-01", &a01), ("r-02", &rematched)] {
        let shown = term.broker(wed, &["request", "show", r]);
        line_with(&shown, &[id.as_str(), "accepted"]);
    }

    // A no-show on r-03, charged; v2 of r-01 confirmed by the school, the
    // work completed and the request closed with its impact.
    term.broker(
        "2026-09-29T17:00:00Z",
        &[
            "assignment",
            "cancel-visit",
            &a03,
            "--on",
            "2026-09-29",
            "--half-days",
            "2",
            "--no-show",
            "--charged",
        ],
    );
    let shown = term.broker("2026-09-29T17:00:00Z", &["assignment", "show", &a03]);
    line_with(&shown, &["VisitCancelled"]);
    term.ok(
        "2026-09-30T09:00:00Z",
        "school-139275",
        &["assignment", "confirm-visit", &a01, "--visit", "v2"],
    );
    term.broker("2026-10-01T09:00:00Z", &["assignment", "complete", &a01]);
    term.broker(
        "2026-10-02T09:00:00Z",
        &["request", "close", "r-01", "--impact", "moderate", "--note", "Year 4 arithmetic up"],
    );
    let shown = term.broker("2026-10-02T10:00:00Z", &["request", "show", "r-01"]);
    line_with(&shown, &["status", "closed"]);
    line_with(&shown, &[&a01, "completed"]);
    line_with(&shown, &["VisitVoided", BROKER]);
    line_with(&shown, &["VisitConfirmed", "school-139275"]);
    line_with(&shown, &["RequestClosed", BROKER, "2026-10-02T09:00:00Z"]);
    let err = term.refused(
        "2026-10-02T10:00:00Z",
        BROKER,
        &["request", "close", "r-01", "--impact", "limited"],
    );
    assert!(err.contains("request = r-01"), "{err}");
    let open = term.broker("2026-10-02T10:00:00Z", &["request", "list", "--open"]);
    assert!(!open.contains("r-01 ") && open.contains("r-02 "), "{open}");

    // Half-way, Monday 5 October: p-09 is erased.
    let before = term.path("sar-before.json");
    term.broker(
        "2026-10-05T09:00:00Z",
        &["practitioner", "sar", ERASED_ID, "--out", before.to_str().expect("utf-8")],
    );
    let sar = std::fs::read(&before).expect("read");
    assert!(ERASED_SECRETS.iter().all(|s| holds(&sar, s)), "the export holds all before erasure");
    let out = term.broker("2026-10-05T10:00:00Z", &["practitioner", "erase", ERASED_ID]);
    let printed_before_erasure = term.transcript.len();
    assert!(out.contains("PersonalDataErased"), "{out}");
    let head_after_erasure = term.head();
    let err = term.refused("2026-10-05T10:00:00Z", BROKER, &["practitioner", "erase", ERASED_ID]);
    assert!(err.contains("[personal_data_erased]"), "{err}");
    // The LA's spreadsheet still lists them: the row is skipped, nothing written.
    let out = term.import("2026-10-05T11:00:00Z", "practitioners", &people, &[]);
    let report = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{report}{}", text(&out.stderr));
    assert!(report.contains("9 rows: 0 applied, 8 unchanged, 1 skipped"), "{report}");
    assert_eq!(term.head(), head_after_erasure);

    // Verify, export, import the export into a new folder, verify there.
    let export = term.broker("2026-10-05T12:00:00Z", &["log", "export"]);
    let export_file = term.path("export.ndjson");
    std::fs::write(&export_file, &export).expect("write");
    let restored = term.path("restored");
    let out = term.run_on(
        &restored,
        "2026-10-05T12:00:00Z",
        BROKER,
        &["log", "import", export_file.to_str().expect("utf-8")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let verified_here = term.head();
    let restored_here = verified(&term.verify(&restored));
    assert_eq!(restored_here, verified_here, "the restored log is the same log");

    // Views show the practitioner as erased; their assignments remain.
    let shown = term.broker("2026-10-05T12:00:00Z", &["practitioner", "show", ERASED_ID]);
    line_with(&shown, &["status", "erased"]);
    let list = term.broker("2026-10-05T12:00:00Z", &["practitioner", "list"]);
    assert!(line_with(&list, &[ERASED_ID]).contains("(erased)"), "{list}");
    assert_eq!(list.lines().filter(|l| l.starts_with("p-")).count(), 9, "{list}");
    let shown = term.broker("2026-10-05T12:00:00Z", &["assignment", "show", &a07]);
    line_with(&shown, &["v1", "(erased)"]);
    let after = term.path("sar-after.json");
    term.broker(
        "2026-10-05T12:00:00Z",
        &["practitioner", "sar", ERASED_ID, "--out", after.to_str().expect("utf-8")],
    );
    let sar: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&after).expect("read")).expect("JSON");
    assert_eq!(sar["personal_data"], "erased");
    assert!(
        sar["assignments"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["assignment"] == a07.as_str()))
    );
    let restored_show = term.run_on(
        &restored,
        "2026-10-05T12:00:00Z",
        BROKER,
        &["practitioner", "show", ERASED_ID],
    );
    assert!(restored_show.status.success(), "{}", text(&restored_show.stderr));
    line_with(&text(&restored_show.stdout), &["status", "erased"]);

    // 21 October, late in Autumn 1: a new request.
    let late = term.path("late.csv");
    std::fs::write(&late, LATE_REQUEST).expect("write");
    let out = term.import("2026-10-21T09:00:00Z", "requests", &late, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Refused after half-term: a new request for days in the ended Autumn 1.
    let ended = term.path("ended.csv");
    std::fs::write(&ended, LATE_REQUEST.replace("r-11", "r-12")).expect("write");
    let before = term.head();
    let out = term.import(MON_2_NOV, "requests", &ended, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("2026-AU1"), "{}", text(&out.stdout));
    assert_eq!(term.head(), before, "the refused row wrote nothing");
    let err =
        term.refused(MON_2_NOV, BROKER, &["match", "--save-plan", "/nonexistent-folder/plan.json"]);
    assert!(err.contains("--save-plan = /nonexistent-folder/plan.json"), "{err}");

    // Run 3, Monday 2 November (Autumn 1 ended on 23 October): r-08's
    // proposal is found expired and recorded by system, and r-08 is
    // proposed again; r-11 is planned in Autumn 2 only; p-09 is planned no
    // more but keeps their accepted days.
    let run3 = term.match_run(MON_2_NOV, "2026-W45");
    let (report, problem, plan) = (&run3.report, &run3.problem, &run3.plan);
    assert_eq!(problem.periods.first().map(|p| p.as_str()), Some("2026-AU2"));
    // p-09 holds r-07's Autumn 2 day: in the problem with that day as their
    // capacity, pinned, and proposed nothing new.
    let pinned: Vec<_> =
        problem.pinned.iter().filter(|p| p.practitioner.as_str() == ERASED_ID).collect();
    assert_eq!(pinned.len(), 1, "{pinned:?}");
    assert_eq!(pinned[0].request.as_str(), "r-07");
    let erased = problem
        .practitioners
        .iter()
        .find(|p| p.id.as_str() == ERASED_ID)
        .expect("the holder of a pin is in the problem");
    assert_eq!(erased.capacity, pinned[0].days, "capacity = pins");
    assert!(!run3.proposed.iter().any(|(_, p)| p == ERASED_ID), "{report}");
    let r11 = plan
        .assignments
        .iter()
        .find(|a| a.request.as_str() == "r-11")
        .unwrap_or_else(|| panic!("r-11:\n{report}"));
    assert_eq!(r11.days.keys().map(|p| p.as_str()).collect::<Vec<_>>(), ["2026-AU2"]);
    let shown = term.broker(MON_2_NOV, &["assignment", "show", &unanswered]);
    line_with(&shown, &["status", "expired"]);
    line_with(&shown, &["AssignmentExpired", "system", "no answer by 2026-09-21"]);
    assert!(run3.to("r-08").is_some(), "an expiry is not a decline:\n{report}");
    assert!(report.contains("1 overdue proposals expired first"), "{report}");
    let err = term.refused(MON_2_NOV, BROKER, &["assignment", "accept", &unanswered]);
    assert!(err.contains("[expired]"), "{err}");

    // The search: nothing the term wrote or printed holds the erased data.
    let keys = term.path("data-keys");
    assert!(!walk(&keys).is_empty(), "the key store holds the others' keys");
    let mut searched = 0;
    for file in
        [walk(&term.data), walk(&keys), walk(&restored), vec![export_file.clone(), after.clone()]]
            .concat()
    {
        let bytes = std::fs::read(&file).expect("read");
        for secret in ERASED_SECRETS {
            assert!(!holds(&bytes, secret), "{secret:?} in {}", file.display());
        }
        searched += 1;
    }
    // No command ever printed the name, email or phone (the engine's log
    // output included); the note, which `assignment show` opened before the
    // erasure, no command printed since.
    for secret in &ERASED_SECRETS[..4] {
        assert!(!holds(&term.transcript, secret), "{secret:?} printed by a command");
    }
    assert!(
        holds(&term.transcript[..printed_before_erasure], ERASED_SECRETS[4]),
        "the search finds what was printed"
    );
    let since = &term.transcript[printed_before_erasure..];
    assert!(!holds(since, ERASED_SECRETS[4]), "the note printed after the erasure");
    let final_head = term.head();
    assert!(events(&final_head) > events(&head_after_erasure));
    eprintln!(
        "term: {} events, {searched} files searched, {} bytes of output searched, {:.1} s",
        events(&final_head),
        term.transcript.len(),
        started.elapsed().as_secs_f64()
    );
}
