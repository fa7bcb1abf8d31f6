//! `bridges serve`: the engine of the configured LA as a NATS service until
//! SIGTERM (see `crate::nats`). It opens the data folder (and holds its
//! lock) and the key store beside it, serves, then closes the engine with
//! a checkpoint.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use bridges_worker::common::SolveOptions;

use super::CliError;
use super::remote::Serving;
use crate::config::Config;
use crate::log::EventLog;
use crate::nats::{self, ServeOptions, runs::RunSettings};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example: bridges serve --nats-url nats://127.0.0.1:4222\n\nSubjects (prefix from the configuration): <prefix>.<la>.cmd, .query.problem, .runs.start (request/reply); .events.<stream>, .assignments.<practitioner>, .plans.<run>, .runs.requested (JetStream)."
)]
pub struct ServeArgs {
    /// The NATS server (default: nats_url of the configuration).
    #[arg(long)]
    pub nats_url: Option<String>,
    /// Duplicate window of the streams it creates, seconds.
    #[arg(long, default_value_t = 120.0)]
    pub duplicate_window: f64,
    /// Replicas of the streams and the bucket it creates (1 to 5; 3 on a
    /// three-node cluster).
    #[arg(long, default_value_t = 1)]
    pub replicas: usize,
    /// Relay publishes awaiting acknowledgement at most.
    #[arg(long, default_value_t = 256)]
    pub in_flight: usize,
    /// Ack wait of the plans consumer, seconds.
    #[arg(long, default_value_t = 30.0)]
    pub ack_wait: f64,
    /// Seconds a run's solve may take (default: solver.time_limit_seconds).
    #[arg(long)]
    pub time_limit: Option<f64>,
    /// Also serve the broker's desk (`bridges web`) on this address, on
    /// the same engine.
    #[arg(long)]
    pub web: Option<std::net::SocketAddr>,
    /// With --web: mark cookies Secure (the page is reached over HTTPS).
    #[arg(long, requires = "web")]
    pub web_secure_cookies: bool,
    /// Log as JSON lines (default: text).
    #[arg(long)]
    pub log_json: bool,
    /// For tests only: the schedule's clock reads this moment (RFC 3339)
    /// at start and runs on from it.
    #[arg(long, hide = true)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
}

/// Serves until SIGTERM or SIGINT.
pub async fn run(
    args: ServeArgs,
    config: &Config,
    data: &Path,
    log: EventLog,
) -> anyhow::Result<ExitCode> {
    let nats_url =
        args.nats_url.clone().or_else(|| config.nats_url().map(str::to_owned)).ok_or_else(
            || {
                CliError::bad_input(
                    "nats_url is empty: give --nats-url or set nats_url (BRIDGES_NATS_URL)",
                )
            },
        )?;
    let seconds = |field: &str, v: f64| {
        if v.is_finite() && v > 0.0 {
            Ok(Duration::from_secs_f64(v))
        } else {
            Err(CliError::bad_input(format!(
                "invalid argument: {field} = {v}: must be a number of seconds > 0"
            )))
        }
    };
    if args.in_flight == 0 {
        return Err(
            CliError::bad_input("invalid argument: --in-flight = 0: must be at least 1").into()
        );
    }
    if !(1..=5).contains(&args.replicas) {
        return Err(CliError::bad_input(format!(
            "invalid argument: --replicas = {}: must be 1 to 5",
            args.replicas
        ))
        .into());
    }
    let options = ServeOptions {
        nats_url,
        prefix: config.subject_prefix.clone(),
        la: config.la_code,
        duplicate_window: seconds("--duplicate-window", args.duplicate_window)?,
        replicas: args.replicas,
        in_flight: args.in_flight,
        ack_wait: seconds("--ack-wait", args.ack_wait)?,
        runs: RunSettings {
            prefix: config.subject_prefix.clone(),
            la: config.la_code,
            options: SolveOptions {
                time_limit: Some(args.time_limit.unwrap_or(config.solver.time_limit_seconds)),
                mip_gap: Some(config.solver.mip_gap).filter(|g| *g > 0.0),
            },
        },
        schedule: config.schedule.schedule().map(|schedule| nats::schedule::Scheduled {
            schedule,
            calendar: config.calendar.clone(),
            clock: args.now.map_or_else(nats::schedule::Clock::system, |now| {
                nats::schedule::Clock::starting_at(now)
            }),
        }),
        credentials: config.nats.clone(),
        config: std::sync::Arc::new(config.clone()),
        web: args.web.map(|listen| crate::web::WebStart {
            data: data.to_owned(),
            options: crate::web::WebOptions {
                listen,
                secure_cookies: args.web_secure_cookies,
                la: config.la_code,
                clock: args.now.map_or_else(nats::schedule::Clock::system, |now| {
                    nats::schedule::Clock::starting_at(now)
                }),
                solve: SolveOptions {
                    time_limit: Some(args.time_limit.unwrap_or(config.solver.time_limit_seconds)),
                    mip_gap: Some(config.solver.mip_gap).filter(|g| *g > 0.0),
                },
                mail: config.mail.clone(),
            },
            mail_ledger: super::beside(data, "mail.json"),
        }),
    };
    let engine = super::session::open_engine(config, data, log).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        bridges_worker::cli::shutdown_signal().await;
        let _ = stop.send(true);
    });
    // The CLI on this machine finds the service by this marker when the
    // folder is locked (`remote`); it goes when the service stops.
    let marker = Serving {
        nats_url: options.nats_url.clone(),
        prefix: options.prefix.clone(),
        la: options.la,
        pid: std::process::id(),
        since: chrono::Utc::now(),
    };
    marker.write(data).with_context(|| format!("writing {}", Serving::path(data).display()))?;
    let served = nats::serve(engine, options, stopped).await;
    Serving::remove(data);
    let engine = match served {
        Ok(engine) => engine,
        // One line naming who was refused (never the secret), exit 1; a
        // credentials file that cannot be read is the configuration's.
        Err(nats::ServeError::Connect(bridges_worker::nats::ServeError::Credentials(e))) => {
            return Err(CliError::bad_input(format!(
                "configuration nats.{}: {}",
                e.field, e.reason
            ))
            .into());
        }
        Err(e @ nats::ServeError::Connect(_)) => {
            return Err(CliError::environment(format!("serve: {e}")).into());
        }
        Err(e) => return Err(e.into()),
    };
    engine.close().await.context("closing the engine")?;
    Ok(ExitCode::SUCCESS)
}
