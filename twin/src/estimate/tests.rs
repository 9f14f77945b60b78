//! The estimator following the twin's own rack-resolved simulation, read through its
//! points with sensor noise: quiet when healthy, alarms for a drifting sensor, a stuck
//! sensor and a weak pump.

use models::campus::Campus;
use models::load::LoadSpec;
use models::scenario::Event;

use super::*;
use crate::campus::PointSampler;
use crate::sim::{RunOptions, Simulation};

/// A small deterministic Gaussian source (xorshift and Box–Muller), for sensor noise.
struct Noise(u64);

impl Noise {
    fn next_uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn gaussian(&mut self) -> f64 {
        let u = self.next_uniform().max(1e-300);
        let v = self.next_uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// A sensor fault applied to the readings of one point from `from_s` on.
#[derive(Clone, Copy)]
enum Fault<'a> {
    None,
    Drift {
        point: &'a str,
        from_s: f64,
        k_per_s: f64,
    },
    Stuck {
        point: &'a str,
        from_s: f64,
    },
}

/// Runs the ESIF-like room at rack resolution for `minutes`, feeding every point at every
/// second to an estimator, and returns the alarms with their times (s after the start).
fn follow(
    load: LoadSpec,
    events: &[Event],
    fault: Fault,
    minutes: f64,
) -> (Vec<(f64, Alarm)>, EstimatorState) {
    let campus = Campus::builtin("esif.toml").unwrap();
    let weather = campus.load_weather().unwrap();
    let start: DateTime<Utc> = "2026-06-01T15:00:00Z".parse().unwrap();
    let options = RunOptions::new(start, minutes * 60.0, 1.0, Resolution::Rack);
    let mut sim = Simulation::new(&campus, weather, &load, None, events, options).unwrap();
    let mut estimator = Estimator::new(&campus).unwrap();
    let mut run = sim.start().unwrap();
    let sampler = PointSampler::new(run.model());
    let mut values = Vec::new();
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let mut alarms = Vec::new();
    let mut stuck_value = None;
    while run.step().unwrap().is_some() {
        let t_s = run.elapsed_s();
        sampler.sample(run.model(), run.state(), run.inputs(), &mut values);
        for (name, value) in sampler.names().iter().zip(&values) {
            let sigma = if name.ends_with("_temp_c") {
                0.05
            } else if name.ends_with("_l_per_min") {
                0.5
            } else {
                0.0
            };
            let mut reading = value + sigma * noise.gaussian();
            match fault {
                Fault::Drift {
                    point,
                    from_s,
                    k_per_s,
                } if name == point && t_s >= from_s => {
                    reading += k_per_s * (t_s - from_s);
                }
                Fault::Stuck { point, from_s } if name == point && t_s >= from_s => {
                    reading = *stuck_value.get_or_insert(reading);
                }
                _ => {}
            }
            for alarm in estimator.observe(name, run.now(), reading) {
                alarms.push((t_s, alarm));
            }
        }
    }
    (alarms, estimator.state())
}

fn busy() -> LoadSpec {
    LoadSpec::Constant {
        utilisation: 0.9,
        power_cap_frac: 1.0,
    }
}

#[test]
fn a_healthy_plant_raises_no_alarm_and_is_tracked() {
    let (alarms, state) = follow(busy(), &[], Fault::None, 30.0);
    assert!(alarms.is_empty(), "{alarms:?}");
    assert_eq!(state.loops.len(), 10);
    for l in &state.loops {
        assert!((l.flow_frac - 1.0).abs() < 0.05, "{l:?}");
        assert!((l.supply_temp_c - 24.0).abs() < 0.5, "{l:?}");
        assert!(l.max_cusum < 10.0);
    }
    // Used: rack powers, three sensors per CDU, the facility supply; the rest is ignored.
    assert_eq!(state.ignored, state.readings - 30 * 60 * (30 + 10 * 3 + 1));
}

#[test]
fn a_drifting_return_sensor_is_named() {
    let point = "hpc/cdu-04/tcs_return_temp_c";
    // 0.3 K per minute from minute 10.
    let (alarms, _) = follow(
        busy(),
        &[],
        Fault::Drift {
            point,
            from_s: 600.0,
            k_per_s: 0.005,
        },
        20.0,
    );
    let (t, alarm) = alarms.first().expect("an alarm");
    assert_eq!(alarm.kind, AlarmKind::SensorDrift);
    assert_eq!(alarm.subject, point);
    assert!(*t > 600.0 && *t < 900.0, "raised at {t} s");
}

#[test]
fn a_stuck_return_sensor_is_named_when_the_plant_moves() {
    // The return sensor freezes at minute 5; at minute 8 the racks' load drops (a long
    // checkpoint) and the loop's return with it. (A supply sensor is a poor test: the CDU
    // holds the supply at its setpoint whatever the load.)
    let point = "hpc/cdu-02/tcs_return_temp_c";
    let load = LoadSpec::Training {
        period_s: 600.0,
        compute_frac: 0.8,
        compute_utilisation: 0.9,
        communication_utilisation: 0.05,
        power_cap_frac: 1.0,
    };
    let (alarms, _) = follow(load, &[], Fault::Stuck { point, from_s: 300.0 }, 15.0);
    let stuck: Vec<_> = alarms
        .iter()
        .filter(|(_, a)| a.kind == AlarmKind::SensorStuck)
        .collect();
    let (t, alarm) = stuck.first().expect("a stuck alarm");
    assert_eq!(alarm.subject, point);
    assert!(*t > 480.0 && *t < 600.0, "raised at {t} s");
    // The load swing itself, seen by healthy sensors, raises nothing.
    assert!(alarms.iter().all(|(_, a)| a.subject == point), "{alarms:?}");
}

#[test]
fn a_weak_pump_is_found_and_its_flow_estimated() {
    let trip = Event::CduPumpTrip {
        at_s: 300.0,
        duration_s: None,
        hall: "hpc".into(),
        cdu: 7,
        residual_flow_frac: 0.6,
    };
    let (alarms, state) = follow(busy(), &[trip], Fault::None, 10.0);
    let pump: Vec<_> = alarms
        .iter()
        .filter(|(_, a)| a.kind == AlarmKind::PumpUnderperforming)
        .collect();
    let (t, alarm) = pump.first().expect("a pump alarm");
    assert_eq!(alarm.subject, "hpc/cdu-07");
    assert!(*t > 300.0 && *t < 420.0, "raised at {t} s");
    assert_eq!(pump.len(), 1, "{alarms:?}");
    let l = state.loops.iter().find(|l| l.cdu == 7).unwrap();
    assert!((l.flow_frac - 0.6).abs() < 0.05, "{l:?}");
    // The other loops are left alone.
    assert!(
        alarms.iter().all(|(_, a)| a.subject.starts_with("hpc/cdu-07")),
        "{alarms:?}"
    );
}
