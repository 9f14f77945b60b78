//! Weather forecasts: an hourly CSV file laid over the typical year where it has data.
//!
//! # Format
//!
//! A header line naming the columns, then one row per hour, rows exactly one hour apart in
//! increasing time, without gaps or repeats. Lines whose first non-blank character is `#`
//! are comments; blank lines are skipped. Values are separated by commas and may be
//! enclosed in double quotes; spaces around them are ignored.
//!
//! ```text
//! # Ashburn, VA: forecast issued 2026-07-15T04:00:00Z
//! time,dry_bulb_c,dew_point_c,pressure_pa,ghi_w_per_m2,dni_w_per_m2,dhi_w_per_m2,wind_speed_m_per_s
//! 2026-07-15T05:00:00Z,24.4,21.1,100100,0,0,0,2.1
//! 2026-07-15T06:00:00Z,23.9,21.1,100100,0,0,0,1.5
//! ```
//!
//! | Column | Unit | Meaning | Accepted |
//! |---|---|---|---|
//! | `time` | RFC 3339 | the row's instant, with an offset (`Z`, `-05:00`); `T` or a space between date and time | one hour after the previous row |
//! | `dry_bulb_c` | °C | dry-bulb temperature at `time` | −70 to 70 |
//! | `dew_point_c` *or* `rel_humidity_pct` | °C or % | dew point (frost point below 0 °C), or relative humidity, at `time` | −70 to 70 °C, at most 1 K above the dry bulb; 0 to 110 % |
//! | `pressure_pa` *or* `pressure_kpa` | Pa or kPa | atmospheric pressure at the site (station or surface pressure, not reduced to sea level) at `time` | 31 000 to 120 000 Pa |
//! | `ghi_w_per_m2`, `dni_w_per_m2`, `dhi_w_per_m2` | W/m² | global horizontal, direct normal and diffuse horizontal irradiance: means over the hour *ending* at `time` | 0 to 1500 |
//! | `wind_speed_m_per_s` (optional) | m/s | wind speed at `time` | 0 to 40 |
//!
//! Columns may come in any order. Every column but the wind speed is required, with
//! exactly one of each pair; a column of any other name is an error that names it. The
//! ranges are those of the EPW reader ([`super::epw`]).
//!
//! **Timing.** Point quantities (temperatures, humidity, pressure, wind) are instantaneous
//! values at `time`; irradiances are means over the hour ending at `time`. That is the
//! EPW convention (record hour `h` holds the values at `h:00` and the irradiance of the
//! hour before), and Open-Meteo's for its hourly radiation ("average of the preceding
//! hour"), so a forecast and the typical year are read alike.
//!
//! # Sampling
//!
//! [`Weather::with_forecast`](super::Weather::with_forecast) lays a forecast over a typical
//! year. An instant from the first row's time to the last row's, inclusive, is sampled from
//! the forecast; any other instant from the typical year (the two do not blend, so the
//! weather may step at the span's ends). Within the span, as for the typical year:
//! point quantities are interpolated linearly between rows; irradiances between the
//! midpoints of the hours they average (`time − 30 min`), the last row's value holding for
//! its final half hour; the dew point (given, or computed at read time from the relative
//! humidity, dry bulb and pressure) is interpolated, and the humidity ratio, wet bulb and
//! relative humidity of the sample are computed from it ([`super::psychro`]). A forecast
//! without a wind column takes the typical year's wind at the same instant. Unlike the
//! typical year, which repeats, a forecast holds for its own dates only.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use models::weather::{self, Weather, WeatherForecast};
//!
//! let text = "\
//! time,dry_bulb_c,rel_humidity_pct,pressure_kpa,ghi_w_per_m2,dni_w_per_m2,dhi_w_per_m2
//! 2026-07-15T17:00:00Z,33.0,50,100.2,850,700,150
//! 2026-07-15T18:00:00Z,35.0,45,100.1,880,720,160
//! ";
//! let forecast = WeatherForecast::from_str("forecast.csv", text)?;
//! assert_eq!(forecast.records()[1].pressure_pa, 100_100.0);
//! let weather = Weather::embedded(weather::DULLES_TMY3)?.with_forecast(forecast);
//! // Inside the forecast's span: halfway between its rows.
//! let s = weather.sample(Utc.with_ymd_and_hms(2026, 7, 15, 17, 30, 0).unwrap());
//! assert!((s.dry_bulb_c - 34.0).abs() < 1e-12);
//! assert!(s.wet_bulb_c < s.dry_bulb_c);
//! // Outside it: the typical year.
//! let t = Utc.with_ymd_and_hms(2026, 7, 16, 17, 0, 0).unwrap();
//! assert_eq!(weather.sample(t), Weather::embedded(weather::DULLES_TMY3)?.sample(t));
//! // Bad input names the file, the line and the column.
//! let bad = text.replace("35.0", "hot");
//! let err = WeatherForecast::from_str("forecast.csv", &bad).unwrap_err().to_string();
//! assert_eq!(err, "forecast.csv, line 3: `dry_bulb_c` (column 2): not a number: \"hot\"");
//! # Ok::<(), models::Error>(())
//! ```

use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::psychro;
use super::series::{WeatherSample, lerp};
use crate::{Error, Result};

/// How far the dew point may exceed the dry bulb before a row counts as inconsistent, K
/// (as the EPW reader).
const DEW_POINT_EXCESS_TOLERANCE_K: f64 = 1.0;

/// Seconds between rows.
const ROW_SPACING_S: i64 = 3600;

