//! What a campus's sensors make of the plant: the twin's exact point values (from
//! [`crate::campus::PointSampler`]) read through instruments with noise, lost readings and
//! faults. The sensor simulator publishes these; the estimator's tests follow them.
//!
//! Noise is Gaussian, zero-mean, with a standard deviation per quantity: 0.1 K for coolant
//! temperatures, 0.5 % of reading for flow and power meters, 0.002 for speeds and states
//! of charge reported as fractions. These are chosen defaults of the order of field
//! instruments' repeatability, not a calibration of one; an instrument's fixed bias (an
//! RTD's class tolerance, say) is not modelled, a drift fault is. Readings are clamped to
//! the physical range of their quantity, as an instrument's output is.
//!
//! ```
//! use twin::sensors::{SensorFault, Sensors};
//!
//! let names = vec!["hall-a/cdu-01/tcs_supply_temp_c".to_string()];
//! let drift = SensorFault::Drift { point: names[0].clone(), from_s: 0.0, per_h: 3.6 };
//! let mut sensors = Sensors::new(&names, 0.0, 0.0, vec![drift], 7).unwrap();
//! let mut read = Vec::new();
//! sensors.read(100.0, &[30.0], &mut read);
//! assert!((read[0].unwrap() - 30.1).abs() < 1e-12); // 3.6 K/h for 100 s
//! ```

use models::scenario::{CduPumpTrip, Event};
use models::telemetry::{PointId, Quantity, Reading, TimedReadings};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

use crate::error::{Error, Result};

/// A fault of one sensor, from `from_s` (simulated seconds after the start) on.
#[derive(Debug, Clone, PartialEq)]
pub enum SensorFault {
    /// The reading drifts away from the truth at `per_h` of the point's unit per hour
    /// (a fouled or ageing sensor).
    Drift {
        /// Point id.
        point: String,
        /// Start, s.
        from_s: f64,
        /// Drift rate, point's unit per hour.
        per_h: f64,
    },
    /// The reading freezes at its last value (a hung transmitter or gateway register).
    Stuck {
        /// Point id.
        point: String,
        /// Start, s.
        from_s: f64,
    },
}

impl SensorFault {
    /// The faulty point.
    pub fn point(&self) -> &str {
        match self {
            SensorFault::Drift { point, .. } | SensorFault::Stuck { point, .. } => point,
        }
    }

    fn start_s(&self) -> f64 {
        match self {
            SensorFault::Drift { from_s, .. } | SensorFault::Stuck { from_s, .. } => *from_s,
        }
    }
}

/// How one point is read.
#[derive(Debug, Clone)]
struct Instrument {
    /// Absolute noise, point's unit.
    sigma_abs: f64,
    /// Noise relative to the reading.
    sigma_rel: f64,
    /// Physical range of the quantity.
    range: (f64, f64),
    fault: Option<SensorFault>,
    /// The value a stuck sensor keeps showing.
    held: Option<f64>,
}

/// The sensors of every point of a campus.
#[derive(Debug, Clone)]
pub struct Sensors {
    instruments: Vec<Instrument>,
    dropout_frac: f64,
    rng: StdRng,
}

/// Noise of a quantity's instruments: (absolute, relative to the reading).
fn noise_of(quantity: Quantity) -> (f64, f64) {
    match quantity {
        Quantity::Temperature => (0.1, 0.0),
        Quantity::Power | Quantity::VolumeFlow | Quantity::MassFlow => (0.0, 0.005),
        Quantity::Pressure => (0.5, 0.0),
        Quantity::Fraction => (0.002, 0.0),
        Quantity::Percent => (0.2, 0.0),
        Quantity::Speed | Quantity::Irradiance => (0.0, 0.02),
        Quantity::Energy => (0.0, 0.0),
    }
}

