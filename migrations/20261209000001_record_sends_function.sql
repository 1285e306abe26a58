-- The recorder's write of a batch of accepted sends (`store::messages::accepted`), as one
-- function called in one statement: one round trip and one implicit transaction per batch,
-- where BEGIN, the report locks, the write and COMMIT took four. The recorder is the
-- dispatch loop that is busy nearly all the time at full load, so its round trips were
-- most of what a batch cost beyond the write itself (BENCHMARKS.md, dispatch).
--
-- Why a function and not one statement: the report locks must be held before the early
-- delivery reports are read, or a report could commit between the read and the commit and
-- be neither folded in nor found by its report (`store::deliveries`). A statement reads
-- with one snapshot, taken before anything in it runs; a VOLATILE PL/pgSQL function takes
-- a fresh snapshot for each statement it runs, so its write, after the locks, sees every
-- report committed before them.

-- For each send, given by its provider message id and the status its send was accepted
-- with, that has delivery reports which came before the send was recorded (kept as early
-- reports): the furthest report (ties to the earliest), the parts the latest report with
-- a count says were billed, and whether the report `folds` in, being further than the
-- send's own status. Read with the calling statement's snapshot.
CREATE FUNCTION postcall_early_reports(for_provider text, provider_ids text[], statuses text[])
RETURNS TABLE (provider_message_id text, status text, error_code text,
               received_at timestamptz, billed int, folds boolean)
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT ON (e.provider_message_id)
           e.provider_message_id, e.status, e.error_code, e.received_at,
           (SELECT b.billed_segments FROM early_delivery_reports b
             WHERE b.provider = e.provider AND b.provider_message_id = e.provider_message_id
               AND b.billed_segments IS NOT NULL
             ORDER BY b.received_at DESC LIMIT 1),
           postcall_status_rank(e.status) > postcall_status_rank(s.status)
      FROM unnest(provider_ids, statuses) AS s(provider_id, status)
      JOIN early_delivery_reports e
        ON e.provider = for_provider AND e.provider_message_id = s.provider_id
     ORDER BY e.provider_message_id, postcall_status_rank(e.status) DESC, e.received_at
$$;

-- Records accepted sends: `queued_*`, sends of messages that had a row when claimed (a
-- retry, a follow-up, a send a lookup found: `queued_checks` set); `firsts_*`, first
-- questions, which have no row until now. Each under the lease `by_replica` holds; a send
-- whose lease is lost is left alone. Returns how many were recorded.
CREATE FUNCTION postcall_record_sends(
    for_provider text, by_replica text, expire_after_secs float8, question_purpose text,
    queued_ids uuid[], queued_attempts int[], queued_provider_ids text[],
    queued_statuses text[], queued_billed int[], queued_checks int[],
    firsts_ids uuid[], firsts_surveys bigint[], firsts_attempts int[],
    firsts_provider_ids text[], firsts_statuses text[], firsts_billed int[],
    firsts_question_ids text[], firsts_phones text[], firsts_bodies text[],
    firsts_encodings text[], firsts_segments int[], firsts_template_ids text[],
    firsts_template_params jsonb[])
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    firsts_recorded bigint := 0;
    queued_recorded bigint := 0;
