//! Grid headroom: the constant new load a balancing authority can take if the load
//! accepts being curtailed in its peak hours, the method of Norris et al., "Rethinking
//! Load Growth" (Nicholas Institute, Duke University, 2025).
//!
//! A new load of `added_mw`, running flat all year, must be curtailed in every hour whose
//! load plus the new load would pass that hour's threshold (the system's seasonal peak,
//! which its capacity was planned for): by `max(0, load + added - threshold)`. Its
//! *curtailment rate* is the energy curtailed over the energy it would have drawn
//! (`added_mw × hours`). The headroom at a rate `r` is the largest `added_mw` whose rate is
//! at most `r`; the study finds 76, 98 and 126 GW over the 22 largest US authorities at
//! 0.25, 0.5 and 1 %.
//!
//! With `slack_t = threshold_t − load_t ≥ 0`, the rate is `Σ max(0, 1 − slack_t / added)
//! / hours`: each term grows with `added`, so the rate does, and the headroom is found
//! exactly: on the interval between two sorted slacks `s_k ≤ added ≤ s_(k+1)` the rate is
//! `(k − S_k / added) / hours` (`S_k` the sum of the `k` smallest slacks), which equals
//! `r` at `added = S_k / (k − r · hours)`.

use serde::Serialize;

use crate::error::{Problems, Result};

/// What a constant new load of `added_mw` goes through in a year of hours.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Curtailment {
    /// The new load, MW.
    pub added_mw: f64,
    /// Energy curtailed, MWh.
    pub curtailed_mwh: f64,
    /// Curtailed energy over the energy the load would have drawn (`added_mw × hours`).
    pub rate: f64,
    /// Hours with some curtailment.
    pub hours_curtailed: u32,
    /// Runs of consecutive curtailed hours.
    pub events: u32,
    /// Mean length of an event, h (0 without events).
    pub mean_event_h: f64,
    /// Longest event, h.
    pub longest_event_h: u32,
}

/// The hourly series of a balancing authority that headroom is computed on.
#[derive(Debug, Clone, PartialEq)]
pub struct PeakSeries {
    /// Load of each hour, MW.
    load_mw: Vec<f64>,
    /// Threshold of each hour (its season's peak), MW; at least the hour's load.
    threshold_mw: Vec<f64>,
}

impl PeakSeries {
    /// A series with its threshold given per hour; every value finite, and no threshold
    /// below its hour's load.
    pub fn new(load_mw: Vec<f64>, threshold_mw: Vec<f64>) -> Result<Self> {
        let mut p = Problems::new();
        p.check(!load_mw.is_empty(), "load_mw", "needs at least one hour");
        p.check(
            load_mw.len() == threshold_mw.len(),
            "threshold_mw",
            format!("has {} hours, the load {}", threshold_mw.len(), load_mw.len()),
        );
        if let Some(i) = load_mw.iter().position(|l| !l.is_finite()) {
            p.check(false, format!("load_mw[{i}]"), "must be a finite number");
        }
        let below = load_mw
            .iter()
            .zip(&threshold_mw)
            .position(|(l, t)| !t.is_finite() || t < l);
        if let Some(i) = below {
            p.check(
                false,
                format!("threshold_mw[{i}]"),
                format!(
                    "must be a finite number at least the hour's load ({} MW), got {}",
                    load_mw[i], threshold_mw[i]
                ),
            );
        }
        p.into_result("headroom series")?;
        Ok(Self {
            load_mw,
            threshold_mw,
        })
    }

    /// A series whose threshold in each hour is the peak of the hour's season, where
    /// `season[t]` names hour `t`'s season (any small number: 0 for winter, 1 for summer).
    pub fn with_seasonal_peaks(load_mw: Vec<f64>, season: &[usize]) -> Result<Self> {
        let seasons = season.iter().max().map_or(0, |s| s + 1);
        let mut peak = vec![f64::NEG_INFINITY; seasons];
        for (&l, &s) in load_mw.iter().zip(season) {
            peak[s] = peak[s].max(l);
        }
        let threshold = season.iter().map(|&s| peak[s]).collect();
        Self::new(load_mw, threshold)
    }

