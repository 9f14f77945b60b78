//! Running a campus through time: inputs held per segment, supervisory controls at each
//! segment start, adaptive integration inside, one record per output step, a summary at
//! the end.
//!
//! A [`Run`] owns its [`Simulation`]: it can live as long as a service does, switch to a
//! new load mid-run ([`Run::set_load`]), and be saved ([`Run::save`]) as a serialisable
//! [`SavedRun`] that [`Simulation::resume`] continues exactly or [`Simulation::start_from`]
//! branches from (a what-if from the state a forecast reached).
//!
//! ```no_run
//! use chrono::{TimeZone, Utc};
//! use models::campus::Campus;
//! use models::load::LoadSpec;
//! use models::weather::Weather;
//! use twin::campus::Resolution;
//! use twin::sim::{RunOptions, Simulation};
//!
//! let campus = Campus::example().unwrap();
//! let weather = Weather::embedded(models::weather::DULLES_TMY3).unwrap();
//! let options = RunOptions::new(Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap(), 3600.0, 60.0, Resolution::Hall);
//! let sim = Simulation::new(&campus, weather, &LoadSpec::default(), None, &[], options).unwrap();
//! let summary = sim.run(|_record| Ok(()), |_t| {}).unwrap();
//! assert!(summary.pue > 1.0);
//! ```

mod events;
mod integrate;
mod record;
mod saved;

use chrono::{DateTime, Utc};
use models::campus::Campus;
use models::load::{LoadSpec, LoadTable};
use models::scenario::Event;
use models::weather::Weather;
use models::weather::solar::{Surface, plane_of_array_irradiance, sun_position};
use ode_solvers::DVector;

pub use integrate::IntegrationStats;
pub use record::{StepRecord, Summary, Tracker};
pub use saved::{SavedHall, SavedRun};

/// Checks `events` against `campus` as a run would (halls and CDUs that exist, tower cells
/// and chillers the plant has, …), without running anything: errors name the event
/// (`events[2].cdu: hall `hall-a` has CDUs 1 to 14, not 20`).
pub fn validate_events(campus: &Campus, events: &[Event]) -> Result<()> {
    let named = events::named_cdus(campus, events, "events")?;
    let model = CampusModel::build(campus, Resolution::Hall, &named, 60.0)?;
    events::EventSchedule::new(&model, campus, &[], events).map(|_| ())
}

use crate::campus::{CampusModel, ControlState, HallSnapshot, Inputs, Resolution, Snapshot, Tallies, Tally};
use crate::cooling::tower::AirIn;
use crate::error::{Error, Result};
use crate::grid::engine::EngineState;
use crate::it::load::{HallLoad, LoadProfile};
use events::EventSchedule;
pub(crate) use integrate::Integrator;

/// Segment length of the warm-up, s.
const WARMUP_SEGMENT_S: f64 = 60.0;

/// Longest run, h: ten years, beyond any plan or siting study.
pub const MAX_DURATION_H: f64 = 87_600.0;
/// Shortest output step, s: below it the steps no longer resolve anything the plant
/// does (a training swing's iteration is seconds).
pub const MIN_STEP_S: f64 = 0.01;
/// Longest output step, s (it is also the longest control period): a day.
pub const MAX_STEP_S: f64 = 86_400.0;
/// Most output steps in one run: a year at one second is 3.2·10⁷.
pub const MAX_STEPS: f64 = 1e8;

/// How a run is set up.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// First instant recorded.
    pub start: DateTime<Utc>,
    /// Simulated time recorded, s.
    pub duration_s: f64,
    /// Output step (and longest control period), s.
    pub step_s: f64,
    /// Loop resolution.
    pub resolution: Resolution,
    /// Simulated time before `start` under the inputs of `start`, so that the run begins
    /// near a steady state, s.
    pub warmup_s: f64,
    /// Integrator relative tolerance.
    pub rtol: f64,
    /// Integrator absolute tolerance (K for temperatures, scaled units for tallies).
    pub atol: f64,
    /// Battery state of charge at the start, fraction (a measured one, for a forecast);
    /// the battery's own initial charge when absent. It holds through the warm-up, so the
    /// run starts with exactly this charge. A run started from a saved state takes the
    /// saved charge instead.
    pub initial_soc_frac: Option<f64>,
}

