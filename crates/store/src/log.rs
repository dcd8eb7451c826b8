//! The Merkle log's tables: reading heads, nodes, tiles and entries, and
//! extending the tree inside the writer's transaction.

use crate::Connection;
use liaison_log::frontier::Frontier;
use liaison_log::note::NoteSigner;
use liaison_log::tiles::{TILE_HEIGHT, TILE_WIDTH, TileKind, TileRef, encode_bundle};
use liaison_log::tree::{self, NodeReader};
use liaison_log::{Checkpoint, Hash, LogError};
use rusqlite::{OptionalExtension, params};

use crate::StoreError;

/// A durable tree head: size and root hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogHead {
    pub size: u64,
    pub root: Hash,
}

fn node_key(level: u8, index: u64) -> i64 {
    // index < 2^56 for any log this program can write (2^56 leaves).
    ((u64::from(level) << 56) | index) as i64
}

pub(crate) fn read_head(conn: &Connection) -> Result<LogHead, StoreError> {
    let (size, root): (i64, Vec<u8>) =
        conn.query_row("SELECT size, root FROM log_head WHERE id = 0", [], |r| {
            Ok((r.get("size")?, r.get("root")?))
        })?;
    let root = Hash::from_slice(&root)
        .ok_or_else(|| StoreError::Corrupt("the stored root is not 32 bytes".into()))?;
    Ok(LogHead {
        size: size as u64,
        root,
    })
}

/// Reads stored nodes through a connection.
pub(crate) struct DbNodes<'c>(pub &'c Connection);

impl NodeReader for DbNodes<'_> {
    fn node(&self, level: u8, index: u64) -> Result<Hash, LogError> {
        let mut stmt = self
            .0
            .prepare_cached("SELECT hash FROM log_nodes WHERE key = ?1")
            .map_err(|e| LogError::Storage(e.to_string()))?;
        let hash: Option<Vec<u8>> = stmt
            .query_row([node_key(level, index)], |r| r.get(0))
            .optional()
            .map_err(|e| LogError::Storage(e.to_string()))?;
        hash.and_then(|h| Hash::from_slice(&h))
            .ok_or(LogError::MissingNode { level, index })
    }
}

/// Checks at open that the stored tree and head agree: the root recomputed
/// from the stored nodes is the head's root, and every entry has its leaf.
pub(crate) fn check_head(conn: &Connection) -> Result<(), StoreError> {
    let head = read_head(conn)?;
    let entries: i64 = conn.query_row(
        "SELECT COALESCE(MAX(idx) + 1, 0) FROM log_entries",
        [],
        |r| r.get(0),
    )?;
    if entries as u64 != head.size {
        return Err(StoreError::Corrupt(format!(
            "the log head says {} entries but {} are stored",
            head.size, entries
        )));
    }
    let root = tree::root(&DbNodes(conn), head.size)?;
    if root != head.root {
        return Err(StoreError::Corrupt(format!(
            "the stored tree of size {} has root {root}, not the head's {}",
            head.size, head.root
        )));
    }
    Ok(())
}

/// The checkpoint of `head` signed by every key of `signers` (the first
/// names the origin).
pub(crate) fn sign_head(signers: &[&NoteSigner], head: LogHead) -> Result<String, StoreError> {
    let Some((first, others)) = signers.split_first() else {
        return Err(StoreError::Invalid("no key signs the log".into()));
    };
    let checkpoint = Checkpoint::new(first.name(), head.size, head.root);
    let mut note = checkpoint.sign(first)?;
    let text = checkpoint.to_text();
    for signer in others {
        note.push_str(&signer.signature_line(&text, None)?);
    }
    Ok(note)
}

/// The root of the tree when it had `size` entries.
pub(crate) fn root_at(conn: &Connection, size: u64) -> Result<Hash, StoreError> {
    Ok(liaison_log::tree::root(&DbNodes(conn), size)?)
}

pub(crate) fn load_frontier(conn: &Connection, size: u64) -> Result<Frontier, StoreError> {
    Ok(Frontier::load(&DbNodes(conn), size)?)
}

