//! Damage to a store file: found when the writer opens it, and listed by
//! `campustwin store check`.
//!
//! A store is damaged when its file is shorter than its header says (a copy cut short, a
//! disk that filled during a copy) or when pages do not read back as SQLite wrote them (a
//! failing disk, a file edited in place). The writer's open ([`super::Store::open`]) checks
//! the file against its header and runs SQLite's `quick_check` (every page read once:
//! 0.17 s for a 555 MB store from the page cache), so that `ingest` and `serve` refuse a damaged store before they
//! write to it, rather than losing what it holds a page at a time. [`check`] goes further:
//! SQLite's full `integrity_check` (every index against its table), every chunk decoded,
//! and the store's counters against what its tables hold.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use super::{ChunkRow, STORE_VERSION, store_err};
use crate::{Error, Result};

/// Problems listed per kind at most, so that a wrecked file gives a readable report.
const MAX_PROBLEMS: usize = 100;

/// What `campustwin store check` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// The store file.
    pub path: String,
    /// No problem of any kind was found.
    pub ok: bool,
    /// Length of the file, bytes.
    pub file_bytes: u64,
    /// SQLite's page size, bytes.
    pub page_size_bytes: u64,
    /// The store's layout version (`PRAGMA user_version`), when it could be read.
    pub layout_version: Option<i64>,
    /// The file against its header (a file shorter than its pages).
    pub file_problems: Vec<String>,
    /// What SQLite's `integrity_check` reported, or why it could not run.
    pub sqlite_problems: Vec<String>,
    /// Chunks decoded.
    pub chunks: u64,
    /// Readings in the chunks that decoded.
    pub chunk_readings: u64,
    /// Chunks that do not decode, or whose readings contradict their columns.
    pub chunk_problems: Vec<String>,
    /// Counters (`readings`, `downsampled_readings`, each point's `point_stats.readings`)
    /// that differ from what the tables hold.
    pub count_problems: Vec<String>,
}

/// The file SQLite keeps beside the store, `PATH{suffix}` (`-wal`, `-shm`).
pub(super) fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// Whether the file has a write-ahead log with frames in it.
fn has_wal(path: &Path) -> bool {
    std::fs::metadata(sidecar(path, "-wal")).is_ok_and(|m| m.len() > 0)
}

/// Why a file of `file_bytes` holding `pages` pages of `page_size_bytes` (as SQLite reads
/// its header) is cut short, if it is. Only meaningful without a write-ahead log: pages
/// in the log are not in the file yet.
fn truncation(pages: u64, page_size_bytes: u64, file_bytes: u64) -> Option<String> {
    let want = pages.saturating_mul(page_size_bytes);
    if file_bytes < want {
        return Some(format!(
            "truncated: its header counts {pages} pages of {page_size_bytes} bytes ({want} bytes) and the file holds {file_bytes} bytes"
        ));
    }
    (page_size_bytes > 0 && file_bytes % page_size_bytes != 0).then(|| {
        format!("truncated: {file_bytes} bytes is not a whole number of {page_size_bytes}-byte pages")
    })
}

/// The page size (bytes) and the problem of the file against its header, if any, read
/// through `conn`. The header is read by SQLite, never through a file descriptor of our
/// own: closing one would drop the locks every SQLite connection of this process holds
/// on the file (POSIX advisory locks are per process), and another process could then
/// checkpoint and delete the log under them.
fn file_problem(conn: &Connection, path: &Path) -> rusqlite::Result<(u64, Option<String>)> {
    let pragma = |name: &str| conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0));
    let page_size_bytes = pragma("page_size")?.max(0) as u64;
    let pages = pragma("page_count")?.max(0) as u64;
    let file_bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    let problem = (!has_wal(path))
        .then(|| truncation(pages, page_size_bytes, file_bytes))
        .flatten();
    Ok((page_size_bytes, problem))
}

