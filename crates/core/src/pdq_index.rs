//! Exact PDQ matching: every hash within a Hamming radius, never an
//! approximation.
//!
//! Multi-index hashing: the 256 bits are cut into 16 slots of 16 bits. Two
//! hashes within distance r ≤ 31 differ in at most ⌊r/16⌋ ≤ 1 bit on at
//! least one slot (pigeonhole: 16 slots × 2 bits > 31), so probing each
//! slot's value and its one-bit neighbours finds every match; each
//! candidate is then checked at full length. Radius ≤ 15 needs only the
//! exact slot values. Larger radii, and small lists, scan every hash.
//!
//! Layout, for speed on large lists: per slot, entries sorted by slot value
//! in one contiguous array (offsets by value, like a CSR matrix), each entry
//! carrying 128 other bits of its hash, so random candidates are rejected
//! without touching the full hash (they differ in ~64 of those bits; a
//! match differs in at most r). Memory: about 20 bytes × 16 slots per hash.
//!
//! Updates are incremental, as in a log-structured merge tree: new hashes
//! go to a short list scanned linearly; when it fills, it becomes a small
//! table, and tables of similar size are merged, so each hash is re-sorted
//! only a logarithmic number of times. Removals take effect at once (every
//! candidate is checked against the live hashes) and are purged at merges.

use std::collections::HashMap;

use serde::Serialize;

use crate::pdq::PdqHash;

/// Below this many hashes a straight scan beats probing 272 buckets.
pub const DEFAULT_MIH_FROM: usize = 4096;
const SLOTS: usize = 16;
/// New hashes scanned linearly before they become a table.
const RECENT_MAX: usize = 2048;
/// A table is merged into the previous one once it reaches 1/MERGE_RATIO of its size.
const MERGE_RATIO: usize = 8;

/// A hash found near a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Match {
    /// The caller's key for the hash (e.g. a hash-list entry id).
    pub key: i64,
    pub hash: PdqHash,
    pub distance: u32,
}

/// The 128 bits stored beside slot `s`: the two 64-bit words after the one
/// holding the slot.
#[inline]
fn filter_of(h: &PdqHash, s: usize) -> [u64; 2] {
    let w = s / 4;
    [h.0[(w + 1) % 4], h.0[(w + 2) % 4]]
}

#[inline]
fn filter_distance(a: &[u64; 2], b: &[u64; 2]) -> u32 {
    (a[0] ^ b[0]).count_ones() + (a[1] ^ b[1]).count_ones()
}

/// One immutable multi-index table.
#[derive(Clone, Debug)]
struct Table {
    /// Bits of each slot used as the bucket key (small tables use fewer).
    bits: u32,
    len: usize,
    /// Per slot, `2^bits + 1` offsets into that slot's entries.
    offsets: Vec<u32>,
    /// Per slot, `len` entries sorted by bucket: other bits and position.
    filters: Vec<[u64; 2]>,
    positions: Vec<u32>,
}

impl Table {
    fn build(entries: &[(u32, PdqHash)]) -> Table {
        let len = entries.len();
        let bits = (usize::BITS - len.max(1).leading_zeros()).clamp(8, 16);
        let buckets = 1usize << bits;
        let shift = 16 - bits;
        let mut offsets = vec![0u32; SLOTS * (buckets + 1)];
        let mut filters = vec![[0u64; 2]; SLOTS * len];
        let mut positions = vec![0u32; SLOTS * len];
        for s in 0..SLOTS {
            let offs = &mut offsets[s * (buckets + 1)..(s + 1) * (buckets + 1)];
            for (_, h) in entries {
                offs[usize::from(h.slot(s) >> shift) + 1] += 1;
            }
            for b in 0..buckets {
                offs[b + 1] += offs[b];
            }
            let mut next: Vec<u32> = offs[..buckets].to_vec();
            for (pos, h) in entries {
                let b = usize::from(h.slot(s) >> shift);
                let at = s * len + next[b] as usize;
                next[b] += 1;
                filters[at] = filter_of(h, s);
                positions[at] = *pos;
            }
        }
        Table {
            bits,
            len,
            offsets,
            filters,
            positions,
        }
    }

