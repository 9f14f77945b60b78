//! Realistic example problems, for users and benchmarks.
//!
//! Halls of 8,192 GPUs with an H100-like power-cap curve, cooling that follows the day's
//! wet bulb, a diurnal price with three scenarios (a normal day, a windy and sunny day with
//! negative prices, an evening spike), a demand-response window in which the import
//! limit drops by a quarter for three hours, a battery and gas turbines, and training
//! jobs of 64 to 4,096 GPUs with release slots and deadlines. Part of the jobs come in
//! sweeps of identical runs, as hyperparameter sweeps do. The same size and seed always
//! give the same file.
//!
//! The [`Market::Volatile`] flavour is the harder market a planner meets: five price
//! scenarios with a one-hour spike to 1,800 per MWh and a long stretch of negative
//! prices, a CVaR weight of 0.3 at α = 0.95, and every job pinned to one or two halls
//! with work of 20–80 % of its window. It is the kind of problem on which the interior
//! point once stalled (see `solve`'s fallbacks).

use std::f64::consts::PI;

use chrono::{TimeZone, Utc};
use models::schedule::{
    Battery, Facility, Generator, Grid, Hall, Job, PriceScenario, Risk, ScheduleProblem, Series,
};

/// GPUs per hall.
pub const GPUS_PER_HALL: u32 = 8192;

/// The size of an example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExampleSize {
    /// Number of halls.
    pub halls: usize,
    /// Number of jobs.
    pub jobs: usize,
    /// Number of slots.
    pub slots: usize,
    /// Slot length, minutes.
    pub slot_minutes: u32,
}

impl ExampleSize {
    /// `small`: 2 halls, 20 jobs, a day in 15-minute slots.
    pub const SMALL: ExampleSize = ExampleSize {
        halls: 2,
        jobs: 20,
        slots: 96,
        slot_minutes: 15,
    };
    /// `medium`: 4 halls, 200 jobs, a day in 15-minute slots.
    pub const MEDIUM: ExampleSize = ExampleSize {
        halls: 4,
        jobs: 200,
        slots: 96,
        slot_minutes: 15,
    };
    /// `large`: 8 halls, 500 jobs, two days in 15-minute slots.
    pub const LARGE: ExampleSize = ExampleSize {
        halls: 8,
        jobs: 500,
        slots: 192,
        slot_minutes: 15,
    };

    /// The named size (`small`, `medium`, `large`).
    pub fn named(name: &str) -> Option<Self> {
        match name {
            "small" => Some(Self::SMALL),
            "medium" => Some(Self::MEDIUM),
            "large" => Some(Self::LARGE),
            _ => None,
        }
    }
}

/// The prices, risk and job restrictions of an example.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Market {
    /// Three price scenarios (a normal day, a windy day with negative prices, an evening
    /// spike to about 470 per MWh), CVaR weight 0.2 at α = 0.9, jobs free to use any hall
    /// in four cases of ten.
    #[default]
    Standard,
    /// Five price scenarios (normal, hot, a windy day with negative prices for nine hours,
    /// a calm evening, and a one-hour spike to 1,800 per MWh), CVaR weight 0.3 at
    /// α = 0.95, every job restricted to one or two halls, work 20–80 % of its window.
    Volatile,
}

impl Market {
    /// The named market (`standard`, `volatile`).
    pub fn named(name: &str) -> Option<Self> {
        match name {
            "standard" => Some(Market::Standard),
            "volatile" => Some(Market::Volatile),
            _ => None,
        }
    }
}

/// A small deterministic generator (SplitMix64), so that examples need no dependency
/// and never change between platforms.
#[derive(Debug, Clone)]
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [lo, hi).
    pub(crate) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in [lo, hi].
    pub(crate) fn int(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }
}

/// Round to 0.1, so that files stay readable.
fn r1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The example problem of `size` in the standard market, drawn with `seed`.
pub fn example(size: ExampleSize, seed: u64) -> ScheduleProblem {
    example_in(Market::Standard, size, seed)
}

