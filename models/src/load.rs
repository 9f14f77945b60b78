//! IT load inputs: how busy the GPUs are and what power cap they run under, over time.
//!
//! Four forms, written in a scenario file's `[load]` table or on the command line:
//! - `constant`: one utilisation for every hall;
//! - `diurnal`: a daily cosine between a minimum and a maximum, peaking at a local hour;
//! - `csv`: a file of per-hall utilisation and power cap over time, each value held until
//!   the hall's next row;
//! - `training`: synchronous training, every GPU in lockstep between compute and
//!   communication phases with a period of seconds, the power swing large jobs put on the grid.

use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Problems, Result};

/// How the IT load evolves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LoadSpec {
    /// The same utilisation everywhere, always.
    Constant {
        /// Share of time GPUs compute, 0–1.
        utilisation: f64,
        /// GPU power cap as a fraction of TDP. Default 1: uncapped.
        #[serde(default = "one")]
        power_cap_frac: f64,
    },
    /// A daily cosine: `mid + amp·cos(2π·(hour − peak_hour)/24)`.
    Diurnal {
        /// Utilisation at the daily low.
        min_utilisation: f64,
        /// Utilisation at the daily peak.
        max_utilisation: f64,
        /// Local standard hour of the peak, 0–24. Default 15: mid-afternoon.
        #[serde(default = "default_peak_hour")]
        peak_hour: f64,
        /// GPU power cap as a fraction of TDP. Default 1.
        #[serde(default = "one")]
        power_cap_frac: f64,
    },
    /// Per-hall utilisation and power cap from a CSV file (see [`LoadTable`]).
    Csv {
        /// The file, relative to the scenario file or the working directory.
        file: String,
    },
    /// Synchronous training: compute and communication phases in lockstep.
    Training {
        /// Length of one iteration, s (1–10 s for large jobs).
        period_s: f64,
        /// Share of the iteration spent computing. Default 0.7.
        #[serde(default = "default_compute_frac")]
        compute_frac: f64,
        /// Utilisation during compute. Default 1.
        #[serde(default = "one")]
        compute_utilisation: f64,
        /// Utilisation during communication: GPUs wait near idle. Default 0.1.
        #[serde(default = "default_comm_utilisation")]
        communication_utilisation: f64,
        /// GPU power cap as a fraction of TDP. Default 1.
        #[serde(default = "one")]
        power_cap_frac: f64,
    },
}

fn one() -> f64 {
    1.0
}

fn default_peak_hour() -> f64 {
    15.0
}

fn default_compute_frac() -> f64 {
    0.7
}

fn default_comm_utilisation() -> f64 {
    0.1
}

impl Default for LoadSpec {
    /// Busy training campus: 90 % utilisation, uncapped.
    fn default() -> Self {
        LoadSpec::Constant {
            utilisation: 0.9,
            power_cap_frac: 1.0,
        }
    }
}

impl LoadSpec {
    /// Checks ranges; `at` is the path of the load in its file (`load`, `--load`).
    pub fn validate(&self, at: &str, p: &mut Problems) {
        let frac = |p: &mut Problems, name: &str, v: f64| p.within(format!("{at}.{name}"), v, 0.0, 1.0);
        match self {
            LoadSpec::Constant {
                utilisation,
                power_cap_frac,
            } => {
                frac(p, "utilisation", *utilisation);
                cap(p, at, *power_cap_frac);
            }
            LoadSpec::Diurnal {
                min_utilisation,
                max_utilisation,
                peak_hour,
                power_cap_frac,
            } => {
                frac(p, "min_utilisation", *min_utilisation);
                frac(p, "max_utilisation", *max_utilisation);
                p.check(
                    min_utilisation <= max_utilisation,
                    format!("{at}.max_utilisation"),
                    "must not be below min_utilisation",
                );
                p.within(format!("{at}.peak_hour"), *peak_hour, 0.0, 24.0);
                cap(p, at, *power_cap_frac);
            }
            LoadSpec::Csv { file } => {
                p.check(
                    !file.trim().is_empty(),
                    format!("{at}.file"),
                    "must name a CSV file",
                );
            }
            LoadSpec::Training {
                period_s,
                compute_frac,
                compute_utilisation,
                communication_utilisation,
                power_cap_frac,
            } => {
                p.within(format!("{at}.period_s"), *period_s, 0.1, 3600.0);
                p.check(
                    compute_frac.is_finite() && *compute_frac > 0.0 && *compute_frac < 1.0,
                    format!("{at}.compute_frac"),
                    format!("must be within (0, 1), got {compute_frac}"),
                );
                frac(p, "compute_utilisation", *compute_utilisation);
                frac(p, "communication_utilisation", *communication_utilisation);
                cap(p, at, *power_cap_frac);
            }
        }
    }
}

fn cap(p: &mut Problems, at: &str, v: f64) {
    p.check(
        v.is_finite() && v > 0.0 && v <= 1.0,
        format!("{at}.power_cap_frac"),
        format!("must be within (0, 1], got {v}"),
    );
}

