//! Broker connection options: URL, credentials, TLS, protocol version, session.

use std::path::PathBuf;
use std::time::Duration;

use crate::{Error, Result, Secret};

/// MQTT protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MqttVersion {
    /// MQTT 3.1.1.
    #[default]
    V311,
    /// MQTT 5.
    V5,
}

/// How to reach and log in to a broker.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerOptions {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// TLS (`mqtts://`): the system's roots, or `ca_file`.
    pub tls: bool,
    /// PEM file of the certificate authority to trust instead of the system's roots.
    pub ca_file: Option<PathBuf>,
    /// User name.
    pub username: Option<String>,
    /// Password (its `Debug` is `***`).
    pub password: Option<Secret>,
    /// Client id: stable, so that the broker keeps the session (subscriptions and queued
    /// messages) across reconnects and restarts.
    pub client_id: String,
    /// Protocol version.
    pub version: MqttVersion,
    /// Keep-alive interval.
    pub keep_alive: Duration,
    /// Keep the session across disconnects (clean session off / clean start off with a
    /// session expiry). Needed for at-least-once across restarts.
    pub persistent_session: bool,
}

/// Largest MQTT packet this client accepts: the protocol's maximum, so that an oversized
/// payload reaches validation (and the dead-letter topic) instead of breaking the
/// connection and being redelivered for ever.
pub const MAX_PACKET_BYTES: usize = 268_435_455;

/// Session expiry asked of MQTT 5 brokers, s: a week, so that a stopped ingest process
/// finds its queued readings when it comes back.
pub const SESSION_EXPIRY_S: u32 = 7 * 86_400;

impl BrokerOptions {
    /// Parses `mqtt://[user[:password]@]host[:port]` (`tcp://` alike; `mqtts://` or
    /// `ssl://` for TLS, default port 8883; else 1883). An error names the URL with its
    /// password masked.
    pub fn from_url(url: &str, client_id: &str) -> Result<Self> {
        let bad = |why: &str| Error::Config(format!("broker URL `{}`: {why}", masked(url)));
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("expected mqtt://host[:port]"))?;
        let tls = match scheme {
            "mqtt" | "tcp" => false,
            "mqtts" | "ssl" => true,
            other => {
                return Err(bad(&format!("unknown scheme `{other}` (mqtt, tcp, mqtts, ssl)")));
            }
        };
        let rest = rest.trim_end_matches('/');
        let (auth, hostport) = match rest.rsplit_once('@') {
            Some((auth, hp)) => (Some(auth), hp),
            None => (None, rest),
        };
        let (username, password) = match auth {
            Some(a) => match a.split_once(':') {
                Some((u, p)) => (Some(u.to_owned()), Some(Secret::new(p))),
                None => (Some(a.to_owned()), None),
            },
            None => (None, None),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                let port = p
                    .parse::<u16>()
                    .map_err(|_| bad(&format!("port `{p}` is not a number 0-65535")))?;
                (h.trim_start_matches('[').trim_end_matches(']').to_owned(), port)
            }
            _ => (hostport.to_owned(), if tls { 8883 } else { 1883 }),
        };
        if host.is_empty() || host.contains('/') {
            return Err(bad("no host"));
        }
        if client_id.is_empty() {
            return Err(Error::Config("the MQTT client id must not be empty".into()));
        }
        Ok(Self {
            host,
            port,
            tls,
            ca_file: None,
            username,
            password,
            client_id: client_id.to_owned(),
            version: MqttVersion::V311,
            keep_alive: Duration::from_secs(30),
            persistent_session: true,
        })
    }

    fn transport(&self) -> Result<rumqttc::Transport> {
        if !self.tls {
            return Ok(rumqttc::Transport::tcp());
        }
        let config = match &self.ca_file {
            Some(path) => {
                let ca = models::files::read_io(path, models::files::MAX_PEM_BYTES).map_err(|reason| {
                    Error::Io {
                        what: format!("reading CA file {}", path.display()),
                        reason,
                    }
                })?;
                rumqttc::TlsConfiguration::SimpleNative {
                    ca,
                    client_auth: None,
                }
            }
            None => rumqttc::TlsConfiguration::Native,
        };
        Ok(rumqttc::Transport::tls_with_config(config))
    }

    /// Options for an MQTT 3.1.1 client.
    pub fn v4(&self, inflight: u16) -> Result<rumqttc::MqttOptions> {
        let mut o = rumqttc::MqttOptions::new(&self.client_id, &self.host, self.port);
        o.set_keep_alive(self.keep_alive)
            .set_clean_session(!self.persistent_session)
            .set_manual_acks(true)
            .set_max_packet_size(MAX_PACKET_BYTES, MAX_PACKET_BYTES)
            .set_inflight(inflight.max(1))
            .set_request_channel_capacity(4096)
            .set_transport(self.transport()?);
        if let Some(user) = &self.username {
            o.set_credentials(user, self.password_text());
        }
        Ok(o)
    }

    /// The password to send (empty without one).
    fn password_text(&self) -> String {
        self.password
            .as_ref()
            .map(|p| p.expose().to_owned())
            .unwrap_or_default()
    }

    /// Options for an MQTT 5 client.
    pub fn v5(&self, inflight: u16) -> Result<rumqttc::v5::MqttOptions> {
        let mut o = rumqttc::v5::MqttOptions::new(&self.client_id, &self.host, self.port);
        o.set_keep_alive(self.keep_alive)
            .set_clean_start(!self.persistent_session)
            .set_manual_acks(true)
            .set_max_packet_size(Some(MAX_PACKET_BYTES as u32))
            .set_receive_maximum(Some(inflight.max(1)))
            .set_outgoing_inflight_upper_limit(inflight.max(1))
            .set_request_channel_capacity(4096)
            .set_transport(self.transport()?);
        if self.persistent_session {
            o.set_session_expiry_interval(Some(SESSION_EXPIRY_S));
        }
        if let Some(user) = &self.username {
            o.set_credentials(user, self.password_text());
        }
        Ok(o)
    }
}

