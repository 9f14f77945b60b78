//! `GET /metrics`: the Prometheus text exposition format (version 0.0.4), written from
//! the live values at each scrape: the intake's counters, the store and the sink's lag,
//! the estimator's loops, the forecast's age and every plant figure of the latest state
//! and forecast, each with its unit in its name.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use crate::state::AppState;

/// A metrics page being written: each family once, with its help and type.
#[derive(Debug, Default)]
pub struct MetricsText {
    out: String,
}

/// A metric's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    /// Goes up and down.
    Gauge,
    /// Only goes up (name ends in `_total`).
    Counter,
}

impl MetricsText {
    /// Writes a family `name` of `kind` with `help` and its samples (labels, value).
    /// Values that are not finite are left out (Prometheus would take them, but a NaN
    /// from a missing measurement is not a measurement).
    pub fn family<'a>(
        &mut self,
        name: &str,
        kind: MetricType,
        help: &str,
        samples: impl IntoIterator<Item = (&'a [(&'a str, &'a str)], f64)>,
    ) {
        let kind_name = match kind {
            MetricType::Gauge => "gauge",
            MetricType::Counter => "counter",
        };
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.out, "# TYPE {name} {kind_name}");
        for (labels, value) in samples {
            if !value.is_finite() {
                continue;
            }
            self.out.push_str(name);
            if !labels.is_empty() {
                self.out.push('{');
                for (i, (k, v)) in labels.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    let _ = write!(self.out, "{k}=\"{}\"", escape_label(v));
                }
                self.out.push('}');
            }
            let _ = writeln!(self.out, " {value}");
        }
    }

    /// A family of one unlabelled sample.
    pub fn one(&mut self, name: &str, kind: MetricType, help: &str, value: f64) {
        self.family(name, kind, help, [(&[][..], value)]);
    }

    /// The page.
    pub fn finish(self) -> String {
        self.out
    }
}

/// Upper bounds of the request-duration histogram's buckets, s.
pub const DURATION_BUCKETS_S: [f64; 10] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5, 10.0];

/// Requests answered, by route template and status, and how long they took to their
/// response head (for the event stream: to its opening).
#[derive(Debug, Default)]
pub struct RequestStats {
    counts: Mutex<RequestCounts>,
}

#[derive(Debug, Default)]
struct RequestCounts {
    /// Route template → status → count.
    by_route: BTreeMap<String, BTreeMap<u16, u64>>,
    buckets: [u64; DURATION_BUCKETS_S.len()],
    count: u64,
    sum_s: f64,
}

impl RequestStats {
    fn record(&self, route: &str, status: u16, seconds: f64) {
        let mut c = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The route's key is allocated once, not per request.
        match c.by_route.get_mut(route) {
            Some(statuses) => *statuses.entry(status).or_default() += 1,
            None => {
                c.by_route.insert(route.to_owned(), BTreeMap::from([(status, 1)]));
            }
        }
        for (bucket, bound) in c.buckets.iter_mut().zip(DURATION_BUCKETS_S) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        c.count += 1;
        c.sum_s += seconds;
    }

    fn write(&self, m: &mut MetricsText) {
        let c = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let statuses: Vec<(String, String, f64)> = c
            .by_route
            .iter()
            .flat_map(|(route, statuses)| {
                statuses
                    .iter()
                    .map(move |(status, n)| (route.clone(), status.to_string(), *n as f64))
            })
            .collect();
        let labels: Vec<[(&str, &str); 2]> = statuses
            .iter()
            .map(|(r, s, _)| [("route", r.as_str()), ("status", s.as_str())])
            .collect();
        m.family(
            "campustwin_http_requests_total",
            MetricType::Counter,
            "HTTP requests answered, by route and status.",
            labels.iter().zip(&statuses).map(|(l, (_, _, n))| (&l[..], *n)),
        );
        let name = "campustwin_http_request_duration_seconds";
        let _ = writeln!(m.out, "# HELP {name} Time from a request to its response head.");
        let _ = writeln!(m.out, "# TYPE {name} histogram");
        for (bound, n) in DURATION_BUCKETS_S.iter().zip(c.buckets) {
            let _ = writeln!(m.out, "{name}_bucket{{le=\"{bound}\"}} {n}");
        }
        let _ = writeln!(m.out, "{name}_bucket{{le=\"+Inf\"}} {}", c.count);
        let _ = writeln!(m.out, "{name}_sum {}", c.sum_s);
        let _ = writeln!(m.out, "{name}_count {}", c.count);
    }
}

