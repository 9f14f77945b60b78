//! The configuration of the live service, `campustwin serve --config FILE` (TOML).
//!
//! Every field is optional: an empty file runs the whole plant on embedded defaults (the
//! example campus, an embedded broker fed by the built-in sensor simulator, a store under
//! the data directory, forecasts every 5 minutes over 24 hours). Paths are relative to
//! the file. Flags of `campustwin serve` override the file.
//!
//! ```toml
//! campus = "campus.toml"             # default: the shipped example campus
//! listen = "0.0.0.0:8443"
//! data_dir = "/var/lib/campustwin"
//! token_file = "/etc/campustwin/tokens"   # one token a line
//! reads_need_token = true            # default: false on loopback, true elsewhere
//! tls_cert_file = "cert.pem"
//! tls_key_file = "key.pem"           # PKCS #8, PEM
//!
//! [forecast]
//! every_s = 300
//! horizon_h = 24
//! slot_minutes = 15
//! weather_file = "weather-forecast.csv"   # default: the campus's typical year
//! price_file = "prices.csv"               # default: the built-in diurnal model
//! jobs_file = "jobs.json"                 # default: the demo workload
//! cvar_alpha = 0.95
//! risk_weight = 0.2
//!
//! [mqtt]                              # an external broker; without it, the embedded one
//! broker = "mqtts://broker.example:8883"
//! username = "campustwin"
//! password_env = "MQTT_PASSWORD"
//! ca_file = "ca.pem"
//! topics = ["campustwin/#"]
//! points_file = "points.toml"
//! client_id = "campustwin-serve"
//! share = "twin"
//!
//! [influx]
//! url = "http://influx:8086"
//! org = "ops"
//! bucket = "campus"
//! token_env = "INFLUX_TOKEN"
//!
//! [simulator]                         # the built-in plant; on when no [mqtt] broker is set
//! enabled = true
//! interval_s = 5.0
//! faults = ["pump:hall-a/cdu-01:0.5@600"]
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Problems, Result};

/// The service configuration file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Campus file (TOML); absent: the shipped example campus.
    pub campus: Option<PathBuf>,
    /// Address the HTTP API listens on. Default 127.0.0.1:8080.
    pub listen: Option<SocketAddr>,
    /// Where the store, the forecasts and the generated token live. Default
    /// `campustwin-data` in the working directory.
    pub data_dir: Option<PathBuf>,
    /// File of API tokens, one a line (`#` comments). The environment variable
    /// `CAMPUSTWIN_API_TOKEN` adds one. Without either, a token is generated into the data
    /// directory.
    pub token_file: Option<PathBuf>,
    /// Whether reads need a token too. Default: only when listening beyond loopback.
    pub reads_need_token: Option<bool>,
    /// PEM certificate chain for HTTPS (with `tls_key_file`).
    pub tls_cert_file: Option<PathBuf>,
    /// PKCS #8 PEM key for HTTPS.
    pub tls_key_file: Option<PathBuf>,
    /// Largest request body, bytes. Default 1 MiB.
    pub max_body_bytes: Option<usize>,
    /// Longest a request may take, s. Default 30.
    pub request_timeout_s: Option<f64>,
    /// The forecast loop.
    #[serde(default)]
    pub forecast: ForecastConfig,
    /// An external broker.
    pub mqtt: Option<MqttConfig>,
    /// An InfluxDB v2 sink.
    pub influx: Option<InfluxConfig>,
    /// The built-in sensor simulator.
    #[serde(default)]
    pub simulator: SimulatorConfig,
    /// The store's retention.
    #[serde(default)]
    pub store: StoreConfig,
    /// Where relative paths start (the file's directory); not part of the file.
    #[serde(skip)]
    pub dir: Option<PathBuf>,
}

/// The forecast loop.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastConfig {
    /// Seconds between forecasts. Default 300: a plan as fresh as the 5-minute markets.
    pub every_s: Option<f64>,
    /// Horizon, h. Default 24: a day of prices and weather.
    pub horizon_h: Option<f64>,
    /// Slot length, minutes. Default 15: the settlement interval of most markets.
    pub slot_minutes: Option<u32>,
    /// Hourly weather forecast (CSV, `models::weather::forecast`); default the campus's
    /// typical year.
    pub weather_file: Option<PathBuf>,
    /// Prices (CSV, `models::price`); default the built-in diurnal model.
    pub price_file: Option<PathBuf>,
    /// Job queue (JSON list of jobs with RFC 3339 windows); default the demo workload.
    pub jobs_file: Option<PathBuf>,
    /// CVaR level α. Default 0.95.
    pub cvar_alpha: Option<f64>,
    /// Weight λ of the CVaR against the expected cost. Default 0.2.
    pub risk_weight: Option<f64>,
    /// Time limit of one solve, s. Default: none (every solve ends optimal).
    pub solve_time_limit_s: Option<f64>,
}

