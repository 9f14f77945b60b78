//! The bodies of CampusTwin's fuzz targets: one function per parser or validator, taking
//! the fuzzer's bytes and calling the real entry point, as the command line and the
//! service do.
//!
//! Each body asserts what must hold for any input: no panic, an error that says what is
//! wrong (a non-empty message), and, where a target says so, properties of what was
//! accepted. The cargo-fuzz crate in `fuzz/` calls these from `fuzz_target!`s on nightly;
//! the test in this crate replays the committed corpora (`fuzz/corpus/<target>/`) and
//! every crashing input found (`fuzz/artifacts/<target>/`) through the same bodies on
//! stable, so that a plain `cargo test` guards them.
//!
//! ```
//! // Bad input is an error with a message, never a panic.
//! fuzz_harness::campus(b"[site]\nname = 1\n");
//! fuzz_harness::native_diff(br#"[{"point":"a_kw","ts":1,"value":2.5}]"#);
//! ```

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use models::campus::{Campus, Origin};
use models::load::{LoadSpec, LoadTable};
use models::price::PriceFile;
use models::scenario::Scenario;
use models::schedule::ScheduleProblem;
use models::schedule::queue::QueuedJob;
use models::service::ServiceConfig;
use models::siting::grid::GridSeries;
use models::telemetry::{PointMapSpec, TimestampPrecision};
use models::weather::forecast::WeatherForecast;
use models::weather::{Epw, Weather};
use twin::campus::{CampusModel, Resolution};
use twin::sim::{RunOptions, Simulation};

mod reference;
#[cfg(test)]
mod tests;

/// The body of a fuzz target: the fuzzer's bytes in, a panic for a failure.
pub type Body = fn(&[u8]);

/// Every target: its name (the `fuzz_targets/<name>.rs` binary, the `corpus/<name>/` and
/// `artifacts/<name>/` folders) and its body.
pub const TARGETS: &[(&str, Body)] = &[
    ("epw", epw),
    ("campus", campus),
    ("scenario", scenario),
    ("load_table", load_table),
    ("problem", problem),
    ("point_map", point_map),
    ("native", native),
    ("native_diff", native_diff),
    ("line_protocol", line_protocol),
    ("api_whatif", api_whatif),
    ("price", price),
    ("grid", grid),
    ("weather_forecast", weather_forecast),
    ("service_config", service_config),
    ("job_queue", job_queue),
    ("load_spec", load_spec),
];

/// The name the inputs are given in messages.
const FILE: &str = "fuzz-input";

/// Checks that an error of a file says what is wrong: a non-empty reason (every problem
/// with one), and no I/O error from a parser that was handed bytes.
fn check_error(e: &models::Error) {
    match e {
        models::Error::Io { .. } => panic!("a parser of bytes in memory reported an I/O error: {e}"),
        models::Error::Parse { message, .. } | models::Error::Line { message, .. } => {
            assert!(!message.trim().is_empty(), "an error without a reason: {e:?}");
        }
        models::Error::Invalid { problems, .. } => {
            assert!(!problems.is_empty(), "invalid without a problem: {e:?}");
            for p in problems.iter() {
                assert!(!p.message.trim().is_empty(), "a problem without a reason: {e:?}");
            }
        }
    }
}

/// Checks that an error of the twin says what is wrong.
fn check_twin_error(e: &twin::Error) {
    match e {
        twin::Error::Input(e) => check_error(e),
        twin::Error::Model { message, .. } | twin::Error::Scenario(message) => {
            assert!(!message.trim().is_empty(), "an error without a reason: {e:?}");
        }
        twin::Error::Integration { .. } => panic!("nothing was integrated, yet: {e}"),
    }
}

/// The input as text, as the file readers give it (`models::files::text` refuses
/// anything that is not UTF-8 before a parser sees it).
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// The built-in example campus and its weather, read once: the scenario and load-table
/// targets run what they accept against it, as `campustwin simulate` does by default.
fn example() -> &'static (Campus, Weather) {
    static EXAMPLE: OnceLock<(Campus, Weather)> = OnceLock::new();
    EXAMPLE.get_or_init(|| {
        let campus = Campus::example().expect("the example campus is valid");
        let weather = campus.load_weather().expect("the example campus's weather reads");
        (campus, weather)
    })
}

/// `simulate`'s default start, when neither the command line nor the scenario gives one.
fn default_start() -> DateTime<Utc> {
    "2026-07-15T00:00:00Z".parse().expect("a valid RFC 3339 time")
}

