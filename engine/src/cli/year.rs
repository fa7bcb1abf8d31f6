//! `bridges year`: README's main job. Checks its flags, opens the engine,
//! runs the year (`crate::year`) with a progress bar on stderr (indicatif;
//! hidden when stderr is not a terminal), writes the report as of the
//! year's end (`crate::reports`) and prints a short summary: coverage
//! against the greedy broker, answers, visits, days, spend against budget,
//! service levels and the path of the HTML page. It decides nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use super::CliError;
use super::weekly::keys_dir;
use crate::config::Config;
use crate::handle::Engine;
use crate::keys::KeyStore;
use crate::log::EventLog;
use crate::render::money;
use crate::reports;
use crate::year::{self, YearOutcome, YearRequest};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  bridges year\n  bridges year --seed 7 --weeks 12 --report year-report"
)]
pub struct YearArgs {
    /// The academic year, by the calendar year it starts in.
    #[arg(long, default_value_t = 2026)]
    starts: i32,
    /// The seed of the simulated answers and visits.
    #[arg(long, default_value_t = year::DEFAULT_SEED)]
    seed: u64,
    /// Only the first WEEKS term weeks (default: all 39).
    #[arg(long)]
    weeks: Option<usize>,
    /// GIAS-format CSV of real schools (default: ../shared/data/hillingdon_ealing_schools.csv when present).
    #[arg(long)]
    gias: Option<PathBuf>,
    /// Generate the borough's schools instead of reading GIAS.
    #[arg(long)]
    synthetic: bool,
    /// Where the demo's CSVs are written (default: `<data>-demo`).
    #[arg(long)]
    demo_dir: Option<PathBuf>,
    /// Where the report is written (default: `<data>-report`).
    #[arg(long)]
    report: Option<PathBuf>,
}

