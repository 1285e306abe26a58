//! The SQL that turns surveys into score cells (one per local day, agent and queue).
//!
//! Both paths share the per-survey expressions and the roll-up below, so folding in changes
//! and rebuilding cannot drift apart; they differ only in which surveys they read and how
//! (index lookups for a few cells, hash aggregation over everything for a rebuild).

use sqlx::{Postgres, Transaction};

use super::basis::Basis;

/// Per survey, from its valid answers. $2, $3, $4: the csat, nps and fcr question ids.
/// A value that is not a whole number on the metric's scale (or not a boolean for fcr) is
/// ignored rather than miscounted — and never cast in a way that could fail: one bad answer
/// must not stop every later run.
const ANSWER_COLUMNS: &str = "
    count(*) AS answered,
    max(round((value::text)::numeric)::int) FILTER (
        WHERE question_id = ANY($2) AND jsonb_typeof(value) = 'number'
          AND (value::text)::numeric IN (1, 2, 3, 4, 5)) AS csat,
    max(round((value::text)::numeric)::int) FILTER (
        WHERE question_id = ANY($3) AND jsonb_typeof(value) = 'number'
          AND (value::text)::numeric IN (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)) AS nps,
    bool_or(value = 'true'::jsonb) FILTER (WHERE question_id = ANY($4) AND jsonb_typeof(value) = 'boolean') AS fcr";

/// Per survey, from its outbound messages: segments the provider accepted, and whether the
/// first question (the one message with purpose `question`; later ones are `follow_up`) was
/// delivered. No ordering needed: a sort of every message made a rebuild a third slower.
const MESSAGE_COLUMNS: &str = "
    sum(segments) FILTER (WHERE status IN ('queued', 'sent', 'delivered', 'undelivered')) AS segments,
    coalesce(bool_or(status = 'delivered') FILTER (WHERE purpose = 'question'), false) AS delivered";

/// The cells of the surveys in `per_survey`, written over what was there. Integer sums only
/// (wait in ms): the same inputs give the same row, whatever order they were folded in.
const ROLLUP_AND_UPSERT: &str = "
cells AS (
    SELECT day, agent_id, queue,
           count(*) AS sent,
           count(*) FILTER (WHERE delivered) AS delivered,
           count(*) FILTER (WHERE answered > 0) AS responses,
           count(csat) AS csat_n,
           count(*) FILTER (WHERE csat >= 4) AS csat_satisfied,
           coalesce(sum(csat), 0) AS csat_sum,
           count(nps) AS nps_n,
           count(*) FILTER (WHERE nps >= 9) AS promoters,
           count(*) FILTER (WHERE nps BETWEEN 7 AND 8) AS passives,
           count(*) FILTER (WHERE nps <= 6) AS detractors,
           count(fcr) AS fcr_n,
           count(*) FILTER (WHERE fcr) AS fcr_yes,
           count(wait_seconds) AS wait_n,
           coalesce(sum(round(wait_seconds * 1000)::bigint), 0) AS wait_ms_sum,
           coalesce(sum(segments), 0) AS sms_segments
      FROM per_survey
     GROUP BY day, agent_id, queue
), written AS (
    INSERT INTO score_cells AS t
    SELECT * FROM cells
    ON CONFLICT (day, agent_id, queue) DO UPDATE SET
        sent = EXCLUDED.sent, delivered = EXCLUDED.delivered, responses = EXCLUDED.responses,
        csat_n = EXCLUDED.csat_n, csat_satisfied = EXCLUDED.csat_satisfied,
        csat_sum = EXCLUDED.csat_sum, nps_n = EXCLUDED.nps_n, promoters = EXCLUDED.promoters,
        passives = EXCLUDED.passives, detractors = EXCLUDED.detractors, fcr_n = EXCLUDED.fcr_n,
        fcr_yes = EXCLUDED.fcr_yes, wait_n = EXCLUDED.wait_n, wait_ms_sum = EXCLUDED.wait_ms_sum,
        sms_segments = EXCLUDED.sms_segments
    RETURNING 1
)";

