//! Request bodies and query strings, read so that every mistake names its field.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use chrono::{DateTime, Utc};
use models::strict::Object;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body of type `T`. A body that is not JSON, or does not fit `T`, is a 400 naming
/// the field (`events[2].at_s: invalid type: string "x", expected f64`); one over the
/// body limit is a 413.
#[derive(Debug, Clone)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !json_type {
            return Err(
                ApiError::bad_request("the body must be JSON (Content-Type: application/json)")
                    .field("Content-Type"),
            );
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large("the body is larger than the limit of this endpoint")
            } else {
                ApiError::bad_request(format!("the body could not be read: {rejection}"))
            }
        })?;
        parse(&bytes).map(Json)
    }
}

/// Parses JSON `bytes` into `T`, naming the field of the first mistake. Every body is
/// one object: an array is refused, though serde's derive would take it field by field,
/// and so is anything but white space after the object.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de)
        .map(|Object(value)| value)
        .map_err(|e| {
            let path = e.path().to_string();
            let error = ApiError::bad_request(e.inner().to_string());
            if path == "." { error } else { error.field(path) }
        })?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("the body holds more than one JSON value: {e}")))?;
    Ok(value)
}

/// The parameters of a query string, each read at most once by name: parameters the
/// endpoint does not know, or that repeat, are errors naming them.
#[derive(Debug, Default)]
pub struct QueryParams {
    values: BTreeMap<String, String>,
}

impl QueryParams {
    /// Parses `query` (without the `?`), accepting only the parameters in `known`.
    pub fn parse(query: Option<&str>, known: &[&str]) -> Result<Self, ApiError> {
        let mut values = BTreeMap::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = decode(key).map_err(|e| ApiError::bad_request(e).field(key.to_string()))?;
            let value = decode(value).map_err(|e| ApiError::bad_request(e).field(key.clone()))?;
            if !known.contains(&key.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter (known: {})",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ))
                .field(key));
            }
            if values.insert(key.clone(), value).is_some() {
                return Err(ApiError::bad_request("given more than once").field(key));
            }
        }
        Ok(QueryParams { values })
    }

    /// The raw text of `name`.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// `name` as an instant, RFC 3339.
    pub fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.text(name)
            .map(|t| parse_time(t).map_err(|e| ApiError::bad_request(e).field(name)))
            .transpose()
    }

    /// `name` as a whole number in `range`.
    pub fn integer(&self, name: &str, range: std::ops::RangeInclusive<u64>) -> Result<Option<u64>, ApiError> {
        self.text(name)
            .map(|t| {
                t.parse::<u64>()
                    .ok()
                    .filter(|v| range.contains(v))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "must be a whole number from {} to {}, got {t:?}",
                            range.start(),
                            range.end()
                        ))
                        .field(name)
                    })
            })
            .transpose()
    }

    /// `name` as a duration: a number of seconds, or a number with a unit `s`, `m`,
    /// `h` or `d` (`300`, `5m`, `1h`), within `range` seconds.
    pub fn seconds(&self, name: &str, range: std::ops::RangeInclusive<u64>) -> Result<Option<u64>, ApiError> {
        self.text(name)
            .map(|t| {
                parse_seconds(t).filter(|s| range.contains(s)).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "must be a duration from {} s to {} s (`300`, `5m`, `1h`, `1d`), got {t:?}",
                        range.start(),
                        range.end()
                    ))
                    .field(name)
                })
            })
            .transpose()
    }
}

/// An instant, RFC 3339 (what the document's `date-time` format is).
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("must be RFC 3339 (2026-07-01T12:00:00Z): {e}"))
}

fn parse_seconds(text: &str) -> Option<u64> {
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number.parse().ok()?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(scale)
}

/// Percent-decodes a query component (`+` is a space), refusing invalid UTF-8.
fn decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad percent escape in {text:?}"))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("{text:?} is not UTF-8 once decoded"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_are_typed_and_named_in_errors() {
        let q = QueryParams::parse(
            Some("from=2026-07-01T00%3A00%3A00Z&step=5m&limit=10"),
            &["from", "step", "limit"],
        )
        .unwrap();
        assert_eq!(
            q.time("from").unwrap().unwrap().to_rfc3339(),
            "2026-07-01T00:00:00+00:00"
        );
        assert_eq!(q.seconds("step", 1..=86_400).unwrap(), Some(300));
        assert_eq!(q.integer("limit", 1..=1000).unwrap(), Some(10));
        let err = QueryParams::parse(Some("color=red"), &["from"]).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("color"));
        let err = QueryParams::parse(Some("limit=0"), &["limit"])
            .unwrap()
            .integer("limit", 1..=10)
            .unwrap_err();
        assert_eq!(err.field.as_deref(), Some("limit"));
        let err = QueryParams::parse(Some("from=yesterday"), &["from"])
            .unwrap()
            .time("from")
            .unwrap_err();
        assert!(err.message.contains("RFC 3339"), "{}", err.message);
        assert!(QueryParams::parse(Some("a=1&a=2"), &["a"]).is_err());
        assert!(QueryParams::parse(Some("a=%zz"), &["a"]).is_err());
    }

    #[test]
    fn a_body_error_names_the_field() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Body {
            events: Vec<Event>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Event {
            at_s: f64,
        }
        let err = parse::<Body>(br#"{"events": [{"at_s": 1}, {"at_s": "x"}]}"#).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("events[1].at_s"));
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_body_with_text_after_its_object_is_refused() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Body {
            hours: f64,
        }
        assert!(parse::<Body>(b"{\"hours\": 1}  \n").is_ok());
        for body in [&b"{\"hours\": 1} trailing"[..], b"{\"hours\": 1}{\"hours\": 2}"] {
            let err = parse::<Body>(body).unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST);
            assert!(
                err.message.contains("more than one JSON value"),
                "{}",
                err.message
            );
        }
    }
}
