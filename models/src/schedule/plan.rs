//! The plan file: the optimizer's answer to a [`ScheduleProblem`](super::ScheduleProblem).
//!
//! Per-slot series have one value per slot (`soc_kwh` one more: the state at the start
//! of every slot and at the end of the horizon). An infeasible plan carries its
//! diagnosis and no series.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How the solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Proven optimal (for a MILP: within the solver's relative gap tolerance).
    Optimal,
    /// No schedule meets every constraint; `infeasibilities` says which and where.
    Infeasible,
    /// The time limit stopped the solver; the plan is the best schedule found.
    TimeLimit,
}

impl PlanStatus {
    /// The name used in the plan file.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Optimal => "optimal",
            PlanStatus::Infeasible => "infeasible",
            PlanStatus::TimeLimit => "time_limit",
        }
    }
}

/// The schedule, the dispatch and what they cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// How the solve ended.
    pub status: PlanStatus,
    /// Minimised objective: `(1 − λ)·E[cost] + λ·CVaR`; absent when infeasible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objective: Option<f64>,
    /// Probability-weighted cost over the price scenarios; absent when infeasible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_cost: Option<f64>,
    /// Conditional value at risk of the cost at level α; present when the risk weight
    /// is > 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvar: Option<f64>,
    /// Relative gap between the answer and the best bound found: the MIP gap with rigid
    /// jobs (0 when proven optimal), or the primal-dual gap of an LP that the time limit
    /// stopped at a feasible interior point. Absent for an optimal LP.
    #[serde(default, alias = "mip_gap", skip_serializing_if = "Option::is_none")]
    pub gap: Option<f64>,
    /// Why the problem is infeasible: each constraint family and slot that cannot be met.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub infeasibilities: Vec<Infeasibility>,
    /// Cost of each price scenario, in the order of the problem file.
    #[serde(default)]
    pub scenario_costs: Vec<f64>,
    /// Start time of each slot.
    #[serde(default)]
    pub slot_start: Vec<DateTime<Utc>>,
    /// Grid import per slot, kW.
    #[serde(default)]
    pub import_kw: Vec<f64>,
    /// Peak import over the horizon (what the demand charge is paid on), kW.
    #[serde(default)]
    pub peak_import_kw: f64,
    /// Facility power per slot (IT, overhead and fixed load), kW.
    #[serde(default)]
    pub facility_kw: Vec<f64>,
    /// Battery charging power per slot, kW.
    #[serde(default)]
    pub battery_charge_kw: Vec<f64>,
    /// Battery discharging power per slot, kW.
    #[serde(default)]
    pub battery_discharge_kw: Vec<f64>,
    /// Battery energy at the start of each slot and at the end of the horizon
    /// (`slots + 1` values), kWh; empty without a battery.
    #[serde(default)]
    pub soc_kwh: Vec<f64>,
    /// Output of each generator.
    #[serde(default)]
    pub generators: Vec<GeneratorPlan>,
    /// IT power and shadow prices of each hall.
    #[serde(default)]
    pub halls: Vec<HallPlan>,
    /// Placement, power caps and progress of each job.
    #[serde(default)]
    pub jobs: Vec<JobPlan>,
    /// Size of the model and time spent.
    pub stats: SolveStats,
}

/// One constraint that cannot be met.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Infeasibility {
    /// Constraint family (`cooling`, `import_limit`, `it_ramp`).
    pub family: String,
    /// The hall concerned, for per-hall families.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hall: Option<String>,
    /// The slot that cannot be met.
    pub slot: usize,
    /// By how much the constraint must be relaxed at least, in its unit (kW).
    pub shortfall: f64,
    /// A sentence for operators.
    pub message: String,
}

/// Output of one generator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GeneratorPlan {
    /// The generator's id.
    pub id: String,
    /// Output per slot, kW.
    pub generator_kw: Vec<f64>,
}

