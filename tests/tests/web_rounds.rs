//! Peer-review rounds and reports on the desk (`bridges web`), each test on
//! a seeded LA of its own:
//! - in a real browser (chromium through chromedriver, JavaScript on), a
//!   coordinator opens a round (after a refused reference), enrols the
//!   primaries by phase and a secondary by URN (after URNs that are not
//!   numbers), forms the groups (the solver in process), checks a swap of
//!   the secondary into a primary group (its phase rule shown broken),
//!   sends it and sees it refused by the field; finds a swap or a move
//!   whose every rule holds, makes it, confirms the round and reads the
//!   rota and the map. A viewer reads the reports (a bad date refused in
//!   the error summary, naming the value) and downloads a CSV. axe-core
//!   runs on every page, populated and in its error states: no violation
//!   of the WCAG 2.2 A and AA rules. Screenshots go to
//!   `target/tmp/web-screenshots/rounds/`.
//! - Over plain HTTP, a broker's and a viewer's writes to a round (open,
//!   enrol, withdraw, form, swap, move, confirm), with their own good CSRF
//!   tokens, are refused (403) and change nothing.

use std::path::PathBuf;
use std::time::Duration;

use bridges_tests::browser::Browser;
use bridges_tests::journey::Journey;
use bridges_tests::web::{Desk, Http, Login, csrf};
use fantoccini::Locator;

/// The round both tests open.
const ROUND: &str = "web-r1";

/// Where the screenshots of a journey go.
fn shots(journey: &str) -> PathBuf {
    bridges_tests::journey::shots(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")), journey)
}

/// GETs `path` from the page (its session's cookie): status, content
/// type, content disposition and body.
async fn fetch(j: &Journey, path: &str) -> Fetched {
    let script = r#"
        const done = arguments[arguments.length - 1];
        fetch(arguments[0], { credentials: 'same-origin' })
          .then(r => r.text().then(t => done([r.status, r.headers.get('content-type') || '',
              r.headers.get('content-disposition') || '', t])))
          .catch(e => done([0, '', '', 'fetch failed: ' + e]));"#;
    let value = j
        .client
        .execute_async(script, vec![serde_json::Value::String(path.to_owned())])
        .await
        .expect("fetch from the page");
    let (status, kind, disposition, body): (u16, String, String, String) =
        serde_json::from_value(value).expect("status, headers and body");
    Fetched { status, kind, disposition, body }
}

/// A response fetched from the page.
#[derive(Debug)]
struct Fetched {
    status: u16,
    kind: String,
    disposition: String,
    body: String,
}

async fn sign_in(j: &mut Journey, login: &Login) {
    j.goto("/").await;
    assert_eq!(j.path().await, "/login", "a page without a session asks to sign in");
    j.fill("#user", &login.user).await;
    j.fill("#password", &login.password).await;
    j.fill("#code", &login.code()).await;
    j.follow("main form button.govuk-button").await;
    assert_eq!(j.path().await, "/", "signed in, the dashboard");
}

/// The (value, text) options of the select `id` in `html`.
fn options(html: &str, id: &str) -> Vec<(String, String)> {
    let start = html.find(&format!("id=\"{id}\" name=\"{id}\"")).unwrap_or_else(|| {
        panic!("no select #{id} in {html}");
    });
    let end = start + html[start..].find("</select>").expect("the select ends");
    html[start..end]
        .split("<option value=\"")
        .skip(1)
        .filter_map(|o| {
            let (value, rest) = o.split_once('"')?;
            let text = rest.split_once('>')?.1.split("</option>").next()?;
            Some((value.to_owned(), text.to_owned()))
        })
        .filter(|(v, _)| !v.is_empty())
        .collect()
}

/// The group of an option's text (`990001 Name (group 2)`); none unplaced.
fn group_of(text: &str) -> Option<u32> {
    text.rsplit_once("(group ")?.1.trim_end_matches(')').parse().ok()
}

/// Every practitioner's name, email and phone, from the seed's file.
fn contacts(desk: &Desk) -> Vec<String> {
    let path = desk.dir.path().join("scratch-demo").join("practitioners.csv");
    let mut reader = csv::Reader::from_path(&path).expect("the seed's practitioners.csv");
    let headers = reader.headers().expect("headers").clone();
    let columns: Vec<usize> = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            let h = h.to_lowercase();
            h.contains("name") || h.contains("email") || h.contains("phone")
        })
        .map(|(i, _)| i)
        .collect();
    assert!(columns.len() >= 3, "name, email and phone columns: {headers:?}");
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row.expect("a row");
        out.extend(columns.iter().filter_map(|i| row.get(*i)).map(str::to_owned));
    }
    out.retain(|c| c.len() > 3);
    out
}

