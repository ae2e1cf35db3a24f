//! What keeps strangers from guessing their way in or wearing the service down: failed sign-ins
//! and enrolments counted per identifier and per address, with a lockout that doubles and that
//! the caller is told about; a cap on how many passphrases are hashed at once; and the one
//! passphrase check, which takes as long for an identifier the bureau does not know.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use axum::http::StatusCode;

use crate::ApiError;

/// Failures allowed before a lockout.
pub const FREE_FAILURES: u32 = 5;
/// The first lockout; each failure after it doubles the next, up to [`LONGEST_LOCK_MS`].
pub const FIRST_LOCK_MS: i64 = 60_000;
/// The longest lockout: a day.
pub const LONGEST_LOCK_MS: i64 = 86_400_000;
/// Most identifiers and addresses remembered; past it, those not locked are forgotten first.
pub const MAX_TRACKED: usize = 100_000;
/// How long a request waits for a turn to hash a passphrase before it is told to come back.
pub const HASH_WAIT: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug, Default)]
struct Failures {
    count: u32,
    locked_until_ms: i64,
}

/// Failed attempts by key (a keyed identifier, or the hash of an address).
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<[u8; 32], Failures>>,
}

impl Throttle {
    /// Refuses while `key` is locked out, saying until when.
    pub fn check(&self, key: &[u8; 32], now_ms: i64) -> Result<(), ApiError> {
        let failures = self.failures.lock().map_err(|_| ApiError::internal())?;
        match failures.get(key) {
            Some(f) if f.locked_until_ms > now_ms => Err(locked_out(f.locked_until_ms, now_ms)),
            _ => Ok(()),
        }
    }

    /// Counts a failure of `key`; past [`FREE_FAILURES`], locks it out for a time that doubles.
    pub fn failed(&self, key: &[u8; 32], now_ms: i64) -> Result<(), ApiError> {
        let mut failures = self.failures.lock().map_err(|_| ApiError::internal())?;
        if failures.len() >= MAX_TRACKED && !failures.contains_key(key) {
            failures.retain(|_, f| f.locked_until_ms > now_ms);
            if failures.len() >= MAX_TRACKED {
                // Full of live lockouts: the newest stranger waits as if locked.
                return Ok(());
            }
        }
        let f = failures.entry(*key).or_default();
        f.count = f.count.saturating_add(1);
        if f.count >= FREE_FAILURES {
            let doublings = (f.count - FREE_FAILURES).min(20);
            let lock = FIRST_LOCK_MS.saturating_mul(1 << doublings).min(LONGEST_LOCK_MS);
            f.locked_until_ms = now_ms.saturating_add(lock);
        }
        Ok(())
    }

    /// Forgets the failures of `key` after a success.
    pub fn succeeded(&self, key: &[u8; 32]) -> Result<(), ApiError> {
        self.failures.lock().map_err(|_| ApiError::internal())?.remove(key);
        Ok(())
    }
}

fn locked_out(until_ms: i64, now_ms: i64) -> ApiError {
    let seconds = (until_ms - now_ms + 999) / 1000;
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "locked_out",
        format!(
            "too many failed attempts: this identifier or address is locked for {seconds} s more; if it was not you, \
             someone is trying your identifier — once you are in, freeze your file"
        ),
    )
}

/// The hash of a caller's address, as the throttle keys it (the address itself is kept nowhere).
pub fn address_key(addr: &std::net::SocketAddr) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(b"address\0");
    match addr.ip() {
        std::net::IpAddr::V4(ip) => h.update(ip.octets()),
        // An IPv6 caller holds a /64; counting per /64 stops them rotating addresses.
        std::net::IpAddr::V6(ip) => h.update(&ip.octets()[..8]),
    }
    h.finalize().into()
}

/// Waits for a turn to hash a passphrase (at most as many at once as the permits), then runs
/// `work` on a blocking thread.
pub async fn hashing<T: Send + 'static>(
    permits: &tokio::sync::Semaphore,
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let _turn = tokio::time::timeout(HASH_WAIT, permits.acquire())
        .await
        .map_err(|_| {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "too many sign-ins at once; try again in a moment")
        })?
        .map_err(|_| ApiError::internal())?;
    tokio::task::spawn_blocking(work).await.map_err(|_| ApiError::internal())?
}

/// Whether `passphrase` is the one `stored` hashes; with no stored hash (an identifier the
/// bureau does not know, or a withdrawn one), a hash of the same cost is checked anyway, so the
/// answer takes as long either way.
pub fn passphrase_matches(stored: Option<&str>, passphrase: &str) -> Result<bool, ApiError> {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    static NOBODY: OnceLock<String> = OnceLock::new();
    let nobody = match NOBODY.get() {
        Some(h) => h,
        None => {
            let h = crate::hash_passphrase("a passphrase nobody was given")?;
            NOBODY.get_or_init(|| h)
        }
    };
    let parsed = PasswordHash::new(stored.unwrap_or(nobody)).map_err(|_| ApiError::internal())?;
    let matches = argon2::Argon2::default().verify_password(passphrase.as_bytes(), &parsed).is_ok();
    Ok(matches && stored.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lockout_starts_after_the_free_failures_and_doubles() {
        let t = Throttle::default();
        let key = [7; 32];
        for _ in 0..FREE_FAILURES - 1 {
            t.failed(&key, 0).expect("count");
            assert!(t.check(&key, 0).is_ok());
        }
        t.failed(&key, 0).expect("count");
        let e = t.check(&key, 0).expect_err("locked");
        assert_eq!((e.status, e.code), (429, "locked_out"));
        assert!(t.check(&key, FIRST_LOCK_MS).is_ok(), "the first lock lasts a minute");
        t.failed(&key, FIRST_LOCK_MS).expect("count");
        assert!(t.check(&key, 2 * FIRST_LOCK_MS).is_err(), "the next lasts two");
        assert!(t.check(&key, 3 * FIRST_LOCK_MS).is_ok());
        assert!(t.check(&[8; 32], 0).is_ok(), "others are not locked");
        t.succeeded(&key).expect("forget");
        t.failed(&key, 0).expect("count");
        assert!(t.check(&key, 0).is_ok(), "a success starts the count again");
    }

    #[test]
    fn an_unknown_identifier_is_checked_against_a_hash_of_the_same_cost() {
        let stored = crate::hash_passphrase("the right passphrase").expect("hash");
        assert!(passphrase_matches(Some(&stored), "the right passphrase").expect("check"));
        assert!(!passphrase_matches(Some(&stored), "a wrong passphrase").expect("check"));
        assert!(!passphrase_matches(None, "a passphrase nobody was given").expect("check"), "none matches nobody");
    }
}
