//! One stream of typed events for every live client (`GET /api/v1/events`, server-sent
//! events): a digest of the readings, the estimated state, alarms, new forecasts and new
//! plans. Each event has a number; the hub keeps the last [`REPLAY_EVENTS`] so that a
//! client that reconnects with `Last-Event-ID` gets what it missed. Of the kinds that
//! each supersede the one before (`state`, `readings`) it keeps only the newest: a state
//! is some 200 kB on the example campus, and a client catching up needs the latest one,
//! not the last thousand.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::{self, Stream, StreamExt};
use serde::Serialize;
use tokio::sync::{broadcast, watch};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::json::QueryParams;
use crate::state::AppState;

/// Events kept for replay.
pub const REPLAY_EVENTS: usize = 1024;

impl EventKind {
    /// Whether an event of this kind makes the one before it obsolete.
    fn supersedes(self) -> bool {
        matches!(self, EventKind::State | EventKind::Readings)
    }
}

/// The kinds of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Readings taken in over the last second: counts and the points' latest values.
    Readings,
    /// The estimated state (as `GET /state`), at most once a second.
    State,
    /// An alarm raised.
    Alarm,
    /// A new forecast (its id, time and headline figures).
    Forecast,
    /// A new plan (its status, objective and size).
    Plan,
}

impl EventKind {
    /// The SSE event name.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Readings => "readings",
            EventKind::State => "state",
            EventKind::Alarm => "alarm",
            EventKind::Forecast => "forecast",
            EventKind::Plan => "plan",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        [
            EventKind::Readings,
            EventKind::State,
            EventKind::Alarm,
            EventKind::Forecast,
            EventKind::Plan,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// An event as sent: its number, kind and JSON data.
#[derive(Debug)]
pub struct HubEvent {
    /// Its number, from 1, growing by one.
    pub id: u64,
    /// Its kind.
    pub kind: EventKind,
    /// Its data, JSON.
    pub data: String,
}

/// The hub every publisher sends to and every client listens on.
#[derive(Debug, Clone)]
pub struct EventHub {
    inner: Arc<HubInner>,
}

#[derive(Debug)]
struct HubInner {
    tx: broadcast::Sender<Arc<HubEvent>>,
    window: Mutex<(u64, VecDeque<Arc<HubEvent>>)>,
    /// Set when the service stops: every stream ends, so that a graceful shutdown does
    /// not wait on clients that never hang up.
    closed: watch::Sender<bool>,
}

impl Default for EventHub {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(REPLAY_EVENTS);
        EventHub {
            inner: Arc::new(HubInner {
                tx,
                window: Mutex::new((0, VecDeque::with_capacity(REPLAY_EVENTS))),
                closed: watch::channel(false).0,
            }),
        }
    }
}

impl EventHub {
    /// Publishes `data` as an event of `kind`; returns its number.
    pub fn publish(&self, kind: EventKind, data: &impl Serialize) -> u64 {
        let data = serde_json::to_string(data).unwrap_or_else(|_| "null".into());
        // The window's lock orders numbering, keeping and sending: every listener sees
        // events in number order, and a subscriber never misses one between its replay
        // and its first live event.
        let mut window = self
            .inner
            .window
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        window.0 += 1;
        let event = Arc::new(HubEvent {
            id: window.0,
            kind,
            data,
        });
        if kind.supersedes() {
            if let Some(i) = window.1.iter().position(|e| e.kind == kind) {
                window.1.remove(i);
            }
        }
        if window.1.len() == REPLAY_EVENTS {
            window.1.pop_front();
        }
        window.1.push_back(event.clone());
        let _ = self.inner.tx.send(event);
        window.0
    }

    /// Ends every stream of the hub, now and for later subscribers.
    pub fn close(&self) {
        self.inner.closed.send_replace(true);
    }

    /// Resolves once the hub is closed.
    fn closed(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        let mut rx = self.inner.closed.subscribe();
        async move {
            let _ = rx.wait_for(|closed| *closed).await;
        }
    }

