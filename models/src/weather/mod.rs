//! Weather, the outdoor input of the physics twin.
//!
//! - [`psychro`]: moist-air psychrometrics (ASHRAE Handbook—Fundamentals 2017, ch. 1):
//!   saturation, humidity ratio, dew point, thermodynamic wet bulb, enthalpy. Pure,
//!   allocation-free functions, fit for an ODE right-hand side.
//! - [`epw`]: the reader of EnergyPlus weather files (EPW), gzipped or plain, with an
//!   error naming file, line and column for every defect.
//! - [`Weather`]: a typical year sampled at any UTC instant, interpolated in time, with
//!   consistent humidity quantities.
//! - [`forecast`]: the reader of hourly weather-forecast files ([`WeatherForecast`]), which
//!   [`Weather::with_forecast`] lays over the typical year for the instants they cover.
//! - [`solar`]: sun position and plane-of-array irradiance for PV.
//! - [`embedded`]: the weather files shipped in `models/weather/`, compiled in.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use models::weather::{self, Weather};
//!
//! let weather = Weather::embedded(weather::DULLES_TMY3)?;
//! assert_eq!(weather.location().time_zone_h, -5.0);
//! // 20:00 UTC is 15:00 local standard time in Virginia.
//! let s = weather.sample(Utc.with_ymd_and_hms(2025, 7, 15, 20, 0, 0).unwrap());
//! assert!(s.dew_point_c <= s.wet_bulb_c && s.wet_bulb_c <= s.dry_bulb_c);
//! # Ok::<(), models::Error>(())
//! ```

pub mod epw;
pub mod forecast;
pub mod psychro;
mod series;
pub mod solar;

pub use epw::{Epw, HourRecord, Location};
pub use forecast::{ForecastRecord, WeatherForecast};
pub use series::{Weather, WeatherSample};

/// Name of the embedded TMY3 file of Washington Dulles airport (Sterling, VA): the
/// example campus in Ashburn, VA.
pub const DULLES_TMY3: &str = "USA_VA_Sterling-Washington.Dulles.Intl.AP.724030_TMY3.epw.gz";

/// Name of the embedded TMY3 file of Golden, CO (NREL): a high, dry test campus like
/// NREL's ESIF data centre.
pub const GOLDEN_TMY3: &str = "USA_CO_Golden-NREL.724666_TMY3.epw.gz";

/// The weather files of `models/weather/`, by file name.
const EMBEDDED: [(&str, &[u8]); 2] = [
    (
        DULLES_TMY3,
        include_bytes!("../../weather/USA_VA_Sterling-Washington.Dulles.Intl.AP.724030_TMY3.epw.gz"),
    ),
    (
        GOLDEN_TMY3,
        include_bytes!("../../weather/USA_CO_Golden-NREL.724666_TMY3.epw.gz"),
    ),
];

/// The gzipped EPW content of the embedded weather file `name`: its file name, with or
/// without the `.gz` suffix. `None` for any other name. Parse it with
/// [`Weather::from_bytes`] or [`Epw::from_bytes`] (or just call [`Weather::embedded`]).
pub fn embedded(name: &str) -> Option<&'static [u8]> {
    EMBEDDED
        .iter()
        .find(|(file, _)| *file == name || file.strip_suffix(".gz") == Some(name))
        .map(|(_, bytes)| *bytes)
}

/// The names of the embedded weather files.
pub fn embedded_names() -> impl Iterator<Item = &'static str> {
    EMBEDDED.iter().map(|(name, _)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campus::{Campus, WeatherLocation};

    /// Every shipped campus names an embedded weather file for the place it stands.
    #[test]
    fn shipped_campuses_find_their_weather() {
        for name in ["example.toml", "esif.toml"] {
            let campus = Campus::builtin(name).expect("shipped campus");
            let WeatherLocation::Builtin(file) = campus.weather_location() else {
                panic!("{name}: a built-in campus uses built-in weather");
            };
            let weather = Weather::embedded(&file).expect("embedded weather");
            let (site, loc) = (&campus.spec.site, weather.location());
            assert!(
                (site.latitude_deg - loc.latitude_deg).abs() < 0.5,
                "{name}: {loc:?}"
            );
            assert!(
                (site.longitude_deg - loc.longitude_deg).abs() < 0.5,
                "{name}: {loc:?}"
            );
            assert!(
                (site.elevation_m - loc.elevation_m).abs() < 200.0,
                "{name}: {loc:?}"
            );
        }
    }
}
