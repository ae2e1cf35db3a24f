//! `candor subject invite`: issue a person an activation code to enrol with, to send them out
//! of band (a letter to their address, or through a furnisher who already knows them). The code
//! is shown this once and kept only as a keyed hash; it expires.

use anyhow::{Context, Result};
use candor_file::ids::NationalId;
use candor_store::{Store, SubjectEntry};

use crate::bureau::keys;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Issue an activation code for a person (making their entry in the file if need be).
    Invite {
        #[arg(long, default_value = "candor.db")]
        db: String,
        /// The identifier's scheme, e.g. cn_rid.
        #[arg(long)]
        scheme: String,
        #[arg(long)]
        number: String,
        /// Days the code stays valid.
        #[arg(long, default_value_t = candor_bureau::DEFAULT_ACTIVATION_DAYS, value_parser = clap::value_parser!(i64).range(1..=365))]
        days: i64,
    },
}

pub fn run(command: Command) -> Result<()> {
    let Command::Invite { db, scheme, number, days } = command;
    let id = NationalId::parse_text(&scheme, &number).map_err(|(field, e)| anyhow::anyhow!("--{field}: {e}"))?;
    let keys = keys(&db)?;
    let mut store = Store::open(&db).with_context(|| format!("{db}: cannot open the store"))?;
    let entry = SubjectEntry::of(keys.subject_key(&id), &id);
    let (code, expires_ms) = crate::bureau::invite(&mut store, &keys, days, &entry)?;
    let expires = candor_bureau::Now::at_ms(expires_ms).today;
    eprintln!("{} invited; the activation code, shown this once, valid until {expires} (UTC):", id.masked());
    println!("{code}");
    Ok(())
}
