//! Forecast tests: a hall's cooling capacity against a hand computation and against the
//! running twin, its monotonicity in weather and pump flow, the problem's validity for
//! every shipped campus, and a plan simulated by the twin at the plan's powers with its
//! energy balance closed.

use chrono::{DateTime, Utc};
use models::campus::Campus;
use models::forecast::DegradedLoop;
use models::schedule::{HallPlan, JobPlan, Placement, Plan, PlanStatus, ScheduleProblem, SolveStats};
use models::weather::{WeatherSample, psychro};
use proptest::prelude::*;

use super::*;
use crate::estimate::{EstimatorState, LoopEstimate};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// Air at `wet_bulb_c` and 6 K above it dry, at the pressure of `elevation_m`.
fn air(wet_bulb_c: f64, elevation_m: f64) -> WeatherSample {
    let pressure_pa = psychro::pressure_from_elevation_pa(elevation_m);
    let dry_bulb_c = wet_bulb_c + 6.0;
    let w = psychro::humidity_ratio_from_wet_bulb(dry_bulb_c, wet_bulb_c, pressure_pa);
    WeatherSample {
        dry_bulb_c,
        dew_point_c: psychro::dew_point_c(w, pressure_pa),
        wet_bulb_c,
        rel_humidity_frac: psychro::rel_humidity_from_humidity_ratio(dry_bulb_c, w, pressure_pa),
        humidity_ratio_kg_per_kg: w,
        pressure_pa,
        ghi_w_per_m2: 0.0,
        dni_w_per_m2: 0.0,
        dhi_w_per_m2: 0.0,
        wind_speed_m_per_s: 0.0,
    }
}

fn weak(hall: &str, cdu: u32, flow_frac: f64) -> PlantCondition {
    PlantCondition {
        degraded_loops: vec![DegradedLoop {
            hall: hall.into(),
            cdu,
            flow_frac,
        }],
        ..PlantCondition::default()
    }
}

fn esif() -> Campus {
    Campus::builtin("esif.toml").unwrap()
}

