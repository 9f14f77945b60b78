//! The estimator's publications turned into what the API serves: the live view on its
//! `watch`, `state`, `readings` and `alarm` events on the hub, and the state file.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::Utc;
use models::campus::Campus;
use serde::Serialize;
use tokio::sync::{broadcast, watch};
use twin::estimate::follow::{Channels, Followed};
use twin::estimate::throttle::ThrottleWatch;
use web::events::{EventHub, EventKind};
use web::state::{CampusInfo, DesignFigures, HallInfo, LiveState, LiveView, PointValue};

/// The `readings` event: what came in since the last one.
#[derive(Debug, Serialize)]
struct ReadingsDigest {
    /// Readings taken in since the previous digest.
    readings: u64,
    /// Readings taken in since the service started.
    total: u64,
    /// Batches the estimator skipped because it fell behind.
    skipped_batches: u64,
    /// Points with a reading.
    points: usize,
}

/// Publishes every state the estimator publishes, and every alarm, until `stop`.
pub async fn publish(
    channels: Channels,
    throttle: ThrottleWatch,
    live: watch::Sender<Option<LiveView>>,
    events: EventHub,
    state_file: Option<PathBuf>,
    stop: impl Future<Output = ()> + Send,
) {
    let mut states = channels.state.subscribe();
    let mut alarms = channels.alarms.subscribe();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => break,
            changed = states.changed() => {
                if changed.is_err() { break; }
                let followed = states.borrow_and_update().clone();
                if let Some(f) = followed {
                    publish_state(&f, &throttle, &live, &events, state_file.as_ref()).await;
                }
            }
            alarm = alarms.recv() => match alarm {
                Ok(a) => {
                    tracing::warn!(kind = ?a.kind, subject = %a.subject, "{}", a.message);
                    events.publish(EventKind::Alarm, &a);
                }
                Err(broadcast::error::RecvError::Lagged(n)) => tracing::warn!(alarms = n, "Alarm listeners fell behind."),
                Err(broadcast::error::RecvError::Closed) => {}
            },
        }
    }
    // The estimator's last state (after the intake's last commit).
    let last = states.borrow().clone();
    if let Some(f) = last {
        publish_state(&f, &throttle, &live, &events, state_file.as_ref()).await;
    }
}

async fn publish_state(
    f: &Arc<Followed>,
    throttle: &ThrottleWatch,
    live: &watch::Sender<Option<LiveView>>,
    events: &EventHub,
    file: Option<&PathBuf>,
) {
    let state = LiveState {
        estimate: f.estimate.clone(),
        latest: f
            .latest
            .iter()
            .map(|(k, (ts, value))| {
                (
                    k.clone(),
                    PointValue {
                        ts: *ts,
                        value: *value,
                    },
                )
            })
            .collect(),
        throttle: throttle.margins(|id| f.latest.get(id).map(|(_, value)| *value)),
        readings: f.readings,
        published_at: Utc::now(),
    };
    let view = LiveView::new(state);
    events.publish(
        EventKind::Readings,
        &ReadingsDigest {
            readings: f.readings_since_last,
            total: f.readings,
            skipped_batches: f.skipped_batches,
            points: f.latest.len(),
        },
    );
    events.publish(
        EventKind::State,
        &serde_json::from_slice::<serde_json::Value>(&view.json).unwrap_or_default(),
    );
    if let Some(path) = file {
        let bytes = view.json.clone();
        let path = path.clone();
        let written = tokio::task::spawn_blocking(move || write_atomically(&path, &bytes)).await;
        if let Ok(Err(e)) = written {
            tracing::warn!(error = %e, "Writing the state file failed.");
        }
    }
    live.send_replace(Some(view));
}

/// Writes `bytes` to `path` through a temporary file and a rename, so that a reader never
/// sees half a file.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// The campus as `GET /campus` serves it.
pub fn campus_info(campus: &Campus) -> CampusInfo {
    let spec = &campus.spec;
    let halls: Vec<HallInfo> = spec
        .halls
        .iter()
        .map(|h| {
            let gpus = u64::from(h.racks) * u64::from(h.rack.gpus_per_rack);
            HallInfo {
                name: h.name.clone(),
                racks: h.racks,
                gpus,
                cdus: h.cdus,
                it_design_kw: f64::from(h.racks)
                    * (h.rack.host_max_kw + f64::from(h.rack.gpus_per_rack) * h.rack.gpu.tdp_w / 1000.0),
            }
        })
        .collect();
    let grid = &spec.grid;
    CampusInfo {
        name: spec.site.name.clone(),
        design: DesignFigures {
            gpus: halls.iter().map(|h| h.gpus).sum(),
            racks: halls.iter().map(|h| u64::from(h.racks)).sum(),
            it_design_kw: campus.it_design_kw(),
            import_limit_kw: grid.import_limit_kw,
            battery_kwh: grid.battery.as_ref().map_or(0.0, |b| b.energy_kwh),
            engines_kw: grid
                .engines
                .iter()
                .map(|e| f64::from(e.units) * e.unit.rated_kw)
                .sum(),
            solar_kw: grid.solar.as_ref().map_or(0.0, |s| s.ac_capacity_kw),
            latitude_deg: spec.site.latitude_deg,
            longitude_deg: spec.site.longitude_deg,
        },
        halls,
        spec: serde_json::to_value(spec).unwrap_or_default(),
    }
}
