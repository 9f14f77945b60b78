//! The IT load over a run: utilisation and GPU power cap per hall at any instant.
//!
//! Built from a [`LoadSpec`], or from an optimizer's plan ([`LoadProfile::from_plan`]);
//! times are seconds from the simulation start. Profiles with steps (a load table, a
//! plan's slots, the phases of synchronous training) report their next change, so that
//! the simulation can hold inputs constant between changes and integrate exactly across
//! them.

use chrono::{DateTime, Utc};
use models::campus::Campus;
use models::load::{LoadSpec, LoadTable};
use models::schedule::{Plan, PlanStatus};

use crate::error::{Error, Result};

/// Utilisation and power cap of one hall.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HallLoad {
    /// Share of time GPUs compute, 0–1.
    pub utilisation: f64,
    /// Power cap per GPU, W.
    pub cap_w: f64,
}

/// The load of every hall over time.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadProfile {
    /// Constant utilisation.
    Constant {
        /// Utilisation.
        utilisation: f64,
        /// Cap as a fraction of TDP.
        cap_frac: f64,
    },
    /// Daily cosine, in local standard time.
    Diurnal {
        /// Daily low.
        min: f64,
        /// Daily high.
        max: f64,
        /// Local hour of the high.
        peak_hour: f64,
        /// Cap as a fraction of TDP.
        cap_frac: f64,
        /// Local standard hour at the simulation start.
        start_local_hour: f64,
    },
    /// Stepwise per-hall values: `(t_s, utilisation, cap_w)` rows per hall, sorted.
    Table {
        /// Rows per hall, in campus hall order.
        halls: Vec<Vec<(f64, f64, f64)>>,
    },
    /// Compute and communication phases in lockstep.
    Training {
        /// Iteration period, s.
        period_s: f64,
        /// Share of the period computing.
        compute_frac: f64,
        /// Utilisation while computing.
        compute_utilisation: f64,
        /// Utilisation while communicating.
        communication_utilisation: f64,
        /// Cap as a fraction of TDP.
        cap_frac: f64,
    },
}

impl LoadProfile {
    /// Builds the profile for a run starting at `start`. `hall_names` are the campus's
    /// halls in order; `time_zone_h` is the site's standard-time offset; `table` is the
    /// load table already read for a `csv` spec.
    pub fn build(
        spec: &LoadSpec,
        start: DateTime<Utc>,
        time_zone_h: f64,
        hall_names: &[&str],
        table: Option<&LoadTable>,
    ) -> Result<LoadProfile> {
        Ok(match spec {
            LoadSpec::Constant {
                utilisation,
                power_cap_frac,
            } => LoadProfile::Constant {
                utilisation: *utilisation,
                cap_frac: *power_cap_frac,
            },
            LoadSpec::Diurnal {
                min_utilisation,
                max_utilisation,
                peak_hour,
                power_cap_frac,
            } => {
                let seconds = start.timestamp() as f64 + time_zone_h * 3600.0;
                LoadProfile::Diurnal {
                    min: *min_utilisation,
                    max: *max_utilisation,
                    peak_hour: *peak_hour,
                    cap_frac: *power_cap_frac,
                    start_local_hour: (seconds / 3600.0).rem_euclid(24.0),
                }
            }
            LoadSpec::Csv { file } => {
                let table =
                    table.ok_or_else(|| Error::Scenario(format!("load table `{file}` was not read")))?;
                Self::from_table(table, file, start, hall_names)?
            }
            LoadSpec::Training {
                period_s,
                compute_frac,
                compute_utilisation,
                communication_utilisation,
                power_cap_frac,
            } => LoadProfile::Training {
                period_s: *period_s,
                compute_frac: *compute_frac,
                compute_utilisation: *compute_utilisation,
                communication_utilisation: *communication_utilisation,
                cap_frac: *power_cap_frac,
            },
        })
    }

