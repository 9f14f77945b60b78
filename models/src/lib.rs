//! Domain types of CampusTwin: what a campus is made of, and the inputs that drive it.
//!
//! This crate sits at the bottom of the workspace and depends on no other crate of ours.
//! It holds the campus configuration (TOML) and its validation, the equipment catalog,
//! and the readers of weather (EPW) and load files. Everything here is data: the physics
//! lives in `twin`, the scheduling in `optimizer`.
//!
//! ```
//! use models::campus::Campus;
//!
//! // The shipped example: its catalog references resolved, every rule checked.
//! let campus = Campus::example().unwrap();
//! let weather = campus.load_weather().unwrap();
//! assert_eq!(weather.epw().records().len(), 8760);
//! // Problems in a campus come back all at once, each with its path.
//! let err = Campus::from_toml("[site]\nname = 1\n", models::campus::Origin::Builtin("x")).unwrap_err();
//! assert!(err.to_string().contains("site.name"));
//! ```

pub mod campus;
pub mod error;
pub mod files;
pub mod forecast;
pub mod load;
pub mod price;
pub mod scenario;
pub mod schedule;
pub mod service;
pub mod siting;
pub mod strict;
pub mod telemetry;
pub mod units;
pub mod weather;

pub use error::{Error, ErrorKind, Problem, Problems, Result};
