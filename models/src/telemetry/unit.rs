//! Quantities (with canonical units and physical ranges) and the units gateways send.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a point measures. The suffix of a point id names it, and fixes the canonical unit
/// in which its values travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// Temperature, `_temp_c`, °C.
    Temperature,
    /// Power, `_kw`, kW (negative where the point's sign convention allows, e.g. export).
    Power,
    /// Energy, `_kwh`, kWh (meter counters, battery energy).
    Energy,
    /// Volumetric flow, `_l_per_min`, L/min.
    VolumeFlow,
    /// Mass flow, `_kg_per_s`, kg/s.
    MassFlow,
    /// Gauge pressure, `_kpa`, kPa.
    Pressure,
    /// A fraction, `_frac`, 0..1 (pump or fan speed, valve position, state of charge).
    Fraction,
    /// A percentage, `_pct`, 0..100 (relative humidity).
    Percent,
    /// Speed, `_m_per_s`, m/s (wind).
    Speed,
    /// Irradiance, `_w_per_m2`, W/m² (solar).
    Irradiance,
}

impl Quantity {
    /// Every quantity, longest suffix first where one suffix ends another (`_kwh`, `_kw`).
    pub const ALL: [Quantity; 10] = [
        Quantity::Temperature,
        Quantity::Energy,
        Quantity::Power,
        Quantity::VolumeFlow,
        Quantity::MassFlow,
        Quantity::Pressure,
        Quantity::Fraction,
        Quantity::Percent,
        Quantity::Speed,
        Quantity::Irradiance,
    ];

    /// The suffix of the point id's last segment.
    pub fn suffix(self) -> &'static str {
        match self {
            Quantity::Temperature => "_temp_c",
            Quantity::Power => "_kw",
            Quantity::Energy => "_kwh",
            Quantity::VolumeFlow => "_l_per_min",
            Quantity::MassFlow => "_kg_per_s",
            Quantity::Pressure => "_kpa",
            Quantity::Fraction => "_frac",
            Quantity::Percent => "_pct",
            Quantity::Speed => "_m_per_s",
            Quantity::Irradiance => "_w_per_m2",
        }
    }

    /// The quantity of a point id's last segment: a non-empty name, then a suffix.
    pub fn from_segment(segment: &str) -> Option<Quantity> {
        Quantity::ALL.into_iter().find(|q| {
            segment
                .strip_suffix(q.suffix())
                .is_some_and(|name| !name.is_empty() && !name.ends_with('_'))
        })
    }

    /// The unit in which values of this quantity travel and are stored.
    pub fn canonical_unit(self) -> Unit {
        match self {
            Quantity::Temperature => Unit::DegC,
            Quantity::Power => Unit::Kw,
            Quantity::Energy => Unit::Kwh,
            Quantity::VolumeFlow => Unit::LPerMin,
            Quantity::MassFlow => Unit::KgPerS,
            Quantity::Pressure => Unit::Kpa,
            Quantity::Fraction => Unit::Frac,
            Quantity::Percent => Unit::Pct,
            Quantity::Speed => Unit::MPerS,
            Quantity::Irradiance => Unit::WPerM2,
        }
    }

    /// The physical range `[lo, hi]` of a value in the canonical unit. A reading outside
    /// it is a broken sensor or a mapping error, never plant state.
    ///
    /// - temperature −60..150 °C: the coldest outdoor air at a campus site (−60 °C) to
    ///   pressurised hot water (150 °C); covers coolant (−40..150) and weather alike;
    /// - power ±5,000,000 kW: a 5 GW campus, either sign (export, battery charging);
    /// - energy ±10¹² kWh: meter counters, either sign for net meters;
    /// - volume flow 0..10,000,000 L/min and mass flow 0..200,000 kg/s: a gigawatt plant
    ///   loop at 10 K carries ≈24,000 kg/s, with margin;
    /// - pressure −101.325..10,000 kPa gauge: full vacuum to 100 bar;
    /// - fraction 0..1, percent 0..100;
    /// - speed 0..120 m/s: above the strongest gust recorded;
    /// - irradiance 0..2,000 W/m²: above cloud-enhanced peaks (~1,500 W/m²).
    pub fn range(self) -> (f64, f64) {
        match self {
            Quantity::Temperature => (-60.0, 150.0),
            Quantity::Power => (-5.0e6, 5.0e6),
            Quantity::Energy => (-1.0e12, 1.0e12),
            Quantity::VolumeFlow => (0.0, 1.0e7),
            Quantity::MassFlow => (0.0, 2.0e5),
            Quantity::Pressure => (-101.325, 10_000.0),
            Quantity::Fraction => (0.0, 1.0),
            Quantity::Percent => (0.0, 100.0),
            Quantity::Speed => (0.0, 120.0),
            Quantity::Irradiance => (0.0, 2_000.0),
        }
    }

    /// The physical dimension, which decides which units may be converted into it.
    pub fn dimension(self) -> Dimension {
        self.canonical_unit().dimension()
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Quantity::Temperature => "temperature",
            Quantity::Power => "power",
            Quantity::Energy => "energy",
            Quantity::VolumeFlow => "volume flow",
            Quantity::MassFlow => "mass flow",
            Quantity::Pressure => "pressure",
            Quantity::Fraction => "fraction",
            Quantity::Percent => "percent",
            Quantity::Speed => "speed",
            Quantity::Irradiance => "irradiance",
        };
        f.write_str(name)
    }
}

