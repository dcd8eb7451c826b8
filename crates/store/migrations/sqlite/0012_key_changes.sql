-- 12: key changes — the chain of each party's cards (this node's own and
-- those of its peers), so that what an earlier key signed keeps verifying
-- and a revoked key is refused.
CREATE TABLE key_changes (
    party             TEXT NOT NULL,
    sequence          INTEGER NOT NULL,      -- 1, 2, … in the party's chain
    kind              TEXT NOT NULL,         -- rotation | revocation | recovery_rotation
    hash              TEXT NOT NULL UNIQUE,  -- SHA-256 of the statement text
    signed            TEXT NOT NULL,         -- the signed statement, JSON
    previous_card     TEXT NOT NULL,         -- the card it replaced, JSON
    issued_at         TEXT NOT NULL,
    overlap_until     TEXT,                  -- rotation: the replaced keys accepted until
    compromised_since TEXT,                  -- revocation
    log_index         INTEGER NOT NULL,      -- its key-change entry in the party's own log
    recorded_at       TEXT NOT NULL,
    PRIMARY KEY (party, sequence)
);
