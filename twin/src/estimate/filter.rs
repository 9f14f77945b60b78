//! An extended Kalman filter of one CDU loop.
//!
//! State `x = [T_r, T_s, φ]`: the coolant in the racks (which leaves them at the loop's
//! return), the coolant in the supply piping (what the supply sensor reads), and the pump's
//! flow as a fraction of its design flow. The facility supply temperature and the racks'
//! power are measured boundary conditions. Between readings the state follows the twin's
//! own loop physics:
//!
//! ```text
//! C_r·dT_r/dt = f_liq·P_racks + φ·ṁ_d·cp·(T_s − T_r)
//! C_s·dT_s/dt = φ·ṁ_d·cp·(T_cdu(T_r, φ·ṁ_d, T_fw) − T_s) + P_pump(φ·ṁ_d)
//! dφ/dt       = white noise (a slowly changing pump)
//! ```
//!
//! with `T_cdu` the CDU's controlled exchanger outlet. Each reading (supply, return, flow)
//! is a scalar update, so sensors may report at their own pace. The innovations (reading
//! minus prediction) and their variances feed the alarm detectors.
//!
//! Why an EKF: the model is smooth and nearly linear around its operating point, the state
//! is tiny (3), readings arrive one at a time, and the flow factor is exactly the kind of
//! slowly drifting parameter a state-augmented Kalman filter estimates well.

use nalgebra::{Matrix3, Vector3};
use ode_solvers::{Rk4, System};

use crate::cooling::cdu::CduModel;

/// Process noise spectral densities: temperatures K²/s, flow factor 1/s.
const Q_TEMP_K2_PER_S: f64 = 1e-4;
const Q_FLOW_PER_S: f64 = 1e-4;
/// Longest prediction step, s (rack volumes settle in ~10 s).
const MAX_SUBSTEP_S: f64 = 1.0;

/// What a reading measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Loop supply temperature (°C).
    Supply,
    /// Loop return temperature (°C).
    Return,
    /// Loop flow (fraction of design after conversion).
    Flow,
}

/// The outcome of one scalar update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Innovation {
    /// Reading minus prediction.
    pub residual: f64,
    /// Predicted variance of that difference.
    pub variance: f64,
}

impl Innovation {
    /// The residual in standard deviations.
    pub fn normalized(&self) -> f64 {
        self.residual / self.variance.sqrt()
    }
}

/// The filter of one loop.
#[derive(Debug, Clone, PartialEq)]
pub struct LoopFilter {
    /// The CDU (exchanger, valve, pump) of the loop.
    pub cdu: CduModel,
    /// Thermal capacity of the racks' coolant, J/K.
    pub racks_capacity_j_per_k: f64,
    /// Thermal capacity of the supply piping, J/K.
    pub pipe_capacity_j_per_k: f64,
    /// Design flow, kg/s.
    pub design_flow_kg_per_s: f64,
    /// Coolant specific heat, J/(kg·K).
    pub cp: f64,
    /// Share of rack power to the liquid.
    pub liquid_fraction: f64,
    /// State estimate.
    pub x: Vector3<f64>,
    /// Its covariance.
    pub p: Matrix3<f64>,
    /// Time of the estimate, s since the filter's epoch.
    pub t_s: f64,
    /// Measurement noise variances: supply, return (K²), flow (fraction²).
    pub r: [f64; 3],
}

impl LoopFilter {
    /// A filter starting at the loop's design point with broad uncertainty.
    pub fn new(
        cdu: CduModel,
        racks_capacity_j_per_k: f64,
        pipe_capacity_j_per_k: f64,
        design_flow_kg_per_s: f64,
        cp: f64,
        liquid_fraction: f64,
        r: [f64; 3],
    ) -> Self {
        let setpoint = cdu.supply_setpoint_c;
        LoopFilter {
            cdu,
            racks_capacity_j_per_k,
            pipe_capacity_j_per_k,
            design_flow_kg_per_s,
            cp,
            liquid_fraction,
            x: Vector3::new(setpoint + 8.0, setpoint, 1.0),
            p: Matrix3::from_diagonal(&Vector3::new(25.0, 4.0, 0.04)),
            t_s: 0.0,
            r,
        }
    }

    /// `dx/dt` with the racks drawing `rack_power_w` and facility water at `facility_c`.
    fn rate(&self, x: &Vector3<f64>, rack_power_w: f64, facility_c: f64) -> Vector3<f64> {
        let flow = x[2].max(0.0) * self.design_flow_kg_per_s;
        let c = flow * self.cp;
        let outlet_c = self.cdu.control(x[0], flow, facility_c).hx.hot_out_c;
        Vector3::new(
            (self.liquid_fraction * rack_power_w + c * (x[1] - x[0])) / self.racks_capacity_j_per_k,
            (c * (outlet_c - x[1]) + self.cdu.pump.power_w(flow)) / self.pipe_capacity_j_per_k,
            0.0,
        )
    }

