//! An independent feasibility checker for triads plans: it reads the contract
//! (CONTRACTS.md, "Triads plan") and the rota rules straight from the problem
//! and shares no code with the model, the enumeration or the rota builder, so
//! a bug there cannot hide itself here. It computes each school's standing
//! with its own reading of the table of CONTRACTS.md ("Inspection
//! outcomes"), not with `bridges_schemas::inspection::standing`, for the
//! same reason. It does not judge optimality.

use std::collections::{BTreeMap, BTreeSet};

use bridges_schemas::inspection::{InspectionOutcome, ReportCardGrade, Safeguarding};
use bridges_schemas::triads::{Ofsted, TriadSchool, TriadsPlan, TriadsProblem};
use bridges_schemas::{Phase, SameTrust};

/// Every broken rule of `plan` for `problem`, as readable lines (empty = feasible).
pub fn check(problem: &TriadsProblem, plan: &TriadsPlan) -> Vec<String> {
    let mut errors = Vec::new();
    let schools: BTreeMap<u32, &TriadSchool> =
        problem.schools.iter().map(|s| (s.urn.0, s)).collect();
    let mut history: BTreeSet<(u32, u32)> = BTreeSet::new();
    for g in &problem.history {
        for a in g {
            for b in g {
                if a.0 < b.0 {
                    history.insert((a.0, b.0));
                }
            }
        }
    }

    // Each school is placed at most once, and placed or unplaced exactly once.
    let mut seen: BTreeMap<u32, usize> = BTreeMap::new();
    for g in &plan.groups {
        for u in g {
            *seen.entry(u.0).or_default() += 1;
        }
    }
    for u in &plan.unplaced {
        *seen.entry(u.urn.0).or_default() += 1;
    }
    for (urn, count) in &seen {
        if !schools.contains_key(urn) {
            errors.push(format!("{urn} is in the plan but not in the problem"));
        } else if *count != 1 {
            errors.push(format!("{urn} appears {count} times among groups and unplaced"));
        }
    }
    for urn in schools.keys() {
        if !seen.contains_key(urn) {
            errors.push(format!("{urn} is neither in a group nor unplaced"));
        }
    }

    for (gi, g) in plan.groups.iter().enumerate() {
        let allowed = g.len() == 3 || (g.len() == 4 && problem.policy.allow_groups_of_4);
        if !allowed {
            errors.push(format!("group {gi} has {} schools", g.len()));
        }
        let members: Vec<&TriadSchool> =
            g.iter().filter_map(|u| schools.get(&u.0).copied()).collect();
        if members.len() != g.len() {
            continue;
        }
        if problem.policy.require_good_or_better
            && !members.iter().any(|s| matches!(band(s), Some(Band::Strong | Band::Secure)))
        {
            errors.push(format!("group {gi} has no school whose standing is strong or secure"));
        }
        for (x, a) in members.iter().enumerate() {
            for b in &members[x + 1..] {
                let pair = format!("group {gi}: {} and {}", a.urn, b.urn);
                if problem.policy.same_trust == SameTrust::Forbid
                    && a.trust.is_some()
                    && a.trust == b.trust
                {
                    errors.push(format!("{pair} share a trust"));
                }
                if problem.policy.phase_pools && a.phase != b.phase {
                    errors.push(format!("{pair} differ in phase"));
                }
                if history.contains(&(a.urn.0.min(b.urn.0), a.urn.0.max(b.urn.0))) {
                    errors.push(format!("{pair} were grouped before"));
                }
                let de = a.easting - b.easting;
                let dn = a.northing - b.northing;
                let km = (de * de + dn * dn).sqrt() / 1000.0;
                if let Some(limit) = problem.policy.max_distance_km
                    && km > limit
                {
                    errors.push(format!("{pair} are {km:.2} km apart (limit {limit})"));
                }
            }
        }
    }
    check_rota(problem, plan, &schools, &mut errors);
    check_record(plan, &mut errors);
    errors
}

/// A standing band as this checker reads the contract's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Band {
    Strong,
    Secure,
    Concern,
    Serious,
}

