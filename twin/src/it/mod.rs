//! IT load: GPUs and racks.

pub mod gpu;
pub mod rack;
