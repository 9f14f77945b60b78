//! `campustwin optimize PROBLEM.json`: schedule jobs, power caps, battery and generators;
//! `campustwin optimize --example SIZE`: write an example problem.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use models::schedule::{Plan, PlanStatus, ScheduleProblem};
use optimizer::example::{ExampleSize, Market, example_in};
use optimizer::{Method, SolveOptions, solve_checked};

use crate::exit::BadInputExt;

/// Arguments of `campustwin optimize`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Exit codes: 0 a plan was written; 1 a failure while solving; \
2 the problem file is invalid (nothing solved) or infeasible (the plan written names \
what cannot be met).")]
pub struct Args {
    /// Problem file (JSON, docs/optimizer-formulation.md).
    #[arg(required_unless_present = "example", conflicts_with = "example")]
    pub problem: Option<PathBuf>,
    /// Where to write the plan (or, with --example, the problem); stdout when absent.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Stop the solver after this many seconds; rigid jobs then get the best schedule
    /// found and its MIP gap.
    #[arg(long, value_name = "N")]
    pub time_limit_s: Option<f64>,
    /// LP algorithm of HiGHS.
    #[arg(long, value_enum, default_value_t = MethodArg::Auto)]
    pub method: MethodArg,
    /// Skip HiGHS's presolve.
    #[arg(long)]
    pub no_presolve: bool,
    /// Solve identical jobs separately instead of merged (the answer is the same).
    #[arg(long)]
    pub no_merge: bool,
    /// Write HiGHS's own log (presolve, iterations, timings) to this file.
    #[arg(long, value_name = "FILE")]
    pub solver_log: Option<PathBuf>,
    /// A HiGHS option, NAME=VALUE (repeatable; for tuning and experiments).
    #[arg(long = "highs-option", value_name = "NAME=VALUE", value_parser = parse_option)]
    pub highs_options: Vec<(String, String)>,
    /// Threads for HiGHS. With 1 (the default) every solve of the same file takes the
    /// same path to the same plan; more may be faster on many cores, not reproducibly.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub threads: u32,
    /// Do not fall back to other methods when the first ends without an optimum.
    #[arg(long)]
    pub no_fallback: bool,
    /// Write an example problem of this size (small, medium, large) instead of solving.
    #[arg(long, value_name = "SIZE")]
    pub example: Option<String>,
    /// With --example: number of jobs instead of the size's.
    #[arg(long, requires = "example", value_name = "N")]
    pub jobs: Option<usize>,
    /// With --example: number of halls instead of the size's.
    #[arg(long, requires = "example", value_name = "N")]
    pub halls: Option<usize>,
    /// With --example: number of 15-minute slots instead of the size's.
    #[arg(long, requires = "example", value_name = "N")]
    pub slots: Option<usize>,
    /// With --example: the market (prices, risk, job restrictions): `standard`, or
    /// `volatile` (five scenarios with a spike to 1,800 per MWh and negative prices,
    /// CVaR weight 0.3, every job pinned to one or two halls).
    #[arg(long, requires = "example", default_value = "standard", value_parser = ["standard", "volatile"])]
    pub market: String,
    /// With --example: seed of the random draw.
    #[arg(long, requires = "example", default_value_t = 1)]
    pub seed: u64,
}

/// LP algorithm, as a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodArg {
    /// Dual simplex for small models and MILPs, HiPO with crossover from 100,000
    /// nonzeros.
    Auto,
    /// HiGHS chooses.
    Choose,
    /// Dual simplex.
    Simplex,
    /// IPX interior point with crossover.
    Ipm,
    /// IPX interior point without crossover.
    IpmNoCrossover,
    /// HiPO interior point (direct factorisation) with crossover.
    Hipo,
    /// HiPO without crossover.
    HipoNoCrossover,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if let Some(name) = &args.example {
        return write_example(&args, name);
    }
    let Some(path) = &args.problem else {
        bail!("a problem file or --example is needed");
    };
    if let Some(limit) = args.time_limit_s {
        if !(limit.is_finite() && limit > 0.0) {
            return Err(anyhow::anyhow!(
                "--time-limit-s: must be a number > 0, got {limit}"
            ))
            .bad_input();
        }
    }
    let started = Instant::now();
    let problem = ScheduleProblem::read(path).bad_input()?;
    let read_s = started.elapsed().as_secs_f64();
    let options = SolveOptions {
        method: match args.method {
            MethodArg::Auto => Method::Auto,
            MethodArg::Choose => Method::Choose,
            MethodArg::Simplex => Method::Simplex,
            MethodArg::Ipm => Method::Ipm,
            MethodArg::IpmNoCrossover => Method::IpmNoCrossover,
            MethodArg::Hipo => Method::Hipo,
            MethodArg::HipoNoCrossover => Method::HipoNoCrossover,
        },
        presolve: !args.no_presolve,
        time_limit_s: args.time_limit_s,
        threads: args.threads,
        merge_identical_jobs: !args.no_merge,
        mip_rel_gap: None,
        solver_log: args.solver_log.clone(),
        highs_options: args.highs_options.clone(),
        fallbacks: !args.no_fallback,
    };
    let (plan, report) = solve_checked(&problem, &options).context("solving the schedule")?;
    let writing = Instant::now();
    write_json(args.out.as_deref(), &plan)?;
    let write_s = writing.elapsed().as_secs_f64();
    summarise(&problem, &plan, read_s, write_s, report.recomputed.is_some());
    if plan.status == PlanStatus::Infeasible {
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_option(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))
}

