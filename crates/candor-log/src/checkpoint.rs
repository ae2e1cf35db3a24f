//! Checkpoints: the log's size and root at a moment, signed by the bureau and countersigned by
//! witnesses (the ombudsman), in the plain-text note form transparency logs use:
//!
//! ```text
//! <origin>
//! <size>
//! <root, hex>
//! <timestamp, ms since 1970>
//!
//! — <signer name> <hex of 4-byte key id and 64-byte Ed25519 signature>
//! ```
//!
//! The timestamp is inside the signed body, so a checkpoint cannot be re-dated. A signature
//! covers the body only; a witness's cosignature is another line over the same body.

pub use ed25519_dalek::VerifyingKey;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _};
use sha2::{Digest, Sha256};

use crate::tree::Hash;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub timestamp_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("not a checkpoint: {0}")]
    Format(&'static str),
    #[error("no valid signature by `{0}`")]
    Unsigned(String),
    #[error("a name must be 1-64 printable characters without spaces")]
    BadName,
    #[error("a public key is 64 hex characters of an Ed25519 key")]
    BadKey,
}

fn good_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_graphic())
}

impl Checkpoint {
    /// The signed text.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n{}\n", self.origin, self.size, hex::encode(self.root), self.timestamp_ms)
    }

    fn parse_body(lines: &[&str]) -> Result<Checkpoint, CheckpointError> {
        let [origin, size, root, timestamp] = lines else {
            return Err(CheckpointError::Format("expected four body lines"));
        };
        let mut hash = [0u8; 32];
        hex::decode_to_slice(root, &mut hash)
            .map_err(|_| CheckpointError::Format("the root is not 64 hex characters"))?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size: size.parse().map_err(|_| CheckpointError::Format("the size is not a whole number"))?,
            root: hash,
            timestamp_ms: timestamp
                .parse()
                .map_err(|_| CheckpointError::Format("the timestamp is not a whole number"))?,
        })
    }
}

/// One signature line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    pub name: String,
    pub key_id: [u8; 4],
    pub bytes: [u8; 64],
}

fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n\x01");
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// A named Ed25519 key that signs checkpoints: the bureau's, or a witness's.
pub struct Signer {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({}, <secret>)", self.name)
    }
}

impl Signer {
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Signer, CheckpointError> {
        if !good_name(name) {
            return Err(CheckpointError::BadName);
        }
        Ok(Signer { name: name.to_owned(), key: SigningKey::from_bytes(&seed) })
    }

    pub fn verifier(&self) -> Verifier {
        Verifier { name: self.name.clone(), key: self.key.verifying_key() }
    }

    pub fn sign(&self, checkpoint: &Checkpoint) -> Signature {
        let key = self.key.verifying_key();
        Signature {
            name: self.name.clone(),
            key_id: key_id(&self.name, &key),
            bytes: self.key.sign(checkpoint.body().as_bytes()).to_bytes(),
        }
    }
}

/// A named public key that checks signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verifier {
    pub name: String,
    pub key: VerifyingKey,
}

impl Verifier {
    /// A named public key from its hex form.
    pub fn from_hex(name: &str, hexed: &str) -> Result<Verifier, CheckpointError> {
        if !good_name(name) {
            return Err(CheckpointError::BadName);
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hexed.trim(), &mut bytes).map_err(|_| CheckpointError::BadKey)?;
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| CheckpointError::BadKey)?;
        Ok(Verifier { name: name.to_owned(), key })
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.key.as_bytes())
    }

    pub fn verify(&self, checkpoint: &Checkpoint, signature: &Signature) -> bool {
        signature.name == self.name
            && signature.key_id == key_id(&self.name, &self.key)
            && self
                .key
                .verify(checkpoint.body().as_bytes(), &ed25519_dalek::Signature::from_bytes(&signature.bytes))
                .is_ok()
    }
}

/// A checkpoint with the signatures it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub signatures: Vec<Signature>,
}

