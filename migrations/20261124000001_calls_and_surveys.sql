-- Calls, the eligibility decision taken for each, and the surveys scheduled from them.
-- Never edit a migration once it has landed: add a new one.

-- One row per call_id, written once by ingest. The decision and its reason answer
-- "why did this caller get no SMS?"; `event` keeps the body as received, for audit and replay.
CREATE TABLE calls (
    call_id           text        PRIMARY KEY,
    event_id          uuid,
    customer_phone    text        NOT NULL,
    agent_id          text        NOT NULL,
    queue             text        NOT NULL,
    started_at        timestamptz NOT NULL,
    answered_at       timestamptz,
    ended_at          timestamptz NOT NULL,
    disposition       text        NOT NULL,
    language          text,
    customer_timezone text,
    wait_seconds      double precision,
    talk_seconds      double precision NOT NULL,
    decision          text        NOT NULL CHECK (decision IN
        ('scheduled', 'disposition', 'too_short', 'not_sampled', 'frequency_cap', 'opted_out',
         'stale', 'duplicate', 'invalid_phone', 'open_survey')),
    decided_at        timestamptz NOT NULL DEFAULT now(),
    event             jsonb       NOT NULL
);

CREATE INDEX calls_customer_phone_idx ON calls (customer_phone);
CREATE INDEX calls_ended_at_idx ON calls (ended_at);

-- Phones that said STOP (or that the carrier reports as opted out). Eligibility reads it;
-- the conversation writes it.
CREATE TABLE opt_outs (
    customer_phone text        PRIMARY KEY,
    opted_out_at   timestamptz NOT NULL DEFAULT now(),
    source         text        NOT NULL
);

-- A survey per scheduled call. `send_at` is when the first SMS is due, already moved out
-- of quiet hours; `timezone` is the zone that decided it.
CREATE TABLE surveys (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id        text        NOT NULL UNIQUE REFERENCES calls (call_id),
    customer_phone text        NOT NULL,
    language       text        NOT NULL,
    timezone       text        NOT NULL,
    state          text        NOT NULL DEFAULT 'scheduled' CHECK (state IN
        ('scheduled', 'sending', 'open', 'completed', 'expired', 'cancelled', 'failed')),
    send_at        timestamptz NOT NULL,
    sent_at        timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- A phone has at most one survey in flight: a reply always belongs to exactly one.
CREATE UNIQUE INDEX surveys_one_in_flight_per_phone
    ON surveys (customer_phone) WHERE state IN ('scheduled', 'sending', 'open');
-- The frequency cap looks up a phone's most recent survey.
CREATE INDEX surveys_phone_send_at_idx ON surveys (customer_phone, send_at DESC);
-- The dispatcher claims due rows in send_at order.
CREATE INDEX surveys_due_idx ON surveys (send_at) WHERE state = 'scheduled';
