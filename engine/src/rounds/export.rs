//! A round's files: the groups and the rota as CSV (UTF-8 with a byte-order
//! mark, so Excel reads it as UTF-8; a cell that starts like a formula is
//! written with a leading `'`, so opening the file runs nothing), the
//! reviewer time and cost per review with totals by school and for the
//! round, and one self-contained HTML page (no network): an inline SVG map
//! of the groups (schools at their Easting/Northing, each group's members
//! joined) and the rota as a calendar of half-terms. `ledger` is the pure
//! reading of the state the files and `show` print.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use bridges_schemas::{Period, Urn};

use super::words;
use crate::domain::State;
use crate::domain::calendar::Calendar;
use crate::domain::round::{review_cost_pence, review_days, standing};
use crate::domain::state::Round;

/// The files `export` writes.
pub const GROUPS_CSV: &str = "groups.csv";
pub const ROTA_CSV: &str = "rota.csv";
pub const SCHOOLS_CSV: &str = "schools.csv";
pub const PAGE_HTML: &str = "round.html";

/// One review of the rota: planned, or held.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewLine {
    pub group: u32,
    pub host: Urn,
    pub period: Period,
    pub reviewers: Vec<Urn>,
    /// Days of each reviewing school's time (as held, else the round's terms).
    pub days_each: f64,
    pub cost_pence: u64,
    /// The day it was held, and whether the host shares its report.
    pub held: Option<chrono::NaiveDate>,
    pub shared: Option<bool>,
}

impl ReviewLine {
    /// Reviewer days of the whole review.
    pub fn reviewer_days(&self) -> f64 {
        self.days_each * self.reviewers.len() as f64
    }
}

/// One school's totals in the round.
#[derive(Debug, Clone, PartialEq)]
pub struct SchoolLine {
    pub urn: Urn,
    pub group: Option<u32>,
    pub hosted: u32,
    /// Cost of the reviews it hosts, pence.
    pub hosting_cost_pence: u64,
    /// Days its leaders give reviewing other schools.
    pub days_given: f64,
    /// Reviewer days its own review takes.
    pub days_received: f64,
}

/// A round's reviews, each school's totals and the round's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ledger {
    pub reviews: Vec<ReviewLine>,
    pub schools: Vec<SchoolLine>,
    pub reviewer_days: f64,
    pub cost_pence: u64,
    pub held: u32,
}

/// The round's ledger: every review of the rota (in period, group order),
/// with days (as held where recorded) and cost, and the totals.
pub fn ledger(state: &State, round: &Round) -> Ledger {
    let phase = |u: &Urn| state.schools.get(u).map(|s| s.phase);
    let mut reviews = Vec::new();
    for g in round.groups.values() {
        for slot in &g.hosts {
            let review = round.reviews.get(&slot.host);
            let reviewers: Vec<Urn> = match review {
                Some(r) => r.reviewers.clone(),
                None => g.members.iter().copied().filter(|u| *u != slot.host).collect(),
            };
            reviews.push(ReviewLine {
                group: g.group,
                host: slot.host,
                period: slot.period.clone(),
                reviewers,
                days_each: review
                    .map_or_else(|| review_days(&round.terms, phase(&slot.host)), |r| r.days),
                cost_pence: review_cost_pence(&round.terms, phase(&slot.host)),
                held: review.map(|r| r.on),
                shared: review.and_then(|r| r.shared),
            });
        }
    }
    let order = |p: &Period| round.periods.iter().position(|x| x == p).unwrap_or(usize::MAX);
    reviews.sort_by(|a, b| order(&a.period).cmp(&order(&b.period)).then(a.group.cmp(&b.group)));
    let mut schools: BTreeMap<Urn, SchoolLine> = round
        .enrolled
        .iter()
        .map(|&urn| {
            let line = SchoolLine {
                urn,
                group: round.group_of(urn),
                hosted: 0,
                hosting_cost_pence: 0,
                days_given: 0.0,
                days_received: 0.0,
            };
            (urn, line)
        })
        .collect();
    for r in &reviews {
        if let Some(s) = schools.get_mut(&r.host) {
            s.hosted += 1;
            s.hosting_cost_pence += r.cost_pence;
            s.days_received += r.reviewer_days();
        }
        for u in &r.reviewers {
            if let Some(s) = schools.get_mut(u) {
                s.days_given += r.days_each;
            }
        }
    }
    Ledger {
        reviewer_days: reviews.iter().map(ReviewLine::reviewer_days).sum(),
        cost_pence: reviews.iter().map(|r| r.cost_pence).sum(),
        held: reviews.iter().filter(|r| r.held.is_some()).count() as u32,
        reviews,
        schools: schools.into_values().collect(),
    }
}

