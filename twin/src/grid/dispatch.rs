//! The rule that dispatches battery and engines in simulation.
//!
//! Evaluated at the start of every control step from the facility's power and solar
//! output, as an energy-management controller would: the battery shaves import above one
//! fraction of the limit and recharges below another; engines start when import would
//! still pass a third, and keep running until it falls below a fourth. The optimizer
//! replaces this rule in service.

use models::campus::DispatchRule;

use super::battery::BatteryModel;
use super::engine::{EngineBankModel, EngineState};

/// What the rule decided for one control step.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dispatch {
    /// Battery bus power, positive discharging, W.
    pub battery_w: f64,
    /// Engine output, all banks, W.
    pub engines_w: f64,
    /// Fuel burned by the engines, W.
    pub engine_fuel_w: f64,
    /// CO₂ from the engines, kg/s.
    pub engine_carbon_kg_per_s: f64,
}

/// Applies the dispatch rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispatcher {
    /// The rule's thresholds.
    pub rule: DispatchRule,
    /// The battery, if any.
    pub battery: Option<BatteryModel>,
    /// Engine banks, dispatched in order.
    pub engines: Vec<EngineBankModel>,
}

impl Dispatcher {
    /// Decides battery and engine power for the next `dt_s` given the facility's demand,
    /// the solar output available, the battery's state of charge and the import limit.
    pub fn decide(
        &self,
        engine_states: &mut [EngineState],
        facility_w: f64,
        solar_w: f64,
        soc: f64,
        limit_w: f64,
        dt_s: f64,
    ) -> Dispatch {
        let r = &self.rule;
        let net_w = facility_w - solar_w;
        let battery_w = match &self.battery {
            Some(b) if net_w > r.battery_discharge_above_frac * limit_w => {
                b.feasible_w(soc, net_w - r.battery_discharge_above_frac * limit_w, dt_s)
            }
            Some(b) if net_w < r.battery_charge_below_frac * limit_w => {
                b.feasible_w(soc, net_w - r.battery_charge_below_frac * limit_w, dt_s)
            }
            _ => 0.0,
        };
        let residual_w = net_w - battery_w;
        let engines_running = engine_states.iter().any(|s| s.running + s.starting > 0);
        let mut target_w = if residual_w > r.engine_start_above_frac * limit_w {
            residual_w - r.engine_start_above_frac * limit_w
        } else if engines_running && residual_w > r.engine_stop_below_frac * limit_w {
            (residual_w - r.engine_start_above_frac * limit_w).max(0.0)
        } else {
            0.0
        };
        let mut dispatch = Dispatch {
            battery_w,
            ..Dispatch::default()
        };
        for (bank, state) in self.engines.iter().zip(engine_states.iter_mut()) {
            // Keep one unit turning at its floor inside the hysteresis band.
            let keep_w = if engines_running && residual_w > r.engine_stop_below_frac * limit_w {
                bank.min_load_frac * bank.rated_w
            } else {
                0.0
            };
            let out_w = bank.dispatch(state, target_w.max(keep_w), dt_s);
            target_w = (target_w - out_w).max(0.0);
            dispatch.engines_w += out_w;
            dispatch.engine_fuel_w += bank.fuel_w(out_w);
            dispatch.engine_carbon_kg_per_s += out_w * bank.carbon_kg_per_j;
        }
        dispatch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::campus::Campus;

    fn dispatcher() -> Dispatcher {
        let campus = Campus::example().unwrap();
        let g = &campus.spec.grid;
        Dispatcher {
            rule: g.dispatch.clone(),
            battery: g.battery.as_ref().map(BatteryModel::from_spec),
            engines: g.engines.iter().map(EngineBankModel::from_spec).collect(),
        }
    }

    #[test]
    fn battery_shaves_and_recharges_around_its_thresholds() {
        let d = dispatcher();
        let mut engines = vec![EngineState::default()];
        // 140 MW against a 150 MW limit: shave 140 − 135 = 5 MW.
        let x = d.decide(&mut engines, 140e6, 0.0, 0.5, 150e6, 60.0);
        assert!((x.battery_w - 5e6).abs() < 1e-6);
        assert_eq!(x.engines_w, 0.0);
        // 100 MW: room below 112.5 MW; charge at the battery's 25 MW rating.
        let x = d.decide(&mut engines, 100e6, 0.0, 0.5, 150e6, 60.0);
        assert!((x.battery_w + 12.5e6).abs() < 1e-6);
    }

    #[test]
    fn engines_start_when_the_battery_is_not_enough() {
        let d = dispatcher();
        let mut engines = vec![EngineState::default()];
        // The limit drops to 90 MW under a 117 MW load: the battery gives 25 MW (of the
        // 36 MW above 81 MW), leaving 92 MW > 87.3 MW: engines are started for the rest.
        let x = d.decide(&mut engines, 117e6, 0.0, 0.5, 90e6, 60.0);
        assert!((x.battery_w - 25e6).abs() < 1e-6);
        assert_eq!(x.engines_w, 0.0); // still starting
        assert_eq!(engines[0].starting, 1);
        let mut out = 0.0;
        for _ in 0..10 {
            out = d.decide(&mut engines, 117e6, 0.0, 0.5, 90e6, 60.0).engines_w;
        }
        assert!((out - (92e6 - 0.97 * 90e6)).abs() < 1e-3, "{out}");
    }
}
