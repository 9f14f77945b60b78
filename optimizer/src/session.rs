//! Re-solves: a solver session keeps the last model's basis and starts the next solve
//! from it.
//!
//! A live service re-plans after small changes: an import limit or a price series
//! changed, a job added, removed or with less work left, the horizon shifted forward by a
//! slot. Each new problem is built from scratch (a fraction of a second at 1,000 jobs),
//! and the previous optimal basis is carried over column by column and row by row
//! through what each stands for ([`Key`]: a job's GPUs in a hall at an instant and
//! operating point, the battery's charge at an instant, the cooling row of a hall at an
//! instant, …), not through indices, so one mechanism serves every kind of change:
//! what the new model shares with the old keeps its status, new columns start at their
//! lower bound and new rows basic; HiGHS repairs the count of basic variables and any
//! singularity (an "alien" basis). The dual simplex then starts from there (rung 0 of
//! [`crate::ladder`]); should it not end optimal, the cold ladder follows.
//!
//! ```
//! use optimizer::{SolveOptions, example, session::Session};
//!
//! let mut size = example::ExampleSize::SMALL;
//! size.jobs = 6;
//! size.slots = 16;
//! let mut problem = example::example(size, 3);
//! let mut session = Session::new(SolveOptions::default());
//! let cold = session.solve(&problem).unwrap();
//! problem.jobs[0].work_gpu_hours *= 0.5; // progress reported: less work left
//! let warm = session.solve(&problem).unwrap();
//! assert_eq!(warm.stats.attempts[0].method, "warm_dual_simplex");
//! assert!(warm.objective.unwrap() <= cold.objective.unwrap() + 1e-6);
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use models::schedule::{Plan, ScheduleProblem};

use crate::engine::{AT_LOWER, BASIC, Basis};
use crate::error::Result;
use crate::model::{Index, RowTag, Vars};
use crate::solve::{SolveOptions, solve_from};

/// Share of the new model's columns that must be known from the previous one for a warm
/// start to be worth it; below it the cold ladder starts at once.
const MIN_SHARED_COLUMNS: f64 = 0.5;

/// What a column or a row of the model stands for, in terms that survive a change of
/// the problem: ids instead of indices, instants (minutes since the epoch) instead of
/// slot numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// GPUs of a job in a hall at an instant, at one operating point.
    Gpus {
        job: Arc<str>,
        hall: Arc<str>,
        at_min: i64,
        point: usize,
    },
    /// Unmet work of a job.
    Unmet { job: Arc<str> },
    /// Battery charge power at an instant.
    Charge { at_min: i64 },
    /// Battery discharge power at an instant.
    Discharge { at_min: i64 },
    /// Battery energy at an instant (slot boundaries, the horizon's end included).
    Soc { at_min: i64 },
    /// Output of a generator at an instant.
    Generator { unit: Arc<str>, at_min: i64 },
    /// Grid import at an instant.
    Import { at_min: i64 },
    /// Peak import.
    Peak,
    /// CVaR level.
    Zeta,
    /// CVaR excess of a scenario.
    Excess { scenario: usize },
    /// On/off of a rigid job at an instant.
    On { job: Arc<str>, at_min: i64 },
    /// A row: its tag with ids and instants in place of indices.
    Row {
        family: &'static str,
        name: Option<Arc<str>>,
        at_min: Option<i64>,
        index: usize,
    },
}

/// The key of every column and row of a model, in column and row order.
#[derive(Debug, Clone)]
pub struct ModelKeys {
    cols: Vec<Option<Key>>,
    rows: Vec<Key>,
}

