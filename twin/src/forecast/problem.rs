//! The optimizer's problem from the twin's physics: each hall's cooling capacity slot by
//! slot, the linearised facility overhead, the grid, battery and engines.

use chrono::{DateTime, Utc};
use models::campus::{Campus, Gpu};
use models::schedule::{Battery, Facility, Generator, Grid, Hall, PriceScenario, ScheduleProblem, Series};
use models::weather::{Weather, WeatherSample};

use super::condition::PlantCondition;
use crate::campus::{CampusModel, ControlState, HallSnapshot, Inputs, Snapshot};
use crate::cooling::tower::AirIn;
use crate::error::{Error, Result};
use crate::grid::engine::EngineState;
use crate::it::gpu::GpuModel;
use crate::it::load::HallLoad;

/// Utilisation at which the facility overhead is linearised: the twin's default load
/// (`LoadSpec::default`), what a busy training campus runs at, so that the linearisation
/// is exact where the plan most often puts the plant.
pub const TYPICAL_UTILISATION: f64 = 0.9;

/// Halvings of the utilisation interval in the capacity search: 2⁻²⁰ ≈ 1e-6 of the
/// hall's load range, about 10 W per MW.
pub const CAPACITY_BISECTIONS: u32 = 20;

/// Energy price of the placeholder scenario, per MWh: the caller replaces the scenarios
/// (the twin knows no prices).
pub const PLACEHOLDER_PRICE_PER_MWH: f64 = 0.0;

/// Fuel price for the engines' running cost, per MWh of fuel (LHV): a placeholder of the
/// order of US industrial gas prices (about 5 $/MMBtu ≈ 17 $/MWh), since the campus file
/// carries no fuel price; the caller replaces the generators' costs where it knows them.
pub const PLACEHOLDER_FUEL_PRICE_PER_MWH: f64 = 17.0;

/// Passes of the supervisory controls before an evaluation: each stages the chillers the
/// plant with the previous pass's chillers still needs, which settles in two or three.
const SUPERVISE_PASSES: usize = 5;

/// Control period handed to the supervisor in the search, s: short, so that no chiller
/// stages down (that waits 600 s) while the search raises them to what the load needs.
const SUPERVISE_DT_S: f64 = 1.0;

/// The campus in steady state under one slot's weather, with its degraded loops: what
/// the capacity search and the overhead's linearisation evaluate.
///
/// Every evaluation sets all halls to one utilisation with GPUs at TDP, lets the
/// supervisory controls settle (economiser mode, chillers staged to the load), and
/// evaluates the quasi-steady plant ([`CampusModel::build_quasi_steady`]): lumped loops
/// and facility water at their steady state, degraded loops resolved rack by rack (their
/// racks keep the shares of flow and load the run gives them) and at their steady state.
#[derive(Debug)]
pub struct SteadyPlant {
    model: CampusModel,
    pump_flow_frac: Vec<f64>,
    y: Vec<f64>,
    halls: Vec<HallSnapshot>,
    chillers: u32,
}

impl SteadyPlant {
    /// The campus with the condition's degraded loops at their flow fraction.
    pub fn new(campus: &Campus, condition: &PlantCondition) -> Result<SteadyPlant> {
        let degraded = condition.resolve(campus)?;
        let named: Vec<(usize, u32)> = degraded.iter().map(|&(h, k, _)| (h, k)).collect();
        let model = CampusModel::build_quasi_steady(campus, &named)?;
        let mut pump_flow_frac = vec![1.0_f64; model.loops.len()];
        for (h, k, frac) in degraded {
            if let Some(i) = model
                .loops
                .iter()
                .position(|l| l.hall == h && l.cdu_number == Some(k))
            {
                pump_flow_frac[i] = pump_flow_frac[i].min(frac);
            }
        }
        let mut y = model.initial_state(TYPICAL_UTILISATION);
        if let (Some(i), Some(soc)) = (model.soc_state, condition.battery_soc_frac) {
            y[i] = soc;
        }
        Ok(SteadyPlant {
            halls: vec![HallSnapshot::EMPTY; model.halls.len()],
            chillers: model.chillers.map_or(0, |(_, n)| n),
            model,
            pump_flow_frac,
            y,
        })
    }

    /// The model evaluated.
    pub fn model(&self) -> &CampusModel {
        &self.model
    }

