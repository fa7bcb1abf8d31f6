//! What every domain subcommand shares: who acts, when and under which
//! command id (`--as`, `--at`, `--id`), the engine opened on the data folder
//! (its log, `rules::rules(&config)` and the key store beside the folder),
//! one command handled and printed (the events appended, or the rejection as
//! one line with exit code 2), the history of a stream for a view, and the
//! engine closed (with a checkpoint) however the command ended.
//!
//! It holds no rule: every decision is the engine's `handle`.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use bridges_schemas::commands::{
    Command, CommandEnvelope, CommandOutcome, CommandResult, Rejection, RejectionCode,
};
use bridges_schemas::vocab::UserId;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::parse;
use super::remote::Remote;
use crate::config::Config;
use crate::handle::Engine;
use crate::keys::KeyStore;
use crate::log::EventLog;
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

/// The engine on `log` (in `data`), with the configuration's rules and the
/// key store beside the folder: what every command that opens the folder
/// itself runs on (a session, `serve`, `web`).
pub async fn open_engine(config: &Config, data: &Path, log: EventLog) -> anyhow::Result<Engine> {
    let dir = super::weekly::keys_dir(data);
    let keys =
        KeyStore::open(&dir).with_context(|| format!("opening the key store {}", dir.display()))?;
    Engine::open(log, crate::rules::rules(config), keys)
        .await
        .with_context(|| format!("opening the engine on {}", data.display()))
}

/// Where a session's engine is.
enum Backend {
    /// The engine this process opened on the data folder (`finish` closes it).
    Owned(Engine),
    /// The serving engine's own, running a command line for the CLI
    /// (`remote::answer_cli`); it stays open.
    Shared(Arc<Engine>),
    /// A serving engine that holds the data folder, reached over NATS:
    /// commands go to `<la>.cmd`; anything that reads the engine's state
    /// fails with [`Forward`] and is run there as a whole.
    Remote(Remote),
}

/// Where a session's output goes: the terminal, or text the serving
/// engine sends back to the CLI.
enum Output {
    Terminal,
    Captured(Mutex<Captured>),
}

/// A command line's output, captured.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Captured {
    pub stdout: String,
    pub stderr: String,
}

/// The error of a remote session asked for the engine's state: the
/// command line is then sent whole to the serving engine (`<la>.cli`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this command reads the engine's state, so the serving engine runs it")]
pub struct Forward;

/// One command line's engine.
pub struct Session {
    backend: Backend,
    acting: Acting,
    /// The command's time, fixed once (`--at`, or now when the session opened).
    at: DateTime<Utc>,
    /// The command's id, fixed once (`--id`, or a new UUID).
    command_id: String,
    output: Output,
}

impl Session {
    /// Opens the engine on `log` (in `data`) with the key store beside it.
    pub async fn open(
        config: &Config,
        data: &Path,
        log: EventLog,
        acting: Acting,
    ) -> anyhow::Result<Session> {
        let engine = open_engine(config, data, log).await?;
        Ok(Session::new(Backend::Owned(engine), acting, Output::Terminal))
    }

    /// A session on the serving engine's own `engine`, its output captured.
    pub fn shared(engine: Arc<Engine>, acting: Acting) -> Session {
        Session::new(Backend::Shared(engine), acting, Output::Captured(Mutex::default()))
    }

    /// A session whose commands go to the engine serving the folder.
    pub fn remote(remote: Remote, acting: Acting) -> Session {
        Session::new(Backend::Remote(remote), acting, Output::Terminal)
    }

    fn new(backend: Backend, acting: Acting, output: Output) -> Session {
        let at = acting.at.unwrap_or_else(Utc::now);
        let command_id =
            acting.command_id.clone().unwrap_or_else(|| Uuid::new_v4().simple().to_string());
        Session { backend, acting, at, command_id, output }
    }

    /// The engine, to read its state; a remote session has none ([`Forward`]).
    pub fn engine(&self) -> anyhow::Result<&Engine> {
        match &self.backend {
            Backend::Owned(engine) => Ok(engine),
            Backend::Shared(engine) => Ok(engine),
            Backend::Remote(_) => Err(Forward.into()),
        }
    }

    /// The serving engine this session talks to, if it is remote.
    pub fn remote_link(&self) -> Option<&Remote> {
        match &self.backend {
            Backend::Remote(remote) => Some(remote),
            _ => None,
        }
    }

