//! The campus's measurable points: what a real campus's sensors would read, named by the
//! point-id grammar of `models::telemetry` (`hall-a/rack-0007/power_kw`), sampled from
//! a model's state.
//!
//! Per hall, in order: every rack's power and coolant outlet temperature, every CDU's
//! secondary supply, return and flow, pump speed, primary flow and primary return, and the
//! hall's feeder power; then the plant, the grid and the weather. At hall resolution the
//! racks and CDUs of a lumped loop all read the lumped values.

use super::eval::LoopTotals;
use super::*;

/// Values per rack.
const RACK_POINTS: [&str; 2] = ["power_kw", "outlet_temp_c"];
/// Values per CDU.
const CDU_POINTS: [&str; 6] = [
    "tcs_supply_temp_c",
    "tcs_return_temp_c",
    "tcs_flow_l_per_min",
    "pump_speed_frac",
    "primary_flow_l_per_min",
    "primary_return_temp_c",
];
/// Plant, grid and weather values, after the halls.
const CAMPUS_POINTS: [&str; 14] = [
    "plant/fw_supply_temp_c",
    "plant/fw_return_temp_c",
    "plant/fw_flow_l_per_min",
    "plant/tower/fan_speed_frac",
    "plant/chillers/power_kw",
    "plant/cooling/power_kw",
    "grid/import_kw",
    "grid/facility/power_kw",
    "grid/solar/power_kw",
    "grid/battery/power_kw",
    "grid/battery/soc_frac",
    "grid/engines/power_kw",
    "weather/dry_bulb_temp_c",
    "weather/wet_bulb_temp_c",
];

/// Names the campus's points once, then samples their values from any state.
#[derive(Debug, Clone, PartialEq)]
pub struct PointSampler {
    names: Vec<String>,
    /// Index of each hall's first value.
    hall_base: Vec<usize>,
    /// Index of the first campus-wide value.
    campus_base: usize,
}

impl PointSampler {
    /// The points of `model`'s campus.
    pub fn new(model: &CampusModel) -> Self {
        let mut names = Vec::new();
        let mut hall_base = Vec::new();
        for hall in &model.halls {
            hall_base.push(names.len());
            for r in 1..=hall.racks {
                names.extend(
                    RACK_POINTS
                        .iter()
                        .map(|p| format!("{}/rack-{r:04}/{p}", hall.name)),
                );
            }
            for k in 1..=hall.cdus {
                names.extend(CDU_POINTS.iter().map(|p| format!("{}/cdu-{k:02}/{p}", hall.name)));
            }
            names.push(format!("{}/feeder/power_kw", hall.name));
        }
        let campus_base = names.len();
        names.extend(CAMPUS_POINTS.iter().map(|p| (*p).to_string()));
        PointSampler {
            names,
            hall_base,
            campus_base,
        }
    }

    /// Point ids, in the order of the sampled values.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The point ids parsed, in the same order (every name the sampler makes follows
    /// the point grammar; an error here is a bug in the sampler's naming).
    pub fn point_ids(&self) -> Result<Vec<models::telemetry::PointId>, models::telemetry::PointIdError> {
        self.names
            .iter()
            .map(|n| models::telemetry::PointId::parse(n))
            .collect()
    }

