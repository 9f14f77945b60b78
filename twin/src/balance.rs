//! Energy bookkeeping shared by every component.
//!
//! Each component reports, for the state and inputs it was evaluated at, the power that
//! crosses its boundary inwards and outwards and the rate at which the energy stored in
//! it changes. Conservation means `in − out − storage rate = 0`; one generic check
//! ([`Balance::assert_closes`]) is applied to every component in its tests, and the
//! simulation integrates the campus-wide terms to report `energy_balance_residual`.

/// Power into and out of a component and the rate of change of its stored energy, W.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Balance {
    /// Power entering across the boundary (heat, work, electricity), W.
    pub in_w: f64,
    /// Power leaving across the boundary, W.
    pub out_w: f64,
    /// Rate of change of the energy stored inside, W.
    pub storage_rate_w: f64,
}

impl Balance {
    /// A balance with nothing stored: what enters, leaves.
    pub fn steady(in_w: f64, out_w: f64) -> Self {
        Balance {
            in_w,
            out_w,
            storage_rate_w: 0.0,
        }
    }

    /// `in − out − storage rate`, W: zero for a conserving component.
    pub fn residual_w(&self) -> f64 {
        self.in_w - self.out_w - self.storage_rate_w
    }

    /// The residual relative to the largest of the three terms (0 when all are 0).
    pub fn relative_residual(&self) -> f64 {
        let scale = self
            .in_w
            .abs()
            .max(self.out_w.abs())
            .max(self.storage_rate_w.abs());
        if scale == 0.0 {
            0.0
        } else {
            self.residual_w().abs() / scale
        }
    }

    /// Panics with the terms when the balance does not close to `rel_tol`; for tests only,
    /// so the library itself has no such panic.
    #[cfg(test)]
    pub fn assert_closes(&self, rel_tol: f64) {
        assert!(
            self.relative_residual() <= rel_tol,
            "energy balance does not close: {self:?}, relative residual {:e}",
            self.relative_residual()
        );
    }
}

/// A component that can account for its energy at the point it was evaluated.
pub trait Conserving {
    /// The energy balance of this evaluation.
    fn balance(&self) -> Balance;
}
