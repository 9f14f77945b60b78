//! IT load: GPUs and racks.

pub mod gpu;
pub mod load;
pub mod rack;
