//! A lab for the NATS tests: a nats-server of its own, an LA's data folder
//! seeded as a user would (the demo's files through `bridges import`), and
//! `bridges serve` and `bridges-worker serve` as child processes; plus the
//! async helpers the tests share (request/reply as JSON, a stream read back
//! message by message, validation against schemas/json).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use async_nats::jetstream;
use bridges_engine::log::{EventLog, LogConfig, Position, RecordedEvent};
use serde_json::Value;

use crate::nats::{NatsServer, Service};
use crate::{binary, run, workspace_root};

/// The LA of the lab (Hillingdon).
pub const LA: u16 = 312;
/// When the lab's intake happened and its runs run (a Monday of term).
pub const AT: &str = "2026-11-23T09:00:00Z";

/// One LA on one NATS.
#[derive(Debug)]
pub struct Lab {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    pub config: PathBuf,
    pub nats: NatsServer,
}

impl Lab {
    /// A server (with `nats_extra` configuration) and an LA seeded with the
    /// demo's `schools` schools, `practitioners` and `requests`.
    pub fn new(nats_extra: &str, schools: usize, practitioners: usize, requests: usize) -> Lab {
        let (dir, config, data) = seeded(LA, schools, practitioners, requests);
        let nats = NatsServer::start_with(nats_extra);
        Lab { dir, data, config, nats }
    }

    /// `bridges serve` on the lab's folder, with `extra` arguments.
    pub fn engine(&self, name: &str, extra: &[&str]) -> Service {
        let cmd = serve(&self.data, &self.config, &self.nats.url(), extra);
        Service::spawn(name, cmd, self.dir.path().join(format!("{name}.log")))
    }

    /// As `engine`, with `env` variables set on it (its credentials, say).
    pub fn engine_env(&self, name: &str, extra: &[&str], env: &[(&str, &str)]) -> Service {
        let mut cmd = serve(&self.data, &self.config, &self.nats.url(), extra);
        cmd.envs(env.iter().copied());
        Service::spawn(name, cmd, self.dir.path().join(format!("{name}.log")))
    }

    /// `bridges-worker serve` named `name`, with `extra` arguments.
    pub fn worker(&self, name: &str, extra: &[&str]) -> Service {
        let mut cmd = Command::new(binary("bridges-worker"));
        cmd.arg("serve").arg("--nats-url").arg(self.nats.url()).arg("--name").arg(name).args(extra);
        Service::spawn(name, cmd, self.dir.path().join(format!("{name}.log")))
    }

    /// Every event of the lab's log (no engine may hold the folder).
    pub fn log_events(&self) -> Vec<RecordedEvent> {
        read_log(&self.data)
    }
}

/// One more LA for a server shared by several (`nats_many`): its own
/// folder, configuration (`la_code` set) and log, seeded as `Lab`'s.
#[derive(Debug)]
pub struct Partnership {
    pub la: u16,
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    pub config: PathBuf,
}

impl Partnership {
    /// LA `la` seeded with the demo's `schools`, `practitioners` and `requests`.
    pub fn new(la: u16, schools: usize, practitioners: usize, requests: usize) -> Partnership {
        let (dir, config, data) = seeded(la, schools, practitioners, requests);
        Partnership { la, dir, data, config }
    }

    /// `bridges serve` of this LA on the server at `url`, with `extra` arguments.
    pub fn engine(&self, url: &str, extra: &[&str]) -> Service {
        let cmd = serve(&self.data, &self.config, url, extra);
        let name = format!("engine-{}", self.la);
        Service::spawn(&name, cmd, self.dir.path().join(format!("{name}.log")))
    }

    /// Every event of its log (its engine stopped).
    pub fn log_events(&self) -> Vec<RecordedEvent> {
        read_log(&self.data)
    }
}

