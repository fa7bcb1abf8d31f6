//! `bridges bench engine`: the engine's benchmark, in one process, each
//! figure printed beside its baseline or goal:
//!
//! 1. a partnership of `--schools`, `--practitioners` and `--requests`
//!    built as an LA would: the demo's generated borough in GIAS format,
//!    its inspections, practitioners and requests CSVs (needs that fit each
//!    school's phase, days in DESIGN.md's ranges, half-terms not ended at
//!    the bench's clock, `--at` or now) and the budget, all through the
//!    imports and `Engine::handle`;
//! 2. commands handled per second through `Engine::handle` against raw
//!    `EventLog::append`s of the very events they appended (same streams,
//!    payloads, event ids and command ids, on a log holding the same
//!    schools): one at a time against one at a time, then `--submitters`
//!    concurrent submitters against as many concurrent appenders. The
//!    commands are the partnership's requests raised again (`RaiseRequest`,
//!    the broker's most common command) on a log holding only its schools,
//!    in four rounds that alternate between the two ways (the same
//!    background load for both);
//! 3. `request recommend` latency as the engine computes it (the planning
//!    snapshot, then the worker's `recommend`), p50 and p99 with the two
//!    parts' shares, over `--recommend-samples` open requests, before the
//!    run and again after it (its proposals are then pins);
//! 4. `match` on the partnership: total time and each stage's share.
//!
//! Timings vary with the machine and its load: nothing here asserts them.
//! It works in `DIR/bench-engine` (removed afterwards unless `--keep`).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bridges_schemas::RequestId;
use bridges_schemas::brokerage::Recommendation;
use bridges_schemas::commands::{Command, CommandEnvelope, RaiseRequest};
use bridges_schemas::vocab::{RunTrigger, UserId};
use bridges_worker::common::SolveOptions;
use chrono::{DateTime, Utc};

use super::verdict;
use crate::demo::{self, DemoSpec};
use crate::domain::Rules;
use crate::domain::state::RequestStatus;
use crate::handle::{Engine, Outcome};
use crate::imports::{self, ImportOptions, ImportReport};
use crate::keys::KeyStore;
use crate::log::{
    AppendOutcome, AppendRequest, EventLog, ExpectedVersion, LogConfig, MAX_EVENTS_PER_APPEND,
    NewEvent, Position, RecordedEvent, Version,
};
use crate::matching::{self, MatchRequest};
use crate::recommend::{RecommendError, recommend};

/// The acting user of the bench's commands.
const BENCH_USER: &str = "bench";

/// Rounds each throughput phase alternates between `handle` and raw appends.
const ROUNDS: usize = 4;

/// Options of `bridges bench engine`.
#[derive(Debug, Clone, clap::Args)]
pub struct EngineBenchOptions {
    /// Schools of the generated borough (a few are independent schools the
    /// GIAS import skips).
    #[arg(long, default_value_t = 2_000)]
    pub schools: usize,
    #[arg(long, default_value_t = 500)]
    pub practitioners: usize,
    #[arg(long, default_value_t = 5_000)]
    pub requests: usize,
    /// Concurrent submitters (and raw appenders) in the concurrent phase.
    #[arg(long, default_value_t = 16)]
    pub submitters: usize,
    /// Requests recommended on, spread over the open ones, before and after the run.
    #[arg(long, default_value_t = 500)]
    pub recommend_samples: usize,
    /// Seconds the run's solver may take (default: solver.time_limit_seconds).
    #[arg(long)]
    pub time_limit: Option<f64>,
    /// Keep the benchmark folder.
    #[arg(long)]
    pub keep: bool,
    /// Skip the throughput phases (to measure recommend and the run alone).
    #[arg(long)]
    pub no_throughput: bool,
}

/// What the bench measured (also what its smoke test checks, timings aside).
#[derive(Debug, Clone, PartialEq)]
pub struct EngineBenchReport {
    /// Schools, practitioners and open requests the partnership holds.
    pub schools: usize,
    pub practitioners: usize,
    pub requests: usize,
    /// Events the partnership's build appended.
    pub built_events: u64,
    /// One at a time, then concurrent.
    pub throughput: Vec<Throughput>,
    /// Before the run, then after it.
    pub recommend: Vec<Latency>,
    pub matched: Matched,
}

/// Commands through `handle` against raw appends of their events.
#[derive(Debug, Clone, PartialEq)]
pub struct Throughput {
    pub submitters: usize,
    pub commands: usize,
    /// Events the commands appended (and the raw appends wrote again).
    pub events: u64,
    pub handled: Duration,
    pub raw: Duration,
}

