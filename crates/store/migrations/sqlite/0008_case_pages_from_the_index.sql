-- 8: the inbox and outbox pages and their counts are read from one index
-- that holds every column they filter on (kind, state, marking), so counting
-- a box of 100,000 cases visits no table row.
CREATE INDEX cases_by_box_filtered ON cases (outgoing, updated DESC, id, kind, state, tlp);
DROP INDEX cases_by_box;
