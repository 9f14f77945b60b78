//! The built-in plant of `campustwin serve` on its defaults: the twin of the campus at
//! rack resolution in real time, read through its instruments (noise, dropouts, faults)
//! and published into the embedded broker, as `campustwin sensors` does. It follows the
//! latest plan, as a campus whose scheduler applies the plug-in's caps would: each new
//! plan becomes its load.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use chrono::{DateTime, Utc};
use ingest::mqtt::{Framing, Publisher, publish_paced};
use models::load::LoadSpec;
use models::telemetry::PointId;
use models::telemetry::TimedReadings;
use tokio::sync::{mpsc, watch};
use twin::campus::{CampusModel, PointSampler, Resolution};
use twin::it::load::LoadProfile;
use twin::sensors::{FaultSpec, Sensors, split_faults, stream_samples};
use twin::sim::{RunOptions, Simulation};
use web::state::PlanView;

use super::settings::Settings;

/// Readings per published message.
const BATCH_READINGS: usize = 500;
/// Longest run: a year.
const LONGEST_RUN_S: f64 = 366.0 * 86_400.0;

/// The running plant.
#[derive(Debug)]
pub struct Plant {
    publisher: tokio::task::JoinHandle<anyhow::Result<()>>,
    twin: std::thread::JoinHandle<anyhow::Result<u64>>,
}

impl Plant {
    /// Waits for the plant to stop (after the stop signal).
    pub async fn finish(self) {
        match self.publisher.await {
            Ok(Err(e)) => tracing::warn!(
                error = format!("{e:#}"),
                "The simulated plant's publisher stopped."
            ),
            Err(e) => tracing::warn!(error = %e, "The simulated plant's publisher failed."),
            Ok(Ok(())) => {}
        }
        let _ = tokio::task::spawn_blocking(move || self.twin.join()).await;
    }
}

/// Starts the plant of `settings`, publishing to the broker at `url`, following `plans`,
/// until `stop`.
pub fn start(
    settings: &Settings,
    url: &str,
    plans: watch::Receiver<Option<PlanView>>,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Plant> {
    let sim_settings = settings
        .simulator
        .clone()
        .ok_or_else(|| anyhow!("the simulator is off"))?;
    let campus = Arc::new(settings.campus.clone());
    let faults: Vec<FaultSpec> = sim_settings
        .faults
        .iter()
        .map(|f| {
            f.parse::<FaultSpec>()
                .map_err(|e| anyhow!("simulator fault `{f}`: {e}"))
        })
        .collect::<anyhow::Result<_>>()?;
    let (sensor_faults, events) = split_faults(&faults);
    let probe = CampusModel::build(&campus, Resolution::Rack, &[], sim_settings.interval_s)?;
    let sampler = PointSampler::new(&probe);
    let ids: Vec<PointId> = sampler.point_ids().context("the twin's point names")?;
    let sensors = Sensors::new(
        sampler.names(),
        sim_settings.noise,
        sim_settings.dropout_frac,
        sensor_faults,
        sim_settings.seed,
    )
    .map_err(|e| anyhow!("simulator faults: {e}"))?;
    let start = DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap_or_else(Utc::now);
    let options = RunOptions::new(start, LONGEST_RUN_S, sim_settings.interval_s, Resolution::Rack);
    let sim = Simulation::new(
        &campus,
        settings.weather.clone(),
        &LoadSpec::default(),
        None,
        &events,
        options,
    )
    .map_err(|e| anyhow!("simulator faults: {e}"))?;
    let broker = ingest::mqtt::BrokerOptions::from_url(url, "campustwin-serve-plant")?;

    let (samples_tx, samples_rx) = mpsc::channel::<TimedReadings>(4);
    let wall_start = tokio::time::Instant::now();
    let twin = std::thread::Builder::new().name("plant".into()).spawn(move || {
        let mut plans = plans;
        let mut run = sim.start().context("warming up the plant")?;
        let dropped = stream_samples(&mut run, sensors, &sampler, &ids, &samples_tx, |run| {
            // A new plan is the plant's new load from now on.
            if plans.has_changed().unwrap_or(false) {
                if let Some(view) = plans.borrow_and_update().clone() {
                    match LoadProfile::from_plan(&view.plan, &campus, start) {
                        Ok(load) => run.set_load(load)?,
                        Err(e) => tracing::warn!(error = %e, "The plant cannot follow the plan."),
                    }
                }
            }
            Ok(())
        })?;
        Ok(dropped)
    })?;
    let publisher = tokio::spawn(async move {
        let publisher = Publisher::connect(
            &broker,
            "campus",
            Framing::Batch(BATCH_READINGS),
            None,
            Duration::from_secs(10),
        )
        .await
        .context("the simulated plant connecting to the broker")?;
        publish_paced(publisher, samples_rx, wall_start, stop).await?;
        Ok(())
    });
    Ok(Plant { publisher, twin })
}
