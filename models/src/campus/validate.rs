//! The rules a campus must satisfy, each problem reported with its field path.
//!
//! Deserialisation has already checked types and names; these are the ranges and the
//! relations between fields that make a campus physically meaningful.

use std::collections::HashSet;

use super::spec::*;
use crate::error::Problems;

/// Most racks in a hall: 20,000 racks of 120 kW are 2.4 GW, beyond any hall built.
pub const MAX_RACKS_PER_HALL: u32 = 20_000;
/// Most racks on a campus: 100,000, twelve times the 1 GW benchmark campus (8,000 racks
/// at rack resolution), so that a rack-resolved model stays within a machine's memory.
pub const MAX_RACKS: u64 = 100_000;
/// Most GPUs in a rack: 1,024 (the densest racks announced hold 576).
pub const MAX_GPUS_PER_RACK: u32 = 1024;
/// Largest host power of a rack, kW.
pub const MAX_HOST_KW: f64 = 1000.0;
/// Largest GPU power, W.
pub const MAX_GPU_W: f64 = 10_000.0;
/// Largest auxiliary load of a campus, kW (10 GW).
pub const MAX_AUXILIARY_KW: f64 = 1e7;
/// Largest CDU rating, kW: the largest row CDUs sold are a few MW.
pub const MAX_CDU_KW: f64 = 100_000.0;

/// Checks the whole campus.
pub(super) fn campus(c: &CampusSpec, p: &mut Problems) {
    site(&c.site, p);
    p.check(!c.halls.is_empty(), "halls", "a campus needs at least one hall");
    let mut names = HashSet::new();
    for (i, h) in c.halls.iter().enumerate() {
        let at = format!("halls[{i}]");
        p.check(
            names.insert(h.name.as_str()),
            format!("{at}.name"),
            format!("hall name `{}` is used twice", h.name),
        );
        hall(h, &at, p);
        p.check(
            h.tcs.supply_temp_c.c() > c.facility_water.supply_temp_c.c(),
            format!("{at}.tcs.supply_temp_c"),
            format!(
                "must be above facility_water.supply_temp_c ({}): a CDU cannot cool its loop below the facility water",
                c.facility_water.supply_temp_c
            ),
        );
    }
    let racks: u64 = c.halls.iter().map(|h| u64::from(h.racks)).sum();
    p.check(
        racks <= MAX_RACKS,
        "halls",
        format!("{racks} racks in all, more than the {MAX_RACKS} a campus model may hold"),
    );
    facility_water(&c.facility_water, p);
    heat_rejection(&c.heat_rejection, p);
    air_cooling(&c.air_cooling, p);
    power(&c.power, p);
    grid(&c.grid, p);
}

fn site(s: &Site, p: &mut Problems) {
    p.check(!s.name.trim().is_empty(), "site.name", "must not be empty");
    p.within("site.latitude_deg", s.latitude_deg, -90.0, 90.0);
    p.within("site.longitude_deg", s.longitude_deg, -180.0, 180.0);
    p.within("site.elevation_m", s.elevation_m, -500.0, 9000.0);
    p.check(
        !s.weather_file.trim().is_empty(),
        "site.weather_file",
        "must name an EPW file",
    );
}

fn hall(h: &Hall, at: &str, p: &mut Problems) {
    p.check(
        !h.name.trim().is_empty(),
        format!("{at}.name"),
        "must not be empty",
    );
    p.check(
        (1..=MAX_RACKS_PER_HALL).contains(&h.racks),
        format!("{at}.racks"),
        format!("must be from 1 to {MAX_RACKS_PER_HALL}, got {}", h.racks),
    );
    p.check(h.cdus >= 1, format!("{at}.cdus"), "must be at least 1");
    p.check(
        h.cdus <= h.racks,
        format!("{at}.cdus"),
        format!(
            "{} CDUs for {} racks: every CDU must serve at least one rack",
            h.cdus, h.racks
        ),
    );
    p.within(
        format!("{at}.flow_imbalance_frac"),
        h.flow_imbalance_frac,
        0.0,
        0.5,
    );
    p.within(
        format!("{at}.utilisation_spread_frac"),
        h.utilisation_spread_frac,
        0.0,
        0.5,
    );
    rack(&h.rack, &format!("{at}.rack"), p);
    cdu(&h.cdu, &format!("{at}.cdu"), p);
    tcs(&h.tcs, &format!("{at}.tcs"), p);
}

