//! Moist-air psychrometrics, after the 2017 ASHRAE Handbook—Fundamentals, SI edition,
//! chapter 1 ("Psychrometrics"); equation numbers below refer to that chapter.
//!
//! Units throughout: temperatures in °C, pressures in Pa, humidity ratio in kg of water
//! vapour per kg of dry air (kg/kg), enthalpy in J per kg of dry air, relative humidity as
//! a fraction (0–1).
//!
//! Validity: the saturation-pressure correlation (Hyland–Wexler, eqs. 5–6) holds from
//! [`MIN_TEMP_C`] (−100 °C) to [`MAX_TEMP_C`] (200 °C), over ice below 0 °C and over
//! liquid water from 0 °C; ASHRAE quotes it within 300 ppm of the true values. Humidity
//! ratios and enthalpies assume an ideal-gas mixture (eqs. 20–32), good to a fraction of a
//! percent at atmospheric pressures. The saturation humidity ratio exists only below the
//! boiling point at the given pressure (where the saturation pressure reaches the total
//! pressure): at and above it these functions return `+∞`.
//!
//! Every function is pure, allocation-free and cheap enough to be called from inside an
//! ODE right-hand side: closed forms cost one `exp`/`ln`; the inverse functions
//! ([`dew_point_c`], [`wet_bulb_c`], [`saturation_temp_from_enthalpy_c`]) run a
//! bracketed Newton iteration that converges in a handful of steps (see the tests for the
//! measured worst case) and can never loop forever or panic. Inverse functions clamp their
//! result to the validity range [`MIN_TEMP_C`, `MAX_TEMP_C`]; a NaN input gives NaN.
//!
//! ```
//! use models::weather::psychro;
//!
//! let p_pa = psychro::pressure_from_elevation_pa(0.0);
//! let w = psychro::humidity_ratio_from_rel_humidity(30.0, 0.5, p_pa);
//! let wet_bulb_c = psychro::wet_bulb_c(30.0, w, p_pa);
//! assert!((wet_bulb_c - 22.0).abs() < 0.2);
//! assert!(psychro::dew_point_c(w, p_pa) < wet_bulb_c);
//! ```

/// Lowest temperature of the saturation-pressure correlation, °C.
pub const MIN_TEMP_C: f64 = -100.0;

/// Highest temperature of the saturation-pressure correlation, °C.
pub const MAX_TEMP_C: f64 = 200.0;

/// Standard atmospheric pressure at sea level, Pa (ASHRAE Table 1).
pub const STANDARD_PRESSURE_PA: f64 = 101_325.0;

/// Ratio of the molar masses of water vapour and dry air, Mw/Mda (eq. 22).
const MOLAR_MASS_RATIO: f64 = 0.621_945;

/// 0 °C in kelvin.
const ZERO_C_IN_K: f64 = 273.15;

/// Step below which an inverse function stops iterating, K.
const SOLVER_TOL_K: f64 = 1e-9;

/// Iteration cap of the inverse functions. The bracketed iteration halves its bracket
/// at worst, so 100 steps shrink a 300 K bracket below 1e-27 K: never reached in practice.
const SOLVER_MAX_ITER: u32 = 100;

/// What the saturated surface is: ASHRAE switches from ice to liquid water at 0 °C, both
/// for the saturation pressure (eqs. 5–6) and for the wetted surface of the wet bulb (eqs.
/// 33 and 35). The switch makes the functions jump slightly at 0 °C, so the inverse
/// functions pick the phase first and then iterate on one smooth branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Ice,
    Water,
}

impl Phase {
    #[inline]
    fn of(temp_c: f64) -> Phase {
        if temp_c < 0.0 { Phase::Ice } else { Phase::Water }
    }
}

/// Natural log of the saturation pressure (Pa) at `temp_c` over `phase` and its
/// derivative with respect to temperature (1/K): Hyland–Wexler over ice (eq. 5) or over
/// liquid water (eq. 6). One `ln`, no `exp`.
#[inline]
fn ln_saturation_pressure(temp_c: f64, phase: Phase) -> (f64, f64) {
    let t_k = temp_c + ZERO_C_IN_K;
    let ln_t = t_k.ln();
    match phase {
        Phase::Ice => {
            // Eq. 5, over ice, −100 to 0 °C.
            const C1: f64 = -5.674_535_9e3;
            const C2: f64 = 6.392_524_7;
            const C3: f64 = -9.677_843_0e-3;
            const C4: f64 = 6.221_570_1e-7;
            const C5: f64 = 2.074_782_5e-9;
            const C6: f64 = -9.484_024_0e-13;
            const C7: f64 = 4.163_501_9;
            let ln_p = C1 / t_k + C2 + t_k * (C3 + t_k * (C4 + t_k * (C5 + t_k * C6))) + C7 * ln_t;
            let d_ln_p =
                -C1 / (t_k * t_k) + C3 + t_k * (2.0 * C4 + t_k * (3.0 * C5 + t_k * 4.0 * C6)) + C7 / t_k;
            (ln_p, d_ln_p)
        }
        Phase::Water => {
            // Eq. 6, over liquid water, 0 to 200 °C.
            const C8: f64 = -5.800_220_6e3;
            const C9: f64 = 1.391_499_3;
            const C10: f64 = -4.864_023_9e-2;
            const C11: f64 = 4.176_476_8e-5;
            const C12: f64 = -1.445_209_3e-8;
            const C13: f64 = 6.545_967_3;
            let ln_p = C8 / t_k + C9 + t_k * (C10 + t_k * (C11 + t_k * C12)) + C13 * ln_t;
            let d_ln_p = -C8 / (t_k * t_k) + C10 + t_k * (2.0 * C11 + t_k * 3.0 * C12) + C13 / t_k;
            (ln_p, d_ln_p)
        }
    }
}

