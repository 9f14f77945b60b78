//! Sun position, and irradiance on a fixed tilted surface (for PV output).
//!
//! **Sun position** follows the NOAA solar calculator (NOAA Global Monitoring Laboratory,
//! "General Solar Position Calculations"), which implements the low-accuracy solar
//! coordinates of J. Meeus, *Astronomical Algorithms* (2nd ed., 1998), chapters 25 and 28,
//! with NOAA's atmospheric-refraction approximation. Accuracy: about 0.01° in position
//! for years 1800–2100 (apparent solar longitude within 0.01° per Meeus; the apparent
//! zenith differs from NREL's Solar Position Algorithm — quoted ±0.0003° — by under 0.01°
//! in the tests below, outside refraction near the horizon where real refraction varies
//! by tenths of a degree with the weather). That is the Michalsky (1988) class of
//! algorithm and far finer than hourly irradiance data need. ΔT (TT − UT, about a
//! minute) is neglected: 0.001° of solar longitude.
//!
//! **Plane-of-array irradiance** uses the isotropic-sky (Liu–Jordan) model: beam from the
//! direct normal irradiance and the angle of incidence, sky diffuse from the diffuse
//! horizontal irradiance and the sky view factor (1 + cos β)/2, ground-reflected from the
//! global horizontal irradiance, the albedo and the ground view factor (1 − cos β)/2
//! (Duffie and Beckman, *Solar Engineering of Thermal Processes*, eq. 2.15.1). Isotropic
//! sky diffuse underestimates a sun-facing tilted surface by a few percent against
//! anisotropic models (Hay–Davies, Perez).
//!
//! Angles in degrees. Azimuths are measured clockwise from true north (90° east, 180°
//! south). Irradiances in W/m².
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use models::weather::solar::{self, Surface};
//!
//! // Golden, CO at 19:00 UTC (noon local standard time) in mid-June.
//! let t = Utc.with_ymd_and_hms(2024, 6, 15, 19, 0, 0).unwrap();
//! let sun = solar::sun_position(39.74, -105.18, t);
//! assert!(sun.apparent_zenith_deg < 20.0);
//! let south_30 = Surface { tilt_deg: 30.0, azimuth_deg: 180.0 };
//! let poa = solar::plane_of_array_irradiance(&south_30, &sun, 950.0, 850.0, 120.0, 0.2);
//! assert!(poa.total_w_per_m2() > 800.0);
//! ```

use chrono::{DateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// Where the sun is, seen from a place at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SolarPosition {
    /// Angle between the sun's centre and the vertical, without refraction, °: 0 overhead,
    /// 90 on the horizon, above 90 below it.
    pub zenith_deg: f64,
    /// Zenith angle where the sun appears, corrected for standard atmospheric refraction,
    /// °. Use this one for irradiance.
    pub apparent_zenith_deg: f64,
    /// Azimuth of the sun, clockwise from true north, ° in [0, 360).
    pub azimuth_deg: f64,
    /// Solar declination, °.
    pub declination_deg: f64,
    /// Equation of time (apparent minus mean solar time), minutes.
    pub equation_of_time_min: f64,
    /// Hour angle, ° in [−180, 180]: negative in the morning, 0 at solar noon.
    pub hour_angle_deg: f64,
}

impl SolarPosition {
    /// Apparent elevation of the sun above the horizon, °.
    pub fn apparent_elevation_deg(&self) -> f64 {
        90.0 - self.apparent_zenith_deg
    }

    /// True while the sun appears above the horizon.
    pub fn is_up(&self) -> bool {
        self.apparent_zenith_deg < 90.0
    }
}

