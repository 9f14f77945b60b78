//! A single-pass scanner for native batches in the shape gateways send: one JSON array of
//! flat objects whose strings carry no escapes.
//!
//! Why: decoding is most of ingest's per-reading CPU, and at full rate ingest shares two
//! cores with the broker. A generic deserialiser checks each key and value through
//! several layers; this scanner reads the array once, borrows every string from the
//! payload and parses numbers straight from their text.
//!
//! It accepts a subset of what the serde decoder accepts and returns `None` for
//! everything else (escapes, unknown or repeated keys, a timestamp that is not an integer
//! or a valid RFC 3339 string, malformed JSON, …): the caller then decodes with serde,
//! which gives the per-item errors. Whatever the scanner accepts, it decodes exactly as
//! serde does (a property test holds the two together).

use std::borrow::Cow;

use chrono::DateTime;

use super::NativeValue;

/// The batch's values, or `None` if anything in it is outside the scanner's subset.
pub(super) fn batch(payload: &[u8]) -> Option<Vec<NativeValue<'_>>> {
    // One UTF-8 check for the whole payload: every string below is cut at ASCII quotes,
    // so its slice is UTF-8 too.
    let text = std::str::from_utf8(payload).ok()?;
    let mut s = Scanner { text, at: 0 };
    s.expect(b'[')?;
    // A reading is about 60 bytes of JSON.
    let mut values = Vec::with_capacity(text.len() / 60 + 1);
    if !s.eat(b']') {
        loop {
            values.push(s.item()?);
            if s.eat(b']') {
                break;
            }
            s.expect(b',')?;
        }
    }
    s.skip_whitespace();
    s.at_end().then_some(values)
}

