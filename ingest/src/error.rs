//! Errors of the ingest crate.

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
}
