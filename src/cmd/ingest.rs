//! `campustwin ingest`: live readings from an MQTT broker into the store (and InfluxDB).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use ingest::PointMap;
use ingest::mqtt::intake::{IntakeConfig, IntakeStats};
use ingest::service::{Ingest, IngestConfig};
use ingest::store::{Durability, Retention};
use models::telemetry::topic_filter_problem;

use super::broker::BrokerArgs;
use crate::exit::BadInputExt;
use twin::estimate::Estimator;
use twin::estimate::follow::{Channels, Follower};

/// Arguments of `campustwin ingest`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The broker; without --broker, an embedded one is started on --listen.
    #[command(flatten)]
    pub mqtt: BrokerArgs,
    /// Address of the embedded broker, started when no --broker is given.
    #[arg(long, default_value = "127.0.0.1:1883")]
    pub listen: SocketAddr,
    /// Topic filter to subscribe to (repeatable). Default: the point map's topic filters,
    /// `campustwin/#` for the built-in map.
    #[arg(long = "topic")]
    pub topics: Vec<String>,
    /// Point map (TOML). Default: the built-in map of the native schema.
    #[arg(long)]
    pub points: Option<PathBuf>,
    /// SQLite store file, created if missing.
    #[arg(long, default_value = "campustwin-ingest.db")]
    pub store: PathBuf,
    /// The InfluxDB sink.
    #[command(flatten)]
    pub influx: crate::cmd::broker::InfluxArgs,
    /// Shared-subscription group: processes of one group split the stream.
    #[arg(long)]
    pub share: Option<String>,
    /// MQTT client id; keep it stable so that the broker keeps the session across
    /// restarts, and distinct per process of a shared group.
    #[arg(long, default_value = "campustwin-ingest")]
    pub client_id: String,
    /// Messages in flight between the broker and us (MQTT 5 receive maximum).
    #[arg(long, default_value_t = 1000)]
    pub inflight: u16,
    /// `full`: a commit is on disk before the broker is acknowledged; `normal`: survives
    /// a crash of the process, not of the machine.
    #[arg(long, default_value = "full", value_parser = ["full", "normal"])]
    pub durability: String,
    /// How long readings are kept.
    #[command(flatten)]
    pub retention: RetentionArgs,
    /// Campus the twin estimator follows (its points are the readings' points); the
    /// shipped example campus when absent.
    #[arg(long)]
    pub campus: Option<PathBuf>,
    /// Do not run the twin estimator.
    #[arg(long, conflicts_with_all = ["campus", "state_out"])]
    pub no_estimator: bool,
    /// Keep the estimator's state (loop estimates and alarms) in this JSON file,
    /// rewritten every second.
    #[arg(long)]
    pub state_out: Option<PathBuf>,
}

/// How long a store keeps readings: of `ingest` and `store maintain`.
#[derive(Debug, clap::Args)]
pub struct RetentionArgs {
    /// Days of raw readings to keep before they are downsampled.
    #[arg(long, default_value_t = 7.0)]
    pub raw_retention_days: f64,
    /// Width of a downsampled bucket, seconds.
    #[arg(long, default_value_t = 300)]
    pub bucket_s: i64,
    /// Days of downsampled buckets to keep.
    #[arg(long, default_value_t = 400.0)]
    pub downsampled_retention_days: f64,
}

impl RetentionArgs {
    /// The retention these arguments give, each problem named by its flag.
    pub fn retention(&self) -> models::Result<Retention> {
        let mut problems = models::Problems::new();
        problems.positive("--raw-retention-days", self.raw_retention_days);
        problems.positive("--downsampled-retention-days", self.downsampled_retention_days);
        problems.check(self.bucket_s > 0, "--bucket-s", "must be > 0");
        problems.into_result("arguments")?;
        Ok(Retention::from_days(
            self.raw_retention_days,
            self.bucket_s,
            self.downsampled_retention_days,
        ))
    }
}

