//! What the estimator knows about the plant now, in the form a forecast uses.

use chrono::{DateTime, Utc};
use models::campus::Campus;
use models::forecast::DegradedLoop;
use models::scenario::{CduPumpTrip, Event};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::estimate::EstimatorState;

/// A CDU loop is run degraded in a forecast when its estimated flow is below this
/// fraction of design.
///
/// Why 0.9: the estimator assumes 2 % of design as the noise of a flow reading, so a
/// healthy pump reads 1 ± 0.02 and is never called degraded at five standard deviations
/// away; its weak-pump alarm fires below 0.85 (with two standard deviations to spare), so
/// every loop it alarms on is run degraded, and so is a loop between the two that it
/// does not alarm on yet. A loss of 10 % of flow already raises the racks' coolant rise
/// by 11 %, which the capacity should see. The estimate is the flow moving over the
/// design flow, which is the pump's capability under constant flow control (every
/// shipped campus); a hall under ΔT control turns its pumps down at part load on purpose,
/// and its loops then read low without being weak.
pub const DEGRADED_FLOW_FRAC: f64 = 0.9;

/// What the estimator knows about the plant right now: the CDU loops moving less than
/// [`DEGRADED_FLOW_FRAC`] of their design flow, the battery's state of charge when it is
/// measured, and the instant of the newest reading. The rest of the plant is taken at
/// its design state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlantCondition {
    /// Time of the newest reading the estimate rests on; absent before any reading (the
    /// design state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<DateTime<Utc>>,
    /// Loops below [`DEGRADED_FLOW_FRAC`] of design, each with the fraction (0–1) of its
    /// design flow that it moves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub degraded_loops: Vec<DegradedLoop>,
    /// Battery state of charge, fraction, when measured; absent: the campus's initial one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery_soc_frac: Option<f64>,
}

impl PlantCondition {
    /// The condition the estimator's state describes, with the battery's measured state
    /// of charge if there is one. Loops whose flow estimate is below
    /// [`DEGRADED_FLOW_FRAC`] are kept, their flow clamped to [0, 1]; a non-finite
    /// estimate is no evidence of a weak pump and is left out.
    pub fn from_estimate(state: &EstimatorState, battery_soc_frac: Option<f64>) -> PlantCondition {
        PlantCondition {
            as_of: state.as_of,
            degraded_loops: state
                .loops
                .iter()
                .filter(|l| l.flow_frac.is_finite() && l.flow_frac < DEGRADED_FLOW_FRAC)
                .map(|l| DegradedLoop {
                    hall: l.hall.clone(),
                    cdu: l.cdu,
                    flow_frac: l.flow_frac.clamp(0.0, 1.0),
                })
                .collect(),
            battery_soc_frac: battery_soc_frac
                .filter(|s| s.is_finite())
                .map(|s| s.clamp(0.0, 1.0)),
        }
    }

    /// The degraded loops as a run's conditions: pump trips from 0 that last, each
    /// leaving its loop the estimated fraction of its flow.
    pub fn pump_events(&self) -> Vec<Event> {
        self.degraded_loops
            .iter()
            .map(|l| {
                Event::CduPumpTrip(CduPumpTrip {
                    at_s: 0.0,
                    duration_s: None,
                    hall: l.hall.clone(),
                    cdu: l.cdu,
                    residual_flow_frac: l.flow_frac.clamp(0.0, 1.0),
                })
            })
            .collect()
    }

    /// `(hall index, CDU number, flow fraction)` of every degraded loop, after checking
    /// them against `campus`; errors name the loop's path in the condition.
    pub(super) fn resolve(&self, campus: &Campus) -> Result<Vec<(usize, u32, f64)>> {
        let halls = &campus.spec.halls;
        self.degraded_loops
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let h = halls.iter().position(|x| x.name == l.hall).ok_or_else(|| {
                    Error::Scenario(format!(
                        "condition.degraded_loops[{i}].hall: no hall `{}` on the campus",
                        l.hall
                    ))
                })?;
                if l.cdu < 1 || l.cdu > halls[h].cdus {
                    return Err(Error::Scenario(format!(
                        "condition.degraded_loops[{i}].cdu: hall `{}` has CDUs 1 to {}, not {}",
                        l.hall, halls[h].cdus, l.cdu
                    )));
                }
                if !l.flow_frac.is_finite() {
                    return Err(Error::Scenario(format!(
                        "condition.degraded_loops[{i}].flow_frac: must be a number, got {}",
                        l.flow_frac
                    )));
                }
                Ok((h, l.cdu, l.flow_frac.clamp(0.0, 1.0)))
            })
            .collect()
    }
}
