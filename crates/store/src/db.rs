//! Opening connections with the durability settings, the schema and its
//! migrations.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

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
pub(crate) fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
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
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Invalid(format!(
            "the database at {} cannot use WAL mode (got {mode})",
            path.display()
        )));
    }
    Ok(conn)
}

/// Schema versions, applied in order; `PRAGMA user_version` records how many
/// have run. Never edit a released entry: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the log, node settings, pinned peers.
    "
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    -- The single current tree head (size, root). Checkpoints are derived from
    -- it by signing, never stored, so none is signed before its tree is durable.
    CREATE TABLE log_head (
        id   INTEGER PRIMARY KEY CHECK (id = 0),
        size INTEGER NOT NULL,
        root BLOB NOT NULL
    );
    INSERT INTO log_head (id, size, root)
        VALUES (0, 0, X'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    -- Entry data by leaf index.
    CREATE TABLE log_entries (
        idx  INTEGER PRIMARY KEY,
        data BLOB NOT NULL
    );
    -- Every complete subtree hash; key = level << 56 | index.
    CREATE TABLE log_nodes (
        key  INTEGER PRIMARY KEY,
        hash BLOB NOT NULL
    );
    CREATE TABLE peers (
        party        TEXT PRIMARY KEY,
        card_json    TEXT NOT NULL,
        fingerprint  TEXT NOT NULL UNIQUE,
        pinned_at    TEXT NOT NULL
    );
    ",
    // 2: federation — envelopes, the durable outbox, cases, refusals, what
    // peers' logs and witnesses showed us.
    "
    CREATE TABLE envelopes (
        hash        TEXT PRIMARY KEY,          -- hex SHA-256 of the canonical text
        id          TEXT NOT NULL,
        sender      TEXT NOT NULL,
        recipient   TEXT NOT NULL,
        kind        TEXT NOT NULL,
        case_id     TEXT NOT NULL,
        created     TEXT NOT NULL,
        signed_json TEXT NOT NULL,             -- the SignedEnvelope as sent
        direction   TEXT NOT NULL CHECK (direction IN ('out', 'in')),
        log_index   INTEGER NOT NULL,          -- its entry in this node's log
        recorded_at TEXT NOT NULL,
        receipt     TEXT,                      -- tlog-proof: issued (in) or received (out)
        UNIQUE (sender, id)
    );
    CREATE INDEX envelopes_by_case ON envelopes (case_id, log_index);
    CREATE TABLE outbox (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        peer            TEXT NOT NULL,
        envelope_hash   TEXT NOT NULL REFERENCES envelopes (hash),
        state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'refused')),
        enqueued_at     TEXT NOT NULL,
        enqueued_ms     INTEGER NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_ms INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        delivered_at    TEXT,
        delivered_ms    INTEGER,
        alerted_at      TEXT
    );
    CREATE INDEX outbox_by_peer ON outbox (peer, state, seq);
    CREATE TABLE cases (
        id                TEXT PRIMARY KEY,
        kind              TEXT NOT NULL,
        initiator         TEXT NOT NULL,
                responder         TEXT NOT NULL,
        outgoing          INTEGER NOT NULL DEFAULT 0,   -- opened by this node
        subject           TEXT NOT NULL,
        state             TEXT NOT NULL,
        created           TEXT NOT NULL,
        updated           TEXT NOT NULL,
        offence           TEXT,
        urgent            INTEGER NOT NULL DEFAULT 0,
        links             TEXT NOT NULL DEFAULT '[]',   -- JSON array of case ids this one follows
        root_hash         TEXT,                          -- the opening envelope
        preservation_days INTEGER,
        -- Derived from the thread (recomputed with each envelope): what deadlines count from.
        delivered_at      TEXT,
        acknowledged_at   TEXT,
        executed_at       TEXT,
        extension_days    INTEGER NOT NULL DEFAULT 0
    );
        CREATE INDEX cases_by_update ON cases (updated);
    -- The inbox and outbox pages: newest first within a direction.
    CREATE INDEX cases_by_box ON cases (outgoing, updated DESC, id);
    CREATE TABLE rejections (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        at          TEXT NOT NULL,
        peer        TEXT NOT NULL,
        envelope_id TEXT,
        code        TEXT NOT NULL,
        reason      TEXT NOT NULL
    );
    CREATE TABLE peer_checkpoints (
        peer    TEXT NOT NULL,
        size    INTEGER NOT NULL,
        root    BLOB NOT NULL,
        note    TEXT NOT NULL,
        seen_at TEXT NOT NULL,
        PRIMARY KEY (peer, size, root)
    );
    CREATE TABLE alerts (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        at          TEXT NOT NULL,
        kind        TEXT NOT NULL,
        subject     TEXT NOT NULL,
        message     TEXT NOT NULL,
        resolved_at TEXT,
        escalated   INTEGER NOT NULL DEFAULT 0,
        UNIQUE (kind, subject)
    );
    -- Deadlines passed (warning or hard) and alerts, sent to the duty
    -- officer by e-mail and signed webhook; each channel's status is kept.
    CREATE TABLE escalations (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        at             TEXT NOT NULL,
        subject        TEXT NOT NULL,      -- case id, or alert:<kind>:<subject>
        deadline       TEXT NOT NULL,      -- acknowledge | respond | preservation_expiry | alert
        level          TEXT NOT NULL,      -- warning | hard
        due            TEXT NOT NULL,
        message        TEXT NOT NULL,
        email_status   TEXT NOT NULL,      -- pending | sent | off | failed: …
        webhook_status TEXT NOT NULL,
        attempts       INTEGER NOT NULL DEFAULT 0,
        UNIQUE (subject, deadline, level)
    );
    -- Witness role: the latest checkpoint cosigned for each log.
    CREATE TABLE witness_views (
        origin     TEXT PRIMARY KEY,
        size       INTEGER NOT NULL,
        root       BLOB NOT NULL,
        updated_at TEXT NOT NULL
    );
        -- People who use this node, and the API tokens scripts use for them.
    CREATE TABLE users (
        username      TEXT PRIMARY KEY,
        role          TEXT NOT NULL,
        password_hash TEXT NOT NULL,       -- argon2id PHC string
        lang          TEXT NOT NULL DEFAULT 'en',
        created       TEXT NOT NULL,
        disabled      INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE api_tokens (
        token_sha256 TEXT PRIMARY KEY,     -- only the hash of a token is kept
        username     TEXT NOT NULL REFERENCES users (username),
        label        TEXT NOT NULL,
        created      TEXT NOT NULL
    );
        -- Signed-in browser sessions (only the hash of the cookie is kept).
    CREATE TABLE sessions (
        id_sha256 TEXT PRIMARY KEY,
        username  TEXT NOT NULL REFERENCES users (username),
        csrf      TEXT NOT NULL,
        created   TEXT NOT NULL,
        expires   INTEGER NOT NULL            -- unix seconds
    );
    -- Party role: the latest cosignature each witness gave our log.
    CREATE TABLE cosignatures (
        witness TEXT PRIMARY KEY,
        size    INTEGER NOT NULL,
        root    BLOB NOT NULL,
        line    TEXT NOT NULL
    );
    ",
    // 3: the shared reference (glossary events, norm tags) and full-text search.
    "
    CREATE TABLE glossary_events (
        event_id      TEXT PRIMARY KEY,
        term          TEXT NOT NULL,
        party         TEXT NOT NULL,
        action        TEXT NOT NULL,
        body          TEXT NOT NULL,     -- the signed event body (JSON)
        created       TEXT NOT NULL,
        envelope_hash TEXT               -- an envelope that carried it
    );
    CREATE INDEX glossary_events_by_term ON glossary_events (term, created);
    CREATE TABLE case_norms (
        case_id TEXT NOT NULL,
        norm    TEXT NOT NULL,
        PRIMARY KEY (case_id, norm)
    );
    -- Full-text indexes of stemmed text (see core::text), one per reader
    -- class: case messages (doc = envelope hash) and glossary terms.
    CREATE VIRTUAL TABLE search_cases USING fts5 (
        doc UNINDEXED, case_id UNINDEXED, text,
        tokenize = 'unicode61 remove_diacritics 0'
    );
    CREATE VIRTUAL TABLE search_glossary USING fts5 (
        term UNINDEXED, text,
        tokenize = 'unicode61 remove_diacritics 0'
    );
    ",
    // 4: TLP markings and clearances, the duty roster, audited reads.
    "
    ALTER TABLE cases ADD COLUMN tlp TEXT NOT NULL DEFAULT 'clear';
    ALTER TABLE users ADD COLUMN clearance TEXT;   -- NULL: the role's default
    CREATE TABLE duty_roster (
        id      INTEGER PRIMARY KEY,
        name    TEXT NOT NULL,
        email   TEXT NOT NULL,
        phone   TEXT NOT NULL DEFAULT '',
        starts  TEXT NOT NULL,                     -- RFC 3339, UTC
        ends    TEXT NOT NULL
    );
    CREATE INDEX duty_roster_by_time ON duty_roster (starts, ends);
    -- Who read TLP:AMBER, AMBER+STRICT or RED content, what, and through what.
    CREATE TABLE tlp_reads (
        id       INTEGER PRIMARY KEY,
        at       TEXT NOT NULL,
        username TEXT NOT NULL,
        object   TEXT NOT NULL,
        tlp      TEXT NOT NULL,
        via      TEXT NOT NULL
    );
    CREATE INDEX tlp_reads_by_time ON tlp_reads (at);
    ",
    // 5: STIX objects in TAXII collections.
    "
    CREATE TABLE taxii_collections (
        id          TEXT PRIMARY KEY,           -- UUID, as TAXII names collections
        alias       TEXT NOT NULL UNIQUE,
        title       TEXT NOT NULL,
        description TEXT NOT NULL,
        writable    INTEGER NOT NULL
    );
    INSERT INTO taxii_collections VALUES
        ('7f3c2a91-5d4e-4b8a-9c61-2e0f8d7a4b35', 'incidents', 'Liaison incidents',
         'Incident notifications exchanged through this node, as STIX 2.1 (incidents with the Incident Core Extension, indicators, notes, identities, TLP 2.0 markings). Published by Liaison; read-only.', 0),
        ('b2e8d4c6-1a3f-4e9b-8d72-6c5a0f1e9d43', 'shared', 'Shared indicators',
         'STIX 2.1 objects added by CERTs through TAXII or liaison stix import.', 1);
    CREATE TABLE stix_objects (
        seq          INTEGER PRIMARY KEY,       -- order of addition
        collection   TEXT NOT NULL,
        id           TEXT NOT NULL,
        type         TEXT NOT NULL,
        spec_version TEXT NOT NULL,
        version      TEXT NOT NULL,             -- modified / created / date added, microseconds UTC
        date_added   TEXT NOT NULL,             -- strictly increasing with seq
        tlp          TEXT NOT NULL,
        is_first     INTEGER NOT NULL,
        is_last      INTEGER NOT NULL,
        json         TEXT NOT NULL
    );
    CREATE UNIQUE INDEX stix_by_id ON stix_objects (collection, id, version);
    CREATE INDEX stix_by_collection ON stix_objects (collection, seq);
    CREATE INDEX stix_last ON stix_objects (collection, seq) WHERE is_last = 1;
    CREATE INDEX stix_type_last ON stix_objects (collection, type, seq) WHERE is_last = 1;
    CREATE INDEX stix_by_added ON stix_objects (collection, date_added);
    CREATE TABLE taxii_status (
        id                TEXT PRIMARY KEY,
        collection        TEXT NOT NULL,
        request_timestamp TEXT NOT NULL,
        total             INTEGER NOT NULL,
        success           INTEGER NOT NULL,
        failure           INTEGER NOT NULL,
        successes         TEXT NOT NULL,        -- JSON status details
        failures          TEXT NOT NULL
    );
    ",
    // 6: shared hash lists (ours and each peer's), built from agreed content reports.
    "
    CREATE TABLE hash_list (
        id              INTEGER PRIMARY KEY,
        owner           TEXT NOT NULL,          -- party whose list it is
        entry_id        TEXT NOT NULL,          -- the owner's id, the same on every node
        kind            TEXT NOT NULL,          -- md5 | sha256 | pdq
        value           TEXT NOT NULL,          -- lower-case hex
        entity          TEXT NOT NULL,
        behaviour       TEXT NOT NULL,
        urgency         TEXT NOT NULL,
        origin_case     TEXT NOT NULL,
        added_at        TEXT NOT NULL,
        withdrawn_at    TEXT,
        withdraw_reason TEXT,
        UNIQUE (owner, entry_id)
    );
    CREATE INDEX hash_list_live ON hash_list (kind, value) WHERE withdrawn_at IS NULL;
    ",
    // 7: hardening — attachments decided by table, not text; who stored
    // which file (quotas, probing, expiry); escalations without content;
    // TAXII statuses owned by their poster; hash-list entries marked like
    // their report; API tokens that expire.
    "
    CREATE TABLE envelope_attachments (
        sha256        TEXT NOT NULL,
        envelope_hash TEXT NOT NULL REFERENCES envelopes (hash),
        case_id       TEXT NOT NULL,
        name          TEXT NOT NULL,
        PRIMARY KEY (sha256, envelope_hash)
    );
    INSERT OR IGNORE INTO envelope_attachments (sha256, envelope_hash, case_id, name)
        SELECT json_extract(a.value, '$.sha256'), e.hash, e.case_id,
               coalesce(json_extract(a.value, '$.name'), '')
        FROM envelopes e, json_each(e.signed_json, '$.envelope.attachments') a
        WHERE json_extract(a.value, '$.sha256') IS NOT NULL;
    CREATE TABLE attachment_holders (
        sha256    TEXT NOT NULL,
        holder    TEXT NOT NULL,          -- user:<name> or peer:<party>
        size      INTEGER NOT NULL,
        stored_at INTEGER NOT NULL,       -- unix seconds
        PRIMARY KEY (sha256, holder)
    );
    CREATE INDEX attachment_holders_by_holder ON attachment_holders (holder);
    UPDATE escalations SET message = upper(level) || ': ' || deadline || ' of ' || subject
        WHERE deadline != 'alert';
    ALTER TABLE taxii_status ADD COLUMN username TEXT NOT NULL DEFAULT '';
    ALTER TABLE hash_list ADD COLUMN tlp TEXT NOT NULL DEFAULT 'red';
    UPDATE hash_list SET tlp = coalesce((SELECT c.tlp FROM cases c WHERE c.id = hash_list.origin_case), 'red');
    ALTER TABLE api_tokens ADD COLUMN expires INTEGER;
    UPDATE api_tokens SET expires = coalesce(CAST(strftime('%s', created) AS INTEGER), 0) + 90 * 86400;
    ",
];

pub(crate) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(StoreError::Invalid(format!(
            "the database has schema version {version}, newer than this program knows ({}); upgrade liaison",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; {sql}; PRAGMA user_version = {}; COMMIT;",
            i + 1
        ))?;
    }
    Ok(())
}

pub fn get_meta(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
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
