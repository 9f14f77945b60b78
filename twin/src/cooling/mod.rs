//! Liquid loops, heat exchangers, heat rejection and air cooling.

pub mod air;
pub mod cdu;
pub mod chiller;
pub mod dry_cooler;
pub mod hx;
pub mod node;
pub mod pump;
pub mod tower;
