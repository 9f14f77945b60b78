//! Open cooling towers by Braun's effectiveness model, with fan-speed control, a bypass,
//! and water use.
//!
//! Braun, Klein & Mitchell (ASHRAE Trans. 95(2), 1989) treat a counterflow wet tower as
//! a heat exchanger between the water and a fictitious air stream whose "temperature" is
//! its enthalpy over `c_s`, the slope of the saturated-air enthalpy between the water's
//! inlet and outlet temperatures. With `C_a = ṁ_a·c_s` and `C_w = ṁ_w·c_pw`,
//! `Q = ε(NTU, Cr)·C_min·(h_sat(T_w,in) − h_a,in)/c_s`, and the transfer units relative to
//! the air follow from Merkel's correlation `hD·A·V/ṁ_w = c·(ṁ_w/ṁ_a)^n` as
//! `NTU_a = c·(ṁ_w/ṁ_a)^(1+n)`. The coefficient `c` is calibrated so that a cell meets its
//! rated approach at its design point; `n = −0.6` is the middle of the −0.35 to −1.1 range
//! Braun reports for real towers. Off design the model gives the approach's growth with load
//! and its fall with air flow and with warmer, wetter weather.
//!
//! Water use: the air leaves saturated at its new enthalpy, so evaporation is
//! `ṁ_a·(W_sat(T_exit) − W_in)`; blowdown is evaporation over (cycles − 1); drift a
//! fixed fraction of the water flowing over the fill.
//!
//! Control: fans (all working cells at one speed) hold the leaving water at its
//! setpoint; with the fans off and the water still too cold, a bypass sends part of the
//! flow around the tower. A failed fan leaves its cell on natural draft.

use models::campus::CoolingTowers;
use models::weather::WeatherSample;
use models::weather::psychro;

use super::hx::{counterflow_effectiveness, counterflow_ntu};
use crate::solve::illinois;

/// Merkel-correlation exponent `n` of the water-to-air flow ratio (Braun 1989: −0.35 to −1.1).
const MERKEL_EXPONENT: f64 = -0.6;

/// Pressure at which catalog design points are rated, Pa.
const RATING_PRESSURE_PA: f64 = 101_325.0;

/// A bank of identical tower cells with SI parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TowerBankModel {
    /// Cells in the bank.
    pub cells: u32,
    /// Air flow of one cell at full fan speed, kg/s.
    pub design_air_kg_per_s: f64,
    /// Fan power of one cell at full speed, W.
    pub fan_w: f64,
    /// Air flow with the fan off, fraction of design.
    pub free_convection_frac: f64,
    /// Drift, fraction of the water over the fill.
    pub drift_frac: f64,
    /// Cycles of concentration of the basin water.
    pub cycles_of_concentration: f64,
    /// Merkel coefficient `c` of `NTU_a = c·(ṁ_w/ṁ_a)^(1+n)`.
    pub ntu_coefficient: f64,
    /// Specific heat of the circulating water, J/(kg·K).
    pub water_cp: f64,
}

/// The air entering the towers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AirIn {
    /// Dry bulb, °C.
    pub dry_bulb_c: f64,
    /// Wet bulb, °C.
    pub wet_bulb_c: f64,
    /// Humidity ratio, kg/kg.
    pub humidity_ratio: f64,
    /// Pressure, Pa.
    pub pressure_pa: f64,
    /// Enthalpy, J/kg dry air.
    pub enthalpy_j_per_kg: f64,
}

impl AirIn {
    /// The air of a weather sample.
    pub fn from_weather(w: &WeatherSample) -> Self {
        AirIn {
            dry_bulb_c: w.dry_bulb_c,
            wet_bulb_c: w.wet_bulb_c,
            humidity_ratio: w.humidity_ratio_kg_per_kg,
            pressure_pa: w.pressure_pa,
            enthalpy_j_per_kg: psychro::moist_air_enthalpy_j_per_kg(w.dry_bulb_c, w.humidity_ratio_kg_per_kg),
        }
    }

    /// Saturated air at `wet_bulb_c`: the rating condition of a tower.
    pub fn saturated(wet_bulb_c: f64, pressure_pa: f64) -> Self {
        let humidity_ratio = psychro::saturation_humidity_ratio(wet_bulb_c, pressure_pa);
        AirIn {
            dry_bulb_c: wet_bulb_c,
            wet_bulb_c,
            humidity_ratio,
            pressure_pa,
            enthalpy_j_per_kg: psychro::moist_air_enthalpy_j_per_kg(wet_bulb_c, humidity_ratio),
        }
    }
}

