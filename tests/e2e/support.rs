//! Helpers shared by the end-to-end tests.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The `campustwin` binary built for these tests.
pub fn campustwin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_campustwin"))
}

/// Runs `campustwin` with `args` and returns its output.
pub fn run(args: &[&str]) -> Output {
    campustwin().args(args).output().expect("campustwin runs")
}

/// Root of the repository.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