/// Saturation pressure of water vapour at `temp_c`, Pa: over ice below 0 °C (ASHRAE eq.
/// 5), over liquid water from 0 °C (eq. 6). Valid from −100 to 200 °C.
#[inline]
pub fn saturation_pressure_pa(temp_c: f64) -> f64 {
    ln_saturation_pressure(temp_c, Phase::of(temp_c)).0.exp()
}

/// Slope of [`saturation_pressure_pa`] with respect to temperature, Pa/K.
#[inline]
pub fn saturation_pressure_slope_pa_per_k(temp_c: f64) -> f64 {
    let (ln_p, d_ln_p) = ln_saturation_pressure(temp_c, Phase::of(temp_c));
    ln_p.exp() * d_ln_p
}

/// Standard-atmosphere pressure at `elevation_m` above sea level, Pa (ASHRAE eq. 3).
/// Valid from −5000 to 11 000 m (the troposphere).
#[inline]
pub fn pressure_from_elevation_pa(elevation_m: f64) -> f64 {
    STANDARD_PRESSURE_PA * (1.0 - 2.255_77e-5 * elevation_m).powf(5.2559)
}

/// Humidity ratio of air whose water-vapour partial pressure is `vapor_pressure_pa` at
/// total pressure `pressure_pa`, kg/kg (ASHRAE eq. 20). `+∞` when the vapour pressure
/// reaches the total pressure.
#[inline]
pub fn humidity_ratio_from_vapor_pressure(vapor_pressure_pa: f64, pressure_pa: f64) -> f64 {
    if vapor_pressure_pa >= pressure_pa {
        return f64::INFINITY;
    }
    MOLAR_MASS_RATIO * vapor_pressure_pa / (pressure_pa - vapor_pressure_pa)
}

/// Water-vapour partial pressure of air of `humidity_ratio_kg_per_kg` at total pressure
/// `pressure_pa`, Pa (inverse of eq. 20).
#[inline]
pub fn vapor_pressure_from_humidity_ratio(humidity_ratio_kg_per_kg: f64, pressure_pa: f64) -> f64 {
    pressure_pa * humidity_ratio_kg_per_kg / (MOLAR_MASS_RATIO + humidity_ratio_kg_per_kg)
}

/// Humidity ratio of saturated air at `temp_c` and `pressure_pa`, kg/kg (ASHRAE eq. 23,
/// over ice below 0 °C). `+∞` at and above the boiling point at `pressure_pa`.
#[inline]
pub fn saturation_humidity_ratio(temp_c: f64, pressure_pa: f64) -> f64 {
    humidity_ratio_from_vapor_pressure(saturation_pressure_pa(temp_c), pressure_pa)
}

/// Humidity ratio of air whose dew point (frost point below 0 °C) is `dew_point_c`, at
/// total pressure `pressure_pa`, kg/kg.
#[inline]
pub fn humidity_ratio_from_dew_point(dew_point_c: f64, pressure_pa: f64) -> f64 {
    saturation_humidity_ratio(dew_point_c, pressure_pa)
}

/// Humidity ratio of air at `dry_bulb_c` with relative humidity `rel_humidity_frac`
/// (0–1, ratio of vapour pressure to saturation pressure, eq. 12), at `pressure_pa`, kg/kg.
#[inline]
pub fn humidity_ratio_from_rel_humidity(dry_bulb_c: f64, rel_humidity_frac: f64, pressure_pa: f64) -> f64 {
    humidity_ratio_from_vapor_pressure(
        rel_humidity_frac * saturation_pressure_pa(dry_bulb_c),
        pressure_pa,
    )
}

/// Relative humidity (fraction, eq. 12) of air at `dry_bulb_c` holding
/// `humidity_ratio_kg_per_kg` at `pressure_pa`. Above 1 for supersaturated input.
#[inline]
pub fn rel_humidity_from_humidity_ratio(
    dry_bulb_c: f64,
    humidity_ratio_kg_per_kg: f64,
    pressure_pa: f64,
) -> f64 {
    vapor_pressure_from_humidity_ratio(humidity_ratio_kg_per_kg, pressure_pa)
        / saturation_pressure_pa(dry_bulb_c)
}

