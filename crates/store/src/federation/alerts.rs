//! Recorded refusals, alerts, and the escalations of missed deadlines and alerts.

use crate::Connection;
use rusqlite::params;

use crate::StoreError;

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
                at: r.get("at")?,
                peer: r.get("peer")?,
                envelope_id: r.get("envelope_id")?,
                code: r.get("code")?,
                reason: r.get("reason")?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
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

fn alert_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Alert> {
    Ok(Alert {
        id: r.get("id")?,
        at: r.get("at")?,
        kind: r.get("kind")?,
        subject: r.get("subject")?,
        message: r.get("message")?,
        resolved_at: r.get("resolved_at")?,
    })
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
        .query_map([include_resolved], alert_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
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
        id: r.get("id")?,
        at: r.get("at")?,
        subject: r.get("subject")?,
        deadline: r.get("deadline")?,
        level: r.get("level")?,
        due: r.get("due")?,
        message: r.get("message")?,
        email_status: r.get("email_status")?,
        webhook_status: r.get("webhook_status")?,
        attempts: r.get("attempts")?,
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
        .query_map([], alert_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn mark_alert_escalated(conn: &Connection, id: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE alerts SET escalated = 1 WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}
