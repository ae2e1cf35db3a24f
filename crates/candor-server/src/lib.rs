//! The bureau service: what lenders, merchants, furnishers, courts, people and the overseers talk
//! to. [`app`] builds the router over a [`State`], so tests drive it without a socket; [`serve`]
//! runs it on a listener until shut down.
//!
//! Every route declares who may call it in [`ROUTES`]; the OpenAPI document and the
//! route × role test are generated from that one table. Reads of a person's file, refused reads,
//! consent changes and model deployments are leaves of the transparency log, about the person
//! where there is one. No log line carries an identifier, a name, a key or a token.

pub mod config;
mod error;
mod routes;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LockResult, Mutex, MutexGuard, TryLockError};

use candor_file::ids::SubjectKey;
use candor_file::model::{OrgKind, Organisation};
use candor_file::secret::Keys;
use candor_scorecard::Scorer;
use candor_store::Store;

pub use config::Config;
pub use error::ApiError;
pub use routes::{app, sweep_overdue, Role, LOG_ORIGIN, ROUTES};

/// A deployed model and its version (the SHA-256 of its document).
pub struct Deployed {
    pub version: String,
    pub scorer: Scorer,
}

/// Request counts for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    pub requests: AtomicU64,
    pub scores: AtomicU64,
    pub refused_reads: AtomicU64,
    pub batches: AtomicU64,
    pub errors: AtomicU64,
}

/// The store's connections. A handler takes whichever is free, so requests on PostgreSQL run in
/// parallel; SQLite has one writer, and one connection serves it best.
pub struct StorePool {
    conns: Vec<Mutex<Store>>,
    next: AtomicUsize,
}

impl StorePool {
    pub fn new(first: Store) -> StorePool {
        StorePool { conns: vec![Mutex::new(first)], next: AtomicUsize::new(0) }
    }

    pub fn add(&mut self, store: Store) {
        self.conns.push(Mutex::new(store));
    }

    /// A free connection, or (all busy) the next in turn when it is released.
    pub fn lock(&self) -> LockResult<MutexGuard<'_, Store>> {
        let n = self.conns.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        for k in 0..n {
            match self.conns[(start + k) % n].try_lock() {
                Ok(guard) => return Ok(guard),
                Err(TryLockError::Poisoned(p)) => return Err(p),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        self.conns[start].lock()
    }
}

/// Everything the handlers share.
pub struct State {
    pub config: Config,
    pub store: StorePool,
    pub keys: Keys,
    pub model: Mutex<Option<Arc<Deployed>>>,
    /// Session token hash → (subject, expiry in ms since 1970).
    pub sessions: Mutex<HashMap<[u8; 32], (SubjectKey, i64)>>,
    /// Scoring stopped by the operator.
    pub suspended: AtomicBool,
    pub metrics: Metrics,
    /// Requests per key in the current minute: (minute, count).
    pub rates: Mutex<HashMap<[u8; 32], (i64, u32)>>,
    /// The clock, replaceable in tests: milliseconds since 1970.
    pub clock: Box<dyn Fn() -> i64 + Send + Sync>,
    /// The bureau's checkpoint key; without it no checkpoints are issued.
    pub log_signer: Option<candor_log::Signer>,
    /// The transparency log's tree as last read: each use reads only the leaves logged since.
    pub tree: Mutex<candor_log::Tree>,
    /// The perks map, built from the store on first use and after every change to it.
    pub perks: Mutex<Option<Arc<routes::PerksMap>>>,
}

impl State {
    pub fn new(config: Config, store: Store, keys: Keys) -> State {
        State {
            config,
            store: StorePool::new(store),
            keys,
            model: Mutex::new(None),
            sessions: Mutex::new(HashMap::new()),
            suspended: AtomicBool::new(false),
            metrics: Metrics::default(),
            rates: Mutex::new(HashMap::new()),
            clock: Box::new(|| (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64),
            log_signer: None,
            perks: Mutex::new(None),
            tree: Mutex::new(candor_log::Tree::new()),
        }
    }

    pub fn now_ms(&self) -> i64 {
        (self.clock)()
    }

    pub fn today(&self) -> time::Date {
        time::OffsetDateTime::from_unix_timestamp(self.now_ms() / 1000).map_or(time::Date::MIN, |t| t.date())
    }

    /// Deploys a model document; the version is its digest.
    pub fn deploy(&self, document: &str) -> Result<String, ApiError> {
        let model: candor_scorecard::Model = serde_json::from_str(document)
            .map_err(|e| ApiError::bad_request("bad_model", format!("not a model document: {e}")))?;
        let scorer = Scorer::new(model).map_err(|e| ApiError::bad_request("bad_model", e.to_string()))?;
        use sha2::Digest;
        let version = hex::encode(sha2::Sha256::digest(document.as_bytes()));
        *self.model.lock().map_err(|_| ApiError::internal())? =
            Some(Arc::new(Deployed { version: version.clone(), scorer }));
        Ok(version)
    }
}

impl State {
    /// Deploys a model document and, unless it is already the current one, keeps it in the
    /// store (the earlier versions stay, for replay) and logs the deployment.
    pub fn deploy_recorded(&self, document: &str) -> Result<String, ApiError> {
        let version = self.deploy(document)?;
        let now = self.now_ms();
        let mut store = self.store.lock().map_err(|_| ApiError::internal())?;
        if store.current_model()?.map(|(v, _)| v).as_deref() != Some(version.as_str()) {
            store.deploy_model(&version, document, now)?;
            let body = serde_json::json!({"kind": "model_deployed", "version": version, "recorded_ms": now});
            store.log_event("model_deployed", None, &body, now)?;
        }
        Ok(version)
    }