/// Middleware of the routed requests: counts each by its route template and status.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // A cheap clone (the template is shared), kept across the handler.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let started = Instant::now();
    let response = next.run(request).await;
    state.inner.requests.record(
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

fn escape_label(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `GET /metrics`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String))
)]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let s = &state.inner;
    let mut m = MetricsText::default();
    use MetricType::{Counter, Gauge};
    let count = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed) as f64;
    m.one(
        "campustwin_uptime_seconds",
        Gauge,
        "Seconds since the service started.",
        s.started.elapsed().as_secs_f64(),
    );
    m.one(
        "campustwin_intake_messages_total",
        Counter,
        "MQTT messages received.",
        count(&s.intake.messages),
    );
    m.one(
        "campustwin_intake_readings_total",
        Counter,
        "Readings committed to the store.",
        count(&s.intake.readings),
    );
    m.one(
        "campustwin_intake_duplicates_total",
        Counter,
        "Readings dropped as duplicates.",
        count(&s.intake.duplicates),
    );
    m.one(
        "campustwin_intake_rejected_total",
        Counter,
        "Values rejected (all reasons).",
        count(&s.intake.rejected),
    );
    m.one(
        "campustwin_intake_commits_total",
        Counter,
        "Store transactions.",
        count(&s.intake.commits),
    );
    m.one(
        "campustwin_intake_connections_total",
        Counter,
        "Broker connections made.",
        count(&s.intake.connections),
    );

    if let Some(store) = &s.store {
        if let Ok(stats) = store.stats() {
            let reasons: Vec<(String, f64)> = stats
                .rejected
                .iter()
                .map(|(r, n)| (r.clone(), *n as f64))
                .collect();
            let labels: Vec<[(&str, &str); 1]> =
                reasons.iter().map(|(r, _)| [("reason", r.as_str())]).collect();
            m.family(
                "campustwin_store_rejected_total",
                Counter,
                "Values rejected, by reason, as counted in the store.",
                labels.iter().zip(&reasons).map(|(l, (_, n))| (&l[..], *n)),
            );
            m.one(
                "campustwin_store_readings",
                Gauge,
                "Raw readings stored.",
                stats.readings as f64,
            );
            m.one(
                "campustwin_store_points",
                Gauge,
                "Points stored.",
                stats.points as f64,
            );
            if let Some(last) = stats.last_ts {
                let lag = (Utc::now() - last).num_milliseconds() as f64 / 1000.0;
                m.one(
                    "campustwin_store_lag_seconds",
                    Gauge,
                    "Age of the newest reading stored.",
                    lag,
                );
            }
            let sinks: Vec<(String, f64)> = stats
                .sink_pending
                .iter()
                .map(|(k, v)| (k.clone(), *v as f64))
                .collect();
            let labels: Vec<[(&str, &str); 1]> = sinks.iter().map(|(k, _)| [("sink", k.as_str())]).collect();
            m.family(
                "campustwin_sink_pending_readings",
                Gauge,
                "Readings not yet forwarded, per sink.",
                labels.iter().zip(&sinks).map(|(l, (_, n))| (&l[..], *n)),
            );
        }
    }

    if let Some(live) = s.live.borrow().clone() {
        let e = &live.state.estimate;
        let names: Vec<(String, String)> = e
            .loops
            .iter()
            .map(|l| (l.hall.clone(), format!("{:02}", l.cdu)))
            .collect();
        let labels: Vec<[(&str, &str); 2]> = names
            .iter()
            .map(|(h, c)| [("hall", h.as_str()), ("cdu", c.as_str())])
            .collect();
        let per_loop = |f: fn(&twin::estimate::LoopEstimate) -> f64| {
            labels.iter().zip(&e.loops).map(move |(l, x)| (&l[..], f(x)))
        };
        m.family(
            "campustwin_loop_supply_temp_celsius",
            Gauge,
            "Estimated rack-loop supply per CDU.",
            per_loop(|l| l.supply_temp_c),
        );
        m.family(
            "campustwin_loop_return_temp_celsius",
            Gauge,
            "Estimated rack-loop return per CDU.",
            per_loop(|l| l.return_temp_c),
        );
        m.family(
            "campustwin_loop_flow_ratio",
            Gauge,
            "Estimated flow per CDU, fraction of design.",
            per_loop(|l| l.flow_frac),
        );
        m.family(
            "campustwin_loop_flow_std_ratio",
            Gauge,
            "Standard deviation of the flow estimate, fraction of design.",
            per_loop(|l| l.flow_frac_std),
        );
        m.family(
            "campustwin_estimator_residual_cusum",
            Gauge,
            "Largest drift statistic of each loop's sensors (alarm above 10).",
            per_loop(|l| l.max_cusum),
        );
        m.one(
            "campustwin_estimator_readings_total",
            Counter,
            "Readings the estimator took in.",
            e.readings as f64,
        );
        m.one(
            "campustwin_alarms",
            Gauge,
            "Alarms kept (the newest 200).",
            e.alarms.len() as f64,
        );
        let plant = |point: &str| live.state.latest.get(point).map_or(f64::NAN, |p| p.value);
        for (name, point, help) in PLANT_POINTS {
            m.one(name, Gauge, help, plant(point) * scale_of(name));
        }
        if let Some(at) = e.as_of {
            let age = (Utc::now() - at).num_milliseconds() as f64 / 1000.0;
            m.one(
                "campustwin_state_age_seconds",
                Gauge,
                "Age of the newest reading in the estimate.",
                age,
            );
        }
    }

    if let Some(f) = s.forecast.borrow().clone() {
        let f = &f.forecast;
        let age = (Utc::now() - f.issued_at).num_milliseconds() as f64 / 1000.0;
        m.one(
            "campustwin_forecast_age_seconds",
            Gauge,
            "Age of the latest forecast.",
            age,
        );
        m.one(
            "campustwin_forecast_id",
            Gauge,
            "Number of the latest forecast.",
            f.id as f64,
        );
        if let Some(next) = f.slots.first() {
            m.one(
                "campustwin_forecast_it_watts",
                Gauge,
                "Forecast IT power, first slot.",
                next.it_kw * 1000.0,
            );
            m.one(
                "campustwin_forecast_facility_watts",
                Gauge,
                "Forecast facility power, first slot.",
                next.facility_kw * 1000.0,
            );
            m.one(
                "campustwin_forecast_import_watts",
                Gauge,
                "Forecast grid import, first slot.",
                next.import_kw * 1000.0,
            );
            m.one(
                "campustwin_forecast_import_limit_watts",
                Gauge,
                "Import limit, first slot.",
                next.import_limit_kw * 1000.0,
            );
            m.one(
                "campustwin_forecast_pue_ratio",
                Gauge,
                "Forecast PUE, first slot.",
                next.pue,
            );
            m.one(
                "campustwin_forecast_battery_soc_ratio",
                Gauge,
                "Forecast battery state of charge, end of the first slot.",
                next.battery_soc_frac,
            );
            m.one(
                "campustwin_forecast_max_gpu_temp_celsius",
                Gauge,
                "Forecast hottest GPU, first slot.",
                next.max_gpu_temp_c,
            );
        }
        let peak = f
            .slots
            .iter()
            .map(|s| s.max_gpu_temp_c)
            .fold(f64::NEG_INFINITY, f64::max);
        m.one(
            "campustwin_forecast_horizon_max_gpu_temp_celsius",
            Gauge,
            "Hottest GPU over the forecast horizon.",
            peak,
        );
        let headroom: Vec<(String, f64)> = f
            .halls
            .iter()
            .map(|h| {
                (
                    h.id.clone(),
                    h.cooling_headroom_kw
                        .iter()
                        .copied()
                        .fold(f64::INFINITY, f64::min)
                        * 1000.0,
                )
            })
            .collect();
        let labels: Vec<[(&str, &str); 1]> = headroom.iter().map(|(h, _)| [("hall", h.as_str())]).collect();
        m.family(
            "campustwin_forecast_min_cooling_headroom_watts",
            Gauge,
            "Least cooling headroom of each hall over the forecast horizon.",
            labels.iter().zip(&headroom).map(|(l, (_, v))| (&l[..], *v)),
        );
    }
    s.requests.write(&mut m);
    let ready = s.ready.borrow().clone();
    m.one(
        "campustwin_ready",
        Gauge,
        "1 when the intake is connected and a forecast exists.",
        f64::from(u8::from(ready.intake_connected && ready.forecast)),
    );
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        m.finish(),
    )
}

