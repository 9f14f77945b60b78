//! The store opened for reading only: what the live service's queries use while the
//! intake's writer commits beside them.
//!
//! Every connection is opened with SQLite's read-only flag (and `query_only` set): a
//! reader never creates a file, the schema or a row, and never migrates anything; a store
//! that is missing, is not a store, or has an older layout is an error saying so
//! ([`Error::NoStore`], [`Error::NotAStore`], [`Error::Outdated`]): the writer
//! ([`Store::open`](super::Store::open)) creates and upgrades it.
//!
//! A [`Reader`] is shared between threads (`Arc<Reader>`): it holds a small pool of
//! connections, opened on demand up to a bound (4 by default), each call taking one for
//! its duration. In WAL mode readers block neither each other nor the writer, so a pool
//! lets a long history scan and the per-poll [`Reader::points`] run at once, where one
//! connection behind a mutex would queue every request behind the slowest; and, unlike
//! a connection per call, a pooled connection keeps SQLite's page cache and its prepared
//! statements from call to call. A call that reads more than one table does it in one
//! read transaction, so that it sees one commit's state throughout. Calls block (they are
//! SQLite's): async code makes them in `tokio::task::spawn_blocking`.
//!
//! SQLite itself may create the `-wal` and `-shm` files beside the store when no writer
//! has them open (every WAL reader needs them); the database file is never written.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use ingest::store::{Durability, Reader, Store};
//! use models::telemetry::{PointId, Reading};
//!
//! let dir = std::env::temp_dir().join(format!("reader-doctest-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("s.db");
//! let mut store = Store::open(&path, Durability::Normal).unwrap();
//! let point = PointId::parse("hall-a/rack-0007/power_kw").unwrap();
//! let rows: Vec<Reading> = (0..5)
//!     .map(|i| Reading { point: point.clone(), ts: Utc.timestamp_opt(i * 60, 0).unwrap(), value: i as f64 })
//!     .collect();
//! store.commit(&rows, []).unwrap();
//!
//! let reader = Reader::open(&path).unwrap();
//! assert_eq!(reader.points().unwrap()[0].latest.unwrap().value, 4.0);
//! // Two readings a page: the cursor continues after the last row of a page.
//! let page = reader.history(point.as_str(), None, None, None, 2, None).unwrap();
//! assert_eq!(page.rows.iter().map(|r| r.value).collect::<Vec<_>>(), [0.0, 1.0]);
//! let page = reader.history(point.as_str(), None, None, None, 2, page.next).unwrap();
//! assert_eq!(page.rows.iter().map(|r| r.value).collect::<Vec<_>>(), [2.0, 3.0]);
//! // Buckets of 2 minutes: mean, min, max, count.
//! let step = std::time::Duration::from_secs(120);
//! let page = reader.history(point.as_str(), None, None, Some(step), 10, None).unwrap();
//! assert_eq!(page.rows.iter().map(|r| (r.value, r.count)).collect::<Vec<_>>(), [(0.5, 2), (2.5, 2), (4.0, 1)]);
//! assert_eq!(page.next, None);
//! # drop((store, reader));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};
use serde::Serialize;

use super::{Fold, HistoryRow, STORE_VERSION, Stats, TABLES, for_each_chunk, read_stats, store_err, ts_of};
use crate::{Error, Result};

/// Connections a [`Reader::open`] pool holds at most.
pub const DEFAULT_CONNECTIONS: usize = 4;

/// How long a reader waits for a lock SQLite needs briefly (WAL recovery, a checkpoint
/// resetting the log).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The chunks of a point that can hold a reading in `[?2, ?4]`: `?3` is `?4` plus the
/// point's widest chunk span, so that the index range on `last_ms` is bounded.
const WINDOW_CHUNKS: &str = "SELECT id, first_ms, last_ms, count, data FROM chunks
     WHERE point_id = ?1 AND last_ms BETWEEN ?2 AND ?3 AND first_ms <= ?4";

/// The smallest `last_ms` at or after `?2` of a point's chunks (one index search).
const NEXT_CHUNK_END: &str = "SELECT MIN(last_ms) FROM chunks WHERE point_id = ?1 AND last_ms >= ?2";

/// Every point with its summary.
const POINTS: &str = "SELECT p.name, s.readings, s.first_ms, s.last_ms, s.last_value
     FROM points p LEFT JOIN point_stats s ON s.point_id = p.id ORDER BY p.name";

/// A store opened read-only, shared between threads. See the [module](self) page.
#[derive(Debug)]
pub struct Reader {
    path: PathBuf,
    pool: Pool,
}

/// The newest reading of a point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatestReading {
    /// Its timestamp.
    pub ts: DateTime<Utc>,
    /// Its value, in the point's canonical unit.
    pub value: f64,
}

/// One point of the store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PointSummary {
    /// Point id.
    pub point: String,
    /// Raw readings stored (the ones retention has folded into buckets are not counted).
    pub readings: u64,
    /// Start of the point's history: its oldest downsampled bucket, or its oldest raw
    /// reading when it has no bucket.
    pub first_ts: Option<DateTime<Utc>>,
    /// The newest reading committed (kept after retention folds it), whose timestamp is
    /// the point's last; `None` only for a point whose readings were all folded before
    /// the store kept latest values.
    pub latest: Option<LatestReading>,
}

/// One page of history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryPage {
    /// Rows in time order: raw readings (count 1), or buckets of the step asked for.
    pub rows: Vec<HistoryRow>,
    /// Where the next page starts: pass it as `after`. `None` when this page holds the
    /// last row of the range.
    pub next: Option<DateTime<Utc>>,
}

