//! The built-in price model used when no price file is given: a deterministic day of
//! wholesale prices in three scenarios, repeated every day in local standard time.

use chrono::{DateTime, Utc};

use crate::schedule::{PriceScenario, Series};

/// Milliseconds in an hour.
const HOUR_MS: i64 = 3_600_000;

/// One scenario of the built-in diurnal model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiurnalScenario {
    /// Name, for messages and reports.
    pub name: &'static str,
    /// Probability of the scenario; the three sum to 1.
    pub probability: f64,
    /// Energy price per MWh in each hour of the local standard-time day, hour-beginning:
    /// entry 0 holds from 00:00 to 01:00, entry 23 from 23:00 to midnight.
    pub price_per_mwh_by_hour: [f64; 24],
}

/// The three scenarios of the built-in model, per MWh in local standard time.
///
/// - `normal` (0.6): the shape of an average summer weekday of day-ahead prices in PJM's
///   Dominion zone (the Northern Virginia data-centre market): lowest before dawn (24 at
///   03:00), a morning shoulder as load rises (48 at 08:00), a dip at midday as solar comes
///   on (37 at 12:00), the peak in the early evening as solar fades while load is still
///   high (78 at 18:00), then down to the night level; the day's mean is 42.9. The figures
///   are round numbers of that shape and of the magnitude of PJM's load-weighted average
///   LMP (about 31 per MWh in 2023, 80 in 2022: Monitoring Analytics, *State of the Market
///   Report for PJM*), not a fit to any one year's data.
/// - `windy` (0.3): a windy, sunny day: wind at night and solar at midday push prices below
///   zero (−14 to −2 from 23:00 to 06:00, −20 to −8 from 10:00 to 15:00), as they often are
///   in SPP and ERCOT and at times in PJM's west; the other hours at 60 % of `normal`.
/// - `spike` (0.1): a tight evening (a heat wave or a unit trip): 450 and 400 from 18:00 to
///   20:00, the other hours 10 % above `normal`. Real-time spikes of hundreds per MWh for an
///   hour or two happen a few times a year in PJM (offers are capped at 1,000 per MWh).
///
/// The probabilities are those of the optimizer's example problem.
pub const DIURNAL: [DiurnalScenario; 3] = [
    DiurnalScenario {
        name: "normal",
        probability: 0.6,
        price_per_mwh_by_hour: [
            28.0, 26.0, 25.0, 24.0, 25.0, 29.0, 36.0, 45.0, 48.0, 44.0, 40.0, 38.0, // 00–11
            37.0, 38.0, 41.0, 46.0, 55.0, 67.0, 78.0, 75.0, 63.0, 50.0, 40.0, 32.0, // 12–23
        ],
    },
    DiurnalScenario {
        name: "windy",
        probability: 0.3,
        price_per_mwh_by_hour: [
            -6.0, -9.0, -12.0, -14.0, -12.0, -5.0, 21.6, 27.0, 28.8, 26.4, -8.0, -15.0, // 00–11
            -20.0, -18.0, -10.0, 27.6, 33.0, 40.2, 46.8, 45.0, 37.8, 30.0, 24.0, -2.0, // 12–23
        ],
    },
    DiurnalScenario {
        name: "spike",
        probability: 0.1,
        price_per_mwh_by_hour: [
            30.8, 28.6, 27.5, 26.4, 27.5, 31.9, 39.6, 49.5, 52.8, 48.4, 44.0, 41.8, // 00–11
            40.7, 41.8, 45.1, 50.6, 60.5, 73.7, 450.0, 400.0, 69.3, 55.0, 44.0, 35.2, // 12–23
        ],
    },
];

