//! The domain's `Rules` from the engine's configuration. (TEMPORARY: until
//! the configuration carries the calendar, needs, titles and service levels,
//! they are the built-in defaults below. MERGE: read them from `Config`.)

use std::collections::BTreeSet;

use bridges_schemas::vocab::AcademicYearId;
use bridges_schemas::{Designation, NeedArea, Period, Phase};
use chrono::NaiveDate;

use crate::config::Config;
use crate::domain::{Calendar, HalfTerm, NeedRule, RiskRule, Rules, ServiceLevels, Title};

/// The rules an engine with `config` decides by.
pub fn rules(config: &Config) -> Rules {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).expect("a real date");
    let year = AcademicYearId("2026-27".into());
    let ht = |label: &str, first, last| HalfTerm {
        label: Period::from(label),
        year: year.clone(),
        first,
        last,
    };
    let calendar = Calendar {
        half_terms: vec![
            ht("2026-AU1", d(2026, 9, 2), d(2026, 10, 23)),
            ht("2026-AU2", d(2026, 11, 2), d(2026, 12, 18)),
            ht("2027-SP1", d(2027, 1, 4), d(2027, 2, 12)),
            ht("2027-SP2", d(2027, 2, 22), d(2027, 3, 25)),
            ht("2027-SU1", d(2027, 4, 12), d(2027, 5, 28)),
            ht("2027-SU2", d(2027, 6, 7), d(2027, 7, 21)),
        ],
        bank_holidays: BTreeSet::from([
            d(2026, 8, 31),
            d(2026, 12, 25),
            d(2026, 12, 28),
            d(2027, 1, 1),
            d(2027, 3, 26),
            d(2027, 3, 29),
            d(2027, 5, 3),
            d(2027, 5, 31),
            d(2027, 8, 30),
        ]),
    };
    use Phase::*;
    let all = Phase::ALL.to_vec();
    let needs = config
        .need_areas
        .iter()
        .map(|area| NeedRule {
            area: area.clone(),
            phases: match area.as_str() {
                "post-16" => vec![Secondary, AllThrough, SixteenPlus],
                "early-years" => vec![Nursery, Primary, AllThrough, Special],
                _ => all.clone(),
            },
        })
        .collect();
    let titles = [("NLE", 550), ("LLE", 475), ("SLE", 350), ("Senior Practitioner", 400)]
        .into_iter()
        .map(|(n, r)| Title { name: title(n), day_rate: r })
        .collect();
    Rules {
        la_code: config.la_code,
        calendar,
        needs,
        titles,
        service: ServiceLevels {
            match_within: 2,
            answer_within: 5,
            first_contact_within: 7,
            visit_record_within: 5,
        },
        risk: RiskRule { serious: Some(1), concern: Some(2), secure: None, strong: None },
        policy: config.brokerage_policy.clone(),
    }
}

fn title(name: &str) -> Designation {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .expect("a national title reads as a designation")
}

/// A need area by name.
pub fn need(name: &str) -> NeedArea {
    NeedArea::from(name)
}
