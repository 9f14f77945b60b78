//! The embedded store: SQLite in WAL mode, one transaction per batch, duplicates dropped on
//! (point, timestamp), rejections counted by reason, retention with downsampling.
//!
//! Tables: `points(id, name)`; `readings(id, point_id, ts_ms, value)` with a unique key on
//! `(point_id, ts_ms)` (`id` grows with arrival order and is what the InfluxDB sink's
//! cursor follows); `downsampled(point_id, bucket_ms, mean, min, max, count)`;
//! `rejected(reason, count)`; `counters(name, value)`; `sink_cursor(sink, last_id)`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use models::telemetry::Reading;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::{Error, Reason, Result};

/// How the store syncs commits to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=FULL`: a commit is on disk before the broker is acknowledged, so an
    /// acknowledged reading survives a power cut. The default.
    #[default]
    Full,
    /// `synchronous=NORMAL`: survives a crash of the process, not of the machine.
    Normal,
}

/// Retention: raw readings older than `raw_max_age_s` are folded into buckets of
/// `bucket_s` (mean, min, max, count); buckets older than `downsampled_max_age_s` are
/// deleted.
#[derive(Debug, Clone, PartialEq)]
pub struct Retention {
    /// Age after which raw readings are downsampled, s.
    pub raw_max_age_s: i64,
    /// Width of a downsampled bucket, s.
    pub bucket_s: i64,
    /// Age after which buckets are deleted, s.
    pub downsampled_max_age_s: i64,
}

impl Default for Retention {
    /// 7 days raw, 5-minute buckets kept for 400 days: a week of full detail for
    /// diagnosis, a year and a season of trends for the twin's calibration.
    fn default() -> Self {
        Self {
            raw_max_age_s: 7 * 86_400,
            bucket_s: 300,
            downsampled_max_age_s: 400 * 86_400,
        }
    }
}

/// What one commit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Committed {
    /// Readings inserted.
    pub inserted: u64,
    /// Readings dropped because (point, timestamp) was already stored.
    pub duplicates: u64,
    /// Rejections counted.
    pub rejected: u64,
}

/// What one retention pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Maintained {
    /// Raw readings folded into buckets and deleted.
    pub downsampled: u64,
    /// Buckets deleted for age.
    pub expired_buckets: u64,
}

/// Summary of a store (`campustwin store stats`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Raw readings stored.
    pub readings: u64,
    /// Distinct points seen.
    pub points: u64,
    /// Rejections by reason (every reason listed, zeros included).
    pub rejected: BTreeMap<String, u64>,
    /// Readings dropped as duplicates of (point, timestamp).
    pub duplicates: u64,
    /// Readings folded into downsampled buckets so far.
    pub downsampled_readings: u64,
    /// Downsampled buckets stored.
    pub buckets: u64,
    /// No stored raw reading is older (the oldest committed, raised to the retention
    /// cutoff by retention passes).
    pub first_ts: Option<DateTime<Utc>>,
    /// Newest raw reading's timestamp committed.
    pub last_ts: Option<DateTime<Utc>>,
    /// Readings not yet forwarded, per sink.
    pub sink_pending: BTreeMap<String, u64>,
}

/// One row of history: a raw reading (`count` 1) or a downsampled bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryRow {
    /// Timestamp (bucket start for a bucket).
    pub ts: DateTime<Utc>,
    /// Value (mean for a bucket), canonical unit.
    pub value: f64,
    /// Smallest value in the bucket.
    pub min: f64,
    /// Largest value in the bucket.
    pub max: f64,
    /// Readings in the bucket; 1 for a raw reading.
    pub count: u64,
}

/// A stored reading as a sink reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReading {
    /// Arrival-order id.
    pub id: i64,
    /// Point id.
    pub point: String,
    /// Timestamp, epoch ms.
    pub ts_ms: i64,
    /// Value, canonical unit.
    pub value: f64,
}

/// The store.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    point_ids: HashMap<String, i64>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS points(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS readings(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    point_id INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL,
    value REAL NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS readings_point_ts ON readings(point_id, ts_ms);
