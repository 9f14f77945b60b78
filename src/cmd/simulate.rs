//! `campustwin simulate`: run a campus through time and write its time series and summary.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use models::load::LoadSpec;
use models::scenario::{Event, Scenario};
use models::weather::Weather;
use twin::campus::Resolution;
use twin::sim::{RunOptions, Simulation, Summary};

use crate::exit::BadInputExt;

/// Default start: mid-July, when a warm-water plant works hardest.
const DEFAULT_START: &str = "2026-07-15T00:00:00Z";

/// Loop resolution on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ResolutionArg {
    /// Every rack and CDU loop integrated in time (transients, faults).
    Rack,
    /// Identical CDU loops lumped and quasi-steady (long runs).
    Hall,
}

/// Arguments of `campustwin simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Campus file (TOML); the built-in example campus when absent.
    #[arg(long)]
    pub campus: Option<PathBuf>,
    /// Weather file (EPW, optionally gzipped) instead of the campus's own.
    #[arg(long)]
    pub weather: Option<PathBuf>,
    /// First instant simulated (RFC 3339); the scenario's, else 2026-07-15T00:00:00Z.
    #[arg(long)]
    pub start: Option<DateTime<Utc>>,
    /// Simulated hours; the scenario's, else 24 (at most ten years).
    #[arg(long, allow_negative_numbers = true)]
    pub hours: Option<f64>,
    /// Output step, s; the scenario's, else 60 (from 0.01 s to a day).
    #[arg(long = "step-s", allow_negative_numbers = true)]
    pub step_s: Option<f64>,
    /// IT load: constant:U[:CAP], diurnal:MIN:MAX[:PEAK_HOUR], csv:FILE or
    /// training:PERIOD_S[:COMPUTE_FRAC]; the scenario's, else constant:0.9.
    #[arg(long)]
    pub load: Option<LoadSpec>,
    /// Scenario file (TOML): start, hours, load and events.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Loop resolution.
    #[arg(long, value_enum, default_value_t = ResolutionArg::Rack)]
    pub resolution: ResolutionArg,
    /// Write the time series here (CSV).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the summary here (JSON); printed to stdout when neither this nor --out is given.
    #[arg(long)]
    pub summary: Option<PathBuf>,
}

/// Runs the simulation.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let campus = super::load_campus(args.campus.as_deref())?;
    let weather = match &args.weather {
        Some(path) => Weather::read(path).bad_input()?,
        None => campus.load_weather().context("site.weather_file").bad_input()?,
    };
    let scenario = match &args.scenario {
        Some(path) => Scenario::load(path).bad_input()?,
        None => Scenario::default(),
    };
    let start = match (args.start, scenario.start) {
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => DEFAULT_START.parse().context("the default start")?,
    };
    let hours = args.hours.or(scenario.hours).unwrap_or(24.0);
    let step_s = args.step_s.or(scenario.step_s).unwrap_or(60.0);
    let from_scenario = |flag: Option<f64>| match (flag, &args.scenario) {
        (None, Some(path)) => format!("{}: ", path.display()),
        _ => String::new(),
    };
    check_within(
        &format!("{}--hours", from_scenario(args.hours)),
        hours,
        0.0,
        twin::sim::MAX_DURATION_H,
    )
    .bad_input()?;
    check_within(
        &format!("{}--step-s", from_scenario(args.step_s)),
        step_s,
        twin::sim::MIN_STEP_S,
        twin::sim::MAX_STEP_S,
    )
    .bad_input()?;
    let (load, load_dir) = match (&args.load, &scenario.load) {
        (Some(l), _) => (l.clone(), None),
        (None, Some(l)) => (l.clone(), scenario.dir.clone()),
        (None, None) => (LoadSpec::default(), None),
    };
    let named_by = match (&args.load, &args.scenario) {
        (None, Some(path)) => format!("{}: load.file", path.display()),
        _ => "--load".to_string(),
    };
    let table = super::read_load_table(&load, load_dir.as_deref(), &named_by)?;
    let resolution = match args.resolution {
        ResolutionArg::Rack => Resolution::Rack,
        ResolutionArg::Hall => Resolution::Hall,
    };
    let options = RunOptions::new(start, hours * 3600.0, step_s, resolution);
    let origin = |e: twin::Error| match (&e, &args.scenario) {
        (twin::Error::Model { .. }, _) => classify(e).context(campus.origin.display_name()),
        (twin::Error::Scenario(_), Some(path)) => classify(e).context(path.display().to_string()),
        _ => classify(e),
    };
    let events = events_in_the_run(&scenario.events, hours, args.hours.is_some());
    let sim = Simulation::new(&campus, weather, &load, table.as_ref(), &events, options).map_err(origin)?;

    let mut csv = match &args.out {
        Some(path) => Some(csv::Writer::from_writer(BufWriter::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        ))),
        None => None,
    };
    let progress = progress_bar(hours * 3600.0);
    let summary = sim
        .run(
            |record| {
                if let Some(w) = csv.as_mut() {
                    w.serialize(record)
                        .map_err(|e| twin::Error::Scenario(format!("writing the time series: {e}")))?;
                }
                Ok(())
            },
            |t_s| progress.set_position(t_s as u64),
        )
        .map_err(classify)?;
    progress.finish_and_clear();
    if let Some(mut w) = csv {
        w.flush().context("writing the time series")?;
    }
    report(&summary);
    let json = serde_json::to_string_pretty(&summary)?;
    match (&args.summary, &args.out) {
        (Some(path), _) => {
            std::fs::write(path, json + "\n").with_context(|| format!("cannot write {}", path.display()))?
        }
        (None, None) => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{json}")?;
        }
        (None, Some(_)) => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// Input, model and scenario errors are the user's (exit 2); integration failures are ours.