/// EPW weather files, plain or gzipped (`Epw::from_bytes`, the reader of `--weather` and
/// of a campus's `site.weather_file`), then the weather series built from them
/// (`Weather::new`). Checks: no panic; an error has a reason; a file accepted holds
/// exactly 8760 hourly records of finite values, in order, at a site within range.
pub fn epw(data: &[u8]) {
    match Epw::from_bytes(FILE, data) {
        Ok(epw) => {
            let records = epw.records();
            assert_eq!(records.len(), models::weather::epw::HOURS_PER_YEAR);
            for r in records {
                for v in [
                    r.dry_bulb_c,
                    r.dew_point_c,
                    r.rel_humidity_frac,
                    r.pressure_pa,
                    r.ghi_w_per_m2,
                    r.dni_w_per_m2,
                    r.dhi_w_per_m2,
                    r.wind_speed_m_per_s,
                    r.humidity_ratio_kg_per_kg,
                    r.wet_bulb_c,
                ] {
                    assert!(
                        v.is_finite(),
                        "a record accepted with a value that is not finite: {r:?}"
                    );
                }
            }
            let site = epw.location();
            assert!((-90.0..=90.0).contains(&site.latitude_deg), "{site:?}");
            assert!((-180.0..=180.0).contains(&site.longitude_deg), "{site:?}");
            assert!((-12.0..=14.0).contains(&site.time_zone_h), "{site:?}");
            let _ = Weather::new(epw);
        }
        Err(e) => check_error(&e),
    }
}

/// Campus TOML (`Campus::from_toml`: parse, resolve catalog references, deserialise,
/// validate), then, for a campus accepted, the physical model built as `campustwin
/// check` builds it (`CampusModel::build` at hall resolution, an hour's step). Checks: no
/// panic; errors have a reason; an accepted campus has a finite design power.
pub fn campus(data: &[u8]) {
    let Some(text) = text(data) else { return };
    match Campus::from_toml(text, Origin::File(FILE.into())) {
        Ok(campus) => {
            let it_kw = campus.it_design_kw();
            assert!(it_kw.is_finite() && it_kw >= 0.0, "design IT power {it_kw} kW");
            if let Err(e) = CampusModel::build(&campus, Resolution::Hall, &[], 3600.0) {
                check_twin_error(&e);
            }
        }
        Err(e) => check_error(&e),
    }
}

/// Scenario TOML (`Scenario::parse`, the reader of `--scenario`), then, for a scenario
/// accepted, the run set up from it against the example campus as `campustwin simulate`
/// sets it up (`Simulation::new`: the load built, the events checked against the campus
/// and the run's end). Checks: no panic; errors have a reason; a scenario accepted passes
/// its own validation again.
pub fn scenario(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let scenario = match Scenario::parse(FILE, text) {
        Ok(scenario) => scenario,
        Err(e) => return check_error(&e),
    };
    let mut again = models::Problems::new();
    scenario.validate(&mut again);
    assert!(again.is_empty(), "accepted, then refused: {again}");
    let (campus, weather) = example();
    let options = RunOptions::new(
        scenario.start.unwrap_or_else(default_start),
        scenario.hours.unwrap_or(24.0) * 3600.0,
        scenario.step_s.unwrap_or(60.0),
        Resolution::Hall,
    );
    let load = scenario.load.clone().unwrap_or_default();
    // A `csv` load names a file that is not read here: the twin says so.
    let result = Simulation::new(campus, weather.clone(), &load, None, &scenario.events, options);
    if let Err(e) = result {
        check_twin_error(&e);
    }
}

/// Load tables (`LoadTable::parse`, the reader of a `csv:FILE` load), then, for a table
/// accepted, the load profile built from it for the example campus as `campustwin
/// simulate` builds it (`Simulation::new` with a `csv` load: the caps checked against the
/// GPUs, the halls against the campus). Checks: no panic; errors have a reason; rows
/// accepted have finite values.
pub fn load_table(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let table = match LoadTable::parse(FILE, text) {
        Ok(table) => table,
        Err(e) => return check_error(&e),
    };
    for row in &table.rows {
        assert!(
            row.utilisation.is_finite() && row.power_cap_w.is_finite(),
            "a row accepted with a value that is not finite: {row:?}"
        );
    }
    let (campus, weather) = example();
    let start = table
        .rows
        .iter()
        .map(|r| r.time)
        .min()
        .unwrap_or_else(default_start);
    let options = RunOptions::new(start, 24.0 * 3600.0, 60.0, Resolution::Hall);
    let load = LoadSpec::Csv { file: FILE.into() };
    if let Err(e) = Simulation::new(campus, weather.clone(), &load, Some(&table), &[], options) {
        check_twin_error(&e);
    }
}

