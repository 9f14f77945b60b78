//! The extensions: rigid jobs (MILP) and the IT ramp limit; and that a file without them
//! is solved with exactly the baseline.

use serde_json::json;

use super::*;
use crate::model::{BuildOptions, build};

/// The cooling-bound instance of `hand_solved` with a rigid job: slot 0's cooling (5 kW)
/// cannot take all 10 GPUs (at least e = 5 kW plus 2 kW of idle and aux), so the job runs
/// only in slot 1 (10 GPU-h at 1 kW: IT 12 kW) and 5 GPU-h stay unmet at 1000 each.
/// cost = 1 kW idle·10/1000 + 12·100/1000 + 5·1000 = 0.01 + 1.2 + 5000 = 5001.21.
#[test]
fn rigid_job_runs_on_all_its_gpus_or_none() {
    let p = problem(2, json!([10.0, 100.0]), |v| {
        v["halls"][0]["idle_kw_per_gpu"] = json!(0.1);
        v["halls"][0]["aux_kw_per_busy_gpu"] = json!(0.2);
        v["halls"][0]["cooling_capacity_kw"] = json!([5.0, 100.0]);
        let mut j = job("train", 10, 15.0, 2);
        j["rigid"] = json!(true);
        v["jobs"] = json!([j]);
    });
    let plan = solved(&p);
    assert_objective(&plan, 5001.21);
    assert_eq!(plan.gap, Some(0.0));
    assert_eq!(plan.stats.integer_columns, 2);
    let gpus = &plan.jobs[0].placements[0].gpus;
    assert!(close(gpus[0], 0.0) && close(gpus[1], 10.0), "{gpus:?}");
    assert!(close(plan.jobs[0].unmet_gpu_hours, 5.0));
}

/// Rigid jobs of 4 GPUs in two halls of 6: at most one job per hall, and the check sees
/// exactly 4 or 0 GPUs per job and slot.
#[test]
fn rigid_jobs_pack_whole() {
    let p = problem(3, json!([30.0, 60.0, 90.0]), |v| {
        v["halls"][0]["gpus"] = json!(6);
        let mut b = v["halls"][0].clone();
        b["id"] = json!("hall-b");
        v["halls"].as_array_mut().unwrap().push(b);
        let jobs: Vec<_> = (0..3)
            .map(|i| {
                let mut j = job(&format!("r{i}"), 4, 6.0, 3);
                j["rigid"] = json!(true);
                j
            })
            .collect();
        v["jobs"] = json!(jobs);
    });
    let plan = solved(&p);
    for t in 0..3 {
        for j in &plan.jobs {
            let total: f64 = j.placements.iter().map(|p| p.gpus[t]).sum();
            assert!(
                close(total, 0.0) || close(total, 4.0),
                "{} slot {t}: {total}",
                j.id
            );
        }
    }
}

/// Prices 100 then 10, a linear curve (1 kWh per GPU-h), 10 GPU-h of work and an IT ramp
/// limit of 2 kW per slot: e1 − e0 ≤ 2 and e0 + e1 = 10 give e0 = 4, e1 = 6:
/// cost = (4·100 + 6·10)/1000 = 0.46 (0.1 without the limit).
#[test]
fn it_ramp_limit_spreads_the_load() {
    let with_ramp = |ramp: Option<f64>| {
        problem(2, json!([100.0, 10.0]), |v| {
            v["halls"][0]["throughput_curve"] = json!([[0.5, 0.5], [1.0, 1.0]]);
            v["halls"][0]["min_cap_kw"] = json!(0.5);
            if let Some(r) = ramp {
                v["facility"]["ramp_limit_kw_per_slot"] = json!(r);
            }
            v["jobs"] = json!([job("train", 10, 10.0, 2)]);
        })
    };
    assert_objective(&solved(&with_ramp(None)), 0.1);
    let plan = solved(&with_ramp(Some(2.0)));
    assert_objective(&plan, 0.46);
    assert!(close(plan.halls[0].it_kw[0], 4.0) && close(plan.halls[0].it_kw[1], 6.0));
}

