//! The report's tables as pure functions of the domain state and the rules,
//! cut at one moment ([`Cut`]): each returns a [`Table`] of formatted cells.
//! No I/O, no personal data (practitioners appear by their opaque id).
//!
//! Money rules, so that a recount can follow them: cost is days × the
//! practitioner's day rate; the partnership's brokerage fee (of the
//! academic year the days fall in) is added and rounded down to the penny
//! on each assignment's half-term (committed) and on each visit (spent).
//! Committed is accepted (or completed) days; spent is recorded visits and
//! cancelled ones marked charged. A proposal of a run counts once its run
//! completed. Financial years run April to March; a half-term's days fall
//! in the financial year of its first day, a visit's in that of its date.

use std::collections::BTreeMap;

use bridges_schemas::vocab::{AcademicYearId, FundingSource};
use bridges_schemas::{Period, Urn};
use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::table::{Table, half_days_as_days, percent, pounds};
use crate::domain::calendar::london_date;
use crate::domain::state::{Assignment, AssignmentStatus, Request, VisitStatus};
use crate::domain::{Rules, State};
use crate::planning::tier_of;
use crate::views::{self, ClockStatus};

/// Where a report is cut: the last log position it holds and the moment
/// it reads as "now" (for the clocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cut {
    pub position: u64,
    pub at: DateTime<Utc>,
}

impl Cut {
    pub fn today(&self) -> NaiveDate {
        london_date(self.at)
    }
}

/// `2026-27` for a date from 1 April 2026 to 31 March 2027.
pub fn financial_year(date: NaiveDate) -> String {
    let start = if date.month() >= 4 { date.year() } else { date.year() - 1 };
    format!("{start}-{:02}", (start + 1).rem_euclid(100))
}

/// `2026-27 Q3`: the financial year's quarter (Q1 April to June).
pub fn quarter(date: NaiveDate) -> String {
    let q = match date.month() {
        4..=6 => 1,
        7..=9 => 2,
        10..=12 => 3,
        _ => 4,
    };
    format!("{} Q{q}", financial_year(date))
}

/// `pence` with a fee of `bp` basis points added, rounded down to the penny.
pub fn with_fee(pence: u64, bp: u32) -> u64 {
    pence + fee(pence, bp)
}

/// The fee on `pence`, rounded down to the penny.
pub fn fee(pence: u64, bp: u32) -> u64 {
    pence * u64::from(bp) / 10_000
}

/// The status word of an assignment.
pub fn status_word(s: AssignmentStatus) -> &'static str {
    match s {
        AssignmentStatus::Proposed => "proposed",
        AssignmentStatus::Accepted => "accepted",
        AssignmentStatus::Declined(_) => "declined",
        AssignmentStatus::Expired => "expired",
        AssignmentStatus::Withdrawn => "withdrawn",
        AssignmentStatus::Completed => "completed",
    }
}

/// One funding source's year: its budget, what accepted assignments
/// commit of it, and what visits charged so far (pence, fee included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spend {
    pub funding: FundingSource,
    pub budget: u64,
    pub committed: u64,
    pub spent: u64,
}

/// Spend against budget of academic year `year`, per funding source (the
/// dashboard's; the report's `spend_by_month` has it by month).
pub fn spend_of_year(state: &State, rules: &Rules, year: &AcademicYearId) -> Vec<Spend> {
    let f = Facts { state, rules };
    let budgets = state.partnerships.get(year).map(|p| p.budgets.clone()).unwrap_or_default();
    FundingSource::ALL
        .into_iter()
        .map(|funding| {
            let budget = budgets.get(&funding).copied().unwrap_or(0);
            let mut line = Spend { funding, budget, committed: 0, spent: 0 };
            let of_source = f
                .assignments()
                .filter(|a| state.requests.get(&a.request).is_some_and(|r| r.funding == funding));
            for a in of_source {
                if a.is_committed() {
                    line.committed += a
                        .days
                        .iter()
                        .filter(|(p, _)| f.year_of_period(p) == Some(year))
                        .map(|(p, d)| f.committed_pence(a, p, *d))
                        .sum::<u64>();
                }
                line.spent += f
                    .charged_visits(a)
                    .iter()
                    .filter(|v| f.year_of_date(v.1) == Some(year))
                    .map(|v| v.3 + v.4)
                    .sum::<u64>();
            }
            line
        })
        .collect()
}

