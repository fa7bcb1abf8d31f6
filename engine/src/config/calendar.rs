//! The academic calendar of the configuration, typed: academic years (1
//! September to 31 August), their six half-terms with first and last days,
//! and the bank holidays of England and Wales; with the pure date helpers the
//! engine counts by (which half-term a date is in, working days for service
//! levels, the half-terms a run may still plan, term weeks) and ISO weeks.
//!
//! It holds dates, not times, except where a moment has to be placed in
//! England: [`london_date`] and [`monday_morning`] (Europe/London, so the
//! day turns at midnight on the clocks of the borough, summer time or not).
//! It reads no clock: every moment comes in as an argument.
//!
//! Decisions, stated once:
//! - A **working day** is Monday to Friday less the configured bank holidays,
//!   in school holidays too (the service-level clocks of DESIGN.md section 6
//!   run while schools are closed: a broker works in half-term). Outside the
//!   configured years no bank holiday is known, so only weekends are skipped.
//! - A **term day** is a working day inside a half-term; a **term week** is a
//!   Monday-to-Sunday week with at least one term day (39 a year).
//! - A half-term has **ended** at a moment when that moment's date in London
//!   is after the half-term's last day.

use std::collections::BTreeSet;
use std::fmt;

use bridges_schemas::Period;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Europe::London;
use serde::{Deserialize, Deserializer};

use super::Invalid;

/// Half-terms in an academic year (Autumn 1 .. Summer 2).
pub const HALF_TERMS_PER_YEAR: usize = 6;

/// The configured academic years, in order, with every half-term of all of
/// them in one ordered list (validated: ordered, not overlapping, unique
/// labels).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "CalendarFile")]
pub struct Calendar {
    years: Vec<AcademicYear>,
    half_terms: Vec<HalfTerm>,
    bank_holidays: BTreeSet<NaiveDate>,
}

/// One academic year: 1 September of `starts` to 31 August of the next year.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcademicYear {
    /// The calendar year in which it starts: 2026 for 2026/27.
    pub starts: i32,
    pub half_terms: Vec<HalfTerm>,
    #[serde(deserialize_with = "dates")]
    pub bank_holidays: Vec<NaiveDate>,
}

/// One half-term: its label (an id, such as `2026-AU1`) and its first and
/// last days, inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HalfTerm {
    pub label: Period,
    #[serde(deserialize_with = "date")]
    pub first: NaiveDate,
    #[serde(deserialize_with = "date")]
    pub last: NaiveDate,
}

/// The `[calendar]` section as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    years: Vec<AcademicYear>,
}

impl From<CalendarFile> for Calendar {
    fn from(file: CalendarFile) -> Calendar {
        Calendar::new(file.years)
    }
}

impl AcademicYear {
    /// 1 September of the year it starts in.
    pub fn first_day(&self) -> NaiveDate {
        ymd(self.starts, 9, 1)
    }

    /// 31 August of the next year.
    pub fn last_day(&self) -> NaiveDate {
        ymd(self.starts + 1, 8, 31)
    }

    /// `2026/27`.
    pub fn label(&self) -> String {
        format!("{}/{:02}", self.starts, (self.starts + 1).rem_euclid(100))
    }

    fn contains(&self, date: NaiveDate) -> bool {
        (self.first_day()..=self.last_day()).contains(&date)
    }
}

impl HalfTerm {
    pub fn contains(&self, date: NaiveDate) -> bool {
        (self.first..=self.last).contains(&date)
    }
}

impl Calendar {
    /// The calendar of `years`, as given (call [`Calendar::validate`]).
    pub fn new(years: Vec<AcademicYear>) -> Calendar {
        let half_terms = years.iter().flat_map(|y| y.half_terms.iter().cloned()).collect();
        let bank_holidays = years.iter().flat_map(|y| y.bank_holidays.iter().copied()).collect();
        Calendar { years, half_terms, bank_holidays }
    }

    /// The configured academic years, in order.
    pub fn years(&self) -> &[AcademicYear] {
        &self.years
    }

    /// Every half-term of every configured year, in order.
    pub fn half_terms(&self) -> &[HalfTerm] {
        &self.half_terms
    }

