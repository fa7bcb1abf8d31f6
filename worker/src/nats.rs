//! `bridges-worker serve`: the solver as a NATS service, stateless and shared
//! by every LA. It pulls run requests one at a time from the work-queue
//! stream over `<prefix>.*.runs.requested` through one durable pull
//! consumer (`workers`, shared by every worker: each request goes to one),
//! solves the problem with the same `brokerage::solve` (or `triads::solve`)
//! the engine calls in process, publishes the plan on
//! `<prefix>.<la>.plans.<run>` (JetStream, msg id = run id, so a plan sent
//! twice is stored once) and only then acks the request. A long solve sends
//! in-progress acks; a worker that dies mid-solve leaves the request to
//! another once the ack wait has passed. On shutdown (SIGTERM) it stops
//! pulling, lets an in-flight solve finish within a grace period and
//! publishes it, or hands the request back (a nak) and publishes nothing.
//!
//! Documents larger than the server's `max_payload` travel through the LA's
//! JetStream object store bucket, referenced from the message.
//!
//! The stream, subject and bucket names both sides use are in [`names`].
//! Health and statistics: the NATS service conventions (`$SRV.PING`,
//! `$SRV.INFO`, `$SRV.STATS`) through async-nats's `service`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, AckKind, consumer::pull, stream};
use async_nats::service::ServiceExt;
use bridges_schemas::messages::{ObjectRef, PlanDocument, ProblemDocument, RunPlan, RunRequest};
use bridges_schemas::{Plan, Problem};
use futures::StreamExt;
use tokio::io::AsyncReadExt;
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::common::{SolveError, SolveOptions, sha256_hex};
use crate::credentials::Credentials;

/// The names both sides of the distributed path agree on.
pub mod names {
    /// The durable pull consumer every worker shares.
    pub const WORKERS_CONSUMER: &str = "workers";

    /// A prefix as a stream-name token (`bridges` → `BRIDGES`, `a.b` → `A_B`).
    pub fn token(prefix: &str) -> String {
        prefix.replace('.', "_").to_ascii_uppercase()
    }

    /// The work-queue stream of every LA's run requests.
    pub fn runs_stream(prefix: &str) -> String {
        format!("{}_RUNS", token(prefix))
    }

    /// What the runs stream holds: every LA's `runs.requested`.
    pub fn runs_subjects(prefix: &str) -> String {
        format!("{prefix}.*.runs.requested")
    }

    pub fn runs_subject(prefix: &str, la: u16) -> String {
        format!("{prefix}.{la}.runs.requested")
    }

    /// One LA's stream of plans.
    pub fn plans_stream(prefix: &str, la: u16) -> String {
        format!("{}_{la}_PLANS", token(prefix))
    }

    pub fn plans_subject(prefix: &str, la: u16, run: &str) -> String {
        format!("{prefix}.{la}.plans.{run}")
    }

    /// One LA's object store bucket of documents over `max_payload`.
    pub fn documents_bucket(prefix: &str, la: u16) -> String {
        format!("{}_{la}_DOCUMENTS", token(prefix))
    }

    /// The LA of a run request's subject (`<prefix>.<la>.runs.requested`).
    pub fn la_of_runs_subject(prefix: &str, subject: &str) -> Option<u16> {
        let rest = subject.strip_prefix(prefix)?.strip_prefix('.')?;
        let la = rest.strip_suffix(".runs.requested")?;
        la.parse().ok()
    }
}

/// How `serve` runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub nats_url: String,
    pub prefix: String,
    /// The service's instance name in logs and plans.
    pub name: String,
    /// How long a request may go unacked before the server gives it to
    /// another worker (in-progress acks are sent every third of it).
    pub ack_wait: Duration,
    /// How long an in-flight solve may go on after a shutdown signal.
    pub grace: Duration,
    /// Duplicate window of the runs stream (when this worker creates it).
    pub duplicate_window: Duration,
    /// Replicas of the streams and buckets it creates (3 on a three-node
    /// cluster; 1 on a single server).
    pub replicas: usize,
    pub credentials: Credentials,
}

/// Why the service could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("NATS: {0}")]
    Nats(String),
    /// The credentials cannot be used (a field named, never a secret).
    #[error("NATS credentials: {0}")]
    Credentials(crate::credentials::CredentialsError),
    /// The server refused them.
    #[error("NATS refused the credentials of {identity} ({reason})")]
    Refused { identity: String, reason: String },
}

