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

/// One LA's folder and its web page.
pub struct Desk {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    pub config: PathBuf,
    pub url: String,
    pub broker: Login,
    pub viewer: Login,
    pub coordinator: Login,
    pub web: Service,
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
        let port = free_port();
        let mut cmd = Command::new(binary("bridges"));
        cmd.arg("--data").arg(&data).arg("--config").arg(&config);
        cmd.args(["web", "--listen", &format!("127.0.0.1:{port}"), "--now", NOW]);
        let mut web = Service::spawn("web", cmd, dir.path().join("web.log"));
        web.wait_for_log("web serving", Duration::from_secs(30));
        let url = format!("http://127.0.0.1:{port}");
        Desk { dir, data, config, url, broker, viewer, coordinator, web }
    }

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
