//! Pinned peers: the cards this node trusts, keyed by party code and by the
//! SHA-256 fingerprint of their TLS certificate.

use crate::Connection;
use rusqlite::{OptionalExtension, params};

use crate::StoreError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinnedPeer {
    pub party: String,
    pub card_json: String,
    /// Lowercase hex SHA-256 of the certificate DER.
    pub fingerprint: String,
    pub pinned_at: String,
}

/// How pinning went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinOutcome {
    Added,
    Unchanged,
    Replaced,
}

/// Pins a peer. A party already pinned with a different card is only
/// re-pinned when `replace` is set: a changed card needs an explicit decision.
pub fn pin(conn: &Connection, peer: &PinnedPeer, replace: bool) -> Result<PinOutcome, StoreError> {
    if let Some(existing) = by_party(conn, &peer.party)? {
        if existing.card_json == peer.card_json {
            return Ok(PinOutcome::Unchanged);
        }
        if !replace {
            return Err(StoreError::Conflict(format!(
                "party {} is already pinned with a different card; re-pin it explicitly with --replace",
                peer.party
            )));
        }
        if let Some(other) = by_fingerprint(conn, &peer.fingerprint)?
            && other.party != peer.party
        {
            return Err(StoreError::Conflict(format!(
                "this TLS certificate is already pinned for party {}",
                other.party
            )));
        }
        conn.execute(
            "UPDATE peers SET card_json = ?2, fingerprint = ?3, pinned_at = ?4 WHERE party = ?1",
            params![peer.party, peer.card_json, peer.fingerprint, peer.pinned_at],
        )?;
        return Ok(PinOutcome::Replaced);
    }
    if let Some(other) = by_fingerprint(conn, &peer.fingerprint)? {
        return Err(StoreError::Conflict(format!(
            "this TLS certificate is already pinned for party {}",
            other.party
        )));
    }
    conn.execute(
        "INSERT INTO peers (party, card_json, fingerprint, pinned_at) VALUES (?1, ?2, ?3, ?4)",
        params![peer.party, peer.card_json, peer.fingerprint, peer.pinned_at],
    )?;
    Ok(PinOutcome::Added)
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PinnedPeer> {
    Ok(PinnedPeer {
        party: r.get("party")?,
        card_json: r.get("card_json")?,
        fingerprint: r.get("fingerprint")?,
        pinned_at: r.get("pinned_at")?,
    })
}

pub fn by_party(conn: &Connection, party: &str) -> Result<Option<PinnedPeer>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT party, card_json, fingerprint, pinned_at FROM peers WHERE party = ?1",
        )?
        .query_row([party], from_row)
        .optional()?)
}

pub fn by_fingerprint(
    conn: &Connection,
    fingerprint: &str,
) -> Result<Option<PinnedPeer>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT party, card_json, fingerprint, pinned_at FROM peers WHERE fingerprint = ?1",
        )?
        .query_row([fingerprint], from_row)
        .optional()?)
}

pub fn all(conn: &Connection) -> Result<Vec<PinnedPeer>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT party, card_json, fingerprint, pinned_at FROM peers ORDER BY party",
    )?;
    let rows = stmt
        .query_map([], from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Moves a party's pin to a new card (a key change it signed).
pub fn replace_card(
    conn: &Connection,
    party: &str,
    card_json: &str,
    fingerprint: &str,
    now: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE peers SET card_json = ?2, fingerprint = ?3, pinned_at = ?4 WHERE party = ?1",
        params![party, card_json, fingerprint, now],
    )?;
    Ok(())
}
