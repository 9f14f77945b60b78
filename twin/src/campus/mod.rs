//! A campus assembled from its components: the state vector, the right-hand side that
//! couples them, and the supervisory controls.
//!
//! The liquid side is a chain of well-mixed volumes: rack coolant → (CDU) → loop piping
//! → racks within each CDU loop; CDU primaries → facility return → heat rejection and
//! trim chillers → facility supply. At **rack resolution** every rack has its own coolant
//! volume and every CDU loop its own piping volume, all integrated in time: seconds-scale
//! transients (a pump trip) resolve rack by rack. At **hall resolution** the identical
//! CDU loops of a hall are lumped into one and treated as quasi-steady: their volumes
//! settle within a minute or so, far below the step of the long runs this mode is for, so
//! integrating them would only cost time. The facility water (minutes to tens of minutes)
//! is integrated at rack resolution, and at hall resolution too unless the output step is
//! at least three of its turnover times (volume over design flow), when it has settled
//! long before each step ends and is solved as quasi-steady as well. A CDU that a scenario
//! names (a pump trip) is always resolved rack by rack, because the event is about exactly
//! those racks.

mod build;
mod controls;
mod eval;
mod points;
pub mod tally;

use std::ops::Range;

use crate::cooling::air::AirCoolingModel;
use crate::cooling::cdu::CduModel;
use crate::cooling::chiller::ChillerModel;
use crate::cooling::dry_cooler::DryCoolerBankModel;
use crate::cooling::node::ThermalNode;
use crate::cooling::pump::Pump;
use crate::cooling::tower::TowerBankModel;
use crate::grid::battery::BatteryModel;
use crate::grid::dispatch::Dispatcher;
use crate::grid::solar::SolarModel;
use crate::it::rack::RackModel;
use crate::power::PowerChainModel;

pub use controls::{ControlState, RejectionMode};
pub use eval::{HallSnapshot, Inputs, Snapshot};
pub use points::PointSampler;
pub use tally::{Tallies, Tally, TallyScale};

/// How finely the liquid loops are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Every rack and every CDU loop its own dynamic volume.
    #[default]
    Rack,
    /// Identical CDU loops of a hall lumped and quasi-steady.
    Hall,
}

/// A hall's shared parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct HallModel {
    /// Hall name.
    pub name: String,
    /// Its rack model.
    pub rack: RackModel,
    /// Its CDU model (with the loop's supply setpoint).
    pub cdu: CduModel,
    /// Racks in the hall.
    pub racks: u32,
    /// CDUs in the hall.
    pub cdus: u32,
    /// Secondary coolant specific heat, J/(kg·K).
    pub tcs_cp: f64,
    /// Secondary coolant density, kg/m³.
    pub tcs_density: f64,
    /// Pump flow control: `Some(ΔT)` holds that rise across the racks, `None` holds design flow.
    pub delta_t_control_k: Option<f64>,
    /// Lowest pump flow under ΔT control, fraction of design.
    pub min_flow_frac: f64,
}

impl HallModel {
    /// Racks on CDU `k` (from 1): an even split, the first CDUs taking one more.
    pub fn racks_on(&self, k: u32) -> u32 {
        self.racks / self.cdus + u32::from(k <= self.racks % self.cdus)
    }

    /// Number (from 1) of the first rack on CDU `k`.
    pub fn first_rack_on(&self, k: u32) -> u32 {
        1 + (1..k).map(|j| self.racks_on(j)).sum::<u32>()
    }
}

/// One CDU loop, or several identical ones lumped.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopModel {
    /// Index of its hall.
    pub hall: usize,
    /// The CDU's number in its hall (from 1) when the loop is a single resolved CDU.
    pub cdu_number: Option<u32>,
    /// Numbers of every CDU this loop stands for (one when resolved, the rest when lumped).
    pub cdus: Vec<u32>,
    /// How many identical loops this one stands for.
    pub count: f64,
    /// Racks on each of those loops.
    pub racks_per_loop: f64,
    /// Design secondary flow of one loop, kg/s.
    pub design_flow_kg_per_s: f64,
    /// Dynamic or quasi-steady.
    pub kind: LoopKind,
}

/// How a CDU loop is represented.
#[derive(Debug, Clone, PartialEq)]
pub enum LoopKind {
    /// Racks and piping integrated in time.
    Dynamic {
        /// State index of the piping volume's temperature (CDU outlet side).
        supply_state: usize,
        /// The piping volume.
        pipe: ThermalNode,
        /// Its racks, as indices into [`CampusModel::racks`].
        racks: Range<usize>,
    },
    /// Steady state at every instant.
    QuasiSteady,
}

/// A rack resolved on its own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RackSlot {
    /// State index of its coolant temperature.
    pub state: usize,
    /// Its share of the loop's flow.
    pub flow_share: f64,
    /// Its utilisation relative to the hall's.
    pub utilisation_factor: f64,
    /// Its coolant volume.
    pub node: ThermalNode,
}

/// The facility water loop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FacilityModel {
    /// Supply setpoint, °C.
    pub supply_setpoint_c: f64,
    /// Water specific heat, J/(kg·K).
    pub cp: f64,
    /// Water density, kg/m³.
    pub density: f64,
    /// The loop pumps, sized on the sum of CDU rated primary flows.
    pub pump: Pump,
    /// Lowest loop flow, kg/s (a bypass makes up the rest).
    pub min_flow_kg_per_s: f64,
    /// Supply-side volume.
    pub supply: ThermalNode,
    /// Return-side volume.
    pub ret: ThermalNode,
    /// Where its temperatures sit in the state when it is integrated in time; `None` when
    /// it is quasi-steady.
    pub states: Option<FacilityStates>,
}

