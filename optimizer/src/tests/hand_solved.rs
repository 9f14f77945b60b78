//! Instances small enough to solve on paper; each test's comment carries the working.

use serde_json::json;

use models::schedule::ScheduleProblem;

use super::*;

/// One job, one hall, two 1-hour slots at 40 and 100 per MWh; 10 GPUs, curve
/// f(p) = 0.5·p + 0.5 on [0.5, 1] kW, so a slot delivers up to 7.5 GPU-h at 0.5 kW per
/// GPU (5 kWh: 0.667 kWh per GPU-h) and 2.5 GPU-h more at 2 kWh per GPU-h.
/// 17 GPU-h cost per GPU-h: slot 0 low band 0.0267, slot 1 low band 0.0667, slot 0 high
/// band 0.08, slot 1 high band 0.2. So slot 0 gives 7.5 + 2 = 9.5 GPU-h (e = 2·(9.5 − 5)
/// = 9 kWh, cap 0.9 kW) and slot 1 gives 7.5 (5 kWh, cap 0.5 kW):
/// cost = 9·40/1000 + 5·100/1000 = 0.36 + 0.5 = 0.86.
#[test]
fn one_job_one_hall_two_slots_two_prices() {
    let p = problem(2, json!([40.0, 100.0]), |v| {
        v["jobs"] = json!([job("train", 10, 17.0, 2)]);
    });
    let plan = solved(&p);
    assert_objective(&plan, 0.86);
    let placement = &plan.jobs[0].placements[0];
    assert!(close(placement.gpus[0], 10.0) && close(placement.gpus[1], 10.0));
    assert!(close(placement.power_cap_kw_per_gpu[0].unwrap(), 0.9));
    assert!(close(placement.power_cap_kw_per_gpu[1].unwrap(), 0.5));
    assert_eq!(plan.jobs[0].finish_slot, Some(1));
    assert!(close(plan.import_kw[0], 9.0) && close(plan.import_kw[1], 5.0));
    assert!(plan.jobs[0].unmet_gpu_hours < 1e-6);
}

/// A constant 100 kW load (100 idle GPUs at 1 kW) for four 1-hour slots at 20, 100, 20,
/// 100 per MWh; battery 100 kWh, 50 kW, 90 % each way, starting at 50 kWh, ending at
/// least there. Charge 50 kW in slot 0 (soc 95), discharge 50 in slot 1 (soc 95 − 50/0.9
/// = 39.44), charge 50 in slot 2 (soc 84.44), discharge in slot 3 down to 50 kWh:
/// 0.9·(84.44 − 50) = 31 kW. Imports 150, 50, 150, 69 kW:
/// cost = (150·20 + 50·100 + 150·20 + 69·100)/1000 = 17.9 (24 without the battery).
#[test]
fn battery_arbitrage_over_four_slots() {
    let p = problem(4, json!([20.0, 100.0, 20.0, 100.0]), |v| {
        v["halls"][0]["gpus"] = json!(100);
        v["halls"][0]["idle_kw_per_gpu"] = json!(1.0);
        v["battery"] = json!({ "energy_kwh": 100.0, "power_kw": 50.0,
            "charge_efficiency": 0.9, "discharge_efficiency": 0.9,
            "soc_initial": 0.5, "soc_min": 0.0, "soc_max": 1.0 });
    });
    let plan = solved(&p);
    assert_objective(&plan, 17.9);
    for (got, want) in plan.import_kw.iter().zip([150.0, 50.0, 150.0, 69.0]) {
        assert!(close(*got, want), "import {:?}", plan.import_kw);
    }
    assert!(close(plan.soc_kwh[4], 50.0));
}

