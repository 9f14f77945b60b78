//! The CampusTwin scheduler: which training jobs run where, on how many GPUs, at what
//! GPU power cap, and how the battery and generators are dispatched, against the grid
//! import limit, the cooling capacity, deadlines and volatile prices.
//!
//! The problem and plan types live in [`models::schedule`]; this crate builds the LP of
//! `docs/optimizer-formulation.md` with `good_lp` ([`model`], one `define_*` function per
//! variable or constraint family), solves it with HiGHS ([`solve()`]), explains an
//! infeasible problem ([`diagnose`]), re-checks any plan without the solver ([`check`])
//! and writes realistic example problems ([`example`]).
//!
//! ```
//! use optimizer::{SolveOptions, check_plan, example, solve};
//! use models::schedule::PlanStatus;
//!
//! let mut size = example::ExampleSize::SMALL;
//! size.jobs = 4;
//! size.slots = 8;
//! let problem = example::example(size, 1);
//! let plan = solve(&problem, &SolveOptions::default()).unwrap();
//! assert_eq!(plan.status, PlanStatus::Optimal);
//! // The plan meets every constraint, re-checked without the solver.
//! assert!(check_plan(&problem, &plan).is_ok());
//! ```

pub mod aggregate;
pub mod change;
pub mod check;
pub mod cost;
pub mod diagnose;
pub mod engine;
mod error;
pub mod example;
pub mod ladder;
pub mod lp;
pub mod model;
pub mod session;
pub mod solve;

#[cfg(test)]
mod tests;

pub use check::{CheckReport, Violation, check_plan};
pub use error::{Error, Result};
pub use solve::{Method, SolveOptions, solve, solve_checked};
