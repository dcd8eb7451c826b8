//! Shared hash lists: this party's, built from agreed content reports, and
//! each peer's, as received. Withdrawn entries are kept (with why and when)
//! but no longer match.

use crate::Connection;
use rusqlite::{OptionalExtension as _, params};
use serde::Serialize;

use crate::StoreError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HashRow {
    pub id: i64,
    pub owner: String,
    pub entry_id: String,
    pub kind: String,
    pub value: String,
    pub entity: String,
    pub behaviour: String,
    pub urgency: String,
    pub origin_case: String,
    pub added_at: String,
    pub withdrawn_at: Option<String>,
    pub withdraw_reason: Option<String>,
    /// The marking of the report the entry came from (`clear` … `red`).
    pub tlp: String,
}

const COLUMNS: &str = "id, owner, entry_id, kind, value, entity, behaviour, urgency, origin_case, added_at, withdrawn_at, withdraw_reason, tlp";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HashRow> {
    Ok(HashRow {
        id: r.get("id")?,
        owner: r.get("owner")?,
        entry_id: r.get("entry_id")?,
        kind: r.get("kind")?,
        value: r.get("value")?,
        entity: r.get("entity")?,
        behaviour: r.get("behaviour")?,
        urgency: r.get("urgency")?,
        origin_case: r.get("origin_case")?,
        added_at: r.get("added_at")?,
        withdrawn_at: r.get("withdrawn_at")?,
        withdraw_reason: r.get("withdraw_reason")?,
        tlp: r.get("tlp")?,
    })
}

/// Adds an entry; an entry the owner already listed is left as it is.
/// Returns the row id when the entry is new.
pub fn add(conn: &Connection, e: &HashRow) -> Result<Option<i64>, StoreError> {
    let n = conn
        .prepare_cached(
            "INSERT INTO hash_list (owner, entry_id, kind, value, entity, behaviour, urgency, origin_case, added_at, tlp)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (owner, entry_id) DO NOTHING",
        )?
        .execute(params![
            e.owner, e.entry_id, e.kind, e.value, e.entity, e.behaviour, e.urgency, e.origin_case,
            e.added_at, e.tlp
        ])?;
    Ok((n > 0).then(|| conn.last_insert_rowid()))
}

/// Withdraws entries of `owner`'s list; returns the row ids withdrawn now.
pub fn withdraw(
    conn: &Connection,
    owner: &str,
    entry_ids: &[String],
    reason: &str,
    at: &str,
) -> Result<Vec<i64>, StoreError> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare_cached(
        "UPDATE hash_list SET withdrawn_at = ?3, withdraw_reason = ?4
         WHERE owner = ?1 AND entry_id = ?2 AND withdrawn_at IS NULL RETURNING id",
    )?;
    for id in entry_ids {
        if let Some(rowid) = stmt
            .query_row(params![owner, id, at, reason], |r| r.get(0))
            .optional()?
        {
            out.push(rowid);
        }
    }
    Ok(out)
}

pub fn by_id(conn: &Connection, id: i64) -> Result<Option<HashRow>, StoreError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM hash_list WHERE id = ?1"))?
        .query_row([id], row)
        .optional()?)
}

pub fn by_entry(
    conn: &Connection,
    owner: &str,
    entry_id: &str,
) -> Result<Option<HashRow>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM hash_list WHERE owner = ?1 AND entry_id = ?2"
        ))?
        .query_row([owner, entry_id], row)
        .optional()?)
}

/// Live entries holding exactly `value` (MD5 and SHA-256 lookups).
pub fn live_by_value(
    conn: &Connection,
    kind: &str,
    value: &str,
) -> Result<Vec<HashRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM hash_list WHERE kind = ?1 AND value = ?2 AND withdrawn_at IS NULL ORDER BY id"
    ))?;
    let rows = stmt
        .query_map([kind, value], row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Live PDQ hashes of rows after `after_id`, for the matching index:
/// `(row id, hex)`.
pub fn live_pdq_after(conn: &Connection, after_id: i64) -> Result<Vec<(i64, String)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, value FROM hash_list WHERE id > ?1 AND kind = 'pdq' AND withdrawn_at IS NULL",
    )?;
    let rows = stmt
        .query_map([after_id], |r| Ok((r.get("id")?, r.get("value")?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The newest row id (0 for an empty table): rows are only ever added.
pub fn max_id(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(id), 0) FROM hash_list")?
        .query_row([], |r| r.get(0))?)
}

/// A page of the lists, newest first, of entries marked with one of
/// `tlp_levels` (the reader's clearance, filtered in the query); `owner`
/// narrows to one party's list.
pub fn page(
    conn: &Connection,
    owner: Option<&str>,
    include_withdrawn: bool,
    limit: usize,
    offset: usize,
    tlp_levels: &[&str],
) -> Result<Vec<HashRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM hash_list
         WHERE (?1 IS NULL OR owner = ?1) AND (?2 OR withdrawn_at IS NULL)
           AND tlp IN (SELECT value FROM json_each(?5))
         ORDER BY id DESC LIMIT ?3 OFFSET ?4"
    ))?;
    let levels =
        serde_json::to_string(tlp_levels).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let rows = stmt
        .query_map(
            params![
                owner,
                include_withdrawn,
                limit as i64,
                offset as i64,
                levels
            ],
            row,
        )?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Live entries per owner and kind, among those marked with one of `tlp_levels`.
pub fn counts(
    conn: &Connection,
    tlp_levels: &[&str],
) -> Result<Vec<(String, String, i64)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT owner, kind, count(*) AS entries FROM hash_list
         WHERE withdrawn_at IS NULL AND tlp IN (SELECT value FROM json_each(?1))
         GROUP BY owner, kind ORDER BY owner, kind",
    )?;
    let levels =
        serde_json::to_string(tlp_levels).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let rows = stmt
        .query_map([levels], |r| {
            Ok((r.get("owner")?, r.get("kind")?, r.get("entries")?))
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
