//! The equipment catalog: data files of GPUs, racks, CDUs, towers, chillers and the rest.
//!
//! Each file in `models/catalog/` is a TOML table of models keyed by id, with the same
//! fields as the matching spec struct plus a `description` and a `source`. A campus
//! names a model where it needs equipment, either by id alone (`rack = "gb200-nvl72"`)
//! or with overrides (`rack = { model = "gb200-nvl72", liquid_fraction = 0.9 }`), or
//! writes the whole table inline without `model`. [`resolve_references`] turns every such
//! slot into the full table before the campus is deserialised, so the rest of the code
//! only ever sees complete equipment.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use crate::error::{Error, Problems, Result};

/// A kind of equipment, one catalog file each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// GPUs (`gpus.toml`).
    Gpu,
    /// Racks (`racks.toml`).
    Rack,
    /// Coolant distribution units (`cdus.toml`).
    Cdu,
    /// Cooling-tower cells (`cooling_towers.toml`).
    CoolingTower,
    /// Dry coolers (`dry_coolers.toml`).
    DryCooler,
    /// Chillers (`chillers.toml`).
    Chiller,
    /// UPS units (`ups.toml`).
    Ups,
    /// Transformers (`transformers.toml`).
    Transformer,
    /// Batteries (`batteries.toml`).
    Battery,
    /// Gas turbines and engines (`engines.toml`).
    Engine,
}

impl Kind {
    /// Every kind, in catalog order.
    pub const ALL: [Kind; 10] = [
        Kind::Gpu,
        Kind::Rack,
        Kind::Cdu,
        Kind::CoolingTower,
        Kind::DryCooler,
        Kind::Chiller,
        Kind::Ups,
        Kind::Transformer,
        Kind::Battery,
        Kind::Engine,
    ];

    /// Name of the catalog file.
    pub fn file_name(self) -> &'static str {
        match self {
            Kind::Gpu => "gpus.toml",
            Kind::Rack => "racks.toml",
            Kind::Cdu => "cdus.toml",
            Kind::CoolingTower => "cooling_towers.toml",
            Kind::DryCooler => "dry_coolers.toml",
            Kind::Chiller => "chillers.toml",
            Kind::Ups => "ups.toml",
            Kind::Transformer => "transformers.toml",
            Kind::Battery => "batteries.toml",
            Kind::Engine => "engines.toml",
        }
    }

    /// The built-in catalog file's text, embedded in the binary.
    fn builtin_text(self) -> &'static str {
        match self {
            Kind::Gpu => include_str!("../../catalog/gpus.toml"),
            Kind::Rack => include_str!("../../catalog/racks.toml"),
            Kind::Cdu => include_str!("../../catalog/cdus.toml"),
            Kind::CoolingTower => include_str!("../../catalog/cooling_towers.toml"),
            Kind::DryCooler => include_str!("../../catalog/dry_coolers.toml"),
            Kind::Chiller => include_str!("../../catalog/chillers.toml"),
            Kind::Ups => include_str!("../../catalog/ups.toml"),
            Kind::Transformer => include_str!("../../catalog/transformers.toml"),
            Kind::Battery => include_str!("../../catalog/batteries.toml"),
            Kind::Engine => include_str!("../../catalog/engines.toml"),
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Kind::Gpu => "GPU",
            Kind::Rack => "rack",
            Kind::Cdu => "CDU",
            Kind::CoolingTower => "cooling-tower",
            Kind::DryCooler => "dry-cooler",
            Kind::Chiller => "chiller",
            Kind::Ups => "UPS",
            Kind::Transformer => "transformer",
            Kind::Battery => "battery",
            Kind::Engine => "engine",
        };
        f.write_str(name)
    }
}

/// Where a campus file names equipment: a field path (`*` stands for every element of an
/// array) and the kind it refers to. Order matters: a rack is resolved before its GPU.
const SLOTS: &[(&str, Kind)] = &[
    ("halls.*.rack", Kind::Rack),
    ("halls.*.rack.gpu", Kind::Gpu),
    ("halls.*.cdu", Kind::Cdu),
    ("heat_rejection.cooling_towers.cell", Kind::CoolingTower),
    ("heat_rejection.dry_coolers.unit", Kind::DryCooler),
    ("heat_rejection.chillers.unit", Kind::Chiller),
    ("air_cooling.chiller", Kind::Chiller),
    ("power.ups.unit", Kind::Ups),
    ("power.transformers.unit", Kind::Transformer),
    ("grid.battery", Kind::Battery),
    ("grid.engines.*.unit", Kind::Engine),
];

/// The equipment catalog: for each kind, its models by id.
#[derive(Debug, Clone)]
pub struct Catalog {
    models: BTreeMap<Kind, toml::Table>,
}

