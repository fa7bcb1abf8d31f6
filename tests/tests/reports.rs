//! The LA's reports, end to end through the real `bridges` binary, on a
//! year of a small generated partnership (`bridges year --synthetic`):
//! the CSVs against an independent recount from the exported NDJSON log
//! (serde_json over the export, the calendar from the configuration, none
//! of the engine's projections or report code); `--as-of` a position in
//! the middle of the year against the report of the log exported
//! `--through` it and imported afresh; `problem export --as-of` against the
//! problem hash each run recorded; the year's determinism (same seed, same
//! log but for the fields that cannot repeat); and the HTML page in a real
//! headless chromium: no console message, no network request, a mark per
//! CSV row in each chart, tables that parse to the CSVs' cells, and a
//! screenshot that is not blank.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use bridges_tests::{binary, run, workspace_root};
use serde_json::Value;

/// A configuration for a small partnership: 40 schools, 16 practitioners,
/// 24 requests a half-term.
fn small_config(dir: &Path) -> PathBuf {
    sized_config(dir, 40, 16, 24)
}

/// A configuration for a generated partnership of this size.
fn sized_config(dir: &Path, schools: usize, practitioners: usize, requests: usize) -> PathBuf {
    let text = std::fs::read_to_string(workspace_root().join("config/default.toml"))
        .expect("default config");
    let text = text
        .replace("schools = 100", &format!("schools = {schools}"))
        .replace("practitioners = 40", &format!("practitioners = {practitioners}"))
        .replace("requests = 80", &format!("requests = {requests}"));
    let path = dir.join(format!("size-{schools}.toml"));
    std::fs::write(&path, text).expect("write config");
    path
}

fn bridges(config: &Path, data: &Path, args: &[&str]) -> String {
    let out = run(Command::new(binary("bridges"))
        .arg("--config")
        .arg(config)
        .arg("--data")
        .arg(data)
        .args(args));
    assert!(
        out.status.success(),
        "bridges {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn year(config: &Path, data: &Path, weeks: usize, seed: u64) -> String {
    let weeks = weeks.to_string();
    let seed = seed.to_string();
    bridges(config, data, &["year", "--synthetic", "--weeks", &weeks, "--seed", &seed])
}

/// The log's head, as `log verify` counts it.
fn head(config: &Path, data: &Path) -> u64 {
    let out = bridges(config, data, &["log", "verify"]);
    out.split_whitespace()
        .filter_map(|w| w.parse::<u64>().ok())
        .next()
        .unwrap_or_else(|| panic!("no count in {out}"))
}

/// A year of 20 term weeks (into the spring) of 60 schools, 24
/// practitioners and 40 requests a half-term, its export and its report,
/// made once for the tests that read them.
struct Fixture {
    _dir: tempfile::TempDir,
    config: PathBuf,
    data: PathBuf,
    export: PathBuf,
    report: PathBuf,
    summary: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = sized_config(dir.path(), 60, 24, 40);
        let data = dir.path().join("data");
        let summary = year(&config, &data, 20, 11);
        let export = dir.path().join("log.ndjson");
        bridges(&config, &data, &["log", "export", "--out", export.to_str().expect("path")]);
        let report = dir.path().join("report");
        bridges(&config, &data, &["report", "--out", report.to_str().expect("path")]);
        Fixture { _dir: dir, config, data, export, report, summary }
    })
}

