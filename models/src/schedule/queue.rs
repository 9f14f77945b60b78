//! Jobs in calendar time, as a service keeps them between plans, and their view in the
//! slots of one horizon.
//!
//! A queued job has a release and a deadline in UTC and the work it has left. For a plan
//! starting at `start` with `slots` slots, [`QueuedJob::in_horizon`] gives the
//! [`Job`] of the problem file: its window in slots (clipped to the horizon) and the work
//! it must do inside the horizon. A job whose deadline lies beyond the horizon is asked for
//! the share of its remaining work that the horizon holds of its remaining window (a
//! rolling horizon that does not front-load work the next plans can still schedule); one
//! whose deadline falls inside the horizon is asked for all of it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Job;
use crate::error::{Error, Problems, Result};

/// A job waiting or running.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuedJob {
    /// Unique name.
    pub id: String,
    /// Most GPUs it can use at once.
    pub gpus: u32,
    /// Work left, GPU-hours at full power.
    pub work_gpu_hours: f64,
    /// Earliest start.
    pub release: DateTime<Utc>,
    /// Latest end.
    pub deadline: DateTime<Utc>,
    /// Cost of each GPU-hour left undone at the deadline.
    pub unmet_penalty_per_gpu_hour: f64,
    /// Halls it may run in; empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub halls: Vec<String>,
}

impl QueuedJob {
    /// The job in a horizon of `slots` slots of `slot_minutes` from `start`; `None` when
    /// its window does not meet the horizon, its window inside the horizon is shorter than
    /// a slot, or it has no work left.
    pub fn in_horizon(&self, start: DateTime<Utc>, slots: usize, slot_minutes: u32) -> Option<Job> {
        let slot_s = i64::from(slot_minutes) * 60;
        let end = start + chrono::Duration::seconds(slot_s * slots as i64);
        if self.work_gpu_hours <= 0.0 || self.deadline <= start || self.release >= end {
            return None;
        }
        // Slots wholly inside the window: a job may not start before its release or run
        // past its deadline.
        let from_s = (self.release - start).num_seconds().max(0);
        let to_s = (self.deadline - start).num_seconds().min(slot_s * slots as i64);
        let release_slot = usize::try_from((from_s + slot_s - 1) / slot_s).ok()?;
        let deadline_slot = usize::try_from(to_s / slot_s).ok()?.min(slots);
        if deadline_slot <= release_slot {
            return None;
        }
        // The share of the remaining window the horizon holds.
        let remaining_s = (self.deadline - self.release.max(start)).num_seconds() as f64;
        let inside_s = ((deadline_slot - release_slot) as i64 * slot_s) as f64;
        let share = if self.deadline <= end {
            1.0
        } else {
            (inside_s / remaining_s).clamp(0.0, 1.0)
        };
        Some(Job {
            id: self.id.clone(),
            max_gpus: self.gpus,
            work_gpu_hours: self.work_gpu_hours * share,
            release_slot,
            deadline_slot,
            unmet_penalty_per_gpu_hour: self.unmet_penalty_per_gpu_hour,
            halls: self.halls.clone(),
            rigid: false,
        })
    }

    /// Every rule the job breaks, under `path`.
    pub fn validate(&self, path: &str, problems: &mut Problems) {
        problems.check(!self.id.is_empty(), format!("{path}.id"), "must not be empty");
        problems.check(self.gpus > 0, format!("{path}.gpus"), "must be > 0");
        problems.check(
            self.work_gpu_hours.is_finite() && self.work_gpu_hours >= 0.0,
            format!("{path}.work_gpu_hours"),
            "must be a number ≥ 0",
        );
        problems.check(
            self.deadline > self.release,
            format!("{path}.deadline"),
            "must be after release",
        );
        problems.check(
            self.unmet_penalty_per_gpu_hour.is_finite() && self.unmet_penalty_per_gpu_hour >= 0.0,
            format!("{path}.unmet_penalty_per_gpu_hour"),
            "must be a number ≥ 0",
        );
    }