    fn from_table(
        table: &LoadTable,
        file: &str,
        start: DateTime<Utc>,
        hall_names: &[&str],
    ) -> Result<LoadProfile> {
        if let Some(row) = table.rows.iter().find(|r| !hall_names.contains(&r.hall.as_str())) {
            return Err(Error::Scenario(format!(
                "{file}: hall `{}` is not on the campus (its halls: {})",
                row.hall,
                hall_names.join(", ")
            )));
        }
        let mut halls = Vec::with_capacity(hall_names.len());
        for name in hall_names {
            let rows: Vec<(f64, f64, f64)> = table
                .rows
                .iter()
                .filter(|r| r.hall == *name)
                .map(|r| {
                    (
                        (r.time - start).num_milliseconds() as f64 / 1000.0,
                        r.utilisation,
                        r.power_cap_w,
                    )
                })
                .collect();
            match rows.first() {
                None => {
                    return Err(Error::Scenario(format!("{file}: hall `{name}` has no rows")));
                }
                Some((t, _, _)) if *t > 0.0 => {
                    return Err(Error::Scenario(format!(
                        "{file}: hall `{name}` starts at {}, after the simulation start {start}; give it a row at or before the start",
                        start + chrono::Duration::milliseconds((*t * 1000.0) as i64)
                    )));
                }
                _ => halls.push(rows),
            }
        }
        Ok(LoadProfile::Table { halls })
    }

    /// The load that follows `plan` on `campus`, for a run starting at `start`: in each
    /// slot, each hall's utilisation is its planned busy GPUs over its GPUs, and its power
    /// cap the busy-GPU-weighted mean of the jobs' per-GPU caps there. GPU power is linear
    /// in the cap at a given utilisation (`idle + u·(cap − idle)`), so the mean cap gives
    /// the hall exactly the plan's GPU power. Before the plan's first slot and after its
    /// last, the nearest slot holds. A hall no job uses idles; a slot with no busy GPU in a
    /// hall keeps the GPUs' TDP as cap (it draws idle power whatever the cap).
    pub fn from_plan(plan: &Plan, campus: &Campus, start: DateTime<Utc>) -> Result<LoadProfile> {
        let slots = plan.slot_start.len();
        if plan.status == PlanStatus::Infeasible || slots == 0 {
            return Err(Error::Scenario(format!(
                "the plan has no schedule to follow (status {}, {slots} slots)",
                plan.status.as_str()
            )));
        }
        if let Some(t) = (1..slots).find(|&t| plan.slot_start[t] <= plan.slot_start[t - 1]) {
            return Err(Error::Scenario(format!(
                "plan.slot_start[{t}]: {} is not after the slot before it",
                plan.slot_start[t]
            )));
        }
        let halls = &campus.spec.halls;
        let mut busy = vec![vec![0.0; slots]; halls.len()];
        let mut cap_weighted_w = vec![vec![0.0; slots]; halls.len()];
        for (j, job) in plan.jobs.iter().enumerate() {
            for (k, placement) in job.placements.iter().enumerate() {
                let h = halls
                    .iter()
                    .position(|x| x.name == placement.hall)
                    .ok_or_else(|| {
                        Error::Scenario(format!(
                            "plan.jobs[{j}].placements[{k}].hall: no hall `{}` on the campus",
                            placement.hall
                        ))
                    })?;
                let tdp_w = halls[h].rack.gpu.tdp_w;
                for (t, gpus) in placement.gpus.iter().take(slots).enumerate() {
                    // Solver round-off can leave a GPU count a hair below zero.
                    let gpus = gpus.max(0.0);
                    if gpus == 0.0 {
                        continue;
                    }
                    let cap_w = placement
                        .power_cap_kw_per_gpu
                        .get(t)
                        .copied()
                        .flatten()
                        .map_or(tdp_w, |kw| kw * 1000.0);
                    busy[h][t] += gpus;
                    cap_weighted_w[h][t] += gpus * cap_w;
                }
            }
        }
        let rows = halls
            .iter()
            .enumerate()
            .map(|(h, hall)| {
                let gpus = f64::from(hall.racks) * f64::from(hall.rack.gpus_per_rack);
                (0..slots)
                    .map(|t| {
                        let t_s = (plan.slot_start[t] - start).num_milliseconds() as f64 / 1000.0;
                        let utilisation = (busy[h][t] / gpus).clamp(0.0, 1.0);
                        let cap_w = if busy[h][t] > 0.0 {
                            cap_weighted_w[h][t] / busy[h][t]
                        } else {
                            hall.rack.gpu.tdp_w
                        };
                        (t_s, utilisation, cap_w)
                    })
                    .collect()
            })
            .collect();
        Ok(LoadProfile::Table { halls: rows })
    }