/// One hour of a forecast, with the humidity quantities computed from it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ForecastRecord {
    /// The instant of the point values, and the end of the hour the irradiances average.
    pub time: DateTime<Utc>,
    /// Dry-bulb air temperature at `time`, °C.
    pub dry_bulb_c: f64,
    /// Dew-point temperature at `time`, °C: as written, or computed from the relative
    /// humidity, dry bulb and pressure when the file gives `rel_humidity_pct`.
    pub dew_point_c: f64,
    /// Relative humidity at `time`, fraction: as written (`rel_humidity_pct` / 100), or
    /// computed from the dew point when the file gives `dew_point_c`.
    pub rel_humidity_frac: f64,
    /// Atmospheric pressure at the site at `time`, Pa (a `pressure_kpa` column × 1000).
    pub pressure_pa: f64,
    /// Global horizontal irradiance, mean over the hour ending at `time`, W/m².
    pub ghi_w_per_m2: f64,
    /// Direct normal irradiance, mean over the hour ending at `time`, W/m².
    pub dni_w_per_m2: f64,
    /// Diffuse horizontal irradiance, mean over the hour ending at `time`, W/m².
    pub dhi_w_per_m2: f64,
    /// Wind speed at `time`, m/s; `None` when the file has no wind column.
    pub wind_speed_m_per_s: Option<f64>,
    /// Humidity ratio from the dew point (or relative humidity) and pressure, kg water per
    /// kg dry air.
    pub humidity_ratio_kg_per_kg: f64,
    /// Thermodynamic wet bulb from dry bulb, humidity ratio and pressure, °C.
    pub wet_bulb_c: f64,
}

/// A parsed weather-forecast file: hourly rows, one hour apart (see the [module
/// documentation](self) for the format).
#[derive(Clone, PartialEq)]
pub struct WeatherForecast {
    file: String,
    records: Vec<ForecastRecord>,
}

impl std::fmt::Debug for WeatherForecast {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WeatherForecast")
            .field("file", &self.file)
            .field("start", &table::rfc3339(self.start()))
            .field("end", &table::rfc3339(self.end()))
            .field("records", &self.records.len())
            .finish()
    }
}

impl WeatherForecast {
    /// Reads the forecast file at `path`.
    pub fn read(path: impl AsRef<Path>) -> Result<WeatherForecast> {
        let path = path.as_ref();
        let text = table::read(path)?;
        WeatherForecast::from_str(&path.display().to_string(), &text)
    }

    /// Parses forecast text; `file` names it in error messages.
    pub fn from_str(file: &str, text: &str) -> Result<WeatherForecast> {
        parse(file, text)
    }

    /// The file name used in messages: the path it was read from, or the name given to
    /// [`WeatherForecast::from_str`].
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The rows, one hour apart, in increasing time; never empty.
    pub fn records(&self) -> &[ForecastRecord] {
        &self.records
    }

    /// Time of the first row: the start of the span the forecast covers.
    pub fn start(&self) -> DateTime<Utc> {
        // invariant: the reader rejects a file without rows; the default is never used.
        self.records.first().map(|r| r.time).unwrap_or_default()
    }

    /// Time of the last row: the end of the span the forecast covers (inclusive).
    pub fn end(&self) -> DateTime<Utc> {
        // invariant: the reader rejects a file without rows; the default is never used.
        self.records.last().map(|r| r.time).unwrap_or_default()
    }

    /// True when `t` is within the forecast's span, first to last row inclusive.
    pub fn covers(&self, t: DateTime<Utc>) -> bool {
        self.start() <= t && t <= self.end()
    }

    /// True when the file has a wind-speed column.
    pub fn has_wind(&self) -> bool {
        self.records
            .first()
            .is_some_and(|r| r.wind_speed_m_per_s.is_some())
    }

    /// The weather at `t` if the forecast covers it; `typical_wind_m_per_s` gives the wind
    /// when the file has none. O(1) and allocation-free.
    pub(super) fn sample(
        &self,
        t: DateTime<Utc>,
        typical_wind_m_per_s: impl FnOnce() -> f64,
    ) -> Option<WeatherSample> {
        let first = self.records.first()?;
        if t < first.time || t > self.end() {
            return None;
        }
        let since = t - first.time;
        let (seconds, nanos) = (since.num_seconds(), since.subsec_nanos());
        let records = &self.records;
        // Row i holds point values at start + i h, irradiance means centred on
        // start + (i − 0.5) h.
        let (a, b, f) = bracket(records, seconds, nanos)?;
        let (c, d, g) = bracket(records, seconds + ROW_SPACING_S / 2, nanos)?;
        let wind_speed_m_per_s = match (a.wind_speed_m_per_s, b.wind_speed_m_per_s) {
            (Some(a), Some(b)) => lerp(a, b, f),
            _ => typical_wind_m_per_s(),
        };
        Some(WeatherSample::of_state(
            lerp(a.dry_bulb_c, b.dry_bulb_c, f),
            lerp(a.dew_point_c, b.dew_point_c, f),
            lerp(a.pressure_pa, b.pressure_pa, f),
            lerp(c.ghi_w_per_m2, d.ghi_w_per_m2, g),
            lerp(c.dni_w_per_m2, d.dni_w_per_m2, g),
            lerp(c.dhi_w_per_m2, d.dhi_w_per_m2, g),
            wind_speed_m_per_s,
        ))
    }
}

/// The rows before and after `seconds` (≥ 0) after row 0 and the fraction of the hour
/// between them, in [0, 1); from the last row on, the last row twice. `None` only for no
/// rows.
#[inline]
fn bracket(
    records: &[ForecastRecord],
    seconds: i64,
    nanos: i32,
) -> Option<(&ForecastRecord, &ForecastRecord, f64)> {
    let i = usize::try_from(seconds / ROW_SPACING_S).unwrap_or(usize::MAX);
    match (records.get(i), records.get(i.saturating_add(1))) {
        (Some(a), Some(b)) => {
            let frac = ((seconds % ROW_SPACING_S) as f64 + f64::from(nanos) * 1e-9) / ROW_SPACING_S as f64;
            Some((a, b, frac))
        }
        _ => records.last().map(|last| (last, last, 0.0)),
    }
}

