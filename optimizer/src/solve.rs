//! From a validated problem to a plan: build, hand to HiGHS, read the answer back.

use std::time::Instant;

use highs::HighsModelStatus;
use models::schedule::{
    GeneratorPlan, HallPlan, JobPlan, Placement, Plan, PlanStatus, ScheduleProblem, SolveStats,
};
use tracing::{debug, info};

use crate::aggregate;
use crate::diagnose;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::ladder::{self, Solved};
use crate::model::{self, BuildOptions, Model, hall_idle_kw};

/// GPU counts at or below this are zero in the plan (solver noise, not a placement).
pub const GPU_ZERO: f64 = 1e-7;

pub use crate::ladder::AUTO_INTERIOR_POINT_NONZEROS;

/// The HiGHS algorithm for the LP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Dual simplex below [`AUTO_INTERIOR_POINT_NONZEROS`] nonzeros or for a MILP, HiPO
    /// with crossover above (on the medium example 6 s against 213 s for the simplex).
    Auto,
    /// HiGHS chooses (its default).
    Choose,
    /// Dual simplex: an exact vertex solution.
    Simplex,
    /// IPX, HiGHS's interior point with an iterative linear solver, followed by crossover
    /// to a vertex solution.
    Ipm,
    /// IPX without crossover: the solution is optimal to the interior-point tolerances
    /// but not a vertex.
    IpmNoCrossover,
    /// HiPO, HiGHS's interior point with a direct (Cholesky or LDLᵀ) factorisation on
    /// BLAS, followed by crossover to a vertex: the fastest on large models, and the
    /// crossover both ends HiPO before the stall it can meet in its last iterations and
    /// gives the basis that a re-solve starts from.
    Hipo,
    /// HiPO without crossover.
    HipoNoCrossover,
}

impl Method {
    /// The name used in flags and in the plan's solve statistics.
    pub fn name(self) -> &'static str {
        match self {
            Method::Auto => "auto",
            Method::Choose => "choose",
            Method::Simplex => "simplex",
            Method::Ipm => "ipm",
            Method::IpmNoCrossover => "ipm_no_crossover",
            Method::Hipo => "hipo",
            Method::HipoNoCrossover => "hipo_no_crossover",
        }
    }
}

/// How to solve.
#[derive(Debug, Clone)]
pub struct SolveOptions {
    /// LP algorithm of the first run.
    pub method: Method,
    /// Run HiGHS's presolve.
    pub presolve: bool,
    /// Stop after this many seconds: the best feasible schedule found is returned with
    /// its gap.
    pub time_limit_s: Option<f64>,
    /// Threads HiGHS may use. 1 (the default) makes every solve of the same problem take
    /// the same path to the same plan; more can be faster on many cores but is not
    /// reproducible (see [`crate::ladder`]). HiGHS fixes its thread pool at the first
    /// solve of a process: every solve of one process must ask for the same number.
    pub threads: u32,
    /// Merge elastic jobs that are identical in everything but their id into one before
    /// the build and split the answer evenly again (exact: see [`aggregate`]).
    pub merge_identical_jobs: bool,
    /// Relative MIP gap at which the MILP stops (`None`: HiGHS's default, 1e-4).
    pub mip_rel_gap: Option<f64>,
    /// Write HiGHS's own log (presolve, iterations, timings) to this file.
    pub solver_log: Option<std::path::PathBuf>,
    /// Further HiGHS options, `(name, value)`, set before each run (for experiments and
    /// tuning; they can make a method fail, which the fallbacks then handle).
    pub highs_options: Vec<(String, String)>,
    /// Try the fallbacks of [`crate::ladder`] when a method ends without an optimum.
    pub fallbacks: bool,
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions {
            method: Method::Auto,
            presolve: true,
            time_limit_s: None,
            threads: 1,
            merge_identical_jobs: true,
            mip_rel_gap: None,
            solver_log: None,
            highs_options: Vec::new(),
            fallbacks: true,
        }
    }
}

/// Solves `problem` (which must be valid) and returns its plan: optimal, time-limited
/// with the best schedule found, or infeasible with a diagnosis.
pub fn solve(problem: &ScheduleProblem, options: &SolveOptions) -> Result<Plan> {
    solve_from(problem, options, None).map(|(plan, _)| plan)
}

