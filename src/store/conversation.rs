//! SQL of the survey conversation: the phone's current survey, its answers, inbound SMS and
//! the event outbox. Everything runs in the caller's transaction, except [`turn`]: the
//! common reply in two statements.

pub mod turn;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::lifecycle::SurveyState;

/// A survey as the conversation needs it, locked for the transaction.
#[derive(Debug, sqlx::FromRow)]
pub struct Current {
    pub id: i64,
    pub call_id: String,
    pub state: SurveyState,
    pub language: String,
    pub question_index: i32,
    pub reprompted: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Moved by every write to the survey: the version [`turn::write`] is guarded by.
    pub updated_at: Option<DateTime<Utc>>,
}

/// The survey a reply from `phone` belongs to: the one in flight, else the most recent one
/// that ended (the reply is late); none if the phone never had a survey that was sent.
pub async fn current_for(conn: &mut PgConnection, phone: &str) -> sqlx::Result<Option<Current>> {
    sqlx::query_as(
        "SELECT id, call_id, state, language, question_index, reprompted, expires_at, sent_at,
                updated_at
           FROM surveys
          WHERE customer_phone = $1 AND state IN ('sending', 'open', 'completed', 'expired', 'opted_out')
          ORDER BY (state IN ('sending', 'open')) DESC, created_at DESC
          LIMIT 1
            FOR UPDATE",
    )
    .bind(phone)
    .fetch_optional(conn)
    .await
}

/// The survey's answers that count (not late), in the order given.
pub async fn answers(
    conn: &mut PgConnection,
    survey_id: i64,
) -> sqlx::Result<Vec<(String, Value)>> {
    sqlx::query_as(
        "SELECT question_id, value FROM answers WHERE survey_id = $1 AND NOT late ORDER BY id",
    )
    .bind(survey_id)
    .fetch_all(conn)
    .await
}

pub struct Progress {
    pub state: SurveyState,
    pub question_index: i32,
    pub reprompted: bool,
    pub expires_at: DateTime<Utc>,
}

pub async fn save(conn: &mut PgConnection, survey_id: i64, p: &Progress) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE surveys
            SET state = $2, question_index = $3, reprompted = $4, expires_at = $5, updated_at = now(),
                closed_at = CASE WHEN $2 IN ('completed', 'expired', 'opted_out') THEN coalesce(closed_at, now())
                                 ELSE closed_at END
          WHERE id = $1",
    )
    .bind(survey_id)
    .bind(p.state)
    .bind(p.question_index)
    .bind(p.reprompted)
    .bind(p.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub struct NewAnswer<'a> {
    pub survey_id: i64,
    pub question_id: &'a str,
    pub value: Value,
    pub raw: &'a str,
    pub received_at: DateTime<Utc>,
    pub late: bool,
    pub inbound_id: i64,
}

pub async fn insert_answer(conn: &mut PgConnection, a: &NewAnswer<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO answers (survey_id, question_id, value, raw, received_at, late, inbound_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(a.survey_id)
    .bind(a.question_id)
    .bind(&a.value)
    .bind(a.raw)
    .bind(a.received_at)
    .bind(a.late)
    .bind(a.inbound_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub struct Inbound<'a> {
    pub provider: &'a str,
    pub provider_message_id: &'a str,
    pub from: &'a str,
    pub to: Option<&'a str>,
    pub body: &'a str,
    pub received_at: DateTime<Utc>,
}

/// Stores the SMS; `None` if this provider message was already received (a retried callback).
pub async fn insert_inbound(conn: &mut PgConnection, m: &Inbound<'_>) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "INSERT INTO inbound_messages (provider, provider_message_id, from_phone, to_phone, body, received_at, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, 'received')
         ON CONFLICT (provider, provider_message_id) DO NOTHING
         RETURNING id",
    )
    .bind(m.provider)
    .bind(m.provider_message_id)
    .bind(m.from)
    .bind(m.to)
    .bind(m.body)
    .bind(m.received_at)
    .fetch_optional(conn)
    .await
}

pub async fn set_inbound_outcome(
    conn: &mut PgConnection,
    id: i64,
    survey_id: Option<i64>,
    outcome: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE inbound_messages SET survey_id = $2, outcome = $3 WHERE id = $1")
        .bind(id)
        .bind(survey_id)
        .bind(outcome)
        .execute(conn)
        .await?;
    Ok(())
}

/// The payload every survey event carries (DESIGN.md §5), built from the database.
pub async fn event_payload(conn: &mut PgConnection, survey_id: i64) -> sqlx::Result<Value> {
    sqlx::query_scalar(
        "SELECT jsonb_build_object(
                    'call_id', c.call_id, 'agent_id', c.agent_id, 'queue', c.queue,
                    'customer_phone', c.customer_phone,
                    'answers', coalesce((SELECT jsonb_agg(jsonb_build_object('question_id', a.question_id, 'value', a.value) ORDER BY a.id)
                                           FROM answers a WHERE a.survey_id = s.id AND NOT a.late), '[]'::jsonb))
           FROM surveys s JOIN calls c USING (call_id) WHERE s.id = $1",
    )
    .bind(survey_id)
    .fetch_one(conn)
    .await
}

pub async fn enqueue_event(
    conn: &mut PgConnection,
    routing_key: &str,
    payload: &Value,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO outbox (id, routing_key, payload) VALUES ($1, $2, $3)")
        .bind(Uuid::new_v4())
        .bind(routing_key)
        .bind(payload)
        .execute(conn)
        .await?;
    Ok(())
}