impl Sensors {
    /// Sensors for the points `names` with noise scaled by `noise_scale` (0: exact),
    /// a reading lost with probability `dropout_frac`, the given faults, and a seeded
    /// random source (the same seed reads the same way).
    pub fn new(
        names: &[String],
        noise_scale: f64,
        dropout_frac: f64,
        faults: Vec<SensorFault>,
        seed: u64,
    ) -> Result<Sensors> {
        if !(noise_scale.is_finite() && noise_scale >= 0.0) {
            return Err(Error::Scenario(format!(
                "noise scale must be ≥ 0, got {noise_scale}"
            )));
        }
        if !(0.0..1.0).contains(&dropout_frac) {
            return Err(Error::Scenario(format!(
                "dropout fraction must be in [0, 1), got {dropout_frac}"
            )));
        }
        let mut instruments = Vec::with_capacity(names.len());
        for name in names {
            let quantity = PointId::parse(name)
                .map_err(|e| Error::Scenario(e.to_string()))?
                .quantity();
            let (sigma_abs, sigma_rel) = noise_of(quantity);
            instruments.push(Instrument {
                sigma_abs: sigma_abs * noise_scale,
                sigma_rel: sigma_rel * noise_scale,
                range: quantity.range(),
                fault: None,
                held: None,
            });
        }
        for fault in faults {
            let Some(i) = names.iter().position(|n| n == fault.point()) else {
                return Err(Error::Scenario(format!(
                    "sensor fault on `{}`: the campus has no such point",
                    fault.point()
                )));
            };
            if !(fault.start_s().is_finite() && fault.start_s() >= 0.0) {
                return Err(Error::Scenario(format!(
                    "sensor fault on `{}`: its start must be ≥ 0 s",
                    fault.point()
                )));
            }
            instruments[i].fault = Some(fault);
        }
        Ok(Sensors {
            instruments,
            dropout_frac,
            rng: StdRng::seed_from_u64(seed),
        })
    }

    /// Reads the exact `values` at `t_s` (simulated seconds after the start) into `out`:
    /// one entry per point, `None` where the reading is lost.
    pub fn read(&mut self, t_s: f64, values: &[f64], out: &mut Vec<Option<f64>>) {
        out.clear();
        for (instrument, &exact) in self.instruments.iter_mut().zip(values) {
            let lost = self.dropout_frac > 0.0 && self.rng.random_bool(self.dropout_frac);
            let sigma = instrument.sigma_abs + instrument.sigma_rel * exact.abs();
            let noise = if sigma > 0.0 {
                sigma * self.rng.sample::<f64, _>(StandardNormal)
            } else {
                0.0
            };
            let (lo, hi) = instrument.range;
            let mut reading = (exact + noise).clamp(lo, hi);
            match &instrument.fault {
                Some(SensorFault::Drift { from_s, per_h, .. }) if t_s >= *from_s => {
                    reading = (reading + per_h * (t_s - from_s) / 3600.0).clamp(lo, hi);
                }
                Some(SensorFault::Stuck { from_s, .. }) => {
                    if t_s >= *from_s {
                        reading = *instrument.held.get_or_insert(reading);
                    } else {
                        instrument.held = Some(reading);
                    }
                }
                _ => {}
            }
            out.push((!lost).then_some(reading));
        }
    }
}

/// A fault of the simulated plant or of its sensors, as `campustwin sensors --fault` and the
/// service's simulator take it: `drift:POINT:RATE_PER_H[@AT_S]`, `stuck:POINT[@AT_S]` or
/// `pump:HALL/cdu-NN:FLOW_FRAC[@AT_S]`.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultSpec {
    /// A sensor fault.
    Sensor(SensorFault),
    /// A plant fault, run by the twin.
    Plant(Event),
}

impl std::str::FromStr for FaultSpec {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let (body, from_s) = match text.rsplit_once('@') {
            Some((body, at)) => {
                let at: f64 = at
                    .parse()
                    .map_err(|_| format!("`{at}` after @ is not a number of seconds"))?;
                if !(at.is_finite() && at >= 0.0) {
                    return Err(format!("the start @{at} must be ≥ 0 s"));
                }
                (body, at)
            }
            None => (text, 0.0),
        };
        let number = |s: &str, what: &str| -> std::result::Result<f64, String> {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| format!("{what} `{s}` is not a number"))
        };
        let point = |s: &str| -> std::result::Result<String, String> {
            PointId::parse(s)
                .map(|p| p.as_str().to_owned())
                .map_err(|e| e.to_string())
        };
        let parts: Vec<&str> = body.split(':').collect();
        match parts.as_slice() {
            ["drift", p, rate] => Ok(FaultSpec::Sensor(SensorFault::Drift {
                point: point(p)?,
                from_s,
                per_h: number(rate, "drift rate")?,
            })),
            ["stuck", p] => Ok(FaultSpec::Sensor(SensorFault::Stuck {
                point: point(p)?,
                from_s,
            })),
            ["pump", cdu, frac] => {
                let (hall, number_part) = cdu
                    .split_once("/cdu-")
                    .ok_or_else(|| format!("`{cdu}` is not HALL/cdu-NN"))?;
                let cdu: u32 = number_part
                    .parse()
                    .map_err(|_| format!("`{number_part}` is not a CDU number"))?;
                let frac = number(frac, "flow fraction")?;
                if !(0.0..1.0).contains(&frac) {
                    return Err(format!("flow fraction {frac} must be in [0, 1)"));
                }
                Ok(FaultSpec::Plant(Event::CduPumpTrip(CduPumpTrip {
                    at_s: from_s,
                    duration_s: None,
                    hall: hall.to_owned(),
                    cdu,
                    residual_flow_frac: frac,
                })))
            }
            _ => Err(format!(
                "`{text}`: expected drift:POINT:RATE_PER_H[@AT_S], stuck:POINT[@AT_S] or \
                 pump:HALL/cdu-NN:FLOW_FRAC[@AT_S]"
            )),
        }
    }
}

