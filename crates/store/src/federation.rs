//! Federation tables: envelopes sent and received, the durable outbox, cases,
//! recorded refusals, peers' checkpoints, alerts, and witness state.

use rusqlite::{Connection, OptionalExtension, params};

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

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Out => "out",
            Direction::In => "in",
        }
    }
}

const ENVELOPE_COLUMNS: &str = "hash, id, sender, recipient, kind, case_id, created, signed_json, direction, log_index, recorded_at, receipt";

fn envelope_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EnvelopeRow> {
    let direction: String = r.get(8)?;
    Ok(EnvelopeRow {
        hash: r.get(0)?,
        id: r.get(1)?,
        sender: r.get(2)?,
        recipient: r.get(3)?,
        kind: r.get(4)?,
        case_id: r.get(5)?,
        created: r.get(6)?,
        signed_json: r.get(7)?,
        direction: if direction == "in" {
            Direction::In
        } else {
            Direction::Out
        },
        log_index: r.get::<_, i64>(9)? as u64,
        recorded_at: r.get(10)?,
        receipt: r.get(11)?,
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
        e.direction.as_str(),
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

pub fn envelopes_with_receipts_from(
    conn: &Connection,
    peer: &str,
) -> Result<Vec<EnvelopeRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ENVELOPE_COLUMNS} FROM envelopes WHERE direction = 'out' AND recipient = ?1 AND receipt IS NOT NULL ORDER BY log_index"
    ))?;
    let rows = stmt
        .query_map([peer], envelope_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn set_receipt(conn: &Connection, hash: &str, receipt: &str) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE envelopes SET receipt = ?2 WHERE hash = ?1")?
        .execute(params![hash, receipt])?;
    Ok(())
}

/// An outbox entry waiting for delivery (or finished).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxItem {
    pub seq: i64,
    pub peer: String,
    pub envelope_hash: String,
    pub signed_json: String,
    pub state: String,
    pub enqueued_at: String,
    pub enqueued_ms: i64,
    pub attempts: i64,
    pub next_attempt_ms: i64,
    pub last_error: Option<String>,
    pub alerted: bool,
}

fn outbox_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxItem> {
    Ok(OutboxItem {
        seq: r.get(0)?,
        peer: r.get(1)?,
        envelope_hash: r.get(2)?,
        signed_json: r.get(3)?,
        state: r.get(4)?,
        enqueued_at: r.get(5)?,
        enqueued_ms: r.get(6)?,
        attempts: r.get(7)?,
        next_attempt_ms: r.get(8)?,
        last_error: r.get(9)?,
        alerted: r.get::<_, Option<String>>(10)?.is_some(),
    })
}

const OUTBOX_SELECT: &str =
    "SELECT o.seq, o.peer, o.envelope_hash, e.signed_json, o.state, o.enqueued_at, o.enqueued_ms,
        o.attempts, o.next_attempt_ms, o.last_error, o.alerted_at
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

/// The oldest pending entries for `peer`, in order.
pub fn pending(conn: &Connection, peer: &str, limit: usize) -> Result<Vec<OutboxItem>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "{OUTBOX_SELECT} WHERE o.peer = ?1 AND o.state = 'pending' ORDER BY o.seq LIMIT ?2"
    ))?;
    let rows = stmt
        .query_map(params![peer, limit as i64], outbox_from_row)?
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
        "SELECT COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(state = 'delivered'), 0), COALESCE(SUM(state = 'refused'), 0)
         FROM outbox WHERE peer = ?1",
        [peer],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
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
        "UPDATE outbox SET state = 'delivered', delivered_at = ?2, delivered_ms = ?3, last_error = NULL WHERE seq = ?1",
    )?
    .execute(params![seq, at, at_ms])?;
    set_receipt(conn, envelope_hash, receipt)
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
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_ms = ?3 WHERE seq = ?1",
    )?
    .execute(params![seq, error, next_attempt_ms])?;
    Ok(())
}

