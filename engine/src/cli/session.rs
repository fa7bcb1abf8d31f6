//! What every domain subcommand shares: who acts, when and under which
//! command id (`--as`, `--at`, `--id`), the engine opened on the data folder
//! (its log, `rules::rules(&config)` and the key store beside the folder),
//! one command handled and printed (the events appended, or the rejection as
//! one line with exit code 2), the history of a stream for a view, and the
//! engine closed (with a checkpoint) however the command ended.
//!
//! It holds no rule: every decision is the engine's `handle`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use bridges_schemas::commands::{
    Command, CommandEnvelope, CommandOutcome, CommandResult, Rejection, RejectionCode,
};
use bridges_schemas::vocab::UserId;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::parse;
use crate::config::Config;
use crate::handle::Engine;
use crate::keys::KeyStore;
use crate::log::{EventLog, Version};
use crate::views::{self, HistoryEntry};

/// The exit code of a rejection (and of a view asked about something unknown).
pub const EXIT_REJECTED: u8 = 2;

/// The acting user, the time and the command id of a domain command.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Acting {
    /// Who acts: a user id, 1 to 64 ASCII letters, digits, - or _ (default:
    /// $BRIDGES_USER, else cli-<login name>). Recorded on every event.
    #[arg(long = "as", value_name = "USER", global = true, env = "BRIDGES_USER")]
    pub user: Option<String>,
    /// When it happened, RFC 3339, for example 2026-09-07T09:00:00Z (default: now).
    #[arg(long = "at", value_name = "TIME", global = true, value_parser = parse::time)]
    pub at: Option<DateTime<Utc>>,
    /// The command's idempotency key, 1 to 64 ASCII letters, digits, - or _
    /// (default: a new UUID). A command id seen before records nothing again.
    #[arg(long = "id", value_name = "CMD-ID", global = true)]
    pub command_id: Option<String>,
}

impl Acting {
    /// The acting user: `--as`, `$BRIDGES_USER`, or `cli-<login name>`.
    pub fn actor(&self) -> UserId {
        UserId(self.user.clone().unwrap_or_else(default_user))
    }
}

/// `cli-` and the login name, cut to the characters of a user id.
fn default_user() -> String {
    let login = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_default();
    let login: String = login
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
        .take(60)
        .collect();
    format!("cli-{}", if login.is_empty() { "unknown" } else { &login })
}

/// One command line's engine.
pub struct Session {
    engine: Engine,
    acting: Acting,
    /// The command's time, fixed once (`--at`, or now when the session opened).
    at: DateTime<Utc>,
}

impl Session {
    /// Opens the engine on `log` (in `data`) with the key store beside it.
    pub async fn open(
        config: &Config,
        data: &Path,
        log: EventLog,
        acting: Acting,
    ) -> anyhow::Result<Session> {
        let dir = super::weekly::keys_dir(data);
        let keys = KeyStore::open(&dir)
            .with_context(|| format!("opening the key store {}", dir.display()))?;
        let engine = Engine::open(log, crate::rules::rules(config), keys)
            .await
            .with_context(|| format!("opening the engine on {}", data.display()))?;
        let at = acting.at.unwrap_or_else(Utc::now);
        Ok(Session { engine, acting, at })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The command's time.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    pub fn actor(&self) -> UserId {
        self.acting.actor()
    }

    /// The command's id: `--id`, or a new UUID.
    pub fn command_id(&self) -> String {
        self.acting.command_id.clone().unwrap_or_else(|| Uuid::new_v4().simple().to_string())
    }

    /// `command` with its id, actor and time.
    pub fn envelope(&self, command: Command) -> CommandEnvelope {
        CommandEnvelope { id: self.command_id(), actor: self.actor(), at: self.at, command }
    }

    /// Handles `command` and prints what became of it; exit 2 on a rejection.
    pub async fn execute(&self, command: Command) -> anyhow::Result<ExitCode> {
        let envelope = self.envelope(command);
        let outcome = self.engine.handle(&envelope).await?;
        let result = super::submit::result_of(&envelope.id, &outcome);
        print_result(&result);
        Ok(if result.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_REJECTED) })
    }

    /// Every event of `stream` as history (notes opened through the key store).
    pub fn history(&self, stream: &str) -> anyhow::Result<Vec<HistoryEntry>> {
        let events = self.engine.log().read_stream(stream, Version(1), usize::MAX)?;
        Ok(views::history(&events, self.engine.keys()))
    }

    /// Closes the engine (checkpoint, log) and returns the command's result.
    pub async fn finish(self, result: anyhow::Result<ExitCode>) -> anyhow::Result<ExitCode> {
        let closed = self.engine.close().await;
        let code = result?;
        closed.context("closing the engine")?;
        Ok(code)
    }
}

/// Prints a refusal (a rejection, or a view asked about something unknown)
/// as one line on stderr and gives exit code 2.
pub fn refuse(rejection: &Rejection) -> ExitCode {
    eprintln!("{}", rejection_line(rejection));
    ExitCode::from(EXIT_REJECTED)
}

/// A view asked about something unknown.
pub fn unknown(code: RejectionCode, field: &str, value: impl std::fmt::Display) -> ExitCode {
    refuse(&Rejection::new(code, field, value, "not recorded in this log"))
}

/// `rejected: field = value: reason [code]`.
pub fn rejection_line(r: &Rejection) -> String {
    let code = match serde_json::to_value(r.code) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{:?}", r.code),
    };
    format!("rejected: {} = {}: {} [{code}]", r.field, r.value, r.reason)
}

fn print_result(r: &CommandResult) {
    let id = r.id.as_deref().unwrap_or("-");
    let span = match (r.first, r.last) {
        (Some(a), Some(b)) => format!("{a}..{b}"),
        _ => "-".to_owned(),
    };
    match r.outcome {
        CommandOutcome::Applied => {
            println!("applied {id}: {} at positions {span}", views::count(r.events.len(), "event"));
            for e in &r.events {
                println!("  {:>8}  {:<40}  {}", e.position, e.stream, e.type_name);
            }
        }
        CommandOutcome::Unchanged => println!("unchanged {id}: nothing new to record"),
        CommandOutcome::Duplicate => {
            println!("duplicate {id}: handled before at positions {span}; nothing written")
        }
        CommandOutcome::Rejected => {
            if let Some(rejection) = &r.rejection {
                eprintln!("{}", rejection_line(rejection));
            }
        }
    }
}