/// The command-line form: `constant:U[:CAP]`, `diurnal:MIN:MAX[:PEAK_HOUR]`, `csv:FILE`,
/// `training:PERIOD_S[:COMPUTE_FRAC]`.
impl FromStr for LoadSpec {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let mut parts = s.split(':');
        let kind = parts.next().unwrap_or_default();
        let rest: Vec<&str> = parts.collect();
        let num = |i: usize, name: &str| -> std::result::Result<f64, String> {
            let text = rest.get(i).ok_or_else(|| format!("`{kind}` needs {name}"))?;
            text.parse::<f64>()
                .map_err(|_| format!("{name} must be a number, got `{text}`"))
        };
        let opt = |i: usize, name: &str, default: f64| {
            if rest.len() > i { num(i, name) } else { Ok(default) }
        };
        // Each kind takes at most this many values after its name.
        let most = match kind {
            "constant" | "training" => 2,
            "diurnal" => 3,
            _ => usize::MAX,
        };
        if rest.len() > most {
            return Err(format!(
                "`{kind}` takes at most {most} values after its name, got {}: `{}` is left over",
                rest.len(),
                rest[most..].join(":")
            ));
        }
        let spec = match kind {
            "constant" => LoadSpec::Constant {
                utilisation: num(0, "a utilisation")?,
                power_cap_frac: opt(1, "a power cap fraction", 1.0)?,
            },
            "diurnal" => LoadSpec::Diurnal {
                min_utilisation: num(0, "a minimum utilisation")?,
                max_utilisation: num(1, "a maximum utilisation")?,
                peak_hour: opt(2, "a peak hour", default_peak_hour())?,
                power_cap_frac: 1.0,
            },
            "csv" => LoadSpec::Csv { file: rest.join(":") },
            "training" => LoadSpec::Training {
                period_s: num(0, "a period in seconds")?,
                compute_frac: opt(1, "a compute fraction", default_compute_frac())?,
                compute_utilisation: 1.0,
                communication_utilisation: default_comm_utilisation(),
                power_cap_frac: 1.0,
            },
            other => {
                return Err(format!(
                    "unknown load `{other}`; use constant:U[:CAP], diurnal:MIN:MAX[:PEAK_HOUR], csv:FILE or training:PERIOD_S[:COMPUTE_FRAC]"
                ));
            }
        };
        let mut problems = Problems::new();
        spec.validate("--load", &mut problems);
        if problems.is_empty() {
            Ok(spec)
        } else {
            Err(problems.to_string())
        }
    }
}

/// One row of a load table: from `time` on, hall `hall` runs at `utilisation` under a
/// power cap of `power_cap_w` per GPU.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadRow {
    /// When the values take effect (RFC 3339).
    pub time: DateTime<Utc>,
    /// Hall name, as in the campus file.
    pub hall: String,
    /// Share of time GPUs compute, 0–1.
    pub utilisation: f64,
    /// GPU power cap, W per GPU.
    pub power_cap_w: f64,
}

/// A load table: rows sorted by time within each hall.
///
/// ```text
/// time,hall,utilisation,power_cap_w
/// 2026-07-01T00:00:00Z,hall-a,0.9,1200
/// 2026-07-01T06:00:00Z,hall-a,0.6,900
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LoadTable {
    /// The rows, in file order (sorted by time within each hall).
    pub rows: Vec<LoadRow>,
}

impl LoadTable {
    /// Reads and checks a load table.
    pub fn read(path: &Path) -> Result<LoadTable> {
        let text = crate::files::read_text(path)?;
        LoadTable::parse(&path.display().to_string(), &text)
    }

