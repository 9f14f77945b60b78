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

    /// Integrates `rate` (a node kernel) over 600 s with a varying inlet and heat load,
    /// and returns the relative difference between the heat stored, `C·(T_end − T_0)`,
    /// and the net heat in, `∫ Q(t) + ṁcp·(T_in(t) − T(t)) dt`, integrated from the
    /// trajectory's temperatures by the trapezoid rule: two quantities computed apart.
    fn stored_against_integrated(rate: fn(&ThermalNode, f64, f64, f64, f64) -> f64) -> f64 {
        use ode_solvers::{DVector, Dopri5, System};
        const FLOW_W_PER_K: f64 = 8_000.0;
        fn inlet_c(t: f64) -> f64 {
            30.0 + 5.0 * (t / 60.0).sin()
        }
        fn heat_w(t: f64) -> f64 {
            60_000.0 + 20_000.0 * (t / 45.0).cos()
        }
        struct Driven(ThermalNode, fn(&ThermalNode, f64, f64, f64, f64) -> f64);
        impl System<f64, DVector<f64>> for Driven {
            fn system(&self, t: f64, y: &DVector<f64>, dy: &mut DVector<f64>) {
                dy[0] = (self.1)(&self.0, y[0], FLOW_W_PER_K, inlet_c(t), heat_w(t));
            }
        }
        let node = ThermalNode::new(400_000.0);
        let mut solver = Dopri5::new(
            Driven(node, rate),
            0.0,
            600.0,
            0.05,
            DVector::from_element(1, 25.0),
            1e-11,
            1e-11,
        );
        solver.integrate().unwrap();
        let (ts, ys) = (solver.x_out(), solver.y_out());
        let net_w = |i: usize| heat_w(ts[i]) + FLOW_W_PER_K * (inlet_c(ts[i]) - ys[i][0]);
        let integrated_j: f64 = (1..ts.len())
            .map(|i| 0.5 * (net_w(i - 1) + net_w(i)) * (ts[i] - ts[i - 1]))
            .sum();
        let stored_j = node.stored_j(ys[ys.len() - 1][0]) - node.stored_j(ys[0][0]);
        (stored_j - integrated_j).abs() / integrated_j.abs()
    }

    #[test]
    fn conservation_heat_stored_over_a_run_equals_the_net_heat_integrated() {
        let kernel = |n: &ThermalNode, t: f64, f: f64, i: f64, q: f64| n.rate_k_per_s(t, f, i, q);
        let residual = stored_against_integrated(kernel);
        assert!(
            residual < 1e-6,
            "stored and integrated heat differ by {residual:e}"
        );
        // A kernel that loses 1 % of the heat it is given must fail the same check.
        let leaky = |n: &ThermalNode, t: f64, f: f64, i: f64, q: f64| n.rate_k_per_s(t, f, i, 0.99 * q);
        let residual = stored_against_integrated(leaky);
        assert!(
            residual > 1e-3,
            "the check missed a leaking kernel: residual {residual:e}"
        );
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