/// The example problem of `size` in `market`, drawn with `seed`.
pub fn example_in(market: Market, size: ExampleSize, seed: u64) -> ScheduleProblem {
    let mut rng = Rng(seed);
    let slots = size.slots.max(1);
    let slot_h = f64::from(size.slot_minutes) / 60.0;
    let hour = |t: usize| (t as f64 * slot_h) % 24.0;
    // 1 at 15:00 (the hottest hour), −1 at 03:00.
    let afternoon = |t: usize| ((hour(t) - 9.0) / 24.0 * 2.0 * PI).sin();

    // H100-like cap curve (reference-data.md §2: V100 median transferred to fraction of
    // TDP), 700 W TDP: 210 W → 0.55 … 700 W → 1.0.
    let curve: Vec<[f64; 2]> = [
        (0.3, 0.55),
        (0.5, 0.85),
        (0.6, 0.90),
        (0.7, 0.94),
        (0.8, 0.965),
        (0.9, 0.985),
        (1.0, 1.0),
    ]
    .iter()
    .map(|&(f, y)| [r1(f * 7.0) / 10.0, y])
    .collect();
    let (idle, aux, max_cap) = (0.1, 0.25, 0.7);
    let full_it_kw = f64::from(GPUS_PER_HALL) * (max_cap + aux);

    let halls: Vec<Hall> = (0..size.halls)
        .map(|h| {
            // Cooling follows the wet bulb: ample at night, short of full load in the
            // afternoon; halls differ a little (older plants).
            let design = full_it_kw * rng.range(0.92, 1.04);
            Hall {
                id: format!("hall-{}", hall_letter(h)),
                gpus: GPUS_PER_HALL,
                idle_kw_per_gpu: idle,
                aux_kw_per_busy_gpu: aux,
                min_cap_kw: curve[0][0],
                max_cap_kw: max_cap,
                throughput_curve: curve.clone(),
                cooling_capacity_kw: Series::PerSlot(
                    (0..slots)
                        .map(|t| r1(design * (0.93 - 0.09 * afternoon(t))))
                        .collect(),
                ),
            }
        })
        .collect();

    let n_halls = size.halls as f64;
    let fixed_kw = 250.0 * n_halls;
    let overhead: Vec<f64> = (0..slots)
        .map(|t| ((0.11 + 0.03 * afternoon(t)) * 1000.0).round() / 1000.0)
        .collect();
    // The interconnect carries about 80 % of the campus at full power; a demand-response
    // window from 17:00 to 20:00 of each day lowers it by a quarter.
    let campus_full_kw = n_halls * full_it_kw * 1.11 + fixed_kw;
    let import_limit: Vec<f64> = (0..slots)
        .map(|t| {
            let base = (campus_full_kw * 0.8 / 100.0).round() * 100.0;
            if (17.0..20.0).contains(&hour(t)) {
                base * 0.75
            } else {
                base
            }
        })
        .collect();

    // Prices per MWh: diurnal base; a windy, sunny day with negative prices at night and
    // midday; an evening spike.
    let base: Vec<f64> = (0..slots)
        .map(|t| {
            let h = hour(t);
            let evening = if (17.0..21.0).contains(&h) { 35.0 } else { 0.0 };
            r1(52.0 + 18.0 * afternoon(t) + evening + rng.range(-3.0, 3.0))
        })
        .collect();
    let windy: Vec<f64> = base
        .iter()
        .enumerate()
        .map(|(t, p)| {
            let h = hour(t);
            if !(6.0..22.0).contains(&h) || (11.0..15.0).contains(&h) {
                r1(-12.0 - 8.0 * rng.unit())
            } else {
                r1(p * 0.6)
            }
        })
        .collect();
    let spike: Vec<f64> = base
        .iter()
        .enumerate()
        .map(|(t, p)| {
            if (18.0..20.0).contains(&hour(t)) {
                r1(p + 420.0)
            } else {
                r1(p * 1.1)
            }
        })
        .collect();
    let (price_scenarios, risk) = match market {
        Market::Standard => (
            vec![
                PriceScenario {
                    probability: 0.6,
                    price_per_mwh: Series::PerSlot(base),
                },
                PriceScenario {
                    probability: 0.3,
                    price_per_mwh: Series::PerSlot(windy),
                },
                PriceScenario {
                    probability: 0.1,
                    price_per_mwh: Series::PerSlot(spike),
                },
            ],
            Risk {
                cvar_alpha: 0.9,
                weight: 0.2,
            },
        ),
        Market::Volatile => (
            volatile_scenarios(&mut rng, &base, hour),
            Risk {
                cvar_alpha: 0.95,
                weight: 0.3,
            },
        ),
    };
    let carbon: Vec<f64> = (0..slots)
        .map(|t| r1(380.0 - 90.0 * (-(hour(t) - 13.0).powi(2) / 8.0).exp()))
        .collect();

    let battery = Battery {
        energy_kwh: 4000.0 * n_halls,
        power_kw: 2000.0 * n_halls,
        charge_efficiency: 0.95,
        discharge_efficiency: 0.95,
        soc_initial: 0.5,
        soc_min: 0.1,
        soc_max: 0.95,
    };
    let generators: Vec<Generator> = (0..size.halls.div_ceil(2))
        .map(|i| Generator {
            id: format!("gt-{}", i + 1),
            max_kw: 5000.0,
            ramp_kw_per_slot: 1250.0 * f64::from(size.slot_minutes) / 15.0,
            initial_kw: 0.0,
            cost_per_mwh: 95.0,
            carbon_kg_per_mwh: 450.0,
        })
        .collect();

    let jobs = example_jobs(&mut rng, market, size, &halls);

    ScheduleProblem {
        start: Utc
            .with_ymd_and_hms(2026, 7, 1, 0, 0, 0)
            .single()
            .unwrap_or_default(),
        slot_minutes: size.slot_minutes,
        slots,
        halls,
        facility: Facility {
            overhead_fraction: Series::PerSlot(overhead),
            fixed_kw,
            ramp_limit_kw_per_slot: None,
        },
        grid: Grid {
            import_limit_kw: Series::PerSlot(import_limit),
            demand_charge_per_kw: 1.5,
            price_scenarios,
            carbon_kg_per_mwh: Series::PerSlot(carbon),
            carbon_price_per_t: 80.0,
        },
        battery: Some(battery),
        generators,
        jobs,
        risk: Some(risk),
    }
}

