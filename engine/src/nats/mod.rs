//! `bridges serve`: one LA's engine as a NATS service, its subjects under
//! `<prefix>.<la>.` (DESIGN.md section 2). It holds the data folder, and
//! - relays the log to JetStream (`relay`): every event on
//!   `<la>.events.<stream>`, every recorded proposal on
//!   `<la>.assignments.<practitioner>`;
//! - answers `<la>.cmd` (a `CommandEnvelope`, replied with its
//!   `CommandResult` through `Engine::handle`; bad input gets a rejection
//!   naming the field and writes nothing), `<la>.query.problem` (the
//!   planning snapshot) and `<la>.runs.start` (a matching run now), as
//!   endpoints of a NATS service (so `$SRV.PING`, `$SRV.INFO` and
//!   `$SRV.STATS` answer for it);
//! - publishes run requests and records the plans workers send back (`runs`);
//! - starts the scheduled runs, catching up a missed one at start (`schedule`).
//!
//! On SIGTERM it stops taking requests, lets the relays drain what they
//! have in flight, and closes the engine (with a checkpoint).
//!
//! The streams it uses, created when missing: `<P>_<la>_EVENTS`,
//! `<P>_<la>_ASSIGNMENTS`, `<P>_<la>_PLANS`, the shared `<P>_RUNS` work
//! queue and the bucket `<P>_<la>_DOCUMENTS` (`P` the prefix in capitals).

pub mod relay;
pub mod runs;
pub mod schedule;

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use async_nats::service::ServiceExt;
use bridges_schemas::Problem;
use bridges_schemas::commands::{CommandResult, Rejection, RejectionCode};
use bridges_schemas::messages::{ProblemSnapshot, QueryProblem, ServiceError, StartRun};
use bridges_schemas::vocab::RunTrigger;
use bridges_worker::common::sha256_hex;
use bridges_worker::nats::names;
use chrono::Utc;
use futures::StreamExt;
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::handle::Engine;

/// The largest command body `<la>.cmd` reads (a command is a few KiB; the
/// log refuses payloads over 6 KiB anyway).
pub const MAX_COMMAND_BYTES: usize = 64 * 1024;

/// How the service runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub nats_url: String,
    pub prefix: String,
    pub la: u16,
    /// Duplicate window of the streams it creates.
    pub duplicate_window: Duration,
    /// Replicas of the streams and the bucket it creates (3 on a
    /// three-node cluster).
    pub replicas: usize,
    /// Relay publishes in flight at most.
    pub in_flight: usize,
    /// Ack wait of the plans consumer.
    pub ack_wait: Duration,
    pub runs: runs::RunSettings,
    /// The runs it starts by itself; `None`: on demand only.
    pub schedule: Option<schedule::Scheduled>,
    /// What it connects with (the configuration's `[nats]`).
    pub credentials: bridges_worker::credentials::Credentials,
    /// The configuration the command lines it runs for the CLI read
    /// (`<la>.cli`).
    pub config: Arc<crate::config::Config>,
    /// The broker's desk on the same engine (`bridges serve --web`).
    pub web: Option<crate::web::WebStart>,
}

/// Why the service stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("NATS: {0}")]
    Nats(String),
    #[error(transparent)]
    Relay(#[from] relay::RelayError),
    /// The server refused the credentials, or they cannot be used: the
    /// worker's connection error as it is (naming who, never a secret).
    #[error(transparent)]
    Connect(bridges_worker::nats::ServeError),
}

fn nats<E: std::fmt::Display>(context: &'static str) -> impl Fn(E) -> ServeError {
    move |e| ServeError::Nats(format!("{context}: {e}"))
}

/// `<prefix>.<la>`, the start of every subject of this LA.
pub fn base(prefix: &str, la: u16) -> String {
    format!("{prefix}.{la}")
}

pub fn events_stream(prefix: &str, la: u16) -> String {
    format!("{}_{la}_EVENTS", names::token(prefix))
}

pub fn assignments_stream(prefix: &str, la: u16) -> String {
    format!("{}_{la}_ASSIGNMENTS", names::token(prefix))
}