impl Reader {
    /// Opens the store at `path` for reading, with up to [`DEFAULT_CONNECTIONS`]
    /// connections.
    pub fn open(path: &Path) -> Result<Self> {
        Self::with_connections(path, DEFAULT_CONNECTIONS)
    }

    /// Opens the store at `path` for reading, with up to `connections` connections (at
    /// least 1). The file must be a store at the current layout.
    pub fn with_connections(path: &Path, connections: usize) -> Result<Self> {
        let shown = || path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|reason| {
            if reason.kind() == std::io::ErrorKind::NotFound {
                Error::NoStore { path: shown() }
            } else {
                Error::Io {
                    what: format!("reading {}", path.display()),
                    reason,
                }
            }
        })?;
        let not_a_store = |why: &str| Error::NotAStore {
            path: shown(),
            why: why.to_owned(),
        };
        if !meta.is_file() {
            return Err(not_a_store("not a file"));
        }
        if meta.len() == 0 {
            return Err(not_a_store("the file is empty"));
        }
        let conn = open_read_only(path)?;
        super::check::check_file(&conn, path)?;
        check_layout(&conn, path)?;
        Ok(Self {
            path: path.to_owned(),
            pool: Pool {
                state: Mutex::new(PoolState {
                    idle: vec![conn],
                    open: 1,
                }),
                returned: Condvar::new(),
                max: connections.max(1),
            },
        })
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every point, by id, with its raw reading count, the start of its history and its
    /// latest reading: one row of `point_stats` per point, whatever the store holds.
    pub fn points(&self) -> Result<Vec<PointSummary>> {
        let conn = self.conn()?;
        let err = store_err(&self.path);
        let mut q = conn.prepare_cached(POINTS).map_err(&err)?;
        let rows = q
            .query_map([], |r| {
                Ok(PointSummary {
                    point: r.get(0)?,
                    readings: r.get::<_, Option<i64>>(1)?.unwrap_or(0).max(0) as u64,
                    first_ts: r.get::<_, Option<i64>>(2)?.map(ts_of),
                    latest: latest_of(r.get(3)?, r.get(4)?),
                })
            })
            .map_err(&err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(&err)
    }

    /// The latest reading of `point`; `None` if it has none (see
    /// [`PointSummary::latest`]). A point the store does not know is [`Error::NotFound`].
    pub fn latest(&self, point: &str) -> Result<Option<LatestReading>> {
        let conn = self.conn()?;
        let row: Option<(Option<i64>, Option<f64>)> = conn
            .prepare_cached(
                "SELECT s.last_ms, s.last_value FROM points p
                 LEFT JOIN point_stats s ON s.point_id = p.id WHERE p.name = ?1",
            )
            .and_then(|mut q| q.query_row([point], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(store_err(&self.path))?;
        match row {
            Some((ts, value)) => Ok(latest_of(ts, value)),
            None => Err(no_point(point)),
        }
    }

    /// One page of the history of `point` in `[from, to]` (either open), after the
    /// cursor `after` (the `next` of the page before).
    ///
    /// Without a `step`, the raw readings (count 1), at most `limit` of them; readings
    /// retention has folded into buckets are not raw any more (ask with a step). With a
    /// `step` (a whole number of milliseconds), rows are buckets of that width aligned on
    /// the epoch (`ts` the bucket's start, which for the first row may lie before
    /// `from`): mean, min, max and count of the raw readings in `[from, to]` and of the
    /// stored buckets whose start is in `[from, to]`, a stored bucket counted whole in
    /// the step bucket that holds its start (a step finer than the store's buckets gives
    /// one row per stored bucket there); at most `limit` buckets.
    ///
    /// Each page is read in one transaction; between pages the writer may commit (a late
    /// reading before the cursor is not seen by later pages) and retention may fold raw
    /// readings older than its age into buckets.
    ///
    /// Errors: a point the store does not know is [`Error::NotFound`]; `from` after
    /// `to`, a zero `limit` or a step that is not a positive whole number of milliseconds
    /// is [`Error::Query`].
    pub fn history(
        &self,
        point: &str,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        step: Option<Duration>,
        limit: usize,
        after: Option<DateTime<Utc>>,
    ) -> Result<HistoryPage> {
        if limit == 0 {
            return Err(Error::Query("limit must be at least 1".into()));
        }
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(Error::Query(format!(
                    "the time range ends ({}) before it starts ({})",
                    t.to_rfc3339(),
                    f.to_rfc3339()
                )));
            }
        }
        let step_ms = match step {
            None => None,
            Some(s) => match i64::try_from(s.as_millis()) {
                Ok(ms) if ms > 0 && s.subsec_nanos() % 1_000_000 == 0 => Some(ms),
                _ => {
                    return Err(Error::Query(format!(
                        "step {s:?} is not a positive whole number of milliseconds"
                    )));
                }
            },
        };
        let range = Range {
            from_ms: from.map_or(i64::MIN, |t| t.timestamp_millis()),
            to_ms: to.map_or(i64::MAX, |t| t.timestamp_millis()),
            after_ms: after.map(|t| t.timestamp_millis()),
        };
        let mut conn = self.conn()?;
        let err = store_err(&self.path);
        let tx = conn.transaction().map_err(&err)?;
        let page = history_in(&tx, &self.path, point, range, step_ms, limit)?;
        tx.finish().map_err(&err)?;
        Ok(page)
    }

    /// Summary of the store, as [`Store::stats`](super::Store::stats) gives it.
    pub fn stats(&self) -> Result<Stats> {
        let mut conn = self.conn()?;
        let err = store_err(&self.path);
        let tx = conn.transaction().map_err(&err)?;
        let stats = read_stats(&tx, &self.path)?;
        tx.finish().map_err(&err)?;
        Ok(stats)
    }

    /// A connection of the pool, for the duration of one call.
    pub(super) fn conn(&self) -> Result<Lease<'_>> {
        let mut state = self.pool.lock();
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(Lease {
                    conn: Some(conn),
                    pool: &self.pool,
                });
            }
            if state.open < self.pool.max {
                state.open += 1;
                drop(state);
                return match open_read_only(&self.path) {
                    Ok(conn) => Ok(Lease {
                        conn: Some(conn),
                        pool: &self.pool,
                    }),
                    Err(e) => {
                        self.pool.lock().open -= 1;
                        self.pool.returned.notify_one();
                        Err(e)
                    }
                };
            }
            state = self
                .pool
                .returned
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// The connections of a reader.
#[derive(Debug)]
struct Pool {
    state: Mutex<PoolState>,
    returned: Condvar,
    max: usize,
}

#[derive(Debug)]
struct PoolState {
    /// Connections not in use.
    idle: Vec<Connection>,
    /// Connections open (idle or leased).
    open: usize,
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // The state is a list and a count, consistent at every unlock: a panic elsewhere
        // while it was held leaves nothing half done.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A connection taken from the pool; back in it when dropped.
pub(super) struct Lease<'a> {
    conn: Option<Connection>,
    pool: &'a Pool,
}

impl Deref for Lease<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // invariant: `conn` is Some from the lease's creation until its drop takes it.
        self.conn.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        // invariant: as in `deref`.
        self.conn.as_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.lock().idle.push(conn);
            self.pool.returned.notify_one();
        }
    }
}

