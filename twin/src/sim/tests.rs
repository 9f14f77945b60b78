//! Runs that are saved and resumed, branched, and switched to a new load mid-run.

use models::campus::Campus;
use models::scenario::{CduPumpTrip, ChillerTrip, Event, ImportLimitDrop, LoadChange};

use super::*;

fn start() -> DateTime<Utc> {
    "2026-07-15T02:00:00Z".parse().unwrap()
}

fn weak_pump() -> Event {
    Event::CduPumpTrip(CduPumpTrip {
        at_s: 0.0,
        duration_s: None,
        hall: "hall-b".into(),
        cdu: 3,
        residual_flow_frac: 0.4,
    })
}

/// The example campus at full load for two hours at hall resolution, with a weak pump in
/// force from the start and the import limit cut to 80 MW from 30 min to 90 min: the
/// battery discharges, the engines start (300 s) and ramp, the resolved loop and the
/// facility water are states, chillers are staged.
fn busy_evening(load: LoadProfile) -> Simulation {
    let campus = Campus::example().unwrap();
    let weather = campus.load_weather().unwrap();
    let drop = Event::ImportLimitDrop(ImportLimitDrop {
        at_s: 1800.0,
        duration_s: Some(3600.0),
        import_limit_kw: 80_000.0,
    });
    let options = RunOptions::new(start(), 7200.0, 60.0, Resolution::Hall);
    Simulation::with_profile(&campus, weather, load, &[weak_pump()], &[drop], options).unwrap()
}

fn full_load() -> LoadProfile {
    LoadProfile::Constant {
        utilisation: 1.0,
        cap_frac: 1.0,
    }
}

fn steps(run: &mut Run, n: usize) -> Vec<StepRecord> {
    (0..n).map_while(|_| run.step().unwrap()).collect()
}

/// Without the summary's wall-clock figures, which no two runs share.
fn comparable(mut s: Summary) -> Summary {
    s.wall_s = 0.0;
    s.realtime_factor = 0.0;
    s
}

#[test]
fn a_resumed_run_continues_exactly_as_one_never_interrupted() {
    let mut whole = busy_evening(full_load()).start().unwrap();
    let all = steps(&mut whole, usize::MAX);
    let whole_summary = whole.finish();
    assert_eq!(all.len(), 120);

    // Stop 33 minutes in, three minutes after the cut: the engines are still starting.
    let mut first = busy_evening(full_load()).start().unwrap();
    let before = steps(&mut first, 33);
    let saved = first.save();
    drop(first);
    assert_eq!(before, all[..33]);
    assert!(
        saved.engines[0].starting > 0 && saved.engines[0].start_left_s > 0.0,
        "{:?}",
        saved.engines
    );
    assert_eq!(saved.layout.loops.len(), 1);
    assert!(saved.layout.facility.is_some() && saved.layout.battery_soc.is_some());
    // Through JSON and back, bit for bit.
    let text = serde_json::to_string(&saved).unwrap();
    let restored: SavedRun = serde_json::from_str(&text).unwrap();
    assert_eq!(restored, saved);

    let mut resumed = busy_evening(full_load()).resume(&restored).unwrap();
    assert_eq!(resumed.elapsed_s(), 1980.0);
    let after = steps(&mut resumed, usize::MAX);
    assert_eq!(
        after,
        all[33..],
        "the continuation differs from the uninterrupted run"
    );
    assert_eq!(comparable(resumed.finish()), comparable(whole_summary));
}

#[test]
fn resume_refuses_a_simulation_built_otherwise() {
    let mut run = busy_evening(full_load()).start().unwrap();
    steps(&mut run, 2);
    let saved = run.save();
    let campus = Campus::example().unwrap();
    let weather = campus.load_weather().unwrap();
    // No weak pump: the loop it resolves is not there.
    let options = RunOptions::new(start(), 7200.0, 60.0, Resolution::Hall);
    let other = Simulation::with_profile(&campus, weather.clone(), full_load(), &[], &[], options).unwrap();
    let e = other.resume(&saved).unwrap_err().to_string();
    assert!(e.contains("laid out differently"), "{e}");
    let late = RunOptions::new(
        start() + chrono::Duration::hours(1),
        7200.0,
        60.0,
        Resolution::Hall,
    );
    let other =
        Simulation::with_profile(&campus, weather.clone(), full_load(), &[weak_pump()], &[], late).unwrap();
    let e = other.resume(&saved).unwrap_err().to_string();
    assert!(e.contains("resume needs the same start"), "{e}");
    let esif = Campus::builtin("esif.toml").unwrap();
    let options = RunOptions::new(saved.at, 600.0, 60.0, Resolution::Hall);
    let other = Simulation::with_profile(&esif, weather, full_load(), &[], &[], options).unwrap();
    let e = other.start_from(&saved).unwrap_err().to_string();
    assert!(e.contains("is of `Example campus"), "{e}");
}

