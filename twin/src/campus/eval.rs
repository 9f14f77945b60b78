//! The campus right-hand side: from the state and the inputs held over a step, every
//! component's operating point, the derivatives of the state, and a snapshot of the plant.
//!
//! The order follows the water: racks and their loops first (they need the facility
//! supply temperature, a state), then the facility return (it needs what the CDUs send
//! back), heat rejection and trim chillers (they need the return, a state), the power
//! chain (it needs every load) and the grid. Nothing here allocates or does I/O.

use models::weather::WeatherSample;

use super::*;
use crate::cooling::air::AirPoint;
use crate::cooling::cdu::CduPoint;
use crate::cooling::chiller::ChillerPoint;
use crate::cooling::dry_cooler::DryCoolerPoint;
use crate::cooling::tower::{AirIn, TowerPoint};
use crate::grid::dispatch::Dispatch;
use crate::it::load::HallLoad;
use crate::it::rack::RackPoint;
use crate::power::PowerPoint;
use crate::solve::illinois;

/// What is held constant over one integration segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// Weather at the segment start.
    pub weather: WeatherSample,
    /// The air entering towers and dry coolers.
    pub air: AirIn,
    /// Load of each hall.
    pub hall_loads: Vec<HallLoad>,
    /// Pump flow of each loop as a fraction of its control (1 normal, less when tripped).
    pub pump_flow_frac: Vec<f64>,
    /// Tower cells whose fan has failed.
    pub failed_tower_fans: u32,
    /// Supervisory decisions: mode, chillers on, dispatch.
    pub controls: ControlState,
    /// Import limit, W.
    pub import_limit_w: f64,
    /// Solar output available, W.
    pub solar_w: f64,
}

/// The plant at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Snapshot {
    /// Rates of every tally.
    pub rates: Tallies,
    /// The power chain.
    pub power: PowerPoint,
    /// Grid import, W.
    pub import_w: f64,
    /// Import limit, W.
    pub import_limit_w: f64,
    /// Solar output used, W.
    pub solar_w: f64,
    /// Battery power, positive discharging, W.
    pub battery_w: f64,
    /// Engine output, W.
    pub engines_w: f64,
    /// Battery state of charge, fraction (0 without a battery).
    pub soc: f64,
    /// Pumps of the rack loops, W.
    pub tcs_pumps_w: f64,
    /// Facility pumps, W.
    pub facility_pumps_w: f64,
    /// Flow-weighted mean loop supply (racks' inlet), °C.
    pub tcs_supply_c: f64,
    /// Flow-weighted mean loop return, °C.
    pub tcs_return_c: f64,
    /// Warmest loop supply, °C.
    pub max_tcs_supply_c: f64,
    /// Facility supply, °C.
    pub facility_supply_c: f64,
    /// Facility return, °C.
    pub facility_return_c: f64,
    /// Facility flow, kg/s.
    pub facility_flow_kg_per_s: f64,
    /// Hottest GPU die, °C.
    pub max_gpu_temp_c: f64,
    /// GPUs throttling.
    pub throttled_gpus: f64,
    /// GPUs shut down on over-temperature.
    pub down_gpus: f64,
    /// CDUs with their valve wide open and their setpoint missed.
    pub saturated_cdus: f64,
    /// Towers.
    pub tower: TowerPoint,
    /// Dry coolers.
    pub dry_coolers: DryCoolerPoint,
    /// Trim chillers.
    pub chillers: ChillerPoint,
    /// Residual air cooling.
    pub air: AirPoint,
    /// Heat rejection mode.
    pub mode: RejectionMode,
    /// Trim chillers running.
    pub chillers_on: u32,
}

