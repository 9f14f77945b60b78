//! Reader of EnergyPlus weather files (EPW), plain or gzipped.
//!
//! The format is described in the EnergyPlus "Auxiliary Programs" manual, section
//! "Weather Converter Program / EnergyPlus Weather File (EPW) Data Dictionary": eight
//! header lines (`LOCATION`, `DESIGN CONDITIONS`, `TYPICAL/EXTREME PERIODS`,
//! `GROUND TEMPERATURES`, `HOLIDAYS/DAYLIGHT SAVINGS`, `COMMENTS 1`, `COMMENTS 2`,
//! `DATA PERIODS`), then one comma-separated record per hour. This reader takes what the
//! twin needs: the site from `LOCATION`, and from each hourly record the dry bulb, dew
//! point, relative humidity, station pressure, the three irradiances and the wind speed.
//! Humidity ratio and thermodynamic wet bulb are computed for every hour at read time
//! (from dew point and station pressure, as EnergyPlus does), with [`super::psychro`].
//!
//! Only typical-year hourly files are accepted: one data period, one record per hour,
//! exactly [`HOURS_PER_YEAR`] records from January 1 hour 1 to December 31 hour 24 in
//! order (leap-year and sub-hourly files are rejected with a clear error). The `Year`
//! column is ignored: a TMY file splices months from different years.
//!
//! Every error names the file, the line and the EPW column, and says why: a truncated
//! file, a non-numeric value, an EPW missing-value code (`99.9` for temperatures,
//! `999999` for pressure, ...) in a column we use, a value outside the range the EPW data
//! dictionary allows, hours out of order, a wrong record count or a bad header. No input
//! makes the reader panic.

use std::borrow::Cow;
use std::path::Path;

use serde::Serialize;

use super::psychro;
use crate::{Error, Result};

/// Records in a typical (non-leap) year of hourly data.
pub const HOURS_PER_YEAR: usize = 8760;

/// Days in each month of a non-leap year.
pub(crate) const DAYS_PER_MONTH: [u32; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// The site of a weather file, from its `LOCATION` header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Location {
    /// City (EPW `City`), as written in the file.
    pub city: String,
    /// State, province or region (EPW `State Province Region`).
    pub state_province: String,
    /// Country (EPW `Country`).
    pub country: String,
    /// Origin of the data (EPW `Source`), e.g. `TMY3`.
    pub data_source: String,
    /// WMO station number (EPW `WMO`), as text.
    pub wmo_station: String,
    /// Latitude, degrees, north positive (−90 to 90).
    pub latitude_deg: f64,
    /// Longitude, degrees, east positive (−180 to 180).
    pub longitude_deg: f64,
    /// Offset of local standard time from UTC, hours, east positive (−12 to 14). The
    /// hourly records are in local standard time (never daylight-saving time).
    pub time_zone_h: f64,
    /// Elevation of the station above sea level, m (−1000 to 9999.9).
    pub elevation_m: f64,
}

/// One hourly record of an EPW file, with the psychrometric quantities computed from it.
///
/// Point quantities (temperatures, humidity, pressure, wind) are values at the hour mark
/// the record names: hour `h` is `h:00` local standard time, so hour 24 of a day is
/// midnight at its end. Irradiances are averages over the hour ending at that mark.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HourRecord {
    /// Month, 1–12.
    pub month: u32,
    /// Day of the month, 1–31.
    pub day: u32,
    /// Hour, 1–24: the record stands for the hour ending at `hour:00` local standard time.
    pub hour: u32,
    /// Dry-bulb air temperature, °C.
    pub dry_bulb_c: f64,
    /// Dew-point temperature, °C.
    pub dew_point_c: f64,
    /// Relative humidity as written in the file, fraction (0–1.1). TMY files splice
    /// months from different years, so at a few month boundaries this column disagrees
    /// with the dew point by tens of percent; the twin uses the dew point (through
    /// [`humidity_ratio_kg_per_kg`](Self::humidity_ratio_kg_per_kg)), never this column.
    pub rel_humidity_frac: f64,
    /// Atmospheric pressure at the station, Pa.
    pub pressure_pa: f64,
    /// Global horizontal irradiance, average over the hour, W/m².
    pub ghi_w_per_m2: f64,
    /// Direct normal irradiance, average over the hour, W/m².
    pub dni_w_per_m2: f64,
    /// Diffuse horizontal irradiance, average over the hour, W/m².
    pub dhi_w_per_m2: f64,
    /// Wind speed, m/s.
    pub wind_speed_m_per_s: f64,
    /// Humidity ratio from dew point and station pressure, kg water per kg dry air.
    pub humidity_ratio_kg_per_kg: f64,
    /// Thermodynamic wet bulb from dry bulb, humidity ratio and station pressure, °C.
    pub wet_bulb_c: f64,
}

