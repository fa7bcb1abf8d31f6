//! The demo: a seeded generator of what an LA would have for its schools,
//! written as the files an LA keeps, so that README's main job can import
//! them like a user (`crate::imports`): `inspections.csv` (each school's
//! latest outcome in its framework, consistent with its GIAS grade),
//! `practitioners.csv` (about 40 system leaders for a borough of 100
//! schools) and `requests.csv` (a term's requests), plus a generated
//! borough in GIAS format when the real data is absent, and the
//! partnership's budget as commands (a `SetBudget` per funding source and
//! a 5% brokerage fee).
//!
//! Same seed, same schools, same moment: the same files, byte for byte
//! (ChaCha8; requests are seeded by the first half-term they plan, and each
//! arrives in one of that half-term's first four weeks, so a later week of
//! a half-term writes the earlier weeks' requests and those arrived since). It is not the worker's
//! test-instance generator, and nothing here writes to the log: the
//! imports and `Engine::handle` do.

mod borough;
mod inspections;
mod names;
mod practitioners;
mod requests;

use std::path::{Path, PathBuf};

use bridges_schemas::commands::{Command, SetBrokerageFee, SetBudget};
use bridges_schemas::inspection::Standing;
use bridges_schemas::vocab::FundingSource;
use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::domain::calendar::london_date;
use crate::domain::{HalfTerm, Rules};
use crate::imports::gias::GiasSchool;

/// The seed of an LA's demo (its code, so each LA's demo is its own).
pub fn seed_of(la: u16) -> u64 {
    0x6272_6964_6765_7300 ^ u64::from(la)
}

/// How large a demo is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSpec {
    pub seed: u64,
    pub practitioners: usize,
    pub requests: usize,
    /// Requests arrive over their half-term's first four weeks, as a
    /// weekly job sees them (false: every request of the half-term at
    /// once, as a benchmark's partnership has them).
    pub weekly_arrivals: bool,
}

/// The CSV files of a demo, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoFiles {
    pub inspections: String,
    pub practitioners: String,
    pub requests: String,
}

/// The brokerage fee the demo sets: 5%.
pub const FEE_BASIS_POINTS: u32 = 500;

/// A school as the demo sees it: GIAS's record, and the standing and risk
/// tier its latest outcome gives it.
#[derive(Debug, Clone)]
pub(crate) struct DemoSchool {
    pub school: GiasSchool,
    pub standing: Option<Standing>,
    pub risk_tier: Option<u8>,
}

/// A generated borough of `schools` schools of LA `la`, as a GIAS CSV.
pub fn borough(seed: u64, schools: usize, la: u16) -> String {
    borough::gias_csv(&mut rng(seed, "borough"), schools, la)
}

/// The demo's files for `schools` (the open schools of the LA's GIAS file),
/// for a run at `at`: practitioners' days over the academic year planned
/// at `at`, requests over its half-terms not yet ended.
pub fn generate(
    schools: &[GiasSchool],
    rules: &Rules,
    at: DateTime<Utc>,
    spec: &DemoSpec,
) -> DemoFiles {
    let today = london_date(at);
    let mut inspection_rows =
        vec![crate::imports::inspections::HEADERS.iter().map(|h| h.to_string()).collect()];
    let mut rng_i = rng(spec.seed, "inspections");
    let mut demo = Vec::with_capacity(schools.len());
    for s in schools {
        let outcome = inspections::outcome(&mut rng_i, s);
        if let Some(o) = &outcome {
            inspection_rows.push(inspections::csv_row(s.urn, o));
        }
        let standing = outcome.map(|o| o.standing()).or(s.ofsted.map(|g| g.standing()));
        let risk_tier = standing.and_then(|st| match st {
            Standing::Serious => rules.risk.serious,
            Standing::Concern => rules.risk.concern,
            Standing::Secure => rules.risk.secure,
            Standing::Strong => rules.risk.strong,
        });
        demo.push(DemoSchool { school: s.clone(), standing, risk_tier });
    }

    let year: Vec<&HalfTerm> = match rules.calendar.planning_year(today) {
        Some(y) => rules.calendar.year(y).collect(),
        None => Vec::new(),
    };
    let practitioner_rows = practitioners::rows(
        &mut rng(spec.seed, "practitioners"),
        &demo,
        rules,
        &year,
        spec.practitioners,
    );

    let left: Vec<&HalfTerm> =
        rules.calendar.planning_half_terms(today).into_iter().take(3).collect();
    let prefix = left.first().map(|h| h.label.to_string()).unwrap_or_else(|| "req".into());
    let request_rows =
        requests::rows(&mut rng(spec.seed, &prefix), &demo, rules, &left, spec.requests, &prefix);
    // A half-term's requests arrive over its first weeks: a row is written
    // once the week drawn for it has come (the header always).
    let week = left.first().map_or(0, |h| (today - h.first).num_days().max(0) / 7);
    let request_rows: Vec<Vec<String>> = request_rows
        .into_iter()
        .enumerate()
        .filter(|(i, row)| {
            *i == 0 || !spec.weekly_arrivals || i64::from(arrival_week(spec.seed, &row[0])) <= week
        })
        .map(|(_, row)| row)
        .collect();
    DemoFiles {
        inspections: csv_text(&inspection_rows),
        practitioners: csv_text(&practitioner_rows),
        requests: csv_text(&request_rows),
    }
}

