//! Re-solve benchmark: a problem is solved cold in a [`Session`]; then, for each kind of
//! change a live service makes, the changed problem is solved warm from that session and
//! cold from scratch, and both times and objectives are printed (medians over REPS).
//!
//! ```sh
//! cargo bench -p optimizer --bench resolve -- bench/out/jobs1000.json 3
//! ```
//! Without a file, the 1,000-job volatile example is used.

use std::time::Instant;

use models::schedule::{Job, Plan, ScheduleProblem};
use optimizer::change::Change;
use optimizer::example::{ExampleSize, Market, example_in};
use optimizer::session::Session;
use optimizer::{SolveOptions, check_plan, solve};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// The changes measured, made to `p` whose optimal plan is `plan`. The import limit is
/// cut, over the 3 hours in which the plan imports most, to 80 % of the least the plan
/// imports there, so that the cut binds.
fn changes(p: &ScheduleProblem, plan: &Plan) -> Vec<Change> {
    let slots_per_hour = (60 / p.slot_minutes.max(1)) as usize;
    let window = (3 * slots_per_hour).min(p.slots);
    let from_slot = (0..=p.slots - window)
        .max_by(|&a, &b| {
            let sum = |s: usize| plan.import_kw[s..s + window].iter().sum::<f64>();
            sum(a).total_cmp(&sum(b))
        })
        .unwrap_or(0);
    let factor = 0.8
        * (from_slot..from_slot + window)
            .map(|t| plan.import_kw[t] / p.grid.import_limit_kw.at(t))
            .fold(f64::INFINITY, f64::min);
    let mut added: Job = p.jobs[p.jobs.len() / 2].clone();
    added.id = "benchmark-added-job".into();
    added.work_gpu_hours *= 0.7;
    vec![
        Change::ImportLimit {
            from_slot,
            slots: window,
            factor,
        },
        Change::Price {
            scenario: 0,
            from_slot: p.slots / 3,
            slots: 6 * slots_per_hour,
            factor: 1.25,
        },
        Change::AddJob(added),
        Change::RemoveJob(p.jobs[p.jobs.len() / 3].id.clone()),
        Change::WorkLeft {
            job: p.jobs[p.jobs.len() / 4].id.clone(),
            factor: 0.6,
        },
        Change::Shift { slots: 1 },
    ]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let problem = match args.first() {
        Some(path) => ScheduleProblem::read(std::path::Path::new(path)).expect("a valid problem file"),
        None => {
            let mut size = ExampleSize::MEDIUM;
            size.jobs = 1000;
            example_in(Market::Volatile, size, 1)
        }
    };
    let reps: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(3);
    let options = SolveOptions::default();
    let mut session = Session::new(options.clone());
    let started = Instant::now();
    let base = session.solve(&problem).expect("the base problem solves");
    println!(
        "base: {} jobs, cold solve {:.2} s, objective {:.6}",
        problem.jobs.len(),
        started.elapsed().as_secs_f64(),
        base.objective.unwrap_or(f64::NAN)
    );
    println!(
        "{:<13} {:>9} {:>9} {:>18} {:>18} {:>9}  warm attempts",
        "change", "warm_s", "cold_s", "warm_objective", "cold_objective", "rel_diff"
    );
    for change in changes(&problem, &base) {
        let changed = change.apply(&problem);
        let (mut warm_s, mut cold_s) = (Vec::new(), Vec::new());
        let (mut warm_obj, mut cold_obj, mut path) = (f64::NAN, f64::NAN, String::new());
        for _ in 0..reps {
            let mut s = session.clone();
            let t = Instant::now();
            let plan = s.solve(&changed).expect("the warm re-solve");
            warm_s.push(t.elapsed().as_secs_f64());
            assert!(
                check_plan(&changed, &plan).into_result().is_ok(),
                "the warm plan checks"
            );
            warm_obj = plan.objective.unwrap_or(f64::NAN);
            path = plan
                .stats
                .attempts
                .iter()
                .map(|a| format!("{} {} {:.2}s {}it", a.method, a.status, a.seconds, a.iterations))
                .collect::<Vec<_>>()
                .join(" > ");
            let t = Instant::now();
            let cold = solve(&changed, &options).expect("the cold solve");
            cold_s.push(t.elapsed().as_secs_f64());
            cold_obj = cold.objective.unwrap_or(f64::NAN);
        }
        println!(
            "{:<13} {:>9.2} {:>9.2} {:>18.6} {:>18.6} {:>9.1e}  {path}",
            change.kind(),
            median(warm_s),
            median(cold_s),
            warm_obj,
            cold_obj,
            (warm_obj - cold_obj).abs() / cold_obj.abs().max(1.0)
        );
    }
}