/// A connection to `path` that cannot write.
fn open_read_only(path: &Path) -> Result<Connection> {
    let err = store_err(path);
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(&err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(&err)?;
    conn.pragma_update(None, "query_only", true).map_err(&err)?;
    Ok(conn)
}

/// Checks that `conn` is on a store at [`STORE_VERSION`], without writing.
pub(super) fn check_layout(conn: &Connection, path: &Path) -> Result<()> {
    let not_a_store = |why: &str| Error::NotAStore {
        path: path.display().to_string(),
        why: why.to_owned(),
    };
    let read = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => not_a_store("not an SQLite database"),
        _ => store_err(path)(e),
    };
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(read)?;
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut q| q.query_map([], |r| r.get(0))?.collect())
        .map_err(read)?;
    let has = |name: &str| tables.iter().any(|t| t == name);
    if !has("points") || !(has("chunks") || has("readings")) {
        return Err(not_a_store("it has no points and chunks tables"));
    }
    if version < STORE_VERSION || has("readings") || !TABLES.iter().all(|t| has(t)) {
        return Err(Error::Outdated {
            path: path.display().to_string(),
            version,
            current: STORE_VERSION,
        });
    }
    Ok(())
}

fn latest_of(ts_ms: Option<i64>, value: Option<f64>) -> Option<LatestReading> {
    Some(LatestReading {
        ts: ts_of(ts_ms?),
        value: value?,
    })
}

/// The error for a point the store does not know. (No file path: the message may be
/// shown to an API client.)
fn no_point(point: &str) -> Error {
    Error::NotFound(format!("no point `{point}` in the store"))
}

/// The time bounds of a history query, epoch ms (`from`, `to` inclusive).
#[derive(Debug, Clone, Copy)]
struct Range {
    from_ms: i64,
    to_ms: i64,
    after_ms: Option<i64>,
}

/// Start of the bucket of width `step_ms` that holds `ts_ms`.
fn bucket_of(ts_ms: i64, step_ms: i64) -> i64 {
    ts_ms.div_euclid(step_ms).saturating_mul(step_ms)
}

