//! "A number or a series": a quantity that is either constant over the horizon or given
//! slot by slot.

use serde::{Deserialize, Serialize};

use crate::Problems;

/// A value for every slot of the horizon: one number for all of them, or an array of
/// exactly `slots` numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged, expecting = "a number, or an array with one number per slot")]
pub enum Series {
    /// The same value in every slot.
    Constant(f64),
    /// One value per slot, slot 0 first.
    PerSlot(Vec<f64>),
}

impl Series {
    /// The value in slot `t`.
    ///
    /// A validated series has a value for every slot; past the end of a short series the
    /// last value holds (only reachable on unvalidated input).
    pub fn at(&self, t: usize) -> f64 {
        match self {
            Series::Constant(v) => *v,
            Series::PerSlot(values) => values.get(t).or(values.last()).copied().unwrap_or(f64::NAN),
        }
    }

    /// The values of slots `0..slots`.
    pub fn values(&self, slots: usize) -> Vec<f64> {
        (0..slots).map(|t| self.at(t)).collect()
    }

    /// Records a problem at `path` if the series has the wrong length or a value fails
    /// `rule` (which returns why a value is wrong).
    pub fn validate(
        &self,
        problems: &mut Problems,
        path: &str,
        slots: usize,
        rule: impl Fn(f64) -> Option<String>,
    ) {
        match self {
            Series::Constant(v) => {
                if let Some(why) = rule(*v) {
                    problems.push(path, why);
                }
            }
            Series::PerSlot(values) => {
                if values.len() != slots {
                    problems.push(
                        path,
                        format!(
                            "must be one number or an array of exactly {slots} numbers (one per slot), got {} numbers",
                            values.len()
                        ),
                    );
                }
                for (t, v) in values.iter().enumerate() {
                    if let Some(why) = rule(*v) {
                        problems.push(format!("{path}[{t}]"), why);
                    }
                }
            }
        }
    }
}

impl From<f64> for Series {
    fn from(value: f64) -> Self {
        Series::Constant(value)
    }
}

impl From<Vec<f64>> for Series {
    fn from(values: Vec<f64>) -> Self {
        Series::PerSlot(values)
    }
}

/// Rule for [`Series::validate`]: finite and not negative.
pub fn non_negative(v: f64) -> Option<String> {
    (!(v.is_finite() && v >= 0.0)).then(|| format!("must be a finite number >= 0, got {v}"))
}

/// Rule for [`Series::validate`]: finite (prices may be negative).
pub fn finite(v: f64) -> Option<String> {
    (!v.is_finite()).then(|| format!("must be a finite number, got {v}"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_number_or_an_array_is_accepted() {
        let one: Series = serde_json::from_str("3.5").unwrap();
        let many: Series = serde_json::from_str("[1, 2, 3]").unwrap();
        assert_eq!(one.values(2), vec![3.5, 3.5]);
        assert_eq!(many.values(3), vec![1.0, 2.0, 3.0]);
        let err = serde_json::from_str::<Series>("\"x\"").unwrap_err().to_string();
        assert!(err.contains("a number, or an array"), "{err}");
    }

    #[test]
    fn wrong_length_and_bad_values_are_named() {
        let mut p = Problems::new();
        Series::PerSlot(vec![1.0, -2.0]).validate(&mut p, "grid.import_limit_kw", 3, non_negative);
        let text = p.to_string();
        assert!(
            text.contains("grid.import_limit_kw: must be one number or an array of exactly 3"),
            "{text}"
        );
        assert!(
            text.contains("grid.import_limit_kw[1]: must be a finite number >= 0"),
            "{text}"
        );
    }
}
