//! The log against an independent implementation, published vectors, mutated proofs and a
//! split view.

use candor_log::*;
use proptest::prelude::*;
use sha2::{Digest, Sha256};

/// RFC 6962 §2.1 written out directly over the leaves' data, sharing nothing with the crate.
mod reference {
    use super::*;

    fn h(parts: &[&[u8]]) -> [u8; 32] {
        let mut s = Sha256::new();
        for p in parts {
            s.update(p);
        }
        s.finalize().into()
    }

    fn k(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    pub fn mth(d: &[Vec<u8>]) -> [u8; 32] {
        match d.len() {
            0 => h(&[]),
            1 => h(&[&[0], &d[0]]),
            n => h(&[&[1], &mth(&d[..k(n)]), &mth(&d[k(n)..])]),
        }
    }

    pub fn path(m: usize, d: &[Vec<u8>]) -> Vec<[u8; 32]> {
        let n = d.len();
        if n == 1 {
            return vec![];
        }
        let k = k(n);
        if m < k {
            let mut p = path(m, &d[..k]);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = path(m - k, &d[k..]);
            p.push(mth(&d[..k]));
            p
        }
    }

    fn subproof(m: usize, d: &[Vec<u8>], b: bool) -> Vec<[u8; 32]> {
        let n = d.len();
        if m == n {
            return if b { vec![] } else { vec![mth(d)] };
        }
        let k = k(n);
        if m <= k {
            let mut p = subproof(m, &d[..k], b);
            p.push(mth(&d[k..]));
            p
        } else {
            let mut p = subproof(m - k, &d[k..], false);
            p.push(mth(&d[..k]));
            p
        }
    }

    pub fn proof(m: usize, d: &[Vec<u8>]) -> Vec<[u8; 32]> {
        subproof(m, d, true)
    }
}

fn data(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("leaf {i}").into_bytes()).collect()
}

fn tree(d: &[Vec<u8>]) -> Tree {
    Tree::from_leaf_hashes(d.iter().map(|x| leaf_hash(x)))
}