/// A parsed EPW file: its site and its 8760 hourly records.
#[derive(Clone, PartialEq)]
pub struct Epw {
    file: String,
    location: Location,
    records: Vec<HourRecord>,
}

impl std::fmt::Debug for Epw {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Epw")
            .field("file", &self.file)
            .field("location", &self.location)
            .field("records", &self.records.len())
            .finish()
    }
}

impl Epw {
    /// Reads the EPW file at `path`, gzipped (detected by its magic bytes, whatever its
    /// name) or plain.
    pub fn read(path: impl AsRef<Path>) -> Result<Epw> {
        let path = path.as_ref();
        let bytes = crate::files::read(path)?;
        Epw::from_bytes(&path.display().to_string(), &bytes)
    }

    /// Parses EPW content, gzipped or plain; `file` names it in error messages.
    pub fn from_bytes(file: &str, bytes: &[u8]) -> Result<Epw> {
        let text = if crate::files::is_gzip(bytes) {
            Cow::Owned(crate::files::gunzip(file, bytes)?)
        } else {
            Cow::Borrowed(bytes)
        };
        parse(file, &text)
    }

    /// The file name used in messages: the path it was read from, or the name given to
    /// [`Epw::from_bytes`].
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The site, from the `LOCATION` header.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The hourly records: exactly [`HOURS_PER_YEAR`], from January 1 hour 1 to
    /// December 31 hour 24, in order.
    pub fn records(&self) -> &[HourRecord] {
        &self.records
    }
}

/// A numeric column of the hourly records that the twin uses (its name is in
/// [`RECORD_COLUMNS`]).
struct Column {
    /// 0-based position in the record.
    index: usize,
    /// The EPW missing-value code: values at or above it mean "missing".
    missing: f64,
    /// Lowest valid value.
    min: f64,
    /// Highest valid value.
    max: f64,
    /// Unit, for messages.
    unit: &'static str,
}

// Missing codes and valid ranges from the EPW data dictionary (EnergyPlus Auxiliary
// Programs manual). The dictionary gives no upper limit for irradiance: 1500 W/m² is
// above the solar constant (1361 W/m²) with margin for cloud enhancement.
const DRY_BULB: Column = Column {
    index: 6,
    missing: 99.9,
    min: -70.0,
    max: 70.0,
    unit: "°C",
};
const DEW_POINT: Column = Column {
    index: 7,
    missing: 99.9,
    min: -70.0,
    max: 70.0,
    unit: "°C",
};
const REL_HUMIDITY: Column = Column {
    index: 8,
    missing: 999.0,
    min: 0.0,
    max: 110.0,
    unit: "%",
};
const PRESSURE: Column = Column {
    index: 9,
    missing: 999_999.0,
    min: 31_000.0,
    max: 120_000.0,
    unit: "Pa",
};
const GHI: Column = Column {
    index: 13,
    missing: 9999.0,
    min: 0.0,
    max: 1500.0,
    unit: "Wh/m²",
};
const DNI: Column = Column {
    index: 14,
    missing: 9999.0,
    min: 0.0,
    max: 1500.0,
    unit: "Wh/m²",
};
const DHI: Column = Column {
    index: 15,
    missing: 9999.0,
    min: 0.0,
    max: 1500.0,
    unit: "Wh/m²",
};
const WIND_SPEED: Column = Column {
    index: 21,
    missing: 999.0,
    min: 0.0,
    max: 40.0,
    unit: "m/s",
};

/// Names of the first columns of an hourly record, up to the last one we read.
const RECORD_COLUMNS: [&str; 22] = [
    "Year",
    "Month",
    "Day",
    "Hour",
    "Minute",
    "Data Source and Uncertainty Flags",
    "Dry Bulb Temperature",
    "Dew Point Temperature",
    "Relative Humidity",
    "Atmospheric Station Pressure",
    "Extraterrestrial Horizontal Radiation",
    "Extraterrestrial Direct Normal Radiation",
    "Horizontal Infrared Radiation Intensity",
    "Global Horizontal Radiation",
    "Direct Normal Radiation",
    "Diffuse Horizontal Radiation",
    "Global Horizontal Illuminance",
    "Direct Normal Illuminance",
    "Diffuse Horizontal Illuminance",
    "Zenith Luminance",
    "Wind Direction",
    "Wind Speed",
];

/// How far the dew point may exceed the dry bulb (rounding in the source data) before the
/// record counts as inconsistent, K.
const DEW_POINT_EXCESS_TOLERANCE_K: f64 = 1.0;

/// Shortens `text` for quoting in a message.
fn quote(text: &str) -> String {
    const MAX_CHARS: usize = 40;
    let mut out: String = text.chars().take(MAX_CHARS).collect();
    if text.chars().nth(MAX_CHARS).is_some() {
        out.push('…');
    }
    format!("{out:?}")
}

