//! Thin unit types for configuration, where a mix-up is likely.
//!
//! An absolute temperature and a temperature difference are both "degrees", and adding
//! two absolute temperatures is always a bug. Configuration fields carry [`Celsius`] or
//! [`Kelvin`] (a difference); physics kernels then work in plain `f64` with the unit in
//! every name (`supply_temp_c`, `approach_k`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// An absolute temperature in degrees Celsius.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Celsius(pub f64);

/// A temperature difference in kelvin (an approach, a range, a ΔT).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Kelvin(pub f64);

impl Celsius {
    /// The value in °C.
    pub fn c(self) -> f64 {
        self.0
    }
}

impl Kelvin {
    /// The value in K.
    pub fn k(self) -> f64 {
        self.0
    }
}

impl fmt::Display for Celsius {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} °C", self.0)
    }
}

impl fmt::Display for Kelvin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} K", self.0)
    }
}

/// Converts a volumetric flow in L/min to a mass flow in kg/s for a fluid of `density_kg_per_m3`.
pub fn l_per_min_to_kg_per_s(flow_l_per_min: f64, density_kg_per_m3: f64) -> f64 {
    flow_l_per_min / 60_000.0 * density_kg_per_m3
}

/// Converts a mass flow in kg/s to a volumetric flow in L/min.
pub fn kg_per_s_to_l_per_min(flow_kg_per_s: f64, density_kg_per_m3: f64) -> f64 {
    flow_kg_per_s / density_kg_per_m3 * 60_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_conversions_round_trip() {
        let kg_per_s = l_per_min_to_kg_per_s(2125.0, 1018.0);
        assert!((kg_per_s - 36.054_166_666).abs() < 1e-6);
        assert!((kg_per_s_to_l_per_min(kg_per_s, 1018.0) - 2125.0).abs() < 1e-9);
    }
}

/// Reads a count as JSON Schema and TOML writers may write it: an integer, or a number
/// with no fraction (`3.0`). A fraction, a negative value or one past `u32::MAX` is an
/// error naming the value.
pub fn whole_u32<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    struct Whole;
    impl serde::de::Visitor<'_> for Whole {
        type Value = u32;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a whole number from 0 to 4294967295")
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u32, E> {
            u32::try_from(v).map_err(|_| E::custom(format!("{v} is larger than 4294967295")))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u32, E> {
            u32::try_from(v).map_err(|_| E::custom(format!("{v} is not a whole number from 0 to 4294967295")))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<u32, E> {
            if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) {
                Ok(v as u32)
            } else {
                Err(E::custom(format!(
                    "{v} is not a whole number from 0 to 4294967295"
                )))
            }
        }
    }
    deserializer.deserialize_any(Whole)
}

#[cfg(test)]
mod whole_tests {
    #[derive(Debug, serde::Deserialize)]
    struct Count {
        #[serde(deserialize_with = "super::whole_u32")]
        n: u32,
    }

    fn read(json: &str) -> Result<u32, String> {
        serde_json::from_str::<Count>(json)
            .map(|c| c.n)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn whole_numbers_are_counts_and_fractions_are_not() {
        assert_eq!(read(r#"{"n": 3}"#), Ok(3));
        assert_eq!(read(r#"{"n": 3.0}"#), Ok(3));
        assert_eq!(read(r#"{"n": 4294967295}"#), Ok(u32::MAX));
        for bad in ["3.5", "-1", "4294967296", "1e300", "\"3\""] {
            assert!(
                read(&format!(r#"{{"n": {bad}}}"#)).is_err(),
                "{bad} was taken as a count"
            );
        }
    }
}