/// The five scenarios of the volatile market, built on the diurnal `base` price:
/// normal (0.45), hot (0.2: the afternoon 30 % dearer), windy (0.15: negative from
/// midnight to 09:00), a calm evening (0.15: 120 more from 17:00 to 21:00) and a spike
/// (0.05: 1,800 per MWh from 18:00 to 19:00).
fn volatile_scenarios(rng: &mut Rng, base: &[f64], hour: impl Fn(usize) -> f64) -> Vec<PriceScenario> {
    let shaped = |rng: &mut Rng, f: &dyn Fn(f64, f64, &mut Rng) -> f64| -> Series {
        Series::PerSlot(
            base.iter()
                .enumerate()
                .map(|(t, &p)| r1(f(hour(t), p, rng)))
                .collect(),
        )
    };
    let hot = shaped(rng, &|h, p, _| {
        if (12.0..19.0).contains(&h) { p * 1.3 } else { p }
    });
    let windy = shaped(rng, &|h, p, rng| {
        if h < 9.0 {
            -30.0 + 20.0 * rng.unit()
        } else {
            p * 0.7
        }
    });
    let calm = shaped(rng, &|h, p, _| {
        if (17.0..21.0).contains(&h) {
            p + 120.0
        } else {
            p * 1.05
        }
    });
    let spike = shaped(rng, &|h, p, _| {
        if (18.0..19.0).contains(&h) {
            1800.0
        } else {
            p * 1.1
        }
    });
    [
        (0.45, Series::PerSlot(base.to_vec())),
        (0.2, hot),
        (0.15, windy),
        (0.15, calm),
        (0.05, spike),
    ]
    .into_iter()
    .map(|(probability, price_per_mwh)| PriceScenario {
        probability,
        price_per_mwh,
    })
    .collect()
}

fn hall_letter(h: usize) -> String {
    let letters = b"abcdefghijklmnopqrstuvwxyz";
    if h < letters.len() {
        (letters[h] as char).to_string()
    } else {
        format!("{h}")
    }
}

