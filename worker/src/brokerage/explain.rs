//! Why each unmet request is unmet: a reason code from the fixed list
//! ([`UnmetReason`]), a detail naming the counts and ids behind it, and a
//! counterfactual where one exists. Derived from the rules the plan ran into:
//! eligibility, exclusions (rule 9: `excluded` when every eligible
//! practitioner is excluded from the request; with some conflicted instead,
//! `conflict` naming which is which), conflicts, distance, capacity left in
//! the period, budget left, and the one-practitioner rule.
//!
//! It explains a plan given as whole days per pair; it does not solve.

use std::collections::BTreeSet;

use bridges_schemas::brokerage::{PlanDays, Unmet, UnmetReason};

use super::candidates::{Prepared, Screen, screen};

/// Explanations of every request with unmet days, sorted by request id.
pub fn explain(prep: &Prepared<'_>, days: &[Vec<u32>]) -> Vec<Unmet> {
    let ctx = Context::new(prep, days);
    let mut out: Vec<Unmet> =
        (0..prep.demand.len()).filter_map(|r| ctx.explain_request(r)).collect();
    out.sort_by(|a, b| a.request.cmp(&b.request));
    out
}

/// Usage of the plan being explained.
struct Context<'a, 'p> {
    prep: &'a Prepared<'p>,
    days: &'a [Vec<u32>],
    used: Vec<Vec<u32>>,
    used_total: Vec<u32>,
    assigned: Vec<Vec<u32>>,
    spent: f64,
    /// The pairs of each practitioner (indices into `prep.pairs`).
    pairs_of_practitioner: Vec<Vec<usize>>,
}

struct Finding {
    reason: UnmetReason,
    detail: String,
    counterfactual: Option<String>,
}

impl<'a, 'p> Context<'a, 'p> {
    fn new(prep: &'a Prepared<'p>, days: &'a [Vec<u32>]) -> Self {
        let t_count = prep.periods();
        let mut used = vec![vec![0u32; t_count]; prep.capacity.len()];
        let mut used_total = vec![0u32; prep.capacity.len()];
        let mut assigned = vec![vec![0u32; t_count]; prep.demand.len()];
        let mut spent = 0.0;
        let mut pairs_of_practitioner = vec![Vec::new(); prep.capacity.len()];
        for (i, pair) in prep.pairs.iter().enumerate() {
            pairs_of_practitioner[pair.p].push(i);
            for (t, &d) in days[i].iter().enumerate() {
                used[pair.p][t] += d;
                used_total[pair.p] += d;
                assigned[pair.r][t] += d;
                spent += f64::from(d) * prep.problem.practitioners[pair.p].day_rate;
            }
        }
        Self { prep, days, used, used_total, assigned, spent, pairs_of_practitioner }
    }

    fn explain_request(&self, r: usize) -> Option<Unmet> {
        let prep = self.prep;
        let problem = prep.problem;
        let mut unmet = PlanDays::new();
        let mut first = None;
        for t in 0..prep.periods() {
            let left = prep.demand[r][t].saturating_sub(self.assigned[r][t]);
            if left > 0 {
                unmet.insert(problem.periods[t].clone(), left);
                first.get_or_insert(t);
            }
        }
        let t = first?;
        let finding = self.why(r, t, prep.demand[r][t] - self.assigned[r][t]);
        let mut detail = finding.detail;
        if unmet.len() > 1 {
            let periods: Vec<&str> = unmet.keys().map(|p| p.as_str()).collect();
            detail.push_str(&format!(
                " ({} days unmet over {}; reason given for {})",
                unmet.values().sum::<u32>(),
                periods.join(", "),
                problem.periods[t]
            ));
        }
        Some(Unmet {
            request: problem.requests[r].id.clone(),
            days: unmet,
            reason: finding.reason,
            detail,
            counterfactual: finding.counterfactual,
        })
    }

