//! The log as its readers see it: inclusion proofs (a person only for leaves about them),
//! checkpoints the bureau signs, consistency proofs, and the witness's cosignatures — each
//! checked to be the bureau's, of this log's history, and signed by the witness's registered key.
//!
//! The tree is the caller's to keep between calls (it grows by the leaves logged since);
//! every function first brings it up to date.

use candor_file::ids::SubjectKey;
use candor_file::model::OrgId;
use candor_log::{Checkpoint, Hash, SignedCheckpoint, Signer, Tree, Verifier};
use candor_store::Store;

use crate::{BureauError, Now, Result};

/// The log's name in its checkpoints.
pub const LOG_ORIGIN: &str = "candor.local/log";

/// A leaf with the proof that the log of `size` leaves, whose root is `root`, holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inclusion {
    pub index: i64,
    pub size: u64,
    pub root: Hash,
    pub leaf_hash: Hash,
    /// The leaf's body, the bytes its hash commits to.
    pub body: String,
    pub proof: Vec<Hash>,
}

/// An inclusion proof for leaf `index` in the log of `size` leaves (default: the log now), so a
/// client ties it to a checkpoint it already holds; for a person (`about`), only of a leaf about
/// them (any other is as absent as a missing one).
pub fn inclusion(
    store: &mut Store,
    tree: &mut Tree,
    index: i64,
    size: Option<u64>,
    about: Option<&SubjectKey>,
) -> Result<Inclusion> {
    let body = match about {
        Some(key) => store.leaf_about(index, key)?.ok_or(BureauError::not_found("log entry about you"))?,
        None => store.log_leaf(index)?.ok_or(BureauError::not_found("log entry"))?,
    };
    store.extend_log_tree(tree)?;
    let i = u64::try_from(index).map_err(|_| BureauError::not_found("log entry"))?;
    let size = size.unwrap_or(tree.size());
    if size <= i || size > tree.size() {
        return Err(BureauError::invalid(
            "bad_size",
            "size",
            format!("a proof for entry {i} is at a size from {} to {}, the log's size now", i + 1, tree.size()),
        ));
    }
    let proof = tree.inclusion_proof(i, size).map_err(|_| BureauError::not_found("log entry"))?;
    let root = tree.root_at(size).map_err(|_| BureauError::not_found("log entry"))?;
    let leaf_hash = tree.leaf(i).ok_or(BureauError::not_found("log entry"))?;
    Ok(Inclusion { index, size, root, leaf_hash, body, proof })
}

/// A leaf about the person with its proof, checked the way a client checks it: against the
/// checkpoint the bureau signs now, whose signature is verified with the bureau's key, and the
/// leaf's hash recomputed from its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub inclusion: Inclusion,
    /// The signed note of the checkpoint the proof is checked against.
    pub checkpoint: String,
    /// Whether everything checks: signature, leaf hash, path to the root.
    pub verified: bool,
}

/// Leaf `index` about the person, with its inclusion proof checked against the latest checkpoint.
pub fn checked_inclusion(
    store: &mut Store,
    tree: &mut Tree,
    signer: &Signer,
    now: Now,
    index: i64,
    about: &SubjectKey,
) -> Result<Checked> {
    let mut one = checked_inclusions(store, tree, signer, now, &[index], about)?;
    one.pop().ok_or_else(|| BureauError::corrupt("a proof asked for was not made"))
}

/// Leaves about the person, each with its inclusion proof checked against one checkpoint the
/// bureau signs now (signed and kept once, however many leaves).
pub fn checked_inclusions(
    store: &mut Store,
    tree: &mut Tree,
    signer: &Signer,
    now: Now,
    indexes: &[i64],
    about: &SubjectKey,
) -> Result<Vec<Checked>> {
    let checkpoint = self::checkpoint(store, tree, signer, now)?;
    let signed = candor_log::SignedCheckpoint::parse(&checkpoint).map_err(BureauError::corrupt)?;
    let signature_holds = signed.check(&signer.verifier()).is_ok();
    let (size, root) = (signed.checkpoint.size, signed.checkpoint.root);
    indexes
        .iter()
        .map(|&index| {
            let inclusion = inclusion(store, tree, index, Some(size), Some(about))?;
            let hash_holds = candor_log::leaf_hash(inclusion.body.as_bytes()) == inclusion.leaf_hash;
            let path_holds = u64::try_from(index).is_ok_and(|i| {
                candor_log::verify_inclusion(&inclusion.leaf_hash, i, size, &inclusion.proof, &root).is_ok()
            });
            Ok(Checked {
                inclusion,
                checkpoint: checkpoint.clone(),
                verified: signature_holds && hash_holds && path_holds,
            })
        })
        .collect()
}

/// The log's size and root now, signed by the bureau, kept for the auditors; its signed note.
pub fn checkpoint(store: &mut Store, tree: &mut Tree, signer: &Signer, now: Now) -> Result<String> {
    store.extend_log_tree(tree)?;
    let text = sign(tree, signer);
    store.put_checkpoint(tree.size(), now.ms, &text)?;
    Ok(text)
}