/// Facts the tables share, read once.
struct Facts<'a> {
    state: &'a State,
    rules: &'a Rules,
}

impl<'a> Facts<'a> {
    fn fee_bp(&self, year: Option<&AcademicYearId>) -> u32 {
        year.and_then(|y| self.state.partnerships.get(y)).map_or(0, |p| p.fee_basis_points)
    }

    fn year_of_period(&self, period: &Period) -> Option<&'a AcademicYearId> {
        self.rules.calendar.half_term(period).map(|h| &h.year)
    }

    fn year_of_date(&self, date: NaiveDate) -> Option<&'a AcademicYearId> {
        self.rules.calendar.half_term_of(date).map(|h| &h.year)
    }

    fn rate_pence(&self, a: &Assignment) -> u64 {
        self.state.practitioners.get(&a.practitioner).map_or(0, |p| u64::from(p.day_rate) * 100)
    }

    fn school_name(&self, urn: Urn) -> String {
        self.state.schools.get(&urn).map(|s| s.name.clone()).unwrap_or_default()
    }

    fn tier(&self, r: &Request) -> u8 {
        tier_of(self.state, r.tier, r.urn)
    }

    /// Counted assignments (a run's once the run completed), in id order.
    fn assignments(&self) -> impl Iterator<Item = &'a Assignment> {
        self.state.assignments.values().filter(|a| !a.pending_run)
    }

    /// Committed pence (fee included) of `a` in `period`.
    fn committed_pence(&self, a: &Assignment, period: &Period, days: u32) -> u64 {
        let bp = self.fee_bp(self.year_of_period(period));
        with_fee(u64::from(days) * self.rate_pence(a), bp)
    }

    /// Charged visits of `a`: (date, half days, cost before the fee, fee).
    fn charged_visits(&self, a: &Assignment) -> Vec<(String, NaiveDate, u32, u64, u64)> {
        a.visits
            .iter()
            .filter(|(_, v)| match v.status {
                VisitStatus::Recorded => true,
                VisitStatus::Cancelled { charged, .. } => charged,
                VisitStatus::Voided => false,
            })
            .map(|(id, v)| {
                let cost = u64::from(v.half_days) * self.rate_pence(a) / 2;
                let bp = self.fee_bp(self.year_of_date(v.on));
                (id.to_string(), v.on, v.half_days, cost, fee(cost, bp))
            })
            .collect()
    }
}

/// Every table of the report, in the page's order.
pub fn tables(state: &State, rules: &Rules, cut: &Cut) -> Vec<Table> {
    let f = Facts { state, rules };
    vec![
        assignments(&f),
        utilisation(&f),
        days_and_cost(&f),
        owed(&f),
        recharges(&f),
        unmet(&f),
        service_levels(&f, cut),
        service_by_week(&f, cut),
        runs(&f),
        run_tiers(&f),
        spend_by_month(&f, cut),
        schools(&f),
    ]
}

