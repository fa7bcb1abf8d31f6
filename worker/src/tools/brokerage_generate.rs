//! Realistic brokerage instances: schools laid out like a London borough
//! (about 15 x 12 km per 100 schools, real GIAS schools with `--gias`),
//! SLEs with 10 to 15 days a year, LLEs with 0.5 to 1 day a week, NLEs,
//! day rates SLE £350, LLE £450 to £500, NLE £550, and demand spread over the
//! six half-terms 2026-AU1 .. 2027-SU2. Deterministic for a seed.
//!
//! It writes nothing and does not validate; the solver does that. Its
//! documents read back under the strict reading (every policy field set);
//! it lists no exclusions (tests add their own, so that seeded instances
//! stay as they were).

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;
use bridges_schemas::brokerage::{
    BrokeragePolicy, BrokerageProblem, Conflict, DaysByPeriod, Pin, Practitioner, School,
    SupportRequest,
};
use bridges_schemas::{
    Designation, NeedArea, Period, Phase, PractitionerId, RequestId, SameTrust, Urn,
};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The six half-terms of the academic year 2026/27.
pub const PERIODS: [&str; 6] =
    ["2026-AU1", "2026-AU2", "2027-SP1", "2027-SP2", "2027-SU1", "2027-SU2"];

/// The need areas practitioners specialise in.
pub const SPECIALISMS: [&str; 9] = [
    "maths",
    "english",
    "early-years",
    "send",
    "science",
    "assessment",
    "behaviour",
    "leadership",
    "post-16",
];

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub schools: usize,
    pub practitioners: usize,
    pub requests: usize,
    pub seed: u64,
    pub gias: Option<PathBuf>,
    pub la: Option<u16>,
    pub single_practitioner: bool,
}

impl Spec {
    /// A synthetic instance of the given size.
    pub fn synthetic(schools: usize, practitioners: usize, requests: usize, seed: u64) -> Self {
        Self {
            schools,
            practitioners,
            requests,
            seed,
            gias: None,
            la: None,
            single_practitioner: true,
        }
    }
}

/// Generates a problem to `spec`.
pub fn generate(spec: &Spec) -> anyhow::Result<BrokerageProblem> {
    anyhow::ensure!(spec.schools >= 2, "--schools must be at least 2");
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let schools = match &spec.gias {
        Some(path) => gias_schools(path, spec, &mut rng)?,
        None => synthetic_schools(spec.schools, &mut rng),
    };
    anyhow::ensure!(schools.len() >= 2, "fewer than two usable schools");
    let periods: Vec<Period> = PERIODS.iter().map(|&p| Period::from(p)).collect();
    let practitioners: Vec<Practitioner> =
        (0..spec.practitioners).map(|i| practitioner(i, &schools, &mut rng)).collect();
    let requests: Vec<SupportRequest> =
        (0..spec.requests).map(|i| request(i, &schools, &practitioners, &mut rng)).collect();

    // A few listed conflicts (a practitioner's former school, a relative's).
    let mut conflicts = Vec::new();
    for p in &practitioners {
        if rng.random_bool(0.08) {
            let s = schools.choose(&mut rng).expect("schools is not empty");
            conflicts.push(Conflict { practitioner: p.id.clone(), urn: s.urn });
        }
    }

    // A few pins: a broker already agreed one day in the first half-term the
    // request asks for, with a practitioner who has that day free.
    let mut pinned = Vec::new();
    let mut pinned_load: BTreeMap<(usize, String), f64> = BTreeMap::new();
    let mut pinned_total: BTreeMap<usize, f64> = BTreeMap::new();
    for r in &requests {
        if !rng.random_bool(0.03) {
            continue;
        }
        let Some((period, _)) = r.days.iter().find(|(_, d)| **d > 0.0) else { continue };
        let school = schools.iter().find(|s| s.urn == r.urn).expect("request school exists");
        let fits = practitioners.iter().enumerate().find(|(pi, p)| {
            let home = schools.iter().find(|s| s.urn == p.home_urn).expect("home school exists");
            let km = bridges_schemas::common::distance_km(
                home.easting,
                home.northing,
                school.easting,
                school.northing,
            );
            let load = pinned_load.get(&(*pi, period.0.clone())).copied().unwrap_or(0.0);
            let total = pinned_total.get(pi).copied().unwrap_or(0.0);
            p.specialisms.contains(&r.need)
                && p.phases.contains(&school.phase)
                && r.designations.contains(&p.designation)
                && home.urn != school.urn
                && (home.trust.is_none() || home.trust != school.trust)
                && km <= MAX_DISTANCE_KM
                && p.capacity.get(period).copied().unwrap_or(0.0) >= load + 1.0
                && p.max_days.is_none_or(|m| m >= total + 1.0)
        });
        if let Some((pi, p)) = fits {
            *pinned_load.entry((pi, period.0.clone())).or_default() += 1.0;
            *pinned_total.entry(pi).or_default() += 1.0;
            pinned.push(Pin {
                request: r.id.clone(),
                practitioner: p.id.clone(),
                days: BTreeMap::from([(period.clone(), 1.0)]),
            });
        }
    }
    let demanded: f64 = requests.iter().flat_map(|r| r.days.values()).sum();
    let budget = (demanded * 400.0 / 1000.0).round() * 1000.0;
    let conflicts = conflicts
        .into_iter()
        .filter(|c| !pinned.iter().any(|p| p.practitioner == c.practitioner))
        .collect();
    Ok(BrokerageProblem {
        periods,
        schools,
        practitioners,
        requests,
        conflicts,
        exclusions: Vec::new(),
        pinned,
        policy: BrokeragePolicy {
            max_distance_km: Some(MAX_DISTANCE_KM),
            same_trust: SameTrust::Forbid,
            budget: Some(budget),
            single_practitioner: spec.single_practitioner,
        },
    })
}