/// ESIF's hall with CDU 2's pump at 20 % of its flow, on cold air (the towers hold the
/// facility water at 20 °C), worked by hand.
///
/// The CDU holds its loop's supply at 24 °C; the loop's pump adds `P/(ṁ·cp)`, with the
/// affinity law `P = V̇_rated·Δp/η·(ṁ/ṁ_rated)³` (225 L/min, 276 kPa, 0.5: 2070 W at rated,
/// 4.6 W here, 0.002 K). Each of the loop's 3 racks gets a third of 20 % of 3 × 49 L/min of
/// water (ṁ·cp ≈ 679 W/K). At utilisation `u` with GPUs at TDP a GPU draws
/// `P_g = 75 + u·625` W and a rack `P_r = 32·P_g + 4000 + u·6200` W, of which 90 % goes to
/// the coolant, which leaves the rack at `T_s + 0.9·P_r/(ṁ·cp)`; the die sits `0.04 K/W·P_g`
/// above that. It throttles when the die reaches 87 °C, which is linear in `u`:
///
/// ```text
/// u* = (87 − T_s − 0.9·(32·75 + 4000)/(ṁ·cp) − 0.04·75) / (0.9·(32·625 + 6200)/(ṁ·cp) + 0.04·625)
///    ≈ (87 − 24.002 − 8.478 − 3) / (34.707 + 25) ≈ 0.8629
/// ```
///
/// and the capacity is the hall's 30 racks at `u*`: `30·P_r(u*)` ≈ 870 kW. The other nine
/// loops run at full flow and fit at full load (die 59 °C).
#[test]
fn analytic_capacity_of_a_hall_with_a_weak_pump_is_where_its_gpus_reach_their_limit() {
    let campus = esif();
    let hall = &campus.spec.halls[0];
    let (rack, gpu) = (&hall.rack, &hall.rack.gpu);
    let fluid = hall.tcs.fluid;
    let (rho, cp) = (fluid.density_kg_per_m3(), fluid.cp_j_per_kg_k());
    let phi = 0.2;
    let racks_on_loop = f64::from(hall.racks / hall.cdus);
    let rack_flow_kg_per_s = phi * rack.design_flow_l_per_min / 60_000.0 * rho;
    let loop_flow_kg_per_s = racks_on_loop * rack_flow_kg_per_s;
    let rated_kg_per_s = hall.cdu.rated_secondary_flow_l_per_min / 60_000.0 * rho;
    let pump_rated_w = hall.cdu.rated_secondary_flow_l_per_min / 60_000.0 * hall.cdu.pump_head_kpa * 1000.0
        / hall.cdu.pump_efficiency;
    let pump_w = pump_rated_w * (loop_flow_kg_per_s / rated_kg_per_s).powi(3);
    let supply_c = hall.tcs.supply_temp_c.c() + pump_w / (loop_flow_kg_per_s * cp);
    let c = rack_flow_kg_per_s * cp;
    let (n, f, r) = (
        f64::from(rack.gpus_per_rack),
        rack.liquid_fraction,
        gpu.cold_plate_resistance_k_per_w,
    );
    let host_idle_w = rack.host_idle_kw * 1000.0;
    let host_rise_w = (rack.host_max_kw - rack.host_idle_kw) * 1000.0;
    let gpu_rise_w = gpu.tdp_w - gpu.idle_w;
    let u = (gpu.throttle_temp_c.c() - supply_c - f * (n * gpu.idle_w + host_idle_w) / c - r * gpu.idle_w)
        / (f * (n * gpu_rise_w + host_rise_w) / c + r * gpu_rise_w);
    assert!((0.85..0.87).contains(&u), "{u}");
    let rack_w = n * (gpu.idle_w + u * gpu_rise_w) + host_idle_w + u * host_rise_w;
    let expected_kw = f64::from(hall.racks) * rack_w / 1000.0;

    let mut plant = SteadyPlant::new(&campus, &weak("hpc", 2, phi)).unwrap();
    let cold = air(5.0, campus.spec.site.elevation_m);
    let capacity_kw = plant.cooling_capacity_kw(&cold)[0];
    // The bisection resolves the utilisation to 2⁻²⁰: about 1 W here.
    assert!(
        (capacity_kw - expected_kw).abs() < 1e-5 * expected_kw,
        "{capacity_kw} kW vs {expected_kw} kW by hand"
    );
    // Where the hand computation says, the weak loop's CDU still holds its setpoint and
    // the facility water its own: the GPU limit, not the plant, binds.
    let (s, halls) = plant.evaluate(&cold, u - 1e-4);
    assert_eq!((halls[0].throttled_gpus, halls[0].saturated_cdus), (0.0, 0.0));
    assert!((s.facility_supply_c - 20.0).abs() < 1e-9);
    let (_, halls) = plant.evaluate(&cold, u + 1e-4);
    assert_eq!(
        halls[0].throttled_gpus,
        3.0 * n,
        "the weak loop's 3 racks throttle"
    );
    // Healthy, the hall fits at full load: its design IT power, not binding.
    let mut healthy = SteadyPlant::new(&campus, &PlantCondition::default()).unwrap();
    assert!((healthy.cooling_capacity_kw(&cold)[0] - campus.it_design_kw()).abs() < 1e-9);
}