/// State indices of the facility water's two volumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FacilityStates {
    /// Supply temperature.
    pub supply: usize,
    /// Return temperature.
    pub ret: usize,
}

/// How heat leaves the facility water.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RejectionModel {
    /// Open cooling towers.
    Towers(TowerBankModel),
    /// Dry coolers.
    DryCoolers(DryCoolerBankModel),
    /// None: chillers carry the whole load.
    None,
}

/// A campus ready to integrate.
#[derive(Debug, Clone, PartialEq)]
pub struct CampusModel {
    /// Campus name.
    pub name: String,
    /// Resolution it was built at.
    pub resolution: Resolution,
    /// Halls.
    pub halls: Vec<HallModel>,
    /// CDU loops.
    pub loops: Vec<LoopModel>,
    /// Racks resolved one by one.
    pub racks: Vec<RackSlot>,
    /// Facility water.
    pub facility: FacilityModel,
    /// Heat rejection.
    pub rejection: RejectionModel,
    /// Trim chillers and how many there are.
    pub chillers: Option<(ChillerModel, u32)>,
    /// Residual air cooling.
    pub air: AirCoolingModel,
    /// Electrical chain.
    pub power: PowerChainModel,
    /// Solar PV.
    pub solar: Option<SolarModel>,
    /// Battery, engines and their rule.
    pub dispatcher: Dispatcher,
    /// Utility import limit, W.
    pub import_limit_w: f64,
    /// CO₂ intensity of grid import, kg/J.
    pub grid_carbon_kg_per_j: f64,
    /// Design IT power, W.
    pub it_design_w: f64,
    /// GPUs on the campus.
    pub gpus: f64,
    /// State index of the battery's state of charge, if there is a battery.
    pub soc_state: Option<usize>,
    /// First state index of the tallies.
    pub tally_state: usize,
    /// Scales of the tallies in the state.
    pub tally_scale: TallyScale,
    /// Length of the state vector.
    pub state_len: usize,
    /// Whether the resolved loops are solved at their steady state at every evaluation
    /// instead of integrated: set by [`CampusModel::build_quasi_steady`] for a plant
    /// evaluated in steady state throughout (the forecast's capacity search), false for a
    /// model that runs in time. Their states are then unused (derivatives zero).
    pub resolved_loops_steady: bool,
}

/// Where the dynamic parts of a model sit in its state vector: what a saved run must
/// match to be resumed exactly, and what lets a run started from a saved state take over
/// the parts that two builds share.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateLayout {
    /// Length of the state vector.
    pub len: usize,
    /// First state index of the tallies.
    pub tallies: usize,
    /// State index of the battery's state of charge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery_soc: Option<usize>,
    /// State indices of the facility water's supply and return, when integrated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facility: Option<[usize; 2]>,
    /// Every CDU loop integrated in time.
    pub loops: Vec<LoopStates>,
}

/// Where one resolved CDU loop sits in the state vector.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopStates {
    /// Index of its hall.
    pub hall: usize,
    /// The CDU's number in its hall, from 1.
    pub cdu: u32,
    /// State index of the loop piping (the racks' supply).
    pub supply: usize,
    /// State indices of its racks' coolant, in rack order.
    pub racks: Vec<usize>,
}

/// Parts of the model solved as quasi-steady, for reports.
impl CampusModel {
    /// Names of the parts solved as quasi-steady in this build.
    pub fn quasi_steady_parts(&self) -> Vec<&'static str> {
        let mut parts = Vec::new();
        let steady_resolved = self.resolved_loops_steady
            && self
                .loops
                .iter()
                .any(|l| matches!(l.kind, LoopKind::Dynamic { .. }));
        if steady_resolved || self.loops.iter().any(|l| l.kind == LoopKind::QuasiSteady) {
            parts.push("cdu_loops");
        }
        if self.facility.states.is_none() {
            parts.push("facility_water");
        }
        parts
    }
}

impl CampusModel {
    /// Energy stored in the liquid volumes, J (from 0 °C).
    pub fn stored_heat_j(&self, y: &[f64]) -> f64 {
        let racks: f64 = self.racks.iter().map(|r| r.node.stored_j(y[r.state])).sum();
        let pipes: f64 = self
            .loops
            .iter()
            .map(|l| match &l.kind {
                LoopKind::Dynamic {
                    supply_state, pipe, ..
                } => pipe.stored_j(y[*supply_state]),
                LoopKind::QuasiSteady => 0.0,
            })
            .sum();
        let f = &self.facility;
        let facility = f
            .states
            .map_or(0.0, |s| f.supply.stored_j(y[s.supply]) + f.ret.stored_j(y[s.ret]));
        racks + pipes + facility
    }

    /// Where the dynamic parts sit in the state vector.
    pub fn layout(&self) -> StateLayout {
        StateLayout {
            len: self.state_len,
            tallies: self.tally_state,
            battery_soc: self.soc_state,
            facility: self.facility.states.map(|s| [s.supply, s.ret]),
            loops: self
                .loops
                .iter()
                .filter_map(|l| match (&l.kind, l.cdu_number) {
                    (
                        LoopKind::Dynamic {
                            supply_state, racks, ..
                        },
                        Some(cdu),
                    ) => Some(LoopStates {
                        hall: l.hall,
                        cdu,
                        supply: *supply_state,
                        racks: self.racks[racks.clone()].iter().map(|r| r.state).collect(),
                    }),
                    _ => None,
                })
                .collect(),
        }
    }

    /// Totals since the start of the state, in J, kg and GPU-seconds.
    pub fn tallies(&self, y: &[f64]) -> Tallies {
        let mut t = Tallies::default();
        for (i, v) in t.0.iter_mut().enumerate() {
            *v = y[self.tally_state + i] * self.tally_scale.0[i];
        }
        t
    }
}

#[cfg(test)]
mod tests;