/// One hall at one instant: the per-hall part of a [`Snapshot`], for reports that need
/// each hall (a forecast's headroom). Filled by [`CampusModel::evaluate_halls`], which is
/// called when a step is recorded, never by the integrator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HallSnapshot {
    /// IT power, W.
    pub it_w: f64,
    /// Hottest GPU die, °C.
    pub max_gpu_temp_c: f64,
    /// Warmest rack-loop supply, °C.
    pub max_tcs_supply_c: f64,
    /// GPUs throttling.
    pub throttled_gpus: f64,
    /// GPUs shut down on over-temperature.
    pub down_gpus: f64,
    /// CDUs with their valve wide open and their setpoint missed.
    pub saturated_cdus: f64,
    /// Training throughput in full-power GPU equivalents.
    pub work_gpus: f64,
}

impl HallSnapshot {
    /// Nothing summed yet: zero totals, maxima at −∞.
    pub const EMPTY: HallSnapshot = HallSnapshot {
        it_w: 0.0,
        max_gpu_temp_c: f64::NEG_INFINITY,
        max_tcs_supply_c: f64::NEG_INFINITY,
        throttled_gpus: 0.0,
        down_gpus: 0.0,
        saturated_cdus: 0.0,
        work_gpus: 0.0,
    };
}

impl Default for HallSnapshot {
    fn default() -> Self {
        HallSnapshot::EMPTY
    }
}

/// Sums over the CDU loops.
#[derive(Debug, Default)]
pub(super) struct LoopTotals {
    pub it_w: f64,
    liquid_heat_w: f64,
    air_heat_w: f64,
    pump_w: f64,
    work_gpus: f64,
    throttled_gpus: f64,
    down_gpus: f64,
    max_die_c: f64,
    primary_kg_per_s: f64,
    primary_enthalpy_w: f64,
    supply_flow_c: f64,
    return_flow_c: f64,
    flow_kg_per_s: f64,
    max_supply_c: f64,
    saturated: f64,
}

/// One loop's result, per loop (multiplied by its count when summed).
pub(super) struct LoopResult {
    pub flow_kg_per_s: f64,
    pub supply_c: f64,
    pub return_c: f64,
    pub pump_w: f64,
    pub cdu: CduPoint,
    /// A rack of a quasi-steady loop (all alike); `None` for a dynamic loop.
    pub lumped_rack: Option<RackPoint>,
    /// Hottest GPU die of the loop, °C.
    pub max_die_c: f64,
}

impl CampusModel {
    /// Derivatives of the state at `y` under `inputs`, written into `dy`.
    pub fn derivatives(&self, y: &[f64], inputs: &Inputs, dy: &mut [f64]) {
        self.evaluate(y, inputs, Some(dy));
    }

    /// The plant at `y` under `inputs`, and its derivatives when `dy` is given.
    pub fn evaluate(&self, y: &[f64], inputs: &Inputs, dy: Option<&mut [f64]>) -> Snapshot {
        self.evaluate_with(y, inputs, dy, None)
    }

    /// The plant at `y` under `inputs`, with each hall's part written into `halls` (one
    /// entry per hall, in campus order; entries past the last hall are left alone). Costs
    /// one evaluation; meant for recorded steps, not for the integrator.
    pub fn evaluate_halls(&self, y: &[f64], inputs: &Inputs, halls: &mut [HallSnapshot]) -> Snapshot {
        self.evaluate_with(y, inputs, None, Some(halls))
    }

