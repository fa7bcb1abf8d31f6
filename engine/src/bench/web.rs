//! `bridges bench web`: the broker's desk on a large partnership (2,000
//! schools, 500 practitioners, 5,000 requests by default, built through
//! the imports as `bench engine` builds it, then one matching run so that
//! proposals await answers). Every page goes through the whole router
//! (routing, the session's extractor, the middleware, the projection read,
//! the template, the body), in process: no TCP, so the figures are the
//! server's own work.
//!
//! - Render time p50 and p99 of the dashboard, a request's page (its
//!   history and the ranked practitioners: a recommendation cut for it),
//!   the requests list and the matching run's result (goal: p99 at
//!   most 50 ms), against the dashboard's view struct alone (the projection
//!   read, no HTML) in the same run.
//! - Pages per second the dashboard sustains with 32 concurrent clients,
//!   against its view alone with as many.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::body::Body;
use axum::http::Request;
use bridges_schemas::accounts::Role;
use bridges_schemas::vocab::{RunTrigger, UserId};
use bridges_worker::common::SolveOptions;
use chrono::{DateTime, Utc};
use tower::ServiceExt as _;

use super::engine::{EngineBenchOptions, build, open_engine};
use crate::demo;
use crate::domain::Rules;
use crate::domain::state::RequestStatus;
use crate::imports::ImportOptions;
use crate::matching::{self, MatchRequest};
use crate::web::{self, AppState, WebOptions, accounts::AccountStore};

/// Options of `bridges bench web`.
#[derive(Debug, Clone, clap::Args)]
pub struct WebBenchOptions {
    #[arg(long, default_value_t = 2_000)]
    pub schools: usize,
    #[arg(long, default_value_t = 500)]
    pub practitioners: usize,
    #[arg(long, default_value_t = 5_000)]
    pub requests: usize,
    /// Renders timed per page.
    #[arg(long, default_value_t = 200)]
    pub samples: usize,
    /// Concurrent clients of the throughput phase.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Seconds of each throughput phase.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
}

