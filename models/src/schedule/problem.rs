//! The problem file: halls, facility, grid, battery, generators, jobs and risk.
//!
//! Field names and meanings follow `docs/optimizer-formulation.md` exactly. Power is in
//! kW, energy in kWh, prices per MWh, time in slots of `slot_minutes`.

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::series::{self, Series};
use crate::{Error, Problems, Result};

/// Tolerance on the sum of scenario probabilities.
pub const PROBABILITY_SUM_TOLERANCE: f64 = 1e-6;

/// Most slots in a problem: a leap year of 15-minute slots.
pub const MAX_SLOTS: usize = 366 * 96;
/// Most (job, hall, slot) cells in a problem: thirteen times 1,000 jobs × 4 halls × 96
/// slots, the largest benchmark (about a minute to solve); a problem past this would not
/// fit a planning cycle.
pub const MAX_CELLS: usize = 5_000_000;
/// Largest magnitude of a number in a problem: the solver takes 1e20 as infinity and
/// loses precision long before; no power, energy or price of a campus comes near 1e15.
pub const MAX_MAGNITUDE: f64 = 1e15;

/// One scheduling problem: everything the optimizer needs for one horizon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleProblem {
    /// Start of slot 0 (RFC 3339, UTC); used to time-stamp the plan.
    pub start: DateTime<Utc>,
    /// Length of one slot in minutes; `Δ = slot_minutes / 60` hours.
    pub slot_minutes: u32,
    /// Number of slots in the horizon.
    pub slots: usize,
    /// The data halls, each a pool of identical GPUs behind one cooling plant.
    pub halls: Vec<Hall>,
    /// Facility overhead on top of IT power.
    pub facility: Facility,
    /// The utility interconnect: import limit, prices, carbon.
    pub grid: Grid,
    /// The on-site battery; absent means no battery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery: Option<Battery>,
    /// On-site generators; absent means none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub generators: Vec<Generator>,
    /// The training jobs to schedule.
    pub jobs: Vec<Job>,
    /// Weight of the price-risk (CVaR) term; absent means weight 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<Risk>,
}

/// A data hall: GPUs of one kind and the cooling capacity that serves them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hall {
    /// Unique name that jobs refer to.
    pub id: String,
    /// Number of GPUs installed.
    pub gpus: u32,
    /// Power of an idle GPU with its share of host, kW; idle GPUs draw it in every slot.
    pub idle_kw_per_gpu: f64,
    /// Host, network and fans per busy GPU on top of the GPU's own power, kW.
    pub aux_kw_per_busy_gpu: f64,
    /// Lowest GPU power cap the hardware accepts, kW per GPU.
    pub min_cap_kw: f64,
    /// Highest GPU power cap (the default TDP), kW per GPU.
    pub max_cap_kw: f64,
    /// Points (power cap kW per GPU, relative throughput) with rising power; concave,
    /// starting at `min_cap_kw` and ending at (`max_cap_kw`, 1.0).
    pub throughput_curve: Vec<[f64; 2]>,
    /// Heat the cooling plant can reject, kW of IT load; a number or one per slot
    /// (it follows the weather).
    pub cooling_capacity_kw: Series,
}

/// Facility power on top of IT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Facility {
    /// Cooling and distribution overhead as a fraction of IT power (PUE − 1 without the
    /// fixed part); a number or one per slot.
    pub overhead_fraction: Series,
    /// Constant facility load (offices, lighting, controls), kW.
    pub fixed_kw: f64,
    /// Extension: the largest change of total IT power from one slot to the next, kW;
    /// absent means no limit (the baseline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ramp_limit_kw_per_slot: Option<f64>,
}

