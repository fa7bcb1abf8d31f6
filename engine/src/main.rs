//! `bridges`: the engine command line. Parses arguments, starts tracing (info
//! for the services `serve` and `web`, JSON lines for `serve --log-json`) and
//! hands over to `bridges_engine::cli::run`; a failure is printed as one line
//! on stderr and exits 2 for bad input, 1 for the environment. Nothing else
//! lives here.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = bridges_engine::cli::Args::parse();
    let serve = match &args.command {
        bridges_engine::cli::Command::Serve(a) => Some(a.log_json),
        bridges_engine::cli::Command::Web(_) => Some(false),
        _ => None,
    };
    // A service logs its progress (info; async-nats's own connection log
    // repeats the service's); one-shot commands what goes wrong.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(if serve.is_some() {
            "info,async_nats=off"
        } else {
            "error"
        })
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    if serve == Some(true) {
        builder.json().init();
    } else {
        builder.init();
    }
    match bridges_engine::cli::run(args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("bridges: {error}");
            error.exit_code()
        }
    }
}