/// The same bound from the running twin: a plan that loads the example campus's hall-a
/// (CDU 2 at 20 % flow) at 97 % of the utilisation its capacity allows runs without a
/// throttling GPU; one at 104 % throttles. The capacity comes from the steady plant, the
/// runs from the integrator with the loop's 15 racks resolved, so they check each other.
#[test]
fn the_running_twin_throttles_just_above_the_capacity_and_not_below() {
    let campus = Campus::example().unwrap();
    let weather = campus.load_weather().unwrap();
    let condition = weak("hall-a", 2, 0.2);
    let problem = schedule_problem(&campus, &weather, at("2026-07-15T18:00:00Z"), 2, 15, &condition).unwrap();
    let hall = &problem.halls[0];
    let capacity_kw = hall.cooling_capacity_kw.at(0);
    let full_kw = campus.spec.halls[0].it_design_kw();
    let idle_kw = f64::from(hall.gpus) * hall.idle_kw_per_gpu;
    assert!(capacity_kw < 0.7 * full_kw, "{capacity_kw} of {full_kw}");
    assert_eq!(
        capacity_kw,
        hall.cooling_capacity_kw.at(1),
        "no weather in it: chillers hold 30 °C"
    );
    let u_max = (capacity_kw - idle_kw) / (full_kw - idle_kw);
    let gpus = f64::from(hall.gpus);
    for (share, throttles) in [(0.97, false), (1.04, true)] {
        let job = job(
            "busy",
            &[("hall-a", vec![share * u_max * gpus; 2], vec![Some(1.2); 2])],
        );
        let plan = plan_for(&problem, vec![job]);
        let f = simulate_plan(&campus, &weather, &problem, &plan, &condition, &[], None).unwrap();
        assert_eq!(
            f.summary.time_to_first_throttle_s.is_some(),
            throttles,
            "at {share} of the capacity's utilisation: {:?}",
            f.summary.time_to_first_throttle_s
        );
        let headroom = f.forecast.halls[0].cooling_headroom_kw[1];
        assert_eq!(headroom > 0.0, !throttles, "headroom {headroom} kW");
    }
}

#[test]
fn degraded_loops_lower_the_capacity_down_to_the_idle_floor() {
    let campus = Campus::example().unwrap();
    let cold = air(10.0, campus.spec.site.elevation_m);
    let capacity = |frac: f64| {
        SteadyPlant::new(&campus, &weak("hall-a", 3, frac))
            .unwrap()
            .cooling_capacity_kw(&cold)
    };
    let full = campus.spec.halls[0].it_design_kw();
    let healthy = SteadyPlant::new(&campus, &PlantCondition::default())
        .unwrap()
        .cooling_capacity_kw(&cold);
    assert_eq!(healthy, vec![full; 4]);
    let half = capacity(0.5);
    assert!(half[0] < 0.99 * full && half[0] > 0.9 * full, "{half:?}");
    assert_eq!(&half[1..], &[full; 3], "the other halls keep theirs");
    // A loop without flow cannot cool even idle GPUs: the hall gets its idle power, the
    // least any plan draws, so that the problem stays feasible.
    let tripped = capacity(0.0);
    let rack = &campus.spec.halls[0].rack;
    let idle_kw = 210.0 * (72.0 * rack.gpu.idle_w / 1000.0 + rack.host_idle_kw);
    assert!((tripped[0] - idle_kw).abs() < 1e-9, "{} vs {idle_kw}", tripped[0]);
}

