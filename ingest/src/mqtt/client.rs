//! One face over rumqttc's MQTT 3.1.1 and MQTT 5 clients: what ingest and the publisher
//! need of them (connect, subscribe, publish, acknowledge, the events that matter).

use rumqttc::v5::mqttbytes::v5 as p5;
use rumqttc::{Outgoing, QoS};

use super::options::{BrokerOptions, MqttVersion};
use crate::{Error, Result};

/// A received message, held until it is acknowledged.
#[derive(Debug, Clone)]
pub enum Message {
    /// From an MQTT 3.1.1 session.
    V4(rumqttc::Publish),
    /// From an MQTT 5 session.
    V5(p5::Publish),
}

impl Message {
    /// The topic (a non-UTF-8 MQTT 5 topic reads as empty).
    pub fn topic(&self) -> &str {
        match self {
            Message::V4(p) => &p.topic,
            Message::V5(p) => std::str::from_utf8(&p.topic).unwrap_or(""),
        }
    }

    /// The payload.
    pub fn payload(&self) -> &[u8] {
        match self {
            Message::V4(p) => &p.payload,
            Message::V5(p) => &p.payload,
        }
    }
}

/// What the event loop reports.
// Messages are the common case: boxing them would allocate for every one.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Event {
    /// Connected (again).
    Connected {
        /// The broker still had our session.
        session_present: bool,
    },
    /// A message arrived.
    Message(Message),
    /// A publish of ours went out with this packet id (first send or resend).
    Sent(u16),
    /// The broker acknowledged our publish with this packet id.
    Acked(u16),
    /// The broker granted a subscription.
    Subscribed,
    /// Anything else.
    Other,
}

/// The client half: requests to the event loop.
#[derive(Debug, Clone)]
pub enum Client {
    /// MQTT 3.1.1.
    V4(rumqttc::AsyncClient),
    /// MQTT 5.
    V5(rumqttc::v5::AsyncClient),
}

/// The event-loop half: owns the socket, reconnects when polled after an error.
// One per connection, never moved in a hot path.
#[allow(clippy::large_enum_variant)]
pub enum EventLoop {
    /// MQTT 3.1.1.
    V4(rumqttc::EventLoop),
    /// MQTT 5.
    V5(Box<rumqttc::v5::EventLoop>),
}

impl std::fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EventLoop::V4(_) => "EventLoop::V4",
            EventLoop::V5(_) => "EventLoop::V5",
        })
    }
}

fn mqtt_err(e: impl std::fmt::Display) -> Error {
    Error::Mqtt(e.to_string())
}

/// A client and its event loop; `inflight` bounds our unacknowledged publishes (and, in
/// MQTT 5, the broker's unacknowledged deliveries to us).
pub fn connect(options: &BrokerOptions, inflight: u16) -> Result<(Client, EventLoop)> {
    Ok(match options.version {
        MqttVersion::V311 => {
            let (c, e) = rumqttc::AsyncClient::new(options.v4(inflight)?, 4096);
            (Client::V4(c), EventLoop::V4(e))
        }
        MqttVersion::V5 => {
            let (c, e) = rumqttc::v5::AsyncClient::new(options.v5(inflight)?, 4096);
            (Client::V5(c), EventLoop::V5(Box::new(e)))
        }
    })
}

impl Client {
    /// Subscribes at QoS 1.
    pub async fn subscribe(&self, filter: &str) -> Result<()> {
        match self {
            Client::V4(c) => c.subscribe(filter, QoS::AtLeastOnce).await.map_err(mqtt_err),
            Client::V5(c) => c
                .subscribe(filter, rumqttc::v5::mqttbytes::QoS::AtLeastOnce)
                .await
                .map_err(mqtt_err),
        }
    }

    /// Publishes at QoS 1.
    pub async fn publish(&self, topic: &str, payload: Vec<u8>) -> Result<()> {
        match self {
            Client::V4(c) => c
                .publish(topic, QoS::AtLeastOnce, false, payload)
                .await
                .map_err(mqtt_err),
            Client::V5(c) => c
                .publish(topic, rumqttc::v5::mqttbytes::QoS::AtLeastOnce, false, payload)
                .await
                .map_err(mqtt_err),
        }
    }

    /// Acknowledges a received message without waiting; `false` if the request channel
    /// is full.
    pub fn try_ack(&self, message: &Message) -> bool {
        match (self, message) {
            (Client::V4(c), Message::V4(m)) => c.try_ack(m).is_ok(),
            (Client::V5(c), Message::V5(m)) => c.try_ack(m).is_ok(),
            _ => true,
        }
    }

    /// Acknowledges a received message.
    pub async fn ack(&self, message: &Message) -> Result<()> {
        match (self, message) {
            (Client::V4(c), Message::V4(m)) => c.ack(m).await.map_err(mqtt_err),
            (Client::V5(c), Message::V5(m)) => c.ack(m).await.map_err(mqtt_err),
            _ => Ok(()),
        }
    }

    /// Disconnects cleanly.
    pub async fn disconnect(&self) -> Result<()> {
        match self {
            Client::V4(c) => c.disconnect().await.map_err(mqtt_err),
            Client::V5(c) => c.disconnect().await.map_err(mqtt_err),
        }
    }
}

impl EventLoop {
    /// The next event; an error is a lost or refused connection (poll again to reconnect).
    pub async fn poll(&mut self) -> Result<Event, String> {
        use rumqttc::v5::Event as E5;
        use rumqttc::{Event as E4, Packet as P4};
        match self {
            EventLoop::V4(e) => match e.poll().await.map_err(|e| e.to_string())? {
                E4::Incoming(P4::ConnAck(c)) => Ok(Event::Connected {
                    session_present: c.session_present,
                }),
                E4::Incoming(P4::Publish(p)) => Ok(Event::Message(Message::V4(p))),
                E4::Incoming(P4::PubAck(a)) => Ok(Event::Acked(a.pkid)),
                E4::Incoming(P4::SubAck(_)) => Ok(Event::Subscribed),
                E4::Outgoing(Outgoing::Publish(pkid)) => Ok(Event::Sent(pkid)),
                _ => Ok(Event::Other),
            },
            EventLoop::V5(e) => match e.poll().await.map_err(|e| e.to_string())? {
                E5::Incoming(p5::Packet::ConnAck(c)) => Ok(Event::Connected {
                    session_present: c.session_present,
                }),
                E5::Incoming(p5::Packet::Publish(p)) => Ok(Event::Message(Message::V5(p))),
                E5::Incoming(p5::Packet::PubAck(a)) => Ok(Event::Acked(a.pkid)),
                E5::Incoming(p5::Packet::SubAck(_)) => Ok(Event::Subscribed),
                E5::Outgoing(Outgoing::Publish(pkid)) => Ok(Event::Sent(pkid)),
                _ => Ok(Event::Other),
            },
        }
    }
}
