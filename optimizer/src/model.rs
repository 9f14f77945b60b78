//! The LP of `docs/optimizer-formulation.md`, one function per variable or constraint
//! family, in the order of the page.
//!
//! Where a constraint of the page only bounds one variable (`ch ≤ power_kw`,
//! `imp ≤ import_limit_kw`, `soc[0] = energy·soc_initial`) it is written as a bound of that
//! variable, which is the same LP with fewer rows. Rows that the others imply are left out
//! and say so where they are left out.
//!
//! One change of variables: `g`, `e` and `y` of a (job, hall, slot) triple are written as
//! GPUs at the operating points of the hall's throughput curve ([`GpusAtPoints`]), which
//! makes constraints 2 and 3 hold without rows and gives the same optimum. On 1,000 jobs
//! that takes the LP from 511,322 rows to 27,223 and the solve from 261 s to 78 s.

use std::ops::Range;

use good_lp::{Expression, variable};
use models::schedule::{Hall, ScheduleProblem};

use crate::lp::{Col, Columns, Rows, sum};

/// One (job, hall, slot) triple that can exist: the hall is one of the job's halls and
/// the slot lies in the job's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Triple {
    /// Job index.
    pub job: usize,
    /// Hall index.
    pub hall: usize,
    /// Slot.
    pub slot: usize,
}

/// The triples that get variables, and lookups by job, by (hall, slot) and by slot.
#[derive(Debug)]
pub struct Index {
    /// Every triple, grouped by job, then hall, then slot.
    pub triples: Vec<Triple>,
    /// The triples of each job, a contiguous range.
    pub by_job: Vec<Range<usize>>,
    /// The triples of each (hall, slot), at `hall * slots + slot`.
    pub by_hall_slot: Vec<Vec<usize>>,
    /// Number of slots.
    pub slots: usize,
}

impl Index {
    /// The triples of `problem`.
    pub fn new(problem: &ScheduleProblem) -> Self {
        let slots = problem.slots;
        let mut triples = Vec::new();
        let mut by_job = Vec::with_capacity(problem.jobs.len());
        let mut by_hall_slot = vec![Vec::new(); problem.halls.len() * slots];
        for (j, job) in problem.jobs.iter().enumerate() {
            let first = triples.len();
            for h in problem.job_halls(j) {
                for t in job.release_slot..job.deadline_slot.min(slots) {
                    by_hall_slot[h * slots + t].push(triples.len());
                    triples.push(Triple {
                        job: j,
                        hall: h,
                        slot: t,
                    });
                }
            }
            by_job.push(first..triples.len());
        }
        Index {
            triples,
            by_job,
            by_hall_slot,
            slots,
        }
    }

    /// The triples of hall `h` in slot `t`.
    pub fn at(&self, h: usize, t: usize) -> &[usize] {
        &self.by_hall_slot[h * self.slots + t]
    }
}

/// How to build the model.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Diagnosis mode: the cooling, import-limit and balance rows get slack variables and
    /// the objective is their sum, so that the slacks that stay positive name what cannot
    /// be met.
    pub elastic: bool,
    /// For rigid jobs: fix the on/off decision of each slot (job → window slot → 0 or 1)
    /// to get the LP with those decisions, whose duals are the shadow prices.
    pub fixed_on: Option<Vec<Vec<f64>>>,
}

/// Battery variables.
#[derive(Debug)]
pub struct BatteryVars {
    /// Charge power per slot, kW.
    pub ch: Vec<Col>,
    /// Discharge power per slot, kW.
    pub dis: Vec<Col>,
    /// Energy at the start of each slot and at the end, kWh (`slots + 1`).
    pub soc: Vec<Col>,
}

/// CVaR variables.
#[derive(Debug)]
pub struct CvarVars {
    /// The value-at-risk level ζ (free sign).
    pub zeta: Col,
    /// Excess of each scenario's cost over ζ.
    pub z: Vec<Col>,
}