    /// Positions whose slot is within `flip` bits (0 or 1) of the query's on
    /// some slot and whose filter bits are within `radius`.
    ///
    /// Three passes, for memory-level parallelism: find every bucket's range
    /// (independent loads), touch each range's cache lines (independent
    /// loads the processor overlaps), then filter from cache.
    fn probe(&self, query: &PdqHash, radius: u32, flip: bool, out: &mut Vec<u32>) {
        let buckets = 1usize << self.bits;
        let shift = 16 - self.bits;
        let mut ranges: Vec<(usize, usize)> = Vec::with_capacity(SLOTS * 17);
        for s in 0..SLOTS {
            let key = usize::from(query.slot(s) >> shift);
            let offs = &self.offsets[s * (buckets + 1)..(s + 1) * (buckets + 1)];
            let base = s * self.len;
            let mut push = |b: usize| {
                let (lo, hi) = (offs[b] as usize, offs[b + 1] as usize);
                if lo < hi {
                    ranges.push((base + lo, base + hi));
                }
            };
            push(key);
            if flip {
                for bit in 0..self.bits {
                    push(key ^ (1 << bit));
                }
            }
        }
        let mut touched = 0u64;
        for &(lo, hi) in &ranges {
            // Four 16-byte filters per 64-byte cache line.
            for f in self.filters[lo..hi].iter().step_by(4) {
                touched ^= f[0];
            }
        }
        std::hint::black_box(touched);
        for &(lo, hi) in &ranges {
            let s = lo / self.len.max(1);
            let qf = filter_of(query, s);
            for (i, f) in self.filters[lo..hi].iter().enumerate() {
                if filter_distance(f, &qf) <= radius {
                    out.push(self.positions[lo + i]);
                }
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct PdqIndex {
    hashes: Vec<PdqHash>,
    keys: Vec<i64>,
    live: Vec<bool>,
    free: Vec<u32>,
    positions: HashMap<i64, u32>,
    /// Tables, largest first; empty while the list is small.
    tables: Vec<Table>,
    /// Positions added since the last table was built.
    recent: Vec<u32>,
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
            tables: Vec::new(),
            recent: Vec::new(),
            mih_from,
        }
    }

    /// Builds an index of many hashes at once (one sort, no merges).
    pub fn from_entries(entries: impl IntoIterator<Item = (i64, PdqHash)>) -> PdqIndex {
        let mut idx = PdqIndex::new();
        for (key, hash) in entries {
            if let Some(old) = idx.positions.get(&key).copied() {
                idx.live[old as usize] = false;
            }
            idx.hashes.push(hash);
            idx.keys.push(key);
            idx.live.push(true);
            idx.positions.insert(key, (idx.hashes.len() - 1) as u32);
        }
        idx.recent = (0..idx.hashes.len() as u32).collect();
        if idx.recent.len() >= RECENT_MAX {
            idx.flush_recent();
        }
        idx
    }

    pub fn len(&self) -> usize {
        self.positions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// Whether lookups probe tables (rather than scan everything).
    pub fn uses_tables(&self) -> bool {
        self.len() >= self.mih_from
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
        self.recent.push(pos);
        if self.recent.len() >= RECENT_MAX {
            self.flush_recent();
        }
    }

    /// Removes the hash under `key`; `false` if there was none. Its table
    /// entries stay until the next merge but never match again.
    pub fn remove(&mut self, key: i64) -> bool {
        let Some(pos) = self.positions.remove(&key) else {
            return false;
        };
        self.live[pos as usize] = false;
        self.free.push(pos);
        true
    }

    /// Live entries of `positions` (dropping removed and reused ones).
    fn live_entries(&self, positions: impl Iterator<Item = u32>, out: &mut Vec<(u32, PdqHash)>) {
        for p in positions {
            if self.live[p as usize] {
                out.push((p, self.hashes[p as usize]));
            }
        }
    }

    /// Turns the recent list into a table and merges tables of similar
    /// size, so each hash is re-sorted O(log n) times.
    fn flush_recent(&mut self) {
        let mut entries = Vec::with_capacity(self.recent.len());
        let recent = std::mem::take(&mut self.recent);
        self.live_entries(recent.into_iter(), &mut entries);
        while let Some(last) = self.tables.last() {
            if last.len > entries.len() * MERGE_RATIO {
                break;
            }
            let last = self.tables.pop().unwrap_or_else(|| Table::build(&[]));
            // Slot 0's positions list each entry of the table once.
            self.live_entries(last.positions[..last.len].iter().copied(), &mut entries);
        }
        entries.sort_unstable_by_key(|(p, _)| *p);
        entries.dedup_by_key(|(p, _)| *p);
        self.tables.push(Table::build(&entries));
    }

    /// Every hash within `radius` of `query`, nearest first (ties by key).
    pub fn search(&self, query: &PdqHash, radius: u32) -> Vec<Match> {
        let mut found: Vec<u32> = Vec::new();
        if radius < 32 && self.uses_tables() {
            for t in &self.tables {
                t.probe(query, radius, radius >= 16, &mut found);
            }
            found.extend(
                self.recent
                    .iter()
                    .copied()
                    .filter(|p| self.hashes[*p as usize].distance(query) <= radius),
            );
        } else {
            found.extend(
                self.hashes
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| h.distance(query) <= radius)
                    .map(|(p, _)| p as u32),
            );
        }
        found.sort_unstable();
        found.dedup();
        let mut matches: Vec<Match> = found
            .into_iter()
            .filter(|p| self.live[*p as usize])
            .filter_map(|p| {
                let hash = self.hashes[p as usize];
                let distance = hash.distance(query);
                (distance <= radius).then(|| Match {
                    key: self.keys[p as usize],
                    hash,
                    distance,
                })
            })
            .collect();
        matches.sort_unstable_by_key(|m| (m.distance, m.key));
        matches
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
        for i in 0..5000 {
            idx.insert(i, PdqHash([i as u64, !(i as u64), i as u64 * 7, 3]));
        }
        idx.insert(-1, base);
        assert!(idx.uses_tables() && !idx.tables.is_empty());
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

    #[test]
    fn tables_merge_as_the_list_grows_and_results_stay_exact() {
        let mut idx = PdqIndex::with_mih_from(0);
        let mut entries = Vec::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..40_000i64 {
            let h = PdqHash([next(), next(), next(), next()]);
            idx.insert(i, h);
            entries.push((i, h));
            if i % 3 == 0 {
                idx.remove(i / 2);
                entries.retain(|(k, _)| *k != i / 2);
            }
        }
        // Tables stay few: sizes shrink geometrically.
        assert!(idx.tables.len() <= 6, "{} tables", idx.tables.len());
        for (i, (_, h)) in entries.iter().enumerate().step_by(997) {
            let q = flip_bits(*h, &[(i % 256) as u8, ((i * 7) % 256) as u8, 3, 77, 150]);
            let got: Vec<(i64, u32)> = idx
                .search(&q, 31)
                .iter()
                .map(|m| (m.key, m.distance))
                .collect();
            assert_eq!(got, brute_force(&entries, &q, 31));
        }
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
            copies in 1usize..40,
        ) {
            let mut idx = PdqIndex::with_mih_from(mih_from);
            let mut entries: Vec<(i64, PdqHash)> = Vec::new();
            // Enough copies to fill the recent list and build tables.
            for c in 0..copies * 60 {
                let k = c as i64;
                let h = hashes[c % hashes.len()];
                idx.insert(k, h);
                entries.push((k, h));
            }
            for r in removed {
                let k = (r % entries.len()) as i64;
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
