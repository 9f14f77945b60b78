//! Errors of the optimizer.

/// Result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong between a problem and a plan. An infeasible problem is not an
/// error: it is a plan with status `infeasible` and a diagnosis.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The problem file could not be read or breaks a rule (bad input).
    #[error(transparent)]
    Input(#[from] models::Error),
    /// HiGHS failed (a model, presolve or solve error, or an unexpected status).
    #[error("HiGHS could not {action}: {reason}")]
    Solver {
        /// What was being done.
        action: &'static str,
        /// HiGHS's status or message.
        reason: String,
    },
    /// The time limit ran out before any schedule satisfying the constraints was found.
    #[error("the time limit of {time_limit_s} s ran out before any feasible schedule was found")]
    NoSolution {
        /// The limit, s.
        time_limit_s: f64,
    },
    /// The plan does not satisfy the problem (the independent check failed).
    #[error("the plan breaks {count} constraint(s); first: {first}")]
    CheckFailed {
        /// How many violations.
        count: usize,
        /// The first violation.
        first: String,
    },
}