/// Solves `problem` and re-checks the plan without the solver ([`crate::check_plan`]):
/// the plan, and the check's report with the recomputed cost. A plan that breaks a
/// constraint is an error ([`Error::CheckFailed`]), never handed on.
pub fn solve_checked(
    problem: &ScheduleProblem,
    options: &SolveOptions,
) -> Result<(Plan, crate::CheckReport)> {
    let plan = solve(problem, options)?;
    let report = crate::check_plan(problem, &plan).into_result()?;
    Ok((plan, report))
}

/// Solves `problem` as [`solve`] does, starting from `warm` (a previous solve's basis
/// mapped onto this problem's model) when given; also returns what a later re-solve
/// starts from.
pub(crate) fn solve_from(
    problem: &ScheduleProblem,
    options: &SolveOptions,
    warm: Option<&crate::session::Warm>,
) -> Result<(Plan, Option<crate::session::Warm>)> {
    if options.merge_identical_jobs {
        let merged = aggregate::merge_identical_jobs(problem);
        if merged.merged_jobs() > 0 {
            debug!(
                jobs = problem.jobs.len(),
                merged = merged.merged_jobs(),
                "Merged identical jobs."
            );
            let (plan, next) = solve_exact(&merged.problem, options, warm)?;
            return Ok((merged.split_plan(problem, plan), next));
        }
    }
    solve_exact(problem, options, warm)
}

/// Solves `problem` as it is, without merging jobs.
fn solve_exact(
    problem: &ScheduleProblem,
    options: &SolveOptions,
    warm: Option<&crate::session::Warm>,
) -> Result<(Plan, Option<crate::session::Warm>)> {
    let started = Instant::now();
    let model = model::build(problem, &BuildOptions::default());
    let (rows, columns, integer_columns, nonzeros) = model.rows.size();
    let build_s = started.elapsed().as_secs_f64();
    let mut stats = SolveStats {
        solver: format!("HiGHS {} via good_lp", highs_version()),
        rows,
        columns,
        integer_columns,
        nonzeros,
        build_s,
        ..SolveStats::default()
    };
    info!(rows, columns, integer_columns, nonzeros, build_s, "Model built.");

    let solving = Instant::now();
    let Model {
        rows: highs_rows,
        vars,
        index,
        row_index,
    } = model;
    let keys = crate::session::ModelKeys::of(problem, &vars, &index, highs_rows.tags());
    let warm_basis = warm.and_then(|w| w.basis_for(&keys));
    let mut engine = load(highs_rows, options)?;
    let solved = ladder::solve(
        &mut engine,
        options,
        integer_columns,
        nonzeros,
        warm_basis.as_ref(),
    )?;
    stats.simplex_iterations = solved.simplex_iterations;
    stats.ipm_iterations = solved.ipm_iterations;
    stats.attempts = solved.attempts.clone();

    let status = match solved.status {
        HighsModelStatus::Optimal => PlanStatus::Optimal,
        HighsModelStatus::Infeasible | HighsModelStatus::UnboundedOrInfeasible => {
            let infeasibilities = diagnose::diagnose(problem, options)?;
            stats.solve_s = solving.elapsed().as_secs_f64();
            return Ok((Plan::infeasible(infeasibilities, stats), None));
        }
        HighsModelStatus::ReachedTimeLimit if solved.feasible => PlanStatus::TimeLimit,
        HighsModelStatus::ReachedTimeLimit => {
            return Err(Error::NoSolution {
                time_limit_s: options.time_limit_s.unwrap_or(f64::INFINITY),
            });
        }
        other => {
            return Err(Error::Solver {
                action: "solve the model",
                reason: format!("status {other:?}"),
            });
        }
    };
    let next = solved
        .basis
        .as_ref()
        .filter(|_| integer_columns == 0)
        .map(|basis| crate::session::Warm::new(keys, basis.clone()));

    let mut gap = solved.gap.map(|g| if g.is_finite() { g.max(0.0) } else { 0.0 });
    let (mut vars, mut index, mut row_index, mut solved) = (vars, index, row_index, solved);
    if integer_columns > 0 && solved.feasible {
        // Shadow prices of a MILP: the LP with the on/off decisions fixed.
        let fixed_on: Vec<Vec<f64>> = vars
            .on
            .iter()
            .map(|on| {
                on.as_ref().map_or_else(Vec::new, |cols| {
                    cols.iter()
                        .map(|c| c.value(&solved.point.col_value).round())
                        .collect()
                })
            })
            .collect();
        let fixed = model::build(
            problem,
            &BuildOptions {
                elastic: false,
                fixed_on: Some(fixed_on),
            },
        );
        let lp_options = SolveOptions {
            time_limit_s: None,
            ..options.clone()
        };
        let Model {
            rows: fixed_rows,
            vars: v,
            index: i,
            row_index: r,
        } = fixed;
        let (_, _, _, fixed_nonzeros) = fixed_rows.size();
        let mut fixed_engine = load(fixed_rows, &lp_options)?;
        let fixed_solved = ladder::solve(&mut fixed_engine, &lp_options, 0, fixed_nonzeros, None)?;
        if fixed_solved.status == HighsModelStatus::Optimal {
            stats.attempts.extend(fixed_solved.attempts.iter().cloned());
            let mip_gap = gap;
            (vars, index, row_index, solved) = (v, i, r, fixed_solved);
            gap = mip_gap;
        }
    }
    stats.solve_s = solving.elapsed().as_secs_f64();
    info!(
        status = status.as_str(),
        objective = solved.objective,
        solve_s = stats.solve_s,
        "Model solved."
    );
    let model = ModelView {
        vars: &vars,
        index: &index,
        row_index: &row_index,
    };
    Ok((extract_plan(problem, &model, &solved, status, gap, stats), next))
}

