//! What comes next: the latest forecast and how the forecasts did, the plan, what-ifs.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use models::forecast::Forecast;
use models::forecast::accuracy::{self, AccuracyReport};
use models::schedule::Plan;
use serde::Serialize;
use utoipa::ToSchema;

use super::live::{blocking, json_bytes, store};
use crate::error::{ApiError, ErrorBody};
use crate::json::{Json, QueryParams};
use crate::state::{AppState, WhatIfRequest, WhatIfRun};

/// `GET /forecast`: the latest forecast.
#[utoipa::path(get, path = "/forecast", tag = "forecast",
    responses(
        (status = 200, description = "The latest forecast", body = Forecast),
        (status = 503, description = "No forecast yet", body = ErrorBody),
    ))]
pub async fn forecast(State(state): State<AppState>) -> Result<Response, ApiError> {
    let latest = state.inner.forecast.borrow().clone();
    latest
        .map(|f| json_bytes(f.json))
        .ok_or_else(|| ApiError::unavailable("no forecast has been issued yet"))
}

/// The answer to a request the service carries out later.
#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    /// What was accepted.
    pub message: String,
}

/// `POST /forecast/run`: asks for a forecast now (the loop also runs on its own period).
#[utoipa::path(post, path = "/forecast/run", tag = "forecast",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "A forecast will be made", body = Accepted),
        (status = 401, description = "No or a wrong token", body = ErrorBody),
    ))]
pub async fn run_forecast(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    state.inner.control.request_forecast()?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(Accepted {
            message: "a forecast will be made; it arrives on /events as `forecast`".into(),
        }),
    ))
}

/// `GET /forecast/accuracy`: issued forecasts scored against the measurements that
/// followed, per quantity and lead time (MAPE, CV(RMSE), NMBE), beside ASHRAE
/// Guideline 14's calibration limits.
#[utoipa::path(get, path = "/forecast/accuracy", tag = "forecast",
    params(
        ("since" = Option<chrono::DateTime<chrono::Utc>>, Query, description = "Score forecasts issued at or after this time, RFC 3339 (default: 24 h ago; a time to come scores nothing)"),
        ("lead_bucket_h" = Option<u64>, Query, minimum = 1, maximum = 168, description = "Width of a lead-time bucket, h (default 1)"),
    ),
    responses(
        (status = 200, description = "The scores", body = AccuracyReport),
        (status = 400, description = "A bad parameter", body = ErrorBody),
        (status = 503, description = "No store", body = ErrorBody),
    ))]
pub async fn forecast_accuracy(
    State(state): State<AppState>,
    request: Request,
) -> Result<axum::Json<AccuracyReport>, ApiError> {
    let q = QueryParams::parse(request.uri().query(), &["since", "lead_bucket_h"])?;
    let now = Utc::now();
    let since = q
        .time("since")?
        .unwrap_or(now - chrono::Duration::hours(24))
        .min(now);
    let bucket_h = q.integer("lead_bucket_h", 1..=168)?.unwrap_or(1) as f64;
    let reader = store(&state)?.clone();
    let report = blocking(move || {
        let forecasts = reader.forecasts_issued_between(since, now)?;
        let mut failure = None;
        let report = accuracy::report(
            &forecasts,
            |point, from, to, step_minutes| {
                let step = std::time::Duration::from_secs(u64::from(step_minutes) * 60);
                match reader.history(point, Some(from), Some(to), Some(step), usize::MAX, None) {
                    Ok(page) => page.rows.into_iter().map(|r| (r.ts, r.value)).collect(),
                    Err(e) if e.kind() == models::ErrorKind::NotFound => Vec::new(),
                    Err(e) => {
                        failure.get_or_insert(e);
                        Vec::new()
                    }
                }
            },
            bucket_h,
            now,
        );
        match failure {
            Some(e) => Err(e),
            None => Ok(report),
        }
    })
    .await?;
    Ok(axum::Json(report))
}

/// `GET /plan`: the plan the optimizer made for the latest forecast (the plan file of
/// docs/optimizer-formulation.md).
#[utoipa::path(get, path = "/plan", tag = "forecast",
    responses(
        (status = 200, description = "The latest plan", body = Plan),
        (status = 503, description = "No plan yet", body = ErrorBody),
    ))]
pub async fn plan(State(state): State<AppState>) -> Result<Response, ApiError> {
    let latest = state.inner.plan.borrow().clone();
    latest
        .map(|p| json_bytes(p.json))
        .ok_or_else(|| ApiError::unavailable("no plan has been made yet"))
}

/// `POST /whatif` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhatIfStarted {
    /// Run id, for `GET /whatif/{id}`.
    pub id: String,
}

/// `POST /whatif`: runs a scenario (a pump trip, a tower fan failure, a chiller trip, an
/// import-limit drop, …) from the current state over the forecast's plan; returns at once
/// with the run's id.
#[utoipa::path(post, path = "/whatif", tag = "forecast",
    security(("bearer" = [])),
    request_body = WhatIfRequest,
    responses(
        (status = 202, description = "The run started", body = WhatIfStarted),
        (status = 400, description = "A bad body", body = ErrorBody),
        (status = 401, description = "No or a wrong token", body = ErrorBody),
        (status = 409, description = "As many what-ifs as may run at once are running", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 422, description = "The scenario does not fit the campus", body = ErrorBody),
        (status = 503, description = "No forecast to start from yet", body = ErrorBody),
    ))]
pub async fn start_whatif(
    State(state): State<AppState>,
    Json(request): Json<WhatIfRequest>,
) -> Result<impl IntoResponse, ApiError> {
    check_whatif(&request)?;
    let id = state.inner.control.start_whatif(request)?;
    Ok((StatusCode::ACCEPTED, axum::Json(WhatIfStarted { id })))
}

/// Checks a what-if request as `POST /whatif` does before it asks for the run: the hours
/// within range and the events by the scenario file's own rules (times ≥ 0, durations
/// positive, fractions within 0–1, …); a request breaking one is the client's mistake, a
/// 400 naming the field. What needs the campus and the horizon is checked by the
/// service. Public so that the fuzz harness runs the handler's own checks on arbitrary
/// bodies.
pub fn check_whatif(request: &WhatIfRequest) -> Result<(), ApiError> {
    if let Some(h) = request.hours {
        if !(h.is_finite() && (0.01..=168.0).contains(&h)) {
            return Err(ApiError::bad_request("must be a number of hours from 0.01 to 168").field("hours"));
        }
    }
    let scenario = models::scenario::Scenario {
        events: request.events.clone(),
        ..Default::default()
    };
    let mut problems = models::Problems::new();
    scenario.validate(&mut problems);
    match problems.iter().next() {
        Some(first) => Err(ApiError::bad_request(first.message.clone()).field(first.path.clone())),
        None => Ok(()),
    }
}

/// `GET /whatif/{id}`: the run's status, and when done its summary and series.
#[utoipa::path(get, path = "/whatif/{id}", tag = "forecast",
    params(("id" = String, Path, description = "Run id")),
    responses(
        (status = 200, description = "The run", body = WhatIfRun),
        (status = 404, description = "No such run", body = ErrorBody),
    ))]
pub async fn whatif(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<axum::Json<WhatIfRun>, ApiError> {
    state
        .inner
        .control
        .whatif(&id)
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found(format!("no what-if run {id:?}")).field("id"))
}