/// Runs until SIGINT or SIGTERM; then prints a JSON summary on stdout.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let map = match &args.points {
        Some(path) => PointMap::from_file(path).bad_input()?,
        None => PointMap::default(),
    };
    let filters = if args.topics.is_empty() {
        map.filters()
    } else {
        args.topics.clone()
    };
    if let (Some(path), true) = (&args.points, args.topics.is_empty()) {
        if filters == PointMap::default().filters() {
            tracing::warn!(
                "{} names no topic filter (no [[topic]] table with `filter`) and no --topic is given: subscribing to the built-in {}",
                path.display(),
                filters.join(", ")
            );
        }
    }
    for f in &filters {
        if let Some(why) = topic_filter_problem(f) {
            return Err(anyhow::anyhow!("--topic `{f}`: {why}")).bad_input();
        }
    }
    if let Some(g) = &args.share {
        if g.is_empty() || g.contains(['/', '+', '#']) {
            return Err(anyhow::anyhow!(
                "--share `{g}`: a group is one topic level without / + #"
            ))
            .bad_input();
        }
    }
    if args.inflight == 0 {
        return Err(anyhow::anyhow!("--inflight: must be > 0")).bad_input();
    }
    let retention = args.retention.retention().bad_input()?;

    let estimator = if args.no_estimator {
        None
    } else {
        let campus = super::load_campus(args.campus.as_deref())?;
        Some(Estimator::new(&campus).context("--campus").bad_input()?)
    };
    // Consumers of accepted readings (the twin estimator, the live service) subscribe here.
    let (readings_tx, readings_rx) = tokio::sync::broadcast::channel(1024);
    let channels = Channels::new(256);
    let follower = estimator
        .map(|e| Follower::start(e, readings_rx, channels.clone(), Duration::from_secs(1)))
        .transpose()
        .context("starting the estimator")?;
    if let Some(path) = &args.state_out {
        crate::follow::check_state_file(&channels, path)
            .context("--state-out")
            .bad_input()?;
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let broker_url = match &args.mqtt.broker {
        Some(url) => url.clone(),
        None => runtime.block_on(async { crate::cmd::broker::start_embedded(args.listen) })?,
    };
    let broker = args.mqtt.options(&broker_url, &args.client_id)?;
    let mut intake = IntakeConfig::new(broker, filters);
    intake.share_group = args.share.clone();
    intake.inflight = args.inflight;
    intake.retention = Some(retention);
    intake.maintain_every = Duration::from_secs(600);
    let mut config = IngestConfig::new(intake, args.store.clone());
    config.points = map;
    config.durability = if args.durability == "normal" {
        Durability::Normal
    } else {
        Durability::Full
    };
    config.influx = args.influx.sink();
    // Opens the store (and registers the sink) before anything runs.
    let ingest = Ingest::open(config)?;
    let stats = Arc::new(IntakeStats::default());
    let subscribers = follower
        .is_some()
        .then(|| runtime.spawn(crate::follow::run(channels, args.state_out.clone())));
    let result = runtime.block_on(ingest.run(Some(readings_tx), stats.clone(), super::interrupted()));
    // The intake has closed the broadcast: the follower ends with the readings it has,
    // and its channels close behind it.
    let followed = follower.and_then(Follower::finish);
    if let Some(task) = subscribers {
        runtime.block_on(task).context("the estimator's subscribers")??;
    }
    let summary = serde_json::json!({
        "messages": stats.messages.load(Ordering::Relaxed),
        "readings": stats.readings.load(Ordering::Relaxed),
        "duplicates": stats.duplicates.load(Ordering::Relaxed),
        "rejected": stats.rejected.load(Ordering::Relaxed),
        "commits": stats.commits.load(Ordering::Relaxed),
        "connections": stats.connections.load(Ordering::Relaxed),
        "deadletters_dropped": stats.deadletters_dropped.load(Ordering::Relaxed),
        "estimator": followed,
    });
    println!("{summary}");
    result?;
    Ok(ExitCode::SUCCESS)
}