/// Sensor faults for the instruments, plant faults (events) for the twin.
pub fn split_faults(faults: &[FaultSpec]) -> (Vec<SensorFault>, Vec<Event>) {
    let (mut sensor_faults, mut events) = (Vec::new(), Vec::new());
    for fault in faults {
        match fault {
            FaultSpec::Sensor(f) => sensor_faults.push(f.clone()),
            FaultSpec::Plant(e) => events.push(e.clone()),
        }
    }
    (sensor_faults, events)
}

/// Steps `run` and reads every point of `sampler` through `sensors` after each step,
/// sending the readings of each step on `samples` (blocking: for a thread of its own);
/// `between_steps` may change the run before each step (a new load to follow). Returns the
/// readings dropped by the instruments. Ends with the run, or when the receiver hangs up.
pub fn stream_samples(
    run: &mut crate::sim::Run,
    mut sensors: Sensors,
    sampler: &crate::campus::PointSampler,
    ids: &[PointId],
    samples: &tokio::sync::mpsc::Sender<TimedReadings>,
    mut between_steps: impl FnMut(&mut crate::sim::Run) -> Result<()>,
) -> Result<u64> {
    let (mut values, mut read) = (Vec::new(), Vec::new());
    let mut dropped = 0;
    loop {
        between_steps(run)?;
        if run.step()?.is_none() {
            break;
        }
        let t_s = run.elapsed_s();
        sampler.sample(run.model(), run.state(), run.inputs(), &mut values);
        sensors.read(t_s, &values, &mut read);
        let ts = run.now();
        let readings: Vec<Reading> = ids
            .iter()
            .zip(&read)
            .filter_map(|(point, value)| {
                value.map(|value| Reading {
                    point: point.clone(),
                    ts,
                    value,
                })
            })
            .collect();
        dropped += (ids.len() - readings.len()) as u64;
        if samples.blocking_send(TimedReadings { t_s, readings }).is_err() {
            break;
        }
    }
    Ok(dropped)
}