/// Without extension fields the model has no integer columns and no ramp rows: the
/// baseline LP, row for row.
#[test]
fn a_file_without_extensions_builds_the_baseline() {
    let base = problem(4, json!(50.0), |v| {
        v["jobs"] = json!([job("a", 10, 10.0, 4)]);
    });
    assert!(!base.uses_extensions());
    let mut ramped = base.clone();
    ramped.facility.ramp_limit_kw_per_slot = Some(5.0);
    let (rows, cols, ints, _) = build(&base, &BuildOptions::default()).rows.size();
    let (rows_r, cols_r, ints_r, _) = build(&ramped, &BuildOptions::default()).rows.size();
    assert_eq!((ints, ints_r), (0, 0));
    assert_eq!(cols, cols_r);
    assert_eq!(rows_r, rows + 2 * 3, "two ramp rows per slot boundary");
}

/// A first method made to fail through its options (HiPO stopped after two iterations,
/// which leaves no point to cross over from) falls back, in order, to IPX (stopped the
/// same way) and then the dual simplex, and the plan is the same optimum as an unforced
/// solve.
#[test]
fn a_method_that_stops_short_falls_back_to_an_optimal_plan() {
    let mut size = crate::example::ExampleSize::SMALL;
    size.jobs = 8;
    size.slots = 24;
    let problem = crate::example::example(size, 5);
    let unforced = solved(&problem);
    let forced = solved_with(
        &problem,
        &SolveOptions {
            method: crate::Method::Hipo,
            highs_options: vec![("ipm_iteration_limit".into(), "2".into())],
            ..SolveOptions::default()
        },
    );
    let methods: Vec<&str> = forced.stats.attempts.iter().map(|a| a.method.as_str()).collect();
    assert_eq!(methods[0], "hipo");
    assert_ne!(forced.stats.attempts[0].status, "Optimal");
    assert_eq!(methods, ["hipo", "ipx", "dual_simplex"]);
    assert_eq!(forced.stats.attempts.last().unwrap().status, "Optimal");
    assert_objective(&forced, unforced.objective.unwrap());
}

/// Without fallbacks, the same stopped method is an error that names the status.
#[test]
fn without_fallbacks_a_stopped_method_is_an_error() {
    let mut size = crate::example::ExampleSize::SMALL;
    size.jobs = 8;
    size.slots = 24;
    let problem = crate::example::example(size, 5);
    let err = solve(
        &problem,
        &SolveOptions {
            method: crate::Method::Hipo,
            highs_options: vec![("ipm_iteration_limit".into(), "2".into())],
            fallbacks: false,
            ..SolveOptions::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("hipo"), "{err}");
}

/// Crossover from an interior point (IPX stopped before its own crossover) gives a basis
/// (HiGHS calls the vertex "imprecise" when it is not proven optimal), from which the
/// dual simplex reaches the optimum of a cold solve: the ladder's rungs 1 and 3.
#[test]
fn crossover_from_an_interior_point_reaches_an_optimal_basis() {
    let mut size = crate::example::ExampleSize::SMALL;
    size.jobs = 6;
    size.slots = 16;
    let problem = crate::example::example(size, 2);
    let model = build(&problem, &BuildOptions::default());
    let mut engine = crate::engine::Engine::new(model.rows.into_highs().unwrap(), 1).unwrap();
    engine.set("solver", "ipm").unwrap();
    engine.set("run_crossover", "off").unwrap();
    engine.set("presolve", "off").unwrap();
    assert_eq!(engine.run().unwrap(), highs::HighsModelStatus::Optimal);
    assert!(engine.basis().is_none(), "an interior point has no basis");
    let point = engine.point();
    let crossed = engine.crossover(&point).unwrap();
    assert!(
        matches!(
            crossed,
            highs::HighsModelStatus::Optimal | highs::HighsModelStatus::Unknown
        ),
        "{crossed:?}"
    );
    let basis = engine.basis().expect("crossover leaves a basis");
    engine.set("solver", "simplex").unwrap();
    engine.set_basis(&basis).unwrap();
    assert_eq!(engine.run().unwrap(), highs::HighsModelStatus::Optimal);
    let cold = solved(&problem).objective.unwrap();
    let warm = engine.objective();
    assert!((warm - cold).abs() <= 1e-9 * cold.abs(), "{warm} against {cold}");
}