/// SQLite's file header: its page size (bytes) and the pages it counts (`None` where the
/// count is not valid: a file last written by a SQLite before 3.7.0). Read with a file
/// descriptor of our own, so only by [`check`], before it connects (see [`file_problem`]).
fn read_header(path: &Path) -> Result<(u64, Option<u64>)> {
    let not_a_store = |why: &str| Error::NotAStore {
        path: path.display().to_string(),
        why: why.to_owned(),
    };
    let mut bytes = [0u8; 100];
    let read = std::fs::File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    match read {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            return Err(not_a_store("shorter than an SQLite header (100 bytes)"));
        }
        Err(reason) => {
            return Err(Error::Io {
                what: format!("reading {}", path.display()),
                reason,
            });
        }
        Ok(()) => {}
    }
    if &bytes[..16] != b"SQLite format 3\0" {
        return Err(not_a_store("not an SQLite database"));
    }
    let be32 = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let page_size_bytes = match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65_536,
        n => u64::from(n),
    };
    // The count is valid when the change counter (offset 24) equals the
    // version-valid-for number (offset 92): https://www.sqlite.org/fileformat.html
    let pages = (be32(24) == be32(92)).then(|| u64::from(be32(28)));
    Ok((page_size_bytes, pages))
}

/// Checks the file of a store just opened on `conn`, before anything writes to it: an
/// SQLite database ([`Error::NotAStore`] if not) not cut short ([`Error::Damaged`]).
pub(super) fn check_file(conn: &Connection, path: &Path) -> Result<()> {
    let (_, problem) = file_problem(conn, path).map_err(store_err(path))?;
    match problem {
        Some(why) => Err(Error::Damaged {
            path: path.display().to_string(),
            why,
        }),
        None => Ok(()),
    }
}

/// Runs SQLite's `quick_check` on the writer's connection: [`Error::Damaged`] with the
/// first problems it names.
pub(super) fn quick_check(conn: &Connection, path: &Path) -> Result<()> {
    let problems = sqlite_check(conn, "quick_check").map_err(store_err(path))?;
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::Damaged {
        path: path.display().to_string(),
        why: problems.iter().take(3).cloned().collect::<Vec<_>>().join("; "),
    })
}

/// The rows of `PRAGMA {pragma}` (`quick_check` or `integrity_check`) other than `ok`.
fn sqlite_check(conn: &Connection, pragma: &str) -> rusqlite::Result<Vec<String>> {
    let mut q = conn.prepare(&format!("PRAGMA {pragma}({MAX_PROBLEMS})"))?;
    let rows = q.query_map([], |r| r.get::<_, String>(0))?;
    let rows = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows.into_iter().filter(|r| r != "ok").collect())
}

/// Checks the store at `path` without writing to it, while a writer may be running (in
/// another process: it reads the file's header itself before it connects, which would
/// drop the locks of this process's own connections to the store):
/// the file against its header, SQLite's `integrity_check`, every chunk decoded, and the
/// counters against the tables. A missing file is [`Error::NoStore`], a file that is not
/// an SQLite database [`Error::NotAStore`]; damage is in the report.
pub fn check(path: &Path) -> Result<CheckReport> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|reason| match reason.kind() {
        std::io::ErrorKind::NotFound => Error::NoStore { path: shown.clone() },
        _ => Error::Io {
            what: format!("reading {shown}"),
            reason,
        },
    })?;
    let not_a_store = |why: &str| Error::NotAStore {
        path: shown.clone(),
        why: why.to_owned(),
    };
    if !meta.is_file() {
        return Err(not_a_store("not a file"));
    }
    if meta.len() == 0 {
        return Err(not_a_store("the file is empty"));
    }
    let (page_size_bytes, pages) = read_header(path)?;
    let file_problem = match pages {
        Some(pages) if !has_wal(path) => truncation(pages, page_size_bytes, meta.len()),
        _ => None,
    };
    let mut report = CheckReport {
        path: shown,
        ok: false,
        file_bytes: meta.len(),
        page_size_bytes,
        layout_version: None,
        file_problems: file_problem.into_iter().collect(),
        sqlite_problems: Vec::new(),
        chunks: 0,
        chunk_readings: 0,
        chunk_problems: Vec::new(),
        count_problems: Vec::new(),
    };
    match Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY) {
        Ok(conn) => {
            let _ = conn.busy_timeout(std::time::Duration::from_secs(10));
            check_contents(&conn, path, &mut report);
        }
        Err(e) => report.sqlite_problems.push(e.to_string()),
    }
    report.ok = report.file_problems.is_empty()
        && report.sqlite_problems.is_empty()
        && report.chunk_problems.is_empty()
        && report.count_problems.is_empty();
    Ok(report)
}

