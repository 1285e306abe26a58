-- Callback batches stored before they are acted on: Aliyun pushes again when its answer
-- takes over 700 ms, and a batch may hold hundreds of reports. A row is deleted in the
-- transaction that processed it; rows left by a process that died are swept up
-- (src/http/webhooks/inbox.rs).
CREATE TABLE callback_inbox (
    id          bigserial   PRIMARY KEY,
    provider    text        NOT NULL,
    -- The route's kind of batch: `status` (receipts) or `inbound` (replies).
    kind        text        NOT NULL,
    -- The batch as received; read again by the channel that received it.
    body        jsonb       NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