/// `request recommend` latency over samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Latency {
    pub samples: Vec<Duration>,
    pub snapshot: Duration,
    pub recommend: Duration,
    /// Candidates found over all samples.
    pub candidates: usize,
    /// The answers, in sample order (the cold and the cached pass must
    /// agree: the request's cut of the snapshot answers as the whole does).
    pub answers: Vec<Recommendation>,
}

/// The run on the partnership.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched {
    pub total: Duration,
    pub timings: matching::MatchTimings,
    pub proposals: usize,
    pub applied: bool,
}

/// Runs every phase, prints the figures and returns them.
pub async fn run_engine_bench(
    data: &Path,
    rules: &Rules,
    options: SolveOptions,
    at: DateTime<Utc>,
    o: &EngineBenchOptions,
) -> anyhow::Result<EngineBenchReport> {
    let today = crate::domain::calendar::london_date(at);
    let planned = rules.calendar.planning_half_terms(today);
    anyhow::ensure!(
        !planned.is_empty(),
        "--at = {at}: the calendar has no half-term left to plan then (add an academic year)"
    );
    let root = data.join("bench-engine");
    if root.exists() {
        std::fs::remove_dir_all(&root).with_context(|| format!("clearing {}", root.display()))?;
    }
    std::fs::create_dir_all(&root)?;
    let labels: Vec<&str> = planned.iter().map(|h| h.label.as_str()).collect();
    println!(
        "bridges bench engine: {} schools, {} practitioners, {} requests at {at} (half-terms {}) in {}",
        o.schools,
        o.practitioners,
        o.requests,
        labels.join(" "),
        root.display()
    );

    // 1. The partnership, through the imports.
    let engine = open_engine(&root, "partnership", rules).await?;
    let import = ImportOptions { at, actor: UserId(BENCH_USER.to_owned()) };
    let gias = demo::borough(demo::seed_of(rules.la_code), o.schools, rules.la_code);
    let started = Instant::now();
    let (built_events, reports) = build(&engine, rules, &import, gias.as_bytes(), o).await?;
    let build_time = started.elapsed();
    for r in &reports {
        println!("  {}", r.summary());
    }
    let (schools, practitioners, workload) = engine
        .read(|s| {
            let raises: Vec<RaiseRequest> = s
                .requests
                .values()
                .filter(|r| r.status == RequestStatus::Open)
                .map(|r| RaiseRequest {
                    request: r.id.clone(),
                    urn: r.urn,
                    need: r.need.clone(),
                    designations: r.designations.clone(),
                    tier: r.tier,
                    days: r.days.clone(),
                    funding: r.funding,
                    purchase_order: r.purchase_order.clone(),
                })
                .collect();
            (s.schools.len(), s.practitioners.len(), raises)
        })
        .await?;
    println!(
        "partnership built through handle: {schools} schools, {practitioners} practitioners, {} requests, {built_events} events in {:.1} s ({:.0} events/s)",
        workload.len(),
        build_time.as_secs_f64(),
        built_events as f64 / build_time.as_secs_f64()
    );

    // 2. Throughput: the requests raised again on logs holding the schools.
    let commands: Vec<CommandEnvelope> = workload
        .iter()
        .map(|r| CommandEnvelope {
            id: format!("raise-{}", r.request),
            actor: UserId(BENCH_USER.to_owned()),
            at,
            command: Command::RaiseRequest(r.clone()),
        })
        .collect();
    let throughput = match o.no_throughput {
        true => Vec::new(),
        false => throughput(&root, rules, &import, gias.as_bytes(), &commands, o).await?,
    };

    // 3. and 4. Recommend, the run, recommend again.
    let ids: Vec<RequestId> = workload.iter().map(|r| r.request.clone()).collect();
    let mut latencies = Vec::new();
    for cached in [false, true] {
        latencies.push(latency(&engine, rules, &ids, at, o.recommend_samples, cached, "").await?);
    }
    let started = Instant::now();
    let outcome = matching::run(
        &engine,
        &MatchRequest {
            run: None,
            label: "bench".to_owned(),
            at,
            actor: UserId(BENCH_USER.to_owned()),
            trigger: RunTrigger::OnDemand,
            options,
        },
    )
    .await?
    .context("a run without an id is always solved")?;
    let total = started.elapsed();
    let t = outcome.timings;
    let share = |d: Duration| 100.0 * d.as_secs_f64() / total.as_secs_f64();
    println!(
        "match: {:.2} s in all, {} proposals, {} unmet (time limit {} s); solve {:.2} s ({:.0}%), greedy baseline {:.2} s ({:.0}%), snapshot {:.3} s ({:.1}%), recording {:.2} s ({:.0}%), expiries {:.3} s",
        total.as_secs_f64(),
        outcome.plan.assignments.len(),
        outcome.plan.unmet.len(),
        options.time_limit.map_or("none".to_owned(), |l| l.to_string()),
        t.solve.as_secs_f64(),
        share(t.solve),
        t.greedy.as_secs_f64(),
        share(t.greedy),
        t.snapshot.as_secs_f64(),
        share(t.snapshot),
        t.record.as_secs_f64(),
        share(t.record),
        t.expire.as_secs_f64()
    );
    let matched = Matched {
        total,
        timings: t,
        proposals: outcome.plan.assignments.len(),
        applied: matches!(outcome.recorded, Outcome::Applied { .. }),
    };
    for cached in [false, true] {
        latencies.push(
            latency(
                &engine,
                rules,
                &ids,
                at,
                o.recommend_samples,
                cached,
                " after the run (its proposals are pins)",
            )
            .await?,
        );
    }
    engine.close().await?;
    if !o.keep {
        std::fs::remove_dir_all(&root)?;
    }
    println!("note: timings share the machine with whatever else runs on it");
    Ok(EngineBenchReport {
        schools,
        practitioners,
        requests: workload.len(),
        built_events,
        throughput,
        recommend: latencies,
        matched,
    })
}

