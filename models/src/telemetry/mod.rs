//! Live telemetry contracts: the [`Reading`], the point-id grammar, quantities with their
//! canonical units and physical ranges, the units gateways send, and the point map that
//! turns a gateway's names into twin points.
//!
//! A point id is a `/`-separated path of equipment segments ending in a quantity segment
//! whose suffix gives the canonical unit, for example `hall-a/rack-0007/power_kw` or
//! `hall-a/cdu-03/tcs_supply_temp_c`. The ingest pipeline, the sensor simulator and the
//! twin estimator all speak in these ids; values always travel in the canonical unit of
//! the quantity.
//!
//! ```
//! use models::telemetry::{PointId, Quantity, Unit};
//!
//! let point = PointId::parse("hall-a/cdu-03/tcs_supply_temp_c").unwrap();
//! assert_eq!(point.quantity(), Quantity::Temperature);
//! assert_eq!(point.quantity().canonical_unit(), Unit::DegC);
//! let supply_temp_c = Unit::DegF.convert(86.0, Unit::DegC, None).unwrap();
//! assert!((supply_temp_c - 30.0).abs() < 1e-9);
//! assert!(PointId::parse("hall-a/rack-7/power").is_err()); // no unit suffix
//! ```

mod point_map;
mod unit;

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use point_map::{
    LimitsSpec, PayloadFormat, PointMapSpec, PointRule, TimestampPrecision, TopicRule, placeholders,
    topic_filter_problem,
};
pub use unit::{Dimension, Quantity, Unit, UnitError};

/// One measured value of one twin point, in the canonical unit of the point's quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reading {
    /// The twin point measured.
    pub point: PointId,
    /// When the value was measured (UTC), as the gateway stamped it.
    pub ts: DateTime<Utc>,
    /// The value, in the canonical unit that the point id's suffix names.
    pub value: f64,
}

/// The readings of one sample of a simulated plant: every point read at one instant,
/// `t_s` simulated seconds after the run's start. What the twin's sensor stream produces
/// and the MQTT publisher paces.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedReadings {
    /// Simulated seconds since the start (and, paced, wall seconds).
    pub t_s: f64,
    /// The readings.
    pub readings: Vec<Reading>,
}

/// Longest point id accepted, in bytes: long enough for deep equipment paths, short enough
/// to keep the store's key index compact.
pub const POINT_ID_MAX_LEN: usize = 200;
/// Longest segment of a point id, in bytes.
pub const SEGMENT_MAX_LEN: usize = 64;

/// A twin point id that follows the grammar (see the module page).
///
/// Segments are 1–64 bytes of lowercase ASCII letters, digits, `-`, `_` and `.`, starting
/// with a letter or digit; the last segment is a name followed by a quantity suffix
/// (`_temp_c`, `_kw`, `_kwh`, `_l_per_min`, `_kg_per_s`, `_kpa`, `_frac`, `_pct`,
/// `_m_per_s`, `_w_per_m2`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PointId {
    /// Shared: a reading's point is cloned into every batch, cache and consumer that
    /// holds the reading, and a clone must not cost an allocation at a million readings a
    /// second.
    id: Arc<str>,
    quantity: Quantity,
}

/// Why a string is not a point id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{id}` is not a point id: {reason}")]
pub struct PointIdError {
    /// The rejected string (cut to 80 bytes).
    pub id: String,
    /// What rule it breaks.
    pub reason: String,
}

impl PointId {
    /// Parses and checks a point id.
    pub fn parse(id: &str) -> Result<Self, PointIdError> {
        let fail = |reason: String| PointIdError {
            id: id.chars().take(80).collect(),
            reason,
        };
        if id.is_empty() {
            return Err(fail("it is empty".into()));
        }
        if id.len() > POINT_ID_MAX_LEN {
            return Err(fail(format!(
                "longer than {POINT_ID_MAX_LEN} bytes ({})",
                id.len()
            )));
        }
        for (i, segment) in id.split('/').enumerate() {
            if let Err(reason) = check_segment(segment) {
                return Err(fail(format!("segment {} {reason}", i + 1)));
            }
        }
        // invariant: split always yields at least one item.
        let last = id.rsplit('/').next().unwrap_or(id);
        let Some(quantity) = Quantity::from_segment(last) else {
            return Err(fail(format!(
                "the last segment `{last}` must be a name followed by a unit suffix ({})",
                Quantity::ALL
                    .iter()
                    .map(|q| q.suffix())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        Ok(Self {
            id: id.into(),
            quantity,
        })
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.id
    }

    /// The quantity that the id's suffix names.
    pub fn quantity(&self) -> Quantity {
        self.quantity
    }
}

fn check_segment(segment: &str) -> Result<(), String> {
    if segment.is_empty() {
        return Err("is empty (no leading, trailing or double `/`)".into());
    }
    if segment.len() > SEGMENT_MAX_LEN {
        return Err(format!("is longer than {SEGMENT_MAX_LEN} bytes"));
    }
    let mut chars = segment.chars();
    if !chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        return Err(format!(
            "`{segment}` must start with a lowercase letter or a digit"
        ));
    }
    if let Some(bad) = segment
        .chars()
        .find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!("`{segment}` has `{bad}`; allowed: a-z 0-9 - _ ."));
    }
    Ok(())
}

impl fmt::Display for PointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

impl fmt::Debug for PointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PointId({})", self.id)
    }
}

