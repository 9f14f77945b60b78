//! The MQTT intake: subscribe, decode/map/validate each message, commit to the store,
//! acknowledge to the broker only after the commit (at-least-once), republish rejections
//! to the dead-letter topic, and hand accepted readings to whoever listens.
//!
//! Tasks: the event loop (tokio) polls the broker, runs the [`Pipeline`] and queues work;
//! a writer thread commits batches to SQLite and then acknowledges every message of the
//! batch; a dead-letter task publishes rejections. Batches grow with the load: the writer
//! takes everything queued while it was committing, so commits are few at high rates and
//! immediate at low ones.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use models::telemetry::Reading;
use tokio::sync::{broadcast, mpsc};
use tracing::{debug, error, info, warn};

use super::client::{self, Event, Message};
use super::options::BrokerOptions;
use crate::pipeline::{DeadLetter, deadletter_topic};
use crate::store::{Committed, Retention, Store};
use crate::{Clock, Error, Pipeline, Reason, Result};

/// How the intake runs.
#[derive(Debug, Clone)]
pub struct IntakeConfig {
    /// The broker.
    pub broker: BrokerOptions,
    /// Topic filters to subscribe to.
    pub filters: Vec<String>,
    /// Shared-subscription group: subscribe to `$share/GROUP/FILTER` so that the
    /// processes of one group split the stream.
    pub share_group: Option<String>,
    /// Messages the broker may have in flight to us (MQTT 5 receive maximum) and our own
    /// unacknowledged dead letters.
    pub inflight: u16,
    /// Largest number of readings in one store transaction.
    pub max_commit_readings: usize,
    /// Retention of the store, applied every `maintain_every`; `None` keeps everything.
    pub retention: Option<Retention>,
    /// Interval between retention passes.
    pub maintain_every: Duration,
}

impl IntakeConfig {
    /// Defaults for `broker` and `filters`: inflight 1000, commits of at most 50,000
    /// readings, default retention hourly.
    pub fn new(broker: BrokerOptions, filters: Vec<String>) -> Self {
        Self {
            broker,
            filters,
            share_group: None,
            inflight: 1000,
            max_commit_readings: 50_000,
            retention: Some(Retention::default()),
            maintain_every: Duration::from_secs(3600),
        }
    }

    /// The filters as subscribed (with the shared-subscription prefix).
    pub fn subscriptions(&self) -> Vec<String> {
        self.filters
            .iter()
            .map(|f| match &self.share_group {
                Some(g) => format!("$share/{g}/{f}"),
                None => f.clone(),
            })
            .collect()
    }
}

/// Counters of a running intake.
#[derive(Debug, Default)]
pub struct IntakeStats {
    /// Messages received.
    pub messages: AtomicU64,
    /// Readings committed (new).
    pub readings: AtomicU64,
    /// Readings dropped as duplicates.
    pub duplicates: AtomicU64,
    /// Values rejected.
    pub rejected: AtomicU64,
    /// Dead letters that could not be queued for publishing (queue full).
    pub deadletters_dropped: AtomicU64,
    /// Store transactions.
    pub commits: AtomicU64,
    /// Connections made (the first and every reconnect).
    pub connections: AtomicU64,
}

/// A message's work for the writer.
struct Work {
    readings: Vec<Reading>,
    rejected: Vec<Reason>,
    message: Message,
}

/// The accepted readings of one commit, message by message as they came (a reading may
/// repeat after a redelivery). Shared, not copied, with every listener.
pub type AcceptedBatch = Arc<Vec<Vec<Reading>>>;

/// Where the intake announces accepted readings.
pub type ReadingsTx = broadcast::Sender<AcceptedBatch>;

