//! Validation of a brokerage problem before anything is solved: ids outside
//! the contract's character set, titles that are not titles, unknown
//! references, duplicates, bad numbers, periods not listed, and pins on an
//! excluded pair (rule 9). The first
//! problem found is returned as an [`InvalidProblem`] naming the JSON path of
//! the field, its value and why it is refused.
//!
//! It does not judge feasibility (pins that break a rule are a plan with
//! `status: "infeasible"`, not bad input).

use std::collections::{BTreeMap, BTreeSet};

use bridges_schemas::brokerage::{BrokerageProblem, DaysByPeriod};
use bridges_schemas::common::{check_id, check_title};

use crate::common::InvalidProblem;

/// Checks every reference, id and number of `problem`. A field's path is
/// written only for the one refused (writing every path was most of the
/// time of a valid 5,000-request problem's check).
pub fn validate(problem: &BrokerageProblem) -> Result<(), InvalidProblem> {
    let mut periods = BTreeSet::new();
    for (i, period) in problem.periods.iter().enumerate() {
        id(|| format!("periods[{i}]"), period.as_str())?;
        if !periods.insert(period.as_str()) {
            return Err(InvalidProblem::new(format!("periods[{i}]"), period, "duplicate period"));
        }
    }

    let mut urns = BTreeSet::new();
    for (i, school) in problem.schools.iter().enumerate() {
        if !urns.insert(school.urn) {
            return Err(InvalidProblem::new(
                format!("schools[{i}].urn"),
                school.urn,
                "duplicate school urn",
            ));
        }
        finite(|| format!("schools[{i}].easting"), school.easting)?;
        finite(|| format!("schools[{i}].northing"), school.northing)?;
    }

    let mut practitioners = BTreeSet::new();
    for (i, p) in problem.practitioners.iter().enumerate() {
        let at = |field: &str| format!("practitioners[{i}].{field}");
        id(|| at("id"), p.id.as_str())?;
        title(|| at("designation"), p.designation.as_str())?;
        if !practitioners.insert(p.id.as_str()) {
            return Err(InvalidProblem::new(at("id"), &p.id, "duplicate practitioner id"));
        }
        if !urns.contains(&p.home_urn) {
            return Err(InvalidProblem::new(at("home_urn"), p.home_urn, "no school with this urn"));
        }
        non_negative(|| at("day_rate"), p.day_rate)?;
        days(|| at("capacity"), &p.capacity, &periods)?;
        if let Some(max) = p.max_days {
            whole_days(|| at("max_days"), max)?;
        }
    }

    let mut requests = BTreeSet::new();
    for (i, r) in problem.requests.iter().enumerate() {
        let at = |field: &str| format!("requests[{i}].{field}");
        id(|| at("id"), r.id.as_str())?;
        for (k, d) in r.designations.iter().enumerate() {
            title(|| at(&format!("designations[{k}]")), d.as_str())?;
        }
        if !requests.insert(r.id.as_str()) {
            return Err(InvalidProblem::new(at("id"), &r.id, "duplicate request id"));
        }
        if !urns.contains(&r.urn) {
            return Err(InvalidProblem::new(at("urn"), r.urn, "no school with this urn"));
        }
        if !(1..=4).contains(&r.priority) {
            return Err(InvalidProblem::new(
                at("priority"),
                r.priority,
                "priority must be 1 (most urgent) to 4",
            ));
        }
        days(|| at("days"), &r.days, &periods)?;
        if let Some(prev) = &r.previous_practitioner
            && !practitioners.contains(prev.as_str())
        {
            return Err(InvalidProblem::new(
                at("previous_practitioner"),
                prev,
                "no practitioner with this id",
            ));
        }
    }

    for (i, c) in problem.conflicts.iter().enumerate() {
        if !practitioners.contains(c.practitioner.as_str()) {
            return Err(InvalidProblem::new(
                format!("conflicts[{i}].practitioner"),
                &c.practitioner,
                "no practitioner with this id",
            ));
        }
        if !urns.contains(&c.urn) {
            return Err(InvalidProblem::new(
                format!("conflicts[{i}].urn"),
                c.urn,
                "no school with this urn",
            ));
        }
    }

    let mut excluded = BTreeMap::new();
    for (i, x) in problem.exclusions.iter().enumerate() {
        if !requests.contains(x.request.as_str()) {
            return Err(InvalidProblem::new(
                format!("exclusions[{i}].request"),
                &x.request,
                "no request with this id",
            ));
        }
        if !practitioners.contains(x.practitioner.as_str()) {
            return Err(InvalidProblem::new(
                format!("exclusions[{i}].practitioner"),
                &x.practitioner,
                "no practitioner with this id",
            ));
        }
        excluded.entry((x.request.as_str(), x.practitioner.as_str())).or_insert(i);
    }

    for (i, pin) in problem.pinned.iter().enumerate() {
        if !requests.contains(pin.request.as_str()) {
            return Err(InvalidProblem::new(
                format!("pinned[{i}].request"),
                &pin.request,
                "no request with this id",
            ));
        }
        if !practitioners.contains(pin.practitioner.as_str()) {
            return Err(InvalidProblem::new(
                format!("pinned[{i}].practitioner"),
                &pin.practitioner,
                "no practitioner with this id",
            ));
        }
        if let Some(x) = excluded.get(&(pin.request.as_str(), pin.practitioner.as_str())) {
            return Err(InvalidProblem::new(
                format!("pinned[{i}].practitioner"),
                &pin.practitioner,
                format!("excluded from request {} by exclusions[{x}] (rule 9)", pin.request),
            ));
        }
        days(|| format!("pinned[{i}].days"), &pin.days, &periods)?;
    }

    if let Some(km) = problem.policy.max_distance_km {
        non_negative(|| "policy.max_distance_km".to_owned(), km)?;
    }
    if let Some(budget) = problem.policy.budget {
        non_negative(|| "policy.budget".to_owned(), budget)?;
    }
    Ok(())
}