/// Optimizer problem files (`ScheduleProblem::from_json`: parse, then validate, the
/// reader of `campustwin optimize FILE`). Checks: no panic; errors have a reason; a
/// problem accepted passes its own validation again, and the quantities the optimizer
/// derives from it (slot length, risk weight, throughput segments, each job's halls) are
/// defined.
pub fn problem(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let problem = match ScheduleProblem::from_json(text, FILE) {
        Ok(problem) => problem,
        Err(e) => return check_error(&e),
    };
    let again = problem.validate();
    assert!(again.is_empty(), "accepted, then refused: {again}");
    assert!(problem.slot_hours() > 0.0);
    assert!(problem.risk_weight().is_finite());
    let _ = problem.uses_extensions();
    for hall in &problem.halls {
        for (a, b) in hall.segments() {
            assert!(
                a.is_finite() && b.is_finite(),
                "hall {}: segment ({a}, {b})",
                hall.id
            );
        }
        let top = hall.throughput_at(hall.max_cap_kw);
        assert!(
            top.is_finite(),
            "hall {}: throughput {top} at the top cap",
            hall.id
        );
    }
    for j in 0..problem.jobs.len() {
        for h in problem.job_halls(j) {
            assert!(h < problem.halls.len());
        }
    }
}

/// Point maps (`PointMapSpec::from_toml_str`: parse and validate, the reader of
/// `--point-map`), then, for a map accepted, the compiled map ingest runs with
/// (`ingest::PointMap::new`). Checks: no panic; errors have a reason; a map that
/// validates also compiles (validation is meant to report every problem, with its path).
pub fn point_map(data: &[u8]) {
    let Some(text) = text(data) else { return };
    match PointMapSpec::from_toml_str(text, FILE) {
        Ok(spec) => {
            if let Err(e) = ingest::PointMap::new(&spec) {
                panic!("a point map that validates does not compile: {e}");
            }
        }
        Err(e) => check_error(&e),
    }
}

/// Native JSON payloads through the decoder ingest runs on them: as a single reading
/// (`decode_single`) and as a batch (`decode_batch`). Checks: no panic; every error has a
/// reason; a single reading's error carries its point; a batch's errors are in item
/// order, and an error of the whole batch comes alone.
pub fn native(data: &[u8]) {
    use ingest::decode::native::{decode_batch, decode_single};
    const SOURCE: &str = "hall-a/rack-0001/power_kw";
    match decode_single(SOURCE, data) {
        Ok(v) => assert_eq!(v.source, SOURCE),
        Err(e) => {
            assert!(!e.detail.trim().is_empty(), "an error without a reason: {e:?}");
            assert_eq!(e.item, None);
            assert_eq!(e.source.as_deref(), Some(SOURCE));
        }
    }
    let (_, errors) = decode_batch(data);
    for e in &errors {
        assert!(!e.detail.trim().is_empty(), "an error without a reason: {e:?}");
    }
    if errors.iter().any(|e| e.item.is_none()) {
        assert_eq!(
            errors.len(),
            1,
            "an error of the whole batch beside others: {errors:?}"
        );
    }
    let items: Vec<usize> = errors.iter().filter_map(|e| e.item).collect();
    assert!(
        items.windows(2).all(|w| w[0] < w[1]),
        "errors out of item order: {errors:?}"
    );
}

/// The native decoder against an independent serde_json reading of the same payload
/// (`reference`, written from the format in `ingest::decode::native`'s documentation).
/// `decode_batch` takes the single-pass scanner's path when the batch is in the plain
/// shape gateways send, serde's otherwise; either way it must agree with the reference:
/// the same accept/reject decision for the batch and for each item, and the same values
/// (points, timestamps, units, and values bit for bit, `f64::to_bits`). `decode_single`
/// likewise.
pub fn native_diff(data: &[u8]) {
    use ingest::decode::native::{decode_batch, decode_single};
    use reference::Expected;
    const SOURCE: &str = "p_kw";
    let single = decode_single(SOURCE, data).map(|v| reference::exact(&[v]));
    let expected = reference::single(SOURCE, data);
    match (&single, &expected) {
        (Ok(got), Some(want)) => assert_eq!(got, want, "single reading: the values differ"),
        (Err(_), None) => {}
        (got, want) => panic!("single reading: decoded {got:?}, the reference {want:?}"),
    }

    let (values, errors) = decode_batch(data);
    let got = reference::exact(&values);
    match reference::batch(data) {
        Expected::Whole(want) => {
            assert!(
                errors.is_empty(),
                "a batch the reference takes whole was refused: {errors:?}"
            );
            assert_eq!(got, want, "batch: the values differ");
        }
        Expected::Items {
            values: want,
            refused,
        } => {
            assert_eq!(got, want, "batch item by item: the values differ");
            let items: Vec<usize> = errors.iter().filter_map(|e| e.item).collect();
            assert_eq!(
                items, refused,
                "batch item by item: other items refused ({errors:?})"
            );
        }
        Expected::NoBatch => {
            assert!(values.is_empty(), "values decoded from what is no batch: {got:?}");
            assert!(
                errors.len() == 1 && errors[0].item.is_none(),
                "no batch, yet not one error of the whole: {errors:?}"
            );
        }
    }
}