fn write_example(args: &Args, name: &str) -> anyhow::Result<ExitCode> {
    let mut size = ExampleSize::named(name)
        .with_context(|| format!("--example: unknown size \"{name}\" (small, medium, large)"))
        .bad_input()?;
    for (flag, value, target) in [
        ("--jobs", args.jobs, &mut size.jobs),
        ("--halls", args.halls, &mut size.halls),
        ("--slots", args.slots, &mut size.slots),
    ] {
        if let Some(v) = value {
            if v == 0 {
                return Err(anyhow::anyhow!("{flag}: must be > 0")).bad_input();
            }
            *target = v;
        }
    }
    let market = Market::named(&args.market).unwrap_or_default();
    let problem = example_in(market, size, args.seed);
    write_json(args.out.as_deref(), &problem)?;
    eprintln!(
        "example {name} ({} market): {} halls, {} jobs, {} slots of {} min",
        args.market, size.halls, size.jobs, size.slots, size.slot_minutes
    );
    Ok(ExitCode::SUCCESS)
}

fn write_json<T: serde::Serialize>(out: Option<&Path>, value: &T) -> anyhow::Result<()> {
    match out {
        Some(path) => {
            let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
            let mut w = BufWriter::new(file);
            serde_json::to_writer(&mut w, value)?;
            w.write_all(b"\n")?;
            w.flush().with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut w = BufWriter::new(stdout.lock());
            serde_json::to_writer(&mut w, value)?;
            w.write_all(b"\n")?;
            w.flush()?;
        }
    }
    Ok(())
}

/// A short summary for people, on stderr.
fn summarise(problem: &ScheduleProblem, plan: &Plan, read_s: f64, write_s: f64, checked: bool) {
    let s = &plan.stats;
    eprintln!(
        "model: {} rows, {} columns ({} integer), {} nonzeros; read {read_s:.3} s, build {:.3} s, solve {:.3} s, write {write_s:.3} s",
        s.rows, s.columns, s.integer_columns, s.nonzeros, s.build_s, s.solve_s
    );
    if plan.status == PlanStatus::Infeasible {
        eprintln!("status: infeasible");
        for f in &plan.infeasibilities {
            eprintln!("  {}", f.message);
        }
        return;
    }
    eprintln!(
        "status: {}{}",
        plan.status.as_str(),
        plan.gap
            .map(|g| format!(" (gap {:.3} %)", 100.0 * g))
            .unwrap_or_default()
    );
    eprintln!(
        "objective {:.2}: expected cost {:.2}{}",
        plan.objective.unwrap_or(f64::NAN),
        plan.expected_cost.unwrap_or(f64::NAN),
        plan.cvar.map(|c| format!(", CVaR {c:.2}")).unwrap_or_default()
    );
    let late: Vec<&str> = plan
        .jobs
        .iter()
        .filter(|j| j.unmet_gpu_hours > 1e-6)
        .map(|j| j.id.as_str())
        .collect();
    let unmet: f64 = plan.jobs.iter().map(|j| j.unmet_gpu_hours).sum();
    eprintln!(
        "jobs: {} of {} finish; {} GPU-hours unmet; peak import {:.0} kW",
        problem.jobs.len() - late.len(),
        problem.jobs.len(),
        unmet.round(),
        plan.peak_import_kw
    );
    if checked {
        eprintln!("check: every constraint holds within 1e-6 and the cost recomputes");
    }
}
