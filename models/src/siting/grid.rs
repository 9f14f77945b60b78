//! The hourly series of a balancing authority: its load and, where given, the carbon
//! intensity of its generation, read from CSV (plain or gzipped).
//!
//! ```text
//! time,wind_mw,solar_mw,hydro_mw,oil_mw,gas_mw,coal_mw,nuclear_mw,other_mw,carbon_kg_per_mwh
//! 2022-01-01T00:00:00Z,3494.0,17.0,3044.0,241.0,33595.0,17255.0,33745.0,722.0,341.43
//! ```
//!
//! - `time`: RFC 3339 with an offset (`Z` or `-05:00`), the start of the hour; rows one
//!   hour apart, without gaps or repeats (a clock change is no problem: times with an
//!   offset are instants, so a DST night has 23 or 25 local hours and no repeated row).
//!   A time without an offset is refused: its hour is ambiguous once a year.
//! - The load, MW: a `demand_mw` (or `load_mw`) column where there is one; otherwise the
//!   sum of every other column whose name ends in `_mw`, the authority's net generation
//!   by fuel, a stand-in for its demand (the layout of EIA-930's generation by fuel). A
//!   row with an empty load value has no load for that hour (the source lost it: PJM has
//!   23 such hours in 2022, MISO 3 with only a `0.0` of oil left): it is repaired by
//!   linear interpolation between the neighbouring hours (the nearest one at either end)
//!   and counted in [`GridSeries::load_repaired_hours`], since a sum without a column
//!   would understate the load. A value that is not a number is an error naming its line
//!   and column.
//! - `carbon_kg_per_mwh` (optional): an empty cell is repaired the same way, and counted
//!   in [`GridSeries::carbon_repaired_hours`].

use std::path::Path;

use chrono::{DateTime, Datelike, Utc};

use super::headroom::PeakSeries;
use crate::weather::forecast::table;
use crate::{Error, Result};

/// One hour, s.
const HOUR_S: i64 = 3600;

/// A balancing authority's hourly load and carbon intensity.
#[derive(Debug, Clone, PartialEq)]
pub struct GridSeries {
    file: String,
    times: Vec<DateTime<Utc>>,
    load_mw: Vec<f64>,
    carbon_kg_per_mwh: Option<Vec<f64>>,
    load_repaired_hours: usize,
    carbon_repaired_hours: usize,
}

/// Where a column's values come from.
enum LoadColumns {
    /// One demand column.
    Demand(usize),
    /// The sum of generation columns.
    Generation(Vec<usize>),
}

impl GridSeries {
    /// Reads the file at `path`, gzipped or plain.
    pub fn read(path: &Path) -> Result<Self> {
        Self::from_bytes(&path.display().to_string(), crate::files::read(path)?)
    }

    /// Parses file content, gzipped or plain; `file` names it in errors.
    pub fn from_bytes(file: &str, bytes: Vec<u8>) -> Result<Self> {
        let bytes = if crate::files::is_gzip(&bytes) {
            crate::files::gunzip(file, &bytes)?
        } else {
            bytes
        };
        Self::from_text(file, &crate::files::text(file, bytes)?)
    }

    /// Parses CSV text; `file` names it in errors.
    pub fn from_text(file: &str, text: &str) -> Result<Self> {
        let mut lines = table::lines(text).filter(|(_, l)| !table::is_blank_or_comment(l));
        let (header_line, header) = lines
            .next()
            .ok_or_else(|| Error::parse(file, "empty: a header line `time,…` is needed"))?;
        let names = table::split(file, header_line, header)?;
        let column = |name: &str| names.iter().position(|n| n.eq_ignore_ascii_case(name));
        let time = column("time").ok_or_else(|| Error::line(file, header_line, "no `time` column"))?;
        let carbon = column("carbon_kg_per_mwh");
        let load = match column("demand_mw").or_else(|| column("load_mw")) {
            Some(i) => LoadColumns::Demand(i),
            None => {
                let generation: Vec<usize> = (0..names.len())
                    .filter(|&i| {
                        i != time && Some(i) != carbon && names[i].to_ascii_lowercase().ends_with("_mw")
                    })
                    .collect();
                if generation.is_empty() {
                    return Err(Error::line(
                        file,
                        header_line,
                        "no load: a `demand_mw` column, or generation columns named `…_mw`",
                    ));
                }
                LoadColumns::Generation(generation)
            }
        };
        let mut series = GridSeries {
            file: file.to_owned(),
            times: Vec::new(),
            load_mw: Vec::new(),
            carbon_kg_per_mwh: None,
            load_repaired_hours: 0,
            carbon_repaired_hours: 0,
        };
        let load_indices: Vec<usize> = match &load {
            LoadColumns::Demand(i) => vec![*i],
            LoadColumns::Generation(columns) => columns.clone(),
        };
        let mut load_cells: Vec<Option<f64>> = Vec::new();
        let mut carbon_cells: Vec<Option<f64>> = Vec::new();
        for (n, line) in lines {
            let values = table::split(file, n, line)?;
            if values.len() != names.len() {
                return Err(Error::line(
                    file,
                    n,
                    format!("{} values, the header names {}", values.len(), names.len()),
                ));
            }
            let t = table::time(&values[time]).map_err(|e| Error::line(file, n, format!("time: {e}")))?;
            series.check_next_hour(n, t)?;
            let number = |i: usize| {
                table::number(&values[i]).map_err(|e| Error::line(file, n, format!("{}: {e}", names[i])))
            };
            let load_mw = if load_indices.iter().any(|&i| values[i].is_empty()) {
                None // the hour is lost at the source: interpolated below
            } else {
                let mut sum = 0.0;
                for &i in &load_indices {
                    sum += number(i)?;
                }
                Some(sum)
            };
            series.times.push(t);
            load_cells.push(load_mw);
            if let Some(i) = carbon {
                carbon_cells.push(if values[i].is_empty() {
                    None
                } else {
                    Some(number(i)?)
                });
            }
        }
        if series.times.len() < 2 {
            return Err(Error::parse(file, "fewer than two hours of data"));
        }
        let (load_mw, repaired) =
            interpolate(&load_cells).ok_or_else(|| Error::parse(file, "no hour has a load value"))?;
        series.load_mw = load_mw;
        series.load_repaired_hours = repaired;
        if carbon.is_some() {
            let (filled, repaired) = interpolate(&carbon_cells)
                .ok_or_else(|| Error::parse(file, "carbon_kg_per_mwh: no hour has a value"))?;
            series.carbon_kg_per_mwh = Some(filled);
            series.carbon_repaired_hours = repaired;
        }
        Ok(series)
    }

