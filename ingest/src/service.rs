//! Ingest as one call for the front doors that run it (`campustwin ingest`, the live
//! service): the store opened, the InfluxDB sink registered and run as a task, the intake
//! run until shutdown, then the queued readings committed and the sink stopped.
//!
//! ```no_run
//! # async fn example() -> ingest::Result<()> {
//! use std::sync::Arc;
//! use ingest::mqtt::{BrokerOptions, IntakeConfig, IntakeStats};
//! use ingest::service::{Ingest, IngestConfig};
//! use ingest::store::Reader;
//!
//! let broker = BrokerOptions::from_url("mqtt://broker:1883", "campustwin-ingest")?;
//! let intake = IntakeConfig::new(broker, vec!["campustwin/#".into()]);
//! let config = IngestConfig::new(intake, "campustwin-ingest.db".into());
//! // Opening creates (or upgrades) the store: readers may open it from here on.
//! let ingest = Ingest::open(config)?;
//! let reader = Arc::new(Reader::open(ingest.store_path())?);
//! let (accepted, _readings) = tokio::sync::broadcast::channel(1024);
//! let stats = Arc::new(IntakeStats::default());
//! let shutdown = async {
//!     let _ = tokio::signal::ctrl_c().await;
//! };
//! ingest.run(Some(accepted), stats, shutdown).await?;
//! # drop(reader);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::mqtt::intake::{self, IntakeConfig, IntakeStats, ReadingsTx};
use crate::sink::{self, SinkConfig};
use crate::store::{Durability, Store};
use crate::{Clock, Pipeline, PointMap, Result, SystemClock};

/// How ingest runs.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// The intake: broker, topic filters, shared-subscription group, messages in flight,
    /// retention and the interval of its passes.
    pub intake: IntakeConfig,
    /// The point map the pipeline applies (default: the built-in map of the native
    /// schema).
    pub points: PointMap,
    /// The store file, created if missing.
    pub store: PathBuf,
    /// How commits are synced to disk (default: [`Durability::Full`], an acknowledged
    /// reading survives a power cut).
    pub durability: Durability,
    /// The InfluxDB sink, if readings are forwarded.
    pub influx: Option<SinkConfig>,
    /// The clock of validation and retention (default: the system's).
    pub clock: Arc<dyn Clock>,
    /// Interval of the progress line in the log (`None`: none). Default 10 s.
    pub progress_every: Option<Duration>,
}

impl IngestConfig {
    /// Ingest by `intake` into the store at `store`, with the defaults of the fields.
    pub fn new(intake: IntakeConfig, store: PathBuf) -> Self {
        Self {
            intake,
            points: PointMap::default(),
            store,
            durability: Durability::Full,
            influx: None,
            clock: Arc::new(SystemClock),
            progress_every: Some(Duration::from_secs(10)),
        }
    }
}

/// Ingest with its store open, ready to run.
#[derive(Debug)]
pub struct Ingest {
    config: IngestConfig,
    store: Store,
}

impl Ingest {
    /// Opens (creating or upgrading) the store and registers the sink, so that retention
    /// keeps what the sink has not forwarded. Blocking (SQLite, and an upgrade of an old
    /// store may take a while); once it returns, [`Reader`](crate::store::Reader)s and the
    /// [`ForecastLog`](crate::store::ForecastLog) can open the store.
    pub fn open(config: IngestConfig) -> Result<Self> {
        let store = Store::open(&config.store, config.durability)?;
        if let Some(sink) = &config.influx {
            store.register_sink(&sink.name)?;
        }
        Ok(Self { config, store })
    }

    /// The store file.
    pub fn store_path(&self) -> &Path {
        &self.config.store
    }

    /// Runs until `shutdown` resolves (on the caller's tokio runtime): the sink as a task,
    /// the intake here. On shutdown the intake commits and acknowledges what is queued,
    /// the sink stops (what it has not forwarded stays spooled in the store) and is
    /// awaited. Accepted readings are announced on `accepted`; `stats` counts as the
    /// intake goes. A sink that fails is logged, not returned: ingest goes on without it.
    pub async fn run(
        self,
        accepted: Option<ReadingsTx>,
        stats: Arc<IntakeStats>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<()> {
        let Ingest { config, store } = self;
        let (stop_tx, stop_rx) = watch::channel(false);
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let sink_task = config.influx.map(|cfg| {
            let path = config.store.clone();
            let rx = stop_rx.clone();
            tokio::spawn(async move {
                let outcome = sink::run(cfg, path, stopped(rx)).await;
                if let Err(e) = &outcome {
                    // Said when it happens: the readings stay spooled in the store.
                    error!(error = %e, "InfluxDB sink stopped; readings stay in the store, unforwarded.");
                }
                outcome
            })
        });
        info!(subscriptions = ?config.intake.subscriptions(), store = %config.store.display(), "Ingest running.");
        let report = config
            .progress_every
            .map(|every| tokio::spawn(report_every(stats.clone(), every)));
        // The sink stops when the intake starts stopping, as the intake itself does.
        let shutdown = async {
            shutdown.await;
            let _ = stop_tx.send(true);
        };
        let result = intake::run(
            config.intake,
            Pipeline::new(config.points),
            store,
            config.clock,
            accepted,
            stats,
            shutdown,
        )
        .await;
        if let Some(report) = report {
            report.abort();
        }
        // Also when the intake ended on an error before any shutdown.
        let _ = stop_tx.send(true);
        if let Some(task) = sink_task {
            if let Err(e) = task.await {
                warn!(error = %e, "InfluxDB sink task failed.");
            }
        }
        result
    }
}

/// [`Ingest::open`] then [`Ingest::run`].
pub async fn run_ingest(
    config: IngestConfig,
    accepted: Option<ReadingsTx>,
    stats: Arc<IntakeStats>,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    Ingest::open(config)?.run(accepted, stats, shutdown).await
}

/// Logs the intake's progress every `every`.
async fn report_every(stats: Arc<IntakeStats>, every: Duration) {
    let mut last = 0;
    loop {
        tokio::time::sleep(every).await;
        let readings = stats.readings.load(Ordering::Relaxed);
        info!(
            readings,
            per_s = (readings - last) as f64 / every.as_secs_f64(),
            rejected = stats.rejected.load(Ordering::Relaxed),
            duplicates = stats.duplicates.load(Ordering::Relaxed),
            "Ingest progress."
        );
        last = readings;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::mqtt::BrokerOptions;

    fn send<T: Send>(_: &T) {}

    #[test]
    fn the_run_future_can_be_spawned_and_the_config_hides_its_secrets() {
        let broker = BrokerOptions::from_url("mqtt://ingest:s3cret@127.0.0.1:1", "c").unwrap();
        let mut config = IngestConfig::new(
            IntakeConfig::new(broker, vec!["campustwin/#".into()]),
            std::env::temp_dir().join("never-opened.db"),
        );
        config.influx = Some(SinkConfig::new("http://x:8086", "o", "b", "t0ken"));
        let text = format!("{config:?}");
        assert!(!text.contains("s3cret") && !text.contains("t0ken"), "{text}");
        // A service spawns it on its runtime: the future must be Send (never polled here).
        let future = run_ingest(config, None, Arc::new(IntakeStats::default()), async {});
        send(&future);
    }
}
