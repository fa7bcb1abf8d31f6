//! `brokerage::recommend`: for one request, every practitioner is a ranked
//! candidate or has a reason; the first candidate is the solver's pick for a
//! problem holding only that request (with the same pins and capacities);
//! each reason code from a constructed case; bad input is refused.

use std::collections::BTreeMap;

use bridges_schemas::brokerage::{BrokerageProblem, NotCandidateReason, Recommendation};
use bridges_schemas::common::{Period, RequestId};
use bridges_worker::brokerage::{check, recommend, solve};
use bridges_worker::common::SolveOptions;
use bridges_worker::tools::brokerage_generate::{Spec, generate};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Two schools 5 km apart, one practitioner at the second, one request at the first.
fn base() -> Value {
    json!({
        "periods": ["2026-AU1", "2026-AU2"],
        "schools": [
            {"urn": 100001, "phase": "primary", "trust": "Heathrow Learning Trust", "easting": 500000, "northing": 180000},
            {"urn": 100002, "phase": "primary", "trust": null, "easting": 505000, "northing": 180000},
            {"urn": 100003, "phase": "primary", "trust": null, "easting": 530000, "northing": 180000},
            {"urn": 100004, "phase": "primary", "trust": "Heathrow Learning Trust", "easting": 501000, "northing": 180000}
        ],
        "practitioners": [
            {"id": "sle-1", "designation": "SLE", "home_urn": 100002, "specialisms": ["maths"],
             "phases": ["primary"], "day_rate": 350, "capacity": {"2026-AU1": 2, "2026-AU2": 2}, "max_days": null}
        ],
        "requests": [
            {"id": "req-1", "urn": 100001, "need": "maths", "designations": ["SLE"], "priority": 1,
             "days": {"2026-AU1": 1, "2026-AU2": 1}, "previous_practitioner": null}
        ],
        "conflicts": [],
        "pinned": [],
        "policy": {"max_distance_km": 20, "same_trust": "forbid", "budget": null, "single_practitioner": true}
    })
}

fn problem(v: &Value) -> BrokerageProblem {
    serde_json::from_value(v.clone()).expect("test problem parses")
}

fn practitioner(id: &str, home: u32, edit: impl FnOnce(&mut Value)) -> Value {
    let mut p = base()["practitioners"][0].clone();
    p["id"] = json!(id);
    p["home_urn"] = json!(home);
    edit(&mut p);
    p
}

fn recommend_req1(p: &BrokerageProblem) -> Recommendation {
    recommend(p, &RequestId::from("req-1")).expect("recommends")
}

fn reason(rec: &Recommendation, id: &str) -> NotCandidateReason {
    rec.unavailable
        .iter()
        .find(|n| n.practitioner.as_str() == id)
        .unwrap_or_else(|| panic!("{id} is not unavailable: {rec:?}"))
        .reason
}

/// Every practitioner of `p` appears once, as a candidate or with a reason,
/// and the ranks count from 1.
fn partitions(p: &BrokerageProblem, rec: &Recommendation) -> Result<(), String> {
    let mut seen: Vec<&str> = rec.candidates.iter().map(|c| c.practitioner.as_str()).collect();
    seen.extend(rec.unavailable.iter().map(|n| n.practitioner.as_str()));
    seen.sort_unstable();
    let mut all: Vec<&str> = p.practitioners.iter().map(|x| x.id.as_str()).collect();
    all.sort_unstable();
    if seen != all {
        return Err(format!("{} listed for {} practitioners", seen.len(), all.len()));
    }
    for (n, c) in rec.candidates.iter().enumerate() {
        if c.rank as usize != n + 1 || c.days.values().sum::<u32>() == 0 {
            return Err(format!("candidate {n}: {c:?}"));
        }
    }
    Ok(())
}

