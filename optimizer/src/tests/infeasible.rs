//! Infeasible problems: the plan says so, and names the family and the slot.

use models::schedule::PlanStatus;
use serde_json::json;

use super::*;

/// Hall-b's idle load (8,120 GPUs at 1 kW) exceeds its cooling in slot 71 only.
#[test]
fn idle_load_above_cooling_is_named_with_hall_and_slot() {
    let p = problem(72, json!(50.0), |v| {
        let mut b = v["halls"][0].clone();
        b["id"] = json!("hall-b");
        b["gpus"] = json!(8120);
        b["idle_kw_per_gpu"] = json!(1.0);
        let mut cooling = vec![9000.0; 72];
        cooling[71] = 7900.0;
        b["cooling_capacity_kw"] = json!(cooling);
        v["halls"].as_array_mut().unwrap().push(b);
        v["grid"]["import_limit_kw"] = json!(20000.0);
        // In hall-b a busy GPU (0.5 kW) draws less than an idle one (1 kW): keep the job
        // out so that the shortfall is the idle load's.
        let mut j = job("train", 10, 5.0, 72);
        j["halls"] = json!(["hall-a"]);
        v["jobs"] = json!([j]);
    });
    let plan = solved(&p);
    assert_eq!(plan.status, PlanStatus::Infeasible);
    assert_eq!(plan.infeasibilities.len(), 1, "{:?}", plan.infeasibilities);
    let f = &plan.infeasibilities[0];
    assert_eq!(
        (f.family.as_str(), f.hall.as_deref(), f.slot),
        ("cooling", Some("hall-b"), 71)
    );
    assert_eq!(
        f.message,
        "hall-b cooling in slot 71: idle load alone is 8,120 kW against 7,900 kW capacity"
    );
    assert!(close(f.shortfall, 220.0));
    assert!(plan.objective.is_none() && plan.import_kw.is_empty());
}

/// 500 kW of fixed load against a 400 kW limit in slot 0; the battery can give 50 kW
/// (and recharge later), so the grid is short by 50 kW there and nowhere else.
#[test]
fn import_limit_shortfall_counts_the_battery() {
    let p = problem(3, json!(50.0), |v| {
        v["facility"]["fixed_kw"] = json!(500.0);
        v["grid"]["import_limit_kw"] = json!([400.0, 1000.0, 1000.0]);
        v["battery"] = json!({ "energy_kwh": 1000.0, "power_kw": 50.0,
            "charge_efficiency": 1.0, "discharge_efficiency": 1.0,
            "soc_initial": 0.5, "soc_min": 0.0, "soc_max": 1.0 });
    });
    let plan = solved(&p);
    assert_eq!(plan.status, PlanStatus::Infeasible);
    assert_eq!(plan.infeasibilities.len(), 1, "{:?}", plan.infeasibilities);
    let f = &plan.infeasibilities[0];
    assert_eq!((f.family.as_str(), f.slot), ("import_limit", 0));
    assert!(close(f.shortfall, 50.0));
    assert!(
        f.message
            .contains("needs 450 kW from the grid against the 400 kW import limit"),
        "{}",
        f.message
    );
}

/// A generator running at 3,000 kW may only ramp down 1,000 kW per slot and the campus
/// draws 500 kW: slots 0 (2,000 kW at least) and 1 (1,000 kW) would need export.
#[test]
fn generator_that_cannot_ramp_down_needs_export() {
    let p = problem(3, json!(50.0), |v| {
        v["facility"]["fixed_kw"] = json!(500.0);
        v["generators"] = json!([{ "id": "gt-1", "max_kw": 3000.0, "ramp_kw_per_slot": 1000.0,
            "initial_kw": 3000.0, "cost_per_mwh": 90.0, "carbon_kg_per_mwh": 450.0 }]);
    });
    let plan = solved(&p);
    assert_eq!(plan.status, PlanStatus::Infeasible);
    let slots: Vec<(&str, usize)> = plan
        .infeasibilities
        .iter()
        .map(|f| (f.family.as_str(), f.slot))
        .collect();
    assert_eq!(slots, vec![("no_export", 0), ("no_export", 1)]);
    assert!(
        close(plan.infeasibilities[0].shortfall, 1500.0),
        "{:?}",
        plan.infeasibilities
    );
    assert!(close(plan.infeasibilities[1].shortfall, 500.0));
}