fn rack(r: &Rack, at: &str, p: &mut Problems) {
    gpu(&r.gpu, &format!("{at}.gpu"), p);
    p.check(
        (1..=MAX_GPUS_PER_RACK).contains(&r.gpus_per_rack),
        format!("{at}.gpus_per_rack"),
        format!("must be from 1 to {MAX_GPUS_PER_RACK}, got {}", r.gpus_per_rack),
    );
    p.within(format!("{at}.host_idle_kw"), r.host_idle_kw, 0.0, MAX_HOST_KW);
    p.within(format!("{at}.host_max_kw"), r.host_max_kw, 0.0, MAX_HOST_KW);
    p.check(
        r.host_max_kw >= r.host_idle_kw,
        format!("{at}.host_max_kw"),
        format!("must be at least host_idle_kw ({})", r.host_idle_kw),
    );
    p.check(
        r.liquid_fraction.is_finite() && r.liquid_fraction > 0.0 && r.liquid_fraction <= 1.0,
        format!("{at}.liquid_fraction"),
        format!("must be within (0, 1], got {}", r.liquid_fraction),
    );
    p.positive(format!("{at}.coolant_volume_l"), r.coolant_volume_l);
    p.positive(format!("{at}.design_flow_l_per_min"), r.design_flow_l_per_min);
}

fn gpu(g: &Gpu, at: &str, p: &mut Problems) {
    p.positive(format!("{at}.tdp_w"), g.tdp_w);
    p.check(
        g.tdp_w <= MAX_GPU_W,
        format!("{at}.tdp_w"),
        format!("must be at most {MAX_GPU_W} W, got {}", g.tdp_w),
    );
    p.non_negative(format!("{at}.idle_w"), g.idle_w);
    p.check(
        g.idle_w < g.tdp_w,
        format!("{at}.idle_w"),
        format!("must be below tdp_w ({})", g.tdp_w),
    );
    p.positive(format!("{at}.min_cap_w"), g.min_cap_w);
    p.check(
        g.min_cap_w <= g.tdp_w,
        format!("{at}.min_cap_w"),
        format!("must not exceed tdp_w ({})", g.tdp_w),
    );
    p.positive(
        format!("{at}.cold_plate_resistance_k_per_w"),
        g.cold_plate_resistance_k_per_w,
    );
    p.within(
        format!("{at}.throttle_temp_c"),
        g.throttle_temp_c.c(),
        40.0,
        130.0,
    );
    throughput_curve(
        &g.throughput_curve,
        g.min_cap_w / g.tdp_w,
        &format!("{at}.throughput_curve"),
        p,
    );
}

/// The curve must be rising in cap, concave, cover the caps from the lowest one the
/// driver accepts, and end at full throughput at TDP.
fn throughput_curve(curve: &[[f64; 2]], min_cap_frac: f64, at: &str, p: &mut Problems) {
    if curve.len() < 2 {
        p.push(at, "needs at least two points [cap_frac, throughput_frac]");
        return;
    }
    for (i, [cap, thr]) in curve.iter().enumerate() {
        p.within(format!("{at}[{i}][0]"), *cap, 0.0, 1.0);
        p.within(format!("{at}[{i}][1]"), *thr, 0.0, 1.0);
    }
    let Some(last) = curve.last() else { return };
    p.check(
        *last == [1.0, 1.0],
        format!("{at}[{}]", curve.len() - 1),
        "the last point must be [1.0, 1.0]: full throughput at TDP",
    );
    p.check(
        curve[0][0] <= min_cap_frac + 1e-9,
        format!("{at}[0][0]"),
        format!(
            "the curve must start at or below the lowest power cap, min_cap_w / tdp_w = {min_cap_frac:.4}"
        ),
    );
    let mut previous_slope = f64::INFINITY;
    for (i, pair) in curve.windows(2).enumerate() {
        let ([c0, t0], [c1, t1]) = (pair[0], pair[1]);
        if c1 <= c0 {
            p.push(
                format!("{at}[{}][0]", i + 1),
                "caps must rise from point to point",
            );
            return;
        }
        let slope = (t1 - t0) / (c1 - c0);
        p.check(
            slope >= 0.0,
            format!("{at}[{}][1]", i + 1),
            "throughput must not fall as the cap rises",
        );
        p.check(
            slope <= previous_slope + 1e-9,
            format!("{at}[{}]", i + 1),
            "the curve must be concave (each segment no steeper than the one before)",
        );
        previous_slope = slope;
    }
}