/// A CSV file's header and rows, checking its byte-order mark.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "{} has no byte-order mark", path.display());
    let mut reader = csv::ReaderBuilder::new().from_reader(&bytes[3..]);
    let header = reader.headers().expect("header").iter().map(str::to_owned).collect();
    let rows = reader
        .records()
        .map(|r| r.expect("a CSV row").iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// Rows as maps from header to cell.
fn records(path: &Path) -> Vec<BTreeMap<String, String>> {
    let (header, rows) = read_csv(path);
    rows.into_iter().map(|r| header.iter().cloned().zip(r).collect()).collect()
}

/// Pence from `1234.50`.
fn pence(cell: &str) -> u64 {
    let (p, d) = cell.split_once('.').unwrap_or_else(|| panic!("not money: {cell:?}"));
    assert_eq!(d.len(), 2, "pence have two digits: {cell:?}");
    p.parse::<u64>().expect("pounds") * 100 + d.parse::<u64>().expect("pence")
}

/// Half days from `1.5`.
fn half_days(cell: &str) -> u64 {
    match cell.split_once('.') {
        Some((d, "5")) => d.parse::<u64>().expect("days") * 2 + 1,
        None => cell.parse::<u64>().expect("days") * 2,
        _ => panic!("not days: {cell:?}"),
    }
}

// --- the independent recount ---------------------------------------------------

/// The configured half-terms: label, academic year id, first and last day.
fn half_terms() -> Vec<(String, String, chrono::NaiveDate, chrono::NaiveDate)> {
    let config = bridges_engine::config::Config::built_in().expect("config");
    let mut out = Vec::new();
    for y in config.calendar.years() {
        let id = format!("{}-{:02}", y.starts, (y.starts + 1) % 100);
        for h in &y.half_terms {
            out.push((h.label.to_string(), id.clone(), h.first, h.last));
        }
    }
    out
}

fn fy(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    let s = if d.month() >= 4 { d.year() } else { d.year() - 1 };
    format!("{s}-{:02}", (s + 1) % 100)
}

#[derive(Debug, Default, Clone)]
struct Visit {
    on: String,
    half_days: u64,
    charged: bool,
}

#[derive(Debug, Default, Clone)]
struct Assignment {
    request: String,
    practitioner: String,
    days: BTreeMap<String, u64>,
    run: Option<String>,
    status: String,
    visits: BTreeMap<String, Visit>,
}

#[derive(Debug, Default)]
struct Recount {
    rate: BTreeMap<String, u64>,
    home: BTreeMap<String, String>,
    request: BTreeMap<String, (String, String, String)>, // urn, funding, purchase order
    fee: BTreeMap<String, u64>,
    assignments: BTreeMap<String, Assignment>,
    completed_runs: BTreeSet<String>,
    runs_in_order: Vec<String>,
    unmet: BTreeMap<String, usize>,
}

fn s(v: &Value, k: &str) -> String {
    match &v[k] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn recount(export: &Path) -> Recount {
    let text = std::fs::read_to_string(export).expect("export");
    let mut r = Recount::default();
    for line in text.lines() {
        let e: Value = serde_json::from_str(line).expect("an NDJSON line");
        if e.get("trailer").is_some() {
            continue;
        }
        let p = &e["payload"];
        match e["type"].as_str().expect("type") {
            "PractitionerDesignated" | "PractitionerChanged" => {
                r.rate.insert(s(p, "practitioner"), p["day_rate"].as_u64().expect("rate"));
                r.home.insert(s(p, "practitioner"), s(p, "home_urn"));
            }
            "SupportRequested" | "RequestAmended" => {
                let urn = match e["type"].as_str() {
                    Some("SupportRequested") => s(p, "urn"),
                    _ => r.request.get(&s(p, "request")).map(|x| x.0.clone()).unwrap_or_default(),
                };
                r.request.insert(s(p, "request"), (urn, s(p, "funding"), s(p, "purchase_order")));
            }
            "BrokerageFeeSet" => {
                r.fee.insert(s(p, "year"), p["basis_points"].as_u64().expect("bp"));
            }
            "MatchingRunCompleted" => {
                r.completed_runs.insert(s(p, "run"));
                r.runs_in_order.push(s(p, "run"));
            }
            "UnmetRecorded" => {
                *r.unmet.entry(s(p, "run")).or_default() +=
                    p["unmet"].as_array().expect("unmet").len();
            }
            "MatchingRunDiscarded" => {
                let run = s(p, "run");
                r.assignments.retain(|_, a| a.run.as_deref() != Some(&run));
            }
            "AssignmentProposed" => {
                let days = p["days"]
                    .as_object()
                    .expect("days")
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().expect("days")))
                    .collect();
                let run = p["run"].as_str().map(str::to_owned);
                r.assignments.insert(
                    s(p, "assignment"),
                    Assignment {
                        request: s(p, "request"),
                        practitioner: s(p, "practitioner"),
                        days,
                        run,
                        status: "proposed".into(),
                        visits: BTreeMap::new(),
                    },
                );
            }
            t @ ("AssignmentAccepted"
            | "AssignmentDeclined"
            | "AssignmentExpired"
            | "AssignmentWithdrawn"
            | "AssignmentCompleted") => {
                let status = t.trim_start_matches("Assignment").to_lowercase();
                if let Some(a) = r.assignments.get_mut(&s(p, "assignment")) {
                    a.status = status;
                }
            }
            "VisitRecorded" | "VisitCorrected" => {
                if let Some(a) = r.assignments.get_mut(&s(p, "assignment")) {
                    a.visits.insert(
                        s(p, "visit"),
                        Visit {
                            on: s(p, "on"),
                            half_days: p["half_days"].as_u64().expect("half days"),
                            charged: true,
                        },
                    );
                }
            }
            "VisitVoided" => {
                if let Some(v) = r
                    .assignments
                    .get_mut(&s(p, "assignment"))
                    .and_then(|a| a.visits.get_mut(&s(p, "visit")))
                {
                    v.charged = false;
                }
            }
            "VisitCancelled" => {
                if let Some(a) = r.assignments.get_mut(&s(p, "assignment")) {
                    a.visits.insert(
                        s(p, "visit"),
                        Visit {
                            on: s(p, "on"),
                            half_days: p["half_days"].as_u64().expect("half days"),
                            charged: p["charged"].as_bool().expect("charged"),
                        },
                    );
                }
            }
            _ => {}
        }
    }
    // A run's proposals count only once the run completed.
    r.assignments.retain(|_, a| a.run.as_ref().is_none_or(|run| r.completed_runs.contains(run)));
    r
}

