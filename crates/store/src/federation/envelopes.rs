//! Envelopes sent and received: their rows, by case, by sender and id, by hash.

use crate::Connection;
use rusqlite::{OptionalExtension, params};

use crate::StoreError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeRow {
    pub hash: String,
    pub id: String,
    pub sender: String,
    pub recipient: String,
    pub kind: String,
    pub case_id: String,
    pub created: String,
    pub signed_json: String,
    pub direction: Direction,
    pub log_index: u64,
    pub recorded_at: String,
    pub receipt: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Out,
    In,
}

impl crate::StoredText for Direction {
    fn to_text(&self) -> &'static str {
        match self {
            Direction::Out => "out",
            Direction::In => "in",
        }
    }
    fn from_text(text: &str) -> Option<Direction> {
        match text {
            "out" => Some(Direction::Out),
            "in" => Some(Direction::In),
            _ => None,
        }
    }
}

const ENVELOPE_COLUMNS: &str = "hash, id, sender, recipient, kind, case_id, created, signed_json, direction, log_index, recorded_at, receipt";

fn envelope_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EnvelopeRow> {
    Ok(EnvelopeRow {
        hash: r.get("hash")?,
        id: r.get("id")?,
        sender: r.get("sender")?,
        recipient: r.get("recipient")?,
        kind: r.get("kind")?,
        case_id: r.get("case_id")?,
        created: r.get("created")?,
        signed_json: r.get("signed_json")?,
        direction: r.get::<_, crate::Stored<Direction>>("direction")?.0,
        log_index: r.get::<_, i64>("log_index")? as u64,
        recorded_at: r.get("recorded_at")?,
        receipt: r.get("receipt")?,
    })
}

pub fn insert_envelope(conn: &Connection, e: &EnvelopeRow) -> Result<(), StoreError> {
    conn.prepare_cached(&format!(
        "INSERT INTO envelopes ({ENVELOPE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    ))?
    .execute(params![
        e.hash,
        e.id,
        e.sender,
        e.recipient,
        e.kind,
        e.case_id,
        e.created,
        e.signed_json,
        crate::Stored(e.direction),
        e.log_index as i64,
        e.recorded_at,
        e.receipt
    ])?;
    Ok(())
}

pub fn envelope_by_sender_id(
    conn: &Connection,
    sender: &str,
    id: &str,
) -> Result<Option<EnvelopeRow>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ENVELOPE_COLUMNS} FROM envelopes WHERE sender = ?1 AND id = ?2"
        ))?
        .query_row(params![sender, id], envelope_from_row)
        .optional()?)
}

pub fn envelope_by_hash(conn: &Connection, hash: &str) -> Result<Option<EnvelopeRow>, StoreError> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {ENVELOPE_COLUMNS} FROM envelopes WHERE hash = ?1"
        ))?
        .query_row(params![hash], envelope_from_row)
        .optional()?)
}

pub fn envelopes_of_case(conn: &Connection, case_id: &str) -> Result<Vec<EnvelopeRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ENVELOPE_COLUMNS} FROM envelopes WHERE case_id = ?1 ORDER BY created, log_index"
    ))?;
    let rows = stmt
        .query_map([case_id], envelope_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The envelopes of one kind in a case, in log order.
pub fn envelopes_of_case_of_kind(
    conn: &Connection,
    case_id: &str,
    kind: &str,
) -> Result<Vec<EnvelopeRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ENVELOPE_COLUMNS} FROM envelopes WHERE case_id = ?1 AND kind = ?2 ORDER BY log_index"
    ))?;
    let rows = stmt
        .query_map([case_id, kind], envelope_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// When this node last recorded an envelope of the case.
pub fn latest_recorded(conn: &Connection, case_id: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT max(recorded_at) FROM envelopes WHERE case_id = ?1")?
        .query_row([case_id], |r| r.get(0))?)
}

/// Outgoing envelopes `peer` gave a receipt for (its own receipt in
/// `receipt`), in log order: what an audit checks against the peer's log.
pub fn envelopes_with_receipts_from(
    conn: &Connection,
    peer: &str,
) -> Result<Vec<EnvelopeRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.hash, e.id, e.sender, e.recipient, e.kind, e.case_id, e.created, e.signed_json,
                e.direction, e.log_index, e.recorded_at, o.receipt
         FROM outbox o JOIN envelopes e ON e.hash = o.envelope_hash
         WHERE o.peer = ?1 AND o.receipt IS NOT NULL ORDER BY e.log_index",
    )?;
    let rows = stmt
        .query_map([peer], envelope_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// How many envelopes from `peer` were recorded here at or after `since`
/// (RFC 3339, as stored): what a revocation of its key puts in doubt.
pub fn received_since(conn: &Connection, peer: &str, since: &str) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM envelopes
             WHERE direction = 'in' AND sender = ?1 AND recorded_at >= ?2 AND kind != 'key_change'",
        )?
        .query_row(params![peer, since], |r| r.get(0))?)
}

pub fn set_receipt(conn: &Connection, hash: &str, receipt: &str) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE envelopes SET receipt = ?2 WHERE hash = ?1")?
        .execute(params![hash, receipt])?;
    Ok(())
}

/// Every envelope of a case (glossary events have none), as (hash, case id)
/// in log order: what the search index is rebuilt from.
pub fn case_envelope_hashes(conn: &Connection) -> Result<Vec<(String, String)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT hash, case_id FROM envelopes WHERE kind != 'glossary' ORDER BY log_index",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get("hash")?, r.get("case_id")?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
