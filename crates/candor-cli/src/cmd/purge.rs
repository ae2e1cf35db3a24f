//! `candor purge`: delete what retention hides, and record that it was done.

use anyhow::{Context, Result};
use candor_file::retention::Retention;
use candor_store::Store;

use crate::bureau::{now_ms, parse_day, today};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "candor.db")]
    db: String,
    /// The day retention is judged on (default today).
    #[arg(long, value_parser = parse_day)]
    today: Option<time::Date>,
    #[arg(long, default_value_t = 5)]
    negative_years: u8,
}

pub fn run(args: Args) -> Result<()> {
    let mut store = Store::open(&args.db).with_context(|| format!("{}: cannot open the store", args.db))?;
    let today = args.today.unwrap_or_else(today);
    let rules =
        candor_bureau::Rules { retention: Retention { negative_years: args.negative_years }, ..Default::default() };
    let now = candor_bureau::Now { ms: now_ms(), today };
    let outcome = candor_bureau::operator::purge(&mut store, &rules, now)?;
    println!(
        "purge {}: {} monthly reports and {} court records deleted as of {today}",
        outcome.purge_id, outcome.reports_deleted, outcome.court_records_deleted
    );
    Ok(())
}
