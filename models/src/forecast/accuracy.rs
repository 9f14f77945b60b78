//! How well forecasts did: MAPE, CV(RMSE) and NMBE of forecast values against the
//! measurements of the same quantity, per quantity and lead time.
//!
//! With `y` the measured and `ŷ` the forecast values of `n` pairs and `ȳ` the measured
//! mean (ASHRAE Guideline 14-2014, with no fitted parameters, p = 0: a forecast is not
//! fitted to the measurements it is scored against):
//!
//! - MAPE = 100 · Σ|y − ŷ|/|y| / n (pairs with y = 0 are left out of it);
//! - CV(RMSE) = 100 · √(Σ(y − ŷ)²/n) / ȳ;
//! - NMBE = 100 · Σ(y − ŷ) / (n · ȳ): positive when the forecast is low.
//!
//! Guideline 14 calls a model calibrated at CV(RMSE) ≤ 30 % and |NMBE| ≤ 10 % on hourly
//! data, ≤ 15 % and ≤ 5 % on monthly data; [`GUIDELINE_14`] carries those for a report.
//!
//! ```
//! use models::forecast::accuracy::score;
//!
//! // Measured 100 and 200, forecast 110 and 190.
//! let s = score([(110.0, 100.0), (190.0, 200.0)]);
//! assert_eq!(s.pairs, 2);
//! assert!((s.mape_pct.unwrap() - 7.5).abs() < 1e-12);        // (10 % + 5 %)/2
//! assert!((s.cv_rmse_pct.unwrap() - 100.0 * 10.0 / 150.0).abs() < 1e-12);
//! assert!(s.nmbe_pct.unwrap().abs() < 1e-12);                  // the errors cancel
//! ```

use serde::{Deserialize, Serialize};

/// The scores of one set of (forecast, measured) pairs; `None` where undefined (no
/// pairs, a measured mean of 0, or no measured value ≠ 0 for MAPE).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scores {
    /// Pairs scored.
    pub pairs: usize,
    /// Mean absolute percentage error, %.
    pub mape_pct: Option<f64>,
    /// Coefficient of variation of the root-mean-square error, %.
    pub cv_rmse_pct: Option<f64>,
    /// Normalised mean bias error, % (positive: the forecast is low).
    pub nmbe_pct: Option<f64>,
}

/// The Guideline 14 limits a report shows beside its scores.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Guideline14 {
    /// CV(RMSE) limit on hourly data, %.
    pub hourly_cv_rmse_pct: f64,
    /// |NMBE| limit on hourly data, %.
    pub hourly_nmbe_pct: f64,
    /// CV(RMSE) limit on monthly data, %.
    pub monthly_cv_rmse_pct: f64,
    /// |NMBE| limit on monthly data, %.
    pub monthly_nmbe_pct: f64,
}

/// ASHRAE Guideline 14-2014's calibration limits.
pub const GUIDELINE_14: Guideline14 = Guideline14 {
    hourly_cv_rmse_pct: 30.0,
    hourly_nmbe_pct: 10.0,
    monthly_cv_rmse_pct: 15.0,
    monthly_nmbe_pct: 5.0,
};

/// Scores `(forecast, measured)` pairs; pairs with a value that is not finite are
/// skipped.
pub fn score(pairs: impl IntoIterator<Item = (f64, f64)>) -> Scores {
    let (mut n, mut sum_y, mut sum_err, mut sum_sq) = (0usize, 0.0, 0.0, 0.0);
    let (mut n_pct, mut sum_pct) = (0usize, 0.0);
    for (forecast, measured) in pairs {
        if !(forecast.is_finite() && measured.is_finite()) {
            continue;
        }
        let err = measured - forecast;
        n += 1;
        sum_y += measured;
        sum_err += err;
        sum_sq += err * err;
        if measured != 0.0 {
            n_pct += 1;
            sum_pct += (err / measured).abs();
        }
    }
    if n == 0 {
        return Scores::default();
    }
    let nf = n as f64;
    let mean = sum_y / nf;
    let relative = |v: f64| (mean != 0.0).then(|| 100.0 * v / mean);
    Scores {
        pairs: n,
        mape_pct: (n_pct > 0).then(|| 100.0 * sum_pct / n_pct as f64),
        cv_rmse_pct: relative((sum_sq / nf).sqrt()),
        nmbe_pct: relative(sum_err / nf),
    }
}

