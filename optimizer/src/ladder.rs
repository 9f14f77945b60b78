//! The order in which methods are tried, so that every solve ends with a plan.
//!
//! An LP is solved by its first method ([`Method::Auto`]: the dual simplex on small
//! models, HiPO with crossover on large ones). A method that ends without an optimum
//! (HiPO's "no progress", IPX's status Unknown, a stall) is followed by the next rung:
//!
//! 1. **crossover** from the interior point the method left, when it left one: IPX's
//!    crossover turns a near-optimal point into an optimal vertex, usually in seconds;
//! 2. **IPX** with crossover, from scratch, unless an earlier rung left a basis;
//! 3. the **dual simplex**, warm-started from the best basis any earlier rung left, or
//!    from HiGHS's presolved model when none did. It always finishes; from scratch it is
//!    the slowest.
//!
//! A re-solve ([`crate::session`]) puts a rung 0 in front: the dual simplex from the
//! previous plan's basis. Every rung run is recorded ([`SolveAttempt`]) with its status,
//! time and iterations. A rung that proves the problem infeasible or unbounded ends the
//! ladder (that is an answer, not a failure). Under a time limit each rung gets what is
//! left of it; when it runs out, the best feasible point found is returned with its
//! measured primal-dual gap.
//!
//! Every run is on one thread by default ([`SolveOptions::threads`]): HiGHS's parallel
//! factorisation in HiPO sums in the order its tasks finish, so two runs of the same
//! model took different iteration paths (one optimal in 57 iterations, another stalled
//! after 173), while on one thread the solver's log is the same bit for bit.

use std::time::Instant;

use highs::HighsModelStatus;
use models::schedule::SolveAttempt;
use tracing::{info, warn};

use crate::engine::{Basis, Engine, Point};
use crate::error::{Error, Result};
use crate::solve::{Method, SolveOptions};

/// Nonzeros from which [`Method::Auto`] uses HiPO instead of the dual simplex. Below it
/// (the small example: 30,000) both take about the same time.
pub const AUTO_INTERIOR_POINT_NONZEROS: usize = 100_000;

/// One way of running HiGHS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rung {
    /// The dual simplex from a basis given by the caller (a re-solve).
    WarmDualSimplex,
    /// The first method.
    First(Method),
    /// IPX's crossover from the last interior point.
    Crossover,
    /// IPX with crossover, from scratch.
    Ipx,
    /// The dual simplex, from the best basis found, else cold.
    DualSimplex,
}

impl Rung {
    fn name(self) -> &'static str {
        match self {
            Rung::WarmDualSimplex => "warm_dual_simplex",
            Rung::First(m) => m.name(),
            Rung::Crossover => "crossover",
            Rung::Ipx => "ipx",
            Rung::DualSimplex => "dual_simplex",
        }
    }
}

/// How a ladder ended.
#[derive(Debug)]
pub(crate) struct Solved {
    /// Final model status.
    pub status: HighsModelStatus,
    /// Objective of the returned point.
    pub objective: f64,
    /// The point (column values, row duals).
    pub point: Point,
    /// The final basis, when the answer is a vertex.
    pub basis: Option<Basis>,
    /// Whether `point` is primal feasible.
    pub feasible: bool,
    /// Relative gap of `point` when it is not proven optimal (primal-dual for an LP,
    /// the MIP gap for a MILP).
    pub gap: Option<f64>,
    /// Every run, in order.
    pub attempts: Vec<SolveAttempt>,
    /// Simplex iterations over all runs.
    pub simplex_iterations: i64,
    /// Interior-point iterations over all runs.
    pub ipm_iterations: i64,
}

/// The method [`Method::Auto`] resolves to for a model of this size.
pub fn auto_method(integers: usize, nonzeros: usize) -> Method {
    match () {
        () if integers == 0 && nonzeros >= AUTO_INTERIOR_POINT_NONZEROS => Method::Hipo,
        () => Method::Simplex,
    }
}

