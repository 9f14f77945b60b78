//! The forecast log: the forecasts the live service issues, kept in the store's file
//! beside the readings (table `forecasts`, made by [`Store::open`](super::Store::open)),
//! so that their accuracy can be scored against the readings that came in afterwards.
//!
//! [`ForecastLog`] is the writing side, with a connection of its own that takes SQLite's
//! write lock only for the moment of an append (an IMMEDIATE transaction, waiting for the
//! intake's commit to end rather than failing); the reading side is on [`Reader`].
//! Retention deletes forecasts issued before the downsampled buckets' age limit.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use ingest::store::{Durability, ForecastLog, Reader, Store};
//! use models::forecast::{Forecast, ForecastInputs};
//!
//! let dir = std::env::temp_dir().join(format!("forecast-doctest-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("s.db");
//! drop(Store::open(&path, Durability::Normal).unwrap()); // creates the tables
//! let mut log = ForecastLog::open(&path).unwrap();
//! let at = Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap();
//! let forecast = Forecast {
//!     id: log.next_id().unwrap(),
//!     issued_at: at,
//!     start: at,
//!     slot_minutes: 15,
//!     inputs: ForecastInputs::default(),
//!     slots: Vec::new(),
//!     halls: Vec::new(),
//! };
//! log.append(&forecast).unwrap();
//! let reader = Reader::open(&path).unwrap();
//! assert_eq!(reader.latest_forecast().unwrap(), Some(forecast));
//! # drop((log, reader));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use models::forecast::Forecast;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::reader::check_layout;
use super::{Reader, set_bound, store_err};
use crate::{Error, Result};

/// How long an append waits for the intake's commit to release the write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The writing side of the forecast log.
#[derive(Debug)]
pub struct ForecastLog {
    conn: Connection,
    path: PathBuf,
}

impl ForecastLog {
    /// Opens the log of the store at `path`, which must exist at the current layout
    /// (made by [`Store::open`](super::Store::open), as the intake opens it): the log
    /// creates no file and no table.
    pub fn open(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::NoStore {
                path: path.display().to_string(),
            });
        }
        let err = store_err(path);
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(&err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(&err)?;
        // A forecast can be made again: a crash of the machine may cost the last one.
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(&err)?;
        check_layout(&conn, path)?;
        Ok(Self {
            conn,
            path: path.to_owned(),
        })
    }

    /// The id for the next forecast: one more than any logged, or expired, so far.
    pub fn next_id(&self) -> Result<u64> {
        let next: i64 = self
            .conn
            .query_row(
                "SELECT MAX(COALESCE((SELECT value FROM counters WHERE name = 'last_forecast_id'), 0),
                            COALESCE((SELECT MAX(id) FROM forecasts), 0)) + 1",
                [],
                |r| r.get(0),
            )
            .map_err(store_err(&self.path))?;
        Ok(next.max(1) as u64)
    }

    /// Logs `forecast` under its id. An id already logged is [`Error::Conflict`]; a
    /// forecast whose JSON does not read back (a value that is not finite becomes
    /// `null`) is [`Error::Query`] rather than a body no reader could parse.
    pub fn append(&mut self, forecast: &Forecast) -> Result<()> {
        let err = store_err(&self.path);
        let id = i64::try_from(forecast.id)
            .map_err(|_| Error::Query(format!("forecast id {} is too large", forecast.id)))?;
        let body = serde_json::to_string(forecast)
            .map_err(|e| Error::Query(format!("forecast {id} does not serialise: {e}")))?;
        if let Err(e) = serde_json::from_str::<Forecast>(&body) {
            return Err(Error::Query(format!(
                "forecast {id} does not read back from JSON (a value that is not finite?): {e}"
            )));
        }
        let end = forecast.slot_start(forecast.slots.len());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let inserted = tx.execute(
            "INSERT INTO forecasts(id, issued_ms, start_ms, end_ms, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                id,
                forecast.issued_at.timestamp_millis(),
                forecast.start.timestamp_millis(),
                end.timestamp_millis(),
                body
            ],
        );
        match inserted {
            Ok(_) => {}
            Err(e) if e.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {
                return Err(Error::Conflict(format!("forecast {id} is already in the log")));
            }
            Err(e) => return Err(err(e)),
        }
        set_bound(&tx, "last_forecast_id", id, "MAX").map_err(&err)?;
        tx.commit().map_err(&err)
    }
}

impl Reader {
    /// The forecast `id`; one not in the log (never issued, or expired) is
    /// [`Error::NotFound`].
    pub fn forecast(&self, id: u64) -> Result<Forecast> {
        let missing = || Error::NotFound(format!("no forecast {id} in the log"));
        let id = i64::try_from(id).map_err(|_| missing())?;
        let conn = self.conn()?;
        let body: Option<String> = conn
            .prepare_cached("SELECT body FROM forecasts WHERE id = ?1")
            .and_then(|mut q| q.query_row([id], |r| r.get(0)).optional())
            .map_err(store_err(self.path()))?;
        parse(self.path(), id, &body.ok_or_else(missing)?)
    }

