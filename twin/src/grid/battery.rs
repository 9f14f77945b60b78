//! A battery energy storage system seen from the campus bus.
//!
//! Sign convention: grid-side power is positive when discharging (the battery supplies
//! the campus) and negative when charging. Charging stores `η_c` of what it draws;
//! discharging withdraws `1/η_d` of what it delivers. State of charge is a fraction of
//! usable energy, kept within `[soc_min, soc_max]` by the dispatcher limiting power.

use models::campus::Battery;

use crate::balance::{Balance, Conserving};

/// A battery with SI parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatteryModel {
    /// Usable energy at full charge, J.
    pub energy_j: f64,
    /// Largest charge or discharge power at the bus, W.
    pub power_w: f64,
    /// Fraction of charging power stored.
    pub charge_efficiency: f64,
    /// Fraction of withdrawn energy delivered.
    pub discharge_efficiency: f64,
    /// Lowest state of charge.
    pub soc_min: f64,
    /// Highest state of charge.
    pub soc_max: f64,
    /// State of charge at the start.
    pub soc_initial: f64,
}

impl BatteryModel {
    /// Builds the model from a validated battery spec.
    pub fn from_spec(b: &Battery) -> Self {
        BatteryModel {
            energy_j: b.energy_kwh * 3.6e6,
            power_w: b.power_kw * 1000.0,
            charge_efficiency: b.charge_efficiency,
            discharge_efficiency: b.discharge_efficiency,
            soc_min: b.soc_min_frac,
            soc_max: b.soc_max_frac,
            soc_initial: b.soc_initial_frac,
        }
    }

    /// Rate of change of stored energy at bus power `power_w` (positive discharging), W.
    pub fn storage_rate_w(&self, power_w: f64) -> f64 {
        if power_w >= 0.0 {
            -power_w / self.discharge_efficiency
        } else {
            -power_w * self.charge_efficiency
        }
    }

    /// `d(soc)/dt`, 1/s, at bus power `power_w`.
    pub fn soc_rate_per_s(&self, power_w: f64) -> f64 {
        self.storage_rate_w(power_w) / self.energy_j
    }

    /// The bus power closest to `wanted_w` that respects the power rating and keeps the
    /// state of charge within its limits for `dt_s` held constant from `soc`.
    pub fn feasible_w(&self, soc: f64, wanted_w: f64, dt_s: f64) -> f64 {
        let wanted_w = wanted_w.clamp(-self.power_w, self.power_w);
        if wanted_w >= 0.0 {
            let available_j = ((soc - self.soc_min) * self.energy_j).max(0.0);
            wanted_w.min(available_j * self.discharge_efficiency / dt_s)
        } else {
            let room_j = ((self.soc_max - soc) * self.energy_j).max(0.0);
            wanted_w.max(-room_j / self.charge_efficiency / dt_s)
        }
    }

    /// The battery's energy balance at bus power `power_w`.
    pub fn balance_at(&self, power_w: f64) -> BatteryBalance {
        BatteryBalance {
            bus_w: power_w,
            storage_rate_w: self.storage_rate_w(power_w),
        }
    }
}

/// The battery at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatteryBalance {
    /// Bus power, positive discharging, W.
    pub bus_w: f64,
    /// Rate of change of stored energy, W.
    pub storage_rate_w: f64,
}

impl BatteryBalance {
    /// Conversion losses, W.
    pub fn loss_w(&self) -> f64 {
        -self.bus_w - self.storage_rate_w
    }
}

impl Conserving for BatteryBalance {
    /// Charging power in; delivered power and losses out; the rest is stored.
    fn balance(&self) -> Balance {
        Balance {
            in_w: (-self.bus_w).max(0.0),
            out_w: self.bus_w.max(0.0) + self.loss_w(),
            storage_rate_w: self.storage_rate_w,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::campus::Campus;
    use proptest::prelude::*;

    fn battery() -> BatteryModel {
        BatteryModel::from_spec(Campus::example().unwrap().spec.grid.battery.as_ref().unwrap())
    }

    /// Constant power: the state of charge moves linearly, by power × time × efficiency.
    #[test]
    fn analytic_state_of_charge_under_constant_power() {
        use ode_solvers::{DVector, Dopri5, System};
        struct Hold(BatteryModel, f64);
        impl System<f64, DVector<f64>> for Hold {
            fn system(&self, _t: f64, _y: &DVector<f64>, dy: &mut DVector<f64>) {
                dy[0] = self.0.soc_rate_per_s(self.1);
            }
        }
        let b = battery();
        // Discharge 20 MW for an hour from 50 %: withdraws 20 MWh / 0.922 of 100 MWh.
        let mut s = Dopri5::new(
            Hold(b, 20e6),
            0.0,
            3600.0,
            3600.0,
            DVector::from_element(1, 0.5),
            1e-10,
            1e-12,
        );
        s.set_output(ode_solvers::OutputType::Sparse);
        s.integrate().unwrap();
        let soc = s.y_out().last().unwrap()[0];
        let expected = 0.5 - 20.0 / 0.922 / 100.0;
        assert!((soc - expected).abs() / expected < 1e-6, "{soc} vs {expected}");
        // Charge 10 MW for two hours: stores 20 MWh × 0.922.
        let mut s = Dopri5::new(
            Hold(b, -10e6),
            0.0,
            7200.0,
            7200.0,
            DVector::from_element(1, 0.2),
            1e-10,
            1e-12,
        );
        s.set_output(ode_solvers::OutputType::Sparse);
        s.integrate().unwrap();
        let soc = s.y_out().last().unwrap()[0];
        let expected = 0.2 + 20.0 * 0.922 / 100.0;
        assert!((soc - expected).abs() / expected < 1e-6, "{soc} vs {expected}");
    }

    #[test]
    fn limits_hold_the_state_of_charge_in_its_window() {
        let b = battery();
        // Near empty: only what is left above 5 % may be delivered in the hour.
        let p = b.feasible_w(0.06, 25e6, 3600.0);
        let end = 0.06 + b.soc_rate_per_s(p) * 3600.0;
        assert!((end - 0.05).abs() < 1e-12, "{end}");
        assert_eq!(b.feasible_w(0.5, 1e9, 60.0), b.power_w);
        assert_eq!(b.feasible_w(0.5, -1e9, 60.0), -b.power_w);
    }

    proptest! {
        #[test]
        fn conservation_and_soc_stays_in_window(soc in 0.05f64..=0.95, wanted in -5e7f64..5e7, dt in 1.0f64..7200.0) {
            let b = battery();
            let p = b.feasible_w(soc, wanted, dt);
            b.balance_at(p).balance().assert_closes(1e-12);
            prop_assert!(b.balance_at(p).loss_w() >= -1e-6);
            let end = soc + b.soc_rate_per_s(p) * dt;
            prop_assert!(end >= b.soc_min - 1e-9 && end <= b.soc_max + 1e-9);
        }
    }
}
