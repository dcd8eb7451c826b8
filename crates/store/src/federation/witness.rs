//! Peers' checkpoints seen, the witness role's views, and the cosignatures our log received.

use crate::Connection;
use rusqlite::{OptionalExtension, params};

use crate::StoreError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerCheckpoint {
    pub size: u64,
    pub root: [u8; 32],
    pub note: String,
    pub seen_at: String,
}

/// Records a checkpoint seen from `peer`; returns whether it was new.
pub fn record_peer_checkpoint(
    conn: &Connection,
    peer: &str,
    size: u64,
    root: &[u8; 32],
    note: &str,
    at: &str,
) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO peer_checkpoints (peer, size, root, note, seen_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![peer, size as i64, &root[..], note, at])?;
    Ok(n > 0)
}

/// How many different roots `peer` signed for a tree of `size` (more than
/// one is equivocation); read from the key, whatever the history's length.
pub fn peer_roots_of_size(conn: &Connection, peer: &str, size: u64) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) AS roots FROM peer_checkpoints WHERE peer = ?1 AND size = ?2",
        )?
        .query_row(params![peer, size as i64], |r| r.get("roots"))?)
}

/// A stored peer checkpoint, read by column name.
fn peer_checkpoint_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PeerCheckpoint> {
    let root: Vec<u8> = r.get("root")?;
    let root: [u8; 32] = root.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            1,
            rusqlite::types::Type::Blob,
            "a stored peer root is not 32 bytes".into(),
        )
    })?;
    Ok(PeerCheckpoint {
        size: r.get::<_, i64>("size")? as u64,
        root,
        note: r.get("note")?,
        seen_at: r.get("seen_at")?,
    })
}

/// The largest checkpoint seen from `peer` (the first seen of that size).
pub fn latest_peer_checkpoint(
    conn: &Connection,
    peer: &str,
) -> Result<Option<PeerCheckpoint>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT size, root, note, seen_at FROM peer_checkpoints WHERE peer = ?1
             ORDER BY size DESC, seen_at LIMIT 1",
        )?
        .query_row([peer], peer_checkpoint_from_row)
        .optional()?)
}

pub fn peer_checkpoints(conn: &Connection, peer: &str) -> Result<Vec<PeerCheckpoint>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT size, root, note, seen_at FROM peer_checkpoints WHERE peer = ?1 ORDER BY size, seen_at",
    )?;
    let rows = stmt
        .query_map([peer], peer_checkpoint_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Witness role: the latest (size, root) cosigned for a log origin.
pub fn witness_view(
    conn: &Connection,
    origin: &str,
) -> Result<Option<(u64, [u8; 32])>, StoreError> {
    let row: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT size, root FROM witness_views WHERE origin = ?1")?
        .query_row([origin], |r| Ok((r.get("size")?, r.get("root")?)))
        .optional()?;
    row.map(|(size, root)| {
        let root: [u8; 32] = root
            .try_into()
            .map_err(|_| StoreError::Corrupt("a witness root is not 32 bytes".into()))?;
        Ok((size as u64, root))
    })
    .transpose()
}

/// Witness role: records the latest cosigned (size, root) for `origin`.
/// Callers check the old view in the same write job, so check and update
/// are atomic.
pub fn set_witness_view(
    conn: &Connection,
    origin: &str,
    size: u64,
    root: &[u8; 32],
    at: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO witness_views (origin, size, root, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, updated_at = excluded.updated_at",
        params![origin, size as i64, &root[..], at],
    )?;
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosignature {
    pub witness: String,
    pub size: u64,
    pub root: [u8; 32],
    pub line: String,
}

pub fn set_cosignature(conn: &Connection, c: &Cosignature) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO cosignatures (witness, size, root, line) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (witness) DO UPDATE SET size = excluded.size, root = excluded.root, line = excluded.line",
        params![c.witness, c.size as i64, &c.root[..], c.line],
    )?;
    Ok(())
}

pub fn cosignatures(conn: &Connection) -> Result<Vec<Cosignature>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT witness, size, root, line FROM cosignatures ORDER BY witness")?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>("witness")?,
                r.get::<_, i64>("size")?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, String>("line")?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(witness, size, root, line)| {
            let root: [u8; 32] = root
                .try_into()
                .map_err(|_| StoreError::Corrupt("a cosigned root is not 32 bytes".into()))?;
            Ok(Cosignature {
                witness,
                size: size as u64,
                root,
                line,
            })
        })
        .collect()
}
