//! Reading a peer's whole log, a little more at each audit: the entries
//! from where the last scan stopped, checked against the audited
//! checkpoint's root, and the key-change entries among them. With them an
//! audit checks that the chain a party serves holds every key change its
//! witnessed log holds: a party cannot log two chains and show each to
//! different peers.

use liaison_core::leaf::{LeafEntry, LeafKind};
use liaison_log::frontier::Frontier;
use liaison_log::hash::leaf_hash;
use liaison_log::tiles::{TILE_WIDTH, TileKind, TileRef, decode_bundle};
use liaison_log::{Checkpoint, Hash};
use serde::{Deserialize, Serialize};

use crate::tls::ReadError;
use crate::{Node, NodeError};

/// Entry bundles read at most per audit (256 entries each): a long log is
/// read over several audits.
const MAX_BUNDLES_PER_AUDIT: u64 = 1024;

/// Largest entry bundle accepted (Liaison's entries are under 100 bytes).
const MAX_BUNDLE_BYTES: usize = 256 * 1024;

/// Bytes of bundles read at most per audit (an honest log's 1,024 bundles
/// are about 20 MB): a peer cannot make an audit download more.
const MAX_BYTES_PER_AUDIT: usize = 32 * 1024 * 1024;

/// Key-change entries kept at most: a party rotates a few times a year; a
/// log with more is not read further.
const MAX_KEY_CHANGES: usize = 4096;

/// How far a peer's log has been read: its size, the frontier of the tree
/// of those entries, and the statement hashes of its key-change entries.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Scan {
    pub size: u64,
    frontier: Vec<String>,
    pub key_changes: Vec<String>,
}

/// What is kept between audits: the part read and checked against a
/// checkpoint, and the part read beyond it (checked when a scan reaches
/// the size of a checkpoint).
#[derive(Debug, Default, Serialize, Deserialize)]
struct Progress {
    verified: Scan,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    unverified: Option<Scan>,
}

/// Why a scan stopped.
#[derive(Debug)]
pub(crate) enum ScanFailure {
    /// The log could not be read (it may be down): tried again next audit.
    Unreachable(String),
    /// What it served is not the log its checkpoint commits to.
    BadEntries(String),
}

fn meta_key(party: &str) -> String {
    format!("log_scan/{party}")
}

impl Scan {
    /// The frontier as stored (a damaged one starts the scan over).
    fn frontier(&self) -> Option<Frontier> {
        let hashes = self
            .frontier
            .iter()
            .map(|h| Hash::from_base64(h).ok())
            .collect::<Option<Vec<_>>>()?;
        Frontier::from_parts(self.size, hashes).ok()
    }
}

