//! The page's charts, drawn by plotters' SVG backend into strings that the
//! page inlines (no script, font or image is fetched). Each chart draws one
//! mark per row of its table, and only the marks carry [`MARK_OPACITY`] (axes,
//! grid and budget lines are drawn otherwise), so that a reader of the SVG
//! can count the marks against the CSV: coverage by tier (a point per
//! `run_tiers` row), utilisation (a cell per `utilisation` row), spend
//! (a point per `spend_by_month` row, budgets as lines), service levels (a
//! bar per `service_by_week` row) and the map (a point per `schools` row, a
//! line per committed assignment of `assignments`).

use plotters::prelude::*;

use super::table::Table;

/// The opacity of a chart's marks, and of nothing else it draws.
pub const MARK_OPACITY: f64 = 0.85;

/// One drawn chart: its id, title, the table its marks come from, the SVG.
#[derive(Debug, Clone)]
pub struct Chart {
    pub id: &'static str,
    pub title: &'static str,
    pub table: &'static str,
    pub svg: String,
    /// Colour and name of each series, for the page's legend.
    pub legend: Vec<(String, String)>,
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("drawing the {chart} chart: {message}")]
pub struct ChartError {
    pub chart: &'static str,
    pub message: String,
}

const TIERS: [RGBColor; 4] =
    [RGBColor(200, 30, 45), RGBColor(230, 130, 20), RGBColor(40, 120, 190), RGBColor(90, 150, 80)];
const SOURCES: [RGBColor; 4] =
    [RGBColor(40, 120, 190), RGBColor(200, 90, 30), RGBColor(120, 60, 160), RGBColor(60, 150, 90)];
const MET: RGBColor = RGBColor(60, 150, 90);
const LATE: RGBColor = RGBColor(200, 30, 45);
const NO_TIER: RGBColor = RGBColor(150, 150, 150);

fn hex(c: &RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

fn cell<'a>(t: &'a Table, row: &'a [String], header: &str) -> &'a str {
    t.column(header).and_then(|i| row.get(i)).map_or("", String::as_str)
}

fn num(t: &Table, row: &[String], header: &str) -> f64 {
    cell(t, row, header).parse().unwrap_or(0.0)
}

/// The name at a category axis' tick: the category whose index is nearest,
/// and none between categories.
fn label(names: &[&str], at: f64) -> String {
    let i = at.round();
    if i < 0.0 || (at - i).abs() > 0.01 {
        return String::new();
    }
    names.get(i as usize).map(|s| s.to_string()).unwrap_or_default()
}

fn table<'a>(tables: &'a [Table], name: &str) -> Option<&'a Table> {
    tables.iter().find(|t| t.name == name)
}

/// Draws into an SVG string with `draw`, mapping plotters' errors.
fn svg(
    chart: &'static str,
    size: (u32, u32),
    draw: impl FnOnce(
        &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    ) -> Result<(), Box<dyn std::error::Error>>,
) -> Result<String, ChartError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        let fail = |e: &dyn std::error::Error| ChartError { chart, message: e.to_string() };
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        draw(&root).map_err(|e| fail(e.as_ref()))?;
        root.present().map_err(|e| fail(&e))?;
    }
    Ok(out)
}

/// Every chart of the page, from the report's tables.
pub fn charts(tables: &[Table]) -> Result<Vec<Chart>, ChartError> {
    let empty = |name| Table::new(name, "", &[]);
    let get = |name: &'static str| table(tables, name).cloned().unwrap_or_else(|| empty(name));
    Ok(vec![
        coverage(&get("run_tiers"))?,
        utilisation(&get("utilisation"))?,
        spend(&get("spend_by_month"))?,
        service(&get("service_by_week"))?,
        map(&get("schools"), &get("assignments"))?,
    ])
}

fn coverage(t: &Table) -> Result<Chart, ChartError> {
    let mut runs: Vec<&str> = t.rows.iter().map(|r| cell(t, r, "run")).collect();
    runs.dedup();
    let n = runs.len().max(1) as f64;
    let svg = svg("coverage", (900, 320), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(44)
            .build_cartesian_2d(-0.5f64..n - 0.5, 0f64..105f64)?;
        chart
            .configure_mesh()
            .x_desc("run")
            .y_desc("days covered, % of requested")
            .x_labels(runs.len().min(20))
            .x_label_formatter(&|x| label(&runs, *x))
            .draw()?;
        chart.draw_series(t.rows.iter().map(|row| {
            let run = cell(t, row, "run");
            let x = runs.iter().position(|r| *r == run).unwrap_or(0) as f64;
            let tier = (num(t, row, "tier") as usize).clamp(1, 4);
            let y = if num(t, row, "requested_days") > 0.0 {
                num(t, row, "coverage_pct")
            } else {
                100.0
            };
            let dx = (tier as f64 - 2.5) * 0.12;
            Circle::new((x + dx, y), 4, TIERS[tier - 1].mix(MARK_OPACITY).filled())
        }))?;
        Ok(())
    })?;
    Ok(Chart {
        id: "coverage",
        title: "Coverage by tier over the runs",
        table: "run_tiers",
        svg,
        legend: (1..=4).map(|i| (hex(&TIERS[i - 1]), format!("tier {i}"))).collect(),
    })
}