pub fn mark_alerted(conn: &Connection, seq: i64, at: &str) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE outbox SET alerted_at = ?2 WHERE seq = ?1")?
        .execute(params![seq, at])?;
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CaseRow {
    pub id: String,
    pub kind: String,
    pub initiator: String,
    pub responder: String,
    /// Opened by this node (the outbox), not received (the inbox).
    pub outgoing: bool,
    pub subject: String,
    pub state: String,
    pub created: String,
    pub updated: String,
    pub offence: Option<String>,
    pub urgent: bool,
    pub links: Vec<String>,
    pub root_hash: Option<String>,
    pub preservation_days: Option<u32>,
    /// TLP marking of the thread (`clear` … `red`, see `liaison_core::tlp`).
    pub tlp: String,
    #[serde(flatten)]
    pub times: CaseTimes,
}

/// Reference times of a case, derived from its thread.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CaseTimes {
    pub delivered_at: Option<String>,
    pub acknowledged_at: Option<String>,
    pub executed_at: Option<String>,
    pub extension_days: i64,
}

pub(crate) const CASE_COLUMNS: &str = "id, kind, initiator, responder, subject, state, created, updated, offence, urgent, links,
    root_hash, preservation_days, delivered_at, acknowledged_at, executed_at, extension_days, outgoing, tlp";

pub(crate) fn case_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CaseRow> {
    let links: String = r.get(10)?;
    Ok(CaseRow {
        id: r.get(0)?,
        kind: r.get(1)?,
        initiator: r.get(2)?,
        responder: r.get(3)?,
        subject: r.get(4)?,
        state: r.get(5)?,
        created: r.get(6)?,
        updated: r.get(7)?,
        offence: r.get(8)?,
        urgent: r.get(9)?,
        links: serde_json::from_str(&links).unwrap_or_default(),
        root_hash: r.get(11)?,
        preservation_days: r.get(12)?,
        times: CaseTimes {
            delivered_at: r.get(13)?,
            acknowledged_at: r.get(14)?,
            executed_at: r.get(15)?,
            extension_days: r.get(16)?,
        },
        outgoing: r.get(17)?,
        tlp: r.get(18)?,
    })
}

pub fn insert_case(conn: &Connection, c: &CaseRow) -> Result<(), StoreError> {
    let links = serde_json::to_string(&c.links).map_err(|e| StoreError::Invalid(e.to_string()))?;
    conn.prepare_cached(&format!(
        "INSERT INTO cases ({CASE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
    ))?
    .execute(params![
        c.id,
        c.kind,
        c.initiator,
        c.responder,
        c.subject,
        c.state,
        c.created,
        c.updated,
        c.offence,
        c.urgent,
        links,
        c.root_hash,
        c.preservation_days,
        c.times.delivered_at,
        c.times.acknowledged_at,
                c.times.executed_at,
        c.times.extension_days,
        c.outgoing,
        c.tlp
    ])?;
    Ok(())
}

/// Changes the marking of a case (an update by the notifying party).
pub fn set_case_tlp(conn: &Connection, id: &str, tlp: &str) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE cases SET tlp = ?2 WHERE id = ?1")?
        .execute(params![id, tlp])?;
    Ok(())
}

pub fn update_case_state(
    conn: &Connection,
    id: &str,
    state: &str,
    updated: &str,
    t: &CaseTimes,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE cases SET state = ?2, updated = ?3, delivered_at = ?4, acknowledged_at = ?5, executed_at = ?6,
         extension_days = ?7 WHERE id = ?1",
    )?
    .execute(params![id, state, updated, t.delivered_at, t.acknowledged_at, t.executed_at, t.extension_days])?;
    Ok(())
}

