//! `bridges submit FILE|-`: commands as JSON, one `CommandEnvelope` per line
//! in (blank lines skipped), one `CommandResult` per line out, in order,
//! each with its command id and line number. Every command goes through
//! `Engine::handle`, so a command id seen before is a `duplicate` and writes
//! nothing. A line that is not a command (not JSON, an unknown command, an
//! unknown or missing field, a wrong type) is a `rejected` result with code
//! `invalid` and the JSON path as its field, and the next line is read.
//! Commands only the engine issues (`expire_assignment`, `record_run`,
//! `discard_run`) are refused. Exit 0 when every line stands, 2 when any was
//! rejected, 1 when the input cannot be read.
//!
//! `result_of` turns a handled command's outcome into its `CommandResult`
//! (the same JSON the NATS reply will carry).

use std::io::{BufRead, BufReader, Write};
use std::process::ExitCode;

use anyhow::Context as _;
use bridges_schemas::commands::{
    self as c, AppendedEvent, CommandEnvelope, CommandOutcome, CommandResult, Rejection,
    RejectionCode,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::session::{EXIT_REJECTED, Session};
use crate::handle::Outcome;

#[derive(Debug, clap::Args)]
#[command(after_help = "Example: bridges submit commands.ndjson > results.ndjson

A line in:
  {\"id\":\"c-1\",\"actor\":\"broker-1\",\"at\":\"2026-09-07T09:00:00Z\",\"command\":{\"type\":\"withdraw_request\",\"request\":\"req-9\",\"reason\":\"school found support\"}}
A line out:
  {\"id\":\"c-1\",\"line\":1,\"outcome\":\"applied\",\"first\":12,\"last\":12,\"events\":[{\"position\":12,\"stream\":\"request-req-9\",\"type\":\"RequestWithdrawn\"}]}
The JSON Schemas are schemas/json/command.schema.json and command-result.schema.json.")]
pub struct SubmitArgs {
    /// An NDJSON file of commands, or - for standard input.
    pub file: String,
}

/// Handles every line of the input in order and prints one result per line.
pub async fn run(args: SubmitArgs, session: &Session) -> anyhow::Result<ExitCode> {
    let input: Box<dyn BufRead + Send> = if args.file == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let f =
            std::fs::File::open(&args.file).with_context(|| format!("opening {}", args.file))?;
        Box::new(BufReader::new(f))
    };
    let mut all_stand = true;
    for (i, line) in input.lines().enumerate() {
        let n = i as u64 + 1;
        let line = line.with_context(|| format!("reading line {n} of {}", args.file))?;
        if line.trim().is_empty() {
            continue;
        }
        let mut result = match read_envelope(&line) {
            Err((id, rejection)) => CommandResult::rejected(id, rejection),
            Ok(envelope) if envelope.command.is_internal() => CommandResult::rejected(
                Some(envelope.id.clone()),
                Rejection::new(
                    RejectionCode::Invalid,
                    "command.type",
                    envelope.command.name(),
                    "only the engine issues this command",
                ),
            ),
            Ok(envelope) => session.handle(&envelope).await?,
        };
        result.line = Some(n);
        all_stand &= result.is_ok();
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, &result)?;
        writeln!(out)?;
        out.flush()?;
    }
    Ok(if all_stand { ExitCode::SUCCESS } else { ExitCode::from(EXIT_REJECTED) })
}

/// The result of command `id` that was handled with `outcome`.
pub fn result_of(id: &str, outcome: &Outcome) -> CommandResult {
    let base = CommandResult {
        id: Some(id.to_owned()),
        line: None,
        outcome: CommandOutcome::Unchanged,
        first: None,
        last: None,
        events: Vec::new(),
        rejection: None,
    };
    match outcome {
        Outcome::Applied { first, last, events } => CommandResult {
            outcome: CommandOutcome::Applied,
            first: Some(first.0),
            last: Some(last.0),
            events: events
                .iter()
                .map(|e| AppendedEvent {
                    position: e.position.0,
                    stream: e.stream.clone(),
                    type_name: e.type_name.to_owned(),
                })
                .collect(),
            ..base
        },
        Outcome::Unchanged => base,
        Outcome::Duplicate { first, last } => CommandResult {
            outcome: CommandOutcome::Duplicate,
            first: Some(first.0),
            last: Some(last.0),
            ..base
        },
        Outcome::Rejected(r) => CommandResult::rejected(Some(id.to_owned()), r.clone()),
    }
}

/// Reads one line as a command, or says where it is not one: the id (if the
/// line carries one) and a rejection naming the JSON path.
pub fn read_envelope(line: &str) -> Result<CommandEnvelope, (Option<String>, Rejection)> {
    let value: Value = serde_json::from_str(line).map_err(|e| {
        (None, Rejection::new(RejectionCode::Invalid, "(line)", line, format!("not JSON: {e}")))
    })?;
    let id = value.get("id").and_then(Value::as_str).map(str::to_owned);
    match serde_path_to_error::deserialize::<_, CommandEnvelope>(&value) {
        Ok(envelope) => Ok(envelope),
        Err(e) => {
            let path = e.path().to_string();
            let reason = e.into_inner().to_string();
            Err((id, locate(&value, &path, reason)))
        }
    }
}

/// The rejection of a line whose reading failed at `path` for `reason`.
/// Inside `command` the path is found again by reading the command's own
/// type (serde loses the path inside an internally tagged enum).
fn locate(value: &Value, path: &str, reason: String) -> Rejection {
    let (path, reason) = match (path, value.get("command")) {
        ("command", Some(command)) => match probe(command) {
            Some((inner, why)) if inner.is_empty() || inner == "." => ("command".to_owned(), why),
            Some((inner, why)) => (under("command", &inner), why),
            None => ("command".to_owned(), reason),
        },
        _ => (path.to_owned(), reason),
    };
    // Name the field itself for an unknown or a missing one.
    let field = match backticked(&reason, "unknown field ")
        .or_else(|| backticked(&reason, "missing field "))
    {
        Some(name) if !path.ends_with(name) => under(&path, name),
        _ => path,
    };
    let field = if field == "." || field.is_empty() { "(line)".to_owned() } else { field };
    let shown = match lookup(value, &field) {
        Some(Value::String(s)) => format!("{s:?}"),
        Some(v) => v.to_string(),
        None => "(missing)".to_owned(),
    };
    Rejection::new(RejectionCode::Invalid, field, shown, reason)
}

/// Where and why a command object fails to read as its type's struct.
fn probe(command: &Value) -> Option<(String, String)> {
    let object = command.as_object()?;
    let ty = match object.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(_) => return Some(("type".into(), "the command type is a string".into())),
        None => return Some(("type".into(), "missing field `type`".into())),
    };
    let mut rest = object.clone();
    rest.remove("type");
    let rest = Value::Object(rest);
    macro_rules! by_type {
        ($($name:literal => $t:ty,)*) => {
            match ty.as_str() {
                $($name => error_of::<$t>(&rest),)*
                _ => Some((
                    "type".into(),
                    format!("not a command; expected one of {}", [$($name),*].join(", ")),
                )),
            }
        };
    }
    by_type! {
        "register_school" => c::RegisterSchool,
        "change_school" => c::ChangeSchool,
        "close_school" => c::CloseSchool,
        "record_inspection" => c::RecordInspection,
        "assess_risk" => c::AssessRisk,
        "designate_practitioner" => c::DesignatePractitioner,
        "change_practitioner" => c::ChangePractitioner,
        "declare_availability" => c::DeclareAvailability,
        "record_leave" => c::RecordLeave,
        "declare_conflict" => c::DeclareConflict,
        "withdraw_conflict" => c::WithdrawConflict,
        "withdraw_practitioner" => c::WithdrawPractitioner,
        "erase_practitioner" => c::ErasePractitioner,
        "raise_request" => c::RaiseRequest,
        "amend_request" => c::AmendRequest,
        "withdraw_request" => c::WithdrawRequest,
        "close_request" => c::CloseRequest,
        "propose_assignment" => c::ProposeAssignment,
        "accept_assignment" => c::AcceptAssignment,
        "decline_assignment" => c::DeclineAssignment,
        "withdraw_assignment" => c::WithdrawAssignment,
        "record_first_contact" => c::RecordFirstContact,
        "record_visit" => c::RecordVisit,
        "correct_visit" => c::CorrectVisit,
        "void_visit" => c::VoidVisit,
        "cancel_visit" => c::CancelVisit,
        "confirm_visit" => c::ConfirmVisit,
        "complete_assignment" => c::CompleteAssignment,
        "set_budget" => c::SetBudget,
        "set_brokerage_fee" => c::SetBrokerageFee,
        "expire_assignment" => c::ExpireAssignment,
        "record_run" => c::RecordRun,
        "discard_run" => c::DiscardRun,
    }
}