/// The partnership's budget for the year planned at `at`, as commands: a
/// `SetBudget` per funding source, scaled to a borough of `schools`
/// schools (£65,000 of LA core money, £15,000 school-paid, £20,000 of
/// RISE grants and £5,000 from trusts per hundred schools), and a 5%
/// brokerage fee. None when the calendar has no year then.
pub fn budget(rules: &Rules, at: DateTime<Utc>, schools: usize) -> Vec<Command> {
    let Some(year) = rules.calendar.planning_year(london_date(at)) else { return Vec::new() };
    let per_hundred = |pounds: u64| pounds * 100 * schools.max(1) as u64 / 100;
    let mut out: Vec<Command> = [
        (FundingSource::LaCore, 65_000),
        (FundingSource::SchoolPaid, 15_000),
        (FundingSource::Rise, 20_000),
        (FundingSource::Trust, 5_000),
    ]
    .into_iter()
    .map(|(funding, pounds)| {
        // Whole hundreds of pounds.
        let pence = per_hundred(pounds) / 10_000 * 10_000;
        Command::SetBudget(SetBudget { year: year.clone(), funding, amount_pence: pence })
    })
    .collect();
    out.push(Command::SetBrokerageFee(SetBrokerageFee {
        year: year.clone(),
        basis_points: FEE_BASIS_POINTS,
    }));
    out
}

/// The week of its half-term (0 = the first) in which a request arrives:
/// 40% in the first week, then 25%, 20% and 15%, drawn from its id.
pub fn arrival_week(seed: u64, request: &str) -> u8 {
    match rng(seed, &format!("arrival {request}")).random_range(0..100) {
        0..40 => 0,
        40..65 => 1,
        65..85 => 2,
        _ => 3,
    }
}

/// Writes a file of the demo into `dir` (created), returning its path.
pub fn write(dir: &Path, name: &str, text: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    Ok(path)
}

/// An independent random stream per file, so that one file's draws never
/// shift another's.
fn rng(seed: u64, stream: &str) -> ChaCha8Rng {
    // FNV-1a of the stream's name.
    let h = stream
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    ChaCha8Rng::seed_from_u64(seed ^ h)
}

/// Rows as CSV text (quoted where a cell needs it).
pub(crate) fn csv_text(rows: &[Vec<String>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(r).expect("writing to memory");
    }
    let bytes = w.into_inner().expect("writing to memory");
    String::from_utf8(bytes).expect("cells are strings")
}

/// How often a need comes up, as a weight (maths and English most).
pub(crate) fn need_weight(need: &str) -> u32 {
    match need {
        "maths" | "english" => 6,
        "send" => 4,
        "early-years" | "science" | "behaviour" => 3,
        "assessment" | "post-16" | "leadership" => 2,
        _ => 1,
    }
}

