//! The plant as it is: the campus, the estimated state, the points and their history,
//! the alarms.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use ingest::store::Reader;
use serde::Serialize;
use twin::estimate::Alarm;
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
use crate::json::QueryParams;
use crate::state::{AppState, CampusInfo, StateResponse};

/// A JSON answer from bytes serialised once.
pub(crate) fn json_bytes(bytes: axum::body::Bytes) -> Response {
    ([(CONTENT_TYPE, "application/json")], bytes).into_response()
}

pub(crate) fn store(state: &AppState) -> Result<&Arc<Reader>, ApiError> {
    state
        .inner
        .store
        .as_ref()
        .ok_or_else(|| ApiError::unavailable("this service keeps no store"))
}

/// `GET /campus`: the campus and its design figures.
#[utoipa::path(get, path = "/campus", tag = "plant",
    responses((status = 200, description = "The campus", body = CampusInfo)))]
pub async fn campus(State(state): State<AppState>) -> Response {
    json_bytes(state.inner.campus_json.clone())
}

/// `GET /state`: the estimated state (per CDU loop: temperatures, flow with its
/// uncertainty) and the latest value of every point.
#[utoipa::path(get, path = "/state", tag = "plant",
    responses(
        (status = 200, description = "The estimated state", body = StateResponse),
        (status = 503, description = "No state yet", body = ErrorBody),
    ))]
pub async fn state(State(state): State<AppState>) -> Result<Response, ApiError> {
    let live = state.inner.live.borrow().clone();
    live.map(|l| json_bytes(l.json))
        .ok_or_else(|| ApiError::unavailable("the estimator has not published a state yet"))
}

/// One point of the store.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointSummary {
    /// Point id (`hall-a/rack-0007/power_kw`).
    pub id: String,
    /// Raw readings stored.
    pub readings: u64,
    /// Oldest raw reading.
    #[schema(nullable = true)]
    pub first_ts: Option<DateTime<Utc>>,
    /// Newest reading.
    #[schema(nullable = true)]
    pub last_ts: Option<DateTime<Utc>>,
    /// Newest value, in the point's unit.
    #[schema(nullable = true)]
    pub latest: Option<f64>,
}

/// `GET /points`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointsResponse {
    /// Every point stored, by id.
    pub points: Vec<PointSummary>,
}

/// `GET /points`: every point stored, with its count, time range and latest value.
#[utoipa::path(get, path = "/points", tag = "plant",
    responses(
        (status = 200, description = "The points", body = PointsResponse),
        (status = 503, description = "No store", body = ErrorBody),
    ))]
pub async fn points(State(state): State<AppState>) -> Result<axum::Json<PointsResponse>, ApiError> {
    let reader = store(&state)?.clone();
    let points = blocking(move || reader.points()).await?;
    Ok(axum::Json(PointsResponse {
        points: points
            .into_iter()
            .map(|p| PointSummary {
                id: p.point,
                readings: p.readings,
                first_ts: p.first_ts,
                last_ts: p.latest.map(|l| l.ts),
                latest: p.latest.map(|l| l.value),
            })
            .collect(),
    }))
}

/// One row of a point's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryRowView {
    /// Time (a bucket's start).
    pub ts: DateTime<Utc>,
    /// Value (a bucket's mean).
    pub value: f64,
    /// Least value in the bucket.
    pub min: f64,
    /// Largest value in the bucket.
    pub max: f64,
    /// Readings in the row (1 for a raw reading).
    pub count: u64,
}

/// `GET /points/{point_id}/history`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryResponse {
    /// The point.
    pub point: String,
    /// Bucket width, s; absent for raw readings.
    #[schema(nullable = true)]
    pub step_s: Option<u64>,
    /// Rows in time order.
    pub rows: Vec<HistoryRowView>,
    /// Pass as `after` for the next page; absent on the last page.
    #[schema(nullable = true)]
    pub next: Option<DateTime<Utc>>,
}

