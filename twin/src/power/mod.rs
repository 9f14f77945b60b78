//! The electrical chain between the utility meter and the loads.
//!
//! IT power flows through busways and PDUs (resistive losses, in the square of load),
//! then UPS units (losses quadratic in their load), then transformers (core loss always,
//! winding loss in the square of load). Mechanical loads (pumps, fans, chillers) bypass
//! the UPS and meet the IT path at the transformers. Every loss is a load the meter sees,
//! so facility power and PUE come out of the model rather than from a constant.

use models::campus::PowerChain;

use crate::balance::{Balance, Conserving};

/// The power chain with SI parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PowerChainModel {
    /// Distribution loss at the design IT load, W.
    pub distribution_loss_at_design_w: f64,
    /// Design IT load, W.
    pub it_design_w: f64,
    /// The UPS bank, if any.
    pub ups: Option<UpsBank>,
    /// The transformer bank.
    pub transformers: TransformerBank,
    /// Lighting, controls and other loads that follow neither IT nor cooling, W.
    pub auxiliary_w: f64,
}

/// Identical UPS units sharing their load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpsBank {
    /// Units in service.
    pub units: f64,
    /// Rated output of one unit, W.
    pub rated_w: f64,
    /// No-load loss, fraction of rating.
    pub a: f64,
    /// Loss proportional to load, fraction of rating at full load.
    pub b: f64,
    /// Loss in the square of load, fraction of rating at full load.
    pub c: f64,
}

impl UpsBank {
    /// Loss of the bank delivering `out_w`, W.
    pub fn loss_w(&self, out_w: f64) -> f64 {
        let x = out_w / (self.units * self.rated_w);
        self.units * self.rated_w * (self.a + self.b * x + self.c * x * x)
    }
}

/// Identical transformers sharing their load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransformerBank {
    /// Units in service.
    pub units: f64,
    /// Rated apparent power of one unit, VA.
    pub rated_va: f64,
    /// Core loss of one unit, W.
    pub no_load_w: f64,
    /// Winding loss of one unit at rated load, W.
    pub load_loss_w: f64,
    /// Power factor of the load.
    pub power_factor: f64,
}

impl TransformerBank {
    /// Loss of the bank carrying `load_w` of real power, W.
    pub fn loss_w(&self, load_w: f64) -> f64 {
        let y = load_w / self.power_factor / (self.units * self.rated_va);
        self.units * (self.no_load_w + self.load_loss_w * y * y)
    }
}

/// The power chain at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PowerPoint {
    /// IT load, W.
    pub it_w: f64,
    /// Mechanical load (cooling), W.
    pub mechanical_w: f64,
    /// Auxiliary load (lighting, controls), W.
    pub auxiliary_w: f64,
    /// Busway and PDU losses, W.
    pub distribution_loss_w: f64,
    /// UPS losses, W.
    pub ups_loss_w: f64,
    /// Transformer losses, W.
    pub transformer_loss_w: f64,
    /// What the meter sees, W.
    pub facility_w: f64,
}

impl PowerPoint {
    /// All electrical losses, W.
    pub fn loss_w(&self) -> f64 {
        self.distribution_loss_w + self.ups_loss_w + self.transformer_loss_w
    }
}

impl PowerChainModel {
    /// Builds the chain from its spec and the campus's design IT load.
    pub fn from_spec(spec: &PowerChain, it_design_w: f64) -> Self {
        PowerChainModel {
            distribution_loss_at_design_w: spec.distribution_loss_frac * it_design_w,
            it_design_w,
            ups: spec.ups.as_ref().map(|u| UpsBank {
                units: f64::from(u.units),
                rated_w: u.unit.rated_kw * 1000.0,
                a: u.unit.no_load_loss_frac,
                b: u.unit.proportional_loss_frac,
                c: u.unit.square_loss_frac,
            }),
            transformers: TransformerBank {
                units: f64::from(spec.transformers.units),
                rated_va: spec.transformers.unit.rated_kva * 1000.0,
                no_load_w: spec.transformers.unit.no_load_loss_kw * 1000.0,
                load_loss_w: spec.transformers.unit.load_loss_kw * 1000.0,
                power_factor: spec.transformers.power_factor,
            },
            auxiliary_w: spec.auxiliary_kw * 1000.0,
        }
    }

    /// Facility power and losses for an IT load and a mechanical load, with the auxiliary
    /// load always on. The transformer load includes the losses upstream of it; its own
    /// loss is counted at the meter. Mechanical and auxiliary loads bypass the UPS.
    pub fn evaluate(&self, it_w: f64, mechanical_w: f64) -> PowerPoint {
        let x = it_w / self.it_design_w;
        let distribution_loss_w = self.distribution_loss_at_design_w * x * x;
        let ups_out_w = it_w + distribution_loss_w;
        let ups_loss_w = self.ups.map_or(0.0, |u| u.loss_w(ups_out_w));
        let through_transformers_w = ups_out_w + ups_loss_w + mechanical_w + self.auxiliary_w;
        let transformer_loss_w = self.transformers.loss_w(through_transformers_w);
        PowerPoint {
            it_w,
            mechanical_w,
            auxiliary_w: self.auxiliary_w,
            distribution_loss_w,
            ups_loss_w,
            transformer_loss_w,
            facility_w: through_transformers_w + transformer_loss_w,
        }
    }
}

impl Conserving for PowerPoint {
    /// Everything the meter delivers is used by a load or lost as heat.
    fn balance(&self) -> Balance {
        Balance::steady(
            self.facility_w,
            self.it_w + self.mechanical_w + self.auxiliary_w + self.loss_w(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use models::campus::Campus;
    use proptest::prelude::*;

    fn chain() -> PowerChainModel {
        let campus = Campus::example().unwrap();
        PowerChainModel::from_spec(&campus.spec.power, campus.it_design_kw() * 1000.0)
    }

    #[test]
    fn analytic_ups_efficiency_over_load() {
        let ups = chain().ups.unwrap();
        let rated = ups.units * ups.rated_w;
        // Full load: losses 1 % + 1 % + 1 % of rating; efficiency 1/1.03.
        let full = rated / (rated + ups.loss_w(rated));
        assert!((full - 1.0 / 1.03).abs() < 1e-12);
        // A quarter load: 1 % + 0.25 % + 0.0625 %.
        let quarter = 0.25 * rated / (0.25 * rated + ups.loss_w(0.25 * rated));
        assert!((quarter - 0.25 / (0.25 + 0.013125)).abs() < 1e-12);
        assert!(quarter < full);
    }

    #[test]
    fn analytic_transformer_losses() {
        let t = chain().transformers;
        // At rated apparent power on every unit: core + winding loss at rating.
        let load_w = t.units * t.rated_va * t.power_factor;
        assert!((t.loss_w(load_w) - t.units * (t.no_load_w + t.load_loss_w)).abs() < 1e-6);
        assert!((t.loss_w(0.0) - t.units * t.no_load_w).abs() < 1e-9);
    }

    proptest! {
        #[test]
        fn conservation_and_facility_above_its_loads(it in 0.0f64..1.2e8, mech in 0.0f64..3e7) {
            let p = chain().evaluate(it, mech);
            p.balance().assert_closes(1e-12);
            prop_assert!(p.facility_w >= it + mech + p.auxiliary_w);
        }

        #[test]
        fn losses_rise_with_load(it in 1e6f64..1e8, more in 0.0f64..1e7) {
            let c = chain();
            prop_assert!(c.evaluate(it + more, 1e7).loss_w() >= c.evaluate(it, 1e7).loss_w() - 1e-6);
        }
    }
}
