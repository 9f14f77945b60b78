//! `campustwin check FILE`: parse, resolve catalog references, validate, read the weather
//! file it names, and build the physical model; list every problem with its path.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use models::campus::Campus;
use twin::campus::{CampusModel, Resolution};

use crate::exit::BadInputExt;

/// Arguments of `campustwin check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Campus file (TOML) to validate.
    pub file: PathBuf,
}

/// Runs the check; bad input exits with code 2.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let campus = Campus::load(&args.file).bad_input()?;
    let weather = campus
        .load_weather()
        .with_context(|| format!("{}: site.weather_file", args.file.display()))
        .bad_input()?;
    CampusModel::build(&campus, Resolution::Hall, &[], 3600.0)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))
        .bad_input()?;
    let spec = &campus.spec;
    let racks: u32 = spec.halls.iter().map(|h| h.racks).sum();
    let cdu_kw: f64 = spec
        .halls
        .iter()
        .map(|h| f64::from(h.cdus) * h.cdu.rated_heat_kw)
        .sum();
    let liquid_kw: f64 = spec
        .halls
        .iter()
        .map(|h| h.it_design_kw() * h.rack.liquid_fraction)
        .sum();
    let rejection_kw = spec
        .heat_rejection
        .cooling_towers
        .as_ref()
        .map(|t| f64::from(t.cells) * t.cell.design_heat_kw)
        .or_else(|| {
            spec.heat_rejection
                .dry_coolers
                .as_ref()
                .map(|d| f64::from(d.units) * d.unit.design_heat_kw)
        })
        .unwrap_or(0.0);
    let chiller_kw = spec
        .heat_rejection
        .chillers
        .as_ref()
        .map_or(0.0, |c| f64::from(c.count) * c.unit.capacity_kw);
    let location = weather.location();
    println!("{}: ok", args.file.display());
    println!("  campus            {}", spec.site.name);
    println!("  halls / racks     {} / {racks}", spec.halls.len());
    println!(
        "  IT at design      {:.0} kW ({:.0} kW to liquid)",
        campus.it_design_kw(),
        liquid_kw
    );
    println!("  CDU capacity      {cdu_kw:.0} kW");
    println!("  heat rejection    {rejection_kw:.0} kW at design, chillers {chiller_kw:.0} kW");
    println!("  import limit      {:.0} kW", spec.grid.import_limit_kw);
    println!(
        "  weather           {}, {} ({:.2}°, {:.2}°)",
        location.city, location.country, location.latitude_deg, location.longitude_deg
    );
    Ok(ExitCode::SUCCESS)
}
