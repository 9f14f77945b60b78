//! Solar PV: AC output from plane-of-array irradiance and air temperature.
//!
//! Cell temperature follows the NOCT model, `T_cell = T_air + (NOCT − 20)·G/800`; DC
//! power is nameplate × `G/1000` × `(1 + γ·(T_cell − 25))`; the derate covers soiling,
//! wiring and inverter losses; the inverter clips at its AC rating.

use models::campus::Solar;

/// A fixed-tilt PV plant with SI parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolarModel {
    /// DC nameplate at 1000 W/m² and 25 °C cell, W.
    pub dc_w: f64,
    /// Inverter limit, W.
    pub ac_w: f64,
    /// Module tilt, degrees.
    pub tilt_deg: f64,
    /// Module azimuth, degrees clockwise from north.
    pub azimuth_deg: f64,
    /// Power temperature coefficient, 1/K.
    pub temp_coeff_per_k: f64,
    /// Nominal operating cell temperature, °C.
    pub noct_c: f64,
    /// DC-to-AC derate.
    pub derate: f64,
    /// Ground reflectance.
    pub albedo: f64,
}

impl SolarModel {
    /// Builds the model from a validated solar spec.
    pub fn from_spec(s: &Solar) -> Self {
        SolarModel {
            dc_w: s.dc_capacity_kw * 1000.0,
            ac_w: s.ac_capacity_kw * 1000.0,
            tilt_deg: s.tilt_deg,
            azimuth_deg: s.azimuth_deg,
            temp_coeff_per_k: s.temp_coeff_per_k,
            noct_c: s.noct_c.c(),
            derate: s.derate_frac,
            albedo: s.albedo,
        }
    }

    /// AC output with `poa_w_per_m2` on the modules and air at `air_c`, W.
    pub fn ac_power_w(&self, poa_w_per_m2: f64, air_c: f64) -> f64 {
        let poa = poa_w_per_m2.max(0.0);
        let cell_c = air_c + (self.noct_c - 20.0) * poa / 800.0;
        let dc_w = self.dc_w * poa / 1000.0 * (1.0 + self.temp_coeff_per_k * (cell_c - 25.0));
        (dc_w * self.derate).clamp(0.0, self.ac_w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn plant() -> SolarModel {
        SolarModel {
            dc_w: 20e6,
            ac_w: 16e6,
            tilt_deg: 25.0,
            azimuth_deg: 180.0,
            temp_coeff_per_k: -0.0035,
            noct_c: 45.0,
            derate: 0.86,
            albedo: 0.2,
        }
    }

    #[test]
    fn analytic_output_at_standard_and_noct_conditions() {
        let p = plant();
        // 800 W/m² at 20 °C air: the cell sits at NOCT, 45 °C, 20 K above STC.
        let expected = 20e6 * 0.8 * (1.0 - 0.0035 * 20.0) * 0.86;
        assert!((p.ac_power_w(800.0, 20.0) - expected).abs() < 1e-6);
        // Night: nothing. Bright and cold: clipped at the inverter.
        assert_eq!(p.ac_power_w(0.0, 10.0), 0.0);
        assert_eq!(p.ac_power_w(1200.0, -10.0), 16e6);
    }

    proptest! {
        #[test]
        fn output_rises_with_irradiance_and_falls_with_heat(g in 0.0f64..1100.0, dg in 0.0f64..100.0, t in -20.0f64..45.0) {
            let p = plant();
            prop_assert!(p.ac_power_w(g + dg, t) >= p.ac_power_w(g, t) - 1e-6);
            prop_assert!(p.ac_power_w(g, t + 5.0) <= p.ac_power_w(g, t) + 1e-6);
            prop_assert!(p.ac_power_w(g, t) <= p.ac_w);
        }
    }
}
