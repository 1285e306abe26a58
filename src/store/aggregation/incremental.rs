//! Folding in what changed: the changed surveys' rows of `score_surveys` are recomputed from
//! their answers and messages, then only their cells are summed again from that table. The
//! cost follows the changes: a few index lookups per changed survey, and per touched cell
//! one read of its surveys' already-counted rows.

use chrono::NaiveDate;
use sqlx::{Postgres, Transaction};

use super::{
    Folded,
    cells::{ANSWER_COLUMNS, CELL_ROW, MESSAGE_COLUMNS, survey_row},
};
use crate::domain::score_basis::Basis;

/// Consumes the change log and writes the changed surveys' rows (removing any that no longer
/// counts). Returns (changes, surveys recounted) and the cells to sum again: where those
/// surveys count now, and where they counted before.
fn fold_surveys() -> String {
    let survey_row = survey_row("a", "m");
    format!(
        "WITH changed AS (
            DELETE FROM score_changes RETURNING survey_id
        ), ids AS (
            SELECT DISTINCT survey_id FROM changed
        ), fresh AS (
            SELECT {survey_row}
              FROM ids
              JOIN surveys s ON s.id = ids.survey_id AND s.sent_at IS NOT NULL
              JOIN calls c ON c.call_id = s.call_id
             CROSS JOIN LATERAL (
                SELECT {ANSWER_COLUMNS} FROM answers WHERE survey_id = s.id AND NOT late) a
             CROSS JOIN LATERAL (
                SELECT {MESSAGE_COLUMNS} FROM messages
                 WHERE survey_id = s.id AND direction = 'outbound') m
        ), before AS (
            SELECT t.day, t.agent_id, t.queue FROM score_surveys t JOIN ids USING (survey_id)
        ), written AS (
            INSERT INTO score_surveys AS t SELECT * FROM fresh
            ON CONFLICT (survey_id) DO UPDATE SET
                day = EXCLUDED.day, agent_id = EXCLUDED.agent_id, queue = EXCLUDED.queue,
                delivered = EXCLUDED.delivered, responded = EXCLUDED.responded,
                csat = EXCLUDED.csat, nps = EXCLUDED.nps, fcr = EXCLUDED.fcr,
                wait_ms = EXCLUDED.wait_ms, segments = EXCLUDED.segments
            RETURNING 1
        ), gone AS (
            DELETE FROM score_surveys t USING ids
             WHERE t.survey_id = ids.survey_id
               AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.survey_id = t.survey_id)
            RETURNING 1
        ), dirty AS (
            SELECT day, agent_id, queue FROM fresh UNION SELECT * FROM before
        )
        SELECT (SELECT count(*) FROM changed),
               (SELECT count(*) FROM written) + (SELECT count(*) FROM gone),
               array_agg(day), array_agg(agent_id), array_agg(queue)
          FROM dirty"
    )
}

/// Sums the given cells again from `score_surveys`; a cell left with no survey goes.
fn sum_cells() -> String {
    format!(
        "WITH dirty AS (
            SELECT * FROM unnest($1::date[], $2::text[], $3::text[]) AS d(day, agent_id, queue)
        ), cells AS (
            SELECT {CELL_ROW}
              FROM score_surveys JOIN dirty USING (day, agent_id, queue)
             GROUP BY day, agent_id, queue
        ), written AS (
            INSERT INTO score_cells AS t SELECT * FROM cells
            ON CONFLICT (day, agent_id, queue) DO UPDATE SET
                sent = EXCLUDED.sent, delivered = EXCLUDED.delivered,
                responses = EXCLUDED.responses, csat_n = EXCLUDED.csat_n,
                csat_satisfied = EXCLUDED.csat_satisfied, csat_sum = EXCLUDED.csat_sum,
                nps_n = EXCLUDED.nps_n, promoters = EXCLUDED.promoters,
                passives = EXCLUDED.passives, detractors = EXCLUDED.detractors,
                fcr_n = EXCLUDED.fcr_n, fcr_yes = EXCLUDED.fcr_yes, wait_n = EXCLUDED.wait_n,
                wait_ms_sum = EXCLUDED.wait_ms_sum, sms_segments = EXCLUDED.sms_segments
            RETURNING 1
        ), emptied AS (
            DELETE FROM score_cells t USING dirty d
             WHERE (t.day, t.agent_id, t.queue) = (d.day, d.agent_id, d.queue)
               AND NOT EXISTS (SELECT 1 FROM cells x
                                WHERE (x.day, x.agent_id, x.queue) = (d.day, d.agent_id, d.queue))
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM written) + (SELECT count(*) FROM emptied)"
    )
}

type Dirty = (
    i64,
    i64,
    Option<Vec<NaiveDate>>,
    Option<Vec<String>>,
    Option<Vec<String>>,
);

/// Consumes the change log and brings the cells it touches up to date. A change committed
/// while this runs is not in its snapshot, so its log row stays for the next run.
pub async fn fold_changes(
    tx: &mut Transaction<'_, Postgres>,
    basis: &Basis,
) -> sqlx::Result<Folded> {
    let (changes, surveys, days, agents, queues): Dirty = sqlx::query_as(&fold_surveys())
        .bind(&basis.timezone)
        .bind(&basis.csat)
        .bind(&basis.nps)
        .bind(&basis.fcr)
        .fetch_one(&mut **tx)
        .await?;
    let cells: i64 = match days {
        None => 0,
        Some(days) => {
            sqlx::query_scalar(&sum_cells())
                .bind(days)
                .bind(agents)
                .bind(queues)
                .fetch_one(&mut **tx)
                .await?
        }
    };
    Ok(Folded {
        changes,
        surveys,
        cells,
    })
}