fn assignments(f: &Facts<'_>) -> Table {
    let mut t = Table::new(
        "assignments",
        "Assignments and their state",
        &[
            "assignment",
            "request",
            "urn",
            "school",
            "practitioner",
            "home_urn",
            "run",
            "status",
            "proposed_on",
            "answered_on",
            "days",
            "half_terms",
            "committed_gbp",
            "delivered_days",
            "spent_gbp",
        ],
    );
    for a in f.assignments() {
        let Some(r) = f.state.requests.get(&a.request) else { continue };
        let home = f.state.practitioners.get(&a.practitioner).map(|p| p.home_urn.to_string());
        let committed: u64 = if a.is_committed() {
            a.days.iter().map(|(p, d)| f.committed_pence(a, p, *d)).sum()
        } else {
            0
        };
        let visits = f.charged_visits(a);
        let half_days: u64 = visits.iter().map(|v| u64::from(v.2)).sum();
        let spent: u64 = visits.iter().map(|v| v.3 + v.4).sum();
        t.push(vec![
            a.id.to_string(),
            a.request.to_string(),
            r.urn.to_string(),
            f.school_name(r.urn),
            a.practitioner.to_string(),
            home.unwrap_or_default(),
            a.run.as_ref().map(|r| r.to_string()).unwrap_or_default(),
            status_word(a.status).to_owned(),
            london_date(a.proposed_at).to_string(),
            a.answered_at.map(|t| london_date(t).to_string()).unwrap_or_default(),
            a.days.values().sum::<u32>().to_string(),
            a.days.iter().map(|(p, d)| format!("{p}:{d}")).collect::<Vec<_>>().join(";"),
            pounds(committed),
            half_days_as_days(half_days),
            pounds(spent),
        ]);
    }
    t
}

fn utilisation(f: &Facts<'_>) -> Table {
    let mut t = Table::new(
        "utilisation",
        "Utilisation by practitioner and half-term (accepted days of the days declared)",
        &[
            "practitioner",
            "title",
            "half_term",
            "capacity_days",
            "proposed_days",
            "accepted_days",
            "delivered_days",
            "utilisation_pct",
        ],
    );
    for p in f.state.practitioners.values() {
        for h in &f.rules.calendar.half_terms {
            let capacity = p.capacity.get(&h.label).copied().unwrap_or(0);
            let (mut proposed, mut accepted, mut half_days) = (0u32, 0u32, 0u64);
            for a in f.assignments().filter(|a| a.practitioner == p.id) {
                let d = a.days.get(&h.label).copied().unwrap_or(0);
                if a.status == AssignmentStatus::Proposed {
                    proposed += d;
                }
                if a.is_committed() {
                    accepted += d;
                }
                half_days += f
                    .charged_visits(a)
                    .iter()
                    .filter(|v| h.first <= v.1 && v.1 <= h.last)
                    .map(|v| u64::from(v.2))
                    .sum::<u64>();
            }
            if capacity == 0 && proposed == 0 && accepted == 0 && half_days == 0 {
                continue;
            }
            t.push(vec![
                p.id.to_string(),
                p.title.to_string(),
                h.label.to_string(),
                capacity.to_string(),
                proposed.to_string(),
                accepted.to_string(),
                half_days_as_days(half_days),
                percent(f64::from(accepted), f64::from(capacity)),
            ]);
        }
    }
    t
}

/// Committed days and pence, delivered half days and spent pence.
#[derive(Debug, Default, Clone, Copy)]
struct Money {
    committed_days: u64,
    committed: u64,
    delivered_half_days: u64,
    spent: u64,
}

