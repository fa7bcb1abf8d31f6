//! `bridges web`: the broker's desk (`crate::web`) on the data folder until
//! SIGTERM (with the mailer when `[mail]` is set, and the command line's
//! socket, `local`), and `bridges user add|disable|enable|reset|list`: the accounts
//! it signs in (`<data>-users.json`, beside the folder; no log needed).

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use bridges_schemas::accounts::Role;
use chrono::Utc;

use super::CliError;
use crate::config::Config;
use crate::log::EventLog;
use crate::nats::schedule::Clock;
use crate::web::{self, WebOptions, accounts::AccountError, accounts::AccountStore};

#[derive(Debug, clap::Args)]
#[command(after_help = "Example: bridges web --listen 127.0.0.1:8080

Behind a reverse proxy that serves HTTPS, give --secure-cookies (README, \"The broker's desk\").")]
pub struct WebArgs {
    /// The address to listen on.
    #[arg(long, env = "BRIDGES_WEB_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Mark cookies Secure: the page is reached over HTTPS (a proxy's).
    #[arg(long, env = "BRIDGES_WEB_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// For tests only: the page's clock reads this moment (RFC 3339) at
    /// start and runs on from it.
    #[arg(long, hide = true)]
    pub now: Option<chrono::DateTime<Utc>>,
}

/// Serves the page until SIGTERM or SIGINT, then closes the engine.
pub async fn run(
    args: WebArgs,
    config: &Config,
    data: &Path,
    log: EventLog,
) -> anyhow::Result<ExitCode> {
    let engine = super::session::open_engine(config, data, log).await?;
    let engine = Arc::new(engine);
    let clock = args.now.map_or_else(Clock::system, Clock::starting_at);
    let options = WebOptions {
        listen: args.listen,
        secure_cookies: args.secure_cookies,
        la: config.la_code,
        clock,
        solve: bridges_worker::common::SolveOptions {
            time_limit: Some(config.solver.time_limit_seconds),
            mip_gap: Some(config.solver.mip_gap).filter(|g| *g > 0.0),
        },
        mail: config.mail.clone(),
    };
    let start = web::WebStart {
        data: data.to_owned(),
        options,
        mail_ledger: super::beside(data, "mail.json"),
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        bridges_worker::cli::shutdown_signal().await;
        let _ = stop.send(true);
    });
    // The command line's way in while the page holds the folder.
    let local = tokio::spawn(super::local::serve(
        engine.clone(),
        config.clone(),
        data.to_owned(),
        stopped.clone(),
    ));
    let served = start.run(engine.clone(), stopped).await;
    match local.await {
        Ok(Err(e)) => tracing::warn!(error = %e, "the command line's socket failed"),
        Err(e) => tracing::warn!(error = %e, "the command line's socket task failed"),
        Ok(Ok(())) => {}
    }
    let engine = crate::handle::unshare(engine, std::time::Duration::from_secs(10))
        .await
        .map_err(|_| CliError::environment("the engine is still shared at shutdown"))?;
    engine.close().await.context("closing the engine")?;
    served.map_err(|e| CliError::environment(format!("serving on {}: {e}", args.listen)))?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Add an account; its password is read from the first line of stdin.
    /// Prints the second factor's secret to enter into an authenticator app.
    ///
    /// Example: echo 'a long pass phrase' | bridges user add broker-1 --role broker
    Add {
        name: String,
        /// administrator, broker, coordinator (review coordinator) or viewer.
        #[arg(long, value_parser = role)]
        role: Role,
    },
    /// Disable an account: it cannot sign in, and its sessions end.
    Disable { name: String },
    /// Enable a disabled account again.
    Enable { name: String },
    /// Set a new password (read from stdin), to be changed at next sign-in.
    Reset { name: String },
    /// Every account, its role and whether it is disabled.
    List,
}

fn role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        "expected administrator, broker, coordinator, review_coordinator or viewer".to_owned()
    })
}

/// Runs one `bridges user` command on the accounts beside `data`.
pub fn run_user(what: UserCommand, data: &Path) -> anyhow::Result<ExitCode> {
    let store = AccountStore::beside(data);
    let bad = |e: AccountError| -> anyhow::Error {
        match e.is_bad_input() {
            true => CliError::bad_input(format!("invalid argument: {e}")).into(),
            false => CliError::environment(e.to_string()).into(),
        }
    };
    match what {
        UserCommand::Add { name, role } => {
            let password = read_password()?;
            let enrolment = store.add(&name, role, &password, Utc::now()).map_err(bad)?;
            println!("added {name} ({}) to {}", role.as_str(), store.path().display());
            println!(
                "second factor: enter this secret in an authenticator app (TOTP, 6 digits, 30 s)"
            );
            println!("  secret: {}", enrolment.secret);
            println!("  url:    {}", enrolment.url);
        }
        UserCommand::Disable { name } => {
            store.set_disabled(&name, true).map_err(bad)?;
            println!("disabled {name}");
        }
        UserCommand::Enable { name } => {
            store.set_disabled(&name, false).map_err(bad)?;
            println!("enabled {name}");
        }
        UserCommand::Reset { name } => {
            let password = read_password()?;
            store.set_password(&name, &password, true).map_err(bad)?;
            println!("reset the password of {name}; it must be changed at the next sign-in");
        }
        UserCommand::List => {
            let accounts = store.load().map_err(bad)?;
            println!("{:<24} {:<20} status", "user", "role");
            for a in &accounts.accounts {
                let status = if a.disabled { "disabled" } else { "active" };
                println!("{:<24} {:<20} {status}", a.user, a.role.as_str());
            }
            println!("{}", crate::views::count(accounts.accounts.len(), "account"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The first line of stdin, without its line end.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}