/// The signed note of the tree's size and root.
fn sign(tree: &Tree, signer: &Signer) -> String {
    let checkpoint = Checkpoint { origin: LOG_ORIGIN.into(), size: tree.size(), root: tree.root() };
    let mut signed = SignedCheckpoint { checkpoint, signatures: vec![] };
    signed.sign(signer);
    signed.to_text()
}

/// Whether the log still holds what a checkpoint kept outside the store says it held: signed by
/// `bureau`, and the tree has that root at that size. A store restored from a backup, or one
/// that lost its write-ahead log, holds fewer leaves or other ones, and fails here; the message
/// says which.
pub fn holds_kept(tree: &Tree, bureau: &Verifier, text: &str) -> std::result::Result<(), String> {
    let kept = SignedCheckpoint::parse(text).map_err(|e| format!("not a checkpoint: {e}"))?;
    kept.check(bureau).map_err(|e| format!("not a checkpoint this log signed: {e}"))?;
    match tree.root_at(kept.checkpoint.size) {
        Ok(root) if root == kept.checkpoint.root => Ok(()),
        Ok(_) => Err(format!(
            "the log's first {} leaves are not the ones the bureau signed: its history was rewritten",
            kept.checkpoint.size
        )),
        Err(_) => Err(format!(
            "the store has rolled back behind the checkpoint the bureau signed at size {}: it holds {} leaves",
            kept.checkpoint.size,
            tree.size()
        )),
    }
}

/// A checkpoint of the log now, signed, if it grew past `kept_size` (not stored: for the copy
/// the service keeps outside the store): its size and note, or `None`.
pub fn sign_if_grown(
    store: &mut Store,
    tree: &mut Tree,
    signer: &Signer,
    kept_size: u64,
) -> Result<Option<(u64, String)>> {
    store.extend_log_tree(tree)?;
    Ok((tree.size() > kept_size).then(|| (tree.size(), sign(tree, signer))))
}

/// A proof that the log at `from` leaves is a prefix of the log at `to`.
pub fn consistency(store: &mut Store, tree: &mut Tree, from: u64, to: u64) -> Result<Vec<Hash>> {
    store.extend_log_tree(tree)?;
    tree.consistency_proof(from, to).map_err(|e| BureauError::Invalid {
        code: "bad_sizes",
        field: None,
        message: e.to_string(),
    })
}

/// Registers (a new version of) a witness's key: its name and Ed25519 public key (hex, or a
/// C2SP verifier key under that name).
pub fn register_witness(store: &mut Store, now: Now, org: &OrgId, name: &str, public_key: &str) -> Result<()> {
    let verifier = Verifier::parse(name, public_key).map_err(|e| {
        let field = if e == candor_log::CheckpointError::BadName { "name" } else { "public_key" };
        BureauError::invalid("bad_witness_key", field, e.to_string())
    })?;
    if verifier.name == LOG_ORIGIN {
        return Err(BureauError::invalid(
            "bad_witness_key",
            "name",
            "a witness signs under its own name, not the log's",
        ));
    }
    Ok(store.put_witness_key(org, &verifier.name, &verifier.to_hex(), now.ms)?)
}

/// Keeps a checkpoint the witness `org` countersigned: the bureau's (`bureau` verifies it), of
/// this log's history, with a valid signature by the witness's registered key; its size.
pub fn cosign(store: &mut Store, tree: &mut Tree, now: Now, org: &OrgId, bureau: &Verifier, text: &str) -> Result<u64> {
    let signed = SignedCheckpoint::parse(text).map_err(|e| BureauError::Invalid {
        code: "bad_checkpoint",
        field: None,
        message: e.to_string(),
    })?;
    if signed.checkpoint.origin != LOG_ORIGIN || signed.check(bureau).is_err() {
        return Err(BureauError::Invalid {
            code: "not_our_checkpoint",
            field: None,
            message: "the note carries no valid signature of this log".into(),
        });
    }
    let (name, key) = store
        .witness_key(org)?
        .ok_or_else(|| BureauError::conflict("no_witness_key", "register your witness key first"))?;
    let witness = Verifier::from_hex(&name, &key).map_err(BureauError::corrupt)?;
    if signed.check(&witness).is_err() {
        return Err(BureauError::Invalid {
            code: "not_cosigned",
            field: None,
            message: format!("the note carries no valid signature by `{name}`"),
        });
    }
    store.extend_log_tree(tree)?;
    let size = signed.checkpoint.size;
    if tree.root_at(size).ok() != Some(signed.checkpoint.root) {
        return Err(BureauError::conflict("not_in_history", "the log has no such root at that size"));
    }
    store.put_cosignature(size, org, text, now.ms)?;
    Ok(size)
}

/// The largest checkpoint a witness countersigned, as its note.
pub fn latest_cosigned(store: &mut Store) -> Result<String> {
    store.latest_cosigned()?.ok_or(BureauError::not_found("countersigned checkpoint"))
}
