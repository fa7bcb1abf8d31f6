//! The demo's practitioners spreadsheet: system leaders as an LA's
//! school-improvement team lists them (DESIGN.md section 1): mostly SLEs
//! released 10 to 15 days a year, LLEs released half a day to a day a week,
//! a few NLEs, and the local title "Senior Practitioner" where configured;
//! each works in a good or outstanding home school, with the phases of that
//! school and specialisms that fit them, a day rate near the title's, days
//! per half-term and a yearly maximum, and now and then a conflict of
//! interest (a governor elsewhere, a former employer's trust). Names are
//! invented from common UK first names and surnames; emails are at the
//! home school under the reserved `.example` domain, phones in Ofcom's
//! drama range, so that nothing reaches a real person. Seeded; rows only.

use std::collections::{BTreeMap, BTreeSet};

use bridges_schemas::Phase;
use bridges_schemas::inspection::Standing;
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use super::names::{FIRST_NAMES, SURNAMES};
use super::{DemoSchool, need_weight, slug};
use crate::domain::{HalfTerm, Rules};
use crate::imports::practitioners::{LEADING_HEADERS, TRAILING_HEADERS};

/// The local title the demo uses when the LA configures it.
pub const SENIOR_PRACTITIONER: &str = "Senior Practitioner";

/// The spreadsheet's rows, header first: `count` practitioners with days
/// in each half-term of `year`.
pub fn rows(
    rng: &mut ChaCha8Rng,
    schools: &[DemoSchool],
    rules: &Rules,
    year: &[&HalfTerm],
    count: usize,
) -> Vec<Vec<String>> {
    let mut header: Vec<String> = LEADING_HEADERS.iter().map(|h| h.to_string()).collect();
    header.extend(year.iter().map(|h| h.label.to_string()));
    header.extend(TRAILING_HEADERS.iter().map(|h| h.to_string()));
    let mut out = vec![header];

    let configured = |t: &str| rules.titles.iter().any(|x| x.name.as_str() == t);
    let mut titles: Vec<&str> = Vec::new();
    let nle = if configured("NLE") { (count * 8).div_ceil(100) } else { 0 };
    let lle = if configured("LLE") { count / 5 } else { 0 };
    let sp = if configured(SENIOR_PRACTITIONER) { count / 10 } else { 0 };
    titles.extend(std::iter::repeat_n("NLE", nle));
    titles.extend(std::iter::repeat_n("LLE", lle));
    titles.extend(std::iter::repeat_n(SENIOR_PRACTITIONER, sp));
    let sle = if configured("SLE") { "SLE" } else { rules.titles[0].name.as_str() };
    titles.extend(std::iter::repeat_n(sle, count.saturating_sub(titles.len())));
    titles.truncate(count);

    let homes: Vec<&DemoSchool> = {
        let good: Vec<&DemoSchool> =
            schools.iter().filter(|s| s.standing.is_some_and(Standing::good_or_better)).collect();
        if good.is_empty() { schools.iter().collect() } else { good }
    };
    if homes.is_empty() {
        return out;
    }
    let trusts: BTreeSet<&str> = schools.iter().filter_map(|s| s.school.trust.as_deref()).collect();
    let trusts: Vec<&str> = trusts.into_iter().collect();
    let mut names_used = BTreeSet::new();
    let mut covered = BTreeMap::new();
    let mut numbers = BTreeMap::<&str, usize>::new();

    for (i, title) in titles.iter().enumerate() {
        let head = matches!(*title, "NLE" | "LLE");
        let home = *homes
            .choose_weighted(rng, |s| match (head, s.standing) {
                // One head a school, more often from the strongest.
                (true, Some(Standing::Strong)) => 3,
                (true, _) => 1,
                // Middle leaders come with staff: larger schools have more.
                (false, _) => s.school.pupils.unwrap_or(300).clamp(100, 2_000),
            })
            .expect("home schools are not empty");
        let phases = phases_of(rng, home.school.phase, head);
        let specialisms = specialisms(rng, rules, &phases, head, &mut covered);
        let (first, last) = loop {
            let f = *FIRST_NAMES.choose(rng).expect("names");
            let l = *SURNAMES.choose(rng).expect("names");
            if names_used.insert((f, l)) || names_used.len() >= FIRST_NAMES.len() * SURNAMES.len() {
                break (f, l);
            }
        };
        let n = numbers.entry(title).or_default();
        *n += 1;
        let prefix = match *title {
            "NLE" => "nle",
            "LLE" => "lle",
            "SLE" => "sle",
            SENIOR_PRACTITIONER => "sp",
            _ => "p",
        };
        let id = format!("{prefix}-{n:02}");
        let email = format!(
            "{}.{}@{}.sch.example",
            first.to_lowercase(),
            last.to_lowercase().replace(|c: char| !c.is_ascii_alphabetic(), ""),
            slug(&home.school.name)
        );
        let phone = format!("020 7946 0{:03}", i % 1_000);
        let typical = rules.titles.iter().find(|t| t.name.as_str() == *title).map(|t| t.day_rate);
        let rate = match *title {
            "LLE" => Some(*[450, 475, 500].choose(rng).expect("rates")),
            "SLE" if rng.random_bool(0.2) => None,
            _ => typical,
        };
        let (capacity, max_days) = availability(rng, rules, year, title);
        let conflict = conflict(rng, schools, home, &trusts, year);

        let mut row = vec![
            id,
            format!("{first} {last}"),
            email,
            phone,
            title.to_string(),
            home.school.urn.to_string(),
            specialisms.join("; "),
            phases.iter().map(|p| p.as_str()).collect::<Vec<_>>().join("; "),
            rate.map(|r| r.to_string()).unwrap_or_default(),
        ];
        row.extend(capacity.iter().map(|d| d.to_string()));
        row.push(max_days.to_string());
        row.push(conflict.unwrap_or_default());
        out.push(row);
    }
    out
}