/// Creates the LA's streams and bucket (and the shared runs stream) when missing.
pub async fn ensure_streams(
    js: &jetstream::Context,
    prefix: &str,
    la: u16,
    duplicate_window: Duration,
    replicas: usize,
) -> Result<(), ServeError> {
    let b = base(prefix, la);
    for (name, subject) in [
        (events_stream(prefix, la), format!("{b}.events.>")),
        (assignments_stream(prefix, la), format!("{b}.assignments.>")),
        (names::plans_stream(prefix, la), format!("{b}.plans.*")),
    ] {
        js.get_or_create_stream(stream::Config {
            name,
            subjects: vec![subject],
            storage: stream::StorageType::File,
            duplicate_window,
            num_replicas: replicas,
            ..Default::default()
        })
        .await
        .map_err(nats("creating a stream"))?;
    }
    bridges_worker::nats::runs_stream(js, prefix, duplicate_window, replicas)
        .await
        .map_err(|e| ServeError::Nats(e.to_string()))?;
    bridges_worker::nats::documents_store(js, &names::documents_bucket(prefix, la), replicas)
        .await
        .map_err(|e| ServeError::Nats(e.to_string()))?;
    Ok(())
}

/// Serves until `shutdown` turns true, then drains and returns the engine
/// for the caller to close.
pub async fn serve(
    engine: Engine,
    options: ServeOptions,
    shutdown_outside: watch::Receiver<bool>,
) -> Result<Engine, ServeError> {
    let name = format!("bridges-engine-{}", options.la);
    let (client, mut refusal) =
        bridges_worker::nats::connect(&options.nats_url, &name, &options.credentials)
            .await
            .map_err(ServeError::Connect)?;
    // A refusal after the start (revoked credentials) stops the service
    // as SIGTERM would, and ends it with the refusal.
    let (stop_all, shutdown) = watch::channel(false);
    let refused = {
        let mut outside = shutdown_outside;
        tokio::spawn(async move {
            let refused = tokio::select! {
                _ = outside.wait_for(|s| *s) => None,
                e = refusal.refused() => Some(e),
            };
            if let Some(e) = &refused {
                error!(error = %e, "stopping");
            }
            let _ = stop_all.send(true);
            refused
        })
    };
    let js = jetstream::new(client.clone());
    ensure_streams(&js, &options.prefix, options.la, options.duplicate_window, options.replicas)
        .await?;
    let engine = Arc::new(engine);
    let b = base(&options.prefix, options.la);
    let web =
        options.web.clone().map(|start| tokio::spawn(start.run(engine.clone(), shutdown.clone())));

    let events = tokio::spawn(relay::run(
        engine.log().clone(),
        js.clone(),
        relay::RelayOptions {
            stream: events_stream(&options.prefix, options.la),
            in_flight: options.in_flight,
        },
        {
            let b = b.clone();
            move || relay::EventsOutbox { base: b.clone() }
        },
        shutdown.clone(),
    ));
    let assignments = tokio::spawn(relay::run(
        engine.log().clone(),
        js.clone(),
        relay::RelayOptions {
            stream: assignments_stream(&options.prefix, options.la),
            in_flight: options.in_flight,
        },
        {
            let b = b.clone();
            move || relay::AssignmentsOutbox::new(b.clone())
        },
        shutdown.clone(),
    ));
    let plans = {
        let engine = engine.clone();
        let js = js.clone();
        let settings = options.runs.clone();
        let shutdown = shutdown.clone();
        let ack_wait = options.ack_wait;
        tokio::spawn(async move {
            runs::record_plans(&engine, js, settings, ack_wait, shutdown).await;
        })
    };

    let service = client
        .service_builder()
        .description(format!("Bridges engine of LA {}", options.la))
        .start(format!("bridges-engine-{}", options.la), env!("CARGO_PKG_VERSION"))
        .await
        .map_err(nats("starting the service"))?;
    let endpoint = |name: &'static str, subject: String| {
        let service = &service;
        async move {
            service.endpoint_builder().name(name).add(subject).await.map_err(nats("an endpoint"))
        }
    };
    let cmd = endpoint("cmd", format!("{b}.cmd")).await?;
    let query = endpoint("query-problem", format!("{b}.query.problem")).await?;
    let start = endpoint("runs-start", format!("{b}.runs.start")).await?;
    let cli = endpoint("cli", format!("{b}.cli")).await?;
    let export = endpoint("query-export", format!("{b}.query.export")).await?;
    let max_payload = client.server_info().max_payload;
    // The endpoints' subscriptions reach the server before "serving" is said.
    client.flush().await.map_err(nats("flushing the subscriptions"))?;
    info!(la = options.la, subjects = %format!("{b}.>"), "engine serving");
    let scheduler = options.schedule.clone().map(|s| {
        let run = schedule::run(
            engine.clone(),
            js.clone(),
            options.runs.clone(),
            max_payload,
            s,
            shutdown.clone(),
        );
        tokio::spawn(run)
    });

    let commands = {
        let engine = engine.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let mut cmd = cmd;
            loop {
                let request = tokio::select! {
                    r = cmd.next() => r,
                    _ = shutdown.changed() => break,
                };
                let Some(request) = request else { break };
                let reply = command_reply(&engine, &request.message.payload).await;
                respond(&request, reply).await;
            }
        })
    };
    // The CLI's command lines and exports, apart from the commands and
    // queries: a `match` it runs solves for up to the time limit.
    let cli = {
        let engine = engine.clone();
        let js = js.clone();
        let config = options.config.clone();
        let bucket = names::documents_bucket(&options.prefix, options.la);
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let (mut cli, mut export) = (cli, export);
            loop {
                tokio::select! {
                    r = cli.next() => {
                        let Some(request) = r else { break };
                        let reply = crate::cli::remote::answer_cli(engine.clone(), &config, &request.message.payload).await;
                        respond(&request, serde_json::to_vec(&reply).map_err(|e| e.to_string())).await;
                    }
                    r = export.next() => {
                        let Some(request) = r else { break };
                        let subject = request.message.subject.to_string();
                        let reply = crate::cli::remote::answer_export(&engine, &js, &bucket, max_payload, &subject, &request.message.payload).await;
                        respond(&request, reply).await;
                    }
                    _ = shutdown.changed() => break,
                }
            }
        })
    };
    let queries = {
        let engine = engine.clone();
        let js = js.clone();
        let settings = options.runs.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let (mut query, mut start) = (query, start);
            loop {
                tokio::select! {
                    r = query.next() => {
                        let Some(request) = r else { break };
                        let subject = request.message.subject.to_string();
                        let reply = problem_reply(&engine, &js, &settings, max_payload, &subject, &request.message.payload).await;
                        respond(&request, reply).await;
                    }
                    r = start.next() => {
                        let Some(request) = r else { break };
                        let subject = request.message.subject.to_string();
                        let reply = start_reply(&engine, &js, &settings, max_payload, &subject, &request.message.payload).await;
                        respond(&request, reply).await;
                    }
                    _ = shutdown.changed() => break,
                }
            }
        })
    };

    let mut stop = shutdown.clone();
    let _ = stop.wait_for(|s| *s).await;
    info!("engine shutting down: draining");
    let _ = commands.await;
    let _ = queries.await;
    let _ = cli.await;
    if let Some(scheduler) = scheduler {
        let _ = scheduler.await;
    }
    drop(service);
    let _ = plans.await;
    let relayed = [events.await, assignments.await];
    if let Ok(Some(e)) = refused.await {
        // Nothing more reaches NATS: the log is closed (checkpointed) here,
        // and the relays resume from it at the next start.
        if let Ok(engine) = Arc::try_unwrap(engine)
            && let Err(close) = engine.close().await
        {
            error!(error = %close, "closing the engine");
        }
        return Err(ServeError::Connect(e));
    }
    if let Some(web) = web {
        match web.await {
            Ok(Err(e)) => error!(error = %e, "the web page failed"),
            Err(e) => error!(error = %e, "the web page's task failed"),
            Ok(Ok(())) => {}
        }
    }
    client.flush().await.map_err(nats("flushing"))?;
    for r in relayed {
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e.into()),
            Err(e) => error!(error = %e, "a relay task failed"),
        }
    }
    let engine = crate::handle::unshare(engine, Duration::from_secs(10))
        .await
        .map_err(|_| ServeError::Nats("the engine is still shared at shutdown".into()))?;
    info!("engine stopped");
    Ok(engine)
}

