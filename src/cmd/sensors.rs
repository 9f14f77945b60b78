//! `campustwin sensors`: the readings a real campus would publish, computed by the twin
//! and published over MQTT in the native schema: the demo source and the load generator.
//!
//! The twin runs at rack resolution in real time (its clock is the wall clock), sampled
//! every `--interval-s`; each sample is read through [`twin::sensors::Sensors`] (noise,
//! dropouts, drifting or stuck sensors) and published at QoS 1, stamped with its simulated
//! instant. A failing pump is a fault of the plant, so it goes into the twin as an event.

use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use ingest::mqtt::{Framing, PublishReport, Publisher};
use models::load::LoadSpec;
use models::scenario::Event;
use models::telemetry::{PointId, Reading};
use serde::Serialize;
use tokio::sync::mpsc;
use twin::campus::{PointSampler, Resolution};
use twin::sensors::{SensorFault, Sensors};
use twin::sim::{RunOptions, Simulation};

use super::broker::BrokerArgs;
use crate::exit::BadInputExt;

/// Broker of `campustwin ingest` on its defaults (the embedded one).
const DEFAULT_BROKER: &str = "mqtt://127.0.0.1:1883";
/// Longest run when no --duration-s is given, s: a year.
const LONGEST_RUN_S: f64 = 366.0 * 86_400.0;
/// How long the last messages may take to be acknowledged at the end.
const FINISH_TIMEOUT: Duration = Duration::from_secs(30);

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

/// A fault asked for on the command line.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultSpec {
    /// A sensor fault.
    Sensor(SensorFault),
    /// A plant fault, run by the twin.
    Plant(Event),
}

impl FromStr for FaultSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (body, from_s) = match text.rsplit_once('@') {
            Some((body, at)) => {
                let at: f64 = at
                    .parse()
                    .map_err(|_| format!("`{at}` after @ is not a number of seconds"))?;
                if !(at.is_finite() && at >= 0.0) {
                    return Err(format!("the start @{at} must be ≥ 0 s"));
                }
                (body, at)
            }
            None => (text, 0.0),
        };
        let number = |s: &str, what: &str| -> Result<f64, String> {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("{what} `{s}` is not a number"))
        };
        let point = |s: &str| -> Result<String, String> {
            PointId::parse(s)
                .map(|p| p.as_str().to_owned())
                .map_err(|e| e.to_string())
        };
        let parts: Vec<&str> = body.split(':').collect();
        match parts.as_slice() {
            ["drift", p, rate] => Ok(FaultSpec::Sensor(SensorFault::Drift {
                point: point(p)?,
                from_s,
                per_h: number(rate, "drift rate")?,
            })),
            ["stuck", p] => Ok(FaultSpec::Sensor(SensorFault::Stuck {
                point: point(p)?,
                from_s,
            })),
            ["pump", cdu, frac] => {
                let (hall, number_part) = cdu
                    .split_once("/cdu-")
                    .ok_or_else(|| format!("`{cdu}` is not HALL/cdu-NN"))?;
                let cdu: u32 = number_part
                    .parse()
                    .map_err(|_| format!("`{number_part}` is not a CDU number"))?;
                let frac = number(frac, "flow fraction")?;
                if !(0.0..1.0).contains(&frac) {
                    return Err(format!("flow fraction {frac} must be in [0, 1)"));
                }
                Ok(FaultSpec::Plant(Event::CduPumpTrip {
                    at_s: from_s,
                    duration_s: None,
                    hall: hall.to_owned(),
                    cdu,
                    residual_flow_frac: frac,
                }))
            }
            _ => Err(format!(
                "`{text}`: expected drift:POINT:RATE_PER_H[@AT_S], stuck:POINT[@AT_S] or \
                 pump:HALL/cdu-NN:FLOW_FRAC[@AT_S]"
            )),
        }
    }
}

