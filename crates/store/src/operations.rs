//! The duty roster and the audit trail of reads of restricted (TLP:AMBER
//! and stricter) content.

use crate::Connection;
use rusqlite::params;
use serde::Serialize;

use crate::StoreError;

/// A shift of the duty roster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Shift {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
    /// RFC 3339, UTC.
    pub starts: String,
    pub ends: String,
}

pub fn add_shift(conn: &Connection, s: &Shift) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO duty_roster (name, email, phone, starts, ends) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![s.name, s.email, s.phone, s.starts, s.ends],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn remove_shift(conn: &Connection, id: i64) -> Result<bool, StoreError> {
    Ok(conn.execute("DELETE FROM duty_roster WHERE id = ?1", [id])? > 0)
}

fn shifts_where(
    conn: &Connection,
    sql_where: &str,
    at: Option<&str>,
) -> Result<Vec<Shift>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, name, email, phone, starts, ends FROM duty_roster {sql_where} ORDER BY starts, id"
    ))?;
    let map = |r: &rusqlite::Row<'_>| {
        Ok(Shift {
            id: r.get("id")?,
            name: r.get("name")?,
            email: r.get("email")?,
            phone: r.get("phone")?,
            starts: r.get("starts")?,
            ends: r.get("ends")?,
        })
    };
    let rows = match at {
        Some(at) => stmt.query_map([at], map)?.collect::<Result<_, _>>()?,
        None => stmt.query_map([], map)?.collect::<Result<_, _>>()?,
    };
    Ok(rows)
}

/// Shifts that have not ended by `now` (RFC 3339 UTC strings compare in time order).
pub fn roster(conn: &Connection, now: &str) -> Result<Vec<Shift>, StoreError> {
    shifts_where(conn, "WHERE ends > ?1", Some(now))
}

/// Who is on duty at `at`.
pub fn on_duty(conn: &Connection, at: &str) -> Result<Vec<Shift>, StoreError> {
    shifts_where(conn, "WHERE starts <= ?1 AND ends > ?1", Some(at))
}

/// A read of restricted content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TlpRead {
    pub at: String,
    pub username: String,
    /// A case id or a STIX object id.
    pub object: String,
    pub tlp: String,
    /// `ui`, `api`, `cli`, `taxii`, `stix-export`.
    pub via: String,
}

pub fn record_reads(conn: &Connection, reads: &[TlpRead]) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO tlp_reads (at, username, object, tlp, via) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for r in reads {
        stmt.execute(params![r.at, r.username, r.object, r.tlp, r.via])?;
    }
    Ok(())
}

pub fn recent_reads(conn: &Connection, limit: usize) -> Result<Vec<TlpRead>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, username, object, tlp, via FROM tlp_reads ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt
        .query_map([limit as i64], |r| {
            Ok(TlpRead {
                at: r.get("at")?,
                username: r.get("username")?,
                object: r.get("object")?,
                tlp: r.get("tlp")?,
                via: r.get("via")?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
