//! The follow-up cases as a worklist (售后跟踪), for `GET /api/v1/cases`: the cases in the
//! states asked for, the customer who has waited longest first, one page at a time.
//!
//! Keyset-paginated on `(detractor_at, survey id)`, which never change once a case opens: a
//! case opened while a client pages through lands on a later page, and a case that moves
//! out of the states asked for simply drops out; none is listed twice.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::PgPool;

use crate::domain::follow_up::CaseState;

/// Where a page starts: just after this case, in longest-waiting-first order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct After {
    pub detractor_at: DateTime<Utc>,
    pub survey_id: i64,
}

#[derive(Debug)]
pub struct Filter<'a> {
    /// Empty: every state.
    pub states: Vec<CaseState>,
    /// Local days of the call in `zone` (the scores' `aggregation.timezone`), both included.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub zone: &'a str,
    pub agent: Option<&'a str>,
    pub queue: Option<&'a str>,
}

/// One case of a page: as served (phone still whole) and its place in the order.
#[derive(Debug, sqlx::FromRow)]
pub struct Item {
    pub detractor_at: DateTime<Utc>,
    pub survey_id: i64,
    pub customer_phone: String,
    pub item: Value,
}

/// Up to `limit` cases after `after` (from the longest waiting without one).
pub async fn page(
    pool: &PgPool,
    filter: &Filter<'_>,
    after: Option<After>,
    limit: i64,
) -> sqlx::Result<Vec<Item>> {
    let states: Option<Vec<&str>> =
        (!filter.states.is_empty()).then(|| filter.states.iter().map(|s| s.as_str()).collect());
    sqlx::query_as(
        r#"
        SELECT k.detractor_at, k.survey_id, c.customer_phone,
               jsonb_build_object(
                   'call_id', k.call_id,
                   'agent_id', c.agent_id,
                   'queue', c.queue,
                   'day', (c.ended_at AT TIME ZONE $3)::date,
                   'state', k.state,
                   'reasons', to_jsonb(k.reasons),
                   'detractor_at', k.detractor_at,
                   'opened_at', k.opened_at,
                   'contacted_at', k.contacted_at,
                   -- Waiting ends with the first contact; unreachable is still waiting.
                   'hours_waiting', CASE WHEN k.contacted_at IS NULL THEN
                       round((extract(epoch FROM now() - k.detractor_at) / 3600)::numeric, 2)
                       END,
                   'comment', (
                       SELECT string_agg(a.value #>> '{}', E'\n' ORDER BY a.id)
                         FROM answers a
                        WHERE a.survey_id = k.survey_id AND NOT a.late
                          AND jsonb_typeof(a.value) = 'string'),
                   'last_move', (
                       SELECT jsonb_build_object('from', m.from_state, 'to', m.to_state,
                                                 'by', m.moved_by, 'note', m.note, 'at', m.moved_at)
                         FROM follow_up_moves m WHERE m.survey_id = k.survey_id
                        ORDER BY m.id DESC LIMIT 1)
               ) AS item
          FROM follow_up_cases k
          JOIN calls c ON c.call_id = k.call_id
         WHERE ($1::text[] IS NULL OR k.state = ANY ($1))
           AND ($2::date IS NULL OR c.ended_at >= ($2::date::timestamp AT TIME ZONE $3))
           AND ($4::date IS NULL OR c.ended_at < (($4::date + 1)::timestamp AT TIME ZONE $3))
           AND ($5::text IS NULL OR c.agent_id = $5)
           AND ($6::text IS NULL OR c.queue = $6)
           AND ($7::timestamptz IS NULL OR (k.detractor_at, k.survey_id) > ($7, $8))
         ORDER BY k.detractor_at, k.survey_id
         LIMIT $9
        "#,
    )
    .bind(states)
    .bind(filter.from)
    .bind(filter.zone)
    .bind(filter.to)
    .bind(filter.agent)
    .bind(filter.queue)
    .bind(after.map(|a| a.detractor_at))
    .bind(after.map(|a| a.survey_id))
    .bind(limit)
    .fetch_all(pool)
    .await
}