/// An engine on a new log `root/name`, its keys beside it.
pub(super) async fn open_engine(root: &Path, name: &str, rules: &Rules) -> anyhow::Result<Engine> {
    let log = EventLog::open(LogConfig::new(root.join(name)))?;
    let keys = KeyStore::open(root.join(format!("{name}-keys")))?;
    Ok(Engine::open(log, rules.clone(), keys).await?)
}

/// Imports the borough, the demo's files and the budget; returns the events
/// appended and the import reports.
pub(super) async fn build(
    engine: &Engine,
    rules: &Rules,
    import: &ImportOptions,
    gias: &[u8],
    o: &EngineBenchOptions,
) -> anyhow::Result<(u64, Vec<ImportReport>)> {
    let head = engine.log().head();
    let mut reports = vec![imports::gias::import(engine, gias, rules.la_code, import).await?];
    let schools = imports::gias::open_schools(gias, rules.la_code)?;
    let spec = DemoSpec {
        seed: demo::seed_of(rules.la_code),
        practitioners: o.practitioners,
        requests: o.requests,
        weekly_arrivals: false,
    };
    let files = demo::generate(&schools, rules, import.at, &spec);
    reports.push(imports::inspections::import(engine, files.inspections.as_bytes(), import).await?);
    reports.push(
        imports::practitioners::import(engine, files.practitioners.as_bytes(), import).await?,
    );
    reports.push(imports::requests::import(engine, files.requests.as_bytes(), import).await?);
    for (i, command) in demo::budget(rules, import.at, schools.len()).into_iter().enumerate() {
        let envelope = CommandEnvelope {
            id: format!("bench-budget-{i}"),
            actor: import.actor.clone(),
            at: import.at,
            command,
        };
        if let Outcome::Rejected(r) = engine.handle(&envelope).await? {
            anyhow::bail!("the budget was refused: {r}");
        }
    }
    Ok((engine.log().head().0 - head.0, reports))
}