/// The utility interconnect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    /// Largest import, kW; a number or one per slot (a demand-response window lowers it).
    pub import_limit_kw: Series,
    /// Charge on the horizon's peak import, per kW.
    pub demand_charge_per_kw: f64,
    /// Energy price scenarios; their probabilities sum to 1.
    pub price_scenarios: Vec<PriceScenario>,
    /// Carbon intensity of imported energy, kg per MWh; a number or one per slot.
    pub carbon_kg_per_mwh: Series,
    /// Price of carbon, per tonne.
    pub carbon_price_per_t: f64,
}

/// One price scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceScenario {
    /// Probability of the scenario, in [0, 1].
    pub probability: f64,
    /// Energy price per MWh, one per slot (a single number holds for every slot); may be
    /// negative.
    pub price_per_mwh: Series,
}

/// The on-site battery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Battery {
    /// Usable energy capacity, kWh.
    pub energy_kwh: f64,
    /// Largest charge or discharge power, kW.
    pub power_kw: f64,
    /// Fraction of charging power stored, in (0, 1].
    pub charge_efficiency: f64,
    /// Fraction of stored energy delivered on discharge, in (0, 1].
    pub discharge_efficiency: f64,
    /// State of charge at the start, fraction of `energy_kwh`.
    pub soc_initial: f64,
    /// Lowest state of charge, fraction of `energy_kwh`.
    pub soc_min: f64,
    /// Highest state of charge, fraction of `energy_kwh`.
    pub soc_max: f64,
}

/// An on-site generator (gas turbine or engine).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generator {
    /// Unique name.
    pub id: String,
    /// Largest output, kW.
    pub max_kw: f64,
    /// Largest change of output from one slot to the next, kW.
    pub ramp_kw_per_slot: f64,
    /// Output just before slot 0, kW.
    pub initial_kw: f64,
    /// Fuel and running cost per MWh produced.
    pub cost_per_mwh: f64,
    /// Carbon emitted per MWh produced, kg.
    pub carbon_kg_per_mwh: f64,
}

/// A training job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    /// Unique name.
    pub id: String,
    /// Most GPUs the job can use at once.
    pub max_gpus: u32,
    /// Work to do, in GPU-hours at full power (relative throughput 1.0).
    pub work_gpu_hours: f64,
    /// First slot the job may run in.
    pub release_slot: usize,
    /// The job may run in slots before this one; at most `slots`.
    pub deadline_slot: usize,
    /// Cost of each GPU-hour of work left undone at the deadline.
    pub unmet_penalty_per_gpu_hour: f64,
    /// Halls the job may run in; absent or empty means any hall.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub halls: Vec<String>,
    /// Extension: the job runs on exactly `max_gpus` GPUs or none in each slot (makes
    /// the problem a MILP); absent means elastic (the baseline).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rigid: bool,
}

/// The price-risk term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    /// CVaR level α in [0, 1): the mean cost of the worst 1 − α of scenarios.
    pub cvar_alpha: f64,
    /// Weight λ in [0, 1] of the CVaR against the expected cost.
    pub weight: f64,
}

