//! The operator dashboard in real headless Chromium (Debian's `chromium`, driven by
//! Playwright from npm: `web/ui/test/dashboard.mjs`) against `campustwin serve` on its
//! defaults with a failing pump, and the shipped Grafana dashboard against the metrics that
//! same service exposes.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::serve::{Serve, TOKEN};
use crate::support::repo_root;

/// Where the test run keeps the screenshots of each view.
fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots")
}

/// Node and the page's test dependencies, which `.ci/run` installs.
fn browser_prerequisites() -> PathBuf {
    let ui = repo_root().join("web/ui");
    let missing: Vec<&str> = [
        (
            ui.join("node_modules/playwright-core").exists(),
            "npm ci --prefix web/ui",
        ),
        (
            Path::new("/usr/bin/chromium").exists(),
            "apt-get install chromium",
        ),
        (
            Command::new("node").arg("--version").output().is_ok(),
            "apt-get install nodejs npm",
        ),
    ]
    .into_iter()
    .filter(|(present, _)| !present)
    .map(|(_, fix)| fix)
    .collect();
    assert!(
        missing.is_empty(),
        "the dashboard test needs: {}",
        missing.join("; ")
    );
    ui
}

#[test]
fn the_dashboard_shows_the_live_plant_in_chromium_and_grafana_queries_served_metrics() {
    let ui = browser_prerequisites();
    let mut serve = Serve::start(
        "dashboard",
        &[
            "--simulator-interval-s",
            "1",
            "--fault",
            "pump:hall-a/cdu-01:0.3@5",
        ],
    );
    serve.wait_ready();

    let out = Command::new("node")
        .current_dir(&ui)
        .arg("test/dashboard.mjs")
        .arg(&serve.base)
        .arg(TOKEN)
        .arg(screenshot_dir())
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the dashboard failed in Chromium:\n{stdout}\n{stderr}\n{}",
        serve.log()
    );
    eprintln!("dashboard figures: {stdout}");
    for view in ["overview", "plant", "forecast", "alarms", "plan", "whatif"] {
        let shot = screenshot_dir().join(format!("{view}.png"));
        assert!(
            std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
            "no screenshot {}",
            shot.display()
        );
    }

    // Every panel of the shipped Grafana dashboard asks for a metric this service exposes.
    let metrics = serve.text("/metrics");
    let dashboard = repo_root().join("deploy/grafana/dashboards/campustwin.json");
    let checked = crate::grafana::check_dashboard_against_metrics(&dashboard, &metrics)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(checked >= 40, "only {checked} metrics checked");
    assert!(serve.stop().success());
}
