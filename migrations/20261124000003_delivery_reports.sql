-- Provider callbacks about delivery. A status report may arrive twice, out of order, or
-- before the send's own response has recorded the provider's message id.

-- Reports for a provider message id not (yet) known: kept here, and folded into the
-- message when the send records that id.
CREATE TABLE early_delivery_reports (
    provider            text        NOT NULL,
    provider_message_id text        NOT NULL,
    status              text        NOT NULL,
    error_code          text,
    received_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, provider_message_id, status)
);

-- Standard Webhooks ids already processed: a replayed request is acknowledged and ignored.
-- Rows older than the signature tolerance can never match a valid request again.
CREATE TABLE webhook_receipts (
    webhook_id  text        PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE messages ADD COLUMN delivered_at timestamptz;

-- How far along a message is; a status only ever moves to a higher rank, so a late `sent`
-- never undoes `delivered`. Final outcomes share the top rank: the first one stands.
CREATE FUNCTION postcall_status_rank(status text) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE status
        WHEN 'pending' THEN 0 WHEN 'sending' THEN 0
        WHEN 'queued' THEN 1 WHEN 'sent' THEN 2
        WHEN 'delivered' THEN 3 WHEN 'undelivered' THEN 3 WHEN 'failed' THEN 3
        ELSE 4 END
$$;