impl ScheduleProblem {
    /// Reads, parses and validates a problem file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = crate::files::read_text(path)?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// Parses and validates a problem from JSON text; `file` names it in errors.
    pub fn from_json(text: &str, file: &str) -> Result<Self> {
        let problem = Self::parse_json(text, file)?;
        let mut p = problem.validate();
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
            magnitudes(&value, "", &mut p);
        }
        p.into_result(file)?;
        Ok(problem)
    }

    /// Parses JSON text without validating it; a syntax or type error names the field
    /// path, the line and the column.
    pub fn parse_json(text: &str, file: &str) -> Result<Self> {
        let mut de = serde_json::Deserializer::from_str(text);
        let problem = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            if path == "." {
                Error::parse(file, e.into_inner())
            } else {
                Error::parse(file, format!("{path}: {}", e.into_inner()))
            }
        })?;
        // One problem a file: anything after it is a mistake (two files pasted together).
        de.end()
            .map_err(|e| Error::parse(file, format!("after the problem's closing brace: {e}")))?;
        Ok(problem)
    }

    /// Slot length in hours, `Δ`.
    pub fn slot_hours(&self) -> f64 {
        f64::from(self.slot_minutes) / 60.0
    }

    /// Index of the hall named `id`.
    pub fn hall_index(&self, id: &str) -> Option<usize> {
        self.halls.iter().position(|h| h.id == id)
    }

    /// Indices of the halls job `j` may use, in the order of `halls`.
    pub fn job_halls(&self, j: usize) -> Vec<usize> {
        let job = &self.jobs[j];
        if job.halls.is_empty() {
            (0..self.halls.len()).collect()
        } else {
            (0..self.halls.len())
                .filter(|&h| job.halls.iter().any(|id| *id == self.halls[h].id))
                .collect()
        }
    }

    /// The risk weight λ (0 when `risk` is absent).
    pub fn risk_weight(&self) -> f64 {
        self.risk.as_ref().map_or(0.0, |r| r.weight)
    }

    /// True when any extension field is used (rigid jobs, IT ramp limit).
    pub fn uses_extensions(&self) -> bool {
        self.jobs.iter().any(|j| j.rigid) || self.facility.ramp_limit_kw_per_slot.is_some()
    }

    /// Checks every rule of the formulation page and returns every problem found, each
    /// with its field path.
    pub fn validate(&self) -> Problems {
        let mut p = Problems::new();
        p.check(self.slot_minutes > 0, "slot_minutes", "must be > 0");
        p.check(
            (1..=MAX_SLOTS).contains(&self.slots),
            "slots",
            format!(
                "must be from 1 to {MAX_SLOTS} (a year of 15-minute slots), got {}",
                self.slots
            ),
        );
        let cells = self
            .jobs
            .len()
            .saturating_mul(self.halls.len())
            .saturating_mul(self.slots);
        if self.slots > MAX_SLOTS || cells > MAX_CELLS {
            p.check(
                cells <= MAX_CELLS,
                "slots",
                format!(
                    "{} jobs × {} halls × {} slots is {cells} cells, more than the {MAX_CELLS} a problem may have",
                    self.jobs.len(),
                    self.halls.len(),
                    self.slots
                ),
            );
            // The rest would walk series of that length: stop at the size.
            return p;
        }
        p.check(!self.halls.is_empty(), "halls", "must list at least one hall");
        unique_ids(&mut p, "halls", self.halls.iter().map(|h| h.id.as_str()));
        for (i, hall) in self.halls.iter().enumerate() {
            hall.validate(&mut p, &format!("halls[{i}]"), self.slots);
        }
        self.facility.validate(&mut p, self.slots);
        self.grid.validate(&mut p, self.slots);
        if let Some(battery) = &self.battery {
            battery.validate(&mut p);
        }
        unique_ids(
            &mut p,
            "generators",
            self.generators.iter().map(|g| g.id.as_str()),
        );
        for (i, g) in self.generators.iter().enumerate() {
            g.validate(&mut p, &format!("generators[{i}]"));
        }
        unique_ids(&mut p, "jobs", self.jobs.iter().map(|j| j.id.as_str()));
        for (i, job) in self.jobs.iter().enumerate() {
            job.validate(&mut p, &format!("jobs[{i}]"), self);
        }
        if let Some(risk) = &self.risk {
            p.check(
                risk.cvar_alpha.is_finite() && (0.0..1.0).contains(&risk.cvar_alpha),
                "risk.cvar_alpha",
                format!("must be within [0, 1), got {}", risk.cvar_alpha),
            );
            p.within("risk.weight", risk.weight, 0.0, 1.0);
        }
        p
    }
}

