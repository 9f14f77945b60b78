//! What `campustwin ingest` does with the estimator's publications (the twin's
//! follower, `twin::estimate::follow`): alarms as JSON lines on stdout, and the estimated
//! state in a JSON file rewritten every second, for whoever serves it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use twin::estimate::Alarm;
use twin::estimate::follow::Channels;

/// One alarm line on stdout.
#[derive(Serialize)]
struct AlarmLine<'a> {
    alarm: &'a Alarm,
}

/// Checks that `path` can be written, by writing the state there now: a file that cannot
/// be written is an error at start rather than a silent stop later.
pub fn check_state_file(channels: &Channels, path: &Path) -> anyhow::Result<()> {
    let state = channels.state.borrow().clone();
    match state {
        Some(f) => write_atomically(path, &serde_json::to_vec_pretty(&f.estimate)?),
        None => Ok(()),
    }
}

/// Runs the subscribers on the current runtime until the estimator's channels close.
pub async fn run(channels: Channels, state_file: Option<PathBuf>) -> anyhow::Result<()> {
    let mut alarms = channels.alarms.subscribe();
    let mut states = channels.state.subscribe();
    drop(channels);
    let mut stdout = std::io::stdout();
    loop {
        tokio::select! {
            alarm = alarms.recv() => match alarm {
                Ok(alarm) => {
                    let line = serde_json::to_string(&AlarmLine { alarm: &alarm })?;
                    writeln!(stdout, "{line}").context("writing an alarm to stdout")?;
                }
                Err(RecvError::Lagged(n)) => tracing::warn!(alarms = n, "Alarm lines fell behind."),
                Err(RecvError::Closed) => break,
            },
            changed = states.changed() => {
                if changed.is_err() { break; }
                let state = states.borrow_and_update().clone();
                if let (Some(path), Some(f)) = (&state_file, state) {
                    write_atomically(path, &serde_json::to_vec_pretty(&f.estimate)?)?;
                }
            }
        }
    }
    // The estimator's last state.
    let last = states.borrow().clone();
    if let (Some(path), Some(f)) = (&state_file, last) {
        write_atomically(path, &serde_json::to_vec_pretty(&f.estimate)?)?;
    }
    Ok(())
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
