//! Building a [`CampusModel`] from a validated campus.

use models::campus::{Campus, FlowControl};

use super::*;
use crate::error::{Error, Result};
use crate::grid::engine::EngineBankModel;

impl CampusModel {
    /// Builds the model at `resolution` for a run with output step `step_s`.
    /// `named_cdus` lists `(hall index, CDU number)` of CDUs that events act on; they are
    /// resolved rack by rack at any resolution.
    pub fn build(
        campus: &Campus,
        resolution: Resolution,
        named_cdus: &[(usize, u32)],
        step_s: f64,
    ) -> Result<CampusModel> {
        let spec = &campus.spec;
        let fw = &spec.facility_water;
        let fw_fluid = fw.fluid;
        let mut state = 0usize;
        let mut halls = Vec::new();
        let mut loops = Vec::new();
        let mut racks = Vec::new();
        let mut gpus = 0.0;
        let mut fw_design_kg_per_s = 0.0;
        for (h, hall) in spec.halls.iter().enumerate() {
            let at = format!("halls[{h}]");
            let rack = RackModel::from_spec(&hall.rack, hall.tcs.fluid);
            let cdu = CduModel::from_spec(&hall.cdu, hall.tcs.fluid, fw_fluid, hall.tcs.supply_temp_c.c())
                .map_err(|m| Error::model(format!("{at}.cdu"), m))?;
            gpus += f64::from(hall.racks) * rack.gpus;
            fw_design_kg_per_s += f64::from(hall.cdus) * cdu.max_primary_kg_per_s;
            let racks_on = |k: u32| hall.racks / hall.cdus + u32::from(k <= hall.racks % hall.cdus);
            let first_rack_of = |k: u32| (1..k).map(racks_on).sum::<u32>();
            let mut lumped_cdus = Vec::new();
            let mut lumped_racks = 0u32;
            for k in 1..=hall.cdus {
                let resolved = resolution == Resolution::Rack || named_cdus.contains(&(h, k));
                if !resolved {
                    lumped_cdus.push(k);
                    lumped_racks += racks_on(k);
                    continue;
                }
                let n = racks_on(k);
                let first = racks.len();
                for i in 0..n {
                    racks.push(RackSlot {
                        state,
                        flow_share: flow_share(i, n, hall.flow_imbalance_frac),
                        utilisation_factor: 1.0
                            + hall.utilisation_spread_frac * spread(h, first_rack_of(k) + i),
                        node: ThermalNode::new(rack.capacity_j_per_k),
                    });
                    state += 1;
                }
                let pipe_volume_m3 = hall.tcs.piping_volume_l_per_cdu / 1000.0;
                let fluid = hall.tcs.fluid;
                loops.push(LoopModel {
                    hall: h,
                    cdu_number: Some(k),
                    cdus: vec![k],
                    count: 1.0,
                    racks_per_loop: f64::from(n),
                    design_flow_kg_per_s: f64::from(n) * rack.design_flow_kg_per_s,
                    kind: LoopKind::Dynamic {
                        supply_state: state,
                        pipe: ThermalNode::of_volume(
                            pipe_volume_m3,
                            fluid.density_kg_per_m3(),
                            fluid.cp_j_per_kg_k(),
                        ),
                        racks: first..racks.len(),
                    },
                });
                state += 1;
            }
            if !lumped_cdus.is_empty() {
                let count = lumped_cdus.len() as f64;
                let per_loop = f64::from(lumped_racks) / count;
                loops.push(LoopModel {
                    hall: h,
                    cdu_number: None,
                    cdus: lumped_cdus,
                    count,
                    racks_per_loop: per_loop,
                    design_flow_kg_per_s: per_loop * rack.design_flow_kg_per_s,
                    kind: LoopKind::QuasiSteady,
                });
            }
            halls.push(HallModel {
                name: hall.name.clone(),
                rack,
                cdu,
                racks: hall.racks,
                cdus: hall.cdus,
                tcs_cp: hall.tcs.fluid.cp_j_per_kg_k(),
                tcs_density: hall.tcs.fluid.density_kg_per_m3(),
                delta_t_control_k: match hall.tcs.flow_control {
                    FlowControl::Constant => None,
                    FlowControl::DeltaT => Some(hall.tcs.design_delta_t_k.k()),
                },
                min_flow_frac: hall.tcs.min_flow_frac,
            });
        }
        let density = fw_fluid.density_kg_per_m3();
        let turnover_s = (fw.supply_volume_m3 + fw.return_volume_m3) * density / fw_design_kg_per_s;
        let facility_dynamic = resolution == Resolution::Rack || step_s < QUASI_STEADY_TURNOVERS * turnover_s;
        let facility_states = facility_dynamic.then(|| {
            state += 2;
            FacilityStates {
                supply: state - 2,
                ret: state - 1,
            }
        });
        let soc_state = spec.grid.battery.as_ref().map(|_| {
            state += 1;
            state - 1
        });
        let tally_state = state;
        state += Tally::COUNT;

        let cp = fw_fluid.cp_j_per_kg_k();
        let facility = FacilityModel {
            supply_setpoint_c: fw.supply_temp_c.c(),
            cp,
            density,
            pump: Pump::from_head(fw_design_kg_per_s, density, fw.pump_head_kpa, fw.pump_efficiency),
            min_flow_kg_per_s: fw.min_flow_frac * fw_design_kg_per_s,
            supply: ThermalNode::of_volume(fw.supply_volume_m3, density, cp),
            ret: ThermalNode::of_volume(fw.return_volume_m3, density, cp),
            states: facility_states,
        };
        let hr = &spec.heat_rejection;
        let rejection = match (&hr.cooling_towers, &hr.dry_coolers) {
            (Some(t), _) => RejectionModel::Towers(
                TowerBankModel::from_spec(t, cp)
                    .map_err(|m| Error::model("heat_rejection.cooling_towers", m))?,
            ),
            (None, Some(d)) => RejectionModel::DryCoolers(
                DryCoolerBankModel::from_spec(d, cp)
                    .map_err(|m| Error::model("heat_rejection.dry_coolers", m))?,
            ),
            (None, None) => RejectionModel::None,
        };
        let it_design_w = campus.it_design_kw() * 1000.0;
        let grid = &spec.grid;
        Ok(CampusModel {
            name: spec.site.name.clone(),
            resolution,
            halls,
            loops,
            racks,
            facility,
            rejection,
            chillers: hr
                .chillers
                .as_ref()
                .map(|c| (ChillerModel::from_spec(&c.unit), c.count)),
            air: AirCoolingModel::from_spec(&spec.air_cooling),
            power: PowerChainModel::from_spec(&spec.power, it_design_w),
            solar: grid.solar.as_ref().map(SolarModel::from_spec),
            dispatcher: Dispatcher {
                rule: grid.dispatch.clone(),
                battery: grid.battery.as_ref().map(BatteryModel::from_spec),
                engines: grid.engines.iter().map(EngineBankModel::from_spec).collect(),
            },
            import_limit_w: grid.import_limit_kw * 1000.0,
            grid_carbon_kg_per_j: grid.carbon_kg_per_mwh / 3.6e9,
            it_design_w,
            gpus,
            soc_state,
            tally_state,
            tally_scale: TallyScale::new(it_design_w, gpus),
            state_len: state,
            resolved_loops_steady: false,
        })
    }

