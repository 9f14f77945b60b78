//! Detectors that turn a filter's innovations and estimates into alarms.
//!
//! - **Drift**: a two-sided CUSUM of a sensor's normalized innovations (Page, 1954). A
//!   healthy sensor's innovations are zero-mean with unit variance, so the sums stay near
//!   zero; a bias of a fraction of a standard deviation accumulates until it passes the
//!   threshold. With slack `k = 0.5` and threshold `h = 10`, Siegmund's approximation of
//!   the average run length gives a false alarm of a healthy sensor about once in 7·10⁴
//!   readings (both sides together) and finds a bias of one standard deviation in about
//!   20 readings. Each innovation counts for at most 3 standard deviations, so a
//!   real step in the plant that the filter catches up with in a few readings (a pump
//!   weakening) is not mistaken for a drifting sensor; a drift keeps adding up.
//! - **Stuck**: the same value, to the bit, reading after reading while the filter expects
//!   it to move: a live sensor's noise makes exact repeats rare, and a stuck one stops
//!   tracking the plant, so its innovation grows.
//! - **Pump underperforming**: the estimated flow factor stays clearly below its design.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::filter::Innovation;

/// CUSUM slack, in standard deviations.
const CUSUM_SLACK: f64 = 0.5;
/// CUSUM threshold.
const CUSUM_THRESHOLD: f64 = 10.0;
/// Largest innovation one reading adds to the CUSUM, in standard deviations.
const CUSUM_CLIP: f64 = 3.0;
/// Identical readings in a row before a sensor may be called stuck.
const STUCK_READINGS: u32 = 20;
/// Innovation, in standard deviations, that a stuck sensor must have reached.
const STUCK_INNOVATION: f64 = 3.0;
/// Flow factor below which a pump underperforms (with two standard deviations to spare).
const PUMP_FLOW_FRAC: f64 = 0.85;
/// How long the flow factor must stay low before the alarm, s.
const PUMP_HOLD_S: f64 = 30.0;

/// What an alarm says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    /// A sensor reads persistently off the model.
    SensorDrift,
    /// A sensor's value no longer changes.
    SensorStuck,
    /// A pump moves clearly less than its design flow.
    PumpUnderperforming,
}

/// An alarm raised by the estimator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alarm {
    /// What is wrong.
    pub kind: AlarmKind,
    /// The point (a sensor) or equipment (a CDU) concerned.
    pub subject: String,
    /// When it was raised (reading time).
    pub at: DateTime<Utc>,
    /// A sentence for the operator.
    pub message: String,
}

/// Drift and stuck detection for one sensor.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SensorWatch {
    high: f64,
    low: f64,
    last_value: Option<f64>,
    repeats: u32,
    /// Whether a drift alarm is raised (latched until the CUSUM falls back to zero).
    pub drifting: bool,
    /// Whether a stuck alarm is raised (until the value moves again).
    pub stuck: bool,
}

/// What one reading did to a sensor's watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SensorEvent {
    /// Nothing new.
    Quiet,
    /// The sensor started to drift.
    Drift,
    /// The sensor got stuck.
    Stuck,
}

impl SensorWatch {
    /// Takes in a reading and its innovation.
    pub fn observe(&mut self, value: f64, innovation: Innovation) -> SensorEvent {
        let z = innovation.normalized().clamp(-CUSUM_CLIP, CUSUM_CLIP);
        self.high = (self.high + z - CUSUM_SLACK).max(0.0);
        self.low = (self.low - z - CUSUM_SLACK).max(0.0);
        if self.last_value == Some(value) {
            self.repeats += 1;
        } else {
            self.repeats = 0;
            self.stuck = false;
        }
        self.last_value = Some(value);
        // A sensor off the model whose value has not changed is stuck, not drifting.
        let beyond = self.high.max(self.low) > CUSUM_THRESHOLD;
        let repeating = self.repeats >= STUCK_READINGS;
        let far = innovation.normalized().abs() > STUCK_INNOVATION;
        if repeating && (beyond || far) && !self.stuck {
            self.stuck = true;
            return SensorEvent::Stuck;
        }
        if beyond && !repeating && !self.drifting {
            self.drifting = true;
            return SensorEvent::Drift;
        }
        if self.high == 0.0 && self.low == 0.0 {
            self.drifting = false;
        }
        SensorEvent::Quiet
    }

    /// The larger of the two CUSUM sums (0 for a healthy sensor, on average).
    pub fn cusum(&self) -> f64 {
        self.high.max(self.low)
    }
}

/// Pump watch for one CDU loop.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PumpWatch {
    low_since_s: Option<f64>,
    /// Whether the alarm is raised.
    pub raised: bool,
}

impl PumpWatch {
    /// Takes in the flow factor's estimate and standard deviation at `t_s`; true when the
    /// alarm is raised now.
    pub fn observe(&mut self, t_s: f64, flow_frac: f64, flow_std: f64) -> bool {
        if flow_frac + 2.0 * flow_std < PUMP_FLOW_FRAC {
            let since = *self.low_since_s.get_or_insert(t_s);
            if !self.raised && t_s - since >= PUMP_HOLD_S {
                self.raised = true;
                return true;
            }
        } else if flow_frac - 2.0 * flow_std > PUMP_FLOW_FRAC {
            self.low_since_s = None;
            self.raised = false;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(residual: f64) -> Innovation {
        Innovation {
            residual,
            variance: 1.0,
        }
    }

    #[test]
    fn cusum_finds_a_one_sigma_bias_in_tens_of_readings() {
        let mut w = SensorWatch::default();
        let mut found = None;
        for i in 0..200 {
            // Alternating noise around a bias of one standard deviation.
            let noise = if i % 2 == 0 { 0.3 } else { -0.3 };
            if w.observe(f64::from(i), unit(1.0 + noise)) == SensorEvent::Drift {
                found = Some(i);
                break;
            }
        }
        let i = found.expect("drift found");
        assert!((15..=30).contains(&i), "{i}");
    }

    #[test]
    fn healthy_noise_stays_quiet() {
        let mut w = SensorWatch::default();
        // A deterministic sequence with zero mean and unit variance.
        for i in 0..10_000 {
            let z = ((f64::from(i) * 0.618_034).fract() - 0.5) * 12f64.sqrt();
            assert_eq!(w.observe(f64::from(i), unit(z)), SensorEvent::Quiet);
        }
    }

    #[test]
    fn a_repeated_value_that_stops_tracking_is_stuck() {
        let mut w = SensorWatch::default();
        for i in 0..STUCK_READINGS {
            let z = if i % 2 == 0 { 0.4 } else { -0.4 };
            assert_eq!(w.observe(35.0, unit(z)), SensorEvent::Quiet);
        }
        assert_eq!(w.observe(35.0, unit(4.0)), SensorEvent::Stuck);
        // It moves again: the alarm clears.
        w.observe(35.2, unit(0.0));
        assert!(!w.stuck);
    }

    #[test]
    fn pump_alarm_waits_for_a_confident_low_flow() {
        let mut p = PumpWatch::default();
        assert!(!p.observe(0.0, 0.6, 0.02));
        assert!(!p.observe(20.0, 0.6, 0.02));
        assert!(p.observe(31.0, 0.6, 0.02));
        assert!(!p.observe(40.0, 0.6, 0.02), "raised once");
        // Uncertain estimates never raise it.
        let mut q = PumpWatch::default();
        for t in 0..100 {
            assert!(!q.observe(f64::from(t), 0.8, 0.1));
        }
    }
}
