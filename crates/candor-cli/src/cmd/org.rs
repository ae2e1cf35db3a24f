//! `candor org add`: register a furnisher, court or lender and issue its API key, shown once and
//! stored only as a keyed hash; `candor org revoke`: revoke it. Both are logged.

use anyhow::{Context, Result};
use candor_file::model::{OrgId, OrgKind, Organisation};
use candor_store::Store;

use crate::bureau::keys;

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
    /// Revoke an organisation's API key at once (register it again for a new one).
    Revoke {
        #[arg(long, default_value = "candor.db")]
        db: String,
        #[arg(long)]
        id: String,
    },
}

pub fn run(command: Command) -> Result<()> {
    let (db, id, kind, name) = match command {
        Command::Add { db, id, kind, name } => (db, id, kind, name),
        Command::Revoke { db, id } => {
            crate::bureau::existing_store(&db)?;
            let id = OrgId::parse(&id).map_err(|e| anyhow::anyhow!("--id: {e}"))?;
            let mut store = Store::open(&db).with_context(|| format!("{db}: cannot open the store"))?;
            candor_bureau::operator::revoke_key(&mut store, candor_bureau::Now::at_ms(crate::bureau::now_ms()), &id)
                .map_err(|e| anyhow::anyhow!("{}: {e}", id.as_str()))?;
            eprintln!("{}: its API key is revoked", id.as_str());
            return Ok(());
        }
    };
    let org = Organisation {
        id: OrgId::parse(&id).map_err(|e| anyhow::anyhow!("--id: {e}"))?,
        kind: OrgKind::parse(&kind).map_err(|e| anyhow::anyhow!("--kind: {e}"))?,
        name,
    };
    let keys = keys(&db)?;
    let mut store = Store::open(&db).with_context(|| format!("{db}: cannot open the store"))?;
    let api_key = crate::bureau::issue_api_key(&mut store, &keys, &org)?;
    eprintln!("{} ({}) registered; its API key, shown this once:", org.id.as_str(), org.kind.as_str());
    println!("{api_key}");
    Ok(())
}
