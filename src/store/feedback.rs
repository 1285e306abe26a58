//! What customers said: the surveys with a comment, a detractor answer (a follow-up case)
//! or an answer read past a remark (`4分 等了很久`: words that only the raw text keeps),
//! newest call first, one page at a time, for `GET /api/v1/feedback`.
//!
//! Read newest call first down the index on `calls.ended_at`, so a page costs about its
//! own items, not the whole table. Pages are keyset-paginated on the call's
//! `(ended_at, survey id)`, which never change once written: a survey that gains feedback while a client pages through lands either on a page
//! still to come or behind the cursor, never twice, and no item existing when the first page
//! was read is skipped (OFFSET would shift both ways as surveys arrive).

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::PgPool;

/// Which feedback a page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Surveys with a comment (an answer in words).
    Comment,
    /// Surveys with a detractor answer, which have a follow-up case.
    Detractor,
    /// Surveys with an answer read past a remark around it.
    Remark,
}

impl Kind {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "comment" => Some(Self::Comment),
            "detractor" => Some(Self::Detractor),
            "remark" => Some(Self::Remark),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Comment => "comment",
            Self::Detractor => "detractor",
            Self::Remark => "remark",
        }
    }
}

/// Where a page starts: just after this item, in newest-first order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct After {
    pub ended_at: DateTime<Utc>,
    pub survey_id: i64,
}

#[derive(Debug)]
pub struct Filter<'a> {
    /// Local days in `zone` (the scores' `aggregation.timezone`), both ends included.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub zone: &'a str,
    pub agent: Option<&'a str>,
    pub queue: Option<&'a str>,
    pub kind: Option<Kind>,
}

/// One item of a page: the item as served (phone still whole) and its place in the order.
#[derive(Debug, sqlx::FromRow)]
pub struct Item {
    pub ended_at: DateTime<Utc>,
    pub survey_id: i64,
    pub customer_phone: String,
    pub item: Value,
}

/// Up to `limit` items after `after` (from the newest without one).
pub async fn page(
    pool: &PgPool,
    filter: &Filter<'_>,
    after: Option<After>,
    limit: i64,
) -> sqlx::Result<Vec<Item>> {
    sqlx::query_as(
        r#"
        SELECT c.ended_at, s.id AS survey_id, c.customer_phone,
               jsonb_build_object(
                   'call_id', c.call_id,
                   'agent_id', c.agent_id,
                   'queue', c.queue,
                   'day', (c.ended_at AT TIME ZONE $3)::date,
                   'ended_at', c.ended_at,
                   'answers', coalesce((
                       SELECT jsonb_agg(jsonb_build_object(
                           'question_id', a.question_id, 'value', a.value, 'raw', a.raw,
                           'remark', a.remark, 'received_at', a.received_at) ORDER BY a.id)
                         FROM answers a WHERE a.survey_id = s.id AND NOT a.late), '[]'::jsonb),
                   'comment', comment.text,
                   'detractor_reasons', coalesce(to_jsonb(k.reasons), '[]'::jsonb),
                   'follow_up', CASE WHEN k.survey_id IS NULL THEN NULL ELSE jsonb_build_object(
                       'state', k.state, 'detractor_at', k.detractor_at,
                       'contacted_at', k.contacted_at) END
               ) AS item
          FROM calls c
          JOIN surveys s ON s.call_id = c.call_id
          LEFT JOIN follow_up_cases k ON k.survey_id = s.id
          LEFT JOIN LATERAL (
              SELECT string_agg(a.value #>> '{}', E'\n' ORDER BY a.id) AS text
                FROM answers a
               WHERE a.survey_id = s.id AND NOT a.late AND jsonb_typeof(a.value) = 'string'
          ) comment ON true
          -- A survey has a handful of answers: found by the unique index on its questions.
          LEFT JOIN LATERAL (
              SELECT a.survey_id FROM answers a
               WHERE a.survey_id = s.id AND NOT a.late AND a.remark
               LIMIT 1
          ) remarked ON true
         WHERE CASE $6::text WHEN 'comment' THEN comment.text IS NOT NULL
                             WHEN 'detractor' THEN k.survey_id IS NOT NULL
                             WHEN 'remark' THEN remarked.survey_id IS NOT NULL
                             ELSE comment.text IS NOT NULL OR k.survey_id IS NOT NULL
                                  OR remarked.survey_id IS NOT NULL END
           -- Local days as bounds on the call's time, so the index on it serves them.
           AND ($1::date IS NULL OR c.ended_at >= ($1::date::timestamp AT TIME ZONE $3))
           AND ($2::date IS NULL OR c.ended_at < (($2::date + 1)::timestamp AT TIME ZONE $3))
           AND ($4::text IS NULL OR c.agent_id = $4)
           AND ($5::text IS NULL OR c.queue = $5)
           AND ($7::timestamptz IS NULL OR (c.ended_at <= $7 AND (c.ended_at, s.id) < ($7, $8)))
         ORDER BY c.ended_at DESC, s.id DESC
         LIMIT $9
        "#,
    )
    .bind(filter.from)
    .bind(filter.to)
    .bind(filter.zone)
    .bind(filter.agent)
    .bind(filter.queue)
    .bind(filter.kind.map(Kind::as_str))
    .bind(after.map(|a| a.ended_at))
    .bind(after.map(|a| a.survey_id))
    .bind(limit)
    .fetch_all(pool)
    .await
}