fn days_and_cost(f: &Facts<'_>) -> Table {
    let mut t = Table::new(
        "days_and_cost",
        "Days and cost by school, tier, funding source, academic year and financial year (fee included)",
        &[
            "urn",
            "school",
            "tier",
            "funding",
            "academic_year",
            "financial_year",
            "committed_days",
            "committed_gbp",
            "delivered_days",
            "spent_gbp",
        ],
    );
    let mut groups: BTreeMap<(Urn, u8, FundingSource, String, String), Money> = BTreeMap::new();
    for a in f.assignments() {
        let Some(r) = f.state.requests.get(&a.request) else { continue };
        let tier = f.tier(r);
        if a.is_committed() {
            for (period, days) in &a.days {
                let Some(h) = f.rules.calendar.half_term(period) else { continue };
                let key = (r.urn, tier, r.funding, h.year.0.clone(), financial_year(h.first));
                let m = groups.entry(key).or_default();
                m.committed_days += u64::from(*days);
                m.committed += f.committed_pence(a, period, *days);
            }
        }
        for (_, on, half_days, cost, fee) in f.charged_visits(a) {
            let year = f.year_of_date(on).map(|y| y.0.clone()).unwrap_or_default();
            let key = (r.urn, tier, r.funding, year, financial_year(on));
            let m = groups.entry(key).or_default();
            m.delivered_half_days += u64::from(half_days);
            m.spent += cost + fee;
        }
    }
    for ((urn, tier, funding, ay, fy), m) in groups {
        t.push(vec![
            urn.to_string(),
            f.school_name(urn),
            tier.to_string(),
            funding.as_str().to_owned(),
            ay,
            fy,
            m.committed_days.to_string(),
            pounds(m.committed),
            half_days_as_days(m.delivered_half_days),
            pounds(m.spent),
        ]);
    }
    t
}

fn owed(f: &Facts<'_>) -> Table {
    let mut t = Table::new(
        "owed",
        "What each receiving school owes (school-paid support, fee included) and each home school is owed (every delivered day, before the fee)",
        &["urn", "school", "received_days", "owes_gbp", "given_days", "is_owed_gbp"],
    );
    // (received half days, owes, given half days, is owed)
    let mut by: BTreeMap<Urn, (u64, u64, u64, u64)> = BTreeMap::new();
    for a in f.assignments() {
        let Some(r) = f.state.requests.get(&a.request) else { continue };
        let home = f.state.practitioners.get(&a.practitioner).map(|p| p.home_urn);
        for (_, _, half_days, cost, fee) in f.charged_visits(a) {
            if r.funding == FundingSource::SchoolPaid {
                let e = by.entry(r.urn).or_default();
                e.0 += u64::from(half_days);
                e.1 += cost + fee;
            }
            if let Some(home) = home {
                let e = by.entry(home).or_default();
                e.2 += u64::from(half_days);
                e.3 += cost;
            }
        }
    }
    for (urn, (rh, owes, gh, owed)) in by {
        t.push(vec![
            urn.to_string(),
            f.school_name(urn),
            half_days_as_days(rh),
            pounds(owes),
            half_days_as_days(gh),
            pounds(owed),
        ]);
    }
    t
}

fn recharges(f: &Facts<'_>) -> Table {
    let mut t = Table::new(
        "recharges",
        "Recharge statements: each school-paid visit charged, by receiving school and financial quarter",
        &[
            "urn",
            "school",
            "quarter",
            "purchase_order",
            "request",
            "assignment",
            "visit",
            "visit_on",
            "days",
            "cost_gbp",
            "fee_gbp",
            "total_gbp",
        ],
    );
    let mut rows = Vec::new();
    for a in f.assignments() {
        let Some(r) = f.state.requests.get(&a.request) else { continue };
        if r.funding != FundingSource::SchoolPaid {
            continue;
        }
        for (visit, on, half_days, cost, fee) in f.charged_visits(a) {
            rows.push((
                (r.urn, quarter(on), on, a.id.to_string(), visit.clone()),
                vec![
                    r.urn.to_string(),
                    f.school_name(r.urn),
                    quarter(on),
                    r.purchase_order.clone().unwrap_or_default(),
                    r.id.to_string(),
                    a.id.to_string(),
                    visit,
                    on.to_string(),
                    half_days_as_days(u64::from(half_days)),
                    pounds(cost),
                    pounds(fee),
                    pounds(cost + fee),
                ],
            ));
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, row) in rows {
        t.push(row);
    }
    t
}

/// The last completed run, by the time it completed.
fn last_run<'a>(
    f: &Facts<'a>,
) -> Option<(&'a bridges_schemas::vocab::RunId, &'a crate::domain::state::Run)> {
    f.state
        .runs
        .iter()
        .filter(|(_, r)| r.completed.is_some() && !r.discarded)
        .max_by_key(|(id, r)| (r.completed_at, (*id).clone()))
}

