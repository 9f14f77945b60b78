//! What the handlers serve: the service's live values on `watch` channels (the latest of
//! each, read without locks), the event hub, the store, and the control of the service
//! behind the API.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use ingest::mqtt::intake::IntakeStats;
use ingest::store::Reader;
use models::forecast::Forecast;
use models::schedule::Plan;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use twin::estimate::EstimatorState;
use twin::estimate::throttle::CduThrottle;
use utoipa::ToSchema;

use crate::auth::Auth;
use crate::error::ApiError;
use crate::events::EventHub;

/// The latest value of a point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PointValue {
    /// Reading time.
    pub ts: DateTime<Utc>,
    /// Value, in the point's canonical unit (the suffix of its id).
    pub value: f64,
}

/// The estimated state of the plant and the latest reading of every point.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveState {
    /// What the twin estimator knows.
    pub estimate: EstimatorState,
    /// Latest value of every point read since the service started.
    pub latest: BTreeMap<String, PointValue>,
    /// Each CDU's hottest GPU and its margin to throttling, from the latest readings.
    pub throttle: Vec<CduThrottle>,
    /// Readings taken in since the service started.
    pub readings: u64,
    /// When this state was published.
    pub published_at: DateTime<Utc>,
}

/// One CDU loop's estimate.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoopState {
    /// Hall name.
    pub hall: String,
    /// CDU number.
    pub cdu: u32,
    /// Estimated rack-loop supply, °C.
    pub supply_temp_c: f64,
    /// Estimated rack-loop return, °C.
    pub return_temp_c: f64,
    /// Estimated flow, fraction of design.
    pub flow_frac: f64,
    /// Standard deviation of the flow estimate, fraction of design.
    pub flow_frac_std: f64,
    /// Largest drift statistic of the loop's sensors (0 healthy; alarms above 10).
    pub max_cusum: f64,
    /// Hottest GPU die on the loop's racks from their power and outlet readings, °C
    /// (never cooler than the truth while the GPUs are up).
    #[schema(nullable = true)]
    pub hottest_gpu_c: Option<f64>,
    /// Throttle temperature less the hottest GPU, K; negative while throttling.
    #[schema(nullable = true)]
    pub throttle_margin_k: Option<f64>,
}

/// `GET /api/v1/state`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StateResponse {
    /// Time of the newest reading the estimate has taken in.
    #[schema(nullable = true)]
    pub as_of: Option<DateTime<Utc>>,
    /// When this state was published (about once a second).
    pub published_at: DateTime<Utc>,
    /// Readings taken in since the service started.
    pub readings: u64,
    /// Readings of points the estimator does not model.
    pub ignored: u64,
    /// Loop readings older than the loop's estimate, not taken in.
    pub out_of_order: u64,
    /// Every CDU loop.
    pub loops: Vec<LoopState>,
    /// Active and recent alarms raised by the estimator.
    pub alarm_count: usize,
    /// Latest value of every point, by point id.
    pub latest: BTreeMap<String, PointValue>,
}

/// A live state with its answer to `GET /state` serialised once, not per request.
#[derive(Debug, Clone)]
pub struct LiveView {
    /// The state.
    pub state: Arc<LiveState>,
    /// Its JSON.
    pub json: Bytes,
}

impl LiveView {
    /// The view of `state`.
    pub fn new(state: LiveState) -> Self {
        let response = StateResponse {
            as_of: state.estimate.as_of,
            published_at: state.published_at,
            readings: state.readings,
            ignored: state.estimate.ignored,
            out_of_order: state.estimate.out_of_order,
            loops: state
                .estimate
                .loops
                .iter()
                .map(|l| {
                    let throttle = state.throttle.iter().find(|t| t.hall == l.hall && t.cdu == l.cdu);
                    LoopState {
                        hall: l.hall.clone(),
                        cdu: l.cdu,
                        supply_temp_c: l.supply_temp_c,
                        return_temp_c: l.return_temp_c,
                        flow_frac: l.flow_frac,
                        flow_frac_std: l.flow_frac_std,
                        max_cusum: l.max_cusum,
                        hottest_gpu_c: throttle.and_then(|t| t.hottest_gpu_c),
                        throttle_margin_k: throttle.and_then(|t| t.margin_k),
                    }
                })
                .collect(),
            alarm_count: state.estimate.alarms.len(),
            latest: state.latest.clone(),
        };
        let json = serde_json::to_vec(&response).map(Bytes::from).unwrap_or_default();
        LiveView {
            state: Arc::new(state),
            json,
        }
    }
}