    /// The plant with every hall at `utilisation` and GPUs at TDP under `weather`, and
    /// each hall's part.
    pub fn evaluate(&mut self, weather: &WeatherSample, utilisation: f64) -> (Snapshot, &[HallSnapshot]) {
        let model = &self.model;
        let mut inputs = Inputs {
            air: AirIn::from_weather(weather),
            weather: *weather,
            hall_loads: model
                .halls
                .iter()
                .map(|h| HallLoad {
                    utilisation,
                    cap_w: h.rack.gpu.tdp_w,
                })
                .collect(),
            pump_flow_frac: self.pump_flow_frac.clone(),
            failed_tower_fans: 0,
            controls: ControlState::default(),
            import_limit_w: model.import_limit_w,
            solar_w: 0.0,
        };
        let mut engines = vec![EngineState::default(); model.dispatcher.engines.len()];
        for _ in 0..SUPERVISE_PASSES {
            let before = (inputs.controls.mode, inputs.controls.chillers_on);
            model.supervise(&self.y, &mut inputs, &mut engines, self.chillers, SUPERVISE_DT_S);
            if (inputs.controls.mode, inputs.controls.chillers_on) == before {
                break;
            }
        }
        let snapshot = model.evaluate_halls(&self.y, &inputs, &mut self.halls);
        (snapshot, &self.halls)
    }

    /// Each hall's cooling capacity under `weather`, kW: the largest IT power of the hall
    /// at which none of its GPUs throttles and each of its CDUs holds its supply setpoint,
    /// with the other halls at the same utilisation. Found by bisection on the
    /// utilisation with GPUs at TDP; a hall that fits at full load gets its full-load IT
    /// power (the capacity does not bind).
    ///
    /// The capacity is the IT power of the problem's hall model at the utilisation found
    /// ([`Self::hall_it_kw`]: idle and busy GPUs at TDP with their hosts), so that in the
    /// problem the bound means exactly "no more busy GPUs at TDP than the plant can cool".
    /// That is the twin's own IT power there, but for a degraded loop, resolved rack by
    /// rack, whose racks' spread of load moves the twin's figure by a fraction of a
    /// percent. It is never below the hall's idle power, which idle GPUs draw whatever a
    /// plan does: a hall that does not fit even idle (a loop without flow, facility water
    /// too warm for any CDU to hold its setpoint) gets that, and the forecast shows what
    /// happens.
    pub fn cooling_capacity_kw(&mut self, weather: &WeatherSample) -> Vec<f64> {
        let n = self.model.halls.len();
        let mut fit_u = vec![1.0; n];
        let mut open = Vec::new();
        let (_, full) = self.evaluate(weather, 1.0);
        for (h, s) in full.iter().enumerate() {
            if !fits(s) {
                open.push(h);
            }
        }
        let (mut lo, mut hi) = (vec![0.0; n], vec![1.0; n]);
        for _ in 0..if open.is_empty() { 0 } else { CAPACITY_BISECTIONS } {
            // Halls with the same interval (identical halls) share each evaluation.
            for (u, group) in groups(&open, |h| 0.5 * (lo[h] + hi[h])) {
                let (_, halls) = self.evaluate(weather, u);
                for h in group {
                    if fits(&halls[h]) {
                        lo[h] = u;
                    } else {
                        hi[h] = u;
                    }
                }
            }
        }
        for &h in &open {
            fit_u[h] = lo[h];
        }
        (0..n).map(|h| self.hall_it_kw(h, fit_u[h])).collect()
    }

    /// IT power of hall `h` with every rack at `utilisation` and GPUs at TDP, kW, as the
    /// problem counts it: `idle·(gpus − busy) + busy·(TDP + aux)` with `busy = u·gpus`.
    pub fn hall_it_kw(&self, h: usize, utilisation: f64) -> f64 {
        self.model.halls.get(h).map_or(0.0, |hall| {
            let rack = &hall.rack;
            let gpu_w = rack.gpu.demand_w(utilisation, rack.gpu.tdp_w);
            f64::from(hall.racks) * (rack.gpus * gpu_w + rack.host_w(utilisation)) / 1000.0
        })
    }

    /// The facility power that does not depend on IT load, kW: auxiliary loads (lighting,
    /// controls) and the electrical chain's no-load losses (transformer cores, UPS). It is
    /// also independent of the weather, so it is the problem's constant `fixed_kw`.
    pub fn fixed_kw(&self) -> f64 {
        self.model.power.evaluate(0.0, 0.0).facility_w / 1000.0
    }

    /// The overhead fraction of the linearisation `facility = (1 + overhead)·IT + fixed`
    /// under `weather`: with every hall at [`TYPICAL_UTILISATION`], the twin's facility
    /// power less [`Self::fixed_kw`] and IT, over IT. It is exact at that load; cooling,
    /// losses and pumps that do not scale with IT (constant-flow pumps, the square law of
    /// losses) make it a little high below it and a little low above.
    pub fn overhead_fraction(&mut self, weather: &WeatherSample) -> f64 {
        let fixed_w = 1000.0 * self.fixed_kw();
        let (s, _) = self.evaluate(weather, TYPICAL_UTILISATION);
        let it_w = s.power.it_w;
        if it_w > 0.0 {
            ((s.power.facility_w - fixed_w - it_w) / it_w).max(0.0)
        } else {
            0.0
        }
    }
}