fn utilisation(t: &Table) -> Result<Chart, ChartError> {
    let mut people: Vec<&str> = t.rows.iter().map(|r| cell(t, r, "practitioner")).collect();
    people.sort();
    people.dedup();
    let mut terms: Vec<&str> = t.rows.iter().map(|r| cell(t, r, "half_term")).collect();
    terms.sort();
    terms.dedup();
    let (np, nt) = (people.len().max(1), terms.len().max(1));
    let height = (60 + 14 * np as u32).max(200);
    let svg = svg("utilisation", (900, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(90)
            .build_cartesian_2d(-0.5f64..nt as f64 - 0.5, -0.5f64..np as f64 - 0.5)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nt)
            .y_labels(np.min(60))
            .x_label_formatter(&|x| label(&terms, *x))
            .y_label_formatter(&|y| label(&people, *y))
            .x_desc("half-term")
            .draw()?;
        chart.draw_series(t.rows.iter().map(|row| {
            let x = terms.iter().position(|h| *h == cell(t, row, "half_term")).unwrap_or(0) as f64;
            let y =
                people.iter().position(|p| *p == cell(t, row, "practitioner")).unwrap_or(0) as f64;
            let pct = cell(t, row, "utilisation_pct");
            let colour = match pct.parse::<f64>() {
                Ok(p) => {
                    let s = (p / 100.0).clamp(0.0, 1.0);
                    RGBColor(
                        (235.0 - 200.0 * s) as u8,
                        (240.0 - 140.0 * s) as u8,
                        (250.0 - 60.0 * s) as u8,
                    )
                }
                Err(_) => NO_TIER,
            };
            Rectangle::new(
                [(x - 0.46, y - 0.44), (x + 0.46, y + 0.44)],
                colour.mix(MARK_OPACITY).filled(),
            )
        }))?;
        Ok(())
    })?;
    Ok(Chart {
        id: "utilisation",
        title: "Utilisation: accepted days of the days declared, per practitioner and half-term",
        table: "utilisation",
        svg,
        legend: vec![
            ("#ebf0fa".into(), "0%".into()),
            ("#2364be".into(), "100% or more".into()),
            (hex(&NO_TIER), "days given, none declared".into()),
        ],
    })
}

fn spend(t: &Table) -> Result<Chart, ChartError> {
    let mut months: Vec<&str> = t.rows.iter().map(|r| cell(t, r, "month")).collect();
    months.sort();
    months.dedup();
    let n = months.len().max(1) as f64;
    let top = t
        .rows
        .iter()
        .map(|r| num(t, r, "cumulative_gbp").max(num(t, r, "budget_gbp")))
        .fold(1.0f64, f64::max)
        * 1.08;
    let sources = bridges_schemas::vocab::FundingSource::ALL;
    let svg = svg("spend", (900, 340), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(70)
            .build_cartesian_2d(-0.5f64..n - 0.5, 0f64..top)?;
        chart
            .configure_mesh()
            .x_labels(months.len().min(24))
            .x_label_formatter(&|x| label(&months, *x))
            .y_label_formatter(&|y| format!("£{:.0}", y))
            .y_desc("spent so far in the academic year")
            .draw()?;
        for (i, f) in sources.iter().enumerate() {
            let rows: Vec<&Vec<String>> =
                t.rows.iter().filter(|r| cell(t, r, "funding") == f.as_str()).collect();
            let budget = rows.iter().map(|r| num(t, r, "budget_gbp")).fold(0.0, f64::max);
            if budget > 0.0 {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(-0.5, budget), (n - 0.5, budget)],
                    SOURCES[i].stroke_width(1),
                )))?;
            }
            chart.draw_series(rows.iter().map(|row| {
                let x = months.iter().position(|m| *m == cell(t, row, "month")).unwrap_or(0) as f64;
                let dx = (i as f64 - 1.5) * 0.1;
                Circle::new(
                    (x + dx, num(t, row, "cumulative_gbp")),
                    3,
                    SOURCES[i].mix(MARK_OPACITY).filled(),
                )
            }))?;
        }
        Ok(())
    })?;
    Ok(Chart {
        id: "spend",
        title: "Spend against budget by month and funding source (points: spent so far; lines: the year's budget)",
        table: "spend_by_month",
        svg,
        legend: sources
            .iter()
            .enumerate()
            .map(|(i, f)| (hex(&SOURCES[i]), f.as_str().to_owned()))
            .collect(),
    })
}

