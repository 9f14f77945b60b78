//! Tests of the optimizer: hand-solved instances with their objectives worked out on
//! paper, infeasible and degenerate instances, the extensions, and properties of random
//! small problems. Every plan is also put through the independent check.

#![allow(clippy::unwrap_used)]

mod extensions;
mod hand_solved;
mod infeasible;
mod properties;

use models::schedule::{Plan, PlanStatus, ScheduleProblem};
use serde_json::{Value, json};

use crate::{SolveOptions, check_plan, solve};

/// A problem with one hall of 10 GPUs whose throughput curve is (0.5 kW, 0.75) →
/// (1.0 kW, 1.0), 1-hour slots, no overhead, no battery, no generators, ample cooling and
/// grid, carbon free; `edit` changes it before parsing.
fn problem(slots: usize, prices: Value, edit: impl FnOnce(&mut Value)) -> ScheduleProblem {
    let mut v = json!({
        "start": "2026-07-01T00:00:00Z",
        "slot_minutes": 60,
        "slots": slots,
        "halls": [{
            "id": "hall-a", "gpus": 10, "idle_kw_per_gpu": 0.0, "aux_kw_per_busy_gpu": 0.0,
            "min_cap_kw": 0.5, "max_cap_kw": 1.0,
            "throughput_curve": [[0.5, 0.75], [1.0, 1.0]],
            "cooling_capacity_kw": 1000.0
        }],
        "facility": { "overhead_fraction": 0.0, "fixed_kw": 0.0 },
        "grid": {
            "import_limit_kw": 1000.0, "demand_charge_per_kw": 0.0,
            "price_scenarios": [{ "probability": 1.0, "price_per_mwh": prices }],
            "carbon_kg_per_mwh": 0.0, "carbon_price_per_t": 0.0
        },
        "jobs": []
    });
    edit(&mut v);
    ScheduleProblem::from_json(&v.to_string(), "test.json").expect("test problem is valid")
}

/// A job of `max_gpus` GPUs and `work` GPU-hours over the whole horizon, penalty 1000.
fn job(id: &str, max_gpus: u32, work: f64, slots: usize) -> Value {
    json!({ "id": id, "max_gpus": max_gpus, "work_gpu_hours": work, "release_slot": 0,
            "deadline_slot": slots, "unmet_penalty_per_gpu_hour": 1000.0 })
}

/// Solves with default options, checks the plan independently and returns it.
fn solved(problem: &ScheduleProblem) -> Plan {
    solved_with(problem, &SolveOptions::default())
}

fn solved_with(problem: &ScheduleProblem, options: &SolveOptions) -> Plan {
    let plan = solve(problem, options).expect("solve");
    let report = check_plan(problem, &plan);
    assert!(report.is_ok(), "check failed: {:?}", report.violations);
    plan
}

/// Asserts an optimal plan with `objective` (relative 1e-7).
fn assert_objective(plan: &Plan, objective: f64) {
    assert_eq!(plan.status, PlanStatus::Optimal);
    let got = plan.objective.expect("objective");
    assert!(
        (got - objective).abs() <= 1e-7 * objective.abs().max(1.0),
        "objective {got}, expected {objective}"
    );
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}
