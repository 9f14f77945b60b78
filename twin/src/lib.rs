//! Physics twin of a liquid-cooled AI campus, from GPU die to utility meter.

pub mod balance;
pub mod campus;
pub mod cooling;
pub mod error;
pub mod grid;
pub mod it;
pub mod power;
pub mod sim;
pub mod solve;

pub use error::{Error, Result};
