//! The point map (TOML): which topics carry which payload format, and how a gateway's
//! names, tags and units map onto twin points.
//!
//! ```toml
//! # Telegraf publishes line protocol here; the site for dead letters is "dfw1".
//! [[topic]]
//! filter = "telegraf/#"
//! format = "line_protocol"
//! site = "dfw1"
//!
//! # cdu,hall=a,unit=03 supply_temp_f=77.2 1700000000000000000
//! [[point]]
//! measurement = "cdu"
//! field = "supply_temp_f"
//! point = "hall-{hall}/cdu-{unit}/tcs_supply_temp_c"
//! unit = "degF"
//!
//! # A native gateway that calls racks its own way: topic campustwin/dfw1/HallA/R7/kW
//! [[point]]
//! source = "Hall{hall}/R{rack}/kW"
//! point = "hall-{hall}/rack-{rack}/power_kw"
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{PointId, Quantity, Unit};
use crate::{Error, Problems, Result};

/// A point map: topic rules, point rules and validation limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointMapSpec {
    /// Topic rules, first match wins. A topic that no rule matches is read as native JSON.
    /// Without `--topic` flags, ingest subscribes to these filters; an empty list means the
    /// native `campustwin/#`.
    #[serde(default, rename = "topic")]
    pub topics: Vec<TopicRule>,
    /// Accept any point id that follows the grammar, beside the point rules (native
    /// payloads: the name as sent; line protocol: `measurement/field`). Default `true`, so
    /// that the native schema needs no map; `false` restricts ingest to the listed rules.
    #[serde(default = "default_true")]
    pub accept_native_points: bool,
    /// Point rules, first match wins.
    #[serde(default, rename = "point")]
    pub points: Vec<PointRule>,
    /// Validation limits.
    #[serde(default)]
    pub limits: LimitsSpec,
}

fn default_true() -> bool {
    true
}

/// Which payload format a set of topics carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicRule {
    /// MQTT topic filter (`+` one level, `#` the rest) this rule applies to.
    pub filter: String,
    /// Payload format on these topics.
    pub format: PayloadFormat,
    /// Timestamp unit of line protocol on these topics. Default `ns`, what Telegraf and
    /// InfluxDB write by default.
    #[serde(default)]
    pub precision: TimestampPrecision,
    /// Site for the dead-letter topic (`campustwin/<site>/deadletter`). Default: the second
    /// level of the topic, as in `campustwin/<site>/…`.
    #[serde(default)]
    pub site: Option<String>,
}

/// A payload format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadFormat {
    /// The native JSON reading (`ROOT/SITE/POINT`) or batch (`ROOT/SITE/batch`).
    Native,
    /// InfluxDB line protocol, one or more lines per message.
    LineProtocol,
}

/// Unit of line-protocol timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimestampPrecision {
    /// Nanoseconds (the line-protocol default).
    #[default]
    Ns,
    /// Microseconds.
    Us,
    /// Milliseconds.
    Ms,
    /// Seconds.
    S,
}

impl TimestampPrecision {
    /// `(multiplier, divisor)` that turn a timestamp in this unit into milliseconds.
    pub fn to_ms_factors(self) -> (i64, i64) {
        match self {
            TimestampPrecision::Ns => (1, 1_000_000),
            TimestampPrecision::Us => (1, 1_000),
            TimestampPrecision::Ms => (1, 1),
            TimestampPrecision::S => (1_000, 1),
        }
    }
}

