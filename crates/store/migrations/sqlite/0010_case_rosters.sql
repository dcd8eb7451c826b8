-- 10: cases among several parties — each case's roster (who takes part and
-- in what role), a receipt per recipient of an outgoing envelope, and
-- deliveries a recipient put off until it holds what they follow.
-- A case of two parties has no rows here: its row names both (initiator
-- requesting, responder requested).
CREATE TABLE case_participants (
    case_id TEXT NOT NULL,
    party   TEXT NOT NULL,
    role    TEXT NOT NULL,
    seq     INTEGER NOT NULL,              -- order on the roster
    PRIMARY KEY (case_id, party)
);
ALTER TABLE outbox ADD COLUMN receipt TEXT;
UPDATE outbox SET receipt = (SELECT e.receipt FROM envelopes e WHERE e.hash = outbox.envelope_hash)
    WHERE state = 'delivered';
-- Put off by the recipient (it lacked an envelope this one follows): later
-- entries of the stream go on while this one waits for its next attempt.
ALTER TABLE outbox ADD COLUMN deferred INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_by_envelope ON outbox (envelope_hash);
-- The entries put off, which hold back the later entries of their cases.
CREATE INDEX outbox_put_off ON outbox (peer, seq) WHERE deferred = 1 AND state = 'pending';
