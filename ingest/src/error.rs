//! Errors of the ingest crate, each with its [`ErrorKind`] so that a front door (the
//! command line's exit codes, the HTTP API's status codes) maps it without reading its
//! message.

pub use models::ErrorKind;

/// Result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in ingest. Bad payloads are not errors: they are rejections, counted
/// and dead-lettered (see [`crate::Reason`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store failed (open, write, read).
    #[error("store {path}: {reason}")]
    Store {
        /// The store file.
        path: String,
        /// SQLite's reason (in the message, not a separate cause, so that printing the
        /// chain says it once).
        reason: rusqlite::Error,
    },
    /// The store file is damaged: shorter than its header says (a copy cut short), or
    /// pages that do not read back as SQLite wrote them. Nothing is written to it.
    #[error(
        "store {path} is damaged: {why}. `campustwin store check {path}` lists what is wrong; restore the store from a copy or move it aside"
    )]
    Damaged {
        /// The store file.
        path: String,
        /// What was found.
        why: String,
    },
    /// A chunk of stored readings does not decode: the store file is damaged.
    #[error("store {path}: chunk {chunk_id} is corrupt: {reason}")]
    Chunk {
        /// The store file.
        path: String,
        /// The chunk's id (`chunks.id`).
        chunk_id: i64,
        /// What is wrong with it.
        reason: crate::store::chunk::Corrupt,
    },
    /// A configuration (point map, broker URL, flag) is wrong.
    #[error("{0}")]
    Config(String),
    /// A point map file could not be read or is invalid.
    #[error(transparent)]
    PointMap(#[from] models::Error),
    /// The MQTT connection or a broker failed in a way that retrying does not fix.
    #[error("mqtt: {0}")]
    Mqtt(String),
    /// The InfluxDB sink failed.
    #[error("influxdb sink: {0}")]
    Sink(String),
    /// A file or socket operation failed.
    #[error("{what}: {reason}")]
    Io {
        /// What was being done.
        what: String,
        /// The operating system's reason (in the message only, as for `Store`).
        reason: std::io::Error,
    },
    /// There is no store file at the path.
    #[error("no store at {path}")]
    NoStore {
        /// The path asked for.
        path: String,
    },
    /// The file is not an ingest store (not SQLite, or without the store's tables).
    #[error("{path} is not a CampusTwin ingest store: {why}")]
    NotAStore {
        /// The file.
        path: String,
        /// What gives it away.
        why: String,
    },
    /// The store's layout is older than this program reads, and a reader does not
    /// upgrade it: the writer (`Store::open`, `campustwin ingest`) does when it opens it.
    #[error(
        "store {path} has layout version {version}, older than {current}: open it with its writer (campustwin ingest) once to upgrade it"
    )]
    Outdated {
        /// The file.
        path: String,
        /// Its layout version (`PRAGMA user_version`).
        version: i64,
        /// The version this program reads.
        current: i64,
    },
    /// What a query asked for does not exist (a point, a forecast).
    #[error("{0}")]
    NotFound(String),
    /// An argument of a query is wrong (a time range that ends before it starts, a zero
    /// step or limit).
    #[error("{0}")]
    Query(String),
    /// A write conflicts with what is stored (a forecast id already logged).
    #[error("{0}")]
    Conflict(String),
    /// A stored forecast's body does not parse: the store is damaged, or was written by
    /// an incompatible version.
    #[error("store {path}: forecast {id} does not parse: {reason}")]
    ForecastBody {
        /// The store file.
        path: String,
        /// The forecast's id.
        id: i64,
        /// Why (in the message only, as for `Store`).
        reason: serde_json::Error,
    },
}

impl Error {
    /// Whether the store could not write for want of space: the disk is full, or the
    /// store reached its size limit. Retrying succeeds once space returns.
    pub fn is_store_full(&self) -> bool {
        matches!(self, Error::Store { reason, .. }
            if reason.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull))
    }

    /// What kind of failure this is. The store busy or locked beyond its timeout, the
    /// broker and the InfluxDB server are unavailable (try again); a configuration or
    /// query argument is bad input; a missing store, point or forecast is not found; a
    /// damaged store or any other SQLite failure is internal.
    pub fn kind(&self) -> ErrorKind {
        use rusqlite::ErrorCode as Code;
        match self {
            Error::Store { reason, .. } => match reason.sqlite_error_code() {
                Some(Code::DatabaseBusy | Code::DatabaseLocked) => ErrorKind::Unavailable,
                _ => ErrorKind::Internal,
            },
            Error::Chunk { .. } | Error::ForecastBody { .. } | Error::Damaged { .. } => ErrorKind::Internal,
            Error::Config(_) | Error::Query(_) | Error::NotAStore { .. } => ErrorKind::BadInput,
            Error::PointMap(e) => e.kind(),
            Error::Mqtt(_) | Error::Sink(_) | Error::Outdated { .. } => ErrorKind::Unavailable,
            Error::Io { reason, .. } => match reason.kind() {
                std::io::ErrorKind::NotFound => ErrorKind::NotFound,
                std::io::ErrorKind::AddrInUse => ErrorKind::Conflict,
                _ => ErrorKind::Internal,
            },
            Error::NoStore { .. } | Error::NotFound(_) => ErrorKind::NotFound,
            Error::Conflict(_) => ErrorKind::Conflict,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn every_error_says_its_kind() {
        let store = |reason| Error::Store {
            path: "s.db".into(),
            reason,
        };
        let io = |kind| Error::Io {
            what: "x".into(),
            reason: std::io::Error::from(kind),
        };
        for (e, kind) in [
            (store(sqlite(rusqlite::ffi::SQLITE_BUSY)), ErrorKind::Unavailable),
            (
                store(sqlite(rusqlite::ffi::SQLITE_LOCKED)),
                ErrorKind::Unavailable,
            ),
            (store(sqlite(rusqlite::ffi::SQLITE_CORRUPT)), ErrorKind::Internal),
            (
                Error::Damaged {
                    path: "s.db".into(),
                    why: "x".into(),
                },
                ErrorKind::Internal,
            ),
            (store(rusqlite::Error::QueryReturnedNoRows), ErrorKind::Internal),
            (Error::Config("x".into()), ErrorKind::BadInput),
            (Error::Query("x".into()), ErrorKind::BadInput),
            (Error::NotFound("x".into()), ErrorKind::NotFound),
            (Error::NoStore { path: "s.db".into() }, ErrorKind::NotFound),
            (Error::Conflict("x".into()), ErrorKind::Conflict),
            (Error::Mqtt("x".into()), ErrorKind::Unavailable),
            (Error::Sink("x".into()), ErrorKind::Unavailable),
            (io(std::io::ErrorKind::NotFound), ErrorKind::NotFound),
            (io(std::io::ErrorKind::AddrInUse), ErrorKind::Conflict),
            (io(std::io::ErrorKind::PermissionDenied), ErrorKind::Internal),
        ] {
            assert_eq!(e.kind(), kind, "{e:?}");
        }
    }

    #[test]
    fn only_a_full_disk_is_a_full_store() {
        let store = |code| Error::Store {
            path: "s.db".into(),
            reason: sqlite(code),
        };
        assert!(store(rusqlite::ffi::SQLITE_FULL).is_store_full());
        assert!(!store(rusqlite::ffi::SQLITE_IOERR).is_store_full());
        assert!(!store(rusqlite::ffi::SQLITE_BUSY).is_store_full());
        assert!(!Error::Config("x".into()).is_store_full());
    }
}