    /// Hours in the series.
    pub fn hours(&self) -> usize {
        self.load_mw.len()
    }

    /// What a constant new load of `added_mw` (≥ 0) goes through.
    pub fn curtailment(&self, added_mw: f64) -> Curtailment {
        let mut curtailed_mwh = 0.0;
        let (mut hours, mut events, mut run, mut longest) = (0u32, 0u32, 0u32, 0u32);
        for (l, t) in self.load_mw.iter().zip(&self.threshold_mw) {
            let cut = (l + added_mw - t).max(0.0);
            if cut > 0.0 {
                curtailed_mwh += cut;
                hours += 1;
                if run == 0 {
                    events += 1;
                }
                run += 1;
                longest = longest.max(run);
            } else {
                run = 0;
            }
        }
        let drawn_mwh = added_mw * self.hours() as f64;
        Curtailment {
            added_mw,
            curtailed_mwh,
            rate: if drawn_mwh > 0.0 {
                curtailed_mwh / drawn_mwh
            } else {
                0.0
            },
            hours_curtailed: hours,
            events,
            mean_event_h: if events > 0 {
                f64::from(hours) / f64::from(events)
            } else {
                0.0
            },
            longest_event_h: longest,
        }
    }

    /// The largest constant new load whose curtailment rate is at most `rate` (in [0, 1)),
    /// with what it goes through. 0 MW when even a small load is curtailed more than
    /// `rate` (the hours at the peak itself are more than that share of the year).
    pub fn headroom(&self, rate: f64) -> Result<Curtailment> {
        let mut p = Problems::new();
        p.check(
            rate.is_finite() && (0.0..1.0).contains(&rate),
            "curtailment rate",
            "must be at least 0 and below 1",
        );
        p.into_result("headroom")?;
        let mut slack: Vec<f64> = self
            .load_mw
            .iter()
            .zip(&self.threshold_mw)
            .map(|(l, t)| t - l)
            .collect();
        slack.sort_by(f64::total_cmp);
        let allowed = rate * self.hours() as f64; // curtailed hour-equivalents
        let mut sum = 0.0;
        let mut added = 0.0;
        for k in 1..=slack.len() {
            sum += slack[k - 1];
            let kf = k as f64;
            if kf <= allowed {
                continue; // k hours fully curtailed fit within the rate: go on
            }
            // On [s_k, s_(k+1)], the rate reaches `rate` at S_k / (k − allowed).
            added = sum / (kf - allowed);
            let upper = slack.get(k).copied().unwrap_or(f64::INFINITY);
            if added <= upper {
                break;
            }
        }
        Ok(self.curtailment(added.max(0.0)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    /// `peak_hours` hours at the peak `p`, the rest `d` below it, in one season.
    fn two_level(hours: usize, peak_hours: usize, p: f64, d: f64) -> PeakSeries {
        let load = (0..hours)
            .map(|t| if t < peak_hours { p } else { p - d })
            .collect();
        PeakSeries::new(load, vec![p; hours]).unwrap()
    }

    #[test]
    fn headroom_of_a_two_level_load_has_its_closed_form() {
        // Above d, the rate is 1 − (N − h) d / (N added): it reaches r at
        // added = (N − h) d / (N (1 − r)).
        let (n, h, p, d) = (8760, 10, 100_000.0, 5_000.0);
        let series = two_level(n, h, p, d);
        for r in [0.0025, 0.005, 0.01, 0.05] {
            let got = series.headroom(r).unwrap();
            let want = (n - h) as f64 * d / (n as f64 * (1.0 - r));
            assert!(
                (got.added_mw - want).abs() < 1e-6 * want,
                "r {r}: {} against {want}",
                got.added_mw
            );
            assert!((got.rate - r).abs() < 1e-12, "r {r}: rate {}", got.rate);
            assert_eq!(
                (got.hours_curtailed, got.events),
                (n as u32, 1),
                "every hour curtailed above d"
            );
        }
        // Below h / N, no load fits: the peak hours alone are curtailed at that share.
        assert_eq!(series.headroom(0.001).unwrap().added_mw, 0.0);
    }

    #[test]
    fn curtailment_counts_hours_events_and_their_lengths() {
        // Threshold 10; loads give slacks 0,0,5,0,9,9,0,0,0 → at added 1: cut in the
        // hours of slack 0: runs of 2, 1 and 3.
        let load = vec![10.0, 10.0, 5.0, 10.0, 1.0, 1.0, 10.0, 10.0, 10.0];
        let series = PeakSeries::new(load, vec![10.0; 9]).unwrap();
        let c = series.curtailment(1.0);
        assert_eq!((c.hours_curtailed, c.events, c.longest_event_h), (6, 3, 3));
        assert_eq!(c.mean_event_h, 2.0);
        assert_eq!(c.curtailed_mwh, 6.0);
        assert!((c.rate - 6.0 / 9.0).abs() < 1e-15);
        // Energy balance: what is curtailed and what is served add up to what is drawn.
        let c = series.curtailment(7.0);
        let served: f64 = [10.0, 10.0, 5.0, 10.0, 1.0, 1.0, 10.0, 10.0, 10.0]
            .iter()
            .map(|l: &f64| 7.0_f64.min(10.0 - l))
            .sum();
        assert!((served + c.curtailed_mwh - 7.0 * 9.0).abs() < 1e-12);
    }

    #[test]
    fn the_rate_never_falls_as_the_load_grows_and_headroom_meets_its_rate() {
        // A year of a load with a daily and a seasonal swing, seasonal peaks.
        let hours = 8760;
        let load: Vec<f64> = (0..hours)
            .map(|t| {
                let day = (t as f64 / 24.0 * std::f64::consts::TAU).sin();
                let year = (t as f64 / hours as f64 * std::f64::consts::TAU).cos();
                60_000.0 + 8_000.0 * day + 15_000.0 * year + (t % 7) as f64 * 300.0
            })
            .collect();
        let season: Vec<usize> = (0..hours)
            .map(|t| usize::from((3624..6552).contains(&t)))
            .collect();
        let series = PeakSeries::with_seasonal_peaks(load, &season).unwrap();
        let mut last = 0.0;
        for step in 1..200 {
            let rate = series.curtailment(step as f64 * 100.0).rate;
            assert!(rate >= last - 1e-15, "rate fell at {} MW", step * 100);
            last = rate;
        }
        let mut last_headroom = 0.0;
        for r in [0.0025, 0.005, 0.01, 0.05] {
            let c = series.headroom(r).unwrap();
            assert!(c.rate <= r + 1e-12, "{c:?}");
            assert!(
                series.curtailment(c.added_mw * 1.001).rate > r,
                "not the largest: {c:?}"
            );
            assert!(c.added_mw > last_headroom, "more curtailment, more headroom");
            last_headroom = c.added_mw;
        }
    }

    #[test]
    fn bad_series_and_rates_are_refused_by_name() {
        let e = PeakSeries::new(vec![1.0, f64::NAN], vec![2.0, 2.0])
            .unwrap_err()
            .to_string();
        assert!(e.contains("load_mw[1]"), "{e}");
        let e = PeakSeries::new(vec![1.0, 3.0], vec![2.0, 2.0])
            .unwrap_err()
            .to_string();
        assert!(e.contains("threshold_mw[1]"), "{e}");
        let e = PeakSeries::new(vec![1.0], vec![]).unwrap_err().to_string();
        assert!(e.contains("threshold_mw"), "{e}");
        let series = two_level(10, 1, 10.0, 1.0);
        assert!(series.headroom(1.0).is_err());
        assert!(series.headroom(f64::NAN).is_err());
    }
}