fn nats_error(context: &str) -> impl Fn(&dyn std::fmt::Display) -> ServeError + '_ {
    move |e| ServeError::Nats(format!("{context}: {e}"))
}

/// What a request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handled {
    Published,
    Refused,
    HandedBack,
}

/// Counters for `$SRV.STATS`.
#[derive(Debug, Default)]
struct Counters {
    solved: AtomicU64,
    refused: AtomicU64,
    handed_back: AtomicU64,
}

/// Connects to NATS with a name and `credentials`, retrying the first
/// connection and then reconnecting with async-nats's backoff; connection
/// events are logged. Returns once connected; credentials the server
/// refuses end it with [`ServeError::Refused`] (naming who, never the
/// secret) instead of a retry. A refusal later (on a reconnect) shows on
/// the [`Refusal`] it returns with the client.
pub async fn connect(
    url: &str,
    name: &str,
    credentials: &Credentials,
) -> Result<(async_nats::Client, Refusal), ServeError> {
    let (options, identity) = credentials
        .apply(async_nats::ConnectOptions::new())
        .await
        .map_err(ServeError::Credentials)?;
    let (link, mut watched) = watch::channel(Link::Connecting);
    let link = Arc::new(link);
    let client = options
        .name(name)
        .retry_on_initial_connect()
        .event_callback(move |event| {
            let link = link.clone();
            async move {
                match event {
                    async_nats::Event::Connected => {
                        info!("connected to NATS");
                        link.send_replace(Link::Connected);
                    }
                    async_nats::Event::Disconnected => {
                        warn!("disconnected from NATS; reconnecting")
                    }
                    other => match refusal(&other) {
                        Some(reason) => {
                            link.send_replace(Link::Refused(reason));
                        }
                        None => warn!(event = %other, "NATS event"),
                    },
                }
            }
        })
        .connect(server_list(url))
        .await
        .map_err(|e| ServeError::Nats(format!("connecting to {url}: {e}")))?;
    let state = watched
        .wait_for(|l| *l != Link::Connecting)
        .await
        .map(|l| l.clone())
        .map_err(|_| ServeError::Nats(format!("connecting to {url}: the client stopped")))?;
    if let Link::Refused(reason) = state {
        return Err(ServeError::Refused { identity: identity.to_string(), reason });
    }
    Ok((client, Refusal { identity, link: watched }))
}

/// The state of a connection as its events tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Link {
    Connecting,
    Connected,
    Refused(String),
}

/// Why the server refused a connection's credentials, when `event` says it did.
fn refusal(event: &async_nats::Event) -> Option<String> {
    let refused = [
        async_nats::ConnectErrorKind::AuthorizationViolation.to_string(),
        async_nats::ConnectErrorKind::Authentication.to_string(),
    ];
    match event {
        async_nats::Event::ServerError(async_nats::ServerError::AuthorizationViolation) => {
            Some(refused[0].clone())
        }
        async_nats::Event::ClientError(async_nats::ClientError::Other(e))
            if refused.contains(e) =>
        {
            Some(e.clone())
        }
        _ => None,
    }
}

/// Resolves when the server refuses the connection's credentials after it
/// was made (they were revoked, or a reconnect reached a server that does
/// not know them): a service then stops instead of retrying forever.
#[derive(Debug, Clone)]
pub struct Refusal {
    identity: crate::credentials::Identity,
    link: watch::Receiver<Link>,
}

impl Refusal {
    /// Waits for a refusal; pending forever if none comes.
    pub async fn refused(&mut self) -> ServeError {
        match self.link.wait_for(|l| matches!(l, Link::Refused(_))).await.map(|l| l.clone()) {
            Ok(Link::Refused(reason)) => {
                ServeError::Refused { identity: self.identity.to_string(), reason }
            }
            _ => std::future::pending().await,
        }
    }
}

/// The servers of a URL that may list several, comma-separated (the nodes
/// of a cluster: the client tries them in turn and learns the rest from
/// the server it reaches).
pub fn server_list(url: &str) -> Vec<&str> {
    url.split(',').map(str::trim).filter(|u| !u.is_empty()).collect()
}

