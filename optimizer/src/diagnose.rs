//! Why a problem is infeasible, in operators' words.
//!
//! Jobs can never make the baseline infeasible (unmet work absorbs any shortfall and a
//! job may always stop), so what cannot be met is a cooling row, an import limit or the
//! ban on export (the IT ramp limit of the extension always holds with every GPU idle;
//! rigid jobs may always stay off). The diagnosis solves the
//! elastic LP, in which each of those rows has a slack and the objective is the total
//! slack; every slack left positive names a family and a slot and says by how much it
//! falls short.

use highs::HighsModelStatus;
use models::schedule::{Infeasibility, ScheduleProblem};

use crate::error::{Error, Result};
use crate::ladder;
use crate::model::{self, BuildOptions, Model, hall_idle_kw};
use crate::solve::{Method, SolveOptions, load};

/// A slack at or below this (kW, relative to the row's scale) is solver noise.
const SLACK_TOLERANCE: f64 = 1e-6;

/// The constraints of `problem` that cannot be met, each with its slot and shortfall,
/// ordered by slot.
pub fn diagnose(problem: &ScheduleProblem, options: &SolveOptions) -> Result<Vec<Infeasibility>> {
    let Model {
        rows,
        vars,
        index: _,
        row_index: _,
    } = model::build(
        problem,
        &BuildOptions {
            elastic: true,
            fixed_on: None,
        },
    );
    // The elastic LP is always feasible; a vertex solution keeps the slacks few.
    let lp_options = SolveOptions {
        method: Method::Simplex,
        time_limit_s: None,
        ..options.clone()
    };
    let (_, _, integers, nonzeros) = rows.size();
    let mut engine = load(rows, &lp_options)?;
    let solved = ladder::solve(&mut engine, &lp_options, integers, nonzeros, None)?;
    if solved.status != HighsModelStatus::Optimal {
        return Err(Error::Solver {
            action: "diagnose the infeasible problem",
            reason: format!("the elastic model ended with status {:?}", solved.status),
        });
    }
    let x = &solved.point.col_value;
    // invariant: build() with `elastic` always creates the slack variables.
    let Some(slack) = &vars.slack else {
        return Ok(Vec::new());
    };
    let slots = problem.slots;
    let mut found = Vec::new();
    let positive = |v: f64, scale: f64| v > SLACK_TOLERANCE * scale.abs().max(1.0);

    for (h, hall) in problem.halls.iter().enumerate() {
        for t in 0..slots {
            let short = slack.cooling[h * slots + t].value(x);
            let capacity = hall.cooling_capacity_kw.at(t);
            if positive(short, capacity) {
                let idle = hall_idle_kw(problem, h);
                let message = if idle > capacity {
                    format!(
                        "{} cooling in slot {t}: idle load alone is {} kW against {} kW capacity",
                        hall.id,
                        kw(idle),
                        kw(capacity)
                    )
                } else {
                    format!(
                        "{} cooling in slot {t}: the hall needs at least {} kW of cooling against {} kW capacity (short by {} kW)",
                        hall.id,
                        kw(capacity + short),
                        kw(capacity),
                        kw(short)
                    )
                };
                found.push(Infeasibility {
                    family: "cooling".into(),
                    hall: Some(hall.id.clone()),
                    slot: t,
                    shortfall: short,
                    message,
                });
            }
        }
    }
    for t in 0..slots {
        let limit = problem.grid.import_limit_kw.at(t);
        let short = slack.import[t].value(x);
        if positive(short, limit) {
            found.push(Infeasibility {
                family: "import_limit".into(),
                hall: None,
                slot: t,
                shortfall: short,
                message: format!(
                    "grid import in slot {t}: even at the lowest load, with the battery and generators at their best, the campus needs {} kW from the grid against the {} kW import limit (short by {} kW)",
                    kw(limit + short),
                    kw(limit),
                    kw(short)
                ),
            });
        }
        let surplus = slack.export[t].value(x);
        if positive(surplus, problem.facility.fixed_kw) {
            found.push(Infeasibility {
                family: "no_export".into(),
                hall: None,
                slot: t,
                shortfall: surplus,
                message: format!(
                    "power balance in slot {t}: on-site generation exceeds the campus load by {} kW and the grid takes no export (the generators cannot ramp down from their initial output fast enough)",
                    kw(surplus)
                ),
            });
        }
    }
    found.sort_by_key(|f| f.slot);
    Ok(found)
}

/// A power for a sentence: whole kW with thousands separators (`8,120`), or three
/// significant decimals below 10 kW.
pub fn kw(value: f64) -> String {
    if value.abs() < 10.0 {
        return format!("{value:.3}");
    }
    let rounded = value.round() as i64;
    let digits = rounded.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if rounded < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::kw;

    #[test]
    fn powers_read_like_an_operator_writes_them() {
        assert_eq!(kw(8120.0), "8,120");
        assert_eq!(kw(1_234_567.4), "1,234,567");
        assert_eq!(kw(-12_000.0), "-12,000");
        assert_eq!(kw(950.0), "950");
        assert_eq!(kw(2.5), "2.500");
    }
}
