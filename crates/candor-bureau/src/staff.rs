//! The overseers' staff: the people who work the ombudsman's console. The operator registers
//! each one under their organisation and hands them a one-time setup code out of band (as a
//! person gets an activation code); with it they choose a passphrase and set up a second factor,
//! which is never optional for staff: every sign-in takes a code from it. Registering is a log
//! leaf; so is every case a member opens (about the person, who sees that their case was looked
//! at, and by whom).

use candor_file::activation::ActivationCode;
use candor_file::model::{OrgId, OrgKind};
use candor_file::secret::{Keys, NONCE_BYTES};
use candor_log::{leaf, Leaf, LEAF_VERSION};
use candor_store::{StaffRow, Store};

use crate::second_factor::{matching_step, SECRET_BYTES};
use crate::{log, unit, BureauError, Now, Result, Rules, DAY_MS};

/// A staff id: 1–64 of `a-z 0-9 - _ .`, like an organisation's.
pub fn check_id(id: &str) -> Result<()> {
    OrgId::parse(id).map(|_| ()).map_err(|_| {
        BureauError::invalid("bad_staff", "staff", "a staff id is 1-64 characters from a-z, 0-9, '-', '_', '.'")
    })
}

/// Whom the operator registers: the organisation they work for, their id and their name.
#[derive(Clone, Copy, Debug)]
pub struct NewMember<'a> {
    pub org: &'a OrgId,
    pub id: &'a str,
    pub name: &'a str,
}

/// Registers a member of `org`'s staff (an ombudsman's) with a setup code, or issues an existing
/// member a new one (their old passphrase and second factor stop working until they set up
/// again); logged. Returns when the code expires.
pub fn register(
    store: &mut Store,
    keys: &Keys,
    rules: &Rules,
    now: Now,
    member: &NewMember<'_>,
    code: &ActivationCode,
) -> Result<i64> {
    let NewMember { org, id, name } = *member;
    check_id(id)?;
    candor_file::text::check(name, false).map_err(|why| BureauError::invalid("bad_name", "name", why))?;
    if name.is_empty() || name.chars().count() > 200 {
        return Err(BureauError::invalid("bad_name", "name", "a name of 1-200 characters"));
    }
    match store.organisation(org)? {
        Some(o) if o.kind == OrgKind::Ombudsman => {}
        _ => return Err(BureauError::invalid("bad_org", "org", "staff work for a registered ombudsman")),
    }
    let expires_ms = now.ms.saturating_add(rules.activation_days.saturating_mul(DAY_MS));
    let hash = hex::encode(keys.activation_hash(&keys.staff_key(id), code));
    let row = StaffRow {
        id: id.to_owned(),
        org: org.clone(),
        name: name.to_owned(),
        setup_hash: Some(hash),
        setup_expires_ms: Some(expires_ms),
        passphrase_hash: None,
        totp_sealed: None,
        last_step: None,
        active_ms: None,
    };
    unit(store, |store| {
        store.put_staff(&row, now.ms)?;
        let leaf = leaf::StaffRegistered {
            leaf_version: LEAF_VERSION,
            org: org.as_str().to_owned(),
            staff: id.to_owned(),
            recorded_ms: now.ms,
        };
        log(store, Leaf::StaffRegistered(leaf))?;
        Ok(expires_ms)
    })
}

fn unproven() -> BureauError {
    BureauError::Unproven
}

/// The member whose live setup code `code` is (an unknown id and a wrong, used or expired code
/// look the same).
fn by_setup_code(store: &mut Store, keys: &Keys, now: Now, id: &str, code: &ActivationCode) -> Result<StaffRow> {
    let row = store.staff(id)?.ok_or_else(unproven)?;
    let hash = hex::encode(keys.activation_hash(&keys.staff_key(id), code));
    let live = row.setup_expires_ms.is_some_and(|until| until > now.ms);
    if row.setup_hash.as_deref() != Some(hash.as_str()) || !live {
        return Err(unproven());
    }
    Ok(row)
}