    /// Checks that the profile fits a campus of `halls` halls.
    pub fn check_halls(&self, halls: usize) -> Result<()> {
        match self {
            LoadProfile::Table { halls: rows } if rows.len() != halls || rows.iter().any(Vec::is_empty) => {
                Err(Error::Scenario(format!(
                    "the load table has rows for {} halls, the campus has {halls}, and every hall needs at least one row",
                    rows.len()
                )))
            }
            _ => Ok(()),
        }
    }

    /// The load of hall `hall` (index) with GPUs of `tdp_w`, at `t_s` after the start.
    pub fn at(&self, hall: usize, t_s: f64, tdp_w: f64) -> HallLoad {
        match self {
            LoadProfile::Constant {
                utilisation,
                cap_frac,
            } => HallLoad {
                utilisation: *utilisation,
                cap_w: cap_frac * tdp_w,
            },
            LoadProfile::Diurnal {
                min,
                max,
                peak_hour,
                cap_frac,
                start_local_hour,
            } => {
                let hour = start_local_hour + t_s / 3600.0;
                let phase = 2.0 * std::f64::consts::PI * (hour - peak_hour) / 24.0;
                HallLoad {
                    utilisation: 0.5 * (min + max) + 0.5 * (max - min) * phase.cos(),
                    cap_w: cap_frac * tdp_w,
                }
            }
            LoadProfile::Table { halls } => {
                let rows = &halls[hall];
                let i = rows.partition_point(|(t, _, _)| *t <= t_s).saturating_sub(1);
                let (_, utilisation, cap_w) = rows[i];
                HallLoad { utilisation, cap_w }
            }
            LoadProfile::Training {
                period_s,
                compute_frac,
                compute_utilisation,
                communication_utilisation,
                cap_frac,
            } => {
                let phase = (t_s / period_s).fract();
                let utilisation = if phase < *compute_frac {
                    *compute_utilisation
                } else {
                    *communication_utilisation
                };
                HallLoad {
                    utilisation,
                    cap_w: cap_frac * tdp_w,
                }
            }
        }
    }

