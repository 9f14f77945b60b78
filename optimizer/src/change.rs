//! The changes a live service makes to a problem between two plans, as data: what the
//! re-solve benchmark and the warm-start property test apply, and what a service can use
//! to roll its horizon.

use models::schedule::{Job, ScheduleProblem, Series};

/// One change to a problem.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The import limit scaled by `factor` over `slots` slots from `from_slot` (a
    /// demand-response event).
    ImportLimit {
        from_slot: usize,
        slots: usize,
        factor: f64,
    },
    /// The price of scenario `scenario` scaled by `factor` over `slots` slots from
    /// `from_slot` (a new price forecast).
    Price {
        scenario: usize,
        from_slot: usize,
        slots: usize,
        factor: f64,
    },
    /// A job submitted.
    AddJob(Job),
    /// A job cancelled or finished.
    RemoveJob(String),
    /// A job's work left scaled by `factor` (progress reported).
    WorkLeft { job: String, factor: f64 },
    /// The horizon moved forward by `slots` slots: the start is later, every series
    /// loses its first values and repeats its last, windows move earlier, and jobs whose
    /// window has passed are dropped.
    Shift { slots: usize },
}

impl Change {
    /// A short name of the kind of change, for reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::ImportLimit { .. } => "import_limit",
            Change::Price { .. } => "price",
            Change::AddJob(_) => "add_job",
            Change::RemoveJob(_) => "remove_job",
            Change::WorkLeft { .. } => "work_left",
            Change::Shift { .. } => "shift",
        }
    }

    /// `problem` with the change made.
    pub fn apply(&self, problem: &ScheduleProblem) -> ScheduleProblem {
        let mut p = problem.clone();
        match self {
            Change::ImportLimit {
                from_slot,
                slots,
                factor,
            } => scale(
                &mut p.grid.import_limit_kw,
                problem.slots,
                *from_slot,
                *slots,
                *factor,
            ),
            Change::Price {
                scenario,
                from_slot,
                slots,
                factor,
            } => {
                if let Some(s) = p.grid.price_scenarios.get_mut(*scenario) {
                    scale(&mut s.price_per_mwh, problem.slots, *from_slot, *slots, *factor);
                }
            }
            Change::AddJob(job) => p.jobs.push(job.clone()),
            Change::RemoveJob(id) => p.jobs.retain(|j| &j.id != id),
            Change::WorkLeft { job, factor } => {
                for j in p.jobs.iter_mut().filter(|j| &j.id == job) {
                    j.work_gpu_hours *= factor;
                }
            }
            Change::Shift { slots } => shift(&mut p, *slots),
        }
        p
    }
}

/// Scales slots `from..from + n` of `series` by `factor`.
fn scale(series: &mut Series, slots: usize, from: usize, n: usize, factor: f64) {
    let mut values = series.values(slots);
    for v in values.iter_mut().skip(from).take(n) {
        *v *= factor;
    }
    *series = Series::PerSlot(values);
}

/// Moves `problem`'s horizon forward by `k` slots.
fn shift(problem: &mut ScheduleProblem, k: usize) {
    let slots = problem.slots;
    let k = k.min(slots);
    let roll = |series: &mut Series| {
        if let Series::PerSlot(values) = series {
            let last = values.last().copied().unwrap_or(0.0);
            values.drain(..k.min(values.len()));
            values.resize(slots, last);
        }
    };
    problem.start += chrono::Duration::minutes(i64::from(problem.slot_minutes) * k as i64);
    for hall in &mut problem.halls {
        roll(&mut hall.cooling_capacity_kw);
    }
    roll(&mut problem.facility.overhead_fraction);
    roll(&mut problem.grid.import_limit_kw);
    roll(&mut problem.grid.carbon_kg_per_mwh);
    for s in &mut problem.grid.price_scenarios {
        roll(&mut s.price_per_mwh);
    }
    problem.jobs.retain(|j| j.deadline_slot > k);
    for job in &mut problem.jobs {
        job.release_slot = job.release_slot.saturating_sub(k);
        job.deadline_slot -= k;
    }
}