/// Slot 0 is cheap (10 per MWh) but its cooling takes only 5 kW; slot 1 costs 100.
/// Hall: 10 GPUs, idle 0.1 kW, aux 0.2 kW, so IT = e + 0.1·g + 1. Slot 0 runs at the
/// efficient cap 0.5 kW: 0.6·g ≤ 4 → g = 6.667, work 5 GPU-h, IT 5 kW. Slot 1 must give 10
/// GPU-h: all 10 GPUs at 1 kW, IT 12 kW.
/// cost = 5·10/1000 + 12·100/1000 = 1.25. One more kW of cooling in slot 0 moves
/// 1.25 GPU-h out of slot 1's expensive band (0.2 per GPU-h) for 0.01 of energy:
/// shadow price 0.25 − 0.01 = 0.24 per kW.
#[test]
fn cooling_bound_slot() {
    let p = problem(2, json!([10.0, 100.0]), |v| {
        v["halls"][0]["idle_kw_per_gpu"] = json!(0.1);
        v["halls"][0]["aux_kw_per_busy_gpu"] = json!(0.2);
        v["halls"][0]["cooling_capacity_kw"] = json!([5.0, 100.0]);
        v["jobs"] = json!([job("train", 10, 15.0, 2)]);
    });
    let plan = solved(&p);
    assert_objective(&plan, 1.25);
    let hall = &plan.halls[0];
    assert!(
        close(hall.it_kw[0], 5.0) && close(hall.it_kw[1], 12.0),
        "{:?}",
        hall.it_kw
    );
    assert!(
        close(hall.cooling_shadow_price_per_kw[0], 0.24),
        "{:?}",
        hall.cooling_shadow_price_per_kw
    );
    assert!(close(hall.cooling_shadow_price_per_kw[1], 0.0));
    assert!(close(plan.jobs[0].placements[0].gpus[0], 20.0 / 3.0));
}

/// The CVaR term with two scenarios. Linear curve (1 kWh per GPU-h at any cap), a job of
/// 10 GPU-h, x of it in slot 0 (60 per MWh in both scenarios), the rest in slot 1 (20
/// with p = 0.8, 200 with p = 0.2). C_A = (200 + 40x)/1000, C_B = (2000 − 140x)/1000,
/// E = (560 + 4x)/1000; at α = 0.8 the CVaR is C_B.
/// λ = 0.02: (588.8 + 1.12x)/1000 → x = 0, objective 0.5888 (E 0.56, CVaR 2.0).
/// λ = 0.5: (1280 − 68x)/1000 → x = 10, objective 0.6 (both scenarios cost 0.6).
#[test]
fn cvar_term_with_two_scenarios() {
    let with_weight = |weight: f64| {
        problem(2, json!(0.0), |v| {
            v["halls"][0]["throughput_curve"] = json!([[0.5, 0.5], [1.0, 1.0]]);
            v["grid"]["price_scenarios"] = json!([
                { "probability": 0.8, "price_per_mwh": [60.0, 20.0] },
                { "probability": 0.2, "price_per_mwh": [60.0, 200.0] }
            ]);
            v["risk"] = json!({ "cvar_alpha": 0.8, "weight": weight });
            v["jobs"] = json!([job("train", 10, 10.0, 2)]);
        })
    };
    let cautious = solved(&with_weight(0.02));
    assert_objective(&cautious, 0.5888);
    assert!(close(cautious.expected_cost.unwrap(), 0.56));
    assert!(close(cautious.cvar.unwrap(), 2.0));
    assert!(close(cautious.import_kw[0], 0.0));

    let averse = solved(&with_weight(0.5));
    assert_objective(&averse, 0.6);
    assert!(close(averse.cvar.unwrap(), 0.6));
    assert!(close(averse.import_kw[0], 10.0));
    assert!(close(averse.scenario_costs[0], 0.6) && close(averse.scenario_costs[1], 0.6));
}

/// Degenerate: two identical halls and a linear curve make every split of the work over
/// halls, slots and caps optimal. 10 GPU-h at 1 kWh each and 50 per MWh: 0.5.
#[test]
fn degenerate_instance_has_many_optima_and_one_objective() {
    let p = problem(2, json!(50.0), |v| {
        v["halls"][0]["throughput_curve"] = json!([[0.5, 0.5], [1.0, 1.0]]);
        let mut b = v["halls"][0].clone();
        b["id"] = json!("hall-b");
        v["halls"].as_array_mut().unwrap().push(b);
        v["jobs"] = json!([job("train", 10, 10.0, 2), job("idle", 10, 0.0, 2)]);
    });
    let plan = solved(&p);
    assert_objective(&plan, 0.5);
    assert!(close(plan.jobs[0].work_done_gpu_hours, 10.0));
    assert_eq!(plan.jobs[1].finish_slot, None);
}

