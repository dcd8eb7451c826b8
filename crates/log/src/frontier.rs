//! The right edge of a Merkle tree (RFC 6962 / C2SP tlog), enough to
//! append leaves and compute the root in O(log n) memory; saved as its
//! parts, it resumes where it stopped.

use crate::LogError;
use crate::hash::{Hash, node_hash};
use crate::tree::NodeReader;

/// The right edge of a tree: the roots of its maximal complete subtrees, from
/// the largest (leftmost) to the smallest. Enough to append leaves and compute
/// the root in O(log n) memory.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    stack: Vec<Hash>,
}

/// A complete subtree that an append finished: store it to serve tiles and proofs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewNode {
    pub level: u8,
    pub index: u64,
    pub hash: Hash,
}

impl Frontier {
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// The nodes a frontier of `size` leaves consists of, largest first.
    pub fn node_coordinates(size: u64) -> Vec<(u8, u64)> {
        (0..64u8)
            .rev()
            .filter(|level| size >> level & 1 == 1)
            .map(|level| (level, (size >> level) - 1))
            .collect()
    }

    /// Loads the frontier of a stored tree of `size` leaves.
    pub fn load<R: NodeReader + ?Sized>(reader: &R, size: u64) -> Result<Frontier, LogError> {
        let stack = Frontier::node_coordinates(size)
            .into_iter()
            .map(|(level, index)| reader.node(level, index))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Frontier { size, stack })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The frontier's hashes, largest subtree first (with its size, what
    /// [`Frontier::from_parts`] takes back).
    pub fn hashes(&self) -> &[Hash] {
        &self.stack
    }

    /// A frontier of `size` leaves from its hashes, largest subtree first:
    /// one per set bit of `size`.
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Result<Frontier, LogError> {
        if hashes.len() != size.count_ones() as usize {
            return Err(LogError::InvalidProof(format!(
                "a frontier of {size} leaves has {} hashes, not {}",
                hashes.len(),
                size.count_ones()
            )));
        }
        Ok(Frontier {
            size,
            stack: hashes,
        })
    }

    /// Appends one leaf hash; calls `completed` for every node it completes
    /// (the leaf itself first, then each parent it closes, bottom up).
    pub fn append(&mut self, leaf: Hash, mut completed: impl FnMut(NewNode)) {
        let index = self.size;
        completed(NewNode {
            level: 0,
            index,
            hash: leaf,
        });
        let mut hash = leaf;
        let mut level = 0u8;
        let mut n = index;
        while n & 1 == 1 {
            // A set low bit means the stack ends with a sibling of equal size.
            let Some(left) = self.stack.pop() else { break };
            hash = node_hash(&left, &hash);
            level += 1;
            n >>= 1;
            completed(NewNode {
                level,
                index: index >> level,
                hash,
            });
        }
        self.stack.push(hash);
        self.size += 1;
    }

    /// The root hash of the tree.
    pub fn root(&self) -> Hash {
        let mut iter = self.stack.iter().rev();
        let Some(last) = iter.next() else {
            return Hash::empty_root();
        };
        iter.fold(*last, |acc, left| node_hash(left, &acc))
    }
}