fn cdu(c: &Cdu, at: &str, p: &mut Problems) {
    p.positive(format!("{at}.rated_heat_kw"), c.rated_heat_kw);
    p.check(
        c.rated_heat_kw <= MAX_CDU_KW,
        format!("{at}.rated_heat_kw"),
        format!("must be at most {MAX_CDU_KW} kW, got {}", c.rated_heat_kw),
    );
    p.positive(format!("{at}.rated_approach_k"), c.rated_approach_k.k());
    p.positive(
        format!("{at}.rated_secondary_flow_l_per_min"),
        c.rated_secondary_flow_l_per_min,
    );
    p.positive(
        format!("{at}.rated_primary_flow_l_per_min"),
        c.rated_primary_flow_l_per_min,
    );
    p.positive(format!("{at}.pump_head_kpa"), c.pump_head_kpa);
    efficiency(c.pump_efficiency, &format!("{at}.pump_efficiency"), p);
}

fn tcs(t: &TechnologyCoolingLoop, at: &str, p: &mut Problems) {
    p.within(format!("{at}.supply_temp_c"), t.supply_temp_c.c(), 5.0, 70.0);
    p.positive(format!("{at}.design_delta_t_k"), t.design_delta_t_k.k());
    p.check(
        t.min_flow_frac.is_finite() && t.min_flow_frac > 0.0 && t.min_flow_frac <= 1.0,
        format!("{at}.min_flow_frac"),
        format!("must be within (0, 1], got {}", t.min_flow_frac),
    );
    p.positive(format!("{at}.piping_volume_l_per_cdu"), t.piping_volume_l_per_cdu);
}

fn facility_water(f: &FacilityWater, p: &mut Problems) {
    let at = "facility_water";
    p.within(format!("{at}.supply_temp_c"), f.supply_temp_c.c(), 2.0, 60.0);
    p.positive(format!("{at}.pump_head_kpa"), f.pump_head_kpa);
    efficiency(f.pump_efficiency, &format!("{at}.pump_efficiency"), p);
    p.check(
        f.min_flow_frac.is_finite() && f.min_flow_frac > 0.0 && f.min_flow_frac <= 1.0,
        format!("{at}.min_flow_frac"),
        format!("must be within (0, 1], got {}", f.min_flow_frac),
    );
    p.positive(format!("{at}.supply_volume_m3"), f.supply_volume_m3);
    p.positive(format!("{at}.return_volume_m3"), f.return_volume_m3);
}

fn heat_rejection(h: &HeatRejection, p: &mut Problems) {
    let at = "heat_rejection";
    p.check(
        h.cooling_towers.is_some() || h.dry_coolers.is_some() || h.chillers.is_some(),
        at,
        "needs cooling_towers, dry_coolers or chillers",
    );
    p.check(
        !(h.cooling_towers.is_some() && h.dry_coolers.is_some()),
        at,
        "has both cooling_towers and dry_coolers; a campus has one kind of heat rejection",
    );
    if let Some(t) = &h.cooling_towers {
        let at = format!("{at}.cooling_towers");
        p.check(t.cells >= 1, format!("{at}.cells"), "must be at least 1");
        p.check(
            t.cycles_of_concentration.is_finite() && t.cycles_of_concentration > 1.0,
            format!("{at}.cycles_of_concentration"),
            format!("must be > 1, got {}", t.cycles_of_concentration),
        );
        let c = &t.cell;
        let at = format!("{at}.cell");
        p.positive(format!("{at}.design_heat_kw"), c.design_heat_kw);
        p.within(
            format!("{at}.design_wet_bulb_c"),
            c.design_wet_bulb_c.c(),
            -10.0,
            35.0,
        );
        p.positive(format!("{at}.design_approach_k"), c.design_approach_k.k());
        p.positive(format!("{at}.design_range_k"), c.design_range_k.k());
        p.positive(
            format!("{at}.design_air_flow_kg_per_s"),
            c.design_air_flow_kg_per_s,
        );
        p.non_negative(format!("{at}.fan_kw"), c.fan_kw);
        p.within(
            format!("{at}.free_convection_frac"),
            c.free_convection_frac,
            0.0,
            0.5,
        );
        p.within(format!("{at}.drift_frac"), c.drift_frac, 0.0, 0.01);
    }
    if let Some(d) = &h.dry_coolers {
        let at = format!("{at}.dry_coolers");
        p.check(d.units >= 1, format!("{at}.units"), "must be at least 1");
        let u = &d.unit;
        let at = format!("{at}.unit");
        p.positive(format!("{at}.design_heat_kw"), u.design_heat_kw);
        p.within(
            format!("{at}.design_dry_bulb_c"),
            u.design_dry_bulb_c.c(),
            -10.0,
            55.0,
        );
        p.positive(format!("{at}.design_approach_k"), u.design_approach_k.k());
        p.positive(format!("{at}.design_range_k"), u.design_range_k.k());
        p.positive(
            format!("{at}.design_air_flow_kg_per_s"),
            u.design_air_flow_kg_per_s,
        );
        p.non_negative(format!("{at}.fan_kw"), u.fan_kw);
        p.within(
            format!("{at}.adiabatic_effectiveness"),
            u.adiabatic_effectiveness,
            0.0,
            1.0,
        );
    }
    if let Some(c) = &h.chillers {
        let at = format!("{at}.chillers");
        p.check(c.count >= 1, format!("{at}.count"), "must be at least 1");
        chiller(&c.unit, &format!("{at}.unit"), p);
    }
}

