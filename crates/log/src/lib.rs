//! Transparency-log primitives for Liaison, with no I/O.
//!
//! - [`hash`]: RFC 6962/9162 leaf and node hashing.
//! - [`tree`]: Merkle tree hashes, inclusion and consistency proofs over any
//!   [`tree::NodeReader`], and their verification.
//! - [`frontier`]: the right edge of a tree, for incremental appends (and
//!   saved as its parts, to resume).
//! - [`note`]: C2SP signed notes with Ed25519 keys, and tlog-cosignature
//!   (timestamped Ed25519 witness cosignatures).
//! - [`checkpoint`]: C2SP tlog-checkpoint bodies.
//! - [`tiles`]: C2SP tlog-tiles paths and entry bundles.
//! - [`proof`]: C2SP tlog-proof, the self-contained receipt format.
//!
//! Everything that parses outside input returns [`LogError`] and never panics.

pub mod checkpoint;
pub mod frontier;
pub mod hash;
pub mod mldsa;
pub mod note;
pub mod proof;
pub mod tiles;
pub mod tree;

pub use checkpoint::Checkpoint;
pub use hash::Hash;

/// Everything that can go wrong with log data: malformed input, failed
/// verification, or a hash the caller's storage could not supply.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("malformed signed note: {0}")]
    MalformedNote(String),
    #[error("malformed key: {0}")]
    MalformedKey(String),
    #[error("no signature by a known key verifies this note")]
    NoVerifiedSignature,
    #[error("the signature by {0} does not verify")]
    BadSignature(String),
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(String),
    #[error("malformed tile path: {0}")]
    MalformedTilePath(String),
    #[error("malformed entry bundle: {0}")]
    MalformedBundle(String),
    #[error("malformed tlog-proof: {0}")]
    MalformedProof(String),
    #[error("invalid proof: {0}")]
    InvalidProof(String),
    #[error("the tree has no node at level {level}, index {index}")]
    MissingNode { level: u8, index: u64 },
    #[error("reading the tree failed: {0}")]
    Storage(String),
}
