//! Helpers for the end-to-end tests: paths to the built binaries and to the
//! shared data folder.

use std::path::PathBuf;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `../shared/data` beside the workspace, where the real school data lives.
pub fn shared_data() -> PathBuf {
    workspace_root().join("../shared/data")
}