/// Slack variables of the diagnosis mode.
#[derive(Debug)]
pub struct SlackVars {
    /// Cooling overload per (hall, slot), at `hall * slots + slot`, kW.
    pub cooling: Vec<Col>,
    /// Import above the limit per slot, kW.
    pub import: Vec<Col>,
    /// Surplus that would have to be exported per slot (negative import), kW.
    pub export: Vec<Col>,
}

/// Every variable of the model.
#[derive(Debug)]
pub struct Vars {
    /// GPUs of each triple running at each operating point of its hall (see
    /// [`define_job_variables`]).
    pub gpus: GpusAtPoints,
    /// Unmet work per job, GPU-hours.
    pub unmet: Vec<Col>,
    /// Battery, when the problem has one.
    pub battery: Option<BatteryVars>,
    /// Generator output per generator and slot, kW.
    pub gen_kw: Vec<Vec<Col>>,
    /// Grid import per slot, kW.
    pub imp: Vec<Col>,
    /// Peak import, kW (only with a demand charge; without one it cannot change the
    /// objective).
    pub peak: Option<Col>,
    /// CVaR variables (only with a risk weight > 0).
    pub cvar: Option<CvarVars>,
    /// Rigid jobs: on/off per window slot (`None` for elastic jobs).
    pub on: Vec<Option<Vec<Col>>>,
    /// Slacks of the diagnosis mode.
    pub slack: Option<SlackVars>,
}

/// What a row is: its constraint family and the job, hall, unit, scenario and slot it is
/// of. A re-solve maps the previous basis onto a new model through these (see
/// [`crate::session`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RowTag {
    /// Constraint 1a of job `job` in slot `slot`.
    JobGpus { job: usize, slot: usize },
    /// Constraint 1b of hall `hall` in slot `slot`.
    HallGpus { hall: usize, slot: usize },
    /// Constraint 4 of job `job`.
    Work { job: usize },
    /// Constraint 6 of hall `hall` in slot `slot`.
    Cooling { hall: usize, slot: usize },
    /// Constraints 7–8 in slot `slot`.
    Balance { slot: usize },
    /// The import limit as a row (diagnosis mode only).
    ImportLimit { slot: usize },
    /// Constraint 9 in slot `slot`.
    Peak { slot: usize },
    /// Constraint 10 from slot `slot` to the next.
    Battery { slot: usize },
    /// Constraint 11, rising, of generator `unit` in slot `slot`.
    RampUp { unit: usize, slot: usize },
    /// Constraint 11, falling.
    RampDown { unit: usize, slot: usize },
    /// The CVaR row of price scenario `scenario`.
    Cvar { scenario: usize },
    /// The IT ramp limit, rising, into slot `slot`.
    ItRampUp { slot: usize },
    /// The IT ramp limit, falling.
    ItRampDown { slot: usize },
}

/// Row indices that are read back after the solve.
#[derive(Debug)]
pub struct RowIndex {
    /// GPU-count row of each (hall, slot) with at least one triple.
    pub hall_gpus: Vec<Option<usize>>,
    /// Cooling row of each (hall, slot).
    pub cooling: Vec<usize>,
}

/// A built model: the HiGHS rows and columns and where everything is.
#[derive(Debug)]
pub struct Model {
    /// The rows (and through them the columns) handed to HiGHS.
    pub rows: Rows,
    /// The variables.
    pub vars: Vars,
    /// The triples.
    pub index: Index,
    /// Rows read back for shadow prices.
    pub row_index: RowIndex,
}

