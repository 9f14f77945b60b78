//! State estimation from live readings: the twin follows the plant.
//!
//! Readings arrive one at a time by point id (the grammar of `models::telemetry`, the same
//! names [`crate::campus::PointSampler`] produces). Rack powers and the facility supply
//! temperature are boundary conditions; each CDU loop's supply, return and flow readings
//! correct an extended Kalman filter of that loop ([`filter`]); detectors on its
//! innovations and estimates raise alarms when a sensor drifts or sticks or a pump
//! underperforms ([`alarms`]).
//!
//! The estimate covers the rack loops, where the sensors and the fast failures are. The
//! facility water is taken as measured; its own sensors are not checked yet, and the loops
//! cannot check them: each CDU's valve holds its supply at the setpoint, so a facility
//! supply sensor drifting 3 K in 10 minutes moves no loop's innovations (tried on the
//! rack-resolved room). Checking it needs a model of the plant side (towers against the
//! measured wet bulb).

pub mod alarms;
pub mod filter;
pub mod follow;
pub mod throttle;

use std::collections::HashMap;
use std::ops::Range;

use chrono::{DateTime, Utc};
use models::campus::Campus;
use serde::Serialize;

use crate::campus::{CampusModel, LoopKind, Resolution};
use crate::error::Result;
pub use alarms::{Alarm, AlarmKind};
use alarms::{PumpWatch, SensorEvent, SensorWatch};
use filter::{Channel, LoopFilter};

/// Measurement noise assumed for loop temperatures, K (sensor and lumping error).
const TEMP_NOISE_K: f64 = 0.2;
/// Measurement noise assumed for loop flows, fraction of design.
const FLOW_NOISE_FRAC: f64 = 0.02;
/// A flow reading this many standard deviations off the prediction is taken as a step of
/// the pump (a trip, a start), not as noise: flow changes in a second, a drifting sensor
/// does not.
const FLOW_STEP_SIGMA: f64 = 5.0;
/// Alarms kept in the state, newest last.
const ALARMS_KEPT: usize = 200;

/// Where a reading goes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Route {
    /// A rack's power (index into `rack_power_w`).
    RackPower(usize),
    /// A loop sensor.
    Loop(usize, Channel),
    /// The facility supply temperature.
    FacilitySupply,
}

/// One CDU loop under estimation.
#[derive(Debug, Clone)]
struct LoopEstimator {
    hall: String,
    cdu: u32,
    filter: LoopFilter,
    racks: Range<usize>,
    density: f64,
    points: [String; 3],
    watches: [SensorWatch; 3],
    pump: PumpWatch,
    /// Whether the filter has taken its first reading (it starts at its design point then).
    started: bool,
}

/// Estimates of one CDU loop.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoopEstimate {
    /// Hall name.
    pub hall: String,
    /// CDU number.
    pub cdu: u32,
    /// Estimated supply temperature, °C.
    pub supply_temp_c: f64,
    /// Estimated return temperature, °C.
    pub return_temp_c: f64,
    /// Estimated flow, fraction of design.
    pub flow_frac: f64,
    /// Its standard deviation.
    pub flow_frac_std: f64,
    /// Largest drift statistic of its sensors (0 healthy; alarms above 10).
    pub max_cusum: f64,
}

/// What the estimator knows, for the service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EstimatorState {
    /// Time of the newest reading taken in.
    pub as_of: Option<DateTime<Utc>>,
    /// Readings taken in.
    pub readings: u64,
    /// Readings of points the estimator does not use.
    pub ignored: u64,
    /// Loop readings older than the loop's estimate (redelivered or late), not taken in.
    pub out_of_order: u64,
    /// Per CDU loop.
    pub loops: Vec<LoopEstimate>,
    /// Alarms raised, oldest first (the last 200).
    pub alarms: Vec<Alarm>,
}

