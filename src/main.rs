//! `campustwin`: the command line of the CampusTwin digital twin.
//!
//! `main` parses arguments and hands each subcommand to its module in `cmd/`.

mod cmd;
mod exit;
mod follow;
mod logging;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Power, cooling and energy-grid digital twin for AI campuses.
#[derive(Debug, Parser)]
#[command(name = "campustwin", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate a campus file and list every problem with its path.
    Check(cmd::check::Args),
    /// Simulate a campus through time: power, cooling, water, grid.
    Simulate(cmd::simulate::Args),
    /// Schedule training jobs, GPU power caps, battery and generators (LP/MILP, HiGHS).
    Optimize(cmd::optimize::Args),
    /// Take live readings from an MQTT broker into the store (and InfluxDB).
    Ingest(Box<cmd::ingest::Args>),
    /// Publish the readings of a simulated campus to an MQTT broker (demo and load source).
    Sensors(Box<cmd::sensors::Args>),
    /// Run the live service: intake, store, estimator, forecasts and the HTTP API.
    Serve(Box<serve::Args>),
    /// Inspect an ingest store.
    Store(cmd::store::Args),
    /// Print one point's readings from an ingest store.
    History(cmd::history::Args),
    /// What candidate sites offer a new campus: the grid's headroom.
    Site(cmd::site::Args),
}

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => cmd::check::run(args),
        Command::Simulate(args) => cmd::simulate::run(args),
        Command::Optimize(args) => cmd::optimize::run(args),
        Command::Ingest(args) => cmd::ingest::run(*args),
        Command::Sensors(args) => cmd::sensors::run(*args),
        Command::Serve(args) => serve::run(*args),
        Command::Store(args) => cmd::store::run(args),
        Command::History(args) => cmd::history::run(args),
        Command::Site(args) => cmd::site::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => exit::report(&err),
    }
}

/// Logs go to stderr; `RUST_LOG` chooses the level (default: warnings and errors).
fn init_logging() {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // Colours only on a terminal: logs redirected to a file or a journal stay plain text.
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_filter(filter)
        .with_filter(logging::NormalDisconnects);
    tracing_subscriber::registry().with(stderr).init();
}