/// The checks that read the database: SQLite's, then (if its pages are sound) the
/// chunks and the counters.
fn check_contents(conn: &Connection, path: &Path, report: &mut CheckReport) {
    match sqlite_check(conn, "integrity_check") {
        Ok(problems) => report.sqlite_problems = problems,
        Err(e) => report.sqlite_problems.push(e.to_string()),
    }
    if !report.sqlite_problems.is_empty() {
        return; // the tables cannot be trusted to read
    }
    report.layout_version = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).ok();
    if report.layout_version.is_none_or(|v| v < STORE_VERSION) {
        return; // an older layout: its writer upgrades it, and its counters differ
    }
    if let Err(e) = check_chunks(conn, path, report) {
        report.chunk_problems.push(e.to_string());
    }
    if let Err(e) = check_counts(conn, report) {
        report.count_problems.push(e.to_string());
    }
}

/// Decodes every chunk (as a reader does) and counts its readings.
fn check_chunks(conn: &Connection, path: &Path, report: &mut CheckReport) -> rusqlite::Result<()> {
    let mut q = conn.prepare("SELECT id, first_ms, last_ms, count, data FROM chunks")?;
    let mut rows = q.query([])?;
    let mut readings = Vec::new();
    while let Some(row) = rows.next()? {
        report.chunks += 1;
        readings.clear();
        let decoded = ChunkRow::read(row)
            .map_err(|e| e.to_string())
            .and_then(|c| c.decode(path, &mut readings).map_err(|e| e.to_string()));
        match decoded {
            Ok(()) => report.chunk_readings += readings.len() as u64,
            Err(why) if report.chunk_problems.len() < MAX_PROBLEMS => report.chunk_problems.push(why),
            Err(_) => {}
        }
    }
    Ok(())
}

/// The counters a commit and a retention pass keep, against the rows they count.
fn check_counts(conn: &Connection, report: &mut CheckReport) -> rusqlite::Result<()> {
    let one = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0));
    let counter = |name: &str| {
        one(&format!(
            "SELECT COALESCE((SELECT value FROM counters WHERE name = '{name}'), 0)"
        ))
    };
    for (name, rows) in [
        ("readings", "SELECT COALESCE(SUM(count), 0) FROM chunks"),
        (
            "downsampled_readings",
            "SELECT COALESCE(SUM(count), 0) FROM downsampled",
        ),
    ] {
        let (kept, held) = (counter(name)?, one(rows)?);
        if kept != held {
            report
                .count_problems
                .push(format!("counter {name} is {kept}, the tables hold {held}"));
        }
    }
    let mut q = conn.prepare(
        "SELECT p.name, s.readings, (SELECT COALESCE(SUM(count), 0) FROM chunks c WHERE c.point_id = s.point_id)
         FROM point_stats s JOIN points p ON p.id = s.point_id",
    )?;
    let rows = q.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
    })?;
    for row in rows {
        let (point, kept, held) = row?;
        if kept != held && report.count_problems.len() < MAX_PROBLEMS {
            report.count_problems.push(format!(
                "point {point}: point_stats counts {kept} raw readings, its chunks hold {held}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_shorter_than_its_pages_is_truncated() {
        assert_eq!(truncation(10, 4096, 40_960), None);
        // Longer is fine: SQLite may leave free space after the last page it counts.
        assert_eq!(truncation(10, 4096, 45_056), None);
        let why = truncation(10, 4096, 36_864).unwrap();
        assert!(why.contains("10 pages of 4096 bytes (40960 bytes)"), "{why}");
        assert!(why.contains("36864"), "{why}");
        let why = truncation(1, 4096, 5000).unwrap();
        assert!(why.contains("not a whole number of 4096-byte pages"), "{why}");
        assert_eq!(truncation(0, 4096, 0), None, "a new, empty store");
    }
}
