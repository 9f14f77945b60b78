//! The point map at run time: topic rules, name patterns and unit conversions compiled
//! from a validated [`PointMapSpec`].

use std::borrow::Cow;

use models::telemetry::{
    LimitsSpec, PayloadFormat, PointId, PointMapSpec, TimestampPrecision, Unit, placeholders,
};

use crate::decode::line_protocol::LineValue;
use crate::{Error, Reason, Result};

/// A value mapped onto a twin point, in the point's canonical unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    /// The twin point.
    pub point: PointId,
    /// The value in the canonical unit of the point's quantity.
    pub value: f64,
}

/// A value that could not be mapped: why, and the details.
pub type MapError = (Reason, String);

/// How a topic is read.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicFormat {
    /// Payload format.
    pub format: PayloadFormat,
    /// Line-protocol timestamp precision.
    pub precision: TimestampPrecision,
    /// Site for dead letters, when the rule fixes it.
    pub site: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Literal(String),
    Capture(String),
}

/// A pattern or template: literal text and `{name}` placeholders.
#[derive(Debug, Clone, PartialEq)]
struct Pieces(Vec<Piece>);

impl Pieces {
    fn compile(pattern: &str) -> Result<Self, String> {
        let names = placeholders(pattern)?;
        let mut pieces = Vec::new();
        let mut rest = pattern;
        for name in names {
            let marker = format!("{{{name}}}");
            // invariant: placeholders() found this marker in order.
            let at = rest.find(&marker).unwrap_or(rest.len());
            if at > 0 {
                pieces.push(Piece::Literal(rest[..at].to_owned()));
            }
            pieces.push(Piece::Capture(name.to_owned()));
            rest = rest.get(at + marker.len()..).unwrap_or("");
        }
        if !rest.is_empty() {
            pieces.push(Piece::Literal(rest.to_owned()));
        }
        Ok(Self(pieces))
    }

    /// Matches `s`; captures are one or more characters other than `/`, ending at the
    /// first occurrence of the literal that follows.
    fn captures<'s>(&self, s: &'s str) -> Option<Vec<(&str, &'s str)>> {
        let mut out = Vec::new();
        let mut rest = s;
        let mut pieces = self.0.iter().peekable();
        while let Some(piece) = pieces.next() {
            match piece {
                Piece::Literal(lit) => rest = rest.strip_prefix(lit.as_str())?,
                Piece::Capture(name) => {
                    let end = match pieces.peek() {
                        Some(Piece::Literal(next)) => rest.get(1..)?.find(next.as_str())? + 1,
                        _ => rest.len(),
                    };
                    let value = &rest[..end];
                    if value.is_empty() || value.contains('/') {
                        return None;
                    }
                    out.push((name.as_str(), value));
                    rest = &rest[end..];
                }
            }
        }
        rest.is_empty().then_some(out)
    }

    /// Fills the placeholders; values are lowercased, as point ids are.
    fn fill(&self, lookup: impl Fn(&str) -> Option<String>) -> Result<String, String> {
        let mut out = String::new();
        for piece in &self.0 {
            match piece {
                Piece::Literal(lit) => out.push_str(lit),
                Piece::Capture(name) => {
                    let value = lookup(name).ok_or_else(|| format!("no value for `{{{name}}}`"))?;
                    out.push_str(&value.to_lowercase());
                }
            }
        }
        Ok(out)
    }
}

#[derive(Debug, Clone)]
struct Conversion {
    unit: Option<Unit>,
    density_kg_per_m3: Option<f64>,
}

impl Conversion {
    /// Values come in the point's canonical unit.
    const NONE: Self = Self {
        unit: None,
        density_kg_per_m3: None,
    };
}

#[derive(Debug, Clone)]
struct NativeRule {
    source: Pieces,
    point: Pieces,
    conversion: Conversion,
}

#[derive(Debug, Clone)]
struct LineRule {
    measurement: String,
    field: String,
    tags: Vec<(String, String)>,
    point: Pieces,
    conversion: Conversion,
}

/// The compiled point map.
#[derive(Debug, Clone)]
pub struct PointMap {
    topics: Vec<(String, TopicFormat)>,
    native: Vec<NativeRule>,
    line: Vec<LineRule>,
    accept_native_points: bool,
    limits: LimitsSpec,
}

impl Default for PointMap {
    /// The built-in map of the native schema.
    fn default() -> Self {
        // invariant: the built-in spec is valid (tested).
        Self::new(&PointMapSpec::default()).unwrap_or_else(|_| Self {
            topics: Vec::new(),
            native: Vec::new(),
            line: Vec::new(),
            accept_native_points: true,
            limits: LimitsSpec::default(),
        })
    }
}