/// One sample of every point, read through the sensors.
#[derive(Debug)]
struct Sample {
    /// Simulated seconds since the start (and wall seconds since the run began).
    t_s: f64,
    readings: Vec<Reading>,
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
    let ids: Vec<PointId> = sampler
        .names()
        .iter()
        .map(|n| PointId::parse(n))
        .collect::<Result<_, _>>()
        .context("the twin's point names")?;
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
    let table = super::read_load_table(&load, None)?;
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
    let twin = std::thread::spawn(move || run_twin(sim, sensors, sampler, ids, samples_tx));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let published = runtime.block_on(async {
        let publisher = Publisher::connect(&broker, &args.site, framing, None, Duration::from_secs(10))
            .await
            .with_context(|| format!("connecting to {url}"))?;
        publish(publisher, samples_rx, wall_start).await
    });
    drop(runtime); // closes the channel, so that the twin stops too
    let twin_result = twin.join().map_err(|_| anyhow!("the twin's thread panicked"))?;
    let Published {
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

/// Sensor faults for the instruments, plant faults (events) for the twin.
fn split_faults(faults: &[FaultSpec]) -> (Vec<SensorFault>, Vec<Event>) {
    let (mut sensor_faults, mut events) = (Vec::new(), Vec::new());
    for fault in faults {
        match fault {
            FaultSpec::Sensor(f) => sensor_faults.push(f.clone()),
            FaultSpec::Plant(e) => events.push(e.clone()),
        }
    }
    (sensor_faults, events)
}

/// Steps the twin and reads every point after each step; returns the readings dropped.
/// Stops at the end of the run or when the publisher hangs up.
fn run_twin(
    sim: Simulation,
    mut sensors: Sensors,
    sampler: PointSampler,
    ids: Vec<PointId>,
    samples: mpsc::Sender<Sample>,
) -> anyhow::Result<u64> {
    let mut run = sim.start().context("warming up the twin")?;
    let (mut values, mut read) = (Vec::new(), Vec::new());
    let mut dropped = 0;
    while run.step().context("stepping the twin")?.is_some() {
        let t_s = run.elapsed_s();
        sampler.sample(run.model(), run.state(), run.inputs(), &mut values);
        sensors.read(t_s, &values, &mut read);
        let ts: DateTime<Utc> = run.now();
        let readings: Vec<Reading> = ids
            .iter()
            .zip(&read)
            .filter_map(|(point, value)| {
                value.map(|value| Reading {
                    point: point.clone(),
                    ts,
                    value,
                })
            })
            .collect();
        dropped += (ids.len() - readings.len()) as u64;
        if samples.blocking_send(Sample { t_s, readings }).is_err() {
            break;
        }
    }
    Ok(dropped)
}

/// What the publishing side did.
#[derive(Debug)]
struct Published {
    report: PublishReport,
    samples: u64,
    warmup_s: f64,
    max_lag_s: f64,
}

/// Publishes each sample when its instant comes; ends with the twin's run or on
/// SIGINT/SIGTERM.
async fn publish(
    mut publisher: Publisher,
    mut samples: mpsc::Receiver<Sample>,
    wall_start: tokio::time::Instant,
) -> anyhow::Result<Published> {
    let interrupted = super::interrupted();
    tokio::pin!(interrupted);
    let (mut sent, mut max_lag_s) = (0u64, 0f64);
    // Samples due before the twin was warmed up are sent at once; lag counts after.
    let mut warmed_up: Option<tokio::time::Instant> = None;
    loop {
        let sample = tokio::select! {
            s = samples.recv() => s,
            () = &mut interrupted => None,
        };
        let Some(sample) = sample else { break };
        let now = tokio::time::Instant::now();
        let warmed_up = *warmed_up.get_or_insert(now);
        let due = wall_start + Duration::from_secs_f64(sample.t_s);
        if due > now {
            tokio::select! {
                () = tokio::time::sleep_until(due) => {}
                () = &mut interrupted => break,
            }
        } else if due > warmed_up {
            max_lag_s = max_lag_s.max((now - due).as_secs_f64());
        }
        publisher.send(&sample.readings).await?;
        sent += 1;
    }
    drop(samples);
    Ok(Published {
        report: publisher.finish(FINISH_TIMEOUT).await?,
        samples: sent,
        warmup_s: warmed_up.map_or(0.0, |w| (w - wall_start).as_secs_f64()),
        max_lag_s,
    })
}

/// `t` without its sub-millisecond part: readings travel in milliseconds.
fn truncate_to_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_parse_with_and_without_a_start() {
        assert_eq!(
            "drift:hall-a/cdu-01/tcs_return_temp_c:2.5@60".parse(),
            Ok(FaultSpec::Sensor(SensorFault::Drift {
                point: "hall-a/cdu-01/tcs_return_temp_c".into(),
                from_s: 60.0,
                per_h: 2.5
            }))
        );
        assert_eq!(
            "stuck:hall-a/cdu-02/tcs_flow_l_per_min".parse(),
            Ok(FaultSpec::Sensor(SensorFault::Stuck {
                point: "hall-a/cdu-02/tcs_flow_l_per_min".into(),
                from_s: 0.0
            }))
        );
        assert_eq!(
            "pump:hall-b/cdu-03:0.4@5".parse(),
            Ok(FaultSpec::Plant(Event::CduPumpTrip {
                at_s: 5.0,
                duration_s: None,
                hall: "hall-b".into(),
                cdu: 3,
                residual_flow_frac: 0.4
            }))
        );
    }

    #[test]
    fn bad_faults_say_what_is_wrong() {
        let error = |s: &str| FaultSpec::from_str(s).unwrap_err();
        assert!(error("drift:hall-a/cdu-01/tcs_return:2").contains("unit suffix"));
        assert!(error("drift:hall-a/cdu-01/tcs_return_temp_c:fast").contains("drift rate"));
        assert!(error("pump:hall-a/cdu-01:1.5").contains("[0, 1)"));
        assert!(error("pump:hall-a:0.5").contains("HALL/cdu-NN"));
        assert!(error("stuck:hall-a/x_temp_c@-3").contains("≥ 0"));
        assert!(error("leak:hall-a").contains("expected drift:"));
    }
}