/// The problem holding only request `r`, with the same pins and
/// capacities: the requests that have pins stay, asking just their pinned
/// days, so they can take no more.
fn alone(p: &BrokerageProblem, r: usize) -> BrokerageProblem {
    let id = &p.requests[r].id;
    let mut pinned: BTreeMap<&RequestId, BTreeMap<_, f64>> = BTreeMap::new();
    for pin in p.pinned.iter().filter(|pin| &pin.request != id) {
        let days = pinned.entry(&pin.request).or_default();
        for (t, d) in &pin.days {
            *days.entry(t.clone()).or_default() += d;
        }
    }
    let mut q = p.clone();
    q.requests = p
        .requests
        .iter()
        .filter_map(|req| {
            if &req.id == id {
                Some(req.clone())
            } else {
                let days = pinned.get(&req.id)?;
                let mut req = req.clone();
                req.days = days.clone();
                Some(req)
            }
        })
        .collect();
    q
}

#[test]
fn a_candidate_gives_days_free_cost_and_distance() {
    let rec = recommend_req1(&problem(&base()));
    assert_eq!(rec.candidates.len(), 1);
    let c = &rec.candidates[0];
    assert_eq!(c.practitioner.as_str(), "sle-1");
    assert_eq!(c.days.values().sum::<u32>(), 2);
    assert_eq!(c.free.values().sum::<u32>(), 4);
    assert_eq!(c.cost, 700.0);
    assert!((c.distance_km - 5.0).abs() < 1e-9);
    assert!(!c.continuity);
    assert!(rec.unavailable.is_empty());
}

#[test]
fn each_rule_in_the_way_has_its_reason() {
    let mut v = base();
    let ps = v["practitioners"].as_array_mut().expect("array");
    ps.push(practitioner("need", 100002, |p| p["specialisms"] = json!(["english"])));
    ps.push(practitioner("phase", 100002, |p| p["phases"] = json!(["secondary"])));
    ps.push(practitioner("desig", 100002, |p| p["designation"] = json!("LLE")));
    ps.push(practitioner("home", 100001, |_| {}));
    ps.push(practitioner("trust", 100004, |_| {}));
    ps.push(practitioner("listed", 100002, |_| {}));
    ps.push(practitioner("far", 100003, |_| {}));
    ps.push(practitioner("full", 100002, |p| {
        p["capacity"] = json!({"2026-AU1": 0, "2026-AU2": 0})
    }));
    ps.push(practitioner("dear", 100002, |p| p["day_rate"] = json!(900)));
    v["conflicts"] = json!([{"practitioner": "listed", "urn": 100001}]);
    v["policy"]["budget"] = json!(800);
    let rec = recommend_req1(&problem(&v));
    let p = problem(&v);
    partitions(&p, &rec).expect("every practitioner listed once");
    for (id, want) in [
        ("need", NotCandidateReason::Need),
        ("phase", NotCandidateReason::Phase),
        ("desig", NotCandidateReason::Designation),
        ("home", NotCandidateReason::Conflict),
        ("trust", NotCandidateReason::Conflict),
        ("listed", NotCandidateReason::Conflict),
        ("far", NotCandidateReason::Distance),
        ("full", NotCandidateReason::Capacity),
        ("dear", NotCandidateReason::Budget),
    ] {
        assert_eq!(reason(&rec, id), want, "{id}");
    }
    assert_eq!(rec.candidates[0].practitioner.as_str(), "sle-1");
    // The budget of £800 pays two of sle-1's days at £350.
    assert_eq!(rec.candidates[0].days.values().sum::<u32>(), 2);
}

