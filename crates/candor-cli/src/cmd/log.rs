//! `candor log` and `candor audit`: sign checkpoints of the transparency log, and check the store
//! against its log.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;

use candor_log::{Checkpoint, SignedCheckpoint, Verifier, Witness};
use candor_store::Store;

use crate::bureau::{log_signer, now_ms};
use crate::io::write_atomically;

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
    /// Print the public key that verifies the bureau's checkpoints, as a C2SP signed-note verifier
    /// key (`<name>+<key id>+<base64 key>`).
    PublicKey {
        #[arg(long, default_value = "candor.db")]
        db: String,
        #[arg(long, default_value = DEFAULT_ORIGIN)]
        origin: String,
    },
    /// For a witness (the ombudsman): make its signing key in a file of its own if there is none,
    /// and print the public key to register with the bureau (PUT /v1/log/witness-key).
    WitnessKey {
        /// The witness's key file (64 hex characters); made if missing. Keep it away from the bureau.
        #[arg(long)]
        key_file: PathBuf,
    },
    /// For a witness: countersign a checkpoint of the bureau's, only if the bureau signed it and
    /// it extends the last checkpoint this witness countersigned (shown by --proof). Prints the
    /// cosigned note; remembers it in --state.
    Cosign {
        #[arg(long)]
        key_file: PathBuf,
        /// The witness's name in its signature lines.
        #[arg(long)]
        name: String,
        /// The bureau's checkpoint key, as `candor log public-key` prints it (a C2SP verifier key;
        /// 64 hex characters also do).
        #[arg(long)]
        log_public_key: String,
        #[arg(long, default_value = DEFAULT_ORIGIN)]
        origin: String,
        /// The signed note, as GET /v1/log/checkpoint gives it.
        #[arg(long)]
        checkpoint: PathBuf,
        /// Where this witness keeps the last checkpoint it countersigned.
        #[arg(long)]
        state: PathBuf,
        /// The consistency proof from the last countersigned size to this one, as
        /// GET /v1/log/consistency gives it (JSON); not needed the first time.
        #[arg(long)]
        proof: Option<PathBuf>,
    },
}

#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Recompute the log from the store; report every row altered, added or removed, and every
    /// checkpoint that does not match.
    Verify {
        #[arg(long, default_value = "candor.db")]
        db: String,
        /// The bureau's checkpoint key, as `candor log public-key` prints it (or in hex); default: the
        /// store's own key.
        #[arg(long)]
        public_key: Option<String>,
        #[arg(long, default_value = DEFAULT_ORIGIN)]
        origin: String,
        /// A signed checkpoint kept outside the store (the bureau's `<db>.checkpoint`, which is
        /// read by default, or a witness's state file): the store must still hold that log.
        #[arg(long)]
        checkpoint: Vec<PathBuf>,
    },
}

