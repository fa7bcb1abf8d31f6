//! Triads problems for tests and benchmarks: synthetic pools shaped like
//! London boroughs (phases, trusts, an Ofsted mix like England's, pupils,
//! disadvantage, localities, a previous round's groups, partnerships), or the
//! real schools of a GIAS CSV. Seeded and deterministic; not a solver.
//!
//! About a third of synthetic schools carry an `inspection` in one of the
//! three frameworks instead of an `ofsted` grade, drawn from a second
//! stream of the seed with the standing of the grade it replaces, so the
//! problems of a seed are the same rounds as before outcomes had frameworks.

use anyhow::Context as _;
use bridges_schemas::inspection::{
    InspectionOutcome, ReportCardGrade, ReportCardGrades, Safeguarding, Standing,
    SubJudgementGrades,
};
use bridges_schemas::triads::{Ofsted, TriadSchool, TriadsPolicy, TriadsProblem};
use bridges_schemas::{Period, Phase, SameTrust, Urn};
use chrono::NaiveDate;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::gias;

/// The round's periods used by generated problems (the contract's example).
pub const PERIODS: [&str; 3] = ["2026-AU2", "2027-SP1", "2027-SP2"];
/// Schools per synthetic borough (London boroughs hold about 60 to 100 state schools).
pub const SCHOOLS_PER_BOROUGH: usize = 80;

/// The policy the project defaults to: 15 km, no same-trust pairs, phase
/// pools, a good-or-better school in every group, groups of 4 allowed.
pub fn default_policy() -> TriadsPolicy {
    TriadsPolicy {
        max_distance_km: Some(15.0),
        same_trust: SameTrust::Forbid,
        phase_pools: true,
        require_good_or_better: true,
        allow_groups_of_4: true,
    }
}

/// Generates a problem of `schools` schools: the first of a GIAS file's
/// (optionally of one LA) when `gias` is given, else a synthetic pool.
pub fn generate(
    schools: usize,
    seed: u64,
    gias: Option<&std::path::Path>,
    la: Option<u16>,
) -> anyhow::Result<TriadsProblem> {
    match gias {
        Some(path) => {
            let mut problem = from_gias(path, la, None)?;
            problem.schools.truncate(schools);
            Ok(problem)
        }
        None => Ok(synthetic(schools, seed)),
    }
}

/// The real open schools of a GIAS CSV that have coordinates and a phase,
/// optionally of one LA and one phase, in URN order; no history.
pub fn from_gias(
    path: &std::path::Path,
    la: Option<u16>,
    phase: Option<Phase>,
) -> anyhow::Result<TriadsProblem> {
    let rows = gias::read_schools(path).with_context(|| format!("reading {}", path.display()))?;
    let mut schools: Vec<TriadSchool> = rows
        .into_iter()
        .filter(|r| r.open && la.is_none_or(|code| r.la_code == Some(code)))
        .filter_map(|r| {
            let p = r.phase?;
            if phase.is_some_and(|want| want != p) {
                return None;
            }
            // The postcode district ("UB8") is a real locality.
            let district = r.postcode.split_whitespace().next().unwrap_or("").to_owned();
            Some(TriadSchool {
                urn: r.urn,
                phase: p,
                trust: r.trust,
                easting: r.easting?,
                northing: r.northing?,
                ofsted: r.ofsted,
                inspection: None,
                pupils: r.pupils.map(f64::from),
                disadvantaged: None,
                locality: (!district.is_empty()).then(|| format!("{} {district}", r.la_name)),
                name: Some(r.name),
            })
        })
        .collect();
    schools.sort_by_key(|s| s.urn);
    Ok(TriadsProblem {
        periods: PERIODS.iter().map(|p| Period::from(*p)).collect(),
        schools,
        history: Vec::new(),
        partnerships: Vec::new(),
        policy: default_policy(),
    })
}

