//! The embedded broker (rumqttd) that `campustwin ingest` starts when no broker is given,
//! so that a new user needs nothing installed. MQTT 3.1.1 only, plain TCP, in memory.

use std::net::{SocketAddr, TcpListener};

use tracing::{error, info};

use crate::{Error, Result};

/// Largest payload the embedded broker accepts, bytes (above ingest's default payload
/// limit, so that oversized payloads reach validation and are counted).
pub const EMBEDDED_MAX_PAYLOAD_BYTES: usize = 16 * 1024 * 1024;

/// Starts the embedded broker on `addr` in a thread of its own. Fails at once, with the
/// address, if the port is taken.
pub fn start_embedded(addr: SocketAddr) -> Result<()> {
    // rumqttd reports a taken port only in its log: find out first.
    drop(TcpListener::bind(addr).map_err(|reason| Error::Io {
        what: format!(
            "starting the embedded MQTT broker on {addr} (is another broker running? pass --broker)"
        ),
        reason,
    })?);
    let config = serde_json::json!({
        "id": 0,
        "router": {
            "id": 0,
            "max_connections": 1000,
            "max_outgoing_packet_count": 1000,
            "max_segment_size": 104_857_600,
            "max_segment_count": 10
        },
        "v4": {
            "1": {
                "name": "v4-1",
                "listen": addr.to_string(),
                "next_connection_delay_ms": 1,
                "connections": {
                    "connection_timeout_ms": 60000,
                    "max_payload_size": EMBEDDED_MAX_PAYLOAD_BYTES,
                    "max_inflight_count": 1000,
                    "dynamic_filters": true
                }
            }
        }
    });
    let config: rumqttd::Config = serde_json::from_value(config)
        .map_err(|e| Error::Config(format!("embedded broker configuration: {e}")))?;
    std::thread::Builder::new()
        .name("embedded-broker".into())
        .spawn(move || {
            let mut broker = rumqttd::Broker::new(config);
            if let Err(e) = broker.start() {
                error!(error = %e, "The embedded MQTT broker stopped.");
            }
        })
        .map_err(|reason| Error::Io {
            what: "starting the embedded MQTT broker".into(),
            reason,
        })?;
    info!(%addr, "Embedded MQTT broker started.");
    Ok(())
}