fn classify(e: twin::Error) -> anyhow::Error {
    match e {
        twin::Error::Integration { .. } => anyhow::Error::new(e),
        other => anyhow::Error::new(crate::exit::BadInput(anyhow::Error::new(other))),
    }
}

/// The scenario's events. When `--hours` cuts the scenario's run short, the events after
/// the new end are left out with a warning naming them; otherwise an event after the end
/// is the scenario's mistake, and the simulation refuses it.
fn events_in_the_run(events: &[Event], hours: f64, cut_by_flag: bool) -> Vec<Event> {
    let end_s = hours * 3600.0;
    if !cut_by_flag {
        return events.to_vec();
    }
    let late: Vec<String> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.at_s() >= end_s)
        .map(|(i, e)| format!("events[{i}] at {} s", e.at_s()))
        .collect();
    if !late.is_empty() {
        eprintln!(
            "warning: --hours {hours} ends the run at {end_s} s, before {}: they do not happen",
            late.join(", ")
        );
    }
    events.iter().filter(|e| e.at_s() < end_s).cloned().collect()
}

/// `value` of `flag` must be a number above `low` (0: positive) and at most `high`.
fn check_within(flag: &str, value: f64, low: f64, high: f64) -> anyhow::Result<()> {
    let above = if low == 0.0 { value > 0.0 } else { value >= low };
    anyhow::ensure!(
        value.is_finite() && above && value <= high,
        "{flag}: must be a number {} {low} and at most {high}, got {value}",
        if low == 0.0 { ">" } else { ">=" }
    );
    Ok(())
}

/// A progress bar over simulated seconds on stderr; hidden when stderr is not a terminal.
fn progress_bar(total_s: f64) -> ProgressBar {
    let bar = ProgressBar::new(total_s as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} simulated {pos}/{len} s [{bar:40}] {percent}% eta {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// A few lines for the operator on stderr.
fn report(s: &Summary) {
    eprintln!(
        "{}: {:.1} h simulated in {:.2} s ({:.0}x real time), {:?} resolution",
        s.campus,
        s.simulated_s / 3600.0,
        s.wall_s,
        s.realtime_factor,
        s.resolution
    );
    eprintln!(
        "  IT {:.0} MWh, facility {:.0} MWh, PUE {:.3}, WUE {:.2} L/kWh, peak import {:.0} kW",
        s.it_energy_kwh / 1000.0,
        s.facility_energy_kwh / 1000.0,
        s.pue,
        s.wue_l_per_kwh,
        s.peak_import_kw
    );
    match s.time_to_first_throttle_s {
        Some(t) => eprintln!(
            "  first GPU throttled {t:.1} s after the start; {:.1} GPU-hours throttled, {:.1} shut down; hottest die {:.1} °C",
            s.throttled_gpu_hours, s.shutdown_gpu_hours, s.max_gpu_temp_c
        ),
        None => eprintln!("  no GPU throttled; hottest die {:.1} °C", s.max_gpu_temp_c),
    }
    eprintln!("  energy balance residual {:.2e}", s.energy_balance_residual);
}