/// A temporary folder holding LA `la`'s configuration (the demo's sizes,
/// `la_code` set) and its data folder, seeded as a user would; returns the
/// folder, the configuration's path and the data folder's.
fn seeded(
    la: u16,
    schools: usize,
    practitioners: usize,
    requests: usize,
) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), schools, practitioners, requests);
    if la != LA {
        let text = std::fs::read_to_string(&config).expect("config");
        std::fs::write(&config, text.replacen("la_code = 312", &format!("la_code = {la}"), 1))
            .expect("write config");
    }
    let data = dir.path().join("data");
    seed(dir.path(), &config, &data, la);
    (dir, config, data)
}

/// `bridges serve` on `data` with `config`, on the NATS at `url` (one URL
/// or several, comma-separated), with `extra` arguments.
fn serve(data: &Path, config: &Path, url: &str, extra: &[&str]) -> Command {
    let mut cmd = Command::new(binary("bridges"));
    cmd.arg("--data").arg(data).arg("--config").arg(config);
    cmd.arg("serve").arg("--nats-url").arg(url).args(extra);
    cmd
}

/// A `register_school` command of LA 312 (the fault tests' load on the
/// relay), as `<la>.cmd` takes it.
pub fn register_school(id: &str, urn: u32) -> Vec<u8> {
    serde_json::json!({"id": id, "actor": "broker-1", "at": "2026-11-23T10:00:00Z",
           "command": {"type": "register_school", "urn": urn, "name": format!("School {urn}"),
                       "la_code": 312, "phase": "primary", "easting": 507500, "northing": 182500}})
    .to_string()
    .into_bytes()
}

/// Sends one last command (`id`, `urn`) through `<la>.cmd` (retried while
/// the engine reconnects), then waits up to 60 s for the relay to put
/// everything up to it on `stream`.
pub async fn last_command_relayed(
    nats: &async_nats::Client,
    js: &jetstream::Context,
    stream: &str,
    id: &str,
    urn: u32,
) {
    let reply = request_retrying(nats, "bridges.312.cmd", register_school(id, urn)).await;
    assert_eq!(reply["outcome"], "applied", "{reply}");
    let head = reply["last"].as_u64().expect("a position");
    eventually(Duration::from_secs(60), "the relay catches up", || {
        let js = js.clone();
        async move { stream_count(&js, stream).await >= head }
    })
    .await;
}

/// Every event of the log in `data`.
pub fn read_log(data: &Path) -> Vec<RecordedEvent> {
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    rt.block_on(async {
        let log = EventLog::open(LogConfig::new(data)).expect("the log opens");
        let events = log.read_all(Position(1), usize::MAX).expect("read the log");
        log.close().await.expect("close");
        events
    })
}

