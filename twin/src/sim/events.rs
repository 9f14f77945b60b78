//! Scenario events checked against the campus and applied over time.

use models::campus::Campus;
use models::scenario::{CduPumpTrip, ChillerTrip, Event, ImportLimitDrop, LoadChange, TowerFanFailure};

use crate::campus::{CampusModel, RejectionModel};
use crate::error::{Error, Result};

/// The `(hall index, CDU number)` of every CDU an event names, after checking that the
/// hall and the CDU exist; `list` names the events in messages (`events`, `conditions`).
pub(super) fn named_cdus(campus: &Campus, events: &[Event], list: &str) -> Result<Vec<(usize, u32)>> {
    let mut named = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if let Event::CduPumpTrip(CduPumpTrip { hall, cdu, .. }) = e {
            let halls = &campus.spec.halls;
            let h = halls.iter().position(|x| &x.name == hall).ok_or_else(|| {
                let names: Vec<&str> = halls.iter().map(|x| x.name.as_str()).collect();
                Error::Scenario(format!(
                    "{list}[{i}].hall: no hall `{hall}` on the campus; its halls: {}",
                    names.join(", ")
                ))
            })?;
            if *cdu < 1 || *cdu > halls[h].cdus {
                return Err(Error::Scenario(format!(
                    "{list}[{i}].cdu: hall `{hall}` has CDUs 1 to {}, not {cdu}",
                    halls[h].cdus
                )));
            }
            named.push((h, *cdu));
        }
    }
    Ok(named)
}

/// What an event does while it lasts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Effect {
    /// A loop's pump delivers only this fraction of its flow.
    PumpTrip { loop_index: usize, residual_frac: f64 },
    /// This many tower fans are out.
    TowerFans(u32),
    /// This many chillers are out.
    Chillers(u32),
    /// The import limit drops to this, W.
    ImportLimit(f64),
    /// Every hall's utilisation is multiplied by this.
    Load(f64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Scheduled {
    start_s: f64,
    end_s: f64,
    effect: Effect,
    /// A condition in force before the run starts: it acts through the warm-up too.
    before_start: bool,
}

/// The events of a run.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct EventSchedule {
    items: Vec<Scheduled>,
    loops: usize,
    chillers: u32,
    tower_cells: u32,
}

/// The effect of every event in force at one instant.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Active {
    /// Per loop: fraction of its pump's flow.
    pub pump_flow_frac: Vec<f64>,
    /// Tower fans out.
    pub failed_tower_fans: u32,
    /// The lowest import limit in force, W.
    pub import_limit_w: Option<f64>,
    /// Factor on every hall's utilisation (the product of the load changes in force).
    pub utilisation_factor: f64,
}