impl Progress {
    /// Takes what a read brought: checked when it reached the checkpoint
    /// (the verified part moves on, or the read is an error), kept as
    /// unverified when it stopped short, dropped when it failed.
    fn advance(
        &mut self,
        read: Result<(Scan, Frontier), ScanFailure>,
        checkpoint: &Checkpoint,
        party: &str,
    ) -> Result<(), ScanFailure> {
        match read {
            Ok((scan, frontier)) if frontier.size() == checkpoint.size => {
                if frontier.root() == checkpoint.root {
                    self.verified = scan;
                    Ok(())
                } else {
                    Err(ScanFailure::BadEntries(format!(
                        "{party}'s entries do not lead to the root of its checkpoint of size {}",
                        checkpoint.size
                    )))
                }
            }
            Ok((scan, _)) => {
                self.unverified = Some(scan);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}

impl Node {
    /// Reads `party`'s log on from where the last scan stopped, towards
    /// `checkpoint` (at most [`MAX_BUNDLES_PER_AUDIT`] bundles), and returns
    /// the part checked against a checkpoint, and why it stopped short if
    /// it did (entries that do not lead to the checkpoint's root, or a log
    /// it could not read); what was checked before stays.
    pub(crate) async fn scan_log(
        &self,
        client: &reqwest::Client,
        base: &str,
        party: &str,
        checkpoint: &Checkpoint,
    ) -> Result<(Scan, Option<ScanFailure>), NodeError> {
        let key = meta_key(party);
        let mut progress: Progress = match self.store.meta(&key)? {
            Some(json) => serde_json::from_str(&json).unwrap_or_default(),
            None => Progress::default(),
        };
        if progress.verified.size > checkpoint.size {
            // The audit reports a log that went back; nothing to read.
            return Ok((progress.verified, None));
        }
        let start = progress
            .unverified
            .take()
            .filter(|s| s.size <= checkpoint.size)
            .unwrap_or_else(|| progress.verified.clone());
        let read = read_entries(client, base, start, checkpoint.size).await;
        let outcome = progress.advance(read, checkpoint, party);
        let json = serde_json::to_string(&progress)
            .map_err(|e| NodeError::Invalid(format!("cannot encode the scan: {e}")))?;
        self.store
            .write(move |tx| liaison_store::set_meta(tx.conn(), &key, &json))
            .await?;
        Ok((progress.verified, outcome.err()))
    }
}

/// Reads entries from `start.size` towards `size`, bundle by bundle.
async fn read_entries(
    client: &reqwest::Client,
    base: &str,
    start: Scan,
    size: u64,
) -> Result<(Scan, Frontier), ScanFailure> {
    let (mut frontier, mut key_changes) = match start.frontier() {
        Some(f) => (f, start.key_changes),
        None => (Frontier::new(), Vec::new()),
    };
    let (mut bundles, mut bytes_read) = (0, 0);
    while frontier.size() < size
        && bundles < MAX_BUNDLES_PER_AUDIT
        && bytes_read < MAX_BYTES_PER_AUDIT
    {
        let index = frontier.size() / TILE_WIDTH;
        let first = index * TILE_WIDTH;
        let width = (size - first).min(TILE_WIDTH);
        let tile = TileRef {
            kind: TileKind::Entries,
            index,
            width: width as u16,
        };
        let bytes = fetch_bytes(client, &format!("{base}/log/{}", tile.path())).await?;
        bytes_read += bytes.len();
        let entries = decode_bundle(&bytes)
            .map_err(|e| ScanFailure::BadEntries(format!("{}: {e}", tile.path())))?;
        if entries.len() as u64 != width {
            return Err(ScanFailure::BadEntries(format!(
                "{} holds {} entries, not {width}",
                tile.path(),
                entries.len()
            )));
        }
        for entry in &entries[(frontier.size() - first) as usize..] {
            frontier.append(leaf_hash(entry), |_| {});
            if let Ok(leaf) = LeafEntry::decode(entry)
                && leaf.kind == LeafKind::KeyChange
            {
                if key_changes.len() == MAX_KEY_CHANGES {
                    return Err(ScanFailure::BadEntries(format!(
                        "the log holds more than {MAX_KEY_CHANGES} key-change entries"
                    )));
                }
                key_changes.push(leaf.content_hash.to_hex());
            }
        }
        bundles += 1;
    }
    let scan = Scan {
        size: frontier.size(),
        frontier: frontier.hashes().iter().map(Hash::to_base64).collect(),
        key_changes,
    };
    Ok((scan, frontier))
}

async fn fetch_bytes(client: &reqwest::Client, url: &str) -> Result<Vec<u8>, ScanFailure> {
    let unreachable = |e: String| ScanFailure::Unreachable(format!("cannot fetch {url}: {e}"));
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    if !response.status().is_success() {
        return Err(unreachable(format!("answered {}", response.status())));
    }
    crate::tls::read_bounded(response, MAX_BUNDLE_BYTES)
        .await
        .map_err(|e| match e {
            ReadError::Transport(e) => unreachable(e),
            too_large => ScanFailure::BadEntries(format!("{url} {too_large}")),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use liaison_log::hash::leaf_hash;

    /// The scan of the first `n` of `entries`, from nothing.
    fn scanned(entries: &[Vec<u8>], n: usize) -> (Scan, Frontier) {
        let mut frontier = Frontier::new();
        for e in &entries[..n] {
            frontier.append(leaf_hash(e), |_| {});
        }
        let scan = Scan {
            size: frontier.size(),
            frontier: frontier.hashes().iter().map(Hash::to_base64).collect(),
            key_changes: vec![format!("{n}")],
        };
        (scan, frontier)
    }

    #[test]
    fn a_read_is_verified_only_when_it_reaches_the_checkpoint() {
        let entries: Vec<Vec<u8>> = (0..600u32).map(|i| i.to_be_bytes().to_vec()).collect();
        let (_, whole) = scanned(&entries, 600);
        let checkpoint = Checkpoint::new("liaison/us/00", 600, whole.root());
        let mut progress = Progress::default();
        // Stopped short: kept aside, nothing verified yet.
        progress
            .advance(Ok(scanned(&entries, 300)), &checkpoint, "us")
            .unwrap();
        assert_eq!(progress.verified.size, 0);
        let aside = progress.unverified.take().unwrap();
        assert_eq!(aside.size, 300);
        // It resumes from the saved frontier and reaches the root.
        let mut frontier = aside.frontier().unwrap();
        for e in &entries[300..] {
            frontier.append(leaf_hash(e), |_| {});
        }
        let resumed = Scan {
            size: 600,
            frontier: frontier.hashes().iter().map(Hash::to_base64).collect(),
            key_changes: aside.key_changes.clone(),
        };
        progress
            .advance(Ok((resumed, frontier)), &checkpoint, "us")
            .unwrap();
        assert_eq!(progress.verified.size, 600);
        // Entries that do not lead to the root: an error, what was verified stays.
        let mut other = entries.clone();
        other[599] = b"changed".to_vec();
        let e = progress
            .advance(Ok(scanned(&other, 600)), &checkpoint, "us")
            .unwrap_err();
        assert!(matches!(e, ScanFailure::BadEntries(_)), "{e:?}");
        assert_eq!(progress.verified.size, 600);
        assert_eq!(progress.verified.key_changes, ["300"]);
        // A damaged stored frontier starts over rather than misleads.
        let mut damaged = progress.verified.clone();
        damaged.frontier.pop();
        assert!(damaged.frontier().is_none());
    }
}