/// The default configuration with the demo's sizes set.
pub fn write_config(dir: &Path, schools: usize, practitioners: usize, requests: usize) -> PathBuf {
    let text = std::fs::read_to_string(workspace_root().join("config/default.toml"))
        .expect("default config");
    let text = text
        .replace("schools = 100", &format!("schools = {schools}"))
        .replace("practitioners = 40", &format!("practitioners = {practitioners}"))
        .replace("requests = 80", &format!("requests = {requests}"));
    let path = dir.join("config.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// Switches the schedule of the configuration at `config` on: `days` (as
/// TOML, `["Mon"]`) at `time` in Europe/London.
pub fn schedule_on(config: &Path, days: &str, time: &str) {
    let text = std::fs::read_to_string(config).expect("the lab's config");
    let schedule = format!(
        "[schedule]\nenabled = true\ndays = {days}\ntime = \"{time}\"\ntimezone = \"Europe/London\"\n"
    );
    let start = text.find("[schedule]").expect("the config has a [schedule] section");
    let end = text[start..].find("timezone").map(|i| start + i).expect("schedule.timezone");
    let end = end + text[end..].find('\n').map_or(text.len() - end, |i| i + 1);
    let text = format!("{}{schedule}{}", &text[..start], &text[end..]);
    std::fs::write(config, text).expect("write config");
}

/// The demo's files (written by a weekly run in a folder of their own),
/// imported into `data` as a user would.
pub fn seed(dir: &Path, config: &Path, data: &Path, la: u16) {
    let scratch = dir.join("scratch");
    let out = run(Command::new(binary("bridges"))
        .arg("--data")
        .arg(&scratch)
        .arg("--config")
        .arg(config)
        .args(["weekly", "--week", "2026-W48", "--synthetic"]));
    assert!(out.status.success(), "weekly: {}", String::from_utf8_lossy(&out.stderr));
    let demo = dir.join("scratch-demo");
    let la_code = la.to_string();
    for (kind, file, extra) in [
        ("gias", "gias.csv", &["--la", la_code.as_str()][..]),
        ("inspections", "inspections.csv", &[][..]),
        ("practitioners", "practitioners.csv", &[][..]),
        ("requests", "requests.csv", &[][..]),
    ] {
        let out = run(Command::new(binary("bridges"))
            .arg("--data")
            .arg(data)
            .arg("--config")
            .arg(config)
            .args(["--at", "2026-11-23T08:00:00Z", "--as", "import-1", "import", kind])
            .arg(demo.join(file))
            .args(extra));
        assert!(out.status.success(), "import {kind}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// A client of the lab's server.
pub async fn client(url: &str) -> async_nats::Client {
    async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(url)
        .await
        .expect("the test connects to NATS")
}

/// Sends `body` to `subject` and reads the reply as JSON (retried for a
/// few seconds while the server says nobody answers yet).
pub async fn request(client: &async_nats::Client, subject: &str, body: Vec<u8>) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let sent = client.request(subject.to_owned(), body.clone().into());
        let reply = tokio::time::timeout(Duration::from_secs(30), sent)
            .await
            .unwrap_or_else(|_| panic!("no reply on {subject} within 30 s"));
        match reply {
            Ok(reply) => {
                return serde_json::from_slice(&reply.payload).unwrap_or_else(|e| {
                    panic!(
                        "the reply on {subject} is not JSON: {e}: {}",
                        String::from_utf8_lossy(&reply.payload)
                    )
                });
            }
            Err(e)
                if e.kind() == async_nats::RequestErrorKind::NoResponders
                    && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("request on {subject}: {e}"),
        }
    }
}

/// As `request`, retried while nobody answers (a service reconnecting
/// after the server restarted), for up to 60 s.
pub async fn request_retrying(client: &async_nats::Client, subject: &str, body: Vec<u8>) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let sent = client.request(subject.to_owned(), body.clone().into());
        match tokio::time::timeout(Duration::from_secs(10), sent).await {
            Ok(Ok(reply)) => {
                return serde_json::from_slice(&reply.payload)
                    .unwrap_or_else(|e| panic!("the reply on {subject} is not JSON: {e}"));
            }
            Ok(Err(e)) if tokio::time::Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(Err(e)) => panic!("request on {subject}: {e}"),
            Err(_) => panic!("no reply on {subject} within 10 s"),
        }
    }
}

/// One stored message of a stream.
#[derive(Debug, Clone)]
pub struct Stored {
    pub sequence: u64,
    pub subject: String,
    pub msg_id: String,
    pub payload: Value,
}

/// Every message of `stream`, in stream order (read one by one).
pub async fn stream_messages(js: &jetstream::Context, stream: &str) -> Vec<Stored> {
    let mut s = js.get_stream(stream).await.unwrap_or_else(|e| panic!("stream {stream}: {e}"));
    let state = s.info().await.expect("stream info").state.clone();
    let mut out = Vec::new();
    for seq in state.first_sequence.max(1)..=state.last_sequence {
        let m = s.get_raw_message(seq).await.unwrap_or_else(|e| panic!("{stream} #{seq}: {e}"));
        let msg_id =
            m.headers.get("Nats-Msg-Id").map(|v| v.as_str().to_owned()).unwrap_or_default();
        let payload = serde_json::from_slice(&m.payload)
            .unwrap_or_else(|e| panic!("{stream} #{seq} is not JSON: {e}"));
        out.push(Stored { sequence: seq, subject: m.subject.to_string(), msg_id, payload });
    }
    out
}

/// Every event of `events` (the log) on `stream` exactly once and in log
/// order, msg id = event id.
pub async fn assert_exactly_once(js: &jetstream::Context, stream: &str, events: &[RecordedEvent]) {
    let stored = stream_messages(js, stream).await;
    let mut per_id: std::collections::BTreeMap<&str, usize> = Default::default();
    for m in &stored {
        *per_id.entry(m.msg_id.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = per_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "published more than once: {twice:?}");
    assert_eq!(stored.len(), events.len(), "every event is on the stream");
    for (m, e) in stored.iter().zip(events) {
        assert_eq!(
            m.msg_id,
            e.event_id.to_string(),
            "stream #{} is position {}",
            m.sequence,
            e.position.0
        );
    }
}

/// The number of messages `stream` holds.
pub async fn stream_count(js: &jetstream::Context, stream: &str) -> u64 {
    match js.get_stream(stream).await {
        Ok(mut s) => s.info().await.map(|i| i.state.messages).unwrap_or(0),
        Err(_) => 0,
    }
}

/// Waits until `check` holds, polling every 100 ms; panics with `what` after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "not within {timeout:?}: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Validates `(schema, message)` pairs against schemas/json with the
/// Python validator (scripts/validate_messages.py); returns the counts per
/// schema it printed. Fails loudly when Python's jsonschema is missing.
pub fn validate(messages: &[(&str, Value)]) -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("messages.ndjson");
    let mut text = String::new();
    for (schema, message) in messages {
        text.push_str(&serde_json::json!({"schema": schema, "message": message}).to_string());
        text.push('\n');
    }
    std::fs::write(&file, text).expect("write messages");
    let out = run(Command::new(venv_python())
        .arg(workspace_root().join("scripts/validate_messages.py"))
        .arg(workspace_root().join("schemas/json"))
        .arg(&file));
    assert!(
        out.status.success(),
        "validation failed (exit {:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the validator prints counts")
}

/// The Python of the tests' venv (`BRIDGES_VENV`, by default
/// `~/.cache/bridges-venv`), which scripts/setup makes with jsonschema,
/// nats-py and aiosmtpd; fails loudly when it or a package is missing.
pub fn venv_python() -> std::path::PathBuf {
    let venv =
        std::env::var_os("BRIDGES_VENV").map(std::path::PathBuf::from).unwrap_or_else(|| {
            std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/bridges-venv")
        });
    let python = venv.join("bin/python3");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup (it makes the tests' venv)",
        python.display()
    );
    let out = run(Command::new(&python).args(["-c", "import jsonschema, nats, aiosmtpd"]));
    assert!(
        out.status.success(),
        "the tests' venv {} lacks jsonschema, nats-py or aiosmtpd: run scripts/setup ({})",
        venv.display(),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    python
}

/// Runs scripts/outside_consumer.py (nats-py) against LA `la` on the
/// server at `url`: it reads the events, assignments and plans streams
/// through consumers of its own and validates every message against
/// schemas/json; returns the counts per subject kind it printed.
pub fn outside_consumer(url: &str, la: u16) -> Value {
    let out = run(Command::new(venv_python())
        .arg(workspace_root().join("scripts/outside_consumer.py"))
        .args(["--url", url, "--la", &la.to_string()])
        .arg("--schemas")
        .arg(workspace_root().join("schemas/json")));
    assert!(
        out.status.success(),
        "the outside consumer failed (exit {:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the outside consumer prints counts")
}

/// Rounds of a fault loop: `ci` by default and under CI, `slow` with
/// `BRIDGES_SLOW` set (or the number it gives, when it is one above 1).
pub fn rounds(ci: usize, slow: usize) -> usize {
    match std::env::var("BRIDGES_SLOW") {
        Ok(v) => v.parse().ok().filter(|n| *n > 1).unwrap_or(slow),
        Err(_) => ci,
    }
}
