//! How far each CDU's hottest GPU is from throttling, read from the plant's meters.
//!
//! GPUs throttle on their die temperature, which no plant sensor reads; the meters give
//! each rack's power and its coolant outlet temperature. [`RackModel::hottest_gpu_c`]
//! turns those into a die temperature that never reads cooler than the truth while the
//! GPUs are up, so a positive margin is a margin the rack really has.

use serde::Serialize;

use crate::campus::CampusModel;
use crate::it::rack::RackModel;

/// One CDU's hottest GPU and its margin to throttling.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CduThrottle {
    /// Hall name.
    pub hall: String,
    /// CDU number in the hall, from 1.
    pub cdu: u32,
    /// Hottest GPU die on the CDU's racks, °C; absent until a rack has read both power
    /// and outlet temperature.
    pub hottest_gpu_c: Option<f64>,
    /// Die temperature at which the GPUs throttle, °C.
    pub throttle_temp_c: f64,
    /// `throttle_temp_c − hottest_gpu_c`, K; negative when the CDU's GPUs are throttling.
    pub margin_k: Option<f64>,
}

/// The racks of one CDU, by their point ids.
#[derive(Debug, Clone, PartialEq)]
struct CduRacks {
    hall: String,
    cdu: u32,
    hall_index: usize,
    /// `(power_kw point, outlet_temp_c point)` of each rack on the CDU.
    racks: Vec<(String, String)>,
}

/// Every CDU's racks with the rack model of their hall, named once.
#[derive(Debug, Clone, PartialEq)]
pub struct ThrottleWatch {
    rack_models: Vec<RackModel>,
    cdus: Vec<CduRacks>,
}

impl ThrottleWatch {
    /// The CDUs of `model`'s campus (any resolution: only the halls' layout is used).
    pub fn new(model: &CampusModel) -> Self {
        let mut cdus = Vec::new();
        for (h, hall) in model.halls.iter().enumerate() {
            for k in 1..=hall.cdus {
                let first = hall.first_rack_on(k);
                let racks = (first..first + hall.racks_on(k))
                    .map(|r| {
                        (
                            format!("{}/rack-{r:04}/power_kw", hall.name),
                            format!("{}/rack-{r:04}/outlet_temp_c", hall.name),
                        )
                    })
                    .collect();
                cdus.push(CduRacks {
                    hall: hall.name.clone(),
                    cdu: k,
                    hall_index: h,
                    racks,
                });
            }
        }
        ThrottleWatch {
            rack_models: model.halls.iter().map(|h| h.rack.clone()).collect(),
            cdus,
        }
    }

    /// Every CDU's hottest GPU from the latest readings (`latest(point id)`: kW, °C).
    pub fn margins(&self, latest: impl Fn(&str) -> Option<f64>) -> Vec<CduThrottle> {
        self.cdus
            .iter()
            .map(|c| {
                let rack = &self.rack_models[c.hall_index];
                let hottest_gpu_c = c
                    .racks
                    .iter()
                    .filter_map(|(power, outlet)| {
                        Some(rack.hottest_gpu_c(latest(power)? * 1000.0, latest(outlet)?))
                    })
                    .reduce(f64::max);
                let throttle_temp_c = rack.gpu.throttle_temp_c;
                CduThrottle {
                    hall: c.hall.clone(),
                    cdu: c.cdu,
                    hottest_gpu_c,
                    throttle_temp_c,
                    margin_k: hottest_gpu_c.map(|t| throttle_temp_c - t),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::campus::{PointSampler, Resolution};
    use models::campus::Campus;

    #[test]
    fn every_cdu_is_watched_over_exactly_the_racks_it_feeds() {
        let campus = Campus::example().unwrap();
        let model = CampusModel::build(&campus, Resolution::Hall, &[], 60.0).unwrap();
        let watch = ThrottleWatch::new(&model);
        let cdus: u32 = model.halls.iter().map(|h| h.cdus).sum();
        assert_eq!(watch.cdus.len(), cdus as usize);
        // Each rack on exactly one CDU, and every name one the sampler makes.
        let sampler = PointSampler::new(&model);
        let names: std::collections::HashSet<&String> = sampler.names().iter().collect();
        let mut seen = std::collections::HashSet::new();
        for c in &watch.cdus {
            for (power, outlet) in &c.racks {
                assert!(names.contains(power) && names.contains(outlet), "{power}");
                assert!(seen.insert(power.clone()), "{power} on two CDUs");
            }
        }
        let racks: u32 = model.halls.iter().map(|h| h.racks).sum();
        assert_eq!(seen.len(), racks as usize);
    }

    #[test]
    fn the_hottest_rack_sets_the_margin_and_a_cdu_without_readings_has_none() {
        let campus = Campus::example().unwrap();
        let model = CampusModel::build(&campus, Resolution::Hall, &[], 60.0).unwrap();
        let watch = ThrottleWatch::new(&model);
        let rack = &model.halls[0].rack;
        let cool = rack.operate(0.5, 1200.0, 40.0);
        let hot = rack.operate(0.5, 1200.0, 55.0);
        let mut readings = HashMap::new();
        for (i, (power, outlet)) in watch.cdus[0].racks.iter().enumerate() {
            let (p, t) = if i == 3 {
                (hot.power_w, 55.0)
            } else {
                (cool.power_w, 40.0)
            };
            readings.insert(power.clone(), p / 1000.0);
            readings.insert(outlet.clone(), t);
        }
        let margins = watch.margins(|id| readings.get(id).copied());
        let first = &margins[0];
        let expected = rack.hottest_gpu_c(hot.power_w, 55.0);
        assert!((first.hottest_gpu_c.unwrap() - expected).abs() < 1e-9);
        assert!((first.margin_k.unwrap() - (rack.gpu.throttle_temp_c - expected)).abs() < 1e-9);
        assert_eq!(margins[1].hottest_gpu_c, None);
        assert_eq!(margins[1].margin_k, None);
    }
}