/// What a member is shown to set up their authenticator: the secret (base32) and its URI.
#[derive(Clone, Debug)]
pub struct Authenticator {
    pub secret_base32: String,
    pub uri: String,
}

/// First step of setting up: with the live setup code, the member's passphrase (hashed by the
/// caller) and a new second-factor secret, kept but not in force until [`confirm_setup`].
pub fn set_up(
    store: &mut Store,
    keys: &Keys,
    now: Now,
    id: &str,
    code: &ActivationCode,
    passphrase_hash: &str,
    (secret, nonce): ([u8; SECRET_BYTES], [u8; NONCE_BYTES]),
) -> Result<Authenticator> {
    let row = by_setup_code(store, keys, now, id, code)?;
    let secret_base32 = data_encoding::BASE32_NOPAD.encode(&secret);
    let sealed = hex::encode(keys.seal(&keys.staff_key(id), &secret_base32, nonce));
    let pending = StaffRow {
        passphrase_hash: Some(passphrase_hash.to_owned()),
        totp_sealed: Some(sealed),
        active_ms: None,
        ..row
    };
    store.put_staff(&pending, now.ms)?;
    let uri = format!(
        "otpauth://totp/Candor%20console:{id}?secret={secret_base32}&issuer=Candor%20console&algorithm=SHA1&digits=6&period=30"
    );
    Ok(Authenticator { secret_base32, uri })
}

/// The member's second-factor secret, unsealed.
fn secret_of(keys: &Keys, row: &StaffRow) -> Result<Vec<u8>> {
    let sealed = row.totp_sealed.as_deref().ok_or_else(unproven)?;
    let sealed = hex::decode(sealed).map_err(BureauError::corrupt)?;
    let text = keys.open(&keys.staff_key(&row.id), &sealed).map_err(BureauError::corrupt)?;
    data_encoding::BASE32_NOPAD.decode(text.as_bytes()).map_err(BureauError::corrupt)
}

fn wrong_code() -> BureauError {
    BureauError::invalid("bad_second_factor", "code", "the code is not the one the authenticator shows now")
}

/// Second step: a code from the new authenticator puts the passphrase and the second factor in
/// force, and uses up the setup code.
pub fn confirm_setup(
    store: &mut Store,
    keys: &Keys,
    now: Now,
    id: &str,
    code: &ActivationCode,
    totp: &str,
) -> Result<()> {
    let row = by_setup_code(store, keys, now, id, code)?;
    if row.passphrase_hash.is_none() {
        return Err(unproven());
    }
    let step = matching_step(&secret_of(keys, &row)?, totp, now, row.last_step).ok_or_else(wrong_code)?;
    let active =
        StaffRow { setup_hash: None, setup_expires_ms: None, last_step: Some(step), active_ms: Some(now.ms), ..row };
    store.put_staff(&active, now.ms)?;
    Ok(())
}

/// The passphrase hash of an active member, to check a sign-in against (none: unknown or not
/// set up, checked against a hash of the same cost by the caller).
pub fn passphrase_hash(store: &mut Store, id: &str) -> Result<Option<String>> {
    Ok(store.staff(id)?.filter(|r| r.active_ms.is_some()).and_then(|r| r.passphrase_hash))
}

/// The second step of a member's sign-in, after the passphrase: the code the authenticator
/// shows now, never one used before. The member, when it passes.
pub fn sign_in(store: &mut Store, keys: &Keys, now: Now, id: &str, totp: &str) -> Result<Option<StaffRow>> {
    let Some(row) = store.staff(id)?.filter(|r| r.active_ms.is_some()) else { return Ok(None) };
    let Some(step) = matching_step(&secret_of(keys, &row)?, totp, now, row.last_step) else { return Ok(None) };
    let used = StaffRow { last_step: Some(step), ..row };
    store.put_staff(&used, now.ms)?;
    Ok(Some(used))
}

/// A member of staff, as a signed-in session holds them.
pub fn member(store: &mut Store, id: &str) -> Result<Option<StaffRow>> {
    Ok(store.staff(id)?.filter(|r| r.active_ms.is_some()))
}
