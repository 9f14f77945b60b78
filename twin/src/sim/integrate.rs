//! Advancing the campus state over one segment with `ode_solvers`' adaptive Dopri5.
//!
//! Inputs are held constant over a segment, so the right-hand side is smooth inside it
//! and the integrator never steps across a discontinuity. Each segment starts from the
//! step size the previous one settled on (a segment of `L` seconds that took `n` steps
//! suggests `2L/n`), which saves the warm-up of the automatic initial step. Output is
//! taken as the solver's own accepted steps (sparse): ode_solvers 0.6's dense output
//! mis-places its end point when the output interval spans several steps.

use ode_solvers::{DVector, Dopri5, OutputType, System};

use crate::campus::{CampusModel, Inputs};
use crate::error::{Error, Result};

/// The campus right-hand side under held inputs, as ode_solvers wants it.
struct Rhs<'a> {
    model: &'a CampusModel,
    inputs: &'a Inputs,
}

impl System<f64, DVector<f64>> for Rhs<'_> {
    fn system(&self, _t: f64, y: &DVector<f64>, dy: &mut DVector<f64>) {
        self.model
            .derivatives(y.as_slice(), self.inputs, dy.as_mut_slice());
    }
}

/// Integration counters over a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationStats {
    /// Segments integrated.
    pub segments: u64,
    /// Accepted steps.
    pub steps: u64,
    /// Rejected steps.
    pub rejected_steps: u64,
    /// Right-hand-side evaluations.
    pub rhs_evaluations: u64,
}

/// Dopri5 with the tolerances of a run and the step size carried between segments.
#[derive(Debug, Clone)]
pub struct Integrator {
    /// Relative tolerance.
    pub rtol: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Step size to start the next segment with, s (0: let the solver choose).
    h_next: f64,
    /// Counters.
    pub stats: IntegrationStats,
}

impl Integrator {
    /// An integrator with these tolerances.
    pub fn new(rtol: f64, atol: f64) -> Self {
        Integrator {
            rtol,
            atol,
            h_next: 0.0,
            stats: IntegrationStats::default(),
        }
    }

    /// Step size the next segment starts with, s (0: the solver chooses): part of what
    /// a saved run must restore to continue exactly.
    pub fn next_step_s(&self) -> f64 {
        self.h_next
    }

    /// Restores the step size and counters of a saved run.
    pub fn restore(&mut self, next_step_s: f64, stats: IntegrationStats) {
        self.h_next = next_step_s;
        self.stats = stats;
    }

    /// Advances `y` from `t0_s` to `t1_s` under `inputs`.
    pub fn advance(
        &mut self,
        model: &CampusModel,
        inputs: &Inputs,
        y: &mut DVector<f64>,
        t0_s: f64,
        t1_s: f64,
    ) -> Result<()> {
        let length = t1_s - t0_s;
        if length <= 0.0 {
            return Ok(());
        }
        let h = self.h_next.min(length);
        let mut solver = Dopri5::from_param(
            Rhs { model, inputs },
            t0_s,
            t1_s,
            length,
            y.clone(),
            self.rtol,
            self.atol,
            0.9,
            0.04,
            0.2,
            10.0,
            length,
            h,
            1_000_000,
            u32::MAX,
            OutputType::Sparse,
        );
        let stats = solver.integrate().map_err(|e| Error::Integration {
            t_s: t0_s,
            message: e.to_string(),
        })?;
        let end = solver.y_out().last().ok_or_else(|| Error::Integration {
            t_s: t0_s,
            message: "the solver returned no state".into(),
        })?;
        y.copy_from(end);
        self.stats.segments += 1;
        self.stats.steps += u64::from(stats.accepted_steps);
        self.stats.rejected_steps += u64::from(stats.rejected_steps);
        self.stats.rhs_evaluations += u64::from(stats.num_eval);
        // Start the next segment with twice the mean step of this one: the controller would
        // have grown it had the segment been longer, and a rejected first try costs one step.
        self.h_next = 2.0 * length / f64::from(stats.accepted_steps.max(1));
        Ok(())
    }
}
