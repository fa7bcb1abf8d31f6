//! Generated JSON Schemas of the public documents, and the list of files they
//! are checked in as (`schemas/json/`). A test fails when they drift.

use schemars::schema_for;

use crate::brokerage::Recommendation;
use crate::commands::{CommandEnvelope, CommandResult};
use crate::events::EventEnvelope;
use crate::messages::{
    CliReply, CliRequest, ExportReply, ExportRequest, ProblemSnapshot, QueryProblem, RunPlan,
    RunRequest, RunStarted, ServiceError, StartRun,
};
use crate::{Plan, Problem};

/// Every checked-in schema: file name and its generated JSON text.
pub fn all() -> Vec<(&'static str, String)> {
    let pretty = |v: schemars::Schema| {
        let mut s = serde_json::to_string_pretty(&v).expect("a schema serializes");
        s.push('\n');
        s
    };
    vec![
        ("problem.schema.json", pretty(schema_for!(Problem))),
        ("plan.schema.json", pretty(schema_for!(Plan))),
        ("event-envelope.schema.json", pretty(schema_for!(EventEnvelope))),
        ("recommendation.schema.json", pretty(schema_for!(Recommendation))),
        ("command.schema.json", pretty(schema_for!(CommandEnvelope))),
        ("command-result.schema.json", pretty(schema_for!(CommandResult))),
        ("run-request.schema.json", pretty(schema_for!(RunRequest))),
        ("run-plan.schema.json", pretty(schema_for!(RunPlan))),
        ("start-run.schema.json", pretty(schema_for!(StartRun))),
        ("run-started.schema.json", pretty(schema_for!(RunStarted))),
        ("service-error.schema.json", pretty(schema_for!(ServiceError))),
        ("query-problem.schema.json", pretty(schema_for!(QueryProblem))),
        ("problem-snapshot.schema.json", pretty(schema_for!(ProblemSnapshot))),
        ("cli-request.schema.json", pretty(schema_for!(CliRequest))),
        ("cli-reply.schema.json", pretty(schema_for!(CliReply))),
        ("export-request.schema.json", pretty(schema_for!(ExportRequest))),
        ("export-reply.schema.json", pretty(schema_for!(ExportReply))),
    ]
}
