//! A simulation scenario: when it starts, how long it runs, the IT load, and the faults
//! that happen along the way ("how long until racks throttle if CDU 3 loses its pump?").
//!
//! ```toml
//! start = "2026-07-15T12:00:00Z"
//! hours = 2
//! load = { kind = "constant", utilisation = 0.9 }
//!
//! [[events]]
//! kind = "cdu_pump_trip"
//! at_s = 600
//! hall = "hall-a"
//! cdu = 3
//! ```

use std::path::{Path, PathBuf};

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Problems, Result};
use crate::load::LoadSpec;

/// A scenario file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Start of the simulation (RFC 3339, UTC); the command line may override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<DateTime<Utc>>,
    /// Simulated hours; the command line may override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<f64>,
    /// Output step, s; the command line may override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_s: Option<f64>,
    /// The IT load; the command line may override it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadSpec>,
    /// Faults and changes, at offsets from the start.
    #[serde(default, deserialize_with = "crate::strict::objects")]
    pub events: Vec<Event>,
    /// Where the file was read from, for relative paths; not part of the file.
    #[serde(skip)]
    pub dir: Option<PathBuf>,
}

/// A fault or change during a run. Each starts `at_s` seconds after the simulation
/// starts and lasts `duration_s` (for the rest of the run when absent). Written as a table
/// whose `kind` names the variant (`kind = "cdu_pump_trip"`) beside the variant's fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A CDU's secondary pump stops: its racks lose flow.
    CduPumpTrip(CduPumpTrip),
    /// Tower fans stop: those cells run on natural draft.
    TowerFanFailure(TowerFanFailure),
    /// Trim chillers trip.
    ChillerTrip(ChillerTrip),
    /// The utility asks for less: the import limit drops (a demand-response call, a
    /// contingency on the interconnect).
    ImportLimitDrop(ImportLimitDrop),
    /// The IT load changes: every hall's GPU utilisation is multiplied by
    /// `utilisation_factor` (held within 0 to 1): a training run starting or ending, a
    /// checkpoint, a job mix shifting.
    LoadChange(LoadChange),
}

/// A CDU's secondary pump stops: its racks lose flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CduPumpTrip {
    /// Start, s after the simulation start.
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0))]
    pub at_s: f64,
    /// Length, s; until the end when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0.0))]
    pub duration_s: Option<f64>,
    /// Hall name.
    pub hall: String,
    /// CDU number in the hall, from 1.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    #[serde(deserialize_with = "crate::units::whole_u32")]
    pub cdu: u32,
    /// Flow left (a second pump, thermosiphon) as a fraction of the loop's flow. Default 0.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 1.0))]
    pub residual_flow_frac: f64,
}

/// Tower fans stop: those cells run on natural draft.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TowerFanFailure {
    /// Start, s after the simulation start.
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0))]
    pub at_s: f64,
    /// Length, s; until the end when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0.0))]
    pub duration_s: Option<f64>,
    /// How many cells lose their fan.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    #[serde(deserialize_with = "crate::units::whole_u32")]
    pub cells: u32,
}

/// Trim chillers trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChillerTrip {
    /// Start, s after the simulation start.
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0))]
    pub at_s: f64,
    /// Length, s; until the end when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0.0))]
    pub duration_s: Option<f64>,
    /// How many chillers trip.
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    #[serde(deserialize_with = "crate::units::whole_u32")]
    pub chillers: u32,
}

/// The import limit drops.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ImportLimitDrop {
    /// Start, s after the simulation start.
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0))]
    pub at_s: f64,
    /// Length, s; until the end when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0.0))]
    pub duration_s: Option<f64>,
    /// The limit while the event lasts, kW.
    #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0.0))]
    pub import_limit_kw: f64,
}

