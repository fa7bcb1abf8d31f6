//! `bridges-worker`: the solver command line. Parses arguments, starts
//! tracing (JSON lines for `serve --log-json`) and hands over to [`bridges_worker::cli::run`].

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = bridges_worker::cli::Args::parse();
    let json = matches!(&args.command, bridges_worker::cli::Command::Serve(a) if a.log_json);
    let filter = || {
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter(&args)))
    };
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter());
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
    bridges_worker::cli::run(args)
}

/// Services log their progress (info); one-shot commands only what goes wrong.
fn default_filter(args: &bridges_worker::cli::Args) -> &'static str {
    match args.command {
        // async-nats logs what the service logs of its connection again.
        bridges_worker::cli::Command::Serve(_) => "info,async_nats=off",
        _ => "error",
    }
}