/// The Certificate Transparency test leaves and their roots at each size (checked with a separate
/// Python implementation of RFC 6962).
#[test]
fn certificate_transparency_vectors() {
    let leaves = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];
    let roots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];
    let t = Tree::from_leaf_hashes(leaves.iter().map(|l| leaf_hash(&hex::decode(l).expect("hex"))));
    for (n, root) in roots.iter().enumerate() {
        assert_eq!(hex::encode(t.root_at(n as u64 + 1).expect("root")), *root, "size {}", n + 1);
    }
    assert_eq!(
        hex::encode(t.root_at(0).expect("root")),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn roots_and_proofs_match_the_reference_for_every_size() {
    let all = data(70);
    let t = tree(&all);
    for n in 1..=all.len() {
        let d = &all[..n];
        let root = t.root_at(n as u64).expect("root");
        assert_eq!(root, reference::mth(d), "root at {n}");
        for m in 0..n {
            let proof = t.inclusion_proof(m as u64, n as u64).expect("proof");
            assert_eq!(proof, reference::path(m, d), "path {m} of {n}");
            verify_inclusion(&leaf_hash(&d[m]), m as u64, n as u64, &proof, &root).expect("inclusion verifies");
        }
        for m in 1..=n {
            let proof = t.consistency_proof(m as u64, n as u64).expect("proof");
            assert_eq!(proof, reference::proof(m, d), "consistency {m} → {n}");
            let old = t.root_at(m as u64).expect("root");
            verify_consistency(m as u64, n as u64, &proof, &old, &root).expect("consistency verifies");
        }
    }
}

/// Mutations of a valid proof, as transparency-dev's verifier tests make them: every one fails.
fn mutations(proof: &[Hash]) -> Vec<Vec<Hash>> {
    let mut out = Vec::new();
    if !proof.is_empty() {
        out.push(proof[..proof.len() - 1].to_vec());
        out.push(proof[1..].to_vec());
    }
    let mut longer = proof.to_vec();
    longer.push([0u8; 32]);
    out.push(longer);
    let mut front = vec![[7u8; 32]];
    front.extend_from_slice(proof);
    out.push(front);
    if let Some(last) = proof.last() {
        let mut dup = proof.to_vec();
        dup.push(*last);
        out.push(dup);
    }
    for i in 0..proof.len() {
        for bit in [0usize, 100, 255] {
            let mut flipped = proof.to_vec();
            flipped[i][bit / 8] ^= 1 << (bit % 8);
            out.push(flipped);
        }
        if i + 1 < proof.len() && proof[i] != proof[i + 1] {
            let mut swapped = proof.to_vec();
            swapped.swap(i, i + 1);
            out.push(swapped);
        }
    }
    out
}

/// A wrong tree size is caught when it changes the shape of the path; where it does not, the
/// same hashes lead to the same root and the proof is, rightly, still a proof for that root.
fn shape_differs(t: &Tree, m: u64, n: u64, other: u64) -> bool {
    other > m && t.inclusion_proof(m, other).map(|p| p.len()) != t.inclusion_proof(m, n).map(|p| p.len())
}

#[test]
fn mutated_inclusion_proofs_fail() {
    let all = data(41);
    let t = tree(&all);
    for n in [1u64, 2, 3, 7, 8, 9, 16, 31, 40] {
        let root = t.root_at(n).expect("root");
        for m in 0..n {
            let leaf = leaf_hash(&all[m as usize]);
            let proof = t.inclusion_proof(m, n).expect("proof");
            for bad in mutations(&proof) {
                assert!(verify_inclusion(&leaf, m, n, &bad, &root).is_err(), "mutated proof for {m} of {n} verified");
            }
            let other = leaf_hash(b"not a leaf");
            assert!(verify_inclusion(&other, m, n, &proof, &root).is_err());
            assert!(verify_inclusion(&leaf, m, n, &proof, &[1u8; 32]).is_err());
            if m + 1 < n {
                assert!(verify_inclusion(&leaf, m + 1, n, &proof, &root).is_err(), "wrong index {m}+1 of {n}");
            }
            for other in [n - 1, n + 1] {
                if shape_differs(&t, m, n, other) {
                    assert!(verify_inclusion(&leaf, m, other, &proof, &root).is_err(), "size {other} for {m} of {n}");
                }
            }
            assert!(verify_inclusion(&leaf, n, n, &proof, &root).is_err(), "index past the end");
        }
    }
}

#[test]
fn mutated_consistency_proofs_fail() {
    let all = data(41);
    let t = tree(&all);
    for n in [2u64, 3, 7, 8, 9, 16, 31, 40] {
        let new_root = t.root_at(n).expect("root");
        for m in 1..n {
            let old_root = t.root_at(m).expect("root");
            let proof = t.consistency_proof(m, n).expect("proof");
            for bad in mutations(&proof) {
                assert!(verify_consistency(m, n, &bad, &old_root, &new_root).is_err(), "mutated {m} → {n} verified");
            }
            assert!(verify_consistency(m, n, &proof, &new_root, &old_root).is_err(), "swapped roots");
            assert!(verify_consistency(m, n, &proof, &[3u8; 32], &new_root).is_err());
            assert!(verify_consistency(m, n, &proof, &old_root, &[3u8; 32]).is_err());
            if m + 1 < n {
                assert!(verify_consistency(m + 1, n, &proof, &old_root, &new_root).is_err(), "wrong old size");
            }
            let longer = t.consistency_proof(m, n + 1).expect("proof");
            if longer.len() != proof.len() {
                assert!(verify_consistency(m, n + 1, &proof, &old_root, &new_root).is_err(), "wrong new size");
            }
            assert!(verify_consistency(n, m, &proof, &new_root, &old_root).is_err(), "sizes reversed");
        }
    }
}

fn bureau() -> Signer {
    Signer::from_seed("candor.example/log", [1; 32]).expect("signer")
}

fn ombudsman() -> Signer {
    Signer::from_seed("ombudsman.example", [2; 32]).expect("signer")
}

fn signed(t: &Tree, size: u64) -> SignedCheckpoint {
    let checkpoint = Checkpoint { origin: "candor.example/log".into(), size, root: t.root_at(size).expect("root") };
    let mut s = SignedCheckpoint { checkpoint, signatures: vec![] };
    s.sign(&bureau());
    s
}

#[test]
fn checkpoints_sign_round_trip_and_refuse_tampering() {
    let t = tree(&data(10));
    let mut cp = signed(&t, 10);
    cp.signatures.push(ombudsman().cosign(&cp.checkpoint, 1_700_000_000));
    let text = cp.to_text();
    let back = SignedCheckpoint::parse(&text).expect("parse");
    assert_eq!(back, cp);
    back.check(&bureau().verifier()).expect("the bureau signed");
    back.check(&ombudsman().verifier()).expect("the witness cosigned");

    for tamper in [
        text.replacen("\n10\n", "\n11\n", 1),
        text.replacen(&data_encoding::BASE64.encode(&cp.checkpoint.root), &data_encoding::BASE64.encode(&[9u8; 32]), 1),
    ] {
        let forged = SignedCheckpoint::parse(&tamper).expect("parse");
        assert!(forged.check(&bureau().verifier()).is_err(), "a tampered body verified:\n{tamper}");
        assert!(forged.check(&ombudsman().verifier()).is_err(), "a tampered body's cosignature verified:\n{tamper}");
    }
    // The cosignature's time is signed too.
    let mut redated = cp.clone();
    redated.signatures[1].rest[7] ^= 1;
    assert!(redated.check(&ombudsman().verifier()).is_err(), "a re-dated cosignature verified");
    // A note signature is not a cosignature: the key ids differ by type.
    let mut retyped = cp.clone();
    retyped.signatures[0].key_id = retyped.signatures[1].key_id;
    assert!(retyped.check(&bureau().verifier()).is_err());
    let stranger = Signer::from_seed("candor.example/log", [3; 32]).expect("signer");
    assert!(cp.check(&stranger.verifier()).is_err(), "another key under the same name");
    assert!(SignedCheckpoint::parse("garbage").is_err());
}

#[test]
fn a_witness_refuses_a_split_view() {
    let honest = tree(&data(20));
    let mut witness = Witness::new(ombudsman(), bureau().verifier());
    let mut first = signed(&honest, 12);
    witness.cosign(&mut first, &[], 1).expect("first checkpoint");
    let mut next = signed(&honest, 20);
    let proof = honest.consistency_proof(12, 20).expect("proof");
    witness.cosign(&mut next, &proof, 2).expect("an honest extension");
    assert_eq!(next.signatures.len(), 2);

    // The log shows someone else a history where leaf 5 differs, and tries to get it witnessed.
    let mut forked_data = data(24);
    forked_data[5] = b"rewritten".to_vec();
    let forked = tree(&forked_data);
    let mut fork = signed(&forked, 24);
    let proof = forked.consistency_proof(20, 24).expect("proof");
    assert!(matches!(witness.cosign(&mut fork, &proof, 3), Err(WitnessError::SplitView(_))));
    assert_eq!(fork.signatures.len(), 1, "not cosigned");
    let mut unsigned = SignedCheckpoint { checkpoint: next.checkpoint.clone(), signatures: vec![] };
    assert!(matches!(witness.cosign(&mut unsigned, &[], 4), Err(WitnessError::NotSigned(_))));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn any_proof_verifies_and_any_flipped_bit_fails(n in 1u64..300, seed in any::<u64>(), bit in 0usize..256) {
        let t = Tree::from_leaf_hashes((0..n).map(|i| leaf_hash(&(i ^ seed).to_le_bytes())));
        let m = seed % n;
        let root = t.root();
        let proof = t.inclusion_proof(m, n).expect("proof");
        let leaf = t.leaf(m).expect("leaf");
        prop_assert!(verify_inclusion(&leaf, m, n, &proof, &root).is_ok());
        if !proof.is_empty() {
            let mut bad = proof.clone();
            let i = (seed as usize) % bad.len();
            bad[i][bit / 8] ^= 1 << (bit % 8);
            prop_assert!(verify_inclusion(&leaf, m, n, &bad, &root).is_err());
        }
        let old = 1 + seed % n;
        let c = t.consistency_proof(old, n).expect("proof");
        prop_assert!(verify_consistency(old, n, &c, &t.root_at(old).expect("root"), &root).is_ok());
    }
}