/// InfluxDB line protocol (`ingest::decode::line_protocol::decode`), with each timestamp
/// precision. Checks: no panic; every error has a reason and the number of a line of the
/// payload; a value has a measurement and a field; the precisions that only divide (ns,
/// µs, ms) decode the same lines to the same fields, their timestamps the ms one's
/// divided down.
pub fn line_protocol(data: &[u8]) {
    use ingest::decode::line_protocol::decode;
    let Some(text) = text(data) else { return };
    let lines = text.lines().count();
    let mut decoded = Vec::new();
    for precision in [
        TimestampPrecision::Ms,
        TimestampPrecision::Us,
        TimestampPrecision::Ns,
        TimestampPrecision::S,
    ] {
        let (values, errors) = decode(text, precision);
        for e in &errors {
            assert!(!e.detail.trim().is_empty(), "an error without a reason: {e:?}");
            assert!((1..=lines).contains(&e.line), "line {} of {lines}: {e:?}", e.line);
        }
        for v in &values {
            assert!(!v.measurement.is_empty() && !v.field.is_empty(), "{v:?}");
        }
        decoded.push((values, errors));
    }
    let (ms_values, ms_errors) = &decoded[0];
    for ((values, errors), div) in decoded[1..3].iter().zip([1_000, 1_000_000]) {
        assert_eq!(
            errors, ms_errors,
            "the errors depend on a precision that only divides"
        );
        assert_eq!(values.len(), ms_values.len());
        for (v, ms) in values.iter().zip(ms_values) {
            assert_eq!(
                (&v.measurement, &v.tags, &v.field),
                (&ms.measurement, &ms.tags, &ms.field)
            );
            let same = match (&v.value, &ms.value) {
                (Ok(a), Ok(b)) => a.to_bits() == b.to_bits(),
                (a, b) => a == b,
            };
            assert!(same, "{:?} against {:?}", v.value, ms.value);
            assert_eq!(v.ts_ms, ms.ts_ms.div_euclid(div));
        }
    }
}

/// The body of `POST /api/v1/whatif`, the one API route that takes a body (`POST
/// /forecast/run` and `POST /alarms/{id}/acknowledge` take none): read as the route reads
/// it (`web::json::parse` into a `WhatIfRequest`, every body an object), then checked as
/// the handler checks it before starting a run (`web::api::forecast::check_whatif`: the
/// hours, and the events by the scenario file's rules). Checks: no panic; every refusal
/// is a 400 with a reason.
pub fn api_whatif(data: &[u8]) {
    let result = web::json::parse::<web::state::WhatIfRequest>(data)
        .and_then(|request| web::api::forecast::check_whatif(&request));
    if let Err(e) = result {
        assert_eq!(e.status, 400, "{e:?}");
        assert!(!e.message.trim().is_empty(), "an error without a reason: {e:?}");
    }
}

