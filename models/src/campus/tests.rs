//! Loading and validation of campus files.

use super::*;

#[test]
fn shipped_campuses_are_valid() {
    let example = Campus::example().unwrap();
    assert_eq!(example.spec.halls.len(), 4);
    // About 100 MW of IT: 840 NVL72-class racks at ~120 kW.
    let it_mw = example.it_design_kw() / 1000.0;
    assert!((95.0..=105.0).contains(&it_mw), "{it_mw} MW");
    assert_eq!(example.spec.grid.import_limit_kw, 150_000.0);

    let esif = Campus::builtin("esif.toml").unwrap();
    let it_kw = esif.it_design_kw();
    assert!((850.0..=1100.0).contains(&it_kw), "{it_kw} kW");
    assert!(esif.spec.heat_rejection.chillers.is_none());
    assert_eq!(esif.spec.halls[0].tcs.supply_temp_c.c(), 24.0);
    // The override reached the resolved rack; the rest came from the catalog.
    assert_eq!(esif.spec.halls[0].rack.liquid_fraction, 0.9);
    assert_eq!(esif.spec.halls[0].rack.gpu.model.as_deref(), Some("h100-sxm"));
}

#[test]
fn shipped_campuses_on_disk_match_the_embedded_ones() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("campuses");
    for name in ["example.toml", "esif.toml"] {
        let from_disk = Campus::load(&dir.join(name)).unwrap();
        let builtin = Campus::builtin(name).unwrap();
        assert_eq!(from_disk.spec, builtin.spec);
        match from_disk.weather_location() {
            WeatherLocation::File(path) => assert!(path.exists(), "{}", path.display()),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn builtin_campus_weather_is_looked_up_by_file_name() {
    let example = Campus::example().unwrap();
    assert_eq!(
        example.weather_location(),
        WeatherLocation::Builtin("USA_VA_Sterling-Washington.Dulles.Intl.AP.724030_TMY3.epw.gz".into())
    );
}

fn example_text() -> String {
    BUILTIN_CAMPUSES[0].1.to_string()
}

fn load_text(text: &str) -> Result<Campus> {
    Campus::from_toml(text, Origin::File(PathBuf::from("bad.toml")))
}

#[test]
fn every_problem_is_reported_at_once_with_its_path() {
    let text = example_text()
        .replace("latitude_deg = 39.04", "latitude_deg = 139.04")
        .replacen("racks = 210", "racks = 0", 1)
        .replace("supply_temp_c = 30.0", "supply_temp_c = 40.0")
        .replace("import_limit_kw = 150000.0", "import_limit_kw = -1.0");
    let err = load_text(&text).unwrap_err().to_string();
    assert!(err.starts_with("bad.toml: "), "{err}");
    assert!(
        err.contains("site.latitude_deg: must be within [-90, 90], got 139.04"),
        "{err}"
    );
    assert!(
        err.contains("halls[0].racks: must be from 1 to 20000, got 0"),
        "{err}"
    );
    assert!(err.contains("halls[0].cdus: 14 CDUs for 0 racks"), "{err}");
    assert!(
        err.contains("halls[3].tcs.supply_temp_c: must be above facility_water.supply_temp_c (40 °C)"),
        "{err}"
    );
    assert!(
        err.contains("grid.import_limit_kw: must be a finite number > 0, got -1"),
        "{err}"
    );
}

#[test]
fn unknown_fields_and_wrong_types_name_their_path() {
    let text = example_text().replace(
        "pump_head_kpa = 200.0",
        "pump_head_kpa = 200.0\npump_head_psi = 29.0",
    );
    let err = load_text(&text).unwrap_err().to_string();
    assert!(err.contains("facility_water"), "{err}");
    assert!(err.contains("unknown field `pump_head_psi`"), "{err}");

    let text = example_text().replace("cells = 14", "cells = \"fourteen\"");
    let err = load_text(&text).unwrap_err().to_string();
    assert!(err.contains("heat_rejection.cooling_towers.cells"), "{err}");
}

#[test]
fn catalog_overrides_are_validated_like_any_field() {
    let text = example_text().replacen(
        "rack = \"gb200-nvl72\"",
        "rack = { model = \"gb200-nvl72\", liquid_fraction = 1.5, gpu = { model = \"gb200\", throughput_curve = [[0.15, 0.3], [0.5, 0.4], [1.0, 1.0]] } }",
        1,
    );
    let err = load_text(&text).unwrap_err().to_string();
    assert!(
        err.contains("halls[0].rack.liquid_fraction: must be within (0, 1], got 1.5"),
        "{err}"
    );
    assert!(
        err.contains("halls[0].rack.gpu.throughput_curve[2]: the curve must be concave"),
        "{err}"
    );
}

#[test]
fn syntax_errors_give_the_line() {
    let err = load_text("[site]\nname = \"x\"\nlatitude_deg = = 3\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 3"), "{err}");
}

#[test]
fn duplicate_hall_names_are_refused() {
    let text = example_text().replace("name = \"hall-b\"", "name = \"hall-a\"");
    let err = load_text(&text).unwrap_err().to_string();
    assert!(
        err.contains("halls[1].name: hall name `hall-a` is used twice"),
        "{err}"
    );
}

#[test]
fn values_that_passed_check_and_then_hung_simulate_are_refused_with_their_range() {
    let cases = [
        ("auxiliary_kw = 500.0", "auxiliary_kw = nan", "power.auxiliary_kw"),
        (
            "auxiliary_kw = 500.0",
            "auxiliary_kw = -500.0",
            "power.auxiliary_kw",
        ),
        ("racks = 210", "racks = 4294967295", "halls[0].racks"),
    ];
    for (from, to, field) in cases {
        let text = example_text().replacen(from, to, 1);
        assert_ne!(text, example_text(), "{from} is not in the example");
        let err = load_text(&text).unwrap_err().to_string();
        assert!(err.contains(field) && err.contains("bad.toml"), "{to}: {err}");
    }
    // Rack overrides, on the catalog rack of the first hall.
    for (override_line, field) in [
        ("host_max_kw = 1e12", "halls[0].rack.host_max_kw"),
        ("gpus_per_rack = 4294967295", "halls[0].rack.gpus_per_rack"),
    ] {
        let rack = format!("rack = {{ model = \"gb200-nvl72\", {override_line} }}");
        let text = example_text().replacen("rack = \"gb200-nvl72\"", &rack, 1);
        let err = load_text(&text).unwrap_err().to_string();
        assert!(err.contains(field), "{override_line}: {err}");
    }
}

#[test]
fn a_cdu_rating_of_1e308_kw_is_refused_with_its_file_and_field() {
    let text = example_text().replacen(
        "cdu = \"cdu-2000kw\"",
        "cdu = { model = \"cdu-2000kw\", rated_heat_kw = 1e308 }",
        1,
    );
    let err = load_text(&text).unwrap_err().to_string();
    assert!(
        err.contains("bad.toml") && err.contains("halls[0].cdu.rated_heat_kw: must be at most"),
        "{err}"
    );
}

#[test]
fn an_over_long_toml_line_is_quoted_once_and_cut() {
    let text = format!("[site]\nname = \"{}\" garbage\n", "x".repeat(2_000_000));
    let err = load_text(&text).unwrap_err().to_string();
    assert!(err.len() < 400, "{} bytes of message", err.len());
    assert!(
        err.contains("bad.toml") && err.contains("line 2, column"),
        "{err}"
    );
}
