//! Exact PDQ matching: every hash within a Hamming radius, never an
//! approximation.
//!
//! Multi-index hashing: the 256 bits are cut into 16 slots of 16 bits and
//! each slot value has a bucket of the hashes holding it. Two hashes within
//! distance r ≤ 31 agree to within ⌊r/16⌋ ≤ 1 bit on at least one slot
//! (pigeonhole: 16 slots × 2 bits > 31), so probing each slot's value and
//! its 16 one-bit neighbours finds every match; the candidates are then
//! checked at full length. Radius ≤ 15 needs only the exact slot values.
//! Larger radii, and small lists where it is faster, scan every hash.
//!
//! Insertions and removals touch 16 buckets: the index is never rebuilt.

use std::collections::HashMap;

use serde::Serialize;

use crate::pdq::PdqHash;

/// Below this many hashes a straight scan beats probing 272 buckets.
pub const DEFAULT_MIH_FROM: usize = 4096;
const SLOTS: usize = 16;
const BUCKETS_PER_SLOT: usize = 1 << 16;

/// A hash found near a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Match {
    /// The caller's key for the hash (e.g. a hash-list entry id).
    pub key: i64,
    pub hash: PdqHash,
    pub distance: u32,
}

#[derive(Clone, Debug)]
pub struct PdqIndex {
    hashes: Vec<PdqHash>,
    keys: Vec<i64>,
    live: Vec<bool>,
    free: Vec<u32>,
    positions: HashMap<i64, u32>,
    /// `slot << 16 | value` → positions; empty until the list is large.
    buckets: Vec<Vec<u32>>,
    mih_from: usize,
}

impl Default for PdqIndex {
    fn default() -> Self {
        PdqIndex::with_mih_from(DEFAULT_MIH_FROM)
    }
}

impl PdqIndex {
    pub fn new() -> PdqIndex {
        PdqIndex::default()
    }

    /// An index that switches from scanning to multi-index hashing once it
    /// holds `mih_from` hashes (0: from the start).
    pub fn with_mih_from(mih_from: usize) -> PdqIndex {
        PdqIndex {
            hashes: Vec::new(),
            keys: Vec::new(),
            live: Vec::new(),
            free: Vec::new(),
            positions: HashMap::new(),
            buckets: Vec::new(),
            mih_from,
        }
    }

    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// Whether lookups probe buckets (rather than scan).
    pub fn uses_buckets(&self) -> bool {
        !self.buckets.is_empty()
    }

    pub fn contains(&self, key: i64) -> bool {
        self.positions.contains_key(&key)
    }

    /// Adds (or replaces) the hash under `key`.
    pub fn insert(&mut self, key: i64, hash: PdqHash) {
        self.remove(key);
        let pos = match self.free.pop() {
            Some(p) => {
                let i = p as usize;
                self.hashes[i] = hash;
                self.keys[i] = key;
                self.live[i] = true;
                p
            }
            None => {
                self.hashes.push(hash);
                self.keys.push(key);
                self.live.push(true);
                // Positions stay below 2^32: a list of four billion hashes
                // would not fit in memory first.
                (self.hashes.len() - 1) as u32
            }
        };
        self.positions.insert(key, pos);
        if self.uses_buckets() {
            self.add_to_buckets(pos);
        } else if self.len() >= self.mih_from {
            self.build_buckets();
        }
    }

    /// Removes the hash under `key`; `false` if there was none.
    pub fn remove(&mut self, key: i64) -> bool {
        let Some(pos) = self.positions.remove(&key) else {
            return false;
        };
        if self.uses_buckets() {
            let hash = self.hashes[pos as usize];
            for s in 0..SLOTS {
                let bucket = &mut self.buckets[(s << 16) | usize::from(hash.slot(s))];
                if let Some(i) = bucket.iter().position(|p| *p == pos) {
                    bucket.swap_remove(i);
                }
            }
        }
        self.live[pos as usize] = false;
        self.free.push(pos);
        true
    }

    fn add_to_buckets(&mut self, pos: u32) {
        let hash = self.hashes[pos as usize];
        for s in 0..SLOTS {
            self.buckets[(s << 16) | usize::from(hash.slot(s))].push(pos);
        }
    }

    fn build_buckets(&mut self) {
        self.buckets = vec![Vec::new(); SLOTS * BUCKETS_PER_SLOT];
        for pos in 0..self.hashes.len() {
            if self.live[pos] {
                self.add_to_buckets(pos as u32);
            }
        }
    }

    /// Every hash within `radius` of `query`, nearest first (ties by key).
    pub fn search(&self, query: &PdqHash, radius: u32) -> Vec<Match> {
        let mut found: Vec<u32> = if radius < 32 && self.uses_buckets() {
            self.probe(query, radius)
        } else {
            self.scan(query, radius)
        };
        found.sort_unstable();
        found.dedup();
        let mut matches: Vec<Match> = found
            .into_iter()
            .map(|p| {
                let hash = self.hashes[p as usize];
                Match {
                    key: self.keys[p as usize],
                    hash,
                    distance: hash.distance(query),
                }
            })
            .collect();
        matches.sort_unstable_by_key(|m| (m.distance, m.key));
        matches
    }