/// IT power of one hall and the shadow prices of its constraints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HallPlan {
    /// The hall's id.
    pub id: String,
    /// IT power per slot (busy GPUs at their caps, their auxiliaries, idle GPUs), kW.
    pub it_kw: Vec<f64>,
    /// Busy GPUs per slot.
    pub busy_gpus: Vec<f64>,
    /// Shadow price of the hall's GPU count per slot: how much the objective would
    /// fall with one more GPU in that slot (≥ 0; 0 where GPUs are not scarce).
    pub gpu_shadow_price: Vec<f64>,
    /// Shadow price of the hall's cooling capacity per slot: how much the objective
    /// would fall with one more kW of cooling in that slot (≥ 0).
    pub cooling_shadow_price_per_kw: Vec<f64>,
}

/// What one job gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct JobPlan {
    /// The job's id.
    pub id: String,
    /// GPUs and power caps in each hall the job may use.
    pub placements: Vec<Placement>,
    /// Work done over the horizon at the planned caps, GPU-hours at full power.
    pub work_done_gpu_hours: f64,
    /// Work left undone, GPU-hours.
    pub unmet_gpu_hours: f64,
    /// Last slot the job runs in before its work is complete; absent when it does not
    /// finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_slot: Option<usize>,
}

/// A job's GPUs in one hall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Placement {
    /// The hall's id.
    pub hall: String,
    /// GPUs per slot (0 outside the job's window).
    pub gpus: Vec<f64>,
    /// Power cap per GPU per slot, kW; `null` where the job has no GPUs.
    pub power_cap_kw_per_gpu: Vec<Option<f64>>,
}

/// Size of the model and the time spent on it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SolveStats {
    /// Solver name and version.
    pub solver: String,
    /// Constraint rows.
    pub rows: usize,
    /// Variables.
    pub columns: usize,
    /// Integer variables (rigid jobs).
    pub integer_columns: usize,
    /// Nonzero coefficients of the constraint matrix.
    pub nonzeros: usize,
    /// Time to build the model, s.
    pub build_s: f64,
    /// Time in the solver (and in the diagnosis for an infeasible problem), s.
    pub solve_s: f64,
    /// Simplex iterations.
    pub simplex_iterations: i64,
    /// Interior-point iterations.
    pub ipm_iterations: i64,
    /// Jobs merged into identical twins before the build (0: none).
    #[serde(default)]
    pub merged_jobs: usize,
    /// Every run of the solver, in order: the first method, then each fallback that a
    /// method ending without an optimum led to, or the warm start of a re-solve.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<SolveAttempt>,
}

/// One run of the solver.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SolveAttempt {
    /// What was run: `simplex`, `hipo`, `crossover`, `ipx`, `warm_dual_simplex`, …
    pub method: String,
    /// The status it ended with, as HiGHS names it (`Optimal`, `Unknown`, …).
    pub status: String,
    /// Time taken, s.
    pub seconds: f64,
    /// Iterations (simplex, interior point and crossover together).
    pub iterations: i64,
}

impl Plan {
    /// Reads a plan file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = crate::files::read_text(path)?;
        let file = path.display().to_string();
        let de = &mut serde_json::Deserializer::from_str(&text);
        serde_path_to_error::deserialize(de)
            .map_err(|e| Error::parse(file, format!("{}: {}", e.path(), e.inner())))
    }

    /// A plan with no schedule, for an infeasible problem.
    pub fn infeasible(infeasibilities: Vec<Infeasibility>, stats: SolveStats) -> Self {
        Plan {
            status: PlanStatus::Infeasible,
            objective: None,
            expected_cost: None,
            cvar: None,
            gap: None,
            infeasibilities,
            scenario_costs: Vec::new(),
            slot_start: Vec::new(),
            import_kw: Vec::new(),
            peak_import_kw: 0.0,
            facility_kw: Vec::new(),
            battery_charge_kw: Vec::new(),
            battery_discharge_kw: Vec::new(),
            soc_kwh: Vec::new(),
            generators: Vec::new(),
            halls: Vec::new(),
            jobs: Vec::new(),
            stats,
        }
    }
}
