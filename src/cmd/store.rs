//! `campustwin store`: what an ingest store holds (`stats`), whether it is sound (`check`),
//! and a retention pass run by hand (`maintain`), each printing JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use ingest::store::Store;

use crate::cmd::ingest::RetentionArgs;
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
    /// Check a store without writing to it (a running ingest may keep writing): the file
    /// against its header, SQLite's integrity check, every chunk decoded and the counters
    /// against the tables. Prints a JSON report; exits 0 when sound, 1 when damaged, 2 when
    /// the file is missing or not a store.
    Check {
        /// Store file.
        path: PathBuf,
    },
    /// Run one retention pass now (what `ingest` does every few minutes): raw readings
    /// older than the raw retention folded into buckets, buckets and forecasts older than
    /// theirs deleted. Prints what it did as JSON.
    Maintain {
        /// Store file.
        path: PathBuf,
        /// How long readings are kept.
        #[command(flatten)]
        retention: RetentionArgs,
    },
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Stats { path } => {
            let store = Store::open_existing(&path).bad_input()?;
            print_json(&store.stats()?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { path } => {
            let report = ingest::store::check(&path).bad_input()?;
            print_json(&report)?;
            Ok(if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Maintain { path, retention } => {
            let retention = retention.retention().bad_input()?;
            let mut store = Store::open_existing(&path).bad_input()?;
            print_json(&store.maintain(chrono::Utc::now(), &retention)?)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
