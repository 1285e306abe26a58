-- A survey's first question is claimed on the survey itself and its message row written
-- once, when the provider has accepted it (src/dispatch/start.rs): inserting the row
-- claimed before the send and updating it after was a row, seven index entries and a
-- round trip per SMS more than the records need (BENCHMARKS.md, dispatch, "The schema
-- floor").
--
-- The lease, as `messages` has it: who holds the survey's first send and until when.
-- `first_message_id` is the SMS's id, kept across a lease that ran out (the send may have
-- gone: its resend carries the same idempotency key, or is looked up first where the
-- platform drops no duplicates); `first_attempts` counts the claims that may have sent it.
ALTER TABLE surveys
    ADD COLUMN leased_by        text,
    ADD COLUMN lease_until      timestamptz,
    ADD COLUMN first_message_id uuid,
    ADD COLUMN first_attempts   integer NOT NULL DEFAULT 0;

-- The lease rescuer's scan: only surveys whose first send is under way have an entry.
CREATE INDEX surveys_first_lease_idx ON surveys (lease_until) WHERE lease_until IS NOT NULL;
