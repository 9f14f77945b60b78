//! The twin simulating the optimizer's plan: the forecast.

use models::campus::Campus;
use models::forecast::{Forecast, ForecastInputs, ForecastSlot, HallForecast};
use models::scenario::Event;
use models::schedule::{Plan, ScheduleProblem, Series};
use models::weather::Weather;

use super::condition::PlantCondition;
use crate::campus::{HallSnapshot, Resolution, Tallies, Tally};
use crate::error::{Error, Result};
use crate::it::load::LoadProfile;
use crate::sim::{RunOptions, SavedRun, Simulation, StepRecord, Summary};

/// Output step of a forecast run, s: every slot is sampled at each minute's end for its
/// per-hall values and its highest temperatures (slots are whole minutes).
pub const FORECAST_STEP_S: f64 = 60.0;

/// A plan as the twin runs it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanForecast {
    /// The forecast, slot by slot and hall by hall. Its `id` is 0 and its `issued_at` the
    /// horizon's start: the caller sets both. Of its `inputs`, the campus, the jobs of the
    /// problem, the condition's instant and degraded loops, the plan's status, objective
    /// and solve time, and the simulation's wall time are filled; the weather and price
    /// sources and `capacity_s` are the caller's.
    pub forecast: Forecast,
    /// The run's summary: energies, peaks, time to the first throttling GPU.
    pub summary: Summary,
    /// The plant at the start of the horizon (after the warm-up with the condition in
    /// force): what a what-if branches from ([`Simulation::start_from`]).
    pub start_state: SavedRun,
    /// The plant at the end of the horizon.
    pub end_state: SavedRun,
}

/// Simulates `plan`, the optimizer's answer to `problem`, from the plant in `condition`
/// over the plan's horizon, at hall resolution with an output step of
/// [`FORECAST_STEP_S`]:
///
/// - the load follows the plan ([`LoadProfile::from_plan`]);
/// - the condition's degraded loops are pump trips in force from before the start, so
///   that the warm-up already runs with them and they are resolved rack by rack; the
///   battery starts at the measured state of charge when there is one;
/// - the events of a what-if (`what_if`, times from the horizon's start) come on top;
/// - with `from`, the run starts from that saved state instead of warming up (it must be
///   at the horizon's start; its battery charge and temperatures stand, the condition's
///   measured charge does not override them).
///
/// Campus values per slot are means of the slot's energies (exact, from the integrated
/// tallies), the highest temperatures and most throttling GPUs at the end of any minute in
/// it, the lowest import limit, the state of charge at its end, the water used in it.
/// Per hall: IT power is the mean of its value at the end of each minute (the per-hall
/// view is evaluated only when a step is recorded, so it is sampled, not integrated; it is
/// exact while the hall's load is held and none of its GPUs throttles), hottest die and
/// warmest rack-loop supply the highest at those instants, the capacity the problem's,
/// and the headroom capacity less IT.
///
/// Dispatch of the battery and engines follows the campus's own rule, not the plan's.
pub fn simulate_plan(
    campus: &Campus,
    weather: &Weather,
    problem: &ScheduleProblem,
    plan: &Plan,
    condition: &PlantCondition,
    what_if: &[Event],
    from: Option<&SavedRun>,
) -> Result<PlanForecast> {
    let wall = std::time::Instant::now();
    let slots = problem.slots;
    let slot_s = 60.0 * f64::from(problem.slot_minutes);
    if plan.slot_start.len() != slots {
        return Err(Error::Scenario(format!(
            "the plan has {} slots, its problem {slots}",
            plan.slot_start.len()
        )));
    }
    let capacities = campus
        .spec
        .halls
        .iter()
        .map(|h| {
            problem
                .halls
                .iter()
                .find(|p| p.id == h.name)
                .map(|p| &p.cooling_capacity_kw)
                .ok_or_else(|| Error::Scenario(format!("the problem has no hall `{}`", h.name)))
        })
        .collect::<Result<Vec<&Series>>>()?;
    let load = LoadProfile::from_plan(plan, campus, problem.start)?;
    let mut options = RunOptions::new(
        problem.start,
        slots as f64 * slot_s,
        FORECAST_STEP_S.min(slot_s),
        Resolution::Hall,
    );
    options.initial_soc_frac = condition.battery_soc_frac;
    let sim = Simulation::with_profile(
        campus,
        weather.clone(),
        load,
        &condition.pump_events(),
        what_if,
        options,
    )?;
    let mut run = match from {
        Some(saved) => sim.start_from(saved)?,
        None => sim.start()?,
    };
    let start_state = run.save();

    let n = campus.spec.halls.len();
    let mut halls: Vec<HallForecast> = campus
        .spec
        .halls
        .iter()
        .map(|h| HallForecast {
            id: h.name.clone(),
            it_kw: Vec::with_capacity(slots),
            hottest_gpu_c: Vec::with_capacity(slots),
            tcs_supply_c: Vec::with_capacity(slots),
            cooling_capacity_kw: Vec::with_capacity(slots),
            cooling_headroom_kw: Vec::with_capacity(slots),
        })
        .collect();
    let mut out = Vec::with_capacity(slots);
    let mut now = vec![HallSnapshot::EMPTY; n];
    let mut slot = SlotSamples::new(n);
    let mut slot_start_tallies = run.model().tallies(run.state());
    while let Some(record) = run.step()? {
        run.evaluate_halls(&mut now);
        slot.take(&record, &now);
        let t = out.len();
        if run.elapsed_s() < (t + 1) as f64 * slot_s - 1e-6 {
            continue;
        }
        let tallies = run.model().tallies(run.state());
        let energy = tallies - slot_start_tallies;
        slot_start_tallies = tallies;
        out.push(slot.campus(problem.start, t, problem.slot_minutes, slot_s, &energy));
        for (h, hall) in halls.iter_mut().enumerate() {
            let it_kw = slot.hall_it_w[h] / slot.samples as f64 / 1000.0;
            let capacity_kw = capacities[h].at(t);
            hall.it_kw.push(it_kw);
            hall.hottest_gpu_c.push(slot.hall_max_gpu_c[h]);
            hall.tcs_supply_c.push(slot.hall_max_supply_c[h]);
            hall.cooling_capacity_kw.push(capacity_kw);
            hall.cooling_headroom_kw.push(capacity_kw - it_kw);
        }
        slot = SlotSamples::new(n);
    }
    let end_state = run.save();
    let summary = run.finish();
    let forecast = Forecast {
        id: 0,
        issued_at: problem.start,
        start: problem.start,
        slot_minutes: problem.slot_minutes,
        inputs: ForecastInputs {
            campus: campus.spec.site.name.clone(),
            jobs: problem.jobs.len(),
            state_as_of: condition.as_of,
            degraded_loops: condition.degraded_loops.clone(),
            plan_status: plan.status.as_str().to_string(),
            plan_objective: plan.objective,
            solve_s: plan.stats.build_s + plan.stats.solve_s,
            simulate_s: wall.elapsed().as_secs_f64(),
            ..ForecastInputs::default()
        },
        slots: out,
        halls,
    };
    Ok(PlanForecast {
        forecast,
        summary,
        start_state,
        end_state,
    })
}

