//! The job queue of the service: jobs in calendar time with the work they have left,
//! credited with the work the plan in force did as its slots pass; from a jobs file, or
//! the demo workload that keeps a realistic queue in front of the example plant.

use chrono::{DateTime, Utc};
use models::campus::Campus;
use models::schedule::{Job, Plan, QueuedJob, ScheduleProblem};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Jobs waiting or running.
#[derive(Debug)]
pub struct JobQueue {
    jobs: Vec<QueuedJob>,
    demo: Option<DemoWorkload>,
    /// The plan in force, its problem, and how far its work has been credited.
    in_force: Option<(ScheduleProblem, Plan, DateTime<Utc>)>,
}

impl JobQueue {
    /// A queue of `jobs` (a jobs file).
    pub fn of(jobs: Vec<QueuedJob>) -> Self {
        JobQueue {
            jobs,
            demo: None,
            in_force: None,
        }
    }

    /// The demo workload of `campus`, drawn with `seed`.
    pub fn demo(campus: &Campus, seed: u64) -> Self {
        JobQueue {
            jobs: Vec::new(),
            demo: Some(DemoWorkload::new(campus, seed)),
            in_force: None,
        }
    }

    /// Jobs left.
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// The jobs of a horizon of `slots` slots from `start`: first the work the plan in
    /// force did up to `start` is credited, finished and expired jobs leave, and the demo
    /// workload (if any) submits what would have arrived by then.
    pub fn jobs_for(&mut self, start: DateTime<Utc>, slots: usize, slot_minutes: u32) -> Vec<Job> {
        self.credit_until(start);
        self.jobs
            .retain(|j| j.work_gpu_hours > 1e-6 && j.deadline > start);
        if let Some(demo) = &mut self.demo {
            demo.submit(start, &mut self.jobs);
        }
        self.jobs
            .iter()
            .filter_map(|j| j.in_horizon(start, slots, slot_minutes))
            .collect()
    }

    /// Puts `plan` (of `problem`) in force from its start.
    pub fn plan_in_force(&mut self, problem: ScheduleProblem, plan: Plan) {
        self.in_force = Some((problem.clone(), plan, problem.start));
    }

    /// Takes off each job the work the plan in force did in its slots that ended by
    /// `until` and were not credited yet (at the plan's caps, on the hall's throughput
    /// curve).
    fn credit_until(&mut self, until: DateTime<Utc>) {
        let Some((problem, plan, credited)) = &mut self.in_force else {
            return;
        };
        let slot = chrono::Duration::minutes(i64::from(problem.slot_minutes));
        let dt_h = problem.slot_hours();
        for (t, start) in plan.slot_start.iter().enumerate() {
            if *start < *credited || *start + slot > until {
                continue;
            }
            for job in &plan.jobs {
                let Some(queued) = self.jobs.iter_mut().find(|q| q.id == job.id) else {
                    continue;
                };
                for p in &job.placements {
                    let (Some(hall), Some(&g), Some(Some(cap))) = (
                        problem.halls.iter().find(|h| h.id == p.hall),
                        p.gpus.get(t),
                        p.power_cap_kw_per_gpu.get(t),
                    ) else {
                        continue;
                    };
                    queued.work_gpu_hours =
                        (queued.work_gpu_hours - hall.throughput_at(*cap) * g * dt_h).max(0.0);
                }
            }
            *credited = *start + slot;
        }
    }
}

/// A synthetic stream of training jobs sized to the campus: Poisson arrivals of jobs of
/// 1/128 to 1/8 of the campus's GPUs (small ones more common, as on shared clusters),
/// windows of 4 to 16 hours, work for 30–80 % of the window at full power, keeping the
/// campus about 70 % busy on average: enough to make GPUs, cooling and the grid compete
/// at the afternoon peak without leaving most jobs unfinished.
#[derive(Debug)]
struct DemoWorkload {
    rng: StdRng,
    gpus: u32,
    next_arrival: Option<DateTime<Utc>>,
    submitted: u64,
    mean_gap_s: f64,
}

impl DemoWorkload {
    fn new(campus: &Campus, seed: u64) -> Self {
        let gpus: u32 = campus
            .spec
            .halls
            .iter()
            .map(|h| h.racks * h.rack.gpus_per_rack)
            .sum();
        // Mean job: 1/40 of the campus for 10 h at 55 % of its window → 0.1375 of the
        // campus·h of work per job; 70 % busy needs 0.7 campus·h per hour, one job every
        // 0.1375/0.7 h ≈ 11.8 minutes.
        DemoWorkload {
            rng: StdRng::seed_from_u64(seed),
            gpus: gpus.max(8),
            next_arrival: None,
            submitted: 0,
            mean_gap_s: 0.1375 / 0.7 * 3600.0,
        }
    }

    /// Submits every job that arrives up to `now`; the first call fills a day's queue as
    /// if the workload had been running.
    fn submit(&mut self, now: DateTime<Utc>, jobs: &mut Vec<QueuedJob>) {
        let mut at = self.next_arrival.unwrap_or(now - chrono::Duration::hours(12));
        while at <= now {
            jobs.push(self.job(at));
            let gap_s = -self.mean_gap_s * (1.0 - self.rng.random::<f64>()).ln();
            at += chrono::Duration::milliseconds((gap_s * 1000.0) as i64);
        }
        self.next_arrival = Some(at);
    }

    fn job(&mut self, arrived: DateTime<Utc>) -> QueuedJob {
        let shares = [128u32, 64, 32, 16, 8];
        let weights = [0.35, 0.25, 0.2, 0.12, 0.08];
        let mut pick: f64 = self.rng.random();
        let mut divisor = shares[0];
        for (s, w) in shares.iter().zip(weights) {
            divisor = *s;
            if pick < w {
                break;
            }
            pick -= w;
        }
        let gpus = (self.gpus / divisor).max(8) / 8 * 8;
        let window_h: f64 = self.rng.random_range(4.0..16.0);
        let delay_h: f64 = self.rng.random_range(0.0..2.0);
        let release = arrived + chrono::Duration::seconds((delay_h * 3600.0) as i64);
        self.submitted += 1;
        QueuedJob {
            id: format!("demo-{:05}-{gpus}g", self.submitted),
            gpus,
            work_gpu_hours: (f64::from(gpus) * window_h * self.rng.random_range(0.3..0.8)).round(),
            release,
            deadline: release + chrono::Duration::seconds((window_h * 3600.0) as i64),
            unmet_penalty_per_gpu_hour: (self.rng.random_range(3.0..9.0_f64) * 10.0).round() / 10.0,
            halls: Vec::new(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The demo keeps a day's queue that uses about the share of the campus it is sized
    /// for: total work over the next 24 h between 40 % and 110 % of the campus's GPU-hours.
    #[test]
    fn the_demo_queue_is_sized_to_the_campus() {
        let campus = Campus::example().unwrap();
        let gpus: f64 = campus
            .spec
            .halls
            .iter()
            .map(|h| f64::from(h.racks * h.rack.gpus_per_rack))
            .sum();
        let mut queue = JobQueue::demo(&campus, 7);
        let start = "2026-07-01T00:00:00Z".parse().unwrap();
        let jobs = queue.jobs_for(start, 96, 15);
        assert!(!jobs.is_empty());
        let work: f64 = jobs.iter().map(|j| j.work_gpu_hours).sum();
        let share = work / (gpus * 24.0);
        assert!((0.4..1.1).contains(&share), "{share}");
        assert!(
            jobs.iter()
                .all(|j| j.deadline_slot <= 96 && j.release_slot < j.deadline_slot)
        );
    }
}
