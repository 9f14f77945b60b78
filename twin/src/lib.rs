//! Physics twin of a liquid-cooled AI campus, from GPU die to utility meter.
//!
//! Components (GPUs, racks, coolant volumes, CDUs, towers, dry coolers, chillers, the
//! power chain, solar, battery, engines) are small pure kernels built from the validated
//! campus description in `models`; [`campus::CampusModel`] couples them into one state
//! vector and [`sim::Simulation`] runs it through time with `ode_solvers`' Dopri5, as a
//! [`sim::Run`] that owns it and can be saved, resumed and switched to a new load.
//! [`estimate`] follows live readings; [`forecast`] turns the estimated plant and a
//! weather horizon into the optimizer's problem and simulates the plan it returns.
//!
//! ```
//! use models::campus::Campus;
//! use models::load::LoadSpec;
//! use twin::campus::Resolution;
//! use twin::sim::{RunOptions, Simulation};
//!
//! let campus = Campus::builtin("esif.toml").unwrap();
//! let weather = campus.load_weather().unwrap();
//! let start = "2026-07-01T12:00:00Z".parse().unwrap();
//! let options = RunOptions::new(start, 3600.0, 600.0, Resolution::Hall);
//! let load = LoadSpec::Constant { utilisation: 0.9, power_cap_frac: 1.0 };
//! let sim = Simulation::new(&campus, weather, &load, None, &[], options).unwrap();
//! let summary = sim.run(|_step| Ok(()), |_t| {}).unwrap();
//! assert!(summary.pue > 1.0 && summary.pue < 1.2);
//! assert!(summary.energy_balance_residual < 1e-6);
//! ```

pub mod balance;
pub mod campus;
pub mod cooling;
pub mod error;
pub mod estimate;
pub mod forecast;
pub mod grid;
pub mod it;
pub mod power;
pub mod sensors;
pub mod sim;
pub mod solve;

pub use error::{Error, Result};
