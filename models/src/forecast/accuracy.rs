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

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Forecast, ForecastSlot};

/// The scores of one set of (forecast, measured) pairs; `None` where undefined (no
/// pairs, a measured mean of 0, or no measured value ≠ 0 for MAPE).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// The quantities of a forecast that a measured point scores: (quantity name, measured
/// point, forecast value per slot). Campus-wide: import, facility and cooling power,
/// solar, engines, battery state of charge, dry and wet bulb; per hall its IT power
/// (measured at its feeder).
pub fn scored_quantities(forecast: &Forecast) -> Vec<(String, String, Vec<f64>)> {
    let campus = |name: &str, point: &str, f: fn(&ForecastSlot) -> f64| {
        (
            name.to_string(),
            point.to_string(),
            forecast.slots.iter().map(f).collect::<Vec<f64>>(),
        )
    };
    let mut out = vec![
        campus("import_kw", "grid/import_kw", |s| s.import_kw),
        campus("facility_kw", "grid/facility/power_kw", |s| s.facility_kw),
        campus("cooling_kw", "plant/cooling/power_kw", |s| s.cooling_kw),
        campus("solar_kw", "grid/solar/power_kw", |s| s.solar_kw),
        campus("engine_kw", "grid/engines/power_kw", |s| s.engine_kw),
        campus("battery_soc_frac", "grid/battery/soc_frac", |s| {
            s.battery_soc_frac
        }),
        campus("dry_bulb_c", "weather/dry_bulb_temp_c", |s| s.dry_bulb_c),
        campus("wet_bulb_c", "weather/wet_bulb_temp_c", |s| s.wet_bulb_c),
    ];
    for hall in &forecast.halls {
        out.push((
            format!("{}/it_kw", hall.id),
            format!("{}/feeder/power_kw", hall.id),
            hall.it_kw.clone(),
        ));
    }
    out
}

/// Scores `forecasts` against the measurements, slot by slot: `measured(point, from, to,
/// step_minutes)` gives the mean of a point's readings in each slot of `step_minutes`
/// from `from` to `to` (slot start, mean), and slots ending after `now` (not measured
/// yet) are left out. Leads are bucketed by `lead_bucket_h` hours from the forecast's
/// issue time to the slot's start.
pub fn report(
    forecasts: &[Forecast],
    mut measured: impl FnMut(&str, DateTime<Utc>, DateTime<Utc>, u32) -> Vec<(DateTime<Utc>, f64)>,
    lead_bucket_h: f64,
    now: DateTime<Utc>,
) -> AccuracyReport {
    // (quantity, point) → (forecast, measured) pairs by lead bucket.
    let mut pairs: BTreeMap<(String, String), PairsByLead> = BTreeMap::new();
    let bucket_h = if lead_bucket_h > 0.0 { lead_bucket_h } else { 1.0 };
    for f in forecasts {
        let slot = chrono::Duration::minutes(i64::from(f.slot_minutes));
        let measured_to = (0..f.slots.len())
            .rev()
            .map(|t| f.slot_start(t))
            .find(|start| *start + slot <= now);
        let Some(last_start) = measured_to else { continue };
        for (quantity, point, values) in scored_quantities(f) {
            let means: BTreeMap<DateTime<Utc>, f64> =
                measured(&point, f.start, last_start + slot, f.slot_minutes)
                    .into_iter()
                    .collect();
            let by_lead = pairs.entry((quantity, point)).or_default();
            for (t, value) in values.iter().enumerate() {
                let start = f.slot_start(t);
                if start > last_start {
                    break;
                }
                if let Some(m) = means.get(&start) {
                    let lead_h = (start - f.issued_at).num_seconds().max(0) as f64 / 3600.0;
                    by_lead
                        .entry((lead_h / bucket_h).floor() as u64)
                        .or_default()
                        .push((*value, *m));
                }
            }
        }
    }
    let quantities = pairs
        .into_iter()
        .map(|((quantity, point), by_lead)| QuantityAccuracy {
            overall: score(by_lead.values().flatten().copied()),
            by_lead: by_lead
                .iter()
                .map(|(bucket, p)| LeadScores {
                    lead_from_h: *bucket as f64 * bucket_h,
                    lead_to_h: (*bucket + 1) as f64 * bucket_h,
                    scores: score(p.iter().copied()),
                })
                .collect(),
            quantity,
            point,
        })
        .collect();
    AccuracyReport {
        forecasts: forecasts.len(),
        lead_bucket_h: bucket_h,
        quantities,
        guideline_14: GUIDELINE_14,
    }
}

/// (forecast, measured) pairs by lead-time bucket.
type PairsByLead = BTreeMap<u64, Vec<(f64, f64)>>;

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

    /// Two forecasts of four hourly slots, issued at 00:00 and 01:00, both saying
    /// `1000 + 100·h` kW of import at hour h; the truth is 10 % above that every hour, so
    /// every pair has `(y − ŷ)/y = 0.1/1.1`: MAPE and NMBE are 100·0.1/1.1 %. At 04:00 the
    /// first forecast has 4 slots over and the second 3; leads are 0–1 h (both forecasts'
    /// first slots) to 3–4 h (the first's last).
    #[test]
    fn a_report_pairs_slots_with_measured_means_by_lead() {
        use chrono::TimeZone;
        let t0 = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
        let hour = |h: i64| t0 + chrono::Duration::hours(h);
        let said = |h: i64| 1000.0 + 100.0 * h as f64;
        let forecast = |id: u64, issued_h: i64| Forecast {
            id,
            issued_at: hour(issued_h),
            start: hour(issued_h),
            slot_minutes: 60,
            inputs: Default::default(),
            slots: (issued_h..issued_h + 4)
                .map(|h| ForecastSlot {
                    start: hour(h),
                    import_kw: said(h),
                    ..ForecastSlot::default()
                })
                .collect(),
            halls: Vec::new(),
        };
        let report = report(
            &[forecast(1, 0), forecast(2, 1)],
            |point, from, to, step| {
                assert_eq!(step, 60);
                let mut out = Vec::new();
                let mut t = from;
                while point == "grid/import_kw" && t < to {
                    out.push((t, 1.1 * said((t - t0).num_hours())));
                    t += chrono::Duration::hours(1);
                }
                out
            },
            1.0,
            hour(4),
        );
        let import = report
            .quantities
            .iter()
            .find(|q| q.quantity == "import_kw")
            .unwrap();
        assert_eq!(import.overall.pairs, 7);
        let leads: Vec<(f64, usize)> = import
            .by_lead
            .iter()
            .map(|l| (l.lead_from_h, l.scores.pairs))
            .collect();
        assert_eq!(leads, [(0.0, 2), (1.0, 2), (2.0, 2), (3.0, 1)]);
        let expected = 100.0 * 0.1 / 1.1;
        assert!((import.overall.mape_pct.unwrap() - expected).abs() < 1e-9);
        assert!((import.overall.nmbe_pct.unwrap() - expected).abs() < 1e-9);
        assert!(
            report
                .quantities
                .iter()
                .filter(|q| q.quantity != "import_kw")
                .all(|q| q.overall.pairs == 0)
        );
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
