//! `campustwin sensors`: the readings a real campus would publish, computed by the twin
//! and published over MQTT in the native schema: the demo source and the load generator.
//!
//! The twin runs at rack resolution in real time (its clock is the wall clock), sampled
//! every `--interval-s`; each sample is read through [`twin::sensors::Sensors`] (noise,
//! dropouts, drifting or stuck sensors) and published at QoS 1, stamped with its simulated
//! instant. A failing pump is a fault of the plant, so it goes into the twin as an event.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use ingest::mqtt::{Framing, Paced, PublishReport, Publisher, publish_paced};
use models::load::LoadSpec;
use models::telemetry::PointId;
use serde::Serialize;
use tokio::sync::mpsc;
use twin::campus::{PointSampler, Resolution};
use twin::sensors::{FaultSpec, Sensors, split_faults, stream_samples};
use twin::sim::{RunOptions, Simulation};

use super::broker::BrokerArgs;
use crate::exit::BadInputExt;

/// Broker of `campustwin ingest` on its defaults (the embedded one).
const DEFAULT_BROKER: &str = "mqtt://127.0.0.1:1883";
/// Longest run when no --duration-s is given, s: a year.
const LONGEST_RUN_S: f64 = 366.0 * 86_400.0;

/// Arguments of `campustwin sensors`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The broker (default mqtt://127.0.0.1:1883, where `campustwin ingest` listens).
    #[command(flatten)]
    pub mqtt: BrokerArgs,
    /// Campus file (TOML); the shipped example campus when absent.
    #[arg(long)]
    pub campus: Option<PathBuf>,
    /// IT load: constant:U[:CAP], diurnal:MIN:MAX[:PEAK_HOUR], csv:FILE or
    /// training:PERIOD_S:COMPUTE_FRAC[:CAP], as for `simulate`.
    #[arg(long)]
    pub load: Option<LoadSpec>,
    /// Site name, the second topic level (`campustwin/<site>/batch`).
    #[arg(long, default_value = "campus")]
    pub site: String,
    /// Seconds between two readings of a point.
    #[arg(long, default_value_t = 1.0, conflicts_with = "rate")]
    pub interval_s: f64,
    /// Readings per second over all points (before dropouts); sets the interval to
    /// points / rate.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Seconds to run; until interrupted (at most a year) when absent.
    #[arg(long)]
    pub duration_s: Option<f64>,
    /// Readings per message on `campustwin/<site>/batch`; 1 publishes each reading on its
    /// point's own topic.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Scale of the instruments' noise (0: exact values).
    #[arg(long, default_value_t = 1.0)]
    pub noise: f64,
    /// Fraction of readings lost on the way (a gateway missing a poll).
    #[arg(long, default_value_t = 0.001)]
    pub dropout_frac: f64,
    /// A fault (repeatable): drift:POINT:RATE_PER_H[@AT_S] (a sensor drifting by RATE
    /// of its unit per hour), stuck:POINT[@AT_S] (a sensor frozen), or
    /// pump:HALL/cdu-NN:FLOW_FRAC[@AT_S] (a CDU pump failing to FLOW_FRAC of its flow).
    /// AT_S: seconds after the start, default 0.
    #[arg(long = "fault")]
    pub faults: Vec<FaultSpec>,
    /// Seed of the noise and dropouts (the same seed reads the same way).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// MQTT client id.
    #[arg(long, default_value = "campustwin-sensors")]
    pub client_id: String,
}

/// What the command prints when it ends.
#[derive(Debug, Serialize)]
struct Report {
    #[serde(flatten)]
    publish: PublishReport,
    /// Points of the campus.
    points: usize,
    /// Samples published.
    samples: u64,
    /// Seconds between two readings of a point.
    interval_s: f64,
    /// Readings lost on purpose (dropouts).
    dropped: u64,
    /// Time from the command's start to the first sample (the twin's warm-up), s.
    warmup_s: f64,
    /// Largest delay of a sample behind its due time after the warm-up, s (the twin or
    /// the broker too slow).
    max_lag_s: f64,
}

