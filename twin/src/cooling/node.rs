//! A well-mixed volume of coolant: the one dynamic element of every liquid loop.
//!
//! Rack coolant, loop piping and the facility water's supply and return sides are each a
//! volume that a stream flows through and that may take up heat. Well mixed, its outlet
//! is at its own temperature `T`, and
//! `C·dT/dt = Q + ṁ·cp·(T_in − T)`, with `C` its thermal capacity. Enthalpy flows are
//! counted from 0 °C. With constant inputs the temperature relaxes to
//! `T_in + Q/(ṁ·cp)` with time constant `C/(ṁ·cp)`.

use crate::balance::Balance;

/// A well-mixed coolant volume.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThermalNode {
    /// Thermal capacity, J/K.
    pub capacity_j_per_k: f64,
}

impl ThermalNode {
    /// A volume of thermal capacity `capacity_j_per_k`.
    pub fn new(capacity_j_per_k: f64) -> Self {
        ThermalNode { capacity_j_per_k }
    }

    /// A volume of `volume_m3` of a fluid of `density_kg_per_m3` and `cp_j_per_kg_k`.
    pub fn of_volume(volume_m3: f64, density_kg_per_m3: f64, cp_j_per_kg_k: f64) -> Self {
        ThermalNode::new(volume_m3 * density_kg_per_m3 * cp_j_per_kg_k)
    }

    /// `dT/dt`, K/s, at `temp_c` with a stream of capacity rate `flow_w_per_k` (ṁ·cp)
    /// entering at `inlet_c` and `heat_w` added.
    pub fn rate_k_per_s(&self, temp_c: f64, flow_w_per_k: f64, inlet_c: f64, heat_w: f64) -> f64 {
        (heat_w + flow_w_per_k * (inlet_c - temp_c)) / self.capacity_j_per_k
    }

    /// Energy stored, J, counted from 0 °C.
    pub fn stored_j(&self, temp_c: f64) -> f64 {
        self.capacity_j_per_k * temp_c
    }

    /// The energy balance at `temp_c` for the given stream and heat.
    pub fn balance(&self, temp_c: f64, flow_w_per_k: f64, inlet_c: f64, heat_w: f64) -> Balance {
        Balance {
            in_w: heat_w + flow_w_per_k * inlet_c,
            out_w: flow_w_per_k * temp_c,
            storage_rate_w: self.capacity_j_per_k * self.rate_k_per_s(temp_c, flow_w_per_k, inlet_c, heat_w),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Integrates the node with the project's integrator and compares every output with
    /// the exponential step response `T(t) = T_ss + (T0 − T_ss)·exp(−t/τ)`.
    #[test]
    fn analytic_first_order_step_response() {
        use ode_solvers::{DVector, Dopri5, System};
        struct Step(ThermalNode);
        impl System<f64, DVector<f64>> for Step {
            fn system(&self, _t: f64, y: &DVector<f64>, dy: &mut DVector<f64>) {
                dy[0] = self.0.rate_k_per_s(y[0], 10_000.0, 30.0, 50_000.0);
            }
        }
        let node = ThermalNode::new(200_000.0);
        let tau_s = 200_000.0 / 10_000.0;
        let steady_c = 30.0 + 50_000.0 / 10_000.0;
        let mut solver = Dopri5::new(
            Step(node),
            0.0,
            100.0,
            5.0,
            DVector::from_element(1, 20.0),
            1e-10,
            1e-10,
        );
        solver.integrate().unwrap();
        for (t, y) in solver.x_out().iter().zip(solver.y_out()) {
            let exact = steady_c + (20.0 - steady_c) * (-t / tau_s).exp();
            assert!(
                (y[0] - exact).abs() / exact < 1e-6,
                "t = {t}: {} vs {exact}",
                y[0]
            );
        }
    }

    proptest! {
        #[test]
        fn conservation_stored_energy_changes_by_net_power_in(
            c in 1e3f64..1e9, t in -10.0f64..90.0, flow in 0.0f64..1e6, inlet in -10.0f64..90.0, q in -1e6f64..1e7
        ) {
            let node = ThermalNode::new(c);
            node.balance(t, flow, inlet, q).assert_closes(1e-12);
            // The stored energy's derivative along the trajectory is the storage rate.
            let h = 1e-3;
            let rate = node.rate_k_per_s(t, flow, inlet, q);
            let d_stored = (node.stored_j(t + h * rate) - node.stored_j(t)) / h;
            let storage = node.balance(t, flow, inlet, q).storage_rate_w;
            prop_assert!((d_stored - storage).abs() <= 1e-6 * storage.abs().max(1.0));
        }

        #[test]
        fn temperature_moves_toward_its_steady_state(
            t in 0.0f64..90.0, flow in 1.0f64..1e6, inlet in 0.0f64..90.0, q in 0.0f64..1e7
        ) {
            let node = ThermalNode::new(1e6);
            let steady = inlet + q / flow;
            let rate = node.rate_k_per_s(t, flow, inlet, q);
            prop_assert!(rate * (steady - t) >= 0.0);
        }
    }
}
