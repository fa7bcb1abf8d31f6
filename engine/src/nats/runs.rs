//! Matching runs on the distributed path: the engine cuts the planning
//! snapshot and publishes a run request on `<la>.runs.requested` (msg id =
//! `<la>-<run>`, so a request sent twice is queued once), a worker solves
//! it, and the engine consumes `<la>.plans.*` through a durable consumer and
//! records each plan through `handle` with command id `run-<run>`: a plan
//! delivered twice is recorded once, and recording keeps only what still
//! holds at the recording position (`domain::run`). The relay then
//! publishes the recorded proposals.

use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer::pull, message::PublishMessage};
use bridges_schemas::Plan;
use bridges_schemas::Problem;
use bridges_schemas::commands::{Command, CommandEnvelope, RecordRun};
use bridges_schemas::messages::{
    PlanDocument, ProblemDocument, RunPlan, RunRequest, RunStarted, RunTicket, StartRun,
};
use bridges_schemas::vocab::{RunId, RunTrigger};
use bridges_worker::common::{SolveOptions, sha256_hex};
use bridges_worker::nats::{PAYLOAD_MARGIN, names, read_object, write_object};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::handle::{Engine, Outcome};
use crate::planning;

/// The durable consumer of an LA's plans stream.
pub const ENGINE_CONSUMER: &str = "engine";

/// What a served engine needs to publish and record runs.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub prefix: String,
    pub la: u16,
    pub options: SolveOptions,
}

/// Why a run could not be requested.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Handle(#[from] crate::handle::HandleError),
    #[error("{0}")]
    Document(String),
    #[error("NATS: {0}")]
    Nats(String),
}

/// A problem as a message part: in the message, or in the LA's bucket
/// when the message would pass `max_payload`.
pub async fn problem_document(
    js: &jetstream::Context,
    settings: &RunSettings,
    name: &str,
    problem: &Problem,
    document: &[u8],
    limit: usize,
) -> Result<ProblemDocument, RunError> {
    if document.len() + PAYLOAD_MARGIN <= limit {
        return Ok(ProblemDocument::Inline(Box::new(problem.clone())));
    }
    let bucket = names::documents_bucket(&settings.prefix, settings.la);
    let reference = write_object(js, &bucket, name, document, limit)
        .await
        .map_err(|e| RunError::Nats(e.to_string()))?;
    Ok(ProblemDocument::Object(reference))
}

/// Cuts the snapshot and publishes a run request now. A run id recorded
/// before is not requested again.
pub async fn start(
    engine: &Engine,
    js: &jetstream::Context,
    max_payload: usize,
    settings: &RunSettings,
    request: &StartRun,
    trigger: RunTrigger,
    at: DateTime<Utc>,
) -> Result<RunStarted, RunError> {
    if let Some(id) = &request.run
        && engine.read(|s| s.runs.contains_key(id)).await?
    {
        return Ok(RunStarted {
            run: Some(id.clone()),
            requested: false,
            as_of_position: None,
            error: Some("this run is recorded already".into()),
        });
    }
    engine.expire_overdue(at).await?;
    let (as_of, snapshot) =
        engine.read_at_position(|s| planning::snapshot(s, engine.rules(), at)).await?;
    let problem = Problem::Brokerage(snapshot.problem.clone());
    let document = serde_json::to_vec(&problem).map_err(|e| RunError::Document(e.to_string()))?;
    let sha = sha256_hex(&document);
    let greedy = {
        let p = snapshot.problem.clone();
        tokio::task::spawn_blocking(move || bridges_worker::brokerage::greedy(&p))
            .await
            .map_err(|e| RunError::Document(e.to_string()))?
            .map_err(|e| RunError::Document(e.to_string()))?
    };
    let run = request
        .run
        .clone()
        .unwrap_or_else(|| RunId(format!("{}-{}", at.format("%Y-%m-%dT%H%M"), &sha[..12])));
    let ticket = RunTicket {
        la: settings.la,
        run: run.clone(),
        as_of_position: as_of.0,
        problem_sha256: sha.clone(),
        periods: snapshot.problem.periods.clone(),
        trigger,
        actor: request.actor.clone(),
        at,
        requested: snapshot.requested,
        greedy_coverage: greedy.coverage,
    };
    let name = format!("problems/{run}.json");
    let problem = problem_document(js, settings, &name, &problem, &document, max_payload).await?;
    let message = RunRequest {
        ticket,
        time_limit_seconds: settings.options.time_limit,
        mip_gap: settings.options.mip_gap,
        problem,
    };
    let body = serde_json::to_vec(&message).map_err(|e| RunError::Document(e.to_string()))?;
    let publish =
        PublishMessage::build().payload(body.into()).message_id(format!("{}-{run}", settings.la));
    let ack = js
        .send_publish(names::runs_subject(&settings.prefix, settings.la), publish)
        .await
        .map_err(|e| RunError::Nats(e.to_string()))?
        .await
        .map_err(|e| RunError::Nats(e.to_string()))?;
    info!(run = %run, as_of = as_of.0, duplicate = ack.duplicate, "run requested");
    Ok(RunStarted {
        run: Some(run),
        requested: !ack.duplicate,
        as_of_position: Some(as_of.0),
        error: None,
    })
}

