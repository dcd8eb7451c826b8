//! Key changes: each party's chain of cards, this node's own and its
//! peers', in the order they were recorded (a revocation that supersedes a
//! thief's rotation reuses its sequence; both stay on record).

use rusqlite::{OptionalExtension, params};

use crate::{Connection, StoreError};

/// One accepted key change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyChangeRow {
    pub party: String,
    pub sequence: u64,
    /// `rotation`, `revocation` or `recovery_rotation`.
    pub kind: String,
    pub hash: String,
    /// The signed statement (`liaison_core::keys::SignedKeyChange`), JSON.
    pub signed: String,
    /// The card it replaced, JSON.
    pub previous_card: String,
    pub issued_at: String,
    pub overlap_until: Option<String>,
    pub compromised_since: Option<String>,
    /// Its `key-change` entry in the party's own log (as the party said,
    /// for a peer's: the audit checks it).
    pub log_index: u64,
    pub recorded_at: String,
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<KeyChangeRow> {
    Ok(KeyChangeRow {
        party: r.get("party")?,
        sequence: r.get::<_, i64>("sequence")?.max(0) as u64,
        kind: r.get("kind")?,
        hash: r.get("hash")?,
        signed: r.get("signed")?,
        previous_card: r.get("previous_card")?,
        issued_at: r.get("issued_at")?,
        overlap_until: r.get("overlap_until")?,
        compromised_since: r.get("compromised_since")?,
        log_index: r.get::<_, i64>("log_index")?.max(0) as u64,
        recorded_at: r.get("recorded_at")?,
    })
}

const COLUMNS: &str = "party, sequence, kind, hash, signed, previous_card, issued_at, \
    overlap_until, compromised_since, log_index, recorded_at";

/// Records a change; one already recorded (same statement) is left as it
/// is. Returns whether it was new.
pub fn record(conn: &Connection, row: &KeyChangeRow) -> Result<bool, StoreError> {
    let n = conn.execute(
        "INSERT INTO key_changes (party, sequence, kind, hash, signed, previous_card, issued_at,
            overlap_until, compromised_since, log_index, recorded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (hash) DO NOTHING",
        params![
            row.party,
            row.sequence as i64,
            row.kind,
            row.hash,
            row.signed,
            row.previous_card,
            row.issued_at,
            row.overlap_until,
            row.compromised_since,
            row.log_index as i64,
            row.recorded_at
        ],
    )?;
    Ok(n == 1)
}

/// A party's changes, in the order recorded.
pub fn of_party(conn: &Connection, party: &str) -> Result<Vec<KeyChangeRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM key_changes WHERE party = ?1 ORDER BY id"
    ))?;
    let rows = stmt
        .query_map([party], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Every party's changes, by party and then oldest first.
pub fn all(conn: &Connection) -> Result<Vec<KeyChangeRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM key_changes ORDER BY party, id"
    ))?;
    let rows = stmt
        .query_map([], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The sequence of a party's last change recorded (0 for none): what its
/// next change must follow.
pub fn last_sequence(conn: &Connection, party: &str) -> Result<u64, StoreError> {
    let last: Option<i64> = conn
        .prepare_cached(
            "SELECT sequence FROM key_changes WHERE party = ?1 ORDER BY id DESC LIMIT 1",
        )?
        .query_row([party], |r| r.get(0))
        .optional()?;
    Ok(last.unwrap_or(0).max(0) as u64)
}

/// The change recorded with this statement hash, if any.
pub fn by_hash(conn: &Connection, hash: &str) -> Result<Option<KeyChangeRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM key_changes WHERE hash = ?1"
    ))?;
    Ok(stmt.query_row([hash], from_row).optional()?)
}
