//! The router as a client meets it: tokens, errors, bodies, and a document that names
//! every route there is.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

use crate::error::ApiError;
use crate::state::{Control, WhatIfRequest, WhatIfRun};
use crate::testing::{TOKEN, state_with};

/// A service that counts what it was asked to do.
#[derive(Debug, Default)]
struct Counting {
    forecasts: AtomicUsize,
    whatifs: AtomicUsize,
}

impl Control for Counting {
    fn request_forecast(&self) -> Result<(), ApiError> {
        self.forecasts.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn start_whatif(&self, _request: WhatIfRequest) -> Result<String, ApiError> {
        Ok(format!("w{}", self.whatifs.fetch_add(1, Ordering::SeqCst) + 1))
    }

    fn whatif(&self, _id: &str) -> Option<WhatIfRun> {
        None
    }
}

/// Sends `request` to a router over `control` and returns the status and the JSON body
/// (`Null` when the body is not JSON).
async fn send(
    control: &Arc<Counting>,
    reads_need_token: bool,
    request: Request<Body>,
) -> (StatusCode, Value) {
    let app = crate::router(state_with(control.clone(), reads_need_token));
    let response = app.oneshot(request).await.expect("the router answers");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn post(path: &str, token: Option<&str>, body: &str) -> Request<Body> {
    let mut r = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    r.body(Body::from(body.to_string())).expect("a request")
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).expect("a request")
}

/// The error body's `code` and `field`.
fn error_of(body: &Value) -> (&str, Option<&str>) {
    let e = &body["error"];
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "an error says what is wrong: {body}"
    );
    (e["code"].as_str().unwrap_or_default(), e["field"].as_str())
}

