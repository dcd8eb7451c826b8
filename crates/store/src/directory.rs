//! The directory: entries parties published in their own logs, as this node
//! holds them (its own, and others' it verified with their proofs).

use rusqlite::params;

use crate::{Connection, StoreError};

/// One stored entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryRow {
    /// The order it was recorded in here (0 until stored).
    pub seq: u64,
    pub hash: String,
    pub owner: String,
    pub published: String,
    /// Its index in the owner's log.
    pub log_index: u64,
    pub entry: String,
    /// The owner's proof (none for this node's own entries: proved when served).
    pub proof: Option<String>,
    /// Who cosigned the proof's checkpoint, comma-separated.
    pub witnesses: String,
    /// Who handed it over (`self` for this node's own).
    pub source: String,
    pub recorded_at: String,
}

/// Stores an entry unless it is held already. Returns whether it was new.
pub fn insert(conn: &Connection, row: &DirectoryRow) -> Result<bool, StoreError> {
    let added = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO directory
             (hash, owner, published, log_index, entry, proof, witnesses, source, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute(params![
            row.hash,
            row.owner,
            row.published,
            row.log_index as i64,
            row.entry,
            row.proof,
            row.witnesses,
            row.source,
            row.recorded_at
        ])?;
    Ok(added > 0)
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DirectoryRow> {
    Ok(DirectoryRow {
        seq: r.get::<_, i64>("seq")? as u64,
        hash: r.get("hash")?,
        owner: r.get("owner")?,
        published: r.get("published")?,
        log_index: r.get::<_, i64>("log_index")? as u64,
        entry: r.get("entry")?,
        proof: r.get("proof")?,
        witnesses: r.get("witnesses")?,
        source: r.get("source")?,
        recorded_at: r.get("recorded_at")?,
    })
}

/// Every entry held, by owner and then in the owner's log order (at most `limit`).
pub fn all(conn: &Connection, limit: usize) -> Result<Vec<DirectoryRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, hash, owner, published, log_index, entry, proof, witnesses, source, recorded_at
         FROM directory ORDER BY owner, log_index LIMIT ?1",
    )?;
    let rows = stmt
        .query_map([limit as i64], from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The entries recorded here after `after` (in that order), at most `limit`.
pub fn after(conn: &Connection, after: u64, limit: usize) -> Result<Vec<DirectoryRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, hash, owner, published, log_index, entry, proof, witnesses, source, recorded_at
         FROM directory WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![after as i64, limit as i64], from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// One owner's entries, in its log's order.
pub fn of_owner(conn: &Connection, owner: &str) -> Result<Vec<DirectoryRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, hash, owner, published, log_index, entry, proof, witnesses, source, recorded_at
         FROM directory WHERE owner = ?1 ORDER BY log_index",
    )?;
    let rows = stmt
        .query_map([owner], from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