    fn evaluate_with(
        &self,
        y: &[f64],
        inputs: &Inputs,
        mut dy: Option<&mut [f64]>,
        mut halls: Option<&mut [HallSnapshot]>,
    ) -> Snapshot {
        if let Some(s) = self.facility.states {
            return self.evaluate_at(y, inputs, y[s.supply], Some(y[s.ret]), dy, halls);
        }
        // Quasi-steady facility water: its supply temperature is where the plant's outlet
        // meets it. Heat rejection holds the setpoint when it can, so try that first; else
        // the outlet rises more slowly than the supply and the fixed point is a root.
        let setpoint_c = self.facility.supply_setpoint_c;
        let at_setpoint = self.evaluate_at(
            y,
            inputs,
            setpoint_c,
            None,
            dy.as_deref_mut(),
            halls.as_deref_mut(),
        );
        if at_setpoint.chillers.leaving_c <= setpoint_c + 1e-9 {
            return at_setpoint;
        }
        let excess = |t: f64| {
            self.evaluate_at(y, inputs, t, None, None, None)
                .chillers
                .leaving_c
                - t
        };
        let supply_c = illinois(excess, setpoint_c, setpoint_c + 100.0, 1e-9);
        self.evaluate_at(y, inputs, supply_c, None, dy, halls)
    }

