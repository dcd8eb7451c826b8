//! Which envelopes carry which attachment, and who stored which file here.
//! Readability of an attachment is decided from these rows, never from the
//! text of stored envelopes.

use crate::Connection;
use rusqlite::{OptionalExtension, params};

use crate::StoreError;
use crate::federation::{CASE_COLUMNS, CaseRow, case_from_row};

/// Records that an envelope (of a case) lists an attachment.
pub fn add_reference(
    conn: &Connection,
    sha256: &str,
    envelope_hash: &str,
    case_id: &str,
    name: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO envelope_attachments (sha256, envelope_hash, case_id, name)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![sha256, envelope_hash, case_id, name])?;
    Ok(())
}

/// Every case with an envelope listing the attachment.
pub fn cases_referencing(conn: &Connection, sha256: &str) -> Result<Vec<CaseRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CASE_COLUMNS} FROM cases
         WHERE id IN (SELECT case_id FROM envelope_attachments WHERE sha256 = ?1)"
    ))?;
    let rows = stmt
        .query_map([sha256], case_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Whether any envelope lists the attachment.
pub fn is_referenced(conn: &Connection, sha256: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM envelope_attachments WHERE sha256 = ?1 LIMIT 1")?
        .query_row([sha256], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The name an envelope gave the attachment (the first one recorded).
pub fn name_of(conn: &Connection, sha256: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT name FROM envelope_attachments WHERE sha256 = ?1 ORDER BY rowid LIMIT 1",
        )?
        .query_row([sha256], |r| r.get("name"))
        .optional()?)
}

/// Whether an envelope exchanged with `peer` lists the attachment.
pub fn exchanged_with(conn: &Connection, sha256: &str, peer: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM envelope_attachments a JOIN envelopes e ON e.hash = a.envelope_hash
             WHERE a.sha256 = ?1 AND (e.sender = ?2 OR e.recipient = ?2) LIMIT 1",
        )?
        .query_row(params![sha256, peer], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Records that `holder` (`user:<name>` or `peer:<party>`) stored the file.
pub fn add_holder(
    conn: &Connection,
    sha256: &str,
    holder: &str,
    size: u64,
    now: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO attachment_holders (sha256, holder, size, stored_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (sha256, holder) DO UPDATE SET stored_at = excluded.stored_at",
    )?
    .execute(params![sha256, holder, size as i64, now])?;
    Ok(())
}

pub fn is_holder(conn: &Connection, sha256: &str, holder: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM attachment_holders WHERE sha256 = ?1 AND holder = ?2")?
        .query_row(params![sha256, holder], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Bytes `holder` stored that no envelope lists yet (what its quota counts).
pub fn pending_bytes(conn: &Connection, holder: &str) -> Result<u64, StoreError> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT coalesce(sum(h.size), 0) FROM attachment_holders h
             WHERE h.holder = ?1
               AND NOT EXISTS (SELECT 1 FROM envelope_attachments a WHERE a.sha256 = h.sha256)",
        )?
        .query_row([holder], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

/// Forgets holders of files no envelope lists, stored before `before`;
/// returns the hashes of files that nothing refers to or holds any more.
pub fn expire_unreferenced(conn: &Connection, before: i64) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT h.sha256 FROM attachment_holders h
         WHERE h.stored_at < ?1
           AND NOT EXISTS (SELECT 1 FROM envelope_attachments a WHERE a.sha256 = h.sha256)",
    )?;
    let candidates: Vec<String> = stmt
        .query_map([before], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    conn.prepare_cached(
        "DELETE FROM attachment_holders WHERE stored_at < ?1
           AND NOT EXISTS (SELECT 1 FROM envelope_attachments a WHERE a.sha256 = attachment_holders.sha256)",
    )?
    .execute([before])?;
    let mut gone = Vec::new();
    for sha in candidates {
        if !is_referenced(conn, &sha)? && !is_held(conn, &sha)? {
            gone.push(sha);
        }
    }
    Ok(gone)
}

/// Whether anyone still holds the file.
pub fn is_held(conn: &Connection, sha256: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM attachment_holders WHERE sha256 = ?1 LIMIT 1")?
        .query_row([sha256], |_| Ok(()))
        .optional()?
        .is_some())
}
