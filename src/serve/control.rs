//! What the API asks of the service: a forecast now, and what-if runs from the latest
//! forecast's starting state, run on the blocking pool and kept for a while.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use models::campus::Campus;
use models::forecast::Forecast;
use models::schedule::{Plan, ScheduleProblem};
use models::weather::Weather;
use tokio::sync::Notify;
use twin::forecast::PlantCondition;
use twin::sim::SavedRun;
use web::ApiError;
use web::state::{Control, WhatIfRequest, WhatIfRun, WhatIfStatus};

/// What-if runs kept (the oldest finished ones go first).
const KEPT_RUNS: usize = 100;
/// What-if runs at once; more are refused (409) until one ends: each holds a core.
const RUNNING_AT_ONCE: usize = 2;

/// What a what-if branches from: the latest forecast's problem, plan, condition and the
/// plant at its start.
#[derive(Debug, Clone)]
pub struct Branch {
    /// The campus.
    pub campus: Arc<Campus>,
    /// Its weather.
    pub weather: Arc<Weather>,
    /// The problem of the plan.
    pub problem: Arc<ScheduleProblem>,
    /// The plan.
    pub plan: Arc<Plan>,
    /// The plant's condition the forecast started from.
    pub condition: PlantCondition,
    /// The plant at the start of the horizon.
    pub start: Arc<SavedRun>,
    /// The forecast itself (the what-if's baseline).
    pub forecast: Arc<Forecast>,
}

/// The service side of the API.
#[derive(Debug, Default)]
pub struct ServiceControl {
    /// Wakes the forecast loop.
    pub forecast_now: Notify,
    branch: Mutex<Option<Branch>>,
    runs: Arc<Mutex<VecDeque<WhatIfRun>>>,
    counter: std::sync::atomic::AtomicU64,
}

impl ServiceControl {
    /// A control with nothing to branch from yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// What the next what-ifs start from.
    pub fn set_branch(&self, branch: Branch) {
        *self
            .branch
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(branch);
    }

    fn update(runs: &Mutex<VecDeque<WhatIfRun>>, id: &str, f: impl FnOnce(&mut WhatIfRun)) {
        let mut runs = runs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(run) = runs.iter_mut().find(|r| r.id == id) {
            f(run);
        }
    }
}

impl Control for ServiceControl {
    fn request_forecast(&self) -> Result<(), ApiError> {
        self.forecast_now.notify_one();
        Ok(())
    }

    fn start_whatif(&self, request: WhatIfRequest) -> Result<String, ApiError> {
        let branch = self
            .branch
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .ok_or_else(|| {
                ApiError::unavailable("no forecast to start from yet; try again after the first forecast")
            })?;
        // The scenario's own rules are the API's (a 400 there); here, what needs the
        // campus and the horizon: an event after the run's end would never happen.
        let horizon_s = request.hours.map_or_else(
            || f64::from(branch.problem.slot_minutes) * 60.0 * branch.problem.slots as f64,
            |h| h * 3600.0,
        );
        if let Some((i, e)) = request
            .events
            .iter()
            .enumerate()
            .find(|(_, e)| e.at_s() >= horizon_s)
        {
            return Err(ApiError::invalid(format!(
                "starts at {} s, after the run ends at {horizon_s} s",
                e.at_s()
            ))
            .field(format!("events[{i}].at_s")));
        }
        twin::sim::validate_events(&branch.campus, &request.events)
            .map_err(|e| ApiError::invalid(e.to_string()).field("events"))?;
        let id = {
            let mut runs = self
                .runs
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if runs.iter().filter(|r| r.status == WhatIfStatus::Running).count() >= RUNNING_AT_ONCE {
                return Err(ApiError::conflict(format!(
                    "{RUNNING_AT_ONCE} what-ifs are running; try again when one is done"
                )));
            }
            let n = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            let id = format!("w{n}");
            if runs.len() == KEPT_RUNS {
                if let Some(i) = runs.iter().position(|r| r.status != WhatIfStatus::Running) {
                    runs.remove(i);
                }
            }
            runs.push_back(WhatIfRun {
                id: id.clone(),
                status: WhatIfStatus::Running,
                requested_at: Utc::now(),
                events: request.events.clone(),
                first_throttle_s: None,
                summary: None,
                forecast: None,
                baseline: Some((*branch.forecast).clone()),
                error: None,
            });
            id
        };
        let (runs, run_id) = (self.runs.clone(), id.clone());
        tokio::task::spawn_blocking(move || {
            let result = run_whatif(&branch, &request);
            Self::update(&runs, &run_id, |run| match result {
                Ok((forecast, summary, first_throttle_s)) => {
                    run.status = WhatIfStatus::Done;
                    run.forecast = Some(forecast);
                    run.summary = Some(summary);
                    run.first_throttle_s = first_throttle_s;
                }
                Err(e) => {
                    run.status = WhatIfStatus::Failed;
                    run.error = Some(e);
                }
            });
        });
        Ok(id)
    }

    fn whatif(&self, id: &str) -> Option<WhatIfRun> {
        let runs = self
            .runs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        runs.iter().find(|r| r.id == id).cloned()
    }
}

/// The plan simulated again from the forecast's start with the what-if's events on top,
/// over the asked hours (the whole horizon by default).
fn run_whatif(
    branch: &Branch,
    request: &WhatIfRequest,
) -> Result<(Forecast, serde_json::Value, Option<f64>), String> {
    let mut problem = (*branch.problem).clone();
    let mut plan = (*branch.plan).clone();
    if let Some(hours) = request.hours {
        let slots =
            ((hours * 60.0 / f64::from(problem.slot_minutes)).ceil() as usize).clamp(1, problem.slots);
        truncate(&mut problem, &mut plan, slots);
    }
    let out = twin::forecast::simulate_plan(
        &branch.campus,
        &branch.weather,
        &problem,
        &plan,
        &branch.condition,
        &request.events,
        Some(&branch.start),
    )
    .map_err(|e| e.to_string())?;
    let mut forecast = out.forecast;
    forecast.id = branch.forecast.id;
    forecast.issued_at = Utc::now();
    forecast.inputs = branch.forecast.inputs.clone();
    let first = out.summary.time_to_first_throttle_s;
    Ok((
        forecast,
        serde_json::to_value(&out.summary).unwrap_or_default(),
        first,
    ))
}

/// The problem and plan cut to their first `slots` slots.
fn truncate(problem: &mut ScheduleProblem, plan: &mut Plan, slots: usize) {
    problem.slots = slots;
    plan.slot_start.truncate(slots);
    for h in &mut plan.halls {
        h.it_kw.truncate(slots);
        h.busy_gpus.truncate(slots);
    }
    for j in &mut plan.jobs {
        for p in &mut j.placements {
            p.gpus.truncate(slots);
            p.power_cap_kw_per_gpu.truncate(slots);
        }
    }
    let cut = |s: &mut models::schedule::Series| {
        if let models::schedule::Series::PerSlot(v) = s {
            v.truncate(slots);
        }
    };
    for h in &mut problem.halls {
        cut(&mut h.cooling_capacity_kw);
    }
    cut(&mut problem.grid.import_limit_kw);
}
