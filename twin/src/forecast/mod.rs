//! The twin's side of the live service's forecast loop.
//!
//! Every few minutes the service asks the twin for the inputs of the optimizer's problem,
//! has the optimizer plan against them, and asks the twin to simulate the plan:
//!
//! ```text
//! EstimatorState ──PlantCondition::from_estimate──> PlantCondition
//! campus, weather, condition ──schedule_problem──> ScheduleProblem (capacities, overhead,
//!                                                  limits, battery, engines; no jobs or prices)
//! (the caller adds jobs, prices, risk; the optimizer returns a Plan)
//! plan ──simulate_plan──> Forecast (per slot and hall), Summary, saved states
//! ```
//!
//! The twin does not depend on the optimizer: both speak the `models::schedule` types.
//!
//! ```
//! use models::campus::Campus;
//! use twin::forecast::{PlantCondition, schedule_problem};
//!
//! let campus = Campus::builtin("esif.toml").unwrap();
//! let weather = campus.load_weather().unwrap();
//! let start = "2026-07-15T18:00:00Z".parse().unwrap();
//! let problem = schedule_problem(&campus, &weather, start, 4, 15, &PlantCondition::default()).unwrap();
//! assert!(problem.validate().is_empty());
//! let hall = &problem.halls[0];
//! assert_eq!(hall.gpus, 30 * 32);
//! // The curve runs from the lowest cap to (TDP, 1.0).
//! assert_eq!(hall.throughput_curve.last(), Some(&[0.7, 1.0]));
//! assert_eq!(hall.throughput_curve[0][0], hall.min_cap_kw);
//! ```

mod condition;
mod problem;
mod simulate;

pub use condition::{DEGRADED_FLOW_FRAC, PlantCondition};
pub use problem::{
    CAPACITY_BISECTIONS, PLACEHOLDER_FUEL_PRICE_PER_MWH, PLACEHOLDER_PRICE_PER_MWH, SteadyPlant,
    TYPICAL_UTILISATION, schedule_problem, throughput_curve_kw,
};
pub use simulate::{FORECAST_STEP_S, PlanForecast, simulate_plan};

#[cfg(test)]
mod tests;