    /// The plant with facility water supplied at `fw_supply_c` and, when it is a state,
    /// returned at `fw_return_state_c`; derivatives into `dy` when given, each hall's part
    /// into `halls` when given.
    fn evaluate_at(
        &self,
        y: &[f64],
        inputs: &Inputs,
        fw_supply_c: f64,
        fw_return_state_c: Option<f64>,
        mut dy: Option<&mut [f64]>,
        mut halls: Option<&mut [HallSnapshot]>,
    ) -> Snapshot {
        if let Some(h) = halls.as_deref_mut() {
            for s in h.iter_mut().take(self.halls.len()) {
                *s = HallSnapshot::EMPTY;
            }
        }
        let f = &self.facility;
        let mut totals = LoopTotals {
            max_die_c: f64::NEG_INFINITY,
            max_supply_c: f64::NEG_INFINITY,
            ..LoopTotals::default()
        };
        for (i, l) in self.loops.iter().enumerate() {
            let hall = &self.halls[l.hall];
            let load = inputs.hall_loads[l.hall];
            let pump_frac = inputs.pump_flow_frac[i];
            let before = (
                totals.it_w,
                totals.throttled_gpus,
                totals.down_gpus,
                totals.work_gpus,
            );
            let r = match &l.kind {
                LoopKind::Dynamic {
                    supply_state, racks, ..
                } if self.resolved_loops_steady => {
                    let slots = &self.racks[racks.clone()];
                    if let Some(dy) = dy.as_deref_mut() {
                        // Nothing of this loop evolves: its states are not used.
                        for s in slots {
                            dy[s.state] = 0.0;
                        }
                        dy[*supply_state] = 0.0;
                    }
                    self.resolved_steady_loop(
                        l,
                        hall,
                        load,
                        pump_frac,
                        slots,
                        *supply_state,
                        fw_supply_c,
                        None,
                        &mut totals,
                    )
                }
                LoopKind::Dynamic {
                    supply_state,
                    pipe,
                    racks,
                } => self.dynamic_loop(
                    l,
                    hall,
                    load,
                    pump_frac,
                    &self.racks[racks.clone()],
                    *supply_state,
                    *pipe,
                    fw_supply_c,
                    y,
                    dy.as_deref_mut(),
                    &mut totals,
                ),
                LoopKind::QuasiSteady => self.steady_loop(l, hall, load, pump_frac, fw_supply_c, &mut totals),
            };
            totals.pump_w += l.count * r.pump_w;
            totals.primary_kg_per_s += l.count * r.cdu.primary_kg_per_s;
            totals.primary_enthalpy_w += l.count * r.cdu.primary_kg_per_s * r.cdu.hx.cold_out_c;
            totals.flow_kg_per_s += l.count * r.flow_kg_per_s;
            totals.supply_flow_c += l.count * r.flow_kg_per_s * r.supply_c;
            totals.return_flow_c += l.count * r.flow_kg_per_s * r.return_c;
            totals.max_supply_c = totals.max_supply_c.max(r.supply_c);
            totals.max_die_c = totals.max_die_c.max(r.max_die_c);
            if r.cdu.saturated {
                totals.saturated += l.count;
            }
            if let Some(h) = halls.as_deref_mut().and_then(|h| h.get_mut(l.hall)) {
                h.it_w += totals.it_w - before.0;
                h.throttled_gpus += totals.throttled_gpus - before.1;
                h.down_gpus += totals.down_gpus - before.2;
                h.work_gpus += totals.work_gpus - before.3;
                h.max_gpu_temp_c = h.max_gpu_temp_c.max(r.max_die_c);
                h.max_tcs_supply_c = h.max_tcs_supply_c.max(r.supply_c);
                if r.cdu.saturated {
                    h.saturated_cdus += l.count;
                }
            }
        }

        // Facility return: CDU primaries, bypass to the minimum flow, air coils, pumps.
        let bypass_kg_per_s = (f.min_flow_kg_per_s - totals.primary_kg_per_s).max(0.0);
        let fw_flow = totals.primary_kg_per_s + bypass_kg_per_s;
        let mixed_c = (totals.primary_enthalpy_w + bypass_kg_per_s * fw_supply_c) / fw_flow;
        let air = self.air.evaluate(totals.air_heat_w, inputs.weather.dry_bulb_c);
        let fw_pump_w = f.pump.power_w(fw_flow);
        let return_heat_w = air.to_facility_water_w + fw_pump_w;
        // A quasi-steady return is the mixed stream warmed by the air coils and pumps.
        let fw_return_c = fw_return_state_c.unwrap_or(mixed_c + return_heat_w / (fw_flow * f.cp));

        // Heat rejection and trim.
        let c = &inputs.controls;
        let setpoint_c = f.supply_setpoint_c;
        let (tower, dry, after_rejection_c) = match (self.rejection, c.mode) {
            (RejectionModel::Towers(t), mode) if mode != RejectionMode::Mechanical => {
                let p = t.control(
                    fw_return_c,
                    fw_flow,
                    setpoint_c,
                    inputs.failed_tower_fans,
                    &inputs.air,
                );
                (p, DryCoolerPoint::default(), p.outlet_c)
            }
            (RejectionModel::DryCoolers(d), mode) if mode != RejectionMode::Mechanical => {
                let p = d.control(fw_return_c, fw_flow, setpoint_c, &inputs.air);
                (TowerPoint::default(), p, p.outlet_c)
            }
            _ => (TowerPoint::default(), DryCoolerPoint::default(), fw_return_c),
        };
        let chillers = match self.chillers {
            Some((chiller, _)) => chiller.trim(
                c.chillers_on,
                after_rejection_c,
                fw_flow * f.cp,
                setpoint_c,
                chiller.condenser_reference_c(inputs.weather.dry_bulb_c, inputs.weather.wet_bulb_c),
            ),
            None => ChillerPoint {
                leaving_c: after_rejection_c,
                ..ChillerPoint::default()
            },
        };
        let chiller_evaporation = match self.chillers {
            Some((ch, _)) if ch.condenser == models::campus::Condenser::Evaporative => {
                chillers.q_condenser_w / LATENT_HEAT_J_PER_KG
            }
            _ => 0.0,
        };

        // Electricity.
        let mechanical_w = totals.pump_w
            + fw_pump_w
            + tower.fan_w
            + dry.fan_w
            + chillers.power_w
            + air.fan_w
            + air.compressor_w;
        let power = self.power.evaluate(totals.it_w, mechanical_w);
        let d: Dispatch = c.dispatch;
        let net_w = power.facility_w - inputs.solar_w - d.battery_w - d.engines_w;
        let import_w = net_w.max(0.0);
        let curtailed_w = (-net_w).min(inputs.solar_w).max(0.0);
        let soc = self.soc_state.map_or(0.0, |i| y[i]);
        let battery_loss_w = self
            .dispatcher
            .battery
            .map_or(0.0, |b| b.balance_at(d.battery_w).loss_w());

        // Tallies.
        let mut rates = Tallies::default();
        rates[Tally::It] = totals.it_w;
        rates[Tally::Facility] = power.facility_w;
        rates[Tally::Cooling] = mechanical_w;
        rates[Tally::Loss] = power.loss_w();
        rates[Tally::Auxiliary] = power.auxiliary_w;
        rates[Tally::Import] = import_w;
        rates[Tally::OverLimit] = (import_w - inputs.import_limit_w).max(0.0);
        rates[Tally::Solar] = inputs.solar_w - curtailed_w;
        rates[Tally::Curtailed] = curtailed_w;
        rates[Tally::Engine] = d.engines_w;
        rates[Tally::EngineFuel] = d.engine_fuel_w;
        rates[Tally::BatteryLoss] = battery_loss_w;
        rates[Tally::Chiller] = chillers.power_w;
        rates[Tally::HeatIn] = totals.liquid_heat_w
            + totals.air_heat_w
            + totals.pump_w
            + fw_pump_w
            + air.fan_w
            + air.compressor_w
            + chillers.power_w;
        rates[Tally::HeatOut] = tower.q_w + dry.q_w + chillers.q_condenser_w + air.to_ambient_w;
        rates[Tally::Evaporation] =
            tower.evaporation_kg_per_s + dry.evaporation_kg_per_s + chiller_evaporation;
        rates[Tally::Blowdown] = tower.blowdown_kg_per_s;
        rates[Tally::Drift] = tower.drift_kg_per_s;
        rates[Tally::Carbon] = import_w * self.grid_carbon_kg_per_j + d.engine_carbon_kg_per_s;
        rates[Tally::Throttled] = totals.throttled_gpus;
        rates[Tally::Down] = totals.down_gpus;
        rates[Tally::Work] = totals.work_gpus;

        if let Some(dy) = dy {
            if let Some(s) = f.states {
                dy[s.ret] = f
                    .ret
                    .rate_k_per_s(fw_return_c, fw_flow * f.cp, mixed_c, return_heat_w);
                dy[s.supply] = f
                    .supply
                    .rate_k_per_s(fw_supply_c, fw_flow * f.cp, chillers.leaving_c, 0.0);
            }
            if let (Some(i), Some(b)) = (self.soc_state, &self.dispatcher.battery) {
                dy[i] = b.soc_rate_per_s(d.battery_w);
            }
            for (k, rate) in rates.0.iter().enumerate() {
                dy[self.tally_state + k] = rate / self.tally_scale.0[k];
            }
        }

        let flow = totals.flow_kg_per_s.max(f64::MIN_POSITIVE);
        Snapshot {
            rates,
            power,
            import_w,
            import_limit_w: inputs.import_limit_w,
            solar_w: inputs.solar_w - curtailed_w,
            battery_w: d.battery_w,
            engines_w: d.engines_w,
            soc,
            tcs_pumps_w: totals.pump_w,
            facility_pumps_w: fw_pump_w,
            tcs_supply_c: totals.supply_flow_c / flow,
            tcs_return_c: totals.return_flow_c / flow,
            max_tcs_supply_c: totals.max_supply_c,
            facility_supply_c: fw_supply_c,
            facility_return_c: fw_return_c,
            facility_flow_kg_per_s: fw_flow,
            max_gpu_temp_c: totals.max_die_c,
            throttled_gpus: totals.throttled_gpus,
            down_gpus: totals.down_gpus,
            saturated_cdus: totals.saturated,
            tower,
            dry_coolers: dry,
            chillers,
            air,
            mode: c.mode,
            chillers_on: c.chillers_on,
        }
    }

