//! Errors of reading and validating input files.
//!
//! Every error names the file it came from. Validation does not stop at the first
//! problem: it collects every [`Problem`] with the path of the offending field
//! (`halls[2].cdu.flow_l_per_min: must be > 0`) so that a user fixes a file in one pass.

use std::fmt;
use std::path::PathBuf;

/// Result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an error is, for whoever reports it: every crate's error says
/// its kind, so that the HTTP API maps errors to status codes (400/404/409/422/500) and
/// the command line to exit codes without matching on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The input is malformed (syntax, types, a bad parameter): the caller's mistake.
    BadInput,
    /// The input is well formed but breaks a rule of the model (an invalid campus, an
    /// infeasible request): the caller's mistake, found by checking it.
    Invalid,
    /// What was asked for does not exist.
    NotFound,
    /// The request conflicts with the current state (already exists, not ready yet).
    Conflict,
    /// A dependency is unavailable for now (broker, database, solver busy): try again.
    Unavailable,
    /// Our own failure.
    Internal,
}

/// What went wrong while reading an input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("{}: {reason}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason (in the message, not a separate cause, so that
        /// printing the chain says it once).
        reason: std::io::Error,
    },
    /// The file is not well formed (syntax or types); the message carries the field
    /// path and, where the format knows it, the line.
    #[error("{file}: {message}")]
    Parse {
        /// The file, as the user named it.
        file: String,
        /// Field path or line, and the reason.
        message: String,
    },
    /// The file is well formed but its content breaks one or more rules.
    #[error("{file}: {problems}")]
    Invalid {
        /// The file, as the user named it.
        file: String,
        /// Every rule broken, each with its field path.
        problems: Problems,
    },
    /// A line-oriented file (weather, CSV) has a bad line.
    #[error("{file}, line {line}: {message}")]
    Line {
        /// The file, as the user named it.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        message: String,
    },
}

impl Error {
    /// Its kind: a file that cannot be read is unavailable, one that does not parse is
    /// bad input, one that breaks rules is invalid.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { reason, .. } if reason.kind() == std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            Error::Io { .. } => ErrorKind::Unavailable,
            Error::Parse { .. } | Error::Line { .. } => ErrorKind::BadInput,
            Error::Invalid { .. } => ErrorKind::Invalid,
        }
    }

    /// A parse error of `file`.
    pub fn parse(file: impl Into<String>, message: impl fmt::Display) -> Self {
        Error::Parse {
            file: file.into(),
            message: message.to_string(),
        }
    }

    /// A TOML error in `text` of `file`: its line, column and reason, with the line cut
    /// to 120 characters around the column (the parser's own message repeats the whole
    /// line and a marker line as long: 4 MB of message for a 2 MB line).
    pub fn toml(file: impl Into<String>, text: &str, error: &toml::de::Error) -> Self {
        Error::parse(file, toml_reason(text, error))
    }

    /// An error at `line` of `file`.
    pub fn line(file: impl Into<String>, line: usize, message: impl fmt::Display) -> Self {
        Error::Line {
            file: file.into(),
            line,
            message: message.to_string(),
        }
    }
}

/// One broken rule: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Path of the field, `halls[2].cdu.flow_l_per_min`; empty for the whole file.
    pub path: String,
    /// Why it is wrong, as a sentence fragment (`must be > 0`).
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in one input, in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problems(Vec<Problem>);

impl Problems {
    /// No problems yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that the field at `path` is wrong because of `message`.
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    /// Records `message` at `path` unless `ok` holds.
    pub fn check(&mut self, ok: bool, path: impl Into<String>, message: impl Into<String>) {
        if !ok {
            self.push(path, message);
        }
    }

    /// Checks that `value` is finite and strictly positive.
    pub fn positive(&mut self, path: impl Into<String>, value: f64) {
        if !(value.is_finite() && value > 0.0) {
            self.push(path, format!("must be a finite number > 0, got {value}"));
        }
    }

    /// Checks that `value` is finite and not negative.
    pub fn non_negative(&mut self, path: impl Into<String>, value: f64) {
        if !(value.is_finite() && value >= 0.0) {
            self.push(path, format!("must be a finite number >= 0, got {value}"));
        }
    }

    /// Checks that `value` is finite and within `[lo, hi]`.
    pub fn within(&mut self, path: impl Into<String>, value: f64, lo: f64, hi: f64) {
        if !(value.is_finite() && (lo..=hi).contains(&value)) {
            self.push(path, format!("must be within [{lo}, {hi}], got {value}"));
        }
    }

    /// Checks that `value` is finite.
    pub fn finite(&mut self, path: impl Into<String>, value: f64) {
        if !value.is_finite() {
            self.push(path, format!("must be a finite number, got {value}"));
        }
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many problems were recorded.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The problems, in the order found.
    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }

    /// `Ok(())` when empty, else [`Error::Invalid`] for `file`.
    pub fn into_result(self, file: impl Into<String>) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid {
                file: file.into(),
                problems: self,
            })
        }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems:", many.len())?;
                for p in many {
                    write!(f, "\n  - {p}")?;
                }
                Ok(())
            }
        }
    }
}

/// The reason of a TOML error, placed by line and column where the parser knows them,
/// with at most 120 characters of the line around the column.
pub fn toml_reason(text: &str, error: &toml::de::Error) -> String {
    const AROUND: usize = 60;
    let reason = error.message().trim_end();
    let Some(at) = error.span().map(|s| s.start.min(text.len())) else {
        return reason.to_string();
    };
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line = text[..at].matches('\n').count() + 1;
    let column = text[line_start..at].chars().count() + 1;
    let chars: Vec<char> = text[line_start..line_end].chars().collect();
    let from = (column - 1).saturating_sub(AROUND);
    let to = (column - 1 + AROUND).min(chars.len());
    let mut near: String = chars[from..to].iter().collect();
    if from > 0 {
        near.insert(0, '…');
    }
    if to < chars.len() {
        near.push('…');
    }
    format!("line {line}, column {column}: {reason} (near `{}`)", near.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_are_listed_with_their_paths() {
        let mut p = Problems::new();
        p.positive("halls[0].racks", 0.0);
        p.within("site.latitude_deg", 95.0, -90.0, 90.0);
        p.positive("ok", 1.0);
        let err = p.into_result("campus.toml").unwrap_err().to_string();
        assert!(err.starts_with("campus.toml: 2 problems:"), "{err}");
        assert!(
            err.contains("halls[0].racks: must be a finite number > 0, got 0"),
            "{err}"
        );
        assert!(
            err.contains("site.latitude_deg: must be within [-90, 90], got 95"),
            "{err}"
        );
    }

    #[test]
    fn nan_is_never_accepted() {
        let mut p = Problems::new();
        p.positive("a", f64::NAN);
        p.non_negative("b", f64::NAN);
        p.within("c", f64::NAN, 0.0, 1.0);
        p.finite("d", f64::INFINITY);
        assert_eq!(p.len(), 4);
    }
}