impl TryFrom<String> for PointId {
    type Error = PointIdError;
    fn try_from(id: String) -> Result<Self, Self::Error> {
        Self::parse(&id)
    }
}

impl From<PointId> for String {
    fn from(point: PointId) -> String {
        point.id.to_string()
    }
}

impl std::str::FromStr for PointId {
    type Err = PointIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn the_examples_of_the_grammar_parse_with_their_quantity() {
        let cases = [
            ("hall-a/rack-0007/power_kw", Quantity::Power),
            ("hall-a/cdu-03/tcs_supply_temp_c", Quantity::Temperature),
            ("hall-a/cdu-03/tcs_flow_l_per_min", Quantity::VolumeFlow),
            ("hall-a/cdu-03/pump_speed_frac", Quantity::Fraction),
            ("plant/fw_supply_temp_c", Quantity::Temperature),
            ("plant/tower/fan_speed_frac", Quantity::Fraction),
            ("grid/import_kw", Quantity::Power),
            ("grid/battery/soc_frac", Quantity::Fraction),
            ("grid/battery/discharged_kwh", Quantity::Energy),
            ("weather/dry_bulb_temp_c", Quantity::Temperature),
            ("weather/rel_humidity_pct", Quantity::Percent),
            ("weather/wind_speed_m_per_s", Quantity::Speed),
            ("weather/ghi_w_per_m2", Quantity::Irradiance),
            ("plant/fw_flow_kg_per_s", Quantity::MassFlow),
            ("plant/fw_pressure_kpa", Quantity::Pressure),
        ];
        for (id, quantity) in cases {
            let point = PointId::parse(id).unwrap();
            assert_eq!(point.quantity(), quantity, "{id}");
            assert_eq!(point.as_str(), id);
        }
    }

    #[test]
    fn ids_that_break_the_grammar_are_refused_with_the_reason() {
        let cases = [
            ("", "empty"),
            ("hall-a//power_kw", "segment 2 is empty"),
            ("/hall-a/power_kw", "segment 1 is empty"),
            ("Hall-A/power_kw", "lowercase"),
            ("hall a/power_kw", "has ` `"),
            ("hall-a/power", "unit suffix"),
            ("hall-a/_kw", "must start with"),
            ("hall-a/kw", "unit suffix"),
            ("hall-a/power_kw/", "segment 3 is empty"),
            ("hall-a/power_w", "unit suffix"),
        ];
        for (id, why) in cases {
            let err = PointId::parse(id).unwrap_err().to_string();
            assert!(err.contains(why), "{id}: {err}");
        }
        let long = format!("{}/power_kw", "a".repeat(250));
        assert!(PointId::parse(&long).unwrap_err().to_string().contains("longer"));
    }

    #[test]
    fn energy_is_not_mistaken_for_power() {
        assert_eq!(
            PointId::parse("grid/import_kwh").unwrap().quantity(),
            Quantity::Energy
        );
    }

    #[test]
    fn a_reading_round_trips_through_json_and_refuses_bad_point_ids() {
        let reading: Reading =
            serde_json::from_str(r#"{"point":"grid/import_kw","ts":"2026-07-01T00:00:00Z","value":1500.5}"#)
                .unwrap();
        assert_eq!(reading.point.as_str(), "grid/import_kw");
        let back = serde_json::to_string(&reading).unwrap();
        assert_eq!(serde_json::from_str::<Reading>(&back).unwrap(), reading);
        let err = serde_json::from_str::<Reading>(
            r#"{"point":"grid/import","ts":"2026-07-01T00:00:00Z","value":1}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unit suffix"), "{err}");
    }
}
