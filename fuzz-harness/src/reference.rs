//! An independent reading of native JSON payloads with serde_json, for the differential
//! target: written from the format `ingest::decode::native` documents (a reading is
//! `{"ts", "value", "unit"?}`, a batch item adds `point`; `ts` is RFC 3339 text or whole
//! epoch milliseconds, `value` a JSON number or a string holding one; unknown and
//! repeated fields make an item malformed) and the rules its errors state (epoch
//! milliseconds within ±9·10¹⁵ when written as a float). It shares no code with the
//! decoder, so a scanner that drifts from serde is caught.
//!
//! A reading and an item are JSON objects (serde's derive alone would also take an array
//! of the fields in declaration order; here the text must open with `{`), read from their
//! own text, so that a repeated key is an error whether or not the rest of the batch
//! decodes.

use std::fmt;

use chrono::DateTime;
use ingest::decode::native::NativeValue;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// Decoded values compared exactly: point, epoch milliseconds, the value's bits (NaN
/// equals itself, −0.0 is not 0.0) and unit.
pub(crate) type Exact = Vec<(String, i64, u64, Option<String>)>;

/// `values` as [`Exact`].
pub(crate) fn exact(values: &[NativeValue<'_>]) -> Exact {
    values
        .iter()
        .map(|v| {
            let unit = v.unit.as_deref().map(str::to_owned);
            (v.source.to_string(), v.ts_ms, v.value.to_bits(), unit)
        })
        .collect()
}

/// What a batch payload decodes to.
#[derive(Debug)]
pub(crate) enum Expected {
    /// Every item decodes: these values, no error.
    Whole(Exact),
    /// An array some of whose items do not decode: the values of those that do, and the
    /// indices of those that do not.
    Items {
        /// The values of the items that decode, in order.
        values: Exact,
        /// The indices of the items that do not.
        refused: Vec<usize>,
    },
    /// Not JSON, or JSON but not an array: one error for the whole payload.
    NoBatch,
}

/// The reading of a single-reading payload for point `source`, if it decodes.
pub(crate) fn single(source: &str, payload: &[u8]) -> Option<Exact> {
    let text = std::str::from_utf8(payload).ok()?;
    let s: Single = object(text)?;
    Some(vec![(source.to_owned(), s.ts.0, s.value.0.to_bits(), s.unit)])
}

/// `T` from `text`, which must be one JSON object.
fn object<'a, T: Deserialize<'a>>(text: &'a str) -> Option<T> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    serde_json::from_str(text).ok()
}

/// The reading of a batch payload.
pub(crate) fn batch(payload: &[u8]) -> Expected {
    let Ok(items) = serde_json::from_slice::<Vec<&serde_json::value::RawValue>>(payload) else {
        return Expected::NoBatch;
    };
    let (mut values, mut refused) = (Vec::new(), Vec::new());
    for (i, item) in items.iter().enumerate() {
        match object::<Item>(item.get()) {
            Some(item) => values.push(item.exact()),
            None => refused.push(i),
        }
    }
    if refused.is_empty() {
        Expected::Whole(values)
    } else {
        Expected::Items { values, refused }
    }
}

/// A single reading.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Single {
    ts: Ts,
    value: Value,
    #[serde(default)]
    unit: Option<String>,
}

/// A batch item.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Item {
    point: String,
    ts: Ts,
    value: Value,
    #[serde(default)]
    unit: Option<String>,
}

impl Item {
    fn exact(self) -> (String, i64, u64, Option<String>) {
        (self.point, self.ts.0, self.value.0.to_bits(), self.unit)
    }
}

/// Epoch milliseconds, from an integer, a whole float within ±9·10¹⁵ or RFC 3339 text.
struct Ts(i64);

impl<'de> Deserialize<'de> for Ts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Ts;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("epoch milliseconds or RFC 3339 text")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Ts, E> {
                Ok(Ts(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Ts, E> {
                i64::try_from(v).map(Ts).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Ts, E> {
                let whole = v.is_finite() && v.trunc() == v && v.abs() < 9.0e15;
                // The bound makes the cast exact.
                whole
                    .then_some(Ts(v as i64))
                    .ok_or_else(|| E::custom("not whole"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Ts, E> {
                let t = DateTime::parse_from_rfc3339(v).map_err(E::custom)?;
                Ok(Ts(t.timestamp_millis()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A value: a JSON number, or a string holding one (Rust's `f64` syntax, trimmed).
struct Value(f64);

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(Value(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                Ok(Value(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
                v.trim().parse().map(Value).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}