/// The position of the sun at instant `t` seen from `latitude_deg` (north positive),
/// `longitude_deg` (east positive). Pure and allocation-free (about thirty trigonometric
/// and polynomial evaluations).
pub fn sun_position(latitude_deg: f64, longitude_deg: f64, t: DateTime<Utc>) -> SolarPosition {
    let nanos = f64::from(t.nanosecond().min(999_999_999)) * 1e-9;
    let unix_s = t.timestamp() as f64 + nanos;
    let julian_day = unix_s / 86_400.0 + 2_440_587.5;
    // Julian centuries since J2000.0.
    let c = (julian_day - 2_451_545.0) / 36_525.0;

    // Meeus ch. 25, low accuracy: the sun's geometric mean longitude and mean anomaly,
    // eccentricity of the earth's orbit, equation of the centre.
    let mean_long_deg = (280.466_46 + c * (36_000.769_83 + c * 0.000_303_2)).rem_euclid(360.0);
    let mean_anomaly_deg = 357.529_11 + c * (35_999.050_29 - c * 0.000_153_7);
    let eccentricity = 0.016_708_634 - c * (0.000_042_037 + c * 0.000_000_126_7);
    let m = mean_anomaly_deg.to_radians();
    let centre_deg = m.sin() * (1.914_602 - c * (0.004_817 + c * 0.000_014))
        + (2.0 * m).sin() * (0.019_993 - c * 0.000_101)
        + (3.0 * m).sin() * 0.000_289;
    let true_long_deg = mean_long_deg + centre_deg;
    // Apparent longitude: nutation and aberration.
    let omega = (125.04 - 1934.136 * c).to_radians();
    let apparent_long = (true_long_deg - 0.005_69 - 0.004_78 * omega.sin()).to_radians();
    // Obliquity of the ecliptic (Meeus eq. 22.2), corrected for nutation.
    let mean_obliquity_deg =
        23.0 + (26.0 + (21.448 - c * (46.815 + c * (0.000_59 - c * 0.001_813))) / 60.0) / 60.0;
    let obliquity = (mean_obliquity_deg + 0.002_56 * omega.cos()).to_radians();
    let declination = (obliquity.sin() * apparent_long.sin()).asin();

    // Equation of time (Meeus eq. 28.3), minutes.
    let y = (obliquity / 2.0).tan().powi(2);
    let l0 = mean_long_deg.to_radians();
    let eot_rad = y * (2.0 * l0).sin() - 2.0 * eccentricity * m.sin()
        + 4.0 * eccentricity * y * m.sin() * (2.0 * l0).cos()
        - 0.5 * y * y * (4.0 * l0).sin()
        - 1.25 * eccentricity * eccentricity * (2.0 * m).sin();
    let equation_of_time_min = 4.0 * eot_rad.to_degrees();

    // True solar time and hour angle.
    let utc_min = (f64::from(t.num_seconds_from_midnight()) + nanos) / 60.0;
    let true_solar_min = utc_min + equation_of_time_min + 4.0 * longitude_deg;
    let hour_angle_deg = (true_solar_min / 4.0).rem_euclid(360.0) - 180.0;
    let h = hour_angle_deg.to_radians();

    let lat = latitude_deg.to_radians();
    let cos_zenith =
        (lat.sin() * declination.sin() + lat.cos() * declination.cos() * h.cos()).clamp(-1.0, 1.0);
    let zenith_deg = cos_zenith.acos().to_degrees();
    // Meeus eq. 13.5 (azimuth from south, westward), both terms multiplied by cos δ > 0 so
    // that atan2 stays defined at the poles; turned to "from north".
    let azimuth_from_south = (h.sin() * declination.cos())
        .atan2(h.cos() * lat.sin() * declination.cos() - declination.sin() * lat.cos());
    let azimuth_deg = (azimuth_from_south.to_degrees() + 180.0).rem_euclid(360.0);

    SolarPosition {
        zenith_deg,
        apparent_zenith_deg: zenith_deg - refraction_deg(90.0 - zenith_deg),
        azimuth_deg,
        declination_deg: declination.to_degrees(),
        equation_of_time_min,
        hour_angle_deg,
    }
}

/// Atmospheric refraction at true elevation `elevation_deg` for a standard atmosphere, °
/// (NOAA solar calculator's approximation, after Meeus ch. 16 and Bennett).
fn refraction_deg(elevation_deg: f64) -> f64 {
    let arcsec = if elevation_deg > 85.0 {
        0.0
    } else if elevation_deg > 5.0 {
        let tan_e = elevation_deg.to_radians().tan();
        58.1 / tan_e - 0.07 / tan_e.powi(3) + 0.000_086 / tan_e.powi(5)
    } else if elevation_deg > -0.575 {
        let e = elevation_deg;
        1735.0 + e * (-518.2 + e * (103.4 + e * (-12.79 + e * 0.711)))
    } else {
        -20.772 / elevation_deg.to_radians().tan()
    };
    arcsec / 3600.0
}

