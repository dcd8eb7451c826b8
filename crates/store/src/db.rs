//! Opening connections with the durability settings, the schema and its
//! migrations.

use std::path::Path;
use std::time::Duration;

use crate::Connection;
use rusqlite::{OptionalExtension, params};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("log error: {0}")]
    Log(#[from] liaison_log::LogError),
    #[error("the database writer has stopped")]
    WriterGone,
    #[error("{0}")]
    Invalid(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("the database is inconsistent: {0}")]
    Corrupt(String),
}

/// Opens a connection: WAL, fsync on every commit, foreign keys, and a busy
/// timeout so another process's writer is waited for rather than failed on.
/// A pooled read connection: the writer's settings, with a smaller
/// statement cache (a node keeps up to eight of these, each statement
/// holds its plan's memory; the writer's hot path keeps the large cache).
pub(crate) fn open_reader(path: &Path) -> Result<Connection, StoreError> {
    let conn = open_connection(path)?;
    conn.sqlite()
        .set_prepared_statement_cache_capacity(READER_STATEMENTS);
    Ok(conn)
}

/// Statements a read connection keeps prepared.
const READER_STATEMENTS: usize = 48;

pub(crate) fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = rusqlite::Connection::open(path)?;
    // Every statement of the write path stays prepared (the default cache
    // of 16 would evict and re-parse them at each message).
    conn.set_prepared_statement_cache_capacity(256);
    // This SQLite is built with STAT4, which re-prepares a statement at
    // every new binding of a parameter compared to an indexed column (so,
    // nearly every statement, every time). Plans that do not depend on
    // bound values keep them prepared.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // The writer runs each job of a batch in a savepoint, whose journal of
    // page images would otherwise be a temporary file written with one
    // system call per page (more than half of all writes under load). It
    // lives for one transaction and holds at most the pages a batch
    // touches.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Invalid(format!(
            "the database at {} cannot use WAL mode (got {mode})",
            path.display()
        )));
    }
    Ok(Connection::from(conn))
}

/// A migration: its file name in `migrations/sqlite/` and its SQL.
macro_rules! migration {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../migrations/sqlite/", $name, ".sql")),
        )
    };
}

/// Schema versions, applied in order; `PRAGMA user_version` records how many
/// have run. Never edit a released file: add a new one.
pub(crate) const MIGRATIONS: &[(&str, &str)] = &[
    migration!("0001_log_meta_peers"),
    migration!("0002_federation"),
    migration!("0003_reference_search"),
    migration!("0004_tlp_duty_reads"),
    migration!("0005_stix"),
    migration!("0006_hash_lists"),
    migration!("0007_hardening"),
    migration!("0008_case_pages_from_the_index"),
    migration!("0009_attachments_by_envelope"),
    migration!("0010_case_rosters"),
    migration!("0011_teams_and_directory"),
    migration!("0012_key_changes"),
    migration!("0013_key_changes_by_statement"),
];

pub(crate) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn
        .sqlite()
        .pragma_query_value(None, "user_version", |r| r.get(0))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(StoreError::Invalid(format!(
            "the database has schema version {version}, newer than this program knows ({}); upgrade liaison",
            MIGRATIONS.len()
        )));
    }
    for (i, (_, sql)) in MIGRATIONS.iter().enumerate().skip(version) {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {}; COMMIT;",
            i + 1
        ))?;
    }
    Ok(())
}

pub fn get_meta(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| {
            r.get("value")
        })
        .optional()?)
}

pub fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}
