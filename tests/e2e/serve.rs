//! `campustwin serve` as its users meet it: one command runs the live plant (embedded
//! broker, built-in sensors, store, estimator, forecast loop, API), and the API, the
//! event stream, the metrics and the document hold up to real clients (promtool,
//! openapi-spec-validator, schemathesis).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{TempDir, campustwin, free_port, repo_root, server_binary, stop_child};

/// The token the tests' services accept.
pub(crate) const TOKEN: &str = "e2e-serve-token";
/// How long a debug build may take to its first forecast on a loaded 2-core machine.
const READY_WITHIN: Duration = Duration::from_secs(180);

/// A running `campustwin serve` on free ports with its own data directory.
pub(crate) struct Serve {
    child: Option<Child>,
    pub(crate) base: String,
    dir: TempDir,
    args: Vec<String>,
    port: u16,
    broker_port: u16,
    http: reqwest::blocking::Client,
}

impl Serve {
    /// Starts the service on its defaults plus `extra` flags.
    pub(crate) fn start(label: &str, extra: &[&str]) -> Serve {
        let dir = TempDir::new(label);
        let mut s = Serve {
            child: None,
            base: String::new(),
            args: extra.iter().map(|a| a.to_string()).collect(),
            port: free_port(),
            broker_port: free_port(),
            dir,
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("an HTTP client"),
        };
        s.base = format!("http://127.0.0.1:{}", s.port);
        s.restart();
        s
    }

    /// Starts it (again) on the same ports and data directory.
    fn restart(&mut self) {
        assert!(self.child.is_none(), "serve is running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("the service's log file");
        let child = campustwin()
            .arg("serve")
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .args(["--embedded-broker", &format!("127.0.0.1:{}", self.broker_port)])
            .args(&self.args)
            .env("CAMPUSTWIN_API_TOKEN", TOKEN)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("campustwin serve starts");
        self.child = Some(child);
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("serve.log")
    }

    /// The service's log so far, for failure messages.
    pub(crate) fn log(&self) -> String {
        let text = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// Waits for `/readyz` to answer 200 (the intake connected and a forecast issued);
    /// returns how long it took.
    pub(crate) fn wait_ready(&mut self) -> Duration {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("serve exited with {status} before it was ready:\n{}", self.log());
            }
            if let Ok(r) = self.http.get(format!("{}/readyz", self.base)).send() {
                if r.status() == 200 {
                    return started.elapsed();
                }
            }
            assert!(
                started.elapsed() < READY_WITHIN,
                "serve not ready within {READY_WITHIN:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `GET path`: its status and JSON body.
    pub(crate) fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .expect("GET answers");
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    /// `GET path`, which must answer 200; its JSON body.
    pub(crate) fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}\n{}", self.log());
        body
    }

    /// `GET path` as text.
    pub(crate) fn text(&self, path: &str) -> String {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .expect("GET answers");
        assert_eq!(r.status(), 200, "GET {path}");
        r.text().expect("a text body")
    }

    /// `POST path` with a JSON `body` and `token`: status and JSON body.
    fn post(&self, path: &str, body: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        let r = request.send().expect("POST answers");
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    /// The event stream, as (event name, data) pairs on a channel, read on a thread.
    fn events(&self) -> mpsc::Receiver<(String, Value)> {
        let client = reqwest::blocking::Client::builder()
            .timeout(None)
            .build()
            .expect("a client");
        // The service may still be binding its listener: retry until it answers.
        let started = Instant::now();
        let response = loop {
            match client
                .get(format!("{}/api/v1/events", self.base))
                .header("Accept", "text/event-stream")
                .send()
            {
                Ok(r) => break r,
                Err(e) if e.is_connect() && started.elapsed() < READY_WITHIN => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("the event stream does not open: {e}\n{}", self.log()),
            }
        };
        assert_eq!(response.status(), 200);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let (mut name, mut data) = (String::new(), String::new());
            for line in BufReader::new(response).lines() {
                let Ok(line) = line else { break };
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                } else if line.is_empty() && !name.is_empty() {
                    let value = serde_json::from_str(&data).unwrap_or(Value::String(data.clone()));
                    if tx.send((std::mem::take(&mut name), value)).is_err() {
                        break;
                    }
                    data.clear();
                }
            }
        });
        rx
    }

    /// Sends SIGTERM and waits; the exit status.
    pub(crate) fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("serve is running");
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > deadline {
                stop_child(&mut child, true);
                panic!("serve did not stop within 60 s of SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_child(&mut child, true);
        }
    }
}

/// Waits up to `within` for an event that `wanted` accepts; panics naming `what`.
fn wait_event(
    events: &mpsc::Receiver<(String, Value)>,
    within: Duration,
    what: &str,
    mut wanted: impl FnMut(&str, &Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok((name, data)) if wanted(&name, &data) => return data,
            Ok(_) => {}
            Err(_) => panic!("no {what} event within {within:?}"),
        }
    }
}