fn service(t: &Table) -> Result<Chart, ChartError> {
    let mut weeks: Vec<&str> = t.rows.iter().map(|r| cell(t, r, "week")).collect();
    weeks.sort();
    weeks.dedup();
    let n = weeks.len().max(1) as f64;
    let mut totals = vec![0.0f64; weeks.len()];
    for r in &t.rows {
        if let Some(i) = weeks.iter().position(|w| *w == cell(t, r, "week")) {
            totals[i] += num(t, r, "clocks");
        }
    }
    let top = totals.iter().copied().fold(1.0, f64::max) * 1.1;
    let svg = svg("service", (900, 300), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(44)
            .build_cartesian_2d(-0.5f64..n - 0.5, 0f64..top)?;
        chart
            .configure_mesh()
            .x_labels(weeks.len().min(20))
            .x_label_formatter(&|x| label(&weeks, *x))
            .y_desc("clocks due that week")
            .draw()?;
        chart.draw_series(t.rows.iter().map(|row| {
            let week = cell(t, row, "week");
            let x = weeks.iter().position(|w| *w == week).unwrap_or(0) as f64;
            let met: f64 = t
                .rows
                .iter()
                .filter(|r| cell(t, r, "week") == week && cell(t, r, "status") == "met")
                .map(|r| num(t, r, "clocks"))
                .sum();
            let n = num(t, row, "clocks");
            let (base, colour) =
                if cell(t, row, "status") == "met" { (0.0, MET) } else { (met, LATE) };
            Rectangle::new(
                [(x - 0.38, base), (x + 0.38, base + n)],
                colour.mix(MARK_OPACITY).filled(),
            )
        }))?;
        Ok(())
    })?;
    Ok(Chart {
        id: "service",
        title: "Service levels met and late, by the week they fell due",
        table: "service_by_week",
        svg,
        legend: vec![(hex(&MET), "met".into()), (hex(&LATE), "late".into())],
    })
}

fn map(schools: &Table, assignments: &Table) -> Result<Chart, ChartError> {
    let points: Vec<(f64, f64)> = schools
        .rows
        .iter()
        .map(|r| (num(schools, r, "easting"), num(schools, r, "northing")))
        .collect();
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in &points {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        y0 = y0.min(*y);
        y1 = y1.max(*y);
    }
    if points.is_empty() {
        (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
    }
    let pad = ((x1 - x0).max(y1 - y0) * 0.05).max(100.0);
    let (x0, x1, y0, y1) = (x0 - pad, x1 + pad, y0 - pad, y1 + pad);
    let width = 700u32;
    let height =
        ((f64::from(width) - 90.0) * (y1 - y0) / (x1 - x0) + 60.0).clamp(300.0, 1200.0) as u32;
    let at = |urn: &str| {
        schools
            .rows
            .iter()
            .find(|r| cell(schools, r, "urn") == urn)
            .map(|r| (num(schools, r, "easting"), num(schools, r, "northing")))
    };
    let svg = svg("map", (width, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_desc("easting (m)")
            .y_desc("northing (m)")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()?;
        chart.draw_series(
            assignments
                .rows
                .iter()
                .filter(|r| matches!(cell(assignments, r, "status"), "accepted" | "completed"))
                .map(|r| {
                    let from = at(cell(assignments, r, "home_urn"));
                    let to = at(cell(assignments, r, "urn"));
                    let (from, to) = match (from, to) {
                        (Some(a), Some(b)) => (a, b),
                        (Some(a), None) | (None, Some(a)) => (a, a),
                        (None, None) => ((x0, y0), (x0, y0)),
                    };
                    PathElement::new(vec![from, to], RGBColor(80, 80, 80).mix(MARK_OPACITY))
                }),
        )?;
        chart.draw_series(schools.rows.iter().map(|r| {
            let colour = match cell(schools, r, "tier").parse::<usize>() {
                Ok(t @ 1..=4) => TIERS[t - 1],
                _ => NO_TIER,
            };
            Circle::new(
                (num(schools, r, "easting"), num(schools, r, "northing")),
                4,
                colour.mix(MARK_OPACITY).filled(),
            )
        }))?;
        Ok(())
    })?;
    let mut legend: Vec<(String, String)> =
        (1..=4).map(|i| (hex(&TIERS[i - 1]), format!("tier {i}"))).collect();
    legend.push((hex(&NO_TIER), "not at risk".into()));
    legend.push(("#505050".into(), "line: an accepted assignment, home school to school".into()));
    Ok(Chart {
        id: "map",
        title: "The LA's schools by risk tier, with a line for each accepted assignment",
        table: "schools",
        svg,
        legend,
    })
}
