//! Gas turbines and engines: start delay, minimum load, ramp limit, fuel and carbon.
//!
//! A bank of identical units is dispatched toward a target output. Units needed beyond
//! those running are started and deliver nothing until their start time has passed;
//! running units hold at least their minimum load; output moves toward the target no
//! faster than the running units' ramp rate. Units are stopped when the target falls to
//! zero and output has ramped down.

use models::campus::EngineBank;

/// A bank of identical engines with SI parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineBankModel {
    /// Units in the bank.
    pub units: u32,
    /// Rated output of one unit, W.
    pub rated_w: f64,
    /// Minimum stable output of a running unit, fraction of rating.
    pub min_load_frac: f64,
    /// Ramp rate of one unit, W/s.
    pub ramp_w_per_s: f64,
    /// Time from start command to output, s.
    pub start_time_s: f64,
    /// Fuel-to-electricity efficiency.
    pub efficiency: f64,
    /// CO₂ per unit of electricity, kg/J.
    pub carbon_kg_per_j: f64,
}

/// The bank's commitment and output, carried from one dispatch to the next.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineState {
    /// Units synchronised and able to deliver.
    pub running: u32,
    /// Units starting, and the time left before they can deliver, s.
    pub starting: u32,
    /// Time left for the starting units, s.
    pub start_left_s: f64,
    /// Output, W.
    pub output_w: f64,
}

impl EngineBankModel {
    /// Builds the model from a validated bank spec.
    pub fn from_spec(bank: &EngineBank) -> Self {
        let u = &bank.unit;
        EngineBankModel {
            units: bank.units,
            rated_w: u.rated_kw * 1000.0,
            min_load_frac: u.min_load_frac,
            ramp_w_per_s: u.ramp_kw_per_s * 1000.0,
            start_time_s: u.start_time_s,
            efficiency: u.efficiency,
            carbon_kg_per_j: u.carbon_kg_per_mwh / 3.6e9,
        }
    }

    /// Largest output of the whole bank, W.
    pub fn capacity_w(&self) -> f64 {
        f64::from(self.units) * self.rated_w
    }

    /// Advances the bank by `dt_s` toward `target_w` and returns the output to hold over
    /// that interval.
    pub fn dispatch(&self, state: &mut EngineState, target_w: f64, dt_s: f64) -> f64 {
        let target_w = target_w.clamp(0.0, self.capacity_w());
        // Units coming online.
        if state.starting > 0 {
            state.start_left_s -= dt_s;
            if state.start_left_s <= 0.0 {
                state.running += state.starting;
                state.starting = 0;
                state.start_left_s = 0.0;
            }
        }
        // Commitment: enough units for the target, started if not yet running.
        let needed = (target_w / self.rated_w).ceil() as u32;
        if needed > state.running + state.starting {
            state.starting = needed - state.running;
            state.start_left_s = self.start_time_s;
        }
        let running = f64::from(state.running);
        let floor_w = running * self.min_load_frac * self.rated_w;
        let ceiling_w = running * self.rated_w;
        let step_w = running.max(1.0) * self.ramp_w_per_s * dt_s;
        let wanted_w = target_w.clamp(floor_w, ceiling_w.max(floor_w));
        let output_w = state.output_w + (wanted_w - state.output_w).clamp(-step_w, step_w);
        // Units no longer needed stop once output has come down to their floor.
        if needed < state.running && output_w <= floor_w + 1e-6 {
            state.running = needed;
            state.starting = 0;
        }
        state.output_w = output_w.min(f64::from(state.running) * self.rated_w);
        state.output_w
    }

    /// Fuel power burned to produce `output_w`, W.
    pub fn fuel_w(&self, output_w: f64) -> f64 {
        output_w / self.efficiency
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::campus::Campus;
    use proptest::prelude::*;

    fn bank() -> EngineBankModel {
        EngineBankModel::from_spec(&Campus::example().unwrap().spec.grid.engines[0])
    }

    #[test]
    fn analytic_start_delay_then_ramp() {
        let b = bank(); // 4 × 18 MW, 300 s start, 300 kW/s ramp per unit
        let mut s = EngineState::default();
        let mut t = 0.0;
        let mut first_output_s = None;
        while t < 600.0 {
            let out = b.dispatch(&mut s, 30e6, 10.0);
            if out > 0.0 && first_output_s.is_none() {
                first_output_s = Some(t);
            }
            t += 10.0;
        }
        // Nothing until the start time has passed, then two units ramp at 2 × 300 kW/s.
        assert_eq!(first_output_s, Some(300.0));
        assert_eq!(s.running, 2);
        assert!((s.output_w - 30e6).abs() < 1e-6);
    }

    #[test]
    fn ramp_rate_bounds_the_change_between_dispatches() {
        let b = bank();
        let mut s = EngineState {
            running: 2,
            output_w: 10e6,
            ..EngineState::default()
        };
        let out = b.dispatch(&mut s, 36e6, 10.0);
        assert!((out - (10e6 + 2.0 * 300e3 * 10.0)).abs() < 1e-6);
        // Down to zero: ramps down and then stops.
        for _ in 0..100 {
            b.dispatch(&mut s, 0.0, 10.0);
        }
        assert_eq!(s.running, 0);
        assert_eq!(s.output_w, 0.0);
    }

    proptest! {
        #[test]
        fn output_stays_within_running_capacity(targets in proptest::collection::vec(0.0f64..8e7, 1..50)) {
            let b = bank();
            let mut s = EngineState::default();
            for t in targets {
                let out = b.dispatch(&mut s, t, 30.0);
                prop_assert!(out >= 0.0);
                prop_assert!(out <= f64::from(s.running) * b.rated_w + 1e-6);
            }
        }
    }
}
