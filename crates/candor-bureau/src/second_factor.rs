//! A second factor for people who want one: time-based one-time passwords (TOTP, RFC 6238:
//! HMAC-SHA-1, 30-second steps, 6 digits — what every authenticator app reads), with ten
//! single-use recovery codes for a lost phone. The secret is sealed at rest like other personal
//! data; recovery codes are kept only as keyed hashes. A code is accepted one step either side of
//! now (clock drift) and never twice (a step used is remembered). Turning it on takes a code
//! from the new secret, so nobody locks themselves out with a mistyped one; turning it off takes
//! a code too.

use candor_file::ids::SubjectKey;
use candor_file::secret::{Keys, NONCE_BYTES};
use candor_store::{SecondFactor, Store};
use hmac::{Hmac, Mac};

use candor_log::{leaf, Leaf, LEAF_VERSION};

use crate::{log, unit, BureauError, Now, Result};

fn event(key: &SubjectKey, now: Now) -> leaf::SubjectEvent {
    leaf::SubjectEvent { leaf_version: LEAF_VERSION, subject: key.to_hex(), recorded_ms: now.ms }
}

/// Bytes of a secret (160 bits, as RFC 4226 recommends).
pub const SECRET_BYTES: usize = 20;
/// Seconds in a step.
pub const STEP_SECONDS: i64 = 30;
/// Recovery codes issued.
pub const RECOVERY_CODES: usize = 10;
/// Bytes of randomness a recovery code is made from.
pub const RECOVERY_BYTES: usize = 8;

/// The 6-digit password of `secret` at step `step` (RFC 4226's HOTP with RFC 6238's counter).
pub fn code_at(secret: &[u8], step: i64) -> u32 {
    // HMAC takes a key of any length; this cannot fail.
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let bin = u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    bin % 1_000_000
}

/// The password an authenticator holding `secret_base32` shows at `ms` (for a person's own
/// tools and for tests), if the secret is base32.
pub fn code_for(secret_base32: &str, ms: i64) -> Option<String> {
    let secret = data_encoding::BASE32_NOPAD.decode(secret_base32.as_bytes()).ok()?;
    Some(format!("{:06}", code_at(&secret, step_of(ms))))
}

/// The step `ms` falls in.
pub fn step_of(ms: i64) -> i64 {
    ms.div_euclid(1000).div_euclid(STEP_SECONDS)
}

/// What a person gets when they start turning the second factor on: the secret for their
/// authenticator app (base32, and as an `otpauth://` URI), and the recovery codes, shown this
/// once.
#[derive(Clone, Debug)]
pub struct Enrolment {
    pub secret_base32: String,
    pub uri: String,
    pub recovery_codes: Vec<String>,
}

/// Randomness a second factor is made from (the caller's: the bureau has none).
pub struct Fresh {
    pub secret: [u8; SECRET_BYTES],
    pub recovery: [[u8; RECOVERY_BYTES]; RECOVERY_CODES],
    pub nonce: [u8; NONCE_BYTES],
}

fn recovery_text(bytes: &[u8; RECOVERY_BYTES]) -> String {
    let hex = hex::encode(bytes);
    format!("{}-{}-{}-{}", &hex[0..4], &hex[4..8], &hex[8..12], &hex[12..16])
}

fn recovery_hash(keys: &Keys, key: &SubjectKey, code: &str) -> String {
    let normal: String = code.chars().filter(|c| c.is_ascii_hexdigit()).collect::<String>().to_lowercase();
    hex::encode(keys.recovery_hash(key, &normal))
}

/// Starts turning the second factor on (or replaces one not yet confirmed): a new secret and
/// recovery codes, not in force until [`confirm`] sees a code from the secret.
pub fn start(store: &mut Store, keys: &Keys, now: Now, key: &SubjectKey, fresh: &Fresh) -> Result<Enrolment> {
    if store.second_factor(key)?.is_some_and(|f| f.confirmed_ms.is_some()) {
        return Err(BureauError::conflict("second_factor_on", "a second factor is on already; turn it off first"));
    }
    let secret_base32 = data_encoding::BASE32_NOPAD.encode(&fresh.secret);
    let sealed = keys.seal(key, &secret_base32, fresh.nonce);
    let recovery_codes: Vec<String> = fresh.recovery.iter().map(recovery_text).collect();
    let hashes: Vec<String> = recovery_codes.iter().map(|c| recovery_hash(keys, key, c)).collect();
    store.put_second_factor(key, &sealed, &hashes.join(","), now.ms)?;
    let uri = format!("otpauth://totp/Candor?secret={secret_base32}&issuer=Candor&algorithm=SHA1&digits=6&period=30");
    Ok(Enrolment { secret_base32, uri, recovery_codes })
}

/// The person's secret, unsealed.
fn secret_of(keys: &Keys, key: &SubjectKey, factor: &SecondFactor) -> Result<Vec<u8>> {
    let text = keys.open(key, &factor.secret_sealed).map_err(BureauError::corrupt)?;
    data_encoding::BASE32_NOPAD.decode(text.as_bytes()).map_err(BureauError::corrupt)
}