fn unmet(f: &Facts<'_>) -> Table {
    let mut t = Table::new(
        "unmet",
        "Unmet requests of the last run, with the reason, its detail and what would meet them",
        &["run", "request", "urn", "school", "tier", "days", "reason", "detail", "counterfactual"],
    );
    let Some((id, run)) = last_run(f) else { return t };
    for u in &run.unmet {
        let (urn, tier) = match f.state.requests.get(&u.request) {
            Some(r) => (r.urn.to_string(), f.tier(r).to_string()),
            None => (String::new(), String::new()),
        };
        let school = f.state.requests.get(&u.request).map(|r| f.school_name(r.urn));
        t.push(vec![
            id.to_string(),
            u.request.to_string(),
            urn,
            school.unwrap_or_default(),
            tier,
            u.days.iter().map(|(p, d)| format!("{p}:{d}")).collect::<Vec<_>>().join(";"),
            views::word(&u.reason),
            u.detail.clone(),
            u.counterfactual.clone().unwrap_or_default(),
        ]);
    }
    t
}

/// One service-level clock: its kind, what it is about and where it stands.
struct ClockRow {
    kind: &'static str,
    subject: String,
    request: String,
    urn: Urn,
    clock: views::Clock,
}

fn clocks(f: &Facts<'_>, cut: &Cut) -> Vec<ClockRow> {
    let today = cut.today();
    let cal = &f.rules.calendar;
    let sl = f.rules.service;
    let mut out = Vec::new();
    for r in f.state.requests.values() {
        if let Some(c) = views::match_clock(f.state, f.rules, &r.id, today) {
            out.push(ClockRow {
                kind: "match",
                subject: r.id.to_string(),
                request: r.id.to_string(),
                urn: r.urn,
                clock: c,
            });
        }
    }
    for a in f.assignments() {
        let Some(r) = f.state.requests.get(&a.request) else { continue };
        let row = |kind, subject: String, clock| ClockRow {
            kind,
            subject,
            request: r.id.to_string(),
            urn: r.urn,
            clock,
        };
        let answered = match a.status {
            AssignmentStatus::Accepted
            | AssignmentStatus::Completed
            | AssignmentStatus::Declined(_) => a.answered_at.map(london_date),
            _ => None,
        };
        if a.status != AssignmentStatus::Withdrawn || answered.is_some() {
            let started = london_date(a.proposed_at);
            out.push(row(
                "answer",
                a.id.to_string(),
                views::clock(cal, started, sl.answer_within, answered, today),
            ));
        }
        if let Some(accepted) = a.accepted_at {
            out.push(row(
                "first_contact",
                a.id.to_string(),
                views::clock(
                    cal,
                    london_date(accepted),
                    sl.first_contact_within,
                    a.first_contact,
                    today,
                ),
            ));
        }
        for (id, v) in &a.visits {
            if v.status == VisitStatus::Voided {
                continue;
            }
            out.push(row(
                "visit_record",
                format!("{}/{id}", a.id),
                views::clock(
                    cal,
                    v.on,
                    sl.visit_record_within,
                    Some(london_date(v.recorded_at)),
                    today,
                ),
            ));
        }
    }
    out
}

fn service_levels(f: &Facts<'_>, cut: &Cut) -> Table {
    let mut t = Table::new(
        "service_levels",
        "Service-level clocks per request and assignment: met, late or open",
        &["clock", "subject", "request", "urn", "started", "due", "done", "status"],
    );
    for c in clocks(f, cut) {
        t.push(vec![
            c.kind.to_owned(),
            c.subject,
            c.request,
            c.urn.to_string(),
            c.clock.started.to_string(),
            c.clock.due.to_string(),
            c.clock.done.map(|d| d.to_string()).unwrap_or_default(),
            c.clock.status.as_str().to_owned(),
        ]);
    }
    t
}

