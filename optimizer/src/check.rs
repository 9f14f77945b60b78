//! The independent check of a plan: every constraint of the formulation page re-checked
//! from the plan's own numbers, and the cost recomputed, without the solver or the LP.
//!
//! A value passes when it is within [`TOLERANCE`] of its bound, relative to the larger
//! of the magnitudes involved and 1. For the power balance, whose sides are sums with
//! opposite signs, the magnitudes involved are those of its terms: a balance of 20 MW of
//! generation against 20 MW of load is held to 1e-6 of 20 MW, not of the few watts of
//! import left.

use std::fmt;

use models::schedule::{Plan, PlanStatus, ScheduleProblem};

use crate::cost::{self, Objective};
use crate::error::{Error, Result};

/// Relative tolerance of every check.
pub const TOLERANCE: f64 = 1e-6;

/// One broken constraint.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// What is broken and where (`cooling hall-a slot 3`).
    pub constraint: String,
    /// Left side, as recomputed.
    pub lhs: f64,
    /// Right side or bound.
    pub rhs: f64,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} against {}", self.constraint, self.lhs, self.rhs)
    }
}

/// What the check found.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// Every broken constraint.
    pub violations: Vec<Violation>,
    /// The cost recomputed from the plan's series (absent for an infeasible plan).
    pub recomputed: Option<Objective>,
}

impl CheckReport {
    /// True when nothing is broken.
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty()
    }

    /// `Ok` when nothing is broken, else [`Error::CheckFailed`].
    pub fn into_result(self) -> Result<Self> {
        match self.violations.first() {
            None => Ok(self),
            Some(first) => Err(Error::CheckFailed {
                count: self.violations.len(),
                first: first.to_string(),
            }),
        }
    }
}

/// Collects violations.
struct Checker {
    violations: Vec<Violation>,
}

impl Checker {
    fn scale(a: f64, b: f64) -> f64 {
        TOLERANCE * a.abs().max(b.abs()).max(1.0)
    }

    fn fail(&mut self, constraint: impl FnOnce() -> String, lhs: f64, rhs: f64) {
        self.violations.push(Violation {
            constraint: constraint(),
            lhs,
            rhs,
        });
    }

    /// `lhs ≤ rhs`.
    fn le(&mut self, constraint: impl FnOnce() -> String, lhs: f64, rhs: f64) {
        if lhs - rhs > Self::scale(lhs, rhs) || lhs.is_nan() || rhs.is_nan() {
            self.fail(constraint, lhs, rhs);
        }
    }

    /// `lhs = rhs`.
    fn eq(&mut self, constraint: impl FnOnce() -> String, lhs: f64, rhs: f64) {
        self.eq_of_terms(constraint, lhs, rhs, 0.0);
    }

    /// `lhs = rhs` where the sides are sums whose largest term is `largest_term` in size.
    fn eq_of_terms(&mut self, constraint: impl FnOnce() -> String, lhs: f64, rhs: f64, largest_term: f64) {
        let tolerance = Self::scale(lhs, rhs).max(TOLERANCE * largest_term.abs());
        if (lhs - rhs).abs() > tolerance || lhs.is_nan() || rhs.is_nan() {
            self.fail(constraint, lhs, rhs);
        }
    }

    /// The series has `len` values.
    fn len(&mut self, name: &str, actual: usize, len: usize) -> bool {
        if actual != len {
            self.fail(
                || format!("{name} has the wrong length"),
                actual as f64,
                len as f64,
            );
            return false;
        }
        true
    }
}