/// An external MQTT broker, as `campustwin ingest` takes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// mqtt://[user@]host[:port] or mqtts:// for TLS.
    pub broker: String,
    /// MQTT version: 3 (3.1.1) or 5. Default 3.
    pub version: Option<u8>,
    /// User name.
    pub username: Option<String>,
    /// Environment variable holding the password (never the password itself).
    pub password_env: Option<String>,
    /// Certificate authority (PEM) for mqtts://.
    pub ca_file: Option<PathBuf>,
    /// Topic filters. Default: the point map's, `campustwin/#` for the built-in map.
    #[serde(default)]
    pub topics: Vec<String>,
    /// Point map (TOML).
    pub points_file: Option<PathBuf>,
    /// Client id (keep it stable: the broker keeps the session). Default
    /// `campustwin-serve`.
    pub client_id: Option<String>,
    /// Shared-subscription group.
    pub share: Option<String>,
    /// Messages in flight. Default 1000.
    pub inflight: Option<u16>,
}

/// An InfluxDB v2 sink.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfluxConfig {
    /// Base URL (http://host:8086).
    pub url: String,
    /// Organisation.
    pub org: String,
    /// Bucket.
    pub bucket: String,
    /// Environment variable holding the token. Default `INFLUX_TOKEN`.
    pub token_env: Option<String>,
}

/// The built-in sensor simulator: the twin of the campus publishing its readings into
/// the broker, following the latest plan as a plant with the scheduler plug-in would.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimulatorConfig {
    /// Run it. Default: when no external broker is configured.
    pub enabled: Option<bool>,
    /// Seconds between two readings of a point. Default 5.
    pub interval_s: Option<f64>,
    /// Faults, as `campustwin sensors --fault` takes them.
    #[serde(default)]
    pub faults: Vec<String>,
    /// Instrument noise scale. Default 1.
    pub noise: Option<f64>,
    /// Fraction of readings lost. Default 0.001.
    pub dropout_frac: Option<f64>,
    /// Seed of noise and dropouts. Default 1.
    pub seed: Option<u64>,
}

/// Retention of the store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Days of raw readings. Default 7.
    pub raw_retention_days: Option<f64>,
    /// Downsampled bucket, s. Default 300.
    pub bucket_s: Option<i64>,
    /// Days of buckets. Default 400.
    pub downsampled_retention_days: Option<f64>,
}

