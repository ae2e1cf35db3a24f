//! Conformance with C2SP signed-note and tlog-checkpoint, checked by implementations that are
//! not Candor's (the `signed_note` and `tlog_tiles` crates): the log's notes verify with the
//! verifier key it publishes, its bodies parse as checkpoints, its inclusion proofs check, and
//! notes the other implementation signs verify here.

use candor_log::*;
use data_encoding::BASE64;
use signed_note::{Note, StandardVerifier, VerifierList};

fn tree(n: u64) -> (Tree, Vec<Vec<u8>>) {
    let data: Vec<Vec<u8>> = (0..n).map(|i| format!("{{\"leaf\":{i}}}").into_bytes()).collect();
    (Tree::from_leaf_hashes(data.iter().map(|d| leaf_hash(d))), data)
}

fn log() -> Signer {
    Signer::from_seed("candor.example/log", [7; 32]).expect("signer")
}

fn note_of(size: u64, t: &Tree) -> SignedCheckpoint {
    let checkpoint = Checkpoint { origin: "candor.example/log".into(), size, root: t.root_at(size).expect("root") };
    let mut signed = SignedCheckpoint { checkpoint, signatures: vec![] };
    signed.sign(&log());
    signed
}

#[test]
fn the_logs_notes_verify_with_another_implementation() {
    let (t, data) = tree(37);
    let vkey = log().verifier().to_vkey();
    let theirs = StandardVerifier::new(&vkey).expect("they read our verifier key");
    let known = VerifierList::new(vec![Box::new(theirs)]);
    for size in [1, 2, 7, 16, 37] {
        let text = note_of(size, &t).to_text();
        let note = Note::from_bytes(text.as_bytes()).expect("they parse our note");
        let (verified, unverified) = note.verify(&known).expect("they verify our signature");
        assert_eq!((verified.len(), unverified.len()), (1, 0));
        let checkpoint = tlog_tiles::Checkpoint::from_bytes(note.text()).expect("they parse our checkpoint");
        assert_eq!(checkpoint.origin(), "candor.example/log");
        assert_eq!(checkpoint.size(), size);
        assert_eq!(checkpoint.hash().0, t.root_at(size).expect("root"));
        assert_eq!(checkpoint.extension(), "");
        for index in [0, size / 2, size - 1] {
            let proof: Vec<tlog_tiles::Hash> =
                t.inclusion_proof(index, size).expect("proof").into_iter().map(tlog_tiles::Hash).collect();
            let record = tlog_tiles::record_hash(&data[index as usize]);
            tlog_tiles::check_record(&proof, size, *checkpoint.hash(), index, record)
                .unwrap_or_else(|e| panic!("their check of leaf {index} at size {size}: {e:?}"));
        }
    }
    // A tampered note does not verify for them either.
    let text = note_of(37, &t).to_text().replacen("\n37\n", "\n36\n", 1);
    let note = Note::from_bytes(text.as_bytes()).expect("still a note");
    assert!(note.verify(&known).is_err(), "they verified a tampered size");
}

#[test]
fn a_witness_cosignature_is_an_extra_line_other_clients_may_ignore() {
    let (t, _) = tree(9);
    let witness = Signer::from_seed("ombudsman.example/witness", [8; 32]).expect("signer");
    let mut w = Witness::new(witness, log().verifier());
    let mut signed = note_of(9, &t);
    w.cosign(&mut signed, &[], 1_780_000_000).expect("cosigned");
    let text = signed.to_text();
    let known = VerifierList::new(vec![Box::new(StandardVerifier::new(&log().verifier().to_vkey()).expect("vkey"))]);
    let note = Note::from_bytes(text.as_bytes()).expect("a note with two signatures");
    let (verified, unverified) = note.verify(&known).expect("the log's signature still verifies");
    assert_eq!((verified.len(), unverified.len()), (1, 1), "the cosignature is there, unknown to them");
    assert_eq!(unverified[0].name(), "ombudsman.example/witness");
    // The cosignature is 4 + 8 + 64 bytes, its time in the clear.
    let back = SignedCheckpoint::parse(&text).expect("parse");
    assert_eq!(back.signatures[1].cosigned_at(), Some(1_780_000_000));
}

#[test]
fn notes_the_other_implementation_signs_verify_here() {
    let (t, _) = tree(5);
    // Their signer key for a seed, in their format; their verifier key, with their key id.
    let seed = [5u8; 32];
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    let vkey = signed_note::new_ed25519_verifier_key("candor.example/log", &public);
    let id = vkey.split('+').nth(1).expect("key id");
    let skey = format!("PRIVATE+KEY+candor.example/log+{id}+{}", BASE64.encode(&[&[1u8][..], &seed].concat()));
    let signer = signed_note::StandardSigner::new(&skey).expect("their signer");
    let body = Checkpoint { origin: "candor.example/log".into(), size: 5, root: t.root() }.body();
    let mut note = Note::new(body.as_bytes(), &[]).expect("their note");
    note.add_sigs(&[&signer]).expect("they sign");
    let text = String::from_utf8(note.to_bytes()).expect("utf-8");
    let ours = Verifier::from_vkey(&vkey).expect("we read their verifier key");
    let parsed = SignedCheckpoint::parse(&text).expect("we parse their note");
    parsed.check(&ours).expect("we verify their signature");
    assert!(parsed.check(&log().verifier()).is_err(), "another key under the same name");
}

#[test]
fn malformed_notes_and_keys_are_refused() {
    let (t, _) = tree(3);
    let good = note_of(3, &t).to_text();
    for bad in [
        good.replacen("\n3\n", "\n03\n", 1),
        good.replacen("\n3\n", "\n3\nextension\n", 1),
        good.replacen("\n\n", "\n", 1),
        good.trim_end().to_owned(),
        good.replacen("— ", "-- ", 1),
        good.replacen("candor.example/log\n", "\n", 1),
        good.replacen("\n3\n", "\n3\u{0}\n", 1),
        format!("{}\n\n", good.split("\n\n").next().expect("body")),
    ] {
        assert!(SignedCheckpoint::parse(&bad).is_err(), "parsed:\n{bad:?}");
    }
    let vkey = log().verifier().to_vkey();
    assert_eq!(Verifier::from_vkey(&vkey).expect("round trip"), log().verifier());
    // Keys whose base64 holds a `+` read too.
    for seed in 0..64u8 {
        let v = Signer::from_seed("candor.example/log", [seed; 32]).expect("signer").verifier();
        assert_eq!(Verifier::from_vkey(&v.to_vkey()).as_ref(), Ok(&v), "{}", v.to_vkey());
    }
    for bad in
        [vkey.replacen("+", "+0", 1), vkey.replace("candor.example/log", "other"), format!("{vkey}+x"), "x".into()]
    {
        assert!(Verifier::from_vkey(&bad).is_err(), "accepted {bad}");
    }
    assert_eq!(Verifier::parse("other", &vkey), Err(CheckpointError::BadName));
}