impl PointMap {
    /// Validates and compiles a point map.
    pub fn new(spec: &PointMapSpec) -> Result<Self> {
        spec.validate().into_result("point map")?;
        let compile = |pattern: &str| Pieces::compile(pattern).map_err(Error::Config);
        let mut native = Vec::new();
        let mut line = Vec::new();
        for rule in &spec.points {
            let conversion = Conversion {
                unit: rule.unit,
                density_kg_per_m3: rule.density_kg_per_m3,
            };
            let point = compile(&rule.point)?;
            match (&rule.source, &rule.measurement, &rule.field) {
                (Some(source), _, _) => native.push(NativeRule {
                    source: compile(source)?,
                    point,
                    conversion,
                }),
                (None, Some(m), Some(f)) => line.push(LineRule {
                    measurement: m.clone(),
                    field: f.clone(),
                    tags: rule.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                    point,
                    conversion,
                }),
                // invariant: validate() refused rules with neither.
                _ => {
                    return Err(Error::Config("a point rule has neither source nor field".into()));
                }
            }
        }
        let topics = if spec.topics.is_empty() {
            PointMapSpec::default().topics
        } else {
            spec.topics.clone()
        };
        Ok(Self {
            topics: topics
                .into_iter()
                .map(|t| {
                    (
                        t.filter,
                        TopicFormat {
                            format: t.format,
                            precision: t.precision,
                            site: t.site,
                        },
                    )
                })
                .collect(),
            native,
            line,
            accept_native_points: spec.accept_native_points,
            limits: spec.limits.clone(),
        })
    }

    /// Reads, validates and compiles a point map file.
    pub fn from_file(path: &std::path::Path) -> Result<Self> {
        let text = models::files::read_text(path)?;
        let spec = PointMapSpec::from_toml_str(&text, &path.display().to_string())?;
        Self::new(&spec)
    }

    /// The validation limits.
    pub fn limits(&self) -> &LimitsSpec {
        &self.limits
    }

    /// The topic filters of the topic rules (what to subscribe to by default).
    pub fn filters(&self) -> Vec<String> {
        self.topics.iter().map(|(f, _)| f.clone()).collect()
    }

    /// How `topic` is read: the first topic rule that matches, else native JSON.
    pub fn topic_format(&self, topic: &str) -> TopicFormat {
        self.topics
            .iter()
            .find(|(filter, _)| topic_matches(filter, topic))
            .map(|(_, f)| f.clone())
            .unwrap_or(TopicFormat {
                format: PayloadFormat::Native,
                precision: TimestampPrecision::Ns,
                site: None,
            })
    }

    /// Maps a native value named `source`, sent in `unit` (if the payload says).
    pub fn map_native(&self, source: &str, value: f64, unit: Option<&str>) -> Result<Mapped, MapError> {
        let resolved = self.resolve_native(source)?;
        resolved.convert(value, unit)
    }

    /// The twin point that the native name `source` maps onto, and how its values
    /// convert: what [`PointMap::map_native`] does before it looks at the value. It
    /// depends on the name alone, so a caller may keep the result for the next value of
    /// the same name (the pipeline does).
    pub fn resolve_native(&self, source: &str) -> Result<Resolved, MapError> {
        for rule in &self.native {
            if let Some(caps) = rule.source.captures(source) {
                let id = rule
                    .point
                    .fill(|name| {
                        caps.iter()
                            .find(|(n, _)| *n == name)
                            .map(|(_, v)| (*v).to_owned())
                    })
                    .map_err(|e| (Reason::UnknownPoint, e))?;
                return Resolved::new(&id, rule.conversion.clone());
            }
        }
        if self.accept_native_points {
            return Resolved::new(source, Conversion::NONE);
        }
        Err((Reason::UnknownPoint, format!("no point rule maps `{source}`")))
    }

    /// Maps one line-protocol field.
    pub fn map_line(&self, v: &LineValue<'_>) -> Result<Mapped, MapError> {
        let tag = |name: &str| {
            v.tags
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, val)| val.as_ref())
        };
        for rule in &self.line {
            if rule.measurement != v.measurement
                || rule.field != v.field
                || !rule.tags.iter().all(|(k, want)| tag(k) == Some(want.as_str()))
            {
                continue;
            }
            let id = rule
                .point
                .fill(|name| tag(name).map(str::to_owned))
                .map_err(|e| (Reason::UnknownPoint, format!("{}: {e}", describe(v))))?;
            let value = line_number(v)?;
            return finish(&id, value, None, &rule.conversion);
        }
        if self.accept_native_points {
            let id: Cow<'_, str> = Cow::Owned(format!("{}/{}", v.measurement, v.field));
            if PointId::parse(&id).is_ok() {
                let value = line_number(v)?;
                return finish(
                    &id,
                    value,
                    None,
                    &Conversion {
                        unit: None,
                        density_kg_per_m3: None,
                    },
                );
            }
        }
        Err((
            Reason::UnknownPoint,
            format!("no point rule maps {}", describe(v)),
        ))
    }
}

