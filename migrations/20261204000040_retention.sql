-- Retention of personal data (README "Personal data and retention", `src/aggregate/retention.rs`):
-- `retention.personal_data_days` after a record was made, its phone numbers and texts are
-- erased in place; every figure the scores count stays as it was.
--
-- Finding the next batch must not read history already erased, and must add no index to
-- the tables ingest and the webhook write on every call (issue 17's throughput targets).
-- So the tables whose rows are written in time order are walked by a cursor per part, kept
-- here and moved in the transaction that erased the rows behind it: calls by the existing
-- `calls_ended_at_idx` (a call, its survey and the survey's outbound SMS go together),
-- inbound SMS, answers and case moves by their identity keys. The rest is found by small
-- partial indexes that hold only rows still to erase.
CREATE TABLE retention_cursors (
    part     text        PRIMARY KEY,
    -- calls: the end of the last calls erased (every call that ended then or before is).
    after_at timestamptz NOT NULL DEFAULT '1970-01-01 00:00:00+00',
    -- inbound_messages, answers, follow_up_moves: the last id erased.
    after_id bigint      NOT NULL DEFAULT 0
);

INSERT INTO retention_cursors (part)
VALUES ('calls'), ('inbound_messages'), ('answers'), ('follow_up_moves');

-- System replies (an opt-out confirmation, help) to a phone with no survey are the only
-- messages not reached through a survey; they are few, and leave the index when erased.
CREATE INDEX messages_unattached_idx ON messages (created_at)
    WHERE survey_id IS NULL AND to_phone <> '';

-- Published events past the window are deleted oldest first. The publisher's update of
-- `published_at` already writes every index entry of the row anew (it changes the predicate
-- of `outbox_unpublished_idx`), so this adds one entry there and nothing to the reply path.
CREATE INDEX outbox_published_idx ON outbox (created_at) WHERE published_at IS NOT NULL;
