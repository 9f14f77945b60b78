//! Quantities integrated over a run, kept in the state vector.
//!
//! The model evaluates each as a rate (W, kg/s, GPUs); the integrator carries its total
//! (J, kg, GPU-seconds) in the state, so totals are as accurate as the temperatures and
//! the energy balance can be checked to the integrator's tolerance. In the state each
//! total is divided by a reference rate (design IT power, its evaporation at full latent
//! load, the GPU count), which keeps the integrator's absolute tolerance meaningful for
//! all of them.

/// One integrated quantity. Rates and totals are indexed by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Tally {
    /// IT power (W) → energy (J).
    It,
    /// Facility power at the meter.
    Facility,
    /// Cooling power: pumps, fans, chillers.
    Cooling,
    /// Electrical losses: distribution, UPS, transformers.
    Loss,
    /// Auxiliary loads: lighting, controls.
    Auxiliary,
    /// Grid import.
    Import,
    /// Import above the limit.
    OverLimit,
    /// Solar output used.
    Solar,
    /// Solar output curtailed (no export).
    Curtailed,
    /// Engine output.
    Engine,
    /// Engine fuel.
    EngineFuel,
    /// Battery conversion losses.
    BatteryLoss,
    /// Trim-chiller compressor power.
    Chiller,
    /// Heat into the cooling system: IT heat, pump, fan and compressor work.
    HeatIn,
    /// Heat out of the cooling system to the atmosphere.
    HeatOut,
    /// Evaporation, kg/s → kg.
    Evaporation,
    /// Blowdown, kg/s → kg.
    Blowdown,
    /// Drift, kg/s → kg.
    Drift,
    /// CO₂ from grid import and engines, kg/s → kg.
    Carbon,
    /// GPUs throttling → GPU-seconds throttled.
    Throttled,
    /// GPUs shut down on over-temperature → GPU-seconds down.
    Down,
    /// Training throughput in full-power GPU equivalents → GPU-seconds of work.
    Work,
}

impl Tally {
    /// How many there are.
    pub const COUNT: usize = 22;

    /// Every tally, in state order.
    pub const ALL: [Tally; Tally::COUNT] = [
        Tally::It,
        Tally::Facility,
        Tally::Cooling,
        Tally::Loss,
        Tally::Auxiliary,
        Tally::Import,
        Tally::OverLimit,
        Tally::Solar,
        Tally::Curtailed,
        Tally::Engine,
        Tally::EngineFuel,
        Tally::BatteryLoss,
        Tally::Chiller,
        Tally::HeatIn,
        Tally::HeatOut,
        Tally::Evaporation,
        Tally::Blowdown,
        Tally::Drift,
        Tally::Carbon,
        Tally::Throttled,
        Tally::Down,
        Tally::Work,
    ];

    /// What the rate is measured in.
    pub fn kind(self) -> TallyKind {
        match self {
            Tally::Evaporation | Tally::Blowdown | Tally::Drift => TallyKind::Water,
            Tally::Carbon => TallyKind::Carbon,
            Tally::Throttled | Tally::Down | Tally::Work => TallyKind::Gpus,
            _ => TallyKind::Power,
        }
    }
}

/// The unit family of a tally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TallyKind {
    /// W → J.
    Power,
    /// kg/s → kg.
    Water,
    /// kg/s → kg of CO₂.
    Carbon,
    /// GPUs → GPU-seconds.
    Gpus,
}

/// A value per tally: rates at an instant, or totals since the start.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tallies(pub [f64; Tally::COUNT]);

impl Default for Tallies {
    fn default() -> Self {
        Tallies([0.0; Tally::COUNT])
    }
}

impl std::ops::Index<Tally> for Tallies {
    type Output = f64;
    fn index(&self, t: Tally) -> &f64 {
        &self.0[t as usize]
    }
}

impl std::ops::IndexMut<Tally> for Tallies {
    fn index_mut(&mut self, t: Tally) -> &mut f64 {
        &mut self.0[t as usize]
    }
}

impl std::ops::Sub for Tallies {
    type Output = Tallies;
    fn sub(self, rhs: Tallies) -> Tallies {
        let mut out = self;
        for (o, r) in out.0.iter_mut().zip(rhs.0) {
            *o -= r;
        }
        out
    }
}

/// Reference rates that scale totals in the state vector.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TallyScale(pub [f64; Tally::COUNT]);

impl TallyScale {
    /// Scales from the design IT power and the GPU count.
    pub fn new(it_design_w: f64, gpus: f64) -> Self {
        let mut s = [0.0; Tally::COUNT];
        for t in Tally::ALL {
            s[t as usize] = match t.kind() {
                TallyKind::Power => it_design_w,
                // Evaporation if all of the design load left as latent heat.
                TallyKind::Water => it_design_w / 2.45e6,
                // CO₂ at a typical grid intensity, 0.4 kg/kWh.
                TallyKind::Carbon => it_design_w * 0.4 / 3.6e6,
                TallyKind::Gpus => gpus,
            };
        }
        TallyScale(s)
    }
}