/// Demand charge and generators: a 100 kW load for two slots at 50 and 150 per MWh, a
/// generator of 40 kW at 120 per MWh that may ramp 40 kW per slot from 0, demand charge
/// 1 per kW. Slot 1's grid energy (150) costs more than the generator (120): run it at
/// 40 kW in slot 1. Peak: importing 100 in slot 0 and 60 in slot 1 makes the peak 100;
/// running the generator in slot 0 too would cut the peak by up to 40 kW (saves 1 per
/// kW) for 120 − 50 = 70 per MWh (0.07 per kW): also worth it.
/// cost = (60·50 + 60·150)/1000 + 2·40·120/1000 + 60·1 = 3 + 9 + 9.6 + 60 = 81.6.
#[test]
fn generator_and_demand_charge() {
    let plan = solved(&generator_problem());
    assert_objective(&plan, 81.6);
    assert!(close(plan.peak_import_kw, 60.0));
}

fn generator_problem() -> ScheduleProblem {
    problem(2, json!([50.0, 150.0]), |v| {
        v["halls"][0]["gpus"] = json!(100);
        v["halls"][0]["idle_kw_per_gpu"] = json!(1.0);
        v["grid"]["demand_charge_per_kw"] = json!(1.0);
        v["generators"] = json!([{ "id": "gt-1", "max_kw": 40.0, "ramp_kw_per_slot": 40.0,
            "initial_kw": 0.0, "cost_per_mwh": 120.0, "carbon_kg_per_mwh": 450.0 }]);
    })
}

/// The independent check refuses a plan whose import no longer balances load and
/// generation, and judges the balance against its largest term: slot 1 imports 60 kW
/// against 100 kW of load less 40 kW of generation, so 1e-6 of 100 kW passes.
#[test]
fn check_refuses_an_unbalanced_plan() {
    let problem = generator_problem();
    let plan = solved(&problem);
    let balance_broken = |import_change_kw: f64| {
        let mut changed = plan.clone();
        changed.import_kw[1] += import_change_kw;
        check_plan(&problem, &changed)
            .violations
            .iter()
            .any(|v| v.constraint == "power balance in slot 1")
    };
    assert!(balance_broken(0.01));
    assert!(balance_broken(-0.01));
    assert!(!balance_broken(5e-5));
}

/// A curve that rises above 1: (0.5, 0.75) → (0.75, 1.1) → (1.0, 1.0), so progress is
/// capped at 1 from the crossing at 0.5 + 0.25·0.25/0.35 = 0.678571 kW up to 1 kW.
/// One 1-hour slot, 10 GPUs, a job of 10 GPU-h: all 10 GPUs at full progress.
/// At 100 per MWh the cheapest such cap is the crossing: cost 6.78571 kWh · 0.1 = 0.678571.
/// At −100 per MWh power pays: every GPU at 1 kW, progress no higher (10 GPU-h), cost
/// 10 kWh · −0.1 = −1.0; a model that cut the flat top off would stop at −0.678571.
#[test]
fn curve_above_one_keeps_its_flat_top() {
    let at_price = |price: f64| {
        problem(1, json!(price), |v| {
            v["halls"][0]["throughput_curve"] = json!([[0.5, 0.75], [0.75, 1.1], [1.0, 1.0]]);
            v["jobs"] = json!([job("train", 10, 10.0, 1)]);
        })
    };
    let crossing_kw = 0.5 + 0.25 * 0.25 / 0.35;
    let paid = solved(&at_price(100.0));
    assert_objective(&paid, crossing_kw);
    let cap = paid.jobs[0].placements[0].power_cap_kw_per_gpu[0].unwrap();
    assert!(close(cap, crossing_kw), "cap {cap}");
    assert!(close(paid.jobs[0].work_done_gpu_hours, 10.0));

    let paying = solved(&at_price(-100.0));
    assert_objective(&paying, -1.0);
    assert!(close(paying.import_kw[0], 10.0), "import {:?}", paying.import_kw);
}