    /// The forecast issued last (of two issued at one instant, the larger id); `None`
    /// when none is logged.
    pub fn latest_forecast(&self) -> Result<Option<Forecast>> {
        let conn = self.conn()?;
        let row: Option<(i64, String)> = conn
            .prepare_cached("SELECT id, body FROM forecasts ORDER BY issued_ms DESC, id DESC LIMIT 1")
            .and_then(|mut q| q.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(store_err(self.path()))?;
        row.map(|(id, body)| parse(self.path(), id, &body)).transpose()
    }

    /// The forecasts issued in `[from, to]`, in the order they were issued. `from` after
    /// `to` is [`Error::Query`]. Each body is a forecast's whole JSON (tens of kB for a
    /// day ahead in 15-minute slots): ask for a bounded range.
    pub fn forecasts_issued_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Forecast>> {
        if from > to {
            return Err(Error::Query(format!(
                "the time range ends ({}) before it starts ({})",
                to.to_rfc3339(),
                from.to_rfc3339()
            )));
        }
        let conn = self.conn()?;
        let err = store_err(self.path());
        let mut q = conn
            .prepare_cached(
                "SELECT id, body FROM forecasts WHERE issued_ms BETWEEN ?1 AND ?2
                 ORDER BY issued_ms, id",
            )
            .map_err(&err)?;
        let rows = q
            .query_map(params![from.timestamp_millis(), to.timestamp_millis()], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(&err)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, body) = row.map_err(&err)?;
            out.push(parse(self.path(), id, &body)?);
        }
        Ok(out)
    }
}

