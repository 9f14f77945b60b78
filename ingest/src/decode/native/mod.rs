//! The native JSON payloads.
//!
//! One reading per message on `ROOT/SITE/POINT`:
//! `{"ts": "2026-07-01T12:00:00Z" | 1782907200000, "value": 23.5, "unit": "degC"}` (`unit`
//! optional); a batch on `ROOT/SITE/batch`:
//! `[{"point": "hall-a/rack-0007/power_kw", "ts": …, "value": …, "unit": …}, …]`.
//! `value` is a JSON number, or a string holding one (`"NaN"` and `"inf"` decode, and are
//! then refused as not finite). A reading and an item are objects: an unknown field, a
//! field given twice or an item written as an array make it malformed, whichever path
//! reads the batch.

use std::borrow::Cow;
use std::fmt;

use chrono::DateTime;
use models::strict::Object;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde_json::value::RawValue;

mod scan;

/// One decoded native value, before mapping and validation.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeValue<'a> {
    /// The gateway's point name (topic rest or batch item `point`).
    pub source: Cow<'a, str>,
    /// Timestamp, epoch milliseconds.
    pub ts_ms: i64,
    /// The value as sent.
    pub value: f64,
    /// The unit as sent, if any.
    pub unit: Option<Cow<'a, str>>,
}

/// One native item that could not be decoded: where it was, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeError {
    /// The batch index, `None` for a single reading.
    pub item: Option<usize>,
    /// The point named by the item, if it could be read.
    pub source: Option<String>,
    /// Why.
    pub detail: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Single<'a> {
    ts: Timestamp,
    value: Number,
    #[serde(borrow, default)]
    unit: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Item<'a> {
    #[serde(borrow)]
    point: Cow<'a, str>,
    ts: Timestamp,
    value: Number,
    #[serde(borrow, default)]
    unit: Option<Cow<'a, str>>,
}

/// Decodes a single-reading payload whose point is `source` (from the topic).
pub fn decode_single<'a>(source: &'a str, payload: &'a [u8]) -> Result<NativeValue<'a>, NativeError> {
    match serde_json::from_slice::<Object<Single<'a>>>(payload) {
        Ok(Object(s)) => Ok(NativeValue {
            source: Cow::Borrowed(source),
            ts_ms: s.ts.0,
            value: s.value.0,
            unit: s.unit,
        }),
        Err(e) => Err(NativeError {
            item: None,
            source: Some(source.to_owned()),
            detail: e.to_string(),
        }),
    }
}

/// Decodes a batch payload. Items that decode are returned beside the errors of those that
/// do not, so that one bad item never costs the good ones.
pub fn decode_batch(payload: &[u8]) -> (Vec<NativeValue<'_>>, Vec<NativeError>) {
    // Fastest path: the batch is in the shape gateways send (see `scan`).
    if let Some(values) = scan::batch(payload) {
        return (values, Vec::new());
    }
    // Fast path: the whole batch is well formed.
    if let Ok(items) = serde_json::from_slice::<Vec<Object<Item<'_>>>>(payload) {
        let values = items.into_iter().map(|Object(item)| item.into_value()).collect();
        return (values, Vec::new());
    }
    // Slow path: find out item by item, each from its own text, so that an item is read
    // by the same rules as on the fast path (a key given twice is an error there, where a
    // parsed `Value` would keep the last).
    let items: Vec<&RawValue> = match serde_json::from_slice(payload) {
        Ok(items) => items,
        Err(e) => {
            let detail = if serde_json::from_slice::<IgnoredAny>(payload).is_ok() {
                "a batch must be a JSON array of readings".to_owned()
            } else {
                format!("not JSON: {e}")
            };
            return (
                Vec::new(),
                vec![NativeError {
                    item: None,
                    source: None,
                    detail,
                }],
            );
        }
    };
    let mut values = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match serde_json::from_str::<Object<Item<'_>>>(item.get()) {
            Ok(Object(item)) => values.push(item.into_value().into_owned()),
            Err(e) => errors.push(NativeError {
                item: Some(i),
                source: serde_json::from_str::<serde_json::Value>(item.get())
                    .ok()
                    .and_then(|v| v.get("point").and_then(|p| p.as_str()).map(str::to_owned)),
                detail: e.to_string(),
            }),
        }
    }
    (values, errors)
}

impl<'a> Item<'a> {
    fn into_value(self) -> NativeValue<'a> {
        NativeValue {
            source: self.point,
            ts_ms: self.ts.0,
            value: self.value.0,
            unit: self.unit,
        }
    }
}

impl NativeValue<'_> {
    fn into_owned(self) -> NativeValue<'static> {
        NativeValue {
            source: Cow::Owned(self.source.into_owned()),
            ts_ms: self.ts_ms,
            value: self.value,
            unit: self.unit.map(|u| Cow::Owned(u.into_owned())),
        }
    }
}