    /// Multi-index probe (radius ≤ 31); may list a position more than once.
    fn probe(&self, query: &PdqHash, radius: u32) -> Vec<u32> {
        let flips = if radius >= 16 { 16 } else { 0 };
        let mut found = Vec::new();
        for s in 0..SLOTS {
            let value = query.slot(s);
            for flip in 0..=flips {
                let probe = if flip == 0 {
                    value
                } else {
                    value ^ (1 << (flip - 1))
                };
                for &pos in &self.buckets[(s << 16) | usize::from(probe)] {
                    if self.hashes[pos as usize].distance(query) <= radius {
                        found.push(pos);
                    }
                }
            }
        }
        found
    }

    /// Linear scan over contiguous hashes (any radius).
    fn scan(&self, query: &PdqHash, radius: u32) -> Vec<u32> {
        self.hashes
            .iter()
            .zip(&self.live)
            .enumerate()
            .filter(|(_, (h, live))| **live && h.distance(query) <= radius)
            .map(|(p, _)| p as u32)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn brute_force(entries: &[(i64, PdqHash)], q: &PdqHash, radius: u32) -> Vec<(i64, u32)> {
        let mut v: Vec<(i64, u32)> = entries
            .iter()
            .filter(|(_, h)| h.distance(q) <= radius)
            .map(|(k, h)| (*k, h.distance(q)))
            .collect();
        v.sort_by_key(|(k, d)| (*d, *k));
        v
    }

    fn flip_bits(h: PdqHash, bits: &[u8]) -> PdqHash {
        let mut w = h.0;
        for b in bits {
            w[usize::from(*b) / 64] ^= 1 << (b % 64);
        }
        PdqHash(w)
    }

    #[test]
    fn finds_a_hash_at_distance_31_spread_over_every_slot() {
        let base = PdqHash([0x1234_5678_9abc_def0, !0, 0, 0xdead_beef_0000_ffff]);
        // Two bits in 15 slots and one in the last: distance 31, no slot exact.
        let mut bits = Vec::new();
        for s in 0..16u8 {
            bits.push(s * 16);
            if s < 15 {
                bits.push(s * 16 + 5);
            }
        }
        let q = flip_bits(base, &bits);
        assert_eq!(q.distance(&base), 31);
        let mut idx = PdqIndex::with_mih_from(0);
        idx.insert(7, base);
        assert!(idx.uses_buckets());
        assert_eq!(idx.search(&q, 31).len(), 1);
        assert!(idx.search(&q, 30).is_empty());
    }

    #[test]
    fn removal_and_replacement() {
        let mut idx = PdqIndex::with_mih_from(0);
        let h = PdqHash([1, 2, 3, 4]);
        idx.insert(1, h);
        idx.insert(2, h);
        assert_eq!(idx.search(&h, 0).len(), 2);
        assert!(idx.remove(1));
        assert!(!idx.remove(1));
        assert_eq!(idx.search(&h, 0)[0].key, 2);
        idx.insert(2, PdqHash([!1, !2, !3, !4]));
        assert!(idx.search(&h, 31).is_empty());
        assert_eq!(idx.len(), 1);
    }

    fn near_duplicates() -> impl Strategy<Value = (Vec<PdqHash>, Vec<(usize, Vec<u8>)>)> {
        (
            prop::collection::vec(any::<[u64; 4]>().prop_map(PdqHash), 1..60),
            prop::collection::vec(
                (any::<usize>(), prop::collection::vec(any::<u8>(), 0..48)),
                1..20,
            ),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn results_equal_a_brute_force_scan(
            (hashes, queries) in near_duplicates(),
            radius in 0u32..64,
            mih_from in prop_oneof![Just(0usize), Just(10), Just(1000)],
            removed in prop::collection::vec(any::<usize>(), 0..10),
        ) {
            let mut idx = PdqIndex::with_mih_from(mih_from);
            let mut entries: Vec<(i64, PdqHash)> = Vec::new();
            for (k, h) in hashes.iter().enumerate() {
                idx.insert(k as i64, *h);
                entries.push((k as i64, *h));
            }
            for r in removed {
                let k = (r % hashes.len()) as i64;
                idx.remove(k);
                entries.retain(|(key, _)| *key != k);
            }
            for (base, bits) in queries {
                let q = flip_bits(hashes[base % hashes.len()], &bits);
                let got: Vec<(i64, u32)> =
                    idx.search(&q, radius).iter().map(|m| (m.key, m.distance)).collect();
                prop_assert_eq!(got, brute_force(&entries, &q, radius));
            }
        }
    }
}