/// Writes the round's files into `dir` (created if missing); returns their paths.
pub fn write(
    state: &State,
    round: &Round,
    calendar: &Calendar,
    dir: &Path,
) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let ledger = ledger(state, round);
    let files = [
        (GROUPS_CSV, groups_csv(state, round)),
        (ROTA_CSV, rota_csv(state, &ledger)),
        (SCHOOLS_CSV, schools_csv(state, &ledger)),
        (PAGE_HTML, page(state, round, calendar, &ledger)),
    ];
    let mut paths = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text)?;
        paths.push(path);
    }
    Ok(paths)
}

/// `groups.csv`: one row per member (and per unplaced school), with the
/// group's reasons or the school's.
pub fn groups_csv(state: &State, round: &Round) -> String {
    let mut rows =
        vec![header(&["group", "urn", "school", "phase", "standing", "hosts_in", "why"])];
    for g in round.groups.values() {
        let why = words::reasons(g);
        for u in &g.members {
            let hosts = g.hosts.iter().find(|h| h.host == *u).map(|h| h.period.to_string());
            rows.push(vec![
                g.group.to_string(),
                u.to_string(),
                name(state, *u),
                phase(state, *u),
                standing_word(state, *u),
                hosts.unwrap_or_default(),
                why.clone(),
            ]);
        }
    }
    for u in round.unplaced.values() {
        rows.push(vec![
            "unplaced".to_owned(),
            u.urn.to_string(),
            name(state, u.urn),
            phase(state, u.urn),
            standing_word(state, u.urn),
            String::new(),
            u.detail.clone(),
        ]);
    }
    csv_text(&rows)
}

/// `rota.csv`: one row per review, then the round's total.
pub fn rota_csv(state: &State, ledger: &Ledger) -> String {
    let mut rows = vec![header(&[
        "period",
        "group",
        "host_urn",
        "host",
        "reviewers",
        "days_per_reviewer",
        "reviewer_days",
        "cost_gbp",
        "held_on",
        "report_shared",
    ])];
    for r in &ledger.reviews {
        rows.push(vec![
            r.period.to_string(),
            r.group.to_string(),
            r.host.to_string(),
            name(state, r.host),
            r.reviewers.iter().map(Urn::to_string).collect::<Vec<_>>().join(" "),
            days(r.days_each),
            days(r.reviewer_days()),
            pounds(r.cost_pence),
            r.held.map(|d| d.to_string()).unwrap_or_default(),
            r.shared.map(|s| if s { "yes" } else { "no" }.to_owned()).unwrap_or_default(),
        ]);
    }
    rows.push(vec![
        "total".to_owned(),
        String::new(),
        String::new(),
        format!("{} reviews ({} held)", ledger.reviews.len(), ledger.held),
        String::new(),
        String::new(),
        days(ledger.reviewer_days),
        pounds(ledger.cost_pence),
        String::new(),
        String::new(),
    ]);
    csv_text(&rows)
}

/// `schools.csv`: each school's totals, then the round's.
pub fn schools_csv(state: &State, ledger: &Ledger) -> String {
    let mut rows = vec![header(&[
        "urn",
        "school",
        "group",
        "reviews_hosted",
        "hosting_cost_gbp",
        "days_given_reviewing",
        "reviewer_days_received",
    ])];
    for s in &ledger.schools {
        rows.push(vec![
            s.urn.to_string(),
            name(state, s.urn),
            s.group.map(|g| g.to_string()).unwrap_or_else(|| "unplaced".to_owned()),
            s.hosted.to_string(),
            pounds(s.hosting_cost_pence),
            days(s.days_given),
            days(s.days_received),
        ]);
    }
    rows.push(vec![
        "total".to_owned(),
        format!("{} schools", ledger.schools.len()),
        String::new(),
        ledger.reviews.len().to_string(),
        pounds(ledger.cost_pence),
        days(ledger.reviewer_days),
        days(ledger.reviewer_days),
    ]);
    csv_text(&rows)
}

