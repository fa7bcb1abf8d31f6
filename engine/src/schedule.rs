//! The matching run's schedule, pure: on which moments a served engine
//! starts a run by itself (`[schedule]` of the configuration: days of the
//! week and a time of day in a time zone, Europe/London by default), in
//! the calendar's term weeks only. From a UTC instant it gives the next
//! scheduled moment, the last one, and the one to catch up at start; the
//! run id of a moment. It reads no clock and starts nothing: the shell is
//! `nats::schedule`.
//!
//! The choices it makes:
//! - A time the clocks skip (in London, 01:00 to 01:59 on the last Sunday
//!   of March) runs at the first moment after the change (02:00 BST), as
//!   cron does: the run still happens that day, once.
//! - A time that happens twice (01:00 to 01:59 on the last Sunday of
//!   October) runs at the first of the two (BST), once.
//! - A term week is one with at least one term day (`Calendar::is_term_week`),
//!   so a Monday bank holiday in term still has its run; a half-term week
//!   or a holiday has none.
//! - At start, only the latest scheduled moment not after now is caught up,
//!   and only when it is at most [`CATCH_UP_WITHIN_DAYS`] old: a run is about
//!   the week it is in, and one from before a holiday is not worth making.
//!   The shell skips it when its run is recorded already.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use crate::config::Calendar;
use bridges_schemas::vocab::RunId;

/// How old the latest missed moment may be and still be caught up at start.
pub const CATCH_UP_WITHIN_DAYS: i64 = 7;

/// How far (days) the next or last moment is looked for; past it there is
/// none (a calendar's years are all it knows).
pub const HORIZON_DAYS: i64 = 400;

/// The prefix of a scheduled run's id.
pub const RUN_PREFIX: &str = "scheduled-";

/// When runs start by themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    days: Vec<Weekday>,
    time: NaiveTime,
    zone: Tz,
}

impl Schedule {
    /// A schedule on `days` at `time` (local to `zone`).
    pub fn new(days: Vec<Weekday>, time: NaiveTime, zone: Tz) -> Schedule {
        Schedule { days, time, zone }
    }

    /// The moment of the run on `date` (its local day), whether or not
    /// `date` is a run day: the local `time`, or the first moment after a
    /// change that skips it, or the first of two that repeat it.
    pub fn moment_on(&self, date: NaiveDate) -> DateTime<Utc> {
        let local = date.and_time(self.time);
        // A skipped time: the first local minute after it that exists is the
        // change itself (gaps are whole minutes, an hour in London).
        (0..=24 * 60)
            .find_map(|m| self.zone.from_local_datetime(&(local + Duration::minutes(m))).earliest())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| local.and_utc())
    }

    /// Whether `date` (a local day) has a run: one of the days, in a term week.
    pub fn is_run_day(&self, date: NaiveDate, calendar: &Calendar) -> bool {
        self.days.contains(&date.weekday()) && calendar.is_term_week(date)
    }

    /// The first scheduled moment strictly after `after`, if one comes within
    /// [`HORIZON_DAYS`].
    pub fn next_after(&self, after: DateTime<Utc>, calendar: &Calendar) -> Option<DateTime<Utc>> {
        let start = after.with_timezone(&self.zone).date_naive() - Duration::days(1);
        (0..HORIZON_DAYS)
            .map(|i| start + Duration::days(i))
            .filter(|d| self.is_run_day(*d, calendar))
            .map(|d| self.moment_on(d))
            .find(|m| *m > after)
    }

    /// The last scheduled moment at or before `at`, if one was within
    /// [`HORIZON_DAYS`].
    pub fn last_at_or_before(
        &self,
        at: DateTime<Utc>,
        calendar: &Calendar,
    ) -> Option<DateTime<Utc>> {
        let start = at.with_timezone(&self.zone).date_naive() + Duration::days(1);
        (0..HORIZON_DAYS)
            .map(|i| start - Duration::days(i))
            .filter(|d| self.is_run_day(*d, calendar))
            .map(|d| self.moment_on(d))
            .find(|m| *m <= at)
    }

    /// The moment to catch up at a start at `now`: the latest scheduled
    /// moment not after `now`, if it is at most [`CATCH_UP_WITHIN_DAYS`]
    /// old and `recorded` does not say its run is recorded already.
    pub fn catch_up(
        &self,
        now: DateTime<Utc>,
        calendar: &Calendar,
        recorded: impl Fn(&RunId) -> bool,
    ) -> Option<DateTime<Utc>> {
        self.last_at_or_before(now, calendar)
            .filter(|m| now - *m <= Duration::days(CATCH_UP_WITHIN_DAYS))
            .filter(|m| !recorded(&run_id(*m)))
    }
}