    /// Reads a JSON list of jobs, every problem reported with its path.
    pub fn read_list(text: &str, file: &str) -> Result<Vec<QueuedJob>> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let jobs: Vec<QueuedJob> = serde_path_to_error::deserialize(de)
            .map_err(|e| Error::parse(file, format!("{}: {}", e.path(), e.inner())))?;
        let mut problems = Problems::new();
        let mut ids = std::collections::HashSet::new();
        for (i, job) in jobs.iter().enumerate() {
            job.validate(&format!("[{i}]"), &mut problems);
            problems.check(
                ids.insert(job.id.as_str()),
                format!("[{i}].id"),
                "repeats an earlier job's id",
            );
        }
        problems.into_result(file)?;
        Ok(jobs)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn job(release_h: i64, deadline_h: i64, work: f64) -> QueuedJob {
        let t0 = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
        QueuedJob {
            id: "j".into(),
            gpus: 64,
            work_gpu_hours: work,
            release: t0 + chrono::Duration::hours(release_h),
            deadline: t0 + chrono::Duration::hours(deadline_h),
            unmet_penalty_per_gpu_hour: 5.0,
            halls: Vec::new(),
        }
    }

    #[test]
    fn a_window_inside_the_horizon_keeps_all_its_work() {
        let start = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
        let j = job(2, 6, 100.0).in_horizon(start, 96, 15).unwrap();
        assert_eq!(
            (j.release_slot, j.deadline_slot, j.work_gpu_hours),
            (8, 24, 100.0)
        );
    }

    /// A job from 12:00 to 36:00 in a 24-hour horizon from 00:00 has 12 of its 24 hours in
    /// the horizon: half its work is asked for.
    #[test]
    fn a_window_past_the_horizon_is_asked_for_its_share() {
        let start = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
        let j = job(12, 36, 100.0).in_horizon(start, 96, 15).unwrap();
        assert_eq!((j.release_slot, j.deadline_slot), (48, 96));
        assert!((j.work_gpu_hours - 50.0).abs() < 1e-9);
        // Started already: the window counts from the horizon's start.
        let later = start + chrono::Duration::hours(24);
        let j = job(12, 36, 100.0).in_horizon(later, 96, 15).unwrap();
        assert_eq!(
            (j.release_slot, j.deadline_slot, j.work_gpu_hours),
            (0, 48, 100.0)
        );
    }

    #[test]
    fn windows_outside_the_horizon_or_shorter_than_a_slot_are_left_out() {
        let start = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
        assert!(job(30, 40, 1.0).in_horizon(start, 96, 15).is_none());
        assert!(job(-10, -1, 1.0).in_horizon(start, 96, 15).is_none());
        assert!(job(1, 2, 0.0).in_horizon(start, 96, 15).is_none());
        let mut short = job(1, 2, 1.0);
        short.release += chrono::Duration::minutes(5);
        short.deadline = short.release + chrono::Duration::minutes(20);
        assert!(short.in_horizon(start, 96, 15).is_none());
    }

    #[test]
    fn a_bad_list_names_every_problem() {
        let text = r#"[{"id": "a", "gpus": 0, "work_gpu_hours": -1, "release": "2026-07-01T02:00:00Z",
                        "deadline": "2026-07-01T01:00:00Z", "unmet_penalty_per_gpu_hour": 1},
                       {"id": "a", "gpus": 8, "work_gpu_hours": 1, "release": "2026-07-01T00:00:00Z",
                        "deadline": "2026-07-01T01:00:00Z", "unmet_penalty_per_gpu_hour": 1}]"#;
        let err = QueuedJob::read_list(text, "jobs.json").unwrap_err().to_string();
        for path in ["[0].gpus", "[0].work_gpu_hours", "[0].deadline", "[1].id"] {
            assert!(err.contains(path), "{path}: {err}");
        }
        let err = QueuedJob::read_list(r#"[{"id": "a", "gpus": "x"}]"#, "jobs.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("[0].gpus"), "{err}");
    }
}
