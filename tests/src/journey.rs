//! A browser session on one desk for the web tests: the page's elements
//! read and filled through WebDriver (fantoccini), a screenshot of each
//! page kept, and axe-core (vendored in `tests/vendor/`, not the product)
//! run on each page when JavaScript is on.

use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::{Client, Locator};

const AXE: &str = include_str!("../vendor/axe-core/axe.min.js");

/// The folder of a journey's screenshots under `tmp` (the test's
/// `CARGO_TARGET_TMPDIR`), emptied.
pub fn shots(tmp: &Path, journey: &str) -> PathBuf {
    let dir = tmp.join("web-screenshots").join(journey);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the screenshots folder");
    dir
}

/// A browser session on one desk, keeping a screenshot of each page.
pub struct Journey {
    pub client: Client,
    pub url: String,
    pub shots: PathBuf,
    pub taken: usize,
    /// axe-core runs on each page (JavaScript on).
    pub axe: bool,
}

impl Journey {
    pub fn new(client: Client, url: &str, shots: PathBuf, axe: bool) -> Journey {
        Journey { client, url: url.to_owned(), shots, taken: 0, axe }
    }

    pub async fn goto(&mut self, path: &str) {
        self.client.goto(&format!("{}{path}", self.url)).await.expect("navigate");
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.expect("url").path().to_owned()
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} on {}: {e}", self.url))
            .text()
            .await
            .expect("text")
    }

    pub async fn value(&self, css: &str) -> String {
        let e = self.client.find(Locator::Css(css)).await.expect(css);
        e.prop("value").await.expect("value").unwrap_or_default()
    }

    pub async fn has(&self, css: &str) -> bool {
        !self.client.find_all(Locator::Css(css)).await.expect("find").is_empty()
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let e = self.client.find(Locator::Css(css)).await.expect(css);
        e.clear().await.expect("clear");
        e.send_keys(text).await.expect("type");
    }

    pub async fn click(&self, css: &str) {
        self.client.find(Locator::Css(css)).await.expect(css).click().await.expect("click");
    }

    /// Clicks `css`, which leads to another page, and waits (up to `wait`)
    /// for it to replace this one.
    pub async fn follow_within(&self, css: &str, wait: Duration) {
        let old = self.client.find(Locator::Css("html")).await.expect("the page");
        self.click(css).await;
        replaced(old, wait).await;
    }

    /// As `follow_within`, waiting up to 10 s.
    pub async fn follow(&self, css: &str) {
        self.follow_within(css, Duration::from_secs(10)).await;
    }

    /// A screenshot named `name`, then axe-core's check of the page.
    pub async fn page(&mut self, name: &str) {
        self.taken += 1;
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(self.shots.join(format!("{:02}-{name}.png", self.taken)), png)
            .expect("keep the screenshot");
        if self.axe {
            let violations = axe(&self.client).await;
            assert!(violations.is_empty(), "axe on {name}: {violations:#?}");
        }
    }
}

/// Waits until `old` (a page's root element) is gone: the next page is in.
pub async fn replaced(old: fantoccini::elements::Element, wait: Duration) {
    let deadline = std::time::Instant::now() + wait;
    while old.tag_name().await.is_ok() {
        assert!(std::time::Instant::now() < deadline, "the page was not replaced within {wait:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// axe-core's violations of the WCAG 2.0 to 2.2 A and AA rules on the page.
pub async fn axe(client: &Client) -> Vec<String> {
    client.execute(AXE, vec![]).await.expect("load axe-core");
    let script = r#"
        const done = arguments[arguments.length - 1];
        axe.run(document, { runOnly: { type: 'tag', values:
            ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'] } })
          .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' at ' +
              v.nodes.map(n => n.target.join(' ')).join(', '))))
          .catch(e => done(['axe failed: ' + e]));"#;
    let result = client.execute_async(script, vec![]).await.expect("run axe-core");
    serde_json::from_value(result).expect("a list of violations")
}
