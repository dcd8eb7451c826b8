//! RFC 6962 Merkle trees: tree hashes, inclusion and consistency proofs
//! (generation over stored node hashes, and verification); the right edge
//! that extends a tree one leaf at a time is `frontier`.
//!
//! A *node* is named by `(level, index)`: the hash of the complete subtree of
//! `2^level` leaves starting at leaf `index << level`. Level 0 nodes are leaf
//! hashes. Stores keep every complete node, so any proof is a handful of
//! lookups.

use crate::LogError;
use crate::hash::{Hash, node_hash};

/// Supplies the hash of a complete subtree.
pub trait NodeReader {
    fn node(&self, level: u8, index: u64) -> Result<Hash, LogError>;
}

impl<F: Fn(u8, u64) -> Result<Hash, LogError>> NodeReader for F {
    fn node(&self, level: u8, index: u64) -> Result<Hash, LogError> {
        self(level, index)
    }
}

/// The largest power of two strictly smaller than `n` (n ≥ 2).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// MTH(D[start .. start+len]) for a subtree whose start is aligned to the
/// largest power of two not above `len` (true for every subtree the RFC 6962
/// recursions visit).
pub fn subtree_hash<R: NodeReader + ?Sized>(
    reader: &R,
    start: u64,
    len: u64,
) -> Result<Hash, LogError> {
    if len == 0 {
        return Ok(Hash::empty_root());
    }
    if len.is_power_of_two() && start.is_multiple_of(len) {
        let level = len.trailing_zeros() as u8;
        return reader.node(level, start >> level);
    }
    let k = split_point(len);
    let left = subtree_hash(reader, start, k)?;
    let right = subtree_hash(reader, start + k, len - k)?;
    Ok(node_hash(&left, &right))
}