    /// The configured year whose 1 September .. 31 August holds `date`.
    pub fn academic_year_of(&self, date: NaiveDate) -> Option<&AcademicYear> {
        self.years.iter().find(|y| y.contains(date))
    }

    /// The half-term whose first .. last days hold `date` (none in a
    /// holiday between half-terms; a bank holiday inside a half-term, such as
    /// the early May one, is in it).
    pub fn half_term_of(&self, date: NaiveDate) -> Option<&HalfTerm> {
        self.half_terms.iter().find(|h| h.contains(date))
    }

    /// The academic year a half-term belongs to.
    pub fn year_of_half_term(&self, label: &Period) -> Option<&AcademicYear> {
        self.years.iter().find(|y| y.half_terms.iter().any(|h| &h.label == label))
    }

    pub fn is_bank_holiday(&self, date: NaiveDate) -> bool {
        self.bank_holidays.contains(&date)
    }

    /// Monday to Friday and not a bank holiday (school holidays count).
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.is_bank_holiday(date)
    }

    /// A working day inside a half-term.
    pub fn is_term_day(&self, date: NaiveDate) -> bool {
        self.is_working_day(date) && self.half_term_of(date).is_some()
    }

    /// Working days after `from` up to and including `to`: the days a
    /// service-level clock started on `from` has run by the end of `to`
    /// (0 when `to` is not after `from`).
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut days = 0;
        let mut d = from;
        while d < to {
            d += Duration::days(1);
            if self.is_working_day(d) {
                days += 1;
            }
        }
        days
    }

    /// The `n`th working day after `from` (`from` itself when `n` is 0): the
    /// deadline of a clock of `n` working days started on `from`.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut d = from;
        let mut left = n;
        while left > 0 {
            d += Duration::days(1);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// The half-terms not yet ended at `at` (its date in London not after
    /// their last day), of every configured year, in order: the tail of
    /// [`Calendar::half_terms`].
    pub fn open_half_terms(&self, at: DateTime<Utc>) -> &[HalfTerm] {
        let today = london_date(at);
        let first_open = self.half_terms.partition_point(|h| h.last < today);
        &self.half_terms[first_open..]
    }

    /// The Mondays of `year`'s term weeks: weeks with at least one term day.
    pub fn term_weeks(&self, year: &AcademicYear) -> Vec<NaiveDate> {
        let mut mondays = BTreeSet::new();
        for h in &year.half_terms {
            let mut d = h.first;
            while d <= h.last {
                if self.is_term_day(d) {
                    mondays.insert(monday_of(d));
                }
                d += Duration::days(1);
            }
        }
        mondays.into_iter().collect()
    }

    /// Whether the week holding `date` is a term week.
    pub fn is_term_week(&self, date: NaiveDate) -> bool {
        let monday = monday_of(date);
        (0..7).any(|i| self.is_term_day(monday + Duration::days(i)))
    }

    /// Checks the calendar: at least one year; years in order; in each, six
    /// half-terms inside its 1 September .. 31 August, each first day not
    /// after its last; every half-term (over all years) after the one before
    /// it, not overlapping; labels ids and unique; bank holidays weekdays
    /// inside their year, each once.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.years.is_empty() {
            return Err(Invalid::new(
                "calendar.years",
                "[]",
                "the calendar needs at least one year",
            ));
        }
        let mut labels = BTreeSet::new();
        let mut previous: Option<(&HalfTerm, String)> = None;
        for (y, year) in self.years.iter().enumerate() {
            let at = format!("calendar.years[{y}]");
            if y > 0 && self.years[y - 1].starts >= year.starts {
                return Err(Invalid::new(
                    format!("{at}.starts"),
                    year.starts,
                    format!(
                        "years must be in order, each once: it follows {}",
                        self.years[y - 1].starts
                    ),
                ));
            }
            if year.half_terms.len() != HALF_TERMS_PER_YEAR {
                return Err(Invalid::new(
                    format!("{at}.half_terms"),
                    format!("{} half-terms", year.half_terms.len()),
                    format!("an academic year has {HALF_TERMS_PER_YEAR} half-terms"),
                ));
            }
            for (i, h) in year.half_terms.iter().enumerate() {
                let here = format!("{at}.half_terms[{i}]");
                if let Err(reason) = id(h.label.as_str()) {
                    return Err(Invalid::new(format!("{here}.label"), quoted(&h.label.0), reason));
                }
                if !labels.insert(h.label.as_str()) {
                    return Err(Invalid::new(
                        format!("{here}.label"),
                        quoted(&h.label.0),
                        "a half-term label is used once",
                    ));
                }
                if h.first > h.last {
                    return Err(Invalid::new(
                        format!("{here}.last"),
                        h.last,
                        format!("before its first day {}", h.first),
                    ));
                }
                if let Some((end, day)) = [("first", h.first), ("last", h.last)]
                    .into_iter()
                    .find(|(_, day)| !year.contains(*day))
                {
                    return Err(Invalid::new(
                        format!("{here}.{end}"),
                        day,
                        format!(
                            "outside the academic year {} ({} .. {})",
                            year.label(),
                            year.first_day(),
                            year.last_day()
                        ),
                    ));
                }
                if let Some((before, before_at)) = &previous
                    && h.first <= before.last
                {
                    return Err(Invalid::new(
                        format!("{here}.first"),
                        h.first,
                        format!(
                            "half-terms must be in order and not overlap: {before_at} ({}) ends {}",
                            before.label, before.last
                        ),
                    ));
                }
                previous = Some((h, here));
            }
            let mut seen = BTreeSet::new();
            for (i, d) in year.bank_holidays.iter().enumerate() {
                let here = format!("{at}.bank_holidays[{i}]");
                if !year.contains(*d) {
                    return Err(Invalid::new(
                        here,
                        d,
                        format!("outside the academic year {}", year.label()),
                    ));
                }
                if matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
                    return Err(Invalid::new(
                        here,
                        d,
                        format!(
                            "falls on a {}: a bank holiday is the weekday it is moved to",
                            d.weekday()
                        ),
                    ));
                }
                if !seen.insert(*d) {
                    return Err(Invalid::new(here, d, "listed twice"));
                }
            }
        }
        Ok(())
    }
}

