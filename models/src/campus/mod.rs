//! The campus description: parse → resolve catalog references → deserialise → validate.
//!
//! ```
//! use models::campus::Campus;
//!
//! let campus = Campus::example().unwrap();
//! assert_eq!(campus.spec.halls.len(), 4);
//! assert!(campus.it_design_kw() > 90_000.0);
//! ```

pub mod catalog;
pub mod spec;
mod validate;

use std::path::{Path, PathBuf};

pub use catalog::{Catalog, Kind};
pub use spec::*;

use crate::error::{Error, Problems, Result};

/// Where a campus description came from, which decides how its relative paths resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file on disk; relative paths resolve against its folder.
    File(PathBuf),
    /// A campus shipped inside the binary; its weather file is shipped too.
    Builtin(&'static str),
}

/// A validated campus: every catalog reference resolved, every rule checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Campus {
    /// The resolved campus description.
    pub spec: CampusSpec,
    /// Where it came from.
    pub origin: Origin,
}

/// Example campuses shipped in `models/campuses/`, by file name.
const BUILTIN_CAMPUSES: &[(&str, &str)] = &[
    ("example.toml", include_str!("../../campuses/example.toml")),
    ("esif.toml", include_str!("../../campuses/esif.toml")),
];

impl Campus {
    /// Reads, resolves and validates the campus file at `path`.
    pub fn load(path: &Path) -> Result<Campus> {
        let text = crate::files::read_text(path)?;
        Campus::from_toml(&text, Origin::File(path.to_path_buf()))
    }

    /// The example campus (about 100 MW IT near Ashburn, Virginia).
    pub fn example() -> Result<Campus> {
        Campus::builtin("example.toml")
    }

    /// A shipped campus by file name (`example.toml`, `esif.toml`).
    pub fn builtin(name: &str) -> Result<Campus> {
        let (name, text) = BUILTIN_CAMPUSES.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            let names: Vec<&str> = BUILTIN_CAMPUSES.iter().map(|(n, _)| *n).collect();
            Error::parse(
                name,
                format!("no such built-in campus; there are: {}", names.join(", ")),
            )
        })?;
        Campus::from_toml(text, Origin::Builtin(name))
    }

    /// Parses campus TOML text; `origin` names it in errors and resolves relative paths.
    pub fn from_toml(text: &str, origin: Origin) -> Result<Campus> {
        let file = origin.display_name();
        let mut root: toml::Table = toml::from_str(text).map_err(|e| Error::toml(&file, text, &e))?;
        let mut problems = Problems::new();
        catalog::resolve_references(&mut root, Catalog::builtin()?, &mut problems);
        problems.into_result(&file)?;
        let spec: CampusSpec = serde_path_to_error::deserialize(toml::Value::Table(root))
            .map_err(|e| Error::parse(&file, format!("{}: {}", e.path(), e.inner())))?;
        let mut problems = Problems::new();
        validate::campus(&spec, &mut problems);
        problems.into_result(&file)?;
        Ok(Campus { spec, origin })
    }

    /// Where the weather file is: a path on disk, or the name of a shipped file.
    pub fn weather_location(&self) -> WeatherLocation {
        let named = Path::new(&self.spec.site.weather_file);
        match &self.origin {
            Origin::File(path) if named.is_relative() => {
                let dir = path.parent().unwrap_or(Path::new("."));
                WeatherLocation::File(dir.join(named))
            }
            Origin::File(_) => WeatherLocation::File(named.to_path_buf()),
            Origin::Builtin(_) => WeatherLocation::Builtin(
                named
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or(&self.spec.site.weather_file)
                    .to_string(),
            ),
        }
    }

    /// Reads the campus's weather file (from disk, or shipped for a built-in campus).
    pub fn load_weather(&self) -> Result<crate::weather::Weather> {
        match self.weather_location() {
            WeatherLocation::File(path) => crate::weather::Weather::read(path),
            WeatherLocation::Builtin(name) => crate::weather::Weather::embedded(&name),
        }
    }

    /// IT power of every rack at full utilisation and uncapped GPUs, kW.
    pub fn it_design_kw(&self) -> f64 {
        self.spec.halls.iter().map(Hall::it_design_kw).sum()
    }
}

impl Hall {
    /// IT power of the hall at full utilisation and uncapped GPUs, kW.
    pub fn it_design_kw(&self) -> f64 {
        f64::from(self.racks) * self.rack.design_kw()
    }
}

impl Rack {
    /// Rack power at full utilisation with GPUs at TDP, kW.
    pub fn design_kw(&self) -> f64 {
        f64::from(self.gpus_per_rack) * self.gpu.tdp_w / 1000.0 + self.host_max_kw
    }
}

impl Origin {
    /// The name used in messages: the path as given, or the shipped file's name.
    pub fn display_name(&self) -> String {
        match self {
            Origin::File(path) => path.display().to_string(),
            Origin::Builtin(name) => format!("{name} (built-in)"),
        }
    }
}

/// Where a campus's weather file lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WeatherLocation {
    /// A file on disk.
    File(PathBuf),
    /// A weather file shipped inside the binary, by file name.
    Builtin(String),
}

#[cfg(test)]
mod tests;