/// The towers at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TowerPoint {
    /// Heat taken from the water, W.
    pub q_w: f64,
    /// Water leaving, after the bypass rejoins, °C.
    pub outlet_c: f64,
    /// Fan speed of the working cells, fraction.
    pub fan_speed_frac: f64,
    /// Fan power, W.
    pub fan_w: f64,
    /// Share of the water sent over the fill (the rest bypasses).
    pub through_frac: f64,
    /// Evaporation, kg/s.
    pub evaporation_kg_per_s: f64,
    /// Blowdown, kg/s.
    pub blowdown_kg_per_s: f64,
    /// Drift, kg/s.
    pub drift_kg_per_s: f64,
}

impl TowerPoint {
    /// Make-up water: evaporation, blowdown and drift, kg/s.
    pub fn water_kg_per_s(&self) -> f64 {
        self.evaporation_kg_per_s + self.blowdown_kg_per_s + self.drift_kg_per_s
    }
}

/// One cell's heat and leaving water.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cell {
    q_w: f64,
    outlet_c: f64,
    air_kg_per_s: f64,
}

impl TowerBankModel {
    /// Builds the bank from its spec, calibrating the Merkel coefficient to the cell's
    /// design point.
    pub fn from_spec(spec: &CoolingTowers, water_cp: f64) -> Result<Self, String> {
        let cell = &spec.cell;
        let mut model = TowerBankModel {
            cells: spec.cells,
            design_air_kg_per_s: cell.design_air_flow_kg_per_s,
            fan_w: cell.fan_kw * 1000.0,
            free_convection_frac: cell.free_convection_frac,
            drift_frac: cell.drift_frac,
            cycles_of_concentration: spec.cycles_of_concentration,
            ntu_coefficient: 0.0,
            water_cp,
        };
        let q_w = cell.design_heat_kw * 1000.0;
        let range_k = cell.design_range_k.k();
        let water_kg_per_s = q_w / (water_cp * range_k);
        let outlet_c = cell.design_wet_bulb_c.c() + cell.design_approach_k.k();
        let inlet_c = outlet_c + range_k;
        let air = AirIn::saturated(cell.design_wet_bulb_c.c(), RATING_PRESSURE_PA);
        let (c_min, cr, c_air, driving_k) = model.exchanger(
            inlet_c,
            outlet_c,
            water_kg_per_s,
            cell.design_air_flow_kg_per_s,
            &air,
        );
        let effectiveness = q_w / (c_min * driving_k);
        let ntu_min = counterflow_ntu(effectiveness, cr).ok_or_else(|| {
            format!(
                "the design point (approach {} K at {} °C wet bulb, range {range_k} K) needs an effectiveness of {effectiveness:.3}: no tower reaches it with this air flow",
                cell.design_approach_k.k(),
                cell.design_wet_bulb_c.c()
            )
        })?;
        let ntu_air = ntu_min * c_min / c_air;
        model.ntu_coefficient =
            ntu_air / (water_kg_per_s / cell.design_air_flow_kg_per_s).powf(1.0 + MERKEL_EXPONENT);
        Ok(model)
    }

    /// The exchanger analogy for water between `inlet_c` and `outlet_c`: `(C_min, Cr,
    /// C_air, driving difference in K)`.
    fn exchanger(
        &self,
        inlet_c: f64,
        outlet_c: f64,
        water_kg_per_s: f64,
        air_kg_per_s: f64,
        air: &AirIn,
    ) -> (f64, f64, f64, f64) {
        let h_in = psychro::saturated_air_enthalpy_j_per_kg(inlet_c, air.pressure_pa);
        let cs = if (inlet_c - outlet_c).abs() > 1e-6 {
            (h_in - psychro::saturated_air_enthalpy_j_per_kg(outlet_c, air.pressure_pa))
                / (inlet_c - outlet_c)
        } else {
            psychro::saturated_air_enthalpy_slope_j_per_kg_k(inlet_c, air.pressure_pa)
        };
        let c_air = air_kg_per_s * cs;
        let c_water = water_kg_per_s * self.water_cp;
        let (c_min, c_max) = (c_air.min(c_water), c_air.max(c_water));
        (c_min, c_min / c_max, c_air, (h_in - air.enthalpy_j_per_kg) / cs)
    }