/// Builds the model of `problem`.
pub fn build(problem: &ScheduleProblem, options: &BuildOptions) -> Model {
    let index = Index::new(problem);
    let mut cols = Columns::default();
    let vars = Vars {
        gpus: define_job_variables(&mut cols, problem, &index),
        unmet: define_unmet_variables(&mut cols, problem),
        battery: define_battery_variables(&mut cols, problem),
        gen_kw: define_generator_variables(&mut cols, problem),
        imp: define_import_variables(&mut cols, problem, options.elastic),
        peak: define_peak_variable(&mut cols, problem, options.elastic),
        cvar: define_cvar_variables(&mut cols, problem, options.elastic),
        on: define_rigid_variables(&mut cols, problem, options.fixed_on.as_deref()),
        slack: options
            .elastic
            .then(|| define_slack_variables(&mut cols, problem)),
    };
    let objective = define_objective(problem, &vars);
    let mut rows = cols.minimise(objective);

    define_job_gpu_constraints(&mut rows, problem, &index, &vars);
    let hall_gpus = define_hall_gpu_constraints(&mut rows, problem, &index, &vars);
    define_work_constraints(&mut rows, problem, &index, &vars);
    let cooling = define_cooling_constraints(&mut rows, problem, &index, &vars);
    define_balance_constraints(&mut rows, problem, &index, &vars);
    define_peak_constraints(&mut rows, &vars);
    define_battery_constraints(&mut rows, problem, &vars);
    define_generator_ramp_constraints(&mut rows, problem, &vars);
    define_cvar_constraints(&mut rows, problem, &vars);
    define_it_ramp_constraints(&mut rows, problem, &index, &vars);

    Model {
        rows,
        vars,
        index,
        row_index: RowIndex { hall_gpus, cooling },
    }
}

// ----- Variables -----

/// The operating points of a hall: the points of its throughput curve with the
/// throughput capped at 1 (constraint 3's `y ≤ g`), as (power cap per GPU kW, relative
/// throughput), with rising power, plus the points where the curve crosses 1. Their
/// piecewise-linear interpolation is `min(curve, 1)` over the whole cap range (the range
/// matters: at negative prices a higher cap for no more progress can pay).
pub fn operating_points(hall: &Hall) -> Vec<(f64, f64)> {
    let curve = &hall.throughput_curve;
    let mut points: Vec<(f64, f64)> = Vec::with_capacity(curve.len() + 2);
    for (m, &[p, f]) in curve.iter().enumerate() {
        if m > 0 {
            let [p0, f0] = curve[m - 1];
            if f0 != 1.0 && f != 1.0 && (f0 > 1.0) != (f > 1.0) {
                let crossing = p0 + (1.0 - f0) * (p - p0) / (f - f0);
                // A curve that ends a rounding error below 1 puts the crossing on its
                // end point; a second point at the same cap would add nothing.
                if p0 < crossing && crossing < p {
                    points.push((crossing, 1.0));
                }
            }
        }
        points.push((p, f.min(1.0)));
    }
    points
}

/// The GPUs of every triple split by operating point: `n[j,h,t,m]` GPUs run at point m
/// `(p_m, f_m)` of hall h's [`operating_points`]. Then
///
/// `g = Σ_m n_m`, `e = Σ_m p_m·n_m`, `y = Σ_m f_m·n_m`,
///
/// and constraints 2 and 3 hold by construction, without rows: a mix of points lies
/// between the lowest and the highest power cap, and its progress is at most the curve's
/// (concave, so the curve is the upper envelope of its points), and reaches it when the
/// GPUs run at the two points around their mean cap. The LP of the page also allows a
/// progress below the curve; progress only ever helps (constraint 4), so both LPs have the
/// same optimum. The page's form needs 2 + K rows per triple (K segments); this one
/// none, which is what makes large instances fast (the interior-point solver factorises a
/// system of the size of the rows).
#[derive(Debug)]
pub struct GpusAtPoints {
    /// The columns, triple by triple: those of triple k are `cols[first[k]..first[k + 1]]`.
    pub cols: Vec<Col>,
    /// Where each triple's columns start (one more entry than triples).
    pub first: Vec<usize>,
    /// The operating points of each hall.
    pub points: Vec<Vec<(f64, f64)>>,
}