/// Physical dimension of a unit. Volume and mass flow are distinct dimensions: converting
/// one into the other needs a density.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// Temperature.
    Temperature,
    /// Power.
    Power,
    /// Energy.
    Energy,
    /// Volumetric flow.
    VolumeFlow,
    /// Mass flow.
    MassFlow,
    /// Pressure.
    Pressure,
    /// Dimensionless ratio (fraction or percent).
    Ratio,
    /// Speed.
    Speed,
    /// Irradiance.
    Irradiance,
}

/// A unit that a gateway may send, as written in point maps and payloads (`"degF"`,
/// `"gpm"`, `"MW"`, `"psi"`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Unit {
    /// Degree Celsius.
    #[serde(rename = "degC", alias = "°C", alias = "C")]
    DegC,
    /// Degree Fahrenheit.
    #[serde(rename = "degF", alias = "°F", alias = "F")]
    DegF,
    /// Kelvin.
    #[serde(rename = "K")]
    Kelvin,
    /// Watt.
    #[serde(rename = "W")]
    W,
    /// Kilowatt.
    #[serde(rename = "kW")]
    Kw,
    /// Megawatt.
    #[serde(rename = "MW")]
    Mw,
    /// Watt-hour.
    #[serde(rename = "Wh")]
    Wh,
    /// Kilowatt-hour.
    #[serde(rename = "kWh")]
    Kwh,
    /// Megawatt-hour.
    #[serde(rename = "MWh")]
    Mwh,
    /// Litre per minute.
    #[serde(rename = "L/min", alias = "lpm")]
    LPerMin,
    /// US gallon per minute.
    #[serde(rename = "gpm")]
    Gpm,
    /// Cubic metre per hour.
    #[serde(rename = "m3/h")]
    M3PerH,
    /// Kilogram per second.
    #[serde(rename = "kg/s")]
    KgPerS,
    /// Kilopascal.
    #[serde(rename = "kPa")]
    Kpa,
    /// Pound-force per square inch.
    #[serde(rename = "psi")]
    Psi,
    /// Bar.
    #[serde(rename = "bar")]
    Bar,
    /// Fraction, 0..1.
    #[serde(rename = "frac")]
    Frac,
    /// Percent, 0..100.
    #[serde(rename = "pct", alias = "%")]
    Pct,
    /// Metre per second.
    #[serde(rename = "m/s")]
    MPerS,
    /// Watt per square metre.
    #[serde(rename = "W/m2")]
    WPerM2,
}

/// A unit that cannot be converted into another.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UnitError {
    /// The two units measure different things.
    #[error("cannot convert {from} into {to}: different dimensions")]
    Mismatch {
        /// The unit sent.
        from: Unit,
        /// The unit wanted.
        to: Unit,
    },
    /// Volume and mass flow need a density, and none (or a bad one) was given.
    #[error("converting {from} into {to} needs a density > 0 (density_kg_per_m3)")]
    NeedsDensity {
        /// The unit sent.
        from: Unit,
        /// The unit wanted.
        to: Unit,
    },
}

/// Litres in one US gallon.
const LITRES_PER_GALLON: f64 = 3.785_411_784;
/// Kilopascal in one psi.
const KPA_PER_PSI: f64 = 6.894_757_293_168;

impl Unit {
    /// Every unit.
    pub const ALL: [Unit; 20] = [
        Unit::DegC,
        Unit::DegF,
        Unit::Kelvin,
        Unit::W,
        Unit::Kw,
        Unit::Mw,
        Unit::Wh,
        Unit::Kwh,
        Unit::Mwh,
        Unit::LPerMin,
        Unit::Gpm,
        Unit::M3PerH,
        Unit::KgPerS,
        Unit::Kpa,
        Unit::Psi,
        Unit::Bar,
        Unit::Frac,
        Unit::Pct,
        Unit::MPerS,
        Unit::WPerM2,
    ];

