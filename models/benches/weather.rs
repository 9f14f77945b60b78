//! Cost of the weather functions the simulation calls every step.
//!
//! `cargo bench -p models --bench weather` (a plain timing loop: no benchmark framework,
//! so nothing is added to the test build). Prints nanoseconds per call.

use std::hint::black_box;
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use models::weather::{self, Weather, psychro, solar};

/// Runs `f` over `inputs` repeatedly for about half a second; returns ns per call.
fn time_per_call<T: Copy>(inputs: &[T], mut f: impl FnMut(T) -> f64) -> f64 {
    let mut calls = 0u64;
    let mut sink = 0.0;
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < 0.5 {
        for &x in inputs {
            sink += f(black_box(x));
        }
        calls += inputs.len() as u64;
    }
    black_box(sink);
    start.elapsed().as_secs_f64() * 1e9 / calls as f64
}

fn main() {
    let p = psychro::STANDARD_PRESSURE_PA;
    // Outdoor states over a year-like range: −20 to 40 °C, 10 to 100 % RH.
    let states: Vec<(f64, f64)> = (0..1000)
        .map(|i| {
            let t = -20.0 + 60.0 * (i as f64 / 999.0);
            let rh = 0.1 + 0.9 * ((i * 37 % 1000) as f64 / 999.0);
            (t, psychro::humidity_ratio_from_rel_humidity(t, rh, p))
        })
        .collect();
    let temps: Vec<f64> = states.iter().map(|s| s.0).collect();
    let enthalpies: Vec<f64> = temps
        .iter()
        .map(|&t| psychro::saturated_air_enthalpy_j_per_kg(t, p))
        .collect();

    let report = |name: &str, ns: f64| println!("{name:<48} {ns:>8.1} ns/call");
    report(
        "psychro::saturation_pressure_pa",
        time_per_call(&temps, psychro::saturation_pressure_pa),
    );
    report(
        "psychro::humidity_ratio_from_dew_point",
        time_per_call(&temps, |t| psychro::humidity_ratio_from_dew_point(t, p)),
    );
    report(
        "psychro::dew_point_c",
        time_per_call(&states, |(_, w)| psychro::dew_point_c(w, p)),
    );
    report(
        "psychro::wet_bulb_c",
        time_per_call(&states, |(t, w)| psychro::wet_bulb_c(t, w, p)),
    );
    report(
        "psychro::saturated_air_enthalpy_j_per_kg",
        time_per_call(&temps, |t| psychro::saturated_air_enthalpy_j_per_kg(t, p)),
    );
    report(
        "psychro::saturation_temp_from_enthalpy_c",
        time_per_call(&enthalpies, |h| psychro::saturation_temp_from_enthalpy_c(h, p)),
    );

    let w = match Weather::embedded(weather::DULLES_TMY3) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let start = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap_or_default();
    let instants: Vec<DateTime<Utc>> = (0..1000)
        .map(|i| start + TimeDelta::seconds(i * 31_337))
        .collect();
    report(
        "Weather::sample",
        time_per_call(&instants, |t| w.sample(t).wet_bulb_c),
    );
    report(
        "solar::sun_position",
        time_per_call(&instants, |t| solar::sun_position(38.98, -77.47, t).zenith_deg),
    );

    let gz = weather::embedded(weather::DULLES_TMY3).unwrap_or_default();
    let t0 = Instant::now();
    let runs = 20;
    for _ in 0..runs {
        black_box(Weather::from_bytes("dulles", black_box(gz)).is_ok());
    }
    println!(
        "{:<48} {:>8.2} ms/file",
        "Weather::from_bytes (gzipped TMY3, 8760 h)",
        t0.elapsed().as_secs_f64() * 1e3 / runs as f64
    );
}
