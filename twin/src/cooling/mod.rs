//! Liquid loops, heat exchangers, heat rejection and air cooling.

pub mod cdu;
pub mod chiller;
pub mod hx;
pub mod node;
pub mod pump;
