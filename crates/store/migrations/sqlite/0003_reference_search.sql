-- 3: the shared reference (glossary events, norm tags) and full-text search.
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