    /// The reason `left` days of request `r` in period `t` are unmet.
    fn why(&self, r: usize, t: usize, left: u32) -> Finding {
        let prep = self.prep;
        let problem = prep.problem;
        let req = &problem.requests[r];
        let period = &problem.periods[t];
        let screens: Vec<(usize, Screen)> =
            (0..problem.practitioners.len()).map(|p| (p, screen(prep, r, p))).collect();
        let id = |p: usize| problem.practitioners[p].id.0.clone();

        let eligible: Vec<&(usize, Screen)> =
            screens.iter().filter(|(_, s)| *s != Screen::Ineligible).collect();
        if eligible.is_empty() {
            let school = &problem.schools[prep.school_of_request[r]];
            let designations: Vec<String> =
                req.designations.iter().map(|d| d.to_string()).collect();
            return Finding {
                reason: UnmetReason::NoEligiblePractitioner,
                detail: format!(
                    "none of the {} practitioners offers {} for {} schools as {}",
                    problem.practitioners.len(),
                    req.need,
                    school.phase,
                    designations.join("/")
                ),
                counterfactual: None,
            };
        }
        let blocked = |s: &Screen| {
            matches!(s, Screen::Excluded | Screen::HomeSchool | Screen::Listed | Screen::SameTrust)
        };
        let unconflicted: Vec<&(usize, Screen)> =
            eligible.iter().copied().filter(|(_, s)| !blocked(s)).collect();
        if unconflicted.is_empty() {
            let named: Vec<String> = eligible
                .iter()
                .take(6)
                .map(|&&(p, s)| {
                    let why = match s {
                        Screen::Excluded => "excluded from this request",
                        Screen::HomeSchool => "home school",
                        Screen::Listed => "listed conflict",
                        _ => "same trust",
                    };
                    format!("{} ({why})", id(p))
                })
                .collect();
            let more = if eligible.len() > 6 {
                format!(" and {} more", eligible.len() - 6)
            } else {
                String::new()
            };
            if eligible.iter().all(|(_, s)| *s == Screen::Excluded) {
                let ids: Vec<String> = eligible.iter().take(6).map(|&&(p, _)| id(p)).collect();
                return Finding {
                    reason: UnmetReason::Excluded,
                    detail: format!(
                        "the {} eligible practitioners are all excluded from this request: {}{more}",
                        eligible.len(),
                        ids.join(", ")
                    ),
                    counterfactual: None,
                };
            }
            return Finding {
                reason: UnmetReason::Conflict,
                detail: format!(
                    "the {} eligible practitioners are all {}: {}{more}",
                    eligible.len(),
                    if eligible.iter().any(|(_, s)| *s == Screen::Excluded) {
                        "conflicted or excluded"
                    } else {
                        "conflicted"
                    },
                    named.join(", ")
                ),
                counterfactual: None,
            };
        }
        let mut candidates: Vec<(usize, f64)> = unconflicted
            .iter()
            .filter_map(|(p, s)| if let Screen::Candidate(km) = s { Some((*p, *km)) } else { None })
            .collect();
        candidates.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
        let limit = problem.policy.max_distance_km.unwrap_or(f64::INFINITY);
        if candidates.is_empty() {
            let mut far: Vec<(usize, f64)> = unconflicted
                .iter()
                .filter_map(
                    |(p, s)| if let Screen::TooFar(km) = s { Some((*p, *km)) } else { None },
                )
                .collect();
            far.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            let (near, near_km) = far[0];
            let far_km = far[far.len() - 1].1;
            return Finding {
                reason: UnmetReason::Distance,
                detail: format!(
                    "the {} eligible, unconflicted practitioners are {near_km:.1} to {far_km:.1} km away (limit {limit} km)",
                    far.len()
                ),
                counterfactual: Some(format!(
                    "a distance limit of {:.1} km would admit {}",
                    (near_km * 10.0).ceil() / 10.0,
                    id(near)
                )),
            };
        }

        let own: Vec<usize> = prep.pairs_of_request[r]
            .clone()
            .filter(|&i| self.days[i].iter().any(|&d| d > 0))
            .map(|i| prep.pairs[i].p)
            .collect();
        let free = |p: usize| {
            let cap = prep.capacity[p][t].saturating_sub(self.used[p][t]);
            let total = prep.max_days[p].map_or(u32::MAX, |m| m.saturating_sub(self.used_total[p]));
            cap.min(total)
        };
        let with_days: Vec<usize> =
            candidates.iter().map(|&(p, _)| p).filter(|&p| free(p) > 0).collect();
        let single = problem.policy.single_practitioner;
        let preferred = if single && !own.is_empty() { own[0] } else { candidates[0].0 };
        let days_word =
            |n: u32| if n == 1 { "one more day".to_owned() } else { format!("{n} more days") };

        if with_days.is_empty() {
            let ids: Vec<String> = candidates.iter().take(8).map(|&(p, _)| id(p)).collect();
            let none_listed = candidates.iter().all(|&(p, _)| prep.capacity[p][t] == 0);
            let detail = if none_listed {
                format!(
                    "none of the {} candidates within {limit} km ({}) has days in {period}",
                    candidates.len(),
                    ids.join(", ")
                )
            } else {
                let takers = self.takers(r, t, &candidates);
                let by = if takers.is_empty() {
                    String::from("or their max_days")
                } else {
                    format!("by requests of the same or higher priority: {}", takers.join(", "))
                };
                format!(
                    "the {} candidates within {limit} km ({}) are fully booked in {period}, {by}",
                    candidates.len(),
                    ids.join(", ")
                )
            };
            return Finding {
                reason: UnmetReason::Capacity,
                detail,
                counterfactual: Some(format!(
                    "{} from {} in {period} would meet it",
                    days_word(left),
                    id(preferred)
                )),
            };
        }

        if let Some(budget) = problem.policy.budget {
            let cheapest = with_days
                .iter()
                .map(|&p| problem.practitioners[p].day_rate)
                .fold(f64::INFINITY, f64::min);
            let left_money = budget - self.spent;
            if left_money + 1e-6 < cheapest {
                let need = f64::from(left) * cheapest - left_money.max(0.0);
                return Finding {
                    reason: UnmetReason::Budget,
                    detail: format!(
                        "the budget of £{budget:.0} has £{:.0} left and the cheapest candidate with days in {period} costs £{cheapest:.0} a day",
                        left_money.max(0.0)
                    ),
                    counterfactual: Some(format!("£{need:.0} more budget would meet it")),
                };
            }
        }

        if single && !own.is_empty() && free(own[0]) == 0 {
            let others: Vec<String> = with_days.iter().take(6).map(|&p| id(p)).collect();
            return Finding {
                reason: UnmetReason::SinglePractitioner,
                detail: format!(
                    "{} has this request and no days left in {period}; {} {} days in {period} but the request keeps one practitioner",
                    id(own[0]),
                    others.join(", "),
                    if others.len() == 1 { "has" } else { "have" }
                ),
                counterfactual: Some(format!(
                    "{} from {} in {period} would meet it",
                    days_word(left),
                    id(own[0])
                )),
            };
        }

        let ids: Vec<String> = with_days.iter().take(6).map(|&p| id(p)).collect();
        Finding {
            reason: UnmetReason::Priority,
            detail: format!(
                "{} had days in {period}, but the plan used them elsewhere (the search stopped before proving optimality)",
                ids.join(", ")
            ),
            counterfactual: None,
        }
    }

    /// Requests of the same or higher priority using the candidates' days in `t`.
    fn takers(&self, r: usize, t: usize, candidates: &[(usize, f64)]) -> Vec<String> {
        let prep = self.prep;
        let cands: BTreeSet<usize> = candidates.iter().map(|&(p, _)| p).collect();
        let mut takers = BTreeSet::new();
        for &i in cands.iter().flat_map(|&p| &self.pairs_of_practitioner[p]) {
            let pair = &prep.pairs[i];
            if pair.r != r && self.days[i][t] > 0 && prep.tier[pair.r] <= prep.tier[r] {
                takers.insert(prep.problem.requests[pair.r].id.0.clone());
            }
        }
        let n = takers.len();
        let mut named: Vec<String> = takers.into_iter().take(6).collect();
        if n > 6 {
            named.push(format!("and {} more", n - 6));
        }
        named
    }
}
