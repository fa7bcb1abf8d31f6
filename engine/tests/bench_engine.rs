//! `bridges bench engine` at a tiny size, so that it cannot rot: every
//! phase runs (the partnership built through the imports, handle against
//! raw appends one at a time and concurrently, recommend before and after
//! the run, the run itself) and what it counts holds together. No timing
//! is asserted: benchmarks never run in CI at their size.

use bridges_engine::bench::engine::{EngineBenchOptions, run_engine_bench};
use bridges_engine::config::Config;
use bridges_worker::common::SolveOptions;
use chrono::{DateTime, Utc};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_bench_runs_every_phase_at_a_tiny_size() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = bridges_engine::rules::rules(&Config::load(None).expect("the default config"));
    let at: DateTime<Utc> = "2026-09-14T09:00:00Z".parse().expect("a time");
    let options = EngineBenchOptions {
        schools: 40,
        practitioners: 12,
        requests: 30,
        submitters: 4,
        recommend_samples: 8,
        time_limit: None,
        keep: false,
        no_throughput: false,
    };
    let solve = SolveOptions { time_limit: Some(10.0), mip_gap: None };
    let report = run_engine_bench(dir.path(), &rules, solve, at, &options).await.expect("bench");

    assert!(report.schools > 30 && report.practitioners == 12, "{report:?}");
    assert_eq!(report.requests, 30);
    assert!(report.built_events > (report.schools + 12 + 30) as u64);
    assert_eq!(report.throughput.len(), 2);
    for (t, submitters) in report.throughput.iter().zip([1, 4]) {
        assert_eq!((t.submitters, t.commands, t.events), (submitters, 30, 30), "{t:?}");
    }
    // Before and after the run, each on its own snapshot and cached.
    assert_eq!(report.recommend.len(), 4);
    assert_eq!(report.recommend[1].samples.len(), 8);
    assert_eq!(report.recommend[1].candidates, report.recommend[0].candidates);
    assert_eq!(report.recommend[0].samples.len(), 8);
    assert!(report.recommend[0].candidates > 0, "{report:?}");
    // The CLI's cut of the snapshot for one request answers as the whole
    // snapshot does, before the run and after it (its proposals are pins).
    assert_eq!(report.recommend[0].answers, report.recommend[1].answers);
    assert_eq!(report.recommend[2].answers, report.recommend[3].answers);
    assert_eq!(report.recommend[2].samples.len(), 8);
    assert!(report.matched.applied && report.matched.proposals > 0, "{:?}", report.matched);
    assert!(!dir.path().join("bench-engine").exists(), "removed without --keep");
}

/// `bridges bench rounds` at a tiny size: three generated rounds, each
/// checked and with no pair repeated (the bench itself ensures both).
#[test]
fn the_rounds_bench_forms_rounds_with_growing_history_at_a_tiny_size() {
    use bridges_engine::bench::rounds::{RoundsBenchOptions, run_rounds_bench};
    let options = RoundsBenchOptions {
        gias: Some(std::path::PathBuf::from("/nonexistent/gias.csv")),
        history_rounds: 0,
        generated: 90,
        generated_history_rounds: 2,
        time_limit: 10.0,
    };
    let figures = run_rounds_bench(&options).expect("bench");
    assert_eq!(figures.len(), 3);
    assert!(figures.windows(2).all(|w| w[1].history_groups > w[0].history_groups), "{figures:?}");
    assert!(figures.iter().all(|f| f.placed > 0.0 && f.placed <= f.bound), "{figures:?}");
}

/// `bridges bench year` at a small size: two weeks of a generated borough,
/// every figure filled in (the bench itself checks the rebuilt state
/// equals the live one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_year_bench_runs_a_small_year_and_measures_every_figure() {
    use bridges_engine::bench::year::{YearBenchOptions, run_year_bench};
    let config = Config::built_in().expect("config");
    let dir = tempfile::tempdir().expect("tempdir");
    let options = YearBenchOptions {
        schools: 60,
        practitioners: 20,
        requests: 120,
        time_limit: 5.0,
        starts: 2026,
        weeks: Some(2),
        dir: Some(dir.path().to_owned()),
    };
    let f = run_year_bench(&config, &options).await.expect("bench");
    assert_eq!(f.weeks, 2);
    assert_eq!(f.week_times.len(), 2);
    assert_eq!(f.solve_seconds.len(), 2);
    assert!(f.events > 100, "{} events", f.events);
    assert!(f.peak_kib.is_some_and(|k| k > 0));
    assert!(dir.path().join("report").join(bridges_engine::reports::PAGE).exists());
}
