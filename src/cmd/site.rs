//! `campustwin site`: what candidate sites offer a new campus. `site headroom` gives a
//! balancing authority's headroom for a flexible new load (`models::siting::headroom`).

use std::path::PathBuf;
use std::process::ExitCode;

use models::siting::grid::GridSeries;
use models::siting::headroom::Curtailment;
use serde::Serialize;

use crate::exit::BadInputExt;

/// Arguments of `campustwin site`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// The constant new load a balancing authority can take if it accepts curtailment in
    /// the authority's peak hours (Norris et al., Duke 2025): for each rate, the largest
    /// load whose curtailed energy is at most that share of what it would draw, with its
    /// curtailed hours and events. Thresholds: the summer (June-September) and winter
    /// peaks of the series.
    Headroom {
        /// Hourly CSV of the authority (plain or gzipped): `time`, and `demand_mw` or
        /// generation columns `…_mw` (their sum is the load).
        file: PathBuf,
        /// Curtailment rates, percent of the new load's energy.
        #[arg(long, value_delimiter = ',', default_values_t = [0.25, 0.5, 1.0, 5.0])]
        rates_pct: Vec<f64>,
        /// `table` (on the terminal) or `json`.
        #[arg(long, default_value = "table", value_parser = ["table", "json"])]
        format: String,
    },
}

/// What `site headroom` prints as JSON.
#[derive(Debug, Serialize)]
struct HeadroomReport {
    file: String,
    hours: usize,
    peak_load_mw: f64,
    load_repaired_hours: usize,
    carbon_repaired_hours: usize,
    headroom: Vec<RateHeadroom>,
}

#[derive(Debug, Serialize)]
struct RateHeadroom {
    rate_pct: f64,
    #[serde(flatten)]
    curtailment: Curtailment,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Headroom {
            file,
            rates_pct,
            format,
        } => {
            if let Some(bad) = rates_pct
                .iter()
                .find(|r| !(r.is_finite() && (0.0..100.0).contains(*r)))
            {
                return Err(anyhow::anyhow!(
                    "--rates-pct: {bad} is not a percentage from 0 to below 100"
                ))
                .bad_input();
            }
            let grid = GridSeries::read(&file).bad_input()?;
            let series = grid.peak_series().bad_input()?;
            let headroom = rates_pct
                .iter()
                .map(|&rate_pct| {
                    let curtailment = series.headroom(rate_pct / 100.0)?;
                    Ok(RateHeadroom {
                        rate_pct,
                        curtailment,
                    })
                })
                .collect::<models::Result<Vec<_>>>()?;
            let report = HeadroomReport {
                file: grid.file().to_owned(),
                hours: series.hours(),
                peak_load_mw: grid.load_mw().iter().copied().fold(f64::MIN, f64::max),
                load_repaired_hours: grid.load_repaired_hours(),
                carbon_repaired_hours: grid.carbon_repaired_hours(),
                headroom,
            };
            if format == "json" {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_table(&report);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_table(r: &HeadroomReport) {
    println!(
        "{}: {} hours ({} with the load interpolated), peak load {:.0} MW",
        r.file, r.hours, r.load_repaired_hours, r.peak_load_mw
    );
    println!(
        "{:>8} {:>12} {:>10} {:>8} {:>7} {:>10} {:>10}",
        "rate %", "headroom MW", "% of peak", "hours", "events", "mean h", "longest h"
    );
    for h in &r.headroom {
        let c = &h.curtailment;
        println!(
            "{:>8} {:>12.0} {:>10.1} {:>8} {:>7} {:>10.1} {:>10}",
            h.rate_pct,
            c.added_mw,
            100.0 * c.added_mw / r.peak_load_mw,
            c.hours_curtailed,
            c.events,
            c.mean_event_h,
            c.longest_event_h
        );
    }
}