/// An id of the contract's character set (ASCII letters, digits, `-`, `_`; 1 to 64).
fn id(field: impl Fn() -> String, value: &str) -> Result<(), InvalidProblem> {
    check_id(value).map_err(|why| InvalidProblem::new(field(), format!("{value:?}"), why))
}

/// A designation title (1 to 40 printable characters, no space at either end).
fn title(field: impl Fn() -> String, value: &str) -> Result<(), InvalidProblem> {
    check_title(value).map_err(|why| InvalidProblem::new(field(), format!("{value:?}"), why))
}

/// A map of days: every period listed in `periods`, every value whole and >= 0.
fn days(
    at: impl Fn() -> String,
    days: &DaysByPeriod,
    periods: &BTreeSet<&str>,
) -> Result<(), InvalidProblem> {
    for (period, &value) in days {
        let field = || format!("{}.{period}", at());
        if !periods.contains(period.as_str()) {
            return Err(InvalidProblem::new(field(), period, "period not listed in `periods`"));
        }
        whole_days(field, value)?;
    }
    Ok(())
}

/// Days are whole, finite and not negative (and small enough to count in u32).
fn whole_days(field: impl Fn() -> String, value: f64) -> Result<(), InvalidProblem> {
    non_negative(&field, value)?;
    if value.fract() != 0.0 {
        return Err(InvalidProblem::new(field(), value, "days must be whole"));
    }
    if value > MAX_DAYS {
        return Err(InvalidProblem::new(field(), value, "more days than a plan can hold"));
    }
    Ok(())
}

/// Far more days than any year holds; keeps the arithmetic in u32 exact.
const MAX_DAYS: f64 = 100_000.0;

fn non_negative(field: impl Fn() -> String, value: f64) -> Result<(), InvalidProblem> {
    finite(&field, value)?;
    if value < 0.0 {
        return Err(InvalidProblem::new(field(), value, "must not be negative"));
    }
    Ok(())
}

fn finite(field: impl Fn() -> String, value: f64) -> Result<(), InvalidProblem> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(InvalidProblem::new(field(), value, "must be a finite number"))
    }
}