    /// Refuses a row at `t` (line `n`) that does not follow the last one by an hour.
    fn check_next_hour(&self, n: usize, t: DateTime<Utc>) -> Result<()> {
        let Some(last) = self.times.last() else {
            return Ok(());
        };
        let step_s = (t - *last).num_seconds();
        if step_s == HOUR_S {
            return Ok(());
        }
        let why = if step_s == 0 {
            format!("{} repeats the previous row's hour", table::rfc3339(t))
        } else if step_s < 0 {
            format!(
                "{} is before the previous row's {}",
                table::rfc3339(t),
                table::rfc3339(*last)
            )
        } else {
            format!(
                "{} is {:.2} h after the previous row: an hourly series has a row every hour, without gaps",
                table::rfc3339(t),
                step_s as f64 / HOUR_S as f64
            )
        };
        Err(Error::line(&self.file, n, format!("time: {why}")))
    }

    /// The file it was read from.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The start of each hour.
    pub fn times(&self) -> &[DateTime<Utc>] {
        &self.times
    }

    /// The load of each hour, MW.
    pub fn load_mw(&self) -> &[f64] {
        &self.load_mw
    }

    /// The carbon intensity of each hour, kg/MWh, with gaps repaired; `None` without a
    /// `carbon_kg_per_mwh` column.
    pub fn carbon_kg_per_mwh(&self) -> Option<&[f64]> {
        self.carbon_kg_per_mwh.as_deref()
    }

    /// Hours whose load was missing (every load value empty) and is interpolated.
    pub fn load_repaired_hours(&self) -> usize {
        self.load_repaired_hours
    }

    /// Hours whose carbon intensity was empty and is interpolated.
    pub fn carbon_repaired_hours(&self) -> usize {
        self.carbon_repaired_hours
    }

    /// The series against its seasonal peaks, for headroom: each hour's threshold is the
    /// peak load of its season in the series, summer (June to September, UTC months:
    /// the window of NERC's summer reliability assessment) or winter (the other months).
    pub fn peak_series(&self) -> Result<PeakSeries> {
        let season: Vec<usize> = self
            .times
            .iter()
            .map(|t| usize::from((6..=9).contains(&t.month())))
            .collect();
        PeakSeries::with_seasonal_peaks(self.load_mw.clone(), &season)
    }
}

