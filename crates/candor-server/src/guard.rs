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
/// How long a locked-out caller waits before being told so: a flood of guesses that is locked
/// out then costs the server a sleeping task per connection, not a stream of answers, so it
/// cannot crowd out other callers' work.
pub const LOCKED_OUT_DELAY: Duration = Duration::from_secs(1);

/// Counts an attempt against each of its keys (an identifier, an address) before it is tried;
/// a locked-out one is answered `locked_out` only after [`LOCKED_OUT_DELAY`].
pub async fn attempt(throttle: &Throttle, keys: &[[u8; 32]], now_ms: i64) -> Result<(), ApiError> {
    match keys.iter().try_for_each(|k| throttle.attempt(k, now_ms)) {
        Err(e) if e.code == "locked_out" => {
            tokio::time::sleep(LOCKED_OUT_DELAY).await;
            Err(e)
        }
        other => other,
    }
}

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
    /// Counts an attempt by `key` before it is tried, so that concurrent attempts cannot slip
    /// past the count; refuses while `key` is locked out, saying until when. Past
    /// [`FREE_FAILURES`] attempts not undone, `key` is locked out for a time that doubles.
    pub fn attempt(&self, key: &[u8; 32], now_ms: i64) -> Result<(), ApiError> {
        let mut failures = self.failures.lock().map_err(|_| ApiError::internal())?;
        if let Some(f) = failures.get(key) {
            if f.locked_until_ms > now_ms {
                return Err(locked_out(f.locked_until_ms, now_ms));
            }
        }
        if failures.len() >= MAX_TRACKED && !failures.contains_key(key) {
            make_room(&mut failures, now_ms);
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

    /// After a success: the identifier's count starts again.
    pub fn succeeded(&self, key: &[u8; 32]) -> Result<(), ApiError> {
        self.failures.lock().map_err(|_| ApiError::internal())?.remove(key);
        Ok(())
    }

    /// After a success from an address: that attempt does not count against the address (many
    /// people may share one), and a lock it alone set is lifted.
    pub fn undo(&self, key: &[u8; 32]) -> Result<(), ApiError> {
        let mut failures = self.failures.lock().map_err(|_| ApiError::internal())?;
        if let Some(f) = failures.get_mut(key) {
            f.count = f.count.saturating_sub(1);
            if f.count < FREE_FAILURES {
                f.locked_until_ms = 0;
            }
            if f.count == 0 {
                failures.remove(key);
            }
        }
        Ok(())
    }
}

/// Room in a full table: those not locked go first; if every one is locked (someone locking
/// identifiers by the hundred thousand), the tenth whose locks end soonest go, rather than every
/// newcomer being refused (which would lock everyone out).
fn make_room(failures: &mut HashMap<[u8; 32], Failures>, now_ms: i64) {
    failures.retain(|_, f| f.locked_until_ms > now_ms);
    if failures.len() < MAX_TRACKED {
        return;
    }
    let mut ends: Vec<i64> = failures.values().map(|f| f.locked_until_ms).collect();
    let cut = ends.len() / 10;
    let (_, &mut threshold, _) = ends.select_nth_unstable(cut);
    failures.retain(|_, f| f.locked_until_ms > threshold);
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

type Job = Box<dyn FnOnce() + Send>;

/// The threads passphrases are hashed on, and no others: argon2 takes 19 MiB a hash, and a
/// thread's allocator keeps what it once held, so a few dedicated threads bound the memory a
/// flood of sign-ins can make the server hold.
pub struct Hashers {
    jobs: std::sync::mpsc::SyncSender<Job>,
}

impl Hashers {
    /// `threads` hashing threads, with room for `queue` waiting jobs.
    pub fn new(threads: usize, queue: usize) -> Hashers {
        let (jobs, waiting) = std::sync::mpsc::sync_channel::<Job>(queue);
        let waiting = std::sync::Arc::new(Mutex::new(waiting));
        for i in 0..threads {
            let waiting = waiting.clone();
            let spawned = std::thread::Builder::new().name(format!("candor-hash-{i}")).spawn(move || loop {
                let job = match waiting.lock() {
                    Ok(queue) => queue.recv(),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(),
                    Err(_) => return,
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a hashing thread");
            }
        }
        Hashers { jobs }
    }
}

fn busy() -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "too many sign-ins at once; try again in a moment")
}

/// Runs `work` (a passphrase hash or check) on a hashing thread; `busy` when the queue is full
/// or the turn does not come within [`HASH_WAIT`].
pub async fn hashing<T: Send + 'static>(
    hashers: &Hashers,
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let (done, answer) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(work());
    });
    hashers.jobs.try_send(job).map_err(|_| busy())?;
    tokio::time::timeout(HASH_WAIT, answer).await.map_err(|_| busy())?.map_err(|_| ApiError::internal())?
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

