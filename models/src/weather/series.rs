//! The typical-year weather series that a simulation samples.

use std::path::Path;

use chrono::{DateTime, Datelike, FixedOffset, Offset, Timelike, Utc};
use serde::Serialize;

use super::epw::{Epw, HOURS_PER_YEAR, HourRecord, Location};
use super::forecast::WeatherForecast;
use super::psychro;
use crate::{Error, Result};

/// Seconds in a typical (non-leap) year.
const YEAR_S: i64 = HOURS_PER_YEAR as i64 * 3600;

/// Day of the year (0-based) of February 29 in a leap year.
const FEB_29_ORDINAL0: u32 = 59;

/// The weather at one instant, interpolated from a typical year or a forecast.
///
/// Humidity quantities are mutually consistent: the humidity ratio comes from the dew
/// point and pressure, the wet bulb and relative humidity from the humidity ratio, dry
/// bulb and pressure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WeatherSample {
    /// Dry-bulb air temperature, °C.
    pub dry_bulb_c: f64,
    /// Dew-point temperature (frost point below 0 °C), °C.
    pub dew_point_c: f64,
    /// Thermodynamic wet-bulb temperature, °C.
    pub wet_bulb_c: f64,
    /// Relative humidity, fraction, from dew point and dry bulb: 0–1, a little above 1
    /// only where the file's dew point exceeds its dry bulb (the reader tolerates 1 K).
    pub rel_humidity_frac: f64,
    /// Humidity ratio, kg water per kg dry air.
    pub humidity_ratio_kg_per_kg: f64,
    /// Atmospheric pressure at the site, Pa.
    pub pressure_pa: f64,
    /// Global horizontal irradiance, W/m².
    pub ghi_w_per_m2: f64,
    /// Direct normal irradiance, W/m².
    pub dni_w_per_m2: f64,
    /// Diffuse horizontal irradiance, W/m².
    pub dhi_w_per_m2: f64,
    /// Wind speed, m/s.
    pub wind_speed_m_per_s: f64,
}

impl WeatherSample {
    /// The sample of an interpolated state, with its humidity ratio from dew point and
    /// pressure, and its wet bulb and relative humidity from the humidity ratio (the same
    /// psychrometrics for the typical year and a forecast).
    #[inline]
    pub(super) fn of_state(
        dry_bulb_c: f64,
        dew_point_c: f64,
        pressure_pa: f64,
        ghi_w_per_m2: f64,
        dni_w_per_m2: f64,
        dhi_w_per_m2: f64,
        wind_speed_m_per_s: f64,
    ) -> WeatherSample {
        let humidity_ratio_kg_per_kg = psychro::humidity_ratio_from_dew_point(dew_point_c, pressure_pa);
        let wet_bulb_c = psychro::wet_bulb_c(dry_bulb_c, humidity_ratio_kg_per_kg, pressure_pa);
        let rel_humidity_frac =
            psychro::rel_humidity_from_humidity_ratio(dry_bulb_c, humidity_ratio_kg_per_kg, pressure_pa);
        WeatherSample {
            dry_bulb_c,
            dew_point_c,
            wet_bulb_c,
            rel_humidity_frac,
            humidity_ratio_kg_per_kg,
            pressure_pa,
            ghi_w_per_m2,
            dni_w_per_m2,
            dhi_w_per_m2,
            wind_speed_m_per_s,
        }
    }
}

/// A typical year of hourly weather at one site, sampled at any instant.
///
/// The year of the instant is ignored: a typical year repeats. The instant is mapped to
/// the file's local standard time with its time-zone offset (never daylight-saving
/// time); February 29 reads as February 28. Values are interpolated linearly in time:
/// point quantities (temperatures, humidity, pressure, wind) between the hour marks of
/// their records (hour `h` is `h:00` local standard time), irradiances between the
/// midpoints of the hours they average (`h − 0.5`). December 31 hour 24 is January 1
/// 00:00 of the next year, so the series wraps around smoothly.
///
/// A [`WeatherForecast`] may be laid over the typical year ([`Weather::with_forecast`]):
/// instants from its first to its last row are then interpolated from the forecast, all
/// others still from the typical year (see [`super::forecast`]).
///
/// Sampling is O(1) and allocation-free: two array look-ups (in the forecast or the
/// typical year), then the dew-point and wet-bulb psychrometrics of the interpolated state.
#[derive(Clone, PartialEq)]
pub struct Weather {
    epw: Epw,
    time_zone: FixedOffset,
    forecast: Option<WeatherForecast>,
}

