//! Helpers for the end-to-end tests: the built binaries, the shared data
//! folder, and running a command to completion. Tests here drive the real
//! `bridges` and `bridges-worker` processes, as a user or CI would.

pub mod browser;
pub mod journey;
pub mod nats;
pub mod services;
pub mod web;

use std::path::PathBuf;
use std::process::{Command, Output};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `../shared/data` beside the workspace, where the real school data lives.
pub fn shared_data() -> PathBuf {
    workspace_root().join("../shared/data")
}

/// The path of a workspace binary (`bridges` or `bridges-worker`) built in the
/// same profile as this test; builds it when `cargo test -p bridges-tests`
/// alone did not.
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let profile_dir =
        exe.parent().and_then(|d| d.parent()).expect("test binary lives in target/<profile>/deps");
    let path = profile_dir.join(name);
    if !path.exists() {
        let release = profile_dir.file_name().is_some_and(|p| p == "release");
        let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
        cargo.current_dir(workspace_root()).args(["build", "--bin", name]);
        if release {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("cargo runs");
        assert!(status.success(), "building {name} failed");
    }
    path
}

/// Runs a command to completion and returns its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("the command starts")
}