/// What one pass read and wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Folded {
    /// Change-log rows consumed (answers, status moves).
    pub changes: i64,
    /// Surveys (re)counted: every sent survey of every touched cell.
    pub surveys: i64,
    /// Cells written.
    pub cells: i64,
}

/// Consumes the change log and recomputes the cells it touches. A change committed while
/// this runs is not in its snapshot, so its log row stays for the next run.
pub async fn fold_changes(
    tx: &mut Transaction<'_, Postgres>,
    basis: &Basis,
) -> sqlx::Result<Folded> {
    let sql = format!(
        "WITH changed AS (
            DELETE FROM score_changes RETURNING survey_id
        ), dirty AS (
            SELECT DISTINCT (c.ended_at AT TIME ZONE $1)::date AS day, c.agent_id, c.queue
              FROM (SELECT DISTINCT survey_id FROM changed) ch
              JOIN surveys s ON s.id = ch.survey_id
              JOIN calls c ON c.call_id = s.call_id
        ), per_survey AS (
            SELECT d.day, d.agent_id, d.queue, c.wait_seconds, a.*, m.*
              FROM dirty d
              JOIN calls c ON c.agent_id = d.agent_id AND c.queue = d.queue
               AND c.ended_at >= (d.day::timestamp AT TIME ZONE $1)
               AND c.ended_at < ((d.day + 1)::timestamp AT TIME ZONE $1)
              JOIN surveys s ON s.call_id = c.call_id AND s.sent_at IS NOT NULL
             CROSS JOIN LATERAL (
                SELECT {ANSWER_COLUMNS} FROM answers WHERE survey_id = s.id AND NOT late) a
             CROSS JOIN LATERAL (
                SELECT {MESSAGE_COLUMNS} FROM messages
                 WHERE survey_id = s.id AND direction = 'outbound') m
        ), {ROLLUP_AND_UPSERT}
        SELECT (SELECT count(*) FROM changed), (SELECT count(*) FROM per_survey),
               (SELECT count(*) FROM written)"
    );
    run(tx, &sql, basis).await
}

/// Recomputes every cell from scratch: the change log and the old cells go, in the same
/// transaction, so readers see the old scores until the new ones are complete.
pub async fn rebuild(tx: &mut Transaction<'_, Postgres>, basis: &Basis) -> sqlx::Result<Folded> {
    let changes: i64 = sqlx::query_scalar(
        "WITH changed AS (DELETE FROM score_changes RETURNING 1) SELECT count(*) FROM changed",
    )
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM score_cells")
        .execute(&mut **tx)
        .await?;
    let sql = format!(
        "WITH per_survey AS (
            SELECT (c.ended_at AT TIME ZONE $1)::date AS day, c.agent_id, c.queue,
                   c.wait_seconds, coalesce(a.answered, 0) AS answered, a.csat, a.nps, a.fcr,
                   m.segments, coalesce(m.delivered, false) AS delivered
              FROM surveys s
              JOIN calls c ON c.call_id = s.call_id
              LEFT JOIN (SELECT survey_id, {ANSWER_COLUMNS} FROM answers WHERE NOT late
                          GROUP BY survey_id) a ON a.survey_id = s.id
              LEFT JOIN (SELECT survey_id, {MESSAGE_COLUMNS} FROM messages
                          WHERE survey_id IS NOT NULL AND direction = 'outbound'
                          GROUP BY survey_id) m ON m.survey_id = s.id
             WHERE s.sent_at IS NOT NULL
        ), {ROLLUP_AND_UPSERT}
        SELECT 0::bigint, (SELECT count(*) FROM per_survey), (SELECT count(*) FROM written)"
    );
    let folded = run(tx, &sql, basis).await?;
    Ok(Folded { changes, ..folded })
}

async fn run(tx: &mut Transaction<'_, Postgres>, sql: &str, basis: &Basis) -> sqlx::Result<Folded> {
    let (changes, surveys, cells): (i64, i64, i64) = sqlx::query_as(sql)
        .bind(&basis.timezone)
        .bind(&basis.csat)
        .bind(&basis.nps)
        .bind(&basis.fcr)
        .fetch_one(&mut **tx)
        .await?;
    Ok(Folded {
        changes,
        surveys,
        cells,
    })
}