/// Plant figures of the latest readings: metric name, point, help. Powers are served in
/// watts and fractions as ratios, Prometheus's base units.
const PLANT_POINTS: [(&str, &str, &str); 12] = [
    ("campustwin_grid_import_watts", "grid/import_kw", "Grid import."),
    (
        "campustwin_facility_watts",
        "grid/facility/power_kw",
        "Facility power at the meter.",
    ),
    ("campustwin_solar_watts", "grid/solar/power_kw", "Solar output."),
    (
        "campustwin_battery_watts",
        "grid/battery/power_kw",
        "Battery power, positive discharging.",
    ),
    (
        "campustwin_battery_soc_ratio",
        "grid/battery/soc_frac",
        "Battery state of charge.",
    ),
    (
        "campustwin_engines_watts",
        "grid/engines/power_kw",
        "Engine output.",
    ),
    (
        "campustwin_cooling_watts",
        "plant/cooling/power_kw",
        "Cooling power.",
    ),
    (
        "campustwin_chillers_watts",
        "plant/chillers/power_kw",
        "Trim-chiller power.",
    ),
    (
        "campustwin_facility_supply_temp_celsius",
        "plant/fw_supply_temp_c",
        "Facility water supply.",
    ),
    (
        "campustwin_facility_return_temp_celsius",
        "plant/fw_return_temp_c",
        "Facility water return.",
    ),
    (
        "campustwin_dry_bulb_temp_celsius",
        "weather/dry_bulb_temp_c",
        "Outdoor dry bulb.",
    ),
    (
        "campustwin_wet_bulb_temp_celsius",
        "weather/wet_bulb_temp_c",
        "Outdoor wet bulb.",
    ),
];

fn scale_of(name: &str) -> f64 {
    if name.ends_with("_watts") { 1000.0 } else { 1.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_have_help_type_and_escaped_labels() {
        let mut m = MetricsText::default();
        m.family(
            "x_watts",
            MetricType::Gauge,
            "A \\ power.\nSecond line.",
            [(&[("hall", "a\"b")][..], 1.5), (&[][..], f64::NAN)],
        );
        let text = m.finish();
        assert_eq!(
            text,
            "# HELP x_watts A \\\\ power.\\nSecond line.\n# TYPE x_watts gauge\nx_watts{hall=\"a\\\"b\"} 1.5\n"
        );
    }
}
