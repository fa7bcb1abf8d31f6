//! `bridges-worker`: the solver command line. Parses arguments, starts
//! tracing and hands over to [`bridges_worker::cli::run`].

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = bridges_worker::cli::Args::parse();
    bridges_worker::cli::run(args)
}
