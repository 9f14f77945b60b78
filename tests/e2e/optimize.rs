//! `campustwin optimize`: examples, plans written and re-checked, bad input.
#![allow(clippy::unwrap_used)]

use std::fs;

use models::schedule::{Plan, PlanStatus, ScheduleProblem};

use crate::support::run;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("campustwin-e2e-optimize-{name}-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Writes the small example with `jobs` jobs and `slots` slots to `dir/problem.json`.
fn example_file(dir: &std::path::Path, jobs: &str, slots: &str) -> std::path::PathBuf {
    let path = dir.join("problem.json");
    let out = run(&[
        "optimize",
        "--example",
        "small",
        "--jobs",
        jobs,
        "--slots",
        slots,
        "--out",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    path
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn example_is_solved_and_the_plan_checks() {
    let dir = temp_dir("example");
    let problem_path = example_file(&dir, "6", "16");
    let plan_path = dir.join("plan.json");
    let problem = ScheduleProblem::read(&problem_path).expect("the example is a valid problem");
    assert_eq!(
        (problem.jobs.len(), problem.slots, problem.halls.len()),
        (6, 16, 2)
    );

    let out = run(&[
        "optimize",
        problem_path.to_str().unwrap(),
        "--out",
        plan_path.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("status: optimal"), "{err}");
    assert!(err.contains("check: every constraint holds"), "{err}");
    let plan = Plan::read(&plan_path).expect("plan file");
    assert_eq!(plan.status, PlanStatus::Optimal);
    assert_eq!(plan.import_kw.len(), 16);
    assert!(plan.stats.rows > 0 && plan.stats.nonzeros > 0);
    // The library's independent check agrees with the CLI's.
    assert!(optimizer::check_plan(&problem, &plan).is_ok());
}

/// HiPO (the interior point on a direct factorisation, linked against OpenBLAS) and the
/// dual simplex reach the same optimum; `--solver-log` keeps HiGHS's log.
#[test]
fn hipo_agrees_with_the_simplex_and_logs() {
    let dir = temp_dir("hipo");
    let problem_path = example_file(&dir, "12", "24");
    let objective = |method: &str| {
        let plan_path = dir.join(format!("{method}.json"));
        let log_path = dir.join(format!("{method}.log"));
        let out = run(&[
            "optimize",
            problem_path.to_str().unwrap(),
            "--method",
            method,
            "--out",
            plan_path.to_str().unwrap(),
            "--solver-log",
            log_path.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let log = std::fs::read_to_string(&log_path).expect("solver log");
        (
            Plan::read(&plan_path)
                .expect("plan")
                .objective
                .expect("objective"),
            log,
        )
    };
    let (simplex, _) = objective("simplex");
    let (hipo, log) = objective("hipo");
    assert!(log.contains("Running HiPO"), "{log}");
    assert!(
        (hipo - simplex).abs() <= 1e-6 * simplex.abs().max(1.0),
        "HiPO {hipo} against simplex {simplex}"
    );
}

#[test]
fn plan_goes_to_stdout_without_out() {
    let dir = temp_dir("stdout");
    let problem_path = example_file(&dir, "3", "8");
    let out = run(&["optimize", problem_path.to_str().unwrap(), "--method", "simplex"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let plan: Plan = serde_json::from_slice(&out.stdout).expect("a plan on stdout");
    assert_eq!(plan.status, PlanStatus::Optimal);
}

#[test]
fn bad_problem_exits_2_naming_every_field() {
    let dir = temp_dir("bad");
    let problem_path = example_file(&dir, "3", "8");
    let mut v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&problem_path).unwrap()).unwrap();
    v["grid"]["import_limit_kw"] = serde_json::json!([1.0, 2.0]);
    v["grid"]["price_scenarios"][0]["probability"] = serde_json::json!(0.5);
    v["jobs"][1]["halls"] = serde_json::json!(["hall-z"]);
    v["jobs"][2]["release_slot"] = serde_json::json!(5);
    v["jobs"][2]["deadline_slot"] = serde_json::json!(5);
    v["halls"][0]["throughput_curve"] = serde_json::json!([[0.21, 0.55], [0.35, 0.6], [0.7, 1.0]]);
    v["battery"]["power_kw"] = serde_json::json!(-1.0);
    let bad = dir.join("bad.json");
    fs::write(&bad, v.to_string()).unwrap();
    let out = run(&["optimize", bad.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    for needle in [
        "grid.import_limit_kw: must be one number or an array of exactly 8 numbers",
        "grid.price_scenarios: probabilities must sum to 1",
        "jobs[1].halls[0]: unknown hall \"hall-z\"",
        "jobs[2].deadline_slot: window is empty",
        "halls[0].throughput_curve[2]: curve must be concave",
        "battery.power_kw: must be a finite number >= 0",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    assert!(out.stdout.is_empty(), "no plan for bad input");
}

#[test]
fn malformed_json_and_wrong_types_exit_2() {
    let dir = temp_dir("malformed");
    let broken = dir.join("broken.json");
    fs::write(&broken, "{ \"start\": ").unwrap();
    let out = run(&["optimize", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("broken.json"), "{}", stderr(&out));

    let problem_path = example_file(&dir, "2", "4");
    let text = fs::read_to_string(&problem_path)
        .unwrap()
        .replacen("\"gpus\":8192", "\"gpus\":\"many\"", 1);
    fs::write(&broken, text).unwrap();
    let out = run(&["optimize", broken.to_str().unwrap()]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("halls[0].gpus"), "{err}");

    let out = run(&["optimize", dir.join("missing.json").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["optimize", "--example", "huge"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown size \"huge\""));
}

#[test]
fn infeasible_problem_writes_the_diagnosis_and_exits_2() {
    let dir = temp_dir("infeasible");
    let problem_path = example_file(&dir, "2", "8");
    let mut v: serde_json::Value = serde_json::from_str(&fs::read_to_string(&problem_path).unwrap()).unwrap();
    let mut cooling = vec![9000.0; 8];
    cooling[5] = 700.0;
    v["halls"][1]["cooling_capacity_kw"] = serde_json::json!(cooling);
    fs::write(&problem_path, v.to_string()).unwrap();
    let plan_path = dir.join("plan.json");
    let out = run(&[
        "optimize",
        problem_path.to_str().unwrap(),
        "--out",
        plan_path.to_str().unwrap(),
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("hall-b cooling in slot 5: idle load alone is 819 kW against 700 kW capacity"),
        "{err}"
    );
    let plan = Plan::read(&plan_path).unwrap();
    assert_eq!(plan.status, PlanStatus::Infeasible);
    assert_eq!(plan.infeasibilities[0].family, "cooling");
}

/// The same large problem (the volatile market: five price scenarios with a spike to
/// 1,800 per MWh, CVaR weight 0.3, every job pinned to one or two halls; large enough
/// for the interior point) solved three times by three processes: one method path, one
/// plan to the bit, and the plan check passes every time.
#[test]
fn a_large_problem_solved_again_gives_the_same_plan() {
    let dir = temp_dir("repeat");
    let problem_path = dir.join("problem.json");
    let out = run(&[
        "optimize",
        "--example",
        "medium",
        "--market",
        "volatile",
        "--jobs",
        "120",
        "--out",
        problem_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut plans = Vec::new();
    for n in 0..3 {
        let plan_path = dir.join(format!("plan-{n}.json"));
        let out = run(&[
            "optimize",
            problem_path.to_str().unwrap(),
            "--out",
            plan_path.to_str().unwrap(),
        ]);
        let err = stderr(&out);
        assert!(out.status.success(), "run {n}: {err}");
        assert!(err.contains("check: every constraint holds"), "run {n}: {err}");
        let mut plan = Plan::read(&plan_path).unwrap();
        assert_eq!(plan.status, PlanStatus::Optimal);
        assert!(
            plan.stats.attempts.iter().any(|a| a.method == "hipo"),
            "{:?}",
            plan.stats.attempts
        );
        // Times differ from run to run; everything else must not.
        plan.stats.build_s = 0.0;
        plan.stats.solve_s = 0.0;
        plan.stats.attempts.iter_mut().for_each(|a| a.seconds = 0.0);
        plans.push(serde_json::to_string(&plan).unwrap());
    }
    assert_eq!(plans[0], plans[1]);
    assert_eq!(plans[0], plans[2]);
    let _ = fs::remove_dir_all(&dir);
}