/// Branching with the same layout from the same instant, the events shifted to the new
/// start, continues as the original run does: `start_from` takes over every state.
#[test]
fn a_branch_with_the_same_set_up_follows_the_original() {
    let campus = Campus::example().unwrap();
    let weather = campus.load_weather().unwrap();
    let options = RunOptions::new(start(), 3600.0, 60.0, Resolution::Hall);
    let mut whole = Simulation::with_profile(
        &campus,
        weather.clone(),
        full_load(),
        &[weak_pump()],
        &[],
        options,
    )
    .unwrap()
    .start()
    .unwrap();
    let all = steps(&mut whole, usize::MAX);
    let mut first = Simulation::with_profile(
        &campus,
        weather.clone(),
        full_load(),
        &[weak_pump()],
        &[],
        RunOptions::new(start(), 3600.0, 60.0, Resolution::Hall),
    )
    .unwrap()
    .start()
    .unwrap();
    steps(&mut first, 20);
    let saved = first.save();
    let branch_options = RunOptions::new(saved.at, 2400.0, 60.0, Resolution::Hall);
    let mut branch =
        Simulation::with_profile(&campus, weather, full_load(), &[weak_pump()], &[], branch_options)
            .unwrap()
            .start_from(&saved)
            .unwrap();
    assert_eq!(branch.state(), &saved.state[..]);
    let rest = steps(&mut branch, usize::MAX);
    assert_eq!(rest, all[20..]);
}

#[test]
fn a_running_simulation_switches_to_a_new_load_as_a_table_would_have_it() {
    let halls = 4;
    // Switched by hand after ten minutes.
    let mut switched = busy_evening(LoadProfile::Constant {
        utilisation: 0.9,
        cap_frac: 1.0,
    })
    .start()
    .unwrap();
    let mut records = steps(&mut switched, 10);
    switched
        .set_load(LoadProfile::Constant {
            utilisation: 0.6,
            cap_frac: 1.0,
        })
        .unwrap();
    records.extend(steps(&mut switched, 30));
    // The same switch written in the load from the start.
    let rows = vec![vec![(0.0, 0.9, 1200.0), (600.0, 0.6, 1200.0)]; halls];
    let mut tabled = busy_evening(LoadProfile::Table { halls: rows }).start().unwrap();
    let expected = steps(&mut tabled, 40);
    assert_eq!(records, expected);
    assert!(records[12].it_kw < 0.8 * records[8].it_kw);
    // A load for another campus is refused and the run goes on with its own.
    let e = switched
        .set_load(LoadProfile::Table {
            halls: vec![vec![(0.0, 0.5, 1200.0)]],
        })
        .unwrap_err()
        .to_string();
    assert!(e.contains("rows for 1 halls, the campus has 4"), "{e}");
    assert!(switched.step().unwrap().is_some());
}

#[test]
fn conditions_hold_through_the_warm_up_and_must_start_at_zero() {
    let campus = Campus::example().unwrap();
    let weather = campus.load_weather().unwrap();
    let options = RunOptions::new(start(), 600.0, 60.0, Resolution::Hall);
    let as_condition = Simulation::with_profile(
        &campus,
        weather.clone(),
        full_load(),
        &[weak_pump()],
        &[],
        options.clone(),
    )
    .unwrap()
    .start()
    .unwrap();
    let as_event = Simulation::with_profile(
        &campus,
        weather.clone(),
        full_load(),
        &[],
        &[weak_pump()],
        options.clone(),
    )
    .unwrap()
    .start()
    .unwrap();
    // The weak loop's racks: warm already at the start when it is a condition, at their
    // healthy temperature when the trip is an event at 0.
    let rack = |run: &Run| {
        let layout = run.model().layout();
        run.state()[layout.loops[0].racks[0]]
    };
    assert!(
        rack(&as_condition) > rack(&as_event) + 3.0,
        "{} vs {}",
        rack(&as_condition),
        rack(&as_event)
    );
    let later = Event::CduPumpTrip(CduPumpTrip {
        at_s: 60.0,
        duration_s: None,
        hall: "hall-b".into(),
        cdu: 3,
        residual_flow_frac: 0.4,
    });
    let e = Simulation::with_profile(&campus, weather, full_load(), &[later], &[], options)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("conditions[0].at_s: a condition is in force from the start"),
        "{e}"
    );
}