impl GpusAtPoints {
    /// `(column, (power cap per GPU kW, relative throughput))` of triple `k` in hall `h`.
    pub fn at(&self, k: usize, h: usize) -> impl Iterator<Item = (Col, (f64, f64))> + '_ {
        self.cols[self.first[k]..self.first[k + 1]]
            .iter()
            .copied()
            .zip(self.points[h].iter().copied())
    }

    /// `g` of triple `k` as (coefficient, column) terms.
    pub fn g(&self, k: usize) -> impl Iterator<Item = (f64, Col)> + '_ {
        self.cols[self.first[k]..self.first[k + 1]]
            .iter()
            .map(|&c| (1.0, c))
    }

    /// `g` and `e` of triple `k` in hall `h` in a vector of column values.
    pub fn values(&self, k: usize, h: usize, columns: &[f64]) -> (f64, f64) {
        self.at(k, h).fold((0.0, 0.0), |(g, e), (col, (p, _))| {
            let n = col.value(columns).max(0.0);
            (g + n, e + p * n)
        })
    }
}

/// `n[j,h,t,m]` for every triple and operating point (see [`GpusAtPoints`]). Each is
/// bounded by the job's and the hall's GPU count (implied by constraint 1; as bounds they
/// help presolve).
pub fn define_job_variables(cols: &mut Columns, problem: &ScheduleProblem, index: &Index) -> GpusAtPoints {
    let points: Vec<Vec<(f64, f64)>> = problem.halls.iter().map(operating_points).collect();
    let mut out = GpusAtPoints {
        cols: Vec::with_capacity(index.triples.len() * points.first().map_or(0, Vec::len)),
        first: Vec::with_capacity(index.triples.len() + 1),
        points,
    };
    for tr in &index.triples {
        let most = f64::from(problem.jobs[tr.job].max_gpus.min(problem.halls[tr.hall].gpus));
        out.first.push(out.cols.len());
        for _ in 0..out.points[tr.hall].len() {
            out.cols.push(cols.add(variable().clamp(0.0, most)));
        }
    }
    out.first.push(out.cols.len());
    out
}

/// `u[j]`: unmet work of each job, GPU-hours.
pub fn define_unmet_variables(cols: &mut Columns, problem: &ScheduleProblem) -> Vec<Col> {
    problem
        .jobs
        .iter()
        .map(|_| cols.add(variable().min(0.0)))
        .collect()
}

/// `ch[t]`, `dis[t]` ≤ `power_kw`; `soc[t]` within the state-of-charge band for
/// t = 1..slots, `soc[0] = energy·soc_initial`, and `soc[slots] ≥ soc[0]` (constraint 10's
/// bounds).
pub fn define_battery_variables(cols: &mut Columns, problem: &ScheduleProblem) -> Option<BatteryVars> {
    let b = problem.battery.as_ref()?;
    let slots = problem.slots;
    let ch = (0..slots)
        .map(|_| cols.add(variable().clamp(0.0, b.power_kw)))
        .collect();
    let dis = (0..slots)
        .map(|_| cols.add(variable().clamp(0.0, b.power_kw)))
        .collect();
    let initial = b.energy_kwh * b.soc_initial;
    let (lo, hi) = (b.energy_kwh * b.soc_min, b.energy_kwh * b.soc_max);
    let soc = (0..=slots)
        .map(|t| {
            let bounds = if t == 0 {
                (initial, initial)
            } else if t == slots {
                (lo.max(initial), hi)
            } else {
                (lo, hi)
            };
            cols.add(variable().clamp(bounds.0, bounds.1))
        })
        .collect();
    Some(BatteryVars { ch, dis, soc })
}

/// `gen[i,t]` ≤ `max_kw`; slot 0 also within one ramp of `initial_kw` (constraint 11 at
/// t = 0).
pub fn define_generator_variables(cols: &mut Columns, problem: &ScheduleProblem) -> Vec<Vec<Col>> {
    problem
        .generators
        .iter()
        .map(|unit| {
            (0..problem.slots)
                .map(|t| {
                    let (lo, hi) = if t == 0 {
                        (
                            (unit.initial_kw - unit.ramp_kw_per_slot).max(0.0),
                            (unit.initial_kw + unit.ramp_kw_per_slot).min(unit.max_kw),
                        )
                    } else {
                        (0.0, unit.max_kw)
                    };
                    cols.add(variable().clamp(lo, hi))
                })
                .collect()
        })
        .collect()
}

