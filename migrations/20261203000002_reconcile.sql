-- Reconcile before resend (DESIGN §4 "No blind resend"): a send whose outcome is unknown on a
-- platform that takes no idempotency key (a timeout after the request may have been written,
-- a 5xx, an unreadable 200, the platform's own "timed out") is not sent again blind. It waits
-- as `reconciling` until `next_attempt_at` (the grace period), then one dispatcher leases it
-- (`leased_by`, and `next_attempt_at` moved to the lease's end, so a dead replica's lookup is
-- simply due again) and asks the platform whether it went out.
ALTER TABLE messages
    DROP CONSTRAINT messages_status_check,
    ADD CONSTRAINT messages_status_check CHECK (status IN
        ('pending', 'sending', 'reconciling', 'queued', 'sent', 'delivered', 'undelivered',
         'failed', 'cancelled')),
    -- Lookups made for this message, over its whole life: bounds the lookups a platform
    -- that cannot be asked gets, and fences each lookup's lease (a lookup that outlived its
    -- lease records nothing).
    ADD COLUMN reconcile_checks integer NOT NULL DEFAULT 0,
    -- The earliest moment an attempt whose outcome is unknown may have been sent: where the
    -- lookups start searching.
    ADD COLUMN reconcile_since timestamptz;

CREATE INDEX messages_reconcile_due_idx ON messages (next_attempt_at) WHERE status = 'reconciling';

-- Not yet sent as far as anyone knows: ranked with pending and sending, below every status
-- a provider reports.
CREATE OR REPLACE FUNCTION postcall_status_rank(status text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE status
        WHEN 'pending' THEN 0 WHEN 'sending' THEN 0 WHEN 'reconciling' THEN 0
        WHEN 'queued' THEN 1 WHEN 'sent' THEN 2
        WHEN 'delivered' THEN 3 WHEN 'undelivered' THEN 3 WHEN 'failed' THEN 3
        ELSE 4 END
$$;