impl RunOptions {
    /// Whether a run of these options can finish and its times be represented: the
    /// length, the step and their ratio within the limits above, the end a representable
    /// instant. Every run is checked before its model is built.
    pub fn check(&self) -> Result<()> {
        let limit = |what: String| Err(Error::Scenario(what));
        let hours = self.duration_s / 3600.0;
        if !(self.duration_s.is_finite() && self.duration_s > 0.0 && hours <= MAX_DURATION_H) {
            return limit(format!(
                "hours: must be more than 0 and at most {MAX_DURATION_H} (ten years), got {hours}"
            ));
        }
        if !(self.step_s.is_finite() && (MIN_STEP_S..=MAX_STEP_S).contains(&self.step_s)) {
            return limit(format!(
                "step_s: must be from {MIN_STEP_S} s to {MAX_STEP_S} s (a day), got {}",
                self.step_s
            ));
        }
        let steps = self.duration_s / self.step_s;
        if steps > MAX_STEPS {
            return limit(format!(
                "step_s: {hours} h in steps of {} s is {steps:.3e} steps, more than the {MAX_STEPS:.0e} a run may take; take a longer step or a shorter run",
                self.step_s
            ));
        }
        if !(self.warmup_s.is_finite() && (0.0..=self.duration_s.max(3600.0) * 10.0).contains(&self.warmup_s))
        {
            return limit(format!(
                "warmup_s: must be from 0 to ten times the run, got {}",
                self.warmup_s
            ));
        }
        let reach = |s: f64| chrono::Duration::try_milliseconds((s * 1000.0).round() as i64);
        let end = reach(self.duration_s).and_then(|d| self.start.checked_add_signed(d));
        let warm = reach(self.warmup_s).and_then(|d| self.start.checked_sub_signed(d));
        if end.is_none() || warm.is_none() {
            return limit(format!(
                "start: {} with {hours} h (and the warm-up) runs past the last instant a time can hold",
                self.start
            ));
        }
        Ok(())
    }

    /// Options with an hour of warm-up and tolerances of 1e-6.
    pub fn new(start: DateTime<Utc>, duration_s: f64, step_s: f64, resolution: Resolution) -> Self {
        RunOptions {
            start,
            duration_s,
            step_s,
            resolution,
            warmup_s: 3600.0,
            rtol: 1e-6,
            atol: 1e-6,
            initial_soc_frac: None,
        }
    }
}

/// A campus, its inputs and its state, ready to run.
#[derive(Debug)]
pub struct Simulation {
    model: CampusModel,
    weather: Weather,
    load: LoadProfile,
    events: EventSchedule,
    options: RunOptions,
    surface: Option<Surface>,
    latitude_deg: f64,
    longitude_deg: f64,
    integrator: Integrator,
}

/// Which events the inputs carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The warm-up: only the conditions in force before the start.
    WarmUp,
    /// The run: every event in force at the instant.
    Run,
}

/// A load table's caps must be caps its halls' GPUs take: a driver refuses a cap outside
/// its range, so a row outside it is a mistake in the table, not a value to clamp.
fn check_table_caps(campus: &Campus, file: &str, table: &LoadTable) -> Result<()> {
    for row in &table.rows {
        let Some(hall) = campus.spec.halls.iter().find(|h| h.name == row.hall) else {
            continue; // named by the profile's own check
        };
        let gpu = &hall.rack.gpu;
        if !(gpu.min_cap_w..=gpu.tdp_w).contains(&row.power_cap_w) {
            return Err(Error::Scenario(format!(
                "{file}: the row of `{}` at {}: power_cap_w {} W is outside the caps its GPUs take, {} to {} W",
                row.hall, row.time, row.power_cap_w, gpu.min_cap_w, gpu.tdp_w
            )));
        }
    }
    Ok(())
}

impl Simulation {
    /// Builds the model and checks the load and the events against the campus.
    pub fn new(
        campus: &Campus,
        weather: Weather,
        load: &LoadSpec,
        load_table: Option<&LoadTable>,
        events: &[Event],
        options: RunOptions,
    ) -> Result<Simulation> {
        let hall_names: Vec<&str> = campus.spec.halls.iter().map(|h| h.name.as_str()).collect();
        let time_zone_h = weather.location().time_zone_h;
        if let (LoadSpec::Csv { file }, Some(table)) = (load, load_table) {
            check_table_caps(campus, file, table)?;
        }
        let load = LoadProfile::build(load, options.start, time_zone_h, &hall_names, load_table)?;
        Simulation::with_profile(campus, weather, load, &[], events, options)
    }

