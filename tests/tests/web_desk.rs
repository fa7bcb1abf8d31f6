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
use bridges_tests::journey::{Journey, replaced};
use bridges_tests::web::{Desk, Http, Login, csrf};
use fantoccini::Locator;
use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
use fantoccini::key::Key;

/// Where the screenshots of a journey go.
fn shots(journey: &str) -> PathBuf {
    bridges_tests::journey::shots(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")), journey)
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
    replaced(old, Duration::from_secs(10)).await;
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

/// Presses the button `id` (Tab to it and Enter, or a click) and waits
/// for the next page.
async fn press(j: &Journey, id: &str, keyboard: bool) {
    let old = j.client.find(Locator::Css("html")).await.expect("the page");
    match keyboard {
        true => {
            tab_to(j, id).await;
            keys(j, &Key::Enter.to_string()).await;
        }
        false => j.click(&format!("#{id}")).await,
    }
    replaced(old, Duration::from_secs(10)).await;
}

/// Chooses the first radio of the group `id` (Tab to it and Space, or a click).
async fn choose(j: &Journey, id: &str, keyboard: bool) {
    match keyboard {
        true => {
            tab_to(j, id).await;
            keys(j, " ").await;
        }
        false => j.click(&format!("#{id}")).await,
    }
}

/// Replaces what the field `id` holds with `text`.
async fn replace(j: &Journey, id: &str, text: &str, keyboard: bool) {
    match keyboard {
        true => {
            tab_to(j, id).await;
            let held = j.value(&format!("#{id}")).await.chars().count();
            keys(j, &Key::End.to_string()).await;
            keys(j, &Key::Backspace.to_string().repeat(held)).await;
            keys(j, text).await;
        }
        false => j.fill(&format!("#{id}"), text).await,
    }
}

/// Waits on the run's progress page (checking again by hand without
/// JavaScript) until the run's own page is shown.
async fn wait_for_run(j: &mut Journey, javascript: bool, keyboard: bool) {
    let mut seen = false;
    for _ in 0..240 {
        let path = j.path().await;
        if path.starts_with("/runs/") && !path.starts_with("/runs/progress/") {
            return;
        }
        if !seen {
            seen = true;
            // A screenshot only: the page may move on while axe-core reads it.
            let axe = std::mem::replace(&mut j.axe, false);
            j.page("run-progress").await;
            j.axe = axe;
        }
        match javascript {
            true => tokio::time::sleep(Duration::from_millis(500)).await,
            false => press(j, "check-progress", keyboard).await,
        }
    }
    panic!("the run did not finish within the wait");
}

/// The proposals of the run page still awaiting an answer.
async fn proposals_awaiting(j: &Journey) -> Vec<String> {
    let mut out = Vec::new();
    for row in j.client.find_all(Locator::Css("main table tbody tr")).await.expect("rows") {
        let text = row.text().await.expect("text");
        if let Ok(a) = row.find(Locator::Css("a[href^='/assignments/']")).await
            && text.contains("proposed")
        {
            out.push(a.text().await.expect("text"));
        }
    }
    out
}

async fn awaiting_total(j: &Journey) -> usize {
    let text = j.text("#awaiting-total").await;
    text.split_whitespace().next().and_then(|n| n.parse().ok()).expect("a count")
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
        let mut j = Journey::new(browser.client.clone(), &desk.url, shots(name), javascript);
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
            replaced(old, Duration::from_secs(10)).await;
        } else {
            j.follow("button[id^=propose-]").await;
        }
        assert_eq!(j.path().await, "/requests/web-1");
        assert!(j.text(".bridges-history").await.contains("AssignmentProposed"));
        j.page("request-proposed").await;

        j.goto("/").await;
        assert_eq!(open_total(&j).await, before + 1, "the dashboard counts the new request");
        assert!(j.text("main").await.contains("web-1"), "the proposal awaits an answer");
        j.page("dashboard-after").await;

        // A matching run: started, waited for, its result.
        j.goto("/runs").await;
        j.page("runs").await;
        press(&j, "start-run", keyboard).await;
        wait_for_run(&mut j, javascript, keyboard).await;
        assert!(j.text("main").await.contains("Covered by the greedy broker"), "the comparison");
        j.page("run").await;
        let run_page = j.path().await;
        let proposed = proposals_awaiting(&j).await;
        assert!(proposed.len() >= 3, "the run proposes at least three: {proposed:?}");
        j.goto("/").await;
        let awaiting = awaiting_total(&j).await;

        // Accept one on the practitioner's behalf (one with days this
        // half-term, so that a visit can be recorded today), decline another.
        let mut this_term = None;
        for id in &proposed {
            j.goto(&format!("/assignments/{id}")).await;
            if j.text("main dl").await.contains("2026-AU2") {
                this_term = Some(id.clone());
                break;
            }
        }
        let accepted = this_term.expect("a proposal with days in 2026-AU2");
        j.goto(&format!("/assignments/{accepted}")).await;
        j.page("proposal").await;
        press(&j, "accept", keyboard).await;
        assert!(j.text("main dl").await.contains("accepted"), "accepted");
        j.page("accepted").await;
        // A visit: first with half days that are not a number, then right.
        let mut probe = Http::new(&desk.url);
        let before = probe.get("/health").await.body;
        replace(&j, "visit-half_days", "two", keyboard).await;
        press(&j, "record-visit", keyboard).await;
        assert_eq!(probe.get("/health").await.body, before, "a refused visit writes nothing");
        assert!(j.text(".govuk-error-summary").await.contains("half days"), "the form's check");
        assert_eq!(j.value("#visit-half_days").await, "two", "the value is kept");
        j.page("visit-error").await;
        replace(&j, "visit-half_days", "2", keyboard).await;
        press(&j, "record-visit", keyboard).await;
        assert!(!j.has(".govuk-error-summary").await, "the visit is recorded");
        assert!(
            j.text("main").await.contains("VisitRecorded")
                || j.text("main").await.contains("visit v1")
        );
        j.page("visit-recorded").await;
        // The receiving school confirms it through a link the broker emails.
        press(&j, "visit-v1", keyboard).await;
        j.page("visit").await;
        let mails_before = desk.mails().len();
        replace(&j, "school-email", "not an address", keyboard).await;
        press(&j, "ask-confirm", keyboard).await;
        assert!(j.text(".govuk-error-summary").await.contains("Enter an email address"));
        assert_eq!(mails_before, desk.mails().len(), "no mail for a wrong address");
        j.page("ask-school-error").await;
        replace(&j, "school-email", "head@school.example.org", keyboard).await;
        press(&j, "ask-confirm", keyboard).await;
        assert_eq!(j.text("h1").await, "Link sent");
        j.page("link-sent").await;
        let mail = desk.wait_for_mail(Duration::from_secs(60), |m| {
            m.contains("Please confirm a visit") && m.contains(&format!("Reference: {accepted}"))
        });
        j.goto(&bridges_tests::web::link_in(&mail)).await;
        assert_eq!(j.text("h1").await, "Confirm a visit to your school");
        j.page("school-confirms").await;
        press(&j, "confirm", keyboard).await;
        assert_eq!(j.text("h1").await, "Thank you");
        j.goto(&format!("/assignments/{accepted}")).await;
        assert!(j.text("main").await.contains("Confirmed by the school"), "the visit is confirmed");
        let request = j
            .client
            .find(Locator::Css("a.govuk-back-link"))
            .await
            .expect("the back link")
            .attr("href")
            .await
            .expect("href")
            .expect("an address");
        let declined = proposed.iter().find(|p| **p != accepted).expect("another").clone();
        j.goto(&format!("/assignments/{declined}")).await;
        choose(&j, "decline-reason", keyboard).await;
        press(&j, "decline", keyboard).await;
        assert!(j.text("main dl").await.contains("declined"), "declined");
        j.page("declined").await;

        // A practitioner's emailed link: the page shows it and changes
        // nothing until they decline on it; then it is used.
        let third = proposed.iter().find(|p| **p != accepted && **p != declined).expect("a third");
        let mail = desk
            .wait_for_mail(Duration::from_secs(60), |m| m.contains(&format!("Reference: {third}")));
        let link = bridges_tests::web::link_in(&mail);
        let head = probe.get("/health").await.body;
        j.goto(&link).await;
        assert_eq!(j.text("h1").await, "Can you take this support?");
        j.page("link").await;
        assert_eq!(probe.get("/health").await.body, head, "opening the link changes nothing");
        choose(&j, "reason", keyboard).await;
        press(&j, "decline", keyboard).await;
        assert_eq!(j.text("h1").await, "Thank you");
        j.page("link-declined").await;
        j.goto(&link).await;
        assert_eq!(j.text("h1").await, "This link has been used");
        j.page("link-used").await;

        j.goto("/").await;
        assert_eq!(awaiting_total(&j).await, awaiting - 3, "three answered: the dashboard changed");
        j.page("dashboard-answered").await;
        // At the end, the school rates the impact through a link, which closes the request.
        j.goto(&request).await;
        replace(&j, "school-email", "head@school.example.org", keyboard).await;
        press(&j, "ask-impact", keyboard).await;
        assert_eq!(j.text("h1").await, "Link sent");
        let mail =
            desk.wait_for_mail(Duration::from_secs(60), |m| m.contains("How much difference"));
        j.goto(&bridges_tests::web::link_in(&mail)).await;
        assert_eq!(j.text("h1").await, "How much difference did the support make?");
        j.page("school-rates").await;
        choose(&j, "impact", keyboard).await;
        press(&j, "rate", keyboard).await;
        assert_eq!(j.text("h1").await, "Thank you");
        j.goto(&request).await;
        assert!(!j.has("#ask-impact").await, "the request is closed");
        assert!(j.text(".bridges-history").await.contains("RequestClosed"), "closed by the school");
        j.page("request-closed").await;

        j.goto(&run_page).await;
        j.page("run-answered").await;
        j.goto("/practitioners").await;
        j.page("practitioners").await;
        j.follow("main tbody a").await;
        j.page("practitioner").await;

        // A viewer reads, and cannot raise.
        j.follow("#navigation form button").await;
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
    let mut desk = Desk::start(30, 12, 20);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let expiring_link = rt.block_on(async {
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
            let t = [("csrf", token.as_str())];
            for (path, fields) in [
                ("/runs", &t[..]),
                ("/assignments/a-1/accept", &t[..]),
                (
                    "/assignments/a-1/decline",
                    &[("csrf", token.as_str()), ("decline-reason", "other")][..],
                ),
                (
                    "/assignments/a-1/visits",
                    &[
                        ("csrf", token.as_str()),
                        ("visit-on", "2026-12-01"),
                        ("visit-half_days", "2"),
                    ][..],
                ),
                (
                    "/assignments/a-1/visits/v1/void",
                    &[("csrf", token.as_str()), ("void-reason", "x")][..],
                ),
                (
                    "/practitioners/p-1/availability",
                    &[("csrf", token.as_str()), ("capacity-2026-AU2", "9")][..],
                ),
                (
                    "/requests/web-denied/withdraw",
                    &[("csrf", token.as_str()), ("withdraw-reason", "x")][..],
                ),
                (
                    "/requests/web-denied/close",
                    &[("csrf", token.as_str()), ("close-impact", "none")][..],
                ),
                (
                    "/accounts",
                    &[("csrf", token.as_str()), ("user", "x"), ("role", "administrator")][..],
                ),
                ("/accounts/broker-1/disable", &t[..]),
                (
                    "/practitioners/sle-01/erase",
                    &[("csrf", token.as_str()), ("confirm-erase", "yes")][..],
                ),
            ] {
                let reply = http.post(path, fields).await;
                assert_eq!(reply.status, 403, "{} posts {path}", login.user);
            }
        }
        // A broker's form without its token, or with another's.
        let mut broker = Http::new(&desk.url);
        assert_eq!(broker.sign_in(&desk.broker).await.status, 303);
        let token = csrf(&broker.get("/").await.body);
        // Only an administrator manages accounts: a broker cannot either.
        let reply = broker.post("/accounts/viewer-1/disable", &[("csrf", token.as_str())]).await;
        assert_eq!(reply.status, 403, "a broker disables an account");
        let erase = [("csrf", token.as_str()), ("confirm-erase", "yes")];
        let reply = broker.post("/practitioners/sle-01/erase", &erase).await;
        assert_eq!(reply.status, 403, "a broker erases a practitioner");
        assert_eq!(broker.get("/accounts").await.status, 403);
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

        // A run, and the links its proposals' email carries: a GET shows
        // and changes nothing; a POST acts once; a second use, an altered
        // link and (below) an expired one are refused.
        let token = csrf(&broker.get("/runs").await.body);
        let started = broker.post("/runs", &[("csrf", token.as_str())]).await;
        assert_eq!(started.status, 303, "the run starts");
        let mut at = started.location.expect("the progress page");
        for _ in 0..600 {
            if !at.starts_with("/runs/progress/") {
                break;
            }
            let reply = broker.get(&at).await;
            match reply.location {
                Some(next) => at = next,
                None => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        assert!(at.starts_with("/runs/") && !at.contains("progress"), "the run is recorded: {at}");
        let mails: Vec<String> = {
            let first = desk.wait_for_mail(Duration::from_secs(60), |m| m.contains("Reference: "));
            std::thread::sleep(Duration::from_secs(2));
            let mut all = desk.mails();
            all.retain(|m| m.contains("Can you take"));
            assert!(all.contains(&first));
            all
        };
        assert!(mails.len() >= 2, "two proposals were mailed: {}", mails.len());
        let (used, expiring) =
            (bridges_tests::web::link_in(&mails[0]), bridges_tests::web::link_in(&mails[1]));
        let mut visitor = Http::new(&desk.url);
        let head = visitor.get("/health").await.body;
        for _ in 0..2 {
            let page = visitor.get(&used).await;
            assert_eq!(page.status, 200, "the link's page: {}", page.body);
        }
        assert_eq!(visitor.get("/health").await.body, head, "two GETs of the link changed nothing");
        let mut altered: Vec<char> = used.chars().collect();
        let mid = "/links/".len() + (altered.len() - "/links/".len()) / 2;
        altered[mid] = if altered[mid] == 'A' { 'B' } else { 'A' };
        let altered: String = altered.into_iter().collect();
        assert_eq!(visitor.get(&altered).await.status, 404, "an altered link is not valid");
        let decline = [("reason", "logistics")];
        assert_eq!(visitor.post(&format!("{altered}/decline"), &decline).await.status, 404);
        let reply = visitor.post(&format!("{used}/decline"), &decline).await;
        assert_eq!(reply.status, 200, "declined through the link: {}", reply.body);
        assert!(reply.body.contains("Thank you"));
        let after = visitor.get("/health").await.body;
        assert_ne!(after, head, "the decline is recorded");
        assert_eq!(
            visitor.post(&format!("{used}/decline"), &decline).await.status,
            410,
            "used once"
        );
        assert_eq!(visitor.post(&format!("{used}/accept"), &[]).await.status, 410, "used once");
        assert_eq!(visitor.get(&used).await.status, 410);
        assert_eq!(visitor.get("/health").await.body, after, "a used link changes nothing");

        // A visit recorded on a proposal accepted by hand, corrected (once
        // refused), then voided (once refused): each by the server.
        let reference = |m: &str| {
            let text = m.replace("=\r\n", "").replace("=\n", "");
            text.split("Reference: ")
                .nth(1)
                .and_then(|r| r.split_whitespace().next())
                .map(str::to_owned)
        };
        let (declined, expiring_ref) = (reference(&mails[0]), reference(&mails[1]));
        let run_page = broker.get(&at).await.body;
        let mut ids: Vec<String> = run_page
            .split("href=\"/assignments/")
            .skip(1)
            .filter_map(|r| r.split('"').next().map(str::to_owned))
            .collect();
        ids.dedup();
        let mut chosen = None;
        for id in ids
            .iter()
            .filter(|i| Some(*i) != declined.as_ref() && Some(*i) != expiring_ref.as_ref())
        {
            let page = broker.get(&format!("/assignments/{id}")).await.body;
            if page.contains("2026-AU2") && page.contains(">proposed<") {
                chosen = Some(id.clone());
                break;
            }
        }
        let id = chosen.expect("a proposal with days in 2026-AU2, other than the two mailed first");
        let path = format!("/assignments/{id}");
        let t = token.as_str();
        assert_eq!(broker.post(&format!("{path}/accept"), &[("csrf", t)]).await.status, 303);
        let visit = [("csrf", t), ("visit-on", "2026-12-03"), ("visit-half_days", "2")];
        assert_eq!(broker.post(&format!("{path}/visits"), &visit).await.status, 303);
        let wrong = [("csrf", t), ("correct-on", "2026-12-03"), ("correct-half_days", "9")];
        let before = visitor.get("/health").await.body;
        let reply = broker.post(&format!("{path}/visits/v1/correct"), &wrong).await;
        assert_eq!(reply.status, 422);
        assert_eq!(
            visitor.get("/health").await.body,
            before,
            "a refused correction writes nothing"
        );
        assert!(reply.body.contains("1 or 2 half days"), "the engine's reason by the field");
        assert!(reply.body.contains("value=\"9\""), "the value is kept");
        let right = [("csrf", t), ("correct-on", "2026-12-02"), ("correct-half_days", "1")];
        assert_eq!(broker.post(&format!("{path}/visits/v1/correct"), &right).await.status, 303);
        let before = visitor.get("/health").await.body;
        let reply = broker
            .post(&format!("{path}/visits/v1/void"), &[("csrf", t), ("void-reason", "")])
            .await;
        assert_eq!(reply.status, 422);
        assert!(reply.body.contains("Enter why the visit is void"));
        assert_eq!(visitor.get("/health").await.body, before, "a refused void writes nothing");
        let void = [("csrf", t), ("void-reason", "recorded against the wrong school")];
        assert_eq!(broker.post(&format!("{path}/visits/v1/void"), &void).await.status, 303);
        let page = broker.get(&path).await.body;
        assert!(page.contains("2026-12-02") && page.contains("voided"), "corrected, then voided");

        // Five wrong passwords, then even the right one waits.
        let mut guesser = Http::new(&desk.url);
        for _ in 0..5 {
            let reply = guesser.sign_in_with(&desk.viewer, "not the password", "000000").await;
            assert_eq!(reply.status, 401);
        }
        let reply = guesser.sign_in(&desk.viewer).await;
        assert_eq!(reply.status, 429, "rate-limited");
        assert!(reply.body.contains("Too many attempts"), "{}", reply.body);
        expiring
    });
    // The page again, its clock past every proposal's answer-by day: the
    // other link has expired.
    let expiring = expiring_link;
    // The page again on the morning of the answer-by day: a reminder, with
    // a fresh link that works, goes to a proposal still unanswered.
    desk.restart("2026-12-10T09:00:00Z");
    let reminder = desk.wait_for_mail(Duration::from_secs(60), |m| m.contains("Subject: Reminder"));
    rt.block_on(async {
        let mut visitor = Http::new(&desk.url);
        let page = visitor.get(&bridges_tests::web::link_in(&reminder)).await;
        assert_eq!(page.status, 200, "the reminder's link: {}", page.body);
        assert!(page.body.contains("Can you take this support?"));
    });
    desk.restart("2027-02-01T10:00:00Z");
    rt.block_on(async {
        let mut visitor = Http::new(&desk.url);
        let head = visitor.get("/health").await.body;
        let page = visitor.get(&expiring).await;
        assert_eq!(page.status, 410, "expired: {}", page.body);
        assert!(page.body.contains("This link has expired"));
        let reply = visitor.post(&format!("{expiring}/accept"), &[]).await;
        assert_eq!(reply.status, 410);
        assert_eq!(visitor.get("/health").await.body, head, "an expired link changes nothing");
    });
    // The log holds no request of those refused writes.
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

/// While the page holds the folder, the command line's views, commands and
/// export go to it over its socket instead of failing on the lock.
#[test]
fn the_command_line_beside_the_page_goes_to_it() {
    let mut desk = Desk::start(20, 8, 10);
    let listed = desk.bridges(&["request", "list"]);
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let list = String::from_utf8_lossy(&listed.stdout).into_owned();
    let id = list
        .lines()
        .find_map(|l| l.split_whitespace().next().filter(|w| w.starts_with("2026-")))
        .unwrap_or_else(|| panic!("a request in the list:\n{list}"))
        .to_owned();
    let withdrawn = desk.bridges(&[
        "--as",
        "broker-1",
        "request",
        "withdraw",
        &id,
        "--reason",
        "the school found support",
    ]);
    let out = String::from_utf8_lossy(&withdrawn.stdout);
    assert!(withdrawn.status.success(), "{out}{}", String::from_utf8_lossy(&withdrawn.stderr));
    // A rejection comes back as at home: exit 2, the field named.
    let again = desk.bridges(&["request", "withdraw", &id, "--reason", "twice"]);
    assert_eq!(again.status.code(), Some(2), "{}", String::from_utf8_lossy(&again.stderr));
    let shown = desk.bridges(&["request", "show", &id]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.contains("RequestWithdrawn") || text.contains("withdrawn"), "{text}");
    let backup = desk.dir.path().join("backup.ndjson");
    let exported = desk.bridges(&["log", "export", "--out", backup.to_str().expect("utf-8")]);
    let err = String::from_utf8_lossy(&exported.stderr);
    assert!(exported.status.success(), "{err}");
    assert!(err.contains("online from the engine of bridges web"), "{err}");
    let lines = std::fs::read_to_string(&backup).expect("the export").lines().count();
    assert!(lines > 10, "the export holds the log: {lines} lines");
    // The page shows what the command line did.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let mut http = Http::new(&desk.url);
        assert_eq!(http.sign_in(&desk.viewer).await.status, 303);
        let page = http.get(&format!("/requests/{id}")).await;
        assert!(page.body.contains("RequestWithdrawn"), "the page shows the withdrawal");
    });
    assert!(desk.web.terminate(Duration::from_secs(30)), "{}", desk.web.log());
    assert!(!desk.data.with_file_name("data-web.sock").exists(), "the socket is removed");
}

/// An administrator adds, resets and disables accounts and erases a
/// practitioner's personal data in the browser (axe-core on every page,
/// its error states too); the user whose password was reset must choose a
/// new one before anything else.
#[test]
fn an_administrator_manages_accounts_and_erases_a_practitioner() {
    let desk = Desk::start(20, 8, 10);
    let admin = Login {
        user: "admin-1".into(),
        password: "an administrator's phrase".into(),
        secret: bridges_tests::web::add_user(
            &desk.data,
            "admin-1",
            "administrator",
            "an administrator's phrase",
        ),
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let Some(browser) = Browser::start(true).await else {
            assert!(std::env::var_os("CI").is_none(), "chromedriver is missing under CI");
            eprintln!("chromedriver not installed: skipped");
            return;
        };
        let mut j = Journey::new(browser.client.clone(), &desk.url, shots("administrator"), true);
        sign_in(&mut j, &admin, false).await;
        j.follow("#navigation a[href='/accounts']").await;
        j.page("accounts").await;
        j.fill("#user", "broker-2").await;
        j.click("#role").await;
        j.fill("#password", "short").await;
        press(&j, "add-account", false).await;
        assert!(j.text(".govuk-error-summary").await.contains("at least 12"), "too short");
        assert_eq!(j.value("#user").await, "broker-2", "the name is kept");
        j.page("accounts-error").await;
        j.fill("#password", "a long enough first phrase").await;
        press(&j, "add-account", false).await;
        assert_eq!(j.text("h1").await, "Account added");
        assert!(j.text("main").await.contains("otpauth://"), "the second factor is shown once");
        j.page("account-added").await;
        // The viewer's password reset: the two must match.
        j.goto("/accounts/viewer-1/reset").await;
        j.fill("#password", "a brand new phrase").await;
        j.fill("#confirm", "another phrase").await;
        press(&j, "save-password", false).await;
        assert!(j.text(".govuk-error-summary").await.contains("not the same"));
        j.page("reset-error").await;
        j.fill("#password", "a brand new phrase").await;
        j.fill("#confirm", "a brand new phrase").await;
        press(&j, "save-password", false).await;
        assert_eq!(j.path().await, "/accounts");
        assert!(j.text("main").await.contains("Must choose a new password"));
        press(&j, "disable-coord-1", false).await;
        assert!(j.text("main").await.contains("Disabled"));
        // Erasing: first without the tick, then with it.
        j.goto("/practitioners/sle-01").await;
        let mut probe = Http::new(&desk.url);
        let before = probe.get("/health").await.body;
        press(&j, "erase", false).await;
        assert!(j.text(".govuk-error-summary").await.contains("Tick the box"));
        assert_eq!(probe.get("/health").await.body, before, "a refused erasure writes nothing");
        j.page("erase-error").await;
        j.click("#confirm-erase").await;
        press(&j, "erase", false).await;
        assert!(j.text("main dl").await.contains("(erased)"), "the name is gone");
        assert!(!j.has("#erase").await, "nothing left to erase");
        j.page("erased").await;
        j.follow("#navigation form button").await;

        // The viewer signs in with the new password and must change it first.
        let viewer = Login { password: "a brand new phrase".into(), ..desk.viewer.clone() };
        j.goto("/").await;
        enter(&j, "user", &viewer.user, false).await;
        enter(&j, "password", &viewer.password, false).await;
        enter(&j, "code", &viewer.code(), false).await;
        submit(&j, false).await;
        assert_eq!(j.path().await, "/account/password", "sent to choose a new password");
        j.page("choose-password").await;
        j.goto("/requests").await;
        assert_eq!(j.path().await, "/account/password", "nothing else until then");
        j.fill("#password", "the viewer's own phrase").await;
        j.fill("#confirm", "the viewer's own phrase").await;
        press(&j, "save-password", false).await;
        assert_eq!(j.path().await, "/");
        j.goto("/requests").await;
        assert_eq!(j.text("h1").await, "Requests");
        browser.close().await;
    });
}
