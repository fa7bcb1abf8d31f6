//! The web tests' lab: an LA's data folder seeded as a user would (the
//! demo's files through `bridges import`), accounts made with `bridges
//! user add`, and `bridges web` on a free port as a child process; plus a
//! plain HTTP client (hyper, cookies kept, redirects not followed) for
//! what the server must refuse whatever a page shows, and the codes of the
//! second factor (totp-rs, as an authenticator app computes them).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::nats::{Service, free_port};
use crate::services::{seed, write_config};
use crate::{binary, run};

/// The moment the lab's page reads as now: a Thursday of the autumn
/// term's second half, a week and a half after the lab's intake.
pub const NOW: &str = "2026-12-03T10:00:00Z";

/// An account of the lab.
#[derive(Debug, Clone)]
pub struct Login {
    pub user: String,
    pub password: String,
    /// The second factor's secret, base32.
    pub secret: String,
}

impl Login {
    /// The code an authenticator app shows now.
    pub fn code(&self) -> String {
        let bytes = totp_rs::Secret::Encoded(self.secret.clone()).to_bytes().expect("base32");
        let totp = totp_rs::TOTP::new(
            totp_rs::Algorithm::SHA1,
            6,
            1,
            30,
            bytes,
            Some("Bridges".into()),
            self.user.clone(),
        )
        .expect("a TOTP");
        totp.generate_current().expect("the system clock")
    }
}

/// One LA's folder and its web page, and the mail server its email goes
/// to (scripts/smtp_sink.py, aiosmtpd in the tests' venv).
pub struct Desk {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    pub config: PathBuf,
    pub url: String,
    pub broker: Login,
    pub viewer: Login,
    pub coordinator: Login,
    pub web: Service,
    /// Where the mail server writes each message it takes.
    pub mail: PathBuf,
    pub smtp: Service,
    port: u16,
}

impl Desk {
    /// Seeds an LA of `schools` schools, `practitioners` and `requests`,
    /// adds a broker, a viewer and a coordinator, and starts `bridges web`.
    pub fn start(schools: usize, practitioners: usize, requests: usize) -> Desk {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = write_config(dir.path(), schools, practitioners, requests);
        let data = dir.path().join("data");
        seed(dir.path(), &config, &data, crate::services::LA);
        let add = |user: &str, role: &str, password: &str| Login {
            user: user.to_owned(),
            password: password.to_owned(),
            secret: add_user(&data, user, role, password),
        };
        let broker = add("broker-1", "broker", "a long pass phrase");
        let viewer = add("viewer-1", "viewer", "another long phrase");
        let coordinator = add("coord-1", "coordinator", "a coordinator's phrase");
        let mail = dir.path().join("mail");
        let smtp_port = free_port();
        let mut sink = Command::new(crate::services::venv_python());
        sink.arg(crate::workspace_root().join("scripts/smtp_sink.py"))
            .args(["127.0.0.1", &smtp_port.to_string()])
            .arg(&mail);
        let mut smtp = Service::spawn("smtp", sink, dir.path().join("smtp.log"));
        smtp.wait_for_log("smtp listening", Duration::from_secs(30));
        let port = free_port();
        let mut text = std::fs::read_to_string(&config).expect("the lab's config");
        text.push_str(&format!(
            "\n[mail]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {smtp_port}\nfrom = \"Bridges <bridges@la312.example.gov.uk>\"\nbase_url = \"http://127.0.0.1:{port}\"\npoll_seconds = 1\nremind_hours = 24\n"
        ));
        std::fs::write(&config, text).expect("write the config");
        let web = start_web(dir.path(), &data, &config, port, NOW);
        let url = format!("http://127.0.0.1:{port}");
        Desk { dir, data, config, url, broker, viewer, coordinator, web, mail, smtp, port }
    }

    /// Stops the page and starts it again on the same folder and port, its
    /// clock reading `now`.
    pub fn restart(&mut self, now: &str) {
        assert!(self.web.terminate(Duration::from_secs(30)), "the page stops:\n{}", self.web.log());
        self.web = start_web(self.dir.path(), &self.data, &self.config, self.port, now);
    }

