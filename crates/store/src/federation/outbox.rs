//! The durable outbox: what waits for delivery to each peer, and what became of it.

use crate::Connection;
use rusqlite::params;

use crate::StoreError;

/// Where an outbox entry stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    Pending,
    Delivered,
    /// The recipient refused it explicitly: it is not retried.
    Refused,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Pending => "pending",
            Delivery::Delivered => "delivered",
            Delivery::Refused => "refused",
        }
    }
}

impl crate::StoredText for Delivery {
    fn to_text(&self) -> &'static str {
        self.as_str()
    }
    fn from_text(text: &str) -> Option<Delivery> {
        [Delivery::Pending, Delivery::Delivered, Delivery::Refused]
            .into_iter()
            .find(|d| d.as_str() == text)
    }
}

/// An outbox entry waiting for delivery (or finished).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxItem {
    pub seq: i64,
    pub peer: String,
    pub envelope_hash: String,
    /// The envelope's id, kind and case (the recipient answers by id).
    pub envelope_id: String,
    pub envelope_kind: String,
    pub case_id: String,
    pub signed_json: String,
    /// Whether the envelope lists attachments (to be pushed first).
    pub has_attachments: bool,
    pub state: Delivery,
    pub enqueued_at: String,
    pub enqueued_ms: i64,
    pub attempts: i64,
    pub next_attempt_ms: i64,
    pub last_error: Option<String>,
    pub alerted: bool,
    /// Put off by the recipient until it holds what the envelope follows.
    pub deferred: bool,
}

fn outbox_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxItem> {
    Ok(OutboxItem {
        seq: r.get("seq")?,
        peer: r.get("peer")?,
        envelope_hash: r.get("envelope_hash")?,
        envelope_id: r.get("id")?,
        envelope_kind: r.get("kind")?,
        case_id: r.get("case_id")?,
        signed_json: r.get("signed_json")?,
        has_attachments: r.get("has_attachments")?,
        state: r.get::<_, crate::Stored<Delivery>>("state")?.0,
        enqueued_at: r.get("enqueued_at")?,
        enqueued_ms: r.get("enqueued_ms")?,
        attempts: r.get("attempts")?,
        next_attempt_ms: r.get("next_attempt_ms")?,
        last_error: r.get("last_error")?,
        alerted: r.get::<_, Option<String>>("alerted_at")?.is_some(),
        deferred: r.get("deferred")?,
    })
}

const OUTBOX_SELECT: &str =
    "SELECT o.seq, o.peer, o.envelope_hash, e.id, e.kind, e.case_id, e.signed_json,
        EXISTS (SELECT 1 FROM envelope_attachments a WHERE a.envelope_hash = o.envelope_hash) AS has_attachments,
        o.state, o.enqueued_at, o.enqueued_ms, o.attempts, o.next_attempt_ms, o.last_error, o.alerted_at, o.deferred
     FROM outbox o JOIN envelopes e ON e.hash = o.envelope_hash";

pub fn enqueue(
    conn: &Connection,
    peer: &str,
    envelope_hash: &str,
    now: &str,
    now_ms: i64,
) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO outbox (peer, envelope_hash, state, enqueued_at, enqueued_ms) VALUES (?1, ?2, 'pending', ?3, ?4)",
    )?
    .execute(params![peer, envelope_hash, now, now_ms])?;
    Ok(conn.last_insert_rowid())
}

