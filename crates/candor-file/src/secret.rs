//! The bureau's two secrets and what they do: key national identifiers into [`SubjectKey`]s
//! (HMAC-SHA-256) and seal names and birth dates at rest (XChaCha20-Poly1305, bound to the
//! subject so a sealed name cannot be moved to another file).
//!
//! Nonces come from the caller: this crate has no randomness. Keys never print.

use std::fmt;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ids::{NationalId, SubjectKey};

/// Bytes of an XChaCha20 nonce, stored in front of each sealed value.
pub const NONCE_BYTES: usize = 24;
/// Bytes the seal adds after the nonce: the AEAD tag.
pub const TAG_BYTES: usize = 16;

/// How long the bytes sealed in `sealed` are, without opening them.
pub fn sealed_len(sealed: &[u8]) -> usize {
    sealed.len().saturating_sub(NONCE_BYTES + TAG_BYTES)
}

#[derive(Clone)]
pub struct Keys {
    /// HMAC keyed with the identity key, its inner and outer key blocks hashed once: each use
    /// clones it, which halves the hashing of a short message (every record of a batch names one).
    keyed: Hmac<Sha256>,
    sealing: [u8; 32],
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the {0} key must be 64 hexadecimal characters (32 bytes)")]
    Format(&'static str),
    #[error("the identity and sealing keys must differ")]
    Same,
    #[error("a sealed value is damaged or was sealed under another key or subject")]
    Open,
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Keys(<redacted>)")
    }
}

fn key_from_hex(text: &str, what: &'static str) -> Result<[u8; 32], KeyError> {
    let mut key = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut key).map_err(|_| KeyError::Format(what))?;
    Ok(key)
}

impl Keys {
    pub fn from_hex(identity: &str, sealing: &str) -> Result<Keys, KeyError> {
        let (identity, sealing) = (key_from_hex(identity, "identity")?, key_from_hex(sealing, "sealing")?);
        if identity == sealing {
            return Err(KeyError::Same);
        }
        // HMAC accepts keys of any length; 32 bytes cannot fail.
        let keyed = <Hmac<Sha256> as Mac>::new_from_slice(&identity).unwrap_or_else(|_| unreachable!());
        Ok(Keys { keyed, sealing })
    }

    fn mac(&self) -> Hmac<Sha256> {
        self.keyed.clone()
    }

    pub fn subject_key(&self, id: &NationalId) -> SubjectKey {
        let mut mac = self.mac();
        mac.update(id.scheme().as_str().as_bytes());
        mac.update(&[0]);
        mac.update(id.canonical().as_bytes());
        SubjectKey(mac.finalize().into_bytes().into())
    }

    /// What an activation code is stored as: keyed, and bound to the person it was issued to,
    /// so a code is worth nothing for anyone else.
    /// The key a member of an overseer's staff is kept under, as a person is under their
    /// subject key: what their setup code is bound to and their second factor sealed with.
    pub fn staff_key(&self, staff_id: &str) -> SubjectKey {
        let mut mac = self.mac();
        mac.update(b"staff\0");
        mac.update(staff_id.as_bytes());
        SubjectKey(mac.finalize().into_bytes().into())
    }

    pub fn activation_hash(&self, subject: &SubjectKey, code: &crate::activation::ActivationCode) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(b"activation\0");
        mac.update(&subject.0);
        mac.update(code.as_str().as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// What a second factor's recovery code is stored as: keyed, and bound to the person.
    pub fn recovery_hash(&self, subject: &SubjectKey, code: &str) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(b"recovery\0");
        mac.update(&subject.0);
        mac.update(code.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// What an organisation's API key is stored as.
    pub fn api_key_hash(&self, api_key: &str) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(b"api-key\0");
        mac.update(api_key.as_bytes());
        mac.finalize().into_bytes().into()
    }

    pub fn seal(&self, subject: &SubjectKey, plaintext: &str, nonce: [u8; NONCE_BYTES]) -> Vec<u8> {
        self.seal_bytes(subject, plaintext.as_bytes(), nonce)
    }

    pub fn open(&self, subject: &SubjectKey, sealed: &[u8]) -> Result<String, KeyError> {
        String::from_utf8(self.open_bytes(subject, sealed)?).map_err(|_| KeyError::Open)
    }

    /// Seals bytes for one subject (a document they sent): only this subject's key opens them.
    pub fn seal_bytes(&self, subject: &SubjectKey, plaintext: &[u8], nonce: [u8; NONCE_BYTES]) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new(&self.sealing.into());
        let sealed = cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: &subject.0 })
            .unwrap_or_else(|_| unreachable!("encryption of an in-memory buffer cannot fail"));
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn open_bytes(&self, subject: &SubjectKey, sealed: &[u8]) -> Result<Vec<u8>, KeyError> {
        if sealed.len() < NONCE_BYTES {
            return Err(KeyError::Open);
        }
        let (nonce, body) = sealed.split_at(NONCE_BYTES);
        let cipher = XChaCha20Poly1305::new(&self.sealing.into());
        cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad: &subject.0 }).map_err(|_| KeyError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Scheme;

    fn keys() -> Keys {
        Keys::from_hex(&"11".repeat(32), &"22".repeat(32)).expect("keys")
    }

    #[test]
    fn one_person_one_key_across_spellings_and_schemes_apart() {
        let k = keys();
        let a = NationalId::parse(Scheme::UsSsn, "123-45-6789").expect("id");
        let b = NationalId::parse(Scheme::UsSsn, "123456789").expect("id");
        let c = NationalId::parse(Scheme::Generic, "123456789").expect("id");
        assert_eq!(k.subject_key(&a), k.subject_key(&b));
        assert_ne!(k.subject_key(&a), k.subject_key(&c));
        let other = Keys::from_hex(&"33".repeat(32), &"22".repeat(32)).expect("keys");
        assert_ne!(k.subject_key(&a), other.subject_key(&a), "the key must depend on the secret");
    }

    #[test]
    fn sealed_values_open_only_for_their_subject() {
        let k = keys();
        let a = SubjectKey([1; 32]);
        let b = SubjectKey([2; 32]);
        let sealed = k.seal(&a, "李小龙", [7; NONCE_BYTES]);
        assert!(!sealed.windows(3).any(|w| w == "李".as_bytes()));
        assert_eq!(k.open(&a, &sealed).as_deref(), Ok("李小龙"));
        assert_eq!(sealed_len(&sealed), "李小龙".len(), "its length is known without opening it");
        assert_eq!(k.open(&b, &sealed), Err(KeyError::Open));
        let mut damaged = sealed.clone();
        damaged[30] ^= 1;
        assert_eq!(k.open(&a, &damaged), Err(KeyError::Open));
        assert_eq!(format!("{k:?}"), "Keys(<redacted>)");
    }

    #[test]
    fn bad_keys_are_refused() {
        assert_eq!(Keys::from_hex("abc", &"22".repeat(32)).map(|_| ()), Err(KeyError::Format("identity")));
        assert_eq!(Keys::from_hex(&"22".repeat(32), &"22".repeat(32)).map(|_| ()), Err(KeyError::Same));
    }
}
