//! One HiGHS instance holding one model: options, runs, solutions, bases and crossover,
//! run after run on the same instance.
//!
//! The `highs` crate loads a model and sets typed options; what the fallbacks and the
//! warm re-solves need beyond that (running without giving up the instance, reading and
//! setting a basis, crossover from a given point, info values) goes to HiGHS's C API
//! here. This is the one module of the workspace with `unsafe`: each call passes the
//! instance's own pointer and buffers sized from the instance's own counts.
#![allow(unsafe_code)]

use std::ffi::{CString, c_void};

use highs::HighsModelStatus;
use highs_sys as sys;

use crate::error::{Error, Result};

/// A basis: for each column and each row, HiGHS's basis status (`kHighsBasisStatus`:
/// 0 at lower, 1 basic, 2 at upper, 3 zero (free), 4 nonbasic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basis {
    /// Status of each column.
    pub cols: Vec<i32>,
    /// Status of each row.
    pub rows: Vec<i32>,
}

/// Basis status "at its lower bound".
pub const AT_LOWER: i32 = 0;
/// Basis status "basic".
pub const BASIC: i32 = 1;

/// A primal and dual point of the model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Point {
    /// Column values.
    pub col_value: Vec<f64>,
    /// Column duals (reduced costs).
    pub col_dual: Vec<f64>,
    /// Row activities.
    pub row_value: Vec<f64>,
    /// Row duals.
    pub row_dual: Vec<f64>,
}

/// A loaded model, run and re-run in place.
pub struct Engine {
    model: highs::Model,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("cols", &self.cols())
            .field("rows", &self.rows())
            .finish()
    }
}

fn cstring(text: &str, what: &'static str) -> Result<CString> {
    CString::new(text).map_err(|_| Error::Solver {
        action: what,
        reason: format!("`{text}` holds a NUL byte"),
    })
}