impl Recount {
    fn committed(&self, a: &Assignment) -> bool {
        a.status == "accepted" || a.status == "completed"
    }

    fn year_of_date(&self, on: &str) -> Option<String> {
        let d: chrono::NaiveDate = on.parse().expect("a date");
        half_terms().into_iter().find(|h| h.2 <= d && d <= h.3).map(|h| h.1)
    }

    /// (cost, fee) in pence of each charged visit.
    fn visit_money(&self, a: &Assignment, v: &Visit) -> (u64, u64) {
        let cost = v.half_days * self.rate[&a.practitioner] * 100 / 2;
        let bp = self.year_of_date(&v.on).and_then(|y| self.fee.get(&y).copied()).unwrap_or(0);
        (cost, cost * bp / 10_000)
    }

    fn committed_pence(&self, a: &Assignment, period: &str, days: u64) -> u64 {
        let year = half_terms().into_iter().find(|h| h.0 == period).map(|h| h.1);
        let bp = year.and_then(|y| self.fee.get(&y).copied()).unwrap_or(0);
        let cost = days * self.rate[&a.practitioner] * 100;
        cost + cost * bp / 10_000
    }
}

/// School, funding source, financial year.
type Key = (String, String, String);
/// Committed days, committed pence, delivered half days, spent pence.
type Sums = (u64, u64, u64, u64);

