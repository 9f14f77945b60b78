//! A GPU: power from utilisation and power cap, die temperature from its cold plate, and
//! thermal throttling.
//!
//! A training GPU alternates between compute at its power cap and waiting near idle;
//! `utilisation` is the share of time computing, so its mean power is
//! `idle + u·(cap − idle)`. The die sits above the coolant by `power × R_th` (the cold
//! plate's time constant is a second or two, far below any step this model takes, so the
//! die is quasi-steady). When that would pass the throttle temperature, the GPU lowers
//! its clocks until the die sits at the limit: power falls to `(T_limit − T_coolant)/R_th`,
//! and throughput follows the lower effective cap through the throughput curve.
//!
//! Clocks cannot go below idle. When the coolant is so warm that even idle power would
//! pass the limit, GPUs shut down on over-temperature, the hottest first: the mean power
//! keeps falling as `(T_limit − T_coolant)/R_th`, read as a share `power/idle` of GPUs
//! still up (at idle, computing nothing), and reaches zero, every GPU down, when the
//! coolant itself is at the limit. So a rack that loses its flow heats to its GPUs' limit
//! and no further, as real racks do when their nodes trip.

use models::campus::Gpu;

/// A GPU model with SI parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuModel {
    /// Thermal design power and highest cap, W.
    pub tdp_w: f64,
    /// Draw at idle, W; below it GPUs are shutting down.
    pub idle_w: f64,
    /// Lowest cap the driver accepts, W.
    pub min_cap_w: f64,
    /// Die-to-coolant thermal resistance, K/W.
    pub resistance_k_per_w: f64,
    /// Die temperature the GPU holds by throttling, °C.
    pub throttle_temp_c: f64,
    /// Throughput curve knots `(cap / tdp, throughput)`, rising and concave.
    curve: Vec<(f64, f64)>,
}

/// How a GPU runs at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpuPoint {
    /// Mean electrical power, W.
    pub power_w: f64,
    /// Die temperature, °C.
    pub die_temp_c: f64,
    /// Whether it is holding its die at the limit by slowing down (or shutting down).
    pub throttled: bool,
    /// Share of GPUs still up: 1 unless the coolant is too warm even for idle.
    pub up_frac: f64,
    /// Training throughput relative to a fully busy GPU at TDP.
    pub throughput_frac: f64,
}

impl GpuModel {
    /// Builds the model from a validated GPU spec.
    pub fn from_spec(gpu: &Gpu) -> Self {
        GpuModel {
            tdp_w: gpu.tdp_w,
            idle_w: gpu.idle_w,
            min_cap_w: gpu.min_cap_w,
            resistance_k_per_w: gpu.cold_plate_resistance_k_per_w,
            throttle_temp_c: gpu.throttle_temp_c.c(),
            curve: gpu.throughput_curve.iter().map(|[c, t]| (*c, *t)).collect(),
        }
    }

    /// Power a GPU wants at `utilisation` under `cap_w`, before any throttling, W.
    pub fn demand_w(&self, utilisation: f64, cap_w: f64) -> f64 {
        let cap_w = cap_w.clamp(self.min_cap_w, self.tdp_w);
        self.idle_w + utilisation * (cap_w - self.idle_w).max(0.0)
    }

    /// The GPU's operating point with coolant at `coolant_temp_c` around its cold plate.
    pub fn operate(&self, utilisation: f64, cap_w: f64, coolant_temp_c: f64) -> GpuPoint {
        let demand_w = self.demand_w(utilisation, cap_w);
        let thermal_limit_w = ((self.throttle_temp_c - coolant_temp_c) / self.resistance_k_per_w).max(0.0);
        let (power_w, throttled) = if demand_w > thermal_limit_w {
            (thermal_limit_w, true)
        } else {
            (demand_w, false)
        };
        let up_frac = if power_w < self.idle_w {
            power_w / self.idle_w
        } else {
            1.0
        };
        GpuPoint {
            power_w,
            die_temp_c: coolant_temp_c + power_w * self.resistance_k_per_w,
            throttled,
            up_frac,
            throughput_frac: if up_frac < 1.0 {
                0.0
            } else {
                self.throughput(utilisation, power_w)
            },
        }
    }

    /// Throughput of a GPU busy `utilisation` of the time drawing `power_w` on average:
    /// its compute phases run at the effective cap that gives that mean power.
    pub fn throughput(&self, utilisation: f64, power_w: f64) -> f64 {
        if utilisation <= 0.0 {
            return 0.0;
        }
        let effective_cap_w = self.idle_w + (power_w - self.idle_w).max(0.0) / utilisation;
        utilisation * self.relative_throughput(effective_cap_w / self.tdp_w)
    }