/// A Python tool of the venv that `.ci/run` makes at `target/python`.
fn python_tool(name: &str) -> PathBuf {
    let p = repo_root().join("target/python/bin").join(name);
    assert!(
        p.is_file(),
        "{} is missing: .ci/run installs the serve tests' Python tools there",
        p.display()
    );
    p
}

fn number(v: &Value, what: &str) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {v}"))
}

/// The forecast's balances: facility = IT + cooling + losses + auxiliaries, PUE = facility / IT, import
/// within its limit, and per hall IT within the plan's power for it.
fn check_forecast(forecast: &Value, plan: &Value) {
    let slots = forecast["slots"].as_array().expect("slots");
    assert_eq!(slots.len(), 96, "a 24 h horizon of 15 min slots");
    for (t, s) in slots.iter().enumerate() {
        let it = number(&s["it_kw"], "it_kw");
        let facility = number(&s["facility_kw"], "facility_kw");
        let parts = it
            + number(&s["cooling_kw"], "cooling_kw")
            + number(&s["loss_kw"], "loss_kw")
            + number(&s["auxiliary_kw"], "auxiliary_kw");
        assert!(
            (facility - parts).abs() <= 1e-6 * facility,
            "slot {t}: facility {facility} kW ≠ IT + cooling + losses + auxiliaries {parts} kW"
        );
        assert!(
            it > 0.0 && (number(&s["pue"], "pue") - facility / it).abs() < 1e-9,
            "slot {t}: PUE"
        );
        let (import, limit) = (
            number(&s["import_kw"], "import_kw"),
            number(&s["import_limit_kw"], "limit"),
        );
        assert!(
            import <= limit * (1.0 + 1e-6),
            "slot {t}: import {import} kW over the limit {limit} kW"
        );
    }
    for hall in forecast["halls"].as_array().expect("halls") {
        let id = hall["id"].as_str().expect("hall id");
        let planned = plan["halls"]
            .as_array()
            .and_then(|hs| hs.iter().find(|h| h["hall"] == id || h["id"] == id))
            .unwrap_or_else(|| panic!("the plan has no hall {id}: {plan}"));
        let planned_it: Vec<f64> = planned["it_kw"]
            .as_array()
            .expect("plan it_kw")
            .iter()
            .map(|v| number(v, "it"))
            .collect();
        for (t, v) in hall["it_kw"].as_array().expect("it_kw").iter().enumerate() {
            let simulated = number(v, "hall it_kw");
            // The twin runs the plan's GPUs at the plan's caps: its IT power stays within
            // the plan's (the LP's throughput curve is a concave under-estimate of the
            // twin's, and idle GPUs draw less than their planned share).
            assert!(
                simulated <= planned_it[t] * 1.05 + 50.0,
                "{id} slot {t}: simulated IT {simulated} kW over the plan's {} kW",
                planned_it[t]
            );
        }
    }
}

