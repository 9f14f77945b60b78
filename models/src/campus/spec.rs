//! The campus file, as typed data.
//!
//! These structs are what a campus TOML file deserialises into once its catalog
//! references are resolved (see [`super::catalog`]). Every field carries its unit in its
//! name; every default is documented with the reason it is what it is. Validation rules
//! live in [`super::validate`].

use serde::{Deserialize, Serialize};

use crate::units::{Celsius, Kelvin};

/// A whole campus: site, halls of racks, cooling plant, power chain and private grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampusSpec {
    /// Where the campus is and which weather drives it.
    pub site: Site,
    /// The data halls; each hall has racks of one model, CDUs and a technology cooling loop.
    pub halls: Vec<Hall>,
    /// The facility water loop between the CDUs and the heat rejection.
    pub facility_water: FacilityWater,
    /// Heat rejection to the atmosphere, and chillers for trim.
    pub heat_rejection: HeatRejection,
    /// Cooling of the share of IT heat that goes to room air.
    pub air_cooling: AirCooling,
    /// Electrical distribution, UPS and transformers between the meter and the racks.
    pub power: PowerChain,
    /// The private grid: utility interconnect, on-site generation, storage.
    pub grid: Grid,
}

/// Location of the campus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Human-readable name of the campus.
    pub name: String,
    /// Latitude, degrees north.
    pub latitude_deg: f64,
    /// Longitude, degrees east (west is negative).
    pub longitude_deg: f64,
    /// Elevation above sea level, m; sets the air pressure where the weather file lacks it.
    pub elevation_m: f64,
    /// EnergyPlus weather file (EPW, optionally gzipped), relative to the campus file.
    pub weather_file: String,
}

/// A data hall: identical racks fed by CDUs, each CDU serving its own share of the racks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hall {
    /// Hall name, unique on the campus (`hall-a`).
    pub name: String,
    /// Number of racks in the hall.
    pub racks: u32,
    /// Rack model (a catalog reference, resolved).
    pub rack: Rack,
    /// Number of CDUs; racks are split over them as evenly as possible, each CDU serving
    /// its own racks through its own secondary loop (no shared header).
    pub cdus: u32,
    /// CDU model (a catalog reference, resolved).
    pub cdu: Cdu,
    /// The technology cooling system: the secondary loop between CDUs and racks.
    pub tcs: TechnologyCoolingLoop,
    /// Spread of rack coolant flow around the mean from hydraulic imbalance, as a fraction
    /// (0.05: racks get between 95 % and 105 % of their share). Default 0: balanced.
    /// Used at rack resolution only.
    #[serde(default)]
    pub flow_imbalance_frac: f64,
    /// Spread of rack utilisation around the hall's, as a fraction (jobs are not
    /// identical). Default 0. Used at rack resolution only.
    #[serde(default)]
    pub utilisation_spread_frac: f64,
}

/// A rack model: its GPUs, host equipment and how its heat leaves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rack {
    /// Catalog model this rack was resolved from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// What the rack is.
    #[serde(default)]
    pub description: String,
    /// Where its figures come from.
    #[serde(default)]
    pub source: String,
    /// GPU model (a catalog reference, resolved).
    pub gpu: Gpu,
    /// GPUs per rack.
    pub gpus_per_rack: u32,
    /// Power of everything but the GPUs (CPUs, NICs, switches, fans, PSU losses) when the
    /// GPUs idle, kW per rack.
    pub host_idle_kw: f64,
    /// Power of everything but the GPUs at full utilisation, kW per rack.
    pub host_max_kw: f64,
    /// Share of rack power captured by the liquid loop (cold plates); the rest heats room air.
    pub liquid_fraction: f64,
    /// Coolant held in the rack (manifolds, hoses, cold plates), L; its thermal mass.
    pub coolant_volume_l: f64,
    /// Design coolant flow per rack, L/min.
    pub design_flow_l_per_min: f64,
}

/// A GPU model: power range, thermal path and how throughput falls with its power cap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gpu {
    /// Catalog model this GPU was resolved from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// What the GPU is.
    #[serde(default)]
    pub description: String,
    /// Where its figures come from.
    #[serde(default)]
    pub source: String,
    /// Thermal design power, the default and maximum power limit, W.
    pub tdp_w: f64,
    /// Draw when idle at its clocks' floor, W.
    pub idle_w: f64,
    /// Lowest power limit the driver accepts, W.
    pub min_cap_w: f64,
    /// Thermal resistance from die to the coolant leaving the cold plate, K/W.
    pub cold_plate_resistance_k_per_w: f64,
    /// Die temperature at which the GPU slows down to stay below its limit, °C.
    pub throttle_temp_c: Celsius,
    /// Relative training throughput against power cap as a fraction of TDP: points
    /// `[cap_frac, throughput_frac]`, rising in cap, concave, ending at `[1.0, 1.0]`.
    pub throughput_curve: Vec<[f64; 2]>,
}