/// How one kind of gateway value maps onto twin points.
///
/// A native rule has `source`; a line-protocol rule has `measurement` and `field` (and
/// optionally `tags` that must match). `{name}` in `point` is replaced by the capture of
/// the same name in `source`, or by the tag of that name in line protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointRule {
    /// Native payloads: pattern of the gateway's point name (the topic after `ROOT/SITE/`,
    /// or a batch item's `point`); `{name}` captures one or more characters other than `/`.
    #[serde(default)]
    pub source: Option<String>,
    /// Line protocol: the measurement this rule matches.
    #[serde(default)]
    pub measurement: Option<String>,
    /// Line protocol: the field key this rule matches.
    #[serde(default)]
    pub field: Option<String>,
    /// Line protocol: tags that must be present with these values.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Twin point id, with `{name}` placeholders; must follow the point-id grammar once
    /// they are filled.
    pub point: String,
    /// Unit the gateway sends. Default: the canonical unit of the point's quantity.
    #[serde(default)]
    pub unit: Option<Unit>,
    /// Density for converting volume flow into mass flow or back, kg/m³ (water ≈ 998,
    /// PG25 ≈ 1021.5). Required for such a conversion, never assumed.
    #[serde(default)]
    pub density_kg_per_m3: Option<f64>,
}

/// Validation limits of ingest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// Largest accepted timestamp ahead of the ingest clock, s. Default 300: gateway clocks
    /// drift by seconds, not minutes; further ahead is a wrong clock or a wrong unit.
    #[serde(default = "default_max_future_s")]
    pub max_future_s: f64,
    /// Oldest accepted timestamp behind the ingest clock, s. Default 604,800 (7 days): a
    /// gateway that buffered through a week-long outage still delivers; older is a wrong
    /// unit or a dead clock.
    #[serde(default = "default_max_age_s")]
    pub max_age_s: f64,
    /// Largest accepted payload, bytes. Default 1,048,576 (1 MiB): a batch of ~15,000
    /// readings; larger payloads are refused whole.
    #[serde(default = "default_max_payload_bytes")]
    pub max_payload_bytes: usize,
}

fn default_max_future_s() -> f64 {
    300.0
}
fn default_max_age_s() -> f64 {
    604_800.0
}
fn default_max_payload_bytes() -> usize {
    1_048_576
}

impl Default for LimitsSpec {
    fn default() -> Self {
        Self {
            max_future_s: default_max_future_s(),
            max_age_s: default_max_age_s(),
            max_payload_bytes: default_max_payload_bytes(),
        }
    }
}

impl Default for PointMapSpec {
    /// The built-in map for the native schema: native JSON on `campustwin/#`, any point id
    /// that follows the grammar, default limits.
    fn default() -> Self {
        Self {
            topics: vec![TopicRule {
                filter: "campustwin/#".into(),
                format: PayloadFormat::Native,
                precision: TimestampPrecision::Ns,
                site: None,
            }],
            accept_native_points: true,
            points: Vec::new(),
            limits: LimitsSpec::default(),
        }
    }
}

/// The `{name}` placeholders of a pattern, in order, or why the pattern is malformed.
pub fn placeholders(pattern: &str) -> Result<Vec<&str>, String> {
    let mut names = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err("has `}` without `{`".into());
        }
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err("has `{` without `}`".into());
        };
        let name = &after[..close];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "placeholder `{{{name}}}` must be a name of letters, digits, _"
            ));
        }
        if after[close + 1..].starts_with('{') {
            return Err(format!(
                "placeholder `{{{name}}}` is followed directly by another; put text between them"
            ));
        }
        names.push(name);
        rest = &after[close + 1..];
    }
    Ok(names)
}

/// Why an MQTT topic filter is malformed, if it is.
pub fn topic_filter_problem(filter: &str) -> Option<String> {
    if filter.is_empty() {
        return Some("must not be empty".into());
    }
    let levels: Vec<&str> = filter.split('/').collect();
    for (i, level) in levels.iter().enumerate() {
        if level.contains('#') && (*level != "#" || i + 1 != levels.len()) {
            return Some("`#` must be a whole level and the last".into());
        }
        if level.contains('+') && *level != "+" {
            return Some("`+` must be a whole level".into());
        }
    }
    None
}

