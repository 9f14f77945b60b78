//! A run saved to be continued or branched from: its state vector with where each part
//! sits, the supervisory controls and engine states, the integrator's next step and the
//! summary's bookkeeping. Plain serde data, so a service can keep it in a file or send it.
//!
//! Continuing exactly ([`Simulation::resume`](super::Simulation::resume)) needs all of
//! it: with the same state, controls, engines, step size and tracker, the next segment is
//! computed from the same numbers as in a run that never stopped. Branching
//! ([`Simulation::start_from`](super::Simulation::start_from)) takes over what two
//! builds of the campus share, matched by name (a loop by its hall and CDU), so a what-if
//! that resolves other CDUs than the saved run did still starts from its state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::integrate::{IntegrationStats, Integrator};
use super::record::Tracker;
use crate::campus::{CampusModel, ControlState, Inputs, LoopKind, Resolution, Snapshot, StateLayout, Tally};
use crate::error::{Error, Result};
use crate::grid::engine::EngineState;

/// A run as it stood after an output step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedRun {
    /// Campus name.
    pub campus: String,
    /// Its halls: a saved run fits only a campus with the same ones.
    pub halls: Vec<SavedHall>,
    /// Design IT power of the campus, W (the tallies are scaled by it in the state).
    pub it_design_w: f64,
    /// Loop resolution of the run.
    pub resolution: Resolution,
    /// Start of the run (its time origin: loads and events count from it).
    pub start: DateTime<Utc>,
    /// Simulated time since the start, s.
    pub t_s: f64,
    /// The instant reached, `start + t_s`.
    pub at: DateTime<Utc>,
    /// The state vector (temperatures °C, state of charge, scaled tallies).
    pub state: Vec<f64>,
    /// Where each part of it sits.
    pub layout: StateLayout,
    /// Facility water supply at that instant, °C (a state or quasi-steady).
    pub facility_supply_c: f64,
    /// Facility water return at that instant, °C.
    pub facility_return_c: f64,
    /// The supervisory controls: mode, chillers on and since when, dispatch.
    pub controls: ControlState,
    /// Each engine bank: units running and starting, output.
    pub engines: Vec<EngineState>,
    /// Step size the integrator starts its next segment with, s.
    pub next_step_s: f64,
    /// Integration counters so far.
    pub integration: IntegrationStats,
    /// The summary's bookkeeping so far.
    pub tracker: Tracker,
}

/// A hall of the campus a run was saved from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedHall {
    /// Hall name.
    pub name: String,
    /// Racks in it.
    pub racks: u32,
    /// CDUs in it.
    pub cdus: u32,
}

impl SavedRun {
    /// The run of `model` as it stands.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        model: &CampusModel,
        start: DateTime<Utc>,
        t_s: f64,
        at: DateTime<Utc>,
        y: &[f64],
        snapshot: &Snapshot,
        controls: ControlState,
        engines: &[EngineState],
        integrator: &Integrator,
        tracker: &Tracker,
    ) -> SavedRun {
        SavedRun {
            campus: model.name.clone(),
            halls: halls_of(model),
            it_design_w: model.it_design_w,
            resolution: model.resolution,
            start,
            t_s,
            at,
            state: y.to_vec(),
            layout: model.layout(),
            facility_supply_c: snapshot.facility_supply_c,
            facility_return_c: snapshot.facility_return_c,
            controls,
            engines: engines.to_vec(),
            next_step_s: integrator.next_step_s(),
            integration: integrator.stats,
            tracker: tracker.clone(),
        }
    }

    /// Checks that the run was saved from a campus laid out as `model`'s.
    pub(super) fn check_campus(&self, model: &CampusModel) -> Result<()> {
        if self.campus != model.name || self.halls != halls_of(model) || self.it_design_w != model.it_design_w
        {
            return Err(Error::Scenario(format!(
                "the saved run is of `{}`, whose halls or design IT power differ from `{}`'s",
                self.campus, model.name
            )));
        }
        Ok(())
    }

    /// Fills `y`, laid out for `model` and holding its initial state, with what the saved
    /// run knows: tallies, battery charge, the facility water, and every resolved loop
    /// both share; loops `model` resolves that the saved run did not are put at their
    /// steady state under `inputs`.
    pub(super) fn fill_state(&self, model: &CampusModel, inputs: &Inputs, y: &mut [f64]) {
        let saved = &self.layout;
        // Same campus, same design power and GPU count: the tallies' scales agree.
        y[model.tally_state..model.tally_state + Tally::COUNT]
            .copy_from_slice(&self.state[saved.tallies..saved.tallies + Tally::COUNT]);
        if let (Some(to), Some(from)) = (model.soc_state, saved.battery_soc) {
            y[to] = self.state[from];
        }
        if let Some(s) = model.facility.states {
            let (supply_c, return_c) = match saved.facility {
                Some([supply, ret]) => (self.state[supply], self.state[ret]),
                None => (self.facility_supply_c, self.facility_return_c),
            };
            y[s.supply] = supply_c;
            y[s.ret] = return_c;
        }
        let mut unmatched = Vec::new();
        for l in &model.loops {
            let (
                LoopKind::Dynamic {
                    supply_state, racks, ..
                },
                Some(cdu),
            ) = (&l.kind, l.cdu_number)
            else {
                continue;
            };
            let slots = &model.racks[racks.clone()];
            match saved
                .loops
                .iter()
                .find(|s| s.hall == l.hall && s.cdu == cdu && s.racks.len() == slots.len())
            {
                Some(s) => {
                    y[*supply_state] = self.state[s.supply];
                    for (slot, from) in slots.iter().zip(&s.racks) {
                        y[slot.state] = self.state[*from];
                    }
                }
                None => unmatched.push((l.hall, cdu)),
            }
        }
        if !unmatched.is_empty() {
            let fw_supply_c = model
                .facility
                .states
                .map_or(self.facility_supply_c, |s| y[s.supply]);
            model.settle_resolved_loops(y, inputs, fw_supply_c, |l| {
                l.cdu_number.is_some_and(|k| unmatched.contains(&(l.hall, k)))
            });
        }
    }
}

fn halls_of(model: &CampusModel) -> Vec<SavedHall> {
    model
        .halls
        .iter()
        .map(|h| SavedHall {
            name: h.name.clone(),
            racks: h.racks,
            cdus: h.cdus,
        })
        .collect()
}