/// A coolant distribution unit: the liquid-to-liquid heat exchanger and pump between the
/// facility water and a rack loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cdu {
    /// Catalog model this CDU was resolved from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// What the CDU is.
    #[serde(default)]
    pub description: String,
    /// Where its figures come from.
    #[serde(default)]
    pub source: String,
    /// Rated heat transfer, kW, at the rated approach and flows below.
    pub rated_heat_kw: f64,
    /// Approach at the rating: secondary supply minus facility supply temperature, K.
    pub rated_approach_k: Kelvin,
    /// Secondary (rack side) flow at the rating, L/min.
    pub rated_secondary_flow_l_per_min: f64,
    /// Facility (primary) side flow at the rating, L/min.
    pub rated_primary_flow_l_per_min: f64,
    /// Secondary pump head at the rated flow, kPa.
    pub pump_head_kpa: f64,
    /// Pump and motor efficiency at the rated point (wire to water).
    pub pump_efficiency: f64,
}

/// Working fluid of a liquid loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fluid {
    /// Water.
    Water,
    /// 25 % propylene glycol in water, the usual secondary coolant.
    Pg25,
}

impl Fluid {
    /// Density, kg/m³, at a typical loop temperature (water at 30 °C; PG25 at 30 °C,
    /// Airedale DeltaChill manual p.53: 1021.5 @25 °C, 1014.3 @40 °C).
    pub fn density_kg_per_m3(self) -> f64 {
        match self {
            Fluid::Water => 995.6,
            Fluid::Pg25 => 1019.1,
        }
    }

    /// Specific heat, J/(kg·K), at a typical loop temperature (water 4178; PG25 3.92 kJ/kg·K
    /// @25 °C and 3.96 @40 °C per the same manual, 3.94 at 32 °C).
    pub fn cp_j_per_kg_k(self) -> f64 {
        match self {
            Fluid::Water => 4178.0,
            Fluid::Pg25 => 3940.0,
        }
    }
}

/// How the CDU secondary pump sets its flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowControl {
    /// Hold the design flow whatever the load (the common choice: racks see steady flow).
    Constant,
    /// Vary pump speed to hold the design ΔT across the racks, within the flow limits;
    /// saves pump energy at part load.
    DeltaT,
}

/// The technology cooling system (secondary loop) of a hall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TechnologyCoolingLoop {
    /// Coolant.
    pub fluid: Fluid,
    /// CDU supply temperature setpoint, °C (ASHRAE W-class secondary, often 30–45 °C).
    pub supply_temp_c: Celsius,
    /// Pump flow control.
    pub flow_control: FlowControl,
    /// Design ΔT across the racks, K, for `delta_t` flow control.
    #[serde(default = "default_tcs_delta_t")]
    pub design_delta_t_k: Kelvin,
    /// Lowest pump flow as a fraction of design, for `delta_t` control. Default 0.3, a
    /// typical minimum speed of a variable-speed pump.
    #[serde(default = "default_min_flow_frac")]
    pub min_flow_frac: f64,
    /// Coolant in the piping and the CDU of one loop, L: the loop's thermal mass beside the racks.
    pub piping_volume_l_per_cdu: f64,
}

fn default_tcs_delta_t() -> Kelvin {
    Kelvin(10.0)
}

fn default_min_flow_frac() -> f64 {
    0.3
}

/// The facility water loop: CDU primaries, pumps, heat rejection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacilityWater {
    /// Facility water fluid.
    pub fluid: Fluid,
    /// Supply temperature setpoint leaving heat rejection and chillers, °C.
    pub supply_temp_c: Celsius,
    /// Pump head at design flow, kPa.
    pub pump_head_kpa: f64,
    /// Pump and motor efficiency at design (wire to water).
    pub pump_efficiency: f64,
    /// Lowest loop flow as a fraction of the sum of CDU rated primary flows; a bypass keeps
    /// it up at low load. Default 0.2.
    #[serde(default = "default_fw_min_flow_frac")]
    pub min_flow_frac: f64,
    /// Water on the supply side (supply piping, tower basins), m³: its thermal mass.
    pub supply_volume_m3: f64,
    /// Water on the return side (return piping), m³.
    pub return_volume_m3: f64,
}

fn default_fw_min_flow_frac() -> f64 {
    0.2
}

