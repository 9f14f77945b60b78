//! The cost of a schedule, computed from its series without the solver: the scenario
//! costs `C_s`, their expectation, their CVaR and the objective of the formulation page.

use models::schedule::{GeneratorPlan, ScheduleProblem};

/// `C_s` of every price scenario for the given import, generation, peak import and
/// unmet work (one per job).
pub fn scenario_costs(
    problem: &ScheduleProblem,
    import_kw: &[f64],
    generators: &[GeneratorPlan],
    peak_import_kw: f64,
    unmet_gpu_hours: &[f64],
) -> Vec<f64> {
    let dt_h = problem.slot_hours();
    let grid = &problem.grid;
    let mut common = 0.0;
    let mut carbon_kg = 0.0;
    for (t, imp) in import_kw.iter().enumerate() {
        carbon_kg += grid.carbon_kg_per_mwh.at(t) * imp * dt_h / 1000.0;
    }
    for (spec, plan) in problem.generators.iter().zip(generators) {
        for kw in &plan.generator_kw {
            common += spec.cost_per_mwh * kw * dt_h / 1000.0;
            carbon_kg += spec.carbon_kg_per_mwh * kw * dt_h / 1000.0;
        }
    }
    common += grid.carbon_price_per_t * carbon_kg / 1000.0;
    common += grid.demand_charge_per_kw * peak_import_kw;
    for (job, unmet) in problem.jobs.iter().zip(unmet_gpu_hours) {
        common += job.unmet_penalty_per_gpu_hour * unmet;
    }
    grid.price_scenarios
        .iter()
        .map(|s| {
            common
                + import_kw
                    .iter()
                    .enumerate()
                    .map(|(t, imp)| s.price_per_mwh.at(t) * imp * dt_h / 1000.0)
                    .sum::<f64>()
        })
        .collect()
}

/// Expected cost, CVaR and objective of a set of scenario costs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objective {
    /// `Σ_s p_s·C_s`.
    pub expected_cost: f64,
    /// CVaR at level α (present when the risk weight is > 0).
    pub cvar: Option<f64>,
    /// `(1 − λ)·expected_cost + λ·cvar`.
    pub objective: f64,
}

impl Objective {
    /// Computes the objective of the scenario costs `costs` (one per scenario).
    pub fn of(problem: &ScheduleProblem, costs: &[f64]) -> Self {
        let probabilities: Vec<f64> = problem
            .grid
            .price_scenarios
            .iter()
            .map(|s| s.probability)
            .collect();
        let expected_cost = probabilities.iter().zip(costs).map(|(p, c)| p * c).sum();
        let lambda = problem.risk_weight();
        let cvar = problem
            .risk
            .as_ref()
            .filter(|_| lambda > 0.0)
            .map(|r| cvar(&probabilities, costs, r.cvar_alpha));
        Objective {
            expected_cost,
            cvar,
            objective: (1.0 - lambda) * expected_cost + lambda * cvar.unwrap_or(0.0),
        }
    }
}

/// CVaR of a discrete distribution: `min_ζ ζ + Σ_s p_s·max(C_s − ζ, 0)/(1 − α)`. The
/// function of ζ is convex and piecewise linear with breaks at the costs, so its minimum
/// is at one of them.
pub fn cvar(probabilities: &[f64], costs: &[f64], alpha: f64) -> f64 {
    costs
        .iter()
        .map(|&zeta| {
            zeta + probabilities
                .iter()
                .zip(costs)
                .map(|(p, c)| p * (c - zeta).max(0.0))
                .sum::<f64>()
                / (1.0 - alpha)
        })
        .fold(f64::INFINITY, f64::min)
}

#[cfg(test)]
mod tests {
    use super::cvar;

    #[test]
    fn cvar_of_two_scenarios_is_the_tail_mean() {
        // 90 % at 100, 10 % at 1000: CVaR at 0.95 is the worst 5 %, all at 1000; at 0.8
        // it is the worst 20 %: half at 1000, half at 100.
        assert!((cvar(&[0.9, 0.1], &[100.0, 1000.0], 0.95) - 1000.0).abs() < 1e-9);
        assert!((cvar(&[0.9, 0.1], &[100.0, 1000.0], 0.8) - 550.0).abs() < 1e-9);
        assert!((cvar(&[0.9, 0.1], &[100.0, 1000.0], 0.0) - 190.0).abs() < 1e-9);
    }
}
