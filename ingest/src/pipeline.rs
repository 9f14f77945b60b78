//! One MQTT message in, accepted readings and rejections out: decoding, mapping and
//! validation together. Pure: the time is passed in, nothing is read or written (the
//! pipeline only remembers which point each native name resolved to).

use chrono::{DateTime, TimeZone, Utc};
use models::telemetry::{PayloadFormat, Reading};
use serde::Serialize;

use crate::decode::{line_protocol, native};
use crate::map::{MapError, Mapped, PointMap, Resolved};
use crate::{FastMap, Reason};

/// Root level of the native topics: `campustwin/<site>/<point>`.
pub const TOPIC_ROOT: &str = "campustwin";
/// Last level of a native batch topic.
pub const BATCH_LEVEL: &str = "batch";
/// Last level of the dead-letter topic.
pub const DEADLETTER_LEVEL: &str = "deadletter";

/// One refused value (or payload).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    /// Why.
    pub reason: Reason,
    /// The gateway's name of the value, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Details: what was wrong, and where in the payload (batch item, line).
    pub detail: String,
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// The site (second topic level, or the topic rule's) for the dead-letter topic.
    pub site: String,
    /// Readings that passed, in payload order.
    pub readings: Vec<Reading>,
    /// Values that did not, in payload order.
    pub rejections: Vec<Rejection>,
    /// The message is not for ingest (a dead letter, ours or another process's).
    pub ignored: bool,
}

/// A dead letter, as republished to `campustwin/<site>/deadletter`.
#[derive(Debug, Clone, Serialize)]
pub struct DeadLetter<'a> {
    /// Why the value was refused.
    pub reason: Reason,
    /// The topic the message came on.
    pub topic: &'a str,
    /// The gateway's name of the value, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<&'a str>,
    /// Details.
    pub detail: &'a str,
    /// The start of the payload (at most 512 bytes, lossy UTF-8).
    pub payload: String,
}

/// Longest payload excerpt in a dead letter, bytes.
pub const DEADLETTER_EXCERPT_BYTES: usize = 512;

