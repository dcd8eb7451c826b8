-- 7: hardening — attachments decided by table, not text; who stored which
-- file (quotas, probing, expiry); escalations without content; TAXII statuses
-- owned by their poster; hash-list entries marked like their report; API
-- tokens that expire.
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
