//! Scalar root finding for the ideal local controllers.
//!
//! A local control loop (a CDU valve holding its supply temperature, tower fans holding
//! the facility supply) is modelled as ideal within its actuator's limits: the actuator
//! takes the position that meets the setpoint exactly, or sits at a limit. Finding that
//! position is a root of a monotone function on a bracket, solved here by the Illinois
//! variant of regula falsi, which keeps the bracket and converges superlinearly.

/// Finds `x` in `[lo, hi]` with `f(x) = 0`, given `f(lo)` and `f(hi)` of opposite signs
/// (or one of them zero). Stops when the bracket is narrower than `x_tol` or after 60
/// iterations, returning the best estimate.
pub fn illinois(mut f: impl FnMut(f64) -> f64, mut lo: f64, mut hi: f64, x_tol: f64) -> f64 {
    let mut f_lo = f(lo);
    let mut f_hi = f(hi);
    if f_lo == 0.0 {
        return lo;
    }
    if f_hi == 0.0 {
        return hi;
    }
    let mut side = 0i8;
    for _ in 0..60 {
        let x = (lo * f_hi - hi * f_lo) / (f_hi - f_lo);
        let x = if x.is_finite() { x } else { 0.5 * (lo + hi) };
        let fx = f(x);
        if fx == 0.0 {
            return x;
        }
        if (fx > 0.0) == (f_hi > 0.0) {
            hi = x;
            f_hi = fx;
            if side == 1 {
                f_lo *= 0.5;
            }
            side = 1;
        } else {
            lo = x;
            f_lo = fx;
            if side == -1 {
                f_hi *= 0.5;
            }
            side = -1;
        }
        if (hi - lo).abs() <= x_tol {
            break;
        }
    }
    (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_the_root_of_a_cubic() {
        let x = illinois(|x| x * x * x - 2.0, 0.0, 2.0, 1e-12);
        assert!((x - 2f64.cbrt()).abs() < 1e-10);
    }

    #[test]
    fn converges_quickly_on_a_saturating_curve() {
        let mut calls = 0;
        let x = illinois(
            |x| {
                calls += 1;
                1.0 - (-3.0 * x).exp() - 0.7
            },
            0.0,
            10.0,
            1e-10,
        );
        assert!((1.0 - (-3.0 * x).exp() - 0.7).abs() < 1e-9);
        assert!(calls < 40, "{calls} calls");
    }

    proptest! {
        #[test]
        fn root_of_any_monotone_line_is_found(a in 0.01f64..100.0, root in -50f64..50.0) {
            let x = illinois(|x| a * (x - root), -100.0, 100.0, 1e-9);
            prop_assert!((x - root).abs() < 1e-6);
        }
    }
}