#[test]
fn the_csvs_equal_an_independent_recount_of_the_exported_log() {
    let f = fixture();
    let r = recount(&f.export);
    assert!(r.completed_runs.len() == 20, "20 weekly runs, got {:?}", r.completed_runs);
    let accepted = r.assignments.values().filter(|a| r.committed(a)).count();
    let charged: usize =
        r.assignments.values().map(|a| a.visits.values().filter(|v| v.charged).count()).sum();
    assert!(
        accepted > 10 && charged > 20,
        "a year with work in it: {accepted} accepted, {charged} visits"
    );

    // assignments.csv: one row per counted assignment, with its state and money.
    let rows = records(&f.report.join("assignments.csv"));
    assert_eq!(rows.len(), r.assignments.len(), "one row per counted assignment");
    for row in &rows {
        let a = &r.assignments[&row["assignment"]];
        assert_eq!(row["status"], a.status, "{}", row["assignment"]);
        assert_eq!(row["request"], a.request);
        assert_eq!(row["practitioner"], a.practitioner);
        assert_eq!(row["days"], a.days.values().sum::<u64>().to_string());
        let committed: u64 = if r.committed(a) {
            a.days.iter().map(|(p, d)| r.committed_pence(a, p, *d)).sum()
        } else {
            0
        };
        assert_eq!(pence(&row["committed_gbp"]), committed, "{}", row["assignment"]);
        let visits: Vec<&Visit> = a.visits.values().filter(|v| v.charged).collect();
        assert_eq!(
            half_days(&row["delivered_days"]),
            visits.iter().map(|v| v.half_days).sum::<u64>()
        );
        let spent: u64 = visits
            .iter()
            .map(|v| {
                let (c, fee) = r.visit_money(a, v);
                c + fee
            })
            .sum();
        assert_eq!(pence(&row["spent_gbp"]), spent, "{}", row["assignment"]);
    }

    // days_and_cost.csv: totals per school, funding source and financial year.
    let mut expected: BTreeMap<Key, Sums> = BTreeMap::new();
    for a in r.assignments.values() {
        let (urn, funding, _) = &r.request[&a.request];
        if r.committed(a) {
            for (period, days) in &a.days {
                let h = half_terms().into_iter().find(|h| &h.0 == period).expect("half-term");
                let e = expected.entry((urn.clone(), funding.clone(), fy(h.2))).or_default();
                e.0 += days;
                e.1 += r.committed_pence(a, period, *days);
            }
        }
        for v in a.visits.values().filter(|v| v.charged) {
            let (c, fee) = r.visit_money(a, v);
            let e = expected
                .entry((urn.clone(), funding.clone(), fy(v.on.parse().expect("date"))))
                .or_default();
            e.2 += v.half_days;
            e.3 += c + fee;
        }
    }
    let mut found: BTreeMap<Key, Sums> = BTreeMap::new();
    for row in records(&f.report.join("days_and_cost.csv")) {
        let e = found
            .entry((row["urn"].clone(), row["funding"].clone(), row["financial_year"].clone()))
            .or_default();
        e.0 += row["committed_days"].parse::<u64>().expect("days");
        e.1 += pence(&row["committed_gbp"]);
        e.2 += half_days(&row["delivered_days"]);
        e.3 += pence(&row["spent_gbp"]);
    }
    assert_eq!(found, expected, "days and cost by school, funding and financial year");

    // owed.csv: receiving schools owe their school-paid visits (fee
    // included); home schools are owed every delivered day (before the fee).
    let mut owes: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for a in r.assignments.values() {
        let (urn, funding, _) = &r.request[&a.request];
        for v in a.visits.values().filter(|v| v.charged) {
            let (c, fee) = r.visit_money(a, v);
            if funding == "school_paid" {
                owes.entry(urn.clone()).or_default().0 += c + fee;
            }
            owes.entry(r.home[&a.practitioner].clone()).or_default().1 += c;
        }
    }
    let found: BTreeMap<String, (u64, u64)> = records(&f.report.join("owed.csv"))
        .into_iter()
        .map(|row| (row["urn"].clone(), (pence(&row["owes_gbp"]), pence(&row["is_owed_gbp"]))))
        .collect();
    assert_eq!(found, owes, "what each school owes and is owed");

    // recharges.csv: one line per charged school-paid visit, its purchase order.
    let lines = records(&f.report.join("recharges.csv"));
    let mut expected = BTreeSet::new();
    for (id, a) in &r.assignments {
        let (urn, funding, po) = &r.request[&a.request];
        if funding != "school_paid" {
            continue;
        }
        for (visit, v) in a.visits.iter().filter(|(_, v)| v.charged) {
            let (c, fee) = r.visit_money(a, v);
            expected.insert((urn.clone(), po.clone(), id.clone(), visit.clone(), c, fee));
        }
    }
    let found: BTreeSet<_> = lines
        .iter()
        .map(|l| {
            assert_eq!(pence(&l["total_gbp"]), pence(&l["cost_gbp"]) + pence(&l["fee_gbp"]));
            (
                l["urn"].clone(),
                l["purchase_order"].clone(),
                l["assignment"].clone(),
                l["visit"].clone(),
                pence(&l["cost_gbp"]),
                pence(&l["fee_gbp"]),
            )
        })
        .collect();
    assert!(!expected.is_empty(), "the year has school-paid visits to recharge");
    assert_eq!(found, expected, "recharge lines");
    let statements: BTreeSet<(String, String)> =
        lines.iter().map(|l| (l["urn"].clone(), l["quarter"].replace(' ', "-"))).collect();
    for (urn, quarter) in &statements {
        let page = f.report.join(format!("recharge-{urn}-{quarter}.html"));
        let html = std::fs::read_to_string(&page)
            .unwrap_or_else(|e| panic!("no statement {}: {e}", page.display()));
        let mine: Vec<_> = lines
            .iter()
            .filter(|l| &l["urn"] == urn && &l["quarter"].replace(' ', "-") == quarter)
            .collect();
        let total: u64 = mine.iter().map(|l| pence(&l["total_gbp"])).sum();
        assert!(
            html.contains(&format!("Total due: £{}.{:02}", total / 100, total % 100)),
            "{html}"
        );
        for l in mine.iter().filter(|l| !l["purchase_order"].is_empty()) {
            assert!(html.contains(&l["purchase_order"]), "statement {urn} {quarter} lacks its PO");
        }
    }

    // utilisation.csv: accepted days per practitioner and half-term.
    let mut accepted: BTreeMap<(String, String), u64> = BTreeMap::new();
    for a in r.assignments.values().filter(|a| r.committed(a)) {
        for (p, d) in &a.days {
            *accepted.entry((a.practitioner.clone(), p.clone())).or_default() += d;
        }
    }
    for row in records(&f.report.join("utilisation.csv")) {
        let key = (row["practitioner"].clone(), row["half_term"].clone());
        assert_eq!(
            row["accepted_days"].parse::<u64>().expect("days"),
            accepted.remove(&key).unwrap_or(0),
            "{key:?}"
        );
    }
    assert!(
        accepted.values().all(|d| *d == 0),
        "accepted days missing from utilisation: {accepted:?}"
    );

    // runs.csv and run_tiers.csv: every completed run, in order; unmet.csv: the last run's.
    let runs: Vec<String> =
        records(&f.report.join("runs.csv")).into_iter().map(|r| r["run"].clone()).collect();
    assert_eq!(runs, r.runs_in_order);
    assert_eq!(records(&f.report.join("run_tiers.csv")).len(), 4 * runs.len());
    let last = r.runs_in_order.last().expect("a run");
    let unmet = records(&f.report.join("unmet.csv"));
    assert_eq!(unmet.len(), r.unmet.get(last).copied().unwrap_or(0));
    assert!(unmet.iter().all(|u| &u["run"] == last && !u["reason"].is_empty()));

    // The summary printed the page's path.
    assert!(f.summary.contains("report.html"), "{}", f.summary);
    let _ = &f.data;
}