/// Every number of `value` beyond [`MAX_MAGNITUDE`], by its path.
fn magnitudes(value: &serde_json::Value, path: &str, p: &mut Problems) {
    use serde_json::Value;
    match value {
        Value::Number(n) => {
            if let Some(x) = n.as_f64().filter(|x| x.abs() > MAX_MAGNITUDE) {
                p.push(
                    if path.is_empty() { "." } else { path },
                    format!("{x:e} is beyond ±{MAX_MAGNITUDE:e}, more than the solver can hold exactly"),
                );
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                magnitudes(item, &format!("{path}[{i}]"), p);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let at = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                magnitudes(item, &at, p);
            }
        }
        _ => {}
    }
}

fn unique_ids<'a>(p: &mut Problems, list: &str, ids: impl Iterator<Item = &'a str>) {
    let mut seen = HashSet::new();
    for (i, id) in ids.enumerate() {
        if id.is_empty() {
            p.push(format!("{list}[{i}].id"), "must not be empty");
        } else if !seen.insert(id) {
            p.push(format!("{list}[{i}].id"), format!("\"{id}\" is used twice"));
        }
    }
}

impl Hall {
    fn validate(&self, p: &mut Problems, path: &str, slots: usize) {
        p.check(self.gpus > 0, format!("{path}.gpus"), "must be > 0");
        p.non_negative(format!("{path}.idle_kw_per_gpu"), self.idle_kw_per_gpu);
        p.non_negative(format!("{path}.aux_kw_per_busy_gpu"), self.aux_kw_per_busy_gpu);
        p.non_negative(format!("{path}.min_cap_kw"), self.min_cap_kw);
        p.positive(format!("{path}.max_cap_kw"), self.max_cap_kw);
        if self.min_cap_kw.is_finite() && self.max_cap_kw.is_finite() {
            p.check(
                self.min_cap_kw < self.max_cap_kw,
                format!("{path}.max_cap_kw"),
                format!(
                    "must be > min_cap_kw ({}), got {}",
                    self.min_cap_kw, self.max_cap_kw
                ),
            );
        }
        self.validate_curve(p, &format!("{path}.throughput_curve"));
        self.cooling_capacity_kw.validate(
            p,
            &format!("{path}.cooling_capacity_kw"),
            slots,
            series::non_negative,
        );
    }

    fn validate_curve(&self, p: &mut Problems, path: &str) {
        let curve = &self.throughput_curve;
        if curve.len() < 2 {
            p.push(path, format!("must have at least 2 points, got {}", curve.len()));
            return;
        }
        let mut finite = true;
        for (k, [power, throughput]) in curve.iter().enumerate() {
            if !(power.is_finite() && throughput.is_finite() && *throughput >= 0.0) {
                p.push(
                    format!("{path}[{k}]"),
                    format!("must be finite with throughput >= 0, got [{power}, {throughput}]"),
                );
                finite = false;
            }
        }
        if !finite {
            return;
        }
        let tol = 1e-9;
        let first = curve[0];
        let last = curve[curve.len() - 1];
        p.check(
            (first[0] - self.min_cap_kw).abs() <= tol,
            format!("{path}[0]"),
            format!(
                "first point's power must equal min_cap_kw ({}), got {}",
                self.min_cap_kw, first[0]
            ),
        );
        p.check(
            (last[0] - self.max_cap_kw).abs() <= tol && (last[1] - 1.0).abs() <= tol,
            format!("{path}[{}]", curve.len() - 1),
            format!(
                "last point must be (max_cap_kw, 1.0) = ({}, 1.0), got ({}, {})",
                self.max_cap_kw, last[0], last[1]
            ),
        );
        let mut previous_slope = f64::INFINITY;
        for k in 0..curve.len() - 1 {
            let [p0, f0] = curve[k];
            let [p1, f1] = curve[k + 1];
            if p1 <= p0 {
                p.push(
                    format!("{path}[{}]", k + 1),
                    format!("power must rise from point to point, got {p1} after {p0}"),
                );
                return;
            }
            let slope = (f1 - f0) / (p1 - p0);
            if slope > previous_slope + tol {
                p.push(
                    format!("{path}[{}]", k + 1),
                    format!(
                        "curve must be concave: slope {slope:.6} per kW after point {k} exceeds the slope {previous_slope:.6} before it"
                    ),
                );
            }
            previous_slope = slope;
        }
    }

