//! What the operator does: register organisations (their kind is what the operator says, and
//! only that), stop and resume scoring, and run the retention purge; each logged.

use candor_file::model::{OrgId, Organisation};
use candor_log::{leaf, Leaf, LEAF_VERSION};
use candor_store::{PurgeOutcome, Store};

use crate::{log, unit, Now, Result, Rules};

/// Registers an organisation, or renames it, with the keyed hash of a newly issued API key.
pub fn register_organisation(store: &mut Store, now: Now, org: &Organisation, api_key_hash: &[u8]) -> Result<()> {
    unit(store, |store| {
        store.put_organisation(org, Some(api_key_hash), now.ms)?;
        log(
            store,
            Leaf::OrganisationRegistered(leaf::OrganisationRegistered {
                leaf_version: LEAF_VERSION,
                org: org.id.as_str().to_owned(),
                org_kind: org.kind.as_str().to_owned(),
                name: org.name.clone(),
                key_issued: true,
                recorded_ms: now.ms,
            }),
        )?;
        Ok(())
    })
}

/// Revokes an organisation's API key at once, and logs it; a new one is issued by registering
/// it again.
pub fn revoke_key(store: &mut Store, now: Now, org: &OrgId) -> Result<()> {
    unit(store, |store| {
        if !store.revoke_api_key(org)? {
            return Err(crate::BureauError::not_found("organisation with a key"));
        }
        log(
            store,
            Leaf::KeyRevoked(leaf::KeyRevoked {
                leaf_version: LEAF_VERSION,
                org: org.as_str().to_owned(),
                recorded_ms: now.ms,
            }),
        )?;
        Ok(())
    })
}

/// Stops (or resumes) all scoring, as the operator `by` asked, kept across restarts and logged.
pub fn switch_scoring(store: &mut Store, now: Now, by: &OrgId, suspended: bool) -> Result<()> {
    unit(store, |store| {
        store.put_scoring_switch(suspended, now.ms)?;
        log(
            store,
            Leaf::ScoringSwitched(leaf::ScoringSwitched {
                leaf_version: LEAF_VERSION,
                suspended,
                by: by.as_str().to_owned(),
                recorded_ms: now.ms,
            }),
        )?;
        Ok(())
    })
}

/// Deletes what retention hides on `now.today`, keeping the hashes of what it deleted, and logs
/// it, in one transaction.
pub fn purge(store: &mut Store, rules: &Rules, now: Now) -> Result<PurgeOutcome> {
    Ok(store.purge(now.today, rules.retention, now.ms)?)
}