#[test]
fn a_report_as_of_a_mid_position_equals_the_imported_prefix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = small_config(dir.path());
    let data = dir.path().join("data");
    year(&config, &data, 6, 3);
    let mid = head(&config, &data);
    // The same weeks again append nothing (every command's id is its content).
    year(&config, &data, 6, 3);
    assert_eq!(head(&config, &data), mid, "a year run again appends nothing");
    year(&config, &data, 10, 3);
    assert!(head(&config, &data) > mid);

    let cut = dir.path().join("cut");
    let mid_text = mid.to_string();
    bridges(
        &config,
        &data,
        &["report", "--out", cut.to_str().expect("path"), "--as-of", &mid_text],
    );
    let prefix = dir.path().join("prefix.ndjson");
    bridges(
        &config,
        &data,
        &["log", "export", "--through", &mid_text, "--out", prefix.to_str().expect("path")],
    );
    let restored = dir.path().join("restored");
    bridges(&config, &restored, &["log", "import", prefix.to_str().expect("path")]);
    let fresh = dir.path().join("fresh");
    bridges(&config, &restored, &["report", "--out", fresh.to_str().expect("path")]);
    let names = |d: &Path| -> BTreeSet<String> {
        std::fs::read_dir(d)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(names(&cut), names(&fresh));
    for name in names(&cut) {
        let a = std::fs::read(cut.join(&name)).expect("read");
        let b = std::fs::read(fresh.join(&name)).expect("read");
        assert!(a == b, "{name} differs between --as-of {mid} and the imported prefix");
    }
    // And the cut is not the whole log's report.
    let whole = dir.path().join("whole");
    bridges(&config, &data, &["report", "--out", whole.to_str().expect("path")]);
    assert_ne!(
        std::fs::read(whole.join("assignments.csv")).expect("read"),
        std::fs::read(cut.join("assignments.csv")).expect("read")
    );
    // A cut past the head, or not a position or date, is refused (exit 2).
    for bad in ["999999999", "0", "last-week"] {
        let out = run(Command::new(binary("bridges"))
            .arg("--config")
            .arg(&config)
            .arg("--data")
            .arg(&data)
            .args(["report", "--out", whole.to_str().expect("path"), "--as-of", bad]));
        assert_eq!(out.status.code(), Some(2), "--as-of {bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--as-of"));
    }
}

#[test]
fn problem_export_as_of_a_run_gives_the_problem_it_solved() {
    let f = fixture();
    let text = std::fs::read_to_string(&f.export).expect("export");
    let mut checked = 0;
    for line in text.lines() {
        let e: Value = serde_json::from_str(line).expect("line");
        if e["type"] != "MatchingRunStarted" {
            continue;
        }
        let p = &e["payload"];
        let as_of = p["as_of_position"].as_u64().expect("as of").to_string();
        let at = p["meta"]["at"].as_str().expect("at").to_owned();
        let out = f.report.with_file_name(format!("problem-{as_of}.json"));
        bridges(
            &f.config,
            &f.data,
            &[
                "--at",
                &at,
                "problem",
                "export",
                "--as-of",
                &as_of,
                "--out",
                out.to_str().expect("path"),
            ],
        );
        let problem: bridges_schemas::Problem =
            serde_json::from_slice(&std::fs::read(&out).expect("read")).expect("a problem");
        let bytes = serde_json::to_vec(&problem).expect("json");
        use sha2::Digest;
        let sha = hex::encode(sha2::Sha256::digest(&bytes));
        assert_eq!(sha, p["problem_sha256"].as_str().expect("sha"), "run {}", p["run"]);
        checked += 1;
        if checked == 4 {
            break;
        }
    }
    assert_eq!(checked, 4);
}