#[tokio::test]
async fn a_mutation_without_the_right_token_is_refused_and_changes_nothing() {
    let control = Arc::new(Counting::default());
    for token in [None, Some("not-the-token"), Some("")] {
        let (status, body) = send(&control, false, post("/api/v1/forecast/run", token, "")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "token {token:?}");
        assert_eq!(error_of(&body), ("unauthorized", Some("Authorization")));
        let (status, _) = send(&control, false, post("/api/v1/whatif", token, r#"{"hours": 1}"#)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        control.forecasts.load(Ordering::SeqCst),
        0,
        "a refused request reached the service"
    );
    assert_eq!(
        control.whatifs.load(Ordering::SeqCst),
        0,
        "a refused request reached the service"
    );

    let (status, _) = send(&control, false, post("/api/v1/forecast/run", Some(TOKEN), "")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, body) = send(
        &control,
        false,
        post("/api/v1/whatif", Some(TOKEN), r#"{"hours": 1}"#),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(body["id"], "w1");
    assert_eq!(control.forecasts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn guarded_reads_need_the_token_but_probes_stay_open() {
    let control = Arc::new(Counting::default());
    let (status, _) = send(&control, true, get("/api/v1/campus")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(&control, false, get("/api/v1/campus")).await;
    assert_eq!(status, StatusCode::OK);
    let authorised = Request::get("/api/v1/campus")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .expect("a request");
    assert_eq!(send(&control, true, authorised).await.0, StatusCode::OK);
    for probe in ["/healthz", "/readyz"] {
        let (status, _) = send(&control, true, get(probe)).await;
        assert_ne!(status, StatusCode::UNAUTHORIZED, "{probe}");
    }
}

#[tokio::test]
async fn a_bad_body_is_a_400_naming_the_field() {
    let control = Arc::new(Counting::default());
    let cases = [
        (r#"{"hours": "two"}"#, "hours"),
        (r#"{"hours": 1, "colour": "red"}"#, "."),
        (
            r#"{"events": [{"kind": "pump_trip", "at_s": "soon"}]}"#,
            "events[0]",
        ),
        (r#"{"hours": 1e9}"#, "hours"),
        // The scenario file's rules hold for a what-if's events too.
        (
            r#"{"events": [{"kind": "chiller_trip", "at_s": -5, "chillers": 1}]}"#,
            "events[0].at_s",
        ),
        (
            r#"{"events": [{"kind": "cdu_pump_trip", "at_s": 0, "hall": "h", "cdu": 1, "residual_flow_frac": 2}]}"#,
            "events[0].residual_flow_frac",
        ),
        // serde's derive would take a struct written as an array, field by field.
        ("[]", "."),
        (r#"{"events": [["chiller_trip", 0, null, 1]]}"#, "events"),
    ];
    for (body, field) in cases {
        let (status, answer) = send(&control, false, post("/api/v1/whatif", Some(TOKEN), body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        let (code, named) = error_of(&answer);
        assert_eq!(code, "bad_request");
        if field == "." {
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("colour") || m.contains("expected an object")),
                "{answer}"
            );
        } else {
            assert!(
                named.is_some_and(|f| f.starts_with(field)),
                "{body}: field {named:?}, wanted {field}"
            );
        }
    }
    let (status, answer) = send(&control, false, post("/api/v1/whatif", Some(TOKEN), "{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&answer).0, "bad_request");
    let not_json = Request::post("/api/v1/whatif")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::from("{}"))
        .expect("a request");
    let (status, answer) = send(&control, false, not_json).await;
    assert_eq!(
        (status, error_of(&answer).1),
        (StatusCode::BAD_REQUEST, Some("Content-Type"))
    );
    assert_eq!(
        control.whatifs.load(Ordering::SeqCst),
        0,
        "a bad body reached the service"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_in_json() {
    let control = Arc::new(Counting::default());
    let huge = format!(r#"{{"hours": 1, "events": [{}]}}"#, vec!["{}"; 400_000].join(","));
    let (status, answer) = send(&control, false, post("/api/v1/whatif", Some(TOKEN), &huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_of(&answer).0, "payload_too_large");
}

#[tokio::test]
async fn unknown_routes_methods_and_parameters_are_json_errors() {
    let control = Arc::new(Counting::default());
    let (status, body) = send(&control, false, get("/api/v1/nothing-here")).await;
    assert_eq!((status, error_of(&body).0), (StatusCode::NOT_FOUND, "not_found"));
    let delete = Request::delete("/api/v1/campus")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .expect("a request");
    let (status, body) = send(&control, false, delete).await;
    assert_eq!(
        (status, error_of(&body).0),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    let (status, body) = send(&control, false, get("/api/v1/alarms?sinse=2026-01-01T00:00:00Z")).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, ("bad_request", Some("sinse")))
    );
    let (status, body) = send(&control, false, get("/api/v1/alarms?since=yesterday")).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, ("bad_request", Some("since")))
    );
    // Nothing published yet: the service says so, as a 503 a client retries.
    for path in ["/api/v1/forecast", "/api/v1/plan", "/api/v1/state"] {
        let (status, body) = send(&control, false, get(path)).await;
        assert_eq!(
            (status, error_of(&body).0),
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn the_document_names_every_route_and_every_route_it_names_answers() {
    let doc = serde_json::to_value(crate::openapi()).expect("the document serialises");
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    for wanted in [
        "/api/v1/campus",
        "/api/v1/state",
        "/api/v1/points",
        "/api/v1/points/{point_id}/history",
        "/api/v1/alarms",
        "/api/v1/forecast",
        "/api/v1/forecast/run",
        "/api/v1/forecast/accuracy",
        "/api/v1/plan",
        "/api/v1/whatif",
        "/api/v1/whatif/{id}",
        "/api/v1/events",
        "/metrics",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(wanted), "the document lacks {wanted}");
    }
    let control = Arc::new(Counting::default());
    for (path, item) in paths {
        let concrete = path
            .replace("{point_id}", "grid%2Fimport_kw")
            .replace("{id}", "w1");
        for method in item.as_object().expect("a path item").keys() {
            let request = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&concrete)
                .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(if method == "post" { "{}" } else { "" }))
                .expect("a request");
            if path == "/api/v1/events" {
                continue; // a stream: it answers by never ending
            }
            let (status, body) = send(&control, false, request).await;
            let fallback = body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("no route"));
            assert!(
                !fallback && status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {status} {body}"
            );
            let documented = item[method.as_str()]["responses"]
                .as_object()
                .is_some_and(|r| r.contains_key(status.as_str()));
            assert!(
                documented,
                "{method} {path} answered {status}, which its document does not list"
            );
        }
    }
}

#[tokio::test]
async fn requests_are_counted_by_route_template_and_status() {
    let app = crate::router(crate::testing::state());
    for path in ["/api/v1/campus", "/api/v1/campus", "/api/v1/forecast"] {
        app.clone().oneshot(get(path)).await.expect("the router answers");
    }
    let response = app.oneshot(get("/metrics")).await.expect("the router answers");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a body");
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("campustwin_http_requests_total{route=\"/api/v1/campus\",status=\"200\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("campustwin_http_requests_total{route=\"/api/v1/forecast\",status=\"503\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("campustwin_http_request_duration_seconds_count 3"),
        "{text}"
    );
}

#[tokio::test]
async fn an_alarm_is_acknowledged_with_the_token_once_and_not_without() {
    use crate::state::{LiveState, LiveView};
    use twin::estimate::{Alarm, AlarmKind, EstimatorState};

    let alarm = Alarm {
        kind: AlarmKind::PumpUnderperforming,
        subject: "hall-a/cdu-01".into(),
        at: "2026-12-03T12:00:00Z".parse().expect("a time"),
        message: "CDU 1 of hall-a moves 30 % of its design flow".into(),
    };
    let live = LiveView::new(LiveState {
        estimate: EstimatorState {
            as_of: None,
            readings: 0,
            ignored: 0,
            out_of_order: 0,
            loops: Vec::new(),
            alarms: vec![alarm],
        },
        latest: Default::default(),
        throttle: Vec::new(),
        readings: 0,
        published_at: chrono::Utc::now(),
    });
    let app = crate::router(crate::testing::state_publishing(
        Arc::new(crate::testing::Idle),
        false,
        Some(live),
    ));
    let call = |request: Request<Body>| {
        let app = app.clone();
        async move {
            let response = app.oneshot(request).await.expect("the router answers");
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("a body");
            (
                status,
                serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null),
            )
        }
    };
    let (_, listed) = call(get("/api/v1/alarms")).await;
    let id = listed["alarms"][0]["id"].as_str().expect("an id").to_string();
    assert_eq!(listed["alarms"][0]["acknowledged_at"], Value::Null);
    let path = format!("/api/v1/alarms/{id}/acknowledge");

    let (status, _) = call(post(&path, None, "")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, listed) = call(get("/api/v1/alarms")).await;
    assert_eq!(
        listed["alarms"][0]["acknowledged_at"],
        Value::Null,
        "acknowledged without a token"
    );

    let (status, first) = call(post(&path, Some(TOKEN), "")).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let at = first["acknowledged_at"].as_str().expect("a time").to_string();
    let (_, again) = call(post(&path, Some(TOKEN), "")).await;
    assert_eq!(
        again["acknowledged_at"].as_str(),
        Some(at.as_str()),
        "a second acknowledgement moved the first"
    );
    let (_, listed) = call(get("/api/v1/alarms")).await;
    assert_eq!(listed["alarms"][0]["acknowledged_at"].as_str(), Some(at.as_str()));

    let (status, missing) = call(post(
        "/api/v1/alarms/0000000000000000/acknowledge",
        Some(TOKEN),
        "",
    ))
    .await;
    assert_eq!(
        (status, error_of(&missing).1),
        (StatusCode::NOT_FOUND, Some("alarm_id"))
    );
}