/// The step a 6-digit `code` matches, within one step of now and after the last one used.
pub(crate) fn matching_step(secret: &[u8], code: &str, now: Now, last_step: Option<i64>) -> Option<i64> {
    let code: u32 = code.trim().parse().ok().filter(|_| code.trim().len() == 6)?;
    let here = step_of(now.ms);
    (here - 1..=here + 1).find(|&s| last_step.is_none_or(|last| s > last) && code_at(secret, s) == code)
}

fn wrong_code() -> BureauError {
    BureauError::invalid("bad_second_factor", "code", "the code is not the one the authenticator shows now")
}

/// Puts the second factor in force, given a code from its secret.
pub fn confirm(store: &mut Store, keys: &Keys, now: Now, key: &SubjectKey, code: &str) -> Result<()> {
    let factor = store.second_factor(key)?.ok_or(BureauError::not_found("second factor being turned on"))?;
    if factor.confirmed_ms.is_some() {
        return Err(BureauError::conflict("second_factor_on", "the second factor is on already"));
    }
    let step = matching_step(&secret_of(keys, key, &factor)?, code, now, factor.last_step).ok_or_else(wrong_code)?;
    unit(store, |store| {
        store.confirm_second_factor(key, step, now.ms)?;
        log(store, Leaf::SecondFactorOn(event(key, now)))?;
        Ok(())
    })
}

/// Where a person's second factor stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Off,
    /// Started, waiting for a code from the new authenticator.
    Pending,
    On,
}

pub fn state(store: &mut Store, key: &SubjectKey) -> Result<State> {
    Ok(match store.second_factor(key)? {
        None => State::Off,
        Some(f) if f.confirmed_ms.is_some() => State::On,
        Some(_) => State::Pending,
    })
}

/// Whether the person must give a second factor to sign in.
pub fn required(store: &mut Store, key: &SubjectKey) -> Result<bool> {
    Ok(store.second_factor(key)?.is_some_and(|f| f.confirmed_ms.is_some()))
}

/// Checks a sign-in's second factor: a code the authenticator shows now (never one used before),
/// or one of the recovery codes (used up). Whether it passed.
pub fn check(store: &mut Store, keys: &Keys, now: Now, key: &SubjectKey, code: &str) -> Result<bool> {
    let Some(factor) = store.second_factor(key)?.filter(|f| f.confirmed_ms.is_some()) else { return Ok(true) };
    if let Some(step) = matching_step(&secret_of(keys, key, &factor)?, code, now, factor.last_step) {
        store.use_second_factor_step(key, step)?;
        return Ok(true);
    }
    let hash = recovery_hash(keys, key, code);
    let mut left: Vec<&str> = factor.recovery_hashes.split(',').filter(|h| !h.is_empty()).collect();
    match left.iter().position(|h| *h == hash) {
        Some(i) => {
            left.remove(i);
            store.set_recovery_hashes(key, &left.join(","))?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// What a sign-in's second factor came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignIn {
    /// No second factor is on, or the code given passed.
    Passed,
    /// A second factor is on and no code was given.
    CodeMissing,
    /// The code given is not the authenticator's now, nor a recovery code left.
    CodeWrong,
}

/// The second step of a sign-in whose passphrase was right: passes without a second factor,
/// and with one only on a good `code` (see [`check`]).
pub fn sign_in(store: &mut Store, keys: &Keys, now: Now, key: &SubjectKey, code: Option<&str>) -> Result<SignIn> {
    if !required(store, key)? {
        return Ok(SignIn::Passed);
    }
    let Some(code) = code else { return Ok(SignIn::CodeMissing) };
    Ok(if check(store, keys, now, key, code)? { SignIn::Passed } else { SignIn::CodeWrong })
}

/// Turns the second factor off, given a code (or a recovery code) from it.
pub fn turn_off(store: &mut Store, keys: &Keys, now: Now, key: &SubjectKey, code: &str) -> Result<()> {
    if !required(store, key)? {
        return Err(BureauError::not_found("second factor"));
    }
    if !check(store, keys, now, key, code)? {
        return Err(wrong_code());
    }
    unit(store, |store| {
        store.remove_second_factor(key)?;
        log(store, Leaf::SecondFactorOff(event(key, now)))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238's test vectors for SHA-1 (the 8-digit values, to 6 digits).
    #[test]
    fn the_rfc_6238_vectors() {
        let secret = b"12345678901234567890";
        for (seconds, eight) in [
            (59, 94287082),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
        ] {
            assert_eq!(code_at(secret, step_of(seconds * 1000)), eight % 1_000_000, "at {seconds} s");
        }
    }

    #[test]
    fn a_code_matches_one_step_either_side_and_never_twice() {
        let secret = b"12345678901234567890";
        let now = Now::at_ms(1_111_111_111_000);
        let here = step_of(now.ms);
        let code = |s: i64| format!("{:06}", code_at(secret, s));
        assert_eq!(matching_step(secret, &code(here), now, None), Some(here));
        assert_eq!(matching_step(secret, &code(here - 1), now, None), Some(here - 1));
        assert_eq!(matching_step(secret, &code(here - 2), now, None), None, "too old");
        assert_eq!(matching_step(secret, &code(here), now, Some(here)), None, "used already");
        assert_eq!(matching_step(secret, "12345", now, None), None);
        assert_eq!(matching_step(secret, "abcdef", now, None), None);
    }
}