impl ModelKeys {
    /// The keys of the model built from `problem` (its variables `vars`, triples `index`
    /// and row tags `row_tags`).
    pub fn of(problem: &ScheduleProblem, vars: &Vars, index: &Index, row_tags: &[RowTag]) -> Self {
        let start_min = problem.start.timestamp().div_euclid(60);
        let at = |t: usize| start_min + i64::from(problem.slot_minutes) * t as i64;
        let jobs: Vec<Arc<str>> = problem.jobs.iter().map(|j| Arc::from(j.id.as_str())).collect();
        let halls: Vec<Arc<str>> = problem.halls.iter().map(|h| Arc::from(h.id.as_str())).collect();
        let units: Vec<Arc<str>> = problem
            .generators
            .iter()
            .map(|g| Arc::from(g.id.as_str()))
            .collect();

        let n_cols = vars.gpus.cols.len() + 4 * problem.slots + problem.jobs.len() + 8;
        let mut cols: Vec<Option<Key>> = Vec::with_capacity(n_cols);
        let mut put = |index: usize, key: Key| {
            if cols.len() <= index {
                cols.resize(index + 1, None);
            }
            cols[index] = Some(key);
        };
        for (k, tr) in index.triples.iter().enumerate() {
            for (point, (col, _)) in vars.gpus.at(k, tr.hall).enumerate() {
                put(
                    col.index,
                    Key::Gpus {
                        job: jobs[tr.job].clone(),
                        hall: halls[tr.hall].clone(),
                        at_min: at(tr.slot),
                        point,
                    },
                );
            }
        }
        for (j, col) in vars.unmet.iter().enumerate() {
            put(col.index, Key::Unmet { job: jobs[j].clone() });
        }
        if let Some(b) = &vars.battery {
            for (t, col) in b.ch.iter().enumerate() {
                put(col.index, Key::Charge { at_min: at(t) });
            }
            for (t, col) in b.dis.iter().enumerate() {
                put(col.index, Key::Discharge { at_min: at(t) });
            }
            for (t, col) in b.soc.iter().enumerate() {
                put(col.index, Key::Soc { at_min: at(t) });
            }
        }
        for (i, unit) in vars.gen_kw.iter().enumerate() {
            for (t, col) in unit.iter().enumerate() {
                put(
                    col.index,
                    Key::Generator {
                        unit: units[i].clone(),
                        at_min: at(t),
                    },
                );
            }
        }
        for (t, col) in vars.imp.iter().enumerate() {
            put(col.index, Key::Import { at_min: at(t) });
        }
        if let Some(peak) = vars.peak {
            put(peak.index, Key::Peak);
        }
        if let Some(cvar) = &vars.cvar {
            put(cvar.zeta.index, Key::Zeta);
            for (s, z) in cvar.z.iter().enumerate() {
                put(z.index, Key::Excess { scenario: s });
            }
        }
        for (j, on) in vars.on.iter().enumerate() {
            for (k, col) in on.iter().flatten().enumerate() {
                let release = problem.jobs[j].release_slot;
                put(
                    col.index,
                    Key::On {
                        job: jobs[j].clone(),
                        at_min: at(release + k),
                    },
                );
            }
        }

        let row =
            |family: &'static str, name: Option<&Arc<str>>, slot: Option<usize>, index: usize| Key::Row {
                family,
                name: name.cloned(),
                at_min: slot.map(at),
                index,
            };
        let rows = row_tags
            .iter()
            .map(|tag| match *tag {
                RowTag::JobGpus { job, slot } => row("job_gpus", Some(&jobs[job]), Some(slot), 0),
                RowTag::HallGpus { hall, slot } => row("hall_gpus", Some(&halls[hall]), Some(slot), 0),
                RowTag::Work { job } => row("work", Some(&jobs[job]), None, 0),
                RowTag::Cooling { hall, slot } => row("cooling", Some(&halls[hall]), Some(slot), 0),
                RowTag::Balance { slot } => row("balance", None, Some(slot), 0),
                RowTag::ImportLimit { slot } => row("import_limit", None, Some(slot), 0),
                RowTag::Peak { slot } => row("peak", None, Some(slot), 0),
                RowTag::Battery { slot } => row("battery", None, Some(slot), 0),
                RowTag::RampUp { unit, slot } => row("ramp_up", Some(&units[unit]), Some(slot), 0),
                RowTag::RampDown { unit, slot } => row("ramp_down", Some(&units[unit]), Some(slot), 0),
                RowTag::Cvar { scenario } => row("cvar", None, None, scenario),
                RowTag::ItRampUp { slot } => row("it_ramp_up", None, Some(slot), 0),
                RowTag::ItRampDown { slot } => row("it_ramp_down", None, Some(slot), 0),
            })
            .collect();
        ModelKeys { cols, rows }
    }
}

