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