/// An event with what cannot repeat taken out: wall-clock times, the event
/// id, the chain hash, ciphertexts (sealed fields), solve times and the
/// plan's hash (the plan holds its solve time).
fn repeatable(line: &str) -> Value {
    let mut e: Value = serde_json::from_str(line).expect("line");
    if let Some(o) = e.as_object_mut() {
        for k in ["recorded_at", "event_id", "hash", "head_hash"] {
            o.remove(k);
        }
    }
    fn strip(v: &mut Value) {
        match v {
            Value::Object(o) => {
                for k in ["seconds", "plan_sha256", "head_hash"] {
                    o.remove(k);
                }
                for (k, x) in o.iter_mut() {
                    if k == "personal" || k == "note" {
                        if !x.is_null() {
                            *x = Value::String("sealed".into());
                        }
                    } else {
                        strip(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut e);
    e
}

#[test]
fn the_same_seed_gives_the_same_year() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = small_config(dir.path());
    let mut exports = Vec::new();
    for (name, seed) in [("a", 5), ("b", 5), ("c", 6)] {
        let data = dir.path().join(name);
        year(&config, &data, 5, seed);
        let out = dir.path().join(format!("{name}.ndjson"));
        bridges(&config, &data, &["log", "export", "--out", out.to_str().expect("path")]);
        let text = std::fs::read_to_string(&out).expect("export");
        exports.push(text.lines().map(repeatable).collect::<Vec<_>>());
    }
    let kinds: BTreeSet<String> =
        exports[0].iter().filter_map(|e| e["type"].as_str().map(str::to_owned)).collect();
    for needed in ["SupportRequested", "AssignmentProposed", "AssignmentAccepted", "VisitRecorded"]
    {
        assert!(kinds.contains(needed), "the year recorded no {needed}");
    }
    assert_eq!(exports[0].len(), exports[1].len(), "the same seed, the same count of events");
    for (i, (a, b)) in exports[0].iter().zip(&exports[1]).enumerate() {
        assert_eq!(a, b, "event {} differs", i + 1);
    }
    assert_ne!(exports[0], exports[2], "another seed answers otherwise");
}

#[test]
fn a_hillingdon_year_runs_in_two_minutes() {
    let gias = bridges_tests::shared_data().join("hillingdon_ealing_schools.csv");
    if !gias.exists() {
        assert!(std::env::var_os("CI").is_none(), "CI needs {} (../shared/data)", gias.display());
        eprintln!("skipped: no {}", gias.display());
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let started = std::time::Instant::now();
    let out = run(Command::new(binary("bridges")).arg("--data").arg(&data).args([
        "year",
        "--gias",
        gias.to_str().expect("path"),
    ]));
    let took = started.elapsed();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Not a terminal: no progress bar.
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("(39 term weeks, schools from"), "{text}");
    assert!(text.contains("erase_practitioner 1") && text.contains("close_request"), "{text}");
    // Against the greedy broker on the same snapshots: every run compared,
    // and first matches within the service level are a part of the first
    // matches, which are a part of the requests waiting.
    assert!(text.contains("Against the greedy broker on the same snapshots (39 runs"), "{text}");
    let figures = |label: &str| -> Vec<String> {
        let line = text.lines().find(|l| l.starts_with(label)).expect(label);
        line[label.len()..].split_whitespace().map(str::to_owned).collect()
    };
    let number = |cell: &str| cell.replace([',', '£'], "").parse::<f64>().expect(cell);
    let days = figures("days proposed");
    assert!(number(&days[0]) > 0.0 && number(&days[1]) > 0.0, "{days:?}");
    let cost = figures("their cost at day rates (fee excluded)");
    assert!(cost.iter().all(|c| c.starts_with('£') && number(c) > 0.0), "{cost:?}");
    // "first matches, of 3626 waiting (request x run)   118   117"
    let line = text.lines().find(|l| l.starts_with("first matches, of ")).expect("waiting");
    let cells: Vec<&str> = line.split_whitespace().collect();
    let waiting = number(cells[3]);
    let matched: Vec<f64> = cells[cells.len() - 2..].iter().map(|c| number(c)).collect();
    let in_time: Vec<f64> =
        figures("  of them within the match service level").iter().map(|c| number(c)).collect();
    for k in 0..2 {
        assert!(in_time[k] <= matched[k] && matched[k] <= waiting, "{text}");
    }
    assert!(matched[0] > 0.0 && in_time[0] > 0.0, "{text}");
    let page = dir.path().join("data-report/report.html");
    assert!(text.contains(&format!("page: {}", page.display())), "{text}");
    assert!(page.exists());
    // The year's report is the whole log's report.
    let again = dir.path().join("again");
    let out = run(Command::new(binary("bridges")).arg("--data").arg(&data).args([
        "report",
        "--out",
        again.to_str().expect("path"),
    ]));
    assert!(out.status.success());
    for name in ["assignments.csv", "service_levels.csv", "report.html"] {
        assert_eq!(
            std::fs::read(dir.path().join("data-report").join(name)).expect("read"),
            std::fs::read(again.join(name)).expect("read"),
            "{name}"
        );
    }
    assert!(took.as_secs() <= 120, "the Hillingdon year took {took:?}");
}

// --- the page in a real browser ------------------------------------------------

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// The text of every cell of the table with id `t-<name>` in `dom`.
fn dom_table(dom: &str, name: &str) -> Vec<Vec<String>> {
    let start = dom.find(&format!("id=\"t-{name}\"")).unwrap_or_else(|| panic!("no table {name}"));
    let body = &dom[start..];
    let body = &body[body.find("<tbody>").expect("tbody")..body.find("</tbody>").expect("end")];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let text =
                        &cell[cell.find('>').expect(">") + 1..cell.find("</td>").expect("</td>")];
                    text.replace("&lt;", "<")
                        .replace("&gt;", ">")
                        .replace("&quot;", "\"")
                        .replace("&#39;", "'")
                        .replace("&amp;", "&")
                })
                .collect()
        })
        .collect()
}

