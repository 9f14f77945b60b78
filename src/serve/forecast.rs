//! The forecast loop: every `every` (and when asked), from the estimated state, the twin
//! computes the per-slot capacities, overhead and limits of a schedule problem, the job
//! queue and the prices fill it, the optimizer's session solves it (warm from the last
//! plan) and the plan is checked, then the twin simulates the plan from the same state:
//! that simulation is the forecast. Each forecast goes to the store's log, the API's
//! `watch`es and the event stream; a failed cycle is logged and the last forecast stays.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, DurationRound, Utc};
use ingest::store::ForecastLog;
use models::campus::Campus;
use models::forecast::Forecast;
use models::schedule::{Plan, PriceScenario, Risk, ScheduleProblem};
use models::weather::Weather;
use optimizer::SolveOptions;
use optimizer::session::Session;
use serde::Serialize;
use tokio::sync::watch;
use twin::forecast::PlantCondition;
use twin::sim::SavedRun;
use web::events::{EventHub, EventKind};
use web::state::{ForecastView, LiveView, PlanView, Readiness};

use super::control::{Branch, ServiceControl};
use super::jobs::JobQueue;
use super::settings::{Prices, Settings};

/// Where the loop publishes.
#[derive(Debug)]
pub struct Outputs {
    /// The live state it starts from.
    pub live: watch::Receiver<Option<LiveView>>,
    /// The latest forecast.
    pub forecast: watch::Sender<Option<ForecastView>>,
    /// The latest plan.
    pub plan: watch::Sender<Option<PlanView>>,
    /// Readiness (a forecast exists).
    pub ready: watch::Sender<Readiness>,
    /// Events.
    pub events: EventHub,
    /// What-ifs branch from the latest forecast; forecast requests wake the loop.
    pub control: Arc<ServiceControl>,
}

/// The loop's state between cycles.
#[derive(Debug)]
pub struct Forecaster {
    campus: Arc<Campus>,
    weather: Arc<Weather>,
    weather_source: String,
    prices: Prices,
    queue: JobQueue,
    session: Session,
    log: ForecastLog,
    next_id: u64,
    slots: usize,
    slot_minutes: u32,
    every: Duration,
    risk: Risk,
}

/// One cycle's results.
#[derive(Debug)]
struct Cycle {
    forecast: Forecast,
    problem: ScheduleProblem,
    plan: Plan,
    condition: PlantCondition,
    start: SavedRun,
}

/// The `forecast` event.
#[derive(Debug, Serialize)]
struct ForecastEvent<'a> {
    id: u64,
    issued_at: DateTime<Utc>,
    start: DateTime<Utc>,
    slots: usize,
    peak_import_kw: f64,
    min_import_headroom_kw: f64,
    max_gpu_temp_c: f64,
    mean_pue: f64,
    inputs: &'a models::forecast::ForecastInputs,
}

/// The `plan` event.
#[derive(Debug, Serialize)]
struct PlanEvent<'a> {
    status: &'a str,
    objective: Option<f64>,
    expected_cost: Option<f64>,
    jobs: usize,
    unmet_gpu_hours: f64,
    solve_s: f64,
    attempts: &'a [models::schedule::SolveAttempt],
}

impl Forecaster {
    /// The loop of `settings`, logging to `log`.
    pub fn new(settings: &Settings, log: ForecastLog) -> anyhow::Result<Self> {
        let next_id = log.next_id().context("the forecast log")?;
        let queue = match &settings.jobs {
            Some(jobs) => JobQueue::of(jobs.clone()),
            None => JobQueue::demo(&settings.campus, 1),
        };
        let options = SolveOptions {
            time_limit_s: settings.solve_time_limit_s,
            ..SolveOptions::default()
        };
        Ok(Forecaster {
            campus: Arc::new(settings.campus.clone()),
            weather: Arc::new(settings.weather.clone()),
            weather_source: settings.weather_source.clone(),
            prices: settings.prices.clone(),
            queue,
            session: Session::new(options),
            log,
            next_id,
            slots: settings.slots,
            slot_minutes: settings.slot_minutes,
            every: Duration::from_secs_f64(settings.forecast_every_s),
            risk: Risk {
                cvar_alpha: settings.cvar_alpha,
                weight: settings.risk_weight,
            },
        })
    }

    /// One cycle from `condition` at `now`.
    fn cycle(&mut self, condition: PlantCondition, now: DateTime<Utc>) -> anyhow::Result<Cycle> {
        let slot = chrono::Duration::minutes(i64::from(self.slot_minutes));
        let start = now.duration_trunc(slot).unwrap_or(now);
        let t = Instant::now();
        let mut problem = twin::forecast::schedule_problem(
            &self.campus,
            &self.weather,
            start,
            self.slots,
            self.slot_minutes,
            &condition,
        )
        .context("the twin's schedule problem")?;
        let capacity_s = t.elapsed().as_secs_f64();
        problem.jobs = self.queue.jobs_for(start, self.slots, self.slot_minutes);
        let (scenarios, prices) = self.prices_for(start);
        problem.grid.price_scenarios = scenarios;
        problem.risk = Some(self.risk.clone());
        let problems = problem.validate();
        if !problems.is_empty() {
            anyhow::bail!("the forecast's problem breaks rules: {problems}");
        }
        let plan = self.session.solve_checked(&problem).context("solving the plan")?;
        let out = twin::forecast::simulate_plan(
            &self.campus,
            &self.weather,
            &problem,
            &plan,
            &condition,
            &[],
            None,
        )
        .context("simulating the plan")?;
        let mut forecast = out.forecast;
        forecast.id = self.next_id;
        forecast.issued_at = now;
        forecast.inputs.weather = self.weather_source.clone();
        forecast.inputs.prices = prices;
        forecast.inputs.capacity_s = capacity_s;
        forecast.inputs.solve_s = plan.stats.build_s + plan.stats.solve_s;
        self.log.append(&forecast).context("logging the forecast")?;
        self.next_id += 1;
        self.queue.plan_in_force(problem.clone(), plan.clone());
        Ok(Cycle {
            forecast,
            problem,
            plan,
            condition,
            start: out.start_state,
        })
    }

