//! What a run reports: one record per output step and a summary.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::RunOptions;
use super::integrate::IntegrationStats;
use crate::campus::{CampusModel, Inputs, Resolution, Snapshot, Tallies, Tally};

/// One output step: powers averaged over the interval that ends at `time`, temperatures
/// and states at `time`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRecord {
    /// End of the interval (RFC 3339, UTC).
    pub time: String,
    /// IT power, kW.
    pub it_kw: f64,
    /// Cooling power (pumps, fans, chillers), kW.
    pub cooling_kw: f64,
    /// Electrical losses (distribution, UPS, transformers), kW.
    pub loss_kw: f64,
    /// Auxiliary loads (lighting, controls), kW.
    pub auxiliary_kw: f64,
    /// Facility power at the meter, kW.
    pub facility_kw: f64,
    /// Facility over IT energy in the interval.
    pub pue: f64,
    /// Grid import, kW.
    pub import_kw: f64,
    /// Import limit at `time`, kW.
    pub import_limit_kw: f64,
    /// Solar output used, kW.
    pub solar_kw: f64,
    /// Engine output, kW.
    pub engine_kw: f64,
    /// Battery power, positive discharging, kW.
    pub battery_kw: f64,
    /// Battery state of charge, fraction.
    pub battery_soc_frac: f64,
    /// Flow-weighted mean rack-loop supply, °C.
    pub tcs_supply_c: f64,
    /// Flow-weighted mean rack-loop return, °C.
    pub tcs_return_c: f64,
    /// Warmest rack-loop supply, °C.
    pub max_tcs_supply_c: f64,
    /// Facility water supply, °C.
    pub facility_supply_c: f64,
    /// Facility water return, °C.
    pub facility_return_c: f64,
    /// Hottest GPU die, °C.
    pub max_gpu_temp_c: f64,
    /// GPUs throttling at `time`.
    pub throttled_gpus: f64,
    /// GPUs shut down on over-temperature at `time`.
    pub down_gpus: f64,
    /// CDUs unable to hold their setpoint at `time`.
    pub saturated_cdus: f64,
    /// Dry bulb, °C.
    pub dry_bulb_c: f64,
    /// Wet bulb, °C.
    pub wet_bulb_c: f64,
    /// Tower or dry-cooler fan speed, fraction.
    pub fan_speed_frac: f64,
    /// Heat rejection mode.
    pub heat_rejection_mode: &'static str,
    /// Trim chillers running.
    pub chillers_on: u32,
    /// Trim-chiller power, kW.
    pub chiller_kw: f64,
    /// Water used in the interval (evaporation, blowdown, drift), L.
    pub water_l: f64,
}

impl StepRecord {
    /// The record of an interval of `interval_s` ending at `at`.
    pub fn new(at: DateTime<Utc>, interval_s: f64, s: &Snapshot, d: &Tallies, inputs: &Inputs) -> StepRecord {
        let mean_kw = |t: Tally| d[t] / interval_s / 1000.0;
        StepRecord {
            time: at.to_rfc3339_opts(SecondsFormat::Secs, true),
            it_kw: mean_kw(Tally::It),
            cooling_kw: mean_kw(Tally::Cooling),
            loss_kw: mean_kw(Tally::Loss),
            auxiliary_kw: mean_kw(Tally::Auxiliary),
            facility_kw: mean_kw(Tally::Facility),
            pue: ratio(d[Tally::Facility], d[Tally::It]),
            import_kw: mean_kw(Tally::Import),
            import_limit_kw: s.import_limit_w / 1000.0,
            solar_kw: mean_kw(Tally::Solar),
            engine_kw: mean_kw(Tally::Engine),
            battery_kw: s.battery_w / 1000.0,
            battery_soc_frac: s.soc,
            tcs_supply_c: s.tcs_supply_c,
            tcs_return_c: s.tcs_return_c,
            max_tcs_supply_c: s.max_tcs_supply_c,
            facility_supply_c: s.facility_supply_c,
            facility_return_c: s.facility_return_c,
            max_gpu_temp_c: s.max_gpu_temp_c,
            throttled_gpus: s.throttled_gpus,
            down_gpus: s.down_gpus,
            saturated_cdus: s.saturated_cdus,
            dry_bulb_c: inputs.weather.dry_bulb_c,
            wet_bulb_c: inputs.weather.wet_bulb_c,
            fan_speed_frac: s.tower.fan_speed_frac.max(s.dry_coolers.fan_speed_frac),
            heat_rejection_mode: s.mode.as_str(),
            chillers_on: s.chillers_on,
            chiller_kw: mean_kw(Tally::Chiller),
            water_l: d[Tally::Evaporation] + d[Tally::Blowdown] + d[Tally::Drift],
        }
    }
}

