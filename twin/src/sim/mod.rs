//! Running a campus through time: inputs held per segment, supervisory controls at each
//! segment start, adaptive integration inside, one record per output step, a summary at
//! the end.
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
//! let mut sim = Simulation::new(&campus, weather, &LoadSpec::default(), None, &[], options).unwrap();
//! let summary = sim.run(|_record| Ok(()), |_t| {}).unwrap();
//! assert!(summary.pue > 1.0);
//! ```

mod events;
mod integrate;
mod record;

use chrono::{DateTime, Utc};
use models::campus::Campus;
use models::load::{LoadSpec, LoadTable};
use models::scenario::Event;
use models::weather::Weather;
use models::weather::solar::{Surface, plane_of_array_irradiance, sun_position};
use ode_solvers::DVector;

pub use integrate::IntegrationStats;
pub use record::{StepRecord, Summary};

use crate::campus::{CampusModel, ControlState, Inputs, Resolution, Snapshot, Tallies, Tally};
use crate::cooling::tower::AirIn;
use crate::error::Result;
use crate::grid::engine::EngineState;
use crate::it::load::{HallLoad, LoadProfile};
use events::EventSchedule;
pub(crate) use integrate::Integrator;

/// Segment length of the warm-up, s.
const WARMUP_SEGMENT_S: f64 = 60.0;

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
}

impl RunOptions {
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
        let named_cdus = events::named_cdus(campus, events)?;
        let model = CampusModel::build(campus, options.resolution, &named_cdus, options.step_s)?;
        let events = EventSchedule::new(&model, campus, events)?;
        let hall_names: Vec<&str> = campus.spec.halls.iter().map(|h| h.name.as_str()).collect();
        let time_zone_h = weather.location().time_zone_h;
        let load = LoadProfile::build(load, options.start, time_zone_h, &hall_names, load_table)?;
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

    /// Runs from warm-up to the end, handing each step's record to `on_record` and the
    /// simulated time reached to `on_progress`.
    pub fn run(
        &mut self,
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

    /// Warms up and returns a run to advance one output step at a time.
    pub fn start(&mut self) -> Result<Run<'_>> {
        let wall = std::time::Instant::now();
        let utilisation = self.load.at(0, 0.0, 1.0).utilisation;
        let mut y = DVector::from_vec(self.model.initial_state(utilisation));
        let mut engines = vec![EngineState::default(); self.model.dispatcher.engines.len()];
        let mut inputs = self.inputs_at(0.0, ControlState::default(), false);
        self.warm_up(&mut y, &mut inputs, &mut engines)?;
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

    /// Runs `warmup_s` under the inputs of the start (no events), recording nothing.
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
        let mut t = -self.options.warmup_s;
        while t < -1e-9 {
            let end = (t + segment_s).min(0.0);
            self.model.supervise(
                y.as_slice(),
                inputs,
                engines,
                self.events.chillers_total(),
                end - t,
            );
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

    /// Inputs at `t_s` after the start, keeping the controls `controls`; events apply when
    /// `with_events`.
    fn inputs_at(&self, t_s: f64, controls: ControlState, with_events: bool) -> Inputs {
        let at = self.options.start + chrono::Duration::milliseconds((t_s * 1000.0).round() as i64);
        let weather = self.weather.sample(at);
        let hall_loads: Vec<HallLoad> = self
            .model
            .halls
            .iter()
            .enumerate()
            .map(|(i, h)| self.load.at(i, t_s, h.rack.gpu.tdp_w))
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
        let active = if with_events {
            self.events.state_at(t_s)
        } else {
            self.events.quiet()
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
        let at = self.options.start + chrono::Duration::milliseconds((t_s * 1000.0).round() as i64);
        StepRecord::new(at, interval_s, s, interval, inputs)
    }
}

/// A simulation under way, advanced one output step at a time.
#[derive(Debug)]
pub struct Run<'a> {
    sim: &'a mut Simulation,
    y: DVector<f64>,
    engines: Vec<EngineState>,
    inputs: Inputs,
    tracker: record::Tracker,
    t_s: f64,
    wall: std::time::Instant,
}

impl Run<'_> {
    /// Simulated time since the start, s.
    pub fn elapsed_s(&self) -> f64 {
        self.t_s
    }

    /// The simulated instant reached.
    pub fn now(&self) -> DateTime<Utc> {
        self.sim.options.start + chrono::Duration::milliseconds((self.t_s * 1000.0).round() as i64)
    }

    /// The model being run.
    pub fn model(&self) -> &CampusModel {
        &self.sim.model
    }

    /// The state vector reached.
    pub fn state(&self) -> &[f64] {
        self.y.as_slice()
    }

    /// The inputs of the last segment (weather, loads, events, controls).
    pub fn inputs(&self) -> &Inputs {
        &self.inputs
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
        let sim = &mut *self.sim;
        let t = self.t_s;
        let end = sim.segment_end(t, step_end_s);
        self.inputs = sim.inputs_at(t, self.inputs.controls, true);
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

    /// The summary of the run so far.
    pub fn finish(self) -> Summary {
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
}
