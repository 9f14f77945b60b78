//! A coolant distribution unit: the plate exchanger between facility water and a rack
//! loop, its secondary pump, and the valve that holds the loop's supply temperature.
//!
//! The facility-side valve is an ideal controller within its limits: it passes just the
//! facility flow that brings the secondary stream down to its setpoint, none when the
//! loop is already colder, and all it can (the rated primary flow) when even that is not
//! enough, in which case the loop's supply rises above setpoint.

use models::campus::{Cdu, Fluid};

use super::hx::{FlowScaledHx, HxOutcome, counterflow};
use super::pump::Pump;
use crate::solve::illinois;

/// A CDU with SI parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CduModel {
    /// The plate exchanger, hot side secondary, cold side facility water.
    pub hx: FlowScaledHx,
    /// Specific heat of the secondary coolant, J/(kg·K).
    pub secondary_cp: f64,
    /// Specific heat of the facility water, J/(kg·K).
    pub primary_cp: f64,
    /// Largest facility flow the valve passes, kg/s.
    pub max_primary_kg_per_s: f64,
    /// The secondary pump.
    pub pump: Pump,
    /// Secondary supply setpoint, °C.
    pub supply_setpoint_c: f64,
}

/// The CDU's state at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CduPoint {
    /// Facility water flow through the valve, kg/s.
    pub primary_kg_per_s: f64,
    /// The exchanger.
    pub hx: HxOutcome,
    /// Whether the valve is wide open and the setpoint still not met.
    pub saturated: bool,
}

impl CduModel {
    /// Builds a CDU from its spec, the loop's and the facility's fluids and the setpoint.
    pub fn from_spec(
        cdu: &Cdu,
        secondary: Fluid,
        primary: Fluid,
        supply_setpoint_c: f64,
    ) -> Result<Self, String> {
        let secondary_kg_per_s = models::units::l_per_min_to_kg_per_s(
            cdu.rated_secondary_flow_l_per_min,
            secondary.density_kg_per_m3(),
        );
        let primary_kg_per_s = models::units::l_per_min_to_kg_per_s(
            cdu.rated_primary_flow_l_per_min,
            primary.density_kg_per_m3(),
        );
        let hx = FlowScaledHx::from_rating(
            cdu.rated_heat_kw * 1000.0,
            cdu.rated_approach_k.k(),
            secondary_kg_per_s,
            secondary.cp_j_per_kg_k(),
            primary_kg_per_s,
            primary.cp_j_per_kg_k(),
        )?;
        Ok(CduModel {
            hx,
            secondary_cp: secondary.cp_j_per_kg_k(),
            primary_cp: primary.cp_j_per_kg_k(),
            max_primary_kg_per_s: primary_kg_per_s,
            pump: Pump::from_head(
                secondary_kg_per_s,
                secondary.density_kg_per_m3(),
                cdu.pump_head_kpa,
                cdu.pump_efficiency,
            ),
            supply_setpoint_c,
        })
    }

    /// The exchanger with `primary_kg_per_s` through the valve.
    pub fn exchange(
        &self,
        return_c: f64,
        secondary_kg_per_s: f64,
        facility_c: f64,
        primary_kg_per_s: f64,
    ) -> HxOutcome {
        self.hx.evaluate(
            return_c,
            secondary_kg_per_s,
            self.secondary_cp,
            facility_c,
            primary_kg_per_s,
            self.primary_cp,
        )
    }