/// A lower-case, dash-separated form of a name (`St Helen's School` ->
/// `st-helens-school`).
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if matches!(c, ' ' | '-' | ',') && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(40).collect::<String>().trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use bridges_schemas::Phase;

    use super::*;
    use crate::config::Config;
    use crate::imports::Table;

    fn rules() -> Rules {
        crate::rules::rules(&Config::built_in().expect("config"))
    }

    fn schools(seed: u64) -> Vec<GiasSchool> {
        crate::imports::gias::open_schools(borough(seed, 100, 312).as_bytes(), 312)
            .expect("a generated borough reads as GIAS")
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("a time")
    }

    /// The rows of a CSV as maps from header to cell.
    fn rows(text: &str) -> Vec<BTreeMap<String, String>> {
        let table = Table::read(text.as_bytes()).expect("csv");
        let headers = table.headers().to_vec();
        table
            .rows()
            .iter()
            .map(|r| {
                let r = r.as_ref().expect("utf-8");
                headers
                    .iter()
                    .enumerate()
                    .map(|(i, h)| (h.clone(), r.get(Some(i)).to_owned()))
                    .collect()
            })
            .collect()
    }

    const SPEC: DemoSpec =
        DemoSpec { seed: 7, practitioners: 40, requests: 80, weekly_arrivals: true };

    #[test]
    fn the_same_seed_gives_the_same_files_and_another_seed_others() {
        let (rules, when) = (rules(), at("2026-11-23T09:00:00Z"));
        assert_eq!(borough(7, 100, 312), borough(7, 100, 312));
        let a = generate(&schools(7), &rules, when, &SPEC);
        assert_eq!(a, generate(&schools(7), &rules, when, &SPEC));
        let b = generate(&schools(7), &rules, when, &DemoSpec { seed: 8, ..SPEC });
        assert_ne!(a.practitioners, b.practitioners);
        // A half-term's requests arrive over its first four weeks (autumn 2
        // begins on 2 November): each week's file holds the earlier week's
        // rows and more, and from the fourth week on the file is whole.
        let weeks: Vec<Vec<BTreeMap<String, String>>> =
            ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-12-07"]
                .iter()
                .map(|d| {
                    let files = generate(&schools(7), &rules, at(&format!("{d}T09:00:00Z")), &SPEC);
                    rows(&files.requests)
                })
                .collect();
        for pair in weeks.windows(2) {
            assert!(pair[0].len() < pair[1].len() || pair[1].len() == 80, "{}", pair[0].len());
            assert!(pair[0].iter().all(|r| pair[1].contains(r)), "an arrived request stays");
        }
        assert!(weeks[0].len() >= 20 && weeks[0].len() <= 50, "{} in week 1", weeks[0].len());
        assert_eq!(weeks[3], weeks[4]);
        assert_eq!(weeks[3].len(), 80);
        let at_once = DemoSpec { weekly_arrivals: false, ..SPEC };
        let first = generate(&schools(7), &rules, at("2026-11-02T09:00:00Z"), &at_once);
        assert_eq!(rows(&first.requests), weeks[3], "all at once: the whole file in week 1");
        assert_eq!(
            a.requests,
            generate(&schools(7), &rules, at("2026-12-07T09:00:00Z"), &SPEC).requests
        );
    }

    #[test]
    fn practitioners_have_the_designations_mix_good_home_schools_and_days_in_range() {
        let (rules, schools) = (rules(), schools(7));
        let files = generate(&schools, &rules, at("2026-09-07T09:00:00Z"), &SPEC);
        let inspections: BTreeMap<String, BTreeMap<String, String>> =
            rows(&files.inspections).into_iter().map(|r| (r["URN"].clone(), r)).collect();
        let people = rows(&files.practitioners);
        assert_eq!(people.len(), 40);
        let mut titles: BTreeMap<String, usize> = BTreeMap::new();
        for p in &people {
            *titles.entry(p["Title"].clone()).or_default() += 1;
            let max: u32 = p["Max days"].parse().expect("max days");
            match p["Title"].as_str() {
                "SLE" => assert!((1..=15).contains(&max), "an SLE: 10 to 15 days a year {p:?}"),
                "LLE" => {
                    assert!((20..=39).contains(&max), "an LLE: half a day to a day a week {p:?}")
                }
                _ => assert!((1..=20).contains(&max), "{p:?}"),
            }
            let home = schools.iter().find(|s| s.urn.to_string() == p["Home URN"]).expect("home");
            if !inspections.contains_key(&p["Home URN"]) {
                // Its standing is GIAS's grade (else it is its outcome's,
                // which the import test checks through the domain).
                let good = home.ofsted.is_some_and(|g| g.good_or_better());
                assert!(good, "a home school is good or outstanding: {p:?}");
            }
            assert!(p["Email"].ends_with(".sch.example"), "{p:?}");
        }
        assert!(titles["SLE"] >= 20 && titles["LLE"] >= 6 && titles["NLE"] >= 2, "{titles:?}");
        assert!(titles["Senior Practitioner"] >= 2, "the local title is used: {titles:?}");
    }

    #[test]
    fn requests_fit_the_phase_fall_in_half_terms_not_ended_and_follow_risk_when_at_risk() {
        let (rules, schools) = (rules(), schools(7));
        let when = at("2026-11-23T09:00:00Z");
        let files = generate(&schools, &rules, when, &SPEC);
        let requests = rows(&files.requests);
        assert_eq!(requests.len(), 80);
        let left: Vec<String> = rules
            .calendar
            .planning_half_terms(london_date(when))
            .iter()
            .map(|h| h.label.to_string())
            .collect();
        let mut la_core = 0;
        for r in &requests {
            let school = schools.iter().find(|s| s.urn.to_string() == r["URN"]).expect("school");
            let need = rules.needs.iter().find(|n| n.area.as_str() == r["Need"]).expect("need");
            assert!(need.phases.contains(&school.phase), "the need fits the phase: {r:?}");
            if school.phase == Phase::Primary {
                assert_ne!(r["Need"], "post-16");
            }
            assert!(!r.contains_key("2026-AU1"), "no column for an ended half-term: {r:?}");
            assert!(r.keys().filter(|k| k.starts_with("20")).all(|k| left.contains(k)));
            la_core += usize::from(r["Funding"] == "la_core");
        }
        assert!(la_core * 2 > requests.len(), "funding is mostly LA core ({la_core})");
        // Schools the rule puts at risk ask, mostly following their risk.
        let followed = requests.iter().filter(|r| r["Tier"] == "follow").count();
        assert!(followed >= 5, "{followed}");
    }

    #[test]
    fn outcomes_are_in_all_three_frameworks_and_keep_to_the_gias_grade() {
        let (rules, schools) = (rules(), schools(7));
        let files = generate(&schools, &rules, at("2026-09-07T09:00:00Z"), &SPEC);
        let rows = rows(&files.inspections);
        let mut frameworks: BTreeMap<String, usize> = BTreeMap::new();
        for r in &rows {
            *frameworks.entry(r["Framework"].clone()).or_default() += 1;
            let school = schools.iter().find(|s| s.urn.to_string() == r["URN"]).expect("school");
            if r["Framework"] == "overall" {
                let gias = school.ofsted.map(|g| format!("{g:?}")).unwrap_or_default();
                assert_eq!(r["Overall"].replace(' ', "").to_lowercase(), gias.to_lowercase());
                assert!(r["Published"].as_str() < "2024-09-01", "{r:?}");
            }
            if r["Framework"] == "report_card" {
                assert!(r["Published"].as_str() >= "2025-11-10", "{r:?}");
            }
            if school.ofsted == Some(bridges_schemas::inspection::Ofsted::Outstanding) {
                let weak = r.values().any(|v| {
                    ["Requires improvement", "Inadequate", "Needs attention", "Urgent improvement"]
                        .contains(&v.as_str())
                });
                assert!(!weak, "an outstanding school keeps to its grade: {r:?}");
            }
        }
        assert_eq!(frameworks.len(), 3, "{frameworks:?}");
    }

    #[test]
    fn the_budget_sets_every_funding_source_and_a_five_percent_fee() {
        let commands = budget(&rules(), at("2026-11-23T09:00:00Z"), 100);
        assert_eq!(commands.len(), 5);
        assert!(matches!(
            &commands[0],
            Command::SetBudget(SetBudget {
                funding: FundingSource::LaCore,
                amount_pence: 6_500_000,
                ..
            })
        ));
        assert!(matches!(&commands[4], Command::SetBrokerageFee(f) if f.basis_points == 500));
        assert!(budget(&rules(), at("2031-01-01T09:00:00Z"), 100).is_empty());
    }
}