/// The built-in model's scenarios for `slots` slots of `slot_minutes` from `start`: each
/// slot's price is the time-weighted mean of the hourly prices of [`DIURNAL`] over the
/// slot, the hours taken in local standard time `utc_offset_h` hours east of UTC
/// (Virginia: −5; daylight-saving time is not applied, as in weather files). The
/// probabilities are those of [`DIURNAL`] and sum to 1.
///
/// Deterministic: the same arguments give the same prices. A zero `slot_minutes` gives the
/// price at each slot's instant; a non-finite `utc_offset_h` gives NaN prices, which the
/// problem's validation rejects (the offset comes from a validated campus or weather file).
pub fn diurnal_scenarios(
    start: DateTime<Utc>,
    slots: usize,
    slot_minutes: u32,
    utc_offset_h: f64,
) -> Vec<PriceScenario> {
    let slot_ms = i64::from(slot_minutes) * 60_000;
    let offset_ms = utc_offset_h
        .is_finite()
        .then(|| (utc_offset_h * HOUR_MS as f64).round() as i64);
    DIURNAL
        .iter()
        .map(|scenario| {
            let prices = (0..slots)
                .map(|k| match offset_ms {
                    Some(offset_ms) => {
                        let k = i64::try_from(k).unwrap_or(i64::MAX);
                        let a = start
                            .timestamp_millis()
                            .saturating_add(offset_ms)
                            .saturating_add(k.saturating_mul(slot_ms));
                        mean_over(&scenario.price_per_mwh_by_hour, a, a.saturating_add(slot_ms))
                    }
                    None => f64::NAN,
                })
                .collect();
            PriceScenario {
                probability: scenario.probability,
                price_per_mwh: Series::PerSlot(prices),
            }
        })
        .collect()
}

