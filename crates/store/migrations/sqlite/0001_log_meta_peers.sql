-- 1: the log, node settings, pinned peers.
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