fn service_by_week(f: &Facts<'_>, cut: &Cut) -> Table {
    let mut t = Table::new(
        "service_by_week",
        "Service-level clocks met and late, by the ISO week they fell due",
        &["week", "status", "clocks"],
    );
    let mut by: BTreeMap<(String, &'static str), u64> = BTreeMap::new();
    for c in clocks(f, cut) {
        if c.clock.status == ClockStatus::Open {
            continue;
        }
        let w = c.clock.due.iso_week();
        *by.entry((format!("{}-W{:02}", w.year(), w.week()), c.clock.status.as_str()))
            .or_default() += 1;
    }
    for ((week, status), n) in by {
        t.push(vec![week, status.to_owned(), n.to_string()]);
    }
    t
}

fn completed_runs<'a>(
    f: &Facts<'a>,
) -> Vec<(
    &'a bridges_schemas::vocab::RunId,
    &'a crate::domain::state::Run,
    &'a bridges_schemas::events::MatchingRunCompleted,
)> {
    let mut runs: Vec<_> = f
        .state
        .runs
        .iter()
        .filter(|(_, r)| !r.discarded)
        .filter_map(|(id, r)| Some((id, r, r.completed.as_ref()?)))
        .collect();
    runs.sort_by_key(|(id, r, _)| (r.completed_at, (*id).clone()));
    runs
}

fn runs(f: &Facts<'_>) -> Table {
    let mut t = Table::new(
        "runs",
        "Matching runs: when, how they solved, coverage against the greedy broker",
        &[
            "run",
            "completed_at",
            "as_of_position",
            "status",
            "proposals",
            "unmet",
            "requested_days",
            "covered_days",
            "greedy_days",
            "coverage_pct",
            "greedy_pct",
            "gap_pct",
            "seconds",
        ],
    );
    for (id, r, c) in completed_runs(f) {
        let requested: u32 = c.tiers.iter().map(|t| t.requested).sum();
        let covered: u32 = c.tiers.iter().map(|t| t.covered).sum();
        let greedy: u32 = c.tiers.iter().map(|t| t.greedy).sum();
        t.push(vec![
            id.to_string(),
            r.completed_at.map(views::time).unwrap_or_default(),
            r.started.as_ref().map(|s| s.as_of_position.to_string()).unwrap_or_default(),
            c.status.to_string(),
            c.proposals.to_string(),
            c.unmet.to_string(),
            requested.to_string(),
            covered.to_string(),
            greedy.to_string(),
            percent(f64::from(covered), f64::from(requested)),
            percent(f64::from(greedy), f64::from(requested)),
            format!("{:.2}", c.gap * 100.0),
            format!("{:.2}", c.seconds),
        ]);
    }
    t
}

fn run_tiers(f: &Facts<'_>) -> Table {
    let mut t = Table::new(
        "run_tiers",
        "Coverage by tier over the runs, with each tier's bound and gap (the higher tiers held)",
        &[
            "run",
            "tier",
            "requested_days",
            "covered_days",
            "greedy_days",
            "coverage_pct",
            "bound_days",
            "gap_pct",
        ],
    );
    for (id, _, c) in completed_runs(f) {
        for (i, tier) in c.tiers.iter().enumerate() {
            t.push(vec![
                id.to_string(),
                (i + 1).to_string(),
                tier.requested.to_string(),
                tier.covered.to_string(),
                tier.greedy.to_string(),
                percent(f64::from(tier.covered), f64::from(tier.requested)),
                format!("{:.1}", tier.bound),
                format!("{:.2}", tier.gap * 100.0),
            ]);
        }
    }
    t
}