    /// The command's time.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    pub fn actor(&self) -> UserId {
        self.acting.actor()
    }

    /// The command's id: `--id`, or a UUID made when the session opened.
    pub fn command_id(&self) -> String {
        self.command_id.clone()
    }

    /// `command` with its id, actor and time.
    pub fn envelope(&self, command: Command) -> CommandEnvelope {
        CommandEnvelope { id: self.command_id(), actor: self.actor(), at: self.at, command }
    }

    /// Handles `envelope` (over `<la>.cmd` when the engine is remote).
    pub async fn handle(&self, envelope: &CommandEnvelope) -> anyhow::Result<CommandResult> {
        match &self.backend {
            Backend::Remote(remote) => remote.command(envelope).await,
            _ => {
                let outcome = self.engine()?.handle(envelope).await?;
                Ok(super::submit::result_of(&envelope.id, &outcome))
            }
        }
    }

    /// Handles `command` and prints what became of it; exit 2 on a rejection.
    pub async fn execute(&self, command: Command) -> anyhow::Result<ExitCode> {
        let envelope = self.envelope(command);
        let result = self.handle(&envelope).await?;
        self.print_result(&result);
        Ok(if result.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_REJECTED) })
    }

    /// Every event of `stream` as history (notes opened through the key store).
    pub fn history(&self, stream: &str) -> anyhow::Result<Vec<HistoryEntry>> {
        Ok(self.engine()?.history(stream)?)
    }

    /// Writes `text` to standard output (or to what goes back to the CLI).
    pub fn print(&self, text: &str) {
        match &self.output {
            Output::Terminal => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
            Output::Captured(c) => c.lock().expect("output lock").stdout.push_str(text),
        }
    }

    /// Writes `line` and a newline to standard error (or to what goes back).
    pub fn eprintln(&self, line: &str) {
        match &self.output {
            Output::Terminal => eprintln!("{line}"),
            Output::Captured(c) => {
                let mut c = c.lock().expect("output lock");
                c.stderr.push_str(line);
                c.stderr.push('\n');
            }
        }
    }

    /// Refuses an option that writes `flag`'s file when the serving
    /// engine runs the command line: it writes no file for the CLI.
    pub fn may_write(&self, flag: &str, path: &Path) -> anyhow::Result<()> {
        match &self.backend {
            Backend::Shared(_) => Err(super::CliError::bad_input(format!(
                "invalid argument: {flag} = {}: the engine serving this data folder writes no \
                 files for the command line; leave {flag} out and redirect the output, or stop \
                 the service",
                path.display()
            ))
            .into()),
            _ => Ok(()),
        }
    }

    /// Prints a refusal (a rejection, or a view asked about something
    /// unknown) as one line on stderr and gives exit code 2.
    pub fn refuse(&self, rejection: &Rejection) -> ExitCode {
        self.eprintln(&rejection_line(rejection));
        ExitCode::from(EXIT_REJECTED)
    }

    /// A view asked about something unknown.
    pub fn unknown(
        &self,
        code: RejectionCode,
        field: &str,
        value: impl std::fmt::Display,
    ) -> ExitCode {
        self.refuse(&Rejection::new(code, field, value, "not recorded in this log"))
    }

    /// What the command line wrote, if it was captured.
    pub fn captured(&self) -> Captured {
        match &self.output {
            Output::Terminal => Captured::default(),
            Output::Captured(c) => c.lock().expect("output lock").clone(),
        }
    }

    /// Closes the engine this process opened (checkpoint, log) and returns
    /// the command's result.
    pub async fn finish(self, result: anyhow::Result<ExitCode>) -> anyhow::Result<ExitCode> {
        let Backend::Owned(engine) = self.backend else {
            return result;
        };
        let closed = engine.close().await;
        let code = result?;
        closed.context("closing the engine")?;
        Ok(code)
    }

    fn print_result(&self, r: &CommandResult) {
        let id = r.id.as_deref().unwrap_or("-");
        let span = match (r.first, r.last) {
            (Some(a), Some(b)) => format!("{a}..{b}"),
            _ => "-".to_owned(),
        };
        match r.outcome {
            CommandOutcome::Applied => {
                let mut text = format!(
                    "applied {id}: {} at positions {span}\n",
                    views::count(r.events.len(), "event")
                );
                for e in &r.events {
                    text += &format!("  {:>8}  {:<40}  {}\n", e.position, e.stream, e.type_name);
                }
                self.print(&text);
            }
            CommandOutcome::Unchanged => {
                self.print(&format!("unchanged {id}: nothing new to record\n"))
            }
            CommandOutcome::Duplicate => self.print(&format!(
                "duplicate {id}: handled before at positions {span}; nothing written\n"
            )),
            CommandOutcome::Rejected => {
                if let Some(rejection) = &r.rejection {
                    self.eprintln(&rejection_line(rejection));
                }
            }
        }
    }
}

/// `rejected: field = value: reason [code]`.
pub fn rejection_line(r: &Rejection) -> String {
    let code = match serde_json::to_value(r.code) {
        Ok(serde_json::Value::String(s)) => s,
        _ => format!("{:?}", r.code),
    };
    format!("rejected: {} = {}: {} [{code}]", r.field, r.value, r.reason)
}
