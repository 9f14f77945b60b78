//! Why a value was refused.

use std::fmt;

use serde::Serialize;

/// Why a value (or a whole payload) was refused. Each is counted in the store, logged and
/// republished to the dead-letter topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No point rule maps the name, and it is not a point id of the grammar (or native
    /// points are not accepted).
    UnknownPoint,
    /// The unit sent is unknown or cannot be converted into the point's unit.
    UnitMismatch,
    /// The value is NaN or infinite.
    NotFinite,
    /// The value is outside the physical range of the point's quantity.
    OutOfRange,
    /// The timestamp is further ahead of the ingest clock than `limits.max_future_s`.
    FutureTimestamp,
    /// The timestamp is further behind the ingest clock than `limits.max_age_s`.
    StaleTimestamp,
    /// The payload (or one of its items or lines) cannot be decoded.
    Malformed,
    /// The payload is larger than `limits.max_payload_bytes`.
    Oversized,
}

impl Reason {
    /// Every reason.
    pub const ALL: [Reason; 8] = [
        Reason::UnknownPoint,
        Reason::UnitMismatch,
        Reason::NotFinite,
        Reason::OutOfRange,
        Reason::FutureTimestamp,
        Reason::StaleTimestamp,
        Reason::Malformed,
        Reason::Oversized,
    ];

    /// The reason's name in the store, logs and dead letters.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::UnknownPoint => "unknown_point",
            Reason::UnitMismatch => "unit_mismatch",
            Reason::NotFinite => "not_finite",
            Reason::OutOfRange => "out_of_range",
            Reason::FutureTimestamp => "future_timestamp",
            Reason::StaleTimestamp => "stale_timestamp",
            Reason::Malformed => "malformed",
            Reason::Oversized => "oversized",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