/// Scores of one quantity at one lead time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadScores {
    /// Lead time of the slots scored, from this many hours after the forecast was made…
    pub lead_from_h: f64,
    /// … to this many.
    pub lead_to_h: f64,
    /// The scores.
    #[serde(flatten)]
    pub scores: Scores,
}

/// Scores of one forecast quantity against its measured point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuantityAccuracy {
    /// The forecast quantity (`import_kw`, `hall-a/it_kw`, …).
    pub quantity: String,
    /// The point it is measured by (`grid/import_kw`, `hall-a/feeder/power_kw`, …).
    pub point: String,
    /// All leads together.
    pub overall: Scores,
    /// By lead time.
    pub by_lead: Vec<LeadScores>,
}

/// The accuracy of the forecasts issued in a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccuracyReport {
    /// Forecasts scored.
    pub forecasts: usize,
    /// Width of a lead-time bucket, h.
    pub lead_bucket_h: f64,
    /// Per quantity.
    pub quantities: Vec<QuantityAccuracy>,
    /// Guideline 14's limits, for comparison.
    pub guideline_14: Guideline14,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_perfect_forecast_scores_zero() {
        let s = score((1..=24).map(|h| (f64::from(h), f64::from(h))));
        assert_eq!(s.pairs, 24);
        assert_eq!(
            (s.mape_pct, s.cv_rmse_pct, s.nmbe_pct),
            (Some(0.0), Some(0.0), Some(0.0))
        );
    }

    /// A synthetic truth `y = 100 + 10·sin` forecast with a constant bias b and an
    /// alternating error ±e: in closed form NMBE = −100·b/ȳ, CV(RMSE) = 100·√(b² + e²)/ȳ,
    /// and with |y| known per pair MAPE is the mean of |−b ∓ e|/y.
    #[test]
    fn a_biased_noisy_forecast_scores_in_closed_form() {
        let (b, e) = (3.0, 4.0);
        let truth: Vec<f64> = (0..48)
            .map(|k| 100.0 + 10.0 * (f64::from(k) * 0.3).sin())
            .collect();
        let mean = truth.iter().sum::<f64>() / 48.0;
        let pairs: Vec<(f64, f64)> = truth
            .iter()
            .enumerate()
            .map(|(k, &y)| (y + b + if k % 2 == 0 { e } else { -e }, y))
            .collect();
        let s = score(pairs.iter().copied());
        let mape = pairs.iter().map(|(f, y)| (y - f).abs() / y).sum::<f64>() / 48.0 * 100.0;
        assert!((s.nmbe_pct.unwrap() + 100.0 * b / mean).abs() < 1e-9);
        assert!((s.cv_rmse_pct.unwrap() - 100.0 * (b * b + e * e).sqrt() / mean).abs() < 1e-9);
        assert!((s.mape_pct.unwrap() - mape).abs() < 1e-9);
    }

    #[test]
    fn undefined_scores_are_absent() {
        assert_eq!(score([]).pairs, 0);
        let zero_mean = score([(1.0, 1.0), (1.0, -1.0)]);
        assert_eq!(zero_mean.cv_rmse_pct, None);
        assert_eq!(zero_mean.nmbe_pct, None);
        assert!(zero_mean.mape_pct.is_some());
        assert_eq!(score([(f64::NAN, 1.0)]).pairs, 0);
    }

    proptest! {
        /// Scaling forecasts and measurements together leaves every score unchanged;
        /// CV(RMSE) is never below |NMBE| (the RMS error bounds the mean error).
        #[test]
        fn scores_are_scale_free_and_bounded(
            values in proptest::collection::vec((1.0f64..1000.0, 1.0f64..1000.0), 1..50),
            k in 0.01f64..100.0,
        ) {
            let s = score(values.iter().copied());
            let scaled = score(values.iter().map(|(f, y)| (f * k, y * k)));
            for (a, b) in [(s.mape_pct, scaled.mape_pct), (s.cv_rmse_pct, scaled.cv_rmse_pct), (s.nmbe_pct, scaled.nmbe_pct)] {
                let (a, b) = (a.unwrap(), b.unwrap());
                prop_assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0));
            }
            prop_assert!(s.cv_rmse_pct.unwrap() + 1e-9 >= s.nmbe_pct.unwrap().abs());
        }
    }
}
