//! A real browser for a test: Debian's `chromium` driven through its
//! `chromedriver` (package chromium-driver, installed by scripts/setup) over
//! WebDriver, from Rust with fantoccini. Headless, with `--no-sandbox`
//! (tests run as root), a profile in a temporary folder; the driver listens
//! on a free loopback port and is killed when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::nats::free_port;

/// Debian's chromedriver, when installed.
pub fn chromedriver() -> Option<PathBuf> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// A chromedriver process and one browser session on it.
pub struct Browser {
    driver: Child,
    _profile: tempfile::TempDir,
    pub client: fantoccini::Client,
}

impl Browser {
    /// Starts chromedriver and a headless chromium session, with
    /// JavaScript on or off. None when chromedriver is not installed (a
    /// test then fails under CI and is skipped elsewhere: its caller
    /// decides).
    pub async fn start(javascript: bool) -> Option<Browser> {
        let driver_binary = chromedriver()?;
        let port = free_port();
        let mut driver = Command::new(driver_binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = driver.try_wait() {
                panic!("chromedriver exited ({status}) before listening");
            }
            assert!(Instant::now() < deadline, "chromedriver did not listen within 20 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().expect("tempdir");
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--window-size=1200,1600".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if !javascript {
            args.push("--blink-settings=scriptEnabled=false".to_owned());
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "chrome".into());
        caps.insert("goog:chromeOptions".into(), serde_json::json!({ "args": args }));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = fantoccini::ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a chromium session through chromedriver");
        Some(Browser { driver, _profile: profile, client })
    }

    /// Ends the session and stops the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