    /// Parses and checks load-table text; errors name the line and the column.
    pub fn parse(file: &str, text: &str) -> Result<LoadTable> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| Error::line(file, 1, e))?.clone();
        let expected = ["time", "hall", "utilisation", "power_cap_w"];
        if headers.iter().collect::<Vec<_>>() != expected {
            return Err(Error::line(
                file,
                1,
                format!(
                    "the header must be `{}`, got `{}`",
                    expected.join(","),
                    headers.iter().collect::<Vec<_>>().join(",")
                ),
            ));
        }
        let mut rows: Vec<LoadRow> = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            let record = record.map_err(|e| Error::line(file, line, e))?;
            let field = |column: usize| record.get(column).unwrap_or_default();
            let number = |column: usize| -> Result<f64> {
                field(column).parse::<f64>().map_err(|_| {
                    Error::line(
                        file,
                        line,
                        format!("{}: must be a number, got `{}`", expected[column], field(column)),
                    )
                })
            };
            let time = DateTime::parse_from_rfc3339(field(0))
                .map_err(|e| {
                    Error::line(
                        file,
                        line,
                        format!("time: `{}` is not an RFC 3339 time ({e})", field(0)),
                    )
                })?
                .with_timezone(&Utc);
            let row = LoadRow {
                time,
                hall: field(1).to_string(),
                utilisation: number(2)?,
                power_cap_w: number(3)?,
            };
            if !(row.utilisation.is_finite() && (0.0..=1.0).contains(&row.utilisation)) {
                return Err(Error::line(
                    file,
                    line,
                    format!("utilisation: must be within [0, 1], got {}", row.utilisation),
                ));
            }
            if !(row.power_cap_w.is_finite() && row.power_cap_w > 0.0) {
                return Err(Error::line(
                    file,
                    line,
                    format!("power_cap_w: must be a number > 0, got {}", row.power_cap_w),
                ));
            }
            if let Some(prev) = rows.iter().rev().find(|r| r.hall == row.hall) {
                if row.time <= prev.time {
                    return Err(Error::line(
                        file,
                        line,
                        format!(
                            "time: {} is not after the previous row of hall `{}` ({})",
                            row.time, row.hall, prev.time
                        ),
                    ));
                }
            }
            rows.push(row);
        }
        if rows.is_empty() {
            return Err(Error::line(file, 2, "the table has no rows"));
        }
        Ok(LoadTable { rows })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_spec_with_values_left_over_is_refused() {
        let err = "constant:0.9:1:garbage".parse::<LoadSpec>().unwrap_err();
        assert!(err.contains("`garbage` is left over"), "{err}");
        assert!("diurnal:0.5:0.9:15:x".parse::<LoadSpec>().is_err());
        assert!("constant:0.9:1".parse::<LoadSpec>().is_ok());
        assert!("csv:C:/loads/a.csv".parse::<LoadSpec>().is_ok());
    }

    #[test]
    fn command_line_forms_parse() {
        assert_eq!(
            "constant:0.8".parse::<LoadSpec>().unwrap(),
            LoadSpec::Constant {
                utilisation: 0.8,
                power_cap_frac: 1.0
            }
        );
        assert_eq!(
            "diurnal:0.5:0.9:14".parse::<LoadSpec>().unwrap(),
            LoadSpec::Diurnal {
                min_utilisation: 0.5,
                max_utilisation: 0.9,
                peak_hour: 14.0,
                power_cap_frac: 1.0
            }
        );
        assert!(
            matches!("training:6".parse::<LoadSpec>().unwrap(), LoadSpec::Training { period_s, .. } if period_s == 6.0)
        );
        assert_eq!(
            "csv:a:b.csv".parse::<LoadSpec>().unwrap(),
            LoadSpec::Csv {
                file: "a:b.csv".into()
            }
        );
    }

    #[test]
    fn bad_command_line_forms_say_why() {
        let e = "constant:1.5".parse::<LoadSpec>().unwrap_err();
        assert!(
            e.contains("--load.utilisation: must be within [0, 1], got 1.5"),
            "{e}"
        );
        let e = "diurnal:0.9:0.5".parse::<LoadSpec>().unwrap_err();
        assert!(
            e.contains("max_utilisation: must not be below min_utilisation"),
            "{e}"
        );
        let e = "constant:lots".parse::<LoadSpec>().unwrap_err();
        assert!(e.contains("a utilisation must be a number, got `lots`"), "{e}");
        let e = "square:1".parse::<LoadSpec>().unwrap_err();
        assert!(e.contains("unknown load `square`"), "{e}");
    }

    #[test]
    fn load_table_reads_and_reports_bad_lines() {
        let ok = "time,hall,utilisation,power_cap_w\n2026-07-01T00:00:00Z,hall-a,0.9,1200\n2026-07-01T06:00:00Z,hall-a,0.6,900\n";
        let t = LoadTable::parse("load.csv", ok).unwrap();
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[1].power_cap_w, 900.0);

        let bad_value = ok.replace("0.6,900", "0.6,lots");
        let e = LoadTable::parse("load.csv", &bad_value).unwrap_err().to_string();
        assert!(
            e.starts_with("load.csv, line 3: power_cap_w: must be a number, got `lots`"),
            "{e}"
        );

        let out_of_order = ok.replace("06:00", "00:00");
        let e = LoadTable::parse("load.csv", &out_of_order)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3: time: ") && e.contains("is not after"), "{e}");

        let bad_util = ok.replace("0.9,1200", "1.9,1200");
        let e = LoadTable::parse("load.csv", &bad_util).unwrap_err().to_string();
        assert!(
            e.contains("line 2: utilisation: must be within [0, 1], got 1.9"),
            "{e}"
        );

        let e = LoadTable::parse("load.csv", "t,hall\n").unwrap_err().to_string();
        assert!(e.contains("line 1: the header must be"), "{e}");

        let bad_time = ok.replace("2026-07-01T06:00:00Z", "yesterday");
        let e = LoadTable::parse("load.csv", &bad_time).unwrap_err().to_string();
        assert!(
            e.contains("line 3: time: `yesterday` is not an RFC 3339 time"),
            "{e}"
        );
    }
}
