-- 2: federation — envelopes, the durable outbox, cases, refusals, what peers'
-- logs and witnesses showed us.
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
