//! Counterflow heat exchangers by the effectiveness–NTU method.
//!
//! `ε = (1 − e^{−N(1−Cr)}) / (1 − Cr·e^{−N(1−Cr)})`, `Q = ε·Cmin·(T_hot,in − T_cold,in)`
//! (Incropera, Table 11.3). Both forms are written with `expm1`/`ln_1p` so that they stay
//! exact as `Cr → 1`, where they tend to `N/(1+N)`.
//!
//! A plate exchanger's conductance changes with flow: each side's film coefficient
//! scales as `ṁ^0.8` (Dittus–Boelter, turbulent), and at the rating the two sides are
//! taken to share the resistance equally, so `UA = 2·UA_rated / (x_h^−0.8 + x_c^−0.8)`
//! with `x` the flow over its rated value.

use crate::balance::{Balance, Conserving};

/// Film-coefficient exponent of flow (Dittus–Boelter).
const FILM_EXPONENT: f64 = 0.8;

/// Effectiveness of a counterflow exchanger with `ntu` transfer units and capacity-rate
/// ratio `cr = Cmin/Cmax` in [0, 1].
pub fn counterflow_effectiveness(ntu: f64, cr: f64) -> f64 {
    if (1.0 - cr).abs() < 1e-12 {
        return ntu / (1.0 + ntu);
    }
    let e = -(-ntu * (1.0 - cr)).exp_m1();
    e / ((1.0 - cr) + cr * e)
}

/// Effectiveness of a single-pass crossflow exchanger with both streams unmixed (the
/// finned coil of a dry cooler), by the usual approximation
/// `ε = 1 − exp[(1/Cr)·N^0.22·(exp(−Cr·N^0.78) − 1)]` (Incropera, Table 11.3).
pub fn crossflow_unmixed_effectiveness(ntu: f64, cr: f64) -> f64 {
    if ntu <= 0.0 {
        return 0.0;
    }
    if cr < 1e-9 {
        return 1.0 - (-ntu).exp();
    }
    1.0 - ((1.0 / cr) * ntu.powf(0.22) * ((-cr * ntu.powf(0.78)).exp() - 1.0)).exp()
}

/// Transfer units a counterflow exchanger needs for `effectiveness` at `cr`; `None` when
/// no exchanger reaches it (`effectiveness ≥ 1`).
pub fn counterflow_ntu(effectiveness: f64, cr: f64) -> Option<f64> {
    if !(0.0..1.0).contains(&effectiveness) {
        return None;
    }
    let ntu = if (1.0 - cr).abs() < 1e-12 {
        effectiveness / (1.0 - effectiveness)
    } else {
        (effectiveness * (1.0 - cr) / (1.0 - effectiveness)).ln_1p() / (1.0 - cr)
    };
    Some(ntu)
}

/// The outcome of one exchanger evaluation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HxOutcome {
    /// Heat moved from the hot to the cold stream, W.
    pub q_w: f64,
    /// Hot stream inlet, °C.
    pub hot_in_c: f64,
    /// Hot stream outlet, °C.
    pub hot_out_c: f64,
    /// Hot capacity rate ṁ·cp, W/K.
    pub hot_w_per_k: f64,
    /// Cold stream inlet, °C.
    pub cold_in_c: f64,
    /// Cold stream outlet, °C.
    pub cold_out_c: f64,
    /// Cold capacity rate ṁ·cp, W/K.
    pub cold_w_per_k: f64,
}

/// Evaluates a counterflow exchanger of conductance `ua_w_per_k`.
pub fn counterflow(
    hot_in_c: f64,
    hot_w_per_k: f64,
    cold_in_c: f64,
    cold_w_per_k: f64,
    ua_w_per_k: f64,
) -> HxOutcome {
    let c_min = hot_w_per_k.min(cold_w_per_k);
    let c_max = hot_w_per_k.max(cold_w_per_k);
    let q_w = if c_min > 0.0 && ua_w_per_k > 0.0 {
        counterflow_effectiveness(ua_w_per_k / c_min, c_min / c_max) * c_min * (hot_in_c - cold_in_c)
    } else {
        0.0
    };
    let out = |inlet: f64, q: f64, c: f64| if c > 0.0 { inlet + q / c } else { inlet };
    HxOutcome {
        q_w,
        hot_in_c,
        hot_out_c: out(hot_in_c, -q_w, hot_w_per_k),
        hot_w_per_k,
        cold_in_c,
        cold_out_c: out(cold_in_c, q_w, cold_w_per_k),
        cold_w_per_k,
    }
}