/// An ISO week, `2026-W48`: a year and a week number that year has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct IsoWeek {
    monday: NaiveDate,
}

impl IsoWeek {
    /// Reads `YYYY-Www` (for example `2026-W48`), refusing anything else and
    /// weeks the year does not have (W00, W54, W53 in a 52-week year).
    pub fn parse(text: &str) -> Result<IsoWeek, String> {
        let bytes = text.as_bytes();
        let shaped = bytes.len() == 8
            && bytes[..4].iter().all(u8::is_ascii_digit)
            && &bytes[4..6] == b"-W"
            && bytes[6..].iter().all(u8::is_ascii_digit);
        if !shaped {
            return Err("expected an ISO week YYYY-Www, for example 2026-W48".to_owned());
        }
        let year: i32 = text[..4].parse().map_err(|_| "the year is not a number".to_owned())?;
        let week: u32 = text[6..].parse().map_err(|_| "the week is not a number".to_owned())?;
        let weeks = weeks_in(year);
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)
            .filter(|_| (1..=weeks).contains(&week))
            .map(|monday| IsoWeek { monday })
            .ok_or_else(|| format!("{year} has ISO weeks W01 to W{weeks}"))
    }

    /// The week holding `date`.
    pub fn of(date: NaiveDate) -> IsoWeek {
        IsoWeek { monday: monday_of(date) }
    }

    pub fn monday(&self) -> NaiveDate {
        self.monday
    }
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.monday.iso_week();
        write!(f, "{}-W{:02}", w.year(), w.week())
    }
}

/// The date in London (Europe/London: GMT in winter, BST in summer) at `at`.
pub fn london_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&London).date_naive()
}

/// 09:00 on `week`'s Monday in London, as a moment.
pub fn monday_morning(week: IsoWeek) -> DateTime<Utc> {
    let nine = week.monday.and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN));
    London
        .from_local_datetime(&nine)
        .earliest()
        .expect("UK clocks change at 01:00 on Sundays: 09:00 on a Monday always exists")
        .with_timezone(&Utc)
}

/// Why an id is refused, if it is: 1 to 64 ASCII letters, digits, `-`, `_`.
pub fn id(text: &str) -> Result<(), String> {
    if text.is_empty() || text.len() > 64 {
        return Err("an id has 1 to 64 characters".to_owned());
    }
    match text.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_')) {
        Some(c) => Err(format!("{c:?} is not allowed in an id (ASCII letters, digits, - and _)")),
        None => Ok(()),
    }
}

