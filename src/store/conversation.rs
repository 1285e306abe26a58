//! SQL of the survey conversation: the phone's survey, inbound SMS and the event outbox;
//! [`reply`] writes everything one reply changes.

pub(crate) mod reply;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::lifecycle::SurveyState;

/// A survey as the conversation needs it.
#[derive(Debug, sqlx::FromRow)]
pub struct Current {
    pub id: i64,
    pub call_id: String,
    pub state: SurveyState,
    pub language: String,
    pub question_index: i32,
    pub reprompted: bool,
    /// The ids of the questions answered in time, for the part of a pair still awaited.
    pub answered: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The call's agent and queue: values a template may carry.
    pub agent_id: String,
    pub queue: String,
    /// Moved by every write to the survey: the version [`reply::guarded`] is guarded by.
    pub updated_at: Option<DateTime<Utc>>,
}

/// Whether [`survey_for`] locks the survey for the caller's transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Read as it is: the guarded write checks it has not moved.
    No,
    ForUpdate,
}

const SURVEY_FOR: &str =
    "SELECT s.id, s.call_id, s.state, s.language, s.question_index, s.reprompted,
            ARRAY(SELECT a.question_id FROM answers a WHERE a.survey_id = s.id AND NOT a.late) AS answered,
            s.expires_at, c.agent_id, c.queue, s.updated_at
       FROM surveys s JOIN calls c USING (call_id)
      WHERE s.customer_phone = $1
        AND s.state IN ('sending', 'open', 'completed', 'expired', 'opted_out')
      ORDER BY (s.state IN ('sending', 'open')) DESC, s.created_at DESC
      LIMIT 1";

/// The survey a reply from `phone` belongs to: the one in flight, else the most recent one
/// that ended (the reply is late); none if the phone never had a survey that was sent.
pub async fn survey_for(
    conn: &mut PgConnection,
    phone: &str,
    lock: Lock,
) -> sqlx::Result<Option<Current>> {
    let locked;
    let sql = match lock {
        Lock::No => SURVEY_FOR,
        Lock::ForUpdate => {
            // The survey only: its call is never written after ingest.
            locked = format!("{SURVEY_FOR} FOR UPDATE OF s");
            &locked
        }
    };
    sqlx::query_as(sql).bind(phone).fetch_optional(conn).await
}

/// Where a reply leaves its survey.
pub struct Progress {
    pub state: SurveyState,
    pub question_index: i32,
    pub reprompted: bool,
    pub expires_at: DateTime<Utc>,
}

pub struct Inbound<'a> {
    pub provider: &'a str,
    pub provider_message_id: &'a str,
    pub from: &'a str,
    pub to: Option<&'a str>,
    pub body: &'a str,
    pub received_at: DateTime<Utc>,
    /// The signature the reply came under when it is not ours (a mainland platform's `sign`
    /// or `sign_name`): the customer answered another sender, so it is unsolicited here.
    pub other_signature: Option<&'a str>,
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
        .bind(Uuid::now_v7())
        .bind(routing_key)
        .bind(payload)
        .execute(conn)
        .await?;
    Ok(())
}