/// The id of the run scheduled at `moment`: `scheduled-` and the moment in
/// UTC to the minute (`scheduled-20261123T0700Z`), so that a second start
/// of the engine, or a retry, names the same run and cannot make it twice.
pub fn run_id(moment: DateTime<Utc>) -> RunId {
    RunId(format!("{RUN_PREFIX}{}", moment.format("%Y%m%dT%H%MZ")))
}

/// A day of the week as the configuration writes it: `Mon` .. `Sun`.
pub fn parse_day(text: &str) -> Result<Weekday, String> {
    const DAYS: [(&str, Weekday); 7] = [
        ("Mon", Weekday::Mon),
        ("Tue", Weekday::Tue),
        ("Wed", Weekday::Wed),
        ("Thu", Weekday::Thu),
        ("Fri", Weekday::Fri),
        ("Sat", Weekday::Sat),
        ("Sun", Weekday::Sun),
    ];
    DAYS.iter()
        .find(|(name, _)| *name == text)
        .map(|(_, day)| *day)
        .ok_or_else(|| "a day is one of Mon, Tue, Wed, Thu, Fri, Sat, Sun".to_owned())
}

/// A time of day as the configuration writes it: `HH:MM`, 24-hour.
pub fn parse_time(text: &str) -> Result<NaiveTime, String> {
    let well_formed = text.len() == 5 && text.as_bytes()[2] == b':';
    well_formed
        .then(|| NaiveTime::parse_from_str(text, "%H:%M").ok())
        .flatten()
        .ok_or_else(|| "a time is HH:MM, 24-hour (00:00 to 23:59)".to_owned())
}

/// A time zone by its IANA name (`Europe/London`).
pub fn parse_zone(text: &str) -> Result<Tz, String> {
    text.parse::<Tz>().map_err(|_| "not an IANA time zone name, for example Europe/London".into())
}

#[cfg(test)]
mod tests {
    use chrono_tz::Europe::London;

    use super::*;
    use crate::config::Config;

    fn calendar() -> Calendar {
        Config::built_in().expect("the default config").calendar
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("a UTC time")
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("a date")
    }

    fn schedule(days: &[Weekday], time: &str) -> Schedule {
        Schedule::new(days.to_vec(), parse_time(time).expect("time"), London)
    }

    #[test]
    fn given_monday_seven_then_it_is_seven_gmt_in_winter_and_six_utc_in_summer() {
        let s = schedule(&[Weekday::Mon], "07:00");
        let c = calendar();
        assert_eq!(s.next_after(at("2026-11-18T12:00:00Z"), &c), Some(at("2026-11-23T07:00:00Z")));
        assert_eq!(s.next_after(at("2026-06-02T12:00:00Z"), &c), Some(at("2026-06-08T06:00:00Z")));
        // Strictly after: at the moment itself, the next is a week on.
        assert_eq!(s.next_after(at("2026-11-23T07:00:00Z"), &c), Some(at("2026-11-30T07:00:00Z")));
        assert_eq!(
            s.last_at_or_before(at("2026-11-23T07:00:00Z"), &c),
            Some(at("2026-11-23T07:00:00Z"))
        );
        assert_eq!(
            s.last_at_or_before(at("2026-11-23T06:59:59Z"), &c),
            Some(at("2026-11-16T07:00:00Z"))
        );
    }

    #[test]
    fn given_the_last_sunday_of_march_then_a_skipped_time_runs_at_the_change() {
        // 28 March 2027: clocks go from 01:00 GMT to 02:00 BST; the week of
        // Monday 22 March is a term week (spring ends Thursday 25th).
        let c = calendar();
        let s = schedule(&[Weekday::Sun], "01:30");
        assert!(s.is_run_day(date("2027-03-28"), &c));
        assert_eq!(s.moment_on(date("2027-03-28")), at("2027-03-28T01:00:00Z"));
        assert_eq!(s.next_after(at("2027-03-27T12:00:00Z"), &c), Some(at("2027-03-28T01:00:00Z")));
        // The day before and the week before are GMT, the time as written.
        assert_eq!(s.moment_on(date("2027-03-21")), at("2027-03-21T01:30:00Z"));
        // A time after the change is BST on the day.
        let seven = schedule(&[Weekday::Sun], "07:00");
        assert_eq!(seven.moment_on(date("2027-03-28")), at("2027-03-28T06:00:00Z"));
        assert_eq!(seven.moment_on(date("2027-03-21")), at("2027-03-21T07:00:00Z"));
    }