/// The twin estimator of a campus.
#[derive(Debug, Clone)]
pub struct Estimator {
    epoch: Option<DateTime<Utc>>,
    latest: Option<DateTime<Utc>>,
    /// Point name to where its readings go: looked up for every reading that arrives, so
    /// hashed with foldhash rather than SipHash (a fixed set of the campus's names that
    /// readings only look up).
    routes: HashMap<String, Route, foldhash::fast::RandomState>,
    loops: Vec<LoopEstimator>,
    rack_power_w: Vec<Option<f64>>,
    facility_supply_c: Option<f64>,
    readings: u64,
    ignored: u64,
    out_of_order: u64,
    alarms: Vec<Alarm>,
}

impl Estimator {
    /// An estimator for every CDU loop of `campus`.
    pub fn new(campus: &Campus) -> Result<Estimator> {
        let model = CampusModel::build(campus, Resolution::Rack, &[], 1.0)?;
        let mut routes = HashMap::default();
        let mut loops = Vec::new();
        let mut rack_base = Vec::new();
        let mut racks_total = 0usize;
        for hall in &model.halls {
            rack_base.push(racks_total);
            for r in 1..=hall.racks {
                routes.insert(
                    format!("{}/rack-{r:04}/power_kw", hall.name),
                    Route::RackPower(racks_total + r as usize - 1),
                );
            }
            racks_total += hall.racks as usize;
        }
        for l in &model.loops {
            let (LoopKind::Dynamic { pipe, racks, .. }, Some(k)) = (&l.kind, l.cdu_number) else {
                continue;
            };
            let hall = &model.halls[l.hall];
            let first = rack_base[l.hall] + hall.first_rack_on(k) as usize - 1;
            let racks_capacity: f64 = model.racks[racks.clone()]
                .iter()
                .map(|s| s.node.capacity_j_per_k)
                .sum();
            let points = [
                format!("{}/cdu-{k:02}/tcs_supply_temp_c", hall.name),
                format!("{}/cdu-{k:02}/tcs_return_temp_c", hall.name),
                format!("{}/cdu-{k:02}/tcs_flow_l_per_min", hall.name),
            ];
            for (point, channel) in points
                .iter()
                .zip([Channel::Supply, Channel::Return, Channel::Flow])
            {
                routes.insert(point.clone(), Route::Loop(loops.len(), channel));
            }
            let noise = [
                TEMP_NOISE_K.powi(2),
                TEMP_NOISE_K.powi(2),
                FLOW_NOISE_FRAC.powi(2),
            ];
            loops.push(LoopEstimator {
                hall: hall.name.clone(),
                cdu: k,
                filter: LoopFilter::new(
                    hall.cdu,
                    racks_capacity,
                    pipe.capacity_j_per_k,
                    l.design_flow_kg_per_s,
                    hall.tcs_cp,
                    hall.rack.liquid_fraction,
                    noise,
                ),
                racks: first..first + hall.racks_on(k) as usize,
                density: hall.tcs_density,
                points,
                watches: Default::default(),
                pump: PumpWatch::default(),
                started: false,
            });
        }
        routes.insert("plant/fw_supply_temp_c".into(), Route::FacilitySupply);
        Ok(Estimator {
            epoch: None,
            latest: None,
            routes,
            loops,
            rack_power_w: vec![None; racks_total],
            facility_supply_c: None,
            readings: 0,
            ignored: 0,
            out_of_order: 0,
            alarms: Vec::new(),
        })
    }

    /// Takes in one reading (canonical units: kW, °C, L/min) and returns the alarms it
    /// raised.
    pub fn observe(&mut self, point: &str, ts: DateTime<Utc>, value: f64) -> Vec<Alarm> {
        self.readings += 1;
        let Some(route) = self.routes.get(point).copied() else {
            self.ignored += 1;
            return Vec::new();
        };
        let epoch = *self.epoch.get_or_insert(ts);
        self.latest = Some(self.latest.map_or(ts, |l| l.max(ts)));
        let t_s = (ts - epoch).num_milliseconds() as f64 / 1000.0;
        match route {
            Route::RackPower(i) => self.rack_power_w[i] = Some(value * 1000.0),
            Route::FacilitySupply => self.facility_supply_c = Some(value),
            Route::Loop(l, channel) => return self.loop_reading(l, channel, t_s, ts, value),
        }
        Vec::new()
    }