/// Price files (`PriceFile::from_str`, the reader of `--prices`), then, for a file
/// accepted, its scenarios priced over 15-minute slots across its span as the optimizer
/// prices them (`PriceFile::scenarios`). Checks: no panic; errors have a reason; an
/// accepted file has strictly increasing times, a price per row in every column, finite
/// prices and probabilities within [0, 1]; slots within the span are priced, finitely.
pub fn price(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let file = match PriceFile::from_str(FILE, text) {
        Ok(file) => file,
        Err(e) => return check_error(&e),
    };
    let times = file.times();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "times not increasing");
    for c in file.columns() {
        assert_eq!(c.price_per_mwh.len(), times.len(), "column {}", c.name);
        assert!(c.price_per_mwh.iter().all(|p| p.is_finite()), "column {}", c.name);
        assert!((0.0..=1.0).contains(&c.probability), "column {}", c.name);
    }
    // Slots of 15 minutes from the start, as many as fit (at most a week of them).
    let span_min = (file.end() - file.start()).num_minutes();
    let slots = usize::try_from(span_min / 15).unwrap_or(0).min(7 * 96);
    match file.scenarios(file.start(), slots, 15) {
        Ok(scenarios) => {
            assert_eq!(scenarios.len(), file.columns().len());
            for s in &scenarios {
                let prices = s.price_per_mwh.values(slots);
                assert!(prices.iter().all(|p| p.is_finite()), "slots priced {prices:?}");
            }
        }
        Err(e) => panic!("{slots} slots within the file's span were refused: {e}"),
    }
}

/// Hourly grid files of a balancing authority (`GridSeries::from_bytes`, gzipped or plain:
/// the reader of `site headroom`), then, for a file accepted, its headroom at 0.5 %.
/// Checks: no panic; errors have a reason; an accepted file has rows an hour apart,
/// finite loads and carbon intensities for every hour, repairs counted within its hours;
/// its headroom is finite, non-negative and within the rate.
pub fn grid(data: &[u8]) {
    let series = match GridSeries::from_bytes(FILE, data.to_vec()) {
        Ok(series) => series,
        Err(e) => return check_error(&e),
    };
    let hours = series.times().len();
    assert!(
        series
            .times()
            .windows(2)
            .all(|w| (w[1] - w[0]).num_seconds() == 3600),
        "not hourly"
    );
    assert_eq!(series.load_mw().len(), hours);
    assert!(
        series.load_mw().iter().all(|l| l.is_finite()),
        "a load not finite"
    );
    if let Some(carbon) = series.carbon_kg_per_mwh() {
        assert_eq!(carbon.len(), hours);
        assert!(
            carbon.iter().all(|c| c.is_finite()),
            "a carbon intensity not finite"
        );
    }
    assert!(series.load_repaired_hours() <= hours && series.carbon_repaired_hours() <= hours);
    match series.peak_series().and_then(|p| p.headroom(0.005)) {
        Ok(c) => {
            assert!(c.added_mw.is_finite() && c.added_mw >= 0.0, "{c:?}");
            assert!(c.rate <= 0.005 + 1e-9, "{c:?}");
        }
        Err(e) => check_error(&e),
    }
}

/// Weather forecast files (`WeatherForecast::from_str`, the reader of `serve`'s
/// `--weather-forecast`). Checks: no panic; errors have a reason; an accepted forecast has
/// records one hour apart, and covers its own span, first to last row inclusive.
pub fn weather_forecast(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let forecast = match WeatherForecast::from_str(FILE, text) {
        Ok(f) => f,
        Err(e) => return check_error(&e),
    };
    let records = forecast.records();
    assert!(!records.is_empty(), "an accepted forecast without records");
    assert!(
        records
            .windows(2)
            .all(|w| (w[1].time - w[0].time).num_seconds() == 3600),
        "records not one hour apart"
    );
    // The span is inclusive: a forecast of one row covers that instant.
    assert!(
        forecast.covers(forecast.start()) && forecast.covers(forecast.end()),
        "does not cover its span"
    );
}

/// The service's settings file (`ServiceConfig::from_toml`, what `serve --config` reads).
/// Checks: no panic; errors have a reason.
pub fn service_config(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Err(e) = ServiceConfig::from_toml(text, FILE) {
        check_error(&e);
    }
}

/// A JSON list of queued jobs (`QueuedJob::read_list`, the service's job file), then each
/// accepted job placed in a day of 15-minute slots from its release. Checks: no panic;
/// errors have a reason; a job placed in the horizon has a window within it.
pub fn job_queue(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let jobs = match QueuedJob::read_list(text, FILE) {
        Ok(jobs) => jobs,
        Err(e) => return check_error(&e),
    };
    for job in &jobs {
        if let Some(placed) = job.in_horizon(job.release, 96, 15) {
            assert!(
                placed.release_slot <= placed.deadline_slot && placed.deadline_slot <= 96,
                "{placed:?}"
            );
        }
    }
}

/// The command-line load form (`LoadSpec::from_str`, `--load constant:U[:CAP]`, …).
/// Checks: no panic; a refusal says why.
pub fn load_spec(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Err(why) = text.parse::<LoadSpec>() {
        assert!(!why.trim().is_empty(), "a refusal without a reason");
    }
}
