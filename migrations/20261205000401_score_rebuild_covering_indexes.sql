-- A scores rebuild reads every answer and every outbound message once, grouped by survey.
-- From the heaps that is 0.9 GB of answers and 4.2 GB of messages (bodies, phones, provider
-- ids) at 10 M answers, and hash aggregates of 4 M surveys that spill; from these indexes,
-- in survey order, it is an index-only scan of each, summed survey by survey with no sort
-- and no hash table (BENCHMARKS.md, aggregate).
--
-- Each replaces an index on the same key, so a write maintains as many indexes as before;
-- the uniqueness of an answer per question is unchanged (INCLUDE columns are not part of
-- the key).

CREATE INDEX messages_survey_cover_idx ON messages (survey_id)
    INCLUDE (direction, purpose, status, segments);
DROP INDEX messages_survey_idx;
ALTER INDEX messages_survey_cover_idx RENAME TO messages_survey_idx;

CREATE UNIQUE INDEX answers_one_per_question_cover ON answers (survey_id, question_id)
    INCLUDE (value) WHERE NOT late;
DROP INDEX answers_one_per_question;
ALTER INDEX answers_one_per_question_cover RENAME TO answers_one_per_question;