/// What a column gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quantity {
    Time,
    DryBulb,
    DewPoint,
    RelHumidity,
    PressurePa,
    PressureKpa,
    Ghi,
    Dni,
    Dhi,
    WindSpeed,
}

/// The slot a quantity fills: one column per slot (the humidity and pressure slots take
/// either of two columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Time = 0,
    DryBulb,
    Humidity,
    Pressure,
    Ghi,
    Dni,
    Dhi,
    WindSpeed,
}

const SLOTS: usize = 8;

/// A known column: its name, what it gives, and the values accepted.
struct Column {
    name: &'static str,
    quantity: Quantity,
    slot: Slot,
    /// Lowest valid value.
    min: f64,
    /// Highest valid value.
    max: f64,
    /// Unit, for messages.
    unit: &'static str,
}

const fn column(
    name: &'static str,
    quantity: Quantity,
    slot: Slot,
    min: f64,
    max: f64,
    unit: &'static str,
) -> Column {
    Column {
        name,
        quantity,
        slot,
        min,
        max,
        unit,
    }
}

/// The known columns, with the EPW data dictionary's ranges (see [`super::epw`]).
const COLUMNS: [Column; 10] = [
    column("time", Quantity::Time, Slot::Time, 0.0, 0.0, ""),
    column("dry_bulb_c", Quantity::DryBulb, Slot::DryBulb, -70.0, 70.0, "°C"),
    column(
        "dew_point_c",
        Quantity::DewPoint,
        Slot::Humidity,
        -70.0,
        70.0,
        "°C",
    ),
    column(
        "rel_humidity_pct",
        Quantity::RelHumidity,
        Slot::Humidity,
        0.0,
        110.0,
        "%",
    ),
    column(
        "pressure_pa",
        Quantity::PressurePa,
        Slot::Pressure,
        31_000.0,
        120_000.0,
        "Pa",
    ),
    column(
        "pressure_kpa",
        Quantity::PressureKpa,
        Slot::Pressure,
        31.0,
        120.0,
        "kPa",
    ),
    column("ghi_w_per_m2", Quantity::Ghi, Slot::Ghi, 0.0, 1500.0, "W/m²"),
    column("dni_w_per_m2", Quantity::Dni, Slot::Dni, 0.0, 1500.0, "W/m²"),
    column("dhi_w_per_m2", Quantity::Dhi, Slot::Dhi, 0.0, 1500.0, "W/m²"),
    column(
        "wind_speed_m_per_s",
        Quantity::WindSpeed,
        Slot::WindSpeed,
        0.0,
        40.0,
        "m/s",
    ),
];

/// A header for messages.
const EXAMPLE_HEADER: &str =
    "time,dry_bulb_c,dew_point_c,pressure_pa,ghi_w_per_m2,dni_w_per_m2,dhi_w_per_m2,wind_speed_m_per_s";

