//! `candor simulate`: a synthetic population written as furnisher and court submissions.

use std::path::PathBuf;

use anyhow::{Context, Result};
use candor_sim::{run, Config};

use crate::io::progress;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 10_000)]
    subjects: u64,
    /// Months of reported history.
    #[arg(long, default_value_t = 24)]
    months: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Reports per submission file.
    #[arg(long, default_value_t = 10_000)]
    batch_reports: usize,
    /// The last reported month, YYYY-MM.
    #[arg(long, default_value = "2026-09")]
    end: String,
    #[arg(long)]
    out: PathBuf,
}

pub fn run_command(args: Args) -> Result<()> {
    let end = candor_file::model::YearMonth::parse(&args.end).context("--end")?;
    let config = Config {
        subjects: args.subjects,
        months: args.months,
        seed: args.seed,
        end: (end.year(), end.month()),
        reports_per_file: args.batch_reports,
    };
    // Two runs' batch files in one directory would be ingested as one population: a directory
    // holding an earlier run is refused, never emptied (it may be all someone has of it).
    let batches = args.out.join("batches");
    let earlier = std::fs::read_dir(&batches).map(|mut d| d.next().is_some()).unwrap_or(false)
        || args.out.join("outcomes.csv").exists();
    if earlier {
        anyhow::bail!(
            "{}: holds an earlier simulation (batches/ or outcomes.csv), whose files would mix with this one's; name a new or empty directory with --out",
            args.out.display()
        );
    }
    std::fs::create_dir_all(&args.out).with_context(|| format!("{}: cannot create", args.out.display()))?;
    let bar = progress(args.subjects, "people");
    let summary =
        run(&config, &args.out, &mut |n| bar.set_position(n)).with_context(|| format!("{}", args.out.display()))?;
    bar.finish_and_clear();
    println!(
        "{} people ({} bad in the 12 months after {}), {} accounts, {} monthly reports, {} court records in {} files under {}",
        summary.subjects,
        summary.bad,
        args.end,
        summary.accounts,
        summary.reports,
        summary.court_records,
        summary.files,
        args.out.join("batches").display()
    );
    println!("outcomes: {}", args.out.join("outcomes.csv").display());
    Ok(())
}