/// `url` with the password of its `user:password@` part replaced by `***`.
fn masked(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let Some(at) = url[start..].rfind('@').map(|i| start + i) else {
        return url.to_owned();
    };
    match url[start..at].find(':') {
        Some(colon) => format!("{}:***{}", &url[..start + colon], &url[at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn urls_give_host_port_tls_and_credentials() {
        let o = BrokerOptions::from_url("mqtt://127.0.0.1:18830", "c").unwrap();
        assert_eq!((o.host.as_str(), o.port, o.tls), ("127.0.0.1", 18830, false));
        let o = BrokerOptions::from_url("mqtts://ingest:s3cret@broker.example", "c").unwrap();
        assert_eq!((o.host.as_str(), o.port, o.tls), ("broker.example", 8883, true));
        assert_eq!(
            (o.username.as_deref(), o.password.as_ref().map(Secret::expose)),
            (Some("ingest"), Some("s3cret"))
        );
        let o = BrokerOptions::from_url("tcp://[::1]:1884/", "c").unwrap();
        assert_eq!((o.host.as_str(), o.port), ("::1", 1884));
    }

    #[test]
    fn bad_urls_say_why() {
        for (url, why) in [
            ("localhost:1883", "expected mqtt://"),
            ("http://x", "unknown scheme `http`"),
            ("mqtt://x:99999", "port `99999`"),
            ("mqtt://", "no host"),
        ] {
            let err = BrokerOptions::from_url(url, "c").unwrap_err().to_string();
            assert!(err.contains(why), "{url}: {err}");
        }
        assert!(BrokerOptions::from_url("mqtt://x", "").is_err());
    }

    #[test]
    fn the_password_is_never_in_debug_output_nor_in_errors() {
        let o = BrokerOptions::from_url("mqtts://ingest:s3cret@broker.example", "c").unwrap();
        for text in [format!("{o:?}"), format!("{o:#?}")] {
            assert!(!text.contains("s3cret"), "{text}");
            assert!(text.contains("***"), "{text}");
        }
        let config = crate::mqtt::IntakeConfig::new(o, vec!["campustwin/#".into()]);
        assert!(!format!("{config:?}").contains("s3cret"));
        // A URL that does not parse is named in the error with its password masked.
        for url in [
            "mqtt://ingest:s3cret@x:99999",
            "ingest:s3cret@broker",
            "mqtt://u:s3cret@",
        ] {
            let err = BrokerOptions::from_url(url, "c").unwrap_err();
            for text in [err.to_string(), format!("{err:?}")] {
                assert!(!text.contains("s3cret"), "{text}");
                assert!(text.contains(":***@"), "{text}");
            }
        }
        assert_eq!(masked("mqtt://user@host"), "mqtt://user@host");
        assert_eq!(masked("mqtt://host:1883"), "mqtt://host:1883");
        assert_eq!(masked("mqtt://u:p:q@h@host"), "mqtt://u:***@host");
    }
}