/// Most rows of one page.
pub const MAX_PAGE_ROWS: u64 = 100_000;

/// `GET /points/{point_id}/history`: raw readings, or with `step` means of buckets, in
/// pages.
#[utoipa::path(get, path = "/points/{point_id}/history", tag = "plant",
    params(
        ("point_id" = String, Path, description = "Point id, percent-encoded (hall-a%2Frack-0007%2Fpower_kw)"),
        ("from" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Start, RFC 3339 (default: 1 h before `to`); not after `to`"),
        ("to" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "End, exclusive, RFC 3339 (default: now)"),
        ("step" = Option<String>, Query, pattern = r"^[1-9][0-9]{0,7}[smhd]?$", description = "Bucket width: seconds, or 30s, 5m, 1h, 1d (at most 366 d); raw readings when absent"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 100000, description = "Rows per page (default 10,000)"),
        ("after" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Continue after this time: the `next` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of history", body = HistoryResponse),
        (status = 400, description = "A bad parameter", body = ErrorBody),
        (status = 404, description = "No such point", body = ErrorBody),
        (status = 503, description = "No store", body = ErrorBody),
    ))]
pub async fn history(
    State(state): State<AppState>,
    Path(point_id): Path<String>,
    request: Request,
) -> Result<axum::Json<HistoryResponse>, ApiError> {
    let q = QueryParams::parse(request.uri().query(), &["from", "to", "step", "limit", "after"])?;
    let (from, to) = (q.time("from")?, q.time("to")?);
    // Without `to`, the range ends now, or is empty when it starts later.
    let to = to.unwrap_or_else(|| from.map_or_else(Utc::now, |f| f.max(Utc::now())));
    let from = from.unwrap_or(to - chrono::Duration::hours(1));
    if from > to {
        return Err(ApiError::bad_request("must not be after `to`").field("from"));
    }
    let step_s = q.seconds("step", 1..=366 * 86_400)?;
    let limit = q.integer("limit", 1..=MAX_PAGE_ROWS)?.unwrap_or(10_000) as usize;
    let after = q.time("after")?;
    // Not a point id: certainly not a point of the store.
    models::telemetry::PointId::parse(&point_id)
        .map_err(|e| ApiError::not_found(format!("no such point: {e}")).field("point_id"))?;
    let reader = store(&state)?.clone();
    let point = point_id.clone();
    let page = blocking(move || {
        reader.history(
            &point,
            Some(from),
            Some(to),
            step_s.map(std::time::Duration::from_secs),
            limit,
            after,
        )
    })
    .await?;
    Ok(axum::Json(HistoryResponse {
        point: point_id,
        step_s,
        rows: page
            .rows
            .into_iter()
            .map(|r| HistoryRowView {
                ts: r.ts,
                value: r.value,
                min: r.min,
                max: r.max,
                count: r.count,
            })
            .collect(),
        next: page.next,
    }))
}

/// One alarm.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlarmView {
    /// Alarm id: the same for the same kind, subject and time, across restarts.
    pub id: String,
    /// What is wrong: sensor_drift, sensor_stuck, pump_underperforming.
    pub kind: String,
    /// The point or equipment.
    pub subject: String,
    /// When it was raised.
    pub at: DateTime<Utc>,
    /// For the operator.
    pub message: String,
    /// When an operator acknowledged it.
    #[schema(nullable = true)]
    pub acknowledged_at: Option<DateTime<Utc>>,
}

