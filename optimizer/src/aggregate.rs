//! Merging identical jobs: an exact reduction of the LP.
//!
//! Elastic jobs that agree in everything but their id (GPUs, work, window, penalty,
//! halls) are replaced by one job with `n` times the GPUs and `n` times the work. Every
//! schedule of the originals sums to a schedule of the merged job with the same cost, and
//! a schedule of the merged job split evenly (each original gets `1/n` of the GPUs at the
//! same power caps, so `1/n` of the work) satisfies every original constraint with the
//! same cost; so both LPs have the same optimum. Sweeps of identically sized runs are
//! common on training clusters, and each merge removes a job's worth of variables.

use std::collections::HashMap;

use models::schedule::{JobPlan, Plan, ScheduleProblem};

/// A problem with identical jobs merged, and how to split its plan again.
#[derive(Debug)]
pub struct Merged {
    /// The reduced problem.
    pub problem: ScheduleProblem,
    /// For each job of the reduced problem, the original jobs it stands for.
    pub groups: Vec<Vec<usize>>,
}

/// The key under which jobs are identical.
fn key(problem: &ScheduleProblem, j: usize) -> Option<String> {
    let job = &problem.jobs[j];
    (!job.rigid).then(|| {
        format!(
            "{}|{}|{}|{}|{}|{:?}",
            job.max_gpus,
            job.work_gpu_hours.to_bits(),
            job.release_slot,
            job.deadline_slot,
            job.unmet_penalty_per_gpu_hour.to_bits(),
            problem.job_halls(j),
        )
    })
}

/// Merges the identical elastic jobs of `problem` (keeps the order of first appearance).
pub fn merge_identical_jobs(problem: &ScheduleProblem) -> Merged {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for j in 0..problem.jobs.len() {
        match key(problem, j) {
            Some(k) => {
                let group = *by_key.entry(k).or_insert_with(|| {
                    groups.push(Vec::new());
                    groups.len() - 1
                });
                groups[group].push(j);
            }
            None => groups.push(vec![j]),
        }
    }
    let mut reduced = problem.clone();
    reduced.jobs = groups
        .iter()
        .map(|members| {
            let mut job = problem.jobs[members[0]].clone();
            let n = members.len();
            // The merged job keeps its first member's id, so that a re-solve recognises
            // it when members come or go.
            if n > 1 {
                job.max_gpus = job.max_gpus.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX));
                job.work_gpu_hours *= n as f64;
            }
            job
        })
        .collect();
    Merged {
        problem: reduced,
        groups,
    }
}

impl Merged {
    /// Number of jobs removed by merging.
    pub fn merged_jobs(&self) -> usize {
        self.problem
            .jobs
            .len()
            .abs_diff(self.groups.iter().map(Vec::len).sum::<usize>())
    }

    /// The plan of the original problem: each merged job's GPUs, work and unmet work are
    /// split evenly among the jobs it stands for, at the same power caps.
    pub fn split_plan(&self, original: &ScheduleProblem, mut plan: Plan) -> Plan {
        plan.stats.merged_jobs = self.merged_jobs();
        if plan.jobs.is_empty() {
            return plan;
        }
        let mut jobs: Vec<Option<JobPlan>> = vec![None; original.jobs.len()];
        for (merged, members) in plan.jobs.iter().zip(&self.groups) {
            let n = members.len() as f64;
            for &j in members {
                let mut part = merged.clone();
                part.id = original.jobs[j].id.clone();
                for p in &mut part.placements {
                    p.gpus.iter_mut().for_each(|g| *g /= n);
                }
                part.work_done_gpu_hours /= n;
                part.unmet_gpu_hours /= n;
                jobs[j] = Some(part);
            }
        }
        plan.jobs = jobs.into_iter().flatten().collect();
        plan
    }
}
