//! What the credit-file commands share: the bureau's keys, the clock, dates on the command line.
//!
//! Keys come from the configuration (`[keys]` in the TOML file, or `CANDOR_IDENTITY_KEY`,
//! `CANDOR_SEALING_KEY` and `CANDOR_LOG_KEY`, 64 hex characters each). For an embedded SQLite
//! store without them, a key file beside the database (`<db>.keys`, readable by
//! its owner only) is made on first use and read after, so the default needs no setup; lose it
//! and the sealed names and the keyed identifiers can no longer be matched.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use candor_file::secret::{Keys, NONCE_BYTES};

use crate::config::KeyConfig;
use time::{Date, OffsetDateTime};

pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// `YYYY-MM-DD` from the command line.
pub fn parse_day(text: &str) -> Result<Date, String> {
    candor_file::model::parse_date(text).map_err(|e| e.to_string())
}

pub fn nonce() -> [u8; NONCE_BYTES] {
    let mut n = [0u8; NONCE_BYTES];
    // The operating system's generator failing is not something a bureau can work around.
    getrandom::getrandom(&mut n).unwrap_or_else(|e| panic!("no randomness from the operating system: {e}"));
    n
}

fn is_sqlite(db: &str) -> bool {
    !(db.starts_with("postgres://") || db.starts_with("postgresql://"))
}

fn sqlite_path(db: &str) -> PathBuf {
    PathBuf::from(db.strip_prefix("sqlite://").or_else(|| db.strip_prefix("sqlite:")).unwrap_or(db))
}

/// Refuses a SQLite store that is not there: a command that only reads one must not make an
/// empty store (with new keys) and then report on it.
pub fn existing_store(db: &str) -> Result<()> {
    if is_sqlite(db) && !sqlite_path(db).exists() {
        bail!("{db}: no such store");
    }
    Ok(())
}

/// Where the last signed checkpoint of a SQLite store is kept: beside it, outside it
/// (`<db>.checkpoint`), where a rollback of the store cannot take it.
pub fn checkpoint_file(db: &str) -> Option<PathBuf> {
    is_sqlite(db).then(|| sqlite_path(db).with_extension("checkpoint"))
}

/// The bureau's keys as the environment gives them, or the SQLite store's own.
pub fn keys(db: &str) -> Result<Keys> {
    keys_from(db, &KeyConfig::from_env())
}

/// The bureau's keys as configured, or the SQLite store's own.
pub fn keys_from(db: &str, configured: &KeyConfig) -> Result<Keys> {
    if let (Some(identity), Some(sealing)) = (&configured.identity, &configured.sealing) {
        return Keys::from_hex(identity, sealing).context("the identity and sealing keys");
    }
    if !is_sqlite(db) {
        bail!("set CANDOR_IDENTITY_KEY and CANDOR_SEALING_KEY, or [keys] identity and sealing (64 hex characters each), to use a PostgreSQL store");
    }
    let path = sqlite_path(db).with_extension("keys");
    if !path.exists() {
        let store = sqlite_path(db);
        if std::fs::metadata(&store).is_ok_and(|m| m.len() > 0) {
            bail!(
                "{}: the store exists but its keys file {} does not; new keys would make every keyed identifier \
                 and sealed name in it unreadable, so none are made: put the keys file back beside the store, or \
                 set CANDOR_IDENTITY_KEY and CANDOR_SEALING_KEY",
                store.display(),
                path.display()
            );
        }
        let mut bytes = [0u8; 64];
        getrandom::getrandom(&mut bytes)
            .map_err(|e| anyhow::anyhow!("no randomness from the operating system: {e}"))?;
        let text = format!("{}\n{}\n", hex::encode(&bytes[..32]), hex::encode(&bytes[32..]));
        write_private(&path, &text)?;
        eprintln!("made new keys in {} (keep it with the database)", path.display());
    }
    let text = std::fs::read_to_string(&path).with_context(|| format!("{}: cannot read the keys", path.display()))?;
    let mut lines = text.lines();
    let (Some(identity), Some(sealing)) = (lines.next(), lines.next()) else {
        bail!("{}: expected two lines, the identity key and the sealing key", path.display());
    };
    Keys::from_hex(identity, sealing).with_context(|| format!("{}", path.display()))
}

