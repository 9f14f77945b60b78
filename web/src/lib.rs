//! CampusTwin's HTTP API: JSON under `/api/v1` (the campus, the estimated state, points
//! and their history, alarms, the forecast and its accuracy, the plan, what-ifs), one
//! stream of server-sent events, Prometheus metrics, health, and the OpenAPI 3.1
//! document generated from the handlers with its interactive page at `/docs`.
//!
//! The crate serves what the service publishes ([`state::AppState`]: `watch` channels of
//! the latest state, forecast and plan, an [`events::EventHub`], the store read-only) and
//! asks the service for what it does on request ([`state::Control`]). It knows nothing of
//! the binary that wires it.
//!
//! ```
//! use axum::body::Body;
//! use axum::http::{Request, StatusCode};
//! use tower::ServiceExt;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let app = web::router(web::testing::state());
//! let response = app
//!     .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
//!     .await
//!     .unwrap();
//! assert_eq!(response.status(), StatusCode::OK);
//! # });
//! ```

pub mod api;
pub mod auth;
pub mod error;
pub mod events;
pub mod json;
pub mod metrics;
pub mod state;
pub mod testing;
pub mod tls;
mod ui;

#[cfg(test)]
mod tests;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::response::IntoResponse;
use tower_http::timeout::TimeoutLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

pub use error::ApiError;
pub use state::AppState;

/// The document's frame: title, version, tags and the bearer scheme; the paths come
/// from the handlers themselves.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "CampusTwin API",
        description = "The live plant, its forecasts, plans and what-ifs. Reads are open on loopback by default; every mutating call needs `Authorization: Bearer TOKEN`.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "plant", description = "The campus and its estimated state, points, history and alarms"),
        (name = "forecast", description = "Forecasts, their accuracy, plans and what-ifs"),
        (name = "live", description = "Server-sent events"),
        (name = "operations", description = "Metrics and health"),
    )
)]
struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The scenario's events refuse unknown fields (`deny_unknown_fields` on the tagged enum),
/// which utoipa does not carry onto the variants of an internally tagged enum: the
/// document says so here, so that clients know an unknown field is a 400.
struct ClosedVariants;

impl Modify for ClosedVariants {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::RefOr;
        use utoipa::openapi::schema::{AdditionalProperties, Schema};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for name in ["Event"] {
            if let Some(RefOr::T(Schema::OneOf(one_of))) = components.schemas.get_mut(name) {
                for item in &mut one_of.items {
                    if let RefOr::T(Schema::Object(variant)) = item {
                        variant.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
                    }
                }
            }
        }
    }
}

/// The routes and the OpenAPI document that describes exactly them.
fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    use api::{forecast, health, live};
    let v1 = OpenApiRouter::new()
        .routes(routes!(live::campus))
        .routes(routes!(live::state))
        .routes(routes!(live::points))
        .routes(routes!(live::history))
        .routes(routes!(live::alarms))
        .routes(routes!(live::acknowledge_alarm))
        .routes(routes!(forecast::forecast))
        .routes(routes!(forecast::run_forecast))
        .routes(routes!(forecast::forecast_accuracy))
        .routes(routes!(forecast::plan))
        .routes(routes!(forecast::start_whatif))
        .routes(routes!(forecast::whatif))
        .routes(routes!(events::events));
    let (router, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", v1)
        .routes(routes!(metrics::metrics))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .split_for_parts();
    // The handlers' schemas are in only now.
    ClosedVariants.modify(&mut openapi);
    (router, openapi)
}

/// The OpenAPI 3.1 document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().1
}

/// The API: every route, the docs page and its document, the token check, the body
/// limit and the request timeout.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = routes();
    let limits = state.inner.limits;
    api.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        metrics::track,
    ))
    .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
    .merge(ui::routes())
    .fallback(not_found)
    .method_not_allowed_fallback(method_not_allowed)
    .layer(axum::middleware::from_fn_with_state(
        state.clone(),
        auth::require_token,
    ))
    .layer(DefaultBodyLimit::max(limits.body_bytes))
    .layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        Duration::from_secs_f64(limits.timeout_s),
    ))
    .with_state(state)
}

async fn not_found(uri: Uri) -> impl IntoResponse {
    ApiError::not_found(format!("no route {}", uri.path()))
}

async fn method_not_allowed(method: Method, uri: Uri) -> impl IntoResponse {
    let mut e = ApiError::bad_request(format!("{method} is not allowed on {}", uri.path()));
    e.status = StatusCode::METHOD_NOT_ALLOWED;
    e.code = "method_not_allowed";
    e
}

/// FNV-1a, 64 bits: a hash that is the same in every build (for ids and `ETag`s that
/// outlive a process), unlike `std`'s.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
