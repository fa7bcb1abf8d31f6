//! Peer-review rounds through the engine on a real log with the real
//! solver: three consecutive academic years of Hillingdon's real primary
//! schools (../shared/data, imported as GIAS), each round's plan passing
//! the independent checker, no pair grouped twice across the years, every
//! claim of every group true of it, and a swap that would break a rule
//! refused naming it; and a round whose schools carry outcomes in all three
//! inspection frameworks, and some none.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use bridges_engine::config::Config;
use bridges_engine::domain::State;
use bridges_engine::domain::round::{km, standing};
use bridges_engine::domain::state::Round;
use bridges_engine::handle::{Engine, Outcome};
use bridges_engine::imports::{self, ImportOptions};
use bridges_engine::keys::KeyStore;
use bridges_engine::log::{EventLog, LogConfig};
use bridges_engine::rounds;
use bridges_schemas::commands::*;
use bridges_schemas::events::{GroupClaim, RoundId};
use bridges_schemas::inspection::{
    InspectionOutcome, Ofsted, ReportCardGrade, ReportCardGrades, Safeguarding, SubJudgementGrades,
};
use bridges_schemas::vocab::{AcademicYearId, UserId};
use bridges_schemas::{Phase, Standing, Urn};
use bridges_worker::common::SolveOptions;
use chrono::{DateTime, Utc};

fn shared_gias() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/hillingdon_ealing_schools.csv");
    if path.exists() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!("{} is missing and CI is set: the real-data tests must run", path.display());
    }
    eprintln!("note: {} is absent; skipping the real-data test", path.display());
    None
}

struct Fixture {
    _dir: tempfile::TempDir,
    engine: Engine,
}

/// An engine with the built-in configuration (its calendar holds 2025-26
/// to 2027-28) on a temporary log.
async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = EventLog::open(LogConfig::new(dir.path().join("data"))).expect("log");
    let keys = KeyStore::open(dir.path().join("data-keys")).expect("keys");
    let config = Config::built_in().expect("config");
    let engine =
        Engine::open(log, bridges_engine::rules::rules(&config), keys).await.expect("engine");
    Fixture { _dir: dir, engine }
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("a time")
}

async fn handle(engine: &Engine, id: &str, when: DateTime<Utc>, command: Command) -> Outcome {
    let envelope = CommandEnvelope {
        id: id.to_owned(),
        actor: UserId("coordinator-1".into()),
        at: when,
        command,
    };
    engine.handle(&envelope).await.expect("handled")
}

async fn applied(engine: &Engine, id: &str, when: DateTime<Utc>, command: Command) {
    match handle(engine, id, when, command).await {
        Outcome::Applied { .. } => {}
        other => panic!("{id}: {other:?}"),
    }
}

/// Open, enrol the LA's primaries, form (the real solver), check the plan.
async fn open_and_form(
    engine: &Engine,
    round: &RoundId,
    year: &str,
    when: DateTime<Utc>,
) -> rounds::Formed {
    applied(
        engine,
        &format!("open-{round}"),
        when,
        Command::OpenRound(OpenRound {
            round: round.clone(),
            year: AcademicYearId(year.into()),
            periods: None,
        }),
    )
    .await;
    applied(
        engine,
        &format!("enrol-{round}"),
        when,
        Command::EnrolSchools(EnrolSchools {
            round: round.clone(),
            urns: Vec::new(),
            phase: Some(Phase::Primary),
        }),
    )
    .await;
    let options = SolveOptions { time_limit: Some(60.0), mip_gap: None };
    let formed = rounds::form(
        engine,
        round,
        format!("form-{round}"),
        UserId("coordinator-1".into()),
        when,
        &options,
    )
    .await
    .expect("formed");
    assert!(matches!(formed.recorded, Outcome::Applied { .. }), "{:?}", formed.recorded);
    let broken = bridges_worker::triads::check::check(&formed.problem, &formed.plan);
    assert!(broken.is_empty(), "{round}: {broken:?}");
    formed
}

