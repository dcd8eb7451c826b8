//! Verifying a whole log from its tiles: the checkpoint signature, every
//! entry against its leaf hash, every higher tile against the tiles below,
//! and the root recomputed from all leaves against the checkpoint.
//!
//! The source is either a node's own database (read through the same code
//! that serves tiles) or a log served over HTTP(S) in the tlog-tiles layout.

use std::collections::BTreeMap;

use crate::Node;
use liaison_core::leaf::LeafEntry;
use liaison_log::frontier::Frontier;
use liaison_log::hash::{leaf_hash, node_hash};
use liaison_log::note::NoteVerifier;
use liaison_log::tiles::{TILE_WIDTH, TileKind, TileRef, decode_bundle, tiles_at_level};
use liaison_log::{Checkpoint, Hash};

use crate::NodeError;

/// Where tiles come from.
pub enum TileSource {
    /// This node's own log.
    Local(Box<Node>),
    Remote {
        client: reqwest::Client,
        base_url: String,
    },
}

impl TileSource {
    async fn fetch(&self, path: &str) -> Result<Option<Vec<u8>>, NodeError> {
        match self {
            TileSource::Local(node) => {
                if path == "checkpoint" {
                    return Ok(Some(node.store.checkpoint()?.as_bytes().to_vec()));
                }
                let tile = TileRef::parse(path).map_err(|e| NodeError::Invalid(e.to_string()))?;
                Ok(node.store.tile(tile)?)
            }
            TileSource::Remote { client, base_url } => {
                let url = format!("{}/{path}", base_url.trim_end_matches('/'));
                let resp = client
                    .get(&url)
                    .send()
                    .await
                    .map_err(|e| NodeError::Io(format!("cannot fetch {url}: {e}")))?;
                if resp.status() == reqwest::StatusCode::NOT_FOUND {
                    return Ok(None);
                }
                if !resp.status().is_success() {
                    return Err(NodeError::Io(format!(
                        "fetching {url} answered {}",
                        resp.status()
                    )));
                }
                let bytes = resp
                    .bytes()
                    .await
                    .map_err(|e| NodeError::Io(format!("cannot read {url}: {e}")))?;
                Ok(Some(bytes.to_vec()))
            }
        }
    }
}

/// What a successful verification established.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    pub origin: String,
    pub size: u64,
    pub root: String,
    pub tiles_checked: u64,
    pub entries_checked: u64,
    pub entry_kinds: BTreeMap<String, u64>,
    pub first_entry_is_card: bool,
}

