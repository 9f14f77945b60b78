//! A rack: its GPUs, the host equipment around them, and how its heat leaves.
//!
//! Rack power is GPU power plus host power (CPUs, NICs, switches, fans, PSU losses),
//! which rises with utilisation between an idle and a full-load figure. A fixed share of
//! rack power goes to the liquid loop through the cold plates; the rest heats room air.
//! The GPUs see the coolant leaving the rack, the warmest coolant in it: a conservative
//! choice that makes throttling start with the rack's hottest cold plate. Hosts go down
//! with their GPUs when those shut down on over-temperature.

use models::campus::{Fluid, Rack};

use super::gpu::{GpuModel, GpuPoint};

/// A rack model with SI parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct RackModel {
    /// The GPU model.
    pub gpu: GpuModel,
    /// GPUs per rack.
    pub gpus: f64,
    /// Host power at idle, W.
    pub host_idle_w: f64,
    /// Host power at full utilisation, W.
    pub host_max_w: f64,
    /// Share of rack power to the liquid loop.
    pub liquid_fraction: f64,
    /// Thermal capacity of the coolant held in the rack, J/K.
    pub capacity_j_per_k: f64,
    /// Design coolant flow per rack, kg/s.
    pub design_flow_kg_per_s: f64,
}

/// How a rack runs at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RackPoint {
    /// Electrical power of the rack, W.
    pub power_w: f64,
    /// Heat to the liquid loop, W.
    pub heat_to_liquid_w: f64,
    /// Heat to room air, W.
    pub heat_to_air_w: f64,
    /// Each of its GPUs.
    pub gpu: GpuPoint,
}

impl RackModel {
    /// Builds the model from a validated rack spec and its loop's coolant.
    pub fn from_spec(rack: &Rack, fluid: Fluid) -> Self {
        RackModel {
            gpu: GpuModel::from_spec(&rack.gpu),
            gpus: f64::from(rack.gpus_per_rack),
            host_idle_w: rack.host_idle_kw * 1000.0,
            host_max_w: rack.host_max_kw * 1000.0,
            liquid_fraction: rack.liquid_fraction,
            capacity_j_per_k: rack.coolant_volume_l / 1000.0
                * fluid.density_kg_per_m3()
                * fluid.cp_j_per_kg_k(),
            design_flow_kg_per_s: models::units::l_per_min_to_kg_per_s(
                rack.design_flow_l_per_min,
                fluid.density_kg_per_m3(),
            ),
        }
    }

    /// Host power at `utilisation`, W.
    pub fn host_w(&self, utilisation: f64) -> f64 {
        self.host_idle_w + utilisation * (self.host_max_w - self.host_idle_w)
    }

    /// The rack's operating point with its GPUs in coolant at `coolant_temp_c`.
    pub fn operate(&self, utilisation: f64, cap_w: f64, coolant_temp_c: f64) -> RackPoint {
        let gpu = self.gpu.operate(utilisation, cap_w, coolant_temp_c);
        self.point(utilisation, gpu)
    }

    fn point(&self, utilisation: f64, gpu: GpuPoint) -> RackPoint {
        let power_w = self.gpus * gpu.power_w + gpu.up_frac * self.host_w(utilisation);
        RackPoint {
            power_w,
            heat_to_liquid_w: self.liquid_fraction * power_w,
            heat_to_air_w: (1.0 - self.liquid_fraction) * power_w,
            gpu,
        }
    }

