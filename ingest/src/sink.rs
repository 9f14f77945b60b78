//! The InfluxDB sink: forwards committed readings to an InfluxDB v2 write API (or any
//! server that speaks it, such as VictoriaMetrics) as line protocol, in batches.
//!
//! The sink reads from the store, not from the MQTT stream: its spool is the store's
//! chunks past the sink's cursor (`sink_cursor` table, the last chunk id forwarded), on
//! disk. A request carries whole chunks, about `batch_readings` readings (more when one
//! chunk is larger). An outage of the database therefore costs nothing and never holds up
//! acknowledgements to the broker; the sink retries with backoff and drains the backlog
//! when the database returns. Retention keeps chunks the sink has not forwarded yet.
//!
//! Each reading becomes `campustwin,point=<point id> value=<value> <epoch ms>`.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use influxdb2::api::write::TimestampPrecision;
use tracing::{info, warn};

use crate::store::{Durability, StoredReading};
use crate::{Error, Result, Secret, store::Store};

/// Measurement name of the readings in InfluxDB.
pub const MEASUREMENT: &str = "campustwin";

/// Where and how to forward.
#[derive(Debug, Clone)]
pub struct SinkConfig {
    /// Base URL of the server, `http://host:8086`.
    pub url: String,
    /// Organisation.
    pub org: String,
    /// Bucket.
    pub bucket: String,
    /// API token (empty for servers without authentication; its `Debug` is `***`).
    pub token: Secret,
    /// Readings per write request (whole chunks: a request may hold fewer, or one
    /// larger chunk).
    pub batch_readings: usize,
    /// Wait between polls of the store when nothing is pending.
    pub idle_poll: Duration,
    /// Name of the sink's cursor in the store.
    pub name: String,
    /// Timeout of one write request.
    pub request_timeout: Duration,
}

impl SinkConfig {
    /// A sink with 5,000 readings per request (InfluxDB's recommended batch size), a
    /// 200 ms idle poll and a 30 s request timeout.
    pub fn new(url: &str, org: &str, bucket: &str, token: &str) -> Self {
        Self {
            url: url.trim_end_matches('/').to_owned(),
            org: org.to_owned(),
            bucket: bucket.to_owned(),
            token: Secret::new(token),
            batch_readings: 5_000,
            idle_poll: Duration::from_millis(200),
            name: "influxdb".into(),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Line protocol of stored readings (epoch-millisecond timestamps).
pub fn line_protocol(readings: &[StoredReading]) -> String {
    let mut body = String::with_capacity(readings.len() * 64);
    for r in readings {
        // Point ids hold no spaces, commas or equals signs (the grammar forbids them).
        let _ = writeln!(
            body,
            "{MEASUREMENT},point={} value={} {}",
            r.point, r.value, r.ts_ms
        );
    }
    body
}

/// Forwards readings from the store at `store_path` until `shutdown` resolves.
pub async fn run(
    config: SinkConfig,
    store_path: PathBuf,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let client = influxdb2::ClientBuilder::new(&config.url, &config.org, config.token.expose())
        .build()
        .map_err(|e| Error::Sink(format!("client for {}: {e}", config.url)))?;
    let mut store = Store::open(&store_path, Durability::Normal)?;
    store.register_sink(&config.name)?;
    tokio::pin!(shutdown);
    let mut backoff = Duration::from_millis(250);
    let mut down_since: Option<std::time::Instant> = None;
    loop {
        let name = config.name.clone();
        let limit = config.batch_readings;
        let (back, batch) = tokio::task::spawn_blocking(move || {
            let batch = store.after_cursor(&name, limit);
            (store, batch)
        })
        .await
        .map_err(|e| Error::Sink(format!("store reader: {e}")))?;
        store = back;
        let batch = batch?;
        let Some(last) = batch.last().map(|r| r.id) else {
            tokio::select! {
                _ = &mut shutdown => return Ok(()),
                _ = tokio::time::sleep(config.idle_poll) => continue,
            }
        };
        let body = line_protocol(&batch);
        let write = client.write_line_protocol_with_precision(
            &config.org,
            &config.bucket,
            body,
            TimestampPrecision::Milliseconds,
        );
        let outcome = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            r = tokio::time::timeout(config.request_timeout, write) => r,
        };
        match outcome {
            Ok(Ok(())) => {
                store.advance_cursor(&config.name, last)?;
                if let Some(since) = down_since.take() {
                    info!(url = %config.url, down_s = since.elapsed().as_secs(), "InfluxDB is back; draining the spool.");
                }
                backoff = Duration::from_millis(250);
            }
            failed => {
                let why = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("no answer within {:?}", config.request_timeout),
                };
                if down_since.is_none() {
                    down_since = Some(std::time::Instant::now());
                    warn!(url = %config.url, error = %why, "InfluxDB write failed; readings stay spooled in the store.");
                }
                tokio::select! {
                    _ = &mut shutdown => return Ok(()),
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn the_token_is_never_in_debug_output() {
        let config = SinkConfig::new("http://influx:8086/", "campus", "readings", "t0ken-XYZ");
        for text in [format!("{config:?}"), format!("{config:#?}")] {
            assert!(!text.contains("t0ken-XYZ"), "{text}");
            assert!(text.contains("token: ***"), "{text}");
        }
        assert_eq!(config.token.expose(), "t0ken-XYZ");
    }

    #[test]
    fn readings_become_one_line_each() {
        let body = line_protocol(&[
            StoredReading {
                id: 1,
                point: "hall-a/rack-0007/power_kw".into(),
                ts_ms: 1_782_864_000_000,
                value: 41.5,
            },
            StoredReading {
                id: 2,
                point: "grid/import_kw".into(),
                ts_ms: 1_782_864_000_001,
                value: -3.0,
            },
        ]);
        assert_eq!(
            body,
            "campustwin,point=hall-a/rack-0007/power_kw value=41.5 1782864000000\n\
             campustwin,point=grid/import_kw value=-3 1782864000001\n"
        );
    }
}
