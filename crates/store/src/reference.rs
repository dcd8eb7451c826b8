//! Glossary events, norm tags on cases, and the full-text search index.

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlossaryEventRow {
    pub event_id: String,
    pub term: String,
    pub party: String,
    pub body: String,
    pub created: String,
}

/// Records a glossary event once (copies sent to several peers share an id).
pub fn insert_glossary_event(
    conn: &Connection,
    e: &GlossaryEventRow,
    action: &str,
    envelope_hash: Option<&str>,
) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO glossary_events (event_id, term, party, action, body, created, envelope_hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![e.event_id, e.term, e.party, action, e.body, e.created, envelope_hash])?;
    Ok(n > 0)
}

pub fn glossary_events(
    conn: &Connection,
    term: Option<&str>,
) -> Result<Vec<GlossaryEventRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT event_id, term, party, body, created FROM glossary_events WHERE ?1 IS NULL OR term = ?1 ORDER BY created, event_id",
    )?;
    let rows = stmt
        .query_map([term], |r| {
            Ok(GlossaryEventRow {
                event_id: r.get(0)?,
                term: r.get(1)?,
                party: r.get(2)?,
                body: r.get(3)?,
                created: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn glossary_event(
    conn: &Connection,
    event_id: &str,
) -> Result<Option<GlossaryEventRow>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT event_id, term, party, body, created FROM glossary_events WHERE event_id = ?1",
        )?
        .query_row([event_id], |r| {
            Ok(GlossaryEventRow {
                event_id: r.get(0)?,
                term: r.get(1)?,
                party: r.get(2)?,
                body: r.get(3)?,
                created: r.get(4)?,
            })
        })
        .optional()?)
}

pub fn tag_case(conn: &Connection, case_id: &str, norm: &str, on: bool) -> Result<(), StoreError> {
    if on {
        conn.execute(
            "INSERT OR IGNORE INTO case_norms (case_id, norm) VALUES (?1, ?2)",
            params![case_id, norm],
        )?;
    } else {
        conn.execute(
            "DELETE FROM case_norms WHERE case_id = ?1 AND norm = ?2",
            params![case_id, norm],
        )?;
    }
    Ok(())
}

pub fn case_norm_tags(conn: &Connection, case_id: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT norm FROM case_norms WHERE case_id = ?1 ORDER BY norm")?;
    let rows = stmt
        .query_map([case_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Number of cases tagged with each norm.
pub fn norm_tag_counts(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT norm, COUNT(*) FROM case_norms GROUP BY norm ORDER BY norm")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Adds (or replaces) a document of the search index; `text` is analysed
/// (stemmed) text.
pub fn index_doc(
    conn: &Connection,
    doc: &str,
    kind: &str,
    case_id: Option<&str>,
    text: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM search_index WHERE doc = ?1")?
        .execute([doc])?;
    conn.prepare_cached(
        "INSERT INTO search_index (doc, kind, case_id, text) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![doc, kind, case_id, text])?;
    Ok(())
}

/// Appends a document known to be new (no delete first: the fast path for
/// envelopes, whose hash is unique).
pub fn index_new_doc(
    conn: &Connection,
    doc: &str,
    kind: &str,
    case_id: Option<&str>,
    text: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO search_index (doc, kind, case_id, text) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![doc, kind, case_id, text])?;
    Ok(())
}

pub fn clear_index(conn: &Connection) -> Result<(), StoreError> {
    conn.execute("DELETE FROM search_index", [])?;
    Ok(())
}

/// A search hit: the document, its kind, its case, its rank (lower is better).
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub doc: String,
    pub kind: String,
    pub case_id: Option<String>,
    pub rank: f64,
}

/// The best documents matching every stem, among the kinds allowed.
pub fn search(
    conn: &Connection,
    stems: &[String],
    kinds: &[&str],
    limit: usize,
) -> Result<Vec<Hit>, StoreError> {
    if stems.is_empty() || kinds.is_empty() {
        return Ok(Vec::new());
    }
    // Each stem a quoted FTS5 string: no operator in user input gets through.
    let query = stems
        .iter()
        .map(|s| format!("\"{}\"", s.replace('"', "")))
        .collect::<Vec<_>>()
        .join(" ");
    let kinds_json =
        serde_json::to_string(kinds).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let mut stmt = conn.prepare_cached(
        "SELECT doc, kind, case_id, rank FROM search_index
         WHERE search_index MATCH ?1 AND kind IN (SELECT value FROM json_each(?2))
         ORDER BY rank LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![query, kinds_json, limit as i64], |r| {
            Ok(Hit {
                doc: r.get(0)?,
                kind: r.get(1)?,
                case_id: r.get(2)?,
                rank: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