#[test]
fn pins_count_against_capacity_and_keep_the_one_practitioner() {
    let mut v = base();
    v["practitioners"].as_array_mut().expect("array").push(practitioner("sle-2", 100002, |p| {
        p["capacity"] = json!({"2026-AU1": 1, "2026-AU2": 1})
    }));
    v["requests"].as_array_mut().expect("array").push(json!(
        {"id": "req-2", "urn": 100003, "need": "maths", "designations": ["SLE"], "priority": 2,
         "days": {"2026-AU2": 1}, "previous_practitioner": null}));
    // sle-2's only AU2 day is taken by req-2; sle-1 already has req-1's AU1 day.
    v["policy"]["max_distance_km"] = json!(40);
    v["pinned"] = json!([
        {"request": "req-2", "practitioner": "sle-2", "days": {"2026-AU2": 1}},
        {"request": "req-1", "practitioner": "sle-1", "days": {"2026-AU1": 1}}
    ]);
    let rec = recommend_req1(&problem(&v));
    assert_eq!(rec.candidates.len(), 1, "{rec:?}");
    let c = &rec.candidates[0];
    assert_eq!(c.practitioner.as_str(), "sle-1");
    assert!(c.continuity, "already assigned to it");
    assert_eq!(c.days.get(&Period::from("2026-AU2")), Some(&1));
    assert_eq!(c.days.get(&Period::from("2026-AU1")), None, "AU1 is already assigned");
    assert_eq!(c.free.get(&Period::from("2026-AU1")), Some(&1));
    assert_eq!(reason(&rec, "sle-2"), NotCandidateReason::SinglePractitioner);

    // Without rule 8, sle-2 has no day free in AU2, the one still needed.
    v["policy"]["single_practitioner"] = json!(false);
    let rec = recommend_req1(&problem(&v));
    assert_eq!(reason(&rec, "sle-2"), NotCandidateReason::Capacity);

    // Once every day is assigned, nobody is needed.
    v["pinned"][1]["days"] = json!({"2026-AU1": 1, "2026-AU2": 1});
    let rec = recommend_req1(&problem(&v));
    assert!(rec.candidates.is_empty());
    assert_eq!(reason(&rec, "sle-1"), NotCandidateReason::Met);
}

#[test]
fn continuity_ranks_the_previous_practitioner_first_among_equals() {
    let mut v = base();
    v["practitioners"].as_array_mut().expect("array").push(practitioner("sle-2", 100002, |_| {}));
    v["requests"][0]["previous_practitioner"] = json!("sle-2");
    let rec = recommend_req1(&problem(&v));
    assert_eq!(rec.candidates[0].practitioner.as_str(), "sle-2");
    assert!(rec.candidates[0].continuity);
    assert_eq!(rec.candidates[1].rank, 2);
}

/// Two practitioners alike in everything but their load: the one whose
/// pinned days already pass half of their availability costs the
/// tie-break's fair-load term, so the other ranks first, as the solver picks.
#[test]
fn fair_load_ranks_the_less_loaded_first_as_the_solver_does() {
    let mut v = base();
    let ps = v["practitioners"].as_array_mut().expect("array");
    ps[0]["capacity"] = json!({"2026-AU1": 4, "2026-AU2": 4});
    ps.push(practitioner("sle-2", 100002, |p| {
        p["capacity"] = json!({"2026-AU1": 4, "2026-AU2": 4})
    }));
    v["requests"].as_array_mut().expect("array").push(json!(
        {"id": "req-2", "urn": 100003, "need": "maths", "designations": ["SLE"], "priority": 2,
         "days": {"2026-AU1": 3, "2026-AU2": 2}, "previous_practitioner": null}));
    v["policy"]["max_distance_km"] = json!(40);
    v["pinned"] = json!([{"request": "req-2", "practitioner": "sle-1", "days": {"2026-AU1": 3, "2026-AU2": 2}}]);
    let p = problem(&v);
    let rec = recommend_req1(&p);
    assert_eq!(rec.candidates[0].practitioner.as_str(), "sle-2", "{rec:?}");
    assert_eq!(rec.candidates[1].practitioner.as_str(), "sle-1");
    let plan = solve(&p, "test", &SolveOptions::default()).expect("solves");
    let pick: Vec<&str> = plan
        .assignments
        .iter()
        .filter(|a| a.request.as_str() == "req-1")
        .map(|a| a.practitioner.as_str())
        .collect();
    assert_eq!(pick, ["sle-2"]);
}

