//! The MQTT edge: broker options, the intake (subscribe → store → acknowledge), the
//! publisher, and the embedded broker.

#[cfg(feature = "embedded-broker")]
pub mod broker;
pub mod client;
pub mod intake;
pub mod options;
pub mod publisher;

pub use intake::{IntakeConfig, IntakeStats};
pub use options::{BrokerOptions, MqttVersion};
pub use publisher::{Framing, Paced, PublishReport, Publisher, publish_paced};