/// Heat rejection: towers or dry coolers, with optional trim chillers after them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeatRejection {
    /// Open cooling towers (evaporative), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooling_towers: Option<CoolingTowers>,
    /// Dry coolers (sensible), if any. A campus has towers or dry coolers, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_coolers: Option<DryCoolers>,
    /// Trim chillers in series after heat rejection, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chillers: Option<Chillers>,
}

/// A bank of identical cooling-tower cells.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoolingTowers {
    /// Number of cells; the water flow is split evenly between them.
    pub cells: u32,
    /// The cell model (a catalog reference, resolved).
    pub cell: CoolingTowerCell,
    /// Cycles of concentration of the basin water; sets blowdown = evaporation / (CoC − 1).
    /// Default 5 (LBNL model range 3–15; NREL ESIF ran 12.8).
    #[serde(default = "default_cycles")]
    pub cycles_of_concentration: f64,
}

fn default_cycles() -> f64 {
    5.0
}

/// One cooling-tower cell, rated at a design point (Braun's effectiveness model is
/// calibrated to it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoolingTowerCell {
    /// Catalog model this cell was resolved from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// What the cell is.
    #[serde(default)]
    pub description: String,
    /// Where its figures come from.
    #[serde(default)]
    pub source: String,
    /// Heat rejected at the design point, kW.
    pub design_heat_kw: f64,
    /// Entering wet bulb at the design point, °C.
    pub design_wet_bulb_c: Celsius,
    /// Leaving water minus wet bulb at the design point, K.
    pub design_approach_k: Kelvin,
    /// Water temperature drop through the cell at the design point, K.
    pub design_range_k: Kelvin,
    /// Air mass flow at full fan speed, kg/s.
    pub design_air_flow_kg_per_s: f64,
    /// Fan power at full speed, kW.
    pub fan_kw: f64,
    /// Air flow with the fan off (natural draft) as a fraction of design.
    pub free_convection_frac: f64,
    /// Drift loss as a fraction of circulating water flow (0.00005 = 0.005 %).
    pub drift_frac: f64,
}

/// A bank of identical dry coolers, optionally with adiabatic pre-cooling of the air.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DryCoolers {
    /// Number of units; the water flow is split evenly between them.
    pub units: u32,
    /// The unit model (a catalog reference, resolved).
    pub unit: DryCoolerUnit,
    /// Whether the adiabatic pads are fitted.
    #[serde(default)]
    pub adiabatic: bool,
}

/// One dry cooler: a finned coil with fans, rated at a design point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DryCoolerUnit {
    /// Catalog model this unit was resolved from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// What the unit is.
    #[serde(default)]
    pub description: String,
    /// Where its figures come from.
    #[serde(default)]
    pub source: String,
    /// Heat rejected at the design point, kW.
    pub design_heat_kw: f64,
    /// Entering air dry bulb at the design point, °C.
    pub design_dry_bulb_c: Celsius,
    /// Leaving water minus entering air at the design point, K.
    pub design_approach_k: Kelvin,
    /// Water temperature drop at the design point, K.
    pub design_range_k: Kelvin,
    /// Air mass flow at full fan speed, kg/s.
    pub design_air_flow_kg_per_s: f64,
    /// Fan power at full speed, kW.
    pub fan_kw: f64,
    /// How close the adiabatic pads bring the air to its wet bulb (saturation efficiency).
    pub adiabatic_effectiveness: f64,
}

/// Identical trim chillers in series after heat rejection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chillers {
    /// Number of chillers; they are staged on one at a time as the trim load needs.
    pub count: u32,
    /// The chiller model (a catalog reference, resolved).
    pub unit: Chiller,
}

/// How a chiller's condenser rejects its heat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condenser {
    /// Air-cooled: condensing above the dry bulb.
    Air,
    /// Evaporative (water-cooled on its own tower): condensing above the wet bulb, using water.
    Evaporative,
}

/// A vapour-compression chiller whose COP follows its lift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chiller {
    /// Catalog model this chiller was resolved from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// What the chiller is.
    #[serde(default)]
    pub description: String,
    /// Where its figures come from.
    #[serde(default)]
    pub source: String,
    /// Cooling capacity, kW.
    pub capacity_kw: f64,
    /// How the condenser rejects heat.
    pub condenser: Condenser,
    /// Condensing temperature above the air (dry bulb or wet bulb per `condenser`), K.
    pub condenser_approach_k: Kelvin,
    /// Evaporating temperature below the leaving chilled water, K.
    pub evaporator_approach_k: Kelvin,
    /// Fraction of the Carnot COP the machine reaches (0.5–0.6 for centrifugal machines).
    pub carnot_fraction: f64,
    /// Upper bound on COP, where the lift becomes small.
    pub max_cop: f64,
}