impl std::fmt::Debug for Weather {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Weather")
            .field("file", &self.epw.file())
            .field("location", self.epw.location())
            .field("forecast", &self.forecast.as_ref().map(WeatherForecast::file))
            .finish_non_exhaustive()
    }
}

impl From<Epw> for Weather {
    fn from(epw: Epw) -> Self {
        Weather::new(epw)
    }
}

impl Weather {
    /// The series of a parsed EPW file.
    pub fn new(epw: Epw) -> Weather {
        let offset_s = (epw.location().time_zone_h * 3600.0).round() as i32;
        // invariant: the reader checked time_zone_h ∈ [−12, 14] h, well inside the ±24 h
        // that FixedOffset accepts; UTC is never used.
        let time_zone = FixedOffset::east_opt(offset_s).unwrap_or_else(|| Utc.fix());
        Weather {
            epw,
            time_zone,
            forecast: None,
        }
    }

    /// This typical year with `forecast` laid over it: instants within the forecast's span
    /// (its first to its last row, inclusive) are sampled from the forecast, others from the
    /// typical year. A forecast without wind takes the typical year's wind. Replaces any
    /// earlier forecast.
    pub fn with_forecast(self, forecast: WeatherForecast) -> Weather {
        Weather {
            forecast: Some(forecast),
            ..self
        }
    }

    /// The forecast laid over the typical year, if any.
    pub fn forecast(&self) -> Option<&WeatherForecast> {
        self.forecast.as_ref()
    }

    /// Reads the EPW file at `path` (gzipped or plain).
    pub fn read(path: impl AsRef<Path>) -> Result<Weather> {
        Epw::read(path).map(Weather::new)
    }

    /// Parses EPW content (gzipped or plain); `file` names it in error messages.
    pub fn from_bytes(file: &str, bytes: &[u8]) -> Result<Weather> {
        Epw::from_bytes(file, bytes).map(Weather::new)
    }

