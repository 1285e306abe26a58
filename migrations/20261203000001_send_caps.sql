-- Per-number caps (DESIGN.md §4): why a survey ended early, and the lookup of a phone's
-- recent sends that every capped claim makes.

-- `provider_cap` when a cap stopped the survey (a follow-up postcall held back, a cap the
-- platform refused, a first question that could not fit in the survey's life); NULL for
-- every ending the state says alone.
ALTER TABLE surveys ADD COLUMN end_reason text;

-- The claim counts one phone's sends in the cap windows (`store::caps::history`).
CREATE INDEX messages_to_phone_idx ON messages (to_phone);