    /// The dimension this unit measures.
    pub fn dimension(self) -> Dimension {
        match self {
            Unit::DegC | Unit::DegF | Unit::Kelvin => Dimension::Temperature,
            Unit::W | Unit::Kw | Unit::Mw => Dimension::Power,
            Unit::Wh | Unit::Kwh | Unit::Mwh => Dimension::Energy,
            Unit::LPerMin | Unit::Gpm | Unit::M3PerH => Dimension::VolumeFlow,
            Unit::KgPerS => Dimension::MassFlow,
            Unit::Kpa | Unit::Psi | Unit::Bar => Dimension::Pressure,
            Unit::Frac | Unit::Pct => Dimension::Ratio,
            Unit::MPerS => Dimension::Speed,
            Unit::WPerM2 => Dimension::Irradiance,
        }
    }

    /// The name as written in files and payloads.
    pub fn name(self) -> &'static str {
        match self {
            Unit::DegC => "degC",
            Unit::DegF => "degF",
            Unit::Kelvin => "K",
            Unit::W => "W",
            Unit::Kw => "kW",
            Unit::Mw => "MW",
            Unit::Wh => "Wh",
            Unit::Kwh => "kWh",
            Unit::Mwh => "MWh",
            Unit::LPerMin => "L/min",
            Unit::Gpm => "gpm",
            Unit::M3PerH => "m3/h",
            Unit::KgPerS => "kg/s",
            Unit::Kpa => "kPa",
            Unit::Psi => "psi",
            Unit::Bar => "bar",
            Unit::Frac => "frac",
            Unit::Pct => "pct",
            Unit::MPerS => "m/s",
            Unit::WPerM2 => "W/m2",
        }
    }

    /// Value in this unit → value in the dimension's base (K, kW, kWh, L/min, kg/s, kPa,
    /// fraction, m/s, W/m²).
    fn unit_to_base(self, v: f64) -> f64 {
        match self {
            Unit::DegC => v + 273.15,
            Unit::DegF => (v - 32.0) * 5.0 / 9.0 + 273.15,
            Unit::Kelvin => v,
            Unit::W | Unit::Wh => v / 1000.0,
            Unit::Kw | Unit::Kwh => v,
            Unit::Mw | Unit::Mwh => v * 1000.0,
            Unit::LPerMin => v,
            Unit::Gpm => v * LITRES_PER_GALLON,
            Unit::M3PerH => v * 1000.0 / 60.0,
            Unit::KgPerS => v,
            Unit::Kpa => v,
            Unit::Psi => v * KPA_PER_PSI,
            Unit::Bar => v * 100.0,
            Unit::Frac => v,
            Unit::Pct => v / 100.0,
            Unit::MPerS | Unit::WPerM2 => v,
        }
    }

    /// Value in the dimension's base → value in this unit.
    fn base_to_unit(self, v: f64) -> f64 {
        match self {
            Unit::DegC => v - 273.15,
            Unit::DegF => (v - 273.15) * 9.0 / 5.0 + 32.0,
            Unit::Kelvin => v,
            Unit::W | Unit::Wh => v * 1000.0,
            Unit::Kw | Unit::Kwh => v,
            Unit::Mw | Unit::Mwh => v / 1000.0,
            Unit::LPerMin => v,
            Unit::Gpm => v / LITRES_PER_GALLON,
            Unit::M3PerH => v * 60.0 / 1000.0,
            Unit::KgPerS => v,
            Unit::Kpa => v,
            Unit::Psi => v / KPA_PER_PSI,
            Unit::Bar => v / 100.0,
            Unit::Frac => v,
            Unit::Pct => v * 100.0,
            Unit::MPerS | Unit::WPerM2 => v,
        }
    }

    /// Checks that values in this unit can be converted into `to` (with a density when
    /// volume and mass flow meet).
    pub fn check_convertible(self, to: Unit, density_kg_per_m3: Option<f64>) -> Result<(), UnitError> {
        let (a, b) = (self.dimension(), to.dimension());
        if a == b {
            return Ok(());
        }
        let flows = matches!(
            (a, b),
            (Dimension::VolumeFlow, Dimension::MassFlow) | (Dimension::MassFlow, Dimension::VolumeFlow)
        );
        if !flows {
            return Err(UnitError::Mismatch { from: self, to });
        }
        match density_kg_per_m3 {
            Some(d) if d.is_finite() && d > 0.0 => Ok(()),
            _ => Err(UnitError::NeedsDensity { from: self, to }),
        }
    }

    /// Converts `value` in this unit into `to`. Volume ↔ mass flow uses
    /// `density_kg_per_m3`.
    pub fn convert(self, value: f64, to: Unit, density_kg_per_m3: Option<f64>) -> Result<f64, UnitError> {
        self.check_convertible(to, density_kg_per_m3)?;
        let base = self.unit_to_base(value);
        let base = match (self.dimension(), to.dimension(), density_kg_per_m3) {
            // L/min → kg/s: litres are 1e-3 m³, a minute is 60 s.
            (Dimension::VolumeFlow, Dimension::MassFlow, Some(d)) => base * 1e-3 * d / 60.0,
            (Dimension::MassFlow, Dimension::VolumeFlow, Some(d)) => base / d / 1e-3 * 60.0,
            _ => base,
        };
        Ok(to.base_to_unit(base))
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Unit {
    type Err = String;
    /// Parses a unit by its name or one of its aliases (`°C`, `C`, `lpm`, `%`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let alias = match s {
            "°C" | "C" => Some(Unit::DegC),
            "°F" | "F" => Some(Unit::DegF),
            "lpm" => Some(Unit::LPerMin),
            "%" => Some(Unit::Pct),
            _ => None,
        };
        alias
            .or_else(|| Unit::ALL.into_iter().find(|u| u.name() == s))
            .ok_or_else(|| {
                format!(
                    "unknown unit `{s}`; known: {}",
                    Unit::ALL.map(Unit::name).join(", ")
                )
            })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * (1.0 + b.abs())
    }

    #[test]
    fn conversions_match_hand_values() {
        let cases = [
            (Unit::DegF, 212.0, Unit::DegC, 100.0),
            (Unit::DegF, 32.0, Unit::DegC, 0.0),
            (Unit::Kelvin, 300.0, Unit::DegC, 26.85),
            (Unit::DegC, 25.0, Unit::DegF, 77.0),
            (Unit::Gpm, 1.0, Unit::LPerMin, 3.785_411_784),
            (Unit::M3PerH, 6.0, Unit::LPerMin, 100.0),
            (Unit::W, 1500.0, Unit::Kw, 1.5),
            (Unit::Mw, 2.5, Unit::Kw, 2500.0),
            (Unit::Mwh, 1.0, Unit::Kwh, 1000.0),
            (Unit::Psi, 1.0, Unit::Kpa, 6.894_757_293_168),
            (Unit::Bar, 2.0, Unit::Kpa, 200.0),
            (Unit::Pct, 55.0, Unit::Frac, 0.55),
            (Unit::Frac, 0.55, Unit::Pct, 55.0),
        ];
        for (from, v, to, want) in cases {
            let got = from.convert(v, to, None).unwrap();
            assert!(close(got, want), "{v} {from} -> {got} {to}, want {want}");
        }
    }

    #[test]
    fn flow_across_volume_and_mass_needs_a_density() {
        // 60 L/min of water (1000 kg/m³) is 1 kg/s.
        let kg_per_s = Unit::LPerMin.convert(60.0, Unit::KgPerS, Some(1000.0)).unwrap();
        assert!(close(kg_per_s, 1.0));
        let l_per_min = Unit::KgPerS.convert(1.0, Unit::LPerMin, Some(1000.0)).unwrap();
        assert!(close(l_per_min, 60.0));
        // 100 gpm of PG25 (1021.5 kg/m³).
        let kg_per_s = Unit::Gpm.convert(100.0, Unit::KgPerS, Some(1021.5)).unwrap();
        assert!(close(kg_per_s, 100.0 * 3.785_411_784 * 1.0215 / 60.0));
        assert!(matches!(
            Unit::Gpm.convert(1.0, Unit::KgPerS, None),
            Err(UnitError::NeedsDensity { .. })
        ));
        assert!(matches!(
            Unit::Gpm.convert(1.0, Unit::KgPerS, Some(0.0)),
            Err(UnitError::NeedsDensity { .. })
        ));
    }

    #[test]
    fn units_of_different_dimensions_do_not_convert() {
        let err = Unit::Psi.convert(1.0, Unit::DegC, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot convert psi into degC: different dimensions"
        );
        assert!(Unit::Kwh.convert(1.0, Unit::Kw, None).is_err());
    }

    #[test]
    fn every_unit_round_trips_through_its_base_and_its_name() {
        for unit in Unit::ALL {
            let v = 12.5;
            assert!(close(unit.base_to_unit(unit.unit_to_base(v)), v), "{unit}");
            assert_eq!(unit.name().parse::<Unit>().unwrap(), unit);
            let json = serde_json::to_string(&unit).unwrap();
            assert_eq!(json, format!("\"{}\"", unit.name()));
        }
        assert!(
            "furlong/fortnight"
                .parse::<Unit>()
                .unwrap_err()
                .contains("unknown unit")
        );
    }

    #[test]
    fn every_quantity_has_a_sensible_range_in_its_canonical_unit() {
        for q in Quantity::ALL {
            let (lo, hi) = q.range();
            assert!(lo < hi, "{q}");
            assert_eq!(q.canonical_unit().dimension(), q.dimension());
            assert_eq!(Quantity::from_segment(&format!("x{}", q.suffix())), Some(q));
        }
        assert_eq!(Quantity::Temperature.range(), (-60.0, 150.0));
    }
}
