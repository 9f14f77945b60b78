//! Properties of random valid small problems.

use models::schedule::{
    Battery, Facility, Generator, Grid, Hall, Job, PlanStatus, PriceScenario, Risk, ScheduleProblem, Series,
};
use proptest::prelude::*;

use super::*;
use crate::example::Rng;

/// A random valid problem that is feasible: cooling and the import limit leave room
/// for the idle campus, and generators start at 0.
fn random_problem(seed: u64) -> ScheduleProblem {
    let mut rng = Rng(seed);
    let slots = rng.int(2, 6);
    let n_halls = rng.int(1, 2);
    let halls: Vec<Hall> = (0..n_halls)
        .map(|h| {
            let gpus = rng.int(4, 20) as u32;
            let idle = rng.range(0.0, 0.2);
            let min_cap = rng.range(0.1, 0.3);
            let max_cap = min_cap + rng.range(0.2, 0.6);
            let mid = (min_cap + max_cap) / 2.0;
            let f0 = rng.range(0.3, 0.6);
            // Concave: the middle point lies above the chord; it may lie above 1.
            let f_mid = (f0 + 1.0) / 2.0 + rng.range(0.0, (1.0 - f0) / 2.0 + 0.2);
            Hall {
                id: format!("h{h}"),
                gpus,
                idle_kw_per_gpu: idle,
                aux_kw_per_busy_gpu: rng.range(0.0, 0.3),
                min_cap_kw: min_cap,
                max_cap_kw: max_cap,
                throughput_curve: vec![[min_cap, f0], [mid, f_mid], [max_cap, 1.0]],
                cooling_capacity_kw: Series::PerSlot(
                    (0..slots)
                        .map(|_| idle * f64::from(gpus) + rng.range(0.5, 15.0))
                        .collect(),
                ),
            }
        })
        .collect();
    let idle_kw: f64 = halls.iter().map(|h| h.idle_kw_per_gpu * f64::from(h.gpus)).sum();
    let overhead = rng.range(0.0, 0.2);
    let fixed_kw = rng.range(0.0, 5.0);
    let scenarios = rng.int(1, 2);
    let price_scenarios = (0..scenarios)
        .map(|_| PriceScenario {
            probability: 1.0 / scenarios as f64,
            price_per_mwh: Series::PerSlot((0..slots).map(|_| rng.range(-20.0, 200.0)).collect()),
        })
        .collect();
    let jobs = (0..rng.int(0, 4))
        .map(|j| {
            let release = rng.int(0, slots - 1);
            let deadline = rng.int(release + 1, slots);
            let job_halls = if rng.unit() < 0.5 {
                Vec::new()
            } else {
                vec![format!("h{}", rng.int(0, n_halls - 1))]
            };
            Job {
                id: format!("j{j}"),
                max_gpus: rng.int(1, 16) as u32,
                work_gpu_hours: rng.range(0.0, 40.0),
                release_slot: release,
                deadline_slot: deadline,
                unmet_penalty_per_gpu_hour: rng.range(0.0, 20.0),
                halls: job_halls,
                rigid: false,
            }
        })
        .collect();
    ScheduleProblem {
        start: "2026-07-01T00:00:00Z".parse().expect("a valid time"),
        slot_minutes: [15, 30, 60][rng.int(0, 2)],
        slots,
        halls,
        facility: Facility {
            overhead_fraction: Series::Constant(overhead),
            fixed_kw,
            ramp_limit_kw_per_slot: None,
        },
        grid: Grid {
            import_limit_kw: Series::PerSlot(
                (0..slots)
                    .map(|_| (1.0 + overhead) * idle_kw + fixed_kw + rng.range(0.5, 30.0))
                    .collect(),
            ),
            demand_charge_per_kw: if rng.unit() < 0.5 {
                0.0
            } else {
                rng.range(0.0, 2.0)
            },
            price_scenarios,
            carbon_kg_per_mwh: Series::Constant(rng.range(0.0, 500.0)),
            carbon_price_per_t: rng.range(0.0, 100.0),
        },
        battery: (rng.unit() < 0.5).then(|| Battery {
            energy_kwh: rng.range(1.0, 20.0),
            power_kw: rng.range(0.0, 10.0),
            charge_efficiency: rng.range(0.8, 1.0),
            discharge_efficiency: rng.range(0.8, 1.0),
            soc_initial: 0.5,
            soc_min: 0.1,
            soc_max: 0.9,
        }),
        generators: if rng.unit() < 0.5 {
            vec![Generator {
                id: "g".into(),
                max_kw: rng.range(0.0, 10.0),
                ramp_kw_per_slot: rng.range(0.0, 10.0),
                initial_kw: 0.0,
                cost_per_mwh: rng.range(50.0, 150.0),
                carbon_kg_per_mwh: 450.0,
            }]
        } else {
            Vec::new()
        },
        jobs,
        risk: (scenarios > 1).then(|| Risk {
            cvar_alpha: 0.5,
            weight: rng.range(0.0, 1.0),
        }),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The plan of a random valid problem passes the independent check (`solved` runs
    /// it), and raising the import limit never raises the objective.
    #[test]
    fn plans_check_and_more_import_never_costs_more(seed in any::<u64>()) {
        let problem = random_problem(seed);
        prop_assert!(problem.validate().is_empty(), "{}", problem.validate());
        let plan = solved(&problem);
        prop_assert_eq!(plan.status, PlanStatus::Optimal);
        let mut roomier = problem.clone();
        roomier.grid.import_limit_kw = Series::PerSlot(
            problem.grid.import_limit_kw.values(problem.slots).iter().map(|l| l * 1.5 + 1.0).collect(),
        );
        let looser = solved(&roomier);
        let (a, b) = (plan.objective.unwrap(), looser.objective.unwrap());
        prop_assert!(b <= a + 1e-6 * a.abs().max(1.0), "limit raised: {a} -> {b}");
    }

    /// Merging identical jobs gives the objective of solving them one by one.
    #[test]
    fn merging_identical_jobs_is_exact(seed in any::<u64>()) {
        let mut problem = random_problem(seed);
        if let Some(first) = problem.jobs.first().cloned() {
            for k in 0..2 {
                problem.jobs.push(Job { id: format!("copy{k}"), ..first.clone() });
            }
        }
        let merged = solved(&problem);
        let separate = solved_with(&problem, &SolveOptions { merge_identical_jobs: false, ..SolveOptions::default() });
        let (a, b) = (merged.objective.unwrap(), separate.objective.unwrap());
        prop_assert!(close(a, b), "merged {a}, separate {b}");
    }
}

/// A random concave curve from `min_cap` to (`max_cap`, 1.0) with `segments` segments;
/// it may rise above 1 before it ends.
fn random_curve(rng: &mut Rng, min_cap: f64, max_cap: f64, segments: usize) -> Vec<[f64; 2]> {
    let mut cuts: Vec<f64> = (0..segments - 1).map(|_| rng.range(min_cap, max_cap)).collect();
    cuts.sort_by(f64::total_cmp);
    let mut powers = vec![min_cap];
    powers.extend(cuts);
    powers.push(max_cap);
    powers.dedup_by(|a, b| (*a - *b).abs() < 1e-6);
    // Falling slopes, from up to 4 per kW down to −1 per kW.
    let mut slopes: Vec<f64> = (1..powers.len()).map(|_| rng.range(-1.0, 4.0)).collect();
    slopes.sort_by(|a, b| b.total_cmp(a));
    let mut points = vec![[min_cap, 0.0]];
    for (w, a) in powers.windows(2).zip(&slopes) {
        let [_, f] = points[points.len() - 1];
        points.push([w[1], f + a * (w[1] - w[0])]);
    }
    let lift = 1.0 - points[points.len() - 1][1];
    points.iter().map(|&[p, f]| [p, f + lift]).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The operating points interpolate to the hall's throughput (the curve capped at 1)
    /// at every cap between min_cap_kw and max_cap_kw, and span that whole range.
    #[test]
    fn operating_points_interpolate_the_capped_curve(seed in any::<u64>(), segments in 1usize..5) {
        let mut rng = Rng(seed);
        let min_cap = rng.range(0.1, 0.4);
        let max_cap = min_cap + rng.range(0.2, 0.8);
        let hall = Hall {
            id: "h".into(),
            gpus: 8,
            idle_kw_per_gpu: 0.0,
            aux_kw_per_busy_gpu: 0.0,
            min_cap_kw: min_cap,
            max_cap_kw: max_cap,
            throughput_curve: random_curve(&mut rng, min_cap, max_cap, segments),
            cooling_capacity_kw: Series::Constant(1.0),
        };
        let points = crate::model::operating_points(&hall);
        prop_assert_eq!(points[0].0, min_cap);
        prop_assert_eq!(points[points.len() - 1].0, max_cap);
        prop_assert!(points.windows(2).all(|w| w[0].0 < w[1].0), "{points:?}");
        for i in 0..=50 {
            let cap = min_cap + (max_cap - min_cap) * f64::from(i) / 50.0;
            let m = points.partition_point(|&(p, _)| p <= cap).clamp(1, points.len() - 1);
            let ((p0, f0), (p1, f1)) = (points[m - 1], points[m]);
            let interpolated = f0 + (f1 - f0) * (cap - p0) / (p1 - p0);
            let want = hall.throughput_at(cap);
            prop_assert!((interpolated - want).abs() < 1e-9, "cap {cap}: {interpolated} vs {want}, points {points:?}, curve {:?}", hall.throughput_curve);
        }
    }
}

/// Changes for the warm-start property: drawn from a problem's own jobs and slots.
fn random_changes(problem: &ScheduleProblem, seed: u64) -> Vec<crate::change::Change> {
    use crate::change::Change;
    let mut rng = Rng(seed);
    let mut p = problem.clone();
    let mut out = Vec::new();
    for n in 0..3 {
        let change = match rng.int(0, 5) {
            0 => Change::ImportLimit {
                from_slot: rng.int(0, p.slots - 1),
                slots: rng.int(1, p.slots),
                factor: rng.range(0.6, 1.1),
            },
            1 => Change::Price {
                scenario: rng.int(0, p.grid.price_scenarios.len() - 1),
                from_slot: rng.int(0, p.slots - 1),
                slots: rng.int(1, p.slots),
                factor: rng.range(-0.5, 2.0),
            },
            2 if !p.jobs.is_empty() => {
                let mut job = p.jobs[rng.int(0, p.jobs.len() - 1)].clone();
                job.id = format!("added-{n}");
                job.work_gpu_hours *= rng.range(0.2, 1.5);
                Change::AddJob(job)
            }
            3 if !p.jobs.is_empty() => Change::RemoveJob(p.jobs[rng.int(0, p.jobs.len() - 1)].id.clone()),
            4 if !p.jobs.is_empty() => Change::WorkLeft {
                job: p.jobs[rng.int(0, p.jobs.len() - 1)].id.clone(),
                factor: rng.range(0.0, 1.0),
            },
            _ => Change::Shift { slots: 1 },
        };
        p = change.apply(&p);
        out.push(change);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// A session's warm re-solve after each change of a sequence reaches the optimum of a
    /// cold solve of the changed problem.
    #[test]
    fn warm_resolves_reach_the_cold_optimum(seed in 0u64..1_000_000) {
        let mut size = crate::example::ExampleSize::SMALL;
        size.jobs = 12;
        size.slots = 16;
        let mut problem = crate::example::example(size, seed);
        let mut session = crate::session::Session::new(SolveOptions::default());
        session.solve(&problem).unwrap();
        for change in random_changes(&problem, seed) {
            problem = change.apply(&problem);
            prop_assume!(problem.validate().is_empty());
            let was_warm = session.is_warm();
            let warm = session.solve(&problem).unwrap();
            if was_warm {
                prop_assert_eq!(warm.stats.attempts[0].method.as_str(), "warm_dual_simplex", "{:?} {:?}", change, warm.stats.attempts);
                prop_assert_eq!(warm.stats.attempts[0].method.as_str(), "warm_dual_simplex");
            }
            let cold = solve(&problem, &SolveOptions::default()).unwrap();
            prop_assert_eq!(warm.status, cold.status);
            if cold.status == PlanStatus::Optimal {
                prop_assert!(check_plan(&problem, &warm).is_ok());
                let (w, c) = (warm.objective.unwrap(), cold.objective.unwrap());
                prop_assert!((w - c).abs() <= 1e-7 * c.abs().max(1.0), "{:?}: warm {} cold {}", change, w, c);
            }
        }
    }
}
