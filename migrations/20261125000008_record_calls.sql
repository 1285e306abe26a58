-- Ingest writes a batch in one round trip: the calls, their surveys, and the rare call whose
-- survey lost the phone's single in-flight slot to another replica (recorded `open_survey`),
-- all in one statement, so atomic without BEGIN/COMMIT round trips of their own. On a busy
-- machine each round trip costs a wake-up of both ends; five per batch were most of a batch's
-- time (BENCHMARKS.md, ingest).
-- Returns the calls actually inserted (a call_id already recorded is left as it was and not
-- returned) with the decision recorded for each.
CREATE FUNCTION postcall_record_calls(
    call_ids text[], event_ids uuid[], phones text[], agents text[], queues text[],
    started timestamptz[], answered timestamptz[], ended timestamptz[], dispositions text[],
    languages text[], zones text[], waits double precision[], talks double precision[],
    decisions text[], events jsonb[],
    survey_languages text[], survey_zones text[], send_ats timestamptz[])
RETURNS TABLE (recorded_call_id text, recorded_decision text)
LANGUAGE plpgsql AS $$
DECLARE
    inserted text[];
    scheduled text[];
    lost text[];
BEGIN
    WITH input AS (
        SELECT * FROM unnest(call_ids, event_ids, phones, agents, queues, started, answered,
                             ended, dispositions, languages, zones, waits, talks, decisions,
                             events, survey_languages, survey_zones, send_ats)
            AS t(call_id, event_id, customer_phone, agent_id, queue, started_at, answered_at,
                 ended_at, disposition, language, customer_timezone, wait_seconds,
                 talk_seconds, decision, event, survey_language, survey_timezone, send_at)
    ), new_calls AS (
        INSERT INTO calls AS c (call_id, event_id, customer_phone, agent_id, queue, started_at,
                                answered_at, ended_at, disposition, language,
                                customer_timezone, wait_seconds, talk_seconds, decision, event)
        SELECT i.call_id, i.event_id, i.customer_phone, i.agent_id, i.queue, i.started_at,
               i.answered_at, i.ended_at, i.disposition, i.language, i.customer_timezone,
               i.wait_seconds, i.talk_seconds, i.decision, i.event
          FROM input i
        ON CONFLICT (call_id) DO NOTHING
        RETURNING c.call_id, c.decision
    ), new_surveys AS (
        INSERT INTO surveys AS s (call_id, customer_phone, language, timezone, send_at)
        SELECT i.call_id, i.customer_phone, i.survey_language, i.survey_timezone, i.send_at
          FROM input i JOIN new_calls n ON n.call_id = i.call_id
         WHERE n.decision = 'scheduled'
        ON CONFLICT (customer_phone) WHERE state IN ('scheduled', 'sending', 'open') DO NOTHING
        RETURNING s.call_id
    )
    SELECT array_agg(n.call_id),
           array_agg(n.call_id) FILTER (WHERE n.decision = 'scheduled'),
           (SELECT array_agg(ns.call_id) FROM new_surveys ns)
      INTO inserted, scheduled, lost
      FROM new_calls n;

    -- Scheduled but not surveyed: another replica's concurrent batch took the slot.
    lost := ARRAY(SELECT unnest(scheduled) EXCEPT SELECT unnest(lost));
    IF cardinality(lost) > 0 THEN
        UPDATE calls SET decision = 'open_survey' WHERE call_id = ANY (lost);
    END IF;

    RETURN QUERY
        SELECT i.id, CASE WHEN i.id = ANY (lost) THEN 'open_survey' ELSE d.decision END
          FROM unnest(inserted) AS i(id)
          JOIN unnest(call_ids, decisions) AS d(call_id, decision) ON d.call_id = i.id;
END $$;