/// Verifies the whole log; `progress(done, total)` is called per tile.
pub async fn verify_log(
    source: &TileSource,
    log_key: &NoteVerifier,
    mut progress: impl FnMut(u64, u64),
) -> Result<VerifyReport, NodeError> {
    let fail = |msg: String| NodeError::Invalid(msg);
    let note = source
        .fetch("checkpoint")
        .await?
        .ok_or_else(|| fail("the log serves no checkpoint".into()))?;
    let note = String::from_utf8(note).map_err(|_| fail("the checkpoint is not UTF-8".into()))?;
    let (cp, _) = Checkpoint::open(&note, log_key, &[]).map_err(|e| {
        fail(format!(
            "the checkpoint does not verify with key {}: {e}",
            log_key.name()
        ))
    })?;

    // Level-0 tiles come with their entry bundles, hence twice.
    let total: u64 = (0..8u8)
        .map(|l| tiles_at_level(cp.size, l).len() as u64)
        .sum::<u64>()
        + tiles_at_level(cp.size, 0).len() as u64;
    let mut done = 0u64;
    let mut frontier = Frontier::new();
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    let mut first_entry_is_card = false;
    // Hashes of full tiles at the level below: what the next level must hold.
    let mut expected: Vec<Hash> = Vec::new();

    for (index, width) in tiles_at_level(cp.size, 0) {
        let hashes = fetch_hashes(source, TileKind::Hashes { level: 0 }, index, width).await?;
        let bundle = fetch_tile(
            source,
            TileRef {
                kind: TileKind::Entries,
                index,
                width,
            },
        )
        .await?;
        let entries =
            decode_bundle(&bundle).map_err(|e| fail(format!("entry bundle {index}: {e}")))?;
        if entries.len() != usize::from(width) {
            return Err(fail(format!(
                "entry bundle {index} holds {} entries, not {width}",
                entries.len()
            )));
        }
        for (i, (entry, hash)) in entries.iter().zip(&hashes).enumerate() {
            let position = index * TILE_WIDTH + i as u64;
            if leaf_hash(entry) != *hash {
                return Err(fail(format!(
                    "entry {position} does not hash to the leaf hash in tile 0/{index}"
                )));
            }
            let kind = match LeafEntry::decode(entry) {
                Ok(e) => e.kind.as_str().to_owned(),
                Err(_) => "unknown".to_owned(),
            };
            if position == 0 {
                first_entry_is_card = kind == "card";
            }
            *kinds.entry(kind).or_default() += 1;
            frontier.append(*hash, |_| {});
        }
        if u64::from(width) == TILE_WIDTH {
            expected.push(tile_root(&hashes));
        }
        done += 2;
        progress(done, total);
    }

    let mut level = 1u8;
    loop {
        let tiles = tiles_at_level(cp.size, level);
        if tiles.is_empty() {
            break;
        }
        let mut next = Vec::new();
        let mut position = 0usize;
        for (index, width) in tiles {
            let hashes = fetch_hashes(source, TileKind::Hashes { level }, index, width).await?;
            for (i, h) in hashes.iter().enumerate() {
                if expected.get(position) != Some(h) {
                    return Err(fail(format!(
                        "hash {i} of tile {level}/{index} is not the hash of the tile below it"
                    )));
                }
                position += 1;
            }
            if u64::from(width) == TILE_WIDTH {
                next.push(tile_root(&hashes));
            }
            done += 1;
            progress(done, total);
        }
        if position != expected.len() {
            return Err(fail(format!("level {level} tiles are missing hashes")));
        }
        expected = next;
        level += 1;
    }

    if frontier.root() != cp.root {
        return Err(fail(format!(
            "the tree recomputed from all {} entries has root {}, but the checkpoint says {}",
            cp.size,
            frontier.root(),
            cp.root
        )));
    }
    Ok(VerifyReport {
        origin: cp.origin,
        size: cp.size,
        root: cp.root.to_base64(),
        tiles_checked: done,
        entries_checked: cp.size,
        entry_kinds: kinds,
        first_entry_is_card,
    })
}

async fn fetch_tile(source: &TileSource, tile: TileRef) -> Result<Vec<u8>, NodeError> {
    source
        .fetch(&tile.path())
        .await?
        .ok_or_else(|| NodeError::Invalid(format!("the log does not serve {}", tile.path())))
}

async fn fetch_hashes(
    source: &TileSource,
    kind: TileKind,
    index: u64,
    width: u16,
) -> Result<Vec<Hash>, NodeError> {
    let tile = TileRef { kind, index, width };
    let bytes = fetch_tile(source, tile).await?;
    if bytes.len() != 32 * usize::from(width) {
        return Err(NodeError::Invalid(format!(
            "{} is {} bytes, not {}",
            tile.path(),
            bytes.len(),
            32 * usize::from(width)
        )));
    }
    Ok(bytes
        .chunks_exact(32)
        .filter_map(Hash::from_slice)
        .collect())
}

/// The Merkle hash of a full tile's 256 hashes (8 levels up).
fn tile_root(hashes: &[Hash]) -> Hash {
    let mut level: Vec<Hash> = hashes.to_vec();
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|p| node_hash(&p[0], &p[1]))
            .collect();
    }
    level.first().copied().unwrap_or_else(Hash::empty_root)
}
