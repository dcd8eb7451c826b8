-- 11: joint teams — where each participant stands: a member, invited and
-- not yet accepted, or gone (a participant who left stays on the roster).
ALTER TABLE case_participants ADD COLUMN status TEXT NOT NULL DEFAULT 'member';
-- The cases of one kind (joint teams have no lifecycle state to filter on).
CREATE INDEX cases_by_kind ON cases (kind, state);
-- The verifiable directory: entries parties published in their own logs,
-- this node's and those it verified (each with its owner's proof against a
-- witness-cosigned checkpoint; its own are proved when served).
CREATE TABLE directory (
    seq         INTEGER PRIMARY KEY,         -- order recorded here: peers fetch what follows theirs
    hash        TEXT NOT NULL UNIQUE,        -- SHA-256 of the entry's bytes
    owner       TEXT NOT NULL,
    published   TEXT NOT NULL,
    log_index   INTEGER NOT NULL,            -- in the owner's log
    entry       TEXT NOT NULL,               -- the entry, as committed
    proof       TEXT,                        -- NULL for this node's own entries
    witnesses   TEXT NOT NULL DEFAULT '',    -- who cosigned the proof's checkpoint
    source      TEXT NOT NULL,               -- who handed it over ('self' for own)
    recorded_at TEXT NOT NULL
);
CREATE INDEX directory_by_owner ON directory (owner, log_index);
-- The peers with something to deliver, found without reading what was
-- delivered (idle delivery workers wait for this watch, not for a poll each).
CREATE INDEX outbox_pending_peers ON outbox (peer) WHERE state = 'pending';