/// Runs the sensors until the duration passes or SIGINT/SIGTERM; prints a JSON report.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let campus = super::load_campus(args.campus.as_deref())?;
    let weather = campus.load_weather().context("site.weather_file").bad_input()?;
    check_arguments(&args)?;
    let (sensor_faults, events) = split_faults(&args.faults);

    // Points are known once the model is built; build it to size the interval.
    let probe = twin::campus::CampusModel::build(&campus, Resolution::Rack, &[], args.interval_s)
        .map_err(anyhow::Error::new)
        .bad_input()?;
    let sampler = PointSampler::new(&probe);
    let points = sampler.names().len();
    let interval_s = args.rate.map_or(args.interval_s, |rate| points as f64 / rate);
    if interval_s < 0.001 {
        return Err(anyhow!(
            "--rate: {points} points cannot be read more than once a millisecond each \
             (at most {} readings/s)",
            points * 1000
        ))
        .bad_input();
    }
    let ids: Vec<PointId> = sampler.point_ids().context("the twin's point names")?;
    let sensors = Sensors::new(
        sampler.names(),
        args.noise,
        args.dropout_frac,
        sensor_faults,
        args.seed,
    )
    .map_err(|e| anyhow!("--fault: {e}"))
    .bad_input()?;

    let start = truncate_to_ms(Utc::now());
    let wall_start = tokio::time::Instant::now();
    let duration_s = args.duration_s.unwrap_or(LONGEST_RUN_S);
    let options = RunOptions::new(start, duration_s, interval_s, Resolution::Rack);
    let load = args.load.clone().unwrap_or_default();
    let table = super::read_load_table(&load, None, "--load")?;
    let sim = Simulation::new(&campus, weather, &load, table.as_ref(), &events, options)
        .map_err(|e| anyhow!("--fault or --load: {e}"))
        .bad_input()?;

    let url = args.mqtt.broker.clone().unwrap_or_else(|| DEFAULT_BROKER.into());
    let broker = args.mqtt.options(&url, &args.client_id)?;
    let framing = if args.batch == 1 {
        Framing::Single
    } else {
        Framing::Batch(args.batch)
    };
    eprintln!(
        "{}: {points} points every {interval_s:.3} s ({:.0} readings/s) to {url} as site `{}`",
        campus.spec.site.name,
        points as f64 / interval_s,
        args.site
    );

    let (samples_tx, samples_rx) = mpsc::channel(4);
    let twin = std::thread::spawn(move || -> anyhow::Result<u64> {
        let mut run = sim.start().context("warming up the twin")?;
        stream_samples(&mut run, sensors, &sampler, &ids, &samples_tx, |_| Ok(()))
            .context("stepping the twin")
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let published = runtime.block_on(async {
        let publisher = Publisher::connect(&broker, &args.site, framing, None, Duration::from_secs(10))
            .await
            .with_context(|| format!("connecting to {url}"))?;
        Ok::<_, anyhow::Error>(publish_paced(publisher, samples_rx, wall_start, super::interrupted()).await?)
    });
    drop(runtime); // closes the channel, so that the twin stops too
    let twin_result = twin.join().map_err(|_| anyhow!("the twin's thread panicked"))?;
    let Paced {
        report: publish,
        samples,
        warmup_s,
        max_lag_s,
    } = published?;
    let dropped = twin_result?;
    let report = Report {
        publish,
        points,
        samples,
        interval_s,
        dropped,
        warmup_s,
        max_lag_s,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// Checks the flags that clap cannot: every problem at once, each named by its flag.
fn check_arguments(args: &Args) -> anyhow::Result<()> {
    let mut problems = models::Problems::new();
    problems.positive("--interval-s", args.interval_s);
    if let Some(rate) = args.rate {
        problems.positive("--rate", rate);
    }
    if let Some(d) = args.duration_s {
        problems.positive("--duration-s", d);
    }
    problems.check(args.batch > 0, "--batch", "must be ≥ 1");
    problems.check(
        args.noise.is_finite() && args.noise >= 0.0,
        "--noise",
        "must be a number ≥ 0",
    );
    problems.check(
        (0.0..1.0).contains(&args.dropout_frac),
        "--dropout-frac",
        "must be in [0, 1)",
    );
    problems.check(
        !args.site.is_empty() && !args.site.contains(['/', '+', '#']),
        "--site",
        "must be one topic level without / + #",
    );
    problems.into_result("arguments").bad_input()
}

/// `t` without its sub-millisecond part: readings travel in milliseconds.
fn truncate_to_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}
