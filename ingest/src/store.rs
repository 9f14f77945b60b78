//! The embedded store: SQLite in WAL mode, one transaction per batch, readings kept in
//! compressed per-point chunks, duplicates dropped on (point, timestamp), rejections
//! counted by reason, retention with downsampling.
//!
//! Tables:
//! - `points(id, name)`;
//! - `chunks(id, point_id, first_ms, last_ms, count, data)`: the raw readings. One commit
//!   writes, for each point it holds, one chunk of that point's new readings sorted by
//!   time; `data` is their encoding ([`chunk`]: varint timestamp differences and the
//!   values' 8 bytes), `first_ms`/`last_ms` the first and last timestamp, `count` the
//!   number of readings. `id` grows with arrival order and is what the InfluxDB sink's
//!   cursor follows. Indexes: `(point_id, last_ms, first_ms)` for history, deduplication
//!   and the per-point largest timestamp; `(first_ms)` for retention and the oldest
//!   timestamp;
//! - `downsampled(point_id, bucket_ms, mean, min, max, count)`;
//! - `rejected(reason, count)`; `counters(name, value)` (`readings`, `duplicates`,
//!   `downsampled_readings`, `last_ts_ms`, `last_chunk_id`, `last_forecast_id`);
//!   `sink_cursor(sink, last_id)` (the last chunk id forwarded);
//! - `point_stats(point_id, readings, first_ms, last_ms, last_value, max_span_ms)`: per
//!   point, kept by every commit and retention pass so that a reader answers "every point
//!   and its latest value" with one row per point: raw readings stored, the start of the
//!   point's history (its oldest bucket or raw reading), the newest reading committed and
//!   its value, and the widest time span of one of its chunks (which bounds the index
//!   range a history query reads);
//! - `forecasts(id, issued_ms, start_ms, end_ms, body)`: the forecasts the live service
//!   issued ([`ForecastLog`]), `body` the JSON of a `models::forecast::Forecast`. Index
//!   `(issued_ms)`.
//!
//! The layout's version is `PRAGMA user_version` ([`STORE_VERSION`]); [`Store::open`]
//! creates and upgrades it, a [`Reader`] only reads a store at the current version.
//!
//! Deduplication is exact on (point, timestamp) and costs no lookup for a live stream: the
//! writer keeps, per point, the largest timestamp stored. A reading after it is new; one
//! at or before it (a redelivery after a crash or a broker restart, or a late reading) is
//! looked up in the point's chunks whose time range can hold it. That memory makes a store
//! single-writer: one `campustwin ingest` process per file (readers, the sink's cursor, the
//! forecast log and `store stats` may run beside it).
//!
//! A store written before chunks (a `readings(id, point_id, ts_ms, value)` table) is
//! migrated when it is opened, in one transaction.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use ingest::store::{Durability, Store};
//! use models::telemetry::{PointId, Reading};
//!
//! let dir = std::env::temp_dir().join(format!("store-doctest-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let mut store = Store::open(&dir.join("s.db"), Durability::Normal).unwrap();
//! let point = PointId::parse("hall-a/rack-0007/power_kw").unwrap();
//! let at = |s| Utc.timestamp_opt(s, 0).unwrap();
//! let batch = [
//!     Reading { point: point.clone(), ts: at(60), value: 41.5 },
//!     Reading { point: point.clone(), ts: at(0), value: 40.0 },
//! ];
//! assert_eq!(store.commit(&batch, []).unwrap().inserted, 2);
//! // A redelivery: dropped, counted.
//! assert_eq!(store.commit(&batch[1..], []).unwrap().duplicates, 1);
//! let history = store.history(point.as_str(), None, None).unwrap();
//! assert_eq!(history.iter().map(|r| r.value).collect::<Vec<_>>(), [40.0, 41.5]);
//! # drop(store);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

mod check;
pub mod chunk;
mod forecast;
mod reader;

pub use check::{CheckReport, check};
pub use forecast::ForecastLog;
pub use reader::{HistoryPage, LatestReading, PointSummary, Reader};

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use models::telemetry::Reading;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;
use tracing::{info, warn};

use crate::{Error, FastMap, Reason, Result};

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

impl Retention {
    /// The retention that keeps raw readings `raw_days` days and `bucket_s`-second buckets
    /// `downsampled_days` days, as `ingest`'s flags and `serve`'s `[store]` give it (the
    /// days already checked to be positive; an age beyond an i64 of seconds saturates).
    pub fn from_days(raw_days: f64, bucket_s: i64, downsampled_days: f64) -> Self {
        Self {
            raw_max_age_s: (raw_days * 86_400.0) as i64,
            bucket_s,
            downsampled_max_age_s: (downsampled_days * 86_400.0) as i64,
        }
    }
}

/// What one commit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Committed {
    /// Readings inserted.
    pub inserted: u64,
    /// Readings dropped because (point, timestamp) was already stored or came earlier in
    /// the same commit.
    pub duplicates: u64,
    /// Rejections counted.
    pub rejected: u64,
}

/// What one retention pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Maintained {
    /// Raw readings folded into buckets and deleted.
    pub downsampled: u64,
    /// Buckets deleted for age.
    pub expired_buckets: u64,
    /// Forecasts deleted for age (issued before the buckets' age limit).
    pub expired_forecasts: u64,
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
    /// Oldest stored raw reading's timestamp (`None` when no raw reading is stored).
    pub first_ts: Option<DateTime<Utc>>,
    /// Newest raw reading's timestamp committed (kept after retention folded it).
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
    /// Id of the chunk that holds the reading (grows with arrival order; every reading of
    /// a chunk has the same id, and a sink's cursor moves chunk by chunk).
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
    writer: Writer,
}

