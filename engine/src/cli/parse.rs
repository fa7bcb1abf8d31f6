//! Value parsers of the domain subcommands' flags: times, dates, half-term
//! days (`2026-AU1=2`), tiers, money, percentages and the domain's words
//! (phases, funding sources, reasons...). Each refuses a malformed value
//! with what it expected and an example; clap then names the flag and exits
//! 2, before anything is opened. They check form only: whether a half-term
//! is configured, a need known or a date allowed is the domain's to decide.

use bridges_schemas::commands::{Rejection, RejectionCode};
use bridges_schemas::events::DaysPerPeriod;
use bridges_schemas::vocab::TierChoice;
use bridges_schemas::{Period, Urn};
use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;

/// An RFC 3339 time: `2026-09-07T09:00:00Z`.
/// An RFC 3339 time, or a date alone (09:00 in London that day).
pub fn time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        use chrono::TimeZone as _;
        let nine = d.and_hms_opt(9, 0, 0).ok_or("a date with no 09:00")?;
        return chrono_tz::Europe::London
            .from_local_datetime(&nine)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| format!("{s}: 09:00 is not a single time in London that day"));
    }
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(|e| {
        format!("{e}; expected an RFC 3339 time such as 2026-09-07T09:00:00Z, or a date")
    })
}

/// An ISO date: `2026-09-15`.
pub fn date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| format!("{e}; expected an ISO date such as 2026-09-15"))
}

/// A URN (six digits; the domain checks the width and that it is registered).
pub fn urn(s: &str) -> Result<Urn, String> {
    s.parse::<u32>().map(Urn).map_err(|_| "expected a six-digit URN such as 102400".to_owned())
}

/// Days in one half-term: `2026-AU1=2`.
pub fn period_days(s: &str) -> Result<(Period, u32), String> {
    let (period, days) = s
        .split_once('=')
        .ok_or_else(|| "expected HALF-TERM=DAYS, for example 2026-AU1=2".to_owned())?;
    let days = days
        .trim()
        .parse::<u32>()
        .map_err(|_| format!("{days:?} is not a whole number of days; for example 2026-AU1=2"))?;
    Ok((Period(period.trim().to_owned()), days))
}

/// Days per half-term from repeated or comma-separated `--days` values; a
/// half-term given twice is refused, naming it.
pub fn days_map(list: &[(Period, u32)]) -> Result<DaysPerPeriod, Rejection> {
    let mut out = DaysPerPeriod::new();
    for (p, d) in list {
        if out.insert(p.clone(), *d).is_some() {
            return Err(Rejection::new(
                RejectionCode::Invalid,
                format!("days.{p}"),
                p,
                "this half-term is given twice",
            ));
        }
    }
    Ok(out)
}

/// A request's tier: `1` (most urgent) to `4`, or `follow` (the school's risk).
pub fn tier(s: &str) -> Result<TierChoice, String> {
    TierChoice::parse(s).ok_or_else(|| "expected 1, 2, 3, 4 or follow".to_owned())
}

/// A school's risk tier, `1` to `4`, or `none` to clear it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiskTier(pub Option<u8>);

pub fn risk_tier(s: &str) -> Result<RiskTier, String> {
    match s {
        "none" => Ok(RiskTier(None)),
        _ => s
            .parse::<u8>()
            .ok()
            .filter(|t| (1..=4).contains(t))
            .map(|t| RiskTier(Some(t)))
            .ok_or_else(|| "expected 1, 2, 3, 4 or none".to_owned()),
    }
}

/// Pounds and pence (`12500`, `12,500.50`, `£350`) in pence.
pub fn pounds(s: &str) -> Result<u64, String> {
    let bad = || format!("{s:?} is not an amount in pounds, such as 12500 or 12,500.50");
    let t = s.trim().trim_start_matches('£').replace(',', "");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty() || frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let pounds: u64 = whole.parse().map_err(|_| bad())?;
    let pence: u64 =
        if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().map_err(|_| bad())? };
    pounds.checked_mul(100).and_then(|p| p.checked_add(pence)).ok_or_else(bad)
}

/// A percentage with at most two decimals (`10`, `7.5`) in basis points.
pub fn percent(s: &str) -> Result<u32, String> {
    let bad = || format!("{s:?} is not a percentage such as 10 or 7.5");
    let t = s.trim().trim_end_matches('%');
    let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty() || frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: u32 = whole.parse().map_err(|_| bad())?;
    let frac: u32 =
        if frac.is_empty() { 0 } else { format!("{frac:0<2}").parse().map_err(|_| bad())? };
    whole.checked_mul(100).and_then(|w| w.checked_add(frac)).ok_or_else(bad)
}

/// One of the domain's words as its JSON reads it (`primary`, `la_core`,
/// `former_employer`...); a wrong word is refused with the list of right ones.
pub fn word<T: DeserializeOwned>(s: &str) -> Result<T, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|e| {
        let text = e.to_string();
        // serde says "unknown variant `x`, expected one of `a`, `b`"; keep the list.
        match text.split_once("expected ") {
            Some((_, list)) => format!("expected {list}"),
            None => text,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bridges_schemas::Phase;

    #[test]
    fn flags_read_their_values_and_refuse_bad_ones() {
        assert_eq!(period_days("2026-AU1=2"), Ok((Period::from("2026-AU1"), 2)));
        assert!(period_days("2026-AU1:2").is_err());
        assert!(period_days("2026-AU1=-1").is_err());
        let twice = [(Period::from("2026-AU1"), 1), (Period::from("2026-AU1"), 2)];
        assert_eq!(days_map(&twice).expect_err("twice").field, "days.2026-AU1");
        assert_eq!(pounds("12,500.5"), Ok(1_250_050));
        assert_eq!(pounds("£350"), Ok(35_000));
        assert!(pounds("12.345").is_err() && pounds("-3").is_err() && pounds("").is_err());
        assert_eq!(percent("7.5"), Ok(750));
        assert_eq!(percent("10%"), Ok(1_000));
        assert!(percent("ten").is_err());
        assert_eq!(word::<Phase>("primary"), Ok(Phase::Primary));
        let err = word::<Phase>("primry").expect_err("a typo");
        assert!(err.contains("`primary`"), "{err}");
        assert_eq!(risk_tier("none"), Ok(RiskTier(None)));
        assert!(risk_tier("5").is_err());
        assert_eq!(tier("follow"), Ok(TierChoice::Follow));
        // A date alone is 09:00 in London that day (08:00 UTC in summer time).
        assert_eq!(
            time("2026-09-07").map(|t| t.to_rfc3339()),
            Ok("2026-09-07T08:00:00+00:00".to_owned())
        );
        assert!(time("2026-09-07 9am").is_err());
        assert_eq!(date("2026-09-15").map(|d| d.to_string()), Ok("2026-09-15".to_owned()));
    }
}