    /// Serves the model deployed last, as the store remembers it; `None` if there is none.
    pub fn restore_model(&self) -> Result<Option<String>, ApiError> {
        let current = self.store.lock().map_err(|_| ApiError::internal())?.current_model()?;
        current.map(|(_, document)| self.deploy(&document)).transpose()
    }
}

/// A passphrase as stored: argon2id with a fresh salt, in the PHC string form.
pub fn hash_passphrase(passphrase: &str) -> Result<String, ApiError> {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|_| ApiError::internal())?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| ApiError::internal())?;
    Ok(argon2::Argon2::default()
        .hash_password(passphrase.as_bytes(), &salt)
        .map_err(|_| ApiError::internal())?
        .to_string())
}

/// The roles an organisation's kind gives it.
pub fn roles_of(org: &Organisation) -> Vec<Role> {
    let mut roles = Vec::new();
    if org.kind.furnishes() {
        roles.push(Role::Furnisher);
    }
    if org.kind.reads() {
        roles.push(Role::Lender);
    }
    roles.push(match org.kind {
        OrgKind::Court => Role::Court,
        OrgKind::Ombudsman => Role::Ombudsman,
        OrgKind::Auditor => Role::Auditor,
        OrgKind::Operator => Role::Operator,
        _ => return roles,
    });
    roles
}

/// How often the server records the suppression of disputed records past their deadline.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Serves until `shutdown` resolves, then lets requests in flight finish. Meanwhile, once a
/// minute, records the suppression of disputed records nobody verified in time.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<State>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let sweeper = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            loop {
                every.tick().await;
                let s = state.clone();
                match tokio::task::spawn_blocking(move || routes::sweep_overdue(&s)).await {
                    Ok(Ok(0)) => {}
                    Ok(Ok(n)) => tracing::info!(suppressed = n, "disputed records past their deadline suppressed"),
                    Ok(Err(e)) => tracing::warn!(code = e.code, "dispute sweep failed"),
                    Err(_) => tracing::warn!("dispute sweep stopped"),
                }
            }
        })
    };
    let served = axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await;
    sweeper.abort();
    served
}