fn chiller(c: &Chiller, at: &str, p: &mut Problems) {
    p.positive(format!("{at}.capacity_kw"), c.capacity_kw);
    p.within(
        format!("{at}.condenser_approach_k"),
        c.condenser_approach_k.k(),
        0.0,
        40.0,
    );
    p.within(
        format!("{at}.evaporator_approach_k"),
        c.evaporator_approach_k.k(),
        0.0,
        20.0,
    );
    p.check(
        c.carnot_fraction.is_finite() && c.carnot_fraction > 0.0 && c.carnot_fraction < 1.0,
        format!("{at}.carnot_fraction"),
        format!("must be within (0, 1), got {}", c.carnot_fraction),
    );
    p.check(
        c.max_cop.is_finite() && c.max_cop > 1.0,
        format!("{at}.max_cop"),
        format!("must be > 1, got {}", c.max_cop),
    );
}

fn air_cooling(a: &AirCooling, p: &mut Problems) {
    let at = "air_cooling";
    p.within(format!("{at}.fan_kw_per_kw"), a.fan_kw_per_kw, 0.0, 0.5);
    match a.sink {
        AirSink::FacilityWater => {}
        AirSink::ChilledWater => {
            match &a.chiller {
                Some(c) => chiller(c, &format!("{at}.chiller"), p),
                None => p.push(format!("{at}.chiller"), "a chilled_water sink needs a chiller"),
            }
            match a.chilled_water_temp_c {
                Some(t) => p.within(format!("{at}.chilled_water_temp_c"), t.c(), 2.0, 30.0),
                None => p.push(
                    format!("{at}.chilled_water_temp_c"),
                    "a chilled_water sink needs it",
                ),
            }
            match a.economiser_below_c {
                Some(t) => p.within(format!("{at}.economiser_below_c"), t.c(), -40.0, 30.0),
                None => p.push(
                    format!("{at}.economiser_below_c"),
                    "a chilled_water sink needs it",
                ),
            }
        }
    }
}

fn power(w: &PowerChain, p: &mut Problems) {
    let at = "power";
    p.within(
        format!("{at}.auxiliary_kw"),
        w.auxiliary_kw,
        0.0,
        MAX_AUXILIARY_KW,
    );
    p.within(
        format!("{at}.distribution_loss_frac"),
        w.distribution_loss_frac,
        0.0,
        0.2,
    );
    if let Some(ups) = &w.ups {
        let at = format!("{at}.ups");
        p.check(ups.units >= 1, format!("{at}.units"), "must be at least 1");
        let u = &ups.unit;
        let at = format!("{at}.unit");
        p.positive(format!("{at}.rated_kw"), u.rated_kw);
        p.within(format!("{at}.no_load_loss_frac"), u.no_load_loss_frac, 0.0, 0.2);
        p.within(
            format!("{at}.proportional_loss_frac"),
            u.proportional_loss_frac,
            0.0,
            0.2,
        );
        p.within(format!("{at}.square_loss_frac"), u.square_loss_frac, 0.0, 0.2);
    }
    let t = &w.transformers;
    let at = format!("{at}.transformers");
    p.check(t.units >= 1, format!("{at}.units"), "must be at least 1");
    p.check(
        t.power_factor.is_finite() && t.power_factor > 0.0 && t.power_factor <= 1.0,
        format!("{at}.power_factor"),
        format!("must be within (0, 1], got {}", t.power_factor),
    );
    p.positive(format!("{at}.unit.rated_kva"), t.unit.rated_kva);
    p.non_negative(format!("{at}.unit.no_load_loss_kw"), t.unit.no_load_loss_kw);
    p.non_negative(format!("{at}.unit.load_loss_kw"), t.unit.load_loss_kw);
}

