//! `bridges`: the engine command line. Parses arguments, starts tracing and
//! hands over to `bridges_engine::cli::run`; nothing else lives here.

use clap::Parser;

fn main() -> anyhow::Result<std::process::ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    bridges_engine::cli::run(bridges_engine::cli::Args::parse())
}