    /// Segments `(a_k, b_k)` of the throughput curve: throughput `a_k·p + b_k` on
    /// segment k.
    pub fn segments(&self) -> Vec<(f64, f64)> {
        self.throughput_curve
            .windows(2)
            .map(|w| {
                let ([p0, f0], [p1, f1]) = (w[0], w[1]);
                let a = (f1 - f0) / (p1 - p0);
                (a, f0 - a * p0)
            })
            .collect()
    }

    /// Relative throughput of one GPU at power cap `cap_kw` (the concave curve, which is
    /// the minimum of its segment lines, and never above 1).
    pub fn throughput_at(&self, cap_kw: f64) -> f64 {
        self.segments()
            .iter()
            .map(|(a, b)| a * cap_kw + b)
            .fold(1.0, f64::min)
    }
}

impl Facility {
    fn validate(&self, p: &mut Problems, slots: usize) {
        self.overhead_fraction
            .validate(p, "facility.overhead_fraction", slots, series::non_negative);
        p.non_negative("facility.fixed_kw", self.fixed_kw);
        if let Some(ramp) = self.ramp_limit_kw_per_slot {
            p.positive("facility.ramp_limit_kw_per_slot", ramp);
        }
    }
}

impl Grid {
    fn validate(&self, p: &mut Problems, slots: usize) {
        self.import_limit_kw
            .validate(p, "grid.import_limit_kw", slots, series::non_negative);
        p.non_negative("grid.demand_charge_per_kw", self.demand_charge_per_kw);
        self.carbon_kg_per_mwh
            .validate(p, "grid.carbon_kg_per_mwh", slots, series::non_negative);
        p.non_negative("grid.carbon_price_per_t", self.carbon_price_per_t);
        if self.price_scenarios.is_empty() {
            p.push("grid.price_scenarios", "must list at least one scenario");
            return;
        }
        let mut total = 0.0;
        for (s, scenario) in self.price_scenarios.iter().enumerate() {
            let path = format!("grid.price_scenarios[{s}]");
            p.within(format!("{path}.probability"), scenario.probability, 0.0, 1.0);
            total += scenario.probability;
            scenario
                .price_per_mwh
                .validate(p, &format!("{path}.price_per_mwh"), slots, series::finite);
        }
        if total.is_finite() {
            p.check(
                (total - 1.0).abs() <= PROBABILITY_SUM_TOLERANCE,
                "grid.price_scenarios",
                format!("probabilities must sum to 1 (within 1e-6), they sum to {total}"),
            );
        }
    }
}

impl Battery {
    fn validate(&self, p: &mut Problems) {
        p.positive("battery.energy_kwh", self.energy_kwh);
        p.non_negative("battery.power_kw", self.power_kw);
        for (name, v) in [
            ("charge_efficiency", self.charge_efficiency),
            ("discharge_efficiency", self.discharge_efficiency),
        ] {
            p.check(
                v.is_finite() && v > 0.0 && v <= 1.0,
                format!("battery.{name}"),
                format!("must be within (0, 1], got {v}"),
            );
        }
        p.within("battery.soc_min", self.soc_min, 0.0, 1.0);
        p.within("battery.soc_max", self.soc_max, 0.0, 1.0);
        p.within("battery.soc_initial", self.soc_initial, 0.0, 1.0);
        if self.soc_min.is_finite() && self.soc_max.is_finite() && self.soc_initial.is_finite() {
            p.check(
                self.soc_min <= self.soc_max,
                "battery.soc_max",
                format!("must be >= soc_min ({}), got {}", self.soc_min, self.soc_max),
            );
            p.check(
                self.soc_min <= self.soc_initial && self.soc_initial <= self.soc_max,
                "battery.soc_initial",
                format!(
                    "must be within [soc_min, soc_max] = [{}, {}], got {}",
                    self.soc_min, self.soc_max, self.soc_initial
                ),
            );
        }
    }
}