CREATE TABLE IF NOT EXISTS downsampled(
    point_id INTEGER NOT NULL,
    bucket_ms INTEGER NOT NULL,
    mean REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY(point_id, bucket_ms)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rejected(reason TEXT PRIMARY KEY, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sink_cursor(sink TEXT PRIMARY KEY, last_id INTEGER NOT NULL);
";

fn ts_of(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

impl Store {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path, durability: Durability) -> Result<Self> {
        let err = store_err(path);
        let conn = Connection::open(path).map_err(&err)?;
        let sync = match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        conn.execute_batch(&format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; PRAGMA busy_timeout=10000;
             PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
        ))
        .map_err(&err)?;
        conn.execute_batch(SCHEMA).map_err(&err)?;
        Ok(Self {
            conn,
            path: path.to_owned(),
            point_ids: HashMap::new(),
        })
    }

    /// Opens an existing store for reading; fails if the file does not exist.
    pub fn open_existing(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::Config(format!("no store at {}", path.display())));
        }
        Self::open(path, Durability::Normal)
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        store_err(&self.path)
    }

    /// Commits readings and rejection counts in one transaction. Readings whose (point,
    /// timestamp) is already stored are dropped and counted as duplicates.
    pub fn commit<'a>(
        &mut self,
        readings: impl IntoIterator<Item = &'a Reading>,
        rejected: impl IntoIterator<Item = Reason>,
    ) -> Result<Committed> {
        let err = store_err(&self.path);
        let tx = self.conn.transaction().map_err(&err)?;
        let mut done = Committed::default();
        {
            // Resolve point ids, then insert in key order (the unique index is walked
            // once, page by page) with multi-row statements (less statement overhead).
            let mut rows: Vec<(i64, i64, f64)> = Vec::new();
            for r in readings {
                let point_id = match self.point_ids.get(r.point.as_str()) {
                    Some(&id) => id,
                    None => {
                        let id = point_id(&tx, r.point.as_str()).map_err(&err)?;
                        self.point_ids.insert(r.point.as_str().to_owned(), id);
                        id
                    }
                };
                rows.push((point_id, r.ts.timestamp_millis(), r.value));
            }
            let first = rows.iter().map(|r| r.1).min();
            let last = rows.iter().map(|r| r.1).max();
            // Stable: of two readings with one (point, ts), the first to arrive stays.
            rows.sort_by_key(|&(p, t, _)| (p, t));
            let mut chunks = rows.chunks_exact(INSERT_ROWS);
            if chunks.len() > 0 {
                let mut insert = tx.prepare_cached(&insert_sql(INSERT_ROWS)).map_err(&err)?;
                for chunk in chunks.by_ref() {
                    let params: Vec<&dyn rusqlite::ToSql> = chunk
                        .iter()
                        .flat_map(|(p, t, v)| [p as &dyn rusqlite::ToSql, t, v])
                        .collect();
                    let n = insert.execute(params.as_slice()).map_err(&err)? as u64;
                    done.inserted += n;
                    done.duplicates += INSERT_ROWS as u64 - n;
                }
            }
            let mut insert = tx.prepare_cached(&insert_sql(1)).map_err(&err)?;
            for (p, t, v) in chunks.remainder() {
                let n = insert.execute(params![p, t, v]).map_err(&err)? as u64;
                done.inserted += n;
                done.duplicates += 1 - n;
            }
            let mut counts: BTreeMap<Reason, u64> = BTreeMap::new();
            for reason in rejected {
                *counts.entry(reason).or_default() += 1;
                done.rejected += 1;
            }
            let mut reject = tx
                .prepare_cached(
                    "INSERT INTO rejected(reason, count) VALUES (?1, ?2)
                     ON CONFLICT(reason) DO UPDATE SET count = count + excluded.count",
                )
                .map_err(&err)?;
            for (reason, n) in counts {
                reject.execute(params![reason.as_str(), n as i64]).map_err(&err)?;
            }
            add_counter(&tx, "readings", done.inserted as i64).map_err(&err)?;
            add_counter(&tx, "duplicates", done.duplicates as i64).map_err(&err)?;
            if let (Some(first), Some(last)) = (first, last) {
                set_bound(&tx, "first_ts_ms", first, "MIN").map_err(&err)?;
                set_bound(&tx, "last_ts_ms", last, "MAX").map_err(&err)?;
            }
        }
        if let Err(e) = tx.commit() {
            // The point ids of a rolled-back transaction may not exist.
            self.point_ids.clear();
            return Err(err(e));
        }
        Ok(done)
    }

    /// Summary of the store.
    pub fn stats(&self) -> Result<Stats> {
        let err = self.err();
        let c = &self.conn;
        let counter = |name: &str| -> Result<u64> {
            let v: Option<i64> = c
                .query_row("SELECT value FROM counters WHERE name = ?1", [name], |r| r.get(0))
                .optional()
                .map_err(&err)?;
            Ok(v.unwrap_or(0).max(0) as u64)
        };
        let count = |sql: &str| -> Result<u64> {
            let v: i64 = c.query_row(sql, [], |r| r.get(0)).map_err(&err)?;
            Ok(v.max(0) as u64)
        };
        let mut rejected: BTreeMap<String, u64> =
            Reason::ALL.iter().map(|r| (r.as_str().to_owned(), 0)).collect();
        let mut q = c.prepare("SELECT reason, count FROM rejected").map_err(&err)?;
        let rows = q
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(&err)?;
        for row in rows {
            let (reason, n) = row.map_err(&err)?;
            rejected.insert(reason, n.max(0) as u64);
        }
        let (first, last): (Option<i64>, Option<i64>) = c
            .query_row("SELECT MIN(ts_ms), MAX(ts_ms) FROM readings", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(&err)?;
        let mut sink_pending = BTreeMap::new();
        let mut q = c.prepare("SELECT sink FROM sink_cursor").map_err(&err)?;
        let sinks: Vec<String> = q
            .query_map([], |r| r.get(0))
            .map_err(&err)?
            .collect::<Result<_, _>>()
            .map_err(&err)?;
        for sink in sinks {
            let pending = self.pending(&sink)?;
            sink_pending.insert(sink, pending);
        }
        Ok(Stats {
            readings: counter("readings")?,
            points: count("SELECT COUNT(*) FROM points")?,
            rejected,
            duplicates: counter("duplicates")?,
            downsampled_readings: counter("downsampled_readings")?,
            buckets: count("SELECT COUNT(*) FROM downsampled")?,
            first_ts: first.map(ts_of),
            last_ts: last.map(ts_of),
            sink_pending,
        })
    }

    /// The history of `point` in `[from, to]` (either open): downsampled buckets, then raw
    /// readings, in time order.
    pub fn history(
        &self,
        point: &str,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Result<Vec<HistoryRow>> {
        let err = self.err();
        let from_ms = from.map_or(i64::MIN, |t| t.timestamp_millis());
        let to_ms = to.map_or(i64::MAX, |t| t.timestamp_millis());
        let mut rows = Vec::new();
        let mut q = self
            .conn
            .prepare(
                "SELECT d.bucket_ms, d.mean, d.min, d.max, d.count FROM downsampled d
                 JOIN points p ON p.id = d.point_id
                 WHERE p.name = ?1 AND d.bucket_ms BETWEEN ?2 AND ?3",
            )
            .map_err(&err)?;
        let buckets = q
            .query_map(params![point, from_ms, to_ms], |r| {
                Ok(HistoryRow {
                    ts: ts_of(r.get(0)?),
                    value: r.get(1)?,
                    min: r.get(2)?,
                    max: r.get(3)?,
                    count: r.get::<_, i64>(4)?.max(0) as u64,
                })
            })
            .map_err(&err)?;
        for b in buckets {
            rows.push(b.map_err(&err)?);
        }
        let mut q = self
            .conn
            .prepare(
                "SELECT r.ts_ms, r.value FROM readings r JOIN points p ON p.id = r.point_id
                 WHERE p.name = ?1 AND r.ts_ms BETWEEN ?2 AND ?3",
            )
            .map_err(&err)?;
        let raw = q
            .query_map(params![point, from_ms, to_ms], |r| {
                let value: f64 = r.get(1)?;
                Ok(HistoryRow {
                    ts: ts_of(r.get(0)?),
                    value,
                    min: value,
                    max: value,
                    count: 1,
                })
            })
            .map_err(&err)?;
        for r in raw {
            rows.push(r.map_err(&err)?);
        }
        rows.sort_by_key(|r| r.ts);
        Ok(rows)
    }

    /// Whether `point` was ever stored.
    pub fn has_point(&self, point: &str) -> Result<bool> {
        self.conn
            .query_row("SELECT 1 FROM points WHERE name = ?1", [point], |_| Ok(()))
            .optional()
            .map(|o| o.is_some())
            .map_err(self.err())
    }

    /// Downsamples raw readings older than the retention's raw age and deletes old
    /// buckets. Readings a sink has not forwarded yet are kept.
    pub fn maintain(&mut self, now: DateTime<Utc>, retention: &Retention) -> Result<Maintained> {
        let err = store_err(&self.path);
        let cutoff_ms = now.timestamp_millis() - retention.raw_max_age_s * 1000;
        let bucket_ms = retention.bucket_s.max(1) * 1000;
        let tx = self.conn.transaction().map_err(&err)?;
        // Readings arrive roughly in time order: fold those below the first id whose
        // timestamp is at or after the cutoff (late arrivals with old timestamps are taken
        // by a later pass), and never past what every sink has forwarded.
        let limit_id: i64 = tx
            .query_row(
                "SELECT COALESCE(MIN(id), (SELECT COALESCE(MAX(id), 0) + 1 FROM readings))
                 FROM readings WHERE ts_ms >= ?1",
                [cutoff_ms],
                |r| r.get(0),
            )
            .map_err(&err)?;
        let sink_min: Option<i64> = tx
            .query_row("SELECT MIN(last_id) FROM sink_cursor", [], |r| r.get(0))
            .map_err(&err)?;
        let limit_id = sink_min.map_or(limit_id, |s| limit_id.min(s + 1));
        tx.execute(
            "INSERT INTO downsampled(point_id, bucket_ms, mean, min, max, count)
             SELECT point_id, (ts_ms / ?2) * ?2 AS b, AVG(value), MIN(value), MAX(value), COUNT(*)
             FROM readings WHERE id < ?1 AND ts_ms < ?3 GROUP BY point_id, b
             ON CONFLICT(point_id, bucket_ms) DO UPDATE SET
               mean = (mean * count + excluded.mean * excluded.count) / (count + excluded.count),
               min = MIN(min, excluded.min), max = MAX(max, excluded.max),
               count = count + excluded.count",
            params![limit_id, bucket_ms, cutoff_ms],
        )
        .map_err(&err)?;
        let folded = tx
            .execute(
                "DELETE FROM readings WHERE id < ?1 AND ts_ms < ?2",
                params![limit_id, cutoff_ms],
            )
            .map_err(&err)? as i64;
        add_counter(&tx, "readings", -folded).map_err(&err)?;
        add_counter(&tx, "downsampled_readings", folded).map_err(&err)?;
        if folded > 0 {
            set_bound(&tx, "first_ts_ms", cutoff_ms, "MAX").map_err(&err)?;
        }
        let expire_ms = now.timestamp_millis() - retention.downsampled_max_age_s * 1000;
        let expired = tx
            .execute("DELETE FROM downsampled WHERE bucket_ms < ?1", [expire_ms])
            .map_err(&err)?;
        tx.commit().map_err(&err)?;
        Ok(Maintained {
            downsampled: folded as u64,
            expired_buckets: expired as u64,
        })
    }

    /// Registers a sink (its cursor starts before every stored reading) if it is new.
    pub fn register_sink(&self, sink: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO sink_cursor(sink, last_id) VALUES (?1, 0)",
                [sink],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    /// Readings stored after the sink's cursor, oldest first, at most `limit`.
    pub fn after_cursor(&self, sink: &str, limit: usize) -> Result<Vec<StoredReading>> {
        let err = self.err();
        let mut q = self
            .conn
            .prepare_cached(
                "SELECT r.id, p.name, r.ts_ms, r.value FROM readings r JOIN points p ON p.id = r.point_id
                 WHERE r.id > (SELECT last_id FROM sink_cursor WHERE sink = ?1) ORDER BY r.id LIMIT ?2",
            )
            .map_err(&err)?;
        let rows = q
            .query_map(params![sink, limit as i64], |r| {
                Ok(StoredReading {
                    id: r.get(0)?,
                    point: r.get(1)?,
                    ts_ms: r.get(2)?,
                    value: r.get(3)?,
                })
            })
            .map_err(&err)?;
        rows.collect::<Result<_, _>>().map_err(&err)
    }

    /// Moves the sink's cursor to `last_id` (everything up to it was forwarded).
    pub fn advance_cursor(&self, sink: &str, last_id: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE sink_cursor SET last_id = MAX(last_id, ?2) WHERE sink = ?1",
                params![sink, last_id],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    /// Readings not yet forwarded by the sink.
    pub fn pending(&self, sink: &str) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM readings WHERE id > (SELECT last_id FROM sink_cursor WHERE sink = ?1)",
                [sink],
                |r| r.get(0),
            )
            .map_err(self.err())?;
        Ok(n.max(0) as u64)
    }
}

/// Rows per multi-row insert statement.
const INSERT_ROWS: usize = 64;

fn insert_sql(rows: usize) -> String {
    let values = vec!["(?, ?, ?)"; rows].join(", ");
    format!("INSERT OR IGNORE INTO readings(point_id, ts_ms, value) VALUES {values}")
}

fn store_err(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |reason| Error::Store {
        path: path.display().to_string(),
        reason,
    }
}

fn point_id(tx: &rusqlite::Transaction<'_>, name: &str) -> rusqlite::Result<i64> {
    tx.execute("INSERT OR IGNORE INTO points(name) VALUES (?1)", [name])?;
    tx.query_row("SELECT id FROM points WHERE name = ?1", [name], |r| r.get(0))
}

/// Moves a bound counter to `MIN`/`MAX` of itself and `value`.
fn set_bound(tx: &rusqlite::Transaction<'_>, name: &str, value: i64, keep: &str) -> rusqlite::Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO counters(name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = {keep}(value, excluded.value)"
        ),
        params![name, value],
    )?;
    Ok(())
}