impl Catalog {
    /// The catalog shipped with CampusTwin (parsed once).
    pub fn builtin() -> Result<&'static Catalog> {
        static BUILTIN: OnceLock<std::result::Result<Catalog, String>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| Catalog::parse_builtin().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|message| Error::parse("built-in catalog", message))
    }

    fn parse_builtin() -> Result<Catalog> {
        let mut models = BTreeMap::new();
        for kind in Kind::ALL {
            let file = format!("catalog/{}", kind.file_name());
            let table: toml::Table =
                toml::from_str(kind.builtin_text()).map_err(|e| Error::parse(&file, e))?;
            models.insert(kind, table);
        }
        Ok(Catalog { models })
    }

    /// The model `id` of `kind`, as its catalog table.
    pub fn entry(&self, kind: Kind, id: &str) -> Option<&toml::Table> {
        self.models.get(&kind)?.get(id)?.as_table()
    }

    /// Ids of every model of `kind`.
    pub fn ids(&self, kind: Kind) -> Vec<&str> {
        self.models
            .get(&kind)
            .map(|t| t.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

/// Replaces every equipment reference in a campus table by the full equipment table.
///
/// Problems (unknown model, a reference that is neither a name nor a table) are recorded
/// with their path; the slot is then left as it was, and deserialisation reports nothing
/// more for it than what is already said.
pub fn resolve_references(root: &mut toml::Table, catalog: &Catalog, problems: &mut Problems) {
    for (pattern, kind) in SLOTS {
        let segments: Vec<&str> = pattern.split('.').collect();
        visit(root, &segments, String::new(), &mut |value, path| {
            if let Err(message) = resolve_one(value, *kind, catalog) {
                problems.push(path, message);
            }
        });
    }
}

/// Calls `f` on every value at `segments` below `table`, with its display path.
fn visit(
    table: &mut toml::Table,
    segments: &[&str],
    prefix: String,
    f: &mut dyn FnMut(&mut toml::Value, String),
) {
    let Some((first, rest)) = segments.split_first() else {
        return;
    };
    let Some(value) = table.get_mut(*first) else {
        return;
    };
    let path = if prefix.is_empty() {
        (*first).to_string()
    } else {
        format!("{prefix}.{first}")
    };
    match (rest.split_first(), value) {
        (None, value) => f(value, path),
        (Some((&"*", after)), toml::Value::Array(items)) => {
            for (i, item) in items.iter_mut().enumerate() {
                let item_path = format!("{path}[{i}]");
                match (after.is_empty(), item) {
                    (true, item) => f(item, item_path),
                    (false, toml::Value::Table(t)) => visit(t, after, item_path, f),
                    (false, _) => {}
                }
            }
        }
        (Some(_), toml::Value::Table(t)) => visit(t, rest, path, f),
        _ => {}
    }
}

/// Resolves one reference in place.
fn resolve_one(value: &mut toml::Value, kind: Kind, catalog: &Catalog) -> Result<(), String> {
    let (id, overrides) = match value {
        toml::Value::String(id) => (id.clone(), toml::Table::new()),
        toml::Value::Table(t) => match t.get("model") {
            None => return Ok(()), // written inline in full
            Some(toml::Value::String(id)) => {
                let id = id.clone();
                let mut overrides = t.clone();
                overrides.remove("model");
                (id, overrides)
            }
            Some(other) => {
                return Err(format!(
                    "`model` must be the name of a {kind} in the catalog, got {}",
                    other.type_str()
                ));
            }
        },
        other => {
            return Err(format!(
                "must be the name of a {kind} model or a table, got {}",
                other.type_str()
            ));
        }
    };
    let Some(entry) = catalog.entry(kind, &id) else {
        return Err(format!(
            "unknown {kind} model `{id}`; the catalog has: {}",
            catalog.ids(kind).join(", ")
        ));
    };
    let mut merged = entry.clone();
    merged.insert("model".into(), toml::Value::String(id));
    for (key, v) in overrides {
        merged.insert(key, v);
    }
    *value = toml::Value::Table(merged);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_catalog_file_parses_and_has_sources() {
        let catalog = Catalog::builtin().unwrap();
        for kind in Kind::ALL {
            let ids = catalog.ids(kind);
            assert!(!ids.is_empty(), "{kind} catalog is empty");
            for id in ids {
                let entry = catalog.entry(kind, id).unwrap();
                let source = entry.get("source").and_then(|s| s.as_str()).unwrap_or("");
                assert!(!source.trim().is_empty(), "{kind} `{id}` has no source");
            }
        }
    }

    #[test]
    fn reference_by_name_and_with_overrides() {
        let catalog = Catalog::builtin().unwrap();
        let mut root: toml::Table = toml::from_str(
            r#"
            [[halls]]
            rack = "gb200-nvl72"
            [[halls]]
            rack = { model = "gb200-nvl72", liquid_fraction = 0.9, gpu = "h100-sxm" }
            "#,
        )
        .unwrap();
        let mut problems = Problems::new();
        resolve_references(&mut root, catalog, &mut problems);
        assert!(problems.is_empty(), "{problems}");
        let halls = root["halls"].as_array().unwrap();
        let first = halls[0]["rack"].as_table().unwrap();
        let second = halls[1]["rack"].as_table().unwrap();
        assert_eq!(first["model"].as_str(), Some("gb200-nvl72"));
        assert_ne!(first["liquid_fraction"].as_float(), Some(0.9));
        assert_eq!(second["liquid_fraction"].as_float(), Some(0.9));
        // The rack's GPU reference was itself resolved, with the override's model.
        assert_eq!(first["gpu"]["model"].as_str(), Some("gb200"));
        assert_eq!(second["gpu"]["model"].as_str(), Some("h100-sxm"));
        assert!(second["gpu"]["tdp_w"].as_float().is_some());
    }

    #[test]
    fn unknown_model_names_the_path_and_the_choices() {
        let catalog = Catalog::builtin().unwrap();
        let mut root: toml::Table = toml::from_str(
            r#"
            [[halls]]
            cdu = "cdu-9000"
            [[halls]]
            cdu = 7
            "#,
        )
        .unwrap();
        let mut problems = Problems::new();
        resolve_references(&mut root, catalog, &mut problems);
        let text = problems.to_string();
        assert!(
            text.contains("halls[0].cdu: unknown CDU model `cdu-9000`; the catalog has:"),
            "{text}"
        );
        assert!(
            text.contains("halls[1].cdu: must be the name of a CDU model or a table, got integer"),
            "{text}"
        );
    }
}
