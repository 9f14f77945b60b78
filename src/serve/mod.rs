//! `campustwin serve`: the live service, one process on one tokio runtime.
//!
//! ```text
//! sensor simulator ──MQTT──> broker ──> ingest ──> store (SQLite) ──> InfluxDB sink
//!   (built-in plant,           (embedded       │           │
//!    follows the plan)          or external)   │           └──> read-only handle ──> API history,
//!                                              │                                     accuracy
//!                                              └──> estimator (thread) ──watch──> live state ──> API, SSE
//!                                                                      └─broadcast─> alarms ──> SSE
//! forecast loop, every --forecast-every and on request:
//!   estimated state ──twin──> capacities, overhead, limits ──> problem (+ jobs, prices)
//!   ──optimizer session (warm)──> plan ──twin simulates it──> forecast ──> store, API, SSE
//! ```
//!
//! The binary only wires: the estimator follower is the twin's, ingest is the ingest
//! crate's, the API the web crate's, and the forecast loop calls the twin and the
//! optimizer in turn through the `models` types they share.

mod control;
mod forecast;
mod jobs;
mod live;
mod plant;
mod settings;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ingest::mqtt::intake::IntakeStats;
use ingest::service::Ingest;
use ingest::store::{ForecastLog, Reader};
use tokio::sync::{broadcast, watch};
use tracing::info;
use twin::campus::{CampusModel, Resolution};
use twin::estimate::Estimator;
use twin::estimate::follow::{Channels, Follower};
use twin::estimate::throttle::ThrottleWatch;
use web::events::EventHub;
use web::state::{AppState, Parts, Readiness};

use crate::cmd::broker::BrokerArgs;
use crate::exit::BadInputExt;
pub use settings::Settings;

/// Arguments of `campustwin serve`. Every flag overrides the configuration file's value.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Service configuration (TOML; see the README's `serve` section).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Campus file (TOML); default: the shipped example campus.
    #[arg(long, value_name = "FILE")]
    pub campus: Option<PathBuf>,
    /// Address of the HTTP API [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Directory of the store, the forecasts and a generated API token [default:
    /// campustwin-data].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// File of API tokens, one a line (the environment variable CAMPUSTWIN_API_TOKEN adds
    /// one); without either, a token is generated into the data directory.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Reads need a token too [default: only when listening beyond loopback].
    #[arg(long)]
    pub reads_need_token: bool,
    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PKCS #8 PEM key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// An external broker, as for `campustwin ingest`; without one, an embedded broker
    /// runs on --embedded-broker and the sensor simulator publishes into it.
    #[command(flatten)]
    pub mqtt: BrokerArgs,
    /// Address of the embedded broker.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:1883")]
    pub embedded_broker: SocketAddr,
    /// Topic filter to subscribe to (repeatable).
    #[arg(long = "topic")]
    pub topics: Vec<String>,
    /// Point map (TOML).
    #[arg(long, value_name = "FILE")]
    pub points: Option<PathBuf>,
    /// The InfluxDB sink (over the file's `[influx]`).
    #[command(flatten)]
    pub influx: crate::cmd::broker::InfluxArgs,
    /// Time between forecasts: seconds, or 30s, 5m, 1h [default: 5m].
    #[arg(long, value_name = "DURATION", value_parser = settings::parse_duration_s)]
    pub forecast_every: Option<f64>,
    /// Forecast horizon, hours [default: 24].
    #[arg(long, value_name = "H")]
    pub horizon_h: Option<f64>,
    /// Slot length, minutes [default: 15].
    #[arg(long, value_name = "MIN")]
    pub slot_minutes: Option<u32>,
    /// Hourly weather forecast (CSV); default: the campus's typical year.
    #[arg(long, value_name = "FILE")]
    pub weather_file: Option<PathBuf>,
    /// Prices (CSV `time,price_per_mwh` or scenario columns); default: the built-in
    /// diurnal model.
    #[arg(long, value_name = "FILE")]
    pub price_file: Option<PathBuf>,
    /// Job queue (JSON list); default: the demo workload.
    #[arg(long, value_name = "FILE")]
    pub jobs_file: Option<PathBuf>,
    /// Do not run the built-in sensor simulator.
    #[arg(long)]
    pub no_simulator: bool,
    /// A fault of the simulated plant or its sensors (repeatable), as for
    /// `campustwin sensors --fault`.
    #[arg(long = "fault", value_name = "FAULT")]
    pub faults: Vec<String>,
    /// Seconds between two readings of a point from the simulator [default: 5].
    #[arg(long, value_name = "S")]
    pub simulator_interval_s: Option<f64>,
    /// Keep the estimated state in this JSON file too, rewritten every second.
    #[arg(long, value_name = "FILE")]
    pub state_out: Option<PathBuf>,
}

/// Runs the service until SIGINT or SIGTERM.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let settings = Settings::resolve(&args).bad_input()?;
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("--data-dir {}", settings.data_dir.display()))
        .bad_input()?;
    let tokens = settings.tokens().bad_input()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("campustwin")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(settings, tokens))?;
    Ok(ExitCode::SUCCESS)
}