pub fn run_log(command: LogCommand) -> Result<()> {
    match command {
        LogCommand::Checkpoint { db, origin } => {
            crate::bureau::existing_store(&db)?;
            let signer = log_signer(&db, &origin, &crate::config::KeyConfig::from_env())?;
            let mut store = Store::open(&db).with_context(|| format!("{db}: cannot open the store"))?;
            let tree = store.log_tree()?;
            let checkpoint = Checkpoint { origin, size: tree.size(), root: tree.root() };
            let mut signed = SignedCheckpoint { checkpoint, signatures: vec![] };
            signed.sign(&signer);
            let text = signed.to_text();
            store.put_checkpoint(signed.checkpoint.size, now_ms(), &text)?;
            if let Some(path) = crate::bureau::checkpoint_file(&db) {
                candor_server::keep_checkpoint(&path, &text).with_context(|| format!("{}", path.display()))?;
            }
            print!("{text}");
            Ok(())
        }
        LogCommand::PublicKey { db, origin } => {
            crate::bureau::existing_store(&db)?;
            println!("{}", log_signer(&db, &origin, &crate::config::KeyConfig::from_env())?.verifier().to_vkey());
            Ok(())
        }
        LogCommand::WitnessKey { key_file } => {
            if !key_file.exists() {
                let mut seed = [0u8; 32];
                getrandom::getrandom(&mut seed)
                    .map_err(|e| anyhow::anyhow!("no randomness from the operating system: {e}"))?;
                // Readable by its owner only, from the moment it exists.
                crate::bureau::write_private(&key_file, &format!("{}\n", hex::encode(seed)))?;
                eprintln!("made a witness key in {}", key_file.display());
            }
            println!("{}", witness_signer(&key_file, "witness")?.verifier().to_hex());
            Ok(())
        }
        LogCommand::Cosign { key_file, name, log_public_key, origin, checkpoint, state, proof } => {
            let signer = witness_signer(&key_file, &name)?;
            let log =
                Verifier::parse(&origin, &log_public_key).map_err(|e| anyhow::anyhow!("--log-public-key: {e}"))?;
            let read = |path: &PathBuf| {
                std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))
            };
            let last = if state.exists() {
                let text = read(&state)?;
                Some(
                    SignedCheckpoint::parse(&text)
                        .with_context(|| format!("{}: not a checkpoint", state.display()))?
                        .checkpoint,
                )
            } else {
                None
            };
            let mut signed = SignedCheckpoint::parse(&read(&checkpoint)?)
                .with_context(|| format!("{}: not a signed checkpoint", checkpoint.display()))?;
            let hashes = match &proof {
                None => Vec::new(),
                Some(path) => proof_hashes(&read(path)?)
                    .with_context(|| format!("{}: not a consistency proof", path.display()))?,
            };
            let mut witness = Witness::resume(signer, log, last);
            witness
                .cosign(&mut signed, &hashes, u64::try_from(now_ms() / 1000).unwrap_or(0))
                .map_err(|e| anyhow::anyhow!("{}: refused: {e}", checkpoint.display()))?;
            let text = signed.to_text();
            write_atomically(&state, |w| Ok(w.write_all(text.as_bytes())?))?;
            print!("{text}");
            Ok(())
        }
    }
}

/// A witness's signing key from its file.
fn witness_signer(path: &std::path::Path, name: &str) -> Result<candor_log::Signer> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("{}: cannot read the witness key", path.display()))?;
    let mut seed = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut seed)
        .map_err(|_| anyhow::anyhow!("{}: a witness key is 64 hex characters", path.display()))?;
    candor_log::Signer::from_seed(name, seed).map_err(|e| anyhow::anyhow!("--name: {e}"))
}

/// The hashes of a consistency proof in the service's JSON (`{"proof": ["hex", ...]}`).
fn proof_hashes(text: &str) -> Result<Vec<candor_log::Hash>> {
    let value: serde_json::Value = serde_json::from_str(text)?;
    let list = value["proof"].as_array().ok_or_else(|| anyhow::anyhow!("no \"proof\" list"))?;
    list.iter()
        .map(|h| {
            let mut hash = [0u8; 32];
            hex::decode_to_slice(h.as_str().unwrap_or(""), &mut hash)
                .map_err(|_| anyhow::anyhow!("a hash is 64 hex characters"))?;
            Ok(hash)
        })
        .collect()
}

pub fn run_audit(command: AuditCommand) -> Result<()> {
    let AuditCommand::Verify { db, public_key, origin, checkpoint } = command;
    crate::bureau::existing_store(&db)?;
    let verifier = match public_key {
        Some(key) => Verifier::parse(&origin, &key).map_err(|e| anyhow::anyhow!("--public-key: {e}"))?,
        None => log_signer(&db, &origin, &crate::config::KeyConfig::from_env())?.verifier(),
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
    let mut kept = checkpoint;
    kept.extend(crate::bureau::checkpoint_file(&db).filter(|p| p.exists()));
    for path in &kept {
        let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
        if let Err(why) = candor_bureau::log_view::holds_kept(&tree, &verifier, &text) {
            problems.push(format!("{}: {why}", path.display()));
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