/// The marks of chart `id` in `dom`: elements of kind `tag` drawn at the
/// marks' opacity.
fn marks(dom: &str, id: &str, tag: &str) -> usize {
    let start = dom.find(&format!("id=\"chart-{id}\"")).unwrap_or_else(|| panic!("no chart {id}"));
    let figure = &dom[start..start + dom[start..].find("</figure>").expect("figure ends")];
    figure
        .split(&format!("<{tag}"))
        .skip(1)
        .filter(|e| {
            let attrs = &e[..e.find('>').unwrap_or(e.len())];
            attrs.contains("opacity=\"0.85\"")
        })
        .count()
}

/// The URLs that pages loaded from files requested, from chromium's network
/// log, less `page` itself.
fn page_requests(netlog: &Path, page: &str) -> BTreeSet<String> {
    let log: Value = serde_json::from_slice(&std::fs::read(netlog).expect("net log"))
        .expect("the net log is JSON");
    let start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .expect("the net log names its event types");
    log["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start))
        .map(|e| &e["params"])
        .filter(|p| p["network_isolation_key"].as_str().is_some_and(|k| k.contains("file://")))
        .filter_map(|p| p["url"].as_str())
        .filter(|u| *u != page)
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_page_renders_in_headless_chromium_with_a_mark_per_row() {
    let f = fixture();
    let Some(chrome) = chromium() else {
        assert!(std::env::var_os("CI").is_none(), "CI needs chromium (scripts/setup installs it)");
        eprintln!("skipped: no chromium on this machine (scripts/setup installs it)");
        return;
    };
    let page = f.report.join("report.html");
    let url = format!("file://{}", page.canonicalize().expect("page").display());
    let work = tempfile::tempdir().expect("tempdir");
    let netlog = work.path().join("net.json");
    let shot = work.path().join("shot.png");
    let flags = |extra: &[String]| {
        let mut c = Command::new(&chrome);
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", work.path().join("profile").display()))
        .args(extra)
        .arg(&url);
        c
    };
    let out =
        run(&mut flags(&["--dump-dom".into(), format!("--log-net-log={}", netlog.display())]));
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    let dom = String::from_utf8(out.stdout).expect("utf-8 DOM");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");

    // The page asked for nothing: no request whose isolation key is the
    // page's (file://) went anywhere but the page itself. (Chromium's own
    // background requests, such as its update check, have no page.)
    let fetched = page_requests(&netlog, &url);
    assert!(fetched.is_empty(), "the page fetched {fetched:?}");
    // The check sees a page that does fetch: an image from a closed port.
    let control = work.path().join("control.html");
    std::fs::write(&control, "<!DOCTYPE html><img src=\"http://127.0.0.1:9/x.png\">")
        .expect("write");
    let control_url = format!("file://{}", control.display());
    let control_log = work.path().join("control.json");
    let out = run(Command::new(&chrome)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("--user-data-dir={}", work.path().join("control-profile").display()))
        .arg(format!("--log-net-log={}", control_log.display()))
        .arg(&control_url));
    assert!(out.status.success());
    assert!(
        page_requests(&control_log, &control_url).contains("http://127.0.0.1:9/x.png"),
        "the network log check misses a page's request"
    );

    // Each chart has a mark per row of its CSV.
    let rows = |name: &str| read_csv(&f.report.join(format!("{name}.csv"))).1;
    assert_eq!(marks(&dom, "coverage", "circle"), rows("run_tiers").len());
    assert_eq!(marks(&dom, "utilisation", "rect"), rows("utilisation").len());
    assert_eq!(marks(&dom, "spend", "circle"), rows("spend_by_month").len());
    assert_eq!(marks(&dom, "service", "rect"), rows("service_by_week").len());
    assert_eq!(marks(&dom, "map", "circle"), rows("schools").len());
    let committed = records(&f.report.join("assignments.csv"))
        .iter()
        .filter(|a| a["status"] == "accepted" || a["status"] == "completed")
        .count();
    assert_eq!(marks(&dom, "map", "polyline"), committed);
    assert!(rows("run_tiers").len() >= 80 && rows("schools").len() >= 30);

    // The page's tables are the CSVs' cells (the CSV escapes formula-like text).
    for name in [
        "assignments",
        "utilisation",
        "days_and_cost",
        "owed",
        "recharges",
        "unmet",
        "runs",
        "service_levels",
        "schools",
    ] {
        let csv: Vec<Vec<String>> = rows(name)
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|c| c.strip_prefix('\'').map(str::to_owned).unwrap_or(c))
                    .collect()
            })
            .collect();
        assert_eq!(dom_table(&dom, name), csv, "table {name}");
    }

    // A screenshot that is not blank.
    let out = run(&mut flags(&[
        format!("--screenshot={}", shot.display()),
        "--window-size=1200,2400".into(),
    ]));
    assert!(out.status.success(), "screenshot failed: {}", String::from_utf8_lossy(&out.stderr));
    let decoder =
        png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).expect("png")));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let bytes = &buf[..info.buffer_size()];
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = bytes.chunks(channels).collect();
    let colours: BTreeSet<&[u8]> = pixels.iter().copied().collect();
    let ink = pixels.iter().filter(|p| p.iter().take(3).any(|c| *c < 200)).count();
    assert!(colours.len() > 20, "a blank screenshot: {} colours", colours.len());
    assert!(ink * 100 > pixels.len(), "a blank screenshot: {ink} of {} pixels inked", pixels.len());
}

