//! Storage faults against the real binary: the disk filling under `ingest`, store files cut
//! short or corrupted, and SIGKILL during a retention pass and during a migration. Each
//! ends with every reading accounted for, exactly once.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use ingest::store::{Durability, Store};
use models::telemetry::{PointId, Reading};

use crate::ingest::{Ingest, assert_exactly_once, keys, publish, readings, stored};
use crate::support::{self, Mosquitto, TempDir};

/// A small tmpfs mounted for one test (the test runs as root, as CI does), unmounted on
/// drop.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(at: &Path, size_mib: u32) -> Self {
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mib}m"), "tmpfs"])
            .arg(at)
            .output()
            .expect("mount runs");
        assert!(
            out.status.success(),
            "this test mounts a {size_mib} MiB tmpfs and needs root (as CI has): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self { path: at.to_owned() }
    }

    /// Writes a ballast file until the disk is full.
    fn fill(&self) -> PathBuf {
        let ballast = self.path.join("ballast");
        let mut file = std::fs::File::create(&ballast).unwrap();
        let block = vec![0x5a_u8; 64 * 1024];
        loop {
            match file.write(&block) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
                Err(e) => panic!("writing the ballast: {e}"),
            }
        }
        // The last partial block: fill to the byte.
        while file.write(&[0x5a]).is_ok_and(|n| n == 1) {}
        ballast
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

