//! The one handle to the database that read and write jobs get. Outside this
//! crate it is opaque: a job can only pass it to the store's operations, so
//! the rest of Liaison depends on those operations, never on SQLite, and a
//! second backend (the PostgreSQL issue) implements the same operations
//! behind the same type. Inside, it forwards the few SQLite calls the
//! operations make.

use rusqlite::{CachedStatement, Params, Row, Statement};

/// A database connection inside a read or a write job.
pub struct Connection(rusqlite::Connection);

impl From<rusqlite::Connection> for Connection {
    fn from(conn: rusqlite::Connection) -> Connection {
        Connection(conn)
    }
}

impl Connection {
    /// The SQLite connection itself, for benchmarks that measure the store
    /// beside the bare queries (nothing else outside this crate uses it: a
    /// tidy test keeps SQL text in this crate and the benchmarks).
    #[doc(hidden)]
    pub fn sqlite(&self) -> &rusqlite::Connection {
        &self.0
    }

    pub(crate) fn prepare_cached(&self, sql: &str) -> rusqlite::Result<CachedStatement<'_>> {
        self.0.prepare_cached(sql)
    }

    pub(crate) fn prepare(&self, sql: &str) -> rusqlite::Result<Statement<'_>> {
        self.0.prepare(sql)
    }

    pub(crate) fn execute<P: Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.0.execute(sql, params)
    }

    pub(crate) fn execute_batch(&self, sql: &str) -> rusqlite::Result<()> {
        self.0.execute_batch(sql)
    }

    pub(crate) fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> rusqlite::Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> rusqlite::Result<T>,
    {
        self.0.query_row(sql, params, f)
    }

    pub(crate) fn last_insert_rowid(&self) -> i64 {
        self.0.last_insert_rowid()
    }
}
