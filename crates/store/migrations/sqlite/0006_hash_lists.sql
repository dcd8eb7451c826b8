-- 6: shared hash lists (ours and each peer's), built from agreed content
-- reports.
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