    /// The controlled CDU: loop return at `return_c` with `secondary_kg_per_s`, facility
    /// water at `facility_c`.
    pub fn control(&self, return_c: f64, secondary_kg_per_s: f64, facility_c: f64) -> CduPoint {
        let closed = |saturated| CduPoint {
            primary_kg_per_s: 0.0,
            hx: self.exchange(return_c, secondary_kg_per_s, facility_c, 0.0),
            saturated,
        };
        if secondary_kg_per_s <= 0.0 || return_c <= self.supply_setpoint_c {
            return closed(false);
        }
        if facility_c >= return_c {
            // Facility water no colder than the loop: opening the valve would heat it.
            return closed(true);
        }
        let target_w = secondary_kg_per_s * self.secondary_cp * (return_c - self.supply_setpoint_c);
        let hot_film = self.hx.hot_film(secondary_kg_per_s);
        let hot_w_per_k = secondary_kg_per_s * self.secondary_cp;
        let at = |m: f64| {
            counterflow(
                return_c,
                hot_w_per_k,
                facility_c,
                m * self.primary_cp,
                self.hx.ua_with_hot_film(hot_film, m),
            )
        };
        let full = at(self.max_primary_kg_per_s);
        if full.q_w <= target_w {
            return CduPoint {
                primary_kg_per_s: self.max_primary_kg_per_s,
                hx: full,
                saturated: true,
            };
        }
        // No flow below the one whose water would leave at the loop's return temperature
        // (an infinite exchanger) can carry the heat: that bounds the search from below.
        let least_kg_per_s = target_w / (self.primary_cp * (return_c - facility_c));
        let primary_kg_per_s = illinois(
            |m| at(m).q_w - target_w,
            least_kg_per_s,
            self.max_primary_kg_per_s,
            1e-9 * self.max_primary_kg_per_s,
        );
        CduPoint {
            primary_kg_per_s,
            hx: at(primary_kg_per_s),
            saturated: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balance::Conserving;
    use models::campus::Campus;
    use proptest::prelude::*;

    fn cdu() -> CduModel {
        let campus = Campus::example().unwrap();
        CduModel::from_spec(&campus.spec.halls[0].cdu, Fluid::Pg25, Fluid::Water, 36.0).unwrap()
    }

    #[test]
    fn analytic_valve_holds_the_setpoint() {
        let cdu = cdu();
        let flow = cdu.pump.design_flow_kg_per_s;
        let point = cdu.control(46.0, flow, 30.0);
        assert!(!point.saturated);
        assert!((point.hx.hot_out_c - 36.0).abs() < 1e-6, "{}", point.hx.hot_out_c);
        // Q = ṁ·cp·(46 − 36) exactly.
        let q = flow * cdu.secondary_cp * 10.0;
        assert!((point.hx.q_w - q).abs() / q < 1e-6);
        assert!(point.primary_kg_per_s > 0.0 && point.primary_kg_per_s < cdu.max_primary_kg_per_s);
    }

    #[test]
    fn valve_closes_when_no_cooling_is_needed_and_opens_fully_when_short() {
        let cdu = cdu();
        let flow = cdu.pump.design_flow_kg_per_s;
        let idle = cdu.control(35.0, flow, 30.0);
        assert_eq!(idle.primary_kg_per_s, 0.0);
        assert_eq!(idle.hx.q_w, 0.0);
        // Facility water at 35 °C cannot bring a 46 °C return to 36 °C.
        let short = cdu.control(46.0, flow, 35.0);
        assert!(short.saturated);
        assert_eq!(short.primary_kg_per_s, cdu.max_primary_kg_per_s);
        assert!(short.hx.hot_out_c > 36.0);
    }

    proptest! {
        #[test]
        fn conservation_and_the_outlet_never_below_setpoint_or_facility(
            ret in 30.0f64..70.0, flow_frac in 0.0f64..1.5, fac in 5.0f64..45.0
        ) {
            let cdu = cdu();
            let p = cdu.control(ret, flow_frac * cdu.pump.design_flow_kg_per_s, fac);
            p.hx.balance().assert_closes(1e-9);
            prop_assert!(p.hx.hot_out_c >= cdu.supply_setpoint_c.min(ret) - 1e-6);
            prop_assert!(p.hx.hot_out_c >= fac.min(ret) - 1e-9);
            prop_assert!(p.hx.hot_out_c <= ret + 1e-9);
        }

        #[test]
        fn colder_facility_water_never_warms_the_loop_supply(
            ret in 40.0f64..60.0, fac in 10.0f64..38.0, colder in 0.0f64..10.0
        ) {
            let cdu = cdu();
            let flow = cdu.pump.design_flow_kg_per_s;
            let warm = cdu.control(ret, flow, fac);
            let cold = cdu.control(ret, flow, fac - colder);
            prop_assert!(cold.hx.hot_out_c <= warm.hx.hot_out_c + 1e-6);
        }
    }
}
