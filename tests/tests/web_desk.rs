//! The broker's desk (`bridges web`) in a real browser (Debian's chromium
//! through chromedriver, fantoccini) and over plain HTTP, each test on a
//! seeded LA of its own:
//! - a broker signs in with the second factor, fails to raise a request
//!   (the form's own check, then the engine's rejection, each shown next to
//!   its field with the values kept), raises it, sees it on its page with
//!   the ranked practitioners, proposes one, and sees the dashboard change;
//!   a viewer signs in and cannot raise one. Once with JavaScript on
//!   (axe-core run on every page, in its error states too: no violation of
//!   the WCAG 2.2 A and AA rules), once with it off, once by keyboard alone
//!   (the sign-in and the request typed and sent with keys only).
//!   Screenshots of every page go to `target/tmp/web-screenshots/`.
//! - The server refuses what the page would not offer: a viewer's or a
//!   coordinator's raise and proposal posted directly (403), a form without
//!   its CSRF token or with another (403), a write without a session (403),
//!   the sixth sign-in within the window after five wrong passwords (429,
//!   even with the right one); nothing of it is written.

use std::path::PathBuf;
use std::time::Duration;

use bridges_tests::browser::Browser;
use bridges_tests::web::{Desk, Http, Login, csrf};
use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};

const AXE: &str = include_str!("../vendor/axe-core/axe.min.js");

/// Where the screenshots of a journey go.
fn shots(journey: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-screenshots").join(journey);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the screenshots folder");
    dir
}

/// A browser session on one desk, keeping a screenshot of each page.
struct Journey {
    client: Client,
    url: String,
    shots: PathBuf,
    taken: usize,
    /// axe-core runs on each page (JavaScript on).
    axe: bool,
}

impl Journey {
    async fn goto(&mut self, path: &str) {
        self.client.goto(&format!("{}{path}", self.url)).await.expect("navigate");
    }

    async fn path(&self) -> String {
        self.client.current_url().await.expect("url").path().to_owned()
    }