/// Saturation humidity ratio at `temp_c` over `phase` and its slope (per K), at
/// `pressure_pa`; `+∞` for both at and above the boiling point.
#[inline]
fn saturation_humidity_ratio_and_slope(temp_c: f64, pressure_pa: f64, phase: Phase) -> (f64, f64) {
    let (ln_p, d_ln_p) = ln_saturation_pressure(temp_c, phase);
    let pws = ln_p.exp();
    if pws >= pressure_pa {
        return (f64::INFINITY, f64::INFINITY);
    }
    let dry_pa = pressure_pa - pws;
    let ws = MOLAR_MASS_RATIO * pws / dry_pa;
    let dws = MOLAR_MASS_RATIO * pressure_pa * pws * d_ln_p / (dry_pa * dry_pa);
    (ws, dws)
}

/// The ASHRAE psychrometric equation: humidity ratio of air at `dry_bulb_c` whose
/// thermodynamic wet bulb is `wet_bulb_c` with a wetted surface of `phase` (eq. 33 for
/// water, eq. 35 for ice), and its derivative with respect to the wet bulb.
#[inline]
fn psychrometric_equation(dry_bulb_c: f64, wet_bulb_c: f64, pressure_pa: f64, phase: Phase) -> (f64, f64) {
    let (ws, dws) = saturation_humidity_ratio_and_slope(wet_bulb_c, pressure_pa, phase);
    // Coefficients in kJ/kg, as printed.
    let (a, b, c) = match phase {
        Phase::Water => (2501.0, 2.326, 4.186),
        Phase::Ice => (2830.0, 0.24, 2.1),
    };
    let num = (a - b * wet_bulb_c) * ws - 1.006 * (dry_bulb_c - wet_bulb_c);
    let den = a + 1.86 * dry_bulb_c - c * wet_bulb_c;
    let d_num = -b * ws + (a - b * wet_bulb_c) * dws + 1.006;
    let d_den = -c;
    (num / den, (d_num * den - num * d_den) / (den * den))
}

/// Humidity ratio of air at `dry_bulb_c` whose thermodynamic wet bulb is `wet_bulb_c`, at
/// `pressure_pa`, kg/kg (ASHRAE eq. 33 for a wet bulb at or above 0 °C, eq. 35 below).
/// Negative when the pair is not physical (wet bulb far below dry bulb in dry air).
#[inline]
pub fn humidity_ratio_from_wet_bulb(dry_bulb_c: f64, wet_bulb_c: f64, pressure_pa: f64) -> f64 {
    psychrometric_equation(dry_bulb_c, wet_bulb_c, pressure_pa, Phase::of(wet_bulb_c)).0
}

/// Finds the root of an increasing function `f` (returning value and derivative) in
/// `[lo, hi]`, starting from `x0`: Newton steps, falling back to bisection whenever a
/// step leaves the shrinking bracket (after trying the bracket end itself once, as the
/// root may sit exactly there). Returns the root and the number of function
/// evaluations. Never loops more than [`SOLVER_MAX_ITER`] times.
#[inline]
fn solve_increasing(mut lo: f64, mut hi: f64, x0: f64, f: impl Fn(f64) -> (f64, f64)) -> (f64, u32) {
    let mut x = x0.clamp(lo, hi);
    // Whether f has been evaluated at the bracket ends.
    let (mut lo_tried, mut hi_tried) = (false, false);
    for iteration in 1..=SOLVER_MAX_ITER {
        let (fx, dfx) = f(x);
        if fx == 0.0 {
            return (x, iteration);
        }
        // +∞ (beyond the boiling point) counts as "too hot"; NaN cannot occur for finite x
        // in range but is treated the same way, which only shrinks the bracket.
        if fx > 0.0 || fx.is_nan() {
            hi = x;
            hi_tried = true;
        } else {
            lo = x;
            lo_tried = true;
        }
        let newton = x - fx / dfx;
        // A converged Newton step may land on a bracket end (the root is that close):
        // accept it before the bracket test would turn it into a bisection.
        if (newton - x).abs() <= SOLVER_TOL_K {
            return (newton.clamp(lo, hi), iteration);
        }
        x = if newton > lo && newton < hi {
            newton
        } else if newton <= lo && !lo_tried {
            lo
        } else if newton >= hi && !hi_tried {
            hi
        } else {
            0.5 * (lo + hi)
        };
        if hi - lo <= SOLVER_TOL_K {
            return (x, iteration);
        }
    }
    (x, SOLVER_MAX_ITER)
}

/// Dew point (frost point below 0 °C) of air whose water-vapour partial pressure is
/// `vapor_pressure_pa`, °C: the temperature at which [`saturation_pressure_pa`] equals
/// it. Clamped to [`MIN_TEMP_C`, `MAX_TEMP_C`]; a vapour pressure at or below zero gives
/// [`MIN_TEMP_C`]. Between the saturation pressures over ice and over water at 0 °C
/// (611.15 and 611.21 Pa) it is 0 °C.
pub fn dew_point_from_vapor_pressure_c(vapor_pressure_pa: f64) -> f64 {
    dew_point_solve(vapor_pressure_pa).0
}