/// Every hall's GPU utilisation is multiplied by a factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoadChange {
    /// Start, s after the simulation start.
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0))]
    pub at_s: f64,
    /// Length, s; until the end when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0.0))]
    pub duration_s: Option<f64>,
    /// Factor on the utilisation while the event lasts (0.5 halves it).
    #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 10.0))]
    pub utilisation_factor: f64,
}

/// The `kind` of an event.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    CduPumpTrip,
    TowerFanFailure,
    ChillerTrip,
    ImportLimitDrop,
    LoadChange,
}

impl Kind {
    /// The event of this kind whose fields (all but `kind`) `fields` holds.
    fn read<'de, D: Deserializer<'de>>(self, fields: D) -> std::result::Result<Event, D::Error> {
        Ok(match self {
            Kind::CduPumpTrip => Event::CduPumpTrip(Deserialize::deserialize(fields)?),
            Kind::TowerFanFailure => Event::TowerFanFailure(Deserialize::deserialize(fields)?),
            Kind::ChillerTrip => Event::ChillerTrip(Deserialize::deserialize(fields)?),
            Kind::ImportLimitDrop => Event::ImportLimitDrop(Deserialize::deserialize(fields)?),
            Kind::LoadChange => Event::LoadChange(Deserialize::deserialize(fields)?),
        })
    }
}

/// Serde's derive of an internally tagged enum buffers the whole table before it reads a
/// field, which loses where each value was: a mistake in an event would be placed at its
/// `[[events]]` header and name no key. Read here instead: with `kind` first (as every
/// example writes it), the other fields are read straight from the input, so an error
/// names its key (`events[0].cdu`) and, in TOML, its line; with `kind` elsewhere, the
/// fields are buffered until it comes, and an error still names its key.
impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        deserializer.deserialize_map(EventVisitor)
    }
}

struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = Event;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event: a table with its `kind` and fields")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Event, A::Error> {
        let Some(first) = map.next_key::<String>()? else {
            return Err(de::Error::missing_field("kind"));
        };
        if first == "kind" {
            let kind: Kind = map.next_value()?;
            return kind.read(MapAccessDeserializer::new(map));
        }
        let mut fields = BTreeMap::new();
        let mut kind = None;
        let mut entry = Some(first);
        while let Some(key) = entry {
            if key == "kind" {
                kind = Some(map.next_value::<Kind>()?);
            } else {
                let value: serde_value::Value = map.next_value()?;
                if fields
                    .insert(serde_value::Value::String(key.clone()), value)
                    .is_some()
                {
                    return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
                }
            }
            entry = map.next_key()?;
        }
        let kind = kind.ok_or_else(|| de::Error::missing_field("kind"))?;
        let mut track = serde_path_to_error::Track::new();
        let buffered =
            serde_value::ValueDeserializer::<de::value::Error>::new(serde_value::Value::Map(fields));
        kind.read(serde_path_to_error::Deserializer::new(buffered, &mut track))
            .map_err(|e| de::Error::custom(format_args!("{}: {e}", track.path())))
    }
}

impl Event {
    /// Start, s after the simulation start.
    pub fn at_s(&self) -> f64 {
        self.timing().0
    }

    /// Length, s; `None` when it lasts to the end.
    pub fn duration_s(&self) -> Option<f64> {
        self.timing().1
    }

    /// `(at_s, duration_s)`.
    fn timing(&self) -> (f64, Option<f64>) {
        match self {
            Event::CduPumpTrip(e) => (e.at_s, e.duration_s),
            Event::TowerFanFailure(e) => (e.at_s, e.duration_s),
            Event::ChillerTrip(e) => (e.at_s, e.duration_s),
            Event::ImportLimitDrop(e) => (e.at_s, e.duration_s),
            Event::LoadChange(e) => (e.at_s, e.duration_s),
        }
    }

    /// End, s after the simulation start (infinite when it lasts to the end).
    pub fn end_s(&self) -> f64 {
        self.at_s() + self.duration_s().unwrap_or(f64::INFINITY)
    }