/// Orientation of a fixed flat surface (a PV array).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Surface {
    /// Tilt from horizontal, °: 0 flat, 90 vertical. A fixed array is usually tilted near
    /// the site latitude for the most annual energy, less where land is costly.
    pub tilt_deg: f64,
    /// Direction the surface faces, clockwise from true north, °: 180 faces south (the
    /// usual choice in the northern hemisphere), 0 north.
    pub azimuth_deg: f64,
}

/// Cosine of the angle of incidence of the sun's rays on `surface`: 1 when the sun is
/// normal to it, negative when the sun is behind it. Uses the apparent zenith.
pub fn cos_incidence(surface: &Surface, sun: &SolarPosition) -> f64 {
    let tilt = surface.tilt_deg.to_radians();
    let zenith = sun.apparent_zenith_deg.to_radians();
    let relative_azimuth = (sun.azimuth_deg - surface.azimuth_deg).to_radians();
    zenith.cos() * tilt.cos() + zenith.sin() * tilt.sin() * relative_azimuth.cos()
}

/// Irradiance on a tilted surface, by component, W/m².
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlaneOfArrayIrradiance {
    /// Direct beam on the surface, W/m².
    pub beam_w_per_m2: f64,
    /// Diffuse light from the sky dome seen by the surface, W/m².
    pub sky_diffuse_w_per_m2: f64,
    /// Light reflected by the ground in front of the surface, W/m².
    pub ground_reflected_w_per_m2: f64,
}

impl PlaneOfArrayIrradiance {
    /// Total irradiance on the surface, W/m².
    pub fn total_w_per_m2(&self) -> f64 {
        self.beam_w_per_m2 + self.sky_diffuse_w_per_m2 + self.ground_reflected_w_per_m2
    }
}