/// Runs the intake until `shutdown` resolves; then commits what is queued, acknowledges
/// it, and disconnects.
pub async fn run(
    config: IntakeConfig,
    mut pipeline: Pipeline,
    store: Store,
    clock: Arc<dyn Clock>,
    accepted: Option<ReadingsTx>,
    stats: Arc<IntakeStats>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let (client, mut events) = client::connect(&config.broker, config.inflight)?;
    let (work_tx, work_rx) = flume::bounded::<Work>(4 * usize::from(config.inflight.max(16)));
    let (dl_tx, mut dl_rx) = mpsc::channel::<(String, Vec<u8>)>(10_000);

    let dl_client = client.clone();
    tokio::spawn(async move {
        while let Some((topic, payload)) = dl_rx.recv().await {
            if let Err(e) = dl_client.publish(&topic, payload).await {
                debug!(error = %e, "Dead letter not published.");
                break;
            }
        }
    });

    // Acknowledgements go through a task of their own: the writer never waits for room
    // in the client's request channel (which only the event loop drains, and the event
    // loop may itself be waiting for room in the writer's queue).
    let (ack_tx, mut ack_rx) = mpsc::unbounded_channel::<Vec<Message>>();
    let ack_client = client.clone();
    let ack_task = tokio::spawn(async move {
        while let Some(messages) = ack_rx.recv().await {
            for m in &messages {
                if !ack_client.try_ack(m) && ack_client.ack(m).await.is_err() {
                    return;
                }
            }
        }
    });

    let writer = {
        let stats = stats.clone();
        let clock = clock.clone();
        let config = config.clone();
        std::thread::Builder::new()
            .name("ingest-writer".into())
            .spawn(move || writer_loop(store, work_rx, ack_tx, accepted, stats, clock, &config))
            .map_err(|reason| Error::Io {
                what: "starting the store writer".into(),
                reason,
            })?
    };
    let writer_done = tokio::task::spawn_blocking(move || writer.join());
    tokio::pin!(writer_done);
    tokio::pin!(shutdown);

    let subscriptions = config.subscriptions();
    let mut backoff = Duration::from_millis(100);
    let mut log_window = LogWindow::default();
    let mut work_tx = Some(work_tx);
    let result;
    loop {
        tokio::select! {
            _ = &mut shutdown, if work_tx.is_some() => {
                info!("Stopping: committing what is queued.");
                work_tx = None;
            }
            joined = &mut writer_done => {
                result = match joined {
                    Ok(Ok(Ok(()))) => Ok(()),
                    Ok(Ok(Err(e))) => Err(e),
                    _ => Err(Error::Mqtt("the store writer stopped unexpectedly".into())),
                };
                break;
            }
            event = events.poll() => match event {
                Ok(Event::Connected { session_present }) => {
                    backoff = Duration::from_millis(100);
                    stats.connections.fetch_add(1, Ordering::Relaxed);
                    info!(host = %config.broker.host, port = config.broker.port, session_present, "Connected to the broker.");
                    let client = client.clone();
                    let subscriptions = subscriptions.clone();
                    tokio::spawn(async move {
                        for filter in &subscriptions {
                            if let Err(e) = client.subscribe(filter).await {
                                warn!(filter = %filter, error = %e, "Subscribe failed.");
                            }
                        }
                    });
                }
                Ok(Event::Message(message)) => {
                    let Some(tx) = &work_tx else {
                        // Stopping: not acknowledged, so the broker delivers it again.
                        continue;
                    };
                    stats.messages.fetch_add(1, Ordering::Relaxed);
                    let outcome = pipeline.process(message.topic(), message.payload(), clock.now());
                    if !outcome.rejections.is_empty() {
                        let topic = deadletter_topic(&outcome.site);
                        for r in &outcome.rejections {
                            log_window.rejection(message.topic(), r.reason, &r.detail);
                            let letter = DeadLetter::new(r, message.topic(), message.payload()).to_json();
                            if dl_tx.try_send((topic.clone(), letter)).is_err() {
                                stats.deadletters_dropped.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    let work = Work {
                        readings: outcome.readings,
                        rejected: outcome.rejections.iter().map(|r| r.reason).collect(),
                        message,
                    };
                    if tx.send_async(work).await.is_err() {
                        work_tx = None;
                    }
                }
                Ok(Event::Subscribed) => info!("Subscribed."),
                Ok(_) => {}
                Err(e) => {
                    warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "Broker connection lost; reconnecting.");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
    }
    // Hand the last acknowledgements to the client (the writer has ended, so the ack
    // task ends once it has queued them all), then let the event loop send them and leave.
    let deadline = Instant::now() + Duration::from_secs(2);
    tokio::pin!(ack_task);
    loop {
        tokio::select! {
            _ = &mut ack_task => break,
            _ = tokio::time::sleep_until(deadline.into()) => break,
            event = events.poll() => if event.is_err() { break },
        }
    }
    let _ = client.disconnect().await;
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        match tokio::time::timeout_at(deadline.into(), events.poll()).await {
            Ok(Ok(_)) => {}
            _ => break,
        }
    }
    result
}

/// Logs the first rejections of every 10-second window one by one, then a summary.
#[derive(Default)]
struct LogWindow {
    start: Option<Instant>,
    logged: u32,
    suppressed: u64,
}

impl LogWindow {
    const PER_WINDOW: u32 = 20;

    fn rejection(&mut self, topic: &str, reason: Reason, detail: &str) {
        let now = Instant::now();
        if self
            .start
            .is_none_or(|s| now.duration_since(s) > Duration::from_secs(10))
        {
            if self.suppressed > 0 {
                warn!(
                    suppressed = self.suppressed,
                    "More rejections in the last window (counted in the store)."
                );
            }
            *self = Self {
                start: Some(now),
                ..Self::default()
            };
        }
        if self.logged < Self::PER_WINDOW {
            self.logged += 1;
            warn!(topic, reason = %reason, detail, "Rejected.");
        } else {
            self.suppressed += 1;
        }
    }
}

/// Attempts at a commit that fails for a reason other than a full disk.
const COMMIT_ATTEMPTS: u32 = 10;

/// Commits a batch, retrying: a full disk (or store size limit) indefinitely, since space
/// may be freed at any time and nothing is acknowledged meanwhile, so the broker keeps the
/// messages (and the intake's queue pushes back on it); any other failure
/// [`COMMIT_ATTEMPTS`] times. A shutdown while the disk is full ends the wait with an
/// error: the batch stays unacknowledged and the broker redelivers it.
fn commit_with_retry(store: &mut Store, batch: &[Work], rx: &flume::Receiver<Work>) -> Result<Committed> {
    let mut attempt = 0u32;
    let mut full_since: Option<Instant> = None;
    let mut last_full_log = Instant::now();
    loop {
        let readings = batch.iter().flat_map(|w| w.readings.iter());
        let rejected = batch.iter().flat_map(|w| w.rejected.iter().copied());
        let e = match store.commit(readings, rejected) {
            Ok(c) => {
                if let Some(since) = full_since {
                    info!(
                        waited_s = since.elapsed().as_secs_f64(),
                        "Store has space again; commits resumed."
                    );
                }
                return Ok(c);
            }
            Err(e) => e,
        };
        if e.is_store_full() {
            let since = *full_since.get_or_insert_with(|| {
                error!(error = %e, "Store is full: nothing is acknowledged until space is freed; retrying.");
                Instant::now()
            });
            if rx.is_disconnected() {
                error!(
                    unacknowledged = batch.len(),
                    "Stopped while the store is full: these messages stay unacknowledged, and the broker redelivers them."
                );
                return Err(e);
            }
            if last_full_log.elapsed() >= Duration::from_secs(60) {
                last_full_log = Instant::now();
                error!(
                    waited_s = since.elapsed().as_secs_f64(),
                    "Store still full; nothing acknowledged."
                );
            }
            let waited_ms = since.elapsed().as_millis() as u64;
            std::thread::sleep(Duration::from_millis(waited_ms.clamp(100, 5_000)));
            continue;
        }
        if attempt >= COMMIT_ATTEMPTS {
            return Err(e);
        }
        attempt += 1;
        error!(error = %e, attempt, "Store commit failed; retrying (nothing acknowledged).");
        std::thread::sleep(Duration::from_millis(200 * u64::from(attempt)));
    }
}

#[allow(clippy::too_many_arguments)]
fn writer_loop(
    mut store: Store,
    rx: flume::Receiver<Work>,
    acks: mpsc::UnboundedSender<Vec<Message>>,
    accepted: Option<ReadingsTx>,
    stats: Arc<IntakeStats>,
    clock: Arc<dyn Clock>,
    config: &IntakeConfig,
) -> Result<()> {
    let mut last_maintain = Instant::now();
    let maintain = |store: &mut Store, last: &mut Instant| {
        if let Some(retention) = &config.retention {
            if last.elapsed() >= config.maintain_every {
                *last = Instant::now();
                match store.maintain(clock.now(), retention) {
                    Ok(m) => info!(
                        downsampled = m.downsampled,
                        expired_buckets = m.expired_buckets,
                        "Retention pass."
                    ),
                    Err(e) => warn!(error = %e, "Retention pass failed."),
                }
            }
        }
    };
    loop {
        let first = match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(w) => w,
            Err(flume::RecvTimeoutError::Timeout) => {
                maintain(&mut store, &mut last_maintain);
                continue;
            }
            Err(flume::RecvTimeoutError::Disconnected) => return Ok(()),
        };
        let mut n = first.readings.len();
        let mut batch = vec![first];
        while n < config.max_commit_readings {
            match rx.try_recv() {
                Ok(w) => {
                    n += w.readings.len();
                    batch.push(w);
                }
                Err(_) => break,
            }
        }
        let committed = commit_with_retry(&mut store, &batch, &rx)?;
        stats.commits.fetch_add(1, Ordering::Relaxed);
        stats.readings.fetch_add(committed.inserted, Ordering::Relaxed);
        stats
            .duplicates
            .fetch_add(committed.duplicates, Ordering::Relaxed);
        stats.rejected.fetch_add(committed.rejected, Ordering::Relaxed);
        let mut messages = Vec::with_capacity(batch.len());
        let mut readings = Vec::with_capacity(batch.len());
        for w in batch {
            messages.push(w.message);
            if !w.readings.is_empty() {
                readings.push(w.readings);
            }
        }
        // Committed: now the broker may forget these messages.
        let _ = acks.send(messages);
        let listening = accepted.as_ref().filter(|tx| tx.receiver_count() > 0);
        if let (Some(tx), false) = (listening, readings.is_empty()) {
            let _ = tx.send(Arc::new(readings));
        }
        maintain(&mut store, &mut last_maintain);
    }
}
