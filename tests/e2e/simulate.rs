//! `campustwin check` and `campustwin simulate` from the command line.

use std::io::Read;
use std::path::Path;

use crate::support::{repo_root, run};

fn campus_path(name: &str) -> String {
    repo_root()
        .join("models/campuses")
        .join(name)
        .display()
        .to_string()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The example campus with its weather file named by absolute path, so a copy works anywhere.
fn example_text() -> String {
    let weather =
        repo_root().join("models/weather/USA_VA_Sterling-Washington.Dulles.Intl.AP.724030_TMY3.epw.gz");
    std::fs::read_to_string(campus_path("example.toml"))
        .expect("the example campus is in the repository")
        .replace(
            "\"../weather/USA_VA_Sterling-Washington.Dulles.Intl.AP.724030_TMY3.epw.gz\"",
            &format!("{:?}", weather.display().to_string()),
        )
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("the temporary folder is writable");
    path.display().to_string()
}

#[test]
fn check_accepts_the_shipped_campuses() {
    for name in ["example.toml", "esif.toml"] {
        let o = run(&["check", &campus_path(name)]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains(": ok"));
    }
}

#[test]
fn check_lists_every_problem_with_its_path_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let text = example_text()
        .replacen("racks = 210", "racks = -3", 1)
        .replace("cells = 14", "cells = 14, fans = 3");
    let o = run(&["check", &write(dir.path(), "bad.toml", &text)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("bad.toml"), "{}", stderr(&o));
    assert!(stderr(&o).contains("halls[0].racks"), "{}", stderr(&o));

    let text = example_text()
        .replace("latitude_deg = 39.04", "latitude_deg = 99.0")
        .replace("supply_temp_c = 30.0", "supply_temp_c = 37.0")
        .replace("rack = \"gb200-nvl72\"", "rack = \"gb300-nvl72\"");
    let o = run(&["check", &write(dir.path(), "bad2.toml", &text)]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("halls[0].rack: unknown rack model `gb300-nvl72`"),
        "{e}"
    );
    // Catalog problems stop before the rest is checked; fix them and the others show, all at once.
    let o = run(&[
        "check",
        &write(
            dir.path(),
            "bad3.toml",
            &text.replace("gb300-nvl72", "gb200-nvl72"),
        ),
    ]);
    let e = stderr(&o);
    assert!(
        e.contains("site.latitude_deg: must be within [-90, 90], got 99"),
        "{e}"
    );
    assert!(
        e.contains("halls[0].tcs.supply_temp_c: must be above facility_water.supply_temp_c"),
        "{e}"
    );
    assert!(e.contains("halls[3].tcs.supply_temp_c"), "{e}");

    let o = run(&["check", "/no/such/campus.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/no/such/campus.toml"));
}

#[test]
fn simulate_on_defaults_writes_the_time_series_and_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.csv");
    let summary = dir.path().join("run.json");
    let o = run(&[
        "simulate",
        "--hours",
        "1",
        "--step-s",
        "300",
        "--resolution",
        "hall",
        "--out",
        out.to_str().unwrap(),
        "--summary",
        summary.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    for column in [
        "time",
        "it_kw",
        "cooling_kw",
        "loss_kw",
        "facility_kw",
        "pue",
        "import_kw",
        "battery_soc_frac",
        "tcs_supply_c",
        "tcs_return_c",
        "facility_supply_c",
        "facility_return_c",
        "max_gpu_temp_c",
        "wet_bulb_c",
        "water_l",
    ] {
        assert!(header.iter().any(|h| h == column), "no column {column}");
    }
    assert_eq!(reader.records().count(), 12);
    let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    for key in [
        "it_energy_kwh",
        "facility_energy_kwh",
        "cooling_energy_kwh",
        "loss_energy_kwh",
        "pue",
        "water_m3",
        "wue_l_per_kwh",
        "peak_import_kw",
        "max_gpu_temp_c",
        "throttled_gpu_hours",
        "time_to_first_throttle_s",
        "energy_balance_residual",
        "simulated_s",
        "wall_s",
        "realtime_factor",
    ] {
        assert!(s.get(key).is_some(), "no key {key}");
    }
    assert!(s["pue"].as_f64().unwrap() > 1.0);
    assert!(s["time_to_first_throttle_s"].is_null());
    assert_eq!(s["simulated_s"].as_f64(), Some(3600.0));
}

#[test]
fn simulate_a_pump_trip_scenario_reports_time_to_first_throttle() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "trip.toml",
        "start = \"2026-07-15T18:00:00Z\"\nhours = 0.5\nload = { kind = \"constant\", utilisation = 0.95 }\n\n\
         [[events]]\nkind = \"cdu_pump_trip\"\nat_s = 300\nhall = \"hall-c\"\ncdu = 7\n",
    );
    let o = run(&["simulate", "--scenario", &scenario, "--resolution", "hall"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let t = s["time_to_first_throttle_s"].as_f64().expect("racks throttle");
    assert!(t > 300.0 && t < 420.0, "{t}");
    assert!(stderr(&o).contains("first GPU throttled"));
}

#[test]
fn simulate_refuses_bad_input_with_its_place_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    // A weather file cut short.
    let mut epw = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(repo_root().join("models/weather/USA_CO_Golden-NREL.724666_TMY3.epw.gz"))
            .unwrap(),
    )
    .read_to_string(&mut epw)
    .unwrap();
    let short: String = epw.lines().take(500).map(|l| format!("{l}\n")).collect();
    let weather = write(dir.path(), "short.epw", &short);
    let o = run(&["simulate", "--hours", "1", "--weather", &weather]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("short.epw") && stderr(&o).contains("line"),
        "{}",
        stderr(&o)
    );

    // A scenario naming a hall the campus lacks.
    let scenario = write(
        dir.path(),
        "s.toml",
        "[[events]]\nkind = \"cdu_pump_trip\"\nat_s = 10\nhall = \"hall-z\"\ncdu = 1\n",
    );
    let o = run(&["simulate", "--hours", "1", "--scenario", &scenario]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("events[0].hall: no hall `hall-z`"),
        "{}",
        stderr(&o)
    );

    // A load table with a bad value.
    let load = write(
        dir.path(),
        "load.csv",
        "time,hall,utilisation,power_cap_w\n2026-07-15T00:00:00Z,hall-a,0.9,1200\n2026-07-15T01:00:00Z,hall-a,high,1200\n",
    );
    let o = run(&["simulate", "--hours", "1", "--load", &format!("csv:{load}")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("line 3: utilisation: must be a number, got `high`"),
        "{}",
        stderr(&o)
    );

    // Flags.
    let o = run(&["simulate", "--hours=-2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--hours"), "{}", stderr(&o));
    let o = run(&["simulate", "--load", "constant:1.7"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("utilisation: must be within [0, 1], got 1.7"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_shipped_scenarios_run() {
    let dir = repo_root().join("models/scenarios");
    for name in ["cdu-pump-trip.toml", "grid-contingency.toml", "diurnal-week.toml"] {
        let scenario = dir.join(name).display().to_string();
        let o = run(&[
            "simulate",
            "--scenario",
            &scenario,
            "--resolution",
            "hall",
            "--hours",
            "0.25",
        ]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        // The contingency's events start after a quarter of an hour: said, not dropped silently.
        if name == "grid-contingency.toml" {
            assert!(
                stderr(&o).contains("warning: --hours 0.25 ends the run at 900 s, before events[0]"),
                "{}",
                stderr(&o)
            );
        }
    }
}

#[test]
fn simulate_refuses_runs_that_cannot_finish_or_be_represented_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--resolution", "hall", "--hours", "3e9", "--step-s", "3.6e9"],
            "--hours: must be a number > 0 and at most 87600",
        ),
        (&["--hours", "1e308"], "at most 87600"),
        (
            &["--hours", "1", "--step-s", "1e-9"],
            "--step-s: must be a number >= 0.01",
        ),
        (&["--hours", "-1"], "--hours: must be a number > 0"),
        (
            &["--resolution", "hall", "--hours", "87600", "--step-s", "0.01"],
            "more than the 1e8 a run may take",
        ),
    ];
    for (args, needle) in cases {
        let o = run(&[&["simulate"], args].concat());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
    // The same limits hold for a scenario's own fields, and the message names the file.
    let scenario = write(dir.path(), "huge.toml", "hours = 1e10\nstep_s = 1e12\n");
    let o = run(&["simulate", "--resolution", "hall", "--scenario", &scenario]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("huge.toml") && stderr(&o).contains("87600"),
        "{}",
        stderr(&o)
    );
    // A load spec with a value left over, and an event after the run's end.
    let o = run(&["simulate", "--hours", "1", "--load", "constant:0.9:1:garbage"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("`garbage` is left over"), "{}", stderr(&o));
    // A load table that is missing is traced to the scenario that names it.
    let missing = write(
        dir.path(),
        "missing-table.toml",
        "[load]\nkind = \"csv\"\nfile = \"missing.csv\"\n",
    );
    let o = run(&["simulate", "--hours", "1", "--scenario", &missing]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("missing-table.toml: load.file") && stderr(&o).contains("missing.csv"),
        "{}",
        stderr(&o)
    );
    let late = write(
        dir.path(),
        "late.toml",
        "hours = 1\n[[events]]\nkind = \"chiller_trip\"\nat_s = 7200\nchillers = 1\n",
    );
    let o = run(&["simulate", "--resolution", "hall", "--scenario", &late]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("events[0].at_s") && stderr(&o).contains("late.toml"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn any_input_file_that_is_dev_zero_is_refused_at_the_size_cap() {
    for flag in ["--campus", "--weather", "--scenario"] {
        let o = run(&["simulate", "--hours", "1", flag, "/dev/zero"]);
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("larger than 256 MiB"),
            "{flag}: {}",
            stderr(&o)
        );
    }
    let o = run(&["optimize", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("larger than 256 MiB"), "{}", stderr(&o));
}
