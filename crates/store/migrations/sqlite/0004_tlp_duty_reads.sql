-- 4: TLP markings and clearances, the duty roster, audited reads.
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