impl Generator {
    fn validate(&self, p: &mut Problems, path: &str) {
        p.non_negative(format!("{path}.max_kw"), self.max_kw);
        p.non_negative(format!("{path}.ramp_kw_per_slot"), self.ramp_kw_per_slot);
        if self.max_kw.is_finite() {
            p.within(format!("{path}.initial_kw"), self.initial_kw, 0.0, self.max_kw);
        }
        p.finite(format!("{path}.cost_per_mwh"), self.cost_per_mwh);
        p.non_negative(format!("{path}.carbon_kg_per_mwh"), self.carbon_kg_per_mwh);
    }
}

impl Job {
    fn validate(&self, p: &mut Problems, path: &str, problem: &ScheduleProblem) {
        p.check(self.max_gpus > 0, format!("{path}.max_gpus"), "must be > 0");
        p.non_negative(format!("{path}.work_gpu_hours"), self.work_gpu_hours);
        p.non_negative(
            format!("{path}.unmet_penalty_per_gpu_hour"),
            self.unmet_penalty_per_gpu_hour,
        );
        if self.release_slot >= self.deadline_slot {
            p.push(
                format!("{path}.deadline_slot"),
                format!(
                    "window is empty: deadline_slot ({}) must be > release_slot ({})",
                    self.deadline_slot, self.release_slot
                ),
            );
        } else if self.deadline_slot > problem.slots {
            p.push(
                format!("{path}.deadline_slot"),
                format!("must be <= slots ({}), got {}", problem.slots, self.deadline_slot),
            );
        }
        let mut seen = HashSet::new();
        for (k, hall) in self.halls.iter().enumerate() {
            if problem.hall_index(hall).is_none() {
                p.push(format!("{path}.halls[{k}]"), format!("unknown hall \"{hall}\""));
            } else if !seen.insert(hall.as_str()) {
                p.push(
                    format!("{path}.halls[{k}]"),
                    format!("hall \"{hall}\" is listed twice"),
                );
            }
        }
        if self.rigid {
            let largest = self
                .halls
                .iter()
                .filter_map(|id| problem.hall_index(id))
                .chain(if self.halls.is_empty() {
                    0..problem.halls.len()
                } else {
                    0..0
                })
                .map(|h| u64::from(problem.halls[h].gpus))
                .sum::<u64>();
            p.check(
                u64::from(self.max_gpus) <= largest || largest == 0,
                format!("{path}.max_gpus"),
                format!(
                    "a rigid job needs exactly max_gpus ({}) GPUs but its halls hold {largest}",
                    self.max_gpus
                ),
            );
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn valid() -> ScheduleProblem {
        ScheduleProblem::from_json(
            r#"{ "start": "2026-07-01T00:00:00Z", "slot_minutes": 15, "slots": 3,
              "halls": [{ "id": "a", "gpus": 8, "idle_kw_per_gpu": 0.1, "aux_kw_per_busy_gpu": 0.2,
                          "min_cap_kw": 0.2, "max_cap_kw": 0.7,
                          "throughput_curve": [[0.2, 0.5], [0.5, 0.9], [0.7, 1.0]],
                          "cooling_capacity_kw": 10.0 }],
              "facility": { "overhead_fraction": 0.1, "fixed_kw": 1.0 },
              "grid": { "import_limit_kw": [20.0, 20.0, 15.0], "demand_charge_per_kw": 0.0,
                        "price_scenarios": [{ "probability": 1.0, "price_per_mwh": [40, -5, 90] }],
                        "carbon_kg_per_mwh": 300.0, "carbon_price_per_t": 0.0 },
              "jobs": [{ "id": "j", "max_gpus": 8, "work_gpu_hours": 1.0, "release_slot": 0,
                         "deadline_slot": 3, "unmet_penalty_per_gpu_hour": 5.0 }] }"#,
            "t.json",
        )
        .unwrap()
    }

    /// The text of [`valid`] with `from` replaced by `to`.
    fn valid_text_with(from: &str, to: &str) -> String {
        let text = serde_json::to_string(&valid()).unwrap();
        assert!(text.contains(from), "{from} is not in {text}");
        text.replacen(from, to, 1)
    }

    #[test]
    fn a_2_kb_problem_with_ten_million_slots_is_refused_by_its_size_not_an_allocation() {
        for slots in ["10000000", "100000"] {
            let text = valid_text_with("\"slots\":3", &format!("\"slots\":{slots}"));
            let err = ScheduleProblem::from_json(&text, "big.json")
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("big.json") && err.contains("slots: must be from 1 to 35136"),
                "{err}"
            );
        }
    }