    #[test]
    fn given_the_last_sunday_of_october_then_a_repeated_time_runs_at_the_first() {
        // 25 October 2026: clocks go from 02:00 BST back to 01:00 GMT, so
        // 01:30 happens at 00:30 and 01:30 UTC; the run is the first, once.
        // The week of Monday 19 October is a term week (autumn 1 ends Friday 23rd).
        let c = calendar();
        let s = schedule(&[Weekday::Sun], "01:30");
        assert_eq!(s.moment_on(date("2026-10-25")), at("2026-10-25T00:30:00Z"));
        assert_eq!(s.next_after(at("2026-10-24T12:00:00Z"), &c), Some(at("2026-10-25T00:30:00Z")));
        // After the first, the second is not a run: the next is a term week on.
        assert_eq!(s.next_after(at("2026-10-25T00:30:00Z"), &c), Some(at("2026-11-08T01:30:00Z")));
        let seven = schedule(&[Weekday::Sun], "07:00");
        assert_eq!(seven.moment_on(date("2026-10-25")), at("2026-10-25T07:00:00Z"));
        assert_eq!(seven.moment_on(date("2026-10-18")), at("2026-10-18T06:00:00Z"));
    }

    #[test]
    fn given_half_term_then_its_week_is_skipped() {
        // Autumn half-term 2026: 26 to 30 October, no term day.
        let c = calendar();
        let s = schedule(&[Weekday::Mon, Weekday::Thu], "07:00");
        assert!(!s.is_run_day(date("2026-10-26"), &c));
        assert!(!s.is_run_day(date("2026-10-29"), &c));
        assert_eq!(s.next_after(at("2026-10-22T08:00:00Z"), &c), Some(at("2026-11-02T07:00:00Z")));
        assert_eq!(
            s.last_at_or_before(at("2026-11-01T12:00:00Z"), &c),
            Some(at("2026-10-22T06:00:00Z"))
        );
        // The summer holiday has none; the first is in September's first week.
        assert_eq!(s.next_after(at("2026-07-20T08:00:00Z"), &c), Some(at("2026-08-31T06:00:00Z")));
        // Past the calendar there is none.
        assert_eq!(s.next_after(at("2028-07-20T08:00:00Z"), &c), None);
    }

    #[test]
    fn given_a_start_after_missed_moments_then_only_the_latest_is_caught_up_once() {
        let c = calendar();
        let s = schedule(&[Weekday::Mon, Weekday::Wed], "07:00");
        // Down from Sunday to Thursday: Monday's and Wednesday's were missed;
        // Wednesday's alone is caught up.
        let now = at("2026-11-26T10:00:00Z");
        assert_eq!(s.catch_up(now, &c, |_| false), Some(at("2026-11-25T07:00:00Z")));
        // Recorded already (an earlier start caught it up): nothing.
        let wednesday = run_id(at("2026-11-25T07:00:00Z"));
        assert_eq!(s.catch_up(now, &c, |r| *r == wednesday), None);
        // At the moment itself it is due.
        let due = at("2026-11-25T07:00:00Z");
        assert_eq!(s.catch_up(due, &c, |_| false), Some(due));
        // After half-term, the last one (22 October) is too old to catch up.
        assert_eq!(s.catch_up(at("2026-11-02T06:00:00Z"), &c, |_| false), None);
    }

    #[test]
    fn given_a_moment_then_its_run_id_is_a_subject_token_and_the_same_each_time() {
        let id = run_id(at("2026-11-23T07:00:00Z"));
        assert_eq!(id.as_str(), "scheduled-20261123T0700Z");
        assert!(bridges_schemas::vocab::is_subject_token(id.as_str()));
        assert!(id.as_str().len() <= crate::domain::run::MAX_RUN_ID);
    }

    #[test]
    fn given_bad_days_times_or_zones_then_they_are_refused() {
        assert_eq!(parse_day("Mon"), Ok(Weekday::Mon));
        assert!(parse_day("Monday").is_err());
        assert!(parse_day("mon").is_err());
        assert_eq!(parse_time("07:00"), Ok(NaiveTime::from_hms_opt(7, 0, 0).expect("time")));
        for bad in ["7:00", "24:00", "07:60", "07:00:00", "", "ab:cd"] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_zone("Europe/London"), Ok(London));
        assert!(parse_zone("Europe/Londres").is_err());
    }
}