/// The distance limit of generated policies, in km.
pub const MAX_DISTANCE_KM: f64 = 20.0;

fn synthetic_schools(n: usize, rng: &mut ChaCha8Rng) -> Vec<School> {
    // A borough is about 15 x 12 km for 100 schools; more schools, more boroughs.
    let scale = (n as f64 / 100.0).sqrt().max(0.3);
    let (w, h) = (15_000.0 * scale, 12_000.0 * scale);
    let mut trusts: Vec<(String, usize)> = Vec::new();
    let names = ["Heathrow", "Colne Valley", "Grand Union", "Brent River", "Harefield", "Yeading"];
    (0..n)
        .map(|i| {
            let phase = match rng.random_range(0..100) {
                0..62 => Phase::Primary,
                62..80 => Phase::Secondary,
                80..87 => Phase::Special,
                87..92 => Phase::Nursery,
                92..96 => Phase::AllThrough,
                _ => Phase::SixteenPlus,
            };
            // About a third of schools are in a trust of three to eight.
            let trust = if rng.random_bool(0.33) {
                match trusts.iter_mut().find(|(_, left)| *left > 0) {
                    Some((name, left)) => {
                        *left -= 1;
                        Some(name.clone())
                    }
                    None => {
                        let name = format!(
                            "{} Learning Trust {}",
                            names[trusts.len() % names.len()],
                            trusts.len() + 1
                        );
                        trusts.push((name.clone(), rng.random_range(2..8)));
                        Some(name)
                    }
                }
            } else {
                None
            };
            School {
                urn: Urn(100_000 + i as u32 * 7 + 1),
                phase,
                trust,
                easting: (505_000.0 + rng.random_range(0.0..w)).round(),
                northing: (175_000.0 + rng.random_range(0.0..h)).round(),
                name: None,
            }
        })
        .collect()
}

fn gias_schools(
    path: &std::path::Path,
    spec: &Spec,
    rng: &mut ChaCha8Rng,
) -> anyhow::Result<Vec<School>> {
    let all =
        crate::gias::read_schools(path).with_context(|| format!("reading {}", path.display()))?;
    let mut usable: Vec<School> = all
        .into_iter()
        .filter(|s| s.open && spec.la.is_none_or(|la| s.la_code == Some(la)))
        .filter_map(|s| {
            Some(School {
                urn: s.urn,
                phase: s.phase?,
                trust: s.trust,
                easting: s.easting?,
                northing: s.northing?,
                name: Some(s.name),
            })
        })
        .collect();
    usable.sort_by_key(|s| s.urn);
    if usable.len() > spec.schools {
        // A seeded sample, kept in URN order.
        let mut idx: Vec<usize> = (0..usable.len()).collect();
        for i in 0..spec.schools {
            let j = rng.random_range(i..idx.len());
            idx.swap(i, j);
        }
        let mut keep: Vec<usize> = idx[..spec.schools].to_vec();
        keep.sort_unstable();
        usable = keep.into_iter().map(|i| usable[i].clone()).collect();
    }
    Ok(usable)
}

