//! The messages of the distributed path that are not events or commands: a
//! matching run's request (engine to worker, on `<la>.runs.requested`), its
//! plan (worker to engine, on `<la>.plans.<run>`), and the request a client
//! sends to start a run (`<la>.runs.start`). Events travel as
//! `EventEnvelope`s and commands as `CommandEnvelope`s (their own modules).
//!
//! A document larger than the server's `max_payload` travels through the
//! JetStream object store: the message then carries an [`ObjectRef`]
//! instead of the document.
//!
//! Types only; the services that send them live in the engine and the worker.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Period;
use crate::vocab::{RunId, RunTrigger, UserId};
use crate::{Plan, Problem};

/// What the engine asks a worker to solve, and everything it needs back to
/// record the plan (the worker returns the ticket unchanged).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    pub ticket: RunTicket,
    /// Seconds the solver may take; none for no limit.
    pub time_limit_seconds: Option<f64>,
    /// Relative MIP gap at which the search may stop; none for a proven optimum.
    pub mip_gap: Option<f64>,
    pub problem: ProblemDocument,
}

/// A worker's answer to a [`RunRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunPlan {
    pub ticket: RunTicket,
    /// The worker that solved it (its service name and instance).
    pub worker: String,
    pub plan: PlanDocument,
}

/// A run as the engine cut it: which LA, which run, the position its
/// snapshot was cut at, and the figures its record keeps beside the plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunTicket {
    /// The LA's three-digit code, as in the subject.
    pub la: u16,
    pub run: RunId,
    /// The log position the planning snapshot was cut at.
    pub as_of_position: u64,
    /// Hex SHA-256 of the problem document's bytes.
    pub problem_sha256: String,
    pub periods: Vec<Period>,
    pub trigger: RunTrigger,
    /// Who asked for the run (`system` for the schedule); its record is theirs.
    pub actor: UserId,
    /// The run's moment: the half-terms it plans and the record's time.
    #[schemars(with = "String")]
    pub at: DateTime<Utc>,
    /// Days the open requests asked for, per tier 1 to 4.
    pub requested: [u32; 4],
    /// Days the broker-by-hand baseline covered, per tier 1 to 4.
    pub greedy_coverage: [u32; 4],
}

/// A problem document, in the message or in the object store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ProblemDocument {
    Inline(Box<Problem>),
    Object(ObjectRef),
}

/// A plan document, in the message or in the object store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PlanDocument {
    Inline(Box<Plan>),
    Object(ObjectRef),
}

/// Where a large document is kept: an object of a JetStream object store
/// bucket, with its size and hash so the reader can check what it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectRef {
    pub bucket: String,
    pub name: String,
    pub bytes: u64,
    /// Hex SHA-256 of the object's bytes.
    pub sha256: String,
}

/// A client's request for a matching run now (`<la>.runs.start`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    /// The run's id; none for one named by the time and the problem's hash.
    #[serde(default)]
    pub run: Option<RunId>,
    pub actor: UserId,
    /// The run's moment (default: now), as `bridges match --at`.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub at: Option<DateTime<Utc>>,
}

/// The engine's answer to a [`StartRun`]: the run requested, or why not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunStarted {
    /// The run's id (none when it was refused).
    pub run: Option<RunId>,
    /// False when this run id is recorded or requested already.
    pub requested: bool,
    pub as_of_position: Option<u64>,
    /// Why it was not requested.
    pub error: Option<String>,
}

/// A query for the planning snapshot (`<la>.query.problem`); an empty
/// body means now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryProblem {
    /// The moment whose open half-terms it plans (default: now).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub at: Option<DateTime<Utc>>,
}

/// The answer to a [`QueryProblem`]: the problem a run would solve, and
/// the log position it was cut at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProblemSnapshot {
    pub as_of_position: u64,
    /// Hex SHA-256 of the problem document's bytes.
    pub problem_sha256: String,
    pub problem: ProblemDocument,
}

/// The error reply of a request/reply subject when the request could not
/// even be read (the body is not what the subject takes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceError {
    pub subject: String,
    pub field: String,
    pub value: String,
    pub reason: String,
}

/// A command line the engine serving a data folder runs for the CLI
/// (`<la>.cli`): `bridges` on the same machine finds the folder locked by
/// `bridges serve` and sends its arguments here; the engine runs them on
/// its own state and sends back what they printed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CliRequest {
    /// The arguments after `bridges`, as typed (`request`, `show`, `req-9`).
    pub args: Vec<String>,
    /// Who acts (the CLI's `--as`, `$BRIDGES_USER` or `cli-<login>`).
    pub actor: UserId,
    /// The command's moment (the CLI's `--at`, or its now).
    #[schemars(with = "String")]
    pub at: DateTime<Utc>,
    /// The command's idempotency key (the CLI's `--id`, or a new UUID).
    pub id: String,
}

/// What a [`CliRequest`]'s command line printed, and its exit code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CliReply {
    pub stdout: String,
    pub stderr: String,
    /// 0 done, 1 the environment failed, 2 bad input or a rejection.
    pub exit_code: u8,
}

/// A request for an online backup of the log (`<la>.query.export`): the
/// NDJSON export of `bridges log export`, cut at the head (or `through`)
/// while the engine goes on writing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// Export positions 1 to this one only (default: the head).
    #[serde(default)]
    pub through: Option<u64>,
}

/// The answer to an [`ExportRequest`]: where the export is (an object of
/// the LA's documents bucket, which the requester deletes once read), how
/// many events it holds and the hash of the last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportReply {
    pub export: ObjectRef,
    pub events: u64,
    pub through: u64,
    pub last_hash: String,
}
