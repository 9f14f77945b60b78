//! The service's settings: the configuration file, then the flags over it, then the
//! defaults; every input file read and checked here, at start, so that a bad one is exit
//! code 2 with its line and column before anything runs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use ingest::mqtt::{BrokerOptions, IntakeConfig, MqttVersion};
use ingest::service::IngestConfig;
use ingest::sink::SinkConfig;
use ingest::store::{Durability, Retention};
use ingest::{PointMap, Secret};
use models::campus::Campus;
use models::price::PriceFile;
use models::schedule::QueuedJob;
use models::service::ServiceConfig;
use models::weather::{Weather, WeatherForecast};
use web::auth::{Auth, Token};
use web::state::Limits;

use super::Args;

/// Environment variable that adds an API token.
pub const TOKEN_ENV: &str = "CAMPUSTWIN_API_TOKEN";

/// Where the forecast loop's prices come from.
#[derive(Debug, Clone)]
pub enum Prices {
    /// The built-in diurnal model, in the campus's local standard time.
    Diurnal,
    /// A price file.
    File(Arc<PriceFile>),
}

/// The built-in plant's settings.
#[derive(Debug, Clone)]
pub struct SimulatorSettings {
    /// Seconds between two readings of a point.
    pub interval_s: f64,
    /// Faults, as `campustwin sensors --fault` takes them.
    pub faults: Vec<String>,
    /// Noise scale.
    pub noise: f64,
    /// Dropout fraction.
    pub dropout_frac: f64,
    /// Seed.
    pub seed: u64,
}

/// Everything the service runs with, resolved.
#[derive(Debug)]
pub struct Settings {
    /// The campus.
    pub campus: Campus,
    /// Its weather, with the forecast file over its typical year when given.
    pub weather: Weather,
    /// What the weather is, for forecasts' inputs.
    pub weather_source: String,
    /// Prices.
    pub prices: Prices,
    /// The job queue from a file; `None`: the demo workload.
    pub jobs: Option<Vec<QueuedJob>>,
    /// The API's address.
    pub listen: SocketAddr,
    /// The data directory.
    pub data_dir: PathBuf,
    /// Token file, if any.
    pub token_file: Option<PathBuf>,
    /// Whether reads need a token.
    pub reads_need_token: bool,
    /// Certificate and key for HTTPS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Request limits.
    pub limits: Limits,
    /// An external broker's URL; `None`: the embedded one.
    pub broker_url: Option<String>,
    /// The embedded broker's address.
    pub embedded_broker: SocketAddr,
    /// The file's `[mqtt]` section and the broker flags, for the options.
    mqtt: MqttSettings,
    /// Topic filters (empty: the point map's).
    pub topics: Vec<String>,
    /// Point map.
    pub points: PointMap,
    /// InfluxDB sink.
    pub influx: Option<SinkConfig>,
    /// Retention.
    pub retention: Retention,
    /// Seconds between forecasts.
    pub forecast_every_s: f64,
    /// Horizon, slots.
    pub slots: usize,
    /// Slot length, minutes.
    pub slot_minutes: u32,
    /// CVaR level.
    pub cvar_alpha: f64,
    /// CVaR weight.
    pub risk_weight: f64,
    /// Solve time limit, s.
    pub solve_time_limit_s: Option<f64>,
    /// The built-in plant, when it runs.
    pub simulator: Option<SimulatorSettings>,
    /// State file.
    pub state_out: Option<PathBuf>,
}

#[derive(Debug, Default)]
struct MqttSettings {
    version: Option<String>,
    username: Option<String>,
    password_env: Option<String>,
    ca_file: Option<PathBuf>,
    client_id: Option<String>,
    share: Option<String>,
    inflight: Option<u16>,
}

/// The API's tokens and what to say about them at start.
#[derive(Debug)]
pub struct Tokens {
    /// Who may do what.
    pub auth: Auth,
    /// Where the tokens come from (never the tokens).
    pub note: String,
}

/// A duration flag: seconds, or a number with `s`, `m` or `h`.
pub fn parse_duration_s(text: &str) -> Result<f64, String> {
    let (number, scale) = match text.strip_suffix('h') {
        Some(n) => (n, 3600.0),
        None => match text.strip_suffix('m') {
            Some(n) => (n, 60.0),
            None => (text.strip_suffix('s').unwrap_or(text), 1.0),
        },
    };
    number
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(|v| v * scale)
        .ok_or_else(|| format!("`{text}` is not a duration (300, 30s, 5m, 1h)"))
}

