//! Glossary events, norm tags on cases, and the full-text search index.

use crate::Connection;
use rusqlite::{OptionalExtension, params};

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
                event_id: r.get("event_id")?,
                term: r.get("term")?,
                party: r.get("party")?,
                body: r.get("body")?,
                created: r.get("created")?,
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
                event_id: r.get("event_id")?,
                term: r.get("term")?,
                party: r.get("party")?,
                body: r.get("body")?,
                created: r.get("created")?,
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
        .query_map([case_id], |r| r.get("norm"))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Number of cases tagged with each norm.
pub fn norm_tag_counts(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT norm, COUNT(*) AS cases FROM case_norms GROUP BY norm ORDER BY norm",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get("norm")?, r.get("cases")?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

// The search index: two FTS5 tables of stemmed text (see core::text), one
// per reader class, so that a reader's query never walks documents it may
// not see: `search_cases` (one row per case envelope, doc = envelope hash)
// and `search_glossary` (one row per term). Rowids grow with insertion, so
// rowid order is recency.

/// Adds the stemmed text of a case message (new: envelope hashes are unique).
pub fn index_case_message(
    conn: &Connection,
    hash: &str,
    case_id: &str,
    text: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO search_cases (doc, case_id, text) VALUES (?1, ?2, ?3)")?
        .execute(params![hash, case_id, text])?;
    Ok(())
}

/// Adds or replaces the stemmed text of a glossary term.
pub fn index_glossary_term(conn: &Connection, term: &str, text: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM search_glossary WHERE term = ?1")?
        .execute([term])?;
    conn.prepare_cached("INSERT INTO search_glossary (term, text) VALUES (?1, ?2)")?
        .execute(params![term, text])?;
    Ok(())
}

pub fn clear_index(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch("DELETE FROM search_cases; DELETE FROM search_glossary;")?;
    Ok(())
}

/// Merges the index segments (after a rebuild or a bulk load).
pub fn optimize_index(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(
        "INSERT INTO search_cases (search_cases) VALUES ('optimize');
         INSERT INTO search_glossary (search_glossary) VALUES ('optimize');",
    )?;
    Ok(())
}

/// A search hit: the case envelope or glossary term, the case, the BM25
/// score (lower is better).
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub doc: String,
    pub case_id: Option<String>,
    pub rank: f64,
}

/// The stems as an FTS5 query: each a quoted string (no operator in user
/// input gets through), all required.
fn fts_query(stems: &[String]) -> String {
    stems
        .iter()
        .map(|s| format!("\"{}\"", s.replace('"', "")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Glossary terms matching every stem, best first.
pub fn search_glossary(
    conn: &Connection,
    stems: &[String],
    limit: usize,
) -> Result<Vec<Hit>, StoreError> {
    if stems.is_empty() {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(
        "SELECT term, bm25(search_glossary) AS score FROM search_glossary
         WHERE search_glossary MATCH ?1 ORDER BY score LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![fts_query(stems), limit as i64], |r| {
            Ok(Hit {
                doc: r.get("term")?,
                case_id: None,
                rank: r.get("score")?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Cases whose messages match every stem, best message first, one hit per
/// case, among cases marked with one of `tlp_levels` only: the marking is
/// filtered inside the query, so a reader's `limit` never counts (and so
/// never reveals) a case it may not read. With `window`, only the newest
/// `window` readable matches are ranked: a word found in most of a million
/// messages then costs the ranking of a window, not of every match;
/// queries with fewer matches are ranked exactly.
pub fn search_cases(
    conn: &Connection,
    stems: &[String],
    limit: usize,
    window: Option<usize>,
    tlp_levels: &[&str],
) -> Result<Vec<Hit>, StoreError> {
    if stems.is_empty() || tlp_levels.is_empty() {
        return Ok(Vec::new());
    }
    // Rank on rowids and scores alone; read the stored columns of the best only.
    let sql = "SELECT s.doc, best.case_id, best.score AS rank FROM (
             -- SQLite takes a bare column from the row that gives min().
             SELECT case_id, min(score) AS score, id FROM (
                 SELECT rowid AS id, case_id, bm25(search_cases) AS score FROM search_cases
                 WHERE search_cases MATCH ?1
                   AND EXISTS (SELECT 1 FROM cases c WHERE c.id = search_cases.case_id
                               AND c.tlp IN (SELECT value FROM json_each(?4)))
                 ORDER BY rowid DESC LIMIT ?3)
             GROUP BY case_id ORDER BY score LIMIT ?2) best
         JOIN search_cases s ON s.rowid = best.id ORDER BY best.score";
    let mut stmt = conn.prepare_cached(sql)?;
    let levels =
        serde_json::to_string(tlp_levels).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let window = window.map_or(-1, |w| w as i64);
    let rows = stmt
        .query_map(
            params![fts_query(stems), limit as i64, window, levels],
            |r| {
                Ok(Hit {
                    doc: r.get("doc")?,
                    case_id: r.get("case_id")?,
                    rank: r.get("rank")?,
                })
            },
        )?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