fn describe(v: &LineValue<'_>) -> String {
    format!("measurement `{}` field `{}`", v.measurement, v.field)
}

fn line_number(v: &LineValue<'_>) -> Result<f64, MapError> {
    v.value.clone().map_err(|s| {
        (
            Reason::Malformed,
            format!("{} is the string \"{s}\", not a number", describe(v)),
        )
    })
}

fn finish(id: &str, value: f64, unit: Option<&str>, conversion: &Conversion) -> Result<Mapped, MapError> {
    Resolved::new(id, conversion.clone())?.convert(value, unit)
}

/// A name resolved to its twin point, with the conversion of the rule that named it.
#[derive(Debug, Clone)]
pub struct Resolved {
    point: PointId,
    conversion: Conversion,
}

impl Resolved {
    fn new(id: &str, conversion: Conversion) -> Result<Self, MapError> {
        let point = PointId::parse(id).map_err(|e| (Reason::UnknownPoint, e.to_string()))?;
        Ok(Self { point, conversion })
    }

    /// `value`, sent in `unit` (else in the rule's unit, else in the point's canonical
    /// unit), mapped onto the point in its canonical unit.
    pub fn convert(&self, value: f64, unit: Option<&str>) -> Result<Mapped, MapError> {
        let point = &self.point;
        let canonical = point.quantity().canonical_unit();
        let from = match unit {
            Some(text) => text.parse::<Unit>().map_err(|e| (Reason::UnitMismatch, e))?,
            None => self.conversion.unit.unwrap_or(canonical),
        };
        let value = if from == canonical {
            value
        } else {
            from.convert(value, canonical, self.conversion.density_kg_per_m3)
                .map_err(|e| (Reason::UnitMismatch, format!("{point}: {e}")))?
        };
        Ok(Mapped {
            point: point.clone(),
            value,
        })
    }
}