impl Settings {
    /// The settings of `args` over their configuration file.
    pub fn resolve(args: &Args) -> anyhow::Result<Settings> {
        let config = match &args.config {
            Some(path) => ServiceConfig::read(path)?,
            None => ServiceConfig::default(),
        };
        let from_file = |p: &Option<PathBuf>| p.as_ref().map(|p| config.resolve(p));
        let campus = match args.campus.clone().or_else(|| from_file(&config.campus)) {
            Some(path) => Campus::load(&path)?,
            None => Campus::example()?,
        };
        let mut weather = campus.load_weather().context("site.weather_file")?;
        let mut weather_source = format!("typical year: {}", weather.epw().file());
        if let Some(path) = args
            .weather_file
            .clone()
            .or_else(|| from_file(&config.forecast.weather_file))
        {
            let forecast = WeatherForecast::read(&path)?;
            weather_source = format!("forecast file {} over the typical year", path.display());
            weather = weather.with_forecast(forecast);
        }
        let prices = match args
            .price_file
            .clone()
            .or_else(|| from_file(&config.forecast.price_file))
        {
            Some(path) => Prices::File(Arc::new(PriceFile::read(&path)?)),
            None => Prices::Diurnal,
        };
        let jobs = match args
            .jobs_file
            .clone()
            .or_else(|| from_file(&config.forecast.jobs_file))
        {
            Some(path) => {
                let text = models::files::read_text(&path).context("--jobs-file")?;
                Some(QueuedJob::read_list(&text, &path.display().to_string())?)
            }
            None => None,
        };
        let listen = args
            .listen
            .or(config.listen)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let data_dir = args
            .data_dir
            .clone()
            .or_else(|| from_file(&config.data_dir))
            .unwrap_or_else(|| PathBuf::from("campustwin-data"));
        let tls = match (
            args.tls_cert.clone().or_else(|| from_file(&config.tls_cert_file)),
            args.tls_key.clone().or_else(|| from_file(&config.tls_key_file)),
        ) {
            (Some(c), Some(k)) => Some((c, k)),
            _ => None,
        };
        let broker_url = args
            .mqtt
            .broker
            .clone()
            .or_else(|| config.mqtt.as_ref().map(|m| m.broker.clone()));
        let file_mqtt = config.mqtt.clone().unwrap_or_default();
        let mqtt = MqttSettings {
            version: Some(args.mqtt.mqtt_version.clone())
                .filter(|v| v != "3")
                .or(file_mqtt.version.map(|v| v.to_string())),
            username: args.mqtt.username.clone().or(file_mqtt.username),
            password_env: args.mqtt.password_env.clone().or(file_mqtt.password_env),
            ca_file: args
                .mqtt
                .ca_file
                .clone()
                .or_else(|| from_file(&file_mqtt.ca_file)),
            client_id: file_mqtt.client_id,
            share: file_mqtt.share,
            inflight: file_mqtt.inflight,
        };
        let points = match args.points.clone().or_else(|| from_file(&file_mqtt.points_file)) {
            Some(path) => PointMap::from_file(&path)?,
            None => PointMap::default(),
        };
        let topics = if args.topics.is_empty() {
            file_mqtt.topics
        } else {
            args.topics.clone()
        };
        for f in &topics {
            if let Some(why) = models::telemetry::topic_filter_problem(f) {
                return Err(anyhow!("--topic `{f}`: {why}"));
            }
        }
        let influx = args.influx.sink().or_else(|| {
            config.influx.as_ref().map(|i| {
                let env = i.token_env.as_deref().unwrap_or("INFLUX_TOKEN");
                SinkConfig::new(&i.url, &i.org, &i.bucket, &std::env::var(env).unwrap_or_default())
            })
        });
        let f = &config.forecast;
        let forecast_every_s = args.forecast_every.or(f.every_s).unwrap_or(300.0);
        let horizon_h = args.horizon_h.or(f.horizon_h).unwrap_or(24.0);
        let slot_minutes = args.slot_minutes.or(f.slot_minutes).unwrap_or(15);
        let mut checked = ServiceConfig::default();
        checked.forecast.every_s = Some(forecast_every_s);
        checked.forecast.horizon_h = Some(horizon_h);
        checked.forecast.slot_minutes = Some(slot_minutes);
        checked.validate().into_result("flags")?;
        let slots = (horizon_h * 60.0 / f64::from(slot_minutes)).round() as usize;

        let s = &config.simulator;
        let simulator_on = !args.no_simulator && s.enabled.unwrap_or(broker_url.is_none());
        if simulator_on && broker_url.is_some() {
            return Err(anyhow!(
                "the sensor simulator publishes into the embedded broker: with --broker, pass --no-simulator"
            ));
        }
        let mut faults = s.faults.clone();
        faults.extend(args.faults.iter().cloned());
        check_faults(&faults, &campus)?;
        let interval_s = args.simulator_interval_s.or(s.interval_s).unwrap_or(5.0);
        if !(interval_s.is_finite() && interval_s >= 0.05) {
            return Err(anyhow!(
                "--simulator-interval-s: must be ≥ 0.05 s, got {interval_s}"
            ));
        }
        let simulator = simulator_on.then(|| SimulatorSettings {
            interval_s,
            faults,
            noise: s.noise.unwrap_or(1.0),
            dropout_frac: s.dropout_frac.unwrap_or(0.001),
            seed: s.seed.unwrap_or(1),
        });
        let r = &config.store;
        let retention = Retention::from_days(
            r.raw_retention_days.unwrap_or(7.0),
            r.bucket_s.unwrap_or(300),
            r.downsampled_retention_days.unwrap_or(400.0),
        );
        let defaults = Limits::default();
        Ok(Settings {
            weather,
            weather_source,
            prices,
            jobs,
            listen,
            data_dir,
            token_file: args.token_file.clone().or_else(|| from_file(&config.token_file)),
            reads_need_token: args.reads_need_token
                || config.reads_need_token.unwrap_or(!listen.ip().is_loopback()),
            tls,
            limits: Limits {
                body_bytes: config.max_body_bytes.unwrap_or(defaults.body_bytes),
                timeout_s: config.request_timeout_s.unwrap_or(defaults.timeout_s),
            },
            broker_url,
            embedded_broker: args.embedded_broker,
            mqtt,
            topics,
            points,
            influx,
            retention,
            forecast_every_s,
            slots,
            slot_minutes,
            cvar_alpha: f.cvar_alpha.unwrap_or(0.95),
            risk_weight: f.risk_weight.unwrap_or(0.2),
            solve_time_limit_s: f.solve_time_limit_s,
            simulator,
            state_out: args.state_out.clone(),
            campus,
        })
    }

