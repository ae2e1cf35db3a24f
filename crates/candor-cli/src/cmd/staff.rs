//! `candor staff add`: register a member of the ombudsman's staff for the console, with a
//! one-time setup code to hand them out of band (shown this once, kept as a keyed hash,
//! expiring). With it they choose a passphrase and set up the second factor every sign-in asks
//! for. Running it again for the same id issues a new code and stops the old credentials.

use anyhow::{Context, Result};
use candor_file::model::OrgId;
use candor_store::Store;

use crate::bureau::keys;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Register a member of an ombudsman's staff (or issue them a new setup code).
    Add {
        #[arg(long, default_value = "candor.db")]
        db: String,
        /// The ombudsman organisation they work for.
        #[arg(long)]
        org: String,
        /// Their staff id (1-64 of a-z, 0-9, '-', '_', '.'), what they sign in with.
        #[arg(long)]
        id: String,
        /// Their name, as the person whose case they open sees it.
        #[arg(long)]
        name: String,
        /// Days the setup code stays valid.
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(i64).range(1..=30))]
        days: i64,
    },
}

pub fn run(command: Command) -> Result<()> {
    let Command::Add { db, org, id, name, days } = command;
    let org = OrgId::parse(&org).map_err(|e| anyhow::anyhow!("--org: {e}"))?;
    let keys = keys(&db)?;
    let mut store = Store::open(&db).with_context(|| format!("{db}: cannot open the store"))?;
    let (code, expires_ms) = crate::bureau::add_staff(&mut store, &keys, days, &org, &id, &name)?;
    let expires = candor_bureau::Now::at_ms(expires_ms).today;
    eprintln!("{id} registered; the setup code, shown this once, valid until {expires} (UTC), for /console/setup:");
    println!("{code}");
    Ok(())
}
