//! The estimator following the twin's own rack-resolved simulation, read through its
//! points with sensor noise: quiet when healthy, alarms for a drifting sensor, a stuck
//! sensor and a weak pump. The readings come through [`crate::sensors`], as the sensor
//! simulator publishes them.

use models::campus::Campus;
use models::load::LoadSpec;
use models::scenario::{CduPumpTrip, Event};

use super::*;
use crate::campus::PointSampler;
use crate::sensors::{SensorFault, Sensors};
use crate::sim::{RunOptions, Simulation};

/// Runs the ESIF-like room at rack resolution for `minutes`, reading every point every
/// second through sensors with field-instrument noise (and `faults`), feeding an
/// estimator; returns the alarms with their times (s after the start).
fn follow(
    load: LoadSpec,
    events: &[Event],
    faults: Vec<SensorFault>,
    minutes: f64,
) -> (Vec<(f64, Alarm)>, EstimatorState) {
    let campus = Campus::builtin("esif.toml").unwrap();
    let weather = campus.load_weather().unwrap();
    let start: DateTime<Utc> = "2026-06-01T15:00:00Z".parse().unwrap();
    let options = RunOptions::new(start, minutes * 60.0, 1.0, Resolution::Rack);
    let sim = Simulation::new(&campus, weather, &load, None, events, options).unwrap();
    let mut estimator = Estimator::new(&campus).unwrap();
    let mut run = sim.start().unwrap();
    let sampler = PointSampler::new(run.model());
    let mut sensors = Sensors::new(sampler.names(), 1.0, 0.0, faults, 0x9E37_79B9_7F4A_7C15).unwrap();
    let (mut values, mut readings) = (Vec::new(), Vec::new());
    let mut alarms = Vec::new();
    while run.step().unwrap().is_some() {
        let t_s = run.elapsed_s();
        sampler.sample(run.model(), run.state(), run.inputs(), &mut values);
        sensors.read(t_s, &values, &mut readings);
        for (name, reading) in sampler.names().iter().zip(&readings) {
            let reading = reading.expect("no dropouts");
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
    let (alarms, state) = follow(busy(), &[], vec![], 30.0);
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
        vec![SensorFault::Drift {
            point: point.into(),
            from_s: 600.0,
            per_h: 18.0,
        }],
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
    let (alarms, _) = follow(
        load,
        &[],
        vec![SensorFault::Stuck {
            point: point.into(),
            from_s: 300.0,
        }],
        15.0,
    );
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
    let trip = Event::CduPumpTrip(CduPumpTrip {
        at_s: 300.0,
        duration_s: None,
        hall: "hpc".into(),
        cdu: 7,
        residual_flow_frac: 0.6,
    });
    let (alarms, state) = follow(busy(), &[trip], vec![], 10.0);
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
    // Nothing else: the step of the flow is the pump's, not a drifting flow meter's.
    assert!(
        alarms.iter().all(|(_, a)| a.subject == "hpc/cdu-07"),
        "{alarms:?}"
    );
}

#[test]
fn a_late_loop_reading_is_counted_and_not_taken_in() {
    let campus = Campus::builtin("esif.toml").unwrap();
    let mut estimator = Estimator::new(&campus).unwrap();
    let t0: DateTime<Utc> = "2026-06-01T15:00:00Z".parse().unwrap();
    let at = |s: i64| t0 + chrono::Duration::seconds(s);
    for r in 1..=30 {
        estimator.observe(&format!("hpc/rack-{r:04}/power_kw"), at(0), 30.0);
    }
    estimator.observe("plant/fw_supply_temp_c", at(0), 20.0);
    estimator.observe("hpc/cdu-01/tcs_supply_temp_c", at(10), 24.0);
    let before = estimator.state();
    // A redelivered reading from before the filter's time, far off: not taken in.
    estimator.observe("hpc/cdu-01/tcs_supply_temp_c", at(5), 40.0);
    let after = estimator.state();
    assert_eq!(after.out_of_order, 1);
    assert_eq!(after.loops[0], before.loops[0]);
    assert!(after.alarms.is_empty());
}