#[test]
fn a_coordinator_runs_a_round_and_a_viewer_reads_the_reports() {
    let desk = Desk::start(40, 8, 10);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let Some(browser) = Browser::start(true).await else {
            assert!(std::env::var_os("CI").is_none(), "chromedriver is missing under CI");
            eprintln!("chromedriver not installed: skipped");
            return;
        };
        let mut j = Journey::new(browser.client.clone(), &desk.url, shots("rounds"), true);
        sign_in(&mut j, &desk.coordinator).await;

        // A secondary school of the LA, from the report of its schools.
        j.goto("/rounds").await;
        let schools = fetch(&j, "/reports/schools.csv").await;
        assert_eq!(schools.status, 200, "{}", schools.body);
        let mut reader =
            csv::Reader::from_reader(schools.body.trim_start_matches('\u{feff}').as_bytes());
        let headers = reader.headers().expect("headers").clone();
        let col = |name: &str| headers.iter().position(|h| h == name).expect(name);
        let (urn_col, phase_col) = (col("urn"), col("phase"));
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
        let secondary = rows
            .iter()
            .find(|r| &r[phase_col] == "secondary")
            .map(|r| r[urn_col].to_owned())
            .expect("a secondary school in the LA");
        let primaries = rows.iter().filter(|r| &r[phase_col] == "primary").count();
        assert!(primaries >= 6, "{primaries} primaries: two groups at least");

        // Open a round: first a reference the engine refuses.
        j.page("rounds").await;
        j.fill("#round", "not a reference!").await;
        j.follow("main form button.govuk-button").await;
        assert!(j.has(".govuk-error-summary").await, "the refusal is summarised");
        assert!(j.has("#round-error").await, "and shown by the reference");
        assert_eq!(
            j.client
                .find(Locator::Css("#round"))
                .await
                .expect("#round")
                .prop("value")
                .await
                .expect("value"),
            Some("not a reference!".to_owned()),
            "the value is kept"
        );
        j.page("open-refused").await;
        j.fill("#round", ROUND).await;
        j.follow("main form button.govuk-button").await;
        assert_eq!(j.path().await, format!("/rounds/{ROUND}"));
        assert_eq!(j.text("h1").await, format!("Round {ROUND}"));
        j.page("round-open").await;

        // Enrol: the primaries by phase, then URNs that are not numbers,
        // then the secondary by URN.
        j.client
            .find(Locator::Css("#phase option[value='primary']"))
            .await
            .expect("primary")
            .click()
            .await
            .expect("choose primary");
        j.follow("#enrol-phase").await;
        assert!(j.text("main").await.contains(&format!("{primaries} enrolled")));
        j.fill("#urns", "one two").await;
        j.follow("#enrol-urns").await;
        assert!(j.has("#urns-error").await, "the URNs' error is by the field");
        j.page("enrol-refused").await;
        j.fill("#urns", &secondary).await;
        j.follow("#enrol-urns").await;
        assert!(j.text("main").await.contains(&format!("{} enrolled", primaries + 1)));
        j.page("round-enrolled").await;

        // Form the groups: the solver runs while the page waits.
        j.follow_within("#form-groups", Duration::from_secs(180)).await;
        assert_eq!(j.path().await, format!("/rounds/{ROUND}"));
        assert!(j.has("#groups").await, "{}", j.text("main").await);
        j.page("round-formed").await;

        // Swap the secondary (unplaced) into a primary group: its phase
        // rule is shown broken before, and the engine refuses it.
        let swap = fetch(&j, &format!("/rounds/{ROUND}/swap")).await;
        let schools = options(&swap.body, "a");
        let sec = schools.iter().find(|(v, _)| *v == secondary).expect("the secondary");
        assert_eq!(group_of(&sec.1), None, "the only secondary is unplaced: {sec:?}");
        let placed: Vec<(String, u32)> =
            schools.iter().filter_map(|(v, t)| Some((v.clone(), group_of(t)?))).collect();
        assert!(!placed.is_empty(), "schools were placed");
        j.goto(&format!("/rounds/{ROUND}/swap?a={secondary}&b={}", placed[0].0)).await;
        assert!(j.has("#verdict-breaks").await, "the swap is shown breaking a rule");
        let rule = format!("#rule-{}-phase_pools", placed[0].1);
        assert!(j.text(&rule).await.contains("Broken"), "the phase rule is broken");
        j.page("swap-breaks").await;
        j.follow("#make-change").await;
        let summary = j.text(".govuk-error-summary").await;
        assert!(summary.contains("a group has one phase"), "{summary}");
        assert!(j.has("#b-error").await, "the refusal is by the school swapped in");
        j.page("swap-refused").await;

        // A change whose every rule holds: a swap of two placed schools, or
        // a move, found by checking them.
        let mut holding = None;
        'search: for (i, (a, ga)) in placed.iter().enumerate() {
            for (b, gb) in &placed[i + 1..] {
                if ga == gb {
                    continue;
                }
                let path = format!("/rounds/{ROUND}/swap?a={a}&b={b}");
                if fetch(&j, &path).await.body.contains("id=\"verdict-holds\"") {
                    holding = Some(path);
                    break 'search;
                }
            }
        }
        if holding.is_none() {
            let groups: Vec<u32> = {
                let mut g: Vec<u32> = placed.iter().map(|p| p.1).collect();
                g.dedup();
                g
            };
            'moves: for (a, ga) in &placed {
                for g in groups.iter().filter(|g| *g != ga) {
                    let path = format!("/rounds/{ROUND}/move?urn={a}&to={g}");
                    if fetch(&j, &path).await.body.contains("id=\"verdict-holds\"") {
                        holding = Some(path);
                        break 'moves;
                    }
                }
            }
        }
        let holding = holding.expect("a swap or a move that keeps every rule");
        j.goto(&holding).await;
        assert!(j.has("#verdict-holds").await);
        assert!(!j.text("main").await.contains("Broken"), "every rule holds");
        j.page("change-holds").await;
        j.follow("#make-change").await;
        assert_eq!(j.path().await, format!("/rounds/{ROUND}"));
        assert!(j.text("main").await.contains("Changed by hand"), "the change is recorded");
        j.page("round-changed").await;

        // Confirm: the rota is published.
        j.follow("#confirm").await;
        assert_eq!(j.path().await, format!("/rounds/{ROUND}/rota"));
        assert_eq!(j.text("h1").await, format!("Rota of round {ROUND}"));
        let rota = j.text("main").await;
        assert!(rota.contains("Confirmed") && rota.contains("Planned"), "{rota}");
        assert!(j.has("main h2").await && j.has("main table").await, "reviews by half-term");
        j.page("rota").await;

        // The map, and its table.
        j.goto(&format!("/rounds/{ROUND}/map")).await;
        assert!(j.has("svg[role=img] polygon").await, "the groups are drawn");
        assert!(j.has("#map-table").await, "a table beside the map");
        assert!(j.text("#map-table").await.contains("Group 1"));
        j.page("map").await;
        j.goto("/rounds").await;
        assert!(j.text("main table").await.contains(ROUND));
        j.page("rounds-listed").await;
        j.goto(&format!("/rounds/{ROUND}")).await;
        assert!(!j.has("#form-groups").await && !j.has("#confirm").await, "confirmed, it stands");
        j.page("round-confirmed").await;

        // A viewer reads the reports.
        j.follow("#navigation form button").await;
        sign_in(&mut j, &desk.viewer).await;
        j.goto("/reports").await;
        assert_eq!(j.text("h1").await, "Reports");
        assert!(j.has("#table-assignments").await && j.has("#download-assignments").await);
        let page = j.text("main").await;
        j.page("reports").await;
        j.goto("/reports?as_of=2026-13-45").await;
        let summary = j.text(".govuk-error-summary").await;
        assert!(summary.contains("2026-13-45"), "the summary names the value: {summary}");
        assert!(j.has("#as_of-error").await, "and the field");
        j.page("reports-refused").await;
        let href = j
            .client
            .find(Locator::Css("#as_of"))
            .await
            .expect("the date field")
            .prop("value")
            .await
            .expect("value");
        assert_eq!(href.as_deref(), Some("2026-13-45"), "the value is kept");
        j.goto("/reports?as_of=2026-12-01").await;
        let link = j
            .client
            .find(Locator::Css("#download-utilisation"))
            .await
            .expect("a download link")
            .attr("href")
            .await
            .expect("href")
            .expect("an href");
        assert_eq!(link, "/reports/utilisation.csv?as_of=2026-12-01");
        let csv = fetch(&j, &link).await;
        assert_eq!(csv.status, 200);
        assert!(csv.kind.starts_with("text/csv"), "{}", csv.kind);
        assert!(csv.disposition.starts_with("attachment;"), "{}", csv.disposition);
        // (fetch's text() drops the byte-order mark the file starts with)
        let body = csv.body.trim_start_matches('\u{feff}');
        assert!(body.starts_with("practitioner,title,half_term"), "{body}");
        let bad = fetch(&j, "/reports/utilisation.csv?as_of=yesterday").await;
        assert_eq!(bad.status, 400);
        // No practitioner's name, email or phone anywhere a viewer reads.
        let assignments = fetch(&j, "/reports/assignments.csv").await;
        for c in contacts(&desk) {
            for (what, text) in
                [("page", &page), ("utilisation", &csv.body), ("assignments", &assignments.body)]
            {
                assert!(!text.contains(&c), "{c} on the {what}");
            }
        }
        browser.close().await;
    });
}