/// Runs the ladder on `engine` (loaded, options not yet set), starting from `warm` when
/// given.
pub(crate) fn solve(
    engine: &mut Engine,
    options: &SolveOptions,
    integers: usize,
    nonzeros: usize,
    warm: Option<&Basis>,
) -> Result<Solved> {
    configure_common(engine, options)?;
    let first = match options.method {
        Method::Auto => auto_method(integers, nonzeros),
        other => other,
    };
    let mut rungs = Vec::new();
    if warm.is_some() && integers == 0 {
        rungs.push(Rung::WarmDualSimplex);
    }
    rungs.push(Rung::First(first));
    if integers == 0 && options.fallbacks {
        rungs.extend([Rung::Crossover, Rung::Ipx, Rung::DualSimplex]);
    }

    let started = Instant::now();
    let mut attempts = Vec::new();
    let (mut simplex_iterations, mut ipm_iterations) = (0, 0);
    let mut best_basis: Option<Basis> = None;
    let mut best_point: Option<(Point, f64, Option<f64>)> = None;
    let mut last_point: Option<Point> = None;
    for rung in rungs {
        let remaining_s = options
            .time_limit_s
            .map(|limit| limit - started.elapsed().as_secs_f64());
        if remaining_s.is_some_and(|r| r <= 0.0) {
            break;
        }
        let point_before = last_point.take();
        if (rung == Rung::Crossover && point_before.is_none()) || (rung == Rung::Ipx && best_basis.is_some())
        {
            continue;
        }
        let run_started = Instant::now();
        let status = run_rung(
            engine,
            rung,
            options.presolve,
            remaining_s,
            warm,
            best_basis.as_ref(),
            point_before.as_ref(),
        )?;
        let seconds = run_started.elapsed().as_secs_f64();
        let iterations = iterations_of(engine);
        simplex_iterations += engine.int_info("simplex_iteration_count").unwrap_or(0);
        ipm_iterations += engine.int_info("ipm_iteration_count").unwrap_or(0);
        attempts.push(SolveAttempt {
            method: rung.name().to_string(),
            status: format!("{status:?}"),
            seconds,
            iterations,
        });
        info!(
            method = rung.name(),
            ?status,
            seconds,
            iterations,
            "Solver run ended."
        );
        if let Some(basis) = engine.basis() {
            best_basis = Some(basis);
        }
        let ends = matches!(
            status,
            HighsModelStatus::Optimal
                | HighsModelStatus::Infeasible
                | HighsModelStatus::Unbounded
                | HighsModelStatus::UnboundedOrInfeasible
                | HighsModelStatus::ModelEmpty
        );
        if ends {
            return Ok(Solved {
                status,
                objective: engine.objective(),
                point: engine.point(),
                basis: engine.basis(),
                feasible: engine.has_feasible_point(),
                gap: (integers > 0).then(|| engine.double_info("mip_gap").unwrap_or(0.0)),
                attempts,
                simplex_iterations,
                ipm_iterations,
            });
        }
        warn!(
            method = rung.name(),
            ?status,
            "The solver ended without an optimum; trying the next method."
        );
        if engine.has_point() {
            let point = engine.point();
            if engine.has_feasible_point() {
                let gap = if integers > 0 {
                    engine.double_info("mip_gap")
                } else {
                    engine.double_info("primal_dual_objective_error")
                };
                best_point = Some((point.clone(), engine.objective(), gap));
            }
            last_point = Some(point);
        }
    }
    match best_point {
        Some((point, objective, gap)) => Ok(Solved {
            status: HighsModelStatus::ReachedTimeLimit,
            objective,
            point,
            basis: None,
            feasible: true,
            gap,
            attempts,
            simplex_iterations,
            ipm_iterations,
        }),
        None if options.time_limit_s.is_some() => Err(Error::NoSolution {
            time_limit_s: options.time_limit_s.unwrap_or(f64::INFINITY),
        }),
        None => Err(Error::Solver {
            action: "solve the model",
            reason: format!(
                "every method ended without an optimum: {}",
                attempts
                    .iter()
                    .map(|a| format!("{} {}", a.method, a.status))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// Options every rung shares: the MIP gap and the log.
fn configure_common(engine: &mut Engine, options: &SolveOptions) -> Result<()> {
    if let Some(gap) = options.mip_rel_gap {
        engine.set("mip_rel_gap", &gap.to_string())?;
    }
    if let Some(path) = &options.solver_log {
        engine.set("log_file", &path.to_string_lossy())?;
        engine.set("output_flag", "true")?;
        engine.set("log_to_console", "false")?;
    }
    Ok(())
}

/// Sets the options of `rung` (undoing those of the rung before) and runs it.
fn run_rung(
    engine: &mut Engine,
    rung: Rung,
    presolve: bool,
    remaining_s: Option<f64>,
    warm: Option<&Basis>,
    best_basis: Option<&Basis>,
    point: Option<&Point>,
) -> Result<HighsModelStatus> {
    engine.set(
        "time_limit",
        &remaining_s.map_or("inf".to_string(), |r| r.to_string()),
    )?;
    engine.set("presolve", if presolve { "choose" } else { "off" })?;
    engine.set("run_crossover", "off")?;
    let solver = |engine: &mut Engine, name: &str| engine.set("solver", name);
    match rung {
        Rung::WarmDualSimplex => {
            solver(engine, "simplex")?;
            engine.set("simplex_strategy", "1")?;
            engine.set("presolve", "off")?;
            if let Some(basis) = warm {
                engine.set_basis(basis)?;
            }
            engine.run()
        }
        Rung::First(method) => {
            match method {
                Method::Auto | Method::Choose => solver(engine, "choose")?,
                Method::Simplex => solver(engine, "simplex")?,
                Method::Ipm => {
                    solver(engine, "ipm")?;
                    engine.set("run_crossover", "on")?;
                }
                Method::IpmNoCrossover => solver(engine, "ipm")?,
                Method::Hipo => {
                    solver(engine, "hipo")?;
                    engine.set("run_crossover", "on")?;
                }
                Method::HipoNoCrossover => solver(engine, "hipo")?,
            }
            engine.clear_solver();
            engine.run()
        }
        Rung::Crossover => match point {
            Some(p) => engine.crossover(p),
            None => Ok(HighsModelStatus::NotSet),
        },
        Rung::Ipx => {
            solver(engine, "ipm")?;
            engine.set("run_crossover", "on")?;
            engine.clear_solver();
            engine.run()
        }
        Rung::DualSimplex => {
            solver(engine, "simplex")?;
            engine.set("simplex_strategy", "1")?;
            match best_basis {
                Some(basis) => {
                    engine.set("presolve", "off")?;
                    engine.set_basis(basis)?;
                }
                None => engine.clear_solver(),
            }
            engine.run()
        }
    }
}

/// Iterations of the last run: simplex, interior point and crossover together.
fn iterations_of(engine: &Engine) -> i64 {
    [
        "simplex_iteration_count",
        "ipm_iteration_count",
        "crossover_iteration_count",
    ]
    .iter()
    .filter_map(|k| engine.int_info(k))
    .filter(|&n| n > 0)
    .sum()
}