/// The page of [`Reader::history`], read in `c`'s transaction.
///
/// The range is read in windows of time, each one bounded index range of the point's
/// chunks (`last_ms` within the window extended by the point's widest chunk span) and,
/// with a step, of its stored buckets; before a window, a search for the point's next
/// chunk (and bucket) skips the time in which it has none; windows grow until `limit + 1`
/// rows are found or the range ends. With a step, windows end on bucket boundaries, so
/// that the buckets of a window are complete when it is done.
fn history_in(
    c: &Connection,
    path: &Path,
    point: &str,
    range: Range,
    step_ms: Option<i64>,
    limit: usize,
) -> Result<HistoryPage> {
    let err = store_err(path);
    let empty = HistoryPage {
        rows: Vec::new(),
        next: None,
    };
    /// A point's id and `point_stats` row (`NULL`s read as nothing stored).
    type PointRow = (i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>);
    let summary: Option<PointRow> = c
        .prepare_cached(
            "SELECT p.id, s.readings, s.first_ms, s.last_ms, s.max_span_ms FROM points p
             LEFT JOIN point_stats s ON s.point_id = p.id WHERE p.name = ?1",
        )
        .and_then(|mut q| {
            q.query_row([point], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()
        })
        .map_err(&err)?;
    let Some((point_id, readings, first_ms, last_ms, max_span)) = summary else {
        return Err(no_point(point));
    };
    let readings = readings.unwrap_or(0).max(0);
    let max_span = max_span.unwrap_or(0).max(0);
    let last_bucket: Option<i64> = match step_ms {
        Some(_) => c
            .prepare_cached("SELECT MAX(bucket_ms) FROM downsampled WHERE point_id = ?1")
            .and_then(|mut q| q.query_row([point_id], |r| r.get(0)))
            .map_err(&err)?,
        None => None,
    };
    let data_last = match (last_ms, last_bucket) {
        (Some(a), Some(b)) => a.max(b),
        (a, b) => match a.or(b) {
            Some(v) => v,
            None => return Ok(empty),
        },
    };
    let Some(data_first) = first_ms else {
        return Ok(empty);
    };
    if step_ms.is_none() && readings == 0 {
        return Ok(empty);
    }
    let mut lo = range.from_ms.max(data_first);
    if let Some(after) = range.after_ms {
        lo = lo.max(match step_ms {
            None => after.saturating_add(1),
            Some(s) => bucket_of(after, s).saturating_add(s),
        });
    }
    let end = range.to_ms.min(data_last);
    let needed = limit.saturating_add(1);
    let next_chunk_end = |from_ms: i64| -> Result<Option<i64>> {
        c.prepare_cached(NEXT_CHUNK_END)
            .and_then(|mut q| q.query_row(params![point_id, from_ms], |r| r.get(0)))
            .map_err(&err)
    };
    // The first window: as many buckets as a page needs, or as many readings at the
    // point's mean density over its raw readings (from the end of its oldest chunk: its
    // history may start long before, in buckets).
    let mut span: i64 = match step_ms {
        Some(s) => s.saturating_mul(i64::try_from(needed).unwrap_or(i64::MAX)),
        None => {
            let raw_first = next_chunk_end(i64::MIN)?.unwrap_or(data_first);
            let per_ms = readings as f64 / (data_last.saturating_sub(raw_first).max(1)) as f64;
            (needed as f64 / per_ms * 1.25).clamp(1.0, 1e15) as i64
        }
    };
    let mut raw: Vec<HistoryRow> = Vec::new();
    let mut buckets: BTreeMap<i64, Fold> = BTreeMap::new();
    let mut readings_buf = Vec::new();
    let mut wlo = lo;
    while wlo <= end {
        // Skip to where the point has data: a reading at or after `wlo` is in a chunk
        // ending at or after the next chunk end, and starts at most `max_span` before it.
        let mut next = next_chunk_end(wlo)?.map(|e| e.saturating_sub(max_span));
        if step_ms.is_some() {
            let next_bucket: Option<i64> = c
                .prepare_cached(
                    "SELECT MIN(bucket_ms) FROM downsampled WHERE point_id = ?1 AND bucket_ms >= ?2",
                )
                .and_then(|mut q| q.query_row(params![point_id, wlo], |r| r.get(0)))
                .map_err(&err)?;
            next = match (next, next_bucket) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let Some(next) = next else { break };
        wlo = wlo.max(next);
        if wlo > end {
            break;
        }
        let whi = match step_ms {
            Some(s) => bucket_of(wlo.saturating_add(span - 1), s).saturating_add(s - 1),
            None => wlo.saturating_add(span - 1),
        }
        .min(end);
        let found_before = raw.len() + buckets.len();
        let first_new = raw.len();
        for_each_chunk(
            c,
            path,
            WINDOW_CHUNKS,
            params![point_id, wlo, whi.saturating_add(max_span), whi],
            &mut readings_buf,
            |_, readings| {
                for &(ts, value) in readings.iter().filter(|r| (wlo..=whi).contains(&r.0)) {
                    match step_ms {
                        Some(s) => buckets.entry(bucket_of(ts, s)).or_default().add(value),
                        None => raw.push(HistoryRow {
                            ts: ts_of(ts),
                            value,
                            min: value,
                            max: value,
                            count: 1,
                        }),
                    }
                }
                readings.clear();
                Ok(())
            },
        )?;
        if let Some(s) = step_ms {
            let mut q = c
                .prepare_cached(
                    "SELECT bucket_ms, mean, min, max, count FROM downsampled
                     WHERE point_id = ?1 AND bucket_ms BETWEEN ?2 AND ?3",
                )
                .map_err(&err)?;
            let mut rows = q.query(params![point_id, wlo, whi]).map_err(&err)?;
            while let Some(r) = rows.next().map_err(&err)? {
                let bucket: i64 = r.get(0).map_err(&err)?;
                let (mean, min, max, count): (f64, f64, f64, i64) = (
                    r.get(1).map_err(&err)?,
                    r.get(2).map_err(&err)?,
                    r.get(3).map_err(&err)?,
                    r.get(4).map_err(&err)?,
                );
                buckets
                    .entry(bucket_of(bucket, s))
                    .or_default()
                    .add_bucket(mean, min, max, count);
            }
        } else {
            // Chunks come in index order, not time order.
            raw[first_new..].sort_unstable_by_key(|r| r.ts);
        }
        let found = raw.len() + buckets.len();
        if found >= needed || whi >= end {
            break;
        }
        // The next window: wide enough, at the density just seen, for what is missing.
        let in_window = found - found_before;
        let factor = if in_window == 0 {
            4.0
        } else {
            ((needed - found) as f64 / in_window as f64 * 1.25).clamp(1.0, 8.0)
        };
        span = ((span as f64) * factor).clamp(1.0, 1e15) as i64;
        wlo = whi + 1;
    }
    let mut rows = match step_ms {
        None => raw,
        Some(_) => buckets
            .into_iter()
            .map(|(bucket, f)| HistoryRow {
                ts: ts_of(bucket),
                value: f.mean(),
                min: f.min,
                max: f.max,
                count: f.count.max(0) as u64,
            })
            .collect(),
    };
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|r| r.ts)
    } else {
        None
    };
    Ok(HistoryPage { rows, next })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use chrono::TimeZone;
    use models::telemetry::Reading;

    use super::super::check::sidecar;
    use super::super::tests::{raw_conn, reading, reading_ms, temp_store, tempdir};
    use super::super::{Durability, ForecastLog, Retention, Store};
    use super::*;
    use crate::ErrorKind;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(s, 0).unwrap()
    }

    fn at_ms(ms: i64) -> DateTime<Utc> {
        Utc.timestamp_millis_opt(ms).unwrap()
    }

    /// Every page of a query, concatenated, and the number of pages.
    fn all_pages(
        reader: &Reader,
        point: &str,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        step: Option<Duration>,
        limit: usize,
    ) -> (Vec<HistoryRow>, usize) {
        let (mut rows, mut pages, mut after) = (Vec::new(), 0, None);
        loop {
            let page = reader.history(point, from, to, step, limit, after).unwrap();
            assert!(page.rows.len() <= limit);
            pages += 1;
            rows.extend(page.rows);
            match page.next {
                Some(next) => after = Some(next),
                None => return (rows, pages),
            }
            assert!(pages < 100_000, "paging does not end");
        }
    }

    /// What a file's bytes, size and modification time are.
    fn snapshot(path: &Path) -> (Vec<u8>, u64, std::time::SystemTime) {
        let meta = std::fs::metadata(path).unwrap();
        (std::fs::read(path).unwrap(), meta.len(), meta.modified().unwrap())
    }

    #[test]
    fn a_missing_store_is_not_found_and_no_file_is_made() {
        let dir = tempdir::Dir::new();
        let path = dir.path().join("missing.db");
        let e = Reader::open(&path).unwrap_err();
        assert!(matches!(e, Error::NoStore { .. }), "{e:?}");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.to_string().contains("no store at"), "{e}");
        let e = ForecastLog::open(&path).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "a file was made"
        );
    }

    #[test]
    fn a_file_that_is_not_a_store_is_refused_saying_why_and_left_as_it_was() {
        let dir = tempdir::Dir::new();
        let refused = |path: &Path, why: &str| {
            let e = Reader::open(path).unwrap_err();
            assert!(matches!(e, Error::NotAStore { .. }), "{e:?}");
            assert_eq!(e.kind(), ErrorKind::BadInput);
            assert!(e.to_string().contains(why), "{e}");
        };
        let empty = dir.path().join("empty.db");
        std::fs::write(&empty, b"").unwrap();
        refused(&empty, "the file is empty");
        let text = dir.path().join("notes.db");
        std::fs::write(
            &text,
            "not a database, but long enough to hold a header ".repeat(20),
        )
        .unwrap();
        let before = snapshot(&text);
        refused(&text, "not an SQLite database");
        assert_eq!(snapshot(&text), before);
        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t(x)")
            .unwrap();
        let before = snapshot(&other);
        refused(&other, "no points and chunks tables");
        assert_eq!(snapshot(&other), before);
        refused(dir.path(), "not a file");
    }

    #[test]
    fn a_store_of_an_older_layout_is_outdated_until_its_writer_upgrades_it() {
        let (dir, mut store) = temp_store();
        let path = dir.path().join("s.db");
        store
            .commit(
                &[reading("a/power_kw", 10, 1.0), reading("a/power_kw", 20, 2.0)],
                [],
            )
            .unwrap();
        store
            .commit(
                &[reading("b/power_kw", 5, -1.0), reading("a/power_kw", 15, 1.5)],
                [],
            )
            .unwrap();
        let retention = Retention {
            raw_max_age_s: 100,
            bucket_s: 60,
            downsampled_max_age_s: 86_400,
        };
        // b's only chunk ends at 5 s: folded into bucket 0.
        store.maintain(at(107), &retention).unwrap();
        let want = Reader::open(&path).unwrap().points().unwrap();
        // The layout before this version: no point_stats, no forecasts, version 0.
        raw_conn(&store)
            .execute_batch("DROP TABLE point_stats; DROP TABLE forecasts; PRAGMA user_version = 0;")
            .unwrap();
        drop(store);
        let e = Reader::open(&path).unwrap_err();
        assert!(matches!(e, Error::Outdated { version: 0, .. }), "{e:?}");
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        assert_eq!(
            ForecastLog::open(&path).unwrap_err().kind(),
            ErrorKind::Unavailable
        );
        drop(Store::open(&path, Durability::Normal).unwrap());
        let got = Reader::open(&path).unwrap().points().unwrap();
        assert_eq!(got[0], want[0]);
        assert_eq!(
            got[0].latest,
            Some(LatestReading {
                ts: at(20),
                value: 2.0
            })
        );
        // b: no raw reading left, its history starts at its bucket; its latest value is
        // lost (its readings were folded before the store kept latest values).
        assert_eq!(got[1].point, "b/power_kw");
        assert_eq!(
            (got[1].readings, got[1].first_ts, got[1].latest),
            (0, Some(at(0)), None)
        );
        assert_eq!(want[1].latest.map(|l| l.value), Some(-1.0));
    }

    #[test]
    fn reading_never_writes_the_store_and_its_connections_refuse_writes() {
        let (dir, mut store) = temp_store();
        let path = dir.path().join("s.db");
        let rows: Vec<Reading> = (0..50).map(|i| reading("a/power_kw", i, i as f64)).collect();
        store.commit(&rows, [crate::Reason::Malformed]).unwrap();
        let check = |reader: &Reader| {
            reader.points().unwrap();
            reader.latest("a/power_kw").unwrap();
            reader.stats().unwrap();
            reader
                .history("a/power_kw", None, None, Some(Duration::from_secs(7)), 3, None)
                .unwrap();
            reader.history("a/power_kw", None, None, None, 3, None).unwrap();
            reader.latest_forecast().unwrap();
            reader.forecasts_issued_between(at(0), at(100)).unwrap();
            let conn = reader.conn().unwrap();
            for sql in [
                "INSERT INTO counters(name, value) VALUES ('x', 1)",
                "CREATE TABLE t(x)",
                "PRAGMA user_version = 7",
            ] {
                let e = conn.execute_batch(sql).unwrap_err();
                assert!(
                    matches!(e.sqlite_error_code(), Some(ErrorCode::ReadOnly)),
                    "{sql}: {e:?}"
                );
            }
        };
        // Beside a writer that holds the file open (the WAL and its index exist)...
        let before = snapshot(&path);
        let wal_before = std::fs::metadata(sidecar(&path, "-wal")).unwrap().len();
        check(&Reader::open(&path).unwrap());
        assert_eq!(snapshot(&path), before);
        assert_eq!(
            std::fs::metadata(sidecar(&path, "-wal")).unwrap().len(),
            wal_before
        );
        // ... and alone, after the writer closed the store (checkpointed, WAL removed).
        drop(store);
        let before = snapshot(&path);
        check(&Reader::open(&path).unwrap());
        assert_eq!(snapshot(&path), before);
        // SQLite may make an empty WAL and its index for a reader; nothing is written
        // into them.
        if let Ok(meta) = std::fs::metadata(sidecar(&path, "-wal")) {
            assert_eq!(meta.len(), 0);
        }
    }

    #[test]
    fn points_and_latest_follow_commits_late_readings_and_retention() {
        let (dir, mut store) = temp_store();
        let reader = Reader::open(&dir.path().join("s.db")).unwrap();
        assert!(reader.points().unwrap().is_empty());
        store
            .commit(
                &[
                    reading("b/power_kw", 1500, 1.0),
                    reading("a/power_kw", 300, 3.0),
                    reading("a/power_kw", 200, 2.0),
                ],
                [],
            )
            .unwrap();
        // A late reading arrives last: the latest is the newest in time, not in arrival;
        // a redelivery changes nothing.
        store
            .commit(
                &[reading("a/power_kw", 50, 0.5), reading("a/power_kw", 300, 9.0)],
                [],
            )
            .unwrap();
        let points = reader.points().unwrap();
        assert_eq!(
            points,
            [
                PointSummary {
                    point: "a/power_kw".into(),
                    readings: 3,
                    first_ts: Some(at(50)),
                    latest: Some(LatestReading {
                        ts: at(300),
                        value: 3.0
                    }),
                },
                PointSummary {
                    point: "b/power_kw".into(),
                    readings: 1,
                    first_ts: Some(at(1500)),
                    latest: Some(LatestReading {
                        ts: at(1500),
                        value: 1.0
                    }),
                },
            ]
        );
        assert_eq!(reader.latest("a/power_kw").unwrap(), points[0].latest);
        let e = reader.latest("c/power_kw").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.to_string(), "no point `c/power_kw` in the store");
        // Retention folds a's chunk of 200, 300 s and its late chunk of 50 s into buckets
        // of 120 s (0, 120 and 240): a keeps its latest reading, its history starts at 0.
        let retention = Retention {
            raw_max_age_s: 1000,
            bucket_s: 120,
            downsampled_max_age_s: 2000,
        };
        store.maintain(at(1000 + 301), &retention).unwrap();
        let a = &reader.points().unwrap()[0];
        assert_eq!((a.readings, a.first_ts), (0, Some(at(0))));
        assert_eq!(a.latest, points[0].latest);
        // Buckets before 250 s expire: a's history is gone (its latest reading is still
        // known), b's (raw) stays.
        store.maintain(at(2000 + 250), &retention).unwrap();
        let after = reader.points().unwrap();
        assert_eq!((after[0].readings, after[0].first_ts), (0, None));
        assert_eq!(after[0].latest, points[0].latest);
        assert_eq!(after[1], points[1]);
        assert_eq!(reader.stats().unwrap(), store.stats().unwrap());
    }

    #[test]
    fn bad_queries_are_bad_input_and_an_unknown_point_not_found() {
        let (dir, mut store) = temp_store();
        store.commit(&[reading("a/power_kw", 1, 1.0)], []).unwrap();
        let reader = Reader::open(&dir.path().join("s.db")).unwrap();
        let bad = |from, to, step, limit| {
            let e = reader
                .history("a/power_kw", from, to, step, limit, None)
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::BadInput, "{e}");
            e.to_string()
        };
        assert!(bad(Some(at(10)), Some(at(5)), None, 10).contains("ends"));
        assert!(bad(None, None, None, 0).contains("limit"));
        assert!(bad(None, None, Some(Duration::ZERO), 10).contains("step"));
        assert!(bad(None, None, Some(Duration::from_micros(1500)), 10).contains("step"));
        let e = reader.forecasts_issued_between(at(10), at(5)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadInput);
        let e = reader
            .history("z/power_kw", None, None, None, 10, None)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
        // An empty range is an empty page, not an error.
        let page = reader
            .history("a/power_kw", Some(at(5)), Some(at(5)), None, 10, None)
            .unwrap();
        assert_eq!((page.rows.len(), page.next), (0, None));
    }

    /// The store's state at the end (stored buckets 0 and 600 s, raw chunks straddling
    /// the step boundary at 1200 s), built by commits and two retention passes:
    ///
    /// | commit | readings (s: value)     | chunk        | fate                          |
    /// |--------|-------------------------|--------------|-------------------------------|
    /// | A      | 60: 1, 120: 3           | [60, 120]    | folded (cutoff 200) → bucket 0   |
    /// | B      | 700: 4, 1300: 0.5       | [700, 1300]  | raw                            |
    /// | D      | 650: 64                 | [650, 650]   | folded (cutoff 800) → bucket 600 |
    /// | C      | 900: 16, 1100: 8, 1250: 32 | [900, 1250] | raw                           |
    ///
    /// By hand, steps of 1200 s: bucket 0 holds stored 0 (1, 3: mean 2, count 2), stored
    /// 600 (64) and raw 700, 900, 1100 (4, 16, 8): count 6, sum 1 + 3 + 64 + 4 + 16 + 8 =
    /// 96, mean 16, min 1, max 64; bucket 1200 holds 1250 and 1300 (32, 0.5): count 2,
    /// mean 16.25, min 0.5, max 32. Steps of 600 s: 0 → (2, 1, 3, 2); 600 → stored 64 and
    /// 4, 16, 8: sum 92, count 4, mean 23; 1200 → as above. From 100 s with steps of
    /// 1200 s, stored bucket 0 (start 0 < 100) is out, though it holds a reading at 120 s:
    /// bucket 0 is 64, 4, 16, 8: mean 23, count 4. All values are exact in binary.
    fn straddling_store() -> (tempdir::Dir, Store) {
        let (dir, mut store) = temp_store();
        let x = |s, v| reading("x/power_kw", s, v);
        let retention = |_| Retention {
            raw_max_age_s: 3600,
            bucket_s: 600,
            downsampled_max_age_s: 400 * 86_400,
        };
        store.commit(&[x(60, 1.0), x(120, 3.0)], []).unwrap();
        store.commit(&[x(700, 4.0), x(1300, 0.5)], []).unwrap();
        assert_eq!(
            store
                .maintain(at(3600 + 200), &retention(()))
                .unwrap()
                .downsampled,
            2
        );
        store.commit(&[x(650, 64.0)], []).unwrap();
        assert_eq!(
            store
                .maintain(at(3600 + 800), &retention(()))
                .unwrap()
                .downsampled,
            1
        );
        store
            .commit(&[x(900, 16.0), x(1100, 8.0), x(1250, 32.0)], [])
            .unwrap();
        (dir, store)
    }

    fn cells(rows: &[HistoryRow]) -> Vec<(i64, f64, f64, f64, u64)> {
        rows.iter()
            .map(|r| (r.ts.timestamp(), r.value, r.min, r.max, r.count))
            .collect()
    }

    #[test]
    fn downsampled_rows_agree_with_a_hand_computation_across_raw_chunks_and_stored_buckets() {
        let (dir, _store) = straddling_store();
        let reader = Reader::open(&dir.path().join("s.db")).unwrap();
        let steps = |step_s, from: Option<i64>, limit| {
            let step = Some(Duration::from_secs(step_s));
            let (rows, _) = all_pages(&reader, "x/power_kw", from.map(at), None, step, limit);
            cells(&rows)
        };
        for limit in [1, 2, 10] {
            assert_eq!(
                steps(1200, None, limit),
                [(0, 16.0, 1.0, 64.0, 6), (1200, 16.25, 0.5, 32.0, 2)],
                "limit {limit}"
            );
            assert_eq!(
                steps(600, None, limit),
                [
                    (0, 2.0, 1.0, 3.0, 2),
                    (600, 23.0, 4.0, 64.0, 4),
                    (1200, 16.25, 0.5, 32.0, 2)
                ],
                "limit {limit}"
            );
        }
        assert_eq!(
            steps(1200, Some(100), 10),
            [(0, 23.0, 4.0, 64.0, 4), (1200, 16.25, 0.5, 32.0, 2)]
        );
        // Without a step: the raw readings only, in time order.
        let (raw, _) = all_pages(&reader, "x/power_kw", None, None, None, 2);
        assert_eq!(
            cells(&raw),
            [
                (700, 4.0, 4.0, 4.0, 1),
                (900, 16.0, 16.0, 16.0, 1),
                (1100, 8.0, 8.0, 8.0, 1),
                (1250, 32.0, 32.0, 32.0, 1),
                (1300, 0.5, 0.5, 0.5, 1)
            ]
        );
        // A page ends with a cursor only when more rows follow.
        let page = reader
            .history("x/power_kw", None, None, Some(Duration::from_secs(1200)), 2, None)
            .unwrap();
        assert_eq!(page.next, None);
        let page = reader
            .history("x/power_kw", None, None, Some(Duration::from_secs(1200)), 1, None)
            .unwrap();
        assert_eq!(page.next, Some(at(0)));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(40))]

        /// Commits of two points with late readings and repeats, in two clusters of time
        /// far apart (so that the scan skips the gap), paged with any limit, with or
        /// without a window and a step, give every stored reading exactly once, in order,
        /// and buckets that match a fold of the model.
        #[test]
        fn history_paging_returns_every_reading_exactly_once(
            commits in proptest::collection::vec(
                proptest::collection::vec(
                    (0usize..2, proptest::bool::ANY, 0i64..2_000, -800i32..800),
                    1..25,
                ),
                1..10,
            ),
            limit in 1usize..12,
            window in proptest::option::of((0i64..2_000, 0i64..1_002_000)),
            step_ms in 1i64..700,
        ) {
            let (dir, mut store) = temp_store();
            let mut model: BTreeMap<(usize, i64), f64> = BTreeMap::new();
            for batch in &commits {
                let rows: Vec<Reading> = batch
                    .iter()
                    .map(|&(p, far, ts, v)| {
                        let ts = if far { 1_000_000 + ts } else { ts };
                        let value = f64::from(v) / 8.0;
                        model.entry((p, ts)).or_insert(value);
                        reading_ms(&format!("p{p}/power_kw"), ts, value)
                    })
                    .collect();
                store.commit(&rows, []).unwrap();
            }
            let reader = Reader::open(&dir.path().join("s.db")).unwrap();
            let (from, to) = match window {
                Some((a, b)) => (Some(a.min(b)), Some(a.max(b))),
                None => (None, None),
            };
            for p in 0..2 {
                let name = format!("p{p}/power_kw");
                if !model.keys().any(|k| k.0 == p) {
                    continue;
                }
                let want: Vec<(i64, f64)> = model
                    .range((p, from.unwrap_or(i64::MIN))..=(p, to.unwrap_or(i64::MAX)))
                    .map(|(&(_, ts), &v)| (ts, v))
                    .collect();
                let (rows, _) = all_pages(&reader, &name, from.map(at_ms), to.map(at_ms), None, limit);
                let got: Vec<(i64, f64)> = rows.iter().map(|r| (r.ts.timestamp_millis(), r.value)).collect();
                proptest::prop_assert_eq!(&got, &want);
                // Buckets: the model's readings folded by hand.
                let mut folds: BTreeMap<i64, (f64, f64, f64, u64)> = BTreeMap::new();
                for &(ts, v) in &want {
                    let f = folds.entry(ts.div_euclid(step_ms) * step_ms).or_insert((0.0, f64::INFINITY, f64::NEG_INFINITY, 0));
                    *f = (f.0 + v, f.1.min(v), f.2.max(v), f.3 + 1);
                }
                let want: Vec<(i64, f64, f64, f64, u64)> = folds
                    .into_iter()
                    .map(|(b, (sum, min, max, n))| (b, sum / n as f64, min, max, n))
                    .collect();
                let step = Some(Duration::from_millis(step_ms as u64));
                let (rows, _) = all_pages(&reader, &name, from.map(at_ms), to.map(at_ms), step, limit);
                let got: Vec<(i64, f64, f64, f64, u64)> = rows
                    .iter()
                    .map(|r| (r.ts.timestamp_millis(), r.value, r.min, r.max, r.count))
                    .collect();
                proptest::prop_assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn a_page_after_a_long_late_chunk_still_finds_its_readings() {
        // A gateway's buffer delivered late: one chunk spanning a day, among chunks of
        // one reading each; pages of 5 must find its readings in between.
        let (dir, mut store) = temp_store();
        for i in 0..50 {
            store
                .commit(&[reading("a/power_kw", i * 3600 + 1800, -1.0)], [])
                .unwrap();
        }
        let late: Vec<Reading> = (0..24)
            .map(|i| reading("a/power_kw", i * 3600, i as f64))
            .collect();
        store.commit(&late, []).unwrap();
        let reader = Reader::open(&dir.path().join("s.db")).unwrap();
        let (rows, pages) = all_pages(&reader, "a/power_kw", None, None, None, 5);
        assert_eq!(rows.len(), 74);
        assert_eq!(pages, 15);
        assert!(rows.windows(2).all(|w| w[0].ts < w[1].ts));
        assert_eq!(rows.iter().filter(|r| r.value >= 0.0).count(), 24);
    }

    #[test]
    fn readers_on_many_threads_run_beside_a_committing_writer() {
        let (dir, mut store) = temp_store();
        let path = dir.path().join("s.db");
        store.commit(&[reading("p0/power_kw", 0, 0.0)], []).unwrap();
        let reader = Arc::new(Reader::with_connections(&path, 3).unwrap());
        let done = Arc::new(AtomicBool::new(false));
        let readers: Vec<_> = (0..4)
            .map(|t| {
                let (reader, done) = (reader.clone(), done.clone());
                std::thread::spawn(move || {
                    let (mut calls, mut seen) = (0u64, 0u64);
                    while !done.load(Ordering::Relaxed) || calls < 5 {
                        let total: u64 = reader.points().unwrap().iter().map(|p| p.readings).sum();
                        assert!(total >= seen, "thread {t}: {total} after {seen}");
                        seen = total;
                        let page = reader.history("p0/power_kw", None, None, None, 50, None).unwrap();
                        assert!(page.rows.windows(2).all(|w| w[0].ts < w[1].ts));
                        reader.stats().unwrap();
                        calls += 1;
                    }
                    calls
                })
            })
            .collect();
        for c in 1..=200i64 {
            let rows: Vec<Reading> = (0..5)
                .map(|p| reading(&format!("p{p}/power_kw"), c, c as f64))
                .collect();
            store.commit(&rows, []).unwrap();
        }
        done.store(true, Ordering::Relaxed);
        for r in readers {
            assert!(r.join().unwrap() >= 5);
        }
        let total: u64 = reader.points().unwrap().iter().map(|p| p.readings).sum();
        assert_eq!(total, 1001);
        assert!(reader.pool.lock().open <= 3);
    }

    #[test]
    fn the_history_queries_use_their_indexes() {
        let (_dir, store) = temp_store();
        let conn = raw_conn(&store);
        let plan = |sql: &str| -> String {
            let sql = sql
                .replace("?1", "1")
                .replace("?2", "2")
                .replace("?3", "3")
                .replace("?4", "4");
            let mut q = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let rows = q.query_map([], |r| r.get::<_, String>(3)).unwrap();
            rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("; ")
        };
        let window = plan(WINDOW_CHUNKS);
        assert!(
            window.contains("USING INDEX chunks_point_last (point_id=? AND last_ms>? AND last_ms<?)"),
            "{window}"
        );
        let next = plan(NEXT_CHUNK_END);
        assert!(
            next.contains("USING COVERING INDEX chunks_point_last (point_id=? AND last_ms>?)"),
            "{next}"
        );
        let points = plan(POINTS);
        assert!(points.contains("USING INTEGER PRIMARY KEY"), "{points}");
    }
}