fn as_highs_int(n: usize) -> i32 {
    // invariant: HiGHS itself holds n columns or rows in its (32-bit) HighsInt.
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl Engine {
    /// Takes over a loaded model, to be solved on `threads` threads. HiGHS sizes its
    /// thread pool once per process, at the first run: every engine of a process must be
    /// given the same number.
    pub fn new(model: highs::Model, threads: u32) -> Result<Self> {
        let mut engine = Engine { model };
        engine.set("threads", &threads.max(1).to_string())?;
        Ok(engine)
    }

    fn ptr(&self) -> *const c_void {
        self.model.as_ptr()
    }

    fn mut_ptr(&mut self) -> *mut c_void {
        self.model.as_mut_ptr()
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        // SAFETY: the pointer is this instance's, alive as long as `self`.
        usize::try_from(unsafe { sys::Highs_getNumCol(self.ptr()) }).unwrap_or(0)
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        // SAFETY: as in `cols`.
        usize::try_from(unsafe { sys::Highs_getNumRow(self.ptr()) }).unwrap_or(0)
    }

    /// Sets an option from its text, whatever its type (HiGHS parses it).
    pub fn set(&mut self, name: &str, value: &str) -> Result<()> {
        let (key, text) = (cstring(name, "set an option")?, cstring(value, "set an option")?);
        // SAFETY: both strings are NUL-terminated and live across the call.
        let status = unsafe { sys::Highs_setOptionValue(self.mut_ptr(), key.as_ptr(), text.as_ptr()) };
        if status == sys::STATUS_ERROR {
            return Err(Error::Solver {
                action: "set an option",
                reason: format!("HiGHS does not take {name} = {value}"),
            });
        }
        Ok(())
    }

    /// Runs HiGHS on the model as it stands (from its basis, when it has a valid one) and
    /// returns the model status.
    pub fn run(&mut self) -> Result<HighsModelStatus> {
        // SAFETY: the pointer is this instance's.
        let status = unsafe { sys::Highs_run(self.mut_ptr()) };
        if status == sys::STATUS_ERROR && self.status() == HighsModelStatus::NotSet {
            return Err(Error::Solver {
                action: "run HiGHS",
                reason: "it returned an error before solving (has this process run HiGHS with \
                         another number of threads?)"
                    .into(),
            });
        }
        Ok(self.status())
    }

    /// The model status of the last run.
    pub fn status(&self) -> HighsModelStatus {
        // SAFETY: as in `cols`.
        let raw = unsafe { sys::Highs_getModelStatus(self.ptr()) };
        HighsModelStatus::try_from(raw).unwrap_or(HighsModelStatus::Unknown)
    }

    /// The objective value of the last run's solution.
    pub fn objective(&self) -> f64 {
        // SAFETY: as in `cols`.
        unsafe { sys::Highs_getObjectiveValue(self.ptr()) }
    }

    /// An integer info value (`simplex_iteration_count`, `basis_validity`, …).
    pub fn int_info(&self, name: &str) -> Option<i64> {
        let key = cstring(name, "read an info value").ok()?;
        let mut value: sys::HighsInt = 0;
        // SAFETY: `value` outlives the call; `key` is NUL-terminated.
        let status = unsafe { sys::Highs_getIntInfoValue(self.ptr(), key.as_ptr(), &raw mut value) };
        if status == sys::STATUS_OK {
            return Some(i64::from(value));
        }
        let mut wide: i64 = 0;
        // SAFETY: as above, for an info item of 64 bits.
        let status = unsafe { sys::Highs_getInt64InfoValue(self.ptr(), key.as_ptr(), &raw mut wide) };
        (status == sys::STATUS_OK).then_some(wide)
    }

    /// A floating-point info value (`mip_gap`, `primal_dual_objective_error`, …).
    pub fn double_info(&self, name: &str) -> Option<f64> {
        let key = cstring(name, "read an info value").ok()?;
        let mut value = 0.0;
        // SAFETY: as in `int_info`.
        let status = unsafe { sys::Highs_getDoubleInfoValue(self.ptr(), key.as_ptr(), &raw mut value) };
        (status == sys::STATUS_OK).then_some(value)
    }

    /// Whether the last run left a primal solution (feasible or not).
    pub fn has_point(&self) -> bool {
        self.int_info("primal_solution_status")
            .is_some_and(|s| s != i64::from(sys::SOLUTION_STATUS_NONE))
    }

    /// Whether the last run left a feasible primal solution.
    pub fn has_feasible_point(&self) -> bool {
        self.int_info("primal_solution_status") == Some(i64::from(sys::SOLUTION_STATUS_FEASIBLE))
    }

    /// The last run's primal and dual values.
    pub fn point(&self) -> Point {
        let (n, m) = (self.cols(), self.rows());
        let mut p = Point {
            col_value: vec![0.0; n],
            col_dual: vec![0.0; n],
            row_value: vec![0.0; m],
            row_dual: vec![0.0; m],
        };
        // SAFETY: each buffer holds exactly as many values as the instance has columns
        // or rows, which is what HiGHS writes.
        unsafe {
            sys::Highs_getSolution(
                self.ptr(),
                p.col_value.as_mut_ptr(),
                p.col_dual.as_mut_ptr(),
                p.row_value.as_mut_ptr(),
                p.row_dual.as_mut_ptr(),
            );
        }
        p
    }

    /// The basis of the last run (or crossover), when it left a valid one.
    pub fn basis(&self) -> Option<Basis> {
        let mut basis = Basis {
            cols: vec![0; self.cols()],
            rows: vec![0; self.rows()],
        };
        // SAFETY: the buffers are sized from the instance's counts; HiGHS writes nothing
        // when it has no valid basis.
        let status =
            unsafe { sys::Highs_getBasis(self.ptr(), basis.cols.as_mut_ptr(), basis.rows.as_mut_ptr()) };
        (status == sys::STATUS_OK).then_some(basis)
    }

    /// Starts the next run from `basis`, which may come from another model of the same
    /// kind: HiGHS repairs a basis with too many or too few basic variables (an "alien"
    /// basis) into a nonsingular one.
    pub fn set_basis(&mut self, basis: &Basis) -> Result<()> {
        if basis.cols.len() != self.cols() || basis.rows.len() != self.rows() {
            return Err(Error::Solver {
                action: "set a basis",
                reason: format!(
                    "{} column and {} row statuses for a model of {} columns and {} rows",
                    basis.cols.len(),
                    basis.rows.len(),
                    self.cols(),
                    self.rows()
                ),
            });
        }
        // SAFETY: the buffers have exactly the instance's counts (checked above).
        let status = unsafe { sys::Highs_setBasis(self.mut_ptr(), basis.cols.as_ptr(), basis.rows.as_ptr()) };
        if status == sys::STATUS_ERROR {
            return Err(Error::Solver {
                action: "set a basis",
                reason: "HiGHS refused it".into(),
            });
        }
        Ok(())
    }

    /// Runs IPX's crossover from `point` (a primal and dual point, typically an interior
    /// point's) to a basic solution, and returns the model status it reached.
    pub fn crossover(&mut self, point: &Point) -> Result<HighsModelStatus> {
        let (n, m) = (self.cols(), self.rows());
        if point.col_value.len() != n || point.col_dual.len() != n || point.row_dual.len() != m {
            return Err(Error::Solver {
                action: "run crossover",
                reason: "the point is not of this model".into(),
            });
        }
        // SAFETY: the buffers have the instance's counts (checked above); HiGHS only
        // reads them.
        let status = unsafe {
            sys::Highs_crossover(
                self.mut_ptr(),
                as_highs_int(n),
                as_highs_int(m),
                point.col_value.as_ptr(),
                point.col_dual.as_ptr(),
                point.row_dual.as_ptr(),
            )
        };
        if status == sys::STATUS_ERROR && self.status() == HighsModelStatus::NotSet {
            return Err(Error::Solver {
                action: "run crossover",
                reason: "HiGHS returned an error".into(),
            });
        }
        Ok(self.status())
    }

    /// Forgets the last run's solution and basis, so that the next run starts cold.
    pub fn clear_solver(&mut self) {
        // SAFETY: the pointer is this instance's.
        unsafe {
            sys::Highs_clearSolver(self.mut_ptr());
        }
    }
}