/// Cooling of the heat that racks shed into room air.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AirCooling {
    /// Where CRAH coils send the heat.
    pub sink: AirSink,
    /// CRAH fan power per kW of heat moved, kW/kW.
    pub fan_kw_per_kw: f64,
    /// For the chilled-water sink: the chiller model serving the CRAHs (one machine of
    /// matching size is assumed; only its COP curve is used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chiller: Option<Chiller>,
    /// For the chilled-water sink: chilled water supply temperature, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chilled_water_temp_c: Option<Celsius>,
    /// For the chilled-water sink: dry bulb below which a water-side economiser carries the
    /// whole load with the compressor off, °C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub economiser_below_c: Option<Celsius>,
}

/// Heat sink of the CRAH coils.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AirSink {
    /// Coils on the facility water loop (rear doors or CRAHs on warm water).
    FacilityWater,
    /// Coils on a chilled-water plant of its own, with an economiser.
    ChilledWater,
}

/// The electrical chain from the utility meter to the racks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerChain {
    /// Losses of busways, PDUs and cables as a fraction of IT power at full IT load; they
    /// scale with the square of the load (resistive).
    pub distribution_loss_frac: f64,
    /// Loads that do not follow IT or cooling: lighting, controls, security, fire
    /// systems, kW. They count in PUE (about 10 W/m² of white space for lighting alone).
    pub auxiliary_kw: f64,
    /// UPS between the transformers and the IT load (mechanical loads bypass it), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ups: Option<UpsBank>,
    /// Transformers that every load passes through.
    pub transformers: TransformerBank,
}

/// Identical UPS units sharing the IT load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpsBank {
    /// Number of units in service.
    pub units: u32,
    /// The unit model (a catalog reference, resolved).
    pub unit: Ups,
}

/// A UPS whose losses are a quadratic in its load: `loss = rated·(a + b·x + c·x²)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ups {
    /// Catalog model this unit was resolved from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// What the unit is.
    #[serde(default)]
    pub description: String,
    /// Where its figures come from.
    #[serde(default)]
    pub source: String,
    /// Rated output, kW.
    pub rated_kw: f64,
    /// Loss at no load as a fraction of rating (`a`).
    pub no_load_loss_frac: f64,
    /// Loss proportional to load, fraction of rating at full load (`b`).
    pub proportional_loss_frac: f64,
    /// Loss in the square of load, fraction of rating at full load (`c`).
    pub square_loss_frac: f64,
}

/// Identical transformers sharing the campus load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformerBank {
    /// Number of units in service.
    pub units: u32,
    /// The unit model (a catalog reference, resolved).
    pub unit: Transformer,
    /// Power factor of the load, for apparent power. Default 0.95.
    #[serde(default = "default_power_factor")]
    pub power_factor: f64,
}

fn default_power_factor() -> f64 {
    0.95
}

/// A transformer: no-load (core) loss and load (copper) loss at rating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transformer {
    /// Catalog model this unit was resolved from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// What the unit is.
    #[serde(default)]
    pub description: String,
    /// Where its figures come from.
    #[serde(default)]
    pub source: String,
    /// Rated apparent power, kVA.
    pub rated_kva: f64,
    /// Core loss, kW, whatever the load.
    pub no_load_loss_kw: f64,
    /// Winding loss at rated load, kW; scales with the square of the load.
    pub load_loss_kw: f64,
}

/// The private grid behind the utility meter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grid {
    /// Largest power the utility interconnect may import, kW.
    pub import_limit_kw: f64,
    /// CO₂ intensity of imported electricity, kg/MWh. Default 373, the US average of 2022
    /// (eGRID); set the site's own (CAMX 198, ERCT 335, PJM 350–450).
    #[serde(default = "default_grid_carbon")]
    pub carbon_kg_per_mwh: f64,
    /// Solar PV, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub solar: Option<Solar>,
    /// Battery storage, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery: Option<Battery>,
    /// Banks of gas turbines or engines.
    #[serde(default)]
    pub engines: Vec<EngineBank>,
    /// The rule that dispatches battery and engines (the optimizer replaces it in service).
    #[serde(default)]
    pub dispatch: DispatchRule,
}