#[test]
fn analytic_a_load_change_runs_the_halls_as_the_scaled_load_would() {
    // Untrottled, a GPU's power follows its utilisation alone: while the change halves
    // 0.8, IT power is what a constant 0.4 gives at the same instant; before and after,
    // what 0.8 gives.
    let campus = Campus::example().unwrap();
    let run = |utilisation: f64, events: &[Event]| -> Vec<StepRecord> {
        let load = LoadProfile::Constant {
            utilisation,
            cap_frac: 1.0,
        };
        let options = RunOptions::new(start(), 5400.0, 60.0, Resolution::Hall);
        let weather = campus.load_weather().unwrap();
        let sim = Simulation::with_profile(&campus, weather, load, &[], events, options).unwrap();
        steps(&mut sim.start().unwrap(), usize::MAX)
    };
    let change = Event::LoadChange(LoadChange {
        at_s: 1800.0,
        duration_s: Some(1800.0),
        utilisation_factor: 0.5,
    });
    let changed = run(0.8, &[change]);
    let (full, half) = (run(0.8, &[]), run(0.4, &[]));
    for (i, r) in changed.iter().enumerate() {
        let t_s = 60.0 * (i + 1) as f64;
        let expected = if (1800.0..3600.0).contains(&(t_s - 30.0)) {
            &half[i]
        } else {
            &full[i]
        };
        assert!(r.throttled_gpus == 0.0);
        assert!(
            (r.it_kw - expected.it_kw).abs() < 1e-6 * expected.it_kw,
            "step {i}: {} kW, wanted {} kW",
            r.it_kw,
            expected.it_kw
        );
    }
    assert!(half[40].it_kw < 0.75 * full[40].it_kw);
}

#[test]
fn simulate_hours_3e9_step_3_6e9_is_refused_not_a_time_overflow_panic() {
    let campus = Campus::example().unwrap();
    for (hours, step_s) in [(3e9, 3.6e9), (1e10, 1e12), (1e308, 60.0)] {
        let options = RunOptions::new(start(), hours * 3600.0, step_s, Resolution::Hall);
        let weather = campus.load_weather().unwrap();
        let err = Simulation::new(&campus, weather, &LoadSpec::default(), None, &[], options).unwrap_err();
        assert!(err.to_string().contains("87600"), "{hours} h: {err}");
    }
    // Within the length limit, a start so late that the end cannot be held is refused too.
    let late: DateTime<Utc> = "+262140-01-01T00:00:00Z".parse().unwrap();
    let err = RunOptions::new(late, 87_000.0 * 3600.0, 3600.0, Resolution::Hall)
        .check()
        .unwrap_err();
    assert!(err.to_string().starts_with("start:"), "{err}");
}

#[test]
fn a_run_of_1e12_hours_or_steps_of_1e_9_s_is_refused_with_the_limit() {
    let check =
        |hours: f64, step_s: f64| RunOptions::new(start(), hours * 3600.0, step_s, Resolution::Hall).check();
    let too_long = check(1e12, 60.0).unwrap_err().to_string();
    assert!(
        too_long.starts_with("hours:") && too_long.contains("87600"),
        "{too_long}"
    );
    let too_fine = check(24.0, 1e-9).unwrap_err().to_string();
    assert!(
        too_fine.starts_with("step_s:") && too_fine.contains("0.01"),
        "{too_fine}"
    );
    let too_many = check(87_600.0, 0.01).unwrap_err().to_string();
    assert!(
        too_many.contains("steps") && too_many.contains("1e8"),
        "{too_many}"
    );
    assert!(check(f64::NAN, 60.0).is_err() && check(24.0, f64::INFINITY).is_err());
    // A year at one-second steps is a run a user may ask for.
    assert!(check(8760.0, 1.0).is_ok());
}

#[test]
fn a_scenario_event_after_the_run_ends_is_an_error_not_dropped() {
    let campus = Campus::example().unwrap();
    let late = Event::ChillerTrip(ChillerTrip {
        at_s: 7200.0,
        duration_s: None,
        chillers: 1,
    });
    let options = RunOptions::new(start(), 3600.0, 60.0, Resolution::Hall);
    let weather = campus.load_weather().unwrap();
    let err = Simulation::new(&campus, weather, &LoadSpec::default(), None, &[late], options).unwrap_err();
    assert!(err.to_string().contains("events[0].at_s"), "{err}");
}

#[test]
fn a_load_table_power_cap_of_1_w_or_1e308_w_is_refused_not_clamped() {
    let campus = Campus::example().unwrap();
    for cap in ["1", "1e308"] {
        let text = format!(
            "time,hall,utilisation,power_cap_w\n{t},hall-a,0.9,{cap}\n{t},hall-b,0.9,1200\n{t},hall-c,0.9,1200\n{t},hall-d,0.9,1200\n",
            t = "2026-07-15T00:00:00Z"
        );
        let table = LoadTable::parse("caps.csv", &text).unwrap();
        let spec = LoadSpec::Csv {
            file: "caps.csv".into(),
        };
        let options = RunOptions::new(start(), 3600.0, 60.0, Resolution::Hall);
        let weather = campus.load_weather().unwrap();
        let err = Simulation::new(&campus, weather, &spec, Some(&table), &[], options)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("caps.csv") && err.contains("hall-a") && err.contains("outside the caps"),
            "{cap}: {err}"
        );
    }
}