/// The runs work-queue stream, created when missing (the engine creates the
/// same one).
pub async fn runs_stream(
    js: &jetstream::Context,
    prefix: &str,
    duplicate_window: Duration,
    replicas: usize,
) -> Result<stream::Stream, ServeError> {
    js.get_or_create_stream(stream::Config {
        name: names::runs_stream(prefix),
        subjects: vec![names::runs_subjects(prefix)],
        retention: stream::RetentionPolicy::WorkQueue,
        storage: stream::StorageType::File,
        duplicate_window,
        num_replicas: replicas,
        ..Default::default()
    })
    .await
    .map_err(|e| nats_error("the runs stream")(&e))
}

/// An LA's documents bucket, created when missing (with `replicas`; an
/// existing bucket is used as it is).
pub async fn documents_store(
    js: &jetstream::Context,
    bucket: &str,
    replicas: usize,
) -> Result<jetstream::object_store::ObjectStore, ServeError> {
    match js.get_object_store(bucket).await {
        Ok(store) => Ok(store),
        Err(_) => js
            .create_object_store(jetstream::object_store::Config {
                bucket: bucket.to_owned(),
                num_replicas: replicas,
                ..Default::default()
            })
            .await
            .map_err(|e| nats_error("the documents bucket")(&e)),
    }
}

/// Reads an object and checks its size and hash against the reference.
pub async fn read_object(js: &jetstream::Context, r: &ObjectRef) -> Result<Vec<u8>, String> {
    let store = js.get_object_store(&r.bucket).await.map_err(|e| format!("{}: {e}", r.bucket))?;
    let mut object =
        store.get(&r.name).await.map_err(|e| format!("{}/{}: {e}", r.bucket, r.name))?;
    let mut bytes = Vec::with_capacity(r.bytes as usize);
    object.read_to_end(&mut bytes).await.map_err(|e| format!("{}/{}: {e}", r.bucket, r.name))?;
    let sha = sha256_hex(&bytes);
    if bytes.len() as u64 != r.bytes || sha != r.sha256 {
        return Err(format!(
            "{}/{}: got {} bytes with SHA-256 {sha}, the reference says {} bytes and {}",
            r.bucket,
            r.name,
            bytes.len(),
            r.bytes,
            r.sha256
        ));
    }
    Ok(bytes)
}

/// Writes `bytes` as object `name` of `bucket` in chunks that fit the
/// server's `max_payload`, and returns its reference.
pub async fn write_object(
    js: &jetstream::Context,
    bucket: &str,
    name: &str,
    bytes: &[u8],
    max_payload: usize,
) -> Result<ObjectRef, ServeError> {
    let store = match js.get_object_store(bucket).await {
        Ok(store) => store,
        Err(_) => documents_store(js, bucket, 1).await?,
    };
    let mut reader = bytes;
    let mut meta = jetstream::object_store::ObjectMetadata::from(name);
    meta.chunk_size = Some(max_payload.saturating_sub(PAYLOAD_MARGIN).clamp(1_024, 128 * 1_024));
    store.put(meta, &mut reader).await.map_err(|e| nats_error("writing a document")(&e))?;
    Ok(ObjectRef {
        bucket: bucket.to_owned(),
        name: name.to_owned(),
        bytes: bytes.len() as u64,
        sha256: sha256_hex(bytes),
    })
}

/// Bytes kept free under `max_payload` for a message's headers and the
/// rest of its envelope.
pub const PAYLOAD_MARGIN: usize = 4_096;

