-- 5: STIX objects in TAXII collections.
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
