//! MQTT broker arguments shared by the commands that talk to a broker.

use std::path::PathBuf;

use anyhow::Context;
use ingest::mqtt::{BrokerOptions, MqttVersion};

use crate::exit::BadInputExt;

/// How to reach and log in to an MQTT broker.
#[derive(Debug, Clone, clap::Args)]
pub struct BrokerArgs {
    /// Broker URL: mqtt://[user[:password]@]host[:port], or mqtts:// for TLS.
    #[arg(long)]
    pub broker: Option<String>,
    /// MQTT protocol version: 3 (3.1.1) or 5.
    #[arg(long, default_value = "3", value_parser = ["3", "5"])]
    pub mqtt_version: String,
    /// User name (overrides the URL's).
    #[arg(long)]
    pub username: Option<String>,
    /// Environment variable holding the password.
    #[arg(long)]
    pub password_env: Option<String>,
    /// PEM file of the certificate authority for mqtts:// (default: the system's roots).
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
}

impl BrokerArgs {
    /// Connection options for the broker at `url` as client `client_id`; errors are the
    /// user's (exit 2).
    pub fn options(&self, url: &str, client_id: &str) -> anyhow::Result<BrokerOptions> {
        let mut broker = BrokerOptions::from_url(url, client_id).bad_input()?;
        broker.version = if self.mqtt_version == "5" {
            MqttVersion::V5
        } else {
            MqttVersion::V311
        };
        broker.ca_file = self.ca_file.clone();
        if let Some(user) = &self.username {
            broker.username = Some(user.clone());
        }
        if let Some(var) = &self.password_env {
            let password = std::env::var(var)
                .with_context(|| format!("--password-env: environment variable {var} is not set"))
                .bad_input()?;
            broker.password = Some(password.into());
        }
        Ok(broker)
    }
}

/// Starts the embedded broker on `addr` (inside a tokio runtime), for `ingest` and
/// `serve` without `--broker`; its URL.
#[cfg(feature = "embedded-broker")]
pub fn start_embedded(addr: std::net::SocketAddr) -> anyhow::Result<String> {
    ingest::mqtt::broker::start_embedded(addr).context("embedded broker")?;
    Ok(format!("mqtt://{addr}"))
}

/// This build has no embedded broker: `--broker` is needed.
#[cfg(not(feature = "embedded-broker"))]
pub fn start_embedded(_addr: std::net::SocketAddr) -> anyhow::Result<String> {
    Err(anyhow::anyhow!(
        "this build has no embedded broker (feature `embedded-broker`): pass --broker URL"
    ))
    .bad_input()
}

/// The InfluxDB v2 sink's flags, as `ingest` and `serve` take them.
#[derive(Debug, Clone, clap::Args)]
pub struct InfluxArgs {
    /// InfluxDB v2 base URL (http://host:8086); forwards committed readings.
    #[arg(long, requires_all = ["influx_org", "influx_bucket"])]
    pub influx_url: Option<String>,
    /// InfluxDB organisation.
    #[arg(long)]
    pub influx_org: Option<String>,
    /// InfluxDB bucket.
    #[arg(long)]
    pub influx_bucket: Option<String>,
    /// Environment variable holding the InfluxDB token (unset or empty: no token)
    /// [default: INFLUX_TOKEN].
    #[arg(long, value_name = "VAR")]
    pub influx_token_env: Option<String>,
}

impl InfluxArgs {
    /// The sink the flags ask for, if any (clap has checked that URL, organisation and
    /// bucket come together).
    pub fn sink(&self) -> Option<ingest::sink::SinkConfig> {
        let (Some(url), Some(org), Some(bucket)) = (&self.influx_url, &self.influx_org, &self.influx_bucket)
        else {
            return None;
        };
        let env = self.influx_token_env.as_deref().unwrap_or("INFLUX_TOKEN");
        let token = std::env::var(env).unwrap_or_default();
        Some(ingest::sink::SinkConfig::new(url, org, bucket, &token))
    }
}