impl PointMapSpec {
    /// Reads a point map from TOML text; `file` names it in errors. Every problem is
    /// reported with its path.
    pub fn from_toml_str(text: &str, file: &str) -> Result<Self> {
        let de = toml::Deserializer::parse(text).map_err(|e| Error::toml(file, text, &e))?;
        let spec: PointMapSpec = serde_path_to_error::deserialize(de).map_err(|e| {
            Error::parse(
                file,
                format!("{}: {}", e.path(), crate::error::toml_reason(text, e.inner())),
            )
        })?;
        spec.validate().into_result(file)?;
        Ok(spec)
    }

    /// Checks every rule; returns every problem with its path.
    pub fn validate(&self) -> Problems {
        let mut p = Problems::new();
        for (i, rule) in self.topics.iter().enumerate() {
            if let Some(why) = topic_filter_problem(&rule.filter) {
                p.push(format!("topic[{i}].filter"), why);
            }
            if let Some(site) = &rule.site {
                p.check(
                    !site.is_empty() && !site.contains(['/', '+', '#']),
                    format!("topic[{i}].site"),
                    "must be one non-empty topic level without / + #",
                );
            }
        }
        for (i, rule) in self.points.iter().enumerate() {
            rule.validate(&format!("point[{i}]"), &mut p);
        }
        let l = &self.limits;
        p.positive("limits.max_future_s", l.max_future_s);
        p.positive("limits.max_age_s", l.max_age_s);
        p.check(l.max_payload_bytes > 0, "limits.max_payload_bytes", "must be > 0");
        p
    }
}

impl PointRule {
    fn validate(&self, path: &str, p: &mut Problems) {
        let native = self.source.is_some();
        let line = self.measurement.is_some() || self.field.is_some();
        if native == line {
            p.push(
                path,
                "needs either `source` (native) or `measurement` and `field` (line protocol)",
            );
        }
        if line && (self.measurement.is_none() || self.field.is_none()) {
            p.push(path, "a line-protocol rule needs both `measurement` and `field`");
        }
        if native && !self.tags.is_empty() {
            p.push(format!("{path}.tags"), "only line-protocol rules match tags");
        }
        let captures = match &self.source {
            Some(source) => match placeholders(source) {
                Ok(names) if source.is_empty() => {
                    p.push(format!("{path}.source"), "must not be empty");
                    names
                }
                Ok(names) => names,
                Err(why) => {
                    p.push(format!("{path}.source"), why);
                    Vec::new()
                }
            },
            None => Vec::new(),
        };
        let quantity = match placeholders(&self.point) {
            Err(why) => {
                p.push(format!("{path}.point"), why);
                None
            }
            Ok(names) => {
                if native {
                    for name in &names {
                        if !captures.contains(name) {
                            p.push(
                                format!("{path}.point"),
                                format!("`{{{name}}}` is not captured by `source`"),
                            );
                        }
                    }
                }
                // Fill each placeholder with a sample so that the grammar can be checked.
                let mut sample = self.point.clone();
                for name in names {
                    sample = sample.replace(&format!("{{{name}}}"), "x0");
                }
                match PointId::parse(&sample) {
                    Ok(id) => Some(id.quantity()),
                    Err(e) => {
                        p.push(format!("{path}.point"), e.reason);
                        None
                    }
                }
            }
        };
        if let Some(d) = self.density_kg_per_m3 {
            p.positive(format!("{path}.density_kg_per_m3"), d);
        }
        if let (Some(unit), Some(q)) = (self.unit, quantity) {
            if let Err(e) = unit.check_convertible(q.canonical_unit(), self.density_kg_per_m3) {
                p.push(format!("{path}.unit"), format!("{e} (the point is a {q})"));
            }
        }
    }

