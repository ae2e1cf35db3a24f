//! `candor`: the command line. Each subcommand lives in `cmd/`; this file only dispatches and
//! prints an error once, with its whole chain.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bureau;
mod cmd;
mod config;
mod io;

#[derive(Parser)]
#[command(name = "candor", version, about = "Candor: an accountable credit-scoring system")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fit a scorecard on a labelled table and write the model file.
    Fit(cmd::fit::Args),
    /// Score every row of a table with a model.
    Score(cmd::score::Args),
    /// Explain one row's score: points per characteristic, reasons, recourse.
    Explain(cmd::explain::Args),
    /// Export a model to another engine's format.
    Export(cmd::export::Args),
    /// Measure a model on a labelled table and write the validation report.
    Validate(cmd::validate::Args),
    /// Write a synthetic population as furnisher and court submissions, with outcomes.
    Simulate(cmd::simulate::Args),
    /// Apply submissions (JSON Lines, CSV, Metro 2) to the credit file.
    Ingest(cmd::ingest::Args),
    /// Compute every subject's features as of a date into a Parquet file.
    Features(cmd::features::Args),
    /// Delete what retention hides, and record it.
    Purge(cmd::purge::Args),
    /// Metro 2 tools.
    #[command(subcommand)]
    Metro2(cmd::metro2::Command),
    /// Organisations: furnishers, courts, lenders.
    #[command(subcommand)]
    Org(cmd::org::Command),
    /// People: invite one to enrol (an activation code to send them out of band).
    #[command(subcommand)]
    Subject(cmd::subject::Command),
    /// The ombudsman's staff: register a member for the console (a setup code to hand them).
    #[command(subcommand)]
    Staff(cmd::staff::Command),
    /// The transparency log: checkpoints.
    #[command(subcommand)]
    Log(cmd::log::LogCommand),
    /// Check the store against its transparency log.
    #[command(subcommand)]
    Audit(cmd::log::AuditCommand),
    /// Run the bureau service (HTTP).
    Serve(cmd::serve::Args),
    /// A whole bureau on this machine: a simulated population in a fresh SQLite file, a fitted
    /// and deployed scorecard, and the service on 127.0.0.1:8080, with a credential per role.
    Demo(cmd::demo::Args),
}

/// Runs one command line, as typed after `candor`; `demo` uses it to chain the other commands.
pub(crate) fn run_line(args: &[&str]) -> anyhow::Result<()> {
    let cli = Cli::try_parse_from(std::iter::once("candor").chain(args.iter().copied()))?;
    dispatch(cli.command)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Fit(a) => cmd::fit::run(a),
        Command::Score(a) => cmd::score::run(a),
        Command::Explain(a) => cmd::explain::run(a),
        Command::Export(a) => cmd::export::run(a),
        Command::Validate(a) => cmd::validate::run(a),
        Command::Simulate(a) => cmd::simulate::run_command(a),
        Command::Ingest(a) => cmd::ingest::run(a),
        Command::Features(a) => cmd::features::run(a),
        Command::Purge(a) => cmd::purge::run(a),
        Command::Metro2(c) => cmd::metro2::run(c),
        Command::Org(c) => cmd::org::run(c),
        Command::Subject(c) => cmd::subject::run(c),
        Command::Staff(c) => cmd::staff::run(c),
        Command::Log(c) => cmd::log::run_log(c),
        Command::Audit(c) => cmd::log::run_audit(c),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Demo(a) => cmd::demo::run(a),
    }
}