    /// The messages the mail server has taken so far, in order.
    pub fn mails(&self) -> Vec<String> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(&self.mail)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        names.retain(|p| p.extension().is_some_and(|e| e == "eml"));
        names.sort();
        names.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect()
    }

    /// Waits (up to `timeout`) for a message `pick` accepts.
    pub fn wait_for_mail(&self, timeout: Duration, pick: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(m) = self.mails().into_iter().find(|m| pick(m)) {
                return m;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no such mail within {timeout:?}; {} taken; the page's log:\n{}",
                self.mails().len(),
                self.web.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

/// The path of the first link (`/links/...`) in a message, its soft line
/// breaks (quoted-printable) undone.
pub fn link_in(mail: &str) -> String {
    let text = mail.replace("=\r\n", "").replace("=\n", "");
    let at = text.find("/links/").expect("a link in the mail");
    let rest = &text[at..];
    let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
    rest[..end].to_owned()
}

fn start_web(
    dir: &std::path::Path,
    data: &std::path::Path,
    config: &std::path::Path,
    port: u16,
    now: &str,
) -> Service {
    let mut cmd = Command::new(binary("bridges"));
    cmd.arg("--data").arg(data).arg("--config").arg(config);
    cmd.args(["web", "--listen", &format!("127.0.0.1:{port}"), "--now", now]);
    // A log of each start's own, so that the wait reads this start's line.
    let log = dir.join(format!("web-{}.log", now.replace(':', "")));
    let mut web = Service::spawn("web", cmd, log);
    web.wait_for_log("web serving", Duration::from_secs(30));
    web
}

impl Desk {
    /// `bridges --data DATA --config CONFIG ARGS` (the page stopped).
    pub fn bridges(&self, args: &[&str]) -> std::process::Output {
        run(Command::new(binary("bridges"))
            .arg("--data")
            .arg(&self.data)
            .arg("--config")
            .arg(&self.config)
            .args(args))
    }
}

/// `bridges user add` with the password on stdin; gives the secret it printed.
pub fn add_user(data: &std::path::Path, user: &str, role: &str, password: &str) -> String {
    let mut child = Command::new(binary("bridges"))
        .arg("--data")
        .arg(data)
        .args(["user", "add", user, "--role", role])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bridges user add");
    writeln!(child.stdin.take().expect("stdin"), "{password}").expect("write the password");
    let out = child.wait_with_output().expect("user add ends");
    assert!(out.status.success(), "user add: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("secret: "))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no secret printed: {stdout}"))
}

/// A response: status, `Location`, body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

/// A client with a cookie jar, as one browser (no JavaScript, no redirects).
pub struct Http {
    base: String,
    client: Client<HttpConnector, Full<Bytes>>,
    cookies: BTreeMap<String, String>,
}

impl Http {
    pub fn new(base: &str) -> Http {
        let client = Client::builder(TokioExecutor::new()).build_http();
        Http { base: base.to_owned(), client, cookies: BTreeMap::new() }
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.send("GET", path, None).await
    }

    /// POSTs `fields` form-encoded.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let body: String = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send("POST", path, Some(body)).await
    }

    async fn send(&mut self, method: &str, path: &str, body: Option<String>) -> Reply {
        let mut request =
            hyper::Request::builder().method(method).uri(format!("{}{path}", self.base));
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("cookie", jar.join("; "));
        }
        if body.is_some() {
            request = request.header("content-type", "application/x-www-form-urlencoded");
        }
        let request =
            request.body(Full::new(Bytes::from(body.unwrap_or_default()))).expect("a request");
        let response = self.client.request(request).await.expect("the page answers");
        for c in response.headers().get_all("set-cookie") {
            let c = c.to_str().expect("ASCII cookie");
            if let Some((k, v)) = c.split(';').next().and_then(|kv| kv.split_once('=')) {
                match v.is_empty() {
                    true => self.cookies.remove(k),
                    false => self.cookies.insert(k.to_owned(), v.to_owned()),
                };
            }
        }
        let status = response.status().as_u16();
        let location =
            response.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_owned);
        let bytes = response.into_body().collect().await.expect("the body").to_bytes();
        Reply { status, location, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// Signs in as `login` (its current code); gives the sign-in's reply.
    pub async fn sign_in(&mut self, login: &Login) -> Reply {
        self.sign_in_with(login, &login.password, &login.code()).await
    }

    pub async fn sign_in_with(&mut self, login: &Login, password: &str, code: &str) -> Reply {
        let page = self.get("/login").await;
        let csrf = csrf(&page.body);
        self.post(
            "/login",
            &[
                ("csrf", &csrf),
                ("next", "/"),
                ("user", &login.user),
                ("password", password),
                ("code", code),
            ],
        )
        .await
    }
}

/// The first form's CSRF token in `html`.
pub fn csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a form with a CSRF token");
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').expect("the value ends")].to_owned()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