/// Hands the rows to HiGHS: a loaded instance with presolve set as asked and the
/// caller's extra options applied.
pub(crate) fn load(rows: crate::lp::Rows, options: &SolveOptions) -> Result<Engine> {
    let model = rows.into_highs().map_err(|e| Error::Solver {
        action: "load the model",
        reason: e.to_string(),
    })?;
    let mut engine = Engine::new(model, options.threads)?;
    if !options.presolve {
        engine.set("presolve", "off")?;
    }
    for (key, value) in &options.highs_options {
        engine.set(key, value)?;
    }
    Ok(engine)
}

/// HiGHS's version, `major.minor.patch`.
pub fn highs_version() -> String {
    format!(
        "{}.{}.{}",
        highs_sys::HIGHS_VERSION_MAJOR,
        highs_sys::HIGHS_VERSION_MINOR,
        highs_sys::HIGHS_VERSION_PATCH
    )
}

/// The parts of a built model that reading the answer needs.
struct ModelView<'a> {
    vars: &'a model::Vars,
    index: &'a model::Index,
    row_index: &'a model::RowIndex,
}

/// Reads the plan from the column values and row duals.
fn extract_plan(
    problem: &ScheduleProblem,
    model: &ModelView<'_>,
    solved: &Solved,
    status: PlanStatus,
    gap: Option<f64>,
    stats: SolveStats,
) -> Plan {
    let x = &solved.point.col_value;
    let vars = model.vars;
    let index = model.index;
    let slots = problem.slots;
    let dt_h = problem.slot_hours();
    let nonneg = |v: f64| v.max(0.0);
    // GPUs and their power, kW, of triple k (no GPUs below the noise level).
    let gpus_power_of = |k: usize| {
        let (g, e) = vars.gpus.values(k, index.triples[k].hall, x);
        if g <= GPU_ZERO { (0.0, 0.0) } else { (g, e) }
    };

    let import_kw: Vec<f64> = vars.imp.iter().map(|c| nonneg(c.value(x))).collect();
    let (battery_charge_kw, battery_discharge_kw, soc_kwh) = match &vars.battery {
        Some(b) => (
            b.ch.iter().map(|c| nonneg(c.value(x))).collect(),
            b.dis.iter().map(|c| nonneg(c.value(x))).collect(),
            b.soc.iter().map(|c| c.value(x)).collect(),
        ),
        None => (vec![0.0; slots], vec![0.0; slots], Vec::new()),
    };
    let generators: Vec<GeneratorPlan> = problem
        .generators
        .iter()
        .zip(&vars.gen_kw)
        .map(|(g, cols)| GeneratorPlan {
            id: g.id.clone(),
            generator_kw: cols.iter().map(|c| nonneg(c.value(x))).collect(),
        })
        .collect();

    let mut halls = Vec::with_capacity(problem.halls.len());
    let mut total_it_kw = vec![0.0; slots];
    for (h, hall) in problem.halls.iter().enumerate() {
        let mut it_kw = vec![hall_idle_kw(problem, h); slots];
        let mut busy_gpus = vec![0.0; slots];
        for t in 0..slots {
            for &k in index.at(h, t) {
                let (g, e) = gpus_power_of(k);
                if g > 0.0 {
                    it_kw[t] += e + (hall.aux_kw_per_busy_gpu - hall.idle_kw_per_gpu) * g;
                    busy_gpus[t] += g;
                }
            }
            total_it_kw[t] += it_kw[t];
        }
        let shadow = |row: Option<usize>| row.map_or(0.0, |r| -solved.point.row_dual[r] + 0.0);
        halls.push(HallPlan {
            id: hall.id.clone(),
            it_kw,
            busy_gpus,
            gpu_shadow_price: (0..slots)
                .map(|t| shadow(model.row_index.hall_gpus[h * slots + t]))
                .collect(),
            cooling_shadow_price_per_kw: (0..slots)
                .map(|t| shadow(Some(model.row_index.cooling[h * slots + t])))
                .collect(),
        });
    }
    let facility_kw: Vec<f64> = (0..slots)
        .map(|t| {
            (1.0 + problem.facility.overhead_fraction.at(t)) * total_it_kw[t] + problem.facility.fixed_kw
        })
        .collect();

    let mut jobs = Vec::with_capacity(problem.jobs.len());
    for (j, job) in problem.jobs.iter().enumerate() {
        let mut placements: Vec<Placement> = Vec::new();
        let mut work_by_slot = vec![0.0; slots];
        for k in index.by_job[j].clone() {
            let tr = index.triples[k];
            let hall = &problem.halls[tr.hall];
            if placements.last().is_none_or(|p| p.hall != hall.id) {
                placements.push(Placement {
                    hall: hall.id.clone(),
                    gpus: vec![0.0; slots],
                    power_cap_kw_per_gpu: vec![None; slots],
                });
            }
            let (g, e) = gpus_power_of(k);
            if g > 0.0 {
                let cap = (e / g).clamp(hall.min_cap_kw, hall.max_cap_kw);
                if let Some(p) = placements.last_mut() {
                    p.gpus[tr.slot] = g;
                    p.power_cap_kw_per_gpu[tr.slot] = Some(cap);
                }
                work_by_slot[tr.slot] += hall.throughput_at(cap) * g * dt_h;
            }
        }
        let (work_done, finish_slot) = progress(job.work_gpu_hours, &work_by_slot);
        jobs.push(JobPlan {
            id: job.id.clone(),
            placements,
            work_done_gpu_hours: work_done,
            unmet_gpu_hours: (job.work_gpu_hours - work_done).max(0.0),
            finish_slot,
        });
    }

    let peak_import_kw = import_kw.iter().copied().fold(0.0, f64::max);
    let scenario_costs = crate::cost::scenario_costs(
        problem,
        &import_kw,
        &generators,
        peak_import_kw,
        &jobs.iter().map(|j| j.unmet_gpu_hours).collect::<Vec<_>>(),
    );
    let costs = crate::cost::Objective::of(problem, &scenario_costs);

    Plan {
        status,
        objective: Some(solved.objective),
        expected_cost: Some(costs.expected_cost),
        cvar: costs.cvar,
        gap,
        infeasibilities: Vec::new(),
        scenario_costs,
        slot_start: (0..slots)
            .map(|t| problem.start + chrono::Duration::minutes(i64::from(problem.slot_minutes) * t as i64))
            .collect(),
        import_kw,
        peak_import_kw,
        facility_kw,
        battery_charge_kw,
        battery_discharge_kw,
        soc_kwh,
        generators,
        halls,
        jobs,
        stats,
    }
}

/// Work done (never more than needed) and the slot in which the work completes, from
/// the work done in each slot (no slot for a job without work).
pub fn progress(work_gpu_hours: f64, work_by_slot: &[f64]) -> (f64, Option<usize>) {
    if work_gpu_hours <= 0.0 {
        return (0.0, None);
    }
    let done_enough = |done: f64| done >= work_gpu_hours - 1e-6 * work_gpu_hours.max(1.0);
    let mut done = 0.0;
    for (t, w) in work_by_slot.iter().enumerate() {
        done += w;
        if done_enough(done) {
            return (work_gpu_hours, Some(t));
        }
    }
    (done.min(work_gpu_hours), None)
}
