//! `candor log` and `candor audit`: sign checkpoints of the transparency log, and check the store
//! against its log.

use anyhow::{bail, Context, Result};
use candor_log::{Checkpoint, SignedCheckpoint, Verifier};
use candor_store::Store;

use crate::bureau::{log_signer, now_ms};

/// The log's name in its checkpoints.
const DEFAULT_ORIGIN: &str = "candor.local/log";

#[derive(clap::Subcommand)]
pub enum LogCommand {
    /// Sign the log's current size and root as a checkpoint, keep it, and print it.
    Checkpoint {
        #[arg(long, default_value = "candor.db")]
        db: String,
        #[arg(long, default_value = DEFAULT_ORIGIN)]
        origin: String,
    },
    /// Print the public key that verifies the bureau's checkpoints.
    PublicKey {
        #[arg(long, default_value = "candor.db")]
        db: String,
        #[arg(long, default_value = DEFAULT_ORIGIN)]
        origin: String,
    },
}

#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Recompute the log from the store; report every row altered, added or removed, and every
    /// checkpoint that does not match.
    Verify {
        #[arg(long, default_value = "candor.db")]
        db: String,
        /// The bureau's checkpoint key (hex), as `candor log public-key` prints it; default: the
        /// store's own key.
        #[arg(long)]
        public_key: Option<String>,
        #[arg(long, default_value = DEFAULT_ORIGIN)]
        origin: String,
    },
}

pub fn run_log(command: LogCommand) -> Result<()> {
    match command {
        LogCommand::Checkpoint { db, origin } => {
            let signer = log_signer(&db, &origin)?;
            let mut store = Store::open(&db).with_context(|| format!("{db}: cannot open the store"))?;
            let tree = store.log_tree()?;
            let checkpoint = Checkpoint { origin, size: tree.size(), root: tree.root(), timestamp_ms: now_ms() };
            let mut signed = SignedCheckpoint { checkpoint, signatures: vec![] };
            signed.sign(&signer);
            let text = signed.to_text();
            store.put_checkpoint(signed.checkpoint.size, signed.checkpoint.timestamp_ms, &text)?;
            print!("{text}");
            Ok(())
        }
        LogCommand::PublicKey { db, origin } => {
            println!("{}", log_signer(&db, &origin)?.verifier().to_hex());
            Ok(())
        }
    }
}

pub fn run_audit(command: AuditCommand) -> Result<()> {
    let AuditCommand::Verify { db, public_key, origin } = command;
    let verifier = match public_key {
        Some(hexed) => Verifier::from_hex(&origin, &hexed).map_err(|e| anyhow::anyhow!("--public-key: {e}"))?,
        None => log_signer(&db, &origin)?.verifier(),
    };
    let mut store = Store::open(&db).with_context(|| format!("{db}: cannot open the store"))?;
    let audit = store.audit()?;
    let tree = store.log_tree()?;
    let mut problems = audit.problems.clone();
    let checkpoints = store.checkpoints()?;
    for text in &checkpoints {
        match SignedCheckpoint::parse(text) {
            Err(e) => problems.push(format!("a stored checkpoint does not parse: {e}")),
            Ok(cp) => {
                if let Err(e) = cp.check(&verifier) {
                    problems.push(format!("checkpoint at size {}: {e}", cp.checkpoint.size));
                }
                match tree.root_at(cp.checkpoint.size) {
                    Ok(root) if root == cp.checkpoint.root => {}
                    _ => problems.push(format!(
                        "checkpoint at size {}: the log no longer has that root (its history was rewritten)",
                        cp.checkpoint.size
                    )),
                }
            }
        }
    }
    println!(
        "{} leaves, {} batches, {} checkpoints; root {}",
        audit.leaves,
        audit.batches,
        checkpoints.len(),
        hex::encode(audit.root)
    );
    for p in &problems {
        println!("PROBLEM: {p}");
    }
    if !problems.is_empty() {
        bail!("the store does not match its log: {} problems", problems.len());
    }
    println!("the store matches its log");
    Ok(())
}