/// Everything running, until a signal.
async fn serve(settings: Settings, tokens: settings::Tokens) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let events = EventHub::default();
    {
        let events = events.clone();
        tokio::spawn(async move {
            crate::cmd::interrupted().await;
            info!("Stopping: committing what is queued.");
            let _ = stop_tx.send(true);
            // Streams end, so that the server's graceful shutdown does not wait for
            // clients that never hang up.
            events.close();
        });
    }
    let stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };

    // Broker and ingest.
    let broker_url = match &settings.broker_url {
        Some(url) => url.clone(),
        None => crate::cmd::broker::start_embedded(settings.embedded_broker)?,
    };
    let ingest_config = settings.ingest_config(&broker_url)?;
    let store_path = ingest_config.store.clone();
    let ingest = tokio::task::block_in_place(|| Ingest::open(ingest_config)).context("opening the store")?;
    let reader = Arc::new(Reader::open(&store_path).context("opening the store to read")?);
    let forecast_log = ForecastLog::open(&store_path).context("opening the forecast log")?;
    let (readings_tx, readings_rx) = broadcast::channel(1024);
    let intake_stats = Arc::new(IntakeStats::default());

    // The estimator and what it publishes.
    let channels = Channels::new(256);
    let estimator = Estimator::new(&settings.campus).context("the estimator of the campus")?;
    let follower = Follower::start(estimator, readings_rx, channels.clone(), Duration::from_secs(1))
        .context("starting the estimator")?;
    let (live_tx, live_rx) = watch::channel(None);
    let (ready_tx, ready_rx) = watch::channel(Readiness::default());
    let layout =
        CampusModel::build(&settings.campus, Resolution::Hall, &[], 60.0).context("the campus's layout")?;
    let live_task = tokio::spawn(live::publish(
        channels.clone(),
        ThrottleWatch::new(&layout),
        live_tx,
        events.clone(),
        settings.state_out.clone(),
        stopped(stop_rx.clone()),
    ));

    // The forecast loop.
    let (forecast_tx, forecast_rx) = watch::channel(None);
    let (plan_tx, plan_rx) = watch::channel(None);
    let control = Arc::new(control::ServiceControl::new());
    let forecaster = forecast::Forecaster::new(&settings, forecast_log)?;
    let forecast_task = tokio::spawn(forecast::run(
        forecaster,
        forecast::Outputs {
            live: live_rx.clone(),
            forecast: forecast_tx,
            plan: plan_tx,
            ready: ready_tx.clone(),
            events: events.clone(),
            control: control.clone(),
        },
        stopped(stop_rx.clone()),
    ));

    // The API.
    let state = AppState::new(Parts {
        campus: live::campus_info(&settings.campus),
        live: live_rx,
        forecast: forecast_rx,
        plan: plan_rx.clone(),
        ready: ready_rx,
        events,
        store: Some(reader),
        intake: intake_stats.clone(),
        control: control.clone(),
        auth: tokens.auth,
        limits: settings.limits,
    });
    let app = web::router(state);
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("--listen {}: the address is taken or not ours", settings.listen))
        .bad_input()?;
    let scheme = if settings.tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{}", listener.local_addr().unwrap_or(settings.listen));
    eprintln!(
        "campustwin serve: {} on {url} (API {url}/api/v1, docs {url}/docs, events {url}/api/v1/events); {}",
        settings.campus.spec.site.name, tokens.note
    );
    let server = {
        let shutdown = stopped(stop_rx.clone());
        match &settings.tls {
            Some((cert, key)) => {
                let acceptor = web::tls::acceptor(cert, key).bad_input()?;
                let tls = web::tls::TlsListener::new(listener, acceptor)?;
                tokio::spawn(async move { axum::serve(tls, app).with_graceful_shutdown(shutdown).await })
            }
            None => {
                tokio::spawn(async move { axum::serve(listener, app).with_graceful_shutdown(shutdown).await })
            }
        }
    };

    // The intake, and once it is connected the simulated plant.
    let intake = tokio::spawn(ingest.run(Some(readings_tx), intake_stats.clone(), stopped(stop_rx.clone())));
    let connected = {
        let stats = intake_stats.clone();
        let ready = ready_tx.clone();
        let stop = stop_rx.clone();
        async move {
            while stats.connections.load(std::sync::atomic::Ordering::Relaxed) == 0 {
                if *stop.borrow() {
                    return false;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            ready.send_modify(|r| r.intake_connected = true);
            true
        }
    };
    let plant = if settings.simulator.is_some() {
        if connected.await {
            Some(plant::start(
                &settings,
                &broker_url,
                plan_rx,
                stopped(stop_rx.clone()),
            )?)
        } else {
            None
        }
    } else {
        tokio::spawn(connected);
        None
    };

    // Shutdown: the plant stops publishing, the intake commits what is queued and closes
    // the readings, the estimator publishes its last state.
    let intake_result = intake.await.context("the intake task")?;
    if let Some(plant) = plant {
        plant.finish().await;
    }
    let _ = server.await;
    let _ = forecast_task.await;
    let followed = tokio::task::spawn_blocking(move || follower.finish())
        .await
        .ok()
        .flatten();
    let _ = live_task.await;
    info!(?followed, "Service stopped.");
    intake_result.context("ingest")?;
    Ok(())
}