/// The cells of column `column` of table `t-<name>` as the browser shows them now.
async fn column_in_browser(
    b: &bridges_tests::browser::Browser,
    name: &str,
    column: usize,
) -> Vec<String> {
    let script = format!(
        "return Array.from(document.querySelectorAll('#t-{name} tbody tr')).map(r => r.cells[{column}].textContent);"
    );
    let v = b.client.execute(&script, vec![]).await.expect("read a column");
    serde_json::from_value(v).expect("a list of cells")
}

#[test]
fn tables_sort_by_a_clicked_header_in_a_real_browser() {
    use fantoccini::Locator;
    let f = fixture();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let Some(b) = bridges_tests::browser::Browser::start(true).await else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI needs chromedriver (scripts/setup installs chromium-driver)"
            );
            eprintln!("skipped: no chromedriver on this machine (scripts/setup installs it)");
            return;
        };
        let page = f.report.join("report.html").canonicalize().expect("page");
        b.client.goto(&format!("file://{}", page.display())).await.expect("open the page");
        let number = |c: &str| {
            c.parse::<f64>()
                .ok()
                .filter(|_| c.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-'))
        };
        let mut sorted_columns = 0;
        for name in ["utilisation", "days_and_cost", "runs", "assignments"] {
            let (header, rows) = read_csv(&f.report.join(format!("{name}.csv")));
            assert!(rows.len() >= 2, "table {name} has rows to sort");
            // Every column whose cells are all numbers: ascending on the
            // first click, descending on the second, the same cells.
            for column in 0..header.len() {
                let cells: Vec<&str> = rows.iter().map(|r| r[column].as_str()).collect();
                let Some(values) = cells.iter().map(|c| number(c)).collect::<Option<Vec<f64>>>()
                else {
                    continue;
                };
                if values.windows(2).all(|w| w[0] == w[1]) {
                    continue;
                }
                let th = b
                    .client
                    .find(Locator::Css(&format!("#t-{name} thead th:nth-child({})", column + 1)))
                    .await
                    .expect("the header cell");
                let mut expected = values.clone();
                expected.sort_by(|a, b| a.total_cmp(b));
                th.click().await.expect("click the header");
                let shown: Vec<f64> = column_in_browser(&b, name, column)
                    .await
                    .iter()
                    .map(|c| number(c).expect("a number"))
                    .collect();
                assert_eq!(shown, expected, "{name}.{}: ascending after one click", header[column]);
                th.click().await.expect("click again");
                expected.reverse();
                let shown: Vec<f64> = column_in_browser(&b, name, column)
                    .await
                    .iter()
                    .map(|c| number(c).expect("a number"))
                    .collect();
                assert_eq!(shown, expected, "{name}.{}: descending after two", header[column]);
                sorted_columns += 1;
            }
        }
        assert!(sorted_columns >= 4, "only {sorted_columns} numeric columns were sorted");
        b.close().await;
    });
}
