//! `candor export`: the model as SQL or PMML for other engines.

use std::path::PathBuf;

use anyhow::Result;
use candor_export::{to_pmml, to_sql, Dialect};

use crate::io::load_model;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// One SELECT with CASE expressions: score and pd.
    Sql,
    /// A PMML 4.4 Scorecard: score and four reason codes.
    Pmml,
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
        Format::Pmml => print!("{}", to_pmml(scorer.model())),
    }
    Ok(())
}
