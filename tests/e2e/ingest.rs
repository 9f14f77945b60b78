//! `campustwin ingest` against real servers: Mosquitto, VictoriaMetrics (InfluxDB v2
//! write API), and the embedded broker. Fault tests check that every reading published at
//! QoS 1 ends up in the store exactly once.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use ingest::mqtt::{BrokerOptions, Framing, Publisher};
use models::telemetry::{PointId, Reading};

use crate::support::{self, Mosquitto, TempDir, VictoriaMetrics};

/// `n` readings of 50 rack power points, one millisecond apart, ending a few seconds ago.
pub(crate) fn readings(n: usize, offset: usize) -> Vec<Reading> {
    let base_ms = Utc::now().timestamp_millis() - 60_000;
    (offset..offset + n)
        .map(|i| Reading {
            point: PointId::parse(&format!("hall-a/rack-{:04}/power_kw", i % 50)).expect("point id"),
            ts: Utc.timestamp_millis_opt(base_ms + i as i64).unwrap(),
            value: 20.0 + (i % 100) as f64 * 0.5,
        })
        .collect()
}

pub(crate) fn keys(readings: &[Reading]) -> HashSet<(String, i64)> {
    readings
        .iter()
        .map(|r| (r.point.as_str().to_owned(), r.ts.timestamp_millis()))
        .collect()
}

/// Every (point, ts) in the store, and the number of readings stored (decoded from its
/// chunks, read-only beside the running ingest).
pub(crate) fn stored(path: &Path) -> (HashSet<(String, i64)>, usize) {
    let Ok(conn) = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return (HashSet::new(), 0);
    };
    let Ok(mut q) = conn.prepare(
        "SELECT p.name, c.first_ms, c.count, c.data FROM chunks c JOIN points p ON p.id = c.point_id",
    ) else {
        return (HashSet::new(), 0);
    };
    let chunks: Vec<(String, i64, i64, Vec<u8>)> = q
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .map(|rows| rows.filter_map(Result::ok).collect())
        .unwrap_or_default();
    let mut keys = HashSet::new();
    let mut n = 0;
    for (point, first_ms, count, data) in chunks {
        let readings =
            ingest::store::chunk::decode(first_ms, count as usize, &data).expect("a stored chunk decodes");
        n += readings.len();
        keys.extend(readings.into_iter().map(|(ts, _)| (point.clone(), ts)));
    }
    (keys, n)
}

