//! `candor serve`: the bureau service on a socket, until Ctrl-C (then requests in flight finish).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use candor_server::State;
use candor_store::Store;

use crate::bureau::keys_from;
use crate::config::Config;

#[derive(clap::Args)]
pub struct Args {
    /// A TOML file (listen, db, model, max_body_bytes, requests_per_minute, session_minutes,
    /// dispute_days, db_connections, and a [keys] table: identity, sealing, log);
    /// `CANDOR_*` variables and the flags below override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080.
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    #[arg(long)]
    db: Option<String>,
    /// A model file from `candor fit` to deploy at start.
    #[arg(long)]
    model: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<()> {
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(db) = args.db {
        config.db = db;
    }
    if let Some(model) = args.model {
        config.model = Some(model);
    }
    // Logs carry routes, statuses and failures, never identifiers, names, keys or tokens.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(std::env::var("CANDOR_LOG").unwrap_or_else(|_| "info".into()))
        .try_init();
    let keys = keys_from(&config.db, &config.keys)?;
    let store = Store::open(&config.db).with_context(|| format!("{}: cannot open the store", config.db))?;
    let postgres = store.is_postgres();
    let mut state = State::new(config.settings(), store, keys)?;
    // On PostgreSQL every connection serves any request. On SQLite one serves the writes (a
    // second writer would only poll for the lock) and the others the reads beside them.
    for _ in 1..config.db_connections.clamp(1, 64) {
        let mut store = Store::open(&config.db).with_context(|| format!("{}: cannot open the store", config.db))?;
        if postgres {
            state.store.add(store);
        } else {
            store.refuse_writes()?;
            state.store.add_reader(store);
        }
    }
    // Reads' leaves are appended by one writer on a connection of its own, many to a commit.
    let writer = Store::open(&config.db).with_context(|| format!("{}: cannot open the store", config.db))?;
    state.log_writer = Some(candor_store::GroupLog::start(writer)?);
    state.log_signer = Some(crate::bureau::log_signer(&config.db, candor_server::LOG_ORIGIN, &config.keys)?);
    candor_server::check_kept_checkpoint(&state).map_err(|why| anyhow::anyhow!("{}: {why}", config.db))?;
    let state = Arc::new(state);
    match &config.model {
        Some(model) => {
            let text = std::fs::read_to_string(model)
                .with_context(|| format!("{}: cannot read the model", model.display()))?;
            let version =
                state.deploy_recorded(&text).map_err(|e| anyhow::anyhow!("{}: {}", model.display(), e.message))?;
            eprintln!("model {} deployed", &version[..12]);
        }
        None => match state.restore_model().map_err(|e| anyhow::anyhow!("the deployed model: {}", e.message))? {
            Some(version) => eprintln!("model {} (deployed before) serving", &version[..12]),
            None => eprintln!("no model deployed yet: scores answer 503 until the operator deploys one"),
        },
    }
    // Store work runs on blocking threads; a bounded pool keeps a flood from spawning hundreds
    // of them (each with its stack and allocator arena): past it, work waits its turn.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(candor_server::MAX_BLOCKING_THREADS)
        .build()
        .context("cannot start the async runtime")?;
    // The state outlives the runtime: its PostgreSQL connections close by blocking, which a
    // runtime's own threads may not do (the client's drop panics there), so the last of it is
    // dropped here, after the runtime and its tasks are gone, whether the server stopped or
    // never started (its address taken).
    let kept = state.clone();
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        eprintln!("candor serving on http://{} (Ctrl-C stops it)", listener.local_addr()?);
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        candor_server::serve(listener, state, shutdown).await.context("the server stopped")
    });
    drop(runtime);
    drop(kept);
    served
}
