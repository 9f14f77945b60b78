//! The publishing side: readings out to a broker in the native schema at QoS 1, at a
//! target rate, single or batched, counting what the broker acknowledged. Used by the
//! sensor simulator, load generators and the tests.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use models::telemetry::{Reading, TimedReadings};
use serde::Serialize;
use tokio::sync::watch;
use tracing::warn;

use super::client::{self, Client, Event};
use super::options::BrokerOptions;
use crate::pipeline::{BATCH_LEVEL, TOPIC_ROOT};
use crate::{Error, Result};

/// How readings are framed into messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One reading per message on `campustwin/<site>/<point>`.
    Single,
    /// Up to this many readings per message on `campustwin/<site>/batch`.
    Batch(usize),
}

/// What the publisher reports when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PublishReport {
    /// Readings in messages the broker acknowledged.
    pub published: u64,
    /// Messages the broker acknowledged.
    pub messages: u64,
    /// Readings handed to the publisher.
    pub queued: u64,
    /// `published` over the time from the first publish to the last acknowledgement, per s.
    pub rate_per_s: f64,
    /// Seconds from the first publish to the end.
    pub elapsed_s: f64,
}

#[derive(Debug, Default)]
struct Shared {
    /// Sizes (readings) of messages handed to the client, not yet seen going out.
    queued_sizes: Mutex<VecDeque<u64>>,
    acked_readings: AtomicU64,
    acked_messages: AtomicU64,
    stopping: std::sync::atomic::AtomicBool,
}

/// A connected publisher.
#[derive(Debug)]
pub struct Publisher {
    client: Client,
    shared: Arc<Shared>,
    site: String,
    framing: Framing,
    rate_per_s: Option<f64>,
    queued: u64,
    messages: u64,
    started: Option<Instant>,
    connected: watch::Receiver<bool>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Serialize)]
struct SingleOut {
    ts: i64,
    value: f64,
}

#[derive(Serialize)]
struct ItemOut<'a> {
    point: &'a str,
    ts: i64,
    value: f64,
}

impl Publisher {
    /// Connects to the broker (waits for the first connection, at most `timeout`).
    /// `rate_per_s` caps the readings per second; `None` publishes as fast as the broker
    /// takes them.
    pub async fn connect(
        broker: &BrokerOptions,
        site: &str,
        framing: Framing,
        rate_per_s: Option<f64>,
        timeout: Duration,
    ) -> Result<Self> {
        if let Framing::Batch(0) = framing {
            return Err(Error::Config("a batch holds at least one reading".into()));
        }
        if rate_per_s.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
            return Err(Error::Config("the rate must be a finite number > 0".into()));
        }
        let (client, mut events) = client::connect(broker, 1000)?;
        let shared = Arc::new(Shared::default());
        let (connected_tx, mut connected) = watch::channel(false);
        let task_shared = shared.clone();
        let task = tokio::spawn(async move {
            let mut in_flight: HashMap<u16, u64> = HashMap::new();
            // Warn once per lost connection, not at every attempt to get it back.
            let mut lost = false;
            loop {
                match events.poll().await {
                    Ok(Event::Connected { .. }) => {
                        lost = false;
                        let _ = connected_tx.send(true);
                    }
                    Ok(Event::Sent(pkid)) => {
                        if let std::collections::hash_map::Entry::Vacant(e) = in_flight.entry(pkid) {
                            // invariant: every publish pushed its size before it was sent.
                            let size = task_shared
                                .queued_sizes
                                .lock()
                                .map(|mut q| q.pop_front().unwrap_or(0))
                                .unwrap_or(0);
                            e.insert(size);
                        }
                    }
                    Ok(Event::Acked(pkid)) => {
                        if let Some(size) = in_flight.remove(&pkid) {
                            task_shared.acked_readings.fetch_add(size, Ordering::Relaxed);
                            task_shared.acked_messages.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        if task_shared.stopping.load(Ordering::Relaxed) {
                            break;
                        }
                        if !lost {
                            warn!(error = %e, "Publisher lost the broker; reconnecting.");
                        }
                        lost = true;
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        });
        tokio::time::timeout(timeout, connected.wait_for(|c| *c))
            .await
            .map_err(|_| {
                Error::Mqtt(format!(
                    "no connection to {}:{} within {:?}",
                    broker.host, broker.port, timeout
                ))
            })?
            .map_err(|_| Error::Mqtt("the publisher's event loop stopped".into()))?;
        Ok(Self {
            client,
            shared,
            site: site.to_owned(),
            framing,
            rate_per_s,
            queued: 0,
            messages: 0,
            started: None,
            connected,
            task,
        })
    }

    /// Publishes `readings` (in order), pacing to the target rate.
    pub async fn send(&mut self, readings: &[Reading]) -> Result<()> {
        let started = *self.started.get_or_insert_with(Instant::now);
        let chunk = match self.framing {
            Framing::Single => 1,
            Framing::Batch(n) => n,
        };
        for group in readings.chunks(chunk) {
            if let Some(rate) = self.rate_per_s {
                let due = started + Duration::from_secs_f64(self.queued as f64 / rate);
                let now = Instant::now();
                if due > now {
                    tokio::time::sleep(due - now).await;
                }
            }
            let (topic, payload) = encode(&self.site, self.framing, group);
            if let Ok(mut q) = self.shared.queued_sizes.lock() {
                q.push_back(group.len() as u64);
            }
            self.client.publish(&topic, payload).await?;
            self.queued += group.len() as u64;
            self.messages += 1;
        }
        Ok(())
    }

    /// Publishes a raw payload (counted as a message of no readings): for fault injection
    /// and tests of validation.
    pub async fn send_raw(&mut self, topic: &str, payload: Vec<u8>) -> Result<()> {
        self.started.get_or_insert_with(Instant::now);
        if let Ok(mut q) = self.shared.queued_sizes.lock() {
            q.push_back(0);
        }
        self.client.publish(topic, payload).await?;
        self.messages += 1;
        Ok(())
    }

    /// Readings acknowledged so far.
    pub fn published(&self) -> u64 {
        self.shared.acked_readings.load(Ordering::Relaxed)
    }

    /// Waits until every message is acknowledged (at most `timeout`), disconnects and
    /// reports.
    pub async fn finish(mut self, timeout: Duration) -> Result<PublishReport> {
        let deadline = Instant::now() + timeout;
        while self.shared.acked_messages.load(Ordering::Relaxed) < self.messages && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let elapsed_s = self.started.map_or(0.0, |s| s.elapsed().as_secs_f64());
        self.shared.stopping.store(true, Ordering::Relaxed);
        let _ = self.client.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), &mut self.task).await;
        self.task.abort();
        let _ = self.connected.has_changed();
        let published = self.published();
        Ok(PublishReport {
            published,
            messages: self.shared.acked_messages.load(Ordering::Relaxed),
            queued: self.queued,
            rate_per_s: if elapsed_s > 0.0 {
                published as f64 / elapsed_s
            } else {
                0.0
            },
            elapsed_s,
        })
    }
}

/// How long the last messages of a paced stream may take to be acknowledged.
pub const PACED_FINISH_TIMEOUT: Duration = Duration::from_secs(30);

/// What a paced stream did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paced {
    /// The publisher's report.
    #[serde(flatten)]
    pub report: PublishReport,
    /// Samples published.
    pub samples: u64,
    /// Time from `wall_start` to the first sample (a simulation's warm-up), s.
    pub warmup_s: f64,
    /// Largest delay of a sample behind its due time after the first, s.
    pub max_lag_s: f64,
}