/// A hall fits its load when none of its GPUs throttles and each of its CDUs holds its
/// setpoint.
fn fits(h: &HallSnapshot) -> bool {
    h.throttled_gpus == 0.0 && h.saturated_cdus == 0.0
}

/// The halls of `open` grouped by `key` (equal keys together), in order of first seen.
fn groups(open: &[usize], key: impl Fn(usize) -> f64) -> Vec<(f64, Vec<usize>)> {
    let mut out: Vec<(f64, Vec<usize>)> = Vec::new();
    for &h in open {
        let k = key(h);
        match out.iter_mut().find(|(u, _)| u.to_bits() == k.to_bits()) {
            Some((_, g)) => g.push(h),
            None => out.push((k, vec![h])),
        }
    }
    out
}

/// A GPU's throughput curve as the problem wants it: points (power cap kW, relative
/// throughput) from the lowest cap to (TDP, 1.0), concave.
///
/// The campus gives the curve in fractions of TDP, starting at or below the lowest cap
/// and ending at [1.0, 1.0] (campus validation checks that, and concavity). Knots below
/// the lowest cap are dropped and one is put at it, read off the twin's own curve (which
/// extends its first segment below its first knot): GB200's 0.15 of TDP becomes 200 W at
/// 0.35. A knot on the straight line between its neighbours is dropped too (GB200's 0.3
/// of TDP): it adds a segment to the optimizer's problem and nothing to the curve. A knot
/// below that line would be dropped to keep the curve concave (the upper hull then
/// overstates throughput there by at most the knot's distance below the line); none of
/// the catalog's curves has one.
pub fn throughput_curve_kw(gpu: &Gpu) -> Vec<[f64; 2]> {
    let model = GpuModel::from_spec(gpu);
    let tdp_kw = gpu.tdp_w / 1000.0;
    let min_frac = (gpu.min_cap_w / gpu.tdp_w).clamp(0.0, 1.0);
    let mut knots = vec![[min_frac, model.relative_throughput(min_frac)]];
    knots.extend(
        gpu.throughput_curve
            .iter()
            .filter(|[c, _]| *c > min_frac + 1e-12 && *c < 1.0 - 1e-12)
            .copied(),
    );
    knots.push([1.0, 1.0]);
    // The upper concave hull, left to right: a knot on or below the chord from the one
    // before it to the next is dropped.
    let mut hull: Vec<[f64; 2]> = Vec::with_capacity(knots.len());
    for p in knots {
        while let [.., a, b] = hull[..] {
            let cross = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
            if cross >= -1e-12 {
                hull.pop();
            } else {
                break;
            }
        }
        hull.push(p);
    }
    let mut curve: Vec<[f64; 2]> = hull.iter().map(|[c, f]| [c * tdp_kw, *f]).collect();
    // The ends exactly as the problem checks them, free of the fraction's round trip.
    if let Some(first) = curve.first_mut() {
        first[0] = gpu.min_cap_w / 1000.0;
    }
    if let Some(last) = curve.last_mut() {
        *last = [tdp_kw, 1.0];
    }
    curve
}