    #[test]
    fn values_near_1e19_are_refused_naming_the_field() {
        let text = valid_text_with("\"fixed_kw\":1.0", "\"fixed_kw\":1e19");
        let err = ScheduleProblem::from_json(&text, "t.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("facility.fixed_kw: 1e19 is beyond"), "{err}");
    }

    #[test]
    fn trailing_content_after_the_problem_is_refused() {
        let text = serde_json::to_string(&valid()).unwrap();
        for tail in ["{}", "x", "]"] {
            let err = ScheduleProblem::from_json(&format!("{text}\n{tail}"), "t.json")
                .unwrap_err()
                .to_string();
            assert!(err.contains("after the problem's closing brace"), "{tail}: {err}");
        }
        assert!(ScheduleProblem::from_json(&format!("{text}\n\n"), "t.json").is_ok());
    }

    #[test]
    fn every_broken_rule_is_reported_with_its_path() {
        let mut p = valid();
        p.halls[0].cooling_capacity_kw = Series::PerSlot(vec![10.0, f64::NAN, -1.0]);
        p.halls[0].throughput_curve = vec![[0.2, 0.5], [0.4, 0.6], [0.7, 1.0]];
        p.grid.price_scenarios.push(PriceScenario {
            probability: 0.5,
            price_per_mwh: Series::Constant(30.0),
        });
        p.jobs[0].halls = vec!["b".into()];
        p.jobs[0].deadline_slot = 4;
        p.battery = Some(Battery {
            energy_kwh: 10.0,
            power_kw: 5.0,
            charge_efficiency: 1.5,
            discharge_efficiency: 0.9,
            soc_initial: 0.05,
            soc_min: 0.1,
            soc_max: 0.9,
        });
        let text = p.validate().to_string();
        for needle in [
            "halls[0].cooling_capacity_kw[1]: must be a finite number >= 0, got NaN",
            "halls[0].cooling_capacity_kw[2]: must be a finite number >= 0, got -1",
            "halls[0].throughput_curve[2]: curve must be concave",
            "grid.price_scenarios: probabilities must sum to 1 (within 1e-6), they sum to 1.5",
            "jobs[0].halls[0]: unknown hall \"b\"",
            "jobs[0].deadline_slot: must be <= slots (3), got 4",
            "battery.charge_efficiency: must be within (0, 1], got 1.5",
            "battery.soc_initial: must be within [soc_min, soc_max]",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
    }

    #[test]
    fn throughput_follows_the_concave_curve() {
        let hall = &valid().halls[0];
        assert!((hall.throughput_at(0.2) - 0.5).abs() < 1e-12);
        assert!((hall.throughput_at(0.35) - 0.7).abs() < 1e-12);
        assert!((hall.throughput_at(0.7) - 1.0).abs() < 1e-12);
    }
}
