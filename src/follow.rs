//! The twin follows the intake: readings committed by `campustwin ingest` go to the
//! estimator on a thread of its own, alarms come out as JSON lines on stdout (and in the
//! log), and the estimated state is kept in a JSON file, rewritten every second, for
//! whoever serves it.
//!
//! The estimator never slows the intake: it listens on the intake's broadcast of accepted
//! readings, and when it falls behind the oldest batches are skipped (and counted).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use ingest::mqtt::intake::AcceptedBatch;
use serde::Serialize;
use tokio::sync::broadcast::{self, error::RecvError};
use twin::estimate::{Alarm, Estimator};

/// How often the state file is rewritten.
const STATE_EVERY: Duration = Duration::from_secs(1);

/// What the follower did, for the command's summary.
#[derive(Debug, Clone, Copy, Default, Serialize)]
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
    thread: JoinHandle<anyhow::Result<FollowReport>>,
}

/// One alarm line on stdout.
#[derive(Serialize)]
struct AlarmLine<'a> {
    alarm: &'a Alarm,
}

impl Follower {
    /// Starts following `readings` with `estimator`; writes the state to `state_file`
    /// (atomically) when given, a first time before it returns, so that a file that cannot
    /// be written is an error now rather than a silent stop later.
    pub fn start(
        estimator: Estimator,
        readings: broadcast::Receiver<AcceptedBatch>,
        state_file: Option<PathBuf>,
    ) -> anyhow::Result<Follower> {
        if let Some(path) = &state_file {
            keep(&estimator, path)?;
        }
        let thread = std::thread::spawn(move || follow(estimator, readings, state_file.as_deref()));
        Ok(Follower { thread })
    }

    /// Waits for the intake to close its broadcast, then for the last state to be kept.
    pub fn finish(self) -> anyhow::Result<FollowReport> {
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the estimator's thread panicked"))?
    }
}

fn follow(
    mut estimator: Estimator,
    mut readings: broadcast::Receiver<AcceptedBatch>,
    state_file: Option<&Path>,
) -> anyhow::Result<FollowReport> {
    let mut report = FollowReport::default();
    let mut last_kept = Instant::now();
    let mut stdout = std::io::stdout();
    loop {
        match readings.blocking_recv() {
            Ok(batch) => {
                for r in batch.iter().flatten() {
                    for alarm in estimator.observe(r.point.as_str(), r.ts, r.value) {
                        report.alarms += 1;
                        let line = serde_json::to_string(&AlarmLine { alarm: &alarm })?;
                        writeln!(stdout, "{line}").context("writing an alarm to stdout")?;
                    }
                }
                report.readings += batch.iter().map(|m| m.len() as u64).sum::<u64>();
            }
            Err(RecvError::Lagged(batches)) => {
                // The broadcast counts batches; the readings in them are gone.
                report.skipped_batches += batches;
                tracing::warn!(batches, "The estimator fell behind the intake; skipped batches.");
            }
            Err(RecvError::Closed) => break,
        }
        if let Some(path) = state_file.filter(|_| last_kept.elapsed() >= STATE_EVERY) {
            keep(&estimator, path)?;
            last_kept = Instant::now();
        }
    }
    if let Some(path) = state_file {
        keep(&estimator, path)?;
    }
    let state = estimator.state();
    report.used = state.readings - state.ignored - state.out_of_order;
    Ok(report)
}

/// Writes the estimator's state to `path`.
fn keep(estimator: &Estimator, path: &Path) -> anyhow::Result<()> {
    write_atomically(path, &serde_json::to_vec_pretty(&estimator.state())?)
}

/// Writes `bytes` to `path` through a temporary file and a rename, so that a reader never
/// sees half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", path.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