    /// Whether the event is in force at `t_s` after the start.
    pub fn active_at(&self, t_s: f64) -> bool {
        (self.at_s()..self.end_s()).contains(&t_s)
    }
}

impl Scenario {
    /// Reads and checks a scenario file.
    pub fn load(path: &Path) -> Result<Scenario> {
        let file = path.display().to_string();
        let text = crate::files::read_text(path)?;
        let mut scenario = Scenario::parse(&file, &text)?;
        scenario.dir = path.parent().map(Path::to_path_buf);
        Ok(scenario)
    }

    /// Parses and checks scenario TOML; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Scenario> {
        let de = toml::de::Deserializer::parse(text).map_err(|e| Error::toml(file, text, &e))?;
        let scenario: Scenario = serde_path_to_error::deserialize(de).map_err(|e| {
            Error::parse(
                file,
                format!("{}: {}", e.path(), crate::error::toml_reason(text, e.inner())),
            )
        })?;
        let mut p = Problems::new();
        scenario.validate(&mut p);
        p.into_result(file)?;
        Ok(scenario)
    }

    /// Checks what can be checked without the campus.
    pub fn validate(&self, p: &mut Problems) {
        if let Some(hours) = self.hours {
            p.positive("hours", hours);
        }
        if let Some(step_s) = self.step_s {
            p.positive("step_s", step_s);
        }
        if let Some(load) = &self.load {
            load.validate("load", p);
        }
        for (i, e) in self.events.iter().enumerate() {
            let at = format!("events[{i}]");
            p.non_negative(format!("{at}.at_s"), e.at_s());
            if let Some(d) = e.duration_s() {
                p.positive(format!("{at}.duration_s"), d);
            }
            match e {
                Event::CduPumpTrip(e) => {
                    p.check(e.cdu >= 1, format!("{at}.cdu"), "CDUs are numbered from 1");
                    p.within(format!("{at}.residual_flow_frac"), e.residual_flow_frac, 0.0, 1.0);
                }
                Event::TowerFanFailure(e) => {
                    p.check(e.cells >= 1, format!("{at}.cells"), "must be at least 1")
                }
                Event::ChillerTrip(e) => {
                    p.check(e.chillers >= 1, format!("{at}.chillers"), "must be at least 1")
                }
                Event::ImportLimitDrop(e) => p.positive(format!("{at}.import_limit_kw"), e.import_limit_kw),
                Event::LoadChange(e) => p.within(
                    format!("{at}.utilisation_factor"),
                    e.utilisation_factor,
                    0.0,
                    10.0,
                ),
            }
        }
    }

    /// A path named in the scenario, resolved against the scenario's folder.
    pub fn resolve(&self, name: &str) -> PathBuf {
        match &self.dir {
            Some(dir) if Path::new(name).is_relative() => dir.join(name),
            _ => PathBuf::from(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error a scenario file's text gets.
    fn refused(text: &str) -> String {
        Scenario::parse("s.toml", text).unwrap_err().to_string()
    }

    const EXAMPLE: &str = r#"
start = "2026-07-15T12:00:00Z"
hours = 2
load = { kind = "diurnal", min_utilisation = 0.6, max_utilisation = 0.95 }

[[events]]
kind = "cdu_pump_trip"
at_s = 600
hall = "hall-a"
cdu = 3

[[events]]
kind = "import_limit_drop"
at_s = 3600
duration_s = 1800
import_limit_kw = 90000
"#;

    #[test]
    fn parses_a_scenario() {
        let s = Scenario::parse("s.toml", EXAMPLE).unwrap();
        assert_eq!(s.hours, Some(2.0));
        assert_eq!(s.events.len(), 2);
        assert!(s.events[0].active_at(600.0) && s.events[0].active_at(1e9));
        assert!(!s.events[1].active_at(5400.0) && s.events[1].active_at(5399.0));
    }

    #[test]
    fn bad_events_name_their_path() {
        let text = EXAMPLE
            .replace("cdu = 3", "cdu = 0")
            .replace("duration_s = 1800", "duration_s = -5");
        let e = refused(&text);
        assert!(e.contains("events[0].cdu: CDUs are numbered from 1"), "{e}");
        assert!(
            e.contains("events[1].duration_s: must be a finite number > 0"),
            "{e}"
        );
        let e = refused(&EXAMPLE.replace("cdu_pump_trip", "meteor"));
        assert!(
            e.contains("events[0]") && e.contains("unknown variant `meteor`"),
            "{e}"
        );
        let e = refused(&EXAMPLE.replace("hours = 2", "hours = \"two\""));
        assert!(e.contains("hours"), "{e}");
    }

    #[test]
    fn an_error_inside_an_event_names_its_key_and_line() {
        let cases = [
            (
                "cdu = 3",
                "cdu = \"three\"",
                "events[0].cdu: line 10, column 7: invalid type: string \"three\"",
            ),
            (
                "cdu = 3",
                "cdu = 3\ncolour = 1",
                "events[0].colour: line 11, column 1: unknown field `colour`",
            ),
            (
                "at_s = 600",
                "at_s = \"x\"",
                "events[0].at_s: line 8, column 8: invalid type: string \"x\", expected f64",
            ),
            (
                "import_limit_kw = 90000",
                "",
                "events[1]: line 12, column 1: missing field `import_limit_kw`",
            ),
        ];
        for (from, to, want) in cases {
            let e = refused(&EXAMPLE.replace(from, to));
            assert!(e.contains(want), "{e}");
        }
    }

    #[test]
    fn an_event_reads_the_same_with_its_kind_anywhere() {
        let last = "[[events]]\nat_s = 60\nhall = \"hall-a\"\ncdu = 2\nkind = \"cdu_pump_trip\"\n";
        let first = "[[events]]\nkind = \"cdu_pump_trip\"\nat_s = 60\nhall = \"hall-a\"\ncdu = 2\n";
        assert_eq!(
            Scenario::parse("s.toml", last).unwrap(),
            Scenario::parse("s.toml", first).unwrap()
        );
        // With `kind` after the fields, a mistake still names its key (placed at the table).
        let e = refused(&last.replace("cdu = 2", "cdu = 2.5"));
        assert!(
            e.contains("events[0]") && e.contains("cdu: 2.5 is not a whole number"),
            "{e}"
        );
        let e = refused(&last.replace("at_s = 60\n", ""));
        assert!(e.contains("missing field `at_s`"), "{e}");
        let e = refused(&last.replace("kind = \"cdu_pump_trip\"\n", ""));
        assert!(e.contains("missing field `kind`"), "{e}");
        // JSON (the what-if API): the path reaches the key either way.
        for body in [
            r#"[{"kind": "chiller_trip", "at_s": 1, "chillers": "two"}]"#,
            r#"[{"at_s": 1, "chillers": "two", "kind": "chiller_trip"}]"#,
        ] {
            let de = &mut serde_json::Deserializer::from_str(body);
            let e = serde_path_to_error::deserialize::<_, Vec<Event>>(de).unwrap_err();
            let said = format!("{}: {}", e.path(), e.inner());
            assert!(
                said.contains("chillers") && said.contains("invalid type: string \"two\""),
                "{said}"
            );
        }
        // A null for an optional field and a NaN survive the buffering.
        let json = r#"{"at_s": 5, "duration_s": null, "utilisation_factor": 0.5, "kind": "load_change"}"#;
        let e: Event = serde_json::from_str(json).unwrap();
        assert_eq!((e.at_s(), e.duration_s()), (5.0, None));
        let nan = "[[events]]\nat_s = nan\nutilisation_factor = 0.5\nkind = \"load_change\"\n";
        let e = refused(nan);
        assert!(e.contains("events[0].at_s"), "{e}");
    }
}