#[test]
fn serve_on_its_defaults_runs_the_live_plant_and_serves_its_forecast() {
    let mut serve = Serve::start(
        "serve",
        &["--forecast-every", "1h", "--simulator-interval-s", "1"],
    );
    let events = serve.events();
    let took = serve.wait_ready();
    eprintln!("ready after {took:?}");

    // The campus, its state and its points.
    let campus = serve.json("/api/v1/campus");
    assert_eq!(campus["halls"].as_array().map(Vec::len), Some(4), "{campus}");
    wait_event(&events, Duration::from_secs(60), "state", |name, _| {
        name == "state"
    });
    wait_event(&events, Duration::from_secs(60), "readings", |name, d| {
        name == "readings" && d["readings"].as_u64() > Some(0)
    });
    let state = serve.json("/api/v1/state");
    assert!(
        state["latest"].as_object().is_some_and(|m| !m.is_empty()),
        "no latest values: {state}"
    );
    let points = serve.json("/api/v1/points");
    let point = points["points"][0]["id"].as_str().expect("a point").to_string();
    let history = serve.json(&format!(
        "/api/v1/points/{}/history?limit=10",
        point.replace('/', "%2F")
    ));
    assert!(
        history["rows"].as_array().is_some_and(|r| !r.is_empty()),
        "{history}"
    );

    // The forecast and its plan.
    let forecast = serve.json("/api/v1/forecast");
    let plan = serve.json("/api/v1/plan");
    assert_eq!(plan["status"], "optimal", "{}", plan["status"]);
    check_forecast(&forecast, &plan);
    let first_id = number(&forecast["id"], "id") as u64;
    assert!(serve.json("/api/v1/forecast/accuracy")["forecasts"].is_number());

    // A forecast on request: refused without the token (and nothing happens), made with it.
    assert_eq!(serve.post("/api/v1/forecast/run", "", None).0, 401);
    assert_eq!(serve.post("/api/v1/forecast/run", "", Some("wrong")).0, 401);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        number(&serve.json("/api/v1/forecast")["id"], "id") as u64,
        first_id,
        "a refused request made a forecast"
    );
    assert_eq!(serve.post("/api/v1/forecast/run", "", Some(TOKEN)).0, 202);
    let event = wait_event(&events, Duration::from_secs(120), "forecast", |name, d| {
        name == "forecast" && d["id"].as_u64() > Some(first_id)
    });
    let second_id = event["id"].as_u64().expect("id");
    assert_eq!(second_id, first_id + 1);

    // A what-if: a pump trip of one CDU, run from the forecast's start.
    let (status, started) = serve.post(
        "/api/v1/whatif",
        r#"{"hours": 2, "events": [{"kind": "cdu_pump_trip", "at_s": 600, "hall": "hall-b", "cdu": 2, "residual_flow_frac": 0.0}]}"#,
        Some(TOKEN),
    );
    assert_eq!(status, 202, "{started}");
    let id = started["id"].as_str().expect("a run id").to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    let run = loop {
        let run = serve.json(&format!("/api/v1/whatif/{id}"));
        if run["status"] != "running" {
            break run;
        }
        assert!(Instant::now() < deadline, "the what-if did not finish");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(run["status"], "done", "{}", run["error"]);
    assert_eq!(
        run["forecast"]["slots"].as_array().map(Vec::len),
        Some(8),
        "2 h of 15 min slots"
    );
    let hottest = |f: &Value| -> f64 {
        f["halls"]
            .as_array()
            .expect("halls")
            .iter()
            .filter(|h| h["id"] == "hall-b")
            .flat_map(|h| {
                h["hottest_gpu_c"]
                    .as_array()
                    .expect("hottest")
                    .iter()
                    .take(8)
                    .map(|v| number(v, "t"))
            })
            .fold(f64::NEG_INFINITY, f64::max)
    };
    assert!(
        hottest(&run["forecast"]) > hottest(&run["baseline"]) + 1.0,
        "a CDU without flow leaves hall-b as cool as before: {} °C against {} °C",
        hottest(&run["forecast"]),
        hottest(&run["baseline"])
    );
    let (status, body) = serve.post("/api/v1/whatif", r#"{"events": [{"kind": "cdu_pump_trip", "at_s": 0, "hall": "hall-z", "cdu": 1, "residual_flow_frac": 0.0}]}"#, Some(TOKEN));
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("events")),
        "{body}"
    );

    // What real clients make of the metrics and the document.
    let metrics = serve.text("/metrics");
    let (checked, report) = Command::new(server_binary("promtool", "prometheus"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .output_with_stdin(metrics.as_bytes());
    assert!(checked.success(), "promtool check metrics: {report}");
    assert!(metrics.contains("campustwin_intake_readings_total"), "{metrics}");
    let doc = serve.dir.path().join("openapi.json");
    std::fs::write(&doc, serve.text("/openapi.json")).expect("the document saved");
    let validated = Command::new(python_tool("openapi-spec-validator"))
        .arg(&doc)
        .output()
        .expect("the validator runs");
    assert!(
        validated.status.success(),
        "{}",
        String::from_utf8_lossy(&validated.stdout)
    );

    // Stopped by SIGTERM it exits cleanly, and started again it goes on numbering.
    assert!(
        serve.stop().success(),
        "serve did not exit cleanly:\n{}",
        serve.log()
    );
    serve.restart();
    serve.wait_ready();
    let again = number(&serve.json("/api/v1/forecast")["id"], "id") as u64;
    assert!(
        again > second_id,
        "forecast {again} after a restart, not after {second_id}"
    );
}

#[test]
fn the_api_holds_to_its_document_under_schemathesis() {
    let mut serve = Serve::start(
        "schemathesis",
        &["--forecast-every", "1h", "--simulator-interval-s", "2"],
    );
    serve.wait_ready();
    let out = Command::new(python_tool("st"))
        .args([
            "--config-file",
            &repo_root()
                .join("tests/e2e/schemathesis.toml")
                .display()
                .to_string(),
        ])
        .args(["run", &format!("{}/openapi.json", serve.base)])
        .args(["-H", &format!("Authorization: Bearer {TOKEN}")])
        .args([
            "--exclude-path",
            "/api/v1/events",
            "--max-examples",
            "30",
            "--workers",
            "1",
        ])
        .env("NO_COLOR", "1")
        .current_dir(serve.dir.path()) // its example database goes there, not into the tree
        .output()
        .expect("schemathesis runs");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        serve.log()
    );
    // It did reach the service.
    let metrics = serve.text("/metrics");
    assert!(metrics.contains("campustwin_http_requests_total"), "{metrics}");
}