/// The phases a leader from a school of `phase` supports: their own, and
/// now and then the neighbouring ones (a secondary leader in an
/// all-through school's upper years, a primary one in a special school).
fn phases_of(rng: &mut ChaCha8Rng, phase: Phase, head: bool) -> Vec<Phase> {
    use Phase::*;
    let mut v = match phase {
        Nursery => vec![Nursery, Primary],
        Primary => vec![Primary],
        Middle => vec![Middle, Primary, Secondary],
        Secondary => vec![Secondary],
        AllThrough => vec![Primary, Secondary, AllThrough],
        SixteenPlus => vec![SixteenPlus, Secondary],
        Special => vec![Special, if rng.random_bool(0.5) { Primary } else { Secondary }],
    };
    let mut maybe = |p: Phase, chance: f64, v: &mut Vec<Phase>| {
        if !v.contains(&p) && (head || rng.random_bool(chance)) {
            v.push(p);
        }
    };
    match phase {
        Primary => {
            maybe(Nursery, 0.5, &mut v);
            maybe(AllThrough, 0.25, &mut v);
            maybe(Special, 0.2, &mut v);
        }
        Secondary => {
            maybe(SixteenPlus, 0.5, &mut v);
            maybe(AllThrough, 0.3, &mut v);
            maybe(Special, 0.2, &mut v);
        }
        _ => {}
    }
    v
}

/// One or two specialisms fitting the phases (headteachers: leadership and
/// one more), drawn towards the needs the borough's leaders cover least so
/// far in the practitioner's own phase, so that supply follows demand.
fn specialisms(
    rng: &mut ChaCha8Rng,
    rules: &Rules,
    phases: &[Phase],
    head: bool,
    covered: &mut BTreeMap<(String, Phase), u32>,
) -> Vec<String> {
    let fitting: Vec<&str> = rules
        .needs
        .iter()
        .filter(|n| n.phases.iter().any(|p| phases.contains(p)))
        .map(|n| n.area.as_str())
        .collect();
    let mut chosen: Vec<String> = Vec::new();
    if head && fitting.contains(&"leadership") {
        chosen.push("leadership".to_owned());
    }
    let want = if head || rng.random_bool(0.5) { chosen.len() + 1 } else { 2 };
    let own = phases[0];
    while chosen.len() < want.min(fitting.len()) {
        let n = fitting
            .choose_weighted(rng, |n| {
                if chosen.iter().any(|c| c == n) {
                    0
                } else {
                    let have = covered.get(&((*n).to_owned(), own)).copied().unwrap_or(0);
                    (need_weight(n) * 12 / (1 + 2 * have)).max(1)
                }
            })
            .expect("a need left to choose");
        chosen.push((*n).to_owned());
    }
    for c in &chosen {
        for p in phases {
            *covered.entry((c.clone(), *p)).or_default() += 1;
        }
    }
    chosen
}

/// Days per half-term of the year and the yearly maximum for a title.
fn availability(
    rng: &mut ChaCha8Rng,
    rules: &Rules,
    year: &[&HalfTerm],
    title: &str,
) -> (Vec<u32>, u32) {
    let n = year.len().max(1) as u32;
    let mut days: Vec<u32> = match title {
        "LLE" => {
            // Half a day to a day a week.
            let per_week = if rng.random_bool(0.5) { 0.5 } else { 1.0 };
            year.iter()
                .map(|h| {
                    let weeks = f64::from(rules.calendar.working_days(h.first, h.last)) / 5.0;
                    (weeks * per_week).round() as u32
                })
                .collect()
        }
        _ => {
            let yearly: u32 = match title {
                "SLE" => rng.random_range(10..=15),
                _ => rng.random_range(10..=20),
            };
            let (base, extra) = (yearly / n, yearly % n);
            (0..n).map(|i| base + u32::from(i < extra) + u32::from(rng.random_bool(0.3))).collect()
        }
    };
    if rng.random_bool(0.08) && !days.is_empty() {
        // A busy half-term at their own school.
        let i = rng.random_range(0..days.len());
        days[i] = 0;
    }
    let sum: u32 = days.iter().sum();
    let max = match title {
        "LLE" => (sum * rng.random_range(85..=100) / 100).clamp(20, 39),
        "SLE" => sum.min(rng.random_range(10..=15)),
        _ => sum.min(rng.random_range(10..=20)),
    };
    (days, max)
}

/// Now and then a conflict of interest, as the `Conflicts` cell writes it.
fn conflict(
    rng: &mut ChaCha8Rng,
    schools: &[DemoSchool],
    home: &DemoSchool,
    trusts: &[&str],
    year: &[&HalfTerm],
) -> Option<String> {
    if !rng.random_bool(0.15) {
        return None;
    }
    let window = match (year.first(), year.last()) {
        (Some(a), Some(b)) if rng.random_bool(0.3) => format!(":{}..{}", a.first, b.last),
        _ => String::new(),
    };
    let trust = home.school.trust.as_deref();
    let other_trusts: Vec<&&str> = trusts.iter().filter(|t| Some(**t) != trust).collect();
    if rng.random_bool(0.4)
        && let Some(t) = other_trusts.choose(rng)
    {
        return Some(format!("trust:{t}:former_employer{window}"));
    }
    let other: Vec<&DemoSchool> =
        schools.iter().filter(|s| s.school.urn != home.school.urn).collect();
    let s = other.choose(rng)?;
    let kind = if rng.random_bool(0.75) { "governor" } else { "family" };
    Some(format!("school:{}:{kind}{window}", s.school.urn))
}