/// The band of a school: of its inspection, else of its `ofsted` grade.
fn band(school: &TriadSchool) -> Option<Band> {
    let overall = |g: Ofsted| match g {
        Ofsted::Outstanding => Band::Strong,
        Ofsted::Good => Band::Secure,
        Ofsted::RequiresImprovement => Band::Concern,
        Ofsted::Inadequate => Band::Serious,
    };
    let Some(outcome) = &school.inspection else { return school.ofsted.map(overall) };
    // Word counts over every grade given: (top, good, below good, worst).
    let (counts, met) = match outcome {
        InspectionOutcome::Overall { overall: g, .. } => return Some(overall(*g)),
        InspectionOutcome::SubJudgements { grades: g, safeguarding, .. } => {
            let mut all = vec![
                g.quality_of_education,
                g.behaviour_attitudes,
                g.personal_development,
                g.leadership_management,
            ];
            all.extend(g.early_years.iter().chain(g.sixth_form.iter()));
            let n = |w: Ofsted| all.iter().filter(|&&x| x == w).count();
            let counts = (
                n(Ofsted::Outstanding),
                n(Ofsted::Good),
                n(Ofsted::RequiresImprovement),
                n(Ofsted::Inadequate),
            );
            (counts, *safeguarding == Safeguarding::Met)
        }
        InspectionOutcome::ReportCard { grades: g, safeguarding, .. } => {
            let mut all = vec![
                g.leadership_governance,
                g.curriculum_teaching,
                g.achievement,
                g.attendance_behaviour,
                g.personal_development_wellbeing,
                g.inclusion,
            ];
            all.extend(g.early_years.iter().chain(g.sixth_form.iter()));
            let n = |f: fn(&ReportCardGrade) -> bool| all.iter().filter(|x| f(x)).count();
            let counts = (
                n(|x| matches!(x, ReportCardGrade::Exceptional | ReportCardGrade::StrongStandard)),
                n(|x| *x == ReportCardGrade::ExpectedStandard),
                n(|x| *x == ReportCardGrade::NeedsAttention),
                n(|x| *x == ReportCardGrade::UrgentImprovement),
            );
            (counts, *safeguarding == Safeguarding::Met)
        }
    };
    let (top, _, below, worst) = counts;
    Some(if worst > 0 || !met {
        Band::Serious
    } else if below > 0 {
        Band::Concern
    } else if top >= 2 {
        Band::Strong
    } else {
        Band::Secure
    })
}

fn check_rota(
    problem: &TriadsProblem,
    plan: &TriadsPlan,
    schools: &BTreeMap<u32, &TriadSchool>,
    errors: &mut Vec<String>,
) {
    let periods: BTreeSet<&str> = problem.periods.iter().map(|p| p.as_str()).collect();
    let mut group_of: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    for g in &plan.groups {
        let set: BTreeSet<u32> = g.iter().map(|u| u.0).collect();
        for u in g {
            group_of.insert(u.0, set.clone());
        }
    }
    let mut hosted: BTreeMap<u32, usize> = BTreeMap::new();
    let mut reviews: BTreeMap<(&str, u32), usize> = BTreeMap::new();
    for v in &plan.rota {
        *hosted.entry(v.host.0).or_default() += 1;
        if !periods.contains(v.period.as_str()) {
            errors.push(format!("visit to {} in unknown period {}", v.host, v.period));
        }
        let expected: BTreeSet<u32> = group_of
            .get(&v.host.0)
            .map(|g| g.iter().copied().filter(|&u| u != v.host.0).collect())
            .unwrap_or_default();
        let given: BTreeSet<u32> = v.reviewers.iter().map(|u| u.0).collect();
        if given != expected || given.len() != v.reviewers.len() {
            errors.push(format!("visit to {}: reviewers are not the rest of its group", v.host));
        }
        for r in &v.reviewers {
            *reviews.entry((v.period.as_str(), r.0)).or_default() += 1;
        }
        let secondary = schools.get(&v.host.0).is_some_and(|s| {
            matches!(s.phase, Phase::Secondary | Phase::AllThrough | Phase::SixteenPlus)
        });
        let days = if secondary { 1.5 } else { 1.0 };
        if (v.reviewer_days - days).abs() > 1e-9 {
            errors.push(format!(
                "visit to {}: {} reviewer days, expected {days}",
                v.host, v.reviewer_days
            ));
        }
    }
    for urn in group_of.keys() {
        let n = hosted.get(urn).copied().unwrap_or(0);
        if n != 1 {
            errors.push(format!("{urn} hosts {n} times"));
        }
    }
    for urn in hosted.keys() {
        if !group_of.contains_key(urn) {
            errors.push(format!("{urn} hosts but is in no group"));
        }
    }
    for ((period, urn), n) in reviews {
        if n > 1 {
            errors.push(format!("{urn} reviews {n} times in {period}"));
        }
    }
}

fn check_record(plan: &TriadsPlan, errors: &mut Vec<String>) {
    let placed: usize = plan.groups.iter().map(Vec::len).sum();
    if (plan.objective - placed as f64).abs() > 1e-9 {
        errors.push(format!("objective {} but {placed} schools placed", plan.objective));
    }
    if plan.bound + 1e-9 < plan.objective {
        errors.push(format!("bound {} below objective {}", plan.bound, plan.objective));
    }
    if !(plan.gap >= 0.0 && plan.gap.is_finite()) {
        errors.push(format!("gap {} is not a non-negative number", plan.gap));
    }
}