/// The mean over local milliseconds `[a_ms, b_ms)` of the hourly step function `by_hour`
/// (repeating every day); the value at `a_ms` for an empty interval.
fn mean_over(by_hour: &[f64; 24], a_ms: i64, b_ms: i64) -> f64 {
    let at = |t_ms: i64| by_hour[t_ms.div_euclid(HOUR_MS).rem_euclid(24) as usize];
    if b_ms <= a_ms {
        return at(a_ms);
    }
    let mut sum = 0.0;
    let mut t_ms = a_ms;
    while t_ms < b_ms {
        let next_ms = (t_ms.div_euclid(HOUR_MS) + 1).saturating_mul(HOUR_MS).min(b_ms);
        sum += at(t_ms) * (next_ms - t_ms) as f64;
        t_ms = next_ms;
    }
    sum / (b_ms - a_ms) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::problem::PROBABILITY_SUM_TOLERANCE;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn utc(d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 7, d, h, mi, 0)
            .single()
            .expect("valid date")
    }

    #[test]
    fn the_tables_follow_their_documented_rules() {
        let [normal, windy, spike] = DIURNAL;
        let total: f64 = DIURNAL.iter().map(|s| s.probability).sum();
        assert!((total - 1.0).abs() <= PROBABILITY_SUM_TOLERANCE, "{total}");
        let n = normal.price_per_mwh_by_hour;
        let mean = n.iter().sum::<f64>() / 24.0;
        assert!((mean - 42.9).abs() < 0.05, "{mean}");
        // Low at night, a morning shoulder, a midday dip, the evening peak.
        let low = (0..24).min_by(|&a, &b| n[a].total_cmp(&n[b]));
        let peak = (0..24).max_by(|&a, &b| n[a].total_cmp(&n[b]));
        assert_eq!((low, peak), (Some(3), Some(18)));
        assert!(n[8] > n[6] && n[8] > n[12] && n[12] < n[15]);
        let hours = n
            .iter()
            .zip(windy.price_per_mwh_by_hour)
            .zip(spike.price_per_mwh_by_hour)
            .enumerate();
        for (h, ((&normal, w), s)) in hours {
            let negative = h <= 5 || (10..=14).contains(&h) || h == 23;
            if negative {
                assert!((-20.0..0.0).contains(&w), "windy {h}: {w}");
            } else {
                assert!((w - 0.6 * normal).abs() < 1e-9, "windy {h}: {w}");
            }
            match h {
                18 => assert_eq!(s, 450.0),
                19 => assert_eq!(s, 400.0),
                _ => assert!((s - 1.1 * normal).abs() < 1e-9, "spike {h}: {s}"),
            }
        }
    }

    #[test]
    fn hourly_slots_on_local_hours_give_the_tables() {
        // 05:00 UTC is midnight in Virginia (UTC−5).
        let scenarios = diurnal_scenarios(utc(1, 5, 0), 48, 60, -5.0);
        assert_eq!(scenarios.len(), 3);
        for (scenario, table) in scenarios.iter().zip(&DIURNAL) {
            assert_eq!(scenario.probability, table.probability);
            let prices = scenario.price_per_mwh.values(48);
            for (k, p) in prices.iter().enumerate() {
                assert_eq!(*p, table.price_per_mwh_by_hour[k % 24], "{} slot {k}", table.name);
            }
        }
        // The same instant in UTC (offset 0) is five hours later in the day.
        let at_utc = diurnal_scenarios(utc(1, 5, 0), 1, 60, 0.0);
        assert_eq!(at_utc[0].price_per_mwh.at(0), DIURNAL[0].price_per_mwh_by_hour[5]);
    }

    #[test]
    fn slots_straddling_hours_take_the_time_weighted_mean() {
        // 17:40–18:20 local: 20 minutes at 67, 20 at 78.
        let s = diurnal_scenarios(utc(1, 22, 40), 1, 40, -5.0);
        assert!((s[0].price_per_mwh.at(0) - 72.5).abs() < 1e-12);
        // A 15-minute grid averages back to the hourly values.
        let quarter = diurnal_scenarios(utc(1, 5, 0), 96, 15, -5.0);
        for (k, p) in quarter[2].price_per_mwh.values(96).iter().enumerate() {
            assert_eq!(*p, DIURNAL[2].price_per_mwh_by_hour[k / 4]);
        }
        // India's half-hour offset shifts the day by 5.5 h: 00:00 UTC is 05:30 local.
        let india = diurnal_scenarios(utc(1, 0, 0), 1, 60, 5.5);
        let n = DIURNAL[0].price_per_mwh_by_hour;
        assert!((india[0].price_per_mwh.at(0) - 0.5 * (n[5] + n[6])).abs() < 1e-12);
        // Degenerate arguments: an instant's price, NaN for a NaN offset, no slots.
        assert_eq!(
            diurnal_scenarios(utc(1, 5, 0), 1, 0, -5.0)[0].price_per_mwh.at(0),
            n[0]
        );
        assert!(
            diurnal_scenarios(utc(1, 5, 0), 1, 60, f64::NAN)[0]
                .price_per_mwh
                .at(0)
                .is_nan()
        );
        assert_eq!(
            diurnal_scenarios(utc(1, 5, 0), 0, 60, -5.0)[0]
                .price_per_mwh
                .values(0),
            Vec::<f64>::new()
        );
    }

    proptest! {
        /// Every slot's price lies within the day's range of its scenario, and the model
        /// repeats day after day.
        #[test]
        fn prices_stay_within_the_day_and_repeat(
            minute in 0i64..1_000_000, slot_minutes in 1u32..600, offset_h in -12.0f64..14.0,
        ) {
            let start = utc(1, 0, 0) + chrono::TimeDelta::minutes(minute);
            let today = diurnal_scenarios(start, 8, slot_minutes, offset_h);
            let tomorrow = diurnal_scenarios(start + chrono::TimeDelta::days(1), 8, slot_minutes, offset_h);
            for ((a, b), table) in today.iter().zip(&tomorrow).zip(&DIURNAL) {
                let lo = table.price_per_mwh_by_hour.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = table.price_per_mwh_by_hour.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                for k in 0..8 {
                    let (p, q) = (a.price_per_mwh.at(k), b.price_per_mwh.at(k));
                    prop_assert!(lo - 1e-9 <= p && p <= hi + 1e-9, "{p}");
                    prop_assert!((p - q).abs() < 1e-9, "{p} vs {q}");
                }
            }
        }
    }
}