/// `imp[t]` within `[0, import_limit_kw[t]]` (constraint 8's limit; no export). In the
/// diagnosis mode the limit becomes a row with a slack.
pub fn define_import_variables(cols: &mut Columns, problem: &ScheduleProblem, elastic: bool) -> Vec<Col> {
    (0..problem.slots)
        .map(|t| {
            if elastic {
                cols.add(variable().min(0.0))
            } else {
                cols.add(variable().clamp(0.0, problem.grid.import_limit_kw.at(t)))
            }
        })
        .collect()
}

/// `peak`, only when a demand charge makes it matter.
pub fn define_peak_variable(cols: &mut Columns, problem: &ScheduleProblem, elastic: bool) -> Option<Col> {
    (!elastic && problem.grid.demand_charge_per_kw > 0.0).then(|| cols.add(variable().min(0.0)))
}

/// `zeta` (free) and `z[s] ≥ 0`, only with a risk weight > 0.
pub fn define_cvar_variables(
    cols: &mut Columns,
    problem: &ScheduleProblem,
    elastic: bool,
) -> Option<CvarVars> {
    (!elastic && problem.risk_weight() > 0.0).then(|| CvarVars {
        zeta: cols.add(variable()),
        z: problem
            .grid
            .price_scenarios
            .iter()
            .map(|_| cols.add(variable().min(0.0)))
            .collect(),
    })
}

/// Extension: a binary on/off per window slot of each rigid job (fixed values when
/// `fixed_on` is given).
pub fn define_rigid_variables(
    cols: &mut Columns,
    problem: &ScheduleProblem,
    fixed_on: Option<&[Vec<f64>]>,
) -> Vec<Option<Vec<Col>>> {
    problem
        .jobs
        .iter()
        .enumerate()
        .map(|(j, job)| {
            job.rigid.then(|| {
                (job.release_slot..job.deadline_slot)
                    .enumerate()
                    .map(|(k, _)| match fixed_on.and_then(|f| f.get(j)?.get(k)) {
                        Some(&v) => cols.add(variable().clamp(v, v)),
                        None => cols.add(variable().binary()),
                    })
                    .collect()
            })
        })
        .collect()
}

/// Diagnosis mode: a slack on every cooling, import-limit and balance (no export) row.
/// The IT ramp rows need none: leaving every GPU idle keeps IT power constant.
pub fn define_slack_variables(cols: &mut Columns, problem: &ScheduleProblem) -> SlackVars {
    let slots = problem.slots;
    SlackVars {
        cooling: (0..problem.halls.len() * slots)
            .map(|_| cols.add(variable().min(0.0)))
            .collect(),
        import: (0..slots).map(|_| cols.add(variable().min(0.0))).collect(),
        export: (0..slots).map(|_| cols.add(variable().min(0.0))).collect(),
    }
}

// ----- Objective -----

/// `(1 − λ)·Σ_s p_s·C_s + λ·(zeta + Σ_s p_s·z[s]/(1 − α))`; in the diagnosis mode the
/// sum of the slacks.
pub fn define_objective(problem: &ScheduleProblem, vars: &Vars) -> Expression {
    if let Some(slack) = &vars.slack {
        return sum(slack
            .cooling
            .iter()
            .chain(&slack.import)
            .chain(&slack.export)
            .map(|&c| (1.0, c)));
    }
    let lambda = problem.risk_weight();
    let mut objective = Expression::default();
    if lambda < 1.0 {
        let expected_prices: Vec<f64> = (0..problem.slots)
            .map(|t| {
                problem
                    .grid
                    .price_scenarios
                    .iter()
                    .map(|s| s.probability * s.price_per_mwh.at(t))
                    .sum()
            })
            .collect();
        objective.add_mul(1.0 - lambda, cost_expression(problem, vars, &expected_prices));
    }
    if let (Some(cvar), Some(risk)) = (&vars.cvar, &problem.risk) {
        objective.add_mul(lambda, cvar.zeta.var);
        for (s, z) in cvar.z.iter().enumerate() {
            let p = problem.grid.price_scenarios[s].probability;
            objective.add_mul(lambda * p / (1.0 - risk.cvar_alpha), z.var);
        }
    }
    objective
}