/// Checks `plan` against `problem` (which must be valid) and recomputes its cost.
pub fn check_plan(problem: &ScheduleProblem, plan: &Plan) -> CheckReport {
    let mut c = Checker {
        violations: Vec::new(),
    };
    if plan.status == PlanStatus::Infeasible {
        return CheckReport {
            violations: c.violations,
            recomputed: None,
        };
    }
    let slots = problem.slots;
    let dt_h = problem.slot_hours();
    let shapes_ok = [
        c.len("import_kw", plan.import_kw.len(), slots),
        c.len("facility_kw", plan.facility_kw.len(), slots),
        c.len("battery_charge_kw", plan.battery_charge_kw.len(), slots),
        c.len("battery_discharge_kw", plan.battery_discharge_kw.len(), slots),
        c.len(
            "soc_kwh",
            plan.soc_kwh.len(),
            if problem.battery.is_some() { slots + 1 } else { 0 },
        ),
        c.len("halls", plan.halls.len(), problem.halls.len()),
        c.len("jobs", plan.jobs.len(), problem.jobs.len()),
        c.len("generators", plan.generators.len(), problem.generators.len()),
    ]
    .iter()
    .all(|ok| *ok)
        && plan.halls.iter().all(|h| h.it_kw.len() == slots)
        && plan.generators.iter().all(|g| g.generator_kw.len() == slots)
        && plan.jobs.iter().all(|j| {
            j.placements
                .iter()
                .all(|p| p.gpus.len() == slots && p.power_cap_kw_per_gpu.len() == slots)
        });
    if !shapes_ok {
        c.fail(|| "plan series have the wrong shape".to_string(), 0.0, 0.0);
        return CheckReport {
            violations: c.violations,
            recomputed: None,
        };
    }

    // 1–4: per job; 5–6: per hall. Hall totals are accumulated from the placements.
    let halls = problem.halls.len();
    let mut busy_gpus = vec![0.0; halls * slots];
    let mut busy_kw = vec![0.0; halls * slots];
    let mut unmet = Vec::with_capacity(problem.jobs.len());
    for (j, (job, jp)) in problem.jobs.iter().zip(&plan.jobs).enumerate() {
        if jp.id != job.id {
            c.fail(
                || format!("jobs[{j}] is {} instead of {}", jp.id, job.id),
                0.0,
                0.0,
            );
            continue;
        }
        let allowed = problem.job_halls(j);
        let mut used = vec![0.0; slots];
        let mut work_by_slot = vec![0.0; slots];
        for p in &jp.placements {
            let Some(h) = problem.hall_index(&p.hall).filter(|h| allowed.contains(h)) else {
                c.fail(
                    || format!("job {} placed in hall {} it may not use", job.id, p.hall),
                    1.0,
                    0.0,
                );
                continue;
            };
            let hall = &problem.halls[h];
            for t in 0..slots {
                let g = p.gpus[t];
                c.le(
                    || format!("gpus >= 0, job {} hall {} slot {t}", job.id, hall.id),
                    -g,
                    0.0,
                );
                if g <= 0.0 {
                    continue;
                }
                let in_window = job.release_slot <= t && t < job.deadline_slot;
                if !in_window {
                    c.fail(
                        || format!("job {} runs outside its window in slot {t}", job.id),
                        g,
                        0.0,
                    );
                }
                let Some(cap) = p.power_cap_kw_per_gpu[t] else {
                    c.fail(
                        || format!("power cap missing, job {} hall {} slot {t}", job.id, hall.id),
                        g,
                        0.0,
                    );
                    continue;
                };
                let e = cap * g;
                c.le(
                    || {
                        format!(
                            "power cap >= min_cap_kw, job {} hall {} slot {t}",
                            job.id, hall.id
                        )
                    },
                    hall.min_cap_kw * g,
                    e,
                );
                c.le(
                    || {
                        format!(
                            "power cap <= max_cap_kw, job {} hall {} slot {t}",
                            job.id, hall.id
                        )
                    },
                    e,
                    hall.max_cap_kw * g,
                );
                used[t] += g;
                busy_gpus[h * slots + t] += g;
                busy_kw[h * slots + t] += e + (hall.aux_kw_per_busy_gpu - hall.idle_kw_per_gpu) * g;
                work_by_slot[t] += hall.throughput_at(cap) * g * dt_h;
            }
        }
        let max_gpus = f64::from(job.max_gpus);
        for (t, &u) in used.iter().enumerate() {
            c.le(|| format!("job {} GPUs in slot {t}", job.id), u, max_gpus);
            if job.rigid && u > Checker::scale(u, max_gpus) {
                c.eq(
                    || format!("rigid job {} runs on exactly max_gpus in slot {t}", job.id),
                    u,
                    max_gpus,
                );
            }
        }
        let (done, finish) = crate::solve::progress(job.work_gpu_hours, &work_by_slot);
        let needed = (job.work_gpu_hours - done).max(0.0);
        c.eq(
            || format!("unmet work of job {}", job.id),
            jp.unmet_gpu_hours,
            needed,
        );
        if jp.finish_slot != finish {
            c.fail(
                || {
                    format!(
                        "finish slot of job {} is {:?}, recomputed {:?}",
                        job.id, jp.finish_slot, finish
                    )
                },
                jp.finish_slot.map_or(-1.0, |s| s as f64),
                finish.map_or(-1.0, |s| s as f64),
            );
        }
        unmet.push(needed);
    }

    let mut it_total = vec![0.0; slots];
    for (h, (hall, hp)) in problem.halls.iter().zip(&plan.halls).enumerate() {
        for (t, total) in it_total.iter_mut().enumerate() {
            let k = h * slots + t;
            c.le(
                || format!("GPUs of hall {} in slot {t}", hall.id),
                busy_gpus[k],
                f64::from(hall.gpus),
            );
            let it = hall.idle_kw_per_gpu * f64::from(hall.gpus) + busy_kw[k];
            c.eq(
                || format!("IT power of hall {} in slot {t}", hall.id),
                hp.it_kw[t],
                it,
            );
            c.le(
                || format!("cooling of hall {} in slot {t}", hall.id),
                it,
                hall.cooling_capacity_kw.at(t),
            );
            *total += it;
        }
    }

    // 7–8: facility and balance.
    for t in 0..slots {
        let fac = (1.0 + problem.facility.overhead_fraction.at(t)) * it_total[t] + problem.facility.fixed_kw;
        c.eq(|| format!("facility power in slot {t}"), plan.facility_kw[t], fac);
        let generated_kw: f64 = plan.generators.iter().map(|g| g.generator_kw[t]).sum();
        let imp = plan.import_kw[t];
        let (charge_kw, discharge_kw) = (plan.battery_charge_kw[t], plan.battery_discharge_kw[t]);
        c.eq_of_terms(
            || format!("power balance in slot {t}"),
            imp,
            fac + charge_kw - discharge_kw - generated_kw,
            [fac, charge_kw, discharge_kw, generated_kw]
                .into_iter()
                .fold(0.0, f64::max),
        );
        c.le(|| format!("import >= 0 (no export) in slot {t}"), -imp, 0.0);
        c.le(
            || format!("import limit in slot {t}"),
            imp,
            problem.grid.import_limit_kw.at(t),
        );
        if let (Some(limit), true) = (problem.facility.ramp_limit_kw_per_slot, t > 0) {
            c.le(
                || format!("IT ramp into slot {t}"),
                (it_total[t] - it_total[t - 1]).abs(),
                limit,
            );
        }
    }

    // 10: battery.
    match &problem.battery {
        Some(b) => {
            let soc = &plan.soc_kwh;
            c.eq(
                || "battery soc[0]".to_string(),
                soc[0],
                b.energy_kwh * b.soc_initial,
            );
            for t in 0..slots {
                let (ch, dis) = (plan.battery_charge_kw[t], plan.battery_discharge_kw[t]);
                c.le(|| format!("battery charge in slot {t}"), ch, b.power_kw);
                c.le(|| format!("battery discharge in slot {t}"), dis, b.power_kw);
                c.le(|| format!("battery charge >= 0 in slot {t}"), -ch, 0.0);
                c.le(|| format!("battery discharge >= 0 in slot {t}"), -dis, 0.0);
                let next = soc[t] + (b.charge_efficiency * ch - dis / b.discharge_efficiency) * dt_h;
                c.eq(|| format!("battery energy balance in slot {t}"), soc[t + 1], next);
                c.le(
                    || format!("battery soc_min at the end of slot {t}"),
                    b.energy_kwh * b.soc_min,
                    soc[t + 1],
                );
                c.le(
                    || format!("battery soc_max at the end of slot {t}"),
                    soc[t + 1],
                    b.energy_kwh * b.soc_max,
                );
            }
            c.le(
                || "battery ends at least as full as it starts".to_string(),
                soc[0],
                soc[slots],
            );
        }
        None => {
            for t in 0..slots {
                c.eq(
                    || format!("no battery: charge in slot {t}"),
                    plan.battery_charge_kw[t],
                    0.0,
                );
                c.eq(
                    || format!("no battery: discharge in slot {t}"),
                    plan.battery_discharge_kw[t],
                    0.0,
                );
            }
        }
    }

    // 11: generators.
    for (spec, gp) in problem.generators.iter().zip(&plan.generators) {
        let mut previous = spec.initial_kw;
        for (t, &kw) in gp.generator_kw.iter().enumerate() {
            c.le(|| format!("generator {} >= 0 in slot {t}", spec.id), -kw, 0.0);
            c.le(
                || format!("generator {} max_kw in slot {t}", spec.id),
                kw,
                spec.max_kw,
            );
            c.le(
                || format!("generator {} ramp into slot {t}", spec.id),
                (kw - previous).abs(),
                spec.ramp_kw_per_slot,
            );
            previous = kw;
        }
    }

    // Cost.
    let peak = plan.import_kw.iter().copied().fold(0.0, f64::max);
    let costs = cost::scenario_costs(problem, &plan.import_kw, &plan.generators, peak, &unmet);
    let recomputed = Objective::of(problem, &costs);
    if let Some(objective) = plan.objective {
        c.eq(|| "objective".to_string(), objective, recomputed.objective);
    }
    if let Some(expected) = plan.expected_cost {
        c.eq(|| "expected cost".to_string(), expected, recomputed.expected_cost);
    }
    if let (Some(cvar), Some(again)) = (plan.cvar, recomputed.cvar) {
        c.eq(|| "CVaR".to_string(), cvar, again);
    }
    CheckReport {
        violations: c.violations,
        recomputed: Some(recomputed),
    }
}