    /// Writes every point's value at state `y` under `inputs` into `values` (resized to
    /// the number of points), in canonical units (kW, °C, L/min, fractions).
    pub fn sample(&self, model: &CampusModel, y: &[f64], inputs: &Inputs, values: &mut Vec<f64>) {
        values.clear();
        values.resize(self.names.len(), 0.0);
        let snapshot = model.evaluate(y, inputs, None);
        let mut feeder_w = vec![0.0; model.halls.len()];
        for (i, l) in model.loops.iter().enumerate() {
            let hall = &model.halls[l.hall];
            let load = inputs.hall_loads[l.hall];
            let pump_frac = inputs.pump_flow_frac[i];
            let mut totals = LoopTotals::default();
            let r = match &l.kind {
                LoopKind::Dynamic {
                    supply_state,
                    pipe,
                    racks,
                } => model.dynamic_loop(
                    l,
                    hall,
                    load,
                    pump_frac,
                    &model.racks[racks.clone()],
                    *supply_state,
                    *pipe,
                    snapshot.facility_supply_c,
                    y,
                    None,
                    &mut totals,
                ),
                LoopKind::QuasiSteady => {
                    model.steady_loop(l, hall, load, pump_frac, snapshot.facility_supply_c, &mut totals)
                }
            };
            feeder_w[l.hall] += totals.it_w;
            let base = self.hall_base[l.hall];
            let density_tcs = hall.tcs_density;
            let cdu_values = [
                r.supply_c,
                r.return_c,
                kg_per_s_to_l_per_min(r.flow_kg_per_s, density_tcs),
                hall.cdu.pump.speed_frac(r.flow_kg_per_s),
                kg_per_s_to_l_per_min(r.cdu.primary_kg_per_s, model.facility.density),
                r.cdu.hx.cold_out_c,
            ];
            let mut slots = match &l.kind {
                LoopKind::Dynamic { racks, .. } => model.racks[racks.clone()].iter(),
                LoopKind::QuasiSteady => [].iter(),
            };
            for &k in &l.cdus {
                let cdu_base =
                    base + RACK_POINTS.len() * hall.racks as usize + CDU_POINTS.len() * (k as usize - 1);
                values[cdu_base..cdu_base + CDU_POINTS.len()].copy_from_slice(&cdu_values);
                for rack in hall.first_rack_on(k)..hall.first_rack_on(k) + hall.racks_on(k) {
                    let at = base + RACK_POINTS.len() * (rack as usize - 1);
                    let (power_w, outlet_c) = match (r.lumped_rack, slots.next()) {
                        (Some(p), _) => (p.power_w, r.return_c),
                        (None, Some(slot)) => {
                            let u = (load.utilisation * slot.utilisation_factor).clamp(0.0, 1.0);
                            (
                                hall.rack.operate(u, load.cap_w, y[slot.state]).power_w,
                                y[slot.state],
                            )
                        }
                        (None, None) => (0.0, r.return_c),
                    };
                    values[at] = power_w / 1000.0;
                    values[at + 1] = outlet_c;
                }
            }
        }
        for (h, hall) in model.halls.iter().enumerate() {
            let at = self.hall_base[h]
                + RACK_POINTS.len() * hall.racks as usize
                + CDU_POINTS.len() * hall.cdus as usize;
            values[at] = feeder_w[h] / 1000.0;
        }
        let s = &snapshot;
        let campus = [
            s.facility_supply_c,
            s.facility_return_c,
            kg_per_s_to_l_per_min(s.facility_flow_kg_per_s, model.facility.density),
            s.tower.fan_speed_frac.max(s.dry_coolers.fan_speed_frac),
            s.chillers.power_w / 1000.0,
            s.rates[Tally::Cooling] / 1000.0,
            s.import_w / 1000.0,
            s.power.facility_w / 1000.0,
            s.solar_w / 1000.0,
            s.battery_w / 1000.0,
            s.soc,
            s.engines_w / 1000.0,
            inputs.weather.dry_bulb_c,
            inputs.weather.wet_bulb_c,
        ];
        values[self.campus_base..].copy_from_slice(&campus);
    }
}

fn kg_per_s_to_l_per_min(flow_kg_per_s: f64, density_kg_per_m3: f64) -> f64 {
    models::units::kg_per_s_to_l_per_min(flow_kg_per_s, density_kg_per_m3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::campus::Campus;

    #[test]
    fn every_rack_and_cdu_has_its_points_and_they_add_up() {
        let campus = Campus::example().unwrap();
        for resolution in [Resolution::Rack, Resolution::Hall] {
            let model = CampusModel::build(&campus, resolution, &[(1, 3)], 60.0).unwrap();
            let sampler = PointSampler::new(&model);
            let names = sampler.names();
            // 840 racks × 2 + 56 CDUs × 6 + 4 feeders + 14 campus points.
            assert_eq!(names.len(), 840 * 2 + 56 * 6 + 4 + 14);
            assert_eq!(names[0], "hall-a/rack-0001/power_kw");
            assert!(names.contains(&"hall-d/cdu-14/primary_return_temp_c".to_string()));
            let weather = campus.load_weather().unwrap();
            let inputs = super::super::tests::frozen_inputs(
                &model,
                &weather,
                "2026-07-15T12:00:00Z".parse().unwrap(),
                0.9,
            );
            let y = model.initial_state(0.9);
            let mut values = Vec::new();
            sampler.sample(&model, &y, &inputs, &mut values);
            assert!(values.iter().all(|v| v.is_finite()));
            // Each hall's feeder is the sum of its racks.
            for (h, hall) in ["hall-a", "hall-b", "hall-c", "hall-d"].iter().enumerate() {
                let racks: f64 = names
                    .iter()
                    .zip(&values)
                    .filter(|(n, _)| n.starts_with(&format!("{hall}/rack-")) && n.ends_with("/power_kw"))
                    .map(|(_, v)| v)
                    .sum();
                let feeder = values[names
                    .iter()
                    .position(|n| *n == format!("{hall}/feeder/power_kw"))
                    .unwrap()];
                assert!(
                    (racks - feeder).abs() < 1e-6 * feeder,
                    "{resolution:?} hall {h}: {racks} vs {feeder}"
                );
            }
        }
    }
}