    /// Heat one cell takes from `water_kg_per_s` entering at `inlet_c` if it leaves at
    /// `outlet_c` (which sets `c_s`), W.
    fn cell_heat_w(
        &self,
        inlet_c: f64,
        outlet_c: f64,
        water_kg_per_s: f64,
        air_kg_per_s: f64,
        air: &AirIn,
    ) -> f64 {
        if water_kg_per_s <= 0.0 || air_kg_per_s <= 0.0 {
            return 0.0;
        }
        let (c_min, cr, c_air, driving_k) =
            self.exchanger(inlet_c, outlet_c, water_kg_per_s, air_kg_per_s, air);
        let ntu_air = self.ntu_coefficient * (water_kg_per_s / air_kg_per_s).powf(1.0 + MERKEL_EXPONENT);
        counterflow_effectiveness(ntu_air * c_air / c_min, cr) * c_min * driving_k
    }

    /// One cell with its leaving temperature: the root of `T = T_in − Q(c_s(T))/C_w`,
    /// bracketed between just below the wet bulb and the inlet.
    fn cell(&self, inlet_c: f64, water_kg_per_s: f64, air_kg_per_s: f64, air: &AirIn) -> Cell {
        let c_water = water_kg_per_s * self.water_cp;
        let heat = |outlet_c: f64| self.cell_heat_w(inlet_c, outlet_c, water_kg_per_s, air_kg_per_s, air);
        let residual = |outlet_c: f64| inlet_c - heat(outlet_c) / c_water - outlet_c;
        let lowest_c = air.wet_bulb_c.min(inlet_c) - 1.0;
        let outlet_c = if residual(lowest_c) > 0.0 && residual(inlet_c) <= 0.0 {
            illinois(residual, lowest_c, inlet_c, 1e-10)
        } else {
            // The air heats the water (or nothing flows): one pass at the inlet's slope.
            inlet_c - heat(inlet_c) / c_water
        };
        Cell {
            q_w: c_water * (inlet_c - outlet_c),
            outlet_c,
            air_kg_per_s,
        }
    }

    /// Air flow of a cell at fan speed `speed_frac`, kg/s.
    fn air_kg_per_s(&self, speed_frac: f64) -> f64 {
        self.design_air_kg_per_s
            * (self.free_convection_frac + (1.0 - self.free_convection_frac) * speed_frac)
    }

    /// The bank holding its leaving water at `setpoint_c` as far as it can, with
    /// `failed_fans` cells on natural draft.
    pub fn control(
        &self,
        inlet_c: f64,
        water_kg_per_s: f64,
        setpoint_c: f64,
        failed_fans: u32,
        air: &AirIn,
    ) -> TowerPoint {
        let cells = f64::from(self.cells);
        let failed = f64::from(failed_fans.min(self.cells));
        let working = cells - failed;
        let per_cell = water_kg_per_s / cells;
        if water_kg_per_s <= 0.0 || inlet_c <= setpoint_c {
            return self.bypassed(inlet_c);
        }
        let natural_air = self.air_kg_per_s(0.0);
        // Cells without a fan run on natural draft whatever the others do.
        let natural = (failed > 0.0).then(|| self.cell(inlet_c, per_cell, natural_air, air));
        let full = || self.cell(inlet_c, per_cell, self.air_kg_per_s(1.0), air);
        if working == 0.0 {
            let cell = natural.unwrap_or_else(full);
            return self.point(0.0, failed, 0.0, per_cell, cell, cell, air);
        }
        // The working cells must bring their water to the temperature that mixes with the
        // failed cells' to the setpoint. Leaving there fixes c_s, so the heat each speed
        // can move is one exchanger evaluation and the fan speed is a monotone root.
        let natural_out_c = natural.map_or(0.0, |c| c.outlet_c);
        let target_c = (cells * setpoint_c - failed * natural_out_c) / working;
        let needed_w = per_cell * self.water_cp * (inlet_c - target_c);
        let heat_w = |s: f64| self.cell_heat_w(inlet_c, target_c, per_cell, self.air_kg_per_s(s), air);
        if target_c >= inlet_c || heat_w(0.0) >= needed_w {
            // Even with fans off the bank would overcool: bypass part of the water.
            return self.with_bypass(inlet_c, water_kg_per_s, setpoint_c, air);
        }
        if heat_w(1.0) < needed_w {
            let full = full();
            if full.q_w <= 0.0 {
                // The air is too warm and humid to cool this water: keep it off the fill.
                return self.bypassed(inlet_c);
            }
            return self.point(working, failed, 1.0, per_cell, full, natural.unwrap_or(full), air);
        }
        let speed = illinois(|s| heat_w(s) - needed_w, 0.0, 1.0, 1e-10);
        let controlled = Cell {
            q_w: needed_w,
            outlet_c: target_c,
            air_kg_per_s: self.air_kg_per_s(speed),
        };
        self.point(
            working,
            failed,
            speed,
            per_cell,
            controlled,
            natural.unwrap_or(controlled),
            air,
        )
    }