/// Checks every claim of every group of `round` against the state, with
/// this test's own reading of each.
fn check_claims(state: &State, round: &Round) {
    let earlier: Vec<&Round> =
        state.rounds.values().filter(|r| r.id != round.id && r.confirmed).collect();
    for g in round.groups.values() {
        let schools: Vec<_> = g.members.iter().map(|u| &state.schools[u]).collect();
        assert!(!g.claims.is_empty(), "group {} has no reasons", g.group);
        for claim in &g.claims {
            let what = format!("round {} group {}: {claim:?}", round.id, g.group);
            match claim {
                GroupClaim::Standings { bands, no_outcome } => {
                    let mut real: Vec<Standing> =
                        schools.iter().filter_map(|s| standing(s)).collect();
                    real.sort();
                    real.dedup();
                    real.reverse();
                    assert_eq!(&real, bands, "{what}");
                    assert_eq!(
                        *no_outcome,
                        schools.iter().any(|s| s.inspection.is_none()),
                        "{what}"
                    );
                }
                GroupClaim::WithinKm { km: said } => {
                    let mut furthest: f64 = 0.0;
                    for a in &schools {
                        for b in &schools {
                            furthest = furthest.max(km(a, b));
                        }
                    }
                    assert!(
                        furthest <= *said && *said < furthest + 0.1 + 1e-9,
                        "{what}: {furthest}"
                    );
                }
                GroupClaim::NewPartners { rounds } => {
                    assert_eq!(*rounds as usize, earlier.len(), "{what}");
                    for r in &earlier {
                        for h in r.groups.values() {
                            let shared = h.members.iter().filter(|u| g.members.contains(u)).count();
                            assert!(shared < 2, "{what}: {:?} were grouped in {}", h.members, r.id);
                        }
                    }
                }
                GroupClaim::NoSharedTrust => {
                    let trusts: Vec<&String> =
                        schools.iter().filter_map(|s| s.trust.as_ref()).collect();
                    assert!(!trusts.is_empty(), "{what}");
                    let distinct: BTreeSet<&&String> = trusts.iter().collect();
                    assert_eq!(distinct.len(), trusts.len(), "{what}");
                }
                GroupClaim::Sizes { smallest, largest } => {
                    let pupils: Vec<u32> =
                        schools.iter().map(|s| s.pupils.expect("pupils")).collect();
                    assert_eq!(pupils.iter().min(), Some(smallest), "{what}");
                    assert_eq!(pupils.iter().max(), Some(largest), "{what}");
                }
                GroupClaim::NotNearest => {
                    for s in &schools {
                        let mut nearest: Option<(f64, Urn)> = None;
                        for u in &round.enrolled {
                            let o = &state.schools[u];
                            if o.urn == s.urn || o.phase != s.phase {
                                continue;
                            }
                            let d = km(s, o);
                            if nearest.is_none_or(|(best, _)| d < best) {
                                nearest = Some((d, o.urn));
                            }
                        }
                        let (_, n) = nearest.expect("a neighbour");
                        assert!(!g.members.contains(&n), "{what}: {} is beside {n}", s.urn);
                    }
                }
                GroupClaim::NotSameLocality { localities } => {
                    // The district is the postcode's outward code, before its space.
                    let mut districts: Vec<String> = schools
                        .iter()
                        .map(|s| {
                            let p = s.postcode.as_deref().expect("a postcode");
                            p[..p.find(' ').expect("a space")].to_owned()
                        })
                        .collect();
                    districts.sort();
                    assert_eq!(&districts, localities, "{what}");
                    districts.dedup();
                    assert_eq!(districts.len(), schools.len(), "{what}");
                }
            }
        }
    }
    for u in round.unplaced.values() {
        assert!(!u.detail.is_empty(), "{} has no reason", u.urn);
    }
}

