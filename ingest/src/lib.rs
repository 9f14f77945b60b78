//! Live ingest of CampusTwin: readings from campus gateways over MQTT, decoded, mapped
//! onto twin points, validated, committed to an embedded SQLite store (and forwarded to
//! InfluxDB), with nothing lost when the broker, the database or the process fails.
//!
//! The pure part ([`Pipeline`]: decoding, mapping, validation) takes a message and a time
//! and returns readings and rejections; the edges ([`mqtt`], [`store`], [`sink`]) do the
//! I/O; [`service::run_ingest`] wires them for `campustwin ingest` and the live service.
//! Queries go through [`store::Reader`], which opens the store read-only, and forecasts
//! are kept beside the readings in [`store::ForecastLog`].
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use ingest::{Pipeline, Reason};
//!
//! let now = Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap();
//! let payload = br#"[{"point": "hall-a/rack-0007/power_kw", "ts": "2026-07-01T12:00:00Z", "value": 41.5},
//!                    {"point": "hall-a/cdu-03/tcs_supply_temp_c", "ts": "2026-07-01T12:00:00Z", "value": 999}]"#;
//! let outcome = Pipeline::default().process("campustwin/dfw1/batch", payload, now);
//! assert_eq!(outcome.readings.len(), 1);
//! assert_eq!(outcome.readings[0].point.as_str(), "hall-a/rack-0007/power_kw");
//! assert_eq!(outcome.rejections[0].reason, Reason::OutOfRange);
//! ```

pub mod clock;
pub mod decode;
mod error;
pub mod map;
pub mod mqtt;
pub mod pipeline;
mod reason;
mod secret;
pub mod service;
pub mod sink;
pub mod store;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::{Error, ErrorKind, Result};
pub use map::PointMap;
pub use pipeline::{Outcome, Pipeline, Rejection};
pub use reason::Reason;
pub use secret::Secret;

/// The hash map of the per-reading lookups (point names and ids): a fast hasher, seeded
/// per process, where the standard SipHash costs more than the lookup it serves.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