/// Serves until `shutdown` turns true; returns once the in-flight request
/// (if any) is published or handed back.
pub async fn serve(
    options: ServeOptions,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ServeError> {
    let (client, mut refusal) =
        connect(&options.nats_url, &options.name, &options.credentials).await?;
    let js = jetstream::new(client.clone());
    let stream =
        runs_stream(&js, &options.prefix, options.duplicate_window, options.replicas).await?;
    let consumer: jetstream::consumer::PullConsumer = stream
        .get_or_create_consumer(
            names::WORKERS_CONSUMER,
            pull::Config {
                durable_name: Some(names::WORKERS_CONSUMER.to_owned()),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: options.ack_wait,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| nats_error("the workers consumer")(&e))?;
    let counters = Arc::new(Counters::default());
    let stats = counters.clone();
    let service = client
        .service_builder()
        .description("Bridges solver: pulls run requests, publishes plans")
        .stats_handler(move |_, _| {
            serde_json::json!({
                "solved": stats.solved.load(Ordering::Relaxed),
                "refused": stats.refused.load(Ordering::Relaxed),
                "handed_back": stats.handed_back.load(Ordering::Relaxed),
            })
        })
        .start("bridges-worker", env!("CARGO_PKG_VERSION"))
        .await
        .map_err(|e| nats_error("starting the service")(&e))?;
    // One endpoint, so that STATS carries the counters above.
    let mut status = service
        .endpoint_builder()
        .name("status")
        .add(format!("{}.workers.status", options.prefix))
        .await
        .map_err(|e| nats_error("the status endpoint")(&e))?;
    let status_counters = counters.clone();
    let status_task = tokio::spawn(async move {
        while let Some(request) = status.next().await {
            let body = serde_json::json!({
                "solved": status_counters.solved.load(Ordering::Relaxed),
                "refused": status_counters.refused.load(Ordering::Relaxed),
                "handed_back": status_counters.handed_back.load(Ordering::Relaxed),
            });
            let _ = request.respond(Ok(body.to_string().into())).await;
        }
    });
    client.flush().await.map_err(|e| nats_error("flushing the subscriptions")(&e))?;
    info!(name = %options.name, stream = %names::runs_stream(&options.prefix), "worker serving");
    while !*shutdown.borrow() {
        let batch = consumer.fetch().max_messages(1).expires(Duration::from_secs(5)).messages();
        let mut batch = match batch.await {
            Ok(b) => b,
            Err(e) => {
                warn!(error = %e, "pulling run requests; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    e = refusal.refused() => {
                        status_task.abort();
                        return Err(e);
                    }
                }
                continue;
            }
        };
        let next = tokio::select! {
            next = batch.next() => next,
            _ = shutdown.changed() => break,
            e = refusal.refused() => {
                status_task.abort();
                return Err(e);
            }
        };
        let message = match next {
            None => continue,
            Some(Err(e)) => {
                warn!(error = %e, "pulling run requests; retrying");
                continue;
            }
            Some(Ok(m)) => m,
        };
        let handled = handle(&js, &client, &options, message, &mut shutdown).await;
        let counter = match handled {
            Handled::Published => &counters.solved,
            Handled::Refused => &counters.refused,
            Handled::HandedBack => &counters.handed_back,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
    status_task.abort();
    drop(service);
    client.flush().await.map_err(|e| nats_error("flushing")(&e))?;
    info!(name = %options.name, "worker stopped");
    Ok(())
}

/// One run request: read, solve (with progress acks), publish, ack.
async fn handle(
    js: &jetstream::Context,
    client: &async_nats::Client,
    options: &ServeOptions,
    message: jetstream::Message,
    shutdown: &mut watch::Receiver<bool>,
) -> Handled {
    let subject = message.subject.to_string();
    let request: RunRequest = match serde_json::from_slice(&message.payload) {
        Ok(r) => r,
        Err(e) => return refuse(&message, &subject, &format!("not a run request: {e}")).await,
    };
    let ticket = request.ticket.clone();
    if names::la_of_runs_subject(&options.prefix, &subject) != Some(ticket.la) {
        let why = format!("the ticket's LA {} is not the subject's", ticket.la);
        return refuse(&message, &subject, &why).await;
    }
    let problem = match &request.problem {
        ProblemDocument::Inline(p) => (**p).clone(),
        ProblemDocument::Object(r) => match read_object(js, r).await {
            Ok(bytes) => match crate::cli::parse_problem(&bytes) {
                Ok(p) => p,
                Err(e) => return refuse(&message, &subject, &e.to_string()).await,
            },
            // The store may be briefly unreachable: hand it back.
            Err(e) => {
                warn!(run = %ticket.run, error = %e, "reading the problem; handing the request back");
                let _ = message.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await;
                return Handled::HandedBack;
            }
        },
    };
    let delivered = message.info().map(|i| i.delivered).unwrap_or(0);
    info!(run = %ticket.run, la = ticket.la, delivered, "solving");
    let started = Instant::now();
    let solve_options =
        SolveOptions { time_limit: request.time_limit_seconds, mip_gap: request.mip_gap };
    let sha = ticket.problem_sha256.clone();
    let mut solving = tokio::task::spawn_blocking(move || solve(&problem, &sha, &solve_options));
    let mut progress =
        tokio::time::interval((options.ack_wait / 3).max(Duration::from_millis(200)));
    progress.tick().await;
    let mut deadline: Option<tokio::time::Instant> = None;
    let solved = loop {
        let grace = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = &mut solving => break r,
            _ = progress.tick() => {
                if let Err(e) = message.ack_with(AckKind::Progress).await {
                    warn!(run = %ticket.run, error = %e, "in-progress ack");
                }
            }
            _ = shutdown.changed(), if deadline.is_none() => {
                info!(run = %ticket.run, grace_seconds = options.grace.as_secs_f64(), "shutting down: finishing the solve in flight");
                deadline = Some(tokio::time::Instant::now() + options.grace);
            }
            _ = grace => {
                warn!(run = %ticket.run, "the solve did not finish within the grace period; handing the request back");
                let _ = message.ack_with(AckKind::Nak(None)).await;
                return Handled::HandedBack;
            }
        }
    };
    let plan = match solved {
        Ok(Ok(plan)) => plan,
        Ok(Err(SolveError::Invalid(e))) => return refuse(&message, &subject, &e.to_string()).await,
        Ok(Err(SolveError::Solver(e))) => {
            error!(run = %ticket.run, error = %e, "the solver failed; handing the request back");
            let _ = message.ack_with(AckKind::Nak(Some(Duration::from_secs(5)))).await;
            return Handled::HandedBack;
        }
        Err(e) => {
            error!(run = %ticket.run, error = %e, "the solve panicked; handing the request back");
            let _ = message.ack_with(AckKind::Nak(Some(Duration::from_secs(5)))).await;
            return Handled::HandedBack;
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    match publish_plan(js, client, options, ticket.clone(), plan).await {
        Ok(()) => {}
        Err(e) => {
            warn!(run = %ticket.run, error = %e, "publishing the plan; handing the request back");
            let _ = message.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await;
            return Handled::HandedBack;
        }
    }
    if let Err(e) = message.double_ack().await {
        // The plan is stored (msg id = run id): a second delivery publishes
        // a duplicate the stream drops.
        warn!(run = %ticket.run, error = %e, "acking the request after its plan was published");
    }
    info!(run = %ticket.run, la = ticket.la, seconds, "plan published");
    Handled::Published
}

/// Publishes the plan (through the object store when it is too large for
/// one message) and waits for the stream's acknowledgement.
async fn publish_plan(
    js: &jetstream::Context,
    client: &async_nats::Client,
    options: &ServeOptions,
    ticket: bridges_schemas::messages::RunTicket,
    plan: Plan,
) -> Result<(), ServeError> {
    let max_payload = client.server_info().max_payload;
    let limit = max_payload.saturating_sub(PAYLOAD_MARGIN);
    let subject = names::plans_subject(&options.prefix, ticket.la, ticket.run.as_str());
    let inline = RunPlan {
        ticket: ticket.clone(),
        worker: options.name.clone(),
        plan: PlanDocument::Inline(Box::new(plan.clone())),
    };
    let mut body = serde_json::to_vec(&inline).map_err(|e| nats_error("the plan")(&e))?;
    if body.len() > limit {
        let document = serde_json::to_vec(&plan).map_err(|e| nats_error("the plan")(&e))?;
        let bucket = names::documents_bucket(&options.prefix, ticket.la);
        let name = format!("plans/{}.json", ticket.run);
        let reference = write_object(js, &bucket, &name, &document, max_payload).await?;
        let referenced = RunPlan {
            ticket: ticket.clone(),
            worker: options.name.clone(),
            plan: PlanDocument::Object(reference),
        };
        body = serde_json::to_vec(&referenced).map_err(|e| nats_error("the plan")(&e))?;
    }
    let publish = jetstream::message::PublishMessage::build()
        .payload(body.into())
        .message_id(ticket.run.as_str());
    js.send_publish(subject, publish)
        .await
        .map_err(|e| nats_error("publishing the plan")(&e))?
        .await
        .map_err(|e| nats_error("the plan's acknowledgement")(&e))?;
    Ok(())
}

/// Solves a problem document of either kind.
fn solve(problem: &Problem, sha: &str, options: &SolveOptions) -> Result<Plan, SolveError> {
    match problem {
        Problem::Brokerage(p) => crate::brokerage::solve(p, sha, options).map(Plan::Brokerage),
        Problem::Triads(p) => crate::triads::solve(p, sha, options).map(Plan::Triads),
    }
}

/// A request that can never be solved: logged and terminated (not handed
/// back, so no worker tries it again).
async fn refuse(message: &jetstream::Message, subject: &str, why: &str) -> Handled {
    error!(subject, reason = why, "refused a run request");
    if let Err(e) = message.ack_with(AckKind::Term).await {
        warn!(subject, error = %e, "terminating a refused run request");
    }
    Handled::Refused
}