#[test]
fn a_pump_failing_in_the_plant_is_an_alarm_and_the_next_forecast_runs_the_loop_degraded() {
    let mut serve = Serve::start(
        "serve-fault",
        &[
            "--forecast-every",
            "1h",
            "--simulator-interval-s",
            "1",
            "--fault",
            "pump:hall-a/cdu-01:0.3@30",
        ],
    );
    let events = serve.events();
    serve.wait_ready();
    let before = serve.json("/api/v1/forecast");
    let alarm = wait_event(&events, Duration::from_secs(300), "pump alarm", |name, d| {
        name == "alarm" && d["kind"] == "pump_underperforming"
    });
    assert_eq!(alarm["subject"], "hall-a/cdu-01", "{alarm}");
    // `/alarms` serves the state's alarms, published once a second.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let listed = serve.json("/api/v1/alarms");
        if listed["alarms"]
            .as_array()
            .is_some_and(|a| a.iter().any(|a| a["subject"] == "hall-a/cdu-01"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the pump alarm is not in /alarms: {listed}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }

    assert_eq!(serve.post("/api/v1/forecast/run", "", Some(TOKEN)).0, 202);
    let before_id = before["id"].as_u64().expect("id");
    wait_event(&events, Duration::from_secs(120), "forecast", |name, d| {
        name == "forecast" && d["id"].as_u64() > Some(before_id)
    });
    let after = serve.json("/api/v1/forecast");
    let degraded = after["inputs"]["degraded_loops"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let loop_a1 = degraded
        .iter()
        .find(|l| l["hall"] == "hall-a" && l["cdu"] == 1)
        .unwrap_or_else(|| panic!("the forecast does not run hall-a/cdu-01 degraded: {degraded:?}"));
    let flow = number(&loop_a1["flow_frac"], "flow_frac");
    assert!(
        (0.15..=0.5).contains(&flow),
        "hall-a/cdu-01 forecast at {flow} of design flow; the pump gives 0.3"
    );
    assert!(
        degraded.iter().all(|l| l["hall"] == "hall-a" && l["cdu"] == 1),
        "healthy loops degraded: {degraded:?}"
    );
    let tcs = |f: &Value| -> f64 {
        f["halls"]
            .as_array()
            .expect("halls")
            .iter()
            .filter(|h| h["id"] == "hall-a")
            .flat_map(|h| {
                h["hottest_gpu_c"]
                    .as_array()
                    .expect("hottest")
                    .iter()
                    .map(|v| number(v, "t"))
            })
            .fold(f64::NEG_INFINITY, f64::max)
    };
    assert!(
        tcs(&after) > tcs(&before) + 0.5,
        "hall-a's hottest GPU {} °C, before the fault {} °C",
        tcs(&after),
        tcs(&before)
    );
    assert!(serve.stop().success());
}

#[test]
fn serve_refuses_bad_settings_naming_them() {
    let dir = TempDir::new("serve-bad");
    let config = dir.path().join("service.toml");
    std::fs::write(&config, "[forecast]\nhorizon_h = -3\n").expect("config");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec!["--config".into(), config.display().to_string()], "horizon_h"),
        (vec!["--forecast-every".into(), "0".into()], "forecast-every"),
        (vec!["--slot-minutes".into(), "7".into()], "slot_minutes"),
        (
            vec![
                "--price-file".into(),
                dir.path().join("missing.csv").display().to_string(),
            ],
            "missing.csv",
        ),
        (vec!["--fault".into(), "pump:hall-z/cdu-01:0.5".into()], "hall-z"),
    ];
    for (args, named) in cases {
        let out = campustwin()
            .arg("serve")
            .args(["--data-dir", &dir.path().join("data").display().to_string()])
            .args(["--listen", &format!("127.0.0.1:{}", free_port())])
            .args(["--embedded-broker", &format!("127.0.0.1:{}", free_port())])
            .args(&args)
            .output()
            .expect("serve runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(named),
            "{args:?}: the message does not name {named}: {stderr}"
        );
    }
}

/// `output()` with bytes on stdin.
trait OutputWithStdin {
    fn output_with_stdin(&mut self, input: &[u8]) -> (std::process::ExitStatus, String);
}

impl OutputWithStdin for Command {
    fn output_with_stdin(&mut self, input: &[u8]) -> (std::process::ExitStatus, String) {
        use std::io::Write;
        let mut child = self
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the tool starts");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("input written");
        let out = child.wait_with_output().expect("the tool ends");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status, text)
    }
}