/// The bureau's checkpoint-signing key: `CANDOR_LOG_KEY` (64 hex characters, an Ed25519 seed),
/// or the third line of the SQLite store's key file, added on first use.
pub fn log_signer(db: &str, origin: &str, configured: &KeyConfig) -> Result<candor_log::Signer> {
    let seed_hex = match &configured.log {
        Some(k) => k.clone(),
        None if is_sqlite(db) => {
            keys_from(db, configured)?;
            let path = sqlite_path(db).with_extension("keys");
            let text =
                std::fs::read_to_string(&path).with_context(|| format!("{}: cannot read the keys", path.display()))?;
            match text.lines().nth(2) {
                Some(line) => line.to_owned(),
                None => {
                    let mut seed = [0u8; 32];
                    getrandom::getrandom(&mut seed)
                        .map_err(|e| anyhow::anyhow!("no randomness from the operating system: {e}"))?;
                    let line = hex::encode(seed);
                    let mut f = std::fs::OpenOptions::new().append(true).open(&path)?;
                    std::io::Write::write_all(&mut f, format!("{line}\n").as_bytes())?;
                    f.sync_all()?;
                    eprintln!("made a log signing key in {}", path.display());
                    line
                }
            }
        }
        None => bail!("set CANDOR_LOG_KEY or [keys] log (64 hex characters) to sign checkpoints of a PostgreSQL store"),
    };
    let mut seed = [0u8; 32];
    hex::decode_to_slice(seed_hex.trim(), &mut seed)
        .map_err(|_| anyhow::anyhow!("the log key must be 64 hex characters"))?;
    candor_log::Signer::from_seed(origin, seed).map_err(|e| anyhow::anyhow!("{e}"))
}

#[cfg(unix)]
pub(crate) fn write_private(path: &std::path::Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("{}: cannot create", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &std::path::Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("{}: cannot create", path.display()))
}

/// Registers (or renames) an organisation with a newly issued API key, which it returns: the
/// only time the key exists outside its holder's hands (the store keeps its keyed hash).
pub fn issue_api_key(
    store: &mut candor_store::Store,
    keys: &Keys,
    org: &candor_file::model::Organisation,
) -> Result<String> {
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut secret).map_err(|e| anyhow::anyhow!("no randomness from the operating system: {e}"))?;
    let api_key = format!("cnd_{}", hex::encode(secret));
    candor_bureau::operator::register_organisation(
        store,
        candor_bureau::Now::at_ms(now_ms()),
        org,
        &keys.api_key_hash(&api_key),
    )?;
    Ok(api_key)
}

/// Issues a person an activation code valid for `days` (see [`candor_bureau::subject::invite`]):
/// the code, to be shown once, and when it expires.
pub fn invite(
    store: &mut candor_store::Store,
    keys: &Keys,
    days: i64,
    entry: &candor_store::SubjectEntry,
) -> Result<(candor_file::activation::ActivationCode, i64)> {
    let mut random = [0u8; candor_file::activation::RANDOM_BYTES];
    getrandom::getrandom(&mut random).map_err(|e| anyhow::anyhow!("no randomness from the operating system: {e}"))?;
    let code = candor_file::activation::ActivationCode::from_random(random);
    let rules = candor_bureau::Rules { activation_days: days, ..Default::default() };
    let expires_ms =
        candor_bureau::subject::invite(store, keys, &rules, candor_bureau::Now::at_ms(now_ms()), entry, &code)?;
    Ok((code, expires_ms))
}

/// Registers a member of an ombudsman's staff with a fresh setup code, valid for `days`; the
/// code and when it expires.
pub fn add_staff(
    store: &mut candor_store::Store,
    keys: &Keys,
    days: i64,
    org: &candor_file::model::OrgId,
    id: &str,
    name: &str,
) -> Result<(candor_file::activation::ActivationCode, i64)> {
    let mut random = [0u8; candor_file::activation::RANDOM_BYTES];
    getrandom::getrandom(&mut random).map_err(|e| anyhow::anyhow!("no randomness from the operating system: {e}"))?;
    let code = candor_file::activation::ActivationCode::from_random(random);
    let rules = candor_bureau::Rules { activation_days: days, ..Default::default() };
    let member = candor_bureau::staff::NewMember { org, id, name };
    let now = candor_bureau::Now::at_ms(now_ms());
    let expires_ms = candor_bureau::staff::register(store, keys, &rules, now, &member, &code)?;
    Ok((code, expires_ms))
}
