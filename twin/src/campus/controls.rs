//! Supervisory controls: economiser change-over, chiller staging, battery and engine
//! dispatch, decided at the start of every integration segment from the plant as it is,
//! like a building-management sequencer running every control period.
//!
//! Local loops (CDU valves, pump speeds, tower fans) are ideal within their limits and
//! live inside the right-hand side; these are the discrete decisions around them, with
//! hysteresis and a minimum time between chiller stage changes so that nothing
//! short-cycles.

use serde::{Deserialize, Serialize};

use super::*;
use crate::grid::dispatch::Dispatch;
use crate::grid::engine::EngineState;

/// How the facility water is cooled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionMode {
    /// Heat rejection alone (full economiser), chillers off.
    #[default]
    Free,
    /// Heat rejection with chillers trimming what it leaves (partial economiser).
    Partial,
    /// Heat rejection bypassed: the air is too warm to cool the water; chillers carry it.
    Mechanical,
}

impl RejectionMode {
    /// A short name for tables.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectionMode::Free => "free",
            RejectionMode::Partial => "partial",
            RejectionMode::Mechanical => "mechanical",
        }
    }
}

/// The sequencer's decisions and memory.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlState {
    /// Heat rejection mode.
    pub mode: RejectionMode,
    /// Trim chillers running.
    pub chillers_on: u32,
    /// Time since the last chiller stage change, s.
    pub since_stage_change_s: f64,
    /// Battery and engine dispatch for the segment.
    pub dispatch: Dispatch,
}

/// Shortest time between chiller stage changes downward, s.
const MIN_STAGE_TIME_S: f64 = 600.0;

/// Enter mechanical cooling when the air is this close to the facility return, K.
const MECHANICAL_ENTER_K: f64 = 1.0;

/// Leave mechanical cooling when the air is this far below the facility return, K.
const MECHANICAL_LEAVE_K: f64 = 2.5;

/// A chiller is staged on for trim above this share of its capacity.
const STAGE_ON_FRAC: f64 = 0.02;

impl CampusModel {
    /// Decides the controls for the next `dt_s` given the state `y` and the other inputs,
    /// with `chillers_available` machines not tripped.
    pub fn supervise(
        &self,
        y: &[f64],
        inputs: &mut Inputs,
        engines: &mut [EngineState],
        chillers_available: u32,
        dt_s: f64,
    ) {
        let snapshot = self.evaluate(y, inputs, None);
        let mut c = inputs.controls;
        c.since_stage_change_s += dt_s;
        c.mode = self.next_mode(c.mode, inputs, snapshot.facility_return_c);
        if let Some((chiller, _)) = self.chillers {
            let demand_w = match c.mode {
                // In mechanical mode the chillers take the return as it comes.
                RejectionMode::Mechanical => {
                    snapshot.facility_flow_kg_per_s
                        * self.facility.cp
                        * (snapshot.facility_return_c - self.facility.supply_setpoint_c)
                }
                _ => snapshot.chillers.demand_w,
            }
            .max(0.0);
            let needed = if demand_w < STAGE_ON_FRAC * chiller.capacity_w {
                0
            } else {
                (demand_w / (0.95 * chiller.capacity_w)).ceil() as u32
            };
            if needed > c.chillers_on {
                c.chillers_on = needed;
                c.since_stage_change_s = 0.0;
            } else if needed < c.chillers_on && c.since_stage_change_s >= MIN_STAGE_TIME_S {
                c.chillers_on -= 1;
                c.since_stage_change_s = 0.0;
            }
            c.chillers_on = c.chillers_on.min(chillers_available);
            if c.mode != RejectionMode::Mechanical {
                c.mode = if c.chillers_on > 0 {
                    RejectionMode::Partial
                } else {
                    RejectionMode::Free
                };
            }
        }
        let soc = self.soc_state.map_or(0.0, |i| y[i]);
        c.dispatch = self.dispatcher.decide(
            engines,
            snapshot.power.facility_w,
            inputs.solar_w,
            soc,
            inputs.import_limit_w,
            dt_s,
        );
        inputs.controls = c;
    }

    /// Mechanical cooling when the air cannot cool the return water, with hysteresis; only
    /// where chillers exist to take over.
    fn next_mode(&self, mode: RejectionMode, inputs: &Inputs, facility_return_c: f64) -> RejectionMode {
        let air_c = match self.rejection {
            RejectionModel::Towers(_) => inputs.weather.wet_bulb_c,
            RejectionModel::DryCoolers(_) => inputs.weather.dry_bulb_c,
            RejectionModel::None => {
                return if self.chillers.is_some() {
                    RejectionMode::Mechanical
                } else {
                    RejectionMode::Free
                };
            }
        };
        if self.chillers.is_none() {
            return RejectionMode::Free;
        }
        let margin_k = facility_return_c - air_c;
        match mode {
            RejectionMode::Mechanical if margin_k < MECHANICAL_LEAVE_K => RejectionMode::Mechanical,
            _ if margin_k < MECHANICAL_ENTER_K => RejectionMode::Mechanical,
            RejectionMode::Mechanical => RejectionMode::Partial,
            other => other,
        }
    }
}