/// Runs the benchmark in a fresh folder under `data` and prints its table.
pub async fn run_web_bench(
    data: &std::path::Path,
    rules: &Rules,
    options: SolveOptions,
    at: DateTime<Utc>,
    o: &WebBenchOptions,
) -> anyhow::Result<()> {
    let root = data.join("bench-web");
    if root.exists() {
        std::fs::remove_dir_all(&root).with_context(|| format!("clearing {}", root.display()))?;
    }
    std::fs::create_dir_all(&root)?;
    println!(
        "bridges bench web: {} schools, {} practitioners, {} requests at {at} in {}",
        o.schools,
        o.practitioners,
        o.requests,
        root.display()
    );
    let engine = open_engine(&root, "partnership", rules).await?;
    let import = ImportOptions { at, actor: UserId("bench".to_owned()) };
    let gias = demo::borough(demo::seed_of(rules.la_code), o.schools, rules.la_code);
    let sizes = EngineBenchOptions {
        schools: o.schools,
        practitioners: o.practitioners,
        requests: o.requests,
        submitters: 1,
        recommend_samples: 0,
        time_limit: None,
        keep: false,
        no_throughput: true,
    };
    let started = Instant::now();
    let (events, _) = build(&engine, rules, &import, gias.as_bytes(), &sizes).await?;
    let request = MatchRequest {
        run: None,
        label: "bench-web".to_owned(),
        at,
        actor: import.actor.clone(),
        trigger: RunTrigger::OnDemand,
        options,
    };
    let run =
        matching::run(&engine, &request).await?.map(|o| o.run.to_string()).unwrap_or_default();
    let (open, proposed) = engine
        .read(|s| {
            let open: Vec<String> = s
                .requests
                .values()
                .filter(|r| r.status == RequestStatus::Open)
                .map(|r| r.id.to_string())
                .collect();
            let proposed = s.assignments.len();
            (open, proposed)
        })
        .await?;
    println!(
        "built: {events} events through the imports, then a run ({proposed} assignments), in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let accounts = AccountStore::beside(&root.join("partnership"));
    let options = WebOptions {
        listen: "127.0.0.1:0".parse().expect("an address"),
        secure_cookies: false,
        la: rules.la_code,
        clock: crate::nats::schedule::Clock::starting_at(at),
        solve: bridges_worker::common::SolveOptions::default(),
        mail: None,
    };
    let engine = Arc::new(engine);
    let state = AppState::new(engine.clone(), accounts, options);
    state.accounts.add("bench-broker", Role::Broker, "a long bench pass phrase", at)?;
    let token = state.sessions.start(UserId("bench-broker".to_owned()), Role::Broker);
    let router = web::router(state);
    let cookie = format!("{}={token}", web::auth::SESSION_COOKIE);

    // A request's page: the middle of the open requests by id.
    let middle = open.get(open.len() / 2).cloned().unwrap_or_default();
    let pages = [
        ("dashboard", "/".to_owned()),
        ("a request's page", format!("/requests/{middle}")),
        ("requests list (open)", "/requests".to_owned()),
        ("the matching result", format!("/runs/{run}")),
    ];
    println!("\n{:<24} {:>9} {:>9} {:>9} {:>11}", "page", "p50 ms", "p99 ms", "max ms", "KiB");
    // The baseline: the dashboard's view struct alone (the projection
    // read, no HTML, no router), in the same run.
    let now = at;
    let mut times = Vec::with_capacity(o.samples);
    for _ in 0..o.samples {
        let t = Instant::now();
        engine.read(|s| web::pages::dashboard_of(s, rules, now)).await?;
        times.push(t.elapsed());
    }
    times.sort();
    let view_p50 = times[times.len() / 2].as_secs_f64() * 1e3;
    let view_p99 = times[((times.len() as f64 - 1.0) * 0.99).round() as usize].as_secs_f64() * 1e3;
    println!("{:<24} {view_p50:>9.2} {view_p99:>9.2}", "dashboard view (baseline)");
    let mut dashboard_p99 = 0.0;
    for (name, path) in &pages {
        let (mut times, bytes) =
            (Vec::with_capacity(o.samples), render(&router, path, &cookie).await?);
        for _ in 0..o.samples.min(5) {
            render(&router, path, &cookie).await?;
        }
        for _ in 0..o.samples {
            let t = Instant::now();
            render(&router, path, &cookie).await?;
            times.push(t.elapsed());
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let p = |q: f64| ms(times[((times.len() as f64 - 1.0) * q).round() as usize]);
        if *name == "dashboard" {
            dashboard_p99 = p(0.99);
        }
        println!(
            "{name:<24} {:>9.2} {:>9.2} {:>9.2} {:>11.1}",
            p(0.5),
            p(0.99),
            ms(times[times.len() - 1]),
            bytes as f64 / 1024.0
        );
    }
    println!("goal: p99 at most 50 ms; the dashboard's is {dashboard_p99:.2} ms");

    let view = view_throughput(&engine, rules, at, o).await?;
    let dashboard = throughput(&router, "/", &cookie, o).await?;
    println!(
        "\n{} concurrent clients for {:.0} s each: the dashboard {dashboard:.0} pages/s; its view alone {view:.0}/s (ratio {:.2})",
        o.clients,
        o.seconds,
        dashboard / view
    );
    drop(router);
    if let Ok(engine) = Arc::try_unwrap(engine) {
        engine.close().await?;
    }
    Ok(())
}

/// One GET of `path` through the router with the session; gives the body's size.
async fn render(router: &axum::Router, path: &str, cookie: &str) -> anyhow::Result<usize> {
    let request = Request::get(path).header("cookie", cookie).body(Body::empty())?;
    let response = router.clone().oneshot(request).await?;
    anyhow::ensure!(response.status().is_success(), "{path}: {}", response.status());
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
    Ok(body.len())
}

/// Dashboard views (the projection read alone) per second by `o.clients` tasks.
async fn view_throughput(
    engine: &Arc<crate::handle::Engine>,
    rules: &Rules,
    at: DateTime<Utc>,
    o: &WebBenchOptions,
) -> anyhow::Result<f64> {
    let (engine, rules) = (engine.clone(), Arc::new(rules.clone()));
    per_second(o, move || {
        let (engine, rules) = (engine.clone(), rules.clone());
        async move {
            engine.read(|s| web::pages::dashboard_of(s, &rules, at)).await?;
            Ok(())
        }
    })
    .await
}

/// GETs of `path` completed per second by `o.clients` tasks at once.
async fn throughput(
    router: &axum::Router,
    path: &str,
    cookie: &str,
    o: &WebBenchOptions,
) -> anyhow::Result<f64> {
    let (router, path, cookie) = (router.clone(), path.to_owned(), cookie.to_owned());
    per_second(o, move || {
        let (router, path, cookie) = (router.clone(), path.clone(), cookie.clone());
        async move { render(&router, &path, &cookie).await.map(|_| ()) }
    })
    .await
}

/// Calls of `one()` completed per second by `o.clients` tasks at once,
/// each calling it one after another for `o.seconds`.
async fn per_second<F, Fut>(o: &WebBenchOptions, one: F) -> anyhow::Result<f64>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let deadline = Instant::now() + Duration::from_secs_f64(o.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..o.clients {
        let one = one.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                one().await?;
                done += 1;
            }
            anyhow::Ok(done)
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}
