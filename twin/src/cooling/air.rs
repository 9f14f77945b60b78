//! Residual air cooling: the share of rack heat that goes to room air.
//!
//! CRAH fans move it at a specific power per kW of heat (their own heat joins the load);
//! the coils send it either to the facility water (rear doors or CRAHs on warm water) or
//! to a chilled-water plant of its own, whose chiller's COP follows its lift against the
//! dry bulb and which runs on a water-side economiser, compressor off, in cold weather.

use models::campus::{AirCooling, AirSink};

use super::chiller::ChillerModel;
use crate::balance::{Balance, Conserving};

/// Where the CRAH coils send heat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AirSinkModel {
    /// Into the facility water return.
    FacilityWater,
    /// A chilled-water plant rejecting to ambient air.
    ChilledWater {
        /// The plant's chiller (COP curve only; sized to the load).
        chiller: ChillerModel,
        /// Chilled water supply, °C.
        chilled_water_c: f64,
        /// Dry bulb below which the economiser carries the load, °C.
        economiser_below_c: f64,
    },
}

/// Residual air cooling with SI parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AirCoolingModel {
    /// CRAH fan power per watt of heat moved.
    pub fan_w_per_w: f64,
    /// The heat sink.
    pub sink: AirSinkModel,
}

/// Air cooling at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AirPoint {
    /// Heat from the racks to room air, W.
    pub it_heat_w: f64,
    /// CRAH fan power, W.
    pub fan_w: f64,
    /// Chilled-water compressor power, W.
    pub compressor_w: f64,
    /// Heat delivered to the facility water, W.
    pub to_facility_water_w: f64,
    /// Heat rejected to ambient air by the chilled-water plant, W.
    pub to_ambient_w: f64,
}

impl AirCoolingModel {
    /// Builds the model from a validated spec. The validation guarantees the chilled-water
    /// fields when the sink needs them; absent ones fall back to the facility-water sink
    /// only if validation was bypassed.
    pub fn from_spec(a: &AirCooling) -> Self {
        let sink = match (a.sink, &a.chiller, a.chilled_water_temp_c, a.economiser_below_c) {
            (AirSink::ChilledWater, Some(chiller), Some(chw), Some(econ)) => AirSinkModel::ChilledWater {
                chiller: ChillerModel::from_spec(chiller),
                chilled_water_c: chw.c(),
                economiser_below_c: econ.c(),
            },
            _ => AirSinkModel::FacilityWater,
        };
        AirCoolingModel {
            fan_w_per_w: a.fan_kw_per_kw,
            sink,
        }
    }

    /// Moves `it_heat_w` out of the halls with the air at `dry_bulb_c`.
    pub fn evaluate(&self, it_heat_w: f64, dry_bulb_c: f64) -> AirPoint {
        let fan_w = self.fan_w_per_w * it_heat_w;
        let coil_w = it_heat_w + fan_w;
        match self.sink {
            AirSinkModel::FacilityWater => AirPoint {
                it_heat_w,
                fan_w,
                compressor_w: 0.0,
                to_facility_water_w: coil_w,
                to_ambient_w: 0.0,
            },
            AirSinkModel::ChilledWater {
                chiller,
                chilled_water_c,
                economiser_below_c,
            } => {
                let compressor_w = if dry_bulb_c < economiser_below_c {
                    0.0
                } else {
                    coil_w / chiller.cop(chilled_water_c, dry_bulb_c)
                };
                AirPoint {
                    it_heat_w,
                    fan_w,
                    compressor_w,
                    to_facility_water_w: 0.0,
                    to_ambient_w: coil_w + compressor_w,
                }
            }
        }
    }
}

impl Conserving for AirPoint {
    /// Rack heat, fan and compressor work in; heat to water and to ambient out.
    fn balance(&self) -> Balance {
        Balance::steady(
            self.it_heat_w + self.fan_w + self.compressor_w,
            self.to_facility_water_w + self.to_ambient_w,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::campus::Campus;
    use proptest::prelude::*;

    fn model() -> AirCoolingModel {
        AirCoolingModel::from_spec(&Campus::example().unwrap().spec.air_cooling)
    }

    #[test]
    fn analytic_economiser_and_compressor() {
        let m = model();
        // Cold day: fans only, 3 % of the heat.
        let cold = m.evaluate(1e6, 5.0);
        assert!((cold.fan_w - 3e4).abs() < 1e-9);
        assert_eq!(cold.compressor_w, 0.0);
        // Hot day: compressor at the COP for 18 °C water against 35 °C air.
        let AirSinkModel::ChilledWater { chiller, .. } = m.sink else {
            panic!()
        };
        let hot = m.evaluate(1e6, 35.0);
        assert!((hot.compressor_w - 1.03e6 / chiller.cop(18.0, 35.0)).abs() < 1e-6);
    }

    proptest! {
        #[test]
        fn conservation(q in 0.0f64..2e7, db in -20.0f64..45.0) {
            model().evaluate(q, db).balance().assert_closes(1e-12);
            let fw = AirCoolingModel { fan_w_per_w: 0.03, sink: AirSinkModel::FacilityWater };
            fw.evaluate(q, db).balance().assert_closes(1e-12);
        }
    }
}
