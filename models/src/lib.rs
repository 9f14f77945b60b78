//! Domain types of CampusTwin: what a campus is made of, and the inputs that drive it.
//!
//! This crate sits at the bottom of the workspace and depends on no other crate of ours.
//! It holds the campus configuration (TOML) and its validation, the equipment catalog,
//! and the readers of weather (EPW) and load files. Everything here is data: the physics
//! lives in `twin`, the scheduling in `optimizer`.

pub mod error;
pub mod telemetry;

pub use error::{Error, Problem, Problems, Result};