fn spend_by_month(f: &Facts<'_>, cut: &Cut) -> Table {
    let mut t = Table::new(
        "spend_by_month",
        "Spend against budget by month and funding source (visits charged, fee included; cumulative within the academic year)",
        &["academic_year", "month", "funding", "spent_gbp", "cumulative_gbp", "budget_gbp"],
    );
    let mut spent: BTreeMap<(String, String, FundingSource), u64> = BTreeMap::new();
    for a in f.assignments() {
        let Some(r) = f.state.requests.get(&a.request) else { continue };
        for (_, on, _, cost, fee) in f.charged_visits(a) {
            let Some(year) = f.year_of_date(on) else { continue };
            let month = format!("{:04}-{:02}", on.year(), on.month());
            *spent.entry((year.0.clone(), month, r.funding)).or_default() += cost + fee;
        }
    }
    let today = cut.today();
    let years: Vec<&AcademicYearId> = {
        // Years begun by the cut that have a budget or any spending.
        let mut ys: Vec<&AcademicYearId> = f
            .rules
            .calendar
            .half_terms
            .iter()
            .filter(|h| h.first <= today)
            .map(|h| &h.year)
            .filter(|y| {
                f.state.partnerships.get(*y).is_some_and(|p| p.budgets.values().any(|b| *b > 0))
                    || spent.keys().any(|k| k.0 == y.0)
            })
            .collect();
        ys.dedup();
        ys
    };
    for year in years {
        let halves: Vec<_> =
            f.rules.calendar.half_terms.iter().filter(|h| &h.year == year).collect();
        let (Some(first), Some(last)) = (halves.first(), halves.last()) else { continue };
        let budgets = f.state.partnerships.get(year).map(|p| p.budgets.clone()).unwrap_or_default();
        let end = last.last.min(today);
        for funding in FundingSource::ALL {
            let mut cumulative = 0u64;
            let mut month = NaiveDate::from_ymd_opt(first.first.year(), first.first.month(), 1);
            while let Some(m) = month.filter(|m| *m <= end) {
                let label = format!("{:04}-{:02}", m.year(), m.month());
                let s = spent.get(&(year.0.clone(), label.clone(), funding)).copied().unwrap_or(0);
                cumulative += s;
                t.push(vec![
                    year.0.clone(),
                    label,
                    funding.as_str().to_owned(),
                    pounds(s),
                    pounds(cumulative),
                    pounds(budgets.get(&funding).copied().unwrap_or(0)),
                ]);
                month = m.checked_add_months(chrono::Months::new(1));
            }
        }
    }
    t
}

fn schools(f: &Facts<'_>) -> Table {
    let mut t = Table::new(
        "schools",
        "The LA's schools: where they are (British National Grid) and their risk tier",
        &["urn", "school", "phase", "tier", "easting", "northing", "requests", "assignments"],
    );
    for s in f.state.schools.values().filter(|s| s.is_open()) {
        let requests: Vec<&Request> =
            f.state.requests.values().filter(|r| r.urn == s.urn).collect();
        let assignments: usize =
            requests.iter().map(|r| f.state.assignments_of(&r.id).count()).sum();
        t.push(vec![
            s.urn.to_string(),
            s.name.clone(),
            s.phase.as_str().to_owned(),
            s.risk.as_ref().and_then(|r| r.tier).map(|t| t.to_string()).unwrap_or_default(),
            format!("{:.0}", s.easting),
            format!("{:.0}", s.northing),
            requests.len().to_string(),
            assignments.to_string(),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn financial_years_and_quarters_run_from_april() {
        assert_eq!(financial_year(d(2026, 4, 1)), "2026-27");
        assert_eq!(financial_year(d(2027, 3, 31)), "2026-27");
        assert_eq!(quarter(d(2026, 9, 30)), "2026-27 Q2");
        assert_eq!(quarter(d(2026, 10, 1)), "2026-27 Q3");
        assert_eq!(quarter(d(2027, 1, 5)), "2026-27 Q4");
        assert_eq!(quarter(d(2027, 6, 30)), "2027-28 Q1");
    }

    #[test]
    fn the_fee_is_rounded_down_to_the_penny() {
        assert_eq!(with_fee(45_000, 500), 47_250);
        assert_eq!(fee(33_333, 500), 1_666);
    }
}
