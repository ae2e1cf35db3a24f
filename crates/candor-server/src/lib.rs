//! The bureau service: what lenders, merchants, furnishers, courts, people and the overseers talk
//! to. [`app`] builds the router over a [`State`], so tests drive it without a socket; [`serve`]
//! runs it on a listener until shut down.
//!
//! Every route declares who may call it in [`ROUTES`]; the OpenAPI document and the
//! route × role test are generated from that one table. Reads of a person's file, refused reads,
//! consent changes and model deployments are leaves of the transparency log, about the person
//! where there is one. No log line carries an identifier, a name, a key or a token.

mod error;
pub mod guard;
pub mod listener;
pub mod pages;
mod pool;
mod routes;
pub mod settings;
mod wire;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};

use candor_bureau::{Deployed, Now, Rules};
use candor_file::ids::SubjectKey;
use candor_file::model::{OrgKind, Organisation};
use candor_file::secret::Keys;
use candor_file::stats::RegionCounts;
use candor_store::Store;

pub use error::{ApiError, CODES};
pub use pool::{Conn, Lost, StorePool};
pub use routes::{app, openapi_document, Role, ANONYMOUS_BODY_BYTES, LOG_ORIGIN, ROUTES};
pub use settings::Settings;

/// Request counts for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    pub requests: AtomicU64,
    pub scores: AtomicU64,
    pub refused_reads: AtomicU64,
    pub batches: AtomicU64,
    pub errors: AtomicU64,
}

/// A long walk takes a connection of the pool per chunk and gives it back between chunks.
impl candor_bureau::gate::Stores for &StorePool {
    fn with<T>(&mut self, work: impl FnOnce(&mut Store) -> candor_bureau::Result<T>) -> candor_bureau::Result<T> {
        let mut store = self
            .lock()
            .map_err(|_| candor_store::StoreError::Corrupt("a store connection was lost to a panic".into()))?;
        work(&mut store)
    }
}

/// Threads the server runs store work and hashing on, at most: a store has at most 64
/// connections, so more threads would only wait for one.
pub const MAX_BLOCKING_THREADS: usize = 64;

/// Passphrases hashed at once, at most (about 19 MiB each).
pub const HASHING_AT_ONCE: usize = 4;
/// Sign-ins and enrolments waiting for a hashing thread, at most; past it, `busy`.
pub const HASHING_QUEUE: usize = 64;

/// Everything the handlers share.
pub struct State {
    pub config: Settings,
    pub store: StorePool,
    pub keys: Keys,
    pub model: Mutex<Option<Arc<Deployed>>>,
    /// Session token hash → (subject, expiry in ms since 1970).
    pub sessions: Mutex<HashMap<[u8; 32], (SubjectKey, i64)>>,
    /// The console's sessions: token hash → (member of staff, expiry in ms since 1970).
    pub staff_sessions: Mutex<HashMap<[u8; 32], (String, i64)>>,
    /// Scoring stopped by the operator.
    pub suspended: AtomicBool,
    pub metrics: Metrics,
    /// Requests per key in the current minute: (minute, count).
    pub rates: Mutex<HashMap<[u8; 32], (i64, u32)>>,
    /// Failed sign-ins and enrolments, by identifier and by address.
    pub throttle: guard::Throttle,
    /// The threads passphrases are hashed on: argon2 takes 19 MiB and tens of milliseconds each.
    pub hashing: guard::Hashers,
    /// The regional counts as last computed, and when: statistics are served from these.
    pub statistics: Mutex<Option<(i64, Arc<RegionCounts>)>>,
    /// Held while the counts are computed, so callers wait for one walk rather than start many.
    pub counting: tokio::sync::Mutex<()>,
    /// The clock, replaceable in tests: milliseconds since 1970.
    pub clock: Box<dyn Fn() -> i64 + Send + Sync>,
    /// The bureau's checkpoint key; without it no checkpoints are issued.
    pub log_signer: Option<candor_log::Signer>,
    /// The transparency log's tree as last read: each use reads only the leaves logged since.
    pub tree: Mutex<candor_log::Tree>,
    /// The log's group commit, which reads' leaves go through when present (`candor serve`
    /// starts one on a connection of its own); without it each read commits its own leaf.
    pub log_writer: Option<candor_store::GroupLog>,
    /// The perks map, built from the store on first use and after every change to it.
    pub perks: Mutex<Option<Arc<routes::PerksMap>>>,
}

