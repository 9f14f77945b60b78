//! What the live service forecasts and how well its forecasts did.
//!
//! A [`Forecast`] is the twin's simulation of the optimizer's plan from the estimated
//! state: per slot of the horizon the campus's powers, PUE, grid import against the limit,
//! battery, engines, solar, water and weather, and per hall its IT power, hottest GPU,
//! rack-loop supply and cooling headroom. [`accuracy`] scores issued forecasts against
//! the measurements that came in afterwards, per quantity and lead time.

pub mod accuracy;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One forecast of the campus over the horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Forecast {
    /// Number of the forecast, growing by one with each one issued by a service.
    pub id: u64,
    /// When it was made.
    pub issued_at: DateTime<Utc>,
    /// Start of the first slot.
    pub start: DateTime<Utc>,
    /// Slot length, minutes.
    pub slot_minutes: u32,
    /// What it was made from.
    pub inputs: ForecastInputs,
    /// The campus, slot by slot.
    pub slots: Vec<ForecastSlot>,
    /// Each hall, slot by slot.
    pub halls: Vec<HallForecast>,
}

/// What a forecast was made from, and what making it took.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ForecastInputs {
    /// Campus name.
    pub campus: String,
    /// Weather source: the campus's typical year, or a forecast file.
    pub weather: String,
    /// Price source: the built-in diurnal model, or a price file.
    pub prices: String,
    /// Jobs in the queue when the plan was made.
    pub jobs: usize,
    /// Time of the newest reading in the estimated state it started from; absent when no
    /// reading had arrived (the design state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_as_of: Option<DateTime<Utc>>,
    /// CDU loops whose estimated flow is below design, as `hall/cdu-NN` with the flow
    /// fraction the forecast runs them at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub degraded_loops: Vec<DegradedLoop>,
    /// Status of the plan simulated (`optimal`, `time_limit`, …).
    pub plan_status: String,
    /// Objective of the plan, in the prices' currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_objective: Option<f64>,
    /// Time the twin took to compute the problem's capacities, s.
    pub capacity_s: f64,
    /// Time the optimizer took, s.
    pub solve_s: f64,
    /// Time the twin took to simulate the plan, s.
    pub simulate_s: f64,
}

/// A CDU loop run below its design flow in a forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DegradedLoop {
    /// Hall name.
    pub hall: String,
    /// CDU number.
    pub cdu: u32,
    /// Flow as a fraction of design.
    pub flow_frac: f64,
}

/// The campus in one slot: powers are means over the slot, temperatures the highest in
/// it, the state of charge at its end.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ForecastSlot {
    /// Start of the slot.
    pub start: DateTime<Utc>,
    /// IT power, kW.
    pub it_kw: f64,
    /// Cooling power (pumps, fans, chillers), kW.
    pub cooling_kw: f64,
    /// Electrical losses (distribution, UPS, transformers), kW.
    pub loss_kw: f64,
    /// Auxiliary load (lighting, offices, controls), kW.
    #[serde(default)]
    pub auxiliary_kw: f64,
    /// Facility power at the meter: IT, cooling, losses and auxiliaries, kW.
    pub facility_kw: f64,
    /// Facility over IT energy.
    pub pue: f64,
    /// Grid import, kW.
    pub import_kw: f64,
    /// Import limit, kW.
    pub import_limit_kw: f64,
    /// Battery state of charge at the end of the slot, fraction.
    pub battery_soc_frac: f64,
    /// Engine output, kW.
    pub engine_kw: f64,
    /// Solar output used, kW.
    pub solar_kw: f64,
    /// Water used (evaporation, blowdown, drift), L.
    pub water_l: f64,
    /// Dry bulb, °C.
    pub dry_bulb_c: f64,
    /// Wet bulb, °C.
    pub wet_bulb_c: f64,
    /// Hottest GPU die, °C.
    pub max_gpu_temp_c: f64,
    /// Most GPUs throttling at once.
    pub throttled_gpus: f64,
}

/// One hall over the horizon, a value per slot.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HallForecast {
    /// Hall name.
    pub id: String,
    /// IT power, kW (mean over the slot).
    pub it_kw: Vec<f64>,
    /// Hottest GPU die, °C (highest in the slot).
    pub hottest_gpu_c: Vec<f64>,
    /// Warmest rack-loop supply, °C (highest in the slot).
    pub tcs_supply_c: Vec<f64>,
    /// Cooling capacity the weather allows, as IT power, kW.
    pub cooling_capacity_kw: Vec<f64>,
    /// Capacity less IT power, kW.
    pub cooling_headroom_kw: Vec<f64>,
}

impl Forecast {
    /// Start of slot `t`.
    pub fn slot_start(&self, t: usize) -> DateTime<Utc> {
        self.start + chrono::Duration::minutes(i64::from(self.slot_minutes) * t as i64)
    }
}