#[test]
fn warm_air_lowers_esifs_capacity_once_its_towers_lose_the_setpoint() {
    // ESIF has towers and no chillers: above a wet bulb of about 22 °C the towers cannot
    // bring the facility water to 20 °C, and its CDUs hold 24 °C only at part load.
    let campus = esif();
    let mut plant = SteadyPlant::new(&campus, &PlantCondition::default()).unwrap();
    let el = campus.spec.site.elevation_m;
    let capacity = |plant: &mut SteadyPlant, wb: f64| plant.cooling_capacity_kw(&air(wb, el))[0];
    let full = campus.it_design_kw();
    assert!((capacity(&mut plant, 15.0) - full).abs() < 1e-9);
    let warm = capacity(&mut plant, 23.0);
    assert!(warm < 0.6 * full && warm > 0.3 * full, "{warm}");
    // Above about 24 °C the water is warmer than the loops' setpoint: no load holds it.
    assert_eq!(capacity(&mut plant, 26.0), plant.hall_it_kw(0, 0.0));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// More wet bulb never raises a hall's capacity, whatever its pumps; the capacity lies
    /// between the hall's idle and full-load IT power; and a loop resolved at full flow
    /// gives the lumped hall's capacity (the two steady kernels agree).
    #[test]
    fn capacity_falls_as_the_wet_bulb_rises(
        wb in 12.0f64..26.0, dwb in 0.0f64..2.0, flow in 0.0f64..1.0,
    ) {
        let campus = esif();
        let el = campus.spec.site.elevation_m;
        let mut plant = SteadyPlant::new(&campus, &weak("hpc", 4, flow)).unwrap();
        let base = plant.cooling_capacity_kw(&air(wb, el))[0];
        let warmer = plant.cooling_capacity_kw(&air(wb + dwb, el))[0];
        prop_assert!(warmer <= base + tol(&plant), "{warmer} at {} °C above {base} at {wb} °C", wb + dwb);
        prop_assert!(base >= plant.hall_it_kw(0, 0.0) - 1e-9 && base <= campus.it_design_kw() + 1e-9);
        let mut resolved = SteadyPlant::new(&campus, &weak("hpc", 4, 1.0)).unwrap();
        let mut lumped = SteadyPlant::new(&campus, &PlantCondition::default()).unwrap();
        let (r, l) = (resolved.cooling_capacity_kw(&air(wb, el))[0], lumped.cooling_capacity_kw(&air(wb, el))[0]);
        prop_assert!((r - l).abs() <= tol(&plant), "resolved {r} vs lumped {l}");
    }

    /// Less flow in a loop never raises its hall's capacity while the rack loops bind
    /// (the towers hold the facility water at its setpoint: ESIF below a wet bulb of
    /// about 20 °C). Where the towers bind it can: a weak loop returns warmer water on
    /// less primary flow, which the towers cool better, and the other loops gain (at a
    /// wet bulb of 22.3 °C the hall fits 849 kW healthy, 896 kW with one loop at 30 %).
    #[test]
    fn capacity_falls_with_pump_flow_while_the_racks_bind(
        wb in 0.0f64..19.0, flow in 0.0f64..1.0, dflow in 0.0f64..0.5,
    ) {
        let campus = esif();
        let el = campus.spec.site.elevation_m;
        let mut plant = SteadyPlant::new(&campus, &weak("hpc", 4, flow)).unwrap();
        let mut weaker = SteadyPlant::new(&campus, &weak("hpc", 4, (flow - dflow).max(0.0))).unwrap();
        let w = air(wb, el);
        let base = plant.cooling_capacity_kw(&w)[0];
        let less_flow = weaker.cooling_capacity_kw(&w)[0];
        prop_assert!(plant.evaluate(&w, 1.0).0.facility_supply_c <= 20.0 + 1e-9);
        prop_assert!(less_flow <= base + tol(&plant), "{less_flow} at less flow above {base}");
    }
}

/// The capacity search's resolution, 2⁻²⁰ of the hall's load range, with room to spare.
fn tol(plant: &SteadyPlant) -> f64 {
    (plant.hall_it_kw(0, 1.0) - plant.hall_it_kw(0, 0.0)) * 2e-6
}

#[test]
fn throughput_curves_start_at_the_lowest_cap_end_at_tdp_and_drop_collinear_knots() {
    let campus = Campus::example().unwrap();
    let curve = throughput_curve_kw(&campus.spec.halls[0].rack.gpu);
    // GB200: 200 W is 1/6 of TDP, between the catalog's knots at 0.15 (0.325) and 0.3
    // (0.55) on a slope of 1.5 per TDP: 0.325 + 1.5·(1/6 − 0.15) = 0.35. The knot at 0.3
    // lies on that same line and is dropped; the rest are kept.
    assert_eq!(curve[0][0], 0.2);
    assert!((curve[0][1] - 0.35).abs() < 1e-12, "{:?}", curve[0]);
    assert!(
        (curve[1][0] - 0.6).abs() < 1e-12 && curve[1][1] == 0.85,
        "{:?}",
        curve[1]
    );
    assert_eq!(curve.len(), 7);
    assert_eq!(curve.last(), Some(&[1.2, 1.0]));
}