/// Which enrolment a sign-in's passphrase is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Passphrase {
    /// The enrolment now.
    Current,
    /// The enrolment the one now replaced (at this time): its holder is told.
    Replaced(i64),
    Wrong,
}

/// Checks a sign-in's passphrase against the enrolment now and, if that fails, the one it
/// replaced. A wrong passphrase always costs two hashes (of the same cost when there is no
/// enrolment or no replaced one), so the answer's time says nothing about either.
pub fn check_sign_in(hashes: &candor_store::SignInHashes, passphrase: &str) -> Result<Passphrase, ApiError> {
    if passphrase_matches(hashes.current.as_deref(), passphrase)? {
        return Ok(Passphrase::Current);
    }
    let replaced = hashes.replaced.as_ref();
    if passphrase_matches(replaced.map(|(_, h)| h.as_str()), passphrase)? {
        return Ok(Passphrase::Replaced(replaced.map_or(0, |(at, _)| *at)));
    }
    Ok(Passphrase::Wrong)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lockout_starts_after_the_free_attempts_and_doubles() {
        let t = Throttle::default();
        let key = [7; 32];
        for _ in 0..FREE_FAILURES {
            t.attempt(&key, 0).expect("allowed");
        }
        let e = t.attempt(&key, 0).expect_err("locked");
        assert_eq!((e.status, e.code), (429, "locked_out"));
        t.attempt(&key, FIRST_LOCK_MS).expect("the first lock lasts a minute");
        assert!(t.attempt(&key, 2 * FIRST_LOCK_MS).is_err(), "the next lasts two");
        t.attempt(&key, 3 * FIRST_LOCK_MS).expect("then one more try");
        assert!(t.attempt(&[8; 32], 0).is_ok(), "others are not locked");
        t.succeeded(&key).expect("forget");
        t.attempt(&key, 0).expect("a success starts the count again");
        let shared = [9; 32];
        for _ in 0..3 * FREE_FAILURES {
            t.attempt(&shared, 0).expect("an address whose attempts succeed");
            t.undo(&shared).expect("undo");
        }
    }

    #[tokio::test]
    async fn hashing_runs_on_its_threads_and_says_busy_when_full() {
        let hashers: &'static Hashers = Box::leak(Box::new(Hashers::new(1, 1)));
        assert_eq!(hashing(hashers, || Ok(6 * 7)).await.expect("done"), 42);
        let (hold, held) = std::sync::mpsc::channel::<()>();
        let first = hashing(hashers, move || {
            let _ = held.recv();
            Ok(())
        });
        let first = tokio::spawn(first);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let queued = tokio::spawn(hashing(hashers, || Ok(())));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let e = hashing(hashers, || Ok(())).await.expect_err("the queue is full");
        assert_eq!(e.code, "busy");
        hold.send(()).expect("release");
        first.await.expect("join").expect("first");
        queued.await.expect("join").expect("queued");
    }

    /// Someone who locks identifiers by the hundred thousand does not lock everyone else out:
    /// the locks ending soonest make room, the newest stand.
    #[test]
    fn a_full_table_makes_room_instead_of_refusing_everyone() {
        let t = Throttle::default();
        let key = |i: u32| {
            let mut k = [0u8; 32];
            k[..4].copy_from_slice(&i.to_le_bytes());
            k
        };
        {
            let mut failures = t.failures.lock().expect("lock");
            for i in 0..MAX_TRACKED as u32 {
                failures.insert(key(i), Failures { count: FREE_FAILURES, locked_until_ms: 1_000_000 + i64::from(i) });
            }
        }
        let newcomer = key(u32::MAX);
        t.attempt(&newcomer, 0).expect("a newcomer is let try");
        let failures = t.failures.lock().expect("lock");
        assert!(failures.len() <= MAX_TRACKED, "bounded: {}", failures.len());
        assert!(failures.len() > MAX_TRACKED * 8 / 10, "only a tenth made room: {}", failures.len());
        assert!(!failures.contains_key(&key(0)), "the lock ending soonest went");
        assert!(failures.contains_key(&key(MAX_TRACKED as u32 - 1)), "the latest lock stands");
        drop(failures);
        assert!(t.attempt(&key(MAX_TRACKED as u32 - 1), 0).is_err(), "and still refuses");
    }

    #[test]
    fn an_unknown_identifier_is_checked_against_a_hash_of_the_same_cost() {
        let stored = crate::hash_passphrase("the right passphrase").expect("hash");
        assert!(passphrase_matches(Some(&stored), "the right passphrase").expect("check"));
        assert!(!passphrase_matches(Some(&stored), "a wrong passphrase").expect("check"));
        assert!(!passphrase_matches(None, "a passphrase nobody was given").expect("check"), "none matches nobody");
    }
}
