//! The Grafana files in `deploy/grafana/`: the dashboard names only metrics that `/metrics`
//! exposes, its panels are laid out and all query through the `${datasource}` variable,
//! and the provisioning files and the scrape config say what the README says they do.
//! `check_dashboard_against_metrics` is also called with the `/metrics` of a running
//! `campustwin serve`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Value, json};

use crate::support::repo_root;

/// The prefix of every metric `campustwin serve` exposes.
const PREFIX: &str = "campustwin_";
/// The oldest dashboard schema the shipped dashboard may be in.
const MIN_SCHEMA_VERSION: u64 = 39;
/// The width of Grafana's grid.
const GRID_COLUMNS: u64 = 24;

/// Every panel of `dashboard`, including the panels nested in rows (collapsed rows keep
/// theirs in their own `panels`), in document order.
fn all_panels(dashboard: &Value) -> Vec<&Value> {
    fn walk<'a>(panels: Option<&'a Value>, out: &mut Vec<&'a Value>) {
        for panel in panels.and_then(Value::as_array).into_iter().flatten() {
            out.push(panel);
            walk(panel.get("panels"), out);
        }
    }
    let mut out = Vec::new();
    walk(dashboard.get("panels"), &mut out);
    out
}

fn is_row(panel: &Value) -> bool {
    panel.get("type").and_then(Value::as_str) == Some("row")
}

/// How a panel is named in messages: its title, or its id when it has none.
fn panel_label(panel: &Value) -> String {
    match panel.get("title").and_then(Value::as_str) {
        Some(title) if !title.trim().is_empty() => format!("\"{title}\""),
        _ => format!("(untitled, id {})", panel.get("id").unwrap_or(&Value::Null)),
    }
}

/// The identifiers of `expr` that match `campustwin_[a-z0-9_]+` and start at a word
/// boundary, as written (a histogram's `_bucket`, `_sum` and `_count` stay on).
fn metric_identifiers(expr: &str) -> Vec<String> {
    let bytes = expr.as_bytes();
    let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b':';
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(found) = expr[i..].find(PREFIX) {
        let start = i + found;
        let mut end = start + PREFIX.len();
        while end < bytes.len()
            && (bytes[end].is_ascii_lowercase() || bytes[end].is_ascii_digit() || bytes[end] == b'_')
        {
            end += 1;
        }
        if (start == 0 || !is_name(bytes[start - 1])) && end > start + PREFIX.len() {
            out.push(expr[start..end].to_string());
        }
        i = end;
    }
    out
}