/// A cell as written: one that a spreadsheet would read as a formula
/// (`=`, `+`, `-`, `@`, a tab or a carriage return first) gets a leading `'`.
pub fn escape_cell(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

/// CSV text with a byte-order mark; every cell formula-escaped.
pub fn csv_text(rows: &[Vec<String>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        // Writing to memory cannot fail.
        w.write_record(row.iter().map(|c| escape_cell(c))).expect("a CSV row writes to memory");
    }
    let bytes = w.into_inner().expect("a CSV in memory flushes");
    format!("\u{feff}{}", String::from_utf8_lossy(&bytes))
}

fn header(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn name(state: &State, urn: Urn) -> String {
    state.schools.get(&urn).map(|s| s.name.clone()).unwrap_or_default()
}

fn phase(state: &State, urn: Urn) -> String {
    state.schools.get(&urn).map(|s| s.phase.to_string()).unwrap_or_default()
}

fn standing_word(state: &State, urn: Urn) -> String {
    state.schools.get(&urn).and_then(standing).map_or("no outcome", words::standing).to_owned()
}

/// Days with at most one decimal (`1`, `1.5`, `4.5`).
pub fn days(d: f64) -> String {
    let s = format!("{d:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

/// Pence as pounds with two decimals.
pub fn pounds(pence: u64) -> String {
    format!("{}.{:02}", pence / 100, pence % 100)
}

/// HTML text escaped for an element or an attribute.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Colours of groups on the map, in turn.
const PALETTE: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22",
];

/// The round's page: summary, map, calendar, groups with their reasons,
/// unplaced schools, totals.
pub fn page(state: &State, round: &Round, calendar: &Calendar, ledger: &Ledger) -> String {
    let mut h = String::new();
    let title = format!("Peer-review round {} ({})", round.id, round.year);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\
         body{{font-family:sans-serif;margin:1.5em;color:#222}} table{{border-collapse:collapse;margin:.5em 0 1.5em}}\
         td,th{{border:1px solid #bbb;padding:.25em .5em;vertical-align:top;font-size:.9em}} th{{background:#eee}}\
         .held{{background:#e6f4e6}} .why{{color:#444}}</style></head><body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );
    let status = if round.closed {
        "closed"
    } else if round.confirmed {
        "confirmed"
    } else if round.formed.is_some() {
        "formed (not confirmed)"
    } else {
        "open"
    };
    let _ = writeln!(
        h,
        "<p>{} schools enrolled, {} groups, {} unplaced; {status}. {} reviews ({} held), {} reviewer days, £{}.</p>",
        round.enrolled.len(),
        round.groups.len(),
        round.unplaced.len(),
        ledger.reviews.len(),
        ledger.held,
        days(ledger.reviewer_days),
        pounds(ledger.cost_pence)
    );
    h.push_str("<h2>Map of the groups</h2>\n");
    h.push_str(&map_svg(state, round));
    h.push_str("<h2>Rota</h2>\n<table><tr><th>group</th>");
    for p in &round.periods {
        let dates = calendar
            .half_term(p)
            .map(|t| format!("<br><small>{} to {}</small>", t.first, t.last))
            .unwrap_or_default();
        let _ = write!(h, "<th>{}{dates}</th>", esc(p.as_str()));
    }
    h.push_str("</tr>\n");
    for g in round.groups.values() {
        let _ = write!(h, "<tr><th>{}</th>", g.group);
        for p in &round.periods {
            let cell: Vec<String> = ledger
                .reviews
                .iter()
                .filter(|r| r.group == g.group && &r.period == p)
                .map(|r| {
                    let held = r.held.map(|d| format!(" (held {d})")).unwrap_or_default();
                    format!("{} hosts{held}", esc(&label(state, r.host)))
                })
                .collect();
            let class = if ledger
                .reviews
                .iter()
                .any(|r| r.group == g.group && &r.period == p && r.held.is_some())
            {
                " class=\"held\""
            } else {
                ""
            };
            let _ = write!(h, "<td{class}>{}</td>", cell.join("<br>"));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n<h2>Groups</h2>\n<table><tr><th>group</th><th>schools</th><th>why this is a good group</th></tr>\n");
    for g in round.groups.values() {
        let names: Vec<String> = g.members.iter().map(|u| esc(&label(state, *u))).collect();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"why\">{}</td></tr>",
            g.group,
            names.join("<br>"),
            esc(&words::reasons(g))
        );
    }
    h.push_str("</table>\n");
    if !round.unplaced.is_empty() {
        h.push_str("<h2>Unplaced</h2>\n<table><tr><th>school</th><th>why</th></tr>\n");
        for u in round.unplaced.values() {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td></tr>",
                esc(&label(state, u.urn)),
                esc(&u.detail)
            );
        }
        h.push_str("</table>\n");
    }
    h.push_str("<h2>Totals by school</h2>\n<table><tr><th>school</th><th>group</th><th>hosted</th><th>hosting cost</th><th>days reviewing</th></tr>\n");
    for s in &ledger.schools {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>£{}</td><td>{}</td></tr>",
            esc(&label(state, s.urn)),
            s.group.map(|g| g.to_string()).unwrap_or_else(|| "unplaced".to_owned()),
            s.hosted,
            pounds(s.hosting_cost_pence),
            days(s.days_given)
        );
    }
    h.push_str("</table>\n</body></html>\n");
    h
}

fn label(state: &State, urn: Urn) -> String {
    match state.schools.get(&urn) {
        Some(s) => format!("{} {}", urn, s.name),
        None => urn.to_string(),
    }
}

/// The map: enrolled schools at their grid points (north up), each group's
/// members joined and coloured, unplaced schools as grey crosses.
pub fn map_svg(state: &State, round: &Round) -> String {
    const W: f64 = 760.0;
    const PAD: f64 = 20.0;
    let points: Vec<(Urn, f64, f64)> = round
        .enrolled
        .iter()
        .filter_map(|u| state.schools.get(u))
        .map(|s| (s.urn, s.easting, s.northing))
        .collect();
    if points.is_empty() {
        return "<p>No schools enrolled.</p>\n".to_owned();
    }
    let (mut e0, mut e1, mut n0, mut n1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (_, e, n) in &points {
        (e0, e1, n0, n1) = (e0.min(*e), e1.max(*e), n0.min(*n), n1.max(*n));
    }
    let span = (e1 - e0).max(n1 - n0).max(1.0);
    let scale = (W - 2.0 * PAD) / span;
    let height = (n1 - n0) * scale + 2.0 * PAD;
    let at: BTreeMap<Urn, (f64, f64)> = points
        .iter()
        .map(|(u, e, n)| (*u, (PAD + (e - e0) * scale, PAD + (n1 - n) * scale)))
        .collect();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{height:.0}\" viewBox=\"0 0 {W} {height:.0}\" role=\"img\" aria-label=\"map of the groups\">\n<rect width=\"100%\" height=\"100%\" fill=\"#fafafa\" stroke=\"#ccc\"/>"
    );
    for g in round.groups.values() {
        let colour = PALETTE[(g.group as usize - 1) % PALETTE.len()];
        let pts: Vec<String> = g
            .members
            .iter()
            .filter_map(|u| at.get(u))
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect();
        let _ = writeln!(
            s,
            "<g class=\"group\" data-group=\"{}\"><polygon points=\"{}\" fill=\"{colour}\" fill-opacity=\"0.12\" stroke=\"{colour}\" stroke-width=\"1.5\"/>",
            g.group,
            pts.join(" ")
        );
        for u in &g.members {
            if let Some((x, y)) = at.get(u) {
                let _ = writeln!(
                    s,
                    "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{colour}\"><title>{} (group {})</title></circle>",
                    esc(&label(state, *u)),
                    g.group
                );
            }
        }
        s.push_str("</g>\n");
    }
    for u in round.unplaced.keys() {
        if let Some((x, y)) = at.get(u) {
            let _ = writeln!(
                s,
                "<path class=\"unplaced\" d=\"M{:.1},{:.1}l8,8m0,-8l-8,8\" stroke=\"#888\" stroke-width=\"2\"><title>{} (unplaced)</title></path>",
                x - 4.0,
                y - 4.0,
                esc(&label(state, *u))
            );
        }
    }
    s.push_str("</svg>\n");
    s
}