    /// Builds the model for a load profile already made (a plan's, say), with
    /// `conditions`, faults in force before the start (a degraded pump the estimator
    /// sees), and `events` that happen during the run. A condition starts at 0 and acts
    /// through the warm-up too, so the run starts at the steady state the plant has with
    /// it rather than at the healthy one.
    pub fn with_profile(
        campus: &Campus,
        weather: Weather,
        load: LoadProfile,
        conditions: &[Event],
        events: &[Event],
        options: RunOptions,
    ) -> Result<Simulation> {
        options.check()?;
        if let Some((i, e)) = events
            .iter()
            .enumerate()
            .find(|(_, e)| e.at_s() >= options.duration_s)
        {
            return Err(Error::Scenario(format!(
                "events[{i}].at_s: starts at {} s, after the run ends at {} s, so it would never happen",
                e.at_s(),
                options.duration_s
            )));
        }
        load.check_halls(campus.spec.halls.len())?;
        if let Some(soc) = options.initial_soc_frac {
            if !(0.0..=1.0).contains(&soc) {
                return Err(Error::Scenario(format!(
                    "initial_soc_frac: must be within [0, 1], got {soc}"
                )));
            }
        }
        let mut named_cdus = events::named_cdus(campus, conditions, "conditions")?;
        named_cdus.extend(events::named_cdus(campus, events, "events")?);
        let model = CampusModel::build(campus, options.resolution, &named_cdus, options.step_s)?;
        let events = EventSchedule::new(&model, campus, conditions, events)?;
        let surface = model.solar.map(|s| Surface {
            tilt_deg: s.tilt_deg,
            azimuth_deg: s.azimuth_deg,
        });
        Ok(Simulation {
            model,
            weather,
            load,
            events,
            surface,
            latitude_deg: campus.spec.site.latitude_deg,
            longitude_deg: campus.spec.site.longitude_deg,
            integrator: Integrator::new(options.rtol, options.atol),
            options,
        })
    }

    /// The model being run.
    pub fn model(&self) -> &CampusModel {
        &self.model
    }

    /// How the run is set up.
    pub fn options(&self) -> &RunOptions {
        &self.options
    }

    /// Runs from warm-up to the end, handing each step's record to `on_record` and the
    /// simulated time reached to `on_progress`.
    pub fn run(
        self,
        mut on_record: impl FnMut(&StepRecord) -> Result<()>,
        mut on_progress: impl FnMut(f64),
    ) -> Result<Summary> {
        let mut run = self.start()?;
        while let Some(record) = run.step()? {
            on_record(&record)?;
            on_progress(run.elapsed_s());
        }
        Ok(run.finish())
    }

    /// Warms up and returns the run, which owns the simulation, to advance one output
    /// step at a time.
    pub fn start(mut self) -> Result<Run> {
        let wall = std::time::Instant::now();
        let utilisation = self.load.at(0, 0.0, 1.0).utilisation;
        let mut y = DVector::from_vec(self.model.initial_state(utilisation));
        self.hold_initial_soc(&mut y);
        let mut engines = vec![EngineState::default(); self.model.dispatcher.engines.len()];
        let mut inputs = self.inputs_at(0.0, ControlState::default(), Phase::WarmUp);
        self.warm_up(&mut y, &mut inputs, &mut engines)?;
        self.hold_initial_soc(&mut y);
        let tracker = record::Tracker::new(&self.model, y.as_slice());
        Ok(Run {
            sim: self,
            y,
            engines,
            inputs,
            tracker,
            t_s: 0.0,
            wall,
        })
    }