/// Parses a number, rejecting NaN and infinities as well as non-numbers.
fn number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The lines of `bytes` with their 1-based numbers, without line terminators (`\n` or
/// `\r\n`), decoded leniently (header text in old files is sometimes Latin-1).
fn lines(bytes: &[u8]) -> impl Iterator<Item = (usize, Cow<'_, str>)> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    // An empty input has no lines at all (splitting it would give one empty line).
    let count = if bytes.is_empty() { 0 } else { usize::MAX };
    body.split(|&b| b == b'\n')
        .take(count)
        .enumerate()
        .map(|(i, line)| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            (i + 1, String::from_utf8_lossy(line))
        })
}

fn parse(file: &str, bytes: &[u8]) -> Result<Epw> {
    let mut lines = lines(bytes);
    let location = match lines.next() {
        Some((n, line)) => parse_location(file, n, &line)?,
        None => {
            return Err(Error::line(file, 1, "empty file: expected the LOCATION header"));
        }
    };
    // Header lines up to DATA PERIODS.
    let mut last_line = 1;
    loop {
        let Some((n, line)) = lines.next() else {
            return Err(Error::line(
                file,
                last_line + 1,
                "file ends in the header: expected a DATA PERIODS line before the hourly records",
            ));
        };
        last_line = n;
        let keyword = line.split(',').next().unwrap_or("").trim();
        if keyword.eq_ignore_ascii_case("DATA PERIODS") {
            check_data_periods(file, n, &line)?;
            break;
        }
        if keyword.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(Error::line(
                file,
                n,
                "hourly record before the DATA PERIODS header line",
            ));
        }
    }

    let mut records = Vec::with_capacity(HOURS_PER_YEAR);
    let mut blank_line = None;
    for (n, line) in lines {
        last_line = n;
        if line.trim().is_empty() {
            blank_line.get_or_insert(n);
            continue;
        }
        if let Some(blank) = blank_line {
            return Err(Error::line(file, blank, "blank line among the hourly records"));
        }
        if records.len() == HOURS_PER_YEAR {
            return Err(Error::line(
                file,
                n,
                format!(
                    "more than {HOURS_PER_YEAR} hourly records: a typical-year EPW file holds \
                     exactly {HOURS_PER_YEAR} (leap-year and sub-hourly files are not supported)"
                ),
            ));
        }
        // The columns we read are the first 22; the rest of the record is not split.
        let mut fields = [""; RECORD_COLUMNS.len()];
        let mut count = 0;
        for (slot, field) in fields.iter_mut().zip(line.split(',')) {
            *slot = field;
            count += 1;
        }
        let record = parse_record(file, n, &fields[..count], records.len())?;
        records.push(record);
    }
    if records.len() < HOURS_PER_YEAR {
        let (month, day, hour) = expected_time(records.len());
        return Err(Error::line(
            file,
            blank_line.unwrap_or(last_line + 1),
            format!(
                "file ends after {} of {HOURS_PER_YEAR} hourly records: expected the record \
                 of {month}/{day} hour {hour} here (truncated file?)",
                records.len()
            ),
        ));
    }
    Ok(Epw {
        file: file.to_owned(),
        location,
        records,
    })
}

fn parse_location(file: &str, n: usize, line: &str) -> Result<Location> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    if !fields.first().is_some_and(|k| k.eq_ignore_ascii_case("LOCATION")) {
        return Err(Error::line(
            file,
            n,
            format!(
                "expected the EPW LOCATION header, found {} (is this an EPW file?)",
                quote(line)
            ),
        ));
    }
    const NAMES: [&str; 10] = [
        "LOCATION",
        "City",
        "State Province Region",
        "Country",
        "Source",
        "WMO",
        "Latitude",
        "Longitude",
        "TimeZone",
        "Elevation",
    ];
    if fields.len() < NAMES.len() {
        return Err(Error::line(
            file,
            n,
            format!(
                "LOCATION: missing field `{}` (the header has {} fields, expected {})",
                NAMES[fields.len()],
                fields.len(),
                NAMES.len()
            ),
        ));
    }
    let numeric = |i: usize, min: f64, max: f64, unit: &str| -> Result<f64> {
        let value = number(fields[i]).ok_or_else(|| {
            Error::line(
                file,
                n,
                format!("LOCATION `{}`: not a number: {}", NAMES[i], quote(fields[i])),
            )
        })?;
        if !(min..=max).contains(&value) {
            return Err(Error::line(
                file,
                n,
                format!(
                    "LOCATION `{}`: {value} {unit} is outside [{min}, {max}] {unit}",
                    NAMES[i]
                ),
            ));
        }
        Ok(value)
    };
    Ok(Location {
        city: fields[1].to_owned(),
        state_province: fields[2].to_owned(),
        country: fields[3].to_owned(),
        data_source: fields[4].to_owned(),
        wmo_station: fields[5].to_owned(),
        latitude_deg: numeric(6, -90.0, 90.0, "°")?,
        longitude_deg: numeric(7, -180.0, 180.0, "°")?,
        time_zone_h: numeric(8, -12.0, 14.0, "h")?,
        elevation_m: numeric(9, -1000.0, 9999.9, "m")?,
    })
}

