//! A variable-speed pump on a system curve through the origin.
//!
//! With no static head, flow scales with speed and head with its square, so power goes as
//! the cube of flow (the affinity laws): `P = P_design·(ṁ/ṁ_design)³`. The design power
//! is the hydraulic power of the design point over the wire-to-water efficiency. All of
//! it ends up as heat in the pumped fluid.

/// A pump sized by its design point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pump {
    /// Design mass flow, kg/s.
    pub design_flow_kg_per_s: f64,
    /// Electrical power at the design flow, W.
    pub design_power_w: f64,
}

impl Pump {
    /// A pump moving `design_flow_kg_per_s` of a fluid of `density_kg_per_m3` against
    /// `head_kpa` at `efficiency` (wire to water).
    pub fn from_head(
        design_flow_kg_per_s: f64,
        density_kg_per_m3: f64,
        head_kpa: f64,
        efficiency: f64,
    ) -> Self {
        let volume_flow_m3_per_s = design_flow_kg_per_s / density_kg_per_m3;
        Pump {
            design_flow_kg_per_s,
            design_power_w: volume_flow_m3_per_s * head_kpa * 1000.0 / efficiency,
        }
    }

    /// Electrical power at `flow_kg_per_s`, W.
    pub fn power_w(&self, flow_kg_per_s: f64) -> f64 {
        let x = flow_kg_per_s / self.design_flow_kg_per_s;
        self.design_power_w * x * x * x
    }

    /// Speed as a fraction of design at `flow_kg_per_s`.
    pub fn speed_frac(&self, flow_kg_per_s: f64) -> f64 {
        flow_kg_per_s / self.design_flow_kg_per_s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn analytic_design_power_from_head() {
        // 2125 L/min of PG25 at 241 kPa and 60 %: 35.4 L/s × 241 kPa / 0.6 = 14.2 kW.
        let flow = models::units::l_per_min_to_kg_per_s(2125.0, 1019.1);
        let pump = Pump::from_head(flow, 1019.1, 241.0, 0.6);
        let expected_w = 2125.0 / 60_000.0 * 241_000.0 / 0.6;
        assert!((pump.design_power_w - expected_w).abs() / expected_w < 1e-12);
        // Half the flow, an eighth of the power.
        assert!((pump.power_w(flow / 2.0) - expected_w / 8.0).abs() < 1e-9);
    }

    proptest! {
        #[test]
        fn power_rises_with_flow(a in 0.0f64..100.0, b in 0.0f64..100.0) {
            let pump = Pump { design_flow_kg_per_s: 50.0, design_power_w: 10_000.0 };
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(pump.power_w(lo) <= pump.power_w(hi));
            prop_assert!(pump.power_w(lo) >= 0.0);
        }
    }
}