/// A swap in `round` that would group a pair of the history (and break no
/// other rule first), if there is one.
fn history_breaking_swap(state: &State, round: &Round) -> Option<(Urn, Urn)> {
    let mut pairs = BTreeSet::new();
    for r in state.rounds.values().filter(|r| r.id != round.id && r.confirmed) {
        for g in r.groups.values() {
            for a in &g.members {
                for b in &g.members {
                    if a < b {
                        pairs.insert((*a, *b));
                    }
                }
            }
        }
    }
    let limit = round.policy.max_distance_km.unwrap_or(f64::INFINITY);
    for g in round.groups.values() {
        for h in round.groups.values().filter(|h| h.group != g.group) {
            for &a in &g.members {
                for &b in &h.members {
                    let mut new: Vec<Urn> = g.members.iter().copied().filter(|u| *u != a).collect();
                    new.push(b);
                    new.sort();
                    let fine_otherwise = |m: &[Urn]| {
                        m.iter().enumerate().all(|(i, x)| {
                            m[i + 1..].iter().all(|y| {
                                let (sx, sy) = (&state.schools[x], &state.schools[y]);
                                km(sx, sy) <= limit && (sx.trust.is_none() || sx.trust != sy.trust)
                            })
                        }) && m.iter().any(|x| {
                            standing(&state.schools[x]).is_some_and(Standing::good_or_better)
                        })
                    };
                    let repeats =
                        new.iter().any(|x| new.iter().any(|y| x < y && pairs.contains(&(*x, *y))));
                    // The first group checked is a's (with b in it).
                    if repeats && fine_otherwise(&new) {
                        return Some((a, b));
                    }
                }
            }
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_years_of_hillingdon_primaries_never_repeat_a_pair() {
    let Some(path) = shared_gias() else { return };
    let f = fixture().await;
    let engine = &f.engine;
    let when = at("2025-09-03T09:00:00Z");
    let options = ImportOptions { at: when, actor: UserId("coordinator-1".into()) };
    imports::import_file(engine, imports::Kind::Gias, &path, Some(312), &options)
        .await
        .expect("import");
    let mut seen: BTreeMap<(Urn, Urn), RoundId> = BTreeMap::new();
    for (k, start) in [2025, 2026, 2027].into_iter().enumerate() {
        let round = RoundId(format!("hil-{start}"));
        let year = format!("{start}-{:02}", (start + 1) % 100);
        let when = at(&format!("{start}-09-03T09:00:00Z"));
        let formed = open_and_form(engine, &round, &year, when).await;
        // Then Hillingdon's 67 primaries are formed, all but a few placed
        assert_eq!(formed.problem.schools.len(), 67);
        assert_eq!(
            formed.problem.history.len(),
            engine.read(|s| history_groups(s, &round)).await.expect("read")
        );
        let placed: usize = formed.plan.groups.iter().map(Vec::len).sum();
        eprintln!(
            "{round}: {placed} of 67 placed in {} groups, {} ({:.2} s), history {} groups",
            formed.plan.groups.len(),
            formed.plan.status,
            formed.solve_seconds,
            formed.problem.history.len()
        );
        assert!(placed >= 60, "{round}: only {placed} placed");
        let state = engine.read(|s| s.clone()).await.expect("read");
        let r = &state.rounds[&round];
        check_claims(&state, r);
        // GIAS gives every school a postcode: most groups span districts
        let mixed = r
            .groups
            .values()
            .filter(|g| g.claims.iter().any(|c| matches!(c, GroupClaim::NotSameLocality { .. })))
            .count();
        eprintln!("{round}: {mixed} of {} groups not the same locality", r.groups.len());
        assert!(mixed * 2 > r.groups.len(), "{round}: only {mixed} groups span localities");
        // A swap that would group a pair of an earlier year is refused naming the rule
        if k > 0
            && let Some((a, b)) = history_breaking_swap(&state, r)
        {
            let outcome = handle(
                engine,
                &format!("swap-{round}"),
                when,
                Command::SwapSchools(SwapSchools { round: round.clone(), a, b }),
            )
            .await;
            let Outcome::Rejected(rej) = outcome else { panic!("{outcome:?}") };
            assert_eq!(
                (rej.code, rej.field.as_str()),
                (RejectionCode::HardRule, "history"),
                "{rej:?}"
            );
        } else if k > 0 {
            panic!("{round}: no swap that would repeat a pair was found");
        }
        applied(
            engine,
            &format!("confirm-{round}"),
            when,
            Command::ConfirmRound(ConfirmRound { round: round.clone() }),
        )
        .await;
        for g in &formed.plan.groups {
            for (i, a) in g.iter().enumerate() {
                for b in &g[i + 1..] {
                    let key = ((*a).min(*b), (*a).max(*b));
                    if let Some(before) = seen.insert(key, round.clone()) {
                        panic!("{a} and {b} were grouped in {before} and again in {round}");
                    }
                }
            }
        }
    }
    assert!(engine.rebuild_equals_live().await.expect("rebuild"));
}

fn history_groups(state: &State, round: &RoundId) -> usize {
    state.rounds.values().filter(|r| &r.id != round && r.confirmed).map(|r| r.groups.len()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_mixes_outcomes_of_all_three_frameworks_and_none() {
    use Ofsted::*;
    let f = fixture().await;
    let engine = &f.engine;
    let when = at("2026-09-03T09:00:00Z");
    let sub = |q: Ofsted, l: Ofsted, safe: Safeguarding| InspectionOutcome::SubJudgements {
        published: None,
        grades: SubJudgementGrades {
            quality_of_education: q,
            behaviour_attitudes: Good,
            personal_development: Good,
            leadership_management: l,
            early_years: None,
            sixth_form: None,
        },
        safeguarding: safe,
    };
    let card = |lead: ReportCardGrade, ach: ReportCardGrade| InspectionOutcome::ReportCard {
        published: None,
        grades: ReportCardGrades {
            leadership_governance: lead,
            curriculum_teaching: ReportCardGrade::StrongStandard,
            achievement: ach,
            attendance_behaviour: ReportCardGrade::ExpectedStandard,
            personal_development_wellbeing: ReportCardGrade::ExpectedStandard,
            inclusion: ReportCardGrade::ExpectedStandard,
            early_years: None,
            sixth_form: None,
        },
        safeguarding: Safeguarding::Met,
    };
    let overall = |g: Ofsted| InspectionOutcome::Overall { published: None, overall: g };
    // Twelve primaries on a 2 km grid: four report cards, four sub-judgements, two overall, two none
    let outcomes: Vec<Option<InspectionOutcome>> = vec![
        Some(card(ReportCardGrade::Exceptional, ReportCardGrade::StrongStandard)), // strong
        Some(card(ReportCardGrade::ExpectedStandard, ReportCardGrade::ExpectedStandard)), // secure
        Some(card(ReportCardGrade::ExpectedStandard, ReportCardGrade::NeedsAttention)), // concern
        Some(card(ReportCardGrade::UrgentImprovement, ReportCardGrade::ExpectedStandard)), // serious
        Some(sub(Outstanding, Outstanding, Safeguarding::Met)),                            // strong
        Some(sub(Good, Good, Safeguarding::Met)),                                          // secure
        Some(sub(RequiresImprovement, Good, Safeguarding::Met)), // concern
        Some(sub(Good, Good, Safeguarding::NotMet)),             // serious
        Some(overall(Good)),
        Some(overall(RequiresImprovement)),
        None,
        None,
    ];
    for (i, outcome) in outcomes.iter().enumerate() {
        let urn = Urn(500_001 + i as u32);
        applied(
            engine,
            &format!("reg-{i}"),
            when,
            Command::RegisterSchool(RegisterSchool {
                urn,
                name: format!("Primary {i}"),
                la_code: 312,
                phase: Phase::Primary,
                trust: None,
                easting: 507_000.0 + 2_000.0 * (i % 4) as f64,
                northing: 182_000.0 + 2_000.0 * (i / 4) as f64,
                pupils: Some(200 + 30 * i as u32),
                postcode: None,
            }),
        )
        .await;
        if let Some(o) = outcome {
            applied(
                engine,
                &format!("insp-{i}"),
                when,
                Command::RecordInspection(RecordInspection {
                    urn,
                    outcome: *o,
                    source: "manual".into(),
                }),
            )
            .await;
        }
    }
    let round = RoundId("mixed".into());
    let formed = open_and_form(engine, &round, "2026-27", when).await;
    // Then every school is placed, each group has a strong or secure school
    // by the standing of its own framework, and the claims say so
    assert_eq!(formed.plan.groups.iter().map(Vec::len).sum::<usize>(), 12, "{:?}", formed.plan);
    let state = engine.read(|s| s.clone()).await.expect("read");
    let r = &state.rounds[&round];
    check_claims(&state, r);
    let bands: BTreeSet<Option<Standing>> =
        r.enrolled.iter().map(|u| standing(&state.schools[u])).collect();
    assert_eq!(bands.len(), 5, "all four bands and none: {bands:?}");
    for g in r.groups.values() {
        assert!(
            g.members
                .iter()
                .any(|u| standing(&state.schools[u]).is_some_and(Standing::good_or_better)),
            "group {} has no strong or secure school",
            g.group
        );
    }
    let mixed = r.groups.values().any(|g| {
        g.claims.iter().any(|c| matches!(c, GroupClaim::Standings { no_outcome: true, .. }))
    });
    assert!(mixed, "some group holds a school with no outcome");
    // And the export writes its files: CSV with a byte-order mark, an HTML page with its map
    let dir = tempfile::tempdir().expect("tempdir");
    let calendar = engine.rules().calendar.clone();
    let paths = rounds::export::write(&state, r, &calendar, dir.path()).expect("export");
    assert_eq!(paths.len(), 4);
    let rota = std::fs::read_to_string(dir.path().join(rounds::export::ROTA_CSV)).expect("rota");
    assert!(rota.starts_with('\u{feff}'));
    // 12 hosted reviews of a primary at £1,000 each
    assert!(rota.contains("12000.00"), "{rota}");
    let page = std::fs::read_to_string(dir.path().join(rounds::export::PAGE_HTML)).expect("page");
    // Self-contained: an inline SVG, no script, stylesheet or image fetched
    assert!(page.contains("<svg"), "{page}");
    for fetch in ["<script", "<link", "<img", "src="] {
        assert!(!page.contains(fetch), "the page fetches something: {fetch}");
    }
    assert_eq!(page.matches("<polygon").count(), r.groups.len());
}