    /// Continues a saved run exactly where it stopped: the same state, controls, engines,
    /// integrator step and summary so far, so that the continuation matches a run that
    /// was never interrupted. The simulation must be built as the saved run's was (same
    /// campus, start, resolution, step and CDUs named by events; its load and events
    /// decide what happens next).
    pub fn resume(mut self, saved: &SavedRun) -> Result<Run> {
        saved.check_campus(&self.model)?;
        if saved.start != self.options.start {
            return Err(Error::Scenario(format!(
                "the saved run started at {}, this simulation at {}: resume needs the same start",
                saved.start, self.options.start
            )));
        }
        if saved.layout != self.model.layout() || saved.state.len() != self.model.state_len {
            return Err(Error::Scenario(
                "the saved run's state is laid out differently (another resolution, output step or set of CDUs named by events): resume needs the same; start_from takes over a different layout".into(),
            ));
        }
        if saved.engines.len() != self.model.dispatcher.engines.len() {
            return Err(Error::Scenario(format!(
                "the saved run has {} engine banks, the campus {}",
                saved.engines.len(),
                self.model.dispatcher.engines.len()
            )));
        }
        self.integrator.restore(saved.next_step_s, saved.integration);
        let inputs = self.inputs_at(saved.t_s, saved.controls, Phase::Run);
        Ok(Run {
            y: DVector::from_vec(saved.state.clone()),
            engines: saved.engines.clone(),
            inputs,
            tracker: saved.tracker.clone(),
            t_s: saved.t_s,
            wall: std::time::Instant::now(),
            sim: self,
        })
    }

    /// Starts a new run from the plant as a saved run left it, without a warm-up: the
    /// branch of a what-if from the state a forecast reached. The simulation must start
    /// at the saved instant; its resolution, step and events may differ from the saved
    /// run's. Temperatures of the loops and the facility water both builds integrate are
    /// taken over, with the battery's charge, the tallies, the controls, the engines and
    /// the integrator's step; a loop this run resolves that the saved one lumped starts at
    /// its steady state under this run's inputs at the start (the saved run held it in
    /// steady state too), and facility water this run integrates starts at the saved
    /// run's supply and return. The summary covers this run only.
    pub fn start_from(mut self, saved: &SavedRun) -> Result<Run> {
        saved.check_campus(&self.model)?;
        if saved.at != self.options.start {
            return Err(Error::Scenario(format!(
                "the saved run reached {}, this simulation starts at {}: start_from needs the saved instant as the start",
                saved.at, self.options.start
            )));
        }
        if saved.state.len() != saved.layout.len || saved.engines.len() != self.model.dispatcher.engines.len()
        {
            return Err(Error::Scenario(
                "the saved run does not fit this campus (state length or engine banks)".into(),
            ));
        }
        let wall = std::time::Instant::now();
        let inputs = self.inputs_at(0.0, saved.controls, Phase::Run);
        let utilisation = inputs.hall_loads.first().map_or(0.0, |l| l.utilisation);
        let mut y = self.model.initial_state(utilisation);
        saved.fill_state(&self.model, &inputs, &mut y);
        self.integrator
            .restore(saved.next_step_s, IntegrationStats::default());
        let y = DVector::from_vec(y);
        let tracker = record::Tracker::new(&self.model, y.as_slice());
        Ok(Run {
            sim: self,
            y,
            engines: saved.engines.clone(),
            inputs,
            tracker,
            t_s: 0.0,
            wall,
        })
    }

    /// Sets the battery's charge to `initial_soc_frac` when one is asked for.
    fn hold_initial_soc(&self, y: &mut DVector<f64>) {
        if let (Some(soc), Some(i)) = (self.options.initial_soc_frac, self.model.soc_state) {
            y[i] = soc;
        }
    }

    /// Runs `warmup_s` under the inputs of the start (the conditions but no events),
    /// recording nothing.
    fn warm_up(
        &mut self,
        y: &mut DVector<f64>,
        inputs: &mut Inputs,
        engines: &mut [EngineState],
    ) -> Result<()> {
        // A minute of control period whatever the output step: the warm-up only has to
        // reach the steady state, and a run stepped every few milliseconds (the sensor
        // simulator at a high rate) would otherwise spend minutes on it.
        let segment_s = WARMUP_SEGMENT_S;
        let chillers = self.events.chillers_in_warm_up();
        let mut t = -self.options.warmup_s;
        while t < -1e-9 {
            let end = (t + segment_s).min(0.0);
            self.model
                .supervise(y.as_slice(), inputs, engines, chillers, end - t);
            self.integrator.advance(&self.model, inputs, y, t, end)?;
            t = end;
        }
        Ok(())
    }