/// A position in the payload.
struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn at_end(&self) -> bool {
        self.at == self.text.len()
    }

    /// Skips JSON whitespace (space, tab, line feed, carriage return).
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes().get(self.at) {
            self.at += 1;
        }
    }

    /// After whitespace: consumes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_whitespace();
        let found = self.bytes().get(self.at) == Some(&byte);
        self.at += usize::from(found);
        found
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat(byte).then_some(())
    }

    /// One `{"point": …, "ts": …, "value": …, "unit": …}` object, keys in any order,
    /// `unit` optional (or null), no key twice and no other key.
    fn item(&mut self) -> Option<NativeValue<'a>> {
        self.expect(b'{')?;
        let (mut point, mut ts_ms, mut value, mut unit) = (None, None, None, None);
        loop {
            let key = self.key()?;
            self.expect(b':')?;
            let fresh = match key {
                Key::Point => point.replace(self.string()?).is_none(),
                Key::Ts => ts_ms.replace(self.timestamp()?).is_none(),
                Key::Value => value.replace(self.value()?).is_none(),
                Key::Unit => unit.replace(self.optional_string()?).is_none(),
            };
            if !fresh {
                return None;
            }
            if self.eat(b'}') {
                break;
            }
            self.expect(b',')?;
        }
        Some(NativeValue {
            source: Cow::Borrowed(point?),
            ts_ms: ts_ms?,
            value: value?,
            unit: unit.flatten().map(Cow::Borrowed),
        })
    }

    /// One of the four keys, spelt plainly (an escaped spelling is left to serde).
    fn key(&mut self) -> Option<Key> {
        self.skip_whitespace();
        let rest = self.bytes().get(self.at..)?;
        let (len, key) = [
            (&b"\"point\""[..], Key::Point),
            (b"\"ts\"", Key::Ts),
            (b"\"value\"", Key::Value),
            (b"\"unit\"", Key::Unit),
        ]
        .into_iter()
        .find_map(|(text, key)| rest.starts_with(text).then_some((text.len(), key)))?;
        self.at += len;
        Some(key)
    }

    /// A string without escapes or control characters.
    fn string(&mut self) -> Option<&'a str> {
        self.expect(b'"')?;
        let start = self.at;
        let rest = self.bytes().get(start..)?;
        let len = memchr::memchr2(b'"', b'\\', rest)?;
        let text = rest.get(..len)?;
        // No early exit, so that it vectorises: names are short and nearly always clean.
        let control = text.iter().fold(false, |found, &b| found | (b < 0x20));
        if control || rest.get(len) != Some(&b'"') {
            return None;
        }
        self.at = start + len + 1;
        self.text.get(start..start + len)
    }

    /// `null` or a string.
    fn optional_string(&mut self) -> Option<Option<&'a str>> {
        self.skip_whitespace();
        if self
            .bytes()
            .get(self.at..)
            .is_some_and(|rest| rest.starts_with(b"null"))
        {
            self.at += 4;
            return Some(None);
        }
        self.string().map(Some)
    }

    /// Epoch milliseconds as a JSON integer, or an RFC 3339 string.
    fn timestamp(&mut self) -> Option<i64> {
        self.skip_whitespace();
        if self.bytes().get(self.at) == Some(&b'"') {
            let text = self.string()?;
            return DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|t| t.timestamp_millis());
        }
        match self.number()? {
            Number::Integer(text) => text.parse().ok(),
            // Fractional epoch milliseconds: serde decides (and refuses most).
            Number::Float(_) => None,
        }
    }

    /// A JSON number, or a string holding one, as f64. A JSON number must be finite;
    /// parsed from its text, correctly rounded, as serde_json does it with
    /// `float_roundtrip` (`-0` is -0.0 there too).
    fn value(&mut self) -> Option<f64> {
        self.skip_whitespace();
        if self.bytes().get(self.at) == Some(&b'"') {
            return self.string()?.trim().parse().ok();
        }
        let (Number::Integer(text) | Number::Float(text)) = self.number()?;
        let value: f64 = text.parse().ok()?;
        value.is_finite().then_some(value)
    }

    /// The text of a number in JSON's grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Option<Number<'a>> {
        let bytes = self.bytes();
        let start = self.at;
        let mut at = start;
        let digits = |at: &mut usize| {
            let from = *at;
            while bytes.get(*at).is_some_and(u8::is_ascii_digit) {
                *at += 1;
            }
            *at - from
        };
        at += usize::from(bytes.get(at) == Some(&b'-'));
        match bytes.get(at) {
            Some(b'0') => at += 1,
            Some(b'1'..=b'9') => {
                digits(&mut at);
            }
            _ => return None,
        }
        let mut integer = true;
        if bytes.get(at) == Some(&b'.') {
            at += 1;
            integer = false;
            (digits(&mut at) > 0).then_some(())?;
        }
        if let Some(b'e' | b'E') = bytes.get(at) {
            at += 1;
            integer = false;
            at += usize::from(matches!(bytes.get(at), Some(b'+' | b'-')));
            (digits(&mut at) > 0).then_some(())?;
        }
        self.at = at;
        let text = self.text.get(start..at)?;
        Some(if integer {
            Number::Integer(text)
        } else {
            Number::Float(text)
        })
    }
}

/// The keys of a batch item.
#[derive(Clone, Copy)]
enum Key {
    Point,
    Ts,
    Value,
    Unit,
}