/// The result of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Campus name.
    pub campus: String,
    /// Loop resolution.
    pub resolution: Resolution,
    /// First instant (RFC 3339).
    pub start: String,
    /// Output step, s.
    pub step_s: f64,
    /// IT energy, kWh.
    pub it_energy_kwh: f64,
    /// Facility energy at the meter, kWh.
    pub facility_energy_kwh: f64,
    /// Cooling energy (pumps, fans, chillers), kWh.
    pub cooling_energy_kwh: f64,
    /// Electrical losses, kWh.
    pub loss_energy_kwh: f64,
    /// Auxiliary loads (lighting, controls), kWh.
    pub auxiliary_energy_kwh: f64,
    /// Trim-chiller energy, kWh.
    pub chiller_energy_kwh: f64,
    /// Facility over IT energy.
    pub pue: f64,
    /// Highest PUE of any output step.
    pub peak_pue: f64,
    /// Water used: evaporation, blowdown, drift, m³.
    pub water_m3: f64,
    /// Evaporation alone, m³.
    pub evaporation_m3: f64,
    /// Water per IT energy, L/kWh.
    pub wue_l_per_kwh: f64,
    /// Grid import, kWh.
    pub import_energy_kwh: f64,
    /// Highest grid import seen, kW.
    pub peak_import_kw: f64,
    /// Import above the limit, kWh.
    pub import_over_limit_kwh: f64,
    /// Solar energy used, kWh.
    pub solar_energy_kwh: f64,
    /// Solar energy curtailed (no export), kWh.
    pub solar_curtailed_kwh: f64,
    /// Engine output, kWh.
    pub engine_energy_kwh: f64,
    /// Engine fuel, kWh (LHV).
    pub engine_fuel_kwh: f64,
    /// Battery conversion losses, kWh.
    pub battery_loss_kwh: f64,
    /// CO₂ from import and engines, t.
    pub carbon_t: f64,
    /// Hottest GPU die seen, °C.
    pub max_gpu_temp_c: f64,
    /// GPU-hours spent throttling (shut-down GPUs included).
    pub throttled_gpu_hours: f64,
    /// GPU-hours lost to over-temperature shutdowns.
    pub shutdown_gpu_hours: f64,
    /// Training work done, in full-power GPU-hours.
    pub work_gpu_hours: f64,
    /// Time from the start to the first throttling GPU, s; null when none throttled.
    pub time_to_first_throttle_s: Option<f64>,
    /// Hours with at least one trim chiller running.
    pub chiller_hours: f64,
    /// Hours with at least one CDU unable to hold its setpoint.
    pub cooling_limited_hours: f64,
    /// |∫heat in − ∫heat out − Δstored| / ∫heat in over the cooling system.
    pub energy_balance_residual: f64,
    /// Simulated time, s.
    pub simulated_s: f64,
    /// Wall-clock time of the run, s.
    pub wall_s: f64,
    /// Simulated over wall-clock time.
    pub realtime_factor: f64,
    /// Racks resolved one by one.
    pub resolved_racks: usize,
    /// Parts solved as quasi-steady rather than integrated (`cdu_loops`, `facility_water`).
    pub quasi_steady: Vec<&'static str>,
    /// Length of the state vector.
    pub state_len: usize,
    /// Integrator counters.
    pub integration: IntegrationStats,
}

/// What a run keeps track of between records for its summary (totals at its start,
/// peaks, hours on chillers, the first throttle); saved with the run so that a resumed
/// run reports the whole of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tracker {
    start_tallies: Tallies,
    start_stored_j: f64,
    peak_import_w: f64,
    /// Hottest die seen; `None` before anything was seen (so that the saved form never
    /// holds an infinity, which JSON cannot).
    max_gpu_temp_c: Option<f64>,
    peak_pue: f64,
    chiller_s: f64,
    limited_s: f64,
    last_t_s: f64,
    pub(super) first_throttle_s: Option<f64>,
}