impl SignedCheckpoint {
    pub fn to_text(&self) -> String {
        let mut text = self.checkpoint.body();
        text.push('\n');
        for s in &self.signatures {
            text.push_str(&format!("— {} {}{}\n", s.name, hex::encode(s.key_id), hex::encode(s.bytes)));
        }
        text
    }

    pub fn parse(text: &str) -> Result<SignedCheckpoint, CheckpointError> {
        let (body, sigs) =
            text.split_once("\n\n").ok_or(CheckpointError::Format("no blank line before the signatures"))?;
        let lines: Vec<&str> = body.split('\n').collect();
        let checkpoint = Checkpoint::parse_body(&lines)?;
        let mut signatures = Vec::new();
        for line in sigs.lines().filter(|l| !l.is_empty()) {
            let rest =
                line.strip_prefix("— ").ok_or(CheckpointError::Format("a signature line starts with an em dash"))?;
            let (name, hexed) =
                rest.split_once(' ').ok_or(CheckpointError::Format("a signature line has a name and a signature"))?;
            let mut raw = [0u8; 68];
            hex::decode_to_slice(hexed, &mut raw)
                .map_err(|_| CheckpointError::Format("a signature is 136 hex characters"))?;
            let mut key_id = [0u8; 4];
            key_id.copy_from_slice(&raw[..4]);
            let mut bytes = [0u8; 64];
            bytes.copy_from_slice(&raw[4..]);
            signatures.push(Signature { name: name.to_owned(), key_id, bytes });
        }
        Ok(SignedCheckpoint { checkpoint, signatures })
    }

    /// Adds `signer`'s signature (the bureau's, or a witness's cosignature).
    pub fn sign(&mut self, signer: &Signer) {
        self.signatures.push(signer.sign(&self.checkpoint));
    }

    /// Whether `verifier` signed this very checkpoint.
    pub fn check(&self, verifier: &Verifier) -> Result<(), CheckpointError> {
        if self.signatures.iter().any(|s| verifier.verify(&self.checkpoint, s)) {
            Ok(())
        } else {
            Err(CheckpointError::Unsigned(verifier.name.clone()))
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WitnessError {
    #[error("the checkpoint is not signed by the log: {0}")]
    NotSigned(CheckpointError),
    #[error("the log's history diverges from the checkpoint this witness last cosigned: {0}")]
    SplitView(crate::verify::ProofError),
    #[error("the checkpoint is for another log")]
    OtherLog,
}

/// A witness (the ombudsman): cosigns a checkpoint only if the log signed it and it extends the
/// last checkpoint the witness cosigned, so two diverging views of the log cannot both get a
/// cosignature.
#[derive(Debug)]
pub struct Witness {
    signer: Signer,
    log: Verifier,
    last: Option<Checkpoint>,
}

impl Witness {
    pub fn new(signer: Signer, log: Verifier) -> Witness {
        Witness { signer, log, last: None }
    }

    /// A witness that last cosigned `last` (kept by the witness between runs).
    pub fn resume(signer: Signer, log: Verifier, last: Option<Checkpoint>) -> Witness {
        Witness { signer, log, last }
    }

    /// The last checkpoint this witness cosigned.
    pub fn last(&self) -> Option<&Checkpoint> {
        self.last.as_ref()
    }

    /// Checks `signed` against the last cosigned checkpoint with `proof` (the consistency proof
    /// from it), and cosigns.
    pub fn cosign(&mut self, signed: &mut SignedCheckpoint, proof: &[Hash]) -> Result<(), WitnessError> {
        signed.check(&self.log).map_err(WitnessError::NotSigned)?;
        let new = signed.checkpoint.clone();
        if let Some(last) = &self.last {
            if last.origin != new.origin {
                return Err(WitnessError::OtherLog);
            }
            crate::verify::verify_consistency(last.size, new.size, proof, &last.root, &new.root)
                .map_err(WitnessError::SplitView)?;
        }
        signed.sign(&self.signer);
        self.last = Some(new);
        Ok(())
    }
}