/// Appends `leaves` (entry data) to the tree after `frontier`, storing
/// entries and every completed node, and updates the head.
pub(crate) fn append_leaves(
    conn: &Connection,
    frontier: &mut Frontier,
    leaves: &[Vec<u8>],
) -> Result<LogHead, StoreError> {
    let mut insert_entry =
        conn.prepare_cached("INSERT INTO log_entries (idx, data) VALUES (?1, ?2)")?;
    let mut insert_node =
        conn.prepare_cached("INSERT INTO log_nodes (key, hash) VALUES (?1, ?2)")?;
    let mut node_error: Option<rusqlite::Error> = None;
    for data in leaves {
        insert_entry.execute(params![frontier.size() as i64, data])?;
        frontier.append(liaison_log::hash::leaf_hash(data), |n| {
            if node_error.is_none()
                && let Err(e) =
                    insert_node.execute(params![node_key(n.level, n.index), &n.hash.0[..]])
            {
                node_error = Some(e);
            }
        });
        if let Some(e) = node_error.take() {
            return Err(e.into());
        }
    }
    let head = LogHead {
        size: frontier.size(),
        root: frontier.root(),
    };
    conn.execute(
        "UPDATE log_head SET size = ?1, root = ?2 WHERE id = 0",
        params![head.size as i64, &head.root.0[..]],
    )?;
    Ok(head)
}

pub(crate) fn read_tile(conn: &Connection, tile: TileRef) -> Result<Option<Vec<u8>>, StoreError> {
    let width = u64::from(tile.width);
    let Some(start) = tile.index.checked_mul(TILE_WIDTH) else {
        return Ok(None);
    };
    match tile.kind {
        TileKind::Entries => {
            let mut stmt = conn.prepare_cached(
                "SELECT data FROM log_entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
            )?;
            let rows: Vec<Vec<u8>> = stmt
                .query_map(params![start as i64, (start + width) as i64], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            if rows.len() as u64 != width {
                return Ok(None);
            }
            Ok(Some(encode_bundle(rows.iter().map(Vec::as_slice))?))
        }
        TileKind::Hashes { level } => {
            let merkle_level = u32::from(level) * u32::from(TILE_HEIGHT);
            if merkle_level > 55 || start >= 1 << 56 {
                return Ok(None);
            }
            let merkle_level = merkle_level as u8;
            let mut stmt = conn.prepare_cached(
                "SELECT hash FROM log_nodes WHERE key >= ?1 AND key < ?2 ORDER BY key",
            )?;
            let mut out = Vec::with_capacity(32 * width as usize);
            let mut count = 0u64;
            let mut rows = stmt.query(params![
                node_key(merkle_level, start),
                node_key(merkle_level, start + width)
            ])?;
            while let Some(row) = rows.next()? {
                let h: Vec<u8> = row.get(0)?;
                out.extend_from_slice(&h);
                count += 1;
            }
            Ok((count == width).then_some(out))
        }
    }
}

pub(crate) fn read_entry(conn: &Connection, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT data FROM log_entries WHERE idx = ?1",
            [index as i64],
            |r| r.get("data"),
        )
        .optional()?)
}

/// Reads nodes through a connection, remembering each one read.
struct CachedNodes<'c> {
    db: DbNodes<'c>,
    cache: std::cell::RefCell<std::collections::HashMap<(u8, u64), Hash>>,
}

impl NodeReader for CachedNodes<'_> {
    fn node(&self, level: u8, index: u64) -> Result<Hash, LogError> {
        if let Some(h) = self.cache.borrow().get(&(level, index)) {
            return Ok(*h);
        }
        let h = self.db.node(level, index)?;
        self.cache.borrow_mut().insert((level, index), h);
        Ok(h)
    }
}

pub(crate) fn inclusion_proofs(
    conn: &Connection,
    indices: &[u64],
    size: u64,
) -> Result<Vec<Vec<Hash>>, StoreError> {
    check_size(conn, size)?;
    let nodes = CachedNodes {
        db: DbNodes(conn),
        cache: Default::default(),
    };
    indices
        .iter()
        .map(|&i| Ok(tree::inclusion_proof(&nodes, i, size)?))
        .collect()
}

pub(crate) fn inclusion_proof(
    conn: &Connection,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, StoreError> {
    check_size(conn, size)?;
    Ok(tree::inclusion_proof(&DbNodes(conn), index, size)?)
}

pub(crate) fn consistency_proof(
    conn: &Connection,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, StoreError> {
    check_size(conn, new)?;
    Ok(tree::consistency_proof(&DbNodes(conn), old, new)?)
}

fn check_size(conn: &Connection, size: u64) -> Result<(), StoreError> {
    let head = read_head(conn)?;
    if size > head.size {
        return Err(StoreError::NotFound(format!(
            "tree size {size} is beyond the current size {}",
            head.size
        )));
    }
    Ok(())
}