fn parse(path: &Path, id: i64, body: &str) -> Result<Forecast> {
    serde_json::from_str(body).map_err(|reason| Error::ForecastBody {
        path: path.display().to_string(),
        id,
        reason,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use chrono::TimeZone;
    use models::forecast::{DegradedLoop, ForecastInputs, ForecastSlot, HallForecast};

    use super::super::Retention;
    use super::super::tests::{raw_conn, reading, temp_store};
    use super::*;
    use crate::ErrorKind;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(s, 0).unwrap()
    }

    /// A forecast of four 15-minute slots and one hall, every field filled, with values
    /// that need all 17 digits to round-trip.
    fn forecast(id: u64, issued_s: i64) -> Forecast {
        let start = at(issued_s + 60);
        let slots: Vec<ForecastSlot> = (0..4)
            .map(|t| ForecastSlot {
                start: start + chrono::Duration::minutes(15 * t),
                it_kw: 10_000.0 + 0.1 * t as f64,
                cooling_kw: 1_234.567_890_123_4,
                loss_kw: 321.0,
                auxiliary_kw: 0.1 + 0.2,
                facility_kw: 11_555.567_890_123_4 + t as f64,
                pue: 1.155_556_789_012_345_6,
                import_kw: 9_000.0,
                import_limit_kw: 12_000.0,
                battery_soc_frac: 1.0 / 3.0,
                engine_kw: 0.0,
                solar_kw: 2_500.25,
                water_l: 42.0,
                dry_bulb_c: -3.3,
                wet_bulb_c: -4.1,
                max_gpu_temp_c: 81.2,
                throttled_gpus: 0.0,
            })
            .collect();
        Forecast {
            id,
            issued_at: at(issued_s),
            start,
            slot_minutes: 15,
            inputs: ForecastInputs {
                campus: "example".into(),
                weather: "typical year".into(),
                prices: "diurnal".into(),
                jobs: 12,
                state_as_of: Some(at(issued_s - 1)),
                degraded_loops: vec![DegradedLoop {
                    hall: "hall-a".into(),
                    cdu: 3,
                    flow_frac: 0.5,
                }],
                plan_status: "optimal".into(),
                plan_objective: Some(-1_234.5),
                capacity_s: 0.25,
                solve_s: 1.5,
                simulate_s: 0.75,
            },
            slots,
            halls: vec![HallForecast {
                id: "hall-a".into(),
                it_kw: vec![5_000.0; 4],
                hottest_gpu_c: vec![81.2, 81.3, 81.4, 81.5],
                tcs_supply_c: vec![30.0; 4],
                cooling_capacity_kw: vec![7_000.0; 4],
                cooling_headroom_kw: vec![2_000.0; 4],
            }],
        }
    }

    #[test]
    fn a_forecast_round_trips_through_the_log() {
        let (dir, store) = temp_store();
        let path = dir.path().join("s.db");
        let mut log = ForecastLog::open(&path).unwrap();
        let reader = Reader::open(&path).unwrap();
        assert_eq!(reader.latest_forecast().unwrap(), None);
        assert_eq!(log.next_id().unwrap(), 1);
        let (first, second) = (forecast(1, 1_000), forecast(2, 1_900));
        log.append(&first).unwrap();
        log.append(&second).unwrap();
        assert_eq!(reader.forecast(1).unwrap(), first);
        assert_eq!(reader.forecast(2).unwrap(), second);
        assert_eq!(reader.latest_forecast().unwrap(), Some(second.clone()));
        assert_eq!(
            reader.forecasts_issued_between(at(1_000), at(1_900)).unwrap(),
            [first.clone(), second.clone()]
        );
        assert_eq!(
            reader.forecasts_issued_between(at(1_001), at(5_000)).unwrap(),
            [second]
        );
        assert!(
            reader
                .forecasts_issued_between(at(0), at(999))
                .unwrap()
                .is_empty()
        );
        assert_eq!(log.next_id().unwrap(), 3);
        // The columns beside the body: the horizon ends after its 4 slots.
        let row: (i64, i64, i64) = raw_conn(&store)
            .query_row(
                "SELECT issued_ms, start_ms, end_ms FROM forecasts WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(row, (1_000_000, 1_060_000, 1_060_000 + 3_600_000));
    }

    #[test]
    fn a_logged_id_is_a_conflict_a_missing_one_not_found_and_a_nan_bad_input() {
        let (dir, store) = temp_store();
        let path = dir.path().join("s.db");
        let mut log = ForecastLog::open(&path).unwrap();
        log.append(&forecast(7, 100)).unwrap();
        let e = log.append(&forecast(7, 200)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
        assert_eq!(e.to_string(), "forecast 7 is already in the log");
        let reader = Reader::open(&path).unwrap();
        assert_eq!(reader.forecast(7).unwrap().issued_at, at(100), "the first stays");
        let e = reader.forecast(8).unwrap_err();
        assert_eq!(
            (e.kind(), e.to_string()),
            (ErrorKind::NotFound, "no forecast 8 in the log".into())
        );
        assert_eq!(reader.forecast(u64::MAX).unwrap_err().kind(), ErrorKind::NotFound);
        let mut nan = forecast(9, 300);
        nan.slots[2].pue = f64::NAN;
        let e = log.append(&nan).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadInput, "{e}");
        assert!(reader.forecast(9).is_err(), "nothing was logged");
        // A damaged body is an internal error naming the forecast.
        raw_conn(&store)
            .execute("UPDATE forecasts SET body = '{' WHERE id = 7", [])
            .unwrap();
        let e = reader.forecast(7).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal);
        assert!(e.to_string().contains("forecast 7 does not parse"), "{e}");
    }

    #[test]
    fn retention_deletes_forecasts_older_than_the_buckets_and_ids_never_repeat() {
        let (dir, mut store) = temp_store();
        let path = dir.path().join("s.db");
        let mut log = ForecastLog::open(&path).unwrap();
        for (id, issued) in [(1, 100), (2, 5_000), (3, 9_000)] {
            log.append(&forecast(id, issued)).unwrap();
        }
        let retention = Retention {
            raw_max_age_s: 60,
            bucket_s: 60,
            downsampled_max_age_s: 4_000,
        };
        let done = store.maintain(at(9_001), &retention).unwrap();
        assert_eq!(done.expired_forecasts, 2);
        let reader = Reader::open(&path).unwrap();
        assert_eq!(reader.forecast(1).unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(reader.forecast(3).unwrap().id, 3);
        store.maintain(at(20_000), &retention).unwrap();
        assert_eq!(reader.latest_forecast().unwrap(), None);
        assert_eq!(log.next_id().unwrap(), 4, "expired ids are not handed out again");
    }

    #[test]
    fn an_append_waits_for_the_intakes_commit_instead_of_failing() {
        let (dir, mut store) = temp_store();
        let path = dir.path().join("s.db");
        let mut log = ForecastLog::open(&path).unwrap();
        // Another writer (as the intake's commit) holds the write lock for a while.
        let (locked_tx, locked_rx) = std::sync::mpsc::channel();
        let holder = {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut conn = Connection::open(&path).unwrap();
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .unwrap();
                tx.execute("INSERT INTO counters(name, value) VALUES ('held', 1)", [])
                    .unwrap();
                locked_tx.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(300));
                tx.commit().unwrap();
            })
        };
        locked_rx.recv().unwrap();
        let started = std::time::Instant::now();
        log.append(&forecast(1, 100)).unwrap();
        assert!(started.elapsed() >= Duration::from_millis(200));
        holder.join().unwrap();
        // And the intake's own commits go on beside the log.
        let r = reading("a/power_kw", 1, 1.0);
        assert_eq!(store.commit(&[r], []).unwrap().inserted, 1);
        log.append(&forecast(2, 200)).unwrap();
        assert_eq!(
            Reader::open(&path)
                .unwrap()
                .latest_forecast()
                .unwrap()
                .unwrap()
                .id,
            2
        );
    }
}
