//! InfluxDB line protocol, as Telegraf emits it:
//! `measurement[,tag=value…] field=value[,field=value…] [timestamp]`.
//!
//! Floats (`1.5`, `NaN`), integers (`3i`), unsigned (`3u`), booleans (`t`, `false`, …; read
//! as 1 and 0) and strings (`"on"`) are decoded; a string field cannot be a reading and is
//! refused when mapped. Escapes (`\,` `\ ` `\=` and `\"` in strings) are honoured. A
//! missing timestamp is an error: without the gateway's timestamp a redelivered message
//! could not be recognised as a duplicate.

use std::borrow::Cow;

use models::telemetry::TimestampPrecision;

/// One field of one line.
#[derive(Debug, Clone, PartialEq)]
pub struct LineValue<'a> {
    /// Measurement name.
    pub measurement: Cow<'a, str>,
    /// Tags, in line order.
    pub tags: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// Field key.
    pub field: Cow<'a, str>,
    /// Field value; `Err` holds the text of a string field.
    pub value: Result<f64, String>,
    /// Timestamp, epoch milliseconds.
    pub ts_ms: i64,
}

/// A line that could not be decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct LineError {
    /// 1-based line number in the payload.
    pub line: usize,
    /// Why.
    pub detail: String,
}

/// Decodes every line of `payload`; a bad line costs only itself.
pub fn decode(payload: &str, precision: TimestampPrecision) -> (Vec<LineValue<'_>>, Vec<LineError>) {
    let mut values = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in payload.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Err(detail) = decode_line(line, precision, &mut values) {
            errors.push(LineError { line: i + 1, detail });
        }
    }
    (values, errors)
}

fn decode_line<'a>(
    line: &'a str,
    precision: TimestampPrecision,
    out: &mut Vec<LineValue<'a>>,
) -> Result<(), String> {
    // Split into series key, fields and timestamp on unescaped spaces outside quotes.
    let (series, rest) = split_unescaped(line, ' ', false).ok_or("no fields")?;
    let (fields, ts) = match split_unescaped(rest, ' ', true) {
        Some((fields, ts)) => (fields, ts.trim()),
        None => (rest, ""),
    };
    if ts.is_empty() {
        return Err("no timestamp (ingest needs the gateway's timestamp)".into());
    }
    let ts: i64 = ts
        .parse()
        .map_err(|_| format!("timestamp `{ts}` is not an integer"))?;
    let (mul, div) = precision.to_ms_factors();
    let ts_ms = ts
        .div_euclid(div)
        .checked_mul(mul)
        .ok_or_else(|| format!("timestamp `{ts}` is out of range"))?;

    let mut parts = Parts::new(series, ',', false);
    let measurement = parts.next().filter(|m| !m.is_empty()).ok_or("no measurement")?;
    let measurement = unescape(measurement);
    let mut tags = Vec::new();
    for tag in parts {
        let (k, v) = split_unescaped(tag, '=', false)
            .filter(|(k, v)| !k.is_empty() && !v.is_empty())
            .ok_or_else(|| format!("tag `{tag}` is not key=value"))?;
        tags.push((unescape(k), unescape(v)));
    }
    let first = out.len();
    for field in Parts::new(fields, ',', true) {
        let parsed = split_unescaped(field, '=', true)
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| format!("field `{field}` is not key=value"))
            .and_then(|(k, v)| Ok((unescape(k), field_value(v)?)));
        match parsed {
            Ok((key, value)) => out.push(LineValue {
                measurement: measurement.clone(),
                tags: tags.clone(),
                field: key,
                value,
                ts_ms,
            }),
            Err(e) => {
                // A bad field makes the whole line suspect: drop what it gave.
                out.truncate(first);
                return Err(e);
            }
        }
    }
    if out.len() == first {
        return Err("no fields".into());
    }
    Ok(())
}

