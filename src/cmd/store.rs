//! `campustwin store stats PATH`: what the ingest store holds, as JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use ingest::store::Store;

use crate::exit::BadInputExt;

/// Arguments of `campustwin store`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Print readings, points, rejections by reason, duplicates and sink backlog as JSON.
    Stats {
        /// Store file.
        path: PathBuf,
    },
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Stats { path } => {
            let store = Store::open_existing(&path).bad_input()?;
            let stats = store.stats()?;
            println!("{}", serde_json::to_string_pretty(&stats)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}
