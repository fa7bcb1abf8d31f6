//! The command line beside a serving engine. While `bridges serve` holds a
//! data folder (its lock), the CLI on the same machine finds the marker the
//! service writes beside the folder (`<data>-serving.json`: its NATS URL,
//! prefix, LA and pid) and talks to it instead of failing on the lock:
//! - a domain command goes to `<la>.cmd` as any NATS client's would (its
//!   `CommandEnvelope` in, its `CommandResult` back, printed as at home);
//! - a view (`show`, `list`, `recommend`, `sar`, ...) or a command that
//!   reads the state first (`change`, `match`, `round form`) is sent whole
//!   to `<la>.cli`: the engine parses the same arguments, runs them on its
//!   own state through the same code, and sends back what they printed and
//!   their exit code. It writes no file for the CLI (`--out` is refused);
//! - `bridges log export` asks `<la>.query.export` for an online backup:
//!   the engine cuts the export at its head while it goes on writing and
//!   leaves it in the LA's documents bucket, which the CLI reads, checks,
//!   writes and deletes; the CLI copies the key store beside it itself
//!   (keys never travel over NATS).
//!
//! The CLI connects with the configuration's `[nats]` credentials. Beside
//! `bridges web` (no marker, but its socket) the same three go over the
//! page's Unix socket instead (`local`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use bridges_schemas::commands::{CommandEnvelope, CommandResult};
use bridges_schemas::messages::{
    CliReply, CliRequest, ExportReply, ExportRequest, ObjectRef, ServiceError,
};
use bridges_worker::common::sha256_hex;
use chrono::{DateTime, Utc};
use clap::{CommandFactory as _, FromArgMatches as _};
use serde::{Deserialize, Serialize};

use super::session::{Acting, Session};
use super::{Args, CliError, ErrorKind};
use crate::config::Config;
use crate::handle::Engine;
use crate::log::{LogError, Position};

/// How long the CLI waits for a command's reply.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long it waits for a command line the engine runs (a `match` or a
/// `round form` solves first), beyond the solver's time limit.
const CLI_MARGIN: Duration = Duration::from_secs(60);
/// How long it waits for an export to be cut and stored.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(300);

/// What `bridges serve` writes beside the data folder it holds, for the
/// CLI to find it; removed when it stops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Serving {
    pub nats_url: String,
    pub prefix: String,
    pub la: u16,
    pub pid: u32,
    pub since: DateTime<Utc>,
}

impl Serving {
    /// `<data>-serving.json`.
    pub fn path(data: &Path) -> PathBuf {
        super::weekly::beside(data, "serving.json")
    }