#[test]
fn every_shipped_campus_gives_a_valid_problem_with_its_grid() {
    for name in ["example.toml", "esif.toml"] {
        let campus = Campus::builtin(name).unwrap();
        let weather = campus.load_weather().unwrap();
        let hall = campus.spec.halls[0].name.clone();
        let condition = PlantCondition {
            battery_soc_frac: Some(0.99),
            ..weak(&hall, 1, 0.3)
        };
        let p = schedule_problem(&campus, &weather, at("2026-07-15T00:00:00Z"), 96, 15, &condition).unwrap();
        assert!(p.validate().is_empty(), "{name}: {}", p.validate());
        assert_eq!(p.halls.len(), campus.spec.halls.len());
        assert!(p.jobs.is_empty() && p.risk.is_none() && p.grid.price_scenarios.len() == 1);
        assert_eq!(p.grid.import_limit_kw.at(95), campus.spec.grid.import_limit_kw);
        match (&p.battery, &campus.spec.grid.battery) {
            // A measured charge above the battery's limit is held at the limit.
            (Some(b), Some(spec)) => assert_eq!(b.soc_initial, spec.soc_max_frac),
            (None, None) => {}
            other => panic!("{name}: battery {other:?}"),
        }
        assert_eq!(p.generators.len(), campus.spec.grid.engines.len());
    }
    let campus = Campus::example().unwrap();
    let weather = campus.load_weather().unwrap();
    let p = schedule_problem(
        &campus,
        &weather,
        at("2026-07-15T00:00:00Z"),
        4,
        60,
        &PlantCondition::default(),
    )
    .unwrap();
    let h = &p.halls[0];
    // An idle GPU with its share of host idle: 200 W + 12 kW/72; a busy one its cap and its
    // share of the host at full load, 33.6 kW/72.
    assert!((h.idle_kw_per_gpu - (0.2 + 12.0 / 72.0)).abs() < 1e-12);
    assert!((h.aux_kw_per_busy_gpu - 33.6 / 72.0).abs() < 1e-12);
    assert_eq!(h.gpus, 210 * 72);
    let g = &p.generators[0];
    // Four 18 MW engines ramping 300 kW/s each: a whole bank within an hour's slot.
    assert_eq!(
        (g.id.as_str(), g.max_kw, g.ramp_kw_per_slot),
        ("engines-1", 72_000.0, 72_000.0)
    );
    // A bad condition is refused with its path.
    let e = schedule_problem(&campus, &weather, p.start, 4, 60, &weak("hall-z", 1, 0.5))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("condition.degraded_loops[0].hall: no hall `hall-z`"),
        "{e}"
    );
    let e = schedule_problem(&campus, &weather, p.start, 4, 60, &weak("hall-a", 15, 0.5))
        .unwrap_err()
        .to_string();
    assert!(e.contains("condition.degraded_loops[0].cdu"), "{e}");
}

/// The linearisation is exact at the typical load by construction; at two thirds of it
/// the twin's facility power stays within 1 % of the line (pumps at constant flow and the
/// square law of the losses are what bend it).
#[test]
fn the_facility_line_matches_the_twin_at_and_near_the_typical_load() {
    let campus = Campus::example().unwrap();
    let mut plant = SteadyPlant::new(&campus, &PlantCondition::default()).unwrap();
    let w = air(20.0, campus.spec.site.elevation_m);
    let overhead = plant.overhead_fraction(&w);
    let fixed_w = 1000.0 * plant.fixed_kw();
    assert!(overhead > 0.02 && overhead < 0.2, "{overhead}");
    // Auxiliary 500 kW, 50 transformer cores, 96 UPS at 1 % of 1250 kW no-load.
    assert!(fixed_w > 500e3 + 96.0 * 12.5e3, "{fixed_w}");
    for (u, tol) in [(TYPICAL_UTILISATION, 1e-12), (0.6, 0.01)] {
        let (s, _) = plant.evaluate(&w, u);
        let line_w = (1.0 + overhead) * s.power.it_w + fixed_w;
        let err = (line_w - s.power.facility_w).abs() / s.power.facility_w;
        assert!(
            err <= tol,
            "at {u}: line {line_w} W vs twin {} W",
            s.power.facility_w
        );
    }
}