fn field_value(v: &str) -> Result<Result<f64, String>, String> {
    if let Some(s) = v.strip_prefix('"') {
        let s = s
            .strip_suffix('"')
            .ok_or_else(|| format!("string `{v}` is not closed"))?;
        return Ok(Err(s.replace("\\\"", "\"").replace("\\\\", "\\")));
    }
    let number = match v {
        "t" | "T" | "true" | "True" | "TRUE" => return Ok(Ok(1.0)),
        "f" | "F" | "false" | "False" | "FALSE" => return Ok(Ok(0.0)),
        _ => v.strip_suffix(['i', 'u']).unwrap_or(v),
    };
    number
        .parse::<f64>()
        .map(Ok)
        .map_err(|_| format!("field value `{v}` is not a number, boolean or string"))
}

/// Splits at the first `sep` that is not escaped (and, with `quotes`, not in a string).
fn split_unescaped(s: &str, sep: char, quotes: bool) -> Option<(&str, &str)> {
    let mut escaped = false;
    let mut in_string = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if quotes && c == '"' {
            in_string = !in_string;
        } else if c == sep && !in_string {
            return Some((&s[..i], &s[i + c.len_utf8()..]));
        }
    }
    None
}

/// Iterator over the pieces of `s` between unescaped separators.
struct Parts<'a> {
    rest: Option<&'a str>,
    sep: char,
    quotes: bool,
}

impl<'a> Parts<'a> {
    fn new(s: &'a str, sep: char, quotes: bool) -> Self {
        Self {
            rest: Some(s),
            sep,
            quotes,
        }
    }
}

impl<'a> Iterator for Parts<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        match split_unescaped(s, self.sep, self.quotes) {
            Some((head, tail)) => {
                self.rest = Some(tail);
                Some(head)
            }
            None => {
                self.rest = None;
                Some(s)
            }
        }
    }
}

fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ (',' | ' ' | '=' | '\\' | '"')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn a_telegraf_line_decodes_into_one_value_per_field() {
        let (values, errors) = decode(
            "cdu,hall=a,unit=03 supply_temp_f=77.2,flow_gpm=300i,running=t,mode=\"auto\" 1782864001500000000\n",
            TimestampPrecision::Ns,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(values.len(), 4);
        assert_eq!(values[0].measurement, "cdu");
        assert_eq!(
            values[0].tags,
            vec![("hall".into(), "a".into()), ("unit".into(), "03".into())]
        );
        assert_eq!(
            (values[0].field.as_ref(), values[0].value.clone()),
            ("supply_temp_f", Ok(77.2))
        );
        assert_eq!(values[1].value, Ok(300.0));
        assert_eq!(values[2].value, Ok(1.0));
        assert_eq!(values[3].value, Err("auto".into()));
        assert!(values.iter().all(|v| v.ts_ms == 1_782_864_001_500));
    }

    #[test]
    fn escapes_and_precisions_are_honoured() {
        let (values, errors) = decode(
            "my\\ meas,site\\,x=a\\ b f\\=1=1.5,s=\"a \\\"q\\\", b\" 1782864001\n",
            TimestampPrecision::S,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(values[0].measurement, "my meas");
        assert_eq!(values[0].tags[0], ("site,x".into(), "a b".into()));
        assert_eq!(values[0].field, "f=1");
        assert_eq!(values[1].value, Err("a \"q\", b".into()));
        assert_eq!(values[0].ts_ms, 1_782_864_001_000);
    }

    #[test]
    fn bad_lines_cost_only_themselves() {
        let payload = "m f=1 1000000\nm f=oops 2000000\nm 3000000\nm f=2\n\n# comment\nm f=NaN 4000000\nm,t f=1 5000000";
        let (values, errors) = decode(payload, TimestampPrecision::Ns);
        let ts: Vec<_> = values.iter().map(|v| v.ts_ms).collect();
        assert_eq!(ts, [1, 4]);
        assert!(values[1].value.as_ref().unwrap().is_nan());
        let lines: Vec<_> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 4, 8], "{errors:?}");
        assert!(errors[0].detail.contains("`oops`"));
        assert!(errors[2].detail.contains("no timestamp"));
        assert!(errors[3].detail.contains("tag `t`"));
    }
}