async fn respond(request: &async_nats::service::Request, reply: Result<Vec<u8>, String>) {
    let sent = match reply {
        Ok(body) => request.respond(Ok(body.into())).await,
        Err(e) => {
            let error = async_nats::service::error::Error { status: e, code: 500 };
            request.respond(Err(error)).await
        }
    };
    if let Err(e) = sent {
        warn!(error = %e, "replying");
    }
}

/// A command's reply: its `CommandResult` (a rejection for anything that
/// is not a valid command: nothing is written then). An error of the
/// engine itself (the disk) is a service error.
pub async fn command_reply(engine: &Engine, body: &[u8]) -> Result<Vec<u8>, String> {
    let result = match read_command(body) {
        Err((id, rejection)) => CommandResult::rejected(id, rejection),
        Ok(envelope) => match engine.handle(&envelope).await {
            Ok(outcome) => crate::cli::submit::result_of(&envelope.id, &outcome),
            Err(e) => {
                error!(command = %envelope.id, error = %e, "handling a command");
                return Err(e.to_string());
            }
        },
    };
    serde_json::to_vec(&result).map_err(|e| e.to_string())
}

/// Reads a command body: at most `MAX_COMMAND_BYTES`, UTF-8, a command
/// envelope (strictly, naming the JSON path of a bad field), with an id
/// that can stand in a subject.
pub fn read_command(
    body: &[u8],
) -> Result<bridges_schemas::commands::CommandEnvelope, (Option<String>, Rejection)> {
    if body.len() > MAX_COMMAND_BYTES {
        return Err((
            None,
            Rejection::new(
                RejectionCode::Invalid,
                "(message)",
                format!("{} bytes", body.len()),
                format!("a command is at most {MAX_COMMAND_BYTES} bytes"),
            ),
        ));
    }
    let text = std::str::from_utf8(body).map_err(|e| {
        (
            None,
            Rejection::new(
                RejectionCode::Invalid,
                "(message)",
                "(bytes)",
                format!("not UTF-8: {e}"),
            ),
        )
    })?;
    let envelope = crate::cli::submit::read_envelope(text)?;
    if !bridges_schemas::vocab::is_subject_token(&envelope.id) {
        return Err((
            None,
            Rejection::new(
                RejectionCode::Invalid,
                "id",
                &envelope.id,
                "1 to 64 ASCII letters, digits, - or _",
            ),
        ));
    }
    Ok(envelope)
}

