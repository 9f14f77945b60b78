//! `campustwin history`: one point's readings from the ingest store, as CSV or JSON.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, SecondsFormat, Utc};
use ingest::store::Store;

use crate::exit::BadInputExt;

/// Arguments of `campustwin history`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Store file.
    #[arg(long)]
    pub store: PathBuf,
    /// Point id, e.g. hall-a/cdu-03/tcs_supply_temp_c.
    #[arg(long)]
    pub point: String,
    /// Start (RFC 3339, inclusive).
    #[arg(long)]
    pub from: Option<DateTime<Utc>>,
    /// End (RFC 3339, inclusive).
    #[arg(long)]
    pub to: Option<DateTime<Utc>>,
    /// Output format.
    #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
    pub format: String,
}

/// Prints the history; an unknown point is bad input.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let store = Store::open_existing(&args.store).bad_input()?;
    if !store.has_point(&args.point)? {
        return Err(anyhow::anyhow!(
            "--point `{}`: no such point in {}",
            args.point,
            args.store.display()
        ))
        .bad_input();
    }
    let rows = store.history(&args.point, args.from, args.to)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.format == "json" {
        serde_json::to_writer(&mut out, &rows)?;
        writeln!(out)?;
    } else {
        writeln!(out, "ts,value,min,max,count")?;
        for r in &rows {
            writeln!(
                out,
                "{},{},{},{},{}",
                r.ts.to_rfc3339_opts(SecondsFormat::Millis, true),
                r.value,
                r.min,
                r.max,
                r.count
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
