//! Dry coolers: finned coils rejecting heat sensibly to air, with EC fans and optional
//! adiabatic pads.
//!
//! Each unit is a crossflow exchanger (both streams unmixed) between the water and the
//! air. Its conductance is calibrated to the unit's design point and scales with air flow
//! as `ṁ_a^0.6`, the air-side film dominating a finned coil. Fans hold the leaving water
//! at its setpoint; when full speed is not enough and pads are fitted, the pads cool the
//! entering air toward its wet bulb (`T = T_db − η·(T_db − T_wb)`, constant wet bulb),
//! evaporating `ṁ_a·(W_pad − W)` of water.

use models::campus::DryCoolers;
use models::weather::psychro;

use super::hx::crossflow_unmixed_effectiveness;
use super::tower::AirIn;
use crate::solve::illinois;

/// Air-side film exponent of flow for a finned coil.
const AIR_FILM_EXPONENT: f64 = 0.6;

/// Specific heat of humid air, J/(kg dry air·K), at a typical humidity ratio.
const AIR_CP: f64 = 1020.0;

/// A bank of identical dry coolers with SI parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DryCoolerBankModel {
    /// Units in the bank.
    pub units: u32,
    /// Conductance of one unit at design air flow, W/K.
    pub ua_design_w_per_k: f64,
    /// Air flow of one unit at full fan speed, kg/s.
    pub design_air_kg_per_s: f64,
    /// Fan power of one unit at full speed, W.
    pub fan_w: f64,
    /// Whether adiabatic pads are fitted.
    pub adiabatic: bool,
    /// Saturation efficiency of the pads.
    pub pad_effectiveness: f64,
    /// Specific heat of the water, J/(kg·K).
    pub water_cp: f64,
}

/// The dry coolers at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DryCoolerPoint {
    /// Heat taken from the water, W.
    pub q_w: f64,
    /// Water leaving, after any bypass, °C.
    pub outlet_c: f64,
    /// Fan speed, fraction.
    pub fan_speed_frac: f64,
    /// Fan power, W.
    pub fan_w: f64,
    /// Whether the pads are wetted.
    pub pads_on: bool,
    /// Water evaporated by the pads, kg/s.
    pub evaporation_kg_per_s: f64,
}

impl DryCoolerBankModel {
    /// Builds the bank from its spec, calibrating the conductance to the design point.
    pub fn from_spec(spec: &DryCoolers, water_cp: f64) -> Result<Self, String> {
        let u = &spec.unit;
        let q_w = u.design_heat_kw * 1000.0;
        let c_water = q_w / u.design_range_k.k();
        let c_air = u.design_air_flow_kg_per_s * AIR_CP;
        let inlet_difference_k = u.design_approach_k.k() + u.design_range_k.k();
        let (c_min, c_max) = (c_water.min(c_air), c_water.max(c_air));
        let effectiveness = q_w / (c_min * inlet_difference_k);
        let ua = invert_crossflow(effectiveness, c_min / c_max).ok_or_else(|| {
            format!(
                "the design point needs an effectiveness of {effectiveness:.3} with this air flow: no coil reaches it"
            )
        })? * c_min;
        Ok(DryCoolerBankModel {
            units: spec.units,
            ua_design_w_per_k: ua,
            design_air_kg_per_s: u.design_air_flow_kg_per_s,
            fan_w: u.fan_kw * 1000.0,
            adiabatic: spec.adiabatic,
            pad_effectiveness: u.adiabatic_effectiveness,
            water_cp,
        })
    }

    /// Heat one unit takes from `water_kg_per_s` at `inlet_c` with air at `air_c` and
    /// fan speed `speed`, W.
    fn unit_heat_w(&self, inlet_c: f64, water_kg_per_s: f64, air_c: f64, speed: f64) -> f64 {
        let air_kg_per_s = self.design_air_kg_per_s * speed;
        if air_kg_per_s <= 0.0 || water_kg_per_s <= 0.0 {
            return 0.0;
        }
        let ua = self.ua_design_w_per_k * speed.powf(AIR_FILM_EXPONENT);
        let c_water = water_kg_per_s * self.water_cp;
        let c_air = air_kg_per_s * AIR_CP;
        let (c_min, c_max) = (c_water.min(c_air), c_water.max(c_air));
        crossflow_unmixed_effectiveness(ua / c_min, c_min / c_max) * c_min * (inlet_c - air_c)
    }