BEGIN
    -- The lock `store::deliveries::lock` takes for a report (the key expression must stay
    -- the same), for every id, in key order: two transactions taking several never wait on
    -- each other in a cycle. Held until the commit.
    PERFORM pg_advisory_xact_lock(k)
       FROM (SELECT DISTINCT hashtextextended(for_provider || ':' || p, 0) AS k
               FROM unnest(queued_provider_ids || firsts_provider_ids) AS p ORDER BY k) keys;

    -- First questions: each survey opened with its reply deadline and its lease ended, the
    -- message inserted with the provider's id, early reports folded in (the furthest status
    -- wins; the parts a report says were billed stand over the send's own figure), the
    -- score change logged (the row is born accepted, so the update trigger that logs it for
    -- the outbox never fires). The survey opens whatever its state: a reply can be recorded
    -- before the send's own answer (see below), and has then moved it on already.
    IF cardinality(firsts_ids) > 0 THEN
        WITH sends AS (
            SELECT * FROM unnest(firsts_ids, firsts_surveys, firsts_attempts,
                                 firsts_provider_ids, firsts_statuses, firsts_billed,
                                 firsts_question_ids, firsts_phones, firsts_bodies,
                                 firsts_encodings, firsts_segments, firsts_template_ids,
                                 firsts_template_params)
                       AS s(id, survey_id, attempts, provider_id, status, billed, question_id,
                            to_phone, body, encoding, segments, template_id, template_params)
        ), opened AS (
            UPDATE surveys v
               SET state = CASE WHEN v.state = 'sending' THEN 'open' ELSE v.state END,
                   sent_at = now(), expires_at = now() + make_interval(secs => expire_after_secs),
                   leased_by = NULL, lease_until = NULL, updated_at = now()
              FROM sends s
             WHERE v.id = s.survey_id AND v.leased_by = by_replica
               AND v.first_attempts = s.attempts AND v.first_message_id = s.id
            RETURNING v.id
        ), sent AS (
            -- (no early report: `e.folds` is null, so each CASE takes the send's own)
            INSERT INTO messages (id, survey_id, purpose, question_id, to_phone, body, encoding,
                                  segments, template_id, template_params, status, error_code,
                                  delivered_at, attempts, leased_by, provider,
                                  provider_message_id, sent_at)
            SELECT s.id, s.survey_id, question_purpose, s.question_id, s.to_phone, s.body,
                   s.encoding, coalesce(e.billed, s.billed, s.segments), s.template_id,
                   s.template_params,
                   CASE WHEN e.folds THEN e.status ELSE s.status END,
                   CASE WHEN e.folds THEN e.error_code END,
                   CASE WHEN e.folds AND e.status = 'delivered' THEN e.received_at END,
                   s.attempts, by_replica, for_provider, s.provider_id, now()
              FROM sends s JOIN opened ON opened.id = s.survey_id
              LEFT JOIN postcall_early_reports(for_provider, firsts_provider_ids,
                                               firsts_statuses) e
                     ON e.provider_message_id = s.provider_id
            RETURNING survey_id, provider_message_id
        ), folded AS (
            DELETE FROM early_delivery_reports e USING sent
             WHERE e.provider = for_provider
               AND e.provider_message_id = sent.provider_message_id
        ), logged AS (
            INSERT INTO score_changes (survey_id) SELECT survey_id FROM sent
        )
        SELECT count(*) INTO firsts_recorded FROM sent;
    END IF;

    -- Messages that had a row. A survey is sent, and its reply deadline starts, when its
    -- first question is accepted. The customer's reply can be recorded before that (an
    -- answer within milliseconds, or a provider whose callback beats its own response):
    -- the conversation has then moved the survey on already, with no deadline. So this
    -- keys on `sent_at`, not on the state still being `sending`, which left such a survey
    -- out of every score and open for ever (found by scripts/faults, replicas).
    IF cardinality(queued_ids) > 0 THEN
        WITH sends AS (
            SELECT * FROM unnest(queued_ids, queued_attempts, queued_provider_ids,
                                 queued_statuses, queued_billed, queued_checks)
                       AS s(id, attempts, provider_id, status, billed, checks)
        ), outcomes AS (
            SELECT s.*, e.status AS early_status, e.error_code AS early_code,
                   e.received_at AS early_at, e.billed AS early_billed, e.folds
              FROM sends s
              LEFT JOIN postcall_early_reports(for_provider, queued_provider_ids,
                                               queued_statuses) e
                     ON e.provider_message_id = s.provider_id
        ), sent AS (
            -- (no early report: `o.folds` is null, so each CASE takes the send's own)
            UPDATE messages m
               SET status = CASE WHEN o.folds THEN o.early_status ELSE o.status END,
                   error_code = CASE WHEN o.folds THEN o.early_code END,
                   delivered_at = CASE WHEN o.folds AND o.early_status = 'delivered'
                                       THEN o.early_at ELSE m.delivered_at END,
                   segments = coalesce(o.early_billed, o.billed, m.segments),
                   provider = for_provider, provider_message_id = o.provider_id,
                   sent_at = now(), lease_until = NULL, error_message = NULL,
                   updated_at = now()
              FROM outcomes o
             WHERE m.id = o.id AND m.leased_by = by_replica AND m.attempts = o.attempts
               AND CASE WHEN o.checks IS NULL THEN m.status = 'sending'
                        ELSE m.status = 'reconciling' AND m.reconcile_checks = o.checks END
            RETURNING m.survey_id, m.purpose, m.provider_message_id
        ), folded AS (
            DELETE FROM early_delivery_reports e USING sent
             WHERE e.provider = for_provider
               AND e.provider_message_id = sent.provider_message_id
        ), opened AS (
            UPDATE surveys v
               SET state = CASE WHEN v.state = 'sending' THEN 'open' ELSE v.state END,
                   sent_at = now(), updated_at = now(),
                   expires_at = now() + make_interval(secs => expire_after_secs)
              FROM sent
             WHERE sent.purpose = question_purpose AND v.id = sent.survey_id
               AND v.sent_at IS NULL
        )
        SELECT count(*) INTO queued_recorded FROM sent;
    END IF;

    RETURN firsts_recorded + queued_recorded;
END
$$;
