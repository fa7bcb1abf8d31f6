//! `bridges`: the engine command line. Parses arguments, starts tracing and
//! hands over to `bridges_engine::cli::run`; a failure is printed as one line
//! on stderr and exits 2 for bad input, 1 for the environment. Nothing else
//! lives here.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    match bridges_engine::cli::run(bridges_engine::cli::Args::parse()) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("bridges: {error}");
            error.exit_code()
        }
    }
}
