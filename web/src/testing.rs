//! A state with nothing published yet and a service that does nothing, for tests and
//! examples of the router.

use std::sync::Arc;

use tokio::sync::watch;

use crate::auth::{Auth, Token};
use crate::error::ApiError;
use crate::events::EventHub;
use crate::state::{
    AppState, CampusInfo, Control, DesignFigures, Limits, LiveView, Parts, Readiness, WhatIfRequest,
    WhatIfRun,
};

/// The token of [`state`].
pub const TOKEN: &str = "test-token";

/// A service that accepts forecast requests and has no what-ifs.
#[derive(Debug, Default)]
pub struct Idle;

impl Control for Idle {
    fn request_forecast(&self) -> Result<(), ApiError> {
        Ok(())
    }

    fn start_whatif(&self, _request: WhatIfRequest) -> Result<String, ApiError> {
        Err(ApiError::unavailable("no forecast to start from yet"))
    }

    fn whatif(&self, _id: &str) -> Option<WhatIfRun> {
        None
    }
}

/// A state of an empty campus with nothing published, one token ([`TOKEN`]), no store.
pub fn state() -> AppState {
    state_with(Arc::new(Idle), false)
}

/// As [`state`], served by `control`, with reads guarded too when `reads_need_token`.
pub fn state_with(control: Arc<dyn Control>, reads_need_token: bool) -> AppState {
    state_publishing(control, reads_need_token, None)
}

/// As [`state_with`], with `live` published as the estimated state.
pub fn state_publishing(
    control: Arc<dyn Control>,
    reads_need_token: bool,
    live: Option<LiveView>,
) -> AppState {
    let (_, live) = watch::channel(live);
    let (_, forecast) = watch::channel(None);
    let (_, plan) = watch::channel(None);
    let (_, ready) = watch::channel(Readiness::default());
    AppState::new(Parts {
        campus: CampusInfo {
            name: "test".into(),
            design: DesignFigures {
                gpus: 0,
                racks: 0,
                it_design_kw: 0.0,
                import_limit_kw: 0.0,
                battery_kwh: 0.0,
                engines_kw: 0.0,
                solar_kw: 0.0,
                latitude_deg: 0.0,
                longitude_deg: 0.0,
            },
            halls: Vec::new(),
            spec: serde_json::Value::Null,
        },
        live,
        forecast,
        plan,
        ready,
        events: EventHub::default(),
        store: None,
        intake: Arc::default(),
        control,
        auth: Auth::new(Token::new(TOKEN).into_iter().collect(), reads_need_token),
        limits: Limits::default(),
    })
}