    /// The bank holding its leaving water at `setpoint_c` as far as it can.
    pub fn control(&self, inlet_c: f64, water_kg_per_s: f64, setpoint_c: f64, air: &AirIn) -> DryCoolerPoint {
        let units = f64::from(self.units);
        let per_unit = water_kg_per_s / units;
        let c_water = per_unit * self.water_cp;
        if water_kg_per_s <= 0.0 || inlet_c <= setpoint_c || inlet_c <= air.dry_bulb_c.min(air.wet_bulb_c) {
            return DryCoolerPoint {
                outlet_c: inlet_c,
                ..DryCoolerPoint::default()
            };
        }
        let needed_w = c_water * (inlet_c - setpoint_c);
        let dry_full_w = self.unit_heat_w(inlet_c, per_unit, air.dry_bulb_c, 1.0);
        let (air_c, pads_on) = if dry_full_w < needed_w && self.adiabatic {
            (
                air.dry_bulb_c - self.pad_effectiveness * (air.dry_bulb_c - air.wet_bulb_c),
                true,
            )
        } else {
            (air.dry_bulb_c, false)
        };
        let full_w = self.unit_heat_w(inlet_c, per_unit, air_c, 1.0).max(0.0);
        let speed = if full_w <= needed_w {
            1.0
        } else {
            illinois(
                |s| self.unit_heat_w(inlet_c, per_unit, air_c, s) - needed_w,
                0.0,
                1.0,
                1e-10,
            )
        };
        let q_unit_w = if speed >= 1.0 { full_w } else { needed_w };
        let evaporation_kg_per_s = if pads_on {
            let pad_w = psychro::humidity_ratio_from_wet_bulb(air_c, air.wet_bulb_c, air.pressure_pa);
            units * self.design_air_kg_per_s * speed * (pad_w - air.humidity_ratio).max(0.0)
        } else {
            0.0
        };
        DryCoolerPoint {
            q_w: units * q_unit_w,
            outlet_c: inlet_c - q_unit_w / c_water,
            fan_speed_frac: speed,
            fan_w: units * self.fan_w * speed * speed * speed,
            pads_on,
            evaporation_kg_per_s,
        }
    }
}

/// Transfer units for a crossflow (unmixed) effectiveness, by bisection on the monotone
/// closed form; `None` when unreachable.
fn invert_crossflow(effectiveness: f64, cr: f64) -> Option<f64> {
    let ceiling = crossflow_unmixed_effectiveness(50.0, cr);
    if !(0.0..ceiling).contains(&effectiveness) {
        return None;
    }
    Some(illinois(
        |n| crossflow_unmixed_effectiveness(n, cr) - effectiveness,
        0.0,
        50.0,
        1e-12,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::campus::DryCoolerUnit;
    use models::units::{Celsius, Kelvin};
    use proptest::prelude::*;

    /// The catalog's `dry-cooler-1mw`.
    fn bank(adiabatic: bool) -> DryCoolerBankModel {
        let unit = DryCoolerUnit {
            model: Some("dry-cooler-1mw".into()),
            description: String::new(),
            source: String::new(),
            design_heat_kw: 1000.0,
            design_dry_bulb_c: Celsius(35.0),
            design_approach_k: Kelvin(10.0),
            design_range_k: Kelvin(8.0),
            design_air_flow_kg_per_s: 99.0,
            fan_kw: 15.0,
            adiabatic_effectiveness: 0.8,
        };
        DryCoolerBankModel::from_spec(
            &DryCoolers {
                units: 10,
                unit,
                adiabatic,
            },
            4178.0,
        )
        .unwrap()
    }

    fn air(db: f64, wb: f64) -> AirIn {
        let p = 101_325.0;
        let w = psychro::humidity_ratio_from_wet_bulb(db, wb, p);
        AirIn {
            dry_bulb_c: db,
            wet_bulb_c: wb,
            humidity_ratio: w,
            pressure_pa: p,
            enthalpy_j_per_kg: psychro::moist_air_enthalpy_j_per_kg(db, w),
        }
    }

    #[test]
    fn analytic_design_point_is_met_at_full_speed() {
        let b = bank(false);
        // 35 °C air, water 53 → 45 °C (approach 10 K, range 8 K), 1 MW per unit.
        let flow = 10.0 * 1.0e6 / (4178.0 * 8.0);
        let p = b.control(53.0, flow, 45.0, &air(35.0, 22.0));
        assert!((p.fan_speed_frac - 1.0).abs() < 1e-6, "{}", p.fan_speed_frac);
        assert!((p.outlet_c - 45.0).abs() < 1e-6);
        assert!((p.q_w - 1.0e7).abs() / 1.0e7 < 1e-6);
    }

    #[test]
    fn pads_cool_the_air_when_the_fans_are_not_enough() {
        let dry = bank(false);
        let wet = bank(true);
        let flow = 10.0 * 1.0e6 / (4178.0 * 8.0);
        let hot = air(40.0, 21.0);
        let p_dry = dry.control(50.0, flow, 42.0, &hot);
        let p_wet = wet.control(50.0, flow, 42.0, &hot);
        assert!(p_dry.outlet_c > 42.0 && p_dry.fan_speed_frac == 1.0);
        assert!(p_wet.pads_on && (p_wet.outlet_c - 42.0).abs() < 1e-6);
        assert!(p_wet.evaporation_kg_per_s > 0.0);
        // Heat in the evaporated water ≈ the air's sensible cooling.
        let air_cooling_w = 10.0 * wet.design_air_kg_per_s * p_wet.fan_speed_frac * AIR_CP * 0.8 * 19.0;
        let latent_w = p_wet.evaporation_kg_per_s * 2.45e6;
        assert!(
            (latent_w - air_cooling_w).abs() / air_cooling_w < 0.1,
            "{latent_w} vs {air_cooling_w}"
        );
    }

    proptest! {
        #[test]
        fn conservation_and_bounds(inlet in 25.0f64..55.0, db in -10.0f64..40.0, set in 20.0f64..45.0, flow in 10.0f64..400.0) {
            let b = bank(true);
            let a = air(db, db - 5.0);
            let p = b.control(inlet, flow, set, &a);
            crate::balance::Balance::steady(flow * 4178.0 * inlet, flow * 4178.0 * p.outlet_c + p.q_w).assert_closes(1e-9);
            prop_assert!(p.outlet_c <= inlet + 1e-9);
            prop_assert!(p.outlet_c >= set.min(inlet) - 1e-6);
        }
    }
}