pub fn case_by_id(conn: &Connection, id: &str) -> Result<Option<CaseRow>, StoreError> {
    Ok(conn
        .prepare_cached(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE id = ?1"))?
        .query_row([id], case_from_row)
        .optional()?)
}

pub fn list_cases(conn: &Connection, limit: usize) -> Result<Vec<CaseRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CASE_COLUMNS} FROM cases ORDER BY updated DESC, id LIMIT ?1"
    ))?;
    let rows = stmt
        .query_map([limit as i64], case_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The newest cases whose marking is one of `tlp_levels`.
pub fn list_cases_marked(
    conn: &Connection,
    limit: usize,
    tlp_levels: &[&str],
) -> Result<Vec<CaseRow>, StoreError> {
    let levels =
        serde_json::to_string(tlp_levels).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE tlp IN (SELECT value FROM json_each(?2))
         ORDER BY updated DESC, id LIMIT ?1"
    ))?;
    let rows = stmt
        .query_map(params![limit as i64, levels], case_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Cases that still run (for deadlines).
pub fn open_cases(conn: &Connection) -> Result<Vec<CaseRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE state NOT IN ('closed', 'refused', 'withdrawn', 'expired', 'open')"
    ))?;
    let rows = stmt
        .query_map([], case_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Cases that name `case_id` among the cases they follow.
pub fn cases_linking_to(conn: &Connection, case_id: &str) -> Result<Vec<CaseRow>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE EXISTS (SELECT 1 FROM json_each(cases.links) WHERE value = ?1)"
    ))?;
    let rows = stmt
        .query_map([case_id], case_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// When the outbox entry of an envelope was delivered (receipt stored).
pub fn delivered_at(conn: &Connection, envelope_hash: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT delivered_at FROM outbox WHERE envelope_hash = ?1 AND state = 'delivered'",
        )?
        .query_row([envelope_hash], |r| r.get(0))
        .optional()?
        .flatten())
}

/// Case ids of envelopes, for recomputing their cases.
pub fn case_of_envelope(
    conn: &Connection,
    envelope_hash: &str,
) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT case_id FROM envelopes WHERE hash = ?1")?
        .query_row([envelope_hash], |r| r.get(0))
        .optional()?)
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    pub at: String,
    pub peer: String,
    pub envelope_id: Option<String>,
    pub code: String,
    pub reason: String,
}

pub fn record_rejection(conn: &Connection, r: &Rejection) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO rejections (at, peer, envelope_id, code, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![r.at, r.peer, r.envelope_id, r.code, r.reason])?;
    Ok(())
}

