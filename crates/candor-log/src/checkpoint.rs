//! Checkpoints: the log's size and root at a moment, signed by the bureau and cosigned by
//! witnesses (the ombudsman), in the forms other transparency logs and their clients read:
//! C2SP `signed-note` carrying a C2SP `tlog-checkpoint`, witnesses signing with C2SP
//! `tlog-cosignature` (`cosignature/v1`, which carries the time the witness saw it).
//!
//! ```text
//! <origin>
//! <size>
//! <root, base64>
//!
//! — <log key name> <base64 of 4-byte key id ‖ 64-byte Ed25519 signature>
//! — <witness name> <base64 of 4-byte key id ‖ 8-byte time ‖ 64-byte Ed25519 signature>
//! ```
//!
//! The log signs the body; a cosignature signs `cosignature/v1\ntime <seconds>\n` and the body.
//! A key id is the first four bytes of SHA-256(name ‖ `\n` ‖ type ‖ public key), type 0x01 for a
//! note signature and 0x04 for a cosignature. Public keys travel as verifier keys,
//! `<name>+<key id, hex>+<base64 of 0x01 ‖ public key>`.

use data_encoding::BASE64;
pub use ed25519_dalek::VerifyingKey;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _};
use sha2::{Digest, Sha256};

use crate::tree::Hash;

/// The signature types of C2SP signed-note this log uses.
const ED25519: u8 = 0x01;
const COSIGNATURE_V1: u8 = 0x04;

/// At most this many signature lines are read from a note.
pub const MAX_SIGNATURES: usize = 32;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("not a checkpoint: {0}")]
    Format(&'static str),
    #[error("no valid signature by `{0}`")]
    Unsigned(String),
    #[error("a name must be 1-64 printable characters without spaces or `+`")]
    BadName,
    #[error("a public key is 64 hex characters of an Ed25519 key, or a verifier key `name+id+base64`")]
    BadKey,
}

fn good_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_graphic() && c != '+')
}

impl Checkpoint {
    /// The note text the log signs.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, BASE64.encode(&self.root))
    }

    /// What a witness signs: the cosignature header and the body.
    fn cosigned_message(&self, time_s: u64) -> String {
        format!("cosignature/v1\ntime {time_s}\n{}", self.body())
    }

    fn parse_body(lines: &[&str]) -> Result<Checkpoint, CheckpointError> {
        let [origin, size, root] = lines else {
            return Err(CheckpointError::Format("expected three body lines (this log writes no extension lines)"));
        };
        if origin.is_empty() {
            return Err(CheckpointError::Format("the origin is empty"));
        }
        if size.is_empty() || !size.bytes().all(|b| b.is_ascii_digit()) || (size.len() > 1 && size.starts_with('0')) {
            return Err(CheckpointError::Format("the size is not a decimal number without leading zeros"));
        }
        let decoded =
            BASE64.decode(root.as_bytes()).map_err(|_| CheckpointError::Format("the root is not standard base64"))?;
        let root: Hash = decoded.try_into().map_err(|_| CheckpointError::Format("the root is not 32 bytes"))?;
        Ok(Checkpoint {
            origin: origin.to_string(),
            size: size.parse().map_err(|_| CheckpointError::Format("the size is too large"))?,
            root,
        })
    }
}

/// One signature line: its key's name and id, and what follows the id (a 64-byte signature, or
/// for a cosignature an 8-byte time and the signature; another key type's bytes are kept as
/// they are).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    pub name: String,
    pub key_id: [u8; 4],
    pub rest: Vec<u8>,
}

impl Signature {
    /// The time a cosignature says the witness saw the checkpoint (seconds since 1970), if it
    /// is one.
    pub fn cosigned_at(&self) -> Option<u64> {
        (self.rest.len() == 72).then(|| u64::from_be_bytes(self.rest[..8].try_into().unwrap_or_default()))
    }
}

