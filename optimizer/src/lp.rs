//! A thin layer over `good_lp` that remembers where each variable and row lands in the
//! HiGHS model, so that values and duals can be read back by index.
//!
//! good_lp's HiGHS backend creates one column per variable in creation order and one row
//! per constraint in the order added (`good_lp::solvers::highs`); [`Columns`] and
//! [`Rows`] count them the same way.

use good_lp::solvers::highs::{HighsProblem, highs};

use crate::model::RowTag;
use good_lp::{
    Constraint, Expression, IntoAffineExpression, ProblemVariables, SolverModel, Variable, VariableDefinition,
};

/// A variable and its column in the HiGHS model.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    /// The good_lp variable, for expressions.
    pub var: Variable,
    /// Its column index.
    pub index: usize,
}

impl Col {
    /// Its value in a vector of column values.
    pub fn value(self, columns: &[f64]) -> f64 {
        columns[self.index]
    }
}

/// The variables of a model under construction.
#[derive(Default)]
pub struct Columns {
    vars: ProblemVariables,
    integers: usize,
}

impl std::fmt::Debug for Columns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Columns")
            .field("columns", &self.vars.len())
            .field("integers", &self.integers)
            .finish()
    }
}

impl Columns {
    /// Adds a variable.
    pub fn add(&mut self, definition: VariableDefinition) -> Col {
        let index = self.vars.len();
        if definition.is_integer() {
            self.integers += 1;
        }
        Col {
            var: self.vars.add(definition),
            index,
        }
    }

    /// Number of variables.
    pub fn len(&self) -> usize {
        self.vars.len()
    }

    /// True before the first variable.
    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }

    /// Number of integer variables.
    pub fn integers(&self) -> usize {
        self.integers
    }

    /// Fixes the objective and hands the variables to HiGHS, ready for rows.
    pub fn minimise(self, objective: Expression) -> Rows {
        let columns = self.vars.len();
        let integers = self.integers;
        Rows {
            model: self.vars.minimise(objective).using(highs),
            tags: Vec::new(),
            count: 0,
            nonzeros: 0,
            columns,
            integers,
        }
    }
}

/// The rows of a model under construction, each with its tag.
#[derive(Debug)]
pub struct Rows {
    model: HighsProblem,
    tags: Vec<RowTag>,
    count: usize,
    nonzeros: usize,
    columns: usize,
    integers: usize,
}

impl Rows {
    /// Adds a constraint and returns its row index.
    pub fn add(&mut self, tag: RowTag, constraint: Constraint) -> usize {
        self.tags.push(tag);
        self.nonzeros += constraint
            .expression()
            .linear_coefficients()
            .filter(|(_, a)| *a != 0.0)
            .count();
        self.model.add_constraint(constraint);
        self.count += 1;
        self.count - 1
    }

    /// Adds `expression ≤ rhs`.
    pub fn leq(&mut self, tag: RowTag, expression: Expression, rhs: f64) -> usize {
        self.add(tag, expression.leq(rhs))
    }

    /// Adds `expression ≥ rhs`.
    pub fn geq(&mut self, tag: RowTag, expression: Expression, rhs: f64) -> usize {
        self.add(tag, expression.geq(rhs))
    }

    /// Adds `expression = rhs`.
    pub fn eq(&mut self, tag: RowTag, expression: Expression, rhs: f64) -> usize {
        self.add(tag, expression.eq(rhs))
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True before the first row.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Size of the model: (rows, columns, integer columns, nonzeros).
    pub fn size(&self) -> (usize, usize, usize, usize) {
        (self.count, self.columns, self.integers, self.nonzeros)
    }

    /// The tag of every row, in row order.
    pub fn tags(&self) -> &[RowTag] {
        &self.tags
    }

    /// The HiGHS model, ready for options and the solve.
    pub fn into_highs(self) -> Result<highs::Model, good_lp::ResolutionError> {
        self.model.try_into_inner()
    }
}

/// `Σ coefficient·variable` over the pairs, skipping zero coefficients.
pub fn sum<I>(terms: I) -> Expression
where
    I: IntoIterator<Item = (f64, Col)>,
{
    let terms = terms.into_iter();
    let mut e = Expression::with_capacity(terms.size_hint().0);
    for (a, col) in terms {
        if a != 0.0 {
            e.add_mul(a, col.var);
        }
    }
    e
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use good_lp::variable;

    use super::*;
    use crate::engine::Engine;
    use crate::model::RowTag;

    /// [`Col::index`] and the row numbers of [`Rows::add`] count columns and rows in the
    /// order they are created; the values and duals read back by index are only right if
    /// good_lp's HiGHS backend hands them to HiGHS in that same order. Each column here is
    /// fixed at its own creation number and each row holds one column, so any reordering
    /// shows up as a value in the wrong place.
    #[test]
    fn good_lp_hands_columns_and_rows_to_highs_in_creation_order() {
        let n = 12;
        let mut cols = Columns::default();
        let x: Vec<Col> = (0..n)
            .map(|i| cols.add(variable().clamp(i as f64, i as f64)))
            .collect();
        let mut rows = cols.minimise(sum(x.iter().map(|&c| (1.0, c))));
        // Rows in reverse column order: row r holds column n − 1 − r.
        for r in 0..n {
            let row = rows.leq(RowTag::Work { job: r }, sum([(1.0, x[n - 1 - r])]), 100.0);
            assert_eq!(row, r);
        }
        let mut engine = Engine::new(rows.into_highs().unwrap(), 1).unwrap();
        engine.set("presolve", "off").unwrap();
        assert_eq!(engine.run().unwrap(), highs::HighsModelStatus::Optimal);
        let point = engine.point();
        for (i, col) in x.iter().enumerate() {
            assert_eq!(col.index, i);
            assert_eq!(point.col_value[i], i as f64, "column {i}");
            assert_eq!(point.row_value[i], (n - 1 - i) as f64, "row {i}");
        }
    }
}
