//! Payload decoding: bytes → values with their gateway names, before mapping and
//! validation. Pure functions, no I/O.

pub mod line_protocol;
pub mod native;