    /// Writes the marker of `data` (whole or not at all).
    pub fn write(&self, data: &Path) -> std::io::Result<()> {
        let path = Serving::path(data);
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?)?;
        std::fs::rename(&tmp, &path)
    }

    /// The marker of `data`, if there is one that reads.
    pub fn read(data: &Path) -> Option<Serving> {
        let bytes = std::fs::read(Serving::path(data)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Removes the marker of `data`.
    pub fn remove(data: &Path) {
        let _ = std::fs::remove_file(Serving::path(data));
    }

    /// `<prefix>.<la>`.
    fn base(&self) -> String {
        crate::nats::base(&self.prefix, self.la)
    }
}

/// Whether `error` is the data folder's lock being held.
pub fn is_locked(error: &anyhow::Error) -> bool {
    error.chain().any(|c| matches!(c.downcast_ref::<LogError>(), Some(LogError::Locked { .. })))
}

/// A connection to the engine serving a data folder: `bridges serve`
/// over NATS, or `bridges web` on its socket (`local`).
pub struct Remote {
    link: Link,
    /// How long a command line run by the engine may take.
    cli_timeout: Duration,
}

enum Link {
    Nats { client: async_nats::Client, serving: Serving },
    Local { socket: PathBuf },
}

impl Remote {
    /// The engine serving `data`, when the folder is locked and its marker
    /// names one; `None` when there is no marker (another process holds
    /// the lock). Connecting fails with a line naming the service.
    pub async fn find(config: &Config, data: &Path) -> anyhow::Result<Option<Remote>> {
        let limit = config.solver.time_limit_seconds;
        let cli_timeout = Duration::from_secs_f64(limit.max(0.0)) + CLI_MARGIN;
        let Some(serving) = Serving::read(data) else {
            return Ok(super::local::find(data)
                .await
                .map(|socket| Remote { link: Link::Local { socket }, cli_timeout }));
        };
        let (options, _identity) =
            config.nats.apply(async_nats::ConnectOptions::new()).await.map_err(|e| {
                CliError::bad_input(format!("configuration nats.{}: {}", e.field, e.reason))
            })?;
        let who = format!(
            "the engine serving {} (bridges serve, pid {}, LA {} on {})",
            data.display(),
            serving.pid,
            serving.la,
            serving.nats_url
        );
        let client = options
            .name("bridges-cli")
            .connection_timeout(Duration::from_secs(5))
            .connect(bridges_worker::nats::server_list(&serving.nats_url))
            .await
            .map_err(|e| CliError::environment(format!("reaching {who}: {e}")))?;
        Ok(Some(Remote { link: Link::Nats { client, serving }, cli_timeout }))
    }

    /// `the engine of LA 312 (bridges serve, pid 4711)`.
    pub fn describe(&self) -> String {
        match &self.link {
            Link::Nats { serving, .. } => {
                format!("the engine of LA {} (bridges serve, pid {})", serving.la, serving.pid)
            }
            Link::Local { socket } => format!("the engine of bridges web ({})", socket.display()),
        }
    }

    fn nats(&self) -> Option<(&async_nats::Client, &Serving)> {
        match &self.link {
            Link::Nats { client, serving } => Some((client, serving)),
            Link::Local { .. } => None,
        }
    }

    async fn request(
        &self,
        subject: String,
        body: Vec<u8>,
        timeout: Duration,
    ) -> anyhow::Result<Vec<u8>> {
        let Some((client, serving)) = self.nats() else {
            return Err(CliError::environment("not a NATS link").into());
        };
        let request = async_nats::Request::new().payload(body.into()).timeout(Some(timeout));
        let reply = client.send_request(subject.clone(), request).await.map_err(|e| {
            CliError::environment(format!(
                "{subject}: the engine (bridges serve, pid {}) did not answer: {e}",
                serving.pid
            ))
        })?;
        // A service error (the engine failed to handle it) comes as headers.
        if let Some(headers) = &reply.headers
            && let Some(error) = headers.get(async_nats::service::NATS_SERVICE_ERROR)
        {
            return Err(
                CliError::environment(format!("{subject}: the engine failed: {error}")).into()
            );
        }
        Ok(reply.payload.to_vec())
    }

    /// Handles `envelope` through `<la>.cmd`.
    pub async fn command(&self, envelope: &CommandEnvelope) -> anyhow::Result<CommandResult> {
        let serving = match &self.link {
            Link::Nats { serving, .. } => serving,
            Link::Local { socket } => {
                return super::local::command(socket, envelope, COMMAND_TIMEOUT).await;
            }
        };
        let subject = format!("{}.cmd", serving.base());
        let reply = self.request(subject.clone(), serde_json::to_vec(envelope)?, COMMAND_TIMEOUT);
        let reply = reply.await?;
        serde_json::from_slice(&reply)
            .with_context(|| format!("{subject}: the reply is not a command result"))
    }

    /// Has the engine run the command line of `session` (the process's own
    /// arguments) and prints what it printed; gives its exit code.
    pub async fn forward(&self, session: &Session) -> anyhow::Result<ExitCode> {
        let args = std::env::args_os()
            .skip(1)
            .map(|a| {
                a.into_string().map_err(|a| {
                    CliError::bad_input(format!("argument {a:?}: not UTF-8, which NATS carries"))
                })
            })
            .collect::<Result<Vec<String>, CliError>>()?;
        let request =
            CliRequest { args, actor: session.actor(), at: session.at(), id: session.command_id() };
        let reply: CliReply = match &self.link {
            Link::Local { socket } => super::local::cli(socket, &request, self.cli_timeout).await?,
            Link::Nats { serving, .. } => {
                let subject = format!("{}.cli", serving.base());
                let body = serde_json::to_vec(&request)?;
                let reply = self.request(subject.clone(), body, self.cli_timeout).await?;
                serde_json::from_slice(&reply).with_context(|| {
                    format!("{subject}: the reply is not a command line's output")
                })?
            }
        };
        session.print(&reply.stdout);
        eprint!("{}", reply.stderr);
        Ok(ExitCode::from(reply.exit_code))
    }

    /// An online export: the engine cuts it, the CLI reads it from the
    /// documents bucket, checks it and deletes the object.
    pub async fn export(&self, through: Option<u64>) -> anyhow::Result<(u64, String, Vec<u8>)> {
        let (client, serving) = match &self.link {
            Link::Nats { client, serving } => (client, serving),
            Link::Local { socket } => {
                let request = super::local::LocalRequest::Export { through };
                let (head, bytes) = super::local::ask(socket, &request, EXPORT_TIMEOUT).await?;
                let head: super::local::ExportHead = super::local::parse(&head, "an export")?;
                if let Some(why) = head.refused {
                    let why = why.replacen("through", "--through", 1);
                    return Err(CliError::bad_input(format!("invalid argument: {why}")).into());
                }
                if bytes.len() as u64 != head.bytes {
                    return Err(CliError::environment(format!(
                        "the export came short: {} of {} bytes",
                        bytes.len(),
                        head.bytes
                    ))
                    .into());
                }
                return Ok((head.events, head.last_hash, bytes));
            }
        };
        let subject = format!("{}.query.export", serving.base());
        let body = serde_json::to_vec(&ExportRequest { through })?;
        let reply = self.request(subject.clone(), body, EXPORT_TIMEOUT).await?;
        let reply: ExportReply = match serde_json::from_slice(&reply) {
            Ok(r) => r,
            Err(_) => {
                let e: ServiceError = serde_json::from_slice(&reply)
                    .with_context(|| format!("{subject}: the reply is not an export"))?;
                return Err(CliError::bad_input(format!(
                    "invalid argument: {} = {}: {}",
                    if e.field == "through" { "--through" } else { &e.field },
                    e.value,
                    e.reason
                ))
                .into());
            }
        };
        let js = jetstream::new(client.clone());
        let bytes = bridges_worker::nats::read_object(&js, &reply.export)
            .await
            .map_err(|e| CliError::environment(format!("reading the export: {e}")))?;
        if let Ok(store) = js.get_object_store(&reply.export.bucket).await {
            let _ = store.delete(&reply.export.name).await;
        }
        Ok((reply.events, reply.last_hash, bytes))
    }
}

/// The serving engine's answer to a [`CliRequest`] on `<la>.cli`: the
/// command line parsed as `bridges` parses it and run on `engine` by the
/// same code, for the domain's families only, its output captured.
pub async fn answer_cli(engine: Arc<Engine>, config: &Config, body: &[u8]) -> CliReply {
    let refused = |stderr: String| CliReply { stdout: String::new(), stderr, exit_code: 2 };
    let request: CliRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return refused(format!("bridges: not a command line request: {e}\n")),
    };
    let argv = std::iter::once("bridges").chain(request.args.iter().map(String::as_str));
    let parsed = Args::command().try_get_matches_from(argv).and_then(|m| {
        Args::from_arg_matches(&m).map(|args| (m.subcommand_name().map(str::to_owned), args))
    });
    let (name, args) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            let text = e.render().to_string();
            return match e.use_stderr() {
                true => refused(text),
                false => CliReply { stdout: text, stderr: String::new(), exit_code: 0 },
            };
        }
    };
    // `submit` reads a file or stdin: the CLI sends its commands to
    // `<la>.cmd` itself, and the engine reads no file for it.
    if matches!(args.command, super::Command::Submit(_)) {
        return refused("bridges: `bridges submit` sends its commands to <la>.cmd itself\n".into());
    }
    let acting =
        Acting { user: Some(request.actor.0), at: Some(request.at), command_id: Some(request.id) };
    let session = Session::shared(engine, acting);
    let result = match super::run_domain(args.command, config, &session).await {
        Ok(result) => result,
        Err(_) => {
            return refused(format!(
                "bridges: `bridges {}` is not run by the serving engine: stop `bridges serve` \
                 or `bridges web` to run it on the data folder\n",
                name.unwrap_or_default()
            ));
        }
    };
    let mut captured = session.captured();
    let exit_code = match result {
        Ok(code) => code_of(code),
        Err(e) => {
            let e = CliError::classify(&e);
            captured.stderr.push_str(&format!("bridges: {e}\n"));
            match e.kind {
                ErrorKind::BadInput => 2,
                ErrorKind::Environment => 1,
            }
        }
    };
    CliReply { stdout: captured.stdout, stderr: captured.stderr, exit_code }
}