    /// The plant in steady state throughout, at hall resolution: lumped loops and the
    /// facility water quasi-steady as in a long run, and the CDUs in `named_cdus` resolved
    /// rack by rack (their racks keep their shares of flow and load) but solved at their
    /// steady state too. Every evaluation is then the steady state the plant settles to
    /// under its inputs, which is what a search over loads (the forecast's cooling
    /// capacity) needs; the state vector keeps the layout of a hall-resolution run with
    /// the same CDUs named, its loop states unused.
    pub fn build_quasi_steady(campus: &Campus, named_cdus: &[(usize, u32)]) -> Result<CampusModel> {
        // An infinite step: the facility water is quasi-steady whatever its volume.
        let mut model = CampusModel::build(campus, Resolution::Hall, named_cdus, f64::INFINITY)?;
        model.resolved_loops_steady = true;
        Ok(model)
    }

    /// A state near the design steady state: loops at their setpoints, racks above them by
    /// their design rise at `utilisation`, the battery at its initial charge. The
    /// simulation warms up from here before it records anything.
    pub fn initial_state(&self, utilisation: f64) -> Vec<f64> {
        let mut y = vec![0.0; self.state_len];
        for l in &self.loops {
            let hall = &self.halls[l.hall];
            if let LoopKind::Dynamic {
                supply_state, racks, ..
            } = &l.kind
            {
                let setpoint = hall.cdu.supply_setpoint_c;
                y[*supply_state] = setpoint;
                let rack_flow_w_per_k = l.design_flow_kg_per_s / l.racks_per_loop * hall.tcs_cp;
                for slot in &self.racks[racks.clone()] {
                    let point = hall.rack.operate(utilisation, hall.rack.gpu.tdp_w, setpoint);
                    y[slot.state] = setpoint
                        + point.heat_to_liquid_w / (rack_flow_w_per_k * slot.flow_share * l.racks_per_loop);
                }
            }
        }
        if let Some(s) = self.facility.states {
            y[s.supply] = self.facility.supply_setpoint_c;
            y[s.ret] = self.facility.supply_setpoint_c + 8.0;
        }
        if let (Some(i), Some(b)) = (self.soc_state, &self.dispatcher.battery) {
            y[i] = b.soc_initial;
        }
        y
    }
}

/// The facility water is quasi-steady at hall resolution when the step is at least this
/// many turnover times: by then 95 % of any change inside the step has settled.
const QUASI_STEADY_TURNOVERS: f64 = 3.0;

/// Share of a loop's flow reaching rack `i` of `n` on a manifold fed from one end: the
/// nearest rack gets `1 + imbalance` times the mean, the farthest `1 − imbalance`.
fn flow_share(i: u32, n: u32, imbalance: f64) -> f64 {
    let position = if n > 1 {
        f64::from(i) / f64::from(n - 1)
    } else {
        0.5
    };
    (1.0 + imbalance * (1.0 - 2.0 * position)) / f64::from(n)
}

/// A fixed pseudo-random number in [−1, 1] for rack `i` of hall `h`: the spread of job
/// loads across racks, the same on every run.
fn spread(h: usize, i: u32) -> f64 {
    let mut x =
        (h as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(i).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 29;
    (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_shares_sum_to_one_and_fall_along_the_manifold() {
        for n in [1u32, 2, 15, 16] {
            let shares: Vec<f64> = (0..n).map(|i| flow_share(i, n, 0.05)).collect();
            assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert!(shares.windows(2).all(|w| w[0] >= w[1]));
        }
    }

    #[test]
    fn spread_is_in_range_and_centred() {
        let values: Vec<f64> = (0..10_000).map(|i| spread(1, i)).collect();
        assert!(values.iter().all(|v| (-1.0..=1.0).contains(v)));
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        assert!(mean.abs() < 0.03, "{mean}");
    }
}
