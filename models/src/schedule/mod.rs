//! The scheduling problem and its answer: the problem file the optimizer reads and the
//! plan file it writes (`docs/optimizer-formulation.md`).
//!
//! These are plain data with their validation, so that the web service and the scheduler
//! plug-in read and serve problems and plans without linking the solver.
//!
//! ```
//! use models::schedule::ScheduleProblem;
//!
//! let text = r#"{
//!   "start": "2026-07-01T00:00:00Z", "slot_minutes": 60, "slots": 2,
//!   "halls": [{ "id": "hall-a", "gpus": 8, "idle_kw_per_gpu": 0.1,
//!               "aux_kw_per_busy_gpu": 0.2, "min_cap_kw": 0.2, "max_cap_kw": 0.7,
//!               "throughput_curve": [[0.2, 0.5], [0.7, 1.0]],
//!               "cooling_capacity_kw": [10.0, 4.0] }],
//!   "facility": { "overhead_fraction": 0.1, "fixed_kw": 1.0 },
//!   "grid": { "import_limit_kw": 20.0, "demand_charge_per_kw": 0.0,
//!             "price_scenarios": [{ "probability": 1.0, "price_per_mwh": [40.0, 90.0] }],
//!             "carbon_kg_per_mwh": 300.0, "carbon_price_per_t": 0.0 },
//!   "jobs": [{ "id": "j1", "max_gpus": 8, "work_gpu_hours": 10.0, "release_slot": 0,
//!              "deadline_slot": 2, "unmet_penalty_per_gpu_hour": 5.0 }]
//! }"#;
//! let problem = ScheduleProblem::from_json(text, "example.json").unwrap();
//! assert_eq!(problem.halls[0].cooling_capacity_kw.at(1), 4.0);
//!
//! // Every broken rule is reported with its path.
//! let bad = text.replace("\"deadline_slot\": 2", "\"deadline_slot\": 0");
//! let err = ScheduleProblem::from_json(&bad, "bad.json").unwrap_err().to_string();
//! assert!(err.contains("jobs[0].deadline_slot: window is empty"), "{err}");
//! ```

pub mod plan;
pub mod problem;
pub mod queue;
pub mod series;

pub use plan::{
    GeneratorPlan, HallPlan, Infeasibility, JobPlan, Placement, Plan, PlanStatus, SolveAttempt, SolveStats,
};
pub use problem::{Battery, Facility, Generator, Grid, Hall, Job, PriceScenario, Risk, ScheduleProblem};
pub use queue::QueuedJob;
pub use series::Series;