    /// The events after `last_id` still in the window, and a receiver of the ones to
    /// come.
    pub fn subscribe(
        &self,
        last_id: Option<u64>,
    ) -> (Vec<Arc<HubEvent>>, broadcast::Receiver<Arc<HubEvent>>) {
        let window = self
            .inner
            .window
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let rx = self.inner.tx.subscribe();
        let replay = match last_id {
            Some(last) => window.1.iter().filter(|e| e.id > last).cloned().collect(),
            None => Vec::new(),
        };
        (replay, rx)
    }
}

fn sse_event(e: &HubEvent) -> Event {
    Event::default()
        .id(e.id.to_string())
        .event(e.kind.name())
        .data(&e.data)
}

/// `GET /api/v1/events`: server-sent events.
///
/// Query: `kinds` (comma-separated: readings, state, alarm, forecast, plan; default all),
/// `limit` (end the stream after this many events, for scripts and tests). Header
/// `Last-Event-ID`: replay the kept events after that number first.
#[utoipa::path(
    get,
    path = "/events",
    tag = "live",
    params(
        ("kinds" = Option<String>, Query, description = "Comma-separated kinds to receive: readings, state, alarm, forecast, plan"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 1000000, description = "End the stream after this many events"),
        ("Last-Event-ID" = Option<u64>, Header, description = "Replay the kept events after this number"),
    ),
    responses(
        (status = 200, description = "A stream of events; each has `id`, `event` (its kind) and `data` (JSON)", content_type = "text/event-stream", body = String),
        (status = 400, description = "A bad parameter", body = crate::error::ErrorBody),
    )
)]
pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
) -> Result<impl IntoResponse, ApiError> {
    let q = QueryParams::parse(request.uri().query(), &["kinds", "limit"])?;
    let kinds: Option<Vec<EventKind>> = q
        .text("kinds")
        .map(|text| {
            text.split(',')
                .map(|k| {
                    EventKind::parse(k.trim()).ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "unknown kind {k:?} (readings, state, alarm, forecast, plan)"
                        ))
                        .field("kinds")
                    })
                })
                .collect()
        })
        .transpose()?;
    let limit = q
        .integer("limit", 1..=1_000_000)?
        .map_or(usize::MAX, |l| l as usize);
    let last_id = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok())
                .ok_or_else(|| ApiError::bad_request("must be an event number").field("Last-Event-ID"))?,
        ),
        None => None,
    };
    let (replay, rx) = state.inner.events.subscribe(last_id);
    let replayed_to = replay.last().map_or(last_id.unwrap_or(0), |e| e.id);
    let live = stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(e) => return Some((e, rx)),
                // A slow client skips what it could not take; it can catch up from the
                // replay window by reconnecting with its last id.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .filter(move |e| futures::future::ready(e.id > replayed_to));
    let wanted = move |e: &Arc<HubEvent>| kinds.as_ref().is_none_or(|k| k.contains(&e.kind));
    let stream = stream::iter(replay)
        .chain(live)
        .filter(move |e| futures::future::ready(wanted(e)))
        .take(limit)
        .take_until(state.inner.events.closed())
        .map(|e| Ok::<_, Infallible>(sse_event(&e)));
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// A stream of the events of `hub` as they come, for in-process listeners.
pub fn listen(hub: &EventHub) -> impl Stream<Item = Arc<HubEvent>> {
    let (_, rx) = hub.subscribe(None);
    let closed = hub.closed();
    stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(e) => return Some((e, rx)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .take_until(closed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn events_are_numbered_and_replayed_after_the_last_id() {
        let hub = EventHub::default();
        for n in 0..5 {
            hub.publish(EventKind::Alarm, &n);
        }
        let (replay, _) = hub.subscribe(Some(3));
        assert_eq!(replay.iter().map(|e| e.id).collect::<Vec<_>>(), [4, 5]);
        assert_eq!(replay[0].data, "3");
        let (none, _) = hub.subscribe(None);
        assert!(none.is_empty());
    }

    #[test]
    fn the_window_keeps_the_newest() {
        let hub = EventHub::default();
        for n in 0..REPLAY_EVENTS + 10 {
            hub.publish(EventKind::Alarm, &n);
        }
        let (replay, _) = hub.subscribe(Some(0));
        assert_eq!(replay.len(), REPLAY_EVENTS);
        assert_eq!(replay[0].id, 11);
    }

    #[test]
    fn of_the_superseding_kinds_only_the_newest_is_kept() {
        let hub = EventHub::default();
        for n in 0..100 {
            hub.publish(EventKind::State, &n);
            hub.publish(EventKind::Readings, &n);
            if n % 10 == 0 {
                hub.publish(EventKind::Alarm, &n);
            }
        }
        let (replay, _) = hub.subscribe(Some(0));
        let kinds: Vec<EventKind> = replay.iter().map(|e| e.kind).collect();
        assert_eq!(kinds.iter().filter(|k| **k == EventKind::Alarm).count(), 10);
        assert_eq!(kinds.iter().filter(|k| **k == EventKind::State).count(), 1);
        assert_eq!(kinds.iter().filter(|k| **k == EventKind::Readings).count(), 1);
        let state = replay
            .iter()
            .find(|e| e.kind == EventKind::State)
            .map(|e| e.data.as_str());
        assert_eq!(state, Some("99"), "the state kept is not the newest");
        assert!(
            replay.windows(2).all(|w| w[0].id < w[1].id),
            "replay out of order"
        );
    }

    #[tokio::test]
    async fn closing_the_hub_ends_its_streams() {
        let hub = EventHub::default();
        let mut early = Box::pin(listen(&hub));
        hub.publish(EventKind::Plan, &1);
        assert_eq!(early.next().await.map(|e| e.id), Some(1));
        hub.close();
        assert!(early.next().await.is_none(), "a stream outlived the hub");
        let mut late = Box::pin(listen(&hub));
        assert!(late.next().await.is_none(), "a stream opened after the close");
    }
}