    /// Fans off and part of the water around the fill, so the mix leaves at `setpoint_c`.
    ///
    /// With a share `β` over the fill leaving at `T_o`, the mix is at the setpoint when
    /// `β = (T_in − T_set)/(T_in − T_o)`; the heat the fill must move is then fixed, and
    /// `T_o` is the root of one exchanger evaluation against it.
    fn with_bypass(&self, inlet_c: f64, water_kg_per_s: f64, setpoint_c: f64, air: &AirIn) -> TowerPoint {
        let cells = f64::from(self.cells);
        let per_cell_total = water_kg_per_s / cells;
        let needed_w = per_cell_total * self.water_cp * (inlet_c - setpoint_c);
        let natural_air = self.air_kg_per_s(0.0);
        let share = |outlet_c: f64| (inlet_c - setpoint_c) / (inlet_c - outlet_c);
        let surplus = |outlet_c: f64| {
            self.cell_heat_w(
                inlet_c,
                outlet_c,
                share(outlet_c) * per_cell_total,
                natural_air,
                air,
            ) - needed_w
        };
        let lowest_c = air.wet_bulb_c.min(setpoint_c) + 1e-6;
        let outlet_c = illinois(surplus, lowest_c, setpoint_c, 1e-9);
        let through = share(outlet_c).min(1.0);
        let cell = Cell {
            q_w: needed_w,
            outlet_c,
            air_kg_per_s: natural_air,
        };
        let mut point = self.point(cells, 0.0, 0.0, through * per_cell_total, cell, cell, air);
        point.through_frac = through;
        point.outlet_c = setpoint_c;
        point
    }

    fn bypassed(&self, inlet_c: f64) -> TowerPoint {
        TowerPoint {
            outlet_c: inlet_c,
            ..TowerPoint::default()
        }
    }

    /// Totals over the working and failed cells, with their water use.
    #[allow(clippy::too_many_arguments)] // each is a distinct physical input of the bank
    fn point(
        &self,
        working: f64,
        failed: f64,
        speed: f64,
        per_cell_kg_per_s: f64,
        working_cell: Cell,
        failed_cell: Cell,
        air: &AirIn,
    ) -> TowerPoint {
        let cells = working + failed;
        let mut evaporation = working * self.evaporation(working_cell, air);
        if failed > 0.0 {
            evaporation += failed * self.evaporation(failed_cell, air);
        }
        TowerPoint {
            q_w: working * working_cell.q_w + failed * failed_cell.q_w,
            outlet_c: (working * working_cell.outlet_c + failed * failed_cell.outlet_c) / cells,
            fan_speed_frac: speed,
            fan_w: working * self.fan_w * speed * speed * speed,
            through_frac: 1.0,
            evaporation_kg_per_s: evaporation,
            blowdown_kg_per_s: evaporation / (self.cycles_of_concentration - 1.0),
            drift_kg_per_s: self.drift_frac * per_cell_kg_per_s * cells,
        }
    }

