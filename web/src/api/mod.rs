//! The handlers, by what they serve.

pub mod forecast;
pub mod health;
pub mod live;