    /// The end of the segment starting at `t_s`: the step's end, or an earlier change of
    /// load or event.
    fn segment_end(&self, t_s: f64, step_end_s: f64) -> f64 {
        let mut end = step_end_s;
        if let Some(change) = self.load.next_change_s(t_s) {
            end = end.min(change);
        }
        if let Some(change) = self.events.next_change_s(t_s) {
            end = end.min(change);
        }
        end
    }

    /// The instant `t_s` after the start.
    fn instant(&self, t_s: f64) -> DateTime<Utc> {
        self.options.start + chrono::Duration::milliseconds((t_s * 1000.0).round() as i64)
    }

    /// Inputs at `t_s` after the start, keeping the controls `controls`, with the events
    /// of `phase`.
    fn inputs_at(&self, t_s: f64, controls: ControlState, phase: Phase) -> Inputs {
        let at = self.instant(t_s);
        let weather = self.weather.sample(at);
        let active = match phase {
            Phase::Run => self.events.state_at(t_s),
            Phase::WarmUp => self.events.warm_up_state(),
        };
        let hall_loads: Vec<HallLoad> = self
            .model
            .halls
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let load = self.load.at(i, t_s, h.rack.gpu.tdp_w);
                HallLoad {
                    utilisation: (load.utilisation * active.utilisation_factor).clamp(0.0, 1.0),
                    ..load
                }
            })
            .collect();
        let solar_w = match (&self.model.solar, &self.surface) {
            (Some(pv), Some(surface)) => {
                let sun = sun_position(self.latitude_deg, self.longitude_deg, at);
                let poa = plane_of_array_irradiance(
                    surface,
                    &sun,
                    weather.ghi_w_per_m2,
                    weather.dni_w_per_m2,
                    weather.dhi_w_per_m2,
                    pv.albedo,
                );
                pv.ac_power_w(poa.total_w_per_m2(), weather.dry_bulb_c)
            }
            _ => 0.0,
        };
        Inputs {
            air: AirIn::from_weather(&weather),
            weather,
            hall_loads,
            pump_flow_frac: active.pump_flow_frac,
            failed_tower_fans: active.failed_tower_fans,
            controls,
            import_limit_w: active.import_limit_w.unwrap_or(self.model.import_limit_w),
            solar_w,
        }
    }

    fn throttled_during(&self, start: &DVector<f64>, end: &[f64]) -> bool {
        let before = self.model.tallies(start.as_slice())[Tally::Throttled];
        let after = self.model.tallies(end)[Tally::Throttled];
        after > before + 1e-9 * self.model.gpus
    }

    /// The first instant in `[t0_s, t1_s]` at which a GPU throttles, found by bisection
    /// on re-integrations of the segment from its saved start state.
    fn locate_throttle(
        &mut self,
        start: &DVector<f64>,
        inputs: &Inputs,
        t0_s: f64,
        t1_s: f64,
    ) -> Result<f64> {
        if self.model.evaluate(start.as_slice(), inputs, None).throttled_gpus > 0.0 {
            return Ok(t0_s);
        }
        let (mut lo, mut hi) = (t0_s, t1_s);
        while hi - lo > 0.01 {
            let mid = 0.5 * (lo + hi);
            let mut y = start.clone();
            self.integrator.advance(&self.model, inputs, &mut y, t0_s, mid)?;
            if self.model.evaluate(y.as_slice(), inputs, None).throttled_gpus > 0.0 {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Ok(hi)
    }

    fn record(
        &self,
        t_s: f64,
        interval_s: f64,
        s: &Snapshot,
        interval: &Tallies,
        inputs: &Inputs,
    ) -> StepRecord {
        StepRecord::new(self.instant(t_s), interval_s, s, interval, inputs)
    }
}

/// A simulation under way, advanced one output step at a time. It owns its simulation,
/// so it can be kept (by a service, a thread), switched to a new load and saved.
#[derive(Debug)]
pub struct Run {
    sim: Simulation,
    y: DVector<f64>,
    engines: Vec<EngineState>,
    inputs: Inputs,
    tracker: record::Tracker,
    t_s: f64,
    wall: std::time::Instant,
}

impl Run {
    /// Simulated time since the start, s.
    pub fn elapsed_s(&self) -> f64 {
        self.t_s
    }

    /// The simulated instant reached.
    pub fn now(&self) -> DateTime<Utc> {
        self.sim.instant(self.t_s)
    }

    /// The model being run.
    pub fn model(&self) -> &CampusModel {
        &self.sim.model
    }

    /// How the run is set up.
    pub fn options(&self) -> &RunOptions {
        &self.sim.options
    }

    /// The state vector reached.
    pub fn state(&self) -> &[f64] {
        self.y.as_slice()
    }

    /// The inputs of the last segment (weather, loads, events, controls).
    pub fn inputs(&self) -> &Inputs {
        &self.inputs
    }

    /// The plant at the instant reached, with each hall's part written into `halls` (one
    /// per hall, in campus order): the per-hall view of the step just recorded.
    pub fn evaluate_halls(&self, halls: &mut [HallSnapshot]) -> Snapshot {
        self.sim
            .model
            .evaluate_halls(self.y.as_slice(), &self.inputs, halls)
    }

    /// Switches to a new load from the next segment on (a new plan in a running service).
    /// Its times count from the simulation's start, like the load it replaces.
    pub fn set_load(&mut self, load: LoadProfile) -> Result<()> {
        load.check_halls(self.sim.model.halls.len())?;
        self.sim.load = load;
        Ok(())
    }

    /// Advances one output step and returns its record; `None` once the run is over.
    pub fn step(&mut self) -> Result<Option<StepRecord>> {
        let o = &self.sim.options;
        if self.t_s >= o.duration_s - 1e-9 {
            return Ok(None);
        }
        let step_start = self.t_s;
        let step_end = (self.t_s + o.step_s).min(o.duration_s);
        let before = self.sim.model.tallies(self.y.as_slice());
        while self.t_s < step_end - 1e-9 {
            self.segment(step_end)?;
        }
        let snapshot = self.sim.model.evaluate(self.y.as_slice(), &self.inputs, None);
        let interval = self.sim.model.tallies(self.y.as_slice()) - before;
        let record = self.sim.record(
            self.t_s,
            step_end - step_start,
            &snapshot,
            &interval,
            &self.inputs,
        );
        self.tracker.record(&record);
        Ok(Some(record))
    }

    /// Integrates one segment: inputs at its start, supervisory decisions, Dopri5 across it.
    fn segment(&mut self, step_end_s: f64) -> Result<()> {
        let sim = &mut self.sim;
        let t = self.t_s;
        let end = sim.segment_end(t, step_end_s);
        self.inputs = sim.inputs_at(t, self.inputs.controls, Phase::Run);
        let chillers = sim.events.chillers_available(t);
        sim.model.supervise(
            self.y.as_slice(),
            &mut self.inputs,
            &mut self.engines,
            chillers,
            end - t,
        );
        let start_state = self.y.clone();
        sim.integrator
            .advance(&sim.model, &self.inputs, &mut self.y, t, end)?;
        if self.tracker.first_throttle_s.is_none() && sim.throttled_during(&start_state, self.y.as_slice()) {
            self.tracker.first_throttle_s = Some(sim.locate_throttle(&start_state, &self.inputs, t, end)?);
        }
        self.t_s = end;
        self.tracker
            .observe(&sim.model.evaluate(self.y.as_slice(), &self.inputs, None), end);
        Ok(())
    }

    /// Everything needed to continue this run exactly ([`Simulation::resume`]) or to
    /// branch from its state ([`Simulation::start_from`]).
    pub fn save(&self) -> SavedRun {
        let snapshot = self.sim.model.evaluate(self.y.as_slice(), &self.inputs, None);
        SavedRun::new(
            &self.sim.model,
            self.sim.options.start,
            self.t_s,
            self.now(),
            self.y.as_slice(),
            &snapshot,
            self.inputs.controls,
            &self.engines,
            &self.sim.integrator,
            &self.tracker,
        )
    }

    /// The summary of the run so far.
    pub fn summary(&self) -> Summary {
        let mut options = self.sim.options.clone();
        options.duration_s = self.t_s;
        self.tracker.summary(
            &self.sim.model,
            self.y.as_slice(),
            &options,
            self.sim.integrator.stats,
            self.wall.elapsed().as_secs_f64(),
        )
    }

    /// The summary of the run, ending it.
    pub fn finish(self) -> Summary {
        self.summary()
    }
}

#[cfg(test)]
mod tests;