fn error_of<T: DeserializeOwned>(v: &Value) -> Option<(String, String)> {
    serde_path_to_error::deserialize::<_, T>(v)
        .err()
        .map(|e| (e.path().to_string(), e.into_inner().to_string()))
}

/// `base.name`, or `name` at the root.
fn under(base: &str, name: &str) -> String {
    if base.is_empty() || base == "." { name.to_owned() } else { format!("{base}.{name}") }
}

/// The name in `` `name` `` after `prefix` in serde's message.
fn backticked<'a>(reason: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = reason.split_once(prefix)?.1.strip_prefix('`')?;
    rest.split_once('`').map(|(name, _)| name)
}

/// The value at a path such as `command.days.2026-AU1` or `command.designations[0]`.
fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let mut v = value;
    for part in path.split('.') {
        let (key, indices) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            v = v.get(key)?;
        }
        for index in indices.split(']').filter(|s| !s.is_empty()) {
            v = v.get(index.trim_start_matches('[').parse::<usize>().ok()?)?;
        }
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(line: &str) -> (Option<String>, Rejection) {
        read_envelope(line).expect_err("not a command")
    }

    const GOOD: &str = r#"{"id":"c-1","actor":"broker-1","at":"2026-09-07T09:00:00Z","command":{"type":"raise_request","request":"req-9","urn":102400,"need":"maths","designations":["SLE"],"tier":"2","days":{"2026-AU1":2},"funding":"la_core"}}"#;

    /// Given lines that are not commands, when they are read, then each
    /// rejection names the JSON path of what is wrong and its value.
    #[test]
    fn a_malformed_line_is_rejected_naming_its_json_path() {
        assert!(read_envelope(GOOD).is_ok());
        let rows: [(&str, &str, &str); 6] = [
            ("reqest\":\"req-9", "command.reqest", "\"req-9\""),
            ("\"days\":{\"2026-AU1\":2}", "command.days.2026-AU1", "\"two\""),
            ("raise_request", "command.type", "\"raise_everything\""),
            ("\"designations\":[\"SLE\"],", "command.designations", "(missing)"),
            ("\"actor\":\"broker-1\",", "actor", "(missing)"),
            ("\"tier\":\"2\"", "command.tier", "\"9\""),
        ];
        let edits = [
            GOOD.replace("request\":\"req-9", "reqest\":\"req-9"),
            GOOD.replace("\"days\":{\"2026-AU1\":2}", "\"days\":{\"2026-AU1\":\"two\"}"),
            GOOD.replace("raise_request", "raise_everything"),
            GOOD.replace("\"designations\":[\"SLE\"],", ""),
            GOOD.replace("\"actor\":\"broker-1\",", ""),
            GOOD.replace("\"tier\":\"2\"", "\"tier\":\"9\""),
        ];
        for ((what, field, value), line) in rows.iter().zip(&edits) {
            let (id, r) = rejected(line);
            assert_eq!(id.as_deref(), Some("c-1"), "{what}");
            assert_eq!(r.code, RejectionCode::Invalid, "{what}");
            assert_eq!((r.field.as_str(), r.value.as_str()), (*field, *value), "{what}: {r}");
        }
        let (id, r) = rejected("{not json");
        assert_eq!((id, r.field.as_str()), (None, "(line)"));
    }
}