/// What the writer keeps between commits.
#[derive(Debug, Default)]
struct Writer {
    /// Point name to id.
    point_ids: FastMap<String, i64>,
    /// Point id to the largest timestamp stored, loaded by the first commit. `None` until
    /// then, and after a failed commit (which may or may not have reached the file).
    max_ts: Option<FastMap<i64, i64>>,
    /// Buffers reused from commit to commit: (point id, ts, value) of a commit, one
    /// point's readings, stored timestamps looked up, a chunk's bytes.
    rows: Vec<(i64, i64, f64)>,
    kept: Vec<(i64, f64)>,
    stored: Vec<(i64, f64)>,
    stored_ts: Vec<i64>,
    data: Vec<u8>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS points(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS chunks(
    id INTEGER PRIMARY KEY,
    point_id INTEGER NOT NULL,
    first_ms INTEGER NOT NULL,
    last_ms INTEGER NOT NULL,
    count INTEGER NOT NULL,
    data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_point_last ON chunks(point_id, last_ms, first_ms);
CREATE INDEX IF NOT EXISTS chunks_first ON chunks(first_ms);
CREATE TABLE IF NOT EXISTS downsampled(
    point_id INTEGER NOT NULL,
    bucket_ms INTEGER NOT NULL,
    mean REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY(point_id, bucket_ms)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rejected(reason TEXT PRIMARY KEY, count INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sink_cursor(sink TEXT PRIMARY KEY, last_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS point_stats(
    point_id INTEGER PRIMARY KEY,
    readings INTEGER NOT NULL,
    first_ms INTEGER,
    last_ms INTEGER,
    last_value REAL,
    max_span_ms INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS forecasts(
    id INTEGER PRIMARY KEY,
    issued_ms INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS forecasts_issued ON forecasts(issued_ms);
";

/// Version of the store's layout (`PRAGMA user_version`): 0 before `point_stats` and
/// `forecasts`, 1 with them.
pub const STORE_VERSION: i64 = 1;

/// The tables of a store at [`STORE_VERSION`].
const TABLES: [&str; 8] = [
    "points",
    "chunks",
    "downsampled",
    "rejected",
    "counters",
    "sink_cursor",
    "point_stats",
    "forecasts",
];

/// Folds one commit's chunk of a point into its `point_stats` row.
const POINT_STATS_ADD: &str =
    "INSERT INTO point_stats(point_id, readings, first_ms, last_ms, last_value, max_span_ms)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
     ON CONFLICT(point_id) DO UPDATE SET
       readings = readings + excluded.readings,
       first_ms = MIN(COALESCE(first_ms, excluded.first_ms), excluded.first_ms),
       last_value = CASE WHEN last_ms IS NULL OR excluded.last_ms > last_ms
                         THEN excluded.last_value ELSE last_value END,
       last_ms = MAX(COALESCE(last_ms, excluded.last_ms), excluded.last_ms),
       max_span_ms = MAX(max_span_ms, excluded.max_span_ms)";

/// The chunks of one point that can hold a timestamp in `[?2, ?3]`.
const CHUNKS_OF_POINT_IN: &str = "SELECT id, first_ms, last_ms, count, data FROM chunks
     WHERE point_id = ?1 AND last_ms >= ?2 AND first_ms <= ?3";

/// The chunks retention folds: every reading older than the cutoff `?1`, forwarded by
/// every sink (id at most `?2`). Through the `first_ms` index: `+id` keeps the planner
/// from walking the rowids, nearly all of which pass.
const FOLDABLE: &str = "FROM chunks WHERE first_ms < ?1 AND last_ms < ?1 AND +id <= ?2";

fn ts_of(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

impl Store {
    /// Opens (creating if needed) the store at `path`; a store with the readings table of
    /// earlier versions is migrated into chunks first. A damaged file (cut short, or pages
    /// SQLite's `quick_check` finds wrong) is [`Error::Damaged`], and nothing is written.
    pub fn open(path: &Path, durability: Durability) -> Result<Self> {
        let err = store_err(path);
        let mut conn = Connection::open(path).map_err(&err)?;
        // Checked before the first write (the journal mode is written in the header).
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(&err)?;
        check::check_file(&conn, path)?;
        check::quick_check(&conn, path)?;
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
        migrate_readings(&mut conn, path)?;
        upgrade(&mut conn, path)?;
        Ok(Self {
            conn,
            path: path.to_owned(),
            writer: Writer::default(),
        })
    }

    /// Opens an existing store (upgrading its layout if it is older); fails if the file
    /// does not exist. To only read, open a [`Reader`].
    pub fn open_existing(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::NoStore {
                path: path.display().to_string(),
            });
        }
        Self::open(path, Durability::Normal)
    }

    fn err(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        store_err(&self.path)
    }

    /// Commits readings and rejection counts in one transaction: per point, one chunk of
    /// its new readings. Readings whose (point, timestamp) is already stored, or came
    /// earlier in the same commit, are dropped and counted as duplicates.
    pub fn commit<'a>(
        &mut self,
        readings: impl IntoIterator<Item = &'a Reading>,
        rejected: impl IntoIterator<Item = Reason>,
    ) -> Result<Committed> {
        let err = store_err(&self.path);
        // IMMEDIATE: the write lock is taken (or waited for) at the start, so that a sink
        // moving its cursor between this transaction's first read and first write cannot
        // make it fail.
        let outcome = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)
            .and_then(|tx| {
                let done = self.writer.write(&tx, &self.path, readings, rejected)?;
                tx.commit().map_err(&err)?;
                Ok(done)
            });
        if outcome.is_err() {
            // The point ids and timestamps of a rolled-back transaction may not exist;
            // those of a failed COMMIT may. Both caches are rebuilt from the file.
            self.writer.point_ids.clear();
            self.writer.max_ts = None;
        }
        outcome
    }

    /// Summary of the store.
    pub fn stats(&self) -> Result<Stats> {
        read_stats(&self.conn, &self.path)
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
        let Some(point_id) = self
            .conn
            .query_row("SELECT id FROM points WHERE name = ?1", [point], |r| {
                r.get::<_, i64>(0)
            })
            .optional()
            .map_err(&err)?
        else {
            return Ok(Vec::new());
        };
        let mut rows = Vec::new();
        let mut q = self
            .conn
            .prepare(
                "SELECT bucket_ms, mean, min, max, count FROM downsampled
                 WHERE point_id = ?1 AND bucket_ms BETWEEN ?2 AND ?3",
            )
            .map_err(&err)?;
        let buckets = q
            .query_map(params![point_id, from_ms, to_ms], |r| {
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
        let mut raw = Vec::new();
        for_each_chunk(
            &self.conn,
            &self.path,
            CHUNKS_OF_POINT_IN,
            params![point_id, from_ms, to_ms],
            &mut raw,
            |_, _| Ok(()),
        )?;
        rows.extend(
            raw.into_iter()
                .filter(|&(ts, _)| (from_ms..=to_ms).contains(&ts))
                .map(|(ts, value)| HistoryRow {
                    ts: ts_of(ts),
                    value,
                    min: value,
                    max: value,
                    count: 1,
                }),
        );
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

    /// Downsamples the chunks whose readings are all older than the retention's raw age
    /// (a chunk straddling the cutoff waits for a later pass) and deletes old buckets.
    /// Chunks a sink has not forwarded yet are kept.
    pub fn maintain(&mut self, now: DateTime<Utc>, retention: &Retention) -> Result<Maintained> {
        let err = store_err(&self.path);
        let cutoff_ms = now.timestamp_millis() - retention.raw_max_age_s * 1000;
        let bucket_ms = retention.bucket_s.max(1) * 1000;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let sink_min: Option<i64> = tx
            .query_row("SELECT MIN(last_id) FROM sink_cursor", [], |r| r.get(0))
            .map_err(&err)?;
        let limit_id = sink_min.unwrap_or(i64::MAX);
        // Per (point, bucket): Neumaier-compensated sum (as SQLite's AVG), min, max, count.
        let mut folds: BTreeMap<(i64, i64), Fold> = BTreeMap::new();
        let mut readings = Vec::new();
        for_each_chunk(
            &tx,
            &self.path,
            &format!("SELECT id, first_ms, last_ms, count, data, point_id {FOLDABLE}"),
            params![cutoff_ms, limit_id],
            &mut readings,
            |row, readings| {
                let point_id: i64 = row.get(5)?;
                for &(ts, value) in readings.iter() {
                    // SQL's (ts_ms / bucket) * bucket: division towards zero.
                    folds
                        .entry((point_id, (ts / bucket_ms) * bucket_ms))
                        .or_default()
                        .add(value);
                }
                readings.clear();
                Ok(())
            },
        )?;
        let mut folded: i64 = 0;
        // Per point: readings folded and the earliest bucket they went into.
        let mut per_point: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
        for (&(point_id, bucket), f) in &folds {
            let p = per_point.entry(point_id).or_insert((0, bucket));
            p.0 += f.count;
            p.1 = p.1.min(bucket);
        }
        {
            let mut upsert = tx
                .prepare(
                    "INSERT INTO downsampled(point_id, bucket_ms, mean, min, max, count)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT(point_id, bucket_ms) DO UPDATE SET
                       mean = (mean * count + excluded.mean * excluded.count) / (count + excluded.count),
                       min = MIN(min, excluded.min), max = MAX(max, excluded.max),
                       count = count + excluded.count",
                )
                .map_err(&err)?;
            for ((point_id, bucket), f) in &folds {
                upsert
                    .execute(params![point_id, bucket, f.mean(), f.min, f.max, f.count])
                    .map_err(&err)?;
                folded += f.count;
            }
        }
        // The same predicate in the same transaction: the chunks just folded.
        tx.execute(&format!("DELETE {FOLDABLE}"), params![cutoff_ms, limit_id])
            .map_err(&err)?;
        add_counter(&tx, "readings", -folded).map_err(&err)?;
        add_counter(&tx, "downsampled_readings", folded).map_err(&err)?;
        {
            // A point's history now starts at its earliest bucket at the latest.
            let mut update = tx
                .prepare(
                    "UPDATE point_stats SET readings = MAX(readings - ?2, 0),
                       first_ms = MIN(COALESCE(first_ms, ?3), ?3)
                     WHERE point_id = ?1",
                )
                .map_err(&err)?;
            for (point_id, (n, bucket)) in &per_point {
                update.execute(params![point_id, n, bucket]).map_err(&err)?;
            }
        }
        let expire_ms = now.timestamp_millis() - retention.downsampled_max_age_s * 1000;
        let expiring: Vec<i64> = tx
            .prepare("SELECT point_id FROM point_stats WHERE first_ms < ?1")
            .and_then(|mut q| q.query_map([expire_ms], |r| r.get(0))?.collect())
            .map_err(&err)?;
        let expired = tx
            .execute("DELETE FROM downsampled WHERE bucket_ms < ?1", [expire_ms])
            .map_err(&err)?;
        {
            // The history of a point whose oldest buckets expired starts at its oldest
            // bucket left, or else its oldest raw reading (a chunk a sink still holds).
            let mut update = tx
                .prepare(
                    "UPDATE point_stats SET first_ms = COALESCE(
                       (SELECT MIN(bucket_ms) FROM downsampled WHERE point_id = ?1),
                       (SELECT MIN(first_ms) FROM chunks WHERE point_id = ?1))
                     WHERE point_id = ?1",
                )
                .map_err(&err)?;
            for point_id in &expiring {
                update.execute([point_id]).map_err(&err)?;
            }
        }
        let expired_forecasts = tx
            .execute("DELETE FROM forecasts WHERE issued_ms < ?1", [expire_ms])
            .map_err(&err)?;
        tx.commit().map_err(&err)?;
        Ok(Maintained {
            downsampled: folded as u64,
            expired_buckets: expired as u64,
            expired_forecasts: expired_forecasts as u64,
        })
    }

    /// Registers a sink (its cursor starts before every stored chunk) if it is new.
    pub fn register_sink(&self, sink: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO sink_cursor(sink, last_id) VALUES (?1, 0)",
                [sink],
            )
            .map(|_| ())
            .map_err(self.err())
    }

    /// Readings stored after the sink's cursor, oldest chunk first: whole chunks, as many
    /// as fit in `limit` readings, and always the first pending chunk (however large).
    pub fn after_cursor(&self, sink: &str, limit: usize) -> Result<Vec<StoredReading>> {
        let err = self.err();
        let mut q = self
            .conn
            .prepare_cached(
                "SELECT c.id, c.first_ms, c.last_ms, c.count, c.data, p.name
                 FROM chunks c JOIN points p ON p.id = c.point_id
                 WHERE c.id > (SELECT last_id FROM sink_cursor WHERE sink = ?1)
                 ORDER BY c.id LIMIT ?2",
            )
            .map_err(&err)?;
        let mut rows = q.query(params![sink, limit.max(1) as i64]).map_err(&err)?;
        let mut out = Vec::new();
        let mut readings = Vec::new();
        while let Some(row) = rows.next().map_err(&err)? {
            let c = ChunkRow::read(row).map_err(&err)?;
            if !out.is_empty() && out.len() + c.count.max(0) as usize > limit {
                break;
            }
            let point: String = row.get(5).map_err(&err)?;
            readings.clear();
            c.decode(&self.path, &mut readings)?;
            out.extend(readings.iter().map(|&(ts_ms, value)| StoredReading {
                id: c.id,
                point: point.clone(),
                ts_ms,
                value,
            }));
        }
        Ok(out)
    }

    /// Moves the sink's cursor to chunk `last_id` (everything up to it was forwarded).
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
        pending(&self.conn, &self.path, sink)
    }
}

/// Readings not yet forwarded by `sink`.
fn pending(conn: &Connection, path: &Path, sink: &str) -> Result<u64> {
    let n: i64 = conn
        .query_row(
            "SELECT COALESCE(SUM(count), 0) FROM chunks
             WHERE id > (SELECT last_id FROM sink_cursor WHERE sink = ?1)",
            [sink],
            |r| r.get(0),
        )
        .map_err(store_err(path))?;
    Ok(n.max(0) as u64)
}

/// The summary of the store on `conn` ([`Store::stats`], [`Reader::stats`]).
fn read_stats(c: &Connection, path: &Path) -> Result<Stats> {
    let err = store_err(path);
    let counter = |name: &str| -> Result<Option<i64>> {
        c.query_row("SELECT value FROM counters WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map_err(&err)
    };
    let count = |name: &str| -> Result<u64> { Ok(counter(name)?.unwrap_or(0).max(0) as u64) };
    let rows = |sql: &str| -> Result<u64> {
        let v: i64 = c.query_row(sql, [], |r| r.get(0)).map_err(&err)?;
        Ok(v.max(0) as u64)
    };
    let mut rejected: BTreeMap<String, u64> =
        Reason::ALL.iter().map(|r| (r.as_str().to_owned(), 0)).collect();
    let mut q = c.prepare("SELECT reason, count FROM rejected").map_err(&err)?;
    let reasons = q
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .map_err(&err)?;
    for row in reasons {
        let (reason, n) = row.map_err(&err)?;
        rejected.insert(reason, n.max(0) as u64);
    }
    let first: Option<i64> = c
        .query_row("SELECT MIN(first_ms) FROM chunks", [], |r| r.get(0))
        .map_err(&err)?;
    let mut sink_pending = BTreeMap::new();
    let mut q = c.prepare("SELECT sink FROM sink_cursor").map_err(&err)?;
    let sinks: Vec<String> = q
        .query_map([], |r| r.get(0))
        .map_err(&err)?
        .collect::<Result<_, _>>()
        .map_err(&err)?;
    for sink in sinks {
        let n = pending(c, path, &sink)?;
        sink_pending.insert(sink, n);
    }
    Ok(Stats {
        readings: count("readings")?,
        points: rows("SELECT COUNT(*) FROM points")?,
        rejected,
        duplicates: count("duplicates")?,
        downsampled_readings: count("downsampled_readings")?,
        buckets: rows("SELECT COUNT(*) FROM downsampled")?,
        first_ts: first.map(ts_of),
        last_ts: counter("last_ts_ms")?.map(ts_of),
        sink_pending,
    })
}

impl Writer {
    /// Writes one commit's chunks and counts in `tx`, and moves `max_ts` on (the caller
    /// drops it if the transaction does not commit).
    fn write<'a>(
        &mut self,
        tx: &Transaction<'_>,
        path: &Path,
        readings: impl IntoIterator<Item = &'a Reading>,
        rejected: impl IntoIterator<Item = Reason>,
    ) -> Result<Committed> {
        let err = store_err(path);
        let mut done = Committed::default();
        self.rows.clear();
        for r in readings {
            let point_id = match self.point_ids.get(r.point.as_str()) {
                Some(&id) => id,
                None => {
                    let id = point_id(tx, r.point.as_str()).map_err(&err)?;
                    self.point_ids.insert(r.point.as_str().to_owned(), id);
                    id
                }
            };
            self.rows.push((point_id, r.ts.timestamp_millis(), r.value));
        }
        // Stable: of two readings with one (point, ts), the first to arrive stays.
        self.rows.sort_by_key(|&(p, t, _)| (p, t));
        if self.max_ts.is_none() {
            self.max_ts = Some(load_max_ts(tx).map_err(&err)?);
        }
        let max_ts = self.max_ts.get_or_insert_default();
        let mut next_id: i64 = tx
            .prepare_cached(
                "SELECT MAX(COALESCE((SELECT value FROM counters WHERE name = 'last_chunk_id'), 0),
                            COALESCE((SELECT MAX(id) FROM chunks), 0)) + 1",
            )
            .and_then(|mut q| q.query_row([], |r| r.get(0)))
            .map_err(&err)?;
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO chunks(id, point_id, first_ms, last_ms, count, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(&err)?;
        let mut point_stats = tx.prepare_cached(POINT_STATS_ADD).map_err(&err)?;
        let mut last_ts: Option<i64> = None;
        let mut start = 0;
        while start < self.rows.len() {
            let point_id = self.rows[start].0;
            let end = start + self.rows[start..].partition_point(|r| r.0 == point_id);
            self.kept.clear();
            for &(_, ts, value) in &self.rows[start..end] {
                if self.kept.last().is_some_and(|&(t, _)| t == ts) {
                    done.duplicates += 1;
                } else {
                    self.kept.push((ts, value));
                }
            }
            start = end;
            let stored_max = max_ts.get(&point_id).copied();
            // Readings after the point's largest stored timestamp are new; the ones before
            // (sorted, so a prefix) are looked up in the chunks that can hold them.
            let late = stored_max.map_or(0, |m| self.kept.partition_point(|&(t, _)| t <= m));
            if late > 0 {
                self.stored.clear();
                for_each_chunk(
                    tx,
                    path,
                    CHUNKS_OF_POINT_IN,
                    params![point_id, self.kept[0].0, self.kept[late - 1].0],
                    &mut self.stored,
                    |_, _| Ok(()),
                )?;
                self.stored_ts.clear();
                self.stored_ts.extend(self.stored.iter().map(|r| r.0));
                self.stored_ts.sort_unstable();
                let before = self.kept.len();
                let mut i = 0;
                let stored_ts = &self.stored_ts;
                self.kept.retain(|&(t, _)| {
                    i += 1;
                    i > late || stored_ts.binary_search(&t).is_err()
                });
                done.duplicates += (before - self.kept.len()) as u64;
            }
            let (Some(&(first, _)), Some(&(last, last_value))) = (self.kept.first(), self.kept.last()) else {
                continue;
            };
            self.data.clear();
            chunk::encode(first, &self.kept, &mut self.data);
            insert
                .execute(params![
                    next_id,
                    point_id,
                    first,
                    last,
                    self.kept.len() as i64,
                    self.data.as_slice()
                ])
                .map_err(&err)?;
            point_stats
                .execute(params![
                    point_id,
                    self.kept.len() as i64,
                    first,
                    last,
                    last_value,
                    last.saturating_sub(first)
                ])
                .map_err(&err)?;
            next_id += 1;
            done.inserted += self.kept.len() as u64;
            max_ts.insert(point_id, stored_max.map_or(last, |m| m.max(last)));
            last_ts = Some(last_ts.map_or(last, |l| l.max(last)));
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
        add_counter(tx, "readings", done.inserted as i64).map_err(&err)?;
        add_counter(tx, "duplicates", done.duplicates as i64).map_err(&err)?;
        if let Some(last) = last_ts {
            set_bound(tx, "last_ts_ms", last, "MAX").map_err(&err)?;
            set_bound(tx, "last_chunk_id", next_id - 1, "MAX").map_err(&err)?;
        }
        Ok(done)
    }
}

/// Running fold of one bucket.
#[derive(Debug, Clone, Copy)]
struct Fold {
    sum: f64,
    compensation: f64,
    min: f64,
    max: f64,
    count: i64,
}

impl Default for Fold {
    fn default() -> Self {
        Self {
            sum: 0.0,
            compensation: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            count: 0,
        }
    }
}

impl Fold {
    fn add(&mut self, value: f64) {
        self.sum_in(value);
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.count += 1;
    }

    /// Adds a stored bucket: its sum (mean × count) as one term.
    fn add_bucket(&mut self, mean: f64, min: f64, max: f64, count: i64) {
        self.sum_in(mean * count as f64);
        self.min = self.min.min(min);
        self.max = self.max.max(max);
        self.count += count;
    }

    fn sum_in(&mut self, value: f64) {
        // Kahan-Babuska-Neumaier summation, as SQLite's SUM and AVG.
        let t = self.sum + value;
        if self.sum.abs() >= value.abs() {
            self.compensation += (self.sum - t) + value;
        } else {
            self.compensation += (value - t) + self.sum;
        }
        self.sum = t;
    }

    fn mean(&self) -> f64 {
        (self.sum + self.compensation) / self.count as f64
    }
}

/// The columns `id, first_ms, last_ms, count, data` of a chunk row.
struct ChunkRow<'r> {
    id: i64,
    first_ms: i64,
    last_ms: i64,
    count: i64,
    data: &'r [u8],
}

impl<'r> ChunkRow<'r> {
    fn read(row: &'r rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            first_ms: row.get(1)?,
            last_ms: row.get(2)?,
            count: row.get(3)?,
            data: row.get_ref(4)?.as_blob()?,
        })
    }

    /// Appends the chunk's readings to `out`, checking them against its columns.
    fn decode(&self, path: &Path, out: &mut Vec<(i64, f64)>) -> Result<()> {
        let corrupt = |reason| Error::Chunk {
            path: path.display().to_string(),
            chunk_id: self.id,
            reason,
        };
        if self.count <= 0 {
            return Err(corrupt(chunk::Corrupt::Count(self.count)));
        }
        let start = out.len();
        chunk::decode_into(self.first_ms, self.count as usize, self.data, out).map_err(corrupt)?;
        for (index, &(ts_ms, _)) in out[start..].iter().enumerate() {
            if !(self.first_ms..=self.last_ms).contains(&ts_ms) {
                return Err(corrupt(chunk::Corrupt::OutOfRange {
                    index,
                    ts_ms,
                    first_ms: self.first_ms,
                    last_ms: self.last_ms,
                }));
            }
        }
        Ok(())
    }
}

/// Runs `sql` (selecting `id, first_ms, last_ms, count, data` first) and, for each chunk,
/// appends its readings to `readings` and calls `each` with the row and `readings`.
fn for_each_chunk(
    conn: &Connection,
    path: &Path,
    sql: &str,
    params: impl rusqlite::Params,
    readings: &mut Vec<(i64, f64)>,
    mut each: impl FnMut(&rusqlite::Row<'_>, &mut Vec<(i64, f64)>) -> rusqlite::Result<()>,
) -> Result<()> {
    let err = store_err(path);
    let mut q = conn.prepare_cached(sql).map_err(&err)?;
    let mut rows = q.query(params).map_err(&err)?;
    while let Some(row) = rows.next().map_err(&err)? {
        ChunkRow::read(row).map_err(&err)?.decode(path, readings)?;
        each(row, readings).map_err(&err)?;
    }
    Ok(())
}

/// The largest timestamp stored per point id: one index search per point (rather than a
/// `GROUP BY` over the whole index, which reads every chunk's entry).
const MAX_TS: &str = "SELECT id, (SELECT MAX(last_ms) FROM chunks WHERE point_id = points.id) AS m
     FROM points WHERE m IS NOT NULL";

/// The largest timestamp stored per point id.
fn load_max_ts(conn: &Connection) -> rusqlite::Result<FastMap<i64, i64>> {
    let mut q = conn.prepare(MAX_TS)?;
    let rows = q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Readings per chunk when a readings table is migrated.
const MIGRATED_CHUNK_READINGS: usize = 1024;

/// Moves the rows of a `readings(id, point_id, ts_ms, value)` table (stores written
/// before chunks) into chunks and drops the table, in one transaction. The rows are cut
/// at every sink cursor so that a chunk is either forwarded or not, and the cursors move
/// to the chunk ids.
fn migrate_readings(conn: &mut Connection, path: &Path) -> Result<()> {
    let err = store_err(path);
    let has_readings = |c: &Connection| {
        c.query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'readings'",
            [],
            |_| Ok(()),
        )
        .optional()
        .map(|o| o.is_some())
    };
    if !has_readings(conn).map_err(&err)? {
        return Ok(());
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(&err)?;
    if !has_readings(&tx).map_err(&err)? {
        return Ok(()); // another process migrated it meanwhile
    }
    let cursors: Vec<(String, i64)> = tx
        .prepare("SELECT sink, last_id FROM sink_cursor")
        .and_then(|mut q| q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(&err)?;
    let mut bounds: Vec<i64> = cursors.iter().map(|c| c.1).collect();
    bounds.push(i64::MAX);
    bounds.sort_unstable();
    bounds.dedup();
    let mut out = Migrated {
        next_id: tx
            .query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM chunks", [], |r| r.get(0))
            .map_err(&err)?,
        readings: 0,
        last_ts: None,
    };
    let mut chunk_at: HashMap<i64, i64> = HashMap::new();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO chunks(id, point_id, first_ms, last_ms, count, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(&err)?;
        let mut q = tx
            .prepare(
                "SELECT point_id, ts_ms, value FROM readings WHERE id > ?1 AND id <= ?2
                 ORDER BY point_id, ts_ms",
            )
            .map_err(&err)?;
        let mut low = i64::MIN;
        for &high in &bounds {
            let mut rows = q.query(params![low, high]).map_err(&err)?;
            let mut readings: Vec<(i64, f64)> = Vec::new();
            let mut current = None;
            while let Some(row) = rows.next().map_err(&err)? {
                let point_id: i64 = row.get(0).map_err(&err)?;
                if current != Some(point_id) || readings.len() == MIGRATED_CHUNK_READINGS {
                    if let Some(p) = current {
                        out.flush(&mut insert, p, &mut readings).map_err(&err)?;
                    }
                    current = Some(point_id);
                }
                readings.push((row.get(1).map_err(&err)?, row.get(2).map_err(&err)?));
            }
            if let Some(p) = current {
                out.flush(&mut insert, p, &mut readings).map_err(&err)?;
            }
            chunk_at.insert(high, out.next_id - 1);
            low = high;
        }
    }
    for (sink, last_id) in &cursors {
        let chunk_id = chunk_at.get(last_id).copied().unwrap_or(0);
        tx.execute(
            "UPDATE sink_cursor SET last_id = ?2 WHERE sink = ?1",
            params![sink, chunk_id],
        )
        .map_err(&err)?;
    }
    if let Some(last) = out.last_ts {
        set_bound(&tx, "last_ts_ms", last, "MAX").map_err(&err)?;
        set_bound(&tx, "last_chunk_id", out.next_id - 1, "MAX").map_err(&err)?;
    }
    tx.execute_batch("DROP TABLE readings").map_err(&err)?;
    tx.commit().map_err(&err)?;
    info!(path = %path.display(), readings = out.readings, "Migrated the store's readings table into chunks.");
    Ok(())
}

/// Progress of a migration.
struct Migrated {
    next_id: i64,
    readings: u64,
    last_ts: Option<i64>,
}

impl Migrated {
    /// Writes `readings` (one point's, sorted by time) as the next chunk and empties it.
    fn flush(
        &mut self,
        insert: &mut rusqlite::Statement<'_>,
        point_id: i64,
        readings: &mut Vec<(i64, f64)>,
    ) -> rusqlite::Result<()> {
        let (Some(&(first, _)), Some(&(last, _))) = (readings.first(), readings.last()) else {
            return Ok(());
        };
        let mut data = Vec::new();
        chunk::encode(first, readings, &mut data);
        insert.execute(params![
            self.next_id,
            point_id,
            first,
            last,
            readings.len() as i64,
            data
        ])?;
        self.next_id += 1;
        self.readings += readings.len() as u64;
        self.last_ts = Some(self.last_ts.map_or(last, |l| l.max(last)));
        readings.clear();
        Ok(())
    }
}

/// Brings a store's layout to [`STORE_VERSION`], in one transaction: version 1 fills
/// `point_stats` from the chunks and buckets (the tables themselves are in [`SCHEMA`]).
fn upgrade(conn: &mut Connection, path: &Path) -> Result<()> {
    let err = store_err(path);
    let version = |c: &Connection| c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0));
    if version(conn).map_err(&err)? >= STORE_VERSION {
        return Ok(());
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(&err)?;
    if version(&tx).map_err(&err)? >= STORE_VERSION {
        return Ok(()); // another process upgraded it meanwhile
    }
    tx.execute_batch(
        "DELETE FROM point_stats;
         INSERT INTO point_stats(point_id, readings, first_ms, last_ms, last_value, max_span_ms)
           SELECT point_id, SUM(count), MIN(first_ms), MAX(last_ms), NULL, MAX(last_ms - first_ms)
           FROM chunks GROUP BY point_id;
         INSERT INTO point_stats(point_id, readings, first_ms, last_ms, last_value, max_span_ms)
           SELECT point_id, 0, MIN(bucket_ms), NULL, NULL, 0 FROM downsampled WHERE true
           GROUP BY point_id
           ON CONFLICT(point_id) DO UPDATE SET first_ms = MIN(first_ms, excluded.first_ms);",
    )
    .map_err(&err)?;
    // The latest value: the last reading of the chunk that ends last.
    let newest: Vec<i64> = tx
        .prepare(
            "SELECT (SELECT id FROM chunks WHERE point_id = s.point_id ORDER BY last_ms DESC LIMIT 1)
             FROM point_stats s WHERE s.last_ms IS NOT NULL",
        )
        .and_then(|mut q| q.query_map([], |r| r.get(0))?.collect())
        .map_err(&err)?;
    let mut points = 0u64;
    let mut readings = Vec::new();
    for id in newest {
        readings.clear();
        let found = for_each_chunk(
            &tx,
            path,
            "SELECT id, first_ms, last_ms, count, data, point_id FROM chunks WHERE id = ?1",
            [id],
            &mut readings,
            |row, readings| {
                let point_id: i64 = row.get(5)?;
                if let Some(&(_, value)) = readings.last() {
                    tx.execute(
                        "UPDATE point_stats SET last_value = ?2 WHERE point_id = ?1",
                        params![point_id, value],
                    )?;
                }
                Ok(())
            },
        );
        match found {
            Ok(()) => points += 1,
            // A damaged chunk costs its point's latest value, not the store.
            Err(e @ Error::Chunk { .. }) => warn!(error = %e, "No latest value for a point."),
            Err(e) => return Err(e),
        }
    }
    tx.pragma_update(None, "user_version", STORE_VERSION)
        .map_err(&err)?;
    tx.commit().map_err(&err)?;
    if points > 0 {
        info!(path = %path.display(), points, version = STORE_VERSION, "Upgraded the store's layout.");
    }
    Ok(())
}

/// A SQLite error on the store at `path`: [`Error::Damaged`] where SQLite found the file
/// corrupt, [`Error::Store`] otherwise.
fn store_err(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |reason| match reason.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => Error::NotAStore {
            path: path.display().to_string(),
            why: "not an SQLite database".to_owned(),
        },
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => Error::Damaged {
            path: path.display().to_string(),
            why: reason.to_string(),
        },
        _ => Error::Store {
            path: path.display().to_string(),
            reason,
        },
    }
}

fn point_id(tx: &Transaction<'_>, name: &str) -> rusqlite::Result<i64> {
    tx.execute("INSERT OR IGNORE INTO points(name) VALUES (?1)", [name])?;
    tx.query_row("SELECT id FROM points WHERE name = ?1", [name], |r| r.get(0))
}

/// Moves a bound counter to `MIN`/`MAX` of itself and `value`.
fn set_bound(tx: &Transaction<'_>, name: &str, value: i64, keep: &str) -> rusqlite::Result<()> {
    tx.execute(
        &format!(
            "INSERT INTO counters(name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = {keep}(value, excluded.value)"
        ),
        params![name, value],
    )?;
    Ok(())
}

fn add_counter(tx: &Transaction<'_>, name: &str, delta: i64) -> rusqlite::Result<()> {
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

    pub(super) fn reading(point: &str, ts_s: i64, value: f64) -> Reading {
        Reading {
            point: PointId::parse(point).unwrap(),
            ts: Utc.timestamp_opt(ts_s, 0).unwrap(),
            value,
        }
    }

    pub(super) fn temp_store() -> (tempdir::Dir, Store) {
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
        // Committed 5 at a time: chunks of 0..240, 300..540, 600..840 and 900..1140 s.
        let rows: Vec<_> = (0..20).map(|i| reading("x/power_kw", i * 60, i as f64)).collect();
        for part in rows.chunks(5) {
            store.commit(part, []).unwrap();
        }
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
        // One reading per commit: ten chunks of one reading.
        for i in 0..10 {
            store.commit(&[reading("x/power_kw", i, 1.0)], []).unwrap();
        }
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

    pub(super) fn reading_ms(point: &str, ts_ms: i64, value: f64) -> Reading {
        Reading {
            point: PointId::parse(point).unwrap(),
            ts: Utc.timestamp_millis_opt(ts_ms).unwrap(),
            value,
        }
    }

    /// Every raw (ts ms, value) of `point`, in time order.
    fn raw(store: &Store, point: &str) -> Vec<(i64, f64)> {
        store
            .history(point, None, None)
            .unwrap()
            .into_iter()
            .filter(|r| r.count == 1)
            .map(|r| (r.ts.timestamp_millis(), r.value))
            .collect()
    }

    /// A second connection to the store's file, as another program would open it.
    pub(super) fn raw_conn(store: &Store) -> Connection {
        Connection::open(&store.path).unwrap()
    }

    #[test]
    fn one_commit_writes_one_chunk_per_point_sorted_by_time() {
        let (_dir, mut store) = temp_store();
        let rows = [
            reading("a/power_kw", 30, 3.0),
            reading("b/power_kw", 5, 9.0),
            reading("a/power_kw", 10, 1.0),
            reading("a/power_kw", 20, 2.0),
        ];
        store.commit(&rows, []).unwrap();
        let conn = raw_conn(&store);
        let chunks: Vec<(String, i64, i64, i64, Vec<u8>)> = conn
            .prepare(
                "SELECT p.name, c.first_ms, c.last_ms, c.count, c.data FROM chunks c
                 JOIN points p ON p.id = c.point_id ORDER BY c.id",
            )
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(chunks.len(), 2);
        let (name, first, last, count, data) = &chunks[0];
        assert_eq!(
            (name.as_str(), *first, *last, *count),
            ("a/power_kw", 10_000, 30_000, 3)
        );
        assert_eq!(
            chunk::decode(*first, 3, data).unwrap(),
            [(10_000, 1.0), (20_000, 2.0), (30_000, 3.0)]
        );
        assert_eq!(chunks[1].3, 1);
    }

    #[test]
    fn late_and_redelivered_readings_are_told_apart_across_commits_and_reopening() {
        let dir = tempdir::Dir::new();
        let path = dir.path().join("s.db");
        let mut store = Store::open(&path, Durability::Normal).unwrap();
        // Stored: a at 10, 20, 30, 40 s (two chunks), b at 100 s.
        store
            .commit(
                &[reading("a/power_kw", 10, 1.0), reading("a/power_kw", 20, 2.0)],
                [],
            )
            .unwrap();
        store
            .commit(
                &[
                    reading("a/power_kw", 30, 3.0),
                    reading("a/power_kw", 40, 4.0),
                    reading("b/power_kw", 100, 5.0),
                ],
                [],
            )
            .unwrap();
        // Redelivered 20 and 40 (dropped even with another value), late 25 and 5 (new,
        // before the largest stored), 50 (new); 25 twice in the commit.
        let done = store
            .commit(
                &[
                    reading("a/power_kw", 20, 9.0),
                    reading("a/power_kw", 25, 2.5),
                    reading("a/power_kw", 40, 9.0),
                    reading("a/power_kw", 5, 0.5),
                    reading("a/power_kw", 25, 9.0),
                    reading("a/power_kw", 50, 5.0),
                ],
                [],
            )
            .unwrap();
        assert_eq!((done.inserted, done.duplicates), (3, 3));
        drop(store);
        // After reopening, the largest timestamps come from the file: 50 s for a.
        let mut store = Store::open(&path, Durability::Normal).unwrap();
        let done = store
            .commit(
                &[
                    reading("a/power_kw", 50, 9.0),  // redelivered, at the largest
                    reading("a/power_kw", 5, 9.0),   // redelivered late reading
                    reading("a/power_kw", 35, 3.5),  // late, new
                    reading("a/power_kw", 60, 6.0),  // new
                    reading("b/power_kw", 100, 9.0), // redelivered
                    reading("b/power_kw", 99, 4.9),  // late, new
                ],
                [],
            )
            .unwrap();
        assert_eq!((done.inserted, done.duplicates), (3, 3));
        assert_eq!(
            raw(&store, "a/power_kw"),
            [
                (5_000, 0.5),
                (10_000, 1.0),
                (20_000, 2.0),
                (25_000, 2.5),
                (30_000, 3.0),
                (35_000, 3.5),
                (40_000, 4.0),
                (50_000, 5.0),
                (60_000, 6.0)
            ]
        );
        assert_eq!(raw(&store, "b/power_kw"), [(99_000, 4.9), (100_000, 5.0)]);
        let stats = store.stats().unwrap();
        assert_eq!((stats.readings, stats.duplicates), (11, 6));
        assert_eq!(stats.first_ts, Some(Utc.timestamp_opt(5, 0).unwrap()));
        assert_eq!(stats.last_ts, Some(Utc.timestamp_opt(100, 0).unwrap()));
    }

    #[test]
    fn a_failed_commit_leaves_nothing_behind_and_its_readings_can_be_committed_again() {
        let (_dir, mut store) = temp_store();
        store.commit(&[reading("a/power_kw", 10, 1.0)], []).unwrap();
        // A trigger refuses chunks of the third point the store meets, so that the commit
        // fails after it created points and wrote chunks of the others.
        raw_conn(&store)
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON chunks WHEN NEW.point_id = 3
                 BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
            )
            .unwrap();
        let rows = [
            reading("a/power_kw", 20, 2.0),
            reading("b/power_kw", 20, 2.0),
            reading("c/power_kw", 20, 2.0),
        ];
        let failed = store.commit(&rows, []).unwrap_err();
        assert!(failed.to_string().contains("refused by the test"), "{failed}");
        raw_conn(&store).execute_batch("DROP TRIGGER refuse").unwrap();
        let stats = store.stats().unwrap();
        assert_eq!((stats.readings, stats.points, stats.duplicates), (1, 1, 0));
        // Nothing of the failed commit counts as stored: every reading is new again, and
        // the point ids it made are not reused.
        let done = store.commit(&rows, []).unwrap();
        assert_eq!((done.inserted, done.duplicates), (3, 0));
        for point in ["a/power_kw", "b/power_kw", "c/power_kw"] {
            assert!(raw(&store, point).contains(&(20_000, 2.0)), "{point}");
        }
        assert_eq!(store.commit(&rows, []).unwrap().duplicates, 3);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// Random commits over 3 points and 40 timestamps (many repeats, many readings
        /// before a point's largest), sometimes reopening the store in between, give the
        /// stored set and counts of a model that keeps the first value of a (point, ts).
        #[test]
        fn commits_with_repeats_store_what_a_first_value_model_keeps(
            commits in proptest::collection::vec(
                (
                    proptest::collection::vec((0usize..3, 0i64..40, -1000i32..1000), 0..30),
                    proptest::bool::weighted(0.2),
                ),
                1..12,
            )
        ) {
            let dir = tempdir::Dir::new();
            let path = dir.path().join("s.db");
            let mut store = Store::open(&path, Durability::Normal).unwrap();
            let mut model: BTreeMap<(usize, i64), f64> = BTreeMap::new();
            let (mut inserted, mut duplicates) = (0u64, 0u64);
            for (batch, reopen) in commits {
                if reopen {
                    drop(store);
                    store = Store::open(&path, Durability::Normal).unwrap();
                }
                let rows: Vec<Reading> = batch
                    .iter()
                    .map(|&(p, ts, v)| reading_ms(&format!("p{p}/power_kw"), ts, f64::from(v) / 8.0))
                    .collect();
                let (mut new, mut dup) = (0u64, 0u64);
                for &(p, ts, v) in &batch {
                    if let std::collections::btree_map::Entry::Vacant(e) = model.entry((p, ts)) {
                        e.insert(f64::from(v) / 8.0);
                        new += 1;
                    } else {
                        dup += 1;
                    }
                }
                let done = store.commit(&rows, []).unwrap();
                proptest::prop_assert_eq!((done.inserted, done.duplicates), (new, dup));
                inserted += new;
                duplicates += dup;
            }
            for p in 0..3 {
                let want: Vec<(i64, f64)> = model
                    .range((p, i64::MIN)..=(p, i64::MAX))
                    .map(|(&(_, ts), &v)| (ts, v))
                    .collect();
                proptest::prop_assert_eq!(raw(&store, &format!("p{p}/power_kw")), want);
            }
            let stats = store.stats().unwrap();
            proptest::prop_assert_eq!((stats.readings, stats.duplicates), (inserted, duplicates));
            proptest::prop_assert_eq!(stats.readings, model.len() as u64);
        }
    }

    #[test]
    fn retention_folds_whole_chunks_and_leaves_a_straddling_one_for_later() {
        let (_dir, mut store) = temp_store();
        let minute = |i: i64| reading("x/power_kw", i * 60, i as f64);
        // Chunks: 0..4 min, 5..9 min, 13..17 min; the cutoff at 15 min falls in the third.
        store.commit(&(0..5).map(minute).collect::<Vec<_>>(), []).unwrap();
        store
            .commit(&(5..10).map(minute).collect::<Vec<_>>(), [])
            .unwrap();
        store
            .commit(&(13..18).map(minute).collect::<Vec<_>>(), [])
            .unwrap();
        let retention = Retention {
            raw_max_age_s: 3600,
            bucket_s: 600,
            downsampled_max_age_s: 86_400,
        };
        let done = store
            .maintain(Utc.timestamp_opt(3600 + 15 * 60, 0).unwrap(), &retention)
            .unwrap();
        assert_eq!(done.downsampled, 10);
        let h = store.history("x/power_kw", None, None).unwrap();
        // Bucket 0 (minutes 0..9, mean 4.5), then the straddling chunk's 5 raw readings,
        // two of which are older than the cutoff.
        assert_eq!((h[0].count, h[0].value, h[0].min, h[0].max), (10, 4.5, 0.0, 9.0));
        assert_eq!(
            h[1..].iter().map(|r| (r.count, r.value)).collect::<Vec<_>>(),
            [(1, 13.0), (1, 14.0), (1, 15.0), (1, 16.0), (1, 17.0)]
        );
        let stats = store.stats().unwrap();
        assert_eq!((stats.readings, stats.downsampled_readings), (5, 10));
        assert_eq!(stats.first_ts, Some(Utc.timestamp_opt(13 * 60, 0).unwrap()));
        // Once the whole chunk is older, it is folded (into bucket 600 s: 780..1020 s).
        let done = store
            .maintain(Utc.timestamp_opt(3600 + 18 * 60, 0).unwrap(), &retention)
            .unwrap();
        assert_eq!(done.downsampled, 5);
        let h = store.history("x/power_kw", None, None).unwrap();
        assert_eq!(
            h.iter()
                .map(|r| (r.ts.timestamp(), r.count, r.value))
                .collect::<Vec<_>>(),
            [(0, 10, 4.5), (600, 5, 15.0)]
        );
        let stats = store.stats().unwrap();
        assert_eq!(
            (stats.readings, stats.downsampled_readings, stats.first_ts),
            (0, 15, None)
        );
        assert_eq!(stats.last_ts, Some(Utc.timestamp_opt(17 * 60, 0).unwrap()));
    }

    #[test]
    fn a_bucket_filled_over_several_passes_merges_mean_min_max_and_count() {
        let (_dir, mut store) = temp_store();
        let retention = Retention {
            raw_max_age_s: 60,
            bucket_s: 600,
            downsampled_max_age_s: 86_400,
        };
        // Bucket 0..600 s gets 1, 2 in a first pass and 6 in a second: mean 3, not the
        // mean of the means (3.75).
        store
            .commit(
                &[reading("x/power_kw", 10, 1.0), reading("x/power_kw", 20, 2.0)],
                [],
            )
            .unwrap();
        store
            .maintain(Utc.timestamp_opt(100, 0).unwrap(), &retention)
            .unwrap();
        store.commit(&[reading("x/power_kw", 30, 6.0)], []).unwrap();
        store
            .maintain(Utc.timestamp_opt(100, 0).unwrap(), &retention)
            .unwrap();
        let h = store.history("x/power_kw", None, None).unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!((h[0].count, h[0].value, h[0].min, h[0].max), (3, 3.0, 1.0, 6.0));
    }

    #[test]
    fn a_sink_reads_whole_chunks_and_its_cursor_moves_chunk_by_chunk() {
        let (_dir, mut store) = temp_store();
        store.register_sink("influx").unwrap();
        assert!(store.after_cursor("influx", 10).unwrap().is_empty());
        // Chunks of 3, 4 and 5 readings of one point, then one commit of two points.
        let mut t = 0;
        for n in [3, 4, 5] {
            let rows: Vec<_> = (0..n)
                .map(|_| {
                    t += 1;
                    reading("a/power_kw", t, t as f64)
                })
                .collect();
            store.commit(&rows, []).unwrap();
        }
        store
            .commit(
                &[reading("b/power_kw", 1, -1.0), reading("a/power_kw", 100, 0.0)],
                [],
            )
            .unwrap();
        assert_eq!(store.pending("influx").unwrap(), 14);
        let sizes = |batch: &[StoredReading]| {
            let mut ids: Vec<i64> = batch.iter().map(|r| r.id).collect();
            ids.dedup();
            ids.iter()
                .map(|id| batch.iter().filter(|r| r.id == *id).count())
                .collect::<Vec<_>>()
        };
        // Never a chunk split: 3 fits in 5, 3 + 4 does not; the first chunk always comes.
        assert_eq!(sizes(&store.after_cursor("influx", 5).unwrap()), [3]);
        assert_eq!(sizes(&store.after_cursor("influx", 7).unwrap()), [3, 4]);
        assert_eq!(sizes(&store.after_cursor("influx", 1).unwrap()), [3]);
        let batch = store.after_cursor("influx", 8).unwrap();
        assert_eq!(
            batch.iter().map(|r| r.ts_ms / 1000).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6, 7]
        );
        store.advance_cursor("influx", batch.last().unwrap().id).unwrap();
        assert_eq!(store.pending("influx").unwrap(), 7);
        assert_eq!(store.stats().unwrap().sink_pending["influx"], 7);
        let rest = store.after_cursor("influx", 1000).unwrap();
        assert_eq!(sizes(&rest), [5, 1, 1]);
        assert!(rest.iter().any(|r| r.point == "b/power_kw" && r.value == -1.0));
        // The cursor never moves back.
        store.advance_cursor("influx", 1).unwrap();
        assert_eq!(store.pending("influx").unwrap(), 7);
        store.advance_cursor("influx", rest.last().unwrap().id).unwrap();
        assert_eq!(store.pending("influx").unwrap(), 0);
        assert!(store.after_cursor("influx", 10).unwrap().is_empty());
        assert_eq!(store.pending("unknown").unwrap(), 0);
    }

    #[test]
    fn a_damaged_chunk_is_an_error_naming_it() {
        let (_dir, mut store) = temp_store();
        store.register_sink("influx").unwrap();
        store
            .commit(
                &[reading("a/power_kw", 10, 1.0), reading("a/power_kw", 20, 2.0)],
                [],
            )
            .unwrap();
        store.commit(&[reading("a/power_kw", 30, 3.0)], []).unwrap();
        let conn = raw_conn(&store);
        // Chunk 1 loses its last byte.
        conn.execute(
            "UPDATE chunks SET data = substr(data, 1, length(data) - 1) WHERE id = 1",
            [],
        )
        .unwrap();
        let e = store.history("a/power_kw", None, None).unwrap_err();
        assert!(matches!(e, Error::Chunk { chunk_id: 1, .. }), "{e:?}");
        assert!(
            e.to_string()
                .contains("chunk 1 is corrupt: the data ends inside reading 1 of 2"),
            "{e}"
        );
        assert!(matches!(
            store.after_cursor("influx", 10),
            Err(Error::Chunk { chunk_id: 1, .. })
        ));
        // A commit that must look into the chunk fails too; one after the largest does not.
        assert!(matches!(
            store.commit(&[reading("a/power_kw", 15, 1.5)], []),
            Err(Error::Chunk { chunk_id: 1, .. })
        ));
        assert_eq!(
            store
                .commit(&[reading("a/power_kw", 40, 4.0)], [])
                .unwrap()
                .inserted,
            1
        );
        // A count far beyond the data, and timestamps outside the chunk's range.
        conn.execute("UPDATE chunks SET count = 1000000000000 WHERE id = 2", [])
            .unwrap();
        conn.execute("UPDATE chunks SET last_ms = 35000 WHERE id = 3", [])
            .unwrap();
        let window = |from_s, to_s| {
            store
                .history(
                    "a/power_kw",
                    Some(Utc.timestamp_opt(from_s, 0).unwrap()),
                    Some(Utc.timestamp_opt(to_s, 0).unwrap()),
                )
                .unwrap_err()
                .to_string()
        };
        assert!(
            window(25, 30).contains("chunk 2 is corrupt: the data ends inside reading 1 of 1000000000000")
        );
        assert!(window(32, 41).contains(
            "chunk 3 is corrupt: reading 0 at 40000 ms lies outside the chunk's range [40000, 35000] ms"
        ));
    }

    #[test]
    fn a_store_with_a_readings_table_is_migrated_into_chunks_at_open() {
        let dir = tempdir::Dir::new();
        let path = dir.path().join("old.db");
        {
            // The layout before chunks, with 2,500 readings of 2 points (ids in arrival
            // order), a sink that forwarded the first 1,000, and a late reading.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE points(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
                 CREATE TABLE readings(id INTEGER PRIMARY KEY AUTOINCREMENT,
                     point_id INTEGER NOT NULL, ts_ms INTEGER NOT NULL, value REAL NOT NULL);
                 CREATE UNIQUE INDEX readings_point_ts ON readings(point_id, ts_ms);
                 CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                 CREATE TABLE sink_cursor(sink TEXT PRIMARY KEY, last_id INTEGER NOT NULL);
                 INSERT INTO points VALUES (1, 'a/power_kw'), (2, 'b/power_kw');
                 INSERT INTO counters VALUES ('readings', 2500), ('duplicates', 7);
                 INSERT INTO sink_cursor VALUES ('influx', 1000);",
            )
            .unwrap();
            let tx = conn.unchecked_transaction().unwrap();
            let mut insert = tx
                .prepare("INSERT INTO readings(point_id, ts_ms, value) VALUES (?1, ?2, ?3)")
                .unwrap();
            for i in 0..2499i64 {
                insert.execute(params![1 + i % 2, 10_000 + i, i as f64]).unwrap();
            }
            insert.execute(params![1, 5, -5.0]).unwrap();
            drop(insert);
            tx.commit().unwrap();
        }
        let mut store = Store::open(&path, Durability::Normal).unwrap();
        let conn = raw_conn(&store);
        let tables: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'readings'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0, "the readings table is dropped");
        let stats = store.stats().unwrap();
        assert_eq!((stats.readings, stats.duplicates), (2500, 7));
        assert_eq!(stats.sink_pending["influx"], 1500);
        assert_eq!(stats.first_ts, Some(Utc.timestamp_millis_opt(5).unwrap()));
        assert_eq!(
            stats.last_ts,
            Some(Utc.timestamp_millis_opt(10_000 + 2498).unwrap())
        );
        let a = raw(&store, "a/power_kw");
        assert_eq!(a.len(), 1251);
        assert_eq!(a[0], (5, -5.0));
        assert_eq!(a[1250], (10_000 + 2498, 2498.0));
        // What the sink still has to forward is what it had: readings 1000.. of the old ids.
        let mut pending: Vec<i64> = store
            .after_cursor("influx", 10_000)
            .unwrap()
            .iter()
            .map(|r| r.ts_ms)
            .collect();
        pending.sort_unstable();
        let mut want: Vec<i64> = (1000..2499).map(|i| 10_000 + i).collect();
        want.insert(0, 5);
        assert_eq!(pending, want);
        // Migrated readings deduplicate like committed ones.
        let done = store
            .commit(
                &[
                    reading_ms("a/power_kw", 5, 0.0),
                    reading_ms("b/power_kw", 10_001, 0.0),
                    reading_ms("b/power_kw", 6, 0.0),
                ],
                [],
            )
            .unwrap();
        assert_eq!((done.inserted, done.duplicates), (1, 2));
        // A second open finds nothing to migrate.
        drop(store);
        assert_eq!(
            Store::open(&path, Durability::Normal)
                .unwrap()
                .stats()
                .unwrap()
                .readings,
            2501
        );
    }

    #[test]
    fn the_chunk_queries_use_their_indexes() {
        let (_dir, store) = temp_store();
        let plan = |sql: &str| -> String {
            let sql = sql.replace("?1", "1").replace("?2", "2").replace("?3", "3");
            let mut q = store.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let rows = q.query_map([], |r| r.get::<_, String>(3)).unwrap();
            rows.map(Result::unwrap).collect::<Vec<_>>().join("; ")
        };
        let lookup = plan(CHUNKS_OF_POINT_IN);
        assert!(
            lookup.contains("USING INDEX chunks_point_last (point_id=? AND last_ms>?)"),
            "{lookup}"
        );
        let max = plan(MAX_TS);
        assert!(
            max.contains("SEARCH chunks USING COVERING INDEX chunks_point_last (point_id=?)"),
            "{max}"
        );
        let first = plan("SELECT MIN(first_ms) FROM chunks");
        assert!(first.contains("chunks_first"), "{first}");
        let fold = plan(&format!("SELECT id {FOLDABLE}"));
        assert!(fold.contains("USING INDEX chunks_first (first_ms<?)"), "{fold}");
        let delete = plan(&format!("DELETE {FOLDABLE}"));
        assert!(
            delete.contains("USING INDEX chunks_first (first_ms<?)"),
            "{delete}"
        );
    }

    /// A temporary directory removed on drop (no extra dependency).
    pub(super) mod tempdir {
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