    /// Secondary flow of a loop under its pump control, kg/s.
    fn loop_flow(&self, l: &LoopModel, hall: &HallModel, pump_frac: f64, liquid_heat_per_loop_w: f64) -> f64 {
        let design = l.design_flow_kg_per_s;
        let controlled = match hall.delta_t_control_k {
            None => design,
            Some(dt) => {
                (liquid_heat_per_loop_w / (hall.tcs_cp * dt)).clamp(hall.min_flow_frac * design, design)
            }
        };
        controlled * pump_frac
    }

    /// A loop whose racks and piping are integrated in time.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn dynamic_loop(
        &self,
        l: &LoopModel,
        hall: &HallModel,
        load: HallLoad,
        pump_frac: f64,
        slots: &[RackSlot],
        supply_state: usize,
        pipe: ThermalNode,
        fw_supply_c: f64,
        y: &[f64],
        mut dy: Option<&mut [f64]>,
        totals: &mut LoopTotals,
    ) -> LoopResult {
        let rack = &hall.rack;
        let utilisation = |s: &RackSlot| (load.utilisation * s.utilisation_factor).clamp(0.0, 1.0);
        let liquid_heat_w = match hall.delta_t_control_k {
            Some(_) => slots
                .iter()
                .map(|s| {
                    rack.operate(utilisation(s), load.cap_w, y[s.state])
                        .heat_to_liquid_w
                })
                .sum(),
            None => 0.0,
        };
        let flow = self.loop_flow(l, hall, pump_frac, liquid_heat_w);
        let supply_c = y[supply_state];
        let mut return_flow_c = 0.0;
        let mut max_die_c = f64::NEG_INFINITY;
        for s in slots {
            let temp_c = y[s.state];
            let p = rack.operate(utilisation(s), load.cap_w, temp_c);
            let rack_flow = flow * s.flow_share;
            return_flow_c += rack_flow * temp_c;
            totals.it_w += p.power_w;
            totals.liquid_heat_w += p.heat_to_liquid_w;
            totals.air_heat_w += p.heat_to_air_w;
            totals.work_gpus += rack.gpus * p.gpu.throughput_frac;
            if p.gpu.throttled {
                totals.throttled_gpus += rack.gpus;
            }
            totals.down_gpus += rack.gpus * (1.0 - p.gpu.up_frac);
            max_die_c = max_die_c.max(p.gpu.die_temp_c);
            if let Some(dy) = dy.as_deref_mut() {
                dy[s.state] =
                    s.node
                        .rate_k_per_s(temp_c, rack_flow * hall.tcs_cp, supply_c, p.heat_to_liquid_w);
            }
        }
        let return_c = if flow > 0.0 {
            return_flow_c / flow
        } else {
            slots.iter().map(|s| y[s.state]).sum::<f64>() / slots.len() as f64
        };
        let cdu = hall.cdu.control(return_c, flow, fw_supply_c);
        let pump_w = hall.cdu.pump.power_w(flow);
        if let Some(dy) = dy {
            dy[supply_state] = pipe.rate_k_per_s(supply_c, flow * hall.tcs_cp, cdu.hx.hot_out_c, pump_w);
        }
        LoopResult {
            flow_kg_per_s: flow,
            supply_c,
            return_c,
            pump_w,
            cdu,
            lumped_rack: None,
            max_die_c,
        }
    }

    /// A lumped loop in its steady state: the CDU holds its setpoint if it can, else its
    /// valve is wide open and the loop settles where the exchanger carries the heat.
    pub(super) fn steady_loop(
        &self,
        l: &LoopModel,
        hall: &HallModel,
        load: HallLoad,
        pump_frac: f64,
        fw_supply_c: f64,
        totals: &mut LoopTotals,
    ) -> LoopResult {
        let rack = &hall.rack;
        let demand_heat_w = rack
            .operate(load.utilisation, load.cap_w, hall.cdu.supply_setpoint_c)
            .heat_to_liquid_w;
        let flow = self.loop_flow(l, hall, pump_frac, demand_heat_w * l.racks_per_loop);
        let loop_w_per_k = flow * hall.tcs_cp;
        let rack_w_per_k = loop_w_per_k / l.racks_per_loop;
        let pump_w = hall.cdu.pump.power_w(flow);
        let pump_rise_k = pump_w / loop_w_per_k;
        let setpoint_c = hall.cdu.supply_setpoint_c;

        let (mut return_c, mut point) = rack.steady(
            load.utilisation,
            load.cap_w,
            setpoint_c + pump_rise_k,
            rack_w_per_k,
        );
        let mut cdu = hall.cdu.control(return_c, flow, fw_supply_c);
        let mut supply_c = setpoint_c + pump_rise_k;
        if cdu.saturated {
            // Valve wide open: find the return temperature at which the loop balances.
            let max = hall.cdu.max_primary_kg_per_s;
            let through = |ret: f64| {
                let out = hall.cdu.exchange(ret, flow, fw_supply_c, max).hot_out_c;
                rack.steady(load.utilisation, load.cap_w, out + pump_rise_k, rack_w_per_k)
                    .0
                    - ret
            };
            return_c = illinois(through, fw_supply_c, fw_supply_c + 200.0, 1e-9);
            let hx = hall.cdu.exchange(return_c, flow, fw_supply_c, max);
            supply_c = hx.hot_out_c + pump_rise_k;
            point = rack
                .steady(load.utilisation, load.cap_w, supply_c, rack_w_per_k)
                .1;
            cdu = CduPoint {
                primary_kg_per_s: max,
                hx,
                saturated: true,
            };
        }
        let racks = l.count * l.racks_per_loop;
        totals.it_w += racks * point.power_w;
        totals.liquid_heat_w += racks * point.heat_to_liquid_w;
        totals.air_heat_w += racks * point.heat_to_air_w;
        totals.work_gpus += racks * rack.gpus * point.gpu.throughput_frac;
        if point.gpu.throttled {
            totals.throttled_gpus += racks * rack.gpus;
        }
        totals.down_gpus += racks * rack.gpus * (1.0 - point.gpu.up_frac);
        LoopResult {
            flow_kg_per_s: flow,
            supply_c,
            return_c,
            pump_w,
            cdu,
            lumped_rack: Some(point),
            max_die_c: point.gpu.die_temp_c,
        }
    }

    /// A resolved loop (its racks one by one, each with its share of the flow and of the
    /// load) in its steady state: where [`Self::dynamic_loop`] settles under held inputs.
    /// The piping's steady state puts the racks' inlet at the exchanger's outlet plus the
    /// pump's heat; the CDU holds its setpoint if it can, else its valve is wide open and
    /// the loop settles where the exchanger carries the heat, as in [`Self::steady_loop`].
    /// A loop without flow has no steady state but the limit: its racks warm until their
    /// GPUs are down and no heat leaves them. With `states`, the steady temperatures are
    /// written into that state vector (racks' coolant, loop piping).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn resolved_steady_loop(
        &self,
        l: &LoopModel,
        hall: &HallModel,
        load: HallLoad,
        pump_frac: f64,
        slots: &[RackSlot],
        supply_state: usize,
        fw_supply_c: f64,
        mut states: Option<&mut [f64]>,
        totals: &mut LoopTotals,
    ) -> LoopResult {
        let rack = &hall.rack;
        let cp = hall.tcs_cp;
        let setpoint_c = hall.cdu.supply_setpoint_c;
        let utilisation = |s: &RackSlot| (load.utilisation * s.utilisation_factor).clamp(0.0, 1.0);
        let demand_heat_w = match hall.delta_t_control_k {
            Some(_) => slots
                .iter()
                .map(|s| {
                    rack.operate(utilisation(s), load.cap_w, setpoint_c)
                        .heat_to_liquid_w
                })
                .sum(),
            None => 0.0,
        };
        let flow = self.loop_flow(l, hall, pump_frac, demand_heat_w);
        let pump_w = hall.cdu.pump.power_w(flow);
        let limit_c = rack.gpu.throttle_temp_c;
        // Steady rack outlet and operating point with the racks fed at `supply_c`.
        let rack_at = |s: &RackSlot, supply_c: f64| {
            if flow > 0.0 {
                rack.steady(utilisation(s), load.cap_w, supply_c, flow * s.flow_share * cp)
            } else {
                (limit_c, rack.operate(utilisation(s), load.cap_w, limit_c))
            }
        };
        let (supply_c, return_c, cdu) = if flow > 0.0 {
            let pump_rise_k = pump_w / (flow * cp);
            let return_at =
                |supply_c: f64| -> f64 { slots.iter().map(|s| s.flow_share * rack_at(s, supply_c).0).sum() };
            let supply_c = setpoint_c + pump_rise_k;
            let return_c = return_at(supply_c);
            let cdu = hall.cdu.control(return_c, flow, fw_supply_c);
            if cdu.saturated {
                let max = hall.cdu.max_primary_kg_per_s;
                let through = |ret: f64| {
                    return_at(hall.cdu.exchange(ret, flow, fw_supply_c, max).hot_out_c + pump_rise_k) - ret
                };
                let return_c = illinois(through, fw_supply_c, fw_supply_c + 200.0, 1e-9);
                let hx = hall.cdu.exchange(return_c, flow, fw_supply_c, max);
                let cdu = CduPoint {
                    primary_kg_per_s: max,
                    hx,
                    saturated: true,
                };
                (hx.hot_out_c + pump_rise_k, return_c, cdu)
            } else {
                (supply_c, return_c, cdu)
            }
        } else {
            (limit_c, limit_c, hall.cdu.control(limit_c, 0.0, fw_supply_c))
        };
        let mut max_die_c = f64::NEG_INFINITY;
        for s in slots {
            let (temp_c, p) = rack_at(s, supply_c);
            totals.it_w += p.power_w;
            totals.liquid_heat_w += p.heat_to_liquid_w;
            totals.air_heat_w += p.heat_to_air_w;
            totals.work_gpus += rack.gpus * p.gpu.throughput_frac;
            if p.gpu.throttled {
                totals.throttled_gpus += rack.gpus;
            }
            totals.down_gpus += rack.gpus * (1.0 - p.gpu.up_frac);
            max_die_c = max_die_c.max(p.gpu.die_temp_c);
            if let Some(y) = states.as_deref_mut() {
                y[s.state] = temp_c;
            }
        }
        if let Some(y) = states {
            y[supply_state] = supply_c;
        }
        LoopResult {
            flow_kg_per_s: flow,
            supply_c,
            return_c,
            pump_w,
            cdu,
            lumped_rack: None,
            max_die_c,
        }
    }

    /// Writes the steady state of every resolved (dynamic) loop that `which` picks into
    /// `y`, under `inputs` with facility water supplied at `fw_supply_c`: how a run that
    /// starts from a saved state fills in loops the saved run did not resolve.
    pub(crate) fn settle_resolved_loops(
        &self,
        y: &mut [f64],
        inputs: &Inputs,
        fw_supply_c: f64,
        mut which: impl FnMut(&LoopModel) -> bool,
    ) {
        let mut scratch = LoopTotals::default();
        for (i, l) in self.loops.iter().enumerate() {
            let LoopKind::Dynamic {
                supply_state, racks, ..
            } = &l.kind
            else {
                continue;
            };
            if !which(l) {
                continue;
            }
            self.resolved_steady_loop(
                l,
                &self.halls[l.hall],
                inputs.hall_loads[l.hall],
                inputs.pump_flow_frac[i],
                &self.racks[racks.clone()],
                *supply_state,
                fw_supply_c,
                Some(&mut *y),
                &mut scratch,
            );
        }
    }
}

/// Latent heat of evaporation of water near 30 °C, J/kg.
const LATENT_HEAT_J_PER_KG: f64 = 2.43e6;
