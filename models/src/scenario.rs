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

use chrono::{DateTime, Utc};
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
/// starts and lasts `duration_s` (for the rest of the run when absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// A CDU's secondary pump stops: its racks lose flow.
    CduPumpTrip {
        /// Start, s after the simulation start.
        #[cfg_attr(feature = "openapi", schema(minimum = 0.0))]
        at_s: f64,
        /// Length, s; until the end when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0.0))]
        duration_s: Option<f64>,
        /// Hall name.
        hall: String,
        /// CDU number in the hall, from 1.
        #[cfg_attr(feature = "openapi", schema(minimum = 1))]
        #[serde(deserialize_with = "crate::units::whole_u32")]
        cdu: u32,
        /// Flow left (a second pump, thermosiphon) as a fraction of the loop's flow. Default 0.
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 1.0))]
        residual_flow_frac: f64,
    },
    /// Tower fans stop: those cells run on natural draft.
    TowerFanFailure {
        /// Start, s after the simulation start.
        #[cfg_attr(feature = "openapi", schema(minimum = 0.0))]
        at_s: f64,
        /// Length, s; until the end when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0.0))]
        duration_s: Option<f64>,
        /// How many cells lose their fan.
        #[cfg_attr(feature = "openapi", schema(minimum = 1))]
        #[serde(deserialize_with = "crate::units::whole_u32")]
        cells: u32,
    },
    /// Trim chillers trip and stay off.
    ChillerTrip {
        /// Start, s after the simulation start.
        #[cfg_attr(feature = "openapi", schema(minimum = 0.0))]
        at_s: f64,
        /// Length, s; until the end when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0.0))]
        duration_s: Option<f64>,
        /// How many chillers trip.
        #[cfg_attr(feature = "openapi", schema(minimum = 1))]
        #[serde(deserialize_with = "crate::units::whole_u32")]
        chillers: u32,
    },
    /// The utility asks for less: the import limit drops (a demand-response call, a
    /// contingency on the interconnect).
    ImportLimitDrop {
        /// Start, s after the simulation start.
        #[cfg_attr(feature = "openapi", schema(minimum = 0.0))]
        at_s: f64,
        /// Length, s; until the end when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0.0))]
        duration_s: Option<f64>,
        /// The limit while the event lasts, kW.
        #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0.0))]
        import_limit_kw: f64,
    },
    /// The IT load changes: every hall's GPU utilisation is multiplied by
    /// `utilisation_factor` (held within 0 to 1): a training run starting or ending, a
    /// checkpoint, a job mix shifting.
    LoadChange {
        /// Start, s after the simulation start.
        #[cfg_attr(feature = "openapi", schema(minimum = 0.0))]
        at_s: f64,
        /// Length, s; until the end when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(exclusive_minimum = 0.0))]
        duration_s: Option<f64>,
        /// Factor on the utilisation while the event lasts (0.5 halves it).
        #[cfg_attr(feature = "openapi", schema(minimum = 0.0, maximum = 10.0))]
        utilisation_factor: f64,
    },
}

impl Event {
    /// Start, s after the simulation start.
    pub fn at_s(&self) -> f64 {
        match self {
            Event::CduPumpTrip { at_s, .. }
            | Event::TowerFanFailure { at_s, .. }
            | Event::ChillerTrip { at_s, .. }
            | Event::ImportLimitDrop { at_s, .. }
            | Event::LoadChange { at_s, .. } => *at_s,
        }
    }

    /// Length, s; `None` when it lasts to the end.
    pub fn duration_s(&self) -> Option<f64> {
        match self {
            Event::CduPumpTrip { duration_s, .. }
            | Event::TowerFanFailure { duration_s, .. }
            | Event::ChillerTrip { duration_s, .. }
            | Event::ImportLimitDrop { duration_s, .. }
            | Event::LoadChange { duration_s, .. } => *duration_s,
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
                Event::CduPumpTrip {
                    cdu,
                    residual_flow_frac,
                    ..
                } => {
                    p.check(*cdu >= 1, format!("{at}.cdu"), "CDUs are numbered from 1");
                    p.within(format!("{at}.residual_flow_frac"), *residual_flow_frac, 0.0, 1.0);
                }
                Event::TowerFanFailure { cells, .. } => {
                    p.check(*cells >= 1, format!("{at}.cells"), "must be at least 1")
                }
                Event::ChillerTrip { chillers, .. } => {
                    p.check(*chillers >= 1, format!("{at}.chillers"), "must be at least 1")
                }
                Event::ImportLimitDrop { import_limit_kw, .. } => {
                    p.positive(format!("{at}.import_limit_kw"), *import_limit_kw)
                }
                Event::LoadChange {
                    utilisation_factor, ..
                } => p.within(format!("{at}.utilisation_factor"), *utilisation_factor, 0.0, 10.0),
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
        let e = Scenario::parse("s.toml", &text).unwrap_err().to_string();
        assert!(e.contains("events[0].cdu: CDUs are numbered from 1"), "{e}");
        assert!(
            e.contains("events[1].duration_s: must be a finite number > 0"),
            "{e}"
        );
        let e = Scenario::parse("s.toml", &EXAMPLE.replace("cdu_pump_trip", "meteor"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("events[0]") && e.contains("unknown variant `meteor`"),
            "{e}"
        );
        let e = Scenario::parse("s.toml", &EXAMPLE.replace("hours = 2", "hours = \"two\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("hours"), "{e}");
    }
}