impl EventSchedule {
    /// Checks the events against the built model. `conditions` are faults already in
    /// force when the run starts (a pump the estimator sees weak): each must start at 0,
    /// and they act through the warm-up as well, so the run starts at the steady state
    /// the plant has with them; `events` happen during the run.
    pub fn new(
        model: &CampusModel,
        campus: &Campus,
        conditions: &[Event],
        events: &[Event],
    ) -> Result<EventSchedule> {
        let tower_cells = match model.rejection {
            RejectionModel::Towers(t) => t.cells,
            _ => 0,
        };
        let chillers = model.chillers.map_or(0, |(_, n)| n);
        let mut items = Vec::new();
        let listed = conditions
            .iter()
            .enumerate()
            .map(|(i, e)| ("conditions", i, e, true))
            .chain(events.iter().enumerate().map(|(i, e)| ("events", i, e, false)));
        for (list, i, e, before_start) in listed {
            if before_start && e.at_s() != 0.0 {
                return Err(Error::Scenario(format!(
                    "{list}[{i}].at_s: a condition is in force from the start, so it starts at 0, not {}; a later fault is an event",
                    e.at_s()
                )));
            }
            let effect = match e {
                Event::CduPumpTrip(CduPumpTrip {
                    hall,
                    cdu,
                    residual_flow_frac,
                    ..
                }) => {
                    let h = campus.spec.halls.iter().position(|x| &x.name == hall);
                    let loop_index = model
                        .loops
                        .iter()
                        .position(|l| Some(l.hall) == h && l.cdu_number == Some(*cdu))
                        .ok_or_else(|| {
                            Error::Scenario(format!("{list}[{i}]: CDU {cdu} of `{hall}` is not resolved"))
                        })?;
                    Effect::PumpTrip {
                        loop_index,
                        residual_frac: *residual_flow_frac,
                    }
                }
                Event::TowerFanFailure(TowerFanFailure { cells, .. }) => {
                    if *cells > tower_cells {
                        return Err(Error::Scenario(format!(
                            "{list}[{i}].cells: the campus has {tower_cells} cooling-tower cells, not {cells}"
                        )));
                    }
                    Effect::TowerFans(*cells)
                }
                Event::ChillerTrip(ChillerTrip { chillers: n, .. }) => {
                    if *n > chillers {
                        return Err(Error::Scenario(format!(
                            "{list}[{i}].chillers: the campus has {chillers} trim chillers, not {n}"
                        )));
                    }
                    Effect::Chillers(*n)
                }
                Event::ImportLimitDrop(ImportLimitDrop { import_limit_kw, .. }) => {
                    Effect::ImportLimit(import_limit_kw * 1000.0)
                }
                Event::LoadChange(LoadChange {
                    utilisation_factor, ..
                }) => Effect::Load(*utilisation_factor),
            };
            items.push(Scheduled {
                start_s: e.at_s(),
                end_s: e.end_s(),
                effect,
                before_start,
            });
        }
        Ok(EventSchedule {
            items,
            loops: model.loops.len(),
            chillers,
            tower_cells,
        })
    }

    fn active(&self, t_s: f64) -> impl Iterator<Item = &Scheduled> {
        self.items
            .iter()
            .filter(move |e| (e.start_s..e.end_s).contains(&t_s))
    }

    /// Nothing in force.
    pub fn quiet(&self) -> Active {
        Active {
            pump_flow_frac: vec![1.0; self.loops],
            failed_tower_fans: 0,
            import_limit_w: None,
            utilisation_factor: 1.0,
        }
    }

    /// What is in force through the warm-up: the conditions.
    pub fn warm_up_state(&self) -> Active {
        self.apply(self.items.iter().filter(|e| e.before_start))
    }

    /// Chillers not tripped through the warm-up.
    pub fn chillers_in_warm_up(&self) -> u32 {
        let out: u32 = self
            .items
            .iter()
            .filter(|e| e.before_start)
            .map(|e| if let Effect::Chillers(n) = e.effect { n } else { 0 })
            .sum();
        self.chillers.saturating_sub(out)
    }

    /// What is in force at `t_s`.
    pub fn state_at(&self, t_s: f64) -> Active {
        self.apply(self.active(t_s))
    }

    fn apply<'a>(&self, items: impl Iterator<Item = &'a Scheduled>) -> Active {
        let mut a = self.quiet();
        for e in items {
            match e.effect {
                Effect::PumpTrip {
                    loop_index,
                    residual_frac,
                } => a.pump_flow_frac[loop_index] = a.pump_flow_frac[loop_index].min(residual_frac),
                Effect::TowerFans(n) => a.failed_tower_fans = (a.failed_tower_fans + n).min(self.tower_cells),
                Effect::ImportLimit(w) => a.import_limit_w = Some(a.import_limit_w.map_or(w, |x| x.min(w))),
                Effect::Load(f) => a.utilisation_factor *= f,
                Effect::Chillers(_) => {}
            }
        }
        a
    }

    /// Chillers not tripped at `t_s`.
    pub fn chillers_available(&self, t_s: f64) -> u32 {
        let out: u32 = self
            .active(t_s)
            .map(|e| if let Effect::Chillers(n) = e.effect { n } else { 0 })
            .sum();
        self.chillers.saturating_sub(out)
    }

    /// The first event start or end after `t_s`.
    pub fn next_change_s(&self, t_s: f64) -> Option<f64> {
        self.items
            .iter()
            .flat_map(|e| [e.start_s, e.end_s])
            .filter(|x| *x > t_s + 1e-9 && x.is_finite())
            .reduce(f64::min)
    }
}
