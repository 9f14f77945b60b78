//! Exit codes: 0 success, 1 a failure while running, 2 bad input.
//!
//! A command marks an error as the user's input being wrong with [`BadInput`]; `main`
//! looks for that mark anywhere in the error chain to choose the exit code.

use std::fmt;
use std::process::ExitCode;

/// The user's input (a file, a flag, a payload) is wrong. Exit code 2.
#[derive(Debug)]
pub struct BadInput(pub anyhow::Error);

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The alternate form prints the whole cause chain of the inner error.
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for BadInput {}

/// Marks the error of a result as bad input.
pub trait BadInputExt<T> {
    /// Turns an error into [`BadInput`].
    fn bad_input(self) -> anyhow::Result<T>;
}

impl<T, E> BadInputExt<T> for Result<T, E>
where
    E: Into<anyhow::Error>,
{
    fn bad_input(self) -> anyhow::Result<T> {
        self.map_err(|e| anyhow::Error::new(BadInput(e.into())))
    }
}

/// Prints the error and returns its exit code.
pub fn report(err: &anyhow::Error) -> ExitCode {
    eprintln!("error: {err:#}");
    if err.chain().any(|cause| cause.is::<BadInput>()) {
        ExitCode::from(2)
    } else {
        ExitCode::from(1)
    }
}
