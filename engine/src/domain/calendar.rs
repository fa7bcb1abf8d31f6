//! The academic calendar as the domain reads it: academic years of six
//! half-terms with their first and last days, and bank holidays. Working
//! days are Monday to Friday less bank holidays. Pure: it is given dates and
//! never reads a clock.

use std::collections::BTreeSet;

use bridges_schemas::Period;
use bridges_schemas::vocab::AcademicYearId;
use chrono::{Datelike, Days, NaiveDate, Weekday};

/// One half-term: its label (`2026-AU1`), year, first and last day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HalfTerm {
    pub label: Period,
    pub year: AcademicYearId,
    pub first: NaiveDate,
    pub last: NaiveDate,
}

/// The configured academic years and bank holidays (validated by config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    /// Every half-term of every configured year, in date order.
    pub half_terms: Vec<HalfTerm>,
    pub bank_holidays: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// The half-term labelled `label`.
    pub fn half_term(&self, label: &Period) -> Option<&HalfTerm> {
        self.half_terms.iter().find(|h| &h.label == label)
    }

    /// The half-term a date falls in (none in the holidays between them).
    pub fn half_term_of(&self, date: NaiveDate) -> Option<&HalfTerm> {
        self.half_terms.iter().find(|h| h.first <= date && date <= h.last)
    }

    /// Monday to Friday, not a bank holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
            && !self.bank_holidays.contains(&date)
    }

    /// The working day `n` working days after `date` (`n = 0`: `date` itself
    /// if it is a working day, else the next one).
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut d = date;
        while !self.is_working_day(d) {
            d = d + Days::new(1);
        }
        let mut left = n;
        while left > 0 {
            d = d + Days::new(1);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days from `from` to `to`, both inclusive (0 when `to < from`).
    pub fn working_days(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut n = 0;
        let mut d = from;
        while d <= to {
            if self.is_working_day(d) {
                n += 1;
            }
            d = d + Days::new(1);
        }
        n
    }

    /// Whether the half-term has ended on `date` (its last day is before it).
    pub fn has_ended(&self, label: &Period, date: NaiveDate) -> bool {
        self.half_term(label).is_none_or(|h| h.last < date)
    }

    /// The academic year a run on `date` plans: the one whose half-terms
    /// include or next follow `date`.
    pub fn planning_year(&self, date: NaiveDate) -> Option<&AcademicYearId> {
        self.half_terms.iter().find(|h| h.last >= date).map(|h| &h.year)
    }

    /// The half-terms a run on `date` plans: those of its planning year that
    /// have not ended.
    pub fn planning_half_terms(&self, date: NaiveDate) -> Vec<&HalfTerm> {
        let Some(year) = self.planning_year(date) else { return Vec::new() };
        self.half_terms.iter().filter(|h| &h.year == year && h.last >= date).collect()
    }

    /// The half-terms of an academic year.
    pub fn year(&self, year: &AcademicYearId) -> impl Iterator<Item = &HalfTerm> {
        self.half_terms.iter().filter(move |h| &h.year == year)
    }
}

/// The date a moment falls on in England (one function for the config and
/// the domain).
pub use crate::config::calendar::london_date;
