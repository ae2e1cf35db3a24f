//! What a person sends with a dispute: a reason from a list, their own words, and perhaps one
//! document as evidence (a PDF or an image, size-limited, its type read from its bytes, never
//! from what the sender says it is). The claim's digest is what the log records, so the person's
//! receipt of what they sent can be checked against the log without the log holding their words.

use sha2::{Digest, Sha256};

use crate::model::ClaimReason;

/// Longest text a claim holds, in characters.
pub const MAX_CLAIM_CHARS: usize = 2_000;
/// Largest evidence document, in bytes.
pub const MAX_EVIDENCE_BYTES: usize = 2 << 20;

/// The kinds of document accepted as evidence, known by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaType {
    Pdf,
    Png,
    Jpeg,
}

impl MediaType {
    /// The type the bytes are, if one accepted.
    pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
        if bytes.starts_with(b"%PDF-") {
            Some(MediaType::Pdf)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(MediaType::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(MediaType::Jpeg)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::Png => "image/png",
            MediaType::Jpeg => "image/jpeg",
        }
    }

    pub fn parse(text: &str) -> Option<MediaType> {
        [MediaType::Pdf, MediaType::Png, MediaType::Jpeg].into_iter().find(|m| m.as_str() == text)
    }
}

/// One document sent as evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    pub media_type: MediaType,
    pub bytes: Vec<u8>,
}

impl Evidence {
    /// Evidence from the bytes sent: refused when empty, too large, or not a PDF, PNG or JPEG.
    pub fn check(bytes: Vec<u8>) -> Result<Evidence, String> {
        if bytes.is_empty() {
            return Err("the evidence document is empty".into());
        }
        if bytes.len() > MAX_EVIDENCE_BYTES {
            return Err(format!("the evidence document is larger than {} MiB", MAX_EVIDENCE_BYTES >> 20));
        }
        let media_type =
            MediaType::sniff(&bytes).ok_or("evidence is a PDF, PNG or JPEG document; this one is none of those")?;
        Ok(Evidence { media_type, bytes })
    }

    pub fn sha256(&self) -> [u8; 32] {
        Sha256::digest(&self.bytes).into()
    }
}

/// What a person says is wrong with a record, in their own words, with their evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub reason: ClaimReason,
    pub text: String,
    pub evidence: Option<Evidence>,
}

impl Claim {
    /// A claim from what was sent: the text is at most [`MAX_CLAIM_CHARS`] characters of text
    /// (line breaks allowed; no control or bidirectional control characters).
    pub fn new(reason: ClaimReason, text: &str, evidence: Option<Evidence>) -> Result<Claim, String> {
        let text = text.trim();
        if text.chars().count() > MAX_CLAIM_CHARS {
            return Err(format!("at most {MAX_CLAIM_CHARS} characters"));
        }
        crate::text::check(text, true).map_err(str::to_owned)?;
        Ok(Claim { reason, text: text.to_owned(), evidence })
    }

    /// The digest of the whole claim — reason, text and the evidence's digest — as the log
    /// records it and the person's receipt shows it.
    pub fn digest(&self) -> [u8; 32] {
        digest(self.reason, &self.text, self.evidence.as_ref().map(Evidence::sha256).as_ref())
    }
}

/// The digest of a claim from its parts (what a receipt is checked with).
pub fn digest(reason: ClaimReason, text: &str, evidence_sha256: Option<&[u8; 32]>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"candor dispute claim v1\0");
    h.update(reason.as_str().as_bytes());
    h.update(b"\0");
    h.update((text.len() as u64).to_be_bytes());
    h.update(text.as_bytes());
    h.update(evidence_sha256.map_or([0u8; 32], |e| *e));
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_is_known_by_its_bytes_and_bounded() {
        assert_eq!(Evidence::check(b"%PDF-1.7 ...".to_vec()).map(|e| e.media_type), Ok(MediaType::Pdf));
        assert_eq!(Evidence::check(b"\x89PNG\r\n\x1a\nIHDR".to_vec()).map(|e| e.media_type), Ok(MediaType::Png));
        assert_eq!(Evidence::check(vec![0xFF, 0xD8, 0xFF, 0xE0]).map(|e| e.media_type), Ok(MediaType::Jpeg));
        for bad in [b"MZ\x90\x00".to_vec(), b"<html><script>".to_vec(), b"GIF89a".to_vec(), Vec::new()] {
            assert!(Evidence::check(bad).is_err());
        }
        let mut big = b"%PDF-".to_vec();
        big.resize(MAX_EVIDENCE_BYTES + 1, b' ');
        assert!(Evidence::check(big).is_err(), "too large");
    }

    #[test]
    fn a_claim_is_bounded_text_and_its_digest_covers_every_part() {
        assert!(Claim::new(ClaimReason::Paid, &"x".repeat(MAX_CLAIM_CHARS + 1), None).is_err());
        assert!(Claim::new(ClaimReason::Paid, "paid\u{202E}gnp.exe", None).is_err(), "bidirectional control");
        let a =
            Claim::new(ClaimReason::Paid, "I paid it in full on 3 September.\nReceipt attached.", None).expect("ok");
        let b = Claim { reason: ClaimReason::NeverLate, ..a.clone() };
        let c = Claim { evidence: Some(Evidence::check(b"%PDF-1".to_vec()).expect("pdf")), ..a.clone() };
        let d = Claim { text: "I paid it in full on 4 September.\nReceipt attached.".into(), ..a.clone() };
        let digests = [a.digest(), b.digest(), c.digest(), d.digest()];
        for i in 0..4 {
            for j in i + 1..4 {
                assert_ne!(digests[i], digests[j], "{i} and {j}");
            }
        }
        assert_eq!(a.digest(), digest(ClaimReason::Paid, &a.text, None), "a receipt checks from its parts");
    }
}