/// The oldest pending entries for `peer` after sequence number `after`, in
/// order, leaving out those the peer put off whose next attempt is after
/// `now_ms` and every later entry of their cases: the rest of the stream
/// goes on, and a case's envelopes still arrive in order. The entries put
/// off are looked up in their own (small, partial) index: without being
/// told, SQLite's planner chose the index of every pending entry, so each
/// entry of a batch read all pending entries before it.
pub fn pending_after(
    conn: &Connection,
    peer: &str,
    after: i64,
    now_ms: i64,
    limit: usize,
) -> Result<Vec<OutboxItem>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "{OUTBOX_SELECT} WHERE o.peer = ?1 AND o.state = 'pending' AND o.seq > ?2
            AND NOT EXISTS (
                SELECT 1 FROM outbox d INDEXED BY outbox_put_off
                    JOIN envelopes de ON de.hash = d.envelope_hash
                WHERE d.peer = o.peer AND d.state = 'pending' AND d.deferred = 1
                  AND d.next_attempt_ms > ?3 AND d.seq <= o.seq AND de.case_id = e.case_id)
            ORDER BY o.seq LIMIT ?4"
    ))?;
    let rows = stmt
        .query_map(params![peer, after, now_ms, limit as i64], outbox_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The peers with an entry pending (through a partial index: what was
/// delivered is not read).
pub fn peers_with_pending(conn: &Connection) -> Result<Vec<String>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT DISTINCT peer FROM outbox WHERE state = 'pending'")?;
    let rows = stmt
        .query_map([], |r| r.get::<_, String>("peer"))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Every entry not delivered (pending or refused), for audits and the UI.
pub fn undelivered(conn: &Connection, peer: Option<&str>) -> Result<Vec<OutboxItem>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "{OUTBOX_SELECT} WHERE o.state != 'delivered' AND (?1 IS NULL OR o.peer = ?1) ORDER BY o.seq"
    ))?;
    let rows = stmt
        .query_map(params![peer], outbox_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn outbox_counts(conn: &Connection, peer: &str) -> Result<(i64, i64, i64), StoreError> {
    Ok(conn.query_row(
        "SELECT COALESCE(SUM(state = 'pending'), 0) AS pending,
                COALESCE(SUM(state = 'delivered'), 0) AS delivered,
                COALESCE(SUM(state = 'refused'), 0) AS refused
         FROM outbox WHERE peer = ?1",
        [peer],
        |r| Ok((r.get("pending")?, r.get("delivered")?, r.get("refused")?)),
    )?)
}

/// The highest outbox sequence number: a cheap "anything new?" probe.
pub fn last_outbox_seq(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM outbox", [], |r| r.get(0))?)
}

pub fn mark_delivered(
    conn: &Connection,
    seq: i64,
    envelope_hash: &str,
    receipt: &str,
    at: &str,
    at_ms: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE outbox SET state = 'delivered', delivered_at = ?2, delivered_ms = ?3, last_error = NULL,
            receipt = ?4, deferred = 0 WHERE seq = ?1",
    )?
    .execute(params![seq, at, at_ms, receipt])?;
    // The envelope row keeps the first receipt that came back.
    conn.prepare_cached("UPDATE envelopes SET receipt = ?2 WHERE hash = ?1 AND receipt IS NULL")?
        .execute(params![envelope_hash, receipt])?;
    Ok(())
}

/// Puts an entry off until `next_attempt_ms`: its recipient could not record
/// it yet. The rest of the stream goes on meanwhile.
pub fn mark_deferred(
    conn: &Connection,
    seq: i64,
    reason: &str,
    next_attempt_ms: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_ms = ?3, deferred = 1 WHERE seq = ?1",
    )?
    .execute(params![seq, reason, next_attempt_ms])?;
    Ok(())
}

/// Where one recipient's copy of an outgoing envelope stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientDelivery {
    pub envelope_hash: String,
    pub peer: String,
    pub state: Delivery,
    /// The recipient's receipt (a tlog-proof), once delivered.
    pub receipt: Option<String>,
    pub delivered_at: Option<String>,
    pub last_error: Option<String>,
}

/// Every recipient's delivery of every outgoing envelope of a case, in outbox order.
pub fn deliveries_of_case(
    conn: &Connection,
    case_id: &str,
) -> Result<Vec<RecipientDelivery>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.envelope_hash, o.peer, o.state, o.receipt, o.delivered_at, o.last_error
         FROM envelopes e JOIN outbox o ON o.envelope_hash = e.hash
         WHERE e.case_id = ?1 AND e.direction = 'out' ORDER BY o.seq",
    )?;
    let rows = stmt
        .query_map([case_id], |r| {
            Ok(RecipientDelivery {
                envelope_hash: r.get("envelope_hash")?,
                peer: r.get("peer")?,
                state: r.get::<_, crate::Stored<Delivery>>("state")?.0,
                receipt: r.get("receipt")?,
                delivered_at: r.get("delivered_at")?,
                last_error: r.get("last_error")?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn mark_refused(conn: &Connection, seq: i64, reason: &str) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE outbox SET state = 'refused', last_error = ?2, attempts = attempts + 1 WHERE seq = ?1")?
        .execute(params![seq, reason])?;
    Ok(())
}

pub fn mark_attempt_failed(
    conn: &Connection,
    seq: i64,
    error: &str,
    next_attempt_ms: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_ms = ?3, deferred = 0 WHERE seq = ?1",
    )?
    .execute(params![seq, error, next_attempt_ms])?;
    Ok(())
}

pub fn mark_alerted(conn: &Connection, seq: i64, at: &str) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE outbox SET alerted_at = ?2 WHERE seq = ?1")?
        .execute(params![seq, at])?;
    Ok(())
}

/// When an envelope to `peer` was last delivered.
pub fn last_delivery(conn: &Connection, peer: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT MAX(delivered_at) FROM outbox WHERE peer = ?1")?
        .query_row([peer], |r| r.get(0))?)
}