    /// The throughput curve at `cap_frac` of TDP: linear between knots, extended along the
    /// first segment below the first knot (never below zero), 1 above TDP.
    pub fn relative_throughput(&self, cap_frac: f64) -> f64 {
        let curve = &self.curve;
        let segment = curve
            .windows(2)
            .find(|w| cap_frac <= w[1].0)
            .or_else(|| curve.windows(2).last());
        match segment {
            Some(w) => {
                let ((c0, t0), (c1, t1)) = (w[0], w[1]);
                let c = cap_frac.min(c1);
                (t0 + (t1 - t0) * (c - c0) / (c1 - c0)).clamp(0.0, 1.0)
            }
            None => 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::campus::Campus;
    use proptest::prelude::*;

    fn gb200() -> GpuModel {
        let campus = Campus::example().unwrap();
        GpuModel::from_spec(&campus.spec.halls[0].rack.gpu)
    }

    #[test]
    fn analytic_die_temperature_and_throttle_point() {
        let gpu = gb200();
        // Full load at TDP on 40 °C coolant: die = 40 + 1200 W × 0.025 K/W = 70 °C.
        let p = gpu.operate(1.0, 1200.0, 40.0);
        assert!((p.power_w - 1200.0).abs() < 1e-9);
        assert!((p.die_temp_c - 70.0).abs() < 1e-9);
        assert!(!p.throttled);
        assert!((p.throughput_frac - 1.0).abs() < 1e-12);
        // Coolant at 60 °C: the die may only rise 27 K, so power is 27/0.025 = 1080 W.
        let p = gpu.operate(1.0, 1200.0, 60.0);
        assert!(p.throttled);
        assert!((p.power_w - 1080.0).abs() < 1e-9);
        assert!((p.die_temp_c - 87.0).abs() < 1e-9);
        // 1080 W is 0.9 of TDP: the curve gives 0.985.
        assert!((p.throughput_frac - 0.985).abs() < 1e-12);
    }

    #[test]
    fn power_cap_lowers_power_and_throughput_along_the_curve() {
        let gpu = gb200();
        let p = gpu.operate(1.0, 600.0, 35.0);
        assert!((p.power_w - 600.0).abs() < 1e-9);
        assert!((p.throughput_frac - 0.85).abs() < 1e-12);
        // Caps outside the driver's range are clamped to it.
        assert!((gpu.demand_w(1.0, 50.0) - 200.0).abs() < 1e-9);
        assert!((gpu.demand_w(1.0, 5000.0) - 1200.0).abs() < 1e-9);
        // Half-busy at TDP: mean power halfway between idle and TDP.
        assert!((gpu.demand_w(0.5, 1200.0) - 700.0).abs() < 1e-9);
    }

    #[test]
    fn gpus_shut_down_progressively_when_idle_is_too_hot() {
        let gpu = gb200();
        // Coolant at 84 °C: 3 K of margin allows 120 W, less than the 200 W idle, so
        // 60 % of the GPUs are up (at idle, computing nothing).
        let p = gpu.operate(1.0, 1200.0, 84.0);
        assert!(p.throttled);
        assert!((p.power_w - 120.0).abs() < 1e-9);
        assert!((p.up_frac - 0.6).abs() < 1e-12);
        assert_eq!(p.throughput_frac, 0.0);
        assert!((p.die_temp_c - 87.0).abs() < 1e-9);
        // Coolant at or above the limit: all down, no heat.
        let p = gpu.operate(1.0, 1200.0, 90.0);
        assert_eq!((p.power_w, p.up_frac), (0.0, 0.0));
    }

    proptest! {
        #[test]
        fn warmer_coolant_never_raises_power_or_throughput(
            u in 0.0f64..=1.0, cap in 200.0f64..1200.0, t in 10.0f64..90.0, dt in 0.0f64..20.0
        ) {
            let gpu = gb200();
            let cool = gpu.operate(u, cap, t);
            let warm = gpu.operate(u, cap, t + dt);
            prop_assert!(warm.power_w <= cool.power_w + 1e-9);
            prop_assert!(warm.throughput_frac <= cool.throughput_frac + 1e-12);
            prop_assert!(cool.throughput_frac >= 0.0 && cool.throughput_frac <= 1.0);
            // The die never passes its limit unless the coolant itself is past it.
            prop_assert!(cool.die_temp_c <= gpu.throttle_temp_c.max(t) + 1e-9);
        }

        #[test]
        fn a_higher_cap_never_lowers_throughput(u in 0.0f64..=1.0, cap in 200.0f64..1100.0, dcap in 0.0f64..100.0) {
            let gpu = gb200();
            let low = gpu.operate(u, cap, 30.0);
            let high = gpu.operate(u, cap + dcap, 30.0);
            prop_assert!(high.throughput_frac >= low.throughput_frac - 1e-12);
            prop_assert!(high.power_w >= low.power_w - 1e-9);
        }
    }
}
