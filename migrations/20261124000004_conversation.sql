-- The survey conversation: where each survey stands, every inbound SMS, every answer, and
-- the events to publish (a transactional outbox).

ALTER TABLE surveys
    ADD COLUMN question_index integer NOT NULL DEFAULT 0,
    ADD COLUMN reprompted     boolean NOT NULL DEFAULT false,
    ADD COLUMN expires_at     timestamptz,
    ADD COLUMN closed_at      timestamptz,
    DROP CONSTRAINT surveys_state_check,
    ADD CONSTRAINT surveys_state_check CHECK (state IN
        ('scheduled', 'sending', 'open', 'completed', 'expired', 'opted_out', 'cancelled', 'failed'));

-- The expiry sweeper looks for open surveys past their time.
CREATE INDEX surveys_expiry_idx ON surveys (expires_at) WHERE state = 'open';

-- System replies (an opt-out confirmation, help) may go to a phone with no survey.
ALTER TABLE messages ALTER COLUMN survey_id DROP NOT NULL;

-- Every SMS a customer sent us, stored before anything acts on it. A provider's retry of
-- the same callback finds its id here and changes nothing.
CREATE TABLE inbound_messages (
    id                  bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider            text        NOT NULL,
    provider_message_id text        NOT NULL,
    from_phone          text        NOT NULL,
    to_phone            text,
    body                text        NOT NULL,
    received_at         timestamptz NOT NULL,
    survey_id           bigint      REFERENCES surveys (id),
    -- answer, reprompt, skipped, keyword, late, unsolicited
    outcome             text        NOT NULL,
    UNIQUE (provider, provider_message_id)
);

CREATE INDEX inbound_messages_phone_idx ON inbound_messages (from_phone, received_at DESC);

-- One row per answer. A late answer (after expiry) is kept for the record and counts for
-- nothing. `value` is JSON true/false, an integer, or a string.
CREATE TABLE answers (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    survey_id   bigint      NOT NULL REFERENCES surveys (id),
    question_id text        NOT NULL,
    value       jsonb       NOT NULL,
    raw         text        NOT NULL,
    received_at timestamptz NOT NULL,
    late        boolean     NOT NULL DEFAULT false,
    inbound_id  bigint      REFERENCES inbound_messages (id)
);

CREATE UNIQUE INDEX answers_one_per_question ON answers (survey_id, question_id) WHERE NOT late;
CREATE INDEX answers_received_idx ON answers (received_at);

-- Events written in the same transaction as the change they announce, published to
-- RabbitMQ with confirms afterwards: neither lost while the broker is down nor sent twice.
CREATE TABLE outbox (
    id           uuid        PRIMARY KEY,
    routing_key  text        NOT NULL,
    payload      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);

CREATE INDEX outbox_unpublished_idx ON outbox (created_at) WHERE published_at IS NULL;