    /// The price scenarios of the horizon from `start`, and what they are.
    fn prices_for(&self, start: DateTime<Utc>) -> (Vec<PriceScenario>, String) {
        let diurnal = || {
            models::price::diurnal_scenarios(
                start,
                self.slots,
                self.slot_minutes,
                self.weather.location().time_zone_h,
            )
        };
        match &self.prices {
            Prices::Diurnal => (diurnal(), "built-in diurnal model".into()),
            Prices::File(file) => match file.scenarios(start, self.slots, self.slot_minutes) {
                Ok(s) => (s, format!("price file {}", file.file())),
                Err(e) => {
                    tracing::warn!(error = %e, "The price file does not cover the horizon; using the diurnal model.");
                    (diurnal(), format!("built-in diurnal model ({e})"))
                }
            },
        }
    }
}

/// The plant's condition now: the estimator's loops and the measured battery charge.
fn condition_of(live: &watch::Receiver<Option<LiveView>>) -> PlantCondition {
    match live.borrow().as_ref() {
        Some(view) => {
            let soc = view.state.latest.get("grid/battery/soc_frac").map(|p| p.value);
            PlantCondition::from_estimate(&view.state.estimate, soc)
        }
        None => PlantCondition::default(),
    }
}

/// Runs cycles until `stop`: one at once, then every `every` or when asked.
pub async fn run(forecaster: Forecaster, out: Outputs, stop: impl Future<Output = ()>) {
    tokio::pin!(stop);
    let mut forecaster = Some(forecaster);
    loop {
        let Some(mut f) = forecaster.take() else { break };
        let every = f.every;
        let condition = condition_of(&out.live);
        let started = Instant::now();
        let (f, result) = match tokio::task::spawn_blocking(move || {
            let r = f.cycle(condition, Utc::now());
            (f, r)
        })
        .await
        {
            Ok(done) => done,
            Err(e) => {
                tracing::error!(error = %e, "The forecast cycle panicked; the loop stops.");
                break;
            }
        };
        let queue_len = f.queue.len();
        let (campus, weather) = (f.campus.clone(), f.weather.clone());
        forecaster = Some(f);
        match result {
            Ok(cycle) => {
                tracing::info!(
                    id = cycle.forecast.id,
                    seconds = started.elapsed().as_secs_f64(),
                    jobs = queue_len,
                    "Forecast issued."
                );
                publish(&out, cycle, campus, weather);
            }
            Err(e) => tracing::error!(
                error = format!("{e:#}"),
                "The forecast cycle failed; the last forecast stays."
            ),
        }
        tokio::select! {
            () = &mut stop => break,
            () = tokio::time::sleep(every) => {}
            () = out.control.forecast_now.notified() => {}
        }
    }
}

fn publish(out: &Outputs, cycle: Cycle, campus: Arc<Campus>, weather: Arc<Weather>) {
    let Cycle {
        forecast,
        problem,
        plan,
        condition,
        start,
    } = cycle;
    let slots = &forecast.slots;
    let n = slots.len().max(1) as f64;
    out.events.publish(
        EventKind::Forecast,
        &ForecastEvent {
            id: forecast.id,
            issued_at: forecast.issued_at,
            start: forecast.start,
            slots: slots.len(),
            peak_import_kw: slots.iter().map(|s| s.import_kw).fold(0.0, f64::max),
            min_import_headroom_kw: slots
                .iter()
                .map(|s| s.import_limit_kw - s.import_kw)
                .fold(f64::INFINITY, f64::min),
            max_gpu_temp_c: slots
                .iter()
                .map(|s| s.max_gpu_temp_c)
                .fold(f64::NEG_INFINITY, f64::max),
            mean_pue: slots.iter().map(|s| s.pue).sum::<f64>() / n,
            inputs: &forecast.inputs,
        },
    );
    out.events.publish(
        EventKind::Plan,
        &PlanEvent {
            status: plan.status.as_str(),
            objective: plan.objective,
            expected_cost: plan.expected_cost,
            jobs: plan.jobs.len(),
            unmet_gpu_hours: plan.jobs.iter().map(|j| j.unmet_gpu_hours).sum(),
            solve_s: plan.stats.solve_s,
            attempts: &plan.stats.attempts,
        },
    );
    let forecast_view = ForecastView::new(forecast);
    let plan_view = PlanView::new(plan, forecast_view.forecast.issued_at);
    out.control.set_branch(Branch {
        campus,
        weather,
        problem: Arc::new(problem),
        plan: plan_view.plan.clone(),
        condition,
        start: Arc::new(start),
        forecast: forecast_view.forecast.clone(),
    });
    out.plan.send_replace(Some(plan_view));
    out.forecast.send_replace(Some(forecast_view));
    out.ready.send_modify(|r| r.forecast = true);
}