/// Whether an MQTT topic matches a filter (`+` one level, `#` the rest).
pub fn topic_matches(filter: &str, topic: &str) -> bool {
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return !topic.starts_with('$') || !filter.starts_with('#'),
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::decode::line_protocol;

    fn map(toml: &str) -> PointMap {
        PointMap::new(&PointMapSpec::from_toml_str(toml, "map.toml").unwrap()).unwrap()
    }

    const GATEWAY: &str = r#"
accept_native_points = false

[[topic]]
filter = "telegraf/#"
format = "line_protocol"
precision = "ms"

[[point]]
source = "Hall{hall}/R{rack}/kW"
point = "hall-{hall}/rack-{rack}/power_kw"

[[point]]
source = "Plant/FWS"
point = "plant/fw_supply_temp_c"
unit = "degF"

[[point]]
measurement = "cdu"
field = "flow_gpm"
point = "hall-{hall}/cdu-{unit}/tcs_flow_kg_per_s"
unit = "gpm"
density_kg_per_m3 = 1000.0

[[point]]
measurement = "cdu"
field = "p_psi"
tags = { kind = "supply" }
point = "hall-{hall}/cdu-{unit}/tcs_supply_kpa"
unit = "psi"
"#;

    #[test]
    fn native_names_are_renamed_and_converted() {
        let m = map(GATEWAY);
        let got = m.map_native("HallA/R0007/kW", 12.5, None).unwrap();
        assert_eq!(
            (got.point.as_str(), got.value),
            ("hall-a/rack-0007/power_kw", 12.5)
        );
        let got = m.map_native("Plant/FWS", 86.0, None).unwrap();
        assert_eq!(got.point.as_str(), "plant/fw_supply_temp_c");
        assert!((got.value - 30.0).abs() < 1e-9);
        // A payload unit overrides the rule's.
        let got = m.map_native("HallA/R0007/kW", 0.5, Some("MW")).unwrap();
        assert_eq!(got.value, 500.0);
        let err = m.map_native("HallA/R0007/kW", 1.0, Some("degC")).unwrap_err();
        assert_eq!(err.0, Reason::UnitMismatch, "{}", err.1);
        let err = m.map_native("HallA/R0007/kW", 1.0, Some("parsec")).unwrap_err();
        assert_eq!(err.0, Reason::UnitMismatch);
        // Native points are not accepted by this map.
        let err = m.map_native("grid/import_kw", 1.0, None).unwrap_err();
        assert_eq!(err.0, Reason::UnknownPoint);
        assert!(err.1.contains("grid/import_kw"));
    }

    #[test]
    fn the_built_in_map_accepts_points_of_the_grammar_only() {
        let m = PointMap::default();
        assert_eq!(m.map_native("grid/import_kw", 3.0, None).unwrap().value, 3.0);
        let err = m.map_native("grid/import", 3.0, None).unwrap_err();
        assert_eq!(err.0, Reason::UnknownPoint);
        assert!(err.1.contains("unit suffix"), "{}", err.1);
        assert_eq!(
            m.map_native("weather/dry_bulb_temp_c", 50.0, Some("degF"))
                .unwrap()
                .value,
            10.0
        );
        assert_eq!(m.filters(), ["campustwin/#"]);
        assert_eq!(m.topic_format("campustwin/s/x_kw").format, PayloadFormat::Native);
    }

    #[test]
    fn line_protocol_fields_map_through_tags() {
        let m = map(GATEWAY);
        assert_eq!(
            m.topic_format("telegraf/gw1/cdu").format,
            PayloadFormat::LineProtocol
        );
        let (values, errors) = line_protocol::decode(
            "cdu,hall=B,unit=03,kind=supply flow_gpm=100,p_psi=10,mode=\"x\",other=1 1000",
            TimestampPrecision::Ms,
        );
        assert!(errors.is_empty());
        let flow = m.map_line(&values[0]).unwrap();
        assert_eq!(flow.point.as_str(), "hall-b/cdu-03/tcs_flow_kg_per_s");
        assert!((flow.value - 100.0 * 3.785_411_784 / 60.0).abs() < 1e-9);
        let p = m.map_line(&values[1]).unwrap();
        assert!((p.value - 68.947_572_931_68).abs() < 1e-9);
        assert_eq!(m.map_line(&values[2]).unwrap_err().0, Reason::UnknownPoint);
        assert_eq!(m.map_line(&values[3]).unwrap_err().0, Reason::UnknownPoint);
        // The tag condition must hold.
        let (values, _) =
            line_protocol::decode("cdu,hall=b,unit=1,kind=return p_psi=10 1", TimestampPrecision::Ms);
        assert_eq!(m.map_line(&values[0]).unwrap_err().0, Reason::UnknownPoint);
        // A tag that the template needs is missing.
        let (values, _) = line_protocol::decode("cdu,hall=b flow_gpm=1 1", TimestampPrecision::Ms);
        let err = m.map_line(&values[0]).unwrap_err();
        assert!(err.1.contains("no value for `{unit}`"), "{}", err.1);
    }

    #[test]
    fn line_protocol_without_rules_maps_measurement_and_field() {
        let m = PointMap::default();
        let (values, _) = line_protocol::decode(
            "hall-a/rack-0001 power_kw=7.5,state=\"ok\" 1",
            TimestampPrecision::Ms,
        );
        let got = m.map_line(&values[0]).unwrap();
        assert_eq!(
            (got.point.as_str(), got.value),
            ("hall-a/rack-0001/power_kw", 7.5)
        );
        assert_eq!(m.map_line(&values[1]).unwrap_err().0, Reason::UnknownPoint);
        let (values, _) = line_protocol::decode("grid import_kw=\"high\" 1", TimestampPrecision::Ms);
        assert_eq!(m.map_line(&values[0]).unwrap_err().0, Reason::Malformed);
    }

    #[test]
    fn patterns_capture_whole_pieces_without_slashes() {
        let p = Pieces::compile("Hall{hall}/R{rack}/kW").unwrap();
        assert_eq!(
            p.captures("HallA/R7/kW").unwrap(),
            vec![("hall", "A"), ("rack", "7")]
        );
        assert!(p.captures("HallA/B/R7/kW").is_none());
        assert!(p.captures("Hall/R7/kW").is_none());
        assert!(p.captures("HallA/R7/kWh").is_none());
        let p = Pieces::compile("{site}.{tag}").unwrap();
        assert_eq!(p.captures("a.b.c").unwrap(), vec![("site", "a"), ("tag", "b.c")]);
    }

    #[test]
    fn topic_filters_match_like_mqtt() {
        assert!(topic_matches("campustwin/#", "campustwin/s/a/b_kw"));
        assert!(topic_matches("campustwin/+/batch", "campustwin/s/batch"));
        assert!(!topic_matches("campustwin/+/batch", "campustwin/s/t/batch"));
        assert!(topic_matches("a/b", "a/b"));
        assert!(!topic_matches("a/b", "a/b/c"));
        assert!(topic_matches("a/#", "a"));
        assert!(!topic_matches("#", "$SYS/x"));
    }
}