/// The number of an exit code (0 to 255).
fn code_of(code: ExitCode) -> u8 {
    (0..=u8::MAX).find(|n| ExitCode::from(*n) == code).unwrap_or(1)
}

/// An online export of `engine`'s log cut at its head (or `through`), in
/// memory, off the runtime's threads (the engine goes on writing).
pub async fn cut_export(
    engine: &Engine,
    through: Option<u64>,
) -> Result<Result<(Vec<u8>, crate::log::ExportReport), LogError>, tokio::task::JoinError> {
    let log = engine.log().clone();
    tokio::task::spawn_blocking(move || {
        let mut bytes = Vec::new();
        log.export_ndjson(&mut bytes, through.map(Position)).map(|report| (bytes, report))
    })
    .await
}

/// The serving engine's answer to an [`ExportRequest`] on
/// `<la>.query.export`: the export cut at the head (or `through`) into
/// the LA's documents bucket, or a `ServiceError` naming `through`.
pub async fn answer_export(
    engine: &Engine,
    js: &jetstream::Context,
    bucket: &str,
    max_payload: usize,
    subject: &str,
    body: &[u8],
) -> Result<Vec<u8>, String> {
    let refused = |field: &str, value: String, reason: String| {
        let e =
            ServiceError { subject: subject.to_owned(), field: field.to_owned(), value, reason };
        serde_json::to_vec(&e).map_err(|e| e.to_string())
    };
    let request: ExportRequest = match body.is_empty() {
        true => ExportRequest { through: None },
        false => match serde_json::from_slice(body) {
            Ok(r) => r,
            Err(e) => {
                return refused(
                    "(message)",
                    "(body)".into(),
                    format!("not an export request: {e}"),
                );
            }
        },
    };
    let cut = cut_export(engine, request.through).await.map_err(|e| e.to_string())?;
    let (bytes, report) = match cut {
        Ok(cut) => cut,
        Err(LogError::Invalid { field, value, reason }) => return refused(&field, value, reason),
        Err(e) => return Err(e.to_string()),
    };
    let sha = sha256_hex(&bytes);
    let name = format!("exports/{}-{}.ndjson", report.events, &sha[..12]);
    let export: ObjectRef =
        bridges_worker::nats::write_object(js, bucket, &name, &bytes, max_payload)
            .await
            .map_err(|e| e.to_string())?;
    let reply = ExportReply {
        export,
        events: report.events,
        through: report.events,
        last_hash: report.head_hash,
    };
    serde_json::to_vec(&reply).map_err(|e| e.to_string())
}