/// A synthetic pool of `n` schools in boroughs of about [`SCHOOLS_PER_BOROUGH`].
pub fn synthetic(n: usize, seed: u64) -> TriadsProblem {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let boroughs = n.div_ceil(SCHOOLS_PER_BOROUGH).max(1);
    let side = (boroughs as f64).sqrt().ceil() as usize;
    let mut schools = Vec::with_capacity(n);
    let trusts_per_borough: Vec<usize> =
        (0..boroughs).map(|_| rng.random_range(2..6usize)).collect();
    for i in 0..n {
        let b = i % boroughs;
        // Borough centres on a grid 9 km apart around central London.
        let ce = 505_000.0 + 9_000.0 * (b % side) as f64;
        let cn = 170_000.0 + 9_000.0 * (b / side) as f64;
        let easting = (ce + normal(&mut rng) * 2_800.0).round();
        let northing = (cn + normal(&mut rng) * 2_800.0).round();
        let phase = match rng.random_range(0..100) {
            0..=76 => Phase::Primary,
            77..=93 => Phase::Secondary,
            94..=97 => Phase::Special,
            98 => Phase::AllThrough,
            _ => Phase::Nursery,
        };
        let ofsted = match rng.random_range(0..100) {
            0..=15 => Some(Ofsted::Outstanding),
            16..=82 => Some(Ofsted::Good),
            83..=92 => Some(Ofsted::RequiresImprovement),
            93..=95 => Some(Ofsted::Inadequate),
            _ => None,
        };
        let pupils = match phase {
            Phase::Secondary | Phase::AllThrough => rng.random_range(500.0..1_700.0_f64),
            Phase::Special | Phase::Nursery => rng.random_range(40.0..250.0_f64),
            _ => rng.random_range(120.0..720.0_f64),
        }
        .round();
        // About 40% of schools are in a trust, trusts local to a borough.
        let trust = (rng.random_range(0..100) < 40).then(|| {
            let t = rng.random_range(0..trusts_per_borough[b]);
            format!("Borough {b} Trust {t}")
        });
        let quadrant = match (easting >= ce, northing >= cn) {
            (true, true) => "north-east",
            (false, true) => "north-west",
            (true, false) => "south-east",
            (false, false) => "south-west",
        };
        schools.push(TriadSchool {
            urn: Urn(100_000 + i as u32 * 7 + 3),
            phase,
            trust,
            easting,
            northing,
            ofsted,
            inspection: None,
            pupils: (rng.random_range(0..100) < 95).then_some(pupils),
            disadvantaged: (rng.random_range(0..100) < 80)
                .then(|| (rng.random_range(0.05..0.65_f64) * 100.0).round() / 100.0),
            locality: Some(format!("Borough {b} {quadrant}")),
            name: None,
        });
    }
    let history = previous_round(&schools, &mut rng);
    let partnerships = local_partnerships(&schools);
    let mut frameworks = ChaCha8Rng::seed_from_u64(seed ^ FRAMEWORK_STREAM);
    for school in &mut schools {
        if let Some(grade) = school.ofsted
            && frameworks.random_range(0..100) < 35
        {
            school.inspection = Some(outcome_of(grade.standing(), &mut frameworks));
            school.ofsted = None;
        }
    }
    TriadsProblem {
        periods: PERIODS.iter().map(|p| Period::from(*p)).collect(),
        schools,
        history,
        partnerships,
        policy: default_policy(),
    }
}

/// Mixed into the seed for the stream that draws inspection frameworks.
const FRAMEWORK_STREAM: u64 = 0x1a5f_2024_0901;