fn grid(g: &Grid, p: &mut Problems) {
    p.positive("grid.import_limit_kw", g.import_limit_kw);
    p.within("grid.carbon_kg_per_mwh", g.carbon_kg_per_mwh, 0.0, 2000.0);
    if let Some(s) = &g.solar {
        let at = "grid.solar";
        p.positive(format!("{at}.dc_capacity_kw"), s.dc_capacity_kw);
        p.positive(format!("{at}.ac_capacity_kw"), s.ac_capacity_kw);
        p.within(format!("{at}.tilt_deg"), s.tilt_deg, 0.0, 90.0);
        p.within(format!("{at}.azimuth_deg"), s.azimuth_deg, 0.0, 360.0);
        p.within(format!("{at}.temp_coeff_per_k"), s.temp_coeff_per_k, -0.02, 0.0);
        p.within(format!("{at}.noct_c"), s.noct_c.c(), 20.0, 80.0);
        efficiency(s.derate_frac, &format!("{at}.derate_frac"), p);
        p.within(format!("{at}.albedo"), s.albedo, 0.0, 1.0);
    }
    if let Some(b) = &g.battery {
        let at = "grid.battery";
        p.positive(format!("{at}.energy_kwh"), b.energy_kwh);
        p.positive(format!("{at}.power_kw"), b.power_kw);
        efficiency(b.charge_efficiency, &format!("{at}.charge_efficiency"), p);
        efficiency(b.discharge_efficiency, &format!("{at}.discharge_efficiency"), p);
        p.within(format!("{at}.soc_min_frac"), b.soc_min_frac, 0.0, 1.0);
        p.within(format!("{at}.soc_max_frac"), b.soc_max_frac, 0.0, 1.0);
        p.check(
            b.soc_min_frac < b.soc_max_frac,
            format!("{at}.soc_max_frac"),
            format!("must be above soc_min_frac ({})", b.soc_min_frac),
        );
        p.check(
            (b.soc_min_frac..=b.soc_max_frac).contains(&b.soc_initial_frac),
            format!("{at}.soc_initial_frac"),
            format!(
                "must be within [soc_min_frac, soc_max_frac] = [{}, {}], got {}",
                b.soc_min_frac, b.soc_max_frac, b.soc_initial_frac
            ),
        );
    }
    for (i, bank) in g.engines.iter().enumerate() {
        let at = format!("grid.engines[{i}]");
        p.check(bank.units >= 1, format!("{at}.units"), "must be at least 1");
        let e = &bank.unit;
        let at = format!("{at}.unit");
        p.positive(format!("{at}.rated_kw"), e.rated_kw);
        p.within(format!("{at}.min_load_frac"), e.min_load_frac, 0.0, 0.99);
        p.positive(format!("{at}.ramp_kw_per_s"), e.ramp_kw_per_s);
        p.non_negative(format!("{at}.start_time_s"), e.start_time_s);
        efficiency(e.efficiency, &format!("{at}.efficiency"), p);
        p.non_negative(format!("{at}.carbon_kg_per_mwh"), e.carbon_kg_per_mwh);
    }
    let d = &g.dispatch;
    let at = "grid.dispatch";
    p.within(
        format!("{at}.battery_discharge_above_frac"),
        d.battery_discharge_above_frac,
        0.0,
        1.0,
    );
    p.within(
        format!("{at}.battery_charge_below_frac"),
        d.battery_charge_below_frac,
        0.0,
        1.0,
    );
    p.check(
        d.battery_charge_below_frac < d.battery_discharge_above_frac,
        format!("{at}.battery_charge_below_frac"),
        "must be below battery_discharge_above_frac, or the battery would charge and discharge at once",
    );
    p.within(
        format!("{at}.engine_start_above_frac"),
        d.engine_start_above_frac,
        0.0,
        1.0,
    );
    p.within(
        format!("{at}.engine_stop_below_frac"),
        d.engine_stop_below_frac,
        0.0,
        1.0,
    );
    p.check(
        d.engine_stop_below_frac < d.engine_start_above_frac,
        format!("{at}.engine_stop_below_frac"),
        "must be below engine_start_above_frac, or engines would start and stop in turn",
    );
}

/// An efficiency is within (0, 1].
fn efficiency(value: f64, at: &str, p: &mut Problems) {
    p.check(
        value.is_finite() && value > 0.0 && value <= 1.0,
        at,
        format!("must be within (0, 1], got {value}"),
    );
}