impl Tracker {
    pub(super) fn new(model: &CampusModel, y: &[f64]) -> Self {
        Tracker {
            start_tallies: model.tallies(y),
            start_stored_j: model.stored_heat_j(y),
            peak_import_w: 0.0,
            max_gpu_temp_c: None,
            peak_pue: 0.0,
            chiller_s: 0.0,
            limited_s: 0.0,
            last_t_s: 0.0,
            first_throttle_s: None,
        }
    }

    /// Takes in the plant at the end of a segment that lasted `segment_s`.
    pub(super) fn observe(&mut self, s: &Snapshot, t_s: f64) {
        let segment_s = t_s - self.last_t_s;
        self.last_t_s = t_s;
        self.peak_import_w = self.peak_import_w.max(s.import_w);
        self.max_gpu_temp_c = Some(
            self.max_gpu_temp_c
                .map_or(s.max_gpu_temp_c, |m| m.max(s.max_gpu_temp_c)),
        );
        if s.chillers_on > 0 {
            self.chiller_s += segment_s;
        }
        if s.saturated_cdus > 0.0 {
            self.limited_s += segment_s;
        }
    }

    /// Takes in an output record.
    pub(super) fn record(&mut self, r: &StepRecord) {
        self.peak_pue = self.peak_pue.max(r.pue);
    }

    pub(super) fn summary(
        &self,
        model: &CampusModel,
        y: &[f64],
        o: &RunOptions,
        integration: IntegrationStats,
        wall_s: f64,
    ) -> Summary {
        let d = model.tallies(y) - self.start_tallies;
        let kwh = |t: Tally| d[t] / 3.6e6;
        let water_kg = d[Tally::Evaporation] + d[Tally::Blowdown] + d[Tally::Drift];
        let stored_change_j = model.stored_heat_j(y) - self.start_stored_j;
        Summary {
            campus: model.name.clone(),
            resolution: model.resolution,
            start: o.start.to_rfc3339_opts(SecondsFormat::Secs, true),
            step_s: o.step_s,
            it_energy_kwh: kwh(Tally::It),
            facility_energy_kwh: kwh(Tally::Facility),
            cooling_energy_kwh: kwh(Tally::Cooling),
            loss_energy_kwh: kwh(Tally::Loss),
            auxiliary_energy_kwh: kwh(Tally::Auxiliary),
            chiller_energy_kwh: kwh(Tally::Chiller),
            pue: ratio(d[Tally::Facility], d[Tally::It]),
            peak_pue: self.peak_pue,
            water_m3: water_kg / 1000.0,
            evaporation_m3: d[Tally::Evaporation] / 1000.0,
            wue_l_per_kwh: ratio(water_kg, kwh(Tally::It)),
            import_energy_kwh: kwh(Tally::Import),
            peak_import_kw: self.peak_import_w / 1000.0,
            import_over_limit_kwh: kwh(Tally::OverLimit),
            solar_energy_kwh: kwh(Tally::Solar),
            solar_curtailed_kwh: kwh(Tally::Curtailed),
            engine_energy_kwh: kwh(Tally::Engine),
            engine_fuel_kwh: kwh(Tally::EngineFuel),
            battery_loss_kwh: kwh(Tally::BatteryLoss),
            carbon_t: d[Tally::Carbon] / 1000.0,
            max_gpu_temp_c: self.max_gpu_temp_c.unwrap_or(f64::NEG_INFINITY),
            throttled_gpu_hours: d[Tally::Throttled] / 3600.0,
            shutdown_gpu_hours: d[Tally::Down] / 3600.0,
            work_gpu_hours: d[Tally::Work] / 3600.0,
            time_to_first_throttle_s: self.first_throttle_s,
            chiller_hours: self.chiller_s / 3600.0,
            cooling_limited_hours: self.limited_s / 3600.0,
            energy_balance_residual: ratio(
                (d[Tally::HeatIn] - d[Tally::HeatOut] - stored_change_j).abs(),
                d[Tally::HeatIn],
            ),
            simulated_s: o.duration_s,
            wall_s,
            realtime_factor: o.duration_s / wall_s.max(1e-9),
            resolved_racks: model.racks.len(),
            quasi_steady: model.quasi_steady_parts(),
            state_len: model.state_len,
            integration,
        }
    }
}

/// `a / b`, or 0 when `b` is 0.
fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}