#[test]
fn an_unknown_request_or_a_bad_problem_is_refused() {
    let p = problem(&base());
    let err = recommend(&p, &RequestId::from("req-404")).expect_err("refused");
    assert_eq!(err.field, "request");
    assert_eq!(err.value, "req-404");
    let mut v = base();
    v["requests"][0]["days"]["2026-AU1"] = json!(-1);
    let err = recommend(&problem(&v), &RequestId::from("req-1")).expect_err("refused");
    assert!(err.field.contains("days"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if std::env::var_os("BRIDGES_SLOW").is_some() { 400 } else { 16 }))]

    /// On generated problems (pins, conflicts, budgets as generated), for a
    /// few requests each: every practitioner is listed once, and whenever
    /// the solver gives the request days in the problem holding only it,
    /// its practitioner is the first candidate, with as many days.
    #[test]
    fn the_first_candidate_is_the_solvers_pick(seed in 0u64..10_000, schools in 6usize..40, pracs in 3usize..40, reqs in 4usize..30, single in any::<bool>()) {
        let mut p = generate(&Spec::synthetic(schools, pracs, reqs, seed)).expect("generates");
        p.policy.single_practitioner = single;
        for r in (0..p.requests.len()).step_by(3) {
            let id = p.requests[r].id.clone();
            let rec = recommend(&p, &id).expect("recommends");
            prop_assert!(partitions(&p, &rec).is_ok(), "{:?}", partitions(&p, &rec));
            let q = alone(&p, r);
            let plan = solve(&q, "prop", &SolveOptions::default()).expect("solves");
            prop_assert!(check::check(&q, &plan).is_empty());
            let pinned: u32 = p.pinned.iter().filter(|x| x.request == id).flat_map(|x| x.days.values()).map(|&d| d as u32).sum();
            let mut by: BTreeMap<&str, u32> = BTreeMap::new();
            for a in plan.assignments.iter().filter(|a| a.request == id) {
                *by.entry(a.practitioner.as_str()).or_default() += a.days.values().sum::<u32>();
            }
            let total: u32 = by.values().sum();
            if total == pinned {
                // The solver gave it nothing more: nobody could.
                prop_assert!(rec.candidates.is_empty(), "{:?} but the solver gave {} nothing", rec.candidates[0], id);
                continue;
            }
            prop_assert!(!rec.candidates.is_empty(), "the solver gave {} days", id);
            let first = &rec.candidates[0];
            if single {
                prop_assert_eq!(by.len(), 1);
                let (who, &days) = by.iter().next().expect("one practitioner");
                prop_assert_eq!(days, pinned + first.days.values().sum::<u32>());
                // A pick that no goal tells from the first (same days, day
                // rate, distance and continuity: HiGHS breaks a true tie
                // either way) counts as the first.
                let pick = rec.candidates.iter().find(|c| c.practitioner.as_str() == *who);
                let tied = pick.is_some_and(|c| {
                    c.days.values().sum::<u32>() == first.days.values().sum::<u32>()
                        && c.cost == first.cost
                        && (c.distance_km - first.distance_km).abs() < 1e-9
                        && c.continuity == first.continuity
                });
                prop_assert!(*who == first.practitioner.as_str() || tied, "request {}: the solver picked {}, recommend {:?}", id, who, rec.candidates);
            } else {
                // Days may be split: the first candidate takes the most any one could.
                prop_assert!(first.days.values().sum::<u32>() + pinned >= *by.values().max().expect("some"));
            }
        }
    }
}

#[test]
fn a_practitioner_who_declined_the_request_is_excluded_with_its_reason() {
    let mut v = base();
    v["exclusions"] = json!([{"request": "req-1", "practitioner": "sle-1"}]);
    let rec = recommend_req1(&problem(&v));
    assert!(rec.candidates.is_empty(), "{rec:?}");
    assert_eq!(reason(&rec, "sle-1"), NotCandidateReason::Excluded);
}