fn dew_point_solve(vapor_pressure_pa: f64) -> (f64, u32) {
    if vapor_pressure_pa.is_nan() {
        return (f64::NAN, 0);
    }
    if vapor_pressure_pa <= saturation_pressure_pa(MIN_TEMP_C) {
        return (MIN_TEMP_C, 0);
    }
    if vapor_pressure_pa >= saturation_pressure_pa(MAX_TEMP_C) {
        return (MAX_TEMP_C, 0);
    }
    let ln_pw = vapor_pressure_pa.ln();
    let (lo, hi, phase) = if ln_pw >= ln_saturation_pressure(0.0, Phase::Water).0 {
        (0.0, MAX_TEMP_C, Phase::Water)
    } else if ln_pw < ln_saturation_pressure(0.0, Phase::Ice).0 {
        (MIN_TEMP_C, 0.0, Phase::Ice)
    } else {
        return (0.0, 0);
    };
    // First guess: ASHRAE's explicit fit (eqs. 39 and 40, Peppers 1988), pw in kPa.
    let alpha = ln_pw - 1000f64.ln();
    let guess = match phase {
        Phase::Water => {
            6.54 + alpha * (14.526 + alpha * (0.7389 + alpha * 0.094_86))
                + 0.4569 * (vapor_pressure_pa / 1000.0).powf(0.1984)
        }
        Phase::Ice => 6.09 + alpha * (12.608 + alpha * 0.4959),
    };
    solve_increasing(lo, hi, guess, |t_c| {
        let (ln_p, d_ln_p) = ln_saturation_pressure(t_c, phase);
        (ln_p - ln_pw, d_ln_p)
    })
}

/// Dew point (frost point below 0 °C) of air holding `humidity_ratio_kg_per_kg` at
/// `pressure_pa`, °C. Clamped to [`MIN_TEMP_C`, `MAX_TEMP_C`]: dry air
/// (`humidity_ratio_kg_per_kg <= 0`) gives [`MIN_TEMP_C`].
pub fn dew_point_c(humidity_ratio_kg_per_kg: f64, pressure_pa: f64) -> f64 {
    // Not `max(0.0)`: that would turn NaN into dry air.
    let w = if humidity_ratio_kg_per_kg < 0.0 {
        0.0
    } else {
        humidity_ratio_kg_per_kg
    };
    dew_point_from_vapor_pressure_c(vapor_pressure_from_humidity_ratio(w, pressure_pa))
}

/// Thermodynamic wet-bulb temperature of air at `dry_bulb_c` holding
/// `humidity_ratio_kg_per_kg` at `pressure_pa`, °C: the root of the ASHRAE psychrometric
/// equation (eq. 33 for a wet bulb at or above 0 °C, eq. 35 below), found by a
/// bracketed Newton iteration from the dry bulb (4–5 evaluations of the saturation
/// pressure on average, 9 at worst).
///
/// Saturated or supersaturated air (humidity ratio at or above saturation at the dry
/// bulb) gives the dry bulb; a negative humidity ratio counts as dry air. Valid for dry
/// bulbs from −100 to 200 °C below the boiling point at `pressure_pa`.
///
/// ASHRAE's two equations disagree at 0 °C (ice or water on the wick): for a dry bulb
/// above 0 °C, the humidity ratios that both would explain get the water root, so the wet
/// bulb jumps up to 0 °C as the humidity ratio rises through eq. 33's value at 0 °C. It
/// never decreases with humidity ratio.
pub fn wet_bulb_c(dry_bulb_c: f64, humidity_ratio_kg_per_kg: f64, pressure_pa: f64) -> f64 {
    wet_bulb_solve(dry_bulb_c, humidity_ratio_kg_per_kg, pressure_pa).0
}

fn wet_bulb_solve(dry_bulb_c: f64, humidity_ratio_kg_per_kg: f64, pressure_pa: f64) -> (f64, u32) {
    if dry_bulb_c.is_nan() || humidity_ratio_kg_per_kg.is_nan() || pressure_pa.is_nan() {
        return (f64::NAN, 0);
    }
    let w = if humidity_ratio_kg_per_kg < 0.0 {
        0.0
    } else {
        humidity_ratio_kg_per_kg
    };
    let mut hi = dry_bulb_c.min(MAX_TEMP_C);
    if hi <= MIN_TEMP_C || w >= saturation_humidity_ratio(hi, pressure_pa) {
        // Saturated, or colder than the correlation reaches.
        return (hi, 0);
    }
    // Pick the wetted surface first. With a dry bulb above 0 °C the wet bulb is on the
    // water branch (eq. 33) exactly when eq. 33 at 0 °C explains no more than `w`; 0 °C is
    // then a lower bound. Otherwise the root is on the ice branch (eq. 35), below 0 °C,
    // and −100 °C is a lower bound (eq. 35 is negative there for any warmer dry bulb).
    let (lo, phase) = if hi < 0.0 || psychrometric_equation(dry_bulb_c, 0.0, pressure_pa, Phase::Water).0 > w
    {
        hi = hi.min(0.0);
        (MIN_TEMP_C, Phase::Ice)
    } else {
        (0.0, Phase::Water)
    };
    // Newton from the dry bulb: the psychrometric equation is increasing and close to
    // convex in the wet bulb, so the steps approach the root from above; the bracket
    // catches any overshoot.
    solve_increasing(lo, hi, hi, |t_wb| {
        let (w_calc, dw) = psychrometric_equation(dry_bulb_c, t_wb, pressure_pa, phase);
        (w_calc - w, dw)
    })
}

