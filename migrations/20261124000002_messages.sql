-- Every SMS, stored before it is sent: the outbox the dispatcher works from, and the record
-- of cost (segments) and delivery (status) for each survey.

CREATE TABLE messages (
    -- Also the idempotency key sent to providers that take one: a resend after a crash
    -- carries the same id, and the provider drops the duplicate.
    id                  uuid        PRIMARY KEY,
    survey_id           bigint      NOT NULL REFERENCES surveys (id),
    direction           text        NOT NULL DEFAULT 'outbound' CHECK (direction IN ('outbound', 'inbound')),
    -- What the message is for: a question (and which), or a system reply.
    purpose             text        NOT NULL,
    question_id         text,
    to_phone            text        NOT NULL,
    body                text        NOT NULL,
    encoding            text        NOT NULL CHECK (encoding IN ('gsm7', 'ucs2')),
    segments            integer     NOT NULL CHECK (segments > 0),
    -- pending: waiting for next_attempt_at; sending: claimed under a lease; then the
    -- provider's normalised status, or failed/cancelled for good.
    status              text        NOT NULL DEFAULT 'pending' CHECK (status IN
        ('pending', 'sending', 'queued', 'sent', 'delivered', 'undelivered', 'failed', 'cancelled')),
    provider            text,
    provider_message_id text,
    attempts            integer     NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    lease_until         timestamptz,
    leased_by           text,
    error_code          text,
    error_message       text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz
);

CREATE INDEX messages_due_idx ON messages (next_attempt_at) WHERE status = 'pending';
CREATE INDEX messages_lease_idx ON messages (lease_until) WHERE status = 'sending';
CREATE INDEX messages_survey_idx ON messages (survey_id);
CREATE UNIQUE INDEX messages_provider_id_idx ON messages (provider, provider_message_id)
    WHERE provider_message_id IS NOT NULL;

-- Wake the dispatchers when new work arrives, rather than at their next poll. Row-level and
-- on INSERT only: a statement-level trigger would also fire for the dispatcher's own
-- zero-row claims and wake it in a loop. Identical notifications in one transaction are
-- delivered once.
CREATE FUNCTION postcall_notify_dispatch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('postcall_dispatch', '');
    RETURN NULL;
END $$;

CREATE TRIGGER messages_notify AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION postcall_notify_dispatch();
CREATE TRIGGER surveys_notify AFTER INSERT ON surveys
    FOR EACH ROW EXECUTE FUNCTION postcall_notify_dispatch();