/// The optimizer's problem for `slots` slots of `slot_minutes` from `start`, its per-slot
/// inputs computed by the twin at the weather of each slot's midpoint, with the plant in
/// `condition`:
///
/// - one hall per campus hall: its GPUs (racks × GPUs per rack); an idle GPU's power
///   with its share of the host's idle power (`idle_w + host_idle/GPUs per rack`); per
///   busy GPU its share of the host at full load (`host_max/GPUs per rack`, which takes
///   the place of its idle share), so that `idle·(gpus − busy) + busy·(cap + aux)` is
///   exactly the twin's IT power at utilisation `busy/gpus` under cap `cap` (the twin's
///   host power is linear in utilisation between its idle and full-load figures); the caps from the GPU's lowest cap
///   to its TDP; the throughput curve of [`throughput_curve_kw`]; the cooling capacity of
///   [`SteadyPlant::cooling_capacity_kw`] per slot;
/// - the facility as [`SteadyPlant::overhead_fraction`] per slot and
///   [`SteadyPlant::fixed_kw`];
/// - the grid's import limit and carbon intensity from the campus (one value for every
///   slot; a campus file without a carbon intensity has the US average of 373 kg/MWh by
///   its own default, so there is always one); no demand charge, no carbon price;
/// - the battery from the campus, its initial charge the measured one when there is one
///   (held within its limits); one generator per engine bank (`engines-1`, …), its
///   largest output and its ramp over a slot from the bank's units, starting off (the
///   estimator does not see engines), its cost [`PLACEHOLDER_FUEL_PRICE_PER_MWH`] over
///   its efficiency;
/// - no jobs, a single flat price scenario at [`PLACEHOLDER_PRICE_PER_MWH`] and no risk
///   term: **the caller fills jobs, prices and risk** (and generator costs it knows).
///
/// Solar is not in the problem (the formulation has no term for it): the simulated plan
/// counts it, so its import is lower than the plan's by the solar output.
pub fn schedule_problem(
    campus: &Campus,
    weather: &Weather,
    start: DateTime<Utc>,
    slots: usize,
    slot_minutes: u32,
    condition: &PlantCondition,
) -> Result<ScheduleProblem> {
    if slots == 0 || slot_minutes == 0 {
        return Err(Error::Scenario(format!(
            "a schedule needs slots > 0 and slot_minutes > 0, got {slots} slots of {slot_minutes} minutes"
        )));
    }
    let spec = &campus.spec;
    let mut plant = SteadyPlant::new(campus, condition)?;
    let slot_s = 60 * i64::from(slot_minutes);
    let mut capacity_kw = vec![Vec::with_capacity(slots); spec.halls.len()];
    let mut overhead = Vec::with_capacity(slots);
    for t in 0..slots {
        // Slots are whole minutes, so their midpoints whole seconds.
        let mid = start + chrono::Duration::seconds(slot_s * t as i64 + slot_s / 2);
        let w = weather.sample(mid);
        for (h, c) in plant.cooling_capacity_kw(&w).into_iter().enumerate() {
            capacity_kw[h].push(c);
        }
        overhead.push(plant.overhead_fraction(&w));
    }
    let mut halls = Vec::with_capacity(spec.halls.len());
    for (hall, capacity) in spec.halls.iter().zip(capacity_kw) {
        let rack = &hall.rack;
        let gpu = &rack.gpu;
        let per_rack = f64::from(rack.gpus_per_rack);
        let gpus = hall
            .racks
            .checked_mul(rack.gpus_per_rack)
            .ok_or_else(|| Error::model(format!("halls.{}", hall.name), "more GPUs than a problem counts"))?;
        halls.push(Hall {
            id: hall.name.clone(),
            gpus,
            idle_kw_per_gpu: gpu.idle_w / 1000.0 + rack.host_idle_kw / per_rack,
            aux_kw_per_busy_gpu: rack.host_max_kw / per_rack,
            min_cap_kw: gpu.min_cap_w / 1000.0,
            max_cap_kw: gpu.tdp_w / 1000.0,
            throughput_curve: throughput_curve_kw(gpu),
            cooling_capacity_kw: Series::PerSlot(capacity),
        });
    }
    let grid = &spec.grid;
    let slot_h = slot_s as f64 / 3600.0;
    let problem = ScheduleProblem {
        start,
        slot_minutes,
        slots,
        halls,
        facility: Facility {
            overhead_fraction: Series::PerSlot(overhead),
            fixed_kw: plant.fixed_kw(),
            ramp_limit_kw_per_slot: None,
        },
        grid: Grid {
            import_limit_kw: Series::Constant(grid.import_limit_kw),
            demand_charge_per_kw: 0.0,
            price_scenarios: vec![PriceScenario {
                probability: 1.0,
                price_per_mwh: Series::Constant(PLACEHOLDER_PRICE_PER_MWH),
            }],
            carbon_kg_per_mwh: Series::Constant(grid.carbon_kg_per_mwh),
            carbon_price_per_t: 0.0,
        },
        battery: grid.battery.as_ref().map(|b| Battery {
            energy_kwh: b.energy_kwh,
            power_kw: b.power_kw,
            charge_efficiency: b.charge_efficiency,
            discharge_efficiency: b.discharge_efficiency,
            soc_initial: condition
                .battery_soc_frac
                .unwrap_or(b.soc_initial_frac)
                .clamp(b.soc_min_frac, b.soc_max_frac),
            soc_min: b.soc_min_frac,
            soc_max: b.soc_max_frac,
        }),
        generators: grid
            .engines
            .iter()
            .enumerate()
            .map(|(i, bank)| {
                let unit = &bank.unit;
                let max_kw = f64::from(bank.units) * unit.rated_kw;
                Generator {
                    id: format!("engines-{}", i + 1),
                    max_kw,
                    ramp_kw_per_slot: (f64::from(bank.units) * unit.ramp_kw_per_s * slot_h * 3600.0)
                        .min(max_kw),
                    initial_kw: 0.0,
                    cost_per_mwh: PLACEHOLDER_FUEL_PRICE_PER_MWH / unit.efficiency,
                    carbon_kg_per_mwh: unit.carbon_kg_per_mwh,
                }
            })
            .collect(),
        jobs: Vec::new(),
        risk: None,
    };
    problem.validate().into_result("schedule problem")?;
    Ok(problem)
}
