//! `campustwin site`: the grid headroom of the shipped balancing authorities.
#![allow(clippy::unwrap_used)]

use crate::support::{self, TempDir};

#[test]
fn site_headroom_of_every_shipped_authority_grows_with_the_curtailment_accepted() {
    let grid = support::repo_root().join("examples/sites/grid");
    let mut files: Vec<_> = std::fs::read_dir(&grid)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".csv.gz"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 8, "{files:?}");
    for file in files {
        let out = support::run(&["site", "headroom", file.to_str().unwrap(), "--format", "json"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["hours"], 8760, "{report}");
        let rows = report["headroom"].as_array().unwrap();
        let rates: Vec<f64> = rows.iter().map(|r| r["rate_pct"].as_f64().unwrap()).collect();
        assert_eq!(rates, [0.25, 0.5, 1.0, 5.0]);
        let mut last = 0.0;
        for r in rows {
            let (added, rate) = (r["added_mw"].as_f64().unwrap(), r["rate"].as_f64().unwrap());
            assert!(
                added > last,
                "{}: headroom does not grow: {report}",
                file.display()
            );
            assert!(
                rate <= r["rate_pct"].as_f64().unwrap() / 100.0 + 1e-12,
                "{report}"
            );
            assert!(r["events"].as_u64().unwrap() >= 1 && r["longest_event_h"].as_u64().unwrap() >= 1);
            last = added;
        }
    }
    // The table names its columns.
    let pjm = grid.join("PJM_2022_hourly.csv.gz");
    let out = support::run(&["site", "headroom", pjm.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("headroom MW") && table.contains("8760 hours"),
        "{table}"
    );
}

#[test]
fn site_headroom_refuses_bad_files_and_rates_with_code_2() {
    let dir = TempDir::new("site-bad");
    let gap = dir.path().join("gap.csv");
    std::fs::write(
        &gap,
        "time,demand_mw\n2022-01-01T00:00:00Z,1\n2022-01-01T02:00:00Z,1\n",
    )
    .unwrap();
    let out = support::run(&["site", "headroom", gap.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("gap.csv") && err.contains("line 3") && err.contains("2.00 h after"),
        "{err}"
    );
    let out = support::run(&["site", "headroom", gap.to_str().unwrap(), "--rates-pct", "150"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--rates-pct"));
    let out = support::run(&[
        "site",
        "headroom",
        dir.path().join("missing.csv").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
}
