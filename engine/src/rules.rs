//! The domain's `Rules` from the engine's configuration: the calendar (its
//! years' half-terms, with the academic year ids the domain keys budgets
//! by, and the bank holidays), need areas and the phases each fits, titles
//! and their typical day rates, service levels, the risk rule and the
//! brokerage policy. The configuration is validated when it is read; this
//! only changes its shape.

use bridges_schemas::Designation;
use bridges_schemas::vocab::AcademicYearId;

use crate::config::Config;
use crate::domain::{Calendar, HalfTerm, NeedRule, RiskRule, Rules, ServiceLevels, Title};

/// The rules an engine with `config` decides by.
pub fn rules(config: &Config) -> Rules {
    Rules {
        la_code: config.la_code,
        calendar: calendar(&config.calendar),
        needs: config
            .needs
            .areas
            .iter()
            .map(|a| NeedRule { area: a.name.clone(), phases: a.phases.clone() })
            .collect(),
        titles: config
            .designations
            .iter()
            .map(|d| Title {
                name: Designation::from(d.title.as_str()),
                day_rate: d.day_rate.round() as u32,
            })
            .collect(),
        service: ServiceLevels {
            match_within: config.service_levels.matched,
            answer_within: config.service_levels.answer,
            first_contact_within: config.service_levels.first_contact,
            visit_record_within: config.service_levels.visit_record,
        },
        // Bridges' rule over standing (CONTRACTS.md): a serious standing is
        // tier 1, a concern tier 2; secure and strong schools are not at risk.
        risk: RiskRule { serious: Some(1), concern: Some(2), secure: None, strong: None },
        policy: config.brokerage_policy(),
    }
}

/// The domain's calendar from the configured one.
pub fn calendar(config: &crate::config::Calendar) -> Calendar {
    let mut half_terms = Vec::new();
    for year in config.years() {
        let id = year_id(year.starts);
        for h in &year.half_terms {
            half_terms.push(HalfTerm {
                label: h.label.clone(),
                year: id.clone(),
                first: h.first,
                last: h.last,
            });
        }
    }
    let bank_holidays =
        config.years().iter().flat_map(|y| y.bank_holidays.iter().copied()).collect();
    Calendar { half_terms, bank_holidays }
}

/// The id of the academic year starting in September of `starts`: `2026-27`
/// (an id: it stands in stream names such as `partnership-2026-27`).
pub fn year_id(starts: i32) -> AcademicYearId {
    AcademicYearId(format!("{starts}-{:02}", (starts + 1).rem_euclid(100)))
}