#[cfg(test)]
mod fault_tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn faults_parse_with_and_without_a_start() {
        assert_eq!(
            "drift:hall-a/cdu-01/tcs_return_temp_c:2.5@60".parse(),
            Ok(FaultSpec::Sensor(SensorFault::Drift {
                point: "hall-a/cdu-01/tcs_return_temp_c".into(),
                from_s: 60.0,
                per_h: 2.5
            }))
        );
        assert_eq!(
            "stuck:hall-a/cdu-02/tcs_flow_l_per_min".parse(),
            Ok(FaultSpec::Sensor(SensorFault::Stuck {
                point: "hall-a/cdu-02/tcs_flow_l_per_min".into(),
                from_s: 0.0
            }))
        );
        assert_eq!(
            "pump:hall-b/cdu-03:0.4@5".parse(),
            Ok(FaultSpec::Plant(Event::CduPumpTrip(CduPumpTrip {
                at_s: 5.0,
                duration_s: None,
                hall: "hall-b".into(),
                cdu: 3,
                residual_flow_frac: 0.4
            })))
        );
    }

    #[test]
    fn bad_faults_say_what_is_wrong() {
        let error = |s: &str| FaultSpec::from_str(s).unwrap_err();
        assert!(error("drift:hall-a/cdu-01/tcs_return:2").contains("unit suffix"));
        assert!(error("drift:hall-a/cdu-01/tcs_return_temp_c:fast").contains("drift rate"));
        assert!(error("pump:hall-a/cdu-01:1.5").contains("[0, 1)"));
        assert!(error("pump:hall-a:0.5").contains("HALL/cdu-NN"));
        assert!(error("stuck:hall-a/x_temp_c@-3").contains("≥ 0"));
        assert!(error("leak:hall-a").contains("expected drift:"));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names() -> Vec<String> {
        [
            "hall-a/cdu-01/tcs_supply_temp_c",
            "hall-a/cdu-01/tcs_flow_l_per_min",
            "hall-a/rack-0001/power_kw",
            "grid/battery/soc_frac",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn noise_has_the_documented_spread_and_no_bias() {
        let names = names();
        let mut sensors = Sensors::new(&names, 1.0, 0.0, vec![], 1).unwrap();
        let exact = [30.0, 2000.0, 120.0, 0.5];
        let n = 20_000;
        let mut sum = [0.0; 4];
        let mut sum_sq = [0.0; 4];
        let mut out = Vec::new();
        for k in 0..n {
            sensors.read(f64::from(k), &exact, &mut out);
            for i in 0..4 {
                let e = out[i].unwrap() - exact[i];
                sum[i] += e;
                sum_sq[i] += e * e;
            }
        }
        let expected_sigma = [0.1, 0.005 * 2000.0, 0.005 * 120.0, 0.002];
        for i in 0..4 {
            let mean = sum[i] / f64::from(n);
            let sigma = (sum_sq[i] / f64::from(n)).sqrt();
            // Standard errors: sigma/sqrt(n) for the mean, sigma/sqrt(2n) for sigma.
            assert!(
                mean.abs() < 4.0 * expected_sigma[i] / f64::from(n).sqrt(),
                "{i}: {mean}"
            );
            assert!((sigma / expected_sigma[i] - 1.0).abs() < 0.03, "{i}: {sigma}");
        }
    }

    #[test]
    fn stuck_sensors_hold_their_last_reading_and_drift_ramps() {
        let names = names();
        let faults = vec![
            SensorFault::Stuck {
                point: names[0].clone(),
                from_s: 10.0,
            },
            SensorFault::Drift {
                point: names[1].clone(),
                from_s: 10.0,
                per_h: 360.0,
            },
        ];
        let mut sensors = Sensors::new(&names, 0.0, 0.0, faults, 1).unwrap();
        let mut out = Vec::new();
        for t in 0..=20 {
            let t_s = f64::from(t);
            sensors.read(t_s, &[30.0 + t_s, 2000.0, 100.0, 0.5], &mut out);
            let expected_supply = if t < 10 { 30.0 + t_s } else { 39.0 };
            assert_eq!(out[0], Some(expected_supply), "t = {t}");
            let expected_flow = 2000.0 + 0.1 * (t_s - 10.0).max(0.0);
            assert!((out[1].unwrap() - expected_flow).abs() < 1e-9, "t = {t}");
        }
    }

    #[test]
    fn dropouts_lose_about_their_fraction_and_nothing_else() {
        let names = names();
        let mut sensors = Sensors::new(&names, 0.0, 0.1, vec![], 3).unwrap();
        let mut out = Vec::new();
        let (mut lost, mut total) = (0, 0);
        for k in 0..10_000 {
            sensors.read(f64::from(k), &[30.0, 2000.0, 100.0, 0.5], &mut out);
            total += out.len();
            lost += out.iter().filter(|r| r.is_none()).count();
            assert!(
                out.iter()
                    .flatten()
                    .all(|v| [30.0, 2000.0, 100.0, 0.5].contains(v))
            );
        }
        // Binomial: 40,000 draws at p = 0.1, standard deviation 60.
        assert!(
            (lost as f64 - 0.1 * total as f64).abs() < 300.0,
            "{lost} of {total}"
        );
    }

    #[test]
    fn bad_settings_and_unknown_points_are_refused() {
        let names = names();
        let unknown = SensorFault::Stuck {
            point: "hall-z/cdu-09/tcs_supply_temp_c".into(),
            from_s: 0.0,
        };
        let e = Sensors::new(&names, 1.0, 0.0, vec![unknown], 1).unwrap_err();
        assert!(e.to_string().contains("hall-z/cdu-09"), "{e}");
        assert!(Sensors::new(&names, -1.0, 0.0, vec![], 1).is_err());
        assert!(Sensors::new(&names, 1.0, 1.0, vec![], 1).is_err());
        assert!(Sensors::new(&names, f64::NAN, 0.0, vec![], 1).is_err());
    }

    proptest! {
        #[test]
        fn readings_stay_in_the_physical_range(
            exact in prop::collection::vec(-1.0e3..1.0e4f64, 4),
            scale in 0.0..50.0f64,
            seed in any::<u64>(),
        ) {
            let names = names();
            let mut sensors = Sensors::new(&names, scale, 0.0, vec![], seed).unwrap();
            let mut out = Vec::new();
            sensors.read(0.0, &exact, &mut out);
            prop_assert!((0.0..=1.0).contains(&out[3].unwrap()));
            prop_assert!(out[1].unwrap() >= 0.0);
            prop_assert!(out.iter().flatten().all(|v| v.is_finite()));
        }
    }
}