/// The text of a JSON number, by kind.
enum Number<'a> {
    Integer(&'a str),
    Float(&'a str),
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use proptest::prelude::*;

    use super::super::Item;
    use super::*;

    /// What serde makes of a batch, when it decodes whole.
    fn serde_batch(payload: &[u8]) -> Option<Vec<NativeValue<'_>>> {
        serde_json::from_slice::<Vec<Item<'_>>>(payload)
            .ok()
            .map(|items| items.into_iter().map(Item::into_value).collect())
    }

    /// The fields of values, floats by their bits (NaN equals itself, -0.0 is not 0.0).
    fn exact(values: &[NativeValue<'_>]) -> Vec<(String, i64, u64, Option<String>)> {
        values
            .iter()
            .map(|v| {
                let unit = v.unit.as_deref().map(str::to_owned);
                (v.source.to_string(), v.ts_ms, v.value.to_bits(), unit)
            })
            .collect()
    }

    #[test]
    fn a_gateway_batch_decodes_with_its_strings_borrowed() {
        let payload = br#"[{"point":"hall-a/rack-0007/power_kw","ts":1782864001500,"value":41.25},
            { "value" : "NaN" , "unit" : "kW", "ts" : "2026-07-01T00:00:01.5Z", "point" : "b" },
            {"point":"c","ts":-0,"value":-0,"unit":null}]"#;
        let values = batch(payload).unwrap();
        assert_eq!(values.len(), 3);
        assert!(matches!(
            values[0].source,
            Cow::Borrowed("hall-a/rack-0007/power_kw")
        ));
        assert_eq!((values[0].ts_ms, values[0].value), (1_782_864_001_500, 41.25));
        assert!(values[1].value.is_nan());
        assert_eq!(
            (values[1].ts_ms, values[1].unit.as_deref()),
            (1_782_864_001_500, Some("kW"))
        );
        assert_eq!(
            (values[2].ts_ms, values[2].value.to_bits()),
            (0, (-0.0f64).to_bits())
        );
        assert_eq!(values[2].unit, None);
        assert_eq!(exact(&values), exact(&serde_batch(payload).unwrap()));
        assert_eq!(batch(b" [ ] ").unwrap().len(), 0);
    }

    #[test]
    fn anything_outside_the_plain_shape_is_left_to_serde() {
        for payload in [
            &br#"[{"point":"a\/b","ts":1,"value":1}]"#[..],    // escape
            br#"[{"point":"a","ts":1,"value":1,"note":"x"}]"#, // unknown key
            br#"[{"point":"a","ts":1,"value":1,"ts":2}]"#,     // repeated key
            br#"[{"point":"a","value":1}]"#,                   // missing key
            br#"[{"point":"a","ts":1.5e12,"value":1}]"#,       // fractional form
            br#"[{"point":"a","ts":"soon","value":1}]"#,       // bad timestamp
            br#"[{"point":"a","ts":1,"value":1e400}]"#,        // out of range
            br#"[{"point":"a","ts":1,"value":01}]"#,           // leading zero
            br#"[{"point":"a","ts":1,"value":"x"}]"#,          // not a number
            br#"[{"point":"a","ts":1,"value":1},]"#,           // trailing comma
            br#"[{"point":"a","ts":1,"value":1}] x"#,          // trailing text
            br#"{"point":"a","ts":1,"value":1}"#,              // not an array
            b"[{\"point\":\"a\xff\",\"ts\":1,\"value\":1}]",   // not UTF-8
            b"[{\"point\":\"a\tb\",\"ts\":1,\"value\":1}]",    // control character
        ] {
            assert!(batch(payload).is_none(), "{}", String::from_utf8_lossy(payload));
        }
    }

    /// One field's JSON text, and whether the scanner is meant to take it.
    fn field(texts: Vec<(&'static str, bool)>) -> impl Strategy<Value = (String, bool)> {
        prop::sample::select(texts).prop_map(|(t, plain)| (t.to_owned(), plain))
    }

    fn value_text() -> impl Strategy<Value = (String, bool)> {
        prop_oneof![
            any::<f64>()
                .prop_filter("finite", |v| v.is_finite())
                .prop_map(|v| (format!("{v}"), true)),
            any::<f64>()
                .prop_filter("finite", |v| v.is_finite())
                .prop_map(|v| (format!("{v:e}"), true)),
            any::<i64>().prop_map(|v| (v.to_string(), true)),
            any::<u64>().prop_map(|v| (v.to_string(), true)),
            field(vec![
                ("-0", true),
                ("-0.0", true),
                ("1e-400", true),
                ("6.02E+23", true),
                ("123456789012345678901234567890", true),
                (r#""NaN""#, true),
                (r#"" 3.5 ""#, true),
                (r#""-inf""#, true),
                ("1e400", false),
                (r#""abc""#, false),
                ("01", false),
                ("1.", false),
                (".5", false),
                ("+1", false),
                ("null", false),
                ("true", false),
                (r#""1\u0030""#, false),
            ]),
        ]
    }

    fn ts_text() -> impl Strategy<Value = (String, bool)> {
        prop_oneof![
            any::<i64>().prop_map(|v| (v.to_string(), true)),
            (0i64..4_102_444_800_000).prop_map(|v| (v.to_string(), true)),
            field(vec![
                ("-0", true),
                (r#""2026-07-01T12:00:00Z""#, true),
                (r#""2026-07-01T12:00:00.123+02:00""#, true),
                ("1782864001500.0", false),
                ("1.5e12", false),
                ("18446744073709551615", false),
                (r#""soon""#, false),
                (r#""2026-07-01T12:00:00\u005a""#, false),
                ("null", false),
            ]),
        ]
    }

    fn point_text() -> impl Strategy<Value = (String, bool)> {
        prop_oneof![
            "[a-z0-9_./-]{0,24}".prop_map(|p| (format!("\"{p}\""), true)),
            "[a-zé°]{1,6}".prop_map(|p| (format!("\"{p}\""), true)),
            field(vec![(r#""a\/b""#, false), (r#""\u0061""#, false), ("7", false)]),
        ]
    }

    fn unit_text() -> impl Strategy<Value = Option<(String, bool)>> {
        prop::option::of(field(vec![
            (r#""kW""#, true),
            ("null", true),
            (r#""°C""#, true),
            (r#""k\u0057""#, false),
            ("1", false),
        ]))
    }

    /// An item as JSON text with arbitrary key order and whitespace, sometimes with an
    /// unknown, repeated, missing or escaped key; and whether it is in the scanner's subset.
    fn item_text() -> impl Strategy<Value = (String, bool)> {
        let space = prop::sample::select(vec!["", " ", "\n  ", "\t", "\r\n"]);
        (
            point_text(),
            ts_text(),
            value_text(),
            unit_text(),
            0..9u8,
            any::<u64>(),
            space,
        )
            .prop_map(|(point, ts, value, unit, odd, order, space)| {
                let mut pairs = vec![("point", point), ("ts", ts), ("value", value)];
                pairs.extend(unit.map(|u| ("unit", u)));
                let mut plain = pairs.iter().all(|(_, (_, p))| *p);
                match odd {
                    0 => pairs.push(("extra", ("1".into(), true))),
                    1 => pairs.push(("ts", ("2".into(), true))),
                    2 => {
                        pairs.remove(0);
                    }
                    // The same key, spelt with an escape: serde reads it, the scanner not.
                    3 => pairs[1].0 = r"t\u0073",
                    _ => {}
                }
                plain &= odd > 3;
                // A permutation drawn from `order`.
                let mut order = order;
                for i in (1..pairs.len()).rev() {
                    pairs.swap(i, (order % (i as u64 + 1)) as usize);
                    order /= i as u64 + 1;
                }
                let body: Vec<String> = pairs
                    .iter()
                    .map(|(k, (v, _))| format!("{space}\"{k}\"{space}:{space}{v}{space}"))
                    .collect();
                (format!("{{{}}}", body.join(",")), plain)
            })
    }

    fn batch_text() -> impl Strategy<Value = (String, bool)> {
        prop::collection::vec(item_text(), 0..6).prop_map(|items| {
            let plain = items.iter().all(|(_, p)| *p);
            let texts: Vec<&str> = items.iter().map(|(t, _)| t.as_str()).collect();
            (format!(" [{}]\n", texts.join(" ,")), plain)
        })
    }

    proptest! {
        /// Whatever the scanner decodes, serde decodes to the same values, bit for bit;
        /// and it decodes every batch of the plain shape.
        #[test]
        fn the_scanner_agrees_with_serde((payload, plain) in batch_text()) {
            let scanned = batch(payload.as_bytes());
            match &scanned {
                Some(values) => {
                    let serde = serde_batch(payload.as_bytes());
                    prop_assert!(serde.is_some(), "serde refuses what the scanner took: {payload}");
                    prop_assert_eq!(exact(values), exact(&serde.unwrap()));
                }
                None => prop_assert!(!plain, "a plain batch left to serde: {payload}"),
            }
        }

        /// Damaged payloads: the scanner never takes what serde would decode otherwise.
        #[test]
        fn the_scanner_never_misreads_a_damaged_batch(
            (payload, _) in batch_text(),
            cuts in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..4),
        ) {
            let mut bytes = payload.into_bytes();
            for (at, byte, how) in cuts {
                if bytes.is_empty() {
                    break;
                }
                let i = at.index(bytes.len());
                match how {
                    0 => bytes[i] = byte,
                    1 => { bytes.remove(i); }
                    _ => bytes.insert(i, byte),
                }
            }
            if let Some(values) = batch(&bytes) {
                let serde = serde_batch(&bytes);
                prop_assert!(serde.is_some(), "serde refuses what the scanner took");
                prop_assert_eq!(exact(&values), exact(&serde.unwrap()));
            }
        }
    }
}