    /// Jacobian of [`Self::rate`] by central differences.
    fn jacobian(&self, x: &Vector3<f64>, rack_power_w: f64, facility_c: f64) -> Matrix3<f64> {
        let mut a = Matrix3::zeros();
        for j in 0..3 {
            let h = if j == 2 { 1e-5 } else { 1e-4 };
            let mut up = *x;
            let mut down = *x;
            up[j] += h;
            down[j] -= h;
            let column = (self.rate(&up, rack_power_w, facility_c)
                - self.rate(&down, rack_power_w, facility_c))
                / (2.0 * h);
            a.set_column(j, &column);
        }
        a
    }

    /// Moves the estimate to `t_s` under the given boundary conditions: the mean with
    /// `ode_solvers`' fixed-step RK4 in steps of at most a second (readings come at a fixed
    /// cadence, and the rack volumes settle in ~10 s), the covariance through the model
    /// linearised at the start of the interval.
    pub fn predict(&mut self, t_s: f64, rack_power_w: f64, facility_c: f64) {
        let dt = t_s - self.t_s;
        if !(dt > 1e-9 && dt.is_finite()) {
            return;
        }
        let steps = (dt / MAX_SUBSTEP_S).ceil().max(1.0);
        let h = dt / steps;
        let f = Matrix3::identity() + self.jacobian(&self.x, rack_power_w, facility_c) * h;
        let q = Matrix3::from_diagonal(&Vector3::new(Q_TEMP_K2_PER_S, Q_TEMP_K2_PER_S, Q_FLOW_PER_S)) * h;
        for _ in 0..steps as usize {
            self.p = f * self.p * f.transpose() + q;
        }
        let rhs = LoopRhs {
            filter: self,
            rack_power_w,
            facility_c,
        };
        let mut rk4 = Rk4::new(rhs, self.t_s, self.x, t_s, h);
        if rk4.integrate().is_ok() {
            if let Some(x) = rk4.y_out().last() {
                self.x = *x;
            }
        }
        self.t_s = t_s;
    }

    /// The filter's prediction of a channel.
    pub fn predicted(&self, channel: Channel) -> f64 {
        self.x[channel_index(channel)]
    }

    /// The innovation a reading would bring, without taking it in: how a sensor already
    /// judged faulty is still watched.
    pub fn innovation(&self, channel: Channel, value: f64) -> Innovation {
        let i = channel_index(channel);
        Innovation {
            residual: value - self.x[i],
            variance: self.p[(i, i)] + self.r[noise_index(channel)],
        }
    }

    /// Admits an abrupt change of what `channel` measures (a pump failing or starting): the
    /// state's variance there grows by the residual's square, so that the next update
    /// follows the reading instead of averaging the jump away as noise.
    pub fn admit_step(&mut self, channel: Channel, residual: f64) {
        let i = channel_index(channel);
        self.p[(i, i)] += residual * residual;
    }

    /// Updates with one reading (temperatures in °C, flow as a fraction of design).
    pub fn update(&mut self, channel: Channel, value: f64) -> Innovation {
        let i = channel_index(channel);
        let r = self.r[noise_index(channel)];
        let residual = value - self.x[i];
        let variance = self.p[(i, i)] + r;
        let gain = self.p.column(i) / variance;
        self.x += gain * residual;
        // Joseph form keeps the covariance symmetric and positive.
        let mut h = Matrix3::zeros();
        h[(i, i)] = 1.0;
        let ikh = Matrix3::identity() - gain * h.row(i);
        self.p = ikh * self.p * ikh.transpose() + gain * gain.transpose() * r;
        Innovation { residual, variance }
    }

    /// Standard deviation of a state, by index.
    pub fn std(&self, i: usize) -> f64 {
        self.p[(i, i)].max(0.0).sqrt()
    }
}

/// The loop's physics under held boundary conditions, as ode_solvers wants it.
struct LoopRhs<'a> {
    filter: &'a LoopFilter,
    rack_power_w: f64,
    facility_c: f64,
}

impl System<f64, Vector3<f64>> for LoopRhs<'_> {
    fn system(&self, _t: f64, x: &Vector3<f64>, dx: &mut Vector3<f64>) {
        *dx = self.filter.rate(x, self.rack_power_w, self.facility_c);
    }
}

/// Where a channel's noise variance sits in `r`.
fn noise_index(channel: Channel) -> usize {
    match channel {
        Channel::Supply => 0,
        Channel::Return => 1,
        Channel::Flow => 2,
    }
}

/// Which state a channel measures: return → T_r, supply → T_s, flow → φ.
fn channel_index(channel: Channel) -> usize {
    match channel {
        Channel::Return => 0,
        Channel::Supply => 1,
        Channel::Flow => 2,
    }
}