/// `C` of the cost formula for the energy prices `price_per_mwh` (one per slot): energy,
/// generation, carbon, demand charge and unmet-work penalties.
pub fn cost_expression(problem: &ScheduleProblem, vars: &Vars, price_per_mwh: &[f64]) -> Expression {
    let dt_h = problem.slot_hours();
    let carbon_per_kg = problem.grid.carbon_price_per_t / 1000.0;
    let mut cost = sum((0..problem.slots).map(|t| {
        let per_mwh = price_per_mwh[t] + carbon_per_kg * problem.grid.carbon_kg_per_mwh.at(t);
        (per_mwh * dt_h / 1000.0, vars.imp[t])
    }));
    for (i, unit) in problem.generators.iter().enumerate() {
        let per_mwh = unit.cost_per_mwh + carbon_per_kg * unit.carbon_kg_per_mwh;
        for &col in &vars.gen_kw[i] {
            if per_mwh != 0.0 {
                cost.add_mul(per_mwh * dt_h / 1000.0, col.var);
            }
        }
    }
    if let Some(peak) = vars.peak {
        cost.add_mul(problem.grid.demand_charge_per_kw, peak.var);
    }
    for (j, job) in problem.jobs.iter().enumerate() {
        if job.unmet_penalty_per_gpu_hour != 0.0 {
            cost.add_mul(job.unmet_penalty_per_gpu_hour, vars.unmet[j].var);
        }
    }
    cost
}

// ----- Constraints -----

/// Constraint 1a: `Σ_h g[j,h,t] ≤ max_gpus_j` for each (j,t); for a rigid job
/// `Σ_h g[j,h,t] = max_gpus_j·on[j,t]`. A job with one hall and no more GPUs than the hall
/// needs no row: the hall's row (1b) says it.
pub fn define_job_gpu_constraints(rows: &mut Rows, problem: &ScheduleProblem, index: &Index, vars: &Vars) {
    for (j, job) in problem.jobs.iter().enumerate() {
        // Triples of a job are grouped by hall, then slot: hall p, slot t is at
        // first + p·window + (t − release).
        let first = index.by_job[j].start;
        let halls = problem.job_halls(j);
        let window = job.deadline_slot - job.release_slot;
        let max_gpus = f64::from(job.max_gpus);
        let implied = halls.len() == 1 && halls.iter().all(|&h| problem.halls[h].gpus <= job.max_gpus);
        for t in job.release_slot..job.deadline_slot {
            let used =
                sum((0..halls.len()).flat_map(|p| vars.gpus.g(first + p * window + t - job.release_slot)));
            match &vars.on[j] {
                Some(on) => {
                    let mut row = used;
                    row.add_mul(-max_gpus, on[t - job.release_slot].var);
                    rows.eq(RowTag::JobGpus { job: j, slot: t }, row, 0.0);
                }
                None if !implied => {
                    rows.leq(RowTag::JobGpus { job: j, slot: t }, used, max_gpus);
                }
                None => {}
            }
        }
    }
}

/// Constraint 1b: `Σ_j g[j,h,t] ≤ gpus_h` for each (h,t) that has a triple.
pub fn define_hall_gpu_constraints(
    rows: &mut Rows,
    problem: &ScheduleProblem,
    index: &Index,
    vars: &Vars,
) -> Vec<Option<usize>> {
    let mut out = Vec::with_capacity(problem.halls.len() * problem.slots);
    for (h, hall) in problem.halls.iter().enumerate() {
        for t in 0..problem.slots {
            let at = index.at(h, t);
            out.push((!at.is_empty()).then(|| {
                rows.leq(
                    RowTag::HallGpus { hall: h, slot: t },
                    sum(at.iter().flat_map(|&k| vars.gpus.g(k))),
                    f64::from(hall.gpus),
                )
            }));
        }
    }
    out
}