    /// The hottest GPU die of a rack read as drawing `rack_power_w` with its coolant
    /// leaving at `outlet_c`, °C: what a plant's meters tell of a rack whose GPUs report
    /// nothing. The utilisation is read from the power as if the GPUs ran uncapped at
    /// TDP (`P = n·(idle + u·(tdp − idle)) + host(u)`), and the GPU share is what the
    /// hosts at that utilisation leave. A cap below TDP or throttling means a higher true
    /// utilisation for the same power, hence more host power and less GPU power, so
    /// while the GPUs are up the estimate never reads cooler than the rack runs; it is
    /// exact for uncapped, unthrottled GPUs, and never more than
    /// `(host_max − host_idle)·R/n` above the truth.
    pub fn hottest_gpu_c(&self, rack_power_w: f64, outlet_c: f64) -> f64 {
        let gpu = &self.gpu;
        let host_range_w = self.host_max_w - self.host_idle_w;
        let per_utilisation_w = self.gpus * (gpu.tdp_w - gpu.idle_w) + host_range_w;
        let idle_rack_w = self.gpus * gpu.idle_w + self.host_idle_w;
        let utilisation = if per_utilisation_w > 0.0 {
            ((rack_power_w - idle_rack_w) / per_utilisation_w).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let gpu_w = ((rack_power_w - self.host_w(utilisation)) / self.gpus).clamp(0.0, gpu.tdp_w);
        outlet_c + gpu_w * gpu.resistance_k_per_w
    }

    /// The steady state of a rack fed coolant at `inlet_c` with capacity rate
    /// `flow_w_per_k` (ṁ·cp, > 0): the outlet temperature where the coolant carries away
    /// exactly the liquid share of the rack's power, with throttling solved in closed form.
    pub fn steady(&self, utilisation: f64, cap_w: f64, inlet_c: f64, flow_w_per_k: f64) -> (f64, RackPoint) {
        let f = self.liquid_fraction;
        let host_w = self.host_w(utilisation);
        let outlet_at = |gpu_w: f64| inlet_c + f * (self.gpus * gpu_w + host_w) / flow_w_per_k;
        let demand_w = self.gpu.demand_w(utilisation, cap_w);
        let outlet_c = outlet_at(demand_w);
        if outlet_c + demand_w * self.gpu.resistance_k_per_w <= self.gpu.throttle_temp_c {
            return (outlet_c, self.operate(utilisation, cap_w, outlet_c));
        }
        // Throttled: gpu_w = (T_limit − T)/R and T = inlet + f·(n·gpu_w + host)/C, linear in T.
        let r = self.gpu.resistance_k_per_w;
        let limit_c = self.gpu.throttle_temp_c;
        let n_over_r = self.gpus / r;
        let mut outlet_c = (inlet_c + f * (n_over_r * limit_c + host_w) / flow_w_per_k)
            / (1.0 + f * n_over_r / flow_w_per_k);
        if (limit_c - outlet_c) / r < self.gpu.idle_w {
            // GPUs shutting down, hosts with them: host heat scales with gpu_w/idle too.
            let k_per_k = f * (self.gpus + host_w / self.gpu.idle_w) / (r * flow_w_per_k);
            outlet_c = ((inlet_c + k_per_k * limit_c) / (1.0 + k_per_k)).max(inlet_c);
        }
        (outlet_c, self.operate(utilisation, cap_w, outlet_c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cooling::node::ThermalNode;
    use models::campus::Campus;
    use proptest::prelude::*;

    fn nvl72() -> RackModel {
        let campus = Campus::example().unwrap();
        RackModel::from_spec(&campus.spec.halls[0].rack, Fluid::Pg25)
    }

    #[test]
    fn analytic_rack_delta_t_is_q_over_m_cp() {
        let rack = nvl72();
        let flow_kg_per_s = rack.design_flow_kg_per_s;
        let cp = Fluid::Pg25.cp_j_per_kg_k();
        let (outlet_c, point) = rack.steady(1.0, 1200.0, 36.0, flow_kg_per_s * cp);
        // 72 × 1200 W + 33.6 kW = 120 kW, 85 % of it to liquid.
        assert!((point.power_w - 120_000.0).abs() < 1e-6);
        let expected_dt_k = 0.85 * 120_000.0 / (flow_kg_per_s * cp);
        assert!(((outlet_c - 36.0) - expected_dt_k).abs() / expected_dt_k < 1e-12);
        // The steady state is a fixed point of the rack's coolant node.
        let node = ThermalNode::new(rack.capacity_j_per_k);
        let rate = node.rate_k_per_s(outlet_c, flow_kg_per_s * cp, 36.0, point.heat_to_liquid_w);
        assert!(rate.abs() < 1e-12, "{rate}");
    }

    #[test]
    fn steady_state_with_throttling_is_a_fixed_point() {
        let rack = nvl72();
        let cp = Fluid::Pg25.cp_j_per_kg_k();
        let flow_w_per_k = 0.3 * rack.design_flow_kg_per_s * cp;
        let (outlet_c, point) = rack.steady(1.0, 1200.0, 45.0, flow_w_per_k);
        assert!(point.gpu.throttled);
        assert!((point.gpu.die_temp_c - 87.0).abs() < 1e-9);
        let node = ThermalNode::new(rack.capacity_j_per_k);
        let rate = node.rate_k_per_s(outlet_c, flow_w_per_k, 45.0, point.heat_to_liquid_w);
        assert!(rate.abs() < 1e-9, "{rate}");
    }

    #[test]
    fn a_rack_without_enough_flow_settles_with_its_gpus_shutting_down() {
        let rack = nvl72();
        let cp = Fluid::Pg25.cp_j_per_kg_k();
        let flow_w_per_k = 0.02 * rack.design_flow_kg_per_s * cp;
        let (outlet_c, point) = rack.steady(1.0, 1200.0, 36.0, flow_w_per_k);
        assert!(point.gpu.up_frac < 1.0 && point.gpu.up_frac > 0.0, "{point:?}");
        assert!(outlet_c < rack.gpu.throttle_temp_c);
        let node = ThermalNode::new(rack.capacity_j_per_k);
        let rate = node.rate_k_per_s(outlet_c, flow_w_per_k, 36.0, point.heat_to_liquid_w);
        assert!(rate.abs() < 1e-9, "{rate}");
        // No flow at all would leave no steady state but the limit: power goes to zero there.
        assert_eq!(rack.operate(1.0, 1200.0, rack.gpu.throttle_temp_c).power_w, 0.0);
    }

    #[test]
    fn rack_power_splits_between_liquid_and_air() {
        let rack = nvl72();
        let p = rack.operate(0.0, 1200.0, 30.0);
        // Idle: 72 × 200 W + 12 kW host.
        assert!((p.power_w - 26_400.0).abs() < 1e-9);
        assert!((p.heat_to_liquid_w + p.heat_to_air_w - p.power_w).abs() < 1e-9);
    }

    #[test]
    fn analytic_hottest_gpu_from_the_meters_is_exact_for_uncapped_gpus() {
        let rack = nvl72();
        for u in [0.0, 0.3, 0.7, 1.0] {
            let p = rack.operate(u, 1200.0, 40.0);
            let die_c = rack.hottest_gpu_c(p.power_w, 40.0);
            assert!(
                (die_c - p.gpu.die_temp_c).abs() < 1e-9,
                "u {u}: {die_c} vs {}",
                p.gpu.die_temp_c
            );
        }
        // Idle by hand: 200 W a GPU, the die 200 W × R above the coolant.
        let idle = rack.operate(0.0, 1200.0, 40.0);
        let by_hand_c = 40.0 + 200.0 * rack.gpu.resistance_k_per_w;
        assert!((rack.hottest_gpu_c(idle.power_w, 40.0) - by_hand_c).abs() < 1e-9);
        // Capped at 800 W and fully busy, the same power reads as uncapped GPUs at a lower
        // utilisation: a little too warm, never too cool.
        let capped = rack.operate(1.0, 800.0, 40.0);
        let over_k = rack.hottest_gpu_c(capped.power_w, 40.0) - capped.gpu.die_temp_c;
        let bound_k = (rack.host_max_w - rack.host_idle_w) / rack.gpus * rack.gpu.resistance_k_per_w;
        assert!(
            over_k > 0.0 && over_k < bound_k,
            "{over_k} K over, bound {bound_k} K"
        );
    }

    proptest! {
        #[test]
        fn the_hottest_gpu_from_the_meters_never_reads_cooler_than_the_rack_runs(
            u in 0.0f64..=1.0, cap in 200.0f64..1200.0, coolant in 15.0f64..75.0
        ) {
            let rack = nvl72();
            let p = rack.operate(u, cap, coolant);
            let estimate_c = rack.hottest_gpu_c(p.power_w, coolant);
            prop_assert!(estimate_c >= p.gpu.die_temp_c - 1e-9, "{estimate_c} < {}", p.gpu.die_temp_c);
            let bound_k = (rack.host_max_w - rack.host_idle_w) / rack.gpus * rack.gpu.resistance_k_per_w;
            prop_assert!(estimate_c <= p.gpu.die_temp_c + bound_k + 1e-9);
        }

        #[test]
        fn more_flow_never_raises_the_rack_outlet(
            u in 0.0f64..=1.0, inlet in 15.0f64..50.0, flow_frac in 0.05f64..2.0, more in 0.0f64..1.0
        ) {
            let rack = nvl72();
            let cp = Fluid::Pg25.cp_j_per_kg_k();
            let c = flow_frac * rack.design_flow_kg_per_s * cp;
            let (low_flow_out, _) = rack.steady(u, 1200.0, inlet, c);
            let (high_flow_out, _) = rack.steady(u, 1200.0, inlet, c * (1.0 + more));
            prop_assert!(high_flow_out <= low_flow_out + 1e-9);
            prop_assert!(high_flow_out >= inlet);
        }
    }
}