    async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} on {}: {e}", self.url))
            .text()
            .await
            .expect("text")
    }

    async fn value(&self, css: &str) -> String {
        let e = self.client.find(Locator::Css(css)).await.expect(css);
        e.prop("value").await.expect("value").unwrap_or_default()
    }

    async fn has(&self, css: &str) -> bool {
        !self.client.find_all(Locator::Css(css)).await.expect("find").is_empty()
    }

    async fn fill(&self, css: &str, text: &str) {
        let e = self.client.find(Locator::Css(css)).await.expect(css);
        e.clear().await.expect("clear");
        e.send_keys(text).await.expect("type");
    }

    async fn click(&self, css: &str) {
        self.client.find(Locator::Css(css)).await.expect(css).click().await.expect("click");
    }

    /// A screenshot named `name`, then axe-core's check of the page.
    async fn page(&mut self, name: &str) {
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

/// axe-core's violations of the WCAG 2.0 to 2.2 A and AA rules on the page.
async fn axe(client: &Client) -> Vec<String> {
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

async fn sign_in(j: &mut Journey, login: &Login, keyboard: bool) {
    j.goto("/").await;
    assert_eq!(j.path().await, "/login", "a page without a session asks to sign in");
    j.page("sign-in").await;
    enter(j, "user", &login.user, keyboard).await;
    enter(j, "password", &login.password, keyboard).await;
    enter(j, "code", &login.code(), keyboard).await;
    submit(j, keyboard).await;
    assert_eq!(j.path().await, "/", "signed in, the dashboard");
    assert_eq!(j.text("h1").await, "Dashboard");
}

/// Types `text` into the field `id`: by keyboard, Tab until it has the
/// focus, then keys; otherwise through the element.
async fn enter(j: &Journey, id: &str, text: &str, keyboard: bool) {
    match keyboard {
        true => {
            tab_to(j, id).await;
            keys(j, text).await;
        }
        false => j.fill(&format!("#{id}"), text).await,
    }
}

/// Sends the form: Enter in the field that has the focus, or a click;
/// returns once the next page has replaced this one.
async fn submit(j: &Journey, keyboard: bool) {
    let old = j.client.find(Locator::Css("html")).await.expect("the page");
    match keyboard {
        true => keys(j, &Key::Enter.to_string()).await,
        false => j.click("main form button.govuk-button").await,
    }
    replaced(old).await;
}

/// Waits until `old` (a page's root element) is gone: the next page is in.
async fn replaced(old: fantoccini::elements::Element) {
    for _ in 0..200 {
        if old.tag_name().await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page was not replaced within 10 s");
}

/// Clicks `css`, which leads to another page, and waits for it.
async fn follow(j: &Journey, css: &str) {
    let old = j.client.find(Locator::Css("html")).await.expect("the page");
    j.click(css).await;
    replaced(old).await;
}

/// Presses the keys of `text` on the keyboard (to whatever has the focus).
async fn keys(j: &Journey, text: &str) {
    let mut actions = KeyActions::new("keyboard".to_owned());
    for c in text.chars() {
        actions = actions.then(KeyAction::Down { value: c }).then(KeyAction::Up { value: c });
    }
    j.client.perform_actions(actions).await.expect("keys");
}

/// Presses Tab until the element with id `id` has the focus.
async fn tab_to(j: &Journey, id: &str) {
    for _ in 0..80 {
        let focused = j.client.active_element().await.expect("focus");
        if focused.attr("id").await.expect("id").as_deref() == Some(id) {
            return;
        }
        keys(j, &Key::Tab.to_string()).await;
    }
    panic!("Tab never reached #{id}");
}

async fn open_total(j: &Journey) -> usize {
    j.text("#open-total").await.trim().parse().expect("a count")
}

fn journey(name: &str, javascript: bool, keyboard: bool) {
    let desk = Desk::start(30, 12, 20);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let Some(browser) = Browser::start(javascript).await else {
            assert!(std::env::var_os("CI").is_none(), "chromedriver is missing under CI");
            eprintln!("chromedriver not installed: skipped");
            return;
        };
        let mut j = Journey {
            client: browser.client.clone(),
            url: desk.url.clone(),
            shots: shots(name),
            taken: 0,
            axe: javascript,
        };
        sign_in(&mut j, &desk.broker, keyboard).await;
        j.page("dashboard").await;
        let before = open_total(&j).await;

        // A school and a need that fits it, from an open request some
        // practitioner could take now (its page offers to propose them).
        j.goto("/requests").await;
        j.page("requests").await;
        let mut rows = Vec::new();
        for row in j.client.find_all(Locator::Css("main tbody tr")).await.expect("rows") {
            let mut texts = Vec::new();
            for c in row.find_all(Locator::Css("td")).await.expect("cells") {
                texts.push(c.text().await.expect("text"));
            }
            rows.push(texts);
        }
        let mut pick = None;
        for texts in rows.iter().filter(|t| t.len() >= 3) {
            j.goto(&format!("/requests/{}", texts[0])).await;
            if j.has("button[id^=propose-]").await {
                pick = Some((texts[1].clone(), texts[2].clone()));
                break;
            }
        }
        let (school, need) = pick.expect("an open request someone could take");
        let urn = school.rsplit('(').next().expect("(urn)").trim_end_matches(')').to_owned();
        j.goto("/requests/new").await;
        j.page("raise").await;
        let mut days = Vec::new();
        for e in j.client.find_all(Locator::Css("input[id^=days-]")).await.expect("days") {
            days.push(e.attr("id").await.expect("id").expect("an id"));
        }
        assert!(!days.is_empty(), "the half-terms not ended are offered");
        // The form's own check: no URN.
        enter(&j, "request", "web-1", keyboard).await;
        submit(&j, keyboard).await;
        assert!(j.text(".govuk-error-summary").await.contains("Enter the school's URN"));
        assert_eq!(j.value("#request").await, "web-1", "the value is kept");
        assert!(j.client.title().await.expect("title").starts_with("Error: "));
        j.page("raise-error-urn").await;
        // The engine's rejection: no designation.
        enter(&j, "urn", &urn, keyboard).await;
        if keyboard {
            // A select takes the first letters of an option's text.
            tab_to(&j, "need").await;
            keys(&j, &need.replace('_', " ")).await;
        } else {
            j.click(&format!("#need option[value='{need}']")).await;
        }
        // A day in each half-term left.
        for id in &days {
            enter(&j, id, "1", keyboard).await;
        }
        submit(&j, keyboard).await;
        let summary = j.text(".govuk-error-summary").await;
        assert!(summary.contains("At least one title"), "{summary}");
        assert!(j.has("#designations-error").await, "the error sits by the designations");
        assert_eq!(j.value("#urn").await, urn, "the URN is kept");
        assert_eq!(j.value("#need").await, need, "the need is kept");
        j.page("raise-error-designations").await;
        // Now it goes in, any designation accepted.
        let boxes =
            j.client.find_all(Locator::Css("input[name=designations]")).await.expect("boxes");
        for b in boxes {
            let id = b.attr("id").await.expect("id").expect("an id");
            if keyboard {
                tab_to(&j, &id).await;
                keys(&j, " ").await;
            } else {
                j.click(&format!("#{id}")).await;
            }
        }
        enter(&j, "purchase_order", "PO-7", keyboard).await;
        submit(&j, keyboard).await;
        assert_eq!(j.path().await, "/requests/web-1");
        assert_eq!(j.text("h1").await, "Request web-1");
        assert!(j.text(".bridges-history").await.contains("SupportRequested"));
        j.page("request").await;

        // Propose the first ranked practitioner.
        assert!(j.has("button[id^=propose-]").await, "someone could take it");
        if keyboard {
            let id = j
                .client
                .find(Locator::Css("button[id^=propose-]"))
                .await
                .expect("a propose button")
                .attr("id")
                .await
                .expect("id")
                .expect("an id");
            let old = j.client.find(Locator::Css("html")).await.expect("the page");
            tab_to(&j, &id).await;
            keys(&j, &Key::Enter.to_string()).await;
            replaced(old).await;
        } else {
            follow(&j, "button[id^=propose-]").await;
        }
        assert_eq!(j.path().await, "/requests/web-1");
        assert!(j.text(".bridges-history").await.contains("AssignmentProposed"));
        j.page("request-proposed").await;

        j.goto("/").await;
        assert_eq!(open_total(&j).await, before + 1, "the dashboard counts the new request");
        assert!(j.text("main").await.contains("web-1"), "the proposal awaits an answer");
        j.page("dashboard-after").await;

        // A viewer reads, and cannot raise.
        follow(&j, "#navigation form button").await;
        assert_eq!(j.path().await, "/login");
        sign_in(&mut j, &desk.viewer, keyboard).await;
        assert!(!j.has("a[href='/requests/new']").await, "no raise button for a viewer");
        j.goto("/requests/new").await;
        assert_eq!(j.text("h1").await, "You cannot do this");
        j.page("viewer-refused").await;
        j.goto("/accessibility").await;
        j.page("accessibility").await;
        browser.close().await;
    });
}

#[test]
fn a_broker_raises_and_proposes_and_a_viewer_cannot_with_javascript() {
    journey("javascript", true, false);
}

#[test]
fn the_same_journey_with_javascript_off() {
    journey("no-javascript", false, false);
}

#[test]
fn the_same_journey_by_keyboard_alone() {
    journey("keyboard", true, true);
}

#[test]
fn the_server_refuses_what_a_role_or_a_form_may_not_do() {
    let desk = Desk::start(20, 8, 10);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        // No session: a write is refused, a page asks to sign in.
        let mut anonymous = Http::new(&desk.url);
        let head_before = anonymous.get("/health").await.body;
        let raise = [("csrf", "x"), ("request", "web-x"), ("urn", "100000")];
        assert_eq!(anonymous.post("/requests", &raise).await.status, 403);
        assert_eq!(
            anonymous.get("/requests").await.location.as_deref(),
            Some("/login?next=/requests")
        );

        // A viewer's and a coordinator's writes, with their own good tokens.
        for login in [&desk.viewer, &desk.coordinator] {
            let mut http = Http::new(&desk.url);
            assert_eq!(http.sign_in(login).await.status, 303, "{} signs in", login.user);
            let token = csrf(&http.get("/").await.body);
            let fields = raise_fields(&token, "web-denied");
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(http.post("/requests", &fields).await.status, 403, "{} raises", login.user);
            let propose =
                [("csrf", token.as_str()), ("practitioner", "p-1"), ("days-2026-AU2", "1")];
            let reply = http.post("/requests/web-denied/propose", &propose).await;
            assert_eq!(reply.status, 403, "{} proposes", login.user);
            assert_eq!(http.get("/requests/new").await.status, 403);
        }

        // A broker's form without its token, or with another's.
        let mut broker = Http::new(&desk.url);
        assert_eq!(broker.sign_in(&desk.broker).await.status, 303);
        let token = csrf(&broker.get("/").await.body);
        let good = raise_fields(&token, "web-csrf");
        for bad in [None, Some("0".repeat(64))] {
            let fields: Vec<(&str, &str)> = good
                .iter()
                .filter(|(k, _)| *k != "csrf")
                .map(|(k, v)| (*k, v.as_str()))
                .chain(bad.as_deref().map(|t| ("csrf", t)))
                .collect();
            assert_eq!(broker.post("/requests", &fields).await.status, 403, "token {bad:?}");
        }
        assert_eq!(broker.get("/requests/web-csrf").await.status, 404, "nothing was raised");
        assert_eq!(anonymous.get("/health").await.body, head_before, "the log's head is unchanged");

        // Five wrong passwords, then even the right one waits.
        let mut guesser = Http::new(&desk.url);
        for _ in 0..5 {
            let reply = guesser.sign_in_with(&desk.viewer, "not the password", "000000").await;
            assert_eq!(reply.status, 401);
        }
        let reply = guesser.sign_in(&desk.viewer).await;
        assert_eq!(reply.status, 429, "rate-limited");
        assert!(reply.body.contains("Too many attempts"), "{}", reply.body);
    });
    // The log holds no request of those refused writes.
    let mut desk = desk;
    let stopped = desk.web.terminate(Duration::from_secs(30));
    assert!(stopped, "the page stops on SIGTERM and exits 0:\n{}", desk.web.log());
    let out = run_after(&desk.data, &desk.config);
    assert!(!out.contains("web-denied") && !out.contains("web-csrf"), "{out}");
}

fn raise_fields(token: &str, id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", token.to_owned()),
        ("request", id.to_owned()),
        ("urn", "100000".to_owned()),
        ("need", "maths".to_owned()),
        ("designations", "SLE".to_owned()),
        ("tier", "2".to_owned()),
        ("days-2026-AU2", "1".to_owned()),
        ("funding", "la_core".to_owned()),
    ]
}

/// `bridges request list` on the folder once the page has stopped.
fn run_after(data: &std::path::Path, config: &std::path::Path) -> String {
    for _ in 0..50 {
        let out = bridges_tests::run(
            std::process::Command::new(bridges_tests::binary("bridges"))
                .arg("--data")
                .arg(data)
                .arg("--config")
                .arg(config)
                .args(["request", "list"]),
        );
        if out.status.success() {
            return String::from_utf8_lossy(&out.stdout).into_owned();
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the folder stayed locked after the page stopped");
}
