-- The follow-up list (GET /api/v1/cases) reads the cases of a state longest-waiting first:
-- this index serves that order a page at a time, however many cases were closed before.
CREATE INDEX follow_up_cases_waiting_idx ON follow_up_cases (state, detractor_at, survey_id);
