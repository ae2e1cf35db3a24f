//! What the operator does: register organisations (their kind is what the operator says, and
//! only that) and run the retention purge.

use candor_file::model::Organisation;
use candor_store::{PurgeOutcome, Store};

use crate::{Now, Result, Rules};

/// Registers an organisation, or renames it, with the keyed hash of a newly issued API key.
pub fn register_organisation(store: &mut Store, now: Now, org: &Organisation, api_key_hash: &[u8]) -> Result<()> {
    Ok(store.put_organisation(org, Some(api_key_hash), now.ms)?)
}

/// Deletes what retention hides on `now.today`, keeping the hashes of what it deleted, and logs
/// it, in one transaction.
pub fn purge(store: &mut Store, rules: &Rules, now: Now) -> Result<PurgeOutcome> {
    Ok(store.purge(now.today, rules.retention, now.ms)?)
}
