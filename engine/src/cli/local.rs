//! The command line beside `bridges web`: while the page holds a data
//! folder, it listens on a Unix socket beside it (`<data>-web.sock`, mode
//! 0600: only the folder's owner reaches it, as only they could open the
//! folder) and the CLI sends what it would have done on the folder there,
//! as it sends it to `bridges serve` over NATS (`remote`): a command's
//! envelope, a whole command line (`remote::answer_cli`, the same code),
//! or an export. One request per connection: a JSON line in, a JSON line
//! back (an export's bytes follow its line).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bridges_schemas::commands::{CommandEnvelope, CommandResult};
use bridges_schemas::messages::{CliReply, CliRequest};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

use super::CliError;
use crate::config::Config;
use crate::handle::Engine;
use crate::log::LogError;

/// The most a request line may hold.
const MAX_LINE: u64 = 16 << 20;

/// `<data>-web.sock`.
pub fn socket_path(data: &Path) -> PathBuf {
    super::weekly::beside(data, "web.sock")
}

/// What the CLI asks.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LocalRequest {
    Cmd { envelope: CommandEnvelope },
    Cli { request: CliRequest },
    Export { through: Option<u64> },
}

/// The line before an export's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportHead {
    pub events: u64,
    pub last_hash: String,
    pub bytes: u64,
    /// Why there is no export (`through` out of range); then no bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// Answers on the socket of `data` until `shutdown`; removes it at the end.
pub async fn serve(
    engine: Arc<Engine>,
    config: Config,
    data: PathBuf,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let path = socket_path(&data);
    // The folder's lock is held: a socket left there is a dead server's.
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    tracing::info!(socket = %path.display(), "the command line's socket is open");
    let config = Arc::new(config);
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let (engine, config) = (engine.clone(), config.clone());
                tasks.spawn(async move {
                    if let Err(e) = answer(stream, engine, &config).await {
                        tracing::warn!(error = %e, "a command line's request failed");
                    }
                });
            }
            _ = shutdown.wait_for(|s| *s) => break,
        }
        while tasks.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = std::fs::remove_file(&path);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

async fn answer(stream: UnixStream, engine: Arc<Engine>, config: &Config) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = Vec::new();
    BufReader::new(read).take(MAX_LINE).read_until(b'\n', &mut line).await?;
    let request: LocalRequest = match serde_json::from_slice(&line) {
        Ok(r) => r,
        Err(e) => {
            let reply = CliReply {
                stdout: String::new(),
                stderr: format!("bridges: not a request of the command line: {e}\n"),
                exit_code: 2,
            };
            return send(&mut write, &reply, None).await;
        }
    };
    match request {
        LocalRequest::Cmd { envelope } => {
            let result = match engine.handle(&envelope).await {
                Ok(outcome) => super::submit::result_of(&envelope.id, &outcome),
                Err(e) => return Err(std::io::Error::other(e.to_string())),
            };
            send(&mut write, &result, None).await
        }
        LocalRequest::Cli { request } => {
            let body = serde_json::to_vec(&request).map_err(std::io::Error::other)?;
            let reply = super::remote::answer_cli(engine, config, &body).await;
            send(&mut write, &reply, None).await
        }
        LocalRequest::Export { through } => {
            let cut =
                super::remote::cut_export(&engine, through).await.map_err(std::io::Error::other)?;
            match cut {
                Ok((bytes, report)) => {
                    let head = ExportHead {
                        events: report.events,
                        last_hash: report.head_hash,
                        bytes: bytes.len() as u64,
                        refused: None,
                    };
                    send(&mut write, &head, Some(&bytes)).await
                }
                Err(LogError::Invalid { field, value, reason }) => {
                    let head = ExportHead {
                        events: 0,
                        last_hash: String::new(),
                        bytes: 0,
                        refused: Some(format!("{field} = {value}: {reason}")),
                    };
                    send(&mut write, &head, None).await
                }
                Err(e) => Err(std::io::Error::other(e.to_string())),
            }
        }
    }
}

async fn send<T: Serialize>(
    write: &mut tokio::net::unix::OwnedWriteHalf,
    head: &T,
    bytes: Option<&[u8]>,
) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(head).map_err(std::io::Error::other)?;
    line.push(b'\n');
    write.write_all(&line).await?;
    if let Some(bytes) = bytes {
        write.write_all(bytes).await?;
    }
    write.shutdown().await
}

/// The socket of `data` when something answers on it.
pub async fn find(data: &Path) -> Option<PathBuf> {
    let path = socket_path(data);
    UnixStream::connect(&path).await.ok().map(|_| path)
}

/// Sends one request and gives the reply's line and what follows it.
pub async fn ask(
    socket: &Path,
    request: &LocalRequest,
    timeout: Duration,
) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let who = format!("the engine of bridges web on {}", socket.display());
    let exchange = async {
        let mut stream = UnixStream::connect(socket).await?;
        let mut line = serde_json::to_vec(request).map_err(std::io::Error::other)?;
        line.push(b'\n');
        stream.write_all(&line).await?;
        let mut reader = BufReader::new(stream);
        let mut head = Vec::new();
        reader.read_until(b'\n', &mut head).await?;
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).await?;
        Ok::<_, std::io::Error>((head, rest))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(Ok((head, rest))) if !head.is_empty() => Ok((head, rest)),
        Ok(Ok(_)) => Err(CliError::environment(format!("{who} did not answer")).into()),
        Ok(Err(e)) => Err(CliError::environment(format!("reaching {who}: {e}")).into()),
        Err(_) => {
            Err(CliError::environment(format!("{who} did not answer within {timeout:?}")).into())
        }
    }
}

/// The reply line as `T`.
pub fn parse<T: serde::de::DeserializeOwned>(head: &[u8], what: &str) -> anyhow::Result<T> {
    serde_json::from_slice(head).map_err(|e| {
        CliError::environment(format!("the page's engine sent something that is not {what}: {e}"))
            .into()
    })
}

/// Convenience for the remote's two request kinds.
pub async fn command(
    socket: &Path,
    envelope: &CommandEnvelope,
    timeout: Duration,
) -> anyhow::Result<CommandResult> {
    let (head, _) = ask(socket, &LocalRequest::Cmd { envelope: envelope.clone() }, timeout).await?;
    parse(&head, "a command result")
}

pub async fn cli(
    socket: &Path,
    request: &CliRequest,
    timeout: Duration,
) -> anyhow::Result<CliReply> {
    let (head, _) = ask(socket, &LocalRequest::Cli { request: request.clone() }, timeout).await?;
    parse(&head, "a command line's output")
}