/// The latest forecast, with its JSON.
#[derive(Debug, Clone)]
pub struct ForecastView {
    /// The forecast.
    pub forecast: Arc<Forecast>,
    /// Its JSON.
    pub json: Bytes,
}

impl ForecastView {
    /// The view of `forecast`.
    pub fn new(forecast: Forecast) -> Self {
        let json = serde_json::to_vec(&forecast).map(Bytes::from).unwrap_or_default();
        ForecastView {
            forecast: Arc::new(forecast),
            json,
        }
    }
}

/// The latest plan, with its JSON.
#[derive(Debug, Clone)]
pub struct PlanView {
    /// The plan.
    pub plan: Arc<Plan>,
    /// When it was made.
    pub made_at: DateTime<Utc>,
    /// Its JSON.
    pub json: Bytes,
}

impl PlanView {
    /// The view of `plan`, made at `made_at`.
    pub fn new(plan: Plan, made_at: DateTime<Utc>) -> Self {
        let json = serde_json::to_vec(&plan).map(Bytes::from).unwrap_or_default();
        PlanView {
            plan: Arc::new(plan),
            made_at,
            json,
        }
    }
}

/// A what-if request: a scenario as `campustwin simulate --scenario` takes it (its
/// events at offsets from the start), run from the current state over the forecast's
/// plan.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatIfRequest {
    /// Hours to simulate (default: the forecast's horizon).
    #[serde(default)]
    #[schema(nullable = true, minimum = 0.01, maximum = 168.0)]
    pub hours: Option<f64>,
    /// Faults and changes, as in a scenario file (`kind`, `at_s`, …).
    #[serde(default, deserialize_with = "models::strict::objects")]
    pub events: Vec<models::scenario::Event>,
}

/// Where a what-if run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WhatIfStatus {
    /// Waiting or running.
    Running,
    /// Finished: summary and series are in.
    Done,
    /// Failed: see `error`.
    Failed,
}

/// `GET /api/v1/whatif/{id}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WhatIfRun {
    /// Run id.
    pub id: String,
    /// Where it is.
    pub status: WhatIfStatus,
    /// When it was asked for.
    pub requested_at: DateTime<Utc>,
    /// The scenario's events.
    pub events: Vec<models::scenario::Event>,
    /// Seconds to the first GPU throttling with the scenario, when it throttles.
    #[schema(nullable = true)]
    pub first_throttle_s: Option<f64>,
    /// The run's summary (energy, PUE, water, …) when done.
    #[schema(value_type = Object, nullable = true)]
    pub summary: Option<serde_json::Value>,
    /// The campus and halls slot by slot with the scenario, when done.
    #[schema(nullable = true)]
    pub forecast: Option<Forecast>,
    /// The same horizon without the scenario (the forecast it started from).
    #[schema(nullable = true)]
    pub baseline: Option<Forecast>,
    /// Why it failed.
    #[schema(nullable = true)]
    pub error: Option<String>,
}

/// What the API asks of the service behind it.
pub trait Control: Send + Sync + 'static {
    /// Asks for a forecast now; returns at once.
    fn request_forecast(&self) -> Result<(), ApiError>;
    /// Starts a what-if run; returns its id at once.
    fn start_whatif(&self, request: WhatIfRequest) -> Result<String, ApiError>;
    /// The run `id`, if there is one.
    fn whatif(&self, id: &str) -> Option<WhatIfRun>;
}

/// The campus as served by `GET /api/v1/campus`: its file and its design figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CampusInfo {
    /// Campus name.
    pub name: String,
    /// Design figures computed from the campus file.
    pub design: DesignFigures,
    /// Halls.
    pub halls: Vec<HallInfo>,
    /// The validated campus file, as JSON.
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
}

