//! A thin layer over `good_lp` that remembers where each variable and row lands in the
//! HiGHS model, so that values and duals can be read back by index.
//!
//! good_lp's HiGHS backend creates one column per variable in creation order and one row
//! per constraint in the order added (`good_lp::solvers::highs`); [`Columns`] and
//! [`Rows`] count them the same way.

use good_lp::solvers::highs::{HighsProblem, highs};
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
            count: 0,
            nonzeros: 0,
            columns,
            integers,
        }
    }
}

/// The rows of a model under construction.
#[derive(Debug)]
pub struct Rows {
    model: HighsProblem,
    count: usize,
    nonzeros: usize,
    columns: usize,
    integers: usize,
}

impl Rows {
    /// Adds a constraint and returns its row index.
    pub fn add(&mut self, constraint: Constraint) -> usize {
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
    pub fn leq(&mut self, expression: Expression, rhs: f64) -> usize {
        self.add(expression.leq(rhs))
    }

    /// Adds `expression ≥ rhs`.
    pub fn geq(&mut self, expression: Expression, rhs: f64) -> usize {
        self.add(expression.geq(rhs))
    }

    /// Adds `expression = rhs`.
    pub fn eq(&mut self, expression: Expression, rhs: f64) -> usize {
        self.add(expression.eq(rhs))
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