/// The throughput phases: `handle` one at a time against raw appends of
/// the same events one at a time, then concurrently both ways; each in
/// `ROUNDS` rounds that alternate between the two, so both see the same
/// background load.
async fn throughput(
    root: &Path,
    rules: &Rules,
    import: &ImportOptions,
    gias: &[u8],
    commands: &[CommandEnvelope],
    o: &EngineBenchOptions,
) -> anyhow::Result<Vec<Throughput>> {
    let rounds: Vec<&[CommandEnvelope]> =
        commands.chunks(commands.len().div_ceil(ROUNDS).max(1)).collect();
    // The schools, through the import once; the other logs get its events.
    let engine = open_engine(root, "handled-1", rules).await?;
    imports::gias::import(&engine, gias, rules.la_code, import).await?;
    let setup = engine.log().read_all(Position(1), usize::MAX)?;
    let raw_log = EventLog::open(LogConfig::new(root.join("raw-1")))?;
    copy(&raw_log, &setup).await?;
    let mut one = Throughput {
        submitters: 1,
        commands: commands.len(),
        events: 0,
        handled: Duration::ZERO,
        raw: Duration::ZERO,
    };
    let mut appends: Vec<AppendRequest> = Vec::with_capacity(commands.len());
    for round in &rounds {
        let started = Instant::now();
        let mut spans = Vec::with_capacity(round.len());
        for c in *round {
            spans.push(applied(c, engine.handle(c).await?)?);
        }
        one.handled += started.elapsed();
        let from = appends.len();
        for (c, (first, last)) in round.iter().zip(&spans) {
            let events = engine.log().read_all(*first, (last.0 - first.0 + 1) as usize)?;
            one.events += events.len() as u64;
            appends.push(same_append(&c.id, &events)?);
        }
        let started = Instant::now();
        for a in &appends[from..] {
            appended(raw_log.append(a.clone()).await?)?;
        }
        one.raw += started.elapsed();
    }
    engine.close().await?;
    raw_log.close().await?;
    print_throughput(&one);

    let n = o.submitters.max(1);
    let log = EventLog::open(LogConfig::new(root.join(format!("handled-{n}"))))?;
    copy(&log, &setup).await?;
    let keys = KeyStore::open(root.join(format!("handled-{n}-keys")))?;
    let engine = Arc::new(Engine::open(log, rules.clone(), keys).await?);
    let raw_log = EventLog::open(LogConfig::new(root.join(format!("raw-{n}"))))?;
    copy(&raw_log, &setup).await?;
    let head = engine.log().head();
    let mut many = Throughput { submitters: n, ..one.clone() };
    (many.handled, many.raw) = (Duration::ZERO, Duration::ZERO);
    let mut done = 0;
    for round in &rounds {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..n {
            let engine = engine.clone();
            let mine: Vec<CommandEnvelope> = round.iter().skip(w).step_by(n).cloned().collect();
            tasks.push(tokio::spawn(async move {
                for c in &mine {
                    applied(c, engine.handle(c).await?)?;
                }
                Ok::<(), anyhow::Error>(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        many.handled += started.elapsed();
        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..n {
            let log = raw_log.clone();
            let mine: Vec<AppendRequest> =
                appends[done..done + round.len()].iter().skip(w).step_by(n).cloned().collect();
            tasks.push(tokio::spawn(async move {
                for a in mine {
                    appended(log.append(a).await?)?;
                }
                Ok::<(), anyhow::Error>(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        many.raw += started.elapsed();
        done += round.len();
    }
    let concurrent_events = engine.log().head().0 - head.0;
    let engine = Arc::into_inner(engine).context("every submitter has finished")?;
    engine.close().await?;
    raw_log.close().await?;
    anyhow::ensure!(
        concurrent_events == one.events,
        "the concurrent submitters appended {concurrent_events} events, one at a time {}",
        one.events
    );
    print_throughput(&many);
    Ok(vec![one, many])
}

fn print_throughput(t: &Throughput) {
    let handled = t.commands as f64 / t.handled.as_secs_f64();
    let raw = t.commands as f64 / t.raw.as_secs_f64();
    let who = match t.submitters {
        1 => "one at a time".to_owned(),
        n => format!("{n} concurrent submitters against {n} concurrent appenders"),
    };
    println!(
        "handle, {who}: {handled:.0} commands/s ({} commands, {} events); raw EventLog::append of the same events: {raw:.0} appends/s",
        t.commands, t.events
    );
    println!(
        "  ratio handle/raw = {:.2} (goal >= 0.50: {})",
        handled / raw,
        verdict(handled / raw >= 0.5)
    );
}

/// The positions an applied command wrote; any other outcome stops the bench.
fn applied(c: &CommandEnvelope, outcome: Outcome) -> anyhow::Result<(Position, Position)> {
    match outcome {
        Outcome::Applied { first, last, .. } => Ok((first, last)),
        other => anyhow::bail!("command {} was not applied: {other:?}", c.id),
    }
}

fn appended(outcome: AppendOutcome) -> anyhow::Result<()> {
    match outcome {
        AppendOutcome::Appended { .. } => Ok(()),
        AppendOutcome::Conflict { expected, actual } => {
            anyhow::bail!("a raw append expected {expected:?} and found version {actual}")
        }
    }
}

/// One raw append of a command's recorded events (all of one stream), with
/// the versions and command id they were written with.
fn same_append(command_id: &str, events: &[RecordedEvent]) -> anyhow::Result<AppendRequest> {
    let first = events.first().context("an applied command wrote an event")?;
    anyhow::ensure!(
        events.iter().all(|e| e.stream == first.stream),
        "command {command_id} wrote to several streams"
    );
    Ok(AppendRequest {
        stream: first.stream.clone(),
        expected: match first.version.0 {
            1 => ExpectedVersion::NoStream,
            v => ExpectedVersion::Exact(Version(v - 1)),
        },
        events: events.iter().map(new_event).collect::<anyhow::Result<_>>()?,
        command_id: Some(command_id.to_owned()),
        recorded_at: first.recorded_at,
    })
}

fn new_event(e: &RecordedEvent) -> anyhow::Result<NewEvent> {
    Ok(NewEvent {
        event_id: e.event_id,
        type_name: e.type_name.clone(),
        type_version: e.type_version,
        payload: serde_json::from_slice(&e.payload)?,
    })
}

/// Appends `events` (a log's first events) to `log`, runs of one stream per append.
async fn copy(log: &EventLog, events: &[RecordedEvent]) -> anyhow::Result<()> {
    let mut i = 0;
    while i < events.len() {
        let stream = &events[i].stream;
        let run = events[i..]
            .iter()
            .take(MAX_EVENTS_PER_APPEND)
            .take_while(|e| &e.stream == stream)
            .count();
        let append = AppendRequest {
            stream: stream.clone(),
            expected: ExpectedVersion::Any,
            events: events[i..i + run].iter().map(new_event).collect::<anyhow::Result<_>>()?,
            command_id: None,
            recorded_at: events[i].recorded_at,
        };
        appended(log.append(append).await?)?;
        i += run;
    }
    Ok(())
}

/// `request recommend` on up to `samples` of `ids` spread over them: each
/// on its own snapshot, as the one-shot CLI computes it, or (`cached`)
/// through `Engine::recommend`, which cuts the snapshot once per log
/// position and day, as a long-running engine answers a broker; prints
/// p50, p99 and the parts' shares.
async fn latency(
    engine: &Engine,
    rules: &Rules,
    ids: &[RequestId],
    at: DateTime<Utc>,
    samples: usize,
    cached: bool,
    when: &str,
) -> anyhow::Result<Latency> {
    let how = match cached {
        false => " (each on its own snapshot, as the CLI)",
        true => " (Engine::recommend: one snapshot per log position and day)",
    };
    let step = ids.len().div_ceil(samples.max(1)).max(1);
    let mut out = Latency {
        samples: Vec::new(),
        snapshot: Duration::ZERO,
        recommend: Duration::ZERO,
        candidates: 0,
        answers: Vec::new(),
    };
    let mut refused = 0;
    for id in ids.iter().step_by(step).take(samples) {
        let started = Instant::now();
        let answer = match cached {
            false => engine.read(|s| recommend(s, rules, id, at)).await?,
            true => engine.recommend(id, at).await?,
        };
        match answer {
            Ok(r) => {
                out.samples.push(started.elapsed());
                out.snapshot += r.snapshot;
                out.recommend += r.recommend;
                out.candidates += r.recommendation.candidates.len();
                out.answers.push(r.recommendation);
            }
            Err(RecommendError::Refused(_)) => refused += 1,
            Err(e) => return Err(e.into()),
        }
    }
    let mut sorted = out.samples.clone();
    sorted.sort_unstable();
    let Some(last) = sorted.len().checked_sub(1) else {
        println!(
            "request recommend{when}{how}: no open request to recommend on ({refused} refused)"
        );
        return Ok(out);
    };
    let pct = |p: f64| sorted[(last as f64 * p).round() as usize];
    let total: Duration = sorted.iter().sum();
    let share = |d: Duration| 100.0 * d.as_secs_f64() / total.as_secs_f64();
    println!(
        "request recommend{when}{how}, {} requests: p50 {:.1} ms, p99 {:.1} ms (goal p99 <= 20 ms: {}), max {:.1} ms; snapshot {:.0}% and recommend {:.0}% of the time; {:.1} candidates a request{}",
        sorted.len(),
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        verdict(pct(0.99) <= Duration::from_millis(20)),
        sorted[last].as_secs_f64() * 1e3,
        share(out.snapshot),
        share(out.recommend),
        out.candidates as f64 / sorted.len() as f64,
        if refused > 0 {
            format!(" ({refused} refused: nothing left to plan)")
        } else {
            String::new()
        }
    );
    Ok(out)
}