/// Design figures of a campus.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DesignFigures {
    /// GPUs.
    pub gpus: u64,
    /// Racks.
    pub racks: u64,
    /// IT power at full load and TDP, kW.
    pub it_design_kw: f64,
    /// Grid import limit, kW.
    pub import_limit_kw: f64,
    /// Battery energy, kWh (0 without one).
    pub battery_kwh: f64,
    /// On-site engines' rated output, kW.
    pub engines_kw: f64,
    /// Solar array's rated output, kW (0 without one).
    pub solar_kw: f64,
    /// Site latitude, °.
    pub latitude_deg: f64,
    /// Site longitude, °.
    pub longitude_deg: f64,
}

/// One hall's design.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HallInfo {
    /// Hall name.
    pub name: String,
    /// Racks.
    pub racks: u32,
    /// GPUs.
    pub gpus: u64,
    /// CDUs.
    pub cdus: u32,
    /// IT power at full load and TDP, kW.
    pub it_design_kw: f64,
}

/// Whether the service is ready: the first state and the first forecast are in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Readiness {
    /// The intake is connected to its broker.
    pub intake_connected: bool,
    /// A forecast has been issued.
    pub forecast: bool,
}

/// Everything the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("campus", &self.inner.campus.name)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub campus: CampusInfo,
    pub campus_json: Bytes,
    pub live: watch::Receiver<Option<LiveView>>,
    pub forecast: watch::Receiver<Option<ForecastView>>,
    pub plan: watch::Receiver<Option<PlanView>>,
    pub ready: watch::Receiver<Readiness>,
    pub events: EventHub,
    pub store: Option<Arc<Reader>>,
    pub intake: Arc<IntakeStats>,
    pub control: Arc<dyn Control>,
    pub auth: Auth,
    pub started: Instant,
    pub limits: Limits,
    pub requests: crate::metrics::RequestStats,
    pub acks: crate::api::live::Acknowledgements,
}

/// Limits on requests.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest request body, bytes.
    pub body_bytes: usize,
    /// Longest time a request may take (streams excepted), s.
    pub timeout_s: f64,
}

impl Default for Limits {
    /// 1 MiB bodies (a what-if scenario is a few kB) and 30 s (a history page of a year
    /// of one point is read in well under a second).
    fn default() -> Self {
        Limits {
            body_bytes: 1 << 20,
            timeout_s: 30.0,
        }
    }
}

/// The parts an [`AppState`] is made of.
#[allow(missing_debug_implementations)] // holds a `dyn Control`; the state it builds has one
pub struct Parts {
    /// The campus.
    pub campus: CampusInfo,
    /// Latest live state.
    pub live: watch::Receiver<Option<LiveView>>,
    /// Latest forecast.
    pub forecast: watch::Receiver<Option<ForecastView>>,
    /// Latest plan.
    pub plan: watch::Receiver<Option<PlanView>>,
    /// Readiness.
    pub ready: watch::Receiver<Readiness>,
    /// Events for `GET /events`.
    pub events: EventHub,
    /// The store, read-only (absent: history is not served).
    pub store: Option<Arc<Reader>>,
    /// The intake's counters.
    pub intake: Arc<IntakeStats>,
    /// The service's control.
    pub control: Arc<dyn Control>,
    /// Tokens.
    pub auth: Auth,
    /// Request limits.
    pub limits: Limits,
}

impl AppState {
    /// The state made of `parts`.
    pub fn new(parts: Parts) -> Self {
        let campus_json = serde_json::to_vec(&parts.campus)
            .map(Bytes::from)
            .unwrap_or_default();
        AppState {
            inner: Arc::new(Inner {
                campus: parts.campus,
                campus_json,
                live: parts.live,
                forecast: parts.forecast,
                plan: parts.plan,
                ready: parts.ready,
                events: parts.events,
                store: parts.store,
                intake: parts.intake,
                control: parts.control,
                auth: parts.auth,
                started: Instant::now(),
                limits: parts.limits,
                requests: crate::metrics::RequestStats::default(),
                acks: crate::api::live::Acknowledgements::default(),
            }),
        }
    }
}