/// Publishes each sample of `samples` when its instant comes (`wall_start` plus its
/// `t_s`: a simulation in real time), until the samples end or `stop` resolves; then
/// waits for the acknowledgements and disconnects. Samples due before the first arrived
/// go at once; lag counts after.
pub async fn publish_paced(
    mut publisher: Publisher,
    mut samples: tokio::sync::mpsc::Receiver<TimedReadings>,
    wall_start: tokio::time::Instant,
    stop: impl std::future::Future<Output = ()>,
) -> Result<Paced> {
    tokio::pin!(stop);
    let (mut sent, mut max_lag_s) = (0u64, 0f64);
    let mut first: Option<tokio::time::Instant> = None;
    loop {
        let sample = tokio::select! {
            s = samples.recv() => s,
            () = &mut stop => None,
        };
        let Some(sample) = sample else { break };
        let now = tokio::time::Instant::now();
        let first = *first.get_or_insert(now);
        let due = wall_start + Duration::from_secs_f64(sample.t_s);
        if due > now {
            tokio::select! {
                () = tokio::time::sleep_until(due) => {}
                () = &mut stop => break,
            }
        } else if due > first {
            max_lag_s = max_lag_s.max((now - due).as_secs_f64());
        }
        publisher.send(&sample.readings).await?;
        sent += 1;
    }
    drop(samples);
    Ok(Paced {
        report: publisher.finish(PACED_FINISH_TIMEOUT).await?,
        samples: sent,
        warmup_s: first.map_or(0.0, |w| (w - wall_start).as_secs_f64()),
        max_lag_s,
    })
}

/// Topic and payload of one message in the native schema.
pub fn encode(site: &str, framing: Framing, readings: &[Reading]) -> (String, Vec<u8>) {
    match (framing, readings) {
        (Framing::Single, [r]) => (
            format!("{TOPIC_ROOT}/{site}/{}", r.point),
            // invariant: plain numbers always serialise.
            serde_json::to_vec(&SingleOut {
                ts: r.ts.timestamp_millis(),
                value: r.value,
            })
            .unwrap_or_default(),
        ),
        _ => {
            let items: Vec<ItemOut<'_>> = readings
                .iter()
                .map(|r| ItemOut {
                    point: r.point.as_str(),
                    ts: r.ts.timestamp_millis(),
                    value: r.value,
                })
                .collect();
            (
                format!("{TOPIC_ROOT}/{site}/{BATCH_LEVEL}"),
                serde_json::to_vec(&items).unwrap_or_default(),
            )
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use models::telemetry::PointId;

    #[test]
    fn encoded_messages_decode_back_through_the_pipeline() {
        let now = Utc.timestamp_millis_opt(1_782_864_000_000).unwrap();
        let readings: Vec<Reading> = (0..3)
            .map(|i| Reading {
                point: PointId::parse(&format!("hall-a/rack-{i:04}/power_kw")).unwrap(),
                ts: now,
                value: 40.0 + f64::from(i),
            })
            .collect();
        let mut pipeline = crate::Pipeline::default();
        let (topic, payload) = encode("dfw1", Framing::Single, &readings[..1]);
        assert_eq!(topic, "campustwin/dfw1/hall-a/rack-0000/power_kw");
        assert_eq!(pipeline.process(&topic, &payload, now).readings, readings[..1]);
        let (topic, payload) = encode("dfw1", Framing::Batch(10), &readings);
        assert_eq!(topic, "campustwin/dfw1/batch");
        assert_eq!(pipeline.process(&topic, &payload, now).readings, readings);
    }
}