/// Consumes the LA's plans until `shutdown`, recording each once.
pub async fn record_plans(
    engine: &Engine,
    js: jetstream::Context,
    settings: RunSettings,
    ack_wait: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let consumer = loop {
        let made = async {
            let stream = js
                .get_stream(names::plans_stream(&settings.prefix, settings.la))
                .await
                .map_err(|e| e.to_string())?;
            stream
                .get_or_create_consumer::<pull::Config>(
                    ENGINE_CONSUMER,
                    pull::Config {
                        durable_name: Some(ENGINE_CONSUMER.to_owned()),
                        ack_policy: jetstream::consumer::AckPolicy::Explicit,
                        ack_wait,
                        ..Default::default()
                    },
                )
                .await
                .map_err(|e| e.to_string())
        };
        match made.await {
            Ok(c) => break c,
            Err(e) => {
                warn!(error = %e, "the plans consumer; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => return,
                }
            }
        }
    };
    while !*shutdown.borrow() {
        let batch = consumer.fetch().max_messages(16).expires(Duration::from_secs(2)).messages();
        let mut batch = match batch.await {
            Ok(b) => b,
            Err(e) => {
                warn!(error = %e, "pulling plans; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        loop {
            let next = tokio::select! {
                next = batch.next() => next,
                _ = shutdown.changed() => return,
            };
            match next {
                None => break,
                Some(Err(e)) => {
                    warn!(error = %e, "pulling plans");
                    break;
                }
                Some(Ok(message)) => record_one(engine, &js, &settings, message).await,
            }
        }
    }
}

/// Records one plan message; acks it once recorded (or once it is known
/// never to record), naks it when the engine could not decide.
async fn record_one(
    engine: &Engine,
    js: &jetstream::Context,
    settings: &RunSettings,
    message: jetstream::Message,
) {
    let subject = message.subject.to_string();
    let refuse = async |why: String| {
        error!(subject, reason = why, "refused a plan message");
        let _ = message.ack_with(AckKind::Term).await;
    };
    let plan: RunPlan = match serde_json::from_slice(&message.payload) {
        Ok(p) => p,
        Err(e) => return refuse(format!("not a run plan: {e}")).await,
    };
    let t = &plan.ticket;
    let expected = names::plans_subject(&settings.prefix, settings.la, t.run.as_str());
    if t.la != settings.la || subject != expected {
        return refuse(format!("the ticket (LA {}, run {}) is not this subject's", t.la, t.run))
            .await;
    }
    let document = match &plan.plan {
        PlanDocument::Inline(p) => (**p).clone(),
        PlanDocument::Object(r) => match read_object(js, r).await {
            Ok(bytes) => match serde_json::from_slice::<Plan>(&bytes) {
                Ok(p) => p,
                Err(e) => return refuse(format!("{}: not a plan: {e}", r.name)).await,
            },
            Err(e) => {
                warn!(run = %t.run, error = %e, "reading the plan; trying again");
                let _ = message.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await;
                return;
            }
        },
    };
    let Plan::Brokerage(brokerage) = document else {
        return refuse("a matching run's plan must be a brokerage plan".into()).await;
    };
    let envelope = CommandEnvelope {
        id: format!("run-{}", t.run),
        actor: t.actor.clone(),
        at: t.at,
        command: Command::RecordRun(Box::new(RecordRun {
            run: t.run.clone(),
            as_of_position: t.as_of_position,
            problem_sha256: t.problem_sha256.clone(),
            periods: t.periods.clone(),
            trigger: t.trigger,
            plan: brokerage,
            greedy_coverage: t.greedy_coverage,
            requested: t.requested,
        })),
    };
    match engine.handle(&envelope).await {
        Ok(outcome) => {
            match &outcome {
                Outcome::Applied { first, last, .. } => {
                    info!(run = %t.run, first = first.0, last = last.0, worker = %plan.worker, "plan recorded")
                }
                Outcome::Rejected(r) => {
                    warn!(run = %t.run, rejection = %r, "plan not recorded")
                }
                _ => info!(run = %t.run, "plan recorded before"),
            }
            if let Err(e) = message.double_ack().await {
                warn!(run = %t.run, error = %e, "acking a recorded plan (it comes again and is a duplicate)");
            }
        }
        Err(e) => {
            error!(run = %t.run, error = %e, "recording a plan; trying again");
            let _ = message.ack_with(AckKind::Nak(Some(Duration::from_secs(2)))).await;
        }
    }
}
