-- Follow-up cases (售后跟踪): every detractor survey opens one case, which a person works
-- open → contacted → resolved, or → unreachable (the legal moves: src/domain/follow_up.rs).
-- Every move is kept with who made it, when, and a note.

CREATE TABLE follow_up_cases (
    survey_id    bigint      PRIMARY KEY REFERENCES surveys (id),
    call_id      text        NOT NULL UNIQUE REFERENCES calls (call_id),
    state        text        NOT NULL DEFAULT 'open' CHECK (state IN
        ('open', 'contacted', 'resolved', 'unreachable')),
    -- Every reason the survey's `survey.detractor` events gave (nps, csat, fcr), each once.
    reasons      text[]      NOT NULL,
    -- When the first detractor answer was received (the reply's time, not the write's),
    -- never after the case opened.
    detractor_at timestamptz NOT NULL,
    opened_at    timestamptz NOT NULL DEFAULT now(),
    -- The first move to contacted: the scores' time to first contact ends here.
    contacted_at timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE follow_up_moves (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    survey_id  bigint      NOT NULL REFERENCES follow_up_cases (survey_id),
    from_state text        NOT NULL,
    to_state   text        NOT NULL,
    moved_by   text        NOT NULL,
    note       text        NOT NULL,
    moved_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX follow_up_moves_case_idx ON follow_up_moves (survey_id, id);

-- The feedback list finds the surveys with a comment (a text answer) without reading
-- every answer.
CREATE INDEX answers_comment_idx ON answers (survey_id)
    WHERE NOT late AND jsonb_typeof(value) = 'string';

-- The case opens with the `survey.detractor` outbox row, in the transaction that records
-- the detractor answer. The outbox insert is the one place every path that finds a
-- detractor goes through (the reply paths decide it from the configured questions, which
-- the database does not know), and a late answer, which announces nothing, opens nothing.
-- A later detractor answer of the same survey (another question) adds its reasons to the
-- same case and changes nothing else.
CREATE FUNCTION postcall_open_follow_up() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO follow_up_cases (survey_id, call_id, reasons, detractor_at)
    SELECT s.id, s.call_id,
           ARRAY(SELECT jsonb_array_elements_text(
                   CASE WHEN jsonb_typeof(NEW.payload -> 'reasons') = 'array'
                        THEN NEW.payload -> 'reasons' ELSE '[]'::jsonb END)),
           -- A provider's clock ahead of ours must not put the answer after the case.
           least((SELECT max(a.received_at) FROM answers a
                   WHERE a.survey_id = s.id AND NOT a.late), now())
      FROM surveys s
     WHERE s.call_id = NEW.payload ->> 'call_id'
    ON CONFLICT (survey_id) DO UPDATE
       SET reasons = follow_up_cases.reasons || ARRAY(
               SELECT r FROM unnest(EXCLUDED.reasons) AS r
                WHERE r <> ALL (follow_up_cases.reasons));
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_opens_follow_up AFTER INSERT ON outbox
    FOR EACH ROW WHEN (NEW.routing_key = 'survey.detractor')
    EXECUTE FUNCTION postcall_open_follow_up();

-- Detractors announced before this migration get their case too.
INSERT INTO follow_up_cases (survey_id, call_id, reasons, detractor_at, opened_at)
SELECT s.id, s.call_id,
       ARRAY(SELECT DISTINCT jsonb_array_elements_text(o.payload -> 'reasons')
               FROM outbox o
              WHERE o.routing_key = 'survey.detractor' AND o.payload ->> 'call_id' = s.call_id
                AND jsonb_typeof(o.payload -> 'reasons') = 'array'),
       first.created_at, first.created_at
  FROM (SELECT payload ->> 'call_id' AS call_id, min(created_at) AS created_at
          FROM outbox WHERE routing_key = 'survey.detractor'
         GROUP BY 1) AS first
  JOIN surveys s ON s.call_id = first.call_id
ON CONFLICT DO NOTHING;
