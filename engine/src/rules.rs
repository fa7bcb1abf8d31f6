//! The domain's `Rules` from the engine's configuration: the calendar (its
//! years' half-terms, with the academic year ids the domain keys budgets
//! by, and the bank holidays), need areas and the phases each fits, titles
//! and their typical day rates, service levels, the risk rule and the
//! brokerage policy, and the rounds' policy, history years and review
//! terms. The configuration is validated when it is read; this
//! only changes its shape.

use bridges_schemas::Designation;
use bridges_schemas::vocab::AcademicYearId;

use bridges_schemas::events::ReviewTerms;

use crate::config::Config;
use crate::domain::round::RoundRules;
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
        rounds: RoundRules {
            policy: config.triads_policy(),
            history_years: config.policy.triads.history_years,
            terms: ReviewTerms {
                primary_days: config.policy.triads.primary_review_days,
                secondary_days: config.policy.triads.secondary_review_days,
                primary_cost_pence: pence(config.policy.triads.primary_review_cost),
                secondary_cost_pence: pence(config.policy.triads.secondary_review_cost),
            },
        },
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

/// Pounds (validated finite and not negative) in pence.
fn pence(pounds: f64) -> u64 {
    (pounds * 100.0).round().max(0.0) as u64
}