#[test]
fn a_full_disk_stops_acknowledgements_and_loses_nothing_when_space_returns() {
    let dir = TempDir::new("disk-full");
    let disk = SmallDisk::mount(&dir.path().join("disk"), 8);
    let broker = Mosquitto::start();
    let url = broker.url();
    let store = disk.path.join("store.db");
    let args = [
        "--broker",
        &url,
        "--store",
        store.to_str().unwrap(),
        "--client-id",
        "ingest-disk-full",
        "--no-estimator",
    ];
    let mut ingest = Ingest::start(dir.path(), "ingest", &args);
    let all = readings(60_000, 0);
    let (first, rest) = all.split_at(2_000);
    assert_eq!(
        publish(&url, "pub-1", first, 100, 20_000.0, usize::MAX, || {}),
        2_000
    );
    assert_exactly_once(&store, &keys(first), &ingest);

    // The disk fills: commits fail, nothing more is acknowledged, the broker keeps it all.
    let ballast = disk.fill();
    let (second, third) = rest.split_at(29_000);
    assert_eq!(
        publish(&url, "pub-2", second, 100, 50_000.0, usize::MAX, || {}),
        29_000
    );
    ingest.wait_for_log("Store is full", 1);
    std::thread::sleep(Duration::from_secs(2));
    let held = stored(&store).1;
    assert!(held < 2_000 + 29_000, "held {held}: the disk never filled");

    // Space returns: the waiting batch commits, and the rest follows.
    std::fs::remove_file(&ballast).unwrap();
    ingest.wait_for_log("commits resumed", 1);
    let upto_second: Vec<Reading> = all[..31_000].to_vec();
    assert_exactly_once(&store, &keys(&upto_second), &ingest);

    // Full again, and stopped while full: the batch stays unacknowledged, the broker
    // redelivers it to the next process once space is back.
    let ballast = disk.fill();
    assert_eq!(
        publish(&url, "pub-3", third, 100, 50_000.0, usize::MAX, || {}),
        29_000
    );
    ingest.wait_for_log("Store is full", 2);
    let child = ingest.take_child();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "a stop with a batch unstored is a failure");
    ingest.wait_for_log("stay unacknowledged", 1);
    std::fs::remove_file(&ballast).unwrap();
    ingest.spawn();
    assert_exactly_once(&store, &keys(&all), &ingest);
    let summary = ingest.stop();
    assert!(summary["readings"].as_u64().unwrap() > 0, "{summary}");
    let check = support::run(&["store", "check", store.to_str().unwrap()]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

/// A store of `n` readings of 20 points, one a second, starting `age_days` ago, written
/// through the library, checkpointed and closed.
fn make_store(path: &Path, n: usize, age_days: i64) -> Vec<Reading> {
    let start_ms = Utc::now().timestamp_millis() - age_days * 86_400_000;
    let rows: Vec<Reading> = (0..n)
        .map(|i| Reading {
            point: PointId::parse(&format!("hall-a/rack-{:04}/power_kw", i % 20)).unwrap(),
            ts: Utc
                .timestamp_millis_opt(start_ms + (i / 20) as i64 * 1000)
                .unwrap(),
            value: 20.0 + (i % 97) as f64 * 0.25,
        })
        .collect();
    let mut store = Store::open(path, Durability::Normal).unwrap();
    for batch in rows.chunks(10_000) {
        store.commit(batch, []).unwrap();
    }
    drop(store);
    rows
}

fn stats(path: &Path) -> serde_json::Value {
    let out = support::run(&["store", "stats", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `store check`'s exit code and report.
fn check(path: &Path) -> (Option<i32>, serde_json::Value) {
    let out = support::run(&["store", "check", path.to_str().unwrap()]);
    let report = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code(), report)
}

/// Runs `campustwin ARGS` and asserts it refuses the damaged store `path` (exit code 2
/// from `store`, 1 from `ingest`, which fails as it starts), leaving the file as it was.
fn refuses_damaged(args: &[&str], path: &Path, why: &str) {
    let before = std::fs::read(path).unwrap();
    let out = support::run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(1 | 2)), "{args:?}: {err}");
    assert!(err.contains("is damaged") && err.contains(why), "{args:?}: {err}");
    assert!(err.contains("campustwin store check"), "{err}");
    assert!(
        std::fs::read(path).unwrap() == before,
        "{args:?} wrote to a damaged store"
    );
}

#[test]
fn a_truncated_or_corrupted_store_is_refused_at_open_and_reported_by_store_check() {
    let dir = TempDir::new("store-damage");
    let sound = dir.path().join("sound.db");
    let rows = make_store(&sound, 100_000, 0);
    let (code, report) = check(&sound);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["ok"], true);
    assert_eq!(
        report["chunk_readings"].as_u64(),
        Some(rows.len() as u64),
        "{report}"
    );
    let page = report["page_size_bytes"].as_u64().unwrap() as usize;
    let bytes = std::fs::read(&sound).unwrap();
    assert!(bytes.len() > 8 * page, "a store of several pages");

    // Cut short, as by a copy that ran out of space.
    let cut = dir.path().join("cut.db");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (code, report) = check(&cut);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report["file_problems"][0].as_str().unwrap().contains("truncated"),
        "{report}"
    );
    refuses_damaged(&["store", "stats", cut.to_str().unwrap()], &cut, "malformed");
    let url = "mqtt://127.0.0.1:1";
    let ingest = [
        "ingest",
        "--broker",
        url,
        "--store",
        cut.to_str().unwrap(),
        "--no-estimator",
    ];
    refuses_damaged(&ingest, &cut, "malformed");

    // A page overwritten in place (a failing disk, a file edited by hand): the pages of
    // the chunks' table and its index, past the schema's first page.
    let mangled = dir.path().join("mangled.db");
    let mut damaged = bytes.clone();
    for b in &mut damaged[page..3 * page] {
        *b = 0xa5;
    }
    std::fs::write(&mangled, &damaged).unwrap();
    let (code, report) = check(&mangled);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        !report["sqlite_problems"].as_array().unwrap().is_empty(),
        "{report}"
    );
    refuses_damaged(&["store", "stats", mangled.to_str().unwrap()], &mangled, "");
    let ingest = [
        "ingest",
        "--broker",
        url,
        "--store",
        mangled.to_str().unwrap(),
        "--no-estimator",
    ];
    refuses_damaged(&ingest, &mangled, "");

    // Not a store at all, and no file: exit 2, not a report of damage.
    let text = dir.path().join("notes.db");
    std::fs::write(&text, "x".repeat(4096)).unwrap();
    assert_eq!(check(&text).0, Some(2));
    assert_eq!(check(&dir.path().join("missing.db")).0, Some(2));
}

/// Starts `campustwin ARGS`, SIGKILLs it after `after`, and says whether it had already
/// finished.
fn kill_after(args: &[&str], after: Duration) -> bool {
    let mut child = support::campustwin()
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + after;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    support::stop_child(&mut child, true);
    false
}

/// A fresh copy of `pristine` at `path` (without a log or shared memory beside it).
fn restore(pristine: &Path, path: &Path) {
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    std::fs::copy(pristine, path).unwrap();
}