/// A column of a file's header: its position and what it is.
type At = (usize, &'static Column);

/// The columns of a file's header.
struct Layout {
    time: At,
    dry_bulb: At,
    humidity: At,
    pressure: At,
    ghi: At,
    dni: At,
    dhi: At,
    wind_speed: Option<At>,
    /// Number of columns.
    width: usize,
}

impl Layout {
    fn of_header(file: &str, n: usize, names: &[String]) -> Result<Layout> {
        let mut slots: [Option<At>; SLOTS] = [None; SLOTS];
        for (i, name) in names.iter().enumerate() {
            let Some(col) = COLUMNS.iter().find(|c| c.name == name.as_str()) else {
                let known: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
                return Err(Error::line(
                    file,
                    n,
                    format!(
                        "unknown column {} (column {}); the known columns are {}",
                        table::quote(name),
                        i + 1,
                        known.join(", ")
                    ),
                ));
            };
            if let Some((j, other)) = slots[col.slot as usize] {
                let why = if other.name == col.name {
                    format!(
                        "column `{}` appears twice (columns {} and {})",
                        col.name,
                        j + 1,
                        i + 1
                    )
                } else {
                    format!(
                        "columns `{}` (column {}) and `{}` (column {}) give the same quantity: keep one",
                        other.name,
                        j + 1,
                        col.name,
                        i + 1
                    )
                };
                return Err(Error::line(file, n, why));
            }
            slots[col.slot as usize] = Some((i, col));
        }
        let required = |slot: Slot| -> Result<At> {
            slots[slot as usize].ok_or_else(|| {
                let names: Vec<String> = COLUMNS
                    .iter()
                    .filter(|c| c.slot == slot)
                    .map(|c| format!("`{}`", c.name))
                    .collect();
                Error::line(
                    file,
                    n,
                    format!(
                        "missing column {}; a forecast's header is like `{EXAMPLE_HEADER}`",
                        names.join(" or ")
                    ),
                )
            })
        };
        Ok(Layout {
            time: required(Slot::Time)?,
            dry_bulb: required(Slot::DryBulb)?,
            humidity: required(Slot::Humidity)?,
            pressure: required(Slot::Pressure)?,
            ghi: required(Slot::Ghi)?,
            dni: required(Slot::Dni)?,
            dhi: required(Slot::Dhi)?,
            wind_speed: slots[Slot::WindSpeed as usize],
            width: names.len(),
        })
    }

    /// The record of a data row of `self.width` values.
    fn record(&self, file: &str, n: usize, fields: &[String]) -> Result<ForecastRecord> {
        let field_error = |(i, col): At, reason: String| {
            Error::line(file, n, format!("`{}` (column {}): {reason}", col.name, i + 1))
        };
        let value = |at: At| -> Result<f64> {
            let (i, col) = at;
            let text = fields.get(i).map_or("", String::as_str);
            let v = table::number(text).map_err(|why| field_error(at, why))?;
            if !(col.min..=col.max).contains(&v) {
                return Err(field_error(
                    at,
                    format!(
                        "{v} {unit} is outside the physical range [{}, {}] {unit}",
                        col.min,
                        col.max,
                        unit = col.unit
                    ),
                ));
            }
            Ok(v)
        };
        let time_text = fields.get(self.time.0).map_or("", String::as_str);
        let time = table::time(time_text).map_err(|why| field_error(self.time, why))?;
        let dry_bulb_c = value(self.dry_bulb)?;
        let pressure_pa = match self.pressure.1.quantity {
            Quantity::PressureKpa => value(self.pressure)? * 1000.0,
            _ => value(self.pressure)?,
        };
        let humidity = value(self.humidity)?;
        let (dew_point_c, rel_humidity_frac, humidity_ratio_kg_per_kg) = match self.humidity.1.quantity {
            Quantity::RelHumidity => {
                let rh = humidity / 100.0;
                let w = psychro::humidity_ratio_from_rel_humidity(dry_bulb_c, rh, pressure_pa);
                (psychro::dew_point_c(w, pressure_pa), rh, w)
            }
            _ => {
                if humidity > dry_bulb_c + DEW_POINT_EXCESS_TOLERANCE_K {
                    return Err(field_error(
                        self.humidity,
                        format!(
                            "{humidity} °C is above the dry bulb ({dry_bulb_c} °C) by more than \
                             {DEW_POINT_EXCESS_TOLERANCE_K} K"
                        ),
                    ));
                }
                let w = psychro::humidity_ratio_from_dew_point(humidity, pressure_pa);
                let rh = psychro::rel_humidity_from_humidity_ratio(dry_bulb_c, w, pressure_pa);
                (humidity, rh, w)
            }
        };
        Ok(ForecastRecord {
            time,
            dry_bulb_c,
            dew_point_c,
            rel_humidity_frac,
            pressure_pa,
            ghi_w_per_m2: value(self.ghi)?,
            dni_w_per_m2: value(self.dni)?,
            dhi_w_per_m2: value(self.dhi)?,
            wind_speed_m_per_s: self.wind_speed.map(value).transpose()?,
            humidity_ratio_kg_per_kg,
            wet_bulb_c: psychro::wet_bulb_c(dry_bulb_c, humidity_ratio_kg_per_kg, pressure_pa),
        })
    }
}

fn parse(file: &str, text: &str) -> Result<WeatherForecast> {
    let mut lines = table::lines(text).filter(|(_, line)| !table::is_blank_or_comment(line));
    let Some((header_line, header)) = lines.next() else {
        return Err(Error::line(
            file,
            1,
            format!("no header: expected a line like `{EXAMPLE_HEADER}`"),
        ));
    };
    let names = table::split(file, header_line, header)?;
    let layout = Layout::of_header(file, header_line, &names)?;
    let mut records: Vec<ForecastRecord> = Vec::new();
    let mut previous_line = header_line;
    for (n, line) in lines {
        let fields = table::split(file, n, line)?;
        if fields.len() != layout.width {
            return Err(Error::line(
                file,
                n,
                format!(
                    "{} values, but the header (line {header_line}) names {} columns",
                    fields.len(),
                    layout.width
                ),
            ));
        }
        let record = layout.record(file, n, &fields)?;
        if let Some(previous) = records.last() {
            let expected = previous
                .time
                .checked_add_signed(TimeDelta::seconds(ROW_SPACING_S));
            if expected != Some(record.time) {
                let i = layout.time.0;
                return Err(Error::line(
                    file,
                    n,
                    format!(
                        "`time` (column {}): {} is not one hour after the previous row's {} (line \
                         {previous_line}); rows must be hourly, in increasing time, without gaps or \
                         repeats",
                        i + 1,
                        table::rfc3339(record.time),
                        table::rfc3339(previous.time)
                    ),
                ));
            }
        }
        records.push(record);
        previous_line = n;
    }
    if records.is_empty() {
        return Err(Error::line(
            file,
            header_line + 1,
            "no rows after the header: a forecast needs at least one hour",
        ));
    }
    Ok(WeatherForecast {
        file: file.to_owned(),
        records,
    })
}

/// Line-oriented CSV text, as the price and forecast readers take it: every line numbered,
/// `#` comments and blank lines, values split on commas with optional double quotes.
///
/// The `csv` crate's record positions count comment and leading blank lines unreliably, so
/// these readers split lines themselves (a quoted value cannot span lines).
pub(crate) mod table {
    use std::path::Path;

    use chrono::{DateTime, SecondsFormat, Utc};

    use crate::{Error, Result};

    /// The text of the file at `path`; bytes that are not UTF-8 become U+FFFD (and are then
    /// reported as a bad value on their line).
    pub(crate) fn read(path: &Path) -> Result<String> {
        let bytes = crate::files::read(path)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The lines of `text` with their 1-based numbers, without line terminators (`\n` or
    /// `\r\n`) or a leading byte-order mark.
    pub(crate) fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        text.lines().enumerate().map(|(i, line)| (i + 1, line))
    }

    /// True for a line that holds no data: blank, or a `#` comment.
    pub(crate) fn is_blank_or_comment(line: &str) -> bool {
        let line = line.trim_start();
        line.is_empty() || line.starts_with('#')
    }

    /// The comma-separated values of line `n`, trimmed; a value may be enclosed in double
    /// quotes (`""` inside them is one quote) to hold commas.
    pub(crate) fn split(file: &str, n: usize, line: &str) -> Result<Vec<String>> {
        let mut values = Vec::new();
        let mut rest = line;
        loop {
            let start = rest.trim_start();
            if let Some(quoted) = start.strip_prefix('"') {
                let mut value = String::new();
                let mut chars = quoted.char_indices();
                let after = loop {
                    match chars.next() {
                        None => {
                            return Err(Error::line(
                                file,
                                n,
                                format!(
                                    "column {}: the quoted value does not end on this line",
                                    values.len() + 1
                                ),
                            ));
                        }
                        Some((i, '"')) => {
                            if quoted[i + 1..].starts_with('"') {
                                value.push('"');
                                chars.next();
                            } else {
                                break &quoted[i + 1..];
                            }
                        }
                        Some((_, c)) => value.push(c),
                    }
                };
                values.push(value);
                let after = after.trim_start();
                if after.is_empty() {
                    return Ok(values);
                }
                match after.strip_prefix(',') {
                    Some(next) => rest = next,
                    None => {
                        return Err(Error::line(
                            file,
                            n,
                            format!(
                                "column {}: {} after the closing quote",
                                values.len(),
                                quote(after)
                            ),
                        ));
                    }
                }
            } else {
                match start.split_once(',') {
                    Some((value, next)) => {
                        values.push(value.trim_end().to_owned());
                        rest = next;
                    }
                    None => {
                        values.push(start.trim_end().to_owned());
                        return Ok(values);
                    }
                }
            }
        }
    }

    /// Shortens `text` for quoting in a message.
    pub(crate) fn quote(text: &str) -> String {
        const MAX_CHARS: usize = 40;
        let mut out: String = text.chars().take(MAX_CHARS).collect();
        if text.chars().nth(MAX_CHARS).is_some() {
            out.push('…');
        }
        format!("{out:?}")
    }

    /// A finite number, or why `text` is not one.
    pub(crate) fn number(text: &str) -> std::result::Result<f64, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty".to_owned());
        }
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("not a number: {}", quote(text)))
    }

    /// An RFC 3339 time with an offset, in UTC, or why `text` is not one.
    pub(crate) fn time(text: &str) -> std::result::Result<DateTime<Utc>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty".to_owned());
        }
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                format!(
                    "not an RFC 3339 time with an offset, such as 2026-07-01T00:00:00Z or \
                     2026-07-01 00:00:00-05:00 ({e}): {}",
                    quote(text)
                )
            })
    }

    /// `t` as RFC 3339 in UTC (`2026-07-01T00:00:00Z`), for messages.
    pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
        t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weather::{DULLES_TMY3, Weather};
    use chrono::TimeZone;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn dulles() -> &'static Weather {
        static WEATHER: OnceLock<Weather> = OnceLock::new();
        WEATHER.get_or_init(|| Weather::embedded(DULLES_TMY3).expect("shipped file"))
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("valid date")
    }

    const GOOD: &str = "\
# A comment, then the header.
time,dry_bulb_c,dew_point_c,pressure_pa,ghi_w_per_m2,dni_w_per_m2,dhi_w_per_m2,wind_speed_m_per_s
2026-07-15T12:00:00Z,24.5,20.25,100100,120.5,10,110.5,2.5