/// An outcome of the given standing in a framework drawn from `rng`: an
/// overall grade, sub-judgements (published 2024/25) or a report card
/// (published since November 2025).
pub fn outcome_of(standing: Standing, rng: &mut ChaCha8Rng) -> InspectionOutcome {
    use Ofsted::{Good, Inadequate, Outstanding, RequiresImprovement};
    use ReportCardGrade::{
        Exceptional, ExpectedStandard as E, NeedsAttention, StrongStandard, UrgentImprovement,
    };
    let date = |from: (i32, u32, u32), days: u64, rng: &mut ChaCha8Rng| {
        NaiveDate::from_ymd_opt(from.0, from.1, from.2)
            .and_then(|d| d.checked_add_days(chrono::Days::new(rng.random_range(0..days))))
    };
    let met = Safeguarding::Met;
    match rng.random_range(0..3) {
        0 => {
            let overall = match standing {
                Standing::Strong => Outstanding,
                Standing::Secure => Good,
                Standing::Concern => RequiresImprovement,
                Standing::Serious => Inadequate,
            };
            InspectionOutcome::Overall { published: date((2016, 9, 1), 2900, rng), overall }
        }
        1 => {
            let (g, safeguarding) = match standing {
                Standing::Strong => ([Outstanding, Good, Outstanding, Good], met),
                Standing::Secure => ([Good, Good, Outstanding, Good], met),
                Standing::Concern => ([RequiresImprovement, Good, Good, Good], met),
                Standing::Serious if rng.random_bool(0.5) => ([Good; 4], Safeguarding::NotMet),
                Standing::Serious => {
                    ([Inadequate, RequiresImprovement, Good, RequiresImprovement], met)
                }
            };
            InspectionOutcome::SubJudgements {
                published: date((2024, 9, 9), 420, rng),
                grades: SubJudgementGrades {
                    quality_of_education: g[0],
                    behaviour_attitudes: g[1],
                    personal_development: g[2],
                    leadership_management: g[3],
                    early_years: None,
                    sixth_form: None,
                },
                safeguarding,
            }
        }
        _ => {
            let (g, safeguarding) = match standing {
                Standing::Strong => ([StrongStandard, E, Exceptional, E, E, E], met),
                Standing::Secure => ([E, E, StrongStandard, E, E, E], met),
                Standing::Concern => ([E, NeedsAttention, E, E, E, E], met),
                Standing::Serious => ([UrgentImprovement, NeedsAttention, E, E, E, E], met),
            };
            InspectionOutcome::ReportCard {
                published: date((2025, 11, 10), 120, rng),
                grades: ReportCardGrades {
                    leadership_governance: g[0],
                    curriculum_teaching: g[1],
                    achievement: g[2],
                    attendance_behaviour: g[3],
                    personal_development_wellbeing: g[4],
                    inclusion: g[5],
                    early_years: None,
                    sixth_form: None,
                },
                safeguarding,
            }
        }
    }
}

/// A previous round: about a third of the schools in self-formed local triads
/// (the nearest same-phase schools, the "obvious" grouping).
fn previous_round(schools: &[TriadSchool], rng: &mut ChaCha8Rng) -> Vec<Vec<Urn>> {
    let mut used = vec![false; schools.len()];
    let mut history = Vec::new();
    for i in 0..schools.len() {
        if used[i] || rng.random_range(0..100) >= 12 {
            continue;
        }
        let here = &schools[i];
        let mut near: Vec<(f64, usize)> = (0..schools.len())
            .filter(|&j| j != i && !used[j] && schools[j].phase == here.phase)
            .map(|j| {
                let s = &schools[j];
                ((s.easting - here.easting).hypot(s.northing - here.northing), j)
            })
            .collect();
        near.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        if near.len() < 2 {
            continue;
        }
        let mut group = vec![i, near[0].1, near[1].1];
        for &j in &group {
            used[j] = true;
        }
        group.sort_unstable();
        history.push(group.into_iter().map(|j| schools[j].urn).collect());
    }
    history
}

/// Partnerships: the schools of each locality quadrant form one partnership
/// when it has 4 to 12 of them (a local cluster).
fn local_partnerships(schools: &[TriadSchool]) -> Vec<Vec<Urn>> {
    let mut by_locality: std::collections::BTreeMap<&str, Vec<Urn>> = Default::default();
    for s in schools {
        if let Some(l) = &s.locality {
            by_locality.entry(l.as_str()).or_default().push(s.urn);
        }
    }
    by_locality
        .into_values()
        .filter_map(|mut v| {
            v.truncate(12);
            (v.len() >= 4).then_some(v)
        })
        .collect()
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box-Muller: enough for scattering schools.
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}
