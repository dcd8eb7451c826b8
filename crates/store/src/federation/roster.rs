//! Case rosters: who takes part in each case, in what role, in roster order.
//! A case of two parties (most of them) has no rows here: its row names
//! both (`initiator` requesting, `responder` requested), which saves every
//! two-party opening two index writes on each side.

use liaison_core::roster::{Membership, Participant, Role};
use rusqlite::params;

use crate::{Connection, StoreError};

impl crate::StoredText for Membership {
    fn to_text(&self) -> &'static str {
        self.as_str()
    }
    fn from_text(text: &str) -> Option<Membership> {
        Membership::parse(text)
    }
}

impl crate::StoredText for Role {
    fn to_text(&self) -> &'static str {
        self.as_str()
    }
    fn from_text(text: &str) -> Option<Role> {
        Role::parse(text)
    }
}

/// Records the roster an opening made, unless it is the two parties the
/// case row names in their usual roles.
pub fn record_opening_roster(
    conn: &Connection,
    case_id: &str,
    roster: &[Participant],
) -> Result<(), StoreError> {
    if liaison_core::roster::needs_storing(roster) {
        for p in roster {
            add_participant(conn, case_id, p)?;
        }
    }
    Ok(())
}

/// Adds a participant at the end of a case's roster; one already on it
/// keeps its place, role and standing. Returns whether it was added.
pub fn add_participant(
    conn: &Connection,
    case_id: &str,
    p: &Participant,
) -> Result<bool, StoreError> {
    let added = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO case_participants (case_id, party, role, seq, status)
             VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(seq) + 1, 0) FROM case_participants WHERE case_id = ?1), ?4)",
        )?
        .execute(params![
            case_id,
            p.party,
            crate::Stored(p.role),
            crate::Stored(p.status)
        ])?;
    Ok(added > 0)
}

/// Makes an invitee a member, in the role of the invitation it accepted.
/// Returns whether it changed.
pub fn admit(
    conn: &Connection,
    case_id: &str,
    party: &str,
    role: Role,
) -> Result<bool, StoreError> {
    let changed = conn
        .prepare_cached(
            "UPDATE case_participants SET status = 'member', role = ?3
             WHERE case_id = ?1 AND party = ?2 AND status = 'invited'",
        )?
        .execute(params![case_id, party, crate::Stored(role)])?;
    Ok(changed > 0)
}

/// Moves a participant's standing on: invited → member, member → left
/// (never back). Returns whether it changed.
pub fn set_membership(
    conn: &Connection,
    case_id: &str,
    party: &str,
    status: Membership,
) -> Result<bool, StoreError> {
    let from = match status {
        Membership::Member => Membership::Invited,
        Membership::Left => Membership::Member,
        Membership::Invited => return Ok(false),
    };
    let changed = conn
        .prepare_cached(
            "UPDATE case_participants SET status = ?4 WHERE case_id = ?1 AND party = ?2 AND status = ?3",
        )?
        .execute(params![
            case_id,
            party,
            crate::Stored(from),
            crate::Stored(status)
        ])?;
    Ok(changed > 0)
}

/// A case's roster, in order (none for a case not held here).
pub fn participants(conn: &Connection, case_id: &str) -> Result<Vec<Participant>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT party, role, seq, status FROM case_participants WHERE case_id = ?1
         UNION ALL
         SELECT initiator, 'requesting', 0, 'member' FROM cases
         WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM case_participants WHERE case_id = ?1)
         UNION ALL
         SELECT responder, 'requested', 1, 'member' FROM cases
         WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM case_participants WHERE case_id = ?1)
         ORDER BY seq",
    )?;
    let rows = stmt
        .query_map([case_id], |r| {
            Ok(Participant {
                party: r.get("party")?,
                role: r.get::<_, crate::Stored<Role>>("role")?.0,
                status: r.get::<_, crate::Stored<Membership>>("status")?.0,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A participant's role in a case (`None`: not on its roster).
pub fn role_in(conn: &Connection, case_id: &str, party: &str) -> Result<Option<Role>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached(
            "SELECT role FROM case_participants WHERE case_id = ?1 AND party = ?2
             UNION ALL
             SELECT CASE WHEN initiator = ?2 THEN 'requesting' ELSE 'requested' END FROM cases
             WHERE id = ?1 AND (initiator = ?2 OR responder = ?2)
               AND NOT EXISTS (SELECT 1 FROM case_participants WHERE case_id = ?1)
             LIMIT 1",
        )?
        .query_row(params![case_id, party], |r| {
            r.get::<_, crate::Stored<Role>>("role")
        })
        .optional()?
        .map(|s| s.0))
}