/// Jobs of 64 to 4,096 GPUs (small ones more common), each with a window of at least two
/// hours; a fifth of the sweeps' runs are identical twins of another. Total work is
/// scaled to about 85 % of what the halls could do at full power, so GPUs, cooling and the
/// grid all compete.
///
/// In the volatile market every job names one or two halls and its work is 20–80 % of
/// what its window holds at full power.
fn example_jobs(rng: &mut Rng, market: Market, size: ExampleSize, halls: &[Hall]) -> Vec<Job> {
    let slots = size.slots.max(1);
    let slot_h = f64::from(size.slot_minutes) / 60.0;
    let sizes = [64u32, 128, 256, 512, 1024, 2048, 4096];
    let weights = [0.24, 0.22, 0.18, 0.14, 0.11, 0.07, 0.04];
    let min_window = ((2.0 / slot_h).ceil() as usize).clamp(1, slots);
    let mut jobs: Vec<Job> = Vec::with_capacity(size.jobs);
    while jobs.len() < size.jobs {
        let mut pick = rng.unit();
        let mut max_gpus = sizes[sizes.len() - 1];
        for (s, w) in sizes.iter().zip(weights) {
            if pick < w {
                max_gpus = *s;
                break;
            }
            pick -= w;
        }
        let release = rng.int(0, (slots * 2 / 5).min(slots - min_window));
        let deadline = rng.int(release + min_window, slots);
        let window_h = (deadline - release) as f64 * slot_h;
        let any_hall_draws = if market == Market::Volatile { 4 } else { 0 };
        let job_halls = match rng.int(any_hall_draws, 9) {
            0..=3 => Vec::new(),
            4..=7 => vec![halls[rng.int(0, halls.len() - 1)].id.clone()],
            _ => {
                let a = rng.int(0, halls.len() - 1);
                let b = (a + 1) % halls.len();
                let mut two = vec![halls[a].id.clone()];
                if b != a {
                    two.push(halls[b].id.clone());
                }
                two
            }
        };
        let work_share = match market {
            Market::Standard => rng.range(0.3, 0.95),
            Market::Volatile => rng.range(0.2, 0.8),
        };
        let job = Job {
            id: String::new(),
            max_gpus,
            work_gpu_hours: f64::from(max_gpus) * window_h * work_share,
            release_slot: release,
            deadline_slot: deadline,
            unmet_penalty_per_gpu_hour: r1(rng.range(2.5, 9.0)),
            halls: job_halls,
            rigid: false,
        };
        // A sweep: 2 to 6 identical runs.
        let copies = if rng.unit() < 0.2 { rng.int(2, 6) } else { 1 };
        for _ in 0..copies.min(size.jobs - jobs.len()) {
            jobs.push(job.clone());
        }
    }
    let capacity = halls.len() as f64 * f64::from(GPUS_PER_HALL) * slots as f64 * slot_h;
    let total: f64 = jobs.iter().map(|j| j.work_gpu_hours).sum();
    let scale = (0.85 * capacity / total).min(1.0);
    for (i, job) in jobs.iter_mut().enumerate() {
        job.id = format!("job-{i:04}-{}g", job.max_gpus);
        job.work_gpu_hours = r1(job.work_gpu_hours * scale);
    }
    jobs
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn examples_are_valid_and_have_what_the_issue_asks_for() {
        for name in ["small", "medium", "large"] {
            let size = ExampleSize::named(name).unwrap();
            let p = example(size, 1);
            let problems = p.validate();
            assert!(problems.is_empty(), "{name}: {problems}");
            assert_eq!(p.jobs.len(), size.jobs);
            assert!(p.halls.iter().all(|h| h.gpus == 8192));
            assert!(p.jobs.iter().all(|j| (64..=4096).contains(&j.max_gpus)));
            let limits = p.grid.import_limit_kw.values(p.slots);
            let high = limits.iter().copied().fold(0.0, f64::max);
            let dr_slots = limits.iter().filter(|&&l| (l - 0.75 * high).abs() < 1e-6).count();
            assert_eq!(dr_slots, 12 * p.slots / 96, "{name}: a 3-hour window per day");
            let prices: Vec<f64> = p
                .grid
                .price_scenarios
                .iter()
                .flat_map(|s| s.price_per_mwh.values(p.slots))
                .collect();
            assert!(prices.iter().any(|&x| x < 0.0), "negative prices");
            assert!(prices.iter().any(|&x| x > 400.0), "a spike");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_file() {
        assert_eq!(example(ExampleSize::SMALL, 7), example(ExampleSize::SMALL, 7));
        assert_ne!(example(ExampleSize::SMALL, 7), example(ExampleSize::SMALL, 8));
    }
}