/// A fixed-tilt solar PV plant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Solar {
    /// Module nameplate, kW DC at 1000 W/m² and 25 °C cell.
    pub dc_capacity_kw: f64,
    /// Inverter limit, kW AC.
    pub ac_capacity_kw: f64,
    /// Module tilt from horizontal, degrees.
    pub tilt_deg: f64,
    /// Module azimuth, degrees clockwise from north (180: facing south).
    pub azimuth_deg: f64,
    /// Power temperature coefficient, 1/K (−0.0035 for crystalline silicon).
    #[serde(default = "default_pv_temp_coeff")]
    pub temp_coeff_per_k: f64,
    /// Nominal operating cell temperature, °C (45 for open-rack crystalline silicon).
    #[serde(default = "default_noct")]
    pub noct_c: Celsius,
    /// DC losses (soiling, wiring, mismatch) and inverter efficiency together, as the
    /// fraction of DC power that reaches the AC side. Default 0.86.
    #[serde(default = "default_pv_derate")]
    pub derate_frac: f64,
    /// Ground reflectance for the plane-of-array irradiance. Default 0.2.
    #[serde(default = "default_albedo")]
    pub albedo: f64,
}

fn default_pv_temp_coeff() -> f64 {
    -0.0035
}

fn default_noct() -> Celsius {
    Celsius(45.0)
}

fn default_pv_derate() -> f64 {
    0.86
}

fn default_albedo() -> f64 {
    0.2
}

/// A battery energy storage system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Battery {
    /// Catalog model this battery was resolved from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// What the battery is.
    #[serde(default)]
    pub description: String,
    /// Where its figures come from.
    #[serde(default)]
    pub source: String,
    /// Usable energy at 100 % state of charge, kWh.
    pub energy_kwh: f64,
    /// Largest charge or discharge power at the grid side, kW.
    pub power_kw: f64,
    /// Fraction of grid-side charging power that is stored.
    pub charge_efficiency: f64,
    /// Fraction of stored energy withdrawn that reaches the grid side.
    pub discharge_efficiency: f64,
    /// Lowest state of charge allowed, fraction.
    pub soc_min_frac: f64,
    /// Highest state of charge allowed, fraction.
    pub soc_max_frac: f64,
    /// State of charge at the start of a simulation, fraction.
    pub soc_initial_frac: f64,
}

/// Identical gas turbines or engines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineBank {
    /// Number of units.
    pub units: u32,
    /// The unit model (a catalog reference, resolved).
    pub unit: Engine,
}

/// A gas turbine or reciprocating engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Engine {
    /// Catalog model this unit was resolved from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// What the unit is.
    #[serde(default)]
    pub description: String,
    /// Where its figures come from.
    #[serde(default)]
    pub source: String,
    /// Rated electrical output, kW.
    pub rated_kw: f64,
    /// Lowest stable output as a fraction of rating, when running.
    pub min_load_frac: f64,
    /// Fastest change of output, kW per second.
    pub ramp_kw_per_s: f64,
    /// Time from a start command to synchronised output, s.
    pub start_time_s: f64,
    /// Fuel-to-electricity efficiency at rated output (LHV).
    pub efficiency: f64,
    /// CO₂ from its fuel, kg per MWh of electricity.
    pub carbon_kg_per_mwh: f64,
}

/// The rule that dispatches battery and engines in simulation.
///
/// The battery shaves import above `battery_discharge_above_frac` of the import limit and
/// recharges below `battery_charge_below_frac`; engines start when import would exceed
/// `engine_start_above_frac` of the limit with the battery doing what it can, and stop
/// when it falls below `engine_stop_below_frac`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchRule {
    /// Import above this fraction of the limit is shaved by the battery. Default 0.9.
    #[serde(default = "default_discharge_above")]
    pub battery_discharge_above_frac: f64,
    /// Import below this fraction of the limit leaves room to recharge. Default 0.75.
    #[serde(default = "default_charge_below")]
    pub battery_charge_below_frac: f64,
    /// Engines start when import would pass this fraction of the limit. Default 0.97.
    #[serde(default = "default_engine_start")]
    pub engine_start_above_frac: f64,
    /// Engines stop when import without them falls below this fraction. Default 0.85.
    #[serde(default = "default_engine_stop")]
    pub engine_stop_below_frac: f64,
}

impl Default for DispatchRule {
    fn default() -> Self {
        DispatchRule {
            battery_discharge_above_frac: default_discharge_above(),
            battery_charge_below_frac: default_charge_below(),
            engine_start_above_frac: default_engine_start(),
            engine_stop_below_frac: default_engine_stop(),
        }
    }
}

fn default_grid_carbon() -> f64 {
    373.0
}

fn default_discharge_above() -> f64 {
    0.9
}

fn default_charge_below() -> f64 {
    0.75
}

fn default_engine_start() -> f64 {
    0.97
}

fn default_engine_stop() -> f64 {
    0.85
}