impl AlarmView {
    fn of(alarm: &Alarm, acks: &Acknowledgements) -> Self {
        let kind = serde_json::to_value(alarm.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let id = alarm_id(&kind, &alarm.subject, alarm.at);
        AlarmView {
            acknowledged_at: acks.get(&id),
            id,
            kind,
            subject: alarm.subject.clone(),
            at: alarm.at,
            message: alarm.message.clone(),
        }
    }
}

/// The id of an alarm: FNV-1a of its kind, subject and time, in hex (stable across
/// builds and restarts, unlike `std`'s hasher).
fn alarm_id(kind: &str, subject: &str, at: DateTime<Utc>) -> String {
    let text = format!(
        "{kind}|{subject}|{}",
        at.timestamp_nanos_opt().unwrap_or(i64::MAX)
    );
    format!("{:016x}", crate::fnv1a(text.as_bytes()))
}

/// Which alarms operators have acknowledged, and when.
#[derive(Debug, Default)]
pub struct Acknowledgements {
    at: std::sync::Mutex<std::collections::BTreeMap<String, DateTime<Utc>>>,
}

impl Acknowledgements {
    fn get(&self, id: &str) -> Option<DateTime<Utc>> {
        self.at.lock().ok().and_then(|m| m.get(id).copied())
    }

    /// Records `id` as acknowledged now, unless it already was; when it was.
    fn acknowledge(&self, id: &str) -> DateTime<Utc> {
        let now = Utc::now();
        match self.at.lock() {
            Ok(mut m) => *m.entry(id.to_string()).or_insert(now),
            Err(_) => now,
        }
    }
}

/// `GET /alarms`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlarmsResponse {
    /// Alarms raised at or after `since`, oldest first (of the newest 200).
    pub alarms: Vec<AlarmView>,
}

/// `GET /alarms`: the alarms the estimator raised, newest last.
#[utoipa::path(get, path = "/alarms", tag = "plant",
    params(("since" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Only alarms raised at or after this time, RFC 3339")),
    responses(
        (status = 200, description = "Alarms", body = AlarmsResponse),
        (status = 400, description = "A bad parameter", body = ErrorBody),
    ))]
pub async fn alarms(
    State(state): State<AppState>,
    request: Request,
) -> Result<axum::Json<AlarmsResponse>, ApiError> {
    let q = QueryParams::parse(request.uri().query(), &["since"])?;
    let since = q.time("since")?;
    let live = state.inner.live.borrow().clone();
    let alarms = live
        .map(|l| {
            l.state
                .estimate
                .alarms
                .iter()
                .filter(|a| since.is_none_or(|s| a.at >= s))
                .map(|a| AlarmView::of(a, &state.inner.acks))
                .collect()
        })
        .unwrap_or_default();
    Ok(axum::Json(AlarmsResponse { alarms }))
}

/// `POST /alarms/{alarm_id}/acknowledge`: an operator has seen the alarm. Acknowledging
/// twice keeps the first time.
#[utoipa::path(post, path = "/alarms/{alarm_id}/acknowledge", tag = "plant",
    security(("bearer" = [])),
    params(("alarm_id" = String, Path, description = "Alarm id, as `GET /alarms` gives it")),
    responses(
        (status = 200, description = "The alarm, acknowledged", body = AlarmView),
        (status = 401, description = "No or a wrong token", body = ErrorBody),
        (status = 404, description = "No such alarm", body = ErrorBody),
    ))]
pub async fn acknowledge_alarm(
    State(state): State<AppState>,
    Path(alarm_id): Path<String>,
) -> Result<axum::Json<AlarmView>, ApiError> {
    let live = state.inner.live.borrow().clone();
    let acks = &state.inner.acks;
    let alarm = live
        .as_ref()
        .and_then(|l| {
            l.state
                .estimate
                .alarms
                .iter()
                .map(|a| AlarmView::of(a, acks))
                .find(|a| a.id == alarm_id)
        })
        .ok_or_else(|| ApiError::not_found(format!("no alarm {alarm_id:?}")).field("alarm_id"))?;
    let acknowledged_at = acks.acknowledge(&alarm.id);
    Ok(axum::Json(AlarmView {
        acknowledged_at: Some(acknowledged_at),
        ..alarm
    }))
}

/// Runs a store query on the blocking pool, mapping its error by kind.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ingest::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::of_kind(e.kind(), &e))
}
