//! `candor export`: the model as SQL for other engines.

use std::path::PathBuf;

use anyhow::Result;
use candor_export::{to_sql, Dialect};

use crate::io::load_model;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Sql,
}

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    model: PathBuf,
    #[arg(long, value_enum)]
    format: Format,
    /// The table the SELECT reads.
    #[arg(long, default_value = "applicants")]
    table: String,
    /// How identifiers are quoted: ansi (PostgreSQL, DuckDB, SQLite, Trino) or spark.
    #[arg(long, default_value = "ansi")]
    dialect: Dialect,
}

pub fn run(args: Args) -> Result<()> {
    let scorer = load_model(&args.model)?;
    match args.format {
        Format::Sql => println!("{};", to_sql(scorer.model(), &args.table, args.dialect)),
    }
    Ok(())
}