impl ServiceConfig {
    /// Reads and validates the file at `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let text = crate::files::read_text(path)?;
        let mut config = Self::from_toml(&text, &path.display().to_string())?;
        config.dir = path.parent().map(Path::to_path_buf);
        Ok(config)
    }

    /// Parses and validates TOML `text`; `file` names it in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Self> {
        let de = toml::de::Deserializer::parse(text).map_err(|e| Error::toml(file, text, &e))?;
        let config: ServiceConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            Error::parse(
                file,
                format!("{}: {}", e.path(), crate::error::toml_reason(text, e.inner())),
            )
        })?;
        config.validate().into_result(file)?;
        Ok(config)
    }

    /// Every rule the file breaks, each with its path.
    pub fn validate(&self) -> Problems {
        let mut p = Problems::new();
        let f = &self.forecast;
        if let Some(v) = f.every_s {
            p.check(v.is_finite() && v >= 5.0, "forecast.every_s", "must be ≥ 5 s");
        }
        if let Some(v) = f.horizon_h {
            p.check(
                v.is_finite() && v > 0.0 && v <= 168.0,
                "forecast.horizon_h",
                "must be in (0, 168] h",
            );
        }
        if let Some(v) = f.slot_minutes {
            p.check(
                (1..=60).contains(&v) && 60 % v == 0,
                "forecast.slot_minutes",
                "must divide 60 (1, 5, 15, 30, 60, …)",
            );
        }
        if let (Some(h), Some(m)) = (f.horizon_h, f.slot_minutes) {
            p.check(
                h * 60.0 / f64::from(m) >= 1.0,
                "forecast.horizon_h",
                "must hold at least one slot",
            );
        }
        if let Some(v) = f.cvar_alpha {
            p.check(
                (0.0..1.0).contains(&v),
                "forecast.cvar_alpha",
                "must be in [0, 1)",
            );
        }
        if let Some(v) = f.risk_weight {
            p.check(
                (0.0..=1.0).contains(&v),
                "forecast.risk_weight",
                "must be in [0, 1]",
            );
        }
        if let Some(v) = f.solve_time_limit_s {
            p.check(
                v.is_finite() && v > 0.0,
                "forecast.solve_time_limit_s",
                "must be > 0",
            );
        }
        if let Some(v) = self.max_body_bytes {
            p.check(v >= 1024, "max_body_bytes", "must be ≥ 1024");
        }
        if let Some(v) = self.request_timeout_s {
            p.check(v.is_finite() && v > 0.0, "request_timeout_s", "must be > 0");
        }
        p.check(
            self.tls_cert_file.is_some() == self.tls_key_file.is_some(),
            "tls_key_file",
            "tls_cert_file and tls_key_file go together",
        );
        if let Some(m) = &self.mqtt {
            p.check(!m.broker.is_empty(), "mqtt.broker", "must be a broker URL");
            if let Some(v) = m.version {
                p.check(v == 3 || v == 5, "mqtt.version", "must be 3 or 5");
            }
            if let Some(g) = &m.share {
                p.check(
                    !g.is_empty() && !g.contains(['/', '+', '#']),
                    "mqtt.share",
                    "must be one topic level without / + #",
                );
            }
            if let Some(v) = m.inflight {
                p.check(v > 0, "mqtt.inflight", "must be > 0");
            }
        }
        if let Some(i) = &self.influx {
            p.check(!i.url.is_empty(), "influx.url", "must be a URL");
            p.check(!i.org.is_empty(), "influx.org", "must not be empty");
            p.check(!i.bucket.is_empty(), "influx.bucket", "must not be empty");
        }
        let s = &self.simulator;
        if let Some(v) = s.interval_s {
            p.check(
                v.is_finite() && v >= 0.05,
                "simulator.interval_s",
                "must be ≥ 0.05 s",
            );
        }
        if let Some(v) = s.noise {
            p.check(v.is_finite() && v >= 0.0, "simulator.noise", "must be ≥ 0");
        }
        if let Some(v) = s.dropout_frac {
            p.check(
                (0.0..1.0).contains(&v),
                "simulator.dropout_frac",
                "must be in [0, 1)",
            );
        }
        if s.enabled == Some(true) && self.mqtt.is_some() {
            p.push(
                "simulator.enabled",
                "the simulator publishes into the embedded broker; it cannot run with [mqtt]",
            );
        }
        let r = &self.store;
        if let Some(v) = r.raw_retention_days {
            p.positive("store.raw_retention_days", v);
        }
        if let Some(v) = r.downsampled_retention_days {
            p.positive("store.downsampled_retention_days", v);
        }
        if let Some(v) = r.bucket_s {
            p.check(v > 0, "store.bucket_s", "must be > 0");
        }
        p
    }

    /// `path` relative to the file's directory (as given when absolute or when the
    /// configuration came from flags alone).
    pub fn resolve(&self, path: &Path) -> PathBuf {
        match &self.dir {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path.to_path_buf(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_every_default() {
        assert_eq!(
            ServiceConfig::from_toml("", "s.toml").unwrap(),
            ServiceConfig::default()
        );
    }

    #[test]
    fn the_documented_example_parses() {
        let doc = include_str!("service.rs");
        let start = doc.find("//! ```toml").unwrap();
        let end = doc[start + 10..].find("//! ```").unwrap() + start + 10;
        let text: String = doc[start..end]
            .lines()
            .skip(1)
            .map(|l| {
                l.strip_prefix("//! ")
                    .or_else(|| l.strip_prefix("//!"))
                    .unwrap_or(l)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let err = ServiceConfig::from_toml(&text, "s.toml").unwrap_err().to_string();
        // The example turns the simulator on beside an external broker, which is refused.
        assert!(err.contains("simulator.enabled"), "{err}");
        let fixed = text.replace("enabled = true", "enabled = false");
        let config = ServiceConfig::from_toml(&fixed, "s.toml").unwrap();
        assert_eq!(config.forecast.slot_minutes, Some(15));
        assert_eq!(config.mqtt.unwrap().share.as_deref(), Some("twin"));
    }

    #[test]
    fn every_problem_is_named_by_its_path() {
        let err = ServiceConfig::from_toml(
            "[forecast]\nevery_s = 1\nslot_minutes = 7\ncvar_alpha = 1.5\n[store]\nbucket_s = 0\n",
            "s.toml",
        )
        .unwrap_err()
        .to_string();
        for path in [
            "forecast.every_s",
            "forecast.slot_minutes",
            "forecast.cvar_alpha",
            "store.bucket_s",
        ] {
            assert!(err.contains(path), "{path} in {err}");
        }
        let err = ServiceConfig::from_toml("[forecast]\nhorizon = 3\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("horizon"), "{err}");
        let err = ServiceConfig::from_toml("listen = \"nowhere\"\n", "s.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen"), "{err}");
    }
}