fn service_error(subject: &str, field: &str, value: &str, reason: String) -> Vec<u8> {
    let e = ServiceError {
        subject: subject.to_owned(),
        field: field.to_owned(),
        value: value.to_owned(),
        reason,
    };
    serde_json::to_vec(&e).unwrap_or_default()
}

async fn problem_reply(
    engine: &Engine,
    js: &jetstream::Context,
    settings: &runs::RunSettings,
    max_payload: usize,
    subject: &str,
    body: &[u8],
) -> Result<Vec<u8>, String> {
    let query: QueryProblem = if body.is_empty() {
        QueryProblem { at: None }
    } else {
        match serde_json::from_slice(body) {
            Ok(q) => q,
            Err(e) => {
                return Ok(service_error(
                    subject,
                    "(message)",
                    "(body)",
                    format!("not a query: {e}"),
                ));
            }
        }
    };
    let at = query.at.unwrap_or_else(Utc::now);
    let (position, snapshot) = engine
        .read_at_position(|s| crate::planning::snapshot(s, engine.rules(), at))
        .await
        .map_err(|e| e.to_string())?;
    let problem = Problem::Brokerage(snapshot.problem);
    let document = serde_json::to_vec(&problem).map_err(|e| e.to_string())?;
    let sha = sha256_hex(&document);
    let name = format!("snapshots/{}-{}.json", position.0, &sha[..12]);
    let problem = runs::problem_document(js, settings, &name, &problem, &document, max_payload)
        .await
        .map_err(|e| e.to_string())?;
    let reply = ProblemSnapshot { as_of_position: position.0, problem_sha256: sha, problem };
    serde_json::to_vec(&reply).map_err(|e| e.to_string())
}

async fn start_reply(
    engine: &Engine,
    js: &jetstream::Context,
    settings: &runs::RunSettings,
    max_payload: usize,
    subject: &str,
    body: &[u8],
) -> Result<Vec<u8>, String> {
    let request: StartRun = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            return Ok(service_error(
                subject,
                "(message)",
                "(body)",
                format!("not a run start: {e}"),
            ));
        }
    };
    if let Some(run) = &request.run
        && let Err(r) = crate::domain::check_id("run", run.as_str(), crate::domain::run::MAX_RUN_ID)
    {
        return Ok(service_error(subject, &r.field, &r.value, r.reason));
    }
    let at = request.at.unwrap_or_else(Utc::now);
    match runs::start(engine, js, max_payload, settings, &request, RunTrigger::OnDemand, at).await {
        Ok(started) => serde_json::to_vec(&started).map_err(|e| e.to_string()),
        Err(e) => {
            warn!(error = %e, "starting a run");
            Err(e.to_string())
        }
    }
}