impl State {
    /// The service's state over `store`; scoring starts suspended if the operator's last switch
    /// suspended it, before a restart or not.
    pub fn new(config: Settings, mut store: Store, keys: Keys) -> Result<State, candor_store::StoreError> {
        let suspended = store.scoring_suspended()?;
        Ok(State {
            config,
            store: StorePool::new(store),
            keys,
            model: Mutex::new(None),
            sessions: Mutex::new(HashMap::new()),
            staff_sessions: Mutex::new(HashMap::new()),
            suspended: AtomicBool::new(suspended),
            metrics: Metrics::default(),
            rates: Mutex::new(HashMap::new()),
            throttle: guard::Throttle::default(),
            statistics: Mutex::new(None),
            counting: tokio::sync::Mutex::new(()),
            hashing: guard::Hashers::new(HASHING_AT_ONCE, HASHING_QUEUE),
            clock: Box::new(|| (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64),
            log_signer: None,
            log_writer: None,
            perks: Mutex::new(None),
            tree: Mutex::new(candor_log::Tree::new()),
        })
    }

    pub fn now_ms(&self) -> i64 {
        (self.clock)()
    }

    /// The moment a request runs at, for the bureau's workflows.
    pub fn now(&self) -> Now {
        Now::at_ms(self.now_ms())
    }

    pub fn today(&self) -> time::Date {
        self.now().today
    }

    /// The bureau's rules as configured.
    pub fn rules(&self) -> Rules {
        Rules {
            dispute_days: self.config.dispute_days,
            activation_days: self.config.activation_days,
            cooling_off_days: self.config.cooling_off_days,
            max_consent_days: self.config.max_consent_days,
            ..Rules::default()
        }
    }

    /// The model serving now, if any.
    pub fn deployed(&self) -> Result<Option<Arc<Deployed>>, ApiError> {
        Ok(self.model.lock().map_err(|_| ApiError::internal())?.clone())
    }

    /// Deploys a model document through the bureau's checks, keeps and logs it, and serves it;
    /// its version.
    pub fn deploy_with(&self, store: &mut Store, document: &str) -> Result<String, ApiError> {
        let deployed = candor_bureau::score::deploy(store, self.now(), document)?;
        let version = deployed.version.clone();
        *self.model.lock().map_err(|_| ApiError::internal())? = Some(Arc::new(deployed));
        Ok(version)
    }

    /// [`State::deploy_with`] on a connection of the pool.
    pub fn deploy_recorded(&self, document: &str) -> Result<String, ApiError> {
        let mut store = self.store.lock().map_err(|_| ApiError::internal())?;
        self.deploy_with(&mut store, document)
    }

    /// Serves the model deployed last, as the store remembers it; its version, or `None`.
    pub fn restore_model(&self) -> Result<Option<String>, ApiError> {
        let restored = candor_bureau::score::restore(&mut *self.store.lock().map_err(|_| ApiError::internal())?)?;
        let version = restored.as_ref().map(|d| d.version.clone());
        *self.model.lock().map_err(|_| ApiError::internal())? = restored.map(Arc::new);
        Ok(version)
    }
}

/// Records the suppression of disputed records nobody verified in time (see
/// [`candor_bureau::dispute::sweep_overdue`]); how many.
pub fn sweep_overdue(state: &State) -> Result<usize, ApiError> {
    let deployed = state.deployed()?;
    let mut store = state.store.lock().map_err(|_| ApiError::internal())?;
    Ok(candor_bureau::dispute::sweep_overdue(&mut store, &state.rules(), state.now(), deployed.as_deref())?)
}

/// Keeps a signed checkpoint in a file outside the store, replacing one of a smaller size: what
/// an audit holds the store to, so that a store rolled back (a restored backup, a lost write-ahead
/// log) cannot pass for the log the bureau signed. Written to a temporary file and renamed.
pub fn keep_checkpoint(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let size_of = |t: &str| candor_log::SignedCheckpoint::parse(t).map(|c| c.checkpoint.size).ok();
    let kept = std::fs::read_to_string(path).ok().as_deref().and_then(size_of);
    if kept.is_some_and(|kept| size_of(text).is_none_or(|new| new < kept)) {
        return Ok(());
    }
    let tmp = path.with_extension("checkpoint.tmp");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// How often the server signs the log's checkpoint, when it grew, into the file kept outside the
/// store: a store that loses writes (a deleted write-ahead log, a restored backup) is caught at
/// the next start unless it lost less than this much of the most recent work.
pub const KEEP_CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Signs the log into the kept checkpoint file if it grew past `kept` leaves; the size kept.
pub fn keep_if_grown(state: &State, kept: u64) -> Result<u64, ApiError> {
    let (Some(signer), Some(path)) = (state.log_signer.as_ref(), state.config.checkpoint_file.as_ref()) else {
        return Ok(kept);
    };
    let mut store = state.store.lock().map_err(|_| ApiError::internal())?;
    let mut tree = state.tree.lock().map_err(|_| ApiError::internal())?;
    match candor_bureau::log_view::sign_if_grown(&mut store, &mut tree, signer, kept)? {
        None => Ok(kept),
        Some((size, text)) => {
            keep_checkpoint(path, &text).map_err(|e| {
                tracing::error!(error = %e, "cannot keep the checkpoint outside the store");
                ApiError::internal()
            })?;
            Ok(size)
        }
    }
}

/// Whether the store still holds the log the kept checkpoint file says the bureau signed (see
/// [`candor_bureau::log_view::holds_kept`]); the reason when it does not.
pub fn check_kept_checkpoint(state: &State) -> Result<(), String> {
    let (Some(signer), Some(path)) = (state.log_signer.as_ref(), state.config.checkpoint_file.as_ref()) else {
        return Ok(());
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
    };
    let mut store = state.store.lock().map_err(|_| "the store's lock".to_owned())?;
    let mut tree = state.tree.lock().map_err(|_| "the log's lock".to_owned())?;
    store.extend_log_tree(&mut tree).map_err(|e| e.to_string())?;
    candor_bureau::log_view::holds_kept(&tree, &signer.verifier(), &text).map_err(|why| {
        format!(
            "{why} (kept in {}): the store lost writes or was restored from an older copy; restore the store it came from, or move that file aside to accept the loss",
            path.display()
        )
    })
}

/// How often the server counts the regional statistics again.
pub const STATISTICS_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Counts the regional statistics again (a walk of the whole file, a chunk of subjects per store
/// connection at a time) and keeps the result for callers; when they were counted.
pub async fn refresh_statistics(state: &Arc<State>) -> Result<i64, ApiError> {
    let _one_walk = state.counting.lock().await;
    count_statistics(state).await
}

/// The counts callers are served: the last ones, or — on a server that has not counted yet —
/// one walk, which every caller arriving meanwhile waits for instead of starting its own.
pub async fn current_statistics(state: &Arc<State>) -> Result<(i64, Arc<RegionCounts>), ApiError> {
    if let Some(kept) = state.statistics.lock().map_err(|_| ApiError::internal())?.clone() {
        return Ok(kept);
    }
    let _one_walk = state.counting.lock().await;
    if let Some(kept) = state.statistics.lock().map_err(|_| ApiError::internal())?.clone() {
        return Ok(kept);
    }
    count_statistics(state).await?;
    state.statistics.lock().map_err(|_| ApiError::internal())?.clone().ok_or_else(ApiError::internal)
}

/// Walks the file for the regional counts and keeps them; when they were counted. The caller
/// holds [`State::counting`].
async fn count_statistics(state: &Arc<State>) -> Result<i64, ApiError> {
    let s = state.clone();
    let (at, counts) = tokio::task::spawn_blocking(move || {
        let now = s.now();
        let counts = candor_bureau::stats::regional_counts(&mut &s.store, &s.rules(), now)?;
        Ok::<_, ApiError>((now.ms, counts))
    })
    .await
    .map_err(|_| ApiError::internal())??;
    *state.statistics.lock().map_err(|_| ApiError::internal())? = Some((at, Arc::new(counts)));
    Ok(at)
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
                match tokio::task::spawn_blocking(move || sweep_overdue(&s)).await {
                    Ok(Ok(0)) => {}
                    Ok(Ok(n)) => tracing::info!(suppressed = n, "disputed records past their deadline suppressed"),
                    Ok(Err(e)) => tracing::warn!(code = e.code, "dispute sweep failed"),
                    Err(_) => tracing::warn!("dispute sweep stopped"),
                }
            }
        })
    };
    let counter = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(STATISTICS_EVERY);
            loop {
                every.tick().await;
                if let Err(e) = refresh_statistics(&state).await {
                    tracing::warn!(code = e.code, "counting the regional statistics failed");
                }
            }
        })
    };
    let keeper = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(KEEP_CHECKPOINT_EVERY);
            let mut kept = 0;
            loop {
                every.tick().await;
                let s = state.clone();
                match tokio::task::spawn_blocking(move || keep_if_grown(&s, kept)).await {
                    Ok(Ok(size)) => kept = size,
                    Ok(Err(e)) => tracing::warn!(code = e.code, "keeping the checkpoint failed"),
                    Err(_) => tracing::warn!("keeping the checkpoint stopped"),
                }
            }
        })
    };
    let bounded = listener::Bounded::new(listener, state.config.connections);
    let app = app(state.clone()).into_make_service_with_connect_info::<listener::Peer>();
    let served = axum::serve(bounded, app).with_graceful_shutdown(shutdown).await;
    sweeper.abort();
    counter.abort();
    keeper.abort();
    // What was answered before the stop is in the kept checkpoint too.
    let _ = tokio::task::spawn_blocking(move || keep_if_grown(&state, 0)).await;
    served
}
