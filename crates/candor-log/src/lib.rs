//! The transparency log's mathematics, with no IO: an append-only Merkle tree (RFC 6962 hashing),
//! inclusion and consistency proofs, their verification (RFC 9162), and signed checkpoints.
//!
//! Every ingestion, read, refused read, consent change, dispute step, model deployment and purge
//! becomes a leaf; the service stores the leaves and signs checkpoints; anyone holding a leaf, a
//! proof and a checkpoint can check, with [`verify`] alone, that the bureau recorded it and has
//! not rewritten its history since.

pub mod checkpoint;
pub mod leaf;
pub mod tree;
pub mod verify;

pub use checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint, Signer, Verifier, Witness, WitnessError};
pub use leaf::{Leaf, LeafError, LEAF_VERSION};
pub use tree::{empty_root, leaf_hash, node_hash, Hash, Tree, TreeError};
pub use verify::{verify_consistency, verify_inclusion, ProofError};