fn add_counter(tx: &rusqlite::Transaction<'_>, name: &str, delta: i64) -> rusqlite::Result<()> {
    if delta != 0 {
        tx.execute(
            "INSERT INTO counters(name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
            params![name, delta],
        )?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use models::telemetry::PointId;

    fn reading(point: &str, ts_s: i64, value: f64) -> Reading {
        Reading {
            point: PointId::parse(point).unwrap(),
            ts: Utc.timestamp_opt(ts_s, 0).unwrap(),
            value,
        }
    }

    fn temp_store() -> (tempdir::Dir, Store) {
        let dir = tempdir::Dir::new();
        let store = Store::open(&dir.path().join("s.db"), Durability::Normal).unwrap();
        (dir, store)
    }

    #[test]
    fn duplicates_are_dropped_on_point_and_timestamp() {
        let (_dir, mut store) = temp_store();
        let a = [
            reading("a/power_kw", 10, 1.0),
            reading("b/power_kw", 10, 2.0),
            reading("a/power_kw", 10, 9.0),
        ];
        let done = store
            .commit(&a, [Reason::Malformed, Reason::Malformed, Reason::Oversized])
            .unwrap();
        assert_eq!((done.inserted, done.duplicates, done.rejected), (2, 1, 3));
        let done = store
            .commit(
                &[reading("a/power_kw", 10, 1.0), reading("a/power_kw", 11, 1.5)],
                [],
            )
            .unwrap();
        assert_eq!((done.inserted, done.duplicates), (1, 1));
        let stats = store.stats().unwrap();
        assert_eq!((stats.readings, stats.points, stats.duplicates), (3, 2, 2));
        assert_eq!(stats.rejected["malformed"], 2);
        assert_eq!(stats.rejected["oversized"], 1);
        assert_eq!(stats.rejected["not_finite"], 0);
        let h = store.history("a/power_kw", None, None).unwrap();
        assert_eq!(h.iter().map(|r| r.value).collect::<Vec<_>>(), [1.0, 1.5]);
        assert_eq!(stats.first_ts, Some(Utc.timestamp_opt(10, 0).unwrap()));
    }

    #[test]
    fn large_batches_with_duplicates_inside_and_across_commits_are_counted() {
        let (_dir, mut store) = temp_store();
        // 300 readings of which the last 100 repeat the first 100 (multi-row path).
        let mut rows: Vec<_> = (0..200)
            .map(|i| reading(&format!("r{}/power_kw", i % 7), i, 1.0))
            .collect();
        rows.extend((0..100).map(|i| reading(&format!("r{}/power_kw", i % 7), i, 2.0)));
        let done = store.commit(&rows, []).unwrap();
        assert_eq!((done.inserted, done.duplicates), (200, 100));
        let done = store.commit(&rows[..150], []).unwrap();
        assert_eq!((done.inserted, done.duplicates), (0, 150));
        assert_eq!(store.stats().unwrap().readings, 200);
        // The first value of a (point, ts) stays.
        assert!(
            store
                .history("r0/power_kw", None, None)
                .unwrap()
                .iter()
                .all(|r| r.value == 1.0)
        );
    }

    #[test]
    fn history_honours_the_time_window() {
        let (_dir, mut store) = temp_store();
        let rows: Vec<_> = (0..10)
            .map(|i| reading("x/flow_kg_per_s", i * 60, i as f64))
            .collect();
        store.commit(&rows, []).unwrap();
        let h = store
            .history(
                "x/flow_kg_per_s",
                Some(Utc.timestamp_opt(120, 0).unwrap()),
                Some(Utc.timestamp_opt(300, 0).unwrap()),
            )
            .unwrap();
        assert_eq!(
            h.iter().map(|r| r.value).collect::<Vec<_>>(),
            [2.0, 3.0, 4.0, 5.0]
        );
        assert!(store.has_point("x/flow_kg_per_s").unwrap());
        assert!(!store.has_point("y/flow_kg_per_s").unwrap());
    }

    #[test]
    fn old_readings_are_folded_into_buckets_that_keep_mean_min_max() {
        let (_dir, mut store) = temp_store();
        // 20 readings a minute apart: 0..600 s fall into bucket 0 and 600..1200 s into 600.
        let rows: Vec<_> = (0..20).map(|i| reading("x/power_kw", i * 60, i as f64)).collect();
        store.commit(&rows, []).unwrap();
        let retention = Retention {
            raw_max_age_s: 3600,
            bucket_s: 600,
            downsampled_max_age_s: 86_400,
        };
        let now = Utc.timestamp_opt(3600 + 900, 0).unwrap(); // cutoff at 900 s
        let done = store.maintain(now, &retention).unwrap();
        assert_eq!(done.downsampled, 15); // 0..840 s
        let h = store.history("x/power_kw", None, None).unwrap();
        assert_eq!(h[0].count, 10);
        assert_eq!((h[0].value, h[0].min, h[0].max), (4.5, 0.0, 9.0));
        assert_eq!((h[1].count, h[1].min, h[1].max), (5, 10.0, 14.0));
        assert_eq!(h.len(), 2 + 5);
        // A later pass merges the rest of bucket 600 into the same bucket.
        let now = Utc.timestamp_opt(3600 + 1300, 0).unwrap();
        store.maintain(now, &retention).unwrap();
        let h = store.history("x/power_kw", None, None).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!((h[1].count, h[1].value), (10, 14.5));
        let stats = store.stats().unwrap();
        assert_eq!(
            (stats.readings, stats.downsampled_readings, stats.buckets),
            (0, 20, 2)
        );
        // And buckets expire.
        let done = store
            .maintain(Utc.timestamp_opt(200_000, 0).unwrap(), &retention)
            .unwrap();
        assert_eq!(done.expired_buckets, 2);
    }

    #[test]
    fn retention_keeps_what_a_sink_has_not_forwarded() {
        let (_dir, mut store) = temp_store();
        store.register_sink("influx").unwrap();
        let rows: Vec<_> = (0..10).map(|i| reading("x/power_kw", i, 1.0)).collect();
        store.commit(&rows, []).unwrap();
        let batch = store.after_cursor("influx", 4).unwrap();
        assert_eq!(batch.len(), 4);
        store.advance_cursor("influx", batch[3].id).unwrap();
        assert_eq!(store.pending("influx").unwrap(), 6);
        let retention = Retention {
            raw_max_age_s: 1,
            bucket_s: 60,
            downsampled_max_age_s: 86_400,
        };
        let done = store
            .maintain(Utc.timestamp_opt(10_000, 0).unwrap(), &retention)
            .unwrap();
        assert_eq!(done.downsampled, 4);
        assert_eq!(store.after_cursor("influx", 100).unwrap().len(), 6);
        assert_eq!(store.stats().unwrap().sink_pending["influx"], 6);
    }

    #[test]
    fn the_store_survives_reopening() {
        let dir = tempdir::Dir::new();
        let path = dir.path().join("s.db");
        {
            let mut store = Store::open(&path, Durability::Full).unwrap();
            store
                .commit(&[reading("a/power_kw", 1, 1.0)], [Reason::NotFinite])
                .unwrap();
        }
        let mut store = Store::open(&path, Durability::Full).unwrap();
        let done = store
            .commit(
                &[reading("a/power_kw", 1, 1.0), reading("a/power_kw", 2, 1.0)],
                [],
            )
            .unwrap();
        assert_eq!((done.inserted, done.duplicates), (1, 1));
        assert_eq!(store.stats().unwrap().rejected["not_finite"], 1);
        assert!(Store::open_existing(&dir.path().join("missing.db")).is_err());
    }

    /// A temporary directory removed on drop (no extra dependency).
    mod tempdir {
        use std::path::{Path, PathBuf};
        use std::sync::atomic::{AtomicU32, Ordering};

        pub struct Dir(PathBuf);
        static N: AtomicU32 = AtomicU32::new(0);
        impl Dir {
            pub fn new() -> Self {
                let p = std::env::temp_dir().join(format!(
                    "ingest-store-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::SeqCst)
                ));
                std::fs::create_dir_all(&p).unwrap();
                Self(p)
            }
            pub fn path(&self) -> &Path {
                &self.0
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }
}