/// What a re-solve starts from: the keys of the last model and its optimal basis.
#[derive(Debug, Clone)]
pub struct Warm {
    keys: ModelKeys,
    basis: Basis,
}

impl Warm {
    /// The optimal `basis` of the model with keys `keys`.
    pub fn new(keys: ModelKeys, basis: Basis) -> Self {
        Warm { keys, basis }
    }

    /// The basis carried over onto the model with keys `new`: the status of each column
    /// and row the two models share, new columns at their lower bound, new rows basic.
    /// `None` when the models share too little for a warm start to pay.
    pub fn basis_for(&self, new: &ModelKeys) -> Option<Basis> {
        let old_cols: HashMap<&Key, i32> = self
            .keys
            .cols
            .iter()
            .zip(&self.basis.cols)
            .filter_map(|(k, &s)| k.as_ref().map(|k| (k, s)))
            .collect();
        let old_rows: HashMap<&Key, i32> = self
            .keys
            .rows
            .iter()
            .zip(&self.basis.rows)
            .map(|(k, &s)| (k, s))
            .collect();
        let mut shared = 0usize;
        let cols: Vec<i32> = new
            .cols
            .iter()
            .map(|k| match k.as_ref().and_then(|k| old_cols.get(k)) {
                Some(&status) => {
                    shared += 1;
                    status
                }
                None => AT_LOWER,
            })
            .collect();
        if (shared as f64) < MIN_SHARED_COLUMNS * cols.len() as f64 {
            return None;
        }
        let rows = new
            .rows
            .iter()
            .map(|k| old_rows.get(k).copied().unwrap_or(BASIC))
            .collect();
        Some(Basis { cols, rows })
    }
}

/// A solver session: solves problem after problem, each warm-started from the last
/// optimal basis when there is one.
#[derive(Debug, Clone)]
pub struct Session {
    options: SolveOptions,
    warm: Option<Warm>,
}

impl Session {
    /// A session solving with `options`.
    pub fn new(options: SolveOptions) -> Self {
        Session { options, warm: None }
    }

    /// Solves `problem` (which must be valid), from the last optimal basis when there
    /// is one. A problem without an optimal basis (infeasible, time-limited, with rigid
    /// jobs) leaves the next solve cold.
    pub fn solve(&mut self, problem: &ScheduleProblem) -> Result<Plan> {
        let result = solve_from(problem, &self.options, self.warm.as_ref());
        match result {
            Ok((plan, next)) => {
                self.warm = next;
                Ok(plan)
            }
            Err(e) => {
                self.warm = None;
                Err(e)
            }
        }
    }

    /// Solves `problem` as [`Session::solve`] does and re-checks the plan without the
    /// solver; a plan that breaks a constraint is an error and leaves the next solve cold.
    pub fn solve_checked(&mut self, problem: &ScheduleProblem) -> Result<Plan> {
        let plan = self.solve(problem)?;
        match crate::check_plan(problem, &plan).into_result() {
            Ok(_) => Ok(plan),
            Err(e) => {
                self.warm = None;
                Err(e)
            }
        }
    }

    /// Forgets the last basis: the next solve is cold.
    pub fn forget(&mut self) {
        self.warm = None;
    }

    /// Whether the next solve can start warm.
    pub fn is_warm(&self) -> bool {
        self.warm.is_some()
    }
}
