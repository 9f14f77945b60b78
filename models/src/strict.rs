//! Deserialization that refuses what serde's derive lets through.
//!
//! A derived `Deserialize` of a struct (or of an internally tagged enum) also takes a
//! sequence, field by field in declaration order: `[]` is a `WhatIfRequest` with every
//! field defaulted, and `["cdu_pump_trip", 60, …]` a scenario event. Nobody writes that on
//! purpose, and a schema says "object", so [`Object`] asks the format for a map and
//! nothing else.
//!
//! ```
//! use models::strict::Object;
//! #[derive(serde::Deserialize)]
//! struct Request { #[serde(default)] hours: Option<f64> }
//!
//! assert!(serde_json::from_str::<Request>("[]").is_ok()); // serde's derive
//! assert!(serde_json::from_str::<Object<Request>>("[]").is_err());
//! assert_eq!(serde_json::from_str::<Object<Request>>(r#"{"hours": 2}"#).unwrap().0.hours, Some(2.0));
//! ```

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

/// A `T` that must be written as an object (a JSON object, a TOML table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapOnly<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for MapOnly<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer.deserialize_map(MapOnly(PhantomData)).map(Object)
    }
}

/// `deserialize_with` for a list whose every element must be an object.
pub fn objects<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let list = Vec::<Object<T>>::deserialize(deserializer)?;
    Ok(list.into_iter().map(|o| o.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{CduPumpTrip, Event};

    #[test]
    fn an_event_written_as_an_array_is_refused_and_as_a_table_taken() {
        let array = r#"[[60.0, null, "hall-a", 1, 0.0]]"#;
        assert!(
            serde_json::from_str::<Vec<CduPumpTrip>>(array).is_ok(),
            "serde's derive takes it"
        );
        let mut de = serde_json::Deserializer::from_str(array);
        let err = objects::<_, CduPumpTrip>(&mut de).unwrap_err();
        assert!(err.to_string().contains("expected an object"), "{err}");
        // An event reads only a table: its `kind` comes first.
        let tagged = r#"[["cdu_pump_trip", 60.0, null, "hall-a", 1, 0.0]]"#;
        assert!(serde_json::from_str::<Vec<Event>>(tagged).is_err());

        let table = r#"[{"kind": "cdu_pump_trip", "at_s": 60, "hall": "hall-a", "cdu": 1}]"#;
        let mut de = serde_json::Deserializer::from_str(table);
        let events = objects::<_, Event>(&mut de).unwrap();
        assert!(matches!(
            events[0],
            Event::CduPumpTrip(CduPumpTrip { cdu: 1, .. })
        ));
    }

    #[test]
    fn unknown_fields_are_still_refused_inside_an_object() {
        let text = r#"{"kind": "chiller_trip", "at_s": 0, "chillers": 1, "extra": 1}"#;
        let err = serde_json::from_str::<Object<Event>>(text).unwrap_err();
        assert!(err.to_string().contains("extra"), "{err}");
    }
}
