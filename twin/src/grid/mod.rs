//! The private grid: utility import, solar, battery, engines and their dispatch.

pub mod battery;
pub mod dispatch;
pub mod engine;
pub mod solar;
