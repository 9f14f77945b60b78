//! Vapour-compression chillers whose efficiency follows their lift.
//!
//! `COP = f·T_evap/(T_cond − T_evap)` in kelvin, a fixed fraction `f` of the Carnot COP
//! (0.5–0.6 for centrifugal machines), capped where the lift becomes small. The
//! evaporator runs `evaporator_approach_k` below the leaving water; the condenser
//! `condenser_approach_k` above the air's dry bulb (air-cooled) or wet bulb (evaporative).
//! The condenser rejects the heat taken from the water plus the compressor's work.

use models::campus::{Chiller, Condenser};

use crate::balance::{Balance, Conserving};

/// Kelvin at 0 °C.
const ZERO_C_K: f64 = 273.15;

/// A chiller with SI parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChillerModel {
    /// Cooling capacity of one machine, W.
    pub capacity_w: f64,
    /// How the condenser rejects heat.
    pub condenser: Condenser,
    /// Condensing temperature above its air reference, K.
    pub condenser_approach_k: f64,
    /// Evaporating temperature below the leaving water, K.
    pub evaporator_approach_k: f64,
    /// Fraction of the Carnot COP reached.
    pub carnot_fraction: f64,
    /// Upper bound on COP.
    pub max_cop: f64,
}

/// Chillers at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ChillerPoint {
    /// Heat taken from the water, W.
    pub q_evaporator_w: f64,
    /// Compressor power, W.
    pub power_w: f64,
    /// Heat rejected by the condensers, W.
    pub q_condenser_w: f64,
    /// Water leaving the chillers, °C.
    pub leaving_c: f64,
    /// Heat the water needed removing to reach the setpoint, W.
    pub demand_w: f64,
}

impl ChillerModel {
    /// Builds the model from a validated chiller spec.
    pub fn from_spec(c: &Chiller) -> Self {
        ChillerModel {
            capacity_w: c.capacity_kw * 1000.0,
            condenser: c.condenser,
            condenser_approach_k: c.condenser_approach_k.k(),
            evaporator_approach_k: c.evaporator_approach_k.k(),
            carnot_fraction: c.carnot_fraction,
            max_cop: c.max_cop,
        }
    }

    /// The air temperature the condenser works against: dry bulb or wet bulb, °C.
    pub fn condenser_reference_c(&self, dry_bulb_c: f64, wet_bulb_c: f64) -> f64 {
        match self.condenser {
            Condenser::Air => dry_bulb_c,
            Condenser::Evaporative => wet_bulb_c,
        }
    }

    /// COP producing water at `leaving_c` against condenser air at `reference_c`.
    pub fn cop(&self, leaving_c: f64, reference_c: f64) -> f64 {
        let evaporating_k = leaving_c - self.evaporator_approach_k + ZERO_C_K;
        let condensing_k = reference_c + self.condenser_approach_k + ZERO_C_K;
        let lift_k = condensing_k - evaporating_k;
        if lift_k <= 0.0 {
            return self.max_cop;
        }
        (self.carnot_fraction * evaporating_k / lift_k).min(self.max_cop)
    }

    /// `units_on` machines cooling water entering at `inlet_c` with capacity rate
    /// `flow_w_per_k` toward `setpoint_c`, within their capacity.
    pub fn trim(
        &self,
        units_on: u32,
        inlet_c: f64,
        flow_w_per_k: f64,
        setpoint_c: f64,
        reference_c: f64,
    ) -> ChillerPoint {
        let demand_w = (flow_w_per_k * (inlet_c - setpoint_c)).max(0.0);
        let q_w = demand_w.min(f64::from(units_on) * self.capacity_w);
        if q_w <= 0.0 || flow_w_per_k <= 0.0 {
            return ChillerPoint {
                leaving_c: inlet_c,
                demand_w,
                ..ChillerPoint::default()
            };
        }
        let leaving_c = inlet_c - q_w / flow_w_per_k;
        let power_w = q_w / self.cop(leaving_c, reference_c);
        ChillerPoint {
            q_evaporator_w: q_w,
            power_w,
            q_condenser_w: q_w + power_w,
            leaving_c,
            demand_w,
        }
    }
}

impl Conserving for ChillerPoint {
    /// Heat from the water plus compressor work leaves through the condenser.
    fn balance(&self) -> Balance {
        Balance::steady(self.q_evaporator_w + self.power_w, self.q_condenser_w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::campus::Campus;
    use proptest::prelude::*;

    fn centrifugal() -> ChillerModel {
        let campus = Campus::example().unwrap();
        ChillerModel::from_spec(&campus.spec.heat_rejection.chillers.as_ref().unwrap().unit)
    }

    #[test]
    fn analytic_cop_at_the_ahri_point() {
        // 6.7 °C leaving (44 °F), 25.6 °C wet bulb: evaporating 4.7 °C, condensing 36.6 °C.
        let c = centrifugal();
        let te = 4.7 + 273.15;
        let tc = 36.6 + 273.15;
        let expected = 0.6 * te / (tc - te);
        assert!((c.cop(6.7, 25.6) - expected).abs() < 1e-12);
        assert!((5.0..6.0).contains(&expected), "{expected}");
        // No lift: the cap.
        assert_eq!(c.cop(40.0, 10.0), 12.0);
    }

    #[test]
    fn trim_meets_the_setpoint_within_capacity() {
        let c = centrifugal();
        let flow = 1000.0 * 4178.0; // 1000 kg/s of water
        let p = c.trim(2, 31.0, flow, 30.0, 24.0);
        assert!((p.leaving_c - 30.0).abs() < 1e-12);
        assert!((p.q_evaporator_w - 4.178e6).abs() < 1e-3);
        // One machine of 3.5 MW cannot: it leaves the water warmer.
        let p = c.trim(1, 31.0, flow, 30.0, 24.0);
        assert!((p.q_evaporator_w - 3.5e6).abs() < 1e-6);
        assert!(p.leaving_c > 30.0);
        assert_eq!(c.trim(0, 31.0, flow, 30.0, 24.0).q_evaporator_w, 0.0);
    }

    proptest! {
        #[test]
        fn conservation_and_cop_falls_with_lift(
            inlet in 20.0f64..45.0, set in 15.0f64..35.0, amb in -5.0f64..35.0, more in 0.0f64..10.0, units in 0u32..4
        ) {
            let c = centrifugal();
            let p = c.trim(units, inlet, 2e6, set, amb);
            p.balance().assert_closes(1e-12);
            prop_assert!(p.leaving_c <= inlet + 1e-12);
            prop_assert!(c.cop(set, amb + more) <= c.cop(set, amb) + 1e-12);
            prop_assert!(c.cop(set, amb) > 0.0);
        }
    }
}