2026-07-15T13:00:00Z,26,20.5,100150,400,300,150,3
# trailing comment
2026-07-15T14:00:00Z,28.25,21,100200,650,600,170,3.5
";

    fn error_of(text: &str) -> String {
        match WeatherForecast::from_str("fc.csv", text) {
            Ok(_) => panic!("bad forecast accepted:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    /// `GOOD` with `from` replaced by `to` (once, and it must be there).
    fn edited(from: &str, to: &str) -> String {
        assert!(GOOD.contains(from), "{from:?} not in the file");
        GOOD.replacen(from, to, 1)
    }

    #[test]
    fn a_valid_file_reads_back_exactly() {
        let fc = WeatherForecast::from_str("fc.csv", GOOD).expect("valid");
        assert_eq!(fc.file(), "fc.csv");
        assert_eq!(
            (fc.start(), fc.end()),
            (utc(2026, 7, 15, 12, 0), utc(2026, 7, 15, 14, 0))
        );
        assert!(fc.has_wind());
        let rows: Vec<_> = fc
            .records()
            .iter()
            .map(|r| {
                (
                    r.time,
                    r.dry_bulb_c,
                    r.dew_point_c,
                    r.pressure_pa,
                    r.ghi_w_per_m2,
                    r.dni_w_per_m2,
                    r.dhi_w_per_m2,
                    r.wind_speed_m_per_s,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    utc(2026, 7, 15, 12, 0),
                    24.5,
                    20.25,
                    100_100.0,
                    120.5,
                    10.0,
                    110.5,
                    Some(2.5)
                ),
                (
                    utc(2026, 7, 15, 13, 0),
                    26.0,
                    20.5,
                    100_150.0,
                    400.0,
                    300.0,
                    150.0,
                    Some(3.0)
                ),
                (
                    utc(2026, 7, 15, 14, 0),
                    28.25,
                    21.0,
                    100_200.0,
                    650.0,
                    600.0,
                    170.0,
                    Some(3.5)
                ),
            ]
        );
        // The derived humidity quantities are the psychrometrics of the written state.
        let r = fc.records()[0];
        let w = psychro::humidity_ratio_from_dew_point(20.25, 100_100.0);
        assert_eq!(r.humidity_ratio_kg_per_kg, w);
        assert_eq!(r.wet_bulb_c, psychro::wet_bulb_c(24.5, w, 100_100.0));
        assert_eq!(
            r.rel_humidity_frac,
            psychro::rel_humidity_from_humidity_ratio(24.5, w, 100_100.0)
        );
    }

    #[test]
    fn alternative_columns_in_any_order_read_alike() {
        // Relative humidity and kPa, columns shuffled, quoted values, CRLF, no wind, offsets.
        let rh = |r: &ForecastRecord| 100.0 * r.rel_humidity_frac;
        let good = WeatherForecast::from_str("fc.csv", GOOD).expect("valid");
        let mut text = String::from(
            "\u{feff}dhi_w_per_m2 , time,pressure_kpa,rel_humidity_pct,dry_bulb_c,ghi_w_per_m2,dni_w_per_m2\r\n",
        );
        for r in good.records() {
            text += &format!(
                "{},\"{}\",{},{},{},{},{}\r\n",
                r.dhi_w_per_m2,
                r.time
                    .with_timezone(&chrono::FixedOffset::west_opt(5 * 3600).expect("offset"))
                    .to_rfc3339(),
                r.pressure_pa / 1000.0,
                rh(r),
                r.dry_bulb_c,
                r.ghi_w_per_m2,
                r.dni_w_per_m2
            );
        }
        let fc = WeatherForecast::from_str("rh.csv", &text).expect("valid");
        assert!(!fc.has_wind());
        for (a, b) in fc.records().iter().zip(good.records()) {
            assert_eq!(a.time, b.time);
            assert_eq!(
                (a.dry_bulb_c, a.ghi_w_per_m2, a.dhi_w_per_m2),
                (b.dry_bulb_c, b.ghi_w_per_m2, b.dhi_w_per_m2)
            );
            assert_eq!(a.wind_speed_m_per_s, None);
            assert!((a.pressure_pa - b.pressure_pa).abs() < 1e-6, "{a:?}");
            // The dew point computed from the relative humidity recovers the written one
            // (tolerance: the Newton iteration of the dew point, well under 1 mK).
            assert!((a.dew_point_c - b.dew_point_c).abs() < 1e-3, "{a:?} vs {b:?}");
            assert!((a.wet_bulb_c - b.wet_bulb_c).abs() < 1e-3);
        }
    }

    #[test]
    fn bad_values_name_line_and_column() {
        let cases: [(&str, &str, &str); 9] = [
            (
                "24.5,",
                "warm,",
                "line 3: `dry_bulb_c` (column 2): not a number: \"warm\"",
            ),
            ("26,20.5", "26,", "line 5: `dew_point_c` (column 3): empty"),
            (
                ",650,",
                ",NaN,",
                "line 7: `ghi_w_per_m2` (column 5): not a number: \"NaN\"",
            ),
            (
                "100150",
                "1001.5",
                "line 5: `pressure_pa` (column 4): 1001.5 Pa is outside the physical range [31000, 120000] Pa",
            ),
            (
                ",600,",
                ",-5,",
                "line 7: `dni_w_per_m2` (column 6): -5 W/m² is outside the physical range [0, 1500] W/m²",
            ),
            (
                ",3.5\n",
                ",45\n",
                "line 7: `wind_speed_m_per_s` (column 8): 45 m/s is outside the physical range [0, 40] m/s",
            ),
            (
                "28.25,21,",
                "28.25,31,",
                "line 7: `dew_point_c` (column 3): 31 °C is above the dry bulb (28.25 °C) by more than 1 K",
            ),
            (
                "2026-07-15T13:00:00Z",
                "2026-07-15 13:00",
                "line 5: `time` (column 1): not an RFC 3339 time with an offset",
            ),
            (
                ",170,3.5",
                ",170",
                "line 7: 7 values, but the header (line 2) names 8 columns",
            ),
        ];
        for (from, to, needle) in cases {
            let err = error_of(&edited(from, to));
            assert!(err.starts_with("fc.csv, "), "{err}");
            assert!(err.contains(needle), "{needle:?} not in {err:?}");
        }
        // Relative humidity out of range.
        let text = "time,dry_bulb_c,rel_humidity_pct,pressure_kpa,ghi_w_per_m2,dni_w_per_m2,dhi_w_per_m2\n\
                    2026-07-15T12:00:00Z,20,120,101,0,0,0\n";
        let err = error_of(text);
        assert!(
            err.contains(
                "line 2: `rel_humidity_pct` (column 3): 120 % is outside the physical range [0, 110] %"
            ),
            "{err}"
        );
        let err = error_of(&text.replace(",120,101,", ",50,10.1,"));
        assert!(
            err.contains("`pressure_kpa` (column 4): 10.1 kPa is outside"),
            "{err}"
        );
    }

    #[test]
    fn bad_headers_name_the_column() {
        let header = "time,dry_bulb_c,dew_point_c,pressure_pa,ghi_w_per_m2,dni_w_per_m2,dhi_w_per_m2,wind_speed_m_per_s";
        let cases = [
            (
                header.replace(",pressure_pa", ""),
                "line 2: missing column `pressure_pa` or `pressure_kpa`; a forecast's header is like",
            ),
            (
                header.replace("dew_point_c,", ""),
                "line 2: missing column `dew_point_c` or `rel_humidity_pct`",
            ),
            (
                header.replace("dhi_w_per_m2", "dhi"),
                "line 2: unknown column \"dhi\" (column 7); the known columns are time, dry_bulb_c",
            ),
            (
                header.replace("wind_speed_m_per_s", "wind_speed_kmh"),
                "line 2: unknown column \"wind_speed_kmh\" (column 8)",
            ),
            (
                header.replace("pressure_pa", "rel_humidity_pct"),
                "line 2: columns `dew_point_c` (column 3) and `rel_humidity_pct` (column 4) give the same \
                 quantity: keep one",
            ),
            (
                header.replace("time,", "time,time,"),
                "line 2: column `time` appears twice (columns 1 and 2)",
            ),
        ];
        for (new_header, needle) in cases {
            let err = error_of(&GOOD.replace(header, &new_header));
            assert!(err.starts_with("fc.csv, line 2: "), "{err}");
            assert!(err.contains(needle), "{needle:?} not in {err:?}");
        }
        assert!(error_of("").contains("fc.csv, line 1: no header"));
        assert!(error_of("# only a comment\n\n").contains("line 1: no header"));
        let err = error_of(&format!("{header}\n"));
        assert!(err.contains("line 2: no rows after the header"), "{err}");
        let err = error_of(
            &GOOD
                .replace("\"", "")
                .replace("2026-07-15T12:00:00Z,", "\"2026-07-15T12:00:00Z,"),
        );
        assert!(
            err.contains("line 3: column 1: the quoted value does not end on this line"),
            "{err}"
        );
    }

    #[test]
    fn time_must_advance_by_exactly_one_hour() {
        let cases = [
            (
                "2026-07-15T13:00:00Z",
                "2026-07-15T12:00:00Z",
                "2026-07-15T12:00:00Z is not one hour after",
            ),
            (
                "2026-07-15T13:00:00Z",
                "2026-07-15T11:00:00Z",
                "2026-07-15T11:00:00Z is not one hour after",
            ),
            (
                "2026-07-15T14:00:00Z",
                "2026-07-15T15:00:00Z",
                "line 7: `time` (column 1): 2026-07-15T15:00:00Z",
            ),
            (
                "2026-07-15T13:00:00Z",
                "2026-07-15T13:30:00Z",
                "2026-07-15T13:30:00Z is not one hour",
            ),
        ];
        for (from, to, needle) in cases {
            let err = error_of(&edited(from, to));
            assert!(err.contains(needle), "{needle:?} not in {err:?}");
            assert!(
                err.contains("rows must be hourly, in increasing time, without gaps"),
                "{err}"
            );
        }
        // The same instant written with another offset is the same hour.
        let shifted = edited("2026-07-15T13:00:00Z", "2026-07-15T08:00:00-05:00");
        assert!(WeatherForecast::from_str("fc.csv", &shifted).is_ok());
        let err = error_of(&edited("2026-07-15T13:00:00Z", "2026-07-15T13:00:00-05:00"));
        assert!(err.contains("line 5: `time` (column 1): 2026-07-15T18:00:00Z is not one hour after the previous row's 2026-07-15T12:00:00Z (line 3)"), "{err}");
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = WeatherForecast::read("/nonexistent/forecast.csv")
            .expect_err("missing")
            .to_string();
        assert!(err.starts_with("/nonexistent/forecast.csv: "), "{err}");
    }

    /// Samples inside the span come from the forecast, outside it from the typical year.
    #[test]
    fn samples_inside_the_span_come_from_the_forecast() {
        let typical = dulles();
        let fc = WeatherForecast::from_str("fc.csv", GOOD).expect("valid");
        let weather = typical.clone().with_forecast(fc);
        assert!(
            format!("{weather:?}").contains("forecast: Some(\"fc.csv\")"),
            "{weather:?}"
        );
        assert!(format!("{typical:?}").contains("forecast: None"), "{typical:?}");
        // At a row's time: its point values; its irradiance half an hour before.
        let s = weather.sample(utc(2026, 7, 15, 13, 0));
        assert_eq!(
            (s.dry_bulb_c, s.dew_point_c, s.pressure_pa, s.wind_speed_m_per_s),
            (26.0, 20.5, 100_150.0, 3.0)
        );
        let s = weather.sample(utc(2026, 7, 15, 12, 30));
        assert_eq!(
            (s.ghi_w_per_m2, s.dni_w_per_m2, s.dhi_w_per_m2),
            (400.0, 300.0, 150.0)
        );
        // Between rows: linear, with humidity recomputed from the interpolated state.
        let s = weather.sample(utc(2026, 7, 15, 13, 15));
        assert!((s.dry_bulb_c - (26.0 + 0.25 * 2.25)).abs() < 1e-12, "{s:?}");
        assert!((s.dew_point_c - 20.625).abs() < 1e-12, "{s:?}");
        // Irradiance: 13:15 lies between the midpoints 12:30 (row 2, 400 W/m²) and 13:30
        // (row 3, 650 W/m²), three quarters of the way on.
        assert!((s.ghi_w_per_m2 - (400.0 + 0.75 * 250.0)).abs() < 1e-9, "{s:?}");
        let w = psychro::humidity_ratio_from_dew_point(s.dew_point_c, s.pressure_pa);
        assert_eq!(s.humidity_ratio_kg_per_kg, w);
        assert_eq!(s.wet_bulb_c, psychro::wet_bulb_c(s.dry_bulb_c, w, s.pressure_pa));
        // Span ends: the first row's instant, and the last row's final half hour holding
        // its irradiance.
        assert_eq!(weather.sample(utc(2026, 7, 15, 12, 0)).dry_bulb_c, 24.5);
        let s = weather.sample(utc(2026, 7, 15, 14, 0));
        assert_eq!((s.dry_bulb_c, s.ghi_w_per_m2), (28.25, 650.0));
        assert_eq!(weather.sample(utc(2026, 7, 15, 13, 45)).ghi_w_per_m2, 650.0);
        // Outside the span, a second either side: exactly the typical year.
        for t in [
            utc(2026, 7, 15, 12, 0) - TimeDelta::seconds(1),
            utc(2026, 7, 15, 14, 0) + TimeDelta::seconds(1),
            utc(2027, 7, 15, 13, 0),
        ] {
            assert_eq!(weather.sample(t), typical.sample(t), "{t}");
        }
        // The year of the instant matters for a forecast, unlike for the typical year.
        assert_ne!(weather.sample(utc(2027, 7, 15, 13, 0)).dry_bulb_c, 26.0);
    }

    #[test]
    fn a_forecast_without_wind_takes_the_typical_years() {
        let text = GOOD
            .replace(",wind_speed_m_per_s", "")
            .replace(",2.5\n", "\n")
            .replace(",3\n", "\n")
            .replace(",3.5\n", "\n");
        let fc = WeatherForecast::from_str("nowind.csv", &text).expect("valid");
        assert!(!fc.has_wind());
        let weather = dulles().clone().with_forecast(fc);
        let t = utc(2026, 7, 15, 13, 20);
        let s = weather.sample(t);
        assert_eq!(s.wind_speed_m_per_s, dulles().sample(t).wind_speed_m_per_s);
        assert_ne!(s.dry_bulb_c, dulles().sample(t).dry_bulb_c);
    }

    /// A forecast holding the typical year's hours `first..first + hours` (0-based record
    /// indices of the Dulles file) for `year`, in the dew-point and Pa columns.
    fn typical_year_as_forecast(year: i32, first: usize, hours: usize) -> String {
        let tz_h = dulles().location().time_zone_h;
        let start = utc(year, 1, 1, 0, 0) - TimeDelta::seconds((tz_h * 3600.0) as i64);
        let mut text = String::from(EXAMPLE_HEADER);
        text.push('\n');
        for (k, r) in dulles().epw().records()[first..first + hours].iter().enumerate() {
            // Record i holds point values at (i + 1) h local standard time.
            let time = start + TimeDelta::hours((first + k + 1) as i64);
            text += &format!(
                "{},{},{},{},{},{},{},{}\n",
                table::rfc3339(time),
                r.dry_bulb_c,
                r.dew_point_c,
                r.pressure_pa,
                r.ghi_w_per_m2,
                r.dni_w_per_m2,
                r.dhi_w_per_m2,
                r.wind_speed_m_per_s
            );
        }
        text
    }

    #[test]
    fn the_example_file_reads_and_is_the_dulles_typical_year() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/weather-forecast.csv");
        let fc = WeatherForecast::read(&path).expect("the example reads");
        assert_eq!(fc.records().len(), 48);
        assert!(fc.has_wind());
        // Local (UTC−5) midnight of July 15 to 23:00 of July 16.
        assert_eq!(
            (fc.start(), fc.end()),
            (utc(2026, 7, 15, 5, 0), utc(2026, 7, 17, 4, 0))
        );
        let weather = dulles().clone().with_forecast(fc.clone());
        // Its rows are the Dulles TMY3 hours of those instants: at a row's time, the
        // forecast samples as the typical year (tolerance: rounding of the two paths).
        for r in fc.records() {
            let (a, b) = (weather.sample(r.time), dulles().sample(r.time));
            assert!(
                (a.dry_bulb_c - b.dry_bulb_c).abs() < 1e-9,
                "{}: {a:?} vs {b:?}",
                r.time
            );
            assert!((a.wet_bulb_c - b.wet_bulb_c).abs() < 1e-9, "{}", r.time);
        }
        // A hot, humid July in Ashburn: afternoon highs near 30 °C, wet bulbs in the 20s.
        let max_dry_bulb_c = fc.records().iter().map(|r| r.dry_bulb_c).fold(f64::MIN, f64::max);
        let max_wet_bulb_c = fc.records().iter().map(|r| r.wet_bulb_c).fold(f64::MIN, f64::max);
        assert!((27.0..38.0).contains(&max_dry_bulb_c), "{max_dry_bulb_c}");
        assert!((18.0..28.0).contains(&max_wet_bulb_c), "{max_wet_bulb_c}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// A forecast that equals the typical year at its hours samples as the typical year
        /// anywhere in its span (irradiance up to the last row's final half hour, where the
        /// forecast holds while the typical year interpolates on).
        #[test]
        fn a_forecast_of_the_typical_year_samples_as_the_typical_year(
            first in 0usize..8700, hours in 2usize..48, at in 0.0f64..1.0,
            // Not leap years: there February 29 shifts the typical year, not the forecast.
            year in prop::sample::select(vec![2023, 2025, 2026, 2027]),
        ) {
            let text = typical_year_as_forecast(year, first, hours);
            let fc = WeatherForecast::from_str("tmy.csv", &text).expect("valid");
            let span_ms = (fc.end() - fc.start()).num_milliseconds();
            let t = fc.start() + TimeDelta::milliseconds((span_ms as f64 * at) as i64);
            let weather = dulles().clone().with_forecast(fc.clone());
            let (a, b) = (weather.sample(t), dulles().sample(t));
            let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * (1.0 + y.abs());
            prop_assert!(close(a.dry_bulb_c, b.dry_bulb_c), "{a:?} vs {b:?}");
            prop_assert!(close(a.dew_point_c, b.dew_point_c), "{a:?} vs {b:?}");
            prop_assert!(close(a.pressure_pa, b.pressure_pa));
            prop_assert!(close(a.wind_speed_m_per_s, b.wind_speed_m_per_s));
            prop_assert!(close(a.humidity_ratio_kg_per_kg, b.humidity_ratio_kg_per_kg));
            prop_assert!(close(a.wet_bulb_c, b.wet_bulb_c), "{a:?} vs {b:?}");
            prop_assert!(close(a.rel_humidity_frac, b.rel_humidity_frac));
            if t <= fc.end() - TimeDelta::minutes(30) {
                prop_assert!(close(a.ghi_w_per_m2, b.ghi_w_per_m2), "{a:?} vs {b:?}");
                prop_assert!(close(a.dni_w_per_m2, b.dni_w_per_m2));
                prop_assert!(close(a.dhi_w_per_m2, b.dhi_w_per_m2));
            }
        }

        /// Garbage never panics the reader.
        #[test]
        fn garbage_is_an_error_not_a_panic(text in "\\PC{0,300}") {
            let _ = WeatherForecast::from_str("junk.csv", &text);
            let _ = WeatherForecast::from_str("junk.csv", &format!("{EXAMPLE_HEADER}\n{text}"));
        }
    }
}