#[test]
fn the_condition_keeps_the_loops_below_nine_tenths_of_their_flow() {
    let estimate = |hall: &str, cdu, flow_frac| LoopEstimate {
        hall: hall.into(),
        cdu,
        supply_temp_c: 36.0,
        return_temp_c: 45.0,
        flow_frac,
        flow_frac_std: 0.01,
        max_cusum: 0.0,
    };
    let state = EstimatorState {
        as_of: Some(at("2026-07-15T12:00:00Z")),
        readings: 10,
        ignored: 0,
        out_of_order: 0,
        loops: vec![
            estimate("hall-a", 1, 1.01),
            estimate("hall-a", 2, 0.45),
            estimate("hall-b", 7, 0.905),
            estimate("hall-b", 8, -0.02),
            estimate("hall-c", 1, f64::NAN),
        ],
        alarms: Vec::new(),
    };
    let c = PlantCondition::from_estimate(&state, Some(0.4));
    assert_eq!(c.as_of, state.as_of);
    assert_eq!(c.battery_soc_frac, Some(0.4));
    let kept: Vec<(&str, u32, f64)> = c
        .degraded_loops
        .iter()
        .map(|l| (l.hall.as_str(), l.cdu, l.flow_frac))
        .collect();
    assert_eq!(kept, [("hall-a", 2, 0.45), ("hall-b", 8, 0.0)]);
    let events = c.pump_events();
    assert!(matches!(
        &events[0],
        models::scenario::Event::CduPumpTrip(models::scenario::CduPumpTrip { at_s, duration_s: None, cdu: 2, residual_flow_frac, .. })
            if *at_s == 0.0 && *residual_flow_frac == 0.45
    ));
    // It is plain data: it survives JSON.
    let text = serde_json::to_string(&c).unwrap();
    assert_eq!(serde_json::from_str::<PlantCondition>(&text).unwrap(), c);
}

/// A job's placement in a hall: (hall, GPUs per slot, cap per GPU per slot, kW).
type Placed<'a> = (&'a str, Vec<f64>, Vec<Option<f64>>);