fn check_data_periods(file: &str, n: usize, line: &str) -> Result<()> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    let count = |i: usize, name: &str| -> Result<u32> {
        let text = fields.get(i).copied().unwrap_or("");
        text.parse::<u32>().map_err(|_| {
            Error::line(
                file,
                n,
                format!("DATA PERIODS `{name}`: not a whole number: {}", quote(text)),
            )
        })
    };
    let periods = count(1, "Number of Data Periods")?;
    if periods != 1 {
        return Err(Error::line(
            file,
            n,
            format!(
                "DATA PERIODS `Number of Data Periods`: {periods}; only files with one data \
                 period (a whole year) are supported"
            ),
        ));
    }
    let per_hour = count(2, "Number of Records per Hour")?;
    if per_hour != 1 {
        return Err(Error::line(
            file,
            n,
            format!(
                "DATA PERIODS `Number of Records per Hour`: {per_hour}; only hourly files (1 \
                 record per hour) are supported"
            ),
        ));
    }
    Ok(())
}

/// Month, day and hour of record `index` (0-based) of a typical year.
pub(crate) fn expected_time(index: usize) -> (u32, u32, u32) {
    let hour = (index % 24) as u32 + 1;
    let mut day0 = (index / 24) as u32;
    for (m, days) in DAYS_PER_MONTH.iter().enumerate() {
        if day0 < *days {
            return (m as u32 + 1, day0 + 1, hour);
        }
        day0 -= days;
    }
    // Only reached for index >= 8760; the parser never asks for it.
    (12, 31, hour)
}