/// Constraint 4: `Σ_{h,t} y[j,h,t]·Δ + u[j] ≥ work_gpu_hours_j`.
pub fn define_work_constraints(rows: &mut Rows, problem: &ScheduleProblem, index: &Index, vars: &Vars) {
    let dt_h = problem.slot_hours();
    for (j, job) in problem.jobs.iter().enumerate() {
        let mut work = sum(index.by_job[j].clone().flat_map(|k| {
            let h = index.triples[k].hall;
            vars.gpus.at(k, h).map(move |(col, (_, f))| (f * dt_h, col))
        }));
        work.add_mul(1.0, vars.unmet[j].var);
        rows.geq(RowTag::Work { job: j }, work, job.work_gpu_hours);
    }
}

/// Constraint 5: The busy part of hall IT power, `Σ_j (e + (aux − idle)·g)`; the hall's IT power
/// is this plus `idle_kw_per_gpu·gpus`.
pub fn hall_busy_it_kw(
    problem: &ScheduleProblem,
    index: &Index,
    vars: &Vars,
    h: usize,
    t: usize,
) -> Expression {
    let hall = &problem.halls[h];
    let busy_extra = hall.aux_kw_per_busy_gpu - hall.idle_kw_per_gpu;
    let at = index.at(h, t);
    let mut it = Expression::with_capacity(4 * at.len());
    for &k in at {
        for (col, (p, _)) in vars.gpus.at(k, h) {
            it.add_mul(p + busy_extra, col.var);
        }
    }
    it
}

/// IT power of an idle hall, kW.
pub fn hall_idle_kw(problem: &ScheduleProblem, h: usize) -> f64 {
    let hall = &problem.halls[h];
    hall.idle_kw_per_gpu * f64::from(hall.gpus)
}

/// Constraint 6: `it[h,t] ≤ cooling_capacity_kw[h,t]` (with 5 substituted); in the diagnosis mode
/// `it[h,t] − slack ≤ capacity`.
pub fn define_cooling_constraints(
    rows: &mut Rows,
    problem: &ScheduleProblem,
    index: &Index,
    vars: &Vars,
) -> Vec<usize> {
    let mut out = Vec::with_capacity(problem.halls.len() * problem.slots);
    for (h, hall) in problem.halls.iter().enumerate() {
        for t in 0..problem.slots {
            let mut it = hall_busy_it_kw(problem, index, vars, h, t);
            if let Some(slack) = &vars.slack {
                it.add_mul(-1.0, slack.cooling[h * problem.slots + t].var);
            }
            let capacity = hall.cooling_capacity_kw.at(t) - hall_idle_kw(problem, h);
            out.push(rows.leq(RowTag::Cooling { hall: h, slot: t }, it, capacity));
        }
    }
    out
}

/// Constraint 7–8: `imp[t] = (1 + overhead[t])·Σ_h it[h,t] + fixed_kw + ch[t] − dis[t] − Σ_i gen[i,t]`;
/// in the diagnosis mode the balance gets a surplus slack (export) and the limit becomes
/// `imp[t] − slack ≤ import_limit_kw[t]`.
pub fn define_balance_constraints(rows: &mut Rows, problem: &ScheduleProblem, index: &Index, vars: &Vars) {
    for t in 0..problem.slots {
        let scale = 1.0 + problem.facility.overhead_fraction.at(t);
        let mut balance = Expression::default();
        balance.add_mul(1.0, vars.imp[t].var);
        let mut idle_kw = 0.0;
        for h in 0..problem.halls.len() {
            balance.add_mul(-scale, hall_busy_it_kw(problem, index, vars, h, t));
            idle_kw += hall_idle_kw(problem, h);
        }
        if let Some(b) = &vars.battery {
            balance.add_mul(-1.0, b.ch[t].var);
            balance.add_mul(1.0, b.dis[t].var);
        }
        for unit in &vars.gen_kw {
            balance.add_mul(1.0, unit[t].var);
        }
        if let Some(slack) = &vars.slack {
            balance.add_mul(-1.0, slack.export[t].var);
        }
        rows.eq(
            RowTag::Balance { slot: t },
            balance,
            scale * idle_kw + problem.facility.fixed_kw,
        );
        if let Some(slack) = &vars.slack {
            rows.leq(
                RowTag::ImportLimit { slot: t },
                sum([(1.0, vars.imp[t]), (-1.0, slack.import[t])]),
                problem.grid.import_limit_kw.at(t),
            );
        }
    }
}

