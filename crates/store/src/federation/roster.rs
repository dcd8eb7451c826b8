//! Case rosters: who takes part in each case, in what role, in roster order.

use liaison_core::roster::{Participant, Role};
use rusqlite::params;

use crate::{Connection, StoreError};

impl crate::StoredText for Role {
    fn to_text(&self) -> &'static str {
        self.as_str()
    }
    fn from_text(text: &str) -> Option<Role> {
        Role::parse(text)
    }
}

/// Adds a participant at the end of a case's roster; one already on it
/// keeps its place and role.
pub fn add_participant(
    conn: &Connection,
    case_id: &str,
    p: &Participant,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO case_participants (case_id, party, role, seq)
         VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(seq) + 1, 0) FROM case_participants WHERE case_id = ?1))",
    )?
    .execute(params![case_id, p.party, crate::Stored(p.role)])?;
    Ok(())
}

/// A case's roster, in order.
pub fn participants(conn: &Connection, case_id: &str) -> Result<Vec<Participant>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT party, role FROM case_participants WHERE case_id = ?1 ORDER BY seq",
    )?;
    let rows = stmt
        .query_map([case_id], |r| {
            Ok(Participant {
                party: r.get("party")?,
                role: r.get::<_, crate::Stored<Role>>("role")?.0,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A participant's role in a case (`None`: not on its roster).
pub fn role_in(conn: &Connection, case_id: &str, party: &str) -> Result<Option<Role>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached("SELECT role FROM case_participants WHERE case_id = ?1 AND party = ?2")?
        .query_row(params![case_id, party], |r| {
            r.get::<_, crate::Stored<Role>>("role")
        })
        .optional()?
        .map(|s| s.0))
}
