//! Errors of building and running a campus model.

/// Result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input file or value is wrong (campus, weather, load, scenario).
    #[error(transparent)]
    Input(#[from] models::Error),
    /// The campus is valid data but cannot be built into a physical model; the message
    /// names the field and the reason (a CDU rating that violates the second law, say).
    #[error("{path}: {message}")]
    Model {
        /// Field path in the campus file.
        path: String,
        /// Why the model cannot be built.
        message: String,
    },
    /// A scenario or run option does not fit the campus.
    #[error("{0}")]
    Scenario(String),
    /// The integrator failed (step size underflow, too many steps).
    #[error("integration failed at t = {t_s:.1} s: {message}")]
    Integration {
        /// Simulated time since the start, s.
        t_s: f64,
        /// The integrator's reason.
        message: String,
    },
}

impl Error {
    /// A model-building error at `path`.
    pub fn model(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Model {
            path: path.into(),
            message: message.into(),
        }
    }
}