/// `cells` with each `None` filled by linear interpolation between its nearest values
/// (the nearest value at either end), and how many were filled; `None` when no cell has
/// a value.
fn interpolate(cells: &[Option<f64>]) -> Option<(Vec<f64>, usize)> {
    let known: Vec<usize> = (0..cells.len()).filter(|&i| cells[i].is_some()).collect();
    let (&first, &last) = (known.first()?, known.last()?);
    let value = |i: usize| cells[i].unwrap_or(f64::NAN);
    let mut out = Vec::with_capacity(cells.len());
    let mut next = 0; // index into `known` of the first known cell at or after i
    for (i, cell) in cells.iter().enumerate() {
        while known[next] < i && next + 1 < known.len() {
            next += 1;
        }
        out.push(match *cell {
            Some(v) => v,
            None if i < first => value(first),
            None if i > last => value(last),
            None => {
                let (a, b) = (known[next - 1], known[next]);
                let w = (i - a) as f64 / (b - a) as f64;
                value(a) + w * (value(b) - value(a))
            }
        });
    }
    Some((out, cells.len() - known.len()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    const HEADER: &str = "time,wind_mw,gas_mw,carbon_kg_per_mwh\n";

    fn read(rows: &str) -> Result<GridSeries> {
        GridSeries::from_text("g.csv", &format!("{HEADER}{rows}"))
    }

    #[test]
    fn generation_columns_sum_to_the_load_and_carbon_gaps_are_interpolated() {
        let s = read(
            "2022-01-01T00:00:00Z,10,90,300\n\
             2022-01-01T01:00:00Z,20,90,\n\
             2022-01-01T02:00:00Z,30,90,\n\
             2022-01-01T03:00:00Z,40,90,400\n\
             2022-01-01T04:00:00Z,50,90,\n",
        )
        .unwrap();
        assert_eq!(s.load_mw(), [100.0, 110.0, 120.0, 130.0, 140.0]);
        let carbon = s.carbon_kg_per_mwh().unwrap();
        let want = [300.0, 300.0 + 100.0 / 3.0, 300.0 + 200.0 / 3.0, 400.0, 400.0];
        for (got, want) in carbon.iter().zip(want) {
            assert!((got - want).abs() < 1e-9, "{carbon:?}");
        }
        assert_eq!(s.carbon_repaired_hours(), 3);
        // A lost hour (a load value empty) is interpolated too, not summed without it.
        let s = read(
            "2022-01-01T00:00:00Z,10,90,300\n2022-01-01T01:00:00Z,,0.0,\n2022-01-01T02:00:00Z,30,90,310\n",
        )
        .unwrap();
        assert_eq!(s.load_mw(), [100.0, 110.0, 120.0]);
        assert_eq!((s.load_repaired_hours(), s.carbon_repaired_hours()), (1, 1));
    }

    #[test]
    fn a_demand_column_is_the_load() {
        let text =
            "time,demand_mw,gas_mw\n2022-03-13T06:00:00-05:00,500,1\n2022-03-13T07:00:00-05:00,510,1\n";
        let s = GridSeries::from_text("d.csv", text).unwrap();
        assert_eq!(s.load_mw(), [500.0, 510.0]);
        assert_eq!(s.times()[0].to_rfc3339(), "2022-03-13T11:00:00+00:00");
        assert!(s.carbon_kg_per_mwh().is_none());
    }

    #[test]
    fn gaps_repeats_and_bad_values_name_their_line() {
        let cases = [
            (
                "2022-01-01T00:00:00Z,1,1,1\n2022-01-01T00:00:00Z,1,1,1\n",
                "line 3: time: 2022-01-01T00:00:00Z repeats",
            ),
            (
                "2022-01-01T00:00:00Z,1,1,1\n2022-01-01T03:00:00Z,1,1,1\n",
                "line 3: time: 2022-01-01T03:00:00Z is 3.00 h after",
            ),
            (
                "2022-01-01T05:00:00Z,1,1,1\n2022-01-01T04:00:00Z,1,1,1\n",
                "is before the previous row",
            ),
            (
                "2022-01-01T00:00:00Z,1,1,1\n2022-01-01T01:00:00Z,x,1,1\n",
                "line 3: wind_mw",
            ),
            (
                "2022-01-01T00:00:00Z,1,1,1\n2022-01-01 01:00,1,1,1\n",
                "line 3: time",
            ),
            (
                "2022-01-01T00:00:00Z,1,1,1\n2022-01-01T01:00:00Z,1,1\n",
                "line 3: 3 values, the header names 4",
            ),
            (
                "2022-01-01T00:00:00Z,1,1,\n2022-01-01T01:00:00Z,1,1,\n",
                "carbon_kg_per_mwh: no hour has a value",
            ),
            ("2022-01-01T00:00:00Z,1,1,1\n", "fewer than two hours"),
        ];
        for (rows, want) in cases {
            let e = read(rows).unwrap_err().to_string();
            assert!(e.contains("g.csv") && e.contains(want), "{rows:?}: {e}");
        }
        let e = GridSeries::from_text("n.csv", "time,carbon_kg_per_mwh\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no load"), "{e}");
    }

    #[test]
    fn the_shipped_pjm_year_reads_whole_with_its_gaps_repaired() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/sites/grid/PJM_2022_hourly.csv.gz");
        let s = GridSeries::read(&path).unwrap();
        assert_eq!(s.times().len(), 8760);
        // The README of the data counts 23 empty carbon hours for PJM: the source lost
        // those hours whole.
        assert_eq!((s.load_repaired_hours(), s.carbon_repaired_hours()), (23, 23));
        let peak = s.load_mw().iter().copied().fold(f64::MIN, f64::max);
        assert!(
            (100_000.0..200_000.0).contains(&peak),
            "PJM's peak generation {peak} MW"
        );
        let headroom = s.peak_series().unwrap().headroom(0.005).unwrap();
        assert!(
            headroom.added_mw > 0.0 && headroom.rate <= 0.005 + 1e-12,
            "{headroom:?}"
        );
    }
}