    fn loop_reading(
        &mut self,
        l: usize,
        channel: Channel,
        t_s: f64,
        ts: DateTime<Utc>,
        value: f64,
    ) -> Vec<Alarm> {
        let e = &mut self.loops[l];
        let power_w: Option<f64> = self.rack_power_w[e.racks.clone()].iter().copied().sum();
        let (Some(power_w), Some(facility_c)) = (power_w, self.facility_supply_c) else {
            return Vec::new(); // boundary conditions not known yet
        };
        if !e.started {
            e.filter.t_s = t_s;
            e.started = true;
        } else if t_s < e.filter.t_s {
            // The filter has moved past it: taking it in would mix two times.
            self.out_of_order += 1;
            return Vec::new();
        }
        e.filter.predict(t_s, power_w, facility_c);
        let measured = match channel {
            Channel::Flow => {
                models::units::l_per_min_to_kg_per_s(value, e.density) / e.filter.design_flow_kg_per_s
            }
            _ => value,
        };
        let i = match channel {
            Channel::Supply => 0,
            Channel::Return => 1,
            Channel::Flow => 2,
        };
        // A sensor judged stuck or drifting is still watched but no longer believed.
        let watch = &e.watches[i];
        let innovation = if watch.stuck || watch.drifting {
            e.filter.innovation(channel, measured)
        } else {
            let before = e.filter.innovation(channel, measured);
            if channel == Channel::Flow && before.normalized().abs() > FLOW_STEP_SIGMA {
                e.filter.admit_step(channel, before.residual);
            }
            e.filter.update(channel, measured)
        };
        let mut raised = Vec::new();
        let point = &e.points[i];
        match e.watches[i].observe(measured, innovation) {
            SensorEvent::Drift => raised.push(Alarm {
                kind: AlarmKind::SensorDrift,
                subject: point.clone(),
                at: ts,
                message: format!(
                    "{point} reads persistently off the model (last residual {:+.2})",
                    innovation.residual
                ),
            }),
            SensorEvent::Stuck => raised.push(Alarm {
                kind: AlarmKind::SensorStuck,
                subject: point.clone(),
                at: ts,
                message: format!(
                    "{point} has not changed while the model moved (residual {:+.2})",
                    innovation.residual
                ),
            }),
            SensorEvent::Quiet => {}
        }
        let (flow_frac, flow_std) = (e.filter.x[2], e.filter.std(2));
        if e.pump.observe(t_s, flow_frac, flow_std) {
            raised.push(Alarm {
                kind: AlarmKind::PumpUnderperforming,
                subject: format!("{}/cdu-{:02}", e.hall, e.cdu),
                at: ts,
                message: format!(
                    "CDU {} of {} moves {:.0} % of its design flow (±{:.0} %)",
                    e.cdu,
                    e.hall,
                    100.0 * flow_frac,
                    200.0 * flow_std
                ),
            });
        }
        for alarm in &raised {
            tracing::warn!(kind = ?alarm.kind, subject = %alarm.subject, "{}", alarm.message);
        }
        self.alarms.extend(raised.iter().cloned());
        if self.alarms.len() > ALARMS_KEPT {
            self.alarms.drain(..self.alarms.len() - ALARMS_KEPT);
        }
        raised
    }

    /// The current estimates and alarms.
    pub fn state(&self) -> EstimatorState {
        EstimatorState {
            as_of: self.latest,
            readings: self.readings,
            ignored: self.ignored,
            out_of_order: self.out_of_order,
            loops: self
                .loops
                .iter()
                .map(|e| LoopEstimate {
                    hall: e.hall.clone(),
                    cdu: e.cdu,
                    supply_temp_c: e.filter.x[1],
                    return_temp_c: e.filter.x[0],
                    flow_frac: e.filter.x[2],
                    flow_frac_std: e.filter.std(2),
                    max_cusum: e.watches.iter().map(SensorWatch::cusum).fold(0.0, f64::max),
                })
                .collect(),
            alarms: self.alarms.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