impl Conserving for HxOutcome {
    /// Enthalpy in with both streams equals enthalpy out with both; nothing is stored.
    fn balance(&self) -> Balance {
        Balance::steady(
            self.hot_w_per_k * self.hot_in_c + self.cold_w_per_k * self.cold_in_c,
            self.hot_w_per_k * self.hot_out_c + self.cold_w_per_k * self.cold_out_c,
        )
    }
}

/// A counterflow exchanger whose conductance scales with both flows from a rating.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlowScaledHx {
    /// Conductance at the rated flows, W/K.
    pub ua_rated_w_per_k: f64,
    /// Hot-side rated mass flow, kg/s.
    pub hot_rated_kg_per_s: f64,
    /// Cold-side rated mass flow, kg/s.
    pub cold_rated_kg_per_s: f64,
}

impl FlowScaledHx {
    /// Calibrates the exchanger from a rating: `rated_q_w` moved with the hot outlet
    /// `approach_k` above the cold inlet, at the rated flows and specific heats.
    /// Fails when the rating is impossible (it would need an effectiveness ≥ 1).
    pub fn from_rating(
        rated_q_w: f64,
        approach_k: f64,
        hot_rated_kg_per_s: f64,
        hot_cp: f64,
        cold_rated_kg_per_s: f64,
        cold_cp: f64,
    ) -> Result<Self, String> {
        let c_hot = hot_rated_kg_per_s * hot_cp;
        let c_cold = cold_rated_kg_per_s * cold_cp;
        let (c_min, c_max) = (c_hot.min(c_cold), c_hot.max(c_cold));
        // Hot inlet − cold inlet = approach + the hot stream's own temperature drop.
        let inlet_difference_k = approach_k + rated_q_w / c_hot;
        let effectiveness = rated_q_w / (c_min * inlet_difference_k);
        let ntu = counterflow_ntu(effectiveness, c_min / c_max).ok_or_else(|| {
            format!(
                "the rating ({:.0} kW at {approach_k} K approach) would need an effectiveness of {effectiveness:.3}: no exchanger reaches 1",
                rated_q_w / 1000.0
            )
        })?;
        Ok(FlowScaledHx {
            ua_rated_w_per_k: ntu * c_min,
            hot_rated_kg_per_s,
            cold_rated_kg_per_s,
        })
    }

    /// Conductance at the given flows, W/K (zero when either flow is zero).
    pub fn ua_w_per_k(&self, hot_kg_per_s: f64, cold_kg_per_s: f64) -> f64 {
        self.ua_with_hot_film(self.hot_film(hot_kg_per_s), cold_kg_per_s)
    }

    /// The hot side's film resistance relative to its rated value, `(ṁ_rated/ṁ)^0.8`
    /// (infinite at zero flow). Worth computing once when only the cold flow varies.
    pub fn hot_film(&self, hot_kg_per_s: f64) -> f64 {
        if hot_kg_per_s <= 0.0 {
            return f64::INFINITY;
        }
        (self.hot_rated_kg_per_s / hot_kg_per_s).powf(FILM_EXPONENT)
    }

    /// Conductance with the hot side's relative film resistance already known, W/K.
    pub fn ua_with_hot_film(&self, hot_film: f64, cold_kg_per_s: f64) -> f64 {
        if cold_kg_per_s <= 0.0 || !hot_film.is_finite() {
            return 0.0;
        }
        let resistance = hot_film + (self.cold_rated_kg_per_s / cold_kg_per_s).powf(FILM_EXPONENT);
        2.0 * self.ua_rated_w_per_k / resistance
    }