/// A job placed as given.
fn job(id: &str, placements: &[Placed<'_>]) -> JobPlan {
    JobPlan {
        id: id.into(),
        placements: placements
            .iter()
            .map(|(hall, gpus, caps)| Placement {
                hall: (*hall).into(),
                gpus: gpus.clone(),
                power_cap_kw_per_gpu: caps.clone(),
            })
            .collect(),
        work_done_gpu_hours: 0.0,
        unmet_gpu_hours: 0.0,
        finish_slot: None,
    }
}

/// Hall IT power as the formulation counts it: `idle·(gpus − busy) + Σ g·(cap + aux)`.
fn plan_it_kw(problem: &ScheduleProblem, jobs: &[JobPlan], h: usize, t: usize) -> (f64, f64) {
    let hall = &problem.halls[h];
    let (mut busy, mut busy_kw) = (0.0, 0.0);
    for p in jobs
        .iter()
        .flat_map(|j| &j.placements)
        .filter(|p| p.hall == hall.id)
    {
        let g = p.gpus[t];
        if g > 0.0 {
            busy += g;
            busy_kw += g * (p.power_cap_kw_per_gpu[t].unwrap() + hall.aux_kw_per_busy_gpu);
        }
    }
    (
        busy,
        hall.idle_kw_per_gpu * (f64::from(hall.gpus) - busy) + busy_kw,
    )
}

/// A plan of `jobs` for `problem`, as the optimizer would write it (no dispatch: the twin
/// dispatches by its own rule).
fn plan_for(problem: &ScheduleProblem, jobs: Vec<JobPlan>) -> Plan {
    let slots = problem.slots;
    let mut plan = Plan::infeasible(Vec::new(), SolveStats::default());
    plan.status = PlanStatus::Optimal;
    plan.objective = Some(0.0);
    plan.slot_start = (0..slots)
        .map(|t| problem.start + chrono::Duration::minutes(i64::from(problem.slot_minutes) * t as i64))
        .collect();
    plan.halls = (0..problem.halls.len())
        .map(|h| {
            let (busy, it): (Vec<f64>, Vec<f64>) =
                (0..slots).map(|t| plan_it_kw(problem, &jobs, h, t)).unzip();
            HallPlan {
                id: problem.halls[h].id.clone(),
                it_kw: it,
                busy_gpus: busy,
                gpu_shadow_price: vec![0.0; slots],
                cooling_shadow_price_per_kw: vec![0.0; slots],
            }
        })
        .collect();
    plan.jobs = jobs;
    plan
}

/// The example campus follows a plan with jobs spread over halls, GPU counts and caps
/// changing slot by slot, one hall idle and one at full power: in every slot each hall's
/// simulated IT power is the plan's (idle GPUs, busy GPUs at their caps, their hosts) to
/// 1e-9, since no GPU throttles; the energy balance of the cooling system closes to 1e-6
/// over the run; and in every slot the halls add up to the campus, and the meter to IT,
/// cooling, losses and the 500 kW of auxiliaries.
#[test]
fn a_simulated_plan_draws_the_plans_power_and_closes_its_energy_balance() {
    let campus = Campus::example().unwrap();
    let weather = campus.load_weather().unwrap();
    let condition = PlantCondition {
        battery_soc_frac: Some(0.3),
        ..PlantCondition::default()
    };
    let problem = schedule_problem(&campus, &weather, at("2026-07-15T18:00:00Z"), 6, 15, &condition).unwrap();
    let all = 15_120.0;
    let jobs = vec![
        job(
            "pretrain",
            &[
                (
                    "hall-a",
                    vec![12_000.0, 12_000.0, 15_120.0, 8_000.0, 0.0, 3_000.0],
                    vec![Some(1.2), Some(0.9), Some(1.05), Some(0.5), None, Some(0.2)],
                ),
                (
                    "hall-b",
                    vec![1_000.0, 0.0, 0.0, 7_000.0, 7_000.0, 7_000.0],
                    vec![Some(1.0), None, None, Some(0.7), Some(0.7), Some(1.2)],
                ),
            ],
        ),
        job("finetune", &[("hall-b", vec![5_000.0; 6], vec![Some(0.6); 6])]),
        job("inference", &[("hall-d", vec![all; 6], vec![Some(1.2); 6])]),
    ];
    let plan = plan_for(&problem, jobs);
    let f = simulate_plan(&campus, &weather, &problem, &plan, &condition, &[], None).unwrap();
    assert!(
        f.summary.time_to_first_throttle_s.is_none(),
        "{:?}",
        f.summary.time_to_first_throttle_s
    );
    assert_eq!(f.forecast.slots.len(), 6);
    for (h, hall) in f.forecast.halls.iter().enumerate() {
        for t in 0..6 {
            let planned_kw = plan.halls[h].it_kw[t];
            let simulated_kw = hall.it_kw[t];
            assert!(
                (simulated_kw - planned_kw).abs() <= 1e-9 * planned_kw,
                "{} slot {t}: simulated {simulated_kw} kW, planned {planned_kw} kW",
                hall.id
            );
            assert!(
                (hall.cooling_headroom_kw[t] - (hall.cooling_capacity_kw[t] - simulated_kw)).abs() < 1e-9
            );
            assert!(hall.hottest_gpu_c[t] < 87.0 && hall.tcs_supply_c[t] > 36.0);
        }
    }
    assert!(
        f.summary.energy_balance_residual < 1e-6,
        "{}",
        f.summary.energy_balance_residual
    );
    for (t, s) in f.forecast.slots.iter().enumerate() {
        let halls_kw: f64 = f.forecast.halls.iter().map(|h| h.it_kw[t]).sum();
        assert!(
            (halls_kw - s.it_kw).abs() < 1e-6 * s.it_kw,
            "slot {t}: {halls_kw} vs {}",
            s.it_kw
        );
        let auxiliary_kw = s.facility_kw - s.it_kw - s.cooling_kw - s.loss_kw;
        assert!(
            (s.auxiliary_kw - auxiliary_kw).abs() < 1e-6,
            "slot {t}: auxiliaries served as {} kW",
            s.auxiliary_kw
        );
        assert!(
            (auxiliary_kw - 500.0).abs() < 1e-6,
            "slot {t}: {auxiliary_kw} kW of auxiliaries"
        );
        assert!(s.pue > 1.0 && s.water_l > 0.0 && s.start == plan.slot_start[t]);
    }
    // The battery started at the measured charge.
    assert_eq!(
        f.start_state.state[f.start_state.layout.battery_soc.unwrap()],
        0.3
    );
    // The forecast is plain data too.
    let text = serde_json::to_string(&f.forecast).unwrap();
    assert_eq!(
        serde_json::from_str::<models::forecast::Forecast>(&text).unwrap(),
        f.forecast
    );
}

/// A what-if from the state a forecast started at: trip a pump the forecast did not
/// resolve. The branch resolves it, starts that loop at its steady state (its racks'
/// temperatures do not move at the start), and sees its racks throttle.
#[test]
fn a_what_if_branches_from_the_forecasts_state_with_a_new_fault() {
    let campus = Campus::example().unwrap();
    let weather = campus.load_weather().unwrap();
    let condition = weak("hall-a", 2, 0.5);
    let problem = schedule_problem(&campus, &weather, at("2026-07-15T18:00:00Z"), 2, 15, &condition).unwrap();
    let plan = plan_for(
        &problem,
        vec![job("busy", &[("hall-c", vec![14_000.0; 2], vec![Some(1.2); 2])])],
    );
    let base = simulate_plan(&campus, &weather, &problem, &plan, &condition, &[], None).unwrap();
    assert!(base.summary.time_to_first_throttle_s.is_none());
    let trip = models::scenario::Event::CduPumpTrip(models::scenario::CduPumpTrip {
        at_s: 60.0,
        duration_s: None,
        hall: "hall-c".into(),
        cdu: 5,
        residual_flow_frac: 0.0,
    });
    let what_if = simulate_plan(
        &campus,
        &weather,
        &problem,
        &plan,
        &condition,
        std::slice::from_ref(&trip),
        Some(&base.start_state),
    )
    .unwrap();
    let first = what_if
        .summary
        .time_to_first_throttle_s
        .expect("the tripped racks throttle");
    assert!(first > 60.0 && first < 200.0, "{first}");
    assert!(what_if.forecast.halls[2].hottest_gpu_c[0] > 86.9);
    // Its state has one more resolved loop, which began at its steady state.
    assert_eq!(what_if.start_state.layout.loops.len(), 2);
    let new_loop = what_if
        .start_state
        .layout
        .loops
        .iter()
        .find(|l| l.hall == 2)
        .unwrap();
    let old = &base.start_state;
    let same = old.layout.loops.iter().find(|l| l.hall == 0).unwrap();
    let new = &what_if.start_state;
    let kept = new.layout.loops.iter().find(|l| l.hall == 0).unwrap();
    for (a, b) in same.racks.iter().zip(&kept.racks) {
        assert_eq!(
            old.state[*a], new.state[*b],
            "the resolved loop is taken over as it was"
        );
    }
    let steady_rise_k = new.state[new_loop.racks[0]] - new.state[new_loop.supply];
    assert!(steady_rise_k > 5.0 && steady_rise_k < 15.0, "{steady_rise_k}");
}