#[test]
fn the_server_refuses_round_writes_to_a_broker_and_a_viewer() {
    let desk = Desk::start(20, 6, 6);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let mut coordinator = Http::new(&desk.url);
        assert_eq!(coordinator.sign_in(&desk.coordinator).await.status, 303);
        let token = csrf(&coordinator.get("/rounds").await.body);
        let opened = coordinator
            .post("/rounds", &[("csrf", &token), ("round", ROUND), ("year", "2026-27")])
            .await;
        assert_eq!(opened.status, 303, "{}", opened.body);
        let enrolled = coordinator
            .post(
                &format!("/rounds/{ROUND}/enrol"),
                &[("csrf", &token), ("by", "phase"), ("phase", "primary")],
            )
            .await;
        assert_eq!(enrolled.status, 303, "{}", enrolled.body);
        let before = coordinator.get(&format!("/rounds/{ROUND}")).await;
        assert_eq!(before.status, 200);

        for login in [&desk.broker, &desk.viewer] {
            let mut http = Http::new(&desk.url);
            assert_eq!(http.sign_in(login).await.status, 303, "{} signs in", login.user);
            let page = http.get(&format!("/rounds/{ROUND}")).await;
            assert_eq!(page.status, 200, "{} reads the round", login.user);
            assert!(
                !page.body.contains("id=\"enrol-phase\""),
                "no forms offered to {}",
                login.user
            );
            let token = csrf(&http.get("/").await.body);
            let t = token.as_str();
            let writes: [(String, Vec<(&str, &str)>); 7] = [
                ("/rounds".into(), vec![("csrf", t), ("round", "web-r2"), ("year", "2026-27")]),
                (
                    format!("/rounds/{ROUND}/enrol"),
                    vec![("csrf", t), ("by", "urns"), ("urns", "990001")],
                ),
                (
                    format!("/rounds/{ROUND}/withdraw"),
                    vec![("csrf", t), ("withdraw_urn", "990001"), ("reason", "x")],
                ),
                (format!("/rounds/{ROUND}/form"), vec![("csrf", t)]),
                (
                    format!("/rounds/{ROUND}/swap"),
                    vec![("csrf", t), ("a", "990001"), ("b", "990002")],
                ),
                (
                    format!("/rounds/{ROUND}/move"),
                    vec![("csrf", t), ("urn", "990001"), ("to", "out")],
                ),
                (format!("/rounds/{ROUND}/confirm"), vec![("csrf", t)]),
            ];
            for (path, fields) in &writes {
                let reply = http.post(path, fields).await;
                assert_eq!(reply.status, 403, "{} posts {path}", login.user);
            }
        }
        let after = coordinator.get(&format!("/rounds/{ROUND}")).await;
        assert_eq!(
            after.body.replace(&token, ""),
            before.body.replace(&token, ""),
            "nothing changed"
        );
        assert_eq!(coordinator.get("/rounds/web-r2").await.status, 404, "no round was opened");
    });
}
