//! Case rows (derived from their threads), lists and pages of them, and the figures statistics read.

use crate::Connection;
use rusqlite::{OptionalExtension, params};

use liaison_core::case::CaseKind;
use liaison_core::lifecycle::CaseState;
use liaison_core::tlp::Tlp;

use crate::{StoreError, Stored};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseRow {
    pub id: String,
    pub kind: CaseKind,
    pub initiator: String,
    pub responder: String,
    /// Opened by this node (the outbox), not received (the inbox).
    pub outgoing: bool,
    pub subject: String,
    pub state: CaseState,
    pub created: String,
    pub updated: String,
    pub offence: Option<String>,
    pub urgent: bool,
    pub links: Vec<String>,
    pub root_hash: Option<String>,
    pub preservation_days: Option<u32>,
    /// TLP marking of the thread.
    pub tlp: Tlp,
    pub times: CaseTimes,
}

/// Reference times of a case, derived from its thread.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseTimes {
    pub delivered_at: Option<String>,
    pub acknowledged_at: Option<String>,
    pub executed_at: Option<String>,
    pub extension_days: i64,
}

pub(crate) const CASE_COLUMNS: &str = "id, kind, initiator, responder, subject, state, created, updated, offence, urgent, links,
    root_hash, preservation_days, delivered_at, acknowledged_at, executed_at, extension_days, outgoing, tlp";

pub(crate) fn case_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CaseRow> {
    let links: String = r.get("links")?;
    Ok(CaseRow {
        id: r.get("id")?,
        kind: r.get::<_, Stored<CaseKind>>("kind")?.0,
        initiator: r.get("initiator")?,
        responder: r.get("responder")?,
        subject: r.get("subject")?,
        state: r.get::<_, Stored<CaseState>>("state")?.0,
        created: r.get("created")?,
        updated: r.get("updated")?,
        offence: r.get("offence")?,
        urgent: r.get("urgent")?,
        links: serde_json::from_str(&links).unwrap_or_default(),
        root_hash: r.get("root_hash")?,
        preservation_days: r.get("preservation_days")?,
        times: CaseTimes {
            delivered_at: r.get("delivered_at")?,
            acknowledged_at: r.get("acknowledged_at")?,
            executed_at: r.get("executed_at")?,
            extension_days: r.get("extension_days")?,
        },
        outgoing: r.get("outgoing")?,
        tlp: r.get::<_, Stored<Tlp>>("tlp")?.0,
    })
}

pub fn insert_case(conn: &Connection, c: &CaseRow) -> Result<(), StoreError> {
    let links = serde_json::to_string(&c.links).map_err(|e| StoreError::Invalid(e.to_string()))?;
    conn.prepare_cached(&format!(
        "INSERT INTO cases ({CASE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
    ))?
    .execute(params![
        c.id,
        Stored(c.kind),
        c.initiator,
        c.responder,
        c.subject,
        Stored(c.state),
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
        Stored(c.tlp)
    ])?;
    Ok(())
}

/// Changes the marking of a case (an update by the notifying party).
pub fn set_case_tlp(conn: &Connection, id: &str, tlp: Tlp) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE cases SET tlp = ?2 WHERE id = ?1")?
        .execute(params![id, Stored(tlp)])?;
    Ok(())
}

pub fn update_case_state(
    conn: &Connection,
    id: &str,
    state: CaseState,
    updated: &str,
    t: &CaseTimes,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE cases SET state = ?2, updated = ?3, delivered_at = ?4, acknowledged_at = ?5, executed_at = ?6,
         extension_days = ?7 WHERE id = ?1",
    )?
    .execute(params![id, Stored(state), updated, t.delivered_at, t.acknowledged_at, t.executed_at, t.extension_days])?;
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

/// Every case of `kind`.
pub fn cases_of_kind(conn: &Connection, kind: CaseKind) -> Result<Vec<CaseRow>, StoreError> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE kind = ?1"))?;
    let rows = stmt
        .query_map([crate::Stored(kind)], case_from_row)?
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

/// When an outgoing envelope was first delivered to one of its recipients
/// (that recipient's receipt stored).
pub fn delivered_at(conn: &Connection, envelope_hash: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT MIN(delivered_at) FROM outbox WHERE envelope_hash = ?1 AND state = 'delivered'",
        )?
        .query_row([envelope_hash], |r| r.get(0))
        .optional()?
        .flatten())
}

/// The columns statistics need, for every case.
#[derive(Clone, Debug)]
pub struct CaseFigures {
    pub id: String,
    pub kind: String,
    pub state: CaseState,
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
                id: r.get("id")?,
                kind: r.get("kind")?,
                state: r.get::<_, Stored<CaseState>>("state")?.0,
                initiator: r.get("initiator")?,
                responder: r.get("responder")?,
                created: r.get("created")?,
                delivered_at: r.get("delivered_at")?,
                acknowledged_at: r.get("acknowledged_at")?,
                executed_at: r.get("executed_at")?,
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
    pub state: Option<CaseState>,
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
        .query_row(
            params![f.me, f.kind, f.state.map(Stored), 0, 0, levels],
            |r| r.get(0),
        )?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE {filter} ORDER BY outgoing, updated DESC, id LIMIT ?4 OFFSET ?5"
    ))?;
    let rows = stmt
        .query_map(
            params![
                f.me,
                f.kind,
                f.state.map(Stored),
                f.limit as i64,
                f.offset as i64,
                levels
            ],
            case_from_row,
        )?
        .collect::<Result<_, _>>()?;
    Ok((rows, total))
}

/// Ids of the cases of `kind` this node opened, oldest first.
pub fn outgoing_case_ids(conn: &Connection, kind: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT id FROM cases WHERE kind = ?1 AND outgoing = 1 ORDER BY created")?;
    let rows = stmt
        .query_map([kind], |r| r.get("id"))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A ping this node sent: to whom, when, and when it was acknowledged.
#[derive(Clone, Debug)]
pub struct SentPing {
    pub responder: String,
    pub created: String,
    pub acknowledged_at: Option<String>,
}

/// Every ping this node sent, oldest first.
pub fn sent_pings(conn: &Connection) -> Result<Vec<SentPing>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT responder, created, acknowledged_at FROM cases
         WHERE kind = 'ping' AND outgoing = 1 ORDER BY created",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(SentPing {
                responder: r.get("responder")?,
                created: r.get("created")?,
                acknowledged_at: r.get("acknowledged_at")?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The markings (as stored) of the incidents `party` takes part in.
pub fn incident_markings_of(conn: &Connection, party: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT tlp FROM cases WHERE kind = 'incident' AND (initiator = ?1 OR responder = ?1)",
    )?;
    let rows = stmt
        .query_map([party], |r| r.get("tlp"))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