fn parse_record(file: &str, n: usize, fields: &[&str], index: usize) -> Result<HourRecord> {
    if fields.len() < RECORD_COLUMNS.len() {
        return Err(Error::line(
            file,
            n,
            format!(
                "missing field `{}` (column {}): the record has {} fields, an EPW record 35 \
                 (truncated line?)",
                RECORD_COLUMNS[fields.len()],
                fields.len() + 1,
                fields.len()
            ),
        ));
    }
    let field_error = |column: usize, reason: String| {
        Error::line(
            file,
            n,
            format!("`{}` (column {}): {reason}", RECORD_COLUMNS[column], column + 1),
        )
    };
    let whole = |column: usize| -> Result<u32> {
        fields[column]
            .trim()
            .parse::<u32>()
            .map_err(|_| field_error(column, format!("not a whole number: {}", quote(fields[column]))))
    };
    let (month, day, hour) = (whole(1)?, whole(2)?, whole(3)?);
    let expected = expected_time(index);
    if (month, day, hour) != expected {
        let column = if month != expected.0 {
            1
        } else if day != expected.1 {
            2
        } else {
            3
        };
        let after = if index == 0 {
            "as the first record".to_owned()
        } else {
            let (m, d, h) = expected_time(index - 1);
            format!("after {m}/{d} hour {h}")
        };
        return Err(field_error(
            column,
            format!(
                "expected {}/{} hour {} {after}, found {month}/{day} hour {hour} (records out \
                 of order, missing or duplicated)",
                expected.0, expected.1, expected.2
            ),
        ));
    }
    let value = |c: &Column| -> Result<f64> {
        let text = fields[c.index];
        if text.trim().is_empty() {
            return Err(field_error(c.index, "empty".to_owned()));
        }
        let v = number(text).ok_or_else(|| field_error(c.index, format!("not a number: {}", quote(text))))?;
        if v >= c.missing {
            return Err(field_error(
                c.index,
                format!(
                    "missing value ({v}, the EPW missing-value code is {}); this column is \
                     required",
                    c.missing
                ),
            ));
        }
        if !(c.min..=c.max).contains(&v) {
            return Err(field_error(
                c.index,
                format!(
                    "{v} {unit} is outside the physical range [{}, {}] {unit}",
                    c.min,
                    c.max,
                    unit = c.unit
                ),
            ));
        }
        Ok(v)
    };
    let dry_bulb_c = value(&DRY_BULB)?;
    let dew_point_c = value(&DEW_POINT)?;
    let rel_humidity_pct = value(&REL_HUMIDITY)?;
    let pressure_pa = value(&PRESSURE)?;
    let ghi = value(&GHI)?;
    let dni = value(&DNI)?;
    let dhi = value(&DHI)?;
    let wind_speed_m_per_s = value(&WIND_SPEED)?;
    if dew_point_c > dry_bulb_c + DEW_POINT_EXCESS_TOLERANCE_K {
        return Err(field_error(
            DEW_POINT.index,
            format!(
                "{dew_point_c} °C is above the dry bulb ({dry_bulb_c} °C) by more than \
                 {DEW_POINT_EXCESS_TOLERANCE_K} K"
            ),
        ));
    }
    let humidity_ratio_kg_per_kg = psychro::humidity_ratio_from_dew_point(dew_point_c, pressure_pa);
    let wet_bulb_c = psychro::wet_bulb_c(dry_bulb_c, humidity_ratio_kg_per_kg, pressure_pa);
    Ok(HourRecord {
        month,
        day,
        hour,
        dry_bulb_c,
        dew_point_c,
        rel_humidity_frac: rel_humidity_pct / 100.0,
        pressure_pa,
        // Wh/m² over one hour is the hour's average in W/m².
        ghi_w_per_m2: ghi,
        dni_w_per_m2: dni,
        dhi_w_per_m2: dhi,
        wind_speed_m_per_s,
        humidity_ratio_kg_per_kg,
        wet_bulb_c,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weather::{DULLES_TMY3, GOLDEN_TMY3, embedded};
    use proptest::prelude::*;

    /// Line number of hourly record `index` (0-based) in the shipped files, which have
    /// the standard eight header lines.
    fn line_of(index: usize) -> usize {
        9 + index
    }

    /// The decompressed text of a shipped file.
    fn plain(name: &str) -> String {
        let bytes = embedded(name).expect("shipped file");
        String::from_utf8(crate::files::gunzip(name, bytes).expect("valid gzip")).expect("ASCII file")
    }

    /// `text` with line `n` (1-based) replaced by `edit(line)`.
    fn edit_line(text: &str, n: usize, edit: impl FnOnce(&str) -> String) -> String {
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines[n - 1] = edit(&lines[n - 1]);
        lines.join("\n") + "\n"
    }

    /// `line` with its comma-separated field `column` (0-based) set to `value`.
    fn set_field(line: &str, column: usize, value: &str) -> String {
        let mut fields: Vec<&str> = line.split(',').collect();
        fields[column] = value;
        fields.join(",")
    }

    /// The error message of parsing `text` as `bad.epw`.
    fn error_of(text: &str) -> String {
        match Epw::from_bytes("bad.epw", text.as_bytes()) {
            Ok(_) => panic!("malformed file accepted"),
            Err(e) => e.to_string(),
        }
    }

    fn assert_error(text: &str, line: usize, needles: &[&str]) {
        let err = error_of(text);
        let prefix = format!("bad.epw, line {line}: ");
        assert!(err.starts_with(&prefix), "expected {prefix:?}…, got {err:?}");
        for needle in needles {
            assert!(err.contains(needle), "{needle:?} not in {err:?}");
        }
    }

    #[test]
    fn reads_the_shipped_dulles_file() {
        let epw = Epw::from_bytes(DULLES_TMY3, embedded(DULLES_TMY3).expect("shipped")).expect("valid file");
        let loc = epw.location();
        assert_eq!(loc.state_province, "VA");
        assert_eq!(loc.country, "USA");
        assert_eq!(loc.data_source, "TMY3");
        assert_eq!(loc.wmo_station, "724030");
        assert_eq!((loc.latitude_deg, loc.longitude_deg), (38.98, -77.47));
        assert_eq!((loc.time_zone_h, loc.elevation_m), (-5.0, 82.0));
        let records = epw.records();
        assert_eq!(records.len(), HOURS_PER_YEAR);
        assert_eq!((records[0].month, records[0].day, records[0].hour), (1, 1, 1));
        let last = records[HOURS_PER_YEAR - 1];
        assert_eq!((last.month, last.day, last.hour), (12, 31, 24));
        // First record, as written: 0.0 °C dry bulb, −5.0 °C dew point, 66 %, 101 700 Pa.
        let r = records[0];
        assert_eq!(
            (r.dry_bulb_c, r.dew_point_c, r.rel_humidity_frac),
            (0.0, -5.0, 0.66)
        );
        assert_eq!(r.pressure_pa, 101_700.0);
        assert_eq!(r.wind_speed_m_per_s, 5.2);

        // Climate facts of a humid-subtropical/continental site near Washington, DC:
        // annual mean about 12–13 °C (NOAA normals for IAD: 12.6 °C), summer peaks in the
        // mid-30s, winter lows of −10 to −20 °C, humid summers (wet bulb in the mid-20s).
        let stats = Stats::of(records);
        assert!((11.0..14.5).contains(&stats.mean_dry_bulb_c), "{stats:?}");
        assert!((33.0..40.0).contains(&stats.max_dry_bulb_c), "{stats:?}");
        assert!((-22.0..-8.0).contains(&stats.min_dry_bulb_c), "{stats:?}");
        assert!((23.0..28.0).contains(&stats.max_wet_bulb_c), "{stats:?}");
        // Station pressure matches the standard atmosphere at 82 m within weather swings.
        let std_pa = psychro::pressure_from_elevation_pa(loc.elevation_m);
        assert!((stats.mean_pressure_pa / std_pa - 1.0).abs() < 0.01, "{stats:?}");
        // Annual GHI at Dulles is about 4.3 kWh/m²/day (NREL NSRDB): 1400–1750 kWh/m²/yr.
        assert!(
            (1400.0..1750.0).contains(&stats.annual_ghi_kwh_per_m2),
            "{stats:?}"
        );
    }

    #[test]
    fn reads_the_shipped_golden_file() {
        let epw = Epw::from_bytes(GOLDEN_TMY3, embedded(GOLDEN_TMY3).expect("shipped")).expect("valid file");
        let loc = epw.location();
        assert_eq!(
            (loc.state_province.as_str(), loc.wmo_station.as_str()),
            ("CO", "724666")
        );
        assert_eq!((loc.latitude_deg, loc.longitude_deg), (39.74, -105.18));
        assert_eq!((loc.time_zone_h, loc.elevation_m), (-7.0, 1829.0));
        assert_eq!(epw.records().len(), HOURS_PER_YEAR);
        // A semi-arid site at 1.8 km: cooler on average, much drier (low wet bulbs: the
        // reason evaporative cooling works so well at NREL's ESIF), thinner air, sunnier.
        let stats = Stats::of(epw.records());
        assert!((8.0..12.0).contains(&stats.mean_dry_bulb_c), "{stats:?}");
        assert!((16.0..21.0).contains(&stats.max_wet_bulb_c), "{stats:?}");
        let std_pa = psychro::pressure_from_elevation_pa(loc.elevation_m);
        assert!((stats.mean_pressure_pa / std_pa - 1.0).abs() < 0.02, "{stats:?}");
        assert!(
            (1600.0..2000.0).contains(&stats.annual_ghi_kwh_per_m2),
            "{stats:?}"
        );
    }

    /// The humidity ratio and wet bulb of every hour are consistent with the file's own
    /// relative-humidity column, apart from the few hours where TMY splices months.
    #[test]
    fn computed_humidity_agrees_with_the_files_relative_humidity() {
        for name in [DULLES_TMY3, GOLDEN_TMY3] {
            let epw = Epw::from_bytes(name, embedded(name).expect("shipped")).expect("valid");
            let mut far = 0;
            for r in epw.records() {
                let rh = psychro::rel_humidity_from_humidity_ratio(
                    r.dry_bulb_c,
                    r.humidity_ratio_kg_per_kg,
                    r.pressure_pa,
                );
                if (rh - r.rel_humidity_frac).abs() > 0.05 {
                    far += 1;
                }
                assert!(r.dew_point_c <= r.wet_bulb_c + 1e-6 && r.wet_bulb_c <= r.dry_bulb_c);
            }
            assert!(far < 200, "{name}: {far} hours off by more than 5 % RH");
        }
    }

    #[derive(Debug)]
    struct Stats {
        mean_dry_bulb_c: f64,
        max_dry_bulb_c: f64,
        min_dry_bulb_c: f64,
        max_wet_bulb_c: f64,
        mean_pressure_pa: f64,
        annual_ghi_kwh_per_m2: f64,
    }

    impl Stats {
        fn of(records: &[HourRecord]) -> Stats {
            let n = records.len() as f64;
            Stats {
                mean_dry_bulb_c: records.iter().map(|r| r.dry_bulb_c).sum::<f64>() / n,
                max_dry_bulb_c: records.iter().map(|r| r.dry_bulb_c).fold(f64::MIN, f64::max),
                min_dry_bulb_c: records.iter().map(|r| r.dry_bulb_c).fold(f64::MAX, f64::min),
                max_wet_bulb_c: records.iter().map(|r| r.wet_bulb_c).fold(f64::MIN, f64::max),
                mean_pressure_pa: records.iter().map(|r| r.pressure_pa).sum::<f64>() / n,
                annual_ghi_kwh_per_m2: records.iter().map(|r| r.ghi_w_per_m2).sum::<f64>() / 1000.0,
            }
        }
    }

    #[test]
    fn plain_text_and_crlf_read_like_the_gzipped_file() {
        let gz = Epw::from_bytes(DULLES_TMY3, embedded(DULLES_TMY3).expect("shipped")).expect("gz");
        let text = plain(DULLES_TMY3);
        let from_plain = Epw::from_bytes("plain.epw", text.as_bytes()).expect("plain");
        assert_eq!(from_plain.records(), gz.records());
        assert_eq!(from_plain.location(), gz.location());
        let crlf = text.replace('\n', "\r\n");
        let from_crlf = Epw::from_bytes("crlf.epw", crlf.as_bytes()).expect("CRLF");
        assert_eq!(from_crlf.records(), gz.records());
    }

    #[test]
    fn reads_from_a_path_and_names_a_missing_file() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("weather");
        let epw = Epw::read(dir.join(GOLDEN_TMY3)).expect("shipped file on disk");
        assert!(epw.file().ends_with(GOLDEN_TMY3));
        assert_eq!(epw.records().len(), HOURS_PER_YEAR);
        let err = Epw::read(dir.join("nowhere.epw"))
            .expect_err("no such file")
            .to_string();
        assert!(err.contains("nowhere.epw"), "{err}");
    }

    #[test]
    fn truncated_file_names_the_missing_record() {
        let text = plain(DULLES_TMY3);
        let kept: Vec<&str> = text.lines().take(line_of(8000) - 1).collect();
        let truncated = kept.join("\n") + "\n";
        // Records 0..=7999 remain; record 8000 (line 8009) is missing.
        let (m, d, h) = expected_time(8000);
        assert_error(
            &truncated,
            line_of(8000),
            &["8000 of 8760", &format!("{m}/{d} hour {h}"), "truncated"],
        );
        // Cut in the middle of a line: the record lacks its later columns.
        let cut = text
            .lines()
            .nth(line_of(99) - 1)
            .expect("line")
            .find("?9")
            .expect("flags");
        let start: usize = text.lines().take(line_of(99) - 1).map(|l| l.len() + 1).sum();
        assert_error(
            &text[..start + cut],
            line_of(99),
            &["Dry Bulb Temperature", "truncated line"],
        );
        // Header only.
        let header: String = text.lines().take(8).map(|l| format!("{l}\n")).collect();
        assert_error(&header, 9, &["0 of 8760"]);
        // Cut inside the header.
        let partial: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
        assert_error(&partial, 4, &["DATA PERIODS"]);
        assert_error("", 1, &["empty file"]);
    }

    #[test]
    fn corrupt_values_name_line_and_column() {
        let text = plain(GOLDEN_TMY3);
        let n = line_of(500);
        let cases: [(usize, &str, &[&str]); 9] = [
            (
                6,
                "abc",
                &["`Dry Bulb Temperature` (column 7)", "not a number: \"abc\""],
            ),
            (6, "99.9", &["`Dry Bulb Temperature`", "missing value", "99.9"]),
            (6, "", &["`Dry Bulb Temperature`", "empty"]),
            (6, "NaN", &["`Dry Bulb Temperature`", "not a number"]),
            (
                9,
                "999999",
                &["`Atmospheric Station Pressure` (column 10)", "missing value"],
            ),
            (
                9,
                "12000",
                &["`Atmospheric Station Pressure`", "outside the physical range"],
            ),
            (8, "150", &["`Relative Humidity`", "outside"]),
            (14, "-5", &["`Direct Normal Radiation` (column 15)", "outside"]),
            (21, "55", &["`Wind Speed` (column 22)", "55 m/s is outside"]),
        ];
        for (column, value, needles) in cases {
            let bad = edit_line(&text, n, |l| set_field(l, column, value));
            assert_error(&bad, n, needles);
        }
        // Dew point well above the dry bulb.
        let bad = edit_line(&text, n, |l| {
            let dry_bulb: f64 = l.split(',').nth(6).and_then(|v| v.parse().ok()).expect("number");
            set_field(l, 7, &format!("{}", dry_bulb + 5.0))
        });
        assert_error(&bad, n, &["`Dew Point Temperature`", "above the dry bulb"]);
        // Columns we do not use may hold their missing codes.
        let fine = edit_line(&text, n, |l| set_field(l, 20, "999"));
        assert!(Epw::from_bytes("fine.epw", fine.as_bytes()).is_ok());
    }

    #[test]
    fn hours_out_of_order_are_reported() {
        let text = plain(DULLES_TMY3);
        // Swap two consecutive records: the first of them is where the order breaks.
        let mut lines: Vec<&str> = text.lines().collect();
        lines.swap(line_of(30) - 1, line_of(31) - 1);
        let swapped = lines.join("\n");
        assert_error(
            &swapped,
            line_of(30),
            &["`Hour` (column 4)", "expected 1/2 hour 7", "found 1/2 hour 8"],
        );
        // A skipped day.
        let mut lines: Vec<&str> = text.lines().collect();
        lines.drain(line_of(48) - 1..line_of(72) - 1);
        assert_error(
            &lines.join("\n"),
            line_of(48),
            &["`Day` (column 3)", "expected 1/3 hour 1"],
        );
        // One record too many.
        let extra = format!("{text}{}\n", text.lines().last().expect("line"));
        assert_error(&extra, line_of(HOURS_PER_YEAR), &["more than 8760"]);
        // A leap-year file (Feb 29 present).
        let leap = edit_line(&text, line_of(59 * 24), |l| {
            set_field(&set_field(l, 1, "2"), 2, "29")
        });
        assert_error(
            &leap,
            line_of(59 * 24),
            &["`Month`", "expected 3/1 hour 1", "found 2/29 hour 1"],
        );
        // Hour 0 (some tools write 0–23).
        let zero = edit_line(&text, line_of(0), |l| set_field(l, 3, "0"));
        assert_error(&zero, line_of(0), &["`Hour`", "as the first record"]);
        // A blank line among the records.
        let mut lines: Vec<&str> = text.lines().collect();
        lines.insert(line_of(10) - 1, "");
        assert_error(&lines.join("\n"), line_of(10), &["blank line"]);
        // Trailing blank lines are fine.
        assert!(Epw::from_bytes("ok.epw", format!("{text}\n\n").as_bytes()).is_ok());
    }

    #[test]
    fn bad_headers_are_reported() {
        let text = plain(DULLES_TMY3);
        assert_error(
            &edit_line(&text, 1, |l| set_field(l, 6, "north")),
            1,
            &["LOCATION `Latitude`", "not a number"],
        );
        assert_error(
            &edit_line(&text, 1, |l| set_field(l, 8, "-15")),
            1,
            &["LOCATION `TimeZone`", "outside"],
        );
        assert_error(
            &edit_line(&text, 1, |_| "LOCATION,Somewhere,VA".to_owned()),
            1,
            &["missing field `Country`"],
        );
        let no_location: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
        assert_error(
            &no_location,
            1,
            &["expected the EPW LOCATION header", "DESIGN CONDITIONS"],
        );
        assert_error(
            &edit_line(&text, 8, |l| set_field(l, 2, "4")),
            8,
            &["`Number of Records per Hour`: 4"],
        );
        assert_error(
            &edit_line(&text, 8, |l| set_field(l, 1, "2")),
            8,
            &["`Number of Data Periods`: 2"],
        );
        assert_error(
            &edit_line(&text, 8, |l| set_field(l, 2, "x")),
            8,
            &["not a whole number"],
        );
        let no_periods: String = text
            .lines()
            .filter(|l| !l.starts_with("DATA PERIODS"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_error(&no_periods, 8, &["before the DATA PERIODS header"]);
        assert_error(
            "PK\u{3}\u{4}binary zip content",
            1,
            &["LOCATION header", "is this an EPW file?"],
        );
    }

    #[test]
    fn bad_gzip_is_reported() {
        let gz = embedded(DULLES_TMY3).expect("shipped");
        let err = Epw::from_bytes("cut.epw.gz", &gz[..gz.len() / 2])
            .expect_err("cut gzip")
            .to_string();
        assert!(err.starts_with("cut.epw.gz: not a valid gzip stream"), "{err}");
        let err = Epw::from_bytes("magic.gz", &[0x1f, 0x8b, 0, 1, 2])
            .expect_err("garbage")
            .to_string();
        assert!(err.contains("gzip"), "{err}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Garbage never panics the reader.
        #[test]
        fn garbage_is_an_error_not_a_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            prop_assert!(Epw::from_bytes("garbage", &bytes).is_err());
        }

        /// Any cut of a real file is an error (with a line number), never a panic.
        #[test]
        fn truncation_anywhere_is_an_error(cut_frac in 0.0f64..0.9999) {
            let text = plain(GOLDEN_TMY3);
            let mut cut = (text.len() as f64 * cut_frac) as usize;
            while !text.is_char_boundary(cut) { cut -= 1; }
            let err = Epw::from_bytes("cut.epw", &text.as_bytes()[..cut]).expect_err("truncated");
            prop_assert!(matches!(err, Error::Line { .. }), "{err}");
        }

        /// Overwriting a few bytes anywhere never panics (it may or may not stay valid).
        #[test]
        fn corruption_anywhere_never_panics(
            at in 0.0f64..1.0, junk in proptest::collection::vec(any::<u8>(), 1..8),
        ) {
            let mut bytes = plain(DULLES_TMY3).into_bytes();
            let start = ((bytes.len() - junk.len()) as f64 * at) as usize;
            bytes[start..start + junk.len()].copy_from_slice(&junk);
            let _ = Epw::from_bytes("junk.epw", &bytes);
        }
    }
}