/// The metric names in the `expr` of every target of every panel of `dashboard` (rows'
/// nested panels included; rows themselves hold no queries). Fails, naming each panel, when
/// a panel has no targets or a target has no `expr`.
pub(crate) fn metric_names_in_dashboard(dashboard: &Value) -> Result<BTreeSet<String>, String> {
    let mut names = BTreeSet::new();
    let mut problems = Vec::new();
    for panel in all_panels(dashboard).into_iter().filter(|p| !is_row(p)) {
        let label = panel_label(panel);
        let targets = match panel.get("targets").and_then(Value::as_array) {
            Some(targets) if !targets.is_empty() => targets,
            _ => {
                problems.push(format!("panel {label} has no targets"));
                continue;
            }
        };
        for (i, target) in targets.iter().enumerate() {
            match target.get("expr").and_then(Value::as_str) {
                Some(expr) if !expr.trim().is_empty() => names.extend(metric_identifiers(expr)),
                _ => {
                    let reference = target
                        .get("refId")
                        .and_then(Value::as_str)
                        .map_or_else(|| format!("number {}", i + 1), ToString::to_string);
                    problems.push(format!("panel {label}: target {reference} has no expr"));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(names)
    } else {
        Err(problems.join("; "))
    }
}

/// The sample names of a Prometheus text exposition: the name before `{` or the space of
/// each sample line, and the name of each `# TYPE` line.
fn sample_names(metrics_text: &str) -> BTreeSet<&str> {
    let mut names = BTreeSet::new();
    for line in metrics_text.lines().map(str::trim) {
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.split_whitespace();
            if words.next() == Some("TYPE") {
                names.extend(words.next());
            }
        } else if !line.is_empty() {
            let end = line
                .find(|c: char| c == '{' || c.is_whitespace())
                .unwrap_or(line.len());
            names.insert(&line[..end]);
        }
    }
    names
}

/// Checks the dashboard at `dashboard_path` against the `/metrics` page `metrics_text`:
/// schemaVersion ≥ 39, unique panel ids, a `gridPos` on every panel, and every metric that
/// a target's `expr` or a query variable names is on the page. Returns how many distinct
/// metrics it checked; the error lists every problem, and every metric the page lacks.
pub(crate) fn check_dashboard_against_metrics(
    dashboard_path: &Path,
    metrics_text: &str,
) -> Result<usize, String> {
    let file = dashboard_path.display();
    let text = std::fs::read_to_string(dashboard_path).map_err(|e| format!("{file}: cannot read it: {e}"))?;
    let dashboard: Value = serde_json::from_str(&text).map_err(|e| format!("{file}: not JSON: {e}"))?;

    let mut problems = Vec::new();
    match dashboard.get("schemaVersion").and_then(Value::as_u64) {
        Some(v) if v >= MIN_SCHEMA_VERSION => {}
        Some(v) => problems.push(format!("schemaVersion is {v}, below {MIN_SCHEMA_VERSION}")),
        None => problems.push("no schemaVersion".to_string()),
    }
    let mut ids: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for panel in all_panels(&dashboard) {
        let label = panel_label(panel);
        match panel.get("id").and_then(Value::as_u64) {
            Some(id) => ids.entry(id).or_default().push(label.clone()),
            None => problems.push(format!("panel {label} has no numeric id")),
        }
        let grid = panel.get("gridPos");
        let complete = ["h", "w", "x", "y"]
            .iter()
            .all(|k| grid.and_then(|g| g.get(k)).and_then(Value::as_u64).is_some());
        if !complete {
            problems.push(format!("panel {label} has no complete gridPos (h, w, x, y)"));
        }
    }
    for (id, labels) in ids.iter().filter(|(_, l)| l.len() > 1) {
        problems.push(format!("panel id {id} is used by {}", labels.join(", ")));
    }

    let mut names = match metric_names_in_dashboard(&dashboard) {
        Ok(names) => names,
        Err(e) => {
            problems.push(e);
            BTreeSet::new()
        }
    };
    // The query variables (`label_values(metric, label)`) name metrics too.
    for variable in dashboard
        .pointer("/templating/list")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("type").and_then(Value::as_str) == Some("query"))
    {
        let query = match variable.get("query") {
            Some(Value::String(q)) => Some(q.as_str()),
            Some(q) => q.get("query").and_then(Value::as_str),
            None => None,
        };
        names.extend(query.into_iter().flat_map(metric_identifiers));
    }

    let exposed = sample_names(metrics_text);
    let missing: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| !exposed.contains(n))
        .collect();
    if !missing.is_empty() {
        problems.push(format!(
            "the dashboard names {} metric(s) that /metrics lacks: {}",
            missing.len(),
            missing.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(names.len())
    } else {
        Err(format!("{file}: {}", problems.join("; ")))
    }
}

/// Panels of one level (the top level, or a collapsed row's) that overlap or leave the
/// grid.
fn layout_problems(panels: &[&Value]) -> Vec<String> {
    let rect = |p: &Value| {
        let n = |k: &str| {
            p.pointer(&format!("/gridPos/{k}"))
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        (n("x"), n("y"), n("w"), n("h"))
    };
    let mut problems = Vec::new();
    for (i, a) in panels.iter().enumerate() {
        let (ax, ay, aw, ah) = rect(a);
        if aw == 0 || ah == 0 || ax + aw > GRID_COLUMNS {
            problems.push(format!("panel {} is outside the grid", panel_label(a)));
        }
        for b in &panels[i + 1..] {
            let (bx, by, bw, bh) = rect(b);
            if ax < bx + bw && bx < ax + aw && ay < by + bh && by < ay + ah {
                problems.push(format!(
                    "panels {} and {} overlap",
                    panel_label(a),
                    panel_label(b)
                ));
            }
        }
    }
    problems
}

/// Every `datasource` value in `value`, with where it is.
fn datasources<'a>(value: &'a Value, at: &str, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "datasource" {
                    out.push((at.to_string(), v));
                }
                datasources(v, &format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                datasources(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Whether `text` has a line that is `line` once trimmed (comments are whole lines).
fn has_line(text: &str, line: &str) -> bool {
    text.lines().any(|l| l.trim() == line)
}

#[test]
fn the_dashboard_parser_finds_every_metric_and_refuses_a_missing_one() {
    let dashboard = json!({
        "schemaVersion": 39,
        "panels": [
            {"type": "row", "id": 1, "title": "Plant", "collapsed": false,
             "gridPos": {"h": 1, "w": 24, "x": 0, "y": 0}},
            {"type": "timeseries", "id": 2, "title": "Import", "gridPos": {"h": 8, "w": 12, "x": 0, "y": 1},
             "targets": [
                 {"refId": "A", "expr": "campustwin_grid_import_watts"},
                 {"refId": "B", "expr": "campustwin_forecast_import_limit_watts - campustwin_grid_import_watts"}
             ]},
            {"type": "row", "id": 3, "title": "API", "collapsed": true,
             "gridPos": {"h": 1, "w": 24, "x": 0, "y": 9},
             "panels": [
                 {"type": "timeseries", "id": 4, "title": "Latency", "gridPos": {"h": 8, "w": 12, "x": 0, "y": 10},
                  "targets": [{"refId": "A", "expr":
                      "histogram_quantile(0.99, sum by (le) (rate(campustwin_http_request_duration_seconds_bucket[$__rate_interval])))"}]},
                 {"type": "stat", "id": 5, "title": "Requests", "gridPos": {"h": 4, "w": 6, "x": 12, "y": 10},
                  "targets": [{"refId": "A", "expr":
                      "sum by (route, status) (rate(campustwin_http_requests_total{status=~\"5..\"}[5m]))"}]}
             ]}
        ],
        "templating": {"list": [
            {"type": "query", "name": "hall", "query": {"query": "label_values(campustwin_loop_supply_temp_celsius, hall)"}}
        ]}
    });
    let names = metric_names_in_dashboard(&dashboard).expect("every panel has queries");
    let expected: BTreeSet<String> = [
        "campustwin_forecast_import_limit_watts",
        "campustwin_grid_import_watts",
        "campustwin_http_request_duration_seconds_bucket",
        "campustwin_http_requests_total",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(names, expected, "the nested row's panels are walked too");

    let dir = crate::support::TempDir::new("grafana");
    let path = dir.path().join("dashboard.json");
    std::fs::write(&path, dashboard.to_string()).expect("the dashboard written");

    let complete = "\
# HELP campustwin_grid_import_watts Grid import.
# TYPE campustwin_grid_import_watts gauge
campustwin_grid_import_watts 2.5e6
# TYPE campustwin_forecast_import_limit_watts gauge
campustwin_forecast_import_limit_watts 3e6
# TYPE campustwin_http_requests_total counter
campustwin_http_requests_total{route=\"/metrics\",status=\"200\"} 4
# TYPE campustwin_http_request_duration_seconds histogram
campustwin_http_request_duration_seconds_bucket{le=\"0.001\"} 4
campustwin_http_request_duration_seconds_bucket{le=\"+Inf\"} 4
campustwin_http_request_duration_seconds_sum 0.002
campustwin_http_request_duration_seconds_count 4
# TYPE campustwin_loop_supply_temp_celsius gauge
";
    assert_eq!(
        check_dashboard_against_metrics(&path, complete),
        Ok(5),
        "four from the panels, one from the hall variable (a family with only its # TYPE line counts)"
    );

    // The page lacks the import limit and the loop family: both are reported, and only they.
    let lacking: String = complete
        .lines()
        .filter(|l| !l.contains("campustwin_forecast_import_limit_watts") && !l.contains("loop_supply"))
        .flat_map(|l| [l, "\n"])
        .collect();
    let err = check_dashboard_against_metrics(&path, &lacking).expect_err("a missing metric fails the check");
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("2 metric(s)"), "{err}");
    assert!(err.contains("campustwin_forecast_import_limit_watts"), "{err}");
    assert!(err.contains("campustwin_loop_supply_temp_celsius"), "{err}");
    assert!(!err.contains("campustwin_grid_import_watts"), "{err}");

    // A name is matched whole, not as a prefix of another sample name.
    let err = check_dashboard_against_metrics(&path, &complete.replace("_bucket{", "_buckets{"))
        .expect_err("_buckets is not _bucket");
    assert!(
        err.contains("campustwin_http_request_duration_seconds_bucket"),
        "{err}"
    );

    // Panels without queries are named.
    let mut broken = dashboard.clone();
    broken["panels"][1]["targets"] = json!([]);
    broken["panels"][2]["panels"][1]["targets"][0] = json!({"refId": "A"});
    let err = metric_names_in_dashboard(&broken).expect_err("no targets, no expr");
    assert!(err.contains("panel \"Import\" has no targets"), "{err}");
    assert!(err.contains("panel \"Requests\": target A has no expr"), "{err}");

    // The structure: schema version, ids, grid positions; and an unreadable file.
    let mut old = dashboard.clone();
    old["schemaVersion"] = json!(27);
    old["panels"][2]["panels"][0]["id"] = json!(2);
    old["panels"][0]
        .as_object_mut()
        .expect("a panel")
        .remove("gridPos");
    std::fs::write(&path, old.to_string()).expect("the dashboard written");
    let err = check_dashboard_against_metrics(&path, complete).expect_err("an old, broken dashboard");
    assert!(err.contains("schemaVersion is 27"), "{err}");
    assert!(
        err.contains("panel id 2 is used by \"Import\", \"Latency\""),
        "{err}"
    );
    assert!(err.contains("panel \"Plant\" has no complete gridPos"), "{err}");

    let nowhere = dir.path().join("nowhere.json");
    let err = check_dashboard_against_metrics(&nowhere, complete).expect_err("no file");
    assert!(err.starts_with(&nowhere.display().to_string()), "{err}");
    std::fs::write(&path, "{ not json").expect("the file written");
    let err = check_dashboard_against_metrics(&path, complete).expect_err("not JSON");
    assert!(err.contains("not JSON"), "{err}");
}

#[test]
fn the_shipped_provisioning_files_are_well_formed() {
    let dir = repo_root().join("deploy/grafana");

    let datasource = read(&dir.join("provisioning/datasources/campustwin.yaml"));
    for line in [
        "apiVersion: 1",
        "datasources:",
        "- name: CampusTwin Prometheus",
        "type: prometheus",
        "uid: campustwin-prometheus",
        "url: http://localhost:9090",
    ] {
        assert!(
            has_line(&datasource, line),
            "the data source file lacks `{line}`:\n{datasource}"
        );
    }
    let provider = read(&dir.join("provisioning/dashboards/campustwin.yaml"));
    for line in [
        "apiVersion: 1",
        "providers:",
        "type: file",
        "path: /var/lib/grafana/dashboards/campustwin",
        "foldersFromFilesStructure: false",
    ] {
        assert!(
            has_line(&provider, line),
            "the dashboard provider file lacks `{line}`:\n{provider}"
        );
    }
    let prometheus = read(&dir.join("prometheus.yml"));
    for line in [
        "scrape_configs:",
        "- job_name: campustwin",
        "scrape_interval: 5s",
        "metrics_path: /metrics",
        "- targets: [\"127.0.0.1:8080\"]",
    ] {
        assert!(
            has_line(&prometheus, line),
            "prometheus.yml lacks `{line}`:\n{prometheus}"
        );
    }
    for (name, text) in [
        ("datasource", &datasource),
        ("provider", &provider),
        ("prometheus", &prometheus),
    ] {
        assert!(
            !text.contains('\t'),
            "the {name} file has a tab, which YAML refuses"
        );
    }

    let path = dir.join("dashboards/campustwin.json");
    let dashboard: Value =
        serde_json::from_str(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(dashboard["uid"], "campustwin-plant");
    assert_eq!(dashboard["title"], "CampusTwin plant");
    assert!(dashboard["schemaVersion"].as_u64().unwrap_or(0) >= MIN_SCHEMA_VERSION);

    let variables = dashboard["templating"]["list"]
        .as_array()
        .expect("templating variables");
    let variable = |name: &str| {
        variables
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no variable {name}"))
    };
    let ds = variable("datasource");
    assert_eq!(ds["type"], "datasource");
    assert_eq!(ds["pluginId"], "prometheus");
    assert_eq!(ds["query"], "prometheus");
    let hall = variable("hall");
    assert_eq!(hall["type"], "query");
    assert_eq!(
        hall["definition"],
        "label_values(campustwin_loop_supply_temp_celsius, hall)"
    );
    assert_eq!(
        hall["query"]["query"],
        "label_values(campustwin_loop_supply_temp_celsius, hall)"
    );

    // Every query goes through the variable (the built-in annotation is Grafana's own).
    let wanted = json!({"type": "prometheus", "uid": "${datasource}"});
    let mut found = Vec::new();
    for (key, value) in dashboard.as_object().expect("an object") {
        if key != "annotations" {
            datasources(value, &format!("/{key}"), &mut found);
        }
    }
    let wrong: Vec<String> = found
        .iter()
        .filter(|(_, v)| **v != wanted)
        .map(|(at, v)| format!("{at}: {v}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "datasources other than ${{datasource}}: {wrong:#?}"
    );

    let panels = all_panels(&dashboard);
    let queried: Vec<&Value> = panels.iter().copied().filter(|p| !is_row(p)).collect();
    assert!(queried.len() >= 30, "only {} panels", queried.len());
    for panel in &queried {
        let label = panel_label(panel);
        assert_eq!(panel["datasource"], wanted, "panel {label}");
        assert!(
            panel
                .pointer("/fieldConfig/defaults/unit")
                .and_then(Value::as_str)
                .is_some(),
            "panel {label} has no unit"
        );
        assert!(
            matches!(panel["type"].as_str(), Some("timeseries" | "stat")),
            "panel {label} is a {}",
            panel["type"]
        );
        let mut refs = BTreeSet::new();
        for target in panel["targets"].as_array().into_iter().flatten() {
            let r = target["refId"]
                .as_str()
                .unwrap_or_else(|| panic!("panel {label}: a target without refId"));
            assert!(refs.insert(r), "panel {label}: refId {r} twice");
            assert_eq!(target["datasource"], wanted, "panel {label} target {r}");
        }
    }
    let top: Vec<&Value> = dashboard["panels"].as_array().expect("panels").iter().collect();
    let mut layout = layout_problems(&top);
    for row in top.iter().filter(|p| is_row(p)) {
        let nested: Vec<&Value> = row["panels"].as_array().into_iter().flatten().collect();
        layout.extend(layout_problems(&nested));
    }
    assert!(layout.is_empty(), "{layout:#?}");

    // Each metric is one that web/src/metrics.rs writes (a histogram's series by its base name).
    let names = metric_names_in_dashboard(&dashboard).expect("every panel queries");
    let source = read(&repo_root().join("web/src/metrics.rs"));
    let written = |name: &str| source.contains(&format!("\"{name}\""));
    let unknown: Vec<&String> = names
        .iter()
        .filter(|n| {
            !written(n)
                && !["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|s| n.strip_suffix(s).is_some_and(&written))
        })
        .collect();
    assert!(
        unknown.is_empty(),
        "metrics that web/src/metrics.rs does not write: {unknown:?}"
    );
}