fn practitioner(i: usize, schools: &[School], rng: &mut ChaCha8Rng) -> Practitioner {
    let home = schools.choose(rng).expect("schools is not empty");
    let designation = match rng.random_range(0..100) {
        0..60 => Designation::SLE,
        60..90 => Designation::LLE,
        _ => Designation::NLE,
    };
    let mut phases = vec![home.phase];
    if rng.random_bool(0.3) {
        let other = match home.phase {
            Phase::Primary => Phase::Nursery,
            Phase::Secondary => Phase::SixteenPlus,
            Phase::Special => Phase::Primary,
            _ => Phase::Primary,
        };
        phases.push(other);
    }
    if matches!(home.phase, Phase::AllThrough) {
        phases.extend([Phase::Primary, Phase::Secondary]);
    }
    let mut specialisms = Vec::new();
    let mut capacity = DaysByPeriod::new();
    let (prefix, rate, max_days) = match designation {
        Designation::SLE => {
            // 10 to 15 days a year, at most three in a half-term.
            let year: u32 = rng.random_range(10..=15);
            specialisms.push(pick_specialism(rng));
            if rng.random_bool(0.4) {
                specialisms.push(pick_specialism(rng));
            }
            for p in PERIODS {
                capacity.insert(Period::from(p), f64::from(rng.random_range(2..=3u32)));
            }
            ("sle", 350.0, Some(f64::from(year)))
        }
        Designation::LLE => {
            // 0.5 to 1 day a week: 3 to 6 days a half-term.
            specialisms.push(NeedArea::from("leadership"));
            if rng.random_bool(0.5) {
                specialisms.push(pick_specialism(rng));
            }
            let weekly = rng.random_range(3..=6u32);
            for p in PERIODS {
                capacity.insert(Period::from(p), f64::from(weekly));
            }
            ("lle", [450.0, 475.0, 500.0][rng.random_range(0..3)], None)
        }
        _ => {
            specialisms.push(NeedArea::from("leadership"));
            for p in PERIODS {
                capacity.insert(Period::from(p), f64::from(rng.random_range(2..=4u32)));
            }
            ("nle", 550.0, Some(18.0))
        }
    };
    specialisms.sort();
    specialisms.dedup();
    Practitioner {
        id: PractitionerId(format!("{prefix}-{}", i + 1)),
        designation: Designation::from(designation),
        home_urn: home.urn,
        specialisms,
        phases,
        day_rate: rate,
        capacity,
        max_days,
    }
}

fn pick_specialism(rng: &mut ChaCha8Rng) -> NeedArea {
    // Maths and English are asked for most; weights follow that.
    let weighted = [
        ("maths", 22),
        ("english", 22),
        ("early-years", 8),
        ("send", 12),
        ("science", 8),
        ("assessment", 8),
        ("behaviour", 10),
        ("leadership", 4),
        ("post-16", 6),
    ];
    let total: u32 = weighted.iter().map(|w| w.1).sum();
    let mut pick = rng.random_range(0..total);
    for (name, w) in weighted {
        if pick < w {
            return NeedArea::from(name);
        }
        pick -= w;
    }
    NeedArea::from("maths")
}

fn request(
    i: usize,
    schools: &[School],
    practitioners: &[Practitioner],
    rng: &mut ChaCha8Rng,
) -> SupportRequest {
    let school = schools.choose(rng).expect("schools is not empty");
    let leadership = rng.random_bool(0.25);
    let need = if leadership { NeedArea::from("leadership") } else { pick_specialism(rng) };
    let designations = if leadership {
        if rng.random_bool(0.3) {
            vec![Designation::NLE]
        } else {
            vec![Designation::LLE, Designation::NLE]
        }
    } else if rng.random_bool(0.3) {
        vec![Designation::SLE, Designation::LLE]
    } else {
        vec![Designation::SLE]
    };
    let designations: Vec<Designation> = designations.into_iter().map(Designation::from).collect();
    let priority = match rng.random_range(0..100) {
        0..15 => 1,
        15..45 => 2,
        45..80 => 3,
        _ => 4,
    };
    // Half-termly as a minimum: a run of two to six half-terms.
    let span = rng.random_range(2..=6usize);
    let first = rng.random_range(0..=(PERIODS.len() - span));
    let per = if leadership { rng.random_range(1..=2u32) } else { 1 };
    let mut days = DaysByPeriod::new();
    for p in &PERIODS[first..first + span] {
        let extra = u32::from(rng.random_bool(0.25));
        days.insert(Period::from(*p), f64::from(per + extra));
    }
    let previous_practitioner = if rng.random_bool(0.25) {
        let fits: Vec<&Practitioner> = practitioners
            .iter()
            .filter(|p| {
                p.specialisms.contains(&need)
                    && p.phases.contains(&school.phase)
                    && designations.contains(&p.designation)
                    && p.home_urn != school.urn
            })
            .collect();
        fits.choose(rng).map(|p| p.id.clone())
    } else {
        None
    };
    SupportRequest {
        id: RequestId(format!("req-{}", i + 1)),
        urn: school.urn,
        need,
        designations,
        priority,
        days,
        previous_practitioner,
    }
}