fn quoted(text: &str) -> String {
    format!("{text:?}")
}

fn monday_of(date: NaiveDate) -> NaiveDate {
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

fn weeks_in(year: i32) -> u32 {
    // 28 December is always in the last ISO week of its year.
    NaiveDate::from_ymd_opt(year, 12, 28).map_or(52, |d| d.iso_week().week())
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or(NaiveDate::MIN)
}

/// A date written `"2026-09-02"` (or as a TOML date, unquoted).
fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    d.deserialize_any(DateVisitor)
}

fn dates<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<NaiveDate>, D::Error> {
    struct Day(NaiveDate);
    impl<'de> Deserialize<'de> for Day {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Day, D::Error> {
            d.deserialize_any(DateVisitor).map(Day)
        }
    }
    Ok(Vec::<Day>::deserialize(d)?.into_iter().map(|d| d.0).collect())
}

struct DateVisitor;

impl<'de> serde::de::Visitor<'de> for DateVisitor {
    type Value = NaiveDate;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a date YYYY-MM-DD")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<NaiveDate, E> {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .filter(|_| text.len() == 10)
            .ok_or_else(|| E::custom(format!("{text:?} is not a date YYYY-MM-DD")))
    }

    /// A TOML date reaches serde as a one-entry map (toml's private key).
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<NaiveDate, A::Error> {
        let Some((_, text)) = map.next_entry::<String, String>()? else {
            return Err(serde::de::Error::custom("expected a date YYYY-MM-DD"));
        };
        self.visit_str(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("test date")
    }

    fn calendar() -> Calendar {
        crate::config::Config::built_in().expect("built-in config").calendar
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("test moment").with_timezone(&Utc)
    }

    #[test]
    fn given_the_built_in_calendar_then_it_is_valid_with_three_years_of_six_half_terms() {
        let c = calendar();
        assert_eq!(c.validate(), Ok(()));
        let years: Vec<String> = c.years().iter().map(AcademicYear::label).collect();
        assert_eq!(years, ["2025/26", "2026/27", "2027/28"]);
        assert_eq!(c.half_terms().len(), 18);
        assert_eq!(c.half_terms()[6].label, Period::from("2026-AU1"));
        assert_eq!(c.half_terms()[11].label, Period::from("2027-SU2"));
    }

    #[test]
    fn given_each_configured_year_when_counting_term_weeks_then_there_are_39() {
        let c = calendar();
        for year in c.years() {
            let weeks = c.term_weeks(year);
            assert_eq!(weeks.len(), 39, "{}", year.label());
            assert!(weeks.iter().all(|m| m.weekday() == Weekday::Mon));
        }
        assert!(c.is_term_week(d("2026-11-25")));
        assert!(!c.is_term_week(d("2026-10-28")), "October half-term holiday");
        assert!(!c.is_term_week(d("2026-08-12")), "summer holiday");
    }

    #[test]
    fn given_a_date_when_asking_its_half_term_then_holidays_have_none() {
        let c = calendar();
        let label = |date: &str| c.half_term_of(d(date)).map(|h| h.label.0.clone());
        assert_eq!(label("2026-09-02").as_deref(), Some("2026-AU1"), "first day");
        assert_eq!(label("2026-10-23").as_deref(), Some("2026-AU1"), "last day");
        assert_eq!(label("2026-10-26"), None, "half-term holiday");
        assert_eq!(label("2026-11-02").as_deref(), Some("2026-AU2"));
        assert_eq!(label("2026-12-25"), None, "Christmas");
        assert_eq!(label("2027-05-03").as_deref(), Some("2027-SU1"), "a bank holiday in term");
        assert!(!c.is_term_day(d("2027-05-03")), "but not a term day");
        assert_eq!(label("2029-01-10"), None, "outside every configured year");
    }

    #[test]
    fn given_a_date_when_asking_its_academic_year_then_september_starts_it() {
        let c = calendar();
        let year = |date: &str| c.academic_year_of(d(date)).map(AcademicYear::label);
        assert_eq!(year("2026-08-31").as_deref(), Some("2025/26"));
        assert_eq!(year("2026-09-01").as_deref(), Some("2026/27"));
        assert_eq!(year("2027-07-16").as_deref(), Some("2026/27"));
        assert_eq!(year("2025-08-31"), None);
        assert_eq!(year("2028-09-01"), None);
        assert_eq!(
            c.year_of_half_term(&Period::from("2027-SP1")).map(AcademicYear::label).as_deref(),
            Some("2026/27")
        );
    }

    #[test]
    fn given_weekends_and_bank_holidays_when_counting_working_days_then_both_are_skipped() {
        let c = calendar();
        // Monday to Wednesday: two working days later.
        assert_eq!(c.working_days_between(d("2026-11-23"), d("2026-11-25")), 2);
        // Friday to Monday: the weekend does not count.
        assert_eq!(c.working_days_between(d("2026-11-27"), d("2026-11-30")), 1);
        // Over Christmas 2026: 25 (Fri) and 28 (Mon, for Boxing Day) are bank holidays.
        assert_eq!(c.working_days_between(d("2026-12-24"), d("2026-12-29")), 1);
        // Half-term holidays are working days.
        assert_eq!(c.working_days_between(d("2026-10-23"), d("2026-10-30")), 5);
        // Across the year boundary (31 August 2026, a bank holiday, ends 2025/26).
        assert_eq!(c.working_days_between(d("2026-08-28"), d("2026-09-01")), 1);
        assert_eq!(c.working_days_between(d("2026-11-25"), d("2026-11-23")), 0, "backwards");
        assert_eq!(c.working_days_between(d("2026-11-25"), d("2026-11-25")), 0);
    }

    #[test]
    fn given_a_start_when_adding_working_days_then_the_deadline_skips_holidays() {
        let c = calendar();
        assert_eq!(c.add_working_days(d("2026-11-23"), 2), d("2026-11-25"));
        assert_eq!(c.add_working_days(d("2026-11-26"), 2), d("2026-11-30"), "over a weekend");
        // Raised on Christmas Eve 2026: answered within 5 by 4 January 2027
        // (25, 28 December and 1 January are bank holidays).
        assert_eq!(c.add_working_days(d("2026-12-24"), 5), d("2027-01-05"));
        // Started on a bank holiday: the clock starts the next working day.
        assert_eq!(c.add_working_days(d("2027-05-03"), 1), d("2027-05-04"));
        assert_eq!(c.add_working_days(d("2026-08-28"), 1), d("2026-09-01"), "year boundary");
        assert_eq!(c.add_working_days(d("2026-11-28"), 0), d("2026-11-28"));
        for (from, n) in [("2026-12-24", 5), ("2027-03-25", 3), ("2026-08-29", 7)] {
            let to = c.add_working_days(d(from), n);
            assert_eq!(c.working_days_between(d(from), to), n, "{from} + {n}");
        }
    }

    #[test]
    fn given_a_moment_when_asking_open_half_terms_then_ended_ones_are_left_out() {
        let c = calendar();
        let first = |text: &str| c.open_half_terms(at(text)).first().map(|h| h.label.0.clone());
        // Monday 30 November 2026, 09:00 in London: Autumn 1 has ended.
        assert_eq!(first("2026-11-30T09:00:00Z").as_deref(), Some("2026-AU2"));
        assert_eq!(c.open_half_terms(at("2026-11-30T09:00:00Z")).len(), 11);
        // The last day of a half-term is open to its end in London: 23:30 UTC
        // on 23 October 2026 (BST) is already 24 October there.
        assert_eq!(first("2026-10-23T22:30:00Z").as_deref(), Some("2026-AU1"));
        assert_eq!(first("2026-10-23T23:30:00Z").as_deref(), Some("2026-AU2"));
        // In the summer holiday the next year is open whole.
        assert_eq!(first("2026-08-10T09:00:00Z").as_deref(), Some("2026-AU1"));
        assert!(c.open_half_terms(at("2028-07-15T09:00:00Z")).is_empty());
    }

    #[test]
    fn given_iso_week_labels_then_only_weeks_that_exist_are_read() {
        let week = IsoWeek::parse("2026-W48").expect("a week");
        assert_eq!(week.monday(), d("2026-11-23"));
        assert_eq!(week.to_string(), "2026-W48");
        assert_eq!(IsoWeek::parse("2026-W53").map(|w| w.monday()), Ok(d("2026-12-28")));
        assert_eq!(IsoWeek::parse("2026-W01").map(|w| w.monday()), Ok(d("2025-12-29")));
        for bad in
            ["garbage", "2026-W99", "2026-W00", "", "2027-W53", "2026-w48", "2026W48", "26-W48"]
        {
            assert!(IsoWeek::parse(bad).is_err(), "{bad:?} is refused");
        }
        assert_eq!(IsoWeek::of(d("2027-01-03")).to_string(), "2026-W53");
    }

    #[test]
    fn given_a_monday_then_nine_in_london_is_eight_utc_in_summer_and_nine_in_winter() {
        let summer = IsoWeek::parse("2026-W24").expect("week");
        assert_eq!(monday_morning(summer), at("2026-06-08T08:00:00Z"));
        let winter = IsoWeek::parse("2026-W48").expect("week");
        assert_eq!(monday_morning(winter), at("2026-11-23T09:00:00Z"));
        assert_eq!(london_date(at("2026-06-07T23:30:00Z")), d("2026-06-08"));
    }

    fn edited(edit: impl FnOnce(&mut Vec<AcademicYear>)) -> Result<(), Invalid> {
        let mut years = calendar().years().to_vec();
        edit(&mut years);
        Calendar::new(years).validate()
    }

    #[test]
    fn given_a_broken_calendar_then_validation_names_the_key() {
        let key = |r: Result<(), Invalid>| r.expect_err("refused").key;
        assert_eq!(
            key(edited(|y| y[1].half_terms[2].label = Period::from("2026-AU1"))),
            "calendar.years[1].half_terms[2].label",
            "duplicate label"
        );
        assert_eq!(
            key(edited(|y| y[0].half_terms.swap(1, 2))),
            "calendar.years[0].half_terms[2].first",
            "unordered"
        );
        assert_eq!(
            key(edited(|y| y[0].half_terms[1].first = d("2025-10-20"))),
            "calendar.years[0].half_terms[1].first",
            "overlapping"
        );
        assert_eq!(
            key(edited(|y| y[2].half_terms[0].last = d("2027-09-01"))),
            "calendar.years[2].half_terms[0].last",
            "last before first"
        );
        assert_eq!(
            key(edited(|y| y[2].half_terms[5].last = d("2028-09-02"))),
            "calendar.years[2].half_terms[5].last",
            "outside September .. August"
        );
        assert_eq!(key(edited(|y| y.swap(0, 1))), "calendar.years[1].starts", "years in order");
        assert_eq!(
            key(edited(|y| {
                y[1].half_terms.pop();
            })),
            "calendar.years[1].half_terms",
            "five half-terms"
        );
        assert_eq!(
            key(edited(|y| y[0].half_terms[0].label = Period::from("2025 AU1"))),
            "calendar.years[0].half_terms[0].label",
            "not an id"
        );
        assert_eq!(
            key(edited(|y| y[0].bank_holidays[0] = d("2026-12-25"))),
            "calendar.years[0].bank_holidays[0]",
            "bank holiday of another year"
        );
        assert_eq!(
            key(edited(|y| y[1].bank_holidays[1] = d("2026-12-26"))),
            "calendar.years[1].bank_holidays[1]",
            "a Saturday"
        );
        assert_eq!(key(edited(Vec::clear)), "calendar.years", "no year");
    }

    #[test]
    fn given_the_bank_holidays_then_easter_and_may_fall_where_england_has_them() {
        let c = calendar();
        for (good_friday, easter_monday) in [
            ("2026-04-03", "2026-04-06"),
            ("2027-03-26", "2027-03-29"),
            ("2028-04-14", "2028-04-17"),
        ] {
            assert_eq!(d(good_friday).weekday(), Weekday::Fri);
            assert_eq!(d(easter_monday).weekday(), Weekday::Mon);
            assert!(c.is_bank_holiday(d(good_friday)) && c.is_bank_holiday(d(easter_monday)));
        }
        for year in c.years() {
            assert_eq!(year.bank_holidays.len(), 8, "{}", year.label());
        }
    }
}