/// Runs `campustwin ARGS` on a fresh copy of `pristine` at `path` to its end (timed), then,
/// on a fresh copy each time, kills it at tenths of that time, from its start-up to its
/// last moments, calling `after_kill` after each kill. Returns how many kills landed
/// before the command finished.
fn kill_at_tenths(args: &[&str], pristine: &Path, path: &Path, mut after_kill: impl FnMut(u32)) -> u32 {
    restore(pristine, path);
    let started = Instant::now();
    let out = support::run(args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let full = started.elapsed();
    let mut killed = 0;
    for tenth in 1..=9 {
        restore(pristine, path);
        if !kill_after(args, full * tenth / 10) {
            killed += 1;
        }
        after_kill(tenth);
    }
    eprintln!("{args:?} takes {full:?}; {killed} of 9 kills landed before its end");
    killed
}

#[test]
fn sigkill_during_a_retention_pass_loses_no_reading() {
    let dir = TempDir::new("kill-retention");
    let (pristine, path) = (dir.path().join("pristine.db"), dir.path().join("store.db"));
    let total = make_store(&pristine, 400_000, 30).len() as u64;
    // One-second buckets: a bucket row for every second, so that the pass is long enough
    // to be killed in.
    let args = [
        "store",
        "maintain",
        path.to_str().unwrap(),
        "--raw-retention-days",
        "7",
        "--bucket-s",
        "1",
    ];
    let killed = kill_at_tenths(&args, &pristine, &path, |tenth| {
        let (code, report) = check(&path);
        assert_eq!(code, Some(0), "killed at {tenth}/10: {report}");
        let s = stats(&path);
        let counts = (
            s["readings"].as_u64().unwrap(),
            s["downsampled_readings"].as_u64().unwrap(),
        );
        // One transaction: every reading (all 30 days old) raw, or every one folded.
        assert!(
            counts == (total, 0) || counts == (0, total),
            "killed at {tenth}/10: {s}"
        );
    });
    assert!(killed >= 5, "only {killed} kills landed before the pass ended");
}

#[test]
fn sigkill_during_a_migration_loses_no_reading() {
    let dir = TempDir::new("kill-migration");
    let (pristine, path) = (dir.path().join("pristine.db"), dir.path().join("old.db"));
    // The layout before chunks (version 0): a readings table, 300,000 rows of 30 points.
    let n = 300_000_i64;
    {
        let conn = rusqlite::Connection::open(&pristine).unwrap();
        conn.execute_batch(
            "CREATE TABLE points(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
             CREATE TABLE readings(id INTEGER PRIMARY KEY AUTOINCREMENT,
                 point_id INTEGER NOT NULL, ts_ms INTEGER NOT NULL, value REAL NOT NULL);
             CREATE UNIQUE INDEX readings_point_ts ON readings(point_id, ts_ms);
             CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
             CREATE TABLE sink_cursor(sink TEXT PRIMARY KEY, last_id INTEGER NOT NULL);",
        )
        .unwrap();
        let tx = conn.unchecked_transaction().unwrap();
        for p in 1..=30 {
            tx.execute(
                "INSERT INTO points VALUES (?1, ?2)",
                rusqlite::params![p, format!("hall-a/rack-{p:04}/power_kw")],
            )
            .unwrap();
        }
        let mut insert = tx
            .prepare("INSERT INTO readings(point_id, ts_ms, value) VALUES (?1, ?2, ?3)")
            .unwrap();
        let start_ms = Utc::now().timestamp_millis() - 86_400_000;
        for i in 0..n {
            insert
                .execute(rusqlite::params![
                    1 + i % 30,
                    start_ms + (i / 30) * 1000,
                    i as f64 * 0.5
                ])
                .unwrap();
        }
        drop(insert);
        tx.execute("INSERT INTO counters VALUES ('readings', ?1)", [n])
            .unwrap();
        tx.commit().unwrap();
    }
    let args = ["store", "stats", path.to_str().unwrap()];
    let killed = kill_at_tenths(&args, &pristine, &path, |tenth| {
        let (code, report) = check(&path);
        assert_eq!(code, Some(0), "killed at {tenth}/10: {report}");
        // One transaction: the old layout as it was, or every reading in chunks.
        match report["layout_version"].as_i64() {
            Some(0) => {}
            Some(v) if v == ingest::store::STORE_VERSION => {
                assert_eq!(report["chunk_readings"].as_u64(), Some(n as u64), "{report}")
            }
            _ => panic!("killed at {tenth}/10: {report}"),
        }
        // Opened again, it migrates (or has migrated) every reading.
        assert_eq!(
            stats(&path)["readings"].as_u64(),
            Some(n as u64),
            "killed at {tenth}/10"
        );
    });
    assert!(
        killed >= 5,
        "only {killed} kills landed before the migration ended"
    );
}