/// Specific enthalpy of moist air at `dry_bulb_c` holding `humidity_ratio_kg_per_kg`, J
/// per kg of dry air, zero for dry air at 0 °C (ASHRAE eq. 32).
#[inline]
pub fn moist_air_enthalpy_j_per_kg(dry_bulb_c: f64, humidity_ratio_kg_per_kg: f64) -> f64 {
    1000.0 * (1.006 * dry_bulb_c + humidity_ratio_kg_per_kg * (2501.0 + 1.86 * dry_bulb_c))
}

/// Dry bulb of moist air of specific enthalpy `enthalpy_j_per_kg` holding
/// `humidity_ratio_kg_per_kg`, °C (eq. 32 solved for t).
#[inline]
pub fn dry_bulb_from_enthalpy_c(enthalpy_j_per_kg: f64, humidity_ratio_kg_per_kg: f64) -> f64 {
    (enthalpy_j_per_kg / 1000.0 - 2501.0 * humidity_ratio_kg_per_kg)
        / (1.006 + 1.86 * humidity_ratio_kg_per_kg)
}

/// Specific volume of moist air, m³ per kg of dry air (ASHRAE eq. 26).
#[inline]
pub fn moist_air_specific_volume_m3_per_kg(
    dry_bulb_c: f64,
    humidity_ratio_kg_per_kg: f64,
    pressure_pa: f64,
) -> f64 {
    287.042 * (dry_bulb_c + ZERO_C_IN_K) * (1.0 + 1.607_858 * humidity_ratio_kg_per_kg) / pressure_pa
}

/// Specific enthalpy of saturated air at `temp_c` over `phase` and its slope with
/// respect to temperature, J/kg and J/(kg·K).
#[inline]
fn saturated_air_enthalpy_and_slope(temp_c: f64, pressure_pa: f64, phase: Phase) -> (f64, f64) {
    let (ws, dws) = saturation_humidity_ratio_and_slope(temp_c, pressure_pa, phase);
    (
        moist_air_enthalpy_j_per_kg(temp_c, ws),
        1000.0 * (1.006 + 1.86 * ws + (2501.0 + 1.86 * temp_c) * dws),
    )
}

/// Specific enthalpy of saturated air at `temp_c` and `pressure_pa`, J per kg of dry air.
/// `+∞` at and above the boiling point at `pressure_pa`.
#[inline]
pub fn saturated_air_enthalpy_j_per_kg(temp_c: f64, pressure_pa: f64) -> f64 {
    moist_air_enthalpy_j_per_kg(temp_c, saturation_humidity_ratio(temp_c, pressure_pa))
}

/// Slope d(h_sat)/dT of [`saturated_air_enthalpy_j_per_kg`], J/(kg·K): what a
/// Merkel-type cooling-tower model calls the saturation-curve slope. Closed form, no
/// iteration.
#[inline]
pub fn saturated_air_enthalpy_slope_j_per_kg_k(temp_c: f64, pressure_pa: f64) -> f64 {
    saturated_air_enthalpy_and_slope(temp_c, pressure_pa, Phase::of(temp_c)).1
}

/// Temperature at which saturated air at `pressure_pa` has specific enthalpy
/// `enthalpy_j_per_kg`, °C: the inverse of [`saturated_air_enthalpy_j_per_kg`]. Clamped to
/// [`MIN_TEMP_C`, `MAX_TEMP_C`] (in practice the upper end is the boiling point at
/// `pressure_pa`); 0 °C inside the ~1 J/kg step that the ice/water switch of the
/// saturation pressure makes at 0 °C.
pub fn saturation_temp_from_enthalpy_c(enthalpy_j_per_kg: f64, pressure_pa: f64) -> f64 {
    saturation_temp_solve(enthalpy_j_per_kg, pressure_pa).0
}