    /// The weather file compiled into the binary under `name` (see
    /// [`super::embedded_names`]).
    pub fn embedded(name: &str) -> Result<Weather> {
        match super::embedded(name) {
            Some(bytes) => Weather::from_bytes(name, bytes),
            None => Err(Error::parse(
                name,
                format!(
                    "no embedded weather file of this name; embedded: {}",
                    super::embedded_names().collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    }

    /// An embedded weather file if `name_or_path` names one, else the EPW file at that
    /// path.
    pub fn open(name_or_path: &str) -> Result<Weather> {
        if super::embedded(name_or_path).is_some() {
            Weather::embedded(name_or_path)
        } else {
            Weather::read(name_or_path)
        }
    }

    /// The site.
    pub fn location(&self) -> &Location {
        self.epw.location()
    }

    /// The parsed file, with its hourly records.
    pub fn epw(&self) -> &Epw {
        &self.epw
    }

    /// The weather at instant `t`: from the forecast within its span, else from the
    /// typical year.
    pub fn sample(&self, t: DateTime<Utc>) -> WeatherSample {
        if let Some(sample) = self
            .forecast
            .as_ref()
            .and_then(|forecast| forecast.sample(t, || self.typical_wind_speed_m_per_s(t)))
        {
            return sample;
        }
        let (second_of_year, nanos) = self.second_of_year(t);
        self.sample_at(second_of_year, nanos)
    }

    /// The typical year's wind speed at `t`, m/s.
    fn typical_wind_speed_m_per_s(&self, t: DateTime<Utc>) -> f64 {
        let (second_of_year, nanos) = self.second_of_year(t);
        let (a, b, f) = bracket(self.epw.records(), second_of_year - 3600, nanos);
        lerp(a.wind_speed_m_per_s, b.wind_speed_m_per_s, f)
    }

    /// The second of the typical year (after January 1 00:00 local standard time) and
    /// the nanoseconds into it of instant `t`.
    fn second_of_year(&self, t: DateTime<Utc>) -> (i64, u32) {
        let local = t.with_timezone(&self.time_zone);
        let year = local.year();
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        let mut day0 = local.ordinal0();
        if leap && day0 >= FEB_29_ORDINAL0 {
            // February 29 repeats February 28; later days shift back by one.
            day0 -= 1;
        }
        let second_of_year = i64::from(day0) * 86_400 + i64::from(local.num_seconds_from_midnight());
        // A leap second reports 1e9 ns or more: count it as the end of its second.
        let nanos = local.nanosecond().min(999_999_999);
        (second_of_year, nanos)
    }

    /// The weather at `second_of_year` (+ `nanos`) after January 1 00:00 local standard
    /// time.
    fn sample_at(&self, second_of_year: i64, nanos: u32) -> WeatherSample {
        let records = self.epw.records();
        // Record i holds point values at (i + 1) h and irradiance averages centred on
        // (i + 0.5) h.
        let (a, b, f) = bracket(records, second_of_year - 3600, nanos);
        let dry_bulb_c = lerp(a.dry_bulb_c, b.dry_bulb_c, f);
        let dew_point_c = lerp(a.dew_point_c, b.dew_point_c, f);
        let pressure_pa = lerp(a.pressure_pa, b.pressure_pa, f);
        let wind_speed_m_per_s = lerp(a.wind_speed_m_per_s, b.wind_speed_m_per_s, f);
        let (c, d, g) = bracket(records, second_of_year - 1800, nanos);
        WeatherSample::of_state(
            dry_bulb_c,
            dew_point_c,
            pressure_pa,
            lerp(c.ghi_w_per_m2, d.ghi_w_per_m2, g),
            lerp(c.dni_w_per_m2, d.dni_w_per_m2, g),
            lerp(c.dhi_w_per_m2, d.dhi_w_per_m2, g),
            wind_speed_m_per_s,
        )
    }
}

/// The records before and after `second` (counted from the time of record 0, wrapping
/// around the year) and the fraction of the hour between them, in [0, 1).
#[inline]
fn bracket(records: &[HourRecord], second: i64, nanos: u32) -> (&HourRecord, &HourRecord, f64) {
    let second = second.rem_euclid(YEAR_S);
    let i = (second / 3600) as usize;
    let frac = ((second % 3600) as f64 + f64::from(nanos) * 1e-9) / 3600.0;
    let n = records.len();
    // invariant: an Epw holds exactly HOURS_PER_YEAR records, so i < n; the modulo keeps
    // the look-up in bounds regardless.
    (&records[i % n], &records[(i + 1) % n], frac)
}

/// `a` at `f = 0` exactly, moving linearly towards `b`.
#[inline]
pub(super) fn lerp(a: f64, b: f64, f: f64) -> f64 {
    a + f * (b - a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::weather::{DULLES_TMY3, GOLDEN_TMY3, embedded, embedded_names};
    use chrono::{TimeDelta, TimeZone};
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn dulles() -> &'static Weather {
        static WEATHER: OnceLock<Weather> = OnceLock::new();
        WEATHER.get_or_init(|| Weather::embedded(DULLES_TMY3).expect("shipped file"))
    }

    /// The UTC instant `hours` after January 1 00:00 local standard time of `year` at a
    /// site whose offset from UTC is `time_zone_h`.
    fn utc_of_local_hours(year: i32, hours: f64, time_zone_h: f64) -> DateTime<Utc> {
        let start = Utc
            .with_ymd_and_hms(year, 1, 1, 0, 0, 0)
            .single()
            .expect("valid date");
        let ms = ((hours - time_zone_h) * 3_600_000.0).round() as i64;
        start + TimeDelta::milliseconds(ms)
    }

    fn index_of(w: &Weather, month: u32, day: u32, hour: u32) -> usize {
        w.epw()
            .records()
            .iter()
            .position(|r| (r.month, r.day, r.hour) == (month, day, hour))
            .expect("record exists")
    }

    #[test]
    fn hour_marks_return_the_records_exactly() {
        let w = dulles();
        let tz = w.location().time_zone_h;
        for i in [0, 1, 17, 2000, 4321, 8000, HOURS_PER_YEAR - 2] {
            let r = &w.epw().records()[i];
            // Record i is at (i + 1) h local standard time.
            let s = w.sample(utc_of_local_hours(2023, (i + 1) as f64, tz));
            assert_eq!(s.dry_bulb_c, r.dry_bulb_c, "record {i}");
            assert_eq!(s.dew_point_c, r.dew_point_c);
            assert_eq!(s.pressure_pa, r.pressure_pa);
            assert_eq!(s.wind_speed_m_per_s, r.wind_speed_m_per_s);
            assert_eq!(s.humidity_ratio_kg_per_kg, r.humidity_ratio_kg_per_kg);
            assert_eq!(s.wet_bulb_c, r.wet_bulb_c);
            let rh = psychro::rel_humidity_from_humidity_ratio(
                r.dry_bulb_c,
                r.humidity_ratio_kg_per_kg,
                r.pressure_pa,
            );
            assert_eq!(s.rel_humidity_frac, rh);
            // Irradiance averages sit at the middle of their hour.
            let s = w.sample(utc_of_local_hours(2023, i as f64 + 0.5, tz));
            assert_eq!(s.ghi_w_per_m2, r.ghi_w_per_m2, "record {i}");
            assert_eq!(s.dni_w_per_m2, r.dni_w_per_m2);
            assert_eq!(s.dhi_w_per_m2, r.dhi_w_per_m2);
        }
    }

    #[test]
    fn between_marks_values_are_interpolated_and_humidity_stays_consistent() {
        let w = dulles();
        let tz = w.location().time_zone_h;
        let records = w.epw().records();
        // A summer afternoon: irradiance and temperature both change hour to hour.
        let i = index_of(w, 7, 20, 13);
        let (a, b) = (&records[i], &records[i + 1]);
        for f in [0.25, 0.5, 0.9] {
            let s = w.sample(utc_of_local_hours(2023, (i + 1) as f64 + f, tz));
            let expect = a.dry_bulb_c + f * (b.dry_bulb_c - a.dry_bulb_c);
            assert!((s.dry_bulb_c - expect).abs() < 1e-9, "f = {f}");
            let expect = a.dew_point_c + f * (b.dew_point_c - a.dew_point_c);
            assert!((s.dew_point_c - expect).abs() < 1e-9);
            // Irradiance between the centres of hours i + 1 and i + 2 (0.5 h later).
            let (c, d) = (&records[i + 1], &records[i + 2]);
            let g = f - 0.5;
            let expect = if g >= 0.0 {
                c.ghi_w_per_m2 + g * (d.ghi_w_per_m2 - c.ghi_w_per_m2)
            } else {
                a.ghi_w_per_m2 + (1.0 + g) * (c.ghi_w_per_m2 - a.ghi_w_per_m2)
            };
            assert!(
                (s.ghi_w_per_m2 - expect).abs() < 1e-9,
                "f = {f}: {} vs {expect}",
                s.ghi_w_per_m2
            );
            // Humidity quantities are recomputed from the interpolated state.
            let w_expect = psychro::humidity_ratio_from_dew_point(s.dew_point_c, s.pressure_pa);
            assert_eq!(s.humidity_ratio_kg_per_kg, w_expect);
            let wb = psychro::wet_bulb_c(s.dry_bulb_c, s.humidity_ratio_kg_per_kg, s.pressure_pa);
            assert_eq!(s.wet_bulb_c, wb);
            assert!(s.wet_bulb_c > a.wet_bulb_c.min(b.wet_bulb_c) - 0.5);
            assert!(s.wet_bulb_c < a.wet_bulb_c.max(b.wet_bulb_c) + 0.5);
        }
    }

    #[test]
    fn utc_is_shifted_to_local_standard_time() {
        let w = dulles();
        let records = w.epw().records();
        // 17:00 UTC on July 15 is 12:00 EST (UTC−5; EPW files never use daylight time).
        for utc_hour in 0..24 {
            let t = Utc
                .with_ymd_and_hms(2023, 7, 15, utc_hour, 0, 0)
                .single()
                .expect("date");
            let local = utc_hour as i64 - 5;
            let (day, hour) = if local <= 0 {
                (14, (local + 24) as u32)
            } else {
                (15, local as u32)
            };
            let r = &records[index_of(w, 7, day, hour)];
            assert_eq!(w.sample(t).dry_bulb_c, r.dry_bulb_c, "{utc_hour}:00 UTC");
        }
        // Golden is UTC−7.
        let golden = Weather::embedded(GOLDEN_TMY3).expect("shipped");
        let t = Utc
            .with_ymd_and_hms(2023, 3, 10, 19, 0, 0)
            .single()
            .expect("date");
        let r = &golden.epw().records()[index_of(&golden, 3, 10, 12)];
        assert_eq!(golden.sample(t).dry_bulb_c, r.dry_bulb_c);
    }

    #[test]
    fn the_year_wraps_around() {
        let w = dulles();
        let tz = w.location().time_zone_h;
        let records = w.epw().records();
        let (last, first) = (&records[HOURS_PER_YEAR - 1], &records[0]);
        // Jan 1 00:00 local is Dec 31 hour 24.
        let s = w.sample(utc_of_local_hours(2024, 0.0, tz));
        assert_eq!(s.dry_bulb_c, last.dry_bulb_c);
        // Jan 1 00:30: halfway from Dec 31 hour 24 to Jan 1 hour 1.
        let s = w.sample(utc_of_local_hours(2024, 0.5, tz));
        assert!((s.dry_bulb_c - 0.5 * (last.dry_bulb_c + first.dry_bulb_c)).abs() < 1e-9);
        // Dec 31 23:30: between hours 23 and 24 of Dec 31, whatever the year.
        let prev = &records[HOURS_PER_YEAR - 2];
        let s = w.sample(utc_of_local_hours(2023, 8759.5, tz));
        assert!((s.dry_bulb_c - 0.5 * (prev.dry_bulb_c + last.dry_bulb_c)).abs() < 1e-9);
        // The same instant of another year reads the same.
        let t = Utc
            .with_ymd_and_hms(2023, 9, 1, 15, 20, 0)
            .single()
            .expect("date");
        let t2 = Utc
            .with_ymd_and_hms(2031, 9, 1, 15, 20, 0)
            .single()
            .expect("date");
        assert_eq!(w.sample(t), w.sample(t2));
    }

    #[test]
    fn february_29_reads_as_february_28() {
        let w = dulles();
        let at = |y, m, d, h| w.sample(Utc.with_ymd_and_hms(y, m, d, h, 40, 0).single().expect("date"));
        // 15:40 UTC is 10:40 local on the same day.
        assert_eq!(at(2024, 2, 29, 15), at(2023, 2, 28, 15));
        assert_eq!(at(2024, 3, 1, 15), at(2023, 3, 1, 15));
        assert_eq!(at(2024, 12, 31, 15), at(2023, 12, 31, 15));
        assert_eq!(at(2024, 2, 28, 15), at(2023, 2, 28, 15));
        // 02:00 UTC on Feb 29 is 21:00 local on Feb 28 (a real Feb 28).
        assert_eq!(at(2024, 2, 29, 2), at(2023, 3, 1, 2));
    }

    #[test]
    fn embedded_files_are_found_by_name() {
        assert_eq!(embedded_names().collect::<Vec<_>>(), [DULLES_TMY3, GOLDEN_TMY3]);
        let without_gz = DULLES_TMY3.strip_suffix(".gz").expect("gz name");
        assert_eq!(embedded(without_gz), embedded(DULLES_TMY3));
        assert!(embedded("USA_XX_Nowhere.epw").is_none());
        let err = Weather::embedded("USA_XX_Nowhere.epw")
            .expect_err("unknown")
            .to_string();
        assert!(
            err.contains("no embedded weather file") && err.contains(GOLDEN_TMY3),
            "{err}"
        );
        // `open` takes a name or a path.
        assert_eq!(
            Weather::open(GOLDEN_TMY3).expect("name").location().elevation_m,
            1829.0
        );
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("weather")
            .join(GOLDEN_TMY3);
        let by_path = Weather::open(&path.display().to_string()).expect("path");
        assert_eq!(
            by_path.epw().records(),
            Weather::open(GOLDEN_TMY3).expect("name").epw().records()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Any instant from 1900 to 2200 gives a physical, self-consistent sample.
        #[test]
        fn every_instant_gives_a_consistent_sample(secs in -2_208_988_800i64..7_258_118_400, nanos in 0u32..1_000_000_000) {
            let t = DateTime::from_timestamp(secs, nanos).expect("in range");
            let s = dulles().sample(t);
            prop_assert!(s.dew_point_c <= s.wet_bulb_c + 1e-6, "{s:?}");
            prop_assert!(s.wet_bulb_c <= s.dry_bulb_c, "{s:?}");
            prop_assert!((0.0..=1.0 + 1e-9).contains(&s.rel_humidity_frac), "{s:?}");
            prop_assert!(s.ghi_w_per_m2 >= 0.0 && s.dni_w_per_m2 >= 0.0 && s.dhi_w_per_m2 >= 0.0);
            prop_assert!(s.pressure_pa > 95_000.0 && s.pressure_pa < 105_000.0);
            // Continuity: a millisecond later the weather has barely moved.
            let s2 = dulles().sample(t + TimeDelta::milliseconds(1));
            prop_assert!((s2.dry_bulb_c - s.dry_bulb_c).abs() < 1e-4);
        }
    }
}