/// The root hash of the tree of `size` leaves.
pub fn root<R: NodeReader + ?Sized>(reader: &R, size: u64) -> Result<Hash, LogError> {
    subtree_hash(reader, 0, size)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves
/// (RFC 6962 §2.1.1 PATH), from the leaf's sibling up to the root's child.
pub fn inclusion_proof<R: NodeReader + ?Sized>(
    reader: &R,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, LogError> {
    if index >= size {
        return Err(LogError::InvalidProof(format!(
            "leaf {index} is not in a tree of size {size}"
        )));
    }
    let mut proof = Vec::new();
    path(reader, index, 0, size, &mut proof)?;
    Ok(proof)
}

fn path<R: NodeReader + ?Sized>(
    reader: &R,
    m: u64,
    start: u64,
    n: u64,
    out: &mut Vec<Hash>,
) -> Result<(), LogError> {
    if n <= 1 {
        return Ok(());
    }
    let k = split_point(n);
    if m < k {
        path(reader, m, start, k, out)?;
        out.push(subtree_hash(reader, start + k, n - k)?);
    } else {
        path(reader, m - k, start + k, n - k, out)?;
        out.push(subtree_hash(reader, start, k)?);
    }
    Ok(())
}

/// The consistency proof from the tree of `old_size` leaves to the tree of
/// `new_size` leaves (RFC 6962 §2.1.2 PROOF).
pub fn consistency_proof<R: NodeReader + ?Sized>(
    reader: &R,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, LogError> {
    if old_size > new_size {
        return Err(LogError::InvalidProof(format!(
            "cannot prove size {old_size} consistent with the smaller size {new_size}"
        )));
    }
    let mut proof = Vec::new();
    if old_size == 0 || old_size == new_size {
        return Ok(proof);
    }
    subproof(reader, old_size, 0, new_size, true, &mut proof)?;
    Ok(proof)
}

fn subproof<R: NodeReader + ?Sized>(
    reader: &R,
    m: u64,
    start: u64,
    n: u64,
    whole: bool,
    out: &mut Vec<Hash>,
) -> Result<(), LogError> {
    if m == n {
        if !whole {
            out.push(subtree_hash(reader, start, n)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        subproof(reader, m, start, k, whole, out)?;
        out.push(subtree_hash(reader, start + k, n - k)?);
    } else {
        subproof(reader, m - k, start + k, n - k, false, out)?;
        out.push(subtree_hash(reader, start, k)?);
    }
    Ok(())
}

/// The root implied by an inclusion proof (RFC 9162 §2.1.3.2).
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
) -> Result<Hash, LogError> {
    if index >= size {
        return Err(LogError::InvalidProof(format!(
            "leaf index {index} is not below tree size {size}"
        )));
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(LogError::InvalidProof(
                "the inclusion proof is too long".into(),
            ));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(LogError::InvalidProof(
            "the inclusion proof is too short".into(),
        ));
    }
    Ok(r)
}

/// Checks that `leaf` is at `index` in the tree of `size` leaves with `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), LogError> {
    let computed = root_from_inclusion_proof(index, size, leaf, proof)?;
    if &computed == root {
        Ok(())
    } else {
        Err(LogError::InvalidProof(format!(
            "the inclusion proof of leaf {index} leads to root {computed}, not {root}"
        )))
    }
}

/// Checks that the tree (`old_size`, `old_root`) is a prefix of the tree
/// (`new_size`, `new_root`) (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), LogError> {
    let fail = |why: &str| {
        Err(LogError::InvalidProof(format!(
            "size {old_size} is not proven consistent with size {new_size}: {why}"
        )))
    };
    if old_size > new_size {
        return fail("the old tree is larger");
    }
    if old_size == 0 {
        // Only the empty tree has size 0: a claimed root of anything else
        // is not a tree this log could have had (Go's tlog refuses size 0).
        if *old_root != Hash::empty_root() || (new_size == 0 && *new_root != Hash::empty_root()) {
            return fail("a tree of size 0 has the empty root");
        }
        return if proof.is_empty() {
            Ok(())
        } else {
            fail("a proof from the empty tree must be empty")
        };
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return fail("equal sizes need an empty proof");
        }
        return if old_root == new_root {
            Ok(())
        } else {
            fail("equal sizes with different roots")
        };
    }
    if proof.is_empty() {
        return fail("the proof is empty");
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old_size.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);

    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return fail("the proof is too long");
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return fail("the proof is too short");
    }
    if &fr != old_root {
        return fail("it does not lead to the old root");
    }
    if &sr != new_root {
        return fail("it does not lead to the new root");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontier::Frontier;
    use crate::hash::leaf_hash;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// An in-memory store of every complete node, built with the frontier.
    struct MemTree {
        frontier: Frontier,
        nodes: HashMap<(u8, u64), Hash>,
    }

    impl MemTree {
        fn with_leaves(leaves: &[Vec<u8>]) -> MemTree {
            let mut t = MemTree {
                frontier: Frontier::new(),
                nodes: HashMap::new(),
            };
            for l in leaves {
                let nodes = &mut t.nodes;
                t.frontier.append(leaf_hash(l), |n| {
                    nodes.insert((n.level, n.index), n.hash);
                });
            }
            t
        }
    }

    impl NodeReader for MemTree {
        fn node(&self, level: u8, index: u64) -> Result<Hash, LogError> {
            self.nodes
                .get(&(level, index))
                .copied()
                .ok_or(LogError::MissingNode { level, index })
        }
    }

    fn h(s: &str) -> Hash {
        Hash::from_hex(s).unwrap()
    }

    /// Leaf inputs of the RFC 6962 test vectors (transparency-dev/merkle testonly).
    fn vector_leaves() -> Vec<Vec<u8>> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
        ]
        .iter()
        .map(|s| hex::decode(s).unwrap())
        .chain([hex::decode("606162636465666768696a6b6c6d6e6f").unwrap()])
        .collect()
    }

    /// Roots for sizes 1..=8 (transparency-dev/merkle testonly/constants.go).
    const ROOTS: [&str; 8] = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    /// (leaf number counted from 1, tree size, proof) from proof/verify_test.go.
    fn inclusion_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
        vec![
            (1, 1, vec![]),
            (
                1,
                8,
                vec![
                    h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                    h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                    h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
                ],
            ),
            (
                6,
                8,
                vec![
                    h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                    h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
                ],
            ),
            (
                3,
                3,
                vec![h(
                    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                )],
            ),
            (
                2,
                5,
                vec![
                    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
                    h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                    h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                ],
            ),
        ]
    }

    /// (size1, size2, proof) from proof/verify_test.go.
    fn consistency_vectors() -> Vec<(u64, u64, Vec<Hash>)> {
        vec![
            (1, 1, vec![]),
            (
                1,
                8,
                vec![
                    h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
                    h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                    h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
                ],
            ),
            (
                6,
                8,
                vec![
                    h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                    h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
                    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
                ],
            ),
            (
                2,
                5,
                vec![
                    h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
                    h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
                ],
            ),
            (
                6,
                7,
                vec![
                    h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
                    h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
                    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
                ],
            ),
        ]
    }

    #[test]
    fn roots_match_published_vectors() {
        let leaves = vector_leaves();
        for size in 1..=8usize {
            let t = MemTree::with_leaves(&leaves[..size]);
            assert_eq!(
                t.frontier.root(),
                h(ROOTS[size - 1]),
                "frontier size {size}"
            );
            assert_eq!(
                root(&t, size as u64).unwrap(),
                h(ROOTS[size - 1]),
                "stored size {size}"
            );
        }
        assert_eq!(
            MemTree::with_leaves(&[]).frontier.root(),
            Hash::empty_root()
        );
    }

    #[test]
    fn stored_nodes_match_published_node_hashes() {
        let t = MemTree::with_leaves(&vector_leaves());
        assert_eq!(
            t.node(1, 3).unwrap(),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0")
        );
        assert_eq!(
            t.node(2, 1).unwrap(),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")
        );
        assert_eq!(t.nodes.len(), 15);
    }

    #[test]
    fn inclusion_proofs_match_published_vectors() {
        let leaves = vector_leaves();
        let t = MemTree::with_leaves(&leaves);
        for (leaf, size, want) in inclusion_vectors() {
            let index = leaf - 1;
            let got = inclusion_proof(&t, index, size).unwrap();
            assert_eq!(got, want, "proof of leaf {index} in size {size}");
            let root = h(ROOTS[size as usize - 1]);
            let lh = leaf_hash(&leaves[index as usize]);
            verify_inclusion(index, size, &lh, &want, &root).unwrap();
        }
    }

    #[test]
    fn consistency_proofs_match_published_vectors() {
        let t = MemTree::with_leaves(&vector_leaves());
        for (m, n, want) in consistency_vectors() {
            let got = consistency_proof(&t, m, n).unwrap();
            assert_eq!(got, want, "proof {m} -> {n}");
            verify_consistency(
                m,
                n,
                &h(ROOTS[m as usize - 1]),
                &h(ROOTS[n as usize - 1]),
                &want,
            )
            .unwrap();
        }
    }

    /// The corruptions of proof/verify_test.go: every one must fail.
    #[test]
    fn corrupted_inclusion_proofs_fail() {
        let leaves = vector_leaves();
        let some = h("abacaba000000000000000000000000000000000000000000060061e00123456");
        for (leaf, size, proof) in inclusion_vectors() {
            let index = leaf - 1;
            let root = h(ROOTS[size as usize - 1]);
            let lh = leaf_hash(&leaves[index as usize]);
            let mut probes: Vec<(u64, u64, Hash, Vec<Hash>, Hash)> = vec![
                (index.wrapping_sub(1), size, lh, proof.clone(), root),
                (index + 1, size, lh, proof.clone(), root),
                (index ^ 2, size, lh, proof.clone(), root),
                (index, size * 2, lh, proof.clone(), root),
                (index, size / 2, lh, proof.clone(), root),
                (index, size, leaf_hash(b"WrongLeaf"), proof.clone(), root),
                (index, size, lh, proof.clone(), Hash::empty_root()),
                (index, size, lh, proof.clone(), some),
                (index, size, lh, [proof.clone(), vec![root]].concat(), root),
                (index, size, lh, [vec![root], proof.clone()].concat(), root),
            ];
            for i in 0..proof.len() {
                let mut p = proof.clone();
                p[i].0[0] ^= 8;
                probes.push((index, size, lh, p, root));
            }
            if !proof.is_empty() {
                probes.push((index, size, lh, proof[..proof.len() - 1].to_vec(), root));
            }
            if proof.len() > 1 {
                let p = [vec![proof[0], some], proof[1..].to_vec()].concat();
                probes.push((index, size, lh, p, root));
            }
            for (i, (idx, sz, l, p, r)) in probes.into_iter().enumerate() {
                if idx == index && sz == size && l == lh && p == proof && r == root {
                    continue;
                }
                assert!(
                    verify_inclusion(idx, sz, &l, &p, &r).is_err(),
                    "probe {i} of leaf {index} in {size} verified"
                );
            }
        }
    }

    #[test]
    fn corrupted_consistency_proofs_fail() {
        let root = |n: u64| h(ROOTS[n as usize - 1]);
        for (m, n, proof) in consistency_vectors() {
            if proof.is_empty() {
                continue;
            }
            let (r1, r2) = (root(m), root(n));
            let wrong = leaf_hash(b"WrongRoot");
            let mut probes: Vec<(u64, u64, Hash, Hash, Vec<Hash>)> = vec![
                (m - 1, n, r1, r2, proof.clone()),
                (m + 1, n, r1, r2, proof.clone()),
                (m ^ 2, n, r1, r2, proof.clone()),
                (m, n * 2, r1, r2, proof.clone()),
                (m, n / 2, r1, r2, proof.clone()),
                (m, n, wrong, r2, proof.clone()),
                (m, n, r1, wrong, proof.clone()),
                (m, n, r2, r1, proof.clone()),
                (m, n, r1, r2, vec![]),
                (m, n, r1, r2, [proof.clone(), vec![r1]].concat()),
                (m, n, r1, r2, [proof.clone(), vec![r2]].concat()),
                (m, n, r1, r2, [vec![r1], proof.clone()].concat()),
                (m, n, r1, r2, [vec![r2], proof.clone()].concat()),
                (m, n, r1, r2, [vec![proof[0]], proof.clone()].concat()),
                (m, n, r1, r2, proof[..proof.len() - 1].to_vec()),
            ];
            for i in 0..proof.len() {
                let mut p = proof.clone();
                p[i].0[0] ^= 16;
                probes.push((m, n, r1, r2, p));
            }
            for (i, (a, b, x, y, p)) in probes.into_iter().enumerate() {
                assert!(
                    verify_consistency(a, b, &x, &y, &p).is_err(),
                    "probe {i} of {m} -> {n} verified"
                );
            }
        }
    }

    #[test]
    fn trivial_consistency_cases() {
        let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
        let empty = Hash::empty_root();
        assert!(verify_consistency(0, 0, &empty, &empty, &[]).is_ok());
        assert!(verify_consistency(0, 0, &a, &a, &[]).is_err());
        assert!(verify_consistency(0, 1, &empty, &b, &[]).is_ok());
        // Size 0 with any root but the empty tree's is refused.
        assert!(verify_consistency(0, 1, &a, &b, &[]).is_err());
        assert!(verify_consistency(1, 1, &a, &b, &[]).is_err());
        assert!(verify_consistency(2, 1, &a, &b, &[]).is_err());
        assert!(verify_consistency(1, 2, &a, &b, &[]).is_err());
        assert!(verify_consistency(0, 1, &a, &a, &[a]).is_err());
    }

    #[test]
    fn frontier_loads_from_stored_nodes() {
        let leaves: Vec<Vec<u8>> = (0..1000u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let t = MemTree::with_leaves(&leaves);
        for size in [0u64, 1, 2, 3, 255, 256, 257, 999, 1000] {
            let f = Frontier::load(&t, size).unwrap();
            assert_eq!(f.root(), root(&t, size).unwrap(), "size {size}");
        }
    }

    #[test]
    fn a_frontier_saved_as_parts_goes_on_to_the_same_root() {
        let leaves: Vec<Vec<u8>> = (0..700u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let t = MemTree::with_leaves(&leaves);
        for size in [0u64, 1, 5, 256, 300] {
            let saved = Frontier::load(&t, size).unwrap();
            let mut f = Frontier::from_parts(size, saved.hashes().to_vec()).unwrap();
            for leaf in &leaves[size as usize..] {
                f.append(leaf_hash(leaf), |_| {});
            }
            assert_eq!(f.root(), root(&t, 700).unwrap(), "from size {size}");
        }
        let three = Frontier::load(&t, 3).unwrap();
        assert!(Frontier::from_parts(4, three.hashes().to_vec()).is_err());
        assert!(Frontier::from_parts(7, three.hashes().to_vec()).is_err());
    }

    /// tlog_tiles (Cloudflare's port of Go's sumdb/tlog) checks our proofs.
    #[test]
    fn independent_implementation_accepts_our_proofs() {
        use tlog_tiles::{Hash as TH, check_record, check_tree};
        let leaves: Vec<Vec<u8>> = (0..600u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let t = MemTree::with_leaves(&leaves);
        let th = |h: Hash| TH(h.0);
        for size in [1u64, 2, 3, 7, 8, 255, 256, 257, 511, 600] {
            let r = root(&t, size).unwrap();
            for index in [0, size / 3, size / 2, size - 1] {
                let p: Vec<TH> = inclusion_proof(&t, index, size)
                    .unwrap()
                    .into_iter()
                    .map(th)
                    .collect();
                let lh = leaf_hash(&leaves[index as usize]);
                check_record(&p, size, th(r), index, th(lh)).unwrap();
            }
            for old in [1, size / 2, size - 1] {
                if old == 0 {
                    continue;
                }
                let p: Vec<TH> = consistency_proof(&t, old, size)
                    .unwrap()
                    .into_iter()
                    .map(th)
                    .collect();
                check_tree(&p, size, th(r), old, th(root(&t, old).unwrap())).unwrap();
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn every_inclusion_proof_verifies_and_every_mutation_fails(
            n in 1u64..300, pick in any::<u64>(), bit in 0usize..256,
        ) {
            let leaves: Vec<Vec<u8>> = (0..n).map(|i| i.to_le_bytes().to_vec()).collect();
            let t = MemTree::with_leaves(&leaves);
            let size = 1 + pick % n;
            let index = (pick >> 20) % size;
            let root = root(&t, size).unwrap();
            let lh = leaf_hash(&leaves[index as usize]);
            let proof = inclusion_proof(&t, index, size).unwrap();
            prop_assert!(verify_inclusion(index, size, &lh, &proof, &root).is_ok());
            if !proof.is_empty() {
                let mut bad = proof.clone();
                let i = bit % bad.len();
                bad[i].0[bit / 8 % 32] ^= 1 << (bit % 8);
                prop_assert!(verify_inclusion(index, size, &lh, &bad, &root).is_err());
                prop_assert!(verify_inclusion(index, size, &lh, &proof[1..], &root).is_err());
            }
            let mut bad_leaf = lh;
            bad_leaf.0[bit / 8 % 32] ^= 1 << (bit % 8);
            prop_assert!(verify_inclusion(index, size, &bad_leaf, &proof, &root).is_err());
            if size > 1 {
                prop_assert!(verify_inclusion((index + 1) % size, size, &lh, &proof, &root).is_err());
            }
        }

        #[test]
        fn every_consistency_proof_verifies_and_every_mutation_fails(
            n in 1u64..300, a in any::<u64>(), b in any::<u64>(), bit in 0usize..256,
        ) {
            let leaves: Vec<Vec<u8>> = (0..n).map(|i| i.to_le_bytes().to_vec()).collect();
            let t = MemTree::with_leaves(&leaves);
            let new = 1 + b % n;
            let old = 1 + a % new;
            let (r1, r2) = (root(&t, old).unwrap(), root(&t, new).unwrap());
            let proof = consistency_proof(&t, old, new).unwrap();
            prop_assert!(verify_consistency(old, new, &r1, &r2, &proof).is_ok());
            if !proof.is_empty() {
                let mut bad = proof.clone();
                let i = bit % bad.len();
                bad[i].0[bit / 8 % 32] ^= 1 << (bit % 8);
                prop_assert!(verify_consistency(old, new, &r1, &r2, &bad).is_err());
                prop_assert!(verify_consistency(old, new, &r1, &r2, &proof[..proof.len() - 1]).is_err());
            }
            if old < new {
                let mut bad_root = r2;
                bad_root.0[bit / 8 % 32] ^= 1 << (bit % 8);
                prop_assert!(verify_consistency(old, new, &r1, &bad_root, &proof).is_err());
            }
        }
    }
}