pub fn rejections(conn: &Connection, limit: usize) -> Result<Vec<Rejection>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, peer, envelope_id, code, reason FROM rejections ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt
        .query_map([limit as i64], |r| {
            Ok(Rejection {
                at: r.get(0)?,
                peer: r.get(1)?,
                envelope_id: r.get(2)?,
                code: r.get(3)?,
                reason: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

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

pub fn peer_checkpoints(conn: &Connection, peer: &str) -> Result<Vec<PeerCheckpoint>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT size, root, note, seen_at FROM peer_checkpoints WHERE peer = ?1 ORDER BY size, seen_at",
    )?;
    let rows = stmt
        .query_map([peer], |r| {
            let root: Vec<u8> = r.get(1)?;
            Ok((r.get::<_, i64>(0)?, root, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<Vec<(i64, Vec<u8>, String, String)>, _>>()?;
    rows.into_iter()
        .map(|(size, root, note, seen_at)| {
            let root: [u8; 32] = root
                .try_into()
                .map_err(|_| StoreError::Corrupt("a stored peer root is not 32 bytes".into()))?;
            Ok(PeerCheckpoint {
                size: size as u64,
                root,
                note,
                seen_at,
            })
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Alert {
    pub id: i64,
    pub at: String,
    pub kind: String,
    pub subject: String,
    pub message: String,
    pub resolved_at: Option<String>,
}

/// Raises an alert once per (kind, subject); returns whether it is new.
pub fn raise_alert(
    conn: &Connection,
    kind: &str,
    subject: &str,
    message: &str,
    at: &str,
) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO alerts (at, kind, subject, message) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![at, kind, subject, message])?;
    Ok(n > 0)
}

pub fn resolve_alert(
    conn: &Connection,
    kind: &str,
    subject: &str,
    at: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE alerts SET resolved_at = ?3 WHERE kind = ?1 AND subject = ?2 AND resolved_at IS NULL")?
        .execute(params![kind, subject, at])?;
    Ok(())
}

pub fn alerts(conn: &Connection, include_resolved: bool) -> Result<Vec<Alert>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, kind, subject, message, resolved_at FROM alerts
         WHERE ?1 OR resolved_at IS NULL ORDER BY id",
    )?;
    let rows = stmt
        .query_map([include_resolved], |r| {
            Ok(Alert {
                id: r.get(0)?,
                at: r.get(1)?,
                kind: r.get(2)?,
                subject: r.get(3)?,
                message: r.get(4)?,
                resolved_at: r.get(5)?,
            })
        })?
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
        .query_row([origin], |r| Ok((r.get(0)?, r.get(1)?)))
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
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, String>(3)?,
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

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Escalation {
    pub id: i64,
    pub at: String,
    pub subject: String,
    pub deadline: String,
    pub level: String,
    pub due: String,
    pub message: String,
    pub email_status: String,
    pub webhook_status: String,
    pub attempts: i64,
}

fn escalation_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Escalation> {
    Ok(Escalation {
        id: r.get(0)?,
        at: r.get(1)?,
        subject: r.get(2)?,
        deadline: r.get(3)?,
        level: r.get(4)?,
        due: r.get(5)?,
        message: r.get(6)?,
        email_status: r.get(7)?,
        webhook_status: r.get(8)?,
        attempts: r.get(9)?,
    })
}

const ESCALATION_COLUMNS: &str =
    "id, at, subject, deadline, level, due, message, email_status, webhook_status, attempts";

/// Records an escalation once per (subject, deadline, level); returns
/// whether it is new.
#[allow(clippy::too_many_arguments)]
pub fn raise_escalation(
    conn: &Connection,
    at: &str,
    subject: &str,
    deadline: &str,
    level: &str,
    due: &str,
    message: &str,
    email_status: &str,
    webhook_status: &str,
) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO escalations (at, subject, deadline, level, due, message, email_status, webhook_status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![at, subject, deadline, level, due, message, email_status, webhook_status])?;
    Ok(n > 0)
}

/// Escalations with a channel still to send.
pub fn unsent_escalations(
    conn: &Connection,
    max_attempts: i64,
) -> Result<Vec<Escalation>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ESCALATION_COLUMNS} FROM escalations
         WHERE (email_status NOT IN ('sent', 'off') OR webhook_status NOT IN ('sent', 'off')) AND attempts < ?1
         ORDER BY id"
    ))?;
    let rows = stmt
        .query_map([max_attempts], escalation_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn set_escalation_status(
    conn: &Connection,
    id: i64,
    email: &str,
    webhook: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE escalations SET email_status = ?2, webhook_status = ?3, attempts = attempts + 1 WHERE id = ?1",
    )?
    .execute(params![id, email, webhook])?;
    Ok(())
}

/// Every escalation, newest first (the node operator's view: the CLI).
pub fn escalations(conn: &Connection, limit: usize) -> Result<Vec<Escalation>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ESCALATION_COLUMNS} FROM escalations ORDER BY id DESC LIMIT ?1"
    ))?;
    let rows = stmt
        .query_map([limit as i64], escalation_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The escalations a reader cleared for `tlp_levels` may see, newest
/// first: those of cases with one of these markings, and alerts. An
/// escalation of a case this node does not hold is not shown.
pub fn escalations_marked(
    conn: &Connection,
    limit: usize,
    tlp_levels: &[&str],
) -> Result<Vec<Escalation>, StoreError> {
    let columns = ESCALATION_COLUMNS
        .split(", ")
        .map(|c| format!("e.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {columns} FROM escalations e LEFT JOIN cases c ON c.id = e.subject
         WHERE (c.id IS NULL AND e.deadline = 'alert' AND e.subject LIKE 'alert:%')
            OR c.tlp IN (SELECT value FROM json_each(?2))
         ORDER BY e.id DESC LIMIT ?1"
    ))?;
    let levels =
        serde_json::to_string(tlp_levels).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let rows = stmt
        .query_map(params![limit as i64, levels], escalation_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Open alerts not yet escalated.
pub fn alerts_to_escalate(conn: &Connection) -> Result<Vec<Alert>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, kind, subject, message, resolved_at FROM alerts
         WHERE resolved_at IS NULL AND escalated = 0 ORDER BY id",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Alert {
                id: r.get(0)?,
                at: r.get(1)?,
                kind: r.get(2)?,
                subject: r.get(3)?,
                message: r.get(4)?,
                resolved_at: r.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn mark_alert_escalated(conn: &Connection, id: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE alerts SET escalated = 1 WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// The columns statistics need, for every case.
#[derive(Clone, Debug)]
pub struct CaseFigures {
    pub id: String,
    pub kind: String,
    pub state: String,
    pub initiator: String,
    pub responder: String,
    pub created: String,
    pub delivered_at: Option<String>,
    pub acknowledged_at: Option<String>,
    pub executed_at: Option<String>,
}

pub fn case_figures(conn: &Connection) -> Result<Vec<CaseFigures>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, state, initiator, responder, created, delivered_at, acknowledged_at, executed_at FROM cases",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(CaseFigures {
                id: r.get(0)?,
                kind: r.get(1)?,
                state: r.get(2)?,
                initiator: r.get(3)?,
                responder: r.get(4)?,
                created: r.get(5)?,
                delivered_at: r.get(6)?,
                acknowledged_at: r.get(7)?,
                executed_at: r.get(8)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A page of cases, newest first, filtered by direction, kind and state.
pub struct CaseFilter<'a> {
    /// `Some(true)`: opened by `me`; `Some(false)`: opened by others.
    pub outgoing: Option<bool>,
    pub me: &'a str,
    pub kind: Option<&'a str>,
    pub state: Option<&'a str>,
    pub limit: usize,
    pub offset: usize,
    /// Only cases with one of these markings (the reader's clearance).
    pub tlp_levels: &'a [&'a str],
}

pub fn case_page(conn: &Connection, f: &CaseFilter<'_>) -> Result<(Vec<CaseRow>, i64), StoreError> {
    let direction = match f.outgoing {
        Some(true) => "outgoing = 1 AND ?1 = ?1",
        Some(false) => "outgoing = 0 AND ?1 = ?1",
        None => "?1 = ?1",
    };
    // Pings are listed on the duty page, not among the cases, unless asked for.
    let filter = format!(
        "{direction} AND (?2 IS NULL OR kind = ?2) AND (?2 IS NOT NULL OR kind != 'ping')
         AND (?3 IS NULL OR state = ?3) AND tlp IN (SELECT value FROM json_each(?6))"
    );
    let levels =
        serde_json::to_string(f.tlp_levels).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let total: i64 = conn
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM cases WHERE {filter} AND ?4 = ?4 AND ?5 = ?5"
        ))?
        .query_row(params![f.me, f.kind, f.state, 0, 0, levels], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE {filter} ORDER BY outgoing, updated DESC, id LIMIT ?4 OFFSET ?5"
    ))?;
    let rows = stmt
        .query_map(
            params![
                f.me,
                f.kind,
                f.state,
                f.limit as i64,
                f.offset as i64,
                levels
            ],
            case_from_row,
        )?
        .collect::<Result<_, _>>()?;
    Ok((rows, total))
}
