-- 13: key changes keyed by their statement, kept in the order recorded.
-- A thief holding a stolen log key can rotate before its owner notices;
-- the owner's revocation, signed by the recovery key, then arrives with a
-- sequence the thief already used. Both stay on record (the thief's as
-- evidence), so (party, sequence) cannot be the key, and "the last change"
-- is the last one recorded, not the highest sequence.
CREATE TABLE key_changes_v2 (
    id                INTEGER PRIMARY KEY,   -- order recorded here
    party             TEXT NOT NULL,
    sequence          INTEGER NOT NULL,      -- as the statement names it
    kind              TEXT NOT NULL,         -- rotation | revocation | recovery_rotation
    hash              TEXT NOT NULL UNIQUE,  -- SHA-256 of the statement text
    signed            TEXT NOT NULL,         -- the signed statement, JSON
    previous_card     TEXT NOT NULL,         -- the card it replaced, JSON
    issued_at         TEXT NOT NULL,
    overlap_until     TEXT,                  -- rotation: the replaced keys accepted until
    compromised_since TEXT,                  -- revocation
    log_index         INTEGER NOT NULL,      -- its key-change entry in the party's own log
    recorded_at       TEXT NOT NULL
);
INSERT INTO key_changes_v2 (party, sequence, kind, hash, signed, previous_card, issued_at,
        overlap_until, compromised_since, log_index, recorded_at)
    SELECT party, sequence, kind, hash, signed, previous_card, issued_at,
        overlap_until, compromised_since, log_index, recorded_at
    FROM key_changes ORDER BY party, sequence;
DROP TABLE key_changes;
ALTER TABLE key_changes_v2 RENAME TO key_changes;
CREATE INDEX key_changes_by_party ON key_changes (party, id);