impl DeadLetter<'_> {
    /// The dead letter of `rejection` for a message on `topic` with `payload`.
    pub fn new<'a>(rejection: &'a Rejection, topic: &'a str, payload: &[u8]) -> DeadLetter<'a> {
        let cut = &payload[..payload.len().min(DEADLETTER_EXCERPT_BYTES)];
        DeadLetter {
            reason: rejection.reason,
            topic,
            source: rejection.source.as_deref(),
            detail: &rejection.detail,
            payload: String::from_utf8_lossy(cut).into_owned(),
        }
    }

    /// The JSON payload.
    pub fn to_json(&self) -> Vec<u8> {
        // invariant: a struct of strings and an enum always serialises.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The dead-letter topic of `site`.
pub fn deadletter_topic(site: &str) -> String {
    format!("{TOPIC_ROOT}/{site}/{DEADLETTER_LEVEL}")
}

/// Most native names whose resolution the pipeline keeps; more than any campus has
/// points. When full it starts afresh, so that a stream of made-up names cannot grow it.
pub const RESOLVED_NAMES_CAPACITY: usize = 1 << 18;

/// Decodes, maps and validates messages.
#[derive(Debug, Clone, Default)]
pub struct Pipeline {
    map: PointMap,
    /// Native names already resolved to their point: a hash lookup per reading instead
    /// of matching the rules and checking the point id again.
    resolved: FastMap<Box<str>, Resolved>,
}

impl Pipeline {
    /// A pipeline over `map`.
    pub fn new(map: PointMap) -> Self {
        Self {
            map,
            resolved: Default::default(),
        }
    }

    /// The point map.
    pub fn map(&self) -> &PointMap {
        &self.map
    }

    /// Processes one message received at `now`.
    pub fn process(&mut self, topic: &str, payload: &[u8], now: DateTime<Utc>) -> Outcome {
        let format = self.map.topic_format(topic);
        let mut levels = topic.splitn(3, '/');
        let _root = levels.next();
        let site = format
            .site
            .clone()
            .or_else(|| levels.next().map(str::to_owned))
            .unwrap_or_else(|| "unknown".into());
        let rest = levels.next().unwrap_or("");
        let mut out = Outcome {
            site,
            ..Outcome::default()
        };
        if format.format == PayloadFormat::Native && rest == DEADLETTER_LEVEL {
            out.ignored = true;
            return out;
        }
        let limits = self.map.limits();
        if payload.len() > limits.max_payload_bytes {
            out.rejections.push(Rejection {
                reason: Reason::Oversized,
                source: None,
                detail: format!(
                    "payload of {} bytes is larger than limits.max_payload_bytes = {}",
                    payload.len(),
                    limits.max_payload_bytes
                ),
            });
            return out;
        }
        let check = Check {
            now_ms: now.timestamp_millis(),
            max_future_ms: (limits.max_future_s * 1000.0) as i64,
            max_age_ms: (limits.max_age_s * 1000.0) as i64,
        };
        match format.format {
            PayloadFormat::Native if rest.is_empty() => out.rejections.push(Rejection {
                reason: Reason::UnknownPoint,
                source: None,
                detail: format!("native topics are {TOPIC_ROOT}/<site>/<point>; `{topic}` names no point"),
            }),
            PayloadFormat::Native if rest == BATCH_LEVEL => {
                let (values, errors) = native::decode_batch(payload);
                for e in errors {
                    out.rejections.push(Rejection {
                        reason: Reason::Malformed,
                        source: e.source,
                        detail: match e.item {
                            Some(i) => format!("item {i}: {}", e.detail),
                            None => e.detail,
                        },
                    });
                }
                out.readings.reserve_exact(values.len());
                for v in values {
                    let mapped = self.map_native(&v.source, v.value, v.unit.as_deref());
                    out.push(&v.source, mapped, v.ts_ms, &check);
                }
            }
            PayloadFormat::Native => match native::decode_single(rest, payload) {
                Ok(v) => {
                    let mapped = self.map_native(rest, v.value, v.unit.as_deref());
                    out.push(rest, mapped, v.ts_ms, &check);
                }
                Err(e) => out.rejections.push(Rejection {
                    reason: Reason::Malformed,
                    source: e.source,
                    detail: e.detail,
                }),
            },
            PayloadFormat::LineProtocol => {
                let text = match std::str::from_utf8(payload) {
                    Ok(text) => text,
                    Err(e) => {
                        out.rejections.push(Rejection {
                            reason: Reason::Malformed,
                            source: None,
                            detail: format!("line protocol must be UTF-8: {e}"),
                        });
                        return out;
                    }
                };
                let (values, errors) = line_protocol::decode(text, format.precision);
                for e in errors {
                    out.rejections.push(Rejection {
                        reason: Reason::Malformed,
                        source: None,
                        detail: format!("line {}: {}", e.line, e.detail),
                    });
                }
                for v in values {
                    let mapped = self.map.map_line(&v);
                    let source = format!("{}/{}", v.measurement, v.field);
                    out.push(&source, mapped, v.ts_ms, &check);
                }
            }
        }
        out
    }

    /// [`PointMap::map_native`], through the names already resolved.
    fn map_native(&mut self, source: &str, value: f64, unit: Option<&str>) -> Result<Mapped, MapError> {
        if let Some(resolved) = self.resolved.get(source) {
            return resolved.convert(value, unit);
        }
        let resolved = self.map.resolve_native(source)?;
        let mapped = resolved.convert(value, unit);
        if self.resolved.len() >= RESOLVED_NAMES_CAPACITY {
            self.resolved.clear();
        }
        self.resolved.insert(source.into(), resolved);
        mapped
    }
}

struct Check {
    now_ms: i64,
    max_future_ms: i64,
    max_age_ms: i64,
}

impl Outcome {
    fn push(&mut self, source: &str, mapped: Result<Mapped, MapError>, ts_ms: i64, check: &Check) {
        match mapped.and_then(|m| validate(m, ts_ms, check)) {
            Ok(reading) => self.readings.push(reading),
            Err((reason, detail)) => self.rejections.push(Rejection {
                reason,
                source: Some(source.to_owned()),
                detail,
            }),
        }
    }
}

fn validate(m: Mapped, ts_ms: i64, check: &Check) -> Result<Reading, MapError> {
    let point = m.point;
    if !m.value.is_finite() {
        return Err((Reason::NotFinite, format!("{point}: value is {}", m.value)));
    }
    let (lo, hi) = point.quantity().range();
    if !(lo..=hi).contains(&m.value) {
        return Err((
            Reason::OutOfRange,
            format!(
                "{point}: {} {} is outside the physical range [{lo}, {hi}] of {}",
                m.value,
                point.quantity().canonical_unit(),
                point.quantity()
            ),
        ));
    }
    let ahead_ms = ts_ms.saturating_sub(check.now_ms);
    if ahead_ms > check.max_future_ms {
        return Err((
            Reason::FutureTimestamp,
            format!(
                "{point}: timestamp {ts_ms} ms is {} s ahead of the clock",
                ahead_ms / 1000
            ),
        ));
    }
    let behind_ms = check.now_ms.saturating_sub(ts_ms);
    if behind_ms > check.max_age_ms {
        return Err((
            Reason::StaleTimestamp,
            format!(
                "{point}: timestamp {ts_ms} ms is {} s behind the clock",
                behind_ms / 1000
            ),
        ));
    }
    // invariant: within ±max_age/max_future of now, so representable.
    let ts = Utc.timestamp_millis_opt(ts_ms).single().ok_or_else(|| {
        (
            Reason::Malformed,
            format!("{point}: timestamp {ts_ms} out of range"),
        )
    })?;
    Ok(Reading {
        point,
        ts,
        value: m.value,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use models::telemetry::PointMapSpec;

    fn now() -> DateTime<Utc> {
        Utc.timestamp_millis_opt(1_782_864_000_000).unwrap()
    }
    const NOW_MS: i64 = 1_782_864_000_000;

    fn reasons(o: &Outcome) -> Vec<Reason> {
        o.rejections.iter().map(|r| r.reason).collect()
    }

    #[test]
    fn a_single_native_reading_is_accepted() {
        let mut p = Pipeline::default();
        let o = p.process(
            "campustwin/dfw1/hall-a/cdu-03/tcs_supply_temp_c",
            format!(r#"{{"ts":{NOW_MS},"value":30.5}}"#).as_bytes(),
            now(),
        );
        assert_eq!(o.site, "dfw1");
        assert!(o.rejections.is_empty(), "{:?}", o.rejections);
        assert_eq!(o.readings.len(), 1);
        assert_eq!(o.readings[0].point.as_str(), "hall-a/cdu-03/tcs_supply_temp_c");
        assert_eq!(o.readings[0].value, 30.5);
        assert_eq!(o.readings[0].ts, now());
    }

    #[test]
    fn every_reason_is_found_and_good_readings_beside_bad_ones_survive() {
        let mut p = Pipeline::default();
        let batch = format!(
            r#"[
            {{"point":"grid/import_kw","ts":{NOW_MS},"value":100}},
            {{"point":"grid/import","ts":{NOW_MS},"value":1}},
            {{"point":"plant/fw_supply_temp_c","ts":{NOW_MS},"value":1,"unit":"psi"}},
            {{"point":"grid/battery/soc_frac","ts":{NOW_MS},"value":"NaN"}},
            {{"point":"grid/battery/soc_frac","ts":{NOW_MS},"value":1.2}},
            {{"point":"plant/fw_supply_temp_c","ts":{},"value":20}},
            {{"point":"plant/fw_supply_temp_c","ts":{},"value":20}},
            {{"point":"plant/fw_supply_temp_c","ts":"never","value":20}},
            {{"point":"grid/battery/soc_frac","ts":{NOW_MS},"value":0.5}}
        ]"#,
            NOW_MS + 301_000,
            NOW_MS - 604_801_000
        );
        let o = p.process("campustwin/dfw1/batch", batch.as_bytes(), now());
        let points: Vec<_> = o.readings.iter().map(|r| (r.point.as_str(), r.value)).collect();
        assert_eq!(
            points,
            [("grid/import_kw", 100.0), ("grid/battery/soc_frac", 0.5)]
        );
        let mut got = reasons(&o);
        got.sort();
        assert_eq!(
            got,
            [
                Reason::UnknownPoint,
                Reason::UnitMismatch,
                Reason::NotFinite,
                Reason::OutOfRange,
                Reason::FutureTimestamp,
                Reason::StaleTimestamp,
                Reason::Malformed,
            ]
        );
        let malformed = o
            .rejections
            .iter()
            .find(|r| r.reason == Reason::Malformed)
            .unwrap();
        assert!(malformed.detail.starts_with("item 7:"), "{}", malformed.detail);
    }

    #[test]
    fn a_resolved_name_keeps_its_rule_and_conversion_from_message_to_message() {
        let spec = PointMapSpec::from_toml_str(
            r#"
accept_native_points = false

[[point]]
source = "Plant/FWS"
point = "plant/fw_supply_temp_c"
unit = "degF"
"#,
            "m",
        )
        .unwrap();
        let mut p = Pipeline::new(PointMap::new(&spec).unwrap());
        let item = |value: f64, unit: &str| {
            format!(r#"{{"point":"Plant/FWS","ts":{NOW_MS},"value":{value}{unit}}}"#)
        };
        let batch = |items: &[String]| format!("[{}]", items.join(","));
        let first = p.process("campustwin/s/batch", batch(&[item(86.0, "")]).as_bytes(), now());
        // Resolved from the cache: the rule's °F still applies, a payload's unit still
        // overrides it, and an unknown name is still refused.
        let second = p.process(
            "campustwin/s/batch",
            batch(&[
                item(50.0, ""),
                item(20.0, r#","unit":"degC""#),
                r#"{"point":"Plant/X","ts":0,"value":1}"#.into(),
            ])
            .as_bytes(),
            now(),
        );
        let values =
            |o: &Outcome| -> Vec<f64> { o.readings.iter().map(|r| (r.value * 1e9).round() / 1e9).collect() };
        assert_eq!(values(&first), [30.0]);
        assert_eq!(values(&second), [10.0, 20.0]);
        assert!(
            second
                .readings
                .iter()
                .all(|r| r.point.as_str() == "plant/fw_supply_temp_c")
        );
        assert_eq!(reasons(&second), [Reason::UnknownPoint]);
    }

    #[test]
    fn oversized_payloads_are_refused_whole_before_decoding() {
        let spec = PointMapSpec::from_toml_str("[limits]\nmax_payload_bytes = 100\n", "m").unwrap();
        let mut p = Pipeline::new(PointMap::new(&spec).unwrap());
        let payload = vec![b'x'; 101];
        let o = p.process("campustwin/s/batch", &payload, now());
        assert_eq!(reasons(&o), [Reason::Oversized]);
        assert!(o.readings.is_empty());
    }

    #[test]
    fn dead_letters_are_ignored_and_bad_topics_refused() {
        let mut p = Pipeline::default();
        let o = p.process("campustwin/s/deadletter", b"{}", now());
        assert!(o.ignored && o.readings.is_empty() && o.rejections.is_empty());
        let o = p.process("campustwin/s", b"{}", now());
        assert_eq!(reasons(&o), [Reason::UnknownPoint]);
        let o = p.process("campustwin/s/grid/import_kw", b"\xff\xfe", now());
        assert_eq!(reasons(&o), [Reason::Malformed]);
    }

    #[test]
    fn line_protocol_topics_are_decoded_and_mapped() {
        let spec = PointMapSpec::from_toml_str(
            r#"
[[topic]]
filter = "telegraf/#"
format = "line_protocol"
site = "dfw1"

[[point]]
measurement = "cdu"
field = "supply_temp_f"
point = "hall-{hall}/cdu-{unit}/tcs_supply_temp_c"
unit = "degF"
"#,
            "m",
        )
        .unwrap();
        let mut p = Pipeline::new(PointMap::new(&spec).unwrap());
        let payload = format!(
            "cdu,hall=a,unit=03 supply_temp_f=86 {}\ncdu,hall=a,unit=03 supply_temp_f=9999 {}\ngarbage\n",
            NOW_MS * 1_000_000,
            NOW_MS * 1_000_000
        );
        let o = p.process("telegraf/gw/cdu", payload.as_bytes(), now());
        assert_eq!(o.site, "dfw1");
        assert_eq!(o.readings.len(), 1);
        assert!((o.readings[0].value - 30.0).abs() < 1e-9);
        assert_eq!(reasons(&o), [Reason::Malformed, Reason::OutOfRange]);
    }

    #[test]
    fn a_dead_letter_carries_reason_topic_and_payload_excerpt() {
        let r = Rejection {
            reason: Reason::OutOfRange,
            source: Some("a_kw".into()),
            detail: "too big".into(),
        };
        let payload = vec![b'a'; 2000];
        let json: serde_json::Value =
            serde_json::from_slice(&DeadLetter::new(&r, "campustwin/s/a_kw", &payload).to_json()).unwrap();
        assert_eq!(json["reason"], "out_of_range");
        assert_eq!(json["topic"], "campustwin/s/a_kw");
        assert_eq!(json["source"], "a_kw");
        assert_eq!(json["payload"].as_str().unwrap().len(), DEADLETTER_EXCERPT_BYTES);
        assert_eq!(deadletter_topic("s"), "campustwin/s/deadletter");
    }
}