/// Runs the year and prints its summary.
pub async fn run(
    args: YearArgs,
    config: &Config,
    data: &Path,
    open: impl Fn() -> anyhow::Result<EventLog>,
) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mondays = year::term_mondays(config, args.starts)
        .map_err(|e| CliError::bad_input(format!("--starts = {}: {e}", args.starts)))?;
    if args.weeks == Some(0) {
        return Err(CliError::bad_input("--weeks = 0: at least one week").into());
    }
    let gias = if args.synthetic {
        None
    } else {
        args.gias.clone().or_else(|| {
            let shared = PathBuf::from("../shared/data/hillingdon_ealing_schools.csv");
            shared.exists().then_some(shared)
        })
    };
    if let Some(path) = &gias {
        crate::weekly::check_gias(path, config.la_code)?;
    }
    let demo_dir = args.demo_dir.clone().unwrap_or_else(|| super::weekly::beside(data, "demo"));
    let report_dir = args.report.clone().unwrap_or_else(|| super::weekly::beside(data, "report"));
    let keys = KeyStore::open(keys_dir(data)).map_err(|e| {
        CliError::environment(format!("opening the key store {}: {e}", keys_dir(data).display()))
    })?;
    let engine = Engine::open(open()?, crate::rules::rules(config), keys).await?;
    let weeks = args.weeks.unwrap_or(mondays.len()).min(mondays.len());
    let bar = ProgressBar::new(weeks as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:39} {pos}/{len} weeks {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let request = YearRequest {
        starts: args.starts,
        weeks: args.weeks,
        seed: args.seed,
        gias: gias.clone(),
        demo_dir: demo_dir.clone(),
    };
    let outcome = year::run(&engine, config, &request, |i, week| {
        bar.set_position(i as u64);
        bar.set_message(week.to_owned());
    })
    .await;
    bar.finish_and_clear();
    // The report is written as `bridges report` writes it, from the log
    // reopened once the engine has closed: the same files.
    let summed = match outcome {
        Ok(outcome) => engine_figures(&engine, &outcome).await.map(|f| (outcome, f)),
        Err(e) => Err(e.into()),
    };
    engine.close().await?;
    let (outcome, figures) = summed?;
    let log = open()?;
    let written = super::report::write_report(config, &log, reports::AsOf::Head, &report_dir);
    log.close().await?;
    let (report, written) = written?;
    let text = summary(&outcome, &figures, &report, &written, &report_dir, data, gias.as_deref());
    print!("{text}");
    println!("took {:.1} s", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

/// What the summary reads from the engine: the spend table, proposals
/// expired, days accepted and half days delivered.
struct Figures {
    spend: String,
    expired: usize,
    committed_days: u32,
    delivered: u32,
}

async fn engine_figures(engine: &Engine, outcome: &YearOutcome) -> anyhow::Result<Figures> {
    let rules = engine.rules();
    Ok(engine
        .read(|s| Figures {
            spend: crate::weekly::spend(s, rules, outcome.last_at),
            expired: s
                .assignments
                .values()
                .filter(|a| a.status == crate::domain::state::AssignmentStatus::Expired)
                .count(),
            committed_days: s
                .assignments
                .values()
                .filter(|a| a.is_committed())
                .map(|a| a.days.values().sum::<u32>())
                .sum(),
            delivered: s.assignments.values().map(|a| a.charged_half_days()).sum(),
        })
        .await?)
}

/// The summary: coverage against greedy, the simulated commands, days,
/// spend, service levels and where the report is.
fn summary(
    outcome: &YearOutcome,
    figures: &Figures,
    report: &reports::Report,
    written: &reports::Written,
    report_dir: &Path,
    data: &Path,
    gias: Option<&Path>,
) -> String {
    let mut out = format!(
        "Bridges: a year of the partnership of LA {} ({} term weeks, schools from {})\nlog: {} events in {}\n\n",
        report.la,
        outcome.weeks.len(),
        gias.map(|p| p.display().to_string()).unwrap_or_else(|| "a generated borough".into()),
        report.cut.position,
        data.display()
    );
    let _ = writeln!(
        out,
        "Coverage over the year's runs (days covered of days requested, summed over runs)"
    );
    let _ = writeln!(
        out,
        "{:<8} {:>10} {:>10} {:>8} {:>10} {:>8}",
        "tier", "requested", "covered", "%", "greedy", "%"
    );
    let mut total = [0u64; 3];
    for t in 0..4 {
        let r: u64 = outcome.weeks.iter().map(|w| u64::from(w.requested[t])).sum();
        let c: u64 = outcome.weeks.iter().map(|w| u64::from(w.covered[t])).sum();
        let g: u64 = outcome.weeks.iter().map(|w| u64::from(w.greedy[t])).sum();
        total[0] += r;
        total[1] += c;
        total[2] += g;
        let _ = writeln!(
            out,
            "{:<8} {:>10} {:>10} {:>8} {:>10} {:>8}",
            format!("tier {}", t + 1),
            r,
            c,
            pct(c, r),
            g,
            pct(g, r)
        );
    }
    let _ = writeln!(
        out,
        "{:<8} {:>10} {:>10} {:>8} {:>10} {:>8}\n",
        "all",
        total[0],
        total[1],
        pct(total[1], total[0]),
        total[2],
        pct(total[2], total[0])
    );
    out.push_str(&versus_table(outcome));
    let counts: Vec<String> =
        outcome.tally.applied.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let _ = writeln!(out, "simulated commands applied: {}", counts.join(", "));
    if !outcome.tally.refused.is_empty() {
        let refused: Vec<String> =
            outcome.tally.refused.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let _ = writeln!(out, "refused (recorded nothing): {}", refused.join(", "));
    }
    let _ = writeln!(
        out,
        "proposals expired unanswered: {}; days accepted: {}; days delivered (charged): {}",
        figures.expired,
        figures.committed_days,
        reports::table::half_days_as_days(u64::from(figures.delivered))
    );
    if let Some(p) = &outcome.erased {
        let _ = writeln!(out, "personal data erased half-way: practitioner {p}");
    }
    out.push('\n');
    out.push_str(&figures.spend);
    if let Some(t) = report.tables.iter().find(|t| t.name == "service_levels") {
        let mut by: std::collections::BTreeMap<(&str, &str), u64> = Default::default();
        for row in &t.rows {
            *by.entry((row[0].as_str(), row[7].as_str())).or_default() += 1;
        }
        let _ = writeln!(out, "\nService levels (met / late / open)");
        for kind in ["match", "answer", "first_contact", "visit_record"] {
            let n = |s| by.get(&(kind, s)).copied().unwrap_or(0);
            let _ = writeln!(out, "{kind:<14} {:>6} {:>6} {:>6}", n("met"), n("late"), n("open"));
        }
    }
    let _ = writeln!(
        out,
        "\nreport: {} CSV files and {} recharge statements in {}\npage: {}",
        written.csv.len(),
        written.statements.len(),
        report_dir.display(),
        written.page.display()
    );
    out
}

/// The year's new proposals against the greedy broker's, run by run on the
/// same snapshots (each run's greedy plan is of the problem the solver had,
/// not of a year the greedy broker ran on its own).
fn versus_table(outcome: &YearOutcome) -> String {
    let runs: Vec<year::Versus> = outcome.weeks.iter().filter_map(|w| w.versus).collect();
    if runs.is_empty() {
        return String::new();
    }
    let v = runs.iter().fold(year::Versus::default(), |a, b| a + *b);
    let mut out = format!(
        "Against the greedy broker on the same snapshots ({} runs; new proposals only)\n",
        runs.len()
    );
    let _ = writeln!(out, "{:<44} {:>14} {:>14}", "", "Bridges", "greedy");
    let row = |out: &mut String, label: &str, [a, b]: [String; 2]| {
        let _ = writeln!(out, "{label:<44} {a:>14} {b:>14}");
    };
    row(&mut out, "days proposed", v.days.map(|d| d.to_string()));
    row(&mut out, "their cost at day rates (fee excluded)", v.cost_pence.map(money));
    row(
        &mut out,
        &format!("first matches, of {} waiting (request x run)", v.waiting),
        v.matched.map(|m| m.to_string()),
    );
    row(
        &mut out,
        "  of them within the match service level",
        v.matched_in_time.map(|m| m.to_string()),
    );
    out.push('\n');
    out
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 { "-".into() } else { format!("{:.1}", part as f64 * 100.0 / whole as f64) }
}
