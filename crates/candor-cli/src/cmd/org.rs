//! `candor org add`: register a furnisher, court or lender and issue its API key, shown once and
//! stored only as a keyed hash.

use anyhow::{Context, Result};
use candor_file::model::{OrgId, OrgKind, Organisation};
use candor_store::Store;

use crate::bureau::{keys, now_ms};

#[derive(clap::Subcommand)]
pub enum Command {
    /// Register an organisation (or rename it) and issue a new API key.
    Add {
        #[arg(long, default_value = "candor.db")]
        db: String,
        /// Its id: 1-64 of a-z, 0-9, '-', '_', '.'.
        #[arg(long)]
        id: String,
        /// lender, merchant, utility, landlord, rental_service or court.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        name: String,
    },
}

pub fn run(command: Command) -> Result<()> {
    let Command::Add { db, id, kind, name } = command;
    let org = Organisation {
        id: OrgId::parse(&id).map_err(|e| anyhow::anyhow!("--id: {e}"))?,
        kind: OrgKind::parse(&kind).map_err(|e| anyhow::anyhow!("--kind: {e}"))?,
        name,
    };
    let keys = keys(&db)?;
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut secret).map_err(|e| anyhow::anyhow!("no randomness from the operating system: {e}"))?;
    let api_key = format!("cnd_{}", hex::encode(secret));
    let mut store = Store::open(&db).with_context(|| format!("{db}: cannot open the store"))?;
    candor_bureau::operator::register_organisation(
        &mut store,
        candor_bureau::Now::at_ms(now_ms()),
        &org,
        &keys.api_key_hash(&api_key),
    )?;
    eprintln!("{} ({}) registered; its API key, shown this once:", org.id.as_str(), org.kind.as_str());
    println!("{api_key}");
    Ok(())
}
