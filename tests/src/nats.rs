//! A real `nats-server` for a test (Debian's, installed by scripts/setup):
//! on a free loopback port, JetStream in a temporary folder, killed when
//! dropped. It can be killed and started again on the same port and store
//! (the fault tests), and given extra configuration (a smaller
//! `max_payload`, the users and permissions of
//! config/nats-server.example.conf). Also the services under test as child
//! processes (`Service`): SIGTERM, SIGKILL, killed when dropped, their
//! stderr kept in a file to read.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The nats-server binary: Debian's, else the one on PATH.
pub fn server_binary() -> PathBuf {
    let debian = PathBuf::from("/usr/sbin/nats-server");
    if debian.exists() { debian } else { PathBuf::from("nats-server") }
}

/// A port nothing listens on now (the OS's pick).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// One nats-server process with JetStream.
#[derive(Debug)]
pub struct NatsServer {
    pub port: u16,
    dir: tempfile::TempDir,
    config: PathBuf,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a server with JetStream and nothing else configured.
    pub fn start() -> NatsServer {
        NatsServer::start_with("")
    }

    /// Starts a server with `extra` lines of configuration.
    pub fn start_with(extra: &str) -> NatsServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let store = dir.path().join("jetstream");
        let config = dir.path().join("nats.conf");
        let text = format!(
            "listen: 127.0.0.1:{port}\njetstream {{\n  store_dir: \"{}\"\n}}\n{extra}\n",
            store.display()
        );
        std::fs::write(&config, text).expect("write the server's config");
        let mut server = NatsServer { port, dir, config, child: None };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The server's log file (appended to across restarts).
    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("nats.log")
    }

    /// Starts the server again (same port, same store) after `kill`.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("the server's log");
        let child = Command::new(server_binary())
            .arg("-c")
            .arg(&self.config)
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("starting {} (scripts/setup installs it): {e}", server_binary().display())
            });
        self.child = Some(child);
        let log = self.log_path();
        wait_for_port(self.port, self.child.as_mut().expect("child"), &log);
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn wait_for_port(port: u16, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            panic!("nats-server exited ({status}) before listening:\n{text}");
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        assert!(Instant::now() < deadline, "nats-server did not listen on {port} within 20 s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A service under test as a child process, its stderr kept in a file.
#[derive(Debug)]
pub struct Service {
    pub name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Service {
    /// Spawns `command` with stderr (and stdout) to `log`.
    pub fn spawn(name: &str, mut command: Command, log: PathBuf) -> Service {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("the service's log");
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        Service { name: name.to_owned(), child: Some(child), log }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    /// Waits until its log holds `needle` (panics with the log after `timeout`).
    pub fn wait_for_log(&mut self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.log().contains(needle) {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!(
                    "{} exited ({status}) before logging {needle:?}:\n{}",
                    self.name,
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} did not log {needle:?} within {timeout:?}:\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// SIGTERM, then waits for it to exit; returns whether it exited 0.
    pub fn terminate(&mut self, timeout: Duration) -> bool {
        let Some(mut child) = self.child.take() else { return false };
        let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {}", child.id());
        let deadline = Instant::now() + timeout;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "{} did not stop within {timeout:?} of SIGTERM:\n{}",
                        self.name,
                        self.log()
                    );
                }
            }
        }
    }

    /// Waits up to `timeout` for it to exit by itself; its status, or
    /// `None` if it still runs (it is left running).
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL at once, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A JetStream cluster of nats-server processes on loopback (the
/// three-node fault test): each node a `NatsServer` with its own port,
/// store and log, named `n0`, `n1`, …, routed to every other node.
#[derive(Debug)]
pub struct NatsCluster {
    pub nodes: Vec<NatsServer>,
}

impl NatsCluster {
    /// Starts `n` nodes and waits until JetStream has a meta leader.
    pub fn start(n: usize) -> NatsCluster {
        let routes: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let list = routes
            .iter()
            .map(|p| format!("nats-route://127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(", ");
        let nodes = routes
            .iter()
            .enumerate()
            .map(|(i, port)| {
                NatsServer::start_with(&format!(
                    "server_name: n{i}\ncluster {{\n  name: bridges\n  listen: 127.0.0.1:{port}\n  routes: [{list}]\n}}\n"
                ))
            })
            .collect();
        let cluster = NatsCluster { nodes };
        cluster.wait_for_jetstream();
        cluster
    }

    /// Every node's URL, comma-separated (as `--nats-url` takes it).
    pub fn urls(&self) -> String {
        self.nodes.iter().map(NatsServer::url).collect::<Vec<_>>().join(",")
    }

    /// The node named `name` (`n0`, …).
    pub fn node(&mut self, name: &str) -> &mut NatsServer {
        let i: usize = name.trim_start_matches('n').parse().expect("a node name n<i>");
        &mut self.nodes[i]
    }

    /// Waits (up to 60 s) until every running node answers a JetStream
    /// account query, that is until the cluster has elected its meta leader.
    pub fn wait_for_jetstream(&self) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
        let urls: Vec<String> =
            self.nodes.iter().filter(|n| n.child.is_some()).map(NatsServer::url).collect();
        rt.block_on(async {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
            for url in urls {
                let client = async_nats::connect(&url).await.expect("connect to a node");
                loop {
                    // The account's JetStream info, read raw: async-nats's
                    // typed reply does not parse 2.9.10's.
                    let reply = client.request("$JS.API.INFO", "".into()).await;
                    let error = match reply.map(|m| {
                        serde_json::from_slice::<serde_json::Value>(&m.payload).unwrap_or_default()
                    }) {
                        Ok(v) if v.get("error").is_none() && v.get("memory").is_some() => break,
                        Ok(v) => v.to_string(),
                        Err(e) => e.to_string(),
                    };
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "JetStream on {url} did not become ready within 60 s: {error}"
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        });
    }
}