/// Irradiance on `surface` with the isotropic-sky (Liu–Jordan) model, from global
/// horizontal (`ghi_w_per_m2`), direct normal (`dni_w_per_m2`) and diffuse horizontal
/// (`dhi_w_per_m2`) irradiance and the ground's reflectance `albedo_frac` (about 0.2 for
/// grass and soil, 0.6–0.8 for fresh snow).
///
/// The beam counts only while the sun is up and in front of the surface. For a
/// horizontal surface the total is DNI·cos(zenith) + DHI, which equals GHI when the
/// three inputs are consistent.
pub fn plane_of_array_irradiance(
    surface: &Surface,
    sun: &SolarPosition,
    ghi_w_per_m2: f64,
    dni_w_per_m2: f64,
    dhi_w_per_m2: f64,
    albedo_frac: f64,
) -> PlaneOfArrayIrradiance {
    let cos_tilt = surface.tilt_deg.to_radians().cos();
    let beam_w_per_m2 = if sun.is_up() {
        dni_w_per_m2 * cos_incidence(surface, sun).max(0.0)
    } else {
        0.0
    };
    PlaneOfArrayIrradiance {
        beam_w_per_m2,
        sky_diffuse_w_per_m2: dhi_w_per_m2 * (1.0 + cos_tilt) / 2.0,
        ground_reflected_w_per_m2: ghi_w_per_m2 * albedo_frac * (1.0 - cos_tilt) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
            .single()
            .expect("valid date")
    }

    // NREL's Solar Position Algorithm (Reda and Andreas, NREL/TP-560-34302, 2003/2008),
    // worked example of its `spa_tester.c`: Golden, CO (39.742476 N, 105.1786 W,
    // 1830.14 m, 820 mbar, 11 °C), 2003-10-17 12:30:30 at UTC−7. Published results:
    // topocentric zenith 50.111622°, azimuth 194.340241°, incidence 25.187000° on a
    // surface of slope 30° rotated 10° east of south; sunrise 06:12:43 and sunset
    // 17:20:19 local time. SPA's accuracy is ±0.0003°.
    const SPA_LAT_DEG: f64 = 39.742_476;
    const SPA_LON_DEG: f64 = -105.1786;

    #[test]
    fn matches_the_nrel_spa_example() {
        let sun = sun_position(SPA_LAT_DEG, SPA_LON_DEG, utc(2003, 10, 17, 19, 30, 30));
        // SPA refracts for 820 mbar and 11 °C, NOAA for a standard atmosphere: they differ
        // by 0.003° at 50°; the sun's parallax adds 0.002°.
        assert!((sun.apparent_zenith_deg - 50.111_622).abs() < 0.01, "{sun:?}");
        assert!((sun.azimuth_deg - 194.340_241).abs() < 0.01, "{sun:?}");
        let surface = Surface {
            tilt_deg: 30.0,
            azimuth_deg: 170.0,
        };
        let incidence_deg = cos_incidence(&surface, &sun).acos().to_degrees();
        assert!((incidence_deg - 25.187).abs() < 0.01, "incidence {incidence_deg}");
    }

    #[test]
    fn matches_the_nrel_spa_sunrise_and_sunset() {
        // SPA's sunrise and sunset put the sun's centre at an elevation of −0.8333°
        // (refraction 0.5667° and semi-diameter 0.2667°). SPA computes them for the UT day
        // of its input, so its sunset, 17:20:19 UTC−7, is the one of 2003-10-17 00:20:19
        // UTC (local October 16). The times are rounded to the second: 0.003° of elevation.
        let rise = sun_position(SPA_LAT_DEG, SPA_LON_DEG, utc(2003, 10, 17, 13, 12, 43));
        let set = sun_position(SPA_LAT_DEG, SPA_LON_DEG, utc(2003, 10, 17, 0, 20, 19));
        for sun in [rise, set] {
            assert!((sun.zenith_deg - 90.8333).abs() < 0.01, "{sun:?}");
        }
        assert!(rise.azimuth_deg > 90.0 && rise.azimuth_deg < 120.0, "{rise:?}");
        assert!(set.azimuth_deg > 240.0 && set.azimuth_deg < 270.0, "{set:?}");
        assert!(rise.hour_angle_deg < 0.0 && set.hour_angle_deg > 0.0);
    }

    /// Meeus, *Astronomical Algorithms* (2nd ed.), example 25.a: on 1992 October 13.0 TD
    /// the sun's apparent declination is −7.78507°; example 28.b: the equation of time
    /// then is +13m42.7s (ΔT, 59 s then, moves the sun by 0.0003° of declination).
    #[test]
    fn matches_meeus_examples() {
        let sun = sun_position(0.0, 0.0, utc(1992, 10, 13, 0, 0, 0));
        assert!((sun.declination_deg - -7.785_07).abs() < 0.001, "{sun:?}");
        let eot_min = 13.0 + 42.7 / 60.0;
        assert!((sun.equation_of_time_min - eot_min).abs() < 0.01, "{sun:?}");
    }

    #[test]
    fn noon_and_hemispheres() {
        // Sydney (33.87 S, 151.21 E) at the March equinox, at its solar noon: sun due
        // north at a zenith equal to the latitude. Solar noon in UTC = 12:00 − 4 min/° ×
        // longitude − equation of time (−7.4 min on 20 March) = 02:02:35.
        let sun = sun_position(-33.87, 151.21, utc(2024, 3, 20, 2, 2, 35));
        assert!(sun.azimuth_deg < 0.5 || sun.azimuth_deg > 359.5, "{sun:?}");
        assert!((sun.zenith_deg - 33.87).abs() < 0.3, "{sun:?}");
        assert!(sun.hour_angle_deg.abs() < 0.1, "{sun:?}");
        // Midnight: the sun is down.
        let night = sun_position(-33.87, 151.21, utc(2024, 3, 20, 14, 0, 0));
        assert!(
            !night.is_up() && night.apparent_elevation_deg() < -30.0,
            "{night:?}"
        );
    }

    #[test]
    fn a_surface_facing_the_sun_gets_all_of_the_beam() {
        let sun = sun_position(39.74, -105.18, utc(2024, 6, 1, 16, 0, 0));
        let facing = Surface {
            tilt_deg: sun.apparent_zenith_deg,
            azimuth_deg: sun.azimuth_deg,
        };
        assert!((cos_incidence(&facing, &sun) - 1.0).abs() < 1e-12);
        let poa = plane_of_array_irradiance(&facing, &sun, 900.0, 800.0, 100.0, 0.2);
        assert!((poa.beam_w_per_m2 - 800.0).abs() < 1e-9);
    }

    #[test]
    fn vertical_surface_facing_away_sees_half_the_sky_and_half_the_ground() {
        // Noon in Virginia: the sun is south, a north-facing wall gets no beam.
        let sun = sun_position(38.98, -77.47, utc(2024, 6, 21, 17, 10, 0));
        let north_wall = Surface {
            tilt_deg: 90.0,
            azimuth_deg: 0.0,
        };
        let poa = plane_of_array_irradiance(&north_wall, &sun, 900.0, 800.0, 150.0, 0.2);
        assert_eq!(poa.beam_w_per_m2, 0.0);
        assert!((poa.sky_diffuse_w_per_m2 - 75.0).abs() < 1e-9);
        assert!((poa.ground_reflected_w_per_m2 - 90.0).abs() < 1e-9);
    }

    #[test]
    fn no_beam_at_night() {
        let sun = sun_position(38.98, -77.47, utc(2024, 6, 21, 5, 0, 0));
        let flat = Surface {
            tilt_deg: 0.0,
            azimuth_deg: 180.0,
        };
        // Inconsistent input (DNI at night) must not make light.
        let poa = plane_of_array_irradiance(&flat, &sun, 0.0, 500.0, 0.0, 0.2);
        assert_eq!(poa.total_w_per_m2(), 0.0);
    }

    proptest! {
        // Half the draws are night and rejected: room for them at any PROPTEST_CASES.
        #![proptest_config(ProptestConfig { max_global_rejects: 1 << 20, ..ProptestConfig::default() })]

        /// On a horizontal surface the model returns GHI when GHI, DNI and DHI are
        /// consistent (GHI = DNI·cos z + DHI), at any place and time with the sun up.
        #[test]
        fn horizontal_plane_of_array_is_ghi(
            lat in -66.0f64..66.0, lon in -180.0f64..180.0, secs in 946_684_800i64..4_102_444_800,
            dni in 0.0f64..1000.0, dhi in 0.0f64..500.0, albedo in 0.0f64..0.9, azimuth in 0.0f64..360.0,
        ) {
            let t = DateTime::from_timestamp(secs, 0).expect("in range");
            let sun = sun_position(lat, lon, t);
            prop_assume!(sun.is_up());
            let ghi = dni * sun.apparent_zenith_deg.to_radians().cos() + dhi;
            let flat = Surface { tilt_deg: 0.0, azimuth_deg: azimuth };
            let poa = plane_of_array_irradiance(&flat, &sun, ghi, dni, dhi, albedo);
            prop_assert!((poa.total_w_per_m2() - ghi).abs() < 1e-9 * ghi.max(1.0));
            prop_assert_eq!(poa.ground_reflected_w_per_m2, 0.0);
        }

        /// Angles stay in their ranges everywhere, including the poles.
        #[test]
        fn angles_stay_in_range(lat in -90.0f64..=90.0, lon in -180.0f64..=180.0, secs in -2_208_988_800i64..7_258_118_400) {
            let t = DateTime::from_timestamp(secs, 0).expect("in range");
            let sun = sun_position(lat, lon, t);
            prop_assert!((0.0..=180.0).contains(&sun.zenith_deg), "{sun:?}");
            prop_assert!((0.0..360.0).contains(&sun.azimuth_deg), "{sun:?}");
            prop_assert!(sun.declination_deg.abs() < 23.5, "{sun:?}");
            prop_assert!((-180.0..=180.0).contains(&sun.hour_angle_deg), "{sun:?}");
            prop_assert!(sun.equation_of_time_min.abs() < 17.0, "{sun:?}");
        }
    }
}