    /// The first instant after `t_s` at which the load steps, if any.
    pub fn next_change_s(&self, t_s: f64) -> Option<f64> {
        match self {
            LoadProfile::Constant { .. } | LoadProfile::Diurnal { .. } => None,
            LoadProfile::Table { halls } => halls
                .iter()
                .filter_map(|rows| rows.iter().map(|(t, _, _)| *t).find(|t| *t > t_s + 1e-9))
                .reduce(f64::min),
            LoadProfile::Training {
                period_s,
                compute_frac,
                ..
            } => {
                let cycle = (t_s / period_s).floor();
                let compute_end = (cycle + compute_frac) * period_s;
                Some(if compute_end > t_s + 1e-9 {
                    compute_end
                } else {
                    (cycle + 1.0) * period_s
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> DateTime<Utc> {
        "2026-07-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn diurnal_peaks_at_its_local_hour() {
        let spec = LoadSpec::Diurnal {
            min_utilisation: 0.5,
            max_utilisation: 0.9,
            peak_hour: 15.0,
            power_cap_frac: 1.0,
        };
        // UTC midnight is 19:00 local standard time at UTC−5; 15:00 local is 20 h later.
        let p = LoadProfile::build(&spec, start(), -5.0, &["a"], None).unwrap();
        assert!((p.at(0, 20.0 * 3600.0, 1000.0).utilisation - 0.9).abs() < 1e-12);
        assert!((p.at(0, 8.0 * 3600.0, 1000.0).utilisation - 0.5).abs() < 1e-12);
    }

    #[test]
    fn training_alternates_and_reports_its_phase_changes() {
        let spec = LoadSpec::Training {
            period_s: 6.0,
            compute_frac: 0.7,
            compute_utilisation: 1.0,
            communication_utilisation: 0.1,
            power_cap_frac: 1.0,
        };
        let p = LoadProfile::build(&spec, start(), 0.0, &["a"], None).unwrap();
        assert_eq!(p.at(0, 1.0, 1000.0).utilisation, 1.0);
        assert_eq!(p.at(0, 4.5, 1000.0).utilisation, 0.1);
        assert!((p.next_change_s(0.0).unwrap() - 4.2).abs() < 1e-9);
        assert!((p.next_change_s(4.2).unwrap() - 6.0).abs() < 1e-9);
        assert!((p.next_change_s(6.5).unwrap() - 10.2).abs() < 1e-9);
    }

    #[test]
    fn a_plan_becomes_each_halls_busy_share_at_the_busy_weighted_mean_cap() {
        use models::schedule::{JobPlan, Placement, SolveStats};
        let campus = Campus::example().unwrap();
        let placement = |hall: &str, gpus: Vec<f64>, caps: Vec<Option<f64>>| Placement {
            hall: hall.into(),
            gpus,
            power_cap_kw_per_gpu: caps,
        };
        let job = |id: &str, placements| JobPlan {
            id: id.into(),
            placements,
            work_done_gpu_hours: 0.0,
            unmet_gpu_hours: 0.0,
            finish_slot: None,
        };
        let mut plan = Plan::infeasible(Vec::new(), SolveStats::default());
        plan.status = PlanStatus::Optimal;
        let start = start();
        plan.slot_start = vec![start, start + chrono::Duration::minutes(15)];
        plan.jobs = vec![
            job(
                "a",
                vec![placement("hall-b", vec![3024.0, 0.0], vec![Some(1.0), None])],
            ),
            job(
                "b",
                vec![placement(
                    "hall-b",
                    vec![1512.0, 1e-12],
                    vec![Some(0.4), Some(0.3)],
                )],
            ),
        ];
        let p = LoadProfile::from_plan(&plan, &campus, start).unwrap();
        // 4536 of 15,120 GPUs busy: 0.3; caps weighted 2:1, (2·1000 + 400)/3 = 800 W.
        let slot0 = p.at(1, 0.0, 1200.0);
        assert!(
            (slot0.utilisation - 0.3).abs() < 1e-12 && (slot0.cap_w - 800.0).abs() < 1e-9,
            "{slot0:?}"
        );
        // The nearest slot holds outside the plan, and an unused hall idles at TDP.
        assert_eq!(p.at(1, -60.0, 1200.0), slot0);
        assert!(p.at(1, 1e6, 1200.0).utilisation < 1e-15);
        assert_eq!(
            p.at(0, 100.0, 1200.0),
            HallLoad {
                utilisation: 0.0,
                cap_w: 1200.0
            }
        );
        assert_eq!(p.next_change_s(0.0), Some(900.0));
        // A plan naming a hall the campus lacks, or without a schedule, is refused.
        plan.jobs[0].placements[0].hall = "hall-z".into();
        let e = LoadProfile::from_plan(&plan, &campus, start)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("plan.jobs[0].placements[0].hall: no hall `hall-z`"),
            "{e}"
        );
        let none = Plan::infeasible(Vec::new(), SolveStats::default());
        let e = LoadProfile::from_plan(&none, &campus, start)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no schedule to follow (status infeasible"), "{e}");
    }

    #[test]
    fn table_holds_each_value_until_the_next_row() {
        let text = "time,hall,utilisation,power_cap_w\n2026-07-01T00:00:00Z,a,0.9,1200\n2026-07-01T01:00:00Z,a,0.5,800\n2026-06-30T23:00:00Z,b,0.7,1000\n";
        let table = LoadTable::parse("l.csv", text).unwrap();
        let spec = LoadSpec::Csv { file: "l.csv".into() };
        let p = LoadProfile::build(&spec, start(), 0.0, &["a", "b"], Some(&table)).unwrap();
        assert_eq!(
            p.at(0, 3599.0, 1200.0),
            HallLoad {
                utilisation: 0.9,
                cap_w: 1200.0
            }
        );
        assert_eq!(
            p.at(0, 3600.0, 1200.0),
            HallLoad {
                utilisation: 0.5,
                cap_w: 800.0
            }
        );
        assert_eq!(p.at(1, 5000.0, 1200.0).utilisation, 0.7);
        assert_eq!(p.next_change_s(0.0), Some(3600.0));
        // A hall the campus lacks, or one that starts late, is refused with its name.
        let e = LoadProfile::build(&spec, start(), 0.0, &["a"], Some(&table))
            .unwrap_err()
            .to_string();
        assert!(e.contains("hall `b` is not on the campus"), "{e}");
        let late: DateTime<Utc> = "2026-06-30T22:00:00Z".parse().unwrap();
        let e = LoadProfile::build(&spec, late, 0.0, &["a", "b"], Some(&table))
            .unwrap_err()
            .to_string();
        assert!(e.contains("hall `a` starts at"), "{e}");
    }
}