    /// The API's tokens: the token file's and `CAMPUSTWIN_API_TOKEN`'s; with neither, the
    /// token in `DATA_DIR/api-token`, generated there (mode 0600) on first start.
    pub fn tokens(&self) -> anyhow::Result<Tokens> {
        let mut tokens = Vec::new();
        let mut sources = Vec::new();
        if let Some(path) = &self.token_file {
            let text = models::files::read_text(path).context("--token-file")?;
            let found = Auth::tokens_from_text(&text);
            if found.is_empty() {
                return Err(anyhow!("--token-file {}: holds no token", path.display()));
            }
            tokens.extend(found);
            sources.push(format!("tokens from {}", path.display()));
        }
        if let Some(token) = std::env::var(TOKEN_ENV).ok().as_deref().and_then(Token::new) {
            tokens.push(token);
            sources.push(format!("a token from ${TOKEN_ENV}"));
        }
        if tokens.is_empty() {
            let path = self.data_dir.join("api-token");
            tokens.push(generated_token(&path)?);
            sources.push(format!("the token in {}", path.display()));
        }
        let reads = if self.reads_need_token {
            "reads and changes need"
        } else {
            "changes need"
        };
        Ok(Tokens {
            auth: Auth::new(tokens, self.reads_need_token),
            note: format!("{reads} {}", sources.join(" or ")),
        })
    }

    /// How ingest runs against the broker at `url`.
    pub fn ingest_config(&self, url: &str) -> anyhow::Result<IngestConfig> {
        let client_id = self
            .mqtt
            .client_id
            .clone()
            .unwrap_or_else(|| "campustwin-serve".into());
        let mut broker = BrokerOptions::from_url(url, &client_id)?;
        broker.version = if self.mqtt.version.as_deref() == Some("5") {
            MqttVersion::V5
        } else {
            MqttVersion::V311
        };
        broker.ca_file = self.mqtt.ca_file.clone();
        if let Some(user) = &self.mqtt.username {
            broker.username = Some(user.clone());
        }
        if let Some(var) = &self.mqtt.password_env {
            let password =
                std::env::var(var).with_context(|| format!("mqtt.password_env: {var} is not set"))?;
            broker.password = Some(Secret::new(password));
        }
        let filters = if self.topics.is_empty() {
            self.points.filters()
        } else {
            self.topics.clone()
        };
        let mut intake = IntakeConfig::new(broker, filters);
        intake.share_group = self.mqtt.share.clone();
        if let Some(n) = self.mqtt.inflight {
            intake.inflight = n;
        }
        intake.retention = Some(self.retention.clone());
        intake.maintain_every = Duration::from_secs(600);
        let mut config = IngestConfig::new(intake, self.data_dir.join("store.db"));
        config.points = self.points.clone();
        config.durability = Durability::Full;
        config.influx = self.influx.clone();
        Ok(config)
    }
}

/// Faults of the simulated plant, each parsed and its equipment found on `campus`, so
/// that a wrong one is refused at start.
fn check_faults(faults: &[String], campus: &Campus) -> anyhow::Result<()> {
    for text in faults {
        let fault: twin::sensors::FaultSpec = text.parse().map_err(|e| anyhow!("--fault `{text}`: {e}"))?;
        let (_, events) = twin::sensors::split_faults(std::slice::from_ref(&fault));
        twin::sim::validate_events(campus, &events).map_err(|e| anyhow!("--fault `{text}`: {e}"))?;
    }
    Ok(())
}

/// The token in `path`, made there from the system's random source when missing.
fn generated_token(path: &Path) -> anyhow::Result<Token> {
    if let Ok(text) = std::fs::read_to_string(path) {
        if let Some(token) = Token::new(&text) {
            return Ok(token);
        }
    }
    // 192 bits from the thread's ChaCha generator, seeded from the operating system.
    let bytes: [u8; 24] = rand::random();
    let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(path, &text).with_context(|| format!("writing {}", path.display()))?;
    Token::new(&text).ok_or_else(|| anyhow!("empty generated token"))
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    writeln!(f, "{text}")
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, format!("{text}\n"))
}