fn key_id(name: &str, kind: u8, key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', kind]);
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

    /// The log's signature of `checkpoint`'s note text.
    pub fn sign(&self, checkpoint: &Checkpoint) -> Signature {
        let key = self.key.verifying_key();
        Signature {
            name: self.name.clone(),
            key_id: key_id(&self.name, ED25519, &key),
            rest: self.key.sign(checkpoint.body().as_bytes()).to_bytes().to_vec(),
        }
    }

    /// A witness's `cosignature/v1` of `checkpoint`, seen at `time_s`.
    pub fn cosign(&self, checkpoint: &Checkpoint, time_s: u64) -> Signature {
        let key = self.key.verifying_key();
        let mut rest = time_s.to_be_bytes().to_vec();
        rest.extend(self.key.sign(checkpoint.cosigned_message(time_s).as_bytes()).to_bytes());
        Signature { name: self.name.clone(), key_id: key_id(&self.name, COSIGNATURE_V1, &key), rest }
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

    /// A public key from a verifier key, `<name>+<key id, hex>+<base64 of 0x01 ‖ key>`.
    pub fn from_vkey(vkey: &str) -> Result<Verifier, CheckpointError> {
        // The base64 key may hold `+` itself; the name and the id never do.
        let mut parts = vkey.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(encoded)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(CheckpointError::BadKey);
        };
        if !good_name(name) {
            return Err(CheckpointError::BadName);
        }
        let raw = BASE64.decode(encoded.as_bytes()).map_err(|_| CheckpointError::BadKey)?;
        let [ED25519, key @ ..] = raw.as_slice() else { return Err(CheckpointError::BadKey) };
        let key: [u8; 32] = key.try_into().map_err(|_| CheckpointError::BadKey)?;
        let key = VerifyingKey::from_bytes(&key).map_err(|_| CheckpointError::BadKey)?;
        let verifier = Verifier { name: name.to_owned(), key };
        if id != hex::encode(key_id(name, ED25519, &verifier.key)) {
            return Err(CheckpointError::BadKey);
        }
        Ok(verifier)
    }

    /// `name`'s key in either form: a verifier key (which must carry `name`) or 64 hex characters.
    pub fn parse(name: &str, text: &str) -> Result<Verifier, CheckpointError> {
        if text.contains('+') {
            let verifier = Verifier::from_vkey(text)?;
            return if verifier.name == name { Ok(verifier) } else { Err(CheckpointError::BadName) };
        }
        Verifier::from_hex(name, text)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.key.as_bytes())
    }

    /// The verifier key, as signed-note clients take it.
    pub fn to_vkey(&self) -> String {
        let mut raw = vec![ED25519];
        raw.extend(self.key.as_bytes());
        format!("{}+{}+{}", self.name, hex::encode(key_id(&self.name, ED25519, &self.key)), BASE64.encode(&raw))
    }

    /// Whether `signature` is this key's: a note signature of the body or a cosignature.
    pub fn verify(&self, checkpoint: &Checkpoint, signature: &Signature) -> bool {
        if signature.name != self.name {
            return false;
        }
        let (message, bytes) = if signature.key_id == key_id(&self.name, ED25519, &self.key) {
            (checkpoint.body(), signature.rest.as_slice())
        } else if signature.key_id == key_id(&self.name, COSIGNATURE_V1, &self.key) {
            match signature.cosigned_at() {
                Some(time) => (checkpoint.cosigned_message(time), &signature.rest[8..]),
                None => return false,
            }
        } else {
            return false;
        };
        let Ok(bytes) = <[u8; 64]>::try_from(bytes) else { return false };
        self.key.verify(message.as_bytes(), &ed25519_dalek::Signature::from_bytes(&bytes)).is_ok()
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
            let mut raw = s.key_id.to_vec();
            raw.extend(&s.rest);
            text.push_str(&format!("— {} {}\n", s.name, BASE64.encode(&raw)));
        }
        text
    }

    /// A signed note holding a checkpoint. Signatures are not checked here ([`Self::check`]).
    pub fn parse(text: &str) -> Result<SignedCheckpoint, CheckpointError> {
        if text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(CheckpointError::Format("a note holds no control characters but newlines"));
        }
        let (body, sigs) =
            text.split_once("\n\n").ok_or(CheckpointError::Format("no blank line before the signatures"))?;
        if !sigs.ends_with('\n') {
            return Err(CheckpointError::Format("a note ends with a newline"));
        }
        let lines: Vec<&str> = body.split('\n').collect();
        let checkpoint = Checkpoint::parse_body(&lines)?;
        let mut signatures = Vec::new();
        for line in sigs.strip_suffix('\n').unwrap_or(sigs).split('\n') {
            if signatures.len() == MAX_SIGNATURES {
                return Err(CheckpointError::Format("too many signatures"));
            }
            let rest =
                line.strip_prefix("— ").ok_or(CheckpointError::Format("a signature line starts with an em dash"))?;
            let (name, encoded) =
                rest.split_once(' ').ok_or(CheckpointError::Format("a signature line has a name and a signature"))?;
            if !good_name(name) {
                return Err(CheckpointError::Format("a signature's key name is not a valid name"));
            }
            let raw = BASE64
                .decode(encoded.as_bytes())
                .map_err(|_| CheckpointError::Format("a signature is standard base64"))?;
            let [a, b, c, d, rest @ ..] = raw.as_slice() else {
                return Err(CheckpointError::Format("a signature is shorter than its key id"));
            };
            signatures.push(Signature { name: name.to_owned(), key_id: [*a, *b, *c, *d], rest: rest.to_vec() });
        }
        if signatures.is_empty() {
            return Err(CheckpointError::Format("a signed note has at least one signature"));
        }
        Ok(SignedCheckpoint { checkpoint, signatures })
    }

    /// Adds `signer`'s note signature (the log's).
    pub fn sign(&mut self, signer: &Signer) {
        self.signatures.push(signer.sign(&self.checkpoint));
    }

    /// Whether `verifier` signed (or cosigned) this very checkpoint.
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
    /// from it), and cosigns it as seen at `time_s`.
    pub fn cosign(&mut self, signed: &mut SignedCheckpoint, proof: &[Hash], time_s: u64) -> Result<(), WitnessError> {
        signed.check(&self.log).map_err(WitnessError::NotSigned)?;
        let new = signed.checkpoint.clone();
        if let Some(last) = &self.last {
            if last.origin != new.origin {
                return Err(WitnessError::OtherLog);
            }
            crate::verify::verify_consistency(last.size, new.size, proof, &last.root, &new.root)
                .map_err(WitnessError::SplitView)?;
        }
        signed.signatures.push(self.signer.cosign(&new, time_s));
        self.last = Some(new);
        Ok(())
    }
}