/// What the records of one slot add up to.
struct SlotSamples {
    samples: usize,
    max_gpu_c: f64,
    throttled_gpus: f64,
    min_import_limit_kw: f64,
    max_dry_bulb_c: f64,
    max_wet_bulb_c: f64,
    soc_frac: f64,
    hall_it_w: Vec<f64>,
    hall_max_gpu_c: Vec<f64>,
    hall_max_supply_c: Vec<f64>,
}

impl SlotSamples {
    fn new(halls: usize) -> Self {
        SlotSamples {
            samples: 0,
            max_gpu_c: f64::NEG_INFINITY,
            throttled_gpus: 0.0,
            min_import_limit_kw: f64::INFINITY,
            max_dry_bulb_c: f64::NEG_INFINITY,
            max_wet_bulb_c: f64::NEG_INFINITY,
            soc_frac: 0.0,
            hall_it_w: vec![0.0; halls],
            hall_max_gpu_c: vec![f64::NEG_INFINITY; halls],
            hall_max_supply_c: vec![f64::NEG_INFINITY; halls],
        }
    }

    fn take(&mut self, r: &StepRecord, halls: &[HallSnapshot]) {
        self.samples += 1;
        self.max_gpu_c = self.max_gpu_c.max(r.max_gpu_temp_c);
        self.throttled_gpus = self.throttled_gpus.max(r.throttled_gpus);
        self.min_import_limit_kw = self.min_import_limit_kw.min(r.import_limit_kw);
        self.max_dry_bulb_c = self.max_dry_bulb_c.max(r.dry_bulb_c);
        self.max_wet_bulb_c = self.max_wet_bulb_c.max(r.wet_bulb_c);
        self.soc_frac = r.battery_soc_frac;
        for (h, s) in halls.iter().enumerate() {
            self.hall_it_w[h] += s.it_w;
            self.hall_max_gpu_c[h] = self.hall_max_gpu_c[h].max(s.max_gpu_temp_c);
            self.hall_max_supply_c[h] = self.hall_max_supply_c[h].max(s.max_tcs_supply_c);
        }
    }

    /// The campus in slot `t`, whose tallies grew by `energy` over its `slot_s`.
    fn campus(
        &self,
        start: chrono::DateTime<chrono::Utc>,
        t: usize,
        slot_minutes: u32,
        slot_s: f64,
        energy: &Tallies,
    ) -> ForecastSlot {
        let mean_kw = |k: Tally| energy[k] / slot_s / 1000.0;
        let it_j = energy[Tally::It];
        ForecastSlot {
            start: start + chrono::Duration::minutes(i64::from(slot_minutes) * t as i64),
            it_kw: mean_kw(Tally::It),
            cooling_kw: mean_kw(Tally::Cooling),
            loss_kw: mean_kw(Tally::Loss),
            auxiliary_kw: mean_kw(Tally::Auxiliary),
            facility_kw: mean_kw(Tally::Facility),
            pue: if it_j > 0.0 {
                energy[Tally::Facility] / it_j
            } else {
                0.0
            },
            import_kw: mean_kw(Tally::Import),
            import_limit_kw: self.min_import_limit_kw,
            battery_soc_frac: self.soc_frac,
            engine_kw: mean_kw(Tally::Engine),
            solar_kw: mean_kw(Tally::Solar),
            // Water at about 1 kg/L.
            water_l: energy[Tally::Evaporation] + energy[Tally::Blowdown] + energy[Tally::Drift],
            dry_bulb_c: self.max_dry_bulb_c,
            wet_bulb_c: self.max_wet_bulb_c,
            max_gpu_temp_c: self.max_gpu_c,
            throttled_gpus: self.throttled_gpus,
        }
    }
}
