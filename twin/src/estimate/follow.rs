//! The twin following the intake: accepted readings go to the estimator on a thread of
//! its own; the estimated state is published on a `watch` channel (the latest, at most
//! every `publish_every`) and every alarm on a `broadcast` channel, for whoever listens
//! (the service's API and event stream, a state file, the alarm lines of
//! `campustwin ingest`).
//!
//! The estimator never slows the intake: it listens on the intake's broadcast of
//! accepted readings, and when it falls behind the oldest batches are skipped and counted.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use models::telemetry::Reading;
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

use super::{Alarm, Estimator, EstimatorState};

/// The readings of one commit of the intake, message by message (the intake's
/// `AcceptedBatch`).
pub type Batch = Arc<Vec<Vec<Reading>>>;

/// What the follower publishes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Followed {
    /// The estimator's state.
    pub estimate: EstimatorState,
    /// The latest reading of every point seen: (time, value).
    pub latest: BTreeMap<String, (DateTime<Utc>, f64)>,
    /// Readings seen.
    pub readings: u64,
    /// Readings seen since the previous publication.
    pub readings_since_last: u64,
    /// Batches skipped because the estimator fell behind.
    pub skipped_batches: u64,
}

/// What the follower did, when it ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FollowReport {
    /// Readings handed to the estimator.
    pub readings: u64,
    /// Readings the estimator used (the rest are of points it does not model).
    pub used: u64,
    /// Batches of readings skipped because the estimator fell behind.
    pub skipped_batches: u64,
    /// Alarms raised.
    pub alarms: u64,
}

/// The estimator at work beside the intake.
#[derive(Debug)]
pub struct Follower {
    thread: JoinHandle<FollowReport>,
}

/// Where the follower publishes.
#[derive(Debug, Clone)]
pub struct Channels {
    /// The latest state.
    pub state: watch::Sender<Option<Arc<Followed>>>,
    /// Alarms as they are raised.
    pub alarms: broadcast::Sender<Alarm>,
}

impl Channels {
    /// New channels; the alarm channel keeps `alarm_capacity` alarms for slow listeners.
    pub fn new(alarm_capacity: usize) -> Self {
        Channels {
            state: watch::channel(None).0,
            alarms: broadcast::channel(alarm_capacity.max(1)).0,
        }
    }
}

impl Follower {
    /// Starts following `readings` with `estimator`, publishing on `channels` at most
    /// every `publish_every` (and once more when the readings end). The first state is
    /// published before it returns.
    pub fn start(
        estimator: Estimator,
        readings: broadcast::Receiver<Batch>,
        channels: Channels,
        publish_every: Duration,
    ) -> std::io::Result<Follower> {
        let first = Followed {
            estimate: estimator.state(),
            latest: BTreeMap::new(),
            readings: 0,
            readings_since_last: 0,
            skipped_batches: 0,
        };
        channels.state.send_replace(Some(Arc::new(first)));
        let thread = std::thread::Builder::new()
            .name("estimator".into())
            .spawn(move || follow(estimator, readings, &channels, publish_every))?;
        Ok(Follower { thread })
    }

    /// Waits for the intake to close its broadcast and the last state to be published.
    pub fn finish(self) -> Option<FollowReport> {
        self.thread.join().ok()
    }
}

fn follow(
    mut estimator: Estimator,
    mut readings: broadcast::Receiver<Batch>,
    channels: &Channels,
    publish_every: Duration,
) -> FollowReport {
    let mut report = FollowReport::default();
    let mut latest: BTreeMap<String, (DateTime<Utc>, f64)> = BTreeMap::new();
    let mut since_last = 0u64;
    let mut last_published = Instant::now();
    let publish = |estimator: &Estimator,
                   latest: &BTreeMap<String, (DateTime<Utc>, f64)>,
                   report: &FollowReport,
                   since: u64| {
        channels.state.send_replace(Some(Arc::new(Followed {
            estimate: estimator.state(),
            latest: latest.clone(),
            readings: report.readings,
            readings_since_last: since,
            skipped_batches: report.skipped_batches,
        })));
    };
    loop {
        match readings.blocking_recv() {
            Ok(batch) => {
                for r in batch.iter().flatten() {
                    for alarm in estimator.observe(r.point.as_str(), r.ts, r.value) {
                        report.alarms += 1;
                        let _ = channels.alarms.send(alarm);
                    }
                    match latest.get_mut(r.point.as_str()) {
                        Some(slot) if slot.0 <= r.ts => *slot = (r.ts, r.value),
                        Some(_) => {}
                        None => {
                            latest.insert(r.point.as_str().to_owned(), (r.ts, r.value));
                        }
                    }
                    report.readings += 1;
                    since_last += 1;
                }
            }
            Err(RecvError::Lagged(batches)) => {
                // The broadcast counts batches; the readings in them are gone.
                report.skipped_batches += batches;
                tracing::warn!(batches, "The estimator fell behind the intake; skipped batches.");
            }
            Err(RecvError::Closed) => break,
        }
        if last_published.elapsed() >= publish_every {
            publish(&estimator, &latest, &report, since_last);
            since_last = 0;
            last_published = Instant::now();
        }
    }
    publish(&estimator, &latest, &report, since_last);
    let state = estimator.state();
    report.used = state.readings - state.ignored - state.out_of_order;
    report
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;
    use models::campus::Campus;
    use models::telemetry::PointId;

    use super::*;

    /// Every reading reaches the published state (count and latest values), the last
    /// state is published when the readings end, and readings of unknown points are
    /// counted as ignored, not lost.
    #[test]
    fn every_reading_reaches_the_published_state() {
        let campus = Campus::example().unwrap();
        let estimator = Estimator::new(&campus).unwrap();
        let (tx, rx) = broadcast::channel(16);
        let channels = Channels::new(16);
        let state = channels.state.subscribe();
        let follower = Follower::start(estimator, rx, channels, Duration::from_secs(3600)).unwrap();
        let at = |s: i64| Utc.timestamp_opt(1_782_907_200 + s, 0).unwrap();
        let point = PointId::parse("grid/import_kw").unwrap();
        let other = PointId::parse("weather/dry_bulb_temp_c").unwrap();
        for s in 0..10 {
            let batch = vec![
                vec![Reading {
                    point: point.clone(),
                    ts: at(s),
                    value: 1000.0 + s as f64,
                }],
                vec![Reading {
                    point: other.clone(),
                    ts: at(s),
                    value: 25.0,
                }],
            ];
            tx.send(Arc::new(batch)).unwrap();
        }
        drop(tx);
        let report = follower.finish().unwrap();
        assert_eq!(report.readings, 20);
        let published = state.borrow().clone().unwrap();
        assert_eq!(published.readings, 20);
        assert_eq!(published.latest["grid/import_kw"], (at(9), 1009.0));
        assert_eq!(published.estimate.readings, 20);
    }
}