fn saturation_temp_solve(enthalpy_j_per_kg: f64, pressure_pa: f64) -> (f64, u32) {
    if enthalpy_j_per_kg.is_nan() || pressure_pa.is_nan() {
        return (f64::NAN, 0);
    }
    let (lo, hi, phase) =
        if enthalpy_j_per_kg >= saturated_air_enthalpy_and_slope(0.0, pressure_pa, Phase::Water).0 {
            (0.0, MAX_TEMP_C, Phase::Water)
        } else if enthalpy_j_per_kg < saturated_air_enthalpy_and_slope(0.0, pressure_pa, Phase::Ice).0 {
            (MIN_TEMP_C, 0.0, Phase::Ice)
        } else {
            return (0.0, 0);
        };
    let h_kj = enthalpy_j_per_kg / 1000.0;
    match phase {
        // Below 0 °C the vapour term is small: start from dry air.
        Phase::Ice => solve_increasing(lo, hi, h_kj / 1.006, |t_c| {
            let (h, dh) = saturated_air_enthalpy_and_slope(t_c, pressure_pa, phase);
            (h - enthalpy_j_per_kg, dh)
        }),
        // Above, h_sat grows nearly exponentially (and is positive): iterate on its log,
        // which is close to linear, from a fit within 1 K over 0–40 °C at sea level.
        Phase::Water => {
            let ln_h = enthalpy_j_per_kg.ln();
            solve_increasing(lo, hi, -13.0 + 4.3 * h_kj.sqrt(), |t_c| {
                let (h, dh) = saturated_air_enthalpy_and_slope(t_c, pressure_pa, phase);
                (h.ln() - ln_h, dh / h)
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn assert_rel(actual: f64, expected: f64, rel: f64, what: &str) {
        let err = ((actual - expected) / expected).abs();
        assert!(
            err <= rel,
            "{what}: {actual} vs {expected} (rel. error {err:.2e} > {rel:.0e})"
        );
    }

    /// Saturation pressure against ASHRAE 2017 Fundamentals (SI) ch. 1, Table 3
    /// ("Thermodynamic Properties of Water at Saturation"). ASHRAE states eqs. 5–6 agree
    /// with its table within 300 ppm.
    #[test]
    fn saturation_pressure_matches_ashrae_table_3() {
        for (temp_c, table_pa) in [
            (-20.0, 103.24),
            (-5.0, 401.74),
            (0.0, 611.2),
            (5.0, 872.6),
            (20.0, 2339.2),
            (25.0, 3169.7),
            (40.0, 7385.1),
            (50.0, 12_351.3),
            (100.0, 101_418.0),
            (150.0, 476_101.4),
        ] {
            assert_rel(
                saturation_pressure_pa(temp_c),
                table_pa,
                3e-4,
                &format!("pws({temp_c} °C)"),
            );
        }
    }

    /// ASHRAE 2017 Fundamentals (SI) ch. 1, Table 2 ("Thermodynamic Properties of Moist
    /// Air at 101.325 kPa"): saturation humidity ratio and enthalpy. The table comes from
    /// real-gas formulations (with the enhancement factor), the equations from ideal-gas
    /// mixing: agreement within 0.5 % up to 25 °C, 1 % at 50 °C.
    #[test]
    fn saturated_air_matches_ashrae_table_2() {
        for (temp_c, ws, ws_rel, hs_j_per_kg) in [
            (5.0, 0.005_425, 5e-3, 18_639.0),
            (25.0, 0.020_173, 5e-3, 76_504.0),
            (50.0, 0.086_863, 1e-2, 275_353.0),
        ] {
            assert_rel(
                saturation_humidity_ratio(temp_c, STANDARD_PRESSURE_PA),
                ws,
                ws_rel,
                "Ws",
            );
            assert_rel(
                saturated_air_enthalpy_j_per_kg(temp_c, STANDARD_PRESSURE_PA),
                hs_j_per_kg,
                1e-2,
                "hs",
            );
        }
        assert_rel(
            saturation_humidity_ratio(-20.0, STANDARD_PRESSURE_PA),
            0.000_637_3,
            1e-2,
            "Ws(-20)",
        );
    }

    /// ASHRAE 2017 Fundamentals (SI) ch. 1, Table 1 (standard atmosphere).
    #[test]
    fn standard_atmosphere_matches_ashrae_table_1() {
        for (elevation_m, table_pa) in [
            (-500.0, 107_478.0),
            (0.0, 101_325.0),
            (500.0, 95_461.0),
            (1000.0, 89_875.0),
            (4000.0, 61_640.0),
            (10_000.0, 26_436.0),
        ] {
            let p = pressure_from_elevation_pa(elevation_m);
            assert!(
                (p - table_pa).abs() <= 1.0,
                "p({elevation_m} m) = {p}, table {table_pa}"
            );
        }
    }

    /// ASHRAE 2017 Fundamentals (SI) ch. 1, Example 1: moist air at 40 °C dry bulb, 20 °C
    /// thermodynamic wet bulb, 101.325 kPa has W = 0.0065 kg/kg, h = 56.7 kJ/kg, dew point
    /// 7 °C, φ = 14 %, v = 0.896 m³/kg. Then back again from W to the wet bulb.
    #[test]
    fn ashrae_example_1_forward_and_back() {
        let p = STANDARD_PRESSURE_PA;
        let w = humidity_ratio_from_wet_bulb(40.0, 20.0, p);
        assert!((w - 0.0065).abs() < 1e-4, "W = {w}");
        let h = moist_air_enthalpy_j_per_kg(40.0, w);
        assert!((h - 56_700.0).abs() < 200.0, "h = {h}");
        let dp = dew_point_c(w, p);
        assert!((dp - 7.0).abs() < 0.5, "dew point = {dp}");
        let rh = rel_humidity_from_humidity_ratio(40.0, w, p);
        assert!((rh - 0.14).abs() < 0.01, "RH = {rh}");
        let v = moist_air_specific_volume_m3_per_kg(40.0, w, p);
        assert!((v - 0.896).abs() < 0.002, "v = {v}");
        assert!((wet_bulb_c(40.0, w, p) - 20.0).abs() < 1e-6);
    }

    /// Wet bulb against PsychroLib's published SI test states (30 °C / 25 °C and −1 °C /
    /// −5 °C at the standard pressure of 500 m, 95 461 Pa), which exercise eq. 33 and
    /// eq. 35 (over ice).
    #[test]
    fn wet_bulb_above_and_below_freezing() {
        let p = 95_461.0;
        let w = humidity_ratio_from_wet_bulb(30.0, 25.0, p);
        assert_rel(w, 0.019_228_127_424_109_6, 3e-4, "W(30, 25)");
        assert!((wet_bulb_c(30.0, w, p) - 25.0).abs() < 1e-6);
        let w = humidity_ratio_from_wet_bulb(-1.0, -5.0, p);
        assert_rel(w, 0.001_203_998_199_338_44, 3e-4, "W(-1, -5)");
        assert!((wet_bulb_c(-1.0, w, p) - -5.0).abs() < 1e-6);
    }

    #[test]
    fn saturated_air_has_equal_dry_bulb_wet_bulb_and_dew_point() {
        for temp_c in [-40.0, -10.0, -0.5, 0.0, 0.5, 15.0, 30.0, 45.0, 80.0] {
            for p in [STANDARD_PRESSURE_PA, 81_000.0] {
                let w = humidity_ratio_from_rel_humidity(temp_c, 1.0, p);
                let wb = wet_bulb_c(temp_c, w, p);
                let dp = dew_point_c(w, p);
                assert!((wb - temp_c).abs() < 1e-6, "{temp_c} °C: wet bulb {wb}");
                assert!((dp - temp_c).abs() < 1e-6, "{temp_c} °C: dew point {dp}");
            }
        }
    }

    #[test]
    fn supersaturated_and_dry_air_are_handled() {
        let p = STANDARD_PRESSURE_PA;
        // More water than saturation holds: the wet bulb is the dry bulb.
        assert_eq!(wet_bulb_c(20.0, 0.05, p), 20.0);
        // Bone-dry air: the wet bulb is well below the dry bulb; the dew point is the floor.
        let wb = wet_bulb_c(20.0, 0.0, p);
        assert!(wb > 0.0 && wb < 8.0, "wet bulb of dry air at 20 °C: {wb}");
        assert_eq!(wet_bulb_c(20.0, -0.001, p), wb);
        assert_eq!(dew_point_c(0.0, p), MIN_TEMP_C);
        assert!(wet_bulb_c(f64::NAN, 0.01, p).is_nan());
        assert!(dew_point_c(f64::NAN, p).is_nan());
        assert!(saturation_temp_from_enthalpy_c(f64::NAN, p).is_nan());
        // Beyond the boiling point saturation is unbounded.
        assert_eq!(saturation_humidity_ratio(120.0, p), f64::INFINITY);
        assert!(saturation_temp_from_enthalpy_c(1e12, p) > 99.9);
        assert_eq!(saturation_temp_from_enthalpy_c(-1e9, p), MIN_TEMP_C);
    }

    #[test]
    fn inverses_round_trip() {
        for p in [STANDARD_PRESSURE_PA, 95_461.0, 81_000.0] {
            let mut t = -90.0;
            while t <= 90.0 {
                let w = humidity_ratio_from_dew_point(t, p);
                if w.is_finite() {
                    let back = dew_point_c(w, p);
                    assert!((back - t).abs() < 1e-6, "dew point {t} at {p}: {back}");
                    let h = saturated_air_enthalpy_j_per_kg(t, p);
                    let back = saturation_temp_from_enthalpy_c(h, p);
                    assert!((back - t).abs() < 1e-6, "h_sat inverse {t} at {p}: {back}");
                    let h = moist_air_enthalpy_j_per_kg(t, 0.01);
                    assert!((dry_bulb_from_enthalpy_c(h, 0.01) - t).abs() < 1e-9);
                }
                for rh in [0.05, 0.5, 0.95] {
                    let w = humidity_ratio_from_rel_humidity(t, rh, p);
                    let back = rel_humidity_from_humidity_ratio(t, w, p);
                    assert!((back - rh).abs() < 1e-9, "RH {rh} at {t} °C: {back}");
                }
                t += 2.5;
            }
        }
    }

    /// The slope functions agree with central differences of the functions they derive.
    #[test]
    fn slopes_match_finite_differences() {
        let p = STANDARD_PRESSURE_PA;
        for t in [-30.0, -5.0, 5.0, 25.0, 45.0, 70.0] {
            let dt = 1e-4;
            let fd = (saturation_pressure_pa(t + dt) - saturation_pressure_pa(t - dt)) / (2.0 * dt);
            assert_rel(saturation_pressure_slope_pa_per_k(t), fd, 1e-6, "dpws/dT");
            let fd = (saturated_air_enthalpy_j_per_kg(t + dt, p)
                - saturated_air_enthalpy_j_per_kg(t - dt, p))
                / (2.0 * dt);
            assert_rel(saturated_air_enthalpy_slope_j_per_kg_k(t, p), fd, 1e-6, "dhs/dT");
        }
    }

    /// The bracketed Newton iterations need few function evaluations everywhere in the
    /// range the twin uses: −50 to 70 °C, every 5 % of relative humidity, at sea level,
    /// 1900 m and 4200 m.
    #[test]
    fn inverse_functions_converge_in_a_few_iterations() {
        let mut worst_wb = 0;
        let mut worst_dp = 0;
        let mut worst_hs = 0;
        for p in [STANDARD_PRESSURE_PA, 81_000.0, 60_000.0] {
            for i in 0..=120 {
                let t = -50.0 + i as f64;
                for j in 0..=20 {
                    let rh = j as f64 / 20.0;
                    let w = humidity_ratio_from_rel_humidity(t, rh, p);
                    if !w.is_finite() {
                        continue;
                    }
                    worst_wb = worst_wb.max(wet_bulb_solve(t, w, p).1);
                    let pw = vapor_pressure_from_humidity_ratio(w, p);
                    worst_dp = worst_dp.max(dew_point_solve(pw).1);
                }
                let h = saturated_air_enthalpy_j_per_kg(t, p);
                if h.is_finite() {
                    worst_hs = worst_hs.max(saturation_temp_solve(h, p).1);
                }
            }
        }
        // Measured worst cases: 9 (bone-dry air at 65 °C), 4, and 9 (near the boiling point
        // at 60 kPa). The mean for the wet bulb over −20…40 °C, 10–100 % RH is 4.4.
        assert!(worst_wb <= 9, "wet bulb: {worst_wb} evaluations");
        assert!(worst_dp <= 5, "dew point: {worst_dp} evaluations");
        assert!(worst_hs <= 9, "saturation temperature: {worst_hs} evaluations");
    }

    proptest! {
        #[test]
        fn dew_point_below_wet_bulb_below_dry_bulb(
            t in -60.0f64..60.0, rh in 0.0f64..=1.0, p in 60_000.0f64..110_000.0,
        ) {
            let w = humidity_ratio_from_rel_humidity(t, rh, p);
            let wb = wet_bulb_c(t, w, p);
            let dp = dew_point_c(w, p);
            prop_assert!(dp <= wb + 1e-6, "dew point {dp} > wet bulb {wb}");
            prop_assert!(wb <= t + 1e-9, "wet bulb {wb} > dry bulb {t}");
        }

        #[test]
        fn wet_bulb_rises_with_humidity_ratio(
            t in -40.0f64..60.0, rh1 in 0.0f64..=1.0, rh2 in 0.0f64..=1.0, p in 60_000.0f64..110_000.0,
        ) {
            let (lo, hi) = if rh1 <= rh2 { (rh1, rh2) } else { (rh2, rh1) };
            let wb_lo = wet_bulb_c(t, humidity_ratio_from_rel_humidity(t, lo, p), p);
            let wb_hi = wet_bulb_c(t, humidity_ratio_from_rel_humidity(t, hi, p), p);
            prop_assert!(wb_hi >= wb_lo - 1e-9, "RH {lo} -> {wb_lo}, RH {hi} -> {wb_hi}");
            // Strictly, away from the ice/water switch of the wetted surface at 0 °C.
            if hi - lo > 0.01 && wb_lo.abs() > 0.5 && wb_hi.abs() > 0.5 {
                prop_assert!(wb_hi > wb_lo);
            }
        }

        #[test]
        fn enthalpy_rises_with_temperature(
            t in -60.0f64..90.0, dt in 0.001f64..20.0, w in 0.0f64..0.05, p in 60_000.0f64..110_000.0,
        ) {
            prop_assert!(moist_air_enthalpy_j_per_kg(t + dt, w) > moist_air_enthalpy_j_per_kg(t, w));
            let hs = saturated_air_enthalpy_j_per_kg(t, p);
            let hs2 = saturated_air_enthalpy_j_per_kg(t + dt, p);
            prop_assert!(hs2 > hs || hs2.is_infinite());
            prop_assert!(saturated_air_enthalpy_slope_j_per_kg_k(t, p) > 0.0);
        }

        #[test]
        fn wet_bulb_is_finite_for_any_physical_input(
            t in -100.0f64..200.0, w in -0.1f64..10.0, p in 30_000.0f64..120_000.0,
        ) {
            let wb = wet_bulb_c(t, w, p);
            prop_assert!(wb.is_finite() && wb <= t && wb >= MIN_TEMP_C, "{wb}");
        }
    }
}