/// A timestamp: RFC 3339 text or epoch milliseconds; held as epoch milliseconds.
struct Timestamp(i64);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp or epoch milliseconds")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v)
                    .map(Timestamp)
                    .map_err(|_| E::custom("epoch milliseconds out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Timestamp, E> {
                if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 {
                    // invariant: finite, integral and within ±9e15, so exact in i64.
                    Ok(Timestamp(v as i64))
                } else {
                    Err(E::custom(format!(
                        "epoch milliseconds must be a whole number, got {v}"
                    )))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                DateTime::parse_from_rfc3339(v)
                    .map(|t| Timestamp(t.timestamp_millis()))
                    .map_err(|e| E::custom(format!("`{v}` is not an RFC 3339 timestamp: {e}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A value: a JSON number, or a string holding one.
struct Number(f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Number, E> {
                v.trim()
                    .parse::<f64>()
                    .map(Number)
                    .map_err(|_| E::custom(format!("`{v}` is not a number")))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn a_single_reading_decodes_with_either_timestamp_form() {
        let v = decode_single("grid/import_kw", br#"{"ts":"2026-07-01T00:00:01.5Z","value":12}"#).unwrap();
        assert_eq!(v.ts_ms, 1_782_864_001_500);
        assert_eq!(v.value, 12.0);
        assert_eq!(v.unit, None);
        let v = decode_single("x_kw", br#"{"ts":1782864001500,"value":"3.5","unit":"MW"}"#).unwrap();
        assert_eq!(
            (v.ts_ms, v.value, v.unit.as_deref()),
            (1_782_864_001_500, 3.5, Some("MW"))
        );
        let v = decode_single("x_kw", br#"{"ts":1782864001500,"value":"NaN"}"#).unwrap();
        assert!(v.value.is_nan());
    }

    #[test]
    fn malformed_single_readings_say_why() {
        for (payload, why) in [
            (&br#"{"ts":1,"value":null}"#[..], "a number"),
            (br#"{"ts":"yesterday","value":1}"#, "RFC 3339"),
            (br#"{"value":1}"#, "missing field `ts`"),
            (br#"{"ts":1,"value":1,"vlaue":2}"#, "unknown field `vlaue`"),
            (br#"{"ts":1.5,"value":1}"#, "whole number"),
            (b"not json", "expected"),
        ] {
            let err = decode_single("p_kw", payload).unwrap_err();
            assert!(
                err.detail.contains(why),
                "{}: {}",
                String::from_utf8_lossy(payload),
                err.detail
            );
        }
    }

    #[test]
    fn an_item_is_read_by_the_same_rules_alone_or_in_a_good_batch() {
        // A key given twice, and an item written as an array, are refused whether the
        // batch is otherwise good (one pass) or holds a bad item (item by item).
        let twice = r#"{"point":"a/power_kw","ts":1000,"value":1,"value":2}"#;
        let array = r#"["b/power_kw",2000,2.5]"#;
        let good = r#"{"point":"c/power_kw","ts":3000,"value":3}"#;
        let bad = r#"{"point":"d/power_kw","ts":"soon","value":4}"#;
        for payload in [
            format!("[{good},{twice},{array}]"),
            format!("[{good},{twice},{array},{bad}]"),
        ] {
            let (values, errors) = decode_batch(payload.as_bytes());
            let points: Vec<_> = values.iter().map(|v| v.source.as_ref()).collect();
            assert_eq!(points, ["c/power_kw"], "{payload}");
            assert!(
                errors[0].detail.contains("duplicate field `value`"),
                "{}",
                errors[0].detail
            );
            assert_eq!(errors[0].source.as_deref(), Some("a/power_kw"));
            assert!(
                errors[1].detail.contains("expected an object"),
                "{}",
                errors[1].detail
            );
        }
        let e = decode_single("a/power_kw", b"[1000, 2.5]").unwrap_err();
        assert!(e.detail.contains("expected an object"), "{}", e.detail);
    }

    #[test]
    fn a_bad_item_in_a_batch_costs_only_itself() {
        let payload = br#"[
            {"point":"a/power_kw","ts":1000,"value":1},
            {"point":"b/power_kw","ts":"soon","value":2},
            {"point":"c/power_kw","ts":3000,"value":3},
            {"ts":4000,"value":4}
        ]"#;
        let (values, errors) = decode_batch(payload);
        let points: Vec<_> = values.iter().map(|v| v.source.as_ref()).collect();
        assert_eq!(points, ["a/power_kw", "c/power_kw"]);
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].item, Some(1));
        assert_eq!(errors[0].source.as_deref(), Some("b/power_kw"));
        assert_eq!(errors[1].item, Some(3));
        assert!(errors[1].detail.contains("point"), "{}", errors[1].detail);
    }

    #[test]
    fn a_batch_that_is_not_an_array_is_one_error() {
        let (values, errors) = decode_batch(br#"{"point":"a_kw"}"#);
        assert!(values.is_empty());
        assert_eq!(errors.len(), 1);
        assert!(errors[0].detail.contains("JSON array"));
        let (_, errors) = decode_batch(b"[1,");
        assert!(errors[0].detail.starts_with("not JSON"));
    }
}
