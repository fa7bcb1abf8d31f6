//! The demo's requests spreadsheet: a term's support requests as an LA's
//! broker logs them. Every school the inspection rule puts at risk asks
//! (most such requests follow the school's risk tier; a few are fixed at
//! it), and other schools fill the rest at tiers 3 and 4; each need is one
//! the configured list fits to the school's phase (no post-16 in a
//! primary), the titles accepted suit the need, days are spread
//! half-termly over the half-terms not yet ended (two or three days a
//! half-term for a school at risk, one or two otherwise), and most are
//! funded from the LA's core budget (RISE for some at-risk schools, the
//! school or its trust for a few, with a purchase order). Seeded; rows only.

use std::collections::BTreeSet;

use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use super::practitioners::SENIOR_PRACTITIONER;
use super::{DemoSchool, need_weight};
use crate::domain::{HalfTerm, Rules};
use crate::imports::requests::{LEADING_HEADERS, TRAILING_HEADERS};

/// The spreadsheet's rows, header first: up to `count` requests over
/// `half_terms` (the planning half-terms, those not ended), with ids
/// `<prefix>-001`...
pub fn rows(
    rng: &mut ChaCha8Rng,
    schools: &[DemoSchool],
    rules: &Rules,
    half_terms: &[&HalfTerm],
    count: usize,
    prefix: &str,
) -> Vec<Vec<String>> {
    let mut header: Vec<String> = LEADING_HEADERS.iter().map(|h| h.to_string()).collect();
    header.extend(half_terms.iter().map(|h| h.label.to_string()));
    header.extend(TRAILING_HEADERS.iter().map(|h| h.to_string()));
    let mut out = vec![header];
    if half_terms.is_empty() || schools.is_empty() {
        return out;
    }

    // Who asks: every school at risk (one or two requests), then others.
    let mut asks: Vec<usize> = Vec::new();
    for (i, s) in schools.iter().enumerate() {
        if s.risk_tier.is_some() {
            asks.push(i);
            if rng.random_bool(0.5) {
                asks.push(i);
            }
        }
    }
    let others: Vec<usize> =
        (0..schools.len()).filter(|i| schools[*i].risk_tier.is_none()).collect();
    // Two requests a school at most, or as many more as `count` needs (a
    // benchmark's partnership asks 2.5 a school).
    let most = count.saturating_sub(asks.len()).div_ceil(others.len().max(1)).max(1) + 1;
    let mut per_school = vec![0usize; schools.len()];
    for &i in &asks {
        per_school[i] += 1;
    }
    let mut guard = 0;
    while asks.len() < count && !others.is_empty() && guard < count * 20 {
        guard += 1;
        let i = *others.choose(rng).expect("not empty");
        if per_school[i] < most {
            per_school[i] += 1;
            asks.push(i);
        }
    }
    asks.truncate(count);
    asks.sort_unstable();

    let configured = |t: &str| rules.titles.iter().any(|x| x.name.as_str() == t);
    let mut n = 0;
    let mut asked: BTreeSet<(usize, &str)> = BTreeSet::new();
    for i in asks {
        let s = &schools[i];
        let fitting: Vec<&str> = rules
            .needs
            .iter()
            .filter(|r| r.phases.contains(&s.school.phase))
            .map(|r| r.area.as_str())
            .filter(|a| !asked.contains(&(i, *a)))
            .collect();
        let Ok(need) = fitting.choose_weighted(rng, |a| need_weight(a)) else { continue };
        asked.insert((i, *need));
        n += 1;

        let mut titles: Vec<&str> = match *need {
            "leadership" => vec!["LLE", "NLE"],
            "behaviour" => vec!["SLE", "LLE"],
            _ => vec!["SLE"],
        };
        if rng.random_bool(0.35) {
            titles.push(SENIOR_PRACTITIONER);
        }
        titles.retain(|t| configured(t));
        if titles.is_empty() {
            titles.push(rules.titles[0].name.as_str());
        }

        // Half-termly: from the first half-term left (now and then the
        // next), over one to three of them.
        let start = usize::from(half_terms.len() > 1 && rng.random_bool(0.35));
        let span = match rng.random_range(0..100) {
            0..30 => 1,
            30..75 => 2,
            _ => 3,
        };
        let at_risk = s.risk_tier.is_some();
        let days: Vec<u32> = (0..half_terms.len())
            .map(|k| {
                if k < start || k >= start + span {
                    0
                } else if at_risk {
                    rng.random_range(2..=3)
                } else {
                    rng.random_range(1..=2)
                }
            })
            .collect();

        let tier = match s.risk_tier {
            Some(_) if rng.random_bool(0.8) => "follow".to_owned(),
            Some(t) => t.to_string(),
            None if rng.random_bool(0.1) => "follow".to_owned(),
            None if rng.random_bool(0.5) => "3".to_owned(),
            None => "4".to_owned(),
        };
        let roll = rng.random_range(0..100);
        let funding = match (at_risk, roll) {
            (true, 0..25) => "rise",
            (true, 25..30) => "school_paid",
            (false, 0..15) => "school_paid",
            (false, 15..25) if s.school.trust.is_some() => "trust",
            _ => "la_core",
        };
        let po = if matches!(funding, "school_paid" | "trust") {
            format!("PO-{}-{:02}", s.school.urn, n)
        } else {
            String::new()
        };
        let mut row = vec![format!("{prefix}-{n:03}"), s.school.urn.to_string(), need.to_string()];
        row.extend(days.iter().map(|d| if *d == 0 { String::new() } else { d.to_string() }));
        row.extend([tier, titles.join("; "), funding.to_owned(), po]);
        out.push(row);
    }
    out
}
