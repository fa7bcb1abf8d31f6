//! `bridges bench year`: a year of a large partnership in one run, as
//! `bridges year` runs it (`year::run`: the 39 term weeks, each with its
//! imports, matching run and simulated answers, visits and closures), on a
//! generated borough of 2,000 schools with 500 practitioners and 5,000
//! requests over the year (a sixth of them per half-term), each run under
//! a 10 s solver limit. It prints the total time, the time per week and
//! per solve (p50, max), the runs' per-tier gaps, events per second, the
//! time to rebuild every projection from the log, the report's time and
//! the peak resident memory, each against its goal. Figures depend on the
//! machine and its load: a record, not a test (a small year is tested so
//! that it cannot rot).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::handle::Engine;
use crate::keys::KeyStore;
use crate::log::{EventLog, LogConfig, Position};
use crate::reports;
use crate::year::{self, YearRequest};

/// Options of `bridges bench year`.
#[derive(Debug, Clone, clap::Args)]
pub struct YearBenchOptions {
    /// Schools of the generated borough.
    #[arg(long, default_value_t = 2_000)]
    pub schools: usize,
    /// Practitioners.
    #[arg(long, default_value_t = 500)]
    pub practitioners: usize,
    /// Requests over the year (a sixth arrive each half-term).
    #[arg(long, default_value_t = 5_000)]
    pub requests: usize,
    /// Seconds each weekly run's solve may take.
    #[arg(long, default_value_t = 10.0)]
    pub time_limit: f64,
    /// The academic year, by the calendar year it starts in.
    #[arg(long, default_value_t = 2026)]
    pub starts: i32,
    /// Only the first WEEKS term weeks (default: all 39).
    #[arg(long)]
    pub weeks: Option<usize>,
    /// Where the log, the demo's files and the report go (default: a
    /// temporary folder, removed after).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// What the year measured.
#[derive(Debug, Clone)]
pub struct YearBenchFigures {
    pub weeks: usize,
    pub events: u64,
    pub total: Duration,
    /// Wall time of each week (its imports, run and simulated days).
    pub week_times: Vec<Duration>,
    /// Each run's solve, as it recorded it.
    pub solve_seconds: Vec<f64>,
    /// The largest per-tier gap of any run, tiers 1 to 4.
    pub worst_tier_gap: [f64; 4],
    pub rebuild: Duration,
    pub report: Duration,
    pub peak_kib: Option<u64>,
    /// The solver limit each run had, in seconds.
    pub time_limit: f64,
}

/// Runs the year and prints its figures.
pub async fn run_year_bench(
    config: &Config,
    options: &YearBenchOptions,
) -> anyhow::Result<YearBenchFigures> {
    let mut config = config.clone();
    config.weekly.schools = options.schools;
    config.weekly.practitioners = options.practitioners;
    config.weekly.requests = options.requests.div_ceil(6);
    config.solver.time_limit_seconds = options.time_limit;
    config.validate().map_err(|e| {
        crate::cli::CliError::bad_input(format!("{} = {}: {}", e.key, e.value, e.reason))
    })?;
    let temp = tempfile::tempdir()?;
    let dir = options.dir.clone().unwrap_or_else(|| temp.path().to_owned());
    let mut log_config = LogConfig::new(dir.join("data"));
    log_config.cache_capacity = config.log.cache_capacity_bytes;
    log_config.max_group_events = config.log.max_group_events;
    log_config.index_lag = config.log.index_lag;
    let log = EventLog::open(log_config.clone())?;
    let keys = KeyStore::open(dir.join("keys"))?;
    let engine = Engine::open(log, crate::rules::rules(&config), keys).await?;
    let starts = options.starts;
    let request = YearRequest {
        starts,
        weeks: options.weeks,
        seed: year::DEFAULT_SEED,
        gias: None,
        demo_dir: dir.join("demo"),
    };
    println!(
        "a year of {} schools, {} practitioners and {} requests ({} a half-term), {} s solver limit, academic year {starts}/{}",
        options.schools,
        options.practitioners,
        options.requests,
        config.weekly.requests,
        options.time_limit,
        (starts + 1) % 100
    );
    let started = Instant::now();
    let mut marks: Vec<Instant> = Vec::new();
    let outcome = year::run(&engine, &config, &request, |i, week| {
        marks.push(Instant::now());
        println!("  week {:>2} {week} at {:>6.1} s", i + 1, started.elapsed().as_secs_f64());
    })
    .await?;
    let total = started.elapsed();
    marks.push(Instant::now());
    let week_times: Vec<Duration> = marks.windows(2).map(|w| w[1] - w[0]).collect();
    let head = engine.log().head();
    let rebuild_started = Instant::now();
    let rebuilt: crate::domain::State = crate::projection::state_at(engine.log(), head)?;
    let rebuild = rebuild_started.elapsed();
    anyhow::ensure!(
        engine.read(|s| *s == rebuilt).await?,
        "the state rebuilt from the log differs from the live one"
    );
    engine.close().await?;

    let report_started = Instant::now();
    let log = EventLog::open(log_config)?;
    let cut = reports::cut_of(&log, reports::AsOf::Head)?;
    let state: crate::domain::State = crate::projection::state_at(&log, Position(cut.position))?;
    let report = reports::build(&state, &crate::rules::rules(&config), cut);
    reports::write(&report, &dir.join("report"))?;
    let report_time = report_started.elapsed();
    log.close().await?;

    let mut worst_tier_gap = [0.0f64; 4];
    let mut solve_seconds = Vec::new();
    for w in &outcome.weeks {
        solve_seconds.push(w.seconds);
        for (t, gap) in w.gaps.iter().enumerate() {
            worst_tier_gap[t] = worst_tier_gap[t].max(*gap);
        }
    }
    let figures = YearBenchFigures {
        weeks: outcome.weeks.len(),
        events: head.0,
        total,
        week_times,
        solve_seconds,
        worst_tier_gap,
        rebuild,
        report: report_time,
        peak_kib: super::vm_hwm_kib(),
        time_limit: options.time_limit,
    };
    print!("{}", table(&figures));
    Ok(figures)
}

/// The figures against the goals (the year at most 10 minutes, every
/// projection rebuilt in at most 10 s, memory at most 1 GiB).
pub fn table(f: &YearBenchFigures) -> String {
    let secs: Vec<f64> = f.week_times.iter().map(Duration::as_secs_f64).collect();
    let ok = |met: bool| if met { "met" } else { "MISSED" };
    let total = f.total.as_secs_f64();
    let peak_mib = f.peak_kib.map(|k| k as f64 / 1024.0);
    let mut out = String::new();
    out.push_str(&format!(
        "year: {} weeks in {total:.1} s (goal <= 600 s: {})\n",
        f.weeks,
        ok(total <= 600.0)
    ));
    out.push_str(&format!(
        "per week: p50 {:.2} s, max {:.2} s; per solve: p50 {:.2} s, max {:.2} s\n",
        quantile(&secs, 0.5),
        quantile(&secs, 1.0),
        quantile(&f.solve_seconds, 0.5),
        quantile(&f.solve_seconds, 1.0)
    ));
    let at_limit = f.solve_seconds.iter().filter(|s| **s >= 0.95 * f.time_limit).count();
    out.push_str(&format!(
        "runs that reached the {} s solver limit: {at_limit} of {}\n",
        f.time_limit,
        f.solve_seconds.len()
    ));
    out.push_str(&format!(
        "worst per-tier gap of any run: tier 1 {:.2}%, tier 2 {:.2}%, tier 3 {:.2}%, tier 4 {:.2}%\n",
        f.worst_tier_gap[0] * 100.0,
        f.worst_tier_gap[1] * 100.0,
        f.worst_tier_gap[2] * 100.0,
        f.worst_tier_gap[3] * 100.0
    ));
    out.push_str(&format!(
        "events: {} ({:.0} a second over the year)\n",
        f.events,
        f.events as f64 / total.max(1e-9)
    ));
    out.push_str(&format!(
        "rebuild of every projection from the log: {:.2} s (goal <= 10 s: {})\n",
        f.rebuild.as_secs_f64(),
        ok(f.rebuild.as_secs_f64() <= 10.0)
    ));
    out.push_str(&format!("report (replay, build, write): {:.2} s\n", f.report.as_secs_f64()));
    match peak_mib {
        Some(m) => out.push_str(&format!(
            "peak resident memory (VmHWM): {m:.0} MiB (goal <= 1024 MiB: {})\n",
            ok(m <= 1024.0)
        )),
        None => out.push_str("peak resident memory: not known (no /proc/self/status)\n"),
    }
    out
}

/// The `q` quantile (nearest rank) of `values`; 0 when empty.
fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n => v[((q * n as f64).ceil() as usize).clamp(1, n) - 1],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let v = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(&v, 0.5), 2.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }
}