    /// Water evaporated by one cell: the air leaves saturated at its raised enthalpy.
    fn evaporation(&self, cell: Cell, air: &AirIn) -> f64 {
        if cell.air_kg_per_s <= 0.0 || cell.q_w <= 0.0 {
            return 0.0;
        }
        let exit_h = air.enthalpy_j_per_kg + cell.q_w / cell.air_kg_per_s;
        let exit_c = psychro::saturation_temp_from_enthalpy_c(exit_h, air.pressure_pa);
        let exit_w = psychro::saturation_humidity_ratio(exit_c, air.pressure_pa);
        (cell.air_kg_per_s * (exit_w - air.humidity_ratio)).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::balance::Balance;
    use models::campus::Campus;
    use proptest::prelude::*;

    fn bank() -> TowerBankModel {
        let campus = Campus::example().unwrap();
        TowerBankModel::from_spec(
            campus.spec.heat_rejection.cooling_towers.as_ref().unwrap(),
            4178.0,
        )
        .unwrap()
    }

    /// Water flow of the whole bank at its design point.
    fn design_flow(b: &TowerBankModel) -> f64 {
        f64::from(b.cells) * 7.0e6 / (4178.0 * 8.0)
    }

    #[test]
    fn analytic_design_point_is_met_exactly() {
        let b = bank();
        let air = AirIn::saturated(25.6, RATING_PRESSURE_PA);
        let cell = b.cell(
            25.6 + 5.0 + 8.0,
            7.0e6 / (4178.0 * 8.0),
            b.design_air_kg_per_s,
            &air,
        );
        assert!((cell.outlet_c - 30.6).abs() < 1e-6, "{}", cell.outlet_c);
        assert!((cell.q_w - 7.0e6).abs() / 7.0e6 < 1e-6);
    }

    #[test]
    fn evaporation_is_about_the_latent_share_of_the_heat() {
        // Rejecting heat into 25.6 °C saturated air is mostly latent: about 1.2–1.5 kg of
        // water per kWh (a fully latent kWh is 3.6 MJ / 2.43 MJ/kg = 1.48 kg).
        let b = bank();
        let air = AirIn::saturated(25.6, RATING_PRESSURE_PA);
        let p = b.control(38.6, design_flow(&b), 30.6, 0, &air);
        let kg_per_kwh = p.evaporation_kg_per_s / (p.q_w / 3.6e6);
        assert!((1.1..1.5).contains(&kg_per_kwh), "{kg_per_kwh} kg/kWh");
        assert!((p.blowdown_kg_per_s - p.evaporation_kg_per_s / 4.0).abs() < 1e-12);
    }

    #[test]
    fn fans_hold_the_setpoint_and_failures_raise_the_outlet() {
        let b = bank();
        let flow = design_flow(&b) * 0.8;
        let air = AirIn::saturated(20.0, RATING_PRESSURE_PA);
        let p = b.control(38.0, flow, 30.0, 0, &air);
        assert!((p.outlet_c - 30.0).abs() < 1e-6);
        assert!(p.fan_speed_frac > 0.0 && p.fan_speed_frac < 1.0);
        // Air at 27 °C wet bulb: even full fans leave the water above 30 °C.
        let hot = AirIn::saturated(27.0, RATING_PRESSURE_PA);
        let p = b.control(38.0, flow, 30.0, 0, &hot);
        assert_eq!(p.fan_speed_frac, 1.0);
        assert!(p.outlet_c > 30.0);
        let failed = b.control(38.0, flow, 30.0, 3, &hot);
        assert!(failed.outlet_c > p.outlet_c);
        assert!(failed.fan_w < p.fan_w);
        // Winter at low load: natural draft alone would overcool, so fans stay off and
        // part of the water bypasses the fill. (At 80 % flow the 10 % natural-draft air
        // cannot carry the heat, whatever its temperature: the fans run.)
        let cold = AirIn::saturated(-5.0, RATING_PRESSURE_PA);
        assert!(b.control(38.0, flow, 30.0, 0, &cold).fan_w > 0.0);
        let p = b.control(38.0, flow / 4.0, 30.0, 0, &cold);
        assert_eq!(p.fan_w, 0.0);
        assert!(p.through_frac < 1.0);
        assert!((p.outlet_c - 30.0).abs() < 1e-6);
    }

    fn balance(p: &TowerPoint, inlet_c: f64, flow: f64) -> Balance {
        // Water enthalpy in = water enthalpy out + heat to air.
        Balance::steady(flow * 4178.0 * inlet_c, flow * 4178.0 * p.outlet_c + p.q_w)
    }

    proptest! {
        #[test]
        fn conservation_and_bounds(
            inlet in 20.0f64..50.0, wb in -10.0f64..28.0, set in 15.0f64..35.0, flow_frac in 0.05f64..1.2, failed in 0u32..4
        ) {
            let b = bank();
            let flow = design_flow(&b) * flow_frac;
            let air = AirIn::saturated(wb, RATING_PRESSURE_PA);
            let p = b.control(inlet, flow, set, failed, &air);
            balance(&p, inlet, flow).assert_closes(1e-9);
            // The water leaves no warmer than it came (the fill is bypassed when the air
            // would heat it) and no colder than the setpoint or the wet bulb.
            prop_assert!(p.outlet_c <= inlet + 1e-9);
            prop_assert!(p.outlet_c >= set.min(inlet) - 1e-6);
            prop_assert!(p.outlet_c >= wb.min(inlet) - 1e-6);
            prop_assert!(p.water_kg_per_s() >= 0.0);
        }

        #[test]
        fn more_air_never_raises_the_leaving_water(
            inlet in 30.0f64..45.0, wb in 0.0f64..26.0, s in 0.0f64..1.0, ds in 0.0f64..0.5
        ) {
            let b = bank();
            let flow = design_flow(&b) / f64::from(b.cells);
            let air = AirIn::saturated(wb, RATING_PRESSURE_PA);
            let slow = b.cell(inlet, flow, b.air_kg_per_s(s), &air);
            let fast = b.cell(inlet, flow, b.air_kg_per_s((s + ds).min(1.0)), &air);
            prop_assert!(fast.outlet_c <= slow.outlet_c + 1e-9);
            prop_assert!(slow.outlet_c >= wb - 1e-6);
        }
    }
}