/// A `campustwin ingest` child process logging to a file.
pub(crate) struct Ingest {
    child: Option<Child>,
    log: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Ingest {
    pub(crate) fn start(dir: &Path, name: &str, args: &[&str]) -> Self {
        Self::start_with_env(dir, name, args, &[])
    }

    /// Starts it with variables `env` added to its environment, and waits until it has
    /// subscribed.
    pub(crate) fn start_with_env(dir: &Path, name: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let i = Self::launch(dir, name, args, env);
        i.wait_for_log("Subscribed.", 1);
        i
    }

    /// Starts it without waiting for anything.
    pub(crate) fn launch(dir: &Path, name: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut i = Self {
            child: None,
            log: dir.join(format!("{name}.log")),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        };
        i.spawn();
        i
    }

    pub(crate) fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let child = support::campustwin()
            .arg("ingest")
            .args(&self.args)
            .env("RUST_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("campustwin ingest starts");
        self.child = Some(child);
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub(crate) fn wait_for_log(&self, needle: &str, times: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.log_text().matches(needle).count() < times {
            assert!(
                Instant::now() < deadline,
                "no `{needle}` in the ingest log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The running process, taken out of this handle (to stop and wait for it by hand).
    pub(crate) fn take_child(&mut self) -> Child {
        self.child.take().expect("running")
    }

    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            support::stop_child(&mut child, true);
        }
    }

    /// SIGTERM; returns the JSON summary it printed last.
    pub(crate) fn stop(&mut self) -> serde_json::Value {
        let mut lines = self.stop_with_alarms();
        lines.pop().expect("a JSON summary on stdout")
    }

    /// SIGTERM; returns every JSON line it printed: the alarms, then the summary.
    pub(crate) fn stop_with_alarms(&mut self) -> Vec<serde_json::Value> {
        let child = self.child.take().expect("running");
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let out = child.wait_with_output().expect("ingest exits");
        assert!(
            out.status.success(),
            "ingest failed: {:?}\n{}",
            out.status,
            self.log_text()
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON lines on stdout"))
            .collect()
    }
}

impl Drop for Ingest {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until the store holds `n` rows (at most 60 s), then checks it holds exactly
/// `want`, each once.
pub(crate) fn assert_exactly_once(store: &Path, want: &HashSet<(String, i64)>, ingest: &Ingest) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (got, rows) = stored(store);
        if rows >= want.len() || Instant::now() > deadline {
            assert_eq!(rows, got.len(), "a (point, ts) is stored twice");
            let missing = want.difference(&got).count();
            let extra = got.difference(want).count();
            assert!(
                missing == 0 && extra == 0,
                "store has {rows} rows: {missing} readings missing, {extra} unexpected\n{}",
                ingest.log_text()
            );
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Publishes `readings` in batches of `batch` at `rate` readings/s, calling `midway`
/// once after the message numbered `at`; returns the readings the broker acknowledged.
pub(crate) fn publish(
    url: &str,
    client_id: &str,
    readings: &[Reading],
    batch: usize,
    rate: f64,
    at: usize,
    midway: impl FnOnce(),
) -> u64 {
    let broker = BrokerOptions::from_url(url, client_id).expect("url");
    publish_to(&broker, readings, batch, rate, at, midway)
}

/// [`publish`] to a broker reached with `broker`.
pub(crate) fn publish_to(
    broker: &BrokerOptions,
    readings: &[Reading],
    batch: usize,
    rate: f64,
    at: usize,
    midway: impl FnOnce(),
) -> u64 {
    runtime().block_on(async {
        let mut p = Publisher::connect(
            broker,
            "test",
            Framing::Batch(batch),
            Some(rate),
            Duration::from_secs(10),
        )
        .await
        .expect("publisher connects");
        let mut midway = Some(midway);
        for (k, chunk) in readings.chunks(batch).enumerate() {
            p.send(chunk).await.expect("publish");
            if k == at {
                if let Some(f) = midway.take() {
                    tokio::task::block_in_place(f);
                }
            }
        }
        let report = p.finish(Duration::from_secs(60)).await.expect("publisher ends");
        report.published
    })
}

/// A temp dir, a Mosquitto, and `campustwin ingest` subscribed to it with its store in
/// the dir (`extra` flags added).
fn with_broker(label: &str, extra: &[&str]) -> (TempDir, Mosquitto, PathBuf, Ingest) {
    let dir = TempDir::new(label);
    let broker = Mosquitto::start();
    let store = dir.path().join("store.db");
    let url = broker.url();
    let client_id = format!("ingest-{label}");
    let mut args = vec![
        "--broker",
        &url,
        "--store",
        store.to_str().unwrap(),
        "--client-id",
        &client_id,
    ];
    args.extend_from_slice(extra);
    let ingest = Ingest::start(dir.path(), "ingest", &args);
    (dir, broker, store, ingest)
}

#[test]
fn mosquitto_stopped_mid_stream_and_restarted_loses_nothing() {
    let (_dir, mut broker, store, ingest) = with_broker("broker-restart", &[]);
    let url = broker.url();
    let all = readings(4000, 0);
    let published = publish(&url, "pub-restart", &all, 10, 2000.0, 150, || {
        broker.stop();
        std::thread::sleep(Duration::from_millis(1500));
        broker.restart();
    });
    assert_eq!(published, 4000, "the broker acknowledged every reading");
    assert_exactly_once(&store, &keys(&all), &ingest);
    assert!(
        ingest.log_text().contains("reconnecting"),
        "the broker outage was not noticed"
    );
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn a_broker_that_wants_tls_and_a_password_gets_them() {
    let dir = TempDir::new("tls");
    let broker = Mosquitto::start_secure("gateway", "s3cret-pass");
    let (url, ca) = (broker.url(), broker.ca_file());
    let store = dir.path().join("store.db");
    let secure = |store: &Path, client: &str| -> Vec<String> {
        let (store, ca) = (store.display().to_string(), ca.display().to_string());
        [
            "--broker",
            &url,
            "--ca-file",
            &ca,
            "--username",
            "gateway",
            "--password-env",
            "CT_TEST_PW",
        ]
        .into_iter()
        .chain(["--store", &store, "--client-id", client])
        .map(str::to_owned)
        .collect()
    };

    // A wrong password is refused by the broker: said in the log, retried, nothing stored.
    let wrong_store = dir.path().join("wrong.db");
    let wrong_args = secure(&wrong_store, "ingest-wrong");
    let mut wrong = Ingest::launch(
        dir.path(),
        "wrong",
        &strs(&wrong_args),
        &[("CT_TEST_PW", "guess")],
    );
    wrong.wait_for_log("NotAuthorized", 2);
    assert!(!wrong.log_text().contains("Subscribed."), "{}", wrong.log_text());
    wrong.kill();

    let args = secure(&store, "ingest-tls");
    let ingest = Ingest::start_with_env(
        dir.path(),
        "ingest",
        &strs(&args),
        &[("CT_TEST_PW", "s3cret-pass")],
    );
    let mut publisher = BrokerOptions::from_url(
        &url.replace("mqtts://", "mqtts://gateway:s3cret-pass@"),
        "pub-tls",
    )
    .expect("url");
    publisher.ca_file = Some(ca.clone());
    let all = readings(500, 0);
    assert_eq!(publish_to(&publisher, &all, 10, 5000.0, usize::MAX, || {}), 500);
    assert_exactly_once(&store, &keys(&all), &ingest);
}

#[test]
fn ingest_killed_mid_stream_and_restarted_loses_nothing() {
    let (_dir, broker, store, mut ingest) = with_broker("sigkill", &[]);
    let url = broker.url();
    let all = readings(4000, 0);
    let ingest_ref = &mut ingest;
    let mut at_kill = 0;
    let at_kill_ref = &mut at_kill;
    let store_ref = &store;
    let published = publish(&url, "pub-sigkill", &all, 10, 2000.0, 150, move || {
        ingest_ref.kill();
        *at_kill_ref = stored(store_ref).1;
        std::thread::sleep(Duration::from_millis(1000));
        ingest_ref.spawn();
    });
    assert_eq!(published, 4000);
    assert!(
        at_kill > 0 && at_kill < 4000,
        "killed with {at_kill} readings stored: not mid-stream"
    );
    assert_exactly_once(&store, &keys(&all), &ingest);
    let summary = ingest.stop();
    assert!(summary["readings"].as_u64().unwrap() > 0, "{summary}");
}

#[test]
fn influxdb_outage_is_spooled_and_drained() {
    let dir = TempDir::new("ingest-influx");
    let broker = Mosquitto::start();
    let mut vm = VictoriaMetrics::start();
    let store = dir.path().join("store.db");
    let (url, vm_url) = (broker.url(), vm.url());
    let ingest = Ingest::start(
        dir.path(),
        "ingest",
        &[
            "--broker",
            &url,
            "--store",
            store.to_str().unwrap(),
            "--client-id",
            "ingest-influx",
            "--influx-url",
            &vm_url,
            "--influx-org",
            "campus",
            "--influx-bucket",
            "readings",
        ],
    );
    let stats = || -> serde_json::Value {
        let out = support::run(&["store", "stats", store.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("stats JSON")
    };
    let wait_pending = |pred: &dyn Fn(u64) -> bool, what: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let pending = stats()["sink_pending"]["influxdb"].as_u64().unwrap_or(u64::MAX);
            if pred(pending) {
                return pending;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: pending {pending}\n{}",
                ingest.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let first = readings(1500, 0);
    assert_eq!(
        publish(&url, "pub-influx", &first, 10, 5000.0, usize::MAX, || {}),
        1500
    );
    assert_exactly_once(&store, &keys(&first), &ingest);
    wait_pending(&|p| p == 0, "first part forwarded");

    vm.stop();
    let second = readings(1500, 1500);
    assert_eq!(
        publish(&url, "pub-influx", &second, 10, 5000.0, usize::MAX, || {}),
        1500
    );
    let all: Vec<Reading> = first.iter().chain(&second).cloned().collect();
    assert_exactly_once(&store, &keys(&all), &ingest);
    let pending = wait_pending(&|p| p > 0, "readings spooled while the database is down");
    assert!(pending <= 1500, "{pending}");
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        stats()["sink_pending"]["influxdb"].as_u64().unwrap() > 0,
        "the spool drained with the database down"
    );

    vm.restart();
    wait_pending(&|p| p == 0, "spool drained after the database returned");
    vm.get("/internal/force_flush");
    let export = vm.get("/api/v1/export?match%5B%5D=campustwin_value&start=1000000000");
    let mut in_db = HashSet::new();
    for line in export.lines().filter(|l| !l.trim().is_empty()) {
        let series: serde_json::Value = serde_json::from_str(line).expect("export line");
        let point = series["metric"]["point"]
            .as_str()
            .expect("point label")
            .to_owned();
        for ts in series["timestamps"].as_array().expect("timestamps") {
            in_db.insert((point.clone(), ts.as_i64().expect("ts")));
        }
    }
    let want = keys(&all);
    assert_eq!(in_db.len(), want.len(), "readings in VictoriaMetrics");
    assert!(
        in_db == want,
        "VictoriaMetrics holds other readings than published"
    );
    assert!(
        ingest.log_text().contains("InfluxDB is back"),
        "{}",
        ingest.log_text()
    );
}

#[test]
fn a_flood_of_bad_payloads_costs_no_good_reading() {
    let (_dir, broker, store, mut ingest) = with_broker("flood", &[]);
    let url = broker.url();
    const ROUNDS: usize = 20;
    const LETTERS_PER_ROUND: usize = 9;
    let deadletters =
        std::process::Command::new(support::server_binary("mosquitto_sub", "mosquitto-clients"))
            .args([
                "-p",
                &broker.port.to_string(),
                "-t",
                "campustwin/+/deadletter",
                "-q",
                "1",
            ])
            .args(["-C", &(ROUNDS * LETTERS_PER_ROUND).to_string(), "-W", "60"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("mosquitto_sub starts");
    std::thread::sleep(Duration::from_millis(300));

    let good = readings(ROUNDS * 100, 0);
    let now_ms = Utc::now().timestamp_millis();
    let mut extra_good = Vec::new();
    runtime().block_on(async {
        let broker = BrokerOptions::from_url(&url, "pub-flood").unwrap();
        let mut p = Publisher::connect(
            &broker,
            "flood",
            Framing::Batch(10),
            None,
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        for (round, chunk) in good.chunks(100).enumerate() {
            p.send(chunk).await.unwrap();
            let ts = now_ms - 1000 - round as i64;
            let temp = "campustwin/flood/plant/fw_supply_temp_c";
            p.send_raw("campustwin/flood/batch", b"{not json".to_vec())
                .await
                .unwrap();
            p.send_raw("campustwin/flood/grid/import_kw", vec![b' '; 1_100_000])
                .await
                .unwrap();
            p.send_raw(temp, format!(r#"{{"ts":{ts},"value":"NaN"}}"#).into_bytes())
                .await
                .unwrap();
            p.send_raw(
                temp,
                format!(r#"{{"ts":{},"value":30}}"#, now_ms + 3_600_000).into_bytes(),
            )
            .await
            .unwrap();
            p.send_raw(
                temp,
                format!(r#"{{"ts":{},"value":30}}"#, now_ms - 30 * 86_400_000).into_bytes(),
            )
            .await
            .unwrap();
            p.send_raw(
                temp,
                format!(r#"{{"ts":{ts},"value":30,"unit":"psi"}}"#).into_bytes(),
            )
            .await
            .unwrap();
            let mixed = format!(
                r#"[{{"point":"plant/fw_return_temp_c","ts":{ts},"value":35}},
                    {{"point":"plant/mystery","ts":{ts},"value":1}},
                    {{"point":"grid/battery/soc_frac","ts":{ts},"value":5}},
                    {{"point":"grid/battery/soc_frac","ts":"later","value":0.5}}]"#
            );
            p.send_raw("campustwin/flood/batch", mixed.into_bytes())
                .await
                .unwrap();
            extra_good.push(("plant/fw_return_temp_c".to_owned(), ts));
        }
        let report = p.finish(Duration::from_secs(60)).await.unwrap();
        assert_eq!(report.published, (ROUNDS * 100) as u64);
        assert_eq!(report.messages, (ROUNDS * 17) as u64);
    });
    let mut want = keys(&good);
    want.extend(extra_good);
    assert_exactly_once(&store, &want, &ingest);

    let out = support::run(&["store", "stats", store.to_str().unwrap()]);
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stats JSON");
    let r = &stats["rejected"];
    let n = ROUNDS as u64;
    for (reason, count) in [
        ("malformed", 2 * n),
        ("oversized", n),
        ("not_finite", n),
        ("future_timestamp", n),
        ("stale_timestamp", n),
        ("unit_mismatch", n),
        ("unknown_point", n),
        ("out_of_range", n),
    ] {
        assert_eq!(r[reason].as_u64(), Some(count), "{reason}: {stats}");
    }
    assert_eq!(stats["readings"].as_u64(), Some(want.len() as u64));

    let letters = deadletters.wait_with_output().expect("mosquitto_sub ends");
    let letters = String::from_utf8_lossy(&letters.stdout);
    let letters: Vec<serde_json::Value> = letters
        .lines()
        .map(|l| serde_json::from_str(l).expect("dead letter JSON"))
        .collect();
    let mut by_reason = std::collections::BTreeMap::new();
    for l in &letters {
        *by_reason
            .entry(l["reason"].as_str().unwrap_or("").to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(letters.len(), ROUNDS * LETTERS_PER_ROUND, "{by_reason:?}");
    assert!(
        letters
            .iter()
            .any(|l| l["reason"] == "oversized" && l["payload"].as_str().unwrap().len() <= 512)
    );

    let history = support::run(&[
        "history",
        "--store",
        store.to_str().unwrap(),
        "--point",
        "plant/fw_return_temp_c",
        "--format",
        "json",
    ]);
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&history.stdout).expect("history JSON");
    assert_eq!(rows.len(), ROUNDS);
    assert!(rows.iter().all(|r| r["value"] == 35.0));
    let summary = ingest.stop();
    assert_eq!(summary["rejected"].as_u64(), Some(9 * n), "{summary}");
}

#[test]
fn a_shared_subscription_splits_the_stream_between_mqtt_3_and_5_processes() {
    let dir = TempDir::new("ingest-shared");
    let broker = Mosquitto::start();
    let url = broker.url();
    let (store_a, store_b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    let a = Ingest::start(
        dir.path(),
        "a",
        &[
            "--broker",
            &url,
            "--store",
            store_a.to_str().unwrap(),
            "--client-id",
            "ingest-a",
            "--share",
            "campus",
        ],
    );
    let b = Ingest::start(
        dir.path(),
        "b",
        &[
            "--broker",
            &url,
            "--store",
            store_b.to_str().unwrap(),
            "--client-id",
            "ingest-b",
            "--share",
            "campus",
            "--mqtt-version",
            "5",
        ],
    );
    let all = readings(2000, 0);
    assert_eq!(
        publish(&url, "pub-shared", &all, 10, 4000.0, usize::MAX, || {}),
        2000
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let (got_a, got_b) = loop {
        let ((a_keys, _), (b_keys, _)) = (stored(&store_a), stored(&store_b));
        if a_keys.len() + b_keys.len() >= all.len() || Instant::now() > deadline {
            break (a_keys, b_keys);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        !got_a.is_empty() && !got_b.is_empty(),
        "one process got nothing: {} / {}\n{}\n{}",
        got_a.len(),
        got_b.len(),
        a.log_text(),
        b.log_text()
    );
    assert!(got_a.is_disjoint(&got_b), "a reading went to both processes");
    let union: HashSet<_> = got_a.union(&got_b).cloned().collect();
    assert!(
        union == keys(&all),
        "{} of {} readings stored",
        union.len(),
        all.len()
    );
}

#[test]
fn without_a_broker_ingest_starts_an_embedded_one() {
    let dir = TempDir::new("ingest-embedded");
    let port = support::free_port();
    let store = dir.path().join("store.db");
    let listen = format!("127.0.0.1:{port}");
    let mut ingest = Ingest::start(
        dir.path(),
        "ingest",
        &["--listen", &listen, "--store", store.to_str().unwrap()],
    );
    let all = readings(500, 0);
    let url = format!("mqtt://{listen}");
    assert_eq!(
        publish(&url, "pub-embedded", &all, 25, 5000.0, usize::MAX, || {}),
        500
    );
    assert_exactly_once(&store, &keys(&all), &ingest);
    // The publisher has disconnected: a normal disconnect is no error for the operator.
    let log = ingest.log_text();
    assert!(log.contains("rumqttd"), "the broker logs nothing: {log}");
    assert!(!log.contains("router-drop") && !log.contains(" ERROR "), "{log}");
    let summary = ingest.stop();
    assert_eq!(summary["readings"].as_u64(), Some(500), "{summary}");
}

#[test]
fn bad_flags_and_files_exit_with_code_2() {
    let dir = TempDir::new("ingest-bad-input");
    let map = dir.path().join("map.toml");
    std::fs::write(
        &map,
        "[[point]]\nsource = \"x\"\npoint = \"plant/flow_kg_per_s\"\nunit = \"gpm\"\n",
    )
    .unwrap();
    let out = support::run(&[
        "ingest",
        "--points",
        map.to_str().unwrap(),
        "--broker",
        "mqtt://127.0.0.1:1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("point[0].unit") && err.contains("density"), "{err}");
    // A map that names no topic filter would subscribe to nothing.
    let no_topics = dir.path().join("no-topics.toml");
    std::fs::write(
        &no_topics,
        "[[point]]\nsource = \"x\"\npoint = \"plant/fw_supply_temp_c\"\n",
    )
    .unwrap();
    let mut quiet = support::campustwin()
        .args([
            "ingest",
            "--points",
            no_topics.to_str().unwrap(),
            "--broker",
            "mqtt://127.0.0.1:1",
        ])
        .arg("--store")
        .arg(dir.path().join("quiet.db"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    support::stop_child(&mut quiet, true);
    let mut err = String::new();
    std::io::Read::read_to_string(&mut quiet.stderr.take().unwrap(), &mut err).unwrap();
    assert!(
        err.contains("no-topics.toml names no topic filter") && err.contains("campustwin/#"),
        "{err}"
    );
    let out = support::run(&[
        "ingest",
        "--broker",
        "http://x",
        "--store",
        dir.path().join("s.db").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown scheme `http`"));
    let out = support::run(&["ingest", "--topic", "a/#/b", "--broker", "mqtt://127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(2));
    let out = support::run(&["store", "stats", dir.path().join("missing.db").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    // An estimator state file that cannot be written is refused before anything starts.
    let store = dir.path().join("never.db");
    let out = support::run(&[
        "ingest",
        "--broker",
        "mqtt://127.0.0.1:1",
        "--store",
        store.to_str().unwrap(),
        "--state-out",
        dir.path().join("no-such-dir/state.json").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--state-out"));
    assert!(!store.exists(), "no store is created for a refused command");
    let out = support::run(&[
        "ingest",
        "--campus",
        "no-such-campus.toml",
        "--broker",
        "mqtt://127.0.0.1:1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-campus.toml"));
}

#[test]
fn telegraf_line_protocol_is_mapped_and_converted_by_the_point_map() {
    let maps = TempDir::new("ingest-telegraf-map");
    let map = maps.path().join("gateway.toml");
    std::fs::write(
        &map,
        r#"
[[topic]]
filter = "telegraf/#"
format = "line_protocol"
precision = "ms"
site = "dfw1"

[[point]]
measurement = "cdu"
field = "supply_temp_f"
point = "hall-{hall}/cdu-{unit}/tcs_supply_temp_c"
unit = "degF"

[[point]]
measurement = "cdu"
field = "flow_gpm"
point = "hall-{hall}/cdu-{unit}/tcs_flow_l_per_min"
unit = "gpm"
"#,
    )
    .unwrap();
    let (_dir, broker, store, ingest) = with_broker(
        "telegraf",
        &[
            "--points",
            map.to_str().unwrap(),
            "--topic",
            "telegraf/#",
            "--topic",
            "campustwin/#",
        ],
    );
    let ts = Utc::now().timestamp_millis() - 5_000;
    let lines = format!(
        "cdu,hall=A,unit=03 supply_temp_f=86,flow_gpm=100i,status=\"ok\" {ts}\n\
         cdu,hall=A,unit=04 supply_temp_f=9999 {ts}\n"
    );
    let native = readings(5, 0);
    runtime().block_on(async {
        let options = BrokerOptions::from_url(&broker.url(), "pub-telegraf").unwrap();
        let mut p = Publisher::connect(&options, "dfw1", Framing::Single, None, Duration::from_secs(10))
            .await
            .unwrap();
        p.send_raw("telegraf/gw1/cdu", lines.into_bytes()).await.unwrap();
        p.send(&native).await.unwrap(); // native readings beside, on campustwin/#
        let report = p.finish(Duration::from_secs(30)).await.unwrap();
        assert_eq!(report.messages, 6);
    });
    let mut want = keys(&native);
    want.insert(("hall-a/cdu-03/tcs_supply_temp_c".into(), ts));
    want.insert(("hall-a/cdu-03/tcs_flow_l_per_min".into(), ts));
    assert_exactly_once(&store, &want, &ingest);
    let read = |point: &str| -> f64 {
        let out = support::run(&["history", "--store", store.to_str().unwrap(), "--point", point]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let row = text
            .lines()
            .nth(1)
            .unwrap_or_else(|| panic!("no history for {point}: {text}"));
        row.split(',').nth(1).unwrap().parse().unwrap()
    };
    assert!((read("hall-a/cdu-03/tcs_supply_temp_c") - 30.0).abs() < 1e-9);
    assert!((read("hall-a/cdu-03/tcs_flow_l_per_min") - 378.541_178_4).abs() < 1e-6);
    let out = support::run(&["store", "stats", store.to_str().unwrap()]);
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["rejected"]["unknown_point"], 1, "{stats}"); // the status string field
    assert_eq!(stats["rejected"]["out_of_range"], 1, "{stats}"); // 9999 °F
}

#[test]
fn simulated_sensors_feed_the_store_and_the_estimator_finds_the_failing_pump() {
    let esif = support::repo_root().join("models/campuses/esif.toml");
    let esif = esif.to_str().unwrap();
    let state_dir = TempDir::new("sensors-state");
    let state = state_dir.path().join("state.json");
    let (_dir, broker, store, mut ingest) = with_broker(
        "sensors",
        &["--campus", esif, "--state-out", state.to_str().unwrap()],
    );
    // A CDU pump falls to half its flow and a return sensor drifts by 2 K a minute, both
    // 3 s into a 45 s run.
    let out = support::run(&[
        "sensors",
        "--broker",
        &broker.url(),
        "--campus",
        esif,
        "--duration-s",
        "45",
        "--fault",
        "pump:hpc/cdu-03:0.5@3",
        "--fault",
        "drift:hpc/cdu-05/tcs_return_temp_c:120@3",
        "--client-id",
        "sensors-e2e",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    let field = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"));
    let published = field(&report, "published");
    // Every sample of every point, less the dropouts, acknowledged.
    assert_eq!(report["samples"], 45);
    assert_eq!(
        published,
        45 * field(&report, "points") - field(&report, "dropped"),
        "{report}"
    );
    assert!(report["rate_per_s"].as_f64().unwrap() > 100.0, "{report}");

    let deadline = Instant::now() + Duration::from_secs(30);
    while (stored(&store).1 as u64) < published && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut lines = ingest.stop_with_alarms();
    let summary = lines.pop().unwrap();
    assert_eq!(field(&summary, "readings"), published, "{summary}");
    assert_eq!(stored(&store).1 as u64, published);
    assert_eq!(field(&summary["estimator"], "readings"), published, "{summary}");

    let alarms: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            let a = &l["alarm"];
            (
                a["kind"].as_str().unwrap().to_owned(),
                a["subject"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        ("pump_underperforming".to_owned(), "hpc/cdu-03".to_owned()),
        (
            "sensor_drift".to_owned(),
            "hpc/cdu-05/tcs_return_temp_c".to_owned(),
        ),
    ];
    for e in &expected {
        assert!(alarms.contains(e), "{e:?} missing from {alarms:?}");
    }
    assert_eq!(alarms.len(), 2, "only the two faults: {alarms:?}");

    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state).expect("state file")).expect("state JSON");
    let loops = state["loops"].as_array().unwrap();
    assert_eq!(loops.len(), 10);
    for l in loops {
        let flow = l["flow_frac"].as_f64().unwrap();
        let expected = if l["cdu"] == 3 { 0.5 } else { 1.0 };
        assert!((flow - expected).abs() < 0.05, "{l}");
    }
}

#[test]
fn sensors_refuse_bad_flags_with_code_2() {
    let cases: [(&[&str], &str); 8] = [
        (&["--fault", "leak:hpc"], "--fault"),
        (&["--rate", "0"], "--rate"),
        (&["--noise=-1"], "--noise"),
        (&["--dropout-frac", "1.5"], "--dropout-frac"),
        (&["--load", "csv:no-such-table.csv"], "no-such-table.csv"),
        (&["--campus", "no-such.toml"], "no-such.toml"),
        (&["--fault", "pump:hpc/cdu-99:0.5"], "cdu"),
        (&["--fault", "drift:hpc/cdu-99/tcs_return_temp_c:1"], "hpc/cdu-99"),
    ];
    let esif = support::repo_root().join("models/campuses/esif.toml");
    for (flags, needle) in cases {
        let mut args = vec!["sensors", "--broker", "mqtt://127.0.0.1:1", "--duration-s", "1"];
        if !flags.contains(&"--campus") {
            args.extend(["--campus", esif.to_str().unwrap()]);
        }
        args.extend_from_slice(flags);
        let out = support::run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(needle), "{flags:?}: {stderr}");
    }
}
