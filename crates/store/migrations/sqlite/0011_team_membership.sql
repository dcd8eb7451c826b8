-- 11: joint teams — where each participant stands: a member, invited and
-- not yet accepted, or gone (a participant who left stays on the roster).
ALTER TABLE case_participants ADD COLUMN status TEXT NOT NULL DEFAULT 'member';
-- The cases of one kind (joint teams have no lifecycle state to filter on).
CREATE INDEX cases_by_kind ON cases (kind, state);