    /// The quantity of the rule's point (from its literal suffix), if the rule is valid.
    pub fn quantity(&self) -> Option<Quantity> {
        let last = self.point.rsplit('/').next()?;
        Quantity::from_segment(last)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[[topic]]
filter = "telegraf/#"
format = "line_protocol"
site = "dfw1"

[[point]]
measurement = "cdu"
field = "supply_temp_f"
point = "hall-{hall}/cdu-{unit}/tcs_supply_temp_c"
unit = "degF"

[[point]]
source = "Hall{hall}/R{rack}/kW"
point = "hall-{hall}/rack-{rack}/power_kw"

[[point]]
measurement = "cdu"
field = "flow_gpm"
point = "hall-{hall}/cdu-{unit}/tcs_flow_kg_per_s"
unit = "gpm"
density_kg_per_m3 = 1021.5

[limits]
max_future_s = 60
"#;

    #[test]
    fn the_documented_example_reads_and_validates() {
        let spec = PointMapSpec::from_toml_str(EXAMPLE, "map.toml").unwrap();
        assert_eq!(spec.topics.len(), 1);
        assert_eq!(spec.topics[0].format, PayloadFormat::LineProtocol);
        assert_eq!(spec.points.len(), 3);
        assert_eq!(spec.points[0].unit, Some(Unit::DegF));
        assert_eq!(spec.points[0].quantity(), Some(Quantity::Temperature));
        assert!(spec.accept_native_points);
        assert_eq!(spec.limits.max_future_s, 60.0);
        assert_eq!(spec.limits.max_age_s, 604_800.0);
    }

    #[test]
    fn the_built_in_map_is_valid_and_native() {
        let spec = PointMapSpec::default();
        assert!(spec.validate().is_empty());
        assert_eq!(spec.topics[0].filter, "campustwin/#");
    }

    #[test]
    fn unknown_fields_are_refused_with_their_path() {
        let err = PointMapSpec::from_toml_str(
            "[[point]]\nsource = \"a\"\npoint = \"a/power_kw\"\nunits = \"kW\"\n",
            "map.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("map.toml") && err.contains("point[0]"), "{err}");
        assert!(err.contains("unknown field `units`"), "{err}");
    }

    #[test]
    fn every_broken_rule_is_reported_with_its_path() {
        let text = r#"
[[topic]]
filter = "a/#/b"
format = "native"

[[point]]
source = "Hall{hall}/kW"
point = "hall-{hall}/rack-{rack}/power_kw"

[[point]]
measurement = "cdu"
point = "cdu/supply_temp_c"

[[point]]
source = "x"
point = "plant/supply_temp_c"
unit = "psi"

[[point]]
source = "y"
point = "plant/flow_kg_per_s"
unit = "gpm"

[[point]]
source = "z"
point = "plant/Flow"

[limits]
max_age_s = 0
"#;
        let err = PointMapSpec::from_toml_str(text, "map.toml")
            .unwrap_err()
            .to_string();
        for want in [
            "topic[0].filter: `#` must be a whole level and the last",
            "point[0].point: `{rack}` is not captured by `source`",
            "point[1]: a line-protocol rule needs both `measurement` and `field`",
            "point[2].unit: cannot convert psi into degC: different dimensions (the point is a temperature)",
            "point[3].unit: converting gpm into kg/s needs a density",
            "point[4].point: segment 2 `Flow` must start with a lowercase letter",
            "limits.max_age_s: must be a finite number > 0",
        ] {
            assert!(err.contains(want), "missing `{want}` in:\n{err}");
        }
    }

    #[test]
    fn placeholders_are_parsed_and_malformed_ones_refused() {
        assert_eq!(
            placeholders("Hall{hall}/R{rack}/kW").unwrap(),
            vec!["hall", "rack"]
        );
        assert!(placeholders("a{b").is_err());
        assert!(placeholders("a}b").is_err());
        assert!(placeholders("a{}b").is_err());
        assert!(placeholders("{a}{b}").is_err());
    }

    #[test]
    fn topic_filters_are_checked() {
        assert_eq!(topic_filter_problem("campustwin/+/batch"), None);
        assert_eq!(topic_filter_problem("#"), None);
        assert!(topic_filter_problem("a/b#").is_some());
        assert!(topic_filter_problem("a/+b").is_some());
        assert!(topic_filter_problem("").is_some());
    }
}