    /// Evaluates the exchanger at the given inlets and flows.
    pub fn evaluate(
        &self,
        hot_in_c: f64,
        hot_kg_per_s: f64,
        hot_cp: f64,
        cold_in_c: f64,
        cold_kg_per_s: f64,
        cold_cp: f64,
    ) -> HxOutcome {
        counterflow(
            hot_in_c,
            hot_kg_per_s * hot_cp,
            cold_in_c,
            cold_kg_per_s * cold_cp,
            self.ua_w_per_k(hot_kg_per_s, cold_kg_per_s),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Incropera Example 11.1-style check against the closed form, and the balanced limit.
    #[test]
    fn analytic_effectiveness_matches_the_closed_forms() {
        for (ntu, cr) in [(0.5f64, 0.3f64), (2.0, 0.5), (3.0, 0.9), (1.0, 0.0)] {
            let exact: f64 = (1.0 - (-ntu * (1.0f64 - cr)).exp()) / (1.0 - cr * (-ntu * (1.0f64 - cr)).exp());
            let e = counterflow_effectiveness(ntu, cr);
            assert!((e - exact).abs() / exact < 1e-12, "{ntu} {cr}");
        }
        // Cr = 0 (an evaporator or condenser): 1 − e^−N.
        assert!((counterflow_effectiveness(2.0, 0.0) - (1.0 - (-2.0f64).exp())).abs() < 1e-15);
        // Cr → 1: N/(1+N), with no loss of precision near it.
        assert!((counterflow_effectiveness(3.0, 1.0) - 0.75).abs() < 1e-15);
        assert!((counterflow_effectiveness(3.0, 1.0 - 1e-10) - 0.75).abs() < 1e-9);
    }

    #[test]
    fn analytic_counterflow_outlets_by_hand() {
        // Hot 40 → ?, 10 kW/K; cold 30 → ?, 20 kW/K; UA 20 kW/K: N = 2, Cr = 0.5.
        let out = counterflow(40.0, 10_000.0, 30.0, 20_000.0, 20_000.0);
        let e = (1.0 - (-1.0f64).exp()) / (1.0 - 0.5 * (-1.0f64).exp());
        let q = e * 10_000.0 * 10.0;
        assert!((out.q_w - q).abs() / q < 1e-12);
        assert!((out.hot_out_c - (40.0 - q / 10_000.0)).abs() < 1e-12);
        assert!((out.cold_out_c - (30.0 + q / 20_000.0)).abs() < 1e-12);
    }

    #[test]
    fn rating_calibration_reproduces_the_rating() {
        // A 2 MW CDU, 5 K approach, 2125 L/min of PG25 against 2125 L/min of water.
        let hot = models::units::l_per_min_to_kg_per_s(2125.0, 1019.1);
        let cold = models::units::l_per_min_to_kg_per_s(2125.0, 995.6);
        let hx = FlowScaledHx::from_rating(2.0e6, 5.0, hot, 3940.0, cold, 4178.0).unwrap();
        let hot_in = 30.0 + 5.0 + 2.0e6 / (hot * 3940.0);
        let out = hx.evaluate(hot_in, hot, 3940.0, 30.0, cold, 4178.0);
        assert!((out.q_w - 2.0e6).abs() / 2.0e6 < 1e-10);
        assert!((out.hot_out_c - 35.0).abs() < 1e-9);
        // An impossible rating is refused with the reason.
        let err = FlowScaledHx::from_rating(2.0e6, 0.5, hot, 3940.0, cold * 0.2, 4178.0).unwrap_err();
        assert!(err.contains("effectiveness"), "{err}");
    }

    #[test]
    fn ntu_inverts_effectiveness() {
        for (ntu, cr) in [(0.1, 0.0), (1.0, 0.5), (4.0, 1.0), (2.5, 0.999_999)] {
            let e = counterflow_effectiveness(ntu, cr);
            let back = counterflow_ntu(e, cr).unwrap();
            assert!((back - ntu).abs() / ntu < 1e-6, "{ntu} {cr}: {back}");
        }
    }

    /// The duty of a counterflow exchanger from its four terminal temperatures alone:
    /// `UA · LMTD`, the integral of the local flux `UA/L · (T_hot − T_cold)` along it. It
    /// does not use the effectiveness, so it checks the kernel's duty independently.
    fn duty_by_lmtd(out: &HxOutcome, ua_w_per_k: f64) -> f64 {
        let dt_hot_end = out.hot_in_c - out.cold_out_c;
        let dt_cold_end = out.hot_out_c - out.cold_in_c;
        let lmtd = if (dt_hot_end - dt_cold_end).abs() < 1e-9 * dt_hot_end.abs().max(1e-12) {
            dt_hot_end
        } else {
            (dt_hot_end - dt_cold_end) / (dt_hot_end / dt_cold_end).ln()
        };
        ua_w_per_k * lmtd
    }

    /// A counterflow exchanger evaluated with a given effectiveness function: the kernel,
    /// or a broken one to show that the conservation check catches it.
    fn with_effectiveness(
        effectiveness: fn(f64, f64) -> f64,
        hot_in_c: f64,
        ch: f64,
        cold_in_c: f64,
        cc: f64,
        ua: f64,
    ) -> HxOutcome {
        let (c_min, c_max) = (ch.min(cc), ch.max(cc));
        let q_w = effectiveness(ua / c_min, c_min / c_max) * c_min * (hot_in_c - cold_in_c);
        HxOutcome {
            q_w,
            hot_in_c,
            hot_out_c: hot_in_c - q_w / ch,
            hot_w_per_k: ch,
            cold_in_c,
            cold_out_c: cold_in_c + q_w / cc,
            cold_w_per_k: cc,
        }
    }

    #[test]
    fn conservation_the_lmtd_check_fails_for_a_broken_kernel() {
        let (th, tc, ch, cc, ua) = (45.0, 30.0, 150_000.0, 120_000.0, 400_000.0);
        let good = counterflow(th, ch, tc, cc, ua);
        assert!((duty_by_lmtd(&good, ua) - good.q_w).abs() <= 1e-9 * good.q_w);
        // The crossflow formula in a counterflow kernel moves less heat than the area
        // allows; the duty from the temperatures says so.
        let broken = with_effectiveness(crossflow_unmixed_effectiveness, th, ch, tc, cc, ua);
        let residual = (duty_by_lmtd(&broken, ua) - broken.q_w).abs() / broken.q_w;
        assert!(
            residual > 1e-2,
            "the check missed a broken kernel: residual {residual:e}"
        );
    }

    proptest! {
        #[test]
        fn conservation_duty_equals_ua_times_lmtd_of_the_outlets(
            th in 20.0f64..80.0, dt in 0.5f64..40.0, ch in 1e3f64..1e6, cc in 1e3f64..1e6, ntu in 0.05f64..6.0
        ) {
            // Heat the hot stream gives up, computed from the effectiveness, equals the
            // flux integrated along the exchanger from the outlet temperatures. (Far past
            // NTU 6 an outlet meets the other inlet and the LMTD is 0/0.)
            let ua = ntu * ch.min(cc);
            let out = counterflow(th, ch, th - dt, cc, ua);
            let by_lmtd = duty_by_lmtd(&out, ua);
            prop_assert!((by_lmtd - out.q_w).abs() <= 1e-6 * out.q_w.abs().max(1.0), "{} vs {}", out.q_w, by_lmtd);
            prop_assert!((out.hot_w_per_k * (out.hot_in_c - out.hot_out_c) - out.q_w).abs() <= 1e-9 * out.q_w.abs().max(1.0));
        }

        #[test]
        fn conservation_and_bounds(
            th in 20.0f64..80.0, tc in 0.0f64..40.0, ch in 0.0f64..1e6, cc in 0.0f64..1e6, ua in 0.0f64..2e6
        ) {
            let out = counterflow(th, ch, tc, cc, ua);
            out.balance().assert_closes(1e-12);
            // Outlets lie between the inlets: heat only flows downhill.
            let (lo, hi) = (th.min(tc), th.max(tc));
            prop_assert!(out.hot_out_c >= lo - 1e-9 && out.hot_out_c <= hi + 1e-9);
            prop_assert!(out.cold_out_c >= lo - 1e-9 && out.cold_out_c <= hi + 1e-9);
        }

        #[test]
        fn more_cold_flow_never_raises_the_hot_outlet(
            th in 30.0f64..60.0, tc in 10.0f64..30.0, hot in 1.0f64..50.0, cold in 0.1f64..50.0, more in 0.0f64..2.0
        ) {
            let hx = FlowScaledHx { ua_rated_w_per_k: 400_000.0, hot_rated_kg_per_s: 36.0, cold_rated_kg_per_s: 35.0 };
            let a = hx.evaluate(th, hot, 3940.0, tc, cold, 4178.0);
            let b = hx.evaluate(th, hot, 3940.0, tc, cold * (1.0 + more), 4178.0);
            prop_assert!(b.hot_out_c <= a.hot_out_c + 1e-9);
        }
    }
}