/// Constraint 9: `peak ≥ imp[t]`.
pub fn define_peak_constraints(rows: &mut Rows, vars: &Vars) {
    if let Some(peak) = vars.peak {
        for (t, &imp) in vars.imp.iter().enumerate() {
            rows.geq(RowTag::Peak { slot: t }, sum([(1.0, peak), (-1.0, imp)]), 0.0);
        }
    }
}

/// Constraint 10: `soc[t+1] = soc[t] + (charge_efficiency·ch[t] − dis[t]/discharge_efficiency)·Δ`.
pub fn define_battery_constraints(rows: &mut Rows, problem: &ScheduleProblem, vars: &Vars) {
    let (Some(b), Some(v)) = (&problem.battery, &vars.battery) else {
        return;
    };
    let dt_h = problem.slot_hours();
    for t in 0..problem.slots {
        rows.eq(
            RowTag::Battery { slot: t },
            sum([
                (1.0, v.soc[t + 1]),
                (-1.0, v.soc[t]),
                (-b.charge_efficiency * dt_h, v.ch[t]),
                (dt_h / b.discharge_efficiency, v.dis[t]),
            ]),
            0.0,
        );
    }
}

/// Constraint 11: `|gen[i,t] − gen[i,t−1]| ≤ ramp_kw_per_slot_i` for t ≥ 1 (t = 0 is a bound).
/// A ramp limit of at least `max_kw` can never bind and gets no rows.
pub fn define_generator_ramp_constraints(rows: &mut Rows, problem: &ScheduleProblem, vars: &Vars) {
    for (i, unit) in problem.generators.iter().enumerate() {
        if unit.ramp_kw_per_slot >= unit.max_kw {
            continue;
        }
        let cols = &vars.gen_kw[i];
        for t in 1..problem.slots {
            let step = || sum([(1.0, cols[t]), (-1.0, cols[t - 1])]);
            rows.leq(RowTag::RampUp { unit: i, slot: t }, step(), unit.ramp_kw_per_slot);
            rows.geq(
                RowTag::RampDown { unit: i, slot: t },
                step(),
                -unit.ramp_kw_per_slot,
            );
        }
    }
}

/// CVaR: `z[s] ≥ C_s − zeta`.
pub fn define_cvar_constraints(rows: &mut Rows, problem: &ScheduleProblem, vars: &Vars) {
    let Some(cvar) = &vars.cvar else {
        return;
    };
    for (s, scenario) in problem.grid.price_scenarios.iter().enumerate() {
        let mut row = cost_expression(problem, vars, &scenario.price_per_mwh.values(problem.slots));
        row.add_mul(-1.0, cvar.zeta.var);
        row.add_mul(-1.0, cvar.z[s].var);
        rows.leq(RowTag::Cvar { scenario: s }, row, 0.0);
    }
}

/// Extension: `|Σ_h it[h,t] − Σ_h it[h,t−1]| ≤ ramp_limit_kw_per_slot` for t ≥ 1 (the
/// idle part is the same in both slots and cancels).
pub fn define_it_ramp_constraints(rows: &mut Rows, problem: &ScheduleProblem, index: &Index, vars: &Vars) {
    let Some(limit) = problem.facility.ramp_limit_kw_per_slot else {
        return;
    };
    let total = |t: usize| {
        let mut it = Expression::default();
        for h in 0..problem.halls.len() {
            it.add_mul(1.0, hall_busy_it_kw(problem, index, vars, h, t));
        }
        it
    };
    for t in 1..problem.slots {
        let mut up = total(t);
        up.add_mul(-1.0, total(t - 1));
        let mut down = total(t - 1);
        down.add_mul(-1.0, total(t));
        rows.leq(RowTag::ItRampUp { slot: t }, up, limit);
        rows.leq(RowTag::ItRampDown { slot: t }, down, limit);
    }
}
