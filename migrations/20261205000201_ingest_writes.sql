-- What ingest writes per call, cut to what some reader or some guarantee needs (issue 17:
-- ingest at ≥ 0.70 of its baseline; BENCHMARKS.md, ingest).
--
-- The foreign key surveys.call_id → calls checked every new survey against the calls row that
-- the same statement had just inserted: `postcall_record_calls` (migration 8) inserts surveys
-- only from its own `new_calls`, in one statement, so the referenced row exists by
-- construction. It is the only writer of surveys. Nothing deletes a call or a survey (retention
-- erases their personal fields in place, store/retention.rs) and nothing updates a call_id, so
-- the reference cannot dangle later either. The check was a row lock and an index probe per
-- survey, a fifth of the batch's PostgreSQL time. UNIQUE (call_id) stays: one survey per call,
-- and the index the joins from calls take.
ALTER TABLE surveys DROP CONSTRAINT surveys_call_id_fkey;

-- No query looks calls up by phone: a phone's history is read from surveys and opt_outs
-- (store/calls.rs), a reply finds its survey by phone on surveys (store/conversation.rs), and
-- retention walks calls by ended_at. The index was one more random B-tree insert per call.
DROP INDEX calls_customer_phone_idx;
